#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_custom_property
short_description: Allow or remove a custom property of a Plausible Analytics site
version_added: 0.1.0
description:
  - Makes one custom property of a Plausible site allowed (O(state=present)) or not (O(state=absent)) through Plausible's
    Sites API. Only allowed custom properties can be filtered and broken down in the dashboard.
  - One listing of the site's properties decides, so a re-run sends one request and writes nothing.
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
      - In check mode nothing is written.
      - When the site itself does not exist yet (for example because an earlier task of the same check run would create
        it), the property is predicted as added instead of failing.
  diff_mode:
    support: full
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

- name: Stop allowing a property
  plausible.analytics.plausible_custom_property:
    domain: example.com
    property: logged_in
    state: absent
    api_key: "{{ vault_plausible_api_key }}"
"""

RETURN = r"""
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
from ansible_collections.plausible.analytics.plugins.module_utils._custom_property import CustomPropertyResource


def main():
    module = PlausibleModule(argument_spec=dict(
        domain=dict(type='str', required=True, aliases=['site_id']),
        property=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    ))

    def work():
        resource = CustomPropertyResource(module.client, module.params)
        return module.result('custom_property', ensure(resource, module.params['state'], module.check_mode))

    module.run(work)


if __name__ == '__main__':
    main()
