#!/bin/bash
# Scenario: a second target implementation (Dropbear) passes the basic tests:
# exec with output and exit status, a shell fed on stdin (no pty), and a pty
# shell with its terminal size.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
start_dropbear db
gh_asset_for_target dbear
for u in sam sam2 sam3; do
	gh_user $u
	gh_grant $u dbear "$TGT_LOGIN"
done
start_gatehoused

gh_ssh_cmd "sam@$TGT_LOGIN@dbear" 'echo DROPBEAR_$((1+1)); echo E >&2; exit 5'
gh_expect_eq "exec status" "$RC" 5
gh_expect_eq "exec output" "$OUT" DROPBEAR_2
gh_expect_match "exec stderr" "$ERR" '^E$'
# Dropbear really served it: its log shows the bastion's key login.
grep -q "auth succeeded" "$TGT_DIR/dropbear.log" || gh_fail "dropbear log shows no login"

RC=0
out=$(printf 'echo SHELL_$((2+3))\nexit 0\n' | gh_ssh "sam2@$TGT_LOGIN@dbear" 2>"$GH_T/sam2.err") || RC=$?
gh_expect_eq "stdin shell status" "$RC" 0
gh_expect_match "stdin shell output" "$out" 'SHELL_5'

gh_tmux_start 90 20 "$(gh_ssh_cmdline "sam3@$TGT_LOGIN@dbear" -tt)"
gh_tmux_wait 30 '[#$] *$' || gh_fail "no shell prompt from dropbear"
gh_tmux_keys 'echo SZ=$(stty size)' Enter
gh_tmux_wait 10 'SZ=20 90' || gh_fail "pty size not relayed to dropbear"
gh_tmux_keys 'exit' Enter
gh_tmux_wait 15 'GH_EXIT=0' || gh_fail "pty shell did not end cleanly"
echo "t_proxy_dropbear: ok"
