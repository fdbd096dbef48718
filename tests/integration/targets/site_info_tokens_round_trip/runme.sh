#!/usr/bin/env bash
# Adopting an account with its sites' plugin tokens, then the role with funnels, each phase checked through the
# emulator's request log and state:
#   hosted    seed sites with goals, shared links (one protected) and funnels; export with api_key and plugin_tokens;
#             the export holds the links ({name, password_protected: true} for the protected one) and the funnels, and
#             no token or password; the role on it (each site given its token) with --check and for real: changed=0,
#             no write, one funnel listing for the one site with funnels
#   funnels   the role adds a funnel: --check writes nothing, the real run sends one PUT, a re-run writes nothing;
#             without the site's token it fails before any request, naming the site
#   ce        a Community Edition server: export from the tokens alone (what is left out is said), role --check and
#             real on it: changed=0, no write
# and no output of any phase holds the API key, a token or a link password.
#
# Under ansible-test (make integration) the harness's emulator is used, from ../../integration_config.yml.
# By hand, from the repository root: tests/integration/targets/site_info_tokens_round_trip/runme.sh
set -euo pipefail

cd "$(dirname "$0")"
python='' work='' config='' key=''  # set by runme-common.sh, which shellcheck does not follow
source ../setup_emulator/files/runme-common.sh site_info_tokens_round_trip
# The emulator is shared with the targets after this one: leave it a hosted server, whatever happens.
trap 'control POST /_emulator/config "{\"edition\": \"hosted\"}" >/dev/null 2>&1 || true; cleanup' EXIT

export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_NOCOLOR=1
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

include='["tracker", "goals", "shared_links", "funnels"]'
with_key=true
secrets=("$key")

run() {  # NAME PLAYBOOK ARGS...: run a playbook on a cleared request log; output in $work/NAME.log; returns its status
    local name=$1 status; shift
    echo "=== $name"
    control DELETE /_emulator/requests >/dev/null
    set +e
    ansible-playbook -i localhost, -c local -e "@$config" -e "round_trip_export=$work/plausible_sites.yml" \
        -e "@$work/tokens.yml" -e "{\"round_trip_include\": $include, \"round_trip_with_key\": $with_key}" \
        -e "ansible_python_interpreter={{ ansible_playbook_python }}" "$@" >"$work/$name.log" 2>&1
    status=$?
    set -e
    sed "s/$key/<API KEY>/g" "$work/$name.log"
    return $status
}
play() { run "$@" || fail "$1 failed (output above)"; }
tokens() {  # DOMAIN...: make a token for each site and write round_trip_tokens to $work/tokens.yml
    local domain token
    : >"$work/tokens.yml"
    chmod 600 "$work/tokens.yml"
    echo "round_trip_tokens:" >>"$work/tokens.yml"
    for domain in "$@"; do
        token=$(control POST /_emulator/plugin-tokens "{\"domain\": \"$domain\"}" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["token"])')
        secrets+=("$token")
        echo "  $domain: $token" >>"$work/tokens.yml"
    done
}
funnels_of() {  # DOMAIN: the site's funnels in the server's state, as JSON
    control GET /_emulator/state | "$python" -c '
import json, sys
print(json.dumps([site["funnels"] for site in json.load(sys.stdin)["sites"] if site["domain"] == sys.argv[1]][0]))' "$1"
}

# ---- hosted: export with tokens, the role on it changes nothing ---------------------------------------------------
control POST /_emulator/reset >/dev/null
control POST /_emulator/seed "$(cat seed.json)" >/dev/null
tokens shop.example blog.example

play export export.yml
no_write export
echo "--- the exported vars file"
cat "$work/plausible_sites.yml"
"$python" - "$work/plausible_sites.yml" <<'PY' || fail "the vars file does not hold the seeded links and funnels"
import sys, yaml
sites = {site["domain"]: site for site in yaml.safe_load(open(sys.argv[1]))["plausible_sites"]}
shop, blog = sites["shop.example"], sites["blog.example"]
assert shop["shared_links"] == ["Team", {"name": "Board", "password_protected": True}], shop["shared_links"]
assert shop["funnels"] == [
    {"name": "Signup flow", "steps": [{"goal_type": "page", "page_path": "/pricing"}, {"goal_type": "event", "event_name": "Signup"}]},
    {"name": "Checkout", "steps": [{"goal_type": "page", "page_path": "/cart"},
                                   {"goal_type": "event", "event_name": "Purchase", "currency": "EUR"}]}], shop["funnels"]
