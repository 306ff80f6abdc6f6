#!/bin/bash
# Scenario: session list / show over rows the proxy would write (inserted
# here with sqlite3): filters by user, asset and state; show by id or UUID
# with the channels; JSON output; unknown ids.
. "$(dirname "$0")/lib.sh"
gh_setup

expect_ok gh_admin session list
expect_eq "empty list" "$OUT" "$(printf 'ID  USER  SOURCE  ASSET  LOGIN  START  END  STATE  END REASON')"
expect_ok gh_admin --json session list
expect_json 'd == []'

gh_sql "INSERT INTO sessions (uuid, user, source_addr, source_port, asset, login, channel_types, start, end, end_reason, state, recording, bytes_in, bytes_out)
	VALUES ('0b7e6c1a-0000-4000-8000-000000000001', 'alice', '127.0.0.1', 40001, 'web01', 'root', 'session', 1795000000, 1795000600, 'client closed', 'closed', 'recordings/one.ghrec', 120, 4096);
INSERT INTO sessions (uuid, user, source_addr, source_port, asset, login, channel_types, start, state)
	VALUES ('0b7e6c1a-0000-4000-8000-000000000002', 'bob', '::1', 40002, 'db01', 'postgres', 'session,sftp', 1795001000, 'active');
INSERT INTO sessions (uuid, user, source_addr, source_port, asset, login, start, end, end_reason, state)
	VALUES ('0b7e6c1a-0000-4000-8000-000000000003', 'alice', '10.1.2.3', 50000, 'db01', 'postgres', 1795002000, 1795002005, 'grant denied', 'closed');
INSERT INTO channels (session_id, num, type, command, opened, closed, exit_status)
	VALUES (1, 0, 'exec', 'uptime', 1795000001, 1795000002, 0), (1, 1, 'shell', NULL, 1795000003, 1795000600, NULL);" ||
	die "insert sessions"

expect_ok gh_admin session list
expect_match "row 1" "$OUT" '^1 +alice +127\.0\.0\.1:40001 +web01 +root +2026-[0-9-]+T[0-9:]+Z +2026-[0-9-]+T[0-9:]+Z +closed +client closed$'
expect_match "row 2" "$OUT" '^2 +bob +\[::1\]:40002 +db01 +postgres +2026-[^ ]+ +- +active +-$'
expect_ok gh_admin --json session list
expect_json '[s["id"] for s in d] == [1, 2, 3]'
expect_json 'd[0]["bytes_in"] == 120 and d[0]["bytes_out"] == 4096 and d[0]["start"] == "2026-11-18T11:06:40Z"'
expect_ok gh_admin --json session list --user alice
expect_json '[s["id"] for s in d] == [1, 3]'
expect_ok gh_admin --json session list --asset db01
expect_json '[s["id"] for s in d] == [2, 3]'
expect_ok gh_admin --json session list --active
expect_json '[s["id"] for s in d] == [2]'
expect_ok gh_admin --json session list --user alice --asset db01
expect_json '[s["id"] for s in d] == [3]'
expect_ok gh_admin --json session list --user nobody
expect_json 'd == []'
expect_fail 2 gh_admin session list --state closed
expect_contains "unknown option" "$ERR" "unknown option '--state'"

expect_ok gh_admin session show 1
expect_match "show user" "$OUT" '^User: +alice$'
expect_match "show source" "$OUT" '^Source: +127\.0\.0\.1:40001$'
expect_match "show recording" "$OUT" '^Recording: +recordings/one\.ghrec$'
expect_match "show channel exec" "$OUT" '^0 +exec +2026-[^ ]+ +2026-[^ ]+ +0 +uptime$'
expect_match "show channel shell" "$OUT" '^1 +shell +2026-[^ ]+ +2026-[^ ]+ +- +-$'
expect_ok gh_admin session show 0b7e6c1a-0000-4000-8000-000000000002 --json
expect_json 'd["id"] == 2 and d["state"] == "active" and d["end"] is None and d["channels"] == "session,sftp" and d["channel_list"] == []'
expect_ok gh_admin --json session show 1
expect_json '[c["type"] for c in d["channel_list"]] == ["exec", "shell"] and d["channel_list"][0]["exit_status"] == 0'
expect_fail 1 gh_admin session show 99
expect_contains "unknown id" "$ERR" "session '99' not found"
expect_fail 1 gh_admin session show no-such-uuid
expect_fail 2 gh_admin session show
expect_contains "missing id" "$ERR" "missing session ID"
echo "t_admin_session: ok"
