#!/bin/bash
# Scenario: account add / list / remove. Credentials (a private key or a
# password) are validated, stored sealed (never in clear in the database),
# never printed and never put in the audit trail.
. "$(dirname "$0")/lib.sh"
gh_setup
expect_ok gh_admin asset add web01 --host 127.0.0.1
expect_ok gh_admin asset add db01 --host 127.0.0.2

K=$GH_TMP/keys
mkdir -p "$K"
ssh-keygen -q -t ed25519 -N '' -C target -f "$K/ed" || die keygen
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f "$K/rsa_pem" || die keygen
ssh-keygen -q -t ed25519 -N 'a passphrase' -f "$K/encrypted" || die keygen
ed_fp=$(ssh-keygen -l -f "$K/ed.pub" | awk '{print $2}')

expect_ok gh_admin account add web01 root --key "$K/ed"
expect_contains "key account" "$OUT" "account 'root' on asset 'web01' added (key ssh-ed25519 $ed_fp"
expect_ok gh_admin account add db01 postgres --key "$K/rsa_pem"
expect_contains "PEM key" "$OUT" "key ssh-rsa"
tpw='Target-pw-9!x'
GH_IN=$tpw expect_ok gh_admin account add web01 deploy --password-stdin
expect_contains "password account" "$OUT" "(password, encrypted at rest)"
expect_not_contains "password not echoed" "$OUT" "$tpw"

# The database holds sealed blobs: neither the password nor the key text.
blob=$(gh_sql "SELECT hex(secret) FROM accounts WHERE login='deploy'")
pw_hex=$(printf '%s' "$tpw" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
[ -n "$blob" ] || die "no secret stored"
expect_not_contains "sealed password" "$blob" "$pw_hex"
key_hex=$(sed -n 2p "$K/ed" | head -c 30 | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
expect_not_contains "sealed key" "$(gh_sql "SELECT hex(secret) FROM accounts WHERE login='root'")" "$key_hex"

# Bad input.
expect_fail 1 gh_admin account add web01 enc --key "$K/encrypted"
expect_contains "encrypted key" "$ERR" "must be an unencrypted OpenSSH or PEM private key"
# An encrypted PEM key must be refused, not answered with a passphrase
# prompt on the terminal: run it on a pty to see any prompt.
ssh-keygen -q -t rsa -b 2048 -m PEM -N 'a passphrase' -f "$K/encrypted_pem" || die keygen
out=$(timeout 20 script -qec "$GH_ADMIN_BIN -d $GH_DATA account add web01 encpem --key $K/encrypted_pem" /dev/null </dev/null)
rc=$?
expect_eq "encrypted PEM on a tty: exit" "$rc" 1
expect_not_contains "no passphrase prompt" "$out" "pass phrase"
expect_contains "encrypted PEM refused" "$out" "must be an unencrypted"
expect_fail 1 gh_admin account add web01 pub --key "$K/ed.pub"
expect_contains "public key as private" "$ERR" "does not parse"
expect_fail 1 gh_admin account add web01 nofile --key "$K/missing"
expect_contains "missing key file" "$ERR" "cannot read private key file"
expect_fail 2 gh_admin account add web01 both --key "$K/ed" --password-stdin
expect_contains "both" "$ERR" "exactly one of --key FILE or --password-stdin"
expect_fail 2 gh_admin account add web01 neither
expect_fail 2 gh_admin account add web01
expect_contains "missing login" "$ERR" "missing LOGIN"
expect_fail 1 gh_admin account add web01 nopw --password-stdin
expect_contains "missing password" "$ERR" "no password given"
expect_fail 1 gh_admin account add nosuch root --key "$K/ed"
expect_contains "unknown asset" "$ERR" "asset 'nosuch' not found"
expect_fail 1 gh_admin account add web01 'ro ot' --key "$K/ed"
expect_contains "bad login" "$ERR" "invalid login 'ro ot'"
expect_fail 1 gh_admin account add web01 root --key "$K/ed"
expect_contains "duplicate" "$ERR" "account 'root' on asset 'web01' already exists"
expect_eq "accounts" "$(gh_sql "SELECT count(*) FROM accounts")" 3

# List.
expect_ok gh_admin account list
expect_match "list root" "$OUT" '^web01 +root +key '
expect_match "list deploy" "$OUT" '^web01 +deploy +password '
expect_match "list postgres" "$OUT" '^db01 +postgres +key '
expect_ok gh_admin --json account list web01
expect_json 'sorted((a["asset"], a["login"], a["kind"]) for a in d) == [("web01", "deploy", "password"), ("web01", "root", "key")]'
expect_json 'all(set(a) == {"asset", "login", "kind", "created"} for a in d)'
expect_ok gh_admin asset show web01 --json
expect_json 'sorted(d["logins"]) == ["deploy", "root"]'
expect_fail 1 gh_admin account list nosuch
expect_contains "list unknown asset" "$ERR" "asset 'nosuch' not found"

# Remove.
expect_ok gh_admin account remove web01 deploy
expect_contains "removed" "$OUT" "account 'deploy' on asset 'web01' removed"
expect_fail 1 gh_admin account remove web01 deploy
expect_contains "remove twice" "$ERR" "account 'deploy' on asset 'web01' not found"
expect_fail 2 gh_admin account remove web01
expect_eq "after remove" "$(gh_sql "SELECT count(*) FROM accounts WHERE login='deploy'")" 0

expect_ok gh_admin audit list --json --type account
expect_json '[e["type"] for e in d if e["result"] == "ok"] == ["account.add", "account.add", "account.add", "account.remove"]'
expect_json 'any(e["object"] == "account:root@web01" and e["detail"]["kind"] == "key" for e in d)'
expect_not_contains "no password in audit" "$OUT" "$tpw"
expect_ok gh_admin audit export
expect_not_contains "no password in export" "$OUT" "$tpw"
echo "t_admin_account: ok"
