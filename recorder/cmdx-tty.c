/* The command extractor's model of the target's terminal line discipline.
 *
 * A shell without line editing (bash with `set +o emacs +o vi`, dash, sh)
 * and any program that reads lines gets them from the kernel's canonical
 * mode: the terminal driver applies the erase, kill, word-erase and
 * literal-next characters, ends the line at a newline, and the program
 * never sees the keys themselves. Which characters do what is the
 * operator's to change (`stty erase Q`), and the echo is the operator's to
 * turn off, so the screen is no witness then. This file replays a line's
 * keys the way Linux's n_tty does, with the characters the extractor saw
 * set by stty, and offers a judge the other plausible readings: with the
 * defaults, without escape sequences, and with each character of the line
 * taken as the erase, kill or word-erase character (an stty the extractor
 * did not see: a script, an alias). docs/command-control.md ("What it
 * promises") says what this covers and what it costs. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/cmdx-int.h"

void
cmdx_tty_defaults(struct ttymodel *t)
{
	/* Linux's default termios for a new pty (tty_std_termios), which is
	 * what sshd gives the target's shell when the client (Gatehouse's
	 * target leg) sends no modes; `stty sane` sets the same characters. */
	static const int cc[TC_COUNT] = {
	        [TC_INTR] = 0x03,     [TC_QUIT] = 0x1c,      [TC_ERASE] = 0x7f, [TC_KILL] = 0x15, [TC_EOF] = 0x04,
	        [TC_EOL] = TTY_UNDEF, [TC_EOL2] = TTY_UNDEF, [TC_START] = 0x11, [TC_STOP] = 0x13, [TC_SUSP] = 0x1a,
	        [TC_RPRNT] = 0x12,    [TC_WERASE] = 0x17,    [TC_LNEXT] = 0x16,
	};

	memcpy(t->cc, cc, sizeof(t->cc));
	t->flags = TF_ICANON | TF_ISIG | TF_IEXTEN | TF_ICRNL | TF_IXON | TF_IUTF8;
}

int
cmdx_tty_equal(const struct ttymodel *a, const struct ttymodel *b)
{
	return a->flags == b->flags && memcmp(a->cc, b->cc, sizeof(a->cc)) == 0;
}

/* ---- canonical mode ---- */

static int
utf8_cont(uint8_t c)
{
	return (c & 0xc0) == 0x80;
}

static void
put(struct sbuf *out, uint8_t c)
{
	if (c == 0)
		return; /* a NUL would end the text for a regex: never part of a command */
	if (out->len >= CMDX_MAX_COMMAND)
		return;
	cmdx_sbuf_add(out, &c, 1);
}

/* Erase one character (a whole UTF-8 sequence with IUTF8). */
static void
erase_char(const struct ttymodel *t, struct sbuf *out, size_t committed)
{
	while (out->len > committed) {
		uint8_t c = (uint8_t)out->p[--out->len];
		if (!(t->flags & TF_IUTF8) || !utf8_cont(c))
			break;
	}
	out->p[out->len] = '\0';
}

/* n_tty's word erase (like BSD's ALTWERASE): characters that are not
 * letters, digits or '_' until one that is, then those until one that
 * is not. */
static void
erase_word(const struct ttymodel *t, struct sbuf *out, size_t committed)
{
	int seen = 0;

	while (out->len > committed) {
		size_t i = out->len - 1;
		uint8_t c;

		while (i > committed && (t->flags & TF_IUTF8) && utf8_cont((uint8_t)out->p[i]))
			i--;
		c = (uint8_t)out->p[i];
		if (c < 0x80 && (isalnum(c) || c == '_'))
			seen++;
		else if (seen)
			break;
		out->len = i;
	}
	out->p[out->len] = '\0';
}

static int
is_cc(const struct ttymodel *t, int which, uint8_t c)
{
	return t->cc[which] != TTY_UNDEF && t->cc[which] == c;
}

