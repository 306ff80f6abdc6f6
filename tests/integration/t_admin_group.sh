#!/bin/bash
# Scenario: group add / list / remove / member add / member remove, with
# duplicates, unknown names, bad names, and a group still used by a grant.
. "$(dirname "$0")/lib.sh"
gh_setup
GH_IN=$(gh_password) expect_ok gh_admin user add alice --role operator --password-stdin
GH_IN=$(gh_password) expect_ok gh_admin user add bob --role operator --password-stdin

expect_ok gh_admin group add ops
expect_contains "add" "$OUT" "group 'ops' added"
expect_ok gh_admin group add web-servers
expect_fail 1 gh_admin group add ops
expect_contains "duplicate" "$ERR" "group 'ops' already exists"
expect_fail 1 gh_admin group add 'o ps'
expect_contains "bad name" "$ERR" "invalid group name 'o ps'"
expect_fail 2 gh_admin group add
expect_contains "missing name" "$ERR" "missing group NAME"
expect_fail 2 gh_admin group add a b
expect_contains "extra arg" "$ERR" "unexpected argument 'b'"

expect_ok gh_admin group member add ops alice
expect_contains "member add" "$OUT" "user 'alice' added to group 'ops'"
expect_ok gh_admin group member add ops bob
expect_fail 1 gh_admin group member add ops alice
expect_contains "member twice" "$ERR" "already a member"
expect_fail 1 gh_admin group member add ops nobody
expect_contains "unknown user" "$ERR" "user 'nobody' not found"
expect_fail 1 gh_admin group member add nogroup alice
expect_contains "unknown group" "$ERR" "group 'nogroup' not found"
expect_fail 2 gh_admin group member add ops
expect_contains "member needs user" "$ERR" "missing GROUP USER"

expect_ok gh_admin asset add web01 --host 127.0.0.1 --group web-servers
expect_ok gh_admin group list
expect_match "list ops" "$OUT" '^ops +alice,bob +-$'
expect_match "list web" "$OUT" '^web-servers +- +web01$'
expect_ok gh_admin --json group list
expect_json 'd == [{"name": "ops", "users": ["alice", "bob"], "assets": []}, {"name": "web-servers", "users": [], "assets": ["web01"]}]'

expect_ok gh_admin group member remove ops bob
expect_contains "member remove" "$OUT" "user 'bob' removed from group 'ops'"
expect_fail 1 gh_admin group member remove ops bob
expect_contains "not a member" "$ERR" "not a member"
expect_ok gh_admin --json group list
expect_json 'd[0]["users"] == ["alice"]'

# A group named by a grant cannot vanish under it.
expect_ok gh_admin grant add --group ops --asset-group web-servers --login deploy
expect_fail 1 gh_admin group remove ops
expect_contains "in use" "$ERR" "used by 1 grant(s)"
expect_fail 1 gh_admin group remove web-servers
expect_contains "in use as asset group" "$ERR" "used by 1 grant(s)"
expect_ok gh_admin grant remove 1
expect_ok gh_admin group remove ops
expect_contains "removed" "$OUT" "group 'ops' removed"
expect_fail 1 gh_admin group remove ops
expect_contains "remove unknown" "$ERR" "group 'ops' not found"
expect_ok gh_admin --json group list
expect_json '[g["name"] for g in d] == ["web-servers"]'
expect_eq "memberships gone" "$(gh_sql "SELECT count(*) FROM group_members")" 0

expect_ok gh_admin audit list --json --type group
expect_json '[e["type"] for e in d if e["result"] == "ok"] == ["group.add", "group.add", "group.member.add", "group.member.add", "group.member.remove", "group.remove"]'
expect_json 'any(e["type"] == "group.remove" and e["result"] == "fail" for e in d)'
expect_json 'any(e["type"] == "group.member.add" and e["result"] == "fail" for e in d)'
echo "t_admin_group: ok"
