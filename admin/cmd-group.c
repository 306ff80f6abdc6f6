/* group add | list | remove | member add | member remove
 *
 * A group holds users (for grants to many people) and assets (for grants on
 * many servers); the same name space serves both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "common/err.h"

/* Parse exactly `want` positionals, naming the missing one on error. */
static int
parse_pos(struct admin_ctx *ctx, int (*fn)(struct admin_ctx *, int, char **), int argc, char **argv, int want,
          const char *what, struct admin_args *a)
{
	const struct admin_cmd *cmd = admin_cmd_by_run(fn);
	int r;

	if ((r = admin_parse(ctx, cmd, argc, argv, NULL, want, a)) != 0)
		return r;
	admin_args_free(a);
	if (a->npos != want)
		return admin_usage(ctx, cmd, "missing %s", what);
	return 0;
}

static int
find_group(struct admin_ctx *ctx, const char *name, int64_t *id)
{
	int r = store_group_get_id(ctx->st, name, id);

	if (r == ERR_NOTFOUND)
		admin_fail(ctx, "group '%s' not found", name);
	else if (r != 0)
		admin_fail(ctx, "cannot read group '%s': %s", name, gh_strerror(r));
	return r;
}

int
cmd_group_add(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_args a;
	char obj[128];
	int64_t id = 0;
	int r;

	if ((r = parse_pos(ctx, cmd_group_add, argc, argv, 1, "group NAME", &a)) != 0)
		return r;
	if (admin_check_name(ctx, NAME_GROUP, a.pos[0]) != 0)
		return ADMIN_EXIT_FAIL;
	snprintf(obj, sizeof(obj), "group:%s", a.pos[0]);
	if (store_group_get_id(ctx->st, a.pos[0], &id) == 0)
		return admin_refuse(ctx, "group.add", obj, AUDIT_NOTICE, "group '%s' already exists", a.pos[0]);
	if ((r = store_begin(ctx->st)) != 0)
		return admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
	r = store_group_add(ctx->st, a.pos[0], &id);
	if (r != 0)
		admin_fail(ctx, "cannot add group '%s': %s", a.pos[0], gh_strerror(r));
	else
		r = admin_audit_tx(ctx, "group.add", obj, "ok", AUDIT_NOTICE, NULL);
	if (admin_end_tx(ctx, r) != 0)
		return ADMIN_EXIT_FAIL;
	fprintf(ctx->out, "group '%s' added\n", a.pos[0]);
	return ADMIN_EXIT_OK;
}

/* Names of the live assets in a group, as a JSON array. */
static json_t *
group_assets_json(struct admin_ctx *ctx, int64_t group_id)
{
	sqlite3_stmt *s = NULL;
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	if (sqlite3_prepare_v2(store_db(ctx->st),
	                       "SELECT a.name FROM assets a JOIN asset_group_members m ON m.asset_id = a.id"
	                       " WHERE m.group_id = ? AND a.removed = 0 ORDER BY a.name",
	                       -1, &s, NULL) != SQLITE_OK)
		return arr;
	sqlite3_bind_int64(s, 1, group_id);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(arr, json_string((const char *)sqlite3_column_text(s, 0)));
	sqlite3_finalize(s);
	return arr;
}

int
cmd_group_list(struct admin_ctx *ctx, int argc, char **argv)
{
	static const struct out_col cols[] = {{"name", "NAME"}, {"users", "USERS"}, {"assets", "ASSETS"}};
	struct admin_args a;
	char **names = NULL;
	size_t n = 0;
	json_t *rows = NULL;
	int r;

	if ((r = parse_pos(ctx, cmd_group_list, argc, argv, 0, "", &a)) != 0)
		return r;
	if ((r = store_group_list(ctx->st, &names, &n)) != 0)
		return admin_fail(ctx, "cannot list groups: %s", gh_strerror(r));
	rows = json_array();
	for (size_t i = 0; rows != NULL && i < n; i++) {
		char **members = NULL;
		size_t nm = 0;
		int64_t id = 0;
		json_t *users = json_array();

		if (store_group_get_id(ctx->st, names[i], &id) != 0)
			continue;
		if (store_group_members(ctx->st, id, &members, &nm) == 0)
			for (size_t j = 0; users != NULL && j < nm; j++)
				json_array_append_new(users, json_string(members[j]));
		store_strv_free(members, nm);
		json_array_append_new(rows, json_pack("{s:s,s:o,s:o}", "name", names[i], "users", users, "assets",
		                                      group_assets_json(ctx, id)));
	}
	store_strv_free(names, n);
	return out_table(ctx, cols, sizeof(cols) / sizeof(cols[0]), rows);
}

