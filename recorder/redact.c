/* Unechoed input: sealed after a prompt for a secret, recorded otherwise
 * (see redact.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/redact.h"

#define TAIL_MAX 160 /* output kept to recognise a prompt */

struct redact {
	int keep;                      /* record everything (no filtering) */
	uint8_t held[REDACT_HOLD_MAX]; /* input not recorded yet */
	size_t nheld;
	int64_t held_since;  /* when the oldest held byte came */
	int secret_prompt;   /* the output so far ends with a prompt for a secret */
	int secret_line;     /* a prompt for a secret showed while this line was typed */
	int fullscreen;      /* the target switched to the alternate screen (an editor, a pager) */
	char tail[TAIL_MAX]; /* end of the output, for the prompt heuristic */
	size_t ntail;
};

struct redact *
redact_new(int keep_unechoed)
{
	struct redact *r = calloc(1, sizeof(*r));

	if (r != NULL)
		r->keep = keep_unechoed != 0;
	return r;
}

void
redact_free(struct redact *r)
{
	if (r == NULL)
		return;
	explicit_bzero(r, sizeof(*r)); /* held input may be a password */
	free(r);
}

/* ---- the prompt heuristic ------------------------------------------------ */

/* The printable text at the end of the output: escape sequences removed,
 * trailing spaces dropped, lower case. */
static size_t
plain_tail(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i = 0, n = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x1b) {
			/* skip ESC [ ... final, or ESC x */
			i++;
			if (i < len && s[i] == '[') {
				i++;
				while (i < len && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e))
					i++;
			}
			i++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			n = 0; /* only the last line counts */
		} else if (c >= 0x20 && n < outlen - 1) {
			out[n++] = (char)tolower(c);
		}
		i++;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return n;
}

int
redact_is_secret_prompt(const char *tail, size_t len)
{
	static const char *const words[] = {"password", "passphrase",    "pass phrase", "passcode", "verification code",
	                                    "pin",      "one-time code", "otp",         "token",    "secret",
	                                    "hidden"};
	char line[TAIL_MAX + 1];
	size_t n = plain_tail(tail, len, line, sizeof(line)), i;

	/* A prompt ends with a colon (sudo, passwd, ssh, su, mysql -p ...):
	 * "Password:", "[sudo] password for alice:", "Enter passphrase for
	 * key '/root/.ssh/id_ed25519':", "(current) UNIX password:". */
	if (n < 2 || line[n - 1] != ':')
		return 0;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(line, words[i]) != NULL)
			return 1;
	return 0;
}

static void
tail_add(struct redact *r, const uint8_t *p, size_t len)
{
	if (len >= TAIL_MAX) {
		memcpy(r->tail, p + len - TAIL_MAX, TAIL_MAX);
		r->ntail = TAIL_MAX;
		return;
	}
	if (r->ntail + len > TAIL_MAX) {
		size_t drop = r->ntail + len - TAIL_MAX;

		memmove(r->tail, r->tail + drop, r->ntail - drop);
		r->ntail -= drop;
	}
	memcpy(r->tail + r->ntail, p, len);
	r->ntail += len;
}

/* The last alternate-screen switch in this output (ESC [ ? 1049/1047/47
 * h or l). A switch split across two writes is missed: the next one
 * corrects it. */
static void
track_fullscreen(struct redact *r, const uint8_t *p, size_t len)
{
	static const char *const modes[] = {"\033[?1049", "\033[?1047", "\033[?47"};
	const uint8_t *best = NULL;
	int on = r->fullscreen;

	for (size_t m = 0; m < 3; m++) {
		size_t ml = strlen(modes[m]);
		const uint8_t *q = p, *end = p + len, *hit;

		while (q < end && (hit = memmem(q, (size_t)(end - q), modes[m], ml)) != NULL) {
			if (hit + ml < end && (hit[ml] == 'h' || hit[ml] == 'l') && (best == NULL || hit > best)) {
				best = hit;
				on = hit[ml] == 'h';
			}
			q = hit + 1;
		}
	}
	r->fullscreen = on;
}

/* ---- deciding held input ---------------------------------------------------- */

static int
is_line_end(uint8_t c)
{
	return c == '\r' || c == '\n';
}

/* The printable characters of held input (no controls, no escape
 * sequences): what an echo would show. */
static size_t
printable_of(const uint8_t *p, size_t len, uint8_t *out, size_t outlen)
{
	size_t i = 0, n = 0;

	while (i < len && n < outlen) {
		if (p[i] == 0x1b) {
			i++;
			if (i < len && (p[i] == '[' || p[i] == 'O')) {
				i++;
				while (i < len && !(p[i] >= 0x40 && p[i] <= 0x7e))
					i++;
			}
			i++;
			continue;
		}
		if (p[i] >= 0x20 && p[i] != 0x7f)
			out[n++] = p[i];
		i++;
	}
	return n;
}

/* Does the output begin with the echo of the held text? Leading escape
 * sequences and carriage returns (a line editor redrawing) are skipped;
 * at least the first character must match, and as much of the rest as
 * the output holds. */
