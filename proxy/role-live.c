/* play, watch and verify in the role shell (see role-live.h).
 *
 * Both streams read the recording file with rec_reader (every frame checked
 * against the hash chain as it is read) and send the target's output of the
 * session (stdout and stderr records) to the auditor's channel as the
 * channel's window allows: at most JOB_OUT_HIGH bytes wait at any time, so
 * a slow auditor slows the reading, never memory. The watched session is
 * never touched: its file is only read.
 *
 *   play   paces the records by their timestamps, pauses capped at
 *          --max-idle (default 2 s); the loop wakes at least every 250 ms,
 *          which is the timing's resolution here. Non-interactive (no seek,
 *          no speed control): gatehouse-play on the bastion has those.
 *   watch  sends what is there (--from start) or skips it (--from now, the
 *          default), then follows the file with rec_reader_refresh until the
 *          session's end record, or the row says closed and the file stopped
 *          growing (a writer that died without its end record).
 *
 * The recorded output is the operator's (and the target's): it goes to the
 * auditor's terminal only through the sanitiser (recorder/vtsan.h,
 * VTSAN_SCREEN), one per stream, so that no title, clipboard write, query
 * or input mode reaches it; at the end the display modes the recording
 * changed are put back. The auditor's keys are scanned too: only a q,
 * Ctrl-C or Ctrl-D typed as such ends the stream, never one inside an
 * escape sequence (a function key, or a terminal's answer). */
#include "proxy/role-live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/cmd.h"
#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "player/play.h"
#include "proxy/role-shell.h"
#include "recorder/rec-reader.h"
#include "recorder/vtsan.h"
#include "recorder/vtscan.h"

#define JOB_OUT_HIGH    (64 * 1024)
#define JOB_ROW_CHECK   2000 /* ms between looks at the sessions row while following */
#define JOB_RECORDS_MAX 2000 /* records per step, so one step stays short */

struct live_job {
	int watch;
	struct rec_reader *r;
	struct store *st;
	int64_t session_id;
	int64_t channel; /* -1: every channel */
	uint64_t max_idle_us;
	/* play pacing: one record held until its time */
	int have_pend;
	unsigned pend_type;
	uint8_t *pend;
	size_t pend_len;
	int64_t pend_due_ms;
	uint64_t last_t;
	int64_t due_ms;
	int started_pacing;
	int64_t last_row_check_ms;
	struct vtsan *screen[2]; /* stdout and stderr records */
	struct vtscan *keys;     /* the auditor's keys */
	int quit;                /* a quitting key was typed */
};

void
live_free(struct live_job *j)
{
	if (j == NULL)
		return;
	rec_reader_free(j->r);
	free(j->pend);
	vtsan_free(j->screen[0]);
	vtsan_free(j->screen[1]);
	vtscan_free(j->keys);
	free(j);
}

