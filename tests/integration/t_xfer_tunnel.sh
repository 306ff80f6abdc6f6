#!/bin/bash
# Scenario: local port forwarding through the bastion (docs/file-transfer.md).
# ssh -L to a destination listed on the grant (--forward-to) works, is
# opened from the target, recorded as a channel and audited with its bytes;
# a destination not listed is refused; ssh -J (ssh -W to the target's own SSH
# port) is refused unless the grant names it, and logged as an unrecorded
# tunnel either way; -R stays refused; grant add validates --forward-to.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01

# A web server on loopback: the tunnel's destination.
www=$GH_T/www
mkdir -p "$www"
head -c 200000 /dev/urandom | base64 -w0 >"$www/file.txt"
echo "TUNNEL-MARKER-$$" >>"$www/file.txt"
http_port=$(gh_free_port)
$PY -m http.server --bind 127.0.0.1 --directory "$www" "$http_port" >"$GH_T/http.log" 2>&1 &
gh_keep_pid $!
gh_wait_for 10 gh_port_listening "$http_port" || gh_fail "http.server did not start"
other_port=$(gh_free_port)
dead_port=$(gh_free_port) # listed on tu2's grant, nothing listens there

# --forward-to is validated and needs the forward right.
if gh_admin grant add --user admin --asset web01 --login x --forward-to 127.0.0.1:80 >/dev/null 2>&1; then
	gh_fail "--forward-to without the forward right was accepted"
fi
gh_user tv0
for bad in 127.0.0.1 :80 host:0 host:70000 'a b:1' '[zz]:1' 'h;x:1'; do
	if gh_admin grant add --user tv0 --asset web01 --login x --rights forward --forward-to "$bad" >/dev/null 2>&1; then
		gh_fail "--forward-to '$bad' was accepted"
	fi
done

for u in tu1 tu2 tu4 tu6; do gh_user $u; done
gh_grant tu1 web01 "$TGT_LOGIN" --rights shell,exec,forward --forward-to "127.0.0.1:$http_port"
gh_grant tu2 web01 "$TGT_LOGIN" --rights shell,exec,forward --forward-to "127.0.0.1:$http_port" \
	--forward-to "127.0.0.1:$dead_port"
gh_grant tu4 web01 "$TGT_LOGIN" --rights shell,exec,forward --forward-to "127.0.0.1:$http_port"
gh_grant tu6 web01 "$TGT_LOGIN" --rights shell,exec,forward --forward-to "127.0.0.1:$http_port" \
	--forward-to "127.0.0.1:$WEB01_PORT"
gh_user tu7
gh_grant tu7 web01 "$TGT_LOGIN"
start_gatehoused

