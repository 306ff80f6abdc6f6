/* Terminal snapshots that restore exactly (see keyframe.h and
 * docs/replay.md). The cache of a whole recording is keyframe-cache.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/keyframe.h"

/* Scanner states: where in the escape-sequence grammar the last byte fed
 * left us. Only GROUND is a point where a snapshot may be taken. */
enum scan_state { SC_GROUND = 0, SC_ESC, SC_ESC_INTER, SC_CSI, SC_STR, SC_STR_ESC };

/* libvterm 0.1.4 writes CSI parameters past its 16-entry array when a
 * sequence has more separators (see cmdx-screen.c): separators beyond a
 * safe count are dropped before libvterm sees them. */
#define CSI_SAFE_ARGS 12

struct kf_pen {
	uint16_t attrs; /* bold 0, underline 1-2, italic 3, blink 4, reverse 5, strike 6, font 7-10 */
	VTermColor fg, bg;
};

struct kf_saved {
	int valid; /* a DECSC (or 1048/1049) happened: restore it */
	int row, col;
	struct kf_pen pen;
	int visible, shape; /* cursor visibility and DECSCUSR value */
};

struct kf_term {
	VTerm *vt;
	VTermScreen *screen;
	VTermState *state;
	int cols, rows;
	/* scanner */
	enum scan_state sc;
	int utf8_left; /* continuation bytes still expected */
	char u8[4];    /* the partial character held back from libvterm */
	int u8_len;
	int csi_args;     /* separators seen in the current CSI */
	char csi_leader;  /* '?', '>' ... or 0 */
	char csi_buf[32]; /* parameters of the current CSI (truncated) */
	size_t csi_len;
	char csi_inter;   /* the intermediate byte seen, or 0 */
	char esc_inter;   /* first intermediate after ESC */
	int single_shift; /* SS2/SS3 pending for the next character */
	/* Character sets: libvterm starts with UTF-8 in G0..G3; ESC ( B
	 * makes G0 plain ASCII (ncurses sends it with every sgr0), ESC ( 0
	 * the line-drawing set. Replayed by a restore. */
	char g_inter[4];    /* intermediate of G0..G3's last designation, 0 = initial */
	char g_final[4];    /* its final byte */
	int gl;             /* locking shift: which G set is GL */
	int tabs_dirty;     /* tab stops changed since the last reset */
	int lineattr_dirty; /* a double-width/height line attribute was used */
	int irm, lnm;       /* insert mode, newline mode (not asked via DECRQM) */
	int stbm_explicit;  /* the bottom margin was set, not left at its default */
	int slrm_explicit;  /* the right margin was set */
	int in_text;        /* the last byte fed was text */
	int run_glyph;      /* the current text run completed a glyph */
	int glyph_valid;    /* glyph_row/col hold the cursor after the last glyph */
	int glyph_row, glyph_col;
	int pending_cols; /* a resize waiting for the end of a sequence (0 = none) */
	int pending_rows;
	struct kf_saved saved;
	/* answers to our own queries */
	char reply[64];
	size_t reply_len;
	int querying;
};

/* ---- small helpers ------------------------------------------------------ */

static void
on_output(const char *s, size_t len, void *user)
{
	struct kf_term *t = user;

	/* Answers to the target's queries are the operator terminal's job;
	 * we keep only the answers to ours. */
	if (!t->querying)
		return;
	if (len > sizeof(t->reply) - 1 - t->reply_len)
		len = sizeof(t->reply) - 1 - t->reply_len;
	memcpy(t->reply + t->reply_len, s, len);
	t->reply_len += len;
	t->reply[t->reply_len] = '\0';
}

static int
vt_open(struct kf_term *t, int cols, int rows)
{
	t->vt = vterm_new(rows, cols);
	if (t->vt == NULL)
		return ERR_NOMEM;
	vterm_set_utf8(t->vt, 1);
	t->screen = vterm_obtain_screen(t->vt);
	t->state = vterm_obtain_state(t->vt);
	vterm_screen_enable_altscreen(t->screen, 1);
	vterm_screen_reset(t->screen, 1);
	vterm_output_set_callback(t->vt, on_output, t);
	t->cols = cols;
	t->rows = rows;
	return 0;
}

static void
clamp_size(int *cols, int *rows)
{
	if (*cols < 2)
		*cols = 2;
	if (*cols > KF_MAX_COLS)
		*cols = KF_MAX_COLS;
	if (*rows < 1)
		*rows = 1;
	if (*rows > KF_MAX_ROWS)
		*rows = KF_MAX_ROWS;
	while ((long)*cols * *rows > KF_MAX_CELLS)
		(*rows)--;
}

static void
scanner_reset(struct kf_term *t)
{
	memset(t->g_inter, 0, sizeof(t->g_inter));
	memset(t->g_final, 0, sizeof(t->g_final));
	t->gl = 0;
	t->tabs_dirty = 0;
	t->lineattr_dirty = 0;
	t->irm = 0;
	t->lnm = 0;
	t->stbm_explicit = 0;
	t->slrm_explicit = 0;
	t->single_shift = 0;
}

int
kf_term_new(int cols, int rows, struct kf_term **out)
{
	struct kf_term *t = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ERR_NOMEM;
	clamp_size(&cols, &rows);
	if ((r = vt_open(t, cols, rows)) != 0)
		goto out;
	scanner_reset(t);
	*out = t;
	t = NULL;
	r = 0;
out:
	kf_term_free(t);
	return r;
}

void
kf_term_free(struct kf_term *t)
{
	if (t == NULL)
		return;
	if (t->vt != NULL)
		vterm_free(t->vt);
	free(t);
}

void
kf_term_size(const struct kf_term *t, int *cols, int *rows)
{
	*cols = t->pending_cols ? t->pending_cols : t->cols;
	*rows = t->pending_cols ? t->pending_rows : t->rows;
}

VTermScreen *
kf_term_screen(struct kf_term *t)
{
	return t->screen;
}

static int dec_mode(struct kf_term *t, int mode);
static int status_numbers(struct kf_term *t, const char *what, int *a, int *b);
static void pen_from_state(struct kf_term *t, struct kf_pen *p);
static void capture_saved(struct kf_term *t);
static void write_pen_seq(struct kf_term *t, const struct kf_pen *p);

/* Put the cursor at an absolute position, origin mode or not. */
static void
cursor_to(struct kf_term *t, int row, int col)
{
	char q[48];
	int top = 1, bottom = t->rows, left = 1, right = t->cols;

	if (dec_mode(t, 6)) {
		if (status_numbers(t, "r", &top, &bottom) != 0)
			top = 1;
		if (dec_mode(t, 69) && status_numbers(t, "s", &left, &right) != 0)
			left = 1;
		row -= top - 1;
		col -= left - 1;
	}
	snprintf(q, sizeof(q), "\033[%d;%dH", row + 1, col + 1);
	vterm_input_write(t->vt, q, strlen(q));
}

