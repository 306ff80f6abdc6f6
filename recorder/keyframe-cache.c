/* The keyframe cache of a recording: built by replaying it once, kept in a
 * sidecar file RECORDING.ghkf bound to the recording's identity and chain
 * head, loaded as untrusted input. See keyframe.h and docs/replay.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <zstd.h>

#include "common/err.h"
#include "recorder/keyframe.h"
#include "recorder/rec-reader.h"

#define CACHE_MAGIC   "GHKF"
#define CACHE_VERSION 1
#define CACHE_MAX     (256u * 1024 * 1024)
#define CACHE_HDR     (4 + 2 + 2 + 16 + 8 + 32 + 4)
#define ENTRY_HDR     (4 + 8 + 8 + 8 + 4)

struct kf_cache {
	struct kf_entry *v;
	size_t n, cap;
	uint8_t *mem; /* decoded cache: blobs point into it */
};

/* ---- applying records ------------------------------------------------------ */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int
kf_apply_record(struct kf_term **t, uint32_t channel, const struct rec_record *rec)
{
	json_t *j = NULL;
	int cols = 80, rows = 24, r = 0;

	if (rec->channel != channel)
		return 0;
	switch (rec->type) {
	case REC_PTY:
		j = json_loadb((const char *)rec->data, rec->len, 0, NULL);
		if (j != NULL) {
			json_t *c = json_object_get(j, "cols"), *rw = json_object_get(j, "rows");

			if (json_is_integer(c) && json_integer_value(c) > 0 && json_integer_value(c) < 100000)
				cols = (int)json_integer_value(c);
			if (json_is_integer(rw) && json_integer_value(rw) > 0 && json_integer_value(rw) < 100000)
				rows = (int)json_integer_value(rw);
			json_decref(j);
		}
		if (*t == NULL)
			return kf_term_new(cols, rows, t) == 0 ? 1 : ERR_NOMEM;
		kf_term_resize(*t, cols, rows);
		return 1;
	case REC_RESIZE:
		if (*t == NULL || rec->len != 4)
			return 0;
		cols = be16(rec->data);
		rows = be16(rec->data + 2);
		if (cols == 0 || rows == 0)
			return 0;
		kf_term_resize(*t, cols, rows);
		return 1;
	case REC_DATA_OUT:
	case REC_DATA_ERR:
		if (*t == NULL)
			return 0;
		kf_term_write(*t, rec->data, rec->len);
		return 1;
	default: break;
	}
	return r;
}

