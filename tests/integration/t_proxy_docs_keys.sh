#!/bin/bash
# Scenario: the daemon's documentation cannot drift from the configuration
# table: every key that `gatehouse-admin init` writes (generated from
# common/config.c) is documented in docs/gatehoused.md, no key documented
# there is unknown, and contrib/gatehouse.conf.sample is the generated file
# (regenerate with contrib/gen-sample-conf.sh).
. "$(dirname "$0")/lib-ssh.sh"

# A plain init (gh_data_init appends test settings to the file).
conf=$GH_T/plain/gatehouse.conf
gh_random_password | "$GHA" -d "$GH_T/plain" init --password-stdin --totp-secret "$(gh_random_secret)" \
	>"$GH_T/init.out" 2>&1 || gh_fail "init: $(cat "$GH_T/init.out")"
mapfile -t keys < <(sed -nE 's/^# ([a-z_]+) =.*/\1/p' "$conf")
[ "${#keys[@]}" -ge 20 ] || gh_fail "only ${#keys[@]} keys found in the generated gatehouse.conf"
doc=$GH_SRC/docs/gatehoused.md
for k in "${keys[@]}"; do
	grep -q "^| \`$k\` |" "$doc" || gh_fail "config key $k is not documented in docs/gatehoused.md"
done
mapfile -t documented < <(sed -nE 's/^\| `([a-z_]+)` \| .*/\1/p' "$doc" | sort -u)
for k in "${documented[@]}"; do
	printf '%s\n' "${keys[@]}" | grep -qx "$k" || gh_fail "docs/gatehoused.md documents '$k', which is no config key"
done
diff <(tail -n +5 "$GH_SRC/contrib/gatehouse.conf.sample") "$conf" >"$GH_T/sample.diff" ||
	gh_fail "contrib/gatehouse.conf.sample is stale (run contrib/gen-sample-conf.sh): $(head -20 "$GH_T/sample.diff")"
echo "t_proxy_docs_keys: ok (${#keys[@]} keys)"
