# shellcheck shell=bash
# Helpers for the role shell scenarios (t_role_*.sh): one authenticated
# OpenSSH control master per user (one TOTP code per user), then as many
# exec channels over it as a scenario needs.
#
#   role_master NAME          log NAME in (no target: the role shell side)
#   role_run NAME ARGS...     one exec channel: sets OUT, ERR, RC
#   role_stop NAME            close the master

role_master() {
	local name=$1 sock=$GH_T/cm-$1.sock
	GH_SSH_EXTRA=(-o ControlMaster=yes -o "ControlPath=$sock" -o ControlPersist=no -N)
	gh_ssh "$name" </dev/null >"$GH_T/master-$name.out" 2>"$GH_T/master-$name.err" &
	gh_keep_pid $!
	eval "ROLE_MASTER_$name=$!"
	GH_SSH_EXTRA=()
	gh_wait_for 30 test -S "$sock" || gh_fail "control master for $name did not come up: $(cat "$GH_T/master-$name.err")"
}

role_ssh() {
	local name=$1
	shift
	timeout -k 5 60 ssh -F /dev/null -o ControlMaster=no -o "ControlPath=$GH_T/cm-$name.sock" -o BatchMode=yes \
		-o LogLevel=ERROR x "$@"
}

role_run() {
	local name=$1
	shift
	RC=0
	role_ssh "$name" "$@" </dev/null >"$GH_T/role.out" 2>"$GH_T/role.err" || RC=$?
	OUT=$(cat "$GH_T/role.out")
	ERR=$(cat "$GH_T/role.err")
}

role_stop() {
	role_ssh "$1" -O exit >/dev/null 2>&1 || true
}
