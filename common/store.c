/* The sqlite store: opening, pragmas, migrations, transactions, and the small
 * helpers the entity files (store-user.c, store-asset.c, store-grant.c) share.
 * Every statement is prepared with bound parameters. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/schema.h"
#include "common/store-internal.h"
#include "common/store.h"

struct store {
	sqlite3 *db; /* one connection per process */
};

int
store_schema_version(void)
{
	return (int)schema_migrations_count;
}

int
store_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW: return 0;
	case SQLITE_FULL: return ERR_FULL;
	case SQLITE_IOERR: return ERR_IO;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return ERR_BUSY;
	case SQLITE_NOMEM: return ERR_NOMEM;
	case SQLITE_CONSTRAINT:
		switch (rc) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY: return ERR_EXISTS;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
		case SQLITE_CONSTRAINT_CHECK:
		case SQLITE_CONSTRAINT_NOTNULL:
			/* A reference to a missing row or a value outside the schema's rules. */
			return ERR_INVALID;
		default: return ERR_DB;
		}
	default: return ERR_DB;
	}
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	return store_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

static int
read_user_version(sqlite3 *db, int64_t *v)
{
	sqlite3_stmt *stmt = NULL;
	int rc, r = ERR_INTERNAL;

	if ((rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL)) != SQLITE_OK) {
		r = store_err(rc);
		goto out;
	}
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_DB : store_err(rc);
		goto out;
	}
	*v = sqlite3_column_int64(stmt, 0);
	r = 0;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_migrate(sqlite3 *db, const char *const *list, size_t n)
{
	char sql[64];
	int64_t v = 0;
	int in_tx = 0;
	int r = ERR_INTERNAL;

	if ((r = read_user_version(db, &v)) != 0)
		goto out;
	if (v < 0 || (uint64_t)v > n) {
		/* Written by a newer build: its tables may mean things we do not know. */
		r = ERR_INVALID;
		goto out;
	}
	if ((size_t)v == n) {
		r = 0;
		goto out;
	}
	if ((r = exec_sql(db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	in_tx = 1;
	/* Another process may have migrated between our read and the lock. */
	if ((r = read_user_version(db, &v)) != 0)
		goto out;
	if (v < 0 || (uint64_t)v > n) {
		r = ERR_INVALID;
		goto out;
	}
	for (size_t i = (size_t)v; i < n; i++) {
		if ((r = exec_sql(db, list[i])) != 0)
			goto out;
	}
	/* PRAGMA takes no bound parameters; n is our own integer. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", n);
	if ((r = exec_sql(db, sql)) != 0)
		goto out;
	if ((r = exec_sql(db, "COMMIT")) != 0)
		goto out;
	in_tx = 0;
	r = 0;
out:
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int
store_open(const char *path, int create, struct store **out)
{
	struct store *st = NULL;
	struct stat sb;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int fd, rc, r = ERR_INTERNAL;

	*out = NULL;
	if (lstat(path, &sb) != 0) {
		if (errno != ENOENT || !create) {
			r = errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
			goto out;
		}
		/* Create the file ourselves so it is 0600 from the first byte;
		 * sqlite gives the -wal and -shm files the same mode. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = errno == EEXIST ? ERR_EXISTS : ERR_IO;
			goto out;
		}
		close(fd);
	} else if (!S_ISREG(sb.st_mode)) {
		r = ERR_INVALID;
		goto out;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((rc = sqlite3_open_v2(path, &st->db, flags, NULL)) != SQLITE_OK) {
		r = store_err(rc);
		if (r == 0)
			r = ERR_DB;
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 10000);
	if ((r = exec_sql(st->db, "PRAGMA foreign_keys = ON")) != 0 ||
	    (r = exec_sql(st->db, "PRAGMA secure_delete = ON")) != 0 ||
	    (r = exec_sql(st->db, "PRAGMA journal_mode = WAL")) != 0)
		goto out;
	if ((r = store_migrate(st->db, schema_migrations, schema_migrations_count)) != 0)
		goto out;
	*out = st;
	st = NULL;
	r = 0;
out:
	store_close(st);
	return r;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close_v2(st->db);
	free(st);
}

int
store_begin(struct store *st)
{
	return exec_sql(st->db, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *st)
{
	int r = exec_sql(st->db, "COMMIT");

	if (r == 0)
		audit_pending_settle(1);
	else if (sqlite3_get_autocommit(st->db))
		audit_pending_settle(0); /* sqlite rolled back on its own */
	return r;
}

int
store_rollback(struct store *st)
{
	int r = exec_sql(st->db, "ROLLBACK");

	audit_pending_settle(0);
	return r;
}

int
store_tx_start(struct store *st, int *own)
{
	if (sqlite3_get_autocommit(st->db)) {
		*own = 1;
		return store_begin(st);
	}
	*own = 0;
	return exec_sql(st->db, "SAVEPOINT gh_store");
}

int
store_tx_end(struct store *st, int own, int ok)
{
	int r;

	if (own) {
		if (ok) {
			if ((r = store_commit(st)) == 0)
				return 0;
		} else {
			r = 0;
		}
		store_rollback(st);
		return r;
	}
	if (ok)
		return exec_sql(st->db, "RELEASE gh_store");
	exec_sql(st->db, "ROLLBACK TO gh_store");
	return exec_sql(st->db, "RELEASE gh_store");
}

int
store_prepare(struct store *st, const char *sql, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
	int r;

	if (rc == SQLITE_OK)
		return 0;
	*out = NULL;
	r = store_err(rc);
	return r == 0 ? ERR_DB : r;
}

int
store_step_done(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	int r;

	if (rc == SQLITE_DONE)
		return 0;
	r = store_err(rc);
	return r == 0 ? ERR_DB : r;
}

int
store_col_strdup(sqlite3_stmt *stmt, int col, char **out)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	*out = NULL;
	if (s == NULL)
		return sqlite3_column_type(stmt, col) == SQLITE_NULL ? 0 : ERR_NOMEM;
	if ((*out = strdup((const char *)s)) == NULL)
		return ERR_NOMEM;
	return 0;
}

int
store_exec_id(struct store *st, const char *sql, int64_t id)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st, sql, &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	r = sqlite3_changes(st->db) > 0 ? 0 : ERR_NOTFOUND;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_exec_id_any(struct store *st, const char *sql, int64_t id)
{
	int r = store_exec_id(st, sql, id);

	return r == ERR_NOTFOUND ? 0 : r;
}

int
store_collect_rows(sqlite3_stmt *stmt, size_t elem_size, store_fill_fn fill, store_release_fn release, void **out,
                   size_t *n)
{
	unsigned char *v = NULL, *nv;
	size_t count = 0, cap = 0;
	int rc, r = ERR_INTERNAL;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * elem_size)) == NULL) {
				r = ERR_NOMEM;
				goto out;
			}
			v = nv;
		}
		memset(v + count * elem_size, 0, elem_size);
		if ((r = fill(stmt, v + count * elem_size)) != 0)
			goto out;
		count++;
	}
	if (rc != SQLITE_DONE) {
		r = store_err(rc);
		if (r == 0)
			r = ERR_DB;
		goto out;
	}
	*out = v;
	*n = count;
	v = NULL;
	count = 0;
	r = 0;
out:
	for (size_t i = 0; release != NULL && i < count; i++)
		release(v + i * elem_size);
	free(v);
	return r;
}

static int
fill_string(sqlite3_stmt *stmt, void *elem)
{
	char **s = elem;
	int r = store_col_strdup(stmt, 0, s);

	if (r == 0 && *s == NULL && (*s = strdup("")) == NULL)
		r = ERR_NOMEM;
	return r;
}

static void
release_string(void *elem)
{
	free(*(char **)elem);
}

int
store_collect_strings(sqlite3_stmt *stmt, char ***out, size_t *n)
{
	void *v = NULL;
	int r = store_collect_rows(stmt, sizeof(char *), fill_string, release_string, &v, n);

	*out = v;
	return r;
}

static int
fill_id(sqlite3_stmt *stmt, void *elem)
{
	*(int64_t *)elem = sqlite3_column_int64(stmt, 0);
	return 0;
}

int
store_collect_ids(sqlite3_stmt *stmt, int64_t **out, size_t *n)
{
	void *v = NULL;
	int r = store_collect_rows(stmt, sizeof(int64_t), fill_id, NULL, &v, n);

	*out = v;
	return r;
}

void
store_strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
