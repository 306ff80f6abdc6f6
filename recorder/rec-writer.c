/* Session recording writer (format: docs/recording-format.md, version 1).
 *
 * The file is a file-header skippable frame, then independent zstd frames
 * holding the record stream, then a trailer skippable frame with the seek
 * index. A frame ends after REC_FRAME_BYTES of records or on age (below);
 * inside a frame, pending records are flushed (ZSTD_e_flush, which ends
 * a zstd block) about once a second so that a crash loses at most that much
 * and a streaming reader can decode everything flushed. The compressed bytes
 * of every frame are hashed into the chain as they are written. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
/* For ZSTD_createCCtx_advanced (custom allocator), stable since zstd 1.0. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "common/err.h"
#include "recorder/rec-format.h"
#include "recorder/recorder.h"

#define REC_FRAME_BYTES (1024u * 1024) /* record bytes per frame */
#define REC_FRAME_US    (60ull * 1000 * 1000)
/* ... but a frame holding less than REC_FRAME_SMALL of records is kept up to
 * REC_FRAME_MAX_US: it decodes in well under a millisecond, so seeking does
 * not suffer, while restarting the compressor every minute throws away the
 * repetition of interactive work (the same commands, the same output): in
 * bench/rec-bench.c that restart costs more than the content itself. */
#define REC_FRAME_SMALL  (256u * 1024)
#define REC_FRAME_MAX_US (600ull * 1000 * 1000)
#define REC_FLUSH_US     (1000ull * 1000)
/* rec_tick flushes this much before the second is over, so a caller's 1 Hz
 * timer that fires a little early still flushes on that tick. */
#define REC_TICK_SLACK_US (50ull * 1000)
#define REC_LEVEL         3
/* A frame that follows one filled to max_frame_bytes in under
 * REC_BULK_FRAME_US is bulk data (a transfer, a large cat), not typing: it
 * is compressed at level 1, about 30 % less CPU on text and 45 % less on
 * incompressible data than level 3 for 7 % more bytes (bench/rec-bench.c,
 * docs/performance.md). Interactive frames, where the size target lives,
 * never fill that fast and keep level 3. */
#define REC_LEVEL_BULK    1
#define REC_BULK_FRAME_US (10ull * 1000 * 1000)
#define REC_WINDOW_LOG    20
/* Level 3's match tables sized for 1 MiB frames rather than zstd's default
 * (hashLog 17, chainLog 16): a quarter of the memory, faster on bulk data
 * (fewer cache misses), and within 1% of the size (bench/rec-bench.c). */
#define REC_HASH_LOG  15
#define REC_CHAIN_LOG 14

struct rec_writer {
	int fd;                                   /* the recording, -1 once closed */
	int err;                                  /* first failure, returned by every later call */
	int closed;                               /* rec_writer_close done */
	int level;                                /* zstd level for new frames */
	int bulk_level;                           /* ... after a frame that filled fast */
	int bulk;                                 /* the previous frame filled in under REC_BULK_FRAME_US */
	uint8_t file_header[REC_FILE_HEADER_LEN]; /* payload of the file-header frame */
	uint8_t head[32];                         /* chain head over the completed frames */
	uint64_t frames;                          /* completed frames */
	uint64_t offset;                          /* bytes written to the file */
	uint64_t records;                         /* records written (the next ordinal), REC_FRAME not counted */
	uint64_t last_us;                         /* time of the previous record */
	uint64_t base_real_us;                    /* real time at open ... */
	uint64_t base_mono_us;                    /* ... and the monotonic clock then: record times never go back */
	uint64_t max_frame_bytes;                 /* frame limits (rec_writer_set_limits) */
	uint64_t soft_frame_us;                   /* age that ends a frame of at least small_frame_bytes */
	uint64_t small_frame_bytes;
	uint64_t hard_frame_us; /* age that ends any frame */
	/* The current frame: the compressor and its output buffer live only
	 * while a frame is open or the writer is busy, so an idle session
	 * holds no compression memory. */
	ZSTD_CCtx *cctx;
	uint8_t *out; /* compressed output staging */
	size_t out_cap;
	EVP_MD_CTX *md; /* SHA-256 of the current frame's compressed bytes */
	int in_frame;
	uint64_t frame_off;      /* file offset of the current frame */
	uint64_t frame_first_us; /* time of its first record */
	uint64_t frame_first_ord;
	uint64_t frame_raw; /* record bytes fed into it */
	int pending;        /* records fed since the last flush */
	uint64_t pending_since_us;
	uint64_t last_flush_us;
	struct rec_frame_info *index; /* one entry per completed frame */
	size_t nindex, capindex;
};

