# shellcheck shell=bash
# Sourced by the script targets (runme.sh), from their own folder:
#   source ../setup_emulator/files/runme-common.sh NAME
# Under ansible-test it uses the harness's emulator (../../integration_config.yml); by hand, from a checkout, it starts
# one of its own and stops it at exit. Afterwards these are set:
#   python  the test Python (it has PyYAML)        work    a private folder, removed at exit
#   config  a vars file with plausible_test_api_url and plausible_test_api_key
#   url, key  the same two values (never print the key)
# and these defined: fail MESSAGE, control METHOD PATH [JSON-BODY] (the emulator's control API; answer on stdout),
# changed NAME, requests and no_write NAME (below: what a playbook run logged in $work/NAME.log changed or sent).

python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python || command -v python3)}
work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
chmod 700 "$work"
emulator_pid=
cleanup() {
    if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

config=../../integration_config.yml
if [ -f "$config" ]; then
    config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
else
    server=../../../emulator/server.py
    [ -f "$server" ] || fail "no $config and no $server: run this under ansible-test or from a checkout"
    key=$1-$RANDOM$RANDOM$RANDOM
    "$python" "$server" --host 127.0.0.1 --port 0 --api-key "$key" >"$work/emulator.out" 2>"$work/emulator.log" &
    emulator_pid=$!
    for _ in $(seq 100); do [ -s "$work/emulator.out" ] && break; sleep 0.1; done
    url=$(head -n 1 "$work/emulator.out")
    [ -n "$url" ] || { cat "$work/emulator.log" >&2; fail "the emulator did not start"; }
    printf 'plausible_test_api_url: %s\nplausible_test_api_key: %s\n' "$url" "$key" >"$work/config.yml"
    config=$work/config.yml
    if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]; then
        mkdir -p "$work/collections/ansible_collections/plausible"
        ln -s "$(cd ../../../.. && pwd)" "$work/collections/ansible_collections/plausible/analytics"
        export ANSIBLE_COLLECTIONS_PATH=$work/collections
    fi
fi
read -r url key < <("$python" -c '
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
print(config["plausible_test_api_url"].rstrip("/"), config["plausible_test_api_key"])' "$config")

control() { "$python" ../setup_emulator/files/control.py "$url" "$@"; }
changed() {  # NAME: the sum of changed= over the PLAY RECAP of $work/NAME.log
    awk '/^PLAY RECAP/ { recap = 1; next } recap && /changed=/ {
        for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { split($i, kv, "="); sum += kv[2]; hosts++ } }
        END { print hosts ? sum + 0 : "none" }' "$work/$1.log"
}
requests() {  # the methods and paths of the requests since the last clearing, one per line
    control GET /_emulator/requests | "$python" -c '
import json, sys
for request in json.load(sys.stdin):
    print(request["method"], request["path"])'
}
no_write() {  # NAME: the request log since NAME started holds reads only, and at least one
    local log
    log=$(requests)
    echo "$log"
    [ -n "$log" ] || fail "$1 sent no request at all"
    if grep -v '^GET ' <<<"$log"; then fail "$1 sent the writes above"; fi
}
