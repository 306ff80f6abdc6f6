/* Passwords: yescrypt through libxcrypt's crypt_r, constant-time verification,
 * and the two policy profiles (mlps, nist). */
#include <crypt.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth/password.h"
#include "common/err.h"

#define MLPS_MIN_LENGTH   8
#define NIST_MIN_LENGTH   15
#define MLPS_MAX_AGE_DAYS 90
/* Longer input is refused rather than hashed: it is never a real password and
 * bounds the work an unauthenticated client can ask for. */
#define PW_MAX_BYTES 1024

/* "gatehouse-dummy-password-never-valid" hashed with the library's default
 * yescrypt cost, the same cost password_hash() uses. */
static const char DUMMY_HASH[] = "$y$j9T$p2Bw0UqGtardxeA2zsooT1$y/RQbedD1Ceu2hSWLUONpNv6iDUW2TfOxMeQD2co.q/";

/* The classes a generated password draws from. The special characters avoid
 * quotes, backslash, '$' and space so the password survives copy and paste
 * into any shell or form. */
static const char GEN_UPPER[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";
static const char GEN_LOWER[] = "abcdefghijkmnopqrstuvwxyz";
static const char GEN_DIGIT[] = "23456789";
static const char GEN_SPECIAL[] = "!#%+-=?@_.:~";
#define GEN_LENGTH 16

static void set_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

void
password_policy_from_config(const struct gh_config *c, struct pw_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->profile = c->password_policy;
	if (p->profile == PW_PROFILE_NIST) {
		p->min_length = c->password_min_length > 0 ? c->password_min_length : NIST_MIN_LENGTH;
		/* NIST SP 800-63B: no periodic change; the configured age
		 * (whose default is the mlps 90 days) does not apply. */
		p->max_age_days = 0;
	} else {
		p->min_length = c->password_min_length > 0 ? c->password_min_length : MLPS_MIN_LENGTH;
		p->max_age_days = c->password_max_age_days > 0 ? c->password_max_age_days : 0;
	}
	p->history = c->password_history > 0 ? c->password_history : 0;
	p->blocklist =
	        (c->password_blocklist != NULL && c->password_blocklist[0] != '\0') ? c->password_blocklist : NULL;
}

int
password_hash(const char *pw, char **hash)
{
	struct crypt_data *cd = NULL;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;
	char *copy = NULL;
	int r = ERR_INTERNAL;

	if (pw == NULL || hash == NULL)
		return ERR_INVALID;
	*hash = NULL;
	if (strlen(pw) > PW_MAX_BYTES)
		return ERR_INVALID;
	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	/* NULL random bytes: libxcrypt draws the salt from the kernel. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) == NULL) {
		r = ERR_CRYPTO;
		goto out;
	}
	h = crypt_r(pw, setting, cd);
	if (h == NULL || h[0] != '$') {
		r = ERR_CRYPTO;
		goto out;
	}
	if ((copy = strdup(h)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	*hash = copy;
	copy = NULL;
	r = 0;
out:
	if (cd != NULL) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	free(copy);
	return r;
}

int
password_verify(const char *pw, const char *hash)
{
	struct crypt_data *cd = NULL;
	const char *h;
	size_t hlen;
	int r = ERR_DENIED;

	if (pw == NULL || hash == NULL || hash[0] != '$' || strlen(pw) > PW_MAX_BYTES)
		return ERR_DENIED;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return ERR_NOMEM;
	/* crypt_r returns a "*0"/"*1" failure token (or NULL) for a setting it
	 * cannot parse; neither starts with '$', so it cannot match. */
	h = crypt_r(pw, hash, cd);
	if (h == NULL || h[0] != '$')
		goto out;
	hlen = strlen(hash);
	if (strlen(h) != hlen)
		goto out;
	if (CRYPTO_memcmp(h, hash, hlen) == 0)
		r = 0;
out:
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

const char *
password_dummy_hash(void)
{
	return DUMMY_HASH;
}

/* Characters, not bytes: a UTF-8 continuation byte does not count. */
static size_t
utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
contains_nocase(const char *haystack, const char *needle)
{
	size_t nl = strlen(needle);

	if (nl == 0)
		return 0;
	for (; *haystack != '\0'; haystack++)
		if (strncasecmp(haystack, needle, nl) == 0)
			return 1;
	return 0;
}

/* 1 when pw is (case-insensitively) a line of the blocklist file, 0 when not,
 * ERR_IO when the file cannot be read: a configured blocklist that is missing
 * refuses every password rather than silently accepting weak ones. */
static int
blocklist_contains(const char *path, const char *pw)
{
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = ERR_INTERNAL;

	if ((f = fopen(path, "re")) == NULL) {
		r = ERR_IO;
		goto out;
	}
	r = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > 0 && strcasecmp(line, pw) == 0) {
			r = 1;
			break;
		}
	}
	if (r == 0 && ferror(f))
		r = ERR_IO;
out:
	if (line != NULL) {
		explicit_bzero(line, cap);
		free(line);
	}
	if (f != NULL)
		fclose(f);
	return r;
}