int
kf_term_compare(struct kf_term *a, struct kf_term *b, int full, char *why, size_t whylen)
{
	uint8_t *ba = NULL, *bb = NULL;
	size_t la = 0, lb = 0;
	int ac, ar, bc, br, row, col, va, vb, alta, altb, r = ERR_INTERNAL;
	int pa_r, pa_c, pb_r, pb_c;

	kf_term_size(a, &ac, &ar);
	kf_term_size(b, &bc, &br);
	if (ac != bc || ar != br) {
		snprintf(why, whylen, "size %dx%d vs %dx%d", ac, ar, bc, br);
		return 1;
	}
	kf_term_cursor(a, &pa_r, &pa_c, &va, &alta);
	kf_term_cursor(b, &pb_r, &pb_c, &vb, &altb);
	if (pa_r != pb_r || pa_c != pb_c || va != vb || alta != altb) {
		snprintf(why, whylen, "cursor %d,%d vis %d alt %d vs %d,%d vis %d alt %d", pa_r, pa_c, va, alta, pb_r,
		         pb_c, vb, altb);
		return 1;
	}
	for (row = 0; row < ar; row++) {
		for (col = 0; col < ac; col++) {
			VTermScreenCell x, y;
			VTermPos pos = {row, col};

			memset(&x, 0, sizeof(x));
			memset(&y, 0, sizeof(y));
			vterm_screen_get_cell(kf_term_screen(a), pos, &x);
			vterm_screen_get_cell(kf_term_screen(b), pos, &y);
			/* Compare what is shown: up to the first 0, and only
			 * the marker of a wide glyph's right half. */
			for (int k = 0; k < VTERM_MAX_CHARS_PER_CELL; k++) {
				if (x.chars[k] == 0 || (k > 0 && x.chars[0] == (uint32_t)-1)) {
					memset(x.chars + k, 0, sizeof(x.chars) - k * sizeof(x.chars[0]));
					break;
				}
			}
			for (int k = 0; k < VTERM_MAX_CHARS_PER_CELL; k++) {
				if (y.chars[k] == 0 || (k > 0 && y.chars[0] == (uint32_t)-1)) {
					memset(y.chars + k, 0, sizeof(y.chars) - k * sizeof(y.chars[0]));
					break;
				}
			}
			if (memcmp(x.chars, y.chars, sizeof(x.chars)) != 0 || x.width != y.width ||
			    memcmp(&x.attrs, &y.attrs, sizeof(x.attrs)) != 0 || !vterm_color_is_equal(&x.fg, &y.fg) ||
			    !vterm_color_is_equal(&x.bg, &y.bg) || x.fg.type != y.fg.type || x.bg.type != y.bg.type) {
				snprintf(why, whylen,
				         "cell %d,%d: U+%04X+%04X w%d fg%d bg%d vs U+%04X+%04X w%d fg%d bg%d%s", row,
				         col, (unsigned)x.chars[0], (unsigned)x.chars[1], x.width, x.fg.type, x.bg.type,
				         (unsigned)y.chars[0], (unsigned)y.chars[1], y.width, y.fg.type, y.bg.type,
				         memcmp(&x.attrs, &y.attrs, sizeof(x.attrs)) != 0 ? " (attributes)" : "");
				return 1;
			}
		}
	}
	if (!full || !kf_term_safe(a) || !kf_term_safe(b))
		return 0; /* the visible state is equal; the rest cannot be read now */
	if ((r = kf_term_snapshot(a, &ba, &la)) != 0 || (r = kf_term_snapshot(b, &bb, &lb)) != 0) {
		if (r == ERR_BUSY)
			r = 0; /* not at a point where the rest can be read */
		goto out;
	}
	if (la != lb || memcmp(ba, bb, la) != 0) {
		size_t i = 0;

		while (i < la && i < lb && ba[i] == bb[i])
			i++;
		snprintf(why, whylen, "snapshots differ at byte %zu (modes, pen, saved cursor or hidden screen)", i);
		r = 1;
		goto out;
	}
	r = 0;
out:
	free(ba);
	free(bb);
	return r;
}

/* ---- building ---------------------------------------------------------------- */

struct chan_state {
	uint32_t channel;
	struct kf_term *t;
	uint64_t since; /* output bytes since the last keyframe */
};

static int
cache_add(struct kf_cache *c, uint32_t channel, uint64_t ordinal, uint64_t time_us, uint8_t *blob, size_t len)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct kf_entry *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL)
			return ERR_NOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n].channel = channel;
	c->v[c->n].ordinal = ordinal;
	c->v[c->n].time_us = time_us;
	c->v[c->n].frame = 0;
	c->v[c->n].blob = blob;
	c->v[c->n].len = len;
	c->n++;
	return 0;
}

