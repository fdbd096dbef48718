# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_sites on the edges: the goals a tracker option makes the server create or delete are part of the
prediction, and a failure after writes tells the truth (changed, the finished sites, where it stopped)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_sites

from ..fakes import TOKEN, FakeResponse, capabilities, run_module
from .test_plausible_site import NOT_FOUND, site

OUTBOUND = dict(id=5, display_name='Outbound Link: Click', goal_type='event', event_name='Outbound Link: Click',
                page_path=None, custom_props={})
SIGNUP = dict(id=6, display_name='Signup', goal_type='event', event_name='Signup', page_path=None, custom_props={})


def goals(*items):
    return FakeResponse(200, {'goals': list(items), 'meta': {'after': None, 'before': None, 'limit': 100}})


def calls(sent):
    return [(s['method'], s['url'].split('/api/v1/sites')[1]) for s in sent]


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_declared_goal_that_differs_from_the_one_the_tracker_makes_fails_before_any_write(capsys, check_mode):
    spec = dict(domain='a.example', tracker_script_configuration=dict(outbound_links=True),
                goals=[dict(goal_type='event', event_name='Outbound Link: Click', display_name='Outbound clicks')])
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[spec]), FakeResponse(200, site('a.example')),
                              goals(), check_mode=check_mode)
    assert result['failed'] is True and result['changed'] is False
    assert calls(sent) == [('GET', '/a.example'), ('GET', '/goals')]
    assert result['msg'].startswith('Site a.example: tracker_script_configuration.outbound_links: turning it on makes '
                                    "Plausible create the goal 'Outbound Link: Click' itself")
    assert "the goal declared here has display_name 'Outbound clicks'" in result['msg']
    assert 'nothing was changed' in result['msg']


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_goal_the_tracker_deletes_is_in_the_diff_and_never_purged(capsys, check_mode):
    spec = dict(domain='a.example', tracker_script_configuration=dict(outbound_links=False))
    before = FakeResponse(200, site('a.example', outbound_links=True))
    responses = [before, goals(OUTBOUND, SIGNUP)]
    if not check_mode:
        responses += [FakeResponse(200, site('a.example')), goals(SIGNUP), FakeResponse(200, {'deleted': True})]
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[spec], purge_goals=True), *responses,
                              check_mode=check_mode, diff=True)
    assert result['changed'] is True
    entry, diff = result['sites']['a.example'], result['diff']
    # Signup is purged in both runs; the tracker's own goal is deleted by the server, never purged by the module.
    assert [goal['id'] for goal in entry['purged']['goals']] == [6]
    assert [goal['id'] for goal in diff['before']['a.example']['goals']] == [6, 5] and diff['after']['a.example']['goals'] == []
    expected = [('GET', '/a.example'), ('GET', '/goals')]
    if not check_mode:
        expected += [('PUT', '/a.example'), ('GET', '/goals'), ('DELETE', '/goals/6')]
    assert calls(sent) == expected


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_new_site_with_a_tracker_option_has_its_goal_at_once(capsys, check_mode):
    spec = dict(domain='a.example', tracker_script_configuration=dict(outbound_links=True),
                goals=[dict(goal_type='event', event_name='Outbound Link: Click')])
    responses = [NOT_FOUND]
    if not check_mode:
        responses += [FakeResponse(200, site('a.example', outbound_links=True)), goals(OUTBOUND)]
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[spec], purge_goals=True), *responses,
                              check_mode=check_mode, diff=True)
    entry = result['sites']['a.example']
    assert result['changed'] is True and entry['purged']['goals'] == []
    assert [goal['event_name'] for goal in entry['goals']] == ['Outbound Link: Click']
    assert entry['goals'][0]['id'] == (None if check_mode else 5)
    # The declared goal is the server's: no find-or-create is sent for it.
    assert [call for call in calls(sent) if call[0] != 'GET'] == ([] if check_mode else [('POST', '')])


