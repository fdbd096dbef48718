# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_shared_link: find-or-create, what it reports, check mode, and what it refuses."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_shared_link

from ..fakes import FakeResponse, capabilities, run_module, run_with_token, site_found

URL = 'https://plausible.example/share/example.com?auth=abcdefghijklmnopqrstu'


def test_find_or_create_returns_url_and_reports_no_change(capsys):
    result, sent = run_module(capsys, plausible_shared_link.main, dict(domain='www.example.com', name='Client'),
                              FakeResponse(200, {'name': 'Client', 'url': URL}), resolves='example.com')
    assert result['changed'] is False
    assert result['shared_link'] == {'name': 'Client', 'url': URL}
    assert json.loads(sent[0]['data']) == {'site_id': 'example.com', 'name': 'Client'}


def test_check_mode_sends_nothing_and_says_why(capsys):
    result, sent = run_module(capsys, plausible_shared_link.main, dict(domain='example.com', name='Client'),
                              site_found(), check_mode=True)
    # Only the site is read: its domain must not be a renamed site's old name.
    assert [s['method'] for s in sent] == ['GET'] and result['changed'] is False
    assert result['shared_link'] == {'name': 'Client', 'url': None}
    assert 'cannot list shared links' in result['notes'][0]


def test_absent_is_refused_without_a_request(capsys):
    result, sent = run_module(capsys, plausible_shared_link.main, dict(domain='example.com', name='Client', state='absent'))
    assert result['failed'] is True and 'cannot delete shared links' in result['msg'] and sent == []


def test_missing_site_is_named(capsys):
    result, _sent = run_module(capsys, plausible_shared_link.main, dict(domain='example.com', name='Client'),
                               FakeResponse(404, {'error': 'Site could not be found'}), resolves='example.com')
    assert result['failed'] is True and 'does not exist' in result['msg']


@pytest.mark.parametrize('name, message', [
    ('', "name: can't be blank"),
    ('   ', "name: can't be blank"),
    ('WordPress - Shared Dashboard', 'reserved'),
    ('n' * 256, 'at most 255'),
])
def test_bad_names_fail_before_any_request(capsys, name, message):
    result, sent = run_module(capsys, plausible_shared_link.main, dict(domain='example.com', name=name))
    assert result['failed'] is True and message in result['msg'] and sent == []


PASSWORD = 'correct-horse-battery-staple'
HREF = 'https://plausible.example/share/example.com?auth=abcdefghijklmnopqrstu'


def links(*items):
    return FakeResponse(200, {'shared_links': [{'shared_link': item} for item in items],
                              'meta': {'pagination': {'links': {}}}})


def existing(protected=False):
    return dict(id=5, name='Client', password_protected=protected, href=HREF)


def run_through_token(capsys, args, *responses, **kwargs):
    result, sent = run_with_token(capsys, plausible_shared_link.main, dict(dict(domain='example.com', name='Client'), **args),
                                  *responses, **kwargs)
    assert PASSWORD not in json.dumps(result)
    return result, sent


def test_token_creates_a_missing_link_with_its_password_and_reports_the_change(capsys):
    created = FakeResponse(201, {'shared_link': dict(existing(protected=True), id=6)})
    result, sent = run_through_token(capsys, dict(password=PASSWORD), capabilities(), links(), created, diff=True)
    assert result['changed'] is True
    assert result['shared_link'] == dict(id=6, name='Client', url=HREF, password_protected=True)
    assert [s['method'] for s in sent] == ['GET', 'GET', 'PUT']
    assert json.loads(sent[2]['data']) == {'shared_link': {'name': 'Client', 'password': PASSWORD}}
    # The diff says that the link exists and how it is protected, never its URL (it grants access like a password).
    assert result['diff'] == {'before': {}, 'after': {'name': 'Client', 'password_protected': True}}
    assert HREF not in json.dumps(result['diff'])


def test_token_rerun_lists_and_writes_nothing(capsys):
    result, sent = run_through_token(capsys, {}, capabilities(), links(existing()), diff=True)
    assert result['changed'] is False and result['shared_link']['id'] == 5
    assert result['diff']['before'] == result['diff']['after'] == {'name': 'Client', 'password_protected': False}
    assert [s['method'] for s in sent] == ['GET', 'GET']


def test_token_check_mode_predicts_exactly_and_writes_nothing(capsys):
    result, sent = run_through_token(capsys, dict(password=PASSWORD), capabilities(), links(), check_mode=True)
    assert result['changed'] is True and result['shared_link']['url'] is None
    assert [s['method'] for s in sent] == ['GET', 'GET']


@pytest.mark.parametrize('protected, args, advice', [
    (True, {}, 'Set password'),
    (False, dict(password=PASSWORD), 'Drop password'),
])
def test_token_refuses_a_protection_it_cannot_change(capsys, protected, args, advice):
    result, sent = run_through_token(capsys, args, capabilities(), links(existing(protected)))
    assert result['failed'] is True and result['msg'].startswith('password:') and advice in result['msg']
    assert [s['method'] for s in sent] == ['GET', 'GET']


def test_password_without_token_is_refused_before_any_request(capsys):
    result, sent = run_module(capsys, plausible_shared_link.main, dict(domain='example.com', name='Client',
                                                                       password=PASSWORD))
    assert result['failed'] is True and result['msg'].startswith('Invalid input, nothing was sent: password:')
    assert 'plugin_token' in result['msg'] and sent == [] and PASSWORD not in json.dumps(result)


def test_neither_key_nor_token_is_refused(capsys):
    result, sent = run_module(capsys, plausible_shared_link.main, dict(domain='example.com', name='Client', api_key=None))
    assert result['failed'] is True and 'api_key, plugin_token' in result['msg'] and sent == []