/* Frame holding the record after `ordinal`: where reading resumes. */
static uint64_t
frame_of(const struct rec_frame_info *idx, size_t n, uint64_t ordinal)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (idx[mid].first_ordinal <= ordinal + 1)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int
kf_cache_build(struct rec_reader *rd, size_t interval, struct kf_cache **out)
{
	struct kf_cache *c = NULL;
	struct chan_state *ch = NULL;
	size_t nch = 0, i, nidx;
	struct rec_record rec;
	const struct rec_frame_info *idx;
	int r = ERR_INTERNAL, n;

	*out = NULL;
	if (interval == 0)
		interval = KF_DEFAULT_INTERVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	if ((r = rec_reader_rewind(rd)) != 0)
		goto out;
	while ((n = rec_reader_next(rd, &rec)) == 1) {
		struct chan_state *cs = NULL;

		for (i = 0; i < nch; i++)
			if (ch[i].channel == rec.channel)
				cs = &ch[i];
		if (rec.type == REC_PTY && cs == NULL) {
			struct chan_state *v = realloc(ch, (nch + 1) * sizeof(*v));

			if (v == NULL) {
				r = ERR_NOMEM;
				goto out;
			}
			ch = v;
			cs = &ch[nch++];
			memset(cs, 0, sizeof(*cs));
			cs->channel = rec.channel;
		}
		if (cs == NULL)
			continue;
		if (rec.type == REC_CHANNEL_CLOSE) {
			kf_term_free(cs->t);
			cs->t = NULL;
			continue;
		}
		if ((r = kf_apply_record(&cs->t, cs->channel, &rec)) < 0)
			goto out;
		if (rec.type == REC_DATA_OUT || rec.type == REC_DATA_ERR)
			cs->since += rec.len;
		if (cs->t != NULL && cs->since >= interval && kf_term_safe(cs->t)) {
			uint8_t *blob = NULL;
			size_t len = 0;

			r = kf_term_snapshot(cs->t, &blob, &len);
			if (r == ERR_BUSY)
				continue;
			if (r != 0 || (r = cache_add(c, cs->channel, rec.ordinal, rec.time_us, blob, len)) != 0) {
				free(blob);
				goto out;
			}
			cs->since = 0;
		}
	}
	if (n < 0) {
		r = n;
		goto out;
	}
	idx = rec_reader_index(rd, &nidx);
	for (i = 0; i < c->n; i++)
		c->v[i].frame = nidx > 0 ? frame_of(idx, nidx, c->v[i].ordinal) : 0;
	*out = c;
	c = NULL;
	r = 0;
out:
	for (i = 0; i < nch; i++)
		kf_term_free(ch[i].t);
	free(ch);
	kf_cache_free(c);
	rec_reader_rewind(rd);
	return r;
}

void
kf_cache_free(struct kf_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->mem == NULL)
		for (i = 0; i < c->n; i++)
			free((void *)c->v[i].blob);
	free(c->mem);
	free(c->v);
	free(c);
}

size_t
kf_cache_count(const struct kf_cache *c)
{
	return c != NULL ? c->n : 0;
}

const struct kf_entry *
kf_cache_entry(const struct kf_cache *c, size_t i)
{
	return c != NULL && i < c->n ? &c->v[i] : NULL;
}

const struct kf_entry *
kf_cache_find(const struct kf_cache *c, uint32_t channel, uint64_t time_us)
{
	const struct kf_entry *best = NULL;
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->n; i++)
		if (c->v[i].channel == channel && c->v[i].time_us <= time_us)
			best = &c->v[i];
	return best;
}

/* ---- the file ---------------------------------------------------------------- */

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int
sha256(const uint8_t *p, size_t len, uint8_t md[32])
{
	unsigned int mdlen = 0;

	return EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32 ? 0 : ERR_CRYPTO;
}

int
kf_cache_encode(const struct kf_cache *c, const uint8_t file_id[16], uint64_t frames, const uint8_t head[32],
                uint8_t **blob, size_t *len)
{
	size_t total = CACHE_HDR + 32, i, off;
	uint8_t *p = NULL;
	int r = ERR_INTERNAL;

	*blob = NULL;
	*len = 0;
	for (i = 0; i < c->n; i++)
		total += ENTRY_HDR + c->v[i].len;
	if (total > CACHE_MAX || c->n > UINT32_MAX)
		return ERR_FULL;
	if ((p = malloc(total)) == NULL)
		return ERR_NOMEM;
	memcpy(p, CACHE_MAGIC, 4);
	put_be(p + 4, CACHE_VERSION, 2);
	put_be(p + 6, 0, 2);
	memcpy(p + 8, file_id, 16);
	put_be(p + 24, frames, 8);
	memcpy(p + 32, head, 32);
	put_be(p + 64, c->n, 4);
	off = CACHE_HDR;
	for (i = 0; i < c->n; i++) {
		put_be(p + off, c->v[i].channel, 4);
		put_be(p + off + 4, c->v[i].ordinal, 8);
		put_be(p + off + 12, c->v[i].time_us, 8);
		put_be(p + off + 20, c->v[i].frame, 8);
		put_be(p + off + 28, c->v[i].len, 4);
		memcpy(p + off + ENTRY_HDR, c->v[i].blob, c->v[i].len);
		off += ENTRY_HDR + c->v[i].len;
	}
	if ((r = sha256(p, off, p + off)) != 0)
		goto out;
	*blob = p;
	*len = total;
	p = NULL;
	r = 0;
out:
	free(p);
	return r;
}

