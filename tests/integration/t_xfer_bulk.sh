#!/bin/bash
# Scenario: 1 GiB put and get through the SFTP inspector arrive byte-identical
# (SHA-256 on both ends), and the transfers rows carry the same SHA-256 the
# bastion computed on the fly. Prints the times (throughput of the inspected
# path). GH_BULK_MB overrides the size (default 1024).
. "$(dirname "$0")/lib-ssh.sh"

mb=${GH_BULK_MB:-1024}
gh_data_init
gh_setup_web01
gh_user xb1
gh_user xb2
gh_grant xb1 web01 "$TGT_LOGIN" --rights upload
gh_grant xb2 web01 "$TGT_LOGIN" --rights download
start_gatehoused

mkdir -p "$GH_T/dst"
chmod 777 "$GH_T/dst"
head -c "$((mb * 1024 * 1024))" /dev/urandom >"$GH_T/big" || gh_fail "cannot write the test file"
want=$(sha256sum <"$GH_T/big" | cut -d' ' -f1)

run_sftp() {
	local login=$1 batch=$2
	do_it() { timeout -k 5 1200 sftp "${GH_SSH_ARGS[@]}" -b "$batch" "$login@127.0.0.1"; }
	gh_with_client "$login" do_it
}
echo "put $GH_T/big $GH_T/dst/big-up" >"$GH_T/put.batch"
start=$(date +%s.%N)
run_sftp "xb1@$TGT_LOGIN@web01" "$GH_T/put.batch" >"$GH_T/put.out" 2>&1 || gh_fail "put: $(cat "$GH_T/put.out")"
end=$(date +%s.%N)
echo "sftp put: $mb MiB in $(echo "$end - $start" | bc) s"
gh_expect_eq "put sha256" "$(sha256sum <"$GH_T/dst/big-up" | cut -d' ' -f1)" "$want"
rm -f "$GH_T/dst/big-up"

echo "get $GH_T/big $GH_T/dst/big-down" >"$GH_T/get.batch"
start=$(date +%s.%N)
run_sftp "xb2@$TGT_LOGIN@web01" "$GH_T/get.batch" >"$GH_T/get.out" 2>&1 || gh_fail "get: $(cat "$GH_T/get.out")"
end=$(date +%s.%N)
echo "sftp get: $mb MiB in $(echo "$end - $start" | bc) s"
gh_expect_eq "get sha256" "$(sha256sum <"$GH_T/dst/big-down" | cut -d' ' -f1)" "$want"
rm -f "$GH_T/dst/big-down"

# Baseline for the numbers above: the same put straight to the target.
start=$(date +%s.%N)
timeout -k 5 1200 sftp -F /dev/null -i "$TGT_DIR/client_key" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -P "$WEB01_PORT" -b "$GH_T/put.batch" "$TGT_LOGIN@127.0.0.1" \
	>"$GH_T/direct.out" 2>&1 || gh_fail "direct put: $(cat "$GH_T/direct.out")"
end=$(date +%s.%N)
echo "direct sftp put (no bastion): $mb MiB in $(echo "$end - $start" | bc) s"
rm -f "$GH_T/dst/big-up"

gh_wait_sessions_closed 20 || gh_fail "session rows still active"
gh_expect_eq "upload row" "$(gh_sql "SELECT sha256 || ' ' || bytes_written FROM transfers WHERE user = 'xb1' AND op = 'upload'")" \
	"$want $((mb * 1024 * 1024))"
gh_expect_eq "download row" "$(gh_sql "SELECT sha256 || ' ' || bytes_read FROM transfers WHERE user = 'xb2' AND op = 'download'")" \
	"$want $((mb * 1024 * 1024))"
echo "t_xfer_bulk: ok"
