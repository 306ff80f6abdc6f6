/* Playback in a terminal (see play.h, play_tty): original timing, pause,
 * speed, seeking through the keyframe cache, previous/next command, go to
 * a time, a status line. The screen is always drawn from the emulator's
 * state, never by passing recorded bytes through, so a recording made in
 * a window of another size is clipped or padded, never garbled. The
 * caller owns the terminal modes (raw input, alternate screen): over SSH
 * there is no local terminal to configure. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/utf8.h"
#include "recorder/keyframe.h"
#include "recorder/rec-reader.h"
#include "recorder/vtguard.h"
#include "recorder/vtsan.h"
#include "player/play-int.h"
#include "player/play.h"

#define SEEK_STEP_US (10 * 1000000ull)
#define MAX_SPEED    64.0
#define MIN_SPEED    (1.0 / 16)

struct out {
	char *p;
	size_t len, cap;
};

struct player {
	const struct play_session *s;
	const struct play_tty_io *io;
	struct rec_reader *r;
	struct kf_cache *kf;
	struct kf_term *t;
	struct scan sc;
	uint32_t ch;
	int cols0, rows0; /* the channel's first size (before its REC_PTY) */
	uint64_t pos_us;  /* playback position: offset from the start */
	uint64_t dur_us;  /* offset of the last record known */
	int have_next;    /* next holds the record to play next */
	struct rec_record next;
	uint8_t *next_data; /* a copy of next.data (the reader reuses its buffer) */
	int at_end;         /* the reader has nothing more (for now) */
	int paused, quit, follow;
	int kf_tried; /* the cache was loaded or built (or failed) */
	double speed, max_idle;
	uint64_t to_us;  /* --to: pause there (0 = the end) */
	char prompt[16]; /* the 'g' prompt being typed, or "" */
	int prompting;
	char message[96];       /* shown in the status line for a while */
	uint64_t message_until; /* monotonic µs */
	char **shown;           /* the rows last drawn, to send only changes */
	int shown_rows, shown_cols;
	int dirty;
};

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
out_add(struct out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4096;
		char *np;

		while (cap < o->len + n + 1)
			cap *= 2;
		if ((np = realloc(o->p, cap)) == NULL)
			return; /* drawing is best effort */
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void out_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_fmt(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_add(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return ERR_IO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void
message(struct player *p, const char *text)
{
	snprintf(p->message, sizeof(p->message), "%s", text);
	p->message_until = mono_us() + 3000000u;
	p->dirty = 1;
}

/* ---- reading records ---------------------------------------------------- */

/* Make p->next the next record of the recording (any channel). */
static int
peek(struct player *p)
{
	int n, grew;

	if (p->have_next || p->at_end)
		return 0;
	n = rec_reader_next(p->r, &p->next);
	if (n == 0 && p->follow) {
		struct rec_reader_info info;

		rec_reader_get_info(p->r, &info);
		if (!info.ended && rec_reader_refresh(p->r, &grew) == 0 && grew)
			n = rec_reader_next(p->r, &p->next);
	}
	if (n < 0)
		return n;
	if (n == 0) {
		p->at_end = 1;
		return 0;
	}
	free(p->next_data);
	p->next_data = NULL;
	if (p->next.len > 0) {
		if ((p->next_data = malloc(p->next.len)) == NULL)
			return ERR_NOMEM;
		memcpy(p->next_data, p->next.data, p->next.len);
	}
	p->next.data = p->next_data;
	p->have_next = 1;
	if (p->next.time_us - p->sc.first_us > p->dur_us)
		p->dur_us = p->next.time_us - p->sc.first_us;
	return 0;
}

/* Apply the peeked record and drop it. */
static int
consume(struct player *p)
{
	int r = 0;

	if (p->next.channel == p->ch) {
		if (p->t == NULL && (p->next.type == REC_DATA_OUT || p->next.type == REC_DATA_ERR) &&
		    kf_term_new(p->cols0, p->rows0, &p->t) != 0)
			return ERR_NOMEM; /* a channel without a pty: a screen of its first size */
		r = kf_apply_record(&p->t, p->ch, &p->next);
		if (r > 0)
			p->dirty = 1;
	}
	p->have_next = 0;
	return r < 0 ? r : 0;
}

/* Go to an offset: the keyframe before it, then the records after it. */
static int draw(struct player *p);

static int
seek_to(struct player *p, uint64_t off)
{
	const struct kf_entry *e;
	int r, loaded = 0;

	/* The keyframe cache, built on the first seek that needs it (a
	 * second or two for hours of heavy output, then kept beside the
	 * recording), so that the first frame never waits for it. */
	if (p->kf == NULL && !p->kf_tried && off > 0) {
		p->kf_tried = 1;
		message(p, "indexing the recording for seeking...");
		draw(p);
		if (kf_cache_open(p->r, p->s->path, &p->kf, &loaded) != 0)
			p->kf = NULL; /* seeking replays from the start */
	}
	e = kf_cache_find(p->kf, p->ch, p->sc.first_us + off);
	kf_term_free(p->t);
	p->t = NULL;
	p->have_next = 0;
	p->at_end = 0;
	if (e != NULL) {
		if ((r = kf_term_restore(e->blob, e->len, &p->t)) != 0 ||
		    (r = rec_reader_seek_frame(p->r, (size_t)e->frame)) != 0)
			return r;
	} else if ((r = rec_reader_rewind(p->r)) != 0) {
		return r;
	}
	for (;;) {
		if ((r = peek(p)) != 0)
			return r;
		if (!p->have_next || p->next.time_us > p->sc.first_us + off)
			break;
		if (e != NULL && p->next.ordinal <= e->ordinal) {
			p->have_next = 0;
			continue;
		}
		if ((r = consume(p)) != 0)
			return r;
	}
	p->pos_us = off;
	p->dirty = 1;
	return 0;
}

/* ---- drawing ------------------------------------------------------------ */

/* One colour as a whole SGR sequence. */
static void
sgr_color(struct out *o, const VTermColor *c, int bg)
{
	char q[40];

	vt_sgr_color(q, sizeof(q), c, bg);
	out_fmt(o, "%s", q);
}

static void
sgr_cell(struct out *o, const VTermScreenCell *c)
{
	out_add(o, "\033[0", 3);
	if (c->attrs.bold)
		out_add(o, ";1", 2);
	if (c->attrs.underline)
		out_add(o, ";4", 2);
	if (c->attrs.italic)
		out_add(o, ";3", 2);
	if (c->attrs.blink)
		out_add(o, ";5", 2);
	if (c->attrs.reverse)
		out_add(o, ";7", 2);
	if (c->attrs.strike)
		out_add(o, ";9", 2);
	/* colours in their own sequences: no terminal has to take more than
	 * a few parameters at once */
	out_add(o, "m", 1);
	sgr_color(o, &c->fg, 0);
	sgr_color(o, &c->bg, 1);
}

static void
utf8(struct out *o, uint32_t c)
{
	char u[4];
	size_t n;

	/* only printable code points reach the viewer's terminal (the
	 * sanitiser's definition) */
	if (!vtsan_printable(c))
		c = '?';
	n = utf8_encode(c, u);
	out_add(o, u, n);
}

/* One row of the recorded screen as the viewer will see it, clipped to
 * vcols (a wide glyph that would be cut is left out). */
static void
render_row(struct player *p, int row, int vcols, struct out *o)
{
	VTermScreen *scr = p->t != NULL ? kf_term_screen(p->t) : NULL;
	int cols = 0, rows = 0, col;

	if (p->t != NULL)
		kf_term_size(p->t, &cols, &rows);
	out_add(o, "\033[0m", 4);
	for (col = 0; col < vcols; col++) {
		VTermScreenCell c;
		VTermPos pos = {row, col};

		if (scr == NULL || row >= rows || col >= cols) {
			/* outside the recorded screen: padding */
			out_add(o, "\033[0m ", 5);
			continue;
		}
		memset(&c, 0, sizeof(c));
		vterm_screen_get_cell(scr, pos, &c);
		if (c.chars[0] == (uint32_t)-1)
			continue; /* drawn with its left half */
		sgr_cell(o, &c);
		if (c.width == 2 && col + 1 >= vcols) {
			out_add(o, " ", 1);
			continue;
		}
		if (c.chars[0] == 0) {
			out_add(o, " ", 1);
		} else {
			for (int k = 0; k < VTERM_MAX_CHARS_PER_CELL && c.chars[k] != 0; k++)
				utf8(o, c.chars[k]);
		}
		if (c.width == 2)
			col++;
	}
	out_add(o, "\033[0m", 4);
}

static void
fmt_time(char *buf, size_t len, uint64_t us)
{
	uint64_t s = us / 1000000u;

	snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
	         (unsigned long long)(s % 60));
}

static void
status_line(struct player *p, int vcols, int vrows, struct out *o)
{
	char pos[32], dur[32], line[600], size[64] = "";
	int cols = 0, rows = 0;
	size_t n;

	fmt_time(pos, sizeof(pos), p->pos_us);
	fmt_time(dur, sizeof(dur), p->dur_us);
	if (p->t != NULL)
		kf_term_size(p->t, &cols, &rows);
	if (p->t != NULL && (cols > vcols || rows > vrows - 1))
		snprintf(size, sizeof(size), "  [recorded %dx%d, clipped]", cols, rows);
	else if (p->t != NULL && (cols < vcols || rows < vrows - 1))
		snprintf(size, sizeof(size), "  [recorded %dx%d]", cols, rows);
	if (p->prompting)
		snprintf(line, sizeof(line), " go to time (s, m:ss, h:mm:ss): %s", p->prompt);
	else
		snprintf(line, sizeof(line), " %s %s / %s  x%g  %s@%s%s%s  %s", p->paused ? "||" : ">", pos, dur,
		         p->speed, str_or(p->s->user, json_string_value(json_object_get(p->sc.header, "user"))),
		         str_or(p->s->asset, json_string_value(json_object_get(p->sc.header, "asset"))), size,
		         p->follow ? "  LIVE" : "",
		         mono_us() < p->message_until ? p->message
		                                      : "space pause  +/- speed  <-/-> 10s  [ ] command  g go  q quit");
	/* The names come from the recording: through the sanitiser, then
	 * cut at vcols characters, never inside one. */
	char *clean = vtsan_string(VTSAN_LINE, line, strlen(line));
	size_t i = 0, shown = 0;

	n = clean != NULL ? strlen(clean) : 0;
	out_fmt(o, "\033[%d;1H\033[0;7m", vrows);
	while (i < n) {
		size_t k = 1;

		while (i + k < n && ((unsigned char)clean[i + k] & 0xc0) == 0x80)
			k++;
		if (shown == (size_t)vcols)
			break;
		out_add(o, clean + i, k);
		i += k;
		shown++;
	}
	for (; shown < (size_t)vcols; shown++)
		out_add(o, " ", 1);
	free(clean);
	out_add(o, "\033[0m", 4);
}

static void
free_shown(struct player *p)
{
	for (int i = 0; i < p->shown_rows; i++)
		free(p->shown[i]);
	free(p->shown);
	p->shown = NULL;
	p->shown_rows = 0;
}

static int
draw(struct player *p)
{
	struct out o = {0}, row = {0};
	int vrows = 24, vcols = 80, r = 0, crow, ccol, vis, alt;

	p->io->size(p->io->arg, &vrows, &vcols);
	if (vrows < 2 || vcols < 10)
		return 0;
	if (vrows != p->shown_rows || vcols != p->shown_cols) {
		free_shown(p);
		if ((p->shown = calloc((size_t)vrows, sizeof(char *))) == NULL)
			return ERR_NOMEM;
		p->shown_rows = vrows;
		p->shown_cols = vcols;
		out_add(&o, "\033[0m\033[2J", 8);
	}
	out_add(&o, "\033[?25l", 6);
	for (int i = 0; i < vrows - 1; i++) {
		row.len = 0;
		render_row(p, i, vcols, &row);
		if (row.p == NULL)
			continue;
		if (p->shown[i] != NULL && strcmp(p->shown[i], row.p) == 0)
			continue;
		out_fmt(&o, "\033[%d;1H", i + 1);
		out_add(&o, row.p, row.len);
		free(p->shown[i]);
		p->shown[i] = strdup(row.p);
	}
	status_line(p, vcols, vrows, &o);
	if (p->t != NULL) {
		kf_term_cursor(p->t, &crow, &ccol, &vis, &alt);
		if (vis && crow < vrows - 1 && ccol < vcols)
			out_fmt(&o, "\033[%d;%dH\033[?25h", crow + 1, ccol + 1);
	}
	if (o.p != NULL)
		r = write_all(p->io->out_fd, o.p, o.len);
	free(o.p);
	free(row.p);
	p->dirty = 0;
	return r;
}

/* ---- keys ----------------------------------------------------------------- */

static const struct cmd_entry *
command_near(struct player *p, int forward)
{
	const struct cmd_entry *best = NULL;
	uint64_t now = p->sc.first_us + p->pos_us;

	for (size_t i = 0; i < p->sc.ncmds; i++) {
		const struct cmd_entry *c = &p->sc.cmds[i];

		if (c->channel != p->ch)
			continue;
		/* a little slack so that [ from just after a command goes to
		 * the one before it */
		if (forward ? c->time_us > now : c->time_us + 1500000u < now) {
			if (forward ? best == NULL || c->time_us < best->time_us
			            : best == NULL || c->time_us > best->time_us)
				best = c;
		}
	}
	return best;
}

static int
key(struct player *p, const char *k, size_t n)
{
	const struct cmd_entry *c;
	uint64_t off;
	int r = 0;

	if (p->prompting) {
		if (k[0] == '\r' || k[0] == '\n') {
			p->prompting = 0;
			if (play_parse_time(p->prompt, p->sc.first_us, &off) == 0)
				r = seek_to(p, off < p->dur_us ? off : p->dur_us);
			else
				message(p, "not a time");
		} else if (k[0] == 0x1b || k[0] == 3) {
			p->prompting = 0;
		} else if ((k[0] == 0x7f || k[0] == 8) && p->prompt[0] != '\0') {
			p->prompt[strlen(p->prompt) - 1] = '\0';
		} else if (((k[0] >= '0' && k[0] <= '9') || k[0] == ':') && strlen(p->prompt) < sizeof(p->prompt) - 1) {
			size_t l = strlen(p->prompt);

			p->prompt[l] = k[0];
			p->prompt[l + 1] = '\0';
		}
		p->dirty = 1;
		return r;
	}
	if (n >= 3 && k[0] == 0x1b && (k[1] == '[' || k[1] == 'O') && (k[2] == 'C' || k[2] == 'D')) {
		off = k[2] == 'C' ? p->pos_us + SEEK_STEP_US
		                  : (p->pos_us > SEEK_STEP_US ? p->pos_us - SEEK_STEP_US : 0);
		return seek_to(p, off < p->dur_us ? off : p->dur_us);
	}
	switch (k[0]) {
	case 'q':
	case 3: p->quit = 1; break;
	case ' ': p->paused = !p->paused; break;
	case '+':
		if (p->speed < MAX_SPEED)
			p->speed *= 2;
		break;
	case '-':
		if (p->speed > MIN_SPEED)
			p->speed /= 2;
		break;
	case '[':
	case ']':
		if ((c = command_near(p, k[0] == ']')) == NULL) {
			message(p, "no command there");
			break;
		}
		message(p, c->text);
		r = seek_to(p, c->time_us - p->sc.first_us);
		break;
	case 'g':
		p->prompting = 1;
		p->prompt[0] = '\0';
		break;
	default: break;
	}
	p->dirty = 1;
	return r;
}

/* ---- the loop ------------------------------------------------------------- */

int
play_tty(const struct play_session *s, const struct play_range *rg, double speed, const struct play_tty_io *io)
{
	struct player p;
	int r, cols = 80, rows = 24;
	uint64_t wall0, pos0;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.io = io;
	p.speed = speed > 0 ? speed : 1.0;
	p.max_idle = rg->max_idle;
	p.to_us = rg->to_us;
	p.follow = rg->follow;
	if ((r = scan_recording(s->path, &p.sc)) != 0)
		goto out;
	if ((r = pick_channel(&p.sc, rg->channel, &p.ch, &cols, &rows)) != 0)
		goto out;
	p.cols0 = cols;
	p.rows0 = rows;
	p.dur_us = p.sc.last_us - p.sc.first_us;
	if ((r = rec_reader_open(s->path, &p.r)) != 0)
		goto out;
	/* The keyframe cache: loaded, or built once (a few seconds for
	 * hours of heavy output) and kept beside the recording. */
	if (kf_cache_load(p.r, s->path, &p.kf) == 0)
		p.kf_tried = 1;
	if ((r = seek_to(&p, p.follow ? p.dur_us : rg->from_us)) != 0)
		goto out;
	wall0 = mono_us();
	pos0 = p.pos_us;
	while (!p.quit) {
		struct pollfd pfd = {.fd = io->in_fd, .events = POLLIN};
		int timeout = 200;
		char kb[16];

		if ((r = peek(&p)) != 0)
			goto out;
		if (!p.paused && !p.prompting) {
			/* play the records that are due */
			uint64_t now = pos0 + (uint64_t)((double)(mono_us() - wall0) * p.speed);

			while (p.have_next && p.next.time_us - p.sc.first_us <= now) {
				if ((r = consume(&p)) != 0 || (r = peek(&p)) != 0)
					goto out;
			}
			if (p.have_next) {
				uint64_t due = p.next.time_us - p.sc.first_us;
				double wait = (double)(due - now) / p.speed / 1000.0;

				/* --max-idle: skip long pauses */
				if (p.max_idle > 0 && (double)(due - now) / 1e6 > p.max_idle) {
					pos0 = due - (uint64_t)(p.max_idle * 1e6);
					wall0 = mono_us();
					now = pos0;
					wait = p.max_idle * 1000.0 / p.speed;
				}
				timeout = wait < 0 ? 0 : wait > 200 ? 200 : (int)wait;
				p.pos_us = now;
			} else {
				p.pos_us = now < p.dur_us ? now : p.dur_us;
				if (p.at_end && !p.follow && p.pos_us >= p.dur_us && !p.paused) {
					p.paused = 1;
					message(&p, "end of the recording");
				}
				if (p.at_end && p.follow) {
					struct rec_reader_info info;

					rec_reader_get_info(p.r, &info);
					if (info.ended) {
						message(&p, "the session ended");
						p.paused = 1;
						p.follow = 0;
					} else {
						p.at_end = 0; /* look again after the timeout */
					}
				}
			}
			p.dirty = 1;
		}
		if (p.to_us > 0 && p.pos_us >= p.to_us && !p.paused) {
			p.paused = 1;
			p.to_us = 0; /* once: playing on is allowed */
			message(&p, "end of the range (--to)");
		}
		if (p.dirty && (r = draw(&p)) != 0)
			goto out;
		if (poll(&pfd, 1, timeout) > 0) {
			ssize_t k = read(io->in_fd, kb, sizeof(kb));

			if (k <= 0) {
				p.quit = 1;
				break;
			}
			/* a read may hold several keys (typed ahead, pasted) */
			for (ssize_t at = 0; at < k && !p.quit;) {
				size_t len = 1;

				if (kb[at] == 0x1b && at + 2 < k && (kb[at + 1] == '[' || kb[at + 1] == 'O')) {
					len = 3;
					while (at + (ssize_t)len - 1 < k &&
					       !(kb[at + len - 1] >= 0x40 && kb[at + len - 1] <= 0x7e))
						len++;
					if (at + (ssize_t)len > k)
						len = (size_t)(k - at);
				}
				if ((r = key(&p, kb + at, len)) != 0)
					goto out;
				at += (ssize_t)len;
			}
			/* after a key (a seek, a pause, a new speed) the
			 * clock restarts from where playback is */
			pos0 = p.pos_us;
			wall0 = mono_us();
		}
	}
	r = 0;
out:
	free_shown(&p);
	free(p.next_data);
	kf_term_free(p.t);
	kf_cache_free(p.kf);
	rec_reader_free(p.r);
	scan_free(&p.sc);
	return r;
}
