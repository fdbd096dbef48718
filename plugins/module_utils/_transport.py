# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The one way this collection sends an HTTP request; knows nothing of Ansible and little of either API.

Everything about the wire lives here: the base URL, the session, JSON, retries, pacing under a rate limit, and
keeping every secret out of every message. What an answer means is the business of the API surface that sent the
request (``_sites_api.py``): it tells success from failure and names the failure's ``kind``.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import time
import traceback
from urllib.parse import urljoin, urlsplit

try:
    import requests
except ImportError:
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

HAS_REQUESTS = requests is not None

COLLECTION_VERSION = '1.0.0'
USER_AGENT = 'plausible.analytics/%s (Ansible collection)' % COLLECTION_VERSION
# Failures after which the server may or may not have acted on the request.
AMBIGUOUS = ('transport', 'transient')
# Failures of a write after which the server has (or may have) acted on it: the write counts as done.
WROTE = AMBIGUOUS + ('bad_response',)
EXCERPT_LENGTH = 200
REDACTED = '********'
# Transport.fetch: what it reads at most, in which pieces, and the kinds of failure it reports.
FETCH_MAX_BYTES = 5 * 1024 * 1024
FETCH_CHUNK = 64 * 1024
FETCH_FAILURES = ('invalid_url', 'dns_error', 'connect_error', 'tls_error', 'timeout', 'too_many_redirects')
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class Fetched:
    """What Transport.fetch got: the final URL, its status, headers and (possibly truncated) body, the redirects."""

    def __init__(self, url, status, headers, body, truncated=False, redirects=()):
        self.url = url
        self.status = status
        self.headers = headers  # case-insensitive; repeated headers joined by ', '
        self.body = body
        self.truncated = truncated
        self.redirects = list(redirects)


