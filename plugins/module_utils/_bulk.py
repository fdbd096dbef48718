# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The per-site plan of plausible_sites: the site, then each kind of its content from one listing, then its links.

A site's content goes through the Plugins API where the entry gives the site's ``plugin_token``, else through the
Sites API; the site itself goes through the Sites API whenever there is an API key.
"""

from __future__ import annotations

from ._custom_property import custom_properties_to_purge, custom_property_resources
from ._funnel import STEPS_SPEC, SiteFunnels, check_site_funnels
from ._goal import GOAL_OPTIONS, GoalResource, check_distinct_goals
from ._guest import guest_resources, guests_to_purge
from ._module import Outcome, ResourceError, ensure
from ._plugins_api import PluginsApi
from ._rules import InputError, check_shared_link_name, normalize_domain
from ._shared_link import SharedLinkResource, ensure_shared_link
from ._site import (SiteResource, TokenSiteResource, TRACKER_GOALS, TRACKER_OPTIONS, needs_sites_api, tracker_goal_effects,
                    tracker_goal_options)

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
    # A name, or {name, password}; the passwords are added to the values Ansible hides.
    shared_links=dict(type='list', elements='raw', default=[], no_log=False),
    plugin_token=dict(type='str', no_log=True),
    funnels=dict(type='list', elements='dict', default=[], options=dict(name=dict(type='str', required=True), steps=STEPS_SPEC)),
    tracker_script_url=dict(type='str'),
    snippet=dict(type='str'),
)


class Kind:
    """One kind of a site's content: the declared resources, whether to purge the rest, and how to list and show it.

    Subclasses set ``declared`` and define ``listing()``, ``to_purge(known, site)``, ``key(item)`` (an item of the
    listing or of ``show``) and ``show(obj)`` (how an object appears in the result).
    """

    name = None

    def __init__(self, module, api, domain, purge):
        self.client, self.check_mode, self.params, self.domain = api, module.check_mode, module.params, domain
        self.purge = purge
        self.declared = []
        self.notes = []
        self.known = None  # the listing, when it was read (or predicted) before the site was written

    @staticmethod
    def share(resource, known):
        """Hand the site's listing to a resource, so that it does not list again."""
        resource.known = known

    @staticmethod
    def after_change(known, outcome):
        return known

    def ensure_declared(self, known, check_mode):
        """Ensure each declared object against the listing; returns their outcomes in the task's order."""
        outcomes = []
        for resource in self.declared:
            self.share(resource, known)
            outcome = ensure(resource, 'present', check_mode)
            if outcome.changed:
                known = self.after_change(known, outcome)
            outcomes.append(outcome)
        return outcomes