static uint64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Real time that never goes backwards for this writer. */
static uint64_t
writer_now(const struct rec_writer *w)
{
	return w->base_real_us + (clock_us(CLOCK_MONOTONIC) - w->base_mono_us);
}

static int
fail(struct rec_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
	return w->err;
}

/* Every byte of the file goes through here: full writes, errors mapped, the
 * current frame's hash updated with exactly what reached the file. */
static int
write_all(struct rec_writer *w, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(w, (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) ? ERR_FULL : ERR_IO);
		}
		if (n == 0)
			return fail(w, ERR_IO);
		if (w->in_frame && EVP_DigestUpdate(w->md, p, (size_t)n) != 1)
			return fail(w, ERR_CRYPTO);
		w->offset += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The compressor's memory comes straight from mmap: released between
 * frames, it really goes back to the system, where glibc's heap would keep
 * freed chunks of this size (its mmap threshold rises after the first
 * free). An idle session then holds no compression memory at all. */
static void *
map_alloc(void *opaque, size_t size)
{
	size_t total = size + 16;
	uint8_t *p;

	if (total < size)
		return NULL;
	p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, &total, sizeof(total));
	return p + 16;
}

static void
map_free(void *opaque, void *ptr)
{
	uint8_t *p;
	size_t total;

	if (ptr == NULL)
		return;
	p = (uint8_t *)ptr - 16;
	memcpy(&total, p, sizeof(total));
	munmap(p, total);
}

static const ZSTD_customMem map_mem = {map_alloc, map_free, NULL};

static void
release_compressor(struct rec_writer *w)
{
	ZSTD_freeCCtx(w->cctx);
	w->cctx = NULL;
	map_free(NULL, w->out);
	w->out = NULL;
	w->out_cap = 0;
}

static int
acquire_compressor(struct rec_writer *w)
{
	int level = w->bulk ? w->bulk_level : w->level;

	if (w->cctx == NULL) {
		if ((w->cctx = ZSTD_createCCtx_advanced(map_mem)) == NULL)
			return fail(w, ERR_NOMEM);
	} else {
		ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_and_parameters);
	}
	/* A bounded window keeps the compressor near 1-2 MiB however long the
	 * frame. Interactive frames carry zstd's content checksum (XXH64), so
	 * plain zstd detects a corrupt frame too; bulk frames do not: the
	 * SHA-256 chain covers every compressed byte of every frame, and on
	 * bulk data the checksum was about a third of the recorder's CPU
	 * (docs/performance.md). Readers accept both. */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_windowLog, REC_WINDOW_LOG)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, !w->bulk)) ||
	    (level == REC_LEVEL && (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_hashLog, REC_HASH_LOG)) ||
	                            ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_chainLog, REC_CHAIN_LOG)))))
		return fail(w, ERR_INTERNAL);
	if (w->out == NULL) {
		w->out_cap = ZSTD_CStreamOutSize();
		if ((w->out = map_alloc(NULL, w->out_cap)) == NULL)
			return fail(w, ERR_NOMEM);
	}
	return 0;
}

/* Feed bytes (or only a directive when len is 0) and write what comes out.
 * For ZSTD_e_flush and ZSTD_e_end, loops until zstd has emitted everything. */
