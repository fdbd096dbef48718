# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The control API under /_emulator/, fault injection, transport details and the command line."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest
import requests

from . import server
from .support import API_KEY, MAIN, RO_KEY, TEAM_KEY, TEST_CONFIG, Client, assert_error, assert_ok

SERVER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'server.py')


# -- reset, state, seed ---------------------------------------------------------------------------------------------

def test_reset_empties_state_and_keeps_keys_and_config(client):
    client.create_site('example.com')
    client.seed(users=[{'email': 'x@example.com'}], keys=[{'key': 'seeded-key', 'user': 'x@example.com'}])
    client.config(goal_limit=7)
    client.control('POST', 'faults', {'path': '/nowhere', 'status': 500})
    client.control('POST', 'clock', {'advance': 100})
    default_team = client.state()['teams'][0]['id']
    assert client.control('POST', 'reset') == {'ok': True}
    state = client.state()
    assert state['sites'] == [] and state['users'] == [{'email': MAIN, 'super_admin': False}]
    assert [team['id'] for team in state['teams']] == [default_team]
    assert state['config']['goal_limit'] == 7 and state['clock']['offset'] == 0
    assert client.log() == [] and client.control('GET', 'faults') == []
    assert_ok(client.get('/api/v1/sites'))  # the CLI keys survive
    assert client.get('/api/v1/sites', key='seeded-key').status_code == 401  # seeded keys do not


def test_reset_clears_rate_counters(client):
    client.config(burst_limit=1)
    client.align_clock(10)
    assert_ok(client.get('/api/v1/sites'))
    assert client.get('/api/v1/sites').status_code == 429
    client.control('POST', 'reset')
    client.align_clock(10, into=0.1)
    assert_ok(client.get('/api/v1/sites'))