static void
clamp_cursor(struct kf_term *t)
{
	VTermPos pos;

	vterm_state_get_cursorpos(t->state, &pos);
	if (pos.row >= t->rows || pos.col >= t->cols || pos.row < 0 || pos.col < 0)
		cursor_to(t,
		          pos.row >= t->rows ? t->rows - 1
		          : pos.row < 0      ? 0
		                             : pos.row,
		          pos.col >= t->cols ? t->cols - 1
		          : pos.col < 0      ? 0
		                             : pos.col);
}

static void
apply_resize(struct kf_term *t, int cols, int rows)
{
	t->pending_cols = 0;
	if (cols == t->cols && rows == t->rows)
		return;
	vterm_set_size(t->vt, rows, cols);
	t->cols = cols;
	t->rows = rows;
	/* libvterm can leave the cursor outside a smaller screen (a row
	 * below zero when the screen shrinks under it): never write there. */
	clamp_cursor(t);
	/* libvterm 0.1.4 keeps a saved cursor that the new size leaves
	 * outside the screen and restores it as it is: the next glyph is
	 * written outside its buffer (memory corruption driven by the
	 * target's output: ESC 7, a smaller window, ESC 8). Save the clamped
	 * position instead, as xterm clamps on restore, then put the current
	 * cursor, pen and cursor mode back. */
	if (t->saved.valid && (t->saved.row >= rows || t->saved.col >= cols)) {
		struct kf_pen pen;
		VTermPos pos;
		int vis = dec_mode(t, 25), blink = dec_mode(t, 12), shape = 1;
		char q[48];

		if (status_numbers(t, " q", &shape, NULL) != 0)
			shape = 1;
		vterm_state_get_cursorpos(t->state, &pos);
		pen_from_state(t, &pen);
		cursor_to(t, t->saved.row < rows ? t->saved.row : rows - 1,
		          t->saved.col < cols ? t->saved.col : cols - 1);
		write_pen_seq(t, &t->saved.pen);
		snprintf(q, sizeof(q), "\033[%d q\033[?25%c\0337", t->saved.shape, t->saved.visible ? 'h' : 'l');
		vterm_input_write(t->vt, q, strlen(q));
		capture_saved(t);
		snprintf(q, sizeof(q), "\033[%d q\033[?12%c\033[?25%c", shape, blink ? 'h' : 'l', vis ? 'h' : 'l');
		vterm_input_write(t->vt, q, strlen(q));
		write_pen_seq(t, &pen);
		cursor_to(t, pos.row, pos.col);
	}
}

/* A resize in the middle of an escape sequence waits for its end, so that
 * the fix above can be fed between sequences; both replay paths do the
 * same, so they stay equal. */
void
kf_term_resize(struct kf_term *t, int cols, int rows)
{
	clamp_size(&cols, &rows);
	if (t->sc != SC_GROUND || t->utf8_left != 0) {
		t->pending_cols = cols;
		t->pending_rows = rows;
		return;
	}
	apply_resize(t, cols, rows);
}

/* Ask libvterm a DECRQM/DECRQSS question; the answer lands in t->reply. */
static const char *
query(struct kf_term *t, const char *q)
{
	t->reply_len = 0;
	t->reply[0] = '\0';
	t->querying = 1;
	vterm_input_write(t->vt, q, strlen(q));
	t->querying = 0;
	return t->reply;
}

/* DECRQM for a private mode: 1 set, 0 reset (or unknown). */
static int
dec_mode(struct kf_term *t, int mode)
{
	char q[24], *p;
	long v;

	snprintf(q, sizeof(q), "\033[?%d$p", mode);
	query(t, q);
	p = strchr(t->reply, ';');
	if (p == NULL)
		return 0;
	v = strtol(p + 1, NULL, 10);
	return v == 1 || v == 3;
}

/* DECRQSS: the numbers of the answer "ESC P 1 $ r a;b X ESC \". */
static int
status_numbers(struct kf_term *t, const char *what, int *a, int *b)
{
	char q[24], *p, *end;

	snprintf(q, sizeof(q), "\033P$q%s\033\\", what);
	query(t, q);
	p = strstr(t->reply, "$r");
	if (p == NULL)
		return ERR_NOTFOUND;
	p += 2;
	*a = (int)strtol(p, &end, 10);
	if (end == p)
		return ERR_NOTFOUND;
	if (b != NULL) {
		if (*end != ';')
			return ERR_NOTFOUND;
		p = end + 1;
		*b = (int)strtol(p, &end, 10);
		if (end == p)
			return ERR_NOTFOUND;
	}
	return 0;
}

static void
pen_from_cell(const VTermScreenCell *c, struct kf_pen *p)
{
	p->attrs = (uint16_t)(c->attrs.bold | c->attrs.underline << 1 | c->attrs.italic << 3 | c->attrs.blink << 4 |
	                      c->attrs.reverse << 5 | c->attrs.strike << 6 | (c->attrs.font & 15) << 7);
	p->fg = c->fg;
	p->bg = c->bg;
}

static void
pen_from_state(struct kf_term *t, struct kf_pen *p)
{
	VTermValue v;
	int u, font;

	memset(p, 0, sizeof(*p));
	vterm_state_get_penattr(t->state, VTERM_ATTR_BOLD, &v);
	p->attrs |= v.boolean ? 1 : 0;
	vterm_state_get_penattr(t->state, VTERM_ATTR_UNDERLINE, &v);
	u = v.number & 3;
	p->attrs |= (uint16_t)(u << 1);
	vterm_state_get_penattr(t->state, VTERM_ATTR_ITALIC, &v);
	p->attrs |= v.boolean ? 1 << 3 : 0;
	vterm_state_get_penattr(t->state, VTERM_ATTR_BLINK, &v);
	p->attrs |= v.boolean ? 1 << 4 : 0;
	vterm_state_get_penattr(t->state, VTERM_ATTR_REVERSE, &v);
	p->attrs |= v.boolean ? 1 << 5 : 0;
	vterm_state_get_penattr(t->state, VTERM_ATTR_STRIKE, &v);
	p->attrs |= v.boolean ? 1 << 6 : 0;
	vterm_state_get_penattr(t->state, VTERM_ATTR_FONT, &v);
	font = v.number & 15;
	p->attrs |= (uint16_t)(font << 7);
	vterm_state_get_penattr(t->state, VTERM_ATTR_FOREGROUND, &v);
	p->fg = v.color;
	vterm_state_get_penattr(t->state, VTERM_ATTR_BACKGROUND, &v);
	p->bg = v.color;
}

