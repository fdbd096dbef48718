#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_goal
short_description: Create or delete a goal of a Plausible Analytics site
version_added: 1.0.0
description:
  - Makes one goal of a Plausible site match the task through Plausible's Sites API.
  - A goal is identified by its O(goal_type) and its O(event_name) or O(page_path). The module lists the site's goals to
    decide, and writes only when something must change.
author:
  - plausible.analytics contributors (@plausible-analytics-ansible)
extends_documentation_fragment:
  - plausible.analytics._plausible
  - plausible.analytics._plausible.actiongroup
  - plausible.analytics._plausible.attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is written. A goal predicted to be created has RV(goal.id) V(null).
      - When the site itself does not exist yet (for example because an earlier task of the same check run would create
        it), the goal is predicted as created instead of failing.
  diff_mode:
    support: full
options:
  domain:
    description:
      - The domain of the site the goal belongs to. It is normalised like the site's domain.
    type: str
    required: true
    aliases: [site_id]
  state:
    description:
      - V(present) creates the goal when it is missing.
      - V(absent) deletes it, found by O(goal_id) or by O(goal_type) with O(event_name) or O(page_path). Funnels that
        would fall below their minimum number of steps are deleted with it.
    type: str
    choices: [present, absent]
    default: present
  goal_type:
    description:
      - V(event) for a custom event goal (needs O(event_name)); V(page) for a pageview goal (needs O(page_path)).
      - Required unless O(state=absent) with O(goal_id).
    type: str
    choices: [event, page]
  event_name:
    description:
      - The custom event's name, 1 to 120 characters; V(engagement) and V(__journey_end__) are reserved.
    type: str
  page_path:
    description:
      - The page path, for example V(/signup); a missing leading C(/) is added as the server adds it, so V(signup) and
        V(/signup) are the same goal. Wildcards C(*) and C(**) are allowed.
    type: str
  display_name:
    description:
      - The name shown in the dashboard; unique per site. Plausible defaults to the event name, or C(Visit <path>).
      - Compared only when given.
    type: str
  custom_props:
    description:
      - Custom properties the goal matches on, at most 3; keys 1 to 300 and values 1 to 2000 characters.
      - Compared only when given.
    type: dict
  currency:
    description:
      - Makes an event goal a revenue goal in this ISO 4217 currency, for example V(EUR).
      - Used only when the goal is created. The API does not return a goal's currency, so it cannot be compared afterwards.
    type: str
  goal_id:
    description:
      - The goal's id, to delete it with O(state=absent) without naming its event or path.
    type: int
  recreate:
    description:
      - Plausible cannot update a goal. When the goal exists with another O(display_name) or other O(custom_props), the module
        fails unless this is V(true); then it deletes the goal and creates it again, with a new id.
      - Funnels that use the goal may be deleted with it.
    type: bool
    default: false
notes:
  - Plausible's API cannot update a goal; see O(recreate).
seealso:
  - module: plausible.analytics.plausible_site
"""

EXAMPLES = r"""
- name: Count sign-ups as a custom event goal
  plausible.analytics.plausible_goal:
    domain: example.com
    goal_type: event
    event_name: Signup
    api_key: "{{ vault_plausible_api_key }}"

- name: Count visits to the pricing page
  plausible.analytics.plausible_goal:
    domain: example.com
    goal_type: page
    page_path: /pricing
    display_name: Saw pricing
    api_key: "{{ vault_plausible_api_key }}"

- name: Track revenue of purchases in euros
  plausible.analytics.plausible_goal:
    domain: example.com
    goal_type: event
    event_name: Purchase
    currency: EUR
    api_key: "{{ vault_plausible_api_key }}"

- name: Remove a goal
  plausible.analytics.plausible_goal:
    domain: example.com
    goal_type: page
    page_path: /old-landing
    state: absent
    api_key: "{{ vault_plausible_api_key }}"
"""

RETURN = r"""
goal:
  description: The goal as the server returns it (predicted in check mode); the deleted goal after a deletion.
  returned: always
  type: dict
  contains:
    id:
      description: The goal's id, an integer; V(null) for a goal predicted in check mode.
      type: int
      sample: 123
    domain:
      description:
        - The site's domain, normalised. For 72 hours after a rename Plausible still accepts the old name; the module
          refuses it before any write and names the new one.
      type: str
      sample: example.com
    display_name:
      description: The name shown in the dashboard.
      type: str
      sample: Signup
    goal_type:
      description: V(event), V(page), or V(scroll) for goals made in the dashboard.
      type: str
      sample: event
    event_name:
      description: The event name of an event goal, else V(null).
      type: str
      sample: Signup
    page_path:
      description: The path of a page goal, else V(null).
      type: str
      sample: null
    custom_props:
      description: The custom properties the goal matches on.
      type: dict
      sample: {}
"""

from ansible_collections.plausible.analytics.plugins.module_utils._module import PlausibleModule, ensure
from ansible_collections.plausible.analytics.plugins.module_utils._goal import GoalResource
from ansible_collections.plausible.analytics.plugins.module_utils._rules import normalize_domain


def main():
    module = PlausibleModule(
        argument_spec=dict(
            domain=dict(type='str', required=True, aliases=['site_id']),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            goal_type=dict(type='str', choices=['event', 'page']),
            event_name=dict(type='str'),
            page_path=dict(type='str'),
            display_name=dict(type='str'),
            custom_props=dict(type='dict'),
            currency=dict(type='str'),
            goal_id=dict(type='int'),
            recreate=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('event_name', 'page_path')],
        required_if=[
            ('goal_type', 'event', ['event_name']),
            ('goal_type', 'page', ['page_path']),
            ('state', 'present', ['goal_type']),
            ('state', 'absent', ['goal_type', 'goal_id'], True),
        ],
    )

    def work():
        params = module.params
        goal = GoalResource(module.api_for(normalize_domain(params['domain'])), params, module.check_mode)
        return module.result('goal', ensure(goal, params['state'], module.check_mode))

    module.run(work)


if __name__ == '__main__':
    main()
