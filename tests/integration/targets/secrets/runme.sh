#!/usr/bin/env bash
# The API key never appears in any output. Every run below uses a recognisable canary key (SECRET-CANARY-…, 64
# characters like a real key) and -vvv, which shows module invocations; stdout and stderr of every run are kept and
# searched, with the emulator's request log and state, for the key and for every 12-character piece of it:
#   modules   check+diff on an empty server, the real run, a diff re-run
#   failures  bad input, server refusals, an unreachable server, plain http:// to a remote host (warns), and
#             arguments that ansible-core refuses before it collects the no_log values (sites or goals a string, ...)
#   faults    5xx, reset, timeouts, a late create, an hourly 429: the warnings of every retry
#   echo      a proxy and the API echoing the key back in full and cut off at the excerpt's end
#   role      check+diff, real, re-run, with faults, and failures (bad domain, malformed input)
#   fatal     an unrescued failure (Ansible's error report, exit code 2)
#   ad hoc    `ansible -m` with the key on the command line, and with the key in PLAUSIBLE_API_KEY
#   tokens    a canary plugin token and link password: every module that takes them, check+diff, real, re-run, the
#             failures that show messages, and the role failing unrescued on a misspelt password key
# The token's Basic header (base64) is searched for too.
# On the cells that run the smoke set (plausible_test_smoke), only the runs whose output ansible-core writes (the
# invocation, the diff, the error report) are made: modules check+diff and real, failures, the role's check+diff,
# tokens check+diff, real and fatal, fatal and ad hoc. The others show only this collection's own redaction, which
# does not change with the release; the newest cell makes all of them.
#
# Under ansible-test (make integration) the harness's emulator is used, from ../../integration_config.yml, with the
# canary key seeded into it; by hand, from the repository root, the script starts its own emulator:
#   tests/integration/targets/secrets/runme.sh
set -euo pipefail

cd "$(dirname "$0")"
python='' work='' url='' config=''  # set by runme-common.sh, which shellcheck does not follow
source ../setup_emulator/files/runme-common.sh secrets
started=$SECONDS
smoke=$("$python" -c 'import sys, yaml; print(str(yaml.safe_load(open(sys.argv[1])).get("plausible_test_smoke", False)).lower())' "$config")
all_runs() { [ "$smoke" != true ]; }

# The canary: "SECRET-CANARY-" and 50 random URL-safe characters. It lives only in $work/key (mode 0600) and in
# $work/vars.yml, is seeded into the emulator as a key of its default user, and is never printed.
"$python" -c 'import secrets; print("SECRET-CANARY-" + secrets.token_urlsafe(48)[:50])' >"$work/key"
chmod 600 "$work/key"
"$python" -c 'import secrets; print("SECRET-TOKEN-CANARY-" + secrets.token_urlsafe(48)[:44])' >"$work/token"
"$python" -c 'import secrets; print("SECRET-PASSWORD-CANARY-" + secrets.token_urlsafe(48)[:41])' >"$work/password"
chmod 600 "$work/token" "$work/password"
printf 'plausible_test_api_url: "%s"\nsecrets_api_key: "%s"\nsecrets_plugin_token: "%s"\nsecrets_link_password: "%s"\n' \
    "$url" "$(cat "$work/key")" "$(cat "$work/token")" "$(cat "$work/password")" >"$work/vars.yml"
chmod 600 "$work/vars.yml"

reset() {  # an empty server that knows the canary key, and a site with the canary token
    control POST /_emulator/reset >/dev/null
    control POST /_emulator/seed '{"sites": [{"domain": "tokens-site.example", "shared_links": [{"name": "Private",
        "password": "seeded-password"}]}, {"domain": "other-site.example"}]}' >/dev/null
    control POST /_emulator/plugin-tokens "$("$python" -c '
import json, sys
print(json.dumps({"domain": "tokens-site.example", "token": open(sys.argv[1]).read().strip()}))' "$work/token")" >/dev/null
    control POST /_emulator/seed "$("$python" -c '
import json, sys
print(json.dumps({"keys": [{"key": open(sys.argv[1]).read().strip(), "user": "user@example.com",
                            "scopes": ["sites:provision:*"], "label": "canary"}]}))' "$work/key")" >/dev/null
}

export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_NOCOLOR=1
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

runs=0
run() {  # NAME EXPECTED-EXIT-CODE COMMAND...: run a command, keep its stdout and stderr apart, check its exit code
    local name=$1 expected=$2 status=0
    shift 2
    runs=$((runs + 1))
    "$@" >"$work/out.$name" 2>"$work/err.$name" || status=$?
    echo "=== $name: exit code $status ($(wc -l <"$work/out.$name") lines of stdout, $(wc -l <"$work/err.$name") of stderr)"
    if [ "$status" != "$expected" ]; then
        sed -e "s/$(cat "$work/key")/<CANARY>/g" -e "s/$(cat "$work/token")/<TOKEN>/g" \
            -e "s/$(cat "$work/password")/<PASSWORD>/g" "$work/out.$name" "$work/err.$name" | tail -n 60 >&2
        fail "$name ended with exit code $status, expected $expected (output above, secrets masked)"
    fi
}
playbook() {  # NAME EXPECTED-EXIT-CODE PLAYBOOK ARGS...
    local name=$1 expected=$2
    shift 2
    run "$name" "$expected" ansible-playbook -vvv -e "@$work/vars.yml" "$@"
}

