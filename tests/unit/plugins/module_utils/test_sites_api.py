# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client against scripted responses: URLs, headers, errors, pagination, retries, rate limits, secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from ansible_collections.plausible.analytics.plugins.module_utils._sites_api import SitesApi
from ansible_collections.plausible.analytics.plugins.module_utils._transport import (
    PlausibleError, Transport, normalize_base_url)

from ..fakes import KEY, FakeClock, FakeResponse, FakeSession


def make_client(*responses, url='https://plausible.example', **kwargs):
    clock = FakeClock(kwargs.pop('now', 1000.0))
    notes = []
    transport = Transport(url, session=FakeSession(*responses), clock=clock.time, sleep=clock.sleep,
                          notify=notes.append, **kwargs)
    client = SitesApi(transport, KEY)
    return client, clock, notes


@pytest.mark.parametrize('given, expected', [
    ('https://plausible.io', 'https://plausible.io'),
    ('https://plausible.io/', 'https://plausible.io'),
    ('https://plausible.io/api/v1', 'https://plausible.io'),
    ('https://plausible.io/api/v1/', 'https://plausible.io'),
    ('https://plausible.io/api/v1/sites', 'https://plausible.io'),
    (' http://127.0.0.1:8000// ', 'http://127.0.0.1:8000'),
    ('https://stats.example.com/plausible/', 'https://stats.example.com/plausible'),
])
def test_base_url_tolerates_slashes_and_pasted_api_paths(given, expected):
    assert normalize_base_url(given) == expected


def test_request_sends_bearer_json_timeout_and_verify():
    client, _clock, _notes = make_client(FakeResponse(200, {'domain': 'a.test'}), timeout=7, validate_certs=False,
                                         url='https://plausible.example/api/v1/')
    assert client.put('/api/v1/sites/a.test', {'domain': 'b.test'}) == {'domain': 'a.test'}
    sent = client.transport.session.sent[0]
    assert sent['method'] == 'PUT'
    assert sent['url'] == 'https://plausible.example/api/v1/sites/a.test'
    assert sent['headers']['Authorization'] == 'Bearer ' + KEY
    assert sent['headers']['Content-Type'] == 'application/json'
    assert json.loads(sent['data']) == {'domain': 'b.test'}
    assert sent['timeout'] == 7 and sent['verify'] is False and sent['allow_redirects'] is False


def test_session_carries_user_agent_with_version():
    """The User-Agent names the collection's version, galaxy.yml's: a release bumps both (_transport.COLLECTION_VERSION)."""
    galaxy = (Path(__file__).parents[4] / 'galaxy.yml').read_text(encoding='utf-8')
    version = re.search(r'^version:\s*(\S+)', galaxy, re.M).group(1)
    session = Transport('https://p.example')._session()
    assert session.headers['User-Agent'] == 'plausible.analytics/%s (Ansible collection)' % version
    assert session.headers['Accept'] == 'application/json'


def test_get_site_returns_none_only_for_site_not_found():
    client, _clock, _notes = make_client(FakeResponse(404, {'error': 'Site could not be found'}))
    assert client.get_site('missing.test') is None
    client, _clock, _notes = make_client(FakeResponse(401, {'error': 'Invalid API key.'}))
    with pytest.raises(PlausibleError) as info:
        client.get_site('a.test')
    assert info.value.status == 401 and info.value.error == 'Invalid API key.'
    assert 'HTTP 401: Invalid API key.' in str(info.value)


@pytest.mark.parametrize('error, missing', [('Site could not be found', 'site'), ('Goal could not be found', 'goal'),
                                            ('internal server error', None)])
def test_site_and_goal_not_found_are_distinguishable(error, missing):
    client, _clock, _notes = make_client(FakeResponse(404, {'error': error}))
    with pytest.raises(PlausibleError) as caught:
        client.get('/api/v1/sites/goals')
    assert caught.value.site_not_found == (missing == 'site')
    assert caught.value.goal_not_found == (missing == 'goal')


def test_domain_path_segment_is_quoted():
    client, _clock, _notes = make_client(FakeResponse(200, {'domain': 'a.test/blog'}))
    client.get_site('a.test/blog')
    assert client.transport.session.sent[0]['url'].endswith('/api/v1/sites/a.test%2Fblog')


