# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The per-site plan of plausible_sites: the site, then each kind of its content from one listing, then its links."""

from __future__ import annotations

from ._custom_property import custom_properties_to_purge, custom_property_resources
from ._goal import GoalResource
from ._guest import guest_resources, guests_to_purge
from ._module import ensure
from ._rules import check_shared_link_name
from ._shared_link import ensure_shared_link
from ._site import SiteResource, TRACKER_OPTIONS

GOAL_OPTIONS = dict(
    goal_type=dict(type='str', required=True, choices=['event', 'page']),
    event_name=dict(type='str'),
    page_path=dict(type='str'),
    display_name=dict(type='str'),
    custom_props=dict(type='dict'),
    currency=dict(type='str'),
)
# The argument spec of one entry of ``sites``. tracker_script_url and snippet are outputs of plausible_site_info,
# accepted and ignored so that its ``sites`` can be passed back as they are.
SITE_OPTIONS = dict(
    domain=dict(type='str', required=True),
    timezone=dict(type='str'),
    team_id=dict(type='str'),
    tracker_script_configuration=dict(type='dict', options=TRACKER_OPTIONS),
    goals=dict(type='list', elements='dict', default=[], options=GOAL_OPTIONS,
               mutually_exclusive=[('event_name', 'page_path')],
               required_if=[('goal_type', 'event', ['event_name']), ('goal_type', 'page', ['page_path'])]),
    custom_properties=dict(type='list', elements='str', default=[]),
    guests=dict(type='list', elements='dict', default=[], options=dict(
        email=dict(type='str', required=True),
        role=dict(type='str', default='viewer', choices=['viewer', 'editor']),
    )),
    shared_links=dict(type='list', elements='str', default=[], no_log=False),
    tracker_script_url=dict(type='str'),
    snippet=dict(type='str'),
)
# Goals the server makes itself while a tracker option is on (API file §8.6): purge keeps them.
TRACKER_GOALS = dict(track_404_pages='404', outbound_links='Outbound Link: Click', file_downloads='File Download',
                     form_submissions='Form: Submission')


class Kind:
    """One kind of a site's content: the declared resources, whether to purge the rest, and how to list and show it.

    Subclasses set ``declared`` and define ``listing()``, ``to_purge(known, site)``, ``key(item)`` (an item of the
    listing or of ``show``) and ``show(obj)`` (how an object appears in the result).
    """

    name = None

    def __init__(self, module, domain, purge):
        self.client, self.check_mode, self.params, self.domain = module.client, module.check_mode, module.params, domain
        self.purge = purge
        self.declared = []

    @staticmethod
    def share(resource, known):
        """Hand the site's listing to a resource, so that it does not list again."""
        resource.known = known

    @staticmethod
    def after_change(known, outcome):
        return known


class Goals(Kind):
    """A site's goals: listed with ids, matched by type and event name or page path, purged by id."""

    name = 'goals'

    def __init__(self, module, domain, purge, goals):
        super().__init__(module, domain, purge)
        self.declared = [GoalResource(self.client, dict(goal, domain=domain, recreate=self.params['recreate_goals']),
                                      check_mode=self.check_mode, recreate_option='recreate_goals') for goal in goals]

    def listing(self):
        return self.client.list_goals(self.domain)

    @staticmethod
    def share(resource, known):
        resource.known_goals = known

    def to_purge(self, known, site):
        config = site.get('tracker_script_configuration') or {}
        kept = set(name for option, name in TRACKER_GOALS.items() if config.get(option))
        wanted = set((goal.goal_type, goal.event_name, goal.page_path) for goal in self.declared)
        return [GoalResource(self.client, dict(domain=self.domain, goal_id=goal['id']), self.check_mode, known)
                for goal in known if (goal['goal_type'], goal['event_name'], goal['page_path']) not in wanted
                and not (goal['goal_type'] == 'event' and goal['event_name'] in kept)]

    @staticmethod
    def key(goal):
        return goal['id']

    @staticmethod
    def show(goal):
        return goal

    @staticmethod
    def after_change(known, outcome):
        # Later goals check display names against the listing: it must hold this one, and not the one it replaced.
        replaced = (outcome.before or {}).get('id')
        return [goal for goal in known if goal['id'] != replaced] + [outcome.after]


