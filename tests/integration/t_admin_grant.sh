#!/bin/bash
# Scenario: grant add / list / remove. Every part of a grant is validated
# (rights, expiry, hours, CIDRs, names) and stored as given; lists filter by
# user (including the user's groups) and by asset.
. "$(dirname "$0")/lib.sh"
gh_setup
GH_IN=$(gh_password) expect_ok gh_admin user add alice --role operator --password-stdin
GH_IN=$(gh_password) expect_ok gh_admin user add bob --role operator --password-stdin
expect_ok gh_admin group add ops
expect_ok gh_admin group add web
expect_ok gh_admin group member add ops bob
expect_ok gh_admin asset add web01 --host 127.0.0.1 --group web
expect_ok gh_admin asset add db01 --host 127.0.0.2

# ---- add ----
expect_ok gh_admin grant add --user alice --asset web01 --login root
expect_contains "default grant" "$OUT" "grant 1 added: user:alice may use root on asset:web01 (shell,exec,upload,download)"
expect_eq "default rights row" "$(gh_sql "SELECT user_id IS NOT NULL, asset_id IS NOT NULL, login, rights, expires, hours IS NULL, sources IS NULL FROM grants WHERE id=1")" \
	"1|1|root|15|0|1|1"
expect_ok gh_admin grant add --group ops --asset-group web --login deploy --rights shell,forward \
	--expires 2099-12-31T18:00:00+08:00 --hours 'Mon-Fri 09:00-18:00' --from 10.0.0.0/8 --from 2001:db8::/32
expect_contains "full grant" "$OUT" "grant 2 added: group:ops may use deploy on asset-group:web (shell,forward)"
expect_eq "full grant row" "$(gh_sql "SELECT rights, expires, hours, sources FROM grants WHERE id=2")" \
	"17|4102394400|Mon-Fri 09:00-18:00|10.0.0.0/8,2001:db8::/32"
expect_ok gh_admin grant add --user alice --asset db01 --login postgres --rights exec --expires 2099-01-01
expect_eq "date-only expiry is UTC midnight" "$(gh_sql "SELECT expires FROM grants WHERE id=3")" 4070908800

# ---- bad input ----
expect_fail 2 gh_admin grant add --asset web01 --login root
expect_contains "no subject" "$ERR" "exactly one of --user U or --group G"
expect_fail 2 gh_admin grant add --user alice --group ops --asset web01 --login root
expect_contains "two subjects" "$ERR" "exactly one of --user U or --group G"
expect_fail 2 gh_admin grant add --user alice --login root
expect_contains "no target" "$ERR" "exactly one of --asset A or --asset-group AG"
expect_fail 2 gh_admin grant add --user alice --asset web01
expect_contains "no login" "$ERR" "missing --login"
expect_fail 2 gh_admin grant add --user alice --asset web01 --login root --rights shell,sudo
expect_contains "bad right" "$ERR" "invalid --rights 'shell,sudo'"
expect_contains "bad right named" "$ERR" 'unknown right "sudo"'
expect_fail 2 gh_admin grant add --user alice --asset web01 --login root --expires 'next tuesday'
expect_contains "bad date" "$ERR" "invalid --expires 'next tuesday'"
expect_fail 2 gh_admin grant add --user alice --asset web01 --login root --expires 2026-13-45
expect_contains "impossible date" "$ERR" "invalid --expires '2026-13-45'"
expect_fail 1 gh_admin grant add --user alice --asset web01 --login root --expires 2001-01-01
expect_contains "past date" "$ERR" "is in the past"
expect_fail 2 gh_admin grant add --user alice --asset web01 --login root --hours 'Mon-Fri 9-5'
expect_contains "bad hours" "$ERR" "invalid --hours 'Mon-Fri 9-5'"
expect_fail 2 gh_admin grant add --user alice --asset web01 --login root --hours 'Funday 09:00-10:00'
expect_contains "bad day" "$ERR" "invalid --hours"
expect_fail 2 gh_admin grant add --user alice --asset web01 --login root --from 10.0.0.0/33
expect_contains "bad cidr" "$ERR" "invalid --from '10.0.0.0/33'"
expect_fail 2 gh_admin grant add --user alice --asset web01 --login root --from 10.0.0.1/8
expect_contains "host bits" "$ERR" "host bits set"
expect_fail 2 gh_admin grant add --user alice --asset web01 --login root --from example.com
expect_contains "not an address" "$ERR" "not an IPv4 or IPv6 address"
expect_fail 1 gh_admin grant add --user nobody --asset web01 --login root
expect_contains "unknown user" "$ERR" "user 'nobody' not found"
expect_fail 1 gh_admin grant add --group nogroup --asset web01 --login root
expect_contains "unknown group" "$ERR" "group 'nogroup' not found"
expect_fail 1 gh_admin grant add --user alice --asset nosuch --login root
expect_contains "unknown asset" "$ERR" "asset 'nosuch' not found"
expect_fail 1 gh_admin grant add --user alice --asset-group nogroup --login root
expect_contains "unknown asset group" "$ERR" "asset group 'nogroup' not found"
expect_fail 1 gh_admin grant add --user alice --asset web01 --login 'root;id'
expect_contains "bad login" "$ERR" "invalid login 'root;id'"
expect_fail 2 gh_admin grant add --user alice --asset web01 --login root stray
expect_contains "stray arg" "$ERR" "unexpected argument 'stray'"
expect_eq "nothing added by bad input" "$(gh_sql "SELECT count(*) FROM grants")" 3

