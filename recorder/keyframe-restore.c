/* Restoring a terminal snapshot (see keyframe.h and docs/replay.md): the
 * blob is untrusted and checked as it is read; the state is recreated by
 * feeding a fresh libvterm ordinary escape sequences. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/utf8.h"
#include "recorder/keyframe-int.h"
#include "recorder/keyframe.h"

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
	char q[40];

	vt_sgr_color(q, sizeof(q), c, bg);
	seq_add(s, "%s", q);
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

void
kf_write_pen(struct kf_term *t, const struct kf_pen *p)
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

	n = utf8_encode(c, u);
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
