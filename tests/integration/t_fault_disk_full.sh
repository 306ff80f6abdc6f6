#!/bin/bash
# Scenario (issue 9, faults): the recording store fills up mid-session.
# recordings/ is a 2 MiB tmpfs (root only; mounted here, lazily unmounted in
# the EXIT trap). A filler file leaves a little room, a session prints random
# (incompressible) output until the recording cannot be written: the session
# ends with a clear message to the operator, a critical recording.fail event
# goes to the database and to the JSON-lines copy (the audit sinks are not on
# the full disk), the sessions row is closed with end reason "recording
# failed"; while the store is full new sessions are refused (recording_failure
# = closed, the default) and the daemon stays up; once space returns (filler
# deleted) a new session works and is recorded.
. "$(dirname "$0")/lib-ssh.sh"

[ "$(id -u)" = 0 ] || gh_fail "needs root for the tmpfs mount"
gh_data_init "audit_jsonl = audit.jsonl"
gh_setup_web01
for u in full1 full2 full3; do
	gh_user "$u"
	gh_grant "$u" web01 "$TGT_LOGIN"
done
FAULT_MNT=$GH_DATA/recordings
mkdir -p "$FAULT_MNT"
mount -t tmpfs -o size=2m,mode=0700 tmpfs "$FAULT_MNT" || gh_fail "cannot mount a tmpfs on $FAULT_MNT"
gh_fault_prev_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "umount -l '$FAULT_MNT' 2>/dev/null; $gh_fault_prev_trap" EXIT
start_gatehoused # chowns the data dir (and the tmpfs root) to the service user
# Leave about 256 KiB free.
dd if=/dev/zero of="$FAULT_MNT/filler" bs=1k count=1792 status=none 2>/dev/null || true
chown --reference="$GH_DATA" "$FAULT_MNT/filler" 2>/dev/null || true

# 1. A session that outputs incompressible data until the store is full.
GH_SSH_TIMEOUT=60 gh_ssh_cmd "full1@$TGT_LOGIN@web01" \
	'for i in $(seq 1 400); do head -c 8192 /dev/urandom | base64; sleep 0.01; done; echo FINISHED'
gh_expect_nomatch "the session was cut short" "$OUT" FINISHED
[ "$RC" -ne 0 ] || gh_fail "the session ended with status 0 although its recording failed"
gh_expect_match "operator told" "$ERR" 'recording failed'
gh_wait_sessions_closed 10 || gh_fail "the full1 session row stayed active"
gh_expect_eq "end reason" "$(gh_sql "SELECT end_reason FROM sessions WHERE user = 'full1'")" "recording failed"
gh_expect_audit 1 actor=full1 type=recording.fail result=fail importance=critical
grep -q '"actor":"full1".*"type":"recording.fail"' "$GH_DATA/audit.jsonl" ||
	gh_fail "recording.fail missing from audit.jsonl"
gh_daemon_alive || gh_fail "gatehoused died when the disk filled"

# 2. While the store is full: a new session is refused, with a message.
df -k "$FAULT_MNT" >&2
gh_ssh_cmd "full2@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN_UNRECORDED'
gh_expect_nomatch "no unrecorded session" "$OUT" SHOULD_NOT_RUN_UNRECORDED
[ "$RC" -ne 0 ] || gh_fail "a session ran while the recording store was full"
gh_expect_match "operator told (full store)" "$ERR" '[Rr]ecord'
gh_expect_audit 1 actor=full2 type=recording.fail
gh_daemon_alive || gh_fail "gatehoused died"

# 3. Space returns: sessions work and are recorded again.
rm -f "$FAULT_MNT/filler"
find "$FAULT_MNT" -name '*.gsr*' -size +100k -delete 2>/dev/null || true
gh_ssh_cmd "full3@$TGT_LOGIN@web01" "echo recovered-$$"
gh_expect_eq "session after recovery" "$OUT" "recovered-$$"
gh_wait_sessions_closed 10 || gh_fail "the full3 session row stayed active"
rec=$(gh_sql "SELECT recording FROM sessions WHERE user = 'full3'")
gh_recording_has "recovered-$$" "$rec" || gh_fail "the session after recovery is not recorded"
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_fault_disk_full: ok"