/* ---- the scanner ---------------------------------------------------------- */

static void
capture_saved(struct kf_term *t)
{
	VTermPos pos;
	int a;

	vterm_state_get_cursorpos(t->state, &pos);
	t->saved.valid = 1;
	t->saved.row = pos.row;
	t->saved.col = pos.col;
	pen_from_state(t, &t->saved.pen);
	t->saved.visible = dec_mode(t, 25);
	t->saved.shape = status_numbers(t, " q", &a, NULL) == 0 ? a : 1;
}

#define CURSOR_SAVED    1
#define CURSOR_RESTORED 2

/* A complete CSI: follow what the queries cannot tell. Returns
 * CURSOR_SAVED when it saved the cursor (the caller captures the state
 * after it), CURSOR_RESTORED when it restored it. */
static int
csi_done(struct kf_term *t, char final)
{
	char *p = t->csi_buf, *end;
	long v;
	int saved = 0;

	t->csi_buf[t->csi_len < sizeof(t->csi_buf) ? t->csi_len : sizeof(t->csi_buf) - 1] = '\0';
	if (t->csi_inter) {
		if (final == 'p' && t->csi_inter == '!' && t->csi_leader == 0) {
			/* DECSTR: libvterm's soft reset puts modes, character
			 * sets and tab stops back to their defaults. */
			int saved_valid = t->saved.valid;
			struct kf_saved sv = t->saved;

			scanner_reset(t);
			t->saved = sv;
			t->saved.valid = saved_valid;
		}
		return 0;
	}
	if (final == 'g') {
		t->tabs_dirty = 1;
		return 0;
	}
	if ((final == 'r' || final == 's') && t->csi_leader == 0) {
		/* DECSTBM / DECSLRM (libvterm 0.1.4 reads CSI s as DECSLRM
		 * always, never as a cursor save). A bottom (right) margin set
		 * explicitly stays where it is when the window grows, one left
		 * at its default follows the window; both read back the same,
		 * so which one it is is worked out here, as libvterm does. */
		long a = -1, b2 = -1;
		int n = 0, size = final == 'r' ? t->rows : t->cols;
		long lo, hi;

		p = t->csi_buf;
		for (;;) {
			long arg = -1;

			if (*p >= '0' && *p <= '9')
				arg = strtol(p, &end, 10);
			else
				end = p;
			if (n == 0)
				a = arg;
			else if (n == 1)
				b2 = arg;
			n++;
			while (*end != '\0' && *end != ';')
				end++;
			if (*end != ';')
				break;
			p = end + 1;
		}
		lo = (a < 0 ? 1 : a) - 1;
		hi = n < 2 || b2 < 0 ? -1 : b2;
		if (lo < 0)
			lo = 0;
		if (lo > size)
			lo = size;
		if (hi < -1)
			hi = -1;
		if (lo == 0 && hi == size)
			hi = -1;
		else if (hi > size)
			hi = size;
		if ((hi > -1 ? hi : size) <= lo)
			hi = -1;
		if (final == 'r')
			t->stbm_explicit = hi > -1;
		else
			t->slrm_explicit = hi > -1;
		return 0;
	}
	if (final != 'h' && final != 'l')
		return 0;
	for (;;) {
		v = strtol(p, &end, 10);
		if (t->csi_leader == 0) {
			if (v == 4)
				t->irm = final == 'h';
			else if (v == 20)
				t->lnm = final == 'h';
		} else if (t->csi_leader == '?' && (v == 1048 || v == 1049)) {
			saved |= final == 'h' ? CURSOR_SAVED : CURSOR_RESTORED;
		}
		if (*end != ';')
			break;
		p = end + 1;
	}
	return saved;
}

static void
esc_done(struct kf_term *t, char final)
{
	if (t->esc_inter == 0) {
		switch (final) {
		case 'c': scanner_reset(t); break;
		case 'H': t->tabs_dirty = 1; break;
		case 'N':
		case 'O': t->single_shift = 1; break;
		case 'n': t->gl = 2; break;
		case 'o': t->gl = 3; break;
		default: break;
		}
	} else if (t->esc_inter >= '(' && t->esc_inter <= '+') {
		t->g_inter[t->esc_inter - '('] = t->esc_inter;
		t->g_final[t->esc_inter - '('] = final;
	} else if (t->esc_inter >= '-' && t->esc_inter <= '/') {
		t->g_inter[t->esc_inter - '-' + 1] = t->esc_inter; /* 96-character sets: G1..G3 */
		t->g_final[t->esc_inter - '-' + 1] = final;
	} else if (t->esc_inter == '#') {
		if (final >= '3' && final <= '6')
			t->lineattr_dirty = 1;
	}
}

/* Bytes on their way to libvterm, fed in chunks at the points where the
 * scanner needs libvterm to have seen everything before. */
struct feed {
	char buf[4096];
	size_t len;
};

static void
feed_flush(struct kf_term *t, struct feed *f)
{
	if (f->len > 0)
		vterm_input_write(t->vt, f->buf, f->len);
	f->len = 0;
}

