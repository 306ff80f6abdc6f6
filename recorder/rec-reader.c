/* Session recording reader (format: docs/recording-format.md, version 1).
 *
 * A frame is walked (zstd frame and block headers) before anything is
 * decoded: this finds its exact end, bounds its size, and, when the file
 * ends inside it, the end of its last complete block. Only those bytes are
 * hashed into the chain and fed to the decoder, so a torn tail yields
 * exactly the records of the completed blocks and the same chain head every
 * time the file is read. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "common/err.h"
#include "recorder/rec-format.h"
#include "recorder/rec-reader.h"

#define RBUF_INITIAL (64u * 1024)
/* Decoded content of one frame: the writer's frames hold at most 8 MiB of
 * records plus one record of up to 16 MiB. */
#define RBUF_MAX (32u * 1024 * 1024)

struct rec_reader {
	int fd;             /* file source, -1 for memory */
	const uint8_t *mem; /* memory source (not owned) */
	uint64_t size;      /* source length, fixed at open */
	uint8_t *fbuf;      /* frame bytes read from the file */
	size_t fcap;
	ZSTD_DCtx *dctx;
	uint8_t file_header[REC_FILE_HEADER_LEN];
	uint8_t h_init[32];  /* chain head before frame 0 */
	uint64_t data_start; /* offset of frame 0 */

	/* The trailer, when the file ends with a valid one. */
	int has_trailer;
	uint64_t trailer_off;
	uint64_t t_frames, t_records;
	uint8_t t_head[32];
	struct rec_frame_info *t_index;

	/* Index rebuilt while reading from the start. */
	struct rec_frame_info *b_index;
	size_t b_n, b_cap;

	/* Position. */
	uint64_t pos;     /* offset of the next frame */
	uint64_t findex;  /* index of the next frame */
	uint8_t head[32]; /* chain head after the frames loaded */
	int from_start;   /* sequential from frame 0: chain, counts and built index are meaningful */
	uint64_t frames_loaded;

	/* The current frame. */
	int in_frame;
	const uint8_t *frame; /* its bytes (into mem or fbuf) */
	size_t frame_len;     /* bytes given to the decoder */
	size_t frame_pos;
	int frame_torn;     /* the file ends inside it */
	int frame_finished; /* the decoder reached its end */
	int frame_rec_seen; /* its REC_FRAME record was read */
	uint64_t cur_frame; /* its index */

	/* Decoded bytes not yet returned. */
	uint8_t *rbuf;
	size_t rcap, rlen, rpos;

	uint64_t time_us; /* time of the previous record */
	uint64_t ordinal; /* ordinal of the next record */
	uint64_t records;
	int ended; /* REC_END read */
	int done;
	int err;
	int torn;
	uint64_t torn_offset;
	int64_t bad_frame;

	/* The torn frame, to read it again when the file has grown. */
	int tf_loaded;       /* the torn tail is a frame that was loaded */
	uint64_t tf_start;   /* its offset */
	uint8_t tf_head[32]; /* state before it */
	uint64_t tf_time, tf_ordinal, tf_records;
	int tf_ended;
	uint64_t skip_below; /* records below this ordinal were returned already */
};

static int
fail(struct rec_reader *r, int err, int64_t bad_frame)
{
	if (r->err == 0) {
		r->err = err;
		if (r->bad_frame < 0)
			r->bad_frame = bad_frame;
	}
	return r->err;
}