# ---- list ----
expect_ok gh_admin grant list
expect_match "list header" "$OUT" '^ID +TO +ON +LOGIN +RIGHTS +EXPIRES +HOURS +FROM$'
expect_match "list row 1" "$OUT" '^1 +user:alice +asset:web01 +root +shell,exec,upload,download +- +- +-$'
expect_match "list row 2" "$OUT" '^2 +group:ops +asset-group:web +deploy +shell,forward +2099-12-31T10:00:00Z +Mon-Fri 09:00-18:00 +10\.0\.0\.0/8,2001:db8::/32$'
expect_ok gh_admin --json grant list
expect_json '[g["id"] for g in d] == [1, 2, 3]'
expect_json 'd[1]["from"] == "10.0.0.0/8,2001:db8::/32" and d[1]["expires"] == "2099-12-31T10:00:00Z"'
expect_ok gh_admin --json grant list --user alice
expect_json '[g["id"] for g in d] == [1, 3]'
# bob's grants come through his group.
expect_ok gh_admin --json grant list --user bob
expect_json '[g["id"] for g in d] == [2]'
expect_ok gh_admin --json grant list --asset db01
expect_json '[g["id"] for g in d] == [3]'
expect_fail 1 gh_admin grant list --user nobody
expect_contains "list unknown user" "$ERR" "user 'nobody' not found"

# ---- remove ----
expect_ok gh_admin grant remove 3
expect_contains "remove" "$OUT" "grant 3 removed"
expect_fail 1 gh_admin grant remove 3
expect_contains "remove twice" "$ERR" "grant 3 not found"
expect_fail 2 gh_admin grant remove abc
expect_contains "bad id" "$ERR" "invalid grant ID 'abc'"
expect_fail 2 gh_admin grant remove
expect_ok gh_admin --json grant list
expect_json '[g["id"] for g in d] == [1, 2]'

expect_ok gh_admin audit list --json --type grant
expect_json '[(e["type"], e["object"]) for e in d if e["result"] == "ok"] == [("grant.add", "grant:1"), ("grant.add", "grant:2"), ("grant.add", "grant:3"), ("grant.remove", "grant:3")]'
expect_json 'd[1]["detail"]["from"] == "10.0.0.0/8,2001:db8::/32" and d[1]["detail"]["to"] == "group:ops"'
expect_json 'any(e["type"] == "grant.remove" and e["result"] == "fail" for e in d)'
echo "t_admin_grant: ok"