class Goals(Kind):
    """A site's goals: listed with ids, matched by type and event name or page path, purged by id."""

    name = 'goals'

    def __init__(self, module, api, domain, purge, goals, funnels):
        super().__init__(module, api, domain, purge)
        self.funnels = funnels
        self.kept = []
        self.tracker_created, self.tracker_deleted = [], []
        check_distinct_goals(goals)
        self.declared = [GoalResource(self.client, dict(goal, domain=domain, recreate=self.params['recreate_goals']),
                                      check_mode=self.check_mode, recreate_option='recreate_goals') for goal in goals]

    def listing(self):
        return self.client.list_goals(self.domain)

    def predict(self, site, site_is_new):
        """Before the site is written: list the goals, apply what its tracker change makes the server do to them, and
        check the declared goals against that, so that a conflict with a goal the server makes fails before any write.

        Returns whether the server changes goals, so that a real run lists them again for their ids.
        """
        before_config = None if site_is_new else site.before['tracker_script_configuration']
        after_config = site.after['tracker_script_configuration']
        if not tracker_goal_options(before_config, after_config) and not (self.declared or self.purge):
            return False
        listed = [] if site_is_new else self.listing()
        self.known, self.tracker_created, self.tracker_deleted = tracker_goal_effects(listed, before_config, after_config)
        known = self.known
        if self.purge:
            gone = set(resource.goal_id for resource in self.to_purge(known, site.after))
            known = [goal for goal in known if goal['id'] not in gone]
        made = set(goal['event_name'] for goal in self.tracker_created)
        option_of = dict((name, option) for option, name in TRACKER_GOALS.items())
        for resource in self.declared:
            self.share(resource, known)
            try:
                outcome = ensure(resource, 'present', True)
            except ResourceError:
                if resource.goal_type != 'event' or resource.event_name not in made:
                    raise
                goal = next(goal for goal in known if goal['event_name'] == resource.event_name)
                raise ResourceError(
                    'tracker_script_configuration.%s: turning it on makes Plausible create the goal %r itself, with the '
                    'display name %r and no custom_props, and Plausible cannot update a goal; the goal declared here has '
                    '%s. Drop them, or set recreate_goals: true to replace the server\'s goal with it (nothing was '
                    'changed).' % (option_of[resource.event_name], resource.event_name, resource.event_name, ', '.join(
                        '%s %r' % (option, getattr(resource, option)) for option in resource.differences(goal))))
            if outcome.changed:
                known = self.after_change(known, outcome)
        return bool(self.tracker_created or self.tracker_deleted)

    def tracker_diff(self, before, after):
        """The diff's goals before and after, with what the tracker change made the server delete and create."""
        names = set(goal['event_name'] for goal in self.tracker_created)

        def made(goal):
            return goal['goal_type'] == 'event' and goal['event_name'] in names
        shown = set(goal['event_name'] for goal in after if made(goal))
        created = [goal for goal in self.known or [] if made(goal) and goal['event_name'] not in shown]
        return [goal for goal in before if not made(goal)] + list(self.tracker_deleted), after + created

    @staticmethod
    def share(resource, known):
        resource.known_goals = known

    def to_purge(self, known, site):
        """What the listing has and the task does not declare, but never a goal the task could not declare back: the
        goals a tracker option keeps, and scroll goals (the API cannot create them)."""
        config = site.get('tracker_script_configuration') or {}
        kept = set(name for option, name in TRACKER_GOALS.items() if config.get(option))
        wanted = set((goal.goal_type, goal.event_name, goal.page_path) for goal in self.declared)
        doomed = [goal for goal in known if (goal['goal_type'], goal['event_name'], goal['page_path']) not in wanted
                  and goal['goal_type'] != 'scroll' and not (goal['goal_type'] == 'event' and goal['event_name'] in kept)]
        # A funnel step is never purged: deleting it would shrink the funnel, or delete it below two steps.
        in_funnels = self.funnels.steps_in_use() if doomed else {}
        self.kept = [dict(goal, funnels=in_funnels[goal['id']]) for goal in doomed if goal['id'] in in_funnels]
        return [GoalResource(self.client, dict(domain=self.domain, goal_id=goal['id']), self.check_mode, known)
                for goal in doomed if goal['id'] not in in_funnels]

    @staticmethod
    def key(goal):
        return goal['id']

    @staticmethod
    def show(goal):
        return goal

    def ensure_declared(self, known, check_mode):
        """Through the Plugins API the new goals are created together, 8 a request (each request is atomic)."""
        if not self.client.bulk_goals:
            return super().ensure_declared(known, check_mode)
        outcomes = super().ensure_declared(known, True)  # predictions only: nothing is written here
        if check_mode:
            return outcomes
        new = [(resource, outcome) for resource, outcome in zip(self.declared, outcomes) if outcome.changed]
        for resource, outcome in new:
            if outcome.before is not None:  # recreate_goals: the old goal goes first
                resource.delete(outcome.before)
        created = self.client.create_goals([resource.body() for resource, _outcome in new]) if new else []
        for (resource, outcome), goal in zip(new, created):
            outcome.after = resource.accept(goal)
        return outcomes

    @staticmethod
    def after_change(known, outcome):
        # Later goals check display names against the listing: it must hold this one, and not the one it replaced.
        replaced = (outcome.before or {}).get('id')
        return [goal for goal in known if goal['id'] != replaced] + [outcome.after]


class CustomProperties(Kind):
    """A site's allowed custom property names: one unpaginated listing, added one by one, never re-sent."""

    name = 'custom_properties'

    def __init__(self, module, api, domain, purge, names):
        super().__init__(module, api, domain, purge)
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

    def __init__(self, module, api, domain, purge, guests):
        super().__init__(module, api, domain, purge)
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


class TokenCustomProperties(CustomProperties):
    """Custom properties through a plugin token: the Plugins API cannot list them, so nothing can be compared.

    A real run enables every declared name in one request (a no-op for names already enabled, which move to the
    front of the site's list); ``changed`` cannot be known and stays false, and a note says so.
    """

    def __init__(self, module, api, domain, purge, names):
        if purge:
            raise InputError('purge_custom_properties: the Plugins API cannot list custom properties, so it cannot tell '
                             'what to purge; give api_key to purge through the Sites API')
        super().__init__(module, api, domain, purge, names)

    def listing(self):
        return []

    def ensure_declared(self, known, check_mode):
        names = [resource.property for resource in self.declared]
        if not check_mode:
            self.client.add_custom_properties(names)
        self.notes.append('%s: the Plugins API cannot list custom properties, so whether %s were allowed before is '
                          'unknown; %s' % (self.domain, ', '.join(repr(name) for name in names),
                                           'check mode sent nothing.' if check_mode else 'they are now.'))
        return [Outcome(False, None, dict(domain=self.domain, property=name)) for name in names]


