# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No secret in the output of a refused argument, on every module and every ansible-core of the matrix.

The cases are generated: every module under plugins/modules, every no_log option of its argument spec (nested
suboptions too) and every secret it names in options of type raw. Each case puts a canary where the secret goes,
breaks one other thing so that ansible-core refuses the arguments (a wrong type, a list element that is not a dict,
an unknown key, mutually exclusive or required-together options, a missing required option, the secret's own name
misspelt), and runs the module's main(): it must fail, send nothing, and show no 12 characters of the canary.
A module merged later is covered without a change here.
"""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible_collections.plausible.analytics.plugins import modules as modules_package

from ..fakes import run_module

CANARY = 'CANARY-no-log-7vQe2LxW9bNf4KzR1tYh6JmPa3DsUc8G'
PIECES = [CANARY[i:i + 12] for i in range(len(CANARY) - 11)]
RULES = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')
UNKNOWN = 'zz_unknown_option'


class Declared(Exception):
    """Raised by the stand-in AnsibleModule once it has seen what the module declares."""


def declared(name):
    """The argument spec, the rules and the raw secrets that module ``name`` gives AnsibleModule."""
    seen = {}

    def record(self, argument_spec, **kwargs):
        seen.update(kwargs, spec=argument_spec, raw_secrets=getattr(self, '_raw_secrets', None) or {})
        raise Declared()

    with mock.patch.object(basic.AnsibleModule, '__init__', record), pytest.raises(Declared):
        importlib.import_module(f'{modules_package.__name__}.{name}').main()
    return seen


MODULES = sorted(info.name for info in pkgutil.iter_modules(modules_package.__path__) if not info.name.startswith('_'))
DECLARED = dict((name, declared(name)) for name in MODULES)


def secret_paths(spec, raw, prefix=()):
    """Paths to every secret: no_log options of ``spec`` (suboptions too), and the keys ``raw`` names."""
    for name, option in (spec or {}).items():
        if option.get('no_log'):
            yield prefix + (name,)
        sub_raw = raw.get(name) if isinstance(raw.get(name), dict) else {}
        if option.get('options') or sub_raw:
            yield from secret_paths(option.get('options'), sub_raw, prefix + (name,))
    for name, sub in raw.items():
        if sub is True and name not in (spec or {}):
            yield prefix + (name,)
        elif isinstance(sub, dict) and name not in (spec or {}):
            yield from secret_paths(None, sub, prefix + (name,))


def is_list(option):
    return (option or {}).get('type') == 'list'


def sample(option):
    """A valid value of an option."""
    kind = option.get('type', 'str')
    if option.get('choices'):
        return [option['choices'][0]] if kind == 'list' else option['choices'][0]
    if option.get('options'):
        return [minimal(option['options'], option)] if kind == 'list' else minimal(option['options'], option)
    return dict(int=1, float=1.0, bool=False, list=[], dict={}, path='/tmp/canary-test').get(kind, 'canary-test.example')


def minimal(spec, rules):
    """Valid arguments of one level: its required options, and what its required_if, required_one_of and required_by
    ask for."""
    args = dict((name, sample(option)) for name, option in spec.items() if option.get('required') and 'default' not in option)
    for _round in range(3):
        for key, value, needed, *anyone in rules.get('required_if') or []:
            if args.get(key, spec[key].get('default')) == value and not any(name in args for name in needed):
                args.update((name, sample(spec[name])) for name in (needed[:1] if anyone and anyone[0] else needed))
        for group in rules.get('required_one_of') or []:
            if not any(name in args for name in group):
                args[group[0]] = sample(spec[group[0]])
        for key, needed in (rules.get('required_by') or {}).items():
            if key in args:
                args.update((name, sample(spec[name])) for name in ([needed] if isinstance(needed, str) else needed) if name not in args)
    return args


def secret_value(option):
    if (option or {}).get('type') == 'dict':
        return {'X-Canary': CANARY}
    return [CANARY] if is_list(option) else CANARY


def build(spec, rules, path):
    """Valid arguments with the canary at ``path``; a level without a spec (inside a raw option) is a dict."""
    args = minimal(spec, rules) if spec else {}
    option = (spec or {}).get(path[0])
    if len(path) == 1:
        args[path[0]] = secret_value(option)
    else:
        inner = build((option or {}).get('options'), option or {}, path[1:])
        args[path[0]] = [inner] if is_list(option) or (option or {}).get('elements') == 'raw' else inner
    return args


def wrong_types(option):
    """Values of the wrong type for an option (none for a plain string: anything converts to one)."""
    kind = option.get('type', 'str')
    if option.get('options'):  # (a dict with suboptions given [42] crashes ansible-core's validator: no refusal to test)
        return ['not-a-dict', [42]] if kind == 'list' else ['not-a-dict']
    if option.get('choices'):
        return [['not-a-choice']] if kind == 'list' else ['not-a-choice']
    return dict(int=['not-an-int'], float=['not-a-float'], bool=['not-a-bool'], dict=['not-a-dict']).get(kind, [])


def levels(args, spec, rules, path):
    """Each dict along ``path`` in ``args``, with its spec, its rules and the key of the path in it."""
    level, level_spec, level_rules = args, spec, rules
    for key in path:
        yield level, level_spec, level_rules, key
        option = (level_spec or {}).get(key)
        child = level[key]
        level = child[0] if isinstance(child, list) and child and isinstance(child[0], dict) else child
        level_spec, level_rules = (option or {}).get('options'), option or {}


def refusals(spec, rules, path):
    """(what breaks, arguments) pairs: the canary at ``path`` and one thing that ansible-core refuses."""
    base = build(spec, rules, path)
    yield 'valid', base
    for depth, (_level, level_spec, level_rules, key) in enumerate(levels(base, spec, rules, path)):
        where = '.'.join(path[:depth]) or 'top'

        def variant(change):
            args = copy.deepcopy(base)
            change(list(levels(args, spec, rules, path))[depth][0])
            return args

        if level_spec is None:
            continue  # inside a raw option: anything goes
        yield f'{where}: unknown option', variant(lambda level: level.update({UNKNOWN: 1}))
        if depth == len(path) - 1:
            yield f'{where}: {key} misspelt', variant(lambda level: level.update({key + 'x': level.pop(key)}))
            if level_spec[key].get('type') == 'dict':
                yield f'{where}: {key} not a dict', variant(lambda level: level.update({key: [CANARY]}))
        elif is_list(level_spec[key]) and level_spec[key].get('elements') == 'dict':
            for bad in (42, 'not-a-dict'):
                yield f'{where}: {key} with an element {bad!r}', variant(lambda level, bad=bad: level[key].append(bad))
        for name, option in level_spec.items():
            if name == key:
                continue
            for bad in wrong_types(option):
                yield f'{where}: {name}={bad!r}', variant(lambda level, name=name, bad=bad: level.update({name: bad}))
            if option.get('options'):
                inner = dict(minimal(option['options'], option), **{UNKNOWN: 1})
                yield f'{where}: {name} with an unknown option', variant(
                    lambda level, name=name, inner=inner: level.update({name: [inner] if is_list(option) else inner}))
            if option.get('required'):
                yield f'{where}: {name} missing', variant(lambda level, name=name: level.pop(name, None))
        for group in level_rules.get('mutually_exclusive') or []:
            yield f'{where}: {"|".join(group)} together', variant(
                lambda level, group=group: level.update((name, sample(level_spec[name])) for name in group))
        for group in level_rules.get('required_together') or []:
            if key not in group:
                yield f'{where}: {group[0]} without {group[1:]}', variant(
                    lambda level, group=group: level.update({group[0]: sample(level_spec[group[0]])}))


CASES = [(module, path, what, args) for module in MODULES for path in secret_paths(DECLARED[module]['spec'], DECLARED[module]['raw_secrets'])
         for what, args in refusals(DECLARED[module]['spec'], DECLARED[module], path)]


def validation_errors(module, args):
    """What ansible-core's own argument check says of ``args`` (it sends nothing and shows nothing)."""
    rules = DECLARED[module]
    validator = ModuleArgumentSpecValidator(copy.deepcopy(rules['spec']), *(rules.get(rule) for rule in RULES))
    return validator.validate(copy.deepcopy(args)).errors.errors


