# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_goal: identity, each state transition in normal, check and diff mode, validation, against scripted responses."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_goal

from ..fakes import FakeResponse, capabilities, run_module, run_with_token


def goal(id, event_name=None, page_path=None, display_name=None, custom_props=None):
    return dict(id=id, goal_type='event' if event_name else 'page', event_name=event_name, page_path=page_path,
                display_name=display_name or event_name or 'Visit %s' % page_path, custom_props=custom_props or {})


def listing(*goals, after=None):
    return FakeResponse(200, {'goals': list(goals), 'meta': {'after': after, 'before': None, 'limit': 100}})


def writes(sent):
    return [(s['method'], s['url'].split('/api/v1/sites')[1], json.loads(s['data']) if s.get('data') else s.get('params'))
            for s in sent if s['method'] != 'GET']


def test_creates_missing_event_goal(capsys):
    created = dict(goal(7, 'Signup'), domain='example.com')
    result, sent = run_module(capsys, plausible_goal.main, dict(domain='www.example.com', goal_type='event', event_name=' Signup '),
                              listing(goal(3, 'Other')), FakeResponse(200, created), resolves='example.com')
    assert result['changed'] is True and result['goal']['id'] == 7
    assert sent[0]['params'] == {'site_id': 'example.com', 'limit': 100}
    assert writes(sent) == [('PUT', '/goals', {'site_id': 'example.com', 'goal_type': 'event', 'event_name': 'Signup'})]


def test_page_path_gets_leading_slash_and_matches_existing(capsys):
    result, sent = run_module(capsys, plausible_goal.main, dict(domain='example.com', goal_type='page', page_path='signup'),
                              listing(goal(4, page_path='/signup')), resolves='example.com')
    assert result['changed'] is False and result['goal']['id'] == 4 and writes(sent) == []


def test_listing_follows_pages(capsys):
    result, sent = run_module(capsys, plausible_goal.main, dict(domain='example.com', goal_type='event', event_name='Deep'),
                              listing(goal(9, 'A'), after='cursor'), listing(goal(2, 'Deep')), resolves='example.com')
    assert result['changed'] is False and result['goal']['id'] == 2
    assert sent[1]['params']['after'] == 'cursor'


def test_check_mode_predicts_creation_with_null_id(capsys):
    result, sent = run_module(capsys, plausible_goal.main, dict(domain='example.com', goal_type='page', page_path='/x'),
                              listing(), check_mode=True, diff=True, resolves='example.com')
    assert result['changed'] is True and writes(sent) == []
    assert result['goal']['id'] is None and result['goal']['display_name'] == 'Visit /x'
    assert result['diff']['before'] == {} and result['diff']['after']['page_path'] == '/x'


def test_check_mode_with_missing_site_predicts_instead_of_failing(capsys):
    result, sent = run_module(capsys, plausible_goal.main, dict(domain='new.example', goal_type='event', event_name='E'),
                              FakeResponse(404, {'error': 'Site could not be found'}), check_mode=True, resolves='new.example')
    assert result['changed'] is True and writes(sent) == []


def test_missing_site_fails_in_a_real_run(capsys):
    result, sent = run_module(capsys, plausible_goal.main, dict(domain='new.example', goal_type='event', event_name='E'),
                              FakeResponse(404, {'error': 'Site could not be found'}), resolves='new.example')
    assert result['failed'] is True and 'does not exist' in result['msg'] and writes(sent) == []


def test_differing_display_name_fails_without_recreate(capsys):
    result, sent = run_module(capsys, plausible_goal.main,
                              dict(domain='example.com', goal_type='event', event_name='Signup', display_name='Sign-ups'),
                              listing(goal(5, 'Signup')), resolves='example.com')
    assert result['failed'] is True and 'cannot update a goal' in result['msg'] and 'recreate' in result['msg']
    assert writes(sent) == []


