#!/bin/bash
# Scenario: user add / list / show / lock / unlock / remove / passwd /
# totp-reset, with the bad-input cases: names, roles, duplicates, weak
# passwords (the failed rule is named), reuse, missing input, PAM users.
. "$(dirname "$0")/lib.sh"
gh_setup

# ---- add ----
pw=$(gh_password)
GH_IN=$pw expect_ok gh_admin user add alice --role operator --password-stdin --totp-secret "$(gh_totp_secret)"
expect_contains "add alice" "$OUT" "user 'alice' added (role operator, auth local)"
expect_not_contains "no password echoed" "$OUT" "$pw"
expect_eq "alice row" "$(gh_sql "SELECT role, pw_temporary, totp_secret IS NOT NULL FROM users WHERE name='alice'")" \
	"operator|0|1"

# Generated temporary password, printed once; TOTP enrolled at first login.
expect_ok gh_admin user add bob --role auditor
expect_contains "temp pw" "$OUT" "temporary password (shown once"
expect_contains "enrol later" "$OUT" "enrols one at first login"
expect_eq "bob row" "$(gh_sql "SELECT role, pw_temporary, totp_secret IS NULL FROM users WHERE name='bob'")" "auditor|1|1"

# Public key: stored normalised, fingerprint shown.
ssh-keygen -q -t ed25519 -N '' -C 'carol@laptop' -f "$GH_TMP/carol" || die "ssh-keygen"
GH_IN=$(gh_password) expect_ok gh_admin user add carol --role superadmin --password-stdin --pubkey "$GH_TMP/carol.pub"
fp=$(ssh-keygen -l -f "$GH_TMP/carol.pub" | awk '{print $2}')
expect_contains "pubkey fp" "$OUT" "$fp"
expect_eq "stored pubkey" "$(gh_sql "SELECT pubkey FROM users WHERE name='carol'")" "$(cut -d' ' -f1,2 "$GH_TMP/carol.pub")"

# PAM user: no local password.
expect_ok gh_admin user add dave --role operator --auth pam
expect_eq "pam row" "$(gh_sql "SELECT auth, pw_hash IS NULL FROM users WHERE name='dave'")" "pam|1"
expect_not_contains "no temp pw for pam" "$OUT" "temporary password"

# Bad input.
expect_fail 2 gh_admin user add
expect_contains "missing name" "$ERR" "missing user NAME"
expect_fail 2 gh_admin user add eve
expect_contains "missing role" "$ERR" "missing --role"
expect_fail 2 gh_admin user add eve --role king
expect_contains "bad role" "$ERR" "unknown role 'king'"
expect_fail 2 gh_admin user add eve --role operator --auth ldap
expect_contains "bad auth" "$ERR" "unknown --auth 'ldap'"
expect_fail 2 gh_admin user add eve --role operator --frobnicate
expect_contains "unknown option" "$ERR" "unknown option '--frobnicate'"
expect_fail 2 gh_admin user add eve --role operator --auth pam --password-stdin
expect_contains "pam + password" "$ERR" "PAM users have no local password"
expect_fail 1 gh_admin user add 'eve@x' --role operator
expect_contains "bad name" "$ERR" "invalid user name 'eve@x'"
expect_fail 1 gh_admin user add --role operator -- -eve
expect_contains "bad name start" "$ERR" "must start with a letter or a digit"
GH_IN=$(gh_password) expect_fail 1 gh_admin user add alice --role operator --password-stdin
expect_contains "duplicate" "$ERR" "user 'alice' already exists"
expect_fail 1 gh_admin user add eve --role operator --password-stdin
expect_contains "missing stdin" "$ERR" "no password given"
GH_IN='Short1!' expect_fail 1 gh_admin user add eve --role operator --password-stdin
expect_contains "weak: length" "$ERR" "password refused"
expect_contains "weak: length rule" "$ERR" "8"
GH_IN='alllowercase1!' expect_fail 1 gh_admin user add eve --role operator --password-stdin
expect_contains "weak: upper" "$ERR" "upper"
GH_IN='NoDigitsHere!' expect_fail 1 gh_admin user add eve --role operator --password-stdin
expect_contains "weak: digit" "$ERR" "digit"
GH_IN=$(gh_password) expect_fail 1 gh_admin user add eve --role operator --password-stdin --totp-secret '0189!'
expect_contains "bad totp" "$ERR" "invalid TOTP secret"
echo 'not a key' >"$GH_TMP/bad.pub"
expect_fail 1 gh_admin user add eve --role operator --pubkey "$GH_TMP/bad.pub"
expect_contains "bad pubkey" "$ERR" "no public key line found"
expect_fail 1 gh_admin user add eve --role operator --pubkey "$GH_TMP/missing.pub"
expect_contains "missing pubkey file" "$ERR" "cannot read public key file"
expect_eq "eve never created" "$(gh_sql "SELECT count(*) FROM users WHERE name='eve'")" 0
expect_ok gh_admin audit list --type user.add --json
expect_json 'any(e["result"] == "fail" and e["object"] == "user:alice" and "already exists" in e["detail"]["error"] for e in d)'
expect_json 'any(e["result"] == "fail" and "password refused" in e["detail"]["error"] for e in d)'
expect_not_contains "no password in audit" "$OUT" "Short1!"

