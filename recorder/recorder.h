/* Session recording writer (see docs/recording-format.md).
 *
 * One file per connection. Records are appended to an in-memory zstd frame;
 * a frame is closed and written when it reaches ~1 MiB of records, or on age
 * (60 s for a frame holding 256 KiB or more, 10 min for smaller ones), and
 * data is flushed to the file at least once a second (rec_tick), so a crash
 * loses at most about a second. */
#ifndef GH_RECORDER_H
#define GH_RECORDER_H

#include <stddef.h>
#include <stdint.h>

struct rec_writer;

enum rec_type {
	REC_HEADER = 1,       /* session metadata (JSON), first record */
	REC_CHANNEL_OPEN = 2, /* payload: JSON {type, command?, subsystem?} */
	REC_CHANNEL_CLOSE = 3,
	REC_DATA_IN = 4,      /* operator -> target bytes */
	REC_DATA_OUT = 5,     /* target -> operator stdout */
	REC_DATA_ERR = 6,     /* target -> operator stderr (extended data) */
	REC_RESIZE = 7,       /* payload: cols u16, rows u16 (big endian) */
	REC_PTY = 8,          /* payload: JSON {term, cols, rows} */
	REC_EXIT_STATUS = 9,  /* payload: u32 status */
	REC_EXIT_SIGNAL = 10, /* payload: signal name */
	REC_EOF_IN = 11,
	REC_EOF_OUT = 12,
	REC_INPUT_REDACTED = 13, /* payload: u32 length of unechoed input not stored */
	REC_MARK = 14,           /* payload: text (e.g. "terminated by auditor") */
	REC_END = 15,            /* payload: end reason text; last record */
	REC_FRAME = 16,          /* written by the writer only: first record of every zstd frame
	                            (absolute time, frame index, next ordinal); readers hide it */
	REC_INPUT_SEALED = 17,   /* payload: input typed without echo after a prompt for a secret,
	                            sealed to the recording-seal key (common/seal.h); the AAD binds
	                            it to the session, channel and this record's ordinal */
};

/* Largest payload of one record; rec_write refuses more (ERR_INVALID), a
 * reader treats more as corruption. Callers split larger data. */
#define REC_MAX_PAYLOAD (16u * 1024 * 1024)

/* One entry of the seek index: one per zstd frame. */
struct rec_frame_info {
	uint64_t offset;        /* file offset of the frame's first byte */
	uint64_t size;          /* compressed size of the frame in bytes */
	uint64_t first_time_us; /* absolute time of the frame's first record (µs since the epoch) */
	uint64_t first_ordinal; /* ordinal of the frame's first record (REC_HEADER is 0) */
	uint8_t chain[32];      /* chain head after this frame */
};

/* Create path (O_EXCL|O_NOFOLLOW, 0600) and write the header record (JSON
 * metadata), flushed at once. ERR_EXISTS when the path exists. On failure
 * the file is removed again. */
int rec_writer_open(const char *path, const char *header_json, struct rec_writer **out);
/* Append a record stamped with the current time. Types REC_HEADER, REC_END
 * and REC_FRAME are the writer's own (ERR_INVALID); REC_RESIZE,
 * REC_EXIT_STATUS and REC_INPUT_REDACTED need their 4-byte payload. */
int rec_write(struct rec_writer *w, enum rec_type type, uint32_t channel, const void *data, size_t len);
/* Call at least once a second: flushes pending records if due (pending data
 * and about a second since the last flush, or pending data older than a
 * second), ends a frame that is old enough and then releases the compressor. */
int rec_tick(struct rec_writer *w);
/* Flush everything now (a crash after this loses nothing written before). */
int rec_flush(struct rec_writer *w);
/* Milliseconds until pending data is due to be flushed (0 = now), -1 when
 * nothing is pending: a caller may use it as its poll timeout and call
 * rec_tick when it expires. */
int64_t rec_writer_flush_due_ms(const struct rec_writer *w);
/* Write the end record, close the frame, write the trailer index, fsync,
 * close the file. Does not free: read rec_writer_chain() afterwards (the
 * head then covers every frame), then call rec_writer_free(). */
int rec_writer_close(struct rec_writer *w, const char *end_reason);
/* Frees (closing the file) without writing an end record (for the aborted
 * path); records not yet flushed are lost. NULL is a no-op. */
void rec_writer_free(struct rec_writer *w);
/* After a failure every further call returns the same error (ERR_FULL when
 * the disk is full, ERR_IO otherwise); 0 while healthy. */
int rec_writer_error(const struct rec_writer *w);
/* Chain head (hex, 65 bytes) and number of completed frames so far. */
void rec_writer_chain(const struct rec_writer *w, char head_hex[65], uint64_t *frames);
/* Bytes written to the file so far. */
uint64_t rec_writer_bytes(const struct rec_writer *w);
/* The ordinal the next record written will have (for the associated data
 * of a sealed record, which names its own position). */
uint64_t rec_writer_next_ordinal(const struct rec_writer *w);
/* The seek index of the completed frames, encoded as in the trailer (64
 * bytes per frame, see the format spec), for the database's rec_index
 * column. *blob is malloc'ed (NULL with *len 0 when there is no frame). */
int rec_writer_index(const struct rec_writer *w, uint8_t **blob, size_t *len);

/* For tests, benchmarks and tools that generate synthetic recordings:
 * explicit clocks (absolute µs since the epoch; a time before the previous
 * record's is taken as equal to it), frame limits and compression level. */
int rec_write_at(struct rec_writer *w, enum rec_type type, uint32_t channel, const void *data, size_t len,
                 uint64_t now_us);
int rec_tick_at(struct rec_writer *w, uint64_t now_us);
int rec_writer_close_at(struct rec_writer *w, const char *end_reason, uint64_t now_us);
/* frame_bytes: record bytes per frame (default 1 MiB, at most 8 MiB);
 * frame_us: frame age (default: 60 s once the frame holds 256 KiB, 10 min
 * in any case); setting it makes it the one age limit. 0 keeps a value. */
void rec_writer_set_limits(struct rec_writer *w, uint64_t frame_bytes, uint64_t frame_us);
/* zstd level for frames started from now on. Default: 3, and 1 for a frame
 * that follows one filled in under 10 s (bulk data); setting a level makes
 * it the level of every frame. */
void rec_writer_set_level(struct rec_writer *w, int level);

#endif
