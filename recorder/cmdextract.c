/* Command extraction from an interactive terminal session: see cmdextract.h
 * and docs/command-control.md.
 *
 * Three parts:
 *  - a screen: libvterm's state layer parses the target's output and calls
 *    us back with glyphs, moves and erases; we keep the cell grid ourselves
 *    because libvterm 0.1 does not record which rows are soft-wrapped
 *    continuations of the row above, and that is what joins a long command;
 *  - the operator's keys: a small model of readline editing (insert, erase,
 *    cursor moves, kills, bracketed paste) gives the typed text when it can,
 *    and recognises the keys that end a line (Enter, Ctrl-C, Ctrl-D);
 *  - the shell's own markers: readline turns bracketed paste mode on
 *    (ESC[?2004h) right before it prints the prompt and off (ESC[?2004l) once
 *    it accepted the line, so those two say exactly when a line was accepted
 *    by the line editor. Without them (old shells, REPLs, programs) a line is
 *    taken when its echo is followed by a newline.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <vterm.h>

#include "common/err.h"
#include "recorder/cmdextract.h"

#define CELL_CHARS  3     /* base character and up to two combining marks */
#define QUEUE_MAX   32    /* lines typed but not yet accepted */
#define EVENTS_MAX  4096  /* events not pulled by the caller */
#define SB_MAX      1024  /* rows kept above the screen while a line is open */
#define LAZY_MAX    16384 /* tail of bulk output kept for the screen */
#define LF_PATIENCE 64    /* newlines an unechoed line may wait for its echo */
#define NO_ANCHOR   INT_MIN

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
	int sb_start, sb_count;

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

	struct inparse in;
	struct line cur;
	struct line q[QUEUE_MAX];
	int qhead, qcount;

	/* a line ending inside quotes or with a backslash waits for the next */
	struct sbuf join;
	int joining;
	unsigned join_flags;

	struct cmdx_event *ev;
	size_t ev_head, ev_count;
	int err;     /* sticky ERR_NOMEM from a callback */
	int64_t now; /* time of the output being parsed */
};

/* ---- small strings ---- */