# ---- list / show ----
expect_ok gh_admin user list
expect_match "list header" "$OUT" '^NAME +ROLE +AUTH'
expect_match "list alice" "$OUT" '^alice +operator +local +no +yes'
expect_match "list bob" "$OUT" '^bob +auditor +local +no +no'
expect_ok gh_admin --json user list
expect_json 'sorted(u["name"] for u in d) == ["admin", "alice", "bob", "carol", "dave"]'
expect_json '[u["totp"] for u in d if u["name"] == "bob"] == [False]'

expect_ok gh_admin group add ops
expect_ok gh_admin group member add ops carol
expect_ok gh_admin user show carol
expect_match "show role" "$OUT" '^Role: +superadmin'
expect_match "show totp" "$OUT" '^TOTP enrolled: +no'
expect_contains "show fp" "$(grep "^Public key:" <<<"$OUT")" "$fp"
expect_match "show groups" "$OUT" '^Groups: +ops'
expect_match "show expiry" "$OUT" '^Password expires: +20[0-9]{2}-'
expect_not_contains "show: no hash" "$OUT" '$y$'
expect_ok gh_admin user show carol --json
expect_json 'd["name"] == "carol" and d["groups"] == ["ops"] and d["totp"] is False and d["password_temporary"] is False'
expect_json '"pw_hash" not in d and "totp_secret" not in d and d["pubkey"].startswith("SHA256:")'
expect_fail 1 gh_admin user show nobody
expect_contains "unknown user" "$ERR" "user 'nobody' not found"
expect_fail 2 gh_admin user show
expect_contains "show needs a name" "$ERR" "missing user NAME"

# ---- lock / unlock ----
expect_ok gh_admin user lock alice
expect_eq "locked" "$(gh_sql "SELECT locked FROM users WHERE name='alice'")" 1
expect_ok gh_admin user show alice --json
expect_json 'd["locked"] is True'
# A failure lockout is cleared by unlock too.
gh_sql "UPDATE users SET failed_count = 5, locked_until = strftime('%s','now') + 1800 WHERE name='alice'"
expect_ok gh_admin user show alice --json
expect_json 'd["lockout_until"] is not None and d["failed_logins"] == 5'
expect_ok gh_admin user unlock alice
expect_eq "unlocked" "$(gh_sql "SELECT locked, failed_count, locked_until FROM users WHERE name='alice'")" "0|0|0"
expect_fail 1 gh_admin user lock nobody
expect_contains "lock unknown" "$ERR" "user 'nobody' not found"

