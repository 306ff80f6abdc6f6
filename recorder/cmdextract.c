/* Command extraction from an interactive terminal session: see cmdextract.h
 * and docs/command-control.md.
 *
 * Three parts (the first two in cmdx-screen.c and cmdx-keys.c):
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/cmdx-int.h"
#include "recorder/redact.h"
#include "recorder/vtguard.h"

/* ---- events ---- */

int
cmdx_push_event(struct cmdx *cx, enum cmdx_event_type type, int64_t t, char *text, size_t len, unsigned flags,
                unsigned reasons, int64_t tag)
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
	e->reasons = reasons;
	e->tag = tag;
	cx->ev_count++;
	return 0;
}

/* ---- lines and the queue of lines waiting for acceptance ---- */

void
cmdx_line_reset(struct line *l)
{
	struct sbuf typed = l->typed, raw = l->raw;

	free(l->prompt);
	/* the keys may be a password typed at a prompt */
	if (typed.p != NULL)
		explicit_bzero(typed.p, typed.len);
	if (raw.p != NULL)
		explicit_bzero(raw.p, raw.len);
	cmdx_sbuf_reset(&typed);
	cmdx_sbuf_reset(&raw);
	memset(l, 0, sizeof(*l));
	l->typed = typed;
	l->raw = raw;
	l->known = 1;
	l->anchor = NO_ANCHOR;
}

void
cmdx_line_switch_screen(struct line *l)
{
	free(l->prompt);
	l->prompt = NULL;
	l->anchor = NO_ANCHOR;
	if (l->typed.p != NULL)
		explicit_bzero(l->typed.p, l->typed.len);
	cmdx_sbuf_reset(&l->typed);
	l->pos = 0;
	l->known = 1;
	l->truncated = 0;
	l->quoted = 0;
}

static struct line *
queue_head(struct cmdx *cx)
{
	return cx->qcount > 0 ? &cx->q[cx->qhead] : NULL;
}

/* The oldest waiting line leaves the queue: settled by the screen, or
 * (with keys = 1) never to be shown, so reported from its keys. */
static int
queue_pop_as(struct cmdx *cx, int keys, unsigned reasons)
{
	int r = 0;

	if (cx->qcount == 0)
		return 0;
	if (keys && cx->q[cx->qhead].term == TERM_ENTER)
		r = cmdx_line_from_keys(cx, &cx->q[cx->qhead], reasons);
	cmdx_line_reset(&cx->q[cx->qhead]);
	cx->qhead = (cx->qhead + 1) % QUEUE_MAX;
	cx->qcount--;
	return r;
}

static void
queue_pop(struct cmdx *cx)
{
	queue_pop_as(cx, 0, 0);
}

int
cmdx_queue_flush(struct cmdx *cx, unsigned reasons)
{
	int r = 0;

	while (cx->qcount > 0)
		if (queue_pop_as(cx, 1, reasons) != 0)
			r = ERR_NOMEM;
	cx->joining = 0;
	cmdx_sbuf_reset(&cx->join);
	cx->snap_row = NO_ANCHOR;
	return r;
}

/* The finished current line moves to the queue (its buffer is swapped so
 * no copy is made). */
int
cmdx_queue_push_cur(struct cmdx *cx)
{
	struct line *slot, tmp;
	int r = 0;

	if (cx->qcount == QUEUE_MAX)
		r = queue_pop_as(cx, 1, CMDX_R_NO_ECHO);
	slot = &cx->q[(cx->qhead + cx->qcount) % QUEUE_MAX];
	tmp = *slot;
	*slot = cx->cur;
	cx->cur = tmp;
	cmdx_line_reset(&cx->cur);
	cx->qcount++;
	return r;
}

/* ---- reading the command off the screen ---- */

/* If text starts with the prompt, the number of bytes to skip; else -1.
 * The prompt was taken up to the cursor, so it may end in blanks that a
 * trimmed empty line does not have. */
