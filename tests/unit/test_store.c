/* The store: users, groups, assets, sealed target accounts and grants, each
 * against a fresh database in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/grant.h"
#include "common/err.h"
#include "common/secret.h"
#include "common/store.h"

struct fixture {
	char dir[64];
	char db[128];
	char key[128];
	struct store *st;
	struct secret_key *k;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gh-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/gatehouse.db", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/master.key", f->dir);
	assert_int_equal(store_open(f->db, 1, &f->st), 0);
	assert_int_equal(secret_key_create(f->key), 0);
	assert_int_equal(secret_key_load(f->key, &f->k), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];
	const char *suffix[] = {"/gatehouse.db", "/gatehouse.db-wal", "/gatehouse.db-shm", "/master.key"};

	store_close(f->st);
	secret_key_free(f->k);
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", f->dir, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t
add_user(struct store *st, const char *name, enum user_role role)
{
	struct user_rec u = {0};
	int64_t id = 0;

	u.name = (char *)name;
	u.role = role;
	u.pw_hash = (char *)"$y$hash-1";
	u.created = 1000;
	assert_int_equal(store_user_add(st, &u, &id), 0);
	assert_true(id > 0);
	return id;
}

static int64_t
add_asset(struct store *st, const char *name)
{
	struct asset_rec a = {0};
	int64_t id = 0;

	a.name = (char *)name;
	a.host = (char *)"127.0.0.1";
	a.port = 2200;
	assert_int_equal(store_asset_add(st, &a, &id), 0);
	return id;
}

static void
test_open_mode_and_version(void **state)
{
	struct fixture *f = *state;
	struct store *st2 = NULL;
	struct stat sb;
	sqlite3_stmt *stmt = NULL;

	assert_int_equal(stat(f->db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sqlite3_prepare_v2(store_db(f->st), "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), store_schema_version());
	sqlite3_finalize(stmt);
	assert_int_equal(sqlite3_prepare_v2(store_db(f->st), "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	/* create=0 on a missing file refuses rather than creating one. */
	assert_int_equal(store_open("/tmp/gh-store-does-not-exist/x.db", 0, &st2), ERR_NOTFOUND);
	assert_null(st2);
	/* A directory, or a file that is not a database, is refused cleanly. */
	assert_int_equal(store_open(f->dir, 0, &st2), ERR_INVALID);
	char junk[160];
	snprintf(junk, sizeof(junk), "%s/junk.db", f->dir);
	FILE *j = fopen(junk, "w");
	assert_non_null(j);
	for (int i = 0; i < 256; i++)
		fputs("this is not an sqlite database ", j);
	fclose(j);
	assert_int_equal(store_open(junk, 0, &st2), ERR_DB);
	assert_null(st2);
	unlink(junk);
}

static void
test_users_crud(void **state)
{
	struct fixture *f = *state;
	struct user_rec *u = NULL, **list = NULL;
	struct user_rec dup = {0};
	size_t n = 0;
	int64_t alice = add_user(f->st, "alice", ROLE_OPERATOR);
	int64_t bob = add_user(f->st, "bob", ROLE_AUDITOR);

	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u->id, alice);
	assert_string_equal(u->name, "alice");
	assert_int_equal(u->role, ROLE_OPERATOR);
	assert_int_equal(u->auth, USER_AUTH_LOCAL);
	assert_string_equal(u->pw_hash, "$y$hash-1");
	assert_int_equal(u->pw_changed, 1000);
	assert_int_equal(u->has_totp, 0);
	user_rec_free(u);
	u = NULL;
	assert_int_equal(store_user_get_by_id(f->st, bob, &u), 0);
	assert_string_equal(u->name, "bob");
	assert_int_equal(u->role, ROLE_AUDITOR);
	user_rec_free(u);
	u = NULL;
	assert_int_equal(store_user_get(f->st, "carol", &u), ERR_NOTFOUND);
	assert_null(u);

	dup.name = (char *)"alice";
	dup.role = ROLE_SUPERADMIN;
	assert_int_equal(store_user_add(f->st, &dup, NULL), ERR_EXISTS);

	assert_int_equal(store_user_set_pubkey(f->st, alice, "ssh-ed25519 AAAA test"), 0);
	assert_int_equal(store_user_set_locked(f->st, alice, 1), 0);
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_string_equal(u->pubkey, "ssh-ed25519 AAAA test");
	assert_int_equal(u->locked, 1);
	user_rec_free(u);
	u = NULL;
	assert_int_equal(store_user_set_locked(f->st, 9999, 1), ERR_NOTFOUND);

	assert_int_equal(store_user_list(f->st, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->name, "alice");
	assert_string_equal(list[1]->name, "bob");
	user_rec_list_free(list, n);

	enum user_role r;
	assert_int_equal(user_role_parse("auditor", &r), 0);
	assert_int_equal(r, ROLE_AUDITOR);
	assert_int_equal(user_role_parse("root", &r), ERR_INVALID);
	assert_string_equal(user_role_name(ROLE_SUPERADMIN), "superadmin");
}

