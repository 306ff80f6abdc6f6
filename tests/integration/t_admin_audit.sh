#!/bin/bash
# Scenario: audit list / verify / export. The trail is append-only (triggers),
# verify passes on an intact chain and, after raw tampering through sqlite3
# (triggers dropped, a row altered / deleted / forged), fails naming the row.
# Every verify is itself an event.
. "$(dirname "$0")/lib.sh"
gh_setup
GH_IN=$(gh_password) expect_ok gh_admin user add alice --role operator --password-stdin
expect_ok gh_admin group add ops
expect_ok gh_admin group member add ops alice
expect_ok gh_admin asset add web01 --host 127.0.0.1
expect_ok gh_admin user lock alice
n=$(gh_sql "SELECT count(*) FROM audit")
[ "$n" -ge 7 ] || die "expected at least 7 events, have $n"

# ---- list ----
expect_ok gh_admin audit list
expect_match "header" "$OUT" '^ID +TIME +ACTOR +SOURCE +TYPE +OBJECT +RESULT +IMPORTANCE$'
expect_match "row" "$OUT" "^[0-9]+ +20[0-9-]+T[0-9:.]+Z +$(id -un)[^ ]* +cli +user.lock +user:alice +ok +high$"
expect_ok gh_admin --json audit list --type user.lock
expect_json 'len(d) == 1 and d[0]["object"] == "user:alice"'
expect_ok gh_admin --json audit list --type user
expect_json 'sorted(set(e["type"] for e in d)) == ["user.add", "user.lock"]'
expect_ok gh_admin --json audit list --since 2099-01-01
expect_json 'd == []'
expect_ok gh_admin --json audit list --since "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
expect_json "len(d) == $n"
expect_fail 2 gh_admin audit list --since yesterday
expect_contains "bad since" "$ERR" "invalid --since 'yesterday'"

# The actor is the OS user; through sudo (only believed for root) also the
# user who ran sudo.
if [ "$(id -u)" = 0 ]; then
	SUDO_USER=alice expect_ok gh_admin group add sudo-made
	expect_eq "sudo actor" "$(gh_sql "SELECT actor FROM audit WHERE object='group:sudo-made'")" "root(sudo:alice)"
	n=$((n + 1))
fi

# ---- export: JSON lines ----
expect_ok gh_admin audit export
expect_eq "export lines" "$(wc -l <<<"$OUT")" "$n"
printf '%s\n' "$OUT" | /usr/bin/python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
assert all(e["type"] and e["time" if "time" in e else "ts"] for e in evs), evs[0]
assert any(e["type"] == "system.init" for e in evs)
' || die "export is not JSON lines with types"
expect_ok gh_admin audit export --since 2099-01-01
expect_eq "export since future" "$OUT" ""
expect_fail 2 gh_admin audit export --since 2026-02-30x

# ---- verify, intact ----
expect_ok gh_admin audit verify
expect_eq "verify ok" "$OUT" "audit chain OK: $n events"
expect_ok gh_admin --json audit verify
expect_json "d['ok'] is True and d['events'] == $((n + 1))"
expect_eq "verify events" "$(gh_sql "SELECT count(*) FROM audit WHERE type='audit.verify' AND result='ok'")" 2

# ---- append-only ----
if sqlite3 "$GH_DATA/gatehouse.db" "UPDATE audit SET actor='mallory' WHERE id=2" 2>"$GH_TMP/upd.err"; then
	die "UPDATE on audit succeeded"
fi
expect_contains "update refused" "$(cat "$GH_TMP/upd.err")" "append-only"
if sqlite3 "$GH_DATA/gatehouse.db" "DELETE FROM audit WHERE id=2" 2>"$GH_TMP/del.err"; then
	die "DELETE on audit succeeded"
fi
expect_contains "delete refused" "$(cat "$GH_TMP/del.err")" "append-only"

# Each tampering on its own copy of the data directory.
tamper() { # NAME SQL
	local d=$GH_TMP/$1
	cp -a "$GH_DATA" "$d"
	sqlite3 "$d/gatehouse.db" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $2" ||
		die "tamper $1 failed"
	T=$d
}

# An altered row.
tamper altered "UPDATE audit SET actor='mallory' WHERE id=4"
expect_fail 1 "$GH_ADMIN_BIN" -d "$T" audit verify
expect_contains "altered row named" "$ERR" "audit chain BROKEN at row 4"
expect_contains "altered reason" "$ERR" "hash mismatch"
# The failed verify is recorded, critical, and the chain stays broken at 4.
expect_eq "verify fail event" "$(sqlite3 "$T/gatehouse.db" "SELECT result, importance, json_extract(detail,'$.bad_row') FROM audit WHERE type='audit.verify' ORDER BY id DESC LIMIT 1")" \
	"fail|critical|4"
expect_fail 1 "$GH_ADMIN_BIN" -d "$T" --json audit verify
expect_json 'd["ok"] is False and d["bad_row"] == 4'

# A row altered in its detail only.
tamper detail "UPDATE audit SET detail='{}' WHERE id=3"
expect_fail 1 "$GH_ADMIN_BIN" -d "$T" audit verify
expect_contains "detail change named" "$ERR" "BROKEN at row 3"

# A deleted row.
tamper deleted "DELETE FROM audit WHERE id=5"
expect_fail 1 "$GH_ADMIN_BIN" -d "$T" audit verify
expect_contains "deleted row named" "$ERR" "BROKEN at row 5"
expect_contains "deleted reason" "$ERR" "row deleted"

# A forged row appended with a made-up hash.
tamper forged "INSERT INTO audit (ts, actor, source, type, object, result, importance, detail, prev_hash, hash)
	SELECT ts, 'root', 'cli', 'user.unlock', 'user:alice', 'ok', 'notice', NULL, hash, 'deadbeef' FROM audit WHERE id = (SELECT max(id) FROM audit)"
forged=$(sqlite3 "$T/gatehouse.db" "SELECT max(id) FROM audit")
expect_fail 1 "$GH_ADMIN_BIN" -d "$T" audit verify
expect_contains "forged row named" "$ERR" "BROKEN at row $forged"

# The untouched original still verifies.
expect_ok gh_admin audit verify
echo "t_admin_audit: ok"