static long
prompt_skip(const char *text, size_t tlen, const char *prompt)
{
	size_t plen = strlen(prompt), pt = cmdx_rtrim_len(prompt, plen), skip;

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

	if (anchor != NO_ANCHOR && cmdx_row_valid(cx, anchor))
		lowest = cmdx_logical_start(cx, anchor);
	for (;;) {
		/* only as much of the line as the prompt can cover */
		size_t need = strlen(prompt) + 1;
		int e = cmdx_logical_end(cx, r), q;
		cmdx_sbuf_reset(tmp);
		for (q = r; q <= e && tmp->len < need; q++)
			cmdx_row_text(cx, q, cx->cols, tmp);
		if (q > e)
			cmdx_sbuf_rtrim(tmp);
		if ((*skip = prompt_skip(tmp->p ? tmp->p : "", tmp->len, prompt)) >= 0)
			return r;
		if (r <= lowest || !cmdx_row_valid(cx, r - 1))
			return NO_ANCHOR;
		r = cmdx_logical_start(cx, r - 1);
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
	pt = cmdx_rtrim_len(prompt, plen);
	if (pt < 2)
		return NO_ANCHOR;
	cmdx_sbuf_reset(tmp);
	cmdx_logical_text(cx, start, cmdx_logical_end(cx, start), tmp);
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
	if (at_row != NO_ANCHOR && cmdx_row_valid(cx, at_row))
		cur.row = at_row;
	start = cmdx_logical_start(cx, cur.row);
	end = cmdx_logical_end(cx, cur.row);
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
	cmdx_sbuf_reset(out);
	for (r = found; r <= end;) {
		int e = cmdx_logical_end(cx, r);
		if (out->len > 0 || r > found)
			cmdx_sbuf_add(out, "\n", 1);
		cmdx_logical_text(cx, r, e, out);
		r = e + 1;
	}
	cmdx_sbuf_free(&tmp);
	if (out->oom)
		return ERR_NOMEM;
	if ((size_t)skip > out->len)
		skip = (long)out->len;
	memmove(out->p, out->p + skip, out->len - (size_t)skip + 1);
	out->len -= (size_t)skip;
	/* blank lines a paste left at the end are not part of the command */
	cmdx_sbuf_rtrim(out);
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
	cmdx_sbuf_reset(out);
	cmdx_logical_text(cx, cmdx_logical_start(cx, cur.row), cmdx_logical_end(cx, cur.row), out);
}

int
cmdx_line_incomplete(const char *s, size_t n)
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
emit_line(struct cmdx *cx, const char *text, size_t len, unsigned flags, unsigned reasons, int64_t tag, int64_t t)
{
	struct sbuf all = {0};
	char *s = NULL;
	int r = ERR_INTERNAL;

	if (cx->joining) {
		cmdx_sbuf_add(&all, cx->join.p, cx->join.len);
		/* The shell drops backslash-newline; other breaks (in quotes)
		 * stay newlines. */
		if (all.len > 0 && all.p[all.len - 1] == '\\')
			all.p[--all.len] = '\0';
		else
			cmdx_sbuf_add(&all, "\n", 1);
		flags = (flags & ~CMDX_F_TYPED_AGREES) | (flags & cx->join_flags & CMDX_F_TYPED_AGREES) |
		        (cx->join_flags & ~CMDX_F_TYPED_AGREES);
		reasons |= cx->join_reasons;
		cx->joining = 0;
		cmdx_sbuf_reset(&cx->join);
	}
	cmdx_sbuf_add(&all, text, len);
	if (all.oom) {
		r = ERR_NOMEM;
		goto out;
	}
	if (cmdx_line_incomplete(all.p, all.len) && all.len < CMDX_MAX_COMMAND) {
		cmdx_sbuf_reset(&cx->join);
		if (cmdx_sbuf_add(&cx->join, all.p, all.len) != 0) {
			r = ERR_NOMEM;
			goto out;
		}
		cx->joining = 1;
		cx->join_flags = flags;
		cx->join_reasons = reasons;
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
		cmdx_sbuf_add(&all, CMDX_TRUNCATED_MARKER, strlen(CMDX_TRUNCATED_MARKER));
		flags |= CMDX_F_TRUNCATED;
		flags &= ~CMDX_F_TYPED_AGREES;
	}
	if ((s = malloc(all.len + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	memcpy(s, all.p, all.len + 1);
	r = cmdx_push_event(cx, CMDX_EV_COMMAND, t, s, all.len, flags, reasons, tag);
	if (r == 0)
		s = NULL;
out:
	free(s);
	cmdx_sbuf_free(&all);
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
	a = cmdx_rtrim_len(l->typed.p ? l->typed.p : "", l->typed.len);
	b = cmdx_rtrim_len(screen->p ? screen->p : "", screen->len);
	if (a == b && (a == 0 || memcmp(l->typed.p, screen->p, a) == 0))
		return CMDX_F_TYPED_AGREES;
	return 0;
}

/* A line the editor accepted, read off the screen (text) for line l (NULL
 * when no typed line matches: type-ahead the shell read later). */
static int
accept_line(struct cmdx *cx, const struct line *l, struct sbuf *text, unsigned flags, int64_t t)
{
	unsigned reasons = 0;
	int64_t tag = 0;

	flags &= ~CMDX_F_TYPED_AGREES;
	if (l != NULL) {
		tag = l->tag;
		flags |= agree_flag(l, text);
		/* The prompt scrolled away above what we kept, but the keys
		 * explain the end of the line: they are the better text. */
		if ((flags & CMDX_F_PROMPT_GUESSED) && l->known && !l->truncated && l->typed.len > 0) {
			size_t a = cmdx_rtrim_len(l->typed.p, l->typed.len),
			       b = cmdx_rtrim_len(text->p ? text->p : "", text->len);
			if (a > 0 && b >= a && memcmp(text->p + b - a, l->typed.p, a) == 0) {
				cmdx_sbuf_reset(text);
				cmdx_sbuf_add(text, l->typed.p, a);
				flags = (flags & ~CMDX_F_PROMPT_GUESSED) | CMDX_F_TYPED_AGREES;
			}
		}
		if (l->typed.len == 0 && text->len > 0 && l->known && (flags & CMDX_F_PROMPT_GUESSED))
			return 0; /* Enter on an empty line under an unknown prompt */
		/* Accepted, nothing shown after the prompt, yet keys were typed:
		 * the echo is off (readline then draws nothing). */
		if (cmdx_rtrim_len(text->p ? text->p : "", text->len) == 0 && l->raw.len > 0)
			return cmdx_line_from_keys(cx, l, CMDX_R_NO_ECHO);
		if (!(flags & CMDX_F_TYPED_AGREES))
			reasons |= l->known && !l->truncated ? CMDX_R_DIFFER : CMDX_R_SHELL_KEYS;
	}
	if (flags & CMDX_F_PROMPT_GUESSED)
		reasons |= CMDX_R_PROMPT;
	return emit_line(cx, text->p ? text->p : "", text->len, flags, reasons, tag, t);
}

/* Only printable characters (and newlines between pasted lines). */
static int
plain_text(const struct sbuf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		uint8_t c = (uint8_t)b->p[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return 0;
	}
	return 1;
}

int
cmdx_line_from_keys(struct cmdx *cx, const struct line *l, unsigned reasons)
{
	struct sbuf text = {0}, tty = {0};
	const uint8_t *raw = (const uint8_t *)(l->raw.p ? l->raw.p : "");
	size_t n = l->raw.len;
	int r = 0, printable = 0;

	reasons |= l->reasons;
	if (l->alt_keys)
		reasons |= CMDX_R_ALT_SCREEN;
	if (cx->tty_changed)
		reasons |= CMDX_R_TTY_CHARS;
	for (size_t i = 0; i < n; i++)
		if (raw[i] >= 0x20 && raw[i] != 0x7f)
			printable = 1;
	if (n == 0 || ((reasons & CMDX_R_ALT_SCREEN) && !printable))
		return 0; /* an empty line, moves in a full-screen program */
	if (l->secret)
		return cmdx_push_event(cx, CMDX_EV_SECRET_LINE, l->t_enter, NULL, n, CMDX_F_FROM_KEYS,
		                       reasons | CMDX_R_SECRET, l->tag);
	cmdx_tty_line(&cx->tty, raw, n, &tty);
	if (reasons & CMDX_R_ALT_SCREEN) {
		/* keys for a program, or for a shell hiding there: as typed */
		cmdx_keys_render(raw, n, &text);
	} else if ((!cx->bp_mode || l->inactive) && plain_text(&tty) && !l->raw_cut) {
		/* no line editor: the terminal's line discipline read it */
		cmdx_sbuf_add(&text, tty.p, tty.len);
	} else if (l->known && !l->truncated && !l->raw_cut) {
		cmdx_sbuf_add(&text, l->typed.p ? l->typed.p : "", l->typed.len);
	} else if (plain_text(&tty) && !l->raw_cut) {
		cmdx_sbuf_add(&text, tty.p, tty.len);
	} else {
		cmdx_keys_render(raw, n, &text);
		reasons |= CMDX_R_SHELL_KEYS;
	}
	cmdx_sbuf_add(&text, "", 0);
	if (text.oom)
		r = ERR_NOMEM;
	else if (cmdx_rtrim_len(text.p, text.len) > 0)
		r = emit_line(cx, text.p, text.len, CMDX_F_FROM_KEYS, reasons, l->tag, l->t_enter);
	if (text.p != NULL)
		explicit_bzero(text.p, text.cap);
	if (tty.p != NULL)
		explicit_bzero(tty.p, tty.cap);
	cmdx_sbuf_free(&text);
	cmdx_sbuf_free(&tty);
	return r;
}

int
cmdx_secret_prompt(const struct cmdx *cx)
{
	return redact_is_secret_prompt(cx->otail, cx->notail);
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
		full = cmdx_rtrim_len(t, l->typed.len);
		nl = memrchr(t, '\n', full);
		if (nl != NULL)
			t = nl + 1;
		tl = full - (size_t)(t - base);
		ll = cmdx_rtrim_len(line.p ? line.p : "", line.len);
		if (tl == 0 || (ll >= tl && memcmp(line.p + ll - tl, t, tl) == 0)) {
			match = i;
			break;
		}
	}
	if (match < 0) {
		h = queue_head(cx);
		if (h != NULL && ++h->lf_seen > LF_PATIENCE)
			r = queue_pop_as(cx, 1, CMDX_R_NO_ECHO);
		goto out;
	}
	while (match-- > 0 && r == 0)
		r = queue_pop_as(cx, 1, CMDX_R_NO_ECHO); /* typed, never shown */
	if (r != 0)
		goto out;
	h = queue_head(cx);
	flags = CMDX_F_NO_EDITOR;
	if ((r = screen_command(cx, h->prompt, h->anchor, NO_ANCHOR, &text, &flags)) == 0)
		r = accept_line(cx, h, &text, flags, h->t_enter);
	queue_pop(cx);
out:
	cmdx_sbuf_free(&line);
	cmdx_sbuf_free(&text);
	return r;
}

/* The editor turned bracketed paste on: it is about to print a prompt. */
static int
editor_on(struct cmdx *cx)
{
	VTermPos cur;
	int i, n = cx->qcount, r = 0;

	cx->bp_mode = 1;
	cx->rl_on = 1;
	cx->printed_since_on = 0;
	cx->snap_row = NO_ANCHOR;
	if (cx->alt)
		return 0; /* a shell's editor or a program's: the screen is not read there */
	vterm_state_get_cursorpos(cx->state, &cur);
	cx->rl_anchor = cmdx_logical_start(cx, cur.row);
	/* Lines finished while no editor was reading went to a program (a
	 * password prompt, cat) and were never shown: reported from their
	 * keys (a secret without its text). */
	for (i = 0; i < n && r == 0; i++) {
		struct line *h = queue_head(cx);
		if (h != NULL && h->inactive)
			r = queue_pop_as(cx, 1, CMDX_R_NO_ECHO | CMDX_R_NO_EDITOR);
	}
	if (cx->cur.started && cx->cur.inactive) {
		cx->cur.inactive = 0;
		cx->cur.anchor = cx->rl_anchor;
		free(cx->cur.prompt);
		cx->cur.prompt = NULL;
	}
	return r;
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
	if (cx->alt)
		return 0;
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
			cmdx_sbuf_reset(&cx->join);
		}
		queue_pop(cx);
	} else if (cx->printed_since_on && cx->snap_row != NO_ANCHOR) {
		/* Keys typed while a program ran, read by the shell later. */
		if (cx->cur.started && !cx->cur.known)
			cmdx_line_reset(&cx->cur);
		r = screen_command(cx, cx->last_prompt, cx->rl_anchor, cx->snap_row, &text, &flags);
		if (r == 0 && !(text.len >= 2 && memcmp(text.p + text.len - 2, "^C", 2) == 0))
			r = accept_line(cx, NULL, &text, flags, cx->now);
	}
	cx->snap_row = NO_ANCHOR;
	cmdx_sbuf_free(&text);
	return r;
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
			cmdx_vt_write(cx, (const char *)p, n);
			return cx->err;
		}
		if ((lf = memchr(p, '\n', n)) == NULL) {
			cmdx_vt_write(cx, (const char *)p, n);
			return cx->err;
		}
		if (lf > p)
			cmdx_vt_write(cx, (const char *)p, (size_t)(lf - p));
		if ((r = before_newline(cx)) != 0)
			return r;
		cmdx_vt_write(cx, "\n", 1);
		n -= (size_t)(lf - p) + 1;
		p = lf + 1;
	}
	return cx->err;
}

