#!/bin/bash
# Scenario: the authorization matrix of the role shell over SSH. Every
# command of the admin table x every role, through `ssh NAME@bastion --
# COMMAND --help` (the role check comes before --help: allowed prints the
# usage, refused says "not permitted"), exactly as architecture.md's roles
# table says; then real uses on the boundaries: an operator lists only its
# own sessions and cannot see or play another's, a superadmin cannot play a
# recording, read the audit trail beyond its own actions, export or delete
# it; an operator replays only its own; an auditor reads, replays and
# verifies but changes nothing. Every
# command is a shell.command audit event with actor and source. Each user
# logs in once (control master), every command is its own exec channel.
. "$(dirname "$0")/lib-ssh.sh"
. "$(dirname "$0")/lib-role.sh"

MKREC=$GH_B/tests/helpers/mkrec
[ -x "$MKREC" ] || gh_fail "no $MKREC"

gh_data_init
gh_user aud auditor
gh_user op1 operator
gh_user op2 operator

# Two recorded sessions (writer API), one per operator.
mkdir -p "$GH_DATA/recordings"
i=0
for u in op1 op2; do
	i=$((i + 1))
	uuid=0b7e6c1a-0000-4000-8000-00000000000$i
	read -r head frames < <("$MKREC" "$GH_DATA/recordings/$uuid.ghrec") || gh_fail "mkrec"
	sqlite3 -cmd '.timeout 10000' "$GH_DATA/gatehouse.db" "INSERT INTO sessions (uuid, user, source_addr, source_port,
		asset, login, start, end, end_reason, state, recording, rec_frames, rec_head) VALUES ('$uuid', '$u',
		'127.0.0.1', 40001, 'web01', 'root', 1795000000, 1795000600, 'client closed', 'closed',
		'recordings/$uuid.ghrec', $frames, '$head');" || gh_fail "insert session"
done
OP1_SESSION=$(gh_sql "SELECT id FROM sessions WHERE user = 'op1'")
OP2_SESSION=$(gh_sql "SELECT id FROM sessions WHERE user = 'op2'")
start_gatehoused

for u in admin aud op1 op2; do
	role_master "$u"
done

# ---- the matrix ----------------------------------------------------------
# Expected from architecture.md's roles table: S superadmin, A auditor, O
# operator. A command the table gains must be classified here too.
declare -A EXPECT=(
	["init"]="local"
	["user add"]=S ["user list"]=S ["user show"]=S ["user lock"]=S ["user unlock"]=S ["user remove"]=S
	["user passwd"]=S ["user totp-reset"]=S
	["group add"]=S ["group list"]=S ["group remove"]=S ["group member add"]=S ["group member remove"]=S
	["asset add"]=S ["asset list"]=S ["asset show"]=S ["asset remove"]=S ["asset hostkey"]=S
	["account add"]=S ["account list"]=S ["account remove"]=S
	["grant add"]=S ["grant list"]=S ["grant remove"]=S
	["cmdrule add"]=S ["cmdrule remove"]=S ["cmdrule list"]=SA
	["audit list"]=SA ["audit verify"]=A ["audit export"]=A ["compliance"]=SA ["retention run"]=-
	["session list"]=SAO ["session show"]=SAO ["command list"]=SAO
	["kill"]=SA ["play"]=AO ["watch"]=AO ["verify"]=AO ["reveal"]=A
)

# Every command of the table (the local CLI lists them all).
"$GHA" -d "$GH_DATA" --help >"$GH_T/help.out" 2>&1 || true
mapfile -t ALL < <(sed -n 's/^  \([a-z][a-z -]*[a-z]\)  .*/\1/p' "$GH_T/help.out" | sed 's/ *$//')
[ ${#ALL[@]} -ge 30 ] || gh_fail "cannot list the commands: $(cat "$GH_T/help.out")"

checked=0
for cmd in "${ALL[@]}"; do
	[ -n "${EXPECT[$cmd]+x}" ] || gh_fail "command '$cmd' is not in the matrix: classify it (architecture.md roles)"
	for u in admin aud op1; do
		case $u in admin) letter=S ;; aud) letter=A ;; op1) letter=O ;; esac
		# shellcheck disable=SC2086
		role_run "$u" $cmd --help
		if [ "${EXPECT[$cmd]}" = local ]; then
			[ "$RC" != 0 ] || gh_fail "$cmd ran over SSH as $u"
			gh_expect_match "$cmd is local ($u)" "$OUT$ERR" "runs only locally"
		elif [[ ${EXPECT[$cmd]} == *$letter* ]]; then
			[ "$RC" = 0 ] || gh_fail "$u may run '$cmd' but got status $RC: $ERR"
			gh_expect_match "$cmd --help as $u" "$OUT" "^usage: gatehouse $cmd"
		else
			[ "$RC" = 1 ] || gh_fail "$u must not run '$cmd' (status $RC, out [$OUT], err [$ERR])"
			gh_expect_match "$cmd refused for $u" "$ERR" "'$cmd' is not permitted for role"
		fi
		checked=$((checked + 1))
	done
done
gh_log "matrix: $checked command x role pairs"
# Every refusal is audited.
[ "$(gh_audit_count actor=op1 type=command.denied)" -gt 20 ] || gh_fail "refusals of op1 not audited"

# ---- real uses on the boundaries -----------------------------------------
# superadmin configures
role_run admin user list --json
[ "$RC" = 0 ] || gh_fail "admin user list: $ERR"
echo "$OUT" | $PY -c 'import json,sys; names={u["name"] for u in json.load(sys.stdin)}; assert {"admin","aud","op1","op2"} <= names, names' ||
	gh_fail "user list --json: $OUT"
