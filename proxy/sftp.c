/* SFTP inspection (see sftp.h). The stream is cut into whole packets per
 * direction; each request is looked up in a const table that says how to
 * parse it and which right it needs; requests the target will answer are
 * remembered by id so the answer's status can be reported with the request's
 * path. Handles returned by OPEN/OPENDIR are tracked to count bytes and hash
 * content that goes sequentially from offset 0.
 *
 * Every request that reaches the target is tracked, so that every answer is
 * matched with exactly the request it answers and every byte is counted
 * under the file it belongs to:
 *   - a request id may be outstanding only once (a second request with the
 *     same id would make the answers ambiguous): a protocol violation that
 *     fails the stream;
 *   - with MAX_PENDING requests outstanding, the next complete request waits
 *     in the input buffer (sftp_held) and the relay stops reading the
 *     operator until answers come back;
 *   - a request on a handle the bastion does not know as open (never
 *     returned by the target, or already being closed) is answered by the
 *     bastion: the target might have given that handle to another file;
 *   - an OPEN/OPENDIR that could not be tracked (MAX_HANDLES open or being
 *     opened) is answered by the bastion too. */
#include "proxy/sftp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"

/* Packet types (draft-ietf-secsh-filexfer-02, version 3). */
enum {
	FXP_INIT = 1,
	FXP_VERSION = 2,
	FXP_OPEN = 3,
	FXP_CLOSE = 4,
	FXP_READ = 5,
	FXP_WRITE = 6,
	FXP_LSTAT = 7,
	FXP_FSTAT = 8,
	FXP_SETSTAT = 9,
	FXP_FSETSTAT = 10,
	FXP_OPENDIR = 11,
	FXP_READDIR = 12,
	FXP_REMOVE = 13,
	FXP_MKDIR = 14,
	FXP_RMDIR = 15,
	FXP_REALPATH = 16,
	FXP_STAT = 17,
	FXP_RENAME = 18,
	FXP_READLINK = 19,
	FXP_SYMLINK = 20,
	FXP_STATUS = 101,
	FXP_HANDLE = 102,
	FXP_DATA = 103,
	FXP_NAME = 104,
	FXP_ATTRS = 105,
	FXP_EXTENDED = 200,
	FXP_EXTENDED_REPLY = 201,
};

#define FXF_READ   0x01
#define FXF_WRITE  0x02
#define FXF_APPEND 0x04
#define FXF_CREAT  0x08
#define FXF_TRUNC  0x10

#define FX_OK                0
#define FX_EOF               1
#define FX_PERMISSION_DENIED 3
#define FX_FAILURE           4
#define FX_BAD_MESSAGE       5

#define MAX_PENDING    SFTP_MAX_PENDING
#define MAX_HANDLES    256
#define MAX_HANDLE_LEN 256 /* the protocol's limit */
#define MAX_PATH_LEN   8192

/* What a request needs. */
enum need { NEED_NONE, NEED_LIST, NEED_READ, NEED_WRITE, NEED_OPEN };

/* How a request's arguments are laid out (after the id). */
enum shape {
	SH_NONE,     /* nothing we use */
	SH_PATH,     /* string path, ... */
	SH_PATH2,    /* string path, string path2 */
	SH_HANDLE,   /* string handle, ... */
	SH_OPEN,     /* string path, uint32 pflags, attrs */
	SH_RW,       /* string handle, uint64 offset, uint32 len | string data */
	SH_EXTENDED, /* string name, then per the extension table */
};

struct sftp_op {
	uint8_t type;
	const char *name;
	enum shape shape;
	enum need need;
	int log; /* the answer is reported as an SFTP_EV_OP */
};

