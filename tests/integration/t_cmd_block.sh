#!/bin/bash
# Scenario: command rules through the bastion on a real bash behind a real
# sshd. Block and alert, for exec channels and interactive pty shells:
#  - exec block: exit status 126, the message on stderr, the command never ran
#    (its side effect, a file, is absent), a command.block audit event and a
#    command row with action 'blocked';
#  - exec alert: the command runs, command.alert (high) is audited;
#  - interactive block: the Enter is held back, the operator sees one line
#    naming the rule, the file is absent, the line is not in the shell's
#    history, and the next command runs at a fresh prompt;
#  - a password typed at a no-echo prompt that matches a block rule is
#    refused like any line (issue 15), but never stored, audited or
#    exported as text;
#  - interactive alert: runs, audited at once (before the session ends), and
#    both the alert and the command row stream to the JSON-lines export.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'audit_jsonl = audit.jsonl'
gh_setup_web01
for u in ex1 ex2 ia1 ia2; do
	gh_user "$u"
	gh_grant "$u" web01 "$TGT_LOGIN"
done
start_gatehoused

gh_admin cmdrule add --pattern 'touch .*BLOCKME' --action block --priority 10 >"$GH_T/r1.out" 2>&1 ||
	gh_fail "cmdrule add block: $(cat "$GH_T/r1.out")"
gh_admin cmdrule add --pattern 'ALERTME' --action alert >"$GH_T/r2.out" 2>&1 ||
	gh_fail "cmdrule add alert: $(cat "$GH_T/r2.out")"
# A rule for another user must not apply to these users.
gh_admin cmdrule add --pattern 'echo' --action block --user admin --priority 1 >"$GH_T/r3.out" 2>&1 ||
	gh_fail "cmdrule add scoped: $(cat "$GH_T/r3.out")"
# An invalid regex is refused.
if gh_admin cmdrule add --pattern 'a(' --action block >"$GH_T/r4.out" 2>&1; then
	gh_fail "an invalid pattern was accepted"
fi
# So is one that matches an empty command (it would match every command).
if gh_admin cmdrule add --pattern 'x*' --action block >"$GH_T/r5.out" 2>&1; then
	gh_fail "a pattern matching the empty command was accepted"
fi
BLOCK_ID=$(gh_sql "SELECT id FROM cmdrules WHERE pattern = 'touch .*BLOCKME'")
ALERT_ID=$(gh_sql "SELECT id FROM cmdrules WHERE pattern = 'ALERTME'")

# ---- exec block
gh_ssh_cmd "ex1@$TGT_LOGIN@web01" "touch $GH_T/BLOCKME-exec"
gh_expect_eq "exit status of a blocked exec" "$RC" 126
gh_expect_match "exec block message" "$ERR" "gatehouse: command blocked by rule $BLOCK_ID \\(touch \\.\\*BLOCKME\\)"
[ ! -e "$GH_T/BLOCKME-exec" ] || gh_fail "the blocked exec command ran on the target"
gh_expect_audit 1 type=command.block result=blocked importance=high "detail=*BLOCKME-exec*"

# ---- exec alert
gh_ssh_cmd "ex2@$TGT_LOGIN@web01" "echo ALERTME > $GH_T/alert-exec"
gh_expect_eq "exit status of an alerted exec" "$RC" 0
[ -e "$GH_T/alert-exec" ] || gh_fail "the alerted exec command did not run"
gh_expect_audit 1 type=command.alert importance=high "detail=*alert-exec*"

