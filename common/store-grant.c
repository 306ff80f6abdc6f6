/* Grants: who (user or user group) may use which login on what (asset or
 * asset group), with which rights, until when, from where, at what hours.
 * Evaluation is auth/grant.c's job; this file only stores and lists. */
#include <stdlib.h>
#include <string.h>

#include "auth/grant.h"
#include "common/err.h"
#include "common/store-internal.h"
#include "common/store.h"
#include "common/timeutil.h"

static void
bind_id_or_null(sqlite3_stmt *stmt, int col, int64_t id)
{
	if (id != 0)
		sqlite3_bind_int64(stmt, col, id);
	else
		sqlite3_bind_null(stmt, col);
}

static void
bind_text_or_null(sqlite3_stmt *stmt, int col, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(stmt, col, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, col);
}

int
store_grant_add(struct store *st, const struct grant_rule *g, int64_t *id)
{
	sqlite3_stmt *stmt = NULL;
	int r = ERR_INTERNAL;

	if (g->login == NULL || (g->user_id != 0) == (g->group_id != 0) ||
	    (g->asset_id != 0) == (g->asset_group_id != 0)) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = store_prepare(
	             st,
	             "INSERT INTO grants (user_id, group_id, asset_id, asset_group_id, login, rights, expires,"
	             " hours, sources, forward_to, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	             &stmt)) != 0)
		goto out;
	bind_id_or_null(stmt, 1, g->user_id);
	bind_id_or_null(stmt, 2, g->group_id);
	bind_id_or_null(stmt, 3, g->asset_id);
	bind_id_or_null(stmt, 4, g->asset_group_id);
	sqlite3_bind_text(stmt, 5, g->login, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, (int64_t)g->rights);
	sqlite3_bind_int64(stmt, 7, g->expires);
	bind_text_or_null(stmt, 8, g->hours);
	bind_text_or_null(stmt, 9, g->sources);
	bind_text_or_null(stmt, 10, g->forward_to);
	sqlite3_bind_int64(stmt, 11, g->created != 0 ? g->created : time_now());
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
out:
	sqlite3_finalize(stmt);
	return r;
}

static void
grant_rule_clear(struct grant_rule *g)
{
	free(g->login);
	free(g->hours);
	free(g->sources);
	free(g->forward_to);
	free(g->user_name);
	free(g->group_name);
	free(g->asset_name);
	free(g->asset_group_name);
	memset(g, 0, sizeof(*g));
}

void
store_grant_list_free(struct grant_rule *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		grant_rule_clear(&list[i]);
	free(list);
}

static int
grant_from_row(sqlite3_stmt *stmt, struct grant_rule *g)
{
	memset(g, 0, sizeof(*g));
	g->id = sqlite3_column_int64(stmt, 0);
	g->user_id = sqlite3_column_int64(stmt, 1);
	g->group_id = sqlite3_column_int64(stmt, 2);
	g->asset_id = sqlite3_column_int64(stmt, 3);
	g->asset_group_id = sqlite3_column_int64(stmt, 4);
	g->rights = (unsigned)sqlite3_column_int64(stmt, 6);
	g->expires = sqlite3_column_int64(stmt, 7);
	g->created = sqlite3_column_int64(stmt, 11);
	if (store_col_strdup(stmt, 5, &g->login) != 0 || store_col_strdup(stmt, 8, &g->hours) != 0 ||
	    store_col_strdup(stmt, 9, &g->sources) != 0 || store_col_strdup(stmt, 10, &g->forward_to) != 0 ||
	    store_col_strdup(stmt, 12, &g->user_name) != 0 || store_col_strdup(stmt, 13, &g->group_name) != 0 ||
	    store_col_strdup(stmt, 14, &g->asset_name) != 0 || store_col_strdup(stmt, 15, &g->asset_group_name) != 0) {
		grant_rule_clear(g);
		return ERR_NOMEM;
	}
	if (g->login == NULL) {
		grant_rule_clear(g);
		return ERR_DB;
	}
	return 0;
}

static int
fill_grant(sqlite3_stmt *stmt, void *elem)
{
	return grant_from_row(stmt, elem);
}

static void
release_grant(void *elem)
{
	grant_rule_clear(elem);
}

int
store_grant_list(struct store *st, int64_t user_id, int64_t asset_id, struct grant_rule **out, size_t *n)
{
	sqlite3_stmt *stmt = NULL;
	void *rows = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	*n = 0;
	/* A user's grants include those of the groups it belongs to; an
	 * asset's those given on the groups it belongs to. */
	if ((r = store_prepare(
	             st,
	             "SELECT g.id, g.user_id, g.group_id, g.asset_id, g.asset_group_id, g.login, g.rights,"
	             " g.expires, g.hours, g.sources, g.forward_to, g.created,"
	             " u.name, ug.name, a.name, ag.name"
	             " FROM grants g"
	             " LEFT JOIN users u ON u.id = g.user_id"
	             " LEFT JOIN groups ug ON ug.id = g.group_id"
	             " LEFT JOIN assets a ON a.id = g.asset_id"
	             " LEFT JOIN groups ag ON ag.id = g.asset_group_id"
	             " WHERE (?1 = 0 OR g.user_id = ?1"
	             "        OR g.group_id IN (SELECT group_id FROM group_members WHERE user_id = ?1))"
	             "   AND (?2 = 0 OR g.asset_id = ?2"
	             "        OR g.asset_group_id IN (SELECT group_id FROM asset_group_members WHERE asset_id = ?2))"
	             " ORDER BY g.id",
	             &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, user_id);
	sqlite3_bind_int64(stmt, 2, asset_id);
	if ((r = store_collect_rows(stmt, sizeof(struct grant_rule), fill_grant, release_grant, &rows, n)) != 0)
		goto out;
	*out = rows;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_grant_remove(struct store *st, int64_t id)
{
	return store_exec_id(st, "DELETE FROM grants WHERE id = ?1", id);
}
