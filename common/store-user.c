/* Users: accounts of the bastion itself, password history, TOTP replay guard
 * and failed-login accounting. Removal is soft so that a name, once used,
 * can never be handed to someone else and confuse the audit trail. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/store-internal.h"
#include "common/store.h"
#include "common/timeutil.h"

static const char *const role_names[] = {"superadmin", "auditor", "operator"};
static const char *const auth_names[] = {"local", "pam"};

const char *
user_role_name(enum user_role r)
{
	if ((unsigned)r < sizeof(role_names) / sizeof(role_names[0]))
		return role_names[r];
	return "unknown";
}

int
user_role_parse(const char *s, enum user_role *out)
{
	for (size_t i = 0; s != NULL && i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum user_role)i;
			return 0;
		}
	}
	return ERR_INVALID;
}

void
user_rec_free(struct user_rec *u)
{
	if (u == NULL)
		return;
	free(u->name);
	if (u->pw_hash != NULL) {
		explicit_bzero(u->pw_hash, strlen(u->pw_hash));
		free(u->pw_hash);
	}
	free(u->pubkey);
	free(u);
}

void
user_rec_list_free(struct user_rec **list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		user_rec_free(list[i]);
	free(list);
}

#define USER_COLS                                                                                                      \
	"id, name, role, auth, pw_hash, pw_changed, pw_temporary, totp_secret IS NOT NULL, totp_last_step, pubkey, "   \
	"locked, failed_count, locked_until, last_login, created, removed, failed_at, enrol_until"

static int
user_from_row(sqlite3_stmt *stmt, struct user_rec **out)
{
	struct user_rec *u = NULL;
	const char *s;
	int r = ERR_INTERNAL;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	u->id = sqlite3_column_int64(stmt, 0);
	if ((r = store_col_strdup(stmt, 1, &u->name)) != 0)
		goto out;
	s = (const char *)sqlite3_column_text(stmt, 2);
	if (s == NULL || user_role_parse(s, &u->role) != 0) {
		r = ERR_DB;
		goto out;
	}
	s = (const char *)sqlite3_column_text(stmt, 3);
	u->auth = s != NULL && strcmp(s, "pam") == 0 ? USER_AUTH_PAM : USER_AUTH_LOCAL;
	if ((r = store_col_strdup(stmt, 4, &u->pw_hash)) != 0)
		goto out;
	u->pw_changed = sqlite3_column_int64(stmt, 5);
	u->pw_temporary = sqlite3_column_int(stmt, 6);
	u->has_totp = sqlite3_column_int(stmt, 7);
	u->totp_last_step = sqlite3_column_int64(stmt, 8);
	if ((r = store_col_strdup(stmt, 9, &u->pubkey)) != 0)
		goto out;
	u->locked = sqlite3_column_int(stmt, 10);
	u->failed_count = sqlite3_column_int(stmt, 11);
	u->locked_until = sqlite3_column_int64(stmt, 12);
	u->last_login = sqlite3_column_int64(stmt, 13);
	u->created = sqlite3_column_int64(stmt, 14);
	u->removed = sqlite3_column_int64(stmt, 15);
	u->failed_at = sqlite3_column_int64(stmt, 16);
	u->enrol_until = sqlite3_column_int64(stmt, 17);
	*out = u;
	u = NULL;
	r = 0;
out:
	user_rec_free(u);
	return r;
}

static int
user_get_where(struct store *st, const char *sql, const char *name, int64_t id, struct user_rec **out)
{
	sqlite3_stmt *stmt = NULL;
	int rc, r = ERR_INTERNAL;

	*out = NULL;
	if ((r = store_prepare(st, sql, &stmt)) != 0)
		goto out;
	if (name != NULL)
		sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		r = ERR_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_err(rc);
		goto out;
	}
	r = user_from_row(stmt, out);
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_get(struct store *st, const char *name, struct user_rec **out)
{
	return user_get_where(st, "SELECT " USER_COLS " FROM users WHERE name = ?1", name, 0, out);
}

int
store_user_get_by_id(struct store *st, int64_t id, struct user_rec **out)
{
	return user_get_where(st, "SELECT " USER_COLS " FROM users WHERE id = ?1", NULL, id, out);
}

static int
fill_user(sqlite3_stmt *stmt, void *elem)
{
	return user_from_row(stmt, elem);
}

static void
release_user(void *elem)
{
	user_rec_free(*(struct user_rec **)elem);
}

int
store_user_list(struct store *st, struct user_rec ***out, size_t *n)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(st, "SELECT " USER_COLS " FROM users WHERE removed = 0 ORDER BY name", &stmt)) != 0)
		goto out;
	if ((r = store_collect_rows(stmt, sizeof(struct user_rec *), fill_user, release_user, &rows, n)) != 0)
		goto out;
	*out = rows;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_add(struct store *st, const struct user_rec *u, int64_t *id)
{
	sqlite3_stmt *stmt = NULL;
	int64_t created = u->created != 0 ? u->created : time_now();
	int r = ERR_INTERNAL;

	if (u->name == NULL || (unsigned)u->role > ROLE_OPERATOR || (unsigned)u->auth > USER_AUTH_PAM) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = store_prepare(
	             st,
	             "INSERT INTO users (name, role, auth, pw_hash, pw_changed, pw_temporary, pubkey, locked, "
	             "created, enrol_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	             &stmt)) != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, role_names[u->role], -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, auth_names[u->auth], -1, SQLITE_STATIC);
	if (u->pw_hash != NULL)
		sqlite3_bind_text(stmt, 4, u->pw_hash, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 4);
	sqlite3_bind_int64(stmt, 5, u->pw_hash == NULL ? 0 : (u->pw_changed != 0 ? u->pw_changed : created));
	sqlite3_bind_int(stmt, 6, u->pw_temporary != 0);
	if (u->pubkey != NULL)
		sqlite3_bind_text(stmt, 7, u->pubkey, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 7);
	sqlite3_bind_int(stmt, 8, u->locked != 0);
	sqlite3_bind_int64(stmt, 9, created);
	sqlite3_bind_int64(stmt, 10, u->enrol_until);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
	r = 0;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_set_password(struct store *st, int64_t id, const char *hash, int temporary, int64_t now)
{
	sqlite3_stmt *stmt = NULL;
	int own = 0, in_tx = 0, rc;
	int r = ERR_INTERNAL;

	if (hash == NULL) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = store_tx_start(st, &own)) != 0)
		goto out;
	in_tx = 1;
	/* Keep the hash being replaced so the reuse rule can see it later. */
	if ((r = store_prepare(st,
	                       "INSERT INTO password_history (user_id, hash, changed) "
	                       "SELECT id, pw_hash, ?2 FROM users WHERE id = ?1 AND pw_hash IS NOT NULL",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	sqlite3_finalize(stmt);
	stmt = NULL;
	if ((r = store_prepare(st, "UPDATE users SET pw_hash = ?2, pw_changed = ?3, pw_temporary = ?4 WHERE id = ?1",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_int(stmt, 4, temporary != 0);
	if ((rc = sqlite3_step(stmt)) != SQLITE_DONE) {
		r = store_err(rc);
		goto out;
	}
	if (sqlite3_changes(store_db(st)) == 0) {
		r = ERR_NOTFOUND;
		goto out;
	}
	in_tx = 0;
	r = store_tx_end(st, own, 1);
out:
	sqlite3_finalize(stmt);
	if (in_tx)
		store_tx_end(st, own, 0);
	return r;
}

int
store_user_password_history(struct store *st, int64_t id, size_t n, char ***hashes, size_t *count)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	*hashes = NULL;
	*count = 0;
	if (n == 0)
		return 0;
	/* The current hash counts as the newest: "the last 5 passwords" includes
	 * the one in use. */
	if ((r = store_prepare(st,
	                       "SELECT hash FROM ("
	                       " SELECT pw_hash AS hash, 1 AS cur, pw_changed AS changed, 0 AS seq FROM users"
	                       "  WHERE id = ?1 AND pw_hash IS NOT NULL"
	                       " UNION ALL"
	                       " SELECT hash, 0, changed, rowid FROM password_history WHERE user_id = ?1)"
	                       " ORDER BY cur DESC, changed DESC, seq DESC LIMIT ?2",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, n > INT64_MAX ? INT64_MAX : (int64_t)n);
	r = store_collect_strings(stmt, hashes, count);
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_set_locked(struct store *st, int64_t id, int locked)
{
	return store_exec_id(
	        st, locked ? "UPDATE users SET locked = 1 WHERE id = ?1" : "UPDATE users SET locked = 0 WHERE id = ?1",
	        id);
}

int
store_user_remove(struct store *st, int64_t id, int64_t now)
{
	sqlite3_stmt *stmt = NULL;
	int own = 0, in_tx = 0;
	int r = ERR_INTERNAL;

	if ((r = store_tx_start(st, &own)) != 0)
		goto out;
	in_tx = 1;
	/* The row stays (name reserved, audit references resolve); its
	 * credentials and memberships go. */
	if ((r = store_prepare(st,
	                       "UPDATE users SET removed = ?2, pw_hash = NULL, totp_secret = NULL, pubkey = NULL"
	                       " WHERE id = ?1 AND removed = 0",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now != 0 ? now : 1);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	if (sqlite3_changes(store_db(st)) == 0) {
		r = ERR_NOTFOUND;
		goto out;
	}
	if ((r = store_exec_id_any(st, "DELETE FROM group_members WHERE user_id = ?1", id)) != 0)
		goto out;
	if ((r = store_exec_id_any(st, "DELETE FROM grants WHERE user_id = ?1", id)) != 0)
		goto out;
	if ((r = store_exec_id_any(st, "DELETE FROM password_history WHERE user_id = ?1", id)) != 0)
		goto out;
	in_tx = 0;
	r = store_tx_end(st, own, 1);
out:
	sqlite3_finalize(stmt);
	if (in_tx)
		store_tx_end(st, own, 0);
	return r;
}

int
store_user_set_pubkey(struct store *st, int64_t id, const char *pubkey)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st, "UPDATE users SET pubkey = ?2 WHERE id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	if (pubkey != NULL)
		sqlite3_bind_text(stmt, 2, pubkey, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 2);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	r = sqlite3_changes(store_db(st)) > 0 ? 0 : ERR_NOTFOUND;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_set_totp(struct store *st, int64_t id, const uint8_t *sealed, size_t len)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	/* A new secret starts a new replay window; enrolling closes the
	 * enrolment window (it is one-time). */
	if ((r = store_prepare(st,
	                       "UPDATE users SET totp_secret = ?2, totp_last_step = 0,"
	                       " enrol_until = CASE WHEN ?2 IS NULL THEN enrol_until ELSE 0 END WHERE id = ?1",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	if (sealed != NULL && len <= INT32_MAX)
		sqlite3_bind_blob(stmt, 2, sealed, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 2);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	r = sqlite3_changes(store_db(st)) > 0 ? 0 : ERR_NOTFOUND;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_any_pam(struct store *st)
{
	sqlite3_stmt *stmt = NULL;
	int rc, r = ERR_INTERNAL;

	if ((r = store_prepare(st, "SELECT EXISTS (SELECT 1 FROM users WHERE auth = 'pam' AND removed = 0)", &stmt)) !=
	    0)
		return r;
	rc = sqlite3_step(stmt);
	r = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) != 0 : store_err(rc);
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_set_enrol_until(struct store *st, int64_t id, int64_t until)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st, "UPDATE users SET enrol_until = ?2 WHERE id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, until);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	r = sqlite3_changes(store_db(st)) > 0 ? 0 : ERR_NOTFOUND;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_get_totp(struct store *st, int64_t id, uint8_t **sealed, size_t *len)
{
	sqlite3_stmt *stmt = NULL;
	const void *b;
	int rc, n, r = ERR_INTERNAL;

	*sealed = NULL;
	*len = 0;
	if ((r = store_prepare(st, "SELECT totp_secret FROM users WHERE id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_NOTFOUND : store_err(rc);
		goto out;
	}
	b = sqlite3_column_blob(stmt, 0);
	n = sqlite3_column_bytes(stmt, 0);
	if (b == NULL || n <= 0) {
		r = ERR_NOTFOUND;
		goto out;
	}
	if ((*sealed = malloc((size_t)n)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	memcpy(*sealed, b, (size_t)n);
	*len = (size_t)n;
	r = 0;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_advance_totp_step(struct store *st, int64_t id, int64_t step)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	/* One conditional UPDATE is atomic across processes: of two
	 * connections presenting the same code, exactly one changes the row. */
	if ((r = store_prepare(st, "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, step);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	if (sqlite3_changes(store_db(st)) == 0) {
		sqlite3_finalize(stmt);
		stmt = NULL;
		/* Tell a missing user apart from a replay. */
		if ((r = store_prepare(st, "SELECT 1 FROM users WHERE id = ?1", &stmt)) != 0)
			goto out;
		sqlite3_bind_int64(stmt, 1, id);
		r = sqlite3_step(stmt) == SQLITE_ROW ? ERR_REPLAY : ERR_NOTFOUND;
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(stmt);
	return r;
}

/* The lockout columns of one user, read inside the caller's transaction. */
static int
lockout_read(struct store *st, int64_t id, int *count, int64_t *failed_at, int64_t *locked_until)
{
	sqlite3_stmt *stmt = NULL;
	int rc, r = ERR_INTERNAL;

	if ((r = store_prepare(st, "SELECT failed_count, failed_at, locked_until FROM users WHERE id = ?1", &stmt)) !=
	    0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_NOTFOUND : store_err(rc);
		goto out;
	}
	*count = sqlite3_column_int(stmt, 0);
	*failed_at = sqlite3_column_int64(stmt, 1);
	*locked_until = sqlite3_column_int64(stmt, 2);
	r = 0;
out:
	sqlite3_finalize(stmt);
	return r;
}

static int
lockout_write(struct store *st, int64_t id, int count, int64_t failed_at, int64_t locked_until)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st,
	                       "UPDATE users SET failed_count = ?2, failed_at = ?3, locked_until = ?4 WHERE id = ?1",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int(stmt, 2, count);
	sqlite3_bind_int64(stmt, 3, failed_at);
	sqlite3_bind_int64(stmt, 4, locked_until);
	r = store_step_done(stmt);
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_attempt_begin(struct store *st, int64_t id, int threshold, int64_t period, int64_t now, int *granted)
{
	int64_t failed_at = 0, locked_until = 0;
	int own = 0, in_tx = 0, count = 0;
	int r = ERR_INTERNAL;

	*granted = 0;
	/* BEGIN IMMEDIATE: the check and the count are one step for every
	 * connection and every process on this database. */
	if ((r = store_tx_start(st, &own)) != 0)
		goto out;
	in_tx = 1;
	if ((r = lockout_read(st, id, &count, &failed_at, &locked_until)) != 0)
		goto out;
	if (failed_at != 0 && now - failed_at >= period)
		count = 0; /* the period passed: old failures no longer count */
	if (locked_until > now || (threshold > 0 && count >= threshold)) {
		r = 0; /* locked out: nothing judged, nothing counted */
		goto out;
	}
	if ((r = lockout_write(st, id, count + 1, now, locked_until)) != 0)
		goto out;
	*granted = 1;
	r = 0;
out:
	if (in_tx) {
		int e = store_tx_end(st, own, r == 0);

		if (r == 0)
			r = e;
	}
	if (r != 0)
		*granted = 0;
	return r;
}

int
store_user_record_failure(struct store *st, int64_t id, int threshold, int64_t lock_seconds, int64_t now, int counted,
                          int *now_locked)
{
	int64_t failed_at = 0, locked_until = 0;
	int own = 0, in_tx = 0, count = 0;
	int r = ERR_INTERNAL;

	if (now_locked != NULL)
		*now_locked = 0;
	if ((r = store_tx_start(st, &own)) != 0)
		goto out;
	in_tx = 1;
	if ((r = lockout_read(st, id, &count, &failed_at, &locked_until)) != 0)
		goto out;
	if (!counted) {
		if (failed_at != 0 && now - failed_at >= lock_seconds)
			count = 0;
		count++;
		failed_at = now;
	}
	if (threshold > 0 && count >= threshold && locked_until <= now) {
		/* Lock for a while and start counting afresh for the next period. */
		locked_until = now + lock_seconds;
		count = 0;
		if (now_locked != NULL)
			*now_locked = 1;
	}
	r = lockout_write(st, id, count, failed_at, locked_until);
out:
	if (in_tx) {
		int e = store_tx_end(st, own, r == 0);

		if (r == 0)
			r = e;
	}
	if (r != 0 && now_locked != NULL)
		*now_locked = 0;
	return r;
}

int
store_user_record_success(struct store *st, int64_t id, int64_t now)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st, "UPDATE users SET failed_count = 0, failed_at = 0, last_login = ?2 WHERE id = ?1",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	r = sqlite3_changes(store_db(st)) > 0 ? 0 : ERR_NOTFOUND;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_user_clear_lockout(struct store *st, int64_t id)
{
	return store_exec_id(st, "UPDATE users SET failed_count = 0, failed_at = 0, locked_until = 0 WHERE id = ?1",
	                     id);
}
