# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Emulator of Plausible Analytics' Sites API (``/api/v1/sites``), the test double of this collection.

It follows ``plausible-sites-api.md``: same routes, check order, statuses, byte-exact error bodies,
normalisation, idempotency, pagination and rate limits. Standard library only, Python >= 3.11.

Run it::

    python3 tests/emulator/server.py --host 127.0.0.1 --port 0 --api-key KEY [options]

When ready it prints one line, its base URL (``http://127.0.0.1:43127``), and serves until SIGTERM or SIGINT.

Options:
    --api-key KEY              main key: legacy (no team), scope ``sites:provision:*``, owned by the default
                               user ``user@example.com``, who owns the default team "My personal sites"
    --key KEY:SCOPES           extra legacy key of the default user (repeatable; SCOPES comma-separated),
                               e.g. ``--key RO:stats:read:*``; logged as ``key1``, ``key2``, ...
    --team-key KEY:SCOPES      extra key scoped to the default team (repeatable); logged as ``team-key1``, ...
    --community-edition        behave like a self-hosted Community Edition server (no Sites API)
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
    emu.reset(); emu.snapshot(); emu.seed({...}); emu.requests(); emu.clear_requests()
    emu.add_fault({...}); emu.list_faults(); emu.clear_faults(); emu.set_config({...}); emu.shift_clock(advance=60)
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
    "currency"}], "shared_links": [{"name", "slug", "url"}], "guests": [{"email", "role", "status"}]}]}``
    (in creation order). The default user's e-mail is ``user@example.com``.
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
                    "shared_links": ["Friends"], "guests": [{"email": "user@example.com", "role": "editor",
                    "status": "accepted"}], "domain_changed_from": "old.test", "domain_changed_seconds_ago": 0}],
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
    The log of API requests, oldest first: ``[{"id", "time", "method", "path", "query": {..}, "body",
    "status", "key", "fault", "headers": {"accept", "content-type", "user-agent"}}]``. ``body`` is the
    parsed JSON or form body, the raw text, or null. ``key`` is a label, never the key: ``main``,
    ``key1``.., ``team-key1``.., a seeded label, ``none`` (no Bearer header) or ``unknown``.
    The Authorization header is never recorded. ``status`` is null for a reset connection; ``time`` is epoch
    seconds on the emulator's clock.
``POST /_emulator/faults`` / ``GET /_emulator/faults`` / ``DELETE /_emulator/faults``
    ``{"method": "PUT", "path": "/api/v1/sites/goals" | "path_prefix": "/api/v1/sites" | "path_regex": "...",
    "status": 502, "body": "<raw text>" | "json": {...}, "content_type": "text/html", "headers": {...},
    "delay": 1.5, "count": 1, "reset_connection": false}``. Matching: ``method`` (default any) and one of
    ``path`` (exact, without query), ``path_prefix``, ``path_regex`` (``re.search``) or none (any API path).
    ``count`` is how many matching requests it applies to (default 1, null = forever); the first
    matching fault wins. ``delay`` waits before answering. With ``status`` (or ``body``/``json``) the canned
    response is sent (status 200 by default, an empty body without ``body``/``json``); with
    ``reset_connection`` the socket is closed with a TCP reset; either way the state is not touched.
    A fault with only ``delay`` delays, then handles the request normally, like a slow server.
    Requests answered by a fault (canned response or reset) are logged with ``"fault": true``; a delay-only fault
    is logged as the normal request it becomes. POST -> ``{"id": n}``; GET -> the pending faults;
    DELETE -> ``{"ok": true}``.
``GET /_emulator/config`` / ``POST /_emulator/config``
    ``{"edition": "hosted" | "ce", "has_user", "hourly_limit", "burst_limit", "burst_period", "hour_period",
    "goal_limit", "site_limit"}``; POST changes the keys given and answers the whole config.
``GET /_emulator/clock`` / ``POST /_emulator/clock``
    ``{"advance": seconds}`` adds to the clock offset, ``{"offset": seconds}`` sets it.
    -> ``{"offset": seconds, "now": epoch seconds}``. The offset moves rate windows and the 72 h rename grace.

Outside ``/api/v1/sites`` (and for every Sites API path in Community Edition mode) the server answers like
Phoenix's router: a GET reaches the HTML dashboard catch-all (404 page, 406 for a JSON-only Accept, 302 to
/register without a user), other methods get the generic 404 (JSON ``{"status", "message"}`` or HTML).