int
cmdx_lazy_flush(struct cmdx *cx)
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
		cmdx_vt_write(cx, "\r\n", 2);
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
	return !cmdx_tracking(cx) && cx->lazy != NULL;
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
	if ((r = cmdx_lazy_flush(cx)) != 0)
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

	if ((r = cmdx_lazy_flush(cx)) != 0)
		return r;
	cmdx_vt_write(cx, (const char *)p, n);
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
		return editor_on(cx);
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

/* ---- API ---- */

struct cmdx *
cmdx_new(int cols, int rows)
{
	struct cmdx *cx = NULL, *ret = NULL;

	if (!cmdx_size_ok(cols, rows))
		goto out;
	if ((cx = calloc(1, sizeof(*cx))) == NULL)
		goto out;
	cx->cols = cols;
	cx->rows = rows;
	if (cmdx_grid_alloc(cols, rows, &cx->main_cells, &cx->alt_cells, &cx->main_cont, &cx->alt_cont) != 0)
		goto out;
	cx->cells = cx->main_cells;
	cx->cont = cx->main_cont;
	if ((cx->lazy = malloc(2 * LAZY_MAX)) == NULL)
		goto out;
	if ((cx->ev = calloc(EVENTS_MAX, sizeof(*cx->ev))) == NULL)
		goto out;
	cmdx_line_reset(&cx->cur);
	for (int i = 0; i < QUEUE_MAX; i++)
		cmdx_line_reset(&cx->q[i]);
	cx->rl_anchor = NO_ANCHOR;
	cx->snap_row = NO_ANCHOR;
	cmdx_tty_defaults(&cx->tty);
	if ((cx->vt = vterm_new(rows, cols)) == NULL)
		goto out;
	vterm_set_utf8(cx->vt, 1);
	cx->state = vterm_obtain_state(cx->vt);
	cmdx_screen_attach(cx);
	vterm_state_reset(cx->state, 1);
	vt_prime(cx->vt);
	vterm_state_reset(cx->state, 1);
	ret = cx;
	cx = NULL;
out:
	cmdx_free(cx);
	return ret;
}

