# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scripted HTTP at the client's transport: what the unit tests of the client and the modules share."""

from __future__ import annotations

import json

KEY = 'k3y-SECRET-abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGHIJKLMNOPQRSTUV'
# A Community Edition token (its prefix says so): the modules then refuse revenue goals before any request.
TOKEN = 'plausible-plugin-selfhost-QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk'


class FakeResponse:
    def __init__(self, status, body=None, text=None, headers=None):
        self.status_code = status
        self.headers = headers or {}
        self.text = text if text is not None else ('' if body is None else json.dumps(body))
        self.content = self.text.encode()

    def json(self):
        return json.loads(self.text)


class FakeSession:
    """Answers each request with the next scripted response (or raises it) and records what was sent.

    A callable in place of a response answers this and every later request: answer(method, url, **kwargs).
    """

    def __init__(self, *responses):
        self.responses = list(responses)
        self.sent = []
        self.headers = {}

    def request(self, method, url, **kwargs):
        self.sent.append(dict(kwargs, method=method, url=url))
        answer = self.responses[0] if callable(self.responses[0]) else self.responses.pop(0)
        if callable(answer):
            answer = answer(method, url, **kwargs)
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeClock:
    def __init__(self, now=1000.0):
        self.now = now
        self.slept = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def run_module(capsys, main, args, *responses, check_mode=False, diff=False, resolves=None):
    """Run a module's main() with ``args`` against scripted responses; return (result, requests sent).

    The transport runs on a fake clock, so that pacing under the rate limit waits no real time. ``resolves`` is the
    domain of a site whose content a module manages through the Sites API: its first request reads that site (to refuse
    a renamed site's old name); the site is answered, that request checked and left out of what is returned.
    """
    if resolves is not None:
        responses = (site_found(resolves),) + responses
    from unittest import mock

    import pytest
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.plausible.analytics.plugins.module_utils._transport import Transport

    session, clock, transport_init = FakeSession(*responses), FakeClock(), Transport.__init__

    def init(self, *init_args, **kwargs):
        transport_init(self, *init_args, **dict(kwargs, session=session, clock=clock.time, sleep=clock.sleep))

    args = dict(dict(api_key=KEY, api_url='https://plausible.example'), **args)
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), mock.patch.object(Transport, '__init__', init):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert KEY not in out and TOKEN not in out
    sent = session.sent
    if resolves is not None:
        assert (sent[0]['method'], sent[0]['url']) == ('GET', 'https://plausible.example/api/v1/sites/' + resolves)
        sent = sent[1:]
    return json.loads(out), sent


def run_with_token(capsys, main, args, *responses, **kwargs):
    """``run_module`` with only a plugin token, no API key."""
    return run_module(capsys, main, dict(dict(api_key=None, plugin_token=TOKEN), **args), *responses, **kwargs)


def capabilities(domain='example.com'):
    """The Plugins API's answer to GET /capabilities for a valid token of ``domain``."""
    return FakeResponse(200, {'authorized': True, 'data_domain': domain, 'features': {}})


def site_found(domain='example.com'):
    """The Sites API's answer to GET /api/v1/sites/<domain>: the first request of every module that acts on a site's
    content through an API key, which checks that the domain is not a renamed site's old name."""
    return FakeResponse(200, {'domain': domain, 'timezone': 'Etc/UTC', 'custom_properties': [],
                              'tracker_script_configuration': {'id': 'pa-AAAAAAAAAAAAAAAAAAAAA'}})
