#!/usr/bin/env bash
# Integration test of the role plausible.analytics.onboard, in phases, each checked through the emulator:
#   check    --check on an empty server: only reads, nothing on the server or on disk, a predicted fact
#   create   the real run: the server's sites, goals and links; requests sent once for the whole play
#   rerun    again (with -v): PLAY RECAP changed=0, no write but the shared links' find-or-create
#   recheck  --check on the complete server: changed=0, reads only
#   purge    a custom property and a guest added behind the role's back; --check with plausible_purge_custom_properties
#            and plausible_purge_guests predicts their deletion and deletes nothing; the real run deletes them
#   serial   the README's pattern for serial plays: the role in a first play, a play with serial: 1 reading its
#            result from hostvars: changed=0, and the requests of one re-run for all three batches
#   mixed    a play whose second host has no plausible_sites: the role runs on both, the first host's site is created
#   bad input: wrong shapes fail before any request, with a message that names the input
# and no output of any phase contains the API key.
#
# Under ansible-test (make integration) the harness's emulator is used, from ../../integration_config.yml.
# By hand, from the repository root, with ansible-playbook (ansible-core >= 2.19) and requests on PATH:
#   tests/integration/targets/role_onboard/runme.sh
# starts its own emulator (tests/emulator/server.py) and stops it at the end.
set -euo pipefail

cd "$(dirname "$0")"
python='' work='' config='' url='' key=''  # set by runme-common.sh, which shellcheck does not follow
source ../setup_emulator/files/runme-common.sh role_onboard

api() {  # METHOD PATH JSON-BODY: a request to the Sites API with the test key (never printed)
    "$python" -c '
import sys, urllib.request
request = urllib.request.Request(sys.argv[1] + sys.argv[3], data=sys.argv[4].encode(), method=sys.argv[2],
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + sys.argv[5]})
urllib.request.urlopen(request, timeout=30).read()' "$url" "$1" "$2" "$3" "$key"
}
requests_count() {
    "$python" -c '
import json, sys, urllib.request
print(len(json.load(urllib.request.urlopen(sys.argv[1] + "/_emulator/requests", timeout=30))))' "$url"
}

export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_NOCOLOR=1
export ANSIBLE_LOCALHOST_WARNING=false

play() {  # NAME PLAYBOOK ARGS...: run a playbook, keep its output in $work/NAME.log and show it
    local name=$1; shift
    echo "=== $name"
    set +e
    ansible-playbook -i inventory.ini -e "@$config" -e "role_onboard_dir=$work/snippets" "$@" >"$work/$name.log" 2>&1
    local status=$?
    set -e
    if [ -n "${quiet:-}" ]; then  # only the errors (a failed argument spec check prints the whole spec per host)
        grep -A2 '^\[ERROR\]' "$work/$name.log" | awk '!seen[$0]++' | sed "s/$key/<API KEY>/g" || true
    else
        sed "s/$key/<API KEY>/g" "$work/$name.log"
    fi
    return $status
}
phase() {  # NAME ARGS...: one phase of onboard.yml on a cleared request log
    local name=$1; shift
    control DELETE /_emulator/requests >/dev/null
    play "$name" onboard.yml -e "role_onboard_phase=$name" "$@" || fail "phase $name failed (output above)"
}

control POST /_emulator/reset >/dev/null
mkdir -p "$work/snippets/web1" "$work/snippets/web2" "$work/snippets/web3"

phase check --check
[ "$(changed check)" -gt 0 ] || fail "check mode on an empty server predicted no change"

phase create
[ "$(changed create)" -gt 0 ] || fail "the first run reported no change"

phase rerun -v
[ "$(changed rerun)" = 0 ] || fail "the re-run reported changed=$(changed rerun); it must be 0"

phase recheck --check
[ "$(changed recheck)" = 0 ] || fail "check mode on the complete server predicted changed=$(changed recheck)"

api PUT /api/v1/sites/custom-props '{"site_id": "shop.example.com", "property": "legacy"}'
api PUT /api/v1/sites/guests '{"site_id": "shop.example.com", "email": "former@shop.example.com", "role": "editor"}'
purge='{"plausible_purge_custom_properties": true, "plausible_purge_guests": true}'
phase purgecheck --check -e "$purge"
[ "$(changed purgecheck)" -gt 0 ] || fail "check mode with purge predicted no change"
phase purge -e "$purge"
[ "$(changed purge)" -gt 0 ] || fail "the purge reported no change"

control DELETE /_emulator/requests >/dev/null
play serial serial.yml || fail "phase serial failed (output above)"
[ "$(changed serial)" = 0 ] || fail "the serial pattern reported changed=$(changed serial)"

# A host without plausible_sites beside one with a site: both run the role, the site is created once.
control POST /_emulator/reset >/dev/null
echo "=== mixed"
ansible-playbook -i inventory-mixed.yml -e "@$config" mixed.yml >"$work/mixed.log" 2>&1 || { sed "s/$key/<API KEY>/g" "$work/mixed.log"; fail "phase mixed failed (output above)"; }
sed "s/$key/<API KEY>/g" "$work/mixed.log"
[ "$(changed mixed)" -gt 0 ] || fail "the play with a host without sites reported no change"
grep -q '"mixed.example.com"' <(control GET /_emulator/state) || fail "mixed.example.com was not created"

# Wrong input fails before any request is sent, with a message that names it.
bad_input() {  # NAME EXPECTED-MESSAGE EXTRA-VARS-JSON
    control DELETE /_emulator/requests >/dev/null
    if quiet=1 play "$1" onboard.yml -e role_onboard_phase=rerun -e "$3"; then fail "bad input $1 did not fail"; fi
    grep -qF -- "$2" "$work/$1.log" || fail "bad input $1 failed without saying: $2"
    [ "$(requests_count)" = 0 ] || fail "bad input $1 sent requests to the server"
}
bad_input sites_not_a_list "Validation of arguments failed" '{"plausible_sites": "example.com"}'
bad_input goal_without_event "goal_type is event but all of the following are missing: event_name" \
    '{"plausible_sites": [{"domain": "example.com", "goals": [{"goal_type": "event"}]}]}'
bad_input no_api_key "plausible_api_key is empty" '{"plausible_api_key": ""}'
bad_input snippet_domain_unknown "plausible_snippet_domain must name the site" \
    '{"plausible_snippet_domain": "elsewhere.example.com"}'
bad_input bad_domain "domain: must not contain URI reserved characters" \
    '{"plausible_sites": [{"domain": "exa&mple.com"}], "plausible_snippet_dest": null}'

if grep -lF -- "$key" "$work"/*.log; then fail "the API key appears in the output above"; fi

control POST /_emulator/reset >/dev/null
echo "role_onboard: all phases passed"
