# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Request economy of the role plausible.analytics.onboard, against a hand-written ansible.builtin.uri playbook.

Plausible allows 600 requests an hour and 60 per 10 seconds per account, so what counts is how many requests a
run sends, above all a re-run that changes nothing. For N sites x G goals x P custom properties x U guests x L shared
links this script starts the emulator (tests/emulator/server.py), runs tests/benchmark/role.yml (the role, with
purge on for goals, custom properties and guests unless --no-purge) and tests/benchmark/uri.yml (the same job with
ansible.builtin.uri: GET each site, POST if 404, PUT each goal, property, guest and link; it cannot purge), each
twice on the same server (a first run on an empty server, then an idempotent re-run), then the role once more
without purge (a purge with nothing to delete must cost no request), and prints from the emulator's request log:
requests, writes, writes other than the shared links' find-or-create, 429 answers, wall time, and the time the
module spent waiting for the rate limit (from its warnings).

It does so twice: with the real limits (60 per 10 s, 600 per hour) and with the limits raised, so the cost of
pacing shows. Before each run the emulator's clock moves on by one hour (by a multiple of 10 s, so rate windows
stay aligned with the real clock the module paces by): every run starts with a fresh hourly and burst budget, as
a run after a quiet hour would.

Targets (printed beside the figures; a missed request-count target makes the exit status 1), with K the number of
kinds (goals, custom properties, guests) that the sites declare or purge:
  role, first run:  requests <= 2N + N*(G + P + U + L)   (a new site is not listed)
  role, re-run:     requests <= N*(1 + K) + N*L, and no write other than the shared links' find-or-create
  role, re-run without purge: as many requests as with purge, less N per kind purged but not declared
  wall time:        role <= uri / 3 (reported; not an exit condition, it depends on the machine)

Usage (from the repository root; ansible-playbook with ansible-core >= 2.19 and requests, e.g. from
.venvs/demo, which `make demo` creates):
  python3 tests/benchmark/benchmark.py [--sites 20] [--goals 5] [--properties 2] [--guests 1] [--links 1]
                                       [--no-purge] [--limits both|real|raised]
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SERVER = REPO / 'tests' / 'emulator' / 'server.py'
HOUR = 3600
REAL = dict(burst_limit=60, burst_period=10, hourly_limit=600)
RAISED = dict(burst_limit=1_000_000, burst_period=10, hourly_limit=1_000_000)
WAIT = re.compile(r'(?:pausing|retrying in) ([0-9.]+) s')
ROW_HEAD = '  %-24s %8s %7s %13s %5s %8s %9s %8s'
ROW = '  %-24s %8d %7d %13d %5d %8.1f %9.1f %8d'


def describe(limits):
    return '%d per %d s, %d per hour' % (limits['burst_limit'], limits['burst_period'], limits['hourly_limit'])


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--sites', '-n', type=int, default=20, help='N, the number of sites (default 20)')
    parser.add_argument('--goals', '-g', type=int, default=5, help='G, goals per site (default 5)')
    parser.add_argument('--properties', '-p', type=int, default=2, help='P, custom properties per site (default 2)')
    parser.add_argument('--guests', '-u', type=int, default=1, help='U, guests per site (default 1)')
    parser.add_argument('--links', '-l', type=int, default=1, help='L, shared links per site (default 1)')
    parser.add_argument('--no-purge', action='store_true', help='run the role without its purge variables')
    parser.add_argument('--limits', choices=['both', 'real', 'raised'], default='both',
                        help='rate limits of the emulator (default both: real, then raised)')
    parser.add_argument('--ansible-playbook', default=None,
                        help='the ansible-playbook to run (default: .venvs/demo/bin/ansible-playbook if it exists, '
                             'else the one on PATH)')
    parser.add_argument('--json', metavar='FILE', help='also write the figures to FILE as JSON')
    return parser.parse_args()


def find_ansible_playbook(given):
    if given:
        return given
    demo = REPO / '.venvs' / 'demo' / 'bin' / 'ansible-playbook'
    if demo.exists():
        return str(demo)
    found = shutil.which('ansible-playbook')
    if not found:
        sys.exit('ansible-playbook not found: run `make demo` once (it creates .venvs/demo) or pass --ansible-playbook')
    return found


