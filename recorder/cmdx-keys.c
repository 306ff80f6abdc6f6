/* The command extractor's model of the operator's keys: a small replay of
 * readline editing (insert, erase, cursor moves, kills, bracketed paste,
 * Ctrl-V) that gives the typed text when the keys allow it, and the keys
 * that end a line (Enter, Ctrl-O, Ctrl-C, Ctrl-D on an empty line). Every
 * key is also kept as typed (line.raw) for the line discipline's readings
 * (cmdx-tty.c). readline binds the terminal's erase, kill, word-erase and
 * literal-next characters, so those seen set by stty count here too. */
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
	if (p.len > 0 && !cx->alt)
		l->prompt = p.p;
	else
		cmdx_sbuf_free(&p);
	l->inactive = cx->bp_mode && !cx->rl_on;
	l->secret = cmdx_secret_prompt(cx);
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

/* The text a submitted line most likely had, for stty and continuations:
 * readline's when the keys replay, else the line discipline's. */
static void
line_text(struct cmdx *cx, const struct line *l, struct sbuf *out)
{
	if (l->known && !l->truncated && !cx->alt) {
		cmdx_sbuf_reset(out);
		cmdx_sbuf_add(out, l->typed.p ? l->typed.p : "", l->typed.len);
	} else {
		cmdx_tty_line(&cx->tty, (const uint8_t *)(l->raw.p ? l->raw.p : ""), l->raw.len, out);
	}
}

