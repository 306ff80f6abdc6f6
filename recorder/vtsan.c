/* The sanitiser (see vtsan.h). The scanner reports events; each is either
 * rebuilt from its parsed form (a character re-encoded, a sequence
 * re-serialised from its numbers) or withheld. What may pass is in the
 * tables below; docs/security.md ("What reaches an auditor's terminal")
 * gives the reason for each entry. */
#include "recorder/vtsan.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/utf8.h"
#include "recorder/vtscan.h"

/* Display state a SCREEN stream changed, to put back at its end. */
enum {
	CH_ALT = 1 << 0,     /* alternate screen */
	CH_ORIGIN = 1 << 1,  /* DECOM set */
	CH_REGION = 1 << 2,  /* a scroll region */
	CH_INSERT = 1 << 3,  /* IRM set */
	CH_NOWRAP = 1 << 4,  /* DECAWM reset */
	CH_HIDDEN = 1 << 5,  /* cursor hidden */
	CH_SGR = 1 << 6,     /* colours or attributes */
	CH_G0 = 1 << 7,      /* G0 is not ASCII */
	CH_G1 = 1 << 8,      /* G1 is not ASCII */
	CH_SHIFTED = 1 << 9, /* SO: G1 in use */
};

struct vtsan {
	enum vtsan_profile profile;
	struct vtscan *scan;
	char *buf; /* output of the current call */
	size_t len, cap;
	int nomem;
	uint64_t withheld;
	unsigned changed; /* CH_* */
};

/* Control sequences that may pass (no intermediate bytes). */
struct csi_rule {
	char marker;
	char final;
	int max_params;
	unsigned changes; /* CH_* it may set */
};

static const struct csi_rule csi_rules[] = {
        {0, '@', 1, 0},                      /* ICH insert characters */
        {0, 'A', 1, 0},                      /* CUU cursor up */
        {0, 'B', 1, 0},                      /* CUD cursor down */
        {0, 'C', 1, 0},                      /* CUF cursor forward */
        {0, 'D', 1, 0},                      /* CUB cursor back */
        {0, 'E', 1, 0},                      /* CNL next line */
        {0, 'F', 1, 0},                      /* CPL previous line */
        {0, 'G', 1, 0},                      /* CHA column */
        {0, 'H', 2, 0},                      /* CUP position */
        {0, 'I', 1, 0},                      /* CHT tab forward */
        {0, 'J', 1, 0},                      /* ED erase in display */
        {0, 'K', 1, 0},                      /* EL erase in line */
        {0, 'L', 1, 0},                      /* IL insert lines */
        {0, 'M', 1, 0},                      /* DL delete lines */
        {0, 'P', 1, 0},                      /* DCH delete characters */
        {0, 'S', 1, 0},                      /* SU scroll up (one parameter: five start xterm's mouse tracking) */
        {0, 'T', 1, 0},                      /* SD scroll down (idem) */
        {0, 'X', 1, 0},                      /* ECH erase characters */
        {0, 'Z', 1, 0},                      /* CBT tab backward */
        {0, '`', 1, 0},                      /* HPA column */
        {0, 'a', 1, 0},                      /* HPR column forward */
        {0, 'b', 1, 0},                      /* REP repeat the last character */
        {0, 'd', 1, 0},                      /* VPA row */
        {0, 'e', 1, 0},                      /* VPR row down */
        {0, 'f', 2, 0},                      /* HVP position */
        {0, 'm', VTSCAN_PARAMS_MAX, CH_SGR}, /* SGR colours and attributes */
        {0, 'r', 2, CH_REGION},              /* DECSTBM scroll region */
        {0, 's', 0, 0},                      /* SCOSC save the cursor (with parameters it would be DECSLRM) */
        {0, 'u', 0, 0},                      /* SCORC restore it (with a marker, kitty's keyboard protocol) */
        {'?', 'J', 1, 0},                    /* DECSED selective erase */
        {'?', 'K', 1, 0},                    /* DECSEL */
};

/* Modes (CSI [?] Pm h / l) that only change what is displayed. */
struct mode_rule {
	char marker;
	int mode;
	int default_on;   /* reset (l) is the change to put back */
	unsigned changes; /* CH_* */
};