@pytest.mark.parametrize('response', [
    FakeResponse(404, {'status': 404, 'message': 'Not Found'}),
    FakeResponse(406, {'status': 406, 'message': 'Not Acceptable'}),
    FakeResponse(404, text='<!DOCTYPE html><html><body>Oops! There\'s nothing here</body></html>'),
    FakeResponse(302, text=''),
    FakeResponse(302, text='', headers={'Location': '/register'}),  # a page of the same server: no Sites API here
])
def test_community_edition_answers_mean_no_sites_api(response):
    client, _clock, _notes = make_client(response)
    with pytest.raises(PlausibleError) as info:
        client.get_site('a.test')
    assert info.value.kind == 'no_sites_api'
    assert not info.value.site_not_found
    assert 'does not offer Plausible\'s Sites API' in str(info.value)
    assert 'Community Edition' in str(info.value)


@pytest.mark.parametrize('url, status, location, api_url', [
    ('http://stats.example', 301, 'https://stats.example/api/v1/sites/a.test', 'https://stats.example'),
    ('https://stats.example', 308, 'https://www.stats.example/api/v1/sites/a.test?x=1', 'https://www.stats.example'),
    ('https://stats.example', 302, '/plausible/api/v1/sites/a.test', 'https://stats.example/plausible'),
    ('https://stats.example', 307, 'https://sso.example/login?next=/api', 'https://sso.example'),
])
def test_a_redirect_is_named_and_not_followed(url, status, location, api_url):
    client, _clock, notes = make_client(FakeResponse(status, text='', headers={'Location': location}), url=url, retries=3)
    with pytest.raises(PlausibleError) as info:
        client.get_site('a.test')
    message = str(info.value)
    assert info.value.kind == 'redirect' and info.value.status == status
    assert 'redirects GET /api/v1/sites/a.test to ' in message and 'set api_url to %s ' % api_url in message
    assert 'does not offer' not in message and KEY not in message
    assert len(client.transport.session.sent) == 1 and notes == []  # no request follows, no retry


def test_list_all_follows_cursor_with_limit_100():
    client, _clock, _notes = make_client(
        FakeResponse(200, {'goals': [{'id': 3}, {'id': 2}], 'meta': {'after': 'c1', 'before': None, 'limit': 100}}),
        FakeResponse(200, {'goals': [{'id': 1}], 'meta': {'after': None, 'before': 'c0', 'limit': 100}}))
    assert [g['id'] for g in client.list_goals('a.test')] == [3, 2, 1]
    first, second = client.transport.session.sent
    assert first['params'] == {'site_id': 'a.test', 'limit': 100}
    assert second['params'] == {'site_id': 'a.test', 'limit': 100, 'after': 'c1'}


def test_burst_429_waits_for_next_aligned_window_then_retries():
    burst = {'error': 'Too many API requests in a short period of time. The limit is 60 per 10 seconds. Please throttle your requests.'}
    client, clock, notes = make_client(FakeResponse(429, burst), FakeResponse(200, {'ok': True}), now=1003.0)
    assert client.get('/api/v1/sites') == {'ok': True}
    assert 7.0 <= clock.slept[0] <= 7.5  # next window starts at 1010
    assert len(client.transport.session.sent) == 2
    assert 'retrying' in notes[0]


def test_hourly_429_fails_when_window_too_far_and_says_when():
    hourly = {'error': 'Too many API requests. The limit is 600 per hour. Please contact us to request more capacity.'}
    client, clock, _notes = make_client(FakeResponse(429, hourly), now=3600.0 * 10 + 100, rate_limit_wait=60)
    with pytest.raises(PlausibleError) as info:
        client.get('/api/v1/sites')
    assert info.value.kind == 'hourly_limit'
    assert 'resets in 3500 s' in str(info.value)
    assert clock.slept == []


def test_hourly_429_waits_when_allowed():
    hourly = {'error': 'Too many API requests. The limit is 600 per hour. Please contact us to request more capacity.'}
    client, clock, _notes = make_client(FakeResponse(429, hourly), FakeResponse(200, {}), now=3600.0 * 10 - 20,
                                        rate_limit_wait=60)
    assert client.get('/api/v1/sites') == {}
    assert 20 <= clock.slept[0] <= 21


