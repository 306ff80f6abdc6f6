/* Password hashing, verification and the mlps / nist policy profiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/password.h"
#include "common/config.h"
#include "common/err.h"

static void
test_hash_verify(void **state)
{
	char *h1 = NULL, *h2 = NULL;

	(void)state;
	assert_int_equal(password_hash("Correct-Horse-9", &h1), 0);
	assert_non_null(h1);
	assert_true(strncmp(h1, "$y$", 3) == 0);
	assert_int_equal(password_verify("Correct-Horse-9", h1), 0);
	assert_int_equal(password_verify("correct-Horse-9", h1), ERR_DENIED);
	assert_int_equal(password_verify("Correct-Horse-", h1), ERR_DENIED);
	assert_int_equal(password_verify("", h1), ERR_DENIED);
	/* A fresh salt each time. */
	assert_int_equal(password_hash("Correct-Horse-9", &h2), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(password_verify("Correct-Horse-9", h2), 0);
	free(h1);
	free(h2);
}

static void
test_verify_malformed(void **state)
{
	static const char *const bad[] = {
	        "",
	        "*",
	        "*0",
	        "!",
	        "plain-text-password",
	        "$y$",
	        "$y$j9T$",
	        "$y$zzz$salt$hash",
	        "$unknown$abc$def",
	        /* DES: a two-character salt; refused even though crypt_r would compute it. */
	        "abJnggxhB/yWI",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(password_verify("plain-text-password", bad[i]), ERR_DENIED);
	assert_int_equal(password_verify(NULL, password_dummy_hash()), ERR_DENIED);
	assert_int_equal(password_verify("x", NULL), ERR_DENIED);
}

static void
test_dummy_hash(void **state)
{
	const char *d = password_dummy_hash();

	(void)state;
	assert_non_null(d);
	assert_true(strncmp(d, "$y$", 3) == 0);
	/* It is a real hash (crypt_r accepts it) that nothing typed matches. */
	assert_int_equal(password_verify("gatehouse-dummy-password-never-valid", d), 0);
	assert_int_equal(password_verify("admin", d), ERR_DENIED);
}

struct policy_case {
	enum pw_profile_id profile;
	const char *pw;
	const char *user;
	int expect;
	const char *why; /* substring of the reason, NULL when accepted */
};

static const struct policy_case policy_cases[] = {
        /* mlps */
        {PW_PROFILE_MLPS, "Abcdef1!", "alice", 0, NULL},
        {PW_PROFILE_MLPS, "Abcde1!", "alice", ERR_POLICY, "shorter than 8 characters"},
        {PW_PROFILE_MLPS, "", "alice", ERR_POLICY, "shorter than 8 characters"},
        {PW_PROFILE_MLPS, "abcdefg1!", "alice", ERR_POLICY, "upper-case"},
        {PW_PROFILE_MLPS, "ABCDEFG1!", "alice", ERR_POLICY, "lower-case"},
        {PW_PROFILE_MLPS, "Abcdefgh!", "alice", ERR_POLICY, "must contain a digit"},
        {PW_PROFILE_MLPS, "Abcdefgh1", "alice", ERR_POLICY, "must contain a special character"},
        {PW_PROFILE_MLPS, "Xalice1!yz", "alice", ERR_POLICY, "user name"},
        {PW_PROFILE_MLPS, "XALICE1!yz", "alice", ERR_POLICY, "user name"},
        {PW_PROFILE_MLPS, "Abc\tdef1!", "alice", ERR_POLICY, "control character"},
        /* Very short names only refuse themselves, not every password holding the letters. */
        {PW_PROFILE_MLPS, "Calendar1!", "al", 0, NULL},
        {PW_PROFILE_MLPS, "Calendar1!", "", 0, NULL},
        {PW_PROFILE_MLPS, "Calendar1!", "dar", ERR_POLICY, "user name"},
        {PW_PROFILE_MLPS, "Al", "al", ERR_POLICY, "shorter"},
        /* A multi-byte character counts once and as a special character. */
        {PW_PROFILE_MLPS, "Abcde1\xc3\xa9", "alice", ERR_POLICY, "shorter than 8 characters"},
        {PW_PROFILE_MLPS, "Abcdef1\xc3\xa9", "alice", 0, NULL},
        /* nist: length, no composition rule */
        {PW_PROFILE_NIST, "correcthorsebattery", "alice", 0, NULL},
        {PW_PROFILE_NIST, "correct horse b", "alice", 0, NULL},
        {PW_PROFILE_NIST, "shortpassword1", "alice", ERR_POLICY, "shorter than 15 characters"},
        {PW_PROFILE_NIST, "my name is alice ok", "alice", ERR_POLICY, "user name"},
        {PW_PROFILE_NIST, "Password12345678", "alice", ERR_POLICY, "is on the blocklist"},
        {PW_PROFILE_NIST, "PASSWORD12345678", "alice", ERR_POLICY, "is on the blocklist"},
        {PW_PROFILE_NIST, "qwertyuiopasdfgh", "alice", ERR_POLICY, "is on the blocklist"},
        {PW_PROFILE_NIST, "qwertyuiopasdfghj", "alice", 0, NULL},
};

static char blocklist_path[] = "/tmp/gh-test-blocklist-XXXXXX";

static int
setup_blocklist(void **state)
{
	static const char content[] = "password12345678\r\nqwertyuiopasdfgh\n\n123456789012345";
	int fd = mkstemp(blocklist_path);

	(void)state;
	if (fd < 0)
		return -1;
	if (write(fd, content, sizeof(content) - 1) != (ssize_t)(sizeof(content) - 1)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
teardown_blocklist(void **state)
{
	(void)state;
	unlink(blocklist_path);
	return 0;
}

static void
policy_for(enum pw_profile_id profile, struct pw_policy *p)
{
	struct gh_config c;

	memset(&c, 0, sizeof(c));
	c.password_policy = profile;
	c.password_max_age_days = 90;
	c.password_history = 5;
	c.password_blocklist = profile == PW_PROFILE_NIST ? blocklist_path : NULL;
	password_policy_from_config(&c, p);
}

static void
test_policy_table(void **state)
{
	struct pw_policy p;
	char why[128];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(policy_cases) / sizeof(policy_cases[0]); i++) {
		const struct policy_case *t = &policy_cases[i];
		policy_for(t->profile, &p);
		r = password_check_policy(&p, t->pw, t->user, why, sizeof(why));
		if (r != t->expect)
			fail_msg("case %zu (\"%s\"): got %d (%s), want %d", i, t->pw, r, why, t->expect);
		if (t->why != NULL && strstr(why, t->why) == NULL)
			fail_msg("case %zu (\"%s\"): reason \"%s\" does not name \"%s\"", i, t->pw, why, t->why);
		if (t->why == NULL)
			assert_string_equal(why, "");
	}
}

static void
test_policy_from_config(void **state)
{
	struct gh_config c;
	struct pw_policy p;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.password_policy = PW_PROFILE_MLPS;
	c.password_max_age_days = 90;
	c.password_history = 5;
	password_policy_from_config(&c, &p);
	assert_int_equal(p.profile, PW_PROFILE_MLPS);
	assert_int_equal(p.min_length, 8);
	assert_int_equal(p.max_age_days, 90);
	assert_int_equal(p.history, 5);
	assert_null(p.blocklist);

	c.password_policy = PW_PROFILE_NIST;
	c.password_blocklist = (char *)"";
	password_policy_from_config(&c, &p);
	assert_int_equal(p.min_length, 15);
	assert_int_equal(p.max_age_days, 0); /* nist: no expiry */
	assert_null(p.blocklist);

	c.password_min_length = 20;
	c.password_blocklist = (char *)"/x/list";
	password_policy_from_config(&c, &p);
	assert_int_equal(p.min_length, 20);
	assert_string_equal(p.blocklist, "/x/list");
}

static void
test_configured_min_length(void **state)
{
	struct gh_config c;
	struct pw_policy p;
	char why[128];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.password_policy = PW_PROFILE_MLPS;
	c.password_min_length = 12;
	password_policy_from_config(&c, &p);
	assert_int_equal(password_check_policy(&p, "Abcdefgh1!x", "bob", why, sizeof(why)), ERR_POLICY);
	assert_string_equal(why, "shorter than 12 characters");
	assert_int_equal(password_check_policy(&p, "Abcdefgh1!xy", "bob", why, sizeof(why)), 0);
}

static void
test_blocklist_missing_fails_closed(void **state)
{
	struct pw_policy p;
	char why[128];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.profile = PW_PROFILE_NIST;
	p.min_length = 15;
	p.blocklist = "/nonexistent/gatehouse-blocklist";
	assert_int_equal(password_check_policy(&p, "a perfectly fine passphrase", "bob", why, sizeof(why)), ERR_IO);
	assert_non_null(strstr(why, "blocklist"));
}

static void
test_history(void **state)
{
	char *old[3] = {NULL, NULL, NULL};
	char why[128];

	(void)state;
	assert_int_equal(password_hash("First-pass1", &old[0]), 0);
	assert_int_equal(password_hash("Second-pass2", &old[1]), 0);
	assert_int_equal(password_hash("Third-pass3", &old[2]), 0);
	assert_int_equal(password_check_history("Second-pass2", old, 3, why, sizeof(why)), ERR_POLICY);
	assert_string_equal(why, "was used recently");
	assert_int_equal(password_check_history("Third-pass3", old, 3, why, sizeof(why)), ERR_POLICY);
	/* Only the hashes handed in count: the caller passes the last N. */
	assert_int_equal(password_check_history("Third-pass3", old, 2, why, sizeof(why)), 0);
	assert_int_equal(password_check_history("Fourth-pass4", old, 3, why, sizeof(why)), 0);
	assert_int_equal(password_check_history("Fourth-pass4", NULL, 0, why, sizeof(why)), 0);
	free(old[0]);
	free(old[1]);
	free(old[2]);
}

static void
test_expiry(void **state)
{
	struct pw_policy p;
	const int64_t day = 86400, t0 = 1700000000;

	(void)state;
	policy_for(PW_PROFILE_MLPS, &p);
	assert_int_equal(password_expired(&p, t0, t0), 0);
	assert_int_equal(password_expired(&p, t0, t0 + 90 * day - 1), 0);
	assert_int_equal(password_expired(&p, t0, t0 + 90 * day), 1);
	assert_int_equal(password_expired(&p, t0, t0 + 400 * day), 1);
	policy_for(PW_PROFILE_NIST, &p);
	assert_int_equal(password_expired(&p, t0, t0 + 4000 * day), 0);
}

static void
test_generate(void **state)
{
	struct pw_policy mlps;
	char pw[17], prev[17] = "", why[128];
	int i;

	(void)state;
	policy_for(PW_PROFILE_MLPS, &mlps);
	assert_int_equal(password_generate(pw, 16), ERR_INVALID);
	for (i = 0; i < 200; i++) {
		assert_int_equal(password_generate(pw, sizeof(pw)), 0);
		assert_int_equal(strlen(pw), 16);
		if (password_check_policy(&mlps, pw, "admin", why, sizeof(why)) != 0)
			fail_msg("generated \"%s\" refused: %s", pw, why);
		assert_string_not_equal(pw, prev);
		memcpy(prev, pw, sizeof(pw));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hash_verify),
	        cmocka_unit_test(test_verify_malformed),
	        cmocka_unit_test(test_dummy_hash),
	        cmocka_unit_test_setup_teardown(test_policy_table, setup_blocklist, teardown_blocklist),
	        cmocka_unit_test(test_policy_from_config),
	        cmocka_unit_test(test_configured_min_length),
	        cmocka_unit_test(test_blocklist_missing_fails_closed),
	        cmocka_unit_test(test_history),
	        cmocka_unit_test(test_expiry),
	        cmocka_unit_test(test_generate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