/* Typed keys may hold a password typed at a program's prompt. */
static void
wipe_free(struct sbuf *b)
{
	if (b->p != NULL)
		explicit_bzero(b->p, b->cap);
	cmdx_sbuf_free(b);
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
	if (cx->lazy != NULL)
		explicit_bzero(cx->lazy, 2 * LAZY_MAX);
	free(cx->lazy);
	free(cx->last_prompt);
	wipe_free(&cx->join);
	wipe_free(&cx->kcont);
	wipe_free(&cx->prev_raw);
	for (int i = 0; i < QUEUE_MAX; i++) {
		cmdx_line_reset(&cx->q[i]);
		wipe_free(&cx->q[i].typed);
		wipe_free(&cx->q[i].raw);
	}
	cmdx_line_reset(&cx->cur);
	wipe_free(&cx->cur.typed);
	wipe_free(&cx->cur.raw);
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

	if (cx == NULL || !cmdx_size_ok(cols, rows))
		return ERR_INVALID;
	if (cols == cx->cols && rows == cx->rows)
		return 0;
	if ((r = cmdx_lazy_flush(cx)) != 0)
		return r;
	if ((r = cmdx_grid_alloc(cols, rows, &mc, &ac, &mo, &ao)) != 0)
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
	cmdx_sb_clear(cx);
	cx->cur.anchor = NO_ANCHOR;
	cx->rl_anchor = NO_ANCHOR;
	cx->snap_row = NO_ANCHOR;
	for (i = 0; i < QUEUE_MAX; i++)
		cx->q[i].anchor = NO_ANCHOR;
	cx->pending_wrap = 0;
	cx->resize_shift = shift;
	vterm_set_size(cx->vt, rows, cols);
	cx->resize_shift = 0;
	/* libvterm 0.1.4 keeps a scroll region's top past the new bottom and
	 * then moves rows by a negative size (found by our fuzzer); terminals
	 * reset the region on resize anyway. The cursor is saved around it. */
	static const char reset_region[] = "\x1b"
	                                   "7\x1b[r\x1b[?69l\x1b"
	                                   "8";
	cmdx_vt_write(cx, reset_region, sizeof(reset_region) - 1);
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
	/* Keys typed in a full-screen program are modelled too: a shell can
	 * read lines there (`printf '\\033[?1049h'` is all it takes). */
	for (i = 0; i < len; i++)
		if ((r = cmdx_input_byte(cx, buf[i], t_us)) != 0)
			return r;
	return 0;
}

