# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_site_info: the requests each include costs, the shape of the entries, no write in any mode, bad input."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_site_info

from ..fakes import FakeResponse, run_module
from .test_plausible_site import NOT_FOUND, site

TEAM = '4f7c5d8e-0b1a-4c2d-9e3f-a1b2c3d4e5f6'
TEAMS = [dict(id=TEAM, name='Agency', api_available=True)]


def page(key, items, after=None):
    return FakeResponse(200, {key: items, 'meta': {'after': after, 'before': None, 'limit': 100}})


def site_pages(count):
    """The listing of ``count`` sites, newest first, in pages of 100 as the server sends them."""
    sites = [dict(domain='site%03d.example' % number, timezone='Etc/UTC') for number in range(count, 0, -1)]
    chunks = [sites[start:start + 100] for start in range(0, count, 100)] or [[]]
    return [page('sites', chunk, 'cursor%d' % index if index < len(chunks) - 1 else None)
            for index, chunk in enumerate(chunks)]


def goal(goal_id, event_name=None, page_path=None, display_name=None, custom_props=None, goal_type=None):
    return dict(id=goal_id, goal_type=goal_type or ('event' if event_name else 'page'), event_name=event_name,
                page_path=page_path, display_name=display_name or event_name or 'Visit %s' % page_path,
                custom_props=custom_props or {})


def run(capsys, args, *responses, check_mode=False):
    """Run the module; every request it sends must be a GET."""
    result, sent = run_module(capsys, plausible_site_info.main, args, *responses, check_mode=check_mode)
    assert [s['method'] for s in sent if s['method'] != 'GET'] == []
    return result, sent


def paths(sent):
    return [s['url'].split('/api/v1/sites')[1] for s in sent]


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_bare_listing_of_250_sites_costs_3_requests(capsys, check_mode):
    result, sent = run(capsys, {}, *site_pages(250), check_mode=check_mode)
    assert paths(sent) == ['', '', '']
    assert [s['params'] for s in sent] == [{'limit': 100}, {'limit': 100, 'after': 'cursor0'},
                                           {'limit': 100, 'after': 'cursor1'}]
    assert result['changed'] is False
    assert len(result['sites']) == 250
    assert result['sites'][0] == {'domain': 'site001.example', 'timezone': 'Etc/UTC'}
    assert [entry['domain'] for entry in result['sites']] == sorted(entry['domain'] for entry in result['sites'])
    assert set(result) - {'invocation', 'warnings'} == {'changed', 'sites'}  # warnings of earlier tests linger


def test_goals_cost_one_listing_per_site(capsys):
    goal_pages = [page('goals', [goal(1, 'Signup')]) for _number in range(250)]
    result, sent = run(capsys, dict(include=['goals']), *(site_pages(250) + goal_pages))
    assert len(sent) == 3 + 250
    assert paths(sent)[3:] == ['/goals'] * 250
    assert sent[3]['params'] == {'site_id': 'site250.example', 'limit': 100}
    assert result['sites'][0] == {'domain': 'site001.example', 'timezone': 'Etc/UTC',
                                  'goals': [{'goal_type': 'event', 'event_name': 'Signup'}]}
    assert result['skipped_goals'] == []


def test_tracker_reads_each_site_and_brings_its_custom_properties_along(capsys):
    listing = page('sites', [dict(domain='b.example', timezone='Etc/UTC'), dict(domain='a.example', timezone='Europe/Berlin')])
    b_site = dict(site('b.example', outbound_links=True, installation_type='manual'), custom_properties=['zeta', 'alpha'])
    result, sent = run(capsys, dict(include=['tracker', 'custom_properties']), listing,
                       FakeResponse(200, b_site), FakeResponse(200, site('a.example', 'Europe/Berlin')))
    assert paths(sent) == ['', '/b.example', '/a.example']
    b_entry = result['sites'][1]
    assert b_entry['domain'] == 'b.example'
    assert b_entry['custom_properties'] == ['alpha', 'zeta']
    assert b_entry['tracker_script_configuration'] == dict(
        installation_type='manual', outbound_links=True, track_404_pages=False, hash_based_routing=False,
        file_downloads=False, revenue_tracking=False, tagged_events=False, form_submissions=False, pageview_props=False)
    assert 'installation_type' not in result['sites'][0]['tracker_script_configuration']
    assert 'id' not in result['sites'][0]['tracker_script_configuration']
    assert b_entry['tracker_script_url'] == 'https://plausible.example/js/pa-abcdefghijklmnopqrstu.js'
    assert '<script async src="%s"></script>' % b_entry['tracker_script_url'] in b_entry['snippet']


def test_custom_properties_and_guests_cost_one_request_per_site_each(capsys):
    guests = page('guests', [dict(email='z@example.org', role='editor', status='accepted'),
                             dict(email='a@example.org', role='viewer', status='invited')])
    result, sent = run(capsys, dict(include=['custom_properties', 'guests']),
                       page('sites', [dict(domain='a.example', timezone='Etc/UTC')]),
                       FakeResponse(200, {'custom_properties': [{'property': 'author'}, {'property': 'plan'}]}), guests)
    assert paths(sent) == ['', '/custom-props', '/guests']
    assert result['sites'] == [dict(domain='a.example', timezone='Etc/UTC', custom_properties=['author', 'plan'],
                                    guests=[dict(email='a@example.org', role='viewer'),
                                            dict(email='z@example.org', role='editor')])]


