/* The recording format: what the writer writes is what the reader reads,
 * byte for byte and to the microsecond, across many frames; plain zstd
 * decodes it; every truncation gives a clean prefix; every kind of tampering
 * is caught at the right frame; a crash copy is readable up to the last
 * flush and its index and head can be rebuilt; the chain is the documented
 * formula (recomputed here independently). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/sha.h>

#include "common/err.h"
#include "recorder/rec-reader.h"
#include "recorder/recorder.h"

extern char **environ;

struct exp_rec {
	unsigned type;
	uint32_t channel;
	uint64_t time_us;
	uint8_t *data;
	size_t len;
};

struct expected {
	struct exp_rec *v;
	size_t n, cap;
};

static char dir[64];
static uint64_t t0; /* a base time after the writer's open, so explicit times are used as given */

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
path_in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/gh-rec-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	pid_t pid;
	char *argv[] = {"/bin/rm", "-rf", "--", dir, NULL};
	int st;

	assert_int_equal(posix_spawn(&pid, "/bin/rm", NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return 0;
}

static void
exp_add(struct expected *e, unsigned type, uint32_t ch, uint64_t t, const void *data, size_t len)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		e->v = realloc(e->v, e->cap * sizeof(*e->v));
		assert_non_null(e->v);
	}
	struct exp_rec *r = &e->v[e->n++];
	r->type = type;
	r->channel = ch;
	r->time_us = t;
	r->len = len;
	r->data = malloc(len + 1);
	assert_non_null(r->data);
	if (len > 0)
		memcpy(r->data, data, len);
}

static void
exp_free(struct expected *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].data);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static void
wr(struct rec_writer *w, struct expected *e, unsigned type, uint32_t ch, uint64_t t, const void *data, size_t len)
{
	assert_int_equal(rec_write_at(w, (enum rec_type)type, ch, data, len, t), 0);
	exp_add(e, type, ch, t, data, len);
}

static uint32_t rng_state = 12345;

static uint32_t
rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

/* Every record type, payloads from empty to several zstd blocks, time gaps
 * from 0 to over a minute (multi-byte varints, time-based frame ends) and
 * small frame limits so that the file has many frames. */
static void
make_recording(const char *path, struct expected *e, uint64_t frame_bytes, int rounds)
{
	struct rec_writer *w = NULL;
	const char *hdr = "{\"user\":\"alice\",\"asset\":\"web01\",\"session\":42}";
	uint8_t buf[300000];
	uint8_t be4[4];
	uint64_t t;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i % 251 == 0 ? rng() : 'a' + (i * 7 + i / 13) % 26);
	assert_int_equal(rec_writer_open(path, hdr, &w), 0);
	t0 = now_us() + 2000000;
	/* The header record carries the writer's own open time: take it from the file. */
	exp_add(e, REC_HEADER, 0, 0, hdr, strlen(hdr));
	rec_writer_set_limits(w, frame_bytes, 10ull * 1000 * 1000);
	t = t0;
	wr(w, e, REC_CHANNEL_OPEN, 0, t, "{\"type\":\"shell\"}", 16);
	wr(w, e, REC_PTY, 0, t, "{\"term\":\"xterm\",\"cols\":80,\"rows\":24}", 36);
	for (int round = 0; round < rounds; round++) {
		uint32_t ch = (uint32_t)(round % 3);
		t += 1;
		wr(w, e, REC_DATA_IN, ch, t, "l", 1);
		t += 137;
		wr(w, e, REC_DATA_OUT, ch, t, "ls -la\r\n", 8);
		t += 200000 + rng() % 3000000;
		size_t n = rng() % 2000;
		wr(w, e, REC_DATA_OUT, ch, t, buf + rng() % 1000, n);
		wr(w, e, REC_DATA_ERR, ch, t, "err\n", 4);
		be4[0] = 0;
		be4[1] = (uint8_t)(80 + round);
		be4[2] = 0;
		be4[3] = 24;
		t += 5;
		wr(w, e, REC_RESIZE, ch, t, be4, 4);
		wr(w, e, REC_DATA_IN, ch, t, "", 0);
		be4[0] = 0;
		be4[1] = 0;
		be4[2] = 0;
		be4[3] = (uint8_t)round;
		wr(w, e, REC_INPUT_REDACTED, ch, t, be4, 4);
		if (round % 7 == 3) {
			/* Over a minute of silence: the varint delta needs 4 bytes and
			 * the frame ends on age. */
			t += 70ull * 1000 * 1000 + 3;
			wr(w, e, REC_MARK, 0, t, "terminated by auditor", 21);
		}
		if (round == 5) /* several zstd blocks in one record */
			wr(w, e, REC_DATA_OUT, 7, t + 9, buf, sizeof(buf)), t += 9;
		if (round % 5 == 4) {
			wr(w, e, REC_EOF_IN, ch, t, NULL, 0);
			wr(w, e, REC_EOF_OUT, ch, t, NULL, 0);
			wr(w, e, REC_EXIT_STATUS, ch, t, "\0\0\0\3", 4);
			wr(w, e, REC_EXIT_SIGNAL, ch, t, "TERM", 4);
			wr(w, e, REC_CHANNEL_CLOSE, ch, t, NULL, 0);
			wr(w, e, REC_CHANNEL_OPEN, ch, t + 1, "{\"type\":\"exec\",\"command\":\"uptime\"}", 34);
			t++;
		}
		if (round % 3 == 0) {
			t += 1100000;
			assert_int_equal(rec_tick_at(w, t), 0);
		}
	}
	t += 10;
	assert_int_equal(rec_writer_close_at(w, "client closed", t), 0);
	exp_add(e, REC_END, 0, t, "client closed", 13);
	rec_writer_free(w);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Read everything; compare with e (the header's time is taken from the
 * file). Returns the number of records matched; *status is the final
 * return of rec_reader_next. */
