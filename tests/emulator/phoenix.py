# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP plumbing both emulated APIs share, as Phoenix and Plug do it: responses, the generic error view,
content negotiation, body parsing and path matching."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from typing import NamedTuple

REASONS = {302: 'Found', 400: 'Bad Request', 404: 'Not Found', 406: 'Not Acceptable', 500: 'Internal Server Error'}
JSON_TYPE = 'application/json; charset=utf-8'
HTML_TYPE = 'text/html; charset=utf-8'
HTML_PAGE = '''<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Plausible Analytics</title></head>
<body>
<div class="container text-center mt-24">
  <h1 class="text-5xl font-black dark:text-gray-100">{status}</h1>
  <div class="my-4 text-xl dark:text-gray-100">{message}</div>
  <a href="/">Go to homepage</a>
</div>
</body>
</html>
'''
REDIRECT_PAGE = '<html><body>You are being <a href="{0}">redirected</a>.</body></html>'


class PhoenixError(Exception):
    """An error rendered by Phoenix's generic error view (no route, not acceptable, unparsable body)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class Response(NamedTuple):
    status: int
    body: bytes = b''
    content_type: str | None = None
    headers: tuple = ()


def json_response(status, payload):
    return Response(status, json.dumps(payload, ensure_ascii=False, separators=(',', ':')).encode(), JSON_TYPE)


def html_response(status, message):
    return Response(status, HTML_PAGE.format(status=status, message=message).encode(), HTML_TYPE)


def render_error_view(status, accept):
    """Phoenix's ``render_errors``: JSON ``{"status", "message"}`` when the client accepts JSON, else HTML."""
    if negotiate(accept, ('html', 'json')) == 'json':
        return json_response(status, {'status': status, 'message': REASONS[status]})
    if status == 404:
        return html_response(404, "Oops! There's nothing here")
    return html_response(status, REASONS[status])


MIME_FORMATS = {'application/json': 'json', 'text/html': 'html'}
FORMAT_TYPES = {'json': 'application', 'html': 'text'}


def negotiate(accept, formats):
    """Phoenix's ``accepts/2``: the format chosen from ``formats`` for an Accept header, or None (406)."""
    if accept is None or accept == '*/*':
        return formats[0]
    if '*/*' in accept and 'html' in formats:
        # Phoenix assumes a browser here.
        return 'html'
    candidates = []
    for entry in accept.split(','):
        parts = [part.strip() for part in entry.split(';')]
        media_type, subtype = parts[0].lower().partition('/')[::2]
        if not media_type or not subtype or '/' in subtype:
            continue
        quality = 1.0
        for param in parts[1:]:
            name, value = param.partition('=')[::2]
            if name.strip().lower() == 'q':
                match = re.match(r'\s*[0-9]+(\.[0-9]+)?', value)
                quality = float(match.group()) if match else 1.0
        if media_type == '*' and subtype == '*':
            found = formats[0]
        elif subtype == '*':
            found = next((fmt for fmt in formats if FORMAT_TYPES[fmt] == media_type), None)
        else:
            found = MIME_FORMATS.get(media_type + '/' + subtype)
            found = found if found in formats else None
        if found and quality == 1.0:
            return found
        candidates.append((-quality, entry, found))
    return next((entry[2] for entry in sorted(candidates) if entry[2]), None)


def decode_pairs(pairs):
    """Plug's nested parameters: ``a[b]=1`` gives ``{"a": {"b": "1"}}``, ``a[]=1`` a list; the last value wins."""
    params = {}
    for name, value in pairs:
        match = re.fullmatch(r'([^\[\]]+)((?:\[[^\[\]]*\])*)', name)
        keys = [match.group(1)] + re.findall(r'\[([^\[\]]*)\]', match.group(2)) if match else [name]
        is_list = len(keys) > 1 and keys[-1] == ''
        if is_list:
            keys.pop()
        if '' in keys:
            keys, is_list = [name], False  # an empty key inside the name: keep the name as it is
        target = params
        for key in keys[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        if is_list:
            if not isinstance(target.get(keys[-1]), list):
                target[keys[-1]] = []
            target[keys[-1]].append(value)
        else:
            target[keys[-1]] = value
    return params


def parse_body(method, content_type, raw):
    """Plug.Parsers: the body parameters, or PhoenixError(400) when the body cannot be parsed."""
    if method not in ('POST', 'PUT', 'PATCH', 'DELETE') or not content_type:
        return {}
    mime = content_type.split(';')[0].strip().lower()
    if mime == 'application/json' or mime.endswith('+json'):
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw.decode('utf-8'), parse_constant=_reject_constant)
        except ValueError:
            raise PhoenixError(400) from None
        return value if isinstance(value, dict) else {'_json': value}
    if mime == 'application/x-www-form-urlencoded':
        return decode_pairs(urllib.parse.parse_qsl(raw.decode('utf-8', 'replace'), keep_blank_values=True))
    if mime.startswith('multipart/'):
        return decode_pairs(parse_multipart(content_type, raw))
    return {}


