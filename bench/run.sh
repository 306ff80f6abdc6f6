#!/bin/bash
# make bench: Gatehouse measured side by side with OpenSSH in one run (issue 5).
#
#   bench/run.sh                 full run (< 30 min on 2 cores)
#   BENCH_QUICK=1 bench/run.sh   short run (64 MiB transfers, 2 reps, fewer sessions)
#   BENCH_REPS=N                 repetitions of each interleaved measurement
#   BENCH_ONLY="tp sftp setup echo mem conc rec cpu seek rtt"   a subset
#   BENCH_OUT=DIR                where results go (default bench/results)
#   BENCH_KEEP=1                 keep the temp dir (GH_KEEP)
#   BENCH_PRELOAD=LIB.so         gatehoused with LD_PRELOAD (experiments: bench/nodelay-shim.c)
#   BENCH_TAG=name               suffix of the result files
#
# Paths, all on loopback (127.0.0.1) unless the rtt figure runs in network
# namespaces it creates and removes: "direct" = ssh to the target sshd,
# "jump" = OpenSSH ProxyJump through a second sshd, "bastion" = gatehoused
# (release build, recording on, as in production) with a public-key operator
# whose TOTP is off through bench_allow_no_totp (throwaway data dir only);
# the echo figure adds "relay" = direct through bench/tcp-relay.c (the floor).
# Every figure interleaves the paths (A B C A B C ...) and keeps all samples
# in raw.tsv; bench/report.py turns them into medians, spreads and ratios.
# Benchmarks are not tests: nothing here fails on speed.

set -u
set -o pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$BENCH_SRC" || exit 1
export GH_BUILD=${GH_BUILD:-build}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	REPS=${BENCH_REPS:-2}
	SIZE_MB=${BENCH_SIZE_MB:-64}
	ECHO_N=${BENCH_ECHO_N:-500}
	MEM_N=${BENCH_MEM_N:-40}
	IDLE_N=${BENCH_IDLE_N:-100}
	TYPE_N=${BENCH_TYPE_N:-40}
	TYPE_S=${BENCH_TYPE_S:-8}
	SETUP_RUNS=${BENCH_SETUP_RUNS:-5}
else
	REPS=${BENCH_REPS:-5}
	SIZE_MB=${BENCH_SIZE_MB:-1024}
	ECHO_N=${BENCH_ECHO_N:-2000}
	MEM_N=${BENCH_MEM_N:-200}
	IDLE_N=${BENCH_IDLE_N:-1000}
	TYPE_N=${BENCH_TYPE_N:-200}
	TYPE_S=${BENCH_TYPE_S:-30}
	SETUP_RUNS=${BENCH_SETUP_RUNS:-10}
fi
ONLY=${BENCH_ONLY:-tp sftp setup echo mem conc rec cpu seek rtt}
CIPHERS=${BENCH_CIPHERS:-aes128-gcm@openssh.com chacha20-poly1305@openssh.com}
LAT_CIPHER=${CIPHERS%% *}
OUTDIR=${BENCH_OUT:-$BENCH_SRC/bench/results}
[ "${BENCH_KEEP:-0}" = 1 ] && export GH_KEEP=1

if [ ! -x "$GH_BUILD/gatehoused" ] || [ ! -x "$GH_BUILD/gatehouse-admin" ]; then
	echo "bench: build first (make)" >&2
	exit 1
fi

# shellcheck source=tests/integration/lib.sh
. "$BENCH_SRC/tests/integration/lib.sh"
# A temp dir of our own: test jobs sharing the machine sweep /tmp/gh-t.*,
# and a 25-minute run must not lose its servers half way. lib.sh's cleanup
# removes $GH_TMP at exit, so it removes this one.
rmdir "$GH_TMP/data" 2>/dev/null
rm -rf "$GH_TMP"
GH_TMP=$(mktemp -d /tmp/gh-bench.XXXXXX)
GH_DATA=$GH_TMP/data
# shellcheck source=tests/integration/lib-ssh.sh
. "$BENCH_SRC/tests/integration/lib-ssh.sh"

BT=$GH_T/bench
mkdir -p "$BT" "$OUTDIR"
RAW=$BT/raw.tsv
CMDS=$BT/commands.txt
NOTES=$BT/notes.txt
: >"$RAW"
: >"$CMDS"
: >"$NOTES"
STAMP=$(date -u +%Y-%m-%d)
HOST=$(hostname -s)
NETNS_CLI=ghb-cli-$$
NETNS_SRV=ghb-srv-$$
NETNS_MADE=0

# Our own cleanup first, then lib-ssh's (which kills the pids we registered).
bench_cleanup() {
	if [ "$NETNS_MADE" = 1 ]; then
		ip netns pids "$NETNS_SRV" 2>/dev/null | while read -r p; do kill -TERM "$p" 2>/dev/null; done
		ip netns pids "$NETNS_CLI" 2>/dev/null | while read -r p; do kill -TERM "$p" 2>/dev/null; done
		sleep 0.5
		ip netns del "$NETNS_CLI" 2>/dev/null
		ip netns del "$NETNS_SRV" 2>/dev/null
	fi
}
bench_prev_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "bench_cleanup; ${bench_prev_trap:-:}" EXIT

say() {
	echo "bench: $*" >&2
}

note() {
	say "NOTE: $*"
	printf '%s\n' "$*" >>"$NOTES"
}

load1() {
	cut -d' ' -f1 /proc/loadavg
}

# record FIGURE CIPHER PATH REP VALUE UNIT
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$(load1)" >>"$RAW"
}

now_ns() {
	date +%s%N
}