static void
feed_put(struct kf_term *t, struct feed *f, const char *p, size_t n)
{
	if (f->len + n > sizeof(f->buf))
		feed_flush(t, f);
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

/* The end of a run of text: where the cursor is now is where a combining
 * character arriving next would attach to the glyph before it (libvterm
 * appends it only when the cursor is right after the last glyph written).
 * Nothing tells that from the outside, so it is noted here. */
static void
text_run_end(struct kf_term *t, struct feed *f)
{
	VTermPos pos;

	t->in_text = 0;
	if (!t->run_glyph)
		return;
	t->run_glyph = 0;
	feed_flush(t, f);
	vterm_state_get_cursorpos(t->state, &pos);
	t->glyph_valid = 1;
	t->glyph_row = pos.row;
	t->glyph_col = pos.col;
}

static const char replacement[] = "\xef\xbf\xbd";

/* A text byte in the ground state. libvterm's own UTF-8 decoder keeps a
 * partial character across write calls, escape sequences and controls,
 * and whether a following ASCII byte cancels it depends on where libvterm
 * happens to split its text runs: a state nobody can read back, so that
 * two emulators fed the same bytes from different starting points could
 * disagree. So libvterm is only ever given whole characters: a partial
 * one waits here (t->u8), a broken one becomes U+FFFD, as libvterm would
 * show it. */
static void
text_byte(struct kf_term *t, struct feed *f, unsigned char c)
{
	if (c < 0x80) {
		if (t->utf8_left > 0) {
			feed_put(t, f, replacement, 3);
			t->utf8_left = 0;
		}
		feed_put(t, f, (const char *)&c, 1);
		t->run_glyph = 1;
		t->single_shift = 0;
		return;
	}
	if (c < 0xc0) {
		if (t->utf8_left == 0) {
			feed_put(t, f, replacement, 3);
			t->run_glyph = 1;
			return;
		}
		t->u8[t->u8_len++] = (char)c;
		if (--t->utf8_left == 0) {
			feed_put(t, f, t->u8, t->u8_len);
			t->u8_len = 0;
			t->run_glyph = 1;
			t->single_shift = 0;
		}
		return;
	}
	if (t->utf8_left > 0) {
		feed_put(t, f, replacement, 3);
		t->run_glyph = 1;
	}
	t->u8_len = 0;
	t->utf8_left = 0;
	if (c >= 0xf5) {
		feed_put(t, f, replacement, 3); /* never a valid lead byte */
		t->run_glyph = 1;
		return;
	}
	t->u8[t->u8_len++] = (char)c;
	t->utf8_left = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
}

void
kf_term_write(struct kf_term *t, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	struct feed f;
	size_t i;

	f.len = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];
		int save_now = 0;

		if (t->sc == SC_GROUND) {
			if (c >= 0x80 || (c >= 0x20 && c != 0x7f)) {
				t->in_text = 1;
				text_byte(t, &f, c);
				goto after;
			}
			if (t->in_text)
				text_run_end(t, &f);
		}
		switch (t->sc) {
		case SC_GROUND:
			if (c == 0x1b) {
				t->sc = SC_ESC;
				t->esc_inter = 0;
			} else if (c == 0x0e || c == 0x0f) {
				t->gl = c == 0x0e ? 1 : 0;
			}
			break;
		case SC_ESC:
			if (c == '[') {
				t->sc = SC_CSI;
				t->csi_args = 0;
				t->csi_len = 0;
				t->csi_leader = 0;
				t->csi_inter = 0;
			} else if (c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X') {
				t->sc = SC_STR;
			} else if (c >= 0x20 && c <= 0x2f) {
				t->esc_inter = (char)c;
				t->sc = SC_ESC_INTER;
			} else if (c >= 0x30 && c <= 0x7e) {
				esc_done(t, (char)c);
				save_now = c == '7' ? CURSOR_SAVED : c == '8' ? CURSOR_RESTORED : 0;
				t->sc = SC_GROUND;
			} else if (c != 0x1b && c >= 0x20) {
				t->sc = SC_GROUND;
			}
			break;
		case SC_ESC_INTER:
			if (c >= 0x30 && c <= 0x7e) {
				esc_done(t, (char)c);
				t->sc = SC_GROUND;
			} else if (c == 0x1b) {
				t->sc = SC_ESC;
				t->esc_inter = 0;
			}
			break;
		case SC_CSI:
			if (c == 0x1b) {
				t->sc = SC_ESC;
				t->esc_inter = 0;
			} else if (c >= 0x40 && c <= 0x7e) {
				t->sc = SC_GROUND;
				save_now = csi_done(t, (char)c);
			} else if (c >= 0x3c && c <= 0x3f && t->csi_len == 0 && t->csi_leader == 0) {
				t->csi_leader = (char)c;
			} else if (c >= 0x20 && c <= 0x2f) {
				t->csi_inter = (char)c;
			} else if (c == ';' || c == ':') {
				if (t->csi_len < sizeof(t->csi_buf) - 1)
					t->csi_buf[t->csi_len++] = (char)c;
				if (++t->csi_args > CSI_SAFE_ARGS)
					continue; /* drop this separator */
			} else if (c >= 0x30 && c <= 0x39) {
				if (t->csi_len < sizeof(t->csi_buf) - 1)
					t->csi_buf[t->csi_len++] = (char)c;
			}
			break;
		case SC_STR:
			if (c == 0x1b)
				t->sc = SC_STR_ESC;
			else if (c == 0x07)
				t->sc = SC_GROUND;
			break;
		case SC_STR_ESC: t->sc = c == '\\' ? SC_GROUND : c == 0x1b ? SC_STR_ESC : SC_STR; break;
		}
		feed_put(t, &f, (const char *)&c, 1);
	after:
		if (save_now & CURSOR_SAVED) {
			/* Let libvterm process the save, then note what it
			 * saved: the same state it has now. */
			feed_flush(t, &f);
			capture_saved(t);
		}
		if (save_now & CURSOR_RESTORED) {
			/* libvterm 0.1.4 restores a saved position that a
			 * smaller window left outside the screen, and the next
			 * glyph is written outside its buffers: put the cursor
			 * back inside at once (xterm clamps the same way). */
			feed_flush(t, &f);
			clamp_cursor(t);
		}
		if (t->pending_cols != 0 && t->sc == SC_GROUND && t->utf8_left == 0) {
			feed_flush(t, &f);
			apply_resize(t, t->pending_cols, t->pending_rows);
		}
	}
	if (t->in_text)
		text_run_end(t, &f);
	feed_flush(t, &f);
}

void
kf_term_cursor(struct kf_term *t, int *row, int *col, int *visible, int *alt)
{
	VTermPos pos;

	vterm_state_get_cursorpos(t->state, &pos);
	*row = pos.row;
	*col = pos.col;
	*visible = dec_mode(t, 25);
	*alt = dec_mode(t, 1047);
}

int
kf_term_safe(const struct kf_term *t)
{
	VTermPos pos;

	if (t->sc != SC_GROUND || t->utf8_left != 0 || t->single_shift || t->tabs_dirty || t->lineattr_dirty)
		return 0;
	/* A cursor saved before the window shrank lies outside it: no
	 * escape sequence can save such a position again. */
	if (t->saved.valid && (t->saved.row >= t->rows || t->saved.col >= t->cols))
		return 0;
	vterm_state_get_cursorpos(t->state, &pos);
	/* At the last column a wrap may be pending, which no query shows. */
	return pos.col < t->cols - 1;
}

