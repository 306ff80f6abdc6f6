#!/bin/bash
# Scenario: the interactive role shell of a superadmin in a real terminal
# (tmux + OpenSSH -tt): banner and prompt, help, tab completion of command
# names, history with the arrow keys, line editing (Home, Delete, Ctrl-U,
# Ctrl-W), a command that asks for a password twice without echo, Ctrl-C on
# a line, and exit with status 0. An auditor's role shell offers the
# auditor's commands only; an operator without a target still gets the menu.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_user carol operator
gh_user dave operator
gh_user audrey auditor
start_gatehoused

gh_tmux_start 120 40 "$(gh_ssh_cmdline admin -tt)"
gh_tmux_wait 30 'gatehouse\(admin\)> $' || gh_fail "no role shell prompt"
gh_tmux_screen | grep -q "Gatehouse role shell for admin (superadmin)" || gh_fail "no banner"

# help
gh_tmux_keys -l 'help'
gh_tmux_keys Enter
gh_tmux_wait 10 'exit, quit' || gh_fail "help does not list exit"
gh_tmux_screen | grep -Eq '^  user passwd +set a user' || gh_fail "help does not list user passwd"
gh_tmux_screen | grep -Eq '^  play ' && gh_fail "help lists play for a superadmin"

# tab completion: "us<Tab>" -> "user ", "li<Tab>" -> "user list "
gh_tmux_keys C-l
gh_tmux_keys -l 'us'
gh_tmux_keys Tab
gh_tmux_wait 5 'gatehouse\(admin\)> user $' || gh_fail "Tab did not complete 'us'"
gh_tmux_keys -l 'li'
gh_tmux_keys Tab
gh_tmux_wait 5 'gatehouse\(admin\)> user list $' || gh_fail "Tab did not complete 'user li'"
gh_tmux_keys Enter
gh_tmux_wait 10 '^carol +operator' || gh_fail "user list did not run"
# Two candidates: a second Tab lists them.
gh_tmux_keys C-l
gh_tmux_keys -l 'user lo'
gh_tmux_keys Tab
gh_tmux_wait 5 'gatehouse\(admin\)> user lock $' || gh_fail "Tab did not complete 'user lo'"
gh_tmux_keys C-u
gh_tmux_keys -l 'user '
gh_tmux_keys Tab
gh_tmux_wait 5 '^  user totp-reset$' || gh_fail "Tab on 'user ' did not list the candidates"
gh_tmux_keys C-u

# history: Up brings back "user list"
gh_tmux_keys C-l
gh_tmux_keys Up
gh_tmux_wait 5 'gatehouse\(admin\)> user list $' || gh_fail "Up did not recall the last command"
gh_tmux_keys C-u

# line editing: "xgroup list" with Home + Delete; "garbage" killed by Ctrl-U;
# "foo bar" with Ctrl-W leaves "foo "
gh_tmux_keys C-l
gh_tmux_keys -l 'garbage'
gh_tmux_keys C-u
gh_tmux_keys -l 'xgroup add ops'
gh_tmux_keys Home DC
gh_tmux_wait 5 'gatehouse\(admin\)> group add ops *$' || gh_fail "Home/Delete editing"
gh_tmux_keys Enter
gh_tmux_wait 10 "group 'ops' added" || gh_fail "group add did not run"
gh_expect_eq "group created" "$(gh_sql "SELECT count(*) FROM groups WHERE name = 'ops'")" 1
gh_tmux_keys -l 'user show carol extra'
gh_tmux_keys C-w
gh_tmux_wait 5 'gatehouse\(admin\)> user show carol *$' || gh_fail "Ctrl-W"
gh_tmux_keys Left Left Left Left Left Left Left
gh_tmux_keys -l 'X'
gh_tmux_wait 5 'gatehouse\(admin\)> user showX carol *$' || gh_fail "Left + insert"
gh_tmux_keys BSpace
gh_tmux_keys Enter
gh_tmux_wait 10 'operator' || gh_fail "user show carol"

