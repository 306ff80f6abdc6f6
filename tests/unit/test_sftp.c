/* SFTP inspection: packet reassembly at every split, the policy per right
 * combination, the bastion's own PERMISSION_DENIED answers, handle tracking
 * and the SHA-256 of sequential content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "proxy/sftp.h"

/* ---- packet builder ---- */

struct pk {
	uint8_t b[8192];
	size_t n;
};

static void
p_u8(struct pk *p, uint8_t v)
{
	p->b[p->n++] = v;
}

static void
p_u32(struct pk *p, uint32_t v)
{
	p_u8(p, (uint8_t)(v >> 24));
	p_u8(p, (uint8_t)(v >> 16));
	p_u8(p, (uint8_t)(v >> 8));
	p_u8(p, (uint8_t)v);
}

static void
p_u64(struct pk *p, uint64_t v)
{
	p_u32(p, (uint32_t)(v >> 32));
	p_u32(p, (uint32_t)v);
}

static void
p_str(struct pk *p, const void *s, size_t n)
{
	p_u32(p, (uint32_t)n);
	memcpy(p->b + p->n, s, n);
	p->n += n;
}

static void
p_cstr(struct pk *p, const char *s)
{
	p_str(p, s, strlen(s));
}

/* Start a packet: remember where its length goes. */
static size_t
p_begin(struct pk *p, uint8_t type)
{
	size_t at = p->n;

	p_u32(p, 0);
	p_u8(p, type);
	return at;
}

static void
p_end(struct pk *p, size_t at)
{
	uint32_t len = (uint32_t)(p->n - at - 4);

	p->b[at] = (uint8_t)(len >> 24);
	p->b[at + 1] = (uint8_t)(len >> 16);
	p->b[at + 2] = (uint8_t)(len >> 8);
	p->b[at + 3] = (uint8_t)len;
}

static void
req_path(struct pk *p, uint8_t type, uint32_t id, const char *path)
{
	size_t at = p_begin(p, type);

	p_u32(p, id);
	p_cstr(p, path);
	if (type == 9 || type == 14)
		p_u32(p, 0); /* empty attrs */
	p_end(p, at);
}

static void
req_path2(struct pk *p, uint8_t type, uint32_t id, const char *a, const char *b)
{
	size_t at = p_begin(p, type);

	p_u32(p, id);
	p_cstr(p, a);
	p_cstr(p, b);
	p_end(p, at);
}

static void
req_open(struct pk *p, uint32_t id, const char *path, uint32_t pflags)
{
	size_t at = p_begin(p, 3);

	p_u32(p, id);
	p_cstr(p, path);
	p_u32(p, pflags);
	p_u32(p, 0);
	p_end(p, at);
}

static void
req_handle(struct pk *p, uint8_t type, uint32_t id, const char *h)
{
	size_t at = p_begin(p, type);

	p_u32(p, id);
	p_cstr(p, h);
	p_end(p, at);
}

static void
req_read(struct pk *p, uint32_t id, const char *h, uint64_t off, uint32_t len)
{
	size_t at = p_begin(p, 5);

	p_u32(p, id);
	p_cstr(p, h);
	p_u64(p, off);
	p_u32(p, len);
	p_end(p, at);
}

static void
req_write(struct pk *p, uint32_t id, const char *h, uint64_t off, const char *data)
{
	size_t at = p_begin(p, 6);

	p_u32(p, id);
	p_cstr(p, h);
	p_u64(p, off);
	p_cstr(p, data);
	p_end(p, at);
}

static void
req_ext(struct pk *p, uint32_t id, const char *name, const char *a, const char *b)
{
	size_t at = p_begin(p, 200);

	p_u32(p, id);
	p_cstr(p, name);
	if (a != NULL)
		p_cstr(p, a);
	if (b != NULL)
		p_cstr(p, b);
	p_end(p, at);
}

static void
rep_status(struct pk *p, uint32_t id, uint32_t code)
{
	size_t at = p_begin(p, 101);

	p_u32(p, id);
	p_u32(p, code);
	p_cstr(p, "");
	p_cstr(p, "");
	p_end(p, at);
}

static void
rep_handle(struct pk *p, uint32_t id, const char *h)
{
	size_t at = p_begin(p, 102);

	p_u32(p, id);
	p_cstr(p, h);
	p_end(p, at);
}

static void
rep_data(struct pk *p, uint32_t id, const char *data)
{
	size_t at = p_begin(p, 103);

	p_u32(p, id);
	p_cstr(p, data);
	p_end(p, at);
}

static void
rep_name(struct pk *p, uint32_t id, uint32_t count, const char *first)
{
	size_t at = p_begin(p, 104);
	uint32_t i;

	p_u32(p, id);
	p_u32(p, count);
	for (i = 0; i < count; i++) {
		p_cstr(p, first);
		p_cstr(p, first);
		p_u32(p, 0);
	}
	p_end(p, at);
}

static void
init_version(struct pk *rq, struct pk *rp)
{
	size_t at = p_begin(rq, 1);

	p_u32(rq, 3);
	p_end(rq, at);
	at = p_begin(rp, 2);
	p_u32(rp, 3);
	p_cstr(rp, "posix-rename@openssh.com");
	p_cstr(rp, "1");
	p_end(rp, at);
}

