/* libFuzzer target for name validation. The first byte picks the kind; the
 * rest is the name. An accepted name must really be inside the documented
 * character set (it ends up in menus, logs and user@login@asset). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/names.h"

static int
simple_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum name_kind kind;
	char why[256];
	char *s;
	size_t len;
	int r;

	if (size < 1)
		return 0;
	kind = (enum name_kind)(data[0] % 5);
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	len = strlen(s);
	r = name_validate(kind, s, why, sizeof(why));
	if (r == 0) {
		if (why[0] != '\0' || len == 0)
			abort();
		if (strchr(s, '@') != NULL || strchr(s, '/') != NULL || strchr(s, ' ') != NULL)
			abort();
		if (kind != NAME_HOST) {
			if (len > (kind == NAME_LOGIN ? 32u : 64u))
				abort();
			for (size_t i = 0; i < len; i++)
				if (!simple_char(s[i]))
					abort();
			if (s[0] == '-' || s[0] == '.')
				abort();
		} else if (len > 253 && strchr(s, ':') == NULL) {
			abort();
		}
	} else {
		if (r != ERR_INVALID || why[0] == '\0')
			abort();
		/* The reason never carries control characters back to a terminal. */
		for (size_t i = 0; why[i] != '\0'; i++)
			if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] == 0x7f)
				abort();
	}
	free(s);
	return 0;
}
