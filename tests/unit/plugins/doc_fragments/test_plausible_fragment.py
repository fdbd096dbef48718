# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared doc fragment documents exactly the shared argument spec."""

from __future__ import annotations

import yaml

from ansible_collections.plausible.analytics.plugins.doc_fragments._plausible import ModuleDocFragment
from ansible_collections.plausible.analytics.plugins.module_utils._module import plausible_argument_spec

DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
SPEC = plausible_argument_spec()


def test_same_option_names():
    assert sorted(DOCUMENTED) == sorted(SPEC)


def test_same_types_defaults_aliases_and_required():
    for name, spec in SPEC.items():
        doc = DOCUMENTED[name]
        assert doc['type'] == spec['type'], name
        assert doc.get('default') == spec.get('default'), name
        assert sorted(doc.get('aliases', [])) == sorted(spec.get('aliases', [])), name
        assert doc.get('required', False) == spec.get('required', False), name


def test_environment_fallbacks_are_documented_in_order():
    for name, spec in SPEC.items():
        if 'fallback' not in spec:
            continue
        variables = spec['fallback'][1]
        text = ' '.join(DOCUMENTED[name]['description'])
        positions = [text.index('E(%s)' % variable) for variable in variables]
        assert positions == sorted(positions), name


def test_the_key_and_the_token_are_secret_and_nothing_else_is():
    assert sorted(name for name, spec in SPEC.items() if spec.get('no_log')) == ['api_key', 'plugin_token']


def test_action_group_names_the_runtime_group():
    attributes = yaml.safe_load(ModuleDocFragment.ACTIONGROUP)['attributes']
    assert attributes['action_group']['membership'] == ['plausible.analytics.plausible']
