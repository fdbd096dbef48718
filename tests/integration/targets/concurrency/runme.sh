#!/usr/bin/env bash
# Concurrency: nothing is lost and nothing is created twice when several runs work on one server at once.
#   phase 1  at the same time: four ansible-playbook processes (site.yml, one site each, through the three
#            modules), a play over four hosts with forks 4 (hosts.yml, one site per host, delegate_to localhost),
#            and two processes of the role over four web hosts with forks 4 (role.yml, two sites per set);
#            then the server's state must hold every site once, every goal once and every shared link once, and
#            the request log exactly one successful create per site and no refused create
#   phase 2  the same seven runs again at once: all report no change, no site is created, the state is unchanged
#   phase 3  the role with forks 3 over hosts that each bring their own plausible_sites: either every host's site
#            is onboarded or the role fails and says why; succeeding with sites missing is data loss
# They share the server's burst limit (one key), so some requests may meet a 429 and wait: they must still succeed.
#
# Under ansible-test (make integration) the harness's emulator is used, from ../../integration_config.yml; by hand,
# from the repository root, the script starts its own emulator:
#   tests/integration/targets/concurrency/runme.sh
set -euo pipefail

cd "$(dirname "$0")"
python='' work='' config='' key=''  # set by runme-common.sh, which shellcheck does not follow
source ../setup_emulator/files/runme-common.sh concurrency
started=$SECONDS

export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_NOCOLOR=1
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_FAILED=true

