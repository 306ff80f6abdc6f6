/* Live sessions: kill, and the role shell's play / watch / verify.
 *
 * kill works the same locally and over SSH: it writes who asks and why into
 * the sessions row (migration 5), then sends SIGUSR1 to the session's
 * connection process (the row's pid; every connection process runs as the
 * same service user). That process only sets a flag in its handler, reads
 * the request back from the row in its loop, tells the operator, ends the
 * session and records who ended it (proxy/kill.c). kill waits a few seconds
 * for the row to close so that its exit status says whether it worked.
 *
 * play, watch and verify need the SSH channel (they stream): the command
 * table holds them here so that one table decides who may run what; their
 * work is done by the role shell (ctx->shell_run). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "common/err.h"
#include "common/timeutil.h"

#define KILL_REASON_MAX 200
#define KILL_WAIT_MS    5000

/* The reason is printed on the operator's terminal: printable text only. */
static int
reason_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KILL_REASON_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

struct live_row {
	int64_t id;
	char uuid[40];
	char user[80];
	char asset[80];
	int pid;
	int active;
};

static int
find_row(struct admin_ctx *ctx, const char *name, struct live_row *row)
{
	sqlite3_stmt *s = NULL;
	char *end = NULL;
	long long id;
	int rc, r = ERR_NOTFOUND;

	memset(row, 0, sizeof(*row));
	errno = 0;
	id = strtoll(name, &end, 10);
	if (errno != 0 || end == name || *end != '\0')
		id = 0;
	if (sqlite3_prepare_v2(store_db(ctx->st),
	                       "SELECT id, uuid, user, asset, pid, state = 'active' FROM sessions"
	                       " WHERE id = ?1 OR uuid = ?2",
	                       -1, &s, NULL) != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row->id = sqlite3_column_int64(s, 0);
		snprintf(row->uuid, sizeof(row->uuid), "%s", (const char *)sqlite3_column_text(s, 1));
		snprintf(row->user, sizeof(row->user), "%s",
		         sqlite3_column_text(s, 2) ? (const char *)sqlite3_column_text(s, 2) : "?");
		snprintf(row->asset, sizeof(row->asset), "%s",
		         sqlite3_column_text(s, 3) ? (const char *)sqlite3_column_text(s, 3) : "?");
		row->pid = sqlite3_column_int(s, 4);
		row->active = sqlite3_column_int(s, 5);
		r = 0;
	} else if (rc != SQLITE_DONE) {
		r = ERR_DB;
	}
	sqlite3_finalize(s);
	return r;
}

static int
row_closed(struct admin_ctx *ctx, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int closed = 0;

	if (sqlite3_prepare_v2(store_db(ctx->st), "SELECT state FROM sessions WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		closed = strcmp((const char *)sqlite3_column_text(s, 0), "closed") == 0;
	sqlite3_finalize(s);
	return closed;
}

int
cmd_kill(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_REASON };
	static const struct admin_opt opts[] = {{"reason", 1, 0}, {0}};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_kill);
	struct admin_args a;
	struct live_row row;
	sqlite3_stmt *s = NULL;
	const char *reason = "no reason given", *role;
	char obj[80], *detail = NULL;
	json_t *dj = NULL;
	int r, ret = ADMIN_EXIT_FAIL, waited = 0;

	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 1, &a)) != 0)
		return r;
	if (a.npos != 1) {
		ret = admin_usage(ctx, cmd, "missing SESSION (an id or uuid from 'session list --active')");
		goto out;
	}
	if (a.set[O_REASON]) {
		reason = a.val[O_REASON];
		if (!reason_ok(reason)) {
			ret = admin_usage(ctx, cmd, "--reason must be 1 to %d printable characters", KILL_REASON_MAX);
			goto out;
		}
	}
	role = ctx->local_root ? "administrator" : user_role_name(ctx->role);
	if ((r = find_row(ctx, a.pos[0], &row)) != 0) {
		if (r == ERR_NOTFOUND)
			admin_fail(ctx, "session '%s' not found", a.pos[0]);
		else
			admin_fail(ctx, "cannot read sessions: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	snprintf(obj, sizeof(obj), "session:%s", row.uuid);
	if (!row.active) {
		ret = admin_refuse(ctx, "session.kill", obj, AUDIT_NOTICE, "session %lld is not active",
		                   (long long)row.id);
		goto out;
	}
	if (row.pid <= 1) {
		ret = admin_refuse(ctx, "session.kill", obj, AUDIT_NOTICE, "session %lld has no process to signal",
		                   (long long)row.id);
		goto out;
	}
	if (sqlite3_prepare_v2(store_db(ctx->st),
	                       "UPDATE sessions SET kill_requested_by = ?1, kill_requested_role = ?2, kill_reason = ?3,"
	                       " kill_requested_at = ?4 WHERE id = ?5 AND state = 'active'",
	                       -1, &s, NULL) != SQLITE_OK) {
		admin_fail(ctx, "cannot update the session: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	sqlite3_bind_text(s, 1, ctx->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, time_now());
	sqlite3_bind_int64(s, 5, row.id);
	if (sqlite3_step(s) != SQLITE_DONE || sqlite3_changes(store_db(ctx->st)) != 1) {
		admin_fail(ctx, "cannot update the session (did it just end?)");
		goto out;
	}
	dj = json_pack("{s:s,s:i,s:s,s:s}", "reason", reason, "pid", row.pid, "user", row.user, "asset", row.asset);
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (kill((pid_t)row.pid, SIGUSR1) != 0) {
		ret = admin_refuse(ctx, "session.kill", obj, AUDIT_HIGH,
		                   "cannot signal the process %d of session %lld: %s", row.pid, (long long)row.id,
		                   strerror(errno));
		goto out;
	}
	admin_audit(ctx, "session.kill", obj, "ok", AUDIT_HIGH, detail);
	/* Wait (bounded) for the session to end, so the exit status means it. */
	for (waited = 0; waited < KILL_WAIT_MS && !row_closed(ctx, row.id); waited += 100) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	if (!row_closed(ctx, row.id)) {
		admin_fail(ctx, "session %lld was asked to end but is still active after %d s", (long long)row.id,
		           KILL_WAIT_MS / 1000);
		goto out;
	}
	fprintf(ctx->out, "session %lld (%s on %s) terminated\n", (long long)row.id, row.user, row.asset);
	ret = ADMIN_EXIT_OK;
out:
	sqlite3_finalize(s);
	json_decref(dj);
	free(detail);
	admin_args_free(&a);
	return ret;
}

static int
shell_only(struct admin_ctx *ctx, const char *what, int argc, char **argv)
{
	if (ctx->shell_run == NULL)
		return admin_fail(ctx,
		                  "'%s' runs in the role shell over SSH (ssh -t AUDITOR@bastion %s ...); locally use "
		                  "gatehouse-play",
		                  what, what);
	return ctx->shell_run(ctx, what, argc, argv);
}

int
cmd_play(struct admin_ctx *ctx, int argc, char **argv)
{
	return shell_only(ctx, "play", argc, argv);
}

int
cmd_watch(struct admin_ctx *ctx, int argc, char **argv)
{
	return shell_only(ctx, "watch", argc, argv);
}

int
cmd_verify(struct admin_ctx *ctx, int argc, char **argv)
{
	return shell_only(ctx, "verify", argc, argv);
}