static size_t
read_compare(struct rec_reader *r, const struct expected *e, int *status)
{
	struct rec_record rec;
	size_t i = 0;
	int ret;

	while ((ret = rec_reader_next(r, &rec)) == 1) {
		assert_true(i < e->n);
		const struct exp_rec *x = &e->v[i];
		assert_int_equal(rec.type, x->type);
		assert_int_equal(rec.channel, x->channel);
		assert_int_equal(rec.len, x->len);
		assert_int_equal(rec.ordinal, i);
		if (x->len > 0)
			assert_memory_equal(rec.data, x->data, x->len);
		if (i > 0)
			assert_int_equal(rec.time_us, x->time_us);
		i++;
	}
	*status = ret;
	return i;
}

static void
test_round_trip(void **state)
{
	struct expected e = {0};
	struct rec_reader *r = NULL;
	struct rec_reader_info info;
	struct rec_record rec;
	char path[128], hex[65], hex2[65];
	int status;
	uint8_t *blob = NULL;
	size_t bloblen, n, nidx;
	const struct rec_frame_info *idx;
	struct rec_frame_info *dec = NULL;

	path_in_dir(path, sizeof(path), "rt.rec");
	make_recording(path, &e, 600, 40);
	assert_int_equal(rec_reader_open(path, &r), 0);
	assert_int_equal(read_compare(r, &e, &status), e.n);
	assert_int_equal(status, 0);
	assert_int_equal(rec_reader_next(r, &rec), 0); /* stays at the end */
	rec_reader_get_info(r, &info);
	assert_int_equal(info.version, 1);
	assert_true(info.has_trailer);
	assert_true(info.ended);
	assert_false(info.torn);
	assert_int_equal(info.bad_frame, -1);
	assert_int_equal(info.records, e.n);
	assert_true(info.frames > 10);
	assert_int_equal(info.frames, info.trailer_frames);
	assert_memory_equal(info.head, info.trailer_head, 32);

	/* The index in the trailer is the one the writer hands the database. */
	idx = rec_reader_index(r, &nidx);
	assert_int_equal(nidx, info.frames);
	{
		struct rec_writer *w = NULL;
		char p2[128];
		path_in_dir(p2, sizeof(p2), "idx.rec");
		assert_int_equal(rec_writer_open(p2, "{}", &w), 0);
		assert_int_equal(rec_writer_close(w, "x"), 0);
		assert_int_equal(rec_writer_index(w, &blob, &bloblen), 0);
		assert_int_equal(bloblen, 64);
		rec_writer_chain(w, hex, &n);
		assert_int_equal(n, 1);
		rec_writer_free(w);
		free(blob);
		blob = NULL;
	}
	/* Frame boundaries are where the index says, times and ordinals too. */
	for (size_t k = 0; k < nidx; k++) {
		assert_int_equal(rec_reader_seek_frame(r, k), 0);
		assert_int_equal(rec_reader_next(r, &rec), 1);
		assert_int_equal(rec.ordinal, idx[k].first_ordinal);
		assert_int_equal(rec.type, e.v[rec.ordinal].type);
		if (k > 0)
			assert_int_equal(rec.time_us, idx[k].first_time_us);
		assert_true(rec.time_us >= idx[k].first_time_us);
	}
	/* Seek by time lands on the last frame starting at or before it. */
	{
		uint64_t target = idx[nidx / 2].first_time_us + 1;
		assert_int_equal(rec_reader_seek_time(r, target), 0);
		assert_int_equal(rec_reader_next(r, &rec), 1);
		assert_int_equal(rec.ordinal, idx[nidx / 2].first_ordinal);
		/* and reading on from there reaches the end cleanly */
		while ((status = rec_reader_next(r, &rec)) == 1)
			assert_true(rec.ordinal < e.n);
		assert_int_equal(status, 0);
		assert_int_equal(rec.type, REC_END);
	}
	/* Decode the database form of an index. */
	{
		uint8_t b[64 * 3];
		assert_int_equal(rec_index_decode(b, 65, &dec, &n), ERR_INVALID);
		memset(b, 7, sizeof(b));
		assert_int_equal(rec_index_decode(b, sizeof(b), &dec, &n), 0);
		assert_int_equal(n, 3);
		free(dec);
	}
	rec_hash_hex(info.head, hex2);
	{
		uint8_t back[32];
		assert_int_equal(rec_hash_parse(hex2, back), 0);
		assert_memory_equal(back, info.head, 32);
		assert_int_equal(rec_hash_parse("abc", back), ERR_INVALID);
	}
	rec_reader_free(r);
	exp_free(&e);
}

/* The writer's own clock: times are real microseconds and never go back. */
/* Bulk data: a frame after one that filled in under 10 s is compressed at
 * level 1 (cheaper), interactive frames keep level 3. Seen from outside as
 * a larger file than the same records at a fixed level 3, with the same
 * records read back; and slow frames give exactly the size of level 3. */
static size_t
bulk_recording(const char *path, struct expected *e, int fixed_level, uint64_t step_us)
{
	struct rec_writer *w = NULL;
	const char *hdr = "{\"user\":\"alice\"}";
	static uint8_t buf[32768];
	struct stat st;
	uint64_t t;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i % 97 == 0 ? rng() : 'a' + (i * 7 + i / 13 + rng() % 3) % 26);
	assert_int_equal(rec_writer_open(path, hdr, &w), 0);
	if (fixed_level)
		rec_writer_set_level(w, 3);
	exp_add(e, REC_HEADER, 0, 0, hdr, strlen(hdr));
	t = now_us() + 2000000;
	for (int i = 0; i < 8 * 32; i++) { /* 8 MiB */
		t += step_us;
		buf[0] = (uint8_t)i;
		wr(w, e, REC_DATA_OUT, 0, t, buf, sizeof(buf));
	}
	t += 10;
	assert_int_equal(rec_writer_close_at(w, "end", t), 0);
	exp_add(e, REC_END, 0, t, "end", 3);
	rec_writer_free(w);
	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

