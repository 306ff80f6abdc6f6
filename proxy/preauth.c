#include "proxy/preauth.h"

#include <sys/random.h>
#include <sys/types.h>

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
