# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Plugins API surface against scripted responses: auth, the token's site, pagination, goals, errors."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.module_utils._plugins_api import PluginsApi
from ansible_collections.plausible.analytics.plugins.module_utils._transport import PlausibleError, Transport

from ..fakes import TOKEN, FakeClock, FakeResponse, FakeSession, capabilities

BASE = 'https://stats.example'
CAPABILITIES = capabilities()
UNAUTHORIZED = FakeResponse(401, {'errors': [{'detail': 'Plugins API: unauthorized'}]})


def make_api(*responses, token=TOKEN):
    clock = FakeClock()
    transport = Transport(BASE + '/api/plugins/v1/', session=FakeSession(*responses), clock=clock.time,
                          sleep=clock.sleep)
    return PluginsApi(transport, token), transport.session.sent


def page(key, items, after=None):
    links = {'next': {'url': '%s/api/plugins/v1/%s?after=%s&limit=100' % (BASE, key, after)}} if after else {}
    return FakeResponse(200, {key: items, 'meta': {'pagination': {'has_next_page': bool(after), 'has_prev_page': False,
                                                                  'links': links}}})


def link(number, name, protected=False):
    return {'shared_link': {'id': number, 'name': name, 'password_protected': protected,
                            'href': '%s/share/example.com?auth=slug%d' % (BASE, number)}}


def test_checks_the_token_once_then_follows_next_links_with_pages_of_100():
    api, sent = make_api(CAPABILITIES, page('shared_links', [link(3, 'c'), link(2, 'b')], after='g3Q%3D'),
                         page('shared_links', [link(1, 'a')]))
    api.expect_site('example.com')
    assert [item['name'] for item in api.list_shared_links()] == ['c', 'b', 'a']
    assert [s['url'] for s in sent] == [BASE + '/api/plugins/v1/capabilities'] + [BASE + '/api/plugins/v1/shared_links'] * 2
    assert sent[1]['params'] == {'limit': 100} and sent[2]['params'] == {'limit': 100, 'after': 'g3Q='}
    assert all(s['headers']['Authorization'].startswith('Basic ') for s in sent)


def test_a_token_of_another_site_fails_before_anything_else_is_sent():
    api, sent = make_api(FakeResponse(200, {'authorized': True, 'data_domain': 'other.example', 'features': {}}))
    api.expect_site('example.com')
    with pytest.raises(PlausibleError) as caught:
        api.list_goals()
    assert 'belongs to the site other.example, not to example.com' in str(caught.value)
    assert 'settings/integrations?new_token=Ansible' in str(caught.value)
    assert len(sent) == 1 and TOKEN not in str(caught.value)


def test_a_redirect_is_named_and_not_followed():
    moved = FakeResponse(301, text='', headers={'Location': 'https://plausible.stats.example/api/plugins/v1/capabilities'})
    api, sent = make_api(moved)
    api.expect_site('example.com')
    with pytest.raises(PlausibleError) as caught:
        api.list_goals()
    assert 'redirects GET /api/plugins/v1/capabilities to https://plausible.stats.example/api/plugins/v1/capabilities' in str(caught.value)
    assert 'set api_url to https://plausible.stats.example ' in str(caught.value) and caught.value.kind == 'redirect'
    assert len(sent) == 1 and TOKEN not in str(caught.value)


@pytest.mark.parametrize('answer', [
    FakeResponse(200, {'authorized': False, 'data_domain': None, 'features': {}}),
    UNAUTHORIZED,
])
def test_a_refused_token_says_so_without_showing_it(answer):
    api, _sent = make_api(answer)
    api.expect_site('example.com')
    with pytest.raises(PlausibleError) as caught:
        api.list_shared_links()
    assert 'plugin_token' in str(caught.value) and 'revoked' in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_goals_are_translated_both_ways_and_created_eight_per_request():
    bodies = [dict(goal_type='event', event_name='E%d' % n) for n in range(9)] + [dict(goal_type='page', page_path='/p')]

    def answer(goals):
        return FakeResponse(201, {'goals': goals, 'meta': {'pagination': {'links': {}}}})
    created = [{'goal_type': 'Goal.CustomEvent', 'goal': {'id': n, 'display_name': 'E%d' % n, 'event_name': 'E%d' % n,
                                                          'custom_props': {}}} for n in range(9)]
    page_goal = {'goal_type': 'Goal.Pageview', 'goal': {'id': 9, 'display_name': 'Visit /p', 'path': '/p',
                                                        'custom_props': {}}}
    api, sent = make_api(answer(created[:8]), answer([created[8], page_goal]))
    goals = api.create_goals(bodies)
    assert [len(json.loads(s['data'])['goals']) for s in sent] == [8, 2]
    assert json.loads(sent[1]['data'])['goals'][1] == {'goal_type': 'Goal.Pageview', 'goal': {'path': '/p', 'custom_props': {}}}
    assert goals[9] == dict(id=9, display_name='Visit /p', goal_type='page', event_name=None, page_path='/p',
                            custom_props={}, currency=None)


def test_a_revenue_goal_is_sent_as_one():
    answer = FakeResponse(201, {'goals': [{'goal_type': 'Goal.Revenue', 'goal': {
        'id': 1, 'display_name': 'Buy', 'event_name': 'Buy', 'currency': 'EUR', 'custom_props': {}}}]})
    api, sent = make_api(answer, token='plausible-plugin-abc')
    assert api.find_or_create_goal(dict(goal_type='event', event_name='Buy', currency='EUR'))['currency'] == 'EUR'
    assert json.loads(sent[0]['data'])['goals'][0]['goal_type'] == 'Goal.Revenue'
    assert api.community_edition is False


def test_validation_errors_name_the_pointer_and_are_not_retried():
    body = {'errors': [{'title': 'Invalid value', 'source': {'pointer': '/goals'},
                        'detail': 'Array length 9 is larger than maxItems: 8'}]}
    api, sent = make_api(FakeResponse(422, body))
    with pytest.raises(PlausibleError) as caught:
        api.request('PUT', '/goals', body={})
    assert str(caught.value) == ('Plausible answered PUT /api/plugins/v1/goals with HTTP 422: /goals: Array length 9 is '
                                 'larger than maxItems: 8')
    assert len(sent) == 1


def test_deletes_answer_204_with_an_empty_body():
    api, sent = make_api(FakeResponse(204, text=''))
    api.delete_goal('example.com', 7)
    assert sent[0]['method'] == 'DELETE' and sent[0]['url'].endswith('/api/plugins/v1/goals/7')


def test_a_server_without_the_plugins_api_is_named():
    api, _sent = make_api(FakeResponse(404, {'status': 404, 'message': 'Not Found'}))
    with pytest.raises(PlausibleError) as caught:
        api.request('GET', '/goals')
    assert "does not offer Plausible's Plugins API" in str(caught.value)


def test_a_community_edition_revenue_refusal_is_explained():
    refusal = {'errors': [{'detail': "event_name: 'Buy' (with currency: ) has already been taken"}]}
    api, sent = make_api(FakeResponse(422, refusal), token='a-token-without-the-ce-prefix')
    with pytest.raises(PlausibleError) as caught:
        api.find_or_create_goal(dict(goal_type='event', event_name='Buy', currency='EUR'))
    assert 'Community Edition server refuses every revenue goal' in str(caught.value) and len(sent) == 1