Known simplifications: valid time zones are the IANA names of ``zoneinfo`` plus ``UTC``, ``GMT`` and ``Z``
(no Timex offsets or POSIX strings); currency codes are a fixed ISO 4217 list; string lengths count code
points, not graphemes; a non-string ``site_id`` names no site (the real plug crashes); the goal limit is
checked after the find step and reported alone; SSO users, member limits and the "Something went wrong"
fallbacks are not modelled.
"""

from __future__ import annotations

import argparse
import base64
import copy
import functools
import json
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import zoneinfo
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

MAIN_USER_EMAIL = 'user@example.com'
DEFAULT_TEAM_NAME = 'My personal sites'
FEATURES = ('sites_api', 'stats_api', 'shared_links', 'custom_props', 'revenue_goals')
TEAM_ROLES = ('owner', 'admin', 'editor', 'viewer', 'billing')
READ_ROLES = ('owner', 'admin', 'editor', 'viewer')
WRITE_ROLES = ('owner', 'admin', 'editor')
GUEST_MANAGER_ROLES = ('owner', 'admin')
OWNER_ROLES = ('owner',)
RENAME_GRACE_SECONDS = 72 * 3600
PAGE_LIMIT = 100
MAX_CUSTOM_PROPS = 300
MAX_PROP_KEY_LENGTH = 300
MAX_PROP_VALUE_LENGTH = 2000
MAX_GOAL_CUSTOM_PROPS = 3
MAX_EVENT_NAME_LENGTH = 120
VARCHAR_LENGTH = 255
NANOID_ALPHABET = '_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

MSG_MISSING_KEY = 'Missing API key. Please use a valid Plausible API key as a Bearer Token.'
MSG_MISSING_SITE_ID = 'Missing site ID. Please provide the required site_id parameter with your request.'
MSG_INVALID_KEY = "Invalid API key. Please make sure you're using a valid API key with access to the resource you've requested."
MSG_CONSOLIDATED = 'This operation is unavailable for a consolidated view'
MSG_LOCKED = ('This Plausible site is locked due to missing active subscription. '
              'In order to access it, the site owner should subscribe to a suitable plan')
MSG_FEATURE = ("The account that owns this API key does not have access to {0}. Please make sure you're using the API key "
               'of a subscriber account and that the subscription plan includes {0}')
MSG_HOURLY = 'Too many API requests. The limit is {} per hour. Please contact us to request more capacity.'
MSG_BURST = 'Too many API requests in a short period of time. The limit is {} per {} seconds. Please throttle your requests.'
MSG_CRASH = 'internal server error'
MSG_SITE_NOT_FOUND = 'Site could not be found'
MSG_GOAL_NOT_FOUND = 'Goal could not be found'
MSG_DOMAIN_TAKEN = ("This domain cannot be registered. Perhaps one of your colleagues registered it? "
                    "If that's not the case, please contact support@plausible.io\n")
MSG_DOMAIN_FORMAT = 'only letters, numbers, slashes, underscores and period allowed'
MSG_DOMAIN_RESERVED = "must not contain URI reserved characters :?#[]@!$&'()*+,;="
MSG_NO_PLAN_PROPS = 'Your current subscription plan does not include Custom Properties'

RESERVED_DOMAIN_CHARS = frozenset(":?#[]@!$&'()*+,;=")
OTHER_DOMAIN_CHARS = frozenset('-.\\/_:')
INTERNAL_PROPS = ('url', 'path', 'search_query')
RESERVED_EVENT_NAMES = ('engagement', '__journey_end__')
RESERVED_SHARED_LINK_NAMES = ('WordPress - Shared Dashboard',)
INSTALLATION_TYPES = ('manual', 'wordpress', 'gtm', 'npm')
TRACKER_BOOLEANS = ('track_404_pages', 'hash_based_routing', 'outbound_links', 'file_downloads',
                    'revenue_tracking', 'tagged_events', 'form_submissions', 'pageview_props')
# Options whose switch creates or deletes a goal with this event name.
TRACKER_GOALS = {'outbound_links': 'Outbound Link: Click', 'file_downloads': 'File Download',
                 'form_submissions': 'Form: Submission', 'track_404_pages': '404'}
CURRENCIES = frozenset('''
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
    CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD
    HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
'''.split())
INTEGER_RE = re.compile(r'[+-]?[0-9]+')
UUID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
REASONS = {302: 'Found', 400: 'Bad Request', 404: 'Not Found', 406: 'Not Acceptable', 500: 'Internal Server Error'}
JSON_TYPE = 'application/json; charset=utf-8'
HTML_TYPE = 'text/html; charset=utf-8'
HTML_PAGE = '''<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Plausible Analytics</title></head>
<body>
<div class="container text-center mt-24">
  <h1 class="text-5xl font-black dark:text-gray-100">{status}</h1>
  <div class="my-4 text-xl dark:text-gray-100">{message}</div>
  <a href="/">Go to homepage</a>
</div>
</body>
</html>
'''
REDIRECT_PAGE = '<html><body>You are being <a href="{0}">redirected</a>.</body></html>'


# ---------------------------------------------------------------------------------------------------------------
# Errors and responses
# ---------------------------------------------------------------------------------------------------------------

class ApiError(Exception):
    """An error of the plug or the controller: ``{"error": message}``."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Crash(ApiError):
    """An exception inside the controller, answered by its error handler with the plug status of the exception."""

    def __init__(self, status=500):
        super().__init__(status, MSG_CRASH)


class PhoenixError(Exception):
    """An error rendered by Phoenix's generic error view (no route, not acceptable, unparsable body)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class Response(NamedTuple):
    status: int
    body: bytes = b''
    content_type: str | None = None
    headers: tuple = ()


def json_response(status, payload):
    return Response(status, json.dumps(payload, ensure_ascii=False, separators=(',', ':')).encode(), JSON_TYPE)


def html_response(status, message):
    return Response(status, HTML_PAGE.format(status=status, message=message).encode(), HTML_TYPE)


def render_error_view(status, accept):
    """Phoenix's ``render_errors``: JSON ``{"status", "message"}`` when the client accepts JSON, else HTML."""
    if negotiate(accept, ('html', 'json')) == 'json':
        return json_response(status, {'status': status, 'message': REASONS[status]})
    if status == 404:
        return html_response(404, "Oops! There's nothing here")
    return html_response(status, REASONS[status])


# ---------------------------------------------------------------------------------------------------------------
# Small helpers: content negotiation, parameters, values
# ---------------------------------------------------------------------------------------------------------------

MIME_FORMATS = {'application/json': 'json', 'text/html': 'html'}
FORMAT_TYPES = {'json': 'application', 'html': 'text'}


def negotiate(accept, formats):
    """Phoenix's ``accepts/2``: the format chosen from ``formats`` for an Accept header, or None (406)."""
    if accept is None or accept == '*/*':
        return formats[0]
    if '*/*' in accept and 'html' in formats:
        # Phoenix assumes a browser here.
        return 'html'
    candidates = []
    for entry in accept.split(','):
        parts = [part.strip() for part in entry.split(';')]
        media_type, subtype = parts[0].lower().partition('/')[::2]
        if not media_type or not subtype or '/' in subtype:
            continue
        quality = 1.0
        for param in parts[1:]:
            name, value = param.partition('=')[::2]
            if name.strip().lower() == 'q':
                match = re.match(r'\s*[0-9]+(\.[0-9]+)?', value)
                quality = float(match.group()) if match else 1.0
        if media_type == '*' and subtype == '*':
            found = formats[0]
        elif subtype == '*':
            found = next((fmt for fmt in formats if FORMAT_TYPES[fmt] == media_type), None)
        else:
            found = MIME_FORMATS.get(media_type + '/' + subtype)
            found = found if found in formats else None
        if found and quality == 1.0:
            return found
        candidates.append((-quality, entry, found))
    return next((entry[2] for entry in sorted(candidates) if entry[2]), None)


def decode_pairs(pairs):
    """Plug's nested parameters: ``a[b]=1`` gives ``{"a": {"b": "1"}}``, ``a[]=1`` a list; the last value wins."""
    params = {}
    for name, value in pairs:
        match = re.fullmatch(r'([^\[\]]+)((?:\[[^\[\]]*\])*)', name)
        keys = [match.group(1)] + re.findall(r'\[([^\[\]]*)\]', match.group(2)) if match else [name]
        is_list = len(keys) > 1 and keys[-1] == ''
        if is_list:
            keys.pop()
        if '' in keys:
            keys, is_list = [name], False  # an empty key inside the name: keep the name as it is
        target = params
        for key in keys[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        if is_list:
            if not isinstance(target.get(keys[-1]), list):
                target[keys[-1]] = []
            target[keys[-1]].append(value)
        else:
            target[keys[-1]] = value
    return params


def parse_body(method, content_type, raw):
    """Plug.Parsers: the body parameters, or PhoenixError(400) when the body cannot be parsed."""
    if method not in ('POST', 'PUT', 'PATCH', 'DELETE') or not content_type:
        return {}
    mime = content_type.split(';')[0].strip().lower()
    if mime == 'application/json' or mime.endswith('+json'):
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw.decode('utf-8'), parse_constant=_reject_constant)
        except ValueError:
            raise PhoenixError(400) from None
        return value if isinstance(value, dict) else {'_json': value}
    if mime == 'application/x-www-form-urlencoded':
        return decode_pairs(urllib.parse.parse_qsl(raw.decode('utf-8', 'replace'), keep_blank_values=True))
    if mime.startswith('multipart/'):
        return decode_pairs(parse_multipart(content_type, raw))
    return {}


