#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_shared_link
short_description: Ensure a shared dashboard link of a Plausible Analytics site exists
version_added: 1.0.0
description:
  - Finds the site's shared link with this O(name), or creates it, and returns its URL.
  - With O(plugin_token), through the Plugins API, which lists the links first, so C(changed), check mode and diff are
    exact, and a new link can get a O(password). With only O(api_key), through the Sites API, which can only
    find-or-create (see the notes).
  - A shared link's URL gives anyone who has it read access to the site's dashboard. Treat it like a password.
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
      - With O(plugin_token), full; nothing is written, and a link predicted to be created has RV(shared_link.url) V(null).
      - With only O(api_key), only the site is read, because the only request that could tell (find-or-create) may
        create the link. RV(shared_link.url) is V(null) and C(changed) is V(false); a note in RV(notes) says what could not be
        predicted.
  diff_mode:
    support: partial
    details:
      - With O(plugin_token), full. The diff says whether the link exists, with its name and whether it is password
        protected; never its URL, which grants access like a password. With only O(api_key), none, because the Sites
        API cannot list shared links, so there is no "before" to show.
options:
  domain:
    description:
      - The domain of the site the link belongs to. It is normalised like the site's domain.
    type: str
    required: true
    aliases: [site_id]
  name:
    description:
      - The link's name, unique per site and compared exactly (case-sensitive).
      - V(WordPress - Shared Dashboard) is reserved by Plausible.
    type: str
    required: true
  password:
    description:
      - Protects the link with this password when the link is created. Needs O(plugin_token).
      - The API cannot add, change or remove the password of an existing link, nor tell its value. An existing link that
        is protected while this is unset, or unprotected while this is set, fails the task and changes nothing.
      - The password never appears in results, messages, diffs or logs.
    type: str
  state:
    description:
      - Only V(present) can be carried out. V(absent) fails without sending anything and says where to delete the link,
        because neither API can delete shared links.
    type: str
    choices: [present, absent]
    default: present
notes:
  - "With only O(api_key): the Sites API can only find-or-create shared links: it cannot list, rename or delete them, or
    set their passwords. It answers the same whether the link was found or created, so this module reports
    C(changed=false) whenever the link exists after the run. Re-runs therefore report no change; the one creation a
    playbook causes is also reported as no change. Give O(plugin_token) for an exact C(changed)."
seealso:
  - module: plausible.analytics.plausible_site
"""

EXAMPLES = r"""
- name: Give the client a dashboard link
  plausible.analytics.plausible_shared_link:
    domain: example.com
    name: Client dashboard
    api_key: "{{ vault_plausible_api_key }}"
  register: link

- name: Give a self-hosted site a password-protected link, through the site's plugin token
  plausible.analytics.plausible_shared_link:
    api_url: https://stats.example.org
    plugin_token: "{{ vault_plausible_tokens['example.org'] }}"
    domain: example.org
    name: Board
    password: "{{ vault_board_dashboard_password }}"

- name: Send the link only to the people who should see the statistics
  ansible.builtin.debug:
    msg: "Dashboard: {{ link.shared_link.url }}"
"""

RETURN = r"""
shared_link:
  description: The link; its URL grants read access to the dashboard.
  returned: always
  type: dict
  contains:
    id:
      description: The link's id; V(null) in check mode for a new link.
      returned: with O(plugin_token)
      type: int
      sample: 1024
    name:
      description: The link's name.
      type: str
      sample: Client dashboard
    password_protected:
      description: Whether the link asks for a password.
      returned: with O(plugin_token)
      type: bool
      sample: false
    url:
      description: The shared dashboard URL; V(null) in check mode.
      type: str
      sample: https://plausible.io/share/example.com?auth=f3kDa0p1vQ9xZ2mNbC7eR
notes:
  description: What the module could not know, for example in check mode.
  returned: when there is something to say
  type: list
  elements: str
"""

from ansible_collections.plausible.analytics.plugins.module_utils._module import PlausibleModule, ensure
from ansible_collections.plausible.analytics.plugins.module_utils._rules import normalize_domain
from ansible_collections.plausible.analytics.plugins.module_utils._shared_link import SharedLinkResource, diff_view, ensure_shared_link


def main():
    module = PlausibleModule(argument_spec=dict(
        domain=dict(type='str', required=True, aliases=['site_id']),
        name=dict(type='str', required=True),
        password=dict(type='str', no_log=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    ))

    def work():
        api = module.api_for(normalize_domain(module.params['domain']))
        if api is module.plugins:
            link = SharedLinkResource(api, module.params)
            # The URL grants access like a password: the diff says only that the link exists.
            return module.result('shared_link', ensure(link, 'present', module.check_mode), diff_view=diff_view)
        outcome = ensure_shared_link(api, module.params, module.check_mode)
        extras = dict(notes=outcome.notes) if outcome.notes else {}
        return dict(changed=outcome.changed, shared_link=outcome.after, **extras)

    module.run(work)


if __name__ == '__main__':
    main()