static int
compress(struct rec_writer *w, const void *data, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {data, len, 0};
	size_t rem;
	int r;

	do {
		ZSTD_outBuffer o = {w->out, w->out_cap, 0};
		rem = ZSTD_compressStream2(w->cctx, &o, &in, mode);
		if (ZSTD_isError(rem))
			return fail(w, ERR_INTERNAL);
		if (o.pos > 0 && (r = write_all(w, w->out, o.pos)) != 0)
			return r;
	} while (mode == ZSTD_e_continue ? in.pos < in.size : rem != 0);
	return 0;
}

static int
emit_record(struct rec_writer *w, unsigned type, uint32_t channel, uint64_t delta, const void *data, size_t len)
{
	uint8_t hdr[REC_RECORD_HEADER_MAX];
	size_t n = 0;
	int r;

	hdr[n++] = (uint8_t)type;
	n += rec_varint_put(hdr + n, channel);
	n += rec_varint_put(hdr + n, delta);
	n += rec_varint_put(hdr + n, len);
	if ((r = compress(w, hdr, n, ZSTD_e_continue)) != 0)
		return r;
	if (len > 0 && (r = compress(w, data, len, ZSTD_e_continue)) != 0)
		return r;
	w->frame_raw += n + len;
	return 0;
}

static int
frame_begin(struct rec_writer *w, uint64_t t)
{
	uint8_t payload[REC_FRAME_PAYLOAD_LEN];
	int r;

	if ((r = acquire_compressor(w)) != 0)
		return r;
	if (w->md == NULL && (w->md = EVP_MD_CTX_new()) == NULL)
		return fail(w, ERR_NOMEM);
	if (EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1)
		return fail(w, ERR_CRYPTO);
	w->in_frame = 1;
	w->frame_off = w->offset;
	w->frame_first_us = t;
	w->frame_first_ord = w->records;
	w->frame_raw = 0;
	w->last_flush_us = t;
	/* The frame-start record makes the frame decodable alone: it carries
	 * the absolute time the next deltas start from, the frame's position in
	 * the chain and the ordinal of the next record. */
	rec_put_be64(payload, t);
	rec_put_be64(payload + 8, w->frames);
	rec_put_be64(payload + 16, w->records);
	return emit_record(w, REC_FRAME, 0, 0, payload, sizeof(payload));
}

static int
frame_end(struct rec_writer *w, uint64_t t, int release)
{
	uint8_t digest[32];
	unsigned int dlen = 0;
	struct rec_frame_info *e;
	int r;

	if (!w->in_frame)
		return 0;
	if ((r = compress(w, NULL, 0, ZSTD_e_end)) != 0)
		return r;
	w->in_frame = 0;
	if (EVP_DigestFinal_ex(w->md, digest, &dlen) != 1 || dlen != 32)
		return fail(w, ERR_CRYPTO);
	if (w->nindex == w->capindex) {
		size_t cap = w->capindex ? w->capindex * 2 : 16;
		struct rec_frame_info *n = realloc(w->index, cap * sizeof(*n));
		if (n == NULL)
			return fail(w, ERR_NOMEM);
		w->index = n;
		w->capindex = cap;
	}
	if ((r = rec_chain_step(w->head, w->frames, digest, w->head)) != 0)
		return fail(w, r);
	e = &w->index[w->nindex++];
	e->offset = w->frame_off;
	e->size = w->offset - w->frame_off;
	e->first_time_us = w->frame_first_us;
	e->first_ordinal = w->frame_first_ord;
	memcpy(e->chain, w->head, 32);
	w->frames++;
	w->pending = 0;
	w->last_flush_us = t;
	if (release)
		release_compressor(w);
	return 0;
}

static int
flush_pending(struct rec_writer *w, uint64_t t)
{
	int r;

	if (!w->in_frame || !w->pending)
		return 0;
	if ((r = compress(w, NULL, 0, ZSTD_e_flush)) != 0)
		return r;
	w->pending = 0;
	w->last_flush_us = t;
	return 0;
}

