/* reveal: show an investigation the input that was typed without echo
 * after a prompt for a secret, sealed in a recording (REC_INPUT_SEALED,
 * common/seal.h). Only an auditor may: in the role shell the dispatcher
 * lets no other role run it; locally (root) the command names an auditor
 * account and must be given its password and a TOTP code, so that root
 * acting alone leaves the same trace as an auditor would (root can still
 * read the master key: the trace is the point). Every reveal is an audit
 * event `recording.reveal` (importance high) written before anything is
 * shown; a refusal is one too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "auth/pam.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "common/err.h"
#include "common/seal.h"
#include "common/secret.h"
#include "common/timeutil.h"
#include "recorder/rec-reader.h"

#define REVEAL_REASON_MAX 200
#define REVEAL_MAX        100000 /* sealed records shown at most */

struct sealed_in {
	uint64_t time_us, ordinal;
	uint32_t channel;
	uint8_t *blob; /* the record's payload, then the plain text once opened */
	size_t len;
	int opened; /* 1 opened (blob holds the text), 0 could not be opened */
	const char *why;
};

struct reveal {
	struct sealed_in *v;
	size_t n, cap;
};

static void
reveal_free(struct reveal *rv)
{
	for (size_t i = 0; i < rv->n; i++)
		secret_free(rv->v[i].blob, rv->v[i].len);
	free(rv->v);
	memset(rv, 0, sizeof(*rv));
}

static int
reason_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REVEAL_REASON_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

/* ---- who may: the local command line authenticates an auditor ---- */

/* The TOTP secret as srv-auth.c reads it: the raw key bytes, sealed with
 * the master key (AAD "users" and the row id). */
static int
load_totp(struct admin_ctx *ctx, const struct user_rec *u, uint8_t **secret, size_t *len)
{
	const struct secret_key *k = admin_master_key(ctx);
	uint8_t *sealed = NULL;
	size_t slen = 0;
	int r = ERR_INTERNAL;

	if (k == NULL)
		goto out;
	if ((r = store_user_get_totp(ctx->st, u->id, &sealed, &slen)) != 0)
		goto out;
	r = secret_open(k, "users", u->id, sealed, slen, secret, len);
out:
	free(sealed);
	return r;
}

/* Password and TOTP of the named auditor. Returns NULL when they pass,
 * else why not (for the refusal event; the person is told less). */
static const char *
local_auditor(struct admin_ctx *ctx, const char *name, struct user_rec **out)
{
	struct user_rec *u = NULL;
	char pw[256], code[32];
	uint8_t *secret = NULL;
	size_t slen = 0;
	int64_t step = 0, now = time_now();
	const char *why = NULL;
	int r, guessed = 0;

	pw[0] = code[0] = '\0';
	*out = NULL;
	if (store_user_get(ctx->st, name, &u) != 0 || u->removed != 0) {
		why = "no such user";
		goto out;
	}
	if (u->role != ROLE_AUDITOR) {
		why = "not an auditor";
		goto out;
	}
	if (u->locked || u->locked_until > now) {
		why = "account locked";
		goto out;
	}
	if (!u->has_totp) {
		why = "no TOTP enrolled";
		goto out;
	}
	if (ctx->read_secret(ctx, "Auditor password: ", pw, sizeof(pw)) != 0) {
		why = "no password given";
		goto out;
	}
	if (u->auth == USER_AUTH_PAM)
		r = pam_check_password(ctx->cfg.pam_service != NULL ? ctx->cfg.pam_service : "gatehouse",
		                       ctx->cfg.pam_confdir, u->name, pw);
	else
		r = u->pw_hash != NULL ? password_verify(pw, u->pw_hash) : ERR_DENIED;
	if (r != 0) {
		why = "wrong password";
		guessed = 1;
		goto out;
	}
	if (ctx->read_secret(ctx, "Verification code: ", code, sizeof(code)) != 0) {
		why = "no verification code given";
		goto out;
	}
	if (totp_init() != 0 || load_totp(ctx, u, &secret, &slen) != 0) {
		why = "cannot load the TOTP secret";
		goto out;
	}
	if (totp_verify(secret, slen, code, time(NULL), u->totp_last_step, &step) != 0 ||
	    store_user_advance_totp_step(ctx->st, u->id, step) != 0) {
		why = "wrong or reused verification code";
		guessed = 1;
		goto out;
	}
	*out = u;
	u = NULL;
out:
	/* A wrong password or code is a guess at the auditor's credentials:
	 * it counts toward the account's lockout like a failed login. */
	if (guessed && u != NULL) {
		int64_t lock_s = (int64_t)(ctx->cfg.lockout_minutes > 0 ? ctx->cfg.lockout_minutes : 30) * 60;
		int locked = 0;
		char obj[160];

		snprintf(obj, sizeof(obj), "user:%s", u->name);
		if (store_user_record_failure(ctx->st, u->id, ctx->cfg.lockout_threshold, lock_s, now, 0, &locked) ==
		            0 &&
		    locked)
			admin_audit(ctx, "auth.lockout", obj, "locked", AUDIT_HIGH, "{\"reason\":\"reveal\"}");
	}
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(code, sizeof(code));
	secret_free(secret, slen);
	user_rec_free(u);
	return why;
}

