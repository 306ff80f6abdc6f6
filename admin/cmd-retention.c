/* retention run [--dry-run]: remove expired recordings, session rows and
 * audit events through one audited path. A system action, not a role's:
 * the command table gives it no role, so only the local CLI (root on the
 * bastion) and the daemon's daily run reach it; "superadmin cannot erase
 * audit data" holds over the role shell. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "admin/retention.h"
#include "common/err.h"
#include "common/store-internal.h"
#include "common/timeutil.h"

/* Expired: closed, and ended before the cutoff. Live sessions never expire. */
#define EXPIRED "state = 'closed' AND end > 0 AND end < ?1"

static int
count_where(struct store *st, const char *sql, int64_t cutoff, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = store_prepare(st, sql, &s)) != 0)
		return r;
	sqlite3_bind_int64(s, 1, cutoff);
	if (sqlite3_step(s) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else
		r = ERR_DB;
	sqlite3_finalize(s);
	return r;
}

static int
exec_cutoff(struct store *st, const char *sql, int64_t cutoff)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = store_prepare(st, sql, &s)) != 0)
		return r;
	sqlite3_bind_int64(s, 1, cutoff);
	r = store_step_done(s);
	sqlite3_finalize(s);
	return r;
}

/* A session's uuid names its files: only [0-9a-fA-F-] is accepted, so a
 * damaged row cannot point the deletion elsewhere. */
static int
uuid_ok(const char *u)
{
	if (u == NULL || u[0] == '\0' || strlen(u) > 64)
		return 0;
	for (; *u != '\0'; u++)
		if (!((*u >= '0' && *u <= '9') || (*u >= 'a' && *u <= 'f') || (*u >= 'A' && *u <= 'F') || *u == '-'))
			return 0;
	return 1;
}

/* Remove DIR/recordings/UUID.* (the recording, its keyframe cache, the
 * UUID.files capture directory one level deep) and the recorded path. */
static void
remove_session_files(const char *datadir, const char *uuid, const char *recording, struct retention_result *res)
{
	char dir[4096], p[4600], q[5200];
	size_t ul = strlen(uuid);
	struct dirent *e, *e2;
	DIR *d, *d2;

	if (recording != NULL && recording[0] != '\0' && strstr(recording, "..") == NULL) {
		if (recording[0] == '/')
			snprintf(p, sizeof(p), "%s", recording);
		else
			snprintf(p, sizeof(p), "%s/%s", datadir, recording);
		if (unlink(p) != 0 && errno != ENOENT)
			res->files_failed++;
	}
	snprintf(dir, sizeof(dir), "%s/recordings", datadir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, uuid, ul) != 0 || e->d_name[ul] != '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if ((d2 = opendir(p)) != NULL) {
			while ((e2 = readdir(d2)) != NULL) {
				if (strcmp(e2->d_name, ".") == 0 || strcmp(e2->d_name, "..") == 0)
					continue;
				snprintf(q, sizeof(q), "%s/%s", p, e2->d_name);
				if (unlink(q) != 0)
					res->files_failed++;
			}
			closedir(d2);
			if (rmdir(p) != 0)
				res->files_failed++;
		} else if (unlink(p) != 0 && errno != ENOENT)
			res->files_failed++;
	}
	closedir(d);
}

struct doomed {
	char **uuid, **rec;
	size_t n;
};

static void
doomed_free(struct doomed *dm)
{
	for (size_t i = 0; i < dm->n; i++) {
		free(dm->uuid[i]);
		free(dm->rec[i]);
	}
	free(dm->uuid);
	free(dm->rec);
	memset(dm, 0, sizeof(*dm));
}