def test_every_module_and_secret_is_covered():
    """The discovery finds the secrets the collection is known to take (a broken discovery would test nothing)."""
    paths = dict((module, set(secret_paths(DECLARED[module]['spec'], DECLARED[module]['raw_secrets']))) for module in MODULES)
    assert len(MODULES) >= 7 and all(('api_key',) in found and ('plugin_token',) in found for found in paths.values())
    assert ('sites', 'shared_links', 'password') in paths['plausible_sites'] and ('sites', 'plugin_token') in paths['plausible_sites']
    assert ('password',) in paths['plausible_shared_link']
    assert len(CASES) > 100


@pytest.mark.parametrize('module, path, what, args', CASES, ids=[f'{m}-{".".join(p)}-{w}' for m, p, w, _a in CASES])
def test_a_refused_argument_shows_no_secret(capsys, module, path, what, args):
    assert CANARY in json.dumps(args)
    errors = validation_errors(module, args)
    if what == 'valid':  # the base of the other cases: only the one thing each breaks makes it refused
        assert not errors, errors
        return
    assert errors, f'{what}: ansible-core accepts these arguments, so the case tests nothing'
    result, sent = run_module(capsys, getattr(importlib.import_module(f'{modules_package.__name__}.{module}'), 'main'), args)
    shown = json.dumps(result)
    assert result.get('failed') is True and sent == [], result
    assert not [piece for piece in PIECES if piece in shown], shown[:2000]