/* ---- the recording ---- */

static int
collect(const char *path, int64_t channel, struct reveal *rv, char *err, size_t errlen)
{
	struct rec_reader *rd = NULL;
	struct rec_record rec;
	int n, r = ERR_INTERNAL;

	if ((r = rec_reader_open(path, &rd)) != 0) {
		snprintf(err, errlen, "cannot open the recording %.200s: %s", path, gh_strerror(r));
		goto out;
	}
	/* every frame is checked against the chain as it is read */
	while ((n = rec_reader_next(rd, &rec)) == 1) {
		struct sealed_in *e;

		if (rec.type != REC_INPUT_SEALED || (channel >= 0 && rec.channel != (uint32_t)channel))
			continue;
		if (rv->n == REVEAL_MAX)
			break;
		if (rv->n == rv->cap) {
			size_t cap = rv->cap ? rv->cap * 2 : 16;
			struct sealed_in *nv = realloc(rv->v, cap * sizeof(*nv));
			if (nv == NULL) {
				r = ERR_NOMEM;
				goto out;
			}
			rv->v = nv;
			rv->cap = cap;
		}
		e = &rv->v[rv->n];
		memset(e, 0, sizeof(*e));
		if ((e->blob = malloc(rec.len + 1)) == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		memcpy(e->blob, rec.data, rec.len);
		e->len = rec.len;
		e->time_us = rec.time_us;
		e->ordinal = rec.ordinal;
		e->channel = rec.channel;
		rv->n++;
	}
	if (n < 0) {
		snprintf(err, errlen, "the recording does not verify (%s): nothing is revealed", gh_strerror(n));
		r = n;
		goto out;
	}
	r = 0;
out:
	rec_reader_free(rd);
	return r;
}

/* Open every record with the private key its blob names. */
static void
open_all(struct admin_ctx *ctx, const char *uuid, struct reveal *rv, size_t *failed)
{
	const struct secret_key *mk = admin_master_key(ctx);
	char have[2 * SEAL_KEY_ID_LEN + 1] = "";
	uint8_t priv[SEAL_KEY_LEN], id[SEAL_KEY_ID_LEN], aad[SEAL_REC_AAD_LEN];
	int have_priv = 0;

	*failed = 0;
	for (size_t i = 0; i < rv->n; i++) {
		struct sealed_in *e = &rv->v[i];
		char hex[2 * SEAL_KEY_ID_LEN + 1];
		uint8_t *pt = NULL;
		size_t ptlen = 0;

		e->why = "altered, moved, or sealed to an unknown key";
		if (mk == NULL || seal_blob_key_id(e->blob, e->len, id) != 0) {
			(*failed)++;
			continue;
		}
		seal_key_id_hex(id, hex);
		if (!have_priv || strcmp(hex, have) != 0) {
			have_priv = store_seal_private(ctx->st, mk, hex, priv) == 0;
			snprintf(have, sizeof(have), "%s", have_priv ? hex : "");
		}
		if (!have_priv || seal_rec_aad(uuid, e->channel, e->ordinal, aad) != 0 ||
		    seal_decrypt(priv, aad, sizeof(aad), e->blob, e->len, &pt, &ptlen) != 0) {
			(*failed)++;
			continue;
		}
		secret_free(e->blob, e->len);
		e->blob = pt;
		e->len = ptlen;
		e->opened = 1;
		e->why = NULL;
	}
	explicit_bzero(priv, sizeof(priv));
}

/* Printable ASCII as is, everything else as \xNN: nothing typed by an
 * operator reaches the auditor's terminal as a control. */
static char *
escape(const uint8_t *p, size_t n)
{
	char *o = malloc(4 * n + 1), *q = o;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			*q++ = (char)p[i];
		else if (p[i] == '\\') {
			*q++ = '\\';
			*q++ = '\\';
		} else
			q += sprintf(q, "\\x%02x", p[i]);
	}
	*q = '\0';
	return o;
}

