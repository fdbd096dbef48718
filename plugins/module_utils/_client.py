# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The one HTTP client of the collection: talks to Plausible's Sites API and knows nothing of Ansible.

Everything about the wire lives here: base URL handling, authentication, JSON, pagination, telling a
missing Sites API from a missing site, rate limits, retries, and keeping the API key out of every message.
"""

from __future__ import annotations

import json
import random
import time
import traceback
from urllib.parse import quote

try:
    import requests
except ImportError:
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

HAS_REQUESTS = requests is not None

COLLECTION_VERSION = '0.1.0'
USER_AGENT = 'plausible.analytics/%s (Ansible collection)' % COLLECTION_VERSION
SITES_PATH = '/api/v1/sites'
PAGE_LIMIT = 100

# The server's rate limits (plausible-sites-api.md §4): fixed windows aligned to multiples of the period.
BURST_LIMIT = 60
BURST_PERIOD = 10.0
HOUR_PERIOD = 3600.0

SITE_NOT_FOUND = 'Site could not be found'
GOAL_NOT_FOUND = 'Goal could not be found'
# The controller's crash handler sends this body; its triggers are deterministic (bad input), so it is not retried.
INTERNAL_ERROR = 'internal server error'
# Failures after which the server may or may not have acted on the request.
AMBIGUOUS = ('transport', 'transient')
EXCERPT_LENGTH = 200


class PlausibleError(Exception):
    """Any failure to get an answer from the API. ``kind`` says which, ``status`` and ``error`` what the server said."""

    def __init__(self, message, status=None, error=None, kind='api'):
        super().__init__(message)
        self.message = message
        self.status = status
        self.error = error
        self.kind = kind

    @property
    def site_not_found(self):
        return self.status == 404 and self.error == SITE_NOT_FOUND

    @property
    def goal_not_found(self):
        return self.status == 404 and self.error == GOAL_NOT_FOUND

    def __str__(self):
        return self.message


class BearerAuth:
    """``Authorization: Bearer <key>`` as the Sites API wants it. Another style only needs ``headers`` and ``secrets``."""

    def __init__(self, key):
        self._key = (key or '').strip()

    def headers(self):
        return {'Authorization': 'Bearer %s' % self._key}

    def secrets(self):
        return [self._key] if self._key else []

    def __repr__(self):
        return 'BearerAuth(<hidden>)'


def normalize_base_url(api_url):
    """Accept ``https://plausible.io``, ``https://plausible.io/`` and a pasted ``…/api/v1`` or ``…/api/v1/sites``."""
    url = (api_url or '').strip().rstrip('/')
    for suffix in (SITES_PATH, '/api/v1'):
        if url.endswith(suffix):
            url = url[:-len(suffix)].rstrip('/')
    return url


