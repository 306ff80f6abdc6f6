/* Secrets at rest: AES-256-GCM round trip, every tampered byte refused, the
 * binding to (table, row), and the key file checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/secret.h"

static char dir[64];
static char keypath[128];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/gh-secret-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(keypath, sizeof(keypath), "%s/master.key", dir);
	return 0;
}

static int
teardown(void **state)
{
	unlink(keypath);
	rmdir(dir);
	return 0;
}

static struct secret_key *
new_key(void)
{
	struct secret_key *k = NULL;

	assert_int_equal(secret_key_create(keypath), 0);
	assert_int_equal(secret_key_load(keypath, &k), 0);
	return k;
}

static void
test_key_file(void **state)
{
	struct secret_key *k = NULL;
	struct stat sb;

	k = new_key();
	secret_key_free(k);
	k = NULL;
	assert_int_equal(stat(keypath, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, SECRET_KEY_LEN);
	/* Never overwrites an existing key. */
	assert_int_equal(secret_key_create(keypath), ERR_EXISTS);
	/* Readable by others: refused. */
	assert_int_equal(chmod(keypath, 0644), 0);
	assert_int_equal(secret_key_load(keypath, &k), ERR_INVALID);
	assert_null(k);
	assert_int_equal(chmod(keypath, 0640), 0);
	assert_int_equal(secret_key_load(keypath, &k), ERR_INVALID);
	/* Short key: refused. */
	assert_int_equal(chmod(keypath, 0600), 0);
	assert_int_equal(truncate(keypath, 16), 0);
	assert_int_equal(secret_key_load(keypath, &k), ERR_INVALID);
	assert_int_equal(truncate(keypath, 33), 0);
	assert_int_equal(secret_key_load(keypath, &k), ERR_INVALID);
	unlink(keypath);
	assert_int_equal(secret_key_load(keypath, &k), ERR_NOTFOUND);
	/* A symlink is not followed. */
	assert_int_equal(symlink("/dev/null", keypath), 0);
	assert_int_not_equal(secret_key_load(keypath, &k), 0);
	assert_int_not_equal(secret_key_create(keypath), 0);
	secret_key_free(NULL);
}

static void
test_round_trip(void **state)
{
	struct secret_key *k = new_key();
	const char msg[] = "correct horse battery staple";
	uint8_t *ct = NULL, *pt = NULL, *ct2 = NULL;
	size_t ctlen = 0, ptlen = 0, ct2len = 0;

	assert_int_equal(secret_seal(k, "accounts", 7, (const uint8_t *)msg, strlen(msg), &ct, &ctlen), 0);
	assert_int_equal(ctlen, 1 + 12 + strlen(msg) + 16);
	assert_int_equal(ct[0], 0x01);
	assert_null(memmem(ct, ctlen, msg, strlen(msg)));
	assert_int_equal(secret_open(k, "accounts", 7, ct, ctlen, &pt, &ptlen), 0);
	assert_int_equal(ptlen, strlen(msg));
	assert_string_equal((char *)pt, msg); /* NUL-terminated */
	secret_free(pt, ptlen);
	/* Fresh nonce each time: same input, different blob. */
	assert_int_equal(secret_seal(k, "accounts", 7, (const uint8_t *)msg, strlen(msg), &ct2, &ct2len), 0);
	assert_int_equal(ct2len, ctlen);
	assert_memory_not_equal(ct, ct2, ctlen);
	free(ct);
	free(ct2);
	/* Empty secret. */
	assert_int_equal(secret_seal(k, "users", 1, NULL, 0, &ct, &ctlen), 0);
	assert_int_equal(secret_open(k, "users", 1, ct, ctlen, &pt, &ptlen), 0);
	assert_int_equal(ptlen, 0);
	assert_int_equal(pt[0], 0);
	secret_free(pt, 1);
	free(ct);
	secret_key_free(k);
}

static void
test_every_tampered_byte_refused(void **state)
{
	struct secret_key *k = new_key();
	const char msg[] = "target password";
	uint8_t *ct = NULL, *pt = NULL;
	size_t ctlen = 0, ptlen = 0;

	assert_int_equal(secret_seal(k, "accounts", 3, (const uint8_t *)msg, strlen(msg), &ct, &ctlen), 0);
	for (size_t i = 0; i < ctlen; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			ct[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(secret_open(k, "accounts", 3, ct, ctlen, &pt, &ptlen), ERR_CRYPTO);
			assert_null(pt);
			ct[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Truncated or extended blobs. */
	for (size_t n = 0; n < ctlen; n++)
		assert_int_equal(secret_open(k, "accounts", 3, ct, n, &pt, &ptlen), ERR_CRYPTO);
	/* Untouched still opens (the loop restored every byte). */
	assert_int_equal(secret_open(k, "accounts", 3, ct, ctlen, &pt, &ptlen), 0);
	secret_free(pt, ptlen);
	free(ct);
	secret_key_free(k);
}

static void
test_bound_to_row_and_table(void **state)
{
	struct secret_key *k = new_key();
	struct secret_key *other = NULL;
	const char msg[] = "s";
	uint8_t *ct = NULL, *pt = NULL;
	size_t ctlen = 0, ptlen = 0;

	assert_int_equal(secret_seal(k, "accounts", 256, (const uint8_t *)msg, 1, &ct, &ctlen), 0);
	assert_int_equal(secret_open(k, "accounts", 1, ct, ctlen, &pt, &ptlen), ERR_CRYPTO);
	assert_int_equal(secret_open(k, "accounts", 257, ct, ctlen, &pt, &ptlen), ERR_CRYPTO);
	assert_int_equal(secret_open(k, "accounts", -256, ct, ctlen, &pt, &ptlen), ERR_CRYPTO);
	assert_int_equal(secret_open(k, "users", 256, ct, ctlen, &pt, &ptlen), ERR_CRYPTO);
	assert_int_equal(secret_open(k, "account", 256, ct, ctlen, &pt, &ptlen), ERR_CRYPTO);
	/* Another master key. */
	unlink(keypath);
	other = new_key();
	assert_int_equal(secret_open(other, "accounts", 256, ct, ctlen, &pt, &ptlen), ERR_CRYPTO);
	assert_int_equal(secret_open(k, "accounts", 256, ct, ctlen, &pt, &ptlen), 0);
	secret_free(pt, ptlen);
	free(ct);
	secret_key_free(k);
	secret_key_free(other);
}

static void
test_helpers(void **state)
{
	uint8_t a[32] = {0}, b[32] = {0};

	assert_int_equal(secret_equal(a, b, sizeof(a)), 0);
	b[31] = 1;
	assert_int_not_equal(secret_equal(a, b, sizeof(a)), 0);
	assert_int_equal(secret_random(a, sizeof(a)), 0);
	assert_int_equal(secret_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	secret_free(NULL, 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_every_tampered_byte_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bound_to_row_and_table, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_helpers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
