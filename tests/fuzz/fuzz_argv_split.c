/* libFuzzer target for the role shell's command line splitter (untrusted:
 * an SSH exec request or a typed line of an authenticated admin, auditor or
 * operator). Checks invariants the shell relies on, not only crashes: no
 * word holds a control character; the total length never exceeds the
 * input; an input without quotes, backslashes or controls splits exactly at
 * spaces and tabs; quoting every word back gives the same argv. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/argv-split.h"

/* 'word' with ' as '\'' (the splitter has no \ inside '', so close, \', open). */
static size_t
quote_into(char *dst, const char *w)
{
	size_t o = 0;

	dst[o++] = '\'';
	for (; *w != '\0'; w++) {
		if (*w == '\'') {
			memcpy(dst + o, "'\\''", 4);
			o += 4;
		} else {
			dst[o++] = *w;
		}
	}
	dst[o++] = '\'';
	dst[o++] = ' ';
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct argv_split a, b;
	char why[128];
	size_t total = 0, i, o = 0;
	int r, plain = 1;
	char *re = NULL;

	r = argv_split((const char *)data, size, &a, why, sizeof(why));
	for (i = 0; i < size; i++)
		if (data[i] == '\'' || data[i] == '"' || data[i] == '\\' || data[i] < 0x20 || data[i] == 0x7f)
			plain &= data[i] == '\t';
	if (r != 0) {
		if (a.argv != NULL || a.argc != 0 || why[0] == '\0')
			abort(); /* a refusal leaves nothing and says why */
		if (plain && size <= ARGV_MAX_LEN) {
			/* only the word limit can refuse a plain line */
			if (strstr(why, "too many words") == NULL)
				abort();
		}
		return 0;
	}
	if (a.argv[a.argc] != NULL)
		abort();
	for (int k = 0; k < a.argc; k++) {
		const char *w = a.argv[k];

		for (; *w != '\0'; w++)
			if ((unsigned char)*w < 0x20 || (unsigned char)*w == 0x7f)
				abort();
		total += strlen(a.argv[k]);
		if (plain && a.argv[k][0] == '\0')
			abort(); /* no empty words without quotes */
	}
	if (total > size)
		abort();
	/* Round trip: quoting every word gives the same vector. */
	re = malloc(size * 4 + (size_t)a.argc * 3 + 1);
	if (re == NULL)
		abort();
	for (int k = 0; k < a.argc; k++)
		o += quote_into(re + o, a.argv[k]);
	if (o <= ARGV_MAX_LEN) {
		if (argv_split(re, o, &b, why, sizeof(why)) != 0 || b.argc != a.argc)
			abort();
		for (int k = 0; k < a.argc; k++)
			if (strcmp(a.argv[k], b.argv[k]) != 0)
				abort();
		argv_split_free(&b);
	}
	free(re);
	argv_split_free(&a);
	return 0;
}
