#!/usr/bin/env bash
# The round trip of adopting an account: seed an account in the emulator (seed.json), export it with
# plausible.analytics.plausible_site_info to a vars file (export.yml), run the role plausible.analytics.onboard on
# that file as it is (onboard.yml), with --check, with --check and purge of custom properties and guests, then for real,
# and require that nothing changes: PLAY RECAP changed=0, and the emulator's request log holds no write.
#
# Under ansible-test (make integration) the harness's emulator is used, from ../../integration_config.yml.
# By hand, from the repository root, with ansible-playbook (ansible-core >= 2.19) and requests on PATH:
#   tests/integration/targets/site_info_round_trip/runme.sh
set -euo pipefail

cd "$(dirname "$0")"
python='' work='' config='' key=''  # set by runme-common.sh, which shellcheck does not follow
source ../setup_emulator/files/runme-common.sh site_info_round_trip

export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_NOCOLOR=1
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

# Everything the role can declare; with tracker, the entries also carry tracker_script_url and snippet (the role
# ignores them).
include='["tracker", "goals", "custom_properties", "guests"]'

play() {  # NAME PLAYBOOK ARGS...: run a playbook on a cleared request log, keep its output in $work/NAME.log, show it
    local name=$1 status; shift
    echo "=== $name"
    control DELETE /_emulator/requests >/dev/null
    set +e
    ansible-playbook -i localhost, -c local -e "@$config" -e "round_trip_export=$work/plausible_sites.yml" \
        -e "{\"round_trip_include\": $include}" -e "ansible_python_interpreter={{ ansible_playbook_python }}" "$@" >"$work/$name.log" 2>&1
    status=$?
    set -e
    sed "s/$key/<API KEY>/g" "$work/$name.log"
    [ "$status" = 0 ] || fail "$name failed (output above)"
}

control POST /_emulator/reset >/dev/null
control POST /_emulator/seed "$(cat seed.json)" >/dev/null

play export export.yml
no_write export
echo "--- the exported vars file"
cat "$work/plausible_sites.yml"
"$python" - "$work/plausible_sites.yml" <<'PY' || fail "the vars file does not hold the seeded account"
import sys, yaml
sites = {site["domain"]: site for site in yaml.safe_load(open(sys.argv[1]))["plausible_sites"]}
assert sorted(sites) == ["agency.example", "blog.example", "shop.example"], sorted(sites)
shop = sites["shop.example"]
assert shop["timezone"] == "Europe/Berlin" and shop["tracker_script_configuration"]["installation_type"] == "manual"
assert len(shop["goals"]) == 6, shop["goals"]  # the scroll goal is set aside
assert sites["blog.example"]["goals"] == [{"goal_type": "event", "event_name": "File Download"}]  # the two Downloads too
assert all("id" not in site.get("tracker_script_configuration", {}) for site in sites.values())
assert shop["custom_properties"] == ["author", "plan"], shop["custom_properties"]
assert shop["guests"] == [{"email": "boss@example.org", "role": "editor"}, {"email": "client@example.org", "role": "viewer"}]
assert all(site["snippet"] and site["tracker_script_url"] in site["snippet"] for site in sites.values())
PY

play check onboard.yml --check
[ "$(changed check)" = 0 ] || fail "the role in --check on the export predicted changed=$(changed check); it must be 0"
no_write check

# Purging what a site has and the file does not declare finds nothing to purge: the export is complete for these kinds.
# (Not goals: skipped_goals are not in the file, so plausible_purge_goals would delete them; the module says so.)
play purge onboard.yml --check -e '{"plausible_purge_custom_properties": true, "plausible_purge_guests": true}'
[ "$(changed purge)" = 0 ] || fail "purging after the export predicted changed=$(changed purge); it must be 0"
no_write purge

play real onboard.yml
[ "$(changed real)" = 0 ] || fail "the role on the export changed=$(changed real); it must be 0"
no_write real

if grep -lF -- "$key" "$work"/*.log; then fail "the API key appears in the output above"; fi
control POST /_emulator/reset >/dev/null
echo "site_info_round_trip: the export round-trips"