static void
test_user_soft_removal(void **state)
{
	struct fixture *f = *state;
	struct user_rec *u = NULL, **list = NULL;
	struct user_rec again = {0};
	size_t n = 0;
	int64_t gid = 0;
	char **names = NULL;
	int64_t alice = add_user(f->st, "alice", ROLE_OPERATOR);

	assert_int_equal(store_group_add(f->st, "ops", &gid), 0);
	assert_int_equal(store_group_member_add(f->st, gid, alice), 0);
	assert_int_equal(store_user_remove(f->st, alice, 5000), 0);
	assert_int_equal(store_user_remove(f->st, alice, 5001), ERR_NOTFOUND);
	/* Still there, marked removed, credentials gone. */
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u->removed, 5000);
	assert_null(u->pw_hash);
	user_rec_free(u);
	assert_int_equal(store_user_list(f->st, &list, &n), 0);
	assert_int_equal(n, 0);
	user_rec_list_free(list, n);
	/* The name stays reserved. */
	again.name = (char *)"alice";
	again.role = ROLE_OPERATOR;
	assert_int_equal(store_user_add(f->st, &again, NULL), ERR_EXISTS);
	/* Membership went with the removal, and a removed user cannot rejoin. */
	assert_int_equal(store_group_members(f->st, gid, &names, &n), 0);
	assert_int_equal(n, 0);
	store_strv_free(names, n);
	assert_int_equal(store_group_member_add(f->st, gid, alice), ERR_NOTFOUND);
}

