# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checklist of plausible-plugins-api.md §12 (``test_pNN_`` names the item), both editions, the state the
Plugins API shares with the Sites API, and the control API's plugin tokens."""

import base64
import json
import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from .support import (API_KEY, CRASH_CE, CRASH_HOSTED, GENERIC_404, GENERIC_406, PLUGINS, RESOURCE_NOT_FOUND, UNAUTHORIZED,
                      assert_ok, assert_plugins, basic, invalid)

SERVER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'server.py')
FEATURES = ('Props', 'SharedLinks', 'Funnels', 'Goals', 'RevenueGoals', 'SiteSegments', 'SitesAPI', 'StatsAPI', 'SSO',
            'ConsolidatedView')
NO_FEATURES = dict.fromkeys(FEATURES, False)
EMPTY_META = {'pagination': {'has_next_page': False, 'has_prev_page': False, 'links': {}}}
# Every route behind the token, with a body that would pass validation.
TOKEN_ROUTES = [
    ('GET', '/shared_links', None), ('GET', '/shared_links/1', None),
    ('PUT', '/shared_links', {'shared_link': {'name': 'Friends'}}),
    ('GET', '/goals', None), ('GET', '/goals/1', None),
    ('PUT', '/goals', {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Signup'}}),
    ('DELETE', '/goals/1', None), ('DELETE', '/goals', {'goal_ids': [1]}),
    ('PUT', '/custom_props', {'custom_prop': {'key': 'author'}}), ('DELETE', '/custom_props', {'custom_prop': {'key': 'author'}}),
    ('GET', '/tracker_script_configuration', None),
    ('PUT', '/tracker_script_configuration', {'tracker_script_configuration': {'installation_type': 'manual'}}),
]
ALL_ROUTES = TOKEN_ROUTES + [('GET', '/capabilities', None)]


def make_site(client, domain='example.com', **fields):
    """A site seeded directly (CE has no Sites API) and a token for it."""
    client.seed(sites=[dict(fields, domain=domain)])
    return client.plugin_token(domain)


def put_goal(client, token, goal_type='Goal.CustomEvent', **goal):
    return client.plugins('PUT', '/goals', token, json={'goal_type': goal_type, 'goal': goal})


def goal_ids(client, token, **query):
    body = assert_plugins(client.plugins('GET', '/goals', token, params=query), 200)
    return [entry['goal']['id'] for entry in body['goals']]


def locations(response):
    return response.raw.headers.getlist('location')


@pytest.fixture(params=['hosted', 'ce'])
def edition(request, client):
    client.config(edition=request.param)
    return request.param


# -- Editions and routing ------------------------------------------------------------------------------------------

def test_p01_ce_has_no_funnel_routes(client):
    client.config(edition='ce')
    token = make_site(client)
    json_only = {'Accept': 'application/json'}
    response = client.plugins('PUT', '/funnels', token, headers=json_only, json={'funnel': {'name': 'F', 'steps': []}})
    assert_plugins(response, 404, GENERIC_404)
    assert_plugins(client.plugins('GET', '/funnels', token, headers=json_only), 406, GENERIC_406)
    assert_plugins(client.plugins('GET', '/funnels/1', token, headers=json_only), 406, GENERIC_406)


def test_p01_hosted_serves_funnels(client):
    token = make_site(client)
    steps = [{'goal_type': 'Goal.Pageview', 'goal': {'path': '/cart'}},
             {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Purchase'}}]
    response = client.plugins('PUT', '/funnels', token, json={'funnel': {'name': 'Checkout', 'steps': steps}})
    funnel = assert_plugins(response, 201)['funnel']
    assert funnel['name'] == 'Checkout'
    assert [step['goal_type'] for step in funnel['steps']] == ['Goal.Pageview', 'Goal.CustomEvent']
    assert locations(response) == [f'{client.base_url}{PLUGINS}/funnels/{funnel["id"]}']
    assert assert_plugins(client.plugins('GET', f'/funnels/{funnel["id"]}', token), 200) == {'funnel': funnel}
    assert assert_plugins(client.plugins('GET', '/funnels', token), 200) == {'funnels': [{'funnel': funnel}], 'meta': EMPTY_META}
    assert_plugins(client.plugins('DELETE', f'/goals/{funnel["steps"][0]["goal"]["id"]}', token), 204)
    assert assert_plugins(client.plugins('GET', '/funnels', token), 200)['funnels'] == []  # fewer than two steps left


def test_p02_ce_drops_the_sites_api_and_keeps_the_plugins_api(client):
    client.config(edition='ce')
    token = make_site(client)
    response = client.post('/api/v1/sites', json={'domain': 'new.example'}, headers={'Accept': 'application/json'})
    assert response.status_code == 404 and response.json() == GENERIC_404
    assert client.get('/api/v1/sites', headers={'Accept': 'application/json'}).json() == GENERIC_406
    assert assert_plugins(client.plugins('GET', '/capabilities', token), 200)['authorized'] is True


@pytest.mark.parametrize('method, path, body', ALL_ROUTES)
def test_p03_accept_without_json_is_406(client, method, path, body):
    token = make_site(client)
    response = client.plugins(method, path, token, headers={'Accept': 'text/html'}, json=body)
    assert response.status_code == 406 and response.headers['Content-Type'].startswith('text/html')
    response = client.plugins(method, path, token, headers={'Accept': 'text/plain'}, json=body)
    assert response.status_code == 406
    response = client.plugins(method, path, token, headers={'Accept': 'application/json'}, json=body)
    assert response.status_code in (200, 201, 204, 404)


def test_p04_openapi_document_without_auth(client, edition):
    response = client.get('/api/plugins/spec/openapi', key=None)
    document = assert_plugins(response, 200)
    assert document['info'] == {'title': 'Plausible Plugins API', 'version': '1.0-rc'}
    assert document['servers'] == [{'url': client.base_url}]
    assert document['components']['securitySchemes'] == {'basic_auth': {'type': 'http', 'scheme': 'basic'}}
    paths = set(document['paths'])
    assert {f'{PLUGINS}/goals', f'{PLUGINS}/goals/{{id}}', f'{PLUGINS}/capabilities', f'{PLUGINS}/custom_props'} <= paths
    assert document['paths'][f'{PLUGINS}/goals']['put']['operationId'] == 'Goal.GetOrCreate'
    funnel_paths = {path for path in paths if '/funnels' in path}
    assert funnel_paths == (set() if edition == 'ce' else {f'{PLUGINS}/funnels', f'{PLUGINS}/funnels/{{id}}'})


# -- Authentication -------------------------------------------------------------------------------------------------

def assert_unauthorized(response):
    assert_plugins(response, 401, UNAUTHORIZED)
    assert response.headers['www-authenticate'] == 'Basic realm="Plugins API Access"'


@pytest.mark.parametrize('method, path, body', TOKEN_ROUTES)
def test_p05_no_authorization_header(client, edition, method, path, body):
    make_site(client)
    assert_unauthorized(client.plugins(method, path, json=body))


def test_p06_bearer_is_refused(client):
    token = make_site(client)
    assert_unauthorized(client.plugins('GET', '/goals', headers={'Authorization': 'Bearer ' + token}))
    assert_unauthorized(client.plugins('GET', '/goals', headers={'Authorization': 'Bearer ' + API_KEY}))


@pytest.mark.parametrize('user', ['Ansible', 'example.com', 'WordPress', '', None])
def test_p07_any_username_or_none(client, user):
    token = make_site(client)
    response = client.plugins('GET', '/goals', headers={'Authorization': basic(token, user)})
    assert_plugins(response, 200, {'goals': [], 'meta': EMPTY_META})


def test_p08_strict_base64(client):
    token = make_site(client)
    credentials = next(user + ':' + token for user in ('a', 'ab', 'abc') if len(user + ':' + token) % 3)  # needs padding
    encoded = base64.b64encode(credentials.encode()).decode()
    assert encoded.endswith('=')
    for header in ('Basic ' + encoded.rstrip('='), 'Basic ' + encoded[:8] + ' ' + encoded[8:], 'Basic !!' + encoded[2:],
                   'basic ' + encoded, 'Basic', encoded):
        assert_unauthorized(client.plugins('GET', '/goals', headers={'Authorization': header}))
    assert_plugins(client.plugins('GET', '/goals', headers={'Authorization': 'Basic ' + encoded}), 200)


def test_p09_unknown_token_and_unchecked_prefix(client):
    make_site(client)
    assert_unauthorized(client.plugins('GET', '/goals', 'plausible-plugin-' + 'A' * 40))
    own = client.plugin_token('example.com', token='no-prefix-at-all')
    assert own == 'no-prefix-at-all'
    assert_plugins(client.plugins('GET', '/goals', own), 200)


def test_p10_authentication_before_validation(client):
    token = make_site(client)
    assert_unauthorized(client.plugins('PUT', '/goals', json={}))
    assert_unauthorized(client.plugins('PUT', '/shared_links', 'wrong-token', json={}))
    assert_plugins(client.plugins('PUT', '/shared_links', token, json={}), 422)


def test_p11_every_operation_acts_on_the_tokens_site(client):
    token = make_site(client, goals=[{'event_name': 'Mine'}], shared_links=['Mine'])
    other = make_site(client, 'other.example', goals=[{'event_name': 'Theirs'}], shared_links=['Theirs'],
                      custom_properties=['theirs'])
    state = {site['domain']: site for site in client.state()['sites']}
    foreign_goal = state['other.example']['goals'][0]['id']
    foreign_link = state['other.example']['shared_links'][0]['id']
    assert_plugins(client.plugins('GET', f'/goals/{foreign_goal}', token), 404, RESOURCE_NOT_FOUND)
    assert_plugins(client.plugins('GET', f'/shared_links/{foreign_link}', token), 404, RESOURCE_NOT_FOUND)
    assert_plugins(client.plugins('DELETE', f'/goals/{foreign_goal}', token), 204)
    assert_plugins(client.plugins('DELETE', '/goals', token, json={'goal_ids': [foreign_goal]}), 204)
    body = assert_plugins(client.plugins('PUT', '/custom_props', token, json={'custom_prop': {'key': 'mine'}}), 201)
    assert body == {'custom_props': [{'custom_prop': {'key': 'mine'}}]}
    assert [entry['goal']['event_name'] for entry in client.plugins('GET', '/goals', token).json()['goals']] == ['Mine']
    assert [entry['shared_link']['name'] for entry in client.plugins('GET', '/shared_links', token).json()['shared_links']] == ['Mine']
    after = {site['domain']: site for site in client.state()['sites']}['other.example']
    assert [goal['event_name'] for goal in after['goals']] == ['Theirs'] and after['custom_properties'] == ['theirs']
    assert_plugins(client.plugins('GET', f'/goals/{foreign_goal}', other), 200)


def test_p12_never_rate_limited(client):
    client.config(burst_limit=1, hourly_limit=1)  # the Sites API's limits do not apply here
    token = make_site(client)
    for attempt in range(70):
        response = client.plugins('GET', '/capabilities' if attempt % 2 else '/goals', token)
        assert response.status_code == 200
        names = {name.lower() for name in response.headers}
        assert not names & {'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'}


# -- Capabilities ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('authorization', [None, 'Bearer x', basic('not-a-token'), 'Basic ***'])
def test_p13_capabilities_without_a_valid_token(client, edition, authorization):
    make_site(client)
    headers = {'Authorization': authorization} if authorization else {}
    response = client.plugins('GET', '/capabilities', headers=headers)
    assert_plugins(response, 200, {'authorized': False, 'data_domain': None, 'features': NO_FEATURES})


def test_p14_capabilities_with_a_token(client):
    token = make_site(client)
    body = assert_plugins(client.plugins('GET', '/capabilities', token), 200)
    assert body['authorized'] is True and body['data_domain'] == 'example.com'
    assert body['features']['Goals'] is True and body['features']['SitesAPI'] is True and body['features']['SSO'] is False
    client.config(edition='ce')
    body = assert_plugins(client.plugins('GET', '/capabilities', token), 200)
    assert body == {'authorized': True, 'data_domain': 'example.com',
                    'features': {name: name not in ('SitesAPI', 'SSO') for name in FEATURES}}


def test_p14_hosted_flags_follow_the_team_features(client):
    client.seed(teams=[{'name': 'Growth', 'features': ['stats_api', 'shared_links']}])
    token = make_site(client, team='Growth')
    assert client.plugins('GET', '/capabilities', token).json()['features'] == {
        'Props': False, 'SharedLinks': True, 'Funnels': False, 'Goals': True, 'RevenueGoals': False, 'SiteSegments': False,
        'SitesAPI': False, 'StatsAPI': True, 'SSO': False, 'ConsolidatedView': False}


def test_p14_data_domain_is_the_current_domain(client):
    client.create_site('old.example')
    token = client.plugin_token('old.example')
    assert_ok(client.put('/api/v1/sites/old.example', json={'domain': 'new.example'}))
    assert client.plugins('GET', '/capabilities', token).json()['data_domain'] == 'new.example'


def test_p15_feature_keys(client, edition):
    token = make_site(client)
    for headers in ({}, {'Authorization': basic(token)}):
        assert list(client.plugins('GET', '/capabilities', headers=headers).json()['features']) == list(FEATURES)


# -- Validation and errors ------------------------------------------------------------------------------------------

def test_p16_schema_and_domain_failure_shapes(client):
    token = make_site(client)
    response = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 5}})
    assert_plugins(response, 422, {'errors': [invalid('/shared_link/name', 'Invalid string. Got: integer')]})
    response = client.plugins('PUT', '/custom_props', token, json={'custom_prop': {'key': ' '}})
    assert_plugins(response, 422, {'errors': [{'detail': 'allowed_event_props: must be between 1 and 300 characters'}]})
    # One entry per field, fields in alphabetical order.
    response = put_goal(client, token, event_name='engagement', custom_props={'k' * 301: 'v'})
    assert_plugins(response, 422, {'errors': [
        {'detail': 'custom_props: key length is 1..300 characters'},
        {'detail': "event_name: The event name 'engagement' is reserved and cannot be used as a goal"},
        {'detail': 'page_path: this field is required and must start with a /'}]})


def test_p16_a_body_without_json_content_type_is_not_read(client):
    token = make_site(client)
    response = client.plugins('PUT', '/shared_links', token, data=json.dumps({'shared_link': {'name': 'Friends'}}),
                              headers={'Content-Type': 'text/plain'})
    assert_plugins(response, 422, {'errors': [invalid('/shared_link', 'Missing field: shared_link')]})


@pytest.mark.parametrize('method, path', [('GET', '/shared_links/abc'), ('GET', '/goals/abc'), ('DELETE', '/goals/abc')])
def test_p17_non_integer_path_id(client, method, path):
    token = make_site(client)
    assert_plugins(client.plugins(method, path, token), 422, {'errors': [invalid('/id', 'Invalid integer. Got: string')]})


def test_p18_unknown_ids(client, edition):
    token = make_site(client)
    assert_plugins(client.plugins('GET', '/shared_links/666', token), 404, RESOURCE_NOT_FOUND)
    assert_plugins(client.plugins('GET', '/goals/666', token), 404, RESOURCE_NOT_FOUND)


def test_p19_crash_body_per_edition(client, edition):
    token = make_site(client)
    response = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': ''}})
    assert_plugins(response, 500, CRASH_CE if edition == 'ce' else CRASH_HOSTED)


def test_p20_ce_never_answers_402(client):
    client.seed(teams=[{'name': 'Free', 'features': []}])
    token = make_site(client, team='Free')
    props_goal = {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Signup', 'custom_props': {'plan': 'free'}}}
    revenue_goal = {'goal_type': 'Goal.Revenue', 'goal': {'event_name': 'Purchase', 'currency': 'EUR'}}
    prop = {'custom_prop': {'key': 'author'}}
    upgrade = 'is part of the Plausible Business plan. To get access to this feature, please upgrade your account.'
    assert_plugins(client.plugins('PUT', '/goals', token, json=props_goal), 402, {'errors': [{'detail': 'Revenue Goals ' + upgrade}]})
    assert_plugins(client.plugins('PUT', '/goals', token, json=revenue_goal), 402, {'errors': [{'detail': 'Revenue Goals ' + upgrade}]})
    assert_plugins(client.plugins('PUT', '/custom_props', token, json=prop), 402, {'errors': [{'detail': 'Custom Properties ' + upgrade}]})
    assert_plugins(client.plugins('PUT', '/custom_props', token, json={'custom_prop': {'key': 'path'}}), 201)  # internal key
    client.config(edition='ce')
    assert_plugins(client.plugins('PUT', '/goals', token, json=props_goal), 201)
    assert_plugins(client.plugins('PUT', '/goals', token, json=revenue_goal), 422)
    assert_plugins(client.plugins('PUT', '/custom_props', token, json=prop), 201)


# -- Pagination -----------------------------------------------------------------------------------------------------

def test_p21_page_size(client):
    token = make_site(client, goals=[{'event_name': f'Event {index}'} for index in range(12)])
    assert len(goal_ids(client, token)) == 10
    assert len(goal_ids(client, token, limit=100)) == 12
    assert len(goal_ids(client, token, limit=3)) == 3
    for ignored in (0, -1, 101):
        assert len(goal_ids(client, token, limit=ignored)) == 10
    response = client.plugins('GET', '/goals', token, params={'limit': 'ten'})
    assert_plugins(response, 422, {'errors': [invalid('/limit', 'Invalid integer. Got: string')]})
    assert_plugins(client.plugins('GET', '/shared_links', token, params={'limit': 'ten'}), 422)


def test_p22_newest_first(client):
    token = make_site(client, shared_links=['One', 'Two', 'Three'])
    for name in ('A', 'B', 'C'):
        put_goal(client, token, event_name=name)
    ids = goal_ids(client, token)
    assert ids == sorted(ids, reverse=True)
    assert [entry['goal']['event_name'] for entry in client.plugins('GET', '/goals', token).json()['goals']] == ['C', 'B', 'A']
    names = [entry['shared_link']['name'] for entry in client.plugins('GET', '/shared_links', token).json()['shared_links']]
    assert names == ['Three', 'Two', 'One']


def test_p23_links(client):
    token = make_site(client, goals=[{'event_name': f'Event {index}'} for index in range(5)])
    assert client.plugins('GET', '/goals', token).json()['meta'] == EMPTY_META
    first = client.plugins('GET', '/goals', token, params={'limit': 2}).json()
    pagination = first['meta']['pagination']
    assert pagination['has_next_page'] is True and pagination['has_prev_page'] is False
    assert set(pagination['links']) == {'next'}
    next_url = pagination['links']['next']['url']
    match = re.fullmatch(re.escape(f'{client.base_url}{PLUGINS}/goals?') + r'after=([^&]+)&limit=2', next_url)
    assert match, next_url
    seen = [entry['goal']['id'] for entry in first['goals']]
    pages = [first]
    while pages[-1]['meta']['pagination']['has_next_page']:
        response = client.session.get(pages[-1]['meta']['pagination']['links']['next']['url'],
                                      headers={'Authorization': basic(token)}, timeout=10)
        pages.append(assert_plugins(response, 200))
        seen += [entry['goal']['id'] for entry in pages[-1]['goals']]
    assert seen == goal_ids(client, token, limit=100) and len(pages) == 3
    second = pages[1]['meta']['pagination']
    assert second['has_prev_page'] is True and set(second['links']) == {'next', 'prev'}
    assert 'before=' in second['links']['prev']['url'] and 'limit=2' in second['links']['prev']['url']
    back = client.session.get(second['links']['prev']['url'], headers={'Authorization': basic(token)}, timeout=10).json()
    assert back['goals'] == first['goals']
    last = pages[2]['meta']['pagination']
    assert last['has_next_page'] is False and set(last['links']) == {'prev'}


# -- Shared links ---------------------------------------------------------------------------------------------------

def test_p24_create_shared_link(client, edition):
    token = make_site(client)
    response = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 'Friends'}})
    link = assert_plugins(response, 201)['shared_link']
    assert set(link) == {'id', 'name', 'password_protected', 'href'}
    assert link['name'] == 'Friends' and link['password_protected'] is False and isinstance(link['id'], int)
    assert locations(response) == [f'{client.base_url}{PLUGINS}/shared_links/{link["id"]}']
    assert assert_plugins(client.plugins('GET', f'/shared_links/{link["id"]}', token), 200) == {'shared_link': link}


