/* See sessrec.h. */
#include "proxy/sessrec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/store.h"
#include "proxy/conn.h"
#include "recorder/keyframe.h"
#include "recorder/rec-reader.h"

#define SESSREC_MAX_STALE 1024 /* rows recovered per pass; the next pass takes the rest */

void
sessrec_write(struct conn *c, enum rec_type type, uint32_t chan, const void *data, size_t len)
{
	int r;

	if (c->rec == NULL)
		return;
	if ((r = rec_write(c->rec, type, chan, data, len)) != 0)
		conn_rec_failed(c, r);
}

int
sessrec_target(struct conn *c)
{
	sqlite3_stmt *stmt = NULL;
	json_t *j = NULL;
	char *s = NULL;
	int rc, r = ERR_INTERNAL;

	if (c->target_recorded || c->asset == NULL || c->login == NULL)
		return 0;
	c->target_recorded = 1;
	j = json_pack("{s:{s:s,s:s}}", "target", "asset", c->asset->name, "login", c->login);
	if (j == NULL || (s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	sessrec_write(c, REC_MARK, 0, s, strlen(s));
	if (c->session_row == 0) {
		r = 0;
		goto out;
	}
	rc = sqlite3_prepare_v2(store_db(c->st), "UPDATE sessions SET asset = ?, login = ? WHERE id = ?", -1, &stmt,
	                        NULL);
	if (rc != SQLITE_OK) {
		r = store_err(rc);
		goto out;
	}
	sqlite3_bind_text(stmt, 1, c->asset->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, c->login, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 3, c->session_row);
	rc = sqlite3_step(stmt);
	r = rc == SQLITE_DONE ? 0 : store_err(rc);
out:
	if (r != 0)
		error("cannot record the chosen target: %s", gh_strerror(r));
	sqlite3_finalize(stmt);
	json_decref(j);
	free(s);
	return r;
}

static int
store_index_blob(struct store *st, int64_t row, const uint8_t *blob, size_t len)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	rc = sqlite3_prepare_v2(store_db(st), "UPDATE sessions SET rec_index = ? WHERE id = ?", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return store_err(rc);
	if (blob != NULL && len > 0)
		sqlite3_bind_blob64(stmt, 1, blob, (sqlite3_uint64)len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, 1);
	sqlite3_bind_int64(stmt, 2, row);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : store_err(rc);
}

int
sessrec_store_index(struct conn *c)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int r;

	if (c->rec == NULL || c->session_row == 0)
		return 0;
	if ((r = rec_writer_index(c->rec, &blob, &len)) == 0)
		r = store_index_blob(c->st, c->session_row, blob, len);
	if (r != 0)
		error("cannot store the recording index: %s", gh_strerror(r));
	free(blob);
	return r;
}

/* ---- crash recovery --------------------------------------------------- */

struct stale {
	int64_t id;
	int pid;
	char *uuid, *user, *source, *asset, *login, *recording;
	int64_t bytes_in, bytes_out;
};

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? strdup((const char *)t) : NULL;
}

static void
stale_free(struct stale *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].uuid);
		free(v[i].user);
		free(v[i].source);
		free(v[i].asset);
		free(v[i].login);
		free(v[i].recording);
	}
	free(v);
}