int
password_check_policy(const struct pw_policy *p, const char *pw, const char *username, char *why, size_t whylen)
{
	int upper = 0, lower = 0, digit = 0, special = 0;
	const unsigned char *c;
	int r;

	set_why(why, whylen, "%s", "");
	if (p == NULL || pw == NULL)
		return ERR_INVALID;
	if (strlen(pw) > PW_MAX_BYTES) {
		set_why(why, whylen, "longer than %d characters", PW_MAX_BYTES);
		return ERR_POLICY;
	}
	if (utf8_length(pw) < (size_t)(p->min_length > 0 ? p->min_length : 1)) {
		set_why(why, whylen, "shorter than %d characters", p->min_length > 0 ? p->min_length : 1);
		return ERR_POLICY;
	}
	for (c = (const unsigned char *)pw; *c != '\0'; c++) {
		/* Control characters cannot be typed reliably at a login
		 * prompt and break line-oriented input such as --password-stdin. */
		if (*c < 0x20 || *c == 0x7f) {
			set_why(why, whylen, "contains a control character");
			return ERR_POLICY;
		}
		if (*c >= 'A' && *c <= 'Z')
			upper = 1;
		else if (*c >= 'a' && *c <= 'z')
			lower = 1;
		else if (*c >= '0' && *c <= '9')
			digit = 1;
		else
			special = 1;
	}
	if (p->profile == PW_PROFILE_MLPS) {
		if (!upper) {
			set_why(why, whylen, "must contain an upper-case letter");
			return ERR_POLICY;
		}
		if (!lower) {
			set_why(why, whylen, "must contain a lower-case letter");
			return ERR_POLICY;
		}
		if (!digit) {
			set_why(why, whylen, "must contain a digit");
			return ERR_POLICY;
		}
		if (!special) {
			set_why(why, whylen, "must contain a special character");
			return ERR_POLICY;
		}
	}
	/* A one- or two-letter name would refuse half of all passwords as
	 * "containing" it; for those only the name itself is refused. */
	if (username != NULL && username[0] != '\0' &&
	    (strlen(username) >= 3 ? contains_nocase(pw, username) : strcasecmp(pw, username) == 0)) {
		set_why(why, whylen, "contains the user name");
		return ERR_POLICY;
	}
	if (p->blocklist != NULL) {
		r = blocklist_contains(p->blocklist, pw);
		if (r < 0) {
			set_why(why, whylen, "cannot read the password blocklist %s", p->blocklist);
			return r;
		}
		if (r == 1) {
			set_why(why, whylen, "is on the blocklist");
			return ERR_POLICY;
		}
	}
	return 0;
}

int
password_check_history(const char *pw, char *const *old_hashes, size_t n, char *why, size_t whylen)
{
	size_t i;
	int r;

	set_why(why, whylen, "%s", "");
	if (pw == NULL || (n > 0 && old_hashes == NULL))
		return ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (old_hashes[i] == NULL)
			continue;
		r = password_verify(pw, old_hashes[i]);
		if (r == 0) {
			set_why(why, whylen, "was used recently");
			return ERR_POLICY;
		}
		if (r != ERR_DENIED)
			return r;
	}
	return 0;
}

int
password_expired(const struct pw_policy *p, int64_t changed, int64_t now)
{
	if (p == NULL || p->max_age_days <= 0)
		return 0;
	return now - changed >= (int64_t)p->max_age_days * 86400;
}

/* A uniform index below n, by rejection sampling on random bytes. */
static int
random_index(size_t n, size_t *out)
{
	unsigned char b;
	unsigned limit = 256 - (256 % (unsigned)n);

	for (;;) {
		if (RAND_bytes(&b, 1) != 1)
			return ERR_CRYPTO;
		if (b < limit) {
			*out = b % n;
			return 0;
		}
	}
}

int
password_generate(char *out, size_t len)
{
	static const char *const classes[] = {GEN_UPPER, GEN_LOWER, GEN_DIGIT, GEN_SPECIAL};
	char all[sizeof(GEN_UPPER) + sizeof(GEN_LOWER) + sizeof(GEN_DIGIT) + sizeof(GEN_SPECIAL)];
	char buf[GEN_LENGTH + 1];
	size_t i, j, k;
	char t;
	int r = ERR_INTERNAL;

	if (out == NULL || len < GEN_LENGTH + 1)
		return ERR_INVALID;
	snprintf(all, sizeof(all), "%s%s%s%s", GEN_UPPER, GEN_LOWER, GEN_DIGIT, GEN_SPECIAL);
	/* One of each class first, the rest from the whole alphabet, then a
	 * Fisher-Yates shuffle so the class positions are not predictable. */
	for (i = 0; i < GEN_LENGTH; i++) {
		const char *set = i < 4 ? classes[i] : all;
		if ((r = random_index(strlen(set), &k)) != 0)
			goto out;
		buf[i] = set[k];
	}
	for (i = GEN_LENGTH - 1; i > 0; i--) {
		if ((r = random_index(i + 1, &j)) != 0)
			goto out;
		t = buf[i];
		buf[i] = buf[j];
		buf[j] = t;
	}
	buf[GEN_LENGTH] = '\0';
	memcpy(out, buf, GEN_LENGTH + 1);
	r = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	return r;
}
