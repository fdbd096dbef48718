# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Sites, goals and shared links: how each is found, predicted, created, updated and deleted.

The modules and the bulk module share these, so one object behaves the same whichever task manages it.
"""

from __future__ import annotations

import copy

from ._client import PlausibleError
from ._module import Outcome, ResourceError
from . import _rules

TRACKER_DEFAULTS = dict(dict.fromkeys(_rules.TRACKER_FLAGS, False), installation_type=None)
# The argument spec of tracker_script_configuration, shared by plausible_site and the bulk module.
TRACKER_OPTIONS = dict(dict((flag, dict(type='bool')) for flag in _rules.TRACKER_FLAGS),
                       installation_type=dict(type='str', choices=list(_rules.INSTALLATION_TYPES)))
SNIPPET = '''<!-- Privacy-friendly analytics by Plausible -->
<script async src="%s"></script>
<script>
  window.plausible=window.plausible||function(){(plausible.q=plausible.q||[]).push(arguments)},
  plausible.init=plausible.init||function(i){plausible.o=i||{}};
  plausible.init()
</script>'''


def tracker_script_url(base_url, site):
    """``<api_url>/js/<tracker id>.js``, or None while the site does not exist yet (check mode)."""
    tracker_id = ((site or {}).get('tracker_script_configuration') or {}).get('id')
    return '%s/js/%s.js' % (base_url, tracker_id) if tracker_id else None


def snippet(script_url):
    return SNIPPET % script_url if script_url else None


class SiteResource:
    """A site, identified by its normalised domain; renamed from ``previous_domain`` when that one exists."""

    name = 'site'

    def __init__(self, client, params, state='present'):
        self.client = client
        self.domain = _rules.normalize_domain(params['domain'])
        self.previous_domain = None
        if params.get('previous_domain') and state == 'present':
            self.previous_domain = _rules.normalize_domain(params['previous_domain'], 'previous_domain')
        self.timezone = _rules.check_timezone(params.get('timezone'))
        self.team_id = params.get('team_id')
        self.config = _rules.check_tracker_script_configuration(params.get('tracker_script_configuration')) or {}

    def read(self):
        site = self.client.get_site(self.domain)
        if site is not None and site['domain'] != self.domain:
            # The server still resolves a name for 72 h after a rename; never act on the renamed site by its old name.
            raise ResourceError('%s was renamed to %s less than 72 hours ago and now names that site; use domain: %s '
                                '(nothing was changed).' % (self.domain, site['domain'], site['domain']))
        if self.previous_domain is None or self.previous_domain == self.domain:
            return site
        previous = self.client.get_site(self.previous_domain)
        if previous is None or previous['domain'] == self.domain:
            return site
        if site is not None:
            raise ResourceError('Both %s and previous_domain %s exist as separate sites, so the rename cannot happen; '
                                'delete one of them first or drop previous_domain (nothing was changed).'
                                % (self.domain, self.previous_domain))
        return previous

    def desired(self, current):
        if current is None:
            config = dict(TRACKER_DEFAULTS, id=None)
            config.update(self.config)
            return dict(domain=self.domain, timezone=self.timezone or 'Etc/UTC', custom_properties=[],
                        tracker_script_configuration=config)
        if self.timezone is not None and self.timezone != current['timezone']:
            raise ResourceError(
                "timezone: %s has the time zone %s and Plausible's API cannot change it (it is set only when a site is "
                "created). Change it in the dashboard (Site Settings > General > Site Timezone) or set timezone: %s; "
                "nothing was changed." % (current['domain'], current['timezone'], current['timezone']))
        wanted = copy.deepcopy(current)
        wanted['domain'] = self.domain
        wanted['tracker_script_configuration'].update(self.config)
        return wanted

    def create(self, wanted):
        body = dict(domain=self.domain)
        if self.timezone is not None:
            body['timezone'] = self.timezone
        if self.team_id:
            body['team_id'] = self.team_id
        if self.config:
            body['tracker_script_configuration'] = self.config
        try:
            return self.client.create_site(body)
        except PlausibleError as exc:
            raise _explain_site_error(exc, self.domain)

    def update(self, current, wanted):
        body = {}
        if wanted['domain'] != current['domain']:
            body['domain'] = wanted['domain']
        config = dict((key, value) for key, value in self.config.items()
                      if current['tracker_script_configuration'].get(key) != value)
        if config:
            body['tracker_script_configuration'] = config
        try:
            return self.client.update_site(current['domain'], body)
        except PlausibleError as exc:
            raise _explain_site_error(exc, self.domain)

    def delete(self, current):
        try:
            self.client.delete_site(current['domain'])
        except PlausibleError as exc:
            if exc.site_not_found:
                raise ResourceError('Plausible refused to delete %s ("Site could not be found" for a site this key can '
                                    'read): only the site\'s owner may delete it.' % current['domain'])
            raise

    def extras(self, site):
        url = tracker_script_url(self.client.base_url, site)
        return dict(tracker_script_url=url, snippet=snippet(url))


def _explain_site_error(exc, domain):
    error = exc.error or ''
    if 'This domain cannot be registered' in error:
        return ResourceError('domain: %s cannot be registered: Plausible already has a site with that domain, on some '
                             'account, or a site was renamed away from it less than 72 hours ago. If it should be yours, '
                             'ask its owner to transfer it or contact Plausible support (server said: %s).'
                             % (domain, error.strip()))
    if "You must select a team with 'team_id' parameter." in error:
        return ResourceError('team_id: the API key\'s user owns several teams, so Plausible needs to know which one gets '
                             'the site. Set team_id to the team\'s id (GET /api/v1/sites/teams lists them).')
    return exc


class GoalResource:
    """A goal, identified on its site by ``goal_type`` and its event name or page path (or by ``goal_id``)."""

    name = 'goal'

    def __init__(self, client, params, check_mode=False, known_goals=None, recreate_option='recreate'):
        self.client = client
        self.recreate_option = recreate_option
        self.known_goals = known_goals
        self.check_mode = check_mode
        self.domain = _rules.normalize_domain(params['domain'])
        self.goal_id = params.get('goal_id')
        self.goal_type = params.get('goal_type')
        self.event_name = self.page_path = None
        if self.goal_type == 'event':
            self.event_name = _rules.normalize_event_name(params.get('event_name'))
        elif self.goal_type == 'page':
            self.page_path = _rules.normalize_page_path(params.get('page_path'))
        self.display_name = (params.get('display_name') or '').strip() or None
        self.custom_props = _rules.check_custom_props(params.get('custom_props'))
        self.currency = _rules.check_currency(params.get('currency'))
        if self.currency and self.goal_type != 'event':
            raise _rules.InputError('currency: only event goals can be revenue goals (goal_type is %s)' % self.goal_type)
        self.recreate = params.get('recreate', False)
        self.goals = None
        self.site_missing = False

    def describe(self):
        if self.goal_id is not None and self.goal_type is None:
            return 'goal %s' % self.goal_id
        return 'event goal %r' % self.event_name if self.goal_type == 'event' else 'page goal %r' % self.page_path

    def read(self):
        """Find the goal in the site's goal list; ``known_goals`` lets a caller that listed them skip the request."""
        goals = self.known_goals
        if goals is None:
            try:
                goals = self.client.list_goals(self.domain)
            except PlausibleError as exc:
                if not exc.site_not_found:
                    raise
                self.site_missing = True
                goals = []
        self.goals = goals
        if self.goal_id is not None and self.goal_type is None:
            matches = [goal for goal in goals if goal['id'] == self.goal_id]
        else:
            matches = [goal for goal in goals if goal['goal_type'] == self.goal_type
                       and goal['event_name'] == self.event_name and goal['page_path'] == self.page_path]
        if len(matches) > 1:
            raise ResourceError('%s matches several goals on %s (ids %s, which differ in custom_props); manage them by '
                                'goal_id (nothing was changed).' % (self.describe(), self.domain,
                                                                    ', '.join('%s' % g['id'] for g in matches)))
        return dict(matches[0], domain=self.domain) if matches else None

    def desired(self, current):
        new = dict(id=None, domain=self.domain, goal_type=self.goal_type, event_name=self.event_name,
                   page_path=self.page_path, custom_props=self.custom_props or {},
                   display_name=self.display_name or self.event_name or 'Visit %s' % self.page_path)
        if current is None:
            if self.site_missing and not self.check_mode:
                raise ResourceError('Site %s does not exist; create it first with plausible.analytics.plausible_site.'
                                    % self.domain)
            self._check_display_name_free(new['display_name'], exclude=None)
            return new
        differences = self._differences(current)
        if not differences:
            return current
        if not self.recreate:
            raise self._cannot_update(current, differences)
        self._check_display_name_free(new['display_name'], exclude=current['id'])
        return new

    def _differences(self, goal):
        """The options the user gave that ``goal`` does not match; the API never updates a goal to match them."""
        return [option for option, wanted in (('display_name', self.display_name), ('custom_props', self.custom_props))
                if wanted is not None and goal[option] != wanted]

    def _cannot_update(self, goal, differences):
        return ResourceError(
            '%s exists on %s with %s; Plausible cannot update a goal. Set %s: true to delete it and create it again with '
            'a new id (funnels that use it may lose the step), or change the task to match (nothing was changed).'
            % (self.describe(), self.domain, ', '.join('%s %r' % (option, goal[option]) for option in differences),
               self.recreate_option))

    def _check_display_name_free(self, display_name, exclude):
        for goal in self.goals or []:
            if goal['display_name'] == display_name and goal['id'] != exclude:
                raise ResourceError('display_name: %r is already the display name of goal %s on %s, and display names are '
                                    'unique per site; choose another one (nothing was changed).'
                                    % (display_name, goal['id'], self.domain))

    def create(self, wanted):
        body = dict(site_id=self.domain, goal_type=self.goal_type)
        if self.goal_type == 'event':
            body['event_name'] = self.event_name
        else:
            body['page_path'] = self.page_path
        for option in ('display_name', 'custom_props', 'currency'):
            if getattr(self, option):
                body[option] = getattr(self, option)
        goal = dict(self.client.find_or_create_goal(body), domain=self.domain)
        differences = self._differences(goal)
        if differences:
            # Find-or-create found a goal the listing did not show: one the server made for a tracker option of a new
            # site, or one somebody added meanwhile. Its fields are the server's, so compare them (API file §6.9).
            if not self.recreate:
                raise self._cannot_update(goal, differences)
            self.delete(goal)
            goal = dict(self.client.find_or_create_goal(body), domain=self.domain)
        return goal

    def update(self, current, wanted):
        self.delete(current)
        return self.create(wanted)

    def delete(self, current):
        self.client.delete_goal(self.domain, current['id'])


def ensure_shared_link(client, params, check_mode, site_is_new=False):
    """Find or create a shared link. The Sites API cannot list them, so "found" and "created" look alike.

    ``changed`` is true only when the link cannot have existed before (its site is new in this run); otherwise it is
    false, because the server's find-or-create returns an existing link untouched. In check mode nothing is sent.
    """
    domain = _rules.normalize_domain(params['domain'])
    name = _rules.check_shared_link_name(params['name'])
    if params.get('state') == 'absent':
        raise ResourceError("state: absent is not possible: Plausible's Sites API can neither list nor delete shared "
                            "links. Delete %r in the dashboard (Site Settings > Visibility > Shared links)." % name)
    if check_mode:
        return Outcome(site_is_new, None, dict(name=name, url=None),
                       notes=['Check mode sent nothing: the Sites API cannot list shared links, so whether %r exists '
                              'and its URL are unknown until a real run.' % name])
    try:
        link = client.find_or_create_shared_link(domain, name)
    except PlausibleError as exc:
        if exc.site_not_found:
            raise ResourceError('Site %s does not exist; create it first with plausible.analytics.plausible_site.' % domain)
        raise
    return Outcome(site_is_new, None, link)
