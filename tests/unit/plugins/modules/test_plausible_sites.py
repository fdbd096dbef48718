# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_sites: the requests it spends on a first run and a re-run, check mode, and validation up front."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_sites

from ..fakes import TOKEN, FakeResponse, capabilities, run_module
from .test_plausible_site import NOT_FOUND, site

SITES = [dict(domain='a.example', timezone='Europe/Berlin',
              goals=[dict(goal_type='event', event_name='Signup'), dict(goal_type='page', page_path='pricing')],
              shared_links=['Client'])]
SIGNUP = dict(id=1, domain='a.example', display_name='Signup', goal_type='event', event_name='Signup', page_path=None,
              custom_props={})
PRICING = dict(id=2, domain='a.example', display_name='Visit /pricing', goal_type='page', event_name=None,
               page_path='/pricing', custom_props={})
LINK = FakeResponse(200, {'name': 'Client', 'url': 'https://plausible.example/share/a.example?auth=x'})


def calls(sent):
    return [(s['method'], s['url'].split('/api/v1/sites')[1]) for s in sent]


def test_first_run_costs_read_create_and_one_request_per_goal_and_link(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=SITES), NOT_FOUND,
                              FakeResponse(200, site('a.example', 'Europe/Berlin')), FakeResponse(200, SIGNUP),
                              FakeResponse(200, PRICING), LINK)
    assert calls(sent) == [('GET', '/a.example'), ('POST', ''), ('PUT', '/goals'), ('PUT', '/goals'), ('PUT', '/shared-links')]
    entry = result['sites']['a.example']
    assert result['changed'] is True and entry['changed'] is True
    assert [g['id'] for g in entry['goals']] == [1, 2]
    assert entry['shared_links'] == {'Client': 'https://plausible.example/share/a.example?auth=x'}
    assert entry['snippet'] and entry['tracker_script_url'].endswith('.js')


def test_rerun_costs_read_listing_and_links_only(capsys):
    listing = FakeResponse(200, {'goals': [dict(PRICING, domain=None), dict(SIGNUP, domain=None)],
                                 'meta': {'after': None, 'before': None, 'limit': 100}})
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=SITES),
                              FakeResponse(200, site('a.example', 'Europe/Berlin')), listing, LINK)
    assert calls(sent) == [('GET', '/a.example'), ('GET', '/goals'), ('PUT', '/shared-links')]
    assert result['changed'] is False
    assert [g['id'] for g in result['sites']['a.example']['goals']] == [1, 2]


def test_check_mode_on_empty_server_predicts_everything_and_writes_nothing(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=SITES), NOT_FOUND, check_mode=True, diff=True)
    assert calls(sent) == [('GET', '/a.example')]
    entry = result['sites']['a.example']
    assert result['changed'] is True
    assert [g['id'] for g in entry['goals']] == [None, None]
    assert entry['shared_links'] == {'Client': None} and result['notes']
    assert result['diff']['before']['a.example']['site'] is None
    assert len(result['diff']['after']['a.example']['goals']) == 2


def test_every_entry_is_validated_before_the_first_request(capsys):
    sites = SITES + [dict(domain='b.example', goals=[dict(goal_type='event', event_name='engagement')])]
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=sites))
    assert result['failed'] is True and 'sites[1] (b.example)' in result['msg'] and 'reserved' in result['msg']
    assert sent == []


def test_duplicate_domains_after_normalisation_are_refused(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[dict(domain='a.example'), dict(domain='WWW.A.example')]))
    assert result['failed'] is True and 'more than once' in result['msg'] and sent == []


def test_failure_names_the_site(capsys):
    result, _sent = run_module(capsys, plausible_sites.main, dict(sites=SITES),
                               FakeResponse(200, site('a.example', 'Etc/UTC')))
    assert result['failed'] is True and result['msg'].startswith('Site a.example: timezone:')


# ---- custom properties, guests and purge ---------------------------------------------------------------------------

