#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_custom_property
short_description: Allow or remove a custom property of a Plausible Analytics site
version_added: 1.0.0
description:
  - Makes one custom property of a Plausible site allowed (O(state=present)) or not (O(state=absent)) through Plausible's
    Sites API. Only allowed custom properties can be filtered and broken down in the dashboard.
  - One listing of the site's properties decides, so a re-run sends one request and writes nothing.
  - With only O(plugin_token) (for example on a self-hosted Community Edition server), through the Plugins API, which
    cannot list custom properties; see the notes. With O(api_key), always through the Sites API.
author:
  - plausible.analytics contributors (@plausible-analytics-ansible)
extends_documentation_fragment:
  - plausible.analytics._plausible
  - plausible.analytics._plausible.actiongroup
  - plausible.analytics._plausible.attributes
attributes:
  check_mode:
    support: partial
    details:
      - With O(api_key), full. In check mode nothing is written. When the site itself does not exist yet (for example
        because an earlier task of the same check run would create it), the property is predicted as added instead of
        failing.
      - With only O(plugin_token), check mode sends nothing and reports C(changed=false) with a note in RV(notes), because the
        Plugins API cannot tell whether the property is allowed without writing.
  diff_mode:
    support: partial
    details:
      - With O(api_key), full; with only O(plugin_token), none (there is no "before" to show).
options:
  domain:
    description:
      - The domain of the site. It is normalised like the site's domain.
    type: str
    required: true
    aliases: [site_id]
  property:
    description:
      - The property's name. Leading and trailing whitespace is removed, as the server removes it; what remains must be
        1 to 300 characters long. A name may contain C(/).
    type: str
    required: true
  state:
    description:
      - V(present) adds the property to the site's allowed properties when it is missing.
      - V(absent) removes it when it is there.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Adding a property that the site already has would move it to the front of the site's list, so the module never sends
    it again.
  - Plausible allows at most 300 custom properties per site; adding one more fails and says so.
  - Adding a property needs a plan that includes Custom Properties; otherwise the module fails and names the feature.
    Removing one needs no such plan.
  - "With only O(plugin_token): the Plugins API has no read route for custom properties. A real run sends the addition
    (or removal) every time; it changes nothing when the property already is (or is not) allowed, except that an
    allowed property moves to the front of the site's list. C(changed) is then always V(false), because it cannot be
    known, and RV(notes) says so."
seealso:
  - module: plausible.analytics.plausible_site
  - module: plausible.analytics.plausible_goal
"""

EXAMPLES = r"""
- name: Allow the author property
  plausible.analytics.plausible_custom_property:
    domain: example.com
    property: author
    api_key: "{{ vault_plausible_api_key }}"

- name: Allow a property on a self-hosted site, through its plugin token
  plausible.analytics.plausible_custom_property:
    api_url: https://stats.example.org
    plugin_token: "{{ vault_plausible_tokens['example.org'] }}"
    domain: example.org
    property: author

- name: Stop allowing a property
  plausible.analytics.plausible_custom_property:
    domain: example.com
    property: logged_in
    state: absent
    api_key: "{{ vault_plausible_api_key }}"
"""

RETURN = r"""
notes:
  description: What the module could not know; with only O(plugin_token).
  returned: when there is something to say
  type: list
  elements: str
custom_property:
  description: The property (predicted in check mode); the removed property after a removal; empty when there was none.
  returned: always
  type: dict
  contains:
    domain:
      description: The site's domain as the task names it, normalised.
      type: str
      sample: example.com
    property:
      description: The property's name, trimmed.
      type: str
      sample: author
"""

from ansible_collections.plausible.analytics.plugins.module_utils._module import PlausibleModule, ensure
from ansible_collections.plausible.analytics.plugins.module_utils._custom_property import (
    CustomPropertyResource, ensure_custom_property_through_token)
from ansible_collections.plausible.analytics.plugins.module_utils._rules import normalize_domain


def main():
    module = PlausibleModule(argument_spec=dict(
        domain=dict(type='str', required=True, aliases=['site_id']),
        property=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    ))

    def work():
        if module.sites is None:
            api = module.api_for(normalize_domain(module.params['domain']))
            outcome = ensure_custom_property_through_token(api, module.params, module.check_mode)
            return module.result('custom_property', outcome, notes=outcome.notes)
        resource = CustomPropertyResource(module.sites_for(normalize_domain(module.params['domain'])), module.params)
        return module.result('custom_property', ensure(resource, module.params['state'], module.check_mode))

    module.run(work)


if __name__ == '__main__':
    main()
