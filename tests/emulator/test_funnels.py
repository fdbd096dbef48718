# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Funnels of the hosted edition (plausible-plugins-api.md §8.6 and issue 16's server facts) and the control API's
``/_emulator/plan``."""

import pytest

from .support import API_KEY, GENERIC_404, GENERIC_406, RESOURCE_NOT_FOUND, assert_plugins, basic, invalid

UPGRADE = {'errors': [{'detail': 'Funnels is part of the Plausible Business plan. To get access to this feature, '
                                 'please upgrade your account.'}]}
PRICING = {'goal_type': 'Goal.Pageview', 'goal': {'path': '/pricing'}}
SIGNUP = {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Signup'}}
PAID = {'goal_type': 'Goal.Revenue', 'goal': {'event_name': 'Paid', 'currency': 'EUR'}}


def make_site(client, domain='example.com', **fields):
    client.seed(sites=[dict(fields, domain=domain)])
    return client.plugin_token(domain)


def put_funnel(client, token, name, *steps):
    return client.plugins('PUT', '/funnels', token, json={'funnel': {'name': name, 'steps': list(steps)}})


def goal_names(client, domain='example.com'):
    return sorted(goal['event_name'] or goal['page_path'] for goal in client.site_state(domain)['goals'])


def test_new_funnel_creates_goals_and_answers_201_with_location(client):
    token = make_site(client)
    response = put_funnel(client, token, 'Signup', PRICING, SIGNUP)
    funnel = assert_plugins(response, 201)['funnel']
    assert response.headers['location'] == f'{client.base_url}/api/plugins/v1/funnels/{funnel["id"]}'
    assert [step['goal_type'] for step in funnel['steps']] == ['Goal.Pageview', 'Goal.CustomEvent']
    assert funnel['steps'][0]['goal']['path'] == '/pricing' and funnel['steps'][1]['goal']['event_name'] == 'Signup'
    state = client.site_state('example.com')
    assert state['funnels'] == [{'id': funnel['id'], 'name': 'Signup', 'steps': [g['id'] for g in state['goals']]}]


def test_existing_name_comes_back_as_it_is_and_the_goals_asked_for_stay(client):
    token = make_site(client)
    first = assert_plugins(put_funnel(client, token, 'Signup', PRICING, SIGNUP), 201)
    again = assert_plugins(put_funnel(client, token, 'Signup', SIGNUP, PAID), 201)
    assert again == first
    assert goal_names(client) == ['/pricing', 'Paid', 'Signup']
    assert len(client.site_state('example.com')['funnels']) == 1


def test_name_is_exact(client):
    token = make_site(client)
    assert_plugins(put_funnel(client, token, 'Signup', PRICING, SIGNUP), 201)
    assert_plugins(put_funnel(client, token, 'signup ', PRICING, SIGNUP), 201)
    assert [f['name'] for f in client.site_state('example.com')['funnels']] == ['Signup', 'signup ']


@pytest.mark.parametrize('count, detail', [(1, 'Array length 1 is smaller than minItems: 2'),
                                           (9, 'Array length 9 is larger than maxItems: 8')])
def test_step_bounds(client, count, detail):
    token = make_site(client)
    steps = [{'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': f'E{index}'}} for index in range(count)]
    response = put_funnel(client, token, 'F', *steps)
    assert_plugins(response, 422, {'errors': [invalid('/funnel/steps', detail)]})
    assert client.site_state('example.com')['goals'] == []


def test_duplicate_step_of_a_new_funnel_crashes_and_rolls_back(client):
    token = make_site(client)
    response = put_funnel(client, token, 'F', SIGNUP, SIGNUP)
    assert response.status_code == 500
    assert client.site_state('example.com')['goals'] == [] and client.site_state('example.com')['funnels'] == []


def test_plan_without_funnels_answers_402_rolls_back_goals_and_reports_the_capability(client):
    token = make_site(client)
    assert client.control('POST', 'plan', {'domain': 'example.com', 'features_off': ['Funnels']}) == {
        'features_off': ['Funnels']}
    capabilities = assert_plugins(client.plugins('GET', '/capabilities', token), 200)['features']
    assert capabilities['Funnels'] is False and capabilities['Props'] is True
    assert_plugins(put_funnel(client, token, 'Signup', PRICING, SIGNUP), 402, UPGRADE)
    assert client.site_state('example.com')['goals'] == [] and client.site_state('example.com')['funnels'] == []
    client.control('POST', 'plan', {'domain': 'example.com', 'features_off': []})
    assert assert_plugins(client.plugins('GET', '/capabilities', token), 200)['features']['Funnels'] is True
    assert_plugins(put_funnel(client, token, 'Signup', PRICING, SIGNUP), 201)


def test_existing_funnel_and_reads_need_no_plan(client):
    token = make_site(client)
    funnel = assert_plugins(put_funnel(client, token, 'Signup', PRICING, SIGNUP), 201)
    client.control('POST', 'plan', {'domain': 'example.com', 'features_off': ['Funnels']})
    assert assert_plugins(put_funnel(client, token, 'Signup', PRICING, SIGNUP), 201) == funnel
    assert assert_plugins(client.plugins('GET', '/funnels', token), 200)['funnels'] == [funnel]
    assert assert_plugins(client.plugins('GET', f'/funnels/{funnel["funnel"]["id"]}', token), 200) == funnel


PRO_SIGNUP = {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Signup', 'custom_props': {'plan': 'pro'}}}


@pytest.mark.parametrize('feature, step', [('Props', PRO_SIGNUP), ('RevenueGoals', PAID)])
def test_a_step_the_plan_refuses_answers_with_the_funnels_text(client, feature, step):
    token = make_site(client)
    client.control('POST', 'plan', {'domain': 'example.com', 'features_off': [feature]})
    assert assert_plugins(client.plugins('GET', '/capabilities', token), 200)['features'][feature] is False
    assert_plugins(put_funnel(client, token, 'F', PRICING, step), 402, UPGRADE)
    assert client.site_state('example.com')['goals'] == []


def test_plan_refuses_unknown_features_and_sites(client):
    make_site(client)
    for body in ({'domain': 'example.com', 'features_off': ['Nope']}, {'domain': 'none.example', 'features_off': []}):
        response = client.session.post(client.base_url + '/_emulator/plan', json=body, timeout=10)
        assert response.status_code == 400


def test_list_pages_by_cursor_newest_first_default_10_max_100(client):
    token = make_site(client)
    ids = []
    for index in range(12):
        step = {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': f'E{index}'}}
        ids.append(assert_plugins(put_funnel(client, token, f'F{index}', PRICING, step), 201)['funnel']['id'])
    first = assert_plugins(client.plugins('GET', '/funnels', token), 200)
    assert [item['funnel']['id'] for item in first['funnels']] == ids[::-1][:10]
    assert first['meta']['pagination']['has_next_page'] is True
    second = client.session.get(first['meta']['pagination']['links']['next']['url'],
                                headers={'Authorization': basic(token)}, timeout=10).json()
    assert [item['funnel']['id'] for item in second['funnels']] == ids[::-1][10:]
    everything = assert_plugins(client.plugins('GET', '/funnels', token, params={'limit': 100}), 200)
    assert len(everything['funnels']) == 12 and everything['meta']['pagination']['links'] == {}
    assert len(assert_plugins(client.plugins('GET', '/funnels', token, params={'limit': 101}), 200)['funnels']) == 10


def test_get_by_id_404_for_unknown_or_foreign_and_422_for_non_integer(client):
    token = make_site(client)
    other = make_site(client, 'other.example')
    funnel = assert_plugins(put_funnel(client, other, 'F', PRICING, SIGNUP), 201)['funnel']
    assert_plugins(client.plugins('GET', f'/funnels/{funnel["id"]}', token), 404, RESOURCE_NOT_FOUND)
    assert_plugins(client.plugins('GET', '/funnels/999', token), 404, RESOURCE_NOT_FOUND)
    response = client.plugins('GET', '/funnels/abc', token)
    assert response.status_code == 422 and response.json()['errors'][0]['detail'] == 'Invalid integer. Got: string'


@pytest.mark.parametrize('api', ['plugins', 'sites'])
def test_deleting_a_step_shrinks_the_funnel_then_deletes_it_below_two(client, api):
    token = make_site(client)
    third = {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Paid'}}
    funnel = assert_plugins(put_funnel(client, token, 'F', PRICING, SIGNUP, third), 201)['funnel']
    step_ids = [step['goal']['id'] for step in funnel['steps']]

    def delete(goal_id):
        if api == 'plugins':
            assert client.plugins('DELETE', f'/goals/{goal_id}', token).status_code == 204
        else:
            assert client.delete(f'/api/v1/sites/goals/{goal_id}', key=API_KEY,
                                 json={'site_id': 'example.com'}).status_code == 200

    delete(step_ids[1])
    expected = [{'id': funnel['id'], 'name': 'F', 'steps': [step_ids[0], step_ids[2]]}]
    assert client.site_state('example.com')['funnels'] == expected
    delete(step_ids[0])
    assert client.site_state('example.com')['funnels'] == []


def test_ce_routes_no_funnels(client):
    client.config(edition='ce')
    token = make_site(client)
    json_only = {'Accept': 'application/json'}
    response = client.plugins('PUT', '/funnels', token, headers=json_only, json={'funnel': {'name': 'F', 'steps': [PRICING, SIGNUP]}})
    assert_plugins(response, 404, GENERIC_404)
    assert_plugins(client.plugins('GET', '/funnels', token, headers=json_only), 406, GENERIC_406)
    assert client.site_state('example.com')['goals'] == []


def test_seeded_funnel_steps_name_seeded_goals(client):
    client.seed(sites=[{'domain': 'example.com', 'goals': [{'event_name': 'Signup'}, {'page_path': '/pricing'}],
                        'funnels': [{'name': 'F', 'steps': ['/pricing', 'Signup']}]}])
    state = client.site_state('example.com')
    assert state['funnels'] == [{'id': state['funnels'][0]['id'], 'name': 'F',
                                 'steps': [state['goals'][1]['id'], state['goals'][0]['id']]}]
