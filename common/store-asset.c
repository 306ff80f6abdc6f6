/* Groups (of users and of assets), assets and target accounts. A target
 * account's credential is sealed with the master key and bound to its row. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/secret.h"
#include "common/store-internal.h"
#include "common/store.h"
#include "common/timeutil.h"

/* ---- groups ---------------------------------------------------------- */

int
store_group_add(struct store *st, const char *name, int64_t *id)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st, "INSERT INTO groups (name, created) VALUES (?1, ?2)", &stmt)) != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, time_now());
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
out:
	sqlite3_finalize(stmt);
	return r;
}

static int
id_by_name(struct store *st, const char *sql, const char *name, int64_t *id)
{
	sqlite3_stmt *stmt = NULL;
	int rc, r = ERR_INTERNAL;

	if ((r = store_prepare(st, sql, &stmt)) != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_NOTFOUND : store_err(rc);
		goto out;
	}
	*id = sqlite3_column_int64(stmt, 0);
	r = 0;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_group_get_id(struct store *st, const char *name, int64_t *id)
{
	return id_by_name(st, "SELECT id FROM groups WHERE name = ?1", name, id);
}

static int
strings_for_id(struct store *st, const char *sql, int64_t id, char ***out, size_t *n)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st, sql, &stmt)) != 0) {
		*out = NULL;
		*n = 0;
		goto out;
	}
	if (id != 0)
		sqlite3_bind_int64(stmt, 1, id);
	r = store_collect_strings(stmt, out, n);
out:
	sqlite3_finalize(stmt);
	return r;
}

static int
ids_for_id(struct store *st, const char *sql, int64_t id, int64_t **out, size_t *n)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st, sql, &stmt)) != 0) {
		*out = NULL;
		*n = 0;
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, id);
	r = store_collect_ids(stmt, out, n);
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_group_list(struct store *st, char ***names, size_t *n)
{
	return strings_for_id(st, "SELECT name FROM groups ORDER BY name", 0, names, n);
}

int
store_group_remove(struct store *st, int64_t id)
{
	int own = 0, r;

	if ((r = store_tx_start(st, &own)) != 0)
		return r;
	/* Grants through the group go with it; memberships cascade. */
	r = store_exec_id_any(st, "DELETE FROM grants WHERE group_id = ?1 OR asset_group_id = ?1", id);
	if (r == 0)
		r = store_exec_id(st, "DELETE FROM groups WHERE id = ?1", id);
	if (r != 0) {
		store_tx_end(st, own, 0);
		return r;
	}
	return store_tx_end(st, own, 1);
}

static int
exec_two_ids(struct store *st, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st, sql, &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, a);
	sqlite3_bind_int64(stmt, 2, b);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	r = sqlite3_changes(store_db(st)) > 0 ? 0 : ERR_NOTFOUND;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_group_member_add(struct store *st, int64_t group_id, int64_t user_id)
{
	/* Removed users cannot join: INSERT ... SELECT finds no row. */
	return exec_two_ids(st,
	                    "INSERT INTO group_members (group_id, user_id) SELECT ?1, id FROM users"
	                    " WHERE id = ?2 AND removed = 0",
	                    group_id, user_id);
}

int
store_group_member_remove(struct store *st, int64_t group_id, int64_t user_id)
{
	return exec_two_ids(st, "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2", group_id, user_id);
}

int
store_group_members(struct store *st, int64_t group_id, char ***user_names, size_t *n)
{
	return strings_for_id(st,
	                      "SELECT u.name FROM group_members m JOIN users u ON u.id = m.user_id"
	                      " WHERE m.group_id = ?1 ORDER BY u.name",
	                      group_id, user_names, n);
}

int
store_user_group_ids(struct store *st, int64_t user_id, int64_t **ids, size_t *n)
{
	return ids_for_id(st, "SELECT group_id FROM group_members WHERE user_id = ?1 ORDER BY group_id", user_id, ids,
	                  n);
}

/* ---- assets ---------------------------------------------------------- */

void
asset_rec_free(struct asset_rec *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->host);
	free(a->hostkey);
	free(a);
}

void
asset_rec_list_free(struct asset_rec **list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		asset_rec_free(list[i]);
	free(list);
}

#define ASSET_COLS "id, name, host, port, hostkey, created, removed"

static int
asset_from_row(sqlite3_stmt *stmt, struct asset_rec **out)
{
	struct asset_rec *a = NULL;
	int r = ERR_INTERNAL;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	a->id = sqlite3_column_int64(stmt, 0);
	if ((r = store_col_strdup(stmt, 1, &a->name)) != 0 || (r = store_col_strdup(stmt, 2, &a->host)) != 0 ||
	    (r = store_col_strdup(stmt, 4, &a->hostkey)) != 0)
		goto out;
	a->port = sqlite3_column_int(stmt, 3);
	a->created = sqlite3_column_int64(stmt, 5);
	a->removed = sqlite3_column_int64(stmt, 6);
	*out = a;
	a = NULL;
	r = 0;
out:
	asset_rec_free(a);
	return r;
}