static int
line_end(struct cmdx *cx, enum term how, int64_t t)
{
	struct line *l = &cx->cur;
	struct sbuf text = {0};
	int r = 0;

	/* the terminator was kept with the keys: it is not part of the line,
	 * but the previous-line reading needs it */
	cmdx_sbuf_reset(&cx->prev_raw);
	cmdx_sbuf_add(&cx->prev_raw, l->raw.p ? l->raw.p : "", l->raw.len);
	if (l->raw.len > 0)
		l->raw.p[--l->raw.len] = '\0';
	l->term = how;
	l->t_enter = t;
	l->seq = ++cx->term_count;
	l->inactive = cx->bp_mode && !cx->rl_on;
	l->secret |= cmdx_secret_prompt(cx);
	if (how == TERM_ENTER) {
		line_text(cx, l, &text);
		/* The target will apply what it is told: so does the model. */
		if (text.len > 0 && cmdx_tty_apply_stty(&cx->tty, text.p, text.len)) {
			struct ttymodel def;
			cmdx_tty_defaults(&def);
			cx->tty_changed = !cmdx_tty_equal(&cx->tty, &def);
		}
		/* An open quote or a final backslash: the next line continues it
		 * on the target (kept for cmdx_judge, whatever the screen shows). */
		if (cx->kcont_open) {
			if (cx->kcont.len > 0 && cx->kcont.p[cx->kcont.len - 1] == '\\')
				cx->kcont.p[--cx->kcont.len] = '\0';
			else
				cmdx_sbuf_add(&cx->kcont, "\n", 1);
		} else {
			cmdx_sbuf_reset(&cx->kcont);
		}
		cmdx_sbuf_add(&cx->kcont, text.p ? text.p : "", text.len);
		cx->kcont_open = cmdx_line_incomplete(cx->kcont.p ? cx->kcont.p : "", cx->kcont.len) &&
		                 cx->kcont.len < CMDX_MAX_COMMAND;
		if (!cx->kcont_open)
			cmdx_sbuf_reset(&cx->kcont);
	} else {
		cx->kcont_open = 0;
		cmdx_sbuf_reset(&cx->kcont);
	}
	cmdx_sbuf_free(&text);
	if (cx->alt) {
		/* A full-screen program's line, or a shell's that hid behind the
		 * alternate screen: the screen says nothing, the keys are all. */
		if (how == TERM_ENTER)
			r = cmdx_line_from_keys(cx, l, CMDX_R_ALT_SCREEN);
		cmdx_line_reset(l);
		return r;
	}
	return cmdx_queue_push_cur(cx);
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

static int
is_tty_cc(const struct cmdx *cx, int which, uint8_t c)
{
	return cx->tty.cc[which] != TTY_UNDEF && cx->tty.cc[which] == c;
}

/* The terminal's special characters as stty set them: readline binds
 * erase, kill, word erase and literal next to its own editing functions,
 * and the interrupt and end-of-file characters keep their meaning. 1 when
 * c was one of them. */
static int
tty_key(struct cmdx *cx, uint8_t c, int64_t t, int *r)
{
	struct line *l = &cx->cur;

	if (c == 0x03 || c == 0x1c) {
		l->known = 0; /* no signal: readline does not end the line */
		return 1;
	}
	if (!cx->tty_changed)
		return 0;
	if (is_tty_cc(cx, TC_LNEXT, c))
		l->quoted = 1;
	else if (is_tty_cc(cx, TC_ERASE, c))
		typed_delete(l, char_before(l, l->pos), l->pos);
	else if (is_tty_cc(cx, TC_KILL, c))
		typed_delete(l, 0, l->pos);
	else if (is_tty_cc(cx, TC_WERASE, c))
		typed_word_rubout(l);
	else if (is_tty_cc(cx, TC_EOF, c) && l->typed.len == 0)
		*r = line_end(cx, TERM_EOF, t);
	else
		return 0;
	return 1;
}

int
cmdx_input_byte(struct cmdx *cx, uint8_t c, int64_t t)
{
	struct line *l = &cx->cur;
	int r = 0;

	if (!l->started && (r = line_start(cx)) != 0)
		return r;
	/* Every key as typed, for the other readings of the line. */
	if (l->raw.len < CMDX_MAX_COMMAND)
		cmdx_sbuf_add(&l->raw, &c, 1);
	else
		l->raw_cut = 1;
	if (cx->alt)
		l->alt_keys = 1;
	/* The terminal driver acts on the interrupt character before any
	 * program sees a byte: inside an escape sequence, a paste or after
	 * Ctrl-V alike, the line is dropped (readline aborts it, the line
	 * discipline flushes it). */
	if ((cx->tty.flags & TF_ISIG) && (is_tty_cc(cx, TC_INTR, c) || is_tty_cc(cx, TC_QUIT, c))) {
		cx->in.st = IN_NORMAL;
		cx->in.paste_match = 0;
		return line_end(cx, TERM_INTR, t);
	}
	if (l->quoted && cx->in.st == IN_NORMAL) {
		/* readline's quoted-insert: the byte itself, even CR or Ctrl-U */
		l->quoted = 0;
		if (c == 0)
			l->known = 0;
		else
			typed_insert(l, (const char *)&c, 1);
		return 0;
	}
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
	if (tty_key(cx, c, t, &r))
		return r;
	switch (c) {
	case 0x1b: cx->in.st = IN_ESC; break;
	case '\r':
	case '\n':
	case 0x0f: /* Ctrl-O, operate-and-get-next: accepts the line too */ r = line_end(cx, TERM_ENTER, t); break;
	case 0x16: l->quoted = 1; break; /* Ctrl-V */
	case 0x04:
		if (l->typed.len == 0)
			r = line_end(cx, TERM_EOF, t);
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
	return r;
}

size_t
cmdx_input_enter_offset(const struct cmdx *cx, const uint8_t *buf, size_t len)
{
	/* No state is consulted on purpose: whether a CR is literal (inside a
	 * bracketed paste, after Ctrl-V) or goes to a full-screen program is
	 * the target's business, and a wrong guess would let a line through
	 * unjudged. Judging a CR that then does not submit costs nothing. */
	if (cx == NULL || buf == NULL)
		return len;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\r' || buf[i] == '\n' || buf[i] == 0x0f)
			return i;
	return len;
}