static void
test_password_history(void **state)
{
	struct fixture *f = *state;
	struct user_rec *u = NULL;
	char **h = NULL;
	size_t n = 0;
	int64_t id = add_user(f->st, "alice", ROLE_OPERATOR);

	assert_int_equal(store_user_set_password(f->st, id, "$y$hash-2", 1, 2000), 0);
	assert_int_equal(store_user_set_password(f->st, id, "$y$hash-3", 0, 3000), 0);
	assert_int_equal(store_user_set_password(f->st, id, "$y$hash-4", 0, 3000), 0);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_string_equal(u->pw_hash, "$y$hash-4");
	assert_int_equal(u->pw_changed, 3000);
	assert_int_equal(u->pw_temporary, 0);
	user_rec_free(u);
	/* Newest first, the current hash included. */
	assert_int_equal(store_user_password_history(f->st, id, 10, &h, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(h[0], "$y$hash-4");
	assert_string_equal(h[1], "$y$hash-3");
	assert_string_equal(h[2], "$y$hash-2");
	assert_string_equal(h[3], "$y$hash-1");
	store_strv_free(h, n);
	assert_int_equal(store_user_password_history(f->st, id, 2, &h, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(h[1], "$y$hash-3");
	store_strv_free(h, n);
	assert_int_equal(store_user_set_password(f->st, 4242, "$y$x", 0, 1), ERR_NOTFOUND);
}

static void
test_totp_step_replay(void **state)
{
	struct fixture *f = *state;
	struct user_rec *u = NULL;
	uint8_t *blob = NULL;
	size_t len = 0;
	const uint8_t sealed[] = {1, 2, 3, 4, 5};
	int64_t id = add_user(f->st, "alice", ROLE_OPERATOR);

	assert_int_equal(store_user_get_totp(f->st, id, &blob, &len), ERR_NOTFOUND);
	assert_int_equal(store_user_set_totp(f->st, id, sealed, sizeof(sealed)), 0);
	assert_int_equal(store_user_get_totp(f->st, id, &blob, &len), 0);
	assert_int_equal(len, sizeof(sealed));
	assert_memory_equal(blob, sealed, len);
	free(blob);

	assert_int_equal(store_user_advance_totp_step(f->st, id, 100), 0);
	assert_int_equal(store_user_advance_totp_step(f->st, id, 100), ERR_REPLAY);
	assert_int_equal(store_user_advance_totp_step(f->st, id, 99), ERR_REPLAY);
	assert_int_equal(store_user_advance_totp_step(f->st, id, 101), 0);
	assert_int_equal(store_user_advance_totp_step(f->st, 777, 5), ERR_NOTFOUND);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->has_totp, 1);
	assert_int_equal(u->totp_last_step, 101);
	user_rec_free(u);
	/* A second connection to the same file sees the same guard. */
	struct store *other = NULL;
	assert_int_equal(store_open(f->db, 0, &other), 0);
	assert_int_equal(store_user_advance_totp_step(other, id, 101), ERR_REPLAY);
	store_close(other);
	/* Clearing the secret resets the replay window. */
	assert_int_equal(store_user_set_totp(f->st, id, NULL, 0), 0);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->has_totp, 0);
	assert_int_equal(u->totp_last_step, 0);
	user_rec_free(u);
}

static void
test_failure_lockout_across_reopen(void **state)
{
	struct fixture *f = *state;
	struct user_rec *u = NULL;
	int locked = -1;
	int64_t id = add_user(f->st, "alice", ROLE_OPERATOR);

	for (int i = 0; i < 2; i++) {
		assert_int_equal(store_user_record_failure(f->st, id, 3, 600, 10000, 0, &locked), 0);
		assert_int_equal(locked, 0);
	}
	/* Failures are counted in the database, not in the process. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->db, 0, &f->st), 0);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->failed_count, 2);
	user_rec_free(u);
	assert_int_equal(store_user_record_failure(f->st, id, 3, 600, 10000, 0, &locked), 0);
	assert_int_equal(locked, 1);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->locked_until, 10600);
	assert_int_equal(u->failed_count, 0);
	user_rec_free(u);

	assert_int_equal(store_user_record_failure(f->st, id, 3, 600, 10001, 0, &locked), 0);
	assert_int_equal(locked, 0);
	assert_int_equal(store_user_record_success(f->st, id, 20000), 0);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->failed_count, 0);
	assert_int_equal(u->last_login, 20000);
	assert_int_equal(u->locked_until, 10600);
	user_rec_free(u);
	assert_int_equal(store_user_clear_lockout(f->st, id), 0);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->locked_until, 0);
	user_rec_free(u);
	assert_int_equal(store_user_record_failure(f->st, 31337, 3, 600, 1, 0, &locked), ERR_NOTFOUND);
}

/* A round takes its failure before it is judged (issue 15, finding 2): at
 * most `threshold` rounds are granted per lockout period, a failed round
 * keeps its failure and locks, success gives it back, and old failures
 * (a reservation left by a process that died) are forgotten. */
static void
test_attempt_slots(void **state)
{
	struct fixture *f = *state;
	struct user_rec *u = NULL;
	int granted = -1, locked = -1;
	int64_t id = add_user(f->st, "slots", ROLE_OPERATOR);

	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_user_attempt_begin(f->st, id, 3, 600, 1000, &granted), 0);
		assert_int_equal(granted, 1);
	}
	/* Three rounds are being judged: a fourth is not, even unlocked. */
	assert_int_equal(store_user_attempt_begin(f->st, id, 3, 600, 1001, &granted), 0);
	assert_int_equal(granted, 0);
	/* One of them fails: the count it took reaches the threshold. */
	assert_int_equal(store_user_record_failure(f->st, id, 3, 600, 1002, 1, &locked), 0);
	assert_int_equal(locked, 1);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->locked_until, 1602);
	user_rec_free(u);
	/* Locked: nothing is granted, even with the count reset. */
	assert_int_equal(store_user_attempt_begin(f->st, id, 3, 600, 1500, &granted), 0);
	assert_int_equal(granted, 0);
	/* The others end as failures meanwhile: counted already, no new lock. */
	assert_int_equal(store_user_record_failure(f->st, id, 3, 600, 1501, 1, &locked), 0);
	assert_int_equal(locked, 0);
	/* After the lock, a round is granted; success gives everything back. */
	assert_int_equal(store_user_attempt_begin(f->st, id, 3, 600, 1700, &granted), 0);
	assert_int_equal(granted, 1);
	assert_int_equal(store_user_record_success(f->st, id, 1701), 0);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->failed_count, 0);
	user_rec_free(u);
	/* A reservation nobody concludes is forgotten after the period. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_user_attempt_begin(f->st, id, 3, 600, 5000, &granted), 0);
	assert_int_equal(store_user_attempt_begin(f->st, id, 3, 600, 5599, &granted), 0);
	assert_int_equal(granted, 0);
	assert_int_equal(store_user_attempt_begin(f->st, id, 3, 600, 5600, &granted), 0);
	assert_int_equal(granted, 1);
	/* threshold 0: no lockout, always granted. */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(store_user_attempt_begin(f->st, id, 0, 600, 9000, &granted), 0);
		assert_int_equal(granted, 1);
	}
	assert_int_equal(store_user_attempt_begin(f->st, 31337, 3, 600, 1, &granted), ERR_NOTFOUND);
	assert_int_equal(granted, 0);
}

