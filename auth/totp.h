/* TOTP, RFC 6238 via liboath: 6 digits, 30 s steps, +-1 step of skew, and
 * each code accepted at most once per user (the caller stores the last
 * accepted step and passes it in). */
#ifndef GH_TOTP_H
#define GH_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TOTP_SECRET_LEN 20 /* bytes (160 bits, as RFC 4226 recommends) */
#define TOTP_DIGITS     6
#define TOTP_STEP       30

int totp_init(void); /* oath_init, once per process; idempotent */

int totp_secret_generate(uint8_t *secret, size_t len);
/* Base32 (RFC 4648, no padding) <-> raw. Decode accepts lower case and
 * spaces; *raw is malloc'd, wipe and free it. */
int totp_base32_encode(const uint8_t *raw, size_t len, char **b32);
int totp_base32_decode(const char *b32, uint8_t **raw, size_t *len);

/* Verify a 6-digit code at time now with +-1 step. On success returns 0 and
 * the matching step in *step. A code whose step is <= last_step is refused
 * with ERR_REPLAY; a wrong code ERR_DENIED; a malformed code ERR_INVALID. */
int totp_verify(const uint8_t *secret, size_t len, const char *code, time_t now, int64_t last_step, int64_t *step);
/* The code for time t (tests and enrolment checks). buf >= 7 bytes. */
int totp_code(const uint8_t *secret, size_t len, time_t t, char *buf, size_t buflen);

/* otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * with ISSUER and ACCOUNT percent-encoded. malloc'd. */
int totp_uri(const char *issuer, const char *account, const char *b32, char **uri);

#endif