/* ---- event log ---- */

struct log {
	char s[1 << 20];
	size_t n;
};

static void
on_event(void *ud, const struct sftp_event *ev)
{
	struct log *l = ud;
	static const char *const kinds[] = {"op", "transfer", "listing", "deny", "content"};
	int w;

	w = snprintf(l->s + l->n, sizeof(l->s) - l->n,
	             "%s %s path=%s path2=%s flags=%u r=%llu w=%llu n=%llu sha=%s status=%s need=%s len=%zu\n",
	             kinds[ev->kind], ev->op, ev->path ? ev->path : "-", ev->path2 ? ev->path2 : "-", ev->pflags,
	             (unsigned long long)ev->bytes_read, (unsigned long long)ev->bytes_written,
	             (unsigned long long)ev->entries, ev->sha256 ? ev->sha256 : "-", ev->status ? ev->status : "-",
	             ev->need ? ev->need : "-", ev->len);
	assert_true(w > 0 && (size_t)w < sizeof(l->s) - l->n);
	l->n += (size_t)w;
}

struct result {
	struct log log;
	uint8_t to_target[8192], to_op[8192];
	size_t nt, no;
};

static void
drain(struct sftp *s, struct result *res)
{
	const uint8_t *p;
	size_t n;

	n = sftp_out_peek(s, SFTP_TO_TARGET, &p);
	assert_true(res->nt + n <= sizeof(res->to_target));
	if (n)
		memcpy(res->to_target + res->nt, p, n);
	res->nt += n;
	sftp_out_consume(s, SFTP_TO_TARGET, n);
	n = sftp_out_peek(s, SFTP_TO_OPERATOR, &p);
	assert_true(res->no + n <= sizeof(res->to_op));
	if (n)
		memcpy(res->to_op + res->no, p, n);
	res->no += n;
	sftp_out_consume(s, SFTP_TO_OPERATOR, n);
}

/* Feed a conversation given as a list of (direction, bytes) steps, each
 * step cut at `cut` bytes (0 = whole; 1 = byte by byte handled by step). */
struct step {
	enum sftp_dir dir;
	struct pk pk;
};

static void
run(unsigned rights, const struct step *steps, size_t nsteps, size_t cut, int bytewise, struct result *res)
{
	struct sftp *s = sftp_new(rights, on_event, &res->log);
	size_t i, k;

	assert_non_null(s);
	memset(res, 0, sizeof(*res));
	for (i = 0; i < nsteps; i++) {
		const struct pk *p = &steps[i].pk;

		if (bytewise) {
			for (k = 0; k < p->n; k++) {
				assert_int_equal(sftp_feed(s, steps[i].dir, p->b + k, 1), 0);
				drain(s, res);
			}
		} else {
			size_t c = cut % (p->n + 1);

			assert_int_equal(sftp_feed(s, steps[i].dir, p->b, c), 0);
			drain(s, res);
			assert_int_equal(sftp_feed(s, steps[i].dir, p->b + c, p->n - c), 0);
			drain(s, res);
		}
	}
	assert_int_equal(sftp_partial(s, SFTP_TO_TARGET), 0);
	assert_int_equal(sftp_partial(s, SFTP_TO_OPERATOR), 0);
	sftp_free(s);
}

/* sha256("hello world") and sha256("abc") */
#define SHA_HELLO "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define SHA_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static size_t
conversation(struct step *st)
{
	size_t n = 0;

	memset(st, 0, 12 * sizeof(*st));
	/* 0,1: init */
	st[0].dir = SFTP_TO_TARGET;
	st[1].dir = SFTP_TO_OPERATOR;
	init_version(&st[0].pk, &st[1].pk);
	n = 2;
	/* upload "hello world" in two sequential writes */
	st[n].dir = SFTP_TO_TARGET;
	req_open(&st[n].pk, 1, "/tmp/up.txt", 0x02 | 0x08 | 0x10);
	n++;
	st[n].dir = SFTP_TO_OPERATOR;
	rep_handle(&st[n].pk, 1, "H1");
	n++;
	st[n].dir = SFTP_TO_TARGET;
	req_write(&st[n].pk, 2, "H1", 0, "hello ");
	req_write(&st[n].pk, 3, "H1", 6, "world");
	req_handle(&st[n].pk, 4, 4, "H1");
	n++;
	st[n].dir = SFTP_TO_OPERATOR;
	rep_status(&st[n].pk, 2, 0);
	rep_status(&st[n].pk, 3, 0);
	rep_status(&st[n].pk, 4, 0);
	n++;
	/* download "abc" */
	st[n].dir = SFTP_TO_TARGET;
	req_open(&st[n].pk, 5, "/etc/abc", 0x01);
	n++;
	st[n].dir = SFTP_TO_OPERATOR;
	rep_handle(&st[n].pk, 5, "H2");
	n++;
	st[n].dir = SFTP_TO_TARGET;
	req_read(&st[n].pk, 6, "H2", 0, 32768);
	req_read(&st[n].pk, 7, "H2", 3, 32768);
	req_handle(&st[n].pk, 4, 8, "H2");
	req_path(&st[n].pk, 13, 9, "/tmp/gone");
	req_path2(&st[n].pk, 18, 10, "/tmp/a", "/tmp/b");
	req_path(&st[n].pk, 16, 11, ".");
	n++;
	st[n].dir = SFTP_TO_OPERATOR;
	rep_data(&st[n].pk, 6, "abc");
	rep_status(&st[n].pk, 7, 1);
	rep_status(&st[n].pk, 8, 0);
	rep_status(&st[n].pk, 9, 2);
	rep_status(&st[n].pk, 10, 0);
	rep_name(&st[n].pk, 11, 1, "/home/x");
	n++;
	/* a listing */
	st[n].dir = SFTP_TO_TARGET;
	req_path(&st[n].pk, 11, 12, "/tmp");
	n++;
	st[n].dir = SFTP_TO_OPERATOR;
	rep_handle(&st[n].pk, 12, "D1");
	n++;
	return n;
}

