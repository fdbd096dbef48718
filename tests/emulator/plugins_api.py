# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Plugins API (``/api/plugins/v1``): per-site tokens over HTTP Basic, as ``plausible-plugins-api.md`` describes.

Pipeline per request, in the server's order: route (the funnel routes only on hosted builds), ``Accept`` (406),
token (401; capabilities never fails), schema validation (422 with ``title``/``source``/``detail`` entries),
controller (domain failures: 422 with ``detail`` only, or 402 on hosted builds). No rate limit.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import urllib.parse
from typing import NamedTuple

from .model import (INSTALLATION_TYPES, INTEGER_RE, INTERNAL_PROPS, MAX_CUSTOM_PROPS, MAX_GOAL_CUSTOM_PROPS,
                    MAX_PROP_KEY_LENGTH, MIN_FUNNEL_STEPS, MSG_GOAL_LIMIT, RESERVED_EVENT_NAMES, VARCHAR_LENGTH,
                    GoalLimitReached, GoalLookupError, SharedLink, default_tracker_config, goal_changeset, hash_password,
                    nanoid, shared_link_url)
from .phoenix import InvalidCursor, Response, cursor_page, json_response, match_pattern, negotiate, render_error_view

PREFIX = ('api', 'plugins', 'v1')
SPEC_PREFIX = ('api', 'plugins', 'spec')
PAGE_LIMIT = 10
MAX_PAGE_LIMIT = 100
MAX_BULK = 8  # goals per bulk PUT, goal ids per bulk DELETE, funnel steps (Funnel.max_steps)
TOKEN_PREFIXES = {'ce': 'plausible-plugin-selfhost', 'hosted': 'plausible-plugin'}
LAST_USED_REFRESH_SECONDS = 300
GOAL_TYPES = ('Goal.CustomEvent', 'Goal.Revenue', 'Goal.Pageview')
FEATURE_NAMES = ('Props', 'SharedLinks', 'Funnels', 'Goals', 'RevenueGoals', 'SiteSegments', 'SitesAPI', 'StatsAPI', 'SSO',
                 'ConsolidatedView')
TRACKER_FLAGS = ('hash_based_routing', 'outbound_links', 'file_downloads', 'form_submissions')

MSG_UNAUTHORIZED = 'Plugins API: unauthorized'
MSG_NOT_FOUND = 'Plugins API: resource not found'
MSG_CRASH = {'hosted': 'Internal server error, please try again. If the problem persists please contact support@plausible.io',
             'ce': 'Internal server error, please try again. '}
MSG_UPGRADE = '{} is part of the Plausible Business plan. To get access to this feature, please upgrade your account.'
MSG_PROP_LENGTH = f'must be between 1 and {MAX_PROP_KEY_LENGTH} characters'
MSG_PROPS_COUNT = f'should have at most {MAX_CUSTOM_PROPS} item(s)'
UNAUTHORIZED_HEADERS = (('www-authenticate', 'Basic realm="Plugins API Access"'),)


class Route(NamedTuple):
    method: str
    pattern: tuple
    action: str
    operation_id: str  # the server's where the API file names one (GetOrCreate, DeleteBulk, ...), else the emulator's
    authenticated: bool = True
    hosted_only: bool = False  # the funnel routes live in extra/lib (hosted and Enterprise builds)