static int
frame_too_old(const struct rec_writer *w, uint64_t t)
{
	uint64_t age = t - w->frame_first_us;

	return age >= w->hard_frame_us || (age >= w->soft_frame_us && w->frame_raw >= w->small_frame_bytes);
}

static int
append(struct rec_writer *w, unsigned type, uint32_t channel, const void *data, size_t len, uint64_t now)
{
	uint64_t t = now > w->last_us ? now : w->last_us;
	int r;

	/* An old frame is ended before the record, not after it, so a record
	 * after a long pause opens a fresh frame stamped with its own time. */
	if (w->in_frame && frame_too_old(w, t)) {
		w->bulk = 0;
		if ((r = frame_end(w, t, 0)) != 0)
			return r;
	}
	if (!w->in_frame) {
		if ((r = frame_begin(w, t)) != 0)
			return r;
		w->last_us = t;
	}
	if ((r = emit_record(w, type, channel, t - w->last_us, data, len)) != 0)
		return r;
	w->last_us = t;
	w->records++;
	if (!w->pending) {
		w->pending = 1;
		w->pending_since_us = t;
	}
	if (w->frame_raw >= w->max_frame_bytes) {
		w->bulk = t - w->frame_first_us < REC_BULK_FRAME_US;
		return frame_end(w, t, 0);
	}
	if (t - w->pending_since_us >= REC_FLUSH_US)
		return flush_pending(w, t);
	return 0;
}

static int
check_record(unsigned type, const void *data, size_t len)
{
	int fixed;

	if (type < REC_CHANNEL_OPEN || (type > REC_MARK && type != REC_INPUT_SEALED) || len > REC_MAX_PAYLOAD ||
	    (len > 0 && data == NULL))
		return ERR_INVALID;
	fixed = rec_type_fixed_len(type);
	if (fixed >= 0 && len != (size_t)fixed)
		return ERR_INVALID;
	return 0;
}

int
rec_write_at(struct rec_writer *w, enum rec_type type, uint32_t channel, const void *data, size_t len, uint64_t now_us)
{
	int r;

	if (w == NULL)
		return ERR_INVALID;
	if (w->err)
		return w->err;
	if (w->closed)
		return ERR_INVALID;
	if ((r = check_record((unsigned)type, data, len)) != 0)
		return r;
	return append(w, (unsigned)type, channel, data, len, now_us);
}

int
rec_write(struct rec_writer *w, enum rec_type type, uint32_t channel, const void *data, size_t len)
{
	if (w == NULL)
		return ERR_INVALID;
	return rec_write_at(w, type, channel, data, len, writer_now(w));
}

uint64_t
rec_writer_next_ordinal(const struct rec_writer *w)
{
	return w != NULL ? w->records : 0;
}

int
rec_tick_at(struct rec_writer *w, uint64_t now_us)
{
	uint64_t since_flush;

	if (w == NULL)
		return ERR_INVALID;
	if (w->err)
		return w->err;
	if (w->closed || !w->in_frame)
		return 0;
	if (now_us < w->last_us)
		now_us = w->last_us;
	if (frame_too_old(w, now_us)) {
		w->bulk = 0;
		return frame_end(w, now_us, 1);
	}
	since_flush = now_us > w->last_flush_us ? now_us - w->last_flush_us : 0;
	if (w->pending &&
	    (now_us - w->pending_since_us >= REC_FLUSH_US || since_flush + REC_TICK_SLACK_US >= REC_FLUSH_US))
		return flush_pending(w, now_us);
	return 0;
}

int
rec_tick(struct rec_writer *w)
{
	if (w == NULL)
		return ERR_INVALID;
	return rec_tick_at(w, writer_now(w));
}

int
rec_flush(struct rec_writer *w)
{
	if (w == NULL)
		return ERR_INVALID;
	if (w->err)
		return w->err;
	if (w->closed)
		return 0;
	return flush_pending(w, writer_now(w) > w->last_us ? writer_now(w) : w->last_us);
}