static void
listing_steps(struct step *st, size_t *n)
{
	st[*n].dir = SFTP_TO_TARGET;
	req_handle(&st[*n].pk, 12, 13, "D1");
	req_handle(&st[*n].pk, 12, 14, "D1");
	req_handle(&st[*n].pk, 4, 15, "D1");
	(*n)++;
	st[*n].dir = SFTP_TO_OPERATOR;
	rep_name(&st[*n].pk, 13, 3, "f");
	rep_status(&st[*n].pk, 14, 1);
	rep_status(&st[*n].pk, 15, 0);
	(*n)++;
}

static void
test_conversation_events(void **state)
{
	static struct step st[16];
	static struct result res;
	size_t n = conversation(st);

	(void)state;
	listing_steps(st, &n);
	run(SFTP_RIGHT_READ | SFTP_RIGHT_WRITE, st, n, 0, 0, &res);
	assert_non_null(strstr(res.log.s,
	                       "transfer upload path=/tmp/up.txt path2=- flags=26 r=0 w=11 n=0 sha=" SHA_HELLO
	                       " status=ok"));
	assert_non_null(strstr(res.log.s, "transfer download path=/etc/abc path2=- flags=1 r=3 w=0 n=0 sha=" SHA_ABC
	                                  " status=ok"));
	assert_non_null(
	        strstr(res.log.s, "op remove path=/tmp/gone path2=- flags=0 r=0 w=0 n=0 sha=- status=no such file"));
	assert_non_null(strstr(res.log.s, "op rename path=/tmp/a path2=/tmp/b"));
	assert_non_null(strstr(res.log.s, "op realpath path=. path2=/home/x"));
	assert_non_null(strstr(res.log.s, "listing list path=/tmp path2=- flags=0 r=0 w=0 n=3 sha=- status=ok"));
	assert_null(strstr(res.log.s, "deny"));
	/* nothing was held back or changed: all requests and answers relayed */
	{
		size_t i, want_t = 0, want_o = 0;

		for (i = 0; i < n; i++) {
			if (st[i].dir == SFTP_TO_TARGET) {
				assert_memory_equal(res.to_target + want_t, st[i].pk.b, st[i].pk.n);
				want_t += st[i].pk.n;
			} else {
				assert_memory_equal(res.to_op + want_o, st[i].pk.b, st[i].pk.n);
				want_o += st[i].pk.n;
			}
		}
		assert_int_equal(res.nt, want_t);
		assert_int_equal(res.no, want_o);
	}
}

/* Every split point of every step, and byte by byte: identical results. */
static void
test_split_everywhere(void **state)
{
	static struct step st[16];
	static struct result base, res;
	size_t n = conversation(st), cut, maxlen = 0, i;
	unsigned rights;

	(void)state;
	listing_steps(st, &n);
	for (i = 0; i < n; i++)
		if (st[i].pk.n > maxlen)
			maxlen = st[i].pk.n;
	for (rights = 1; rights <= 3; rights++) {
		run(rights, st, n, 0, 0, &base);
		for (cut = 1; cut <= maxlen; cut++) {
			run(rights, st, n, cut, 0, &res);
			assert_string_equal(res.log.s, base.log.s);
			assert_int_equal(res.nt, base.nt);
			assert_int_equal(res.no, base.no);
			assert_memory_equal(res.to_target, base.to_target, base.nt);
			assert_memory_equal(res.to_op, base.to_op, base.no);
		}
		run(rights, st, n, 0, 1, &res);
		assert_string_equal(res.log.s, base.log.s);
		assert_memory_equal(res.to_op, base.to_op, base.no);
		assert_memory_equal(res.to_target, base.to_target, base.nt);
	}
}

/* One request alone: forwarded (1) or answered PERMISSION_DENIED (0). A
 * handle "H" is open (a directory: either right opens it), so that requests
 * on a handle are judged by their type. */
