/* The command extractor's model of the operator's keys: a small replay of
 * readline editing (insert, erase, cursor moves, kills, bracketed paste)
 * that gives the typed text when the keys allow it, and the keys that end
 * a line (Enter, Ctrl-C, Ctrl-D on an empty line). */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/cmdx-int.h"

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
	if (cmdx_sbuf_add(b, p, n) != 0)
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

	if ((r = cmdx_lazy_flush(cx)) != 0)
		return r;
	vterm_state_get_cursorpos(cx->state, &cur);
	if (cur.row < 0 || cur.row >= cx->rows)
		cur.row = cx->rows - 1;
	l->started = 1;
	l->anchor = cmdx_logical_start(cx, cur.row);
	for (row = l->anchor; row < cur.row; row++)
		cmdx_row_text(cx, row, cx->cols, &p);
	cmdx_row_text(cx, cur.row, cur.col, &p);
	cmdx_sbuf_add(&p, "", 0);
	if (p.oom) {
		cmdx_sbuf_free(&p);
		return ERR_NOMEM;
	}
	/* Nothing before the cursor: a key typed at the start of a row, ahead
	 * of its prompt (type-ahead, or input to a program); leave the prompt
	 * to be found later. */
	if (p.len > 0)
		l->prompt = p.p;
	else
		cmdx_sbuf_free(&p);
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
	cmdx_queue_push_cur(cx);
}

static void
csi_key(struct cmdx *cx, const char *params, size_t plen, uint8_t final)
{
	struct line *l = &cx->cur;

	/* Only an editor that asked for bracketed paste keeps a pasted Enter
	 * in the line; for anything else the marker is noise and Enter is
	 * Enter. */
	if (final == '~' && plen == 3 && memcmp(params, "200", 3) == 0 && cx->rl_on) {
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

int
cmdx_input_byte(struct cmdx *cx, uint8_t c, int64_t t)
{
	struct line *l = &cx->cur;
	int r;

	if (!l->started && (r = line_start(cx)) != 0)
		return r;
	/* A control character inside an escape sequence ends it and counts as
	 * itself, the way a terminal treats it: an Enter cut into a sequence
	 * must still be seen before it goes out (command blocking). */
	if (c < 0x20 && (cx->in.st == IN_ESC || cx->in.st == IN_CSI || cx->in.st == IN_SS3)) {
		l->known = 0;
		cx->in.st = IN_NORMAL;
	}
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
			if (c < 0x20) {
				in.st = IN_NORMAL;
				i--; /* as a key of its own, like cmdx_input_byte */
				break;
			}
			in.st = c == '[' ? IN_CSI : c == 'O' ? IN_SS3 : IN_NORMAL;
			in.plen = 0;
			break;
		case IN_CSI:
			if (c < 0x20) {
				in.st = IN_NORMAL;
				i--;
				break;
			}
			if (c >= 0x20 && c <= 0x3f) {
				if (in.plen < sizeof(in.params))
					in.params[in.plen++] = (char)c;
				break;
			}
			in.st = IN_NORMAL;
			if (c == '~' && in.plen == 3 && memcmp(in.params, "200", 3) == 0 && cx->rl_on) {
				in.st = IN_PASTE;
				in.paste_match = 0;
			}
			break;
		case IN_SS3:
			if (c < 0x20)
				i--;
			in.st = IN_NORMAL;
			break;
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