/* libFuzzer target for the recording reader: arbitrary bytes as a recording
 * file (rec_reader_open_mem). Checks the invariants the player relies on,
 * not only the absence of crashes: ordinals are consecutive, times never go
 * back, payloads are bounded, a second read (rebuild) gives the same records
 * and chain head, seeking to any indexed frame is safe, and verification
 * agrees with what the reader found.
 *
 * Seeds (corpus/fuzz_rec_reader/) were written by the recorder's writer
 * (closed, crash copies, cut inside the trailer) plus files whose frames
 * are stored without zstd checksums and mostly as raw blocks, so that
 * mutations reach the record parser instead of the zstd checksum. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/rec-reader.h"

static int
read_all(struct rec_reader *r, uint64_t *count, uint64_t *sum)
{
	struct rec_record rec;
	uint64_t last_time = 0, n = 0, s = 0;
	int ret;

	while ((ret = rec_reader_next(r, &rec)) == 1) {
		if (rec.ordinal != n || rec.time_us < last_time || rec.len > REC_MAX_PAYLOAD)
			abort();
		if (rec.type == REC_FRAME) /* structural records are never returned */
			abort();
		if (n == 0 && rec.type != REC_HEADER)
			abort();
		for (size_t i = 0; i < rec.len; i++) /* ASan checks the payload is really there */
			s += rec.data[i];
		s += rec.type + rec.channel + rec.time_us;
		last_time = rec.time_us;
		n++;
	}
	*count = n;
	*sum = s;
	return ret;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_reader *r = NULL;
	struct rec_reader_info a, b;
	struct rec_record rec;
	const struct rec_frame_info *idx;
	uint64_t n1, s1, n2, s2;
	size_t n;
	int ret1, ret2, v;
	int64_t bad;

	/* An exact-size copy: any read past the end is caught by ASan. */
	uint8_t *copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (rec_reader_open_mem(copy, size, &r) != 0)
		goto out;
	ret1 = read_all(r, &n1, &s1);
	rec_reader_get_info(r, &a);
	if (ret1 > 0 || (ret1 < 0 && ret1 != ERR_INVALID && ret1 != ERR_TAMPER && ret1 != ERR_NOMEM))
		abort();
	if (a.records != n1)
		abort();

	/* Reading again from the start gives the same answer. */
	ret2 = rec_reader_rebuild(r);
	rec_reader_get_info(r, &b);
	if (ret2 != ret1 || b.records != n1 || b.frames != a.frames || memcmp(a.head, b.head, 32) != 0 ||
	    b.torn != a.torn || b.torn_offset != a.torn_offset)
		abort();
	(void)s1;

	/* A clean read verifies against its own head; a failed one does not. */
	v = rec_reader_verify(r, a.head, a.frames, NULL, 0, &bad);
	if (ret1 == 0 && v != 0)
		abort();
	if (ret1 == ERR_TAMPER && a.bad_frame >= 0 && v == 0 && a.has_trailer)
		abort();

	/* Seek to each frame of whatever index exists and read a little. */
	rec_reader_rewind(r);
	if (ret1 == 0)
		rec_reader_rebuild(r);
	idx = rec_reader_index(r, &n);
	(void)idx;
	for (size_t k = 0; k < n && k < 16; k++) {
		if (rec_reader_seek_frame(r, k) != 0)
			abort();
		for (int i = 0; i < 4 && rec_reader_next(r, &rec) == 1; i++)
			;
	}
	if (n > 0) {
		rec_reader_seek_time(r, 0);
		rec_reader_seek_time(r, UINT64_MAX);
		if (rec_reader_next(r, &rec) < 0 && ret1 == 0 && !a.has_trailer)
			abort(); /* the built index came from a clean read */
	}
	rec_reader_rewind(r);
	ret2 = read_all(r, &n2, &s2);
	if (ret2 != ret1 || n2 != n1 || s2 != s1)
		abort();
out:
	rec_reader_free(r);
	free(copy);
	return 0;
}
