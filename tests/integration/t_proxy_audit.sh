#!/bin/bash
# Scenario: every attempt is an audit event with the source address and port
# (success, failure, refusal), the events name the actor and object, and the
# hash chain still verifies after concurrent connection processes appended
# to it.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
for u in xena xena2 xena3 xena4; do
	gh_user $u
done
gh_grant xena web01 "$TGT_LOGIN"
gh_grant xena2 web01 "$TGT_LOGIN"
gh_grant xena3 web01 "$TGT_LOGIN"
start_gatehoused

gh_ssh_cmd "xena@$TGT_LOGIN@web01" 'true'
gh_expect_eq "success" "$RC" 0
GH_PW='Wrong-Passw0rd!' gh_ssh_cmd "xena2@$TGT_LOGIN@web01" 'true'
[ "$RC" -ne 0 ] || gh_fail "wrong password accepted"
gh_ssh_cmd "xena4@$TGT_LOGIN@web01" 'true'
[ "$RC" -ne 0 ] || gh_fail "xena4 has no grant but got in"
# Concurrent logins append from several processes at once.
pids=()
for i in 1 2 3; do
	GH_PW="Wrong-Passw0rd-$i!" gh_ssh "xena3@$TGT_LOGIN@web01" true </dev/null >/dev/null 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done

gh_expect_audit 1 actor=xena 'type=auth*' result=ok 'source=127.0.0.1:[0-9]*'
gh_expect_audit 1 actor=xena2 'type=auth*' 'result!=ok' 'source=127.0.0.1:[0-9]*'
gh_expect_audit 3 actor=xena3 'type=auth*' 'result!=ok' 'source=127.0.0.1:[0-9]*'
gh_expect_audit 1 actor=xena4 'object=*web01*' 'result!=ok' 'source=127.0.0.1:[0-9]*'
# Source ports differ per connection: the port is really the client's.
ports=$($PY -c '
import json, sys
t = open(sys.argv[1]).read().strip()
try: d = json.loads(t)
except ValueError: d = [json.loads(l) for l in t.splitlines() if l.strip()]
print(len({e["source"] for e in d if e.get("actor") == "xena3"}))' "$GH_T/audit.json")
[ "$ports" -ge 3 ] || gh_fail "three connections of xena3 share $ports source(s)"
gh_admin audit verify >"$GH_T/verify.out" 2>&1 || gh_fail "audit verify: $(cat "$GH_T/verify.out")"
echo "t_proxy_audit: ok"