static const struct sftp_op sftp_ops[] = {
        {FXP_OPEN, "open", SH_OPEN, NEED_OPEN, 1},
        {FXP_CLOSE, "close", SH_HANDLE, NEED_NONE, 0},
        {FXP_READ, "read", SH_RW, NEED_READ, 0},
        {FXP_WRITE, "write", SH_RW, NEED_WRITE, 0},
        {FXP_LSTAT, "lstat", SH_PATH, NEED_LIST, 1},
        {FXP_FSTAT, "fstat", SH_HANDLE, NEED_LIST, 0},
        {FXP_SETSTAT, "setstat", SH_PATH, NEED_WRITE, 1},
        {FXP_FSETSTAT, "fsetstat", SH_HANDLE, NEED_WRITE, 1},
        {FXP_OPENDIR, "opendir", SH_PATH, NEED_LIST, 0},
        {FXP_READDIR, "readdir", SH_HANDLE, NEED_LIST, 0},
        {FXP_REMOVE, "remove", SH_PATH, NEED_WRITE, 1},
        {FXP_MKDIR, "mkdir", SH_PATH, NEED_WRITE, 1},
        {FXP_RMDIR, "rmdir", SH_PATH, NEED_WRITE, 1},
        {FXP_REALPATH, "realpath", SH_PATH, NEED_LIST, 1},
        {FXP_STAT, "stat", SH_PATH, NEED_LIST, 1},
        {FXP_RENAME, "rename", SH_PATH2, NEED_WRITE, 1},
        {FXP_READLINK, "readlink", SH_PATH, NEED_LIST, 1},
        {FXP_SYMLINK, "symlink", SH_PATH2, NEED_WRITE, 1},
        {FXP_EXTENDED, "extended", SH_EXTENDED, NEED_WRITE, 1},
};

/* OpenSSH's extensions. Unknown ones need the upload right: the bastion
 * cannot tell what they change. */
static const struct sftp_ext {
	const char *name;
	enum shape shape;
	enum need need;
} sftp_exts[] = {
        {"posix-rename@openssh.com", SH_PATH2, NEED_WRITE},
        {"hardlink@openssh.com", SH_PATH2, NEED_WRITE},
        {"statvfs@openssh.com", SH_PATH, NEED_LIST},
        {"fstatvfs@openssh.com", SH_HANDLE, NEED_LIST},
        {"fsync@openssh.com", SH_HANDLE, NEED_WRITE},
        {"lsetstat@openssh.com", SH_PATH, NEED_WRITE},
        {"limits@openssh.com", SH_NONE, NEED_LIST},
        {"expand-path@openssh.com", SH_PATH, NEED_LIST},
        {"home-directory", SH_NONE, NEED_LIST},
        {"users-groups-by-id@openssh.com", SH_NONE, NEED_LIST},
        {"copy-data", SH_HANDLE, NEED_WRITE},
};

struct handle {
	uint64_t serial;
	uint8_t h[MAX_HANDLE_LEN];
	uint32_t hlen;
	char *path;
	uint32_t pflags;
	int is_dir;
	uint64_t rbytes, wbytes; /* bytes read (DATA answers) and written (WRITE requests) */
	uint64_t rnext, wnext;   /* next offset for the content to stay sequential */
	int rseq, wseq;          /* still sequential */
	int werr;                /* a write was answered with an error */
	int closing;             /* a CLOSE for it went to the target: no more requests on it */
	uint64_t entries;        /* directory: names returned */
	EVP_MD_CTX *rctx, *wctx;
	void *ud;
};

struct pending {
	uint32_t id;
	const struct sftp_op *op;
	const char *ext_name; /* static (from sftp_exts) or NULL */
	char *path, *path2;
	uint32_t pflags;
	uint64_t serial; /* handle of READ/WRITE/CLOSE/READDIR (0 = untracked) */
	uint64_t off;
};

struct buf {
	uint8_t *p;
	size_t off, len, cap;
};

struct sftp {
	unsigned rights;
	sftp_event_fn fn;
	void *ud;
	int want_content;
	struct buf in[2];  /* partial packets per direction */
	struct buf out[2]; /* inspected packets per direction */
	struct pending *pend;
	size_t npend;
	size_t nopening; /* pending OPEN/OPENDIR: each may take a handle slot */
	size_t nhandles;
	struct handle *handles[MAX_HANDLES];
	uint64_t next_serial;
	int failed;
	int violation; /* the failure is the operator's protocol violation */
	char err[512];
};

/* ---- buffers and a bounded reader -------------------------------------- */

static int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (b->off > 0 && b->off + b->len + n > b->cap) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
	if (b->off + b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return ERR_NOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->off + b->len, p, n);
	b->len += n;
	return 0;
}

static void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}

struct rd {
	const uint8_t *p;
	size_t len, pos;
	int bad;
};

