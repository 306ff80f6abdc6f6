/* gatehouse.conf: defaults, every kind of error naming file:line and key,
 * and the generated default file loading back to the defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/err.h"

static char path[64];

static int
setup(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/gh-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	return 0;
}

static void
write_conf(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
test_defaults(void **state)
{
	struct gh_config c;

	config_defaults(&c);
	assert_string_equal(c.listen_address, "0.0.0.0");
	assert_int_equal(c.port, 2222);
	assert_string_equal(c.host_key, "ssh_host_ed25519_key");
	assert_int_equal(c.login_grace_time, 60);
	assert_int_equal(c.max_auth_tries, 6);
	assert_int_equal(c.idle_timeout, 1800);
	assert_int_equal(c.shutdown_grace, 30);
	assert_int_equal(c.password_policy, PW_PROFILE_MLPS);
	assert_int_equal(c.password_min_length, 0);
	assert_int_equal(c.password_max_age_days, 90);
	assert_int_equal(c.password_history, 5);
	assert_string_equal(c.password_blocklist, "");
	assert_int_equal(c.lockout_threshold, 5);
	assert_int_equal(c.lockout_minutes, 30);
	assert_int_equal(c.account_inactive_days, 0);
	assert_string_equal(c.timezone, "UTC");
	assert_string_equal(c.totp_issuer, "Gatehouse");
	assert_string_equal(c.pam_service, "gatehouse");
	assert_string_equal(c.pam_confdir, "");
	assert_int_equal(c.target_connect_timeout, 10);
	assert_int_equal(c.recording_fail_open, 0);
	assert_int_equal(c.audit_fail_open, 0);
	assert_string_equal(c.audit_jsonl, "");
	assert_int_equal(c.audit_syslog, 1);
	assert_int_equal(c.retention_days, 180);
	assert_int_equal(c.bench_totp_off, 0);
	config_free(&c);
	config_free(NULL);
}

static void
test_values_parsed(void **state)
{
	struct gh_config c;
	char err[256];

	write_conf("# comment\n"
	           "\n"
	           "port = 2022\n"
	           "listen_address = 127.0.0.1\n"
	           "password_policy = nist\n"
	           "recording_failure = open\n"
	           "audit_failure = closed\n"
	           "audit_syslog = no\n"
	           "bench_allow_no_totp = yes\n"
	           "timezone = Asia/Shanghai\n"
	           "audit_jsonl = /var/log/gh audit.jsonl\n"
	           "port = 2023\n");
	config_defaults(&c);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(c.port, 2023); /* the last one wins */
	assert_string_equal(c.listen_address, "127.0.0.1");
	assert_int_equal(c.password_policy, PW_PROFILE_NIST);
	assert_int_equal(c.recording_fail_open, 1);
	assert_int_equal(c.audit_fail_open, 0);
	assert_int_equal(c.audit_syslog, 0);
	assert_int_equal(c.bench_totp_off, 1);
	assert_string_equal(c.timezone, "Asia/Shanghai");
	assert_string_equal(c.audit_jsonl, "/var/log/gh audit.jsonl");
	assert_int_equal(c.max_auth_tries, 6); /* untouched keep defaults */
	config_free(&c);
}

static void
test_empty_file(void **state)
{
	struct gh_config c;
	char err[256];

	write_conf("");
	config_defaults(&c);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.port, 2222);
	config_free(&c);
}

struct bad_case {
	const char *text;
	const char *msg; /* expected after "PATH:" */
};

static void
test_errors(void **state)
{
	static const struct bad_case cases[] = {
	        {"port = 2222\nfoo = 1\n", "2: unknown key 'foo'"},
	        {"\n\nport = 0\n", "3: key 'port': must be an integer between 1 and 65535"},
	        {"port = 65536\n", "1: key 'port': must be an integer between 1 and 65535"},
	        {"port = 22x\n", "1: key 'port': must be an integer between 1 and 65535"},
	        {"port =\n", "1: key 'port': must be an integer between 1 and 65535"},
	        {"port = 99999999999999999999\n", "1: key 'port': must be an integer between 1 and 65535"},
	        {"retention_days = 0\n", "1: key 'retention_days': must be an integer between 1 and 36500"},
	        {"audit_syslog = maybe\n", "1: key 'audit_syslog': must be yes or no"},
	        {"password_policy = strict\n", "1: key 'password_policy': must be mlps or nist"},
	        {"# x\nrecording_failure = sometimes\n", "2: key 'recording_failure': must be closed or open"},
	        {"[daemon]\nport = 22\n", "2: sections are not used"},
	        {"port 22\n", "1: expected 'key = value'"},
	        {"port 22\nfoo = 1\n", "1: expected 'key = value'"},
	        {"foo = 1\nport 22\n", "1: unknown key 'foo'"},
	        {"max_startups = 10\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = 10:30\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = 10:30:100:5\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = 20:30:10\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = 0:30:100\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = 10:0:100\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = 10:101:100\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = 10:30:x\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = 10: 30:100\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = -1:30:100\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = 10:30:100000000000000000000\n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"max_startups = \n",
	         "1: key 'max_startups': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100"},
	        {"idle_timeout = -1\n", "1: key 'idle_timeout': must be an integer between 0 and 604800"},
	        {"timezone = Mars/Olympus_Mons\n",
	         "1: key 'timezone': unknown time zone 'Mars/Olympus_Mons' (not in /usr/share/zoneinfo)"},
	        {"timezone = ../../etc/passwd\n",
	         "1: key 'timezone': unknown time zone '../../etc/passwd' (not in /usr/share/zoneinfo)"},
	};
	struct gh_config c;
	char err[256], want[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_conf(cases[i].text);
		config_defaults(&c);
		assert_int_equal(config_load(path, &c, err, sizeof(err)), ERR_INVALID);
		snprintf(want, sizeof(want), "%s:%s", path, cases[i].msg);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, err, want);
		config_free(&c);
	}
}

