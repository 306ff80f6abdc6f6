/* user add | list | show | lock | unlock | remove | passwd | totp-reset */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "common/err.h"
#include "common/secret.h"
#include "common/timeutil.h"

#define PW_MAX          1024
#define PUBKEY_FILE_MAX (16 * 1024)
/* RFC 4226 R6: a shared secret of at least 128 bits. */
#define TOTP_SECRET_MIN 16

static const char *
auth_name(enum user_auth a)
{
	return a == USER_AUTH_PAM ? "pam" : "local";
}

/* Importance of a change to a user: anything about a superadmin is high. */
static enum audit_importance
user_importance(const struct user_rec *u)
{
	return u != NULL && u->role == ROLE_SUPERADMIN ? AUDIT_HIGH : AUDIT_NOTICE;
}

/* Decode and check a TOTP secret given on the command line. */
int
admin_totp_secret_decode(struct admin_ctx *ctx, const char *b32, uint8_t **raw, size_t *len)
{
	int r = totp_base32_decode(b32, raw, len);

	if (r != 0)
		return admin_fail(ctx, "invalid TOTP secret: not base32 (RFC 4648 letters A-Z and digits 2-7)"),
		       ERR_INVALID;
	if (*len < TOTP_SECRET_MIN) {
		secret_free(*raw, *len);
		*raw = NULL;
		return admin_fail(ctx, "invalid TOTP secret: %zu bytes, at least %d needed (%d base32 characters)",
		                  *len, TOTP_SECRET_MIN, (TOTP_SECRET_MIN * 8 + 4) / 5),
		       ERR_INVALID;
	}
	return 0;
}

/* Seal a TOTP secret for user id and store it (inside the caller's tx). */
int
admin_store_totp(struct admin_ctx *ctx, int64_t user_id, const uint8_t *raw, size_t len)
{
	const struct secret_key *key = admin_master_key(ctx);
	uint8_t *sealed = NULL;
	size_t slen = 0;
	int r;

	if (key == NULL)
		return ERR_CRYPTO;
	if ((r = secret_seal(key, "users", user_id, raw, len, &sealed, &slen)) != 0) {
		admin_fail(ctx, "cannot encrypt the TOTP secret: %s", gh_strerror(r));
		return r;
	}
	if ((r = store_user_set_totp(ctx->st, user_id, sealed, slen)) != 0)
		admin_fail(ctx, "cannot store the TOTP secret: %s", gh_strerror(r));
	free(sealed);
	return r;
}

/* What `user add` and `user totp-reset` tell about the enrolment window. */
static void
print_enrol_window(struct admin_ctx *ctx, const char *name, int64_t until)
{
	char when[64];

	time_format_iso(until, when, sizeof(when));
	if (until == 0) {
		fprintf(ctx->out,
		        "no TOTP secret: '%s' cannot log in until one is given (totp_enrol_hours = 0 allows no "
		        "enrolment at login)\n",
		        name);
		return;
	}
	fprintf(ctx->out,
	        "no TOTP secret yet: '%s' enrols one at first login (QR code in the terminal) before %s;\n"
	        "after that an administrator must run 'user totp-reset %s' again\n",
	        name, when, name);
}

