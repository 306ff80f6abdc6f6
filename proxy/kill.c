/* The receiving end of `kill` (see kill.h). A signal alone is not trusted
 * to mean anything: only a request found in this session's own row ends
 * the session, so a stray SIGUSR1 is logged and ignored. */
#include "proxy/kill.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/audit.h"
#include "common/log.h"
#include "common/store.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "recorder/recorder.h"

volatile sig_atomic_t kill_got_signal;
static char ended_by[80];

void
kill_on_signal(int sig)
{
	(void)sig;
	kill_got_signal = 1;
}

const char *
kill_ended_by(void)
{
	return ended_by[0] != '\0' ? ended_by : NULL;
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? strdup((const char *)t) : NULL;
}

int
kill_check(struct conn *c)
{
	sqlite3_stmt *s = NULL;
	char *by = NULL, *role = NULL, *reason = NULL, *detail = NULL, *mark = NULL;
	char msg[400], object[80];
	json_t *j = NULL;
	int started = 0;

	if (!kill_got_signal)
		return 0;
	kill_got_signal = 0;
	if (c->session_row == 0 || c->state != CONN_RUNNING || ended_by[0] != '\0') {
		info("SIGUSR1 ignored: no running session to terminate");
		return 0;
	}
	if (sqlite3_prepare_v2(store_db(c->st),
	                       "SELECT kill_requested_by, kill_requested_role, kill_reason FROM sessions WHERE id = ?",
	                       -1, &s, NULL) != SQLITE_OK) {
		error("cannot read the termination request: %s", sqlite3_errmsg(store_db(c->st)));
		goto out;
	}
	sqlite3_bind_int64(s, 1, c->session_row);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto out;
	by = col_dup(s, 0);
	role = col_dup(s, 1);
	reason = col_dup(s, 2);
	if (by == NULL) {
		info("SIGUSR1 ignored: the sessions row holds no termination request");
		goto out;
	}
	snprintf(ended_by, sizeof(ended_by), "%s", by);
	snprintf(msg, sizeof(msg), "session terminated by %s %s: %s", role != NULL ? role : "administrator", by,
	         reason != NULL ? reason : "no reason given");
	info("%s", msg);
	j = json_pack("{s:s,s:s,s:s,s:s}", "event", "terminated", "by", by, "role", role != NULL ? role : "", "reason",
	              reason != NULL ? reason : "");
	if (j != NULL && c->rec != NULL && (mark = json_dumps(j, JSON_COMPACT)) != NULL) {
		int r = rec_write(c->rec, REC_MARK, 0, mark, strlen(mark));

		if (r != 0)
			conn_rec_failed(c, r);
	}
	detail = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	snprintf(object, sizeof(object), "session:%s", c->uuid);
	conn_audit(c, by, "session.terminated", object, "ok", AUDIT_HIGH, detail);
	{
		char why[64];

		snprintf(why, sizeof(why), "terminated: %s", reason != NULL ? reason : "no reason given");
		conn_set_end_reason(c, why);
	}
	chan_end_all(c, msg);
	c->state = CONN_DRAINING;
	started = 1;
out:
	sqlite3_finalize(s);
	json_decref(j);
	free(by);
	free(role);
	free(reason);
	free(detail);
	free(mark);
	return started;
}
