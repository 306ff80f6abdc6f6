/* Time formatting, ISO 8601 parsing with offsets, and local time in a named
 * zone without disturbing the process's TZ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/timeutil.h"

static void
test_format(void **state)
{
	char buf[40];

	time_format_iso(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	time_format_iso(1795240484, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-21T05:54:44Z");
	time_now_iso_ms(buf, sizeof(buf));
	assert_int_equal(strlen(buf), 24);
	assert_int_equal(buf[10], 'T');
	assert_int_equal(buf[19], '.');
	assert_int_equal(buf[23], 'Z');
}

struct parse_case {
	const char *s;
	int ok;
	int64_t want;
};

static void
test_parse(void **state)
{
	static const struct parse_case cases[] = {
	        {"2026-11-21", 1, 1795219200},
	        {"2026-11-21T05:54", 1, 1795240440},
	        {"2026-11-21T05:54:44", 1, 1795240484},
	        {"2026-11-21T05:54:44Z", 1, 1795240484},
	        {"2026-11-21 05:54:44Z", 1, 1795240484},
	        {"2026-11-21T13:54:44+08:00", 1, 1795240484},
	        {"2026-11-21T00:54:44-0500", 1, 1795240484},
	        {"2024-02-29", 1, 1709164800},
	        {"2025-02-29", 0, 0},
	        {"2026-13-01", 0, 0},
	        {"2026-11-31", 0, 0},
	        {"2026-11-21T24:00", 0, 0},
	        {"2026-11-21T05:60", 0, 0},
	        {"2026-11-21T05:54:44+25:00", 0, 0},
	        {"2026-11-21T05:54:44Zjunk", 0, 0},
	        {"26-11-21", 0, 0},
	        {"2026/11/21", 0, 0},
	        {"", 0, 0},
	        {"1969-12-31", 0, 0},
	};
	int64_t t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = time_parse_iso(cases[i].s, &t);
		if (cases[i].ok) {
			if (r != 0)
				fail_msg("case %zu '%s' refused", i, cases[i].s);
			if (t != cases[i].want)
				fail_msg("case %zu '%s': %lld != %lld", i, cases[i].s, (long long)t,
				         (long long)cases[i].want);
		} else if (r != ERR_INVALID) {
			fail_msg("case %zu '%s' accepted", i, cases[i].s);
		}
	}
	assert_int_equal(time_parse_iso(NULL, &t), ERR_INVALID);
}

static void
test_local(void **state)
{
	struct tm tm;
	const char *tz;

	setenv("TZ", "America/New_York", 1);
	/* 2026-11-21T05:54:44Z is 13:54 in Shanghai (UTC+8, no DST). */
	assert_int_equal(time_local("Asia/Shanghai", 1795240484, &tm), 0);
	assert_int_equal(tm.tm_hour, 13);
	assert_int_equal(tm.tm_min, 54);
	assert_int_equal(tm.tm_wday, 6); /* Saturday */
	/* The process's own TZ is restored. */
	tz = getenv("TZ");
	assert_non_null(tz);
	assert_string_equal(tz, "America/New_York");
	assert_int_equal(time_local(NULL, 1795240484, &tm), 0);
	assert_int_equal(tm.tm_hour, 5);
	assert_int_equal(time_local("UTC", 1795240484, &tm), 0);
	assert_int_equal(tm.tm_hour, 5);
	/* New York in November: UTC-5. */
	assert_int_equal(time_local("America/New_York", 1795240484, &tm), 0);
	assert_int_equal(tm.tm_hour, 0);
	unsetenv("TZ");
	assert_int_equal(time_local("Europe/Berlin", 1795240484, &tm), 0);
	assert_int_equal(tm.tm_hour, 6);
	assert_null(getenv("TZ"));
	assert_int_equal(time_local("/etc/passwd", 0, &tm), ERR_INVALID);
	assert_int_equal(time_local("../../x", 0, &tm), ERR_INVALID);
	/* glibc would silently use UTC for an unknown zone: refused instead. */
	assert_int_equal(time_local("Mars/Olympus_Mons", 0, &tm), ERR_INVALID);
	assert_true(time_zone_valid("Asia/Shanghai"));
	assert_true(time_zone_valid("UTC"));
	assert_true(time_zone_valid(""));
	assert_false(time_zone_valid("Mars/Olympus_Mons"));
	assert_false(time_zone_valid("Asia")); /* a directory, not a zone */
	assert_false(time_zone_valid("Asia/Shang hai"));
}

static void
test_clocks(void **state)
{
	int64_t a = time_mono_ms(), b = time_mono_ms();

	assert_true(b >= a);
	assert_true(time_now() > 1700000000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_parse),
	        cmocka_unit_test(test_local),
	        cmocka_unit_test(test_clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
