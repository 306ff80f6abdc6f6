#!/bin/bash
# Attack (issue 15, finding 4): an operator arranges the terminal so that a
# line reaches the target's shell without the bastion judging or logging
# it. Through the real OpenSSH client (tmux), gatehoused, an OpenSSH target
# and bash 5.2, with a block rule on 'rt_blocked', each evasion is tried:
#   1. the alternate screen (printf '\033[?1049h'), then a command;
#   2. readline off and echo off (set +o emacs +o vi; stty -echo);
#   3. echo off and the erase character changed (stty -echo erase Q), seen,
#      and changed where the bastion cannot read it (stty $VAR W);
#   4. a trailing Tab, typed ahead of its echo;
#   5. a bracketed paste of two lines, to readline and to a shell that only
#      pretends to be readline (printf '\033[?2004h' with readline off);
#   6. Ctrl-V (a literal Ctrl-U kept in the line), echo off;
#   7. Ctrl-O, readline's other accept key.
# Each blocked line must not run (its file is absent), is audited
# (command.block) and is a 'blocked' row; each allowed hidden line runs and
# is a command row with confident = false and its reason. Every escape is
# collected and the scenario fails listing them all.
. "$(dirname "$0")/lib-ssh.sh"

export LC_ALL=C.UTF-8

gh_data_init 'audit_jsonl = audit.jsonl'
gh_setup_web01
gh_user mallory
gh_grant mallory web01 "$TGT_LOGIN"
start_gatehoused
gh_admin cmdrule add --pattern 'rt_blocked' --action block >"$GH_T/rule.out" 2>&1 ||
	gh_fail "cmdrule add: $(cat "$GH_T/rule.out")"
RULE=$(gh_sql "SELECT id FROM cmdrules WHERE pattern = 'rt_blocked'")
# Where the target's commands leave their files: a path of digits, since
# the scenario makes Q and W erase characters on the target.
W=/tmp/ghce-$$-$RANDOM
mkdir -p "$W" || gh_fail "mkdir $W"
gh_prev_exit=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "rm -rf '$W'; $gh_prev_exit" EXIT

ESCAPES=()
escape() {
	ESCAPES+=("$1")
	gh_log "ESCAPE: $1"
}

blocks() {
	gh_sql "SELECT count(*) FROM audit WHERE type = 'command.block'"
}

# expect_blocked NAME KEYS...: the keys end a line that must be refused.
expect_blocked() {
	local name=$1 before
	shift
	before=$(blocks)
	gh_tmux_keys "$@"
	if ! gh_wait_for 6 bash -c "[ \"\$(sqlite3 -readonly '$GH_DATA/gatehouse.db' \"SELECT count(*) FROM audit WHERE type = 'command.block'\" 2>/dev/null)\" -gt $before ]"; then
		escape "$name: no command.block event"
	fi
	sleep 0.5
	if compgen -G "$W/$name*" >/dev/null; then
		escape "$name: the blocked line ran on the target ($(ls "$W" | grep -a "$name" | od -c | head -2 | tr -s ' '))"
	fi
}

# expect_ran NAME KEYS...: the keys end an allowed line that must run.
expect_ran() {
	local name=$1
	shift
	gh_tmux_keys "$@"
	gh_wait_for 6 test -e "$W/$name" || gh_fail "$name: the allowed line did not run (test broken)"
}

gh_tmux_start 100 30 "$(gh_ssh_cmdline "mallory@$TGT_LOGIN@web01" -tt)"
gh_tmux_wait 30 '[#$] *$' || gh_fail "no shell prompt"
gh_tmux_keys "exec env -i HOME=$GH_T TERM=xterm HISTFILE=/dev/null PS1='P> ' bash --norc --noprofile" Enter
gh_tmux_wait 15 '^P> $' || gh_fail "no clean bash"
# A plain blocked line: the rule works at all.
expect_blocked rt_blocked0 "touch $W/rt_blocked0" Enter

# 1. The alternate screen: a shell still reading lines.
gh_tmux_keys "printf '\\033[?1049h'" Enter
sleep 0.5
expect_blocked rt_blocked1 "touch $W/rt_blocked1" Enter
expect_ran rt_ok1 "touch $W/rt_ok1" Enter
gh_tmux_keys "printf '\\033[?1049l'" Enter
sleep 0.5

# 2. Readline off, echo off: the terminal's line discipline reads the line.
gh_tmux_keys "set +o emacs +o vi" Enter
sleep 0.3
gh_tmux_keys "stty -echo" Enter
sleep 0.5
expect_blocked rt_blocked2 "touch $W/rt_blocked2" Enter
expect_ran rt_ok2 "touch $W/rt_ok2" Enter
gh_tmux_keys "stty echo; set -o emacs" Enter
sleep 0.5

# 3. Echo off and erase Q (readline honours the terminal's erase
#    character): rt_blockZQed3 is rt_blocked3 on the target.
gh_tmux_keys "stty -echo erase Q" Enter
sleep 0.5
expect_blocked rt_blocked3 "touch $W/rt_blockZQed3" Enter
# ... and the same with an stty the bastion cannot read.
gh_tmux_keys "stty sane; X=erase; stty -echo \$X W" Enter
sleep 0.5
expect_blocked rt_blocked3b "touch $W/rt_blockZWed3b" Enter
expect_ran rt_ok3 "touch $W/rt_okXW3" Enter
gh_tmux_keys "stty sane" Enter
sleep 0.5
# (rt_okXW3 is rt_ok3 on the target)
[ -e "$W/rt_ok3" ] || gh_fail "stty erase W did not take effect (test broken): $(ls "$W")"