static int
print_all(struct admin_ctx *ctx, const struct reveal *rv)
{
	json_t *arr = ctx->json ? json_array() : NULL;

	if (ctx->json && arr == NULL)
		return ERR_NOMEM;
	if (!ctx->json && rv->n == 0)
		fprintf(ctx->out, "no sealed input in this recording\n");
	for (size_t i = 0; i < rv->n; i++) {
		const struct sealed_in *e = &rv->v[i];
		char ts[48], *text = e->opened ? escape(e->blob, e->len) : NULL;
		time_t t = (time_t)(e->time_us / 1000000);
		struct tm tm;

		gmtime_r(&t, &tm);
		snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(e->time_us / 1000 % 1000));
		if (ctx->json) {
			json_array_append_new(arr,
			                      json_pack("{s:s,s:I,s:I,s:o,s:o}", "time", ts, "channel",
			                                (json_int_t)e->channel, "ordinal", (json_int_t)e->ordinal,
			                                "text", text != NULL ? json_string(text) : json_null(), "error",
			                                e->why != NULL ? json_string(e->why) : json_null()));
		} else if (text != NULL) {
			fprintf(ctx->out, "%s  channel %u  %s\n", ts, e->channel, text);
		} else {
			fprintf(ctx->out, "%s  channel %u  [cannot be opened: %s]\n", ts, e->channel, e->why);
		}
		if (text != NULL) {
			explicit_bzero(text, strlen(text));
			free(text);
		}
	}
	if (ctx->json) {
		char *s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s != NULL) {
			fprintf(ctx->out, "%s\n", s);
			explicit_bzero(s, strlen(s));
			free(s);
		}
		json_decref(arr);
	}
	return 0;
}

