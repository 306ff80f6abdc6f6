#!/bin/bash
# Scenario: the audit chain head is anchored outside the database. The daemon
# anchors the head at start, every audit_anchor_every events (here 3, from the
# connection processes that append auth.fail events) and at stop, into the
# JSON-lines file. Then the database is rewritten consistently (triggers
# dropped, a row altered, every hash recomputed with the formula of
# docs/audit.md): a plain `audit verify` passes, `audit verify --anchors`
# fails and names the anchor. Syslog-style lines are accepted as well.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'audit_jsonl = audit.jsonl' 'audit_anchor_every = 3' 'audit_syslog = no'
gh_user bob
start_gatehoused
J=$GH_DATA/audit.jsonl
gh_wait_for 10 grep -q '"reason":"start"' "$J" || gh_fail "no start anchor: $(cat "$J" 2>/dev/null)"

# Failed logins: auth.fail events appended by the connection processes.
for i in 1 2 3 4; do
	GH_ASKPASS_LOG=$GH_T/ap-$i.log GH_PW='Wrong-Passw0rd!' gh_ssh_cmd "ghost$i@x@web01" true
	[ "$RC" -ne 0 ] || gh_fail "unknown user accepted"
done
gh_wait_for 10 grep -q '"reason":"every"' "$J" || gh_fail "no per-N anchor: $(cat "$J")"
kill -TERM "$GH_PID"
gh_wait_for 20 grep -q '"reason":"stop"' "$J" || gh_fail "no stop anchor: $(cat "$J")"
gh_wait_for 20 bash -c "! kill -0 $GH_PID 2>/dev/null" || gh_fail "daemon did not stop"

# Every per-N anchor is at a multiple of 3; each anchor names a real row.
$PY - "$J" <<'PYEOF' || gh_fail "anchor lines: $(grep anchor "$J")"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if '"audit.anchor"' in l]
assert {x["reason"] for x in a} >= {"start", "every", "stop"}, a
for x in a:
    assert len(x["hash"]) == 64 and x["id"] > 0, x
    if x["reason"] == "every":
        assert x["id"] % 3 == 0, x
PYEOF
grep '"audit.anchor"' "$J" >"$GH_T/anchors.jsonl"

"$GHA" -d "$GH_DATA" audit verify --anchors "$GH_T/anchors.jsonl" >"$GH_T/v1.out" 2>&1 ||
	gh_fail "verify --anchors on the intact database: $(cat "$GH_T/v1.out")"
gh_expect_match "anchors counted" "$(cat "$GH_T/v1.out")" 'anchors match'

# The same anchors as syslog lines (RFC 5424 structured data).
$PY - "$GH_T/anchors.jsonl" >"$GH_T/anchors.syslog" <<'PYEOF'
import json, sys
for l in open(sys.argv[1]):
    x = json.loads(l)
    print('<133>1 %s bastion gatehouse 42 audit.anchor [gatehouse@32473 id="%d" hash="%s" reason="%s"] %s'
          % (x["ts"], x["id"], x["hash"], x["reason"], l.strip()))
PYEOF
"$GHA" -d "$GH_DATA" audit verify --anchors "$GH_T/anchors.syslog" >"$GH_T/v2.out" 2>&1 ||
	gh_fail "verify --anchors (syslog lines): $(cat "$GH_T/v2.out")"

# An attacker with the file: drop the triggers, alter row 2, recompute the
# whole chain, restore the triggers.
$PY - "$GH_DATA/gatehouse.db" <<'PYEOF' || gh_fail "rewrite failed"
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER audit_no_update")
db.execute("UPDATE audit SET actor = 'someone-else' WHERE id = 2")
prev = "0" * 64
rows = db.execute("SELECT id, ts, actor, source, type, object, result, importance, detail FROM audit ORDER BY id").fetchall()
for r in rows:
    h = hashlib.sha256(prev.encode())
    for f in [str(r[0])] + [x if x is not None else "" for x in r[1:]]:
        b = f.encode()
        h.update(struct.pack(">Q", len(b)) + b)
    db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, h.hexdigest(), r[0]))
    prev = h.hexdigest()
db.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END")
db.commit()
PYEOF
"$GHA" -d "$GH_DATA" audit verify >"$GH_T/v3.out" 2>&1 ||
	gh_fail "the consistent rewrite should pass a plain verify: $(cat "$GH_T/v3.out")"
first=$(head -1 "$GH_T/anchors.jsonl" | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
RC=0
"$GHA" -d "$GH_DATA" audit verify --anchors "$GH_T/anchors.jsonl" >"$GH_T/v4.out" 2>&1 || RC=$?
gh_expect_eq "verify --anchors after the rewrite" "$RC" 1
gh_expect_match "names the anchor" "$(cat "$GH_T/v4.out")" "anchor id=$first hash=.*database rewritten"
RC=0
"$GHA" -d "$GH_DATA" audit verify --anchors "$GH_T/anchors.syslog" >"$GH_T/v5.out" 2>&1 || RC=$?
gh_expect_eq "verify --anchors (syslog) after the rewrite" "$RC" 1

# Truncation: an anchor beyond the head names a missing row.
printf '{"id":999999,"hash":"%s"}\n' "$(printf 'a%.0s' {1..64})" >"$GH_T/far.jsonl"
RC=0
"$GHA" -d "$GH_DATA" audit verify --anchors "$GH_T/far.jsonl" >"$GH_T/v6.out" 2>&1 || RC=$?
gh_expect_eq "anchor beyond the head" "$RC" 1
gh_expect_match "missing row" "$(cat "$GH_T/v6.out")" 'row 999999 is missing'
# A file without anchors proves nothing and fails.
echo 'hello' >"$GH_T/none.txt"
RC=0
"$GHA" -d "$GH_DATA" audit verify --anchors "$GH_T/none.txt" >"$GH_T/v7.out" 2>&1 || RC=$?
gh_expect_eq "no anchors" "$RC" 1
gh_expect_match "no anchors message" "$(cat "$GH_T/v7.out")" 'no anchors found'
echo "t_audit_anchors: ok"
