# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_shared_link: find-or-create, what it reports, check mode, and what it refuses."""

from __future__ import annotations

import json

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_shared_link

from ..fakes import FakeResponse, run_module

URL = 'https://plausible.example/share/example.com?auth=abcdefghijklmnopqrstu'


def test_find_or_create_returns_url_and_reports_no_change(capsys):
    result, sent = run_module(capsys, plausible_shared_link.main, dict(domain='www.example.com', name='Client'),
                              FakeResponse(200, {'name': 'Client', 'url': URL}))
    assert result['changed'] is False
    assert result['shared_link'] == {'name': 'Client', 'url': URL}
    assert json.loads(sent[0]['data']) == {'site_id': 'example.com', 'name': 'Client'}


def test_check_mode_sends_nothing_and_says_why(capsys):
    result, sent = run_module(capsys, plausible_shared_link.main, dict(domain='example.com', name='Client'), check_mode=True)
    assert sent == [] and result['changed'] is False
    assert result['shared_link'] == {'name': 'Client', 'url': None}
    assert 'cannot list shared links' in result['notes'][0]


def test_absent_is_refused_without_a_request(capsys):
    result, sent = run_module(capsys, plausible_shared_link.main, dict(domain='example.com', name='Client', state='absent'))
    assert result['failed'] is True and 'neither list nor delete' in result['msg'] and sent == []


def test_missing_site_is_named(capsys):
    result, _sent = run_module(capsys, plausible_shared_link.main, dict(domain='example.com', name='Client'),
                               FakeResponse(404, {'error': 'Site could not be found'}))
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
