#!/bin/bash
# Scenario: searching the command trail. Exec commands from two users on two
# assets, at two times; `command list` filters by --session, --user, --asset,
# --since, --until and --grep (POSIX ERE), text and JSON output agree, bad
# filters are usage errors. cmdrule list/remove manage the rules (audited),
# and a removed rule no longer applies; rule scopes by group and asset group,
# and priority order (an alert before a block decides).
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
start_target_sshd web
gh_asset_for_target web01
start_target_sshd db
gh_asset_for_target db01
for u in u1 u2 u3 v1 v2; do gh_user "$u"; done
for u in u1 u2 u3; do gh_grant "$u" web01 "$TGT_LOGIN"; done
for u in v1 v2; do gh_grant "$u" db01 "$TGT_LOGIN"; done
start_gatehoused

# json_ids ARGS...: the command texts listed, one a line.
cmds() {
	gh_admin command list --json "$@" >"$GH_T/cl.json" 2>"$GH_T/cl.err" || gh_fail "command list $*: $(cat "$GH_T/cl.err")"
	$PY -c 'import json,sys; [print(r["command"]) for r in json.load(open(sys.argv[1]))]' "$GH_T/cl.json"
}

gh_ssh_cmd "u1@$TGT_LOGIN@web01" 'echo first-web'
gh_expect_eq "u1 exec" "$RC" 0
gh_ssh_cmd "v1@$TGT_LOGIN@db01" 'echo first-db'
gh_expect_eq "v1 exec" "$RC" 0
# A second boundary between the two batches.
sleep 1.1
MID=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1.1
gh_ssh_cmd "u2@$TGT_LOGIN@web01" 'uname -s; echo second-web'
gh_expect_eq "u2 exec" "$RC" 0
gh_ssh_cmd "v2@$TGT_LOGIN@db01" 'echo second-db'
gh_expect_eq "v2 exec" "$RC" 0

gh_expect_eq "all" "$(cmds | tr '\n' '|')" "echo first-web|echo first-db|uname -s; echo second-web|echo second-db|"
gh_expect_eq "--user" "$(cmds --user u2 | tr '\n' '|')" "uname -s; echo second-web|"
gh_expect_eq "--asset" "$(cmds --asset db01 | tr '\n' '|')" "echo first-db|echo second-db|"
gh_expect_eq "--since" "$(cmds --since "$MID" | tr '\n' '|')" "uname -s; echo second-web|echo second-db|"
gh_expect_eq "--until" "$(cmds --until "$MID" | tr '\n' '|')" "echo first-web|echo first-db|"
gh_expect_eq "--grep" "$(cmds --grep '^echo (first|second)-db$' | tr '\n' '|')" "echo first-db|echo second-db|"
gh_expect_eq "--grep anywhere" "$(cmds --grep 'uname' | tr '\n' '|')" "uname -s; echo second-web|"
gh_expect_eq "combined" "$(cmds --asset web01 --since "$MID" --grep web | tr '\n' '|')" "uname -s; echo second-web|"
SID=$(gh_sql "SELECT session_id FROM commands WHERE command = 'echo first-db'")
gh_expect_eq "--session" "$(cmds --session "$SID" | tr '\n' '|')" "echo first-db|"
gh_expect_eq "no match" "$(cmds --user nobody | tr '\n' '|')" ""

# Text output: one row per command, with the offset gatehouse-play takes.
gh_admin command list --asset db01 >"$GH_T/cl.txt" 2>&1 || gh_fail "command list (text)"
gh_expect_match "text header" "$(head -1 "$GH_T/cl.txt")" 'ID +TIME +SESSION +FROM +USER'
gh_expect_eq "text rows" "$(grep -c 'echo .*-db' "$GH_T/cl.txt")" 2
gh_expect_match "text from" "$(grep first-db "$GH_T/cl.txt")" ' 0:0[0-9] '

# Usage errors.
for bad in "--since yesterday" "--grep a(" "--session x"; do
	# shellcheck disable=SC2086
	if gh_admin command list $bad >"$GH_T/bad.out" 2>&1; then
		gh_fail "command list $bad was accepted"
	fi
