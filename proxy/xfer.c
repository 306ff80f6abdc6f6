/* File transfers on a live channel pair (see xfer.h, docs/file-transfer.md).
 *
 * SFTP: the operator's bytes go through the inspector before they reach
 * the target, the target's bytes go through it before they reach the
 * operator; the inspector hands out only whole, inspected packets, and puts
 * its own answers to refused requests between them. Legacy scp: the data
 * side is copied to the observer and relayed unchanged. rsync: the command
 * decides the direction; the stream is not parsed.
 *
 * The pump here keeps pump.c's invariant: read from a source only when what
 * was read before left the queue completely and the destination has
 * window, and then take what libssh buffers for it; what is not read stays
 * in libssh's buffer, whose window is not re-opened. The queues hold at
 * most one such drain (bounded by the source's window) plus one SFTP packet
 * (SFTP_MAX_PACKET) per direction, and the bastion's own answers (bounded
 * below). */
#include "proxy/xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libssh/libssh.h>
#include <sqlite3.h>
#include <zstd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/store.h"
#include "common/timeutil.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/scp.h"
#include "proxy/sftp.h"
#include "recorder/recorder.h"

#define XFER_CHUNK     (64 * 1024)  /* one read */
#define XFER_WRITE_MAX (256 * 1024) /* one write: libssh cuts it into the peer's packet size */
#define XFER_ROUND_MAX (512 * 1024)
#define XFER_HOLD_MAX  (8u * 1024 * 1024) /* one drain of a source, at most */
/* Refused requests are answered by us: stop reading the operator while
 * that many answers wait for the operator to read them. */
#define XFER_ANSWERS_MAX (1024 * 1024)

struct xfer {
	struct chan *ch;
	struct sftp *sftp;        /* sftp subsystem */
	struct scp *scp;          /* scp -t / -f */
	enum xfer_exec_kind exec; /* scp / rsync exec */
	char exec_paths[1024];    /* path arguments of the command */
	struct passq {            /* scp: relayed as is, observed */
		uint8_t *p;
		size_t len, cap;
	} q[2];
	int tunnel; /* direct-tcpip: relayed as is, counted */
	int held;   /* sftp: the operator is not read, the pending table is full */
	int src_eof[2];
	int failed;
	uint64_t files;          /* scp files seen */
	uint64_t bytes[2];       /* scp/rsync: bytes each way */
	uint8_t buf[XFER_CHUNK]; /* one read */
};

/* ---- rows and audit events ------------------------------------------------ */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct row {
	const char *protocol, *op, *path, *path2, *sha256, *status, *capture;
	json_t *detail; /* borrowed */
	uint64_t bytes_read, bytes_written;
	int allowed;
};