static int
forwarded(unsigned rights, const struct pk *rq, uint32_t id)
{
	static struct result res;
	struct sftp *s = sftp_new(rights, on_event, &res.log);
	uint8_t want[64];
	size_t wn = 0;
	const char *msg = "Permission denied by the bastion's grant";
	uint32_t ml = (uint32_t)strlen(msg);
	int fwd;
	struct pk od = {{0}, 0}, oh = {{0}, 0};

	memset(&res, 0, sizeof(res));
	req_path(&od, 11, 1, "/d");
	rep_handle(&oh, 1, "H");
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, od.b, od.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, oh.b, oh.n), 0);
	drain(s, &res);
	memset(&res, 0, sizeof(res));
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, rq->b, rq->n), 0);
	drain(s, &res);
	fwd = res.nt == rq->n;
	if (fwd) {
		assert_memory_equal(res.to_target, rq->b, rq->n);
		assert_int_equal(res.no, 0);
	} else {
		/* Nothing reaches the target; the answer is a STATUS with the same id. */
		assert_int_equal(res.nt, 0);
		struct pk w = {{0}, 0};
		size_t at = p_begin(&w, 101);

		p_u32(&w, id);
		p_u32(&w, 3);
		p_str(&w, msg, ml);
		p_u32(&w, 0);
		p_end(&w, at);
		memcpy(want, w.b, w.n);
		wn = w.n;
		assert_int_equal(res.no, wn);
		assert_memory_equal(res.to_op, want, wn);
		assert_non_null(strstr(res.log.s, "deny "));
	}
	sftp_free(s);
	return fwd;
}

static void
test_policy_table(void **state)
{
	static const struct {
		const char *what;
		int r, w, rw; /* forwarded with download / upload / both */
	} want[] = {
	        {"open read", 1, 0, 1},   {"open write", 0, 1, 1},  {"open creat", 0, 1, 1},
	        {"open append", 0, 1, 1}, {"open rw", 0, 0, 1},     {"read", 1, 0, 1},
	        {"write", 0, 1, 1},       {"remove", 0, 1, 1},      {"rename", 0, 1, 1},
	        {"mkdir", 0, 1, 1},       {"rmdir", 0, 1, 1},       {"setstat", 0, 1, 1},
	        {"fsetstat", 0, 1, 1},    {"symlink", 0, 1, 1},     {"posix-rename", 0, 1, 1},
	        {"hardlink", 0, 1, 1},    {"fsync", 0, 1, 1},       {"lsetstat", 0, 1, 1},
	        {"copy-data", 0, 1, 1},   {"unknown-ext", 0, 1, 1}, {"statvfs", 1, 1, 1},
	        {"limits", 1, 1, 1},      {"expand-path", 1, 1, 1}, {"opendir", 1, 1, 1},
	        {"readdir", 1, 1, 1},     {"stat", 1, 1, 1},        {"lstat", 1, 1, 1},
	        {"fstat", 1, 1, 1},       {"realpath", 1, 1, 1},    {"readlink", 1, 1, 1},
	        {"close", 1, 1, 1},       {"type 99", 0, 0, 0},     {"truncated open", 0, 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct pk p = {{0}, 0};
		const char *w = want[i].what;
		uint32_t id = 1000 + (uint32_t)i;

		if (!strcmp(w, "open read"))
			req_open(&p, id, "/f", 0x01);
		else if (!strcmp(w, "open write"))
			req_open(&p, id, "/f", 0x02);
		else if (!strcmp(w, "open creat"))
			req_open(&p, id, "/f", 0x08);
		else if (!strcmp(w, "open append"))
			req_open(&p, id, "/f", 0x04);
		else if (!strcmp(w, "open rw"))
			req_open(&p, id, "/f", 0x03);
		else if (!strcmp(w, "read"))
			req_read(&p, id, "H", 0, 10);
		else if (!strcmp(w, "write"))
			req_write(&p, id, "H", 0, "x");
		else if (!strcmp(w, "remove"))
			req_path(&p, 13, id, "/f");
		else if (!strcmp(w, "rename"))
			req_path2(&p, 18, id, "/f", "/g");
		else if (!strcmp(w, "mkdir"))
			req_path(&p, 14, id, "/d");
		else if (!strcmp(w, "rmdir"))
			req_path(&p, 15, id, "/d");
		else if (!strcmp(w, "setstat"))
			req_path(&p, 9, id, "/f");
		else if (!strcmp(w, "fsetstat"))
			req_handle(&p, 10, id, "H");
		else if (!strcmp(w, "symlink"))
			req_path2(&p, 20, id, "/f", "/g");
		else if (!strcmp(w, "posix-rename"))
			req_ext(&p, id, "posix-rename@openssh.com", "/f", "/g");
		else if (!strcmp(w, "hardlink"))
			req_ext(&p, id, "hardlink@openssh.com", "/f", "/g");
		else if (!strcmp(w, "fsync"))
			req_ext(&p, id, "fsync@openssh.com", "H", NULL);
		else if (!strcmp(w, "lsetstat"))
			req_ext(&p, id, "lsetstat@openssh.com", "/f", NULL);
		else if (!strcmp(w, "copy-data"))
			req_ext(&p, id, "copy-data", "H", NULL);
		else if (!strcmp(w, "unknown-ext"))
			req_ext(&p, id, "frobnicate@example.com", "/f", NULL);
		else if (!strcmp(w, "statvfs"))
			req_ext(&p, id, "statvfs@openssh.com", "/", NULL);
		else if (!strcmp(w, "limits"))
			req_ext(&p, id, "limits@openssh.com", NULL, NULL);
		else if (!strcmp(w, "expand-path"))
			req_ext(&p, id, "expand-path@openssh.com", "~/x", NULL);
		else if (!strcmp(w, "opendir"))
			req_path(&p, 11, id, "/d");
		else if (!strcmp(w, "readdir"))
			req_handle(&p, 12, id, "H");
		else if (!strcmp(w, "stat"))
			req_path(&p, 17, id, "/f");
		else if (!strcmp(w, "lstat"))
			req_path(&p, 7, id, "/f");
		else if (!strcmp(w, "fstat"))
			req_handle(&p, 8, id, "H");
		else if (!strcmp(w, "realpath"))
			req_path(&p, 16, id, ".");
		else if (!strcmp(w, "readlink"))
			req_path(&p, 19, id, "/l");
		else if (!strcmp(w, "close"))
			req_handle(&p, 4, id, "H");
		else if (!strcmp(w, "type 99"))
			req_path(&p, 99, id, "/f");
		else if (!strcmp(w, "truncated open")) {
			size_t at = p_begin(&p, 3);

			p_u32(&p, id);
			p_u32(&p, 100); /* a path length beyond the packet */
			p_end(&p, at);
		}
		print_message("%s\n", w);
		assert_int_equal(forwarded(SFTP_RIGHT_READ, &p, id), want[i].r);
		assert_int_equal(forwarded(SFTP_RIGHT_WRITE, &p, id), want[i].w);
		assert_int_equal(forwarded(SFTP_RIGHT_READ | SFTP_RIGHT_WRITE, &p, id), want[i].rw);
	}
}

/* A denied request answered between the target's pending answers: the
 * injected STATUS never splits an answer that is partly received. */
static void
test_deny_between_packets(void **state)
{
	static struct result res;
	struct sftp *s = sftp_new(SFTP_RIGHT_READ, on_event, &res.log);
	struct pk rq = {{0}, 0}, rp = {{0}, 0}, bad = {{0}, 0};
	const uint8_t *p;
	size_t n;

	(void)state;
	memset(&res, 0, sizeof(res));
	req_path(&rq, 17, 1, "/f");
	rep_status(&rp, 1, 0);
	req_path(&bad, 13, 2, "/f");
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, rq.b, rq.n), 0);
	/* half of the target's answer arrives */
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, rp.b, 7), 0);
	assert_int_equal(sftp_out_peek(s, SFTP_TO_OPERATOR, &p), 0);
	/* then a denied request: its answer is queued alone, whole */
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, bad.b, bad.n), 0);
	n = sftp_out_peek(s, SFTP_TO_OPERATOR, &p);
	assert_true(n > 9);
	assert_int_equal(p[4], 101);
	assert_int_equal(p[8], 2); /* id 2 */
	sftp_out_consume(s, SFTP_TO_OPERATOR, n);
	/* the rest of the real answer follows, whole */
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, rp.b + 7, rp.n - 7), 0);
	n = sftp_out_peek(s, SFTP_TO_OPERATOR, &p);
	assert_int_equal(n, rp.n);
	assert_memory_equal(p, rp.b, rp.n);
	/* the target never saw the remove */
	n = sftp_out_peek(s, SFTP_TO_TARGET, &p);
	assert_int_equal(n, rq.n);
	assert_non_null(strstr(res.log.s, "deny remove path=/f"));
	assert_non_null(strstr(res.log.s, "need=upload"));
	sftp_free(s);
}