/* ---- serialisation -------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void
wb_put(struct wbuf *b, const void *d, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->err = ERR_NOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void
wb_u8(struct wbuf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;

	wb_put(b, &c, 1);
}

static void
wb_u16(struct wbuf *b, unsigned v)
{
	uint8_t c[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	wb_put(b, c, 2);
}

static void
wb_u32(struct wbuf *b, uint32_t v)
{
	uint8_t c[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	wb_put(b, c, 4);
}

static void
wb_color(struct wbuf *b, const VTermColor *c)
{
	wb_u8(b, c->type);
	if (VTERM_COLOR_IS_INDEXED(c)) {
		wb_u8(b, c->indexed.idx);
		wb_u8(b, 0);
		wb_u8(b, 0);
	} else {
		wb_u8(b, c->rgb.red);
		wb_u8(b, c->rgb.green);
		wb_u8(b, c->rgb.blue);
	}
}

static void
wb_pen(struct wbuf *b, const struct kf_pen *p)
{
	wb_u16(b, p->attrs);
	wb_color(b, &p->fg);
	wb_color(b, &p->bg);
}

/* A cell that a fresh screen already has: erased, default colours. */
static int
cell_is_blank(const VTermScreenCell *c)
{
	struct kf_pen p;

	pen_from_cell(c, &p);
	return c->chars[0] == 0 && p.attrs == 0 && VTERM_COLOR_IS_DEFAULT_FG(&c->fg) &&
	       VTERM_COLOR_IS_DEFAULT_BG(&c->bg);
}

/* Cells of the current screen, row by row: tag 0 + u16 count for a run of
 * blank cells, tag 1 + cell otherwise. */
static void
wb_screen(struct wbuf *b, struct kf_term *t)
{
	int row, col;
	unsigned run = 0;

	for (row = 0; row < t->rows; row++) {
		for (col = 0; col < t->cols; col++) {
			VTermScreenCell c;
			VTermPos pos = {row, col};
			struct kf_pen p;
			int n;

			memset(&c, 0, sizeof(c));
			vterm_screen_get_cell(t->screen, pos, &c);
			if (cell_is_blank(&c)) {
				run++;
				if (run == 65535) {
					wb_u8(b, 0);
					wb_u16(b, run);
					run = 0;
				}
				continue;
			}
			if (run > 0) {
				wb_u8(b, 0);
				wb_u16(b, run);
				run = 0;
			}
			wb_u8(b, 1);
			for (n = 0; n < VTERM_MAX_CHARS_PER_CELL && c.chars[n] != 0; n++)
				;
			/* The right half of a wide glyph. libvterm leaves the
			 * cell's earlier combining characters behind it; no
			 * renderer shows them and nothing brings them back. */
			if (c.chars[0] == (uint32_t)-1)
				n = 1;
			wb_u8(b, (unsigned)n | (unsigned)(c.width == 2) << 4);
			for (int k = 0; k < n; k++)
				wb_u32(b, c.chars[k]);
			pen_from_cell(&c, &p);
			wb_pen(b, &p);
		}
	}
	if (run > 0) {
		wb_u8(b, 0);
		wb_u16(b, run);
	}
}

#define KF_MAGIC   "KFS1"
#define F_ALT      0x001
#define F_VISIBLE  0x002
#define F_BLINK    0x004
#define F_REVERSE  0x008
#define F_ORIGIN   0x010
#define F_AUTOWRAP 0x020
#define F_IRM      0x040
#define F_LNM      0x080
#define F_LRMM     0x100
#define F_SAVED    0x200
#define F_SVISIBLE 0x400
#define F_ATTACH   0x800  /* a combining character would join the glyph left of the cursor */
#define F_STBM_SET 0x1000 /* the bottom margin is explicit (matters when it is the last row) */
#define F_SLRM_SET 0x2000 /* the right margin is explicit */

int
kf_term_snapshot(struct kf_term *t, uint8_t **blob, size_t *len)
{
	struct wbuf b = {0};
	struct kf_term *fresh = NULL;
	struct kf_pen pen;
	VTermPos pos;
	VTermValue off = {.boolean = 0};
	unsigned flags = 0;
	int alt, top = 1, bottom = t->rows, left = 1, right = t->cols, shape = 1;
	int r = ERR_INTERNAL;

	*blob = NULL;
	*len = 0;
	if (!kf_term_safe(t))
		return ERR_BUSY;
	vterm_state_get_cursorpos(t->state, &pos);
	alt = dec_mode(t, 1047);
	flags |= alt ? F_ALT : 0;
	flags |= dec_mode(t, 25) ? F_VISIBLE : 0;
	flags |= dec_mode(t, 12) ? F_BLINK : 0;
	flags |= dec_mode(t, 5) ? F_REVERSE : 0;
	flags |= dec_mode(t, 6) ? F_ORIGIN : 0;
	flags |= dec_mode(t, 7) ? F_AUTOWRAP : 0;
	flags |= dec_mode(t, 69) ? F_LRMM : 0;
	flags |= t->irm ? F_IRM : 0;
	flags |= t->lnm ? F_LNM : 0;
	flags |= t->saved.valid ? F_SAVED : 0;
	flags |= t->saved.visible ? F_SVISIBLE : 0;
	if (status_numbers(t, "r", &top, &bottom) != 0) {
		top = 1;
		bottom = t->rows;
	}
	if (status_numbers(t, "s", &left, &right) != 0) {
		left = 1;
		right = t->cols;
	}
	flags |= t->stbm_explicit ? F_STBM_SET : 0;
	flags |= t->slrm_explicit ? F_SLRM_SET : 0;
	if ((flags & F_LRMM) && pos.col >= right - 1)
		return ERR_BUSY; /* a wrap may be pending at the right margin */
	if (status_numbers(t, " q", &shape, NULL) != 0)
		shape = 1;
	pen_from_state(t, &pen);
	if (t->glyph_valid && t->glyph_row == pos.row && t->glyph_col == pos.col) {
		VTermScreenCell gc;
		VTermPos gp = {pos.row, pos.col - 1};

		/* The glyph a combining character would join must still be
		 * there for the restore to write it again. */
		memset(&gc, 0, sizeof(gc));
		if (gp.col >= 0)
			vterm_screen_get_cell(t->screen, gp, &gc);
		if (gp.col >= 1 && gc.chars[0] == (uint32_t)-1) {
			gp.col--;
			vterm_screen_get_cell(t->screen, gp, &gc);
		}
		if (gp.col < 0 || gc.chars[0] == 0 || gc.chars[0] == (uint32_t)-1)
			return ERR_BUSY;
		flags |= F_ATTACH;
	}

	wb_put(&b, KF_MAGIC, 4);
	wb_u16(&b, (unsigned)t->cols);
	wb_u16(&b, (unsigned)t->rows);
	wb_u16(&b, flags);
	wb_u8(&b, (unsigned)shape);
	wb_u16(&b, (unsigned)pos.row);
	wb_u16(&b, (unsigned)pos.col);
	wb_u16(&b, (unsigned)top);
	wb_u16(&b, (unsigned)bottom);
	wb_u16(&b, (unsigned)left);
	wb_u16(&b, (unsigned)right);
	wb_pen(&b, &pen);
	wb_u16(&b, (unsigned)t->saved.row);
	wb_u16(&b, (unsigned)t->saved.col);
	wb_u8(&b, (unsigned)t->saved.shape);
	wb_pen(&b, &t->saved.pen);
	for (int k = 0; k < 4; k++) {
		wb_u8(&b, (unsigned char)t->g_inter[k]);
		wb_u8(&b, (unsigned char)t->g_final[k]);
	}
	wb_u8(&b, (unsigned)t->gl);
	if (alt) {
		/* The alternate screen first; then the main screen, made
		 * current through the state API. The emulator is not usable
		 * after that (leaving and re-entering would erase the
		 * alternate screen), so it is replaced by the restored one. */
		struct wbuf a = {0};

		wb_screen(&a, t);
		vterm_state_set_termprop(t->state, VTERM_PROP_ALTSCREEN, &off);
		wb_screen(&b, t);
		wb_put(&b, a.p, a.len);
		if (a.err)
			b.err = a.err;
		free(a.p);
	} else {
		wb_screen(&b, t);
	}
	if (b.err) {
		r = b.err;
		goto out;
	}
	/* Continue with the emulator restored from the blob: the one a seek
	 * starts from, so that the cache builder and the player replay the
	 * same thing (and a blob that would not restore is never kept). */
	if ((r = kf_term_restore(b.p, b.len, &fresh)) != 0) {
		r = alt ? r : ERR_BUSY;
		goto out;
	}
	{
		/* Keep the scanner's knowledge; take the restored emulator. */
		vterm_free(t->vt);
		t->vt = fresh->vt;
		t->screen = fresh->screen;
		t->state = fresh->state;
		vterm_output_set_callback(t->vt, on_output, t);
		fresh->vt = NULL;
	}
	*blob = b.p;
	*len = b.len;
	b.p = NULL;
	r = 0;
out:
	free(b.p);
	kf_term_free(fresh);
	return r;
}

