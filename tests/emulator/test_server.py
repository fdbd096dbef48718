# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checklist of plausible-sites-api.md §12: every test name starts with the item number it covers."""

import re

import pytest

from .support import (ALICE_KEY, BURST_60, CONSOLIDATED, CRASH, GOAL_NOT_FOUND, HOURLY_600, INVALID_KEY, LOCKED, MAIN,
                      MISSING_KEY, MISSING_SITE_ID, NO_SITES_API, NO_STATS_API, RO_KEY, SITE_NOT_FOUND, TAKEN, TEAM_KEY,
                      assert_error, assert_ok)

CONFIG_KEYS = {'id', 'installation_type', 'track_404_pages', 'hash_based_routing', 'outbound_links', 'file_downloads',
               'revenue_tracking', 'tagged_events', 'form_submissions', 'pageview_props'}
GOAL_KEYS = {'id', 'domain', 'display_name', 'goal_type', 'event_name', 'page_path', 'custom_props'}
# Site-context routes whose site_id does not come from the path (#3-#5, #8-#14).
SITE_ID_ROUTES = [('GET', '/api/v1/sites/goals'), ('GET', '/api/v1/sites/custom-props'), ('GET', '/api/v1/sites/guests'),
                  ('PUT', '/api/v1/sites/shared-links'), ('PUT', '/api/v1/sites/goals'), ('DELETE', '/api/v1/sites/goals/1'),
                  ('PUT', '/api/v1/sites/custom-props'), ('DELETE', '/api/v1/sites/custom-props/p'),
                  ('PUT', '/api/v1/sites/guests'), ('DELETE', '/api/v1/sites/guests/g@example.com')]
READ_ROUTES = [('GET', '/api/v1/sites'), ('GET', '/api/v1/sites/teams'), ('GET', '/api/v1/sites/goals?site_id=example.com'),
               ('GET', '/api/v1/sites/custom-props?site_id=example.com'), ('GET', '/api/v1/sites/guests?site_id=example.com'),
               ('GET', '/api/v1/sites/example.com')]
PROVISIONING_ROUTES = [('POST', '/api/v1/sites'), ('PUT', '/api/v1/sites/shared-links'), ('PUT', '/api/v1/sites/goals'),
                       ('DELETE', '/api/v1/sites/goals/1'), ('PUT', '/api/v1/sites/custom-props'),
                       ('DELETE', '/api/v1/sites/custom-props/p'), ('PUT', '/api/v1/sites/guests'),
                       ('DELETE', '/api/v1/sites/guests/g@example.com'), ('PUT', '/api/v1/sites/example.com'),
                       ('DELETE', '/api/v1/sites/example.com')]


# -- Availability and transport -----------------------------------------------------------------------------------

def test_01_ce_writes_get_json_404(client):
    client.config(edition='ce')
    for method in ('POST', 'PUT', 'DELETE'):
        for path in ('/api/v1/sites', '/api/v1/sites/goals', '/api/v1/sites/example.com'):
            response = client.request(method, path, headers={'Accept': 'application/json'})
            assert response.status_code == 404
            assert response.json() == {'status': 404, 'message': 'Not Found'}


def test_01_ce_json_get_is_406(client):
    client.config(edition='ce')
    for path in ('/api/v1/sites', '/api/v1/sites/goals?site_id=example.com', '/api/v1/sites/example.com'):
        response = client.get(path, headers={'Accept': 'application/json'})
        assert response.status_code == 406
        assert response.json() == {'status': 406, 'message': 'Not Acceptable'}


@pytest.mark.parametrize('accept', [None, '*/*', 'text/html', 'application/json, text/plain, */*'])
def test_01_ce_html_404_without_json_only_accept(client, accept):
    client.config(edition='ce')
    for method in ('GET', 'POST', 'DELETE'):
        response = client.request(method, '/api/v1/sites', headers={'Accept': accept})
        assert response.status_code == 404
        assert response.headers['Content-Type'].startswith('text/html')
        if method == 'GET':
            assert "Oops! There's nothing here" in response.text


def test_01_ce_without_user_redirects_gets_to_register(client):
    client.config(edition='ce', has_user=False)
    response = client.get('/api/v1/sites', allow_redirects=False)
    assert response.status_code == 302
    assert response.headers['Location'] == '/register'
    assert client.get('/api/v1/sites', headers={'Accept': 'application/json'}).status_code == 406
    assert client.post('/api/v1/sites', headers={'Accept': 'application/json'}).json() == {'status': 404, 'message': 'Not Found'}


def test_02_hosted_probe_without_key_is_401(client):
    response = client.post('/api/v1/sites', key=None, headers={'Accept': 'application/json'})
    assert_error(response, 401, MISSING_KEY)


def test_03_every_success_is_200(client):
    responses = [
        client.post('/api/v1/sites', json={'domain': 'example.com'}),
        client.get('/api/v1/sites'),
        client.get('/api/v1/sites/teams'),
        client.get('/api/v1/sites/example.com'),
        client.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': 'event', 'event_name': 'Signup'}),
        client.get('/api/v1/sites/goals?site_id=example.com'),
        client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com', 'name': 'Friends'}),
        client.put('/api/v1/sites/custom-props', json={'site_id': 'example.com', 'property': 'author'}),
        client.get('/api/v1/sites/custom-props?site_id=example.com'),
        client.delete('/api/v1/sites/custom-props/author?site_id=example.com'),
        client.put('/api/v1/sites/guests', json={'site_id': 'example.com', 'email': 'g@example.com', 'role': 'viewer'}),
        client.get('/api/v1/sites/guests?site_id=example.com'),
        client.delete('/api/v1/sites/guests/g@example.com?site_id=example.com'),
        client.put('/api/v1/sites/example.com', json={'domain': 'example.org'}),
        client.delete('/api/v1/sites/example.org'),
    ]
    assert [response.status_code for response in responses] == [200] * len(responses)


def test_04_error_bodies_have_only_an_error_key(client):
    client.create_site('example.com')
    client.seed_acme(features=[])
    client.config(goal_limit=0)
    responses = [
        client.get('/api/v1/sites', key=None),
        client.get('/api/v1/sites/goals'),
        client.get('/api/v1/sites', key='nope'),
        client.post('/api/v1/sites', key=RO_KEY, json={'domain': 'x.test'}),
        client.get('/api/v1/sites/acme.test'),
        client.post('/api/v1/sites', json={'domain': 'a b'}),
        client.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': 'foo'}),
        client.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': 'event', 'event_name': 'X'}),
        client.delete('/api/v1/sites/goals/abc?site_id=example.com'),
        client.get('/api/v1/sites/nope.test'),
    ]
    for response in responses:
        assert response.status_code >= 400
        assert response.headers['Content-Type'].startswith('application/json')
        body = response.json()
        assert list(body) == ['error'] and isinstance(body['error'], str)


def test_05_params_from_the_query_string(client):
    body = assert_ok(client.post('/api/v1/sites?domain=query.test&timezone=Europe/Tallinn'))
    assert (body['domain'], body['timezone']) == ('query.test', 'Europe/Tallinn')


def test_05_params_from_a_form_body(client):
    assert_ok(client.post('/api/v1/sites', data={'domain': 'form.test'}))
    goal = assert_ok(client.put('/api/v1/sites/goals', data={'site_id': 'form.test', 'goal_type': 'event', 'event_name': 'A',
                                                             'custom_props[plan]': 'pro'}))
    assert goal['custom_props'] == {'plan': 'pro'}
    config = assert_ok(client.put('/api/v1/sites/form.test', data={'tracker_script_configuration[outbound_links]': 'true'}))
    assert config['tracker_script_configuration']['outbound_links'] is True


def test_05_params_from_a_multipart_body(client):
    body = assert_ok(client.post('/api/v1/sites', files={'domain': (None, 'multipart.test'), 'timezone': (None, 'Asia/Tokyo')}))
    assert (body['domain'], body['timezone']) == ('multipart.test', 'Asia/Tokyo')


def test_05_params_on_delete_from_body_and_query(client):
    client.create_site('example.com')
    first = client.create_goal('example.com', goal_type='event', event_name='A')
    second = client.create_goal('example.com', goal_type='event', event_name='B')
    assert assert_ok(client.delete(f'/api/v1/sites/goals/{first["id"]}', json={'site_id': 'example.com'})) == {'deleted': True}
    assert assert_ok(client.delete(f'/api/v1/sites/goals/{second["id"]}?site_id=example.com')) == {'deleted': True}