static int
row_active(struct store *st, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int active = 0;

	if (sqlite3_prepare_v2(store_db(st), "SELECT state = 'active' FROM sessions WHERE id = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return 1; /* cannot tell: keep following */
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		active = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return active;
}

static void
on_key(const struct vtscan_event *ev, void *arg)
{
	struct live_job *j = arg;

	if ((ev->kind == VTSCAN_PRINT && (ev->cp == 'q' || ev->cp == 'Q')) ||
	    (ev->kind == VTSCAN_EXECUTE && (ev->cp == 0x03 || ev->cp == 0x04)))
		j->quit = 1;
}

static int
lookup(struct admin_ctx *ctx, const char *name, struct play_session **ps)
{
	int r = play_session_lookup(ctx->st, ctx->data_dir, name, ps);

	if (r == ERR_NOTFOUND)
		return admin_fail(ctx, "session '%s' not found", name);
	if (r != 0)
		return admin_fail(ctx, "cannot look up session '%s': %s", name, gh_strerror(r));
	return 0;
}

int
live_start(struct admin_ctx *ctx, struct role_shell *sh, const char *what, int argc, char **argv, struct live_job **job)
{
	enum { O_A, O_B };
	static const struct admin_opt play_opts[] = {{"channel", 1, 0}, {"max-idle", 1, 0}, {0}};
	static const struct admin_opt watch_opts[] = {{"from", 1, 0}, {0}};
	const struct admin_cmd *cmd;
	const struct admin_opt *opts = NULL;
	struct admin_args a;
	struct play_session *ps = NULL;
	struct live_job *j = NULL;
	struct rec_record rec;
	int r, ret = ADMIN_EXIT_FAIL, from_start = 0, n;

	*job = NULL;
	if (strcmp(what, "play") == 0) {
		cmd = admin_cmd_by_run(cmd_play);
		opts = play_opts;
	} else if (strcmp(what, "watch") == 0) {
		cmd = admin_cmd_by_run(cmd_watch);
		opts = watch_opts;
	} else {
		cmd = admin_cmd_by_run(cmd_verify);
	}
	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 1, &a)) != 0)
		return r;
	if (a.npos != 1) {
		ret = admin_usage(ctx, cmd, "missing SESSION (an id or uuid from 'session list')");
		goto out;
	}
	if (lookup(ctx, a.pos[0], &ps) != 0)
		goto out;
	/* Operators replay, watch and verify their own sessions only
	 * (architecture.md, roles); another's looks like a missing one. */
	if (!ctx->local_root && ctx->role != ROLE_AUDITOR && (ps->user == NULL || strcmp(ps->user, ctx->actor) != 0)) {
		admin_fail(ctx, "session '%s' not found", a.pos[0]);
		goto out;
	}
	if (cmd->run == cmd_verify) {
		r = play_verify(ps, ctx->out);
		ret = r == 0 ? ADMIN_EXIT_OK : ADMIN_EXIT_FAIL;
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		admin_fail(ctx, "out of memory");
		goto out;
	}
	if ((j->screen[0] = vtsan_new(VTSAN_SCREEN)) == NULL || (j->screen[1] = vtsan_new(VTSAN_SCREEN)) == NULL ||
	    (j->keys = vtscan_new(VTSCAN_TERMINAL, on_key, j)) == NULL) {
		admin_fail(ctx, "out of memory");
		goto out;
	}
	j->st = ctx->st;
	j->session_id = ps->id;
	j->channel = -1;
	j->max_idle_us = 2000000;
	if (cmd->run == cmd_play) {
		j->watch = 0;
		if (a.set[O_A]) {
			char *end = NULL;
			long v = strtol(a.val[O_A], &end, 10);

			if (end == a.val[O_A] || *end != '\0' || v < 0) {
				ret = admin_usage(ctx, cmd, "invalid --channel '%s'", a.val[O_A]);
				goto out;
			}
			j->channel = v;
		}
		if (a.set[O_B]) {
			char *end = NULL;
			double v = strtod(a.val[O_B], &end);

			if (end == a.val[O_B] || *end != '\0' || !(v >= 0 && v <= 3600)) {
				ret = admin_usage(ctx, cmd, "invalid --max-idle '%s' (seconds, 0 to 3600)", a.val[O_B]);
				goto out;
			}
			j->max_idle_us = (uint64_t)(v * 1e6);
		}
	} else {
		j->watch = 1;
		if (a.set[O_A]) {
			if (strcmp(a.val[O_A], "start") == 0)
				from_start = 1;
			else if (strcmp(a.val[O_A], "now") != 0) {
				ret = admin_usage(ctx, cmd, "--from is 'start' or 'now'");
				goto out;
			}
		}
		if (ps->id == 0 || !row_active(ctx->st, ps->id)) {
			admin_fail(ctx, "session '%s' is not live: replay it with 'play %s'", a.pos[0], a.pos[0]);
			goto out;
		}
	}
	if ((r = rec_reader_open(ps->path, &j->r)) != 0) {
		admin_fail(ctx, "cannot open the recording of session '%s': %s", a.pos[0], gh_strerror(r));
		goto out;
	}
	if (j->watch && !from_start) {
		/* Skip what was recorded so far; follow from here. */
		while ((n = rec_reader_next(j->r, &rec)) == 1)
			;
		if (n < 0) {
			admin_fail(ctx, "the recording of session '%s' does not verify: %s", a.pos[0], gh_strerror(n));
			goto out;
		}
	}
	{
		char line[256];

		snprintf(line, sizeof(line), "%s session %lld (%s on %s)%s\n", j->watch ? "watching" : "playing",
		         (long long)ps->id, ps->user != NULL ? ps->user : "?", ps->asset != NULL ? ps->asset : "?",
		         role_shell_has_pty(sh) ? ", q or Ctrl-C leaves" : "");
		role_shell_put(sh, 1, 0, line, strlen(line));
	}
	*job = j;
	j = NULL;
	ret = ADMIN_EXIT_OK;
out:
	live_free(j);
	play_session_free(ps);
	admin_args_free(&a);
	return ret;
}

static int
wanted(const struct live_job *j, const struct rec_record *rec)
{
	if (rec->type != REC_DATA_OUT && rec->type != REC_DATA_ERR)
		return 0;
	return j->channel < 0 || (int64_t)rec->channel == j->channel;
}

/* Recorded output, sanitised. */
static int
put_screen(struct live_job *j, struct role_shell *sh, int err, const void *data, size_t len)
{
	const char *out;
	size_t n;

	if (vtsan_write(j->screen[err], data, len, &out, &n) != 0)
		return ERR_NOMEM;
	role_shell_put(sh, err, 1, out, n);
	return 0;
}