int64_t
rec_writer_flush_due_ms(const struct rec_writer *w)
{
	uint64_t now, due;

	if (w == NULL || w->err || w->closed || !w->in_frame || !w->pending)
		return -1;
	now = writer_now(w);
	due = w->pending_since_us + REC_FLUSH_US;
	if (w->last_flush_us + REC_FLUSH_US - REC_TICK_SLACK_US < due)
		due = w->last_flush_us + REC_FLUSH_US - REC_TICK_SLACK_US;
	return now >= due ? 0 : (int64_t)((due - now + 999) / 1000);
}

static int
write_trailer(struct rec_writer *w)
{
	uint8_t *buf = NULL;
	size_t payload = REC_TRAILER_FIXED + w->nindex * REC_INDEX_ENTRY_LEN + REC_FOOTER_LEN;
	size_t total = 8 + payload;
	uint8_t *p;
	int r = ERR_INTERNAL;

	if (total > REC_MAX_TRAILER_SIZE) {
		r = fail(w, ERR_INTERNAL);
		goto out;
	}
	if ((buf = malloc(total)) == NULL) {
		r = fail(w, ERR_NOMEM);
		goto out;
	}
	rec_put_le32(buf, REC_SKIP_MAGIC);
	rec_put_le32(buf + 4, (uint32_t)payload);
	p = buf + 8;
	memcpy(p, REC_TRAILER_TAG, 4);
	rec_put_be16(p + 4, REC_FORMAT_VERSION);
	rec_put_be16(p + 6, REC_TRAILER_CLEAN);
	rec_put_be64(p + 8, w->frames);
	rec_put_be64(p + 16, w->records);
	memcpy(p + 24, w->head, 32);
	p += REC_TRAILER_FIXED;
	for (size_t i = 0; i < w->nindex; i++, p += REC_INDEX_ENTRY_LEN)
		rec_index_entry_put(p, &w->index[i]);
	rec_put_be32(p, (uint32_t)total);
	memcpy(p + 4, REC_FOOTER_TAG, 4);
	r = write_all(w, buf, total);
out:
	free(buf);
	return r;
}

int
rec_writer_close_at(struct rec_writer *w, const char *end_reason, uint64_t now_us)
{
	const char *reason = end_reason ? end_reason : "";
	size_t len = strlen(reason);
	int r = ERR_INTERNAL;

	if (w == NULL)
		return ERR_INVALID;
	if (w->err)
		return w->err;
	if (w->closed)
		return ERR_INVALID;
	if (len > REC_MAX_PAYLOAD)
		len = REC_MAX_PAYLOAD;
	if ((r = append(w, REC_END, 0, reason, len, now_us)) != 0)
		return r;
	if ((r = frame_end(w, w->last_us, 1)) != 0)
		return r;
	if ((r = write_trailer(w)) != 0)
		return r;
	w->closed = 1;
	/* The only fsync: per-second fsyncs of a thousand sessions would cost
	 * more than they save; a kill -9 loses nothing the kernel has. */
	if (fsync(w->fd) != 0 && errno != EINVAL)
		return fail(w, errno == ENOSPC || errno == EDQUOT ? ERR_FULL : ERR_IO);
	r = close(w->fd);
	w->fd = -1;
	if (r != 0)
		return fail(w, ERR_IO);
	return 0;
}

int
rec_writer_close(struct rec_writer *w, const char *end_reason)
{
	if (w == NULL)
		return ERR_INVALID;
	return rec_writer_close_at(w, end_reason, writer_now(w));
}

