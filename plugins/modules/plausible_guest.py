#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_guest
short_description: Invite or remove a guest of a Plausible Analytics site
version_added: 1.0.0
description:
  - Makes one guest of a Plausible site match the task through Plausible's Sites API (O(api_key); the Plugins API and
    O(plugin_token) have no guests). A guest sees one site's dashboard
    as a viewer or an editor without being a member of the site's team.
  - The guest is found by its exact e-mail address among the site's guests and pending invitations (the listing is read
    page by page). A missing guest is invited, which sends an invitation e-mail.
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
      - In check mode nothing is written. A guest predicted to be invited has RV(guest.status) V(invited).
      - When the site itself does not exist yet (for example because an earlier task of the same check run would create
        it), the invitation is predicted instead of failing.
  diff_mode:
    support: full
options:
  domain:
    description:
      - The domain of the site. It is normalised like the site's domain.
    type: str
    required: true
    aliases: [site_id]
  email:
    description:
      - The guest's e-mail address, compared exactly (case-sensitive), as the server compares it.
      - Checked locally before anything is sent, with a simple rule rather than the full RFC 5322 grammar; the address
        has at most 254 characters, no whitespace, and exactly one C(@) with a name before it and a domain containing a
        dot after it.
    type: str
    required: true
  role:
    description:
      - What the guest may do on the site. Used when inviting; compared with an existing guest's role, see O(reinvite).
      - Ignored with O(state=absent).
    type: str
    choices: [viewer, editor]
    default: viewer
  state:
    description:
      - V(present) invites the guest when the address is neither a guest nor invited yet.
      - V(absent) removes the guest, or withdraws the pending invitation.
    type: str
    choices: [present, absent]
    default: present
  reinvite:
    description:
      - Plausible cannot change a guest's role. When the guest exists with another O(role), the module fails and changes
        nothing, unless this is V(true); then it removes the guest and invites the address again with O(role).
      - The address gets a new invitation e-mail, and a guest who had accepted must accept again before seeing the site.
    type: bool
    default: false
notes:
  - Plausible's API cannot change a guest's role; see O(reinvite).
  - Members of the site's team cannot also be guests. Plausible answers such an invitation with a bare internal server
    error (HTTP 500); the module fails and says that this is the likely cause.
  - Removing the guest or invitation of an address that is a team member does nothing on the server; team members are
    managed in the dashboard.
seealso:
  - module: plausible.analytics.plausible_site
"""

EXAMPLES = r"""
- name: Let the client's marketing lead see the dashboard
  plausible.analytics.plausible_guest:
    domain: example.com
    email: lead@client.example
    api_key: "{{ vault_plausible_api_key }}"

- name: Make the agency's editor an editor, inviting again if the guest is a viewer now
  plausible.analytics.plausible_guest:
    domain: example.com
    email: editor@agency.example
    role: editor
    reinvite: true
    api_key: "{{ vault_plausible_api_key }}"

- name: Remove a guest, or withdraw the invitation
  plausible.analytics.plausible_guest:
    domain: example.com
    email: former@client.example
    state: absent
    api_key: "{{ vault_plausible_api_key }}"
"""

RETURN = r"""
guest:
  description: The guest (predicted in check mode); the removed guest after a removal; empty when there was none.
  returned: always
  type: dict
  contains:
    domain:
      description: The site's domain as the task names it, normalised.
      type: str
      sample: example.com
    email:
      description: The guest's e-mail address.
      type: str
      sample: lead@client.example
    role:
      description: V(viewer) or V(editor).
      type: str
      sample: viewer
    status:
      description: V(invited) until the guest accepts the invitation, then V(accepted).
      type: str
      sample: invited
"""

from ansible_collections.plausible.analytics.plugins.module_utils._module import PlausibleModule, ensure
from ansible_collections.plausible.analytics.plugins.module_utils._guest import GuestResource
from ansible_collections.plausible.analytics.plugins.module_utils._rules import normalize_domain


def main():
    module = PlausibleModule(argument_spec=dict(
        domain=dict(type='str', required=True, aliases=['site_id']),
        email=dict(type='str', required=True),
        role=dict(type='str', choices=['viewer', 'editor'], default='viewer'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        reinvite=dict(type='bool', default=False),
    ))

    def work():
        api = module.sites_for(normalize_domain(module.params['domain']), 'Managing guests')
        resource = GuestResource(api, module.params, module.check_mode)
        return module.result('guest', ensure(resource, module.params['state'], module.check_mode))

    module.run(work)


if __name__ == '__main__':
    main()
