/* Secrets at rest: AES-256-GCM (libcrypto EVP) with the master key. The
 * associated data binds each blob to (table, row id) so that a ciphertext
 * copied into another row, or another table, fails authentication. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/err.h"
#include "common/secret.h"

#define SEAL_VERSION 0x01
#define NONCE_LEN    12
#define TAG_LEN      16
#define AAD_PREFIX   "gatehouse-secret-v1"

struct secret_key {
	uint8_t key[SECRET_KEY_LEN]; /* raw AES-256 key; page is mlock'ed when possible */
	int locked;                  /* mlock succeeded, munlock on free */
};

void
secret_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

int
secret_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0 ? 0 : 1;
}

int
secret_random(void *buf, size_t len)
{
	if (len > INT32_MAX)
		return ERR_INVALID;
	if (len == 0)
		return 0;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : ERR_CRYPTO;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return ERR_IO;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
secret_key_create(const char *path)
{
	uint8_t key[SECRET_KEY_LEN];
	int fd = -1;
	int r = ERR_INTERNAL;

	if ((r = secret_random(key, sizeof(key))) != 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = errno == EEXIST ? ERR_EXISTS : ERR_IO;
		goto out;
	}
	/* The umask could only remove bits; make the mode exact anyway. */
	if (fchmod(fd, 0600) != 0 || write_all(fd, key, sizeof(key)) != 0 || fsync(fd) != 0) {
		r = ERR_IO;
		close(fd);
		fd = -1;
		unlink(path);
		goto out;
	}
	r = 0;
out:
	explicit_bzero(key, sizeof(key));
	if (fd >= 0 && close(fd) != 0 && r == 0)
		r = ERR_IO;
	return r;
}

int
secret_key_load(const char *path, struct secret_key **out)
{
	struct secret_key *k = NULL;
	struct stat sb;
	uint8_t extra;
	size_t got = 0;
	int fd = -1;
	int r = ERR_INTERNAL;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		r = ERR_IO;
		goto out;
	}
	/* A key others can read is a key others may have: refuse, like ssh does. */
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0 || sb.st_size != SECRET_KEY_LEN) {
		r = ERR_INVALID;
		goto out;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	/* Best effort: keep the key out of swap. Fails harmlessly under low RLIMIT_MEMLOCK. */
	k->locked = mlock(k, sizeof(*k)) == 0;
	while (got < SECRET_KEY_LEN) {
		ssize_t n = read(fd, k->key + got, SECRET_KEY_LEN - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? ERR_INVALID : ERR_IO;
			goto out;
		}
		got += (size_t)n;
	}
	if (read(fd, &extra, 1) != 0) { /* grew since fstat */
		r = ERR_INVALID;
		goto out;
	}
	*out = k;
	k = NULL;
	r = 0;
out:
	secret_key_free(k);
	if (fd >= 0)
		close(fd);
	return r;
}

void
secret_key_free(struct secret_key *k)
{
	if (k == NULL)
		return;
	explicit_bzero(k->key, sizeof(k->key));
	if (k->locked)
		munlock(k, sizeof(*k));
	free(k);
}

/* AAD = "gatehouse-secret-v1" NUL table NUL row_id (8 bytes big endian). */
static int
build_aad(const char *table, int64_t row_id, uint8_t **aad, size_t *len)
{
	size_t tl = strlen(table);
	size_t pl = sizeof(AAD_PREFIX); /* includes the NUL */
	size_t n = pl + tl + 1 + 8;
	uint8_t *p = malloc(n);
	uint64_t v = (uint64_t)row_id;

	if (p == NULL)
		return ERR_NOMEM;
	memcpy(p, AAD_PREFIX, pl);
	memcpy(p + pl, table, tl);
	p[pl + tl] = 0;
	for (int i = 0; i < 8; i++)
		p[pl + tl + 1 + i] = (uint8_t)(v >> (56 - 8 * i));
	*aad = p;
	*len = n;
	return 0;
}

int
secret_seal(const struct secret_key *k, const char *table, int64_t row_id, const uint8_t *pt, size_t ptlen,
            uint8_t **ct, size_t *ctlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *aad = NULL, *buf = NULL;
	size_t aadlen = 0, n;
	int outl = 0, fin = 0;
	int r = ERR_INTERNAL;

	*ct = NULL;
	*ctlen = 0;
	if (k == NULL || table == NULL || (pt == NULL && ptlen > 0) || ptlen > INT32_MAX - 64) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = build_aad(table, row_id, &aad, &aadlen)) != 0)
		goto out;
	n = 1 + NONCE_LEN + ptlen + TAG_LEN;
	if ((buf = malloc(n)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	buf[0] = SEAL_VERSION;
	if ((r = secret_random(buf + 1, NONCE_LEN)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, k->key, buf + 1) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1)
		goto out;
	if (ptlen > 0 && EVP_EncryptUpdate(ctx, buf + 1 + NONCE_LEN, &outl, pt, (int)ptlen) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, buf + 1 + NONCE_LEN + outl, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + 1 + NONCE_LEN + ptlen) != 1)
		goto out;
	*ct = buf;
	*ctlen = n;
	buf = NULL;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(aad);
	free(buf);
	return r;
}

int
secret_open(const struct secret_key *k, const char *table, int64_t row_id, const uint8_t *ct, size_t ctlen,
            uint8_t **pt, size_t *ptlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *aad = NULL, *buf = NULL;
	uint8_t tag[TAG_LEN];
	size_t aadlen = 0, n = 0;
	int outl = 0, fin = 0;
	int r = ERR_INTERNAL;

	*pt = NULL;
	*ptlen = 0;
	if (k == NULL || table == NULL || ct == NULL) {
		r = ERR_INVALID;
		goto out;
	}
	if (ctlen < 1 + NONCE_LEN + TAG_LEN || ct[0] != SEAL_VERSION || ctlen > INT32_MAX) {
		r = ERR_CRYPTO;
		goto out;
	}
	n = ctlen - 1 - NONCE_LEN - TAG_LEN;
	if ((r = build_aad(table, row_id, &aad, &aadlen)) != 0)
		goto out;
	if ((buf = malloc(n + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	memcpy(tag, ct + ctlen - TAG_LEN, TAG_LEN);
	r = ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, ct + 1) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1)
		goto out;
	if (n > 0 && EVP_DecryptUpdate(ctx, buf, &outl, ct + 1 + NONCE_LEN, (int)n) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	/* Final checks the tag: any altered byte, or the wrong AAD, fails here. */
	if (EVP_DecryptFinal_ex(ctx, buf + n, &fin) != 1)
		goto out;
	buf[n] = 0;
	*pt = buf;
	*ptlen = n;
	buf = NULL;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(aad);
	secret_free(buf, n + 1);
	return r;
}