int
rec_writer_open(const char *path, const char *header_json, struct rec_writer **out)
{
	struct rec_writer *w = NULL;
	const char *json = header_json ? header_json : "{}";
	size_t jlen = strlen(json);
	uint8_t fh[8 + REC_FILE_HEADER_LEN];
	int created = 0;
	int r = ERR_INTERNAL;

	*out = NULL;
	if (path == NULL || jlen > REC_MAX_PAYLOAD)
		return ERR_INVALID;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		r = errno == EEXIST ? ERR_EXISTS : (errno == ENOSPC || errno == EDQUOT) ? ERR_FULL : ERR_IO;
		goto out;
	}
	created = 1;
	w->level = REC_LEVEL;
	w->bulk_level = REC_LEVEL_BULK;
	w->max_frame_bytes = REC_FRAME_BYTES;
	w->soft_frame_us = REC_FRAME_US;
	w->small_frame_bytes = REC_FRAME_SMALL;
	w->hard_frame_us = REC_FRAME_MAX_US;
	w->base_real_us = clock_us(CLOCK_REALTIME);
	w->base_mono_us = clock_us(CLOCK_MONOTONIC);
	w->last_us = w->base_real_us;

	/* The random file id binds the chain to this file: frames copied from
	 * another recording do not verify here. */
	memcpy(w->file_header, REC_FILE_TAG, 4);
	rec_put_be16(w->file_header + 4, REC_FORMAT_VERSION);
	rec_put_be16(w->file_header + 6, 0);
	if (RAND_bytes(w->file_header + 8, 16) != 1) {
		r = ERR_CRYPTO;
		goto out;
	}
	rec_put_be64(w->file_header + 24, w->base_real_us);
	if ((r = rec_chain_init(w->file_header, w->head)) != 0)
		goto out;
	rec_put_le32(fh, REC_SKIP_MAGIC);
	rec_put_le32(fh + 4, REC_FILE_HEADER_LEN);
	memcpy(fh + 8, w->file_header, REC_FILE_HEADER_LEN);
	if ((r = write_all(w, fh, sizeof(fh))) != 0)
		goto out;
	if ((r = append(w, REC_HEADER, 0, json, jlen, w->base_real_us)) != 0)
		goto out;
	if ((r = flush_pending(w, w->base_real_us)) != 0)
		goto out;
	*out = w;
	w = NULL;
	r = 0;
out:
	if (w != NULL && created)
		unlink(path);
	rec_writer_free(w);
	return r;
}

void
rec_writer_free(struct rec_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	release_compressor(w);
	EVP_MD_CTX_free(w->md);
	free(w->index);
	free(w);
}

int
rec_writer_error(const struct rec_writer *w)
{
	return w == NULL ? ERR_INVALID : w->err;
}

void
rec_writer_chain(const struct rec_writer *w, char head_hex[65], uint64_t *frames)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		head_hex[2 * i] = hex[w->head[i] >> 4];
		head_hex[2 * i + 1] = hex[w->head[i] & 15];
	}
	head_hex[64] = '\0';
	if (frames != NULL)
		*frames = w->frames;
}

uint64_t
rec_writer_bytes(const struct rec_writer *w)
{
	return w == NULL ? 0 : w->offset;
}

int
rec_writer_index(const struct rec_writer *w, uint8_t **blob, size_t *len)
{
	uint8_t *b = NULL;

	*blob = NULL;
	*len = 0;
	if (w->nindex == 0)
		return 0;
	if ((b = malloc(w->nindex * REC_INDEX_ENTRY_LEN)) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < w->nindex; i++)
		rec_index_entry_put(b + i * REC_INDEX_ENTRY_LEN, &w->index[i]);
	*blob = b;
	*len = w->nindex * REC_INDEX_ENTRY_LEN;
	return 0;
}

void
rec_writer_set_limits(struct rec_writer *w, uint64_t frame_bytes, uint64_t frame_us)
{
	/* Readers refuse frames decoding to more than 32 MiB. */
	if (frame_bytes > 8u * 1024 * 1024)
		frame_bytes = 8u * 1024 * 1024;
	if (frame_bytes > 0)
		w->max_frame_bytes = frame_bytes;
	if (frame_us > 0)
		w->soft_frame_us = w->hard_frame_us = frame_us;
}

void
rec_writer_set_level(struct rec_writer *w, int level)
{
	w->level = w->bulk_level = level;
}