ROUTES = (
    Route('GET', ('capabilities',), 'capabilities', 'Capabilities', authenticated=False),
    Route('GET', ('shared_links',), 'list_shared_links', 'SharedLink.List'),
    Route('GET', ('shared_links', ':id'), 'get_shared_link', 'SharedLink.Get'),
    Route('PUT', ('shared_links',), 'get_or_create_shared_link', 'SharedLink.GetOrCreate'),
    Route('GET', ('goals',), 'list_goals', 'Goal.List'),
    Route('GET', ('goals', ':id'), 'get_goal', 'Goal.Get'),
    Route('PUT', ('goals',), 'get_or_create_goals', 'Goal.GetOrCreate'),
    Route('DELETE', ('goals', ':id'), 'delete_goal', 'Goal.Delete'),
    Route('DELETE', ('goals',), 'delete_goals', 'Goal.DeleteBulk'),
    Route('PUT', ('custom_props',), 'enable_custom_props', 'CustomProp.GetOrEnable'),
    Route('DELETE', ('custom_props',), 'disable_custom_props', 'CustomProp.DisableBulk'),
    Route('GET', ('tracker_script_configuration',), 'get_tracker_config', 'TrackerScriptConfiguration.Get'),
    Route('PUT', ('tracker_script_configuration',), 'update_tracker_config', 'TrackerScriptConfiguration.Update'),
    Route('GET', ('funnels',), 'list_funnels', 'Funnel.List', hosted_only=True),
    Route('GET', ('funnels', ':id'), 'get_funnel', 'Funnel.Get', hosted_only=True),
    Route('PUT', ('funnels',), 'get_or_create_funnel', 'Funnel.GetOrCreate', hosted_only=True),
)


# -- errors ---------------------------------------------------------------------------------------------------------

class PluginsError(Exception):
    """An answer other than success: a status and the entries of ``{"errors": [...]}``."""

    def __init__(self, status, entries, headers=()):
        super().__init__(status, entries)
        self.status = status
        self.entries = entries
        self.headers = headers


class Crash(Exception):
    """An exception the controller does not handle: the Plugins API's 500 body."""


class NotFoundCrash(Exception):
    """Ecto.NoResultsError raised inside the controller: the generic error view's 404."""


def detail_error(status, *details):
    """``Errors.error/3`` with plain messages: entries with only ``detail``."""
    return PluginsError(status, [{'detail': detail} for detail in details])


def changeset_error(errors):
    """``Errors.error/3`` with a changeset: one entry per field in alphabetical order, a field's messages joined."""
    fields = {}
    for error in errors:
        name, message = error.split(': ', 1)
        fields.setdefault(name, []).append(message)
    return detail_error(422, *(f'{name}: ' + ''.join(reversed(fields[name])) for name in sorted(fields)))


# -- schema validation (OpenApiSpex CastAndValidate, json_render_error_v2) -------------------------------------------

def term_type(value):
    """OpenApiSpex.TermType: the JSON type name of a value, as its messages spell it."""
    if value is None:
        return 'null'
    for python_type, name in ((bool, 'boolean'), (int, 'integer'), (float, 'number'), (str, 'string'), (list, 'array'),
                              (dict, 'object')):
        if isinstance(value, python_type):
            return name
    return 'string'


