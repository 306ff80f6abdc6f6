/* libFuzzer target for the grant languages an administrator types (and that
 * come back out of the database at every login): time windows, CIDR lists
 * and right lists. Checks the invariants grant_evaluate relies on, not only
 * the absence of crashes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/grant.h"
#include "common/err.h"

static void
check_hours(const char *s)
{
	static const int minutes[] = {0, 1, 359, 360, 540, 1079, 1080, 1320, 1439};
	char why[160];
	int ok = grant_hours_parse(s, why, sizeof(why)) == 0;
	int d;
	size_t m;

	if (!ok && why[0] == '\0')
		abort(); /* a refusal always says why */
	for (d = 0; d < 7; d++)
		for (m = 0; m < sizeof(minutes) / sizeof(minutes[0]); m++)
			if (grant_hours_match(s, d, minutes[m]) && !ok)
				abort(); /* a spec that does not parse never matches */
}

static void
check_cidr(const char *s)
{
	char why[160], addr[128];
	const char *slash;
	size_t alen;

	if (grant_cidr_parse(s, why, sizeof(why)) != 0) {
		if (why[0] == '\0' || grant_cidr_match(s, "10.0.0.1") || grant_cidr_match(s, "::1") ||
		    grant_cidr_match(s, "::ffff:10.0.0.1"))
			abort();
		return;
	}
	/* A network contains its own base address. */
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen >= sizeof(addr))
		abort(); /* parse accepted an address longer than any numeric one */
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (!grant_cidr_match(s, addr))
		abort();
}

static void
check_rights(const char *s)
{
	unsigned bits = 0, again = 0;
	char why[160], buf[128];

	if (grant_rights_parse(s, &bits, why, sizeof(why)) != 0) {
		if (why[0] == '\0')
			abort();
		return;
	}
	if (bits == 0 || (bits & ~(unsigned)RIGHTS_ALL) != 0)
		abort();
	grant_rights_format(bits, buf, sizeof(buf));
	if (grant_rights_parse(buf, &again, why, sizeof(why)) != 0 || again != bits)
		abort();
}

/* The same text stored in a rule: evaluation never crashes and, for valid
 * windows and sources, explains itself on one line. */
static void
check_evaluate(char *s)
{
	static const int64_t groups[] = {10};
	struct grant_rule rule;
	struct grant_query q;
	struct grant_decision d;
	int hours_ok = grant_hours_parse(s, NULL, 0) == 0;

	memset(&rule, 0, sizeof(rule));
	rule.id = 1;
	rule.group_id = 10;
	rule.asset_id = 100;
	rule.login = "root";
	rule.rights = RIGHTS_DEFAULT;
	rule.hours = s;
	memset(&q, 0, sizeof(q));
	q.user_id = 1;
	q.group_ids = groups;
	q.n_groups = 1;
	q.asset_id = 100;
	q.asset_name = "db01";
	q.login = "root";
	q.right = RIGHT_SHELL;
	q.source_addr = "10.1.2.3";
	q.now = 1795428000;
	if (grant_evaluate(&q, &rule, 1, &d) != 0 || d.message[0] == '\0')
		abort();
	/* A broken window fails closed; an empty one means "always". */
	if (!hours_ok && s[0] != '\0' && d.allow)
		abort();
	if (hours_ok && strchr(d.message, '\n') != NULL)
		abort();
	rule.hours = NULL;
	rule.sources = s;
	if (grant_evaluate(&q, &rule, 1, &d) != 0 || d.message[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_hours(s);
	check_cidr(s);
	check_rights(s);
	check_evaluate(s);
	free(s);
	return 0;
}
