/* TOTP: RFC 6238 vectors, clock skew, replay refusal, base32 and the
 * otpauth:// URI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/totp.h"
#include "common/err.h"

/* RFC 6238 Appendix B, SHA1 key. */
static const uint8_t rfc_secret[] = "12345678901234567890";
#define RFC_LEN 20

static const struct {
	time_t t;
	const char *code; /* the RFC's 8-digit value, last 6 digits */
} rfc_vectors[] = {
        {59, "287082"},          /* 94287082 */
        {1111111109, "081804"},  /* 07081804 */
        {1111111111, "050471"},  /* 14050471 */
        {1234567890, "005924"},  /* 89005924 */
        {2000000000, "279037"},  /* 69279037 */
        {20000000000, "353130"}, /* 65353130 */
};
#define N_VECTORS (sizeof(rfc_vectors) / sizeof(rfc_vectors[0]))

static void
test_rfc6238_vectors(void **state)
{
	char code[8];
	int64_t step = -1;
	size_t i;

	(void)state;
	assert_int_equal(totp_init(), 0);
	assert_int_equal(totp_init(), 0); /* idempotent */
	for (i = 0; i < N_VECTORS; i++) {
		assert_int_equal(totp_code(rfc_secret, RFC_LEN, rfc_vectors[i].t, code, sizeof(code)), 0);
		assert_string_equal(code, rfc_vectors[i].code);
		assert_int_equal(totp_verify(rfc_secret, RFC_LEN, rfc_vectors[i].code, rfc_vectors[i].t, 0, &step), 0);
		assert_int_equal(step, (int64_t)(rfc_vectors[i].t / TOTP_STEP));
	}
	assert_int_equal(totp_code(rfc_secret, RFC_LEN, 59, code, 6), ERR_INVALID);
}

static void
test_skew(void **state)
{
	const time_t now = 1234567890;
	const int64_t cur = now / TOTP_STEP;
	static const struct {
		int offset; /* steps between the code's time and now */
		int expect;
	} cases[] = {
	        {0, 0}, {1, 0}, {-1, 0}, {2, ERR_DENIED}, {-2, ERR_DENIED}, {10, ERR_DENIED},
	};
	char code[8];
	int64_t step;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = now + (time_t)cases[i].offset * TOTP_STEP;
		assert_int_equal(totp_code(rfc_secret, RFC_LEN, t, code, sizeof(code)), 0);
		step = -1;
		int r = totp_verify(rfc_secret, RFC_LEN, code, now, 0, &step);
		if (r != cases[i].expect)
			fail_msg("offset %d: got %d want %d", cases[i].offset, r, cases[i].expect);
		if (r == 0)
			assert_int_equal(step, cur + cases[i].offset);
	}
}

static void
test_replay(void **state)
{
	const time_t now = 1111111111;
	const int64_t cur = now / TOTP_STEP;
	char code[8], prev[8], next[8];
	int64_t step = 0;

	(void)state;
	assert_int_equal(totp_code(rfc_secret, RFC_LEN, now, code, sizeof(code)), 0);
	assert_int_equal(totp_code(rfc_secret, RFC_LEN, now - TOTP_STEP, prev, sizeof(prev)), 0);
	assert_int_equal(totp_code(rfc_secret, RFC_LEN, now + TOTP_STEP, next, sizeof(next)), 0);
	/* First use accepted. */
	assert_int_equal(totp_verify(rfc_secret, RFC_LEN, code, now, cur - 5, &step), 0);
	assert_int_equal(step, cur);
	/* The same code again, even a few seconds later, is a replay. */
	assert_int_equal(totp_verify(rfc_secret, RFC_LEN, code, now, step, &step), ERR_REPLAY);
	assert_int_equal(totp_verify(rfc_secret, RFC_LEN, code, now + 5, cur, &step), ERR_REPLAY);
	/* An older code still inside the skew window is also refused. */
	assert_int_equal(totp_verify(rfc_secret, RFC_LEN, prev, now, cur, &step), ERR_REPLAY);
	/* The next step's code is new. */
	assert_int_equal(totp_verify(rfc_secret, RFC_LEN, next, now, cur, &step), 0);
	assert_int_equal(step, cur + 1);
}