static void
test_bulk_level(void **state)
{
	struct expected e = {0};
	struct rec_reader *r = NULL;
	char path[128];
	size_t fast, fixed, slow, slow_fixed;
	int status;

	path_in_dir(path, sizeof(path), "bulk.rec");
	rng_state = 777;
	fast = bulk_recording(path, &e, 0, 1000); /* 32 MB/s */
	assert_int_equal(rec_reader_open(path, &r), 0);
	assert_int_equal(read_compare(r, &e, &status), e.n);
	assert_int_equal(status, 0);
	rec_reader_free(r);
	exp_free(&e);
	rng_state = 777;
	path_in_dir(path, sizeof(path), "bulk-3.rec");
	fixed = bulk_recording(path, &e, 1, 1000);
	exp_free(&e);
	/* 1 MiB frames filled over 16 s each: never bulk, level 3 throughout. */
	rng_state = 777;
	path_in_dir(path, sizeof(path), "slow.rec");
	slow = bulk_recording(path, &e, 0, 500000);
	exp_free(&e);
	rng_state = 777;
	path_in_dir(path, sizeof(path), "slow-3.rec");
	slow_fixed = bulk_recording(path, &e, 1, 500000);
	exp_free(&e);
	printf("bulk 8 MiB: %zu bytes (fixed level 3: %zu); slow: %zu (fixed: %zu)\n", fast, fixed, slow, slow_fixed);
	/* The same but for timestamps inside the frames (a few bytes). */
	assert_true(slow < slow_fixed + slow_fixed / 500 && slow_fixed < slow + slow / 500);
	assert_true(fast > fixed + fixed / 50);
}

static void
test_real_clock(void **state)
{
	struct rec_writer *w = NULL;
	struct rec_reader *r = NULL;
	struct rec_record rec;
	char path[128], hex[65];
	uint64_t before, after, last = 0, frames;
	int n = 0, ret;

	path_in_dir(path, sizeof(path), "clock.rec");
	before = now_us();
	assert_int_equal(rec_writer_open(path, "{}", &w), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rec_write(w, REC_DATA_OUT, 0, "x", 1), 0);
		usleep(20000);
	}
	assert_int_equal(rec_tick(w), 0);
	assert_int_equal(rec_flush(w), 0);
	assert_int_equal(rec_writer_close(w, "done"), 0);
	after = now_us();
	rec_writer_chain(w, hex, &frames);
	assert_int_equal(strlen(hex), 64);
	{
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(rec_writer_bytes(w), (uint64_t)st.st_size);
	}
	rec_writer_free(w);
	assert_int_equal(rec_reader_open(path, &r), 0);
	while ((ret = rec_reader_next(r, &rec)) == 1) {
		assert_true(rec.time_us + 1000 >= before);
		assert_true(rec.time_us <= after + 1000);
		assert_true(rec.time_us >= last);
		if (rec.type == REC_DATA_OUT && last != 0 && n > 0)
			assert_true(rec.time_us - last >= 15000); /* the 20 ms sleeps show */
		if (rec.type == REC_DATA_OUT)
			n++;
		last = rec.time_us;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(n, 5);
	rec_reader_free(r);
}

static int
run_argv(char *const argv[], const char *out_path)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* An independent parser of the raw record stream, written from the spec. */
static size_t
get_varint(const uint8_t *p, size_t len, size_t *pos)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		assert_true(*pos < len);
		uint8_t b = p[(*pos)++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return (size_t)v;
	}
	fail();
	return 0;
}

static void
test_zstdcat(void **state)
{
	struct expected e = {0};
	char path[128], out[128];
	char *argv[] = {"/usr/bin/zstd", "-dcq", path, NULL};
	uint8_t *raw;
	size_t len, pos = 0, i = 0, frames = 0;
	uint64_t t = 0;

	if (access("/usr/bin/zstd", X_OK) != 0)
		skip();
	path_in_dir(path, sizeof(path), "cat.rec");
	path_in_dir(out, sizeof(out), "cat.raw");
	make_recording(path, &e, 2000, 25);
	assert_int_equal(run_argv(argv, out), 0);
	raw = slurp(out, &len);
	while (pos < len) {
		unsigned type = raw[pos++];
		uint32_t ch = (uint32_t)get_varint(raw, len, &pos);
		uint64_t delta = get_varint(raw, len, &pos);
		size_t plen = get_varint(raw, len, &pos);
		assert_true(pos + plen <= len);
		if (type == REC_FRAME) {
			assert_int_equal(plen, 24);
			assert_int_equal(delta, 0);
			t = 0;
			for (int k = 0; k < 8; k++)
				t = t << 8 | raw[pos + k];
			uint64_t fidx = 0;
			for (int k = 8; k < 16; k++)
				fidx = fidx << 8 | raw[pos + k];
			assert_int_equal(fidx, frames);
			frames++;
		} else {
			t += delta;
			assert_true(i < e.n);
			assert_int_equal(type, e.v[i].type);
			assert_int_equal(ch, e.v[i].channel);
			assert_int_equal(plen, e.v[i].len);
			if (plen)
				assert_memory_equal(raw + pos, e.v[i].data, plen);
			if (i > 0)
				assert_int_equal(t, e.v[i].time_us);
			i++;
		}
		pos += plen;
	}
	assert_int_equal(i, e.n);
	assert_true(frames > 3);
	free(raw);
	exp_free(&e);
}

