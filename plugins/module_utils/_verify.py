# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Whether a live page really tracks for a site, read without a browser: plausible_verify's checks.

Everything here works on what a ``fetch`` callable returns (``Transport.fetch`` in a module run, a fake in the unit
tests), so each check is a plain function of a page, its headers and its script. Nothing fetched is ever executed.
How Plausible's own verifiers decide, and where the messages come from: ``installation-verification.md`` of the
design notes; the reason keys are stable.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urljoin, urlsplit, urlunsplit

from ._csp import connect_allowed, inline_allowed, parse_policies, script_allowed
from ._html import decode
from ._snippet import Reading, header, media_type, resolve, strip_query, with_query
from ._transport import FETCH_FAILURES, PlausibleError, origin

CHECKS = ('url', 'fetch', 'status', 'content_type', 'body_size', 'snippet', 'count', 'site', 'bootstrap', 'placement',
          'script', 'csp', 'endpoint')
INCONCLUSIVE = ('not_statically_verifiable',)
HTML_TYPES = ('text/html', 'application/xhtml+xml')
EMBEDDED = r'(?:^|[{,\s])%s\s*:\s*"((?:[^"\\]|\\.)*)"'
INIT_ENDPOINT = re.compile(r'\bendpoint\s*:\s*(["\'])(.*?)\1')

DOCS = 'https://plausible.io/docs/troubleshoot-integration'
MANUAL_CHECK = ' Manual check: %s#how-to-manually-check-your-integration' % DOCS
# reason -> (message, recommendation), in the words of Plausible's dashboard where it has some; {url} is the page.
REASONS = {
    'ok': ('Plausible is installed on {url} for this site', 'Nothing to do'),
    'invalid_url': ("We couldn't find your website at {url}",
                    'Please check that the URL is an http:// or https:// address with a host name'),
    'dns_error': ("We couldn't find your website at {url}",
                  "Please check that the domain you entered is correct and reachable publicly. If it's intentionally "
                  "private, you'll need to verify that Plausible works manually"),
    'connect_error': ("We couldn't verify your website at {url}",
                      'Accessing the website resulted in a network error. Please verify your installation manually'),
    'tls_error': ("We couldn't verify your website at {url}",
                  "The site's TLS certificate could not be verified (self-signed, wrong name or expired). Browsers "
                  "refuse it too: please fix the certificate, or set validate_certs to false for a test server"),
    'timeout': ("We couldn't verify your website at {url}",
                'Accessing the website took longer than the timeout. Please check that the site answers quickly, or '
                'raise timeout'),
    'too_many_redirects': ("We couldn't verify your website at {url}",
                           'The page redirects more often than max_redirects allows. Please check for a redirect loop, '
                           'or give the final URL'),
    'http_status': ("We couldn't verify your website at {url}",
                    'Accessing the website resulted in an unexpected status code {status}. Please check for anything '
                    'that might be blocking us from reaching your site, like a firewall, authentication requirements, '
                    'or CDN rules. A bypass header can go in headers'),
    'not_html': ("We couldn't verify your website at {url}",
                 'The address does not answer with an HTML page. Please give the address of a page of the site'),
    'body_too_large': ("We couldn't find the Plausible snippet",
                       'The page is larger than max_body_bytes and its first part holds no snippet. Please place the '
                       'snippet in the head of your site, or raise max_body_bytes'),
    'snippet_not_found': ("We couldn't detect Plausible on your site",
                          "Please make sure you've copied the snippet to the head of your site, or verify your "
                          "installation manually"),
    'not_statically_verifiable': ("We couldn't verify your website at {url} without a browser",
                                  'The page loads a tag manager or holds scripts back until consent, so the snippet '
                                  'is not in its HTML. Please verify your installation manually'),
    'multiple_snippets': ("We've found multiple Plausible snippets", 'Please ensure that only one snippet is used'),
    'tracker_id_mismatch': ('Plausible test event is not for this site',
                            'The snippet loads the script of another site. Please check that the snippet on your site '
                            'matches the installation instructions exactly, or verify your installation manually'),
    'domain_mismatch': ('Your data-domain is different', 'Please ensure that the data-domain matches {domain} exactly'),
    'bootstrap_missing': ("We couldn't detect Plausible on your site",
                          'The script tag is there but the inline plausible.init() part of the snippet is not, so the '
                          'script never starts. Please copy the whole snippet'),
    'snippet_in_body': ('Plausible snippet is placed in the body',
                        'Please relocate the snippet to the header of your site'),
    'script_unreachable': ('We encountered an error with your Plausible proxy',
                           'The tracking script does not load. Please check the script path and, for a proxy, that it '
                           'forwards the script route'),
    'script_not_plausible': ('We encountered an error with your Plausible proxy',
                             'The script URL answers with something other than the Plausible script. Please check the '
                             'script path and, for a proxy, that it forwards the script route'),
    'script_domain_mismatch': ('Plausible test event is not for this site',
                               'Please check that the snippet on your site matches the installation instructions '
                               'exactly, or verify your installation manually'),
    'csp_script_blocked': ("We encountered an issue with your site's Content Security Policy (CSP)",
                           "Please add the script's origin to script-src in your site's CSP"),
    'csp_inline_blocked': ("We encountered an issue with your site's Content Security Policy (CSP)",
                           "Please allow the inline plausible.init() snippet in your site's CSP with a nonce or a hash"),
    'csp_connect_blocked': ("We encountered an issue with your site's Content Security Policy (CSP)",
                            "Please add the event endpoint's origin to connect-src in your site's CSP"),
    'endpoint_unreachable': ('We got an unexpected response from the proxy you are using for Plausible',
                             "Please check that you've configured the proxied /event route correctly"),
    'only_after_cache_bust': ("We detected an issue with your site's cache",
                              'Please clear the cache for your site to ensure that your visitors will load the latest '
                              'version of your site that has Plausible correctly installed'),
}