static int
collect_doomed(struct store *st, int64_t cutoff, struct doomed *dm)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if ((r = store_prepare(st, "SELECT uuid, recording FROM sessions WHERE " EXPIRED, &s)) != 0)
		return r;
	sqlite3_bind_int64(s, 1, cutoff);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char **u = realloc(dm->uuid, (dm->n + 1) * sizeof(*u)), **p;

		if (u == NULL) {
			r = ERR_NOMEM;
			break;
		}
		dm->uuid = u;
		if ((p = realloc(dm->rec, (dm->n + 1) * sizeof(*p))) == NULL) {
			r = ERR_NOMEM;
			break;
		}
		dm->rec = p;
		dm->uuid[dm->n] = NULL;
		dm->rec[dm->n] = NULL;
		dm->n++;
		if ((r = store_col_strdup(s, 0, &dm->uuid[dm->n - 1])) != 0 ||
		    (r = store_col_strdup(s, 1, &dm->rec[dm->n - 1])) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_err(rc);
	sqlite3_finalize(s);
	return r;
}

int
retention_run(struct store *st, const char *datadir, int days, int64_t now, int dry_run, const char *actor,
              const char *source, struct retention_result *res)
{
	struct doomed dm = {0};
	struct audit_event ev = {0};
	sqlite3_stmt *s = NULL;
	char cutoff_iso[32], cutoff_ts[40], *detail = NULL;
	json_t *dj = NULL;
	int r = ERR_INTERNAL, in_tx = 0;

	memset(res, 0, sizeof(*res));
	if (days < 1)
		return ERR_INVALID;
	res->cutoff = now - (int64_t)days * 86400;
	time_format_iso(res->cutoff, cutoff_iso, sizeof(cutoff_iso));
	if (strlen(cutoff_iso) != 20)
		return ERR_INVALID;
	/* Stored audit stamps carry milliseconds: "...SS.000Z" orders right. */
	snprintf(cutoff_ts, sizeof(cutoff_ts), "%.19s.000Z", cutoff_iso);
	if ((r = store_begin(st)) != 0)
		return r;
	in_tx = 1;
	if ((r = collect_doomed(st, res->cutoff, &dm)) != 0)
		goto out;
	res->sessions = (int64_t)dm.n;
	for (size_t i = 0; i < dm.n; i++)
		if (dm.rec[i] != NULL && dm.rec[i][0] != '\0')
			res->recordings++;
	if ((r = count_where(st,
	                     "SELECT count(*) FROM channels WHERE session_id IN (SELECT id FROM sessions WHERE " EXPIRED
	                     ")",
	                     res->cutoff, &res->channels)) != 0 ||
	    (r = count_where(st,
	                     "SELECT count(*) FROM commands WHERE session_id IN (SELECT id FROM sessions WHERE " EXPIRED
	                     ")",
	                     res->cutoff, &res->commands)) != 0 ||
	    (r = count_where(
	             st,
	             "SELECT count(*) FROM transfers WHERE session_id IN (SELECT id FROM sessions WHERE " EXPIRED ")",
	             res->cutoff, &res->transfers)) != 0)
		goto out;
	if (dry_run) {
		if ((r = store_prepare(st,
		                       "SELECT count(*), coalesce(max(id), 0) FROM audit WHERE ts < ?1"
		                       " AND id < (SELECT max(id) FROM audit)",
		                       &s)) != 0)
			goto out;
		sqlite3_bind_text(s, 1, cutoff_ts, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			res->audit_events = sqlite3_column_int64(s, 0);
			res->audit_base = sqlite3_column_int64(s, 1);
		}
		sqlite3_finalize(s);
		s = NULL;
	} else {
		if ((r = exec_cutoff(
		             st, "DELETE FROM commands WHERE session_id IN (SELECT id FROM sessions WHERE " EXPIRED ")",
		             res->cutoff)) != 0 ||
		    (r = exec_cutoff(st,
		                     "DELETE FROM transfers WHERE session_id IN (SELECT id FROM sessions WHERE " EXPIRED
		                     ")",
		                     res->cutoff)) != 0 ||
		    (r = exec_cutoff(
		             st, "DELETE FROM channels WHERE session_id IN (SELECT id FROM sessions WHERE " EXPIRED ")",
		             res->cutoff)) != 0 ||
		    (r = exec_cutoff(st, "DELETE FROM sessions WHERE " EXPIRED, res->cutoff)) != 0)
			goto out;
		if ((r = audit_retention_prefix(st, cutoff_ts, &res->audit_events, &res->audit_base)) != 0)
			goto out;
	}
	dj = json_pack("{s:i,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "days", days, "cutoff", cutoff_iso, "dry_run",
	               dry_run, "sessions", (json_int_t)res->sessions, "recordings", (json_int_t)res->recordings,
	               "channels", (json_int_t)res->channels, "commands", (json_int_t)res->commands, "transfers",
	               (json_int_t)res->transfers, "audit_events", (json_int_t)res->audit_events, "audit_base",
	               (json_int_t)res->audit_base);
	if (dj == NULL || (detail = json_dumps(dj, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	ev.actor = actor;
	ev.source = source;
	ev.type = "retention.run";
	ev.object = "retention";
	ev.result = dry_run ? "dry-run" : "ok";
	ev.importance = dry_run ? AUDIT_INFO : AUDIT_HIGH;
	ev.detail = detail;
	if ((r = audit_append_in_tx(st, &ev, NULL)) != 0)
		goto out;
	in_tx = 0;
	if ((r = store_commit(st)) != 0) {
		store_rollback(st);
		goto out;
	}
	/* Files go only once the rows are gone for good: a failed commit
	 * leaves everything in place. */
	if (!dry_run)
		for (size_t i = 0; i < dm.n; i++)
			if (uuid_ok(dm.uuid[i]))
				remove_session_files(datadir, dm.uuid[i], dm.rec[i], res);
	r = 0;
out:
	if (in_tx)
		store_rollback(st);
	sqlite3_finalize(s);
	free(detail);
	json_decref(dj);
	doomed_free(&dm);
	return r;
}

int
cmd_retention_run(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_DRY };
	static const struct admin_opt opts[] = {{"dry-run", 0, 0}, {0}};
	struct admin_args a;
	struct retention_result res;
	const char *fake = getenv("GH_FAKE_NOW");
	int64_t now = time_now();
	char cut[32];
	int r, dry;

	if ((r = admin_parse(ctx, admin_cmd_by_run(cmd_retention_run), argc, argv, opts, 0, &a)) != 0)
		return r;
	dry = a.set[O_DRY] > 0;
	admin_args_free(&a);
	/* TEST ONLY (docs/admin.md): the reference time as Unix seconds, so
	 * tests can age data without waiting months. Only this local-root
	 * command reads it; the daemon's daily run never does. */
	if (fake != NULL && fake[0] != '\0') {
		char *end = NULL;
		long long v = strtoll(fake, &end, 10);

		if (*end != '\0' || v <= 0)
			return admin_fail(ctx, "GH_FAKE_NOW must be Unix seconds");
		now = (int64_t)v;
	}
	if ((r = retention_run(ctx->st, ctx->data_dir, ctx->cfg.retention_days, now, dry, ctx->actor, ctx->source,
	                       &res)) != 0)
		return admin_fail(ctx, "retention failed, nothing removed: %s", gh_strerror(r));
	time_format_iso(res.cutoff, cut, sizeof(cut));
	if (ctx->json) {
		json_t *o = json_pack("{s:b,s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "dry_run", dry, "days",
		                      ctx->cfg.retention_days, "cutoff", cut, "sessions", (json_int_t)res.sessions,
		                      "recordings", (json_int_t)res.recordings, "channels", (json_int_t)res.channels,
		                      "commands", (json_int_t)res.commands, "transfers", (json_int_t)res.transfers,
		                      "audit_events", (json_int_t)res.audit_events, "audit_base",
		                      (json_int_t)res.audit_base, "files_failed", (json_int_t)res.files_failed);

		out_json(ctx->out, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(o);
	} else
		fprintf(ctx->out,
		        "%s data older than %s (%d days): %lld sessions (%lld recordings), %lld channels, %lld "
		        "commands, "
		        "%lld transfers, %lld audit events\n",
		        dry ? "would remove" : "removed", cut, ctx->cfg.retention_days, (long long)res.sessions,
		        (long long)res.recordings, (long long)res.channels, (long long)res.commands,
		        (long long)res.transfers, (long long)res.audit_events);
	if (res.files_failed > 0)
		return admin_fail(ctx, "%lld recording files could not be removed", (long long)res.files_failed);
	return ADMIN_EXIT_OK;
}
