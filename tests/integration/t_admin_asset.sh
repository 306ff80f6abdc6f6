#!/bin/bash
# Scenario: asset add / list / show / remove / hostkey. Host keys are pinned
# from a .pub file, from a known_hosts line, and by scanning a real throwaway
# sshd on loopback (which offers ed25519 and RSA: ed25519 must be pinned).
. "$(dirname "$0")/lib.sh"
gh_setup

# ---- a throwaway sshd with its own host keys ----
S=$GH_TMP/sshd
mkdir -p "$S" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$S/host_ed25519" || die "keygen"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$S/host_rsa" || die "keygen"
PORT=$(gh_free_port)
cat >"$S/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $PORT
HostKey $S/host_rsa
HostKey $S/host_ed25519
PidFile $S/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
AuthorizedKeysFile $S/authorized_keys
CONF
/usr/sbin/sshd -t -f "$S/sshd_config" || die "sshd -t"
/usr/sbin/sshd -D -e -f "$S/sshd_config" 2>"$S/sshd.log" &
gh_track_pid $!
for ((i = 0; i < 100; i++)); do
	[ -n "$(ss -Hltn "sport = :$PORT" 2>/dev/null)" ] && break
	sleep 0.1
done
[ -n "$(ss -Hltn "sport = :$PORT")" ] || die "sshd did not start: $(cat "$S/sshd.log")"
ed_fp=$(ssh-keygen -l -f "$S/host_ed25519.pub" | awk '{print $2}')
rsa_fp=$(ssh-keygen -l -f "$S/host_rsa.pub" | awk '{print $2}')

expect_ok gh_admin group add web
# ---- add with a scan ----
expect_ok gh_admin asset add web01 --host 127.0.0.1 --port "$PORT" --group web --hostkey-scan
expect_contains "scan fp" "$OUT" "ssh-ed25519 $ed_fp"
expect_eq "pinned line" "$(gh_sql "SELECT hostkey FROM assets WHERE name='web01'")" "$(cut -d' ' -f1,2 "$S/host_ed25519.pub")"
expect_eq "port" "$(gh_sql "SELECT port FROM assets WHERE name='web01'")" "$PORT"

# ---- add with a .pub file and with a known_hosts line ----
expect_ok gh_admin asset add web02 --host localhost --hostkey "$S/host_rsa.pub"
expect_contains "file fp" "$OUT" "$rsa_fp"
{
	echo "# known_hosts with a comment, a hashed entry and a marker line"
	echo "@cert-authority *.example.com $(cut -d' ' -f1,2 "$S/host_rsa.pub")"
	echo "|1|abc=|def= $(cut -d' ' -f1,2 "$S/host_ed25519.pub")"
} >"$S/known_hosts"
expect_ok gh_admin asset add db01 --host db01.example.com --port 2200 --hostkey "$S/known_hosts"
expect_contains "known_hosts fp" "$OUT" "$ed_fp"
expect_ok gh_admin asset add bare --host 10.0.0.7
expect_contains "no key yet" "$OUT" "no host key pinned yet"

