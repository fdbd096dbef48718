# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_site: each state transition in normal, check and diff mode, against scripted responses."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_site

from ..fakes import FakeResponse, capabilities, run_module, run_with_token

CONFIG = dict(id='pa-abcdefghijklmnopqrstu', installation_type=None, track_404_pages=False, hash_based_routing=False,
              outbound_links=False, file_downloads=False, revenue_tracking=False, tagged_events=False,
              form_submissions=False, pageview_props=False)
NOT_FOUND = FakeResponse(404, {'error': 'Site could not be found'})


def site(domain='example.com', timezone='Etc/UTC', **config):
    return dict(domain=domain, timezone=timezone, custom_properties=[], tracker_script_configuration=dict(CONFIG, **config))


def writes(sent):
    return [(s['method'], s['url'].split('/api/v1/sites')[1]) for s in sent if s['method'] != 'GET']


def test_creates_missing_site_with_normalised_domain(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='HTTPS://www.Example.COM/', timezone='Europe/Berlin'),
                              NOT_FOUND, FakeResponse(200, site(timezone='Europe/Berlin')))
    assert result['changed'] is True
    assert sent[0]['url'].endswith('/api/v1/sites/example.com')
    assert json.loads(sent[1]['data']) == {'domain': 'example.com', 'timezone': 'Europe/Berlin'}
    assert result['tracker_script_url'] == 'https://plausible.example/js/pa-abcdefghijklmnopqrstu.js'
    assert '<script async src="https://plausible.example/js/pa-abcdefghijklmnopqrstu.js"></script>' in result['snippet']
    assert 'diff' not in result


def test_check_mode_predicts_creation_and_sends_no_write(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='example.com'), NOT_FOUND, check_mode=True, diff=True)
    assert result['changed'] is True
    assert writes(sent) == []
    assert result['site']['domain'] == 'example.com' and result['site']['timezone'] == 'Etc/UTC'
    assert result['tracker_script_url'] is None and result['snippet'] is None
    assert result['diff'] == {'before': {}, 'after': result['site']}


def test_existing_site_is_unchanged_and_nothing_written(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='example.com', timezone='Etc/UTC',
                                                                tracker_script_configuration=dict(outbound_links=False)),
                              FakeResponse(200, site()))
    assert result['changed'] is False
    assert writes(sent) == []


def test_tracker_configuration_changes_only_given_keys(capsys):
    result, sent = run_module(capsys, plausible_site.main,
                              dict(domain='example.com', tracker_script_configuration=dict(outbound_links=True, tagged_events=False)),
                              FakeResponse(200, site()), FakeResponse(200, site(outbound_links=True)), diff=True)
    assert result['changed'] is True
    assert writes(sent) == [('PUT', '/example.com')]
    assert json.loads(sent[1]['data']) == {'tracker_script_configuration': {'outbound_links': True}}
    assert result['diff']['before']['tracker_script_configuration']['outbound_links'] is False
    assert result['diff']['after']['tracker_script_configuration']['outbound_links'] is True


def test_check_mode_predicts_configuration_change(capsys):
    result, sent = run_module(capsys, plausible_site.main,
                              dict(domain='example.com', tracker_script_configuration=dict(installation_type='manual')),
                              FakeResponse(200, site()), check_mode=True)
    assert result['changed'] is True and writes(sent) == []
    assert result['site']['tracker_script_configuration']['installation_type'] == 'manual'


def test_different_timezone_fails_and_changes_nothing(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='example.com', timezone='Europe/Paris'),
                              FakeResponse(200, site()))
    assert result['failed'] is True
    assert 'cannot change it' in result['msg'] and 'Etc/UTC' in result['msg']
    assert writes(sent) == []


def test_rename_from_previous_domain(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='new.example', previous_domain='old.example'),
                              NOT_FOUND, FakeResponse(200, site('old.example')), FakeResponse(200, site('new.example')))
    assert result['changed'] is True
    assert writes(sent) == [('PUT', '/old.example')]
    assert json.loads(sent[2]['data']) == {'domain': 'new.example'}


def test_rename_rerun_sees_old_name_resolving_to_same_site(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='new.example', previous_domain='old.example'),
                              FakeResponse(200, site('new.example')), FakeResponse(200, site('new.example')))
    assert result['changed'] is False and writes(sent) == []


def test_rename_fails_when_both_sites_exist(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='new.example', previous_domain='old.example'),
                              FakeResponse(200, site('new.example')), FakeResponse(200, site('old.example')))
    assert result['failed'] is True and 'Both' in result['msg']
    assert writes(sent) == []


def test_old_name_within_grace_is_not_acted_on(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='old.example', state='absent'),
                              FakeResponse(200, site('new.example')))
    assert result['failed'] is True and 'renamed to new.example' in result['msg']
    assert writes(sent) == []


def test_delete_present_site(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='example.com', state='absent'),
                              FakeResponse(200, site()), FakeResponse(200, {'deleted': True}), diff=True)
    assert result['changed'] is True and writes(sent) == [('DELETE', '/example.com')]
    assert result['diff']['after'] == {}


def test_delete_absent_site_is_unchanged(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='example.com', state='absent'), NOT_FOUND)
    assert result['changed'] is False and writes(sent) == []


