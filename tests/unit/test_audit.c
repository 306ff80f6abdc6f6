/* The audit chain: appends verify; tampering through raw sqlite (with the
 * triggers dropped, as an attacker holding the file could) is caught at the
 * right row; the triggers refuse UPDATE and DELETE otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/sha.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/store.h"

static char dir[64];
static char dbpath[128];
static struct store *st;

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/gh-audit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/gatehouse.db", dir);
	assert_int_equal(store_open(dbpath, 1, &st), 0);
	return 0;
}

static int
teardown(void **state)
{
	char p[160];
	const char *suffix[] = {"", "-wal", "-shm"};

	audit_set_sink(NULL, NULL);
	store_close(st);
	st = NULL;
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
		unlink(p);
	}
	unlink("/tmp/gh-audit-export.jsonl");
	rmdir(dir);
	return 0;
}

static void
append_n(int n)
{
	char object[32];
	struct audit_event ev = {
	        .actor = "admin",
	        .source = "cli",
	        .type = "user.add",
	        .result = "ok",
	        .importance = AUDIT_NOTICE,
	};

	for (int i = 0; i < n; i++) {
		int64_t id = 0;
		snprintf(object, sizeof(object), "user:u%d", i);
		ev.object = object;
		ev.detail = i % 2 ? "{\"role\":\"operator\"}" : NULL;
		assert_int_equal(audit_append(st, &ev, &id), 0);
	}
}

static int
raw(const char *sql)
{
	return sqlite3_exec(store_db(st), sql, NULL, NULL, NULL);
}

static void
expect_tamper(int64_t want_id, const char *want_why)
{
	int64_t bad = -1, rows = -1;
	char why[200];

	assert_int_equal(audit_verify(st, &bad, &rows, why, sizeof(why)), ERR_TAMPER);
	assert_int_equal(bad, want_id);
	if (strstr(why, want_why) == NULL)
		fail_msg("reason '%s' lacks '%s'", why, want_why);
}

static void
test_append_and_verify(void **state)
{
	int64_t bad = -1, rows = -1;
	char why[200] = "x";

	assert_int_equal(audit_verify(st, &bad, &rows, why, sizeof(why)), 0);
	assert_int_equal(rows, 0);
	append_n(1);
	assert_int_equal(audit_verify(st, &bad, &rows, why, sizeof(why)), 0);
	assert_int_equal(rows, 1);
	append_n(49);
	assert_int_equal(audit_verify(st, &bad, &rows, why, sizeof(why)), 0);
	assert_int_equal(rows, 50);
	assert_int_equal(bad, 0);
	assert_string_equal(why, "");
}

/* Recompute row 1's hash independently, as docs/audit.md describes it. */
static void
test_hash_construction_documented(void **state)
{
	sqlite3_stmt *stmt = NULL;
	unsigned char buf[1024], md[SHA256_DIGEST_LENGTH];
	char hex[65];
	size_t o = 0;
	const char *f[9];
	char prev[65];

	append_n(1);
	assert_int_equal(sqlite3_prepare_v2(store_db(st),
	                                    "SELECT id, ts, actor, source, type, object, result, importance,"
	                                    " coalesce(detail, ''), prev_hash, hash FROM audit WHERE id = 1",
	                                    -1, &stmt, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	snprintf(prev, sizeof(prev), "%s", (const char *)sqlite3_column_text(stmt, 9));
	assert_string_equal(prev, "0000000000000000000000000000000000000000000000000000000000000000");
	memcpy(buf, prev, 64);
	o = 64;
	f[0] = "1";
	for (int i = 1; i < 9; i++)
		f[i] = (const char *)sqlite3_column_text(stmt, i);
	assert_string_equal(f[7], "notice");
	assert_int_equal(strlen(f[1]), 24); /* 2026-11-21T05:54:44.123Z */
	assert_int_equal(f[1][23], 'Z');
	assert_int_equal(f[1][19], '.');
	for (int i = 0; i < 9; i++) {
		uint64_t len = strlen(f[i]);
		for (int b = 0; b < 8; b++)
			buf[o++] = (unsigned char)(len >> (56 - 8 * b));
		memcpy(buf + o, f[i], len);
		o += len;
	}
	SHA256(buf, o, md);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(hex, (const char *)sqlite3_column_text(stmt, 10));
	sqlite3_finalize(stmt);
}

static void
test_triggers_refuse(void **state)
{
	append_n(3);
	assert_int_not_equal(raw("UPDATE audit SET actor = 'mallory' WHERE id = 2"), SQLITE_OK);
	assert_int_not_equal(raw("DELETE FROM audit WHERE id = 2"), SQLITE_OK);
	assert_int_equal(audit_verify(st, NULL, NULL, NULL, 0), 0);
}

static void
test_altered_row(void **state)
{
	append_n(10);
	assert_int_equal(raw("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"), SQLITE_OK);
	assert_int_equal(raw("UPDATE audit SET result = 'fail' WHERE id = 3"), SQLITE_OK);
	expect_tamper(3, "row 3: hash mismatch (row altered)");
}

static void
test_altered_row_rehashed(void **state)
{
	char sql[256];

	append_n(10);
	assert_int_equal(raw("DROP TRIGGER audit_no_update"), SQLITE_OK);
	/* The attacker also replaces row 3's hash: row 4 no longer links. */
	snprintf(sql, sizeof(sql), "UPDATE audit SET hash = '%064d' WHERE id = 3", 7);
	assert_int_equal(raw(sql), SQLITE_OK);
	expect_tamper(3, "hash mismatch");
}

static void
test_deleted_row(void **state)
{
	append_n(10);
	assert_int_equal(raw("DROP TRIGGER audit_no_delete"), SQLITE_OK);
	assert_int_equal(raw("DELETE FROM audit WHERE id = 5"), SQLITE_OK);
	expect_tamper(5, "id gap after row 4 (row deleted)");
}

static void
test_deleted_first_row(void **state)
{
	append_n(4);
	assert_int_equal(raw("DROP TRIGGER audit_no_delete"), SQLITE_OK);
	assert_int_equal(raw("DELETE FROM audit WHERE id = 1"), SQLITE_OK);
	expect_tamper(1, "id gap before row 2");
}

static void
test_deleted_and_renumbered(void **state)
{
	append_n(10);
	assert_int_equal(raw("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"), SQLITE_OK);
	/* Hide the gap by renumbering: the chain link still breaks. */
	assert_int_equal(raw("DELETE FROM audit WHERE id = 5"), SQLITE_OK);
	assert_int_equal(raw("UPDATE audit SET id = id - 1 WHERE id > 5"), SQLITE_OK);
	expect_tamper(5, "row 5: previous hash does not match row 4");
}

static void
test_forged_insert(void **state)
{
	append_n(6);
	/* Appended at the end with a made-up hash. */
	assert_int_equal(raw("INSERT INTO audit (id, ts, actor, source, type, object, result, importance,"
	                     " prev_hash, hash) SELECT 7, '2026-01-01T00:00:00.000Z', 'admin', 'cli', 'user.remove',"
	                     " 'user:x', 'ok', 'info', hash, hash FROM audit WHERE id = 6"),
	                 SQLITE_OK);
	expect_tamper(7, "row 7: hash mismatch");
}

static void
test_forged_insert_beyond_end(void **state)
{
	append_n(6);
	assert_int_equal(raw("INSERT INTO audit (id, ts, actor, source, type, object, result, importance,"
	                     " prev_hash, hash) VALUES (9, 't', 'a', 's', 't', 'o', 'ok', 'info', 'p', 'h')"),
	                 SQLITE_OK);
	expect_tamper(7, "id gap after row 6");
}

static void
test_single_row_altered(void **state)
{
	append_n(1);
	assert_int_equal(raw("DROP TRIGGER audit_no_update"), SQLITE_OK);
	assert_int_equal(raw("UPDATE audit SET detail = '{}' WHERE id = 1"), SQLITE_OK);
	expect_tamper(1, "row 1: hash mismatch");
}

static int sink_calls;
static int64_t sink_last_id;

static void
sink(const struct audit_event *ev, int64_t id, const char *ts, void *arg)
{
	sink_calls++;
	sink_last_id = id;
	assert_ptr_equal(arg, &sink_calls);
	assert_non_null(ts);
	if (strcmp(ev->type, "user.add") != 0 && strcmp(ev->type, "kept") != 0)
		fail_msg("sink saw a rolled-back event '%s'", ev->type);
}

static void
test_sink_and_invalid(void **state)
{
	struct audit_event bad = {.actor = "a", .source = "s", .type = NULL, .object = "o", .result = "ok"};

	audit_set_sink(sink, &sink_calls);
	sink_calls = 0;
	append_n(3);
	assert_int_equal(sink_calls, 3);
	assert_int_equal(sink_last_id, 3);
	assert_int_equal(audit_append(st, &bad, NULL), ERR_INVALID);
	assert_int_equal(sink_calls, 3);
	/* in_tx without a transaction is a caller bug. */
	bad.type = "x";
	assert_int_equal(audit_append_in_tx(st, &bad, NULL), ERR_INVALID);
	/* A rolled-back event never reaches the sink; a committed one does,
	 * after the commit. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(audit_append_in_tx(st, &bad, NULL), 0);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(sink_calls, 3);
	bad.type = "kept";
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(audit_append_in_tx(st, &bad, NULL), 0);
	assert_int_equal(sink_calls, 3);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(sink_calls, 4);
	assert_int_equal(sink_last_id, 4);
	/* audit_append (own transaction) nested in the caller's: same rule. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(audit_append(st, &bad, NULL), 0);
	assert_int_equal(sink_calls, 4);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(sink_calls, 4);
	assert_int_equal(audit_verify(st, NULL, NULL, NULL, 0), 0);
	assert_string_equal(audit_importance_name(AUDIT_CRITICAL), "critical");
}

static void
test_export_jsonl(void **state)
{
	FILE *f = NULL;
	char line[1024];
	int n = 0;

	append_n(4);
	f = fopen("/tmp/gh-audit-export.jsonl", "w+");
	assert_non_null(f);
	assert_int_equal(audit_export_jsonl(st, 0, NULL, f), 0);
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		assert_non_null(strstr(line, "\"type\":\"user.add\""));
		assert_non_null(strstr(line, "\"hash\":\""));
		if (n == 2)
			assert_non_null(strstr(line, "\"detail\":{\"role\":\"operator\"}"));
	}
	assert_int_equal(n, 4);
	fclose(f);
	f = fopen("/tmp/gh-audit-export.jsonl", "w+");
	assert_non_null(f);
	/* Filters: a type with no events, and a time in the far future. */
	assert_int_equal(audit_export_jsonl(st, 0, "auth.fail", f), 0);
	assert_int_equal(audit_export_jsonl(st, 4102444800LL, NULL, f), 0);
	assert_int_equal(ftell(f), 0);
	fclose(f);
}

/* Several processes appending at once still make one unbroken chain. */
static void
test_concurrent_processes(void **state)
{
	pid_t pids[4];
	int64_t bad = -1, rows = -1;
	char why[200];

	append_n(1);
	for (int p = 0; p < 4; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct store *mine = NULL;
			struct audit_event ev = {
			        .actor = "a", .source = "cli", .type = "t", .object = "o", .result = "ok"};
			int fails = 0;
			if (store_open(dbpath, 0, &mine) != 0)
				_exit(2);
			for (int i = 0; i < 25; i++)
				fails += audit_append(mine, &ev, NULL) != 0;
			store_close(mine);
			_exit(fails ? 1 : 0);
		}
	}
	for (int p = 0; p < 4; p++) {
		int status = 0;
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(audit_verify(st, &bad, &rows, why, sizeof(why)), 0);
	assert_int_equal(rows, 101);
}

/* ---- anchors ---- */

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_anchor_parse(void **state)
{
	char hex[AUDIT_HASH_HEX + 1];
	int64_t id = 0;

	/* The JSON line of an audit.anchor message. */
	assert_int_equal(audit_anchor_parse("{\"type\":\"audit.anchor\",\"ts\":\"x\",\"id\":42,\"hash\":\"" H64
	                                    "\",\"reason\":\"every\"}",
	                                    &id, hex),
	                 1);
	assert_int_equal(id, 42);
	assert_string_equal(hex, H64);
	/* A minimal JSON anchor, leading blanks, upper-case hex normalised. */
	assert_int_equal(audit_anchor_parse("  {\"id\":7,\"hash\":\"0123456789ABCDEF0123456789abcdef0123456789abcdef"
	                                    "0123456789abcdef\"}",
	                                    &id, hex),
	                 1);
	assert_int_equal(id, 7);
	assert_string_equal(hex, H64);
	/* Plain text and RFC 5424 structured data (quoted values). */
	assert_int_equal(audit_anchor_parse("anchor id=9 hash=" H64, &id, hex), 1);
	assert_int_equal(id, 9);
	assert_int_equal(audit_anchor_parse("<133>1 2026-11-21T07:00:00.000Z h gatehouse 1 audit.anchor "
	                                    "[gatehouse@32473 id=\"1234\" hash=\"" H64 "\" reason=\"minute\"] {}",
	                                    &id, hex),
	                 1);
	assert_int_equal(id, 1234);
	/* Ordinary events are not anchors: a JSON event without hash, a
	 * syslog event with id= only, any other line. */
	assert_int_equal(audit_anchor_parse("{\"id\":3,\"type\":\"user.add\"}", &id, hex), 0);
	assert_int_equal(audit_anchor_parse("<85>1 - h gatehouse 1 user.add [gatehouse@32473 id=\"3\"] {}", &id, hex),
	                 0);
	assert_int_equal(audit_anchor_parse("", &id, hex), 0);
	assert_int_equal(audit_anchor_parse("kid=3 rehash=" H64, &id, hex), 0); /* not word starts */
	/* Text an operator controls never makes an anchor: a command record
	 * (JSON) or a syslog line whose message carries id=/hash= or the word
	 * audit.anchor, with another MSGID. */
	assert_int_equal(audit_anchor_parse("{\"record\":\"command\",\"command\":\"echo audit.anchor id=1 hash=" H64
	                                    "\"}",
	                                    &id, hex),
	                 0);
	assert_int_equal(audit_anchor_parse("<86>1 - h gatehouse 1 command [gatehouse@32473 session=\"x\"] "
	                                    "{\"command\":\"echo id=1 hash=" H64 " audit.anchor\"}",
	                                    &id, hex),
	                 0);
	assert_int_equal(
	        audit_anchor_parse("<86>1 - h gatehouse 1 user.add [gatehouse@32473 id=\"3\"] hash=abc", &id, hex), 0);
	/* An anchor's syslog line is read from its SD only. */
	assert_int_equal(audit_anchor_parse("<133>1 - h gatehouse 1 audit.anchor [gatehouse@32473 id=\"8\" hash=\"" H64
	                                    "\"] id=9 hash=bad",
	                                    &id, hex),
	                 1);
	assert_int_equal(id, 8);
	assert_int_equal(audit_anchor_parse("<133>1 - h gatehouse 1 audit.anchor [gatehouse@32473 id=\"8\"]", &id, hex),
	                 ERR_INVALID);
	/* Malformed anchors are errors, not silently skipped. */
	assert_int_equal(audit_anchor_parse("{\"id\":3,\"hash\":\"abc\"}", &id, hex), ERR_INVALID);
	assert_int_equal(audit_anchor_parse("{\"id\":\"3\",\"hash\":\"" H64 "\"}", &id, hex), ERR_INVALID);
	assert_int_equal(audit_anchor_parse("{\"id\":0,\"hash\":\"" H64 "\"}", &id, hex), ERR_INVALID);
	assert_int_equal(audit_anchor_parse("id=x hash=" H64, &id, hex), ERR_INVALID);
	assert_int_equal(audit_anchor_parse("id=5 hash=" H64 "00", &id, hex), ERR_INVALID);
	assert_int_equal(audit_anchor_parse("hash=" H64, &id, hex), ERR_INVALID);
	assert_int_equal(audit_anchor_parse("audit.anchor id=5", &id, hex), ERR_INVALID);
	assert_int_equal(audit_anchor_parse("{\"type\":\"audit.anchor\",\"id\":5}", &id, hex), ERR_INVALID);
	assert_int_equal(audit_anchor_parse("{\"type\":\"audit.anchor\",\"id\":5,\"ha", &id, hex), ERR_INVALID);
	assert_int_equal(audit_anchor_parse("{not json audit.anchor", &id, hex), 0);
	assert_int_equal(audit_anchor_parse("id=\"5 hash=" H64, &id, hex), ERR_INVALID);
}

static char sink_seen_hash[AUDIT_HASH_HEX + 1];

static void
hash_sink(const struct audit_event *ev, int64_t id, const char *ts, void *arg)
{
	const char *h = audit_sink_hash();

	(void)ev;
	(void)ts;
	(void)arg;
	sink_last_id = id;
	snprintf(sink_seen_hash, sizeof(sink_seen_hash), "%s", h != NULL ? h : "");
}

static void
test_anchor_head_check(void **state)
{
	char hex[AUDIT_HASH_HEX + 1], why[200];
	int64_t id = -1;
	struct audit_event ev = {.actor = "a", .source = "s", .type = "t", .object = "o", .result = "ok"};

	assert_int_equal(audit_head(st, &id, hex), 0);
	assert_int_equal(id, 0);
	assert_null(audit_sink_hash());
	audit_set_sink(hash_sink, NULL);
	append_n(5);
	assert_int_equal(audit_head(st, &id, hex), 0);
	assert_int_equal(id, 5);
	/* The sink sees the hash of the row it delivers (own transaction). */
	assert_string_equal(sink_seen_hash, hex);
	assert_null(audit_sink_hash());
	/* ... and inside a caller's transaction, delivered at commit. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(audit_append_in_tx(st, &ev, NULL), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(audit_head(st, &id, hex), 0);
	assert_int_equal(id, 6);
	assert_int_equal(sink_last_id, 6);
	assert_string_equal(sink_seen_hash, hex);
	assert_int_equal(audit_anchor_check(st, 6, hex, why, sizeof(why)), 0);
	/* A different hash, a missing row. */
	assert_int_equal(audit_anchor_check(st, 5, hex, why, sizeof(why)), ERR_TAMPER);
	assert_non_null(strstr(why, "anchor id=5"));
	assert_non_null(strstr(why, "database rewritten"));
	assert_int_equal(audit_anchor_check(st, 7, hex, why, sizeof(why)), ERR_TAMPER);
	assert_non_null(strstr(why, "row 7 is missing"));
}

static void
test_retention_prefix(void **state)
{
	int64_t removed = -1, base = -1, rows = 0;
	char hex[AUDIT_HASH_HEX + 1], hex4[AUDIT_HASH_HEX + 1], why[200];
	int64_t id = 0;

	append_n(5);
	assert_int_equal(audit_retention_prefix(st, "9999-01-01T00:00:00.000Z", &removed, &base), ERR_INVALID);
	assert_int_equal(store_begin(st), 0);
	/* Nothing older than 1970: nothing removed. */
	assert_int_equal(audit_retention_prefix(st, "1970-01-01T00:00:00.000Z", &removed, &base), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(base, 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(audit_anchor_check(st, 4, "x", why, sizeof(why)), ERR_TAMPER);
	{
		sqlite3_stmt *q = NULL;
		assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT hash FROM audit WHERE id = 4", -1, &q, NULL),
		                 0);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		snprintf(hex4, sizeof(hex4), "%s", (const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
	}
	/* Everything expired: all rows but the head go; row 4 is the base. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(audit_retention_prefix(st, "9999-01-01T00:00:00.000Z", &removed, &base), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(removed, 4);
	assert_int_equal(base, 4);
	assert_int_equal(audit_verify(st, NULL, &rows, why, sizeof(why)), 0);
	assert_int_equal(rows, 1);
	append_n(2);
	assert_int_equal(audit_verify(st, NULL, &rows, why, sizeof(why)), 0);
	assert_int_equal(rows, 3);
	assert_int_equal(audit_head(st, &id, hex), 0);
	assert_int_equal(id, 7);
	/* Anchors: the base checks against its hash, older ones are retired. */
	assert_int_equal(audit_anchor_check(st, 4, hex4, why, sizeof(why)), 0);
	assert_int_equal(audit_anchor_check(st, 4, hex, why, sizeof(why)), ERR_TAMPER);
	assert_int_equal(audit_anchor_check(st, 2, hex, why, sizeof(why)), AUDIT_ANCHOR_RETIRED);
	/* The guard is down again: a plain DELETE is refused, the base fixed. */
	assert_int_not_equal(raw("DELETE FROM audit WHERE id = 5"), SQLITE_OK);
	assert_int_not_equal(raw("UPDATE audit_base SET last_id = 1"), SQLITE_OK);
	/* A forged base (raw access, triggers dropped) breaks the first link. */
	assert_int_equal(raw("DROP TRIGGER audit_base_guard_upd; UPDATE audit_base SET hash = '" H64 "'"), SQLITE_OK);
	expect_tamper(5, "previous hash is not the retention base (row 4)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_append_and_verify, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hash_construction_documented, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_triggers_refuse, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_altered_row, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_altered_row_rehashed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_deleted_row, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_deleted_first_row, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_deleted_and_renumbered, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_forged_insert, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_forged_insert_beyond_end, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_single_row_altered, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sink_and_invalid, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_export_jsonl, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_concurrent_processes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_anchor_parse, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_anchor_head_check, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_retention_prefix, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
