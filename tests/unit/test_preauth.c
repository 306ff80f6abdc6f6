/* MaxStartups random early drop (proxy/preauth.c): the refusal probability
 * over the range start..full, measured over the whole 32-bit random range
 * by a deterministic sweep, and the CSPRNG source. Eviction (issue 15,
 * finding 8): which stalled connection gives way to a newcomer, and what a
 * monitor reports for each authentication request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/preauth.h"
#include "proxy/srv-auth.h"

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

#define NOW 1000000 /* monotonic ms: any value far from 0 */

static struct preauth_conn
pc(enum preauth_stage stage, int64_t idle_ms, int blocked)
{
	struct preauth_conn c = {.stage = stage, .last_ms = NOW - idle_ms, .source_blocked = blocked};

	return c;
}

static void
test_victim_none(void **state)
{
	/* Nothing held, or everything fresh (a burst of honest newcomers): the
	 * newcomer is refused rather than pushing out one mid key exchange. */
	struct preauth_conn fresh[3] = {
	        pc(PREAUTH_NEW, 0, 0),
	        pc(PREAUTH_NEW, PREAUTH_MIN_IDLE_MS - 1, 0),
	        pc(PREAUTH_AUTH, 10, 0),
	};

	(void)state;
	assert_int_equal(preauth_pick_victim(NULL, 0, NOW), -1);
	assert_int_equal(preauth_pick_victim(fresh, 3, NOW), -1);
	fresh[1].last_ms -= 1; /* now exactly PREAUTH_MIN_IDLE_MS idle */
	assert_int_equal(preauth_pick_victim(fresh, 3, NOW), 1);
}

static void
test_victim_stalled_before_auth_first(void **state)
{
	/* A slowloris (no authentication request for 5 s) goes before an
	 * operator who has been at the password prompt for 15 s: each is
	 * measured against what an honest client of its stage needs. */
	struct preauth_conn c[3] = {
	        pc(PREAUTH_AUTH, 15000, 0), /* a person typing */
	        pc(PREAUTH_NEW, 5000, 0),   /* 2.5 budgets over */
	        pc(PREAUTH_NEW, 3000, 0),   /* 1.5 */
	};

	(void)state;
	assert_int_equal(preauth_pick_victim(c, 3, NOW), 1);
	/* Among the slowloris, the longest stalled first, whatever the order. */
	c[1] = pc(PREAUTH_NEW, 3000, 0);
	c[2] = pc(PREAUTH_NEW, 8000, 0);
	assert_int_equal(preauth_pick_victim(c, 3, NOW), 2);
}

static void
test_victim_idle_in_auth(void **state)
{
	/* Connections that asked to authenticate and then stopped: the one
	 * idle longest relative to its budget, even against a young staller
	 * that has not yet used its own budget. */
	struct preauth_conn c[3] = {
	        pc(PREAUTH_AUTH, 50000, 0), /* 2.5 budgets: kex done, then nothing */
	        pc(PREAUTH_NEW, 1500, 0),   /* 0.75 */
	        pc(PREAUTH_AUTH, 4000, 0),  /* 0.2: answered a prompt 4 s ago */
	};

	(void)state;
	assert_int_equal(preauth_pick_victim(c, 3, NOW), 0);
	/* Progress resets the clock: once it answers, the young staller goes first. */
	c[0].last_ms = NOW - 100;
	assert_int_equal(preauth_pick_victim(c, 3, NOW), 1);
}

static void
test_victim_blocked_source(void **state)
{
	/* A source the penalty refuses has no claim on a slot: its connection
	 * goes first, even with recent progress (no minimum idle time). */
	struct preauth_conn c[4] = {
	        pc(PREAUTH_NEW, 60000, 0),
	        pc(PREAUTH_AUTH, 10, 1),
	        pc(PREAUTH_AUTH, 500, 1),
	        pc(PREAUTH_NEW, 30000, 0),
	};

	(void)state;
	assert_int_equal(preauth_pick_victim(c, 4, NOW), 2); /* the older of the blocked */
	c[2].source_blocked = 0;
	assert_int_equal(preauth_pick_victim(c, 4, NOW), 1);
	c[1].source_blocked = 0;
	assert_int_equal(preauth_pick_victim(c, 4, NOW), 0);
}

static void
test_request_reports(void **state)
{
	struct auth_req rq;
	char out[2];

	(void)state;
	memset(&rq, 0, sizeof(rq));
	/* The first request tells the key exchange is done; "none" is no progress. */
	rq.kind = AREQ_NONE;
	assert_int_equal(preauth_request_reports(&rq, 1, out), 1);
	assert_int_equal(out[0], 'K');
	assert_int_equal(preauth_request_reports(&rq, 0, out), 0);
	/* Restarting a round, or offering a key without signing: cheap, not progress. */
	rq.kind = AREQ_KBDINT;
	assert_int_equal(preauth_request_reports(&rq, 0, out), 0);
	rq.kind = AREQ_PUBKEY;
	rq.key_state = SSH_PUBLICKEY_STATE_NONE;
	assert_int_equal(preauth_request_reports(&rq, 0, out), 0);
	rq.key_state = SSH_PUBLICKEY_STATE_WRONG;
	assert_int_equal(preauth_request_reports(&rq, 0, out), 0);
	/* A verified signature, an answer to prompts: progress. */
	rq.key_state = SSH_PUBLICKEY_STATE_VALID;
	assert_int_equal(preauth_request_reports(&rq, 0, out), 1);
	assert_int_equal(out[0], 'P');
	rq.kind = AREQ_RESPONSE;
	assert_int_equal(preauth_request_reports(&rq, 1, out), 2);
	assert_int_equal(out[0], 'K');
	assert_int_equal(out[1], 'P');
	rq.kind = AREQ_OTHER;
	assert_int_equal(preauth_request_reports(&rq, 0, out), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_linear_rise),
	        cmocka_unit_test(test_edges),
	        cmocka_unit_test(test_random),
	        cmocka_unit_test(test_victim_none),
	        cmocka_unit_test(test_victim_stalled_before_auth_first),
	        cmocka_unit_test(test_victim_idle_in_auth),
	        cmocka_unit_test(test_victim_blocked_source),
	        cmocka_unit_test(test_request_reports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
