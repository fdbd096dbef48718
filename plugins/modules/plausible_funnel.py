#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_funnel
short_description: Ensure a funnel of a Plausible Analytics site exists
version_added: 1.0.0
description:
  - Finds the site's funnel with this O(name), or creates it with its O(steps), through the Plugins API and the site's
    O(plugin_token). The Sites API has no funnels, so O(api_key) alone fails before anything is sent.
  - Funnels exist on plausible.io and Enterprise servers, on plans with the Funnels feature (Business plans and trials).
    A self-hosted Community Edition server has none, and a plan without the feature cannot create one; either fails
    before anything is written, saying which. A funnel that already exists with the same steps is unchanged on any plan.
  - The module lists the site's funnels first (one request per 100 funnels) and compares the steps in order (goal type,
    event name or page path, currency, custom properties). No API can change, rename or delete a funnel, so a funnel of
    this name with other steps fails the task and nothing is written. Delete a funnel in the dashboard (Site Settings >
    Funnels).
  - Creating a funnel also creates the goals of its steps that are missing, as M(plausible.analytics.plausible_goal)
    would.
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
      - In check mode the funnels and the plan are read, nothing is written; a funnel predicted to be created has
        RV(funnel.id) V(null), and so have its steps.
  diff_mode:
    support: full
options:
  domain:
    description:
      - The domain of the site the funnel belongs to. It is normalised like the site's domain.
    type: str
    required: true
    aliases: [site_id]
  name:
    description:
      - The funnel's name, unique per site and compared exactly (case-sensitive, not trimmed).
    type: str
    required: true
  steps:
    description:
      - The funnel's steps in order, 2 to 8 goals, each shaped like a goal of M(plausible.analytics.plausible_goal). Two
        steps cannot be the same goal.
      - The server tells goals apart by their properties too, so an omitted O(steps[].custom_props) or
        O(steps[].currency) means none.
    type: list
    elements: dict
    required: true
    suboptions:
      goal_type:
        description:
          - V(event) for a custom event goal (needs O(steps[].event_name)); V(page) for a pageview goal (needs
            O(steps[].page_path)).
        type: str
        required: true
        choices: [event, page]
      event_name:
        description:
          - The custom event's name, 1 to 120 characters; V(engagement) and V(__journey_end__) are reserved.
        type: str
      page_path:
        description:
          - The page path, for example V(/signup); a missing leading C(/) is added as the server adds it.
        type: str
      currency:
        description:
          - Makes an event step a revenue goal in this ISO 4217 currency, for example V(EUR). Needs the plan's
            RevenueGoals feature.
        type: str
      custom_props:
        description:
          - Custom properties the step's goal matches on, at most 3. Needs the plan's Props feature.
        type: dict
notes:
  - There is no O(ignore:state) option, because no API can delete a funnel.
  - Only O(plugin_token) reaches funnels; the Sites API (O(api_key)) has none.
seealso:
  - module: plausible.analytics.plausible_goal
  - module: plausible.analytics.plausible_sites
"""

EXAMPLES = r"""
- name: Count the sign-up flow as a funnel
  plausible.analytics.plausible_funnel:
    domain: example.com
    name: Signup flow
    steps:
      - goal_type: page
        page_path: /pricing
      - goal_type: page
        page_path: /signup
      - goal_type: event
        event_name: Signup
    api_url: https://plausible.io
    plugin_token: "{{ vault_plausible_plugin_token }}"

- name: A checkout funnel that ends with a purchase in euros
  plausible.analytics.plausible_funnel:
    domain: shop.example.com
    name: Checkout
    steps:
      - goal_type: page
        page_path: /cart
      - goal_type: event
        event_name: Purchase
        currency: EUR
    plugin_token: "{{ vault_shop_plugin_token }}"
"""

RETURN = r"""
funnel:
  description: The funnel as the server returns it (predicted in check mode).
  returned: always
  type: dict
  contains:
    id:
      description: The funnel's id; V(null) for a funnel predicted in check mode.
      type: int
      sample: 41
    name:
      description: The funnel's name.
      type: str
      sample: Signup flow
    steps:
      description:
        - The steps in order, each a goal with its C(id) (V(null) in check mode), C(goal_type), C(event_name),
          C(page_path), C(currency) and C(custom_props); the server's goals also have their C(display_name).
      type: list
      elements: dict
      sample:
        - id: 12
          display_name: Visit /pricing
          goal_type: page
          event_name: null
          page_path: /pricing
          currency: null
          custom_props: {}
"""

from ansible_collections.plausible.analytics.plugins.module_utils._funnel import (
    NO_TOKEN, STEPS_SPEC, FunnelResource, check_name, check_steps)
from ansible_collections.plausible.analytics.plugins.module_utils._module import PlausibleModule, ResourceError, ensure
from ansible_collections.plausible.analytics.plugins.module_utils._rules import normalize_domain


def main():
    module = PlausibleModule(
        argument_spec=dict(
            domain=dict(type='str', required=True, aliases=['site_id']),
            name=dict(type='str', required=True),
            steps=STEPS_SPEC,
        ),
    )

    def work():
        params = module.params
        domain = normalize_domain(params['domain'])
        name = check_name(params['name'])
        steps = check_steps(params['steps'])
        if module.plugins is None:
            raise ResourceError('plugin_token: %s (nothing was sent).' % NO_TOKEN)
        funnel = FunnelResource(module.api_for(domain), domain, name, steps)
        return module.result('funnel', ensure(funnel, 'present', module.check_mode))

    module.run(work)


if __name__ == '__main__':
    main()