def test_state_shape(client):
    client.create_site('example.com', tracker_script_configuration={'outbound_links': True})
    client.create_goal('example.com', goal_type='event', event_name='Purchase', currency='USD', custom_props={'a': 'b'})
    client.create_goal('example.com', goal_type='page', page_path='/docs', scroll_threshold=25)
    link = assert_ok(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com', 'name': 'Friends'}))
    assert_ok(client.put('/api/v1/sites/custom-props', json={'site_id': 'example.com', 'property': 'author'}))
    assert_ok(client.put('/api/v1/sites/guests', json={'site_id': 'example.com', 'email': 'g@example.com', 'role': 'editor'}))
    state = client.state()
    assert set(state) == {'config', 'clock', 'users', 'teams', 'sites'}
    assert state['config'] == TEST_CONFIG
    team = state['teams'][0]
    assert team == {'id': team['id'], 'name': 'My personal sites', 'setup': False,
                    'features': ['custom_props', 'revenue_goals', 'shared_links', 'sites_api', 'stats_api'], 'features_off': [],
                    'locked': False, 'hourly_limit': None, 'site_limit': None, 'members': [{'email': MAIN, 'role': 'owner'}]}
    site = state['sites'][0]
    assert site['domain'] == 'example.com' and site['timezone'] == 'Etc/UTC' and site['team_id'] == team['id']
    assert site['consolidated'] is False and site['domain_changed_from'] is None and site['domain_changed_at'] is None
    assert site['custom_properties'] == ['author']
    assert site['tracker_script_configuration']['outbound_links'] is True
    goals = {goal['event_name'] or goal['page_path']: goal for goal in site['goals']}
    assert set(goals) == {'Outbound Link: Click', 'Purchase', '/docs'}
    assert goals['Purchase'] == {'id': goals['Purchase']['id'], 'display_name': 'Purchase', 'goal_type': 'event',
                                 'event_name': 'Purchase', 'page_path': None, 'scroll_threshold': -1,
                                 'custom_props': {'a': 'b'}, 'currency': 'USD'}
    assert goals['/docs']['goal_type'] == 'scroll' and goals['/docs']['scroll_threshold'] == 25
    assert site['shared_links'] == [{'id': site['shared_links'][0]['id'], 'name': 'Friends', 'slug': link['url'].rsplit('=', 1)[1],
                                     'url': link['url'], 'password_protected': False}]
    assert site['guests'] == [{'email': 'g@example.com', 'role': 'editor', 'status': 'invited'}]
    assert site['funnels'] == []


def test_seed_answers_and_updates_existing_teams(client):
    default_team = client.state()['teams'][0]['id']
    answer = client.seed(users=[{'email': 'a@example.com', 'super_admin': True}],
                         teams=[{'name': 'Acme', 'owner': 'a@example.com'}, {'id': default_team, 'locked': True, 'features': []}],
                         sites=[{'domain': 'acme.test', 'team': 'Acme', 'domain_changed_from': 'old.test',
                                 'domain_changed_seconds_ago': 3600}],
                         keys=[{'key': 'k', 'user': 'a@example.com', 'team': 'Acme', 'label': 'acme-key'}])
    acme = answer['teams'][0]['id']
    assert answer == {'users': ['a@example.com'], 'teams': [{'id': acme, 'name': 'Acme'},
                                                            {'id': default_team, 'name': 'My personal sites'}],
                      'sites': ['acme.test'], 'keys': ['acme-key']}
    state = client.state()
    assert state['teams'][0]['locked'] is True and state['teams'][0]['features'] == []
    site = state['sites'][0]
    assert site['team_id'] == acme and site['domain_changed_from'] == 'old.test'
    assert abs(state['clock']['now'] - site['domain_changed_at'] - 3600) < 5
    assert assert_ok(client.get('/api/v1/sites/old.test', key='k'))['domain'] == 'acme.test'


@pytest.mark.parametrize('spec', [{'teams': [{'features': ['nope']}]}, {'sites': [{'domain': 'x', 'team': 'Unknown'}]},
                                  {'teams': [{'members': {'x@example.com': 'king'}}]}, {'sites': [{}]},
                                  {'sites': [{'domain': 'x', 'guests': [{'email': 'g@x', 'role': 'owner'}]}]},
                                  {'teams': [{'id': 'not-a-uuid'}]}, {'sites': [{'domain': 'x', 'goals': [{'nope': 1}]}]}])
def test_seed_rejects_bad_input_and_changes_nothing(client, spec):
    before = client.state()
    response = client.session.post(client.base_url + '/_emulator/seed', json=dict(spec, users=[{'email': 'new@example.com'}]))
    assert response.status_code == 400 and 'error' in response.json()
    after = client.state()
    assert dict(after, clock=None) == dict(before, clock=None)


def test_unknown_control_route_and_bad_json(client):
    assert client.session.get(client.base_url + '/_emulator/nope').status_code == 404
    response = client.session.post(client.base_url + '/_emulator/seed', data='[1]', headers={'Content-Type': 'application/json'})
    assert response.status_code == 400


# -- request log ----------------------------------------------------------------------------------------------------

def test_request_log_records_requests_without_the_key(client):
    client.post('/api/v1/sites?x=1', json={'domain': 'example.com'})
    client.put('/api/v1/sites/goals', key=RO_KEY, data={'site_id': 'example.com', 'goal_type': 'event'})
    client.get('/api/v1/sites', key=TEAM_KEY, headers={'Accept': 'application/json'})
    client.get('/api/v1/sites', key=None)
    client.get('/api/v1/sites', key='not-a-key')
    client.delete('/api/v1/sites/example.com', data='raw text', headers={'Content-Type': 'text/plain'})
    log = client.log()
    assert [(entry['method'], entry['path'], entry['status'], entry['key']) for entry in log] == [
        ('POST', '/api/v1/sites', 200, 'main'), ('PUT', '/api/v1/sites/goals', 401, 'key1'),
        ('GET', '/api/v1/sites', 200, 'team-key1'), ('GET', '/api/v1/sites', 401, 'none'),
        ('GET', '/api/v1/sites', 401, 'unknown'), ('DELETE', '/api/v1/sites/example.com', 200, 'main')]
    assert log[0]['query'] == {'x': '1'} and log[0]['body'] == {'domain': 'example.com'}
    assert log[1]['body'] == {'site_id': 'example.com', 'goal_type': 'event'}
    assert log[2]['headers']['accept'] == 'application/json' and log[3]['body'] is None
    assert log[5]['body'] == 'raw text'
    assert all(entry['fault'] is False and isinstance(entry['time'], float) for entry in log)
    dump = json.dumps(log)
    for secret in (API_KEY, RO_KEY, TEAM_KEY, 'not-a-key', 'Bearer', 'uthorization'):
        assert secret not in dump
    assert client.control('DELETE', 'requests') == {'ok': True}
    assert client.log() == []


def test_control_requests_are_neither_logged_nor_rate_limited(client):
    client.config(burst_limit=1)
    client.align_clock(10)
    for attempt in range(5):
        client.state()
    assert client.log() == []
    assert_ok(client.get('/api/v1/sites'))


# -- faults ---------------------------------------------------------------------------------------------------------

def test_fault_with_status_and_json(client):
    fault = client.control('POST', 'faults', {'method': 'POST', 'path': '/api/v1/sites', 'status': 503,
                                              'json': {'error': 'maintenance'}, 'headers': {'Retry-After': '3'}})
    assert isinstance(fault['id'], int)
    response = client.post('/api/v1/sites', json={'domain': 'example.com'})
    assert response.status_code == 503 and response.json() == {'error': 'maintenance'}
    assert response.headers['Retry-After'] == '3'
    assert client.state()['sites'] == []  # not touched
    assert [(entry['status'], entry['fault']) for entry in client.log()] == [(503, True)]
    assert_ok(client.post('/api/v1/sites', json={'domain': 'example.com'}))  # count defaults to 1


def test_fault_bodies_html_empty_truncated(client):
    client.control('POST', 'faults', {'path': '/api/v1/sites', 'status': 502, 'body': '<html><body>Bad Gateway</body></html>',
                                      'content_type': 'text/html'})
    client.control('POST', 'faults', {'path': '/api/v1/sites', 'status': 200, 'body': ''})
    client.control('POST', 'faults', {'path': '/api/v1/sites', 'status': 200, 'body': '{"sites": [{"dom',
                                      'content_type': 'application/json'})
    html = client.get('/api/v1/sites')
    assert html.status_code == 502 and html.headers['Content-Type'] == 'text/html' and 'Bad Gateway' in html.text
    empty = client.get('/api/v1/sites')
    assert empty.status_code == 200 and empty.content == b'' and empty.headers['Content-Length'] == '0'
    truncated = client.get('/api/v1/sites')
    with pytest.raises(ValueError):
        truncated.json()
    assert_ok(client.get('/api/v1/sites'))


def test_fault_429_and_count(client):
    client.control('POST', 'faults', {'path_prefix': '/api/v1/sites', 'status': 429, 'count': 2,
                                      'json': {'error': 'Too many API requests in a short period of time.'}})
    assert [client.get('/api/v1/sites/teams').status_code for attempt in range(3)] == [429, 429, 200]


def test_fault_forever_and_clear(client):
    client.control('POST', 'faults', {'path_regex': r'/goals$', 'status': 500, 'count': None})
    for attempt in range(3):
        assert client.get('/api/v1/sites/goals?site_id=x').status_code == 500
    assert client.get('/api/v1/sites/teams').status_code == 200
    assert len(client.control('GET', 'faults')) == 1
    assert client.control('DELETE', 'faults') == {'ok': True}
    assert client.get('/api/v1/sites/goals?site_id=x').status_code == 404


def test_fault_matching_by_method_and_path(client):
    client.control('POST', 'faults', {'method': 'DELETE', 'path_prefix': '/api/v1/sites/', 'status': 418})
    client.control('POST', 'faults', {'path': '/api/v1/sites/teams', 'status': 502})
    assert client.get('/api/v1/sites/example.com').status_code == 404
    assert client.get('/api/v1/sites/teams?limit=1').status_code == 502  # exact path, query ignored
    assert client.delete('/api/v1/sites/example.com').status_code == 418


def test_fault_delay_times_out_the_client(client):
    client.control('POST', 'faults', {'path': '/api/v1/sites', 'delay': 0.5, 'status': 200, 'json': {}})
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.session.get(client.base_url + '/api/v1/sites', timeout=0.1)
    assert time.monotonic() - started < 0.5


def test_fault_delay_only_then_normal_handling(client):
    client.control('POST', 'faults', {'method': 'POST', 'delay': 0.2})
    started = time.monotonic()
    assert_ok(client.post('/api/v1/sites', json={'domain': 'slow.test'}))
    assert time.monotonic() - started >= 0.2
    assert [site['domain'] for site in client.state()['sites']] == ['slow.test']
    assert client.log()[0]['fault'] is False


def test_fault_reset_connection(client):
    client.control('POST', 'faults', {'path': '/api/v1/sites', 'reset_connection': True})
    with pytest.raises(requests.exceptions.ConnectionError):
        client.post('/api/v1/sites', json={'domain': 'example.com'})
    assert client.state()['sites'] == []
    assert client.log()[0]['status'] is None and client.log()[0]['fault'] is True
    assert_ok(client.post('/api/v1/sites', json={'domain': 'example.com'}))


def test_fault_bad_regex_is_rejected(client):
    assert client.session.post(client.base_url + '/_emulator/faults', json={'path_regex': '(', 'status': 500}).status_code == 400


# -- config and clock -----------------------------------------------------------------------------------------------

def test_config_changes_at_runtime(client):
    answer = client.config(burst_limit=3, burst_period=5)
    assert answer == dict(TEST_CONFIG, burst_limit=3, burst_period=5)
    assert client.control('GET', 'config') == answer
    client.align_clock(5)
    assert [client.get('/api/v1/sites').status_code for attempt in range(4)] == [200, 200, 200, 429]
    assert client.get('/api/v1/sites').json()['error'] == (
        'Too many API requests in a short period of time. The limit is 3 per 5 seconds. Please throttle your requests.')
    for bad in ({'nope': 1}, {'edition': 'cloud'}):
        assert client.session.post(client.base_url + '/_emulator/config', json=bad).status_code == 400


def test_clock(client):
    before = client.control('GET', 'clock')
    assert before['offset'] == 0 and abs(before['now'] - time.time()) < 5
    assert client.control('POST', 'clock', {'advance': 10})['offset'] == 10
    assert client.control('POST', 'clock', {'advance': 5})['offset'] == 15
    after = client.control('POST', 'clock', {'offset': -3})
    assert after['offset'] == -3 and abs(after['now'] - (time.time() - 3)) < 5


# -- transport ------------------------------------------------------------------------------------------------------

def test_keep_alive_with_content_length_on_every_response(emulator, client):
    client.config(edition='ce', has_user=False)
    address = urllib.parse.urlsplit(emulator.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    requests_sent = [('GET', '/api/v1/sites', {}), ('POST', '/api/v1/sites', {'Accept': 'application/json'}),
                     ('GET', '/api/v1/sites', {'Accept': 'application/json'}), ('HEAD', '/api/v1/sites', {}),
                     ('GET', '/_emulator/state', {})]
    sockets = set()
    for method, path, headers in requests_sent:
        connection.request(method, path, headers=headers)
        sockets.add(id(connection.sock))
        response = connection.getresponse()
        body = response.read()
        assert response.getheader('Content-Length') is not None
        assert response.version == 11 and not response.will_close
        if method != 'HEAD':
            assert len(body) == int(response.getheader('Content-Length'))
    assert len(sockets) == 1
    connection.close()


def test_chunked_request_body(client):
    chunks = (part.encode() for part in ('{"domain": ', '"chunked.test"}'))
    response = client.post('/api/v1/sites', data=chunks, headers={'Content-Type': 'application/json'})
    assert assert_ok(response)['domain'] == 'chunked.test'
    assert_ok(client.get('/api/v1/sites'))  # the connection is still in sync


def test_head_is_answered_like_get_without_body(client):
    response = client.request('HEAD', '/api/v1/sites')
    assert response.status_code == 200 and response.content == b''
    assert int(response.headers['Content-Length']) > 0


def test_malformed_json_body(client):
    headers = {'Content-Type': 'application/json', 'Accept': 'application/json'}
    response = client.post('/api/v1/sites', data='{"domain": ', headers=headers)
    assert response.status_code == 400 and response.json() == {'status': 400, 'message': 'Bad Request'}
    assert client.log()[0]['body'] == '{"domain": '
    assert_error(client.post('/api/v1/sites', data='[1, 2]', headers={'Content-Type': 'application/json'}), 400,
                 "domain: can't be blank")


def test_concurrent_requests_are_safe(client):
    client.create_site('example.com')
    results = []

    def worker(index):
        session = Client(client.base_url)
        for offset in range(10):
            results.append(session.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': 'event',
                                                                    'event_name': f'E{index}-{offset}'}).json()['id'])
        session.session.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80 and len(set(results)) == 80
    assert len(client.site_state('example.com')['goals']) == 80


