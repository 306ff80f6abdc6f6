/* Internals shared by the player's files (play.c, tty.c). */
#ifndef GH_PLAY_INT_H
#define GH_PLAY_INT_H

#include <stdint.h>

#include <jansson.h>

struct chan_info {
	uint32_t num;
	char type[32];
	char *command;
	int pty;
	int cols, rows; /* first size */
	int resizes;
	uint64_t out_bytes, in_bytes, redacted;
	uint64_t sealed; /* bytes of input sealed to the recording-seal key (shown only by reveal) */
	int has_exit;
	uint32_t exit_status;
	char line[256]; /* the input line being typed (for the command list) */
	size_t nline;
	int in_esc; /* inside an escape sequence of the input */
};

/* A command: an exec channel's command, or (until the command table of
 * issue 6 is read) a line of a terminal channel's input, ended by Enter:
 * the keys as typed, editing keys applied to the end of the line only. */
struct cmd_entry {
	uint64_t time_us;
	uint32_t channel;
	char *text;
};

struct scan {
	struct chan_info *v;
	size_t n;
	uint64_t first_us, last_us;
	int ended, torn;
	char end_reason[128];
	json_t *header;
	struct cmd_entry *cmds;
	size_t ncmds;
};

/* Read the whole recording once: channels, sizes, times, header. */
int scan_recording(const char *path, struct scan *sc);
void scan_free(struct scan *sc);
/* The channel to play: want >= 0, else the first terminal channel, else
 * the first with output. Its first size in *cols x *rows. */
int pick_channel(const struct scan *sc, int64_t want, uint32_t *ch, int *cols, int *rows);
/* a, else b, else "-". */
const char *str_or(const char *a, const char *b);

#endif