def test_05_body_beats_query_and_path_beats_both(client):
    assert assert_ok(client.post('/api/v1/sites?domain=query.test', json={'domain': 'body.test'}))['domain'] == 'body.test'
    client.create_site('other.test')
    assert assert_ok(client.get('/api/v1/sites/body.test?site_id=other.test'))['domain'] == 'body.test'
    renamed = assert_ok(client.put('/api/v1/sites/body.test', json={'site_id': 'other.test', 'domain': 'renamed.test'}))
    assert renamed['domain'] == 'renamed.test'
    assert [site['domain'] for site in client.state()['sites']] == ['renamed.test', 'other.test']


@pytest.mark.parametrize('accept', ['text/html', 'application/xml', 'text/plain, text/html;q=0.9'])
def test_06_accept_without_json_is_406(client, accept):
    for method, path in (('GET', '/api/v1/sites'), ('POST', '/api/v1/sites'), ('PUT', '/api/v1/sites/goals')):
        response = client.request(method, path, headers={'Accept': accept})
        assert response.status_code == 406
        assert response.headers['Content-Type'].startswith('text/html')


@pytest.mark.parametrize('accept', [None, '*/*', 'application/json', 'application/*', 'text/html, application/json;q=0.5'])
def test_06_accept_with_json_passes(client, accept):
    assert client.get('/api/v1/sites', headers={'Accept': accept}).status_code == 200


# -- Authentication order -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('authorization', [None, 'bearer ' + RO_KEY, 'Basic abc', 'Bearer', 'Token abc'])
def test_07_missing_or_malformed_header_comes_first(client, authorization):
    headers = {'Authorization': authorization} if authorization else {}
    for method, path in SITE_ID_ROUTES + [('POST', '/api/v1/sites'), ('GET', '/api/v1/sites')]:
        assert_error(client.request(method, path, key=None, headers=headers), 401, MISSING_KEY)


@pytest.mark.parametrize('method, path', SITE_ID_ROUTES)
def test_08_missing_site_id_before_key_lookup(client, method, path):
    for key in (RO_KEY, 'garbage-token'):
        assert_error(client.request(method, path, key=key), 400, MISSING_SITE_ID)
        assert_error(client.request(method, path + '?site_id=', key=key), 400, MISSING_SITE_ID)
        if method != 'GET':  # GET bodies are not read
            assert_error(client.request(method, path, key=key, json={'site_id': None}), 400, MISSING_SITE_ID)
            assert_error(client.request(method, path, key=key, json={'site_id': ''}), 400, MISSING_SITE_ID)


def test_09_unknown_key(client):
    for method, path in (('GET', '/api/v1/sites'), ('POST', '/api/v1/sites'), ('GET', '/api/v1/sites/goals?site_id=x')):
        assert_error(client.request(method, path, key='unknown-key'), 401, INVALID_KEY)
    # The token is whitespace-trimmed.
    assert client.get('/api/v1/sites', key=None, headers={'Authorization': 'Bearer   ' + RO_KEY + '  '}).status_code == 200


def test_10_rate_limits_come_after_key_lookup_and_before_scope(client):
    client.config(burst_limit=2)
    client.align_clock(10)
    assert_error(client.post('/api/v1/sites', key=RO_KEY, json={'domain': 'x.test'}), 401, INVALID_KEY)
    assert_error(client.post('/api/v1/sites', key=RO_KEY, json={'domain': 'x.test'}), 401, INVALID_KEY)
    response = client.post('/api/v1/sites', key=RO_KEY, json={'domain': 'x.test'})
    assert response.status_code == 429  # the burst check answers before the scope check
    assert_error(client.get('/api/v1/sites', key='unknown-key'), 401, INVALID_KEY)


@pytest.mark.parametrize('method, path', PROVISIONING_ROUTES)
def test_11_read_only_key_cannot_provision(client, method, path):
    client.create_site('example.com')
    body = {'site_id': 'example.com', 'domain': 'new.test', 'goal_type': 'event', 'event_name': 'X', 'name': 'n',
            'property': 'p', 'email': 'g@example.com', 'role': 'viewer'}
    assert_error(client.request(method, path, key=RO_KEY, json=body), 401, INVALID_KEY)


@pytest.mark.parametrize('method, path', READ_ROUTES)
def test_11_any_key_may_read(client, method, path):
    client.create_site('example.com')
    assert client.request(method, path, key=RO_KEY).status_code == 200


@pytest.mark.parametrize('scopes, allowed', [(['sites:*'], True), (['sites:provision:*'], True), (['sites:provision'], True),
                                             (['*'], True), (['stats:read:*'], False), (['stats:*'], False),
                                             (['sites:read:*'], False), (['stats:read:*', 'sites:*'], True)])
def test_11_scope_prefix_matching(client, scopes, allowed):
    client.seed(keys=[{'key': 'scoped-key', 'scopes': scopes}])
    response = client.post('/api/v1/sites', key='scoped-key', json={'domain': 'scoped.test'})
    if allowed:
        assert_ok(response)
    else:
        assert_error(response, 401, INVALID_KEY)


def test_12_consolidated_view(client):
    client.seed(sites=[{'domain': 'view.test', 'consolidated': True}])
    for method, path in (('GET', '/api/v1/sites/view.test'), ('GET', '/api/v1/sites/goals?site_id=view.test'),
                         ('PUT', '/api/v1/sites/view.test?domain=x.test'), ('DELETE', '/api/v1/sites/view.test'),
                         ('PUT', '/api/v1/sites/shared-links?site_id=view.test&name=x'), ('GET', '/api/v1/sites?site_id=view.test')):
        assert_error(client.request(method, path), 400, CONSOLIDATED)
    assert assert_ok(client.get('/api/v1/sites'))['sites'] == []


def test_13_super_admin_passes_the_plug(client):
    client.seed_acme(features=[], locked=True)
    client.seed(users=[{'email': 'root@example.com', 'super_admin': True}], keys=[{'key': 'root-key', 'user': 'root@example.com'}])
    # Passes the plug (no 401/402); the controller still needs a role on the site.
    assert_error(client.get('/api/v1/sites/acme.test', key='root-key'), 404, SITE_NOT_FOUND)
    client.seed(sites=[{'domain': 'view.test', 'team': 'Acme', 'consolidated': True}])
    assert_error(client.get('/api/v1/sites/view.test', key='root-key'), 400, CONSOLIDATED)


def test_13_team_key_mismatch_before_locked(client):
    client.seed_acme(role='admin', locked=True, features=[])
    assert_error(client.get('/api/v1/sites/acme.test', key=TEAM_KEY), 401, INVALID_KEY)


def test_13_locked_before_feature(client):
    client.seed_acme(role='admin', locked=True, features=[])
    assert_error(client.get('/api/v1/sites/acme.test'), 402, LOCKED)
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'acme.test', 'goal_type': 'page', 'page_path': '/'}), 402, LOCKED)


def test_13_membership_passes_and_non_members_get_401(client):
    acme = client.seed_acme()
    assert_error(client.get('/api/v1/sites/acme.test'), 401, INVALID_KEY)
    client.seed(teams=[{'id': acme, 'members': {MAIN: 'viewer'}}])
    assert assert_ok(client.get('/api/v1/sites/acme.test'))['domain'] == 'acme.test'


def test_14_non_member_on_team_without_feature_gets_402(client):
    client.seed_acme(features=['stats_api'])
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'acme.test', 'goal_type': 'event', 'event_name': 'X'}),
                 402, NO_SITES_API)
    assert_error(client.delete('/api/v1/sites/acme.test'), 402, NO_SITES_API)


def test_15_feature_text_per_route_kind(client):
    client.seed_acme(role='owner', features=[])
    for method, path in READ_ROUTES[2:]:
        assert_error(client.request(method, path.replace('example.com', 'acme.test')), 402, NO_STATS_API)
    for method, path in PROVISIONING_ROUTES[1:]:
        body = {'site_id': 'acme.test', 'goal_type': 'event', 'event_name': 'X', 'name': 'n', 'property': 'p',
                'email': 'g@example.com', 'role': 'viewer'}
        assert_error(client.request(method, path.replace('example.com', 'acme.test'), json=body), 402, NO_SITES_API)