# ---- bad input ----
expect_fail 2 gh_admin asset add x1
expect_contains "missing host" "$ERR" "missing --host"
expect_fail 2 gh_admin asset add x1 --host h --port 0
expect_contains "bad port" "$ERR" "invalid --port '0'"
expect_fail 2 gh_admin asset add x1 --host h --port 70000
expect_fail 2 gh_admin asset add x1 --host h --port 22x
expect_fail 1 gh_admin asset add x1 --host 'h;rm -rf /'
expect_contains "bad host" "$ERR" "invalid host 'h;rm -rf /'"
expect_fail 1 gh_admin asset add 'x 1' --host h
expect_contains "bad name" "$ERR" "invalid asset name 'x 1'"
expect_fail 1 gh_admin asset add web01 --host h
expect_contains "duplicate" "$ERR" "asset 'web01' already exists"
expect_fail 1 gh_admin asset add x1 --host h --group nogroup
expect_contains "unknown group" "$ERR" "group 'nogroup' not found"
expect_fail 2 gh_admin asset add x1 --host h --hostkey "$S/host_rsa.pub" --hostkey-scan
expect_contains "both key sources" "$ERR" "not both"
echo "garbage" >"$S/garbage"
expect_fail 1 gh_admin asset add x1 --host h --hostkey "$S/garbage"
expect_contains "bad key file" "$ERR" "no public key line found"
echo "ssh-ed25519 AAAAnotbase64!!" >"$S/badkey"
expect_fail 1 gh_admin asset add x1 --host h --hostkey "$S/badkey"
expect_contains "bad key data" "$ERR" "does not parse"
DEAD=$(gh_free_port)
expect_fail 1 gh_admin asset add x1 --host 127.0.0.1 --port "$DEAD" --hostkey-scan
expect_contains "scan closed port" "$ERR" "cannot connect to 127.0.0.1 port $DEAD"
expect_eq "nothing half-added" "$(gh_sql "SELECT count(*) FROM assets WHERE name='x1'")" 0

# ---- list / show ----
expect_ok gh_admin asset list
expect_match "list web01" "$OUT" "^web01 +127\.0\.0\.1 +$PORT +SHA256:[^ ]+ +web$"
expect_match "list bare" "$OUT" '^bare +10\.0\.0\.7 +22 +- +-$'
expect_ok gh_admin --json asset list
expect_json '[a["name"] for a in d] == ["bare", "db01", "web01", "web02"]'
expect_json "[a['hostkey'] for a in d if a['name'] == 'web02'] == ['$rsa_fp']"
expect_ok gh_admin asset show web01
expect_match "show type" "$OUT" '^Host key type: +ssh-ed25519$'
expect_match "show groups" "$OUT" '^Groups: +web$'
expect_ok gh_admin asset show web01 --json
expect_json "d['hostkey'] == '$ed_fp' and d['port'] == $PORT and d['groups'] == ['web'] and d['logins'] == []"
expect_fail 1 gh_admin asset show nosuch
expect_contains "show unknown" "$ERR" "asset 'nosuch' not found"

# ---- hostkey re-pin ----
expect_fail 2 gh_admin asset hostkey web02
expect_contains "hostkey needs a source" "$ERR" "exactly one of --file FILE or --scan"
expect_fail 2 gh_admin asset hostkey web02 --scan --file "$S/host_rsa.pub"
expect_ok gh_admin asset hostkey bare --file "$S/host_ed25519.pub"
expect_contains "hostkey file" "$OUT" "$ed_fp"
gh_sql "UPDATE assets SET port = $PORT, host = '127.0.0.1' WHERE name = 'web02'"
expect_ok gh_admin asset hostkey web02 --scan
expect_contains "rescan replaces" "$OUT" "replaces the previous key"
expect_eq "repinned" "$(gh_sql "SELECT hostkey FROM assets WHERE name='web02'")" "$(cut -d' ' -f1,2 "$S/host_ed25519.pub")"
expect_ok gh_admin audit list --json --type asset.hostkey
expect_json "any(e['importance'] == 'high' and e['detail']['old'] == '$rsa_fp' and e['detail']['new'] == '$ed_fp' for e in d)"

# ---- remove ----
expect_ok gh_admin asset remove db01
expect_fail 1 gh_admin asset show db01
expect_ok gh_admin --json asset list
expect_json '"db01" not in [a["name"] for a in d]'
expect_fail 1 gh_admin asset add db01 --host h
expect_contains "removed name reserved" "$ERR" "stays reserved"
expect_fail 1 gh_admin asset remove db01
expect_contains "remove twice" "$ERR" "asset 'db01' not found"

expect_ok gh_admin audit list --json --type asset
expect_json '[e["type"] for e in d if e["result"] == "ok"].count("asset.add") == 4'
expect_json 'any(e["type"] == "asset.remove" and e["object"] == "asset:db01" for e in d)'
echo "t_admin_asset: ok"