static void
test_oversize_packet(void **state)
{
	struct sftp *s = sftp_new(3, NULL, NULL);
	uint8_t hdr[5] = {0x00, 0x04, 0x04, 0x01, 6}; /* 263169 bytes */
	uint8_t zero[4] = {0, 0, 0, 0};

	(void)state;
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, hdr, sizeof(hdr)), ERR_INVALID);
	assert_non_null(strstr(sftp_error(s), "limit"));
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, hdr, 1), ERR_INVALID); /* stays failed */
	sftp_free(s);
	s = sftp_new(3, NULL, NULL);
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, zero, 4), ERR_INVALID);
	sftp_free(s);
}

/* Writes out of order: counted, but no hash (the content is not known to
 * be the whole file in order); handles left open are reported incomplete. */
static void
test_nonsequential_and_incomplete(void **state)
{
	static struct result res;
	struct sftp *s = sftp_new(3, on_event, &res.log);
	struct pk a = {{0}, 0}, b = {{0}, 0}, c = {{0}, 0}, d = {{0}, 0};

	(void)state;
	memset(&res, 0, sizeof(res));
	req_open(&a, 1, "/x", 0x02 | 0x08);
	rep_handle(&b, 1, "HX");
	req_write(&c, 2, "HX", 5, "world");
	req_write(&c, 3, "HX", 0, "hello");
	req_handle(&c, 4, 4, "HX");
	rep_status(&d, 2, 0);
	rep_status(&d, 3, 4); /* a failed write */
	rep_status(&d, 4, 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, a.b, a.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, b.b, b.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, c.b, c.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, d.b, d.n), 0);
	assert_non_null(
	        strstr(res.log.s, "transfer upload path=/x path2=- flags=10 r=0 w=10 n=0 sha=- status=write failed"));
	/* an open handle at the end */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	req_open(&a, 5, "/y", 0x01);
	rep_handle(&b, 5, "HY");
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, a.b, a.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, b.b, b.n), 0);
	sftp_free(s);
	assert_non_null(strstr(res.log.s,
	                       "transfer download path=/y path2=- flags=1 r=0 w=0 n=0 sha="
	                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 status=incomplete"));
}

/* Found by fuzz_sftp: READ/WRITE on a directory handle (no digest). */
static void
test_rw_on_directory_handle(void **state)
{
	static struct result res;
	struct sftp *s = sftp_new(3, on_event, &res.log);
	struct pk a = {{0}, 0}, b = {{0}, 0}, c = {{0}, 0}, d = {{0}, 0};

	(void)state;
	memset(&res, 0, sizeof(res));
	req_path(&a, 11, 1, "/d");
	rep_handle(&b, 1, "D");
	req_write(&c, 2, "D", 0, "x");
	req_read(&c, 3, "D", 0, 10);
	rep_status(&d, 2, 4);
	rep_data(&d, 3, "y");
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, a.b, a.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, b.b, b.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, c.b, c.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, d.b, d.n), 0);
	sftp_free(s);
	assert_non_null(strstr(res.log.s, "listing list path=/d"));
}

