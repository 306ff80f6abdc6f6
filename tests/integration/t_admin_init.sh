#!/bin/bash
# Scenario: `gatehouse-admin init` creates a complete data directory with the
# right modes, a bootstrap superadmin whose TOTP secret is encrypted, prints
# the password / URI / QR code, refuses to touch an existing directory, and
# creates nothing when its input is bad.
. "$(dirname "$0")/lib.sh"

# ---- help and version ----
expect_ok "$GH_ADMIN_BIN" --help
expect_contains "--help" "$OUT" "user add"
expect_contains "--help" "$OUT" "audit verify"
expect_ok "$GH_ADMIN_BIN" --version
expect_match "--version" "$OUT" '^gatehouse-admin [0-9]'
expect_ok "$GH_ADMIN_BIN" init --help
expect_contains "init --help" "$OUT" "--totp-secret"
expect_fail 2 "$GH_ADMIN_BIN" --bogus
expect_contains "unknown global option" "$ERR" "unknown option '--bogus'"
expect_fail 2 "$GH_ADMIN_BIN"
expect_contains "no command" "$ERR" "no command given"
expect_fail 2 "$GH_ADMIN_BIN" -d "$GH_DATA" frobnicate
expect_contains "unknown command" "$ERR" "unknown command 'frobnicate'"
expect_fail 2 "$GH_ADMIN_BIN" -d "$GH_DATA" init --admin
expect_contains "missing value" "$ERR" "option '--admin' needs a value"
[ ! -e "$GH_DATA" ] || die "a usage error created the data dir"
# --help on every command of the overview, without a data directory.
"$GH_ADMIN_BIN" --help | sed -n 's/^  \([a-z].*[a-z]\)  \+[a-z].*$/\1/p' >"$GH_TMP/cmds"
[ "$(wc -l <"$GH_TMP/cmds")" -ge 30 ] || die "command overview too short: $(cat "$GH_TMP/cmds")"
while read -r cmd; do
	# shellcheck disable=SC2086 # the command words split on purpose
	expect_ok "$GH_ADMIN_BIN" -d "$GH_TMP/none" $cmd --help
	expect_contains "$cmd --help" "$OUT" "usage: gatehouse-admin $cmd"
done <"$GH_TMP/cmds"
expect_fail 2 "$GH_ADMIN_BIN" -d "$GH_DATA" user
expect_contains "bare object" "$ERR" "'user' needs a subcommand"
expect_contains "bare object lists" "$ERR" "user add NAME"
expect_fail 2 "$GH_ADMIN_BIN" -d "$GH_DATA" user frob
expect_contains "unknown subcommand" "$ERR" "unknown command 'user frob'"
expect_ok "$GH_ADMIN_BIN" user --help
expect_contains "object help" "$OUT" "user passwd NAME"
expect_fail 1 "$GH_ADMIN_BIN" -d "$GH_TMP/none" user list
expect_contains "no data dir" "$ERR" "data directory '$GH_TMP/none' not found"

# ---- bad input creates nothing ----
expect_fail 1 gh_admin init --admin 'bad name!' --password-stdin
expect_contains "bad admin name" "$ERR" "invalid user name 'bad name!'"
[ ! -e "$GH_DATA" ] || die "init with a bad name created $GH_DATA"
GH_IN='short' expect_fail 1 gh_admin init --password-stdin
expect_contains "weak password" "$ERR" "password refused"
[ ! -e "$GH_DATA" ] || die "init with a weak password created $GH_DATA"
expect_fail 1 gh_admin init --password-stdin # stdin is empty
expect_contains "no password" "$ERR" "no password given"
[ ! -e "$GH_DATA" ] || die "init without a password created $GH_DATA"
GH_IN=$(gh_password) expect_fail 1 gh_admin init --password-stdin --totp-secret 'not base32!'
expect_contains "bad totp" "$ERR" "invalid TOTP secret"
GH_IN=$(gh_password) expect_fail 1 gh_admin init --password-stdin --totp-secret JBSWY3DP
expect_contains "short totp" "$ERR" "at least 16 needed"
[ ! -e "$GH_DATA" ] || die "init with a bad TOTP secret created $GH_DATA"
GH_IN=$(gh_password) expect_fail 1 "$GH_ADMIN_BIN" -d "$GH_TMP/no/such/parent" init --password-stdin
expect_contains "missing parent" "$ERR" "cannot create data directory"

# A failure half-way (the database cannot be written: file size limit, with
# SIGXFSZ ignored so the write fails instead of killing us) removes
# everything init had created already.
out=$( (trap '' XFSZ; ulimit -f 8; "$GH_ADMIN_BIN" -d "$GH_DATA" init --password-stdin <<<"$(gh_password)") 2>&1)
rc=$?
expect_eq "init on a tiny file size limit: exit" "$rc" 1
expect_contains "half-way failure" "$out" "init failed; removed the partly created"
[ ! -e "$GH_DATA" ] || die "a failed init left $(ls -la "$GH_DATA")"

