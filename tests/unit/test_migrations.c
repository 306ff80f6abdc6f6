/* Schema migrations: an old database is upgraded in place keeping its rows,
 * a newer one is refused, and a failing migration changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/schema.h"
#include "common/store-internal.h"
#include "common/store.h"

static char dir[64];
static char dbpath[128];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/gh-migr-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/gatehouse.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	char p[160];
	const char *suffix[] = {"", "-wal", "-shm", "-journal"};

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

static int64_t
user_version(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static int
table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *stmt = NULL;
	int found;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1,
	                                    &stmt, NULL),
	                 SQLITE_OK);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return found;
}

/* A database as version 1 of Gatehouse left it, with a user in it. */
static void
make_v1(void)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "INSERT INTO users (name, role, created) VALUES ('olduser', 'operator', 42);"
	                              "INSERT INTO groups (name, created) VALUES ('oldgroup', 42);"
	                              "PRAGMA user_version = 1;",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
}

static void
test_upgrade_v1_in_place(void **state)
{
	struct store *st = NULL;
	struct user_rec *u = NULL;
	int64_t gid = 0;

	assert_true(schema_migrations_count >= 2);
	make_v1();
	assert_int_equal(store_open(dbpath, 0, &st), 0);
	assert_int_equal(user_version(store_db(st)), store_schema_version());
	assert_true(table_exists(store_db(st), "sessions"));
	assert_true(table_exists(store_db(st), "channels"));
	assert_int_equal(store_user_get(st, "olduser", &u), 0);
	assert_int_equal(u->created, 42);
	user_rec_free(u);
	assert_int_equal(store_group_get_id(st, "oldgroup", &gid), 0);
	store_close(st);
	/* Opening again is a no-op. */
	assert_int_equal(store_open(dbpath, 0, &st), 0);
	assert_int_equal(user_version(store_db(st)), store_schema_version());
	store_close(st);
}

static void
test_newer_refused(void **state)
{
	struct store *st = NULL;
	sqlite3 *db = NULL;
	char sql[64];

	assert_int_equal(store_open(dbpath, 1, &st), 0);
	store_close(st);
	st = NULL;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_version() + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(dbpath, 0, &st), ERR_INVALID);
	assert_null(st);
}

static void
test_failing_migration_changes_nothing(void **state)
{
	sqlite3 *db = NULL;
	/* Step 2 succeeds partly (creates t2) and then fails: nothing of it,
	 * nor of step 1 run in the same upgrade, may remain. */
	const char *const broken[] = {
	        "CREATE TABLE t1 (x INTEGER);",
	        "CREATE TABLE t2 (y INTEGER); INSERT INTO no_such_table VALUES (1);",
	};
	const char *const good[] = {
	        "CREATE TABLE t1 (x INTEGER);",
	        "CREATE TABLE t2 (y INTEGER);",
	};

	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_not_equal(store_migrate(db, broken, 2), 0);
	assert_int_equal(user_version(db), 0);
	assert_false(table_exists(db, "t1"));
	assert_false(table_exists(db, "t2"));
	assert_true(sqlite3_get_autocommit(db)); /* no transaction left open */
	/* From version 1, only step 2 runs. */
	assert_int_equal(store_migrate(db, good, 1), 0);
	assert_int_equal(user_version(db), 1);
	assert_int_not_equal(store_migrate(db, broken, 2), 0);
	assert_int_equal(user_version(db), 1);
	assert_true(table_exists(db, "t1"));
	assert_false(table_exists(db, "t2"));
	assert_int_equal(store_migrate(db, good, 2), 0);
	assert_int_equal(user_version(db), 2);
	assert_true(table_exists(db, "t2"));
	/* A list shorter than the database's version: newer database. */
	assert_int_equal(store_migrate(db, good, 1), ERR_INVALID);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_upgrade_v1_in_place, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_newer_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_failing_migration_changes_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
