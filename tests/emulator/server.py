# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Emulator of Plausible Analytics' Sites API (``/api/v1/sites``) and Plugins API (``/api/plugins/v1``), the test
double of this collection.

It follows ``plausible-sites-api.md`` and ``plausible-plugins-api.md``: same routes, check order, statuses,
byte-exact error bodies, normalisation, idempotency, pagination and rate limits. Both APIs share one state, so a
goal made through one is seen through the other. Standard library only, Python >= 3.11.

Modules: ``server.py`` (this one: control API, HTTP handler, command line), ``sites_api.py``, ``plugins_api.py``,
``tracker.py`` (the tracker scripts and the event endpoint a web page uses),
``model.py`` (the shared state and the goal changeset), ``phoenix.py`` (responses, content negotiation, body
parsing, path matching, cursor pagination).

Run it::

    python3 tests/emulator/server.py --host 127.0.0.1 --port 0 --api-key KEY [options]

When ready it prints one line, its base URL (``http://127.0.0.1:43127``), and serves until SIGTERM or SIGINT.

Options:
    --api-key KEY              main key: legacy (no team), scope ``sites:provision:*``, owned by the default
                               user ``user@example.com``, who owns the default team "My personal sites"
    --key KEY:SCOPES           extra legacy key of the default user (repeatable; SCOPES comma-separated),
                               e.g. ``--key RO:stats:read:*``; logged as ``key1``, ``key2``, ...
    --team-key KEY:SCOPES      extra key scoped to the default team (repeatable); logged as ``team-key1``, ...
    --community-edition        behave like a self-hosted Community Edition server: no Sites API, the Plugins API
                               without funnels and without revenue goals, tokens prefixed plausible-plugin-selfhost
    --no-user                  CE only: no user account exists yet (browser GETs redirect to /register)
    --hourly-limit N           default 600: legacy per-user limit and default per-team limit
    --burst-limit N            default 60
    --burst-period SECONDS     default 10
    --hour-period SECONDS      default 3600 (length of the "hourly" window)
    --goal-limit N             default 1000 goals per site
    --site-limit N             default unlimited sites per team

In-process use (tests)::

    emu = start(api_key='KEY', keys=['RO:stats:read:*'], team_keys=[], community_edition=False, has_user=True,
                burst_limit=5)   # any config key below as a keyword
    emu.base_url                 # e.g. http://127.0.0.1:43127
    emu.reset(); emu.snapshot(); emu.seed({...}); emu.requests(); emu.clear_requests(); emu.accepted_events()
    emu.add_fault({...}); emu.list_faults(); emu.clear_faults(); emu.set_config({...}); emu.shift_clock(advance=60)
    token = emu.create_plugin_token('example.com', 'Ansible')   # the raw token; token='...' chooses it
    emu.plugin_tokens(); emu.revoke_plugin_tokens(token_id=None, token=None, domain=None)
    emu.stop()

These methods are the control API below, minus HTTP.

Control API (no auth, never rate limited, never logged). Bodies are JSON; every answer is JSON.

``POST /_emulator/reset``
    Back to the startup state: only the default user and team (same UUID), the CLI keys and the config are kept.
    Clears sites, seeded data and keys, the request log, faults, rate counters and the clock offset. -> ``{"ok": true}``
``GET /_emulator/state``
    ``{"config": {...}, "clock": {...}, "users": [{"email", "super_admin"}],
    "teams": [{"id": uuid, "name", "setup", "features": [...], "locked", "hourly_limit", "site_limit",
    "members": [{"email", "role"}]}],
    "sites": [{"domain", "timezone", "team_id": uuid, "consolidated", "domain_changed_from", "domain_changed_at",
    "custom_properties": list or null, "tracker_script_configuration": object or null,
    "goals": [{"id", "display_name", "goal_type", "event_name", "page_path", "scroll_threshold", "custom_props",
    "currency"}], "shared_links": [{"id", "name", "slug", "url", "password_protected"}],
    "guests": [{"email", "role", "status"}], "funnels": [{"id", "name", "steps": [goal ids]}]}]}`` (in creation
    order); each team also has ``features_off``. The default user's e-mail is
    ``user@example.com``. Plugin tokens are listed by ``GET /_emulator/plugin-tokens``.
``POST /_emulator/seed``
    Creates fixtures the public API cannot. Every section is optional; they are applied in this order::

        {"users": [{"email": "alice@example.com", "super_admin": false}],
         "teams": [{"name": "Acme", "id": "<uuid, optional>", "owner": "alice@example.com",
                    "members": {"user@example.com": "viewer"}, "features": ["stats_api"], "locked": false,
                    "setup": true, "hourly_limit": 600, "site_limit": null}],
         "sites": [{"domain": "acme.test", "team": "Acme", "timezone": "Etc/UTC", "consolidated": false,
                    "custom_properties": ["author"], "tracker_script_configuration": {"outbound_links": true},
                    "goals": [{"event_name": "Signup", "page_path": null, "display_name": "Signup",
                               "custom_props": {}, "currency": null, "scroll_threshold": -1}],
                    "shared_links": ["Friends", {"name": "Private", "password": "s3cret"}],
                    "guests": [{"email": "user@example.com", "role": "editor",
                    "status": "accepted"}], "funnels": [{"name": "Signup", "steps": ["/pricing", "Signup"]}],
                    "domain_changed_from": "old.test", "domain_changed_seconds_ago": 0}],
         "keys": [{"key": "alice-key", "user": "alice@example.com", "scopes": ["sites:provision:*"],
                   "team": "Acme", "label": "alice"}]}

    Users named anywhere are created on demand. A team ``id`` naming an existing team (e.g. the default
    team's) updates that team with the fields given instead of creating one. Defaults for a new team:
    owner = the default user, every feature, not locked, ``setup`` = true when a ``name`` is given,
    no own limits. Features: ``sites_api``, ``stats_api``, ``shared_links``, ``custom_props``,
    ``revenue_goals``. Roles: ``owner``, ``admin``, ``editor``, ``viewer``, ``billing``. A ``team``
    reference is a team UUID or name; absent means the default team. An accepted guest becomes a guest
    member of the site's team; an invited guest is a pending invitation. Seeded data is not validated against
    the API's rules; a malformed seed is refused with 400 and changes nothing.
    -> ``{"teams": [{"id", "name"}], "sites": [domains], "users": [emails], "keys": [labels]}``
``GET /_emulator/requests`` / ``DELETE /_emulator/requests``
    The log of API requests, oldest first: ``[{"id", "time", "method", "path", "api", "query": {..}, "body",
    "status", "key", "fault", "headers": {"accept", "content-type", "user-agent"}}]``. ``api`` is ``"sites"``
    (paths under ``/api/v1/sites``), ``"plugins"`` (under ``/api/plugins``) or null. ``body`` is the parsed JSON or
    form body, the raw text, or null; every ``password`` value in it shows as ``"********"``. ``key`` is a label,
    never the credential. Sites and other paths: ``main``,
    ``key1``.., ``team-key1``.., a seeded label, ``none`` (no Bearer header) or ``unknown``. Plugins API paths: the
    token's label (``plugin-token1``..), ``none`` (no single Basic header) or ``unknown`` (no such token).
    The Authorization header (Bearer or Basic) is never recorded. ``status`` is null for a reset connection; ``time`` is epoch
    seconds on the emulator's clock.
``GET /_emulator/events``
    The events that ``POST /api/event`` accepted (202), oldest first: ``[{"domain", "event_name", "url",
    "site_exists"}]``; an invalid body (400) is never recorded. Reset clears them.
``POST /_emulator/faults`` / ``GET /_emulator/faults`` / ``DELETE /_emulator/faults``
    ``{"method": "PUT", "path": "/api/v1/sites/goals" | "path_prefix": "/api/v1/sites" | "path_regex": "...",
    "status": 502, "body": "<raw text>" | "json": {...}, "content_type": "text/html", "headers": {...},
    "delay": 1.5, "count": 1, "reset_connection": false}``. Matching: ``method`` (default any) and one of
    ``path`` (exact, without query), ``path_prefix``, ``path_regex`` (``re.search``) or none (any API path).
    ``count`` is how many matching requests it applies to (default 1, null = forever); the first
    matching fault wins. ``delay`` waits before answering. With ``status`` (or ``body``/``json``) the canned
    response is sent (status 200 by default, an empty body without ``body``/``json``); with
    ``reset_connection`` the socket is closed with a TCP reset; either way the state is not touched.
    A fault with only ``delay`` delays, then handles the request normally, like a slow server. Faults match
    Plugins API paths (``/api/plugins/v1/...``) like any other.
    Requests answered by a fault (canned response or reset) are logged with ``"fault": true``; a delay-only fault
    is logged as the normal request it becomes. POST -> ``{"id": n}``; GET -> the pending faults;
    DELETE -> ``{"ok": true}``.
``GET /_emulator/config`` / ``POST /_emulator/config``
    ``{"edition": "hosted" | "ce", "has_user", "hourly_limit", "burst_limit", "burst_period", "hour_period",
    "goal_limit", "site_limit"}``; POST changes the keys given and answers the whole config.
``GET /_emulator/clock`` / ``POST /_emulator/clock``
    ``{"advance": seconds}`` adds to the clock offset, ``{"offset": seconds}`` sets it.
    -> ``{"offset": seconds, "now": epoch seconds}``. The offset moves rate windows and the 72 h rename grace.
``POST /_emulator/plan``
    ``{"domain": "<site>", "features_off": ["Funnels", "Props", ...]}`` replaces the list of capability features
    taken from the plan of the site's team (``[]`` gives them all back) -> ``{"features_off": [...]}``. Hosted
    capabilities then report them false, and what needs them answers 402 (a new funnel, a goal with custom
    properties, a revenue goal); reads and an existing funnel's name need no plan. Seeded funnel steps name
    seeded goals by event name or page path.
``POST /_emulator/plugin-tokens`` / ``GET /_emulator/plugin-tokens`` / ``DELETE /_emulator/plugin-tokens``
    The real server makes Plugins API tokens only in its dashboard. POST ``{"domain": "<site>", "description":
    "<text>", "token": "<raw, optional>"}`` makes one for that site (current or pending old domain; description
    default "Ansible") -> ``{"token": "<raw token>"}``: the only place the raw value ever appears. Without
    ``token`` it is ``plausible-plugin-<40 base64 characters>`` (``plausible-plugin-selfhost-...`` in Community
    Edition mode); any given string works too, as the server checks only the hash. Tokens are stored as the
    server stores them: SHA-256 and the last 4 characters (``hint``). GET -> ``[{"id", "label", "domain",
    "description", "hint", "inserted_at", "last_used_at"}]`` (oldest first; ``last_used_at`` is refreshed by
    authenticated requests, at most every 5 minutes). DELETE revokes ``{"id": "<id>"}``, ``{"token": "<raw>"}`` or
    every token of ``{"domain": "<site>"}`` -> ``{"revoked": n}``. Deleting a site deletes its tokens; reset
    clears them all.

Plugins API (``plugins_api.py``): every route of ``plausible-plugins-api.md`` §6 with HTTP Basic tokens (the
password, or the whole decoded text without a colon), on both editions; the funnel routes only in hosted mode.
``GET /api/plugins/spec/openapi`` answers a small OpenAPI document (paths, operation ids, security scheme; no
schemas) without authentication. Hosted mode gates features by the site team's features (``custom_props`` for
properties, ``revenue_goals`` for revenue goals and funnels) less those taken by ``POST /_emulator/plan``; Community
Edition mode never answers 402, refuses revenue goals with 422 and reports every capability but ``SitesAPI`` and
``SSO``. No rate limit applies. ``PUT /funnels`` finds or creates each step's goal, then the funnel by exact name: an
existing one comes back as it is (201), a new one needs the Funnels feature (else 402 and the goals are rolled back);
a step refused by the plan (Props, RevenueGoals) answers the same Funnels 402 text. Deleting a goal removes it from
every funnel, and a funnel left with fewer than two steps is deleted.

Outside those two APIs (and for every Sites API path in Community Edition mode) the server answers like
Phoenix's router: a GET reaches the HTML dashboard catch-all (404 page, 406 for a JSON-only Accept, 302 to
/register without a user), other methods get the generic 404 (JSON ``{"status", "message"}`` or HTML).