class CustomProperties(Kind):
    """A site's allowed custom property names: one unpaginated listing, added one by one, never re-sent."""

    name = 'custom_properties'

    def __init__(self, module, domain, purge, names):
        super().__init__(module, domain, purge)
        self.declared = custom_property_resources(self.client, domain, names)

    def listing(self):
        return self.client.list_custom_properties(self.domain)

    def to_purge(self, known, site):
        return custom_properties_to_purge(self.client, self.domain, self.declared, known)

    @staticmethod
    def key(name):
        return name

    @staticmethod
    def show(prop):
        return prop['property']


class Guests(Kind):
    """A site's guests and pending invitations, found by exact e-mail; a role is changed only by a new invitation."""

    name = 'guests'

    def __init__(self, module, domain, purge, guests):
        super().__init__(module, domain, purge)
        self.declared = guest_resources(self.client, domain, guests, self.check_mode,
                                        reinvite=self.params['reinvite_guests'])

    def listing(self):
        return self.client.list_guests(self.domain)

    def to_purge(self, known, site):
        return guests_to_purge(self.client, self.domain, self.declared, known, self.check_mode)

    @staticmethod
    def key(guest):
        return guest['email']

    @staticmethod
    def show(guest):
        return dict(email=guest['email'], role=guest['role'], status=guest['status'])


class SitePlan:
    """One entry of ``sites``, validated before anything is sent: the site, its content by kind, its shared links."""

    def __init__(self, module, spec):
        self.site = SiteResource(module.client, spec)
        domain = self.site.domain
        self.kinds = [kind(module, domain, module.params['purge_' + kind.name], spec[kind.name])
                      for kind in (Goals, CustomProperties, Guests)]
        self.links = [dict(domain=domain, name=check_shared_link_name(name)) for name in spec['shared_links']]

    def ensure(self, client, check_mode, diff):
        """The site, then each kind, then its shared links; returns (changed, entry, notes)."""
        domain = self.site.domain
        outcome = ensure(self.site, 'present', check_mode)
        site_is_new = outcome.before is None
        before, after = dict(site=outcome.before), dict(site=outcome.after)
        entry = dict(site=outcome.after, purged={})
        changed = outcome.changed
        for kind in self.kinds:
            kind_changed, before[kind.name], after[kind.name], purged = self._ensure_kind(
                kind, site_is_new, outcome.after, check_mode)
            entry[kind.name] = after[kind.name]
            if kind.purge:
                entry['purged'][kind.name] = purged
            changed = changed or kind_changed
        links, notes = {}, []
        for link in self.links:
            link_outcome = ensure_shared_link(client, link, check_mode, site_is_new)
            changed = changed or link_outcome.changed
            links[link['name']] = link_outcome.after['url']
            notes.extend(link_outcome.notes)
        diff['before'][domain], diff['after'][domain] = before, after
        entry.update(changed=changed, shared_links=links, **self.site.extras(outcome.after))
        return changed, entry, notes

    @staticmethod
    def _ensure_kind(kind, site_is_new, site, check_mode):
        """Purge what the listing has and the task does not declare, then ensure what it declares; returns (changed,
        before, after, purged), the objects of this kind before and after (in the task's order) and those purged.

        Purging first frees what the declared objects may need: a goal's display name, room under the 300 properties.
        A kind that is neither declared nor purged costs nothing; a new site has nothing to list.
        """
        changed, before, after, purged = False, [], [], []
        if not kind.declared and not kind.purge:
            return changed, before, after, purged
        known = [] if site_is_new else kind.listing()
        if kind.purge:
            for resource in kind.to_purge(known, site):
                outcome = ensure(resource, 'absent', check_mode)
                changed = changed or outcome.changed
                purged.append(kind.show(outcome.before))
                before.append(kind.show(outcome.before))
            gone = set(kind.key(item) for item in purged)
            known = [item for item in known if kind.key(item) not in gone]
        for resource in kind.declared:
            kind.share(resource, known)
            outcome = ensure(resource, 'present', check_mode)
            if outcome.changed:
                changed = True
                known = kind.after_change(known, outcome)
            if outcome.before is not None:
                before.append(kind.show(outcome.before))
            after.append(kind.show(outcome.after))
        return changed, before, after, purged
