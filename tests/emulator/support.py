# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the emulator tests: a small HTTP client and assertions.

Expected messages are spelled out here from the spec, never imported from the server, so a wrong text in the
server makes a test fail.
"""

import base64
import math
import time

import requests

API_KEY = 'main-key-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
RO_KEY = 'read-only-key-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
TEAM_KEY = 'team-key-CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC'
ALICE_KEY = 'alice-key-DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD'
MAIN = 'user@example.com'
ALICE = 'alice@example.com'

# Generous limits so that ordinary tests never hit them; rate-limit tests lower them.
TEST_CONFIG = {'edition': 'hosted', 'has_user': True, 'hourly_limit': 1_000_000, 'burst_limit': 1_000_000,
               'burst_period': 10, 'hour_period': 3600, 'goal_limit': 1000, 'site_limit': None}

MISSING_KEY = 'Missing API key. Please use a valid Plausible API key as a Bearer Token.'
MISSING_SITE_ID = 'Missing site ID. Please provide the required site_id parameter with your request.'
INVALID_KEY = "Invalid API key. Please make sure you're using a valid API key with access to the resource you've requested."
CONSOLIDATED = 'This operation is unavailable for a consolidated view'
LOCKED = ('This Plausible site is locked due to missing active subscription. In order to access it, '
          'the site owner should subscribe to a suitable plan')
NO_SITES_API = ("The account that owns this API key does not have access to Sites API. Please make sure you're using "
                'the API key of a subscriber account and that the subscription plan includes Sites API')
NO_STATS_API = ("The account that owns this API key does not have access to Stats API. Please make sure you're using "
                'the API key of a subscriber account and that the subscription plan includes Stats API')
SITE_NOT_FOUND = 'Site could not be found'
GOAL_NOT_FOUND = 'Goal could not be found'
CRASH = 'internal server error'
TAKEN = ("domain: This domain cannot be registered. Perhaps one of your colleagues registered it? "
         "If that's not the case, please contact support@plausible.io\n")
HOURLY_600 = 'Too many API requests. The limit is 600 per hour. Please contact us to request more capacity.'
BURST_60 = 'Too many API requests in a short period of time. The limit is 60 per 10 seconds. Please throttle your requests.'

PLUGINS = '/api/plugins/v1'
UNAUTHORIZED = {'errors': [{'detail': 'Plugins API: unauthorized'}]}
RESOURCE_NOT_FOUND = {'errors': [{'detail': 'Plugins API: resource not found'}]}
CRASH_HOSTED = {'errors': [{'detail': 'Internal server error, please try again. If the problem persists please contact '
                                      'support@plausible.io'}]}
CRASH_CE = {'errors': [{'detail': 'Internal server error, please try again. '}]}
GENERIC_404 = {'status': 404, 'message': 'Not Found'}
GENERIC_406 = {'status': 406, 'message': 'Not Acceptable'}


def basic(token, user='Ansible'):
    """An HTTP Basic Authorization header value with the token as password (or alone when ``user`` is None)."""
    credentials = token if user is None else f'{user}:{token}'
    return 'Basic ' + base64.b64encode(credentials.encode()).decode()


class Client:
    """Talks to one emulator over real HTTP, on a keep-alive session."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method, path, key=API_KEY, headers=None, **kwargs):
        headers = dict(headers or {})
        if key is not None:
            headers.setdefault('Authorization', 'Bearer ' + key)
        return self.session.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, **kwargs):
        return self.request('POST', path, **kwargs)

    def put(self, path, **kwargs):
        return self.request('PUT', path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def plugins(self, method, path, token=None, headers=None, **kwargs):
        """A Plugins API request (``path`` below /api/plugins/v1) with the token as Basic password, if given."""
        headers = dict(headers or {})
        if token is not None:
            headers.setdefault('Authorization', basic(token))
        return self.request(method, PLUGINS + path, key=None, headers=headers, **kwargs)

    def plugin_token(self, domain, description='Ansible', **fields):
        return self.control('POST', 'plugin-tokens', dict(fields, domain=domain, description=description))['token']

    def control(self, method, path, body=None):
        response = self.session.request(method, self.base_url + '/_emulator/' + path, json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def config(self, **values):
        return self.control('POST', 'config', values)

    def seed(self, **spec):
        return self.control('POST', 'seed', spec)

    def state(self):
        return self.control('GET', 'state')

    def site_state(self, domain):
        return next(site for site in self.state()['sites'] if site['domain'] == domain)

    def log(self):
        return self.control('GET', 'requests')

    def create_site(self, domain, key=API_KEY, **fields):
        response = self.post('/api/v1/sites', key=key, json=dict(fields, domain=domain))
        assert response.status_code == 200, response.text
        return response.json()

    def create_goal(self, domain, **fields):
        response = self.put('/api/v1/sites/goals', json=dict(fields, site_id=domain))
        assert response.status_code == 200, response.text
        return response.json()

    def align_clock(self, period, into=0.05):
        """Shift the emulator clock so that it is ``into`` seconds past a multiple of ``period``."""
        now = time.time()
        target = math.ceil(now / period) * period + into
        self.control('POST', 'clock', {'offset': target - now})

    def seed_acme(self, role=None, **team):
        """Alice's team "Acme" with the site acme.test; the default user holds ``role`` in it, if given."""
        members = {MAIN: role} if role else {}
        self.seed(users=[{'email': ALICE}],
                  teams=[dict({'name': 'Acme', 'owner': ALICE, 'members': members}, **team)],
                  sites=[{'domain': 'acme.test', 'team': 'Acme'}],
                  keys=[{'key': ALICE_KEY, 'user': ALICE, 'label': 'alice'}])
        return next(t['id'] for t in self.state()['teams'] if t['name'] == 'Acme')


def assert_error(response, status, message):
    """An error of the API itself: the status and a JSON object whose only key is ``error``."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers['Content-Type'].startswith('application/json')
    assert response.json() == {'error': message}


def assert_plugins(response, status, body=None):
    """A Plugins API answer: the status, and the exact JSON body (or an empty body for 204)."""
    assert response.status_code == status, (response.status_code, response.text)
    if status == 204:
        assert response.content == b''
        return None
    assert response.headers['Content-Type'].startswith('application/json')
    if body is not None:
        assert response.json() == body
    return response.json()


def invalid(pointer, detail):
    """One schema validation entry (OpenApiSpex's JsonRenderErrorV2)."""
    return {'title': 'Invalid value', 'source': {'pointer': pointer}, 'detail': detail}


def assert_ok(response):
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()
