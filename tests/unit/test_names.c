/* Name validation, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/names.h"

struct name_case {
	enum name_kind kind;
	const char *s;
	int ok;
	const char *why; /* substring expected in the reason, or NULL */
};

#define L64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct name_case cases[] = {
        {NAME_USER, "alice", 1, NULL},
        {NAME_USER, "a", 1, NULL},
        {NAME_USER, "Alice.B_c-9", 1, NULL},
        {NAME_USER, "9lives", 1, NULL},
        {NAME_USER, L64, 1, NULL},
        {NAME_USER, L64 "a", 0, "longer than 64 characters"},
        {NAME_USER, "", 0, "must not be empty"},
        {NAME_USER, "a b", 0,
         "user name 'a b': character ' ' is not allowed (allowed: letters, digits, '.', '_', '-')"},
        {NAME_USER, "alice@web", 0, "character '@' is not allowed"},
        {NAME_USER, "a/b", 0, "character '/' is not allowed"},
        {NAME_USER, "a;rm -rf", 0, "character ';' is not allowed"},
        {NAME_USER, "a\nb", 0, "character 0x0a is not allowed"},
        {NAME_USER, "caf\xc3\xa9", 0, "character 0xc3 is not allowed"},
        {NAME_USER, ".hidden", 0, "must start with a letter or a digit"},
        {NAME_USER, "-rf", 0, "must start with a letter or a digit"},
        {NAME_USER, "_x", 0, "must start with a letter or a digit"},
        {NAME_GROUP, "ops-team", 1, NULL},
        {NAME_GROUP, "ops team", 0, "group name 'ops team'"},
        {NAME_ASSET, "web01.prod", 1, NULL},
        {NAME_ASSET, "web01:22", 0, "asset name 'web01:22': character ':'"},
        {NAME_LOGIN, "root", 1, NULL},
        {NAME_LOGIN, "_apt", 1, NULL},
        {NAME_LOGIN, "svc.deploy-1", 1, NULL},
        {NAME_LOGIN, "1root", 0, "must start with a letter or '_'"},
        {NAME_LOGIN, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, NULL},
        {NAME_LOGIN, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, "longer than 32 characters"},
        {NAME_LOGIN, "ro ot", 0, "login 'ro ot'"},
        {NAME_LOGIN, "root$", 0, "character '$'"},
        {NAME_HOST, "web01", 1, NULL},
        {NAME_HOST, "web-01.example.com", 1, NULL},
        {NAME_HOST, "127.0.0.1", 1, NULL},
        {NAME_HOST, "::1", 1, NULL},
        {NAME_HOST, "2001:db8::42", 1, NULL},
        {NAME_HOST, L63 ".com", 1, NULL},
        {NAME_HOST, L64 ".com", 0, "longer than 63"},
        {NAME_HOST, "", 0, "must not be empty"},
        {NAME_HOST, "a..b", 0, "empty label"},
        {NAME_HOST, ".a", 0, "empty label"},
        {NAME_HOST, "a.", 0, "empty label"},
        {NAME_HOST, "-a.com", 0, "must not start with '-'"},
        {NAME_HOST, "a-.com", 0, "must not end with '-'"},
        {NAME_HOST, "a_b.com", 0, "character '_'"},
        {NAME_HOST, "host name", 0, "character ' '"},
        {NAME_HOST, "-oProxyCommand=x", 0, "must not start with '-'"},
        {NAME_HOST, "[::1]", 0, "character '['"},
        {NAME_HOST, "1.2.3.4:22", 0, "character ':'"},
};

static void
test_table(void **state)
{
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = name_validate(cases[i].kind, cases[i].s, why, sizeof(why));
		if (cases[i].ok) {
			if (r != 0)
				fail_msg("case %zu '%s' refused: %s", i, cases[i].s, why);
			assert_string_equal(why, "");
		} else {
			if (r != ERR_INVALID)
				fail_msg("case %zu '%s' accepted", i, cases[i].s);
			if (strstr(why, cases[i].why) == NULL)
				fail_msg("case %zu: reason '%s' lacks '%s'", i, why, cases[i].why);
		}
	}
}

static void
test_long_host_and_edges(void **state)
{
	char host[300], why[64];
	size_t o = 0;

	/* 253 characters of valid labels is the maximum. */
	while (o + 10 < 253) {
		memcpy(host + o, "abcdefghi.", 10);
		o += 10;
	}
	while (o < 253)
		host[o++] = 'x';
	host[o] = '\0';
	assert_int_equal(name_validate(NAME_HOST, host, why, sizeof(why)), 0);
	host[o++] = 'y';
	host[o] = '\0';
	assert_int_equal(name_validate(NAME_HOST, host, why, sizeof(why)), ERR_INVALID);
	/* Small and absent reason buffers are fine. */
	assert_int_equal(name_validate(NAME_USER, "a b", why, 8), ERR_INVALID);
	assert_int_equal(strlen(why), 7);
	assert_int_equal(name_validate(NAME_USER, "a b", NULL, 0), ERR_INVALID);
	assert_int_equal(name_validate(NAME_USER, NULL, why, sizeof(why)), ERR_INVALID);
	assert_string_equal(name_kind_label(NAME_ASSET), "asset name");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table),
	        cmocka_unit_test(test_long_host_and_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
