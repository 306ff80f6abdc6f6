/* Tunnel destination hosts in canonical form (common/netaddr.c): every
 * spelling of issue 15 finding 7 (last bullet) and its neighbours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/netaddr.h"

#define V4   NETADDR_V4
#define V6   NETADDR_V6
#define NAME NETADDR_NAME
#define BAD  ERR_INVALID

static const struct {
	const char *in;
	int kind;
	const char *out;
	int local;
} cases[] = {
        /* the loopback, spelled as inet_aton / getaddrinfo read it */
        {"127.0.0.1", V4, "127.0.0.1", 1},
        {"0", V4, "0.0.0.0", 1},
        {"2130706433", V4, "127.0.0.1", 1},
        {"127.1", V4, "127.0.0.1", 1},
        {"127.0.1", V4, "127.0.0.1", 1},
        {"0x7f.1", V4, "127.0.0.1", 1},
        {"0X7F.1", V4, "127.0.0.1", 1},
        {"0x7f000001", V4, "127.0.0.1", 1},
        {"017700000001", V4, "127.0.0.1", 1},
        {"0177.0.0.1", V4, "127.0.0.1", 1},
        {"127.0.0.1.", V4, "127.0.0.1", 1},
        {"127.255.255.254", V4, "127.255.255.254", 1},
        {"0.0.0.0", V4, "0.0.0.0", 1},
        /* IPv6, IPv4-mapped */
        {"::ffff:127.0.0.1", V4, "127.0.0.1", 1},
        {"[::ffff:127.0.0.1]", V4, "127.0.0.1", 1},
        {"::FFFF:7f00:1", V4, "127.0.0.1", 1},
        {"::ffff:0.0.0.0", V4, "0.0.0.0", 1},
        {"::1", V6, "::1", 1},
        {"[::1]", V6, "::1", 1},
        {"0:0:0:0:0:0:0:1", V6, "::1", 1},
        {"0000::0001", V6, "::1", 1},
        {"::", V6, "::", 1},
        {"::127.0.0.1", V6, "::127.0.0.1", 0},
        {"2001:DB8::1", V6, "2001:db8::1", 0},
        {"::ffff:10.0.0.5", V4, "10.0.0.5", 0},
        /* names */
        {"localhost", NAME, "localhost", 1},
        {"LOCALHOST.", NAME, "localhost", 1},
        {"ip6-localhost", NAME, "ip6-localhost", 1},
        {"localhost.localdomain", NAME, "localhost.localdomain", 1},
        {"foo.localhost", NAME, "foo.localhost", 1},
        {"notlocalhost", NAME, "notlocalhost", 0},
        {"Web01.Example.COM.", NAME, "web01.example.com", 0},
        {"db_1.internal", NAME, "db_1.internal", 0},
        {"127.foo", NAME, "127.foo", 0},
        {"256.1.1.1", NAME, "256.1.1.1", 0},
        {"1.2.3.4.5", NAME, "1.2.3.4.5", 0},
        {"10.0.0.5", V4, "10.0.0.5", 0},
        {"10.5", V4, "10.0.0.5", 0},
        /* not a destination */
        {"", BAD, "", 0},
        {".", BAD, "", 0},
        {"..", BAD, "", 0},
        {"a..b", BAD, "", 0},
        {".a", BAD, "", 0},
        {"-x", BAD, "", 0},
        {"a.-x", BAD, "", 0},
        {"a b", BAD, "", 0},
        {"127.0.0.1 junk", BAD, "", 0},
        {"127.0.0.1\n", BAD, "", 0},
        {"a/b", BAD, "", 0},
        {"[]", BAD, "", 0},
        {"[127.0.0.1]", BAD, "", 0},
        {"[localhost]", BAD, "", 0},
        {"fe80::1%lo", BAD, "", 0},
        {"::ffff:127.1", BAD, "", 0},
        {"1:2:3", BAD, "", 0},
        {"[::1", BAD, "", 0},
};

static void
test_normalise(void **state)
{
	char out[NETADDR_HOST_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int k = netaddr_normalise(cases[i].in, out, sizeof(out));

		if (k != cases[i].kind || strcmp(out, cases[i].out) != 0)
			fail_msg("'%s': %d '%s', expected %d '%s'", cases[i].in, k, out, cases[i].kind, cases[i].out);
		if (k > 0 && netaddr_is_local(out) != cases[i].local)
			fail_msg("'%s' (%s): local %d, expected %d", cases[i].in, out, netaddr_is_local(out),
			         cases[i].local);
		/* canonical is a fixed point */
		if (k > 0) {
			char again[NETADDR_HOST_MAX + 1];

			assert_int_equal(netaddr_normalise(out, again, sizeof(again)), k);
			assert_string_equal(again, out);
		}
	}
}

static void
test_limits(void **state)
{
	char longname[NETADDR_HOST_MAX + 2], out[NETADDR_HOST_MAX + 1], small[8];

	(void)state;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(netaddr_normalise(longname, out, sizeof(out)), ERR_INVALID);
	longname[NETADDR_HOST_MAX] = '\0';
	assert_int_equal(netaddr_normalise(longname, out, sizeof(out)), NETADDR_NAME);
	/* an output too small is an error, never an overrun */
	assert_int_equal(netaddr_normalise("127.1", small, sizeof(small)), ERR_INVALID);
	assert_int_equal(netaddr_normalise("web01.example", small, sizeof(small)), ERR_INVALID);
	assert_int_equal(netaddr_normalise(NULL, out, sizeof(out)), ERR_INVALID);
	assert_false(netaddr_is_local(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_normalise),
	        cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