def test_recreate_deletes_then_creates(capsys):
    new = dict(goal(6, 'Signup', display_name='Sign-ups', custom_props={'plan': 'pro'}), domain='example.com')
    result, sent = run_module(capsys, plausible_goal.main,
                              dict(domain='example.com', goal_type='event', event_name='Signup', display_name='Sign-ups',
                                   custom_props={'plan': 'pro'}, recreate=True),
                              listing(goal(5, 'Signup')), FakeResponse(200, {'deleted': True}), FakeResponse(200, new), diff=True, resolves='example.com')
    assert result['changed'] is True and result['goal']['id'] == 6
    assert [w[:2] for w in writes(sent)] == [('DELETE', '/goals/5'), ('PUT', '/goals')]
    assert result['diff']['before']['display_name'] == 'Signup' and result['diff']['after']['display_name'] == 'Sign-ups'


def test_a_recreate_that_fails_after_the_deletion_reports_the_change(capsys):
    refused = FakeResponse(402, {'error': 'Your current subscription plan does not include Custom Properties'})
    result, sent = run_module(capsys, plausible_goal.main,
                              dict(domain='example.com', goal_type='event', event_name='Signup', custom_props={'plan': 'pro'},
                                   recreate=True),
                              listing(goal(5, 'Signup')), FakeResponse(200, {'deleted': True}), refused, resolves='example.com')
    assert result['failed'] is True and result['changed'] is True
    assert [w[:2] for w in writes(sent)] == [('DELETE', '/goals/5'), ('PUT', '/goals')]
    assert 'Changes were made before this failure (changed is true)' in result['msg']


def test_display_name_taken_by_another_goal_fails_before_writing(capsys):
    result, sent = run_module(capsys, plausible_goal.main,
                              dict(domain='example.com', goal_type='event', event_name='New', display_name='Taken'),
                              listing(goal(5, 'Old', display_name='Taken')), resolves='example.com')
    assert result['failed'] is True and 'display_name' in result['msg'] and writes(sent) == []


def test_several_matches_fail_and_name_ids(capsys):
    result, sent = run_module(capsys, plausible_goal.main, dict(domain='example.com', goal_type='event', event_name='Buy'),
                              listing(goal(8, 'Buy', display_name='Buy A', custom_props={'a': '1'}),
                                      goal(9, 'Buy', display_name='Buy B', custom_props={'b': '2'})), resolves='example.com')
    assert result['failed'] is True and '8, 9' in result['msg'] and writes(sent) == []


def test_delete_by_event_name(capsys):
    result, sent = run_module(capsys, plausible_goal.main,
                              dict(domain='example.com', goal_type='event', event_name='Signup', state='absent'),
                              listing(goal(5, 'Signup')), FakeResponse(200, {'deleted': True}), resolves='example.com')
    assert result['changed'] is True
    assert writes(sent) == [('DELETE', '/goals/5', {'site_id': 'example.com'})]


def test_delete_by_id_absent_already_is_unchanged(capsys):
    result, sent = run_module(capsys, plausible_goal.main, dict(domain='example.com', goal_id=99, state='absent'),
                              listing(goal(5, 'Signup')), resolves='example.com')
    assert result['changed'] is False and writes(sent) == []


def test_delete_in_check_mode_sends_nothing(capsys):
    result, sent = run_module(capsys, plausible_goal.main, dict(domain='example.com', goal_id=5, state='absent'),
                              listing(goal(5, 'Signup')), check_mode=True, resolves='example.com')
    assert result['changed'] is True and writes(sent) == []


