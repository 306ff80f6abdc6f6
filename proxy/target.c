#include "proxy/target.h"

#include <string.h>

#include "common/err.h"

/* Copy the component [b, e) into dst; refuses empty or oversized ones. */
static int
copy_component(char *dst, const char *b, const char *e)
{
	size_t n = (size_t)(e - b);

	if (n == 0 || n >= TARGET_NAME_MAX)
		return ERR_INVALID;
	memcpy(dst, b, n);
	dst[n] = '\0';
	return 0;
}

int
target_spec_parse(const char *s, struct target_spec *out)
{
	const char *at[3];
	size_t nat = 0, len;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return ERR_INVALID;
	len = strlen(s);
	if (len == 0 || len >= 3 * TARGET_NAME_MAX)
		return ERR_INVALID;
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		/* Names never hold controls, spaces or non-ASCII; refusing them here
		 * keeps menus, logs and audit objects unambiguous. */
		if (c <= 0x20 || c >= 0x7f)
			goto bad;
		if (c == '@') {
			if (nat == 2)
				goto bad;
			at[nat++] = p;
		}
	}
	switch (nat) {
	case 0:
		if (copy_component(out->user, s, s + len) != 0)
			goto bad;
		break;
	case 1:
		if (copy_component(out->user, s, at[0]) != 0 || copy_component(out->asset, at[0] + 1, s + len) != 0)
			goto bad;
		break;
	default:
		if (copy_component(out->user, s, at[0]) != 0 || copy_component(out->login, at[0] + 1, at[1]) != 0 ||
		    copy_component(out->asset, at[1] + 1, s + len) != 0)
			goto bad;
		break;
	}
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return ERR_INVALID;
}
