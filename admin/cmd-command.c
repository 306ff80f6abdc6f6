/* cmdrule add | list | remove, command list (issue 6, schema migration 3).
 *
 * Rules are matched by the proxy (proxy/cmdctl.c) with regcomp(REG_EXTENDED
 * | REG_NOSUB): a pattern is validated here with the same flags, so a stored
 * rule always compiles there. Commands are read-only: an auditor sees all,
 * other roles in the role shell only their own. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "common/err.h"
#include "common/timeutil.h"

#define CMDRULE_MAX_PATTERN 1024

static json_t *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? json_string((const char *)t) : json_null();
}

static int
parse_id(const char *s, int64_t *id)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		return ERR_INVALID;
	*id = v;
	return 0;
}

int
cmd_cmdrule_add(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_PATTERN, O_ACTION, O_USER, O_GROUP, O_ASSET, O_AGROUP, O_PRIORITY };
	static const struct admin_opt opts[] = {
	        {"pattern", 1, 0}, {"action", 1, 0},      {"user", 1, 0},     {"group", 1, 0},
	        {"asset", 1, 0},   {"asset-group", 1, 0}, {"priority", 1, 0}, {0},
	};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_cmdrule_add);
	struct admin_args a;
	struct user_rec *u = NULL;
	struct asset_rec *as = NULL;
	int64_t uid = 0, gid = 0, aid = 0, agid = 0, id = 0, prio = 100;
	sqlite3_stmt *s = NULL;
	char obj[64], errbuf[256], *detail = NULL, *end = NULL;
	json_t *dj = NULL;
	regex_t re;
	int r, rc, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 0, &a)) != 0)
		return r;
	if (!a.set[O_PATTERN] || a.val[O_PATTERN][0] == '\0') {
		ret = admin_usage(ctx, cmd, "missing --pattern REGEX");
		goto out;
	}
	if (strlen(a.val[O_PATTERN]) > CMDRULE_MAX_PATTERN) {
		ret = admin_usage(ctx, cmd, "--pattern is longer than %d bytes", CMDRULE_MAX_PATTERN);
		goto out;
	}
	if (!a.set[O_ACTION] || (strcmp(a.val[O_ACTION], "block") != 0 && strcmp(a.val[O_ACTION], "alert") != 0)) {
		ret = admin_usage(ctx, cmd, "--action must be block or alert");
		goto out;
	}
	if (a.set[O_USER] && a.set[O_GROUP]) {
		ret = admin_usage(ctx, cmd, "give at most one of --user U or --group G");
		goto out;
	}
	if (a.set[O_ASSET] && a.set[O_AGROUP]) {
		ret = admin_usage(ctx, cmd, "give at most one of --asset A or --asset-group AG");
		goto out;
	}
	if (a.set[O_PRIORITY]) {
		errno = 0;
		prio = strtoll(a.val[O_PRIORITY], &end, 10);
		if (errno != 0 || end == a.val[O_PRIORITY] || *end != '\0' || prio < 0 || prio > 1000000) {
			ret = admin_usage(ctx, cmd, "invalid --priority '%s' (0 to 1000000, lower first)",
			                  a.val[O_PRIORITY]);
			goto out;
		}
	}
	/* The proxy compiles with exactly these flags. */
	if ((rc = regcomp(&re, a.val[O_PATTERN], REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &re, errbuf, sizeof(errbuf));
		ret = admin_usage(ctx, cmd, "invalid --pattern: %s", errbuf);
		goto out;
	}
	/* A pattern that matches an empty command matches every command. */
	rc = regexec(&re, "", 0, NULL, 0);
	regfree(&re);
	if (rc == 0) {
		ret = admin_usage(ctx, cmd, "--pattern '%s' matches an empty command, so every command",
		                  a.val[O_PATTERN]);
		goto out;
	}
	if (a.set[O_USER]) {
		if (admin_find_user(ctx, a.val[O_USER], &u) != 0)
			goto out;
		uid = u->id;
	} else if (a.set[O_GROUP] && store_group_get_id(ctx->st, a.val[O_GROUP], &gid) != 0) {
		admin_fail(ctx, "group '%s' not found", a.val[O_GROUP]);
		goto out;
	}
	if (a.set[O_ASSET]) {
		if (admin_find_asset(ctx, a.val[O_ASSET], &as) != 0)
			goto out;
		aid = as->id;
	} else if (a.set[O_AGROUP] && store_group_get_id(ctx->st, a.val[O_AGROUP], &agid) != 0) {
		admin_fail(ctx, "asset group '%s' not found", a.val[O_AGROUP]);
		goto out;
	}
	dj = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:I}", "pattern", a.val[O_PATTERN], "action", a.val[O_ACTION], "user",
	               out_str(a.val[O_USER]), "group", out_str(a.val[O_GROUP]), "asset", out_str(a.val[O_ASSET]),
	               "asset_group", out_str(a.val[O_AGROUP]), "priority", (json_int_t)prio);
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	rc = sqlite3_prepare_v2(store_db(ctx->st),
	                        "INSERT INTO cmdrules (pattern, action, user_id, group_id, asset_id, asset_group_id,"
	                        " priority, created) VALUES (?,?,?,?,?,?,?,?)",
	                        -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, a.val[O_PATTERN], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, a.val[O_ACTION], -1, SQLITE_STATIC);
		uid ? sqlite3_bind_int64(s, 3, uid) : sqlite3_bind_null(s, 3);
		gid ? sqlite3_bind_int64(s, 4, gid) : sqlite3_bind_null(s, 4);
		aid ? sqlite3_bind_int64(s, 5, aid) : sqlite3_bind_null(s, 5);
		agid ? sqlite3_bind_int64(s, 6, agid) : sqlite3_bind_null(s, 6);
		sqlite3_bind_int64(s, 7, prio);
		sqlite3_bind_int64(s, 8, time_now());
		rc = sqlite3_step(s);
	}
	r = rc == SQLITE_DONE ? 0 : store_err(rc);
	if (r != 0)
		admin_fail(ctx, "cannot add the rule: %s", sqlite3_errmsg(store_db(ctx->st)));
	id = sqlite3_last_insert_rowid(store_db(ctx->st));
	snprintf(obj, sizeof(obj), "cmdrule:%lld", (long long)id);
	if (r == 0)
		r = admin_audit_tx(ctx, "cmdrule.add", obj, "ok", AUDIT_NOTICE, detail);
	if (admin_end_tx(ctx, r) != 0)
		goto out;
	fprintf(ctx->out, "command rule %lld added: %s /%s/ for %s on %s, priority %lld\n", (long long)id,
	        a.val[O_ACTION], a.val[O_PATTERN],
	        a.set[O_USER]    ? a.val[O_USER]
	        : a.set[O_GROUP] ? a.val[O_GROUP]
	                         : "everyone",
	        a.set[O_ASSET]    ? a.val[O_ASSET]
	        : a.set[O_AGROUP] ? a.val[O_AGROUP]
	                          : "every asset",
	        (long long)prio);
	ret = ADMIN_EXIT_OK;
