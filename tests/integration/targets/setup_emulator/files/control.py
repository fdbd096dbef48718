# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's control API (tests/emulator/server.py documents it) from a shell or a pipe lookup.

    control.py URL METHOD PATH [JSON-BODY]   one request; prints the answer
    control.py URL read                      prints {"state": ..., "requests": [...]}, then clears the request log

A pipe lookup runs this in about 35 ms of CPU; an ansible.builtin.uri task costs about 10 times that, and the
integration targets read the server more than a hundred times.
"""

import json
import sys
import urllib.request

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(base, method, path, body=''):
    request = urllib.request.Request(base.rstrip('/') + path, data=body.encode() or None, method=method,
                                     headers={'Content-Type': 'application/json'})
    with OPENER.open(request, timeout=30) as answer:
        return answer.read().decode()


def main(base, *args):
    if args == ('read',):
        state = json.loads(call(base, 'GET', '/_emulator/state'))
        requests = json.loads(call(base, 'GET', '/_emulator/requests'))
        call(base, 'DELETE', '/_emulator/requests')
        sys.stdout.write(json.dumps({'state': state, 'requests': requests}))
    else:
        sys.stdout.write(call(base, *args))


if __name__ == '__main__':
    main(*sys.argv[1:])