/* How many grants name a group, as user group or as asset group. */
static int
group_grant_count(struct admin_ctx *ctx, int64_t group_id, int64_t *count)
{
	sqlite3_stmt *s = NULL;
	int r = ERR_DB;

	*count = 0;
	if (sqlite3_prepare_v2(store_db(ctx->st),
	                       "SELECT count(*) FROM grants WHERE group_id = ?1 OR asset_group_id = ?1", -1, &s,
	                       NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_int64(s, 1, group_id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*count = sqlite3_column_int64(s, 0);
		r = 0;
	}
	sqlite3_finalize(s);
	return r;
}

int
cmd_group_remove(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_args a;
	char obj[128];
	int64_t id = 0, grants = 0;
	int r;

	if ((r = parse_pos(ctx, cmd_group_remove, argc, argv, 1, "group NAME", &a)) != 0)
		return r;
	if (find_group(ctx, a.pos[0], &id) != 0)
		return ADMIN_EXIT_FAIL;
	snprintf(obj, sizeof(obj), "group:%s", a.pos[0]);
	if ((r = group_grant_count(ctx, id, &grants)) != 0)
		return admin_fail(ctx, "cannot read grants: %s", gh_strerror(r));
	/* A grant must never silently lose its subject: make the admin decide. */
	if (grants > 0)
		return admin_refuse(ctx, "group.remove", obj, AUDIT_NOTICE,
		                    "group '%s' is used by %lld grant(s); remove them first (grant list)", a.pos[0],
		                    (long long)grants);
	if ((r = store_begin(ctx->st)) != 0)
		return admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
	r = store_group_remove(ctx->st, id);
	if (r != 0)
		admin_fail(ctx, "cannot remove group '%s': %s", a.pos[0], gh_strerror(r));
	else
		r = admin_audit_tx(ctx, "group.remove", obj, "ok", AUDIT_NOTICE, NULL);
	if (admin_end_tx(ctx, r) != 0)
		return ADMIN_EXIT_FAIL;
	fprintf(ctx->out, "group '%s' removed\n", a.pos[0]);
	return ADMIN_EXIT_OK;
}

static int
member_change(struct admin_ctx *ctx, int (*fn)(struct admin_ctx *, int, char **), int argc, char **argv, int add)
{
	const char *type = add ? "group.member.add" : "group.member.remove";
	struct admin_args a;
	struct user_rec *u = NULL;
	char obj[128], detail[256];
	int64_t gid = 0;
	int r, ret = ADMIN_EXIT_FAIL;

	if ((r = parse_pos(ctx, fn, argc, argv, 2, "GROUP USER", &a)) != 0)
		return r;
	if (find_group(ctx, a.pos[0], &gid) != 0 || admin_find_user(ctx, a.pos[1], &u) != 0)
		goto out;
	snprintf(obj, sizeof(obj), "group:%s", a.pos[0]);
	/* Names are validated (no quotes or backslashes), so they embed as is. */
	snprintf(detail, sizeof(detail), "{\"user\":\"%s\"}", u->name);
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	r = add ? store_group_member_add(ctx->st, gid, u->id) : store_group_member_remove(ctx->st, gid, u->id);
	if (r == ERR_EXISTS)
		admin_fail(ctx, "user '%s' is already a member of group '%s'", u->name, a.pos[0]);
	else if (r == ERR_NOTFOUND)
		admin_fail(ctx, "user '%s' is not a member of group '%s'", u->name, a.pos[0]);
	else if (r != 0)
		admin_fail(ctx, "cannot change group '%s': %s", a.pos[0], gh_strerror(r));
	else
		r = admin_audit_tx(ctx, type, obj, "ok", AUDIT_NOTICE, detail);
	if (admin_end_tx(ctx, r) != 0) {
		if (r == ERR_EXISTS || r == ERR_NOTFOUND)
			admin_audit(ctx, type, obj, "fail", AUDIT_NOTICE, detail);
		goto out;
	}
	fprintf(ctx->out, "user '%s' %s group '%s'\n", u->name, add ? "added to" : "removed from", a.pos[0]);
	ret = ADMIN_EXIT_OK;
out:
	user_rec_free(u);
	return ret;
}

int
cmd_group_member_add(struct admin_ctx *ctx, int argc, char **argv)
{
	return member_change(ctx, cmd_group_member_add, argc, argv, 1);
}

int
cmd_group_member_remove(struct admin_ctx *ctx, int argc, char **argv)
{
	return member_change(ctx, cmd_group_member_remove, argc, argv, 0);
}
