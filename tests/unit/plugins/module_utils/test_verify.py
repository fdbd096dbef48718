# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plausible_verify's checks over a fake fetch: every reason key, produced by the page, headers or script that cause it.

The pages follow installation-verification.md: the v2 snippet (pa-<id>.js and the inline bootstrap), the legacy
data-domain script and its variants, proxies, Content-Security-Policy in headers and meta tags.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.plausible.analytics.plugins.module_utils._transport import Fetched, PlausibleError
from ansible_collections.plausible.analytics.plugins.module_utils._verify import CHECKS, REASONS, Verification

API = 'https://plausible.example'
PAGE = 'https://example.com/'
TRACKER_ID = 'pa-1iQepzD1J73BaHey2csUp'
OTHER_ID = 'pa-zzzzzzzzzzzzzzzzzzzzz'
SCRIPT = API + '/js/%s.js' % TRACKER_ID
BOOTSTRAP = ('window.plausible=window.plausible||function(){(plausible.q=plausible.q||[]).push(arguments)},'
             'plausible.init=plausible.init||function(i){plausible.o=i||{}};\n  plausible.init()')
HTML = 'text/html; charset=utf-8'
JS = 'application/javascript'


def v2_script(domain='example.com', endpoint=API + '/api/event'):
    return ('!function(){"use strict";var config={endpoint:"%s",domain:"%s",outboundLinks:!0};'
            'function t(e){fetch(config.endpoint,{method:"POST",body:JSON.stringify(e)})}}();' % (endpoint, domain))


def v2_page(src=SCRIPT, bootstrap=BOOTSTRAP, head='', body='', in_body=False, nonce=None):
    attr = ' nonce="%s"' % nonce if nonce else ''
    snippet = '<script async src="%s"%s></script>\n<script%s>\n  %s\n</script>' % (src, attr, attr, bootstrap) if bootstrap \
        else '<script async src="%s"%s></script>' % (src, attr)
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Shop</title>%s%s</head><body><h1>Hi</h1>%s%s</body></html>'
            % ('' if in_body else snippet, head, snippet if in_body else '', body))


def legacy_page(data_domain='example.com', src=API + '/js/script.js', extra=''):
    return ('<html><head><script defer data-domain="%s" src="%s"></script>%s</head><body>Hi</body></html>'
            % (data_domain, src, extra))


def answer(body, content_type=HTML, status=200, headers=None, url=None, truncated=False, redirects=()):
    headers = dict({'Content-Type': content_type} if content_type else {}, **(headers or {}))
    return dict(body=body.encode() if isinstance(body, str) else body, status=status, headers=headers, url=url,
                truncated=truncated, redirects=list(redirects))


class FakeFetch:
    """Answers by URL (a dict from ``answer()``, a PlausibleError to raise, or a callable) and records each request."""

    def __init__(self, routes):
        self.routes = routes
        self.sent = []

    def __call__(self, url, method='GET', data=None, headers=None, follow=True):
        self.sent.append(dict(url=url, method=method, data=data, follow=follow))
        route = self.routes.get((method, url), self.routes.get(url))
        if callable(route) and not isinstance(route, dict):
            route = route(url)
        if route is None:
            route = answer('<html><body>Not found</body></html>', status=404)
        if isinstance(route, Exception):
            raise route
        return Fetched(route['url'] or url, route['status'], route['headers'], route['body'], route['truncated'],
                       route['redirects'])


def params(**overrides):
    return dict(dict(url=PAGE, domain='example.com', tracker_script_id=None, expected_script_src=None,
                     max_body_bytes=5 * 1024 * 1024, require_head=False, probe_endpoint=False, cache_bust=True), **overrides)