class _Stop(Exception):
    def __init__(self, reason, detail):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class Verification:
    """One run of the checks. ``fetch(url, method='GET', data=None, headers=None, follow=True)`` returns a
    ``Fetched`` or raises a PlausibleError whose ``kind`` is one of FETCH_FAILURES."""

    def __init__(self, params, fetch, api_url, now=time.time):
        self.params = params
        self.fetch = fetch
        self.api_origin = origin(api_url) if api_url else None
        self.now = now
        self.domain = params['domain']
        self.findings = {}
        self.warnings = []
        self.result = dict(page=None, snippet=None, csp=None, script=None, endpoint=None)

    # -- bookkeeping -------------------------------------------------------------------------------------------

    def _find(self, check, result, detail, reason=None):
        self.findings[check] = dict(check=check, result=result, reason=reason, detail=detail)

    def _pass(self, check, detail):
        self._find(check, 'pass', detail)

    def _warn(self, check, reason, detail):
        self._find(check, 'warn', detail, reason)
        self.warnings.append('%s: %s' % (reason, detail))

    def _fail(self, check, reason, detail):
        self._find(check, 'fail', detail, reason)
        raise _Stop(reason, detail)

    def run(self):
        reason = 'ok'
        try:
            self._checks()
        except _Stop as stop:
            reason = stop.reason
        findings = [self.findings.get(check) or dict(check=check, result='skip', reason=None,
                                                     detail='not run: an earlier check failed')
                    for check in CHECKS]
        message, recommendation = REASONS[reason]
        page = self.result['page'] or {}
        values = dict(url=page.get('final_url') or self.params['url'], domain=self.domain, status=page.get('status'))
        status = 'pass' if reason == 'ok' else 'inconclusive' if reason in INCONCLUSIVE else 'fail'
        return dict(self.result, status=status, reason=reason, message=message.format(**values),
                    recommendation=recommendation.format(**values) + ('' if reason == 'ok' else '.' + MANUAL_CHECK),
                    findings=findings, warnings=self.warnings)

    # -- the checks, in order ----------------------------------------------------------------------------------

    def _checks(self):
        url = self._check_url()
        fetched = self._check_fetch(url)
        self._check_page(fetched)
        reading = Reading(fetched, self._expected_src(fetched.url))
        self._check_body_size(fetched, reading)
        self._check_snippet(url, reading)
        snippet = self._check_count(reading)
        self._check_site(snippet)
        self._check_bootstrap(snippet, reading)
        self._check_placement(snippet)
        script = self._check_script(snippet)
        endpoint = self._endpoint_url(fetched, snippet, reading, script)
        self._check_csp(fetched, reading, snippet, endpoint)
        self._check_endpoint(endpoint)

    def _check_url(self):
        raw = (self.params['url'] or '').strip()
        try:
            parts = urlsplit(raw)
            valid = parts.scheme.lower() in ('http', 'https') and bool(parts.hostname)
            parts.port  # pylint: disable=pointless-statement  # raises ValueError on a bad port
        except ValueError:
            valid = False
        if not valid or any(char.isspace() for char in raw):
            self._fail('url', 'invalid_url', 'url must be an http:// or https:// URL with a host name (got %r)' % raw)
        url = urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or '/', parts.query, ''))
        self._pass('url', url)
        return url

    def _check_fetch(self, url):
        try:
            fetched = self.fetch(url)
        except PlausibleError as exc:
            if exc.kind not in FETCH_FAILURES:
                raise
            self.result['page'] = dict(requested_url=url, final_url=None, status=None, redirects=[], content_type=None,
                                       bytes=0, truncated=False)
            self._fail('fetch', exc.kind, exc.message)
        content_type = header(fetched.headers, 'Content-Type')
        self.result['page'] = dict(requested_url=url, final_url=fetched.url, status=fetched.status,
                                   redirects=fetched.redirects, content_type=content_type or None,
                                   bytes=len(fetched.body), truncated=fetched.truncated)
        after = ' after %d redirect(s)' % len(fetched.redirects) if fetched.redirects else ''
        self._pass('fetch', 'fetched %s%s' % (fetched.url, after))
        return fetched

    def _check_page(self, fetched):
        if not 200 <= fetched.status < 300:
            self._fail('status', 'http_status', '%s answered HTTP %d' % (fetched.url, fetched.status))
        self._pass('status', 'HTTP %d' % fetched.status)
        content_type = header(fetched.headers, 'Content-Type')
        if media_type(content_type) not in HTML_TYPES:
            self._fail('content_type', 'not_html', '%s is %s, not HTML' % (fetched.url, content_type or 'without a content type'))
        self._pass('content_type', content_type)

    def _expected_src(self, page_url):
        expected = self.params.get('expected_script_src')
        resolved = resolve(page_url, expected) if expected else None
        return strip_query(resolved) if resolved else None

    def _check_body_size(self, fetched, reading):
        limit = self.params['max_body_bytes']
        if not fetched.truncated:
            self._pass('body_size', '%d bytes' % len(fetched.body))
        elif reading.snippets:
            self._warn('body_size', 'body_truncated', 'the page is larger than max_body_bytes (%d); only its first part '
                                                      'was read, and it holds the snippet' % limit)
        else:
            self._fail('body_size', 'body_too_large', 'the page is larger than max_body_bytes (%d) and its first %d bytes '
                                                      'hold no snippet' % (limit, limit))

    def _check_snippet(self, url, reading):
        if reading.snippets:
            self._pass('snippet', ', '.join('%s %s' % (snippet.kind, snippet.resolved_src) for snippet in reading.snippets))
            return
        busted = self._cache_bust(url)
        if busted is not None and busted.snippets:
            self._fail('snippet', 'only_after_cache_bust', 'the page has no snippet, but %s has one: a cache serves an '
                                                           'old copy' % self.result['page']['cache_bust_url'])
        if reading.deferred:
            self._fail('snippet', 'not_statically_verifiable', 'no snippet in the HTML, but %s' % '; '.join(reading.deferred))
        self._fail('snippet', 'snippet_not_found', 'no Plausible script (pa-….js, the legacy script with data-domain%s) '
                                                   'in the page%s' % (
                                                       ', or expected_script_src' if self.params.get('expected_script_src') else '',
                                                       ', nor after the cache-busting refetch' if busted is not None else ''))

    def _cache_bust(self, url):
        if not self.params['cache_bust']:
            return None
        busted_url = with_query(url, 'plausible_verification', int(self.now()))
        self.result['page']['cache_bust_url'] = busted_url
        try:
            fetched = self.fetch(busted_url)
        except PlausibleError as exc:
            if exc.kind not in FETCH_FAILURES:
                raise
            return None
        if not 200 <= fetched.status < 300 or media_type(header(fetched.headers, 'Content-Type')) not in HTML_TYPES:
            return None
        return Reading(fetched, self._expected_src(fetched.url))

    def _check_count(self, reading):
        installations, merged = reading.installations()
        first = installations[0]
        self.result['snippet'] = dict(
            kind=first.kind, src=first.script.src, resolved_src=first.resolved_src, tracker_script_id=first.tracker_script_id,
            data_domains=first.data_domains, placement=first.script.placement, count=len(installations),
            proxied=self.api_origin is not None and origin(first.resolved_src) != self.api_origin,
            bootstrap_present=reading.init is not None)
        if len(installations) > 1:
            self._fail('count', 'multiple_snippets', '%d snippets: %s' % (
                len(installations), ', '.join(snippet.resolved_src for snippet in installations)))
        if merged:
            self._warn('count', 'multiple_snippets', 'the legacy script and its own manual variant are both on the page; '
                                                     'they count as one installation, but one of them is enough')
        else:
            self._pass('count', 'one snippet')
        return first

    def _check_site(self, snippet):
        wanted = self.params.get('tracker_script_id')
        if snippet.kind == 'v2' and wanted and snippet.tracker_script_id and snippet.tracker_script_id != wanted:
            self._fail('site', 'tracker_id_mismatch', 'the page loads %s, the script of another site; %s is expected'
                       % (snippet.tracker_script_id, wanted))
        if snippet.kind == 'legacy' and self.domain not in snippet.data_domains:
            self._fail('site', 'domain_mismatch', 'data-domain=%r counts for %s, not for %s' % (
                snippet.script.attrs.get('data-domain'), ', '.join(snippet.data_domains) or 'no site', self.domain))
        self._pass('site', 'tracker id %s' % snippet.tracker_script_id if snippet.kind == 'v2' and snippet.tracker_script_id
                   else 'data-domain %s' % ', '.join(snippet.data_domains) if snippet.kind == 'legacy'
                   else 'no tracker id in the script URL; the script itself is checked')

    def _check_bootstrap(self, snippet, reading):
        if snippet.kind != 'v2':
            self._find('bootstrap', 'skip', 'the legacy script needs no inline bootstrap')
        elif reading.init is None:
            self._fail('bootstrap', 'bootstrap_missing', 'the page loads %s but has no inline plausible.init(...)'
                       % snippet.resolved_src)
        else:
            self._pass('bootstrap', 'the inline plausible.init(...) is there')

    def _check_placement(self, snippet):
        if snippet.script.placement == 'head':
            self._pass('placement', 'in <head>')
        elif self.params['require_head']:
            self._fail('placement', 'snippet_in_body', 'the snippet is in <body> and require_head is true')
        else:
            self._warn('placement', 'snippet_in_body', 'the snippet is in <body>; Plausible recommends <head>')

    def _check_script(self, snippet):
        url = snippet.resolved_src
        try:
            fetched = self.fetch(url)
        except PlausibleError as exc:
            if exc.kind not in FETCH_FAILURES:
                raise
            self.result['script'] = dict(url=url, status=None, content_type=None, embedded_domain=None, embedded_endpoint=None)
            self._fail('script', 'script_unreachable', exc.message)
        text = decode(fetched.body, None)
        content_type = header(fetched.headers, 'Content-Type')
        domain, endpoint = (_embedded(text, 'domain'), _embedded(text, 'endpoint'))
        self.result['script'] = dict(url=fetched.url, status=fetched.status, content_type=content_type or None,
                                     embedded_domain=domain, embedded_endpoint=endpoint)
        if not 200 <= fetched.status < 300:
            self._fail('script', 'script_unreachable', '%s answered HTTP %d' % (fetched.url, fetched.status))
        if 'javascript' not in content_type.lower() and 'ecmascript' not in content_type.lower():
            self._fail('script', 'script_not_plausible', '%s is %s, not JavaScript' % (fetched.url, content_type or 'untyped'))
        if snippet.kind == 'v2':
            if domain is None:
                self._fail('script', 'script_not_plausible', '%s embeds no domain:"…"; it is not a Plausible pa-….js script'
                           % fetched.url)
            if domain != self.domain:
                self._fail('script', 'script_domain_mismatch', '%s sends events for %s, not for %s' % (fetched.url, domain, self.domain))
        self._pass('script', 'HTTP %d, %s%s' % (fetched.status, content_type, ', for %s' % domain if domain else ''))
        return self.result['script']

    def _endpoint_url(self, fetched, snippet, reading, script):
        """Where the page will send events: init option, the script's own, data-api, or the script's origin."""
        init = INIT_ENDPOINT.search(reading.init.text) if snippet.kind == 'v2' and reading.init is not None else None
        if init:
            endpoint = init.group(2)
        elif snippet.kind == 'v2' and script['embedded_endpoint']:
            endpoint = script['embedded_endpoint']
        elif snippet.script.attrs.get('data-api'):
            endpoint = snippet.script.attrs['data-api']
        else:
            endpoint = urljoin(snippet.resolved_src, '/api/event')
        endpoint = resolve(fetched.url, endpoint) or endpoint
        if self.api_origin is not None and origin(endpoint) != self.api_origin:
            self.result['snippet']['proxied'] = True
        self.result['endpoint'] = dict(url=endpoint, probed=False, status=None, plausible_response=None)
        return endpoint

    def _check_csp(self, fetched, reading, snippet, endpoint):
        sources = []
        policies = []
        enforced = header(fetched.headers, 'Content-Security-Policy')
        if enforced:
            sources.append('header')
            policies += parse_policies(enforced)
        if reading.page.meta_policies:
            sources.append('meta')
            for content in reading.page.meta_policies:
                policies += parse_policies(content)
        page_url = fetched.url
        nonce = snippet.script.attrs.get('nonce')
        script_ok = all(script_allowed(policy, snippet.resolved_src, page_url, nonce) for policy in policies)
        inline_ok = None
        if snippet.kind == 'v2' and reading.init is not None:
            inline_ok = all(inline_allowed(policy, reading.init.text, reading.init.attrs.get('nonce')) for policy in policies)
        connect_ok = all(connect_allowed(policy, endpoint, page_url) for policy in policies)
        self.result['csp'] = dict(sources=sources, script_allowed=script_ok, inline_allowed=inline_ok,
                                  connect_allowed=connect_ok)
        if not script_ok:
            self._fail('csp', 'csp_script_blocked', 'the Content-Security-Policy (%s) does not allow %s under script-src-elem, '
                       'script-src or default-src' % ('+'.join(sources), snippet.resolved_src))
        if inline_ok is False:
            self._fail('csp', 'csp_inline_blocked', "the Content-Security-Policy (%s) blocks the inline plausible.init(): no "
                       "matching nonce or hash, and no usable 'unsafe-inline'" % '+'.join(sources))
        if not connect_ok:
            self._fail('csp', 'csp_connect_blocked', 'the Content-Security-Policy (%s) does not allow sending to %s under '
                       'connect-src or default-src' % ('+'.join(sources), endpoint))
        self._pass('csp', 'the policy (%s) allows the snippet' % '+'.join(sources) if sources else 'no enforced policy')

    def _check_endpoint(self, endpoint):
        if not self.params['probe_endpoint']:
            self._find('endpoint', 'skip', 'not probed (probe_endpoint is false); events would go to %s' % endpoint)
            return
        self.result['endpoint']['probed'] = True
        try:
            fetched = self.fetch(endpoint, method='POST', data=b'{}', headers={'Content-Type': 'application/json'},
                                 follow=False)
        except PlausibleError as exc:
            if exc.kind not in FETCH_FAILURES:
                raise
            self._fail('endpoint', 'endpoint_unreachable', exc.message)
        try:
            answer = json.loads(decode(fetched.body, header(fetched.headers, 'Content-Type')))
        except ValueError:
            answer = None
        plausible = isinstance(answer, dict) and isinstance(answer.get('errors'), dict)
        self.result['endpoint'].update(status=fetched.status, plausible_response=answer if plausible else None)
        if fetched.status != 400 or not plausible:
            self._fail('endpoint', 'endpoint_unreachable', 'POST {} to %s answered HTTP %d%s, not 400 with JSON errors as '
                       'Plausible does' % (endpoint, fetched.status, '' if plausible else ' without JSON errors'))
        self._pass('endpoint', 'POST {} to %s answered 400 with JSON errors, as Plausible does' % endpoint)


def _embedded(text, key):
    """The string a built pa-….js embeds for ``key`` (``domain:"example.com"``), JSON-decoded, or None."""
    match = re.search(EMBEDDED % key, text)
    if not match:
        return None
    try:
        return json.loads('"%s"' % match.group(1))
    except ValueError:
        return match.group(1)
