# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The argument spec of the role's verify entry point: it takes exactly the module's own options, marks the headers
secret, and refuses bad shapes naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.plausible.analytics.plugins.module_utils._verify_module import verify_argument_spec

SPEC = yaml.safe_load((Path(__file__).parents[3] / 'roles' / 'onboard' / 'meta' / 'argument_specs.yml').read_text(encoding='utf-8'))
OPTIONS = SPEC['argument_specs']['verify']['options']
PASSED_THROUGH = OPTIONS['plausible_verify_options']['options']


def errors(**variables):
    return ' '.join(ArgumentSpecValidator(OPTIONS).validate(variables).error_messages)


def test_the_options_are_the_modules_own_with_the_same_types_and_the_headers_secret():
    module = verify_argument_spec()
    # url, domain and tracker_script_id come from the host and the fact; the shared options from module_defaults.
    own = set(module) - {'url', 'domain', 'tracker_script_id', 'api_url', 'api_key', 'plugin_token', 'retries', 'rate_limit_wait'}
    assert set(PASSED_THROUGH) == own
    for name, option in PASSED_THROUGH.items():
        assert option['type'] == module[name]['type'], name
        assert 'default' not in option, name  # the module's defaults apply
    assert [name for name, option in PASSED_THROUGH.items() if option.get('no_log')] == ['headers']


def test_the_tasks_pass_every_option_through():
    tasks = (Path(__file__).parents[3] / 'roles' / 'onboard' / 'tasks' / 'verify.yml').read_text(encoding='utf-8')
    for name in PASSED_THROUGH:
        assert 'onboard_verify_options.%s | default(omit)' % name in tasks, name


@pytest.mark.parametrize('variables, expect', [
    (dict(plausible_verify_options=dict(probe_endpoint='maybe')), "'probe_endpoint' is of type str"),
    (dict(plausible_verify_options=dict(max_redirect=3)), 'plausible_verify_options.max_redirect. Supported parameters include'),
    (dict(plausible_verify_options=dict(headers='X-Bypass: 1')), "'headers' is of type str"),
    (dict(plausible_verify_options='probe'), "'plausible_verify_options' is of type str"),
])
def test_bad_shape_is_refused_naming_the_option(variables, expect):
    assert expect in errors(**variables)


def test_good_input_passes():
    assert errors(plausible_verify_url='https://example.com/', plausible_verify_options=dict(
        probe_endpoint=True, headers={'X-Bypass': 'secret'}, timeout=5)) == ''
