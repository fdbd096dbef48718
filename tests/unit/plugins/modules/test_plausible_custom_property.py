# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_custom_property through main(): request counts, check and diff mode, the server's refusals, bad input."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_custom_property

from ..fakes import FakeResponse, capabilities, run_module, run_with_token

NO_SITE = FakeResponse(404, {'error': 'Site could not be found'})


def listing(*names):
    return FakeResponse(200, {'custom_properties': [{'property': name} for name in names]})


def run(capsys, args, *responses, **kwargs):
    # Through the Sites API, the first request reads the site (a renamed site's old name is refused).
    kwargs.setdefault('resolves', 'example.com' if responses else None)
    return run_module(capsys, plausible_custom_property.main, dict(dict(domain='example.com'), **args), *responses, **kwargs)


def requests(sent):
    return [(s['method'], s['url'].split('/api/v1/sites')[1], json.loads(s['data']) if s.get('data') else s.get('params'))
            for s in sent]


def test_adds_a_missing_property_trimmed(capsys):
    result, sent = run(capsys, dict(property=' author ', domain='www.Example.com'), listing('plan'),
                       FakeResponse(200, {'created': True}), diff=True)
    assert result['changed'] is True
    assert result['custom_property'] == {'domain': 'example.com', 'property': 'author'}
    assert result['diff'] == {'before': {}, 'after': {'domain': 'example.com', 'property': 'author'}}
    assert requests(sent) == [('GET', '/custom-props', {'site_id': 'example.com'}),
                              ('PUT', '/custom-props', {'site_id': 'example.com', 'property': 'author'})]


def test_rerun_sends_one_get_and_no_write(capsys):
    result, sent = run(capsys, dict(property='author'), listing('author', 'plan'), diff=True)
    assert result['changed'] is False and result['custom_property']['property'] == 'author'
    assert result['diff']['before'] == result['diff']['after']
    assert [s['method'] for s in sent] == ['GET']


def test_check_mode_predicts_without_writing(capsys):
    result, sent = run(capsys, dict(property='author'), listing(), check_mode=True, diff=True)
    assert result['changed'] is True and result['diff']['after']['property'] == 'author'
    assert [s['method'] for s in sent] == ['GET']


def test_removes_a_property_with_a_slash(capsys):
    result, sent = run(capsys, dict(property='a/b c', state='absent'), listing('a/b c'), FakeResponse(200, {'deleted': True}),
                       diff=True)
    assert result['changed'] is True and result['diff'] == {'before': {'domain': 'example.com', 'property': 'a/b c'}, 'after': {}}
    assert sent[1]['method'] == 'DELETE' and sent[1]['url'].endswith('/api/v1/sites/custom-props/a/b%20c')
    assert sent[1]['params'] == {'site_id': 'example.com'}


def test_absent_in_check_mode_and_already_absent_send_no_write(capsys):
    result, sent = run(capsys, dict(property='author', state='absent'), listing('author'), check_mode=True)
    assert result['changed'] is True and [s['method'] for s in sent] == ['GET']
    result, sent = run(capsys, dict(property='author', state='absent'), listing('plan'))
    assert result['changed'] is False and [s['method'] for s in sent] == ['GET']


def test_missing_site_is_predicted_in_check_mode_and_named_in_a_real_run(capsys):
    result, sent = run(capsys, dict(property='author'), NO_SITE, check_mode=True)
    assert result['changed'] is True and len(sent) == 1
    result, sent = run(capsys, dict(property='author'), NO_SITE)
    assert result['failed'] is True and 'example.com does not exist' in result['msg'] and len(sent) == 1


def test_plan_without_custom_properties_names_the_feature(capsys):
    result, sent = run(capsys, dict(property='author'), listing(),
                       FakeResponse(402, {'error': 'Your current subscription plan does not include Custom Properties'}))
    assert result['failed'] is True and result['status'] == 402
    assert 'does not include the Custom Properties feature' in result['msg'] and 'upgrade the plan' in result['msg']


def test_the_301st_property_is_explained(capsys):
    result, sent = run(capsys, dict(property='one-more'), listing(*('p%03d' % i for i in range(300))),
                       FakeResponse(400, {'error': "Can't add any more custom properties"}))
    assert result['failed'] is True and 'already has 300 custom properties' in result['msg'] and len(sent) == 2


@pytest.mark.parametrize('args, message', [
    (dict(property=''), "property: can't be blank"),
    (dict(property='   \t'), "property: can't be blank"),
    (dict(property='x' * 301), 'property: must be at most 300 characters after trimming (got 301)'),
    (dict(property=' ' + 'x' * 301 + ' '), 'property: must be at most 300 characters after trimming (got 301)'),
    (dict(property='a', state='gone'), 'value of state must be one of: present, absent'),
    (dict(property='a', domain='   '), "domain: can't be blank"),
    (dict(), 'missing required arguments: property'),
])
def test_bad_input_fails_before_any_request(capsys, args, message):
    result, sent = run(capsys, args)
    assert result['failed'] is True and message in result['msg']
    assert sent == []


def test_a_300_character_name_is_accepted_after_trimming(capsys):
    result, sent = run(capsys, dict(property='  ' + 'x' * 300 + '  '), listing('x' * 300))
    assert result['changed'] is False and result['custom_property']['property'] == 'x' * 300


def run_through_token(capsys, args, *responses, **kwargs):
    return run_with_token(capsys, plausible_custom_property.main, dict(dict(domain='example.com'), **args), *responses,
                          **kwargs)


def plugins_requests(sent):
    return [(s['method'], s['url'].split('/api/plugins/v1')[1], json.loads(s['data']) if s.get('data') else None)
            for s in sent]


def test_token_check_mode_sends_nothing_and_says_what_it_cannot_know(capsys):
    result, sent = run_through_token(capsys, dict(property='author'), check_mode=True)
    assert sent == [] and result['changed'] is False
    assert result['custom_property'] == {'domain': 'example.com', 'property': 'author'}
    assert 'cannot list custom properties' in result['notes'][0]


@pytest.mark.parametrize('state, answer, method', [
    ('present', FakeResponse(201, {'custom_props': [{'custom_prop': {'key': 'author'}}]}), 'PUT'),
    ('absent', FakeResponse(204, text=''), 'DELETE'),
])
def test_token_real_run_writes_once_and_cannot_claim_a_change(capsys, state, answer, method):
    result, sent = run_through_token(capsys, dict(property=' author ', state=state), capabilities(), answer)
    assert result['changed'] is False and 'cannot tell whether' in result['notes'][0]
    assert plugins_requests(sent) == [('GET', '/capabilities', None),
                                      (method, '/custom_props', {'custom_props': [{'custom_prop': {'key': 'author'}}]})]


def test_token_bad_property_is_refused_before_any_request(capsys):
    result, sent = run_through_token(capsys, dict(property='p' * 301))
    assert result['failed'] is True and result['msg'].startswith('Invalid input, nothing was sent: property:') and sent == []


def test_with_a_key_and_a_token_the_sites_api_lists_first(capsys):
    result, sent = run(capsys, dict(property='author', plugin_token='a-token-of-example.com'), listing('author'))
    assert result['changed'] is False and requests(sent) == [('GET', '/custom-props', {'site_id': 'example.com'})]