def test_one_domain_is_one_read_plus_one_per_listed_kind(capsys):
    the_site = dict(site('example.com', 'Europe/Berlin'), custom_properties=['plan', 'author'])
    result, sent = run(capsys, dict(site_id='HTTPS://www.Example.com/', include=['tracker', 'goals', 'custom_properties', 'guests']),
                       FakeResponse(200, the_site), page('goals', []), page('guests', []))
    assert paths(sent) == ['/example.com', '/goals', '/guests']
    entry = result['sites'][0]
    assert entry['custom_properties'] == ['author', 'plan'] and entry['goals'] == [] and entry['guests'] == []
    assert entry['domain'] == 'example.com' and entry['snippet']


def test_a_missing_domain_is_an_empty_list_not_a_failure(capsys):
    result, sent = run(capsys, dict(domain='missing.example', include=['goals', 'tracker']), NOT_FOUND)
    assert len(sent) == 1
    assert result['changed'] is False and 'failed' not in result
    assert result['sites'] == [] and result['skipped_goals'] == []


def test_goals_in_the_roles_shape_and_what_the_role_cannot_declare_is_set_aside(capsys):
    goals = [goal(9, page_path='/blog', display_name='Read the blog', goal_type='scroll'),
             goal(8, 'Download', custom_props={'format': 'pdf'}), goal(7, 'Download', custom_props={'format': 'zip'}),
             goal(6, page_path='/pricing', display_name='Saw pricing'), goal(5, page_path='/signup'),
             goal(4, 'Purchase', display_name='Bought', custom_props={'plan': 'pro'}), goal(3, 'Signup')]
    result, _sent = run(capsys, dict(domain='example.com', include=['goals']),
                        FakeResponse(200, site('example.com')), page('goals', goals))
    assert result['sites'][0]['goals'] == [
        {'goal_type': 'event', 'event_name': 'Signup'},
        {'goal_type': 'event', 'event_name': 'Purchase', 'display_name': 'Bought', 'custom_props': {'plan': 'pro'}},
        {'goal_type': 'page', 'page_path': '/signup'},
        {'goal_type': 'page', 'page_path': '/pricing', 'display_name': 'Saw pricing'},
    ]
    skipped = result['skipped_goals']
    assert [(g['id'], g['domain']) for g in skipped] == [(7, 'example.com'), (8, 'example.com'), (9, 'example.com')]
    assert 'several goals share this event name' in skipped[0]['reason']
    assert 'scroll goal' in skipped[2]['reason']
    warnings = json.dumps(result['warnings'])  # plain strings before ansible-core 2.19, structured since
    assert '3 goal(s) are not in sites[].goals' in warnings and 'see skipped_goals (on example.com)' in warnings


def test_teams_cost_one_listing(capsys):
    result, sent = run(capsys, dict(include=['teams']), page('teams', TEAMS), *site_pages(1))
    assert paths(sent) == ['/teams', '']
    assert result['teams'] == TEAMS


def test_team_id_is_checked_against_the_keys_teams_then_filters_the_listing(capsys):
    result, sent = run(capsys, dict(team_id=TEAM.upper()), page('teams', TEAMS), *site_pages(2))
    assert paths(sent) == ['/teams', '']
    assert sent[1]['params'] == {'team_id': TEAM, 'limit': 100}
    assert len(result['sites']) == 2 and 'teams' not in result


def test_a_team_the_key_cannot_see_fails_before_the_sites_are_listed(capsys):
    other = '00000000-0000-4000-8000-000000000000'
    result, sent = run(capsys, dict(team_id=other), page('teams', TEAMS))
    assert paths(sent) == ['/teams']
    assert result['failed'] is True
    assert result['msg'].startswith('team_id: %s is not a team this API key can list sites of' % other)
    assert TEAM in result['msg'] and 'list every site' in result['msg']


def test_a_site_deleted_between_the_listing_and_its_reads_is_left_out_whole(capsys):
    listing = page('sites', [dict(domain='gone.example', timezone='Etc/UTC'), dict(domain='a.example', timezone='Etc/UTC')])
    scroll = goal(1, page_path='/blog', goal_type='scroll')
    result, sent = run(capsys, dict(include=['goals', 'guests']), listing, page('goals', [scroll]), NOT_FOUND,
                       page('goals', []), page('guests', []))
    assert paths(sent) == ['', '/goals', '/guests', '/goals', '/guests']
    assert [entry['domain'] for entry in result['sites']] == ['a.example']
    # ansible-core keeps warnings process-wide, so earlier tests' may be there too
    assert result['skipped_goals'] == [] and 'gone.example' not in json.dumps(result.get('warnings'))


def test_other_api_errors_fail_with_the_servers_message(capsys):
    result, _sent = run(capsys, dict(include=['guests']), *site_pages(1),
                        FakeResponse(402, {'error': 'This Plausible site is locked due to missing active subscription.'}))
    assert result['failed'] is True and result['status'] == 402 and 'locked' in result['msg']


@pytest.mark.parametrize('args, expected', [
    (dict(include=['goals', 'paths']),
     ['include', 'tracker, goals, custom_properties, guests, teams, shared_links, funnels', 'paths']),
    (dict(include={'goals': True}), ['include', 'list']),
    (dict(include=[['goals']]), ['include']),
    (dict(team_id=''), ['team_id', 'UUID']),
    (dict(team_id='Agency'), ['team_id', 'UUID', "'Agency'"]),
    (dict(domain='a.example', team_id=TEAM), ['mutually exclusive', 'domain', 'team_id']),
    (dict(domain='exa&mple.com'), ['domain', 'reserved characters']),
    (dict(domain='  '), ['domain', "can't be blank"]),
])
def test_bad_input_names_the_option_and_the_rule_and_sends_nothing(capsys, args, expected):
    result, sent = run(capsys, args)
    assert result['failed'] is True
    for text in expected:
        assert text in result['msg']
    assert sent == []