static void
test_content_events(void **state)
{
	static struct result res;
	struct sftp *s = sftp_new(3, on_event, &res.log);
	struct pk a = {{0}, 0}, b = {{0}, 0}, c = {{0}, 0};

	(void)state;
	memset(&res, 0, sizeof(res));
	sftp_want_content(s, 1);
	req_open(&a, 1, "/x", 0x02 | 0x08);
	rep_handle(&b, 1, "HX");
	req_write(&c, 2, "HX", 0, "hello");
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, a.b, a.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, b.b, b.n), 0);
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, c.b, c.n), 0);
	assert_non_null(strstr(res.log.s, "content write path=/x"));
	assert_non_null(strstr(res.log.s, "len=5"));
	sftp_free(s);
}

/* ---- issue 15, finding 5: nothing untracked, nothing misnamed ---------- */

static void
feed1(struct sftp *s, enum sftp_dir dir, const struct pk *p)
{
	assert_int_equal(sftp_feed(s, dir, p->b, p->n), 0);
}

/* Whether the bytes of p are somewhere in buf. */
static int
contains(const uint8_t *buf, size_t n, const struct pk *p)
{
	size_t i;

	for (i = 0; i + p->n <= n; i++)
		if (memcmp(buf + i, p->b, p->n) == 0)
			return 1;
	return 0;
}

/* OPEN id 5 of a harmless file, another request answered meanwhile (its
 * removal reordered the table), then OPEN id 5 of /etc/shadow: the second
 * OPEN never reaches the target, the stream fails as a violation naming
 * both, and no transfer is ever reported under a wrong name. */
static void
test_duplicate_id(void **state)
{
	static struct result res;
	struct sftp *s = sftp_new(SFTP_RIGHT_READ, on_event, &res.log);
	struct pk a = {{0}, 0}, b = {{0}, 0}, c = {{0}, 0}, d = {{0}, 0};
	const uint8_t *p;
	size_t n;

	(void)state;
	memset(&res, 0, sizeof(res));
	req_path(&a, 17, 1, "/etc");
	req_open(&a, 5, "/tmp/harmless", 0x01);
	req_path(&a, 17, 2, "/tmp");
	feed1(s, SFTP_TO_TARGET, &a);
	rep_status(&b, 1, 0); /* takes id 1 out of the table: the order changes */
	feed1(s, SFTP_TO_OPERATOR, &b);
	req_open(&c, 5, "/etc/shadow", 0x01);
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, c.b, c.n), ERR_INVALID);
	assert_true(sftp_violation(s));
	assert_non_null(strstr(sftp_error(s), "request id 5"));
	assert_non_null(strstr(sftp_error(s), "/etc/shadow"));
	assert_non_null(strstr(sftp_error(s), "/tmp/harmless"));
	n = sftp_out_peek(s, SFTP_TO_TARGET, &p);
	assert_int_equal(n, a.n); /* the first three requests only */
	assert_false(contains(p, n, &c));
	/* the stream stays failed: nothing more is inspected or forwarded */
	rep_handle(&d, 5, "A");
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, d.b, d.n), ERR_INVALID);
	sftp_free(s);
	assert_null(strstr(res.log.s, "shadow"));
	/* a reused id of an answered request is fine (clients wrap around) */
	memset(&res, 0, sizeof(res));
	s = sftp_new(SFTP_RIGHT_READ, on_event, &res.log);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	req_path(&a, 17, 7, "/a");
	rep_status(&b, 7, 0);
	feed1(s, SFTP_TO_TARGET, &a);
	feed1(s, SFTP_TO_OPERATOR, &b);
	feed1(s, SFTP_TO_TARGET, &a);
	assert_false(sftp_violation(s));
	/* a duplicate of a denied request's id is not outstanding either, but a
	 * duplicate of an outstanding one is refused even if it would be denied */
	memset(&c, 0, sizeof(c));
	req_path(&c, 13, 7, "/a");
	assert_int_equal(sftp_feed(s, SFTP_TO_TARGET, c.b, c.n), ERR_INVALID);
	assert_true(sftp_violation(s));
	sftp_free(s);
}