Known simplifications: valid time zones are the IANA names of ``zoneinfo`` plus ``UTC``, ``GMT`` and ``Z``
(no Timex offsets or POSIX strings); currency codes are a fixed ISO 4217 list; string lengths count code
points, not graphemes; a non-string ``site_id`` names no site (the real plug crashes); the goal limit is
checked after the find step and reported alone; SSO users, member limits and the "Something went wrong"
fallbacks are not modelled. Plugins API: a 422 for a body that fits no ``oneOf`` alternative (goals, custom
properties) lists only the errors of the shape the body names (by ``goal_type``, ``goals``, ``custom_props``),
where the server lists every alternative's errors and a "Failed to cast value to one of" entry; JSON pointers of
schema errors are the emulator's choice where the API file gives none; hosted capabilities map the emulator's
team features onto the 10 flags (``Funnels``, ``RevenueGoals``, ``SiteSegments`` follow ``revenue_goals``;
``SSO`` and ``ConsolidatedView`` are false); ``/api/plugins/spec/swagger-ui`` is not served; funnels follow the
upstream controller and view but not its full validation.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

if __name__ == '__main__' and not __package__:
    # Run as a script: load this folder as the package "emulator", so that its modules import each other relatively.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from emulator.server import main
    raise SystemExit(main())

