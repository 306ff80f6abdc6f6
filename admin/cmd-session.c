/* session list | show: the sessions the proxy records (schema migration 2).
 * Read-only. In the role shell an operator (and a superadmin) sees only
 * their own sessions; an auditor sees all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "common/err.h"

static const char *
own_only(const struct admin_ctx *ctx)
{
	return !ctx->local_root && ctx->role != ROLE_AUDITOR ? ctx->actor : NULL;
}

#define SESSION_COLS                                                                                                   \
	"id, uuid, user, source_addr, source_port, asset, login, channel_types, start, end, end_reason, ended_by, "    \
	"state, recording, bytes_in, bytes_out, last_activity"

static json_t *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? json_string((const char *)t) : json_null();
}

static json_t *
session_json(sqlite3_stmt *s)
{
	char src[128];
	json_t *o;

	const char *addr = sqlite3_column_text(s, 3) ? (const char *)sqlite3_column_text(s, 3) : "?";

	/* [v6]:port, as OpenSSH writes it, so the port cannot be misread. */
	snprintf(src, sizeof(src), strchr(addr, ':') != NULL ? "[%s]:%lld" : "%s:%lld", addr,
	         (long long)sqlite3_column_int64(s, 4));
	o = json_pack("{s:I,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:o}", "id",
	              (json_int_t)sqlite3_column_int64(s, 0), "uuid", col_text(s, 1), "user", col_text(s, 2), "source",
	              src, "asset", col_text(s, 5), "login", col_text(s, 6), "channels", col_text(s, 7), "start",
	              out_time(sqlite3_column_int64(s, 8)), "end", out_time(sqlite3_column_int64(s, 9)), "end_reason",
	              col_text(s, 10), "ended_by", col_text(s, 11), "state", col_text(s, 12), "recording",
	              col_text(s, 13), "bytes_in", (json_int_t)sqlite3_column_int64(s, 14), "bytes_out",
	              (json_int_t)sqlite3_column_int64(s, 15), "last_activity", out_time(sqlite3_column_int64(s, 16)));
	return o;
}

