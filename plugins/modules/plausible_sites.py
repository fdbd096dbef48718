#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_sites
short_description: Ensure many Plausible Analytics sites, with their goals and shared links, in one task
version_added: 0.1.0
description:
  - Makes a list of sites match the task, each with its goals and shared links, in one module run and one HTTP session.
  - Each object behaves exactly as with M(plausible.analytics.plausible_site), M(plausible.analytics.plausible_goal) and
    M(plausible.analytics.plausible_shared_link), which it shares its code with. It only creates and updates; it never deletes a
    site, and it deletes a goal only to re-create it when O(recreate_goals=true).
  - It spends as few requests as the API allows, because Plausible allows 600 an hour. Per existing site, a re-run sends
    one read of the site, one listing of its goals, and one find-or-create per shared link. A new site costs one read, one
    create, and one request per goal and per shared link.
  - The role C(plausible.analytics.onboard) uses this module.
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
      - In check mode nothing is written. New sites and goals are predicted without ids; shared links are not sent at all,
        so their URLs are V(null).
  diff_mode:
    support: full
    details:
      - The diff shows sites and goals. Shared links cannot be listed, so they have no "before".
options:
  sites:
    description:
      - The sites to ensure.
    type: list
    elements: dict
    required: true
    suboptions:
      domain:
        description: The site's domain; normalised as in M(plausible.analytics.plausible_site).
        type: str
        required: true
      timezone:
        description: The time zone of a new site; an existing site's time zone must match (the API cannot change it).
        type: str
      team_id:
        description: The team that gets a new site.
        type: str
      tracker_script_configuration:
        description:
          - Tracker settings; only the keys given are compared and changed, as in
            O(plausible.analytics.plausible_site#module:tracker_script_configuration).
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
            description: Track page changes made with the URL hash.
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
      goals:
        description: The site's goals, each as in M(plausible.analytics.plausible_goal).
        type: list
        elements: dict
        default: []
        suboptions:
          goal_type:
            description: V(event) or V(page).
            type: str
            required: true
            choices: [event, page]
          event_name:
            description: The event name of an event goal.
            type: str
          page_path:
            description: The path of a page goal.
            type: str
          display_name:
            description: The name shown in the dashboard.
            type: str
          custom_props:
            description: Custom properties the goal matches on, at most 3.
            type: dict
          currency:
            description: Makes an event goal a revenue goal in this currency.
            type: str
      shared_links:
        description:
          - Names of shared dashboard links to find or create. Their URLs grant read access to the dashboard.
        type: list
        elements: str
        default: []
  recreate_goals:
    description:
      - Delete and re-create a goal whose O(sites[].goals[].display_name) or O(sites[].goals[].custom_props) differ, as
        O(plausible.analytics.plausible_goal#module:recreate) does. Otherwise such a goal fails the task.
    type: bool
    default: false
notes:
  - Sites are handled one after the other. When one fails, the task fails with the site named in the message; the sites
    before it have been handled, and a re-run continues where it stopped.
seealso:
  - module: plausible.analytics.plausible_site
  - module: plausible.analytics.plausible_goal
  - module: plausible.analytics.plausible_shared_link
"""

EXAMPLES = r"""
- name: Ensure two sites with their goals and a client link
  plausible.analytics.plausible_sites:
    api_key: "{{ vault_plausible_api_key }}"
    sites:
      - domain: example.com
        timezone: Europe/Berlin
        goals:
          - goal_type: event
            event_name: Signup
          - goal_type: page
            page_path: /pricing
        shared_links:
          - Client dashboard
      - domain: example.org
  register: plausible

- name: Show the snippet for example.com
  ansible.builtin.debug:
    msg: "{{ plausible.sites['example.com'].snippet }}"
"""

RETURN = r"""
sites:
  description: Each site by its normalised domain.
  returned: always
  type: dict
  sample:
    example.com:
      changed: true
      site:
        domain: example.com
        timezone: Europe/Berlin
        custom_properties: []
        tracker_script_configuration:
          id: pa-1iQepzD1J73BaHey2csUp
          installation_type: null
          track_404_pages: false
          hash_based_routing: false
          outbound_links: false
          file_downloads: false
          revenue_tracking: false
          tagged_events: false
          form_submissions: false
          pageview_props: false
      goals:
        - id: 12
          domain: example.com
          display_name: Signup
          goal_type: event
          event_name: Signup
          page_path: null
          custom_props: {}
      shared_links:
        Client dashboard: https://plausible.io/share/example.com?auth=f3kDa0p1vQ9xZ2mNbC7eR
      tracker_script_url: https://plausible.io/js/pa-1iQepzD1J73BaHey2csUp.js
      snippet: <!-- Privacy-friendly analytics by Plausible -->...
notes:
  description: What the module could not know, for example shared links in check mode.
  returned: when there is something to say
  type: list
  elements: str
"""

from ansible_collections.plausible.analytics.plugins.module_utils._module import PlausibleModule, ResourceError, ensure
from ansible_collections.plausible.analytics.plugins.module_utils._transport import PlausibleError
from ansible_collections.plausible.analytics.plugins.module_utils._goal import GoalResource
from ansible_collections.plausible.analytics.plugins.module_utils._shared_link import ensure_shared_link
from ansible_collections.plausible.analytics.plugins.module_utils._site import SiteResource, TRACKER_OPTIONS
from ansible_collections.plausible.analytics.plugins.module_utils._rules import InputError, check_shared_link_name

GOAL_OPTIONS = dict(
    goal_type=dict(type='str', required=True, choices=['event', 'page']),
    event_name=dict(type='str'),
    page_path=dict(type='str'),
    display_name=dict(type='str'),
    custom_props=dict(type='dict'),
    currency=dict(type='str'),
)


class SitePlan:
    """One entry of ``sites``, validated before anything is sent: the site, its goals and its shared link names."""

    def __init__(self, module, spec):
        client, check_mode = module.client, module.check_mode
        self.site = SiteResource(client, spec)
        self.goals = [GoalResource(client, dict(goal, domain=spec['domain'], recreate=module.params['recreate_goals']),
                                   check_mode=check_mode, recreate_option='recreate_goals') for goal in spec['goals']]
        self.links = [dict(domain=self.site.domain, name=check_shared_link_name(name)) for name in spec['shared_links']]

    def ensure(self, client, check_mode, diff):
        """The site, then its goals from one listing, then its shared links; returns (changed, entry, notes)."""
        domain = self.site.domain
        outcome = ensure(self.site, 'present', check_mode)
        site_is_new = outcome.before is None
        # A new site has no goals yet: skip the listing, each goal's find-or-create is enough.
        known_goals = [] if site_is_new or not self.goals else client.list_goals(domain)
        changed, notes, goals, links = outcome.changed, [], [], {}
        diff['before'][domain] = dict(site=outcome.before, goals=[])
        diff['after'][domain] = dict(site=outcome.after, goals=[])
        for goal in self.goals:
            goal.known_goals = known_goals
            goal_outcome = ensure(goal, 'present', check_mode)
            changed = changed or goal_outcome.changed
            if goal_outcome.changed:
                replaced = (goal_outcome.before or {}).get('id')
                known_goals = [g for g in known_goals if g['id'] != replaced] + [goal_outcome.after]
            goals.append(goal_outcome.after)
            if goal_outcome.before is not None:
                diff['before'][domain]['goals'].append(goal_outcome.before)
            diff['after'][domain]['goals'].append(goal_outcome.after)
        for link in self.links:
            link_outcome = ensure_shared_link(client, link, check_mode, site_is_new)
            changed = changed or link_outcome.changed
            links[link['name']] = link_outcome.after['url']
            notes.extend(link_outcome.notes)
        entry = dict(changed=changed, site=outcome.after, goals=goals, shared_links=links, **self.site.extras(outcome.after))
        return changed, entry, notes


def main():
    module = PlausibleModule(argument_spec=dict(
        sites=dict(type='list', elements='dict', required=True, options=dict(
            domain=dict(type='str', required=True),
            timezone=dict(type='str'),
            team_id=dict(type='str'),
            tracker_script_configuration=dict(type='dict', options=TRACKER_OPTIONS),
            goals=dict(type='list', elements='dict', default=[], options=GOAL_OPTIONS,
                       mutually_exclusive=[('event_name', 'page_path')],
                       required_if=[('goal_type', 'event', ['event_name']), ('goal_type', 'page', ['page_path'])]),
            shared_links=dict(type='list', elements='str', default=[], no_log=False),
        )),
        recreate_goals=dict(type='bool', default=False),
    ))

    def plan():
        plans, seen = [], set()
        for index, spec in enumerate(module.params['sites']):
            try:
                site_plan = SitePlan(module, spec)
            except InputError as exc:
                raise InputError('sites[%d] (%s): %s' % (index, spec['domain'], exc))
            if site_plan.site.domain in seen:
                raise InputError('sites[%d]: the domain %s appears more than once' % (index, site_plan.site.domain))
            seen.add(site_plan.site.domain)
            plans.append(site_plan)
        return plans

    def work():
        results, notes, diff, changed = {}, [], dict(before={}, after={}), False
        for site_plan in plan():
            try:
                site_changed, entry, site_notes = site_plan.ensure(module.client, module.check_mode, diff)
            except PlausibleError as exc:
                exc.message = 'Site %s: %s' % (site_plan.site.domain, exc.message)
                raise
            except ResourceError as exc:
                raise ResourceError('Site %s: %s' % (site_plan.site.domain, exc))
            changed = changed or site_changed
            results[site_plan.site.domain] = entry
            notes.extend(site_notes)
        result = dict(changed=changed, sites=results)
        if notes:
            result['notes'] = notes
        if module.module._diff:
            result['diff'] = diff
        return result

    module.run(work)


if __name__ == '__main__':
    main()
