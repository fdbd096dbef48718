# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""plausible_verify's options and its run: the checks of ``_verify.py`` over the collection's one transport."""

from __future__ import annotations

import re

from ansible.module_utils.basic import missing_required_lib

from ._module import MaskingModule, plausible_argument_spec
from ._rules import InputError, normalize_domain
from ._transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, Transport, origin
from ._verify import Verification

TRACKER_SCRIPT_ID = r'^pa-[A-Za-z0-9_-]{21}$'
PAGE_ACCEPT = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8'


def verify_argument_spec():
    """The group's shared options as this module takes them (doc fragment ``_plausible.verify``), then its own."""
    spec = plausible_argument_spec()
    del spec['api_url']['aliases']  # url is the page here
    for name in ('timeout', 'validate_certs'):
        del spec[name]  # documented by the module: other default and meaning
    spec.update(
        url=dict(type='str', required=True),
        domain=dict(type='str', required=True),
        tracker_script_id=dict(type='str'),
        expected_script_src=dict(type='str'),
        timeout=dict(type='int', default=10),
        validate_certs=dict(type='bool', default=True),
        headers=dict(type='dict', default={}, no_log=True),
        max_redirects=dict(type='int', default=5),
        max_body_bytes=dict(type='int', default=5 * 1024 * 1024),
        require_head=dict(type='bool', default=False),
        probe_endpoint=dict(type='bool', default=False),
        cache_bust=dict(type='bool', default=True),
        fail_on_inconclusive=dict(type='bool', default=True),
    )
    return spec


def _check_input(params):
    """The rules the argument spec cannot state; returns the normalised domain."""
    domain = normalize_domain(params['domain'])
    if params['tracker_script_id'] and not re.match(TRACKER_SCRIPT_ID, params['tracker_script_id']):
        raise InputError('tracker_script_id: must be pa- and 21 characters of A-Z, a-z, 0-9, _ or - (got %r)'
                         % params['tracker_script_id'])
    for name, least in (('timeout', 1), ('max_redirects', 0), ('max_body_bytes', 1)):
        if params[name] < least:
            raise InputError('%s: must be at least %d (got %d)' % (name, least, params[name]))
    for name, value in params['headers'].items():
        if not isinstance(value, str) or '\n' in value or '\r' in value or not name.strip():
            raise InputError('headers: each header needs a name and a one-line string value (header %r)' % name)
    return domain


def run():
    module = MaskingModule(argument_spec=verify_argument_spec(), supports_check_mode=True)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    params = dict(module.params)
    try:
        params['domain'] = _check_input(params)
    except InputError as exc:
        module.fail_json(msg='Invalid input, nothing was sent: %s' % exc)
    secret_headers = dict(params['headers'])
    transport = Transport(params['api_url'], validate_certs=params['validate_certs'], timeout=params['timeout'],
                          retries=0, notify=module.warn)
    transport.add_secrets([value for value in secret_headers.values() if value])
    page_origin = origin(params['url'] or '')

    def fetch(url, method='GET', data=None, headers=None, follow=True):
        # The secret headers go only to the page's own origin (a bypass header is the site's, not the script host's).
        return transport.fetch(url, method=method, data=data, headers=dict({'Accept': PAGE_ACCEPT}, **(headers or {})),
                               secret_headers=secret_headers if origin(url) == page_origin else None,
                               max_bytes=params['max_body_bytes'], max_redirects=params['max_redirects'] if follow else None)

    result = Verification(params, fetch, transport.base_url).run()
    for warning in result.pop('warnings'):
        module.warn(transport.redact(warning))
    result = _redacted(result, transport)
    failed = result['status'] == 'fail' or (result['status'] == 'inconclusive' and params['fail_on_inconclusive'])
    if failed:
        detail = next(finding['detail'] for finding in result['findings'] if finding['result'] == 'fail')
        url = result['page']['requested_url'] if result['page'] else params['url']
        module.fail_json(msg='%s: %s: %s (%s). %s' % (result['reason'], url, result['message'], detail, result['recommendation']),
                         changed=False, **result)
    module.exit_json(changed=False, **result)


def _redacted(value, transport):
    """The result with every secret header value removed from every string in it."""
    if isinstance(value, dict):
        return dict((key, _redacted(item, transport)) for key, item in value.items())
    if isinstance(value, list):
        return [_redacted(item, transport) for item in value]
    if isinstance(value, str):
        return transport.redact(value)
    return value