def test_16_unknown_site_passes_plug_and_controller_answers_404(client):
    for method, path in (('GET', '/api/v1/sites/goals?site_id=does.not.exist'), ('GET', '/api/v1/sites/does.not.exist'),
                         ('GET', '/api/v1/sites/custom-props?site_id=does.not.exist'),
                         ('GET', '/api/v1/sites/guests?site_id=does.not.exist'),
                         ('PUT', '/api/v1/sites/shared-links?site_id=does.not.exist&name=x'),
                         ('DELETE', '/api/v1/sites/goals/1?site_id=does.not.exist'),
                         ('PUT', '/api/v1/sites/does.not.exist?domain=x.test'), ('DELETE', '/api/v1/sites/does.not.exist')):
        assert_error(client.request(method, path), 404, SITE_NOT_FOUND)


def test_16_site_id_is_not_normalised(client):
    client.create_site('example.com')
    for site_id in ('Example.com', 'www.example.com', 'example.com/'):
        assert_error(client.get('/api/v1/sites/goals', params={'site_id': site_id}), 404, SITE_NOT_FOUND)


def test_17_team_id_of_a_foreign_team_is_401_and_non_uuid_is_ignored(client):
    acme = client.seed_acme()
    assert_error(client.get('/api/v1/sites', params={'team_id': acme}), 401, INVALID_KEY)
    assert_error(client.post('/api/v1/sites', json={'domain': 'x.test', 'team_id': acme}), 401, INVALID_KEY)
    assert_error(client.get('/api/v1/sites/teams', params={'team_id': acme}), 401, INVALID_KEY)
    client.create_site('mine.test')
    for ignored in ('not-a-uuid', '00000000-0000-0000-0000-000000000000'):
        sites = assert_ok(client.get('/api/v1/sites', params={'team_id': ignored}))['sites']
        assert [site['domain'] for site in sites] == ['mine.test']


def test_17_team_id_selects_the_team(client):
    acme = client.seed_acme(role='viewer')
    client.create_site('mine.test')
    assert [s['domain'] for s in assert_ok(client.get('/api/v1/sites', params={'team_id': acme.upper()}))['sites']] == ['acme.test']
    assert [s['domain'] for s in assert_ok(client.get('/api/v1/sites'))['sites']] == ['mine.test', 'acme.test']
    assert_error(client.post('/api/v1/sites', json={'domain': 'x.test', 'team_id': acme}), 403, "You can't add sites to the selected team.")


def test_18_team_key_sees_only_its_team(client):
    acme = client.seed_acme(role='admin')
    client.create_site('mine.test')
    sites = assert_ok(client.get('/api/v1/sites', key=TEAM_KEY, params={'team_id': acme}))['sites']
    assert [site['domain'] for site in sites] == ['mine.test']
    teams = assert_ok(client.get('/api/v1/sites/teams', key=TEAM_KEY))['teams']
    assert [team['name'] for team in teams] == ['My personal sites']
    assert len(assert_ok(client.get('/api/v1/sites/teams'))['teams']) == 2
    created = assert_ok(client.post('/api/v1/sites', key=TEAM_KEY, json={'domain': 'teamkey.test', 'team_id': acme}))
    assert client.site_state(created['domain'])['team_id'] != acme
    assert_error(client.get('/api/v1/sites/acme.test', key=TEAM_KEY), 401, INVALID_KEY)


# -- Rate limits ---------------------------------------------------------------------------------------------------

def test_19_hourly_limit_of_600(client):
    client.config(hourly_limit=600)
    client.align_clock(3600)
    for attempt in range(600):
        assert client.get('/api/v1/sites/teams').status_code == 200
    assert_error(client.get('/api/v1/sites/teams'), 429, HOURLY_600)


def test_19_counter_per_user_or_team(client):
    client.create_site('example.com')
    client.config(hourly_limit=2)
    client.align_clock(3600)
    # Legacy key without a site: the user's counter.
    assert_ok(client.get('/api/v1/sites'))
    assert_ok(client.get('/api/v1/sites'))
    assert client.get('/api/v1/sites').status_code == 429
    # Legacy key on a site-context route naming an existing site: the site's team counter.
    assert_ok(client.get('/api/v1/sites/goals?site_id=example.com'))
    assert_ok(client.get('/api/v1/sites/example.com'))
    assert client.get('/api/v1/sites/example.com').status_code == 429
    # A team-scoped key shares its team's counter; an unknown site falls back to the user's counter.
    assert client.get('/api/v1/sites', key=TEAM_KEY).status_code == 429
    assert client.get('/api/v1/sites/goals?site_id=nope.test').status_code == 429


def test_19_team_hourly_limit_in_message(client):
    client.seed_acme(role='admin', hourly_limit=1)
    client.align_clock(3600)
    assert_ok(client.get('/api/v1/sites/acme.test'))
    assert_error(client.get('/api/v1/sites/acme.test'), 429,
                 'Too many API requests. The limit is 1 per hour. Please contact us to request more capacity.')


def test_19_hourly_refusals_not_counted_in_burst_and_hourly_text_wins(client):
    client.config(hourly_limit=1, burst_limit=2)
    client.align_clock(10)
    assert_ok(client.get('/api/v1/sites'))
    assert client.get('/api/v1/sites').json()['error'].startswith('Too many API requests. The limit is 1 per hour.')
    client.config(hourly_limit=100)
    assert_ok(client.get('/api/v1/sites'))  # the refused request did not use up the burst window
    assert client.get('/api/v1/sites').json()['error'].startswith('Too many API requests in a short period')
    client.config(hourly_limit=1)
    assert client.get('/api/v1/sites').json()['error'].startswith('Too many API requests. The limit is 1 per hour.')


def test_20_burst_limit_of_60_per_10_seconds(client):
    client.config(burst_limit=60, burst_period=10)
    client.align_clock(10)
    for attempt in range(60):
        assert client.get('/api/v1/sites').status_code == 200
    assert_error(client.get('/api/v1/sites'), 429, BURST_60)


def test_21_windows_are_fixed_and_epoch_aligned(client):
    client.config(burst_limit=1, burst_period=10)
    client.align_clock(10, into=9.5)
    assert_ok(client.get('/api/v1/sites'))
    assert client.get('/api/v1/sites').status_code == 429
    client.control('POST', 'clock', {'advance': 1})  # crosses the boundary: a new window after one second
    assert_ok(client.get('/api/v1/sites'))
    client.config(burst_limit=100, hourly_limit=1)
    client.align_clock(3600, into=3599)
    assert_ok(client.get('/api/v1/sites'))
    assert client.get('/api/v1/sites').status_code == 429
    client.control('POST', 'clock', {'advance': 2})
    assert_ok(client.get('/api/v1/sites'))


def test_21_rate_limiter_buckets():
    from .server import RateLimiter
    limiter = RateLimiter()
    assert [limiter.hit('k', 10, t) for t in (0.0, 9.999, 10.0, 19.999, 20.0)] == [1, 2, 1, 2, 1]
    assert limiter.hit('other', 10, 20.5) == 1


def test_22_early_refusals_are_not_counted(client):
    client.config(burst_limit=1)
    client.align_clock(10)
    for attempt in range(3):
        assert client.get('/api/v1/sites', key=None).status_code == 401
        assert client.get('/api/v1/sites/goals').status_code == 400
        assert client.get('/api/v1/sites', key='unknown-key').status_code == 401
    assert_ok(client.get('/api/v1/sites'))
    assert client.get('/api/v1/sites').status_code == 429


def test_22_later_refusals_are_counted(client):
    client.config(burst_limit=3)
    client.align_clock(10)
    assert client.post('/api/v1/sites', key=RO_KEY, json={'domain': 'x.test'}).status_code == 401  # scope
    assert client.post('/api/v1/sites', json={'domain': 'a b'}).status_code == 400  # validation
    assert client.get('/api/v1/sites/nope.test').status_code == 404  # controller
    assert client.get('/api/v1/sites').status_code == 429


