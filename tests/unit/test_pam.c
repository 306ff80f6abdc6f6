/* PAM backend against a private PAM configuration directory (pam_start_confdir):
 * the system's /etc/pam.d is never read or touched. Stacks are built from
 * modules that need no accounts: pam_permit, pam_deny, pam_debug (forces a
 * chosen result), pam_echo (an informational message) and pam_exec with
 * expose_authtok (a script that sees the password our conversation gave). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/pam.h"
#include "common/err.h"

static char confdir[256];

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f = NULL;

	snprintf(path, sizeof(path), "%s/%s", confdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	char script[700];

	snprintf(confdir, sizeof(confdir), "%s/gh-pam-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(confdir) == NULL)
		return -1;
	/* The script exits 0 only for the exact password, NUL-terminated as
	 * pam_exec writes it. */
	snprintf(script, sizeof(script),
	         "#!/bin/bash\n"
	         "IFS= read -r -d '' pw\n"
	         "[ \"$pw\" = 'S3cret!pw' ] && [ \"$PAM_USER\" = alice ]\n");
	write_file("check-pw", script, 0700);

	write_file("gh-permit", "auth required pam_permit.so\naccount required pam_permit.so\n", 0644);
	write_file("gh-deny", "auth required pam_deny.so\naccount required pam_permit.so\n", 0644);
	/* Absolute module paths work as well as names found by the loader. */
	write_file("gh-abs",
	           "auth required /usr/lib/x86_64-linux-gnu/security/pam_permit.so\n"
	           "account required /usr/lib/x86_64-linux-gnu/security/pam_deny.so\n",
	           0644);
	snprintf(script, sizeof(script),
	         "auth optional pam_echo.so informational message for nobody\n"
	         "auth [success=1 default=ignore] pam_exec.so quiet expose_authtok %s/check-pw\n"
	         "auth requisite pam_deny.so\n"
	         "auth required pam_permit.so\n"
	         "account required pam_permit.so\n",
	         confdir);
	write_file("gh-exec", script, 0644);
	write_file("gh-newtok", "auth required pam_permit.so\naccount required pam_debug.so acct=new_authtok_reqd\n",
	           0644);
	write_file("gh-acctexp", "auth required pam_permit.so\naccount required pam_debug.so acct=acct_expired\n",
	           0644);
	write_file("gh-authexp", "auth required pam_permit.so\naccount required pam_debug.so acct=authtok_expired\n",
	           0644);
	write_file("gh-unknown", "auth required pam_debug.so auth=user_unknown\naccount required pam_permit.so\n",
	           0644);
	write_file("gh-syserr", "auth required pam_debug.so auth=system_err\naccount required pam_permit.so\n", 0644);
	return 0;
}

static int
teardown(void **state)
{
	return nftw(confdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void
test_permit_allows(void **state)
{
	assert_int_equal(pam_check_password("gh-permit", confdir, "alice", "anything"), 0);
	assert_int_equal(pam_check_password("gh-abs", confdir, "alice", "anything"), ERR_DENIED);
}

static void
test_deny_denies(void **state)
{
	assert_int_equal(pam_check_password("gh-deny", confdir, "alice", "anything"), ERR_DENIED);
}

/* The conversation must hand the module the very password we were given,
 * and survive informational messages on the way. */
static void
test_password_reaches_module(void **state)
{
	assert_int_equal(pam_check_password("gh-exec", confdir, "alice", "S3cret!pw"), 0);
	assert_int_equal(pam_check_password("gh-exec", confdir, "alice", "S3cret!pX"), ERR_DENIED);
	assert_int_equal(pam_check_password("gh-exec", confdir, "alice", "S3cret!pw "), ERR_DENIED);
	assert_int_equal(pam_check_password("gh-exec", confdir, "bob", "S3cret!pw"), ERR_DENIED);
}

static void
test_expiry_maps_to_expired(void **state)
{
	assert_int_equal(pam_check_password("gh-newtok", confdir, "alice", "x"), ERR_EXPIRED);
	assert_int_equal(pam_check_password("gh-acctexp", confdir, "alice", "x"), ERR_EXPIRED);
	assert_int_equal(pam_check_password("gh-authexp", confdir, "alice", "x"), ERR_EXPIRED);
}

static void
test_unknown_and_errors(void **state)
{
	assert_int_equal(pam_check_password("gh-unknown", confdir, "alice", "x"), ERR_DENIED);
	assert_int_equal(pam_check_password("gh-syserr", confdir, "alice", "x"), ERR_INTERNAL);
}

/* A service missing from the private directory must not fall back to the
 * system's configuration, and must never succeed. */
static void
test_missing_service_fails(void **state)
{
	int r = pam_check_password("gh-no-such-service", confdir, "alice", "x");

	assert_int_not_equal(r, 0);
	assert_int_not_equal(r, ERR_EXPIRED);
}

static void
test_bad_arguments(void **state)
{
	assert_int_not_equal(pam_check_password(NULL, confdir, "alice", "x"), 0);
	assert_int_not_equal(pam_check_password("gh-permit", confdir, NULL, "x"), 0);
	assert_int_not_equal(pam_check_password("gh-permit", confdir, "", "x"), 0);
	assert_int_not_equal(pam_check_password("gh-permit", confdir, "alice", NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_permit_allows),           cmocka_unit_test(test_deny_denies),
	        cmocka_unit_test(test_password_reaches_module), cmocka_unit_test(test_expiry_maps_to_expired),
	        cmocka_unit_test(test_unknown_and_errors),      cmocka_unit_test(test_missing_service_fails),
	        cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
