# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a web page talks to: the tracker scripts and the event endpoint, as installation-verification.md §3-§4 describe.

- ``GET /js/pa-<id>.js``: ``TrackerPlug`` serves the site's script, built by ``PlausibleWeb.Tracker.build_script/1``
  with the site's config embedded as an object literal (``endpoint:"<base>/api/event",domain:"…"`` and the true
  flags, pairs ordered by length, longest first); 200 ``application/javascript`` with ``max-age=60``. An unknown
  id gets 404 ``Not found``.
- ``GET /js/{plausible,script,analytics}[.<variants>].js`` and ``/js/p.js``: the legacy scripts (they embed nothing),
  ``max-age=86400``; an unknown variant is not served by the plug (the router's 404 answers).
- ``POST /api/event``: the body is read as JSON whatever its content type. Not a JSON object: 400
  ``{"errors": {"request": ["Unable to parse request body as json"]}}``. Missing ``name``/``n``, ``url``/``u`` or
  ``domain``/``d``: 400 with those errors (``{}`` gets all three) and nothing recorded. Otherwise 202 ``ok``, and the
  event is recorded (``GET /_emulator/events``), also for a domain that is no site (the server drops it silently).

Both editions serve these routes.
"""

from __future__ import annotations

import json
import re

from .phoenix import Response, json_response

JS_TYPE = 'application/javascript'
TEXT_TYPE = 'text/plain; charset=utf-8'
TRACKER_ID = re.compile(r'pa-[A-Za-z0-9_-]{21}')
LEGACY = re.compile(r'(?:plausible|script|analytics)((?:\.[a-z-]+)*)\.js|p\.js')
LEGACY_VARIANTS = frozenset(('hash', 'outbound-links', 'exclusions', 'compat', 'local', 'manual', 'file-downloads',
                             'pageview-props', 'tagged-events', 'revenue', 'pageleave', 'js'))
# The config keys a built script carries for true tracker flags (false ones are left out).
FLAGS = (('outbound_links', 'outboundLinks'), ('file_downloads', 'fileDownloads'), ('form_submissions', 'formSubmissions'))
WEB_SCRIPT = ('!function(){"use strict";var config=%s;'
              'function send(e,t){var n=new XMLHttpRequest;n.open("POST",config.endpoint,!0),'
              'n.setRequestHeader("Content-Type","text/plain"),n.send(JSON.stringify({n:e,u:location.href,d:config.domain}))}'
              'window.plausible&&plausible.o&&send("pageview")}();\n')
LEGACY_SCRIPT = ('!function(){"use strict";var s=document.currentScript,d=s.getAttribute("data-domain"),'
                 'a=s.getAttribute("data-api")||new URL(s.src).origin+"/api/event";}();\n')
PARSE_ERROR = {'errors': {'request': ['Unable to parse request body as json']}}


def build_script(base_url, site):
    """The site's pa-<id>.js: the web script with its config object literal, as the server builds it."""
    pairs = ['endpoint:%s' % json.dumps(base_url + '/api/event'), 'domain:%s' % json.dumps(site.domain)]
    pairs += ['%s:!0' % key for flag, key in FLAGS if (site.tracker or {}).get(flag)]
    pairs.sort(key=len, reverse=True)
    return WEB_SCRIPT % ('{%s}' % ','.join(pairs))


class Tracker:
    """The tracker routes; callers hold the emulator lock."""

    def __init__(self, emulator):
        self.emu = emulator

    def handle(self, request, segments):
        """The answer for a tracker route, or None when the request is not for one."""
        if request.method == 'GET' and len(segments) == 2 and segments[0] == 'js':
            return self.script(segments[1])
        if request.method == 'POST' and segments == ['api', 'event']:
            return self.event(request.body)
        return None

    def script(self, name):
        if name.endswith('.js') and TRACKER_ID.fullmatch(name[:-3]):
            site = next((site for site in self.emu.state.sites if (site.tracker or {}).get('id') == name[:-3]), None)
            if site is None:
                return Response(404, b'Not found', TEXT_TYPE)
            return Response(200, build_script(self.emu.base_url, site).encode(), JS_TYPE,
                            (('cache-control', 'public, max-age=60, no-transform'),))
        legacy = LEGACY.fullmatch(name)
        if legacy and set(filter(None, (legacy.group(1) or '').split('.'))) <= LEGACY_VARIANTS:
            return Response(200, LEGACY_SCRIPT.encode(), JS_TYPE, (('cache-control', 'public, max-age=86400'),))
        return None

    def event(self, body):
        try:
            event = json.loads(body or b'')
        except ValueError:
            event = None
        if not isinstance(event, dict):
            return json_response(400, PARSE_ERROR)
        fields = {name: event.get(long, event.get(short)) for name, long, short in
                  (('domain', 'domain', 'd'), ('event_name', 'name', 'n'), ('url', 'url', 'u'))}
        errors = {}
        if not isinstance(fields['domain'], str) or not fields['domain'].strip():
            errors['domain'] = ["can't be blank"]
        if not isinstance(fields['event_name'], str) or not fields['event_name'].strip():
            errors['event_name'] = ["can't be blank"]
        if not isinstance(fields['url'], str) or not fields['url'].strip():
            errors['url'] = ['is required']
        if errors:
            return json_response(400, {'errors': errors})
        self.emu.events.append(dict(fields, site_exists=self.emu.state.find_site(fields['domain']) is not None))
        return Response(202, b'ok', TEXT_TYPE)