role_run admin group add ops
[ "$RC" = 0 ] || gh_fail "admin group add: $ERR"
gh_expect_eq "group created" "$(gh_sql "SELECT count(*) FROM groups WHERE name = 'ops'")" 1
# ... and cannot read recordings or the others' audit events, nor delete any
role_run admin play "$OP1_SESSION"
gh_expect_match "superadmin play" "$ERR" "'play' is not permitted for role superadmin"
role_run admin verify "$OP1_SESSION"
[ "$RC" = 1 ] || gh_fail "superadmin verify allowed"
role_run admin audit export
gh_expect_match "superadmin audit export" "$ERR" "not permitted"
role_run admin audit list --json
[ "$RC" = 0 ] || gh_fail "admin audit list: $ERR"
echo "$OUT" | $PY -c 'import json,sys; a={e["actor"] for e in json.load(sys.stdin)}; assert a <= {"admin"}, a' ||
	gh_fail "superadmin sees others' audit events"
role_run admin session show "$OP1_SESSION"
gh_expect_match "superadmin session show of another" "$ERR" "not found"
before=$(gh_sql "SELECT count(*) FROM audit")
for attempt in "audit delete" "audit remove 1" "audit purge" "audit clear" "session remove $OP1_SESSION" \
	"session delete $OP1_SESSION" "recording delete $OP1_SESSION" "audit"; do
	# shellcheck disable=SC2086
	role_run admin $attempt
	[ "$RC" != 0 ] || gh_fail "'$attempt' succeeded"
done
after=$(gh_sql "SELECT count(*) FROM audit")
[ "$after" -gt "$before" ] || gh_fail "the audit trail did not grow"
gh_expect_eq "sessions kept" "$(gh_sql "SELECT count(*) FROM sessions")" 2
[ -s "$GH_DATA/recordings/0b7e6c1a-0000-4000-8000-000000000001.ghrec" ] || gh_fail "recording gone"

# operator: own sessions only
role_run op1 session list --json
[ "$RC" = 0 ] || gh_fail "op1 session list: $ERR"
echo "$OUT" | $PY -c 'import json,sys; u=[s["user"] for s in json.load(sys.stdin)]; assert u == ["op1"], u' ||
	gh_fail "op1 sees: $OUT"
role_run op1 session list --user op2
[ "$RC" = 1 ] || gh_fail "op1 listed op2's sessions"
role_run op1 session show "$OP2_SESSION"
gh_expect_match "op1 show op2's session" "$ERR" "not found"
role_run op1 session show "$OP1_SESSION"
[ "$RC" = 0 ] || gh_fail "op1 cannot see its own session: $ERR"
# replay, watch and verify: own sessions only (architecture.md)
role_run op1 play "$OP2_SESSION"
[ "$RC" = 1 ] || gh_fail "op1 played op2's session"
gh_expect_match "op1 play of op2's session" "$ERR" "session '$OP2_SESSION' not found"
gh_expect_nomatch "op1 play of op2's session" "$OUT" "Welcome"
role_run op1 verify "$OP2_SESSION"
gh_expect_match "op1 verify of op2's session" "$ERR" "not found"
role_run op1 watch "$OP2_SESSION"
gh_expect_match "op1 watch of op2's session" "$ERR" "not found"
role_run op1 play "$OP1_SESSION" --max-idle 0
[ "$RC" = 0 ] || gh_fail "op1 cannot replay its own session: $ERR"
gh_expect_match "op1 replays its own session" "$OUT" "Welcome to web01"
role_run op2 session list
gh_expect_nomatch "op2 list" "$OUT" "op1"

# auditor: reads, replays, verifies, exports; changes nothing
role_run aud session list --json
echo "$OUT" | $PY -c 'import json,sys; u=sorted(s["user"] for s in json.load(sys.stdin)); assert u == ["op1","op2"], u' ||
	gh_fail "auditor sees: $OUT"
role_run aud play "$OP2_SESSION" --max-idle 0
[ "$RC" = 0 ] || gh_fail "auditor play: $ERR"
gh_expect_match "replayed output" "$OUT" "Welcome to web01"
role_run aud verify "$OP1_SESSION"
[ "$RC" = 0 ] || gh_fail "auditor verify: $OUT $ERR"
gh_expect_match "verify" "$OUT" "^OK"
role_run aud audit export
[ "$RC" = 0 ] || gh_fail "auditor export: $ERR"
gh_expect_match "export has the admin's events" "$OUT" '"actor": ?"admin"'
role_run aud audit verify
[ "$RC" = 0 ] || gh_fail "auditor audit verify: $OUT $ERR"
role_run aud user add mallory --role superadmin
gh_expect_match "auditor user add" "$ERR" "not permitted"
gh_expect_eq "no user mallory" "$(gh_sql "SELECT count(*) FROM users WHERE name = 'mallory'")" 0
role_run aud grant add --user aud --asset web01 --login root
gh_expect_match "auditor grant add" "$ERR" "not permitted"

# Every command is an audit event with actor, source and argv.
n=$(gh_audit_count actor=aud type=shell.command 'source=127.0.0.1:*' 'detail=*"argv":*')
[ "$n" -gt 10 ] || gh_fail "shell.command events of aud: $n"
[ "$(gh_audit_count actor=admin type=shell.command 'detail=*"play"*' result=fail)" -ge 1 ] ||
	gh_fail "the refused play of admin is not a shell.command event"

for u in admin aud op1 op2; do
	role_stop "$u"
done
echo "t_role_matrix: ok"
