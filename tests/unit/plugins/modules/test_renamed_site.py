# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module refuses a renamed site's old domain (it still resolves for 72 hours), naming the new one, before any
write and in check mode alike."""

from __future__ import annotations

import pytest

from ansible_collections.plausible.analytics.plugins.modules import (
    plausible_custom_property, plausible_goal, plausible_guest, plausible_shared_link, plausible_site, plausible_sites)

from ..fakes import run_module, site_found

MODULES = [
    (plausible_goal, dict(goal_type='event', event_name='Signup')),
    (plausible_goal, dict(goal_type='event', event_name='Signup', state='absent')),
    (plausible_custom_property, dict(property='author')),
    (plausible_guest, dict(email='lead@client.example')),
    (plausible_shared_link, dict(name='Client')),
    (plausible_site, dict(tracker_script_configuration=dict(outbound_links=True))),
]


@pytest.mark.parametrize('check_mode', [False, True])
@pytest.mark.parametrize('module, args', MODULES)
def test_old_domain_is_refused_naming_the_new_one_before_any_write(capsys, module, args, check_mode):
    # The server answers the old name with the renamed site, which shows its current domain.
    result, sent = run_module(capsys, module.main, dict(args, domain='old.example'), site_found('new.example'),
                              check_mode=check_mode)
    assert result['failed'] is True and result['changed'] is False
    assert 'old.example was renamed to new.example' in result['msg'] and 'use domain: new.example' in result['msg']
    assert [(s['method'], s['url']) for s in sent] == [('GET', 'https://plausible.example/api/v1/sites/old.example')]


def test_plausible_sites_refuses_it_too(capsys):
    result, sent = run_module(capsys, plausible_sites.main, dict(sites=[dict(domain='old.example')]),
                              site_found('new.example'))
    assert result['failed'] is True and 'use domain: new.example' in result['msg'] and len(sent) == 1