/* The chain is exactly the documented formula. */
static void
test_chain_formula(void **state)
{
	struct expected e = {0};
	struct rec_reader *r = NULL;
	struct rec_reader_info info;
	char path[128];
	uint8_t *file, h[32], d[32], buf[32 + 8 + 32];
	size_t len, n;
	const struct rec_frame_info *idx;

	path_in_dir(path, sizeof(path), "chain.rec");
	make_recording(path, &e, 800, 12);
	file = slurp(path, &len);
	{
		uint8_t seed[16 + 32];
		memcpy(seed, "gatehouse-rec-v1", 16);
		memcpy(seed + 16, file + 8, 32);
		SHA256(seed, sizeof(seed), h);
	}
	assert_int_equal(rec_reader_open_mem(file, len, &r), 0);
	idx = rec_reader_index(r, &n);
	assert_true(n > 3);
	assert_int_equal(idx[0].offset, 40);
	for (size_t k = 0; k < n; k++) {
		SHA256(file + idx[k].offset, idx[k].size, d);
		memcpy(buf, h, 32);
		for (int b = 0; b < 8; b++)
			buf[32 + b] = (uint8_t)((uint64_t)k >> (56 - 8 * b));
		memcpy(buf + 40, d, 32);
		SHA256(buf, sizeof(buf), h);
		assert_memory_equal(h, idx[k].chain, 32);
	}
	rec_reader_get_info(r, &info);
	assert_memory_equal(h, info.trailer_head, 32);
	assert_int_equal(rec_reader_verify(r, h, n, idx, n, NULL), 0);
	rec_reader_free(r);
	free(file);
	exp_free(&e);
}

/* Every prefix of a file: a prefix of the records, a clean end, torn or at a
 * frame boundary, never a crash; and the database's head catches it. */
static void
test_truncation(void **state)
{
	struct expected e = {0};
	struct rec_reader *r = NULL, *full = NULL;
	struct rec_reader_info info, finfo;
	char path[128];
	uint8_t *file;
	size_t len, last = 0, n;
	int status;
	const struct rec_frame_info *idx;
	uint64_t trailer_off;

	path_in_dir(path, sizeof(path), "trunc.rec");
	make_recording(path, &e, 500, 5);
	file = slurp(path, &len);
	assert_int_equal(rec_reader_open_mem(file, len, &full), 0);
	assert_int_equal(rec_reader_verify(full, NULL, 0, NULL, 0, NULL), 0);
	rec_reader_get_info(full, &finfo);
	idx = rec_reader_index(full, &n);
	trailer_off = idx[n - 1].offset + idx[n - 1].size;
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut + 1); /* exact size: ASan sees any overread */
		assert_non_null(copy);
		memcpy(copy, file, cut);
		int ret = rec_reader_open_mem(copy, cut, &r);
		if (cut < 40) {
			assert_int_equal(ret, ERR_INVALID);
			free(copy);
			continue;
		}
		assert_int_equal(ret, 0);
		size_t got = read_compare(r, &e, &status);
		assert_int_equal(status, 0);
		rec_reader_get_info(r, &info);
		assert_false(info.has_trailer);
		/* Either torn, or cut exactly between frames (or inside the trailer). */
		int boundary = cut == 40;
		for (size_t k = 0; k < n; k++)
			if (idx[k].offset + idx[k].size == cut)
				boundary = 1;
		if (cut > trailer_off)
			assert_true(info.torn);
		else
			assert_true(info.torn || boundary);
		if (info.torn)
			assert_true(info.torn_offset <= cut);
		assert_true(got >= last);
		last = got;
		/* What the database recorded at close no longer matches. */
		if (cut < trailer_off) {
			int64_t bad = 0;
			assert_int_equal(rec_reader_verify(r, finfo.trailer_head, finfo.trailer_frames, NULL, 0, &bad),
			                 ERR_TAMPER);
			assert_true(bad <= (int64_t)n);
		}
		/* A rebuild gives the same answer twice. */
		assert_int_equal(rec_reader_rebuild(r), 0);
		struct rec_reader_info i2;
		rec_reader_get_info(r, &i2);
		assert_int_equal(i2.records, got);
		assert_memory_equal(i2.head, info.head, 32);
		rec_reader_free(r);
		free(copy);
	}
	assert_int_equal(last, e.n);
	rec_reader_free(full);
	free(file);
	exp_free(&e);
}

/* Verifies the recording in memory and returns a copy of its frame index. */
static struct rec_frame_info *
verified_index(const uint8_t *file, size_t len, struct rec_reader_info *info, size_t *n)
{
	struct rec_reader *r = NULL;
	const struct rec_frame_info *idx;
	struct rec_frame_info *ix;

	assert_int_equal(rec_reader_open_mem(file, len, &r), 0);
	assert_int_equal(rec_reader_verify(r, NULL, 0, NULL, 0, NULL), 0);
	rec_reader_get_info(r, info);
	idx = rec_reader_index(r, n);
	ix = malloc(*n * sizeof(*ix));
	assert_non_null(ix);
	memcpy(ix, idx, *n * sizeof(*ix));
	rec_reader_free(r);
	return ix;
}

static void
expect_bad(const uint8_t *buf, size_t len, int64_t frame, const uint8_t *head, uint64_t frames,
           const struct rec_frame_info *idx, size_t n)
{
	struct rec_reader *r = NULL;
	struct rec_reader_info info;
	struct rec_record rec;
	int64_t bad = -2;
	int ret;

	assert_int_equal(rec_reader_open_mem(buf, len, &r), 0);
	assert_int_equal(rec_reader_verify(r, head, frames, idx, n, &bad), ERR_TAMPER);
	assert_int_equal(bad, frame);
	/* Reading stops there too (with a trailer or a per-frame reference). */
	assert_int_equal(rec_reader_rewind(r), 0);
	while ((ret = rec_reader_next(r, &rec)) == 1)
		;
	rec_reader_get_info(r, &info);
	if (ret < 0)
		assert_int_equal(info.bad_frame, frame);
	else
		assert_true(head != NULL); /* only the database reference can tell */
	rec_reader_free(r);
}