start() {  # NAME ARGS...: start ansible-playbook in the background; its output goes to $work/NAME.log
    local name=$1
    shift
    ansible-playbook -i inventory.yml -e "@$config" "$@" >"$work/$name.log" 2>&1 &
    pids+=("$!")
    names+=("$name")
}
wait_all() {  # wait for every started run; fail, with its output, on the first that failed
    local i status
    for i in "${!pids[@]}"; do
        status=0
        wait "${pids[$i]}" || status=$?
        if [ "$status" != 0 ]; then
            sed "s/$key/<API KEY>/g" "$work/${names[$i]}.log" | tail -n 60 >&2
            fail "${names[$i]} ended with exit code $status (output above)"
        fi
    done
}
changed() {  # NAME: the sum of changed= over the PLAY RECAP of $work/NAME.log
    awk '/^PLAY RECAP/ { recap = 1; next } recap && /changed=/ {
        for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { split($i, kv, "="); sum += kv[2] } }
        END { print sum + 0 }' "$work/$1.log"
}
runs=0
parallel_runs() {  # PHASE: the seven runs of phases 1 and 2, all at once
    pids=()
    names=()
    for site in p1 p2 p3 p4; do start "$1-site-$site" site.yml -e "concurrency_site=$site"; done
    start "$1-hosts" hosts.yml --forks 4
    start "$1-role-a" role.yml --forks 4 -e concurrency_set=a
    start "$1-role-b" role.yml --forks 4 -e concurrency_set=b
    wait_all
    runs=$((runs + ${#pids[@]}))
}
check_state() {  # PHASE: the server holds exactly the expected sites, goals and links; save the state
    control GET /_emulator/state >"$work/state-$1.json"
    control GET /_emulator/requests >"$work/requests-$1.json"
    "$python" - "$work/state-$1.json" "$work/requests-$1.json" "$1" <<'PYTHON'
import collections
import json
import sys

state = json.load(open(sys.argv[1]))
log = json.load(open(sys.argv[2]))
phase = sys.argv[3]
d = '.concurrency.example'
three = [('event', 'Signup', None), ('event', 'Purchase', None), ('page', None, '/thanks')]
expected = {}
# outbound_links: true makes the server add the goal "Outbound Link: Click" (plausible-sites-api.md §8.6).
outbound = [('event', 'Outbound Link: Click', None)]
for n in range(1, 5):
    expected['p%d%s' % (n, d)] = (three + outbound, ['Board', 'Team'])
    expected['host-h%d%s' % (n, d)] = ([('event', 'Signup', None), ('event', 'Purchase', None)], ['Board'])
for s in 'ab':
    expected['role-%s-one%s' % (s, d)] = ([('event', 'Signup', None), ('page', None, '/thanks')], ['Board'])
    expected['role-%s-two%s' % (s, d)] = ([('event', 'Signup', None)], ['Board'])

problems = []
domains = [site['domain'] for site in state['sites']]
duplicates = [domain for domain, count in collections.Counter(domains).items() if count > 1]
if duplicates:
    problems.append('sites held more than once: %s' % duplicates)
if sorted(set(domains)) != sorted(expected):
    problems.append('missing sites: %s; unexpected sites: %s'
                    % (sorted(set(expected) - set(domains)), sorted(set(domains) - set(expected))))
goal_count = link_count = 0
for site in state['sites']:
    if site['domain'] not in expected:
        continue
    goals, links = expected[site['domain']]
    held = sorted(('event' if g['event_name'] else 'page', g['event_name'], g['page_path']) for g in site['goals'])
    want = sorted(goals, key=lambda g: tuple('' if part is None else part for part in g))
    held = sorted(held, key=lambda g: tuple('' if part is None else part for part in g))
    if held != want:
        problems.append('%s: goals %s, expected each of %s once' % (site['domain'], held, want))
    names = sorted(link['name'] for link in site['shared_links'])
    if names != sorted(links):
        problems.append('%s: shared links %s, expected each of %s once' % (site['domain'], names, sorted(links)))
    goal_count += len(site['goals'])
    link_count += len(site['shared_links'])
creates = collections.Counter((r['body'] or {}).get('domain') for r in log
                              if r['method'] == 'POST' and r['path'] == '/api/v1/sites' and r['status'] == 200)
refused = [r for r in log if r['method'] == 'POST' and r['path'] == '/api/v1/sites' and r['status'] != 200]
if phase == 'phase1':
    if sorted(creates.elements()) != sorted(expected):
        problems.append('successful creates per site: %s (expected exactly one per site)' % dict(creates))
else:
    if creates:
        problems.append('sites created again: %s' % dict(creates))
if refused:
    problems.append('refused or failed creates: %s' % [(r['body'], r['status']) for r in refused])
throttled = sum(1 for r in log if r['status'] == 429)
print('%s: %d sites, %d goals, %d shared links, %d requests (%d answered 429 and retried)'
      % (phase, len(domains), goal_count, link_count, len(log), throttled))
if problems:
    print('\n'.join(problems))
    sys.exit(1)
PYTHON
}

control POST /_emulator/reset >/dev/null
echo "=== phase 1: seven runs at once on an empty server"
parallel_runs phase1
check_state phase1 || fail "phase 1 lost or duplicated something (above)"

echo "=== phase 2: the same seven runs at once again"
control DELETE /_emulator/requests >/dev/null
parallel_runs phase2
for name in "${names[@]}"; do
    [ "$(changed "$name")" = 0 ] || fail "$name reported changed=$(changed "$name") on the re-run; it must be 0"
done
check_state phase2 || fail "phase 2 changed the server (above)"
"$python" - "$work/state-phase1.json" "$work/state-phase2.json" <<'PYTHON' || fail "the re-run changed the server's state"
import json
import sys

before, after = (json.load(open(path)) for path in sys.argv[1:3])
if before['sites'] != after['sites']:
    sys.exit('the sites, goals or shared links differ after the re-run')
PYTHON

echo "=== phase 3: the role over hosts that each bring their own plausible_sites"
control POST /_emulator/reset >/dev/null
status=0
ansible-playbook -i inventory.yml -e "@$config" --forks 3 role_per_host.yml >"$work/phase3.log" 2>&1 || status=$?
runs=$((runs + 1))
onboarded=$(control GET /_emulator/state | "$python" -c '
import json, sys
print(" ".join(sorted(site["domain"] for site in json.load(sys.stdin)["sites"])))')
expected="perhost-1.concurrency.example perhost-2.concurrency.example perhost-3.concurrency.example"
if [ "$status" = 0 ]; then
    [ "$onboarded" = "$expected" ] || {
        sed "s/$key/<API KEY>/g" "$work/phase3.log" | tail -n 30 >&2
        fail "the role succeeded but the server holds only: ${onboarded:-no site}; expected: $expected (sites lost)"
    }
else
    grep -q 'plausible_sites' "$work/phase3.log" || {
        sed "s/$key/<API KEY>/g" "$work/phase3.log" | tail -n 30 >&2
        fail "the role failed without saying that the hosts' plausible_sites differ"
    }
fi

if grep -lF -- "$key" "$work"/*.log; then fail "the API key appears in the output of the runs above"; fi
control POST /_emulator/reset >/dev/null
echo "concurrency: $runs runs, nothing lost, nothing created twice ($((SECONDS - started)) s)"
