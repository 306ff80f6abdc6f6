#include "proxy/preauth.h"

#include <sys/random.h>
#include <sys/types.h>

#include "proxy/srv-auth.h"

int
preauth_drop(const int max_startups[3], int held, uint32_t rnd)
{
	int start = max_startups[0], rate = max_startups[1], full = max_startups[2];
	int64_t p;

	if (held < start)
		return 0;
	if (held >= full)
		return 1;
	/* Probability in thousandths of a percent, so that the linear rise
	 * keeps its resolution for any start..full span. full > held >= start
	 * here, so full - start > 0. */
	p = (int64_t)rate * 1000 + (int64_t)(100 - rate) * 1000 * (held - start) / (full - start);
	return (int64_t)(rnd % 100000u) < p;
}

int
preauth_random(uint32_t *out)
{
	/* The kernel CSPRNG: an attacker must not predict which attempts get
	 * through. A short read cannot happen for 4 bytes once the pool is
	 * initialised; treat it as failure anyway. */
	return getrandom(out, sizeof(*out), 0) == (ssize_t)sizeof(*out) ? 0 : -1;
}

static int64_t
stage_due_ms(enum preauth_stage stage)
{
	return stage == PREAUTH_NEW ? PREAUTH_NEW_DUE_MS : PREAUTH_AUTH_DUE_MS;
}

/* Whether a is further over its budget than b: idle_a / due_a > idle_b /
 * due_b, compared without division (idle times and budgets are far below
 * 2^31 ms, so the products fit). */
static int
more_overdue(const struct preauth_conn *a, const struct preauth_conn *b, int64_t now_ms)
{
	int64_t ia = now_ms - a->last_ms, ib = now_ms - b->last_ms;
	int64_t lhs = ia * stage_due_ms(b->stage), rhs = ib * stage_due_ms(a->stage);

	if (lhs != rhs)
		return lhs > rhs;
	return ia > ib;
}

int
preauth_pick_victim(const struct preauth_conn *conns, int n, int64_t now_ms)
{
	int best = -1, best_blocked = 0;

	for (int i = 0; i < n; i++) {
		const struct preauth_conn *c = &conns[i];

		if (c->source_blocked) {
			/* A source the penalty refuses has no claim on a slot. */
			if (!best_blocked || c->last_ms < conns[best].last_ms) {
				best = i;
				best_blocked = 1;
			}
			continue;
		}
		if (best_blocked || now_ms - c->last_ms < PREAUTH_MIN_IDLE_MS)
			continue;
		if (best < 0 || more_overdue(c, &conns[best], now_ms))
			best = i;
	}
	return best;
}

int
preauth_request_reports(const struct auth_req *rq, int first, char out[2])
{
	int n = 0;

	if (first)
		out[n++] = 'K';
	if (rq->kind == AREQ_RESPONSE || (rq->kind == AREQ_PUBKEY && rq->key_state == SSH_PUBLICKEY_STATE_VALID))
		out[n++] = 'P';
	return n;
}
