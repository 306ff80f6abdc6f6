/* Internals of the command extractor, shared by its files:
 *   cmdextract.c   lines, acceptance, events, output routing, the API
 *   cmdx-screen.c  the cell grid libvterm draws into, strings, saved rows
 *   cmdx-keys.c    the model of the operator's keys (readline)
 *   cmdx-tty.c     the target's line discipline: canonical mode, stty, the
 *                  readings of a line's keys offered to a judge
 * Not for use outside recorder/cmdx*.c; the API is cmdextract.h. */
#ifndef GH_CMDX_INT_H
#define GH_CMDX_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <vterm.h>

#include "recorder/cmdextract.h"

#define CELL_CHARS   3            /* base character and up to two combining marks */
#define QUEUE_MAX    32           /* lines typed but not yet accepted */
#define EVENTS_MAX   4096         /* events not pulled by the caller */
#define SB_MAX       1024         /* rows kept above the screen while a line is open */
#define SB_MAX_CELLS (128 * 1024) /* and at most this many cells */
#define LAZY_MAX     16384        /* tail of bulk output kept for the screen */
#define LF_PATIENCE  64           /* newlines an unechoed line may wait for its echo */
#define NO_ANCHOR    INT_MIN

struct cell {
	uint32_t ch[CELL_CHARS]; /* ch[0] == 0: blank */
	int8_t width;            /* 0: right half of a double-width glyph */
};

struct sbuf {
	char *p;
	size_t len, cap;
	int oom; /* an append failed: the content is incomplete */
};

enum term { TERM_NONE, TERM_ENTER, TERM_INTR, TERM_EOF };

/* The terminal's special characters (termios c_cc) and input modes, as the
 * extractor believes the target has them: Linux's defaults, changed by the
 * stty commands it saw the operator run. TTY_UNDEF: disabled. */
enum {
	TC_INTR,
	TC_QUIT,
	TC_ERASE,
	TC_KILL,
	TC_EOF,
	TC_EOL,
	TC_EOL2,
	TC_START,
	TC_STOP,
	TC_SUSP,
	TC_RPRNT,
	TC_WERASE,
	TC_LNEXT,
	TC_COUNT
};
enum {
	TF_ICANON = 1 << 0,
	TF_ISIG = 1 << 1,
	TF_IEXTEN = 1 << 2,
	TF_ICRNL = 1 << 3,
	TF_IGNCR = 1 << 4,
	TF_INLCR = 1 << 5,
	TF_IXON = 1 << 6,
	TF_IUTF8 = 1 << 7,
};
#define TTY_UNDEF (-1)

struct ttymodel {
	int cc[TC_COUNT]; /* byte value or TTY_UNDEF */
	unsigned flags;   /* TF_* */
};

/* cmdx_tty_line results */
#define TTYL_UNDERFLOW 1u /* an erase or kill reached back before the keys given */

/* One line of operator input, from its first key to its terminator. */
struct line {
	int started;       /* a key of this line was seen */
	struct sbuf typed; /* the edit buffer as the typed keys build it */
	size_t pos;        /* cursor offset in typed */
	int known;         /* typed still follows the keys (no Tab, history ...) */
	int truncated;     /* typed exceeded CMDX_MAX_COMMAND */
	char *prompt;      /* screen text before the cursor at the first key */
	int anchor;        /* first row of the prompt's logical line */
	int inactive;      /* typed while the line editor was off */
	enum term term;    /* how the line ended */
	int64_t t_enter;   /* time of the terminator */
	uint64_t seq;      /* number of the terminator in the input */
	int lf_seen;       /* newlines seen while waiting for its echo */
	struct sbuf raw;   /* every byte typed for it, as typed, across screen switches */
	int raw_cut;       /* raw was cut at CMDX_MAX_COMMAND */
	int alt_keys;      /* some key was typed while the alternate screen was shown */
	int secret;        /* a prompt for a secret showed at its first key or its end */
	int quoted;        /* the next byte is inserted literally (readline's Ctrl-V) */
	int64_t tag;       /* cmdx_tag_line */
	unsigned reasons;  /* CMDX_R_* noted while it was typed */
};

enum in_state { IN_NORMAL, IN_ESC, IN_CSI, IN_SS3, IN_PASTE };

struct inparse {
	enum in_state st;
	char params[16]; /* CSI parameter bytes */
	size_t plen;
	size_t paste_match; /* bytes of ESC[201~ matched inside a paste */
};

struct cmdx {
	VTerm *vt;
	VTermState *state;
	int rows, cols;
	struct cell *main_cells, *alt_cells, *cells; /* cells: the shown one */
	uint8_t *main_cont, *alt_cont, *cont;        /* row continues the row above */
	int alt;                                     /* alternate screen shown */
	int pending_wrap;                            /* last glyph filled the row: the next one wraps */
	VTermPos last_glyph;

	/* rows scrolled off the top while a line is open (ring) */
	struct cell *sb_cells;
	uint8_t *sb_cont;
	int sb_start, sb_count, sb_cap;

	/* bulk output not yet given to the emulator (fast path) */
	uint8_t *lazy;
	size_t lazy_len;
	int lazy_dropped;
	uint8_t carry[32]; /* an ESC[? sequence cut by the chunk end */
	size_t carry_len;

	int bp_mode;          /* the shell ever turned bracketed paste on */
	int rl_on;            /* the line editor is reading a line now */
	int printed_since_on; /* output came since the editor turned on */
	int rl_anchor;        /* row where the editor started its prompt */
	char *last_prompt;    /* last prompt seen while the editor was idle */
	int snap_row;         /* cursor row at the last newline while on */
	uint64_t snap_seq;    /* terminators typed when snap_row was taken */
	uint64_t term_count;  /* terminators typed so far */
	int resize_shift;     /* rows the grid moved up in the last resize */
	int csi_state;        /* vt_write: 0 text, 1 after ESC, 2 inside CSI */
	int csi_args;         /* vt_write: separators seen in this CSI */