def test_23_no_rate_limit_headers(client):
    client.config(burst_limit=1)
    client.align_clock(10)
    responses = [client.get('/api/v1/sites'), client.get('/api/v1/sites'), client.get('/api/v1/sites', key=None)]
    assert [response.status_code for response in responses] == [200, 429, 401]
    for response in responses:
        names = {name.lower() for name in response.headers}
        assert 'retry-after' not in names
        assert not any(name.startswith('x-ratelimit') for name in names)


# -- Roles ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('role', ['admin', 'editor'])
def test_24_only_owners_delete_sites(client, role):
    client.seed_acme(role=role)
    assert_error(client.delete('/api/v1/sites/acme.test'), 404, SITE_NOT_FOUND)
    assert assert_ok(client.delete('/api/v1/sites/acme.test', key=ALICE_KEY)) == {'deleted': True}


@pytest.mark.parametrize('role, allowed', [
    ('owner', {'read', 'write', 'guests'}), ('admin', {'read', 'write', 'guests'}), ('editor', {'read', 'write'}),
    ('viewer', {'read'}), ('billing', set()), ('guest-editor', {'read', 'write'}), ('guest-viewer', {'read'})])
def test_25_roles(client, role, allowed):
    if role.startswith('guest-'):
        client.seed_acme()
        client.seed(sites=[{'domain': 'other.test', 'team': 'Acme'}])
        client.seed(sites=[{'domain': 'guest.test', 'team': 'Acme',
                            'guests': [{'email': MAIN, 'role': role[len('guest-'):], 'status': 'accepted'}]}])
        domain = 'guest.test'
        # A guest of one site is nobody on the team's other sites.
        assert_error(client.get('/api/v1/sites/other.test'), 401, INVALID_KEY)
    else:
        client.seed_acme(role=role)
        domain = 'acme.test'
    checks = {
        'read': [('GET', f'/api/v1/sites/{domain}', None), ('GET', f'/api/v1/sites/goals?site_id={domain}', None),
                 ('GET', f'/api/v1/sites/custom-props?site_id={domain}', None), ('GET', f'/api/v1/sites/guests?site_id={domain}', None)],
        'write': [('PUT', '/api/v1/sites/goals', {'goal_type': 'event', 'event_name': 'X'}),
                  ('PUT', '/api/v1/sites/shared-links', {'name': 'n'}), ('PUT', '/api/v1/sites/custom-props', {'property': 'p'}),
                  ('DELETE', '/api/v1/sites/custom-props/p', {}),
                  ('PUT', f'/api/v1/sites/{domain}', {'tracker_script_configuration': {'tagged_events': True}})],
        'guests': [('PUT', '/api/v1/sites/guests', {'email': 'new@example.com', 'role': 'viewer'}),
                   ('DELETE', '/api/v1/sites/guests/new@example.com', {})],
    }
    for kind, requests in checks.items():
        for method, path, body in requests:
            response = client.request(method, path, json=None if body is None else dict(body, site_id=domain))
            if kind in allowed:
                assert_ok(response)
            else:
                assert_error(response, 404, SITE_NOT_FOUND)
    if role == 'owner':
        assert assert_ok(client.delete(f'/api/v1/sites/{domain}')) == {'deleted': True}
    else:
        assert_error(client.delete(f'/api/v1/sites/{domain}'), 404, SITE_NOT_FOUND)


# -- Sites ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('given, stored', [('HTTPS://www.Example.com/', 'example.com'), ('  http://http://WWW.www.foo.test//  ', 'foo.test'),
                                           ('https://example.org/blog/', 'example.org/blog'), ('Sub.Domain.TEST', 'sub.domain.test')])
def test_26_domain_normalisation(client, given, stored):
    assert assert_ok(client.post('/api/v1/sites', json={'domain': given}))['domain'] == stored
    assert client.site_state(stored)['domain'] == stored


def test_27_timezone(client):
    assert assert_ok(client.post('/api/v1/sites', json={'domain': 'a.test'}))['timezone'] == 'Etc/UTC'
    assert assert_ok(client.post('/api/v1/sites', json={'domain': 'b.test', 'timezone': 'US/Eastern'}))['timezone'] == 'US/Eastern'
    for invalid in (None, '', 'd', 'europe/tallinn', 5):
        assert_error(client.post('/api/v1/sites', json={'domain': 'c.test', 'timezone': invalid}), 400, 'timezone: is invalid')


def test_28_duplicate_domain_on_any_account(client):
    client.seed_acme()
    for domain in ('acme.test', 'https://www.ACME.test/'):
        assert_error(client.post('/api/v1/sites', json={'domain': domain}), 400, TAKEN)
    client.create_site('mine.test')
    assert_error(client.post('/api/v1/sites', key=ALICE_KEY, json={'domain': 'mine.test'}), 400, TAKEN)
    assert client.post('/api/v1/sites', json={'domain': 'mine.test'}).json()['error'].endswith('support@plausible.io\n')


@pytest.mark.parametrize('body, error', [
    ({'domain': 'quero:café.test'}, "domain: must not contain URI reserved characters :?#[]@!$&'()*+,;="),
    ({'domain': 'h&llo.test'}, "domain: must not contain URI reserved characters :?#[]@!$&'()*+,;="),
    ({'domain': 'iamnotsur&about?this.com'}, "domain: must not contain URI reserved characters :?#[]@!$&'()*+,;="),
    ({'domain': 'a b.test'}, 'domain: only letters, numbers, slashes, underscores and period allowed'),
    ({'domain': 'a%b.test', 'timezone': 'nope'}, 'domain: only letters, numbers, slashes, underscores and period allowed'),
    ({'timezone': 'd'}, 'timezone: is invalid'),
    ({'domain': '', 'timezone': None}, 'timezone: is invalid'),
    ({}, "domain: can't be blank"),
    ({'domain': 'https://'}, "domain: can't be blank"),
    ({'domain': 42}, 'domain: is invalid'),
])
def test_29_only_the_newest_error_is_reported(client, body, error):
    assert_error(client.post('/api/v1/sites', json=body), 400, error)


@pytest.mark.parametrize('domain', ['müllers-café.test', '音乐.cn', 'до.101домен.рф/pages', 'under_score.test', 'back\\slash.test'])
def test_29_allowed_characters(client, domain):
    assert assert_ok(client.post('/api/v1/sites', json={'domain': domain}))['domain'] == domain


def test_30_domain_over_255_characters_crashes(client):
    assert assert_ok(client.post('/api/v1/sites', json={'domain': 'a' * 251 + '.com'}))['domain'] == 'a' * 251 + '.com'
    assert_error(client.post('/api/v1/sites', json={'domain': 'a' * 252 + '.com'}), 500, CRASH)
    assert len(client.state()['sites']) == 1


def test_31_site_response_shape(client):
    client.create_site('example.com')
    responses = [client.post('/api/v1/sites', json={'domain': 'example.org'}), client.get('/api/v1/sites/example.com'),
                 client.put('/api/v1/sites/example.com', json={'tracker_script_configuration': {}})]
    for response in responses:
        body = assert_ok(response)
        assert set(body) == {'domain', 'timezone', 'custom_properties', 'tracker_script_configuration'}
        config = body['tracker_script_configuration']
        assert set(config) == CONFIG_KEYS
        assert re.fullmatch(r'pa-[A-Za-z0-9_-]{21}', config['id'])
        assert config['installation_type'] is None
        assert all(config[name] is False for name in CONFIG_KEYS - {'id', 'installation_type'})


def test_32_get_creates_the_default_configuration(client):
    client.seed(sites=[{'domain': 'bare.test'}])
    assert client.site_state('bare.test')['tracker_script_configuration'] is None
    config = assert_ok(client.get('/api/v1/sites/bare.test'))['tracker_script_configuration']
    assert client.site_state('bare.test')['tracker_script_configuration'] == config
    assert assert_ok(client.get('/api/v1/sites/bare.test'))['tracker_script_configuration']['id'] == config['id']


def test_33_update_payload_check(client):
    message = "Payload must contain at least one of the parameters 'domain', 'tracker_script_configuration'"
    assert_error(client.put('/api/v1/sites/does.not.exist', json={}), 400, message)
    assert_error(client.put('/api/v1/sites/does.not.exist', json={'timezone': 'Europe/Paris'}), 400, message)
    created = client.create_site('example.com')
    assert assert_ok(client.put('/api/v1/sites/example.com', json={'domain': None})) == created
    assert assert_ok(client.put('/api/v1/sites/example.com', json={'tracker_script_configuration': None})) == created


