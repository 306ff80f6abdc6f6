/* gatehouse-play's TIME argument: offsets with optional fractions, ISO 8601. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/err.h"
#include "player/play.h"

static void
test_offsets(void **state)
{
	static const struct {
		const char *in;
		uint64_t us;
	} ok[] = {
	        {"90", 90000000u},   {"1:30", 90000000u},     {"01:02:03", 3723000000u},
	        {"93.4", 93400000u}, {"1:33.250", 93250000u}, {"00:01:33.250", 93250000u},
	        {"0.000001", 1u},    {"2.123456", 2123456u},  {"0", 0u},
	};
	static const char *const bad[] = {"", ".5", "1.", "1.2345678", "1:60", "1:2:60", "x", "1.5x", "1:3a", "-"};
	uint64_t us;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(play_parse_time(ok[i].in, 0, &us), 0);
		assert_int_equal(us, ok[i].us);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (play_parse_time(bad[i], 0, &us) != ERR_INVALID)
			fail_msg("'%s' was accepted", bad[i]);
}

static void
test_iso(void **state)
{
	uint64_t us;

	(void)state;
	/* 2026-11-21T00:00:10Z, 10 s after a start at midnight. */
	assert_int_equal(play_parse_time("2026-11-21T00:00:10Z", (uint64_t)1795219200 * 1000000u, &us), 0);
	assert_int_equal(us, 10000000u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_offsets),
	        cmocka_unit_test(test_iso),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