class Schema:
    """Collects cast errors, each ``{"title", "source": {"pointer"}, "detail"}``, and casts values."""

    def __init__(self):
        self.errors = []

    def fail(self, pointer, detail):
        self.errors.append({'title': 'Invalid value', 'source': {'pointer': pointer or '/'}, 'detail': detail})
        return None

    def check(self):
        if self.errors:
            raise PluginsError(422, self.errors)

    def cast(self, value, kind, pointer):
        """``kind`` is string, integer, boolean, object or array; integers and booleans also come as strings."""
        if value is None:
            return self.fail(pointer, f'null value where {kind} expected')
        if kind == 'integer' and isinstance(value, str) and INTEGER_RE.fullmatch(value):
            return int(value)
        if kind == 'boolean' and value in ('true', 'false'):
            return value == 'true'
        expected = {'string': str, 'integer': int, 'boolean': bool, 'object': dict, 'array': list}[kind]
        if not isinstance(value, expected) or (kind == 'integer' and isinstance(value, bool)):
            return self.fail(pointer, f'Invalid {kind}. Got: {term_type(value)}')
        return value

    def field(self, parent, name, kind, pointer, required=True):
        """The cast value of ``parent[name]``; a missing required field is an error, a missing optional one None."""
        if name not in parent:
            return self.fail(f'{pointer}/{name}', f'Missing field: {name}') if required else None
        return self.cast(parent[name], kind, f'{pointer}/{name}')

    def items(self, parent, name, pointer, min_items=1, max_items=None):
        """A list field with its length rules; None when invalid."""
        values = self.field(parent, name, 'array', pointer)
        if values is None:
            return None
        if len(values) < min_items:
            return self.fail(f'{pointer}/{name}', f'Array length {len(values)} is smaller than minItems: {min_items}')
        if max_items is not None and len(values) > max_items:
            return self.fail(f'{pointer}/{name}', f'Array length {len(values)} is larger than maxItems: {max_items}')
        return values

    def enum(self, parent, name, allowed, pointer):
        value = self.field(parent, name, 'string', pointer)
        if value is not None and value not in allowed:
            return self.fail(f'{pointer}/{name}', 'Invalid value for enum')
        return value

    def goal_request(self, body, pointer):
        """One goal create request (one of the three shapes); returns ``(goal_type, changeset params)`` or None."""
        if not isinstance(body, dict):
            return self.cast(body, 'object', pointer)
        goal_type = self.enum(body, 'goal_type', GOAL_TYPES, pointer)
        goal = self.field(body, 'goal', 'object', pointer)
        if goal_type is None or goal is None:
            return None
        params = {}
        fields = {'Goal.CustomEvent': ('event_name',), 'Goal.Revenue': ('event_name', 'currency'),
                  'Goal.Pageview': ('path',)}[goal_type]
        for name in fields:
            params['page_path' if name == 'path' else name] = self.field(goal, name, 'string', f'{pointer}/goal')
        props = self.field(goal, 'custom_props', 'object', f'{pointer}/goal', required=False)
        if props is not None:
            if len(props) > MAX_GOAL_CUSTOM_PROPS:
                self.fail(f'{pointer}/goal/custom_props',
                          f'Object property count {len(props)} is greater than maxProperties: {MAX_GOAL_CUSTOM_PROPS}')
            for key, value in props.items():
                self.cast(value, 'string', f'{pointer}/goal/custom_props/{key}')
        params['custom_props'] = props or {}
        return goal_type, params

    def goal_list(self, parent, name, pointer, min_items=1):
        """The goal create requests of a list field (bulk goals, funnel steps): 1..8 items unless said otherwise."""
        entries = self.items(parent, name, pointer, min_items, MAX_BULK) or []
        return [self.goal_request(entry, f'{pointer}/{name}/{index}') for index, entry in enumerate(entries)]

    def prop_keys(self, body):
        """The keys of a custom property request, single (``custom_prop``) or bulk (``custom_props``)."""
        if 'custom_props' in body:
            entries = self.items(body, 'custom_props', '') or []
            pointers = [f'/custom_props/{index}' for index in range(len(entries))]
        else:
            entries, pointers = [body], ['']
        keys = []
        for entry, pointer in zip(entries, pointers):
            prop = self.field(entry, 'custom_prop', 'object', pointer) if isinstance(entry, dict) else \
                self.cast(entry, 'object', pointer)
            if prop is not None:
                keys.append(self.field(prop, 'key', 'string', f'{pointer}/custom_prop'))
        return keys


# -- the API ----------------------------------------------------------------------------------------------------------