int
cmd_user_add(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_ROLE, O_PWSTDIN, O_TOTP, O_PUBKEY, O_AUTH };
	static const struct admin_opt opts[] = {
	        {"role", 1, 0}, {"password-stdin", 0, 0}, {"totp-secret", 1, 0}, {"pubkey", 1, 0}, {"auth", 1, 0}, {0},
	};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_user_add);
	struct admin_args a;
	struct user_rec u, *old = NULL;
	struct pw_policy pol;
	char pw[PW_MAX], why[256] = "", obj[128];
	char *hash = NULL, *pubtext = NULL, *keyline = NULL, *fp = NULL, *detail = NULL;
	uint8_t *totp = NULL;
	size_t totp_len = 0;
	int64_t id = 0;
	int r, ret = ADMIN_EXIT_FAIL, generated = 0;
	json_t *dj = NULL;
	const char *name;

	memset(&u, 0, sizeof(u));
	pw[0] = '\0';
	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 1, &a)) != 0)
		return r;
	if (a.npos != 1) {
		ret = admin_usage(ctx, cmd, "missing user NAME");
		goto out;
	}
	name = a.pos[0];
	snprintf(obj, sizeof(obj), "user:%s", name);
	if (!a.set[O_ROLE]) {
		ret = admin_usage(ctx, cmd, "missing --role (superadmin, auditor or operator)");
		goto out;
	}
	if (user_role_parse(a.val[O_ROLE], &u.role) != 0) {
		ret = admin_usage(ctx, cmd, "unknown role '%s' (superadmin, auditor or operator)", a.val[O_ROLE]);
		goto out;
	}
	u.auth = USER_AUTH_LOCAL;
	if (a.set[O_AUTH]) {
		if (strcmp(a.val[O_AUTH], "pam") == 0)
			u.auth = USER_AUTH_PAM;
		else if (strcmp(a.val[O_AUTH], "local") != 0) {
			ret = admin_usage(ctx, cmd, "unknown --auth '%s' (local or pam)", a.val[O_AUTH]);
			goto out;
		}
	}
	if (u.auth == USER_AUTH_PAM && a.set[O_PWSTDIN]) {
		ret = admin_usage(ctx, cmd, "--password-stdin with --auth pam: PAM users have no local password");
		goto out;
	}
	if (admin_check_name(ctx, NAME_USER, name) != 0)
		goto out;
	if (a.set[O_TOTP] && admin_totp_secret_decode(ctx, a.val[O_TOTP], &totp, &totp_len) != 0)
		goto out;
	if (a.set[O_PUBKEY]) {
		if ((r = admin_read_file(a.val[O_PUBKEY], PUBKEY_FILE_MAX, &pubtext, NULL)) != 0) {
			admin_fail(ctx, "cannot read public key file '%s': %s", a.val[O_PUBKEY], gh_strerror(r));
			goto out;
		}
		if (admin_parse_pubkey_text(pubtext, &keyline, &fp, why, sizeof(why)) != 0) {
			admin_fail(ctx, "public key file '%s': %s", a.val[O_PUBKEY], why);
			goto out;
		}
		u.pubkey = keyline;
	}
	if (store_user_get(ctx->st, name, &old) == 0) {
		ret = admin_refuse(ctx, "user.add", obj, AUDIT_NOTICE,
		                   old->removed ? "user '%s' was removed; the name stays reserved"
		                                : "user '%s' already exists",
		                   name);
		goto out;
	}
	if (u.auth == USER_AUTH_LOCAL) {
		if (a.set[O_PWSTDIN]) {
			if (admin_read_password(ctx, "Password: ", pw, sizeof(pw)) != 0)
				goto out;
		} else {
			if ((r = password_generate(pw, sizeof(pw))) != 0) {
				admin_fail(ctx, "cannot generate a password: %s", gh_strerror(r));
				goto out;
			}
			generated = 1;
		}
		password_policy_from_config(&ctx->cfg, &pol);
		if (password_check_policy(&pol, pw, name, why, sizeof(why)) != 0) {
			ret = admin_refuse(ctx, "user.add", obj, AUDIT_NOTICE, "password refused: %s", why);
			goto out;
		}
		if ((r = password_hash(pw, &hash)) != 0) {
			admin_fail(ctx, "cannot hash the password: %s", gh_strerror(r));
			goto out;
		}
		u.pw_hash = hash;
		u.pw_changed = time_now();
		u.pw_temporary = generated;
	}
	u.name = (char *)name;
	u.created = time_now();
	/* Without a secret the user enrols at login, but only within the
	 * one-time window opened here (srv-auth.c: enrolment is not a way in). */
	if (totp == NULL && ctx->cfg.totp_enrol_hours > 0)
		u.enrol_until = u.created + (int64_t)ctx->cfg.totp_enrol_hours * 3600;
	if (totp != NULL && admin_master_key(ctx) == NULL)
		goto out;
	dj = json_pack("{s:s,s:s,s:b,s:b,s:o,s:o}", "role", user_role_name(u.role), "auth", auth_name(u.auth), "totp",
	               totp != NULL, "temporary_password", generated, "pubkey", out_str(fp), "enrol_until",
	               out_time(u.enrol_until));
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT) : NULL;
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	r = store_user_add(ctx->st, &u, &id);
	if (r == ERR_EXISTS)
		admin_fail(ctx, "user '%s' already exists", name);
	else if (r != 0)
		admin_fail(ctx, "cannot add user '%s': %s", name, gh_strerror(r));
	if (r == 0 && totp != NULL)
		r = admin_store_totp(ctx, id, totp, totp_len);
	if (r == 0)
		r = admin_audit_tx(ctx, "user.add", obj, "ok", user_importance(&u), detail);
	if ((r = admin_end_tx(ctx, r)) != 0) {
		admin_fail(ctx, "user '%s' not added", name);
		goto out;
	}
	fprintf(ctx->out, "user '%s' added (role %s, auth %s)\n", name, user_role_name(u.role), auth_name(u.auth));
	if (generated)
		fprintf(ctx->out, "temporary password (shown once; it must be changed at first login):\n  %s\n", pw);
	if (totp == NULL)
		print_enrol_window(ctx, name, u.enrol_until);
	if (fp != NULL)
		fprintf(ctx->out, "public key %s\n", fp);
	ret = ADMIN_EXIT_OK;