want() {
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# ---- helpers built for the bench ------------------------------------------

ECHO_LAT=$BT/echo-lat
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-o "$ECHO_LAT" bench/echo-lat.c -lutil || gh_fail "cannot build bench/echo-lat.c"

# ---- servers --------------------------------------------------------------

# bench_sshd NAME AUTHORIZED_PUB: an OpenSSH sshd on a free loopback port,
# LogLevel DEBUG1 so that its log names the negotiated cipher. Sets S_DIR S_PORT.
bench_sshd() {
	local name=$1 dir port pid
	dir=$GH_T/sshd-$name
	mkdir -p "$dir"
	port=$(gh_free_port)
	ssh-keygen -q -t ed25519 -N '' -C "bench-$name" -f "$dir/host_key" || gh_fail "ssh-keygen"
	cp "$2" "$dir/authorized_keys"
	cat >"$dir/sshd_config" <<-EOF
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
		Subsystem sftp internal-sftp
		PrintMotd no
		PrintLastLog no
		MaxStartups 2000:100:2000
		MaxSessions 100
		AllowTcpForwarding yes
		LogLevel DEBUG1
	EOF
	mkdir -p /run/sshd 2>/dev/null
	/usr/sbin/sshd -t -f "$dir/sshd_config" 2>"$dir/sshd-t.log" || gh_fail "sshd -t: $(cat "$dir/sshd-t.log")"
	/usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" &
	pid=$!
	gh_keep_pid "$pid"
	gh_wait_for 10 gh_port_listening "$port" || gh_fail "sshd $name does not listen"
	S_DIR=$dir S_PORT=$port S_PID=$pid
}

say "setting up (build $GH_BUILD, reps $REPS, transfers $SIZE_MB MiB)"
ssh-keygen -q -t ed25519 -N '' -C bench-client -f "$BT/client_key" || gh_fail "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -C bench-operator -f "$BT/op_key" || gh_fail "ssh-keygen"
# The target accepts the bench client (direct, -J) and gatehoused's stored key.
ssh-keygen -q -t ed25519 -N '' -C bench-gatehouse -f "$BT/gh_key" || gh_fail "ssh-keygen"
cat "$BT/client_key.pub" "$BT/gh_key.pub" >"$BT/target_auth"
bench_sshd target "$BT/target_auth"
T_DIR=$S_DIR T_PORT=$S_PORT T_PID=$S_PID
bench_sshd jump "$BT/client_key.pub"
J_DIR=$S_DIR J_PORT=$S_PORT J_PID=$S_PID

# max_startups as the two sshds' MaxStartups above: with the default
# (10:30:100, OpenSSH's own) a few of 1000 sessions opened 12 at a time were
# refused by random early drop (one in the final run: "refusing a connection
# ... 11 unauthenticated"), which measured the DoS guard, not the capacity.
gh_data_init 'bench_allow_no_totp = yes' 'idle_timeout = 0' 'max_startups = 2000:100:2000'
gh_asset web01 "$T_PORT" "$T_DIR/host_key.pub"
gh_account web01 "$TGT_LOGIN" "$BT/gh_key"
gh_admin user add benchop --role operator --pubkey "$BT/op_key.pub" >"$BT/useradd.out" 2>&1 ||
	gh_fail "user add benchop: $(cat "$BT/useradd.out")"
gh_grant benchop web01 "$TGT_LOGIN"
if [ -n "${BENCH_PRELOAD:-}" ]; then
	# An experiment on gatehoused only (e.g. bench/nodelay-shim.c).
	note "gatehoused runs with LD_PRELOAD=$BENCH_PRELOAD (experiment)"
	LD_PRELOAD=$BENCH_PRELOAD start_gatehoused
else
	start_gatehoused
fi
OP_LOGIN="benchop@$TGT_LOGIN@web01"

# known_hosts for every server, loopback and (for rtt) the veth address.
RTT_ADDR=10.203.0.1
RTT_CLI=10.203.0.2
kh() {
	local addr=$1
	printf '[%s]:%s %s\n' "$addr" "$T_PORT" "$(cat "$T_DIR/host_key.pub")"
	printf '[%s]:%s %s\n' "$addr" "$J_PORT" "$(cat "$J_DIR/host_key.pub")"
	printf '[%s]:%s %s\n' "$addr" "$GH_PORT" "$(ssh-keygen -y -f "$GH_DATA/ssh_host_ed25519_key")"
}
{
	kh 127.0.0.1
	kh "$RTT_ADDR"
	printf 'relay-target %s\n' "$(cat "$T_DIR/host_key.pub")"
} >"$BT/known_hosts"
# The echo figure's floor: direct, through one plain TCP relay process.
RELAY_PORT=$(gh_free_port)

# ssh_config per cipher and address: the jump hop of -J reads the same file,
# so Ciphers there fixes the cipher on both hops (-c only reaches the last).
mkcfg() {
	local cipher=$1 addr=$2 f=$3 tp=${4:-$T_PORT} jp=${5:-$J_PORT} gp=${6:-$GH_PORT}
	# ssh keeps the first value it reads: host blocks first, defaults last.
	cat >"$f" <<-EOF
		Host direct
		  HostName $addr
		  Port $tp
		  User $TGT_LOGIN
		  IdentityFile $BT/client_key
		Host jumphost
		  HostName $addr
		  Port $jp
		  User $TGT_LOGIN
		  IdentityFile $BT/client_key
		Host jump
		  HostName 127.0.0.1
		  Port $T_PORT
		  User $TGT_LOGIN
		  IdentityFile $BT/client_key
		  ProxyJump jumphost
		Host relay
		  HostName 127.0.0.1
		  Port $RELAY_PORT
		  User $TGT_LOGIN
		  IdentityFile $BT/client_key
		  HostKeyAlias relay-target
		Host bastion
		  HostName $addr
		  Port $gp
		  User $OP_LOGIN
		  IdentityFile $BT/op_key
		  # public key, then an empty keyboard-interactive round (TOTP off: bench)
		  PreferredAuthentications publickey,keyboard-interactive
		  BatchMode no
		  NumberOfPasswordPrompts 1
		Host *
		  Ciphers $cipher
		  UserKnownHostsFile $BT/known_hosts
		  GlobalKnownHostsFile /dev/null
		  StrictHostKeyChecking yes
		  BatchMode yes
		  IdentitiesOnly yes
		  PreferredAuthentications publickey
		  LogLevel ERROR
		  ControlMaster no
		  ControlPath none
		  Compression no
		  ConnectTimeout 30
		  ServerAliveInterval 0
	EOF
}
cfg() { # cfg CIPHER [rtt]
	local tag=${1%%@*}
	echo "$BT/ssh_config.$tag${2:+.$2}"
}
for c in $CIPHERS; do
	mkcfg "$c" 127.0.0.1 "$(cfg "$c")"
	mkcfg "$c" "$RTT_ADDR" "$(cfg "$c" rtt)"
done
PATHS="direct jump bastion"

# Smoke: every path answers.
for p in $PATHS; do
	out=$(timeout 60 ssh -F "$(cfg "$LAT_CIPHER")" -c "$LAT_CIPHER" "$p" 'echo ok' </dev/null 2>"$BT/smoke.err") ||
		gh_fail "path $p does not work: $(cat "$BT/smoke.err")"
	[ "$out" = ok ] || gh_fail "path $p answered [$out]"
done
say "all paths answer"

# The cipher gatehoused's target leg negotiated (from the target's DEBUG1 log).
TARGET_LEG_CIPHER=$(grep -o 'kex: client->server cipher: [^ ]*' "$T_DIR/sshd.log" | tail -n 1 | awk '{print $4}')
TARGET_LEG_KEX=$(grep -o 'kex: algorithm: [^ ]*' "$T_DIR/sshd.log" | tail -n 1 | awk '{print $3}')
say "bastion -> target leg: cipher $TARGET_LEG_CIPHER, kex $TARGET_LEG_KEX"

# children_at_most PID N: PID has at most N child processes now.
children_at_most() {
	[ "$(pgrep -c -P "$1")" -le "$2" ]
}

# ---- figures ----------------------------------------------------------------

SIZE_BYTES=$((SIZE_MB * 1024 * 1024))

CLK_TCK=$(getconf CLK_TCK)

# CPU ticks of every process of every path that has ended: the bench shell's
# waited-for children (ssh, sftp, head) and those of the three servers'
# listeners (each reaps its connection processes, which reap the target's
# shell commands): fields cutime + cstime of /proc/PID/stat.
cpu_ticks_all() {
	local t=0 pid v
	for pid in $$ "$T_PID" "$J_PID" "$GH_PID"; do
		v=$(awk '{print $16 + $17}' "/proc/$pid/stat" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# timed FIGURE CIPHER PATH REP CMD...: wall time of CMD as MB/s of SIZE_BYTES,
# and the CPU all processes of the path spent on it (FIGURE_cpu, s/GiB: on a
# machine with few cores the total CPU per byte is what limits throughput).
timed_mbs() {
	local fig=$1 c=$2 p=$3 rep=$4 t0 t1 rc c0 c1
	shift 4
	c0=$(cpu_ticks_all)
	t0=$(now_ns)
	"$@"
	rc=$?
	t1=$(now_ns)
	if [ "$rc" -ne 0 ]; then
		note "$fig $c $p rep $rep failed (exit $rc)"
		return
	fi
	record "$fig" "$c" "$p" "$rep" "$(awk -v b="$SIZE_BYTES" -v ns=$((t1 - t0)) 'BEGIN{printf "%.1f", b/1e6/(ns/1e9)}')" MB/s
	sleep 0.3 # let the listeners reap their connection processes
	c1=$(cpu_ticks_all)
	record "${fig}_cpu" "$c" "$p" "$rep" "$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v b="$SIZE_BYTES" \
		'BEGIN{printf "%.2f", t/hz/(b/1073741824)}')" s/GiB
}

up() { # up CFG CIPHER HOST
	head -c "$SIZE_BYTES" /dev/zero | ssh -F "$1" -c "$2" "$3" 'cat > /dev/null'
}
down() {
	ssh -F "$1" -c "$2" "$3" "head -c $SIZE_BYTES /dev/zero" </dev/null >/dev/null
}

fig_tp() {
	local c rep p cf
	say "bulk exec throughput, $SIZE_MB MiB up and down"
	echo "up:   head -c $SIZE_BYTES /dev/zero | ssh -F CFG -c CIPHER HOST 'cat > /dev/null'" >>"$CMDS"
	echo "down: ssh -F CFG -c CIPHER HOST 'head -c $SIZE_BYTES /dev/zero' > /dev/null" >>"$CMDS"
	for c in $CIPHERS; do
		cf=$(cfg "$c")
		for ((rep = 1; rep <= REPS; rep++)); do
			for p in $PATHS; do
				timed_mbs tp_up "$c" "$p" "$rep" up "$cf" "$c" "$p"
				timed_mbs tp_down "$c" "$p" "$rep" down "$cf" "$c" "$p"
			done
		done
	done
}

# sftp_batch CFG CIPHER HOST CMDFILE: commands on stdin, not -b: sftp -b
# forces BatchMode=yes, which also turns off the (empty) keyboard-interactive
# round the bastion asks for after the public key.
sftp_batch() {
	local out
	out=$(sftp -q -F "$1" -c "$2" "$3" <"$4" 2>&1)
	# sftp without -b exits 0 even when a command failed: look at its words.
	if grep -qiE 'not found|failure|denied|closed|error|couldn' <<<"$out"; then
		echo "$out" >&2
		return 1
	fi
}

fig_sftp() {
	local c rep p cf reps=${BENCH_SFTP_REPS:-$((REPS < 3 ? REPS : 3))}
	say "sftp get/put $SIZE_MB MiB"
	truncate -s "$SIZE_BYTES" "$BT/blob"
	cat "$BT/blob" >/dev/null
	printf 'get %s /dev/null\n' "$BT/blob" >"$BT/sftp-get"
	printf 'put %s /dev/null\n' "$BT/blob" >"$BT/sftp-put"
	echo "sftp: $reps interleaved reps (BENCH_SFTP_REPS) to keep the full run under 30 min" >>"$CMDS"
	echo "sftp get: echo 'get $BT/blob /dev/null' | sftp -q -F CFG -c CIPHER HOST  (jump: ProxyJump in CFG = sftp -J)" >>"$CMDS"
	echo "sftp put: echo 'put $BT/blob /dev/null' | sftp -q -F CFG -c CIPHER HOST  (blob: sparse file, page cache)" >>"$CMDS"
	for c in $CIPHERS; do
		cf=$(cfg "$c")
		for ((rep = 1; rep <= reps; rep++)); do
			for p in $PATHS; do
				timed_mbs sftp_get "$c" "$p" "$rep" sftp_batch "$cf" "$c" "$p" "$BT/sftp-get"
				timed_mbs sftp_put "$c" "$p" "$rep" sftp_batch "$cf" "$c" "$p" "$BT/sftp-put"
			done
		done
	done
}

fig_setup() {
	local c=$LAT_CIPHER cf rep
	cf=$(cfg "$c")
	say "connection set-up to exec true ($SETUP_RUNS runs x $REPS rounds per path)"
	echo "setup: hyperfine -N --warmup 1 --runs $SETUP_RUNS 'ssh -F CFG -c $c HOST true' (HOST = direct jump bastion; rounds interleaved)" >>"$CMDS"
	for ((rep = 1; rep <= REPS; rep++)); do
		if command -v hyperfine >/dev/null; then
			hyperfine -N --style none --warmup 1 --runs "$SETUP_RUNS" --export-json "$BT/setup-$rep.json" \
				"ssh -F $cf -c $c direct true" "ssh -F $cf -c $c jump true" "ssh -F $cf -c $c bastion true" \
				>/dev/null 2>"$BT/hyperfine.err" || note "hyperfine round $rep failed: $(tail -n 3 "$BT/hyperfine.err")"
			$GH_PY - "$BT/setup-$rep.json" "$rep" "$c" "$(load1)" >>"$RAW" <<-'EOF'
				import json, sys
				d = json.load(open(sys.argv[1]))
				for r in d["results"]:
				    p = r["command"].split()[-2]
				    for t in r["times"]:
				        print(f"setup\t{sys.argv[3]}\t{p}\t{sys.argv[2]}\t{t*1000:.2f}\tms\t{sys.argv[4]}")
			EOF
		else
			local p i t0 t1
			for ((i = 0; i < SETUP_RUNS; i++)); do
				for p in $PATHS; do
					t0=$(now_ns)
					ssh -F "$cf" -c "$c" "$p" true </dev/null
					t1=$(now_ns)
					record setup "$c" "$p" "$rep" "$(((t1 - t0) / 1000))e-3" ms
				done
			done
		fi
	done
}

ECHO_CMD='stty raw -echo; echo READY; exec cat'

fig_echo() {
	local c=$LAT_CIPHER cf rep p line paths=$PATHS relay_pid=''
	cf=$(cfg "$c")
	say "keystroke echo round trip ($ECHO_N samples x $REPS per path)"
	echo "echo: echo-lat -c $ECHO_N -o SAMPLES -- ssh -F CFG -c $c -tt HOST '$ECHO_CMD'" >>"$CMDS"
	# The floor of what any proxy adds: the direct path through
	# bench/tcp-relay.c, one more process that only copies bytes.
	if cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$BT/tcp-relay" bench/tcp-relay.c 2>"$BT/tcp-relay.build"; then
		"$BT/tcp-relay" "$RELAY_PORT" "$T_PORT" &
		relay_pid=$!
		gh_keep_pid "$relay_pid"
		if gh_wait_for 10 ssh -F "$cf" relay true </dev/null; then
			paths="$PATHS relay"
			echo "echo floor: bench/tcp-relay $RELAY_PORT $T_PORT; ssh relay = direct through it" >>"$CMDS"
		else
			note "echo: the tcp-relay path does not answer; no floor"
		fi
	else
		note "echo: bench/tcp-relay.c does not build: $(head -c 300 "$BT/tcp-relay.build")"
	fi
	for ((rep = 1; rep <= REPS; rep++)); do
		for p in $paths; do
			line=$("$ECHO_LAT" -c "$ECHO_N" -o "$BT/echo-$p-$rep.txt" -- \
				ssh -F "$cf" -c "$c" -tt "$p" "$ECHO_CMD" 2>>"$BT/echo.err") || {
				note "echo $p rep $rep failed: $line"
				continue
			}
			say "  echo $p: $line"
			# Skip the first 50 (warm-up), keep the rest as samples.
			tail -n +51 "$BT/echo-$p-$rep.txt" | while read -r v; do
				printf 'echo\t%s\t%s\t%s\t%s\tus\t%s\n' "$c" "$p" "$rep" "$v" "$(load1)"
			done >>"$RAW"
		done
	done
	if [ -n "$relay_pid" ]; then kill -TERM "$relay_pid" 2>/dev/null; fi
}

# Proportional set size (kB) of PIDS and all their descendants.
pss_tree() {
	local pid all=() queue=("$@") total=0 v
	while [ ${#queue[@]} -gt 0 ]; do
		pid=${queue[0]}
		queue=("${queue[@]:1}")
		all+=("$pid")
		mapfile -t -O "${#queue[@]}" queue < <(pgrep -P "$pid" 2>/dev/null)
	done
	for pid in "${all[@]}"; do
		v=$(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)
		total=$((total + ${v:-0}))
	done
	echo "$total ${#all[@]}"
}

# hold_sessions N PATH SECONDS: start echo-lat holding N idle pty sessions in
# the background; waits until all are up. Sets HOLD_PID HOLD_OK.
hold_sessions() {
	local n=$1 p=$2 secs=$3 cf
	cf=$(cfg "$LAT_CIPHER")
	: >"$BT/hold.out"
	"$ECHO_LAT" -n "$n" -p 12 -H "$secs" -- ssh -F "$cf" -c "$LAT_CIPHER" -tt "$p" "$ECHO_CMD" \
		>"$BT/hold.out" 2>>"$BT/hold.err" &
	HOLD_PID=$!
	gh_keep_pid "$HOLD_PID"
	gh_wait_for $((n * 2 + 60)) grep -q held= "$BT/hold.out" || note "holding $n sessions on $p: no answer"
	HOLD_OK=$(sed -n 's/.*held=\([0-9]*\).*/\1/p' "$BT/hold.out")
	HOLD_OK=${HOLD_OK:-0}
}

end_hold() {
	kill -TERM "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
}

fig_mem() {
	local p pss n base_pss base_n t0 t1 parents
	say "memory per idle interactive session ($MEM_N sessions)"
	echo "mem: echo-lat -n $MEM_N -H ... -- ssh -tt HOST '$ECHO_CMD'; sum Pss of /proc/PID/smaps_rollup over the per-connection processes" >>"$CMDS"
	for p in bastion jump; do
		if [ "$p" = bastion ]; then parents=$GH_PID; else parents=$J_PID; fi
		read -r base_pss base_n < <(pss_tree "$parents")
		t0=$(now_ns)
		hold_sessions "$MEM_N" "$p" 600
		t1=$(now_ns)
		sleep 2
		read -r pss n < <(pss_tree "$parents")
		end_hold
		say "  $p: $HOLD_OK sessions up in $(((t1 - t0) / 1000000)) ms, PSS $((pss - base_pss)) kB over $((n - base_n)) processes"
		[ "$HOLD_OK" -gt 0 ] || continue
		record mem "$LAT_CIPHER" "$p" 1 "$(awk -v a=$((pss - base_pss)) -v n="$HOLD_OK" 'BEGIN{printf "%.1f", a/n}')" kB/session
		record mem_procs "$LAT_CIPHER" "$p" 1 "$(awk -v a=$((n - base_n)) -v n="$HOLD_OK" 'BEGIN{printf "%.2f", a/n}')" procs/session
		gh_wait_for 60 children_at_most "$parents" 0
	done
}

fig_conc() {
	local c=$LAT_CIPHER cf p line t0 t1
	cf=$(cfg "$c")
	say "concurrency: $IDLE_N idle sessions held through the bastion"
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	echo "idle: echo-lat -n $IDLE_N -p 12 -H 10 -- ssh -tt bastion '$ECHO_CMD' (ulimit -n $(ulimit -n))" >>"$CMDS"
	t0=$(now_ns)
	hold_sessions "$IDLE_N" bastion 10
	t1=$(now_ns)
	record idle_held "$c" bastion 1 "$HOLD_OK" sessions
	say "  held $HOLD_OK of $IDLE_N (opened in $(((t1 - t0) / 1000000)) ms)"
	[ "$HOLD_OK" -lt "$IDLE_N" ] && note "only $HOLD_OK of $IDLE_N idle sessions could be opened through the bastion"
	end_hold
	gh_wait_for 60 children_at_most "$GH_PID" 0
	say "concurrency: $TYPE_N typing sessions, a key every 200 ms for $TYPE_S s"
	echo "typing: echo-lat -n $TYPE_N -i 200 -d $TYPE_S -- ssh -tt HOST '$ECHO_CMD'" >>"$CMDS"
	for p in direct bastion jump; do
		line=$("$ECHO_LAT" -n "$TYPE_N" -p 12 -i 200 -d "$TYPE_S" -o "$BT/typing-$p.txt" -- \
			ssh -F "$cf" -c "$c" -tt "$p" "$ECHO_CMD" 2>>"$BT/typing.err") || note "typing $p failed: $line"
		say "  typing $p: $line"
		awk -v c="$c" -v p="$p" -v l="$(load1)" '{printf "typing\t%s\t%s\t1\t%s\tus\t%s\n", c, p, $1, l}' \
			"$BT/typing-$p.txt" >>"$RAW"
		[ "$p" = bastion ] && gh_wait_for 60 children_at_most "$GH_PID" 0
	done
}

fig_rec() {
	local bin=$BT/rec-bench line
	say "recording size of a moderate synthetic hour (bench/rec-bench.c)"
	echo "rec: cc -O2 -I. -o rec-bench bench/rec-bench.c build/librecorder.a build/libcommon.a \$(DEP_LIBS); rec-bench DIR" >>"$CMDS"
	# shellcheck disable=SC2046
	if ! cc -std=c11 -D_GNU_SOURCE -O2 -I. -o "$bin" bench/rec-bench.c "$GH_BUILD/librecorder.a" \
		"$GH_BUILD/libcommon.a" $(pkg-config --libs libzstd libcrypto sqlite3 jansson inih vterm) -lm \
		2>"$BT/rec-bench.build"; then
		note "rec-bench does not build: $(head -c 400 "$BT/rec-bench.build")"
		return
	fi
	mkdir -p "$BT/rec"
	"$bin" "$BT/rec" >"$BT/rec-bench.out" 2>&1 || note "rec-bench failed: $(tail -n 3 "$BT/rec-bench.out")"
	cp "$BT/rec-bench.out" "$BT/rec-bench.txt"
	sed 's/^/  /' "$BT/rec-bench.out" >&2
	line=$(grep -m1 '^interactive hour, repeated output' "$BT/rec-bench.out")
	v=$(sed -n 's/.*recording \([0-9]*\) bytes.*/\1/p' <<<"$line")
	[ -n "$v" ] && record rec_hour - bastion 1 "$(awk -v b="$v" 'BEGIN{printf "%.1f", b/1000}')" KB/hour
	line=$(grep -m1 '^interactive hour, random output' "$BT/rec-bench.out")
	v=$(sed -n 's/.*recording \([0-9]*\) bytes.*/\1/p' <<<"$line")
	[ -n "$v" ] && record rec_hour_random - bastion 1 "$(awk -v b="$v" 'BEGIN{printf "%.1f", b/1000}')" KB/hour
}

# cpu_of PID: utime+stime in clock ticks.
cpu_of() {
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# peak_cpu PID WHILE_PID: the largest cpu_of PID seen while WHILE_PID runs
# (PID may end first: its last reading stands).
peak_cpu() {
	local v last=0
	while kill -0 "$2" 2>/dev/null; do
		v=$(cpu_of "$1")
		[ "$v" -gt "$last" ] && last=$v
		sleep 0.1
	done
	echo "$last"
}

# Find the connection process of the one session now running (newest child).
# The newest connection's network child: with privilege separation a
# connection is a monitor (the listener's child, idle after authentication)
# and the network child that relays and records (its child).
newest_conn() {
	local pid child
	for ((n = 0; n < 100; n++)); do
		# A monitor started after the caller's conn_mark: the previous
		# transfer's connection may still be tearing down.
		pid=$(pgrep -P "$GH_PID" | grep -vxF -f <(printf '%s\n' ${CONN_SEEN:-0}) | tail -n 1)
		[ -n "$pid" ] && child=$(pgrep -n -P "$pid") && [ -n "$child" ] && {
			echo "$child"
			return
		}
		sleep 0.05
	done
	[ -n "$pid" ] && echo "$pid"
}

# conn_mark: remember the connections now alive, so that newest_conn after
# the next ssh returns that ssh's connection and not one being torn down.
conn_mark() {
	CONN_SEEN=$(pgrep -P "$GH_PID" | tr '\n' ' ')
}

# perf_share PAYLOAD CMD SUFFIX CIPHER CONFIG: the recorder's share of the
# connection process's samples while CMD's output is downloaded through the
# bastion; with a SUFFIX, first the process's CPU per GiB in a run without
# perf (perf's unwinding is charged to the process it samples).
perf_share() {
	local name=$1 cmd=$2 sfx=$3 c=$4 cf=$5 spid pid ppid hz last bytes
	hz=$(getconf CLK_TCK)
	if [ -n "$sfx" ]; then
		conn_mark
		ssh -F "$cf" -c "$c" bastion "sleep 1; $cmd" </dev/null | wc -c >"$BT/cpu-bytes" &
		spid=$!
		pid=$(newest_conn)
		last=$(peak_cpu "$pid" "$spid")
		wait "$spid"
		bytes=$(cat "$BT/cpu-bytes")
		[ "${bytes:-0}" -gt 0 ] && record "cpu_per_gib$sfx" "$c" bastion 1 \
			"$(awk -v t="$last" -v hz="$hz" -v b="$bytes" 'BEGIN{printf "%.2f", t/hz/(b/1073741824)}')" s/GiB
	fi
	conn_mark
	ssh -F "$cf" -c "$c" bastion "sleep 1; $cmd" </dev/null >/dev/null &
	spid=$!
	pid=$(newest_conn)
	rm -f "$BT/perf.data"
	perf record -q -F 999 --call-graph dwarf,16384 -o "$BT/perf.data" -p "$pid" 2>"$BT/perf.err" &
	ppid=$!
	wait "$spid"
	kill -INT "$ppid" 2>/dev/null
	wait "$ppid" 2>/dev/null
	echo "cpu ($name): perf record -F 999 --call-graph dwarf -p CONN_PID during ssh bastion '$cmd'; perf report --children" >>"$CMDS"
	if [ -z "$sfx" ]; then
		perf report -i "$BT/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep '%' | grep -v '0x0000' |
			head -n 120 >"$BT/perf-report.txt"
		perf report -i "$BT/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -n 20 >"$BT/perf-dso.txt"
	fi
	# Recorder share: samples with a recorder frame (or libzstd) anywhere on
	# the stack, each counted once (bench/perf-share.py).
	local share zshare nsamp
	read -r share zshare nsamp < <(perf script -i "$BT/perf.data" 2>/dev/null | "$GH_PY" bench/perf-share.py)
	if [ "${nsamp:-0}" = 0 ]; then
		note "recorder share on $name: perf recorded no samples of pid $pid ($(head -c 200 "$BT/perf.err"))"
		return
	fi
	record "recorder_cpu_share$sfx" "$c" bastion 1 "${share:-0}" "%"
	record "zstd_cpu_share$sfx" "$c" bastion 1 "${zshare:-0}" "%"
	say "  recorder on $name: ${share:-?} % of the connection process's $nsamp samples (zstd alone ${zshare:-?} %)"
}

fig_cpu() {
	local c=$LAT_CIPHER cf pid spid sz=$((SIZE_BYTES)) hz jpid
	cf=$(cfg "$c")
	hz=$(getconf CLK_TCK)
	say "CPU per GiB and recorder share (perf) on a $SIZE_MB MiB download"
	# CPU seconds of the relaying process per GiB, bastion vs the -J sshd.
	for p in bastion jump; do
		conn_mark
		ssh -F "$cf" -c "$c" "$p" "sleep 1; head -c $sz /dev/zero" </dev/null >/dev/null &
		local cpid=$!
		sleep 0.7
		if [ "$p" = bastion ]; then pid=$(newest_conn); else pid=$(pgrep -n -P "$J_PID"); jpid=$(pgrep -n -P "$pid"); pid=${jpid:-$pid}; fi
		local last
		last=$(peak_cpu "$pid" "$cpid")
		wait "$cpid"
		record cpu_per_gib "$c" "$p" 1 "$(awk -v t="$last" -v hz="$hz" -v b="$sz" 'BEGIN{printf "%.2f", t/hz/(b/1073741824)}')" s/GiB
	done
	if ! command -v perf >/dev/null; then
		note "perf missing: no recorder share"
		return
	fi
	perf_share zeros "head -c $sz /dev/zero" "" "$c" "$cf"
	# Zeros flatter the recorder (zstd turns them into RLE blocks): the same
	# on log-like text and on incompressible bytes, 4 x a 64 MiB file.
	local tsz=$((sz / 4 < 67108864 ? sz / 4 : 67108864))
	"$GH_PY" bench/gen-text.py $((tsz >> 20)) >"$BT/payload-text" || return
	head -c "$tsz" /dev/urandom >"$BT/payload-random"
	for p in text random; do
		local f=$BT/payload-$p
		perf_share "$p" "cat $f $f $f $f" "_$p" "$c" "$cf"
	done
	# Syscalls during a smaller transfer.
	if command -v strace >/dev/null; then
		local ssz=$((sz / 8))
		conn_mark
		ssh -F "$cf" -c "$c" bastion "sleep 1; head -c $ssz /dev/zero" </dev/null >/dev/null &
		spid=$!
		pid=$(newest_conn)
		strace -c -f -p "$pid" -o "$BT/strace-bastion.txt" 2>/dev/null &
		local stpid=$!
		wait "$spid"
		sleep 0.5
		kill -INT "$stpid" 2>/dev/null
		wait "$stpid" 2>/dev/null
		echo "strace -c -f -p CONN_PID during ssh bastion 'head -c $ssz /dev/zero'" >>"$CMDS"
	fi
}

fig_seek() {
	if [ ! -f bench/play-bench.c ]; then
		note "seek: bench/play-bench.c does not exist yet; skipped"
		return
	fi
	local bin=$BT/play-bench
	say "seek in a 4-hour heavy recording (bench/play-bench.c)"
	# shellcheck disable=SC2046
	if ! cc -std=c11 -D_GNU_SOURCE -O2 -I. -o "$bin" bench/play-bench.c "$GH_BUILD/libplayer.a" \
		"$GH_BUILD/librecorder.a" "$GH_BUILD/libcommon.a" \
		$(pkg-config --libs libzstd libcrypto sqlite3 jansson inih vterm) -lm 2>"$BT/play-bench.build"; then
		note "play-bench does not build: $(head -c 400 "$BT/play-bench.build")"
		return
	fi
	mkdir -p "$BT/play"
	"$bin" "$BT/play" >"$BT/play-bench.txt" 2>&1 || note "play-bench failed: $(tail -n 3 "$BT/play-bench.txt")"
	sed 's/^/  /' "$BT/play-bench.txt" >&2
	# "seek (200 points): median M ms, p99 P ms, max X ms"
	local m p x
	read -r m p x < <(sed -n 's/^seek ([0-9]* points): median \([0-9.]*\) ms, p99 \([0-9.]*\) ms, max \([0-9.]*\) ms.*/\1 \2 \3/p' "$BT/play-bench.txt")
	if [ -n "${x:-}" ]; then
		record seek_median - bastion 1 "$m" ms
		record seek_p99 - bastion 1 "$p" ms
		record seek_max - bastion 1 "$x" ms
	fi
	x=$(sed -n 's/^first seek (cache built): \([0-9.]*\) ms.*/\1/p' "$BT/play-bench.txt")
	[ -n "$x" ] && record seek_first_uncached - bastion 1 "$x" ms
	echo "seek: bench/play-bench DIR (see play-bench.txt)" >>"$CMDS"
}

# ---- 25 ms RTT: client in one namespace, servers in another ---------------

# rtt_transfers CFG-SUFFIX [NETNS]: the interleaved up/down transfers.
rtt_transfers() {
	local c cf rep p rtt_mb=$((SIZE_MB / 8)) pre=() reps=$((REPS < 3 ? REPS : 3))
	[ -n "${2:-}" ] && pre=(ip netns exec "$2")
	[ "$rtt_mb" -lt 16 ] && rtt_mb=16
	local save=$SIZE_BYTES
	SIZE_BYTES=$((rtt_mb * 1024 * 1024))
	echo "rtt transfers: $rtt_mb MiB up/down per run, $reps reps, same commands as tp" >>"$CMDS"
	for c in $CIPHERS; do
		cf=$(cfg "$c" "$1")
		for ((rep = 1; rep <= reps; rep++)); do
			for p in $PATHS; do
				timed_mbs rtt_up "$c" "$p" "$rep" "${pre[@]}" bash -c \
					"head -c $SIZE_BYTES /dev/zero | ssh -F $cf -c $c $p 'cat > /dev/null'"
				timed_mbs rtt_down "$c" "$p" "$rep" "${pre[@]}" bash -c \
					"ssh -F $cf -c $c $p 'head -c $SIZE_BYTES /dev/zero' </dev/null >/dev/null"
			done
		done
	done
	SIZE_BYTES=$save
}

# No netem in this kernel (or no root): a userspace delay line on loopback in
# front of the target, the jump sshd and gatehoused (12.5 ms each way);
# jump -> target and bastion -> target stay on plain loopback.
rtt_delay_line() {
	local dt dj dg c pid t0
	dt=$(gh_free_port)
	dj=$(gh_free_port)
	dg=$(gh_free_port)
	note "rtt: no netem (kernel CONFIG_NET_SCH_NETEM unset or no root): 25 ms RTT emulated by bench/delay-proxy.py, a userspace delay line on loopback (12.5 ms each way, unbounded buffer), not by the kernel"
	echo "rtt: bench/delay-proxy.py 12.5 $dt:$T_PORT $dj:$J_PORT $dg:$GH_PORT (client -> delay line -> server; jump->target and bastion->target undelayed)" >>"$CMDS"
	"$GH_PY" bench/delay-proxy.py 12.5 "$dt:$T_PORT" "$dj:$J_PORT" "$dg:$GH_PORT" >"$BT/delay.out" 2>"$BT/delay.err" &
	pid=$!
	gh_keep_pid "$pid"
	gh_wait_for 10 grep -q ready "$BT/delay.out" || {
		note "rtt: delay line did not start; skipped"
		return
	}
	{
		printf '[127.0.0.1]:%s %s\n' "$dt" "$(cat "$T_DIR/host_key.pub")"
		printf '[127.0.0.1]:%s %s\n' "$dj" "$(cat "$J_DIR/host_key.pub")"
		printf '[127.0.0.1]:%s %s\n' "$dg" "$(ssh-keygen -y -f "$GH_DATA/ssh_host_ed25519_key")"
	} >>"$BT/known_hosts"
	for c in $CIPHERS; do
		mkcfg "$c" 127.0.0.1 "$(cfg "$c" dl)" "$dt" "$dj" "$dg"
	done
	t0=$(now_ns)
	ssh -F "$(cfg "$LAT_CIPHER" dl)" direct true </dev/null
	say "  set-up through the delay line: $((($(now_ns) - t0) / 1000000)) ms"
	rtt_transfers dl
	kill -TERM "$pid" 2>/dev/null
}

fig_rtt() {
	if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
		rtt_delay_line
		return
	fi
	say "throughput at 25 ms RTT (netns $NETNS_CLI <-> $NETNS_SRV, netem 12.5 ms each way)"
	ip netns add "$NETNS_CLI" && ip netns add "$NETNS_SRV" || {
		note "rtt: cannot create namespaces; skipped"
		return
	}
	NETNS_MADE=1
	local v0=ghb0-$$ v1=ghb1-$$ rc=0
	ip link add "$v0" netns "$NETNS_SRV" type veth peer name "$v1" netns "$NETNS_CLI" || rc=1
	ip -n "$NETNS_SRV" addr add "$RTT_ADDR/24" dev "$v0" || rc=1
	ip -n "$NETNS_CLI" addr add "$RTT_CLI/24" dev "$v1" || rc=1
	for ns in "$NETNS_SRV" "$NETNS_CLI"; do
		ip -n "$ns" link set lo up || rc=1
	done
	ip -n "$NETNS_SRV" link set "$v0" up || rc=1
	ip -n "$NETNS_CLI" link set "$v1" up || rc=1
	ip netns exec "$NETNS_SRV" tc qdisc add dev "$v0" root netem delay 12.5ms limit 100000 || rc=1
	ip netns exec "$NETNS_CLI" tc qdisc add dev "$v1" root netem delay 12.5ms limit 100000 || rc=1
	if [ "$rc" -ne 0 ]; then
		ip netns del "$NETNS_CLI" 2>/dev/null
		ip netns del "$NETNS_SRV" 2>/dev/null
		NETNS_MADE=0
		rtt_delay_line
		return
	fi
	echo "rtt: netns $NETNS_CLI ($RTT_CLI) <-veth-> $NETNS_SRV ($RTT_ADDR), tc netem delay 12.5ms on both ends;" \
		"target, jump sshd and gatehoused restarted in $NETNS_SRV (jump->target and bastion->target on its loopback)" >>"$CMDS"
	# The same servers (same keys, ports, data dir) inside the server namespace.
	local d
	for d in "$T_DIR" "$J_DIR"; do
		sed -e "s/^ListenAddress 127.0.0.1$/ListenAddress 127.0.0.1\nListenAddress $RTT_ADDR/" \
			-e "s#^PidFile .*#PidFile $d/sshd-rtt.pid#" "$d/sshd_config" >"$d/sshd_config.rtt"
		ip netns exec "$NETNS_SRV" /usr/sbin/sshd -D -f "$d/sshd_config.rtt" -E "$d/sshd-rtt.log" &
		gh_keep_pid $!
	done
	ip netns exec "$NETNS_SRV" "$GHD" -d "$GH_DATA" -l "$RTT_ADDR" -p "$GH_PORT" -f 2>>"$GH_T/gatehoused-rtt.log" &
	gh_keep_pid $!
	sleep 2
	ip netns exec "$NETNS_CLI" ping -c 3 -q "$RTT_ADDR" | tail -n 1 | sed 's/^/  ping: /' >&2
	rtt_transfers rtt "$NETNS_CLI"
}

# BENCH_ONLY=hold: keep the three paths up for manual profiling (perf,
# strace, valgrind) for BENCH_HOLD_S seconds; $BT/env.sh has what to source.
fig_hold() {
	{
		echo "BT=$BT GH_PID=$GH_PID T_PID=$T_PID J_PID=$J_PID GH_DATA=$GH_DATA"
		for c in $CIPHERS; do echo "# ssh -F $(cfg "$c") -c $c direct|jump|bastion CMD"; done
	} >"$BT/env.sh"
	say "holding the paths up for ${BENCH_HOLD_S:-1800} s: . $BT/env.sh"
	sleep "${BENCH_HOLD_S:-1800}" &
	wait $! # a TERM ends the wait at once (bash defers traps during a foreground child)
}

# ---- run --------------------------------------------------------------------

echo "uptime at start: $(uptime)" >>"$NOTES"
T_START=$(date +%s)
for f in tp sftp setup echo mem conc rec cpu seek rtt hold; do
	if want "$f"; then
		echo "load before $f: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$NOTES"
		"fig_$f"
	fi
done
echo "uptime at end: $(uptime)" >>"$NOTES"
echo "duration: $(($(date +%s) - T_START)) s" >>"$NOTES"

# ---- report -----------------------------------------------------------------

BASE=$OUTDIR/$STAMP-$HOST${BENCH_TAG:+-$BENCH_TAG}
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host=$HOST"
	echo "nproc=$(nproc)"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "kernel=$(uname -r)"
	echo "ssh=$(ssh -V 2>&1)"
	echo "sshd=$(/usr/sbin/sshd -V 2>&1 | head -n 1 || true)"
	echo "libssh=$(pkg-config --modversion libssh)"
	echo "zstd=$(pkg-config --modversion libzstd)"
	echo "gatehouse=$(git -C "$BENCH_SRC" rev-parse --short HEAD)$(git -C "$BENCH_SRC" diff --quiet HEAD -- proxy recorder common auth || echo '+dirty')"
	echo "build=$GH_BUILD (release, -O2)"
	echo "quick=$QUICK"
	echo "reps=$REPS"
	echo "size_mb=$SIZE_MB"
	echo "ciphers=$CIPHERS"
	echo "target_leg_cipher=${TARGET_LEG_CIPHER:-unknown}"
	echo "target_leg_kex=${TARGET_LEG_KEX:-unknown}"
} >"$BT/meta.txt"
xz -9 -c "$RAW" >"$BASE.raw.tsv.xz" # every sample; latency runs make it large
for f in perf-report.txt perf-dso.txt strace-bastion.txt rec-bench.txt play-bench.txt; do
	[ -f "$BT/$f" ] && cp "$BT/$f" "$BASE.$f"
done
"$GH_PY" bench/report.py "$BT/meta.txt" "$RAW" "$CMDS" "$NOTES" "$BASE" || gh_fail "report.py failed"
say "report: $BASE.md"
exit 0