class PluginsApi:
    """Router, pipeline, auth plug and controllers of the Plugins API. Callers hold the emulator lock."""

    def __init__(self, emulator):
        self.emu = emulator

    @property
    def state(self):
        return self.emu.state

    @property
    def edition(self):
        return self.emu.config.edition

    # -- pipeline ----------------------------------------------------------------------------------------------

    def match(self, method, segments):
        if tuple(segments[:3]) != PREFIX:
            return None, None
        for route in ROUTES:
            if route.method != method or (route.hosted_only and self.edition == 'ce'):
                continue
            path_params = match_pattern(route.pattern, segments[3:])
            if path_params is not None:
                return route, path_params
        return None, None

    def handle(self, request, segments, query_params, body_params):
        """The answer of the Plugins API, or None when none of its routes matches."""
        if request.method == 'GET' and tuple(segments) == SPEC_PREFIX + ('openapi',):
            return json_response(200, self.openapi())
        route, path_params = self.match(request.method, segments)
        if route is None:
            return None
        accept = request.headers.get('Accept')
        if negotiate(accept, ('json',)) is None:
            return render_error_view(406, accept)
        try:
            token = self.authenticate(request.headers.get_all('Authorization') or [])
            if route.authenticated and token is None:
                raise PluginsError(401, [{'detail': MSG_UNAUTHORIZED}], UNAUTHORIZED_HEADERS)
            if route.authenticated:
                self.touch(token)
            return getattr(self, route.action)(token.site if token else None, path_params, query_params, body_params)
        except PluginsError as error:
            return json_response(error.status, {'errors': error.entries})._replace(headers=error.headers)
        except NotFoundCrash:
            # The pipeline has chosen the JSON format by now, so the generic error view answers in JSON.
            return render_error_view(404, 'application/json')
        except Crash:
            return self.crash_response()

    def crash_response(self):
        return json_response(500, {'errors': [{'detail': MSG_CRASH[self.edition]}]})

    def authenticate(self, headers):
        """The token of exactly one ``Basic`` header (strict base64; the password, or all of it without a colon)."""
        if len(headers) != 1 or not headers[0].startswith('Basic '):
            return None
        try:
            decoded = base64.b64decode(headers[0][len('Basic '):], validate=True)
        except (binascii.Error, ValueError):
            return None
        return self.state.find_plugin_token(decoded.partition(b':')[2] if b':' in decoded else decoded)

    def key_label(self, headers):
        """For the request log: ``none`` without a Basic header, ``unknown`` for no stored token, else the token's label."""
        if len(headers) != 1 or not headers[0].startswith('Basic '):
            return 'none'
        token = self.authenticate(headers)
        return token.label if token else 'unknown'

    def touch(self, token):
        now = self.emu.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_REFRESH_SECONDS:
            token.last_used_at = now

    def url(self, *parts, query=None):
        path = '/'.join(('', *PREFIX, *(str(part) for part in parts)))
        return f'{self.emu.base_url}{path}' + (f'?{urllib.parse.urlencode(sorted(query.items()))}' if query else '')

    def created(self, payload, *locations):
        response = json_response(201, payload)
        return response._replace(headers=tuple(('location', self.url(*location)) for location in locations))

    def listing(self, collection, items, query_params, render):
        """200 with one page of ``items`` (newest first), each rendered, and its ``meta``: links keep the query."""
        schema = Schema()
        limit = schema.field(query_params, 'limit', 'integer', '', required=False)
        schema.check()
        limit = limit if limit is not None and 0 < limit <= MAX_PAGE_LIMIT else PAGE_LIMIT
        try:
            page, meta = cursor_page(sorted(items, key=lambda item: -item.id), limit, query_params.get('after'),
                                     query_params.get('before'), lambda item: -item.id)
        except InvalidCursor:
            raise Crash() from None
        links = {}
        base = {name: value for name, value in query_params.items() if name not in ('after', 'before')}
        if meta['after']:
            links['next'] = {'url': self.url(collection, query=dict(base, after=meta['after']))}
        if meta['before']:
            links['prev'] = {'url': self.url(collection, query=dict(base, before=meta['before']))}
        return json_response(200, {collection: [render(item) for item in page], 'meta': {'pagination': {
            'has_next_page': meta['after'] is not None, 'has_prev_page': meta['before'] is not None, 'links': links}}})

    @staticmethod
    def path_id(path_params):
        schema = Schema()
        value = schema.cast(path_params['id'], 'integer', '/id')
        schema.check()
        return value

    def by_id(self, items, path_params):
        """The item (of the token's site) with the path's id, else the Plugins API's 404."""
        item_id = self.path_id(path_params)
        found = next((item for item in items if item.id == item_id), None)
        if found is None:
            raise detail_error(404, MSG_NOT_FOUND)
        return found

    def feature(self, site, flag):
        """Plan gating by capability name (``Props``, ``Funnels``..): CE passes every check."""
        return self.edition == 'ce' or self.plan_flags(site)[flag]

    @staticmethod
    def plan_flags(site):
        """The hosted team's plan as the 10 capability flags, minus the features taken by ``/_emulator/plan``."""
        features = site.team.features
        business = 'revenue_goals' in features  # the emulator's stand-in for the Business tier
        flags = {'Props': 'custom_props' in features, 'SharedLinks': 'shared_links' in features, 'Funnels': business,
                 'Goals': True, 'RevenueGoals': business, 'SiteSegments': business, 'SitesAPI': 'sites_api' in features,
                 'StatsAPI': 'stats_api' in features, 'SSO': False, 'ConsolidatedView': False}
        return dict(flags, **dict.fromkeys(site.team.features_off, False))

    # -- capabilities --------------------------------------------------------------------------------------------

    def capabilities(self, site, path_params, query_params, body_params):
        if site is None:
            flags = dict.fromkeys(FEATURE_NAMES, False)
        elif self.edition == 'ce':
            # CE teams always count as on trial: every feature but the Sites API and SSO.
            flags = {name: name not in ('SitesAPI', 'SSO') for name in FEATURE_NAMES}
        else:
            flags = self.plan_flags(site)
        return json_response(200, {'authorized': site is not None, 'data_domain': site.domain if site else None,
                                   'features': flags})

    # -- shared links --------------------------------------------------------------------------------------------

    def shared_link_json(self, site, link):
        return {'shared_link': {'id': link.id, 'name': link.name, 'password_protected': link.password_protected,
                                'href': shared_link_url(self.emu.base_url, site, link)}}

    def list_shared_links(self, site, path_params, query_params, body_params):
        return self.listing('shared_links', site.shared_links, query_params, lambda link: self.shared_link_json(site, link))

    def get_shared_link(self, site, path_params, query_params, body_params):
        return json_response(200, self.shared_link_json(site, self.by_id(site.shared_links, path_params)))

    def get_or_create_shared_link(self, site, path_params, query_params, body_params):
        schema = Schema()
        request = schema.field(body_params, 'shared_link', 'object', '')
        name = password = None
        if request is not None:
            name = schema.field(request, 'name', 'string', '/shared_link')
            password = schema.field(request, 'password', 'string', '/shared_link', required=False)
        schema.check()
        link = next((link for link in site.shared_links if link.name == name), None)
        if link is None:
            # No plan check and no reserved name here; the insert fails (unhandled) for a blank or too long name.
            if not name.strip() or len(name) > VARCHAR_LENGTH:
                raise Crash()
            link = SharedLink(self.state.next_id('shared_link'), name, nanoid(), hash_password(password) if password else None)
            site.shared_links.append(link)
        return self.created(self.shared_link_json(site, link), ('shared_links', link.id))

    # -- goals ---------------------------------------------------------------------------------------------------

    @staticmethod
    def goal_json(goal):
        if goal.event_name is None:
            # Page and scroll goals alike; the scroll threshold is not shown.
            return {'goal_type': 'Goal.Pageview', 'goal': {'id': goal.id, 'display_name': goal.display_name,
                                                           'path': goal.page_path, 'custom_props': dict(goal.custom_props)}}
        body = {'id': goal.id, 'display_name': goal.display_name, 'event_name': goal.event_name,
                'custom_props': dict(goal.custom_props)}
        if goal.currency is None:
            return {'goal_type': 'Goal.CustomEvent', 'goal': body}
        return {'goal_type': 'Goal.Revenue', 'goal': dict(body, currency=goal.currency)}

    def list_goals(self, site, path_params, query_params, body_params):
        return self.listing('goals', site.goals, query_params, self.goal_json)

    def get_goal(self, site, path_params, query_params, body_params):
        return json_response(200, self.goal_json(self.by_id(site.goals, path_params)))

    def get_or_create_goals(self, site, path_params, query_params, body_params):
        schema = Schema()
        requests = schema.goal_list(body_params, 'goals', '') if 'goals' in body_params else [schema.goal_request(body_params, '')]
        schema.check()
        goals = self.create_goals(site, requests)
        return self.created({'goals': [self.goal_json(goal) for goal in goals],
                             'meta': {'pagination': {'has_next_page': False, 'has_prev_page': False, 'links': {}}}},
                            *(('goals', goal.id) for goal in goals))

    def create_goals(self, site, requests):
        """Goals.create for each request in one transaction: any failure leaves the site's goals as they were."""
        before = list(site.goals)
        try:
            return [self.create_goal(site, goal_type, params) for goal_type, params in requests]
        except BaseException:
            site.goals = before
            raise

    def create_goal(self, site, goal_type, params):
        changes, errors = goal_changeset(params, RESERVED_EVENT_NAMES[:1] if self.edition == 'ce' else RESERVED_EVENT_NAMES)
        if changes['custom_props'] or goal_type == 'Goal.Revenue':
            if not self.feature(site, 'Props' if changes['custom_props'] else 'RevenueGoals'):
                # The same text for custom properties too: a wording bug of the server.
                raise detail_error(402, MSG_UPGRADE.format('Revenue Goals'))
        if errors:
            raise changeset_error(errors)
        try:
            goal = self.state.get_or_insert_goal(site, changes, self.emu.config.goal_limit)
        except GoalLookupError as error:
            raise (NotFoundCrash() if error.count == 0 else Crash()) from None
        except GoalLimitReached:
            raise changeset_error([f'event_name: {MSG_GOAL_LIMIT}', f'page_path: {MSG_GOAL_LIMIT}']) from None
        if goal_type == 'Goal.Revenue':
            # CE keeps no currency (a virtual field), so the stored one never matches: the insert is rolled back.
            stored = goal.currency if self.edition == 'hosted' else None
            if stored != params['currency']:
                raise changeset_error([f"event_name: '{goal.event_name}' (with currency: {stored or ''}) has already been taken"])
        return goal

    def delete_goal(self, site, path_params, query_params, body_params):
        self.state.remove_goals(site, {self.path_id(path_params)})
        return Response(204)

    def delete_goals(self, site, path_params, query_params, body_params):
        schema = Schema()
        ids = schema.items(body_params, 'goal_ids', '', max_items=MAX_BULK) or []
        ids = {schema.cast(value, 'integer', f'/goal_ids/{index}') for index, value in enumerate(ids)}
        schema.check()
        self.state.remove_goals(site, ids)
        return Response(204)

    # -- custom properties ---------------------------------------------------------------------------------------

    def enable_custom_props(self, site, path_params, query_params, body_params):
        schema = Schema()
        keys = schema.prop_keys(body_params)
        schema.check()
        keys = [key.strip() for key in keys]
        if any(key not in INTERNAL_PROPS for key in keys) and not self.feature(site, 'Props'):
            raise detail_error(402, MSG_UPGRADE.format('Custom Properties'))
        if any(not 1 <= len(key) <= MAX_PROP_KEY_LENGTH for key in keys):
            raise detail_error(422, 'allowed_event_props: ' + MSG_PROP_LENGTH)
        props = list(dict.fromkeys(keys + list(site.allowed_props or [])))
        if len(props) > MAX_CUSTOM_PROPS:
            raise detail_error(422, 'allowed_event_props: ' + MSG_PROPS_COUNT)
        site.allowed_props = props
        return self.created(self.custom_props_json(site))

    def disable_custom_props(self, site, path_params, query_params, body_params):
        schema = Schema()
        keys = schema.prop_keys(body_params)
        schema.check()
        site.allowed_props = [prop for prop in site.allowed_props or [] if prop not in keys]
        return Response(204)

    @staticmethod
    def custom_props_json(site):
        return {'custom_props': [{'custom_prop': {'key': key}} for key in site.allowed_props]}

    # -- tracker script configuration ----------------------------------------------------------------------------

    @staticmethod
    def tracker_json(site):
        config = site.tracker
        return {'tracker_script_configuration': dict(
            {'id': config['id'], 'installation_type': config['installation_type'] or 'manual'},
            **{flag: config[flag] for flag in TRACKER_FLAGS})}

    def get_tracker_config(self, site, path_params, query_params, body_params):
        if site.tracker is None:
            site.tracker = default_tracker_config()
        return json_response(200, self.tracker_json(site))

    def update_tracker_config(self, site, path_params, query_params, body_params):
        schema = Schema()
        request = schema.field(body_params, 'tracker_script_configuration', 'object', '')
        changes = {}
        if request is not None:
            pointer = '/tracker_script_configuration'
            changes['installation_type'] = schema.enum(request, 'installation_type', INSTALLATION_TYPES, pointer)
            for flag in TRACKER_FLAGS:
                if flag in request:
                    changes[flag] = schema.field(request, flag, 'boolean', pointer)
        schema.check()
        self.state.apply_tracker_config(site, changes, self.emu.config.goal_limit)
        return json_response(200, self.tracker_json(site))

    # -- funnels (hosted and Enterprise builds) ------------------------------------------------------------------

    def funnel_json(self, funnel):
        return {'funnel': {'id': funnel.id, 'name': funnel.name, 'steps': [self.goal_json(goal) for goal in funnel.steps]}}

    def list_funnels(self, site, path_params, query_params, body_params):
        return self.listing('funnels', site.funnels, query_params, self.funnel_json)

    def get_funnel(self, site, path_params, query_params, body_params):
        return json_response(200, self.funnel_json(self.by_id(site.funnels, path_params)))

    def get_or_create_funnel(self, site, path_params, query_params, body_params):
        """Find or create each step's goal, then the funnel by exact name: an existing one comes back as it is."""
        schema = Schema()
        request = schema.field(body_params, 'funnel', 'object', '')
        name, requests = None, []
        if request is not None:
            name = schema.field(request, 'name', 'string', '/funnel')
            requests = schema.goal_list(request, 'steps', '/funnel', min_items=MIN_FUNNEL_STEPS)
        schema.check()
        before = list(site.goals)
        try:
            steps = self.create_goals(site, requests)
            funnel = next((funnel for funnel in site.funnels if funnel.name == name), None)
            if funnel is None:
                if not self.feature(site, 'Funnels'):
                    raise detail_error(402, MSG_UPGRADE.format('Funnels'))
                if len({goal.id for goal in steps}) < len(steps):
                    raise Crash()  # the unique index of (funnel, goal)
                funnel = self.state.add_funnel(site, name, steps)
        except PluginsError as error:
            site.goals = before
            if error.status == 402:
                # A step's goal refused by the plan (Props, RevenueGoals) answers with the Funnels text too.
                raise detail_error(402, MSG_UPGRADE.format('Funnels')) from None
            raise
        except BaseException:
            site.goals = before
            raise
        return self.created(self.funnel_json(funnel), ('funnels', funnel.id))

    # -- OpenAPI document ----------------------------------------------------------------------------------------

    def openapi(self):
        """The OpenAPI document, generated from the routes of this edition (no funnel paths on CE)."""
        paths = {}
        for route in ROUTES:
            if route.hosted_only and self.edition == 'ce':
                continue
            path = '/'.join(('', *PREFIX, *('{' + part[1:] + '}' if part.startswith(':') else part for part in route.pattern)))
            operation = {'operationId': route.operation_id}
            if route.authenticated:
                operation['security'] = [{'basic_auth': []}]
            paths.setdefault(path, {})[route.method.lower()] = operation
        return {'openapi': '3.0.0', 'info': {'title': 'Plausible Plugins API', 'version': '1.0-rc'},
                'servers': [{'url': self.emu.base_url}], 'paths': paths,
                'components': {'securitySchemes': {'basic_auth': {'type': 'http', 'scheme': 'basic'}}}}


def new_raw_token(edition):
    """``<prefix>-<base64 of 30 random bytes>``, the prefix per edition."""
    return f'{TOKEN_PREFIXES[edition]}-{base64.b64encode(secrets.token_bytes(30)).decode()}'
