/* Grant evaluation (table-driven) and the hours / CIDR / rights parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/grant.h"
#include "common/err.h"

/* Fixed instants (UTC). */
#define MON_1000 1795428000 /* Mon 2026-11-23 10:00 */
#define MON_2000 1795464000 /* Mon 2026-11-23 20:00 */
#define SAT_1000 1795255200 /* Sat 2026-11-21 10:00 */
#define MON_0200 1795399200 /* Mon 2026-11-23 02:00 = 10:00 in Asia/Shanghai */
#define SUN_2330 1795390200 /* Sun 2026-11-22 23:30 */
#define OCT_1    1790812800 /* Thu 2026-10-01 00:00 */

/* The requester: user 1 in groups 10 and 11, asset 100 (db01) in asset
 * group 200. */
static const int64_t user_groups[] = {10, 11};
static const int64_t asset_groups[] = {200};

#define USER(id)   .user_id = (id)
#define GROUP(id)  .group_id = (id)
#define ASSET(id)  .asset_id = (id)
#define AGROUP(id) .asset_group_id = (id)

struct eval_case {
	const char *name;
	struct grant_rule rules[3];
	size_t n;
	/* query fields; zero values mean the defaults set in run_case() */
	int locked, removed;
	const char *login;
	unsigned right;
	const char *src;
	time_t now;
	const char *tz;
	int no_asset_name;
	/* expected */
	int allow;
	enum grant_reason reason;
	int64_t grant_id;
	const char *msg; /* exact message, or NULL to skip */
};