static int
echoes(const uint8_t *held, size_t nheld, const uint8_t *out, size_t nout)
{
	uint8_t want[32], got[32];
	size_t nw = printable_of(held, nheld, want, sizeof(want));
	size_t ng = printable_of(out, nout, got, sizeof(got)), k;

	if (nw == 0)
		return 1; /* only control keys: nothing to hide */
	if (ng == 0)
		return 0;
	for (k = 0; k < nw && k < ng; k++)
		if (want[k] != got[k])
			return 0;
	return 1;
}

/* Record the held input as typed. */
static int
release(struct redact *r, redact_emit_fn emit, void *arg)
{
	int rc = 0;

	if (r->nheld > 0)
		rc = emit(arg, REC_DATA_IN, r->held, r->nheld);
	explicit_bzero(r->held, r->nheld);
	r->nheld = 0;
	return rc;
}

/* A line typed while a prompt for a secret showed stays secret to its end,
 * even when unrelated output moved the prompt away meanwhile. */
static int
secret_now(const struct redact *r)
{
	return r->secret_prompt || r->secret_line;
}

/* Record the held input as unechoed: after a prompt for a secret every
 * line's text goes to the caller to be sealed (REC_INPUT_SEALED), else it
 * is recorded as typed; the line ends as typed. */
static int
redact_held(struct redact *r, redact_emit_fn emit, void *arg)
{
	size_t i = 0, start = 0;
	int rc = 0;

	for (i = 0; i < r->nheld && rc == 0; i++) {
		if (!is_line_end(r->held[i]))
			continue;
		if (i > start)
			rc = emit(arg, secret_now(r) ? REC_INPUT_SEALED : REC_DATA_IN, &r->held[start], i - start);
		if (rc == 0)
			rc = emit(arg, REC_DATA_IN, &r->held[i], 1);
		start = i + 1;
		r->secret_prompt = 0;
		r->secret_line = 0;
	}
	if (rc == 0 && r->nheld > start) {
		if (secret_now(r))
			r->secret_line = 1; /* the rest of this line is secret too */
		rc = emit(arg, secret_now(r) ? REC_INPUT_SEALED : REC_DATA_IN, &r->held[start], r->nheld - start);
	}
	explicit_bzero(r->held, r->nheld);
	r->nheld = 0;
	return rc;
}

int
redact_input(struct redact *r, const void *buf, size_t len, int64_t now_ms, redact_emit_fn emit, void *arg)
{
	const uint8_t *p = buf;
	int rc = 0;

	/* Full-screen programs redraw rather than echo, and do not read
	 * passwords: their keys are recorded as they come (unless a prompt
	 * for a secret is on the screen). */
	if (r->keep || (r->fullscreen && !secret_now(r) && r->nheld == 0))
		return len > 0 ? emit(arg, REC_DATA_IN, buf, len) : 0;
	while (len > 0 && rc == 0) {
		size_t n = len < REDACT_HOLD_MAX - r->nheld ? len : REDACT_HOLD_MAX - r->nheld;

		if (r->nheld == 0)
			r->held_since = now_ms;
		memcpy(r->held + r->nheld, p, n);
		r->nheld += n;
		p += n;
		len -= n;
		if (r->nheld == REDACT_HOLD_MAX) {
			/* Too long for a secret typed at a prompt, unless a
			 * prompt asked for one. */
			rc = secret_now(r) ? redact_held(r, emit, arg) : release(r, emit, arg);
		}
	}
	return rc;
}

int
redact_output(struct redact *r, const void *buf, size_t len, int64_t now_ms, redact_emit_fn emit, void *arg)
{
	int rc = 0;

	if (r->keep)
		return len > 0 ? emit(arg, REC_DATA_OUT, buf, len) : 0;
	if (r->nheld > 0 && len > 0) {
		if (!secret_now(r) && echoes(r->held, r->nheld, buf, len))
			rc = release(r, emit, arg);
		else if (secret_now(r) || memchr(r->held, '\r', r->nheld) != NULL ||
		         memchr(r->held, '\n', r->nheld) != NULL)
			rc = redact_held(r, emit, arg); /* the line ended without an echo */
		                                        /* else: output that is not an echo (a program writing while
		                                         * a secret is typed): keep holding. */
	}
	if (rc == 0 && len > 0)
		rc = emit(arg, REC_DATA_OUT, buf, len);
	if (len > 0) {
		track_fullscreen(r, buf, len);
		tail_add(r, buf, len);
		r->secret_prompt = redact_is_secret_prompt(r->tail, r->ntail);
	}
	(void)now_ms;
	return rc;
}

int
redact_tick(struct redact *r, int64_t now_ms, redact_emit_fn emit, void *arg)
{
	if (r->keep || r->nheld == 0 || now_ms - r->held_since < REDACT_HOLD_MS)
		return 0;
	/* No answer at all: keys typed without echo. A line editor echoes
	 * within a round trip, so silence this long means no echo. */
	return redact_held(r, emit, arg);
}

int
redact_flush(struct redact *r, redact_emit_fn emit, void *arg)
{
	if (r->keep || r->nheld == 0)
		return 0;
	return redact_held(r, emit, arg);
}

int64_t
redact_due_ms(const struct redact *r, int64_t now_ms)
{
	int64_t left;

	if (r->keep || r->nheld == 0)
		return -1;
	left = r->held_since + REDACT_HOLD_MS - now_ms;
	return left > 0 ? left : 0;
}