def _reject_constant(name):
    raise ValueError(name)


def describe_body(content_type, raw):
    """A request body for the request log: parsed JSON or form parameters when possible, else the text."""
    if not raw:
        return None
    mime = (content_type or '').split(';')[0].strip().lower()
    try:
        if mime == 'application/json' or mime.endswith('+json'):
            return json.loads(raw.decode('utf-8'))
        if mime == 'application/x-www-form-urlencoded':
            return decode_pairs(urllib.parse.parse_qsl(raw.decode('utf-8', 'replace'), keep_blank_values=True))
        if mime.startswith('multipart/'):
            return decode_pairs(parse_multipart(content_type, raw))
    except (ValueError, PhoenixError):
        pass  # logged as text below
    return raw.decode('utf-8', 'replace')


def parse_multipart(content_type, raw):
    message = BytesParser(policy=HTTP_POLICY).parsebytes(
        b'Content-Type: ' + content_type.encode('latin-1') + b'\r\n\r\n' + raw)
    if not message.is_multipart():
        raise PhoenixError(400)
    pairs = []
    for part in message.iter_parts():
        name = part.get_param('name', header='content-disposition')
        # Uploaded files are not parameters of this API.
        if name and not part.get_filename():
            pairs.append((name, part.get_payload(decode=True).decode('utf-8', 'replace')))
    return pairs


def scope_allows(scopes, required):
    """A key scope minus one trailing ``*`` must be a prefix of the required scope."""
    return any(required.startswith(scope[:-1] if scope.endswith('*') else scope) for scope in scopes)


def truthy(value):
    """Elixir truthiness: only nil and false are falsy."""
    return value is not None and value is not False


def nanoid(size=21):
    return ''.join(secrets.choice(NANOID_ALPHABET) for index in range(size))


@functools.cache
def timezones():
    return frozenset(zoneinfo.available_timezones()) | {'Etc/UTC', 'UTC', 'GMT', 'Z'}


def normalize_domain(domain):
    """Site.clean_domain: lower-case, trim, strip schemes, slashes and ``www.`` (every leading repetition)."""
    domain = domain.lower().strip()
    for prefix in ('http://', 'https://'):
        while domain.startswith(prefix):
            domain = domain[len(prefix):]
    domain = domain.strip('/')
    while domain.startswith('www.'):
        domain = domain[4:]
    return domain


def domain_format_errors(domain):
    """Format and reserved-character errors, in validation order (the last one is reported)."""
    errors = []
    if not all(char.isalpha() or char.isdecimal() or char in OTHER_DOMAIN_CHARS for char in domain):
        errors.append('domain: ' + MSG_DOMAIN_FORMAT)
    if any(char in RESERVED_DOMAIN_CHARS for char in domain):
        errors.append('domain: ' + MSG_DOMAIN_RESERVED)
    return errors


def cast_boolean(value):
    """Ecto's boolean cast; raises ValueError for anything else."""
    if value is True or value in ('true', '1'):
        return True
    if value is False or value in ('false', '0'):
        return False
    raise ValueError(value)


def cast_tracker_config(raw):
    """Cast the given configuration keys; the first invalid one is the error (Ecto cast order)."""
    if not isinstance(raw, dict):
        raise Crash(400)  # Ecto.CastError: params must be a map
    changes = {}
    for name in ('installation_type',) + TRACKER_BOOLEANS:
        if name not in raw:
            continue
        value = raw[name]
        try:
            if name == 'installation_type':
                if value is not None and value not in INSTALLATION_TYPES:
                    raise ValueError(value)
                changes[name] = value
            else:
                changes[name] = cast_boolean(value)
        except ValueError:
            raise ApiError(400, f'tracker_script_configuration.{name}: is invalid') from None
    return changes


def default_tracker_config():
    return dict({'id': 'pa-' + nanoid(), 'installation_type': None}, **dict.fromkeys(TRACKER_BOOLEANS, False))


def page_limit(raw):
    """Pagination limit: 0 < limit <= 100 is used, any other integer means 100, a non-integer crashes."""
    if raw is None:
        return PAGE_LIMIT
    if isinstance(raw, str) and INTEGER_RE.fullmatch(raw):
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise Crash(500)
    return raw if 0 < raw <= PAGE_LIMIT else PAGE_LIMIT


def encode_cursor(field_name, value):
    return base64.urlsafe_b64encode(json.dumps({field_name: value}).encode()).decode()


def decode_cursor(field_name, raw):
    if raw is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode()))[field_name]
    except (AttributeError, ValueError, TypeError, KeyError):
        raise Crash(500) from None
    if not isinstance(value, int):
        raise Crash(500)
    return value


def paginate(items, params, sort_key, field_name='id'):
    """Cursor pagination like duffelhq/paginator; ``items`` are sorted by the ascending integer ``sort_key``."""
    limit = page_limit(params.get('limit'))
    after = decode_cursor(field_name, params.get('after'))
    before = decode_cursor(field_name, params.get('before'))
    window = [item for item in items
              if (after is None or sort_key(item) > after) and (before is None or sort_key(item) < before)]
    has_more = len(window) > limit
    page = window[-limit:] if before is not None and after is None else window[:limit]
    first = encode_cursor(field_name, sort_key(page[0])) if page else None
    last = encode_cursor(field_name, sort_key(page[-1])) if page else None
    if after is not None:
        meta_before = first
    elif before is not None:
        meta_before = first if has_more else None
    else:
        meta_before = None
    meta_after = last if before is not None or has_more else None
    return page, {'after': meta_after, 'before': meta_before, 'limit': limit}


# ---------------------------------------------------------------------------------------------------------------
# State model
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class User:
    email: str
    super_admin: bool = False


@dataclass(eq=False)
class Team:
    id: int
    uuid: str
    name: str
    setup: bool
    features: set
    locked: bool = False
    hourly_limit: int | None = None
    site_limit: int | None = None
    members: dict = field(default_factory=dict)  # e-mail -> role; "guest" for guest members

    @property
    def display_name(self):
        return self.name if self.setup else DEFAULT_TEAM_NAME


