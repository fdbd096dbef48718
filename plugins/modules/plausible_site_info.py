#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_site_info
short_description: Read Plausible Analytics sites in the shape the onboard role takes, to adopt an account into code
version_added: 1.0.0
description:
  - Reads every site the API key can see, or one site, through Plausible's Sites API (and, for the sites of
    O(plugin_tokens), their shared links and funnels through the Plugins API), and returns them in RV(sites) with
    exactly the keys of the C(plausible_sites) entries of the role C(plausible.analytics.onboard). Writing RV(sites) to a
    vars file adopts an existing account into code in two tasks; see the examples.
  - It only reads. No request that writes is sent, in any mode. Any API key can read, also a C(Stats API) key.
  - O(include) chooses what is read besides each site's domain and time zone. Each kind costs one request per site; a
    bare listing costs one request per 100 sites, so 250 sites cost 3 requests. Plausible allows 600 requests an hour.
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
      - The module only reads, so check mode changes nothing in what it does or returns.
  diff_mode:
    support: none
options:
  domain:
    description:
      - Read only this site, normalised as in M(plausible.analytics.plausible_site). One request reads the site, its time
        zone, its tracker configuration and its custom properties.
      - When no site has this domain, RV(sites) is an empty list; the module does not fail.
      - Unset, every site the key can see is read (paginated), or those of O(team_id).
    type: str
    aliases: [site_id]
  team_id:
    description:
      - Read only the sites of this team, given by its id (a UUID; O(include=teams) lists the teams).
      - Plausible ignores an id that names no team it lets the key see and then lists every site, so the module checks the
        id against the key's teams first, which costs one request, and fails when it is not among them.
      - A key scoped to one team only ever sees that team.
    type: str
  include:
    description:
      - What to read besides each site's domain and time zone. Each kind costs one request per site (per 100 items).
      - V(tracker) adds C(tracker_script_configuration), C(tracker_script_url) and C(snippet). The listing has no tracker
        configuration, so each site is read with its own request (none more with O(domain)).
      - V(goals) adds C(goals). Goals the role cannot declare go to RV(skipped_goals) instead, with a warning.
      - V(custom_properties) adds C(custom_properties), the names the site allows; free with V(tracker) or O(domain),
        whose read of the site carries them.
      - V(guests) adds C(guests), each with its C(email) and C(role); pending invitations included.
      - V(teams) adds RV(teams), the teams the key can see (one listing, not per site).
      - V(shared_links) adds C(shared_links) to the sites of O(plugin_tokens), each link as its name, or
        a dict with C(name) and C(password_protected=true) for a protected link (its password cannot be read; the role takes that item
        to mean "exists and is protected, leave it").
      - V(funnels) adds C(funnels) to the sites of O(plugin_tokens), each with C(name) and C(steps) as
        M(plausible.analytics.plausible_funnel) takes them (none on a Community Edition server).
      - Sites without a token get neither, and RV(left_out) says so.
    type: list
    elements: str
    choices: [tracker, goals, custom_properties, guests, teams, shared_links, funnels]
    default: []
  plugin_tokens:
    description:
      - Plugins API tokens by site domain, to read what only that API lists (shared links and funnels; see O(include)).
        Keep them in a vault; no token is ever returned or shown. Each token is checked against its domain once.
      - Without O(api_key) (a self-hosted Community Edition server, which has no Sites API), the sites of these tokens
        are exported from their tokens alone. What only the Sites API reads is then left out, and RV(left_out) says
        what (the time zone, custom properties, guests, teams, and the tracker options but C(installation_type),
        C(hash_based_routing), C(outbound_links), C(file_downloads) and C(form_submissions)).
    type: dict
    version_added: 1.0.0
notes:
  - Without a site's token in O(plugin_tokens), its shared links cannot be read back. The Sites API can neither list shared
    links nor tell whether one exists; add their names to the vars file by hand (the role's find-or-create then returns
    the existing links unchanged).
  - The export never holds a token or a password. Give each site's C(plugin_token) to the role beside the file, for
    example from a vault, to manage its funnels and protected links.
  - A revenue goal's currency cannot be read through the API, so goals come without C(currency). The role finds existing
    goals by event name and does not compare the currency, so this does not matter for a site that exists.
  - The entries are minimal. A goal's C(display_name) appears only where it differs from Plausible's default (the event name,
    or C(Visit) and the page path), and an unset C(installation_type) is left out.
  - A large account may need more than Plausible's 600 requests an hour; for example 250 sites with V(tracker), V(goals) and
    V(guests) in O(include) cost 753 requests. Set O(rate_limit_wait=3600) to let the module wait for the next hour instead of failing.
  - Sites are sorted by domain, goals by creation, custom properties and guests by name, so that a later export of an
    unchanged account gives the same file.
