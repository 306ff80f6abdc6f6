/* The command extractor's screen: the cell grid libvterm's state layer
 * draws into, the rows saved above it while a line is open, and small
 * string helpers. libvterm 0.1 does not record which rows are soft-wrapped
 * continuations of the row above, which is what joins a long command, so
 * the grid is ours rather than libvterm's screen layer. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/cmdx-int.h"
#include "recorder/vtguard.h"

/* ---- small strings ---- */

int
cmdx_sbuf_add(struct sbuf *b, const void *p, size_t n)
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

void
cmdx_sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
cmdx_sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
cmdx_sbuf_rtrim(struct sbuf *b)
{
	while (b->len > 0 && (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\n' || b->p[b->len - 1] == '\t'))
		b->p[--b->len] = '\0';
}

size_t
cmdx_rtrim_len(const char *s, size_t n)
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
	cmdx_sbuf_add(b, u, n);
}

/* ---- the cell grid (rows < 0 are the saved rows above the screen) ---- */

int
cmdx_row_valid(const struct cmdx *cx, int r)
{
	return r < cx->rows && r >= -cx->sb_count;
}

static const struct cell *
row_cells(const struct cmdx *cx, int r)
{
	int i;

	if (r >= 0)
		return cx->cells + (size_t)r * cx->cols;
	i = (cx->sb_start + cx->sb_count + r) % cx->sb_cap;
	return cx->sb_cells + (size_t)i * cx->cols;
}

static int
row_cont(const struct cmdx *cx, int r)
{
	if (r >= 0)
		return cx->cont[r];
	return cx->sb_cont[(cx->sb_start + cx->sb_count + r) % cx->sb_cap];
}

int
cmdx_logical_start(const struct cmdx *cx, int r)
{
	while (row_cont(cx, r) && cmdx_row_valid(cx, r - 1))
		r--;
	return r;
}

int
cmdx_logical_end(const struct cmdx *cx, int r)
{
	while (r + 1 < cx->rows && row_cont(cx, r + 1))
		r++;
	return r;
}

/* Text of cells [0, upto) of row r; blanks become spaces. */
void
cmdx_row_text(const struct cmdx *cx, int r, int upto, struct sbuf *b)
{
	const struct cell *c = row_cells(cx, r);
	int i, k;

	if (upto > cx->cols)
		upto = cx->cols;
	/* room for the whole row at once: the common cells are ASCII */
	if (upto <= 0 || cmdx_sbuf_add(b, NULL, (size_t)upto * CELL_CHARS * 4) != 0)
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
void
cmdx_logical_text(const struct cmdx *cx, int a, int b, struct sbuf *out)
{
	int r;

	for (r = a; r <= b; r++)
		cmdx_row_text(cx, r, cx->cols, out);
	cmdx_sbuf_rtrim(out);
}

static void
clear_cells(struct cell *c, size_t n)
{
	memset(c, 0, n * sizeof(*c));
	for (size_t i = 0; i < n; i++)
		c[i].width = 1;
}

int
cmdx_tracking(const struct cmdx *cx)
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

void
cmdx_sb_clear(struct cmdx *cx)
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
		/* SB_MAX rows, fewer on very wide windows: memory stays bounded */
		cx->sb_cap = SB_MAX_CELLS / cx->cols;
		if (cx->sb_cap > SB_MAX)
			cx->sb_cap = SB_MAX;
		cx->sb_cells = calloc((size_t)cx->sb_cap * cx->cols, sizeof(struct cell));
		cx->sb_cont = calloc((size_t)cx->sb_cap, 1);
		if (cx->sb_cells == NULL || cx->sb_cont == NULL) {
			free(cx->sb_cells);
			free(cx->sb_cont);
			cx->sb_cells = NULL;
			cx->sb_cont = NULL;
			return;
		}
	}
	if (cx->sb_count == cx->sb_cap) {
		cx->sb_start = (cx->sb_start + 1) % cx->sb_cap;
		cx->sb_count--;
	}
	i = (cx->sb_start + cx->sb_count) % cx->sb_cap;
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
	if (*a != NO_ANCHOR && !cmdx_row_valid(cx, *a))
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

	if (h <= 0 || w <= 0 || src.start_row < 0 || dest.start_row < 0 || src.start_col < 0 || dest.start_col < 0 ||
	    src.end_row > cx->rows || dest.start_row + h > cx->rows || src.end_col > cx->cols ||
	    dest.start_col + w > cx->cols)
		return 1;
	/* The screen scrolls up: keep the rows that leave it while a line is
	 * open, a long command may start up there. */
	pushed = full && !cx->alt && dest.start_row == 0 && src.start_row > 0 && cmdx_tracking(cx);
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

	if (rect.start_col < 0)
		rect.start_col = 0;
	if (rect.end_col > cx->cols)
		rect.end_col = cx->cols;
	if (rect.start_col >= rect.end_col)
		return 1;
	for (r = rect.start_row; r < rect.end_row; r++) {
		if (r < 0 || r >= cx->rows)
			continue;
		clear_cells(cx->cells + (size_t)r * cx->cols + rect.start_col, (size_t)(rect.end_col - rect.start_col));
		if (rect.start_col == 0 && rect.end_col == cx->cols)
			cx->cont[r] = 0;
	}
	return 1;
}

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
	/* The screen no longer shows what was typed: lines waiting for it are
	 * reported from their keys, and the line being typed is read from its
	 * keys only (they stay: a shell does not forget them because a
	 * program switched screens). */
	cmdx_line_switch_screen(&cx->cur);
	if (cmdx_queue_flush(cx, CMDX_R_NO_ECHO) != 0)
		cx->err = ERR_NOMEM;
	cx->in.st = IN_NORMAL;
	cx->pending_wrap = 0;
	if (cmdx_push_event(cx, on ? CMDX_EV_FULLSCREEN_ENTER : CMDX_EV_FULLSCREEN_LEAVE, cx->now, NULL, 0, 0, 0, 0) !=
	    0)
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

/* The target's output is untrusted: CSI separators beyond CSI_SAFE_ARGS
 * are dropped before libvterm sees them (see vtguard.h). */

void
cmdx_vt_write(struct cmdx *cx, const char *p, size_t n)
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
			/* After ESC libvterm 0.1.4 executes C0 controls, ignores
			 * DEL and bytes >= 0x80, collects intermediates, and
			 * starts a CSI at '[' even after intermediates (ESC LF [
			 * and ESC ( [ are CSIs: found by fuzz_cmdextract, the
			 * separators of such a CSI reached libvterm unguarded).
			 * CAN and SUB abandon the sequence. */
			if (c == '[')
				cx->csi_state = 2;
			else if (c == 0x18 || c == 0x1a)
				cx->csi_state = 0;
			else if (c >= 0x30 && c <= 0x7e)
				cx->csi_state = 0;
			cx->csi_args = 0;
			i++;
			continue;
		}
		if (c == 0x1b) {
			cx->csi_state = 1;
		} else if (c == 0x18 || c == 0x1a || c >= 0x80) {
			cx->csi_state = 0; /* libvterm abandons the CSI */
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

int
cmdx_grid_alloc(int cols, int rows, struct cell **main_cells, struct cell **alt_cells, uint8_t **main_cont,
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

int
cmdx_size_ok(int cols, int rows)
{
	return cols >= 2 && rows >= 1 && cols <= 2000 && rows <= 1000 && (long)cols * rows <= 250000;
}

void
cmdx_screen_attach(struct cmdx *cx)
{
	vterm_output_set_callback(cx->vt, discard_output, NULL);
	vterm_state_set_callbacks(cx->state, &state_cbs, cx);
}