static void
test_malformed_code(void **state)
{
	static const char *const bad[] = {"", "12345", "1234567", "12345a", " 123456", "123456 ", "12 456", "-12345"};
	int64_t step;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(totp_verify(rfc_secret, RFC_LEN, bad[i], 59, 0, &step), ERR_INVALID);
	/* Well formed but wrong. */
	assert_int_equal(totp_verify(rfc_secret, RFC_LEN, "287083", 59, 0, &step), ERR_DENIED);
	assert_int_equal(totp_verify(rfc_secret, RFC_LEN, NULL, 59, 0, &step), ERR_INVALID);
}

static void
test_base32(void **state)
{
	uint8_t secret[TOTP_SECRET_LEN], *raw = NULL;
	char *b32 = NULL;
	size_t len = 0;

	(void)state;
	/* RFC 4648 test vector, padding stripped. */
	assert_int_equal(totp_base32_encode((const uint8_t *)"foobar", 6, &b32), 0);
	assert_string_equal(b32, "MZXW6YTBOI");
	free(b32);
	b32 = NULL;
	assert_int_equal(totp_base32_encode(rfc_secret, RFC_LEN, &b32), 0);
	assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	free(b32);
	b32 = NULL;

	/* Lower case, spaces and padding are accepted on decode. */
	assert_int_equal(totp_base32_decode("mzxw 6ytb oi", &raw, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(raw, "foobar", 6);
	free(raw);
	raw = NULL;
	assert_int_equal(totp_base32_decode("MZXW6YTBOI======", &raw, &len), 0);
	assert_int_equal(len, 6);
	free(raw);
	raw = NULL;
	assert_int_equal(totp_base32_decode("MZXW1YTBOI", &raw, &len), ERR_INVALID); /* '1' is not base32 */
	assert_null(raw);
	assert_int_equal(totp_base32_decode("", &raw, &len), ERR_INVALID);
	assert_int_equal(totp_base32_decode("   ", &raw, &len), ERR_INVALID);

	/* Random secrets survive the round trip. */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(totp_secret_generate(secret, sizeof(secret)), 0);
		assert_int_equal(totp_base32_encode(secret, sizeof(secret), &b32), 0);
		assert_null(strchr(b32, '='));
		assert_int_equal(totp_base32_decode(b32, &raw, &len), 0);
		assert_int_equal(len, sizeof(secret));
		assert_memory_equal(raw, secret, sizeof(secret));
		free(raw);
		free(b32);
		raw = NULL;
		b32 = NULL;
	}
}

static void
test_uri(void **state)
{
	char *uri = NULL;

	(void)state;
	assert_int_equal(totp_uri("Gatehouse", "alice", "GEZDGNBVGY3TQOJQ", &uri), 0);
	assert_string_equal(uri, "otpauth://totp/Gatehouse:alice?secret=GEZDGNBVGY3TQOJQ&issuer=Gatehouse"
	                         "&algorithm=SHA1&digits=6&period=30");
	free(uri);
	uri = NULL;
	assert_int_equal(totp_uri("ACME Bastion & Co", "bob.smith@corp", "MZXW6YTBOI", &uri), 0);
	assert_string_equal(uri, "otpauth://totp/ACME%20Bastion%20%26%20Co:bob.smith%40corp?secret=MZXW6YTBOI"
	                         "&issuer=ACME%20Bastion%20%26%20Co&algorithm=SHA1&digits=6&period=30");
	free(uri);
	uri = NULL;
	/* Characters that would split the URI are encoded. */
	assert_int_equal(totp_uri("a:b/c?d#e", "x", "MZXW6YTBOI", &uri), 0);
	assert_non_null(strstr(uri, "totp/a%3Ab%2Fc%3Fd%23e:x?"));
	free(uri);
	uri = NULL;
	/* A secret that is not unpadded upper-case base32 is refused. */
	assert_int_equal(totp_uri("I", "x", "mzxw6ytboi", &uri), ERR_INVALID);
	assert_int_equal(totp_uri("I", "x", "MZXW6YTBOI======", &uri), ERR_INVALID);
	assert_int_equal(totp_uri("I", "", "MZXW6YTBOI", &uri), ERR_INVALID);
	assert_null(uri);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rfc6238_vectors), cmocka_unit_test(test_skew),   cmocka_unit_test(test_replay),
	        cmocka_unit_test(test_malformed_code),  cmocka_unit_test(test_base32), cmocka_unit_test(test_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