static void
test_tamper(void **state)
{
	struct expected e = {0};
	struct rec_reader_info info;
	char path[128];
	uint8_t *file, *buf;
	size_t len, n, blen;
	struct rec_frame_info *ix;

	path_in_dir(path, sizeof(path), "tamper.rec");
	make_recording(path, &e, 700, 10);
	file = slurp(path, &len);
	ix = verified_index(file, len, &info, &n);
	assert_true(n >= 6);
	buf = malloc(len * 2 + 1);
	assert_non_null(buf);

	/* A flipped byte anywhere in frame 2: header, middle, checksum. */
	size_t spots[] = {ix[2].offset + 4, ix[2].offset + 6, ix[2].offset + ix[2].size / 2,
	                  ix[2].offset + ix[2].size - 1};
	for (size_t s = 0; s < sizeof(spots) / sizeof(spots[0]); s++) {
		memcpy(buf, file, len);
		buf[spots[s]] ^= 0x20;
		expect_bad(buf, len, 2, NULL, 0, NULL, 0);
		expect_bad(buf, len, 2, info.trailer_head, n, ix, n);
	}

	/* Frame 2 removed. */
	memcpy(buf, file, ix[2].offset);
	memcpy(buf + ix[2].offset, file + ix[3].offset, len - ix[3].offset);
	blen = len - ix[2].size;
	{
		struct rec_reader *t = NULL;
		/* The trailer no longer tiles the file: refused at open. */
		assert_int_equal(rec_reader_open_mem(buf, blen, &t), ERR_INVALID);
		/* Without the trailer, the database's index names the frame. */
		size_t toff = ix[n - 1].offset + ix[n - 1].size - ix[2].size;
		expect_bad(buf, toff, 2, info.trailer_head, n, ix, n);
		expect_bad(buf, toff, 2, NULL, 0, ix, n);
	}

	/* Frames 2 and 3 swapped. */
	memcpy(buf, file, len);
	memcpy(buf + ix[2].offset, file + ix[3].offset, ix[3].size);
	memcpy(buf + ix[2].offset + ix[3].size, file + ix[2].offset, ix[2].size);
	expect_bad(buf, len, 2, NULL, 0, NULL, 0);

	/* A frame inserted before the trailer, and one appended after it. */
	size_t toff = ix[n - 1].offset + ix[n - 1].size;
	memcpy(buf, file, toff);
	memcpy(buf + toff, file + ix[1].offset, ix[1].size);
	memcpy(buf + toff + ix[1].size, file + toff, len - toff);
	expect_bad(buf, len + ix[1].size, (int64_t)n, NULL, 0, NULL, 0);
	memcpy(buf, file, len);
	memcpy(buf + len, file + ix[1].offset, ix[1].size);
	expect_bad(buf, len + ix[1].size, (int64_t)n, NULL, 0, NULL, 0);

	/* A few stray bytes between the last frame and the trailer. */
	memcpy(buf, file, toff);
	buf[toff] = 0x28;
	buf[toff + 1] = 0xb5;
	memcpy(buf + toff + 2, file + toff, len - toff);
	expect_bad(buf, len + 2, (int64_t)n, NULL, 0, NULL, 0);

	/* Trailer stripped and a frame appended: only the database can tell. */
	memcpy(buf, file, toff);
	memcpy(buf + toff, file + ix[1].offset, ix[1].size);
	expect_bad(buf, toff + ix[1].size, (int64_t)n, info.trailer_head, n, NULL, 0);
	{
		struct rec_reader *t = NULL;
		assert_int_equal(rec_reader_open_mem(buf, toff + ix[1].size, &t), 0);
		assert_int_equal(rec_reader_verify(t, NULL, 0, NULL, 0, NULL), ERR_NOTFOUND);
		rec_reader_free(t);
	}

	/* A frame from another recording of the same content does not verify:
	 * the chain starts from each file's random id. */
	{
		struct expected e2 = {0};
		char p2[128];
		uint8_t *other;
		size_t olen;
		path_in_dir(p2, sizeof(p2), "tamper2.rec");
		rng_state = 12345;
		make_recording(p2, &e2, 700, 10);
		other = slurp(p2, &olen);
		memcpy(buf, other, 40); /* the other file's header: frame 0 differs */
		memcpy(buf + 40, file + 40, len - 40);
		expect_bad(buf, len, 0, NULL, 0, NULL, 0);
		free(other);
		exp_free(&e2);
	}

	free(ix);
	free(buf);
	free(file);
	exp_free(&e);
}

/* Bulk frames omit zstd's XXH64 content checksum (interactive frames keep
 * it); the SHA-256 chain still names a changed byte in a bulk frame. */
static void
test_bulk_no_checksum(void **state)
{
	struct expected e = {0};
	struct rec_reader_info info;
	struct rec_frame_info *ix;
	uint8_t *file, *buf;
	char path[128];
	size_t len, n;

	(void)state;
	for (int slow = 0; slow <= 1; slow++) {
		path_in_dir(path, sizeof(path), slow ? "sum-slow.rec" : "sum-fast.rec");
		rng_state = 777;
		bulk_recording(path, &e, 0, slow ? 500000 : 1000);
		exp_free(&e);
		file = slurp(path, &len);
		ix = verified_index(file, len, &info, &n);
		assert_true(n >= 8);
		/* Frame header descriptor (after the 4-byte magic), bit 2:
		 * Content_Checksum_Flag. The first frame is never bulk. */
		for (size_t i = 0; i < n; i++)
			assert_int_equal((file[ix[i].offset + 4] >> 2) & 1, slow || i == 0);
		if (!slow) {
			buf = malloc(len);
			assert_non_null(buf);
			memcpy(buf, file, len);
			buf[ix[3].offset + ix[3].size / 2] ^= 0x01;
			expect_bad(buf, len, 3, NULL, 0, NULL, 0);
			expect_bad(buf, len, 3, info.trailer_head, n, ix, n);
			free(buf);
		}
		free(ix);
		free(file);
	}
}

