# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What plausible_verify needs from a page's HTML: its scripts (where they sit, their attributes and inline text) and
its ``<meta http-equiv>`` policies. The standard library's tolerant parser reads it; nothing in the page is executed."""

from __future__ import annotations

from html.parser import HTMLParser

# Elements that may only appear in <head>; any other start tag after </head> or in a page without <head> is in the body.
HEAD_ELEMENTS = frozenset(('html', 'head', 'title', 'base', 'link', 'meta', 'style', 'script', 'noscript', 'template'))
# Scripts a browser runs; another type (text/plain from a consent manager, JSON data, templates) is never run.
EXECUTABLE_TYPES = frozenset(('', 'text/javascript', 'application/javascript', 'application/ecmascript',
                              'text/ecmascript', 'module', 'text/jscript', 'application/x-javascript'))
MAX_INLINE_TEXT = 64 * 1024


class Script:
    """One ``<script>`` element: its attributes (lower-case names), inline text and where it sits."""

    def __init__(self, attrs, placement):
        self.attrs = attrs
        self.placement = placement
        self.text = ''

    @property
    def src(self):
        return (self.attrs.get('src') or '').strip() or None

    @property
    def executable(self):
        return (self.attrs.get('type') or '').strip().lower() in EXECUTABLE_TYPES


class Page:
    """The parts of an HTML document that decide whether it tracks."""

    def __init__(self):
        self.scripts = []
        self.meta_policies = []


class _Parser(HTMLParser):

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.placement = 'head'
        self.script = None
        self.noscript = 0  # a browser that runs scripts reads <noscript> as text: its tags do not end <head>

    def handle_starttag(self, tag, attrs):
        attrs = dict((name.lower(), value or '') for name, value in reversed(attrs))  # the first of a repeated attribute wins
        if tag == 'noscript':
            self.noscript += 1
        if tag == 'body' or (tag not in HEAD_ELEMENTS and self.placement == 'head' and not self.noscript):
            self.placement = 'body'
        if tag == 'script':
            self.script = Script(attrs, self.placement)
            self.page.scripts.append(self.script)
        elif tag == 'meta' and attrs.get('http-equiv', '').strip().lower() == 'content-security-policy':
            self.page.meta_policies.append(attrs.get('content', ''))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == 'script':
            self.script = None

    def handle_endtag(self, tag):
        if tag == 'head':
            self.placement = 'body'
        elif tag == 'noscript':
            self.noscript = max(0, self.noscript - 1)
        elif tag == 'script':
            self.script = None

    def handle_data(self, data):
        if self.script is not None and len(self.script.text) < MAX_INLINE_TEXT:
            self.script.text += data[:MAX_INLINE_TEXT]


def parse(text):
    """The scripts and meta policies of ``text``; markup too broken to read ends the parse where it breaks."""
    parser = _Parser()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # pylint: disable=broad-except
        # html.parser is lenient, but some malformed declarations still raise: what was read before counts.
        pass
    return parser.page


def decode(body, content_type):
    """The text of ``body``, in the charset that ``content_type`` names (UTF-8 otherwise); bad bytes become U+FFFD."""
    charset = 'utf-8'
    for part in (content_type or '').split(';')[1:]:
        name, _sep, value = part.partition('=')
        if name.strip().lower() == 'charset' and value.strip():
            charset = value.strip().strip('"\'')
    try:
        return body.decode(charset, errors='replace')
    except LookupError:
        return body.decode('utf-8', errors='replace')