META = {'after': None, 'before': None, 'limit': 100}
ALICE = dict(email='alice@client.example', role='viewer', status='accepted')
BOB = dict(email='bob@client.example', role='editor', status='invited')
OLD = dict(id=7, display_name='Old', goal_type='event', event_name='Old', page_path=None, custom_props={})
OUTBOUND = dict(id=8, display_name='Outbound Link: Click', goal_type='event', event_name='Outbound Link: Click',
                page_path=None, custom_props={})
FULL = dict(domain='a.example', goals=[dict(goal_type='event', event_name='Signup')], custom_properties=['plan', 'author'],
            guests=[dict(email=ALICE['email'])])
PURGE = dict(purge_goals=True, purge_custom_properties=True, purge_guests=True)
OK = FakeResponse(200, {'deleted': True})


def goals(*items):
    return FakeResponse(200, {'goals': list(items), 'meta': META})


def props(*names):
    return FakeResponse(200, {'custom_properties': [{'property': name} for name in names]})


def guests(*items):
    return FakeResponse(200, {'guests': list(items), 'meta': META})


EXISTING = FakeResponse(200, site('a.example'))
UP_TO_DATE = (EXISTING, goals(dict(SIGNUP, domain=None)), props('author', 'plan'), guests(ALICE))
RERUN = [('GET', '/a.example'), ('GET', '/goals'), ('GET', '/custom-props'), ('GET', '/guests')]


def test_new_site_lists_nothing_and_sends_one_request_per_property_and_guest(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[FULL], **PURGE), NOT_FOUND,
                              FakeResponse(200, site('a.example')), FakeResponse(200, SIGNUP), OK, OK,
                              FakeResponse(200, dict(ALICE, status='invited')))
    assert calls(sent) == [('GET', '/a.example'), ('POST', ''), ('PUT', '/goals'), ('PUT', '/custom-props'),
                           ('PUT', '/custom-props'), ('PUT', '/guests')]
    entry = result['sites']['a.example']
    assert result['changed'] is True and entry['custom_properties'] == ['plan', 'author']
    assert entry['guests'] == [dict(ALICE, status='invited')]
    assert entry['purged'] == dict(goals=[], custom_properties=[], guests=[])


def test_rerun_lists_each_declared_kind_once_and_writes_nothing(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[FULL]), *UP_TO_DATE)
    assert calls(sent) == RERUN
    assert result['changed'] is False and result['sites']['a.example']['purged'] == {}


def test_purge_with_nothing_to_purge_adds_no_request(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[FULL], **PURGE), *UP_TO_DATE)
    assert calls(sent) == RERUN
    assert result['changed'] is False


def test_a_kind_purged_but_not_declared_is_listed_once_and_emptied(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[dict(domain='a.example')], purge_guests=True),
                              EXISTING, guests(ALICE, BOB), OK, OK)
    assert calls(sent) == [('GET', '/a.example'), ('GET', '/guests'), ('DELETE', '/guests/alice%40client.example'),
                           ('DELETE', '/guests/bob%40client.example')]
    assert result['changed'] is True and result['sites']['a.example']['purged'] == dict(guests=[ALICE, BOB])


def test_purge_deletes_what_is_not_declared_and_keeps_tracker_and_scroll_goals(capsys):
    scroll = dict(OLD, id=8, goal_type='scroll', event_name=None, page_path='/blog', display_name='Scroll /blog')
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[FULL], **PURGE),
                              FakeResponse(200, site('a.example', outbound_links=True)),
                              goals(OUTBOUND, OLD, scroll, dict(SIGNUP, domain=None)), OK, props('author', 'legacy', 'plan'), OK,
                              guests(BOB, ALICE), OK)
    assert calls(sent) == [('GET', '/a.example'), ('GET', '/goals'), ('DELETE', '/goals/7'), ('GET', '/custom-props'),
                           ('DELETE', '/custom-props/legacy'), ('GET', '/guests'),
                           ('DELETE', '/guests/bob%40client.example')]
    purged = result['sites']['a.example']['purged']
    assert result['changed'] is True
    assert [g['id'] for g in purged['goals']] == [7]
    assert purged['custom_properties'] == ['legacy'] and purged['guests'] == [BOB]