def test_transient_failures_retry_with_bounded_backoff_then_fail():
    client, clock, notes = make_client(
        requests.exceptions.ConnectionError('reset'), FakeResponse(502, text='<html>Bad gateway</html>'),
        FakeResponse(503, {'error': 'unavailable'}), FakeResponse(504, text=''), retries=3)
    with pytest.raises(PlausibleError) as info:
        client.get('/api/v1/sites')
    assert len(client.transport.session.sent) == 4
    assert len(clock.slept) == 3 and all(0 < s <= 30 for s in clock.slept)
    assert len(notes) == 3
    assert 'HTTP 504' in str(info.value) and 'empty body' in str(info.value)


def test_internal_server_error_from_the_api_is_not_retried():
    client, _clock, _notes = make_client(FakeResponse(500, {'error': 'internal server error'}))
    with pytest.raises(PlausibleError) as info:
        client.put('/api/v1/sites/goals', {'site_id': 'a.test', 'goal_type': 'scroll'})
    assert len(client.transport.session.sent) == 1
    assert 'not retried' in str(info.value)


def test_post_is_not_blindly_resent_after_ambiguous_failure():
    site = {'domain': 'a.test', 'timezone': 'Etc/UTC'}
    client, _clock, notes = make_client(requests.exceptions.ReadTimeout('slow'), FakeResponse(200, site))
    assert client.create_site({'domain': 'a.test'}) == site
    methods = [s['method'] for s in client.transport.session.sent]
    assert methods == ['POST', 'GET']
    assert 'went through' in notes[0]


def test_post_is_resent_when_the_read_shows_no_site():
    site = {'domain': 'a.test', 'timezone': 'Etc/UTC'}
    client, _clock, _notes = make_client(FakeResponse(502, text='<html>gateway</html>'),
                                         FakeResponse(404, {'error': 'Site could not be found'}), FakeResponse(200, site))
    assert client.create_site({'domain': 'a.test'}) == site
    assert [s['method'] for s in client.transport.session.sent] == ['POST', 'GET', 'POST']


@pytest.mark.parametrize('response, expected', [
    (FakeResponse(200, text='{"domain": "a.te'), 'not the API\'s JSON'),
    (FakeResponse(200, text=''), 'empty body'),
    (FakeResponse(200, text='<html>maintenance</html>'), 'not the API\'s JSON'),
])
def test_bodies_that_are_not_json_give_a_clear_error(response, expected):
    client, _clock, _notes = make_client(response)
    with pytest.raises(PlausibleError) as info:
        client.get('/api/v1/sites')
    assert expected in str(info.value)
    assert info.value.kind == 'bad_response'


def test_pacing_stays_under_the_burst_limit():
    responses = [FakeResponse(200, {}) for _unused in range(61)]
    client, clock, _notes = make_client(*responses, now=2000.0)
    for _unused in range(61):
        client.get('/api/v1/sites')
    assert clock.slept == [10.0]


def test_key_never_appears_in_errors_even_when_echoed():
    client, _clock, notes = make_client(FakeResponse(502, text='<html>proxy saw Bearer %s</html>' % KEY), retries=0)
    with pytest.raises(PlausibleError) as info:
        client.get('/api/v1/sites')
    assert KEY not in str(info.value) and '********' in str(info.value)
    assert KEY not in repr(client.auth)


# -- rate limits, retries and redaction: the cases the integration target "faults" cannot reach -----------------

HOURLY = {'error': 'Too many API requests. The limit is 600 per hour. Please contact us to request more capacity.'}
BURST = {'error': 'Too many API requests in a short period of time. The limit is 60 per 10 seconds. Please throttle your requests.'}


def test_hourly_429_wait_lands_in_the_next_hour_and_is_reported():
    # 30 s before the top of an hour, with 60 s allowed: one wait past the boundary, said through notify.
    hour = 3600.0 * 20
    client, clock, notes = make_client(FakeResponse(429, HOURLY), FakeResponse(200, {'ok': True}), now=hour - 30,
                                       rate_limit_wait=60)
    assert client.get('/api/v1/sites') == {'ok': True}
    assert len(clock.slept) == 1
    assert hour <= clock.now <= hour + 1.5  # the retry is sent in the next hourly window, not long after
    assert len(client.transport.session.sent) == 2
    assert len(notes) == 1 and 'per hour' in notes[0] and 'retrying in' in notes[0]


def test_hourly_429_waits_long_when_the_user_allows_it():
    # rate_limit_wait is the user's bound, whatever it is: half an hour allowed, 20 minutes to wait.
    hour = 3600.0 * 30
    client, clock, _notes = make_client(FakeResponse(429, HOURLY), FakeResponse(200, {}), now=hour - 1200,
                                        rate_limit_wait=1800)
    assert client.get('/api/v1/sites') == {}
    assert 1200 <= clock.slept[0] <= 1201.5