def test_p25_shared_link_get_or_create_ignores_the_password(client):
    token = make_site(client)
    plain = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 'Plain'}}).json()
    again = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 'Plain', 'password': 'x'}})
    assert assert_plugins(again, 201) == plain
    assert locations(again) == [f'{client.base_url}{PLUGINS}/shared_links/{plain["shared_link"]["id"]}']
    secret = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 'Secret', 'password': 's3cret'}}).json()
    assert secret['shared_link']['password_protected'] is True
    assert client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 'Secret'}}).json() == secret
    stored = {link['name']: link for link in client.site_state('example.com')['shared_links']}
    assert stored['Plain']['password_protected'] is False and stored['Secret']['password_protected'] is True
    assert 's3cret' not in json.dumps(client.state())
    client.seed(sites=[{'domain': 'seeded.example', 'shared_links': ['Open', {'name': 'Closed', 'password': 'x'}]}])
    seeded = client.plugins('GET', '/shared_links', client.plugin_token('seeded.example')).json()['shared_links']
    assert [(entry['shared_link']['name'], entry['shared_link']['password_protected']) for entry in seeded] == [
        ('Closed', True), ('Open', False)]


def test_p26_shared_link_body_required(client):
    token = make_site(client)
    response = client.plugins('PUT', '/shared_links', token, json={})
    assert_plugins(response, 422, {'errors': [invalid('/shared_link', 'Missing field: shared_link')]})