# ---- scripted init ----
gh_setup --admin root-admin
expect_contains "init output" "$OUT" "Bootstrap superadmin: root-admin"
expect_contains "init output" "$OUT" "not temporary"
expect_contains "otpauth URI" "$OUT" "otpauth://totp/Gatehouse:root-admin?secret=$GH_ADMIN_TOTP&issuer=Gatehouse"
expect_contains "QR code" "$OUT" "█"
expect_not_contains "password never printed" "$OUT" "$GH_ADMIN_PW"

mode() { stat -c %a "$1"; }
expect_eq "data dir mode" "$(mode "$GH_DATA")" 700
expect_eq "master.key mode" "$(mode "$GH_DATA/master.key")" 600
expect_eq "master.key size" "$(stat -c %s "$GH_DATA/master.key")" 32
expect_eq "host key mode" "$(mode "$GH_DATA/ssh_host_ed25519_key")" 600
expect_eq "recordings mode" "$(mode "$GH_DATA/recordings")" 700
[ -f "$GH_DATA/gatehouse.conf" ] || die "no gatehouse.conf"
grep -q 'password_policy' "$GH_DATA/gatehouse.conf" || die "gatehouse.conf does not document password_policy"
fp=$(ssh-keygen -l -f "$GH_DATA/ssh_host_ed25519_key.pub" | awk '{print $2}')
expect_contains "host key fingerprint printed" "$OUT" "ssh-ed25519 $fp"
ssh-keygen -y -f "$GH_DATA/ssh_host_ed25519_key" >/dev/null || die "host private key does not load in ssh-keygen"
expect_eq "journal mode" "$(gh_sql 'PRAGMA journal_mode')" wal
[ "$(gh_sql 'PRAGMA user_version')" -ge 2 ] || die "schema not migrated"

expect_eq "admin row" "$(gh_sql "SELECT role, auth, pw_temporary, locked FROM users WHERE name='root-admin'")" \
	"superadmin|local|0|0"
hash=$(gh_sql "SELECT pw_hash FROM users WHERE name='root-admin'")
expect_match "yescrypt hash" "$hash" '^\$y\$'
# The TOTP secret is sealed: the raw secret bytes do not appear in the blob.
raw_hex=$(printf '%s' "$GH_ADMIN_TOTP" | base32 -d 2>/dev/null | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
blob_hex=$(gh_sql "SELECT hex(totp_secret) FROM users WHERE name='root-admin'")
[ ${#blob_hex} -gt ${#raw_hex} ] || die "TOTP blob too short: $blob_hex"
expect_not_contains "sealed TOTP" "$blob_hex" "$raw_hex"

expect_ok gh_admin audit list --json
expect_json 'any(e["type"] == "system.init" and e["result"] == "ok" and e["importance"] == "high" for e in d)'
expect_json 'any(e["type"] == "user.add" and e["object"] == "user:root-admin" for e in d)'
expect_json 'all(e["source"] == "cli" and e["actor"] for e in d)'

# $GATEHOUSE_DIR is the default data directory.
GATEHOUSE_DIR=$GH_DATA expect_ok "$GH_ADMIN_BIN" user list
expect_contains "GATEHOUSE_DIR" "$OUT" "root-admin"

# ---- a second init changes nothing ----
before=$(cd "$GH_DATA" && find . -printf '%p %s %m\n' | sort; sha256sum "$GH_DATA/gatehouse.db" "$GH_DATA/master.key")
GH_IN=$(gh_password) expect_fail 1 gh_admin init --password-stdin
expect_contains "existing dir" "$ERR" "already exists; init changes nothing"
after=$(cd "$GH_DATA" && find . -printf '%p %s %m\n' | sort; sha256sum "$GH_DATA/gatehouse.db" "$GH_DATA/master.key")
expect_eq "data dir after a refused init" "$after" "$before"

# ---- interactive-style init: generated temporary password ----
D2=$GH_TMP/data2
expect_ok "$GH_ADMIN_BIN" -d "$D2" init
expect_contains "temp password notice" "$OUT" "must be changed at first login"
pw=$(grep -A1 'Temporary password' <<<"$OUT" | tail -1 | tr -d ' ')
[ ${#pw} -ge 16 ] || die "temporary password too short: [$pw]"
expect_match "temp password classes" "$pw" '[A-Z]'
expect_match "temp password classes" "$pw" '[a-z]'
expect_match "temp password classes" "$pw" '[0-9]'
expect_eq "temporary flag" "$(sqlite3 "$D2/gatehouse.db" "SELECT name, pw_temporary FROM users")" "admin|1"
expect_match "random otpauth URI" "$OUT" 'otpauth://totp/Gatehouse:admin\?secret=[A-Z2-7]{32}&'
echo "t_admin_init: ok"
