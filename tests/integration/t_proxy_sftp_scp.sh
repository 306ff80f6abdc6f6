#!/bin/bash
# Scenario: the file-transfer forms operators use (docs/operators.md) work
# through the bastion with the same user@login@asset syntax: sftp (subsystem,
# relayed as bytes), scp over SFTP, legacy scp (-O, an exec of scp -t/-f) and
# rsync over ssh. The target is this machine, so files are compared directly.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
for u in ft1 ft2 ft3 ft4; do
	gh_user $u
	gh_grant $u web01 "$TGT_LOGIN"
done
start_gatehoused

mkdir -p "$GH_T/src" "$GH_T/dst"
chmod 777 "$GH_T/dst"
head -c 3000000 /dev/urandom >"$GH_T/src/blob"
printf 'small file\n' >"$GH_T/src/small.txt"
want=$(sha256sum <"$GH_T/src/blob" | cut -d' ' -f1)
same() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$want" ]; }

do_sftp() {
	sftp "${GH_SSH_ARGS[@]}" "$1@127.0.0.1" <<-EOS
		put $GH_T/src/blob $GH_T/dst/sftp-up
		get $GH_T/src/blob $GH_T/dst/sftp-down
		ls $GH_T/dst
	EOS
}
gh_with_client ft1 do_sftp "ft1@$TGT_LOGIN@web01" >"$GH_T/sftp.out" 2>"$GH_T/sftp.err" ||
	gh_fail "sftp failed: $(cat "$GH_T/sftp.err")"
same "$GH_T/dst/sftp-up" || gh_fail "sftp put: content differs"
same "$GH_T/dst/sftp-down" || gh_fail "sftp get: content differs"

do_scp() {
	scp -q "${GH_SSH_ARGS[@]}" "$GH_T/src/blob" "$1@127.0.0.1:$GH_T/dst/scp-up"
}
gh_with_client ft2 do_scp "ft2@$TGT_LOGIN@web01" 2>"$GH_T/scp.err" || gh_fail "scp failed: $(cat "$GH_T/scp.err")"
same "$GH_T/dst/scp-up" || gh_fail "scp (sftp protocol): content differs"

do_scp_legacy() {
	scp -O -q "${GH_SSH_ARGS[@]}" "$1@127.0.0.1:$GH_T/src/blob" "$GH_T/dst/scp-legacy-down"
}
gh_with_client ft3 do_scp_legacy "ft3@$TGT_LOGIN@web01" 2>"$GH_T/scpo.err" ||
	gh_fail "scp -O failed: $(cat "$GH_T/scpo.err")"
same "$GH_T/dst/scp-legacy-down" || gh_fail "scp -O: content differs"

# rsync, with the user given by -l inside -e as operators.md recommends.
do_rsync() {
	local e
	e=$(printf '%q ' ssh "${GH_SSH_ARGS[@]}" -l "$1")
	rsync -a -e "$e" "$GH_T/src/" "127.0.0.1:$GH_T/dst/rsync/"
}
gh_with_client ft4 do_rsync "ft4@$TGT_LOGIN@web01" 2>"$GH_T/rsync.err" || gh_fail "rsync failed: $(cat "$GH_T/rsync.err")"
same "$GH_T/dst/rsync/blob" || gh_fail "rsync: content differs"
cmp -s "$GH_T/src/small.txt" "$GH_T/dst/rsync/small.txt" || gh_fail "rsync: small file differs"

gh_wait_sessions_closed 10 || gh_fail "session rows still active"
gh_expect_match "sftp channel type" "$(gh_sql "SELECT channel_types FROM sessions WHERE user = 'ft1'")" 'sftp|subsystem'
echo "t_proxy_sftp_scp: ok"