class PlausibleClient:
    """One session against one Plausible server.

    ``notify`` receives a sentence for every wait and retry, so the caller can show it; the client stays silent
    otherwise. ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(self, api_url, auth, validate_certs=True, timeout=30, retries=3, rate_limit_wait=60,
                 notify=None, session=None, clock=time.time, sleep=time.sleep):
        self.base_url = normalize_base_url(api_url)
        self.auth = auth
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.retries = max(0, retries)
        self.rate_limit_wait = max(0, rate_limit_wait)
        self.notify = notify or (lambda message: None)
        self.clock = clock
        self.sleep = sleep
        self.session = session
        self.request_count = 0
        self._burst_window = None
        self._burst_sent = 0

    # -- transport ---------------------------------------------------------------------------------------------

    def _session(self):
        if self.session is None:
            self.session = requests.Session()
            self.session.headers.update({'Accept': 'application/json', 'User-Agent': USER_AGENT})
        return self.session

    def redact(self, text):
        """Remove every secret from ``text``; used on every message that leaves the client."""
        text = '%s' % (text,)
        for secret in self.auth.secrets():
            text = text.replace(secret, '********')
        return text

    def _error(self, message, error=None, **kwargs):
        return PlausibleError(self.redact(message), error=None if error is None else self.redact(error), **kwargs)

    def _pace(self):
        """Stay under the burst limit on our own: after 60 requests in one aligned window, wait for the next."""
        now = self.clock()
        window = int(now // BURST_PERIOD)
        if window != self._burst_window:
            self._burst_window, self._burst_sent = window, 0
        if self._burst_sent >= BURST_LIMIT:
            pause = (window + 1) * BURST_PERIOD - now
            self.notify('Sent %d requests in this 10-second window; pausing %.1f s to stay under the burst limit.'
                        % (BURST_LIMIT, pause))
            self.sleep(pause)
            self._burst_window, self._burst_sent = window + 1, 0
        self._burst_sent += 1

    def _send(self, method, path, params, body):
        self._pace()
        self.request_count += 1
        headers = self.auth.headers()
        if body is not None:
            headers['Content-Type'] = 'application/json'
        return self._session().request(
            method, self.base_url + path, params=params, data=None if body is None else json.dumps(body),
            headers=headers, timeout=self.timeout, verify=self.validate_certs, allow_redirects=False)

    def request(self, method, path, params=None, body=None, retry_ambiguous=None):
        """Send one API request and return its parsed JSON, retrying what is safe to retry.

        ``retry_ambiguous`` decides whether a request whose outcome is unknown (timeout, reset, 5xx) may be sent
        again; it defaults to true for every method but POST, which is not idempotent.
        """
        if retry_ambiguous is None:
            retry_ambiguous = method != 'POST'
        attempt, ambiguous = 0, False
        while True:
            attempt += 1
            try:
                response = self._send(method, path, params, body)
            except requests.exceptions.RequestException as exc:
                failure = self._error('%s %s failed: %s' % (method, path, _describe_transport_error(exc)),
                                      kind='transport')
            else:
                failure = self._failure(method, path, response)
                if failure is None:
                    return _parse_json(response)
            if method == 'DELETE' and ambiguous and failure.status == 404 and failure.error in (SITE_NOT_FOUND, GOAL_NOT_FOUND):
                # The attempt whose answer was lost did the deleting.
                self.notify('%s; an earlier attempt whose answer was lost has deleted it.' % failure.message)
                return {'deleted': True}
            delay = self._retry_delay(failure, attempt, retry_ambiguous)
            if delay is None:
                raise failure
            ambiguous = ambiguous or failure.kind in AMBIGUOUS
            self.notify('%s; retrying in %.1f s (attempt %d of %d).' % (failure.message, delay, attempt + 1, self.retries + 1))
            self.sleep(delay)

    def _write_then_check(self, method, path, body, landed):
        """Send a write that is not idempotent. After an ambiguous failure, wait, then ask ``landed()`` whether the
        write went through (it returns the result, or None) before sending it again."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.request(method, path, body=body, retry_ambiguous=False)
            except PlausibleError as exc:
                if exc.kind not in AMBIGUOUS or attempt > self.retries:
                    raise
                delay = self._backoff(attempt)
                self.sleep(delay)
                result = landed()
                if result is not None:
                    self.notify('%s; %.1f s later a read shows that it went through, so it is not sent again.'
                                % (exc.message, delay))
                    return result
                self.notify('%s; %.1f s later a read shows that it did not go through; sending it again.'
                            % (exc.message, delay))

    @staticmethod
    def _backoff(attempt):
        return min(2.0 ** (attempt - 1), 30.0) * random.uniform(0.5, 1.0)

    def _retry_delay(self, failure, attempt, retry_ambiguous):
        """How long to wait before sending again, or None when the failure is final."""
        if failure.kind == 'hourly_limit':
            wait = self._until_next(HOUR_PERIOD)
            if wait > self.rate_limit_wait or attempt > self.retries:
                failure.message += (' The hourly window resets in %d s; rate_limit_wait (%d s) and retries (%d) bound '
                                    'the waiting.' % (wait, self.rate_limit_wait, self.retries))
                return None
            return wait + random.uniform(0.05, 1.0)
        if attempt > self.retries:
            return None
        if failure.kind == 'burst_limit':
            return self._until_next(BURST_PERIOD) + random.uniform(0.05, 0.5)
        if failure.kind in AMBIGUOUS and retry_ambiguous:
            return self._backoff(attempt)
        return None

    def _until_next(self, period):
        now = self.clock()
        return (int(now // period) + 1) * period - now

    # -- responses ---------------------------------------------------------------------------------------------

    def _failure(self, method, path, response):
        """Turn a response that is not a success into a PlausibleError, or return None for a success."""
        status = response.status_code
        payload = _parse_json(response)
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
            return self._error(message, status=status, error=api_error, kind=kind)
        if status >= 500 or (status == 200 and payload is None and response.content):
            return self._error('%s answered HTTP %d with a body that is not the API\'s JSON: %s'
                               % (where, status, self._excerpt(response)), status=status,
                               kind='transient' if status >= 500 else 'bad_response')
        if status == 200:
            return self._error('%s answered HTTP 200 with an empty body' % where, status=status, kind='bad_response')
        # HTML, redirects, 406 and Phoenix's {"status":…,"message":…}: no Sites API at this address (API file §1.1).
        return self._error(
            'The server at %s does not offer Plausible\'s Sites API: %s answered HTTP %d (%s). The Sites API exists on '
            'plausible.io and Enterprise servers; a self-hosted Community Edition server does not have it. '
            'Check api_url, or manage this server through its dashboard.'
            % (self.base_url, where, status, self._excerpt(response)), status=status, kind='no_sites_api')

    def _excerpt(self, response):
        text = self.redact(' '.join((response.text or '').split()))
        if not text:
            return 'empty body'
        if len(text) > EXCERPT_LENGTH:
            text = text[:EXCERPT_LENGTH] + '…'
        return '"%s"' % text

    # -- conveniences ------------------------------------------------------------------------------------------

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

    # -- the Sites API, one method per use -----------------------------------------------------------------------

    def get_site(self, domain):
        """The site, or None when the server says it does not exist."""
        try:
            return self.get('%s/%s' % (SITES_PATH, _segment(domain)))
        except PlausibleError as exc:
            if exc.site_not_found:
                return None
            raise

    def create_site(self, body):
        """POST is not idempotent: after an ambiguous failure, read the site to learn whether it was created."""
        return self._write_then_check('POST', SITES_PATH, body, lambda: self.get_site(body['domain']))

    def update_site(self, domain, body):
        """A configuration change is idempotent; a rename is not, so after an ambiguous failure it is checked first."""
        path = '%s/%s' % (SITES_PATH, _segment(domain))
        if 'domain' not in body:
            return self.put(path, body)

        def renamed():
            site = self.get_site(body['domain'])
            return site if site is not None and site['domain'] == body['domain'] else None
        return self._write_then_check('PUT', path, body, renamed)

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
        return self.list_all(SITES_PATH + '/teams', 'teams')

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


def _parse_json(response):
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _describe_transport_error(exc):
    if isinstance(exc, requests.exceptions.SSLError):
        return 'TLS verification failed (%s); set validate_certs to false only for a server you trust' % type(exc).__name__
    if isinstance(exc, requests.exceptions.Timeout):
        return 'no answer within the timeout (%s)' % type(exc).__name__
    if isinstance(exc, requests.exceptions.ConnectionError):
        return 'could not connect or the connection broke (%s)' % type(exc).__name__
    return type(exc).__name__