def verify(routes, now=lambda: 1767225600, **overrides):
    fetch = FakeFetch(routes)
    result = Verification(params(**overrides), fetch, API, now=now).run()
    assert [finding['check'] for finding in result['findings']] == list(CHECKS)
    assert result['message'] and result['recommendation']
    failed = [finding for finding in result['findings'] if finding['result'] == 'fail']
    assert [finding['reason'] for finding in failed] == ([] if result['reason'] == 'ok' else [result['reason']])
    return result, fetch.sent


def good_routes(page=None, script=None, routes=None, **by_url):
    """The routes of a page that tracks, with ``page`` or ``script`` replaced and ``routes``/``by_url`` added."""
    good = {PAGE: answer(v2_page() if page is None else page), SCRIPT: answer(v2_script() if script is None else script, JS)}
    good.update(routes or {}, **by_url)
    return good


# ---- ok ----------------------------------------------------------------------------------------------------------

def test_ok_a_v2_page_that_tracks_passes_every_check_and_sends_no_event():
    result, sent = verify(good_routes(), tracker_script_id=TRACKER_ID)
    assert (result['status'], result['reason']) == ('pass', 'ok')
    assert [finding['result'] for finding in result['findings']] == ['pass'] * 12 + ['skip']
    assert result['snippet'] == dict(kind='v2', src=SCRIPT, resolved_src=SCRIPT, tracker_script_id=TRACKER_ID, data_domains=[],
                                     placement='head', count=1, proxied=False, bootstrap_present=True)
    assert result['script']['embedded_domain'] == 'example.com'
    assert result['endpoint'] == dict(url=API + '/api/event', probed=False, status=None, plausible_response=None)
    assert result['csp'] == dict(sources=[], script_allowed=True, inline_allowed=True, connect_allowed=True)
    assert [(request['method'], request['url']) for request in sent] == [('GET', PAGE), ('GET', SCRIPT)]
    assert result['warnings'] == []


def test_ok_a_legacy_variant_whose_data_domain_lists_the_site_with_www_passes():
    src = API + '/js/script.outbound-links.file-downloads.js'
    result, _sent = verify({PAGE: answer(legacy_page(' www.example.com , rollup.example.net', src)), src: answer('!function(){}()', JS)})
    assert result['reason'] == 'ok'
    assert result['snippet']['kind'] == 'legacy'
    assert result['snippet']['data_domains'] == ['example.com', 'rollup.example.net']
    assert result['csp']['inline_allowed'] is None
    assert result['endpoint']['url'] == API + '/api/event'


def test_ok_a_proxied_script_named_by_expected_script_src_with_a_relative_endpoint_probed():
    page = v2_page(src='/stats/js/tracker.js', bootstrap=BOOTSTRAP.replace('plausible.init()', 'plausible.init({endpoint: "/stats/api/event"})'))
    routes = {PAGE: answer(page), 'https://example.com/stats/js/tracker.js': answer(v2_script(), 'text/javascript'),
              ('POST', 'https://example.com/stats/api/event'): answer(
                  '{"errors":{"domain":["can\'t be blank"],"event_name":["can\'t be blank"],"url":["is required"]}}',
                  'application/json; charset=utf-8', status=400)}
    result, sent = verify(routes, expected_script_src='/stats/js/tracker.js', probe_endpoint=True)
    assert result['reason'] == 'ok'
    assert result['snippet']['proxied'] is True
    assert result['endpoint'] == dict(url='https://example.com/stats/api/event', probed=True, status=400,
                                      plausible_response={'errors': {'domain': ["can't be blank"], 'event_name': ["can't be blank"],
                                                                     'url': ['is required']}})
    probe = sent[-1]
    assert (probe['method'], probe['data'], probe['follow']) == ('POST', b'{}', False)


def test_ok_with_warnings_snippet_in_body_and_body_truncated():
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(in_body=True), truncated=True)}))
    assert result['reason'] == 'ok'
    assert [warning.split(':')[0] for warning in result['warnings']] == ['body_truncated', 'snippet_in_body']
    assert result['snippet']['placement'] == 'body'
    assert {finding['check']: finding['result'] for finding in result['findings']}['placement'] == 'warn'


