#!/bin/bash
# Scenario: the daemon's own retention run (a minute after start, then
# daily) removes an expired closed session and its recording, keeps a
# recent one, and is audited as retention.run by "system". Slow by design
# (it waits for the first run, about 60 s).
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
now=$(date +%s)
mkdir -p "$GH_DATA/recordings"
OLD=44444444-4444-4444-8444-444444444444
NEW=55555555-5555-4555-8555-555555555555
echo rec >"$GH_DATA/recordings/$OLD.ghr"
echo rec >"$GH_DATA/recordings/$NEW.ghr"
sqlite3 "$GH_DATA/gatehouse.db" "INSERT INTO sessions (id, uuid, user, source_addr, source_port, start, end, state, recording)
  VALUES (1, '$OLD', 'a', '127.0.0.1', 1, $((now - 200 * 86400)), $((now - 199 * 86400)), 'closed', 'recordings/$OLD.ghr'),
         (2, '$NEW', 'b', '127.0.0.1', 2, $((now - 86400)), $((now - 86000)), 'closed', 'recordings/$NEW.ghr')" ||
	gh_fail "fixture"
start_gatehoused
gh_wait_for 90 bash -c "[ \"\$(sqlite3 '$GH_DATA/gatehouse.db' \"SELECT count(*) FROM audit WHERE type = 'retention.run' AND actor = 'system'\")\" = 1 ]" ||
	gh_fail "no retention.run by the daemon"
gh_expect_eq "sessions left" "$(gh_sql "SELECT group_concat(id) FROM sessions")" 2
[ ! -e "$GH_DATA/recordings/$OLD.ghr" ] || gh_fail "expired recording still there"
[ -e "$GH_DATA/recordings/$NEW.ghr" ] || gh_fail "recent recording removed"
gh_expect_match "event source" "$(gh_sql "SELECT source || ' ' || result FROM audit WHERE type = 'retention.run'")" '^daemon ok$'
"$GHA" -d "$GH_DATA" audit verify >"$GH_T/v.out" 2>&1 || gh_fail "verify: $(cat "$GH_T/v.out")"
gh_daemon_alive || gh_fail "daemon died"
echo "t_retention_daemon: ok"
