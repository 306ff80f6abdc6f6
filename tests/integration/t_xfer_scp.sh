#!/bin/bash
# Scenario: scp through the bastion, both modes and both directions, with
# the rights applied (docs/file-transfer.md). Default scp speaks SFTP (so it
# is inspected like sftp); scp -O runs `scp -t` (upload, needs the upload
# right) or `scp -f` (download, needs the download right) on the target,
# whose stream is parsed to log each file with its size, mode and SHA-256.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
for u in sa1 sa2 sa3 sa4 sa5 sa6 sa7 sa8; do gh_user $u; done
for u in sa1 sa2 sa3 sa4; do gh_grant $u web01 "$TGT_LOGIN"; done
for u in sa5 sa6; do gh_grant $u web01 "$TGT_LOGIN" --rights download; done
for u in sa7 sa8; do gh_grant $u web01 "$TGT_LOGIN" --rights upload; done
start_gatehoused

S=$GH_T/src D=$GH_T/dst L=$GH_T/local
mkdir -p "$S" "$D" "$L"
chmod 777 "$D" "$L"
head -c 2000000 /dev/urandom >"$S/blob"
chmod 0640 "$S/blob"
head -c 300000 /dev/urandom >"$D/seed"
sha() { sha256sum <"$1" | cut -d' ' -f1; }
blob_sha=$(sha "$S/blob")
seed_sha=$(sha "$D/seed")

# scp_as LOGIN ARGS...: scp with the bastion's options.
scp_as() {
	local login=$1
	shift
	do_it() { timeout -k 5 120 scp -q "${GH_SSH_ARGS[@]}" "$@"; }
	gh_with_client "$login" do_it "$@"
}
T=127.0.0.1

# --- full rights: all four forms work and are logged ---
scp_as sa1 "$S/blob" "sa1@$TGT_LOGIN@web01@$T:$D/up-sftp" 2>"$GH_T/e1" || gh_fail "scp (sftp) up: $(cat "$GH_T/e1")"
scp_as sa2 "sa2@$TGT_LOGIN@web01@$T:$D/seed" "$L/down-sftp" 2>"$GH_T/e2" || gh_fail "scp (sftp) down: $(cat "$GH_T/e2")"
scp_as sa3 -O -p "$S/blob" "sa3@$TGT_LOGIN@web01@$T:$D/up-legacy" 2>"$GH_T/e3" || gh_fail "scp -O up: $(cat "$GH_T/e3")"
scp_as sa4 -O "sa4@$TGT_LOGIN@web01@$T:$D/seed" "$L/down-legacy" 2>"$GH_T/e4" || gh_fail "scp -O down: $(cat "$GH_T/e4")"
[ "$(sha "$D/up-sftp")" = "$blob_sha" ] || gh_fail "scp (sftp) up: content differs"
[ "$(sha "$L/down-sftp")" = "$seed_sha" ] || gh_fail "scp (sftp) down: content differs"
[ "$(sha "$D/up-legacy")" = "$blob_sha" ] || gh_fail "scp -O up: content differs"
[ "$(sha "$L/down-legacy")" = "$seed_sha" ] || gh_fail "scp -O down: content differs"
gh_wait_sessions_closed 10 || gh_fail "session rows still active"
r() { gh_sql "SELECT $1 FROM transfers WHERE user = '$2' AND $3"; }
gh_expect_eq "sftp-mode upload row" "$(r "protocol || ' ' || sha256" sa1 "op = 'upload'")" "sftp $blob_sha"
gh_expect_eq "sftp-mode download row" "$(r "protocol || ' ' || sha256" sa2 "op = 'download'")" "sftp $seed_sha"
gh_expect_eq "scp -O upload row" \
	"$(r "protocol || ' ' || path || ' ' || path2 || ' ' || bytes_written || ' ' || sha256 || ' ' || status" sa3 "op = 'upload'")" \
	"scp blob $D/up-legacy 2000000 $blob_sha ok"
gh_expect_match "scp -O upload mode" "$(r detail sa3 "op = 'upload'")" '"mode":"0640"'
gh_expect_eq "scp -O download row" \
	"$(r "protocol || ' ' || path || ' ' || bytes_read || ' ' || sha256 || ' ' || status" sa4 "op = 'download'")" \
	"scp seed 300000 $seed_sha ok"
gh_expect_audit 1 type=scp.transfer actor=sa3 "detail=*$blob_sha*"
gh_expect_audit 1 type=access.allow actor=sa3 "detail=*scp*"

# --- download only: uploads refused in both modes, downloads work ---
if scp_as sa5 -O "$S/blob" "sa5@$TGT_LOGIN@web01@$T:$D/ro-legacy" 2>"$GH_T/e5"; then
	gh_fail "scp -O upload allowed with download only"
fi
gh_expect_match "clear refusal" "$(cat "$GH_T/e5")" "scp needs the upload right"
[ ! -e "$D/ro-legacy" ] || gh_fail "refused scp -O upload created the file"
if scp_as sa6 "$S/blob" "sa6@$TGT_LOGIN@web01@$T:$D/ro-sftp" 2>"$GH_T/e6"; then
	gh_fail "scp (sftp) upload allowed with download only"
fi
[ ! -e "$D/ro-sftp" ] || gh_fail "refused scp (sftp) upload created the file"
gh_expect_audit 1 type=access.deny actor=sa5 "detail=*scp -t*"
gh_expect_audit 1 type=sftp.deny actor=sa6

# --- upload only: downloads refused in both modes ---
if scp_as sa7 -O "sa7@$TGT_LOGIN@web01@$T:$D/seed" "$L/wo-legacy" 2>"$GH_T/e7"; then
	gh_fail "scp -O download allowed with upload only"
fi
gh_expect_match "clear refusal" "$(cat "$GH_T/e7")" "scp needs the download right"
if scp_as sa8 "sa8@$TGT_LOGIN@web01@$T:$D/seed" "$L/wo-sftp" 2>"$GH_T/e8"; then
	gh_fail "scp (sftp) download allowed with upload only"
fi
[ ! -s "$L/wo-sftp" ] || gh_fail "refused scp (sftp) download delivered data"
gh_expect_audit 1 type=sftp.deny actor=sa8

gh_daemon_alive || gh_fail "gatehoused died"
echo "t_xfer_scp: ok"
