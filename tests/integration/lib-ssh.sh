# shellcheck shell=bash
# Integration harness for the proxy: real OpenSSH sshd and Dropbear targets,
# gatehoused, and the real OpenSSH client answering keyboard-interactive
# prompts through SSH_ASKPASS. Everything lives in one temp dir on loopback;
# every process started here is registered and killed by pid on exit.
#
# Usage in a scenario (tests/integration/t_proxy_*.sh):
#   . "$(dirname "$0")/lib-ssh.sh"
#   gh_data_init                       # throwaway data dir ($GH_DATA)
#   start_target_sshd web              # $TGT_PORT, $TGT_DIR, $TGT_LOGIN ...
#   gh_user alice                      # operator with a password and TOTP
#   gh_asset_for_target web01 ; gh_grant alice web01 "$TGT_LOGIN"
#   start_gatehoused                   # $GH_PORT, $GH_LOG
#   gh_ssh "alice@$TGT_LOGIN@web01" 'echo hi'
#
# Targets: start_target_sshd (key login), start_target_sshd_pw (password
# login for a throwaway account), start_dropbear. Clients: gh_ssh / gh_ssh_cmd
# (askpass answers Password:, Verification code:, New password:),
# gh_ssh_cmdline (one string for tmux or pexpect), gh_with_client (sftp, scp,
# rsync). Checks: gh_expect_*, gh_audit_count / gh_expect_audit, gh_sql,
# gh_recording_has, gh_prompts. GH_KEEP=1 keeps the temp dir for a post-mortem.
#
# TOTP codes are single-use per user: scenarios use one user per login
# (gh_user is cheap) instead of waiting for the next 30 s step.
#
# Conventions: gh_fail prints a reason and the logs, then exits 1; every wait
# is bounded; nothing outside $GH_T is written (Dropbear sees a private home
# through a bind mount in its own mount namespace, never the real one).

set -u
set -o pipefail

GH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -f "$GH_SRC/tests/integration/lib.sh" ] && ! declare -F gh_admin >/dev/null; then
	# shellcheck source=tests/integration/lib.sh
	. "$GH_SRC/tests/integration/lib.sh"
fi

GH_B=${GH_BUILD:-${B:-build/asan}}
case $GH_B in /*) ;; *) GH_B=$GH_SRC/$GH_B ;; esac
GHD=$GH_B/gatehoused
GHA=$GH_B/gatehouse-admin
PY=/usr/bin/python3

# lib.sh (when present) made the scenario's temp dir; reuse it.
GH_T=${GH_TMP:-$(mktemp -d /tmp/gh-it.XXXXXX)}
# gatehoused started as root drops to the user "gatehouse": it must be able to
# traverse the temp dir to reach its data directory.
chmod 0711 "$GH_T"
GH_DATA=$GH_T/data
GH_LOG=$GH_T/gatehoused.log
GH_PIDS=()
mkdir -p "$GH_T/users"

# ---- cleanup ------------------------------------------------------------

gh_keep_pid() {
	GH_PIDS+=("$1")
}

# Kill every registered pid (newest first): TERM, a bounded wait, then KILL.
gh_ssh_cleanup() {
	local i pid n
	for ((i = ${#GH_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${GH_PIDS[i]}
		kill -TERM "$pid" 2>/dev/null || continue
		for ((n = 0; n < 50; n++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	GH_PIDS=()
	# GH_VALGRIND=1: every process of the daemon (the listener and each
	# forked connection process) wrote its own report; any error fails.
	if [ "${GH_VALGRIND:-0}" = 1 ] && [ -d "$GH_T/valgrind" ]; then
		if grep -l 'ERROR SUMMARY: [1-9]' "$GH_T"/valgrind/vg.*.log >"$GH_T/vg.bad" 2>/dev/null; then
			echo "lib-ssh: valgrind reported errors:" >&2
			while read -r f; do sed 's/^/    /' "$f" >&2; done <"$GH_T/vg.bad"
			GH_VG_RC=99
		else
			echo "lib-ssh: valgrind: $(ls "$GH_T"/valgrind | wc -l) process report(s), no errors" >&2
		fi
	fi
	if [ -n "${GH_TMUX_SOCK:-}" ]; then
		tmux -S "$GH_TMUX_SOCK" kill-server 2>/dev/null || true
	fi
	if [ "${GH_KEEP:-0}" = 1 ]; then
		echo "lib-ssh: keeping $GH_T" >&2
	else
		rm -rf "$GH_T"
	fi
}

# Chain with an EXIT trap lib.sh may have set, rather than replacing it.
gh_prev_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "gh_ssh_cleanup; ${gh_prev_trap:-:}; [ \"\${GH_VG_RC:-0}\" = 0 ] || exit \"\$GH_VG_RC\"" EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- reporting ----------------------------------------------------------

gh_log() {
	echo "--- $*" >&2
}

# Print why, the tails of every log we own, and exit 1.
gh_fail() {
	local f
	echo "FAIL: $*" >&2
	for f in "$GH_LOG" "$GH_T"/*/*.log "$GH_T"/askpass.log "$GH_T"/last.err; do
		[ -s "$f" ] || continue
		echo "==== tail of ${f#"$GH_T"/}" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