@pytest.mark.parametrize('args, message', [
    (dict(goal_type='event'), 'event_name'),
    (dict(goal_type='page'), 'page_path'),
    (dict(goal_type='event', event_name='a', page_path='/b'), 'mutually exclusive'),
    (dict(goal_type='scroll', page_path='/b'), 'goal_type'),
    (dict(goal_type='event', event_name='engagement'), 'reserved'),
    (dict(goal_type='event', event_name='__journey_end__'), 'reserved'),
    (dict(goal_type='event', event_name='x' * 121), 'at most 120'),
    (dict(goal_type='event', event_name='   '), "event_name: can't be blank"),
    (dict(goal_type='page', page_path='  '), "page_path: can't be blank"),
    (dict(goal_type='event', event_name='a', custom_props=dict(a='1', b='2', c='3', d='4')), 'at most 3'),
    (dict(goal_type='event', event_name='a', custom_props={'k': ''}), 'value length'),
    (dict(goal_type='event', event_name='a', custom_props={'k' * 301: 'v'}), 'key length'),
    (dict(goal_type='event', event_name='a', currency='dollars'), 'currency: must be an ISO 4217'),
    (dict(goal_type='event', event_name='a', currency='XYZ'), 'currency: must be an ISO 4217'),
    (dict(goal_type='event', event_name='a', currency='eur'), 'currency: must be an ISO 4217'),
    (dict(goal_type='page', page_path='/a', currency='EUR'), 'only event goals'),
    (dict(state='absent'), 'goal_type, goal_id'),
])
def test_bad_input_fails_before_any_request(capsys, args, message):
    result, sent = run_module(capsys, plausible_goal.main, dict(args, domain='example.com'))
    assert result['failed'] is True and message in result['msg']
    assert sent == []


def plugins_goals(*items):
    return FakeResponse(200, {'goals': list(items), 'meta': {'pagination': {'links': {}}}})


def plugins_event(number, name, custom_props=None):
    return {'goal_type': 'Goal.CustomEvent',
            'goal': {'id': number, 'display_name': name, 'event_name': name, 'custom_props': custom_props or {}}}


def run_through_token(capsys, args, *responses, **kwargs):
    return run_with_token(capsys, plausible_goal.main, dict(dict(domain='example.com'), **args), *responses, **kwargs)


def test_token_creates_a_goal_through_the_plugins_api_and_a_rerun_writes_nothing(capsys):
    created = FakeResponse(201, {'goals': [plugins_event(4, 'Signup')], 'meta': {'pagination': {'links': {}}}})
    signup = dict(goal_type='event', event_name='Signup')
    result, sent = run_through_token(capsys, signup, capabilities(), plugins_goals(), created)
    assert result['changed'] is True and result['goal']['id'] == 4
    assert [(s['method'], s['url'].split('/api/plugins/v1')[1]) for s in sent] == [
        ('GET', '/capabilities'), ('GET', '/goals'), ('PUT', '/goals')]
    assert json.loads(sent[2]['data']) == {'goals': [{'goal_type': 'Goal.CustomEvent',
                                                      'goal': {'event_name': 'Signup', 'custom_props': {}}}]}
    result, sent = run_through_token(capsys, signup, capabilities(), plugins_goals(plugins_event(4, 'Signup')))
    assert result['changed'] is False and [s['method'] for s in sent] == ['GET', 'GET']


@pytest.mark.parametrize('args, message', [
    (dict(goal_type='event', event_name='Buy', currency='EUR'), 'currency: a Community Edition server has no revenue goals'),
    (dict(goal_type='page', page_path='/a', display_name='Landing'), "display_name: the Plugins API (plugin_token) cannot "
                                                                     "choose a display name; the goal is always named 'Visit /a'"),
])
def test_token_refuses_what_the_plugins_api_cannot_do_before_any_request(capsys, args, message):
    result, sent = run_through_token(capsys, args)
    assert result['failed'] is True and message in result['msg'] and sent == []


def test_token_accepts_the_default_display_name(capsys):
    result, _sent = run_through_token(capsys, dict(goal_type='event', event_name='Signup', display_name='Signup'),
                                      capabilities(), plugins_goals(plugins_event(4, 'Signup')))
    assert result['changed'] is False
