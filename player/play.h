/* The player's logic as a library (gatehouse-play is a thin front end; the
 * role shell of issue 8 can call the same functions over an SSH channel):
 * find a session's recording, print its metadata, verify it against the
 * database, export a channel as raw bytes or asciicast v2. Functions
 * write to the FILE they are given and return 0 or a negative gh_err. */
#ifndef GH_PLAY_H
#define GH_PLAY_H

#include <stdint.h>
#include <stdio.h>

#include "recorder/rec-reader.h"

struct store;

struct play_session {
	int64_t id;                                       /* sessions.id, 0 for a file given by path */
	char *uuid;                                       /* NULL for a file given by path */
	char *path;                                       /* the recording file */
	char *user, *source, *asset, *login, *end_reason; /* NULL when unknown */
	int64_t start, end;                               /* Unix seconds from the row, 0 = unknown */
	int has_head;                                     /* the row holds a chain head and frame count */
	uint8_t head[32];
	uint64_t frames;
	struct rec_frame_info *index; /* the row's rec_index, or NULL */
	size_t nindex;
};

/* A session by id or uuid from the sessions table; the recording is
 * DIR/recordings/<uuid>.ghrec, or the row's path. ERR_NOTFOUND if none. */
int play_session_lookup(struct store *st, const char *data_dir, const char *name, struct play_session **out);
/* A recording file given by path (offline use, nothing to compare with). */
int play_session_from_path(const char *path, struct play_session **out);
void play_session_free(struct play_session *s);

/* Metadata: user, source, asset, login, channels, start, end, duration,
 * sizes, end reason. Recorded strings (commands, names, the end reason) go
 * through the sanitiser's LINE profile (recorder/vtsan.h): a control shows
 * as ^X and cannot start a new line. */
int play_info(const struct play_session *s, FILE *out);
/* Check the chain (and the row's head, count and index). Prints "OK ..."
 * or the first bad frame; ERR_TAMPER on failure. */
int play_verify(const struct play_session *s, FILE *out);

enum play_export { PLAY_EXPORT_RAW = 0, PLAY_EXPORT_ASCIICAST = 1 };

struct play_range {
	int64_t channel;         /* -1: the first terminal channel, else the first with output */
	uint64_t from_us, to_us; /* offsets from the recording's start; to 0 = the end */
	double max_idle;         /* asciicast: cap pauses at this many seconds (0 = off) */
	int follow;              /* a live recording: wait for more until it ends */
	int ascii_json;          /* asciicast: escape every non-ASCII character and DEL (\uXXXX), so that
	                          * the file shown in a terminal is plain ASCII text; the data is the same */
};

/* Export one channel: raw (its output byte stream, as recorded: the
 * caller sanitises it when it goes to a terminal) or asciicast v2 with
 * "o", "i" and "r" events (redacted input is never exported, it is not in
 * the file). */
int play_export(const struct play_session *s, enum play_export how, const struct play_range *rg, FILE *out);

/* Playing in a terminal: keys from in_fd (raw mode is the caller's job),
 * screen to out_fd, size() asked before every frame (the viewer may
 * resize). Over SSH these are the channel's pipe ends. */
struct play_tty_io {
	int in_fd, out_fd;
	void (*size)(void *arg, int *rows, int *cols);
	void *arg;
};

/* Play one channel from rg->from_us with the original timing times
 * speed; keys: space pause, + - speed, left/right 10 s, [ ] previous/next
 * command, g go to time, q quit. rg->follow plays a live recording. */
int play_tty(const struct play_session *s, const struct play_range *rg, double speed, const struct play_tty_io *io);

/* Time of the recording's first record (µs), for ISO times. */
int play_start_us(const struct play_session *s, uint64_t *start_us);

/* The commands of the session, one a line: "HH:MM:SS.mmm  CHANNEL  TEXT"
 * (exec commands, and the lines typed in terminal channels); TEXT through
 * the sanitiser's LINE profile, as play_info. */
int play_print_commands(const struct play_session *s, FILE *out);

/* Parse "90", "1:30", "01:02:03" (offsets, each with an optional fraction
 * of up to 6 digits: "93.4", "00:01:33.250") or an ISO 8601 time (absolute,
 * turned into an offset from start_us). */
int play_parse_time(const char *s, uint64_t start_us, uint64_t *offset_us);

#endif