def test_34_update_domain_errors(client):
    client.create_site('example.com')
    for same in ('example.com', 'https://WWW.Example.com/'):
        assert_error(client.put('/api/v1/sites/example.com', json={'domain': same}), 400,
                     'domain: New domain must be different than the current one')
    assert_error(client.put('/api/v1/sites/example.com', json={'domain': 123}), 400, 'domain: is invalid')
    assert_error(client.put('/api/v1/sites/example.com', json={'domain': ''}), 400, "domain: can't be blank")
    assert_error(client.put('/api/v1/sites/example.com', json={'domain': 'a?b'}), 400,
                 "domain: must not contain URI reserved characters :?#[]@!$&'()*+,;=")
    client.create_site('taken.test')
    assert_error(client.put('/api/v1/sites/example.com', json={'domain': 'taken.test'}), 400, TAKEN)
    assert_error(client.put('/api/v1/sites/example.com', json={'domain': 'x' * 256}), 500, CRASH)


def test_35_rename_grace_period(client):
    client.seed_acme()
    client.create_site('old.test')
    goal = client.create_goal('old.test', goal_type='event', event_name='Signup')
    assert assert_ok(client.put('/api/v1/sites/old.test', json={'domain': 'new.test'}))['domain'] == 'new.test'
    assert assert_ok(client.get('/api/v1/sites/old.test'))['domain'] == 'new.test'
    assert assert_ok(client.get('/api/v1/sites/goals?site_id=old.test'))['goals'][0]['id'] == goal['id']
    assert client.create_goal('old.test', goal_type='event', event_name='Signup')['domain'] == 'new.test'
    link = assert_ok(client.put('/api/v1/sites/shared-links', json={'site_id': 'old.test', 'name': 'n'}))
    assert '/share/new.test?auth=' in link['url']
    assert_ok(client.put('/api/v1/sites/custom-props', json={'site_id': 'old.test', 'property': 'p'}))
    for domain in ('old.test', 'new.test'):
        assert_error(client.post('/api/v1/sites', key=ALICE_KEY, json={'domain': domain}), 400, TAKEN)
    assert client.site_state('new.test')['domain_changed_from'] == 'old.test'
    client.control('POST', 'clock', {'advance': 72 * 3600})
    assert_error(client.get('/api/v1/sites/old.test'), 404, SITE_NOT_FOUND)
    assert client.site_state('new.test')['domain_changed_from'] is None
    assert_ok(client.post('/api/v1/sites', key=ALICE_KEY, json={'domain': 'old.test'}))


def test_35_rename_back_and_forth_and_own_old_name(client):
    client.create_site('a.test')
    assert_ok(client.put('/api/v1/sites/a.test', json={'domain': 'b.test'}))
    assert_ok(client.put('/api/v1/sites/b.test', json={'domain': 'a.test'}))
    assert client.site_state('a.test')['domain_changed_from'] == 'b.test'
    # The owner may register the pending old name: the transition is cleared first.
    assert_ok(client.post('/api/v1/sites', json={'domain': 'b.test'}))
    assert client.site_state('a.test')['domain_changed_from'] is None
    assert assert_ok(client.get('/api/v1/sites/b.test'))['domain'] == 'b.test'


def test_35_delete_by_old_domain(client):
    client.create_site('old.test')
    assert_ok(client.put('/api/v1/sites/old.test', json={'domain': 'new.test'}))
    assert assert_ok(client.delete('/api/v1/sites/old.test')) == {'deleted': True}
    assert client.state()['sites'] == []


def test_36_domain_change_and_bad_configuration_roll_back_together(client):
    created = client.create_site('example.com')
    response = client.put('/api/v1/sites/example.com', json={'domain': 'new.test', 'tracker_script_configuration': {
        'outbound_links': True, 'form_submissions': 'maybe'}})
    assert_error(response, 400, 'tracker_script_configuration.form_submissions: is invalid')
    state = client.site_state('example.com')
    assert state['domain_changed_from'] is None and state['goals'] == []
    assert state['tracker_script_configuration'] == created['tracker_script_configuration']


def test_37_update_ignores_timezone(client):
    client.create_site('example.com', timezone='Europe/Tallinn')
    body = assert_ok(client.put('/api/v1/sites/example.com', json={'domain': 'example.org', 'timezone': 'Asia/Tokyo'}))
    assert body['timezone'] == 'Europe/Tallinn'


def test_38_delete_site(client):
    client.create_site('example.com')
    client.create_goal('example.com', goal_type='event', event_name='X')
    assert client.delete('/api/v1/sites/example.com').json() == {'deleted': True}
    assert_error(client.get('/api/v1/sites/example.com'), 404, SITE_NOT_FOUND)
    assert_error(client.delete('/api/v1/sites/example.com'), 404, SITE_NOT_FOUND)
    recreated = client.create_site('example.com')
    assert recreated['domain'] == 'example.com'
    assert client.site_state('example.com')['goals'] == []


def test_39_list_sites_newest_first(client):
    assert assert_ok(client.get('/api/v1/sites')) == {'sites': [], 'meta': {'after': None, 'before': None, 'limit': 100}}
    client.create_site('a.example', timezone='Europe/Tallinn')
    client.create_site('b.example')
    assert assert_ok(client.get('/api/v1/sites')) == {
        'sites': [{'domain': 'b.example', 'timezone': 'Etc/UTC'}, {'domain': 'a.example', 'timezone': 'Europe/Tallinn'}],
        'meta': {'after': None, 'before': None, 'limit': 100}}


# -- Pagination ----------------------------------------------------------------------------------------------------

def test_40_limits(client):
    client.seed(sites=[{'domain': f's{index}.test'} for index in range(101)])
    page = assert_ok(client.get('/api/v1/sites'))
    assert len(page['sites']) == 100 and page['meta']['limit'] == 100 and page['meta']['after']
    for ignored in ('0', '-1', '101', '1000'):
        meta = assert_ok(client.get('/api/v1/sites', params={'limit': ignored}))['meta']
        assert meta['limit'] == 100
    assert len(assert_ok(client.get('/api/v1/sites', params={'limit': '7'}))['sites']) == 7
    for bad in ('abc', '', '1.5'):
        for path in ('/api/v1/sites', '/api/v1/sites/teams', '/api/v1/sites/goals?site_id=s1.test',
                     '/api/v1/sites/guests?site_id=s1.test'):
            assert_error(client.get(path, params={'limit': bad}), 500, CRASH)


def test_41_cursors(client):
    client.seed(sites=[{'domain': f's{index}.test'} for index in range(5)])
    first = assert_ok(client.get('/api/v1/sites', params={'limit': 2}))
    assert [s['domain'] for s in first['sites']] == ['s4.test', 's3.test']
    assert first['meta']['before'] is None and isinstance(first['meta']['after'], str)
    second = assert_ok(client.get('/api/v1/sites', params={'limit': 2, 'after': first['meta']['after']}))
    assert [s['domain'] for s in second['sites']] == ['s2.test', 's1.test']
    assert isinstance(second['meta']['before'], str) and isinstance(second['meta']['after'], str)
    last = assert_ok(client.get('/api/v1/sites', params={'limit': 2, 'after': second['meta']['after']}))
    assert [s['domain'] for s in last['sites']] == ['s0.test']
    assert last['meta']['after'] is None and isinstance(last['meta']['before'], str)
    back = assert_ok(client.get('/api/v1/sites', params={'limit': 2, 'before': last['meta']['before']}))
    assert back['sites'] == second['sites']
    front = assert_ok(client.get('/api/v1/sites', params={'limit': 2, 'before': back['meta']['before']}))
    assert front['sites'] == first['sites'] and front['meta']['before'] is None
    assert re.fullmatch(r'[A-Za-z0-9_=-]+', first['meta']['after'])
    assert_error(client.get('/api/v1/sites', params={'after': 'not a cursor'}), 500, CRASH)


