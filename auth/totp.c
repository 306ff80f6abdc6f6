/* TOTP (RFC 6238) through liboath, with per-user replay protection: the caller
 * keeps the last accepted time step and a code for that step or an earlier
 * one is refused. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth/totp.h"
#include "common/err.h"

#define TOTP_WINDOW 1 /* steps of clock skew accepted either way */

static pthread_once_t totp_once = PTHREAD_ONCE_INIT;
static int totp_init_rc = ERR_INTERNAL;

static void
totp_init_once(void)
{
	totp_init_rc = oath_init() == OATH_OK ? 0 : ERR_INTERNAL;
}

int
totp_init(void)
{
	pthread_once(&totp_once, totp_init_once);
	return totp_init_rc;
}

int
totp_secret_generate(uint8_t *secret, size_t len)
{
	if (secret == NULL || len == 0 || len > 1024)
		return ERR_INVALID;
	if (RAND_bytes(secret, (int)len) != 1)
		return ERR_CRYPTO;
	return 0;
}

int
totp_base32_encode(const uint8_t *raw, size_t len, char **b32)
{
	char *enc = NULL;
	size_t enclen = 0;
	int r = ERR_INTERNAL;

	if (raw == NULL || len == 0 || b32 == NULL)
		return ERR_INVALID;
	*b32 = NULL;
	if ((r = totp_init()) != 0)
		return r;
	if (oath_base32_encode((const char *)raw, len, &enc, &enclen) != OATH_OK) {
		r = ERR_INTERNAL;
		goto out;
	}
	/* Authenticator apps and otpauth:// URIs expect no padding. */
	while (enclen > 0 && enc[enclen - 1] == '=')
		enc[--enclen] = '\0';
	*b32 = enc;
	enc = NULL;
	r = 0;
out:
	if (enc != NULL) {
		explicit_bzero(enc, enclen);
		free(enc);
	}
	return r;
}

int
totp_base32_decode(const char *b32, uint8_t **raw, size_t *len)
{
	char *norm = NULL, *dec = NULL;
	size_t i, n = 0, cap, declen = 0;
	int r = ERR_INTERNAL;

	if (b32 == NULL || raw == NULL || len == NULL)
		return ERR_INVALID;
	*raw = NULL;
	*len = 0;
	if ((r = totp_init()) != 0)
		return r;
	/* Normalise what people paste: spaces (apps group the secret in
	 * fours), lower case, and padding present or absent. */
	cap = strlen(b32) + 8;
	if ((norm = calloc(1, cap + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	for (i = 0; b32[i] != '\0'; i++) {
		char c = b32[i];
		if (c == ' ' || c == '\t' || c == '=')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) {
			r = ERR_INVALID;
			goto out;
		}
		norm[n++] = c;
	}
	if (n == 0) {
		r = ERR_INVALID;
		goto out;
	}
	while (n % 8 != 0)
		norm[n++] = '=';
	if (oath_base32_decode(norm, n, &dec, &declen) != OATH_OK || declen == 0) {
		r = ERR_INVALID;
		goto out;
	}
	*raw = (uint8_t *)dec;
	*len = declen;
	dec = NULL;
	r = 0;
out:
	if (norm != NULL) {
		explicit_bzero(norm, cap + 1);
		free(norm);
	}
	if (dec != NULL) {
		explicit_bzero(dec, declen);
		free(dec);
	}
	return r;
}

/* liboath's comparison callback: 0 on a match, compared in constant time so
 * the time taken does not reveal how many leading digits were right. */
static int
totp_code_cmp(void *handle, const char *test_otp)
{
	const char *code = handle;

	if (strlen(test_otp) != TOTP_DIGITS)
		return 1;
	return CRYPTO_memcmp(code, test_otp, TOTP_DIGITS) != 0;
}

int
totp_verify(const uint8_t *secret, size_t len, const char *code, time_t now, int64_t last_step, int64_t *step)
{
	int pos = 0;
	uint64_t counter = 0;
	size_t i;
	int rc, r;

	if (secret == NULL || len == 0 || code == NULL || step == NULL)
		return ERR_INVALID;
	for (i = 0; code[i] != '\0'; i++)
		if (i >= TOTP_DIGITS || code[i] < '0' || code[i] > '9')
			return ERR_INVALID;
	if (i != TOTP_DIGITS)
		return ERR_INVALID;
	if ((r = totp_init()) != 0)
		return r;
	rc = oath_totp_validate3_callback((const char *)secret, len, now, TOTP_STEP, 0, TOTP_DIGITS, TOTP_WINDOW, &pos,
	                                  &counter, totp_code_cmp, (void *)code);
	if (rc == OATH_INVALID_OTP)
		return ERR_DENIED;
	if (rc < 0)
		return ERR_INTERNAL;
	if ((int64_t)counter <= last_step)
		return ERR_REPLAY;
	*step = (int64_t)counter;
	return 0;
}

int
totp_code(const uint8_t *secret, size_t len, time_t t, char *buf, size_t buflen)
{
	char otp[TOTP_DIGITS + 1];
	int r;

	if (secret == NULL || len == 0 || buf == NULL || buflen < TOTP_DIGITS + 1)
		return ERR_INVALID;
	if ((r = totp_init()) != 0)
		return r;
	if (oath_totp_generate((const char *)secret, len, t, TOTP_STEP, 0, TOTP_DIGITS, otp) != OATH_OK)
		return ERR_INTERNAL;
	memcpy(buf, otp, TOTP_DIGITS + 1);
	explicit_bzero(otp, sizeof(otp));
	return 0;
}

/* RFC 3986 unreserved characters pass, everything else is %XX. */
static char *
percent_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i, o = 0;
	char *out;

	if ((out = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0x0f];
		}
	}
	out[o] = '\0';
	return out;
}

int
totp_uri(const char *issuer, const char *account, const char *b32, char **uri)
{
	char *ei = NULL, *ea = NULL, *u = NULL;
	const char *c;
	int n;
	int r = ERR_INTERNAL;

	if (account == NULL || account[0] == '\0' || b32 == NULL || b32[0] == '\0' || uri == NULL)
		return ERR_INVALID;
	*uri = NULL;
	/* The secret goes into the URI verbatim, so it must be plain
	 * unpadded base32. */
	for (c = b32; *c != '\0'; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= '2' && *c <= '7')))
			return ERR_INVALID;
	if (issuer == NULL)
		issuer = "";
	if ((ei = percent_encode(issuer)) == NULL || (ea = percent_encode(account)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if (issuer[0] != '\0')
		n = asprintf(&u, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d", ei, ea,
		             b32, ei, TOTP_DIGITS, TOTP_STEP);
	else
		n = asprintf(&u, "otpauth://totp/%s?secret=%s&algorithm=SHA1&digits=%d&period=%d", ea, b32, TOTP_DIGITS,
		             TOTP_STEP);
	if (n < 0) {
		u = NULL;
		r = ERR_NOMEM;
		goto out;
	}
	*uri = u;
	r = 0;
out:
	free(ei);
	free(ea);
	return r;
}