def test_check_mode_predicts_each_deletion_and_sends_no_write(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[FULL], **PURGE), EXISTING,
                              goals(OLD, dict(SIGNUP, domain=None)), props('author', 'legacy', 'plan'), guests(BOB, ALICE),
                              check_mode=True, diff=True)
    assert calls(sent) == RERUN
    purged = result['sites']['a.example']['purged']
    assert result['changed'] is True
    assert [g['id'] for g in purged['goals']] == [7] and purged['custom_properties'] == ['legacy']
    assert purged['guests'] == [BOB]
    before, after = result['diff']['before']['a.example'], result['diff']['after']['a.example']
    assert 'legacy' in before['custom_properties'] and 'legacy' not in after['custom_properties']
    assert BOB in before['guests'] and BOB not in after['guests']


def test_export_entries_are_taken_as_they_are(capsys):
    exported = dict(FULL, tracker_script_url='https://plausible.example/js/pa-x.js', snippet='<script></script>',
                    goals=[dict(goal_type='event', event_name='Signup', display_name='Signup',
                                custom_props={})],
                    guests=[dict(email=ALICE['email'], role='viewer')])
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[exported]), *UP_TO_DATE)
    assert calls(sent) == RERUN and result["changed"] is False, result.get("msg")


def test_another_role_fails_naming_reinvite_guests_and_reinvites_with_it(capsys):
    sites = [dict(domain='a.example', guests=[dict(email=ALICE['email'], role='editor')])]
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=sites), EXISTING, guests(ALICE))
    assert result['failed'] is True and 'reinvite_guests: true' in result['msg'] and len(sent) == 2
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=sites, reinvite_guests=True), EXISTING,
                              guests(ALICE), OK, FakeResponse(200, dict(ALICE, role='editor', status='invited')))
    assert calls(sent)[2:] == [('DELETE', '/guests/alice%40client.example'), ('PUT', '/guests')]
    assert result['sites']['a.example']['guests'] == [dict(ALICE, role='editor', status='invited')]


@pytest.mark.parametrize('args, message', [
    (dict(purge_goals='maybe'), "purge_goals"),
    (dict(purge_guests=[True]), "purge_guests"),
    (dict(sites=[dict(domain='a.example', guests=[dict(role='viewer')])]),
     'missing required arguments: email found in sites -> guests'),
    (dict(sites=[dict(domain='a.example', guests=[dict(email='x@client.example', role='owner')])]),
     'value of role must be one of: viewer, editor, got: owner'),
    (dict(sites=[dict(domain='a.example', guests=[dict(email='not-an-address')])]),
     "sites[0] (a.example): guests[0].email: must be one address"),
    (dict(sites=[dict(domain='a.example', custom_properties=['plan', '  '])]),
     "sites[0] (a.example): custom_properties[1]: can't be blank"),
    (dict(sites=[dict(domain='a.example', custom_properties=['p' * 301])]),
     'sites[0] (a.example): custom_properties[0]: must be at most 300 characters'),
    (dict(sites=[dict(domain='a.example', custom_properties=['plan', ' plan'])]),
     "sites[0] (a.example): custom_properties[1]: 'plan' is declared more than once"),
])
def test_bad_input_names_the_option_and_the_rule_and_sends_nothing(capsys, args, message):
    result, sent = run_module(capsys, plausible_sites.main, dict(dict(sites=[FULL]), **args))
    assert result['failed'] is True and message in result['msg'], result['msg']
    assert sent == []


# ---- through a site's plugin token ---------------------------------------------------------------------------------