# expect_eq WHAT GOT WANT
gh_expect_eq() {
	[ "$2" = "$3" ] || gh_fail "$1: got [$2], want [$3]"
}

# gh_expect_match WHAT TEXT ERE
gh_expect_match() {
	grep -Eq -- "$3" <<<"$2" || gh_fail "$1: [$(head -c 600 <<<"$2")] does not match /$3/"
}

gh_expect_nomatch() {
	if grep -Eq -- "$3" <<<"$2"; then
		gh_fail "$1: [$(head -c 600 <<<"$2")] matches /$3/ and must not"
	fi
}

# gh_wait_for SECONDS COMMAND... : retry every 0.1 s until it succeeds.
gh_wait_for() {
	local limit=$1 n
	shift
	for ((n = 0; n < limit * 10; n++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ---- ports --------------------------------------------------------------

# A free TCP port on 127.0.0.1 (the kernel picks one; the tiny window before
# our server binds it is acceptable on a test machine).
gh_free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

gh_port_listening() {
	[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# ---- data directory and objects -----------------------------------------

# gh_admin ARGS... : the admin CLI on our data dir (lib.sh may define its own;
# ours is used only when it does not).
if ! declare -F gh_admin >/dev/null; then
	gh_admin() {
		"$GHA" -d "$GH_DATA" "$@"
	}
fi

# A password that satisfies the mlps profile, different each call.
gh_random_password() {
	echo "Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')-Aa1!"
}

gh_random_secret() {
	head -c 20 /dev/urandom | base32 | tr -d '=\n'
}

# gh_data_init [CONFIG LINES...]: a fresh data dir (bootstrap admin "admin")
# with the given "key = value" lines appended to gatehouse.conf.
gh_data_init() {
	local pw secret line
	pw=$(gh_random_password)
	secret=$(gh_random_secret)
	printf '%s\n' "$pw" | "$GHA" -d "$GH_DATA" init --password-stdin --totp-secret "$secret" \
		>"$GH_T/init.out" 2>&1 || gh_fail "gatehouse-admin init failed: $(cat "$GH_T/init.out")"
	printf '%s\n' "$pw" >"$GH_T/users/admin.pw"
	printf '%s\n' "$secret" >"$GH_T/users/admin.totp"
	# Connection processes get shutdown_grace seconds after the SIGTERM of
	# the cleanup: keep it short so that none outlives the scenario.
	gh_conf 'shutdown_grace = 2'
	# valgrind cannot run a program under a seccomp filter that sends
	# its own syscalls to another process (security.md, "Sandbox").
	{ [ "${GH_VALGRIND:-0}" = 1 ] || [ "${GH_SANDBOX:-yes}" = no ]; } && gh_conf 'sandbox = no'
	for line in "$@"; do
		gh_conf "$line"
	done
}

# gh_conf 'key = value': later lines override earlier ones.
gh_conf() {
	printf '%s\n' "$1" >>"$GH_DATA/gatehouse.conf"
}

# gh_user NAME [ROLE [EXTRA ADD ARGS...]]: a user with a fresh password and
# TOTP secret, remembered in $GH_T/users for gh_ssh.
gh_user() {
	local name=$1 role=${2:-operator} pw secret
	shift
	[ $# -gt 0 ] && shift
	pw=$(gh_random_password)
	secret=$(gh_random_secret)
	printf '%s\n' "$pw" | gh_admin user add "$name" --role "$role" --password-stdin --totp-secret "$secret" "$@" \
		>"$GH_T/last.out" 2>"$GH_T/last.err" || gh_fail "user add $name: $(cat "$GH_T/last.err")"
	printf '%s\n' "$pw" >"$GH_T/users/$name.pw"
	printf '%s\n' "$secret" >"$GH_T/users/$name.totp"
}

gh_user_pw() {
	cat "$GH_T/users/$1.pw"
}

gh_user_totp() {
	cat "$GH_T/users/$1.totp"
}

# gh_asset NAME PORT HOSTKEY_PUB_FILE
gh_asset() {
	gh_admin asset add "$1" --host 127.0.0.1 --port "$2" --hostkey "$3" >"$GH_T/last.out" 2>"$GH_T/last.err" ||
		gh_fail "asset add $1: $(cat "$GH_T/last.err")"
}

# gh_account ASSET LOGIN PRIVATE_KEY_FILE
gh_account() {
	gh_admin account add "$1" "$2" --key "$3" >"$GH_T/last.out" 2>"$GH_T/last.err" ||
		gh_fail "account add $1 $2: $(cat "$GH_T/last.err")"
}

# gh_grant USER ASSET LOGIN [EXTRA GRANT ARGS...]
gh_grant() {
	local u=$1 a=$2 l=$3
	shift 3
	gh_admin grant add --user "$u" --asset "$a" --login "$l" "$@" >"$GH_T/last.out" 2>"$GH_T/last.err" ||
		gh_fail "grant add $u $a $l: $(cat "$GH_T/last.err")"
}

# gh_asset_for_target ASSET: the asset, its pinned host key and the key
# credential of the target started last (start_target_sshd/start_dropbear).
gh_asset_for_target() {
	gh_asset "$1" "$TGT_PORT" "$TGT_DIR/host_key.pub"
	gh_account "$1" "$TGT_LOGIN" "$TGT_DIR/client_key"
}

# gh_setup_web01: the usual fixture, an OpenSSH target registered as asset
# web01 (pinned host key, key credential for $TGT_LOGIN). Keeps WEB01_PORT.
gh_setup_web01() {
	start_target_sshd web
	gh_asset_for_target web01
	WEB01_PORT=$TGT_PORT
}

# gh_wait_sessions_closed SECONDS: no session row is still active.
gh_wait_sessions_closed() {
	gh_wait_for "$1" gh_no_active_session
}

gh_no_active_session() {
	[ "$(gh_sql "SELECT count(*) FROM sessions WHERE state = 'active'")" = 0 ]
}

# ---- targets ------------------------------------------------------------

# The login the targets accept: the user running the tests (a non-root sshd
# can only authenticate its own user).
TGT_LOGIN=$(id -un)

# start_target_sshd NAME: OpenSSH sshd on a free loopback port with its own
# host key, accepting only the key $TGT_DIR/client_key for $TGT_LOGIN.
# Sets TGT_DIR TGT_PORT TGT_PID (and SSHD_<NAME>_* copies). GH_SSHD_EXTRA:
# sshd_config lines placed first (they win over the defaults below).
start_target_sshd() {
	local name=${1:-sshd} dir port pid
	dir=$GH_T/sshd-$name
	mkdir -p "$dir"
	port=$(gh_free_port)
	ssh-keygen -q -t ed25519 -N '' -C "target-$name" -f "$dir/host_key" || gh_fail "ssh-keygen host key"
	ssh-keygen -q -t ed25519 -N '' -C "gatehouse-to-$name" -f "$dir/client_key" || gh_fail "ssh-keygen client key"
	cp "$dir/client_key.pub" "$dir/authorized_keys"
	# sshd keeps the first value of a keyword: GH_SSHD_EXTRA (lines) goes
	# first so that it can override what follows (e.g. LogLevel DEBUG1).
	printf '%s\n' "${GH_SSHD_EXTRA:-}" >"$dir/sshd_config"
	cat >>"$dir/sshd_config" <<-EOF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $dir/host_key
		PidFile $dir/sshd.pid
		UsePAM no
		StrictModes no
		AuthorizedKeysFile $dir/authorized_keys
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		AcceptEnv LANG LC_* GHT_*
		Subsystem sftp internal-sftp
		PrintMotd no
		PrintLastLog no
		MaxStartups 100:30:200
		LogLevel VERBOSE
	EOF
	[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
	/usr/sbin/sshd -t -f "$dir/sshd_config" 2>"$dir/sshd-t.log" || gh_fail "sshd -t: $(cat "$dir/sshd-t.log")"
	/usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" &
	pid=$!
	gh_keep_pid "$pid"
	gh_wait_for 10 test -s "$dir/sshd.pid" || gh_fail "target sshd $name wrote no pid file"
	gh_wait_for 10 gh_port_listening "$port" || gh_fail "target sshd $name does not listen on $port"
	TGT_DIR=$dir TGT_PORT=$port TGT_PID=$pid TGT_KIND=openssh
}

# start_target_sshd_pw NAME: an OpenSSH target that accepts a password for
# the throwaway login "ghpw" (for stored password credentials). The account
# exists only inside sshd's private mount namespace, where copies of
# /etc/passwd and /etc/shadow with the extra line are bind-mounted over the
# real ones: the system's files are never modified. Needs root.
# Sets TGT_DIR TGT_PORT TGT_PID TGT_PW_LOGIN TGT_PW.
start_target_sshd_pw() {
	local name=${1:-pw} dir port pid hash
	[ "$(id -u)" -eq 0 ] || gh_fail "start_target_sshd_pw needs root for its private mount namespace"
	dir=$GH_T/sshd-$name
	mkdir -p "$dir/home"
	port=$(gh_free_port)
	TGT_PW_LOGIN=ghpw
	TGT_PW=$(gh_random_password)
	hash=$(printf '%s' "$TGT_PW" | openssl passwd -6 -stdin) || gh_fail "openssl passwd"
	cp /etc/passwd "$dir/passwd"
	cp /etc/shadow "$dir/shadow"
	chmod 0640 "$dir/shadow"
	printf '%s:x:60123:65534:gatehouse test login:%s:/bin/sh\n' "$TGT_PW_LOGIN" "$dir/home" >>"$dir/passwd"
	printf '%s:%s:19000:0:99999:7:::\n' "$TGT_PW_LOGIN" "$hash" >>"$dir/shadow"
	chown 60123:65534 "$dir/home"
	ssh-keygen -q -t ed25519 -N '' -C "target-$name" -f "$dir/host_key" || gh_fail "ssh-keygen host key"
	cat >"$dir/sshd_config" <<-EOF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $dir/host_key
		PidFile $dir/sshd.pid
		UsePAM no
		StrictModes no
		PubkeyAuthentication no
		PasswordAuthentication yes
		KbdInteractiveAuthentication no
		PermitRootLogin no
		AllowUsers $TGT_PW_LOGIN
		PrintMotd no
		PrintLastLog no
		LogLevel VERBOSE
	EOF
	mkdir -p /run/sshd
	/usr/sbin/sshd -t -f "$dir/sshd_config" 2>"$dir/sshd-t.log" || gh_fail "sshd -t: $(cat "$dir/sshd-t.log")"
	unshare --mount --propagation private /bin/sh -c \
		'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/shadow && shift 2 && exec "$@"' sh \
		"$dir/passwd" "$dir/shadow" /usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" &
	pid=$!
	gh_keep_pid "$pid"
	gh_wait_for 10 gh_port_listening "$port" || gh_fail "password sshd $name does not listen on $port"
	TGT_DIR=$dir TGT_PORT=$port TGT_PID=$pid TGT_KIND=openssh-password
}

# start_dropbear NAME: Dropbear on a free loopback port. Dropbear reads
# ~/.ssh/authorized_keys and has no option to look elsewhere, so it runs in a
# private mount namespace where the login's home is a bind mount of a temp
# dir: the real home is never read or written. Needs root (unshare/mount).
start_dropbear() {
	local name=${1:-dropbear} dir port pid home
	[ "$(id -u)" -eq 0 ] || gh_fail "start_dropbear needs root for its private mount namespace"
	dir=$GH_T/dropbear-$name
	mkdir -p "$dir/home/.ssh"
	port=$(gh_free_port)
	home=$(getent passwd "$TGT_LOGIN" | cut -d: -f6)
	[ -d "$home" ] || gh_fail "home of $TGT_LOGIN ($home) does not exist"
	dropbearkey -t ed25519 -f "$dir/host_key" >/dev/null 2>&1 || gh_fail "dropbearkey"
	dropbearkey -y -f "$dir/host_key" 2>/dev/null | grep '^ssh-ed25519 ' >"$dir/host_key.pub" ||
		gh_fail "dropbearkey -y"
	ssh-keygen -q -t ed25519 -N '' -C "gatehouse-to-$name" -f "$dir/client_key" || gh_fail "ssh-keygen client key"
	cp "$dir/client_key.pub" "$dir/home/.ssh/authorized_keys"
	chmod 700 "$dir/home" "$dir/home/.ssh"
	chmod 600 "$dir/home/.ssh/authorized_keys"
	# -F foreground, -E log to stderr, -s no password logins, -j/-k no
	# forwarding, -P pid file.
	unshare --mount --propagation private /bin/sh -c \
		'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$dir/home" "$home" \
		/usr/sbin/dropbear -F -E -s -j -k -p "127.0.0.1:$port" -r "$dir/host_key" -P "$dir/dropbear.pid" \
		2>"$dir/dropbear.log" &
	pid=$!
	gh_keep_pid "$pid"
	gh_wait_for 10 gh_port_listening "$port" || gh_fail "dropbear $name does not listen on $port"
	TGT_DIR=$dir TGT_PORT=$port TGT_PID=$pid TGT_KIND=dropbear
}

# ---- gatehoused ---------------------------------------------------------

# start_gatehoused [EXTRA ARGS...]: the daemon in the foreground on a free
# loopback port, stderr to $GH_LOG. Sets GH_PORT GH_PID and pins the bastion's
# host key in $GH_T/known_hosts.
start_gatehoused() {
	local pub
	GH_PORT=$(gh_free_port)
	# Started as root, the daemon drops to "gatehouse" after binding; give
	# that user its data dir as an installed system would.
	if [ "$(id -u)" -eq 0 ] && getent passwd gatehouse >/dev/null; then
		chown -R gatehouse: "$GH_DATA"
	fi
	local -a vg=()
	if [ "${GH_VALGRIND:-0}" = 1 ]; then
		# make valgrind (docs/development.md): memcheck over the release
		# build; forked connection processes are followed and, after the
		# privilege drop, still write their reports into this 1777 dir.
		mkdir -p "$GH_T/valgrind" && chmod 1777 "$GH_T/valgrind"
		vg=(valgrind --error-exitcode=99 --leak-check=no --track-origins=no --child-silent-after-fork=no
			"--log-file=$GH_T/valgrind/vg.%p.log")
	fi
	${vg[@]+"${vg[@]}"} "$GHD" -d "$GH_DATA" -l 127.0.0.1 -p "$GH_PORT" -f "$@" 2>>"$GH_LOG" &
	GH_PID=$!
	gh_keep_pid "$GH_PID"
	if ! gh_wait_for 30 gh_port_listening "$GH_PORT"; then
		gh_fail "gatehoused does not listen on $GH_PORT"
	fi
	pub=$(ssh-keygen -y -f "$GH_DATA/ssh_host_ed25519_key") || gh_fail "cannot read the bastion host key"
	printf '[127.0.0.1]:%s %s\n' "$GH_PORT" "$pub" >"$GH_T/known_hosts"
}

gh_daemon_alive() {
	kill -0 "$GH_PID" 2>/dev/null
}

# ---- the OpenSSH client -------------------------------------------------

# The askpass program: ssh runs it once per prompt with the prompt text
# (OpenSSH prefixes keyboard-interactive prompts with "(user@host) ").
# Every prompt is logged to $GH_T/askpass.log; an unknown prompt fails loudly.
cat >"$GH_T/askpass.sh" <<'EOF'
#!/bin/bash
prompt=$1
printf '%s\n' "$prompt" >>"$GH_ASKPASS_LOG"
case $prompt in
*"Retype new password:"* | *"Repeat new password:"* | *"new password again:"*)
	printf '%s\n' "${GH_NEWPW2:-$GH_NEWPW}" ;;
*"New password:"* | *"new password:"*)
	printf '%s\n' "$GH_NEWPW" ;;
*"Password:"*)
	printf '%s\n' "$GH_PW" ;;
*"Verification code:"*)
	if [ -n "${GH_TOTP_CODE:-}" ]; then
		printf '%s\n' "$GH_TOTP_CODE"
	else
		oathtool --totp -b "$GH_TOTP"
	fi ;;
*)
	echo "askpass: unexpected prompt: $prompt" >&2
	exit 1 ;;
esac
EOF
chmod 755 "$GH_T/askpass.sh"

# Environment for one ssh run as gatehouse user $1 (the part of the login
# before the first @): explicit GH_PW / GH_TOTP / GH_TOTP_CODE win.
gh_client_env() {
	local who=${1%%@*}
	export GH_PW=${GH_PW:-$(cat "$GH_T/users/$who.pw" 2>/dev/null || echo no-such-user-pw)}
	export GH_TOTP=${GH_TOTP:-$(cat "$GH_T/users/$who.totp" 2>/dev/null || echo JBSWY3DPEHPK3PXP)}
	export GH_TOTP_CODE=${GH_TOTP_CODE:-} GH_NEWPW=${GH_NEWPW:-} GH_NEWPW2=${GH_NEWPW2:-}
	export GH_ASKPASS_LOG=${GH_ASKPASS_LOG:-$GH_T/askpass.log}
	export SSH_ASKPASS=$GH_T/askpass.sh SSH_ASKPASS_REQUIRE=force DISPLAY=${DISPLAY:-:0}
	unset SSH_AUTH_SOCK
}

# The ssh command line (without the login), host key pinned.
gh_ssh_opts() {
	printf '%s\n' -F /dev/null -o "UserKnownHostsFile=$GH_T/known_hosts" -o StrictHostKeyChecking=yes \
		-o GlobalKnownHostsFile=/dev/null -o BatchMode=no -o PreferredAuthentications=keyboard-interactive \
		-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 -o ConnectTimeout=20 -o ServerAliveInterval=0 \
		-o IdentitiesOnly=yes -o LogLevel=ERROR -o ControlMaster=no -o ControlPath=none \
		-o "Port=$GH_PORT"
}

# gh_with_client LOGIN PROGRAM ARGS...: run a client program (sftp, scp,
# rsync ...) with the askpass environment of LOGIN; GH_SSH_ARGS holds the ssh
# options (an array) to pass on, e.g. sftp "${GH_SSH_ARGS[@]}" ...
gh_with_client() {
	local login=$1
	shift
	(
		gh_client_env "$login"
		mapfile -t GH_SSH_ARGS < <(gh_ssh_opts)
		"$@"
	)
}

# gh_ssh LOGIN [COMMAND...]: e.g. gh_ssh alice@root@web01 uptime. Extra ssh
# options in the array GH_SSH_EXTRA (e.g. GH_SSH_EXTRA=(-tt)). stdin, stdout
# and stderr are the caller's; the exit status is ssh's (124 when it ran
# longer than GH_SSH_TIMEOUT seconds, default 600).
gh_ssh() {
	local login=$1
	shift
	local -a opts
	mapfile -t opts < <(gh_ssh_opts)
	(
		gh_client_env "$login"
		# ssh keeps the first value of an option: extras go first. The
		# timeout bounds a session the proxy would leave hanging.
		exec timeout -k 5 "${GH_SSH_TIMEOUT:-600}" \
			ssh ${GH_SSH_EXTRA[@]+"${GH_SSH_EXTRA[@]}"} "${opts[@]}" "$login@127.0.0.1" "$@"
	)
}

# gh_ssh_cmd LOGIN [COMMAND...]: gh_ssh with stdin from /dev/null; sets OUT,
# ERR (the client's stdout and stderr) and RC.
gh_ssh_cmd() {
	RC=0
	gh_ssh "$@" </dev/null >"$GH_T/ssh.out" 2>"$GH_T/ssh.err" || RC=$?
	OUT=$(cat "$GH_T/ssh.out")
	ERR=$(cat "$GH_T/ssh.err")
}

# gh_ssh_cmdline LOGIN [SSH ARGS...]: one shell-quoted command line (env and
# ssh) for tmux or pexpect, which need a string. The askpass environment is
# included; pass GH_NO_ASKPASS=1 to have prompts on the terminal instead.
gh_ssh_cmdline() {
	local login=$1
	shift
	(
		gh_client_env "$login"
		if [ "${GH_NO_ASKPASS:-0}" = 1 ]; then
			SSH_ASKPASS_REQUIRE=never
		fi
		printf 'env '
		printf '%q ' "SSH_ASKPASS=$SSH_ASKPASS" "SSH_ASKPASS_REQUIRE=$SSH_ASKPASS_REQUIRE" "DISPLAY=$DISPLAY" \
			"GH_PW=$GH_PW" "GH_TOTP=$GH_TOTP" "GH_TOTP_CODE=$GH_TOTP_CODE" "GH_NEWPW=$GH_NEWPW" \
			"GH_NEWPW2=$GH_NEWPW2" "GH_ASKPASS_LOG=$GH_ASKPASS_LOG" "TERM=${TERM:-xterm}"
		# ssh keeps the first value of an option: extras go first.
		# shellcheck disable=SC2046
		printf '%q ' ssh "$@" $(gh_ssh_opts) "$login@127.0.0.1"
		echo
	)
}

# gh_prompts [LOG]: the prompts ssh passed to askpass, one a line, without
# OpenSSH's "(user@host) " prefix and trailing blanks.
gh_prompts() {
	sed -E -e 's/^\([^)]*\) //' -e 's/[[:space:]]+$//' "${1:-$GH_T/askpass.log}"
}

# ---- TOTP ---------------------------------------------------------------

gh_totp_now() {
	oathtool --totp -b "$1"
}

# A 6-digit code that is valid for none of the steps the server accepts
# (now and +/- 1 step, with a step of margin each side).
gh_totp_wrong() {
	local secret=$1 valid c
	valid=$(oathtool --totp -b "$secret" -N "$(date -u -d '-90 sec' '+%Y-%m-%d %H:%M:%S UTC')" -w 6)
	for c in 000000 111111 222222 333333 444444 555555; do
		if ! grep -qx "$c" <<<"$valid"; then
			echo "$c"
			return
		fi
	done
	gh_fail "no wrong TOTP code found"
}

# ---- audit, sessions, recordings -----------------------------------------

# gh_audit_count FIELD=GLOB...: number of audit events whose fields match all
# globs (fields: actor source type object result importance detail;
# FIELD!=GLOB negates). Reads
# `gatehouse-admin audit list --json` (a JSON array or JSON lines).
gh_audit_count() {
	gh_admin --json audit list >"$GH_T/audit.json" 2>"$GH_T/audit.err" ||
		gh_admin audit list --json >"$GH_T/audit.json" 2>"$GH_T/audit.err" ||
		gh_fail "audit list --json: $(cat "$GH_T/audit.err")"
	$PY - "$GH_T/audit.json" "$@" <<-'EOF'
		import fnmatch, json, sys
		text = open(sys.argv[1]).read().strip()
		try:
		    data = json.loads(text) if text else []
		except ValueError:
		    data = [json.loads(l) for l in text.splitlines() if l.strip()]
		if isinstance(data, dict):
		    data = data.get("events") or data.get("audit") or [data]
		conds = []
		for a in sys.argv[2:]:
		    k, g = a.split("=", 1)
		    neg = k.endswith("!")
		    conds.append((k.rstrip("!"), g, neg))
		def val(ev, k):
		    v = ev.get(k)
		    if v is None and k == "type":
		        v = ev.get("event") or ev.get("event_type")
		    return "" if v is None else (v if isinstance(v, str) else json.dumps(v))
		print(sum(1 for ev in data if all(fnmatch.fnmatchcase(val(ev, k), g) != neg for k, g, neg in conds)))
	EOF
}

# gh_expect_audit MIN FIELD=GLOB...: at least MIN matching events.
gh_expect_audit() {
	local min=$1 n
	shift
	n=$(gh_audit_count "$@")
	[ "$n" -ge "$min" ] || {
		echo "audit events:" >&2
		cat "$GH_T/audit.json" >&2
		gh_fail "expected >= $min audit events matching $*, found $n"
	}
}

# Raw read-only query of the store (for sessions, which have their own CLI
# too, and for user state).
gh_sql() {
	sqlite3 -readonly -batch -noheader -cmd '.timeout 10000' "$GH_DATA/gatehouse.db" "$1"
}

# Every recording file the daemon has written so far.
gh_recordings() {
	# Recordings only: not the player's keyframe caches (*.ghkf) nor
	# captured transfer contents (UUID.files/).
	find "$GH_DATA/recordings" -maxdepth 1 -type f -name '*.ghrec' 2>/dev/null | sort
}

# gh_recording_has FIXED_STRING [FILES...]: one of the recordings (all by
# default) holds the string once decompressed.
gh_recording_has() {
	local marker=$1 f
	shift
	local -a files=("$@")
	[ ${#files[@]} -gt 0 ] || mapfile -t files < <(gh_recordings)
	for f in "${files[@]}"; do
		# Not a pipe: under pipefail, grep -q leaving early would make
		# zstdcat die of SIGPIPE and the match count as a failure.
		if grep -aqF -- "$marker" < <(zstdcat -q "$f" 2>/dev/null); then
			return 0
		fi
	done
	return 1
}

# ---- interactive sessions (tmux) ------------------------------------------

GH_TMUX_SOCK=$GH_T/tmux.sock

# gh_tmux_start COLS ROWS COMMAND-LINE: a detached tmux session "t".
gh_tmux_start() {
	local cols=$1 rows=$2 cmd=$3
	tmux -S "$GH_TMUX_SOCK" -f /dev/null new-session -d -s t -x "$cols" -y "$rows" \
		"$cmd; echo GH_EXIT=\$?; sleep 30" || gh_fail "tmux new-session"
	tmux -S "$GH_TMUX_SOCK" set-option -t t -g status off >/dev/null
	tmux -S "$GH_TMUX_SOCK" set-option -t t -g window-size manual >/dev/null 2>&1 || true
}

gh_tmux_screen() {
	tmux -S "$GH_TMUX_SOCK" capture-pane -p -J -S -200 -t t 2>/dev/null
}

gh_tmux_keys() {
	tmux -S "$GH_TMUX_SOCK" send-keys -t t "$@"
}

# gh_tmux_wait SECONDS ERE: wait until the screen matches.
gh_tmux_wait() {
	local limit=$1 re=$2 n
	for ((n = 0; n < limit * 10; n++)); do
		if gh_tmux_screen | grep -Eq -- "$re"; then
			return 0
		fi
		sleep 0.1
	done
	echo "==== screen" >&2
	gh_tmux_screen >&2
	return 1
}
