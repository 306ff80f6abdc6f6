# shellcheck shell=bash
# Shared helpers for integration scenarios (tests/integration/t_*.sh).
#
#   . "$(dirname "$0")/lib.sh"
#   gh_setup                       # temp data dir, init'ed; $GH_DATA
#   expect_ok gh_admin user list   # runs, captures $OUT $ERR $RC, fails on rc != 0
#   expect_fail 2 gh_admin user add   # the exact exit code
#   expect_contains "user list" "$OUT" "alice"
#   GH_IN='Secret-pw1!' expect_ok gh_admin user passwd bob --password-stdin
#
# Nothing here knows about SSH (lib-ssh.sh adds sshd targets and the daemon).
# Every command gets /dev/null (or $GH_IN) as standard input, so nothing can
# wait on a terminal. Processes registered with gh_track_pid are killed by
# pid on exit; the temp dir is removed unless GH_KEEP=1.

set -u
set -o pipefail

GH_SRC=${GH_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GH_BUILD=${GH_BUILD:-${B:-build/asan}}
case $GH_BUILD in /*) ;; *) GH_BUILD=$GH_SRC/$GH_BUILD ;; esac
GH_ADMIN_BIN=$GH_BUILD/gatehouse-admin
GH_PY=/usr/bin/python3
GH_TMP=$(mktemp -d /tmp/gh-t.XXXXXX)
GH_DATA=$GH_TMP/data
GH_LIB_PIDS=()
OUT='' ERR='' RC=0

gh_track_pid() {
	GH_LIB_PIDS+=("$1")
}

gh_lib_cleanup() {
	local pid n
	for pid in "${GH_LIB_PIDS[@]+"${GH_LIB_PIDS[@]}"}"; do
		kill -TERM "$pid" 2>/dev/null || continue
		for ((n = 0; n < 50; n++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	if [ "${GH_KEEP:-0}" = 1 ]; then
		echo "lib.sh: keeping $GH_TMP" >&2
	else
		rm -rf "$GH_TMP"
	fi
}
trap gh_lib_cleanup EXIT

die() {
	echo "FAIL: $*" >&2
	exit 1
}

# The admin CLI on the scenario's data directory.
gh_admin() {
	"$GH_ADMIN_BIN" -d "$GH_DATA" "$@"
}

# gh_run CMD...: run, capture stdout in $OUT, stderr in $ERR, status in $RC.
gh_run() {
	local of=$GH_TMP/run.out ef=$GH_TMP/run.err
	if [ -n "${GH_IN+x}" ]; then
		"$@" <<<"$GH_IN" >"$of" 2>"$ef"
	else
		"$@" <"/dev/null" >"$of" 2>"$ef"
	fi
	RC=$?
	OUT=$(cat "$of")
	ERR=$(cat "$ef")
}

gh_show_run() {
	echo "command: $*" >&2
	echo "exit: $RC" >&2
	echo "stdout: $(head -c 2000 <<<"$OUT")" >&2
	echo "stderr: $(head -c 2000 <<<"$ERR")" >&2
}

# expect_ok CMD...: the command must exit 0.
expect_ok() {
	gh_run "$@"
	if [ "$RC" -ne 0 ]; then
		gh_show_run "$@"
		die "expected success"
	fi
}

# expect_fail CODE CMD...: the command must exit with CODE exactly.
expect_fail() {
	local code=$1
	shift
	gh_run "$@"
	if [ "$RC" -ne "$code" ]; then
		gh_show_run "$@"
		die "expected exit $code, got $RC"
	fi
}

# expect_contains WHAT TEXT NEEDLE: NEEDLE (a fixed string) is in TEXT.
expect_contains() {
	grep -Fq -- "$3" <<<"$2" || die "$1: [$(head -c 1500 <<<"$2")] does not contain [$3]"
}

expect_not_contains() {
	if grep -Fq -- "$3" <<<"$2"; then
		die "$1: [$(head -c 1500 <<<"$2")] contains [$3] and must not"
	fi
}

# expect_match WHAT TEXT ERE
expect_match() {
	grep -Eq -- "$3" <<<"$2" || die "$1: [$(head -c 1500 <<<"$2")] does not match /$3/"
}

expect_eq() {
	[ "$2" = "$3" ] || die "$1: got [$2], want [$3]"
}

# expect_json PYEXPR: $OUT parses as JSON (bound to `d`) and PYEXPR is true.
expect_json() {
	printf '%s' "$OUT" | "$GH_PY" -c '
import json, sys
d = json.load(sys.stdin)
if not eval(sys.argv[1]):
    sys.exit("expression false: " + sys.argv[1] + "\n" + json.dumps(d, indent=1)[:2000])
' "$1" || die "JSON check failed: $1"
}

# Read-only SQL on the scenario's database.
gh_sql() {
	sqlite3 -batch -noheader "$GH_DATA/gatehouse.db" "$1"
}

# A password that passes the mlps profile, different each call.
gh_password() {
	echo "Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')-Aa1!"
}

gh_totp_secret() {
	head -c 20 /dev/urandom | base32 | tr -d '=\n'
}

# gh_setup [INIT ARGS...]: a fresh data dir, initialised with a known
# admin password ($GH_ADMIN_PW) and TOTP secret ($GH_ADMIN_TOTP).
gh_setup() {
	GH_ADMIN_PW=$(gh_password)
	GH_ADMIN_TOTP=$(gh_totp_secret)
	GH_IN=$GH_ADMIN_PW gh_run gh_admin init --password-stdin --totp-secret "$GH_ADMIN_TOTP" "$@"
	if [ "$RC" -ne 0 ]; then
		gh_show_run gatehouse-admin init
		die "gh_setup: init failed"
	fi
}

# A free TCP port on 127.0.0.1.
gh_free_port() {
	"$GH_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

[ -x "$GH_ADMIN_BIN" ] || die "no $GH_ADMIN_BIN (build first: make MODE=asan test-build)"