seealso:
  - module: plausible.analytics.plausible_sites
  - module: plausible.analytics.plausible_site
"""

EXAMPLES = r"""
# Adopt an existing account into code: read it, write it as the vars file of the onboard role.
- name: Read every site with what the role can declare
  plausible.analytics.plausible_site_info:
    include: [tracker, goals, custom_properties, guests]
    api_key: "{{ vault_plausible_api_key }}"
  register: account

- name: Write the sites as the role's vars file
  ansible.builtin.copy:
    content: "{{ {'plausible_sites': account.sites} | ansible.builtin.to_nice_yaml(indent=2) }}"
    dest: "{{ playbook_dir }}/vars/plausible_sites.yml"
    mode: "0644"
  delegate_to: localhost

# A later play then runs the role on that file; with --check it shows that nothing would change:
#   - hosts: localhost
#     vars_files: [vars/plausible_sites.yml]
#     roles:
#       - role: plausible.analytics.onboard
#         plausible_api_key: "{{ vault_plausible_api_key }}"

- name: Read one site's tracking snippet
  plausible.analytics.plausible_site_info:
    domain: example.com
    include: [tracker]
    api_key: "{{ vault_plausible_api_key }}"
  register: example

- name: Show it
  ansible.builtin.debug:
    msg: "{{ example.sites[0].snippet }}"

# With the sites' plugin tokens, the export also holds their shared links and funnels.
- name: Read every site, with shared links and funnels where a token is given
  plausible.analytics.plausible_site_info:
    include: [tracker, goals, custom_properties, guests, shared_links, funnels]
    plugin_tokens:
      example.com: "{{ vault_example_plugin_token }}"
    api_key: "{{ vault_plausible_api_key }}"
  register: account

# A Community Edition server has no Sites API: export its sites from their tokens alone.
- name: Read the sites of a Community Edition server
  plausible.analytics.plausible_site_info:
    api_url: https://plausible.example.org
    include: [tracker, goals, shared_links]
    plugin_tokens: "{{ vault_plausible_plugin_tokens }}"
  register: account

- name: List the teams, and the sites of one of them
  plausible.analytics.plausible_site_info:
    team_id: 4f7c5d8e-0b1a-4c2d-9e3f-a1b2c3d4e5f6
    include: [teams]
    api_key: "{{ vault_plausible_api_key }}"
"""

RETURN = r"""
sites:
  description:
    - The sites, sorted by domain, each an entry the role C(plausible.analytics.onboard) takes as it is in C(plausible_sites)
      (the role ignores C(tracker_script_url) and C(snippet), which are outputs).
    - Only C(domain) and C(timezone) are always there (C(timezone) not without O(api_key)); the other keys follow
      O(include).
    - An empty list when O(domain) names no site.
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The site's current domain (for 72 hours after a rename, O(domain) may name it by its old one).
      type: str
      sample: example.com
    timezone:
      description: The site's time zone.
      type: str
      sample: Europe/Berlin
    tracker_script_configuration:
      description: The tracker settings, without the server's read-only C(id) and without an unset C(installation_type).
      returned: when O(include) has V(tracker)
      type: dict
      sample: {outbound_links: true, file_downloads: false, track_404_pages: false, hash_based_routing: false,
               revenue_tracking: false, tagged_events: false, form_submissions: false, pageview_props: false}
    tracker_script_url:
      description: The URL of the site's tracking script.
      returned: when O(include) has V(tracker)
      type: str
      sample: https://plausible.io/js/pa-1iQepzD1J73BaHey2csUp.js
    snippet:
      description: The HTML a web page embeds to load the tracking script.
      returned: when O(include) has V(tracker)
      type: str
      sample: <!-- Privacy-friendly analytics by Plausible -->...
    goals:
      description:
        - The goals the role can declare, oldest first, each with C(goal_type), C(event_name) or C(page_path), and
          C(display_name) and C(custom_props) where they are not the defaults.
      returned: when O(include) has V(goals)
      type: list
      elements: dict
      sample: [{goal_type: event, event_name: Signup}, {goal_type: page, page_path: /pricing, display_name: Pricing}]
    custom_properties:
      description: The custom property names the site allows, sorted.
      returned: when O(include) has V(custom_properties)
      type: list
      elements: str
      sample: [author, logged_in]
    guests:
      description: The site's guests and pending invitations, sorted by e-mail; C(role) is V(viewer) or V(editor).
      returned: when O(include) has V(guests)
      type: list
      elements: dict
      sample: [{email: client@example.org, role: viewer}]
    shared_links:
      description: The site's shared links, oldest first; a protected one as a dict with C(name) and C(password_protected=true).
      returned: when O(include) has V(shared_links) and O(plugin_tokens) has the site's token
      type: list
      elements: raw
      sample: [Client dashboard, {name: Board, password_protected: true}]
    funnels:
      description: The site's funnels, oldest first, each with C(name) and C(steps) (goals as in C(goals), without C(display_name)).
      returned: when O(include) has V(funnels) and O(plugin_tokens) has the site's token
      type: list
      elements: dict
      sample: [{name: Signup flow, steps: [{goal_type: page, page_path: /pricing}, {goal_type: event, event_name: Signup}]}]