unsigned
cmdx_tty_line(const struct ttymodel *t, const uint8_t *k, size_t n, struct sbuf *out)
{
	size_t committed = 0; /* bytes the reader already has (EOF, EOL): no erase reaches them */
	int lnext = 0;
	unsigned res = 0;

	cmdx_sbuf_reset(out);
	cmdx_sbuf_add(out, "", 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = k[i];

		if (lnext) {
			lnext = 0;
			put(out, c);
			continue;
		}
		if ((t->flags & TF_IGNCR) && c == '\r')
			continue;
		if ((t->flags & TF_ICRNL) && c == '\r')
			c = '\n';
		else if ((t->flags & TF_INLCR) && c == '\n')
			c = '\r';
		if ((t->flags & TF_IXON) && (is_cc(t, TC_START, c) || is_cc(t, TC_STOP, c)))
			continue;
		if ((t->flags & TF_ISIG) && (is_cc(t, TC_INTR, c) || is_cc(t, TC_QUIT, c) || is_cc(t, TC_SUSP, c))) {
			/* the signal flushes the input: a new line starts */
			cmdx_sbuf_reset(out);
			committed = 0;
			continue;
		}
		if (!(t->flags & TF_ICANON)) {
			put(out, c); /* the program gets the keys as they are */
			continue;
		}
		if ((t->flags & TF_IEXTEN) && is_cc(t, TC_LNEXT, c)) {
			lnext = 1;
			continue;
		}
		if (is_cc(t, TC_ERASE, c)) {
			if (out->len > committed)
				erase_char(t, out, committed);
			else
				res |= TTYL_UNDERFLOW;
			continue;
		}
		if (is_cc(t, TC_KILL, c)) {
			if (out->len > committed)
				out->len = committed;
			else
				res |= TTYL_UNDERFLOW;
			out->p[out->len] = '\0';
			continue;
		}
		if ((t->flags & TF_IEXTEN) && is_cc(t, TC_WERASE, c)) {
			if (out->len > committed)
				erase_word(t, out, committed);
			else
				res |= TTYL_UNDERFLOW;
			continue;
		}
		if ((t->flags & TF_IEXTEN) && is_cc(t, TC_RPRNT, c))
			continue;
		if (is_cc(t, TC_EOF, c)) {
			committed = out->len; /* what is typed goes to the reader, without a newline */
			continue;
		}
		if (c == '\n') {
			/* the line before went to the reader: the keys after it are the
			 * line that is read next */
			cmdx_sbuf_reset(out);
			committed = 0;
			continue;
		}
		put(out, c);
		if (is_cc(t, TC_EOL, c) || is_cc(t, TC_EOL2, c))
			committed = out->len;
	}
	return res;
}

/* ---- stty ---- */

/* Shell words of a line, with command separators as words of their own
 * ("\x01"): quotes and backslashes are applied, nothing is expanded. Good
 * enough to find `stty ...` as typed; an stty hidden behind expansion is
 * not found (that is what the other readings are for). */
struct words {
	char **w;
	size_t n, cap;
};

static int
words_add(struct words *ws, const char *p, size_t n)
{
	char **nw, *s;

	if (ws->n == ws->cap) {
		size_t cap = ws->cap ? ws->cap * 2 : 16;
		if ((nw = realloc(ws->w, cap * sizeof(*nw))) == NULL)
			return ERR_NOMEM;
		ws->w = nw;
		ws->cap = cap;
	}
	if ((s = malloc(n + 1)) == NULL)
		return ERR_NOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	ws->w[ws->n++] = s;
	return 0;
}

static void
words_free(struct words *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		free(ws->w[i]);
	free(ws->w);
}

#define SEP "\x01"

static int
split_words(const char *s, size_t len, struct words *ws)
{
	struct sbuf w = {0};
	int inword = 0, r = 0;
	char q = 0;

	for (size_t i = 0; i <= len && r == 0; i++) {
		char c = i < len ? s[i] : '\0';

		if (i == len || (!q && (c == ' ' || c == '\t' || strchr(";&|()\n`{}<>", c) != NULL))) {
			if (inword)
				r = words_add(ws, w.p ? w.p : "", w.len);
			cmdx_sbuf_reset(&w);
			inword = 0;
			if (r == 0 && i < len && c != ' ' && c != '\t' && c != '<' && c != '>')
				r = words_add(ws, SEP, 1);
			continue;
		}
		if (q == '\'') {
			if (c == '\'')
				q = 0;
			else
				cmdx_sbuf_add(&w, &c, 1);
			continue;
		}
		if (c == '\\' && i + 1 < len && q != '\'') {
			cmdx_sbuf_add(&w, &s[++i], 1);
			inword = 1;
			continue;
		}
		if (q == '"') {
			if (c == '"')
				q = 0;
			else
				cmdx_sbuf_add(&w, &c, 1);
			continue;
		}
		if (c == '\'' || c == '"') {
			q = c;
			inword = 1;
			continue;
		}
		if (c == '#' && !inword)
			break; /* a comment */
		cmdx_sbuf_add(&w, &c, 1);
		inword = 1;
	}
	if (r == 0 && w.oom)
		r = ERR_NOMEM;
	cmdx_sbuf_free(&w);
	return r;
}

