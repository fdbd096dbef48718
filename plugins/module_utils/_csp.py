# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Content-Security-Policy as a browser enforces it, for three questions: may this script URL load, may this inline
script run, may the page send to this URL. Each enforced policy must allow it (CSP Level 3, source lists only)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

DEFAULT_PORTS = {'http': 80, 'https': 443, 'ws': 80, 'wss': 443}
HASHES = {'sha256': hashlib.sha256, 'sha384': hashlib.sha384, 'sha512': hashlib.sha512}


def parse_policies(value):
    """One header value (or meta content) as a list of policies, each ``{directive: [source, ...]}``.

    A comma separates policies (repeated headers are joined with commas); the first of a repeated directive counts.
    """
    policies = []
    for text in (value or '').split(','):
        policy = {}
        for part in text.split(';'):
            tokens = part.split()
            if tokens:
                policy.setdefault(tokens[0].lower(), tokens[1:])
        if policy:
            policies.append(policy)
    return policies


def _sources(policy, *directives):
    """The source list of the first directive present, or None when the policy restricts none of them."""
    for directive in directives:
        if directive in policy:
            return policy[directive]
    return None


def _port(parts):
    try:
        return parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None


def url_matches(source, url, page_url):
    """Whether one source expression (``'self'``, ``https:``, ``*.example.com:443/path/``, ``*``) allows ``url``."""
    try:
        target, page = urlsplit(url), urlsplit(page_url)
    except ValueError:
        return False  # not a URL a browser could load or send to
    scheme = target.scheme.lower()
    lowered = source.lower()
    if lowered == "'self'":
        return ((target.hostname, _port(target)) == (page.hostname, _port(page)) and
                (scheme == page.scheme or (page.scheme == 'http' and scheme == 'https')))
    if lowered == '*':
        return scheme in ('http', 'https', 'ws', 'wss') or scheme == page.scheme
    if lowered.startswith("'"):
        return False  # a keyword, nonce or hash: not a location
    if lowered.endswith(':') and '/' not in lowered:
        wanted = lowered[:-1]
        return scheme == wanted or (wanted == 'http' and scheme == 'https') or (wanted == 'ws' and scheme == 'wss')
    return _host_source_matches(lowered, target, page)


def _host_source_matches(source, target, page):
    scheme = target.scheme.lower()
    source_scheme, sep, rest = source.partition('://')
    if not sep:
        source_scheme, rest = None, source
    if source_scheme is None:
        if not (scheme == page.scheme or (page.scheme == 'http' and scheme == 'https')):
            return False
    elif not (scheme == source_scheme or (source_scheme == 'http' and scheme == 'https')
              or (source_scheme == 'ws' and scheme == 'wss')):
        return False
    slash = rest.find('/')
    hostport, path = (rest, '') if slash < 0 else (rest[:slash], rest[slash:])
    host, colon, port = hostport.partition(':')
    target_host = (target.hostname or '').lower()
    if host.startswith('*.'):
        if not target_host.endswith(host[1:]):
            return False
    elif host != target_host:
        return False
    if colon and port != '*':
        if not port.isdigit() or int(port) != _port(target):
            return False
    elif not colon:
        default = DEFAULT_PORTS.get(source_scheme or scheme)
        target_port = _port(target)
        # A source without port allows the scheme's default port, and 443 for an http source upgraded to https.
        if target_port != default and not (default == 80 and target_port == 443 and scheme == 'https'):
            return False
    if path:
        target_path = target.path or '/'
        return target_path.startswith(path) if path.endswith('/') else target_path == path
    return True


def script_allowed(policy, url, page_url, nonce=None):
    """May a ``<script src=url>`` (with its ``nonce`` attribute) load under this policy?"""
    sources = _sources(policy, 'script-src-elem', 'script-src', 'default-src')
    if sources is None:
        return True
    lowered = [source.lower() for source in sources]
    if nonce and "'nonce-%s'" % nonce in sources:
        return True
    if "'strict-dynamic'" in lowered:
        return False  # host and scheme sources are ignored: only a nonce (or a hash with integrity) admits it
    return any(url_matches(source, url, page_url) for source in sources)


def inline_allowed(policy, text, nonce=None):
    """May an inline ``<script>`` with this text (and ``nonce`` attribute) run under this policy?"""
    sources = _sources(policy, 'script-src-elem', 'script-src', 'default-src')
    if sources is None:
        return True
    if nonce and "'nonce-%s'" % nonce in sources:
        return True
    digests = {}
    for source in sources:
        algorithm, sep, value = source.strip("'").partition('-')
        if sep and algorithm.lower() in HASHES and source.startswith("'"):
            if algorithm.lower() not in digests:
                digests[algorithm.lower()] = base64.b64encode(HASHES[algorithm.lower()](text.encode()).digest()).decode()
            if value == digests[algorithm.lower()]:
                return True
    lowered = [source.lower() for source in sources]
    # 'unsafe-inline' is ignored when the list has a nonce, a hash or 'strict-dynamic'.
    neutralised = any(source.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for source in lowered)
    return "'unsafe-inline'" in lowered and not neutralised and "'strict-dynamic'" not in lowered


def connect_allowed(policy, url, page_url):
    """May the page send to ``url`` (``fetch``, ``sendBeacon``) under this policy?"""
    sources = _sources(policy, 'connect-src', 'default-src')
    if sources is None:
        return True
    return any(url_matches(source, url, page_url) for source in sources)