/* Read len bytes at off; the caller has checked off + len <= size. */
static int
src_read(struct rec_reader *r, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;

	if (r->mem != NULL) {
		memcpy(buf, r->mem + off, len);
		return 0;
	}
	while (len > 0) {
		ssize_t n = pread(r->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ERR_IO; /* error, or the file shrank under us */
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int
sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
	unsigned int olen = 0;

	if (EVP_Digest(p, len, out, &olen, EVP_sha256(), NULL) != 1 || olen != 32)
		return ERR_CRYPTO;
	return 0;
}

static int
read_file_header(struct rec_reader *r)
{
	uint8_t h[8 + REC_FILE_HEADER_LEN];
	int ret;

	if (r->size < sizeof(h))
		return ERR_INVALID;
	if ((ret = src_read(r, 0, h, sizeof(h))) != 0)
		return ret;
	if (rec_get_le32(h) != REC_SKIP_MAGIC || rec_get_le32(h + 4) != REC_FILE_HEADER_LEN ||
	    memcmp(h + 8, REC_FILE_TAG, 4) != 0 || rec_get_be16(h + 12) != REC_FORMAT_VERSION ||
	    rec_get_be16(h + 14) != 0)
		return ERR_INVALID;
	memcpy(r->file_header, h + 8, REC_FILE_HEADER_LEN);
	r->data_start = sizeof(h);
	return rec_chain_init(r->file_header, r->h_init);
}

/* The trailer is found from the end: its footer names its length. A footer
 * with a malformed trailer is an error, not "no trailer", so a damaged
 * trailer cannot quietly turn a closed recording into a crashed one. */
static int
read_trailer(struct rec_reader *r)
{
	uint8_t foot[REC_FOOTER_LEN];
	uint8_t *t = NULL;
	uint64_t total, n, expect_off;
	int ret = ERR_INTERNAL;

	if (r->size < r->data_start + 8 + REC_TRAILER_FIXED + REC_FOOTER_LEN)
		return 0;
	if ((ret = src_read(r, r->size - REC_FOOTER_LEN, foot, sizeof(foot))) != 0)
		return ret;
	if (memcmp(foot + 4, REC_FOOTER_TAG, 4) != 0)
		return 0;
	total = rec_get_be32(foot);
	if (total < 8 + REC_TRAILER_FIXED + REC_FOOTER_LEN || total > REC_MAX_TRAILER_SIZE ||
	    total > r->size - r->data_start || (total - 8 - REC_TRAILER_FIXED - REC_FOOTER_LEN) % REC_INDEX_ENTRY_LEN)
		return ERR_INVALID;
	if ((t = malloc(total)) == NULL)
		return ERR_NOMEM;
	r->trailer_off = r->size - total;
	if ((ret = src_read(r, r->trailer_off, t, total)) != 0)
		goto out;
	ret = ERR_INVALID;
	n = (total - 8 - REC_TRAILER_FIXED - REC_FOOTER_LEN) / REC_INDEX_ENTRY_LEN;
	if (rec_get_le32(t) != REC_SKIP_MAGIC || rec_get_le32(t + 4) != total - 8 ||
	    memcmp(t + 8, REC_TRAILER_TAG, 4) != 0 || rec_get_be16(t + 12) != REC_FORMAT_VERSION ||
	    rec_get_be64(t + 16) != n || n == 0)
		goto out;
	r->t_frames = n;
	r->t_records = rec_get_be64(t + 24);
	memcpy(r->t_head, t + 32, 32);
	if ((r->t_index = calloc(n, sizeof(*r->t_index))) == NULL) {
		ret = ERR_NOMEM;
		goto out;
	}
	/* The entries must tile the file exactly between the file header and
	 * the trailer: seeking trusts these offsets. */
	expect_off = r->data_start;
	for (uint64_t i = 0; i < n; i++) {
		struct rec_frame_info *e = &r->t_index[i];
		rec_index_entry_get(t + 8 + REC_TRAILER_FIXED + i * REC_INDEX_ENTRY_LEN, e);
		if (e->offset != expect_off || e->size == 0 || e->size > REC_MAX_FRAME_SIZE ||
		    e->size > r->trailer_off - e->offset)
			goto out;
		if (i > 0 && (e->first_time_us < r->t_index[i - 1].first_time_us ||
		              e->first_ordinal < r->t_index[i - 1].first_ordinal))
			goto out;
		expect_off += e->size;
	}
	/* Frames missing from the index (one inserted before the trailer) are
	 * allowed here so that the chain check can name the first of them. */
	if (expect_off > r->trailer_off)
		goto out;
	r->has_trailer = 1;
	ret = 0;
out:
	if (ret != 0) {
		free(r->t_index);
		r->t_index = NULL;
	}
	free(t);
	return ret;
}

/* Walk the zstd frame at p (ending no later than end): *len is its size, or
 * for a frame cut by the end of the data, the size up to the end of its last
 * complete block (0 if none) with *torn set. Only the headers are read. */
static int
walk_frame(struct rec_reader *r, uint64_t p, uint64_t end, uint64_t *len, int *torn)
{
	static const unsigned did_size[4] = {0, 1, 2, 4};
	uint8_t h[18];
	uint64_t avail = end - p, q, complete = 0;
	unsigned fhd, fcs_flag, single, hs;
	int ret, checksum;
	size_t n = avail < sizeof(h) ? (size_t)avail : sizeof(h);

	*len = 0;
	*torn = 1;
	if (n < 5)
		return 0;
	if ((ret = src_read(r, p, h, n)) != 0)
		return ret;
	fhd = h[4];
	fcs_flag = fhd >> 6;
	single = (fhd >> 5) & 1;
	checksum = (fhd >> 2) & 1;
	/* Reserved bit set, or a dictionary: never written by us. */
	if ((fhd & 0x08) || (fhd & 3))
		return ERR_INVALID;
	hs = 5 + (single ? 0 : 1) + did_size[fhd & 3] + (fcs_flag == 0 ? single : 1u << fcs_flag);
	if (hs > n)
		return 0;
	q = hs;
	for (;;) {
		uint8_t bh[3];
		uint32_t b, bsize;
		uint64_t content;

		if (avail - q < 3)
			goto torn;
		if ((ret = src_read(r, p + q, bh, 3)) != 0)
			return ret;
		b = bh[0] | ((uint32_t)bh[1] << 8) | ((uint32_t)bh[2] << 16);
		bsize = b >> 3;
		if (((b >> 1) & 3) == 3 || bsize > REC_ZSTD_BLOCK_MAX)
			return ERR_INVALID;
		content = ((b >> 1) & 3) == 1 ? 1 : bsize;
		if (avail - q - 3 < content)
			goto torn;
		q += 3 + content;
		if (q > REC_MAX_FRAME_SIZE)
			return ERR_INVALID;
		complete = q;
		if (b & 1)
			break;
	}
	if (checksum) {
		if (avail - q < 4)
			goto torn;
		q += 4;
	}
	*len = q;
	*torn = 0;
	return 0;
torn:
	*len = complete;
	return 0;
}

static int
push_built(struct rec_reader *r, const struct rec_frame_info *e)
{
	if (r->b_n == r->b_cap) {
		size_t cap = r->b_cap ? r->b_cap * 2 : 16;
		struct rec_frame_info *n = realloc(r->b_index, cap * sizeof(*n));
		if (n == NULL)
			return ERR_NOMEM;
		r->b_index = n;
		r->b_cap = cap;
	}
	r->b_index[r->b_n++] = *e;
	return 0;
}

/* The data ends at p without a complete frame: a crash, unless the file
 * has a trailer, which a writer only writes after its last complete frame. */
static int
torn_at(struct rec_reader *r, uint64_t p)
{
	if (r->has_trailer)
		return fail(r, ERR_TAMPER, (int64_t)r->findex);
	r->torn = 1;
	r->torn_offset = p;
	return 0;
}

/* Load the next frame: 1 loaded, 0 no more frames (clean end, trailer or
 * torn tail), negative on error. With decode == 0 only the structure and
 * the chain are checked (rec_reader_verify). */
static int
load_frame(struct rec_reader *r, int decode, const struct rec_frame_info *expect, size_t expect_n)
{
	uint64_t p = r->pos, end = r->has_trailer ? r->trailer_off : r->size;
	uint64_t flen = 0;
	uint8_t m[12], digest[32];
	uint32_t magic;
	int torn = 0, ret;

	if (p == end)
		return 0;
	if (end - p < 4)
		return torn_at(r, p);
	if ((ret = src_read(r, p, m, end - p < sizeof(m) ? (size_t)(end - p) : sizeof(m))) != 0)
		return fail(r, ret, -1);
	magic = rec_get_le32(m);
	if ((magic & REC_SKIP_MASK) == REC_SKIP_BASE) {
		/* Only our trailer may appear between frames, and only last: when
		 * it is here, the footer was missing or something follows it. */
		if (magic == REC_SKIP_MAGIC && (end - p < 12 || memcmp(m + 8, REC_TRAILER_TAG, 4) == 0)) {
			/* Cut short: the writer died while writing its trailer. */
			if (end - p < 12 || rec_get_le32(m + 4) > end - p - 8)
				return torn_at(r, p);
			return fail(r, ERR_TAMPER, (int64_t)r->findex);
		}
		return fail(r, ERR_INVALID, (int64_t)r->findex);
	}
	if (magic != REC_ZSTD_MAGIC)
		return fail(r, ERR_INVALID, (int64_t)r->findex);
	if ((ret = walk_frame(r, p, end, &flen, &torn)) != 0)
		return fail(r, ret, (int64_t)r->findex);
	if (torn && r->has_trailer) /* a frame overrunning the trailer */
		return fail(r, ERR_TAMPER, (int64_t)r->findex);
	if (flen == 0) /* not even one complete block */
		return torn_at(r, p);
	if (r->mem != NULL) {
		r->frame = r->mem + p;
	} else {
		if (flen > r->fcap) {
			uint8_t *nb = realloc(r->fbuf, flen);
			if (nb == NULL)
				return fail(r, ERR_NOMEM, -1);
			r->fbuf = nb;
			r->fcap = flen;
		}
		if ((ret = src_read(r, p, r->fbuf, flen)) != 0)
			return fail(r, ret, -1);
		r->frame = r->fbuf;
	}
	/* What rec_reader_refresh needs to read a torn frame again. */
	memcpy(r->tf_head, r->head, 32);
	r->tf_time = r->time_us;
	r->tf_ordinal = r->ordinal;
	r->tf_records = r->records;
	r->tf_ended = r->ended;
	if ((ret = sha256(r->frame, flen, digest)) != 0 ||
	    (ret = rec_chain_step(r->head, r->findex, digest, r->head)) != 0)
		return fail(r, ret, -1);

	/* Compare with every reference we have, frame by frame. */
	if (r->has_trailer) {
		const struct rec_frame_info *t = r->findex < r->t_frames ? &r->t_index[r->findex] : NULL;
		if (t == NULL || t->offset != p || t->size != flen || memcmp(t->chain, r->head, 32) != 0)
			return fail(r, ERR_TAMPER, (int64_t)r->findex);
	}
	if (expect != NULL) {
		const struct rec_frame_info *e = r->findex < expect_n ? &expect[r->findex] : NULL;
		if (e == NULL || e->offset != p || e->size != flen || memcmp(e->chain, r->head, 32) != 0)
			return fail(r, ERR_TAMPER, (int64_t)r->findex);
	}
	if (r->from_start) {
		struct rec_frame_info e = {.offset = p, .size = flen};
		memcpy(e.chain, r->head, 32);
		if ((ret = push_built(r, &e)) != 0)
			return fail(r, ret, -1);
		r->frames_loaded++;
	}
	r->cur_frame = r->findex++;
	r->pos = p + flen;
	if (torn) {
		r->pos = end;
		r->torn = 1;
		r->torn_offset = p + flen;
		r->tf_loaded = 1;
		r->tf_start = p;
	}
	if (!decode)
		return 1;
	ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
	r->in_frame = 1;
	r->frame_len = flen;
	r->frame_pos = 0;
	r->frame_torn = torn;
	r->frame_finished = 0;
	r->frame_rec_seen = 0;
	r->rlen = r->rpos = 0;
	return 1;
}

/* Keep some room after the decoded bytes, growing up to RBUF_MAX. */
static int
rbuf_grow(struct rec_reader *r)
{
	size_t cap;
	uint8_t *nb;

	if (r->rcap - r->rlen >= 4096)
		return 0;
	if (r->rcap >= RBUF_MAX)
		return r->rlen < r->rcap ? 0 : ERR_INVALID; /* a frame decoding to more than any writer writes */
	cap = r->rcap ? r->rcap * 2 : RBUF_INITIAL;
	if (cap > RBUF_MAX)
		cap = RBUF_MAX;
	if ((nb = realloc(r->rbuf, cap)) == NULL)
		return ERR_NOMEM;
	r->rbuf = nb;
	r->rcap = cap;
	return 0;
}

/* Decode more of the current frame: 1 progress, 0 nothing more to get. */
static int
decode_more(struct rec_reader *r)
{
	ZSTD_inBuffer in;
	ZSTD_outBuffer o;
	size_t ret;
	int rr;

	if (r->frame_finished)
		return 0;
	if ((rr = rbuf_grow(r)) != 0)
		return fail(r, rr, rr == ERR_INVALID ? (int64_t)r->cur_frame : -1);
	if (r->rlen == r->rcap) /* cannot happen: reserve leaves room */
		return fail(r, ERR_INTERNAL, -1);
	in = (ZSTD_inBuffer){r->frame, r->frame_len, r->frame_pos};
	o = (ZSTD_outBuffer){r->rbuf, r->rcap, r->rlen};
	ret = ZSTD_decompressStream(r->dctx, &o, &in);
	if (ZSTD_isError(ret)) {
		int err = ZSTD_getErrorCode(ret) == ZSTD_error_checksum_wrong ? ERR_TAMPER : ERR_INVALID;
		return fail(r, err, (int64_t)r->cur_frame);
	}
	if (in.pos == r->frame_pos && o.pos == r->rlen && ret != 0)
		return 0; /* input exhausted: only for a torn frame */
	r->frame_pos = in.pos;
	r->rlen = o.pos;
	if (ret == 0) {
		r->frame_finished = 1;
		/* The walker found this frame's end; the decoder must agree. */
		if (r->frame_pos != r->frame_len)
			return fail(r, ERR_INVALID, (int64_t)r->cur_frame);
	}
	return 1;
}

/* Parse one record from the decoded bytes: 1 record, 0 need more. */
static int
parse_record(struct rec_reader *r, struct rec_record *rec)
{
	const uint8_t *p;
	size_t avail = r->rlen - r->rpos, q = 1, used;
	uint64_t ch, delta, len;
	int v;

	if (avail < 1)
		return 0;
	p = r->rbuf + r->rpos;
	if ((v = rec_varint_get(p + q, avail - q, &ch, &used)) <= 0)
		goto varint;
	q += used;
	if ((v = rec_varint_get(p + q, avail - q, &delta, &used)) <= 0)
		goto varint;
	q += used;
	if ((v = rec_varint_get(p + q, avail - q, &len, &used)) <= 0)
		goto varint;
	q += used;
	if (p[0] == 0 || ch > UINT32_MAX || len > REC_MAX_PAYLOAD)
		return fail(r, ERR_INVALID, (int64_t)r->cur_frame);
	if (avail - q < len) {
		return 0;
	}
	rec->type = p[0];
	rec->channel = (uint32_t)ch;
	rec->time_us = delta; /* made absolute by the caller */
	rec->data = p + q;
	rec->len = (size_t)len;
	r->rpos += q + (size_t)len;
	return 1;
varint:
	if (v < 0)
		return fail(r, ERR_INVALID, (int64_t)r->cur_frame);
	if (avail >= REC_RECORD_HEADER_MAX) /* a header never needs more */
		return fail(r, ERR_INVALID, (int64_t)r->cur_frame);
	return 0;
}

/* Check a record against its frame and its predecessors; 1 to return it, 0
 * for a structural record consumed here. */
static int
accept_record(struct rec_reader *r, struct rec_record *rec)
{
	int64_t bad = (int64_t)r->cur_frame;
	int fixed = rec_type_fixed_len(rec->type);
	uint64_t delta = rec->time_us;

	if (fixed >= 0 && rec->len != (size_t)fixed)
		return fail(r, ERR_INVALID, bad);
	if (rec->type == REC_FRAME) {
		uint64_t t = rec_get_be64(rec->data), idx = rec_get_be64(rec->data + 8);
		uint64_t ord = rec_get_be64(rec->data + 16);
		if (r->frame_rec_seen || r->ended || delta != 0 || rec->channel != 0)
			return fail(r, ERR_INVALID, bad);
		/* A frame that names another position was moved. */
		if (idx != r->cur_frame || ord != r->ordinal)
			return fail(r, ERR_TAMPER, bad);
		if (t < r->time_us)
			return fail(r, ERR_INVALID, bad);
		r->frame_rec_seen = 1;
		r->time_us = t;
		if (r->from_start && r->b_n > 0) {
			r->b_index[r->b_n - 1].first_time_us = t;
			r->b_index[r->b_n - 1].first_ordinal = ord;
		}
		return 0;
	}
	if (!r->frame_rec_seen || r->ended || (r->ordinal == 0) != (rec->type == REC_HEADER))
		return fail(r, ERR_INVALID, bad);
	if (delta > UINT64_MAX - r->time_us)
		return fail(r, ERR_INVALID, bad);
	r->time_us += delta;
	rec->time_us = r->time_us;
	rec->ordinal = r->ordinal++;
	if (rec->type == REC_END)
		r->ended = 1;
	if (r->from_start)
		r->records++;
	/* Already returned before a refresh re-read this torn frame. */
	if (rec->ordinal < r->skip_below)
		return 0;
	return 1;
}

/* At the end of the data: the trailer's totals must match what was read. */
static int
finish(struct rec_reader *r, int decoded)
{
	r->done = 1;
	if (!r->from_start || !r->has_trailer)
		return 0;
	if (r->frames_loaded != r->t_frames)
		return fail(r, ERR_TAMPER, (int64_t)(r->frames_loaded < r->t_frames ? r->frames_loaded : r->t_frames));
	if (memcmp(r->head, r->t_head, 32) != 0)
		return fail(r, ERR_TAMPER, -1);
	if (decoded && (r->records != r->t_records || !r->ended))
		return fail(r, ERR_TAMPER, -1);
	return 0;
}

int
rec_reader_next(struct rec_reader *r, struct rec_record *rec)
{
	int ret;

	if (r == NULL || rec == NULL)
		return ERR_INVALID;
	for (;;) {
		if (r->err)
			return r->err;
		if (r->done)
			return 0;
		if (!r->in_frame) {
			if ((ret = load_frame(r, 1, NULL, 0)) < 0)
				return ret;
			if (ret == 0)
				return finish(r, 1);
			/* The whole frame is decoded before any of its records is
			 * returned: records are released only after the frame's
			 * checksum passed, so every read of a file returns the
			 * same records whatever the buffer sizes. */
			while ((ret = decode_more(r)) == 1)
				;
			if (ret < 0)
				return ret;
			if (!r->frame_finished && !r->frame_torn)
				return fail(r, ERR_INVALID, (int64_t)r->cur_frame);
			continue;
		}
		if ((ret = parse_record(r, rec)) < 0)
			return ret;
		if (ret == 1) {
			if ((ret = accept_record(r, rec)) != 0)
				return ret;
			continue;
		}
		/* The frame is used up. */
		if (r->frame_finished && (r->rpos != r->rlen || !r->frame_rec_seen))
			return fail(r, ERR_INVALID, (int64_t)r->cur_frame); /* a record cut at the frame end */
		r->in_frame = 0;
		if (r->frame_torn) /* what is left is a record cut by the crash */
			return finish(r, 1);
	}
}

static void
reset_position(struct rec_reader *r)
{
	r->pos = r->data_start;
	r->findex = 0;
	memcpy(r->head, r->h_init, 32);
	r->from_start = 1;
	r->frames_loaded = 0;
	r->b_n = 0;
	r->in_frame = 0;
	r->rlen = r->rpos = 0;
	r->time_us = 0;
	r->ordinal = 0;
	r->records = 0;
	r->ended = 0;
	r->done = 0;
	r->err = 0;
	r->torn = 0;
	r->torn_offset = 0;
	r->bad_frame = -1;
	r->tf_loaded = 0;
	r->skip_below = 0;
}

int
rec_reader_refresh(struct rec_reader *r, int *grew)
{
	struct stat st;
	int ret;

	if (grew != NULL)
		*grew = 0;
	if (r == NULL || r->fd < 0)
		return ERR_INVALID;
	if (r->err)
		return r->err;
	if (fstat(r->fd, &st) != 0)
		return ERR_IO;
	if ((uint64_t)st.st_size < r->size)
		return fail(r, ERR_TAMPER, -1); /* a recording never shrinks */
	if ((uint64_t)st.st_size == r->size || r->has_trailer)
		return 0;
	r->size = (uint64_t)st.st_size;
	if (grew != NULL)
		*grew = 1;
	/* The writer may have closed it meanwhile. */
	if ((ret = read_trailer(r)) != 0)
		return fail(r, ret, -1);
	if (!r->done)
		return 0;
	if (r->torn && r->tf_loaded) {
		/* Read the torn frame again, now with more blocks, returning
		 * only the records not returned yet. */
		r->skip_below = r->ordinal;
		r->pos = r->tf_start;
		r->findex--;
		memcpy(r->head, r->tf_head, 32);
		r->time_us = r->tf_time;
		r->ordinal = r->tf_ordinal;
		r->records = r->tf_records;
		r->ended = r->tf_ended;
		if (r->from_start) {
			r->frames_loaded--;
			r->b_n--;
		}
	}
	r->torn = 0;
	r->torn_offset = 0;
	r->tf_loaded = 0;
	r->in_frame = 0;
	r->done = 0;
	return 0;
}

int
rec_reader_rewind(struct rec_reader *r)
{
	if (r == NULL)
		return ERR_INVALID;
	reset_position(r);
	return 0;
}

int
rec_reader_rebuild(struct rec_reader *r)
{
	struct rec_record rec;
	int ret;

	if (r == NULL)
		return ERR_INVALID;
	reset_position(r);
	while ((ret = rec_reader_next(r, &rec)) == 1)
		;
	return ret;
}

const struct rec_frame_info *
rec_reader_index(const struct rec_reader *r, size_t *n)
{
	if (r->has_trailer) {
		*n = (size_t)r->t_frames;
		return r->t_index;
	}
	*n = r->b_n;
	return r->b_index;
}

int
rec_reader_seek_frame(struct rec_reader *r, size_t k)
{
	const struct rec_frame_info *idx;
	size_t n;

	if (r == NULL)
		return ERR_INVALID;
	idx = rec_reader_index(r, &n);
	if (k >= n)
		return ERR_NOTFOUND;
	/* Copy first: reset_position clears the built index the entry may be in. */
	struct rec_frame_info e = idx[k];
	uint8_t prev[32];
	memcpy(prev, k > 0 ? idx[k - 1].chain : r->h_init, 32);
	size_t keep = r->b_n;
	reset_position(r);
	/* Reading from a seek point neither extends the rebuilt index nor
	 * counts towards the from-the-start totals (rec_reader_rewind does). */
	r->b_n = keep;
	r->from_start = 0;
	r->pos = e.offset;
	r->findex = k;
	memcpy(r->head, prev, 32);
	r->time_us = e.first_time_us;
	r->ordinal = e.first_ordinal;
	return 0;
}

int
rec_reader_seek_time(struct rec_reader *r, uint64_t time_us)
{
	const struct rec_frame_info *idx;
	size_t n, lo = 0, hi;

	if (r == NULL)
		return ERR_INVALID;
	idx = rec_reader_index(r, &n);
	if (n == 0)
		return ERR_NOTFOUND;
	/* Last frame whose first record is at or before time_us. */
	hi = n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (idx[mid].first_time_us <= time_us)
			lo = mid;
		else
			hi = mid;
	}
	return rec_reader_seek_frame(r, lo);
}

int
rec_reader_verify(struct rec_reader *r, const uint8_t *expect_head, uint64_t expect_frames,
                  const struct rec_frame_info *expect_index, size_t expect_n, int64_t *bad_frame)
{
	int ret;

	if (bad_frame != NULL)
		*bad_frame = -1;
	if (r == NULL)
		return ERR_INVALID;
	reset_position(r);
	while ((ret = load_frame(r, 0, expect_index, expect_n)) == 1)
		;
	if (ret == 0)
		ret = finish(r, 0);
	/* A frame that does not even parse fails verification like one whose
	 * hash differs. */
	if (ret == ERR_INVALID)
		ret = ERR_TAMPER;
	if (ret == 0 && expect_index != NULL && r->frames_loaded < expect_n)
		ret = fail(r, ERR_TAMPER, (int64_t)r->frames_loaded);
	if (ret == 0 && expect_head != NULL) {
		if (r->frames_loaded != expect_frames)
			ret = fail(r, ERR_TAMPER,
			           (int64_t)(r->frames_loaded < expect_frames ? r->frames_loaded : expect_frames));
		else if (memcmp(r->head, expect_head, 32) != 0)
			ret = fail(r, ERR_TAMPER, -1);
	}
	if (ret == 0 && !r->has_trailer && expect_head == NULL && expect_index == NULL)
		ret = ERR_NOTFOUND;
	if (bad_frame != NULL)
		*bad_frame = r->bad_frame;
	/* Keep the verdict readable through get_info until the caller rewinds. */
	r->done = 1;
	return ret;
}

void
rec_reader_get_info(const struct rec_reader *r, struct rec_reader_info *info)
{
	memset(info, 0, sizeof(*info));
	info->version = rec_get_be16(r->file_header + 4);
	memcpy(info->file_id, r->file_header + 8, 16);
	info->created_us = rec_get_be64(r->file_header + 24);
	info->has_trailer = r->has_trailer;
	info->ended = r->ended;
	info->torn = r->torn;
	info->torn_offset = r->torn_offset;
	info->frames = r->frames_loaded;
	info->records = r->records;
	memcpy(info->head, r->head, 32);
	info->bad_frame = r->bad_frame;
	info->trailer_frames = r->t_frames;
	info->trailer_records = r->t_records;
	memcpy(info->trailer_head, r->t_head, 32);
}

static int
reader_init(struct rec_reader *r)
{
	int ret;

	r->bad_frame = -1;
	if ((r->dctx = ZSTD_createDCtx()) == NULL)
		return ERR_NOMEM;
	/* A hostile frame header cannot make us allocate a huge window. */
	if (ZSTD_isError(ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, REC_WINDOW_LOG_MAX)))
		return ERR_INTERNAL;
	if ((ret = read_file_header(r)) != 0)
		return ret;
	if ((ret = read_trailer(r)) != 0)
		return ret;
	reset_position(r);
	return 0;
}

