# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_verify through its main(), over the transport with scripted HTTP: the wiring the checks' own tests
(tests/unit/plugins/module_utils/test_verify.py) do not see. Redirects, size cap and network failures as the transport
reports them, the result and failure message, check mode, secret headers, the credentials it never sends, bad input."""

from __future__ import annotations

import re
import socket

import pytest
import requests
import yaml
from requests.structures import CaseInsensitiveDict

from ansible_collections.plausible.analytics.plugins.doc_fragments._plausible import ModuleDocFragment
from ansible_collections.plausible.analytics.plugins.module_utils._verify import REASONS
from ansible_collections.plausible.analytics.plugins.module_utils._verify_module import verify_argument_spec
from ansible_collections.plausible.analytics.plugins.modules import plausible_verify

from ..fakes import KEY, TOKEN, run_module
from ..module_utils.test_verify import API, BOOTSTRAP, SCRIPT, TRACKER_ID, v2_page, v2_script

PAGE = 'https://example.com/'
SECRET = 'bypass-7f3a9c1e5b2d4680'
EVENT = API + '/api/event'


class Streamed:
    """A streamed requests answer: status, case-insensitive headers, a body read in chunks; knows whether it was closed."""

    def __init__(self, status, body=b'', content_type='text/html; charset=utf-8', headers=None):
        self.status_code = status
        self.headers = CaseInsensitiveDict(dict({'Content-Type': content_type} if content_type else {}, **(headers or {})))
        self.body = body.encode() if isinstance(body, str) else body
        self.read = 0
        self.closed = False

    def iter_content(self, chunk_size):
        for start in range(0, len(self.body), chunk_size):
            self.read = start + chunk_size
            yield self.body[start:start + chunk_size]

    def close(self):
        self.closed = True


def site(routes):
    """An answer(method, url, **kwargs) for FakeSession: the route of (method, url) or url, else 404."""
    def answer(method, url, **kwargs):
        assert kwargs['allow_redirects'] is False and kwargs['stream'] is True
        route = routes.get((method, url), routes.get(url))
        if route is None:
            return Streamed(404, 'Not found', 'text/plain')
        return route() if callable(route) else route
    return answer


def good(routes=None, **by_url):
    good_routes = {PAGE: lambda: Streamed(200, v2_page()), SCRIPT: lambda: Streamed(200, v2_script(), 'application/javascript')}
    good_routes.update(routes or {}, **by_url)
    return good_routes


def warnings(result):
    """The warnings' texts: plain strings before ansible-core 2.19, structured since (and kept from earlier runs in
    the same process, so tests look for theirs)."""
    return [warning if isinstance(warning, str) else (warning.get('event') or warning)['msg']
            for warning in result.get('warnings', [])]


def run(capsys, args, routes, **kwargs):
    args = dict(dict(url=PAGE, domain='example.com', api_url=API), **args)
    result, sent = run_module(capsys, plausible_verify.main, args, site(routes), **kwargs)
    for request in sent:
        headers = ' '.join('%s: %s' % item for item in (request.get('headers') or {}).items())
        assert 'Authorization' not in (request.get('headers') or {}) and KEY not in headers and TOKEN not in headers
    return result, sent


def test_a_page_that_tracks_passes_unchanged_with_two_gets_and_no_credential_sent(capsys):
    result, sent = run(capsys, dict(tracker_script_id=TRACKER_ID, plugin_token=TOKEN), good())
    assert (result['changed'], result['status'], result['reason']) == (False, 'pass', 'ok')
    assert 'failed' not in result
    assert [(request['method'], request['url']) for request in sent] == [('GET', PAGE), ('GET', SCRIPT)]
    assert sent[0]['headers']['Accept'].startswith('text/html')
    assert result['page'] == dict(requested_url=PAGE, final_url=PAGE, status=200, redirects=[],
                                  content_type='text/html; charset=utf-8', bytes=len(v2_page().encode()), truncated=False)


@pytest.mark.parametrize('check_mode', [False, True])
def test_the_endpoint_probe_posts_an_empty_object_also_in_check_mode(capsys, check_mode):
    def probe():
        return Streamed(400, '{"errors":{"domain":["can\'t be blank"]}}', 'application/json')
    result, sent = run(capsys, dict(probe_endpoint=True), good({('POST', EVENT): probe}), check_mode=check_mode)
    assert (result['changed'], result['reason']) == (False, 'ok')
    assert (sent[-1]['method'], sent[-1]['url'], sent[-1]['data']) == ('POST', EVENT, b'{}')
    assert result['endpoint'] == dict(url=EVENT, probed=True, status=400, plausible_response={'errors': {'domain': ["can't be blank"]}})


def test_a_failure_fails_the_task_with_the_reason_key_first_and_the_url(capsys):
    result, _sent = run(capsys, {}, good(**{SCRIPT: lambda: Streamed(404, 'Not found', 'text/plain')}))
    assert result['failed'] is True and result['changed'] is False
    assert result['msg'].startswith('script_unreachable: %s: ' % PAGE)
    assert result['status'] == 'fail' and result['reason'] == 'script_unreachable'


def test_inconclusive_fails_unless_fail_on_inconclusive_is_false(capsys):
    page = '<html><head><script async src="https://www.googletagmanager.com/gtm.js?id=GTM-1"></script></head></html>'
    routes = {PAGE: lambda: Streamed(200, page), PAGE + '?plausible_verification=1000': lambda: Streamed(200, page)}
    result, _sent = run(capsys, {}, routes)
    assert result['failed'] is True and result['msg'].startswith('not_statically_verifiable: ')
    result, _sent = run(capsys, dict(fail_on_inconclusive=False), routes)
    assert 'failed' not in result and (result['status'], result['reason']) == ('inconclusive', 'not_statically_verifiable')


def test_warnings_start_with_their_reason_key(capsys):
    result, _sent = run(capsys, {}, good(**{PAGE: lambda: Streamed(200, v2_page(in_body=True))}))
    assert result['reason'] == 'ok'
    assert 'snippet_in_body: the snippet is in <body>; Plausible recommends <head>' in warnings(result)


# ---- the transport's fetch: redirects, size, failures ----------------------------------------------------------

def redirect(status, location):
    return lambda: Streamed(status, '', None, {'Location': location})


def test_redirects_are_followed_and_recorded_with_absolute_locations(capsys):
    routes = good(**{'http://example.com/': redirect(301, 'https://example.com/start'),
                     'https://example.com/start': redirect(302, '/')})
    result, sent = run(capsys, dict(url='http://example.com/'), routes)
    assert result['reason'] == 'ok'
    assert result['page']['redirects'] == [dict(status=301, location='https://example.com/start'), dict(status=302, location=PAGE)]
    assert result['page']['final_url'] == PAGE and len(sent) == 4


def test_too_many_redirects_one_more_than_max_redirects(capsys):
    routes = {PAGE: redirect(302, '/a'), 'https://example.com/a': redirect(302, '/b'), 'https://example.com/b': redirect(302, '/')}
    result, sent = run(capsys, dict(max_redirects=2), routes)
    assert result['reason'] == 'too_many_redirects' and result['msg'].startswith('too_many_redirects: ')
    assert len(sent) == 3
    result, _sent = run(capsys, dict(max_redirects=3), dict(routes, **{PAGE: redirect(302, '/a')}))
    assert result['reason'] == 'too_many_redirects'


def test_the_body_is_read_up_to_max_body_bytes_and_no_further(capsys):
    big = Streamed(200, '<html><head></head><body>' + 'x' * 500000 + '</body></html>')
    result, sent = run(capsys, dict(max_body_bytes=70000, cache_bust=False), {PAGE: lambda: big})
    assert result['reason'] == 'body_too_large'
    assert result['page']['bytes'] == 70000 and result['page']['truncated'] is True
    assert big.read <= 2 * 65536 and big.closed  # stopped after the chunk that crossed the cap
    assert len(sent) == 1


def test_a_snippet_within_max_body_bytes_passes_with_the_body_truncated_warning(capsys):
    page = v2_page(body='<p>' + 'x' * 200000 + '</p>')
    result, _sent = run(capsys, dict(max_body_bytes=100000), good(**{PAGE: lambda: Streamed(200, page)}))
    assert result['reason'] == 'ok'
    assert [warning for warning in warnings(result) if warning.startswith('body_truncated: ')]


@pytest.mark.parametrize('error, reason', [
    (requests.exceptions.ConnectionError(socket.gaierror(-2, 'Name or service not known')), 'dns_error'),
    (requests.exceptions.ConnectionError(ConnectionRefusedError(111, 'Connection refused')), 'connect_error'),
    (requests.exceptions.SSLError('certificate verify failed: self-signed certificate'), 'tls_error'),
    (requests.exceptions.ReadTimeout('read timed out'), 'timeout'),
    (requests.exceptions.ConnectTimeout('connect timed out'), 'timeout'),
    (requests.exceptions.InvalidURL('bad host'), 'invalid_url'),
])
def test_network_failures_map_to_their_reason(capsys, error, reason):
    def fail():
        raise error
    result, _sent = run(capsys, dict(url='https://shop.invalid/'), {'https://shop.invalid/': fail})
    assert (result['failed'], result['reason']) == (True, reason)
    assert result['msg'].startswith('%s: https://shop.invalid/: ' % reason)


def test_a_read_timeout_while_streaming_is_a_timeout(capsys):
    class Slow(Streamed):
        def iter_content(self, chunk_size):
            yield b'<html>'
            raise requests.exceptions.ConnectionError(TimeoutError('The read operation timed out'))
    result, _sent = run(capsys, {}, {PAGE: lambda: Slow(200)})
    assert result['reason'] == 'timeout'


# ---- secret headers ---------------------------------------------------------------------------------------------

def test_secret_headers_reach_only_the_pages_origin_and_never_any_output(capsys):
    # A proxy echoing the header into a redirect and the page: neither output nor warning may show it.
    routes = good(**{PAGE: redirect(302, '/?token=' + SECRET),
                     PAGE + '?token=' + SECRET: lambda: Streamed(200, v2_page(in_body=True, body=SECRET))})
    result, sent = run(capsys, dict(headers={'X-Bypass': SECRET}), routes)
    assert result['reason'] == 'ok'
    assert [request['headers'].get('X-Bypass') for request in sent] == [SECRET, SECRET, None]
    assert sent[2]['url'] == SCRIPT
    assert SECRET not in repr(result)


def test_a_secret_header_value_in_a_failure_message_is_redacted(capsys):
    routes = {PAGE: redirect(302, '/loop?k=' + SECRET), 'https://example.com/loop?k=' + SECRET: redirect(302, '/')}
    result, _sent = run(capsys, dict(headers={'X-Bypass': SECRET}, max_redirects=3), routes)
    assert result['reason'] == 'too_many_redirects'
    assert SECRET not in repr(result) and '********' in result['msg']


# ---- bad input: no request ------------------------------------------------------------------------------------

@pytest.mark.parametrize('args, expected', [
    (dict(tracker_script_id='pa-short'), 'tracker_script_id: must be pa- and 21 characters'),
    (dict(domain='exa&mple.com'), 'domain: must not contain URI reserved characters'),
    (dict(max_redirects=-1), 'max_redirects: must be at least 0'),
    (dict(max_body_bytes=0), 'max_body_bytes: must be at least 1'),
    (dict(timeout=0), 'timeout: must be at least 1'),
    (dict(headers={'X-A': 'one\r\nX-Injected: two'}), 'headers: each header needs a name and a one-line string value'),
])
def test_bad_input_fails_naming_the_option_and_sends_nothing(capsys, args, expected):
    result, sent = run(capsys, args, good())
    assert result['failed'] is True and expected in result['msg']
    assert sent == []


def test_invalid_url_is_a_reason_not_an_input_error_and_sends_nothing(capsys):
    result, sent = run(capsys, dict(url='ftp://example.com/'), good())
    assert result['reason'] == 'invalid_url' and result['msg'].startswith('invalid_url: ftp://example.com/: ')
    assert sent == []


# ---- the shared options ---------------------------------------------------------------------------------------

def test_the_verify_fragment_and_the_module_document_exactly_the_argument_spec():
    documented = dict(yaml.safe_load(ModuleDocFragment.VERIFY)['options'])
    documented.update(yaml.safe_load(plausible_verify.DOCUMENTATION)['options'])
    spec = verify_argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc['type'] == option['type'], name
        assert doc.get('default') == option.get('default'), name
        assert sorted(doc.get('aliases', [])) == sorted(option.get('aliases', [])), name
        assert doc.get('required', False) == option.get('required', False), name
    assert sorted(name for name, option in spec.items() if option.get('no_log')) == ['api_key', 'headers', 'plugin_token']
    assert 'aliases' not in spec['api_url']


def test_url_is_the_page_not_the_api_url(capsys):
    result, sent = run(capsys, dict(api_url='https://stats.example.org'), good())
    assert sent[0]['url'] == PAGE
    assert result['snippet']['proxied'] is True  # the script is on plausible.example, not on api_url's server
    assert BOOTSTRAP  # the page is the good v2 page


def test_the_documented_reasons_are_exactly_the_reason_keys():
    documented = ' '.join(yaml.safe_load(plausible_verify.RETURN)['reason']['description'])
    listed = set(re.findall(r'V\(([a-z_]+)\)', documented.split('The keys are stable', maxsplit=1)[0]))
    assert listed == set(REASONS)


def test_secret_headers_are_not_sent_after_a_redirect_to_another_origin(capsys):
    elsewhere = 'https://www.example.com/'
    routes = good(**{PAGE: redirect(301, elsewhere), elsewhere: lambda: Streamed(200, v2_page())})
    result, sent = run(capsys, dict(headers={'X-Bypass': SECRET}), routes)
    assert result['reason'] == 'ok' and result['page']['final_url'] == elsewhere
    assert [(request['url'], request['headers'].get('X-Bypass')) for request in sent] == [
        (PAGE, SECRET), (elsewhere, None), (SCRIPT, None)]


def test_a_redirect_to_a_malformed_port_is_a_reason_not_a_crash(capsys):
    # Untrusted input: the Location header is the page's to choose (requests itself refuses such a URL: invalid_url;
    # the fake session answers 404). What matters here: a reason, and the secret header stays behind.
    bad = 'https://example.com:99999999x/'
    result, sent = run(capsys, dict(headers={'X-Bypass': SECRET}, cache_bust=False), {PAGE: redirect(301, bad)})
    assert result['status'] == 'fail' and result['reason'] in ('invalid_url', 'http_status'), result
    assert result['page']['redirects'] == [dict(status=301, location=bad)]
    assert [(request['url'], request['headers'].get('X-Bypass')) for request in sent] == [(PAGE, SECRET), (bad, None)]