@dataclass(eq=False)
class Goal:
    id: int
    event_name: str | None
    page_path: str | None
    display_name: str
    custom_props: dict
    currency: str | None = None
    scroll_threshold: int = -1

    @property
    def goal_type(self):
        if self.event_name is not None:
            return 'event'
        return 'scroll' if self.scroll_threshold > -1 else 'page'


@dataclass
class SharedLink:
    name: str
    slug: str


@dataclass
class Guest:
    """An accepted guest membership or a pending guest invitation of one site."""
    id: int
    email: str
    role: str
    status: str  # "accepted" or "invited"

    @property
    def sort_index(self):
        # Accepted guests newest first, then invitations oldest first.
        return -self.id if self.status == 'accepted' else self.id


@dataclass(eq=False)
class Site:
    id: int
    domain: str
    timezone: str
    team: Team
    consolidated: bool = False
    domain_changed_from: str | None = None
    domain_changed_at: float | None = None
    allowed_props: list | None = None
    tracker: dict | None = None
    goals: list = field(default_factory=list)
    shared_links: list = field(default_factory=list)
    guests: list = field(default_factory=list)


@dataclass(frozen=True)
class ApiKey:
    token: str
    label: str
    user_email: str
    scopes: tuple
    team_uuid: str | None = None


class State:
    """Everything the server stores. Callers hold the emulator lock."""

    def __init__(self, default_team_uuid):
        self._ids = {}
        self.users = {}
        self.teams = []
        self.sites = []
        self.keys = {}
        self.add_user(MAIN_USER_EMAIL)
        self.add_team(MAIN_USER_EMAIL, team_uuid=default_team_uuid)

    def next_id(self, kind):
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def add_user(self, email, super_admin=False):
        user = self.users.setdefault(email, User(email))
        user.super_admin = user.super_admin or super_admin
        return user

    def add_team(self, owner, team_uuid=None, name=DEFAULT_TEAM_NAME, setup=False, features=FEATURES):
        team = Team(self.next_id('team'), team_uuid or str(uuid.uuid4()), name, setup, set(features), members={owner: 'owner'})
        self.teams.append(team)
        return team

    def team_by_uuid(self, value):
        """Teams.get: a non-UUID or unknown value is no team."""
        if not isinstance(value, str) or not UUID_RE.fullmatch(value.lower()):
            return None
        return next((team for team in self.teams if team.uuid == value.lower()), None)

    def find_site(self, site_id):
        """The site named by ``site_id``: exact domain, or the old domain during the rename grace."""
        if not isinstance(site_id, str):
            return None
        return next((site for site in self.sites if site_id in (site.domain, site.domain_changed_from)), None)

    def expire_renames(self, now):
        for site in self.sites:
            if site.domain_changed_at is not None and now - site.domain_changed_at >= RENAME_GRACE_SECONDS:
                site.domain_changed_from = site.domain_changed_at = None

    def domain_taken(self, domain, ignore=None, owner=None):
        """Whether another site uses ``domain`` as its domain or pending old domain.

        On create, the pending old domain of a site the creating user owns does not count: it is cleared instead.
        """
        return any(site is not ignore and (site.domain == domain or (site.domain_changed_from == domain
                                                                     and not (owner and self.site_role(owner, site) == 'owner')))
                   for site in self.sites)

    @staticmethod
    def site_role(user, site):
        """Effective role: the guest role if there is one, otherwise the (non-guest) team role."""
        guest = next((g for g in site.guests if g.status == 'accepted' and g.email == user.email), None)
        if guest:
            return guest.role
        role = site.team.members.get(user.email)
        return None if role == 'guest' else role

    @staticmethod
    def is_team_member(user, team):
        return team.members.get(user.email) not in (None, 'guest')

    def remove_guest(self, site, guest):
        site.guests.remove(guest)
        team = site.team
        if guest.status == 'accepted' and team.members.get(guest.email) == 'guest':
            still_guest = any(g.email == guest.email and g.status == 'accepted'
                              for other in self.sites if other.team is team for g in other.guests)
            if not still_guest:
                del team.members[guest.email]

    def remove_site(self, site):
        for guest in list(site.guests):
            self.remove_guest(site, guest)
        self.sites.remove(site)

    def add_goal(self, site, event_name=None, page_path=None, display_name=None, custom_props=None, currency=None,
                 scroll_threshold=-1):
        if display_name is None:
            display_name = event_name if event_name is not None else 'Visit ' + page_path
        goal = Goal(self.next_id('goal'), event_name, page_path, display_name, dict(custom_props or {}), currency,
                    scroll_threshold)
        site.goals.append(goal)
        return goal


# ---------------------------------------------------------------------------------------------------------------
# Configuration and rate limiting
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Config:
    edition: str = 'hosted'
    has_user: bool = True
    hourly_limit: int = 600
    burst_limit: int = 60
    burst_period: float = 10
    hour_period: float = 3600
    goal_limit: int = 1000
    site_limit: int | None = None

    def update(self, values):
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f'unknown config key {name!r}')
            if name == 'edition' and value not in ('hosted', 'ce'):
                raise ValueError('edition must be "hosted" or "ce"')
            if name == 'has_user' and not isinstance(value, bool):
                raise ValueError('has_user must be a boolean')
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            if name not in ('edition', 'has_user') and not is_number and not (name == 'site_limit' and value is None):
                raise ValueError(f'{name} must be a non-negative number')
            setattr(self, name, value)


class RateLimiter:
    """Fixed windows aligned to epoch multiples of the period: bucket = floor(now_ms / period_ms)."""

    def __init__(self):
        self._windows = {}

    def hit(self, counter, period, now):
        """Count one request in the current window and return the count."""
        bucket = int(now * 1000) // max(1, round(period * 1000))
        current_bucket, count = self._windows.get(counter, (bucket, 0))
        count = count + 1 if current_bucket == bucket else 1
        self._windows[counter] = (bucket, count)
        return count


# ---------------------------------------------------------------------------------------------------------------
# The Sites API: routing table, auth plug, controller actions
# ---------------------------------------------------------------------------------------------------------------

class Route(NamedTuple):
    method: str
    pattern: tuple
    action: str
    provisioning: bool  # scope sites:provision:* (else sites:read:*)
    site_context: bool  # requires a site_id (check A2)