/* Many processes race for rounds on one database: exactly `threshold` of
 * them are granted (the check and the count are one transaction). */
static void
test_attempt_slots_race(void **state)
{
	struct fixture *f = *state;
	enum { N = 12, THRESHOLD = 5 };
	pid_t pids[N];
	int granted_total = 0, st;
	int64_t id = add_user(f->st, "racer", ROLE_OPERATOR);

	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct store *s2 = NULL;
			int granted = 0;

			if (store_open(f->db, 0, &s2) != 0)
				_exit(3);
			if (store_user_attempt_begin(s2, id, THRESHOLD, 600, 1000, &granted) != 0)
				_exit(4);
			store_close(s2);
			_exit(granted ? 1 : 0);
		}
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_true(WEXITSTATUS(st) <= 1);
		granted_total += WEXITSTATUS(st);
	}
	assert_int_equal(granted_total, THRESHOLD);
}

/* The one-time enrolment window: set at insert, closed by enrolling. */
static void
test_enrol_window(void **state)
{
	struct fixture *f = *state;
	struct user_rec u0 = {.name = "newbie", .role = ROLE_OPERATOR, .enrol_until = 777}, *u = NULL;
	int64_t id = 0;
	uint8_t blob[4] = {1, 2, 3, 4};

	assert_int_equal(store_user_add(f->st, &u0, &id), 0);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->enrol_until, 777);
	user_rec_free(u);
	assert_int_equal(store_user_set_enrol_until(f->st, id, 999), 0);
	assert_int_equal(store_user_set_totp(f->st, id, blob, sizeof(blob)), 0);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->enrol_until, 0);
	assert_int_equal(u->has_totp, 1);
	user_rec_free(u);
	/* A reset keeps whatever window the caller sets next. */
	assert_int_equal(store_user_set_enrol_until(f->st, id, 1234), 0);
	assert_int_equal(store_user_set_totp(f->st, id, NULL, 0), 0);
	assert_int_equal(store_user_get_by_id(f->st, id, &u), 0);
	assert_int_equal(u->enrol_until, 1234);
	assert_int_equal(u->has_totp, 0);
	user_rec_free(u);
	assert_int_equal(store_user_any_pam(f->st), 0);
	assert_int_equal(store_user_set_enrol_until(f->st, 31337, 1), ERR_NOTFOUND);
}

