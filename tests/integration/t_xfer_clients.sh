#!/bin/bash
# Scenario: SSH stacks that share no code with the bastion's libssh move
# files through the SFTP inspector: paramiko (Python), PuTTY's psftp, and a
# C client on libssh2 (tests/helpers/ssh2-client.c). Rights are applied to
# each (a refused put never creates the file). libssh2 1.10 has no AEAD
# cipher and no *-etm MAC: the hardened default refuses it at the key
# exchange (checked), and with allow_non_etm_macs = yes it runs exec and
# SFTP both ways through the bastion, rights applied.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
for u in pk1 pk2 ps1 ps2 l21 l22 l23 l24 l25; do gh_user $u; done
gh_grant pk1 web01 "$TGT_LOGIN"
gh_grant pk2 web01 "$TGT_LOGIN" --rights download
gh_grant ps1 web01 "$TGT_LOGIN"
gh_grant ps2 web01 "$TGT_LOGIN" --rights download
for u in l21 l22 l23 l24; do gh_grant $u web01 "$TGT_LOGIN"; done
gh_grant l25 web01 "$TGT_LOGIN" --rights download
start_gatehoused

D=$GH_T/dst L=$GH_T/local
mkdir -p "$D" "$L"
chmod 777 "$D" "$L"
head -c 800000 /dev/urandom >"$L/blob"
head -c 300000 /dev/urandom >"$D/seed"
sha() { sha256sum <"$1" | cut -d' ' -f1; }
blob_sha=$(sha "$L/blob")
seed_sha=$(sha "$D/seed")
pw() { cat "$GH_T/users/$1.pw"; }
code() { gh_totp_now "$(cat "$GH_T/users/$1.totp")"; }

# --- paramiko: keyboard-interactive, SFTP put/get/listdir, and a refusal ---
paramiko_run() { # USER MODE(full|ro)
	GH_PW=$(pw "$1") GH_CODE=$(code "$1") timeout 120 $PY - "$GH_PORT" "$1@$TGT_LOGIN@web01" "$2" "$L" "$D" <<-'EOF'
		import os, sys, paramiko
		port, user, mode, L, D = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
		def handler(title, instr, prompts):
		    return [os.environ["GH_PW"] if p.startswith("Password") else os.environ["GH_CODE"] for p, _ in prompts]
		t = paramiko.Transport(("127.0.0.1", port))
		t.connect()
		t.auth_interactive(user, handler)
		s = paramiko.SFTPClient.from_transport(t)
		names = s.listdir(D)
		assert "seed" in names, names
		s.get(D + "/seed", L + "/pk-" + mode + "-down")
		try:
		    s.put(L + "/blob", D + "/pk-" + mode + "-up")
		    print("put ok")
		except (IOError, PermissionError) as e:
		    print("put refused:", e)
		t.close()
	EOF
}
paramiko_run pk1 full >"$GH_T/pk1.out" 2>&1 || gh_fail "paramiko (full): $(cat "$GH_T/pk1.out")"
gh_expect_match "paramiko put" "$(cat "$GH_T/pk1.out")" "put ok"
[ "$(sha "$D/pk-full-up")" = "$blob_sha" ] || gh_fail "paramiko put: content differs"
[ "$(sha "$L/pk-full-down")" = "$seed_sha" ] || gh_fail "paramiko get: content differs"
paramiko_run pk2 ro >"$GH_T/pk2.out" 2>&1 || gh_fail "paramiko (download only): $(cat "$GH_T/pk2.out")"
gh_expect_match "paramiko put refused" "$(cat "$GH_T/pk2.out")" "put refused:.*[Pp]ermission denied"
[ ! -e "$D/pk-ro-up" ] || gh_fail "paramiko: the refused put created the file"
[ "$(sha "$L/pk-ro-down")" = "$seed_sha" ] || gh_fail "paramiko get (download only): content differs"

