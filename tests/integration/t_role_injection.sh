#!/bin/bash
# Scenario: argument injection through the role shell. Command strings go
# through a strict splitter, never a shell: quotes, `;`, `|`, `$()`,
# backticks are plain text (then refused by name validation or as unknown
# arguments), newlines, escape characters and NUL are refused, very long
# arguments and too many words are refused, options that would make the
# bastion read one of its own files are refused. Nothing is created, no file
# appears, every attempt is an audit event.
. "$(dirname "$0")/lib-ssh.sh"
. "$(dirname "$0")/lib-role.sh"

gh_data_init
start_gatehoused
role_master admin
P=$GH_T/pwned
users_before=$(gh_sql "SELECT count(*) FROM users")
groups_before=$(gh_sql "SELECT count(*) FROM groups")

attempt() { # STATUS-GLOB COMMAND-STRING [ERE on stderr]
	role_run admin "$2"
	# shellcheck disable=SC2053
	[[ $RC == $1 ]] || gh_fail "[$2]: status $RC (want $1), out [$OUT], err [$ERR]"
	[ -z "${3:-}" ] || gh_expect_match "[$2]" "$ERR" "$3"
}

attempt 1 "user add 'x;touch $P.1' --role operator" "invalid user name"
attempt '[12]' "user add x\$(touch $P.2) --role operator"
attempt '[12]' "user add \`touch $P.3\` --role operator"
attempt 2 "user list; touch $P.4" "unknown command 'user list;'"
attempt 2 "user list | tee $P.5" "unexpected argument"
attempt 2 "user list && touch $P.6" "unexpected argument"
attempt 1 "group add \"\$(id)\"" "invalid group name '\\\$\(id\)'"
attempt 1 "group add 'a b'" "invalid group name 'a b'"
attempt 2 "user list 'unterminated" "unbalanced single quote"
attempt 2 "user list \"unterminated" "unbalanced double quote"
attempt 2 "$(printf 'user list\ntouch %s.7' "$P")" "control characters"
attempt 2 "$(printf 'group add \033[2Jx')" "control characters"
attempt 2 "group add $(head -c 9000 /dev/zero | tr '\0' a)" "longer than 8192 bytes"
attempt 2 "group add $(printf 'w %.0s' $(seq 70))" "too many words"
attempt 1 "group add $(head -c 300 /dev/zero | tr '\0' a)" "invalid group name"
# Files on the bastion are not read on a remote user's behalf.
attempt 2 "user add eve --role operator --pubkey /etc/passwd" "names a file on the bastion"
attempt 2 "user add eve --role operator --pub=/etc/passwd" "names a file on the bastion"
attempt 2 "account add web01 root --key $GH_DATA/master.key" "names a file on the bastion"
attempt 2 "asset hostkey web01 --fi /etc/ssh/ssh_host_ed25519_key.pub" "names a file on the bastion"
# Secrets are not taken from the command line, nor written to the trail.
attempt 2 "user add eve --role operator --totp-secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" "would put a secret on the command line"
attempt 2 "user add eve --role operator --totp=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ" "would put a secret on the command line"
# Quotes work as quotes: a quoted type is one argument.
attempt 0 "audit list --type 'user'"
attempt 0 'group add "ops-1"'
gh_expect_eq "quoted name" "$(gh_sql "SELECT name FROM groups ORDER BY id DESC LIMIT 1")" ops-1

# NUL: OpenSSH cannot send one in a command; the line mode (a shell channel
# without a pty, commands on stdin) can, and the splitter refuses it.
printf 'group add ok-2\ngroup add a\0b\ngroup add ok-3\n' | role_ssh admin -T >"$GH_T/lines.out" 2>"$GH_T/lines.err"
gh_expect_match "NUL refused" "$(cat "$GH_T/lines.err")" "a NUL byte is not allowed"
gh_expect_eq "lines before and after the NUL ran" \
	"$(gh_sql "SELECT group_concat(name) FROM (SELECT name FROM groups WHERE name LIKE 'ok-%' ORDER BY name)")" "ok-2,ok-3"
gh_expect_eq "no group with a NUL" "$(gh_sql "SELECT count(*) FROM groups WHERE name LIKE 'a%'")" 0

# Secrets come from the channel's input, never from argv: without a pty,
# one line (the prompt goes to stderr, stdout stays the result).
gh_user carl operator
NEWPW=$(gh_random_password)
printf '%s\n' "$NEWPW" | role_ssh admin "user passwd carl" >"$GH_T/pw.out" 2>"$GH_T/pw.err" ||
	gh_fail "user passwd from stdin: $(cat "$GH_T/pw.err")"
gh_expect_match "prompt on stderr" "$(cat "$GH_T/pw.err")" "New password:"
gh_expect_match "result on stdout" "$(cat "$GH_T/pw.out")" "password of 'carl' changed"
grep -qF -- "$NEWPW" "$GH_T/pw.out" "$GH_T/pw.err" && gh_fail "the password was echoed"
role_run admin "user passwd carl"
[ "$RC" = 1 ] || gh_fail "user passwd without input: $RC"
gh_expect_match "no input" "$ERR" "no password given"
gh_expect_audit 1 actor=admin type=user.passwd result=ok object=user:carl
users_before=$((users_before + 1))

for i in 1 2 3 4 5 6 7; do
	[ ! -e "$P.$i" ] || gh_fail "$P.$i was created: something ran a shell"
done
gh_expect_eq "no user created" "$(gh_sql "SELECT count(*) FROM users")" "$users_before"
gh_expect_eq "only the legitimate groups" "$(gh_sql "SELECT count(*) FROM groups")" $((groups_before + 3))
# Every attempt is audited; refused lines carry the reason, not a shell's view.
gh_expect_audit 20 actor=admin type=shell.command 'source=127.0.0.1:*'
gh_expect_audit 2 actor=admin type=shell.command 'detail=*control characters*'
gh_expect_audit 4 actor=admin type=shell.command 'detail=*file option refused*'
gh_expect_audit 2 actor=admin type=shell.command 'detail=*secret option refused*'
grep -q JBSWY3DPEHPK3PXP "$GH_T/audit.json" && gh_fail "a TOTP secret reached the audit trail"
# A lock applies to the next command of an open role shell, not at the next login.
gh_user sam2 superadmin
role_master sam2
role_run sam2 group list
[ "$RC" = 0 ] || gh_fail "sam2 group list: $ERR"
role_run admin user lock sam2
[ "$RC" = 0 ] || gh_fail "lock sam2: $ERR"
role_run sam2 group add evil
[ "$RC" = 1 ] || gh_fail "a locked superadmin ran a command ($RC)"
gh_expect_match "locked" "$ERR" "your account is locked"
gh_expect_eq "no group evil" "$(gh_sql "SELECT count(*) FROM groups WHERE name = 'evil'")" 0
role_stop sam2
role_stop admin
echo "t_role_injection: ok"
