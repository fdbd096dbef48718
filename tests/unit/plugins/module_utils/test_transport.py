# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The transport's own duties, independent of any API: authentication styles and redaction of every secret."""

from __future__ import annotations

import base64

from ansible_collections.plausible.analytics.plugins.module_utils._transport import BasicAuth, BearerAuth, Transport

from ..fakes import TOKEN


def test_basic_auth_sends_the_token_as_password():
    header = BasicAuth(TOKEN).headers()['Authorization']
    assert header.startswith('Basic ')
    user, _colon, password = base64.b64decode(header[len('Basic '):]).decode().partition(':')
    assert password == TOKEN and ':' not in user


def test_every_registered_secret_is_redacted_also_in_its_encoded_form():
    transport = Transport('https://p.example')
    basic, bearer = BasicAuth(TOKEN), BearerAuth('key-123456')
    transport.add_secrets(basic.secrets())
    transport.add_secrets(bearer.secrets())
    encoded = basic.headers()['Authorization'].split()[1]
    text = transport.redact('token %s, header %s, key key-123456' % (TOKEN, encoded))
    assert TOKEN not in text and encoded not in text and 'key-123456' not in text
    assert text == 'token ********, header ********, key ********'
    assert TOKEN not in repr(basic) and 'key-123456' not in repr(bearer)


def test_an_empty_secret_is_never_registered():
    transport = Transport('https://p.example')
    transport.add_secrets(BasicAuth('').secrets() + BearerAuth(' ').secrets())
    assert transport.redact('nothing to hide') == 'nothing to hide'
