/* Sealing to the recording-seal key (see seal.h): X25519, HKDF-SHA256 and
 * AES-256-GCM from libcrypto's EVP interface. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "common/err.h"
#include "common/seal.h"

#define SEAL_INFO "gatehouse-seal-v1"
#define TAG_LEN   16
#define NONCE_LEN 12
#define OKM_LEN   (32 + NONCE_LEN)
#define REC_TAG   "gatehouse-rec-in1" /* 17 bytes: the record AAD's tag */

void
seal_key_id(const uint8_t pub[SEAL_KEY_LEN], uint8_t id[SEAL_KEY_ID_LEN])
{
	uint8_t h[32];
	unsigned int n = 0;

	if (EVP_Digest(pub, SEAL_KEY_LEN, h, &n, EVP_sha256(), NULL) != 1 || n != 32)
		memset(h, 0, sizeof(h));
	memcpy(id, h, SEAL_KEY_ID_LEN);
}

void
seal_key_id_hex(const uint8_t id[SEAL_KEY_ID_LEN], char hex[2 * SEAL_KEY_ID_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < SEAL_KEY_ID_LEN; i++) {
		hex[2 * i] = digits[id[i] >> 4];
		hex[2 * i + 1] = digits[id[i] & 15];
	}
	hex[2 * SEAL_KEY_ID_LEN] = '\0';
}

int
seal_keypair(uint8_t pub[SEAL_KEY_LEN], uint8_t priv[SEAL_KEY_LEN])
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	size_t pl = SEAL_KEY_LEN, kl = SEAL_KEY_LEN;
	int r = ERR_CRYPTO;

	if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL)) == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &k) != 1)
		goto out;
	if (EVP_PKEY_get_raw_public_key(k, pub, &pl) != 1 || pl != SEAL_KEY_LEN ||
	    EVP_PKEY_get_raw_private_key(k, priv, &kl) != 1 || kl != SEAL_KEY_LEN)
		goto out;
	r = 0;
out:
	if (r != 0)
		OPENSSL_cleanse(priv, SEAL_KEY_LEN);
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* X25519(priv, peer) then HKDF-SHA256 with salt eph_pub || recipient_pub:
 * the AES key and nonce of one blob. */
static int
derive(const uint8_t priv[SEAL_KEY_LEN], const uint8_t peer[SEAL_KEY_LEN], const uint8_t eph_pub[SEAL_KEY_LEN],
       const uint8_t recip_pub[SEAL_KEY_LEN], uint8_t okm[OKM_LEN])
{
	EVP_PKEY *mine = NULL, *theirs = NULL;
	EVP_PKEY_CTX *dctx = NULL, *hctx = NULL;
	uint8_t shared[32], salt[2 * SEAL_KEY_LEN], zero[32] = {0};
	size_t slen = sizeof(shared), olen = OKM_LEN;
	int r = ERR_CRYPTO;

	if ((mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, SEAL_KEY_LEN)) == NULL ||
	    (theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, SEAL_KEY_LEN)) == NULL)
		goto out;
	if ((dctx = EVP_PKEY_CTX_new(mine, NULL)) == NULL || EVP_PKEY_derive_init(dctx) != 1 ||
	    EVP_PKEY_derive_set_peer(dctx, theirs) != 1 || EVP_PKEY_derive(dctx, shared, &slen) != 1 ||
	    slen != sizeof(shared))
		goto out;
	/* a low-order public key gives the all-zero secret: refuse it */
	if (CRYPTO_memcmp(shared, zero, sizeof(shared)) == 0)
		goto out;
	memcpy(salt, eph_pub, SEAL_KEY_LEN);
	memcpy(salt + SEAL_KEY_LEN, recip_pub, SEAL_KEY_LEN);
	if ((hctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL)) == NULL || EVP_PKEY_derive_init(hctx) != 1 ||
	    EVP_PKEY_CTX_set_hkdf_md(hctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set1_hkdf_salt(hctx, salt, sizeof(salt)) != 1 ||
	    EVP_PKEY_CTX_set1_hkdf_key(hctx, shared, sizeof(shared)) != 1 ||
	    EVP_PKEY_CTX_add1_hkdf_info(hctx, (const unsigned char *)SEAL_INFO, sizeof(SEAL_INFO) - 1) != 1 ||
	    EVP_PKEY_derive(hctx, okm, &olen) != 1 || olen != OKM_LEN)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	EVP_PKEY_CTX_free(hctx);
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(theirs);
	return r;
}

static int
gcm(int enc, const uint8_t okm[OKM_LEN], const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t tag[TAG_LEN])
{
	EVP_CIPHER_CTX *c = NULL;
	int n = 0, r = ERR_CRYPTO;

	if (len > INT32_MAX || aadlen > INT32_MAX)
		return ERR_INVALID;
	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, okm, okm + 32, enc) != 1)
		goto out;
	if (aadlen > 0 && EVP_CipherUpdate(c, NULL, &n, aad, (int)aadlen) != 1)
		goto out;
	if (len > 0 && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + n, &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return r;
}

