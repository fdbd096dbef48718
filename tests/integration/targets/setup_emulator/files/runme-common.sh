# shellcheck shell=bash
# Sourced by the script targets (runme.sh), from their own folder:
#   source ../setup_emulator/files/runme-common.sh NAME
# Under ansible-test it uses the harness's emulator (../../integration_config.yml); by hand, from a checkout, it starts
# one of its own and stops it at exit. Afterwards these are set:
#   python  the test Python (it has PyYAML)        work    a private folder, removed at exit
#   config  a vars file with plausible_test_api_url and plausible_test_api_key
#   url, key  the same two values (never print the key)
# and these defined: fail MESSAGE, control METHOD PATH [JSON-BODY] (the emulator's control API; answer on stdout).

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