# ---- interactive
gh_tmux_start 100 30 "$(gh_ssh_cmdline "ia1@$TGT_LOGIN@web01" -tt)"
gh_tmux_wait 30 '[#$] *$' || gh_fail "no shell prompt"
gh_tmux_keys "exec env -i HOME=$GH_T TERM=xterm HISTFILE=$GH_T/hist PS1='P> ' bash --norc --noprofile" Enter
gh_tmux_wait 15 '^P> $' || gh_fail "no clean bash"
# Typed, echoed, then Enter: screen and keys agree (confident).
gh_tmux_keys "touch $GH_T/BLOCKME-i"
gh_tmux_wait 10 "BLOCKME-i\$" || gh_fail "no echo"
gh_tmux_keys Enter
gh_tmux_wait 10 "gatehouse: command blocked by rule $BLOCK_ID \\(touch" || gh_fail "no block message on the terminal"
gh_tmux_wait 10 '^P> $' || gh_fail "no fresh prompt after the block"
# Keys and Enter in one write, before any echo: the typed keys decide.
gh_tmux_keys "touch $GH_T/BLOCKME-fast" Enter
sleep 1
gh_tmux_wait 10 '^P> $' || gh_fail "no fresh prompt after the second block"
gh_tmux_keys "echo after-block-\$((6*7))" Enter
gh_tmux_wait 10 '^after-block-42$' || gh_fail "the shell did not work after a block"
# A password typed at a no-echo prompt is judged like any line (issue 15:
# a prompt that looks like a password prompt must not be a way around the
# rules), so one that matches a block rule is refused; it is still never
# stored, audited or exported as text (the row holds its length).
gh_tmux_keys "read -s -p 'Password: ' PW" Enter
gh_tmux_wait 10 'Password: $' || gh_fail "no password prompt"
gh_tmux_keys 'touch pwBLOCKME'
sleep 0.3
nblock=$(gh_sql "SELECT count(*) FROM audit WHERE type = 'command.block'")
gh_tmux_keys Enter
gh_wait_for 10 bash -c "[ \"\$(sqlite3 -readonly '$GH_DATA/gatehouse.db' \"SELECT count(*) FROM audit WHERE type = 'command.block'\" 2>/dev/null)\" -gt $nblock ]" ||
	gh_fail "a password matching a block rule was not refused"
gh_tmux_wait 10 '^P> $' || gh_fail "no prompt after the refused password"
# One that matches no rule goes through.
gh_tmux_keys "read -s -p 'Password: ' PW" Enter
gh_tmux_wait 10 'Password: $' || gh_fail "no second password prompt"
gh_tmux_keys 'pw-fine-42'
sleep 0.3
gh_tmux_keys Enter
gh_tmux_wait 10 'Password: P> $' || gh_fail "the password's Enter was held back"
gh_tmux_keys 'echo pwlen=${#PW}' Enter
gh_tmux_wait 10 '^pwlen=10$' || gh_fail "read -s did not get the password"
gh_tmux_keys "echo ALERTME > $GH_T/alert-i" Enter
gh_wait_for 10 test -e "$GH_T/alert-i" || gh_fail "the alerted interactive command did not run"
# The alert is audited while the session is still running.
gh_wait_for 10 bash -c "[ \"\$(sqlite3 -readonly '$GH_DATA/gatehouse.db' \"SELECT count(*) FROM audit WHERE type = 'command.alert' AND detail LIKE '%alert-i%'\" 2>/dev/null)\" -ge 1 ]" ||
	gh_fail "no command.alert event while the session runs"
# shellcheck disable=SC2016
JSONL_CHECK='import json,sys
recs = [json.loads(l) for l in open(sys.argv[1])]
alert = [r for r in recs if r.get("type") == "command.alert" and "alert-i" in r["detail"]["command"]]
cmd = [r for r in recs if r.get("record") == "command" and r["command"].endswith("alert-i") and r["action"] == "alerted"]
sys.exit(0 if alert and cmd and alert[0]["importance"] == "high" and cmd[0]["source"] == "screen" else 1)'
gh_wait_for 10 $PY -c "$JSONL_CHECK" "$GH_DATA/audit.jsonl" ||
	gh_fail "the alert or the command row did not stream to audit.jsonl: $(tail -5 "$GH_DATA/audit.jsonl")"
# A rule added while the session runs applies to it within seconds.
gh_admin cmdrule add --pattern 'touch .*LATE' --action block >/dev/null || gh_fail "cmdrule add (live)"
LATE_ID=$(gh_sql "SELECT id FROM cmdrules WHERE pattern = 'touch .*LATE'")
sleep 5.5
gh_tmux_keys "touch $GH_T/LATE-i"
gh_tmux_wait 10 "LATE-i\$" || gh_fail "no echo (late rule)"
gh_tmux_keys Enter
gh_tmux_wait 10 "gatehouse: command blocked by rule $LATE_ID" || gh_fail "a rule added during the session did not apply"
gh_tmux_wait 10 '^P> $' || gh_fail "no prompt after the late block"
gh_tmux_keys "history -w" Enter
gh_wait_for 10 test -s "$GH_T/hist" || gh_fail "no history written"
gh_tmux_keys "exit" Enter
gh_tmux_wait 15 'GH_EXIT=0' || gh_fail "shell did not exit"
gh_wait_sessions_closed 15 || gh_fail "session still active"