static uint8_t *
copy_of(const char *path, size_t *len)
{
	return slurp(path, len);
}

/* kill -9 simulated: the file as it is on disk while the writer still runs. */
static void
test_crash_copy(void **state)
{
	struct rec_writer *w = NULL;
	struct rec_reader *r = NULL;
	struct rec_reader_info info;
	struct expected e = {0};
	char path[128], hex[65], hex2[65];
	uint8_t *snap;
	size_t len, got, n, nflushed;
	int status;
	uint64_t t;

	path_in_dir(path, sizeof(path), "crash.rec");
	assert_int_equal(rec_writer_open(path, "{\"s\":1}", &w), 0);
	exp_add(&e, REC_HEADER, 0, 0, "{\"s\":1}", 7);
	rec_writer_set_limits(w, 1000, 0);
	t = now_us() + 1000000;
	for (int i = 0; i < 200; i++) {
		char line[64];
		int l = snprintf(line, sizeof(line), "line %d of the output\r\n", i);
		wr(w, &e, i % 2 ? REC_DATA_OUT : REC_DATA_IN, 0, t + (uint64_t)i * 1000, line, (size_t)l);
	}
	assert_int_equal(rec_flush(w), 0);
	nflushed = e.n;
	/* More records, not flushed: a crash now loses them. */
	uint64_t before_lost = rec_writer_bytes(w);
	wr(w, &e, REC_DATA_OUT, 0, t + 300000, "lost", 4);
	assert_int_equal(rec_writer_bytes(w), before_lost);

	snap = copy_of(path, &len);
	assert_int_equal(rec_reader_open_mem(snap, len, &r), 0);
	got = read_compare(r, &e, &status);
	assert_int_equal(status, 0);
	assert_int_equal(got, nflushed);
	rec_reader_get_info(r, &info);
	assert_true(info.torn);
	assert_false(info.has_trailer);
	assert_false(info.ended);
	assert_int_equal(info.torn_offset, len); /* a flush ends on a block boundary */
	/* Crash recovery: index and head from the file, stable, and verifiable. */
	assert_int_equal(rec_reader_rebuild(r), 0);
	const struct rec_frame_info *idx = rec_reader_index(r, &n);
	rec_reader_get_info(r, &info);
	assert_int_equal(n, info.frames);
	assert_true(n > 3);
	assert_int_equal(idx[n - 1].offset + idx[n - 1].size, len);
	rec_hash_hex(info.head, hex);
	uint8_t head[32];
	memcpy(head, info.head, 32);
	struct rec_frame_info *ix = malloc(n * sizeof(*ix));
	assert_non_null(ix);
	memcpy(ix, idx, n * sizeof(*ix));
	int64_t bad;
	assert_int_equal(rec_reader_verify(r, head, n, ix, n, &bad), 0);
	/* what the daemon stores after recovery decodes to the same index */
	{
		uint8_t *blob = NULL;
		size_t blen, n2;
		struct rec_frame_info *back = NULL;
		assert_int_equal(rec_index_encode(ix, n, &blob, &blen), 0);
		assert_int_equal(blen, n * 64);
		assert_int_equal(rec_index_decode(blob, blen, &back, &n2), 0);
		assert_int_equal(n2, n);
		assert_memory_equal(back, ix, n * sizeof(*ix));
		free(back);
		free(blob);
	}
	/* the complete frames agree with what the writer chained */
	uint64_t wframes;
	rec_writer_chain(w, hex2, &wframes);
	assert_int_equal(wframes, n - 1);
	uint8_t whead[32];
	assert_int_equal(rec_hash_parse(hex2, whead), 0);
	assert_memory_equal(whead, ix[n - 2].chain, 32);
	rec_reader_free(r);
	free(ix);
	free(snap);
	rec_writer_free(w);
	exp_free(&e);
}

