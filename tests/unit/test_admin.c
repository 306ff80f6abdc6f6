/* The admin command table as the role shell will drive it: role filtering
 * (and its audit event), own-only views for superadmins and operators,
 * longest-match dispatch, option errors, public key parsing and the
 * escaping of table output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin/cmd.h"
#include "common/err.h"

static char dir[64];
static struct store *st;
static char *outbuf, *errbuf;
static size_t outlen, errlen;
static struct admin_ctx ctx;

static int
setup(void **state)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/gh-admin-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gatehouse.db", dir);
	assert_int_equal(store_open(path, 1, &st), 0);
	return 0;
}

static int
teardown(void **state)
{
	char p[160];
	const char *suffix[] = {"", "-wal", "-shm"};

	store_close(st);
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/gatehouse.db%s", dir, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

/* A role-shell context: the caller owns the store. */
static void
ctx_begin(enum user_role role, const char *actor, int local)
{
	memset(&ctx, 0, sizeof(ctx));
	ctx.data_dir = dir;
	ctx.st = st;
	config_defaults(&ctx.cfg);
	ctx.cfg_loaded = 1;
	ctx.actor = actor;
	ctx.source = "127.0.0.1:50000";
	ctx.local_root = local;
	ctx.role = role;
	ctx.prog = "gatehouse-admin";
	ctx.out = open_memstream(&outbuf, &outlen);
	ctx.err = open_memstream(&errbuf, &errlen);
	assert_non_null(ctx.out);
	assert_non_null(ctx.err);
}

static void
ctx_end(void)
{
	fclose(ctx.out);
	fclose(ctx.err);
	admin_ctx_release(&ctx);
	assert_ptr_equal(ctx.st, st); /* not the context's to close */
}

static void
ctx_free_bufs(void)
{
	free(outbuf);
	free(errbuf);
	outbuf = errbuf = NULL;
}

static int
run(int argc, ...)
{
	char *argv[16];
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	return admin_dispatch(&ctx, argc, argv);
}

