#!/bin/bash
# Scenario: rsync -e ssh through the bastion in both directions, with the
# rights applied (docs/file-transfer.md): `rsync --server` without --sender
# is an upload (upload right), with --sender a download (download right);
# each run is a transfers row (protocol rsync) with the paths and the bytes
# each way. A refused direction never reaches the target.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
for u in rs1 rs2 rs3 rs4; do gh_user $u; done
gh_grant rs1 web01 "$TGT_LOGIN"
gh_grant rs2 web01 "$TGT_LOGIN"
gh_grant rs3 web01 "$TGT_LOGIN" --rights download
gh_grant rs4 web01 "$TGT_LOGIN" --rights upload
start_gatehoused

S=$GH_T/src D=$GH_T/dst L=$GH_T/local
mkdir -p "$S/sub" "$D/tree/sub" "$L"
chmod -R 777 "$D" "$L"
head -c 1000000 /dev/urandom >"$S/a.bin"
printf 'small\n' >"$S/sub/b.txt"
head -c 400000 /dev/urandom >"$D/tree/c.bin"
printf 'remote\n' >"$D/tree/sub/d.txt"

# rsync_as USER ARGS...: rsync -e "ssh <bastion options> -l USER@LOGIN@web01".
rsync_as() {
	local u=$1
	shift
	do_it() {
		local e
		e=$(printf '%q ' ssh "${GH_SSH_ARGS[@]}" -l "$u@$TGT_LOGIN@web01")
		timeout -k 5 120 rsync -a -e "$e" "$@"
	}
	gh_with_client "$u" do_it "$@"
}

# --- both directions with full rights ---
rsync_as rs1 "$S/" "127.0.0.1:$D/up/" 2>"$GH_T/e1" || gh_fail "rsync upload: $(cat "$GH_T/e1")"
diff -r "$S" "$D/up" >/dev/null || gh_fail "rsync upload: trees differ"
rsync_as rs2 "127.0.0.1:$D/tree/" "$L/down/" 2>"$GH_T/e2" || gh_fail "rsync download: $(cat "$GH_T/e2")"
diff -r "$D/tree" "$L/down" >/dev/null || gh_fail "rsync download: trees differ"
gh_wait_sessions_closed 10 || gh_fail "session rows still active"
gh_expect_eq "upload row" "$(gh_sql "SELECT protocol || ' ' || op || ' ' || path || ' ' || (bytes_written > 1000000) || ' ' || status
	FROM transfers WHERE user = 'rs1'")" "rsync upload $D/up/ 1 ok"
gh_expect_eq "download row" "$(gh_sql "SELECT protocol || ' ' || op || ' ' || path || ' ' || (bytes_read > 400000) || ' ' || status
	FROM transfers WHERE user = 'rs2'")" "rsync download $D/tree/ 1 ok"
gh_expect_audit 1 type=rsync.transfer actor=rs1 result=ok
gh_expect_audit 1 type=rsync.transfer actor=rs2 result=ok

# --- download only: upload refused, nothing written ---
if rsync_as rs3 "$S/" "127.0.0.1:$D/ro/" 2>"$GH_T/e3"; then
	gh_fail "rsync upload allowed with download only"
fi
[ ! -e "$D/ro" ] || gh_fail "refused rsync upload created $D/ro"
gh_expect_match "clear refusal" "$(cat "$GH_T/e3")" "rsync needs the upload right"
gh_expect_audit 1 type=access.deny actor=rs3 "detail=*rsync --server*"

# --- upload only: download refused ---
if rsync_as rs4 "127.0.0.1:$D/tree/" "$L/wo/" 2>"$GH_T/e4"; then
	gh_fail "rsync download allowed with upload only"
fi
[ ! -e "$L/wo/c.bin" ] || gh_fail "refused rsync download delivered a file"
gh_expect_match "clear refusal" "$(cat "$GH_T/e4")" "rsync needs the download right"

gh_daemon_alive || gh_fail "gatehoused died"
echo "t_xfer_rsync: ok"
