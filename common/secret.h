/* Secrets at rest: AES-256-GCM with the 32-byte master key (libcrypto).
 * A sealed blob is: version byte 0x01 | 12-byte random nonce | ciphertext |
 * 16-byte tag. The associated data binds the blob to its table and row id,
 * so a ciphertext moved to another row fails to open. */
#ifndef GH_SECRET_H
#define GH_SECRET_H

#include <stddef.h>
#include <stdint.h>

#define SECRET_KEY_LEN 32

struct secret_key;

/* Create a new random master key file (mode 0600, O_EXCL). */
int secret_key_create(const char *path);
/* Load the key; refuses a file readable by group/others or of wrong size. */
int secret_key_load(const char *path, struct secret_key **out);
void secret_key_free(struct secret_key *k); /* wipes */

int secret_seal(const struct secret_key *k, const char *table, int64_t row_id, const uint8_t *pt, size_t ptlen,
                uint8_t **ct, size_t *ctlen);
/* ERR_CRYPTO when the blob was altered or belongs to another row. The
 * plaintext buffer is NUL-terminated (not counted in ptlen); wipe and free. */
int secret_open(const struct secret_key *k, const char *table, int64_t row_id, const uint8_t *ct, size_t ctlen,
                uint8_t **pt, size_t *ptlen);

/* Wipe then free (NULL is a no-op). */
void secret_free(void *p, size_t len);
/* Constant-time comparison: 0 when equal. */
int secret_equal(const void *a, const void *b, size_t len);
/* Fill with cryptographically random bytes. */
int secret_random(void *buf, size_t len);

#endif