out:
	explicit_bzero(pw, sizeof(pw));
	admin_args_free(&a);
	user_rec_free(old);
	free(hash);
	free(pubtext);
	free(keyline);
	free(fp);
	free(detail);
	json_decref(dj);
	if (totp != NULL)
		secret_free(totp, totp_len);
	return ret;
}

/* Names of the groups a user belongs to, as a JSON array. */
static json_t *
user_groups_json(struct admin_ctx *ctx, int64_t user_id)
{
	sqlite3_stmt *s = NULL;
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	if (sqlite3_prepare_v2(store_db(ctx->st),
	                       "SELECT g.name FROM groups g JOIN group_members m ON m.group_id = g.id"
	                       " WHERE m.user_id = ? ORDER BY g.name",
	                       -1, &s, NULL) != SQLITE_OK)
		return arr;
	sqlite3_bind_int64(s, 1, user_id);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(arr, json_string((const char *)sqlite3_column_text(s, 0)));
	sqlite3_finalize(s);
	return arr;
}

static json_t *
user_json(struct admin_ctx *ctx, const struct user_rec *u, int full)
{
	struct pw_policy pol;
	int64_t now = time_now(), expires = 0;
	char *fp = NULL;
	json_t *o;

	password_policy_from_config(&ctx->cfg, &pol);
	if (u->auth == USER_AUTH_LOCAL && pol.max_age_days > 0 && u->pw_changed > 0)
		expires = u->pw_changed + (int64_t)pol.max_age_days * 86400;
	o = json_pack("{s:s,s:s,s:s,s:b,s:o,s:b,s:o,s:o}", "name", u->name, "role", user_role_name(u->role), "auth",
	              auth_name(u->auth), "locked", u->locked, "lockout_until",
	              out_time(u->locked_until > now ? u->locked_until : 0), "totp", u->has_totp, "last_login",
	              out_time(u->last_login), "created", out_time(u->created));
	if (o == NULL || !full)
		return o;
	fp = u->pubkey != NULL ? admin_pubkey_fingerprint(u->pubkey) : NULL;
	json_object_set_new(o, "id", json_integer(u->id));
	json_object_set_new(o, "failed_logins", json_integer(u->failed_count));
	json_object_set_new(o, "password_changed", out_time(u->auth == USER_AUTH_LOCAL ? u->pw_changed : 0));
	json_object_set_new(o, "password_expires", out_time(expires));
	json_object_set_new(o, "password_expired",
	                    json_boolean(u->auth == USER_AUTH_LOCAL && password_expired(&pol, u->pw_changed, now)));
	json_object_set_new(o, "password_temporary", json_boolean(u->pw_temporary));
	json_object_set_new(o, "pubkey", out_str(fp));
	json_object_set_new(o, "enrol_until", out_time(u->has_totp ? 0 : u->enrol_until));
	json_object_set_new(o, "enrolment",
	                    json_string(u->has_totp            ? "done"
	                                : u->enrol_until > now ? "open"
	                                : u->enrol_until != 0  ? "expired (user totp-reset opens a new window)"
	                                                       : "closed (user totp-reset opens a window)"));
	json_object_set_new(o, "groups", user_groups_json(ctx, u->id));
	free(fp);
	return o;
}