# 4. A trailing Tab, keys and Enter in one write (ahead of any echo).
expect_blocked rt_blocked4 "touch $W/rt_blocked4" Tab Enter

# 5. Bracketed paste of two lines: to readline (one accepted text) ...
# (tmux pastes the line ends as CRs: readline keeps them in the line, the
# bastion judges at each one what it would submit to a line reader)
printf 'touch %s/rt_ok5\ntouch %s/rt_blocked5\n' "$W" "$W" >"$GH_T/paste5"
tmux -S "$GH_TMUX_SOCK" load-buffer -b p5 "$GH_T/paste5"
before=$(blocks)
tmux -S "$GH_TMUX_SOCK" paste-buffer -p -b p5 -t t
gh_wait_for 6 bash -c "[ \"\$(sqlite3 -readonly '$GH_DATA/gatehouse.db' \"SELECT count(*) FROM audit WHERE type = 'command.block'\" 2>/dev/null)\" -gt $before ]" ||
	escape "rt_blocked5: no command.block event"
sleep 0.5
gh_tmux_keys Enter
sleep 0.5
compgen -G "$W/rt_blocked5*" >/dev/null && escape "rt_blocked5: the pasted line ran on the target"
[ -e "$W/rt_ok5" ] && escape "rt_ok5: a line of a refused paste ran (readline runs the paste as one)"
# ... and to a shell that only pretends to be readline: its terminal
# submits each pasted line by itself.
printf 'touch %s/rt_ok5b\ntouch %s/rt_blocked5b\n' "$W" "$W" >"$GH_T/paste5b"
tmux -S "$GH_TMUX_SOCK" load-buffer -b p5b "$GH_T/paste5b"
gh_tmux_keys "set +o emacs +o vi; printf '\\033[?2004h'" Enter
sleep 0.5
before=$(blocks)
tmux -S "$GH_TMUX_SOCK" paste-buffer -p -b p5b -t t
gh_wait_for 6 bash -c "[ \"\$(sqlite3 -readonly '$GH_DATA/gatehouse.db' \"SELECT count(*) FROM audit WHERE type = 'command.block'\" 2>/dev/null)\" -gt $before ]" ||
	escape "rt_blocked5b: no command.block event"
sleep 0.5
compgen -G "$W/rt_blocked5b*" >/dev/null && escape "rt_blocked5b: the pasted line ran on the target"
gh_tmux_keys "printf '\\033[?2004l'; set -o emacs" Enter
sleep 0.5

# 6. Ctrl-V: a literal Ctrl-U stays in the line (echo off).
gh_tmux_keys "stty -echo" Enter
sleep 0.5
expect_blocked rt_blocked6 "touch $W/rt_blocked6" C-v C-u Enter
gh_tmux_keys "stty echo" Enter
sleep 0.5

# 7. Ctrl-O: readline's operate-and-get-next accepts the line too.
expect_blocked rt_blocked7 "touch $W/rt_blocked7" C-o
gh_tmux_keys C-c
sleep 0.3

gh_tmux_keys "exit 0" Enter
gh_tmux_wait 15 'GH_EXIT=' || gh_fail "the session did not end"
gh_wait_sessions_closed 15 || gh_fail "session still active"

# The command log: every line, the hidden ones with confident = false and
# a reason, the blocked ones as blocked rows; the events.
gh_admin command list --json >"$GH_T/cmds.json" 2>"$GH_T/cmds.err" || gh_fail "command list: $(cat "$GH_T/cmds.err")"
$PY - "$GH_T/cmds.json" "$W" "$RULE" >"$GH_T/rows.out" 2>&1 <<'PYEOF' || true
import json, sys
rows = json.load(open(sys.argv[1]))
w, rule = sys.argv[2], int(sys.argv[3])
bad = []
def find(sub, **kw):
    m = [r for r in rows if sub in r["command"] and all(r.get(k) == v for k, v in kw.items())]
    if not m:
        bad.append("no row %s %s" % (sub, kw))
    return m
for n in ["rt_blocked0", "rt_blocked1", "rt_blocked2", "rt_blocked3", "rt_blocked3b", "rt_blocked4",
          "rt_blocked5", "rt_blocked5b", "rt_blocked6", "rt_blocked7"]:
    find(n, action="blocked", rule=rule)
for n, why in [("rt_ok1", "alternate screen"), ("rt_ok2", "not echoed"), ("rt_okXW3", "not echoed")]:
    for r in find(n, action="allowed"):
        if r["confident"] or why not in (r.get("reason") or ""):
            bad.append("row %r: confident %s reason %r, want false and %r" % (r["command"], r["confident"], r.get("reason"), why))
for r in rows:
    if r["action"] == "blocked" and r["rule"] != rule:
        bad.append("blocked row without the rule: %r" % r)
if bad:
    print("\n".join(bad))
sys.exit(1 if bad else 0)
PYEOF
if [ -s "$GH_T/rows.out" ]; then
	while IFS= read -r l; do escape "command log: $l"; done <"$GH_T/rows.out"
	gh_log "rows: $(cat "$GH_T/cmds.json")"
fi
n=$(gh_audit_count type=command.block result=blocked importance=high "detail=*rt_block*")
[ "$n" -ge 10 ] || escape "command.block events: $n, want >= 10"
# the export streams the rows with their reason
grep -q '"reason":"alternate screen' "$GH_DATA/audit.jsonl" || escape "no reason in the JSON-lines export"

if [ ${#ESCAPES[@]} -gt 0 ]; then
	printf 'ESCAPED: %s\n' "${ESCAPES[@]}" >&2
	gh_fail "${#ESCAPES[@]} evasions got through"
fi
echo "t_attack_cmd_escape: ok"
