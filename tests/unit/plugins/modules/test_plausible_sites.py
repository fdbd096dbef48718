# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_sites: the requests it spends on a first run and a re-run, check mode, and validation up front."""

from __future__ import annotations

from ansible_collections.plausible.analytics.plugins.modules import plausible_sites

from ..fakes import FakeResponse, run_module
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