def make_sites(n, g, p, u, l):
    sites = []
    for i in range(1, n + 1):
        goals = []
        for j in range(1, g + 1):
            # Alternate event and page goals, as real sites have both.
            goals.append(dict(goal_type='event', event_name='Goal %d' % j) if j % 2 else
                         dict(goal_type='page', page_path='/goal-%d' % j))
        sites.append(dict(domain='site-%03d.bench.example' % i, timezone='Europe/Berlin', goals=goals,
                          custom_properties=['prop_%d' % k for k in range(1, p + 1)],
                          guests=[dict(email='guest-%d@bench.example' % k, role='viewer') for k in range(1, u + 1)],
                          shared_links=['Link %d' % k for k in range(1, l + 1)]))
    return sites


class Emulator:
    def __init__(self, workdir):
        self.key = secrets.token_urlsafe(32)
        self.out = open(workdir / 'emulator.out', 'w+')
        self.err = open(workdir / 'emulator.log', 'w')
        self.proc = subprocess.Popen([sys.executable, str(SERVER), '--host', '127.0.0.1', '--port', '0', '--api-key', self.key],
                                     stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        self.url = ''
        while time.monotonic() < deadline and self.proc.poll() is None:
            self.out.seek(0)
            line = self.out.readline()
            if line.endswith('\n'):
                self.url = line.strip().rstrip('/')
                break
            time.sleep(0.05)
        if not self.url.startswith('http://127.0.0.1:'):
            self.stop()
            sys.exit('the emulator did not start; see %s' % (workdir / 'emulator.log'))

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_playbook(ansible_playbook, playbook, sites_file, extra, env, log_path):
    start = time.monotonic()
    proc = subprocess.run([ansible_playbook, str(playbook), '-e', '@%s' % sites_file, '-e', json.dumps(extra)], env=env,
                          stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    wall = time.monotonic() - start
    log_path.write_text(proc.stdout)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-4000:])
        raise SystemExit('%s failed (exit %d); its output is above' % (playbook.name, proc.returncode))
    changed = sum(int(m) for m in re.findall(r'^\S+\s+:.*\bchanged=(\d+)', proc.stdout, re.M))
    waited = sum(float(m) for m in WAIT.findall(proc.stdout))
    return wall, changed, waited


def measure(emulator, ansible_playbook, playbook, sites_file, env, workdir, tool, setting, runs, prepare=None):
    """A first run on an empty server (or on what ``prepare()`` puts there), then re-runs: ``runs`` is a list of
    (name, extra vars), each run on a cleared log and a fresh rate budget."""
    emulator.control('POST', '/_emulator/reset')
    if prepare:
        prepare()
    figures = []
    for run, extra in runs:
        emulator.control('POST', '/_emulator/clock', {'advance': HOUR})
        emulator.control('DELETE', '/_emulator/requests')
        wall, changed, waited = run_playbook(ansible_playbook, playbook, sites_file, extra, env,
                                             workdir / ('%s-%s-%s.log' % (setting, tool, re.sub(r'\W+', '-', run))))
        log = emulator.control('GET', '/_emulator/requests')
        writes = [r for r in log if r['method'] != 'GET']
        figures.append(dict(
            tool=tool, run=run, requests=len(log), writes=len(writes),
            other_writes=len([r for r in writes if r['path'] != '/api/v1/sites/shared-links']),
            throttled=len([r for r in log if r['status'] == 429]), wall=round(wall, 1), waited=round(waited, 1),
            changed=changed, by_route=dict(collections.Counter('%s %s' % (r['method'], r['path']) for r in log))))
    return figures