# ---- the URL and the fetch --------------------------------------------------------------------------------------

@pytest.mark.parametrize('url', ['ftp://example.com/', 'example.com', 'https://', 'http://exa mple.com/', 'https://example.com:99999/', ''])
def test_invalid_url_fails_before_anything_is_fetched(url):
    result, sent = verify({}, url=url)
    assert (result['status'], result['reason']) == ('fail', 'invalid_url')
    assert sent == []
    assert result['page'] is None


@pytest.mark.parametrize('kind', ['dns_error', 'connect_error', 'tls_error', 'timeout', 'too_many_redirects'])
def test_each_kind_of_fetch_failure_is_its_own_reason(kind):
    result, sent = verify({PAGE: PlausibleError('GET %s failed: %s' % (PAGE, kind), kind=kind)})
    assert (result['status'], result['reason']) == ('fail', kind)
    assert result['page']['requested_url'] == PAGE and result['page']['final_url'] is None
    assert len(sent) == 1


def test_a_fragment_is_dropped_and_the_query_kept():
    result, sent = verify(good_routes(**{'https://example.com/?a=1': answer(v2_page())}), url='https://example.com/?a=1#top')
    assert result['reason'] == 'ok' and sent[0]['url'] == 'https://example.com/?a=1'


def test_the_redirects_and_final_url_are_reported():
    redirects = [dict(status=301, location='https://www.example.com/')]
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(), url='https://www.example.com/', redirects=redirects)}))
    assert result['page']['final_url'] == 'https://www.example.com/' and result['page']['redirects'] == redirects


@pytest.mark.parametrize('status', [401, 403, 404, 503])
def test_http_status_for_a_non_2xx_page(status):
    result, _sent = verify({PAGE: answer('<html>Attention Required! | Cloudflare</html>', status=status)})
    assert result['reason'] == 'http_status'
    assert ('unexpected status code %d' % status) in result['recommendation']


@pytest.mark.parametrize('content_type', ['application/json', 'image/png', None])
def test_not_html_for_json_an_image_or_no_content_type(content_type):
    result, _sent = verify({PAGE: answer('{"a": 1}', content_type)})
    assert result['reason'] == 'not_html'


def test_xhtml_counts_as_html():
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(), 'application/xhtml+xml')}))
    assert result['reason'] == 'ok'


def test_body_too_large_when_the_part_read_holds_no_snippet():
    result, sent = verify({PAGE: answer('<html><head></head><body>' + 'x' * 1000, truncated=True)}, max_body_bytes=1000)
    assert result['reason'] == 'body_too_large'
    assert len(sent) == 1  # no cache-busting refetch for a page that was not read whole


# ---- the snippet ------------------------------------------------------------------------------------------------

def test_snippet_not_found_after_the_cache_busting_refetch():
    result, sent = verify(good_routes(page='<html><head><title>Shop</title></head><body>Hi</body></html>',
                                      **{PAGE + '?plausible_verification=1767225600': answer('<html><body>still nothing</body></html>')}))
    assert result['reason'] == 'snippet_not_found'
    assert [request['url'] for request in sent] == [PAGE, PAGE + '?plausible_verification=1767225600']
    assert result['page']['cache_bust_url'] == PAGE + '?plausible_verification=1767225600'


def test_snippet_not_found_without_refetch_when_cache_bust_is_off():
    result, sent = verify(good_routes(page='<html><body>Hi</body></html>'), cache_bust=False)
    assert result['reason'] == 'snippet_not_found' and len(sent) == 1


def test_a_script_of_another_analytics_or_a_data_domain_script_without_src_is_no_snippet():
    page = ('<html><head><script src="https://cdn.example.net/js/app.js"></script><script data-domain="example.com">x()</script>'
            '</head></html>')
    result, _sent = verify({PAGE: answer(page)}, cache_bust=False)
    assert result['reason'] == 'snippet_not_found'


