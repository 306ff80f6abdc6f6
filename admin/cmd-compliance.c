/* compliance [--json]: the live configuration and data checked against the
 * MLPS 2.0 level 3 requirements (../shared/guides/compliance.md). Each
 * check prints PASS or FAIL with the values it found, so an assessor sees
 * the evidence, not only a verdict. docs/compliance.md explains each check
 * and maps it to the feature and the test that proves it. Read-only except
 * for the `compliance.report` audit event. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "common/err.h"

/* Names that stand for a function, not a person: an account so named is
 * almost always shared. The bootstrap superadmin defaults to "admin", so a
 * fresh installation fails this until personal accounts replace it. */
static const char *const generic_names[] = {"root",    "admin",    "administrator", "superadmin", "operator", "auditor",
                                            "guest",   "test",     "user",          "shared",     "ops",      "audit",
                                            "support", "sysadmin", "oracle",        "postgres",   "ubuntu",   NULL};

struct report {
	json_t *checks;
	int failed;
};

static void add_check(struct report *rep, const char *id, const char *clause, const char *requirement, int pass,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
add_check(struct report *rep, const char *id, const char *clause, const char *requirement, int pass, const char *fmt,
          ...)
{
	char evidence[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(evidence, sizeof(evidence), fmt, ap);
	va_end(ap);
	if (!pass)
		rep->failed++;
	json_array_append_new(rep->checks,
	                      json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", id, "clause", clause, "requirement", requirement,
	                                "result", pass ? "PASS" : "FAIL", "evidence", evidence));
}

/* Run a query whose rows are (text) and join column 0 with ", " into buf;
 * returns the row count, or -1 on a database error. */
static int
query_names(struct admin_ctx *ctx, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	int n = 0, rc;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(store_db(ctx->st), sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);

		if (n > 0)
			strncat(buf, ", ", len - strlen(buf) - 1);
		strncat(buf, v != NULL ? v : "?", len - strlen(buf) - 1);
		n++;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? n : -1;
}

static int
query_int(struct admin_ctx *ctx, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(store_db(ctx->st), sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void
check_identity(struct admin_ctx *ctx, struct report *rep)
{
	const struct gh_config *c = &ctx->cfg;
	char dup[1024], generic[1024], nototp[1024], in[512] = "";
	int ndup, ngen, nno, minlen, ok;

	/* Unique accounts: no public key shared by two users, no generic names. */
	for (size_t i = 0; generic_names[i] != NULL; i++) {
		strncat(in, i > 0 ? ",'" : "'", sizeof(in) - strlen(in) - 1);
		strncat(in, generic_names[i], sizeof(in) - strlen(in) - 1);
		strncat(in, "'", sizeof(in) - strlen(in) - 1);
	}
	{
		char sql[1024];

		ndup = query_names(ctx,
		                   "SELECT group_concat(name, '+') FROM users WHERE removed = 0 AND pubkey IS NOT NULL"
		                   " GROUP BY pubkey HAVING count(*) > 1",
		                   dup, sizeof(dup));
		snprintf(sql, sizeof(sql),
		         "SELECT name || ' (' || role || ')' FROM users WHERE removed = 0 AND lower(name) IN (%s)"
		         " ORDER BY name",
		         in);
		ngen = query_names(ctx, sql, generic, sizeof(generic));
	}
	add_check(rep, "identity.unique_accounts", "8.1.4.1",
	          "every person has their own account: no public key shared between users, no generic account names",
	          ndup == 0 && ngen == 0, "users sharing a public key: %s; generic names in use: %s",
	          ndup == 0  ? "none"
	          : ndup < 0 ? "(query failed)"
	                     : dup,
	          ngen == 0  ? "none"
	          : ngen < 0 ? "(query failed)"
	                     : generic);

	/* Password policy: the profile's rules are not weakened. */
	if (c->password_policy == PW_PROFILE_MLPS) {
		minlen = c->password_min_length != 0 ? c->password_min_length : 8;
		ok = minlen >= 8 && c->password_max_age_days >= 1 && c->password_max_age_days <= 90 &&
		     c->password_history >= 1;
		add_check(rep, "identity.password_policy", "8.1.4.1",
		          "passwords of 8+ characters of 4 classes, changed at least every 90 days, not reused", ok,
		          "password_policy = mlps, minimum length %d (need >= 8), password_max_age_days = %d (need "
		          "1-90), "
		          "password_history = %d (need >= 1)",
		          minlen, c->password_max_age_days, c->password_history);
	} else {
		int have_list = c->password_blocklist != NULL && c->password_blocklist[0] != '\0';
		char path[4096];

		if (have_list && c->password_blocklist[0] != '/')
			snprintf(path, sizeof(path), "%s/%s", ctx->data_dir, c->password_blocklist);
		else
			snprintf(path, sizeof(path), "%s", have_list ? c->password_blocklist : "");
		minlen = c->password_min_length != 0 ? c->password_min_length : 15;
		ok = minlen >= 15 && have_list && access(path, R_OK) == 0 && c->password_history >= 1;
		add_check(rep, "identity.password_policy", "8.1.4.1",
		          "NIST SP 800-63B profile: 15+ characters and a breached-password blocklist", ok,
		          "password_policy = nist, minimum length %d (need >= 15), password_blocklist = '%s' (%s), "
		          "password_history = %d (need >= 1)",
		          minlen, have_list ? c->password_blocklist : "",
		          !have_list                ? "not set"
		          : access(path, R_OK) == 0 ? "readable"
		                                    : "NOT readable",
		          c->password_history);
	}

	add_check(rep, "identity.lockout", "8.1.4.1",
	          "an account locks after at most 5 failed logins for at least 30 minutes",
	          c->lockout_threshold >= 1 && c->lockout_threshold <= 5 && c->lockout_minutes >= 30,
	          "lockout_threshold = %d (need 1-5), lockout_minutes = %d (need >= 30)", c->lockout_threshold,
	          c->lockout_minutes);
	add_check(rep, "identity.idle_timeout", "8.1.4.1", "idle sessions are disconnected within 30 minutes",
	          c->idle_timeout > 0 && c->idle_timeout <= 1800, "idle_timeout = %d s (need 1-1800)", c->idle_timeout);
	add_check(rep, "identity.inactive_accounts", "8.1.4.1", "accounts unused for a configured time lock themselves",
	          c->account_inactive_days >= 1 && c->account_inactive_days <= 365,
	          "account_inactive_days = %d (need 1-365)", c->account_inactive_days);

	/* Two factors: every user who can log in has TOTP enrolled. */
	nno = query_names(
	        ctx, "SELECT name FROM users WHERE removed = 0 AND locked = 0 AND totp_secret IS NULL ORDER BY name",
	        nototp, sizeof(nototp));
	add_check(rep, "identity.two_factor", "8.1.4.1",
	          "two factors for every user: password or public key, plus TOTP (enrolled, not waived)",
	          nno == 0 && !c->bench_totp_off, "active users without TOTP: %s; bench_allow_no_totp = %s",
	          nno == 0  ? "none"
	          : nno < 0 ? "(query failed)"
	                    : nototp,
	          c->bench_totp_off ? "yes" : "no");
}

static void
check_access(struct admin_ctx *ctx, struct report *rep)
{
	char mixed[1024];
	int nsuper, naud, nmixed;

	nsuper = query_int(ctx, "SELECT count(*) FROM users WHERE removed = 0 AND role = 'superadmin'");
	naud = query_int(ctx, "SELECT count(*) FROM users WHERE removed = 0 AND role = 'auditor'");
	/* Roles are exclusive by construction (one role column); what can mix
	 * them is a grant: a superadmin or auditor who may also operate. */
	nmixed = query_names(ctx,
	                     "SELECT name || ' (' || role || ')' FROM users u WHERE removed = 0"
	                     " AND role IN ('superadmin','auditor') AND (EXISTS (SELECT 1 FROM grants g"
	                     " WHERE g.user_id = u.id) OR EXISTS (SELECT 1 FROM grants g JOIN group_members m"
	                     " ON m.group_id = g.group_id WHERE m.user_id = u.id)) ORDER BY name",
	                     mixed, sizeof(mixed));
	add_check(rep, "access.role_separation", "8.1.4.2",
	          "separate superadmin, auditor and operator roles: at least one superadmin and one auditor, each user "
	          "one role, no server grants for superadmins or auditors",
	          nsuper >= 1 && naud >= 1 && nmixed == 0,
	          "superadmins: %d, auditors: %d (need >= 1 each); superadmins/auditors holding grants: %s", nsuper,
	          naud,
	          nmixed == 0  ? "none"
	          : nmixed < 0 ? "(query failed)"
	                       : mixed);
}

static void
check_audit(struct admin_ctx *ctx, struct report *rep)
{
	const struct gh_config *c = &ctx->cfg;
	char why[512] = "";
	int64_t bad = 0, rows = 0;
	int r, jsonl = c->audit_jsonl != NULL && c->audit_jsonl[0] != '\0';

	r = audit_verify(ctx->st, &bad, &rows, why, sizeof(why));
	if (r == 0)
		add_check(rep, "audit.chain", "8.1.4.3", "audit records are tamper-evident and intact", 1,
		          "audit verify: %lld events, chain intact", (long long)rows);
	else
		add_check(rep, "audit.chain", "8.1.4.3", "audit records are tamper-evident and intact", 0,
		          "audit verify: %s", r == ERR_TAMPER ? why : gh_strerror(r));
	add_check(rep, "audit.export", "8.1.4.3", "audit records are exported in real time to a central log platform",
	          c->audit_syslog || jsonl, "audit_syslog = %s, audit_jsonl = '%s', audit_anchor_every = %d",
	          c->audit_syslog ? "yes" : "no", jsonl ? c->audit_jsonl : "", c->audit_anchor_every);
	add_check(rep, "audit.retention", "8.1.4.3", "audit records and recordings are kept at least 6 months",
	          c->retention_days >= 180, "retention_days = %d (need >= 180)", c->retention_days);
	add_check(rep, "audit.fail_closed", "8.1.4.3",
	          "the audit process is protected: sessions fail closed when recording or audit writing fails",
	          !c->recording_fail_open && !c->audit_fail_open, "recording_failure = %s, audit_failure = %s",
	          c->recording_fail_open ? "open" : "closed", c->audit_fail_open ? "open" : "closed");
	add_check(rep, "audit.command_tracking", "8.1.5.4", "every command typed in interactive shells is logged",
	          c->command_tracking != 0, "command_tracking = %s (exec commands are always logged)",
	          c->command_tracking ? "yes" : "no");
}

int
cmd_compliance(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_args a;
	struct report rep = {NULL, 0};
	json_t *res = NULL;
	char detail[128];
	size_t i, n;
	int r, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, admin_cmd_by_run(cmd_compliance), argc, argv, NULL, 0, &a)) != 0)
		return r;
	admin_args_free(&a);
	if ((rep.checks = json_array()) == NULL)
		return admin_fail(ctx, "out of memory");
	check_identity(ctx, &rep);
	check_access(ctx, &rep);
	check_audit(ctx, &rep);
	n = json_array_size(rep.checks);
	snprintf(detail, sizeof(detail), "{\"checks\":%zu,\"failed\":%d}", n, rep.failed);
	admin_audit(ctx, "compliance.report", "compliance", rep.failed == 0 ? "ok" : "fail",
	            rep.failed == 0 ? AUDIT_INFO : AUDIT_NOTICE, detail);
	if (ctx->json) {
		res = json_pack("{s:s,s:b,s:I,s:I,s:O}", "standard", "MLPS 2.0 (GB/T 22239-2019) level 3", "ok",
		                rep.failed == 0, "checks", (json_int_t)n, "failed", (json_int_t)rep.failed, "results",
		                rep.checks);
		if (res == NULL) {
			admin_fail(ctx, "out of memory");
			goto out;
		}
		out_json(ctx->out, res, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	} else {
		fprintf(ctx->out, "MLPS 2.0 (GB/T 22239-2019) level 3 compliance report\n\n");
		for (i = 0; i < n; i++) {
			json_t *o = json_array_get(rep.checks, i);

			fprintf(ctx->out, "%s  %-27s %-8s %s\n      %s\n",
			        json_string_value(json_object_get(o, "result")),
			        json_string_value(json_object_get(o, "id")),
			        json_string_value(json_object_get(o, "clause")),
			        json_string_value(json_object_get(o, "requirement")),
			        json_string_value(json_object_get(o, "evidence")));
		}
		fprintf(ctx->out, "\n%zu checks, %d failed\n", n, rep.failed);
	}
	ret = rep.failed == 0 ? ADMIN_EXIT_OK : ADMIN_EXIT_FAIL;
out:
	json_decref(res);
	json_decref(rep.checks);
	return ret;
}
