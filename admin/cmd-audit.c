/* audit list | verify | export
 *
 * Reading the trail never changes it; `verify` appends one event with its
 * result, which extends the chain like any other event (a broken chain stays
 * broken at the same row, and the next verify reports it again). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "common/err.h"
#include "common/timeutil.h"

/* Role shell: a superadmin sees only the events of their own actions. */
static const char *
actor_filter(const struct admin_ctx *ctx)
{
	return !ctx->local_root && ctx->role == ROLE_SUPERADMIN ? ctx->actor : NULL;
}

static int
parse_since(struct admin_ctx *ctx, const struct admin_cmd *cmd, const char *s, int64_t *since)
{
	if (time_parse_iso(s, since) != 0)
		return admin_usage(ctx, cmd,
		                   "invalid --since '%s': expected an ISO 8601 date such as 2026-11-21 or "
		                   "2026-11-21T08:00:00Z",
		                   s);
	return 0;
}

int
cmd_audit_list(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_SINCE, O_TYPE };
	static const struct admin_opt opts[] = {{"since", 1, 0}, {"type", 1, 0}, {0}};
	static const struct out_col cols[] = {
	        {"id", "ID"},     {"time", "TIME"},     {"actor", "ACTOR"},   {"source", "SOURCE"},
	        {"type", "TYPE"}, {"object", "OBJECT"}, {"result", "RESULT"}, {"importance", "IMPORTANCE"},
	};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_audit_list);
	struct admin_args a;
	sqlite3_stmt *s = NULL;
	char since_ts[64] = "", prefix[256] = "";
	int64_t since = 0;
	json_t *rows = NULL;
	int r, rc, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 0, &a)) != 0)
		return r;
	if (a.set[O_SINCE]) {
		if ((ret = parse_since(ctx, cmd, a.val[O_SINCE], &since)) != 0)
			goto out;
		ret = ADMIN_EXIT_FAIL;
		/* Stored times are "YYYY-MM-DDTHH:MM:SS[.mmm]Z": compare against
		 * the seconds prefix so that an event within that second counts. */
		time_format_iso(since, since_ts, sizeof(since_ts));
		since_ts[strcspn(since_ts, "Z")] = '\0';
	}
	if (a.set[O_TYPE])
		snprintf(prefix, sizeof(prefix), "%s.", a.val[O_TYPE]);
	rc = sqlite3_prepare_v2(store_db(ctx->st),
	                        "SELECT id, ts, actor, source, type, object, result, importance, detail FROM audit"
	                        " WHERE (?1 IS NULL OR ts >= ?1)"
	                        " AND (?2 IS NULL OR type = ?2 OR substr(type, 1, length(?3)) = ?3)"
	                        " AND (?4 IS NULL OR actor = ?4) ORDER BY id",
	                        -1, &s, NULL);
	if (rc != SQLITE_OK) {
		admin_fail(ctx, "cannot read the audit trail: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	if (since_ts[0] != '\0')
		sqlite3_bind_text(s, 1, since_ts, -1, SQLITE_STATIC);
	if (a.set[O_TYPE]) {
		sqlite3_bind_text(s, 2, a.val[O_TYPE], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, prefix, -1, SQLITE_STATIC);
	}
	if (actor_filter(ctx) != NULL)
		sqlite3_bind_text(s, 4, actor_filter(ctx), -1, SQLITE_STATIC);
	if ((rows = json_array()) == NULL) {
		admin_fail(ctx, "out of memory");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_pack(
		        "{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)sqlite3_column_int64(s, 0), "time",
		        (const char *)sqlite3_column_text(s, 1), "actor", (const char *)sqlite3_column_text(s, 2),
		        "source", (const char *)sqlite3_column_text(s, 3), "type",
		        (const char *)sqlite3_column_text(s, 4), "object", (const char *)sqlite3_column_text(s, 5),
		        "result", (const char *)sqlite3_column_text(s, 6), "importance",
		        (const char *)sqlite3_column_text(s, 7));
		const char *detail = (const char *)sqlite3_column_text(s, 8);

		if (o != NULL && detail != NULL) {
			json_t *d = json_loads(detail, 0, NULL);

			json_object_set_new(o, "detail", d != NULL ? d : json_string(detail));
		}
		json_array_append_new(rows, o);
	}
	if (rc != SQLITE_DONE) {
		admin_fail(ctx, "cannot read the audit trail: %s", sqlite3_errmsg(store_db(ctx->st)));
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

/* Check every anchor of path against the database. Returns 0 when all
 * match; else ADMIN_EXIT_FAIL with the first bad anchor (or the problem) in
 * why. *n counts the anchors checked. */
static int
check_anchors(struct admin_ctx *ctx, const char *path, int64_t *n, char *why, size_t whylen)
{
	FILE *f = NULL;
	char *line = NULL, hex[AUDIT_HASH_HEX + 1];
	size_t cap = 0;
	int64_t id = 0, lineno = 0, retired = 0;
	int r, ret = ADMIN_EXIT_FAIL;

	*n = 0;
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(why, whylen, "cannot open %s", path);
		goto out;
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		r = audit_anchor_parse(line, &id, hex);
		if (r == 0)
			continue;
		if (r < 0) {
			snprintf(why, whylen, "%s:%lld: malformed anchor line", path, (long long)lineno);
			goto out;
		}
		r = audit_anchor_check(ctx->st, id, hex, why, whylen);
		if (r == AUDIT_ANCHOR_RETIRED) {
			retired++;
			continue;
		}
		(*n)++;
		if (r != 0) {
			if (r != ERR_TAMPER)
				snprintf(why, whylen, "cannot check anchor id=%lld: %s", (long long)id, gh_strerror(r));
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(why, whylen, "cannot read %s", path);
		goto out;
	}
	if (*n == 0) {
		/* An empty export proves nothing: say so rather than pass. */
		snprintf(why, whylen, "no anchors found in %s (%lld for rows removed by retention)", path,
		         (long long)retired);
		goto out;
	}
	ret = 0;
out:
	free(line);
	if (f != NULL)
		fclose(f);
	return ret;
}

int
cmd_audit_verify(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_ANCHORS };
	static const struct admin_opt opts[] = {{"anchors", 1, 0}, {0}};
	struct admin_args a;
	char why[512] = "", awhy[512] = "", *detail = NULL;
	int64_t bad = 0, rows = 0, nanchors = 0;
	json_t *dj = NULL, *res = NULL;
	int r, ar = 0, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, admin_cmd_by_run(cmd_audit_verify), argc, argv, opts, 0, &a)) != 0)
		return r;
	/* Over the role shell, a path would let a remote user probe the
	 * bastion's files: anchors are checked on the bastion itself. */
	if (a.set[O_ANCHORS] && !ctx->local_root) {
		admin_args_free(&a);
		return admin_fail(ctx, "--anchors is only available in the local CLI");
	}
	r = audit_verify(ctx->st, &bad, &rows, why, sizeof(why));
	if (r != 0 && r != ERR_TAMPER) {
		admin_args_free(&a);
		return admin_fail(ctx, "cannot verify the audit trail: %s", gh_strerror(r));
	}
	if (a.set[O_ANCHORS])
		ar = check_anchors(ctx, a.val[O_ANCHORS], &nanchors, awhy, sizeof(awhy));
	admin_args_free(&a);
	if (r == 0)
		dj = json_pack("{s:I}", "events", (json_int_t)rows);
	else
		dj = json_pack("{s:I,s:I,s:s}", "events", (json_int_t)rows, "bad_row", (json_int_t)bad, "reason", why);
	if (dj != NULL && nanchors > 0)
		json_object_set_new(dj, "anchors", json_integer(nanchors));
	if (dj != NULL && ar != 0)
		json_object_set_new(dj, "anchor_error", json_string(awhy));
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT) : NULL;
	/* The verification itself is an event, whatever its outcome. */
	admin_audit(ctx, "audit.verify", "audit", r == 0 && ar == 0 ? "ok" : "fail",
	            r == 0 && ar == 0 ? AUDIT_INFO : AUDIT_CRITICAL, detail);
	if (ctx->json) {
		res = json_pack("{s:b,s:I}", "ok", r == 0 && ar == 0, "events", (json_int_t)rows);
		if (res != NULL && r != 0) {
			json_object_set_new(res, "bad_row", json_integer(bad));
			json_object_set_new(res, "reason", json_string(why));
		}
		if (res != NULL && nanchors > 0)
			json_object_set_new(res, "anchors", json_integer(nanchors));
		if (res != NULL && ar != 0)
			json_object_set_new(res, "anchor_error", json_string(awhy));
		out_json(ctx->out, res, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	}
	if (r != 0)
		admin_fail(ctx, "audit chain BROKEN at row %lld: %s", (long long)bad, why);
	else if (ar != 0)
		admin_fail(ctx, "audit chain does not match its anchors: %s", awhy);
	else {
		if (!ctx->json && nanchors > 0)
			fprintf(ctx->out, "audit chain OK: %lld events, %lld anchors match\n", (long long)rows,
			        (long long)nanchors);
		else if (!ctx->json)
			fprintf(ctx->out, "audit chain OK: %lld events\n", (long long)rows);
		ret = ADMIN_EXIT_OK;
	}
	free(detail);
	json_decref(dj);
	json_decref(res);
	return ret;
}

int
cmd_audit_export(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_SINCE, O_TYPE };
	static const struct admin_opt opts[] = {{"since", 1, 0}, {"type", 1, 0}, {0}};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_audit_export);
	struct admin_args a;
	int64_t since = 0;
	int r, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 0, &a)) != 0)
		return r;
	if (a.set[O_SINCE] && (ret = parse_since(ctx, cmd, a.val[O_SINCE], &since)) != 0)
		goto out;
	if ((r = audit_export_jsonl(ctx->st, since, a.val[O_TYPE], ctx->out)) != 0) {
		ret = admin_fail(ctx, "cannot export the audit trail: %s", gh_strerror(r));
		goto out;
	}
	ret = ADMIN_EXIT_OK;
out:
	admin_args_free(&a);
	return ret;
}
