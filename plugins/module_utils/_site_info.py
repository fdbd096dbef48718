# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Read an account and describe it in the shape of the role's ``plausible_sites`` entries, so it can be adopted.

Only reads are sent. Every entry holds what the role can declare, plus the tracker script URL and snippet, which the
role accepts and ignores. Goals the role cannot declare are returned beside ``sites``, never inside an entry.
Shared links and funnels only the Plugins API lists: they are read for the sites whose token is given.
"""

from __future__ import annotations

from ._funnel import export_funnel
from ._transport import PlausibleError
from ._module import ResourceError
from ._plugins_api import TRACKER_KEYS as PLUGINS_TRACKER_KEYS
from ._site import TRACKER_DEFAULTS, snippet, tracker_script_url
from . import _rules

INCLUDE_CHOICES = ('tracker', 'goals', 'custom_properties', 'guests', 'teams', 'shared_links', 'funnels')
TOKEN_KINDS = ('shared_links', 'funnels')
# What only the Sites API can read, left out of an export from plugin tokens alone.
SITES_API_KINDS = ('custom_properties', 'guests', 'teams')
SCROLL_REASON = ('a scroll goal: the Sites API cannot create one, so neither the role nor '
                 'plausible.analytics.plausible_goal can declare it')
SHARED_KEY_REASON = ('several goals share this %s (they differ in custom_props); the role finds a goal by its event '
                     'name or page path, so it cannot tell them apart')


def check_team_id(value):
    """The server ignores a team_id that is not a team's UUID and then lists every site: refuse it here instead."""
    return _rules.check_team_id(value, 'include: [teams] lists them')


def export_goal(goal):
    """A goal in the role's shape, minimal: ``display_name`` only when it is not the server's default for the goal."""
    entry = dict(goal_type=goal['goal_type'])
    if goal['goal_type'] == 'event':
        entry['event_name'] = goal['event_name']
        default_name = goal['event_name']
    else:
        entry['page_path'] = goal['page_path']
        default_name = 'Visit %s' % goal['page_path']
    if goal['display_name'] != default_name:
        entry['display_name'] = goal['display_name']
    if goal.get('custom_props'):
        entry['custom_props'] = goal['custom_props']
    return entry


def split_goals(domain, goals):
    """The goals the role can declare, in creation order, and those it cannot, each with its ``domain`` and ``reason``."""
    goals = sorted(goals, key=lambda goal: goal['id'])
    keys = [(goal['goal_type'], goal['event_name'], goal['page_path']) for goal in goals]
    exported, skipped = [], []
    for goal, key in zip(goals, keys):
        if goal['goal_type'] == 'scroll':
            reason = SCROLL_REASON
        elif keys.count(key) > 1:
            reason = SHARED_KEY_REASON % ('event name' if goal['goal_type'] == 'event' else 'page path')
        else:
            exported.append(export_goal(goal))
            continue
        skipped.append(dict(goal, domain=domain, reason=reason))
    return exported, skipped


def export_tracker_configuration(config):
    """The role's keys only: without the read-only ``id``, and without an unset ``installation_type``."""
    return dict((key, config[key]) for key in TRACKER_DEFAULTS if config.get(key) is not None)


