#!/bin/bash
# Scenario: 1 GiB through the bastion each way over exec channels arrives
# byte-identical (SHA-256 on both ends), with flow control in both directions.
# GH_BULK_MB overrides the size (default 1024).
. "$(dirname "$0")/lib-ssh.sh"

mb=${GH_BULK_MB:-1024}
gh_data_init
gh_setup_web01
gh_user ulla
gh_user ulla2
gh_grant ulla web01 "$TGT_LOGIN"
gh_grant ulla2 web01 "$TGT_LOGIN"
start_gatehoused

head -c "$((mb * 1024 * 1024))" /dev/urandom >"$GH_T/big" || gh_fail "cannot write the test file"
want=$(sha256sum <"$GH_T/big" | cut -d' ' -f1)

# Upload: the target hashes what it received on stdin.
start=$(date +%s.%N)
got=$(gh_ssh "ulla@$TGT_LOGIN@web01" 'sha256sum' <"$GH_T/big" 2>"$GH_T/up.err") || gh_fail "upload failed: $(cat "$GH_T/up.err")"
end=$(date +%s.%N)
gh_expect_eq "upload sha256" "${got%% *}" "$want"
echo "upload: $mb MiB in $(echo "$end - $start" | bc) s"

# Download: the target sends the file, we hash what arrives.
start=$(date +%s.%N)
got=$(gh_ssh "ulla2@$TGT_LOGIN@web01" "cat $GH_T/big" 2>"$GH_T/down.err" </dev/null | sha256sum) ||
	gh_fail "download failed: $(cat "$GH_T/down.err")"
end=$(date +%s.%N)
gh_expect_eq "download sha256" "${got%% *}" "$want"
echo "download: $mb MiB in $(echo "$end - $start" | bc) s"
gh_wait_sessions_closed 20 || gh_fail "session rows still active"
bytes=$(gh_sql "SELECT bytes_in FROM sessions WHERE user = 'ulla'")
[ "${bytes:-0}" -ge $((mb * 1024 * 1024)) ] || gh_fail "sessions.bytes_in = $bytes after a $mb MiB upload"
echo "t_proxy_bulk: ok"
