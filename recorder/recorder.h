/* Session recording writer (see docs/recording-format.md).
 *
 * One file per connection. Records are appended to an in-memory zstd frame;
 * a frame is closed and written when it reaches ~1 MiB of records, when 60 s
 * have passed, and data is flushed to the file at least once a second
 * (rec_tick), so a crash loses at most about a second. */
#ifndef GH_RECORDER_H
#define GH_RECORDER_H

#include <stddef.h>
#include <stdint.h>

struct rec_writer;

enum rec_type {
	REC_HEADER = 1,      /* session metadata (JSON), first record */
	REC_CHANNEL_OPEN = 2,/* payload: JSON {type, command?, subsystem?} */
	REC_CHANNEL_CLOSE = 3,
	REC_DATA_IN = 4,     /* operator -> target bytes */
	REC_DATA_OUT = 5,    /* target -> operator stdout */
	REC_DATA_ERR = 6,    /* target -> operator stderr (extended data) */
	REC_RESIZE = 7,      /* payload: cols u16, rows u16 (big endian) */
	REC_PTY = 8,         /* payload: JSON {term, cols, rows} */
	REC_EXIT_STATUS = 9, /* payload: u32 status */
	REC_EXIT_SIGNAL = 10,/* payload: signal name */
	REC_EOF_IN = 11,
	REC_EOF_OUT = 12,
	REC_INPUT_REDACTED = 13, /* payload: u32 length of unechoed input not stored */
	REC_MARK = 14,       /* payload: text (e.g. "terminated by auditor") */
	REC_END = 15,        /* payload: end reason text; last record */
};

/* Create path (O_EXCL, 0600) and write the header record (JSON metadata). */
int rec_writer_open(const char *path, const char *header_json, struct rec_writer **out);
/* Append a record stamped with the current time. */
int rec_write(struct rec_writer *w, enum rec_type type, uint32_t channel, const void *data, size_t len);
/* Call at least once a second: flushes pending records if due. */
int rec_tick(struct rec_writer *w);
/* Flush everything now. */
int rec_flush(struct rec_writer *w);
/* Write the end record, close the frame, write the trailer index, fsync. */
int rec_writer_close(struct rec_writer *w, const char *end_reason);
/* Frees without writing an end record (for the aborted path). */
void rec_writer_free(struct rec_writer *w);
/* After a failure every further call returns the same error. */
int rec_writer_error(const struct rec_writer *w);
/* Chain head (hex, 65 bytes) and number of frames so far. */
void rec_writer_chain(const struct rec_writer *w, char head_hex[65], uint64_t *frames);
uint64_t rec_writer_bytes(const struct rec_writer *w);

#endif