int
cmd_session_list(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_USER, O_ASSET, O_ACTIVE };
	static const struct admin_opt opts[] = {{"user", 1, 0}, {"asset", 1, 0}, {"active", 0, 0}, {0}};
	static const struct out_col cols[] = {
	        {"id", "ID"},       {"user", "USER"},   {"source", "SOURCE"},
	        {"asset", "ASSET"}, {"login", "LOGIN"}, {"start", "START"},
	        {"end", "END"},     {"state", "STATE"}, {"end_reason", "END REASON"},
	};
	static const struct out_col acols[] = {
	        {"id", "ID"},       {"user", "USER"},   {"source", "SOURCE"}, {"asset", "ASSET"},
	        {"login", "LOGIN"}, {"start", "START"}, {"idle", "IDLE(S)"},  {"bytes", "BYTES IN/OUT"},
	};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_session_list);
	struct admin_args a;
	sqlite3_stmt *s = NULL;
	const char *user = NULL;
	json_t *rows = NULL;
	int r, rc, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 0, &a)) != 0)
		return r;
	user = a.val[O_USER];
	/* A superadmin may terminate live sessions (architecture.md, roles), so
	 * sees who is connected where now; history and content stay own-only. */
	if (own_only(ctx) != NULL && !(ctx->role == ROLE_SUPERADMIN && a.set[O_ACTIVE])) {
		if (user != NULL && strcmp(user, own_only(ctx)) != 0) {
			admin_fail(ctx, "role %s may list only its own sessions", user_role_name(ctx->role));
			goto out;
		}
		user = own_only(ctx);
	}
	rc = sqlite3_prepare_v2(store_db(ctx->st),
	                        "SELECT " SESSION_COLS " FROM sessions WHERE (?1 IS NULL OR user = ?1)"
	                        " AND (?2 IS NULL OR asset = ?2) AND (?3 = 0 OR state = 'active') ORDER BY id",
	                        -1, &s, NULL);
	if (rc != SQLITE_OK) {
		admin_fail(ctx, "cannot read sessions: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	if (user != NULL)
		sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	if (a.set[O_ASSET])
		sqlite3_bind_text(s, 2, a.val[O_ASSET], -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, a.set[O_ACTIVE] ? 1 : 0);
	if ((rows = json_array()) == NULL) {
		admin_fail(ctx, "out of memory");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = session_json(s);
		int64_t last = sqlite3_column_int64(s, 16), now = time(NULL);
		char bytes[64];

		/* live view: idle seconds (the row is updated every few seconds) and both byte counts */
		json_object_set_new(o, "idle", json_integer(last > 0 && now > last ? (json_int_t)(now - last) : 0));
		snprintf(bytes, sizeof(bytes), "%lld/%lld", (long long)sqlite3_column_int64(s, 14),
		         (long long)sqlite3_column_int64(s, 15));
		json_object_set_new(o, "bytes", json_string(bytes));
		json_array_append_new(rows, o);
	}
	if (rc != SQLITE_DONE) {
		admin_fail(ctx, "cannot read sessions: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	if (a.set[O_ACTIVE])
		ret = out_table(ctx, acols, sizeof(acols) / sizeof(acols[0]), rows);
	else
		ret = out_table(ctx, cols, sizeof(cols) / sizeof(cols[0]), rows);
	rows = NULL;
out:
	sqlite3_finalize(s);
	json_decref(rows);
	admin_args_free(&a);
	return ret;
}

static json_t *
session_channels(struct admin_ctx *ctx, int64_t id)
{
	sqlite3_stmt *s = NULL;
	json_t *arr = json_array();

	if (arr == NULL || sqlite3_prepare_v2(store_db(ctx->st),
	                                      "SELECT num, type, command, opened, closed, exit_status FROM channels"
	                                      " WHERE session_id = ? ORDER BY num",
	                                      -1, &s, NULL) != SQLITE_OK)
		return arr;
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "num",
		                                     (json_int_t)sqlite3_column_int64(s, 0), "type", col_text(s, 1),
		                                     "command", col_text(s, 2), "opened",
		                                     out_time(sqlite3_column_int64(s, 3)), "closed",
		                                     out_time(sqlite3_column_int64(s, 4)), "exit_status",
		                                     sqlite3_column_type(s, 5) == SQLITE_NULL
		                                             ? json_null()
		                                             : json_integer(sqlite3_column_int64(s, 5))));
	sqlite3_finalize(s);
	return arr;
}

int
cmd_session_show(struct admin_ctx *ctx, int argc, char **argv)
{
	static const struct out_col cols[] = {
	        {"id", "ID"},
	        {"uuid", "UUID"},
	        {"user", "User"},
	        {"source", "Source"},
	        {"asset", "Asset"},
	        {"login", "Login"},
	        {"channels", "Channel types"},
	        {"start", "Start"},
	        {"end", "End"},
	        {"state", "State"},
	        {"end_reason", "End reason"},
	        {"ended_by", "Ended by"},
	        {"bytes_in", "Bytes in"},
	        {"bytes_out", "Bytes out"},
	        {"last_activity", "Last activity"},
	        {"recording", "Recording"},
	};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_session_show);
	struct admin_args a;
	sqlite3_stmt *s = NULL;
	json_t *o = NULL, *chans = NULL;
	char *end = NULL;
	long long id = 0;
	int r, rc, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, cmd, argc, argv, NULL, 1, &a)) != 0)
		return r;
	admin_args_free(&a);
	if (a.npos != 1)
		return admin_usage(ctx, cmd, "missing session ID");
	/* A session is named by its number or its UUID (the recording name). */
	errno = 0;
	id = strtoll(a.pos[0], &end, 10);
	if (errno != 0 || end == a.pos[0] || *end != '\0')
		id = 0;
	rc = sqlite3_prepare_v2(store_db(ctx->st), "SELECT " SESSION_COLS " FROM sessions WHERE id = ?1 OR uuid = ?2",
	                        -1, &s, NULL);
	if (rc != SQLITE_OK) {
		admin_fail(ctx, "cannot read sessions: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, a.pos[0], -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		admin_fail(ctx, "session '%s' not found", a.pos[0]);
		goto out;
	} else if (rc != SQLITE_ROW) {
		admin_fail(ctx, "cannot read sessions: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	if (own_only(ctx) != NULL && (sqlite3_column_text(s, 2) == NULL ||
	                              strcmp((const char *)sqlite3_column_text(s, 2), own_only(ctx)) != 0)) {
		/* Same message as a missing session: no probing of others' ids. */
		admin_fail(ctx, "session '%s' not found", a.pos[0]);
		goto out;
	}
	o = session_json(s);
	chans = session_channels(ctx, sqlite3_column_int64(s, 0));
	if (ctx->json) {
		json_object_set(o, "channel_list", chans);
		ret = out_object(ctx, cols, sizeof(cols) / sizeof(cols[0]), o);
		o = NULL;
		goto out;
	}
	ret = out_object(ctx, cols, sizeof(cols) / sizeof(cols[0]), o);
	o = NULL;
	if (ret == ADMIN_EXIT_OK && json_array_size(chans) > 0) {
		static const struct out_col ccols[] = {
		        {"num", "CHANNEL"},   {"type", "TYPE"},        {"opened", "OPENED"},
		        {"closed", "CLOSED"}, {"exit_status", "EXIT"}, {"command", "COMMAND"},
		};
		fprintf(ctx->out, "\n");
		ret = out_table(ctx, ccols, sizeof(ccols) / sizeof(ccols[0]), chans);
		chans = NULL;
	}
out:
	sqlite3_finalize(s);
	json_decref(o);
	json_decref(chans);
	return ret;
}