static const struct mode_rule mode_rules[] = {
        {0, 4, 0, CH_INSERT},    /* IRM insert mode */
        {'?', 6, 0, CH_ORIGIN},  /* DECOM origin mode */
        {'?', 7, 1, CH_NOWRAP},  /* DECAWM autowrap */
        {'?', 25, 1, CH_HIDDEN}, /* DECTCEM cursor visible */
        {'?', 47, 0, CH_ALT},    /* alternate screen */
        {'?', 1047, 0, CH_ALT},  /* alternate screen, cleared on leaving */
        {'?', 1049, 0, CH_ALT},  /* alternate screen, cursor saved */
};

/* C0 controls that may pass: positioning, and the G0/G1 shifts. */
static int
screen_control(uint32_t c)
{
	return c == 0x08 || c == 0x09 || c == 0x0a || c == 0x0b || c == 0x0c || c == 0x0d || c == 0x0e || c == 0x0f;
}

int
vtsan_printable(uint32_t cp)
{
	return cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0) && !(cp >= 0xd800 && cp < 0xe000) &&
	       cp <= 0x10ffff;
}

/* ---- output --------------------------------------------------------------- */

static void
put(struct vtsan *s, const char *p, size_t n)
{
	if (s->nomem || n == 0)
		return;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		char *np;

		while (cap < s->len + n + 1)
			cap *= 2;
		if ((np = realloc(s->buf, cap)) == NULL) {
			s->nomem = 1;
			return;
		}
		s->buf = np;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

static void
put_str(struct vtsan *s, const char *str)
{
	put(s, str, strlen(str));
}

static void
put_cp(struct vtsan *s, uint32_t cp)
{
	char u[4];

	if (cp < 0x80 && s->len + 2 <= s->cap) {
		/* text is mostly ASCII: no call, no size check beyond this */
		s->buf[s->len++] = (char)cp;
		s->buf[s->len] = '\0';
		return;
	}
	put(s, u, utf8_encode(cp, u));
}

static void
put_num(struct vtsan *s, int32_t v)
{
	char d[12];
	int n = 0;

	if (v == VTSCAN_PARAM_DEFAULT)
		return; /* empty, as it came */
	do
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0 && n < (int)sizeof(d));
	put(s, d + sizeof(d) - n, (size_t)n);
}

/* Put back what the stream changed in the display. */
static void
restore(struct vtsan *s)
{
	unsigned c = s->changed;

	/* Scroll region and origin mode first: resetting them homes the
	 * cursor, which leaving the alternate screen then puts back. */
	if (c & CH_ORIGIN)
		put_str(s, "\033[?6l");
	if (c & CH_REGION)
		put_str(s, "\033[r");
	if ((c & (CH_ORIGIN | CH_REGION)) && !(c & CH_ALT))
		put_str(s, "\033[9999;1H"); /* below what was shown, not over it */
	if (c & CH_ALT)
		put_str(s, "\033[?1049l");
	if (c & CH_INSERT)
		put_str(s, "\033[4l");
	if (c & CH_NOWRAP)
		put_str(s, "\033[?7h");
	if (c & CH_HIDDEN)
		put_str(s, "\033[?25h");
	if (c & CH_SGR)
		put_str(s, "\033[m");
	if (c & CH_G0)
		put_str(s, "\033(B");
	if (c & CH_G1)
		put_str(s, "\033)B");
	if (c & CH_SHIFTED)
		put_str(s, "\017");
	s->changed = 0;
}

/* ---- SCREEN --------------------------------------------------------------- */

static void
screen_esc(struct vtsan *s, const struct vtscan_event *ev)
{
	if (ev->inter[0] == '\0') {
		switch (ev->final) {
		case '7': /* DECSC save cursor */
		case '8': /* DECRC restore cursor */
		case 'D': /* IND index */
		case 'E': /* NEL next line */
		case 'M': /* RI reverse index */
		{
			char seq[2] = {'\033', ev->final};

			put(s, seq, 2);
			return;
		}
		case 'c': /* RIS: reset the display, not the auditor's terminal */
			restore(s);
			put_str(s, "\033[H\033[2J");
			return;
		case '\\': return; /* ST after a string already withheld */
		default: break;
		}
	} else if ((ev->inter[0] == '(' || ev->inter[0] == ')') && ev->inter[1] == '\0' &&
	           (ev->final == 'B' || ev->final == '0')) {
		/* G0 / G1: ASCII or DEC line drawing */
		char seq[3] = {'\033', ev->inter[0], ev->final};
		unsigned bit = ev->inter[0] == '(' ? CH_G0 : CH_G1;

		put(s, seq, 3);
		if (ev->final == '0')
			s->changed |= bit;
		else
			s->changed &= ~bit;
		return;
	}
	s->withheld++;
}