/* The end of the output, escape sequences included, for the prompt for a
 * secret (the same test as the recording's redaction filter). */
static void
otail_add(struct cmdx *cx, const uint8_t *p, size_t n)
{
	size_t cap = sizeof(cx->otail);

	if (n >= cap) {
		memcpy(cx->otail, p + n - cap, cap);
		cx->notail = cap;
		return;
	}
	if (cx->notail + n > cap) {
		size_t drop = cx->notail + n - cap;
		memmove(cx->otail, cx->otail + drop, cx->notail - drop);
		cx->notail -= drop;
	}
	memcpy(cx->otail + cx->notail, p, n);
	cx->notail += n;
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
	otail_add(cx, buf, len);
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
	if (cmdx_tracking(cx) == 0)
		cmdx_sb_clear(cx);
out:
	free(tmp);
	return r;
}

/* The unfinished lines before the current one, joined as emit_line does. */
static void
join_pending(const struct cmdx *cx, const char *text, size_t len, struct sbuf *out)
{
	if (cx->joining) {
		cmdx_sbuf_add(out, cx->join.p, cx->join.len);
		if (out->len > 0 && out->p[out->len - 1] == '\\')
			out->p[--out->len] = '\0';
		else
			cmdx_sbuf_add(out, "\n", 1);
	}
	cmdx_sbuf_add(out, text, len);
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
	if ((r = cmdx_lazy_flush(cx)) != 0)
		goto out;
	/* Lines typed ahead and not yet echoed: the screen is behind, the
	 * keys are the better witness when they can be replayed. */
	if (cx->qcount > 0 && cx->cur.known && !cx->cur.truncated)
		r = cmdx_sbuf_add(&s, cx->cur.typed.p ? cx->cur.typed.p : "", cx->cur.typed.len);
	else
		r = screen_command(cx, cx->cur.prompt, cx->cur.anchor, NO_ANCHOR, &s, &flags);
	if (r != 0)
		goto out;
	join_pending(cx, s.p ? s.p : "", s.len, &all);
	cmdx_sbuf_add(&all, "", 0);
	if (all.oom) {
		r = ERR_NOMEM;
		goto out;
	}
	*text = all.p;
	all.p = NULL;
	r = 0;
out:
	cmdx_sbuf_free(&s);
	cmdx_sbuf_free(&all);
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
	cmdx_sbuf_add(&all, "", 0);
	if (all.oom) {
		cmdx_sbuf_free(&all);
		return ERR_NOMEM;
	}
	*text = all.p;
	return 0;
}