reset
playbook modules-check-diff 0 modules.yml --check --diff
playbook modules 0 modules.yml
all_runs && playbook modules-rerun-diff 0 modules.yml --diff -e secrets_rerun=true
playbook failures 0 failures.yml
if all_runs; then  # (not indented: the Python snippets below must start at column 0)
playbook faults 0 faults.yml

# Answers that echo the key: in full in two 502 pages (retried), cut off where a 200-character excerpt ends, in
# the API's own error, and in a 200 HTML page.
control POST /_emulator/faults "$("$python" -c '
import json, sys
key = open(sys.argv[1]).read().strip()
page = "<html><body><p>Request headers: Authorization: Bearer %s</p></body></html>" % key
print(json.dumps({"method": "GET", "path": "/api/v1/sites/echo-retry.example", "status": 502,
                  "content_type": "text/html", "body": page, "count": 2}))' "$work/key")" >/dev/null
control POST /_emulator/faults "$("$python" -c '
import json, sys
key = open(sys.argv[1]).read().strip()
cut = "<html><body><p>%s Authorization: Bearer %s</p></body></html>" % ("x" * 140, key)
print(json.dumps({"method": "GET", "path": "/api/v1/sites/echo-cut.example", "status": 502,
                  "content_type": "text/html", "body": cut, "count": 1}))' "$work/key")" >/dev/null
control POST /_emulator/faults "$("$python" -c '
import json, sys
key = open(sys.argv[1]).read().strip()
print(json.dumps({"method": "GET", "path": "/api/v1/sites/goals", "status": 401,
                  "json": {"error": "Invalid API key %s. Please make sure you are using a valid API key." % key}, "count": 1}))' "$work/key")" >/dev/null
control POST /_emulator/faults "$("$python" -c '
import json, sys
key = open(sys.argv[1]).read().strip()
print(json.dumps({"method": "GET", "path": "/api/v1/sites/echo-html.example", "status": 200,
                  "content_type": "text/html", "body": "<html><body>Signed in with %s</body></html>" % key, "count": 1}))' "$work/key")" >/dev/null
playbook echo 0 echo.yml
control DELETE /_emulator/faults >/dev/null
fi

reset
playbook role-check-diff 0 role.yml --check --diff
if all_runs; then
    playbook role 0 role.yml
    playbook role-rerun 0 role.yml --diff
    reset
    playbook role-faults 0 role.yml -e secrets_role_faults=true
fi

reset
playbook tokens-check-diff 0 tokens.yml --check --diff
playbook tokens 0 tokens.yml
all_runs && playbook tokens-rerun-diff 0 tokens.yml --diff
playbook tokens-fatal 2 tokens-fatal.yml

playbook fatal 2 fatal.yml
run adhoc 0 ansible localhost -vvv -m plausible.analytics.plausible_site \
    -a "domain=secrets-adhoc.example api_url=$url api_key=$(cat "$work/key")"
PLAUSIBLE_API_KEY=$(cat "$work/key") run adhoc-env 0 ansible localhost -vvv \
    -m plausible.analytics.plausible_site -a "domain=secrets-adhoc-env.example api_url=$url"

# The emulator's own records: the request log and the state (it must store labels, never keys).
control GET /_emulator/requests >"$work/out.emulator-requests"
control GET /_emulator/state >"$work/out.emulator-state"

# Search every output for each secret (the key, the token, its Basic header, the password) and for any 12
# consecutive characters of one.
"$python" - "$work" <<'PYTHON'
import base64
import pathlib
import sys

work = pathlib.Path(sys.argv[1])
key, token, password = ((work / name).read_text().strip() for name in ('key', 'token', 'password'))
assert len(key) == 64 and key.startswith('SECRET-CANARY-'), 'the canary key is malformed'
assert token.startswith('SECRET-TOKEN-CANARY-') and password.startswith('SECRET-PASSWORD-CANARY-'), 'a canary is malformed'
secrets = dict(key=key, token=token, password=password,
               basic=base64.b64encode(('ansible:' + token).encode()).decode())
pieces = dict((secret[i:i + 12], name) for name, secret in secrets.items() for i in range(len(secret) - 11))
outputs = sorted(p for p in work.iterdir() if p.name.startswith(('out.', 'err.')))
leaks = []
for path in outputs:
    text = path.read_text(errors='replace')
    for number, line in enumerate(text.splitlines(), 1):
        found = sorted(piece for piece in pieces if piece in line)
        if found:
            shown = line
            for piece in found:
                shown = shown.replace(piece, '<PIECE>')
            leaks.append('%s:%d: piece(s) of the %s: %s' % (path.name, number, ', '.join(sorted(set(pieces[p] for p in found))),
                                                              shown[:300]))
size = sum(p.stat().st_size for p in outputs)
print('outputs searched: %d (%d bytes), leaks of the key, token or password found: %d' % (len(outputs), size, len(leaks)))
if leaks:
    print('\n'.join(leaks[:40]))
    sys.exit(1)
PYTHON

control POST /_emulator/reset >/dev/null
echo "secrets: $runs runs with -vvv, no output holds the key, the token or the password ($((SECONDS - started)) s)"