int
seal_encrypt(const uint8_t pub[SEAL_KEY_LEN], const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t ptlen,
             uint8_t **blob, size_t *bloblen)
{
	uint8_t eph_pub[SEAL_KEY_LEN], eph_priv[SEAL_KEY_LEN], okm[OKM_LEN], *b = NULL;
	size_t n = ptlen + SEAL_OVERHEAD;
	int r = ERR_INTERNAL;

	*blob = NULL;
	*bloblen = 0;
	if ((pt == NULL && ptlen > 0) || ptlen > INT32_MAX - SEAL_OVERHEAD)
		return ERR_INVALID;
	if ((r = seal_keypair(eph_pub, eph_priv)) != 0)
		goto out;
	if ((r = derive(eph_priv, pub, eph_pub, pub, okm)) != 0)
		goto out;
	if ((b = malloc(n)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	b[0] = SEAL_VERSION;
	seal_key_id(pub, b + 1);
	memcpy(b + 1 + SEAL_KEY_ID_LEN, eph_pub, SEAL_KEY_LEN);
	if ((r = gcm(1, okm, aad, aadlen, pt, ptlen, b + 1 + SEAL_KEY_ID_LEN + SEAL_KEY_LEN, b + n - TAG_LEN)) != 0)
		goto out;
	*blob = b;
	*bloblen = n;
	b = NULL;
out:
	OPENSSL_cleanse(eph_priv, sizeof(eph_priv));
	OPENSSL_cleanse(okm, sizeof(okm));
	if (b != NULL) {
		OPENSSL_cleanse(b, n);
		free(b);
	}
	return r;
}

int
seal_blob_key_id(const uint8_t *blob, size_t len, uint8_t id[SEAL_KEY_ID_LEN])
{
	if (blob == NULL || len < SEAL_OVERHEAD || blob[0] != SEAL_VERSION)
		return ERR_INVALID;
	memcpy(id, blob + 1, SEAL_KEY_ID_LEN);
	return 0;
}

int
seal_decrypt(const uint8_t priv[SEAL_KEY_LEN], const uint8_t *aad, size_t aadlen, const uint8_t *blob, size_t len,
             uint8_t **pt, size_t *ptlen)
{
	EVP_PKEY *k = NULL;
	uint8_t pub[SEAL_KEY_LEN], okm[OKM_LEN], tag[TAG_LEN], id[SEAL_KEY_ID_LEN], *out = NULL;
	size_t pl = sizeof(pub), n;
	int r = ERR_INVALID;

	*pt = NULL;
	*ptlen = 0;
	if (seal_blob_key_id(blob, len, id) != 0)
		goto out;
	n = len - SEAL_OVERHEAD;
	r = ERR_CRYPTO;
	if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, SEAL_KEY_LEN)) == NULL ||
	    EVP_PKEY_get_raw_public_key(k, pub, &pl) != 1 || pl != SEAL_KEY_LEN)
		goto out;
	seal_key_id(pub, okm); /* okm as scratch: which key this is */
	if (CRYPTO_memcmp(okm, id, SEAL_KEY_ID_LEN) != 0)
		goto out; /* sealed to another key */
	if ((r = derive(priv, blob + 1 + SEAL_KEY_ID_LEN, blob + 1 + SEAL_KEY_ID_LEN, pub, okm)) != 0)
		goto out;
	if ((out = malloc(n + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	memcpy(tag, blob + len - TAG_LEN, TAG_LEN);
	if ((r = gcm(0, okm, aad, aadlen, blob + 1 + SEAL_KEY_ID_LEN + SEAL_KEY_LEN, n, out, tag)) != 0) {
		r = ERR_CRYPTO;
		goto out;
	}
	out[n] = '\0';
	*pt = out;
	*ptlen = n;
	out = NULL;
out:
	OPENSSL_cleanse(okm, sizeof(okm));
	if (out != NULL) {
		OPENSSL_cleanse(out, n + 1);
		free(out);
	}
	EVP_PKEY_free(k);
	return r;
}

int
seal_rec_aad(const char *uuid, uint32_t channel, uint64_t ordinal, uint8_t out[SEAL_REC_AAD_LEN])
{
	size_t o = 0;

	if (uuid == NULL || strlen(uuid) != 36)
		return ERR_INVALID;
	memcpy(out, REC_TAG, 17);
	o = 17;
	memcpy(out + o, uuid, 36);
	o += 36;
	for (int i = 0; i < 4; i++)
		out[o++] = (uint8_t)(channel >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		out[o++] = (uint8_t)(ordinal >> (56 - 8 * i));
	return 0;
}