assert blog["shared_links"] == ["Readers"] and blog["funnels"] == [], blog
assert all("plugin_token" not in site for site in sites.values())
PY
if grep -F -e s3cret-board "$work/plausible_sites.yml"; then fail "a link password is in the export"; fi

play check onboard.yml --check
[ "$(changed check)" = 0 ] || fail "the role in --check on the export predicted changed=$(changed check); it must be 0"
no_write check

play real onboard.yml
[ "$(changed real)" = 0 ] || fail "the role on the export changed=$(changed real); it must be 0"
log=$(requests)
echo "$log"
if grep -v '^GET ' <<<"$log"; then fail "the role on the export sent the writes above"; fi
[ "$(grep -c '^GET /api/plugins/v1/funnels$' <<<"$log")" = 1 ] || fail "the re-run must list funnels once (shop.example)"

# ---- the role adds a funnel -----------------------------------------------------------------------------------------
new='{"round_trip_new_funnels": {"blog.example": [{"name": "Subscribe", "steps": [{"goal_type": "page", "page_path": "/posts/**"}, {"goal_type": "event", "event_name": "Subscribe"}]}]}}'
play funnel-check onboard.yml --check -e "$new"
[ "$(changed funnel-check)" != 0 ] || fail "the role in --check did not predict the new funnel"
no_write funnel-check
[ "$(funnels_of blog.example)" = "[]" ] || fail "check mode made a funnel"

play funnel-real onboard.yml -e "$new"
[ "$(changed funnel-real)" != 0 ] || fail "the role did not report the new funnel as a change"
[ "$(requests | grep -v '^GET ')" = "PUT /api/plugins/v1/funnels" ] || fail "the new funnel must cost exactly one write"
"$python" -c '
import json, sys
funnels = json.loads(sys.argv[1])
assert [f["name"] for f in funnels] == ["Subscribe"] and len(funnels[0]["steps"]) == 2, funnels' "$(funnels_of blog.example)" \
    || fail "the server does not hold the new funnel"

play funnel-rerun onboard.yml -e "$new"
[ "$(changed funnel-rerun)" = 0 ] || fail "the re-run with the new funnel changed=$(changed funnel-rerun); it must be 0"
no_write funnel-rerun

if run funnel-no-token onboard.yml -e "$new" -e '{"round_trip_tokens": {}}'; then fail "funnels without a token did not fail"; fi
grep -q 'sites\[[0-9]*\] (blog.example): funnels: funnels exist only in the Plugins API' "$work/funnel-no-token.log" \
    || fail "the failure does not name the site and the token it needs"
[ -z "$(requests)" ] || fail "funnels without a token sent requests"

# ---- Community Edition: export from the tokens alone --------------------------------------------------------------
control POST /_emulator/config '{"edition": "ce"}' >/dev/null
control POST /_emulator/reset >/dev/null
control POST /_emulator/seed '{"sites": [{"domain": "ce.example", "goals": [{"event_name": "Signup"}, {"page_path": "/pricing"}],
  "shared_links": ["Team", {"name": "Board", "password": "s3cret-board"}]}]}' >/dev/null
tokens ce.example
with_key=false

play ce-export export.yml
no_write ce-export
cat "$work/plausible_sites.yml"
grep -q 'Left out of the export: timezone' "$work/ce-export.log" || fail "the export does not say what it left out"
"$python" - "$work/plausible_sites.yml" <<'PY' || fail "the vars file does not hold the CE site as its token reads it"
import sys, yaml
sites = yaml.safe_load(open(sys.argv[1]))["plausible_sites"]
assert [site["domain"] for site in sites] == ["ce.example"], sites
site = sites[0]
assert "timezone" not in site and site["funnels"] == [] and site["tracker_script_url"], site
assert site["goals"] == [{"goal_type": "event", "event_name": "Signup"}, {"goal_type": "page", "page_path": "/pricing"}], site
assert site["shared_links"] == ["Team", {"name": "Board", "password_protected": True}], site
PY

play ce-check onboard.yml --check
[ "$(changed ce-check)" = 0 ] || fail "the role in --check on the CE export predicted changed=$(changed ce-check)"
no_write ce-check
play ce-real onboard.yml
[ "$(changed ce-real)" = 0 ] || fail "the role on the CE export changed=$(changed ce-real); it must be 0"
no_write ce-real

for secret in "${secrets[@]}" s3cret-board; do
    if grep -lF -- "$secret" "$work"/*.log; then fail "a secret appears in the output above"; fi
done
control POST /_emulator/reset >/dev/null
echo "site_info_tokens_round_trip: the export with tokens round-trips, and the role manages funnels"
