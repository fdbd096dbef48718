#!/usr/bin/env bash
# The demo behind `make demo`: onboard three sites with their goals and shared links to a local Plausible API
# emulator, show what changed, run again and prove that nothing changes, then print a snippet and a shared link.
#
# It needs only python3 (>= 3.11) and the package index: on first use it creates .venvs/demo with ansible-core and
# requests. The emulator is stopped whatever happens. Nothing outside the repository's .venvs/ is left behind.
#
#   bash docs/examples/demo.sh          (or: make demo)
#
# Environment: PYTHON (default python3) to choose the interpreter of the venv; DEMO_VENV (default .venvs/demo).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}
venv=${DEMO_VENV:-$repo/.venvs/demo}
playbook=$here/onboard.yml

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
die() { printf '\ndemo FAILED: %s\n' "$*" >&2; exit 1; }

# -- a venv with ansible-core and requests -------------------------------------------------------------------------
if ! "$venv/bin/python" -c 'import ansible, requests' 2>/dev/null; then
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$python is $("$python" -V 2>&1); the emulator and ansible-core 2.19+ need Python 3.11 or newer (set PYTHON=...)"
    say "Creating $venv (ansible-core, requests); later runs reuse it"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'ansible-core>=2.19' requests
fi

# -- the emulator and a collection path, both removed on exit ------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/plausible-demo.XXXXXX")
emulator_pid=
cleanup() {
    if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
        kill "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
        echo "(emulator stopped)"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

key=demo-$RANDOM$RANDOM
"$venv/bin/python" "$repo/tests/emulator/server.py" --host 127.0.0.1 --port 0 --api-key "$key" \
    >"$work/emulator.out" 2>"$work/emulator.log" &
emulator_pid=$!
url=
for _ in $(seq 100); do
    url=$(head -n 1 "$work/emulator.out" 2>/dev/null || true)
    [ -n "$url" ] && break
    kill -0 "$emulator_pid" 2>/dev/null || break
    sleep 0.1
done
case "$url" in
    http://127.0.0.1:*) ;;
    *) cat "$work/emulator.log" >&2; die "the emulator did not start (first line: '$url')" ;;
esac
say "Emulator of the Plausible API running at $url"

mkdir -p "$work/collections/ansible_collections/plausible"
ln -s "$repo" "$work/collections/ansible_collections/plausible/analytics"

# The playbook reads PLAUSIBLE_API_URL and PLAUSIBLE_API_KEY; here they point at the emulator, whatever the shell had.
export PLAUSIBLE_API_URL=$url PLAUSIBLE_API_KEY=$key
export ANSIBLE_COLLECTIONS_PATH=$work/collections ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_LOCAL_TEMP=$work/tmp
export ANSIBLE_REMOTE_TMP=$work/tmp ANSIBLE_CALLBACK_RESULT_FORMAT=yaml
# The output goes through tee; keep Ansible's colours when the demo runs in a terminal.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then export ANSIBLE_FORCE_COLOR=1; fi

# Runs the playbook, shows its output, and prints the sum of changed= over the PLAY RECAP lines.
run_playbook() {
    local log=$1; shift
    "$venv/bin/ansible-playbook" "$playbook" "$@" 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] || die "ansible-playbook exited with $status"
}
changed_in() {
    sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '/^PLAY RECAP/ { recap = 1; next }
        recap && /changed=/ { for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { split($i, kv, "="); sum += kv[2]; hosts++ } }
        END { if (!hosts) { print "none"; exit } print sum + 0 }'
}

say "First run (with --diff): everything is created"
run_playbook "$work/first.log" --diff
first=$(changed_in "$work/first.log")
[ "$first" != none ] || die "no PLAY RECAP in the first run's output"
[ "$first" -gt 0 ] || die "the first run changed nothing on an empty server"

say "Second run: nothing may change"
run_playbook "$work/second.log"
second=$(changed_in "$work/second.log")
[ "$second" = 0 ] || die "the second run reported changed=$second; it must be 0"

requests=$("$venv/bin/python" - "$url" <<'PYTHON'
import collections, json, sys, urllib.request
log = json.load(urllib.request.urlopen(sys.argv[1] + '/_emulator/requests', timeout=10))
print(', '.join('%d %s' % (n, m) for m, n in sorted(collections.Counter(r['method'] for r in log).items())))
PYTHON
)

say "Done"
echo "First run: changed=$first. Second run: changed=0, as it must be."
echo "Requests the emulator received over both runs: $requests."
echo "The same playbook runs against plausible.io with PLAUSIBLE_API_URL and PLAUSIBLE_API_KEY set."