# pylint: disable=wrong-import-position
from .model import (DEFAULT_TEAM_NAME, FEATURES, MAIN_USER_EMAIL, TEAM_ROLES, UUID_RE, ApiKey, Config, Guest, RateLimiter,
                    SharedLink, Site, State, default_tracker_config, hash_password, nanoid)
from .phoenix import (HTML_TYPE, JSON_TYPE, REDIRECT_PAGE, PhoenixError, Response, decode_pairs, describe_body, html_response,
                      json_response, negotiate, parse_body, render_error_view)
from .plugins_api import FEATURE_NAMES, PluginsApi, new_raw_token
from .sites_api import MSG_CRASH, SitesApi
from .tracker import Tracker


# ---------------------------------------------------------------------------------------------------------------
# Emulator: request dispatch, control API, server lifecycle
# ---------------------------------------------------------------------------------------------------------------

class Request(NamedTuple):
    method: str
    path: str
    query: str
    headers: object  # http.client.HTTPMessage
    body: bytes


@dataclass
class Fault:
    id: int
    method: str | None
    path: str | None
    path_prefix: str | None
    path_regex: str | None
    response: Response | None
    delay: float
    count: int | None
    reset_connection: bool

    def matches(self, method, path):
        return ((self.method is None or self.method == method)
                and (self.path is None or self.path == path)
                and (self.path_prefix is None or path.startswith(self.path_prefix))
                and (self.path_regex is None or re.search(self.path_regex, path) is not None))

    def as_json(self):
        return {'id': self.id, 'method': self.method, 'path': self.path, 'path_prefix': self.path_prefix,
                'path_regex': self.path_regex, 'status': self.response.status if self.response else None,
                'delay': self.delay, 'count': self.count, 'reset_connection': self.reset_connection}