/* ---- restoring ------------------------------------------------------------ */

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int err;
};

static unsigned
rb_u8(struct rbuf *b)
{
	if (b->off + 1 > b->len) {
		b->err = 1;
		return 0;
	}
	return b->p[b->off++];
}

static unsigned
rb_u16(struct rbuf *b)
{
	unsigned hi = rb_u8(b);

	return hi << 8 | rb_u8(b);
}

static uint32_t
rb_u32(struct rbuf *b)
{
	uint32_t v = (uint32_t)rb_u16(b) << 16;

	return v | rb_u16(b);
}

static void
rb_color(struct rbuf *b, VTermColor *c)
{
	unsigned type = rb_u8(b);
	uint8_t x = (uint8_t)rb_u8(b), y = (uint8_t)rb_u8(b), z = (uint8_t)rb_u8(b);

	if (type & ~7u)
		b->err = 1;
	memset(c, 0, sizeof(*c));
	if ((type & VTERM_COLOR_TYPE_MASK) == VTERM_COLOR_INDEXED) {
		vterm_color_indexed(c, x);
	} else {
		vterm_color_rgb(c, x, y, z);
	}
	c->type = (uint8_t)type;
}

static void
rb_pen(struct rbuf *b, struct kf_pen *p)
{
	p->attrs = (uint16_t)rb_u16(b);
	if (p->attrs >> 11 || ((p->attrs >> 7) & 15) > 9)
		b->err = 1;
	rb_color(b, &p->fg);
	rb_color(b, &p->bg);
}

/* Escape sequences, built then fed to the new emulator. */
struct seq {
	char buf[512];
	size_t len;
};

static void seq_add(struct seq *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
seq_add(struct seq *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->buf + s->len, sizeof(s->buf) - s->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(s->buf) - s->len)
		s->len += (size_t)n;
}

static void
seq_flush(struct kf_term *t, struct seq *s)
{
	if (s->len > 0)
		vterm_input_write(t->vt, s->buf, s->len);
	s->len = 0;
}

/* One colour as a whole SGR sequence. */
static void
seq_color(struct seq *s, const VTermColor *c, int bg)
{
	if (bg ? VTERM_COLOR_IS_DEFAULT_BG(c) : VTERM_COLOR_IS_DEFAULT_FG(c))
		seq_add(s, "\033[%dm", bg ? 49 : 39);
	else if (VTERM_COLOR_IS_INDEXED(c))
		seq_add(s, "\033[%d;5;%um", bg ? 48 : 38, c->indexed.idx);
	else
		seq_add(s, "\033[%d;2;%u;%u;%um", bg ? 48 : 38, c->rgb.red, c->rgb.green, c->rgb.blue);
}

/* SGR for a pen. Every attribute is named so the result does not depend
 * on the previous pen. Attributes and the two colours go in separate
 * sequences: libvterm 0.1.4 overflows its argument array past 16
 * parameters (an RGB foreground and background with every attribute would
 * reach 17). */
static void
seq_pen(struct seq *s, const struct kf_pen *p)
{
	unsigned u = (p->attrs >> 1) & 3;

	seq_add(s, "\033[0");
	if (p->attrs & 1)
		seq_add(s, ";1");
	if (u == 1)
		seq_add(s, ";4");
	else if (u == 2)
		seq_add(s, ";21");
	else if (u == 3)
		seq_add(s, ";4:3");
	if (p->attrs & (1 << 3))
		seq_add(s, ";3");
	if (p->attrs & (1 << 4))
		seq_add(s, ";5");
	if (p->attrs & (1 << 5))
		seq_add(s, ";7");
	if (p->attrs & (1 << 6))
		seq_add(s, ";9");
	if ((p->attrs >> 7) & 15)
		seq_add(s, ";%u", 10 + ((p->attrs >> 7) & 15));
	seq_add(s, "m");
	seq_color(s, &p->fg, 0);
	seq_color(s, &p->bg, 1);
}

static void
write_pen_seq(struct kf_term *t, const struct kf_pen *p)
{
	struct seq s = {.len = 0};

	seq_pen(&s, p);
	seq_flush(t, &s);
}

static void
seq_utf8(struct seq *s, uint32_t c)
{
	char u[5];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	if (s->len + n < sizeof(s->buf)) {
		memcpy(s->buf + s->len, u, n);
		s->len += n;
	}
}

/* A code point we may write as a glyph: not a control, not a surrogate,
 * in range. Anything else in a snapshot is invalid. */
static int
printable(uint32_t c)
{
	return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0) && !(c >= 0xd800 && c < 0xe000) && c <= 0x10ffff;
}

struct pcell {
	uint8_t n;     /* code points in ch; 0 = erased; tag 0 cells are blank */
	uint8_t blank; /* a default erased cell (tag 0) */
	uint32_t ch[VTERM_MAX_CHARS_PER_CELL];
	struct kf_pen pen;
};