/* SFTP_MAX_PENDING requests unanswered: the next ones (an upload, a
 * download, a remove) wait in the input and do not reach the target until
 * answers free the table; then each is tracked and reported. */
static void
test_pending_full_holds(void **state)
{
	static struct result res;
	struct sftp *s = sftp_new(SFTP_RIGHT_READ | SFTP_RIGHT_WRITE, on_event, &res.log);
	struct pk p1, tail = {{0}, 0}, ans = {{0}, 0};
	const uint8_t *out;
	size_t n, before;
	uint32_t id;

	(void)state;
	memset(&res, 0, sizeof(res));
	for (id = 1; id <= SFTP_MAX_PENDING; id++) {
		memset(&p1, 0, sizeof(p1));
		req_path(&p1, 7, id, "/");
		feed1(s, SFTP_TO_TARGET, &p1);
		assert_int_equal(sftp_full(s), id == SFTP_MAX_PENDING);
		sftp_out_consume(s, SFTP_TO_TARGET, sftp_out_peek(s, SFTP_TO_TARGET, &out));
	}
	req_open(&tail, 90001, "/up", 0x02 | 0x08);
	req_open(&tail, 90002, "/down", 0x01);
	req_path(&tail, 13, 90003, "/gone");
	feed1(s, SFTP_TO_TARGET, &tail);
	assert_int_equal(sftp_out_peek(s, SFTP_TO_TARGET, &out), 0); /* nothing went out */
	assert_int_equal(sftp_waiting(s), tail.n);
	assert_int_equal(sftp_resume(s), 0); /* still full: still waiting */
	assert_int_equal(sftp_out_peek(s, SFTP_TO_TARGET, &out), 0);
	/* two answers: room for two of the three */
	rep_status(&ans, 1, 0);
	rep_status(&ans, 2, 0);
	feed1(s, SFTP_TO_OPERATOR, &ans);
	assert_false(sftp_full(s));
	assert_int_equal(sftp_resume(s), 0);
	assert_true(sftp_full(s));
	n = sftp_out_peek(s, SFTP_TO_TARGET, &out);
	before = n;
	assert_true(n > 0 && n < tail.n);
	sftp_out_consume(s, SFTP_TO_TARGET, n);
	assert_true(sftp_waiting(s) > 0);
	memset(&ans, 0, sizeof(ans));
	rep_status(&ans, 3, 0);
	feed1(s, SFTP_TO_OPERATOR, &ans);
	assert_int_equal(sftp_resume(s), 0);
	assert_int_equal(sftp_waiting(s), 0);
	n = sftp_out_peek(s, SFTP_TO_TARGET, &out);
	assert_int_equal(before + n, tail.n);
	sftp_out_consume(s, SFTP_TO_TARGET, n);
	/* the target answers them: every one is reported */
	memset(&ans, 0, sizeof(ans));
	rep_handle(&ans, 90001, "HU");
	rep_handle(&ans, 90002, "HD");
	rep_status(&ans, 90003, 0);
	feed1(s, SFTP_TO_OPERATOR, &ans);
	memset(&tail, 0, sizeof(tail));
	req_write(&tail, 90004, "HU", 0, "hello world");
	req_read(&tail, 90005, "HD", 0, 100);
	req_handle(&tail, 4, 90006, "HU");
	req_handle(&tail, 4, 90007, "HD");
	for (id = 4; id <= 2000; id++) { /* room again */
		memset(&ans, 0, sizeof(ans));
		rep_status(&ans, id, 0);
		feed1(s, SFTP_TO_OPERATOR, &ans);
	}
	feed1(s, SFTP_TO_TARGET, &tail);
	memset(&ans, 0, sizeof(ans));
	rep_status(&ans, 90004, 0);
	rep_data(&ans, 90005, "abc");
	rep_status(&ans, 90006, 0);
	rep_status(&ans, 90007, 0);
	feed1(s, SFTP_TO_OPERATOR, &ans);
	assert_non_null(strstr(res.log.s, "op remove path=/gone path2=- flags=0 r=0 w=0 n=0 sha=- status=ok"));
	assert_non_null(strstr(res.log.s, "transfer upload path=/up path2=- flags=10 r=0 w=11 n=0 sha=" SHA_HELLO));
	assert_non_null(strstr(res.log.s, "transfer download path=/down path2=- flags=1 r=3 w=0 n=0 sha=" SHA_ABC));
	sftp_free(s);
}

/* A handle the bastion does not know as open is never used: a guessed
 * handle before the OPEN's answer, and the old handle after its CLOSE went
 * out (the target gives it to the next file), are answered by the bastion;
 * the bytes read are counted under the file that owns the handle. */
