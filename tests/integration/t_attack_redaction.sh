#!/bin/bash
# Attack (issue 15, finding 4): redaction as a hiding place. Unechoed input
# was recorded as its length only, so an operator who turned the echo off
# (stty -echo) ran commands that were in neither the command log nor the
# recording. Now:
#  - a command typed with echo off is judged (a block rule holds), logged
#    (confident = false, "not echoed") and recorded as typed;
#  - a secret typed at a real password prompt (read -s -p 'Password: ') is
#    in no plain record, row, audit event or export: it is sealed
#    (REC_INPUT_SEALED) and its row says so by length only;
#  - an auditor's `reveal SESSION --reason ...` over SSH shows it, and a
#    recording.reveal event (importance high) holds the reason;
#  - an operator and a superadmin cannot reveal (refused and audited);
#    locally, gatehouse-admin reveal needs an auditor's password and TOTP
#    code, refuses a wrong one and audits both;
#  - gatehouse-play --info counts the sealed bytes, never shows them.
. "$(dirname "$0")/lib-ssh.sh"
. "$(dirname "$0")/lib-role.sh"

export LC_ALL=C.UTF-8
RECDUMP=$GH_B/tests/helpers/recdump
GHP=$GH_BUILD/gatehouse-play
[ -x "$RECDUMP" ] || gh_fail "missing $RECDUMP (make test-build)"

gh_data_init 'audit_jsonl = audit.jsonl'
gh_setup_web01
gh_user olga
gh_grant olga web01 "$TGT_LOGIN"
gh_user audra auditor
gh_user audi2 auditor
gh_user odin
start_gatehoused
gh_admin cmdrule add --pattern 'rd_blocked' --action block >"$GH_T/rule.out" 2>&1 ||
	gh_fail "cmdrule add: $(cat "$GH_T/rule.out")"
W=/tmp/ghrd-$$-$RANDOM
mkdir -p "$W" || gh_fail "mkdir $W"
gh_prev_exit=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\\1/")
# shellcheck disable=SC2064
trap "rm -rf '$W'; $gh_prev_exit" EXIT
SECRET=Pw$((RANDOM % 900 + 100))SealMe$((RANDOM % 90 + 10))

FAILS=()
bad() {
	FAILS+=("$1")
	gh_log "FAIL: $1"
}

gh_tmux_start 100 30 "$(gh_ssh_cmdline "olga@$TGT_LOGIN@web01" -tt)"
gh_tmux_wait 30 '[#$] *$' || gh_fail "no shell prompt"
gh_tmux_keys "exec env -i HOME=$W TERM=xterm HISTFILE=/dev/null PS1='P> ' bash --norc --noprofile" Enter
gh_tmux_wait 15 '^P> $' || gh_fail "no clean bash"
# Echo off: a command and a blocked one.
gh_tmux_keys "stty -echo" Enter
sleep 0.5
gh_tmux_keys "touch $W/rd_ok1" Enter
gh_wait_for 6 test -e "$W/rd_ok1" || gh_fail "the unechoed command did not run (test broken)"
before=$(gh_sql "SELECT count(*) FROM audit WHERE type = 'command.block'")
gh_tmux_keys "touch $W/rd_blocked2" Enter
sleep 1
[ -e "$W/rd_blocked2" ] && bad "a blocked command typed without echo ran"
[ "$(gh_sql "SELECT count(*) FROM audit WHERE type = 'command.block'")" -gt "$before" ] ||
	bad "no command.block for the unechoed blocked command"
gh_tmux_keys "stty echo" Enter
sleep 0.5
# A real password prompt: the secret is read without echo.
gh_tmux_keys "read -s -p 'Password: ' PW; echo; echo \"len=\${#PW}\"" Enter
gh_tmux_wait 10 'Password: $' || gh_fail "no password prompt"
sleep 0.3
gh_tmux_keys -l "$SECRET"
gh_tmux_keys Enter
gh_tmux_wait 10 "^len=${#SECRET}\$" || gh_fail "read -s did not get the secret"
gh_tmux_screen | grep -qF "$SECRET" && gh_fail "the target echoed the secret (test broken)"
gh_tmux_keys "exit 0" Enter
gh_tmux_wait 15 'GH_EXIT=' || gh_fail "the session did not end"
gh_wait_sessions_closed 15 || gh_fail "session still active"
SID=$(gh_sql "SELECT id FROM sessions WHERE user = 'olga'")
REC=$(gh_sql "SELECT recording FROM sessions WHERE id = $SID")

# The unechoed command: logged as typed, not confident, with the reason;
# recorded as typed.
gh_admin command list --session "$SID" --json >"$GH_T/cmds.json" 2>"$GH_T/cmds.err" ||
	gh_fail "command list: $(cat "$GH_T/cmds.err")"
$PY - "$GH_T/cmds.json" "$W" "${#SECRET}" >"$GH_T/rows.out" 2>&1 <<'PYEOF' || true
import json, sys
rows = json.load(open(sys.argv[1]))
w, n = sys.argv[2], int(sys.argv[3])
bad = []
ok = [r for r in rows if r["command"] == "touch %s/rd_ok1" % w]
if not ok or ok[0]["confident"] or "not echoed" not in (ok[0]["reason"] or "") or ok[0]["action"] != "allowed":
    bad.append("unechoed command row: %r" % ok)
