# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Sites API (``/api/v1/sites``): routing table, auth plug with rate limits, controller actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .model import (GUEST_MANAGER_ROLES, INSTALLATION_TYPES, INTEGER_RE, INTERNAL_PROPS, MAX_CUSTOM_PROPS, MAX_PROP_KEY_LENGTH,
                    MSG_GOAL_LIMIT, OWNER_ROLES, READ_ROLES, RESERVED_SHARED_LINK_NAMES, TRACKER_BOOLEANS, VARCHAR_LENGTH,
                    WRITE_ROLES, GoalLimitReached, GoalLookupError, Guest, SharedLink, Site, Team, User, cast_boolean,
                    default_tracker_config, domain_format_errors, goal_changeset, nanoid, normalize_domain, shared_link_url,
                    timezones, truthy)
from .phoenix import InvalidCursor, cursor_page, json_response, match_pattern, negotiate, render_error_view

PAGE_LIMIT = 100
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
MSG_NO_PLAN_PROPS = 'Your current subscription plan does not include Custom Properties'


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


def scope_allows(scopes, required):
    """A key scope minus one trailing ``*`` must be a prefix of the required scope."""
    return any(required.startswith(scope[:-1] if scope.endswith('*') else scope) for scope in scopes)


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


def page_limit(raw):
    """Pagination limit: 0 < limit <= 100 is used, any other integer means 100, a non-integer crashes."""
    if raw is None:
        return PAGE_LIMIT
    if isinstance(raw, str) and INTEGER_RE.fullmatch(raw):
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise Crash(500)
    return raw if 0 < raw <= PAGE_LIMIT else PAGE_LIMIT


def paginate(items, params, sort_key, field_name='id'):
    """The Sites API's pages: its limit rule, and a crash for a cursor the paginator cannot decode."""
    try:
        return cursor_page(items, page_limit(params.get('limit')), params.get('after'), params.get('before'), sort_key,
                           field_name)
    except InvalidCursor:
        raise Crash(500) from None


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

    def handle(self, request, segments, query_params, body_params):
        """The answer of the Sites API, or None when none of its routes matches (none does in Community Edition)."""
        route, path_params = match_route(request.method, segments) if self.emu.config.edition == 'hosted' else (None, None)
        if route is None:
            return None
        accept = request.headers.get('Accept')
        if negotiate(accept, ('json',)) is None:
            return render_error_view(406, accept)
        # Path parameters win over the body, the body over the query string.
        call = Call(route, {**query_params, **body_params, **path_params})
        try:
            self.authorize(call, request.headers.get('Authorization'))
            return json_response(200, getattr(self, route.action)(call))
        except ApiError as error:
            return json_response(error.status, {'error': error.message})

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
        return shared_link_url(self.emu.base_url, site, link)

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
        self.state.apply_tracker_config(site, config, self.emu.config.goal_limit)
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
        self.state.apply_tracker_config(site, config, self.emu.config.goal_limit)
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
            link = SharedLink(self.state.next_id('shared_link'), name, nanoid())
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
        try:
            return self.state.get_or_insert_goal(site, changes, self.emu.config.goal_limit)
        except GoalLookupError as error:
            raise Crash(404 if error.count == 0 else 500) from None  # Ecto.NoResultsError, Ecto.MultipleResultsError
        except GoalLimitReached:
            raise ApiError(400, f'event_name: {MSG_GOAL_LIMIT}, page_path: {MSG_GOAL_LIMIT}') from None

    def delete_goal(self, call):
        site = self.site_for(call, WRITE_ROLES)
        goal_id = call.params['goal_id']
        if not INTEGER_RE.fullmatch(goal_id):
            raise Crash(400)  # Ecto.Query.CastError
        goal = next((goal for goal in site.goals if goal.id == int(goal_id)), None)
        if goal is None:
            raise ApiError(404, MSG_GOAL_NOT_FOUND)
        self.state.remove_goals(site, {goal.id})
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