PASSWORD = 'board-password-123'
TOKEN_SITE = dict(domain='a.example', plugin_token=TOKEN, tracker_script_configuration=dict(outbound_links=True),
                  goals=[dict(goal_type='event', event_name='E%d' % n) for n in range(9)],
                  shared_links=['Team', dict(name='Board', password=PASSWORD)], custom_properties=['author'])
CAPABILITIES = capabilities('a.example')
TRACKER = dict(id='pa-abcdefghijklmnopqrstu', installation_type='manual', hash_based_routing=False,
               outbound_links=True, file_downloads=False, form_submissions=False)


def plugins_page(key, items):
    return FakeResponse(200, {key: items, 'meta': {'pagination': {'links': {}}}})


def plugins_event(number):
    name = 'E%d' % number
    return {'goal_type': 'Goal.CustomEvent', 'goal': {'id': number, 'display_name': name, 'event_name': name,
                                                      'custom_props': {}}}


def plugins_link(number, name, protected):
    return {'shared_link': {'id': number, 'name': name, 'password_protected': protected,
                            'href': 'https://plausible.example/share/a.example?auth=%d' % number}}


def plugins_calls(sent):
    return [(s['method'], s['url'].split('/api/plugins/v1')[1]) for s in sent]


def run_with_tokens(capsys, *responses, **kwargs):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[TOKEN_SITE], api_key=None), *responses, **kwargs)
    assert PASSWORD not in json.dumps(result)
    return result, sent


def test_token_first_run_creates_goals_eight_a_request_and_lists_links_first(capsys):
    goals = [plugins_event(n) for n in range(9)]
    result, sent = run_with_tokens(
        capsys, CAPABILITIES, FakeResponse(200, {'tracker_script_configuration': TRACKER}), plugins_page('goals', []),
        FakeResponse(201, {'goals': goals[:8]}), FakeResponse(201, {'goals': goals[8:]}),
        FakeResponse(201, {'custom_props': [{'custom_prop': {'key': 'author'}}]}), plugins_page('shared_links', []),
        FakeResponse(201, plugins_link(1, 'Team', False)), FakeResponse(201, plugins_link(2, 'Board', True)))
    assert plugins_calls(sent) == [('GET', '/capabilities'), ('GET', '/tracker_script_configuration'), ('GET', '/goals'),
                                   ('PUT', '/goals'), ('PUT', '/goals'), ('PUT', '/custom_props'),
                                   ('GET', '/shared_links'), ('PUT', '/shared_links'), ('PUT', '/shared_links')]
    assert '"password": "%s"' % PASSWORD in sent[8]['data']
    entry = result['sites']['a.example']
    assert result['changed'] is True and [goal['id'] for goal in entry['goals']] == list(range(9))
    assert entry['shared_links'] == {'Team': 'https://plausible.example/share/a.example?auth=1',
                                     'Board': 'https://plausible.example/share/a.example?auth=2'}
    assert entry['snippet'] and 'cannot list custom properties' in result['notes'][0]


def test_token_rerun_reads_and_writes_only_the_custom_properties(capsys):
    result, sent = run_with_tokens(
        capsys, CAPABILITIES, FakeResponse(200, {'tracker_script_configuration': TRACKER}),
        plugins_page('goals', [plugins_event(n) for n in range(9)]),
        FakeResponse(201, {'custom_props': [{'custom_prop': {'key': 'author'}}]}),
        plugins_page('shared_links', [plugins_link(2, 'Board', True), plugins_link(1, 'Team', False)]))
    assert result['changed'] is False
    assert [call for call in plugins_calls(sent) if call[0] != 'GET'] == [('PUT', '/custom_props')]


def test_token_check_mode_writes_nothing(capsys):
    result, sent = run_with_tokens(capsys, CAPABILITIES, FakeResponse(200, {'tracker_script_configuration': TRACKER}),
                                   plugins_page('goals', []), plugins_page('shared_links', []), check_mode=True)
    assert result['changed'] is True and all(method == 'GET' for method, _path in plugins_calls(sent))
    assert result['sites']['a.example']['shared_links'] == {'Team': None, 'Board': None}


