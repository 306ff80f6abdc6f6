/* Sealed input (common/seal.h, common/store-seal.c): a blob opens with the
 * private key of the pair it names and the associated data it was made
 * with, and with nothing else; the key pair is stored with its private
 * half sealed by the master key and found again by its id; a sealed
 * recording record opens only at its own session, channel and ordinal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/seal.h"
#include "common/secret.h"
#include "common/store.h"

static const uint8_t aad[] = "session 1, channel 2, record 3";
static const char uuid[] = "16751020-1525-49b0-910b-c7e9c3cae006";

static void
test_round_trip(void **state)
{
	uint8_t pub[SEAL_KEY_LEN], priv[SEAL_KEY_LEN], *blob = NULL, *pt = NULL, id[SEAL_KEY_ID_LEN],
	                                               id2[SEAL_KEY_ID_LEN];
	size_t bloblen = 0, ptlen = 0;
	const char *msg = "hunter2\x01\xff";

	assert_int_equal(seal_keypair(pub, priv), 0);
	assert_int_equal(seal_encrypt(pub, aad, sizeof(aad), (const uint8_t *)msg, 9, &blob, &bloblen), 0);
	assert_int_equal(bloblen, 9 + SEAL_OVERHEAD);
	assert_int_equal(blob[0], SEAL_VERSION);
	assert_null(memmem(blob, bloblen, "hunter2", 7));
	seal_key_id(pub, id);
	assert_int_equal(seal_blob_key_id(blob, bloblen, id2), 0);
	assert_memory_equal(id, id2, SEAL_KEY_ID_LEN);
	assert_int_equal(seal_decrypt(priv, aad, sizeof(aad), blob, bloblen, &pt, &ptlen), 0);
	assert_int_equal(ptlen, 9);
	assert_memory_equal(pt, msg, 9);
	assert_int_equal(pt[9], 0);
	secret_free(pt, ptlen);
	free(blob);
	/* an empty plaintext is still authenticated */
	assert_int_equal(seal_encrypt(pub, NULL, 0, NULL, 0, &blob, &bloblen), 0);
	assert_int_equal(seal_decrypt(priv, NULL, 0, blob, bloblen, &pt, &ptlen), 0);
	assert_int_equal(ptlen, 0);
	secret_free(pt, ptlen);
	free(blob);
}

/* Two blobs of the same text differ (a fresh ephemeral key each). */
static void
test_fresh_each_time(void **state)
{
	uint8_t pub[SEAL_KEY_LEN], priv[SEAL_KEY_LEN], *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;

	assert_int_equal(seal_keypair(pub, priv), 0);
	assert_int_equal(seal_encrypt(pub, aad, sizeof(aad), (const uint8_t *)"same", 4, &a, &al), 0);
	assert_int_equal(seal_encrypt(pub, aad, sizeof(aad), (const uint8_t *)"same", 4, &b, &bl), 0);
	assert_int_equal(al, bl);
	assert_memory_not_equal(a, b, al);
	free(a);
	free(b);
}

/* Table: every change to the blob, the associated data or the key fails. */
static void
test_refusals(void **state)
{
	uint8_t pub[SEAL_KEY_LEN], priv[SEAL_KEY_LEN], pub2[SEAL_KEY_LEN], priv2[SEAL_KEY_LEN], *blob = NULL,
	                                                                                        *pt = NULL;
	uint8_t other_aad[sizeof(aad)];
	size_t bloblen = 0, ptlen = 0;

	assert_int_equal(seal_keypair(pub, priv), 0);
	assert_int_equal(seal_keypair(pub2, priv2), 0);
	assert_int_equal(seal_encrypt(pub, aad, sizeof(aad), (const uint8_t *)"secret text", 11, &blob, &bloblen), 0);
	memcpy(other_aad, aad, sizeof(aad));
	other_aad[0] ^= 1;
	/* another key pair */
	assert_int_equal(seal_decrypt(priv2, aad, sizeof(aad), blob, bloblen, &pt, &ptlen), ERR_CRYPTO);
	/* moved elsewhere (other associated data), or none */
	assert_int_equal(seal_decrypt(priv, other_aad, sizeof(other_aad), blob, bloblen, &pt, &ptlen), ERR_CRYPTO);
	assert_int_equal(seal_decrypt(priv, NULL, 0, blob, bloblen, &pt, &ptlen), ERR_CRYPTO);
	/* every byte flipped in turn: version, key id, ephemeral key, text, tag */
	for (size_t i = 0; i < bloblen; i++) {
		int want = i == 0 ? ERR_INVALID : ERR_CRYPTO;
		blob[i] ^= 0x40;
		assert_int_equal(seal_decrypt(priv, aad, sizeof(aad), blob, bloblen, &pt, &ptlen), want);
		assert_null(pt);
		blob[i] ^= 0x40;
	}
	/* cut */
	assert_int_equal(seal_decrypt(priv, aad, sizeof(aad), blob, bloblen - 1, &pt, &ptlen), ERR_CRYPTO);
	assert_int_equal(seal_decrypt(priv, aad, sizeof(aad), blob, SEAL_OVERHEAD - 1, &pt, &ptlen), ERR_INVALID);
	/* an ephemeral key of low order (all zero) gives the zero secret */
	memset(blob + 1 + SEAL_KEY_ID_LEN, 0, SEAL_KEY_LEN);
	assert_int_equal(seal_decrypt(priv, aad, sizeof(aad), blob, bloblen, &pt, &ptlen), ERR_CRYPTO);
	free(blob);
}