static int
sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	char *np;
	size_t ncap;

	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 128;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->oom = 1;
			return ERR_NOMEM;
		}
		b->p = np;
		b->cap = ncap;
	}
	if (n > 0 && p != NULL) /* p NULL: only reserve room */
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void
sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void
sbuf_rtrim(struct sbuf *b)
{
	while (b->len > 0 && (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\n' || b->p[b->len - 1] == '\t'))
		b->p[--b->len] = '\0';
}

static size_t
rtrim_len(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t'))
		n--;
	return n;
}

static void
utf8_put(struct sbuf *b, uint32_t c)
{
	char u[4];
	size_t n;

	if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	sbuf_add(b, u, n);
}

/* ---- the cell grid (rows < 0 are the saved rows above the screen) ---- */

static int
row_valid(const struct cmdx *cx, int r)
{
	return r < cx->rows && r >= -cx->sb_count;
}

static const struct cell *
row_cells(const struct cmdx *cx, int r)
{
	int i;

	if (r >= 0)
		return cx->cells + (size_t)r * cx->cols;
	i = (cx->sb_start + cx->sb_count + r) % SB_MAX;
	return cx->sb_cells + (size_t)i * cx->cols;
}

static int
row_cont(const struct cmdx *cx, int r)
{
	if (r >= 0)
		return cx->cont[r];
	return cx->sb_cont[(cx->sb_start + cx->sb_count + r) % SB_MAX];
}

static int
logical_start(const struct cmdx *cx, int r)
{
	while (row_cont(cx, r) && row_valid(cx, r - 1))
		r--;
	return r;
}

static int
logical_end(const struct cmdx *cx, int r)
{
	while (r + 1 < cx->rows && row_cont(cx, r + 1))
		r++;
	return r;
}

/* Text of cells [0, upto) of row r; blanks become spaces. */
static void
row_text(const struct cmdx *cx, int r, int upto, struct sbuf *b)
{
	const struct cell *c = row_cells(cx, r);
	int i, k;

	if (upto > cx->cols)
		upto = cx->cols;
	/* room for the whole row at once: the common cells are ASCII */
	if (upto <= 0 || sbuf_add(b, NULL, (size_t)upto * CELL_CHARS * 4) != 0)
		return;
	b->len -= (size_t)upto * CELL_CHARS * 4;
	for (i = 0; i < upto; i++) {
		if (c[i].width == 0)
			continue;
		if (c[i].ch[0] < 0x80) {
			b->p[b->len++] = c[i].ch[0] == 0 ? ' ' : (char)c[i].ch[0];
			if (c[i].ch[0] == 0 || c[i].ch[1] == 0)
				continue;
			k = 1;
		} else {
			k = 0;
		}
		for (; k < CELL_CHARS && c[i].ch[k] != 0; k++)
			utf8_put(b, c[i].ch[k]);
	}
	b->p[b->len] = '\0';
}

/* Rows a..b as one logical line, trailing blanks dropped. */
static void
logical_text(const struct cmdx *cx, int a, int b, struct sbuf *out)
{
	int r;

	for (r = a; r <= b; r++)
		row_text(cx, r, cx->cols, out);
	sbuf_rtrim(out);
}

static void
clear_cells(struct cell *c, size_t n)
{
	memset(c, 0, n * sizeof(*c));
	for (size_t i = 0; i < n; i++)
		c[i].width = 1;
}

static int
tracking(const struct cmdx *cx)
{
	return cx->cur.started || cx->qcount > 0 || cx->joining;
}

/* Every row number that must follow the text when rows move. */
static int
anchors(struct cmdx *cx, int **a)
{
	int n = 0;

	a[n++] = &cx->cur.anchor;
	a[n++] = &cx->rl_anchor;
	a[n++] = &cx->snap_row;
	for (int i = 0; i < cx->qcount; i++)
		a[n++] = &cx->q[(cx->qhead + i) % QUEUE_MAX].anchor;
	return n;
}

static void
sb_clear(struct cmdx *cx)
{
	int *a[QUEUE_MAX + 3];
	int n = anchors(cx, a);

	cx->sb_start = 0;
	cx->sb_count = 0;
	for (int i = 0; i < n; i++)
		if (*a[i] < 0)
			*a[i] = NO_ANCHOR;
}

static void
sb_push(struct cmdx *cx, int row)
{
	int i;

	if (cx->sb_cells == NULL) {
		cx->sb_cells = calloc((size_t)SB_MAX * cx->cols, sizeof(struct cell));
		cx->sb_cont = calloc(SB_MAX, 1);
		if (cx->sb_cells == NULL || cx->sb_cont == NULL) {
			free(cx->sb_cells);
			free(cx->sb_cont);
			cx->sb_cells = NULL;
			cx->sb_cont = NULL;
			return;
		}
	}
	if (cx->sb_count == SB_MAX) {
		cx->sb_start = (cx->sb_start + 1) % SB_MAX;
		cx->sb_count--;
	}
	i = (cx->sb_start + cx->sb_count) % SB_MAX;
	memcpy(cx->sb_cells + (size_t)i * cx->cols, cx->cells + (size_t)row * cx->cols,
	       (size_t)cx->cols * sizeof(struct cell));
	cx->sb_cont[i] = cx->cont[row];
	cx->sb_count++;
}

/* Keep a row number pointing at the same text when rows move. With
 * `pushed`, the rows above src left the screen into the saved rows. */
static void
anchor_move(struct cmdx *cx, int *a, VTermRect dest, VTermRect src, int pushed)
{
	if (*a == NO_ANCHOR)
		return;
	if (pushed && *a < src.start_row)
		*a -= src.start_row;
	else if (*a >= src.start_row && *a < src.end_row)
		*a += dest.start_row - src.start_row;
	else if (*a >= dest.start_row && *a < dest.end_row)
		*a = NO_ANCHOR;
	if (*a != NO_ANCHOR && !row_valid(cx, *a))
		*a = NO_ANCHOR;
}

/* ---- libvterm state callbacks ---- */

static int
cb_putglyph(VTermGlyphInfo *info, VTermPos pos, void *user)
{
	struct cmdx *cx = user;
	struct cell *c;
	int k;

	if (pos.row < 0 || pos.row >= cx->rows || pos.col < 0 || pos.col >= cx->cols)
		return 1;
	if (cx->pending_wrap && pos.col == 0 && !(pos.row == cx->last_glyph.row && pos.col == cx->last_glyph.col))
		cx->cont[pos.row] = 1;
	c = cx->cells + (size_t)pos.row * cx->cols + pos.col;
	memset(c->ch, 0, sizeof(c->ch));
	for (k = 0; k < CELL_CHARS && k < VTERM_MAX_CHARS_PER_CELL && info->chars[k] != 0; k++)
		c->ch[k] = info->chars[k];
	c->width = (int8_t)(info->width > 1 ? 2 : 1);
	if (info->width > 1 && pos.col + 1 < cx->cols) {
		memset(c[1].ch, 0, sizeof(c[1].ch));
		c[1].width = 0;
	}
	cx->last_glyph = pos;
	cx->pending_wrap = pos.col + (info->width > 1 ? 2 : 1) >= cx->cols;
	return 1;
}

static int
cb_movecursor(VTermPos pos, VTermPos oldpos, int visible, void *user)
{
	struct cmdx *cx = user;

	/* libvterm leaves the cursor on the last glyph while a wrap is due;
	 * any other move cancels the wrap. */
	if (pos.row != cx->last_glyph.row || pos.col != cx->last_glyph.col)
		cx->pending_wrap = 0;
	return 1;
}

static int
cb_moverect(VTermRect dest, VTermRect src, void *user)
{
	struct cmdx *cx = user;
	int h = src.end_row - src.start_row, w = src.end_col - src.start_col;
	int full = src.start_col == 0 && src.end_col == cx->cols;
	int r, i, down, pushed;

	if (h <= 0 || w <= 0)
		return 1;
	/* The screen scrolls up: keep the rows that leave it while a line is
	 * open, a long command may start up there. */
	pushed = full && !cx->alt && dest.start_row == 0 && src.start_row > 0 && tracking(cx);
	for (r = 0; pushed && r < src.start_row; r++)
		sb_push(cx, r);
	down = dest.start_row > src.start_row;
	for (i = 0; i < h; i++) {
		r = down ? h - 1 - i : i;
		memmove(cx->cells + (size_t)(dest.start_row + r) * cx->cols + dest.start_col,
		        cx->cells + (size_t)(src.start_row + r) * cx->cols + src.start_col,
		        (size_t)w * sizeof(struct cell));
	}
	if (full) {
		memmove(cx->cont + dest.start_row, cx->cont + src.start_row, (size_t)h);
		if (!cx->alt) {
			int *a[QUEUE_MAX + 3];
			int n = anchors(cx, a);
			for (i = 0; i < n; i++)
				anchor_move(cx, a[i], dest, src, pushed);
		}
	}
	return 1;
}

static int
cb_erase(VTermRect rect, int selective, void *user)
{
	struct cmdx *cx = user;
	int r;

	for (r = rect.start_row; r < rect.end_row; r++) {
		if (r < 0 || r >= cx->rows)
			continue;
		clear_cells(cx->cells + (size_t)r * cx->cols + rect.start_col, (size_t)(rect.end_col - rect.start_col));
		if (rect.start_col == 0 && rect.end_col == cx->cols)
			cx->cont[r] = 0;
	}
	return 1;
}

static int push_event(struct cmdx *cx, enum cmdx_event_type type, int64_t t, char *text, size_t len, unsigned flags);
static void line_reset(struct line *l);
static void queue_clear(struct cmdx *cx);

static int
cb_settermprop(VTermProp prop, VTermValue *val, void *user)
{
	struct cmdx *cx = user;
	int on;

	if (prop != VTERM_PROP_ALTSCREEN)
		return 1;
	on = val->boolean != 0;
	if (on == cx->alt)
		return 1;
	cx->alt = on;
	cx->cells = on ? cx->alt_cells : cx->main_cells;
	cx->cont = on ? cx->alt_cont : cx->main_cont;
	if (on) {
		clear_cells(cx->alt_cells, (size_t)cx->rows * cx->cols);
		memset(cx->alt_cont, 0, (size_t)cx->rows);
	}
	/* No command lines inside a full-screen program, and whatever was
	 * typed before it is settled. */
	line_reset(&cx->cur);
	queue_clear(cx);
	cx->pending_wrap = 0;
	if (push_event(cx, on ? CMDX_EV_FULLSCREEN_ENTER : CMDX_EV_FULLSCREEN_LEAVE, cx->now, NULL, 0, 0) != 0)
		cx->err = ERR_NOMEM;
	return 1;
}

static int
cb_resize(int rows, int cols, VTermPos *delta, void *user)
{
	struct cmdx *cx = user;

	/* cmdx_resize already reshaped the grid, keeping the cursor's row on
	 * screen; the emulator's cursor follows the text. */
	delta->row = -cx->resize_shift;
	return 1;
}

static int
cb_ignore_pen(void *user)
{
	return 1;
}

static int
cb_ignore_attr(VTermAttr attr, VTermValue *val, void *user)
{
	return 1;
}

static int
cb_ignore_lineinfo(int row, const VTermLineInfo *newinfo, const VTermLineInfo *oldinfo, void *user)
{
	return 1;
}

static const VTermStateCallbacks state_cbs = {
        .putglyph = cb_putglyph,
        .movecursor = cb_movecursor,
        .scrollrect = NULL, /* libvterm then calls moverect + erase */
        .moverect = cb_moverect,
        .erase = cb_erase,
        .initpen = cb_ignore_pen,
        .setpenattr = cb_ignore_attr,
        .settermprop = cb_settermprop,
        .bell = cb_ignore_pen,
        .resize = cb_resize,
        .setlineinfo = cb_ignore_lineinfo,
};

static void
discard_output(const char *s, size_t len, void *user)
{
	/* Answers to the target's queries (DA, DSR) are the operator
	 * terminal's job, not ours. */
}

/* ---- events ---- */

static int
push_event(struct cmdx *cx, enum cmdx_event_type type, int64_t t, char *text, size_t len, unsigned flags)
{
	struct cmdx_event *e;

	if (cx->ev_count == EVENTS_MAX) {
		/* the caller stopped pulling: keep the newest */
		free(cx->ev[cx->ev_head].text);
		cx->ev_head = (cx->ev_head + 1) % EVENTS_MAX;
		cx->ev_count--;
	}
	e = &cx->ev[(cx->ev_head + cx->ev_count) % EVENTS_MAX];
	e->type = type;
	e->t_us = t;
	e->text = text;
	e->len = len;
	e->flags = flags;
	cx->ev_count++;
	return 0;
}

/* ---- lines and the queue of lines waiting for acceptance ---- */

static void
line_reset(struct line *l)
{
	struct sbuf typed = l->typed;

	free(l->prompt);
	sbuf_reset(&typed);
	memset(l, 0, sizeof(*l));
	l->typed = typed;
	l->known = 1;
	l->anchor = NO_ANCHOR;
}

static struct line *
queue_head(struct cmdx *cx)
{
	return cx->qcount > 0 ? &cx->q[cx->qhead] : NULL;
}

static void
queue_pop(struct cmdx *cx)
{
	if (cx->qcount == 0)
		return;
	line_reset(&cx->q[cx->qhead]);
	cx->qhead = (cx->qhead + 1) % QUEUE_MAX;
	cx->qcount--;
}

static void
queue_clear(struct cmdx *cx)
{
	while (cx->qcount > 0)
		queue_pop(cx);
	cx->joining = 0;
	sbuf_reset(&cx->join);
	cx->snap_row = NO_ANCHOR;
}

/* The finished current line moves to the queue (its buffer is swapped so
 * no copy is made). */
static void
queue_push_cur(struct cmdx *cx)
{
	struct line *slot, tmp;

	if (cx->qcount == QUEUE_MAX)
		queue_pop(cx);
	slot = &cx->q[(cx->qhead + cx->qcount) % QUEUE_MAX];
	tmp = *slot;
	*slot = cx->cur;
	cx->cur = tmp;
	line_reset(&cx->cur);
	cx->qcount++;
}

/* ---- reading the command off the screen ---- */

/* If text starts with the prompt, the number of bytes to skip; else -1.
 * The prompt was taken up to the cursor, so it may end in blanks that a
 * trimmed empty line does not have. */
static long
prompt_skip(const char *text, size_t tlen, const char *prompt)
{
	size_t plen = strlen(prompt), pt = rtrim_len(prompt, plen), skip;

	if (tlen < pt || memcmp(text, prompt, pt) != 0)
		return -1;
	skip = pt;
	while (skip < tlen && skip < plen && text[skip] == ' ')
		skip++;
	return (long)skip;
}

/* Look upward from the cursor's logical line, no higher than `anchor`, for
 * the line that starts with `prompt`. Its row, and the bytes to skip; or
 * NO_ANCHOR. */
static int
find_prompt_row(struct cmdx *cx, const char *prompt, int anchor, int start, long *skip, struct sbuf *tmp)
{
	int r = start, lowest = -cx->sb_count;

	if (anchor != NO_ANCHOR && row_valid(cx, anchor))
		lowest = logical_start(cx, anchor);
	for (;;) {
		/* only as much of the line as the prompt can cover */
		size_t need = strlen(prompt) + 1;
		int e = logical_end(cx, r), q;
		sbuf_reset(tmp);
		for (q = r; q <= e && tmp->len < need; q++)
			row_text(cx, q, cx->cols, tmp);
		if (q > e)
			sbuf_rtrim(tmp);
		if ((*skip = prompt_skip(tmp->p ? tmp->p : "", tmp->len, prompt)) >= 0)
			return r;
		if (r <= lowest || !row_valid(cx, r - 1))
			return NO_ANCHOR;
		r = logical_start(cx, r - 1);
	}
}

/* The prompt printed after output that did not end with a newline (bash
 * does not start a fresh line): look for it inside the cursor's line. */
static int
prompt_inside(struct cmdx *cx, const char *prompt, int start, long *skip, struct sbuf *tmp)
{
	size_t plen, pt;
	const char *hit;

	if (prompt == NULL)
		return NO_ANCHOR;
	plen = strlen(prompt);
	pt = rtrim_len(prompt, plen);
	if (pt < 2)
		return NO_ANCHOR;
	sbuf_reset(tmp);
	logical_text(cx, start, logical_end(cx, start), tmp);
	if (tmp->p == NULL || (hit = memmem(tmp->p, tmp->len, prompt, pt)) == NULL)
		return NO_ANCHOR;
	*skip = (long)(hit - tmp->p) + (long)pt;
	while ((size_t)*skip < tmp->len && (size_t)*skip < (size_t)(hit - tmp->p) + plen && tmp->p[*skip] == ' ')
		(*skip)++;
	return start;
}

/* The command on screen now: from the prompt to the end of the cursor's
 * logical line, logical lines joined by newlines, prompt removed. */
static int
screen_command(struct cmdx *cx, const char *prompt, int anchor, int at_row, struct sbuf *out, unsigned *flags)
{
	struct sbuf tmp = {0};
	VTermPos cur;
	int start, end, found = NO_ANCHOR, r;
	long skip = 0;

	vterm_state_get_cursorpos(cx->state, &cur);
	if (cur.row < 0 || cur.row >= cx->rows)
		cur.row = cx->rows - 1;
	if (at_row != NO_ANCHOR && row_valid(cx, at_row))
		cur.row = at_row;
	start = logical_start(cx, cur.row);
	end = logical_end(cx, cur.row);
	if (prompt != NULL)
		found = find_prompt_row(cx, prompt, anchor, start, &skip, &tmp);
	if (found == NO_ANCHOR && cx->last_prompt != NULL && (prompt == NULL || strcmp(prompt, cx->last_prompt) != 0))
		found = find_prompt_row(cx, cx->last_prompt, anchor, start, &skip, &tmp);
	if (found == NO_ANCHOR)
		found = prompt_inside(cx, prompt != NULL ? prompt : cx->last_prompt, start, &skip, &tmp);
	if (found == NO_ANCHOR) {
		found = start;
		skip = 0;
		*flags |= CMDX_F_PROMPT_GUESSED;
	}
	sbuf_reset(out);
	for (r = found; r <= end;) {
		int e = logical_end(cx, r);
		if (out->len > 0 || r > found)
			sbuf_add(out, "\n", 1);
		logical_text(cx, r, e, out);
		r = e + 1;
	}
	sbuf_free(&tmp);
	if (out->oom)
		return ERR_NOMEM;
	if ((size_t)skip > out->len)
		skip = (long)out->len;
	memmove(out->p, out->p + skip, out->len - (size_t)skip + 1);
	out->len -= (size_t)skip;
	/* blank lines a paste left at the end are not part of the command */
	sbuf_rtrim(out);
	return 0;
}

/* The whole logical line under the cursor, trimmed. */
static void
cursor_line(struct cmdx *cx, struct sbuf *out)
{
	VTermPos cur;

	vterm_state_get_cursorpos(cx->state, &cur);
	if (cur.row < 0 || cur.row >= cx->rows)
		cur.row = cx->rows - 1;
	sbuf_reset(out);
	logical_text(cx, logical_start(cx, cur.row), logical_end(cx, cur.row), out);
}

/* A shell line that cannot run yet: open quotes or a final backslash. */
static int
line_incomplete(const char *s, size_t n)
{
	char q = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (q == '\'') {
			if (c == '\'')
				q = 0;
			continue;
		}
		if (c == '\\') {
			if (i + 1 == n)
				return 1;
			i++;
			continue;
		}
		if (q == '"') {
			if (c == '"')
				q = 0;
			continue;
		}
		if (c == '\'' || c == '"')
			q = c;
		else if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t'))
			break; /* a comment: quotes after it do not count */
	}
	return q != 0;
}

/* One accepted line: joined with earlier unfinished lines, cut to the
 * size limit, and queued as an event unless empty. */
static int
emit_line(struct cmdx *cx, const char *text, size_t len, unsigned flags, int64_t t)
{
	struct sbuf all = {0};
	char *s = NULL;
	int r = ERR_INTERNAL;

	if (cx->joining) {
		sbuf_add(&all, cx->join.p, cx->join.len);
		/* The shell drops backslash-newline; other breaks (in quotes)
		 * stay newlines. */
		if (all.len > 0 && all.p[all.len - 1] == '\\')
			all.p[--all.len] = '\0';
		else
			sbuf_add(&all, "\n", 1);
		flags = (flags & ~CMDX_F_TYPED_AGREES) | (flags & cx->join_flags & CMDX_F_TYPED_AGREES) |
		        (cx->join_flags & ~CMDX_F_TYPED_AGREES);
		cx->joining = 0;
		sbuf_reset(&cx->join);
	}
	sbuf_add(&all, text, len);
	if (all.oom) {
		r = ERR_NOMEM;
		goto out;
	}
	if (line_incomplete(all.p, all.len) && all.len < CMDX_MAX_COMMAND) {
		sbuf_reset(&cx->join);
		if (sbuf_add(&cx->join, all.p, all.len) != 0) {
			r = ERR_NOMEM;
			goto out;
		}
		cx->joining = 1;
		cx->join_flags = flags;
		r = 0;
		goto out;
	}
	if (all.len == 0) {
		r = 0;
		goto out;
	}
	if (all.len > CMDX_MAX_COMMAND) {
		size_t cut = CMDX_MAX_COMMAND;
		while (cut > 0 && ((unsigned char)all.p[cut] & 0xc0) == 0x80)
			cut--; /* do not split a UTF-8 sequence */
		all.len = cut;
		sbuf_add(&all, CMDX_TRUNCATED_MARKER, strlen(CMDX_TRUNCATED_MARKER));
		flags |= CMDX_F_TRUNCATED;
		flags &= ~CMDX_F_TYPED_AGREES;
	}
	if ((s = malloc(all.len + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	memcpy(s, all.p, all.len + 1);
	r = push_event(cx, CMDX_EV_COMMAND, t, s, all.len, flags);
	if (r == 0)
		s = NULL;
out:
	free(s);
	sbuf_free(&all);
	return r;
}

/* Agreement of typed and echoed text, ignoring trailing blanks (the screen
 * cannot show them). */
static unsigned
agree_flag(const struct line *l, const struct sbuf *screen)
{
	size_t a, b;

	if (!l->known || l->truncated || l->typed.oom)
		return 0;
	a = rtrim_len(l->typed.p ? l->typed.p : "", l->typed.len);
	b = rtrim_len(screen->p ? screen->p : "", screen->len);
	if (a == b && (a == 0 || memcmp(l->typed.p, screen->p, a) == 0))
		return CMDX_F_TYPED_AGREES;
	return 0;
}

/* A line the editor accepted, read off the screen (text) for line l (NULL
 * when no typed line matches: type-ahead the shell read later). */
static int
accept_line(struct cmdx *cx, const struct line *l, struct sbuf *text, unsigned flags, int64_t t)
{
	flags &= ~CMDX_F_TYPED_AGREES;
	if (l != NULL) {
		flags |= agree_flag(l, text);
		/* The prompt scrolled away above what we kept, but the keys
		 * explain the end of the line: they are the better text. */
		if ((flags & CMDX_F_PROMPT_GUESSED) && l->known && !l->truncated && l->typed.len > 0) {
			size_t a = rtrim_len(l->typed.p, l->typed.len),
			       b = rtrim_len(text->p ? text->p : "", text->len);
			if (a > 0 && b >= a && memcmp(text->p + b - a, l->typed.p, a) == 0) {
				sbuf_reset(text);
				sbuf_add(text, l->typed.p, a);
				flags = (flags & ~CMDX_F_PROMPT_GUESSED) | CMDX_F_TYPED_AGREES;
			}
		}
		if (l->typed.len == 0 && text->len > 0 && l->known && (flags & CMDX_F_PROMPT_GUESSED))
			return 0; /* Enter on an empty line under an unknown prompt */
	}
	return emit_line(cx, text->p ? text->p : "", text->len, flags, t);
}

/* ---- the target's output ---- */

/* Before a newline reaches the emulator: lines waiting for their echo are
 * settled here, and while the editor is on the command is noted, since
 * the newline after Enter moves the cursor off it. */
static int
before_newline(struct cmdx *cx)
{
	struct sbuf line = {0}, text = {0};
	struct line *h;
	int i, r = 0, match = -1;
	unsigned flags = 0;

	if (cx->rl_on) {
		/* Only the row is noted (it follows scrolling like an anchor):
		 * reading the text is paid once, when the line is accepted. */
		VTermPos cur;
		vterm_state_get_cursorpos(cx->state, &cur);
		cx->snap_row = cur.row >= 0 && cur.row < cx->rows ? cur.row : NO_ANCHOR;
		cx->snap_seq = cx->term_count;
		return 0;
	}
	if (cx->qcount == 0)
		return 0;
	/* No editor: the line typed for this echo is the oldest whose keys
	 * end the line on screen; older ones were never echoed (passwords). */
	cursor_line(cx, &line);
	for (i = 0; i < cx->qcount; i++) {
		struct line *l = &cx->q[(cx->qhead + i) % QUEUE_MAX];
		const char *base = l->typed.p ? l->typed.p : "", *t = base, *nl;
		size_t tl, full, ll;

		if (l->term != TERM_ENTER)
			continue;
		if (!l->known) {
			match = i;
			break;
		}
		/* a multi-line paste: its last non-empty line is echoed last */
		full = rtrim_len(t, l->typed.len);
		nl = memrchr(t, '\n', full);
		if (nl != NULL)
			t = nl + 1;
		tl = full - (size_t)(t - base);
		ll = rtrim_len(line.p ? line.p : "", line.len);
		if (tl == 0 || (ll >= tl && memcmp(line.p + ll - tl, t, tl) == 0)) {
			match = i;
			break;
		}
	}
	if (match < 0) {
		h = queue_head(cx);
		if (h != NULL && ++h->lf_seen > LF_PATIENCE)
			queue_pop(cx);
		goto out;
	}
	while (match-- > 0)
		queue_pop(cx); /* typed, never shown: not a command */
	h = queue_head(cx);
	flags = CMDX_F_NO_EDITOR;
	if ((r = screen_command(cx, h->prompt, h->anchor, NO_ANCHOR, &text, &flags)) == 0)
		r = accept_line(cx, h, &text, flags, h->t_enter);
	queue_pop(cx);
out:
	sbuf_free(&line);
	sbuf_free(&text);
	return r;
}

/* The editor turned bracketed paste on: it is about to print a prompt. */
static void
editor_on(struct cmdx *cx)
{
	VTermPos cur;
	int i, n = cx->qcount;

	cx->bp_mode = 1;
	cx->rl_on = 1;
	cx->printed_since_on = 0;
	cx->snap_row = NO_ANCHOR;
	vterm_state_get_cursorpos(cx->state, &cur);
	cx->rl_anchor = logical_start(cx, cur.row);
	/* Lines finished while no editor was reading went to a program
	 * (a password prompt, cat): they are not commands. */
	for (i = 0; i < n; i++) {
		struct line *h = queue_head(cx);
		if (h != NULL && h->inactive)
			queue_pop(cx);
	}
	if (cx->cur.started && cx->cur.inactive) {
		cx->cur.inactive = 0;
		cx->cur.anchor = cx->rl_anchor;
		free(cx->cur.prompt);
		cx->cur.prompt = NULL;
	}
}

/* The editor turned bracketed paste off: it accepted (or abandoned) the
 * line. */
static int
editor_off(struct cmdx *cx)
{
	struct line *h = queue_head(cx);
	struct sbuf text = {0};
	unsigned flags = 0;
	int r = 0;

	if (!cx->rl_on)
		return 0;
	cx->rl_on = 0;
	if (h != NULL) {
		if (h->term == TERM_ENTER) {
			if (cx->snap_row != NO_ANCHOR && cx->snap_seq >= h->seq)
				r = screen_command(cx, h->prompt, h->anchor, cx->snap_row, &text, &flags);
			else
				r = screen_command(cx, h->prompt, h->anchor, NO_ANCHOR, &text, &flags);
			if (r == 0)
				r = accept_line(cx, h, &text, flags, h->t_enter);
		} else {
			cx->joining = 0; /* Ctrl-C at a continuation prompt drops it all */
			sbuf_reset(&cx->join);
		}
		queue_pop(cx);
	} else if (cx->printed_since_on && cx->snap_row != NO_ANCHOR) {
		/* Keys typed while a program ran, read by the shell later. */
		if (cx->cur.started && !cx->cur.known)
			line_reset(&cx->cur);
		r = screen_command(cx, cx->last_prompt, cx->rl_anchor, cx->snap_row, &text, &flags);
		if (r == 0 && !(text.len >= 2 && memcmp(text.p + text.len - 2, "^C", 2) == 0))
			r = accept_line(cx, NULL, &text, flags, cx->now);
	}
	cx->snap_row = NO_ANCHOR;
	sbuf_free(&text);
	return r;
}

/* libvterm 0.1.4 writes CSI parameters past its 16-entry array when a
 * sequence has more separators (heap overflow, found by our fuzzer); the
 * target's output is untrusted, so separators beyond a safe count are
 * dropped before libvterm sees them. No real sequence has that many. */
#define CSI_SAFE_ARGS 12

static void
vt_write(struct cmdx *cx, const char *p, size_t n)
{
	size_t i = 0, from = 0;
	const char *esc;

	while (i < n) {
		if (cx->csi_state == 0) {
			if ((esc = memchr(p + i, 0x1b, n - i)) == NULL)
				break;
			i = (size_t)(esc - p) + 1;
			cx->csi_state = 1;
			continue;
		}
		unsigned char c = (unsigned char)p[i];
		if (cx->csi_state == 1) {
			cx->csi_state = c == '[' ? 2 : c == 0x1b ? 1 : 0;
			cx->csi_args = 0;
			i++;
			continue;
		}
		if (c == 0x1b) {
			cx->csi_state = 1;
		} else if (c == ';' || c == ':') {
			if (++cx->csi_args > CSI_SAFE_ARGS) {
				if (i > from)
					vterm_input_write(cx->vt, p + from, i - from);
				from = i + 1; /* drop this separator */
			}
		} else if (c >= 0x40 && c <= 0x7e) {
			cx->csi_state = 0;
		}
		i++;
	}
	if (n > from)
		vterm_input_write(cx->vt, p + from, n - from);
}

/* Give bytes to the emulator, stopping before each newline when a line is
 * waiting for it. */
static int
feed(struct cmdx *cx, const uint8_t *p, size_t n)
{
	const uint8_t *lf;
	int r;

	while (n > 0) {
		if (!cx->rl_on && cx->qcount == 0) {
			vt_write(cx, (const char *)p, n);
			return cx->err;
		}
		if ((lf = memchr(p, '\n', n)) == NULL) {
			vt_write(cx, (const char *)p, n);
			return cx->err;
		}
		if (lf > p)
			vt_write(cx, (const char *)p, (size_t)(lf - p));
		if ((r = before_newline(cx)) != 0)
			return r;
		vt_write(cx, "\n", 1);
		n -= (size_t)(lf - p) + 1;
		p = lf + 1;
	}
	return cx->err;
}

static int
lazy_flush(struct cmdx *cx)
{
	const uint8_t *p = cx->lazy;
	size_t n = cx->lazy_len;
	const uint8_t *lf;

	if (n == 0)
		return 0;
	/* Output beyond the kept tail was skipped: start at a line start so
	 * the emulator does not begin inside an escape sequence. */
	if (cx->lazy_dropped && (lf = memchr(p, '\n', n)) != NULL) {
		n -= (size_t)(lf + 1 - p);
		p = lf + 1;
		vt_write(cx, "\r\n", 2);
	}
	cx->lazy_len = 0;
	cx->lazy_dropped = 0;
	return feed(cx, p, n);
}

/* Bulk output while nobody types: only the last screenful can matter for
 * the next prompt, so keep a bounded tail and emulate it when needed. */
static int
fast_path_ok(const struct cmdx *cx)
{
	return !tracking(cx) && cx->lazy != NULL;
}

/* The buffer holds up to twice the tail so that trimming it back to one
 * tail is paid once per LAZY_MAX bytes, not once per chunk. */
static void
lazy_add(struct cmdx *cx, const uint8_t *p, size_t n)
{
	if (n >= LAZY_MAX) {
		memcpy(cx->lazy, p + n - LAZY_MAX, LAZY_MAX);
		cx->lazy_dropped |= cx->lazy_len > 0 || n > LAZY_MAX;
		cx->lazy_len = LAZY_MAX;
		return;
	}
	if (cx->lazy_len + n > 2 * LAZY_MAX) {
		memmove(cx->lazy, cx->lazy + cx->lazy_len - LAZY_MAX, LAZY_MAX);
		cx->lazy_len = LAZY_MAX;
		cx->lazy_dropped = 1;
	}
	memcpy(cx->lazy + cx->lazy_len, p, n);
	cx->lazy_len += n;
}

/* Output that holds no ESC[? sequence. */
static int
output_plain(struct cmdx *cx, const uint8_t *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if (cx->rl_on)
		cx->printed_since_on = 1;
	if (cx->alt) {
		/* A full-screen program draws on its own screen, which never
		 * holds a command; the main screen comes back as it was. */
		return 0;
	}
	if (fast_path_ok(cx)) {
		lazy_add(cx, p, n);
		return 0;
	}
	if ((r = lazy_flush(cx)) != 0)
		return r;
	return feed(cx, p, n);
}

/* A DEC private mode sequence ESC [ ? Pn ; ... h|l: the markers we act on
 * (bracketed paste 2004; the alternate screen is reported by libvterm). */
static int
output_private_mode(struct cmdx *cx, const uint8_t *p, size_t n)
{
	size_t i = 3;
	int r, on = p[n - 1] == 'h', off = p[n - 1] == 'l', bp = 0;

	if ((r = lazy_flush(cx)) != 0)
		return r;
	vt_write(cx, (const char *)p, n);
	if (cx->err)
		return cx->err;
	while (i < n - 1) {
		long v = 0;
		while (i < n - 1 && p[i] >= '0' && p[i] <= '9' && v < 100000)
			v = v * 10 + (p[i++] - '0');
		if (v == 2004)
			bp = 1;
		i++;
	}
	if (bp && on)
		editor_on(cx);
	else if (bp && off)
		return editor_off(cx);
	return 0;
}

/* Modes that change what the extractor does: bracketed paste (the line
 * editor's markers) and the alternate screen. */
static int
mode_matters(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		long v = 0;
		while (i < n && p[i] >= '0' && p[i] <= '9' && v < 100000)
			v = v * 10 + (p[i++] - '0');
		if (v == 2004 || v == 47 || v == 1047 || v == 1049)
			return 1;
		i++;
	}
	return 0;
}

static int
output_chunk(struct cmdx *cx, const uint8_t *buf, size_t len)
{
	size_t i = 0, s = 0, j, k;
	const uint8_t *esc;
	int r;

	for (;;) {
		if ((esc = memchr(buf + s, 0x1b, len - s)) == NULL)
			return output_plain(cx, buf + i, len - i);
		j = (size_t)(esc - buf);
		for (k = j + 1; k < len && k < j + sizeof(cx->carry); k++) {
			if (k == j + 1 && buf[k] != '[')
				break;
			if (k == j + 2 && buf[k] != '?')
				break;
			if (k > j + 2 && !((buf[k] >= '0' && buf[k] <= '9') || buf[k] == ';'))
				break;
		}
		/* The ESC [ ? prefix and its parameters may be cut by the end of
		 * the chunk: keep them for the next one. */
		if (k == len && k - j < sizeof(cx->carry)) {
			if ((r = output_plain(cx, buf + i, j - i)) != 0)
				return r;
			memcpy(cx->carry, buf + j, len - j);
			cx->carry_len = len - j;
			return 0;
		}
		if (k > j + 3 && k < len && (buf[k] == 'h' || buf[k] == 'l')) {
			/* Other modes (cursor visibility, keypad ...) are kept in
			 * order with the bulk output they came with. */
			if ((fast_path_ok(cx) || cx->alt) && !mode_matters(buf + j + 3, k - j - 3)) {
				s = k + 1;
				continue;
			}
			if ((r = output_plain(cx, buf + i, j - i)) != 0)
				return r;
			if ((r = output_private_mode(cx, buf + j, k + 1 - j)) != 0)
				return r;
			i = s = k + 1;
			continue;
		}
		s = j + 1; /* some other sequence: ordinary output */
	}
}

/* ---- the operator's keys ---- */

static int
utf8_cont(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

static void
typed_insert(struct line *l, const char *p, size_t n)
{
	struct sbuf *b = &l->typed;

	if (b->len + n > CMDX_MAX_COMMAND) {
		l->truncated = 1;
		return;
	}
	if (sbuf_add(b, p, n) != 0)
		return;
	memmove(b->p + l->pos + n, b->p + l->pos, b->len - n - l->pos);
	memcpy(b->p + l->pos, p, n);
	l->pos += n;
}

static void
typed_delete(struct line *l, size_t from, size_t to)
{
	struct sbuf *b = &l->typed;

	if (from >= to || to > b->len)
		return;
	memmove(b->p + from, b->p + to, b->len - to + 1);
	b->len -= to - from;
	if (l->pos > to)
		l->pos -= to - from;
	else if (l->pos > from)
		l->pos = from;
}

static size_t
char_before(const struct line *l, size_t pos)
{
	while (pos > 0) {
		pos--;
		if (!utf8_cont(l->typed.p[pos]))
			break;
	}
	return pos;
}

static size_t
char_after(const struct line *l, size_t pos)
{
	if (pos < l->typed.len)
		pos++;
	while (pos < l->typed.len && utf8_cont(l->typed.p[pos]))
		pos++;
	return pos;
}

/* readline's unix-word-rubout: blanks, then up to the previous blank. */
static void
typed_word_rubout(struct line *l)
{
	size_t p = l->pos;

	while (p > 0 && (l->typed.p[p - 1] == ' ' || l->typed.p[p - 1] == '\t'))
		p--;
	while (p > 0 && l->typed.p[p - 1] != ' ' && l->typed.p[p - 1] != '\t')
		p--;
	typed_delete(l, p, l->pos);
}

/* The first key of a line: what is on screen before the cursor now is the
 * prompt the line will be typed after. */
static int
line_start(struct cmdx *cx)
{
	struct line *l = &cx->cur;
	struct sbuf p = {0};
	VTermPos cur;
	int r, row;

	if ((r = lazy_flush(cx)) != 0)
		return r;
	vterm_state_get_cursorpos(cx->state, &cur);
	if (cur.row < 0 || cur.row >= cx->rows)
		cur.row = cx->rows - 1;
	l->started = 1;
	l->anchor = logical_start(cx, cur.row);
	for (row = l->anchor; row < cur.row; row++)
		row_text(cx, row, cx->cols, &p);
	row_text(cx, cur.row, cur.col, &p);
	sbuf_add(&p, "", 0);
	if (p.oom) {
		sbuf_free(&p);
		return ERR_NOMEM;
	}
	/* Nothing before the cursor: a key typed at the start of a row, ahead
	 * of its prompt (type-ahead, or input to a program); leave the prompt
	 * to be found later. */
	if (p.len > 0)
		l->prompt = p.p;
	else
		sbuf_free(&p);
	l->inactive = cx->bp_mode && !cx->rl_on;
	/* With nothing pending and the editor waiting, this is the prompt as
	 * the shell drew it: remember it for lines typed ahead of theirs. */
	if (cx->qcount == 0 && (cx->rl_on || !cx->bp_mode) && l->prompt != NULL) {
		char *dup = strdup(l->prompt);
		if (dup == NULL)
			return ERR_NOMEM;
		free(cx->last_prompt);
		cx->last_prompt = dup;
	}
	return 0;
}

static void
line_end(struct cmdx *cx, enum term how, int64_t t)
{
	struct line *l = &cx->cur;

	l->term = how;
	l->t_enter = t;
	l->seq = ++cx->term_count;
	l->inactive = cx->bp_mode && !cx->rl_on;
	queue_push_cur(cx);
}

static void
csi_key(struct cmdx *cx, const char *params, size_t plen, uint8_t final)
{
	struct line *l = &cx->cur;

	if (final == '~' && plen == 3 && memcmp(params, "200", 3) == 0) {
		cx->in.st = IN_PASTE;
		cx->in.paste_match = 0;
		return;
	}
	if (final == '~' && plen == 3 && memcmp(params, "201", 3) == 0)
		return;
	if (plen == 0 && final == 'D')
		l->pos = char_before(l, l->pos);
	else if (plen == 0 && final == 'C')
		l->pos = char_after(l, l->pos);
	else if ((plen == 0 && final == 'H') || (final == '~' && plen == 1 && (params[0] == '1' || params[0] == '7')))
		l->pos = 0;
	else if ((plen == 0 && final == 'F') || (final == '~' && plen == 1 && (params[0] == '4' || params[0] == '8')))
		l->pos = l->typed.len;
	else if (final == '~' && plen == 1 && params[0] == '3')
		typed_delete(l, l->pos, char_after(l, l->pos));
	else
		l->known = 0; /* history, word moves ...: only the screen knows */
}

static void
paste_byte(struct cmdx *cx, uint8_t c)
{
	static const char end[] = "\x1b[201~";
	struct line *l = &cx->cur;
	char ch = (char)c;

	if (c == (uint8_t)end[cx->in.paste_match]) {
		if (++cx->in.paste_match == sizeof(end) - 1) {
			cx->in.st = IN_NORMAL;
			cx->in.paste_match = 0;
		}
		return;
	}
	if (cx->in.paste_match > 0) {
		typed_insert(l, end, cx->in.paste_match);
		cx->in.paste_match = 0;
		if (c == 0x1b) {
			cx->in.paste_match = 1;
			return;
		}
	}
	if (ch == '\r')
		ch = '\n'; /* readline stores pasted line ends as newlines */
	typed_insert(l, &ch, 1);
}

static int
input_byte(struct cmdx *cx, uint8_t c, int64_t t)
{
	struct line *l = &cx->cur;
	int r;

	if (!l->started && (r = line_start(cx)) != 0)
		return r;
	switch (cx->in.st) {
	case IN_PASTE: paste_byte(cx, c); return 0;
	case IN_ESC:
		if (c == '[') {
			cx->in.st = IN_CSI;
			cx->in.plen = 0;
		} else if (c == 'O') {
			cx->in.st = IN_SS3;
		} else {
			l->known = 0; /* a Meta key */
			cx->in.st = IN_NORMAL;
		}
		return 0;
	case IN_CSI:
		if (c >= 0x20 && c <= 0x3f) {
			if (cx->in.plen < sizeof(cx->in.params))
				cx->in.params[cx->in.plen++] = (char)c;
			else
				l->known = 0;
			return 0;
		}
		cx->in.st = IN_NORMAL;
		csi_key(cx, cx->in.params, cx->in.plen, c);
		return 0;
	case IN_SS3:
		cx->in.st = IN_NORMAL;
		csi_key(cx, NULL, 0, c);
		return 0;
	case IN_NORMAL: break;
	}
	switch (c) {
	case 0x1b: cx->in.st = IN_ESC; break;
	case '\r':
	case '\n': line_end(cx, TERM_ENTER, t); break;
	case 0x03: line_end(cx, TERM_INTR, t); break;
	case 0x04:
		if (l->typed.len == 0)
			line_end(cx, TERM_EOF, t);
		else
			typed_delete(l, l->pos, char_after(l, l->pos));
		break;
	case 0x7f:
	case 0x08: typed_delete(l, char_before(l, l->pos), l->pos); break;
	case 0x01: l->pos = 0; break;
	case 0x05: l->pos = l->typed.len; break;
	case 0x02: l->pos = char_before(l, l->pos); break;
	case 0x06: l->pos = char_after(l, l->pos); break;
	case 0x0b: typed_delete(l, l->pos, l->typed.len); break;
	case 0x15: typed_delete(l, 0, l->pos); break;
	case 0x17: typed_word_rubout(l); break;
	case 0x0c: break; /* redraw */
	default:
		if (c < 0x20)
			l->known = 0; /* Tab, Ctrl-R, Ctrl-P ... */
		else
			typed_insert(l, (const char *)&c, 1);
	}
	return 0;
}

/* ---- API ---- */

static int
grid_alloc(int cols, int rows, struct cell **main_cells, struct cell **alt_cells, uint8_t **main_cont,
           uint8_t **alt_cont)
{
	size_t n = (size_t)cols * rows;

	*main_cells = malloc(n * sizeof(struct cell));
	*alt_cells = malloc(n * sizeof(struct cell));
	*main_cont = calloc((size_t)rows, 1);
	*alt_cont = calloc((size_t)rows, 1);
	if (*main_cells == NULL || *alt_cells == NULL || *main_cont == NULL || *alt_cont == NULL) {
		free(*main_cells);
		free(*alt_cells);
		free(*main_cont);
		free(*alt_cont);
		return ERR_NOMEM;
	}
	clear_cells(*main_cells, n);
	clear_cells(*alt_cells, n);
	return 0;
}

static int
size_ok(int cols, int rows)
{
	return cols >= 2 && rows >= 1 && cols <= 4096 && rows <= 4096 && (long)cols * rows <= 1000000;
}

struct cmdx *
cmdx_new(int cols, int rows)
{
	struct cmdx *cx = NULL, *ret = NULL;

	if (!size_ok(cols, rows))
		goto out;
	if ((cx = calloc(1, sizeof(*cx))) == NULL)
		goto out;
	cx->cols = cols;
	cx->rows = rows;
	if (grid_alloc(cols, rows, &cx->main_cells, &cx->alt_cells, &cx->main_cont, &cx->alt_cont) != 0)
		goto out;
	cx->cells = cx->main_cells;
	cx->cont = cx->main_cont;
	if ((cx->lazy = malloc(2 * LAZY_MAX)) == NULL)
		goto out;
	if ((cx->ev = calloc(EVENTS_MAX, sizeof(*cx->ev))) == NULL)
		goto out;
	line_reset(&cx->cur);
	for (int i = 0; i < QUEUE_MAX; i++)
		line_reset(&cx->q[i]);
	cx->rl_anchor = NO_ANCHOR;
	cx->snap_row = NO_ANCHOR;
	if ((cx->vt = vterm_new(rows, cols)) == NULL)
		goto out;
	vterm_set_utf8(cx->vt, 1);
	vterm_output_set_callback(cx->vt, discard_output, NULL);
	cx->state = vterm_obtain_state(cx->vt);
	vterm_state_set_callbacks(cx->state, &state_cbs, cx);
	vterm_state_reset(cx->state, 1);
	ret = cx;
	cx = NULL;
out:
	cmdx_free(cx);
	return ret;
}

void
cmdx_free(struct cmdx *cx)
{
	if (cx == NULL)
		return;
	if (cx->vt != NULL)
		vterm_free(cx->vt);
	free(cx->main_cells);
	free(cx->alt_cells);
	free(cx->main_cont);
	free(cx->alt_cont);
	free(cx->sb_cells);
	free(cx->sb_cont);
	/* typed keys may hold a password typed at a program's prompt */
	if (cx->lazy != NULL)
		explicit_bzero(cx->lazy, 2 * LAZY_MAX);
	free(cx->lazy);
	free(cx->last_prompt);
	sbuf_free(&cx->join);
	for (int i = 0; i < QUEUE_MAX; i++) {
		line_reset(&cx->q[i]);
		if (cx->q[i].typed.p != NULL)
			explicit_bzero(cx->q[i].typed.p, cx->q[i].typed.cap);
		sbuf_free(&cx->q[i].typed);
	}
	line_reset(&cx->cur);
	if (cx->cur.typed.p != NULL)
		explicit_bzero(cx->cur.typed.p, cx->cur.typed.cap);
	sbuf_free(&cx->cur.typed);
	while (cx->ev != NULL && cx->ev_count > 0) {
		free(cx->ev[cx->ev_head].text);
		cx->ev_head = (cx->ev_head + 1) % EVENTS_MAX;
		cx->ev_count--;
	}
	free(cx->ev);
	free(cx);
}

int
cmdx_resize(struct cmdx *cx, int cols, int rows)
{
	struct cell *mc = NULL, *ac = NULL;
	uint8_t *mo = NULL, *ao = NULL;
	VTermPos cur;
	int r, row, shift, ncopy, ccopy, i;

	if (cx == NULL || !size_ok(cols, rows))
		return ERR_INVALID;
	if (cols == cx->cols && rows == cx->rows)
		return 0;
	if ((r = lazy_flush(cx)) != 0)
		return r;
	if ((r = grid_alloc(cols, rows, &mc, &ac, &mo, &ao)) != 0)
		return r;
	vterm_state_get_cursorpos(cx->state, &cur);
	shift = cur.row >= rows ? cur.row - (rows - 1) : 0;
	ncopy = cx->rows - shift < rows ? cx->rows - shift : rows;
	ccopy = cx->cols < cols ? cx->cols : cols;
	for (row = 0; row < ncopy; row++) {
		memcpy(mc + (size_t)row * cols, cx->main_cells + (size_t)(row + shift) * cx->cols,
		       (size_t)ccopy * sizeof(struct cell));
		mo[row] = cx->main_cont[row + shift];
	}
	free(cx->main_cells);
	free(cx->alt_cells);
	free(cx->main_cont);
	free(cx->alt_cont);
	cx->main_cells = mc;
	cx->alt_cells = ac;
	cx->main_cont = mo;
	cx->alt_cont = ao;
	cx->cells = cx->alt ? ac : mc;
	cx->cont = cx->alt ? ao : mo;
	cx->rows = rows;
	cx->cols = cols;
	/* saved rows have the old width: forget them and the lines' anchors */
	free(cx->sb_cells);
	free(cx->sb_cont);
	cx->sb_cells = NULL;
	cx->sb_cont = NULL;
	sb_clear(cx);
	cx->cur.anchor = NO_ANCHOR;
	cx->rl_anchor = NO_ANCHOR;
	cx->snap_row = NO_ANCHOR;
	for (i = 0; i < QUEUE_MAX; i++)
		cx->q[i].anchor = NO_ANCHOR;
	cx->pending_wrap = 0;
	cx->resize_shift = shift;
	vterm_set_size(cx->vt, rows, cols);
	cx->resize_shift = 0;
	return cx->err;
}

int
cmdx_input(struct cmdx *cx, const uint8_t *buf, size_t len, int64_t t_us)
{
	size_t i;
	int r;

	if (cx == NULL || (buf == NULL && len > 0))
		return ERR_INVALID;
	if (cx->err)
		return cx->err;
	for (i = 0; i < len; i++) {
		if (cx->alt)
			continue; /* keys for a full-screen program */
		if ((r = input_byte(cx, buf[i], t_us)) != 0)
			return r;
	}
	return 0;
}

int
cmdx_output(struct cmdx *cx, const uint8_t *buf, size_t len, int64_t t_us)
{
	uint8_t *tmp = NULL;
	int r = ERR_INTERNAL;

	if (cx == NULL || (buf == NULL && len > 0))
		return ERR_INVALID;
	if (cx->err)
		return cx->err;
	if (len == 0)
		return 0;
	cx->now = t_us;
	if (cx->carry_len > 0) {
		if ((tmp = malloc(cx->carry_len + len)) == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		memcpy(tmp, cx->carry, cx->carry_len);
		memcpy(tmp + cx->carry_len, buf, len);
		len += cx->carry_len;
		buf = tmp;
		cx->carry_len = 0;
	}
	r = output_chunk(cx, buf, len);
	if (r == 0)
		r = cx->err;
	if (tracking(cx) == 0)
		sb_clear(cx);
out:
	free(tmp);
	return r;
}

size_t
cmdx_input_enter_offset(const struct cmdx *cx, const uint8_t *buf, size_t len)
{
	struct inparse in;
	size_t i;
	static const char end[] = "\x1b[201~";

	if (cx == NULL || buf == NULL || cx->alt)
		return len;
	in = cx->in;
	for (i = 0; i < len; i++) {
		uint8_t c = buf[i];
		switch (in.st) {
		case IN_PASTE:
			if (c == (uint8_t)end[in.paste_match]) {
				if (++in.paste_match == sizeof(end) - 1) {
					in.st = IN_NORMAL;
					in.paste_match = 0;
				}
			} else {
				in.paste_match = c == 0x1b ? 1 : 0;
			}
			break;
		case IN_ESC:
			in.st = c == '[' ? IN_CSI : c == 'O' ? IN_SS3 : IN_NORMAL;
			in.plen = 0;
			break;
		case IN_CSI:
			if (c >= 0x20 && c <= 0x3f) {
				if (in.plen < sizeof(in.params))
					in.params[in.plen++] = (char)c;
				break;
			}
			in.st = IN_NORMAL;
			if (c == '~' && in.plen == 3 && memcmp(in.params, "200", 3) == 0) {
				in.st = IN_PASTE;
				in.paste_match = 0;
			}
			break;
		case IN_SS3: in.st = IN_NORMAL; break;
		case IN_NORMAL:
			if (c == '\r' || c == '\n')
				return i;
			if (c == 0x1b)
				in.st = IN_ESC;
			break;
		}
	}
	return len;
}

/* The unfinished lines before the current one, joined as emit_line does. */
static void
join_pending(const struct cmdx *cx, const char *text, size_t len, struct sbuf *out)
{
	if (cx->joining) {
		sbuf_add(out, cx->join.p, cx->join.len);
		if (out->len > 0 && out->p[out->len - 1] == '\\')
			out->p[--out->len] = '\0';
		else
			sbuf_add(out, "\n", 1);
	}
	sbuf_add(out, text, len);
}

int
cmdx_pending_command(struct cmdx *cx, char **text)
{
	struct sbuf s = {0}, all = {0};
	unsigned flags = 0;
	int r = ERR_INTERNAL;

	if (cx == NULL || text == NULL)
		return ERR_INVALID;
	*text = NULL;
	if (cx->alt || !cx->cur.started) {
		r = ERR_NOTFOUND;
		goto out;
	}
	if ((r = lazy_flush(cx)) != 0)
		goto out;
	/* Lines typed ahead and not yet echoed: the screen is behind, the
	 * keys are the better witness when they can be replayed. */
	if (cx->qcount > 0 && cx->cur.known && !cx->cur.truncated)
		r = sbuf_add(&s, cx->cur.typed.p ? cx->cur.typed.p : "", cx->cur.typed.len);
	else
		r = screen_command(cx, cx->cur.prompt, cx->cur.anchor, NO_ANCHOR, &s, &flags);
	if (r != 0)
		goto out;
	join_pending(cx, s.p ? s.p : "", s.len, &all);
	sbuf_add(&all, "", 0);
	if (all.oom) {
		r = ERR_NOMEM;
		goto out;
	}
	*text = all.p;
	all.p = NULL;
	r = 0;
out:
	sbuf_free(&s);
	sbuf_free(&all);
	return r;
}

int
cmdx_pending_typed(struct cmdx *cx, char **text)
{
	struct sbuf all = {0};

	if (cx == NULL || text == NULL)
		return ERR_INVALID;
	*text = NULL;
	if (cx->alt || !cx->cur.started || !cx->cur.known || cx->cur.truncated)
		return ERR_NOTFOUND;
	join_pending(cx, cx->cur.typed.p ? cx->cur.typed.p : "", cx->cur.typed.len, &all);
	sbuf_add(&all, "", 0);
	if (all.oom) {
		sbuf_free(&all);
		return ERR_NOMEM;
	}
	*text = all.p;
	return 0;
}

void
cmdx_cancel_line(struct cmdx *cx)
{
	if (cx == NULL)
		return;
	line_reset(&cx->cur);
	cx->in.st = IN_NORMAL;
	cx->joining = 0;
	sbuf_reset(&cx->join);
}

int
cmdx_next(struct cmdx *cx, struct cmdx_event *ev)
{
	if (cx == NULL || ev == NULL)
		return ERR_INVALID;
	if (cx->ev_count == 0)
		return ERR_NOTFOUND;
	*ev = cx->ev[cx->ev_head];
	memset(&cx->ev[cx->ev_head], 0, sizeof(cx->ev[0]));
	cx->ev_head = (cx->ev_head + 1) % EVENTS_MAX;
	cx->ev_count--;
	return 0;
}

void
cmdx_event_clear(struct cmdx_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->text);
	memset(ev, 0, sizeof(*ev));
}
