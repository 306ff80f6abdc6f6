/* Session recording reader (format: docs/recording-format.md, version 1).
 *
 * Every byte of a recording is untrusted: the reader bounds every length,
 * checks the structure of every frame before decoding it, and follows the
 * SHA-256 frame chain while it reads. Typical use:
 *
 *	rec_reader_open(path, &r);
 *	while ((n = rec_reader_next(r, &rec)) == 1)
 *		... rec.type, rec.channel, rec.time_us, rec.data, rec.len ...
 *	if (n < 0) error (ERR_TAMPER: see info.bad_frame)
 *	rec_reader_get_info(r, &info);   info.torn: crash tail, info.has_trailer ...
 */
#ifndef GH_REC_READER_H
#define GH_REC_READER_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/recorder.h"

struct rec_reader;

struct rec_record {
	unsigned type; /* enum rec_type; unknown (newer) types are returned as they are */
	uint32_t channel;
	uint64_t time_us;    /* absolute, microseconds since the Unix epoch */
	uint64_t ordinal;    /* position in the recording, REC_HEADER is 0 */
	const uint8_t *data; /* valid until the next call on the reader */
	size_t len;
};

struct rec_reader_info {
	uint16_t version;        /* format version of the file */
	uint8_t file_id[16];     /* random id chosen by the writer */
	uint64_t created_us;     /* when the writer opened the file */
	int has_trailer;         /* a trailer index was found at the end */
	int ended;               /* the REC_END record was read */
	int torn;                /* the file ends inside a frame (crash): see torn_offset */
	uint64_t torn_offset;    /* first byte not used: what follows is an unfinished block */
	uint64_t frames;         /* frames read from the start, a used torn frame included */
	uint64_t records;        /* records returned from the start */
	uint8_t head[32];        /* chain head over those frames */
	int64_t bad_frame;       /* first frame that failed verification, -1 if none or unknown */
	uint64_t trailer_frames; /* the trailer's frame count, record count and head */
	uint64_t trailer_records;
	uint8_t trailer_head[32];
};

/* Open a file (O_NOFOLLOW) or a memory buffer (not copied: it must outlive
 * the reader). ERR_INVALID for something that is not a version-1 recording
 * or has a malformed trailer. */
int rec_reader_open(const char *path, struct rec_reader **out);
int rec_reader_open_mem(const void *buf, size_t len, struct rec_reader **out);
void rec_reader_free(struct rec_reader *r);

/* Next record: 1 with *rec filled, 0 at the end (a clean end or a torn tail:
 * see rec_reader_get_info), or a negative error: ERR_INVALID for a malformed
 * file, ERR_TAMPER when a frame disagrees with the chain, the trailer or its
 * own position (info.bad_frame names it). Errors are sticky. */
int rec_reader_next(struct rec_reader *r, struct rec_record *rec);
void rec_reader_get_info(const struct rec_reader *r, struct rec_reader_info *info);

/* Following a live recording (file readers only): after rec_reader_next
 * returned 0, look at the file again; if it grew, the next calls return the
 * records written since, including the rest of a frame that was torn (being
 * written) before. *grew says whether there was anything new. ERR_TAMPER if
 * the file shrank. */
int rec_reader_refresh(struct rec_reader *r, int *grew);
/* Back to the first record (clears errors and the rebuilt index). */
int rec_reader_rewind(struct rec_reader *r);
/* Read the whole file from the start (crash recovery when there is no
 * trailer): afterwards rec_reader_index and the info's head/frames describe
 * it. Returns 0 for a readable file, torn or not. */
int rec_reader_rebuild(struct rec_reader *r);
/* The seek index: the trailer's when present, else the one rebuilt while
 * reading from the start (complete after rec_reader_rebuild). */
const struct rec_frame_info *rec_reader_index(const struct rec_reader *r, size_t *n);
/* Continue reading at frame k of the index, or at the last frame starting
 * at or before time_us; the caller skips records before the time it wants. */
int rec_reader_seek_frame(struct rec_reader *r, size_t k);
int rec_reader_seek_time(struct rec_reader *r, uint64_t time_us);

/* Verify the chain without decompressing: every frame's structure and hash
 * against the trailer (when present) and against what the caller expects
 * (from the database; expect_head NULL = nothing, expect_index NULL = no
 * per-frame reference). 0 when everything matches, ERR_TAMPER with
 * *bad_frame set (-1 when the faulty frame cannot be named, e.g. only the
 * final head differs), ERR_NOTFOUND when there was nothing to compare with
 * (no trailer, no expectation). Afterwards rec_reader_get_info describes
 * the pass; call rec_reader_rewind before reading records. */
int rec_reader_verify(struct rec_reader *r, const uint8_t *expect_head, uint64_t expect_frames,
                      const struct rec_frame_info *expect_index, size_t expect_n, int64_t *bad_frame);

/* The database form of the index (rec_writer_index): 64 bytes per frame.
 * encode: *blob is malloc'ed (NULL with *len 0 for n == 0). */
int rec_index_decode(const uint8_t *blob, size_t len, struct rec_frame_info **out, size_t *n);
int rec_index_encode(const struct rec_frame_info *v, size_t n, uint8_t **blob, size_t *len);
void rec_hash_hex(const uint8_t hash[32], char hex[65]);
/* 64 hex digits (either case) to 32 bytes; ERR_INVALID otherwise. */
int rec_hash_parse(const char *hex, uint8_t hash[32]);
/* Name of a record type ("data-out"), "unknown" otherwise. */
const char *rec_type_name(unsigned type);

#endif