# -- Python API and command line ------------------------------------------------------------------------------------

def test_python_api():
    emu = server.start(api_key='k', keys=['r:stats:read:*'], community_edition=True, has_user=False, goal_limit=3)
    try:
        assert emu.base_url.startswith('http://127.0.0.1:')
        assert emu.set_config({'edition': 'hosted'})['goal_limit'] == 3
        emu.seed({'sites': [{'domain': 'seeded.test'}]})
        response = requests.get(emu.base_url + '/api/v1/sites', headers={'Authorization': 'Bearer r'}, timeout=5)
        assert response.json()['sites'] == [{'domain': 'seeded.test', 'timezone': 'Etc/UTC'}]
        assert emu.shift_clock(advance=5)['offset'] == 5
        emu.add_fault({'status': 500})
        assert requests.get(emu.base_url + '/api/v1/sites', timeout=5).status_code == 500
        assert [entry['status'] for entry in emu.requests()] == [200, 500]
        emu.reset()
        assert emu.snapshot()['sites'] == []
    finally:
        emu.stop()


def test_command_line_prints_the_url_and_stops_on_sigterm():
    process = subprocess.Popen([sys.executable, SERVER_PATH, '--host', '127.0.0.1', '--port', '0', '--api-key', 'cli-key',
                                '--key', 'ro:stats:read:*', '--team-key', 'tk:sites:provision:*', '--burst-limit', '2',
                                '--goal-limit', '5', '--site-limit', '9', '--burst-period', '2.5', '--hour-period', '60'],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base_url = process.stdout.readline().strip()
        assert base_url.startswith('http://127.0.0.1:')
        config = requests.get(base_url + '/_emulator/config', timeout=5).json()
        assert config == {'edition': 'hosted', 'has_user': True, 'hourly_limit': 600, 'burst_limit': 2, 'burst_period': 2.5,
                          'hour_period': 60, 'goal_limit': 5, 'site_limit': 9}
        assert requests.get(base_url + '/api/v1/sites', headers={'Authorization': 'Bearer ro'}, timeout=5).status_code == 200
        assert requests.get(base_url + '/api/v1/sites', headers={'Authorization': 'Bearer tk'}, timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert out == '' and err == ''


def test_command_line_accepts_keys_starting_with_a_dash():
    process = subprocess.Popen([sys.executable, SERVER_PATH, '--api-key', '-main-key', '--key', '-ro:stats:read:*'],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base_url = process.stdout.readline().strip()
        for key, status in (('-main-key', 200), ('-ro', 401)):
            response = requests.post(base_url + '/api/v1/sites', json={'domain': 'dash.test'},
                                     headers={'Authorization': 'Bearer ' + key}, timeout=5)
            assert response.status_code == status
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0


def test_command_line_community_edition_and_sigint():
    process = subprocess.Popen([sys.executable, SERVER_PATH, '--api-key', 'k', '--community-edition', '--no-user'],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base_url = process.stdout.readline().strip()
        response = requests.get(base_url + '/api/v1/sites', allow_redirects=False, timeout=5)
        assert response.status_code == 302 and response.headers['Location'] == '/register'
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