int
cmdx_pending_editor(const struct cmdx *cx)
{
	return cx != NULL && cx->bp_mode && cx->cur.started && !cx->cur.inactive && !cx->alt;
}

void
cmdx_cancel_line(struct cmdx *cx)
{
	if (cx == NULL)
		return;
	cmdx_line_reset(&cx->cur);
	cx->in.st = IN_NORMAL;
	cx->joining = 0;
	cmdx_sbuf_reset(&cx->join);
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

/* ---- judging a line before it is submitted ---- */

/* Two texts equal but for trailing blanks. */
static int
same_text(const char *a, size_t na, const char *b, size_t nb)
{
	na = cmdx_rtrim_len(a, na);
	nb = cmdx_rtrim_len(b, nb);
	return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

/* a, then b as the shell continues it (emit_line's join). */
static void
join_texts(const char *a, size_t na, const char *b, size_t nb, struct sbuf *out)
{
	cmdx_sbuf_reset(out);
	cmdx_sbuf_add(out, a, na);
	if (out->len > 0 && out->p[out->len - 1] == '\\')
		out->p[--out->len] = '\0';
	else
		cmdx_sbuf_add(out, "\n", 1);
	cmdx_sbuf_add(out, b, nb);
}

/* Where the keys of the line a canonical reader holds now begin: after
 * the last CR or LF among them that is not quoted by the literal-next
 * character (a pasted line end, readline's quoted newline). */
static size_t
segment_start(const struct ttymodel *t, const uint8_t *k, size_t n)
{
	for (size_t i = n; i > 0; i--) {
		if (k[i - 1] != '\r' && k[i - 1] != '\n')
			continue;
		if (i >= 2 && (k[i - 2] == 0x16 || (t->cc[TC_LNEXT] != TTY_UNDEF && k[i - 2] == t->cc[TC_LNEXT])))
			continue;
		return i;
	}
	return 0;
}

int
cmdx_judge(struct cmdx *cx, cmdx_judge_fn fn, void *arg)
{
	struct sbuf last = {0}, typed = {0}, tmp = {0}, both = {0};
	const struct line *l;
	const uint8_t *raw;
	char *screen = NULL;
	size_t slen = 0, seg;
	int r = 0, confirmed = 0;
	unsigned under;

	if (cx == NULL || fn == NULL)
		return ERR_INVALID;
	if (cx->err)
		return cx->err;
	l = &cx->cur;
	raw = (const uint8_t *)(l->raw.p ? l->raw.p : "");
	/* 1. The screen: what the operator saw after the prompt (the keys
	 * when lines are typed ahead of their echo). */
	if (l->started && !cx->alt && cmdx_pending_command(cx, &screen) == 0 && screen != NULL) {
		slen = strlen(screen);
		if ((r = cmdx_offer(fn, arg, &last, screen, slen, CMDX_W_SCREEN)) != 0)
			goto out;
	}
	/* 2. readline's reading of the keys, with the lines it continues; as
	 * far as it goes when keys it cannot replay were typed (a Tab). Inside
	 * a paste only its last line: readline runs the whole paste at the
	 * Enter after it, judged then in full; a line reader that ends lines
	 * at the pasted newlines gets this one now (and the cost of a long
	 * paste stays linear). */
	if (l->started && !l->truncated && cx->in.st == IN_PASTE) {
		const char *t = l->typed.p ? l->typed.p : "", *nl = memrchr(t, '\n', l->typed.len);
		size_t from = nl != NULL ? (size_t)(nl + 1 - t) : 0;
		if ((r = cmdx_offer(fn, arg, &last, t + from, l->typed.len - from, CMDX_W_EDITOR)) != 0)
			goto out;
	} else if (l->started && !l->truncated) {
		join_pending(cx, l->typed.p ? l->typed.p : "", l->typed.len, &typed);
		if ((r = cmdx_offer(fn, arg, &last, typed.p ? typed.p : "", typed.len, CMDX_W_EDITOR)) != 0)
			goto out;
		confirmed = l->known && !l->raw_cut && cx->qcount == 0 && screen != NULL && slen > 0 &&
		            same_text(screen, slen, typed.p ? typed.p : "", typed.len);
		if (cx->kcont_open) {
			join_texts(cx->kcont.p, cx->kcont.len, l->typed.p ? l->typed.p : "", l->typed.len, &tmp);
			if ((r = cmdx_offer(fn, arg, &last, tmp.p, tmp.len, CMDX_W_EDITOR)) != 0)
				goto out;
		}
	}
	/* 3. The terminal's line discipline, and when the screen does not
	 * confirm the keys, every other plausible reading of them: of the
	 * keys since the last line end among them (a pasted newline ends a
	 * canonical line whatever the erase character). */
	seg = segment_start(&cx->tty, raw, l->raw.len);
	if ((r = cmdx_tty_readings(&cx->tty, raw + seg, l->raw.len - seg, !confirmed, fn, arg, &last)) != 0)
		goto out;
	if (confirmed)
		goto out;
	under = cmdx_tty_line(&cx->tty, raw + seg, l->raw.len - seg, &tmp);
	if (cx->kcont_open) {
		join_texts(cx->kcont.p, cx->kcont.len, tmp.p, tmp.len, &both);
		if ((r = cmdx_offer(fn, arg, &last, both.p, both.len, CMDX_W_GUESS)) != 0)
			goto out;
	}
	/* 4. The previous line may not have ended on the target: the keys of
	 * this one erase back into it (an Enter the target took as a
	 * character, an interrupt character it ignores). Only then: a line
	 * that starts afresh is read by itself, or every line after a refused
	 * one would be refused again. */
	if (cx->prev_raw.len > 0 && (under & TTYL_UNDERFLOW)) {
		struct ttymodel nosig = cx->tty;

		nosig.flags &= ~TF_ISIG;
		cmdx_sbuf_reset(&tmp);
		cmdx_sbuf_add(&tmp, cx->prev_raw.p, cx->prev_raw.len);
		cmdx_sbuf_add(&tmp, raw, l->raw.len);
		cmdx_tty_line(&cx->tty, (const uint8_t *)tmp.p, tmp.len, &both);
		if ((r = cmdx_offer(fn, arg, &last, both.p, both.len, CMDX_W_GUESS)) != 0)
			goto out;
		cmdx_tty_line(&nosig, (const uint8_t *)tmp.p, tmp.len, &both);
		if ((r = cmdx_offer(fn, arg, &last, both.p, both.len, CMDX_W_GUESS)) != 0)
			goto out;
	}
out:
	free(screen);
	wipe_free(&last);
	wipe_free(&typed);
	wipe_free(&tmp);
	wipe_free(&both);
	return r;
}

int
cmdx_pending_secret(struct cmdx *cx)
{
	char *screen = NULL;
	int secret;

	if (cx == NULL || cx->cur.raw.len == 0)
		return 0;
	if (!cx->cur.secret && !cmdx_secret_prompt(cx))
		return 0;
	if (cx->alt)
		return 1;
	/* shown on the screen: not a secret any more */
	secret = cmdx_pending_command(cx, &screen) != 0 || screen == NULL ||
	         cmdx_rtrim_len(screen, strlen(screen)) == 0 || cx->qcount > 0;
	free(screen);
	return secret;
}

size_t
cmdx_pending_len(const struct cmdx *cx)
{
	return cx != NULL ? cx->cur.raw.len : 0;
}

uint8_t
cmdx_cancel_key(const struct cmdx *cx)
{
	if (cx == NULL)
		return 0x03;
	if ((cx->tty.flags & TF_ISIG) && cx->tty.cc[TC_INTR] != TTY_UNDEF)
		return (uint8_t)cx->tty.cc[TC_INTR];
	if (cx->tty.cc[TC_KILL] != TTY_UNDEF)
		return (uint8_t)cx->tty.cc[TC_KILL];
	return 0x03;
}

void
cmdx_tag_line(struct cmdx *cx, int64_t tag)
{
	if (cx != NULL)
		cx->cur.tag = tag;
}

void
cmdx_tick(struct cmdx *cx, int64_t t_us)
{
	struct line *h;

	if (cx == NULL || cx->err)
		return;
	/* Only lines no editor is about to accept: those wait for an echo,
	 * which a terminal gives within a round trip if it gives one. */
	while ((h = queue_head(cx)) != NULL && (h->inactive || !cx->bp_mode) && t_us - h->t_enter >= CMDX_CONFIRM_US) {
		if (queue_pop_as(cx, 1, CMDX_R_NO_ECHO) != 0) {
			cx->err = ERR_NOMEM;
			return;
		}
	}
}

void
cmdx_finish(struct cmdx *cx)
{
	if (cx == NULL)
		return;
	if (cmdx_queue_flush(cx, CMDX_R_NO_ECHO) != 0)
		cx->err = ERR_NOMEM;
}

void
cmdx_reasons_text(unsigned reasons, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *text;
	} names[] = {
	        {CMDX_R_SECRET, "typed without echo after a prompt for a secret"},
	        {CMDX_R_ALT_SCREEN, "alternate screen"},
	        {CMDX_R_NO_ECHO, "not echoed"},
	        {CMDX_R_NO_EDITOR, "no line editor"},
	        {CMDX_R_SHELL_KEYS, "keys only the target interprets"},
	        {CMDX_R_TTY_CHARS, "terminal special characters changed"},
	        {CMDX_R_DIFFER, "screen and keys differ"},
	        {CMDX_R_PROMPT, "prompt not found"},
	        {CMDX_R_CONTINUED, "may continue an earlier line"},
	};
	size_t n = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int w;
		if (!(reasons & names[i].bit))
			continue;
		w = snprintf(buf + n, len - n, "%s%s", n > 0 ? ", " : "", names[i].text);
		if (w < 0 || (size_t)w >= len - n)
			return;
		n += (size_t)w;
	}
}