def hide_passwords(body):
    """A logged body with every ``password`` value replaced: the server stores a link password only as a hash."""
    if isinstance(body, dict):
        return {key: '********' if key == 'password' and value else hide_passwords(value) for key, value in body.items()}
    if isinstance(body, list):
        return [hide_passwords(item) for item in body]
    return body


def parse_key_spec(spec):
    """``KEY:SCOPE[,SCOPE...]`` as given to --key and --team-key."""
    token, scopes = spec.partition(':')[::2]
    if not token or not scopes:
        raise ValueError(f'expected KEY:SCOPES, got {spec!r}')
    return token, tuple(scope.strip() for scope in scopes.split(','))


class Emulator:
    """The emulated server: state, configuration, rate counters, request log and faults behind one lock."""

    def __init__(self, api_key, keys=(), team_keys=(), community_edition=False, has_user=True, **config):
        self.lock = threading.RLock()
        self.config = Config()
        self.config.update(dict(config, edition='ce' if community_edition else 'hosted', has_user=has_user))
        self.default_team_uuid = str(uuid.uuid4())
        self.cli_keys = {api_key: ApiKey(api_key, 'main', MAIN_USER_EMAIL, ('sites:provision:*',))}
        for index, spec in enumerate(keys, 1):
            token, scopes = parse_key_spec(spec)
            self.cli_keys[token] = ApiKey(token, f'key{index}', MAIN_USER_EMAIL, scopes)
        for index, spec in enumerate(team_keys, 1):
            token, scopes = parse_key_spec(spec)
            self.cli_keys[token] = ApiKey(token, f'team-key{index}', MAIN_USER_EMAIL, scopes, self.default_team_uuid)
        self.api = SitesApi(self)
        self.plugins = PluginsApi(self)
        self.tracker = Tracker(self)
        self.base_url = None
        self._server = None
        self._thread = None
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------------------------

    def serve(self, host='127.0.0.1', port=0):
        """Start serving in a daemon thread; sets ``base_url``."""
        self._server = _Server((host, port), _Handler)
        self._server.emulator = self
        self.base_url = f'http://{host}:{self._server.server_address[1]}'
        # A short poll interval keeps stop() quick.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05},
                                        name='plausible-emulator', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    # -- shared services -------------------------------------------------------------------------------------

    def now(self):
        return time.time() + self.clock_offset

    def find_key(self, authorization):
        """The key of a ``Bearer`` Authorization header (the token is whitespace-trimmed), or None."""
        if not authorization or not authorization.startswith('Bearer '):
            return None
        token = authorization[len('Bearer '):].strip()
        return self.cli_keys.get(token) or self.state.keys.get(token)

    def key_label(self, authorization):
        """The non-secret name of the key a request used, for the request log."""
        if not authorization or not authorization.startswith('Bearer '):
            return 'none'
        key = self.find_key(authorization)
        return key.label if key else 'unknown'

    def request_labels(self, request):
        """The API a request was for (``sites``, ``plugins`` or None) and the non-secret name of its credential."""
        path = request.path
        if path == '/api/plugins' or path.startswith('/api/plugins/'):
            return 'plugins', self.plugins.key_label(request.headers.get_all('Authorization') or [])
        api = 'sites' if path == '/api/v1/sites' or path.startswith('/api/v1/sites/') else None
        return api, self.key_label(request.headers.get('Authorization'))

    # -- control operations (also the in-process API) --------------------------------------------------------

    def reset(self):
        with self.lock:
            self.state = State(self.default_team_uuid)
            self.limiter = RateLimiter()
            self.log = []
            self.events = []
            self.faults = []
            self.clock_offset = 0.0
            self._next_log_id = 0
            self._next_fault_id = 0

    def snapshot(self):
        with self.lock:
            self.state.expire_renames(self.now())
            return {
                'config': self.config_json(),
                'clock': self.clock_json(),
                'users': [{'email': user.email, 'super_admin': user.super_admin} for user in self.state.users.values()],
                'teams': [{'id': team.uuid, 'name': team.name, 'setup': team.setup, 'features': sorted(team.features),
                           'features_off': sorted(team.features_off), 'locked': team.locked, 'hourly_limit': team.hourly_limit, 'site_limit': team.site_limit,
                           'members': [{'email': email, 'role': role} for email, role in team.members.items()]}
                          for team in self.state.teams],
                'sites': [self.site_state(site) for site in self.state.sites],
            }

    def site_state(self, site):
        return {
            'domain': site.domain, 'timezone': site.timezone, 'team_id': site.team.uuid, 'consolidated': site.consolidated,
            'domain_changed_from': site.domain_changed_from, 'domain_changed_at': site.domain_changed_at,
            'custom_properties': None if site.allowed_props is None else list(site.allowed_props),
            'tracker_script_configuration': None if site.tracker is None else dict(site.tracker),
            'goals': [{'id': goal.id, 'display_name': goal.display_name, 'goal_type': goal.goal_type,
                       'event_name': goal.event_name, 'page_path': goal.page_path,
                       'scroll_threshold': goal.scroll_threshold, 'custom_props': dict(goal.custom_props),
                       'currency': goal.currency} for goal in site.goals],
            'shared_links': [{'id': link.id, 'name': link.name, 'slug': link.slug, 'url': self.api.shared_link_url(site, link),
                              'password_protected': link.password_protected} for link in site.shared_links],
            'guests': [{'email': guest.email, 'role': guest.role, 'status': guest.status} for guest in site.guests],
            'funnels': [{'id': funnel.id, 'name': funnel.name, 'steps': [goal.id for goal in funnel.steps]}
                        for funnel in site.funnels],
        }

    def seed(self, spec):
        """Create fixtures (see the module docstring); all or nothing."""
        with self.lock:
            backup = copy.deepcopy(self.state)
            try:
                return self._seed(spec)
            except Exception:
                self.state = backup
                raise

    def _seed(self, spec):
        state = self.state
        created = {'users': [], 'teams': [], 'sites': [], 'keys': []}
        for entry in spec.get('users', ()):
            created['users'].append(state.add_user(entry['email'], bool(entry.get('super_admin'))).email)
        for entry in spec.get('teams', ()):
            team = self._seed_team(entry)
            created['teams'].append({'id': team.uuid, 'name': team.display_name})
        for entry in spec.get('sites', ()):
            created['sites'].append(self._seed_site(entry).domain)
        for entry in spec.get('keys', ()):
            user = state.add_user(entry.get('user', MAIN_USER_EMAIL))
            team_uuid = self._team_ref(entry['team']).uuid if entry.get('team') else None
            label = entry.get('label') or f'seed{len(state.keys) + 1}'
            state.keys[entry['key']] = ApiKey(entry['key'], label, user.email,
                                              tuple(entry.get('scopes', ('sites:provision:*',))), team_uuid)
            created['keys'].append(label)
        return created

    def _team_ref(self, ref):
        team = self.state.team_by_uuid(ref) or next((t for t in self.state.teams if ref in (t.name, t.display_name)), None)
        if team is None:
            raise ValueError(f'unknown team {ref!r}')
        return team

    def _seed_team(self, entry):
        state = self.state
        team_uuid = entry.get('id')
        if team_uuid is not None and not UUID_RE.fullmatch(str(team_uuid).lower()):
            raise ValueError(f'team id {team_uuid!r} is not a UUID')
        team = state.team_by_uuid(team_uuid)
        if team is None:
            owner = state.add_user(entry.get('owner', MAIN_USER_EMAIL)).email
            team = state.add_team(owner, team_uuid and team_uuid.lower(), entry.get('name', DEFAULT_TEAM_NAME), 'name' in entry)
        for name in ('name', 'setup', 'locked', 'hourly_limit', 'site_limit'):
            if name in entry:
                setattr(team, name, entry[name])
        if 'features' in entry:
            unknown = set(entry['features']) - set(FEATURES)
            if unknown:
                raise ValueError(f'unknown features {sorted(unknown)}')
            team.features = set(entry['features'])
        for email, role in entry.get('members', {}).items():
            if role not in TEAM_ROLES:
                raise ValueError(f'unknown role {role!r}')
            team.members[state.add_user(email).email] = role
        return team

    def _seed_site(self, entry):
        state = self.state
        team = self._team_ref(entry['team']) if entry.get('team') else state.teams[0]
        site = Site(state.next_id('site'), entry['domain'], entry.get('timezone', 'Etc/UTC'), team,
                    consolidated=bool(entry.get('consolidated')), allowed_props=entry.get('custom_properties'))
        if entry.get('domain_changed_from'):
            site.domain_changed_from = entry['domain_changed_from']
            site.domain_changed_at = self.now() - entry.get('domain_changed_seconds_ago', 0)
        if 'tracker_script_configuration' in entry:
            site.tracker = dict(default_tracker_config(), **entry['tracker_script_configuration'])
        state.sites.append(site)
        for goal in entry.get('goals', ()):
            state.add_goal(site, **goal)
        for link in entry.get('shared_links', ()):
            link = link if isinstance(link, dict) else {'name': link}
            password = link.get('password')
            site.shared_links.append(SharedLink(state.next_id('shared_link'), link['name'], nanoid(),
                                                None if password is None else hash_password(password)))
        for funnel in entry.get('funnels', ()):
            steps = [next(goal for goal in site.goals if step in (goal.event_name, goal.page_path)) for step in funnel['steps']]
            state.add_funnel(site, funnel['name'], steps)
        for guest in entry.get('guests', ()):
            status = guest.get('status', 'accepted')
            if status not in ('accepted', 'invited') or guest.get('role') not in ('viewer', 'editor'):
                raise ValueError(f'bad guest {guest!r}')
            if status == 'accepted':
                team.members.setdefault(state.add_user(guest['email']).email, 'guest')
            site.guests.append(Guest(state.next_id('guest' if status == 'accepted' else 'invitation'),
                                     guest['email'], guest['role'], status))
        return site

    def create_plugin_token(self, domain, description='Ansible', token=None):
        """Make a Plugins API token for the site ``domain`` (as the dashboard does) and return the raw token.

        ``token`` chooses the raw value (any string works, like a row inserted by hand); by default a new one with the
        edition's prefix. Only the SHA-256 and the last 4 characters are kept.
        """
        with self.lock:
            site = self.state.find_site(domain)
            if site is None:
                raise ValueError(f'no site {domain!r}')
            if not isinstance(description, str) or not description.strip():
                raise ValueError('a description is required')
            if token is not None and (not isinstance(token, str) or not token):
                raise ValueError('token must be a non-empty string')
            raw = token if token is not None else new_raw_token(self.config.edition)
            self.state.add_plugin_token(site, raw, description, self.now())
            return raw

    def set_plan(self, domain, features_off):
        """Take capability features (``Funnels``, ``Props``..) from the plan of the team of the site ``domain``."""
        with self.lock:
            site = self.state.find_site(domain)
            if site is None:
                raise ValueError(f'no site {domain!r}')
            unknown = set(features_off) - set(FEATURE_NAMES)
            if not isinstance(features_off, list) or unknown:
                raise ValueError(f'features_off must be a list of {", ".join(FEATURE_NAMES)} (unknown: {sorted(unknown)})')
            site.team.features_off = set(features_off)
            return sorted(site.team.features_off)

    def plugin_tokens(self):
        """The stored tokens (never their raw values), oldest first."""
        with self.lock:
            return [{'id': token.id, 'label': token.label, 'domain': token.site.domain, 'description': token.description,
                     'hint': token.hint, 'inserted_at': token.inserted_at, 'last_used_at': token.last_used_at}
                    for token in self.state.plugin_tokens]

    def revoke_plugin_tokens(self, token_id=None, token=None, domain=None):
        """Revoke the token with this id, or this raw token, or every token of the site ``domain``; returns how many."""
        with self.lock:
            if token_id is not None:
                doomed = [stored for stored in self.state.plugin_tokens if stored.id == token_id]
            elif token is not None:
                doomed = [self.state.find_plugin_token(token.encode())]
            elif domain is not None:
                site = self.state.find_site(domain)
                doomed = [stored for stored in self.state.plugin_tokens if site is not None and stored.site is site]
            else:
                raise ValueError('give one of "id", "token" or "domain"')
            doomed = [stored for stored in doomed if stored is not None]
            self.state.plugin_tokens = [stored for stored in self.state.plugin_tokens if stored not in doomed]
            return len(doomed)

    def add_fault(self, spec):
        """Register a fault (see the module docstring); returns its id."""
        with self.lock:
            has_response = any(name in spec for name in ('status', 'body', 'json'))
            response = None
            if has_response:
                if 'json' in spec:
                    body, content_type = json.dumps(spec['json']).encode(), JSON_TYPE
                elif 'body' in spec:
                    body, content_type = str(spec['body']).encode(), 'text/plain; charset=utf-8'
                else:
                    body, content_type = b'', None
                response = Response(int(spec.get('status', 200)), body, spec.get('content_type', content_type),
                                    tuple(spec.get('headers', {}).items()))
            if spec.get('path_regex') is not None:
                re.compile(spec['path_regex'])
            self._next_fault_id += 1
            count = spec.get('count', 1)
            fault = Fault(self._next_fault_id, spec.get('method'), spec.get('path'), spec.get('path_prefix'),
                          spec.get('path_regex'), response, float(spec.get('delay', 0)),
                          None if count is None else int(count), bool(spec.get('reset_connection')))
            self.faults.append(fault)
            return fault.id

    def list_faults(self):
        with self.lock:
            return [fault.as_json() for fault in self.faults]

    def clear_faults(self):
        with self.lock:
            self.faults.clear()

    def take_fault(self, method, path):
        """The first fault matching this request, with one use consumed."""
        with self.lock:
            fault = next((fault for fault in self.faults if fault.matches(method, path)), None)
            if fault is not None and fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            return fault

    def set_config(self, values):
        with self.lock:
            self.config.update(values)
            return self.config_json()

    def config_json(self):
        return dict(vars(self.config))

    def shift_clock(self, advance=None, offset=None):
        with self.lock:
            if offset is not None:
                self.clock_offset = float(offset)
            if advance is not None:
                self.clock_offset += float(advance)
            return self.clock_json()

    def clock_json(self):
        return {'offset': self.clock_offset, 'now': self.now()}

    def requests(self):
        with self.lock:
            return [dict(entry) for entry in self.log]

    def accepted_events(self):
        with self.lock:
            return [dict(event) for event in self.events]

    def clear_requests(self):
        with self.lock:
            self.log.clear()

    def record(self, request, status, fault=False):
        with self.lock:
            self._next_log_id += 1
            api, key = self.request_labels(request)
            self.log.append({
                'id': self._next_log_id, 'time': self.now(), 'method': request.method, 'path': request.path, 'api': api,
                'query': decode_pairs(urllib.parse.parse_qsl(request.query, keep_blank_values=True)),
                'body': hide_passwords(describe_body(request.headers.get('Content-Type'), request.body)),
                'status': status, 'key': key, 'fault': fault,
                'headers': {name: request.headers.get(name) for name in ('accept', 'content-type', 'user-agent')},
            })

    # -- request handling ------------------------------------------------------------------------------------

    def control(self, method, path, body):
        """The /_emulator/ API: one operation per route; bad input gets 400, an operation without result ``{"ok": true}``."""
        operations = {
            ('POST', 'reset'): lambda spec: self.reset(),
            ('GET', 'state'): lambda spec: self.snapshot(),
            ('POST', 'seed'): self.seed,
            ('GET', 'requests'): lambda spec: self.requests(),
            ('DELETE', 'requests'): lambda spec: self.clear_requests(),
            ('GET', 'events'): lambda spec: self.accepted_events(),
            ('GET', 'faults'): lambda spec: self.list_faults(),
            ('POST', 'faults'): lambda spec: {'id': self.add_fault(spec)},
            ('DELETE', 'faults'): lambda spec: self.clear_faults(),
            ('GET', 'config'): lambda spec: self.set_config({}),
            ('POST', 'config'): self.set_config,
            ('GET', 'clock'): lambda spec: self.shift_clock(),
            ('POST', 'clock'): lambda spec: self.shift_clock(spec.get('advance'), spec.get('offset')),
            ('POST', 'plugin-tokens'): lambda spec: {'token': self.create_plugin_token(
                spec['domain'], spec.get('description', 'Ansible'), spec.get('token'))},
            ('GET', 'plugin-tokens'): lambda spec: self.plugin_tokens(),
            ('POST', 'plan'): lambda spec: {'features_off': self.set_plan(spec['domain'], spec['features_off'])},
            ('DELETE', 'plugin-tokens'): lambda spec: {'revoked': self.revoke_plugin_tokens(
                spec.get('id'), spec.get('token'), spec.get('domain'))},
        }
        operation = operations.get((method, path[len('/_emulator/'):]))
        if operation is None:
            return json_response(404, {'error': f'unknown control route {method} {path}'})
        try:
            spec = json.loads(body) if body.strip() else {}
            if not isinstance(spec, dict):
                raise ValueError('expected a JSON object')
            result = operation(spec)
        except (ValueError, KeyError, TypeError, AttributeError, re.error) as error:
            return json_response(400, {'error': f'bad control request: {error!r}'})
        return json_response(200, {'ok': True} if result is None else result)

    def handle(self, request):
        """Answer one API request (endpoint, router, pipeline, plug, controller) with a Response."""
        accept = request.headers.get('Accept')
        segments = [urllib.parse.unquote(part) for part in request.path.split('/') if part]
        with self.lock:
            self.state.expire_renames(self.now())
            # The tracker plug and the event controller read the raw body themselves, before Plug.Parsers.
            response = self.tracker.handle(request, segments)
            if response is not None:
                return response
            try:
                # Plug.Parsers runs in the endpoint, before routing.
                body_params = parse_body(request.method, request.headers.get('Content-Type'), request.body)
            except PhoenixError as error:
                return render_error_view(error.status, accept)
            query_params = decode_pairs(urllib.parse.parse_qsl(request.query, keep_blank_values=True))
            for api in (self.api, self.plugins):
                response = api.handle(request, segments, query_params, body_params)
                if response is not None:
                    return response
            return self.no_route(request.method, accept)

    def crash_response(self, path):
        """The answer of the server's crash handler of the API this path belongs to."""
        if path.startswith('/api/plugins/'):
            return self.plugins.crash_response()
        return json_response(500, {'error': MSG_CRASH})

    def no_route(self, method, accept):
        """Outside the Sites API: GETs reach the dashboard catch-all (HTML pipeline), other methods no route."""
        if method != 'GET':
            return render_error_view(404, accept)
        if negotiate(accept, ('html',)) is None:
            return render_error_view(406, accept)
        if self.config.edition == 'ce' and not self.config.has_user:
            return Response(302, REDIRECT_PAGE.format('/register').encode(), HTML_TYPE, (('Location', '/register'),))
        return html_response(404, "Oops! There's nothing here")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def setup(self):
        super().setup()
        # Headers and body are separate writes: without this, Nagle's algorithm and delayed ACKs stall keep-alive clients.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self):
        return 'PlausibleEmulator'

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_OPTIONS(self):
        self.dispatch()

    def log_request(self, code='-', size='-'):
        """No access log on stderr: the request log is served by the control API."""

    def read_body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    return b''.join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get('Content-Length') or 0))

    def dispatch(self):
        emulator = self.server.emulator
        body = self.read_body()
        method = 'GET' if self.command == 'HEAD' else self.command  # Plug.Head
        path, query = self.path.partition('?')[::2]
        if path.startswith('/_emulator/'):
            self.send(emulator.control(method, path, body))
            return
        request = Request(method, path, query, self.headers, body)
        fault = emulator.take_fault(method, path)
        if fault is not None:
            time.sleep(fault.delay)
            if fault.reset_connection:
                emulator.record(request, None, fault=True)
                self.reset_connection()
                return
            if fault.response is not None:
                emulator.record(request, fault.response.status, fault=True)
                self.send(fault.response)
                return
        try:
            response = emulator.handle(request)
        except Exception:
            # A bug of the emulator: report it on stderr and answer like the server's crash handler.
            self.log_error('emulator error on %s %s\n%s', method, path, traceback.format_exc())
            response = emulator.crash_response(path)
        emulator.record(request, response.status)
        self.send(response)

    def send(self, response):
        self.send_response(response.status)
        if response.content_type:
            self.send_header('Content-Type', response.content_type)
        for name, value in response.headers:
            self.send_header(name, str(value))
        self.send_header('Content-Length', str(len(response.body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(response.body)

    def reset_connection(self):
        # SO_LINGER with a zero timeout makes close() send a TCP RST.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.close_connection = True
        self.connection.close()


def start(host='127.0.0.1', port=0, *, api_key, **options):
    """Start an emulator in a daemon thread; ``options`` are the keyword arguments of :class:`Emulator`."""
    return Emulator(api_key, **options).serve(host, port)


def glue_key_values(argv):
    """Write ``--api-key VALUE`` as ``--api-key=VALUE``: keys are URL-safe base64, and one starting with ``-``
    would otherwise be taken by argparse for an option."""
    glued, args = [], iter(argv)
    for arg in args:
        glued.append(f'{arg}={next(args, "")}' if arg in ('--api-key', '--key', '--team-key') else arg)
    return glued


def seconds(text):
    """A number of seconds for argparse; whole numbers stay integers (they show as such in the config)."""
    value = float(text)
    return int(value) if value.is_integer() else value


def main(argv=None):
    parser = argparse.ArgumentParser(description='Emulator of the Plausible Sites API and Plugins API.')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--api-key', required=True)
    parser.add_argument('--key', action='append', default=[], metavar='KEY:SCOPES')
    parser.add_argument('--team-key', action='append', default=[], metavar='KEY:SCOPES')
    parser.add_argument('--community-edition', action='store_true')
    parser.add_argument('--no-user', action='store_true')
    parser.add_argument('--hourly-limit', type=int, default=600)
    parser.add_argument('--burst-limit', type=int, default=60)
    parser.add_argument('--burst-period', type=seconds, default=10)
    parser.add_argument('--hour-period', type=seconds, default=3600)
    parser.add_argument('--goal-limit', type=int, default=1000)
    parser.add_argument('--site-limit', type=int, default=None)
    args = parser.parse_args(glue_key_values(sys.argv[1:] if argv is None else argv))
    try:
        emulator = start(args.host, args.port, api_key=args.api_key, keys=args.key, team_keys=args.team_key,
                         community_edition=args.community_edition, has_user=not args.no_user,
                         hourly_limit=args.hourly_limit, burst_limit=args.burst_limit, burst_period=args.burst_period,
                         hour_period=args.hour_period, goal_limit=args.goal_limit, site_limit=args.site_limit)
    except ValueError as error:
        parser.error(str(error))
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *args: stopping.set())
    print(emulator.base_url, flush=True)
    stopping.wait()
    emulator.stop()
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