done

# Rules: list in decision order, remove (audited), a removed rule stops applying.
gh_admin cmdrule add --pattern 'second' --action alert --priority 50 >/dev/null || gh_fail "cmdrule add"
gh_admin cmdrule add --pattern 'first' --action block --asset web01 --priority 5 >/dev/null || gh_fail "cmdrule add 2"
gh_admin cmdrule list --json >"$GH_T/rules.json" || gh_fail "cmdrule list"
gh_expect_eq "rule order" "$($PY -c 'import json,sys; print(",".join(r["pattern"]+"/"+r["action"]+"/"+str(r["asset"]) for r in json.load(open(sys.argv[1]))))' "$GH_T/rules.json")" \
	"first/block/web01,second/alert/None"
gh_ssh_cmd "u3@$TGT_LOGIN@web01" 'echo first-again'
gh_expect_eq "blocked before removal" "$RC" 126
RID=$(gh_sql "SELECT id FROM cmdrules WHERE pattern = 'first'")
gh_admin cmdrule remove "$RID" >/dev/null || gh_fail "cmdrule remove"
gh_expect_audit 1 type=cmdrule.remove "object=cmdrule:$RID" result=ok
gh_expect_audit 2 type=cmdrule.add result=ok
if gh_admin cmdrule remove "$RID" >/dev/null 2>&1; then gh_fail "removing a missing rule succeeded"; fi
gh_user u4
gh_grant u4 web01 "$TGT_LOGIN"
gh_ssh_cmd "u4@$TGT_LOGIN@web01" 'echo first-again'
gh_expect_eq "allowed after removal" "$RC" 0
gh_expect_eq "after removal" "$OUT" "first-again"

# Scopes: --group (the user's groups), --asset-group (the asset's groups),
# and priority: the first matching rule decides, even an alert before a block.
start_target_sshd web2
gh_admin group add g1 >/dev/null || gh_fail "group add g1"
gh_admin group add prod >/dev/null || gh_fail "group add prod"
gh_admin asset add web02 --host 127.0.0.1 --port "$TGT_PORT" --hostkey "$TGT_DIR/host_key.pub" --group prod \
	>/dev/null || gh_fail "asset add web02"
gh_account web02 "$TGT_LOGIN" "$TGT_DIR/client_key"
for u in w1 w2 w3 w4 w5 w6; do
	gh_user "$u"
	gh_grant "$u" web01 "$TGT_LOGIN"
	gh_grant "$u" web02 "$TGT_LOGIN"
done
gh_admin group member add g1 w1 >/dev/null || gh_fail "group member add"
gh_admin cmdrule add --pattern 'GROUPONLY' --action block --group g1 >/dev/null || gh_fail "rule --group"
gh_admin cmdrule add --pattern 'PRODONLY' --action block --asset-group prod >/dev/null || gh_fail "rule --asset-group"
gh_admin cmdrule add --pattern 'PRIO' --action block --priority 20 >/dev/null || gh_fail "rule prio block"
gh_admin cmdrule add --pattern 'PRIO' --action alert --priority 10 >/dev/null || gh_fail "rule prio alert"
gh_ssh_cmd "w1@$TGT_LOGIN@web01" 'echo GROUPONLY'
gh_expect_eq "group member blocked" "$RC" 126
gh_ssh_cmd "w2@$TGT_LOGIN@web01" 'echo GROUPONLY'
gh_expect_eq "non-member allowed" "$RC" 0
gh_ssh_cmd "w3@$TGT_LOGIN@web02" 'echo PRODONLY'
gh_expect_eq "asset in group blocked" "$RC" 126
gh_ssh_cmd "w4@$TGT_LOGIN@web01" 'echo PRODONLY'
gh_expect_eq "asset not in group allowed" "$RC" 0
gh_ssh_cmd "w5@$TGT_LOGIN@web01" 'echo PRIO'
gh_expect_eq "alert at priority 10 decides" "$RC" 0
gh_expect_eq "prio action" "$(gh_sql "SELECT action FROM commands WHERE user = 'w5'")" alerted
echo "t_cmd_list: ok"