def test_hourly_429_message_says_when_the_window_resets_even_without_retries():
    client, clock, _notes = make_client(FakeResponse(429, HOURLY), now=3600.0 * 40 + 600, retries=0, rate_limit_wait=0)
    with pytest.raises(PlausibleError) as info:
        client.get('/api/v1/sites')
    assert info.value.kind == 'hourly_limit'
    assert 'resets in 3000 s' in str(info.value)
    assert clock.slept == [] and len(client.transport.session.sent) == 1


def test_hourly_429_is_not_waited_for_beyond_rate_limit_wait_even_with_retries_left():
    client, clock, notes = make_client(FakeResponse(429, HOURLY), now=3600.0 * 50 + 10, retries=5, rate_limit_wait=3000)
    with pytest.raises(PlausibleError) as info:
        client.get('/api/v1/sites')
    assert 'resets in 3590 s' in str(info.value) and 'rate_limit_wait (3000 s)' in str(info.value)
    assert clock.slept == [] and notes == [] and len(client.transport.session.sent) == 1


def test_repeated_burst_429s_each_wait_for_the_next_window_within_the_retries():
    client, clock, notes = make_client(FakeResponse(429, BURST), FakeResponse(429, BURST), FakeResponse(200, {}),
                                       now=5004.0, retries=3)
    assert client.get('/api/v1/sites') == {}
    assert len(clock.slept) == 2
    first_retry = 5004.0 + clock.slept[0]
    second_retry = first_retry + clock.slept[1]
    assert 5010.0 < first_retry <= 5010.5    # just after the next aligned window starts
    assert 5020.0 < second_retry <= 5020.5   # and again just after the one after
    assert len(notes) == 2 and all('60 per 10 seconds' in note for note in notes)


def test_burst_429s_beyond_the_retries_fail_with_the_server_message():
    client, clock, _notes = make_client(*[FakeResponse(429, BURST) for _unused in range(3)], now=7000.0, retries=2)
    with pytest.raises(PlausibleError) as info:
        client.get('/api/v1/sites')
    assert len(client.transport.session.sent) == 3 and len(clock.slept) == 2
    assert info.value.kind == 'burst_limit' and '60 per 10 seconds' in str(info.value)


def test_backoff_is_exponential_with_jitter_and_capped():
    failures = [FakeResponse(503, text='<html>unavailable</html>') for _unused in range(9)]
    client, clock, notes = make_client(*failures, FakeResponse(200, {}), retries=9)
    assert client.get('/api/v1/sites') == {}
    for attempt, slept in enumerate(clock.slept, 1):
        ceiling = min(2.0 ** (attempt - 1), 30.0)
        assert ceiling / 2 <= slept <= ceiling, (attempt, slept)
    assert max(clock.slept) <= 30.0
    assert len(notes) == 9


@pytest.mark.parametrize('method', ['PUT', 'DELETE'])
def test_idempotent_writes_are_retried_after_ambiguous_failures(method):
    client, _clock, notes = make_client(requests.exceptions.ReadTimeout('slow'), requests.exceptions.ConnectionError('reset'),
                                        FakeResponse(200, {'deleted': True}))
    assert client.request(method, '/api/v1/sites/goals', body={'site_id': 'a.test'}) == {'deleted': True}
    assert [s['method'] for s in client.transport.session.sent] == [method] * 3
    assert len(notes) == 2


def test_post_is_never_retried_by_request_itself():
    client, _clock, _notes = make_client(FakeResponse(502, text='<html>gateway</html>'))
    with pytest.raises(PlausibleError):
        client.request('POST', '/api/v1/sites', body={'domain': 'a.test'})
    assert len(client.transport.session.sent) == 1


def test_pacing_starts_a_new_count_in_each_window_and_says_when_it_pauses():
    client, clock, notes = make_client(*[FakeResponse(200, {}) for _unused in range(121)], now=3000.0)
    for _unused in range(60):
        client.get('/api/v1/sites')
    clock.now = 3010.5  # the next aligned window: a fresh count, no pause
    for _unused in range(60):
        client.get('/api/v1/sites')
    assert clock.slept == [] and notes == []
    client.get('/api/v1/sites')  # the 61st of this window waits for the next one
    assert clock.slept == [pytest.approx(9.5)]
    assert len(notes) == 1 and 'pausing' in notes[0]


