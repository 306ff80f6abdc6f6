#!/bin/bash
# Attack (issue 15, finding 3): a transfer-only grant (upload, download; no
# exec) must run nothing but the server side of scp and rsync exactly as
# their clients invoke them (proxy/xfer-cmd.c, docs/file-transfer.md).
#
# The attacker uploads a script named scp with SFTP (allowed), makes it
# executable, and runs it as "/path/scp -f x"; runs the real scp by its path
# and with -S; runs a download-only rsync server with options placed after
# the "." (rsync still parses them) to write a file on the target. Each must
# be refused before it reaches the target, audited as access.deny with the
# reason, and leave no trace on the target. Controls: the real scp -O and
# rsync clients still work with the same rights, and a user with the exec
# right may run the same commands.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
for u in xa1 xa2 xa3 xa4 xa5 xa6 xa7 xa8 xa9; do
	gh_user $u
	gh_grant $u web01 "$TGT_LOGIN" --rights upload,download
done
gh_user xd1
gh_grant xd1 web01 "$TGT_LOGIN" --rights download
gh_user xe1
gh_grant xe1 web01 "$TGT_LOGIN" --rights exec,upload,download
start_gatehoused

W=$GH_T/xfer-exec
mkdir -p "$W/bin" "$W/dl"
chmod -R 777 "$W"
printf 'victim\n' >"$W/victim"
MARK=$W/script-ran
cat >"$GH_T/evil-scp" <<EOF
#!/bin/sh
echo "the uploaded scp ran as \$(id -un)" >"$MARK"
EOF

# --- 1. upload a script named scp with SFTP, make it executable ---
# (sftp -b: BatchMode stays off because our options come first)
printf 'put %s %s\nchmod 755 %s\n' "$GH_T/evil-scp" "$W/bin/scp" "$W/bin/scp" >"$GH_T/up.batch"
do_sftp() { timeout -k 5 60 sftp "${GH_SSH_ARGS[@]}" -b "$GH_T/up.batch" "xa1@$TGT_LOGIN@web01@127.0.0.1"; }
gh_with_client xa1 do_sftp >"$GH_T/sftp.out" 2>&1 || gh_fail "sftp upload of the script: $(cat "$GH_T/sftp.out")"
[ -x "$W/bin/scp" ] || gh_fail "the script was not uploaded executable"

# refused LOGIN COMMAND NAME: the exec is refused, with the reason, audited.
refused() {
	local login=$1 cmd=$2 name=$3
	gh_ssh_cmd "$login@$TGT_LOGIN@web01" "$cmd"
	[ "$RC" -ne 0 ] || gh_fail "$name: the command was allowed (out: $OUT)"
	gh_expect_match "$name: refusal" "$ERR" "gatehouse: .*not a plain transfer"
	gh_expect_audit 1 type=access.deny "actor=$login" "detail=*not a plain transfer*"
}

# --- 2. the uploaded script, by its path, as "scp -f" ---
refused xa2 "$W/bin/scp -f anything" "uploaded scp by path"
[ ! -e "$MARK" ] || gh_fail "the uploaded script ran: $(cat "$MARK")"
# --- 3. a relative path, the real scp by its path, scp with -S ---
refused xa3 "./scp -f anything" "./scp"
refused xa4 "/usr/bin/scp -f $W/victim" "/usr/bin/scp"
refused xa5 "scp -S $W/bin/scp -f $W/victim" "scp -S"
[ ! -e "$MARK" ] || gh_fail "the uploaded script ran through scp -S: $(cat "$MARK")"
# --- 4. rsync download with options after the "." (rsync parses them):
#        --log-file would write on the target, --remove-source-files delete ---
refused xa6 "rsync --server --sender -e.Ls . $W/victim --log-file=$W/rsync.log" "rsync --log-file after ."
[ ! -e "$W/rsync.log" ] || gh_fail "rsync wrote a log file on the target for a download-only command"
refused xd1 "rsync --server --sender -e.Ls --remove-source-files . $W/victim" "rsync --remove-source-files"
[ -e "$W/victim" ] || gh_fail "the download removed its source"
# --- 5. rsync with a remote shell option ---
refused xa7 "rsync --server --sender -e.Ls --rsh=$W/bin/scp . $W/victim" "rsync --rsh"
[ ! -e "$MARK" ] || gh_fail "the uploaded script ran through rsync: $(cat "$MARK")"

# --- controls: the real clients with the same rights ---
do_scp() { timeout -k 5 60 scp -q -O "${GH_SSH_ARGS[@]}" "$@"; }
gh_with_client xa8 do_scp "xa8@$TGT_LOGIN@web01@127.0.0.1:$W/victim" "$W/dl/by-scp" 2>"$GH_T/scp.err" ||
	gh_fail "scp -O download with transfer rights: $(cat "$GH_T/scp.err")"
cmp -s "$W/victim" "$W/dl/by-scp" || gh_fail "scp -O download: content differs"
do_rsync() {
	local e
	e=$(printf '%q ' ssh "${GH_SSH_ARGS[@]}" -l "xa9@$TGT_LOGIN@web01")
	timeout -k 5 60 rsync -avz --delete -e "$e" "$@"
}
gh_with_client xa9 do_rsync "127.0.0.1:$W/victim" "$W/dl/by-rsync" >"$GH_T/rsync.out" 2>&1 ||
	gh_fail "rsync download with transfer rights: $(cat "$GH_T/rsync.out")"
cmp -s "$W/victim" "$W/dl/by-rsync" || gh_fail "rsync download: content differs"
gh_expect_audit 1 type=access.allow actor=xa8 "detail=*scp -f*"
gh_expect_audit 1 type=access.allow actor=xa9 "detail=*rsync --server --sender*"

# --- control: the exec right runs the same command (it is a command) ---
gh_ssh_cmd "xe1@$TGT_LOGIN@web01" "$W/bin/scp -f anything"
[ "$RC" -eq 0 ] || gh_fail "with the exec right the command was refused: $ERR"
[ -e "$MARK" ] || gh_fail "with the exec right the command did not run"

gh_daemon_alive || gh_fail "gatehoused died"
echo "t_attack_xfer_exec: ok"