int
cmd_reveal(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_REASON, O_CHANNEL, O_AUDITOR };
	static const struct admin_opt opts[] = {{"reason", 1, 0}, {"channel", 1, 0}, {"auditor", 1, 0}, {0}};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_reveal);
	const char *saved_actor = ctx->actor, *why;
	struct admin_args a;
	struct user_rec *aud = NULL;
	struct reveal rv = {0};
	sqlite3_stmt *s = NULL;
	char obj[80], uuid[40] = "", path[4096] = "", actor[320], err[512] = "", *detail = NULL, *end = NULL;
	int64_t sid = 0, channel = -1;
	size_t failed = 0;
	json_t *dj = NULL;
	long long id;
	int r, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 1, &a)) != 0)
		return r;
	if (a.npos != 1) {
		ret = admin_usage(ctx, cmd, "missing SESSION (an id or uuid from 'session list')");
		goto out;
	}
	if (!a.set[O_REASON] || !reason_ok(a.val[O_REASON])) {
		ret = admin_usage(ctx, cmd, "--reason must be 1 to %d printable characters: why this is revealed",
		                  REVEAL_REASON_MAX);
		goto out;
	}
	if (a.set[O_CHANNEL]) {
		errno = 0;
		channel = strtoll(a.val[O_CHANNEL], &end, 10);
		if (errno != 0 || end == a.val[O_CHANNEL] || *end != '\0' || channel < 0 || channel > UINT32_MAX) {
			ret = admin_usage(ctx, cmd, "invalid --channel '%s'", a.val[O_CHANNEL]);
			goto out;
		}
	}
	errno = 0;
	id = strtoll(a.pos[0], &end, 10);
	if (errno != 0 || end == a.pos[0] || *end != '\0')
		id = 0;
	snprintf(obj, sizeof(obj), "session:%s", a.pos[0]);
	/* Who: an auditor, never an operator or a superadmin. */
	if (ctx->local_root) {
		if (!a.set[O_AUDITOR]) {
			ret = admin_usage(ctx, cmd,
			                  "locally, --auditor NAME: an auditor account, whose password and "
			                  "TOTP code are asked for");
			goto out;
		}
		snprintf(actor, sizeof(actor), "%s (local: %s)", a.val[O_AUDITOR], saved_actor);
		ctx->actor = actor;
		if ((why = local_auditor(ctx, a.val[O_AUDITOR], &aud)) != NULL) {
			ret = admin_refuse(ctx, "recording.reveal", obj, AUDIT_HIGH,
			                   "not revealed: %s is not an auditor who authenticated (%s)",
			                   a.val[O_AUDITOR], why);
			goto out;
		}
	} else if (ctx->role != ROLE_AUDITOR) {
		/* the command table allows auditors only; this is the second lock */
		ret = admin_refuse(ctx, "recording.reveal", obj, AUDIT_HIGH, "only an auditor may reveal sealed input");
		goto out;
	} else if (a.set[O_AUDITOR] && strcmp(a.val[O_AUDITOR], ctx->actor) != 0) {
		ret = admin_usage(ctx, cmd, "--auditor is for the local command line");
		goto out;
	}
	if (sqlite3_prepare_v2(store_db(ctx->st), "SELECT id, uuid, recording FROM sessions WHERE id = ?1 OR uuid = ?2",
	                       -1, &s, NULL) != SQLITE_OK) {
		admin_fail(ctx, "cannot read sessions: %s", sqlite3_errmsg(store_db(ctx->st)));
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, a.pos[0], -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_text(s, 1) == NULL || sqlite3_column_text(s, 2) == NULL) {
		admin_fail(ctx, "session '%s' not found, or it has no recording", a.pos[0]);
		goto out;
	}
	sid = sqlite3_column_int64(s, 0);
	snprintf(uuid, sizeof(uuid), "%s", (const char *)sqlite3_column_text(s, 1));
	snprintf(path, sizeof(path), "%s", (const char *)sqlite3_column_text(s, 2));
	snprintf(obj, sizeof(obj), "session:%s", uuid);
	if (collect(path, channel, &rv, err, sizeof(err)) != 0) {
		ret = admin_refuse(ctx, "recording.reveal", obj, AUDIT_HIGH, "%s", err);
		goto out;
	}
	open_all(ctx, uuid, &rv, &failed);
	/* The event first: if it cannot be written, nothing is shown. */
	dj = json_pack("{s:s,s:I,s:o,s:I,s:I}", "reason", a.val[O_REASON], "session", (json_int_t)sid, "channel",
	               channel >= 0 ? json_integer(channel) : json_null(), "records", (json_int_t)rv.n, "failed",
	               (json_int_t)failed);
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (detail == NULL ||
	    admin_audit(ctx, "recording.reveal", obj, failed > 0 ? "partial" : "ok", AUDIT_HIGH, detail) != 0) {
		admin_fail(ctx, "cannot write the audit event: nothing is revealed");
		goto out;
	}
	if (print_all(ctx, &rv) != 0)
		goto out;
	ret = failed > 0 ? ADMIN_EXIT_FAIL : ADMIN_EXIT_OK;
out:
	ctx->actor = saved_actor;
	sqlite3_finalize(s);
	json_decref(dj);
	free(detail);
	user_rec_free(aud);
	reveal_free(&rv);
	admin_args_free(&a);
	return ret;
}