def test_41_teams_and_goals_pages(client):
    client.seed(teams=[{'name': f'T{index}'} for index in range(3)])
    teams = assert_ok(client.get('/api/v1/sites/teams', params={'limit': 3}))
    assert [team['name'] for team in teams['teams']] == ['T2', 'T1', 'T0'] and teams['meta']['after']
    rest = assert_ok(client.get('/api/v1/sites/teams', params={'limit': 3, 'after': teams['meta']['after']}))
    assert [team['name'] for team in rest['teams']] == ['My personal sites'] and rest['meta']['after'] is None
    assert all(re.fullmatch(r'[0-9a-f-]{36}', team['id']) and team['api_available'] is True for team in teams['teams'])
    client.create_site('example.com')
    ids = [client.create_goal('example.com', goal_type='event', event_name=f'E{index}')['id'] for index in range(3)]
    page = assert_ok(client.get('/api/v1/sites/goals', params={'site_id': 'example.com', 'limit': 2}))
    assert [goal['id'] for goal in page['goals']] == ids[:0:-1]
    page = assert_ok(client.get('/api/v1/sites/goals', params={'site_id': 'example.com', 'limit': 2, 'after': page['meta']['after']}))
    assert [goal['id'] for goal in page['goals']] == ids[:1] and page['meta']['after'] is None


def test_42_custom_props_order(client):
    client.create_site('example.com')
    for prop in ('logged_in', 'author', 'zeta', 'Beta'):
        assert_ok(client.put('/api/v1/sites/custom-props', json={'site_id': 'example.com', 'property': prop}))
    assert assert_ok(client.get('/api/v1/sites/custom-props?site_id=example.com')) == {
        'custom_properties': [{'property': 'Beta'}, {'property': 'author'}, {'property': 'logged_in'}, {'property': 'zeta'}]}
    assert assert_ok(client.get('/api/v1/sites/example.com'))['custom_properties'] == ['Beta', 'zeta', 'author', 'logged_in']
    client.seed(sites=[{'domain': 'legacy.test', 'custom_properties': None}])
    assert assert_ok(client.get('/api/v1/sites/custom-props?site_id=legacy.test')) == {'custom_properties': []}


# -- Goals ---------------------------------------------------------------------------------------------------------

def test_43_goal_type(client):
    client.create_site('example.com')
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'nope.test', 'event_name': 'X'}), 400,
                 'Parameter `goal_type` is required to create a goal')
    for goal_type in (None, 'scroll', 'foo', 1):
        assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': goal_type,
                                                             'event_name': 'X', 'page_path': '/x'}), 500, CRASH)


def test_44_required_event_name_and_page_path(client):
    client.create_site('example.com')
    for body in ({}, {'event_name': None}, {'event_name': 5}):
        assert_error(client.put('/api/v1/sites/goals', json=dict(body, site_id='example.com', goal_type='event')), 400,
                     'Parameter `event_name` is required to create a goal')
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': 'page'}), 400,
                 'Parameter `page_path` is required to create a goal')


def test_45_page_path_gets_a_leading_slash(client):
    client.create_site('example.com')
    goal = client.create_goal('example.com', goal_type='page', page_path=' signup ')
    assert (goal['page_path'], goal['display_name'], goal['goal_type']) == ('/signup', 'Visit /signup', 'page')
    wildcard = client.create_goal('example.com', goal_type='page', page_path='/blog/**')
    assert wildcard['page_path'] == '/blog/**'


def test_46_goal_response(client):
    client.create_site('old.test')
    assert_ok(client.put('/api/v1/sites/old.test', json={'domain': 'new.test'}))
    goal = client.create_goal('old.test', goal_type='event', event_name='Signup')
    assert set(goal) == GOAL_KEYS
    assert isinstance(goal['id'], int) and not isinstance(goal['id'], bool)
    assert goal == {'id': goal['id'], 'domain': 'new.test', 'display_name': 'Signup', 'goal_type': 'event',
                    'event_name': 'Signup', 'page_path': None, 'custom_props': {}}


def test_47_find_or_create_returns_the_existing_goal(client):
    client.create_site('example.com')
    first = client.create_goal('example.com', goal_type='event', event_name='Signup', display_name='Sign up')
    # A conflict on (event_name, custom_props) or on display_name skips the insert; the goal is then found by event name.
    assert client.create_goal('example.com', goal_type='event', event_name='Signup', display_name='Other name') == first
    assert client.create_goal('example.com', goal_type='event', event_name='Signup', display_name='Sign up',
                              custom_props={'plan': 'pro'}) == first
    page = client.create_goal('example.com', goal_type='page', page_path='/pricing')
    assert client.create_goal('example.com', goal_type='page', page_path='pricing', display_name='P') == page
    assert len(client.site_state('example.com')['goals']) == 2
    # No index conflicts at all (new display name and new custom_props): a second goal with that event name.
    second = client.create_goal('example.com', goal_type='event', event_name='Signup', display_name='Signup pro',
                                custom_props={'plan': 'pro'})
    assert second['id'] != first['id']


def test_48_unique_index_edge_cases(client):
    client.create_site('example.com')
    client.create_goal('example.com', goal_type='event', event_name='Signup', display_name='Taken')
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': 'event',
                                                         'event_name': 'Other', 'display_name': 'Taken'}), 404, CRASH)
    client.create_goal('example.com', goal_type='event', event_name='Visit /x')
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': 'page', 'page_path': '/x'}),
                 404, CRASH)
    client.seed(sites=[{'domain': 'twice.test', 'goals': [
        {'event_name': 'Buy', 'display_name': 'Buy', 'custom_props': {}},
        {'event_name': 'Buy', 'display_name': 'Buy pro', 'custom_props': {'plan': 'pro'}},
        {'page_path': '/p', 'display_name': 'Visit /p'}, {'page_path': '/p', 'display_name': 'Scroll /p', 'scroll_threshold': 50}]}])
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'twice.test', 'goal_type': 'event', 'event_name': 'Buy'}),
                 500, CRASH)
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'twice.test', 'goal_type': 'page', 'page_path': '/p'}),
                 500, CRASH)
    assert len(client.site_state('example.com')['goals']) == 2


@pytest.mark.parametrize('body, error', [
    ({'goal_type': 'page', 'page_path': ''}, "display_name: can't be blank, page_path: this field is required and must start "
                                             'with a /, event_name: this field is required and cannot be blank'),
    ({'goal_type': 'page', 'page_path': None}, "display_name: can't be blank, page_path: this field is required and must "
                                               'start with a /, event_name: this field is required and cannot be blank'),
    ({'goal_type': 'event', 'event_name': 'engagement'}, "page_path: this field is required and must start with a /, "
                                                         "event_name: The event name 'engagement' is reserved and cannot be used as a goal"),
    ({'goal_type': 'event', 'event_name': '__journey_end__'}, "page_path: this field is required and must start with a /, event_name: "
                                                              "The event name '__journey_end__' is reserved and cannot be used as a goal"),
    ({'goal_type': 'event', 'event_name': 'x' * 121}, 'event_name: should be at most 120 character(s)'),
    ({'goal_type': 'event', 'event_name': 'X', 'page_path': '/x'}, 'event_name: cannot co-exist with page_path'),
    ({'goal_type': 'page', 'page_path': '/x', 'scroll_threshold': 101}, 'scroll_threshold: Should be -1 (missing) or in range [0, 100]'),
    ({'goal_type': 'event', 'event_name': 'X', 'custom_props': {'a': '1', 'b': '2', 'c': '3', 'd': '4'}},
     'custom_props: use at most 3 properties per goal'),
    ({'goal_type': 'event', 'event_name': 'X', 'custom_props': {'a': None}}, 'custom_props: must be a map with string keys and string values'),
    ({'goal_type': 'event', 'event_name': 'X', 'custom_props': {'k' * 301: 'v'}}, 'custom_props: key length is 1..300 characters'),
    ({'goal_type': 'event', 'event_name': 'X', 'custom_props': {'k': ''}}, 'custom_props: value length is 1..2000 characters'),
    ({'goal_type': 'event', 'event_name': 'X', 'currency': 'XYZ'}, 'currency: is invalid'),
    ({'goal_type': 'event', 'event_name': 'x' * 121, 'currency': 'nope'}, 'event_name: should be at most 120 character(s), '
                                                                          'currency: is invalid'),
])
def test_49_goal_validation_errors(client, body, error):
    client.create_site('example.com')
    assert_error(client.put('/api/v1/sites/goals', json=dict(body, site_id='example.com')), 400, error)