def main():
    args = parse_args()
    n, g, p, u, l, purge = args.sites, args.goals, args.properties, args.guests, args.links, not args.no_purge
    ansible_playbook = find_ansible_playbook(args.ansible_playbook)
    settings = {'both': [('real', REAL), ('raised', RAISED)], 'real': [('real', REAL)], 'raised': [('raised', RAISED)]}[args.limits]
    declared = sum(1 for count in (g, p, u) if count)
    kinds = 3 if purge else declared
    first_target, rerun_target = 2 * n + n * (g + p + u + l), n * (1 + kinds) + n * l
    purge_only = n * (kinds - declared)  # the listings of kinds purged but not declared
    role_runs = [('first run', dict(bench_purge=purge)), ('re-run', dict(bench_purge=purge)),
                 ('re-run, no purge', dict(bench_purge=False))]
    uri_runs = [('first run', {}), ('re-run', {})]

    workdir = Path(tempfile.mkdtemp(prefix='plausible-benchmark.'))
    (workdir / 'collections' / 'ansible_collections' / 'plausible').mkdir(parents=True)
    (workdir / 'collections' / 'ansible_collections' / 'plausible' / 'analytics').symlink_to(REPO)
    sites_file = workdir / 'sites.json'
    sites_file.write_text(json.dumps({'bench_sites': make_sites(n, g, p, u, l)}))
    version = subprocess.run([ansible_playbook, '--version'], stdout=subprocess.PIPE, text=True, check=True).stdout.split('\n')[0]

    load = os.getloadavg()[0]
    emulator = Emulator(workdir)
    env = dict(os.environ, PLAUSIBLE_API_URL=emulator.url, PLAUSIBLE_API_KEY=emulator.key,
               ANSIBLE_COLLECTIONS_PATH=str(workdir / 'collections'), ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default',
               ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='false', ANSIBLE_LOCAL_TEMP=str(workdir / 'tmp'))
    results = {}
    try:
        for name, limits in settings:
            emulator.control('POST', '/_emulator/config', limits)
            print('... limits %s: %s' % (name, describe(limits)), flush=True)
            figures = []
            for label, playbook, runs in (('role', HERE / 'role.yml', role_runs), ('uri', HERE / 'uri.yml', uri_runs)):
                figures += measure(emulator, ansible_playbook, playbook, sites_file, env, workdir, label, name, runs)
            results[name] = figures
    finally:
        emulator.stop()

    misses = []
    machine = '%s, %d CPUs (load average %.1f at the start), %s, Python %s, %s' % (
        platform.node(), os.cpu_count() or 0, load, platform.platform(), platform.python_version(), version)
    print()
    print('Benchmark: N=%d sites x G=%d goals x P=%d custom properties x U=%d guests x L=%d shared links, purge %s'
          % (n, g, p, u, l, 'on' if purge else 'off'))
    print('Machine: %s' % machine)
    print('Date: %s' % datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))
    for name, figures in results.items():
        limits = dict(settings)[name]
        print()
        print('Limits %s (%s)' % (name, describe(limits)))
        print(ROW_HEAD % ('', 'requests', 'writes', 'other writes', '429s', 'wall s', 'waited s', 'changed'))
        for f in figures:
            print(ROW % ('%s, %s' % (f['tool'], f['run']), f['requests'], f['writes'], f['other_writes'], f['throttled'],
                         f['wall'], f['waited'], f['changed']))
        role_first, role_rerun, role_plain, uri_first, uri_rerun = figures
        checks = [
            ('role first run: requests %d <= 2N+N(G+P+U+L) = %d' % (role_first['requests'], first_target),
             role_first['requests'] <= first_target, True),
            ('role re-run: requests %d <= N(1+K)+NL = %d (K = %d kinds declared or purged)'
             % (role_rerun['requests'], rerun_target, kinds), role_rerun['requests'] <= rerun_target, True),
            ('role re-run: purge with nothing to purge adds %d requests = N per kind purged but not declared = %d'
             % (role_rerun['requests'] - role_plain['requests'], purge_only),
             role_rerun['requests'] - role_plain['requests'] == purge_only, True),
            ('role re-run without purge: writes other than the shared links %d = 0, changed %d = 0'
             % (role_plain['other_writes'], role_plain['changed']),
             role_plain['other_writes'] == 0 and role_plain['changed'] == 0, True),
            ('role re-run: writes other than the shared links %d = 0' % role_rerun['other_writes'],
             role_rerun['other_writes'] == 0, True),
            ('role re-run: changed %d = 0' % role_rerun['changed'], role_rerun['changed'] == 0, True),
        ]
        for run, role, uri in (('first run', role_first, uri_first), ('re-run', role_rerun, uri_rerun)):
            checks.append(('wall time, %s: role %.1f s <= uri %.1f s / 3 = %.1f s (ratio %.2f)'
                           % (run, role['wall'], uri['wall'], uri['wall'] / 3, role['wall'] / uri['wall']),
                           role['wall'] <= uri['wall'] / 3, False))
        total_role, total_uri = role_first['wall'] + role_rerun['wall'], uri_first['wall'] + uri_rerun['wall']
        checks.append(('wall time, both runs: role %.1f s <= uri %.1f s / 3 = %.1f s (ratio %.2f)'
                       % (total_role, total_uri, total_uri / 3, total_role / total_uri), total_role <= total_uri / 3, False))
        print('  Targets:')
        for text, ok, counted in checks:
            print('    [%s] %s%s' % ('met' if ok else 'MISSED', text, '' if counted else ' (reported only)'))
            if counted and not ok:
                misses.append('%s: %s' % (name, text))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(n=n, g=g, p=p, u=u, l=l, purge=purge, machine=machine, results=results),
                                              indent=2))
    shutil.rmtree(workdir, ignore_errors=True)
    if misses:
        print('\nRequest-count targets missed:\n  ' + '\n  '.join(misses))
        return 1
    print('\nEvery request-count target met.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