int
cmd_user_list(struct admin_ctx *ctx, int argc, char **argv)
{
	static const struct out_col cols[] = {
	        {"name", "NAME"},
	        {"role", "ROLE"},
	        {"auth", "AUTH"},
	        {"locked", "LOCKED"},
	        {"totp", "TOTP"},
	        {"last_login", "LAST LOGIN"},
	        {"lockout_until", "LOCKOUT UNTIL"},
	};
	struct admin_args a;
	struct user_rec **list = NULL;
	size_t n = 0;
	json_t *rows;
	int r;

	if ((r = admin_parse(ctx, admin_cmd_by_run(cmd_user_list), argc, argv, NULL, 0, &a)) != 0)
		return r;
	admin_args_free(&a);
	if ((r = store_user_list(ctx->st, &list, &n)) != 0)
		return admin_fail(ctx, "cannot list users: %s", gh_strerror(r));
	rows = json_array();
	for (size_t i = 0; rows != NULL && i < n; i++)
		json_array_append_new(rows, user_json(ctx, list[i], 0));
	user_rec_list_free(list, n);
	return out_table(ctx, cols, sizeof(cols) / sizeof(cols[0]), rows);
}

/* Parse exactly one NAME and load that (not removed) user. */
static int
one_user(struct admin_ctx *ctx, int (*fn)(struct admin_ctx *, int, char **), int argc, char **argv, struct user_rec **u)
{
	const struct admin_cmd *cmd = admin_cmd_by_run(fn);
	struct admin_args a;
	int r;

	*u = NULL;
	if ((r = admin_parse(ctx, cmd, argc, argv, NULL, 1, &a)) != 0)
		return r;
	admin_args_free(&a);
	if (a.npos != 1)
		return admin_usage(ctx, cmd, "missing user NAME");
	return admin_find_user(ctx, a.pos[0], u) == 0 ? 0 : ADMIN_EXIT_FAIL;
}

int
cmd_user_show(struct admin_ctx *ctx, int argc, char **argv)
{
	static const struct out_col cols[] = {
	        {"name", "Name"},
	        {"role", "Role"},
	        {"auth", "Auth"},
	        {"locked", "Locked"},
	        {"lockout_until", "Lockout until"},
	        {"failed_logins", "Failed logins"},
	        {"password_changed", "Password changed"},
	        {"password_expires", "Password expires"},
	        {"password_temporary", "Password temporary"},
	        {"totp", "TOTP enrolled"},
	        {"enrolment", "TOTP enrolment"},
	        {"enrol_until", "Enrolment until"},
	        {"pubkey", "Public key"},
	        {"groups", "Groups"},
	        {"last_login", "Last login"},
	        {"created", "Created"},
	};
	struct user_rec *u = NULL;
	int r;

	if ((r = one_user(ctx, cmd_user_show, argc, argv, &u)) != 0)
		return r;
	r = out_object(ctx, cols, sizeof(cols) / sizeof(cols[0]), user_json(ctx, u, 1));
	user_rec_free(u);
	return r;
}

/* lock / unlock / remove / totp-reset: one user, one change, one event. */
enum user_change { CHANGE_LOCK, CHANGE_UNLOCK, CHANGE_REMOVE, CHANGE_TOTP_RESET };