[ ! -e "$GH_T/BLOCKME-i" ] || gh_fail "the blocked interactive command ran on the target"
[ "$(gh_sql "SELECT count(*) FROM commands WHERE command LIKE '%pwBLOCKME%'")" = 0 ] || gh_fail "the password is in the commands"
[ "$(gh_sql "SELECT count(*) FROM audit WHERE detail LIKE '%pwBLOCKME%'")" = 0 ] || gh_fail "the password is in the audit trail"
grep -q pwBLOCKME "$GH_DATA/audit.jsonl" && gh_fail "the password is in the JSON-lines export"
[ ! -e "$GH_T/BLOCKME-fast" ] || gh_fail "the blocked type-ahead command ran on the target"
[ ! -e "$GH_T/LATE-i" ] || gh_fail "the command blocked by a late rule ran on the target"
grep -q BLOCKME "$GH_T/hist" && gh_fail "the blocked line is in the target shell's history: $(cat "$GH_T/hist")"
grep -q 'after-block' "$GH_T/hist" || gh_fail "history lacks the command after the block: $(cat "$GH_T/hist")"
gh_expect_audit 1 type=command.block result=blocked importance=high "detail=*BLOCKME-i*" "detail=*screen*"
# The recording shows the operator's view: the message is in it.
gh_recording_has "gatehouse: command blocked by rule $BLOCK_ID" || gh_fail "the block message is not in the recording"

# An exec with a pty (`ssh -t host bash`) is interactive too: tracked and
# checked like a shell.
tmux -S "$GH_TMUX_SOCK" kill-server 2>/dev/null || true
gh_tmux_start 100 30 "$(gh_ssh_cmdline "ia2@$TGT_LOGIN@web01" -tt) env -i HOME=$GH_T TERM=xterm PS1=\'Q\>\ \' bash --norc --noprofile"
gh_tmux_wait 30 '^Q> $' || gh_fail "no bash prompt in the exec channel"
gh_tmux_keys "touch $GH_T/BLOCKME-t"
gh_tmux_wait 10 "BLOCKME-t\$" || gh_fail "no echo (exec pty)"
gh_tmux_keys Enter
gh_tmux_wait 10 "gatehouse: command blocked by rule $BLOCK_ID" || gh_fail "no block in an exec pty channel"
# (a bare `exit` would return 130: the abandoned line set $?)
gh_tmux_keys "exit 0" Enter
gh_tmux_wait 15 'GH_EXIT=0' || gh_fail "exec bash did not exit"
[ ! -e "$GH_T/BLOCKME-t" ] || gh_fail "the blocked command ran in an exec pty channel"

# The command rows.
gh_admin command list --json >"$GH_T/cmds.json" 2>"$GH_T/cmds.err" || gh_fail "command list: $(cat "$GH_T/cmds.err")"
$PY - "$GH_T/cmds.json" "$GH_T" "$BLOCK_ID" "$ALERT_ID" <<'PYEOF' || gh_fail "command rows: $(cat "$GH_T/cmds.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
t, bid, aid = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def one(cmd, **kw):
    m = [r for r in rows if r["command"] == cmd]
    assert len(m) == 1, (cmd, m)
    for k, v in kw.items():
        assert m[0][k] == v, (cmd, k, m[0][k], v)
one(f"touch {t}/BLOCKME-exec", source="exec", action="blocked", rule=bid, user="ex1")
one(f"echo ALERTME > {t}/alert-exec", source="exec", action="alerted", rule=aid, user="ex2")
one(f"touch {t}/BLOCKME-i", source="screen", action="blocked", rule=bid, user="ia1", confident=True)
one(f"touch {t}/BLOCKME-fast", source="screen", action="blocked", rule=bid, user="ia1")
one(f"touch {t}/BLOCKME-t", source="screen", action="blocked", rule=bid, user="ia2")
one("echo after-block-$((6*7))", source="screen", action="allowed", rule=None)
one(f"echo ALERTME > {t}/alert-i", source="screen", action="alerted", rule=aid)
PYEOF
echo "t_cmd_block: ok"