static void
test_groups(void **state)
{
	struct fixture *f = *state;
	int64_t g1 = 0, g2 = 0, got = 0, *ids = NULL;
	char **names = NULL;
	size_t n = 0;
	int64_t alice = add_user(f->st, "alice", ROLE_OPERATOR);
	int64_t bob = add_user(f->st, "bob", ROLE_OPERATOR);

	assert_int_equal(store_group_add(f->st, "ops", &g1), 0);
	assert_int_equal(store_group_add(f->st, "dba", &g2), 0);
	assert_int_equal(store_group_add(f->st, "ops", NULL), ERR_EXISTS);
	assert_int_equal(store_group_get_id(f->st, "dba", &got), 0);
	assert_int_equal(got, g2);
	assert_int_equal(store_group_get_id(f->st, "nope", &got), ERR_NOTFOUND);
	assert_int_equal(store_group_list(f->st, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "dba");
	assert_string_equal(names[1], "ops");
	store_strv_free(names, n);

	assert_int_equal(store_group_member_add(f->st, g1, bob), 0);
	assert_int_equal(store_group_member_add(f->st, g1, alice), 0);
	assert_int_equal(store_group_member_add(f->st, g2, alice), 0);
	assert_int_equal(store_group_member_add(f->st, g1, alice), ERR_EXISTS);
	/* A group that does not exist violates the foreign key. */
	assert_int_equal(store_group_member_add(f->st, 999, alice), ERR_INVALID);
	assert_int_equal(store_group_members(f->st, g1, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "alice");
	assert_string_equal(names[1], "bob");
	store_strv_free(names, n);
	assert_int_equal(store_user_group_ids(f->st, alice, &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], g1);
	assert_int_equal(ids[1], g2);
	free(ids);
	assert_int_equal(store_group_member_remove(f->st, g1, alice), 0);
	assert_int_equal(store_group_member_remove(f->st, g1, alice), ERR_NOTFOUND);
	assert_int_equal(store_group_remove(f->st, g1), 0);
	assert_int_equal(store_group_remove(f->st, g1), ERR_NOTFOUND);
	assert_int_equal(store_user_group_ids(f->st, bob, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
}

static void
test_assets(void **state)
{
	struct fixture *f = *state;
	struct asset_rec *a = NULL, **list = NULL;
	struct asset_rec bad = {0};
	int64_t gid = 0, *ids = NULL;
	char **names = NULL;
	size_t n = 0;
	int64_t web = add_asset(f->st, "web01");
	int64_t db = add_asset(f->st, "db01");

	assert_int_equal(store_asset_get(f->st, "web01", &a), 0);
	assert_int_equal(a->id, web);
	assert_string_equal(a->host, "127.0.0.1");
	assert_int_equal(a->port, 2200);
	assert_null(a->hostkey);
	asset_rec_free(a);
	assert_int_equal(store_asset_set_hostkey(f->st, web, "ssh-ed25519 AAAAC3"), 0);
	assert_int_equal(store_asset_get_by_id(f->st, web, &a), 0);
	assert_string_equal(a->hostkey, "ssh-ed25519 AAAAC3");
	asset_rec_free(a);
	assert_int_equal(store_asset_add(f->st, &(struct asset_rec){.name = "web01", .host = "h"}, NULL), ERR_EXISTS);
	/* The schema's CHECK refuses a port outside 1..65535. */
	bad.name = (char *)"bad";
	bad.host = (char *)"h";
	bad.port = 70000;
	assert_int_equal(store_asset_add(f->st, &bad, NULL), ERR_INVALID);

	assert_int_equal(store_group_add(f->st, "prod", &gid), 0);
	assert_int_equal(store_asset_group_add(f->st, gid, web), 0);
	assert_int_equal(store_asset_group_ids(f->st, web, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], gid);
	free(ids);
	assert_int_equal(store_asset_group_names(f->st, web, &names, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "prod");
	store_strv_free(names, n);

	assert_int_equal(store_asset_list(f->st, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->name, "db01");
	asset_rec_list_free(list, n);
	assert_int_equal(store_asset_remove(f->st, db, 7000), 0);
	assert_int_equal(store_asset_remove(f->st, db, 7000), ERR_NOTFOUND);
	assert_int_equal(store_asset_list(f->st, &list, &n), 0);
	assert_int_equal(n, 1);
	asset_rec_list_free(list, n);
	assert_int_equal(store_asset_get(f->st, "db01", &a), 0);
	assert_int_equal(a->removed, 7000);
	asset_rec_free(a);
}

static void
test_accounts_sealed(void **state)
{
	struct fixture *f = *state;
	struct account_rec *acc = NULL, **list = NULL;
	uint8_t *secret = NULL, *blob = NULL;
	size_t len = 0, n = 0;
	int64_t id1 = 0, id2 = 0;
	sqlite3_stmt *stmt = NULL;
	int64_t web = add_asset(f->st, "web01");
	const char pw[] = "S3cret-target-pw";
	const char pw2[] = "other password";

	assert_int_equal(
	        store_account_add(f->st, f->k, web, "root", ACCOUNT_PASSWORD, (const uint8_t *)pw, strlen(pw), &id1),
	        0);
	assert_int_equal(
	        store_account_add(f->st, f->k, web, "deploy", ACCOUNT_KEY, (const uint8_t *)pw2, strlen(pw2), &id2), 0);
	assert_int_equal(
	        store_account_add(f->st, f->k, web, "root", ACCOUNT_PASSWORD, (const uint8_t *)pw, strlen(pw), NULL),
	        ERR_EXISTS);
	assert_int_equal(
	        store_account_add(f->st, f->k, 4242, "root", ACCOUNT_PASSWORD, (const uint8_t *)pw, strlen(pw), NULL),
	        ERR_NOTFOUND);
	assert_int_equal(store_account_get(f->st, web, "root", &acc), 0);
	assert_int_equal(acc->id, id1);
	assert_string_equal(acc->asset_name, "web01");
	assert_int_equal(acc->kind, ACCOUNT_PASSWORD);
	account_rec_free(acc);
	assert_int_equal(store_account_secret(f->st, f->k, id1, &secret, &len), 0);
	assert_int_equal(len, strlen(pw));
	assert_string_equal((char *)secret, pw);
	secret_free(secret, len);

	/* The plaintext is nowhere in the row. */
	assert_int_equal(
	        sqlite3_prepare_v2(store_db(f->st), "SELECT secret FROM accounts WHERE id = ?1", -1, &stmt, NULL),
	        SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, id1);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	len = (size_t)sqlite3_column_bytes(stmt, 0);
	blob = malloc(len);
	assert_non_null(blob);
	memcpy(blob, sqlite3_column_blob(stmt, 0), len);
	sqlite3_finalize(stmt);
	assert_null(memmem(blob, len, pw, strlen(pw)));

	/* Move row 1's ciphertext into row 2: it must not open there. */
	assert_int_equal(
	        sqlite3_prepare_v2(store_db(f->st), "UPDATE accounts SET secret = ?2 WHERE id = ?1", -1, &stmt, NULL),
	        SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, id2);
	sqlite3_bind_blob(stmt, 2, blob, (int)len, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	free(blob);
	assert_int_equal(store_account_secret(f->st, f->k, id2, &secret, &len), ERR_CRYPTO);
	assert_null(secret);

	assert_int_equal(store_account_list(f->st, 0, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->login, "deploy");
	account_rec_list_free(list, n);
	assert_int_equal(store_account_remove(f->st, id2), 0);
	assert_int_equal(store_account_remove(f->st, id2), ERR_NOTFOUND);
	assert_int_equal(store_account_list(f->st, web, &list, &n), 0);
	assert_int_equal(n, 1);
	account_rec_list_free(list, n);
	/* Removing the asset destroys its credentials. */
	assert_int_equal(store_asset_remove(f->st, web, 1), 0);
	assert_int_equal(store_account_secret(f->st, f->k, id1, &secret, &len), ERR_NOTFOUND);
}

static void
test_grants_with_names(void **state)
{
	struct fixture *f = *state;
	struct grant_rule g = {0}, *list = NULL;
	size_t n = 0;
	int64_t ops = 0, prod = 0, gid1 = 0, gid2 = 0, gid3 = 0;
	int64_t alice = add_user(f->st, "alice", ROLE_OPERATOR);
	int64_t bob = add_user(f->st, "bob", ROLE_OPERATOR);
	int64_t web = add_asset(f->st, "web01");
	int64_t db = add_asset(f->st, "db01");

	assert_int_equal(store_group_add(f->st, "ops", &ops), 0);
	assert_int_equal(store_group_add(f->st, "prod", &prod), 0);
	assert_int_equal(store_group_member_add(f->st, ops, alice), 0);
	assert_int_equal(store_asset_group_add(f->st, prod, db), 0);

	g.user_id = bob;
	g.asset_id = web;
	g.login = (char *)"root";
	g.rights = RIGHTS_DEFAULT;
	g.expires = 99999;
	g.hours = (char *)"Mon-Fri 09:00-18:00";
	g.sources = (char *)"10.0.0.0/8";
	assert_int_equal(store_grant_add(f->st, &g, &gid1), 0);
	memset(&g, 0, sizeof(g));
	g.group_id = ops;
	g.asset_group_id = prod;
	g.login = (char *)"postgres";
	g.rights = RIGHT_SHELL;
	assert_int_equal(store_grant_add(f->st, &g, &gid2), 0);
	memset(&g, 0, sizeof(g));
	g.user_id = alice;
	g.asset_id = web;
	g.login = (char *)"deploy";
	g.rights = RIGHTS_ALL;
	assert_int_equal(store_grant_add(f->st, &g, &gid3), 0);

	/* Both sides set, or neither, is refused before the database. */
	g.group_id = ops;
	assert_int_equal(store_grant_add(f->st, &g, NULL), ERR_INVALID);
	memset(&g, 0, sizeof(g));
	g.user_id = 4242;
	g.asset_id = web;
	g.login = (char *)"x";
	assert_int_equal(store_grant_add(f->st, &g, NULL), ERR_INVALID);

	assert_int_equal(store_grant_list(f->st, 0, 0, &list, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].id, gid1);
	assert_string_equal(list[0].user_name, "bob");
	assert_null(list[0].group_name);
	assert_string_equal(list[0].asset_name, "web01");
	assert_string_equal(list[0].login, "root");
	assert_string_equal(list[0].hours, "Mon-Fri 09:00-18:00");
	assert_string_equal(list[0].sources, "10.0.0.0/8");
	assert_int_equal(list[0].rights, RIGHTS_DEFAULT);
	assert_int_equal(list[0].expires, 99999);
	assert_string_equal(list[1].group_name, "ops");
	assert_string_equal(list[1].asset_group_name, "prod");
	assert_null(list[1].user_name);
	assert_null(list[1].asset_name);
	store_grant_list_free(list, n);

	/* alice: her own grant and the one through group ops. */
	assert_int_equal(store_grant_list(f->st, alice, 0, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, gid2);
	assert_int_equal(list[1].id, gid3);
	store_grant_list_free(list, n);
	/* db01: only through asset group prod. */
	assert_int_equal(store_grant_list(f->st, 0, db, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, gid2);
	store_grant_list_free(list, n);
	/* alice on web01: only her direct grant. */
	assert_int_equal(store_grant_list(f->st, alice, web, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, gid3);
	store_grant_list_free(list, n);
	/* bob on db01: nothing. */
	assert_int_equal(store_grant_list(f->st, bob, db, &list, &n), 0);
	assert_int_equal(n, 0);
	store_grant_list_free(list, n);

	assert_int_equal(store_grant_remove(f->st, gid1), 0);
	assert_int_equal(store_grant_remove(f->st, gid1), ERR_NOTFOUND);
	/* Removing a group takes its grants with it. */
	assert_int_equal(store_group_remove(f->st, ops), 0);
	assert_int_equal(store_grant_list(f->st, 0, 0, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, gid3);
	store_grant_list_free(list, n);
}

static void
test_err_mapping_and_tx(void **state)
{
	struct fixture *f = *state;
	struct user_rec *u = NULL;

	assert_int_equal(store_err(SQLITE_OK), 0);
	assert_int_equal(store_err(SQLITE_FULL), ERR_FULL);
	assert_int_equal(store_err(SQLITE_IOERR_WRITE), ERR_IO);
	assert_int_equal(store_err(SQLITE_BUSY), ERR_BUSY);
	assert_int_equal(store_err(SQLITE_CONSTRAINT_UNIQUE), ERR_EXISTS);
	assert_int_equal(store_err(SQLITE_CORRUPT), ERR_DB);
	/* A full database maps to ERR_FULL (max_page_count stands in for a
	 * full disk). */
	assert_int_equal(sqlite3_exec(store_db(f->st), "PRAGMA max_page_count = 1", NULL, NULL, NULL), SQLITE_OK);
	char big[4096];
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	int64_t full_id = add_user(f->st, "full", ROLE_OPERATOR);
	int rfull = 0;
	for (int i = 0; i < 64 && rfull == 0; i++) {
		rfull = store_user_set_pubkey(f->st, full_id, big);
		if (rfull == 0)
			rfull = store_user_set_password(f->st, full_id, big, 0, i);
	}
	assert_int_equal(rfull, ERR_FULL);
	assert_int_equal(sqlite3_exec(store_db(f->st), "PRAGMA max_page_count = 1000000", NULL, NULL, NULL), SQLITE_OK);
	/* Work inside a caller's transaction rolls back with it. */
	assert_int_equal(store_begin(f->st), 0);
	int64_t id = add_user(f->st, "ghost", ROLE_OPERATOR);
	assert_int_equal(store_user_set_password(f->st, id, "$y$new", 0, 5), 0);
	assert_int_equal(store_rollback(f->st), 0);
	assert_int_equal(store_user_get(f->st, "ghost", &u), ERR_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_open_mode_and_version, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_users_crud, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_user_soft_removal, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_password_history, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_totp_step_replay, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_failure_lockout_across_reopen, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_attempt_slots, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_attempt_slots_race, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_enrol_window, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_assets, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_accounts_sealed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_grants_with_names, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_err_mapping_and_tx, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