def test_p27_wordpress_name_and_no_plan_check(client):
    client.seed(teams=[{'name': 'Free', 'features': []}])
    token = make_site(client, team='Free')
    response = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 'WordPress - Shared Dashboard'}})
    assert assert_plugins(response, 201)['shared_link']['name'] == 'WordPress - Shared Dashboard'


@pytest.mark.parametrize('name', ['', '   ', 'x' * 256])
def test_p28_blank_or_long_name_crashes(client, edition, name):
    token = make_site(client)
    response = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': name}})
    assert_plugins(response, 500, CRASH_CE if edition == 'ce' else CRASH_HOSTED)
    assert client.site_state('example.com')['shared_links'] == []


def test_p29_href(client):
    token = make_site(client, 'example.com/blog')
    link = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 'Friends'}}).json()['shared_link']
    match = re.fullmatch(re.escape(client.base_url) + r'/share/example\.com%2Fblog\?auth=([A-Za-z0-9_-]{21})', link['href'])
    assert match, link['href']
    assert client.site_state('example.com/blog')['shared_links'][0]['slug'] == match.group(1)


@pytest.mark.parametrize('method', ['DELETE', 'PUT', 'PATCH', 'POST'])
def test_p30_no_shared_link_delete_rename_or_password_route(client, method):
    token = make_site(client, shared_links=['Friends'])
    link_id = client.site_state('example.com')['shared_links'][0]['id']
    response = client.plugins(method, f'/shared_links/{link_id}', token, headers={'Accept': 'application/json'},
                              json={'shared_link': {'name': 'Renamed', 'password': 'x'}})
    assert_plugins(response, 404, GENERIC_404)
    assert [link['name'] for link in client.site_state('example.com')['shared_links']] == ['Friends']


