/* Sealing bytes to a key only auditors use: the input an operator types
 * without echo after a prompt for a secret (a password) is kept out of the
 * plain recording but not lost; it is encrypted to the recording-seal
 * public key and only `reveal` (an auditor, audited) opens it.
 *
 * ECIES from libcrypto: a fresh X25519 key pair per blob, the shared secret
 * with the recipient's public key through HKDF-SHA256 (salt: both public
 * keys, info: "gatehouse-seal-v1") gives an AES-256-GCM key and nonce, used
 * once. The caller's associated data binds a blob to its place (a recording
 * record: the session, channel and record ordinal), so a blob moved
 * elsewhere does not open. Blob:
 *
 *   0x01 | key id (8) | ephemeral public key (32) | ciphertext | tag (16)
 *
 * The key id is the first 8 bytes of SHA-256 of the recipient's public key:
 * which stored key pair opens the blob. docs/recording-format.md ("Sealed
 * input") is the normative description. A pure module: no store, no I/O. */
#ifndef GH_SEAL_H
#define GH_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN    32 /* X25519 public and private keys */
#define SEAL_KEY_ID_LEN 8
#define SEAL_VERSION    0x01
#define SEAL_OVERHEAD   (1 + SEAL_KEY_ID_LEN + SEAL_KEY_LEN + 16)
/* Associated data of a sealed recording record: tag, session UUID (36
 * characters), channel u32, record ordinal u64 (big endian). */
#define SEAL_REC_AAD_LEN (17 + 36 + 4 + 8)

/* A new key pair; priv must be wiped by the caller. */
int seal_keypair(uint8_t pub[SEAL_KEY_LEN], uint8_t priv[SEAL_KEY_LEN]);
void seal_key_id(const uint8_t pub[SEAL_KEY_LEN], uint8_t id[SEAL_KEY_ID_LEN]);
/* 16 lower-case hex digits and a NUL. */
void seal_key_id_hex(const uint8_t id[SEAL_KEY_ID_LEN], char hex[2 * SEAL_KEY_ID_LEN + 1]);

/* *blob (malloc'd, ptlen + SEAL_OVERHEAD bytes). */
int seal_encrypt(const uint8_t pub[SEAL_KEY_LEN], const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t ptlen,
                 uint8_t **blob, size_t *bloblen);
/* The key id a blob names; ERR_INVALID for a blob too short or of another
 * version. */
int seal_blob_key_id(const uint8_t *blob, size_t len, uint8_t id[SEAL_KEY_ID_LEN]);
/* ERR_CRYPTO when the blob was altered, moved or sealed to another key.
 * *pt is malloc'd and NUL-terminated (not counted); wipe it (secret_free). */
int seal_decrypt(const uint8_t priv[SEAL_KEY_LEN], const uint8_t *aad, size_t aadlen, const uint8_t *blob, size_t len,
                 uint8_t **pt, size_t *ptlen);

/* The associated data of a sealed record (out: SEAL_REC_AAD_LEN bytes);
 * ERR_INVALID unless uuid has 36 characters. */
int seal_rec_aad(const char *uuid, uint32_t channel, uint64_t ordinal, uint8_t out[SEAL_REC_AAD_LEN]);

#endif