class SitePlan:
    """One entry of ``sites``, validated before anything is sent: the site, its content by kind, its shared links."""

    def __init__(self, module, spec):
        domain = normalize_domain(spec['domain'])
        plugins = None
        if (spec['plugin_token'] or '').strip():
            plugins = PluginsApi(module.transport, spec['plugin_token'])
            plugins.expect_site(domain)
        sites = module.sites
        if sites is not None:
            self.site = SiteResource(sites, spec)
        elif plugins is not None:
            self.site = TokenSiteResource(plugins, spec)
        else:
            raise InputError("plugin_token: without api_key, each site needs its own plugin_token")
        purge = dict((kind, module.params['purge_' + kind]) for kind in ('goals', 'custom_properties', 'guests'))
        if sites is None and (spec['guests'] or purge['guests']):
            raise InputError(needs_sites_api('guests: managing guests'))
        properties = CustomProperties if sites is not None else TokenCustomProperties
        self.funnels = SiteFunnels(plugins, domain, check_site_funnels(spec['funnels'], plugins), purge['goals'])
        self.kinds = [Goals(module, plugins or sites, domain, purge['goals'], spec['goals'], self.funnels),
                      properties(module, sites or plugins, domain, purge['custom_properties'], spec['custom_properties']),
                      Guests(module, sites, domain, purge['guests'], spec['guests'])]
        self.plugins = plugins
        self.links = [shared_link(module, domain, item, index, plugins) for index, item in enumerate(spec['shared_links'])]

    def _ensure_links(self, client, site_is_new, check_mode, notes):
        """The shared links, by name: listed first through a token (exact), else found or created one by one."""
        changed, links = False, {}
        known = self.plugins.list_shared_links() if self.plugins is not None and self.links else None
        for link in self.links:
            if known is not None:
                outcome = ensure(SharedLinkResource(self.plugins, link, known), 'present', check_mode)
            else:
                outcome = ensure_shared_link(client, link, check_mode, site_is_new)
            changed = changed or outcome.changed
            links[link['name']] = outcome.after['url']
            notes.extend(outcome.notes)
        return changed, links

    def ensure(self, client, check_mode, diff):
        """The site, then each kind, then its shared links; returns (changed, entry, notes)."""
        domain = self.site.domain
        outcome = ensure(self.site, 'present', True)  # read and predict; the goals are checked before the write
        site_is_new = outcome.before is None
        goals = self.kinds[0]
        goals_made_or_deleted = goals.predict(outcome, site_is_new)
        if outcome.changed and not check_mode:
            outcome.after = self.site.create(outcome.after) if site_is_new else self.site.update(outcome.before, outcome.after)
            if goals_made_or_deleted:
                goals.known = goals.listing()  # the goals the server made, with their ids
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
        before['goals'], after['goals'] = goals.tracker_diff(before['goals'], after['goals'])
        notes = [note for kind in self.kinds for note in kind.notes]
        links_changed, links = self._ensure_links(client, site_is_new, check_mode, notes)
        changed = changed or links_changed
        if self.kinds[0].kept:
            entry['kept'] = dict(goals=self.kinds[0].kept)
        if self.funnels.declared:
            funnels_changed, before['funnels'], after['funnels'] = self.funnels.ensure(check_mode)
            entry['funnels'] = after['funnels']
            changed = changed or funnels_changed
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
        known = kind.known if kind.known is not None else [] if site_is_new else kind.listing()
        if kind.purge:
            for resource in kind.to_purge(known, site):
                outcome = ensure(resource, 'absent', check_mode)
                changed = changed or outcome.changed
                purged.append(kind.show(outcome.before))
                before.append(kind.show(outcome.before))
            gone = set(kind.key(item) for item in purged)
            known = [item for item in known if kind.key(item) not in gone]
        for outcome in kind.ensure_declared(known, check_mode):
            changed = changed or outcome.changed
            if outcome.before is not None:
                before.append(kind.show(outcome.before))
            after.append(kind.show(outcome.after))
        return changed, before, after, purged


def hide_link_passwords(module):
    """Add every value of a link item but its name to what Ansible hides, before any entry is checked.

    A misspelt "password" key is hidden too; so are the passwords of entries after one that fails.
    """
    module.module.no_log_values.update(
        value for spec in module.params['sites'] for item in spec['shared_links'] if isinstance(item, dict)
        for key, value in item.items() if key != 'name' and isinstance(value, str) and value)


def shared_link(module, domain, item, index, plugins):
    """One item of a site's ``shared_links``: a name, or ``{name, password}`` (a password needs the site's token), or
    ``{name, password_protected: true}``, as plausible_site_info exports a protected link."""
    where = 'shared_links[%d]' % index
    if isinstance(item, dict) and set(item) <= set(['name', 'password', 'password_protected']) \
            and isinstance(item.get('password'), (str, type(None))) and isinstance(item.get('password_protected', False), bool):
        name, password, protected = item.get('name'), item.get('password'), item.get('password_protected', False)
    elif isinstance(item, str):
        name, password, protected = item, None, False
    else:
        raise InputError('%s: must be a link name or a dict with name and password (got %s)' % (where, type(item).__name__))
    for option, given in (('password', password), ('password_protected', protected)):
        if given and plugins is None:
            raise InputError("%s.%s: only the Plugins API can protect a shared link with a password or tell whether one "
                             "is; give the site's plugin_token" % (where, option))
    if not isinstance(name, str):
        raise InputError('%s.name: must be a string' % where)
    try:
        check_shared_link_name(name, plugins_api=plugins is not None)
    except InputError as exc:
        raise InputError('%s.%s' % (where, exc))
    return dict(domain=domain, name=name, password=password or None, password_protected=protected)