# -- Goals ----------------------------------------------------------------------------------------------------------

def test_p31_put_goals_answers_the_list_shape(client, edition):
    token = make_site(client)
    first = put_goal(client, token, event_name='Signup')
    body = assert_plugins(first, 201)
    goal = body['goals'][0]['goal']
    assert body == {'goals': [{'goal_type': 'Goal.CustomEvent', 'goal': {'id': goal['id'], 'display_name': 'Signup',
                                                                         'event_name': 'Signup', 'custom_props': {}}}],
                    'meta': EMPTY_META}
    assert locations(first) == [f'{client.base_url}{PLUGINS}/goals/{goal["id"]}']
    again = put_goal(client, token, event_name='Signup')
    assert assert_plugins(again, 201) == body and locations(again) == locations(first)
    bulk = client.plugins('PUT', '/goals', token, json={'goals': [
        {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Signup'}},
        {'goal_type': 'Goal.Pageview', 'goal': {'path': '/thanks'}},
        {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Download', 'custom_props': {'kind': 'pdf'}}}]})
    goals = assert_plugins(bulk, 201)['goals']
    assert [entry['goal']['id'] for entry in goals][0] == goal['id']
    assert locations(bulk) == [f'{client.base_url}{PLUGINS}/goals/{entry["goal"]["id"]}' for entry in goals]
    assert assert_plugins(client.plugins('GET', f'/goals/{goals[2]["goal"]["id"]}', token), 200) == goals[2]


def test_p32_path_and_display_names(client):
    token = make_site(client)
    page = put_goal(client, token, 'Goal.Pageview', path=' checkout ').json()['goals'][0]
    assert page == {'goal_type': 'Goal.Pageview', 'goal': {'id': page['goal']['id'], 'display_name': 'Visit /checkout',
                                                           'path': '/checkout', 'custom_props': {}}}
    event = put_goal(client, token, event_name='Newsletter Signup').json()['goals'][0]['goal']
    assert event['display_name'] == 'Newsletter Signup'


def test_p33_existing_goal_comes_back_with_its_old_props(client, edition):
    token = make_site(client)
    old = put_goal(client, token, event_name='Signup').json()['goals'][0]
    response = put_goal(client, token, event_name='Signup', custom_props={'tier': 'premium'})
    assert assert_plugins(response, 201)['goals'] == [old]
    assert len(client.site_state('example.com')['goals']) == 1


def test_p34_bulk_is_atomic(client, edition):
    token = make_site(client)
    response = client.plugins('PUT', '/goals', token, json={'goals': [
        {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Fine'}},
        {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'engagement'}}]})
    assert_plugins(response, 422)
    assert client.site_state('example.com')['goals'] == []
    assert goal_ids(client, token) == []


@pytest.mark.parametrize('body, error', [
    ({'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'A', 'custom_props': {'a': '1', 'b': '2', 'c': '3', 'd': '4'}}},
     invalid('/goal/custom_props', 'Object property count 4 is greater than maxProperties: 3')),
    ({'goals': [{'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': f'Bulk {index}'}} for index in range(9)]},
     invalid('/goals', 'Array length 9 is larger than maxItems: 8')),
    ({'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'A', 'custom_props': {'a': None}}},
     invalid('/goal/custom_props/a', 'null value where string expected')),
    ({'goal_type': 'Goal.Pageview', 'goal': {'path': '/a', 'custom_props': {'a': 1}}},
     invalid('/goal/custom_props/a', 'Invalid string. Got: integer')),
    ({'goal_type': 'Goal.SomeTypo', 'goal': {'event_name': 'A'}}, invalid('/goal_type', 'Invalid value for enum')),
    ({'goal_type': 'Goal.Pageview', 'goal': {'event_name': 'A'}}, invalid('/goal/path', 'Missing field: path')),
    ({'goals': []}, invalid('/goals', 'Array length 0 is smaller than minItems: 1')),
])
def test_p35_goal_schema_errors(client, edition, body, error):
    token = make_site(client)
    assert_plugins(client.plugins('PUT', '/goals', token, json=body), 422, {'errors': [error]})
    assert client.site_state('example.com')['goals'] == []


def test_p36_reserved_event_name(client, edition):
    token = make_site(client)
    errors = assert_plugins(put_goal(client, token, event_name='engagement'), 422)['errors']
    assert {'detail': "event_name: The event name 'engagement' is reserved and cannot be used as a goal"} in errors
    assert all(set(entry) == {'detail'} for entry in errors)
    journey_end = put_goal(client, token, event_name='__journey_end__')
    if edition == 'ce':  # not reserved there
        assert assert_plugins(journey_end, 201)['goals'][0]['goal']['event_name'] == '__journey_end__'
    else:
        assert {'detail': "event_name: The event name '__journey_end__' is reserved and cannot be used as a goal"} in \
            assert_plugins(journey_end, 422)['errors']


def test_p37_goal_limit(client, edition):
    client.config(goal_limit=2)
    token = make_site(client, goals=[{'event_name': 'One'}, {'event_name': 'Two'}])
    assert_plugins(put_goal(client, token, event_name='Three'), 422, {'errors': [
        {'detail': 'event_name: Maximum number of goals reached'}, {'detail': 'page_path: Maximum number of goals reached'}]})
    assert_plugins(put_goal(client, token, event_name='Two'), 201)


def test_p38_revenue_goals_per_edition(client):
    token = make_site(client)
    client.config(edition='ce')
    response = put_goal(client, token, 'Goal.Revenue', event_name='Purchase', currency='EUR')
    assert_plugins(response, 422, {'errors': [{'detail': "event_name: 'Purchase' (with currency: ) has already been taken"}]})
    assert client.site_state('example.com')['goals'] == []
    client.config(edition='hosted')
    goal = assert_plugins(put_goal(client, token, 'Goal.Revenue', event_name='Purchase', currency='EUR'), 201)['goals'][0]
    assert goal == {'goal_type': 'Goal.Revenue', 'goal': {'id': goal['goal']['id'], 'display_name': 'Purchase',
                                                          'event_name': 'Purchase', 'currency': 'EUR', 'custom_props': {}}}
    response = put_goal(client, token, 'Goal.Revenue', event_name='Purchase', currency='USD')
    assert_plugins(response, 422, {'errors': [{'detail': "event_name: 'Purchase' (with currency: EUR) has already been taken"}]})
    response = put_goal(client, token, 'Goal.Revenue', event_name='Refund', currency='XXXX')
    assert_plugins(response, 422, {'errors': [{'detail': 'currency: is invalid'}]})


def test_p39_scroll_goals_look_like_pageview_goals(client, edition):
    token = make_site(client, goals=[{'page_path': '/blog', 'display_name': 'Scroll /blog 50%', 'scroll_threshold': 50}])
    goal = client.plugins('GET', '/goals', token).json()['goals'][0]
    assert goal == {'goal_type': 'Goal.Pageview', 'goal': {'id': goal['goal']['id'], 'display_name': 'Scroll /blog 50%',
                                                           'path': '/blog', 'custom_props': {}}}


def test_p40_deletes_always_answer_204(client, edition):
    token = make_site(client, goals=[{'event_name': name} for name in ('A', 'B', 'C', 'D')])
    other = make_site(client, 'other.example', goals=[{'event_name': 'Theirs'}])
    a, b, c, d = (goal['id'] for goal in client.site_state('example.com')['goals'])
    theirs = client.site_state('other.example')['goals'][0]['id']
    for goal_id in (a, a, 666, theirs):
        assert_plugins(client.plugins('DELETE', f'/goals/{goal_id}', token), 204)
    assert_plugins(client.plugins('DELETE', '/goals', token, json={'goal_ids': [b, c, 666, theirs]}), 204)
    assert goal_ids(client, token) == [d] and goal_ids(client, other) == [theirs]
    for body, error in (({}, invalid('/goal_ids', 'Missing field: goal_ids')),
                        ({'goal_ids': []}, invalid('/goal_ids', 'Array length 0 is smaller than minItems: 1')),
                        ({'goal_ids': list(range(1, 10))}, invalid('/goal_ids', 'Array length 9 is larger than maxItems: 8')),
                        ({'goal_ids': ['x']}, invalid('/goal_ids/0', 'Invalid integer. Got: string'))):
        assert_plugins(client.plugins('DELETE', '/goals', token, json=body), 422, {'errors': [error]})
    assert goal_ids(client, token) == [d]


def test_p41_ambiguous_goals_crash_or_vanish(client, edition):
    token = make_site(client, goals=[{'page_path': '/docs'},
                                     {'page_path': '/docs', 'display_name': 'Scroll /docs', 'scroll_threshold': 75},
                                     {'event_name': 'Other', 'display_name': 'Visit /x'}])
    response = put_goal(client, token, 'Goal.Pageview', path='/docs')
    assert_plugins(response, 500, CRASH_CE if edition == 'ce' else CRASH_HOSTED)
    # A display-name collision with another kind of goal: get_by! finds nothing, the generic view answers.
    assert_plugins(put_goal(client, token, 'Goal.Pageview', path='/x'), 404, GENERIC_404)
    assert len(client.site_state('example.com')['goals']) == 3


# -- Custom properties ----------------------------------------------------------------------------------------------

def test_p42_no_custom_props_read_route(client):
    token = make_site(client, custom_properties=['author'])
    assert_plugins(client.plugins('GET', '/custom_props', token, headers={'Accept': 'application/json'}), 406, GENERIC_406)
    response = client.plugins('GET', '/custom_props', token)
    assert response.status_code == 404 and response.headers['Content-Type'].startswith('text/html')


def test_p43_put_answers_the_whole_list(client, edition):
    token = make_site(client, custom_properties=['old'])
    response = client.plugins('PUT', '/custom_props', token, json={'custom_props': [
        {'custom_prop': {'key': ' b '}}, {'custom_prop': {'key': 'a'}}, {'custom_prop': {'key': 'b'}}]})
    keys = [entry['custom_prop']['key'] for entry in assert_plugins(response, 201)['custom_props']]
    assert keys == ['b', 'a', 'old']
    assert client.site_state('example.com')['custom_properties'] == ['b', 'a', 'old']


def test_p44_repeated_put_and_move_to_front(client):
    token = make_site(client)
    for key in ('a', 'b', 'c'):
        client.plugins('PUT', '/custom_props', token, json={'custom_prop': {'key': key}})
    first = client.plugins('PUT', '/custom_props', token, json={'custom_prop': {'key': 'c'}})
    assert assert_plugins(first, 201) == {'custom_props': [{'custom_prop': {'key': key}} for key in ('c', 'b', 'a')]}
    assert client.plugins('PUT', '/custom_props', token, json={'custom_prop': {'key': 'c'}}).json() == first.json()
    moved = client.plugins('PUT', '/custom_props', token, json={'custom_prop': {'key': 'a'}}).json()
    assert [entry['custom_prop']['key'] for entry in moved['custom_props']] == ['a', 'c', 'b']


@pytest.mark.parametrize('key', ['', '   ', 'k' * 301])
def test_p45_key_length(client, edition, key):
    token = make_site(client, custom_properties=['kept'])
    response = client.plugins('PUT', '/custom_props', token, json={'custom_prop': {'key': key}})
    assert_plugins(response, 422, {'errors': [{'detail': 'allowed_event_props: must be between 1 and 300 characters'}]})
    assert client.site_state('example.com')['custom_properties'] == ['kept']


def test_p46_delete_answers_204(client, edition):
    token = make_site(client, custom_properties=['a', 'b', 'c'])
    assert_plugins(client.plugins('DELETE', '/custom_props', token, json={'custom_prop': {'key': 'b'}}), 204)
    assert_plugins(client.plugins('DELETE', '/custom_props', token, json={'custom_props': [
        {'custom_prop': {'key': 'a'}}, {'custom_prop': {'key': 'absent'}}]}), 204)
    assert_plugins(client.plugins('DELETE', '/custom_props', token, json={'custom_prop': {'key': 'absent'}}), 204)
    assert client.site_state('example.com')['custom_properties'] == ['c']


# -- Tracker script configuration -----------------------------------------------------------------------------------

def test_p47_get_creates_the_default(client, edition):
    token = make_site(client)
    assert client.site_state('example.com')['tracker_script_configuration'] is None
    body = assert_plugins(client.plugins('GET', '/tracker_script_configuration', token), 200)
    config = body['tracker_script_configuration']
    assert config == {'id': config['id'], 'installation_type': 'manual', 'hash_based_routing': False, 'outbound_links': False,
                      'file_downloads': False, 'form_submissions': False}
    assert re.fullmatch(r'pa-[A-Za-z0-9_-]{21}', config['id'])
    stored = client.site_state('example.com')['tracker_script_configuration']
    assert stored['id'] == config['id'] and stored['installation_type'] is None  # a stored null reads as "manual"


def test_p48_put_changes_only_the_given_keys(client, edition):
    token = make_site(client, tracker_script_configuration={'installation_type': 'gtm', 'outbound_links': True})
    response = client.plugins('PUT', '/tracker_script_configuration', token, json={'tracker_script_configuration': {
        'installation_type': 'wordpress', 'hash_based_routing': True, 'track_404_pages': True, 'unknown': 1}})
    config = assert_plugins(response, 200)['tracker_script_configuration']
    assert config == {'id': config['id'], 'installation_type': 'wordpress', 'hash_based_routing': True, 'outbound_links': True,
                      'file_downloads': False, 'form_submissions': False}
    assert client.site_state('example.com')['tracker_script_configuration']['track_404_pages'] is False
    pointer = '/tracker_script_configuration'
    for body, error in (({}, invalid(pointer, 'Missing field: tracker_script_configuration')),
                        ({'tracker_script_configuration': {}}, invalid(pointer + '/installation_type', 'Missing field: installation_type')),
                        ({'tracker_script_configuration': {'installation_type': 'cdn'}},
                         invalid(pointer + '/installation_type', 'Invalid value for enum'))):
        assert_plugins(client.plugins('PUT', '/tracker_script_configuration', token, json=body), 422, {'errors': [error]})


def test_p49_tracker_options_create_and_delete_goals(client, edition):
    token = make_site(client)
    options = {'outbound_links': 'Outbound Link: Click', 'file_downloads': 'File Download', 'form_submissions': 'Form: Submission'}

    def put(value):
        body = {'tracker_script_configuration': dict(dict.fromkeys(options, value), installation_type='manual')}
        assert_plugins(client.plugins('PUT', '/tracker_script_configuration', token, json=body), 200)
        return sorted(entry['goal']['event_name'] for entry in client.plugins('GET', '/goals', token).json()['goals'])

    assert put(True) == sorted(options.values())
    assert put(True) == sorted(options.values())  # no change, no second goal
    assert put(False) == []


# -- One state behind both APIs -------------------------------------------------------------------------------------

def test_goals_are_shared_between_the_apis(client):
    client.create_site('example.com')
    token = client.plugin_token('example.com')
    through_sites = client.create_goal('example.com', goal_type='event', event_name='Signup')
    assert assert_plugins(client.plugins('GET', f'/goals/{through_sites["id"]}', token), 200)['goal']['event_name'] == 'Signup'
    through_plugins = put_goal(client, token, 'Goal.Pageview', path='/thanks').json()['goals'][0]['goal']
    listed = assert_ok(client.get('/api/v1/sites/goals?site_id=example.com'))['goals']
    assert [goal['id'] for goal in listed] == [through_plugins['id'], through_sites['id']]
    assert_plugins(client.plugins('DELETE', f'/goals/{through_sites["id"]}', token), 204)
    assert [goal['id'] for goal in assert_ok(client.get('/api/v1/sites/goals?site_id=example.com'))['goals']] == [through_plugins['id']]


def test_links_props_and_tracker_are_shared_between_the_apis(client):
    client.create_site('example.com')
    token = client.plugin_token('example.com')
    link = client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 'Friends'}}).json()['shared_link']
    through_sites = assert_ok(client.put('/api/v1/sites/shared-links', json={'site_id': 'example.com', 'name': 'Friends'}))
    assert through_sites == {'name': 'Friends', 'url': link['href']}
    client.plugins('PUT', '/custom_props', token, json={'custom_prop': {'key': 'author'}})
    props = assert_ok(client.get('/api/v1/sites/custom-props?site_id=example.com'))
    assert props == {'custom_properties': [{'property': 'author'}]}
    client.plugins('PUT', '/tracker_script_configuration', token,
                   json={'tracker_script_configuration': {'installation_type': 'npm', 'file_downloads': True}})
    site = assert_ok(client.get('/api/v1/sites/example.com'))
    assert site['tracker_script_configuration']['installation_type'] == 'npm'
    assert site['tracker_script_configuration']['file_downloads'] is True


def test_deleting_the_site_deletes_its_tokens(client):
    client.create_site('example.com')
    token = client.plugin_token('example.com')
    assert_ok(client.delete('/api/v1/sites/example.com'))
    assert_unauthorized(client.plugins('GET', '/goals', token))
    assert client.control('GET', 'plugin-tokens') == []


# -- Control API: tokens, request log, faults, Python API, command line ----------------------------------------------

def test_control_token_creation_listing_and_storage(client):
    make_site(client)
    answer = client.control('POST', 'plugin-tokens', {'domain': 'example.com', 'description': 'CI'})
    assert list(answer) == ['token']
    hosted_token = answer['token']
    assert re.fullmatch(r'plausible-plugin-[A-Za-z0-9+/]{40}', hosted_token)
    client.config(edition='ce')
    ce_token = client.plugin_token('example.com', 'Self-hosted')
    assert re.fullmatch(r'plausible-plugin-selfhost-[A-Za-z0-9+/]{40}', ce_token)
    listed = client.control('GET', 'plugin-tokens')
    assert [(entry['label'], entry['domain'], entry['description']) for entry in listed] == [
        ('plugin-token1', 'example.com', 'Ansible'), ('plugin-token2', 'example.com', 'CI'),
        ('plugin-token3', 'example.com', 'Self-hosted')]
    assert listed[1]['hint'] == hosted_token[-4:] and listed[1]['last_used_at'] is None
    assert set(listed[1]) == {'id', 'label', 'domain', 'description', 'hint', 'inserted_at', 'last_used_at'}
    dump = json.dumps(listed) + json.dumps(client.state())
    assert hosted_token not in dump and ce_token not in dump
    assert_plugins(client.plugins('GET', '/goals', hosted_token), 200)
    used = client.control('GET', 'plugin-tokens')[1]['last_used_at']
    assert isinstance(used, float)
    client.control('POST', 'clock', {'advance': 299})
    client.plugins('GET', '/goals', hosted_token)
    assert client.control('GET', 'plugin-tokens')[1]['last_used_at'] == used  # refreshed at most every 5 minutes
    client.control('POST', 'clock', {'advance': 2})
    client.plugins('GET', '/goals', hosted_token)
    assert client.control('GET', 'plugin-tokens')[1]['last_used_at'] > used + 300


@pytest.mark.parametrize('body', [{'domain': 'nowhere.example'}, {}, {'domain': 'example.com', 'description': ''},
                                  {'domain': 'example.com', 'token': ''}])
def test_control_token_creation_refuses_bad_input(client, body):
    make_site(client)
    response = client.session.post(client.base_url + '/_emulator/plugin-tokens', json=body, timeout=10)
    assert response.status_code == 400 and 'error' in response.json()
    assert len(client.control('GET', 'plugin-tokens')) == 1


def test_control_token_revocation(client):
    first = make_site(client)
    second = client.plugin_token('example.com')
    other = make_site(client, 'other.example')
    token_id = client.control('GET', 'plugin-tokens')[0]['id']
    assert client.control('DELETE', 'plugin-tokens', {'id': token_id}) == {'revoked': 1}
    assert_unauthorized(client.plugins('GET', '/goals', first))
    assert client.plugins('GET', '/capabilities', first).json()['authorized'] is False
    assert_plugins(client.plugins('GET', '/goals', second), 200)
    assert client.control('DELETE', 'plugin-tokens', {'token': second}) == {'revoked': 1}
    assert client.control('DELETE', 'plugin-tokens', {'token': second}) == {'revoked': 0}
    assert client.control('DELETE', 'plugin-tokens', {'domain': 'other.example'}) == {'revoked': 1}
    assert_unauthorized(client.plugins('GET', '/goals', other))
    response = client.session.delete(client.base_url + '/_emulator/plugin-tokens', json={}, timeout=10)
    assert response.status_code == 400


def test_control_reset_clears_tokens(client):
    token = make_site(client)
    client.control('POST', 'reset')
    assert client.control('GET', 'plugin-tokens') == []
    client.seed(sites=[{'domain': 'example.com'}])
    assert_unauthorized(client.plugins('GET', '/goals', token))


def test_request_log_tells_plugins_requests_apart_without_secrets(client):
    token = make_site(client)
    client.plugins('GET', '/goals', token)
    client.plugins('PUT', '/goals', token, json={'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Signup'}})
    client.plugins('GET', '/goals', 'wrong-token')
    client.plugins('GET', '/capabilities')
    client.plugins('GET', '/goals', headers={'Authorization': 'Bearer ' + token})
    client.get('/api/v1/sites')
    client.get('/api/plugins/spec/openapi', key=None)
    client.get('/elsewhere', key=None)
    log = client.log()
    assert [(entry['api'], entry['method'], entry['path'], entry['status'], entry['key']) for entry in log] == [
        ('plugins', 'GET', PLUGINS + '/goals', 200, 'plugin-token1'),
        ('plugins', 'PUT', PLUGINS + '/goals', 201, 'plugin-token1'),
        ('plugins', 'GET', PLUGINS + '/goals', 401, 'unknown'),
        ('plugins', 'GET', PLUGINS + '/capabilities', 200, 'none'),
        ('plugins', 'GET', PLUGINS + '/goals', 401, 'none'),
        ('sites', 'GET', '/api/v1/sites', 200, 'main'),
        ('plugins', 'GET', '/api/plugins/spec/openapi', 200, 'none'),
        (None, 'GET', '/elsewhere', 404, 'none')]
    assert log[1]['body'] == {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Signup'}}
    assert sum(1 for entry in log if entry['api'] == 'plugins' and entry['method'] == 'PUT') == 1
    dump = json.dumps(log)
    for secret in (token, basic(token), basic(token).split()[1], 'Basic', API_KEY):
        assert secret not in dump


def test_request_log_hides_link_passwords(client):
    token = make_site(client)
    client.plugins('PUT', '/shared_links', token, json={'shared_link': {'name': 'Board', 'password': 'pw-123456'}})
    body = client.log()[-1]['body']
    assert body == {'shared_link': {'name': 'Board', 'password': '********'}}
    assert client.control('GET', 'state')['sites'][0]['shared_links'][0]['password_protected'] is True


def test_faults_apply_to_plugins_paths(client, edition):
    token = make_site(client)
    client.control('POST', 'faults', {'path_prefix': PLUGINS + '/goals', 'method': 'PUT', 'status': 503,
                                      'json': {'errors': [{'detail': 'maintenance'}]}})
    client.control('POST', 'faults', {'path': PLUGINS + '/shared_links', 'reset_connection': True})
    response = put_goal(client, token, event_name='Signup')
    assert response.status_code == 503 and response.json() == {'errors': [{'detail': 'maintenance'}]}
    with pytest.raises(requests.ConnectionError):
        client.plugins('GET', '/shared_links', token)
    assert client.site_state('example.com')['goals'] == []
    assert_plugins(put_goal(client, token, event_name='Signup'), 201)
    assert [(entry['api'], entry['status'], entry['fault']) for entry in client.log()] == [
        ('plugins', 503, True), ('plugins', None, True), ('plugins', 201, False)]


def test_python_api_plugin_tokens(emulator, client):
    emulator.seed({'sites': [{'domain': 'example.com'}]})
    token = emulator.create_plugin_token('example.com', 'In process')
    response = requests.get(emulator.base_url + PLUGINS + '/capabilities', headers={'Authorization': basic(token)}, timeout=5)
    assert response.json()['data_domain'] == 'example.com'
    assert [entry['description'] for entry in emulator.plugin_tokens()] == ['In process']
    assert emulator.revoke_plugin_tokens(token=token) == 1
    assert emulator.plugin_tokens() == []


def test_command_line_community_edition_serves_the_plugins_api():
    process = subprocess.Popen([sys.executable, SERVER_PATH, '--port', '0', '--api-key', 'k', '--community-edition'],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base_url = process.stdout.readline().strip()
        requests.post(base_url + '/_emulator/seed', json={'sites': [{'domain': 'ce.example'}]}, timeout=5).raise_for_status()
        token = requests.post(base_url + '/_emulator/plugin-tokens', json={'domain': 'ce.example', 'description': 'Ansible'},
                              timeout=5).json()['token']
        assert token.startswith('plausible-plugin-selfhost-')
        response = requests.get(base_url + PLUGINS + '/capabilities', headers={'Authorization': basic(token)}, timeout=5)
        assert response.json()['data_domain'] == 'ce.example' and response.json()['features']['SitesAPI'] is False
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and out == '' and err == ''