/* The command name of a process ("" when /proc cannot tell). */
static void
proc_comm(const char *pid, char comm[32])
{
	char path[64];
	FILE *f;

	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	if (fgets(comm, 32, f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
}

/* A row's pid may have been reused since (after a reboot, or a long time
 * after a crash): it is still its connection process only if that process
 * runs the same program as this one (connection processes are forks of the
 * listener). Where /proc cannot tell, alive() alone decides. */
static int
still_ours(int pid, int (*alive)(int pid))
{
	char num[24], comm[32], self[32];

	if (pid <= 0 || !alive(pid))
		return 0;
	snprintf(num, sizeof(num), "%d", pid);
	proc_comm(num, comm);
	proc_comm("self", self);
	return comm[0] == '\0' || self[0] == '\0' || strcmp(comm, self) == 0;
}

/* The rows to recover, read completely before anything is written. */
static int
stale_list(struct store *st, int (*alive)(int pid), struct stale **out, size_t *n)
{
	sqlite3_stmt *sel = NULL;
	struct stale *v = NULL;
	size_t k = 0;
	int rc, r = 0;

	*out = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(store_db(st),
	                        "SELECT id, pid, uuid, user, source_addr, source_port, asset, login, recording,"
	                        " bytes_in, bytes_out FROM sessions WHERE state = 'active' ORDER BY id",
	                        -1, &sel, NULL);
	if (rc != SQLITE_OK)
		return store_err(rc);
	if ((v = calloc(SESSREC_MAX_STALE, sizeof(*v))) == NULL) {
		sqlite3_finalize(sel);
		return ERR_NOMEM;
	}
	while (k < SESSREC_MAX_STALE && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int pid = sqlite3_column_int(sel, 1);
		const char *addr = (const char *)sqlite3_column_text(sel, 4);
		int port = sqlite3_column_int(sel, 5);

		if (still_ours(pid, alive))
			continue;
		v[k].id = sqlite3_column_int64(sel, 0);
		v[k].pid = pid;
		v[k].uuid = col_dup(sel, 2);
		v[k].user = col_dup(sel, 3);
		v[k].asset = col_dup(sel, 6);
		v[k].login = col_dup(sel, 7);
		v[k].recording = col_dup(sel, 8);
		v[k].bytes_in = sqlite3_column_int64(sel, 9);
		v[k].bytes_out = sqlite3_column_int64(sel, 10);
		if (addr == NULL)
			addr = "?";
		if (asprintf(&v[k].source, strchr(addr, ':') != NULL ? "[%s]:%d" : "%s:%d", addr, port) < 0)
			v[k].source = NULL;
		k++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = store_err(rc);
	sqlite3_finalize(sel);
	if (r != 0) {
		stale_free(v, k);
		return r;
	}
	*out = v;
	*n = k;
	return 0;
}

/* What the file says after the crash. */
struct rebuilt {
	int ok;            /* the file was read to its end (torn or not) */
	char head[65];     /* chain head, hex */
	uint64_t frames;   /* frames, a used torn frame included */
	uint64_t records;  /* records read */
	uint64_t bytes;    /* file bytes covered (up to the torn offset) */
	uint64_t size;     /* file size */
	int torn, trailer; /* ends in a torn frame; has its trailer (closed cleanly) */
	uint8_t *index;    /* rec_index blob */
	size_t index_len;
	char error[96];
};

static void
rebuild(const char *datadir, const char *recording, struct rebuilt *b)
{
	struct rec_reader *rd = NULL;
	struct rec_reader_info info;
	const struct rec_frame_info *idx;
	struct stat sb;
	char path[4096];
	size_t n = 0;
	int r;

	memset(b, 0, sizeof(*b));
	if (recording == NULL || recording[0] == '\0') {
		snprintf(b->error, sizeof(b->error), "no recording");
		return;
	}
	if (recording[0] == '/')
		snprintf(path, sizeof(path), "%s", recording);
	else
		snprintf(path, sizeof(path), "%s/%s", datadir, recording);
	if (stat(path, &sb) == 0)
		b->size = (uint64_t)sb.st_size;
	if ((r = rec_reader_open(path, &rd)) != 0 || (r = rec_reader_rebuild(rd)) != 0) {
		snprintf(b->error, sizeof(b->error), "%s", gh_strerror(r));
		if (rd != NULL) {
			rec_reader_get_info(rd, &info);
			if (info.bad_frame >= 0)
				snprintf(b->error, sizeof(b->error), "%s at frame %lld", gh_strerror(r),
				         (long long)info.bad_frame);
		}
		rec_reader_free(rd);
		return;
	}
	rec_reader_get_info(rd, &info);
	idx = rec_reader_index(rd, &n);
	if (n > 0 && (r = rec_index_encode(idx, n, &b->index, &b->index_len)) != 0) {
		snprintf(b->error, sizeof(b->error), "index: %s", gh_strerror(r));
		rec_reader_free(rd);
		return;
	}
	rec_hash_hex(info.head, b->head);
	b->frames = info.frames;
	b->records = info.records;
	b->torn = info.torn;
	b->trailer = info.has_trailer;
	b->bytes = info.torn ? info.torn_offset : b->size;
	b->ok = 1;
	rec_reader_free(rd);
}

static char *
recover_detail(const struct stale *s, const struct rebuilt *b)
{
	json_t *j = json_object();
	char *d;

	json_object_set_new(j, "asset", json_string(s->asset != NULL ? s->asset : ""));
	json_object_set_new(j, "login", json_string(s->login != NULL ? s->login : ""));
	json_object_set_new(j, "reason", json_string("aborted"));
	json_object_set_new(j, "recovered", json_true());
	json_object_set_new(j, "pid", json_integer(s->pid));
	json_object_set_new(j, "bytes_in", json_integer((json_int_t)s->bytes_in));
	json_object_set_new(j, "bytes_out", json_integer((json_int_t)s->bytes_out));
	if (s->recording != NULL)
		json_object_set_new(j, "recording", json_string(s->recording));
	if (b->ok) {
		json_object_set_new(j, "rec_head", json_string(b->head));
		json_object_set_new(j, "rec_frames", json_integer((json_int_t)b->frames));
		json_object_set_new(j, "rec_bytes", json_integer((json_int_t)b->bytes));
		json_object_set_new(j, "rec_records", json_integer((json_int_t)b->records));
		json_object_set_new(j, "rec_torn", json_boolean(b->torn));
		if (b->torn)
			json_object_set_new(j, "rec_lost_bytes", json_integer((json_int_t)(b->size - b->bytes)));
	} else {
		json_object_set_new(j, "rec_error", json_string(b->error));
	}
	d = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return d;
}

/* One row: closed, its recording's state stored and audited, atomically. */
static int
recover_one(struct store *st, const struct stale *s, const struct rebuilt *b)
{
	sqlite3_stmt *upd = NULL;
	struct audit_event ev = {0};
	char object[80], *detail = NULL;
	int rc, r;

	if ((r = store_begin(st)) != 0)
		return r;
	rc = sqlite3_prepare_v2(store_db(st),
	                        "UPDATE sessions SET state = 'closed', end = MAX(last_activity, start),"
	                        " end_reason = 'aborted', rec_frames = ?, rec_head = ?, rec_index = ?"
	                        " WHERE id = ? AND state = 'active'",
	                        -1, &upd, NULL);
	if (rc != SQLITE_OK) {
		r = store_err(rc);
		goto out;
	}
	sqlite3_bind_int64(upd, 1, b->ok ? (sqlite3_int64)b->frames : 0);
	if (b->ok)
		sqlite3_bind_text(upd, 2, b->head, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(upd, 2);
	if (b->ok && b->index != NULL)
		sqlite3_bind_blob64(upd, 3, b->index, (sqlite3_uint64)b->index_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(upd, 3);
	sqlite3_bind_int64(upd, 4, s->id);
	if ((rc = sqlite3_step(upd)) != SQLITE_DONE) {
		r = store_err(rc);
		goto out;
	}
	if (sqlite3_changes(store_db(st)) == 0) {
		r = 0; /* closed meanwhile by someone else: nothing to audit */
		goto out;
	}
	if ((detail = recover_detail(s, b)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	snprintf(object, sizeof(object), "session:%s", s->uuid != NULL ? s->uuid : "?");
	ev.actor = s->user != NULL ? s->user : "-";
	ev.source = s->source != NULL ? s->source : "-";
	ev.type = "session.end";
	ev.object = object;
	ev.result = "aborted";
	/* A recording that cannot be read back is evidence lost: say so loudly. */
	ev.importance = b->ok ? AUDIT_NOTICE : AUDIT_HIGH;
	ev.detail = detail;
	r = audit_append_in_tx(st, &ev, NULL);
out:
	sqlite3_finalize(upd);
	free(detail);
	if (r == 0)
		r = store_commit(st);
	else
		store_rollback(st);
	return r;
}

int
sessrec_recover_stale(struct store *st, const char *datadir, int (*alive)(int pid), int *closed)
{
	struct stale *v = NULL;
	struct rebuilt b;
	size_t n = 0, i;
	int r;

	*closed = 0;
	if ((r = stale_list(st, alive, &v, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		/* The file is read outside the transaction: it may be long. */
		rebuild(datadir, v[i].recording, &b);
		if ((r = recover_one(st, &v[i], &b)) != 0) {
			free(b.index);
			break;
		}
		if (b.ok)
			info("session %s (pid %d) closed as aborted: recording %llu frames, %llu records%s", v[i].uuid,
			     v[i].pid, (unsigned long long)b.frames, (unsigned long long)b.records,
			     b.torn ? ", torn tail" : "");
		else
			error("session %s (pid %d) closed as aborted: recording unreadable: %s", v[i].uuid, v[i].pid,
			      b.error);
		free(b.index);
		(*closed)++;
	}
	stale_free(v, n);
	return r;
}

void
sessrec_build_keyframes(const char *rec_path)
{
	struct rec_reader *r = NULL;
	struct kf_cache *kc = NULL;
	int loaded = 0, rc;

	if (rec_path == NULL || rec_reader_open(rec_path, &r) != 0)
		return;
	/* Lower priority: this is housekeeping after the operator has left. */
	if (nice(10) == -1)
		debug_f("nice: %s", strerror(errno));
	if ((rc = kf_cache_open(r, rec_path, &kc, &loaded)) != 0)
		verbose("keyframe cache for %s not built: %s", rec_path, gh_strerror(rc));
	kf_cache_free(kc);
	rec_reader_free(r);
}