static uint32_t
rd_u32(struct rd *r)
{
	const uint8_t *q;

	if (r->bad || r->len - r->pos < 4) {
		r->bad = 1;
		return 0;
	}
	q = r->p + r->pos;
	r->pos += 4;
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static uint64_t
rd_u64(struct rd *r)
{
	uint64_t hi = rd_u32(r);

	return hi << 32 | rd_u32(r);
}

/* A string: pointer into the packet and its length. */
static const uint8_t *
rd_str(struct rd *r, uint32_t *len)
{
	uint32_t n = rd_u32(r);
	const uint8_t *q;

	if (r->bad || r->len - r->pos < n) {
		r->bad = 1;
		*len = 0;
		return NULL;
	}
	q = r->p + r->pos;
	r->pos += n;
	*len = n;
	return q;
}

/* A path as a C string (paths with NUL or beyond MAX_PATH_LEN: bad). */
static char *
rd_path(struct rd *r)
{
	uint32_t n;
	const uint8_t *q = rd_str(r, &n);
	char *s;

	if (q == NULL || n > MAX_PATH_LEN || memchr(q, 0, n) != NULL) {
		r->bad = 1;
		return NULL;
	}
	if ((s = malloc(n + 1)) == NULL) {
		r->bad = 1;
		return NULL;
	}
	memcpy(s, q, n);
	s[n] = '\0';
	return s;
}

/* ---- events ------------------------------------------------------------ */

static const char *
status_name(uint32_t code)
{
	static const char *const names[] = {
	        "ok",          "eof",           "no such file",    "permission denied", "failure",
	        "bad message", "no connection", "connection lost", "op unsupported"};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "error";
}

static void
emit(struct sftp *s, struct sftp_event *ev)
{
	if (s->fn != NULL)
		s->fn(s->ud, ev);
}

static const char *
need_name(enum need n, uint32_t pflags)
{
	if (n == NEED_OPEN) {
		int rd = (pflags & FXF_READ) != 0;
		int wr = (pflags & (FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC)) != 0;

		return rd && wr ? "upload and download" : wr ? "upload" : "download";
	}
	switch (n) {
	case NEED_READ: return "download";
	case NEED_WRITE: return "upload";
	case NEED_LIST: return "upload or download";
	default: return "";
	}
}

static int
allowed(const struct sftp *s, enum need n, uint32_t pflags)
{
	switch (n) {
	case NEED_NONE: return 1;
	case NEED_LIST: return (s->rights & (SFTP_RIGHT_READ | SFTP_RIGHT_WRITE)) != 0;
	case NEED_READ: return (s->rights & SFTP_RIGHT_READ) != 0;
	case NEED_WRITE: return (s->rights & SFTP_RIGHT_WRITE) != 0;
	case NEED_OPEN:
		if ((pflags & FXF_READ) && !(s->rights & SFTP_RIGHT_READ))
			return 0;
		if ((pflags & (FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC)) && !(s->rights & SFTP_RIGHT_WRITE))
			return 0;
		/* An open with no flag at all reads nothing and writes nothing,
		 * but still needs one of the rights. */
		return (s->rights & (SFTP_RIGHT_READ | SFTP_RIGHT_WRITE)) != 0;
	}
	return 0;
}

/* ---- handles ------------------------------------------------------------ */

static struct handle *
handle_find(struct sftp *s, const uint8_t *h, uint32_t hlen)
{
	size_t i;

	for (i = 0; i < MAX_HANDLES; i++) {
		struct handle *x = s->handles[i];

		if (x != NULL && x->hlen == hlen && memcmp(x->h, h, hlen) == 0)
			return x;
	}
	return NULL;
}

static struct handle *
handle_by_serial(struct sftp *s, uint64_t serial)
{
	size_t i;

	if (serial == 0)
		return NULL;
	for (i = 0; i < MAX_HANDLES; i++)
		if (s->handles[i] != NULL && s->handles[i]->serial == serial)
			return s->handles[i];
	return NULL;
}

static void
hex(const uint8_t *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Report a file or directory handle as closed, and free it. */
static void
handle_close(struct sftp *s, struct handle *x, const char *status)
{
	struct sftp_event ev;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char sha[2 * EVP_MAX_MD_SIZE + 1];
	size_t i;

	memset(&ev, 0, sizeof(ev));
	ev.path = x->path;
	ev.pflags = x->pflags;
	ev.status = status;
	ev.handle_ud = &x->ud;
	if (x->is_dir) {
		ev.kind = SFTP_EV_LISTING;
		ev.op = "list";
		ev.entries = x->entries;
	} else {
		ev.kind = SFTP_EV_TRANSFER;
		ev.op = x->wbytes > 0 || (x->pflags & (FXF_WRITE | FXF_APPEND)) ? "upload" : "download";
		ev.bytes_read = x->rbytes;
		ev.bytes_written = x->wbytes;
		/* The hash names what went through when it is the whole content:
		 * written sequentially from 0 (uploads), else read so (downloads). */
		if (x->wbytes > 0 || (x->pflags & FXF_WRITE)) {
			if (x->wseq && x->wctx != NULL && EVP_DigestFinal_ex(x->wctx, md, &mdlen) == 1)
				ev.sha256 = sha;
		} else if (x->rseq && x->rctx != NULL && EVP_DigestFinal_ex(x->rctx, md, &mdlen) == 1) {
			ev.sha256 = sha;
		}
		if (ev.sha256 != NULL)
			hex(md, mdlen, sha);
		if (x->werr && strcmp(status, "ok") == 0)
			ev.status = "write failed";
	}
	emit(s, &ev);
	for (i = 0; i < MAX_HANDLES; i++) {
		if (s->handles[i] == x) {
			s->handles[i] = NULL;
			s->nhandles--;
		}
	}
	EVP_MD_CTX_free(x->rctx);
	EVP_MD_CTX_free(x->wctx);
	free(x->path);
	free(x);
}

/* A handle the target returned. The slot was reserved when the OPEN went
 * out (nopening); a handle that cannot be followed fails the stream rather
 * than letting its reads and writes go uncounted. 0 or a negative gh_err. */
static int
handle_new(struct sftp *s, const struct pending *pd, const uint8_t *h, uint32_t hlen, int is_dir)
{
	struct handle *x;
	size_t i;

	if (hlen > MAX_HANDLE_LEN || handle_find(s, h, hlen) != NULL) {
		s->failed = 1;
		snprintf(s->err, sizeof(s->err), "the target returned a handle %s",
		         hlen > MAX_HANDLE_LEN ? "longer than the protocol allows" : "that is already open");
		return ERR_INVALID;
	}
	for (i = 0; i < MAX_HANDLES && s->handles[i] != NULL; i++)
		;
	if (i == MAX_HANDLES) {
		s->failed = 1;
		snprintf(s->err, sizeof(s->err), "more than %d handles open", MAX_HANDLES);
		return ERR_INVALID;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return ERR_NOMEM;
	x->serial = ++s->next_serial;
	memcpy(x->h, h, hlen);
	x->hlen = hlen;
	x->path = pd->path != NULL ? strdup(pd->path) : NULL;
	x->pflags = pd->pflags;
	x->is_dir = is_dir;
	x->rseq = x->wseq = 1;
	if (!is_dir) {
		x->rctx = EVP_MD_CTX_new();
		x->wctx = EVP_MD_CTX_new();
		if (x->rctx == NULL || EVP_DigestInit_ex(x->rctx, EVP_sha256(), NULL) != 1)
			x->rseq = 0;
		if (x->wctx == NULL || EVP_DigestInit_ex(x->wctx, EVP_sha256(), NULL) != 1)
			x->wseq = 0;
	}
	s->handles[i] = x;
	s->nhandles++;
	return 0;
}

/* Content going through a handle at offset off: count, hash while sequential. */
static void
handle_content(struct sftp *s, struct handle *x, int write, uint64_t off, const uint8_t *d, uint32_t n)
{
	uint64_t *next = write ? &x->wnext : &x->rnext;
	int *seq = write ? &x->wseq : &x->rseq;
	EVP_MD_CTX *ctx = write ? x->wctx : x->rctx;
	struct sftp_event ev;

	if (write)
		x->wbytes += n;
	else
		x->rbytes += n;
	if (!*seq)
		return;
	/* A directory handle has no digest: READ/WRITE on it is the target's
	 * business to refuse, never a content to hash. */
	if (ctx == NULL || off != *next || EVP_DigestUpdate(ctx, d, n) != 1) {
		*seq = 0;
		return;
	}
	*next += n;
	if (s->want_content && n > 0) {
		memset(&ev, 0, sizeof(ev));
		ev.kind = SFTP_EV_CONTENT;
		ev.op = write ? "write" : "read";
		ev.path = x->path;
		ev.write = write;
		ev.data = d;
		ev.len = n;
		ev.handle_ud = &x->ud;
		emit(s, &ev);
	}
}

/* ---- pending requests --------------------------------------------------- */

static void
pending_clear(struct pending *pd)
{
	free(pd->path);
	free(pd->path2);
}

static int
opens_handle(const struct pending *pd)
{
	return pd->op->type == FXP_OPEN || pd->op->type == FXP_OPENDIR;
}

static int
pending_has(const struct sftp *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->npend; i++)
		if (s->pend[i].id == id)
			return 1;
	return 0;
}

/* Take the pending request with this id out of the table. Ids are unique
 * among pending requests (request() refuses a second one), so the order of
 * the table does not matter (swap-remove). */
static int
pending_take(struct sftp *s, uint32_t id, struct pending *out)
{
	size_t i;

	for (i = 0; i < s->npend; i++) {
		if (s->pend[i].id == id) {
			*out = s->pend[i];
			s->pend[i] = s->pend[--s->npend];
			if (opens_handle(out))
				s->nopening--;
			return 1;
		}
	}
	return 0;
}

/* The caller checked that there is room (sftp_feed holds requests while
 * the table is full). */
static int
pending_add(struct sftp *s, struct pending *pd)
{
	if (s->pend == NULL && (s->pend = calloc(MAX_PENDING, sizeof(*s->pend))) == NULL)
		return ERR_NOMEM;
	if (s->npend == MAX_PENDING)
		return ERR_INTERNAL;
	s->pend[s->npend++] = *pd;
	if (opens_handle(pd))
		s->nopening++;
	return 0;
}

/* ---- requests (operator -> target) -------------------------------------- */

static const struct sftp_op *
op_of(uint8_t type)
{
	size_t i;

	for (i = 0; i < sizeof(sftp_ops) / sizeof(sftp_ops[0]); i++)
		if (sftp_ops[i].type == type)
			return &sftp_ops[i];
	return NULL;
}

const char *
sftp_type_name(uint8_t type)
{
	const struct sftp_op *op = op_of(type);

	return op != NULL ? op->name : "unknown";
}

/* Queue an SSH_FXP_STATUS answer toward the operator. Only whole packets
 * are ever in that queue, so this lands between two packets. */
static void
put32(uint8_t *p, size_t *i, uint32_t v)
{
	p[(*i)++] = (uint8_t)(v >> 24);
	p[(*i)++] = (uint8_t)(v >> 16);
	p[(*i)++] = (uint8_t)(v >> 8);
	p[(*i)++] = (uint8_t)v;
}

static int
answer_status(struct sftp *s, uint32_t id, uint32_t code, const char *msg)
{
	size_t ml = strlen(msg), n = 4 + 1 + 4 + 4 + 4 + ml + 4;
	uint8_t p[256];
	size_t i = 0;

	if (n > sizeof(p))
		return ERR_INTERNAL;
	put32(p, &i, (uint32_t)(n - 4));
	p[i++] = FXP_STATUS;
	put32(p, &i, id);
	put32(p, &i, code);
	put32(p, &i, (uint32_t)ml);
	memcpy(p + i, msg, ml);
	i += ml;
	put32(p, &i, 0); /* language tag */
	return buf_append(&s->out[SFTP_TO_OPERATOR], p, i);
}

/* A request the bastion answers itself (code, msg) instead of the target:
 * reported as SFTP_EV_DENY with what it would have needed. */
static int
refuse(struct sftp *s, uint32_t id, const char *op, const char *path, const char *path2, uint32_t pflags,
       const char *need, uint32_t code, const char *msg)
{
	struct sftp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SFTP_EV_DENY;
	ev.op = op;
	ev.path = path;
	ev.path2 = path2;
	ev.pflags = pflags;
	ev.id = id;
	ev.need = need;
	ev.status = status_name(code);
	emit(s, &ev);
	return answer_status(s, id, code, msg);
}

static int
deny(struct sftp *s, uint32_t id, const char *op, const char *path, const char *path2, uint32_t pflags,
     const char *need)
{
	return refuse(s, id, op, path, path2, pflags, need, FX_PERMISSION_DENIED,
	              "Permission denied by the bastion's grant");
}

/* A second request with the id of one the target has not answered yet:
 * the answers could no longer be told apart (the bytes of one file would be
 * logged under the other's name). The stream fails; the relay ends the
 * channel and audits it. */
static int
violation_dup_id(struct sftp *s, uint32_t id, const char *op, const char *path)
{
	const struct pending *pd = NULL;
	size_t i;

	for (i = 0; i < s->npend; i++)
		if (s->pend[i].id == id)
			pd = &s->pend[i];
	s->failed = 1;
	s->violation = 1;
	snprintf(s->err, sizeof(s->err), "request id %u reused by %s %.200s while %s %.200s is outstanding", id, op,
	         path != NULL ? path : "-", pd != NULL ? (pd->ext_name != NULL ? pd->ext_name : pd->op->name) : "?",
	         pd != NULL && pd->path != NULL ? pd->path : "-");
	return ERR_INVALID;
}

static int
request(struct sftp *s, const uint8_t *pkt, size_t len)
{
	struct rd r = {pkt, len, 1, 0};
	const struct sftp_op *op;
	const struct sftp_ext *ext = NULL;
	struct pending pd;
	enum shape shape;
	enum need need;
	const uint8_t *h = NULL, *data;
	uint32_t hlen = 0, dlen, id, elen, i;
	const uint8_t *ename;
	struct handle *x = NULL;
	int rc;

	memset(&pd, 0, sizeof(pd));
	if (pkt[0] == FXP_INIT)
		return buf_append(&s->out[SFTP_TO_TARGET], pkt - 4, len + 4);
	id = rd_u32(&r);
	if (r.bad)
		return deny(s, 0, "malformed", NULL, NULL, 0, "a well-formed request");
	pd.id = id;
	if ((op = op_of(pkt[0])) == NULL) {
		/* Unknown to version 3: never forwarded. */
		return deny(s, id, "unknown", NULL, NULL, 0, "a known request");
	}
	pd.op = op;
	shape = op->shape;
	need = op->need;
	if (shape == SH_EXTENDED) {
		ename = rd_str(&r, &elen);
		if (ename != NULL) {
			for (i = 0; i < sizeof(sftp_exts) / sizeof(sftp_exts[0]); i++) {
				if (strlen(sftp_exts[i].name) == elen && memcmp(sftp_exts[i].name, ename, elen) == 0) {
					ext = &sftp_exts[i];
					break;
				}
			}
		}
		shape = ext != NULL ? ext->shape : SH_NONE;
		need = ext != NULL ? ext->need : NEED_WRITE;
		pd.ext_name = ext != NULL ? ext->name : "extended";
	}
	switch (shape) {
	case SH_PATH: pd.path = rd_path(&r); break;
	case SH_PATH2:
		pd.path = rd_path(&r);
		pd.path2 = rd_path(&r);
		break;
	case SH_OPEN:
		pd.path = rd_path(&r);
		pd.pflags = rd_u32(&r);
		break;
	case SH_HANDLE:
	case SH_RW: h = rd_str(&r, &hlen); break;
	case SH_NONE:
	case SH_EXTENDED: break;
	}
	if (pending_has(s, id)) {
		rc = violation_dup_id(s, id, pd.ext_name != NULL ? pd.ext_name : op->name, pd.path);
		goto out;
	}
	if (r.bad) {
		rc = deny(s, id, pd.ext_name != NULL ? pd.ext_name : op->name, pd.path, pd.path2, pd.pflags,
		          "a well-formed request");
		goto out;
	}
	if (h != NULL) {
		x = handle_find(s, h, hlen);
		pd.serial = x != NULL ? x->serial : 0;
	}
	if (!allowed(s, need, pd.pflags)) {
		rc = deny(s, id, pd.ext_name != NULL ? pd.ext_name : op->name,
		          pd.path != NULL ? pd.path
		          : x             ? x->path
		                          : NULL,
		          pd.path2, pd.pflags, need_name(need, pd.pflags));
		goto out;
	}
	/* Only handles the target returned and that are not being closed: once
	 * a CLOSE went out, the target may give the same handle to the next
	 * file opened, and bytes read through it would be counted (and named)
	 * as the old file's. Clients never use a handle they have not received
	 * or have closed. */
	if (h != NULL && (x == NULL || x->closing)) {
		rc = refuse(s, id, pd.ext_name != NULL ? pd.ext_name : op->name, x != NULL ? x->path : NULL, NULL, 0,
		            "an open handle", FX_FAILURE, "Invalid handle (not open at the bastion)");
		goto out;
	}
	/* A handle slot for the answer, so that the file is always followed. */
	if (opens_handle(&pd) && s->nhandles + s->nopening >= MAX_HANDLES) {
		rc = refuse(s, id, op->name, pd.path, NULL, pd.pflags, "fewer open handles", FX_FAILURE,
		            "Too many open handles at the bastion");
		goto out;
	}
	if (op->type == FXP_READ) {
		pd.off = rd_u64(&r);
	} else if (op->type == FXP_WRITE) {
		pd.off = rd_u64(&r);
		data = rd_str(&r, &dlen);
		if (!r.bad && x != NULL)
			handle_content(s, x, 1, pd.off, data, dlen);
	}
	/* Remember what the answer must be matched with (WRITE answers only
	 * matter when they fail, but all are tracked): never forwarded
	 * untracked, sftp_feed holds requests while the table is full. */
	if ((rc = pending_add(s, &pd)) != 0)
		goto out;
	if ((rc = buf_append(&s->out[SFTP_TO_TARGET], pkt - 4, len + 4)) != 0) {
		s->npend--; /* its copy of the paths is freed below */
		if (opens_handle(&pd))
			s->nopening--;
		goto out;
	}
	if (op->type == FXP_CLOSE && x != NULL)
		x->closing = 1;
	memset(&pd, 0, sizeof(pd));
out:
	pending_clear(&pd);
	return rc;
}

/* ---- answers (target -> operator) --------------------------------------- */

static void
report_op(struct sftp *s, const struct pending *pd, const char *status, const char *path2)
{
	struct sftp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SFTP_EV_OP;
	ev.op = pd->ext_name != NULL ? pd->ext_name : pd->op->name;
	ev.path = pd->path;
	ev.path2 = path2 != NULL ? path2 : pd->path2;
	ev.pflags = pd->pflags;
	ev.id = pd->id;
	ev.status = status;
	if (pd->path == NULL && pd->serial != 0) {
		struct handle *x = handle_by_serial(s, pd->serial);

		ev.path = x != NULL ? x->path : NULL;
	}
	emit(s, &ev);
}

/* 0, or a negative gh_err when the target's answer cannot be followed. */
static int
answer(struct sftp *s, const uint8_t *pkt, size_t len)
{
	struct rd r = {pkt, len, 1, 0};
	struct pending pd;
	struct handle *x;
	const uint8_t *d;
	uint32_t id, n, code = FX_OK;
	char *name = NULL;
	const char *status = "ok";
	int rc = 0;

	if (pkt[0] == FXP_VERSION)
		return 0;
	id = rd_u32(&r);
	if (r.bad || !pending_take(s, id, &pd))
		return 0; /* relayed as is: nothing that reached the target asked for it */
	x = handle_by_serial(s, pd.serial);
	switch (pkt[0]) {
	case FXP_STATUS:
		code = rd_u32(&r);
		status = r.bad ? "malformed status" : status_name(code);
		break;
	case FXP_HANDLE:
		d = rd_str(&r, &n);
		if (d != NULL && opens_handle(&pd))
			rc = handle_new(s, &pd, d, n, pd.op->type == FXP_OPENDIR);
		break;
	case FXP_DATA:
		d = rd_str(&r, &n);
		if (d != NULL && x != NULL && pd.op->type == FXP_READ)
			handle_content(s, x, 0, pd.off, d, n);
		break;
	case FXP_NAME:
		n = rd_u32(&r);
		if (x != NULL && pd.op->type == FXP_READDIR && !r.bad)
			x->entries += n;
		if (n > 0 && !r.bad && pd.op->type == FXP_REALPATH)
			name = rd_path(&r);
		break;
	default: break;
	}
	switch (pd.op->type) {
	case FXP_READ:
	case FXP_READDIR:
	case FXP_FSTAT: break;
	case FXP_WRITE:
		if (pkt[0] != FXP_STATUS || code != FX_OK)
			if (x != NULL)
				x->werr = 1;
		break;
	case FXP_CLOSE:
		if (x != NULL)
			handle_close(s, x, status);
		break;
	case FXP_OPEN:
		if (pkt[0] != FXP_HANDLE)
			report_op(s, &pd, status, NULL); /* successful opens show in the close */
		break;
	case FXP_OPENDIR:
		if (pkt[0] != FXP_HANDLE)
			report_op(s, &pd, status, NULL);
		break;
	default:
		if (pd.op->log)
			report_op(s, &pd, status, name);
		break;
	}
	free(name);
	pending_clear(&pd);
	return rc;
}

/* ---- the stream --------------------------------------------------------- */

int
sftp_feed(struct sftp *s, enum sftp_dir dir, const void *p, size_t n)
{
	struct buf *in = &s->in[dir];
	uint32_t plen;
	const uint8_t *q;
	int r;

	if (s->failed)
		return ERR_INVALID;
	if ((r = buf_append(in, p, n)) != 0)
		return r;
	while (in->len >= 4) {
		q = in->p + in->off;
		plen = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
		if (plen == 0 || plen > SFTP_MAX_PACKET) {
			s->failed = 1;
			snprintf(s->err, sizeof(s->err), "%s packet of %u bytes (limit %u)",
			         dir == SFTP_TO_TARGET ? "request" : "answer", plen, (unsigned)SFTP_MAX_PACKET);
			return ERR_INVALID;
		}
		if (in->len < 4 + (size_t)plen)
			break;
		if (dir == SFTP_TO_TARGET) {
			/* No room to track it: the request waits here, whole, and the
			 * relay stops reading the operator (sftp_full) until answers
			 * free the table; sftp_resume() takes it up again. */
			if (s->npend >= MAX_PENDING)
				break;
			if ((r = request(s, q + 4, plen)) != 0)
				return r;
		} else {
			if ((r = answer(s, q + 4, plen)) != 0)
				return r;
			if ((r = buf_append(&s->out[SFTP_TO_OPERATOR], q, 4 + (size_t)plen)) != 0)
				return r;
		}
		buf_consume(in, 4 + (size_t)plen);
	}
	return 0;
}

int
sftp_resume(struct sftp *s)
{
	return sftp_feed(s, SFTP_TO_TARGET, NULL, 0);
}

int
sftp_full(const struct sftp *s)
{
	return s->npend >= MAX_PENDING;
}

size_t
sftp_waiting(const struct sftp *s)
{
	const struct buf *in = &s->in[SFTP_TO_TARGET];
	const uint8_t *q;
	uint32_t plen;

	if (s->failed || in->len < 4)
		return 0;
	q = in->p + in->off;
	plen = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	return in->len >= 4 + (size_t)plen ? in->len : 0;
}

int
sftp_violation(const struct sftp *s)
{
	return s->failed && s->violation;
}

size_t
sftp_out_peek(const struct sftp *s, enum sftp_dir dir, const uint8_t **p)
{
	*p = s->out[dir].p != NULL ? s->out[dir].p + s->out[dir].off : NULL;
	return s->out[dir].len;
}

void
sftp_out_consume(struct sftp *s, enum sftp_dir dir, size_t n)
{
	buf_consume(&s->out[dir], n);
}

size_t
sftp_partial(const struct sftp *s, enum sftp_dir dir)
{
	return s->in[dir].len;
}

const char *
sftp_error(const struct sftp *s)
{
	return s->err[0] ? s->err : "no error";
}

struct sftp *
sftp_new(unsigned rights, sftp_event_fn fn, void *ud)
{
	struct sftp *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->rights = rights;
	s->fn = fn;
	s->ud = ud;
	return s;
}

void
sftp_want_content(struct sftp *s, int on)
{
	s->want_content = on;
}

void
sftp_free(struct sftp *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < MAX_HANDLES; i++)
		if (s->handles[i] != NULL)
			handle_close(s, s->handles[i], "incomplete");
	for (i = 0; i < s->npend; i++)
		pending_clear(&s->pend[i]);
	free(s->pend);
	for (i = 0; i < 2; i++) {
		free(s->in[i].p);
		free(s->out[i].p);
	}
	free(s);
}