/* GNU stty's reading of a control character value. */
static int
cc_value(const char *a)
{
	char *end = NULL;
	unsigned long v;

	if (strcmp(a, "^-") == 0 || strcmp(a, "undef") == 0)
		return TTY_UNDEF;
	if (a[0] == '\0' || a[1] == '\0')
		return a[0] == '\0' ? TTY_UNDEF : (uint8_t)a[0];
	if (a[0] == '^')
		return a[1] == '?' ? 0x7f : ((uint8_t)a[1] & ~0140) == 0 ? TTY_UNDEF : (uint8_t)a[1] & ~0140;
	v = strtoul(a, &end, 0);
	if (end == a || *end != '\0' || v > 255)
		return -2;                  /* not a value: stty fails */
	return v == 0 ? TTY_UNDEF : (int)v; /* 0 is _POSIX_VDISABLE on Linux */
}

static const struct {
	const char *name;
	int idx;
} cc_names[] = {
        {"intr", TC_INTR},   {"quit", TC_QUIT},     {"erase", TC_ERASE}, {"kill", TC_KILL}, {"eof", TC_EOF},
        {"eol", TC_EOL},     {"eol2", TC_EOL2},     {"start", TC_START}, {"stop", TC_STOP}, {"susp", TC_SUSP},
        {"rprnt", TC_RPRNT}, {"werase", TC_WERASE}, {"lnext", TC_LNEXT},
};

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
        {"icanon", TF_ICANON}, {"isig", TF_ISIG},   {"iexten", TF_IEXTEN}, {"icrnl", TF_ICRNL},
        {"igncr", TF_IGNCR},   {"inlcr", TF_INLCR}, {"ixon", TF_IXON},     {"iutf8", TF_IUTF8},
};

/* `stty -g` output: iflag:oflag:cflag:lflag:cc0:cc1:... in hex. */
static int
apply_saved(struct ttymodel *t, const char *a)
{
	/* Linux c_cc indexes */
	static const int vidx[TC_COUNT] = {
	        [TC_INTR] = 0,   [TC_QUIT] = 1,    [TC_ERASE] = 2,  [TC_KILL] = 3, [TC_EOF] = 4,
	        [TC_EOL] = 11,   [TC_EOL2] = 16,   [TC_START] = 8,  [TC_STOP] = 9, [TC_SUSP] = 10,
	        [TC_RPRNT] = 12, [TC_WERASE] = 14, [TC_LNEXT] = 15,
	};
	unsigned long f[4], cc[17];
	const char *p = a;
	char *end;
	int i;

	for (i = 0; i < 4 + 17; i++) {
		unsigned long v = strtoul(p, &end, 16);
		if (end == p || (*end != ':' && !(*end == '\0' && i == 4 + 16)))
			return 0;
		if (i < 4)
			f[i] = v;
		else
			cc[i - 4] = v & 0xff;
		p = *end == ':' ? end + 1 : end;
	}
	t->flags = 0;
	if (f[0] & 0000400)
		t->flags |= TF_ICRNL;
	if (f[0] & 0000200)
		t->flags |= TF_IGNCR;
	if (f[0] & 0000100)
		t->flags |= TF_INLCR;
	if (f[0] & 0002000)
		t->flags |= TF_IXON;
	if (f[0] & 0040000)
		t->flags |= TF_IUTF8;
	if (f[3] & 0000001)
		t->flags |= TF_ISIG;
	if (f[3] & 0000002)
		t->flags |= TF_ICANON;
	if (f[3] & 0100000)
		t->flags |= TF_IEXTEN;
	for (i = 0; i < TC_COUNT; i++)
		t->cc[i] = cc[vidx[i]] == 0 ? TTY_UNDEF : (int)cc[vidx[i]];
	return 1;
}

