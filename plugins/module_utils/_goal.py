# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A goal: found on its site by type and event name or page path, never updated, only replaced."""

from __future__ import annotations

from ._module import ResourceError, list_site, missing_site
from . import _rules

# A goal as plausible_sites' goals and plausible_funnel's steps take it (plausible_goal has these as its own options).
GOAL_OPTIONS = dict(
    goal_type=dict(type='str', required=True, choices=['event', 'page']),
    event_name=dict(type='str'),
    page_path=dict(type='str'),
    display_name=dict(type='str'),
    custom_props=dict(type='dict'),
    currency=dict(type='str'),
)


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
            self.event_name = _rules.normalize_event_name(params.get('event_name'), client.community_edition)
        elif self.goal_type == 'page':
            self.page_path = _rules.normalize_page_path(params.get('page_path'))
        self.display_name = (params.get('display_name') or '').strip() or None
        self.custom_props = _rules.check_custom_props(params.get('custom_props'))
        self.currency = _rules.check_currency(params.get('currency'))
        if self.currency and self.goal_type != 'event':
            raise _rules.InputError('currency: only event goals can be revenue goals (goal_type is %s)' % self.goal_type)
        if self.currency and client.community_edition:
            raise _rules.InputError('currency: a Community Edition server has no revenue goals (its Plugins API refuses '
                                    'them); drop currency to make %r a plain event goal' % self.event_name)
        default_name = self.event_name or 'Visit %s' % self.page_path
        if self.display_name not in (None, default_name) and not client.sets_display_name:
            raise _rules.InputError('display_name: the Plugins API (plugin_token) cannot choose a display name; the goal '
                                    'is always named %r. Drop display_name, or manage the goal with api_key through the '
                                    'Sites API' % default_name)
        self.recreate = params.get('recreate', False)
        self.goals = None
        self.site_missing = False

    def describe(self):
        if self.goal_id is not None and self.goal_type is None:
            return 'goal %s' % self.goal_id
        return 'event goal %r' % self.event_name if self.goal_type == 'event' else 'page goal %r' % self.page_path

    def read(self):
        """Find the goal in the site's goal list; ``known_goals`` lets a caller that listed them skip the request."""
        goals, self.site_missing = list_site(self.known_goals, self.client.list_goals, self.domain)
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
                raise missing_site(self.domain)
            self._check_display_name_free(new['display_name'], exclude=None)
            return new
        differences = self.differences(current)
        if not differences:
            return current
        if not self.recreate:
            raise self._cannot_update(current, differences)
        self._check_display_name_free(new['display_name'], exclude=current['id'])
        return new

    def differences(self, goal):
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

    def body(self):
        """The find-or-create request for this goal, in the Sites API's shape (the Plugins API surface translates it)."""
        body = dict(site_id=self.domain, goal_type=self.goal_type)
        if self.goal_type == 'event':
            body['event_name'] = self.event_name
        else:
            body['page_path'] = self.page_path
        for option in ('display_name', 'custom_props', 'currency'):
            if getattr(self, option):
                body[option] = getattr(self, option)
        return body

    def create(self, wanted):
        return self.accept(self.client.find_or_create_goal(self.body()))

    def accept(self, goal):
        """The goal a find-or-create answered, checked: it may be one the listing did not show, with other fields.

        That is a goal the server made for a tracker option of a new site, or one somebody added meanwhile. Its fields
        are the server's, so compare them (API file §6.9).
        """
        goal = dict(goal, domain=self.domain)
        differences = self.differences(goal)
        if differences:
            if not self.recreate:
                raise self._cannot_update(goal, differences)
            self.delete(goal)
            goal = dict(self.client.find_or_create_goal(self.body()), domain=self.domain)
        return goal

    def update(self, current, wanted):
        self.delete(current)
        return self.create(wanted)

    def delete(self, current):
        self.client.delete_goal(self.domain, current['id'])


def check_distinct_goals(goals, option='goals'):
    """Refuse the same goal twice in one list, before any request: ``goals`` are dicts in plausible_goal's shape.

    The same event name with the same custom props, or the same page path, is one goal on the server (its unique
    indexes, API file §6.9), and a site's display names are unique: two such entries would make a run write half a
    site and fail, or with a recreate never settle. The modules tell a site's goals apart by event name or page path
    (the server's find-or-create matches on those alone), so one event name with other custom props is refused too.
    Used for a site's goals and for plausible_funnel's steps.
    """
    goals_seen, names_seen = {}, {}
    for index, goal in enumerate(goals):
        where = '%s[%d]' % (option, index)
        try:
            if goal.get('goal_type') == 'page':
                path = _rules.normalize_page_path(goal.get('page_path'))
                key, what, default_name = ('page', path), 'page_path %r' % path, 'Visit %s' % path
            else:
                name = _rules.normalize_event_name(goal.get('event_name'))
                _rules.check_custom_props(goal.get('custom_props'))
                key, what, default_name = ('event', name), 'event_name %r' % name, name
        except _rules.InputError as exc:
            raise _rules.InputError('%s.%s' % (where, exc))
        if key in goals_seen:
            raise _rules.InputError('%s: the same goal as %s[%d] (%s); declare each goal once (goals are told apart by '
                                    'event name or page path, whatever their custom_props)'
                                    % (where, option, goals_seen[key], what))
        goals_seen[key] = index
        display_name = (goal.get('display_name') or '').strip() or default_name
        if display_name in names_seen:
            raise _rules.InputError('%s.display_name: %r is also the display name of %s[%d], and Plausible keeps display '
                                    'names unique per site; give one of them another display_name'
                                    % (where, display_name, option, names_seen[display_name]))
        names_seen[display_name] = index