static int
count_active_superadmins(struct admin_ctx *ctx, size_t *count)
{
	struct user_rec **list = NULL;
	size_t n = 0;
	int r = store_user_list(ctx->st, &list, &n);

	*count = 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (list[i]->role == ROLE_SUPERADMIN && !list[i]->locked)
			(*count)++;
	user_rec_list_free(list, n);
	return r;
}

static int
user_change(struct admin_ctx *ctx, int (*fn)(struct admin_ctx *, int, char **), int argc, char **argv,
            enum user_change what)
{
	static const char *const types[] = {"user.lock", "user.unlock", "user.remove", "user.totp-reset"};
	struct user_rec *u = NULL;
	char obj[128];
	size_t supers = 0;
	int64_t enrol_until = 0;
	json_t *dj = NULL;
	char *detail = NULL;
	int r, ret;

	if ((ret = one_user(ctx, fn, argc, argv, &u)) != 0)
		return ret;
	ret = ADMIN_EXIT_FAIL;
	snprintf(obj, sizeof(obj), "user:%s", u->name);
	/* Never leave the bastion without an administrator who can log in. */
	if ((what == CHANGE_LOCK || what == CHANGE_REMOVE) && u->role == ROLE_SUPERADMIN && !u->locked) {
		if ((r = count_active_superadmins(ctx, &supers)) != 0) {
			admin_fail(ctx, "cannot list users: %s", gh_strerror(r));
			goto out;
		}
		if (supers <= 1) {
			ret = admin_refuse(ctx, types[what], obj, AUDIT_HIGH,
			                   "'%s' is the last active superadmin; add another one first", u->name);
			goto out;
		}
	}
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	switch (what) {
	case CHANGE_LOCK: r = store_user_set_locked(ctx->st, u->id, 1); break;
	case CHANGE_UNLOCK:
		r = store_user_set_locked(ctx->st, u->id, 0);
		if (r == 0)
			r = store_user_clear_lockout(ctx->st, u->id);
		break;
	case CHANGE_REMOVE: r = store_user_remove(ctx->st, u->id, time_now()); break;
	case CHANGE_TOTP_RESET:
		/* A new one-time enrolment window (0: enrolment at login is off). */
		if (ctx->cfg.totp_enrol_hours > 0)
			enrol_until = time_now() + (int64_t)ctx->cfg.totp_enrol_hours * 3600;
		r = store_user_set_totp(ctx->st, u->id, NULL, 0);
		if (r == 0)
			r = store_user_set_enrol_until(ctx->st, u->id, enrol_until);
		if ((dj = json_pack("{s:o}", "enrol_until", out_time(enrol_until))) != NULL)
			detail = json_dumps(dj, JSON_COMPACT);
		break;
	}
	if (r != 0)
		admin_fail(ctx, "%s of '%s' failed: %s", types[what], u->name, gh_strerror(r));
	else
		r = admin_audit_tx(ctx, types[what], obj, "ok", what == CHANGE_UNLOCK ? AUDIT_NOTICE : AUDIT_HIGH,
		                   detail);
	if (admin_end_tx(ctx, r) != 0)
		goto out;
	switch (what) {
	case CHANGE_LOCK: fprintf(ctx->out, "user '%s' locked\n", u->name); break;
	case CHANGE_UNLOCK: fprintf(ctx->out, "user '%s' unlocked (failed-login lockout cleared)\n", u->name); break;
	case CHANGE_REMOVE: fprintf(ctx->out, "user '%s' removed\n", u->name); break;
	case CHANGE_TOTP_RESET:
		fprintf(ctx->out, "TOTP secret of '%s' cleared\n", u->name);
		print_enrol_window(ctx, u->name, enrol_until);
		break;
	}
	ret = ADMIN_EXIT_OK;
out:
	user_rec_free(u);
	free(detail);
	json_decref(dj);
	return ret;
}

int
cmd_user_lock(struct admin_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, cmd_user_lock, argc, argv, CHANGE_LOCK);
}

int
cmd_user_unlock(struct admin_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, cmd_user_unlock, argc, argv, CHANGE_UNLOCK);
}

