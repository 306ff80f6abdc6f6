#include "proxy/session-db.h"

#include <stddef.h>

#include <sqlite3.h>

#include "common/err.h"
#include "common/store.h"

/* Prepare, bind by the caller, step once, finalize. */
static int
exec_stmt(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : store_err(rc);
}

static int
prepare(struct store *st, const char *sql, sqlite3_stmt **stmt)
{
	int rc = sqlite3_prepare_v2(store_db(st), sql, -1, stmt, NULL);

	return rc == SQLITE_OK ? 0 : store_err(rc);
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

int
sessdb_start(struct store *st, const struct sessdb_start *s, int64_t *row)
{
	sqlite3_stmt *stmt = NULL;
	int r;

	if ((r = prepare(st,
	                 "INSERT INTO sessions (uuid, user, source_addr, source_port, asset, login, start, start_ms,"
	                 " state, pid, recording, last_activity) VALUES (?,?,?,?,?,?,?,?,'active',?,?,?)",
	                 &stmt)) != 0)
		return r;
	bind_text(stmt, 1, s->uuid);
	bind_text(stmt, 2, s->user);
	bind_text(stmt, 3, s->source_addr);
	sqlite3_bind_int(stmt, 4, s->source_port);
	bind_text(stmt, 5, s->asset);
	bind_text(stmt, 6, s->login);
	sqlite3_bind_int64(stmt, 7, s->start_ms / 1000);
	sqlite3_bind_int64(stmt, 8, s->start_ms);
	sqlite3_bind_int(stmt, 9, s->pid);
	bind_text(stmt, 10, s->recording);
	sqlite3_bind_int64(stmt, 11, s->start_ms / 1000);
	if ((r = exec_stmt(stmt)) != 0)
		return r;
	*row = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

int
sessdb_channel_open(struct store *st, int64_t row, uint32_t num, const char *type, const char *command)
{
	sqlite3_stmt *stmt = NULL;
	int r;

	if ((r = prepare(st,
	                 "INSERT INTO channels (session_id, num, type, command, opened) VALUES "
	                 "(?,?,?,?,strftime('%s','now'))",
	                 &stmt)) != 0)
		return r;
	sqlite3_bind_int64(stmt, 1, row);
	sqlite3_bind_int64(stmt, 2, num);
	bind_text(stmt, 3, type);
	bind_text(stmt, 4, command);
	return exec_stmt(stmt);
}

int
sessdb_channel_close(struct store *st, int64_t row, uint32_t num, int has_exit, int exit_status)
{
	sqlite3_stmt *stmt = NULL;
	int r;

	if ((r = prepare(st,
	                 "UPDATE channels SET closed = strftime('%s','now'), exit_status = ? WHERE session_id = ? AND "
	                 "num = ?",
	                 &stmt)) != 0)
		return r;
	if (has_exit)
		sqlite3_bind_int(stmt, 1, exit_status);
	else
		sqlite3_bind_null(stmt, 1);
	sqlite3_bind_int64(stmt, 2, row);
	sqlite3_bind_int64(stmt, 3, num);
	return exec_stmt(stmt);
}

int
sessdb_progress(struct store *st, int64_t row, const char *channel_types, uint64_t bytes_in, uint64_t bytes_out,
                int64_t last_activity)
{
	sqlite3_stmt *stmt = NULL;
	int r;

	if ((r = prepare(st,
	                 "UPDATE sessions SET channel_types = ?, bytes_in = ?, bytes_out = ?, last_activity = ?"
	                 " WHERE id = ?",
	                 &stmt)) != 0)
		return r;
	bind_text(stmt, 1, channel_types != NULL ? channel_types : "");
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)bytes_in);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)bytes_out);
	sqlite3_bind_int64(stmt, 4, last_activity);
	sqlite3_bind_int64(stmt, 5, row);
	return exec_stmt(stmt);
}

int
sessdb_end(struct store *st, int64_t row, const char *reason, const char *ended_by, uint64_t bytes_in,
           uint64_t bytes_out, uint64_t rec_frames, const char *rec_head)
{
	sqlite3_stmt *stmt = NULL;
	int r;

	if ((r = prepare(
	             st,
	             "UPDATE sessions SET state = 'closed', end = strftime('%s','now'), end_reason = ?, ended_by = ?,"
	             " bytes_in = ?, bytes_out = ?, rec_frames = ?, rec_head = ? WHERE id = ?",
	             &stmt)) != 0)
		return r;
	bind_text(stmt, 1, reason);
	bind_text(stmt, 2, ended_by);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)bytes_in);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)bytes_out);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)rec_frames);
	bind_text(stmt, 6, rec_head);
	sqlite3_bind_int64(stmt, 7, row);
	return exec_stmt(stmt);
}

int
sessdb_reap_stale(struct store *st, int (*alive)(int pid), int *closed)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int rc, r = 0, n = 0;

	*closed = 0;
	if ((r = prepare(st, "SELECT id, pid FROM sessions WHERE state = 'active'", &sel)) != 0)
		return r;
	if ((r = prepare(st,
	                 "UPDATE sessions SET state = 'closed', end = MAX(last_activity, start), end_reason = 'aborted'"
	                 " WHERE id = ? AND state = 'active'",
	                 &upd)) != 0) {
		sqlite3_finalize(sel);
		return r;
	}
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(sel, 0);
		int pid = sqlite3_column_int(sel, 1);

		if (pid > 0 && alive(pid))
			continue;
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, id);
		if ((rc = sqlite3_step(upd)) != SQLITE_DONE) {
			r = store_err(rc);
			break;
		}
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = store_err(rc);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	*closed = n;
	return r;
}