def test_delete_in_check_mode_sends_nothing(capsys):
    result, sent = run_module(capsys, plausible_site.main, dict(domain='example.com', state='absent'),
                              FakeResponse(200, site()), check_mode=True)
    assert result['changed'] is True and writes(sent) == []


def test_delete_refused_for_non_owner_says_so(capsys):
    result, _sent = run_module(capsys, plausible_site.main, dict(domain='example.com', state='absent'),
                               FakeResponse(200, site()), NOT_FOUND)
    assert result['failed'] is True and 'only the site\'s owner' in result['msg']


@pytest.mark.parametrize('error, expected', [
    ("domain: This domain cannot be registered. Perhaps one of your colleagues registered it? If that's not the case, "
     "please contact support@plausible.io\n", 'already has a site with that domain'),
    ("You must select a team with 'team_id' parameter.", 'Set team_id'),
])
def test_create_errors_become_instructions(capsys, error, expected):
    result, _sent = run_module(capsys, plausible_site.main, dict(domain='example.com'), NOT_FOUND, FakeResponse(400, {'error': error}))
    assert result['failed'] is True and expected in result['msg']


def test_community_edition_is_named(capsys):
    result, _sent = run_module(capsys, plausible_site.main, dict(domain='example.com'),
                               FakeResponse(406, {'status': 406, 'message': 'Not Acceptable'}))
    assert result['failed'] is True and 'Community Edition' in result['msg'] and result['status'] == 406


@pytest.mark.parametrize('args, option', [
    (dict(domain='exa mple.com'), 'domain: only letters'),
    (dict(domain='h&llo.test'), 'domain: must not contain URI reserved characters'),
    (dict(domain='https://www./'), "domain: can't be blank"),
    (dict(domain='a' * 256 + '.com'), 'domain: must be at most 255'),
    (dict(domain='example.com', timezone='Mars/Olympus'), 'timezone:'),
    (dict(domain='example.com', previous_domain='bad domain'), 'previous_domain: only letters'),
    (dict(domain='example.com', api_url=''), 'api_url: must be an http:// or https:// URL'),
    (dict(domain='example.com', api_url='plausible.io'), 'api_url: must be an http:// or https:// URL'),
    (dict(domain='example.com', api_url='ftp://plausible.io'), 'api_url: must be an http:// or https:// URL'),
])
def test_bad_input_fails_before_any_request(capsys, args, option):
    result, sent = run_module(capsys, plausible_site.main, args)
    assert result['failed'] is True and option in result['msg']
    assert sent == []


def test_warns_about_unverified_tls_and_plain_http(capsys):
    result, _sent = run_module(capsys, plausible_site.main, dict(domain='example.com', validate_certs=False,
                                                                 api_url='http://stats.example.net'),
                               FakeResponse(200, site()))
    warnings = json.dumps(result['warnings'])  # plain strings before ansible-core 2.19, structured since
    assert 'validate_certs is false' in warnings
    assert 'plain http:// to stats.example.net' in warnings


def token_tracker(**changes):
    config = dict(id='pa-abcdefghijklmnopqrstu', installation_type='manual', hash_based_routing=False,
                  outbound_links=False, file_downloads=False, form_submissions=False)
    config.update(changes)
    return FakeResponse(200, {'tracker_script_configuration': config})


def run_through_token(capsys, args, *responses, **kwargs):
    return run_with_token(capsys, plausible_site.main, dict(dict(domain='example.com'), **args), *responses, **kwargs)


def test_token_applies_the_plugins_tracker_subset_and_returns_the_snippet(capsys):
    result, sent = run_through_token(capsys, dict(tracker_script_configuration=dict(outbound_links=True)),
                                     capabilities(), token_tracker(), token_tracker(outbound_links=True))
    assert result['changed'] is True
    assert result['tracker_script_url'] == 'https://plausible.example/js/pa-abcdefghijklmnopqrstu.js'
    assert 'pa-abcdefghijklmnopqrstu.js' in result['snippet']
    assert [(s['method'], s['url'].split('/api/plugins/v1')[1]) for s in sent] == [
        ('GET', '/capabilities'), ('GET', '/tracker_script_configuration'), ('PUT', '/tracker_script_configuration')]
    assert json.loads(sent[2]['data']) == {'tracker_script_configuration': {'outbound_links': True,
                                                                            'installation_type': 'manual'}}


@pytest.mark.parametrize('args, message', [
    (dict(state='absent'), 'state: absent deletes a site, which needs the Sites API'),
    (dict(timezone='Europe/Berlin'), 'timezone: setting a time zone needs the Sites API'),
    (dict(previous_domain='old.example'), 'previous_domain: renaming a site needs the Sites API'),
    (dict(tracker_script_configuration=dict(track_404_pages=True)),
     'tracker_script_configuration: the Plugins API (plugin_token) can change only installation_type'),
])
def test_token_refuses_what_needs_the_sites_api_before_any_request(capsys, args, message):
    result, sent = run_through_token(capsys, args)
    assert result['failed'] is True and message in result['msg'] and sent == []
    assert 'settings/integrations?new_token=Ansible' in result['msg'] or 'track_404_pages' in result['msg']