def test_only_after_cache_bust_when_the_refetch_has_the_snippet():
    busted = 'https://example.com/?plausible_verification=1767225600'
    result, _sent = verify(good_routes(page='<html><body>old copy</body></html>', **{busted: answer(v2_page())}))
    assert (result['status'], result['reason']) == ('fail', 'only_after_cache_bust')
    assert "cache" in result['message']


@pytest.mark.parametrize('page', [
    '<html><head><script>(function(w,d,s,l,i){j.src="https://www.googletagmanager.com/gtm.js?id="+i})(window,document,"script","dataLayer","GTM-X");'
    '</script></head><body></body></html>',
    '<html><head><script async src="https://www.googletagmanager.com/gtm.js?id=GTM-X"></script></head></html>',
    '<html><head><script type="text/plain" data-cookieconsent="statistics" async src="%s"></script></head></html>' % SCRIPT,
])
def test_not_statically_verifiable_for_a_tag_manager_or_a_consent_held_script(page):
    result, _sent = verify({PAGE: answer(page)})
    assert (result['status'], result['reason']) == ('inconclusive', 'not_statically_verifiable')


def test_multiple_snippets_v2_and_legacy_counted_together():
    page = v2_page(head='<script defer data-domain="example.com" src="%s/js/script.js"></script>' % API)
    result, _sent = verify(good_routes(page=page))
    assert result['reason'] == 'multiple_snippets'
    assert result['snippet']['count'] == 2


def test_a_legacy_script_beside_its_own_manual_variant_is_one_installation_with_a_warning():
    page = legacy_page(extra='<script defer data-domain="example.com" src="%s/js/script.manual.js"></script>' % API)
    result, _sent = verify({PAGE: answer(page), API + '/js/script.js': answer('!function(){}()', JS)})
    assert result['reason'] == 'ok' and result['snippet']['count'] == 1
    assert [warning.split(':')[0] for warning in result['warnings']] == ['multiple_snippets']


def test_tracker_id_mismatch_for_another_sites_script():
    other = API + '/js/%s.js' % OTHER_ID
    result, sent = verify(good_routes(page=v2_page(src=other)), tracker_script_id=TRACKER_ID)
    assert result['reason'] == 'tracker_id_mismatch'
    assert OTHER_ID in result['findings'][CHECKS.index('site')]['detail']
    assert len(sent) == 1


@pytest.mark.parametrize('data_domain', ['example.org', 'Example.com', 'shop.example.com,  blog.example.com', ''])
def test_domain_mismatch_compares_data_domain_as_the_server_does(data_domain):
    result, _sent = verify({PAGE: answer(legacy_page(data_domain))})
    assert result['reason'] == 'domain_mismatch'


def test_bootstrap_missing_for_a_v2_script_without_the_inline_init():
    result, _sent = verify(good_routes(page=v2_page(bootstrap=None)))
    assert result['reason'] == 'bootstrap_missing'
    assert result['snippet']['bootstrap_present'] is False


def test_snippet_in_body_fails_with_require_head():
    result, _sent = verify(good_routes(page=v2_page(in_body=True)), require_head=True)
    assert result['reason'] == 'snippet_in_body'


def test_a_page_without_head_element_puts_a_late_script_in_the_body():
    page = '<p>intro</p><script async src="%s"></script><script>%s</script>' % (SCRIPT, BOOTSTRAP)
    result, _sent = verify(good_routes(page=page), require_head=True)
    assert result['reason'] == 'snippet_in_body'


def test_a_tracking_pixel_in_noscript_does_not_end_the_head():
    pixel = '<noscript><img height="1" width="1" src="https://www.facebook.com/tr?id=1&ev=PageView"></noscript>'
    page = '<html><head>%s<script async src="%s"></script><script>%s</script></head><body></body></html>' % (pixel, SCRIPT, BOOTSTRAP)
    result, _sent = verify(good_routes(page=page), require_head=True)
    assert result['reason'] == 'ok' and result['snippet']['placement'] == 'head'


