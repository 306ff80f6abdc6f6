/* Passwords: yescrypt hashing through crypt_r (libxcrypt), verification in
 * constant time, and the policy profiles `mlps` and `nist`. */
#ifndef GH_PASSWORD_H
#define GH_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

struct pw_policy {
	enum pw_profile_id profile;
	int min_length;        /* effective minimum (8 mlps, 15 nist unless configured) */
	int max_age_days;      /* 0 = no expiry (nist default) */
	int history;           /* last N passwords may not be reused */
	const char *blocklist; /* path of a newline-separated blocklist, or NULL */
};

/* Effective policy from the configuration (profile defaults filled in). */
void password_policy_from_config(const struct gh_config *c, struct pw_policy *p);

/* Hash with a fresh yescrypt salt. *hash is malloc'd. */
int password_hash(const char *pw, char **hash);
/* 0 when pw matches hash, ERR_DENIED otherwise (also for a malformed hash).
 * Comparison of the computed hash is constant-time. */
int password_verify(const char *pw, const char *hash);
/* A fixed valid yescrypt hash to verify against for unknown users, so that
 * unknown and known usernames cost the same time. */
const char *password_dummy_hash(void);

/* Check pw against the policy rules that need no history: length, character
 * classes (mlps), blocklist (nist), not equal to the username. Returns 0 or
 * ERR_POLICY with the failed rule in why ("must contain a digit"). */
int password_check_policy(const struct pw_policy *p, const char *pw, const char *username, char *why, size_t whylen);
/* ERR_POLICY when pw matches one of the given previous hashes. */
int password_check_history(const char *pw, char *const *old_hashes, size_t n, char *why, size_t whylen);
/* 1 when a password set at `changed` has expired at `now` under the policy. */
int password_expired(const struct pw_policy *p, int64_t changed, int64_t now);

/* A random temporary password (16 chars) that satisfies both profiles' class
 * rules: upper, lower, digit, special. out must hold len >= 17. */
int password_generate(char *out, size_t len);

#endif
