# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_guest through main(): lookup by e-mail across pages, role mismatch and reinvite, check and diff mode, bad input."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_guest

from ..fakes import FakeResponse, run_module

EMAIL = 'lead@client.example'


def guest(email=EMAIL, role='viewer', status='accepted'):
    return dict(email=email, role=role, status=status)


def listing(*guests, after=None):
    return FakeResponse(200, {'guests': list(guests), 'meta': {'after': after, 'before': None, 'limit': 100}})


def run(capsys, args, *responses, **kwargs):
    # Through the Sites API, the first request reads the site (a renamed site's old name is refused).
    kwargs.setdefault('resolves', 'example.com' if responses else None)
    return run_module(capsys, plausible_guest.main, dict(dict(domain='example.com', email=EMAIL), **args), *responses, **kwargs)


def requests(sent):
    return [(s['method'], s['url'].split('/api/v1/sites')[1], json.loads(s['data']) if s.get('data') else s.get('params'))
            for s in sent]


def test_invites_a_missing_guest(capsys):
    result, sent = run(capsys, dict(role='editor'), listing(guest('other@client.example')),
                       FakeResponse(200, guest(role='editor', status='invited')), diff=True)
    assert result['changed'] is True
    assert result['guest'] == {'domain': 'example.com', 'email': EMAIL, 'role': 'editor', 'status': 'invited'}
    assert result['diff']['before'] == {} and result['diff']['after'] == result['guest']
    assert requests(sent) == [('GET', '/guests', {'site_id': 'example.com', 'limit': 100}),
                              ('PUT', '/guests', {'site_id': 'example.com', 'email': EMAIL, 'role': 'editor'})]


def test_found_on_a_later_page_without_a_write(capsys):
    result, sent = run(capsys, {}, listing(guest('a@client.example'), after='next'), listing(guest(status='invited')))
    assert result['changed'] is False and result['guest']['status'] == 'invited'
    assert [s['method'] for s in sent] == ['GET', 'GET'] and sent[1]['params']['after'] == 'next'


def test_email_is_compared_exactly(capsys):
    result, sent = run(capsys, {}, listing(guest(EMAIL.upper())), check_mode=True)
    assert result['changed'] is True and [s['method'] for s in sent] == ['GET']


def test_check_mode_predicts_the_invitation_without_writing(capsys):
    result, sent = run(capsys, {}, listing(), check_mode=True, diff=True)
    assert result['changed'] is True and result['guest']['status'] == 'invited' and result['guest']['role'] == 'viewer'
    assert [s['method'] for s in sent] == ['GET']


def test_role_mismatch_fails_and_changes_nothing(capsys):
    result, sent = run(capsys, dict(role='editor'), listing(guest(role='viewer')))
    assert result['failed'] is True
    assert 'is a viewer (accepted)' in result['msg'] and 'reinvite: true' in result['msg']
    assert 'nothing was changed' in result['msg'] and [s['method'] for s in sent] == ['GET']


def test_reinvite_deletes_then_invites(capsys):
    result, sent = run(capsys, dict(role='editor', reinvite=True), listing(guest(role='viewer')),
                       FakeResponse(200, {'deleted': True}), FakeResponse(200, guest(role='editor', status='invited')), diff=True)
    assert result['changed'] is True and result['guest']['role'] == 'editor' and result['guest']['status'] == 'invited'
    assert result['diff']['before']['role'] == 'viewer' and result['diff']['before']['status'] == 'accepted'
    assert requests(sent)[1:] == [('DELETE', '/guests/lead%40client.example', {'site_id': 'example.com'}),
                                  ('PUT', '/guests', {'site_id': 'example.com', 'email': EMAIL, 'role': 'editor'})]


def test_reinvite_in_check_mode_predicts_without_writing(capsys):
    result, sent = run(capsys, dict(role='editor', reinvite=True), listing(guest(role='viewer')), check_mode=True)
    assert result['changed'] is True and result['guest']['role'] == 'editor' and len(sent) == 1


def test_reinvite_with_the_same_role_changes_nothing(capsys):
    result, sent = run(capsys, dict(reinvite=True), listing(guest()))
    assert result['changed'] is False and len(sent) == 1


def test_team_member_address_is_named_as_the_likely_cause(capsys):
    result, sent = run(capsys, {}, listing(), FakeResponse(500, {'error': 'internal server error'}))
    assert result['failed'] is True and result['status'] == 500 and len(sent) == 2
    assert 'the address belongs to a member of the site\'s team' in result['msg']


def test_failed_reinvitation_says_the_guest_was_removed(capsys):
    result, sent = run(capsys, dict(role='editor', reinvite=True), listing(guest()), FakeResponse(200, {'deleted': True}),
                       FakeResponse(500, {'error': 'internal server error'}))
    assert result['failed'] is True and 'was removed from example.com to be invited again' in result['msg']
    # The deletion went through: the failure says so.
    assert result['changed'] is True and 'Changes were made before this failure' in result['msg']


def test_guest_invited_meanwhile_with_another_role_fails(capsys):
    result, sent = run(capsys, dict(role='editor'), listing(), FakeResponse(200, guest(role='viewer', status='invited')))
    assert result['failed'] is True and 'already exists as a viewer' in result['msg'] and len(sent) == 2


def test_removes_a_guest_and_absent_is_idempotent(capsys):
    result, sent = run(capsys, dict(state='absent', role='editor'), listing(guest()), FakeResponse(200, {'deleted': True}))
    assert result['changed'] is True and result['guest']['role'] == 'viewer'
    assert [s['method'] for s in sent] == ['GET', 'DELETE']
    result, sent = run(capsys, dict(state='absent'), listing(), check_mode=True)
    assert result['changed'] is False and result['guest'] == {} and len(sent) == 1


def test_missing_site_is_predicted_in_check_mode_and_named_in_a_real_run(capsys):
    no_site = FakeResponse(404, {'error': 'Site could not be found'})
    result, sent = run(capsys, {}, no_site, check_mode=True)
    assert result['changed'] is True and len(sent) == 1
    result, sent = run(capsys, {}, no_site)
    assert result['failed'] is True and 'example.com does not exist' in result['msg'] and len(sent) == 1


@pytest.mark.parametrize('args, message', [
    (dict(email=''), 'email: must be non-empty and contain no whitespace'),
    (dict(email='lead @client.example'), 'email: must be non-empty and contain no whitespace'),
    (dict(email='lead'), 'email: must be one address'),
    (dict(email='@client.example'), 'email: must be one address'),
    (dict(email='lead@localhost'), 'email: must be one address'),
    (dict(email='a@b@client.example'), 'email: must be one address'),
    (dict(email='x' * 250 + '@a.example'), 'email: must be at most 254 characters (got 260)'),
    (dict(role='owner'), 'value of role must be one of: viewer, editor, got: owner'),
    (dict(email='lead@.example'), 'email: must be one address'),
    (dict(reinvite='sometimes'), "argument 'reinvite' is of type str and we were unable to convert to bool"),
])
def test_bad_input_fails_before_any_request(capsys, args, message):
    result, sent = run(capsys, args)
    assert result['failed'] is True and message in result['msg']
    assert sent == []


def test_a_plugin_token_alone_cannot_manage_guests(capsys):
    token = 'plausible-plugin-selfhost-QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk'
    result, sent = run_module(capsys, plausible_guest.main, dict(domain='example.com', email='a@example.com', api_key=None,
                                                                 plugin_token=token))
    assert result['failed'] is True and 'Managing guests needs the Sites API' in result['msg'] and sent == []
    assert token not in json.dumps(result)