# ---- passwd ----
old=$(gh_sql "SELECT pw_hash FROM users WHERE name='alice'")
expect_fail 2 gh_admin user passwd alice
expect_contains "passwd needs stdin flag" "$ERR" "missing --password-stdin"
GH_IN='weakpass' expect_fail 1 gh_admin user passwd alice --password-stdin
expect_contains "passwd weak" "$ERR" "password refused"
GH_IN=$pw expect_fail 1 gh_admin user passwd alice --password-stdin
expect_contains "passwd reuse of current" "$ERR" "used before"
pw2=$(gh_password)
GH_IN=$pw2 expect_ok gh_admin user passwd alice --password-stdin --temporary
expect_contains "passwd temp" "$OUT" "temporary"
new=$(gh_sql "SELECT pw_hash FROM users WHERE name='alice'")
[ "$new" != "$old" ] || die "hash unchanged after passwd"
expect_eq "temporary flag" "$(gh_sql "SELECT pw_temporary FROM users WHERE name='alice'")" 1
pw3=$(gh_password)
GH_IN=$pw3 expect_ok gh_admin user passwd alice --password-stdin
expect_eq "not temporary" "$(gh_sql "SELECT pw_temporary FROM users WHERE name='alice'")" 0
# The first password is in the history: refused.
GH_IN=$pw expect_fail 1 gh_admin user passwd alice --password-stdin
expect_contains "passwd reuse of history" "$ERR" "used before"
GH_IN=$(gh_password) expect_fail 1 gh_admin user passwd dave --password-stdin
expect_contains "pam passwd" "$ERR" "authenticates through PAM"
expect_fail 1 gh_admin user passwd nobody --password-stdin
expect_contains "passwd unknown" "$ERR" "user 'nobody' not found"

# On a terminal, --password-stdin prompts and does not echo the password.
pw4=$(gh_password)
"$GH_PY" - "$GH_ADMIN_BIN" "$GH_DATA" "$pw4" <<'PY' || die "passwd on a pty"
import pexpect, sys
c = pexpect.spawn(sys.argv[1], ["-d", sys.argv[2], "user", "passwd", "alice", "--password-stdin"], timeout=30)
c.expect("New password: ")
c.sendline(sys.argv[3])
c.expect(pexpect.EOF)
out = c.before.decode()
c.close()
assert c.exitstatus == 0, (c.exitstatus, out)
assert sys.argv[3] not in out, "password echoed: " + out
assert "password of 'alice' changed" in out, out
PY

# ---- totp-reset ----
expect_ok gh_admin user totp-reset alice
expect_contains "totp-reset" "$OUT" "enrols one at first login"
expect_eq "totp-reset opens an enrolment window" "$(gh_sql "SELECT enrol_until > strftime('%s','now') FROM users WHERE name='alice'")" 1
expect_eq "secret cleared" "$(gh_sql "SELECT totp_secret IS NULL FROM users WHERE name='alice'")" 1

# ---- remove ----
expect_ok gh_admin user remove bob
expect_ok gh_admin --json user list
expect_json '"bob" not in [u["name"] for u in d]'
expect_fail 1 gh_admin user show bob
expect_contains "removed is gone" "$ERR" "user 'bob' not found"
GH_IN=$(gh_password) expect_fail 1 gh_admin user add bob --role operator --password-stdin
expect_contains "removed name reserved" "$ERR" "stays reserved"
expect_fail 1 gh_admin user remove bob
# The last active superadmin cannot be removed or locked... but one of two can.
expect_ok gh_admin user remove carol
expect_fail 1 gh_admin user remove admin
expect_contains "last superadmin" "$ERR" "last active superadmin"
expect_fail 1 gh_admin user lock admin
expect_contains "last superadmin lock" "$ERR" "last active superadmin"

# ---- every change is in the audit trail, none with a secret ----
expect_ok gh_admin audit list --json
for t in user.add user.lock user.unlock user.passwd user.totp-reset user.remove group.member.add; do
	expect_json "any(e['type'] == '$t' and e['result'] == 'ok' and e['actor'] for e in d)"
done
expect_json 'all(e["importance"] == "high" for e in d if e["result"] == "ok" and e["type"] in ("user.passwd", "user.totp-reset", "user.remove"))'
for secret in "$pw" "$pw2" "$pw3"; do
	expect_not_contains "no secret in audit" "$OUT" "$secret"
done
expect_ok gh_admin audit verify
echo "t_admin_user: ok"