@pytest.mark.parametrize('args, message', [
    (dict(sites=[dict(domain='a.example')], api_key=None), "plugin_token: without api_key, each site needs its own"),
    (dict(sites=[dict(domain='a.example', plugin_token=TOKEN, guests=[dict(email='g@example.com')])], api_key=None),
     'guests: managing guests needs the Sites API'),
    (dict(sites=[dict(domain='a.example', plugin_token=TOKEN, custom_properties=['x'])], api_key=None,
          purge_custom_properties=True), 'purge_custom_properties: the Plugins API cannot list custom properties'),
    (dict(sites=[dict(domain='a.example', shared_links=[dict(name='Board', password=PASSWORD)])]),
     'shared_links[0].password: only the Plugins API can protect'),
    (dict(sites=[dict(domain='a.example', shared_links=[dict(name='Board', secret=PASSWORD)])]),
     'shared_links[0]: must be a link name or a dict with name and password'),
    (dict(sites=[dict(domain='a.example', shared_links=[dict(name=' ')])]), "shared_links[0].name: can't be blank"),
    (dict(sites=[dict(domain='a.example')], plugin_token=TOKEN), 'plugin_token: a token is bound to one site'),
])
def test_token_inputs_are_refused_before_any_request(capsys, args, message):
    result, sent = run_module(capsys, plausible_sites.main, args)
    assert result['failed'] is True and message in result['msg'] and sent == []
    assert PASSWORD not in json.dumps(result)


def test_link_passwords_of_every_entry_are_hidden_when_an_earlier_entry_fails(capsys):
    sites = [dict(domain='a.example', shared_links=['']),
             dict(domain='b.example', plugin_token=TOKEN, shared_links=[dict(name='Board', password=PASSWORD)])]
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=sites))
    assert result['failed'] is True and "shared_links[0].name: can't be blank" in result['msg'] and sent == []
    assert PASSWORD not in json.dumps(result) and TOKEN not in json.dumps(result)


@pytest.mark.parametrize('goals, message', [
    ([dict(goal_type='event', event_name='Signup'), dict(goal_type='event', event_name=' Signup ')],
     "goals[1]: the same goal as goals[0] (event_name 'Signup')"),
    ([dict(goal_type='event', event_name='Buy', custom_props=dict(plan='pro')),
      dict(goal_type='event', event_name='Buy', custom_props=dict(plan='pro'), display_name='Buy pro')],
     "goals[1]: the same goal as goals[0] (event_name 'Buy')"),
    ([dict(goal_type='event', event_name='Buy', custom_props=dict(plan='pro'), display_name='Buy pro'),
      dict(goal_type='event', event_name='Buy', custom_props=dict(plan='basic'), display_name='Buy basic')],
     "goals[1]: the same goal as goals[0] (event_name 'Buy')"),
    ([dict(goal_type='page', page_path='pricing'), dict(goal_type='page', page_path='/pricing')],
     "goals[1]: the same goal as goals[0] (page_path '/pricing')"),
    ([dict(goal_type='event', event_name='Signup', display_name='Conversions'),
      dict(goal_type='page', page_path='/thanks', display_name='Conversions')],
     "goals[1].display_name: 'Conversions' is also the display name of goals[0]"),
    ([dict(goal_type='event', event_name='Visit /x'), dict(goal_type='page', page_path='/x')],
     "goals[1].display_name: 'Visit /x' is also the display name of goals[0]"),
])
@pytest.mark.parametrize('recreate', [False, True])
def test_the_same_goal_twice_is_refused_before_any_request(capsys, goals, message, recreate):
    args = dict(sites=[dict(domain='a.example', goals=goals)], recreate_goals=recreate)
    result, sent = run_module(capsys, plausible_sites.main, args)
    assert result['failed'] is True and sent == []
    assert message in result['msg'] and result['msg'].startswith('Invalid input, nothing was sent: sites[0] (a.example): ')