/* The arguments of one stty command; 1 if something changed. */
static int
apply_args(struct ttymodel *t, char **a, size_t n)
{
	struct ttymodel nt = *t;
	size_t i, k;

	for (i = 0; i < n; i++) {
		/* another terminal, or only printing */
		if (strcmp(a[i], "-F") == 0 || strcmp(a[i], "-f") == 0 || strncmp(a[i], "--file", 6) == 0 ||
		    strcmp(a[i], "-a") == 0 || strcmp(a[i], "-g") == 0 || strcmp(a[i], "--all") == 0 ||
		    strcmp(a[i], "--save") == 0)
			return 0;
	}
	for (i = 0; i < n; i++) {
		const char *w = a[i];
		int neg = w[0] == '-';
		const char *name = neg ? w + 1 : w;

		if (strcmp(w, "sane") == 0) {
			cmdx_tty_defaults(&nt);
			continue;
		}
		if (strcmp(w, "raw") == 0 || strcmp(w, "-cooked") == 0) {
			nt.flags &= ~(TF_ICANON | TF_ISIG | TF_ICRNL | TF_IGNCR | TF_INLCR | TF_IXON);
			continue;
		}
		if (strcmp(w, "-raw") == 0 || strcmp(w, "cooked") == 0) {
			nt.flags |= TF_ICANON | TF_ISIG | TF_ICRNL | TF_IXON;
			continue;
		}
		if (strcmp(w, "cbreak") == 0 || strcmp(w, "-cbreak") == 0) {
			nt.flags = neg ? nt.flags | TF_ICANON : nt.flags & ~TF_ICANON;
			continue;
		}
		for (k = 0; k < sizeof(flag_names) / sizeof(flag_names[0]); k++) {
			if (strcmp(name, flag_names[k].name) == 0) {
				nt.flags = neg ? nt.flags & ~flag_names[k].flag : nt.flags | flag_names[k].flag;
				break;
			}
		}
		if (k < sizeof(flag_names) / sizeof(flag_names[0]))
			continue;
		for (k = 0; k < sizeof(cc_names) / sizeof(cc_names[0]); k++)
			if (!neg && strcmp(w, cc_names[k].name) == 0)
				break;
		if (k < sizeof(cc_names) / sizeof(cc_names[0])) {
			int v;
			if (i + 1 >= n || (v = cc_value(a[i + 1])) == -2)
				return 0; /* stty refuses the whole command */
			nt.cc[cc_names[k].idx] = v;
			i++;
			continue;
		}
		if ((strcmp(w, "min") == 0 || strcmp(w, "time") == 0 || strcmp(w, "rows") == 0 ||
		     strcmp(w, "cols") == 0 || strcmp(w, "columns") == 0 || strcmp(w, "line") == 0) &&
		    i + 1 < n) {
			i++;
			continue;
		}
		if (strchr(w, ':') != NULL)
			apply_saved(&nt, w);
		/* anything else (echo, output modes, speeds) changes no reading */
	}
	if (cmdx_tty_equal(&nt, t))
		return 0;
	*t = nt;
	return 1;
}