/* A real kill -9 of a writing process: everything flushed is readable. */
static void
test_kill9(void **state)
{
	char path[128];
	int pfd[2], st, ret, n = 0;
	pid_t pid;
	char c;
	struct rec_reader *r = NULL;
	struct rec_reader_info info;
	struct rec_record rec;

	path_in_dir(path, sizeof(path), "kill9.rec");
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rec_writer *w = NULL;
		close(pfd[0]);
		if (rec_writer_open(path, "{\"k\":9}", &w) != 0)
			_exit(1);
		for (int i = 0; i < 1000; i++)
			if (rec_write(w, REC_DATA_OUT, 1, "0123456789abcdef", 16) != 0)
				_exit(2);
		if (rec_flush(w) != 0)
			_exit(3);
		rec_write(w, REC_DATA_OUT, 1, "unflushed", 9);
		if (write(pfd[1], "x", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pfd[1]);
	/* Bounded: the child either writes the byte or exits, closing the pipe. */
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(rec_reader_open(path, &r), 0);
	while ((ret = rec_reader_next(r, &rec)) == 1) {
		if (rec.type == REC_DATA_OUT) {
			assert_int_equal(rec.len, 16);
			assert_memory_equal(rec.data, "0123456789abcdef", 16);
			n++;
		}
	}
	assert_int_equal(ret, 0);
	assert_int_equal(n, 1000);
	rec_reader_get_info(r, &info);
	assert_true(info.torn);
	assert_false(info.has_trailer);
	assert_int_equal(rec_reader_rebuild(r), 0);
	rec_reader_free(r);
}

/* Following a live recording: the reader returns each record once, in
 * order, as the writer flushes them, through torn frames and frame ends,
 * up to the clean end with its trailer. */
static void
test_follow(void **state)
{
	struct rec_writer *w = NULL;
	struct rec_reader *r = NULL;
	struct rec_reader_info info;
	struct rec_record rec;
	struct expected e = {0};
	char path[128];
	size_t got = 0;
	int ret, grew;
	uint64_t t;

	path_in_dir(path, sizeof(path), "follow.rec");
	assert_int_equal(rec_writer_open(path, "{\"f\":1}", &w), 0);
	exp_add(&e, REC_HEADER, 0, 0, "{\"f\":1}", 7);
	rec_writer_set_limits(w, 700, 0);
	t = now_us() + 1000000;
	assert_int_equal(rec_reader_open(path, &r), 0);
	for (int step = 0; step < 30; step++) {
		for (int i = 0; i < 7; i++) {
			char line[48];
			int l = snprintf(line, sizeof(line), "step %d line %d\r\n", step, i);
			wr(w, &e, REC_DATA_OUT, (uint32_t)i, t, line, (size_t)l);
			t += 1000;
		}
		if (step % 3 != 2)
			assert_int_equal(rec_flush(w), 0);
		assert_int_equal(rec_reader_refresh(r, &grew), 0);
		while ((ret = rec_reader_next(r, &rec)) == 1) {
			assert_true(got < e.n);
			assert_int_equal(rec.ordinal, got);
			assert_int_equal(rec.type, e.v[got].type);
			assert_int_equal(rec.len, e.v[got].len);
			assert_memory_equal(rec.data, e.v[got].data, rec.len);
			got++;
		}
		assert_int_equal(ret, 0);
		/* everything flushed so far has been returned */
		if (step % 3 != 2)
			assert_int_equal(got, e.n);
	}
	assert_int_equal(rec_writer_close_at(w, "bye", t), 0);
	exp_add(&e, REC_END, 0, t, "bye", 3);
	assert_int_equal(rec_reader_refresh(r, &grew), 0);
	assert_true(grew);
	while ((ret = rec_reader_next(r, &rec)) == 1) {
		assert_int_equal(rec.ordinal, got);
		assert_int_equal(rec.type, e.v[got].type);
		got++;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(got, e.n);
	rec_reader_get_info(r, &info);
	assert_true(info.has_trailer);
	assert_true(info.ended);
	assert_false(info.torn);
	assert_int_equal(info.records, e.n);
	assert_memory_equal(info.head, info.trailer_head, 32);
	assert_int_equal(rec_reader_refresh(r, &grew), 0);
	assert_false(grew);
	rec_reader_free(r);
	rec_writer_free(w);
	exp_free(&e);
}

/* The flush policy: pending data reaches the file within about a second. */
static void
test_flush_policy(void **state)
{
	struct rec_writer *w = NULL;
	char path[128];
	uint64_t t, b0, b1;

	path_in_dir(path, sizeof(path), "flush.rec");
	assert_int_equal(rec_writer_open(path, "{}", &w), 0);
	t = now_us() + 1000000;
	assert_int_equal(rec_writer_flush_due_ms(w), -1);
	b0 = rec_writer_bytes(w);
	assert_int_equal(rec_write_at(w, REC_DATA_OUT, 0, "hello", 5, t), 0);
	assert_int_equal(rec_writer_bytes(w), b0); /* buffered */
	assert_true(rec_writer_flush_due_ms(w) >= 0);
	assert_int_equal(rec_tick_at(w, t + 500000), 0); /* a second since the open's flush: due */
	b1 = rec_writer_bytes(w);
	assert_true(b1 > b0);
	assert_int_equal(rec_write_at(w, REC_DATA_OUT, 0, "again", 5, t + 600000), 0);
	assert_int_equal(rec_tick_at(w, t + 900000), 0); /* 0.4 s after the flush: not yet */
	assert_int_equal(rec_writer_bytes(w), b1);
	assert_int_equal(rec_tick_at(w, t + 1460000), 0); /* 0.96 s after the flush: due */
	assert_true(rec_writer_bytes(w) > b1);
	/* rec_write flushes by itself once its pending data is a second old. */
	b1 = rec_writer_bytes(w);
	assert_int_equal(rec_write_at(w, REC_DATA_OUT, 0, "a", 1, t + 2000000), 0);
	assert_int_equal(rec_write_at(w, REC_DATA_OUT, 0, "b", 1, t + 2500000), 0);
	assert_int_equal(rec_writer_bytes(w), b1);
	assert_int_equal(rec_write_at(w, REC_DATA_OUT, 0, "c", 1, t + 3000001), 0);
	assert_true(rec_writer_bytes(w) > b1);
	/* A small frame outlives the minute (it is cheap to decode, and its
	 * context is what makes interactive work compress); at ten minutes the
	 * tick ends it, and the next record opens one. */
	uint64_t frames;
	char hex[65];
	rec_writer_chain(w, hex, &frames);
	assert_int_equal(frames, 0);
	assert_int_equal(rec_tick_at(w, t + 61000000), 0);
	rec_writer_chain(w, hex, &frames);
	assert_int_equal(frames, 0);
	assert_int_equal(rec_tick_at(w, t + 601000000), 0);
	rec_writer_chain(w, hex, &frames);
	assert_int_equal(frames, 1);
	assert_int_equal(rec_writer_flush_due_ms(w), -1);
	assert_int_equal(rec_write_at(w, REC_DATA_OUT, 0, "d", 1, t + 602000000), 0);
	/* A frame with 256 KiB or more ends at a minute. */
	{
		static uint8_t big[100000];
		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)rng();
		for (int i = 0; i < 3; i++)
			assert_int_equal(rec_write_at(w, REC_DATA_OUT, 0, big, sizeof(big), t + 603000000), 0);
		assert_int_equal(rec_tick_at(w, t + 661000000), 0);
		rec_writer_chain(w, hex, &frames);
		assert_int_equal(frames, 1);
		assert_int_equal(rec_tick_at(w, t + 662000001), 0);
		rec_writer_chain(w, hex, &frames);
		assert_int_equal(frames, 2);
	}
	assert_int_equal(rec_write_at(w, REC_DATA_OUT, 0, "e", 1, t + 663000000), 0);
	assert_int_equal(rec_writer_close_at(w, "end", t + 663000001), 0);
	rec_writer_chain(w, hex, &frames);
	assert_int_equal(frames, 3);
	/* closed: further calls refused, not crashing */
	assert_int_equal(rec_write(w, REC_DATA_OUT, 0, "x", 1), ERR_INVALID);
	assert_int_equal(rec_writer_close(w, "again"), ERR_INVALID);
	rec_writer_free(w);
}

static void
test_writer_errors(void **state)
{
	struct rec_writer *w = NULL;
	char path[128], link[128];
	struct stat st;
	struct rlimit old, lim;
	uint8_t big[65536];
	int ret = 0;

	path_in_dir(path, sizeof(path), "err.rec");
	assert_int_equal(rec_writer_open(path, "{}", &w), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Arguments the format cannot hold: refused without poisoning. */
	assert_int_equal(rec_write(w, REC_HEADER, 0, "{}", 2), ERR_INVALID);
	assert_int_equal(rec_write(w, REC_END, 0, "", 0), ERR_INVALID);
	assert_int_equal(rec_write(w, REC_FRAME, 0, "", 0), ERR_INVALID);
	assert_int_equal(rec_write(w, (enum rec_type)0, 0, "", 0), ERR_INVALID);
	assert_int_equal(rec_write(w, REC_RESIZE, 0, "abc", 3), ERR_INVALID);
	assert_int_equal(rec_write(w, REC_EXIT_STATUS, 0, "abcde", 5), ERR_INVALID);
	assert_int_equal(rec_write(w, REC_DATA_OUT, 0, big, REC_MAX_PAYLOAD + 1), ERR_INVALID);
	assert_int_equal(rec_writer_error(w), 0);
	rec_writer_free(w);

	/* Never over an existing file or through a symlink. */
	assert_int_equal(rec_writer_open(path, "{}", &w), ERR_EXISTS);
	assert_null(w);
	path_in_dir(link, sizeof(link), "link.rec");
	assert_int_equal(symlink("/tmp/gh-rec-should-not-exist", link), 0);
	assert_int_equal(rec_writer_open(link, "{}", &w), ERR_EXISTS);
	assert_int_equal(access("/tmp/gh-rec-should-not-exist", F_OK), -1);

	/* A full disk (file size limit): ERR_FULL, then sticky. */
	path_in_dir(path, sizeof(path), "full.rec");
	assert_int_equal(rec_writer_open(path, "{}", &w), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)rng();
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 100 && ret == 0; i++) {
		ret = rec_write(w, REC_DATA_OUT, 0, big, sizeof(big));
		if (ret == 0)
			ret = rec_flush(w);
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(ret, ERR_FULL);
	assert_int_equal(rec_writer_error(w), ERR_FULL);
	assert_int_equal(rec_write(w, REC_DATA_OUT, 0, "x", 1), ERR_FULL);
	assert_int_equal(rec_tick(w), ERR_FULL);
	assert_int_equal(rec_flush(w), ERR_FULL);
	assert_int_equal(rec_writer_close(w, "x"), ERR_FULL);
	rec_writer_free(w);
	rec_writer_free(NULL);
	rec_reader_free(NULL);
}

/* Garbage and near-misses are refused, not crashed on. */
static void
test_reader_garbage(void **state)
{
	struct rec_reader *r = NULL;
	struct rec_record rec;
	uint8_t buf[4096];
	int ret;

	memset(buf, 0, sizeof(buf));
	assert_int_equal(rec_reader_open_mem(buf, 0, &r), ERR_INVALID);
	assert_int_equal(rec_reader_open_mem(buf, sizeof(buf), &r), ERR_INVALID);
	/* a valid file header followed by random bytes */
	static const uint8_t fh[40] = {0x57, 0x2a, 0x4d, 0x18, 32, 0, 0, 0, 'G', 'H', 'R', 'F', 0, 1};
	memcpy(buf, fh, sizeof(fh));
	for (int round = 0; round < 200; round++) {
		for (size_t i = 40; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rng();
		if (round % 2) { /* a zstd magic in front of the garbage */
			buf[40] = 0x28;
			buf[41] = 0xb5;
			buf[42] = 0x2f;
			buf[43] = 0xfd;
			buf[44] = 0x04;
		}
		assert_int_equal(rec_reader_open_mem(buf, sizeof(buf), &r), 0);
		while ((ret = rec_reader_next(r, &rec)) == 1)
			;
		assert_true(ret <= 0);
		rec_reader_free(r);
	}
	assert_int_equal(rec_reader_open("/nonexistent/x.rec", &r), ERR_NOTFOUND);
	{
		char fifo[128];
		path_in_dir(fifo, sizeof(fifo), "fifo.rec");
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(rec_reader_open(fifo, &r), ERR_INVALID);
		assert_null(r);
	}
	assert_string_equal(rec_type_name(REC_DATA_OUT), "data-out");
	assert_string_equal(rec_type_name(99), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_real_clock),
	        cmocka_unit_test(test_zstdcat),       cmocka_unit_test(test_chain_formula),
	        cmocka_unit_test(test_truncation),    cmocka_unit_test(test_tamper),
	        cmocka_unit_test(test_crash_copy),    cmocka_unit_test(test_kill9),
	        cmocka_unit_test(test_follow),        cmocka_unit_test(test_flush_policy),
	        cmocka_unit_test(test_writer_errors), cmocka_unit_test(test_reader_garbage),
	        cmocka_unit_test(test_bulk_level),    cmocka_unit_test(test_bulk_no_checksum),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