int
store_asset_add(struct store *st, const struct asset_rec *a, int64_t *id)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if (a->name == NULL || a->host == NULL) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = store_prepare(st,
	                       "INSERT INTO assets (name, host, port, hostkey, created) VALUES (?1, ?2, ?3, ?4, ?5)",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, a->host, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, a->port != 0 ? a->port : 22);
	if (a->hostkey != NULL)
		sqlite3_bind_text(stmt, 4, a->hostkey, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 4);
	sqlite3_bind_int64(stmt, 5, a->created != 0 ? a->created : time_now());
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
out:
	sqlite3_finalize(stmt);
	return r;
}

static int
asset_get_where(struct store *st, const char *sql, const char *name, int64_t id, struct asset_rec **out)
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
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_NOTFOUND : store_err(rc);
		goto out;
	}
	r = asset_from_row(stmt, out);
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_asset_get(struct store *st, const char *name, struct asset_rec **out)
{
	return asset_get_where(st, "SELECT " ASSET_COLS " FROM assets WHERE name = ?1", name, 0, out);
}

int
store_asset_get_by_id(struct store *st, int64_t id, struct asset_rec **out)
{
	return asset_get_where(st, "SELECT " ASSET_COLS " FROM assets WHERE id = ?1", NULL, id, out);
}

static int
fill_asset(sqlite3_stmt *stmt, void *elem)
{
	return asset_from_row(stmt, elem);
}

static void
release_asset(void *elem)
{
	asset_rec_free(*(struct asset_rec **)elem);
}

int
store_asset_list(struct store *st, struct asset_rec ***out, size_t *n)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(st, "SELECT " ASSET_COLS " FROM assets WHERE removed = 0 ORDER BY name", &stmt)) != 0)
		goto out;
	if ((r = store_collect_rows(stmt, sizeof(struct asset_rec *), fill_asset, release_asset, &rows, n)) != 0)
		goto out;
	*out = rows;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_asset_remove(struct store *st, int64_t id, int64_t now)
{
	int own = 0, r;

	if ((r = store_tx_start(st, &own)) != 0)
		return r;
	/* Soft removal like users; the stored credentials are destroyed
	 * (secure_delete overwrites the freed pages). */
	r = exec_two_ids(st, "UPDATE assets SET removed = ?2 WHERE id = ?1 AND removed = 0", id, now != 0 ? now : 1);
	if (r == 0)
		r = store_exec_id_any(st, "DELETE FROM accounts WHERE asset_id = ?1", id);
	if (r == 0)
		r = store_exec_id_any(st, "DELETE FROM grants WHERE asset_id = ?1", id);
	if (r == 0)
		r = store_exec_id_any(st, "DELETE FROM asset_group_members WHERE asset_id = ?1", id);
	if (r != 0) {
		store_tx_end(st, own, 0);
		return r;
	}
	return store_tx_end(st, own, 1);
}