static void
row_insert(struct chan *ch, const struct row *w)
{
	static const char sql[] =
	        "INSERT INTO transfers (session_id, channel, user, asset, login, ts_ms, protocol, op, path, path2,"
	        " detail, bytes_read, bytes_written, sha256, status, allowed, capture)"
	        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	struct conn *c = ch->c;
	sqlite3_stmt *stmt = NULL;
	char *detail = w->detail != NULL ? json_dumps(w->detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	if (c->session_row == 0)
		goto out;
	if (sqlite3_prepare_v2(store_db(c->st), sql, -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(stmt, 1, c->session_row);
	sqlite3_bind_int64(stmt, 2, ch->num);
	sqlite3_bind_text(stmt, 3, c->user->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, c->asset != NULL ? c->asset->name : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, c->login, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, now_ms());
	sqlite3_bind_text(stmt, 7, w->protocol, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, w->op, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 9, w->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 10, w->path2, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 11, detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 12, (sqlite3_int64)w->bytes_read);
	sqlite3_bind_int64(stmt, 13, (sqlite3_int64)w->bytes_written);
	sqlite3_bind_text(stmt, 14, w->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 15, w->status, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 16, w->allowed);
	sqlite3_bind_text(stmt, 17, w->capture, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	goto out;
fail:
	error("channel %u: cannot write a transfers row: %s", ch->num, sqlite3_errmsg(store_db(c->st)));
out:
	sqlite3_finalize(stmt);
	free(detail);
}

/* One audit event for a transfer row; `type` like "sftp.transfer". */
static void
row_audit(struct chan *ch, const char *type, const struct row *w, int importance)
{
	struct conn *c = ch->c;
	json_t *j = w->detail != NULL ? json_deep_copy(w->detail) : json_object();
	char *detail;

	json_object_set_new(j, "protocol", json_string(w->protocol));
	json_object_set_new(j, "op", json_string(w->op));
	if (w->path2 != NULL)
		json_object_set_new(j, "path2", json_string(w->path2));
	if (w->bytes_read || w->bytes_written) {
		json_object_set_new(j, "bytes_read", json_integer((json_int_t)w->bytes_read));
		json_object_set_new(j, "bytes_written", json_integer((json_int_t)w->bytes_written));
	}
	if (w->sha256 != NULL)
		json_object_set_new(j, "sha256", json_string(w->sha256));
	if (w->status != NULL)
		json_object_set_new(j, "status", json_string(w->status));
	json_object_set_new(j, "session", json_string(c->uuid));
	json_object_set_new(j, "channel", json_integer(ch->num));
	if (c->asset != NULL)
		json_object_set_new(j, "target",
		                    json_pack("s+s+s", c->login != NULL ? c->login : "", "@", c->asset->name));
	detail = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	conn_audit(c, c->user->name, type, w->path != NULL ? w->path : "-",
	           !w->allowed                                           ? "denied"
	           : (w->status == NULL || strcmp(w->status, "ok") == 0) ? "ok"
	                                                                 : "fail",
	           importance, detail);
	free(detail);
}

/* Metadata reads are frequent (a `ls` is one lstat per name): rows only. */
static int
quiet_op(const char *op)
{
	static const char *const quiet[] = {"stat",
	                                    "lstat",
	                                    "realpath",
	                                    "readlink",
	                                    "statvfs@openssh.com",
	                                    "limits@openssh.com",
	                                    "expand-path@openssh.com",
	                                    "home-directory"};
	size_t i;

	for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
		if (strcmp(op, quiet[i]) == 0)
			return 1;
	return 0;
}

/* ---- content capture (transfer_capture = on) ------------------------------
 * The content of a file handle goes, while it stays sequential and under
 * transfer_capture_max, through a zstd stream into a temporary file in
 * DIR/recordings/UUID.files/; when the handle is closed with a SHA-256 the
 * file is renamed to SHA256.zst, otherwise it is removed. */
struct capture {
	int fd;
	int write; /* direction of the content: 1 upload, 0 download */
	uint64_t bytes;
	ZSTD_CCtx *z;
	char tmp[4096];
};

static void
capture_drop(struct capture *k)
{
	if (k == NULL)
		return;
	if (k->fd >= 0) {
		close(k->fd);
		unlink(k->tmp);
	}
	ZSTD_freeCCtx(k->z);
	free(k);
}

static int
capture_dir(const struct conn *c, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/recordings/%s.files", c->datadir, c->uuid);

	if (n < 0 || (size_t)n >= len)
		return -1;
	if (mkdir(out, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Compress and write; mode ZSTD_e_continue or ZSTD_e_end. 0 or -1. */
static int
capture_put(struct capture *k, const void *p, size_t n, ZSTD_EndDirective mode)
{
	uint8_t out[64 * 1024];
	ZSTD_inBuffer in = {p, n, 0};
	size_t left;

	do {
		ZSTD_outBuffer o = {out, sizeof(out), 0};

		left = ZSTD_compressStream2(k->z, &o, &in, mode);
		if (ZSTD_isError(left))
			return -1;
		if (o.pos > 0 && write(k->fd, out, o.pos) != (ssize_t)o.pos)
			return -1;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

static void
capture_content(struct xfer *x, const struct sftp_event *ev)
{
	struct conn *c = x->ch->c;
	struct capture *k = *ev->handle_ud;
	char dir[3900];
	static unsigned seq;

	if (k == NULL) {
		if ((k = calloc(1, sizeof(*k))) == NULL)
			return;
		k->fd = -1;
		k->write = ev->write;
		*ev->handle_ud = k;
		if (capture_dir(c, dir, sizeof(dir)) != 0 ||
		    snprintf(k->tmp, sizeof(k->tmp), "%s/.part-%u-%ld-%u", dir, x->ch->num, (long)getpid(), ++seq) <
		            0 ||
		    (k->fd = open(k->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
		    (k->z = ZSTD_createCCtx()) == NULL) {
			error("channel %u: cannot capture %s", x->ch->num, ev->path != NULL ? ev->path : "a file");
			k->bytes = UINT64_MAX; /* marks it dead; removed at close */
			return;
		}
	}
	if (k->bytes == UINT64_MAX)
		return;
	/* Both directions on one handle, or beyond the limit: not captured. */
	if (k->write != ev->write || k->bytes + ev->len > (uint64_t)c->cfg->transfer_capture_max ||
	    capture_put(k, ev->data, ev->len, ZSTD_e_continue) != 0) {
		if (k->fd >= 0) {
			close(k->fd);
			unlink(k->tmp);
			k->fd = -1;
		}
		k->bytes = UINT64_MAX;
		return;
	}
	k->bytes += ev->len;
}

/* At close: keep the content as SHA256.zst when it is the whole file that
 * the row's hash names. Returns the path relative to the data directory
 * (static buffer) or NULL. */
static const char *
capture_finish(struct xfer *x, const struct sftp_event *ev)
{
	static char rel[512];
	struct capture *k = ev->handle_ud != NULL ? *ev->handle_ud : NULL;
	char final[4096];
	const char *ret = NULL;

	if (k == NULL)
		return NULL;
	*ev->handle_ud = NULL;
	if (k->bytes != UINT64_MAX && k->fd >= 0 && ev->sha256 != NULL && strcmp(ev->status, "ok") == 0 &&
	    k->write == (ev->bytes_written > 0 || strcmp(ev->op, "upload") == 0) &&
	    k->bytes == (k->write ? ev->bytes_written : ev->bytes_read) && capture_put(k, NULL, 0, ZSTD_e_end) == 0 &&
	    fsync(k->fd) == 0) {
		snprintf(rel, sizeof(rel), "recordings/%s.files/%s.zst", x->ch->c->uuid, ev->sha256);
		snprintf(final, sizeof(final), "%s/%s", x->ch->c->datadir, rel);
		/* The same content twice is stored once. */
		if (rename(k->tmp, final) == 0) {
			close(k->fd);
			k->fd = -1;
			ret = rel;
		}
	}
	capture_drop(k);
	return ret;
}

static void
on_sftp_event(void *ud, const struct sftp_event *ev)
{
	struct xfer *x = ud;
	struct chan *ch = x->ch;
	struct row w;
	json_t *d = json_object();

	memset(&w, 0, sizeof(w));
	w.protocol = "sftp";
	w.op = ev->op;
	w.path = ev->path;
	w.path2 = ev->path2;
	w.status = ev->status;
	w.allowed = 1;
	w.detail = d;
	if (ev->pflags != 0 || strcmp(ev->op, "open") == 0 || ev->kind == SFTP_EV_TRANSFER)
		json_object_set_new(d, "pflags", json_integer(ev->pflags));
	switch (ev->kind) {
	case SFTP_EV_CONTENT: capture_content(x, ev); break;
	case SFTP_EV_DENY:
		w.allowed = 0;
		json_object_set_new(d, "needs", json_string(ev->need));
		json_object_set_new(d, "request_id", json_integer(ev->id));
		row_insert(ch, &w);
		row_audit(ch, "sftp.deny", &w, AUDIT_HIGH);
		info("channel %u: sftp %s %s refused (needs %s)", ch->num, ev->op, ev->path ? ev->path : "", ev->need);
		break;
	case SFTP_EV_TRANSFER:
		w.bytes_read = ev->bytes_read;
		w.bytes_written = ev->bytes_written;
		w.sha256 = ev->sha256;
		w.capture = capture_finish(x, ev);
		if (w.capture != NULL)
			json_object_set_new(d, "capture", json_string(w.capture));
		row_insert(ch, &w);
		row_audit(ch, "sftp.transfer", &w, AUDIT_INFO);
		verbose("channel %u: sftp %s %s: %llu read, %llu written", ch->num, ev->op, ev->path ? ev->path : "",
		        (unsigned long long)ev->bytes_read, (unsigned long long)ev->bytes_written);
		break;
	case SFTP_EV_LISTING:
		json_object_set_new(d, "entries", json_integer((json_int_t)ev->entries));
		row_insert(ch, &w);
		row_audit(ch, "sftp.list", &w, AUDIT_INFO);
		break;
	case SFTP_EV_OP:
		row_insert(ch, &w);
		if (!quiet_op(ev->op))
			row_audit(ch, "sftp.op", &w, AUDIT_INFO);
		break;
	}
	json_decref(d);
}

static void
on_scp_event(void *ud, const struct scp_event *ev)
{
	struct xfer *x = ud;
	struct chan *ch = x->ch;
	struct row w;
	json_t *d = json_object();

	memset(&w, 0, sizeof(w));
	w.protocol = "scp";
	w.op = x->exec == XE_SCP_UPLOAD ? "upload" : "download";
	w.path = ev->path;
	w.path2 = x->exec_paths;
	w.allowed = 1;
	w.detail = d;
	switch (ev->kind) {
	case SCP_EV_FILE:
		json_object_set_new(d, "mode", json_sprintf("%04o", ev->mode));
		json_object_set_new(d, "size", json_integer((json_int_t)ev->size));
		if (x->exec == XE_SCP_UPLOAD)
			w.bytes_written = ev->bytes;
		else
			w.bytes_read = ev->bytes;
		w.sha256 = ev->sha256;
		w.status = ev->complete ? "ok" : "incomplete";
		x->files++;
		row_insert(ch, &w);
		row_audit(ch, "scp.transfer", &w, AUDIT_INFO);
		break;
	case SCP_EV_DIR:
		w.op = "mkdir";
		json_object_set_new(d, "mode", json_sprintf("%04o", ev->mode));
		w.status = "ok";
		row_insert(ch, &w);
		break;
	case SCP_EV_ERROR: verbose("channel %u: scp message: %s", ch->num, ev->message); break;
	}
	json_decref(d);
}

/* ---- life ------------------------------------------------------------------ */

int
xfer_active(const struct chan *ch)
{
	return ch->xfer != NULL;
}

int
xfer_start(struct chan *ch)
{
	struct xfer *x = NULL;
	int r = ERR_INTERNAL;

	if (ch->kind == CK_TUNNEL) {
		if ((x = calloc(1, sizeof(*x))) == NULL)
			return ERR_NOMEM;
		x->ch = ch;
		x->tunnel = 1;
	} else if (ch->kind == CK_EXEC) {
		enum xfer_exec_kind k = (enum xfer_exec_kind)ch->xfer_exec;

		if (k == XE_NONE)
			return 0;
		if ((x = calloc(1, sizeof(*x))) == NULL)
			return ERR_NOMEM;
		x->ch = ch;
		x->exec = k;
		xfer_exec_classify(ch->command, x->exec_paths, sizeof(x->exec_paths), NULL, 0);
		if ((k == XE_SCP_UPLOAD || k == XE_SCP_DOWNLOAD) && (x->scp = scp_new(on_scp_event, x)) == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
	} else if (ch->kind == CK_SUBSYSTEM && ch->command != NULL && strcmp(ch->command, "sftp") == 0) {
		if ((x = calloc(1, sizeof(*x))) == NULL)
			return ERR_NOMEM;
		x->ch = ch;
		if ((x->sftp = sftp_new(ch->xfer_rights, on_sftp_event, x)) == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		sftp_want_content(x->sftp, ch->c->cfg->transfer_capture && ch->c->cfg->transfer_capture_max > 0);
	} else {
		return 0;
	}
	ch->xfer = x;
	x = NULL;
	r = 0;
out:
	if (x != NULL) {
		sftp_free(x->sftp);
		scp_free(x->scp);
		free(x);
	}
	return r;
}

void
xfer_end(struct chan *ch)
{
	struct xfer *x = ch->xfer;
	struct row w;
	json_t *d;

	if (x == NULL)
		return;
	ch->xfer = NULL;
	sftp_free(x->sftp); /* reports handles left open */
	scp_free(x->scp);   /* reports a file cut short */
	if (x->tunnel) {
		/* One row and one event per tunnel, with the bytes each way. */
		memset(&w, 0, sizeof(w));
		d = json_object();
		json_object_set_new(d, "unrecorded", json_boolean(ch->fwd_unrecorded));
		w.protocol = "tunnel";
		w.op = "direct-tcpip";
		w.path = ch->command;
		w.bytes_written = x->bytes[SFTP_TO_TARGET];
		w.bytes_read = x->bytes[SFTP_TO_OPERATOR];
		w.status = "ok";
		w.allowed = 1;
		w.detail = d;
		row_insert(ch, &w);
		json_object_set_new(d, "bytes_to_destination", json_integer((json_int_t)w.bytes_written));
		json_object_set_new(d, "bytes_from_destination", json_integer((json_int_t)w.bytes_read));
		row_audit(ch, "tunnel.close", &w, AUDIT_INFO);
		json_decref(d);
	} else if (x->exec == XE_RSYNC_UPLOAD || x->exec == XE_RSYNC_DOWNLOAD ||
	           ((x->exec == XE_SCP_UPLOAD || x->exec == XE_SCP_DOWNLOAD) && x->files == 0)) {
		/* rsync (not parsed) and an scp that moved no file: one row for the
		 * command, with the bytes each way. */
		memset(&w, 0, sizeof(w));
		d = json_object();
		json_object_set_new(d, "command", json_string(ch->command));
		if (ch->exit_status_rcvd)
			json_object_set_new(d, "exit_status", json_integer(ch->exit_status));
		w.protocol = (x->exec == XE_RSYNC_UPLOAD || x->exec == XE_RSYNC_DOWNLOAD) ? "rsync" : "scp";
		w.op = (x->exec == XE_RSYNC_UPLOAD || x->exec == XE_SCP_UPLOAD) ? "upload" : "download";
		w.path = x->exec_paths;
		w.bytes_written = x->bytes[SFTP_TO_TARGET];
		w.bytes_read = x->bytes[SFTP_TO_OPERATOR];
		w.status = !ch->exit_status_rcvd ? "incomplete" : ch->exit_status == 0 ? "ok" : "failed";
		w.allowed = 1;
		w.detail = d;
		row_insert(ch, &w);
		row_audit(ch, strcmp(w.protocol, "rsync") == 0 ? "rsync.transfer" : "scp.transfer", &w, AUDIT_INFO);
		json_decref(d);
	}
	free(x->q[0].p);
	free(x->q[1].p);
	free(x);
}

/* ---- the pump ------------------------------------------------------------ */

static size_t
q_peek(struct xfer *x, int dir, const uint8_t **p)
{
	if (x->sftp != NULL)
		return sftp_out_peek(x->sftp, (enum sftp_dir)dir, p);
	*p = x->q[dir].p;
	return x->q[dir].len;
}

size_t
xfer_queued_out(const struct chan *ch)
{
	const uint8_t *p;

	return ch->xfer != NULL ? q_peek(ch->xfer, SFTP_TO_OPERATOR, &p) : 0;
}

static void
q_consume(struct xfer *x, int dir, size_t n)
{
	struct passq *q = &x->q[dir];

	if (x->sftp != NULL) {
		sftp_out_consume(x->sftp, (enum sftp_dir)dir, n);
		return;
	}
	if (n >= q->len) {
		q->len = 0;
		return;
	}
	memmove(q->p, q->p + n, q->len - n);
	q->len -= n;
}

/* Inspect (sftp) or observe (scp) bytes read from dir's source and queue
 * them for its destination. */
static int
q_feed(struct xfer *x, int dir, const uint8_t *p, size_t n)
{
	struct passq *q = &x->q[dir];
	int r;

	if (x->sftp != NULL)
		return sftp_feed(x->sftp, (enum sftp_dir)dir, p, n);
	if (x->scp != NULL && ((dir == SFTP_TO_TARGET && x->exec == XE_SCP_UPLOAD) ||
	                       (dir == SFTP_TO_OPERATOR && x->exec == XE_SCP_DOWNLOAD))) {
		if ((r = scp_feed(x->scp, p, n)) != 0 && x->files == 0 && !x->failed) {
			x->failed = 1; /* logged once; the bytes still flow */
			info("channel %u: scp stream not understood: %s", x->ch->num, scp_error(x->scp));
		}
	}
	x->bytes[dir] += n;
	if (q->len + n > q->cap) {
		uint8_t *np = realloc(q->p, q->len + n);

		if (np == NULL)
			return ERR_NOMEM;
		q->p = np;
		q->cap = q->len + n;
	}
	memcpy(q->p + q->len, p, n);
	q->len += n;
	return 0;
}

struct xdir {
	int dir; /* enum sftp_dir */
	ssh_channel src, dst;
	int *rx_flag, *drained, *dst_dead;
	uint64_t *counter;
};

/* Write the queue toward dir's destination. Returns 1 when it is empty,
 * 0 when the destination takes no more now, negative on a recorder failure. */
static int
flush(struct xfer *x, const struct xdir *d)
{
	struct chan *ch = x->ch;
	const uint8_t *p;
	size_t len;
	uint32_t win, n;
	int w, r;

	while ((len = q_peek(x, d->dir, &p)) > 0) {
		if (d->dst == NULL) {
			/* The operator is gone: what the target still sent is recorded,
			 * then dropped (as pump.c does). */
			if (d->dir == SFTP_TO_OPERATOR && ch->c->rec != NULL) {
				r = rec_write(ch->c->rec, REC_DATA_OUT, ch->num, p, len);
				if (r != 0 && conn_rec_failed(ch->c, r) != 0)
					return r;
			}
			q_consume(x, d->dir, len);
			return 1;
		}
		if ((win = ssh_channel_window_size(d->dst)) == 0)
			return 0;
		n = (uint32_t)(len < win ? len : win);
		if (n > XFER_WRITE_MAX)
			n = XFER_WRITE_MAX;
		w = ssh_channel_write(d->dst, p, n);
		if (w < 0) {
			debug_f("channel %u: write failed, discarding the rest", ch->num);
			*d->dst_dead = 1;
			q_consume(x, d->dir, len);
			return 1;
		}
		/* What the operator receives is recorded as written: the target's
		 * answers and the bastion's own, in the order the operator got them. */
		if (d->dir == SFTP_TO_OPERATOR && w > 0 && ch->c->rec != NULL) {
			r = rec_write(ch->c->rec, REC_DATA_OUT, ch->num, p, (size_t)w);
			if (r != 0 && conn_rec_failed(ch->c, r) != 0)
				return r;
		}
		q_consume(x, d->dir, (size_t)w);
		if ((uint32_t)w < n)
			return 0;
	}
	return 1;
}

/* The SFTP stream cannot be followed any more, or the operator broke the
 * protocol (a request id reused while outstanding): the channel ends,
 * audited as sftp.error or sftp.violation (both high). */
static void
sftp_failed(struct xfer *x)
{
	struct chan *ch = x->ch;
	struct conn *c = ch->c;
	int violation = sftp_violation(x->sftp);
	char msg[600];
	json_t *j = json_object();
	char *detail;

	snprintf(msg, sizeof(msg), "SFTP protocol %s: %s", violation ? "violation" : "error", sftp_error(x->sftp));
	error("channel %u: %s", ch->num, msg);
	json_object_set_new(j, "reason", json_string(sftp_error(x->sftp)));
	json_object_set_new(j, "session", json_string(c->uuid));
	json_object_set_new(j, "channel", json_integer(ch->num));
	if (c->asset != NULL)
		json_object_set_new(j, "target",
		                    json_sprintf("%s@%s", c->login != NULL ? c->login : "", c->asset->name));
	detail = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	conn_audit(c, c->user->name, violation ? "sftp.violation" : "sftp.error",
	           c->asset != NULL ? c->asset->name : "-", "fail", AUDIT_HIGH, detail);
	free(detail);
	x->failed = -1;
	chan_refuse(ch, violation ? "SFTP protocol violation: the channel is closed" : msg, 1);
}

/* Read from dir's source what libssh holds for it, once the queue toward
 * the destination is empty (the reason is pump.c's read_hold: libssh
 * re-opens a window after each read without counting what it buffers, so
 * small reads let it buffer without bound). Only the amount buffered when
 * the drain starts is taken: reads that find the buffer empty poll the
 * socket, and a drain that went on with what arrives meanwhile would let
 * libssh re-open the window again. Returns bytes read or a negative
 * enum gh_err. */
static long
drain_source(struct xfer *x, const struct xdir *d, size_t avail)
{
	struct chan *ch = x->ch;
	struct conn *c = ch->c;
	long got = 0;
	int n, r;

	while (avail > 0) {
		n = ssh_channel_read_nonblocking(d->src, x->buf, (uint32_t)(avail < XFER_CHUNK ? avail : XFER_CHUNK),
		                                 0);
		if (n == SSH_EOF || n == SSH_ERROR) {
			x->src_eof[d->dir] = 1;
			*d->rx_flag = 0;
			break;
		}
		if (n == 0) {
			*d->rx_flag = 0;
			break;
		}
		avail -= (size_t)n < avail ? (size_t)n : avail;
		if (d->dir == SFTP_TO_TARGET && c->rec != NULL) {
			r = rec_write(c->rec, REC_DATA_IN, ch->num, x->buf, (size_t)n);
			if (r != 0 && conn_rec_failed(c, r) != 0)
				return r;
		}
		*d->counter += (uint64_t)n;
		got += n;
		c->last_activity_ms = time_mono_ms();
		if ((r = q_feed(x, d->dir, x->buf, (size_t)n)) != 0) {
			if (r == ERR_NOMEM || x->sftp == NULL)
				return r;
			sftp_failed(x);
			break;
		}
		/* The pending table filled up: what libssh still holds stays
		 * there (the operator's window closes) until answers come. */
		if (d->dir == SFTP_TO_TARGET && x->sftp != NULL && sftp_full(x->sftp))
			break;
	}
	return got;
}

static long
pump_dir(struct xfer *x, const struct xdir *d)
{
	struct chan *ch = x->ch;
	const uint8_t *p;
	long moved = 0, n;
	int avail, r;

	while (moved < XFER_ROUND_MAX) {
		/* Requests that waited for room in the pending table go first. */
		if (d->dir == SFTP_TO_TARGET && x->sftp != NULL && sftp_waiting(x->sftp) > 0 && !sftp_full(x->sftp) &&
		    (r = sftp_resume(x->sftp)) != 0) {
			if (r == ERR_NOMEM)
				return r;
			sftp_failed(x);
			return moved;
		}
		if ((r = flush(x, d)) < 0)
			return r;
		if (!*d->rx_flag || x->src_eof[d->dir] || x->failed < 0)
			break;
		if (d->dir == SFTP_TO_TARGET && q_peek(x, SFTP_TO_OPERATOR, &p) > XFER_ANSWERS_MAX)
			break;
		/* Every request that goes out is tracked: with the table full (or
		 * requests waiting for it), the operator is not read; libssh keeps
		 * what arrives and does not re-open the window. */
		if (d->dir == SFTP_TO_TARGET && x->sftp != NULL && (sftp_full(x->sftp) || sftp_waiting(x->sftp) > 0)) {
			if (!x->held)
				info("channel %u: %d SFTP requests await an answer: the operator is not read until "
				     "answers come back",
				     ch->num, SFTP_MAX_PENDING);
			x->held = 1;
			break;
		}
		x->held = 0;
		/* What was read went out completely, and the destination has
		 * window: only then is the source read again. */
		if (d->dst != NULL && (q_peek(x, d->dir, &p) > 0 || ssh_channel_window_size(d->dst) == 0))
			return moved;
		/* The target's stderr shares its window (pump.c, hold_back). */
		if (d->dir == SFTP_TO_OPERATOR && ch->carry_err.len > 0)
			return moved;
		avail = ssh_channel_poll(d->src, 0);
		if (avail == SSH_EOF || avail == SSH_ERROR) {
			x->src_eof[d->dir] = 1;
			*d->rx_flag = 0;
			break;
		}
		if (avail == 0) {
			*d->rx_flag = 0;
			break;
		}
		if ((n = drain_source(x, d, (size_t)avail < XFER_HOLD_MAX ? (size_t)avail : XFER_HOLD_MAX)) < 0)
			return n;
		moved += n;
		if (x->failed < 0)
			return moved;
	}
	if (moved >= XFER_ROUND_MAX)
		ch->more_pending = 1;
	/* EOF passes on only once everything inspected was delivered and no
	 * whole request waits for the pending table; a packet cut short by the
	 * EOF is dropped (it never was a request). */
	if (x->src_eof[d->dir] && q_peek(x, d->dir, &p) == 0 &&
	    (d->dir != SFTP_TO_TARGET || x->sftp == NULL || sftp_waiting(x->sftp) == 0))
		*d->drained = 1;
	return moved;
}

long
xfer_pump(struct chan *ch)
{
	struct xfer *x = ch->xfer;
	struct conn *c = ch->c;
	struct xdir in, out;
	long a, b, n;

	if (x->failed < 0)
		return 0;
	in.dir = SFTP_TO_TARGET;
	in.src = ch->down;
	in.dst = (ch->up_dead || ch->up_eof_sent || ch->up_close_rcvd) ? NULL : ch->up;
	in.rx_flag = &ch->down_rx;
	in.drained = &ch->down_drained;
	in.dst_dead = &ch->up_dead;
	in.counter = &c->bytes_in;
	out.dir = SFTP_TO_OPERATOR;
	out.src = ch->up;
	out.dst = (ch->down_dead || ch->down_eof_sent || ch->down_close_rcvd) ? NULL : ch->down;
	out.rx_flag = &ch->up_rx;
	out.drained = &ch->up_drained_out;
	out.dst_dead = &ch->down_dead;
	out.counter = &c->bytes_out;
	if ((a = pump_dir(x, &in)) < 0)
		return a;
	if (x->failed < 0)
		return a;
	/* Answers the bastion queued for refused requests go out now. */
	if ((b = pump_dir(x, &out)) < 0)
		return b;
	/* Answers freed room in the pending table: the requests that waited
	 * go out in this round, not at the next poll. */
	if (x->sftp != NULL && x->failed >= 0 && sftp_waiting(x->sftp) > 0 && !sftp_full(x->sftp)) {
		if ((n = pump_dir(x, &in)) < 0)
			return n;
		a += n;
	}
	return a + b;
}