static void
test_handle_reuse(void **state)
{
	static struct result res;
	struct sftp *s = sftp_new(SFTP_RIGHT_READ, on_event, &res.log);
	struct pk a = {{0}, 0}, b = {{0}, 0}, c = {{0}, 0}, d = {{0}, 0}, e = {{0}, 0}, f = {{0}, 0};
	const uint8_t *out;
	size_t n;

	(void)state;
	memset(&res, 0, sizeof(res));
	req_open(&a, 1, "/tmp/harmless", 0x01);
	req_read(&a, 2, "0", 0, 100); /* guessed before the answer */
	feed1(s, SFTP_TO_TARGET, &a);
	assert_non_null(strstr(res.log.s, "deny read path=- "));
	assert_non_null(strstr(res.log.s, "need=an open handle"));
	rep_handle(&b, 1, "0");
	feed1(s, SFTP_TO_OPERATOR, &b);
	req_handle(&c, 4, 3, "0");
	req_open(&c, 4, "/etc/shadow", 0x01);
	req_read(&c, 5, "0", 0, 100); /* the old handle, being closed */
	sftp_out_consume(s, SFTP_TO_TARGET, sftp_out_peek(s, SFTP_TO_TARGET, &out));
	feed1(s, SFTP_TO_TARGET, &c);
	n = sftp_out_peek(s, SFTP_TO_TARGET, &out);
	memset(&d, 0, sizeof(d));
	req_read(&d, 5, "0", 0, 100);
	assert_false(contains(out, n, &d)); /* the READ did not go out */
	sftp_out_consume(s, SFTP_TO_TARGET, n);
	rep_status(&e, 3, 0);
	rep_handle(&e, 4, "0"); /* the target reuses the handle */
	feed1(s, SFTP_TO_OPERATOR, &e);
	memset(&d, 0, sizeof(d));
	req_read(&d, 6, "0", 0, 100);
	req_handle(&d, 4, 7, "0");
	feed1(s, SFTP_TO_TARGET, &d);
	rep_data(&f, 6, "abc");
	rep_status(&f, 7, 0);
	feed1(s, SFTP_TO_OPERATOR, &f);
	sftp_free(s);
	assert_non_null(strstr(res.log.s, "transfer download path=/tmp/harmless path2=- flags=1 r=0 w=0"));
	assert_non_null(
	        strstr(res.log.s, "transfer download path=/etc/shadow path2=- flags=1 r=3 w=0 n=0 sha=" SHA_ABC));
}

/* Handle slots: opens beyond what the bastion can follow are answered by it
 * (never forwarded untracked); a handle the target returns twice, or one
 * longer than the protocol allows, fails the stream (not a violation). */
static void
test_handle_limits(void **state)
{
	static struct result res;
	struct sftp *s = sftp_new(SFTP_RIGHT_READ, on_event, &res.log);
	struct pk a, b;
	const uint8_t *out;
	uint32_t id;
	char h[16], longh[300];

	(void)state;
	memset(&res, 0, sizeof(res));
	for (id = 1; id <= 256; id++) {
		memset(&a, 0, sizeof(a));
		req_open(&a, id, "/f", 0x01);
		feed1(s, SFTP_TO_TARGET, &a);
		if (id % 2 == 0) { /* half of them answered, half pending */
			memset(&b, 0, sizeof(b));
			snprintf(h, sizeof(h), "h%u", id);
			rep_handle(&b, id, h);
			feed1(s, SFTP_TO_OPERATOR, &b);
		}
	}
	sftp_out_consume(s, SFTP_TO_TARGET, sftp_out_peek(s, SFTP_TO_TARGET, &out));
	sftp_out_consume(s, SFTP_TO_OPERATOR, sftp_out_peek(s, SFTP_TO_OPERATOR, &out));
	memset(&a, 0, sizeof(a));
	req_open(&a, 1000, "/one-too-many", 0x01);
	feed1(s, SFTP_TO_TARGET, &a);
	assert_int_equal(sftp_out_peek(s, SFTP_TO_TARGET, &out), 0);
	assert_true(sftp_out_peek(s, SFTP_TO_OPERATOR, &out) > 9);
	assert_int_equal(out[4], 101);
	assert_int_equal(out[12], 4); /* SSH_FX_FAILURE */
	assert_non_null(strstr(res.log.s, "deny open path=/one-too-many"));
	assert_non_null(strstr(res.log.s, "need=fewer open handles"));
	/* the target returns a handle that is already open */
	memset(&b, 0, sizeof(b));
	rep_handle(&b, 1, "h2");
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, b.b, b.n), ERR_INVALID);
	assert_false(sftp_violation(s));
	assert_non_null(strstr(sftp_error(s), "already open"));
	sftp_free(s);
	s = sftp_new(SFTP_RIGHT_READ, on_event, &res.log);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(longh, 'x', sizeof(longh) - 1);
	longh[sizeof(longh) - 1] = '\0';
	req_open(&a, 1, "/f", 0x01);
	rep_handle(&b, 1, longh);
	feed1(s, SFTP_TO_TARGET, &a);
	assert_int_equal(sftp_feed(s, SFTP_TO_OPERATOR, b.b, b.n), ERR_INVALID);
	sftp_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_conversation_events),    cmocka_unit_test(test_split_everywhere),
	        cmocka_unit_test(test_policy_table),           cmocka_unit_test(test_deny_between_packets),
	        cmocka_unit_test(test_oversize_packet),        cmocka_unit_test(test_nonsequential_and_incomplete),
	        cmocka_unit_test(test_rw_on_directory_handle), cmocka_unit_test(test_content_events),
	        cmocka_unit_test(test_duplicate_id),           cmocka_unit_test(test_pending_full_holds),
	        cmocka_unit_test(test_handle_reuse),           cmocka_unit_test(test_handle_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