# --- PuTTY psftp: prompts answered through a pty (PuTTY has no askpass) ---
fp=$(ssh-keygen -lf "$GH_DATA/ssh_host_ed25519_key.pub" -E sha256 | cut -d' ' -f2)
psftp_run() { # USER MODE
	printf 'get %s %s\nput %s %s\n' "$D/seed" "$L/ps-$2-down" "$L/blob" "$D/ps-$2-up" >"$GH_T/ps-$2.batch"
	GH_PW=$(pw "$1") GH_CODE=$(code "$1") timeout 120 $PY - "$GH_PORT" "$1@$TGT_LOGIN@web01" "$fp" "$GH_T/ps-$2.batch" <<-'EOF'
		import os, sys, pexpect
		port, user, fp, batch = sys.argv[1:5]
		c = pexpect.spawn("psftp", ["-P", port, "-hostkey", fp, "-b", batch, "-be", user + "@127.0.0.1"],
		                  encoding="utf-8", timeout=60)
		c.logfile_read = sys.stdout
		while True:
		    i = c.expect(["Password: ", "Verification code: ", pexpect.EOF])
		    if i == 0:
		        c.sendline(os.environ["GH_PW"])
		    elif i == 1:
		        c.sendline(os.environ["GH_CODE"])
		    else:
		        break
		c.close()
		sys.exit(c.exitstatus or 0)
	EOF
}
psftp_run ps1 full >"$GH_T/ps1.out" 2>&1 || gh_fail "psftp (full): $(cat "$GH_T/ps1.out")"
[ "$(sha "$L/ps-full-down")" = "$seed_sha" ] || gh_fail "psftp get: content differs"
[ "$(sha "$D/ps-full-up")" = "$blob_sha" ] || gh_fail "psftp put: content differs"
psftp_run ps2 ro >"$GH_T/ps2.out" 2>&1 || true
[ "$(sha "$L/ps-ro-down")" = "$seed_sha" ] || gh_fail "psftp get (download only): $(cat "$GH_T/ps2.out")"
gh_expect_match "psftp put refused" "$(cat "$GH_T/ps2.out")" "[Pp]ermission denied"
[ ! -e "$D/ps-ro-up" ] || gh_fail "psftp: the refused put created the file"

# --- libssh2 1.10 ---
S2=$GH_B/tests/helpers/ssh2-client
[ -x "$S2" ] || gh_fail "no $S2 (make MODE=asan test-build)"
# The helper works (exec and SFTP both ways) against an OpenSSH target:
"$S2" -k "$TGT_DIR/client_key" 127.0.0.1 "$WEB01_PORT" "$TGT_LOGIN" exec 'echo via-libssh2' >"$GH_T/l2.out" 2>"$GH_T/l2.err" ||
	gh_fail "ssh2-client exec against sshd: $(cat "$GH_T/l2.err")"
gh_expect_eq "libssh2 exec" "$(cat "$GH_T/l2.out")" "via-libssh2"
"$S2" -k "$TGT_DIR/client_key" 127.0.0.1 "$WEB01_PORT" "$TGT_LOGIN" put "$L/blob" "$D/l2-up" 2>>"$GH_T/l2.err" ||
	gh_fail "ssh2-client put against sshd: $(cat "$GH_T/l2.err")"
"$S2" -k "$TGT_DIR/client_key" 127.0.0.1 "$WEB01_PORT" "$TGT_LOGIN" get "$D/seed" "$L/l2-down" 2>>"$GH_T/l2.err" ||
	gh_fail "ssh2-client get against sshd: $(cat "$GH_T/l2.err")"
[ "$(sha "$D/l2-up")" = "$blob_sha" ] && [ "$(sha "$L/l2-down")" = "$seed_sha" ] || gh_fail "ssh2-client: content differs"
# Through the bastion with the hardened default: no MAC both accept, so the
# key exchange fails (exit 2) before any authentication.
rc=0
GH_PW=$(pw l21) GH_TOTP_CODE=$(code l21) "$S2" 127.0.0.1 "$GH_PORT" "l21@$TGT_LOGIN@web01" exec 'echo hi' \
	>"$GH_T/l21.out" 2>"$GH_T/l21.err" || rc=$?