# ---- the script -------------------------------------------------------------------------------------------------

def test_script_unreachable_for_a_404_from_a_wrong_path():
    result, _sent = verify(good_routes(**{SCRIPT: answer('Not found', 'text/plain', status=404)}))
    assert result['reason'] == 'script_unreachable'
    assert result['script']['status'] == 404


def test_script_unreachable_when_the_script_host_cannot_be_reached():
    result, _sent = verify(good_routes(**{SCRIPT: PlausibleError('GET %s failed: refused' % SCRIPT, kind='connect_error')}))
    assert result['reason'] == 'script_unreachable'


def test_script_not_plausible_for_an_spa_html_fallback():
    result, _sent = verify(good_routes(script='<!DOCTYPE html><html><body><div id="app"></div></body></html>',
                                       **{SCRIPT: answer('<!DOCTYPE html><div id="app"></div>')}))
    assert result['reason'] == 'script_not_plausible'


def test_script_not_plausible_for_a_v2_script_without_embedded_domain():
    result, _sent = verify(good_routes(script='console.log("hello")'))
    assert result['reason'] == 'script_not_plausible'


def test_script_domain_mismatch_when_the_script_sends_for_another_site():
    result, _sent = verify(good_routes(script=v2_script(domain='other.example')))
    assert result['reason'] == 'script_domain_mismatch'
    assert result['script']['embedded_domain'] == 'other.example'


# ---- Content-Security-Policy ------------------------------------------------------------------------------------

def csp(value, report_only=False):
    return {'Content-Security-Policy-Report-Only' if report_only else 'Content-Security-Policy': value}


def test_csp_script_blocked_by_a_header_without_the_script_origin():
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(), headers=csp("default-src 'self'; script-src 'self' 'unsafe-inline'"))}))
    assert result['reason'] == 'csp_script_blocked'
    assert result['csp']['sources'] == ['header'] and result['csp']['script_allowed'] is False


def test_csp_script_blocked_by_a_meta_policy():
    meta = '<meta http-equiv="Content-Security-Policy" content="script-src https://cdn.example.net \'unsafe-inline\'">'
    result, _sent = verify(good_routes(page=v2_page(head=meta)))
    assert result['reason'] == 'csp_script_blocked' and result['csp']['sources'] == ['meta']


def test_csp_inline_blocked_by_a_strict_policy_without_unsafe_inline():
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(), headers=csp("script-src 'self' %s; connect-src %s" % (API, API)))}))
    assert result['reason'] == 'csp_inline_blocked'
    assert (result['csp']['script_allowed'], result['csp']['inline_allowed']) == (True, False)


def test_csp_inline_blocked_when_a_nonce_in_the_list_neutralises_unsafe_inline():
    policy = "script-src %s 'unsafe-inline' 'nonce-abc123'" % API
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(), headers=csp(policy))}))
    assert result['reason'] == 'csp_inline_blocked'


def test_the_inline_init_passes_with_its_nonce_or_its_hash():
    policy = "script-src %s 'nonce-r4nd0m'; connect-src %s" % (API, API)
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(nonce='r4nd0m'), headers=csp(policy))}))
    assert result['reason'] == 'ok'
    inline = '\n  %s\n' % BOOTSTRAP
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    policy = "default-src 'self'; script-src %s 'sha256-%s'; connect-src %s" % (API, digest, API)
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(), headers=csp(policy))}))
    assert result['reason'] == 'ok' and result['csp']['inline_allowed'] is True


def test_csp_connect_blocked_when_connect_src_lacks_the_endpoint():
    policy = "script-src 'self' %s 'unsafe-inline'; connect-src 'self'" % API
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(), headers=csp(policy))}))
    assert result['reason'] == 'csp_connect_blocked'
    assert result['csp'] == dict(sources=['header'], script_allowed=True, inline_allowed=True, connect_allowed=False)