/* Decode one screen's cells from the blob. */
static int
decode_screen(struct rbuf *b, struct pcell *cells, size_t total)
{
	size_t i = 0;

	while (i < total) {
		unsigned tag = rb_u8(b), n, k;
		struct pcell *c;

		if (b->err)
			return ERR_INVALID;
		if (tag == 0) {
			unsigned run = rb_u16(b);

			if (b->err || run == 0 || run > total - i)
				return ERR_INVALID;
			for (k = 0; k < run; k++) {
				memset(&cells[i + k], 0, sizeof(cells[i + k]));
				cells[i + k].blank = 1;
			}
			i += run;
			continue;
		}
		if (tag != 1)
			return ERR_INVALID;
		c = &cells[i++];
		memset(c, 0, sizeof(*c));
		n = rb_u8(b);
		if ((n & 15) > VTERM_MAX_CHARS_PER_CELL || (n >> 4) > 1)
			return ERR_INVALID;
		c->n = (uint8_t)(n & 15);
		for (k = 0; k < c->n; k++)
			c->ch[k] = rb_u32(b);
		rb_pen(b, &c->pen);
		if (b->err)
			return ERR_INVALID;
		/* The right half of a wide glyph: -1, then whatever combining
		 * characters its cell held before (libvterm leaves them). */
		for (k = c->n > 0 && c->ch[0] == (uint32_t)-1 ? 1 : 0; k < c->n; k++)
			if (!printable(c->ch[k]))
				return ERR_INVALID;
	}
	return 0;
}

static int
is_half(const struct pcell *c)
{
	return c->n >= 1 && c->ch[0] == (uint32_t)-1;
}

/* Paint one screen from the blob onto the current screen of t.
 *
 * Right halves of wide glyphs (code point -1 in libvterm) exist only as
 * cells after a wide glyph written at the cell before, which may later
 * have been overwritten (an orphaned half, or a chain of them), and
 * libvterm does not give a half the glyph's pen: it keeps the pen its
 * cell had. So for a cell p followed by halves p+1..m, from m down to
 * p+1: a space with the half's pen, then a wide placeholder at the cell
 * before (which turns the space into a half and leaves its pen); then p
 * gets its own content. A wide glyph whose half was overwritten is
 * painted before the cell after it, left to right. */
static int
paint_screen(struct kf_term *t, struct rbuf *b, struct pcell **keep)
{
	size_t total = (size_t)t->cols * t->rows;
	struct pcell *cells = NULL;
	struct seq s = {.len = 0};
	int row, col, m, force, r = ERR_INVALID;

	if ((cells = malloc(total * sizeof(*cells))) == NULL)
		return ERR_NOMEM;
	if ((r = decode_screen(b, cells, total)) != 0)
		goto out;
	r = ERR_INVALID;
	for (row = 0; row < t->rows; row++) {
		const struct pcell *line = &cells[(size_t)row * t->cols];

		if (is_half(&line[0]))
			goto out;
		force = 0;
		for (col = 0; col < t->cols; col = m + 1) {
			const struct pcell *c = &line[col];

			for (m = col; m + 1 < t->cols && is_half(&line[m + 1]); m++)
				;
			if (c->blank && !force && m == col)
				continue;
			for (int j = m; j > col; j--) {
				seq_add(&s, "\033[%d;%dH", row + 1, j + 1);
				seq_pen(&s, &line[j].pen);
				seq_add(&s, " ");
				for (unsigned k = 1; k < line[j].n; k++)
					seq_utf8(&s, line[j].ch[k]);
				seq_add(&s, "\033[%d;%dH", row + 1, j);
				seq_utf8(&s, 0x4e00);
				seq_flush(t, &s);
			}
			seq_add(&s, "\033[%d;%dH", row + 1, col + 1);
			if (c->blank)
				seq_add(&s, "\033[0m"); /* the default pen */
			else
				seq_pen(&s, &c->pen);
			if (c->n == 0) {
				seq_add(&s, "\033[X");
			} else {
				for (unsigned k = 0; k < c->n; k++)
					seq_utf8(&s, c->ch[k]);
			}
			seq_flush(t, &s);
			/* A wide glyph wrote a half into the next cell. */
			force = c->n > 0;
		}
	}
	r = 0;
	*keep = cells;
	cells = NULL;
out:
	free(cells);
	return r;
}

static int
glyph_width_at(const struct pcell *line, int cols, int col)
{
	return col + 1 < cols && is_half(&line[col + 1]) ? 2 : 1;
}

/* Write a glyph cell again, so that libvterm's memory of the last glyph
 * (where a combining character joins) is that cell. */
static void
rewrite_glyph(struct kf_term *t, const struct pcell *c, int row, int col)
{
	struct seq s = {.len = 0};

	seq_add(&s, "\033[%d;%dH", row + 1, col + 1);
	seq_pen(&s, &c->pen);
	for (unsigned k = 0; k < c->n; k++)
		seq_utf8(&s, c->ch[k]);
	seq_flush(t, &s);
}

/* Leave libvterm's last glyph where the snapshot says: right before the
 * cursor (F_ATTACH), or anywhere a combining character at the cursor
 * would not join. */
static int
set_combine_point(struct kf_term *t, const struct pcell *cells, int attach, int crow, int ccol)
{
	const struct pcell *line = &cells[(size_t)crow * t->cols];
	int row, col;

	if (attach) {
		col = ccol - 1;
		if (col >= 1 && is_half(&line[col]))
			col--;
		if (col < 0 || line[col].n == 0 || is_half(&line[col]))
			return ERR_INVALID;
		rewrite_glyph(t, &line[col], crow, col);
		return 0;
	}
	/* Any glyph not right before the cursor whose width is certain: a
	 * wide one with its half, or ASCII. (A wide glyph whose half was
	 * overwritten would wipe the cell after it if written again.) */
	for (row = 0; row < t->rows; row++)
		for (col = 0; col < t->cols; col++) {
			const struct pcell *rl = &cells[(size_t)row * t->cols];
			const struct pcell *c = &rl[col];
			int w = glyph_width_at(rl, t->cols, col);

			if (c->n == 0 || is_half(c) || (w == 1 && c->ch[0] >= 0x7f))
				continue;
			if (row == crow && col + w == ccol)
				continue;
			rewrite_glyph(t, c, row, col);
			return 0;
		}
	return 0;
}

