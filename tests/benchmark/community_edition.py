# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role plausible.analytics.onboard through per-site plugin tokens (Community Edition) beside the Sites API.

For N sites x G goals x L shared links this script starts the emulator (tests/emulator/server.py) and runs
tests/benchmark/role.yml twice (a first run, then a re-run that changes nothing) in two set-ups, printing the
requests, writes and wall time of each run from the emulator's request log:
  Sites API          the emulator as plausible.io, an API key, sites created by the first run (raised rate limits,
                     so that pacing does not hide the request cost)
  Community Edition  the emulator in CE mode (no Sites API), N sites seeded as a CE dashboard would hold them, one
                     plugin token per site, no API key (the Plugins API has no rate limit)
  hosted, tokens     the emulator as plausible.io, the same sites and tokens (no API key), each site also with F
                     funnels of two steps (funnels exist only there)

Targets (a miss makes the exit status 1), per token site: first run <= 4 + ceil(G/8) + L requests (token check,
tracker, goal listing, goal creation 8 a request, link listing, one request per new link); re-run <= 4 requests and
no write (token check, tracker, goal listing, link listing); with funnels, re-run <= 5 requests per site and no
write (one funnel listing more).

Usage (from the repository root, with ansible-playbook as for benchmark.py):
  python3 tests/benchmark/community_edition.py [--sites 20] [--goals 5] [--links 1] [--funnels 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark import HERE, RAISED, REPO, Emulator, find_ansible_playbook, make_sites, measure  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--sites', '-n', type=int, default=20)
    parser.add_argument('--goals', '-g', type=int, default=5)
    parser.add_argument('--links', '-l', type=int, default=1)
    parser.add_argument('--funnels', '-f', type=int, default=2)
    parser.add_argument('--ansible-playbook', default=None)
    args = parser.parse_args()
    n, g, l = args.sites, args.goals, args.links
    ansible_playbook = find_ansible_playbook(args.ansible_playbook)
    workdir = Path(tempfile.mkdtemp(prefix='plausible-benchmark-ce.'))
    (workdir / 'collections' / 'ansible_collections' / 'plausible').mkdir(parents=True)
    (workdir / 'collections' / 'ansible_collections' / 'plausible' / 'analytics').symlink_to(REPO)
    sites = make_sites(n, g, 0, 0, l)
    load = os.getloadavg()[0]
    emulator = Emulator(workdir)
    env = dict(os.environ, PLAUSIBLE_API_URL=emulator.url, ANSIBLE_COLLECTIONS_PATH=str(workdir / 'collections'),
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default', ANSIBLE_NOCOLOR='1',
               ANSIBLE_RETRY_FILES_ENABLED='false', ANSIBLE_LOCAL_TEMP=str(workdir / 'tmp'))
    runs = [('first run', {}), ('re-run', {})]
    try:
        emulator.control('POST', '/_emulator/config', dict(RAISED, edition='hosted'))
        sites_file = workdir / 'sites.json'
        sites_file.write_text(json.dumps({'bench_sites': sites}))
        figures = measure(emulator, ansible_playbook, HERE / 'role.yml', sites_file,
                          dict(env, PLAUSIBLE_API_KEY=emulator.key), workdir, 'role', 'sites-api', runs)

        emulator.control('POST', '/_emulator/config', dict(edition='ce'))
        for site in sites:
            del site['timezone']  # set when the dashboard made the site; only the Sites API could compare it
            site['plugin_token'] = 'plausible-plugin-selfhost-' + secrets.token_urlsafe(30)
        sites_file.write_text(json.dumps({'bench_sites': sites}))

        def seed_ce_sites():  # as a CE dashboard holds them, each with its token
            emulator.control('POST', '/_emulator/seed', {'sites': [{'domain': site['domain']} for site in sites]})
            for site in sites:
                emulator.control('POST', '/_emulator/plugin-tokens', {'domain': site['domain'], 'token': site['plugin_token']})
        ce = measure(emulator, ansible_playbook, HERE / 'role.yml', sites_file, env, workdir, 'role', 'ce', runs,
                     prepare=seed_ce_sites)

        emulator.control('POST', '/_emulator/config', dict(RAISED, edition='hosted'))
        for site in sites:
            site['plugin_token'] = 'plausible-plugin-' + secrets.token_urlsafe(30)
            site['funnels'] = [dict(name='Funnel %d' % k, steps=[dict(goal_type='page', page_path='/funnel-%d' % k),
                                                                 dict(goal_type='event', event_name='Funnel %d' % k)])
                               for k in range(1, args.funnels + 1)]
        sites_file.write_text(json.dumps({'bench_sites': sites}))
        funnels = measure(emulator, ansible_playbook, HERE / 'role.yml', sites_file, env, workdir, 'role', 'funnels',
                          runs, prepare=seed_ce_sites)
    finally:
        emulator.stop()

    first_target, rerun_target, funnels_target = n * (4 + math.ceil(g / 8.0) + l), 4 * n, 5 * n
    print()
    print('Benchmark: N=%d sites x G=%d goals x L=%d shared links, F=%d funnels where hosted (load average %.1f at the '
          'start)' % (n, g, l, args.funnels, load))
    print('  %-46s %8s %7s %8s %8s' % ('', 'requests', 'writes', 'wall s', 'changed'))
    for label, rows in (('Sites API (api_key)', figures), ('Community Edition (plugin tokens)', ce),
                        ('hosted, plugin tokens, funnels', funnels)):
        for row in rows:
            print('  %-46s %8d %7d %8.1f %8d' % ('%s, %s' % (label, row['run']), row['requests'], row['writes'],
                                                 row['wall'], row['changed']))
    checks = [('CE first run: requests %d <= N(4 + ceil(G/8) + L) = %d' % (ce[0]['requests'], first_target),
               ce[0]['requests'] <= first_target),
              ('CE re-run: requests %d <= 4N = %d, writes %d = 0, changed %d = 0'
               % (ce[1]['requests'], rerun_target, ce[1]['writes'], ce[1]['changed']),
               ce[1]['requests'] <= rerun_target and ce[1]['writes'] == 0 and ce[1]['changed'] == 0),
              ('hosted with funnels, re-run: requests %d <= 5N = %d, writes %d = 0, changed %d = 0'
               % (funnels[1]['requests'], funnels_target, funnels[1]['writes'], funnels[1]['changed']),
               funnels[1]['requests'] <= funnels_target and funnels[1]['writes'] == 0 and funnels[1]['changed'] == 0)]
    print('  hosted with funnels, re-run by route: %s' % json.dumps(funnels[1]['by_route'], sort_keys=True))
    for text, ok in checks:
        print('  [%s] %s' % ('met' if ok else 'MISSED', text))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(ok for _text, ok in checks) else 1


if __name__ == '__main__':
    sys.exit(main())