def test_key_cut_off_at_the_end_of_an_excerpt_does_not_leak():
    # A proxy page that echoes the Authorization header where the 200-character excerpt ends: no piece of the key
    # (here at least its first 20 characters would be left after the cut) may reach the message.
    page = '<html><body><p>%s Authorization: Bearer %s</p></body></html>' % ('x' * 142, KEY)
    client, _clock, _notes = make_client(FakeResponse(502, text=page), retries=0)
    with pytest.raises(PlausibleError) as info:
        client.get('/api/v1/sites')
    message = str(info.value)
    assert 'HTTP 502' in message
    pieces = set(KEY[i:i + 12] for i in range(len(KEY) - 11))
    assert [piece for piece in pieces if piece in message] == []


def test_key_echoed_in_the_api_error_is_redacted_in_message_and_error():
    client, _clock, _notes = make_client(FakeResponse(401, {'error': 'Invalid API key %s' % KEY}))
    with pytest.raises(PlausibleError) as info:
        client.get('/api/v1/sites')
    assert KEY not in str(info.value)
    assert KEY not in (info.value.error or '')


def test_key_echoed_in_a_retried_page_is_redacted_in_every_notice():
    page = '<html>Authorization: Bearer %s</html>' % KEY
    client, _clock, notes = make_client(FakeResponse(502, text=page), FakeResponse(502, text=page), FakeResponse(200, {}))
    assert client.get('/api/v1/sites') == {}
    assert len(notes) == 2 and all(KEY not in note and '********' in note for note in notes)


def test_create_reads_only_after_a_backoff_so_a_slow_create_is_seen():
    site = {'domain': 'a.test', 'timezone': 'Etc/UTC'}
    client, clock, notes = make_client(requests.exceptions.ReadTimeout('slow'), FakeResponse(200, site))
    assert client.create_site({'domain': 'a.test'}) == site
    assert [s['method'] for s in client.transport.session.sent] == ['POST', 'GET']
    assert len(clock.slept) == 1 and 0.5 <= clock.slept[0] <= 1.0  # the read waits for the slow server
    assert 'not sent again' in notes[0]


def test_rename_is_checked_before_it_is_sent_again():
    renamed = {'domain': 'new.test', 'timezone': 'Etc/UTC'}
    client, _clock, notes = make_client(requests.exceptions.ReadTimeout('slow'), FakeResponse(200, renamed))
    assert client.update_site('old.test', {'domain': 'new.test'}) == renamed
    assert [(s['method'], s['url'].rsplit('/', 1)[1]) for s in client.transport.session.sent] == [('PUT', 'old.test'), ('GET', 'new.test')]
    assert 'not sent again' in notes[0]


def test_rename_is_sent_again_when_the_read_shows_it_did_not_happen():
    renamed = {'domain': 'new.test', 'timezone': 'Etc/UTC'}
    client, _clock, _notes = make_client(requests.exceptions.ConnectionError('reset'),
                                         FakeResponse(404, {'error': 'Site could not be found'}), FakeResponse(200, renamed))
    assert client.update_site('old.test', {'domain': 'new.test'}) == renamed
    assert [s['method'] for s in client.transport.session.sent] == ['PUT', 'GET', 'PUT']


def test_configuration_change_is_retried_directly():
    site = {'domain': 'a.test'}
    client, _clock, _notes = make_client(requests.exceptions.ReadTimeout('slow'), FakeResponse(200, site))
    assert client.update_site('a.test', {'tracker_script_configuration': {'outbound_links': True}}) == site
    assert [s['method'] for s in client.transport.session.sent] == ['PUT', 'PUT']


@pytest.mark.parametrize('error', ['Goal could not be found', 'Site could not be found'])
def test_delete_whose_answer_was_lost_counts_as_done(error):
    client, _clock, notes = make_client(requests.exceptions.ReadTimeout('slow'), FakeResponse(404, {'error': error}))
    assert client.delete('/api/v1/sites/goals/5', site_id='a.test') == {'deleted': True}
    assert 'has deleted it' in notes[-1]


def test_delete_not_found_without_an_earlier_attempt_is_an_error():
    client, _clock, _notes = make_client(FakeResponse(404, {'error': 'Goal could not be found'}))
    with pytest.raises(PlausibleError) as info:
        client.delete('/api/v1/sites/goals/5', site_id='a.test')
    assert info.value.goal_not_found
