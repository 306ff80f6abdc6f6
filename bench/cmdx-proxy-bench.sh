#!/bin/bash
# Throughput of an interactive `cat` of a large text file in a pty shell
# through the bastion, with command tracking on and off (issue 6).
#
#   bench/cmdx-proxy-bench.sh            1 GiB file, 3 runs each way
#   BENCH_CMDX_MB=256 BENCH_CMDX_REPS=2 bench/cmdx-proxy-bench.sh
#
# Two gatehoused instances share one data directory: one with the default
# command_tracking = yes, one started after `command_tracking = no` was
# appended to gatehouse.conf. Each run is a fresh OpenSSH client with a
# forced pty (-tt) whose stdin holds "cat FILE; exit": the target's login
# shell reads it as typed input, the bastion's extractor sees the line, then
# the file streams through the pty to the client (stdout to /dev/null). The
# login time, measured with a one-line file, is subtracted. Runs alternate
# (on, off, direct, on ...); "direct" is the same session straight to the
# target's sshd, the ceiling set by the target's pty and the client. Release build (GH_BUILD, default build), recording
# on as in production. Besides wall-clock MB/s (bounded by the target's pty,
# see "direct"), the bastion's own CPU time per run is taken from the
# listener's reaped-children counters (/proc/PID/stat cutime + cstime):
# MB per CPU-second is what the bastion could move if the pty were not the
# limit. A benchmark, not a test: nothing fails on speed, but
# the run checks that the tracked sessions logged the command and the
# untracked ones did not.
set -u
set -o pipefail
BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$BENCH_SRC" || exit 1
export GH_BUILD=${GH_BUILD:-build}
MB=${BENCH_CMDX_MB:-1024}
REPS=${BENCH_CMDX_REPS:-3}
# shellcheck source=tests/integration/lib-ssh.sh
. "$BENCH_SRC/tests/integration/lib-ssh.sh"
trap gh_ssh_cleanup EXIT

gh_data_init
gh_setup_web01
start_gatehoused
PORT_ON=$GH_PORT
PID_ON=$GH_PID
gh_conf 'command_tracking = no'
start_gatehoused
PORT_OFF=$GH_PORT
PID_OFF=$GH_PID
pub=$(ssh-keygen -y -f "$GH_DATA/ssh_host_ed25519_key")
printf '[127.0.0.1]:%s %s\n[127.0.0.1]:%s %s\n' "$PORT_ON" "$pub" "$PORT_OFF" "$pub" >"$GH_T/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$TGT_PORT" "$(cat "$TGT_DIR/host_key.pub")" >"$GH_T/known_hosts_direct"

BIG=$GH_T/big.txt
SMALL=$GH_T/small.txt
# Log-like text lines with some UTF-8, MB MiB.
$PY - "$BIG" "$MB" <<'PYEOF'
import sys
path, mb = sys.argv[1], int(sys.argv[2])
lines = []
for i in range(4096):
    lines.append(f"2026-11-21T08:{i % 60:02d}:{i * 7 % 60:02d}Z web01 app[{1000 + i}]: request id={i * 7919} "
                 f"path=/api/v1/items/{i} status={200 + i % 5} bytes={i * 13 % 99999} user=operateur-é{i % 17}\n")
block = "".join(lines).encode()
with open(path, "wb") as f:
    left = mb * 1024 * 1024
    while left > 0:
        n = min(left, len(block))
        f.write(block[:n])
        left -= n
PYEOF
echo "tiny" >"$SMALL"

N=0
# shellcheck disable=SC2034 # read by gh_ssh (lib-ssh.sh)
GH_SSH_EXTRA=(-tt)
# direct_run FILE: the same session straight to the target's sshd (the
# ceiling: the target's pty and the client without the bastion).
direct_run() {
	local file=$1 t0 t1
	t0=$(date +%s.%N)
	printf 'cat %s; exit\n' "$file" | timeout 600 ssh -tt -F /dev/null -i "$TGT_DIR/client_key" -o IdentitiesOnly=yes \
		-o UserKnownHostsFile="$GH_T/known_hosts_direct" -o StrictHostKeyChecking=yes -o BatchMode=yes \
		-p "$TGT_PORT" "$TGT_LOGIN@127.0.0.1" >/dev/null 2>"$GH_T/run.err" ||
		gh_fail "direct session failed: $(cat "$GH_T/run.err")"
	t1=$(date +%s.%N)
	RUN_S=$(echo "$t1 - $t0" | bc -l)
	RUN_USER=
}