int
cmd_user_remove(struct admin_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, cmd_user_remove, argc, argv, CHANGE_REMOVE);
}

int
cmd_user_totp_reset(struct admin_ctx *ctx, int argc, char **argv)
{
	return user_change(ctx, cmd_user_totp_reset, argc, argv, CHANGE_TOTP_RESET);
}

int
cmd_user_passwd(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_PWSTDIN, O_TEMP };
	static const struct admin_opt opts[] = {{"password-stdin", 0, 0}, {"temporary", 0, 0}, {0}};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_user_passwd);
	struct admin_args a;
	struct user_rec *u = NULL;
	struct pw_policy pol;
	char pw[PW_MAX], why[256] = "", obj[128];
	char **hist = NULL, *hash = NULL, *detail = NULL;
	size_t nhist = 0;
	json_t *dj = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

	pw[0] = '\0';
	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 1, &a)) != 0)
		return r;
	if (a.npos != 1) {
		ret = admin_usage(ctx, cmd, "missing user NAME");
		goto out;
	}
	if (!a.set[O_PWSTDIN] && !ctx->interactive_secrets) {
		ret = admin_usage(ctx, cmd, "missing --password-stdin (the new password is read from standard input)");
		goto out;
	}
	if (admin_find_user(ctx, a.pos[0], &u) != 0)
		goto out;
	snprintf(obj, sizeof(obj), "user:%s", u->name);
	if (u->auth == USER_AUTH_PAM) {
		ret = admin_refuse(ctx, "user.passwd", obj, AUDIT_NOTICE,
		                   "user '%s' authenticates through PAM: change the password there", u->name);
		goto out;
	}
	if (admin_read_password(ctx, "New password: ", pw, sizeof(pw)) != 0)
		goto out;
	password_policy_from_config(&ctx->cfg, &pol);
	if (password_check_policy(&pol, pw, u->name, why, sizeof(why)) != 0) {
		ret = admin_refuse(ctx, "user.passwd", obj, user_importance(u), "password refused: %s", why);
		goto out;
	}
	if (pol.history > 0) {
		if ((r = store_user_password_history(ctx->st, u->id, (size_t)pol.history, &hist, &nhist)) != 0) {
			admin_fail(ctx, "cannot read the password history: %s", gh_strerror(r));
			goto out;
		}
		/* The current password counts as used even when the store keeps
		 * history only of earlier ones. */
		if ((u->pw_hash != NULL && password_verify(pw, u->pw_hash) == 0) ||
		    password_check_history(pw, hist, nhist, why, sizeof(why)) != 0) {
			ret = admin_refuse(ctx, "user.passwd", obj, user_importance(u),
			                   "password refused: it was used before (the last %d passwords may not be "
			                   "reused)",
			                   pol.history);
			goto out;
		}
	}
	if ((r = password_hash(pw, &hash)) != 0) {
		admin_fail(ctx, "cannot hash the password: %s", gh_strerror(r));
		goto out;
	}
	dj = json_pack("{s:b}", "temporary", a.set[O_TEMP] != 0);
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT) : NULL;
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	r = store_user_set_password(ctx->st, u->id, hash, a.set[O_TEMP] != 0, time_now());
	if (r != 0)
		admin_fail(ctx, "cannot set the password of '%s': %s", u->name, gh_strerror(r));
	else
		r = admin_audit_tx(ctx, "user.passwd", obj, "ok", AUDIT_HIGH, detail);
	if (admin_end_tx(ctx, r) != 0)
		goto out;
	fprintf(ctx->out, "password of '%s' changed%s\n", u->name,
	        a.set[O_TEMP] ? " (temporary: it must be changed at next login)" : "");
	ret = ADMIN_EXIT_OK;
out:
	explicit_bzero(pw, sizeof(pw));
	admin_args_free(&a);
	user_rec_free(u);
	store_strv_free(hist, nhist);
	free(hash);
	free(detail);
	json_decref(dj);
	return ret;
}