static int64_t
count_sql(const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void
test_operator_refused_admin_commands(void **state)
{
	int64_t before = count_sql("SELECT count(*) FROM audit WHERE type = 'command.denied'");

	ctx_begin(ROLE_OPERATOR, "olga", 0);
	assert_int_equal(run(2, "user", "list"), ADMIN_EXIT_FAIL);
	assert_int_equal(run(3, "group", "add", "x"), ADMIN_EXIT_FAIL);
	assert_int_equal(run(2, "audit", "verify"), ADMIN_EXIT_FAIL);
	assert_int_equal(run(1, "init"), ADMIN_EXIT_FAIL);
	ctx_end();
	assert_non_null(strstr(errbuf, "'user list' is not permitted for role operator"));
	assert_string_equal(outbuf, "");
	assert_int_equal(count_sql("SELECT count(*) FROM audit WHERE type = 'command.denied' AND actor = 'olga'"
	                           " AND object = 'command:user list' AND result = 'denied'"),
	                 1);
	assert_int_equal(count_sql("SELECT count(*) FROM audit WHERE type = 'command.denied'"), before + 4);
	assert_int_equal(count_sql("SELECT count(*) FROM groups"), 0);
	ctx_free_bufs();
}

static void
test_auditor_may_audit_not_manage(void **state)
{
	ctx_begin(ROLE_AUDITOR, "audrey", 0);
	assert_int_equal(run(2, "audit", "verify"), ADMIN_EXIT_OK);
	assert_int_equal(run(3, "asset", "add", "web01"), ADMIN_EXIT_FAIL);
	ctx_end();
	assert_non_null(strstr(outbuf, "audit chain OK"));
	assert_non_null(strstr(errbuf, "'asset add' is not permitted for role auditor"));
	ctx_free_bufs();
}

static void
test_superadmin_sees_own_audit_events(void **state)
{
	ctx_begin(ROLE_SUPERADMIN, "sam", 0);
	assert_int_equal(run(3, "group", "add", "ops"), ADMIN_EXIT_OK);
	ctx.json = 1;
	assert_int_equal(run(2, "audit", "list"), ADMIN_EXIT_OK);
	ctx_end();
	/* sam's group.add is there; olga's and audrey's events are not. */
	assert_non_null(strstr(outbuf, "\"group.add\""));
	assert_null(strstr(outbuf, "olga"));
	assert_null(strstr(outbuf, "audrey"));
	assert_int_equal(count_sql("SELECT count(*) FROM audit WHERE actor = 'sam' AND source = '127.0.0.1:50000'"
	                           " AND type = 'group.add'"),
	                 1);
	ctx_free_bufs();
}

static void
test_operator_sees_own_sessions_only(void **state)
{
	assert_int_equal(sqlite3_exec(store_db(st),
	                              "INSERT INTO sessions (uuid, user, source_addr, source_port, start) VALUES"
	                              " ('u-1', 'olga', '127.0.0.1', 1, 1), ('u-2', 'bob', '127.0.0.1', 2, 2)",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	ctx_begin(ROLE_OPERATOR, "olga", 0);
	ctx.json = 1;
	assert_int_equal(run(2, "session", "list"), ADMIN_EXIT_OK);
	assert_int_equal(run(4, "session", "list", "--user", "bob"), ADMIN_EXIT_FAIL);
	assert_int_equal(run(3, "session", "show", "u-2"), ADMIN_EXIT_FAIL);
	assert_int_equal(run(3, "session", "show", "u-1"), ADMIN_EXIT_OK);
	ctx_end();
	assert_non_null(strstr(outbuf, "\"u-1\""));
	assert_null(strstr(outbuf, "\"u-2\""));
	assert_non_null(strstr(errbuf, "may list only its own sessions"));
	/* Somebody else's session looks exactly like a missing one. */
	assert_non_null(strstr(errbuf, "session 'u-2' not found"));
	ctx_free_bufs();

	ctx_begin(ROLE_AUDITOR, "audrey", 0);
	ctx.json = 1;
	assert_int_equal(run(2, "session", "list"), ADMIN_EXIT_OK);
	ctx_end();
	assert_non_null(strstr(outbuf, "\"u-1\""));
	assert_non_null(strstr(outbuf, "\"u-2\""));
	ctx_free_bufs();
}

static void
test_dispatch_longest_match_and_usage(void **state)
{
	ctx_begin(ROLE_SUPERADMIN, "root", 1);
	/* "group member add" must win over "group add" (which would see
	 * "member" as its NAME). */
	assert_int_equal(run(5, "group", "member", "add", "nogroup", "nouser"), ADMIN_EXIT_FAIL);
	assert_int_equal(run(4, "user", "add", "x", "--bogus"), ADMIN_EXIT_USAGE);
	assert_int_equal(run(4, "user", "add", "x", "--role"), ADMIN_EXIT_USAGE);
	assert_int_equal(run(5, "user", "add", "x", "--role", "king"), ADMIN_EXIT_USAGE);
	assert_int_equal(run(3, "user", "add", "--help"), ADMIN_EXIT_OK);
	assert_int_equal(run(1, "frob"), ADMIN_EXIT_USAGE);
	assert_int_equal(run(0), ADMIN_EXIT_USAGE);
	ctx_end();
	assert_non_null(strstr(errbuf, "group 'nogroup' not found"));
	assert_non_null(strstr(errbuf, "unknown option '--bogus'"));
	assert_non_null(strstr(errbuf, "option '--role' needs a value"));
	assert_non_null(strstr(errbuf, "unknown role 'king'"));
	assert_non_null(strstr(errbuf, "unknown command 'frob'"));
	assert_non_null(strstr(outbuf, "usage: gatehouse-admin user add NAME --role"));
	ctx_free_bufs();
}

static void
test_table_output_escapes_control_characters(void **state)
{
	static const struct out_col cols[] = {{"a", "A"}, {"b", "B"}};
	char want[64];
	json_t *rows = json_pack("[{s:s,s:n},{s:s,s:b}]", "a", "evil\x1b[2Jname", "b", "a", "x", "b", 1);

	ctx_begin(ROLE_SUPERADMIN, "root", 1);
	assert_int_equal(out_table(&ctx, cols, 2, rows), ADMIN_EXIT_OK);
	ctx_end();
	assert_null(strchr(outbuf, '\x1b'));
	assert_non_null(strstr(outbuf, "evil\\x1b[2Jname  -\n"));
	/* Columns are as wide as the escaped text (15 characters). */
	snprintf(want, sizeof(want), "\n%-15s  yes\n", "x");
	assert_non_null(strstr(outbuf, want));
	ctx_free_bufs();
}

static void
test_pubkey_text_parsing(void **state)
{
	/* An ed25519 public key made with ssh-keygen, and its fingerprint. */
	static const char b64[] = "AAAAC3NzaC1lZDI1NTE5AAAAID2xyypqn2SiGfL+kd0VVnTx/2aHlvtElIC3/uix/mUr";
	char text[512], why[256], *line = NULL, *fp = NULL;

	snprintf(text, sizeof(text), "ssh-ed25519 %s comment here\n", b64);
	assert_int_equal(admin_parse_pubkey_text(text, &line, &fp, why, sizeof(why)), 0);
	assert_string_equal(line, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID2xyypqn2SiGfL+kd0VVnTx/2aHlvtElIC3/uix/mUr");
	assert_string_equal(fp, "SHA256:bhTW4WGbbecXmPGHMyUfPTCcO8+hqrXEi+WLcels8nA");
	free(line);
	free(fp);

	/* known_hosts: the CA line is skipped, the host line is used. */
	snprintf(text, sizeof(text),
	         "# c\n@cert-authority * ssh-rsa AAAAB3NzaC1yc2E=\n[web01]:2222,10.0.0.1 ssh-ed25519 %s\n", b64);
	assert_int_equal(admin_parse_pubkey_text(text, &line, &fp, why, sizeof(why)), 0);
	assert_true(strncmp(line, "ssh-ed25519 ", 12) == 0);
	free(line);
	free(fp);

	assert_int_equal(admin_parse_pubkey_text("garbage\n", &line, &fp, why, sizeof(why)), ERR_INVALID);
	assert_null(line);
	assert_non_null(strstr(why, "no public key line found"));
	assert_int_equal(admin_parse_pubkey_text("ssh-ed25519 AAAA!!\n", &line, &fp, why, sizeof(why)), ERR_INVALID);
	assert_non_null(strstr(why, "does not parse"));
	assert_int_equal(
	        admin_parse_pubkey_text("ssh-ed25519-cert-v01@openssh.com AAAA\n", &line, &fp, why, sizeof(why)),
	        ERR_INVALID);
	assert_non_null(strstr(why, "certificates are not supported"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_operator_refused_admin_commands),
	        cmocka_unit_test(test_auditor_may_audit_not_manage),
	        cmocka_unit_test(test_superadmin_sees_own_audit_events),
	        cmocka_unit_test(test_operator_sees_own_sessions_only),
	        cmocka_unit_test(test_dispatch_longest_match_and_usage),
	        cmocka_unit_test(test_table_output_escapes_control_characters),
	        cmocka_unit_test(test_pubkey_text_parsing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
