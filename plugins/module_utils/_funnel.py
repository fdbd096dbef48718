# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A funnel: 2..8 goals in order, under a name unique per site. Only the Plugins API of plausible.io and Enterprise
servers has funnels, and it can only find or create one by name: no API changes, renames or deletes a funnel."""

from __future__ import annotations

from ._goal import GOAL_OPTIONS
from ._module import ResourceError, ensure
from ._transport import PlausibleError
from . import _rules

MIN_STEPS, MAX_STEPS = 2, 8
STEP_OPTIONS = dict((name, option) for name, option in GOAL_OPTIONS.items() if name != 'display_name')  # steps have none
STEPS_SPEC = dict(type='list', elements='dict', required=True, options=STEP_OPTIONS,
                  mutually_exclusive=[('event_name', 'page_path')],
                  required_if=[('goal_type', 'event', ['event_name']), ('goal_type', 'page', ['page_path'])])
DASHBOARD = 'Site Settings > Funnels'
NO_TOKEN = ('funnels exist only in the Plugins API, which a site\'s plugin_token reaches; the Sites API (api_key) has '
            'none. Make a token in the dashboard: <api_url>/<domain>/settings/integrations')
COMMUNITY_EDITION = ('a Community Edition server has no funnels (its Plugins API does not route them); funnels exist '
                     'on plausible.io and Enterprise servers only')
FEATURE_NAMES = dict(Funnels='Funnels', Props='custom properties on goals (Props)',
                     RevenueGoals='revenue goals (RevenueGoals)')


def check_name(value, option='name'):
    if not isinstance(value, str) or not value.strip():
        raise _rules.InputError("%s: can't be blank" % option)
    return value


def check_steps(steps, option='steps'):
    """The steps as goal dicts of the Sites API's shape, each checked as plausible_goal checks a goal."""
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise _rules.InputError('%s: a funnel has %d to %d steps (got %d)' % (option, MIN_STEPS, MAX_STEPS, len(steps)))
    checked, seen = [], {}
    for index, step in enumerate(steps):
        where = '%s[%d]' % (option, index)
        try:
            checked.append(_check_step(step))
        except _rules.InputError as exc:
            raise _rules.InputError('%s.%s' % (where, exc))
        key = _identity(checked[-1])
        if key in seen:
            # The server finds the same goal twice, then its unique index of (funnel, goal) answers 500.
            raise _rules.InputError('%s: the same goal as %s[%d] (%s); a funnel cannot have one goal twice'
                                    % (where, option, seen[key], describe_step(checked[-1])))
        seen[key] = index
    return checked


def _check_step(step):
    goal_type = step.get('goal_type')
    event = goal_type == 'event'
    currency = _rules.check_currency(step.get('currency'))
    if currency and not event:
        raise _rules.InputError('currency: only event goals can be revenue goals (goal_type is %s)' % goal_type)
    return dict(goal_type=goal_type,
                event_name=_rules.normalize_event_name(step.get('event_name')) if event else None,
                page_path=None if event else _rules.normalize_page_path(step.get('page_path')),
                currency=currency, custom_props=_rules.check_custom_props(step.get('custom_props')) or {})


def _identity(step):
    """What the server finds a step's goal by: its event name or its page path."""
    return step['goal_type'], step['event_name'], step['page_path']


def _comparable(step):
    return _identity(step) + (step.get('currency'), step.get('custom_props') or {})


def describe_step(step):
    text = 'event %r' % step['event_name'] if step['goal_type'] == 'event' else 'page %r' % step['page_path']
    if step.get('currency'):
        text += ' in %s' % step['currency']
    if step.get('custom_props'):
        text += ' with custom_props %r' % step['custom_props']
    return text


def export_step(goal):
    """A step as the role and plausible_funnel take it: only what was set."""
    step = dict(goal_type=goal['goal_type'])
    step['event_name' if goal['goal_type'] == 'event' else 'page_path'] = goal['event_name'] or goal['page_path']
    for option in ('currency', 'custom_props'):
        if goal.get(option):
            step[option] = goal[option]
    return step


def export_funnel(funnel):
    return dict(name=funnel['name'], steps=[export_step(goal) for goal in funnel['steps']])


def funnel_steps_by_goal(funnels):
    """Goal id → the names of the funnels that use it as a step: goals a purge must keep."""
    used = {}
    for funnel in funnels:
        for goal in funnel['steps']:
            used.setdefault(goal['id'], []).append(funnel['name'])
    return used


