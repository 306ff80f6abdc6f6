/* MaxStartups random early drop (proxy/preauth.c): the refusal probability
 * over the range start..full, measured over the whole 32-bit random range
 * by a deterministic sweep, and the CSPRNG source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proxy/preauth.h"

/* Share of refusals, in percent, for held connections over n evenly spread
 * random values. */
static double
refused_pct(const int ms[3], int held)
{
	const uint32_t n = 100000;
	uint32_t i, refused = 0;

	for (i = 0; i < n; i++)
		refused += (uint32_t)preauth_drop(ms, held, (uint32_t)((uint64_t)i * 0xFFFFFFFFu / n));
	return 100.0 * refused / n;
}

static void
test_linear_rise(void **state)
{
	const int ms[3] = {10, 30, 100};

	(void)state;
	assert_true(refused_pct(ms, 0) == 0.0);
	assert_true(refused_pct(ms, 9) == 0.0);
	/* at start: rate% */
	assert_true(refused_pct(ms, 10) > 29.0 && refused_pct(ms, 10) < 31.0);
	/* half way (55): 30 + 70 / 2 = 65% */
	assert_true(refused_pct(ms, 55) > 64.0 && refused_pct(ms, 55) < 66.0);
	/* just below full: nearly all */
	assert_true(refused_pct(ms, 99) > 98.0 && refused_pct(ms, 99) < 100.0);
	assert_true(refused_pct(ms, 100) == 100.0);
	assert_true(refused_pct(ms, 5000) == 100.0);
}

static void
test_edges(void **state)
{
	const int hard[3] = {5, 100, 5};  /* start = full: a hard cap */
	const int all[3] = {1, 100, 50};  /* rate 100: refuse everything from start */
	const int low[3] = {10, 1, 1000}; /* rate 1 */

	(void)state;
	assert_true(refused_pct(hard, 4) == 0.0);
	assert_true(refused_pct(hard, 5) == 100.0);
	assert_true(refused_pct(all, 0) == 0.0);
	assert_true(refused_pct(all, 1) == 100.0);
	assert_true(refused_pct(low, 10) > 0.5 && refused_pct(low, 10) < 1.5);
	/* extreme random values */
	assert_int_equal(preauth_drop(low, 10, 0), 1);
	assert_int_equal(preauth_drop(low, 9, 0), 0);
}

static void
test_random(void **state)
{
	uint32_t a = 0, b = 0, c = 0;

	(void)state;
	assert_int_equal(preauth_random(&a), 0);
	assert_int_equal(preauth_random(&b), 0);
	assert_int_equal(preauth_random(&c), 0);
	/* three equal 32-bit values from a CSPRNG: 2^-64 */
	assert_false(a == b && b == c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_linear_rise),
	        cmocka_unit_test(test_edges),
	        cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