class AccountExport:
    """What ``plausible_site_info`` reads: the sites (one, or every one the key sees), and per site what ``include`` names.

    Each kind costs one request per site (a paginated listing, which is one request up to 100 items). The site's own
    GET, needed for ``tracker``, also carries its custom properties, so those then cost nothing more.
    """

    def __init__(self, client, params, tokens=None):
        """``client`` is the Sites API surface, or None to export the sites of ``tokens`` (domain → Plugins API)."""
        self.client = client
        self.tokens = tokens or {}
        self.left_out = []
        self.domain = None if params.get('domain') is None else _rules.normalize_domain(params['domain'])
        self.team_id = check_team_id(params.get('team_id'))
        self.include = set(params.get('include') or [])

    def run(self):
        if self.client is None:
            return self._run_from_tokens()
        teams = self.client.list_teams() if 'teams' in self.include or self.team_id else None
        if self.team_id and self.team_id not in [team['id'] for team in teams]:
            known = ', '.join('%s (%s)' % (team['id'], team['name']) for team in teams) or 'none'
            raise ResourceError('team_id: %s is not a team this API key can list sites of (its teams: %s); Plausible '
                                'would ignore it and list every site, so nothing more was read' % (self.team_id, known))
        if self.domain is not None:
            site = self.client.get_site(self.domain)
            found = [] if site is None else [site]
        else:
            found = self.client.list_sites(self.team_id)
        sites, skipped_goals = [], []
        for site in found:
            read = self._read_or_none(site)
            if read is not None:
                sites.append(read[0])
                skipped_goals.extend(read[1])
        result = dict(changed=False, sites=sorted(sites, key=lambda entry: entry['domain']))
        untokened = [site['domain'] for site in sites if site['domain'] not in self.tokens]
        if untokened and self.include & set(TOKEN_KINDS):
            self.left_out.append('%s of %s: only the Plugins API lists them, and plugin_tokens has no token for these '
                                 'sites' % (' and '.join(sorted(self.include & set(TOKEN_KINDS))), ', '.join(untokened)))
        if self.left_out:
            result['left_out'] = self.left_out
        if 'teams' in self.include:
            result['teams'] = teams
        if 'goals' in self.include:
            result['skipped_goals'] = skipped_goals
        return result

    def _read_or_none(self, site):
        """``_read``, or None when the site disappeared between the listing and its own reads."""
        try:
            return self._read(site)
        except PlausibleError as exc:
            if exc.site_not_found:
                return None
            raise

    def _read(self, site):
        """One site's entry, and the goals it leaves out."""
        domain = site['domain']
        if 'tracker' in self.include and 'tracker_script_configuration' not in site:
            site = self.client.get_site(domain)  # the listing has only domain and timezone
            if site is None:
                return None
        entry, skipped = dict(domain=domain, timezone=site['timezone']), []
        if 'tracker' in self.include:
            entry['tracker_script_configuration'] = export_tracker_configuration(site['tracker_script_configuration'])
            entry['tracker_script_url'] = tracker_script_url(self.client.base_url, site)
            entry['snippet'] = snippet(entry['tracker_script_url'])
        if 'goals' in self.include:
            entry['goals'], skipped = split_goals(domain, self.client.list_goals(domain))
        if 'custom_properties' in self.include:
            known = site.get('custom_properties')  # the site's GET carries them, unsorted
            entry['custom_properties'] = sorted(known) if known is not None else self.client.list_custom_properties(domain)
        if 'guests' in self.include:
            guests = self.client.list_guests(domain)
            entry['guests'] = sorted((dict(email=g['email'], role=g['role']) for g in guests), key=lambda g: g['email'])
        if domain in self.tokens:
            entry.update(self._read_token_kinds(domain))
        return entry, skipped

    def _run_from_tokens(self):
        """Each token's site from the Plugins API alone (a Community Edition server has no Sites API)."""
        sites, skipped_goals = [], []
        for domain in sorted(self.tokens):
            if self.domain is not None and domain != self.domain:
                continue
            api = self.tokens[domain]
            api.expect_site(domain)
            entry = dict(domain=domain)
            if 'tracker' in self.include:
                config = api.get_tracker_script_configuration()
                entry['tracker_script_configuration'] = dict((key, config[key]) for key in PLUGINS_TRACKER_KEYS
                                                             if config.get(key) is not None)
                entry['tracker_script_url'] = tracker_script_url(api.base_url, dict(tracker_script_configuration=config))
                entry['snippet'] = snippet(entry['tracker_script_url'])
            if 'goals' in self.include:
                entry['goals'], skipped = split_goals(domain, api.list_goals())
                skipped_goals.extend(skipped)
            entry.update(self._read_token_kinds(domain))
            sites.append(entry)
        missing = ['timezone'] + [kind for kind in SITES_API_KINDS if kind in self.include]
        if 'tracker' in self.include:
            missing.append('the tracker options but %s' % ', '.join(PLUGINS_TRACKER_KEYS))
        self.left_out.append('%s: only the Sites API (api_key) reads them; without api_key the export holds what the '
                             'plugin tokens read' % ', '.join(missing))
        result = dict(changed=False, sites=sites, left_out=self.left_out)
        if 'teams' in self.include:
            result['teams'] = []
        if 'goals' in self.include:
            result['skipped_goals'] = skipped_goals
        return result

    def _read_token_kinds(self, domain):
        """The site's shared links and funnels, in the role's shape, through its token."""
        api, entry = self.tokens[domain], {}
        api.expect_site(domain)
        if 'shared_links' in self.include:
            entry['shared_links'] = [dict(name=link['name'], password_protected=True) if link['password_protected']
                                     else link['name'] for link in sorted(api.list_shared_links(), key=lambda l: l['id'])]
        if 'funnels' in self.include:
            # A Community Edition server has no funnels (and no route to list them).
            funnels = [] if api.community_edition else api.list_funnels()
            entry['funnels'] = [export_funnel(funnel) for funnel in sorted(funnels, key=lambda f: f['id'])]
        return entry