/* max_startups = start:rate:full and the source penalty keys. */
static void
test_preauth_limits(void **state)
{
	struct gh_config c;
	char err[256];

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.max_startups[0], 10);
	assert_int_equal(c.max_startups[1], 30);
	assert_int_equal(c.max_startups[2], 100);
	assert_int_equal(c.max_startups_per_source, 16);
	assert_int_equal(c.max_sessions, 1024);
	assert_int_equal(c.penalty_failures, 20);
	assert_int_equal(c.penalty_window, 600);
	assert_int_equal(c.penalty_time, 900);
	/* The hash gate (proxy/hashgate.c): 0 = half the CPUs. */
	assert_int_equal(c.hash_concurrency, 0);
	assert_int_equal(c.hash_source_rate, 60);
	assert_int_equal(c.hash_source_burst, 20);
	write_conf("hash_source_rate = 0\n");
	assert_int_equal(config_load(path, &c, err, sizeof(err)), ERR_INVALID);
	write_conf("hash_concurrency = 257\n");
	assert_int_equal(config_load(path, &c, err, sizeof(err)), ERR_INVALID);
	config_free(&c);
	config_defaults(&c);
	write_conf("max_startups = 5:100:5\npenalty_time = 0\n");
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.max_startups[0], 5);
	assert_int_equal(c.max_startups[1], 100);
	assert_int_equal(c.max_startups[2], 5);
	assert_int_equal(c.penalty_time, 0);
	config_free(&c);
}

static void
test_long_line_and_missing_file(void **state)
{
	struct gh_config c;
	char err[256], text[600], want[128];

	memset(text, 'a', sizeof(text));
	memcpy(text, "totp_issuer = ", 14);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	write_conf(text);
	config_defaults(&c);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), ERR_INVALID);
	snprintf(want, sizeof(want), "%s:1: line too long", path);
	assert_string_equal(err, want);
	config_free(&c);

	config_defaults(&c);
	assert_int_equal(config_load("/tmp/gh-no-such-dir/gatehouse.conf", &c, err, sizeof(err)), ERR_IO);
	assert_non_null(strstr(err, "/tmp/gh-no-such-dir/gatehouse.conf"));
	config_free(&c);
}

static void
test_write_default_round_trip(void **state)
{
	struct gh_config c, d;
	char err[256], line[512];
	FILE *f = fopen(path, "w");
	int documented_port = 0, keys = 0;

	assert_non_null(f);
	assert_int_equal(config_write_default(f), 0);
	assert_int_equal(fclose(f), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		assert_true(line[0] == '#' || line[0] == '\n'); /* nothing active */
		if (strcmp(line, "# port = 2222\n") == 0)
			documented_port = 1;
		if (strncmp(line, "# ", 2) == 0 && strchr(line + 2, ' ') != NULL &&
		    strncmp(strchr(line + 2, ' '), " =", 2) == 0)
			keys++;
	}
	fclose(f);
	assert_true(documented_port);
	assert_int_equal(keys, 44); /* one per field of struct gh_config */
	/* Everything commented: loads to the defaults. */
	config_defaults(&c);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	config_defaults(&d);
	assert_int_equal(c.port, d.port);
	assert_string_equal(c.totp_issuer, d.totp_issuer);
	config_free(&c);
	config_free(&d);

	/* Uncommenting every default line gives a valid file with the same values. */
	f = fopen(path, "w");
	assert_non_null(f);
	FILE *mem = tmpfile();
	assert_non_null(mem);
	assert_int_equal(config_write_default(mem), 0);
	rewind(mem);
	while (fgets(line, sizeof(line), mem) != NULL) {
		if (strncmp(line, "# ", 2) == 0 && strchr(line + 2, ' ') != NULL &&
		    strncmp(strchr(line + 2, ' '), " =", 2) == 0)
			fputs(line + 2, f);
	}
	fclose(mem);
	assert_int_equal(fclose(f), 0);
	config_defaults(&c);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.port, 2222);
	assert_int_equal(c.retention_days, 180);
	assert_int_equal(c.audit_syslog, 1);
	assert_string_equal(c.pam_confdir, "");
	assert_string_equal(c.timezone, "UTC");
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_values_parsed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_preauth_limits, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_long_line_and_missing_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_write_default_round_trip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