int
store_asset_set_hostkey(struct store *st, int64_t id, const char *hostkey)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if ((r = store_prepare(st, "UPDATE assets SET hostkey = ?2 WHERE id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	if (hostkey != NULL)
		sqlite3_bind_text(stmt, 2, hostkey, -1, SQLITE_STATIC);
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
store_asset_group_add(struct store *st, int64_t group_id, int64_t asset_id)
{
	return exec_two_ids(st, "INSERT INTO asset_group_members (group_id, asset_id) VALUES (?1, ?2)", group_id,
	                    asset_id);
}

int
store_asset_group_ids(struct store *st, int64_t asset_id, int64_t **ids, size_t *n)
{
	return ids_for_id(st, "SELECT group_id FROM asset_group_members WHERE asset_id = ?1 ORDER BY group_id",
	                  asset_id, ids, n);
}

int
store_asset_group_names(struct store *st, int64_t asset_id, char ***names, size_t *n)
{
	return strings_for_id(st,
	                      "SELECT g.name FROM asset_group_members m JOIN groups g ON g.id = m.group_id"
	                      " WHERE m.asset_id = ?1 ORDER BY g.name",
	                      asset_id, names, n);
}

/* ---- target accounts ------------------------------------------------- */

static const char *const kind_names[] = {"password", "key"};

void
account_rec_free(struct account_rec *a)
{
	if (a == NULL)
		return;
	free(a->asset_name);
	free(a->login);
	free(a);
}

void
account_rec_list_free(struct account_rec **list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		account_rec_free(list[i]);
	free(list);
}

#define ACCOUNT_SELECT                                                                                                 \
	"SELECT c.id, c.asset_id, a.name, c.login, c.kind, c.created FROM accounts c JOIN assets a ON a.id = "         \
	"c.asset_id "

static int
account_from_row(sqlite3_stmt *stmt, struct account_rec **out)
{
	struct account_rec *a = NULL;
	const char *k;
	int r = ERR_INTERNAL;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	a->id = sqlite3_column_int64(stmt, 0);
	a->asset_id = sqlite3_column_int64(stmt, 1);
	if ((r = store_col_strdup(stmt, 2, &a->asset_name)) != 0 || (r = store_col_strdup(stmt, 3, &a->login)) != 0)
		goto out;
	k = (const char *)sqlite3_column_text(stmt, 4);
	a->kind = k != NULL && strcmp(k, "key") == 0 ? ACCOUNT_KEY : ACCOUNT_PASSWORD;
	a->created = sqlite3_column_int64(stmt, 5);
	*out = a;
	a = NULL;
	r = 0;
out:
	account_rec_free(a);
	return r;
}

int
store_account_add(struct store *st, const struct secret_key *key, int64_t asset_id, const char *login,
                  enum account_kind kind, const uint8_t *secret, size_t secret_len, int64_t *id)
{
	sqlite3_stmt *stmt = NULL;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int64_t new_id;
	int own = 0, in_tx = 0;
	int r = ERR_INTERNAL;

	if (key == NULL || login == NULL || (unsigned)kind > ACCOUNT_KEY || (secret == NULL && secret_len > 0)) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = store_tx_start(st, &own)) != 0)
		goto out;
	in_tx = 1;
	/* The row id is the AAD, so it must exist before the secret is sealed. */
	if ((r = store_prepare(st,
	                       "INSERT INTO accounts (asset_id, login, kind, created) SELECT id, ?2, ?3, ?4 FROM assets"
	                       " WHERE id = ?1 AND removed = 0",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, asset_id);
	sqlite3_bind_text(stmt, 2, login, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, kind_names[kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, time_now());
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	if (sqlite3_changes(store_db(st)) == 0) {
		r = ERR_NOTFOUND;
		goto out;
	}
	new_id = sqlite3_last_insert_rowid(store_db(st));
	sqlite3_finalize(stmt);
	stmt = NULL;
	if ((r = secret_seal(key, "accounts", new_id, secret, secret_len, &sealed, &sealed_len)) != 0)
		goto out;
	if ((r = store_prepare(st, "UPDATE accounts SET secret = ?2 WHERE id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, new_id);
	sqlite3_bind_blob(stmt, 2, sealed, (int)sealed_len, SQLITE_STATIC);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	in_tx = 0;
	if ((r = store_tx_end(st, own, 1)) != 0)
		goto out;
	if (id != NULL)
		*id = new_id;
out:
	sqlite3_finalize(stmt);
	if (in_tx)
		store_tx_end(st, own, 0);
	free(sealed);
	return r;
}

int
store_account_get(struct store *st, int64_t asset_id, const char *login, struct account_rec **out)
{
	sqlite3_stmt *stmt = NULL;
	int rc, r = ERR_INTERNAL;

	*out = NULL;
	if ((r = store_prepare(st, ACCOUNT_SELECT "WHERE c.asset_id = ?1 AND c.login = ?2", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, asset_id);
	sqlite3_bind_text(stmt, 2, login, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_NOTFOUND : store_err(rc);
		goto out;
	}
	r = account_from_row(stmt, out);
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_account_secret(struct store *st, const struct secret_key *key, int64_t account_id, uint8_t **secret, size_t *len)
{
	sqlite3_stmt *stmt = NULL;
	const uint8_t *b;
	int rc, n, r = ERR_INTERNAL;

	*secret = NULL;
	*len = 0;
	if ((r = store_prepare(st, "SELECT secret FROM accounts WHERE id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, account_id);
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
	r = secret_open(key, "accounts", account_id, b, (size_t)n, secret, len);
out:
	sqlite3_finalize(stmt);
	return r;
}

static int
fill_account(sqlite3_stmt *stmt, void *elem)
{
	return account_from_row(stmt, elem);
}

static void
release_account(void *elem)
{
	account_rec_free(*(struct account_rec **)elem);
}

int
store_account_list(struct store *st, int64_t asset_id, struct account_rec ***out, size_t *n)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(st, ACCOUNT_SELECT "WHERE (?1 = 0 OR c.asset_id = ?1) ORDER BY a.name, c.login",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, asset_id);
	if ((r = store_collect_rows(stmt, sizeof(struct account_rec *), fill_account, release_account, &rows, n)) != 0)
		goto out;
	*out = rows;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_account_remove(struct store *st, int64_t id)
{
	return store_exec_id(st, "DELETE FROM accounts WHERE id = ?1", id);
}
