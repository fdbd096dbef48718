#!/usr/bin/python
# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: plausible_verify
short_description: Check that a live web page really tracks a site with Plausible Analytics, without a browser
version_added: 1.0.0
description:
  - Fetches the page at O(url) with a plain HTTP client and reads its HTML, its headers and the tracking script it loads,
    to tell whether visits to it are counted for the site O(domain). It finds the failures that a deploy can cause, such
    as a missing snippet (also behind a stale cache), another site's snippet, a snippet without its inline bootstrap, a
    script path or proxy that answers 404, a Content-Security-Policy that blocks the script, its inline init or the
    event endpoint, and with O(probe_endpoint) an event route that does not reach Plausible.
  - Plausible's dashboard has a browser-based "Verify installation", but no API offers it, and Community Edition has no
    verifier at all. This module needs neither; it cannot run the page's JavaScript, so a snippet that only a tag manager
    or a framework inserts at run time is reported as V(inconclusive), not as missing.
  - It only reads. It never sends an event; C(changed) is always false, and check mode does exactly the same, the
    O(probe_endpoint) request included (the server records nothing for it).
  - The checks run in this order, and RV(reason) is the first that fails; RV(findings) has one entry per check. The
    URL; the fetch (redirects followed and recorded, DNS, connection, TLS, timeout); a 2xx status; an HTML content type;
    the size cap; the snippet (the C(pa-....js) script with its inline C(plausible.init()), the legacy C(data-domain)
    script and its variants such as C(script.outbound-links.js), or O(expected_script_src)), refetched once with
    C(?plausible_verification=<n>) when the page has none and O(cache_bust) is on; one snippet only (a legacy script
    beside its own C(manual.) variant counts once, with a warning); the site (O(tracker_script_id), or C(data-domain)
    compared as the server does it); the inline bootstrap of a C(pa-....js) script; the placement in C(<head>); the
    script itself (2xx, JavaScript, and the C(domain) a C(pa-....js) script embeds); the Content-Security-Policy; with
    O(probe_endpoint), the event endpoint.
  - The task fails when RV(status) is V(fail), or V(inconclusive) with O(fail_on_inconclusive). Its message starts with
    the reason key and names the URL, then says what Plausible's dashboard says for that case.
author:
  - plausible.analytics contributors (@plausible-analytics-ansible)
