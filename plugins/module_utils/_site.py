# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A site: found by its normalised domain, renamed from ``previous_domain``, with its tracker configuration.

Through the Sites API it can be created, renamed and deleted; through a plugin token only its tracker configuration
can be read and changed (the token's site exists by definition).
"""

from __future__ import annotations

import copy

from ._plugins_api import TRACKER_KEYS as PLUGINS_TRACKER_KEYS
from ._transport import PlausibleError
from ._module import ResourceError
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


# Goals the server makes itself for a tracker option (API files §8.6): switching the option on creates its goal,
# unless a goal already has that event or display name; switching it off deletes the goals of that event name. The
# same holds for a site created with the option on. Modelled here once, so that check mode predicts what a run does.
TRACKER_GOALS = dict(track_404_pages='404', outbound_links='Outbound Link: Click', file_downloads='File Download',
                     form_submissions='Form: Submission')


def tracker_goal_options(before, after):
    """The goal options that a change of the tracker configuration ``before`` (None: a new site) to ``after`` flips."""
    before, after = before or {}, after or {}
    return [option for option in TRACKER_GOALS if bool(before.get(option)) != bool(after.get(option))]


def tracker_goal_effects(goals, before, after):
    """What the server does to a site's ``goals`` when its tracker configuration goes from ``before`` to ``after``.

    Returns ``(goals, created, deleted)``: the goals afterwards, and the goals the server creates (without an id
    until a listing shows them) and deletes.
    """
    created, deleted = [], []
    for option in tracker_goal_options(before, after):
        name = TRACKER_GOALS[option]
        if (after or {}).get(option):
            if not any(name in (goal['event_name'], goal['display_name']) for goal in goals):
                created.append(dict(id=None, display_name=name, goal_type='event', event_name=name, page_path=None,
                                    custom_props={}))
        else:
            deleted.extend(goal for goal in goals if goal['event_name'] == name)
    return [goal for goal in goals if goal not in deleted] + created, created, deleted


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
        self.team_id = _rules.check_team_id(params.get('team_id'))
        self.team = None  # the team a new site goes to, from the teams listing, when team_id is given
        self.config = _rules.check_tracker_script_configuration(params.get('tracker_script_configuration')) or {}

    def read(self):
        site = self.client.resolve_site(self.domain)
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
            if self.team_id:
                self.team = find_team(self.client.list_teams(), self.team_id)
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
            raise _explain_site_error(exc, self.domain, self.team_id)

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
        extras = dict(tracker_script_url=url, snippet=snippet(url))
        if self.team is not None:
            extras['team'] = self.team
        return extras


def find_team(teams, team_id):
    """The team ``team_id`` names among those the key can see (``{id, name}``), else a failure naming them."""
    for team in teams:
        if team['id'].lower() == team_id:
            return dict(id=team['id'], name=team['name'])
    raise ResourceError('team_id: %s is not a team this API key can see, and Plausible would create the site in another '
                        'team, which cannot be changed afterwards. The teams it can see: %s (nothing was changed).'
                        % (team_id, ', '.join('%s (%s)' % (team['name'], team['id']) for team in teams) or 'none'))


def _explain_site_error(exc, domain, team_id=None):
    error = exc.error or ''
    if 'This domain cannot be registered' in error:
        return ResourceError('domain: %s cannot be registered: Plausible already has a site with that domain, on some '
                             'account, or a site was renamed away from it less than 72 hours ago. If it should be yours, '
                             'ask its owner to transfer it or contact Plausible support (server said: %s).'
                             % (domain, error.strip()))
    if exc.status == 401 and team_id:
        return ResourceError('team_id: Plausible refused the API key for the team %s (HTTP 401): the key\'s user is not a '
                             'member of that team, or the key is limited to another team. Use the id of a team the key can '
                             'see (GET /api/v1/sites/teams lists them).' % team_id)
    if "You must select a team with 'team_id' parameter." in error:
        return ResourceError('team_id: the API key\'s user owns several teams, so Plausible needs to know which one gets '
                             'the site. Set team_id to the team\'s id (GET /api/v1/sites/teams lists them).')
    return exc


class TokenSiteResource:
    """The site of a plugin token: verified, and its tracker configuration kept to the task (the Plugins API subset)."""

    name = 'site'

    def __init__(self, api, params, state='present'):
        self.api = api
        self.domain = _rules.normalize_domain(params['domain'])
        if state == 'absent':
            raise _rules.InputError(needs_sites_api('state: absent deletes a site, which'))
        for option, what in (('timezone', 'setting a time zone'), ('previous_domain', 'renaming a site'),
                             ('team_id', 'choosing the team of a new site')):
            if params.get(option):
                raise _rules.InputError(needs_sites_api('%s: %s' % (option, what)))
        self.config = _rules.check_tracker_script_configuration(params.get('tracker_script_configuration')) or {}
        unsupported = sorted(set(self.config) - set(PLUGINS_TRACKER_KEYS))
        if unsupported:
            raise _rules.InputError('tracker_script_configuration: the Plugins API (plugin_token) can change only %s; give '
                                    'api_key to change %s through the Sites API'
                                    % (', '.join(PLUGINS_TRACKER_KEYS), ', '.join(unsupported)))

    def read(self):
        return dict(domain=self.domain, tracker_script_configuration=self.api.get_tracker_script_configuration())

    def desired(self, current):
        wanted = copy.deepcopy(current)
        wanted['tracker_script_configuration'].update(self.config)
        return wanted

    def update(self, current, wanted):
        current_config = current['tracker_script_configuration']
        changes = dict((key, value) for key, value in self.config.items() if current_config.get(key) != value)
        # The server's schema wants installation_type in every update, even a partial one.
        changes.setdefault('installation_type', current_config['installation_type'])
        return dict(domain=self.domain, tracker_script_configuration=self.api.update_tracker_script_configuration(changes))

    def extras(self, site):
        url = tracker_script_url(self.api.base_url, site)
        return dict(tracker_script_url=url, snippet=snippet(url))


def needs_sites_api(what):
    return ('%s needs the Sites API, which an API key reaches (api_key); plugin_token reaches only the Plugins API. '
            'A self-hosted Community Edition server has no Sites API: there, sites are added in the dashboard (+ Add '
            'website), and a token is made at <api_url>/<domain>/settings/integrations?new_token=Ansible' % what)