static int
is_assignment(const char *w)
{
	const char *eq = strchr(w, '=');

	if (eq == NULL || eq == w)
		return 0;
	for (const char *p = w; p < eq; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return 0;
	return 1;
}

int
cmdx_tty_apply_stty(struct ttymodel *t, const char *line, size_t len)
{
	static const char *const prefixes[] = {"sudo", "command", "exec", "builtin", "env", "nohup", "time"};
	struct words ws = {0};
	size_t i = 0, j, k;
	int changed = 0;

	if (len == 0 || memmem(line, len, "stty", 4) == NULL)
		return 0;
	if (split_words(line, len, &ws) != 0) {
		words_free(&ws);
		return 0;
	}
	while (i < ws.n) {
		/* one simple command: words[i..j) */
		for (j = i; j < ws.n && strcmp(ws.w[j], SEP) != 0; j++)
			;
		k = i;
		for (;;) {
			size_t p;
			while (k < j && is_assignment(ws.w[k]))
				k++;
			for (p = 0; k < j && p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
				if (strcmp(ws.w[k], prefixes[p]) == 0)
					break;
			if (k < j && p < sizeof(prefixes) / sizeof(prefixes[0])) {
				k++;
				while (k < j && ws.w[k][0] == '-') /* a prefix's own options */
					k++;
				continue;
			}
			break;
		}
		if (k < j) {
			const char *cmd = ws.w[k], *slash = strrchr(cmd, '/');
			if (strcmp(slash != NULL ? slash + 1 : cmd, "stty") == 0)
				changed |= apply_args(t, ws.w + k + 1, j - k - 1);
		}
		i = j + 1;
	}
	words_free(&ws);
	return changed;
}

/* ---- naming keys ---- */

static size_t
esc_len(const uint8_t *k, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j >= n)
		return 1;
	if (k[j] == '[') {
		for (j++; j < n && k[j] >= 0x20 && k[j] <= 0x3f; j++)
			;
		return j < n && k[j] >= 0x40 && k[j] <= 0x7e ? j + 1 - i : j - i;
	}
	if (k[j] == 'O')
		return j + 1 < n && k[j + 1] >= 0x20 ? 3 : 2;
	return k[j] >= 0x20 && k[j] < 0x7f ? 2 : 1;
}

void
cmdx_keys_render(const uint8_t *k, size_t n, struct sbuf *out)
{
	static const struct {
		const char *seq, *name;
	} names[] = {
	        {"[A", "<Up>"},   {"[B", "<Down>"},  {"[C", "<Right>"}, {"[D", "<Left>"}, {"OA", "<Up>"},
	        {"OB", "<Down>"}, {"OC", "<Right>"}, {"OD", "<Left>"},  {"[H", "<Home>"}, {"[F", "<End>"},
	        {"OH", "<Home>"}, {"OF", "<End>"},   {"[1~", "<Home>"}, {"[4~", "<End>"}, {"[3~", "<Del>"},
	        {"[2~", "<Ins>"}, {"[5~", "<PgUp>"}, {"[6~", "<PgDn>"}, {"[200~", ""},    {"[201~", ""},
	};
	char tmp[16];

	cmdx_sbuf_reset(out);
	cmdx_sbuf_add(out, "", 0);
	for (size_t i = 0; i < n && out->len < CMDX_MAX_COMMAND;) {
		uint8_t c = k[i];

		if (c == 0x1b) {
			size_t l = esc_len(k, n, i), m;
			for (m = 0; m < sizeof(names) / sizeof(names[0]); m++)
				if (strlen(names[m].seq) == l - 1 && memcmp(k + i + 1, names[m].seq, l - 1) == 0)
					break;
			if (m < sizeof(names) / sizeof(names[0])) {
				cmdx_sbuf_add(out, names[m].name, strlen(names[m].name));
			} else {
				/* Esc then a key (vim's "<Esc>:wq", or a Meta key: the
				 * same bytes) */
				cmdx_sbuf_add(out, "<Esc>", 5);
				l = 1;
			}
			i += l;
			continue;
		}
		if (c == '\t')
			cmdx_sbuf_add(out, "<Tab>", 5);
		else if (c == 0x7f || c == 0x08)
			cmdx_sbuf_add(out, "<BS>", 4);
		else if (c == '\r' || c == '\n')
			cmdx_sbuf_add(out, "\n", 1);
		else if (c < 0x20) {
			snprintf(tmp, sizeof(tmp), "^%c", c + 0x40);
			cmdx_sbuf_add(out, tmp, 2);
		} else
			cmdx_sbuf_add(out, &c, 1);
		i++;
	}
}

/* ---- the readings offered to a judge ---- */

static int
offer1(cmdx_judge_fn fn, void *arg, struct sbuf *last, const char *p, size_t n, enum cmdx_witness w)
{
	struct sbuf t = {0};
	int r = 0;

	/* A NUL would end the text early for a regex: never part of a command
	 * (a pasted one reaches readline's buffer, not the command). */
	if (memchr(p, '\0', n) == NULL) {
		cmdx_sbuf_add(&t, p, n);
	} else {
		for (size_t i = 0; i < n; i++)
			if (p[i] != '\0')
				cmdx_sbuf_add(&t, &p[i], 1);
	}
	if (t.len == 0 || t.oom || (last->len == t.len && memcmp(last->p, t.p, t.len) == 0))
		goto out;
	cmdx_sbuf_reset(last);
	if (cmdx_sbuf_add(last, t.p, t.len) != 0)
		goto out;
	r = fn(arg, last->p, last->len, w);
out:
	if (t.p != NULL)
		explicit_bzero(t.p, t.cap);
	cmdx_sbuf_free(&t);
	return r;
}

/* The text as read, and without trailing blanks (which the screen never
 * shows, so a rule written against screen lines may end at the last word). */
int
cmdx_offer(cmdx_judge_fn fn, void *arg, struct sbuf *last, const char *p, size_t n, enum cmdx_witness w)
{
	size_t t = cmdx_rtrim_len(p, n);
	int r;

	if (t < n && (r = offer1(fn, arg, last, p, n, w)) != 0)
		return r;
	return offer1(fn, arg, last, p, t, w);
}

static int
offer(cmdx_judge_fn fn, void *arg, struct sbuf *last, const struct sbuf *t, enum cmdx_witness w)
{
	return cmdx_offer(fn, arg, last, t->p ? t->p : "", t->len, w);
}

/* The keys without escape sequences (arrows, function keys, paste markers,
 * Meta keys): what a line reader that ignores them would hold. */
static void
strip_escapes(const uint8_t *k, size_t n, struct sbuf *out)
{
	cmdx_sbuf_reset(out);
	cmdx_sbuf_add(out, "", 0);
	for (size_t i = 0; i < n;) {
		if (k[i] == 0x1b) {
			i += esc_len(k, n, i);
			continue;
		}
		cmdx_sbuf_add(out, &k[i], 1);
		i++;
	}
}

int
cmdx_tty_readings(const struct ttymodel *t, const uint8_t *k, size_t n, int variants, cmdx_judge_fn fn, void *arg,
                  struct sbuf *last)
{
	struct ttymodel def, v;
	struct sbuf s = {0}, stripped = {0};
	uint8_t seen[128] = {0};
	int r = 0, roles[3] = {TC_ERASE, TC_KILL, TC_WERASE};

	cmdx_tty_defaults(&def);
	cmdx_tty_line(t, k, n, &s);
	if ((r = offer(fn, arg, last, &s, CMDX_W_TTY)) != 0)
		goto out;
	if (!cmdx_tty_equal(t, &def)) {
		cmdx_tty_line(&def, k, n, &s);
		if ((r = offer(fn, arg, last, &s, CMDX_W_TTY)) != 0)
			goto out;
	}
	strip_escapes(k, n, &stripped);
	cmdx_tty_line(t, (const uint8_t *)stripped.p, stripped.len, &s);
	if ((r = offer(fn, arg, last, &s, CMDX_W_GUESS)) != 0)
		goto out;
	/* every printable character as typed, no editing at all */
	cmdx_sbuf_reset(&s);
	for (size_t i = 0; i < stripped.len; i++)
		if ((uint8_t)stripped.p[i] >= 0x20 && (uint8_t)stripped.p[i] != 0x7f)
			cmdx_sbuf_add(&s, &stripped.p[i], 1);
	if ((r = offer(fn, arg, last, &s, CMDX_W_GUESS)) != 0)
		goto out;
	if (!variants)
		goto out;
	/* An erase, kill or word-erase character the extractor did not see
	 * set: each ASCII character of the line in each role. Two changed at
	 * once are not tried (docs/command-control.md). */
	for (size_t i = 0; i < n; i++) {
		uint8_t c = k[i];
		if (c == 0 || c >= 0x80 || c == '\r' || c == '\n' || seen[c])
			continue;
		seen[c] = 1;
		for (int j = 0; j < 3; j++) {
			if (is_cc(t, roles[j], c) && (t->flags & TF_ICANON))
				continue;
			v = *t;
			for (int x = 0; x < TC_COUNT; x++)
				if (v.cc[x] == c)
					v.cc[x] = TTY_UNDEF;
			v.cc[roles[j]] = c;
			v.flags |= TF_ICANON | TF_IEXTEN;
			cmdx_tty_line(&v, k, n, &s);
			if ((r = offer(fn, arg, last, &s, CMDX_W_GUESS)) != 0)
				goto out;
		}
	}
out:
	cmdx_sbuf_free(&s);
	cmdx_sbuf_free(&stripped);
	return r;
}
