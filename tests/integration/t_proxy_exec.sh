#!/bin/bash
# Scenario: one-off commands through the bastion: the exit status comes back
# (exit 3 -> 3), stdout and stderr stay apart (extended data is relayed as
# stderr), stdin reaches the command, and EOF ends it.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
for u in ex1 ex2 ex3 ex4; do
	gh_user $u
	gh_grant $u web01 "$TGT_LOGIN"
done
start_gatehoused

gh_ssh_cmd "ex1@$TGT_LOGIN@web01" 'echo TO_STDOUT; echo TO_STDERR >&2; exit 3'
gh_expect_eq "exit status" "$RC" 3
gh_expect_eq "stdout" "$OUT" TO_STDOUT
gh_expect_match "stderr" "$ERR" '^TO_STDERR$'
gh_expect_nomatch "stderr in stdout" "$OUT" TO_STDERR

gh_ssh_cmd "ex2@$TGT_LOGIN@web01" 'exit 0'
gh_expect_eq "exit 0" "$RC" 0

# stdin to the command, EOF closes it: tr ends only when it sees EOF.
RC=0
out=$(printf 'hello through the bastion\n' | gh_ssh "ex3@$TGT_LOGIN@web01" 'tr a-z A-Z; echo DONE' 2>"$GH_T/ex3.err") || RC=$?
gh_expect_eq "stdin exit status" "$RC" 0
gh_expect_eq "stdin round trip" "$out" "$(printf 'HELLO THROUGH THE BASTION\nDONE')"

# A command killed by a signal: OpenSSH's client reports 255 for an
# exit-signal, and a bastion that dropped it would give 0 or hang.
gh_ssh_cmd "ex4@$TGT_LOGIN@web01" 'echo BEFORE_KILL; kill -KILL $$'
gh_expect_eq "output before the signal" "$OUT" BEFORE_KILL
[ "$RC" -ne 0 ] || gh_fail "command killed by SIGKILL reported success"
gh_expect_audit 4 'type=auth*' result=ok
echo "t_proxy_exec: ok"
