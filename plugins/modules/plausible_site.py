#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_site
short_description: Create, rename, configure or delete a site in Plausible Analytics
version_added: 1.0.0
description:
  - Makes one Plausible site match the task through Plausible's Sites API, with O(api_key).
  - With only O(plugin_token) (for example on a self-hosted Community Edition server, which has no Sites API), it
    checks that the token belongs to the site, applies the Plugins API's part of O(tracker_script_configuration)
    (O(tracker_script_configuration.installation_type), O(tracker_script_configuration.hash_based_routing),
    O(tracker_script_configuration.outbound_links), O(tracker_script_configuration.file_downloads),
    O(tracker_script_configuration.form_submissions)), and returns the script URL and snippet. Creating, renaming
    or deleting a site, a time zone, a team, and the other tracker keys need O(api_key); the module fails on them
    before sending anything.
  - The domain is normalised as the server normalises it (lower case, no leading C(http://) or C(https://), no slashes around it, no leading
    C(www.)) before anything is looked up, so V(HTTPS://www.Example.COM/) and V(example.com) are the same site.
  - Returns the tracker script URL and the HTML snippet that a web page embeds.
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
      - In check mode nothing is written. A new site is predicted without its tracker id, so RV(tracker_script_url) and
        RV(snippet) are V(null) until a real run creates it.
  diff_mode:
    support: full
options:
  domain:
    description:
      - The site's domain, as Plausible shows it. It is normalised before use.
    type: str
    required: true
  state:
    description:
      - V(present) creates the site when it is missing and applies O(tracker_script_configuration).
      - V(absent) deletes the site and all its goals, shared links and statistics. Only the site's owner may delete it.
    type: str
    choices: [present, absent]
    default: present
  timezone:
    description:
      - The site's reporting time zone, an IANA name such as V(Europe/Berlin). Plausible uses V(Etc/UTC) when it is not given.
      - It can only be set when the site is created. If an existing site has another time zone, the module fails and
        changes nothing.
    type: str
  team_id:
    description:
      - The id of the team that gets a new site, a UUID. Needed when the key's user owns several teams; ignored for
        existing sites (the API does not tell which team a site belongs to).
      - Checked before a site is created, because Plausible takes an id that is not a UUID or names no team of the
        user as absent and creates the site in another team, which the API cannot change afterwards. A value that
        is not a UUID fails before any request; an id that is not among the teams the key can see (one listing per
        run, also in check mode) fails and names the teams it can see.
    type: str
  previous_domain:
    description:
      - Rename a site. When O(domain) does not exist and O(previous_domain) does, the site O(previous_domain) is renamed
        to O(domain), keeping its statistics, goals and shared links.
      - When neither exists, the site is created. When both exist as separate sites, the module fails.
      - For 72 hours after a rename Plausible still accepts the old domain, for API calls and for tracking.
    type: str
  tracker_script_configuration:
    description:
      - Settings of the site's tracker script. Only the keys given are compared and changed; the others keep their values.
      - Turning on O(tracker_script_configuration.outbound_links), O(tracker_script_configuration.file_downloads),
        O(tracker_script_configuration.form_submissions) or O(tracker_script_configuration.track_404_pages) makes
        Plausible create the matching goal; turning it off deletes that goal.
    type: dict
    suboptions:
      installation_type:
        description: How the script is installed.
        type: str
        choices: [manual, wordpress, gtm, npm]
      track_404_pages:
        description: Track visits to pages that do not exist.
        type: bool
      hash_based_routing:
        description: Track page changes in single-page applications that route with the URL hash.
        type: bool
      outbound_links:
        description: Track clicks on links to other sites.
        type: bool
      file_downloads:
        description: Track file downloads.
        type: bool
      revenue_tracking:
        description: Track revenue with custom events.
        type: bool
      tagged_events:
        description: Track clicks on elements with the C(plausible-event-name) class.
        type: bool
      form_submissions:
        description: Track form submissions.
        type: bool
      pageview_props:
        description: Send custom properties with page views.
        type: bool
notes:
  - Plausible's API cannot change a site's time zone or move a site to another team; use the dashboard for those.
  - The Sites API exists on plausible.io and on Enterprise servers. A self-hosted Community Edition server does not have it;
    the module says so.
  - Re-registering a deleted domain works at once, but the deleted statistics do not come back.
seealso:
  - module: plausible.analytics.plausible_goal
  - module: plausible.analytics.plausible_shared_link
  - name: Plausible Sites API
    description: The API this module uses.
    link: https://plausible.io/docs/sites-api
"""

EXAMPLES = r"""
- name: Manage Plausible with the key set once for every module
  module_defaults:
    group/plausible.analytics.plausible:
      api_key: "{{ vault_plausible_api_key }}"
  block:
    - name: Ensure the site exists
      plausible.analytics.plausible_site:
        domain: example.com
        timezone: Europe/Berlin
      register: site

    - name: Show the snippet to embed in every page
      ansible.builtin.debug:
        var: site.snippet

    - name: Track outbound links and file downloads
      plausible.analytics.plausible_site:
        domain: example.com
        tracker_script_configuration:
          outbound_links: true
          file_downloads: true

    - name: Rename a site, keeping its statistics
      plausible.analytics.plausible_site:
        domain: example.org
        previous_domain: example.com

    - name: Delete a site and all its data
      plausible.analytics.plausible_site:
        domain: old.example.net
        state: absent

- name: On a self-hosted Community Edition server, configure an existing site through its plugin token
  plausible.analytics.plausible_site:
    api_url: https://stats.example.org
    plugin_token: "{{ vault_plausible_tokens['example.org'] }}"
    domain: example.org
    tracker_script_configuration:
      installation_type: manual
      outbound_links: true
  register: site
"""

RETURN = r"""
site:
  description:
    - The site as the server returns it (predicted in check mode); the deleted site after a deletion.
    - With only O(plugin_token), C(domain) and the Plugins API's C(tracker_script_configuration) (its six keys).
  returned: always
  type: dict
  contains:
    domain:
      description: The normalised domain.
      type: str
      sample: example.com
    timezone:
      description: The reporting time zone.
      returned: with O(api_key)
      type: str
      sample: Europe/Berlin
    custom_properties:
      description: Custom properties allowed for filtering, most recently added first.
      returned: with O(api_key)
      type: list
      elements: str
      sample: []
    tracker_script_configuration:
      description: The tracker settings, with the script's read-only C(id).
      type: dict
      sample:
        id: pa-1iQepzD1J73BaHey2csUp
        installation_type: manual
        track_404_pages: false
        hash_based_routing: false
        outbound_links: true
        file_downloads: true
        revenue_tracking: false
        tagged_events: false
        form_submissions: false
        pageview_props: false
team:
  description: The team that gets the new site, from the teams the key can see.
  returned: when the site is created (or predicted in check mode) with O(team_id)
  type: dict
  contains:
    id:
      description: The team's id.
      type: str
      sample: 4f7c1b2e-8a3d-4c5e-9f10-2b3c4d5e6f70
    name:
      description: The team's name.
      type: str
      sample: Acme
tracker_script_url:
  description: The URL of the site's tracker script, built from O(api_url). V(null) for a site predicted in check mode.
  returned: when state is present
  type: str
  sample: https://plausible.io/js/pa-1iQepzD1J73BaHey2csUp.js
snippet:
  description: The HTML a page embeds in its C(<head>) to be tracked. V(null) for a site predicted in check mode.
  returned: when state is present
  type: str
  sample: |-
    <!-- Privacy-friendly analytics by Plausible -->
    <script async src="https://plausible.io/js/pa-1iQepzD1J73BaHey2csUp.js"></script>
    <script>
      window.plausible=window.plausible||function(){(plausible.q=plausible.q||[]).push(arguments)},
      plausible.init=plausible.init||function(i){plausible.o=i||{}};
      plausible.init()
    </script>
"""

from ansible_collections.plausible.analytics.plugins.module_utils._module import PlausibleModule, ensure
from ansible_collections.plausible.analytics.plugins.module_utils._rules import normalize_domain
from ansible_collections.plausible.analytics.plugins.module_utils._site import SiteResource, TokenSiteResource, TRACKER_OPTIONS


def main():
    module = PlausibleModule(argument_spec=dict(
        domain=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        timezone=dict(type='str'),
        team_id=dict(type='str'),
        previous_domain=dict(type='str'),
        tracker_script_configuration=dict(type='dict', options=TRACKER_OPTIONS),
    ))

    def work():
        if module.sites is None:
            site = TokenSiteResource(module.api_for(normalize_domain(module.params['domain'])), module.params,
                                     module.params['state'])
        else:
            site = SiteResource(module.sites, module.params, module.params['state'])
        outcome = ensure(site, module.params['state'], module.check_mode)
        extras = site.extras(outcome.after) if module.params['state'] == 'present' else {}
        return module.result('site', outcome, **extras)

    module.run(work)


if __name__ == '__main__':
    main()