# one_run PORT FILE: RUN_S = seconds for a whole session that cats FILE,
# RUN_USER = the (fresh) user it ran as.
one_run() {
	local port=$1 file=$2 u t0 t1
	N=$((N + 1))
	u=bench$N
	gh_user "$u" >/dev/null
	gh_grant "$u" web01 "$TGT_LOGIN"
	t0=$(date +%s.%N)
	printf 'cat %s; exit\n' "$file" | GH_PORT=$port gh_ssh "$u@$TGT_LOGIN@web01" >/dev/null 2>"$GH_T/run.err" ||
		gh_fail "bench session $u failed: $(cat "$GH_T/run.err")"
	t1=$(date +%s.%N)
	RUN_S=$(echo "$t1 - $t0" | bc -l)
	RUN_USER=$u
}

declare -A base basecpu
# CPU seconds of the reaped children of a listener (cutime + cstime): the
# connection processes, which do all the proxying.
child_cpu() {
	local f
	read -ra f <"/proc/$1/stat"
	echo "(${f[15]} + ${f[16]}) / $(getconf CLK_TCK)" | bc -l
}

# run MODE FILE: RUN_S wall seconds, RUN_CPU the bastion's CPU seconds.
run() {
	local pid='' c0=0
	case $1 in
	on) pid=$PID_ON ;;
	off) pid=$PID_OFF ;;
	esac
	[ -n "$pid" ] && c0=$(child_cpu "$pid")
	case $1 in
	on) one_run "$PORT_ON" "$2" ;;
	off) one_run "$PORT_OFF" "$2" ;;
	direct) direct_run "$2" ;;
	esac
	RUN_CPU=0
	if [ -n "$pid" ]; then
		# The listener reaps its child right after the session ends.
		sleep 0.5
		RUN_CPU=$(echo "$(child_cpu "$pid") - $c0" | bc -l)
	fi
}
MODES=${BENCH_CMDX_MODES:-on off direct}
for mode in $MODES; do
	run "$mode" "$SMALL"
	base[$mode]=$RUN_S
	basecpu[$mode]=$RUN_CPU
	printf 'login+session overhead %s: %.2f s (bastion CPU %.2f s)\n' "$mode" "${base[$mode]}" "$RUN_CPU"
done
printf 'mode\trun\tseconds\tMB/s\tbastion-cpu-s\tMB/cpu-s\n'
declare -a on_users off_users
for ((i = 1; i <= REPS; i++)); do
	for mode in $MODES; do
		run "$mode" "$BIG"
		net=$(echo "$RUN_S - ${base[$mode]}" | bc -l)
		if [ "$(echo "$net > 0.05" | bc -l)" = 1 ]; then
			mbs=$(echo "$MB * 1.048576 / $net" | bc -l)
		else
			mbs=0 # too small a file for the timer: use a bigger BENCH_CMDX_MB
		fi
		cpu=$(echo "$RUN_CPU - ${basecpu[$mode]}" | bc -l)
		if [ "$(echo "$cpu > 0.01" | bc -l)" = 1 ]; then
			cap=$(printf '%.0f' "$(echo "$MB * 1.048576 / $cpu" | bc -l)")
		else
			cap=-
		fi
		printf '%s\t%d\t%.2f\t%.0f\t%.2f\t%s\n' "$mode" "$i" "$net" "$mbs" "$cpu" "$cap"
		if [ "$mode" = on ]; then on_users+=("$RUN_USER"); elif [ "$mode" = off ]; then off_users+=("$RUN_USER"); fi
	done
done
# Sanity: tracked sessions logged the typed line, untracked ones did not.
for u in ${on_users[@]+"${on_users[@]}"}; do
	[ "$(gh_sql "SELECT count(*) FROM commands WHERE user = '$u' AND command = 'cat $BIG; exit'")" = 1 ] ||
		gh_fail "tracked session of $u did not log its command"
done
for u in ${off_users[@]+"${off_users[@]}"}; do
	[ "$(gh_sql "SELECT count(*) FROM commands WHERE user = '$u'")" = 0 ] ||
		gh_fail "untracked session of $u logged commands"
done
echo "(MB = 10^6 bytes of file content; the pty adds a CR per line on the wire)"
