# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Sites API (``/api/v1/sites``, ``plausible-sites-api.md``) as a thin surface over the transport.

It knows the API's routes, its rate limits, how it paginates, and what its answers mean: a missing site, a missing
goal, a rate limit, or a server that has no Sites API at all (Community Edition).
"""

from __future__ import annotations

from urllib.parse import quote

from ._transport import BearerAuth, PlausibleError, parse_json

SITES_PATH = '/api/v1/sites'
PAGE_LIMIT = 100
SITE_NOT_FOUND = 'Site could not be found'
GOAL_NOT_FOUND = 'Goal could not be found'
# The controller's crash handler sends this body; its triggers are deterministic (bad input), so it is not retried.
INTERNAL_ERROR = 'internal server error'


class SitesApi:
    """The Sites API of one server, reached with an API key."""

    # The server's rate limits (API file §4): fixed windows aligned to multiples of the period.
    burst_limit = (60, 10.0)
    hour_period = 3600.0
    sets_display_name = True
    bulk_goals = False  # one find-or-create per goal
    community_edition = False  # a server that answers the Sites API is not Community Edition

    def __init__(self, transport, api_key):
        self.transport = transport
        self.auth = BearerAuth(api_key)
        transport.add_secrets(self.auth.secrets())
        self._expected = None
        self._teams = None

    def expect_site(self, domain):
        """Tie this run to ``domain``: the first request checks that it is not a renamed site's old name."""
        self._expected = domain

    @property
    def base_url(self):
        return self.transport.base_url

    def redact(self, text):
        return self.transport.redact(text)

    # -- what an answer means ------------------------------------------------------------------------------------

    def failure(self, method, path, response):
        """Turn a response that is not a success into a PlausibleError, or return None for a success."""
        transport, status = self.transport, response.status_code
        payload = parse_json(response)
        api_error = payload.get('error') if isinstance(payload, dict) and isinstance(payload.get('error'), str) else None
        if status == 200 and api_error is None and payload is not None:
            return None
        where = '%s %s' % (method, path)
        if api_error is not None:
            kind = 'api'
            if status == 429:
                kind = 'hourly_limit' if 'per hour' in api_error else 'burst_limit'
            elif status >= 500 and api_error != INTERNAL_ERROR:
                kind = 'transient'
            message = 'Plausible answered %s with HTTP %d: %s' % (where, status, api_error.rstrip())
            if status in (400, 404, 500) and api_error == INTERNAL_ERROR:
                message += ' (the server failed on this input; it is not retried)'
            missing = {SITE_NOT_FOUND: 'site', GOAL_NOT_FOUND: 'goal'}.get(api_error) if status == 404 else None
            return transport.error(message, status=status, error=api_error, kind=kind, missing=missing)
        if status >= 500 or (status == 200 and payload is None and response.content):
            return transport.error('%s answered HTTP %d with a body that is not the API\'s JSON: %s'
                                   % (where, status, transport.excerpt(response)), status=status,
                                   kind='transient' if status >= 500 else 'bad_response')
        if status == 200:
            return transport.error('%s answered HTTP 200 with an empty body' % where, status=status, kind='bad_response')
        # HTML, redirects, 406 and Phoenix's {"status":…,"message":…}: no Sites API at this address (API file §1.1).
        return transport.error(
            'The server at %s does not offer Plausible\'s Sites API: %s answered HTTP %d (%s). The Sites API exists on '
            'plausible.io and Enterprise servers; a self-hosted Community Edition server does not have it. '
            'Check api_url; on Community Edition, give the site\'s plugin_token instead of api_key to manage its goals, '
            'shared links, custom properties and tracker through the Plugins API.'
            % (self.base_url, where, status, transport.excerpt(response)), status=status, kind='no_sites_api')

    @staticmethod
    def already_deleted(failure):
        """A DELETE retried after a lost answer and now told "not found": the lost attempt did the deleting."""
        return failure.missing is not None

    # -- requests ------------------------------------------------------------------------------------------------

    def resolve_expected(self):
        """Check the expected site now, for a run that would send nothing else (check mode)."""
        if self._expected is not None:
            self.resolve_site(self._expected)

    def request(self, method, path, params=None, body=None, retry_ambiguous=None):
        if self._expected is not None:
            self.resolve_site(self._expected)
        return self.transport.request(self, method, path, params=params, body=body, retry_ambiguous=retry_ambiguous)

    def get(self, path, **params):
        return self.request('GET', path, params=params or None)

    def put(self, path, body):
        return self.request('PUT', path, body=body)

    def delete(self, path, **params):
        return self.request('DELETE', path, params=params or None)

    def list_all(self, path, key, **params):
        """Every item of a paginated listing, following ``meta.after`` with the largest page the server allows."""
        items, after = [], None
        while True:
            query = dict(params, limit=PAGE_LIMIT)
            if after:
                query['after'] = after
            page = self.get(path, **query)
            items.extend(page.get(key) or [])
            after = (page.get('meta') or {}).get('after')
            if not after:
                return items

    # -- the routes, one method per use --------------------------------------------------------------------------

    def get_site(self, domain):
        """The site, or None when the server says it does not exist."""
        try:
            return self.get('%s/%s' % (SITES_PATH, _segment(domain)))
        except PlausibleError as exc:
            if exc.site_not_found:
                return None
            raise

    def resolve_site(self, domain):
        """The site ``domain`` names, or None when there is none; every module resolves a site through here.

        For 72 hours after a rename the old domain still names the site (API file §2.6): it is refused, naming the new
        one, so that no module acts on the renamed site under its old name.
        """
        if self._expected == domain:
            self._expected = None
        site = self.get_site(domain)
        if site is not None and site['domain'] != domain:
            raise PlausibleError('%s was renamed to %s less than 72 hours ago and now names that site; use domain: %s '
                                 '(nothing was changed).' % (domain, site['domain'], site['domain']), kind='renamed')
        return site

    def create_site(self, body):
        """POST is not idempotent: after an ambiguous failure, read the site to learn whether it was created."""
        return self.transport.write_then_check(self, 'POST', SITES_PATH, body, lambda: self.get_site(body['domain']))

    def update_site(self, domain, body):
        """A configuration change is idempotent; a rename is not, so after an ambiguous failure it is checked first."""
        path = '%s/%s' % (SITES_PATH, _segment(domain))
        if 'domain' not in body:
            return self.put(path, body)

        def renamed():
            site = self.get_site(body['domain'])
            return site if site is not None and site['domain'] == body['domain'] else None
        return self.transport.write_then_check(self, 'PUT', path, body, renamed)

    def delete_site(self, domain):
        return self.delete('%s/%s' % (SITES_PATH, _segment(domain)))

    def list_goals(self, domain):
        return self.list_all(SITES_PATH + '/goals', 'goals', site_id=domain)

    def find_or_create_goal(self, body):
        return self.put(SITES_PATH + '/goals', body)

    def delete_goal(self, domain, goal_id):
        return self.delete('%s/goals/%s' % (SITES_PATH, goal_id), site_id=domain)

    def find_or_create_shared_link(self, domain, name):
        return self.put(SITES_PATH + '/shared-links', {'site_id': domain, 'name': name})

    def list_sites(self, team_id=None):
        """Every site the key can see (``domain`` and ``timezone`` only), or those of one team."""
        params = dict(team_id=team_id) if team_id else {}
        return self.list_all(SITES_PATH, 'sites', **params)

    def list_teams(self):
        """The teams the key can see, listed once per run (every site created with a team_id is checked against it)."""
        if self._teams is None:
            self._teams = self.list_all(SITES_PATH + '/teams', 'teams')
        return self._teams

    def list_custom_properties(self, domain):
        """The site's allowed custom property names, sorted; one request, the listing is not paginated."""
        answer = self.get(SITES_PATH + '/custom-props', site_id=domain)
        return [item['property'] for item in answer.get('custom_properties') or []]

    def add_custom_property(self, domain, name):
        """Idempotent, but moves an existing property to the front of the site's list: send it only when missing."""
        return self.put(SITES_PATH + '/custom-props', {'site_id': domain, 'property': name})

    def delete_custom_property(self, domain, name):
        # The server joins the remaining path segments with "/", so a name holding "/" is sent as it is.
        return self.delete('%s/custom-props/%s' % (SITES_PATH, quote(name, safe='/')), site_id=domain)

    def list_guests(self, domain):
        return self.list_all(SITES_PATH + '/guests', 'guests', site_id=domain)

    def invite_guest(self, domain, email, role):
        """Find or invite: an existing guest comes back with its own role, whatever ``role`` says."""
        return self.put(SITES_PATH + '/guests', {'site_id': domain, 'email': email, 'role': role})

    def delete_guest(self, domain, email):
        return self.delete('%s/guests/%s' % (SITES_PATH, _segment(email)), site_id=domain)


def _segment(value):
    """Quote one path segment; domains may hold ``/`` (paths are allowed) and non-ASCII letters."""
    return quote(value, safe='')
