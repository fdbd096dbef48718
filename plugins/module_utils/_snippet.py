# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What counts as Plausible's snippet on a page (installation-verification.md §3): the ``pa-<id>.js`` script and its
inline bootstrap, the legacy ``data-domain`` script and its variants, a proxied script the user names; and the signs
that only a browser could tell (a tag manager, a script held back for consent). Plus the URL helpers they need."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from ._html import decode, parse

TRACKER_ID = re.compile(r'(?:^|/)(pa-[A-Za-z0-9_-]{21})\.js$')
LEGACY_VARIANTS = frozenset(('hash', 'outbound-links', 'exclusions', 'compat', 'local', 'manual', 'file-downloads',
                             'pageview-props', 'tagged-events', 'revenue', 'pageleave', 'js'))
LEGACY_SCRIPT = re.compile(r'/js/(?:(?:plausible|script|analytics)((?:\.[a-z-]+)*)\.js|p\.js)$')
TAG_MANAGER = 'googletagmanager.com/gtm.js'


def header(headers, name):
    """A header's value from a case-insensitive mapping or a plain dict, or ''."""
    value = headers.get(name) if hasattr(headers, 'get') else None
    if value is None:
        value = next((value for key, value in dict(headers).items() if key.lower() == name.lower()), None)
    return value or ''


def media_type(content_type):
    return content_type.split(';')[0].strip().lower()


def normalize_data_domains(value):
    """``data-domain`` as the server reads it: split on commas, each part trimmed and without a leading ``www.``."""
    domains = []
    for part in (value or '').split(','):
        part = part.strip()
        if part.startswith('www.'):
            part = part[len('www.'):]
        if part:
            domains.append(part)
    return domains


def resolve(base, reference):
    """``reference`` as an absolute URL against ``base``, or None when it cannot be one (a page may hold anything)."""
    try:
        url = urljoin(base, reference.strip())
        urlsplit(url).port  # pylint: disable=expression-not-assigned  # raises ValueError on a bad port
    except ValueError:
        return None
    return url


def strip_query(url):
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, '', ''))


def with_query(url, name, value):
    parts = urlsplit(url)
    query = '%s&%s=%s' % (parts.query, name, value) if parts.query else '%s=%s' % (name, value)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ''))


class Snippet:
    """One Plausible script tag on the page, with what the page says about it."""

    def __init__(self, script, kind, resolved_src):
        self.script = script
        self.kind = kind
        self.resolved_src = resolved_src
        match = TRACKER_ID.search(urlsplit(resolved_src).path)
        self.tracker_script_id = match.group(1) if match else None
        self.data_domains = normalize_data_domains(script.attrs['data-domain']) if 'data-domain' in script.attrs else []
        legacy = LEGACY_SCRIPT.search(urlsplit(resolved_src).path)
        self.variants = frozenset(filter(None, (legacy.group(1) or '').split('.'))) if legacy else frozenset()

    def same_installation_as_manual(self, other):
        """A legacy script beside its own ``manual.`` variant is one installation (upstream's legacy check agreed)."""
        return (self.kind == other.kind == 'legacy' and self.data_domains == other.data_domains
                and self.variants ^ other.variants == frozenset(('manual',)))


class Reading:
    """What the HTML of one page holds: the snippets, the inline init, the signs of a tag manager or consent gate."""

    def __init__(self, fetched, expected_src):
        self.page = parse(decode(fetched.body, header(fetched.headers, 'Content-Type')))
        self.snippets = []
        self.deferred = []  # why the page cannot be judged statically
        self.init = None
        for script in self.page.scripts:
            src = script.src
            if src is None:
                if 'plausible.init(' in script.text and script.executable and self.init is None:
                    self.init = script
                if TAG_MANAGER in script.text:
                    self.deferred.append('a Google Tag Manager loader')
                continue
            resolved = resolve(fetched.url, src)
            if resolved is None:
                continue  # no browser loads it either
            if TAG_MANAGER in resolved:
                self.deferred.append('a Google Tag Manager loader (%s)' % resolved)
                continue
            kind = self._kind(script, resolved, expected_src)
            if kind is None:
                continue
            if not script.executable:
                self.deferred.append('a script held back as type=%r (a consent manager?): %s'
                                     % (script.attrs.get('type'), resolved))
                continue
            self.snippets.append(Snippet(script, kind, resolved))

    @staticmethod
    def _kind(script, resolved, expected_src):
        path = urlsplit(resolved).path
        if TRACKER_ID.search(path):
            return 'v2'
        if LEGACY_SCRIPT.search(path):
            legacy = LEGACY_SCRIPT.search(path).group(1) or ''
            if set(filter(None, legacy.split('.'))) <= LEGACY_VARIANTS:
                return 'legacy'
        if expected_src and strip_query(resolved) == expected_src:
            return 'legacy' if 'data-domain' in script.attrs else 'v2'
        if 'data-domain' in script.attrs:
            return 'legacy'
        return None

    def installations(self):
        """The snippets, a legacy script and its own manual variant counted once; and whether such a pair was merged."""
        kept, merged = [], False
        for snippet in self.snippets:
            if any(snippet.same_installation_as_manual(other) for other in kept):
                merged = True
                continue
            kept.append(snippet)
        return kept, merged
