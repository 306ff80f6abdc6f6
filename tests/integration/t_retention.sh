#!/bin/bash
# Scenario: `retention run` removes what is older than retention_days and
# nothing else: an expired closed session (rows, recording, captured files)
# and the oldest audit events go; a recent session and recent events stay;
# the chain still verifies from the recorded retention base; retention.run
# is audited with its counts; a plain DELETE on the trail is still refused.
# GH_FAKE_NOW (test only, docs/admin.md) moves the reference time instead of
# waiting six months: old = before $T, recent = after it.
. "$(dirname "$0")/lib.sh"

gh_setup
GH_IN=$(gh_password) expect_ok gh_admin user add old.one --role operator --password-stdin --totp-secret "$(gh_totp_secret)"
old_max=$(gh_sql "SELECT max(id) FROM audit")
sleep 1.2
T=$(date +%s)
GH_IN=$(gh_password) expect_ok gh_admin user add new.one --role operator --password-stdin --totp-secret "$(gh_totp_secret)"
new_min=$((old_max + 1))

# Two closed sessions with recordings and a capture directory; the old one
# ended before T, the recent one after. Sessions are plain rows (no
# triggers): aging them by SQL is what a months-old row looks like.
mkdir -p "$GH_DATA/recordings"
OLD=11111111-1111-4111-8111-111111111111
NEW=22222222-2222-4222-8222-222222222222
for u in $OLD $NEW; do
	echo rec >"$GH_DATA/recordings/$u.ghr"
	echo cache >"$GH_DATA/recordings/$u.ghr.kfc"
	mkdir -p "$GH_DATA/recordings/$u.files"
	echo data >"$GH_DATA/recordings/$u.files/abc.zst"
done
sqlite3 "$GH_DATA/gatehouse.db" <<SQL || die "fixture rows"
INSERT INTO sessions (id, uuid, user, source_addr, source_port, start, end, state, recording)
  VALUES (1, '$OLD', 'old.one', '127.0.0.1', 5000, $((T - 100)), $((T - 50)), 'closed', 'recordings/$OLD.ghr'),
         (2, '$NEW', 'new.one', '127.0.0.1', 5001, $((T - 10)), $((T + 5)), 'closed', 'recordings/$NEW.ghr'),
         (3, '33333333-3333-4333-8333-333333333333', 'x', '127.0.0.1', 5002, $((T - 100)), 0, 'active', NULL);
INSERT INTO channels (session_id, num, type, opened) VALUES (1, 1, 'session', $((T - 100))), (2, 1, 'session', $((T - 10)));
INSERT INTO commands (session_id, channel, user, ts_ms, command, source) VALUES (1, 1, 'old.one', 1, 'ls', 'exec'), (2, 1, 'new.one', 2, 'pwd', 'exec');
INSERT INTO transfers (session_id, channel, user, ts_ms, protocol, op) VALUES (1, 1, 'old.one', 1, 'sftp', 'read');
SQL

FAKE=$((T + 180 * 86400))
# Dry run: counts, removes nothing, still audited.
GH_FAKE_NOW=$FAKE expect_ok gh_admin retention run --dry-run --json
expect_json 'd["dry_run"] and d["sessions"] == 1 and d["recordings"] == 1 and d["commands"] == 1 and d["transfers"] == 1'
expect_json "d['audit_events'] == $old_max and d['audit_base'] == $old_max"
expect_eq "dry run keeps sessions" "$(gh_sql "SELECT count(*) FROM sessions")" 3
expect_eq "dry run keeps audit" "$(gh_sql "SELECT min(id) FROM audit")" 1
[ -f "$GH_DATA/recordings/$OLD.ghr" ] || die "dry run removed a recording"
expect_eq "dry run audited" "$(gh_sql "SELECT result FROM audit WHERE type = 'retention.run'")" "dry-run"

