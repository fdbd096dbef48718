# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_funnel through main(): the local rules (no request), each transition, check and diff mode, the plan."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_funnel

from ..fakes import TOKEN, FakeResponse, run_module

HOSTED_TOKEN = 'plausible-plugin-SG9zdGVkVG9rZW5BQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWg'
PRICING = dict(goal_type='page', page_path='/pricing')
SIGNUP = dict(goal_type='event', event_name='Signup')
ALL_FEATURES = dict(Funnels=True, Props=True, RevenueGoals=True)


def capabilities(**features):
    return FakeResponse(200, {'authorized': True, 'data_domain': 'example.com', 'features': dict(ALL_FEATURES, **features)})


def server_step(goal_id, step):
    if step['goal_type'] == 'page':
        return {'goal_type': 'Goal.Pageview', 'goal': {'id': goal_id, 'display_name': 'Visit ' + step['page_path'],
                                                       'path': step['page_path'], 'custom_props': step.get('custom_props', {})}}
    goal = {'id': goal_id, 'display_name': step['event_name'], 'event_name': step['event_name'],
            'custom_props': step.get('custom_props', {})}
    if step.get('currency'):
        return {'goal_type': 'Goal.Revenue', 'goal': dict(goal, currency=step['currency'])}
    return {'goal_type': 'Goal.CustomEvent', 'goal': goal}


def server_funnel(funnel_id, name, *steps):
    return {'funnel': {'id': funnel_id, 'name': name, 'steps': [server_step(10 + i, s) for i, s in enumerate(steps)]}}


def listing(*funnels, next_url=None):
    links = {'next': {'url': next_url}} if next_url else {}
    return FakeResponse(200, {'funnels': list(funnels), 'meta': {'pagination': {'links': links}}})


def run(capsys, args, *responses, token=HOSTED_TOKEN, **kwargs):
    args = dict(dict(domain='example.com', name='Signup', steps=[PRICING, SIGNUP], api_key=None, plugin_token=token), **args)
    result, sent = run_module(capsys, plausible_funnel.main, args, *responses, **kwargs)
    assert HOSTED_TOKEN not in json.dumps(result)
    return result, sent


def test_missing_funnel_is_created_and_returned_with_goal_ids(capsys):
    created = FakeResponse(201, server_funnel(7, 'Signup', PRICING, SIGNUP))
    result, sent = run(capsys, {}, capabilities(), listing(), created, diff=True)
    assert result['changed'] is True
    assert result['funnel']['id'] == 7 and [step['id'] for step in result['funnel']['steps']] == [10, 11]
    assert result['funnel']['steps'][0]['page_path'] == '/pricing' and result['funnel']['steps'][1]['event_name'] == 'Signup'
    assert result['diff']['before'] == {} and result['diff']['after']['name'] == 'Signup'
    assert [(r['method'], r['url'].split('/v1')[1]) for r in sent] == [
        ('GET', '/capabilities'), ('GET', '/funnels'), ('PUT', '/funnels')]
    assert sent[1]['params'] == {'limit': 100}
    assert json.loads(sent[2]['data']) == {'funnel': {'name': 'Signup', 'steps': [
        {'goal_type': 'Goal.Pageview', 'goal': {'path': '/pricing', 'custom_props': {}}},
        {'goal_type': 'Goal.CustomEvent', 'goal': {'event_name': 'Signup', 'custom_props': {}}}]}}


def test_check_mode_reads_and_predicts_without_the_put(capsys):
    result, sent = run(capsys, {}, capabilities(), listing(), check_mode=True)
    assert result['changed'] is True and result['funnel']['id'] is None
    assert [step['id'] for step in result['funnel']['steps']] == [None, None]
    assert [r['method'] for r in sent] == ['GET', 'GET']


def test_same_steps_are_unchanged_and_nothing_is_written(capsys):
    other = server_funnel(3, 'Other', SIGNUP, PRICING)
    mine = server_funnel(7, 'Signup', PRICING, SIGNUP)
    result, sent = run(capsys, dict(steps=[dict(PRICING, page_path='pricing'), SIGNUP]), capabilities(Funnels=False),
                       listing(other, next_url='https://plausible.example/api/plugins/v1/funnels?after=abc&limit=100'),
                       listing(mine))
    assert result['changed'] is False and result['funnel']['id'] == 7
    assert [r['method'] for r in sent] == ['GET', 'GET', 'GET'] and sent[2]['params'] == {'limit': 100, 'after': 'abc'}


@pytest.mark.parametrize('steps, named', [
    ([SIGNUP, PRICING], "steps[0] is page '/pricing', the task wants event 'Signup'"),
    ([PRICING, SIGNUP, dict(goal_type='event', event_name='Paid')], "steps[2] is absent, the task wants event 'Paid'"),
    ([PRICING, dict(SIGNUP, custom_props={'plan': 'pro'})], "steps[1] is event 'Signup'"),
    ([PRICING, dict(SIGNUP, currency='EUR')], "the task wants event 'Signup' in EUR"),
])
def test_other_steps_fail_naming_the_first_difference_and_write_nothing(capsys, steps, named):
    existing = server_funnel(7, 'Signup', PRICING, SIGNUP)
    result, sent = run(capsys, dict(steps=steps), capabilities(), listing(existing))
    assert result['failed'] is True and named in result['msg'] and 'No API can change a funnel' in result['msg']
    assert [r['method'] for r in sent] == ['GET', 'GET']


