/* A strict command line splitter (see argv-split.h): two passes over the
 * input, the first validates and counts, the second copies. Every word is
 * at most as long as the input, so one block of len + words bytes holds
 * them all. */
#include "proxy/argv-split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static int
is_ctl(unsigned char b)
{
	return b < 0x20 || b == 0x7f;
}

static void
say(char *why, size_t whylen, const char *msg, size_t pos)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s (at byte %zu)", msg, pos + 1);
}

/* One pass. With dst == NULL only checks and counts. */
static int
scan(const char *s, size_t len, char *dst, char **words, int *nwords, char *why, size_t whylen)
{
	enum { SP, WORD, SQ, DQ } st = SP;
	size_t i, o = 0;
	int n = 0;

	for (i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b == '\0') {
			say(why, whylen, "a NUL byte is not allowed", i);
			return ERR_INVALID;
		}
		if (b == '\t' && st != SQ && st != DQ)
			b = ' ';
		else if (is_ctl(b)) {
			say(why, whylen, "control characters (newline, escape ...) are not allowed", i);
			return ERR_INVALID;
		}
		if (st == SP) {
			if (b == ' ')
				continue;
			if (n >= ARGV_MAX_WORDS) {
				say(why, whylen, "too many words", i);
				return ERR_INVALID;
			}
			if (dst != NULL)
				words[n] = dst + o;
			n++;
			st = WORD;
		}
		switch (st) {
		case WORD:
			if (b == ' ') {
				if (dst != NULL)
					dst[o] = '\0';
				o++;
				st = SP;
			} else if (b == '\'') {
				st = SQ;
			} else if (b == '"') {
				st = DQ;
			} else if (b == '\\') {
				if (i + 1 >= len) {
					say(why, whylen, "a backslash at the end", i);
					return ERR_INVALID;
				}
				b = (unsigned char)s[++i];
				if (b == '\0' || is_ctl(b)) {
					say(why, whylen, "a backslash before a control character", i);
					return ERR_INVALID;
				}
				if (dst != NULL)
					dst[o] = (char)b;
				o++;
			} else {
				if (dst != NULL)
					dst[o] = (char)b;
				o++;
			}
			break;
		case SQ:
			if (b == '\'')
				st = WORD;
			else {
				if (dst != NULL)
					dst[o] = (char)b;
				o++;
			}
			break;
		case DQ:
			if (b == '"') {
				st = WORD;
				break;
			}
			if (b == '\\' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\'))
				b = (unsigned char)s[++i];
			if (dst != NULL)
				dst[o] = (char)b;
			o++;
			break;
		case SP: break;
		}
	}
	if (st == SQ || st == DQ) {
		say(why, whylen, st == SQ ? "unbalanced single quote" : "unbalanced double quote", len);
		return ERR_INVALID;
	}
	if (st == WORD) {
		if (dst != NULL)
			dst[o] = '\0';
		o++;
	}
	*nwords = n;
	return 0;
}

int
argv_split(const char *s, size_t len, struct argv_split *out, char *why, size_t whylen)
{
	int n = 0, r = ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (s == NULL)
		return ERR_INVALID;
	if (len > ARGV_MAX_LEN) {
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "the command line is longer than %d bytes", ARGV_MAX_LEN);
		return ERR_INVALID;
	}
	if ((r = scan(s, len, NULL, NULL, &n, why, whylen)) != 0)
		return r;
	out->block = malloc(len + 1);
	out->argv = calloc((size_t)n + 1, sizeof(*out->argv));
	if (out->block == NULL || out->argv == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = scan(s, len, out->block, out->argv, &out->argc, why, whylen)) != 0)
		goto out;
	out->argv[out->argc] = NULL;
	return 0;
out:
	argv_split_free(out);
	return r;
}

void
argv_split_free(struct argv_split *a)
{
	if (a == NULL)
		return;
	free(a->argv);
	free(a->block);
	memset(a, 0, sizeof(*a));
}