# Ctrl-C drops the line
gh_tmux_keys -l 'user remove carol'
gh_tmux_keys C-c
gh_tmux_wait 5 '\^C' || gh_fail "Ctrl-C not shown"
sleep 0.5
gh_expect_eq "carol not removed" "$(gh_sql "SELECT removed FROM users WHERE name = 'carol'")" 0

# A password, twice, without echo.
NEWPW=$(gh_random_password)
gh_tmux_keys C-l
gh_tmux_keys -l 'user passwd carol'
gh_tmux_keys Enter
gh_tmux_wait 10 'New password: $' || gh_fail "no password prompt"
gh_tmux_keys -l "$NEWPW"
gh_tmux_keys Enter
gh_tmux_wait 10 'Retype: $' || gh_fail "no second prompt"
gh_tmux_keys -l "$NEWPW"
gh_tmux_keys Enter
gh_tmux_wait 15 "password of 'carol' changed" || gh_fail "user passwd did not succeed"
gh_tmux_screen | grep -qF -- "$NEWPW" && gh_fail "the password was echoed"
gh_expect_audit 1 actor=admin type=user.passwd result=ok object=user:carol
# Two different entries: refused.
gh_tmux_keys -l 'user passwd carol'
gh_tmux_keys Enter
gh_tmux_wait 10 'New password: $' || gh_fail "no password prompt (2)"
gh_tmux_keys -l "$NEWPW"
gh_tmux_keys Enter
gh_tmux_wait 10 'Retype: $' || gh_fail "no second prompt (2)"
gh_tmux_keys -l "x$NEWPW"
gh_tmux_keys Enter
gh_tmux_wait 10 'the two entries differ' || gh_fail "a mismatch was not refused"

# Every command is audited, without any password.
gh_audit_count actor=admin type=shell.command >/dev/null
grep -qF -- "$NEWPW" "$GH_T/audit.json" && gh_fail "a password reached the audit trail"
gh_expect_audit 5 actor=admin type=shell.command 'source=127.0.0.1:*'
gh_expect_audit 1 actor=admin type=shell.command 'detail=*"passwd"*'

gh_tmux_keys -l 'exit'
gh_tmux_keys Enter
gh_tmux_wait 15 'GH_EXIT=0' || gh_fail "exit did not end the shell with status 0"
tmux -S "$GH_TMUX_SOCK" kill-server 2>/dev/null

# An auditor's shell: the auditor's commands; Ctrl-D leaves.
gh_tmux_start 120 40 "$(gh_ssh_cmdline audrey -tt)"
gh_tmux_wait 30 'gatehouse\(audrey\)> $' || gh_fail "no auditor prompt"
gh_tmux_keys -l 'pl'
gh_tmux_keys Tab
gh_tmux_wait 5 'gatehouse\(audrey\)> play $' || gh_fail "auditor Tab did not complete play"
gh_tmux_keys C-u
gh_tmux_keys -l 'user list'
gh_tmux_keys Enter
gh_tmux_wait 10 "'user list' is not permitted for role auditor" || gh_fail "auditor ran user list"
gh_tmux_keys C-d
gh_tmux_wait 15 'GH_EXIT=0' || gh_fail "Ctrl-D did not leave"
tmux -S "$GH_TMUX_SOCK" kill-server 2>/dev/null

# An operator without a target: still the menu, not a shell.
gh_tmux_start 120 40 "$(gh_ssh_cmdline dave -tt)"
gh_tmux_wait 30 'no asset is granted to you now|choose a target' || gh_fail "operator did not get the menu"
gh_tmux_screen | grep -q 'gatehouse(dave)>' && gh_fail "an operator got a role shell prompt"
tmux -S "$GH_TMUX_SOCK" kill-server 2>/dev/null
echo "t_role_shell: ok"