def test_49_goal_feature_checks_and_revenue_goals(client):
    client.create_site('example.com')
    goal = client.create_goal('example.com', goal_type='event', event_name='Purchase', currency='EUR')
    assert 'currency' not in goal and client.site_state('example.com')['goals'][0]['currency'] == 'EUR'
    assert client.create_goal('example.com', goal_type='event', event_name='Purchase', currency='EUR')['id'] == goal['id']
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': 'event', 'event_name': 'Purchase',
                                                         'currency': 'USD'}), 400,
                 "event_name: 'Purchase' (with currency: EUR) has already been taken")
    scroll = client.create_goal('example.com', goal_type='page', page_path='/long', scroll_threshold=50, currency='USD')
    assert scroll['goal_type'] == 'scroll' and client.site_state('example.com')['goals'][-1]['currency'] is None
    client.seed_acme(role='owner', features=['sites_api', 'stats_api'])
    for extra in ({'custom_props': {'plan': 'pro'}}, {'currency': 'EUR'}):
        assert_error(client.put('/api/v1/sites/goals', json=dict(extra, site_id='acme.test', goal_type='event', event_name='X')),
                     402, 'Your current subscription plan does not include Custom Properties')


def test_50_goal_limit(client):
    client.config(goal_limit=2)
    client.create_site('example.com')
    client.create_goal('example.com', goal_type='event', event_name='A')
    client.create_goal('example.com', goal_type='page', page_path='/b')
    assert_error(client.put('/api/v1/sites/goals', json={'site_id': 'example.com', 'goal_type': 'event', 'event_name': 'C'}), 400,
                 'event_name: Maximum number of goals reached, page_path: Maximum number of goals reached')
    assert client.create_goal('example.com', goal_type='event', event_name='A')['event_name'] == 'A'


def test_51_delete_goal(client):
    client.create_site('example.com')
    client.create_site('other.test')
    goal = client.create_goal('example.com', goal_type='event', event_name='X')
    other = client.create_goal('other.test', goal_type='event', event_name='Y')
    assert_error(client.delete(f'/api/v1/sites/goals/{other["id"]}?site_id=example.com'), 404, GOAL_NOT_FOUND)
    assert_error(client.delete('/api/v1/sites/goals/0?site_id=example.com'), 404, GOAL_NOT_FOUND)
    assert_error(client.delete('/api/v1/sites/goals/abc?site_id=example.com'), 400, CRASH)
    assert client.delete(f'/api/v1/sites/goals/{goal["id"]}?site_id=example.com').json() == {'deleted': True}
    assert_error(client.delete(f'/api/v1/sites/goals/{goal["id"]}?site_id=example.com'), 404, GOAL_NOT_FOUND)
    assert [g['event_name'] for g in client.site_state('other.test')['goals']] == ['Y']


def test_52_list_goals(client):
    client.create_site('example.com')
    first = client.create_goal('example.com', goal_type='page', page_path='/login')
    second = client.create_goal('example.com', goal_type='event', event_name='Purchase', custom_props={'plan': 'pro'})
    assert assert_ok(client.get('/api/v1/sites/goals?site_id=example.com')) == {
        'goals': [{'id': second['id'], 'display_name': 'Purchase', 'goal_type': 'event', 'event_name': 'Purchase',
                   'page_path': None, 'custom_props': {'plan': 'pro'}},
                  {'id': first['id'], 'display_name': 'Visit /login', 'goal_type': 'page', 'event_name': None,
                   'page_path': '/login', 'custom_props': {}}],
        'meta': {'after': None, 'before': None, 'limit': 100}}


# -- Shared links --------------------------------------------------------------------------------------------------