int
rec_reader_open_mem(const void *buf, size_t len, struct rec_reader **out)
{
	struct rec_reader *r = NULL;
	int ret = ERR_INTERNAL;

	*out = NULL;
	if (buf == NULL && len > 0)
		return ERR_INVALID;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ERR_NOMEM;
	r->fd = -1;
	r->mem = len > 0 ? buf : (const uint8_t *)"";
	r->size = len;
	if ((ret = reader_init(r)) != 0)
		goto out;
	*out = r;
	r = NULL;
	ret = 0;
out:
	rec_reader_free(r);
	return ret;
}

int
rec_reader_open(const char *path, struct rec_reader **out)
{
	struct rec_reader *r = NULL;
	struct stat st;
	int ret = ERR_INTERNAL;

	*out = NULL;
	if (path == NULL)
		return ERR_INVALID;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ERR_NOMEM;
	/* O_NONBLOCK: a FIFO planted in place of a recording must not hang the
	 * open; it is refused below as not a regular file. */
	if ((r->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) {
		ret = errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
		goto out;
	}
	if (fstat(r->fd, &st) != 0) {
		ret = ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = ERR_INVALID;
		goto out;
	}
	/* The size is taken once: a file still being written is read up to
	 * here, its unfinished frame as a torn tail. */
	r->size = (uint64_t)st.st_size;
	if ((ret = reader_init(r)) != 0)
		goto out;
	*out = r;
	r = NULL;
	ret = 0;
out:
	rec_reader_free(r);
	return ret;
}

void
rec_reader_free(struct rec_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	free(r->fbuf);
	free(r->rbuf);
	free(r->t_index);
	free(r->b_index);
	free(r);
}

int
rec_index_decode(const uint8_t *blob, size_t len, struct rec_frame_info **out, size_t *n)
{
	struct rec_frame_info *v = NULL;
	size_t cnt = len / REC_INDEX_ENTRY_LEN;

	*out = NULL;
	*n = 0;
	if (len % REC_INDEX_ENTRY_LEN != 0 || (len > 0 && blob == NULL))
		return ERR_INVALID;
	if (cnt == 0)
		return 0;
	if ((v = calloc(cnt, sizeof(*v))) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < cnt; i++)
		rec_index_entry_get(blob + i * REC_INDEX_ENTRY_LEN, &v[i]);
	*out = v;
	*n = cnt;
	return 0;
}

int
rec_index_encode(const struct rec_frame_info *v, size_t n, uint8_t **blob, size_t *len)
{
	uint8_t *b = NULL;

	*blob = NULL;
	*len = 0;
	if (n == 0)
		return 0;
	if (v == NULL || n > SIZE_MAX / REC_INDEX_ENTRY_LEN)
		return ERR_INVALID;
	if ((b = malloc(n * REC_INDEX_ENTRY_LEN)) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		rec_index_entry_put(b + i * REC_INDEX_ENTRY_LEN, &v[i]);
	*blob = b;
	*len = n * REC_INDEX_ENTRY_LEN;
	return 0;
}

void
rec_hash_hex(const uint8_t hash[32], char hex[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[hash[i] >> 4];
		hex[2 * i + 1] = digits[hash[i] & 15];
	}
	hex[64] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
rec_hash_parse(const char *hex, uint8_t hash[32])
{
	if (hex == NULL || strlen(hex) != 64)
		return ERR_INVALID;
	for (int i = 0; i < 32; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ERR_INVALID;
		hash[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

const char *
rec_type_name(unsigned type)
{
	static const char *const names[] = {
	        [REC_HEADER] = "header",
	        [REC_CHANNEL_OPEN] = "channel-open",
	        [REC_CHANNEL_CLOSE] = "channel-close",
	        [REC_DATA_IN] = "data-in",
	        [REC_DATA_OUT] = "data-out",
	        [REC_DATA_ERR] = "data-err",
	        [REC_RESIZE] = "resize",
	        [REC_PTY] = "pty",
	        [REC_EXIT_STATUS] = "exit-status",
	        [REC_EXIT_SIGNAL] = "exit-signal",
	        [REC_EOF_IN] = "eof-in",
	        [REC_EOF_OUT] = "eof-out",
	        [REC_INPUT_REDACTED] = "input-redacted",
	        [REC_MARK] = "mark",
	        [REC_END] = "end",
	        [REC_FRAME] = "frame",
	        [REC_INPUT_SEALED] = "input-sealed",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type] != NULL)
		return names[type];
	return "unknown";
}