static const struct eval_case eval_cases[] = {
        {"user grant allows",
         {{.id = 1, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT}},
         1,
         .allow = 1,
         .reason = GRANT_ALLOWED,
         .grant_id = 1},
        {"no rules", {{0}}, 0, .reason = GRANT_DENY_NO_GRANT, .msg = "no grant for root@db01"},
        {"asset name missing",
         {{0}},
         0,
         .no_asset_name = 1,
         .reason = GRANT_DENY_NO_GRANT,
         .msg = "no grant for root@asset #100"},
        {"other user",
         {{.id = 1, USER(2), ASSET(100), .login = "root", .rights = RIGHTS_ALL}},
         1,
         .reason = GRANT_DENY_NO_GRANT,
         .msg = "no grant for root@db01"},
        {"other login",
         {{.id = 1, USER(1), ASSET(100), .login = "admin", .rights = RIGHTS_ALL}},
         1,
         .reason = GRANT_DENY_NO_GRANT},
        {"login is case-sensitive",
         {{.id = 1, USER(1), ASSET(100), .login = "Root", .rights = RIGHTS_ALL}},
         1,
         .reason = GRANT_DENY_NO_GRANT},
        {"other asset",
         {{.id = 1, USER(1), ASSET(101), .login = "root", .rights = RIGHTS_ALL}},
         1,
         .reason = GRANT_DENY_NO_GRANT},
        {"group member",
         {{.id = 7, GROUP(11), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT}},
         1,
         .allow = 1,
         .grant_id = 7},
        {"not a group member",
         {{.id = 7, GROUP(12), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT}},
         1,
         .reason = GRANT_DENY_NO_GRANT},
        {"asset group",
         {{.id = 8, USER(1), AGROUP(200), .login = "root", .rights = RIGHTS_DEFAULT}},
         1,
         .allow = 1,
         .grant_id = 8},
        {"group and asset group",
         {{.id = 9, GROUP(10), AGROUP(200), .login = "root", .rights = RIGHTS_DEFAULT}},
         1,
         .allow = 1,
         .grant_id = 9},
        {"other asset group",
         {{.id = 8, USER(1), AGROUP(201), .login = "root", .rights = RIGHTS_DEFAULT}},
         1,
         .reason = GRANT_DENY_NO_GRANT},
        /* expiry */
        {"expired",
         {{.id = 3, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .expires = OCT_1}},
         1,
         .reason = GRANT_DENY_EXPIRED,
         .grant_id = 3,
         .msg = "grant expired 2026-10-01"},
        {"expires at this very second",
         {{.id = 3, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .expires = MON_1000}},
         1,
         .reason = GRANT_DENY_EXPIRED,
         .grant_id = 3,
         .msg = "grant expired 2026-11-23 10:00"},
        {"expires a second later",
         {{.id = 3, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .expires = MON_1000 + 1}},
         1,
         .allow = 1,
         .grant_id = 3},
        {"expiry date in the configured zone",
         {{.id = 3, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .expires = OCT_1 - 8 * 3600}},
         1,
         .tz = "Asia/Shanghai",
         .reason = GRANT_DENY_EXPIRED,
         .msg = "grant expired 2026-10-01",
         .grant_id = 3},
        /* time windows */
        {"inside hours",
         {{.id = 4, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Mon-Fri 09:00-18:00"}},
         1,
         .allow = 1,
         .grant_id = 4},
        {"outside hours (evening)",
         {{.id = 4, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Mon-Fri 09:00-18:00"}},
         1,
         .now = MON_2000,
         .reason = GRANT_DENY_HOURS,
         .grant_id = 4,
         .msg = "outside allowed hours (Mon-Fri 09:00-18:00)"},
        {"outside hours (weekend)",
         {{.id = 4, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Mon-Fri 09:00-18:00"}},
         1,
         .now = SAT_1000,
         .reason = GRANT_DENY_HOURS,
         .grant_id = 4},
        {"hours in the configured zone",
         {{.id = 4, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Mon-Fri 09:00-18:00"}},
         1,
         .now = MON_0200,
         .tz = "Asia/Shanghai",
         .allow = 1,
         .grant_id = 4},
        {"same instant in UTC is outside",
         {{.id = 4, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Mon-Fri 09:00-18:00"}},
         1,
         .now = MON_0200,
         .reason = GRANT_DENY_HOURS,
         .grant_id = 4},
        {"end of window is exclusive (18:00 Shanghai)",
         {{.id = 4, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Mon-Fri 09:00-18:00"}},
         1,
         .now = MON_1000,
         .tz = "Asia/Shanghai",
         .reason = GRANT_DENY_HOURS,
         .grant_id = 4},
        {"midnight crossing, evening part",
         {{.id = 5, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Sun 22:00-06:00"}},
         1,
         .now = SUN_2330,
         .allow = 1,
         .grant_id = 5},
        {"midnight crossing, morning after",
         {{.id = 5, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Sun 22:00-06:00"}},
         1,
         .now = MON_0200,
         .allow = 1,
         .grant_id = 5},
        {"midnight crossing, later that morning",
         {{.id = 5, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Sun 22:00-06:00"}},
         1,
         .now = MON_1000,
         .reason = GRANT_DENY_HOURS,
         .grant_id = 5},
        {"night window starting on weekdays does not cover Monday morning",
         {{.id = 5, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Mon-Fri 22:00-06:00"}},
         1,
         .now = MON_0200,
         .reason = GRANT_DENY_HOURS,
         .grant_id = 5},
        {"broken hours spec fails closed",
         {{.id = 5, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "whenever"}},
         1,
         .reason = GRANT_DENY_HOURS,
         .grant_id = 5},
        /* source addresses */
        {"source inside",
         {{.id = 6, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .sources = "10.0.0.0/8"}},
         1,
         .allow = 1,
         .grant_id = 6},
        {"source outside",
         {{.id = 6, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .sources = "10.0.0.0/8"}},
         1,
         .src = "192.168.1.5",
         .reason = GRANT_DENY_SOURCE,
         .grant_id = 6,
         .msg = "source address 192.168.1.5 not allowed"},
        {"IPv4-mapped source",
         {{.id = 6, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .sources = "10.0.0.0/8"}},
         1,
         .src = "::ffff:10.9.8.7",
         .allow = 1,
         .grant_id = 6},
        {"IPv6 source in list",
         {{.id = 6,
           USER(1),
           ASSET(100),
           .login = "root",
           .rights = RIGHTS_DEFAULT,
           .sources = "2001:db8::/32, 10.0.0.0/8"}},
         1,
         .src = "2001:db8:1::5",
         .allow = 1,
         .grant_id = 6},
        {"IPv6 source outside",
         {{.id = 6,
           USER(1),
           ASSET(100),
           .login = "root",
           .rights = RIGHTS_DEFAULT,
           .sources = "2001:db8::/32,10.0.0.0/8"}},
         1,
         .src = "2001:db9::5",
         .reason = GRANT_DENY_SOURCE,
         .grant_id = 6},
        {"single host",
         {{.id = 6, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .sources = "10.1.2.3"}},
         1,
         .allow = 1,
         .grant_id = 6},
        /* rights */
        {"right not granted",
         {{.id = 2, USER(1), ASSET(100), .login = "root", .rights = RIGHT_SHELL}},
         1,
         .right = RIGHT_EXEC,
         .reason = GRANT_DENY_RIGHT,
         .grant_id = 2,
         .msg = "right exec not granted for root@db01"},
        {"forward is not a default right",
         {{.id = 2, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT}},
         1,
         .right = RIGHT_FORWARD,
         .reason = GRANT_DENY_RIGHT,
         .grant_id = 2,
         .msg = "right forward not granted for root@db01"},
        {"upload granted",
         {{.id = 2, USER(1), ASSET(100), .login = "root", .rights = RIGHT_UPLOAD}},
         1,
         .right = RIGHT_UPLOAD,
         .allow = 1,
         .grant_id = 2},
        /* account and asset state come first */
        {"locked user",
         {{.id = 1, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_ALL}},
         1,
         .locked = 1,
         .reason = GRANT_DENY_USER_LOCKED,
         .grant_id = 0,
         .msg = "account locked"},
        {"removed asset",
         {{.id = 1, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_ALL}},
         1,
         .removed = 1,
         .reason = GRANT_DENY_ASSET_REMOVED,
         .msg = "asset removed"},
        {"locked and removed",
         {{.id = 1, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_ALL}},
         1,
         .locked = 1,
         .removed = 1,
         .reason = GRANT_DENY_USER_LOCKED,
         .msg = "account locked"},
        /* several grants */
        {"most specific reason: right over hours and expiry",
         {{.id = 11, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .expires = OCT_1},
          {.id = 12, GROUP(10), ASSET(100), .login = "root", .rights = RIGHT_SHELL},
          {.id = 13, USER(1), AGROUP(200), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Sat 00:00-24:00"}},
         3,
         .right = RIGHT_EXEC,
         .reason = GRANT_DENY_RIGHT,
         .grant_id = 12,
         .msg = "right exec not granted for root@db01"},
        {"most specific reason: source over expiry",
         {{.id = 11, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .expires = OCT_1},
          {.id = 12, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .sources = "192.0.2.0/24"}},
         2,
         .reason = GRANT_DENY_SOURCE,
         .grant_id = 12},
        {"most specific reason: hours over expiry",
         {{.id = 11, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .hours = "Sat 00:00-24:00"},
          {.id = 12, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .expires = OCT_1}},
         2,
         .reason = GRANT_DENY_HOURS,
         .grant_id = 11,
         .msg = "outside allowed hours (Sat 00:00-24:00)"},
        {"one of several allows",
         {{.id = 11, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT, .expires = OCT_1},
          {.id = 12, GROUP(10), ASSET(100), .login = "root", .rights = RIGHT_SHELL},
          {.id = 13, GROUP(11), AGROUP(200), .login = "root", .rights = RIGHT_EXEC}},
         3,
         .right = RIGHT_EXEC,
         .allow = 1,
         .grant_id = 13},
        {"unrelated grants do not count as closest",
         {{.id = 11, USER(1), ASSET(100), .login = "admin", .rights = RIGHTS_DEFAULT},
          {.id = 12, USER(2), ASSET(100), .login = "root", .rights = RIGHTS_DEFAULT}},
         2,
         .reason = GRANT_DENY_NO_GRANT,
         .grant_id = 0},
};

static void
run_case(const struct eval_case *c)
{
	struct grant_query q;
	struct grant_decision d;
	int r;

	memset(&q, 0, sizeof(q));
	q.user_id = 1;
	q.group_ids = user_groups;
	q.n_groups = 2;
	q.user_locked = c->locked;
	q.asset_id = 100;
	q.asset_group_ids = asset_groups;
	q.n_asset_groups = 1;
	q.asset_removed = c->removed;
	q.login = c->login != NULL ? c->login : "root";
	q.right = c->right != 0 ? c->right : RIGHT_SHELL;
	q.source_addr = c->src != NULL ? c->src : "10.1.2.3";
	q.now = c->now != 0 ? c->now : MON_1000;
	q.timezone = c->tz;
	q.asset_name = c->no_asset_name ? NULL : "db01";

	memset(&d, 0x55, sizeof(d));
	r = grant_evaluate(&q, c->rules, c->n, &d);
	if (r != 0)
		fail_msg("%s: returned %d", c->name, r);
	if (d.allow != c->allow || d.reason != c->reason || d.grant_id != c->grant_id)
		fail_msg("%s: got allow=%d reason=%d grant=%lld (\"%s\"), want allow=%d reason=%d grant=%lld", c->name,
		         d.allow, d.reason, (long long)d.grant_id, d.message, c->allow, c->reason,
		         (long long)c->grant_id);
	if (c->msg != NULL && strcmp(d.message, c->msg) != 0)
		fail_msg("%s: message \"%s\", want \"%s\"", c->name, d.message, c->msg);
	/* Every decision explains itself on one line. */
	assert_true(d.message[0] != '\0');
	assert_null(strchr(d.message, '\n'));
}

static void
test_evaluate_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++)
		run_case(&eval_cases[i]);
}

static void
test_evaluate_invalid_query(void **state)
{
	struct grant_rule rule = {.id = 1, USER(1), ASSET(100), .login = "root", .rights = RIGHTS_ALL};
	struct grant_query q;
	struct grant_decision d;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.user_id = 1;
	q.asset_id = 100;
	q.login = "root";
	q.source_addr = "10.1.2.3";
	q.now = MON_1000;
	q.right = RIGHT_SHELL | RIGHT_EXEC; /* not one right */
	assert_int_equal(grant_evaluate(&q, &rule, 1, &d), ERR_INVALID);
	assert_int_equal(d.allow, 0);
	q.right = 1u << 9;
	assert_int_equal(grant_evaluate(&q, &rule, 1, &d), ERR_INVALID);
	assert_int_equal(d.allow, 0);
	q.right = RIGHT_SHELL;
	q.login = NULL;
	assert_int_equal(grant_evaluate(&q, &rule, 1, &d), ERR_INVALID);
	assert_int_equal(d.allow, 0);
	q.login = "root";
	assert_int_equal(grant_evaluate(&q, &rule, 1, &d), 0);
	assert_int_equal(d.allow, 1);
	assert_int_equal(grant_evaluate(NULL, &rule, 1, &d), ERR_INVALID);
	assert_int_equal(d.allow, 0);
	/* No source address known: a source-restricted grant denies. */
	rule.sources = "0.0.0.0/0";
	q.source_addr = NULL;
	assert_int_equal(grant_evaluate(&q, &rule, 1, &d), 0);
	assert_int_equal(d.reason, GRANT_DENY_SOURCE);
}

static void
test_hours_parse(void **state)
{
	static const char *const good[] = {
	        "Mon-Fri 09:00-18:00",
	        "Sat,Sun 10:00-12:00",
	        "* 00:00-24:00",
	        "Mon-Fri 09:00-12:00; Mon-Fri 13:00-18:00",
	        "Mon-Fri 09:00-12:00, Sat 10:00-11:00",
	        "Mon, Wed ,Fri 08:30-09:30",
	        "Fri-Mon 22:00-06:00",
	        "mon 01:00-02:00",
	        "  Tue 23:59-00:01  ",
	};
	static const char *const bad[] = {
	        "",
	        "Mon",
	        "09:00-18:00",
	        "Mon 9:00-18:00",
	        "Mon 09:00-25:00",
	        "Mon 24:00-01:00",
	        "Mon 09:60-10:00",
	        "Mon 09:00-18:00x",
	        "Funday 09:00-10:00",
	        "Monday 09:00-10:00",
	        "Mon-Fri 09:00-09:00",
	        "Mon-Fri 09:00 18:00",
	        "Mon-Fri 09:00-18:00;",
	        "Mon,,Tue 09:00-10:00",
	        "Mon-Fri09:00-18:00",
	        "Mon- 09:00-10:00",
	        "** 09:00-10:00",
	};
	char why[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (grant_hours_parse(good[i], why, sizeof(why)) != 0)
			fail_msg("\"%s\" refused: %s", good[i], why);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (grant_hours_parse(bad[i], why, sizeof(why)) != ERR_INVALID)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(grant_hours_parse(NULL, why, sizeof(why)), ERR_INVALID);
}

static void
test_hours_match(void **state)
{
	static const struct {
		const char *spec;
		int wday, minute, expect;
	} cases[] = {
	        {"Mon-Fri 09:00-18:00", 1, 9 * 60, 1},
	        {"Mon-Fri 09:00-18:00", 1, 9 * 60 - 1, 0},
	        {"Mon-Fri 09:00-18:00", 5, 18 * 60 - 1, 1},
	        {"Mon-Fri 09:00-18:00", 5, 18 * 60, 0},
	        {"Mon-Fri 09:00-18:00", 6, 12 * 60, 0},
	        {"Mon-Fri 09:00-18:00", 0, 12 * 60, 0},
	        {"Sat,Sun 10:00-12:00", 0, 11 * 60, 1},
	        {"Sat,Sun 10:00-12:00", 6, 11 * 60, 1},
	        {"Sat,Sun 10:00-12:00", 3, 11 * 60, 0},
	        {"* 00:00-24:00", 3, 0, 1},
	        {"* 00:00-24:00", 4, 1439, 1},
	        {"Mon-Fri 09:00-12:00; Mon-Fri 13:00-18:00", 2, 12 * 60 + 30, 0},
	        {"Mon-Fri 09:00-12:00; Mon-Fri 13:00-18:00", 2, 13 * 60 + 30, 1},
	        {"Mon-Fri 09:00-12:00, Sat 10:00-11:00", 6, 10 * 60 + 30, 1},
	        /* crossing midnight: starts on the listed days */
	        {"Mon-Fri 22:00-06:00", 1, 23 * 60, 1},
	        {"Mon-Fri 22:00-06:00", 2, 5 * 60, 1},  /* Tuesday morning, from Monday night */
	        {"Mon-Fri 22:00-06:00", 6, 5 * 60, 1},  /* Saturday morning, from Friday night */
	        {"Mon-Fri 22:00-06:00", 1, 5 * 60, 0},  /* Monday morning: Sunday not listed */
	        {"Mon-Fri 22:00-06:00", 6, 23 * 60, 0}, /* Saturday night not listed */
	        {"Mon-Fri 22:00-06:00", 2, 6 * 60, 0},
	        {"Mon-Fri 22:00-06:00", 2, 12 * 60, 0},
	        {"Sat 22:00-06:00", 0, 60, 1}, /* wraps the week: Saturday night to Sunday */
	        {"Fri-Mon 10:00-11:00", 0, 10 * 60, 1},
	        {"Fri-Mon 10:00-11:00", 3, 10 * 60, 0},
	        /* malformed specs and inputs never match */
	        {"garbage", 1, 600, 0},
	        {"Mon-Fri 09:00-18:00", 7, 600, 0},
	        {"Mon-Fri 09:00-18:00", 1, 1440, 0},
	        {"Mon-Fri 09:00-18:00", -1, 600, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (grant_hours_match(cases[i].spec, cases[i].wday, cases[i].minute) != cases[i].expect)
			fail_msg("\"%s\" day %d minute %d: want %d", cases[i].spec, cases[i].wday, cases[i].minute,
			         cases[i].expect);
	assert_int_equal(grant_hours_match(NULL, 1, 600), 0);
}

static void
test_cidr_parse(void **state)
{
	static const char *const good[] = {"10.0.0.0/8",         "0.0.0.0/0", "192.168.1.7", "192.168.1.7/32",
	                                   "2001:db8::/32",      "::/0",      "::1",         "fe80::/10",
	                                   "::ffff:10.0.0.0/104"};
	static const char *const bad[] = {
	        "",           "10.0.0.0/",      "10.0.0.0/33",  "10.0.0.0/-1",   "10.0.0.0/8x",  "10.1.2.3/8",
	        "10.0.0/8",   "2001:db8::/129", "host.example", "10.0.0.0/0008", "fe80::1%eth0", "10.0.0.0/8/8",
	        " 10.0.0.0/8"};
	char why[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (grant_cidr_parse(good[i], why, sizeof(why)) != 0)
			fail_msg("\"%s\" refused: %s", good[i], why);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (grant_cidr_parse(bad[i], why, sizeof(why)) != ERR_INVALID)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(grant_cidr_parse("10.1.2.3/8", why, sizeof(why)), ERR_INVALID);
	assert_non_null(strstr(why, "host bits"));
}

static void
test_cidr_match(void **state)
{
	static const struct {
		const char *cidr, *addr;
		int expect;
	} cases[] = {
	        {"10.0.0.0/8", "10.255.1.2", 1},
	        {"10.0.0.0/8", "11.0.0.1", 0},
	        {"192.168.0.0/23", "192.168.1.255", 1},
	        {"192.168.0.0/23", "192.168.2.0", 0},
	        {"0.0.0.0/0", "203.0.113.9", 1},
	        {"203.0.113.9", "203.0.113.9", 1},
	        {"203.0.113.9", "203.0.113.10", 0},
	        {"2001:db8::/32", "2001:db8:ffff::1", 1},
	        {"2001:db8::/32", "2001:db9::1", 0},
	        {"2001:db8:0:80::/57", "2001:db8:0:ff::1", 1},
	        {"2001:db8:0:80::/57", "2001:db8:0:7f::1", 0},
	        {"::/0", "::1", 1},
	        /* families do not mix, except IPv4-mapped IPv6 */
	        {"::/0", "10.0.0.1", 0},
	        {"0.0.0.0/0", "2001:db8::1", 0},
	        {"10.0.0.0/8", "::ffff:10.1.2.3", 1},
	        {"10.0.0.0/8", "::ffff:11.1.2.3", 0},
	        {"::ffff:10.0.0.0/104", "10.1.2.3", 1},
	        {"::ffff:10.0.0.0/104", "11.1.2.3", 0},
	        /* malformed */
	        {"10.0.0.0/8", "10.1.2", 0},
	        {"10.0.0.0/8", "", 0},
	        {"10.0.0.0/x", "10.1.2.3", 0},
	        {"10.1.2.3/8", "10.1.2.3", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (grant_cidr_match(cases[i].cidr, cases[i].addr) != cases[i].expect)
			fail_msg("%s in %s: want %d", cases[i].addr, cases[i].cidr, cases[i].expect);
	assert_int_equal(grant_cidr_match(NULL, "10.0.0.1"), 0);
	assert_int_equal(grant_cidr_match("10.0.0.0/8", NULL), 0);
}

static void
test_rights(void **state)
{
	unsigned bits = 0;
	char why[160], buf[64];

	(void)state;
	assert_int_equal(grant_rights_parse("shell,exec", &bits, why, sizeof(why)), 0);
	assert_int_equal(bits, RIGHT_SHELL | RIGHT_EXEC);
	assert_int_equal(grant_rights_parse(" upload , Download ", &bits, why, sizeof(why)), 0);
	assert_int_equal(bits, RIGHT_UPLOAD | RIGHT_DOWNLOAD);
	assert_int_equal(grant_rights_parse("forward", &bits, why, sizeof(why)), 0);
	assert_int_equal(bits, RIGHT_FORWARD);
	assert_int_equal(grant_rights_parse("all", &bits, why, sizeof(why)), 0);
	assert_int_equal(bits, RIGHTS_ALL);
	bits = 12345;
	assert_int_equal(grant_rights_parse("shell,bogus", &bits, why, sizeof(why)), ERR_INVALID);
	assert_non_null(strstr(why, "\"bogus\""));
	assert_int_equal(bits, 12345); /* untouched on error */
	assert_int_equal(grant_rights_parse("", &bits, why, sizeof(why)), ERR_INVALID);
	assert_int_equal(grant_rights_parse("shell,,exec", &bits, why, sizeof(why)), ERR_INVALID);
	assert_int_equal(grant_rights_parse("shell exec", &bits, why, sizeof(why)), ERR_INVALID);
	assert_int_equal(grant_rights_parse("shell,", &bits, why, sizeof(why)), ERR_INVALID);

	grant_rights_format(RIGHTS_DEFAULT, buf, sizeof(buf));
	assert_string_equal(buf, "shell,exec,upload,download");
	grant_rights_format(RIGHTS_ALL, buf, sizeof(buf));
	assert_string_equal(buf, "shell,exec,upload,download,forward");
	grant_rights_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	/* round trip */
	assert_int_equal(grant_rights_parse("forward,exec", &bits, why, sizeof(why)), 0);
	grant_rights_format(bits, buf, sizeof(buf));
	assert_string_equal(buf, "exec,forward");
	grant_rights_format(RIGHTS_ALL, buf, 8); /* truncation stays terminated */
	assert_true(strlen(buf) < 8);

	assert_string_equal(grant_right_name(RIGHT_SHELL), "shell");
	assert_string_equal(grant_right_name(RIGHT_FORWARD), "forward");
	assert_string_equal(grant_right_name(RIGHT_SHELL | RIGHT_EXEC), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_evaluate_table), cmocka_unit_test(test_evaluate_invalid_query),
	        cmocka_unit_test(test_hours_parse),    cmocka_unit_test(test_hours_match),
	        cmocka_unit_test(test_cidr_parse),     cmocka_unit_test(test_cidr_match),
	        cmocka_unit_test(test_rights),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