int
kf_cache_decode(const uint8_t *blob, size_t len, const uint8_t file_id[16], uint64_t frames, const uint8_t head[32],
                struct kf_cache **out)
{
	struct kf_cache *c = NULL;
	uint8_t md[32];
	size_t off, i, count;
	int r = ERR_INVALID;

	*out = NULL;
	if (len < CACHE_HDR + 32 || len > CACHE_MAX || memcmp(blob, CACHE_MAGIC, 4) != 0 ||
	    get_be(blob + 4, 2) != CACHE_VERSION || get_be(blob + 6, 2) != 0)
		return ERR_INVALID;
	if (sha256(blob, len - 32, md) != 0)
		return ERR_CRYPTO;
	if (memcmp(md, blob + len - 32, 32) != 0)
		return ERR_INVALID;
	/* Made for another file, or for another state of this one. */
	if (memcmp(blob + 8, file_id, 16) != 0 || get_be(blob + 24, 8) != frames || memcmp(blob + 32, head, 32) != 0)
		return ERR_TAMPER;
	count = (size_t)get_be(blob + 64, 4);
	if (count > (len - CACHE_HDR - 32) / ENTRY_HDR)
		return ERR_INVALID;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	if ((c->mem = malloc(len)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	memcpy(c->mem, blob, len);
	if (count > 0 && (c->v = calloc(count, sizeof(*c->v))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	c->cap = count;
	off = CACHE_HDR;
	for (i = 0; i < count; i++) {
		struct kf_entry *e = &c->v[i];

		if (len - 32 - off < ENTRY_HDR)
			goto out;
		e->channel = (uint32_t)get_be(c->mem + off, 4);
		e->ordinal = get_be(c->mem + off + 4, 8);
		e->time_us = get_be(c->mem + off + 12, 8);
		e->frame = get_be(c->mem + off + 20, 8);
		e->len = (size_t)get_be(c->mem + off + 28, 4);
		off += ENTRY_HDR;
		if (e->len > len - 32 - off || e->frame >= frames)
			goto out;
		e->blob = c->mem + off;
		off += e->len;
		/* Per channel, keyframes come in recording order. */
		for (size_t k = i; k-- > 0;)
			if (c->v[k].channel == e->channel) {
				if (c->v[k].ordinal >= e->ordinal || c->v[k].time_us > e->time_us)
					goto out;
				break;
			}
		c->n++;
	}
	if (off != len - 32)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
out:
	kf_cache_free(c);
	return r;
}

static char *
cache_path(const char *rec_path)
{
	size_t n = strlen(rec_path);
	char *p = malloc(n + 6);

	if (p == NULL)
		return NULL;
	memcpy(p, rec_path, n + 1);
	if (n > 6 && strcmp(p + n - 6, ".ghrec") == 0)
		strcpy(p + n - 6, ".ghkf");
	else
		strcat(p, ".ghkf");
	return p;
}

static int
read_small_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat sb;
	uint8_t *p = NULL;
	size_t got = 0;
	int fd, r = ERR_IO;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 || (uint64_t)sb.st_size > CACHE_MAX) {
		r = ERR_INVALID;
		goto out;
	}
	if ((p = malloc((size_t)sb.st_size)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t k = read(fd, p + got, (size_t)sb.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto out;
		got += (size_t)k;
	}
	*buf = p;
	*len = got;
	p = NULL;
	r = 0;
out:
	free(p);
	close(fd);
	return r;
}

/* Write to a temporary name and rename, so a reader never sees half a
 * cache and a link planted at the final name is replaced, not followed. */
static int
write_file_atomic(const char *path, const uint8_t *buf, size_t len)
{
	char *tmp = NULL;
	size_t off = 0;
	int fd = -1, r = ERR_IO;

	if (asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) < 0)
		return ERR_NOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	while (off < len) {
		ssize_t k = write(fd, buf + off, len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto out;
		off += (size_t)k;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0)
		unlink(tmp);
	free(tmp);
	return r;
}

/* The file: "GHKZ" and one zstd frame holding the encoded cache (cell
 * grids compress about tenfold). */
#define FILE_MAGIC "GHKZ"

static int
file_unpack(const uint8_t *buf, size_t len, uint8_t **plain, size_t *plen)
{
	unsigned long long n;
	uint8_t *p = NULL;
	size_t got;

	*plain = NULL;
	if (len < 4 || memcmp(buf, FILE_MAGIC, 4) != 0)
		return ERR_INVALID;
	n = ZSTD_getFrameContentSize(buf + 4, len - 4);
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n == 0 || n > CACHE_MAX)
		return ERR_INVALID;
	if ((p = malloc((size_t)n)) == NULL)
		return ERR_NOMEM;
	got = ZSTD_decompress(p, (size_t)n, buf + 4, len - 4);
	if (ZSTD_isError(got) || got != n) {
		free(p);
		return ERR_INVALID;
	}
	*plain = p;
	*plen = got;
	return 0;
}

static int
file_pack(const uint8_t *plain, size_t plen, uint8_t **buf, size_t *len)
{
	size_t cap = ZSTD_compressBound(plen) + 4, n;
	uint8_t *p = malloc(cap);

	*buf = NULL;
	if (p == NULL)
		return ERR_NOMEM;
	memcpy(p, FILE_MAGIC, 4);
	n = ZSTD_compress(p + 4, cap - 4, plain, plen, 3);
	if (ZSTD_isError(n)) {
		free(p);
		return ERR_INTERNAL;
	}
	*buf = p;
	*len = n + 4;
	return 0;
}

int
kf_cache_load(struct rec_reader *rd, const char *rec_path, struct kf_cache **out)
{
	struct rec_reader_info info;
	uint8_t *buf = NULL, *plain = NULL;
	size_t len = 0, plen = 0;
	char *path = NULL;
	int r = ERR_NOTFOUND;

	*out = NULL;
	rec_reader_get_info(rd, &info);
	if (!info.has_trailer || rec_path == NULL)
		return ERR_NOTFOUND;
	if ((path = cache_path(rec_path)) == NULL)
		return ERR_NOMEM;
	if (read_small_file(path, &buf, &len) == 0 && file_unpack(buf, len, &plain, &plen) == 0 &&
	    kf_cache_decode(plain, plen, info.file_id, info.trailer_frames, info.trailer_head, out) == 0)
		r = 0;
	free(plain);
	free(buf);
	free(path);
	return r;
}

int
kf_cache_open(struct rec_reader *rd, const char *rec_path, struct kf_cache **out, int *loaded)
{
	struct rec_reader_info info;
	struct kf_cache *c = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	char *path = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	*loaded = 0;
	rec_reader_get_info(rd, &info);
	if (info.has_trailer && rec_path != NULL && (path = cache_path(rec_path)) != NULL) {
		uint8_t *plain = NULL;
		size_t plen = 0;

		if (read_small_file(path, &buf, &len) == 0 && file_unpack(buf, len, &plain, &plen) == 0 &&
		    kf_cache_decode(plain, plen, info.file_id, info.trailer_frames, info.trailer_head, &c) == 0) {
			free(plain);
			*out = c;
			*loaded = 1;
			r = 0;
			goto out;
		}
		free(plain);
		free(buf);
		buf = NULL;
	}
	if ((r = kf_cache_build(rd, 0, &c)) != 0)
		goto out;
	if (path != NULL && kf_cache_encode(c, info.file_id, info.trailer_frames, info.trailer_head, &buf, &len) == 0) {
		uint8_t *packed = NULL;
		size_t plen = 0;

		if (file_pack(buf, len, &packed, &plen) == 0)
			(void)write_file_atomic(path, packed, plen); /* not writable: memory only */
		free(packed);
	}
	*out = c;
	r = 0;
out:
	free(buf);
	free(path);
	return r;
}
