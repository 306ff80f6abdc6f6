#!/bin/bash
# Scenario: `gatehouse-admin compliance` on a fresh installation fails the
# checks a fresh installation cannot pass (a generic bootstrap "admin"
# account, no auditor, inactive-account locking off), each with its
# evidence; weakening a setting turns its check to FAIL; after the fixes
# every check passes (exit 0) and --json parses with the same verdicts. The
# report itself is an audit event.
. "$(dirname "$0")/lib.sh"

gh_setup
expect_fail 1 gh_admin compliance
expect_match "generic name" "$OUT" 'FAIL  identity\.unique_accounts .*'
expect_contains "generic name evidence" "$OUT" "generic names in use: admin (superadmin)"
expect_match "no auditor" "$OUT" 'FAIL  access\.role_separation'
expect_contains "no auditor evidence" "$OUT" "auditors: 0 (need >= 1 each)"
expect_match "inactive" "$OUT" 'FAIL  identity\.inactive_accounts'
expect_match "lockout default" "$OUT" 'PASS  identity\.lockout'
expect_match "chain" "$OUT" 'PASS  audit\.chain'
expect_contains "summary" "$OUT" "12 checks, 3 failed"

# The fixes: personal accounts, an auditor, inactivity locking.
GH_IN=$(gh_password) expect_ok gh_admin user add sam.chen --role superadmin --password-stdin --totp-secret "$(gh_totp_secret)"
GH_IN=$(gh_password) expect_ok gh_admin user add ada.lee --role auditor --password-stdin --totp-secret "$(gh_totp_secret)"
GH_IN=$(gh_password) expect_ok gh_admin user add olga --role operator --password-stdin --totp-secret "$(gh_totp_secret)"
expect_ok gh_admin user remove admin
echo 'account_inactive_days = 90' >>"$GH_DATA/gatehouse.conf"
expect_ok gh_admin compliance
expect_contains "all pass" "$OUT" "12 checks, 0 failed"
expect_not_contains "no FAIL" "$OUT" "FAIL"
expect_ok gh_admin compliance --json
expect_json 'd["ok"] is True and d["failed"] == 0 and len(d["results"]) == 12 and all(r["result"] == "PASS" for r in d["results"])'
expect_json '{r["id"] for r in d["results"]} >= {"identity.two_factor", "access.role_separation", "audit.retention", "audit.export"}'

# Each weakening is caught, with the value found as evidence.
cp "$GH_DATA/gatehouse.conf" "$GH_TMP/good.conf"
weaken() {
	cp "$GH_TMP/good.conf" "$GH_DATA/gatehouse.conf"
	echo "$1" >>"$GH_DATA/gatehouse.conf"
	expect_fail 1 gh_admin compliance --json
	expect_json "[r for r in d['results'] if r['result'] == 'FAIL'][0]['id'] == '$2' and d['failed'] == 1"
	expect_json "'$3' in [r for r in d['results'] if r['id'] == '$2'][0]['evidence']"
}
weaken 'lockout_threshold = 10' identity.lockout 'lockout_threshold = 10'
weaken 'lockout_minutes = 10' identity.lockout 'lockout_minutes = 10'
weaken 'idle_timeout = 0' identity.idle_timeout 'idle_timeout = 0 s'
weaken 'idle_timeout = 3600' identity.idle_timeout 'idle_timeout = 3600 s'
weaken 'password_max_age_days = 0' identity.password_policy 'password_max_age_days = 0'
weaken 'password_policy = nist' identity.password_policy 'password_blocklist'
weaken 'bench_allow_no_totp = yes' identity.two_factor 'bench_allow_no_totp = yes'
weaken 'retention_days = 30' audit.retention 'retention_days = 30'
weaken 'recording_failure = open' audit.fail_closed 'recording_failure = open'
weaken 'command_tracking = no' audit.command_tracking 'command_tracking = no'
printf 'audit_syslog = no\naudit_jsonl = \n' >"$GH_TMP/noexport"
weaken "$(cat "$GH_TMP/noexport")" audit.export 'audit_syslog = no'
cp "$GH_TMP/good.conf" "$GH_DATA/gatehouse.conf"

# Data checks: a user without TOTP, a shared public key, a grant held by an
# auditor.
GH_IN=$(gh_password) expect_ok gh_admin user add nobody2fa --role operator --password-stdin
expect_fail 1 gh_admin compliance --json
expect_json "'nobody2fa' in [r for r in d['results'] if r['id'] == 'identity.two_factor'][0]['evidence']"
expect_ok gh_admin user remove nobody2fa
ssh-keygen -q -t ed25519 -N '' -f "$GH_TMP/k" >/dev/null
GH_IN=$(gh_password) expect_ok gh_admin user add piet --role operator --password-stdin --totp-secret "$(gh_totp_secret)" --pubkey "$GH_TMP/k.pub"
GH_IN=$(gh_password) expect_ok gh_admin user add joop --role operator --password-stdin --totp-secret "$(gh_totp_secret)" --pubkey "$GH_TMP/k.pub"
expect_fail 1 gh_admin compliance --json
expect_json "'piet' in [r for r in d['results'] if r['id'] == 'identity.unique_accounts'][0]['evidence']"
expect_ok gh_admin user remove joop
expect_ok gh_admin compliance
ssh-keygen -q -t ed25519 -N '' -f "$GH_TMP/hk" >/dev/null
expect_ok gh_admin asset add web01 --host 127.0.0.1 --port 22 --hostkey "$GH_TMP/hk.pub"
expect_ok gh_admin grant add --user ada.lee --asset web01 --login root
expect_fail 1 gh_admin compliance --json
expect_json "'ada.lee (auditor)' in [r for r in d['results'] if r['id'] == 'access.role_separation'][0]['evidence']"

# A broken chain fails audit.chain.
sqlite3 "$GH_DATA/gatehouse.db" "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'x' WHERE id = 2;"
expect_fail 1 gh_admin compliance --json
expect_json "[r for r in d['results'] if r['id'] == 'audit.chain'][0]['result'] == 'FAIL'"

# Every run is audited.
n=$(gh_sql "SELECT count(*) FROM audit WHERE type = 'compliance.report'")
[ "$n" -ge 10 ] || die "compliance.report events: $n"
echo "t_compliance: ok"