bl = [r for r in rows if "rd_blocked2" in r["command"] and r["action"] == "blocked"]
if not bl:
    bad.append("no blocked row for the unechoed blocked command")
sec = [r for r in rows if r["command"].startswith("[secret input: %d bytes" % n)]
if not sec or "secret" not in (sec[0]["reason"] or "") or sec[0]["confident"]:
    bad.append("secret row: %r" % sec)
if bad:
    print("\n".join(bad))
PYEOF
while IFS= read -r l; do [ -n "$l" ] && bad "$l"; done <"$GH_T/rows.out"
"$RECDUMP" "$REC" >"$GH_T/rec.txt" 2>&1 || gh_fail "recording unreadable: $(cat "$GH_T/rec.txt")"
grep -aq "data-in .*touch $W/rd_ok1" "$GH_T/rec.txt" || bad "the unechoed command is not in the recording"
# The secret: in no plain record, row, event, export; sealed instead.
grep -aqF "$SECRET" "$GH_T/rec.txt" && bad "the secret is in a plain record"
zstdcat -q "$REC" | grep -aqF "$SECRET" && bad "the secret is in the decompressed stream"
grep -aq ' input-sealed ch=1 ' "$GH_T/rec.txt" || bad "no input-sealed record"
[ "$(gh_sql "SELECT count(*) FROM commands WHERE command LIKE '%$SECRET%'")" = 0 ] || bad "the secret is in the commands"
[ "$(gh_sql "SELECT count(*) FROM audit WHERE detail LIKE '%$SECRET%'")" = 0 ] || bad "the secret is in the audit trail"
grep -qF "$SECRET" "$GH_DATA/audit.jsonl" && bad "the secret is in the JSON-lines export"
# The player shows the length, not the bytes.
"$GHP" -d "$GH_DATA" "$SID" --info >"$GH_T/info.out" 2>&1 || bad "gatehouse-play --info: $(cat "$GH_T/info.out")"
grep -q "sealed ${#SECRET}" "$GH_T/info.out" || bad "--info does not count the sealed bytes: $(cat "$GH_T/info.out")"
grep -qF "$SECRET" "$GH_T/info.out" && bad "--info shows the secret"

# An auditor reveals it over SSH; the event comes first and holds the why.
role_master audra
role_run audra reveal "$SID" --reason "'case 77: password reuse'"
[ "$RC" = 0 ] || bad "auditor reveal failed ($RC): $ERR"
grep -qF "$SECRET" <<<"$OUT" || bad "reveal does not show the secret: $OUT"
gh_expect_audit 1 type=recording.reveal result=ok importance=high actor=audra "detail=*case 77*" "object=session:*"
# JSON too
role_run audra reveal "$SID" --reason "'case 77'" --json
grep -qF "\"text\": \"$SECRET\"" <<<"$OUT" || bad "reveal --json: $OUT"
role_stop audra

# An operator and a superadmin cannot, and the attempt is audited.
role_master odin
role_run odin reveal "$SID" --reason "'curious'"
[ "$RC" != 0 ] || bad "an operator could run reveal"
grep -qF "$SECRET" <<<"$OUT$ERR" && bad "an operator saw the secret"
gh_expect_audit 1 type=command.denied actor=odin object=command:reveal
role_stop odin
role_master admin
role_run admin reveal "$SID" --reason "'curious'"
[ "$RC" != 0 ] || bad "a superadmin could run reveal"
grep -qF "$SECRET" <<<"$OUT$ERR" && bad "a superadmin saw the secret"
gh_expect_audit 1 type=command.denied actor=admin object=command:reveal
role_stop admin

# Locally: an auditor's credentials are required.
if gh_admin reveal "$SID" --reason x >"$GH_T/l1.out" 2>&1; then
	bad "local reveal without --auditor worked"
fi
printf '%s\n%s\n' "wrong-password" "000000" | gh_admin reveal "$SID" --reason "local check" --auditor audi2 \
	>"$GH_T/l2.out" 2>&1 && bad "local reveal with a wrong password worked"
grep -qF "$SECRET" "$GH_T/l2.out" && bad "a wrong password showed the secret"
gh_expect_audit 1 type=recording.reveal result=fail "actor=audi2 (local*" "detail=*wrong password*"
printf '%s\n%s\n' "$(gh_user_pw olga)" "$(gh_totp_now "$(gh_user_totp olga)")" |
	gh_admin reveal "$SID" --reason "local check" --auditor olga >"$GH_T/l3.out" 2>&1 &&
	bad "local reveal as an operator worked"
printf '%s\n%s\n' "$(gh_user_pw audi2)" "$(gh_totp_now "$(gh_user_totp audi2)")" |
	gh_admin reveal "$SID" --reason "local check" --auditor audi2 >"$GH_T/l4.out" 2>&1 ||
	bad "local reveal by an auditor failed: $(cat "$GH_T/l4.out")"
grep -qF "$SECRET" "$GH_T/l4.out" || bad "local reveal does not show the secret"
gh_expect_audit 1 type=recording.reveal result=ok "actor=audi2 (local*" "detail=*local check*"

if [ ${#FAILS[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${FAILS[@]}" >&2
	gh_fail "${#FAILS[@]} checks failed"
fi
echo "t_attack_redaction: ok"
