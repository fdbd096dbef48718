#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_sites
short_description: Ensure many Plausible Analytics sites, with their goals, custom properties, guests and shared links
version_added: 1.0.0
description:
  - Makes a list of sites match the task, each with its goals, custom properties, guests and shared links, in one module
    run and one HTTP session.
  - Each object behaves exactly as with M(plausible.analytics.plausible_site), M(plausible.analytics.plausible_goal),
    M(plausible.analytics.plausible_custom_property), M(plausible.analytics.plausible_guest) and
    M(plausible.analytics.plausible_shared_link), which it shares its code with. It never deletes a site. It deletes a
    goal only to re-create it (O(recreate_goals=true)), a guest only to invite again (O(reinvite_guests=true)), and what
    a listed site has but the task does not declare only when asked to purge (O(purge_goals), O(purge_custom_properties),
    O(purge_guests)).
  - It spends as few requests as the API allows, because Plausible allows 600 an hour. Per existing site, a re-run sends
    one read of the site, one listing per kind (goals, custom properties, guests) that the site declares or purges, and
    one find-or-create per shared link; nothing else. A new site costs one read, one create, and one request per goal,
    custom property, guest and shared link (it has nothing to list). A change of a tracker option that makes the server
    create or delete a goal costs one goal listing before and one after it.
  - Every entry is checked before the first request, its goals too (the same goal, or one display name, twice is
    refused). Every O(sites[].plugin_token) is checked before the first write.
  - When the task fails after writing, C(changed) is V(true), and RV(sites) holds the sites finished before the one
    named in the message, where a re-run continues.
  - A site whose entry gives its O(sites[].plugin_token) has its goals, shared links and custom properties managed
    through the Plugins API (and, without O(api_key), its tracker configuration). Its shared links are listed first, so
    C(changed) is exact and a new link can get a password; its new goals are created up to 8 per request. That is how
    the sites of a self-hosted Community Edition server are managed, where O(api_key) is not needed. Per token site, a
    re-run sends one token check, one read of the site (its tracker), one goal listing and one link listing, plus one
    request that enables its custom properties (the Plugins API cannot list them).
  - Entries exported by M(plausible.analytics.plausible_site_info) can be passed as they are; their output keys
    O(sites[].tracker_script_url) and O(sites[].snippet) are ignored.
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
        so their URLs are V(null). What a purge would delete is listed in C(purged) of each site in RV(sites).
      - The goals that the server creates or deletes for a tracker option (for example the outbound link goal for
        O(sites[].tracker_script_configuration.outbound_links)) are predicted; a declared goal that differs from the one
        the server makes fails before any write, in check mode as in a real run.
      - Through a site's O(sites[].plugin_token), shared links are predicted exactly; custom properties are not sent,
        and RV(notes) says that whether they exist cannot be known.
  diff_mode:
    support: full
    details:
      - The diff shows sites, goals, custom properties and guests, and what a purge deletes (in "before" only). The
        goals the server deletes or creates for a tracker option are in "before" or "after". Shared links are not in the
        diff.
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
        description:
          - The team that gets a new site, a UUID, checked as in O(plausible.analytics.plausible_site#module:team_id)
            (the teams are listed once per task).
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
      custom_properties:
        description:
          - Names of custom properties to allow on the site, each as in M(plausible.analytics.plausible_custom_property)
            (trimmed; 1 to 300 characters). A missing one is added; an existing one is never sent again (that would
            move it to the front of the site's list).
        type: list
        elements: str
        default: []
      guests:
        description:
          - Guests to invite to the site, each as in M(plausible.analytics.plausible_guest), found by exact e-mail.
          - An existing guest keeps its role; a different role fails the task unless O(reinvite_guests=true).
        type: list
        elements: dict
        default: []
        suboptions:
          email:
            description: The guest's e-mail address.
            type: str
            required: true
          role:
            description: What the guest may do.
            type: str
            choices: [viewer, editor]
            default: viewer
      shared_links:
        description:
          - Shared dashboard links to find or create, each a name or a dict with C(name) and C(password). Their URLs
            grant read access to the dashboard.
          - A C(password) protects a new link; it needs O(sites[].plugin_token) and never appears in any output. An
            existing link whose protection differs fails the task, as the API cannot change it.
          - a dict with C(name) and C(password_protected=true), as M(plausible.analytics.plausible_site_info) exports a protected link,
            means "exists and is protected, leave it"; it needs O(sites[].plugin_token), and fails when the link does
            not exist (a new link needs its C(password)).
        type: list
        elements: raw
        default: []
      plugin_token:
        description:
          - This site's Plugins API token; see O(plugin_token) for how to make one. Its site's goals, shared links and
            custom properties then go through the Plugins API.
          - Without O(api_key), every site needs one, and the sites must exist; creating a site, time zones and guests
            need O(api_key).
          - The module-level O(plugin_token) is refused here, as a token is bound to one site.
        type: str
      funnels:
        description:
          - Funnels to find or create, each as in M(plausible.analytics.plausible_funnel), found by exact name. Only the
            Plugins API has funnels, on plausible.io and Enterprise servers, so a site with funnels needs its
            O(sites[].plugin_token), and fails before anything is sent without one or with a Community Edition token.
          - An existing funnel with other steps fails the task, as no API can change a funnel.
          - Per site with funnels, a re-run costs one funnel listing (one request per 100 funnels).
        type: list
        elements: dict
        default: []
        version_added: 1.0.0
        suboptions:
          name:
            description: The funnel's name, compared exactly.
            type: str
            required: true
          steps:
            description: The funnel's 2 to 8 steps in order, each a goal as in O(plausible.analytics.plausible_funnel#module:steps).
            type: list
            elements: dict
            required: true
            suboptions:
              goal_type:
                description: V(event) or V(page).
                type: str
                required: true
                choices: [event, page]
              event_name:
                description: The event name of an event step.
                type: str
              page_path:
                description: The path of a page step.
                type: str
              currency:
                description: Makes an event step a revenue goal in this currency.
                type: str
              custom_props:
                description: Custom properties the step's goal matches on, at most 3.
                type: dict
      tracker_script_url:
        description:
          - Ignored. An output of M(plausible.analytics.plausible_site_info), accepted so that its entries can be passed
            as they are.
        type: str
      snippet:
        description:
          - Ignored. An output of M(plausible.analytics.plausible_site_info), accepted so that its entries can be passed
            as they are.
        type: str
  recreate_goals:
    description:
      - Delete and re-create a goal whose O(sites[].goals[].display_name) or O(sites[].goals[].custom_props) differ, as
        O(plausible.analytics.plausible_goal#module:recreate) does. Otherwise such a goal fails the task.
    type: bool
    default: false
  reinvite_guests:
    description:
      - Remove and invite again a guest whose role differs from O(sites[].guests[].role), as
        O(plausible.analytics.plausible_guest#module:reinvite) does (a new invitation e-mail; a guest who had accepted
        must accept again). Otherwise such a guest fails the task.
    type: bool
    default: false
  purge_goals:
    description:
      - Delete, on each listed site, the goals that O(sites[].goals) does not declare (matched by type and event name or
        page path). Goals the server makes for a tracker option that is on (404 pages, outbound links, file
        downloads, form submissions) are kept, and so are scroll goals, which the API cannot create again.
      - A goal that is a step of one of the site's funnels is never deleted (that would shrink the funnel, or delete it
        below two steps); it is listed under C(kept) of the site in RV(sites), with the names of its funnels. That needs
        the site's O(sites[].plugin_token), which costs one funnel listing when there is something to purge. B(Without
        a token the module cannot see funnels), since the Sites API has none; such a purge may delete funnel steps, and
        Plausible then shrinks or deletes those funnels.
      - Sites not listed in O(sites) are never touched.
    type: bool
    default: false
  purge_custom_properties:
    description:
      - Delete, on each listed site, the custom properties that O(sites[].custom_properties) does not declare.
    type: bool
    default: false
  purge_guests:
    description:
      - Remove, on each listed site, the guests and pending invitations that O(sites[].guests) does not declare. Team
        members are not guests and are never touched.
    type: bool
    default: false
notes:
  - Sites are handled one after the other. When one fails, the task fails with the site named in the message; the sites
    before it have been handled, and a re-run continues where it stopped.
  - A purge deletes first, then creates what is missing, so that a deleted goal's display name or a deleted property's
    place under the limit of 300 is free for what the task declares. A kind purged but not declared (for example
    O(purge_guests=true) with no O(sites[].guests)) still costs one listing per existing site, to know what to delete;
    a purge with nothing to delete costs no request more.
seealso:
  - module: plausible.analytics.plausible_site
  - module: plausible.analytics.plausible_goal
  - module: plausible.analytics.plausible_custom_property
  - module: plausible.analytics.plausible_guest
  - module: plausible.analytics.plausible_shared_link
  - module: plausible.analytics.plausible_site_info
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
        custom_properties:
          - author
          - plan
        guests:
          - email: client@example.net
            role: viewer
      - domain: example.org
  register: plausible

- name: Make the goals, custom properties and guests of example.com exactly these, deleting any others
  plausible.analytics.plausible_sites:
    api_key: "{{ vault_plausible_api_key }}"
    purge_goals: true
    purge_custom_properties: true
    purge_guests: true
    sites:
      - domain: example.com
        goals:
          - goal_type: event
            event_name: Signup
        custom_properties: [author]
        guests:
          - email: client@example.net
  check_mode: true  # first see what would be deleted, in sites['example.com'].purged
  register: preview

- name: Show the snippet for example.com
  ansible.builtin.debug:
    msg: "{{ plausible.sites['example.com'].snippet }}"
"""

RETURN = r"""
sites:
  description:
    - Each site by its normalised domain, with the objects the task declares (C(goals), C(custom_properties), C(guests),
      C(shared_links)) as they are after the run (or would be, in check mode).
    - C(purged) holds, per kind purged (O(purge_goals), O(purge_custom_properties), O(purge_guests)), what was deleted
      (or would be, in check mode); it is empty when no purge option is on.
    - C(kept) (only when there is one) holds the goals O(purge_goals) would have deleted but kept because they are
      funnel steps, each with C(funnels), the names of the funnels that use it.
    - C(funnels) (only for a site with O(sites[].funnels)) holds its funnels as M(plausible.analytics.plausible_funnel)
      returns them.
    - C(team) (C(id) and C(name)) is the team that gets a site created with C(team_id).
    - When the task fails, the sites finished before the one where it stopped (named in the message) are returned
      beside the error, and C(changed) says whether anything was written; a re-run continues from that site.
  returned: always, and beside an error
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
      custom_properties: [author, plan]
      guests:
        - email: client@example.net
          role: viewer
          status: invited
      funnels:
        - id: 4
          name: Signup flow
          steps:
            - {id: 13, display_name: Visit /pricing, goal_type: page, event_name: null, page_path: /pricing, currency: null, custom_props: {}}
            - {id: 12, display_name: Signup, goal_type: event, event_name: Signup, page_path: null, currency: null, custom_props: {}}
      kept:
        goals:
          - {id: 13, domain: example.com, display_name: Visit /pricing, goal_type: page, event_name: null, page_path: /pricing,
             custom_props: {}, funnels: [Signup flow]}
      purged:
        goals:
          - id: 7
            domain: example.com
            display_name: Old campaign
            goal_type: event
            event_name: Old campaign
            page_path: null
            custom_props: {}
        custom_properties: [legacy]
        guests: []
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

from ansible_collections.plausible.analytics.plugins.module_utils._module import PlausibleModule, ResourceError
from ansible_collections.plausible.analytics.plugins.module_utils._transport import PlausibleError
from ansible_collections.plausible.analytics.plugins.module_utils._bulk import SITE_OPTIONS, SitePlan, hide_link_passwords
from ansible_collections.plausible.analytics.plugins.module_utils._rules import InputError


def main():
    module = PlausibleModule(argument_spec=dict(
        sites=dict(type='list', elements='dict', required=True, options=SITE_OPTIONS),
        recreate_goals=dict(type='bool', default=False),
        reinvite_guests=dict(type='bool', default=False),
        purge_goals=dict(type='bool', default=False),
        purge_custom_properties=dict(type='bool', default=False),
        purge_guests=dict(type='bool', default=False),
    ), credentials_required=False, raw_secrets=dict(sites=dict(shared_links=dict(password=True))))

    def plan():
        hide_link_passwords(module)
        if module.plugins is not None:
            raise InputError("plugin_token: a token is bound to one site; give each site's token as its entry's "
                             "plugin_token")
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
        # Every token is checked before the first write, so that a revoked one fails the task before it starts.
        for index, site_plan in enumerate(plans):
            if site_plan.plugins is not None:
                try:
                    site_plan.plugins.check_site(site_plan.site.domain)
                except PlausibleError as exc:
                    exc.message = 'sites[%d] (%s): %s' % (index, site_plan.site.domain, exc.message)
                    raise
        return plans

    def work():
        results, notes, diff, changed = {}, [], dict(before={}, after={}), False
        module.partial['sites'] = results  # the sites finished so far are returned beside an error
        for site_plan in plan():
            try:
                site_changed, entry, site_notes = site_plan.ensure(module.sites, module.check_mode, diff)
            except (PlausibleError, ResourceError) as exc:
                raise stopped_at(exc, site_plan.site.domain, results)
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


def stopped_at(exc, domain, finished):
    """The failure of one site, naming it and the sites finished before it (a re-run continues from there)."""
    message = 'Site %s: %s' % (domain, exc)
    if finished:
        message += ' The sites before it are finished (%s; see sites).' % ', '.join(finished)
    if isinstance(exc, PlausibleError):
        exc.message = message
        return exc
    return ResourceError(message)


if __name__ == '__main__':
    main()