	struct ttymodel tty; /* the target's special characters as seen set */
	int tty_changed;     /* tty differs from the defaults */
	/* Submitted lines that end inside quotes or with a backslash, joined
	 * as the shell joins them (from the keys: the screen's join is
	 * `join` below, and only for lines the screen showed). */
	struct sbuf kcont;
	int kcont_open;
	/* The keys of the line that ended before cur, its terminator
	 * included: a judge also reads cur as its continuation when cur's keys
	 * erase back into it (cmdx_judge). */
	struct sbuf prev_raw;
	/* the last bytes of output, for the prompt-for-a-secret heuristic */
	char otail[160];
	size_t notail;

	struct inparse in;
	struct line cur;
	struct line q[QUEUE_MAX];
	int qhead, qcount;

	/* a line ending inside quotes or with a backslash waits for the next */
	struct sbuf join;
	int joining;
	unsigned join_flags;
	unsigned join_reasons;

	struct cmdx_event *ev;
	size_t ev_head, ev_count;
	int err;     /* sticky ERR_NOMEM from a callback */
	int64_t now; /* time of the output being parsed */
};

/* cmdx-screen.c: small strings */
int cmdx_sbuf_add(struct sbuf *b, const void *p, size_t n);
void cmdx_sbuf_reset(struct sbuf *b);
void cmdx_sbuf_free(struct sbuf *b);
void cmdx_sbuf_rtrim(struct sbuf *b);
size_t cmdx_rtrim_len(const char *s, size_t n);

/* cmdx-screen.c: the grid (rows < 0 are the saved rows above the screen) */
int cmdx_row_valid(const struct cmdx *cx, int r);
int cmdx_logical_start(const struct cmdx *cx, int r);
int cmdx_logical_end(const struct cmdx *cx, int r);
void cmdx_row_text(const struct cmdx *cx, int r, int upto, struct sbuf *b);
void cmdx_logical_text(const struct cmdx *cx, int a, int b, struct sbuf *out);
int cmdx_tracking(const struct cmdx *cx);
void cmdx_sb_clear(struct cmdx *cx);
void cmdx_vt_write(struct cmdx *cx, const char *p, size_t n);
int cmdx_grid_alloc(int cols, int rows, struct cell **main_cells, struct cell **alt_cells, uint8_t **main_cont,
                    uint8_t **alt_cont);
int cmdx_size_ok(int cols, int rows);
/* Connects the emulator's callbacks to cx. */
void cmdx_screen_attach(struct cmdx *cx);

/* cmdextract.c */
int cmdx_push_event(struct cmdx *cx, enum cmdx_event_type type, int64_t t, char *text, size_t len, unsigned flags,
                    unsigned reasons, int64_t tag);
void cmdx_line_reset(struct line *l);
/* The screen switched: the readline model and the prompt of l start over,
 * its keys as typed stay. */
void cmdx_line_switch_screen(struct line *l);
/* Lines waiting for the screen are reported from their keys (with these
 * reasons) and the queue emptied. */
int cmdx_queue_flush(struct cmdx *cx, unsigned reasons);
int cmdx_queue_push_cur(struct cmdx *cx);
/* A shell line that cannot run yet: open quotes or a final backslash. */
int cmdx_line_incomplete(const char *s, size_t n);
int cmdx_lazy_flush(struct cmdx *cx);

/* cmdx-keys.c: one operator byte; may end a line (queued for acceptance) */
int cmdx_input_byte(struct cmdx *cx, uint8_t c, int64_t t);
/* A prompt for a secret is at the end of the output now. */
int cmdx_secret_prompt(const struct cmdx *cx);
/* A line typed in the alternate screen, or one the screen will never
 * confirm: reported from its keys (cmdextract.c). */
int cmdx_line_from_keys(struct cmdx *cx, const struct line *l, unsigned reasons);

/* cmdx-tty.c */
void cmdx_tty_defaults(struct ttymodel *t);
int cmdx_tty_equal(const struct ttymodel *a, const struct ttymodel *b);
/* The line a canonical-mode reader holds after these keys (the text after
 * the last line end in them); TTYL_* bits. NUL bytes are dropped. */
unsigned cmdx_tty_line(const struct ttymodel *t, const uint8_t *k, size_t n, struct sbuf *out);
/* Applies the stty commands found in a submitted shell line; 1 if the
 * model changed. */
int cmdx_tty_apply_stty(struct ttymodel *t, const char *line, size_t len);
/* The keys as a person would name them: text as typed, "<Tab>", "<Up>",
 * "^X" ... (for lines reported from keys that cannot be replayed). */
void cmdx_keys_render(const uint8_t *k, size_t n, struct sbuf *out);
/* Offers the readings of the keys k to fn (see cmdx_judge). variants: also
 * each character taken as erase, kill and word erase. *last is the text
 * offered last (to skip repeats); returns fn's non-zero value or 0. */
/* One text offered to a judge as read and without trailing blanks, skipping
 * a repeat of *last. */
int cmdx_offer(cmdx_judge_fn fn, void *arg, struct sbuf *last, const char *p, size_t n, enum cmdx_witness w);
int cmdx_tty_readings(const struct ttymodel *t, const uint8_t *k, size_t n, int variants, cmdx_judge_fn fn, void *arg,
                      struct sbuf *last);

#endif
