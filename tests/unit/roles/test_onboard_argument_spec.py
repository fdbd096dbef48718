# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role onboard's argument spec (roles/onboard/meta/argument_specs.yml) refuses bad shapes and names the option.

Ansible validates a role's inputs with the same ArgumentSpecValidator before the role's first task; the rows that
need the role's tasks or the module behind it stay in tests/integration/targets/bad_input.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

SPEC = yaml.safe_load((Path(__file__).parents[3] / 'roles' / 'onboard' / 'meta' / 'argument_specs.yml').read_text(encoding='utf-8'))
OPTIONS = SPEC['argument_specs']['main']['options']


def errors(sites):
    result = ArgumentSpecValidator(OPTIONS).validate(dict(plausible_api_url='http://127.0.0.1:1', plausible_api_key='key', plausible_sites=sites))
    return ' '.join(result.error_messages)


@pytest.mark.parametrize('sites, expect', [
    ('role-a.example', "Elements value for option 'plausible_sites' is of type str"),
    ([dict(domain='role-b.example'), 'role-c.example'], "Elements value for option 'plausible_sites' is of type str"),
    ([dict(timezone='Europe/Berlin')], 'missing required arguments: domain found in plausible_sites'),
    ([dict(domain='role-f.example', goals=[dict(goal_type='event', event_name='A', page_path='/a')])],
     'parameters are mutually exclusive: event_name|page_path found in plausible_sites -> goals'),
    ([dict(domain='role-g.example', goals=[dict(goal_type='page')])],
     'goal_type is page but all of the following are missing: page_path found in plausible_sites -> goals'),
    ([dict(domain='role-h.example', goals=[dict(goal_type='scroll', page_path='/a')])],
     'value of goal_type must be one of: event, page, got: scroll found in plausible_sites -> goals'),
    ([dict(domain='role-n.example', tracker_script_configuration=dict(installation_type='cdn'))],
     'value of installation_type must be one of: manual, wordpress, gtm, npm, got: cdn'),
])
def test_bad_shape_is_refused_naming_the_option(sites, expect):
    assert expect in errors(sites)


def test_good_input_passes():
    assert errors([dict(domain='example.com', goals=[dict(goal_type='event', event_name='Signup')], shared_links=['Team'])]) == ''
