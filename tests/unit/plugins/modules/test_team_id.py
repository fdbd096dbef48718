# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""team_id: Plausible takes a malformed or unknown one as absent and puts the site in another team for good, so the
modules check it (locally, then against the teams the key can see) before a site is created."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_site, plausible_sites

from ..fakes import FakeResponse, run_module
from .test_plausible_site import NOT_FOUND, site

ACME = '4f7c1b2e-8a3d-4c5e-9f10-2b3c4d5e6f70'
PERSONAL = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
TEAMS = FakeResponse(200, {'teams': [{'id': ACME, 'name': 'Acme', 'api_available': True},
                                     {'id': PERSONAL, 'name': 'My personal sites', 'api_available': False}],
                           'meta': {'after': None, 'before': None, 'limit': 100}})


def calls(sent):
    return [(s['method'], s['url'].split('/api/v1/sites')[1]) for s in sent]


@pytest.mark.parametrize('team_id', ['acme', '4f7c1b2e8a3d4c5e9f102b3c4d5e6f70', ACME + 'x', 'My personal sites', ''])
def test_a_team_id_that_is_not_a_uuid_fails_before_any_request(capsys, team_id):
    for main, args in ((plausible_site.main, dict(domain='a.example', team_id=team_id)),
                       (plausible_sites.main, dict(sites=[dict(domain='a.example', team_id=team_id)]))):
        result, sent = run_module(capsys, main, args)
        assert result['failed'] is True and sent == []
        assert 'team_id: must be a team\'s id, a UUID' in result['msg'] and repr(team_id) in result['msg']


@pytest.mark.parametrize('check_mode', [False, True])
def test_an_unknown_team_fails_naming_the_teams_before_any_write(capsys, check_mode):
    other = '11111111-2222-4333-8444-555555555555'
    result, sent = run_module(capsys, plausible_site.main, dict(domain='a.example', team_id=other), NOT_FOUND, TEAMS,
                              check_mode=check_mode)
    assert result['failed'] is True and result['changed'] is False
    assert calls(sent) == [('GET', '/a.example'), ('GET', '/teams')]
    assert 'team_id: %s is not a team this API key can see' % other in result['msg']
    assert 'Acme (%s), My personal sites (%s)' % (ACME, PERSONAL) in result['msg']


def test_a_known_team_gets_the_site_and_is_shown(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='a.example', team_id=ACME.upper()), NOT_FOUND,
                              TEAMS, FakeResponse(200, site('a.example')))
    assert result['changed'] is True and result['team'] == {'id': ACME, 'name': 'Acme'}
    assert calls(sent) == [('GET', '/a.example'), ('GET', '/teams'), ('POST', '')]
    assert json.loads(sent[2]['data'])['team_id'] == ACME


def test_an_existing_site_does_not_list_teams(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='a.example', team_id=ACME),
                              FakeResponse(200, site('a.example')))
    assert result['changed'] is False and 'team' not in result and calls(sent) == [('GET', '/a.example')]


def test_plausible_sites_lists_the_teams_once_and_shows_each_sites_team(capsys):
    sites = [dict(domain='a.example', team_id=ACME), dict(domain='b.example', team_id=PERSONAL)]
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=sites), NOT_FOUND, TEAMS, NOT_FOUND,
                              check_mode=True)
    assert calls(sent) == [('GET', '/a.example'), ('GET', '/teams'), ('GET', '/b.example')]
    assert result['sites']['a.example']['team'] == {'id': ACME, 'name': 'Acme'}
    assert result['sites']['b.example']['team'] == {'id': PERSONAL, 'name': 'My personal sites'}


def test_the_servers_401_for_a_foreign_team_is_explained_as_such(capsys):
    refused = FakeResponse(401, {'error': "Invalid API key. Please make sure you're using a valid API key with access to "
                                          "the resource you've requested."})
    result, sent = run_module(capsys, plausible_site.main, dict(domain='a.example', team_id=ACME), NOT_FOUND, TEAMS,
                              refused)
    assert result['failed'] is True and result['changed'] is False
    assert result['msg'].startswith('team_id: Plausible refused the API key for the team %s' % ACME)