# In router order: literal segments before :site_id, and within a method the first match wins.
ROUTES = (
    Route('GET', (), 'list_sites', False, False),
    Route('GET', ('teams',), 'list_teams', False, False),
    Route('GET', ('goals',), 'list_goals', False, True),
    Route('GET', ('custom-props',), 'list_custom_props', False, True),
    Route('GET', ('guests',), 'list_guests', False, True),
    Route('GET', (':site_id',), 'get_site', False, True),
    Route('POST', (), 'create_site', True, False),
    Route('PUT', ('shared-links',), 'find_or_create_shared_link', True, True),
    Route('PUT', ('goals',), 'find_or_create_goal', True, True),
    Route('DELETE', ('goals', ':goal_id'), 'delete_goal', True, True),
    Route('PUT', ('custom-props',), 'add_custom_prop', True, True),
    Route('DELETE', ('custom-props', '*property'), 'delete_custom_prop', True, True),
    Route('PUT', ('guests',), 'find_or_create_guest', True, True),
    Route('DELETE', ('guests', ':email'), 'delete_guest', True, True),
    Route('PUT', (':site_id',), 'update_site', True, True),
    Route('DELETE', (':site_id',), 'delete_site', True, True),
)
API_PREFIX = ('api', 'v1', 'sites')


def match_route(method, segments):
    """The route and its path parameters for a request, or (None, None)."""
    if tuple(segments[:3]) != API_PREFIX:
        return None, None
    for route in ROUTES:
        path_params = match_pattern(route.pattern, segments[3:]) if route.method == method else None
        if path_params is not None:
            return route, path_params
    return None, None


def match_pattern(pattern, segments):
    params = {}
    for index, part in enumerate(pattern):
        if part.startswith('*'):
            # A glob takes every remaining segment, possibly none.
            params[part[1:]] = list(segments[index:])
            return params
        if index >= len(segments):
            return None
        if part.startswith(':'):
            params[part[1:]] = segments[index]
        elif part != segments[index]:
            return None
    return params if len(segments) == len(pattern) else None


@dataclass
class Call:
    """One API request on its way through the plug and the controller."""
    route: Route
    params: dict
    user: User | None = None
    team: Team | None = None  # the team of a team-scoped key