def _reject_constant(name):
    raise ValueError(name)


def describe_body(content_type, raw):
    """A request body for the request log: parsed JSON or form parameters when possible, else the text."""
    if not raw:
        return None
    mime = (content_type or '').split(';')[0].strip().lower()
    try:
        if mime == 'application/json' or mime.endswith('+json'):
            return json.loads(raw.decode('utf-8'))
        if mime == 'application/x-www-form-urlencoded':
            return decode_pairs(urllib.parse.parse_qsl(raw.decode('utf-8', 'replace'), keep_blank_values=True))
        if mime.startswith('multipart/'):
            return decode_pairs(parse_multipart(content_type, raw))
    except (ValueError, PhoenixError):
        pass  # logged as text below
    return raw.decode('utf-8', 'replace')


def parse_multipart(content_type, raw):
    message = BytesParser(policy=HTTP_POLICY).parsebytes(
        b'Content-Type: ' + content_type.encode('latin-1') + b'\r\n\r\n' + raw)
    if not message.is_multipart():
        raise PhoenixError(400)
    pairs = []
    for part in message.iter_parts():
        name = part.get_param('name', header='content-disposition')
        # Uploaded files are not parameters of this API.
        if name and not part.get_filename():
            pairs.append((name, part.get_payload(decode=True).decode('utf-8', 'replace')))
    return pairs


def match_pattern(pattern, segments):
    params = {}
    for index, part in enumerate(pattern):
        if part.startswith('*'):
            # A glob takes every remaining segment, possibly none.
            params[part[1:]] = list(segments[index:])
            return params
        if index >= len(segments):
            return None
        if part.startswith(':'):
            params[part[1:]] = segments[index]
        elif part != segments[index]:
            return None
    return params if len(segments) == len(pattern) else None


# -- pagination (duffelhq/paginator) ---------------------------------------------------------------------------

class InvalidCursor(ValueError):
    """A cursor the paginator cannot decode (the server crashes)."""


def encode_cursor(field_name, value):
    return base64.urlsafe_b64encode(json.dumps({field_name: value}).encode()).decode()


def decode_cursor(field_name, raw):
    if raw is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode()))[field_name]
    except (AttributeError, ValueError, TypeError, KeyError):
        raise InvalidCursor(raw) from None
    if not isinstance(value, int):
        raise InvalidCursor(raw)
    return value


def cursor_page(items, limit, after, before, sort_key, field_name='id'):
    """Cursor pagination like duffelhq/paginator; ``items`` are sorted by the ascending integer ``sort_key``.

    ``after`` and ``before`` are the raw cursors of the request. Returns the page and the paginator's metadata.
    """
    after = decode_cursor(field_name, after)
    before = decode_cursor(field_name, before)
    window = [item for item in items
              if (after is None or sort_key(item) > after) and (before is None or sort_key(item) < before)]
    has_more = len(window) > limit
    page = window[-limit:] if before is not None and after is None else window[:limit]
    first = encode_cursor(field_name, sort_key(page[0])) if page else None
    last = encode_cursor(field_name, sort_key(page[-1])) if page else None
    if after is not None:
        meta_before = first
    elif before is not None:
        meta_before = first if has_more else None
    else:
        meta_before = None
    meta_after = last if before is not None or has_more else None
    return page, {'after': meta_after, 'before': meta_before, 'limit': limit}