static int
all_default(const struct vtscan_event *ev)
{
	for (int i = 0; i < ev->nparams; i++)
		if (ev->param[i] != VTSCAN_PARAM_DEFAULT && ev->param[i] != 0)
			return 0;
	return 1;
}

static void
screen_modes(struct vtsan *s, const struct vtscan_event *ev)
{
	int32_t keep[VTSCAN_PARAMS_MAX];
	const struct mode_rule *rule[VTSCAN_PARAMS_MAX];
	int n = 0, dropped = 0, set = ev->final == 'h';

	if ((ev->marker != 0 && ev->marker != '?') || ev->sub != 0) {
		s->withheld++;
		return;
	}
	for (int i = 0; i < ev->nparams; i++) {
		size_t k;

		for (k = 0; k < sizeof(mode_rules) / sizeof(mode_rules[0]); k++)
			if (mode_rules[k].marker == ev->marker && mode_rules[k].mode == ev->param[i])
				break;
		if (k == sizeof(mode_rules) / sizeof(mode_rules[0])) {
			dropped = 1;
			continue;
		}
		rule[n] = &mode_rules[k];
		keep[n++] = ev->param[i];
	}
	if (dropped || n == 0)
		s->withheld++;
	if (n == 0)
		return;
	put_str(s, "\033[");
	if (ev->marker)
		put(s, &ev->marker, 1);
	for (int i = 0; i < n; i++) {
		if (i > 0)
			put(s, ";", 1);
		put_num(s, keep[i]);
		if (rule[i]->default_on != set)
			s->changed |= rule[i]->changes;
		else
			s->changed &= ~rule[i]->changes;
	}
	put(s, &ev->final, 1);
}

static void
screen_csi(struct vtsan *s, const struct vtscan_event *ev)
{
	const struct csi_rule *rule = NULL;

	if (ev->bad || ev->inter[0] != '\0') {
		s->withheld++;
		return;
	}
	if (ev->final == 'h' || ev->final == 'l') {
		screen_modes(s, ev);
		return;
	}
	for (size_t k = 0; k < sizeof(csi_rules) / sizeof(csi_rules[0]); k++)
		if (csi_rules[k].marker == ev->marker && csi_rules[k].final == ev->final)
			rule = &csi_rules[k];
	/* Sub-parameters belong to SGR colours only. */
	if (rule == NULL || ev->nparams > rule->max_params || (ev->sub != 0 && ev->final != 'm')) {
		s->withheld++;
		return;
	}
	put_str(s, "\033[");
	if (ev->marker)
		put(s, &ev->marker, 1);
	for (int i = 0; i < ev->nparams; i++) {
		if (i > 0)
			put(s, (ev->sub & (1u << i)) ? ":" : ";", 1);
		put_num(s, ev->param[i]);
	}
	put(s, &ev->final, 1);
	if (rule->changes != 0) {
		if (all_default(ev))
			s->changed &= ~rule->changes; /* SGR 0, a full-screen region */
		else
			s->changed |= rule->changes;
	}
}

static void
on_screen(struct vtsan *s, const struct vtscan_event *ev)
{
	switch (ev->kind) {
	case VTSCAN_PRINT:
		if (vtsan_printable(ev->cp))
			put_cp(s, ev->cp);
		break;
	case VTSCAN_EXECUTE:
		if (!screen_control(ev->cp)) {
			s->withheld++;
			break;
		}
		put(s, (const char[]){(char)ev->cp}, 1);
		if (ev->cp == 0x0e)
			s->changed |= CH_SHIFTED;
		else if (ev->cp == 0x0f)
			s->changed &= ~(unsigned)CH_SHIFTED;
		break;
	case VTSCAN_ESC: screen_esc(s, ev); break;
	case VTSCAN_CSI: screen_csi(s, ev); break;
	case VTSCAN_STR_START: s->withheld++; break;
	case VTSCAN_STR_PUT:
	case VTSCAN_STR_END: break;
	}
}

/* ---- TEXT ----------------------------------------------------------------- */