def test_53_shared_link_find_or_create(client):
    client.create_site('example.com/blog')
    link = assert_ok(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com/blog', 'name': 'WordPress'}))
    assert link['name'] == 'WordPress'
    match = re.fullmatch(re.escape(client.base_url) + r'/share/example\.com%2Fblog\?auth=([A-Za-z0-9_-]{21})', link['url'])
    assert match, link['url']
    assert assert_ok(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com/blog', 'name': 'WordPress'})) == link
    other = assert_ok(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com/blog', 'name': 'wordpress'}))
    assert other['url'] != link['url']
    stored = client.site_state('example.com/blog')['shared_links'][0]
    assert stored == {'id': stored['id'], 'name': 'WordPress', 'slug': match.group(1), 'url': link['url'], 'password_protected': False}


def test_54_shared_link_errors(client):
    assert_error(client.put('/api/v1/sites/shared-links', json={'site_id': 'nope.test'}), 400,
                 'Parameter `name` is required to create a shared link')
    assert_error(client.put('/api/v1/sites/shared-links', json={'site_id': 'nope.test', 'name': 'x'}), 404, SITE_NOT_FOUND)
    client.create_site('example.com')
    assert_error(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com', 'name': ''}), 400, "can't be blank")
    assert_error(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com', 'name': None}), 500, CRASH)
    assert_error(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com', 'name': 'WordPress - Shared Dashboard'}),
                 400, 'This name is reserved. Please choose another one')
    assert_error(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com', 'name': 'n' * 256}), 500, CRASH)
    client.seed_acme(role='owner', features=['sites_api', 'stats_api'])
    assert_error(client.put('/api/v1/sites/shared-links', json={'site_id': 'acme.test', 'name': 'x'}), 402,
                 'Your current subscription plan does not include Shared Links')


def test_55_no_route_lists_or_deletes_shared_links(client):
    client.create_site('example.com')
    assert_ok(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com', 'name': 'x'}))
    assert_error(client.get('/api/v1/sites/shared-links?site_id=example.com'), 404, SITE_NOT_FOUND)
    assert_error(client.delete('/api/v1/sites/shared-links?site_id=example.com&name=x'), 404, SITE_NOT_FOUND)
    assert client.delete('/api/v1/sites/shared-links/x?site_id=example.com').status_code == 404
    assert len(client.site_state('example.com')['shared_links']) == 1


# -- Custom properties ---------------------------------------------------------------------------------------------

def test_56_add_custom_prop(client):
    assert_error(client.put('/api/v1/sites/custom-props', json={'site_id': 'nope.test'}), 400,
                 'Parameter `property` is required to create a custom property')
    client.create_site('example.com')
    for attempt in range(2):
        assert client.put('/api/v1/sites/custom-props', json={'site_id': 'example.com', 'property': ' author '}).json() == {'created': True}
    assert client.site_state('example.com')['custom_properties'] == ['author']
    for bad in ('', '   ', 'p' * 301):
        assert_error(client.put('/api/v1/sites/custom-props', json={'site_id': 'example.com', 'property': bad}), 400,
                     'Parameter `property` is too long')
    client.seed(sites=[{'domain': 'full.test', 'custom_properties': [f'p{index}' for index in range(300)]}])
    assert_error(client.put('/api/v1/sites/custom-props', json={'site_id': 'full.test', 'property': 'one-more'}), 400,
                 "Can't add any more custom properties")
    assert_ok(client.put('/api/v1/sites/custom-props', json={'site_id': 'full.test', 'property': 'p0'}))
    client.seed_acme(role='owner', features=['sites_api', 'stats_api'])
    assert_error(client.put('/api/v1/sites/custom-props', json={'site_id': 'acme.test', 'property': 'author'}), 402,
                 'Your current subscription plan does not include Custom Properties')
    assert_ok(client.put('/api/v1/sites/custom-props', json={'site_id': 'acme.test', 'property': 'path'}))


def test_57_delete_custom_prop(client):
    client.create_site('example.com')
    for prop in ('a/b/c', 'keep'):
        assert_ok(client.put('/api/v1/sites/custom-props', json={'site_id': 'example.com', 'property': prop}))
    assert client.delete('/api/v1/sites/custom-props/a/b/c?site_id=example.com').json() == {'deleted': True}
    assert client.site_state('example.com')['custom_properties'] == ['keep']
    assert client.delete('/api/v1/sites/custom-props/unknown?site_id=example.com').json() == {'deleted': True}
    assert client.delete('/api/v1/sites/custom-props/keep', json={'site_id': 'example.com', 'property': 'x'}).json() == {'deleted': True}
    assert client.site_state('example.com')['custom_properties'] == []


# -- Guests --------------------------------------------------------------------------------------------------------

def test_58_invite_guest(client):
    client.seed(sites=[{'domain': 'example.com', 'guests': [{'email': 'g@example.com', 'role': 'editor', 'status': 'accepted'}]}])
    invited = {'email': 'new@example.com', 'role': 'viewer', 'status': 'invited'}
    assert assert_ok(client.put('/api/v1/sites/guests', json={'site_id': 'example.com', 'email': 'new@example.com', 'role': 'viewer'})) == invited
    assert assert_ok(client.put('/api/v1/sites/guests', json={'site_id': 'example.com', 'email': 'new@example.com', 'role': 'editor'})) == invited
    assert assert_ok(client.put('/api/v1/sites/guests', json={'site_id': 'example.com', 'email': 'g@example.com', 'role': 'viewer'})) == {
        'email': 'g@example.com', 'role': 'editor', 'status': 'accepted'}


def test_59_guest_parameters_before_site_lookup(client):
    role_error = 'Parameter `role` is required to create guest. Possible values: `viewer` or `editor`'
    assert_error(client.put('/api/v1/sites/guests', json={'site_id': 'nope.test', 'role': 'viewer'}), 400,
                 'Parameter `email` is required to create guest')
    for role in ({}, {'role': 'owner'}, {'role': None}, {'role': 'Viewer'}):
        assert_error(client.put('/api/v1/sites/guests', json=dict(role, site_id='nope.test', email='g@example.com')), 400, role_error)
    assert_error(client.put('/api/v1/sites/guests', json={'site_id': 'nope.test', 'email': 'g@example.com', 'role': 'viewer'}), 404,
                 SITE_NOT_FOUND)


def test_60_inviting_a_team_member_crashes(client):
    client.create_site('example.com')
    assert_error(client.put('/api/v1/sites/guests', json={'site_id': 'example.com', 'email': MAIN, 'role': 'viewer'}), 500, CRASH)
    assert_error(client.put('/api/v1/sites/guests', json={'site_id': 'example.com', 'email': 'not-an-email', 'role': 'viewer'}), 500, CRASH)
    assert client.site_state('example.com')['guests'] == []


def test_61_delete_guest_always_succeeds(client):
    guests = [{'email': 'g@example.com', 'role': 'viewer', 'status': 'accepted'},
              {'email': 'i@example.com', 'role': 'viewer', 'status': 'invited'}]
    client.seed(sites=[{'domain': 'example.com', 'guests': guests}])
    for email in ('g@example.com', 'i@example.com', 'i@example.com', 'unknown@example.com', MAIN):
        assert client.delete(f'/api/v1/sites/guests/{email}?site_id=example.com').json() == {'deleted': True}
    assert client.site_state('example.com')['guests'] == []
    members = {m['email']: m['role'] for m in client.state()['teams'][0]['members']}
    assert members == {MAIN: 'owner'}


def test_62_list_guests_order(client):
    guests = [{'email': 'g1@x', 'role': 'editor', 'status': 'accepted'}, {'email': 'g2@x', 'role': 'viewer', 'status': 'accepted'}]
    client.seed(sites=[{'domain': 'example.com', 'guests': guests}])
    for email in ('third@example.com', 'fourth@example.com'):
        assert_ok(client.put('/api/v1/sites/guests', json={'site_id': 'example.com', 'email': email, 'role': 'viewer'}))
    expected = [{'email': 'g2@x', 'role': 'viewer', 'status': 'accepted'}, {'email': 'g1@x', 'role': 'editor', 'status': 'accepted'},
                {'email': 'third@example.com', 'role': 'viewer', 'status': 'invited'},
                {'email': 'fourth@example.com', 'role': 'viewer', 'status': 'invited'}]
    assert assert_ok(client.get('/api/v1/sites/guests?site_id=example.com')) == {
        'guests': expected, 'meta': {'after': None, 'before': None, 'limit': 100}}
    seen, cursor = [], None
    while True:
        page = assert_ok(client.get('/api/v1/sites/guests', params={'site_id': 'example.com', 'limit': 3, 'after': cursor}))
        seen += page['guests']
        cursor = page['meta']['after']
        if cursor is None:
            break
    assert seen == expected


# -- Routing -------------------------------------------------------------------------------------------------------

def test_63_delete_goals_without_id_is_a_site_named_goals(client):
    assert_error(client.delete('/api/v1/sites/goals'), 404, SITE_NOT_FOUND)
    assert_error(client.delete('/api/v1/sites/guests'), 404, SITE_NOT_FOUND)
    client.seed(sites=[{'domain': 'goals'}, {'domain': 'teams'}])
    assert client.delete('/api/v1/sites/goals').json() == {'deleted': True}
    # Literal segments win: GET /teams lists teams, not the site named "teams".
    assert 'teams' in assert_ok(client.get('/api/v1/sites/teams'))


def test_63_other_route_details(client):
    client.create_site('example.com')
    assert_ok(client.put('/api/v1/sites/custom-props', json={'site_id': 'example.com', 'property': 'a%2Fb'}))
    assert client.delete('/api/v1/sites/custom-props?site_id=example.com').json() == {'deleted': True}  # empty glob
    assert client.delete('/api/v1/sites/custom-props/a%252Fb?site_id=example.com').json() == {'deleted': True}
    assert client.site_state('example.com')['custom_properties'] == []
    assert client.post('/api/v1/sites/example.com', headers={'Accept': 'application/json'}).json() == {
        'status': 404, 'message': 'Not Found'}
    response = client.get('/api/v1/sites/a/b')
    assert response.status_code == 404 and response.headers['Content-Type'].startswith('text/html')


# -- Tracker script configuration (§8.6) ---------------------------------------------------------------------------

def test_tracker_configuration_on_create_and_update(client):
    body = assert_ok(client.post('/api/v1/sites', json={'domain': 'example.com', 'tracker_script_configuration': {
        'installation_type': 'wordpress', 'outbound_links': True, 'file_downloads': 'true', 'tagged_events': '1',
        'track_404_pages': False}}))
    config = body['tracker_script_configuration']
    assert (config['installation_type'], config['outbound_links'], config['file_downloads'], config['tagged_events']) == (
        'wordpress', True, True, True)
    assert sorted(g['event_name'] for g in client.site_state('example.com')['goals']) == ['File Download', 'Outbound Link: Click']
    updated = assert_ok(client.put('/api/v1/sites/example.com', json={'tracker_script_configuration': {
        'outbound_links': '0', 'form_submissions': 'true', 'track_404_pages': True, 'installation_type': None}}))
    config = updated['tracker_script_configuration']
    assert config['id'] == body['tracker_script_configuration']['id']
    assert (config['outbound_links'], config['file_downloads'], config['installation_type']) == (False, True, None)
    assert sorted(g['event_name'] for g in client.site_state('example.com')['goals']) == ['404', 'File Download', 'Form: Submission']
    for value in ('npm', 'gtm', 'manual'):
        assert_ok(client.put('/api/v1/sites/example.com', json={'tracker_script_configuration': {'installation_type': value}}))


@pytest.mark.parametrize('config, error', [
    ({'installation_type': 'ftp'}, 'tracker_script_configuration.installation_type: is invalid'),
    ({'track_404_pages': 'yes'}, 'tracker_script_configuration.track_404_pages: is invalid'),
    ({'pageview_props': 1, 'hash_based_routing': 'no'}, 'tracker_script_configuration.hash_based_routing: is invalid'),
])
def test_tracker_configuration_errors_create_nothing(client, config, error):
    assert_error(client.post('/api/v1/sites', json={'domain': 'example.com', 'tracker_script_configuration': config}), 400, error)
    assert client.state()['sites'] == []
    assert_error(client.post('/api/v1/sites', json={'domain': 'example.com', 'tracker_script_configuration': 'x'}), 400, CRASH)


def test_site_limit_and_team_selection(client):
    client.config(site_limit=1)
    client.create_site('one.test')
    assert_error(client.post('/api/v1/sites', json={'domain': 'two.test'}), 402,
                 'Your account has reached the limit of 1 sites. To unlock more sites, please upgrade your subscription.')
    client.config(site_limit=None)
    client.seed(teams=[{'setup': False}])
    assert_error(client.post('/api/v1/sites', json={'domain': 'two.test'}), 400, "You must select a team with 'team_id' parameter.")