# The real run.
GH_FAKE_NOW=$FAKE expect_ok gh_admin retention run
expect_match "summary" "$OUT" "^removed data older than .* \\(180 days\\): 1 sessions \\(1 recordings\\), 1 channels, 1 commands, 1 transfers, $old_max audit events"
expect_eq "sessions left" "$(gh_sql "SELECT group_concat(id) FROM (SELECT id FROM sessions ORDER BY id)")" "2,3"
expect_eq "channels left" "$(gh_sql "SELECT group_concat(session_id) FROM channels")" "2"
expect_eq "commands left" "$(gh_sql "SELECT group_concat(session_id) FROM commands")" "2"
expect_eq "transfers left" "$(gh_sql "SELECT count(*) FROM transfers")" "0"
for f in "$OLD.ghr" "$OLD.ghr.kfc" "$OLD.files"; do
	[ ! -e "$GH_DATA/recordings/$f" ] || die "expired $f still there"
done
for f in "$NEW.ghr" "$NEW.ghr.kfc" "$NEW.files/abc.zst"; do
	[ -e "$GH_DATA/recordings/$f" ] || die "recent $f removed"
done
expect_eq "oldest audit row" "$(gh_sql "SELECT min(id) FROM audit")" "$new_min"
expect_eq "retention base" "$(gh_sql "SELECT last_id FROM audit_base")" "$old_max"
expect_eq "recent event kept" "$(gh_sql "SELECT count(*) FROM audit WHERE object = 'user:new.one' AND type = 'user.add'")" 1
expect_eq "old event gone" "$(gh_sql "SELECT count(*) FROM audit WHERE object = 'user:old.one'")" 0
expect_eq "guard cleared" "$(gh_sql "SELECT active FROM retention_guard")" 0
detail=$(gh_sql "SELECT detail FROM audit WHERE type = 'retention.run' AND result = 'ok'")
expect_contains "retention.run counts" "$detail" "\"sessions\":1"
expect_contains "retention.run audit count" "$detail" "\"audit_events\":$old_max"
expect_ok gh_admin audit verify
expect_contains "verify after retention" "$OUT" "audit chain OK"

# Anchors after retention: a remaining row checks, a removed one is retired.
gh_admin audit export >"$GH_TMP/export.jsonl" || die "export"
printf '{"id":1,"hash":"%s"}\n' "$(printf '0%.0s' {1..64})" >>"$GH_TMP/export.jsonl"
expect_ok gh_admin audit verify --anchors "$GH_TMP/export.jsonl"

# Nothing else deletes: a plain DELETE on the trail (oldest or newest row),
# a forged base, all refused by the triggers.
for sql in "DELETE FROM audit WHERE id = (SELECT min(id) FROM audit)" \
	"DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)" \
	"UPDATE audit_base SET last_id = 1" "DELETE FROM audit_base" \
	"INSERT OR REPLACE INTO audit_base (id, last_id, hash) VALUES (1, 2, 'x')"; do
	if sqlite3 "$GH_DATA/gatehouse.db" "$sql" 2>"$GH_TMP/sql.err"; then
		die "not refused: $sql"
	fi
	expect_match "refusal of $sql" "$(cat "$GH_TMP/sql.err")" 'append-only|oldest first|only during retention|never deleted'
done
# Even with the guard raised by hand, rows go oldest first only.
if sqlite3 "$GH_DATA/gatehouse.db" "UPDATE retention_guard SET active = 1; DELETE FROM audit WHERE id = (SELECT max(id) FROM audit);" 2>"$GH_TMP/sql.err"; then
	die "a middle/newest row was deleted"
fi
expect_contains "oldest first" "$(cat "$GH_TMP/sql.err")" "oldest first"
sqlite3 "$GH_DATA/gatehouse.db" "UPDATE retention_guard SET active = 0"

# A second run finds nothing more and the chain still verifies.
GH_FAKE_NOW=$FAKE expect_ok gh_admin retention run --json
expect_json 'd["sessions"] == 0 and d["audit_events"] == 0'
expect_ok gh_admin audit verify
echo "t_retention: ok"