static void
on_text(struct vtsan *s, const struct vtscan_event *ev)
{
	uint32_t c = ev->cp;
	char caret[4];
	size_t n = 0;

	if (ev->kind == VTSCAN_PRINT) {
		put_cp(s, c);
		return;
	}
	if (ev->kind != VTSCAN_EXECUTE)
		return; /* the scanner runs literally: nothing else comes */
	if ((c == '\n' && s->profile == VTSAN_TEXT) || c == '\t') {
		put(s, (const char[]){(char)c}, 1);
		return;
	}
	s->withheld++;
	if (c >= 0x80) {
		caret[n++] = 'M';
		caret[n++] = '-';
		c -= 0x80;
	}
	caret[n++] = '^';
	caret[n++] = c == 0x7f ? '?' : (char)(c + 0x40);
	put(s, caret, n);
}

static void
on_event(const struct vtscan_event *ev, void *arg)
{
	struct vtsan *s = arg;

	if (s->profile == VTSAN_SCREEN)
		on_screen(s, ev);
	else
		on_text(s, ev);
}

/* ---- interface ------------------------------------------------------------ */

struct vtsan *
vtsan_new(enum vtsan_profile profile)
{
	struct vtsan *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->profile = profile;
	s->scan = vtscan_new(profile == VTSAN_SCREEN ? VTSCAN_TERMINAL : VTSCAN_LITERAL, on_event, s);
	if (s->scan == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
vtsan_free(struct vtsan *s)
{
	if (s == NULL)
		return;
	vtscan_free(s->scan);
	free(s->buf);
	free(s);
}

uint64_t
vtsan_withheld(const struct vtsan *s)
{
	return s->withheld;
}

static int
result(struct vtsan *s, const char **out, size_t *outlen)
{
	if (s->nomem) {
		*out = "";
		*outlen = 0;
		return ERR_NOMEM;
	}
	*out = s->buf != NULL ? s->buf : "";
	*outlen = s->len;
	return 0;
}

int
vtsan_write(struct vtsan *s, const void *in, size_t len, const char **out, size_t *outlen)
{
	s->len = 0;
	vtscan_write(s->scan, in, len);
	return result(s, out, outlen);
}

int
vtsan_finish(struct vtsan *s, const char **out, size_t *outlen)
{
	s->len = 0;
	vtscan_finish(s->scan);
	if (s->profile == VTSAN_SCREEN)
		restore(s);
	return result(s, out, outlen);
}

char *
vtsan_string(enum vtsan_profile profile, const char *in, size_t len)
{
	struct vtsan *s = vtsan_new(profile);
	char *r = NULL;

	if (s == NULL)
		return NULL;
	vtscan_write(s->scan, in, len);
	vtscan_finish(s->scan);
	if (profile == VTSAN_SCREEN)
		restore(s);
	if (!s->nomem) {
		r = s->buf != NULL ? s->buf : strdup("");
		s->buf = NULL;
	}
	vtsan_free(s);
	return r;
}

/* ---- FILE ----------------------------------------------------------------- */

struct san_file {
	FILE *dst;
	struct vtsan *s;
};

static ssize_t
file_write(void *cookie, const char *buf, size_t size)
{
	struct san_file *f = cookie;
	const char *out;
	size_t n;

	/* dst is flushed too: a followed recording must show as it comes */
	if (vtsan_write(f->s, buf, size, &out, &n) != 0 || fwrite(out, 1, n, f->dst) != n || fflush(f->dst) != 0)
		return -1;
	return (ssize_t)size;
}

static int
file_close(void *cookie)
{
	struct san_file *f = cookie;
	const char *out;
	size_t n;
	int r = 0;

	if (vtsan_finish(f->s, &out, &n) != 0 || fwrite(out, 1, n, f->dst) != n)
		r = -1;
	if (fflush(f->dst) != 0)
		r = -1;
	vtsan_free(f->s);
	free(f);
	return r;
}

FILE *
vtsan_fopen(FILE *dst, enum vtsan_profile profile)
{
	static const cookie_io_functions_t io = {.write = file_write, .close = file_close};
	struct san_file *f = calloc(1, sizeof(*f));
	FILE *fp;

	if (f == NULL)
		return NULL;
	f->dst = dst;
	if ((f->s = vtsan_new(profile)) == NULL || (fp = fopencookie(f, "w", io)) == NULL) {
		vtsan_free(f->s);
		free(f);
		return NULL;
	}
	return fp;
}