class FunnelResource:
    """One funnel through a site's token; ``known`` is the site's funnel listing when the caller has it."""

    name = 'funnel'

    def __init__(self, api, domain, name, steps, known=None):
        if api.community_edition:
            raise ResourceError('funnel %r: %s (nothing was sent).' % (name, COMMUNITY_EDITION))
        self.api, self.domain, self.funnel_name, self.steps, self.known = api, domain, name, steps, known

    def read(self):
        funnels = self.known
        if funnels is None:
            try:
                funnels = self.api.list_funnels()
            except PlausibleError as exc:
                if exc.kind == 'no_plugins_api':  # 404/406 for a route it does not have
                    raise ResourceError('funnel %r: the server at %s does not route funnels: %s (nothing was written).'
                                        % (self.funnel_name, self.api.base_url, COMMUNITY_EDITION))
                raise
            self.known = funnels
        return next((dict(funnel) for funnel in funnels if funnel['name'] == self.funnel_name), None)

    def desired(self, current):
        if current is not None:
            self._check_same_steps(current)
            return current
        missing = self._missing_features()
        if missing:
            raise ResourceError('funnel %r of %s: the plan of the site\'s team lacks %s (GET /capabilities says so), so '
                                'the server would refuse the funnel; upgrade the plan or change the steps (nothing was '
                                'written).' % (self.funnel_name, self.domain, ' and '.join(FEATURE_NAMES[f] for f in missing)))
        return dict(id=None, name=self.funnel_name, steps=[dict(step, id=None) for step in self.steps])

    def _missing_features(self, fresh=False):
        features = self.api.features(fresh)
        needed = ['Funnels']
        if any(step['custom_props'] for step in self.steps):
            needed.append('Props')
        if any(step['currency'] for step in self.steps):
            needed.append('RevenueGoals')
        return [feature for feature in needed if features.get(feature) is False]

    def _check_same_steps(self, funnel):
        have, want = funnel['steps'], self.steps
        for index in range(max(len(have), len(want))):
            old = have[index] if index < len(have) else None
            new = want[index] if index < len(want) else None
            if old is None or new is None or _comparable(old) != _comparable(new):
                raise ResourceError(
                    'funnel %r of %s exists with other steps: steps[%d] is %s, the task wants %s. No API can change a '
                    'funnel: change the task to match, or delete the funnel in the dashboard (%s) to have it made again '
                    '(nothing was written).' % (self.funnel_name, self.domain, index,
                                                describe_step(old) if old else 'absent',
                                                describe_step(new) if new else 'no step', DASHBOARD))

    def create(self, wanted):
        try:
            funnel = self.api.find_or_create_funnel(self.funnel_name, self.steps)
        except PlausibleError as exc:
            if exc.status != 402:
                raise
            # The server names Funnels whatever a step lacks; the plan, asked again, tells which feature it really is.
            missing = ' and '.join(FEATURE_NAMES[f] for f in self._missing_features(fresh=True) or ['Funnels'])
            raise ResourceError('funnel %r of %s: the server refused it for the plan (HTTP 402): the plan lacks %s '
                                '(nothing was written).' % (self.funnel_name, self.domain, missing))
        self._check_same_steps(funnel)  # somebody made a funnel of that name meanwhile
        return funnel

    def update(self, current, wanted):
        raise AssertionError('a funnel is never updated')  # desired() fails first


def check_site_funnels(funnels, plugins, option='funnels'):
    """The ``funnels`` of a plausible_sites entry, checked before anything is sent: ``[(name, steps)]``."""
    if funnels and plugins is None:
        raise _rules.InputError('%s: %s' % (option, NO_TOKEN))
    if funnels and plugins.community_edition:
        raise _rules.InputError('%s: %s' % (option, COMMUNITY_EDITION))
    checked, names = [], set()
    for index, funnel in enumerate(funnels):
        where = '%s[%d]' % (option, index)
        name = check_name(funnel['name'], where + '.name')
        if name in names:
            raise _rules.InputError('%s.name: the funnel %r appears more than once' % (where, name))
        names.add(name)
        checked.append((name, check_steps(funnel['steps'], where + '.steps')))
    return checked


class SiteFunnels:
    """The funnels of one plausible_sites entry, and which goals a purge must keep: one listing serves both.

    Without a token no funnel can be seen; on a server that does not route funnels there are none.
    """

    def __init__(self, plugins, domain, funnels, purge_goals):
        self.plugins, self.domain = plugins, domain
        self.declared = [FunnelResource(plugins, domain, name, steps) for name, steps in funnels]
        self.visible = plugins is not None and not plugins.community_edition and (bool(funnels) or purge_goals)
        self.known = None

    def listing(self):
        if self.known is None:
            self.known = []
            if self.visible:
                try:
                    self.known = self.plugins.list_funnels()
                except PlausibleError as exc:
                    if exc.kind != 'no_plugins_api' or self.declared:
                        raise
        return self.known

    def steps_in_use(self):
        """Goal id → the names of the site's funnels that have it as a step."""
        return funnel_steps_by_goal(self.listing())

    def ensure(self, check_mode):
        """Ensure each declared funnel against the listing; returns (changed, before, after)."""
        changed, before, after = False, [], []
        for resource in self.declared:
            resource.known = self.listing()
            outcome = ensure(resource, 'present', check_mode)
            if outcome.changed and not check_mode:
                self.known = self.known + [outcome.after]
            changed = changed or outcome.changed
            if outcome.before is not None:
                before.append(outcome.before)
            after.append(outcome.after)
        return changed, before, after
