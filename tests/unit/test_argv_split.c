/* The role shell's command line splitter: quoting, refusals, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "proxy/argv-split.h"

static void
expect_words(const char *s, int n, ...)
{
	struct argv_split a;
	char why[128];
	va_list ap;

	assert_int_equal(argv_split(s, strlen(s), &a, why, sizeof(why)), 0);
	assert_int_equal(a.argc, n);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(a.argv[i], va_arg(ap, const char *));
	va_end(ap);
	assert_null(a.argv[n]);
	argv_split_free(&a);
}

static void
expect_refused(const char *s, size_t len, const char *reason)
{
	struct argv_split a;
	char why[128];

	assert_int_equal(argv_split(s, len, &a, why, sizeof(why)), ERR_INVALID);
	assert_null(a.argv);
	assert_non_null(strstr(why, reason));
}

static void
test_words(void **state)
{
	expect_words("", 0);
	expect_words("   \t ", 0);
	expect_words("user list --json", 3, "user", "list", "--json");
	expect_words("  user\t\tlist  ", 2, "user", "list");
	expect_words("kill 3 --reason 'policy violation'", 4, "kill", "3", "--reason", "policy violation");
	expect_words("kill 3 --reason \"a \\\"b\\\" \\\\ c\"", 4, "kill", "3", "--reason", "a \"b\" \\ c");
	expect_words("a\\ b", 1, "a b");
	expect_words("''", 1, "");
	expect_words("x'y'\"z\"", 1, "xyz");
	/* Nothing is special but quotes and backslash. */
	expect_words("user add 'x;touch /tmp/pwned'", 3, "user", "add", "x;touch /tmp/pwned");
	expect_words("a;b $(id) `id` | & > < * ~", 9, "a;b", "$(id)", "`id`", "|", "&", ">", "<", "*", "~");
	expect_words("'$HOME' \"$HOME\"", 2, "$HOME", "$HOME");
	expect_words("\"\\n\"", 1, "\\n"); /* no C escapes in double quotes */
	expect_words("caf\xc3\xa9", 1, "caf\xc3\xa9");
}

static void
test_refused(void **state)
{
	char big[ARGV_MAX_LEN + 2];
	char many[ARGV_MAX_WORDS * 2 + 4];

	expect_refused("a 'b", 4, "unbalanced single quote");
	expect_refused("a \"b", 4, "unbalanced double quote");
	expect_refused("a\\", 2, "backslash at the end");
	expect_refused("a\nb", 3, "control characters");
	expect_refused("a'\n'b", 5, "control characters");
	expect_refused("a\rb", 3, "control characters");
	expect_refused("a\x1b[2Jb", 6, "control characters");
	expect_refused("a\x7f", 2, "control characters");
	expect_refused("a\0b", 3, "NUL byte");
	expect_refused("'a\0b'", 5, "NUL byte");
	memset(big, 'a', sizeof(big));
	expect_refused(big, ARGV_MAX_LEN + 1, "longer than");
	for (int i = 0; i < ARGV_MAX_WORDS + 1; i++) {
		many[2 * i] = 'w';
		many[2 * i + 1] = ' ';
	}
	expect_refused(many, (ARGV_MAX_WORDS + 1) * 2, "too many words");
	/* exactly at the limits is fine */
	{
		struct argv_split a;

		assert_int_equal(argv_split(many, ARGV_MAX_WORDS * 2, &a, NULL, 0), 0);
		assert_int_equal(a.argc, ARGV_MAX_WORDS);
		argv_split_free(&a);
		assert_int_equal(argv_split(big, ARGV_MAX_LEN, &a, NULL, 0), 0);
		assert_int_equal(a.argc, 1);
		assert_int_equal(strlen(a.argv[0]), ARGV_MAX_LEN);
		argv_split_free(&a);
	}
	argv_split_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_words),
	        cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