class SitesApi:
    """The plug (checks A1..A8 and rate limits) and the controller actions. Callers hold the emulator lock."""

    def __init__(self, emulator):
        self.emu = emulator

    @property
    def state(self):
        return self.emu.state

    # -- plug ------------------------------------------------------------------------------------------------

    def authorize(self, call, authorization):
        """Run checks A1..A8 in order; on success the call knows its user and the key's team."""
        if authorization is None or not authorization.startswith('Bearer '):
            raise ApiError(401, MSG_MISSING_KEY)
        if call.route.site_context and call.params.get('site_id') in (None, ''):
            raise ApiError(400, MSG_MISSING_SITE_ID)
        key = self.emu.find_key(authorization)
        if key is None:
            raise ApiError(401, MSG_INVALID_KEY)
        user = self.state.users[key.user_email]
        key_team = self.state.team_by_uuid(key.team_uuid)
        site = self.state.find_site(call.params.get('site_id'))
        self.check_rate(key, key_team, site if call.route.site_context else None)
        if call.route.provisioning and not scope_allows(key.scopes, 'sites:provision:*'):
            raise ApiError(401, MSG_INVALID_KEY)
        feature, feature_name = ('sites_api', 'Sites API') if call.route.provisioning else ('stats_api', 'Stats API')
        if site is not None:
            self.check_site_access(user, key_team, site, feature, feature_name)
        team = key_team or self.state.team_by_uuid(call.params.get('team_id'))
        if team is not None:
            self.check_team_access(user, team, feature, feature_name)
        call.user, call.team = user, key_team

    def check_rate(self, key, key_team, site):
        """A4 and A5. The hourly window counts every request with a known key, the burst window only those it let through."""
        config = self.emu.config
        if key_team is None and site is not None and not site.consolidated:
            key_team = site.team
        if key_team is not None:
            limit = config.hourly_limit if key_team.hourly_limit is None else key_team.hourly_limit
            counter = 'team:' + key_team.uuid
        else:
            counter, limit = 'legacy_user:' + key.user_email, config.hourly_limit
        now = self.emu.now()
        if self.emu.limiter.hit((counter, 'hour'), config.hour_period, now) > limit:
            raise ApiError(429, MSG_HOURLY.format(limit))
        if self.emu.limiter.hit((counter, 'burst'), config.burst_period, now) > config.burst_limit:
            raise ApiError(429, MSG_BURST.format(config.burst_limit, f'{config.burst_period:g}'))

    def check_site_access(self, user, key_team, site, feature, feature_name):
        """A7, whenever site_id names an existing site."""
        if site.consolidated:
            raise ApiError(400, MSG_CONSOLIDATED)
        if user.super_admin:
            return
        if key_team is not None and key_team is not site.team:
            raise ApiError(401, MSG_INVALID_KEY)
        if site.team.locked:
            raise ApiError(402, MSG_LOCKED)
        if feature not in site.team.features:
            raise ApiError(402, MSG_FEATURE.format(feature_name))
        if self.state.site_role(user, site) is None:
            raise ApiError(401, MSG_INVALID_KEY)

    def check_team_access(self, user, team, feature, feature_name):
        """A8, for the key's team or a team_id naming an existing team (a team-scoped key never differs here)."""
        if user.super_admin:
            return
        if team.locked:
            raise ApiError(402, MSG_LOCKED)
        if feature not in team.features:
            raise ApiError(402, MSG_FEATURE.format(feature_name))
        if user.email not in team.members:
            raise ApiError(401, MSG_INVALID_KEY)

    # -- controller helpers ----------------------------------------------------------------------------------

    def site_for(self, call, roles):
        """find_site: the site where the user holds one of ``roles`` (within the key's team), else 404."""
        site = self.state.find_site(call.params.get('site_id'))
        if site is None or site.consolidated or self.state.site_role(call.user, site) not in roles \
                or (call.team is not None and call.team is not site.team):
            raise ApiError(404, MSG_SITE_NOT_FOUND)
        return site

    @staticmethod
    def require(params, name, message):
        if name not in params:
            raise ApiError(400, message)
        return params[name]

    def site_json(self, site):
        if site.tracker is None:
            site.tracker = default_tracker_config()
        return {'domain': site.domain, 'timezone': site.timezone, 'custom_properties': list(site.allowed_props or []),
                'tracker_script_configuration': dict(site.tracker)}

    @staticmethod
    def goal_json(site, goal):
        return {'id': goal.id, 'domain': site.domain, 'display_name': goal.display_name, 'goal_type': goal.goal_type,
                'event_name': goal.event_name, 'page_path': goal.page_path, 'custom_props': dict(goal.custom_props)}

    def shared_link_url(self, site, link):
        return f'{self.emu.base_url}/share/{urllib.parse.quote_plus(site.domain, safe="")}?auth={link.slug}'

    # -- sites -----------------------------------------------------------------------------------------------

    def list_sites(self, call):
        team = call.team or self.state.team_by_uuid(call.params.get('team_id'))

        def listed(site):
            if site.consolidated:
                return False
            if team is not None:
                # Within one team only non-guest memberships count.
                return site.team is team and self.state.is_team_member(call.user, team)
            return self.state.site_role(call.user, site) is not None

        sites = [site for site in reversed(self.state.sites) if listed(site)]
        page, meta = paginate(sites, call.params, lambda site: -site.id)
        return {'sites': [{'domain': site.domain, 'timezone': site.timezone} for site in page], 'meta': meta}

    def list_teams(self, call):
        teams = [team for team in reversed(self.state.teams)
                 if self.state.is_team_member(call.user, team) and call.team in (None, team)]
        page, meta = paginate(teams, call.params, lambda team: -team.id)
        return {'teams': [{'id': team.uuid, 'name': team.display_name, 'api_available': 'stats_api' in team.features}
                          for team in page], 'meta': meta}

    def get_site(self, call):
        return self.site_json(self.site_for(call, READ_ROLES))

    def create_site(self, call):
        params, user = call.params, call.user
        team = call.team or self.state.team_by_uuid(params.get('team_id'))
        if team is None:
            # Teams.get_or_create: the user's one team that is not set up yet, or a new one.
            candidates = [t for t in self.state.teams if t.members.get(user.email) == 'owner' and not t.setup]
            if len(candidates) > 1:
                raise ApiError(400, "You must select a team with 'team_id' parameter.")
            team = candidates[0] if candidates else None
        if team is not None:
            if team.members.get(user.email) not in WRITE_ROLES:
                raise ApiError(403, "You can't add sites to the selected team.")
            site_limit = team.site_limit if team.site_limit is not None else self.emu.config.site_limit
            if site_limit is not None and sum(1 for s in self.state.sites if s.team is team and not s.consolidated) >= site_limit:
                raise ApiError(402, f'Your account has reached the limit of {site_limit} sites. '
                                    'To unlock more sites, please upgrade your subscription.')
        domain = self.validate_new_domain(params, user)
        config = cast_tracker_config(params.get('tracker_script_configuration') or {})
        # Everything is valid: commit, like the single transaction of the server.
        if team is None:
            team = self.state.add_team(user.email)
        for site in self.state.sites:
            if site.domain_changed_from == domain and self.state.site_role(user, site) == 'owner':
                site.domain_changed_from = site.domain_changed_at = None
        site = Site(self.state.next_id('site'), domain, params.get('timezone', 'Etc/UTC'), team)
        self.state.sites.append(site)
        self.apply_tracker_config(site, config)
        return self.site_json(site)

    def validate_new_domain(self, params, user):
        """Site changeset on create: report only the newest error (see the validation order of the spec)."""
        errors = []
        raw = params.get('domain')
        if raw is not None and not isinstance(raw, str):
            errors.append('domain: is invalid')
            domain = ''
        else:
            domain = normalize_domain(raw or '')
            if not domain:
                errors.append("domain: can't be blank")
        timezone = params.get('timezone', 'Etc/UTC')
        if not isinstance(timezone, str) or timezone not in timezones():
            errors.append('timezone: is invalid')
        if domain:
            errors.extend(domain_format_errors(domain))
        if errors:
            raise ApiError(400, errors[-1])
        self.check_domain_free(domain, owner=user)
        return domain

    def check_domain_free(self, domain, site=None, owner=None):
        if len(domain) > VARCHAR_LENGTH:
            raise Crash(500)  # value too long for varchar(255)
        if self.state.domain_taken(domain, ignore=site, owner=owner):
            raise ApiError(400, 'domain: ' + MSG_DOMAIN_TAKEN)

    def update_site(self, call):
        params = call.params
        if 'domain' not in params and 'tracker_script_configuration' not in params:
            raise ApiError(400, "Payload must contain at least one of the parameters 'domain', 'tracker_script_configuration'")
        site = self.site_for(call, WRITE_ROLES)
        new_domain = self.validate_domain_change(site, params['domain']) if truthy(params.get('domain')) else None
        raw_config = params.get('tracker_script_configuration')
        config = cast_tracker_config(raw_config) if truthy(raw_config) else {}
        # Both changes are valid: apply them together (one transaction upstream).
        if new_domain is not None:
            site.domain_changed_from, site.domain_changed_at, site.domain = site.domain, self.emu.now(), new_domain
        self.apply_tracker_config(site, config)
        return self.site_json(site)

    def validate_domain_change(self, site, raw):
        if not isinstance(raw, str):
            raise ApiError(400, 'domain: is invalid')
        domain = normalize_domain(raw)
        errors = domain_format_errors(domain) if domain else ["domain: can't be blank"]
        if domain == site.domain:
            errors.append('domain: New domain must be different than the current one')
        if errors:
            raise ApiError(400, errors[-1])
        self.check_domain_free(domain, site=site)
        return domain

    def apply_tracker_config(self, site, changes):
        """Merge configuration changes; switching a goal option on creates its goal, switching it off deletes it."""
        before = site.tracker or dict.fromkeys(TRACKER_BOOLEANS, False)
        site.tracker = dict(site.tracker or default_tracker_config(), **changes)
        for option, event_name in TRACKER_GOALS.items():
            if site.tracker[option] and not before[option]:
                self.create_tracker_goal(site, event_name)
            elif before[option] and not site.tracker[option]:
                site.goals = [goal for goal in site.goals if goal.event_name != event_name]

    def create_tracker_goal(self, site, event_name):
        """Goals.create with upsert: nothing happens when the goal exists or the goal limit is reached."""
        exists = any(event_name in (goal.event_name, goal.display_name) for goal in site.goals)
        if not exists and len(site.goals) < self.emu.config.goal_limit:
            self.state.add_goal(site, event_name=event_name)

    def delete_site(self, call):
        self.state.remove_site(self.site_for(call, OWNER_ROLES))
        return {'deleted': True}

    # -- shared links ----------------------------------------------------------------------------------------

    def find_or_create_shared_link(self, call):
        name = self.require(call.params, 'name', 'Parameter `name` is required to create a shared link')
        site = self.site_for(call, WRITE_ROLES)
        if name is None:
            raise Crash(500)  # Repo.get_by with a nil value raises ArgumentError
        if not isinstance(name, str):
            raise Crash(400)  # Ecto.Query.CastError
        link = next((link for link in site.shared_links if link.name == name), None)
        if link is None:
            if 'shared_links' not in site.team.features:
                raise ApiError(402, 'Your current subscription plan does not include Shared Links')
            if not name.strip():
                raise ApiError(400, "can't be blank")
            if name in RESERVED_SHARED_LINK_NAMES:
                raise ApiError(400, 'This name is reserved. Please choose another one')
            if len(name) > VARCHAR_LENGTH:
                raise Crash(500)
            link = SharedLink(name, nanoid())
            site.shared_links.append(link)
        return {'name': link.name, 'url': self.shared_link_url(site, link)}

    # -- goals -----------------------------------------------------------------------------------------------

    def list_goals(self, call):
        site = self.site_for(call, READ_ROLES)
        page, meta = paginate(sorted(site.goals, key=lambda goal: -goal.id), call.params, lambda goal: -goal.id)
        return {'goals': [{'id': goal.id, 'display_name': goal.display_name, 'goal_type': goal.goal_type,
                           'event_name': goal.event_name, 'page_path': goal.page_path,
                           'custom_props': dict(goal.custom_props)} for goal in page], 'meta': meta}

    def find_or_create_goal(self, call):
        params = call.params
        self.require(params, 'goal_type', 'Parameter `goal_type` is required to create a goal')
        site = self.site_for(call, WRITE_ROLES)
        goal_type = params['goal_type']
        if goal_type == 'event':
            if not isinstance(params.get('event_name'), str):
                raise ApiError(400, 'Parameter `event_name` is required to create a goal')
        elif goal_type == 'page':
            self.require(params, 'page_path', 'Parameter `page_path` is required to create a goal')
        else:
            raise Crash(500)  # no function clause matches
        goal = self.upsert_goal(site, params)
        currency = params.get('currency')
        if goal_type == 'event' and isinstance(currency, str) and goal.currency != currency:
            raise ApiError(400, f"event_name: '{goal.event_name}' (with currency: {goal.currency or ''}) has already been taken")
        return self.goal_json(site, goal)

    def upsert_goal(self, site, params):
        """Goals.create(upsert?: true): changeset, feature check, then the insert with on_conflict: :nothing."""
        changes, errors = goal_changeset(params)
        if changes['custom_props'] or changes['currency']:
            feature = 'custom_props' if changes['custom_props'] else 'revenue_goals'
            if feature not in site.team.features:
                raise ApiError(402, MSG_NO_PLAN_PROPS)
        if not errors and changes['event_name'] is not None and changes['page_path'] is not None:
            errors.append('event_name: cannot co-exist with page_path')  # database check constraint
        if errors:
            raise ApiError(400, ', '.join(reversed(errors)))
        event_name, page_path, props = changes['event_name'], changes['page_path'], changes['custom_props']
        conflict = any(
            goal.display_name == changes['display_name']
            or (event_name is not None and goal.event_name == event_name and goal.custom_props == props)
            or (page_path is not None and goal.page_path == page_path and goal.custom_props == props
                and goal.scroll_threshold == changes['scroll_threshold'])
            for goal in site.goals)
        if conflict:
            # The insert was skipped: Repo.get_by! on the event name or the page path only.
            found = [goal for goal in site.goals
                     if (goal.event_name == event_name if event_name is not None else goal.page_path == page_path)]
            if not found:
                raise Crash(404)  # Ecto.NoResultsError
            if len(found) > 1:
                raise Crash(500)  # Ecto.MultipleResultsError
            return found[0]
        if len(site.goals) >= self.emu.config.goal_limit:
            raise ApiError(400, 'event_name: Maximum number of goals reached, page_path: Maximum number of goals reached')
        return self.state.add_goal(site, **changes)

    def delete_goal(self, call):
        site = self.site_for(call, WRITE_ROLES)
        goal_id = call.params['goal_id']
        if not INTEGER_RE.fullmatch(goal_id):
            raise Crash(400)  # Ecto.Query.CastError
        goal = next((goal for goal in site.goals if goal.id == int(goal_id)), None)
        if goal is None:
            raise ApiError(404, MSG_GOAL_NOT_FOUND)
        site.goals.remove(goal)
        return {'deleted': True}

    # -- custom properties -----------------------------------------------------------------------------------

    def list_custom_props(self, call):
        site = self.site_for(call, READ_ROLES)
        return {'custom_properties': [{'property': prop} for prop in sorted(site.allowed_props or [])]}

    def add_custom_prop(self, call):
        prop = self.require(call.params, 'property', 'Parameter `property` is required to create a custom property')
        site = self.site_for(call, WRITE_ROLES)
        if not isinstance(prop, str):
            raise ApiError(400, 'Parameter `property` is invalid')
        prop = prop.strip()
        if prop not in INTERNAL_PROPS and 'custom_props' not in site.team.features:
            raise ApiError(402, MSG_NO_PLAN_PROPS)
        if not 1 <= len(prop) <= MAX_PROP_KEY_LENGTH:
            raise ApiError(400, 'Parameter `property` is too long')
        props = [prop] + [other for other in site.allowed_props or [] if other != prop]
        if len(props) > MAX_CUSTOM_PROPS:
            raise ApiError(400, "Can't add any more custom properties")
        site.allowed_props = props
        return {'created': True}

    def delete_custom_prop(self, call):
        site = self.site_for(call, WRITE_ROLES)
        prop = call.params['property']
        prop = '/'.join(prop) if isinstance(prop, list) else prop
        site.allowed_props = [other for other in site.allowed_props or [] if other != prop]
        return {'deleted': True}

    # -- guests ----------------------------------------------------------------------------------------------

    def list_guests(self, call):
        site = self.site_for(call, READ_ROLES)
        guests = sorted(site.guests, key=lambda guest: guest.sort_index)
        page, meta = paginate(guests, call.params, lambda guest: guest.sort_index, 'sort_index')
        return {'guests': [{'email': guest.email, 'role': guest.role, 'status': guest.status} for guest in page],
                'meta': meta}

    def find_or_create_guest(self, call):
        params = call.params
        email = self.require(params, 'email', 'Parameter `email` is required to create guest')
        if params.get('role') not in ('viewer', 'editor'):
            raise ApiError(400, 'Parameter `role` is required to create guest. Possible values: `viewer` or `editor`')
        site = self.site_for(call, GUEST_MANAGER_ROLES)
        guest = next((guest for guest in site.guests if guest.email == email), None)
        if guest is None:
            # InviteToSite fails (unhandled) for an invalid e-mail or a team member.
            if not isinstance(email, str) or '@' not in email or site.team.members.get(email) not in (None, 'guest'):
                raise Crash(500)
            guest = Guest(self.state.next_id('invitation'), email, params['role'], 'invited')
            site.guests.append(guest)
        return {'email': guest.email, 'role': guest.role, 'status': guest.status}

    def delete_guest(self, call):
        site = self.site_for(call, GUEST_MANAGER_ROLES)
        guest = next((guest for guest in site.guests if guest.email == call.params['email']), None)
        if guest is not None:
            self.state.remove_guest(site, guest)
        return {'deleted': True}