class PlausibleError(Exception):
    """Any failure to get an answer from an API. ``kind`` says which, ``status`` and ``error`` what the server said."""

    def __init__(self, message, status=None, error=None, kind='api', missing=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.error = error
        self.kind = kind
        self.missing = missing  # what the server says does not exist: 'site', 'goal' or None

    @property
    def site_not_found(self):
        return self.missing == 'site'

    @property
    def goal_not_found(self):
        return self.missing == 'goal'

    def __str__(self):
        return self.message


class BearerAuth:
    """``Authorization: Bearer <key>``, as the Sites API wants it."""

    def __init__(self, key):
        self._key = (key or '').strip()

    def headers(self):
        return {'Authorization': 'Bearer %s' % self._key}

    def secrets(self):
        return [self._key] if self._key else []

    def __repr__(self):
        return 'BearerAuth(<hidden>)'


class BasicAuth:
    """HTTP Basic with the secret as password, as the Plugins API wants its per-site token (the user name is unused)."""

    def __init__(self, token, username='ansible'):
        self._token = (token or '').strip()
        self._encoded = base64.b64encode(('%s:%s' % (username, self._token)).encode()).decode()

    def headers(self):
        return {'Authorization': 'Basic %s' % self._encoded}

    def secrets(self):
        return [self._token, self._encoded] if self._token else []

    def __repr__(self):
        return 'BasicAuth(<hidden>)'


def normalize_base_url(api_url):
    """Accept ``https://plausible.io``, ``https://plausible.io/`` and a pasted API path such as ``…/api/v1/sites``."""
    url = (api_url or '').strip().rstrip('/')
    for suffix in ('/api/v1/sites', '/api/v1', '/api/plugins/v1'):
        if url.endswith(suffix):
            url = url[:-len(suffix)].rstrip('/')
    return url


class Transport:
    """One HTTP session against one Plausible server, shared by every API surface of a module run.

    ``notify`` receives a sentence for every wait and retry, so the caller can show it; the transport stays silent
    otherwise. ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(self, base_url, validate_certs=True, timeout=30, retries=3, rate_limit_wait=60,
                 notify=None, session=None, clock=time.time, sleep=time.sleep):
        self.base_url = normalize_base_url(base_url)
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.retries = max(0, retries)
        self.rate_limit_wait = max(0, rate_limit_wait)
        self.notify = notify or (lambda message: None)
        self.clock = clock
        self.sleep = sleep
        self.session = session
        self.request_count = 0
        self.writes = 0  # writes the server has, or may have, acted on: a failure after one must not claim "no change"
        self._secrets = []
        self._windows = {}

    def _session(self):
        if self.session is None:
            self.session = requests.Session()
            self.session.headers.update({'Accept': 'application/json', 'User-Agent': USER_AGENT})
        return self.session

    def add_secrets(self, secrets):
        """Register what must never be shown; longest first, so that no secret is left half-redacted."""
        self._secrets = sorted(set(self._secrets) | set(secrets), key=len, reverse=True)

    def redact(self, text):
        """Remove every registered secret from ``text``; used on every message that leaves the transport."""
        text = '%s' % (text,)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def error(self, message, error=None, **kwargs):
        return PlausibleError(self.redact(message), error=None if error is None else self.redact(error), **kwargs)

    def excerpt(self, response):
        text = self.redact(' '.join((response.text or '').split()))
        if not text:
            return 'empty body'
        if len(text) > EXCERPT_LENGTH:
            text = text[:EXCERPT_LENGTH] + '…'
        return '"%s"' % text

    def _pace(self, limit):
        """Stay under a burst limit ``(requests, period)`` on our own: after that many in one aligned window, wait."""
        count, period = limit
        now = self.clock()
        window = int(now // period)
        current, sent = self._windows.get(limit, (None, 0))
        if window != current:
            current, sent = window, 0
        if sent >= count:
            pause = (window + 1) * period - now
            self.notify('Sent %d requests in this %g-second window; pausing %.1f s to stay under the burst limit.'
                        % (count, period, pause))
            self.sleep(pause)
            current, sent = window + 1, 0
        self._windows[limit] = (current, sent + 1)

    def _send(self, api, method, path, params, body):
        if api.burst_limit:
            self._pace(api.burst_limit)
        self.request_count += 1
        headers = api.auth.headers()
        if body is not None:
            headers['Content-Type'] = 'application/json'
        return self._session().request(
            method, self.base_url + path, params=params, data=None if body is None else json.dumps(body),
            headers=headers, timeout=self.timeout, verify=self.validate_certs, allow_redirects=False)

    def request(self, api, method, path, params=None, body=None, retry_ambiguous=None):
        """Send one request for the surface ``api`` and return its parsed JSON, retrying what is safe to retry.

        ``api.failure(method, path, response)`` returns None for a success, else a PlausibleError whose ``kind``
        decides the retry. ``retry_ambiguous`` decides whether a request whose outcome is unknown (timeout, reset,
        5xx) may be sent again; it defaults to true for every method but POST, which is not idempotent.
        """
        if retry_ambiguous is None:
            retry_ambiguous = method != 'POST'
        attempt, ambiguous = 0, False
        while True:
            attempt += 1
            try:
                response = self._send(api, method, path, params, body)
            except requests.exceptions.RequestException as exc:
                failure = self.error('%s %s failed: %s' % (method, path, _describe_transport_error(exc)),
                                     kind='transport')
            else:
                failure = self._redirect(method, path, response) or api.failure(method, path, response)
            if method != 'GET' and (failure is None or failure.kind in WROTE):
                self.writes += 1
            if failure is None:
                return parse_json(response)
            if method == 'DELETE' and ambiguous and api.already_deleted(failure):
                self.notify('%s; an earlier attempt whose answer was lost has deleted it.' % failure.message)
                return {'deleted': True}
            delay = self._retry_delay(api, failure, attempt, retry_ambiguous)
            if delay is None:
                raise failure
            ambiguous = ambiguous or failure.kind in AMBIGUOUS
            self.notify('%s; retrying in %.1f s (attempt %d of %d).' % (failure.message, delay, attempt + 1, self.retries + 1))
            self.sleep(delay)

    def _redirect(self, method, path, response):
        """A 3xx to another address: final, followed by no request (that would carry the credential elsewhere), and
        named. One without a Location, or to a page of the same server (Community Edition's /register), is the API
        surface's to explain."""
        status, location = response.status_code, (getattr(response, 'headers', None) or {}).get('Location')
        if not 300 <= status < 400 or not location:
            return None
        target = urljoin(self.base_url + path, location)
        # The API's address at the target: the target less the requested path, else the target's origin.
        url = urlsplit(target)
        suggested = '%s://%s%s' % (url.scheme, url.netloc, url.path[:-len(path)] if url.path.endswith(path) else '')
        if normalize_base_url(suggested) == self.base_url:
            return None
        return self.error('The server at %s redirects %s %s to %s (HTTP %d). No request follows a redirect, so that no '
                          'credential goes elsewhere: set api_url to %s if that is your Plausible server.'
                          % (self.base_url, method, path, target, status, normalize_base_url(suggested)),
                          status=status, kind='redirect')

    def write_then_check(self, api, method, path, body, landed):
        """Send a write that is not idempotent. After an ambiguous failure, wait, then ask ``landed()`` whether the
        write went through (it returns the result, or None) before sending it again."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.request(api, method, path, body=body, retry_ambiguous=False)
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

    def _retry_delay(self, api, failure, attempt, retry_ambiguous):
        """How long to wait before sending again, or None when the failure is final."""
        if failure.kind == 'hourly_limit':
            wait = self._until_next(api.hour_period)
            if wait > self.rate_limit_wait or attempt > self.retries:
                failure.message += (' The hourly window resets in %d s; rate_limit_wait (%d s) and retries (%d) bound '
                                    'the waiting.' % (wait, self.rate_limit_wait, self.retries))
                return None
            return wait + random.uniform(0.05, 1.0)
        if attempt > self.retries:
            return None
        if failure.kind == 'burst_limit':
            return self._until_next(api.burst_limit[1]) + random.uniform(0.05, 0.5)
        if failure.kind in AMBIGUOUS and retry_ambiguous:
            return self._backoff(attempt)
        return None

    def _until_next(self, period):
        now = self.clock()
        return (int(now // period) + 1) * period - now

    def fetch(self, url, method='GET', headers=None, secret_headers=None, data=None, max_bytes=FETCH_MAX_BYTES,
              max_redirects=5):
        """Fetch any URL, not the API: bounded in size, redirects and time, for reading pages that are not trusted.

        Redirects are followed by hand (``max_redirects`` of them; None follows none) and recorded. ``secret_headers``
        go only to the origin of ``url`` and are redacted everywhere. The body is read up to ``max_bytes``. A failure to
        get any answer raises a PlausibleError whose ``kind`` is one of FETCH_FAILURES.
        """
        secret_headers = dict(secret_headers or {})
        self.add_secrets([value for value in secret_headers.values() if value])
        first_origin = origin(url)
        deadline = self.clock() + self.timeout
        redirects = []
        while True:
            sent = dict(headers or {})
            if origin(url) == first_origin:
                sent.update(secret_headers)
            response = self._fetch_once(method, url, sent, data)
            location = response.headers.get('Location')
            if max_redirects is None or response.status_code not in REDIRECT_STATUSES or not location:
                break
            response.close()
            location = urljoin(url, location)
            redirects.append(dict(status=response.status_code, location=self.redact(location)))
            if len(redirects) > max_redirects:
                raise self.error('%s %s: more than %d redirects (the last to %s)' % (method, url, max_redirects, location),
                                 kind='too_many_redirects')
            if response.status_code == 303 or (response.status_code in (301, 302) and method == 'POST'):
                method, data = 'GET', None
            url = location
        try:
            body, truncated = self._read_bounded(response, max_bytes, deadline, method, url)
        finally:
            response.close()
        return Fetched(url, response.status_code, response.headers, body, truncated, redirects)

    def _fetch_once(self, method, url, headers, data):
        self.request_count += 1
        try:
            return self._session().request(method, url, headers=headers, data=data, timeout=self.timeout,
                                           verify=self.validate_certs, allow_redirects=False, stream=True)
        except requests.exceptions.RequestException as exc:
            kind = _fetch_failure(exc)
            raise self.error('%s %s failed: %s' % (method, url, _describe_transport_error(exc) if kind != 'dns_error'
                                                   else 'the host name does not resolve'), kind=kind)

    def _read_bounded(self, response, max_bytes, deadline, method, url):
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(FETCH_CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    return b''.join(chunks)[:max_bytes], True
                if self.clock() > deadline:
                    raise self.error('%s %s: no complete answer within %s s' % (method, url, self.timeout), kind='timeout')
        except requests.exceptions.RequestException as exc:
            raise self.error('%s %s failed while reading: %s' % (method, url, _describe_transport_error(exc)),
                             kind=_fetch_failure(exc))
        return b''.join(chunks), False


def parse_json(response):
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def origin(url):
    """A URL's (scheme, host, port), the port defaulted; an untrusted URL with a malformed port has port None, so it
    is no other URL's origin."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or '').lower()
    try:
        return scheme, host, parts.port or {'http': 80, 'https': 443}.get(scheme)
    except ValueError:
        return scheme, host, None


def _fetch_failure(exc):
    """The kind of a requests exception, as Transport.fetch reports it; DNS is told apart by the error it wraps."""
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema, requests.exceptions.URLRequired)):
        return 'invalid_url'
    if isinstance(exc, requests.exceptions.SSLError):
        return 'tls_error'
    if isinstance(exc, requests.exceptions.Timeout) or _wraps(exc, _is_timeout):
        return 'timeout'
    if _wraps(exc, lambda inner: isinstance(inner, socket.gaierror) or type(inner).__name__ == 'NameResolutionError'):
        return 'dns_error'
    return 'connect_error'


def _is_timeout(exc):
    return isinstance(exc, TimeoutError) or type(exc).__name__ == 'ReadTimeoutError'


def _wraps(exc, test, depth=0):
    """Whether ``exc`` or an error it wraps (urllib3 nests them in reasons, causes and arguments) passes ``test``."""
    if not isinstance(exc, BaseException) or depth > 6:
        return False
    if test(exc):
        return True
    inner = [getattr(exc, 'reason', None), exc.__cause__, exc.__context__] + list(getattr(exc, 'args', ()))
    return any(_wraps(item, test, depth + 1) for item in inner if item is not exc)


def _describe_transport_error(exc):
    if isinstance(exc, requests.exceptions.SSLError):
        return 'TLS verification failed (%s); set validate_certs to false only for a server you trust' % type(exc).__name__
    if isinstance(exc, requests.exceptions.Timeout):
        return 'no answer within the timeout (%s)' % type(exc).__name__
    if isinstance(exc, requests.exceptions.ConnectionError):
        return 'could not connect or the connection broke (%s)' % type(exc).__name__
    return type(exc).__name__
