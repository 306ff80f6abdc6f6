#!/bin/bash
# Scenario: when the recording cannot be written, recording_failure decides:
# closed (the default) refuses the session with a message and an audit event;
# open lets it run unrecorded, and says so in the audit trail.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user rf1
gh_user rf2
gh_grant rf1 web01 "$TGT_LOGIN"
gh_grant rf2 web01 "$TGT_LOGIN"
start_gatehoused
# The daemon (user gatehouse, or this user) can no longer create files there.
chmod 0500 "$GH_DATA/recordings"

gh_ssh_cmd "rf1@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN_UNRECORDED'
[ "$RC" -ne 0 ] || gh_fail "an unrecordable session was allowed with recording_failure = closed"
gh_expect_nomatch "fail-closed output" "$OUT" SHOULD_NOT_RUN_UNRECORDED
gh_expect_match "operator told" "$ERR" '[Rr]ecord'
if grep -q "Starting session" "$TGT_DIR/sshd.log"; then
	gh_fail "the command reached the target although the session could not be recorded"
fi
gh_expect_audit 1 actor=rf1 'result!=ok'

# Fail open: restart with recording_failure = open.
kill -TERM "$GH_PID"
wait "$GH_PID" || true
gh_conf 'recording_failure = open'
start_gatehoused
chmod 0500 "$GH_DATA/recordings"
gh_ssh_cmd "rf2@$TGT_LOGIN@web01" 'echo RAN_UNRECORDED'
gh_expect_eq "fail-open output" "$OUT" RAN_UNRECORDED
gh_expect_audit 1 'type=*rec*' 'result!=ok'
echo "t_proxy_recording_fail: ok"