static int
done(struct live_job *j, struct role_shell *sh, const char *msg, int status, int *out)
{
	char line[300];
	const char *restore;
	size_t n;
	uint64_t withheld = 0;

	/* Put the display back (main screen, colours, cursor) before our line. */
	for (int k = 0; k < 2; k++) {
		if (vtsan_finish(j->screen[k], &restore, &n) == 0)
			role_shell_put(sh, k, 1, restore, n);
		withheld += vtsan_withheld(j->screen[k]);
	}
	snprintf(line, sizeof(line), "\n[%s]\n", msg);
	if (withheld > 0)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		         "[%llu terminal control sequence%s of the recording withheld: titles, clipboard, queries, "
		         "input modes]\n",
		         (unsigned long long)withheld, withheld == 1 ? "" : "s");
	role_shell_put(sh, 1, 0, line, strlen(line));
	*out = status;
	return 1;
}

int
live_step(struct live_job *j, struct role_shell *sh, const unsigned char *keys, size_t nkeys, int *status)
{
	struct rec_record rec;
	struct rec_reader_info info;
	int64_t now = time_mono_ms();
	int n, grew = 0, budget = JOB_RECORDS_MAX;

	vtscan_write(j->keys, keys, nkeys);
	if (j->quit)
		return done(j, sh, j->watch ? "left the session; it goes on" : "stopped", 0, status);
	while (role_shell_pending(sh) < JOB_OUT_HIGH && budget-- > 0) {
		if (j->have_pend) {
			if (now < j->pend_due_ms)
				return 0;
			if (put_screen(j, sh, j->pend_type == REC_DATA_ERR, j->pend, j->pend_len) != 0)
				return done(j, sh, "out of memory", 1, status);
			j->have_pend = 0;
			continue;
		}
		n = rec_reader_next(j->r, &rec);
		if (n < 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "the recording does not verify (%s): stopped", gh_strerror(n));
			return done(j, sh, msg, 1, status);
		}
		if (n == 0) {
			if (!j->watch)
				return done(j, sh, "end of the recording", 0, status);
			rec_reader_get_info(j->r, &info);
			if (info.ended)
				return done(j, sh, "the session ended", 0, status);
			if ((n = rec_reader_refresh(j->r, &grew)) != 0) {
				char msg[160];

				snprintf(msg, sizeof(msg), "cannot follow the recording (%s): stopped", gh_strerror(n));
				return done(j, sh, msg, 1, status);
			}
			if (grew)
				continue;
			if (now - j->last_row_check_ms > JOB_ROW_CHECK) {
				j->last_row_check_ms = now;
				if (!row_active(j->st, j->session_id))
					return done(j, sh, "the session ended", 0, status);
			}
			return 0;
		}
		if (rec.type == REC_END) {
			if (j->watch)
				return done(j, sh, "the session ended", 0, status);
			continue;
		}
		if (rec.type == REC_MARK && rec.len > 0 && rec.data[0] != '{') {
			/* a plain mark is a message the operator saw (termination, refusals) */
			char line[600];

			/* text: the sanitiser shows any control in it as ^X */
			snprintf(line, sizeof(line), "\n[gatehouse: %.*s]\n", (int)(rec.len < 500 ? rec.len : 500),
			         (const char *)rec.data);
			role_shell_put(sh, 0, 0, line, strlen(line));
			continue;
		}
		if (!wanted(j, &rec))
			continue;
		if (!j->watch) {
			/* pace by the recorded time, pauses capped */
			if (!j->started_pacing) {
				j->started_pacing = 1;
				j->due_ms = now;
			} else {
				uint64_t gap = rec.time_us > j->last_t ? rec.time_us - j->last_t : 0;

				if (gap > j->max_idle_us)
					gap = j->max_idle_us;
				j->due_ms += (int64_t)(gap / 1000);
			}
			j->last_t = rec.time_us;
			if (j->due_ms > now) {
				uint8_t *p = realloc(j->pend, rec.len ? rec.len : 1);

				if (p == NULL)
					return done(j, sh, "out of memory", 1, status);
				j->pend = p;
				memcpy(j->pend, rec.data, rec.len);
				j->pend_len = rec.len;
				j->pend_type = rec.type;
				j->pend_due_ms = j->due_ms;
				j->have_pend = 1;
				return 0;
			}
		}
		if (put_screen(j, sh, rec.type == REC_DATA_ERR, rec.data, rec.len) != 0)
			return done(j, sh, "out of memory", 1, status);
	}
	return 0;
}
