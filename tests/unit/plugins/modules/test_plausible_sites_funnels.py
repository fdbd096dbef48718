# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_sites with funnels: what a run and a re-run send, the checks before any request, and purge safety."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_sites

from ..fakes import TOKEN, FakeResponse, run_module
from .test_plausible_funnel import HOSTED_TOKEN, PRICING, SIGNUP, capabilities, listing, server_funnel

TRACKER = FakeResponse(200, {'tracker_script_configuration': dict(
    id='pa-abcdefghijklmnopqrstu', installation_type='manual', hash_based_routing=False, outbound_links=False,
    file_downloads=False, form_submissions=False)})
FUNNEL = dict(name='Signup', steps=[PRICING, SIGNUP])


def site(**entry):
    return dict(dict(domain='example.com', plugin_token=HOSTED_TOKEN, funnels=[FUNNEL]), **entry)


def run(capsys, sites, *responses, **kwargs):
    args = dict(dict(sites=sites, api_key=None), **{k: kwargs.pop(k) for k in list(kwargs) if k.startswith('purge')})
    result, sent = run_module(capsys, plausible_sites.main, args, *responses, **kwargs)
    assert HOSTED_TOKEN not in json.dumps(result)
    return result, [(s['method'], s['url'].split('/api/plugins/v1')[1]) for s in sent]


def goals_page(*goals):
    return FakeResponse(200, {'goals': list(goals), 'meta': {'pagination': {'links': {}}}})


def test_rerun_costs_one_funnel_listing_and_writes_nothing(capsys):
    existing = server_funnel(7, 'Signup', PRICING, SIGNUP)
    result, sent = run(capsys, [site()], capabilities(), TRACKER, listing(existing))
    assert sent == [('GET', '/capabilities'), ('GET', '/tracker_script_configuration'), ('GET', '/funnels')]
    assert result['changed'] is False and result['sites']['example.com']['funnels'][0]['id'] == 7


def test_a_missing_funnel_is_created_and_check_mode_only_predicts_it(capsys):
    result, sent = run(capsys, [site()], capabilities(), TRACKER, listing(), check_mode=True, diff=True)
    assert ('PUT', '/funnels') not in sent and result['changed'] is True
    assert result['sites']['example.com']['funnels'][0]['id'] is None
    assert result['diff']['after']['example.com']['funnels'][0]['name'] == 'Signup'
    created = FakeResponse(201, server_funnel(8, 'Signup', PRICING, SIGNUP))
    result, sent = run(capsys, [site()], capabilities(), TRACKER, listing(), created)
    assert sent[-1] == ('PUT', '/funnels') and result['changed'] is True
    assert result['sites']['example.com']['funnels'][0]['id'] == 8


def test_other_steps_fail_naming_the_site_and_write_nothing(capsys):
    existing = server_funnel(7, 'Signup', SIGNUP, PRICING)
    result, sent = run(capsys, [site()], capabilities(), TRACKER, listing(existing))
    assert result['failed'] is True and result['msg'].startswith('Site example.com: funnel ')
    assert all(method == 'GET' for method, _path in sent)


@pytest.mark.parametrize('entry, message', [
    (dict(plugin_token=None), 'funnels: funnels exist only in the Plugins API'),
    (dict(plugin_token=TOKEN), 'funnels: a Community Edition server has no funnels'),
    (dict(funnels=[dict(name='F', steps=[PRICING])]), 'funnels[0].steps: a funnel has 2 to 8 steps (got 1)'),
    (dict(funnels=[dict(name='F', steps=[PRICING, dict(goal_type='page', page_path='')])]),
     "funnels[0].steps[1].page_path: can't be blank"),
    (dict(funnels=[FUNNEL, FUNNEL]), "funnels[1].name: the funnel 'Signup' appears more than once"),
    (dict(funnels=[dict(name=' ', steps=[PRICING, SIGNUP])]), "funnels[0].name: can't be blank"),
])
def test_funnel_inputs_are_refused_naming_the_site_before_any_request(capsys, entry, message):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[site(**entry)]))
    assert result['failed'] is True and 'sites[0] (example.com)' in result['msg'] and message in result['msg']
    assert sent == []


def test_purge_keeps_a_goal_that_is_a_funnel_step_and_names_the_funnel(capsys):
    pricing = {'goal_type': 'Goal.Pageview', 'goal': {'id': 10, 'display_name': 'Visit /pricing', 'path': '/pricing',
                                                      'custom_props': {}}}
    old = {'goal_type': 'Goal.CustomEvent', 'goal': {'id': 12, 'display_name': 'Old', 'event_name': 'Old', 'custom_props': {}}}
    signup = {'goal_type': 'Goal.CustomEvent', 'goal': {'id': 11, 'display_name': 'Signup', 'event_name': 'Signup',
                                                        'custom_props': {}}}
    funnel = server_funnel(7, 'Signup', PRICING, SIGNUP)
    entry = site(funnels=[], goals=[SIGNUP])
    result, sent = run(capsys, [entry], capabilities(), TRACKER, goals_page(old, signup, pricing), listing(funnel),
                       FakeResponse(204), purge_goals=True)
    assert sent == [('GET', '/capabilities'), ('GET', '/tracker_script_configuration'), ('GET', '/goals'),
                    ('GET', '/funnels'), ('DELETE', '/goals/12')]
    site_result = result['sites']['example.com']
    assert [goal['id'] for goal in site_result['purged']['goals']] == [12]
    assert [(goal['id'], goal['funnels']) for goal in site_result['kept']['goals']] == [(10, ['Signup'])]


def test_purge_with_nothing_to_delete_lists_no_funnels(capsys):
    signup = {'goal_type': 'Goal.CustomEvent', 'goal': {'id': 11, 'display_name': 'Signup', 'event_name': 'Signup',
                                                        'custom_props': {}}}
    result, sent = run(capsys, [site(funnels=[], goals=[SIGNUP])], capabilities(), TRACKER, goals_page(signup),
                       purge_goals=True)
    assert ('GET', '/funnels') not in sent and result['changed'] is False and 'kept' not in result['sites']['example.com']


def test_a_protected_link_item_is_left_alone_and_a_missing_one_needs_its_password(capsys):
    protected = dict(name='Board', password_protected=True)
    link = {'shared_link': dict(id=2, name='Board', password_protected=True, href='https://plausible.example/share/x')}
    page = FakeResponse(200, {'shared_links': [link], 'meta': {'pagination': {'links': {}}}})
    result, sent = run(capsys, [site(funnels=[], shared_links=[protected])], capabilities(), TRACKER, page)
    assert result['changed'] is False and sent[-1] == ('GET', '/shared_links')
    empty = FakeResponse(200, {'shared_links': [], 'meta': {'pagination': {'links': {}}}})
    result, sent = run(capsys, [site(funnels=[], shared_links=[protected])], capabilities(), TRACKER, empty)
    assert result['failed'] is True and 'a new link needs its password' in result['msg']
    assert all(method == 'GET' for method, _path in sent)
    unprotected = {'shared_link': dict(link['shared_link'], password_protected=False)}
    page = FakeResponse(200, {'shared_links': [unprotected], 'meta': {'pagination': {'links': {}}}})
    result, sent = run(capsys, [site(funnels=[], shared_links=[protected])], capabilities(), TRACKER, page)
    assert result['failed'] is True and 'is not protected' in result['msg']


def test_a_protected_link_item_needs_the_token(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[dict(
        domain='example.com', shared_links=[dict(name='Board', password_protected=True)])]))
    assert result['failed'] is True and 'shared_links[0].password_protected: only the Plugins API' in result['msg']
    assert sent == []
