# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Plugins API (``/api/plugins/v1``, ``plausible-plugins-api.md``) as a thin surface over the transport.

A token is bound to one site, so no route names a site. Goals are translated to and from the shape the Sites API
uses (``goal_type`` event/page, ``page_path``), so that one goal resource serves both APIs.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from ._transport import BasicAuth, PlausibleError, parse_json

PLUGINS_PATH = '/api/plugins/v1'
PAGE_LIMIT = 100
BULK_GOALS = 8  # the server's maxItems for PUT /goals and DELETE /goals
UNAUTHORIZED = 'Plugins API: unauthorized'
# A Community Edition server mints tokens with this prefix (API file §3.1); the server itself never checks it.
CE_TOKEN_PREFIX = 'plausible-plugin-selfhost-'
# A CE server stores no currency, then finds the goal "taken" with an empty one (API file §8.3).
CE_REVENUE_REFUSAL = '(with currency: ) has already been taken'
TRACKER_KEYS = ('installation_type', 'hash_based_routing', 'outbound_links', 'file_downloads', 'form_submissions')
TOKEN_HELP = ('make one in the dashboard at <api_url>/<domain>/settings/integrations?new_token=Ansible '
              '(Site Settings > Integrations > Plugin tokens); it is shown once')


class PluginsApi:
    """The Plugins API of one server, reached with one site's plugin token."""

    burst_limit = None  # the Plugins API has no rate limit (API file §4)
    sets_display_name = False  # goals always get the default display name (API file §7.2)
    bulk_goals = True  # PUT /goals takes up to 8 goals, atomically

    def __init__(self, transport, token):
        self.transport = transport
        self.auth = BasicAuth(token)
        self.community_edition = (token or '').strip().startswith(CE_TOKEN_PREFIX)
        transport.add_secrets(self.auth.secrets())
        self._domain = None
        self._features = None
        self._expected = None

    def expect_site(self, domain):
        """Tie this run to ``domain``: the first request checks that the token belongs to it."""
        self._expected = domain

    @property
    def base_url(self):
        return self.transport.base_url

    # -- what an answer means ------------------------------------------------------------------------------------

    def failure(self, method, path, response):
        transport, status = self.transport, response.status_code
        payload = parse_json(response)
        where = '%s %s' % (method, path)
        if status in (200, 201, 204):
            if status != 204 and payload is None:
                return transport.error('%s answered HTTP %d with a body that is not the API\'s JSON: %s'
                                       % (where, status, transport.excerpt(response)), status=status, kind='bad_response')
            return None
        errors = payload.get('errors') if isinstance(payload, dict) else None
        if isinstance(errors, list) and errors:
            detail = '; '.join(
                '%s%s' % ('%s: ' % e['source']['pointer'] if isinstance(e.get('source'), dict) else '', e.get('detail'))
                for e in errors if isinstance(e, dict))
            if status == 401 and detail == UNAUTHORIZED:
                return transport.error(
                    'plugin_token: the server refused the token (%s answered HTTP 401): it was revoked, its site was '
                    'deleted, or it belongs to another server. A new one: %s.' % (where, TOKEN_HELP),
                    status=status, error=detail, kind='unauthorized')
            kind = 'transient' if status >= 502 else 'api'
            message = 'Plausible answered %s with HTTP %d: %s' % (where, status, detail)
            if CE_REVENUE_REFUSAL in detail:
                message += (' (this is how a Community Edition server refuses every revenue goal: it has none; drop '
                            'currency)')
            return transport.error(message, status=status, error=detail, kind=kind)
        if status >= 500:
            return transport.error('%s answered HTTP %d with a body that is not the API\'s JSON: %s'
                                   % (where, status, transport.excerpt(response)), status=status, kind='transient')
        if method == 'PUT' and path.endswith('/goals') and status == 404:
            # API file §8.3 caveat (c): another kind of goal holds the default display name of the one asked for.
            return transport.error(
                '%s answered HTTP 404: another goal of the site already has the display name this goal would get '
                '("Visit <path>" or the event name), and the Plugins API cannot choose another one.' % where,
                status=status, kind='api')
        return transport.error(
            'The server at %s does not offer Plausible\'s Plugins API: %s answered HTTP %d (%s). Check api_url.'
            % (self.base_url, where, status, transport.excerpt(response)), status=status, kind='no_plugins_api')

    @staticmethod
    def already_deleted(failure):
        return False  # every delete of this API answers 204, found or not

    # -- requests ------------------------------------------------------------------------------------------------

    def request(self, method, route, params=None, body=None):
        if self._expected is not None and route != '/capabilities':
            self.check_site(self._expected)
        return self.transport.request(self, method, PLUGINS_PATH + route, params=params, body=body)

    def list_all(self, route, key):
        """Every item of a paginated listing: follow ``meta.pagination.links.next.url`` with the largest pages."""
        items, params = [], dict(limit=PAGE_LIMIT)
        while True:
            page = self.request('GET', route, params=params) or {}
            items.extend(page.get(key) or [])
            next_url = (((page.get('meta') or {}).get('pagination') or {}).get('links') or {}).get('next')
            if not next_url:
                return items
            params = dict(limit=PAGE_LIMIT, after=parse_qs(urlparse(next_url['url']).query)['after'][0])

    # -- the token and its site ----------------------------------------------------------------------------------

    def site_domain(self):
        """The current domain of the token's site, asked once per run; fails when the token is refused."""
        if self._domain is None:
            answer = self.request('GET', '/capabilities') or {}
            if not answer.get('authorized'):
                raise self.transport.error(
                    'plugin_token: the server does not accept the token (GET /capabilities says it is not authorized): '
                    'it was revoked, its site was deleted, or it belongs to another server. A new one: %s.'
                    % TOKEN_HELP, kind='unauthorized')
            self._domain = answer['data_domain']
            self._features = answer.get('features') or {}
        return self._domain

    def features(self, fresh=False):
        """The plan's features as ``GET /capabilities`` reports them (``Funnels``, ``Props``..): from the request that
        checked the token, or asked again when ``fresh``."""
        if fresh:
            self._domain = None
        self.site_domain()
        return self._features

    def check_site(self, domain):
        """Fail unless the token belongs to ``domain`` (the site's current, normalised domain)."""
        if self.site_domain() != domain:
            raise PlausibleError('plugin_token: the token belongs to the site %s, not to %s; a token is bound to one '
                                 'site. If %s was renamed to %s, use domain: %s; else give the token of %s (%s).'
                                 % (self._domain, domain, domain, self._domain, self._domain, domain, TOKEN_HELP),
                                 kind='wrong_site')

    # -- shared links --------------------------------------------------------------------------------------------

    def list_shared_links(self):
        return [item['shared_link'] for item in self.list_all('/shared_links', 'shared_links')]

    def find_or_create_shared_link(self, name, password=None):
        link = dict(name=name)
        if password:
            link['password'] = password
        return self.request('PUT', '/shared_links', body=dict(shared_link=link))['shared_link']

    # -- goals, in the Sites API's shape ---------------------------------------------------------------------------

    def list_goals(self, domain=None):
        return [_goal_from_plugins(item) for item in self.list_all('/goals', 'goals')]

    def create_goals(self, bodies):
        """Find or create goals, up to 8 per request; each request is atomic on the server."""
        goals = []
        for start in range(0, len(bodies), BULK_GOALS):
            chunk = [_goal_to_plugins(body) for body in bodies[start:start + BULK_GOALS]]
            answer = self.request('PUT', '/goals', body=dict(goals=chunk))
            goals.extend(_goal_from_plugins(item) for item in answer['goals'])
        return goals

    def find_or_create_goal(self, body):
        return self.create_goals([body])[0]

    def delete_goal(self, domain, goal_id):
        self.request('DELETE', '/goals/%d' % int(goal_id))

    # -- funnels (plausible.io and Enterprise only: Community Edition does not route them) ---------------------------

    def list_funnels(self):
        return [_funnel_from_plugins(item['funnel']) for item in self.list_all('/funnels', 'funnels')]

    def find_or_create_funnel(self, name, steps):
        """Find or create each step's goal, then the funnel by exact name; an existing one comes back unchanged."""
        body = dict(funnel=dict(name=name, steps=[_goal_to_plugins(step) for step in steps]))
        return _funnel_from_plugins(self.request('PUT', '/funnels', body=body)['funnel'])

    # -- custom properties (no read route) -------------------------------------------------------------------------

    def add_custom_properties(self, names):
        """Enable keys; the answer is the site's whole list after the change, the given keys first."""
        answer = self.request('PUT', '/custom_props', body=_custom_props(names))
        return [item['custom_prop']['key'] for item in answer['custom_props']]

    def delete_custom_properties(self, names):
        self.request('DELETE', '/custom_props', body=_custom_props(names))

    # -- tracker script configuration ------------------------------------------------------------------------------

    def get_tracker_script_configuration(self):
        return self.request('GET', '/tracker_script_configuration')['tracker_script_configuration']

    def update_tracker_script_configuration(self, changes):
        # installation_type is required by the schema even for a partial update.
        answer = self.request('PUT', '/tracker_script_configuration', body=dict(tracker_script_configuration=changes))
        return answer['tracker_script_configuration']


def _custom_props(names):
    return dict(custom_props=[dict(custom_prop=dict(key=name)) for name in names])


def _goal_from_plugins(item):
    goal = item['goal']
    page = item['goal_type'] == 'Goal.Pageview'
    return dict(id=goal['id'], display_name=goal['display_name'], goal_type='page' if page else 'event',
                event_name=None if page else goal['event_name'], page_path=goal['path'] if page else None,
                custom_props=goal.get('custom_props') or {}, currency=goal.get('currency'))


def _funnel_from_plugins(funnel):
    return dict(id=funnel['id'], name=funnel['name'], steps=[_goal_from_plugins(step) for step in funnel['steps']])


def _goal_to_plugins(body):
    goal = dict(custom_props=body.get('custom_props') or {})
    if body['goal_type'] == 'page':
        goal['path'] = body['page_path']
        return dict(goal_type='Goal.Pageview', goal=goal)
    goal['event_name'] = body['event_name']
    if body.get('currency'):
        goal['currency'] = body['currency']
        return dict(goal_type='Goal.Revenue', goal=goal)
    return dict(goal_type='Goal.CustomEvent', goal=goal)