def goal_changeset(params):
    """Goal.changeset: the cast values and every error, in the order Ecto adds them (the newest is last)."""
    errors = []

    def cast_string(name):
        value = params.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # Ecto's empty values
        if not isinstance(value, str):
            errors.append(f'{name}: is invalid')
            return None
        return value

    event_name = cast_string('event_name')
    page_path = cast_string('page_path')
    scroll_threshold = params.get('scroll_threshold', -1)
    if isinstance(scroll_threshold, str) and INTEGER_RE.fullmatch(scroll_threshold):
        scroll_threshold = int(scroll_threshold)
    elif scroll_threshold is None:
        scroll_threshold = -1
    elif not isinstance(scroll_threshold, int) or isinstance(scroll_threshold, bool):
        errors.append('scroll_threshold: is invalid')
        scroll_threshold = -1
    display_name = cast_string('display_name')
    custom_props = params.get('custom_props') or {}
    if not isinstance(custom_props, dict):
        errors.append('custom_props: is invalid')
        custom_props = {}
    currency = params.get('currency')
    if currency is not None and not (isinstance(currency, str) and currency in CURRENCIES):
        errors.append('currency: is invalid')
        currency = None

    if page_path is not None:
        page_path = page_path.strip()
        page_path = page_path if page_path.startswith('/') else '/' + page_path
    if event_name in RESERVED_EVENT_NAMES:
        event_error = f"The event name '{event_name}' is reserved and cannot be used as a goal"
    elif event_name is not None and re.match(r'.+', event_name):
        event_error = None
    else:
        event_error = 'this field is required and cannot be blank'
    if page_path is None and event_error:
        errors.append('event_name: ' + event_error)
        errors.append('page_path: this field is required and must start with a /')
    elif page_path is None:
        event_name = event_name.strip()
    if scroll_threshold > -1 and page_path is None:
        errors.append('scroll_threshold: page_path field missing for page scroll goal')
    if display_name is None and page_path is not None:
        display_name = 'Visit ' + page_path
    elif display_name is None and event_name is not None:
        display_name = event_name
    display_name = display_name.strip() if display_name is not None else None
    if not display_name and not any(error.startswith('display_name:') for error in errors):
        errors.append("display_name: can't be blank")
    if params.get('custom_props'):
        props_error = goal_custom_props_error(custom_props)
        if props_error:
            errors.append('custom_props: ' + props_error)
    if event_name is not None and len(event_name) > MAX_EVENT_NAME_LENGTH:
        errors.append(f'event_name: should be at most {MAX_EVENT_NAME_LENGTH} character(s)')
    if not -1 <= scroll_threshold <= 100:
        errors.append('scroll_threshold: Should be -1 (missing) or in range [0, 100]')
    if page_path is not None:
        currency = None  # currency is dropped for page goals
    return {'event_name': event_name, 'page_path': page_path, 'display_name': display_name, 'custom_props': custom_props,
            'currency': currency, 'scroll_threshold': scroll_threshold}, errors