gh_expect_eq "libssh2 refused by the hardened default" "$rc" 2
grep -qi "exchange\|method" "$GH_T/l21.err" || gh_fail "unexpected libssh2 failure: $(cat "$GH_T/l21.err")"

# With allow_non_etm_macs = yes (a documented opt-in for old clients).
gh_wait_sessions_closed 10 || gh_fail "session rows still active before the restart"
kill "$GH_PID"
gh_wait_for 20 eval '! kill -0 "$GH_PID" 2>/dev/null' || gh_fail "gatehoused did not stop"
gh_conf 'allow_non_etm_macs = yes'
start_gatehoused
GH_PW=$(pw l22) GH_TOTP_CODE=$(code l22) "$S2" 127.0.0.1 "$GH_PORT" "l22@$TGT_LOGIN@web01" exec 'echo via-bastion' \
	>"$GH_T/l22.out" 2>"$GH_T/l22.err" || gh_fail "libssh2 exec through the bastion: $(cat "$GH_T/l22.err")"
gh_expect_eq "libssh2 exec through the bastion" "$(cat "$GH_T/l22.out")" "via-bastion"
GH_PW=$(pw l23) GH_TOTP_CODE=$(code l23) "$S2" 127.0.0.1 "$GH_PORT" "l23@$TGT_LOGIN@web01" put "$L/blob" "$D/l2b-up" \
	2>"$GH_T/l23.err" || gh_fail "libssh2 SFTP put through the bastion: $(cat "$GH_T/l23.err")"
[ "$(sha "$D/l2b-up")" = "$blob_sha" ] || gh_fail "libssh2 put through the bastion: content differs"
GH_PW=$(pw l24) GH_TOTP_CODE=$(code l24) "$S2" 127.0.0.1 "$GH_PORT" "l24@$TGT_LOGIN@web01" get "$D/seed" "$L/l2b-down" \
	2>"$GH_T/l24.err" || gh_fail "libssh2 SFTP get through the bastion: $(cat "$GH_T/l24.err")"
[ "$(sha "$L/l2b-down")" = "$seed_sha" ] || gh_fail "libssh2 get through the bastion: content differs"
rc=0
GH_PW=$(pw l25) GH_TOTP_CODE=$(code l25) "$S2" 127.0.0.1 "$GH_PORT" "l25@$TGT_LOGIN@web01" put "$L/blob" "$D/l2b-ro" \
	2>"$GH_T/l25.err" || rc=$?
[ "$rc" -ne 0 ] || gh_fail "libssh2 put with download-only rights succeeded"
[ ! -e "$D/l2b-ro" ] || gh_fail "libssh2: the refused put created the file"
echo "libssh2 1.10 through the bastion with allow_non_etm_macs: $(head -1 "$GH_T/l22.err")"

gh_wait_sessions_closed 10 || gh_fail "session rows still active"
gh_expect_audit 1 type=sftp.deny actor=pk2
gh_expect_audit 1 type=sftp.deny actor=ps2
gh_expect_audit 1 type=sftp.deny actor=l25
gh_expect_eq "libssh2 upload row" "$(gh_sql "SELECT sha256 FROM transfers WHERE user = 'l23' AND op = 'upload'")" "$blob_sha"
gh_expect_eq "paramiko upload row" "$(gh_sql "SELECT sha256 FROM transfers WHERE user = 'pk1' AND op = 'upload'")" "$blob_sha"
gh_expect_eq "psftp upload row" "$(gh_sql "SELECT sha256 FROM transfers WHERE user = 'ps1' AND op = 'upload'")" "$blob_sha"
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_xfer_clients: ok"
