# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_site_info with plugin_tokens: shared links and funnels in the role's shape, and a Community Edition export
from tokens alone; only reads, no token in any output."""

from __future__ import annotations

import json

from ansible_collections.plausible.analytics.plugins.modules import plausible_site_info

from ..fakes import TOKEN, FakeResponse, run_module
from .test_plausible_funnel import HOSTED_TOKEN, PRICING, SIGNUP, capabilities, listing, server_funnel
from .test_plausible_site import site

HREF = 'https://plausible.example/share/example.com?auth=abcdefghijklmnopqrstu'


def links_page(*links):
    return FakeResponse(200, {'shared_links': [{'shared_link': dict(link, href=HREF)} for link in links],
                              'meta': {'pagination': {'links': {}}}})


def run(capsys, args, *responses):
    result, sent = run_module(capsys, plausible_site_info.main, args, *responses)
    assert [s['method'] for s in sent if s['method'] != 'GET'] == []
    assert HOSTED_TOKEN not in json.dumps(result)
    return result, [s['url'].split('plausible.example')[1] for s in sent]


def test_a_token_adds_shared_links_and_funnels_in_the_roles_shape(capsys):
    links = links_page(dict(id=2, name='Board', password_protected=True), dict(id=1, name='Team', password_protected=False))
    funnels = listing(server_funnel(9, 'Newer', SIGNUP, PRICING), server_funnel(4, 'Signup', PRICING, dict(SIGNUP, currency='EUR')))
    result, sent = run(capsys, dict(domain='example.com', include=['shared_links', 'funnels'],
                                    plugin_tokens={'WWW.example.com': HOSTED_TOKEN}),
                       FakeResponse(200, site('example.com', 'Etc/UTC')), capabilities(), links, funnels)
    assert sent == ['/api/v1/sites/example.com', '/api/plugins/v1/capabilities', '/api/plugins/v1/shared_links',
                    '/api/plugins/v1/funnels']
    entry = result['sites'][0]
    assert entry['shared_links'] == ['Team', {'name': 'Board', 'password_protected': True}]
    assert entry['funnels'] == [
        {'name': 'Signup', 'steps': [{'goal_type': 'page', 'page_path': '/pricing'},
                                     {'goal_type': 'event', 'event_name': 'Signup', 'currency': 'EUR'}]},
        {'name': 'Newer', 'steps': [{'goal_type': 'event', 'event_name': 'Signup'}, {'goal_type': 'page', 'page_path': '/pricing'}]}]
    assert 'left_out' not in result


def test_sites_without_a_token_are_said_to_lack_links_and_funnels(capsys):
    result, sent = run(capsys, dict(domain='example.com', include=['shared_links']),
                       FakeResponse(200, site('example.com', 'Etc/UTC')))
    assert 'shared_links' not in result['sites'][0] and len(sent) == 1
    assert 'shared_links of example.com: only the Plugins API lists them' in result['left_out'][0]
    assert 'Left out of the export: shared_links of example.com' in json.dumps(result['warnings'])


def test_community_edition_exports_from_tokens_alone_and_says_what_is_left_out(capsys):
    tracker = FakeResponse(200, {'tracker_script_configuration': dict(
        id='pa-abcdefghijklmnopqrstu', installation_type='manual', hash_based_routing=False, outbound_links=True,
        file_downloads=False, form_submissions=False)})
    goals = FakeResponse(200, {'goals': [{'goal_type': 'Goal.CustomEvent', 'goal': {
        'id': 3, 'display_name': 'Signup', 'event_name': 'Signup', 'custom_props': {}}}], 'meta': {'pagination': {'links': {}}}})
    result, sent = run_module(capsys, plausible_site_info.main, dict(
        api_key=None, include=['tracker', 'goals', 'guests', 'shared_links', 'funnels'], plugin_tokens={'ce.example': TOKEN}),
        FakeResponse(200, {'authorized': True, 'data_domain': 'ce.example', 'features': {}}), tracker, goals,
        links_page(dict(id=1, name='Team', password_protected=False)))
    paths = [s['url'].split('/v1')[1] for s in sent]
    assert paths == ['/capabilities', '/tracker_script_configuration', '/goals', '/shared_links']
    assert result['sites'] == [{
        'domain': 'ce.example', 'tracker_script_configuration': dict(
            installation_type='manual', hash_based_routing=False, outbound_links=True, file_downloads=False,
            form_submissions=False),
        'tracker_script_url': 'https://plausible.example/js/pa-abcdefghijklmnopqrstu.js',
        'snippet': result['sites'][0]['snippet'], 'goals': [{'goal_type': 'event', 'event_name': 'Signup'}],
        'shared_links': ['Team'], 'funnels': []}]
    assert 'timezone, guests' in result['left_out'][0] and 'only the Sites API' in result['left_out'][0]


def test_a_token_of_another_site_fails(capsys):
    result, _sent = run_module(capsys, plausible_site_info.main, dict(
        api_key=None, include=['shared_links'], plugin_tokens={'a.example': HOSTED_TOKEN}), capabilities())
    assert result['failed'] is True and 'belongs to the site example.com, not to a.example' in result['msg']
    assert HOSTED_TOKEN not in json.dumps(result)


def test_no_credential_at_all_fails_before_any_request(capsys):
    result, sent = run_module(capsys, plausible_site_info.main, dict(api_key=None))
    assert result['failed'] is True and 'api_key' in result['msg'] and sent == []


def test_team_id_without_an_api_key_is_refused(capsys):
    result, sent = run_module(capsys, plausible_site_info.main, dict(
        api_key=None, team_id='4f7c5d8e-0b1a-4c2d-9e3f-a1b2c3d4e5f6', plugin_tokens={'a.example': HOSTED_TOKEN}))
    assert result['failed'] is True and 'team_id: choosing a team needs the Sites API' in result['msg'] and sent == []
