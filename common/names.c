/* Validation of typed names. The character sets are deliberately small: they
 * keep the target syntax user@login@asset unambiguous and make names safe to
 * show in tables and logs without quoting. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/names.h"

const char *
name_kind_label(enum name_kind k)
{
	switch (k) {
	case NAME_USER: return "user name";
	case NAME_GROUP: return "group name";
	case NAME_ASSET: return "asset name";
	case NAME_LOGIN: return "login";
	case NAME_HOST: return "host";
	}
	return "name";
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Printable rendering of an offending character for the reason text. */
static void
char_desc(unsigned char c, char *buf, size_t len)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "0x%02x", c);
}

static int
fail(char *why, size_t whylen, enum name_kind kind, const char *s, const char *reason)
{
	char shown[80];
	size_t i, o = 0;

	/* The name itself may hold control characters: show them as '?'. */
	for (i = 0; s[i] != '\0' && o < sizeof(shown) - 4; i++)
		shown[o++] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(shown + o, "...", 3);
		o += 3;
	}
	shown[o] = '\0';
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s '%s': %s", name_kind_label(kind), shown, reason);
	return ERR_INVALID;
}

static int
validate_simple(enum name_kind kind, const char *s, char *why, size_t whylen)
{
	size_t max = kind == NAME_LOGIN ? 32 : 64;
	size_t len = strlen(s);
	char d[16], reason[128];

	if (len == 0)
		return fail(why, whylen, kind, s, "must not be empty");
	if (len > max) {
		snprintf(reason, sizeof(reason), "longer than %zu characters", max);
		return fail(why, whylen, kind, s, reason);
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-')
			continue;
		char_desc((unsigned char)c, d, sizeof(d));
		snprintf(reason, sizeof(reason),
		         "character %s is not allowed (allowed: letters, digits, '.', '_', '-')", d);
		return fail(why, whylen, kind, s, reason);
	}
	if (kind == NAME_LOGIN) {
		if (!is_alpha(s[0]) && s[0] != '_')
			return fail(why, whylen, kind, s, "must start with a letter or '_'");
	} else if (!is_alpha(s[0]) && !is_digit(s[0])) {
		return fail(why, whylen, kind, s, "must start with a letter or a digit");
	}
	return 0;
}

static int
validate_host(const char *s, char *why, size_t whylen)
{
	unsigned char addr[16];
	size_t len = strlen(s), label = 0;
	char d[16], reason[160];

	if (len == 0)
		return fail(why, whylen, NAME_HOST, s, "must not be empty");
	if (inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1)
		return 0;
	if (len > 253)
		return fail(why, whylen, NAME_HOST, s, "longer than 253 characters");
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0)
				return fail(why, whylen, NAME_HOST, s, "empty label (two dots, or a dot at an end)");
			if (s[i - 1] == '-')
				return fail(why, whylen, NAME_HOST, s, "a label must not end with '-'");
			label = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-') {
			char_desc((unsigned char)c, d, sizeof(d));
			snprintf(reason, sizeof(reason),
			         "character %s is not allowed (allowed: letters, digits, '-', dots between labels, or "
			         "an IP address)",
			         d);
			return fail(why, whylen, NAME_HOST, s, reason);
		}
		if (label == 0 && c == '-')
			return fail(why, whylen, NAME_HOST, s, "a label must not start with '-'");
		if (++label > 63)
			return fail(why, whylen, NAME_HOST, s, "a label is longer than 63 characters");
	}
	return 0;
}

int
name_validate(enum name_kind kind, const char *s, char *why, size_t whylen)
{
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (s == NULL)
		return fail(why, whylen, kind, "", "missing");
	switch (kind) {
	case NAME_USER:
	case NAME_GROUP:
	case NAME_ASSET:
	case NAME_LOGIN: return validate_simple(kind, s, why, whylen);
	case NAME_HOST: return validate_host(s, why, whylen);
	}
	return ERR_INVALID;
}