left_out:
  description: What the export could not read and why, for example shared links of sites without a token.
  returned: when something was left out
  type: list
  elements: str
  sample: ["shared_links of blog.example: only the Plugins API lists them, and plugin_tokens has no token for these sites"]
skipped_goals:
  description:
    - The goals left out of RV(sites[].goals) because the role cannot declare them, each as the server returns it with the
      site's C(domain) and the C(reason). They are scroll goals (the Sites API cannot create them) and goals that share an
      event name or page path with another goal, differing only in C(custom_props) (the role could not tell them apart).
    - They stay in the dashboard. The role leaves goals it does not declare alone; C(plausible_purge_goals) keeps scroll
      goals but deletes the others.
  returned: when O(include) has V(goals)
  type: list
  elements: dict
  sample: [{id: 7, domain: example.com, goal_type: scroll, event_name: null, page_path: /blog, display_name: Read /blog,
            custom_props: {}, reason: "a scroll goal: ..."}]
teams:
  description: The teams the key can see, newest first, with C(id), C(name) and C(api_available) (the team has the Stats API).
  returned: when O(include) has V(teams)
  type: list
  elements: dict
  sample: [{id: 4f7c5d8e-0b1a-4c2d-9e3f-a1b2c3d4e5f6, name: My personal sites, api_available: true}]
"""

from ansible_collections.plausible.analytics.plugins.module_utils._module import PlausibleModule
from ansible_collections.plausible.analytics.plugins.module_utils._plugins_api import PluginsApi
from ansible_collections.plausible.analytics.plugins.module_utils._rules import InputError, normalize_domain
from ansible_collections.plausible.analytics.plugins.module_utils._site_info import AccountExport, INCLUDE_CHOICES


def main():
    module = PlausibleModule(
        argument_spec=dict(
            domain=dict(type='str', aliases=['site_id']),
            team_id=dict(type='str'),
            include=dict(type='list', elements='str', choices=list(INCLUDE_CHOICES), default=[]),
            plugin_tokens=dict(type='dict', no_log=True),
        ),
        mutually_exclusive=[('domain', 'team_id')],
        credentials_required=False,
    )

    def work():
        tokens = {}
        for domain, token in (module.params['plugin_tokens'] or {}).items():
            if not isinstance(token, str) or not token.strip():
                raise InputError('plugin_tokens: the token of %s must be a non-empty string' % domain)
            tokens[normalize_domain(domain, 'plugin_tokens')] = PluginsApi(module.transport, token)
        if module.sites is None and tokens:
            if module.params['team_id']:
                raise InputError('team_id: choosing a team needs the Sites API (api_key); without it the sites of '
                                 'plugin_tokens are read')
            sites = None
        else:
            sites = module.sites_api('Reading an account (plausible_site_info)')
        result = AccountExport(sites, module.params, tokens).run()
        for note in result.get('left_out', []):
            module.module.warn('Left out of the export: %s.' % note)
        skipped = result.get('skipped_goals')
        if skipped:
            module.module.warn('%d goal(s) are not in sites[].goals because the role cannot declare them; see skipped_goals '
                               '(on %s).' % (len(skipped), ', '.join(sorted(set(goal['domain'] for goal in skipped)))))
        return result

    module.run(work)


if __name__ == '__main__':
    main()
