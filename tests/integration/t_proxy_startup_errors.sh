#!/bin/bash
# Scenario: gatehoused refuses to start, with a clear message and a non-zero
# exit status and without ever listening, when its data directory cannot be
# used: owned by another user than the service user (started as root), under
# a parent directory the service user may not enter (the message names that
# directory, not "input/output error" about the database), the database not
# writable, the master key or the host key unreadable, recordings/ not
# writable. Once repaired, it starts.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init

# try_start NAME EXPECTED_ERE: the daemon must exit non-zero (bounded), say
# EXPECTED on stderr and never listen.
try_start() {
	local name=$1 re=$2 port rc=0
	port=$(gh_free_port)
	timeout 30 "$GHD" -d "$GH_DATA" -l 127.0.0.1 -p "$port" -f >"$GH_T/$name.out" 2>"$GH_T/$name.err" || rc=$?
	[ "$rc" -ne 0 ] || gh_fail "$name: the daemon exited 0"
	[ "$rc" -ne 124 ] || gh_fail "$name: the daemon kept running (timeout)"
	grep -Eq -- "$re" "$GH_T/$name.err" || gh_fail "$name: expected /$re/, got: $(cat "$GH_T/$name.err")"
	grep -q "listening on" "$GH_T/$name.err" && gh_fail "$name: the daemon listened before failing"
	return 0
}

if [ "$(id -u)" -eq 0 ] && getent passwd gatehouse >/dev/null; then
	svc=gatehouse
	# Root-owned data directory (what `make run` once produced).
	chown -R root: "$GH_DATA"
	try_start owner "data directory $GH_DATA is owned by uid 0, not by gatehouse: run chown -R gatehouse: $GH_DATA"
	chown -R gatehouse: "$GH_DATA"
	# A data directory the service user owns, under a parent only root may
	# enter (issue 15, finding 7): the message names the parent and why.
	mkdir -m 0700 "$GH_T/locked"
	cp -a "$GH_DATA" "$GH_T/locked/data"
	(
		GH_DATA=$GH_T/locked/data
		try_start parent "cannot reach the data directory $GH_DATA: user gatehouse \\(uid [0-9]+\\) may not enter $GH_T/locked \\(mode 0700, owner uid 0\\)"
	) || exit 1
	grep -q "input/output error" "$GH_T/parent.err" && gh_fail "parent: still an input/output error: $(cat "$GH_T/parent.err")"
	rm -rf "$GH_T/locked"
	# The directory is right but the database is root's: SQLite would open it read-only.
	chown root: "$GH_DATA/gatehouse.db"
	chmod 0644 "$GH_DATA/gatehouse.db"
	try_start db "cannot (open|write) the database $GH_DATA/gatehouse.db"
	chown gatehouse: "$GH_DATA/gatehouse.db"
	chmod 0600 "$GH_DATA/gatehouse.db"
	# Master key unreadable by the service user.
	chown root: "$GH_DATA/master.key"
	chmod 0600 "$GH_DATA/master.key"
	try_start mkey "cannot load the master key $GH_DATA/master.key"
	chown gatehouse: "$GH_DATA/master.key"
	# recordings/ not writable by the service user.
	chown root: "$GH_DATA/recordings"
	chmod 0755 "$GH_DATA/recordings"
	try_start rec "cannot create a file in $GH_DATA/recordings"
	chown gatehouse: "$GH_DATA/recordings"
	chmod 0700 "$GH_DATA/recordings"
else
	svc=$(id -un)
	# Not root: permissions decide (root would read everything).
	chmod 0400 "$GH_DATA/gatehouse.db"
	try_start db "cannot (open|write) the database $GH_DATA/gatehouse.db"
	chmod 0600 "$GH_DATA/gatehouse.db"
	chmod 0000 "$GH_DATA/master.key"
	try_start mkey "cannot load the master key $GH_DATA/master.key"
	chmod 0600 "$GH_DATA/master.key"
	chmod 0500 "$GH_DATA/recordings"
	try_start rec "cannot create a file in $GH_DATA/recordings"
	chmod 0700 "$GH_DATA/recordings"
fi
# With recording_failure = open the administrator chose unrecorded sessions
# over refused ones: an unusable recordings/ is a warning, not a refusal.
chmod 0500 "$GH_DATA/recordings"
[ "$(id -u)" -eq 0 ] && chown root: "$GH_DATA/recordings"
cp "$GH_DATA/gatehouse.conf" "$GH_T/conf.saved"
gh_conf 'recording_failure = open'
start_gatehoused
grep -q "sessions will run unrecorded (recording_failure = open)" "$GH_LOG" ||
	gh_fail "no warning about the unusable recordings directory"
kill -TERM "$GH_PID"
wait "$GH_PID" 2>/dev/null || true
cp "$GH_T/conf.saved" "$GH_DATA/gatehouse.conf"
[ "$(id -u)" -eq 0 ] && chown -R gatehouse: "$GH_DATA"
chmod 0700 "$GH_DATA/recordings"
# recordings/ missing altogether.
mv "$GH_DATA/recordings" "$GH_DATA/recordings.away"
try_start norec "recordings directory $GH_DATA/recordings does not exist"
mv "$GH_DATA/recordings.away" "$GH_DATA/recordings"
# Host key missing (checked as the identity that loads it, before binding).
mv "$GH_DATA/ssh_host_ed25519_key" "$GH_T/hk.away"
try_start hostkey "cannot read the host key $GH_DATA/ssh_host_ed25519_key"
mv "$GH_T/hk.away" "$GH_DATA/ssh_host_ed25519_key"
# No probe file is left behind.
[ -z "$(find "$GH_DATA/recordings" -name '.startup-probe-*')" ] || gh_fail "a start-up probe file was left"

# Repaired: it starts, listens and serves.
[ "$(stat -c %U "$GH_DATA")" = "$svc" ] || gh_fail "data dir not owned by $svc"
start_gatehoused
gh_daemon_alive || gh_fail "the daemon died after start"
echo "t_proxy_startup_errors: ok"