# --- ssh -L to the listed destination, no session channel (-N) ---
lport=$(gh_free_port)
mapfile -t opts < <(gh_ssh_opts)
# The subshell execs ssh, so $! is ssh's pid (stopped below by that pid).
(
	gh_client_env tu1
	exec ssh -N -o ExitOnForwardFailure=yes -L "$lport:127.0.0.1:$http_port" "${opts[@]}" \
		"tu1@$TGT_LOGIN@web01@127.0.0.1"
) </dev/null >"$GH_T/tu1.out" 2>"$GH_T/tu1.err" &
tpid=$!
gh_keep_pid $tpid
gh_wait_for 20 gh_port_listening "$lport" || gh_fail "ssh -L did not listen: $(cat "$GH_T/tu1.err")"
curl -s --max-time 20 -o "$GH_T/got.txt" "http://127.0.0.1:$lport/file.txt" || gh_fail "fetch through the tunnel failed"
cmp -s "$GH_T/got.txt" "$www/file.txt" || gh_fail "the tunnel delivered different content"
size=$(stat -c %s "$www/file.txt")
kill "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null
gh_wait_sessions_closed 15 || gh_fail "session rows still active"
row=$(gh_sql "SELECT op || ' ' || path || ' ' || (bytes_read >= $size) || ' ' || (bytes_written > 0) FROM transfers
	WHERE user = 'tu1' AND protocol = 'tunnel'")
gh_expect_eq "tunnel row" "$row" "direct-tcpip 127.0.0.1:$http_port 1 1"
gh_expect_audit 1 type=tunnel.open actor=tu1 "object=127.0.0.1:$http_port"
gh_expect_audit 1 type=tunnel.close actor=tu1 "detail=*bytes_from_destination*"
gh_recording_has "TUNNEL-MARKER-$$" || gh_fail "the tunnel's bytes are not in the recording"
# (grep -c reads everything: grep -q would stop zstdcat early, a failed pipe)
n=$(cat "$GH_DATA"/recordings/*.ghrec | zstdcat -q 2>/dev/null | grep -acF "\"type\":\"direct-tcpip\",\"destination\":\"127.0.0.1:$http_port\"" || true)
[ "${n:-0}" -ge 1 ] || gh_fail "the recording has no direct-tcpip channel to 127.0.0.1:$http_port"
gh_expect_eq "channels row" "$(gh_sql "SELECT count(*) FROM sessions WHERE user = 'tu1' AND channel_types LIKE '%direct-tcpip%'")" 1

# --- a destination not on the grant ---
lport=$(gh_free_port)
lport2=$(gh_free_port)
GH_SSH_EXTRA=(-L "$lport:127.0.0.1:$other_port" -L "$lport2:127.0.0.1:$dead_port")
gh_ssh "tu2@$TGT_LOGIN@web01" 'sleep 6' </dev/null >"$GH_T/tu2.out" 2>"$GH_T/tu2.err" &
tpid=$!
gh_keep_pid $tpid
GH_SSH_EXTRA=()
gh_wait_for 20 gh_port_listening "$lport" || gh_fail "ssh -L (tu2) did not listen: $(cat "$GH_T/tu2.err")"
got=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$lport && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -c 4 <&3" 2>/dev/null || true)
[ -z "$got" ] || gh_fail "an unlisted destination answered through the bastion"
# A listed destination that does not answer: the tunnel fails, audited.
got=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$lport2 && head -c 4 <&3" 2>/dev/null || true)
[ -z "$got" ] || gh_fail "a dead destination answered"
wait "$tpid" 2>/dev/null
gh_expect_match "operator told" "$(cat "$GH_T/tu2.err")" "prohibited|refused"
gh_expect_audit 1 type=forward.deny actor=tu2 "object=127.0.0.1:$other_port" "detail=*not a tunnel destination*"
gh_expect_audit 1 type=tunnel.open actor=tu2 "object=127.0.0.1:$dead_port"
gh_expect_audit 1 type=tunnel.fail actor=tu2 "object=127.0.0.1:$dead_port"

# --- ssh -J (what -J runs: ssh -W to the target's SSH port): refused ---
GH_SSH_EXTRA=(-W "127.0.0.1:$WEB01_PORT")
GH_SSH_TIMEOUT=30 gh_ssh_cmd "tu4@$TGT_LOGIN@web01"
GH_SSH_EXTRA=()
[ "$RC" -ne 0 ] || gh_fail "ssh -W to the target's SSH port was allowed"
gh_expect_nomatch "no banner" "$OUT" "SSH-2.0"
gh_expect_audit 1 type=tunnel.unrecorded actor=tu4 result=denied importance=high

# --- ... unless the grant names it: allowed, logged unrecorded ---
GH_SSH_EXTRA=(-W "127.0.0.1:$WEB01_PORT")
GH_SSH_TIMEOUT=30 gh_ssh_cmd "tu6@$TGT_LOGIN@web01"
GH_SSH_EXTRA=()
gh_expect_match "banner of the target through -W" "$OUT" "^SSH-2.0"
gh_expect_audit 1 type=tunnel.unrecorded actor=tu6 result=ok importance=high

# --- -R stays refused (and -L without the forward right) ---
GH_SSH_EXTRA=(-o ExitOnForwardFailure=yes -R 0:127.0.0.1:9)
gh_ssh_cmd "tu7@$TGT_LOGIN@web01" 'echo REMOTE_FORWARD_ALLOWED'
GH_SSH_EXTRA=()
[ "$RC" -ne 0 ] || gh_fail "remote port forwarding was accepted"
gh_expect_nomatch "remote forward output" "$OUT" REMOTE_FORWARD_ALLOWED

gh_daemon_alive || gh_fail "gatehoused died"
echo "t_xfer_tunnel: ok"