out:
	sqlite3_finalize(s);
	admin_args_free(&a);
	user_rec_free(u);
	asset_rec_free(as);
	json_decref(dj);
	free(detail);
	return ret;
}

int
cmd_cmdrule_list(struct admin_ctx *ctx, int argc, char **argv)
{
	static const struct out_col cols[] = {
	        {"id", "ID"},       {"priority", "PRIORITY"}, {"action", "ACTION"},           {"user", "USER"},
	        {"group", "GROUP"}, {"asset", "ASSET"},       {"asset_group", "ASSET GROUP"}, {"pattern", "PATTERN"},
	};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_cmdrule_list);
	struct admin_args a;
	sqlite3_stmt *s = NULL;
	json_t *rows = NULL;
	int r, rc, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, cmd, argc, argv, NULL, 0, &a)) != 0)
		return r;
	rc = sqlite3_prepare_v2(
	        store_db(ctx->st),
	        "SELECT r.id, r.priority, r.action, u.name, g.name, a.name, ag.name, r.pattern, r.created"
	        " FROM cmdrules r LEFT JOIN users u ON u.id = r.user_id"
	        " LEFT JOIN groups g ON g.id = r.group_id LEFT JOIN assets a ON a.id = r.asset_id"
	        " LEFT JOIN groups ag ON ag.id = r.asset_group_id ORDER BY r.priority, r.id",
	        -1, &s, NULL);
	if (rc != SQLITE_OK || (rows = json_array()) == NULL) {
		admin_fail(ctx, "cannot read command rules: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(rows, json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id",
		                                      (json_int_t)sqlite3_column_int64(s, 0), "priority",
		                                      (json_int_t)sqlite3_column_int64(s, 1), "action", col_text(s, 2),
		                                      "user", col_text(s, 3), "group", col_text(s, 4), "asset",
		                                      col_text(s, 5), "asset_group", col_text(s, 6), "pattern",
		                                      col_text(s, 7), "created", out_time(sqlite3_column_int64(s, 8))));
	if (rc != SQLITE_DONE) {
		admin_fail(ctx, "cannot read command rules: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	ret = out_table(ctx, cols, sizeof(cols) / sizeof(cols[0]), rows);
	rows = NULL;
out:
	sqlite3_finalize(s);
	json_decref(rows);
	admin_args_free(&a);
	return ret;
}

int
cmd_cmdrule_remove(struct admin_ctx *ctx, int argc, char **argv)
{
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_cmdrule_remove);
	struct admin_args a;
	sqlite3_stmt *s = NULL;
	char obj[64];
	int64_t id = 0;
	int r, rc;

	if ((r = admin_parse(ctx, cmd, argc, argv, NULL, 1, &a)) != 0)
		return r;
	if (a.npos != 1) {
		admin_args_free(&a);
		return admin_usage(ctx, cmd, "missing rule ID");
	}
	r = parse_id(a.pos[0], &id);
	if (r != 0) {
		r = admin_usage(ctx, cmd, "invalid rule ID '%s' (a number from 'cmdrule list')", a.pos[0]);
		admin_args_free(&a);
		return r;
	}
	admin_args_free(&a);
	snprintf(obj, sizeof(obj), "cmdrule:%lld", (long long)id);
	if ((r = store_begin(ctx->st)) != 0)
		return admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
	rc = sqlite3_prepare_v2(store_db(ctx->st), "DELETE FROM cmdrules WHERE id = ?", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s);
	}
	sqlite3_finalize(s);
	r = rc == SQLITE_DONE ? 0 : store_err(rc);
	if (r == 0 && sqlite3_changes(store_db(ctx->st)) == 0)
		r = ERR_NOTFOUND;
	if (r == 0)
		r = admin_audit_tx(ctx, "cmdrule.remove", obj, "ok", AUDIT_NOTICE, NULL);
	if ((r = admin_end_tx(ctx, r)) != 0) {
		if (r == ERR_NOTFOUND)
			return admin_refuse(ctx, "cmdrule.remove", obj, AUDIT_NOTICE, "command rule %lld not found",
			                    (long long)id);
		return admin_fail(ctx, "cannot remove command rule %lld: %s", (long long)id, gh_strerror(r));
	}
	fprintf(ctx->out, "command rule %lld removed\n", (long long)id);
	return ADMIN_EXIT_OK;
}