@pytest.mark.parametrize('features, steps, missing', [
    (dict(Funnels=False), [PRICING, SIGNUP], 'lacks Funnels'),
    (dict(Props=False), [PRICING, dict(SIGNUP, custom_props={'plan': 'pro'})], 'lacks custom properties on goals (Props)'),
    (dict(RevenueGoals=False), [PRICING, dict(SIGNUP, currency='EUR')], 'lacks revenue goals (RevenueGoals)'),
])
def test_a_plan_without_the_feature_fails_before_any_write(capsys, features, steps, missing):
    for check_mode in (False, True):
        result, sent = run(capsys, dict(steps=steps), capabilities(**features), listing(), check_mode=check_mode)
        assert result['failed'] is True and missing in result['msg'] and [r['method'] for r in sent] == ['GET', 'GET']


@pytest.mark.parametrize('features, steps, missing', [
    (dict(Props=False), [PRICING, dict(SIGNUP, custom_props={'plan': 'pro'})], 'the plan lacks custom properties on goals (Props)'),
    (dict(RevenueGoals=False), [PRICING, dict(SIGNUP, currency='EUR')], 'the plan lacks revenue goals (RevenueGoals)'),
    (dict(Funnels=False), [PRICING, SIGNUP], 'the plan lacks Funnels'),
    ({}, [PRICING, SIGNUP], 'the plan lacks Funnels'),
])
def test_a_402_names_the_feature_really_missing(capsys, features, steps, missing):
    """The plan changed after the first read: the 402 always names Funnels, the plan asked again names the feature."""
    refused = FakeResponse(402, {'errors': [{'detail': 'Funnels is part of the Plausible Business plan. To get access to '
                                                       'this feature, please upgrade your account.'}]})
    result, sent = run(capsys, dict(steps=steps), capabilities(), listing(), refused, capabilities(**features))
    assert result['failed'] is True and 'HTTP 402' in result['msg'] and missing in result['msg']
    assert [r['method'] for r in sent] == ['GET', 'GET', 'PUT', 'GET']


def test_a_funnel_made_meanwhile_with_other_steps_fails(capsys):
    raced = FakeResponse(201, server_funnel(9, 'Signup', SIGNUP, PRICING))
    result, sent = run(capsys, {}, capabilities(), listing(), raced)
    assert result['failed'] is True and 'exists with other steps' in result['msg']


def test_community_edition_fails_before_any_request(capsys):
    result, sent = run(capsys, {}, token=TOKEN)
    assert result['failed'] is True and 'Community Edition server has no funnels' in result['msg'] and sent == []


def test_a_server_without_funnel_routes_says_so(capsys):
    no_route = FakeResponse(404, text='<html>Not Found</html>')
    result, sent = run(capsys, {}, capabilities(), no_route)
    assert result['failed'] is True and 'does not route funnels' in result['msg']


def test_only_an_api_key_fails_before_any_request(capsys):
    result, sent = run_module(capsys, plausible_funnel.main, dict(domain='example.com', name='F', steps=[PRICING, SIGNUP]))
    assert result['failed'] is True and 'plugin_token' in result['msg'] and 'Sites API (api_key) has none' in result['msg']
    assert sent == []


def test_the_token_of_another_site_fails_before_the_listing(capsys):
    other = FakeResponse(200, {'authorized': True, 'data_domain': 'other.example', 'features': ALL_FEATURES})
    result, sent = run(capsys, {}, other)
    assert result['failed'] is True and 'belongs to the site other.example' in result['msg'] and len(sent) == 1


@pytest.mark.parametrize('args, message', [
    (dict(name=''), "name: can't be blank"),
    (dict(name='  '), "name: can't be blank"),
    (dict(steps=[PRICING]), 'steps: a funnel has 2 to 8 steps (got 1)'),
    (dict(steps=[dict(goal_type='event', event_name='E%d' % i) for i in range(9)]), 'steps: a funnel has 2 to 8 steps (got 9)'),
    (dict(steps=[PRICING, SIGNUP, dict(goal_type='page', page_path=' ')]), "steps[2].page_path: can't be blank"),
    (dict(steps=[PRICING, dict(goal_type='event', event_name='engagement')]), 'steps[1].event_name: the event name'),
    (dict(steps=[PRICING, dict(SIGNUP, currency='euro')]), 'steps[1].currency: must be an ISO 4217 code'),
    (dict(steps=[dict(PRICING, currency='EUR'), SIGNUP]), 'steps[0].currency: only event goals can be revenue goals'),
    (dict(steps=[PRICING, dict(SIGNUP, custom_props=dict(a='1', b='2', c='3', d='4'))]), 'steps[1].custom_props: use at most 3'),
    (dict(steps=[PRICING, SIGNUP, dict(PRICING, page_path='pricing')]),
     "steps[2]: the same goal as steps[0] (page '/pricing'); a funnel cannot have one goal twice"),
    (dict(steps=[SIGNUP, dict(SIGNUP, custom_props={'plan': 'pro'})]), 'steps[1]: the same goal as steps[0]'),
    (dict(steps=[PRICING, dict(goal_type='event')]), 'event_name'),
    (dict(steps=[PRICING, dict(goal_type='event', event_name='a', page_path='/b')]), 'mutually exclusive'),
    (dict(steps=[PRICING, dict(goal_type='scroll', page_path='/b')]), 'goal_type'),
])
def test_bad_input_fails_naming_the_option_before_any_request(capsys, args, message):
    result, sent = run(capsys, args)
    assert result['failed'] is True and message in result['msg'] and sent == []