def goal_custom_props_error(custom_props):
    if len(custom_props) > MAX_GOAL_CUSTOM_PROPS:
        return f'use at most {MAX_GOAL_CUSTOM_PROPS} properties per goal'
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in custom_props.items()):
        return 'must be a map with string keys and string values'
    if any(not 1 <= len(key) <= MAX_PROP_KEY_LENGTH for key in custom_props):
        return f'key length is 1..{MAX_PROP_KEY_LENGTH} characters'
    if any(not 1 <= len(value) <= MAX_PROP_VALUE_LENGTH for value in custom_props.values()):
        return f'value length is 1..{MAX_PROP_VALUE_LENGTH} characters'
    return None


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

    # -- control operations (also the in-process API) --------------------------------------------------------

    def reset(self):
        with self.lock:
            self.state = State(self.default_team_uuid)
            self.limiter = RateLimiter()
            self.log = []
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
                           'locked': team.locked, 'hourly_limit': team.hourly_limit, 'site_limit': team.site_limit,
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
            'shared_links': [{'name': link.name, 'slug': link.slug, 'url': self.api.shared_link_url(site, link)}
                             for link in site.shared_links],
            'guests': [{'email': guest.email, 'role': guest.role, 'status': guest.status} for guest in site.guests],
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
        for name in entry.get('shared_links', ()):
            site.shared_links.append(SharedLink(name, nanoid()))
        for guest in entry.get('guests', ()):
            status = guest.get('status', 'accepted')
            if status not in ('accepted', 'invited') or guest.get('role') not in ('viewer', 'editor'):
                raise ValueError(f'bad guest {guest!r}')
            if status == 'accepted':
                team.members.setdefault(state.add_user(guest['email']).email, 'guest')
            site.guests.append(Guest(state.next_id('guest' if status == 'accepted' else 'invitation'),
                                     guest['email'], guest['role'], status))
        return site

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

    def clear_requests(self):
        with self.lock:
            self.log.clear()

    def record(self, request, status, fault=False):
        with self.lock:
            self._next_log_id += 1
            self.log.append({
                'id': self._next_log_id, 'time': self.now(), 'method': request.method, 'path': request.path,
                'query': decode_pairs(urllib.parse.parse_qsl(request.query, keep_blank_values=True)),
                'body': describe_body(request.headers.get('Content-Type'), request.body),
                'status': status, 'key': self.key_label(request.headers.get('Authorization')), 'fault': fault,
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
            ('GET', 'faults'): lambda spec: self.list_faults(),
            ('POST', 'faults'): lambda spec: {'id': self.add_fault(spec)},
            ('DELETE', 'faults'): lambda spec: self.clear_faults(),
            ('GET', 'config'): lambda spec: self.set_config({}),
            ('POST', 'config'): self.set_config,
            ('GET', 'clock'): lambda spec: self.shift_clock(),
            ('POST', 'clock'): lambda spec: self.shift_clock(spec.get('advance'), spec.get('offset')),
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
            try:
                # Plug.Parsers runs in the endpoint, before routing.
                body_params = parse_body(request.method, request.headers.get('Content-Type'), request.body)
                route, path_params = match_route(request.method, segments) if self.config.edition == 'hosted' else (None, None)
                if route is None:
                    return self.no_route(request.method, accept)
                if negotiate(accept, ('json',)) is None:
                    raise PhoenixError(406)
            except PhoenixError as error:
                return render_error_view(error.status, accept)
            query_params = decode_pairs(urllib.parse.parse_qsl(request.query, keep_blank_values=True))
            # Path parameters win over the body, the body over the query string.
            call = Call(route, {**query_params, **body_params, **path_params})
            try:
                self.api.authorize(call, request.headers.get('Authorization'))
                return json_response(200, getattr(self.api, route.action)(call))
            except ApiError as error:
                return json_response(error.status, {'error': error.message})

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
            response = json_response(500, {'error': MSG_CRASH})
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
    parser = argparse.ArgumentParser(description='Emulator of the Plausible Sites API.')
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