/* The offset as gatehouse-play --from takes it: "M:SS" or "H:MM:SS", whole
 * seconds rounded down so playback starts just before the command. */
static void
format_from(int64_t offset_ms, char *buf, size_t len)
{
	int64_t s = offset_ms / 1000;

	if (s >= 3600)
		snprintf(buf, len, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
		         (long long)(s % 60));
	else
		snprintf(buf, len, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static json_t *
command_json(sqlite3_stmt *s)
{
	char ts[64], from[32];
	int64_t ts_ms = sqlite3_column_int64(s, 7), off = sqlite3_column_int64(s, 8);
	int64_t t = ts_ms / 1000;

	time_format_iso(t, ts, sizeof(ts));
	/* time_format_iso gives seconds; add the milliseconds before the zone. */
	{
		char *z = strchr(ts, 'Z');

		if (z != NULL && (size_t)(z - ts) + 6 < sizeof(ts))
			snprintf(z, sizeof(ts) - (size_t)(z - ts), ".%03lldZ", (long long)(ts_ms % 1000));
	}
	format_from(off, from, sizeof(from));
	return json_pack("{s:I,s:I,s:o,s:I,s:o,s:o,s:o,s:s,s:I,s:f,s:s,s:o,s:o,s:o,s:b,s:b,s:o,s:o,s:o}", "id",
	                 (json_int_t)sqlite3_column_int64(s, 0), "session", (json_int_t)sqlite3_column_int64(s, 1),
	                 "session_uuid", col_text(s, 2), "channel", (json_int_t)sqlite3_column_int64(s, 3), "user",
	                 col_text(s, 4), "asset", col_text(s, 5), "login", col_text(s, 6), "time", ts, "ts_ms",
	                 (json_int_t)ts_ms, "offset", (double)off / 1000.0, "from", from, "kind", col_text(s, 9),
	                 "command", col_text(s, 10), "source", col_text(s, 11), "confident", sqlite3_column_int(s, 12),
	                 "truncated", sqlite3_column_int(s, 13), "action", col_text(s, 14), "rule",
	                 sqlite3_column_type(s, 15) == SQLITE_NULL ? json_null()
	                                                           : json_integer(sqlite3_column_int64(s, 15)),
	                 "reason", col_text(s, 16));
}

int
cmd_command_list(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_SESSION, O_USER, O_ASSET, O_SINCE, O_UNTIL, O_GREP, O_UNCERTAIN };
	static const struct admin_opt opts[] = {
	        {"session", 1, 0}, {"user", 1, 0}, {"asset", 1, 0},     {"since", 1, 0},
	        {"until", 1, 0},   {"grep", 1, 0}, {"uncertain", 0, 0}, {0},
	};
	static const struct out_col cols[] = {
	        {"id", "ID"},
	        {"time", "TIME"},
	        {"session", "SESSION"},
	        {"from", "FROM"},
	        {"user", "USER"},
	        {"login", "LOGIN"},
	        {"asset", "ASSET"},
	        {"source", "SOURCE"},
	        {"action", "ACTION"},
	        {"kind", "KIND"},
	        {"reason", "UNCERTAIN BECAUSE"},
	        {"command", "COMMAND"},
	};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_command_list);
	struct admin_args a;
	sqlite3_stmt *s = NULL;
	const char *user = NULL;
	int64_t session = 0, since = 0, until = 0;
	json_t *rows = NULL;
	regex_t re;
	int have_re = 0, r, rc, ret = ADMIN_EXIT_FAIL;
	char errbuf[256];

	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 0, &a)) != 0)
		return r;
	if (a.set[O_SESSION] && parse_id(a.val[O_SESSION], &session) != 0) {
		ret = admin_usage(ctx, cmd, "invalid --session '%s' (a session ID from 'session list')",
		                  a.val[O_SESSION]);
		goto out;
	}
	if (a.set[O_SINCE] && time_parse_iso(a.val[O_SINCE], &since) != 0) {
		ret = admin_usage(ctx, cmd, "invalid --since '%s': expected ISO 8601 such as 2026-11-21T08:00:00Z",
		                  a.val[O_SINCE]);
		goto out;
	}
	if (a.set[O_UNTIL] && time_parse_iso(a.val[O_UNTIL], &until) != 0) {
		ret = admin_usage(ctx, cmd, "invalid --until '%s': expected ISO 8601 such as 2026-11-21T09:00:00Z",
		                  a.val[O_UNTIL]);
		goto out;
	}
	if (a.set[O_GREP]) {
		if ((rc = regcomp(&re, a.val[O_GREP], REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(rc, &re, errbuf, sizeof(errbuf));
			ret = admin_usage(ctx, cmd, "invalid --grep: %s", errbuf);
			goto out;
		}
		have_re = 1;
	}
	user = a.val[O_USER];
	if (!ctx->local_root && ctx->role != ROLE_AUDITOR) {
		if (user != NULL && strcmp(user, ctx->actor) != 0) {
			admin_fail(ctx, "role %s may list only its own commands", user_role_name(ctx->role));
			goto out;
		}
		user = ctx->actor;
	}
	rc = sqlite3_prepare_v2(
	        store_db(ctx->st),
	        "SELECT c.id, c.session_id, s.uuid, c.channel, c.user, c.asset, c.login, c.ts_ms,"
	        " c.offset_ms, c.kind, c.command, c.source, c.confident, c.truncated, c.action, c.rule_id, c.reason"
	        " FROM commands c LEFT JOIN sessions s ON s.id = c.session_id"
	        " WHERE (?1 = 0 OR c.session_id = ?1) AND (?2 IS NULL OR c.user = ?2)"
	        " AND (?3 IS NULL OR c.asset = ?3) AND (?4 = 0 OR c.ts_ms >= ?4 * 1000)"
	        " AND (?5 = 0 OR c.ts_ms < (?5 + 1) * 1000)"
	        " AND (?6 = 0 OR (c.kind = 'command' AND (c.confident = 0 OR c.reason IS NOT NULL)))"
	        " ORDER BY c.ts_ms, c.id",
	        -1, &s, NULL);
	if (rc != SQLITE_OK || (rows = json_array()) == NULL) {
		admin_fail(ctx, "cannot read commands: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	sqlite3_bind_int64(s, 1, session);
	if (user != NULL)
		sqlite3_bind_text(s, 2, user, -1, SQLITE_STATIC);
	if (a.set[O_ASSET])
		sqlite3_bind_text(s, 3, a.val[O_ASSET], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, since);
	sqlite3_bind_int64(s, 5, until);
	sqlite3_bind_int(s, 6, a.set[O_UNCERTAIN] ? 1 : 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(s, 10);

		if (have_re && (text == NULL || regexec(&re, text, 0, NULL, 0) != 0))
			continue;
		json_array_append_new(rows, command_json(s));
	}
	if (rc != SQLITE_DONE) {
		admin_fail(ctx, "cannot read commands: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	ret = out_table(ctx, cols, sizeof(cols) / sizeof(cols[0]), rows);
	rows = NULL;
out:
	if (have_re)
		regfree(&re);
	sqlite3_finalize(s);
	json_decref(rows);
	admin_args_free(&a);
	return ret;
}