def test_csp_connect_blocked_through_default_src_for_a_legacy_snippet():
    policy = "default-src 'self'; script-src 'self' %s" % API
    result, _sent = verify({PAGE: answer(legacy_page(), headers=csp(policy)), API + '/js/script.js': answer('!function(){}()', JS)})
    assert result['reason'] == 'csp_connect_blocked'


def test_a_report_only_policy_never_blocks():
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(), headers=csp("default-src 'none'", report_only=True))}))
    assert result['reason'] == 'ok' and result['csp']['sources'] == []


def test_a_wildcard_host_source_allows_the_script_and_the_endpoint():
    policy = "script-src 'unsafe-inline' https://*.example; connect-src https:"
    result, _sent = verify(good_routes(**{PAGE: answer(v2_page(), headers=csp(policy))}))
    assert result['reason'] == 'ok'


# ---- the endpoint -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('probe', [
    answer("<html><body>Oops! There's nothing here</body></html>", status=404),
    answer('ok', 'text/plain', status=202),
    answer('{"error": "bad"}', 'application/json', status=400),
    answer('not json', 'application/json', status=400),
    PlausibleError('POST failed', kind='connect_error'),
])
def test_endpoint_unreachable_unless_the_probe_gets_plausibles_400(probe):
    result, sent = verify(good_routes(routes={('POST', API + '/api/event'): probe}), probe_endpoint=True)
    assert result['reason'] == 'endpoint_unreachable'
    assert result['endpoint']['probed'] is True
    assert sent[-1]['method'] == 'POST' and sent[-1]['data'] == b'{}'


def test_the_endpoint_is_data_api_for_a_legacy_snippet_resolved_against_the_page():
    page = '<html><head><script defer data-domain="example.com" data-api="/x/event" src="/x/js/script.js"></script></head></html>'
    routes = {PAGE: answer(page), 'https://example.com/x/js/script.js': answer('!function(){}()', JS),
              ('POST', 'https://example.com/x/event'): answer('{"errors": {"request": ["x"]}}', 'application/json', status=400)}
    result, _sent = verify(routes, probe_endpoint=True)
    assert result['reason'] == 'ok' and result['endpoint']['url'] == 'https://example.com/x/event'


def test_the_endpoint_embedded_in_the_script_is_used_without_an_init_option():
    routes = good_routes(script=v2_script(endpoint='https://events.example.com/api/event'))
    result, _sent = verify(routes)
    assert result['endpoint']['url'] == 'https://events.example.com/api/event'
    assert result['snippet']['proxied'] is True


# ---- untrusted input ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('body', [
    bytes(range(256)) * 64,
    b'<html><head><script src="' + b'\xff\xfe' * 500 + b'"></script><!DOCTYPE x [<!ENTITY a "b">]><![CDATA[x',
    b'<' * 10000 + b'<script' * 1000,
    b'<html><head><script async src="https://[::1/js/pa-1iQepzD1J73BaHey2csUp.js"></script></head></html>',
    b'<html><head><meta http-equiv="Content-Security-Policy" content=";;,,,script-src"><script>' + b'plausible.init(' * 10000,
    '<html><head><title>\u00fcmlaut \U0001f600</title><script>//\u2028</script></head></html>'.encode('utf-16'),
])
def test_garbage_or_binary_bodies_give_a_reason_and_never_raise(body):
    result, _sent = verify({PAGE: answer(body)}, cache_bust=False)
    assert result['reason'] in REASONS and result['reason'] != 'ok'


def test_every_reason_has_a_message_and_a_recommendation_without_a_final_period():
    for message, recommendation in REASONS.values():
        assert message and not message.endswith('.') and recommendation and not recommendation.endswith('.')