int
kf_term_restore(const uint8_t *blob, size_t len, struct kf_term **out)
{
	struct rbuf b = {.p = blob, .len = len};
	struct kf_term *t = NULL;
	struct kf_pen pen, spen;
	struct pcell *cells = NULL;
	struct seq s = {.len = 0};
	char g_inter[4], g_final[4];
	unsigned gl;
	unsigned cols, rows, flags, shape, crow, ccol, top, bottom, left, right, srow, scol, sshape;
	int r = ERR_INVALID;

	*out = NULL;
	if (len < 4 || memcmp(blob, KF_MAGIC, 4) != 0)
		return ERR_INVALID;
	b.off = 4;
	cols = rb_u16(&b);
	rows = rb_u16(&b);
	flags = rb_u16(&b);
	shape = rb_u8(&b);
	crow = rb_u16(&b);
	ccol = rb_u16(&b);
	top = rb_u16(&b);
	bottom = rb_u16(&b);
	left = rb_u16(&b);
	right = rb_u16(&b);
	rb_pen(&b, &pen);
	srow = rb_u16(&b);
	scol = rb_u16(&b);
	sshape = rb_u8(&b);
	rb_pen(&b, &spen);
	for (int k = 0; k < 4; k++) {
		g_inter[k] = (char)rb_u8(&b);
		g_final[k] = (char)rb_u8(&b);
		/* an initial set, or one designated by ESC ( ) * + (G0..G3) or
		 * ESC - . / (G1..G3) with a final byte */
		if (g_inter[k] == 0
		            ? g_final[k] != 0
		            : (k == 0 ? g_inter[k] != '(' : g_inter[k] != '(' + k && g_inter[k] != '-' + k - 1) ||
		                      g_final[k] < 0x30 || g_final[k] > 0x7e)
			b.err = 1;
	}
	gl = rb_u8(&b);
	if (gl > 3)
		b.err = 1;
	if (b.err || cols < 2 || cols > KF_MAX_COLS || rows < 1 || rows > KF_MAX_ROWS ||
	    (size_t)cols * rows > KF_MAX_CELLS || (flags >> 14) != 0 || shape > 6 || sshape > 6 || crow >= rows ||
	    ccol >= cols || srow >= rows || scol >= cols || top < 1 || top > bottom || bottom > rows || left < 1 ||
	    left > right || right > cols)
		return ERR_INVALID;
	if ((r = kf_term_new((int)cols, (int)rows, &t)) != 0)
		return r;
	if ((int)cols != t->cols || (int)rows != t->rows) {
		r = ERR_INVALID;
		goto out;
	}
	/* Painted one column wider, then narrowed: a wide glyph in the last
	 * column (its half cut off by a smaller window) can only be written
	 * where it fits. */
	vterm_set_size(t->vt, t->rows, t->cols + 1);
	if ((r = paint_screen(t, &b, &cells)) != 0)
		goto out;
	if (flags & F_SAVED) {
		seq_add(&s, "\033[%u;%uH", srow + 1, scol + 1);
		seq_pen(&s, &spen);
		seq_add(&s, "\033[%u q\033[?25%c\0337", sshape, (flags & F_SVISIBLE) ? 'h' : 'l');
		t->saved.valid = 1;
		t->saved.row = (int)srow;
		t->saved.col = (int)scol;
		t->saved.pen = spen;
		t->saved.visible = (flags & F_SVISIBLE) != 0;
		t->saved.shape = (int)sshape;
	}
	if (flags & F_ALT) {
		seq_add(&s, "\033[0m\033[?1047h");
		seq_flush(t, &s);
		free(cells);
		cells = NULL;
		if ((r = paint_screen(t, &b, &cells)) != 0)
			goto out;
	}
	if (b.off != b.len) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = set_combine_point(t, cells, (flags & F_ATTACH) != 0, (int)crow, (int)ccol)) != 0)
		goto out;
	/* Character sets last: everything above was written in UTF-8. */
	for (int k = 0; k < 4; k++) {
		if (g_inter[k] != 0)
			seq_add(&s, "\033%c%c", g_inter[k], g_final[k]);
		t->g_inter[k] = g_inter[k];
		t->g_final[k] = g_final[k];
	}
	seq_add(&s, "%s", gl == 0 ? "\017" : gl == 1 ? "\016" : gl == 2 ? "\033n" : "\033o");
	t->gl = (int)gl;
	seq_flush(t, &s);
	t->glyph_valid = (flags & F_ATTACH) != 0;
	t->glyph_row = (int)crow;
	t->glyph_col = (int)ccol;
	vterm_set_size(t->vt, t->rows, t->cols);
	seq_add(&s, "\033[?5%c", (flags & F_REVERSE) ? 'h' : 'l');
	seq_add(&s, "\033[%u q", shape);
	seq_add(&s, "\033[?12%c", (flags & F_BLINK) ? 'h' : 'l');
	seq_add(&s, "\033[?25%c", (flags & F_VISIBLE) ? 'h' : 'l');
	seq_add(&s, "\033[?7%c", (flags & F_AUTOWRAP) ? 'h' : 'l');
	seq_add(&s, "\033[4%c\033[20%c", (flags & F_IRM) ? 'h' : 'l', (flags & F_LNM) ? 'h' : 'l');
	t->irm = (flags & F_IRM) != 0;
	t->lnm = (flags & F_LNM) != 0;
	/* An explicit margin at the edge is written one past it: libvterm
	 * then clamps it to the edge and keeps it explicit. */
	seq_add(&s, "\033[%u;%ur", top, bottom + ((flags & F_STBM_SET) && bottom == rows ? 1 : 0));
	seq_add(&s, "\033[%u;%us", left, right + ((flags & F_SLRM_SET) && right == cols ? 1 : 0));
	t->stbm_explicit = (flags & F_STBM_SET) != 0;
	t->slrm_explicit = (flags & F_SLRM_SET) != 0;
	if (flags & F_LRMM)
		seq_add(&s, "\033[?69h");
	seq_add(&s, "\033[?6%c", (flags & F_ORIGIN) ? 'h' : 'l');
	seq_pen(&s, &pen);
	if (flags & F_ORIGIN) {
		if (crow + 1 < top || crow + 1 > bottom ||
		    ((flags & F_LRMM) && (ccol + 1 < left || ccol + 1 > right))) {
			r = ERR_INVALID; /* origin mode keeps the cursor in the region */
			goto out;
		}
		seq_add(&s, "\033[%u;%uH", crow + 2 - top, ccol + 2 - ((flags & F_LRMM) ? left : 1));
	} else {
		seq_add(&s, "\033[%u;%uH", crow + 1, ccol + 1);
	}
	seq_flush(t, &s);
	*out = t;
	t = NULL;
	r = 0;
out:
	free(cells);
	kf_term_free(t);
	return r;
}