extends_documentation_fragment:
  - plausible.analytics._plausible.verify
  - plausible.analytics._plausible.actiongroup
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module only reads, so check mode changes nothing in what it does or returns.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  url:
    description:
      - The page to check, an C(http://) or C(https://) URL, for example the home page of the site after a deploy.
      - A fragment (C(#...)) is dropped; a query string is kept.
    type: str
    required: true
  domain:
    description:
      - The site as registered in Plausible, for example C(example.com); normalised as in M(plausible.analytics.plausible_site).
      - A C(pa-....js) script must embed this domain, a legacy script's C(data-domain) must contain it.
    type: str
    required: true
  tracker_script_id:
    description:
      - The site's tracker script id, C(pa-) and 21 characters, as in the C(tracker_script_configuration.id) that
        M(plausible.analytics.plausible_site) returns (and the role's fact C(plausible_onboard)).
      - When given, a C(pa-....js) script with another id fails with V(tracker_id_mismatch).
    type: str
  expected_script_src:
    description:
      - The script path or URL of a proxied or self-hosted installation, for example C(/stats/js/script.js) (relative
        to the page). A script with this address (query string ignored) counts as the snippet; a C(data-domain)
        attribute makes it a legacy one, otherwise it is read as a C(pa-....js) script.
      - Scripts named C(/js/pa-<id>.js) or C(/js/script.js) (and the legacy variants) are recognised on any host
        without it.
    type: str
  timeout:
    description:
      - Seconds to wait for each request (the page, the cache-busting refetch, the script, the endpoint probe) to be
        answered completely.
    type: int
    default: 10
  validate_certs:
    description:
      - Whether to verify the TLS certificates of the page, the script and the endpoint. A certificate that does not
        verify fails with V(tls_error), as it would in a browser.
      - Set it to V(false) only for a test server with a self-signed certificate.
    type: bool
    default: true
  headers:
    description:
      - Extra request headers for the page (and the script and endpoint when they are on the page's own origin), for
        example a header that lets the check past a firewall or bot protection.
      - Their values are secret, never shown in any result, message or log, and never sent to another origin.
    type: dict
    default: {}
  max_redirects:
    description:
      - How many redirects are followed for the page and the script; one more fails with V(too_many_redirects).
      - The redirects followed are in RV(page.redirects).
    type: int
    default: 5
  max_body_bytes:
    description:
      - How many bytes of the page (and of the script) are read at most.
      - A larger page is read up to this size. A snippet in that part passes with the warning C(body_truncated); none
        fails with V(body_too_large).
    type: int
    default: 5242880
  require_head:
    description:
      - Fail with V(snippet_in_body) when the snippet is in C(<body>). Otherwise that is a warning.
    type: bool
    default: false
  probe_endpoint:
    description:
      - Also send C(POST {}) to the event endpoint that the page will use (the inline init's C(endpoint), the script's
        embedded one, the legacy C(data-api), or the script's origin with C(/api/event)). Plausible answers such an
        empty event with 400 and JSON C(errors) and records nothing; anything else (a 404 from a proxy without the
        event route, an HTML page, a network error) fails with V(endpoint_unreachable).
    type: bool
    default: false
  cache_bust:
    description:
      - When the page has no snippet, fetch it once more with C(?plausible_verification=<n>) added, as Plausible's
        verifier does. A snippet there means that a cache serves an old copy, V(only_after_cache_bust).
    type: bool
    default: true
  fail_on_inconclusive:
    description:
      - Fail the task when RV(status) is V(inconclusive) (a page whose snippet only a tag manager or a consent manager
        would insert). With V(false) such a page passes the task, and RV(status) still says V(inconclusive).
    type: bool
    default: true
notes:
  - A static check shows that the page is wired correctly; only a browser shows that the script runs and that an event
    is accepted. Snippets injected at run time (a framework module, the npm package, Google Tag Manager) and scripts a
    consent manager holds back give V(inconclusive).
  - The page is fetched with a plain HTTP client, without cookies or JavaScript. A firewall or bot protection may answer
    it with 403 (V(http_status)); give a bypass header in O(headers).
  - The HTML is parsed, never executed. Each response is bounded by O(max_body_bytes), O(max_redirects) and O(timeout).
  - Reason keys and what each means, checks and messages follow Plausible's own verifiers; see the guide's section
    "Verify the installation after a deploy".
seealso:
  - module: plausible.analytics.plausible_site
  - name: Troubleshoot your integration (Plausible docs)
    description: What Plausible's verification checks, and how to check an installation by hand.
    link: https://plausible.io/docs/troubleshoot-integration
"""

EXAMPLES = r"""
- name: Check that the live home page tracks example.com
  plausible.analytics.plausible_verify:
    url: https://example.com/
    domain: example.com
    tracker_script_id: pa-1iQepzD1J73BaHey2csUp

- name: Check a proxied installation and its event route, past the firewall
  plausible.analytics.plausible_verify:
    url: https://shop.example.com/
    domain: shop.example.com
    expected_script_src: /stats/js/script.js
    probe_endpoint: true
    require_head: true
    headers:
      X-Firewall-Bypass: "{{ vault_firewall_bypass }}"

- name: Report, without failing, what a page built by a tag manager shows
  plausible.analytics.plausible_verify:
    url: https://landing.example.com/
    domain: landing.example.com
    fail_on_inconclusive: false
  register: landing

- name: Show the reason
  ansible.builtin.debug:
    msg: "{{ landing.status }}: {{ landing.reason }} ({{ landing.message }})"
"""

RETURN = r"""
status:
  description: V(pass), V(fail), or V(inconclusive) for a page whose snippet only a browser would see.
  returned: always
  type: str
  sample: pass
reason:
  description:
    - V(ok), or the first check that failed, one of V(invalid_url), V(dns_error), V(connect_error), V(tls_error),
      V(timeout), V(too_many_redirects), V(http_status), V(not_html), V(body_too_large), V(snippet_not_found),
      V(not_statically_verifiable), V(multiple_snippets), V(tracker_id_mismatch), V(domain_mismatch),
      V(bootstrap_missing), V(snippet_in_body), V(script_unreachable), V(script_not_plausible),
      V(script_domain_mismatch), V(csp_script_blocked), V(csp_inline_blocked), V(csp_connect_blocked),
      V(endpoint_unreachable), V(only_after_cache_bust).
    - The keys are stable; warnings start with theirs (C(snippet_in_body), C(body_truncated), C(multiple_snippets)).
  returned: always
  type: str
  sample: ok
message:
  description: What happened, in the words of Plausible's dashboard where it has some.
  returned: always
  type: str
  sample: We couldn't detect Plausible on your site
recommendation:
  description: What to do about it, in the words of Plausible's dashboard where it has some, with a link to its manual check.
  returned: always
  type: str
  sample: Please make sure you've copied the snippet to the head of your site, or verify your installation manually.
findings:
  description:
    - One entry per check, in order, C(url), C(fetch), C(status), C(content_type), C(body_size), C(snippet), C(count),
      C(site), C(bootstrap), C(placement), C(script), C(csp), C(endpoint).
    - C(result) is V(pass), V(warn), V(fail) or V(skip) (not run after an earlier failure, or not applicable);
      C(reason) the reason key of a failure or warning; C(detail) a sentence.
  returned: always
  type: list
  elements: dict
  sample: [{check: url, result: pass, reason: null, detail: "https://example.com/"}]
page:
  description: The page as fetched.
  returned: when O(url) is valid
  type: dict
  contains:
    requested_url:
      description: The URL requested, without fragment.
      type: str
      sample: https://example.com/
    final_url:
      description: The URL after redirects; null when nothing answered.
      type: str
      sample: https://www.example.com/
    status:
      description: The final HTTP status.
      type: int
      sample: 200
    redirects:
      description: The redirects followed, each with its C(status) and the absolute C(location).
      type: list
      elements: dict
      sample: [{status: 301, location: "https://www.example.com/"}]
    content_type:
      description: The final C(Content-Type).
      type: str
      sample: text/html; charset=utf-8
    bytes:
      description: How many bytes of the body were read.
      type: int
      sample: 14312
    truncated:
      description: Whether the body was larger than O(max_body_bytes).
      type: bool
      sample: false
    cache_bust_url:
      description: The URL of the cache-busting refetch.
      returned: when the page had no snippet and O(cache_bust) is on
      type: str
      sample: https://example.com/?plausible_verification=1767225600
snippet:
  description: The snippet found (the first, when there are several).
  returned: when the page has a snippet
  type: dict
  contains:
    kind:
      description: V(v2) for C(pa-....js) (and a proxied script without C(data-domain)), V(legacy) for the C(data-domain) script.
      type: str
      sample: v2
    src:
      description: The C(src) attribute as written.
      type: str
      sample: https://plausible.io/js/pa-1iQepzD1J73BaHey2csUp.js
    resolved_src:
      description: The script's absolute URL.
      type: str
      sample: https://plausible.io/js/pa-1iQepzD1J73BaHey2csUp.js
    tracker_script_id:
      description: The C(pa-) id in the script's name, or null.
      type: str
      sample: pa-1iQepzD1J73BaHey2csUp
    data_domains:
      description: The legacy C(data-domain) values as the server reads them (split on commas, trimmed, without C(www.)).
      type: list
      elements: str
      sample: []
    placement:
      description: V(head) or V(body).
      type: str
      sample: head
    count:
      description: How many installations the page has (a legacy script and its own C(manual.) variant count once).
      type: int
      sample: 1
    proxied:
      description: Whether the script or the event endpoint is elsewhere than on O(api_url)'s server.
      type: bool
      sample: false
    bootstrap_present:
      description: Whether the page has the inline C(plausible.init(...)) bootstrap.
      type: bool
      sample: true
csp:
  description: What the enforced Content-Security-Policy allows (C(Content-Security-Policy-Report-Only) never blocks).
  returned: when the check ran
  type: dict
  contains:
    sources:
      description: Where the enforced policies came from, V(header) and/or V(meta); empty without any.
      type: list
      elements: str
      sample: [header]
    script_allowed:
      description: Whether the script's URL may load.
      type: bool
      sample: true
    inline_allowed:
      description: Whether the inline init may run; null for a legacy snippet.
      type: bool
      sample: true
    connect_allowed:
      description: Whether the page may send events to the endpoint.
      type: bool
      sample: true
script:
  description: The tracking script as fetched.
  returned: when the check ran
  type: dict
  contains:
    url:
      description: The script's URL after redirects.
      type: str
      sample: https://plausible.io/js/pa-1iQepzD1J73BaHey2csUp.js
    status:
      description: The HTTP status; null when nothing answered.
      type: int
      sample: 200
    content_type:
      description: The C(Content-Type).
      type: str
      sample: application/javascript
    embedded_domain:
      description: The C(domain) a C(pa-....js) script embeds; null for a legacy script.
      type: str
      sample: example.com
    embedded_endpoint:
      description: The C(endpoint) a C(pa-....js) script embeds; null for a legacy script.
      type: str
      sample: https://plausible.io/api/event
endpoint:
  description: Where the page sends events, and what the probe got.
  returned: when the check ran
  type: dict
  contains:
    url:
      description: The absolute URL of the event endpoint.
      type: str
      sample: https://plausible.io/api/event
    probed:
      description: Whether C(POST {}) was sent (O(probe_endpoint)).
      type: bool
      sample: true
    status:
      description: The probe's HTTP status, or null.
      type: int
      sample: 400
    plausible_response:
      description: The JSON answer when it is Plausible's, else null.
      type: dict
      sample: {errors: {domain: ["can't be blank"], event_name: ["can't be blank"], url: ["is required"]}}
"""

from ansible_collections.plausible.analytics.plugins.module_utils._verify_module import run


def main():
    run()


if __name__ == '__main__':
    main()