static void
test_rec_aad(void **state)
{
	uint8_t a[SEAL_REC_AAD_LEN], b[SEAL_REC_AAD_LEN];

	assert_int_equal(seal_rec_aad(uuid, 1, 42, a), 0);
	assert_int_equal(seal_rec_aad(uuid, 1, 43, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(seal_rec_aad(uuid, 2, 42, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(seal_rec_aad("short", 1, 42, b), ERR_INVALID);
	assert_int_equal(seal_rec_aad(NULL, 1, 42, b), ERR_INVALID);
}

/* The stored pair: made once, found by its id, the private half opens only
 * with the master key it was sealed with. */
static void
test_store(void **state)
{
	char dir[] = "/tmp/gh-seal-XXXXXX", db[128], keyf[128], keyf2[128];
	struct store *st = NULL;
	struct secret_key *mk = NULL, *mk2 = NULL;
	struct seal_key_rec k, k2;
	uint8_t priv[SEAL_KEY_LEN], *blob = NULL, *pt = NULL, a[SEAL_REC_AAD_LEN];
	size_t bloblen = 0, ptlen = 0;
	int created = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/gatehouse.db", dir);
	snprintf(keyf, sizeof(keyf), "%s/master.key", dir);
	snprintf(keyf2, sizeof(keyf2), "%s/other.key", dir);
	assert_int_equal(secret_key_create(keyf), 0);
	assert_int_equal(secret_key_create(keyf2), 0);
	assert_int_equal(secret_key_load(keyf, &mk), 0);
	assert_int_equal(secret_key_load(keyf2, &mk2), 0);
	assert_int_equal(store_open(db, 1, &st), 0);
	assert_int_equal(store_seal_current(st, &k), ERR_NOTFOUND);
	assert_int_equal(store_seal_ensure(st, mk, &k, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(store_seal_ensure(st, mk, &k2, &created), 0);
	assert_int_equal(created, 0);
	assert_string_equal(k.key_id, k2.key_id);
	assert_int_equal(strlen(k.key_id), 16);
	/* seal as the recorder does, open as reveal does */
	assert_int_equal(seal_rec_aad(uuid, 1, 7, a), 0);
	assert_int_equal(seal_encrypt(k.public_key, a, sizeof(a), (const uint8_t *)"pw", 2, &blob, &bloblen), 0);
	assert_int_equal(store_seal_private(st, mk2, k.key_id, priv), ERR_CRYPTO);
	assert_int_equal(store_seal_private(st, mk, "0000000000000000", priv), ERR_NOTFOUND);
	assert_int_equal(store_seal_private(st, mk, k.key_id, priv), 0);
	assert_int_equal(seal_decrypt(priv, a, sizeof(a), blob, bloblen, &pt, &ptlen), 0);
	assert_memory_equal(pt, "pw", 2);
	secret_free(pt, ptlen);
	free(blob);
	/* a second pair becomes the current one; the first still opens */
	assert_int_equal(store_seal_create(st, mk, &k2), 0);
	assert_string_not_equal(k.key_id, k2.key_id);
	assert_int_equal(store_seal_current(st, &k), 0);
	assert_string_equal(k.key_id, k2.key_id);
	store_close(st);
	secret_key_free(mk);
	secret_key_free(mk2);
	{
		const char *f[] = {"gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm", "master.key", "other.key"};
		char p[160];
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", dir, f[i]);
			unlink(p);
		}
		rmdir(dir);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_fresh_each_time),
	        cmocka_unit_test(test_refusals),   cmocka_unit_test(test_rec_aad),
	        cmocka_unit_test(test_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