def test_a_goal_the_tracker_creates_is_shown_in_the_diff(capsys):
    spec = dict(domain='a.example', tracker_script_configuration=dict(outbound_links=True), goals=[])
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[spec]), FakeResponse(200, site('a.example')),
                              goals(SIGNUP), FakeResponse(200, site('a.example', outbound_links=True)),
                              goals(OUTBOUND, SIGNUP), diff=True)
    assert result['diff']['before']['a.example']['goals'] == []
    assert [goal['id'] for goal in result['diff']['after']['a.example']['goals']] == [5]
    assert result['sites']['a.example']['goals'] == []


# ---- a failure after writes ------------------------------------------------------------------------------------------

TWO_SITES = [dict(domain='a.example', goals=[dict(goal_type='event', event_name='Signup')]), dict(domain='b.example')]


def assert_truthful(result, stopped_at, finished):
    assert result['failed'] is True and result['changed'] is True
    assert result['msg'].startswith('Site %s: ' % stopped_at)
    assert 'nothing was' not in result['msg'].lower()
    assert 'a re-run continues from there' in result['msg']
    assert sorted(result['sites']) == finished


def test_a_persistent_500_on_a_later_site_reports_what_was_done(capsys):
    broken = FakeResponse(500, text='<html>Internal Server Error</html>')
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=TWO_SITES, retries=0), NOT_FOUND,
                              FakeResponse(200, site('a.example')), FakeResponse(200, dict(SIGNUP, domain='a.example')),
                              NOT_FOUND, broken)
    assert_truthful(result, 'b.example', ['a.example'])
    assert result['sites']['a.example']['goals'][0]['id'] == 6
    assert 'The sites before it are finished (a.example; see sites)' in result['msg']


def test_a_refusal_after_writes_does_not_claim_nothing_was_changed(capsys):
    sites = [TWO_SITES[0], dict(domain='b.example', timezone='Europe/Berlin')]
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=sites), NOT_FOUND,
                              FakeResponse(200, site('a.example')), FakeResponse(200, dict(SIGNUP, domain='a.example')),
                              FakeResponse(200, site('b.example')))
    assert_truthful(result, 'b.example', ['a.example'])
    assert "timezone: b.example has the time zone Etc/UTC" in result['msg']


def test_a_write_answered_200_with_an_unreadable_body_counts_as_written(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=TWO_SITES[:1]), NOT_FOUND,
                              FakeResponse(200, site('a.example')), FakeResponse(200, text='<html>OK</html>'))
    assert_truthful(result, 'a.example', [])
    assert 'PUT /api/v1/sites/goals answered HTTP 200 with a body that is not the API\'s JSON' in result['msg']


def test_a_revoked_token_of_a_later_site_fails_before_the_first_write(capsys):
    other = TOKEN.replace('QUJD', 'WFla')
    sites = [dict(domain='a.example', plugin_token=TOKEN, goals=[dict(goal_type='event', event_name='Signup')]),
             dict(domain='b.example', plugin_token=other, goals=[dict(goal_type='event', event_name='Signup')])]
    refused = FakeResponse(200, {'authorized': False, 'data_domain': None, 'features': {}})
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=sites, api_key=None), capabilities('a.example'),
                              refused)
    assert result['failed'] is True and result['changed'] is False and result['sites'] == {}
    assert [s['url'].split('/api/plugins/v1')[1] for s in sent] == ['/capabilities', '/capabilities']
    assert result['msg'].startswith('sites[1] (b.example): plugin_token: the server does not accept the token')
    assert other not in json.dumps(result)


def test_a_plugins_api_write_answered_with_an_unreadable_body_counts_as_written(capsys):
    spec = dict(domain='a.example', plugin_token=TOKEN, goals=[dict(goal_type='event', event_name='Signup')])
    empty = FakeResponse(200, {'goals': [], 'meta': {'pagination': {'links': {}}}})
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[spec], api_key=None), capabilities('a.example'),
                              FakeResponse(200, {'tracker_script_configuration': {'installation_type': 'manual'}}), empty,
                              FakeResponse(201, text='<html>Created</html>'))
    assert_truthful(result, 'a.example', [])
    assert "PUT /api/plugins/v1/goals answered HTTP 201 with a body that is not the API's JSON" in result['msg']
