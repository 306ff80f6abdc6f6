/* Operator authentication state machine, run by the monitor (privsep.h).
 *
 * libssh 0.10 has no keyboard-interactive callback: every SSH_REQUEST_AUTH
 * message reaches the network child's message callback, which turns it into
 * an auth_req for srv_auth_step() here and applies the auth_rep it gets
 * back (conn.c auth_message). An INFO_RESPONSE carries no user name, so
 * the user name and the phase of the attempt are bound here, to this
 * connection; a request with another user name resets everything
 * (Warpgate CVE-2023-48712 let state leak from one user name to another).
 *
 * Keyboard-interactive rounds, in order (each one INFO_REQUEST):
 *
 *   AP_PASSWORD  "Password: "                          (skipped after a valid public key)
 *   AP_CODE      "Verification code: "                 (when TOTP is enrolled)
 *   AP_NEWPW     "New password: ", "Retype new password: " (temporary or expired password)
 *   AP_ENROL     otpauth URI + QR, "Verification code: "   (no TOTP yet, enrolment window open)
 *   AP_SUCCESS
 *
 * Which rounds follow the password is planned from the account's state
 * alone, never from whether the password was right: a wrong password walks
 * the same rounds against dummies (a dummy password change, a dummy
 * enrolment secret) and fails only at the end, so that no prompt confirms a
 * guess before the whole round is judged (the attack review, issue 15). An
 * unknown, removed, locked or inactive user, or one whose enrolment window
 * is closed, is planned like an enrolled user: "Verification code: ", then
 * the generic failure.
 *
 * A round is the unit of guessing: it takes one failure in advance from the
 * store, atomically with the lock check, before its first secret is judged
 * (store_user_attempt_begin), and gives it back only by succeeding. A round
 * that fails, is restarted, is abandoned for another method or user name,
 * or ends with the connection counts as a failed attempt everywhere
 * (account lockout, max_auth_tries, the listener's source penalty), is
 * audited, and its reply is padded. Lock state is read again before the code
 * is judged and before success. */
#include "proxy/srv-auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "auth/pam.h"
#include "auth/password.h"
#include "auth/qr.h"
#include "auth/totp.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/names.h"
#include "common/secret.h"
#include "common/timeutil.h"
#include "common/store.h"
#include "proxy/conn.h"
#include "proxy/hashgate.h"

enum auth_phase {
	AP_IDLE,     /* no keyboard-interactive round in progress */
	AP_PASSWORD, /* "Password: " sent */
	AP_CODE,     /* "Verification code: " sent */
	AP_NEWPW,    /* new password asked twice */
	AP_ENROL,    /* enrolment shown, confirmation code asked */
	AP_SUCCESS,  /* success sent; nothing more is accepted */
};

enum auth_first { AF_NONE, AF_PASSWORD, AF_PUBKEY };

#define AUTH_MAX_ROUNDS 3 /* re-asks of a new password or an enrolment code */
/* Every failure is answered no sooner than this after the request arrived,
 * so that the work done for a known user (TOTP check, failure counter
 * write) does not tell it apart from an unknown one; it also slows guessing.
 * Sleeping is fine here: during authentication this process serves nothing
 * else. */
#define AUTH_FAIL_FLOOR_MS 300

struct srv_auth {
	struct conn *c;
	char *bound_name;        /* user name as sent, the key of all state below */
	struct target_spec spec; /* parsed bound_name */
	struct user_rec *user;   /* NULL when unknown (or the name is malformed) */
	enum auth_phase phase;
	unsigned expect_answers; /* prompts sent in the pending INFO_REQUEST */
	enum auth_first first;   /* the first factor that passed, if any */
	int doomed;              /* this attempt ends in failure whatever is answered */
	char fail_reason[64];    /* why (audit only, never shown) */
	int slot;                /* a failure is counted in advance for this round (store_user_attempt_begin) */
	int plan_code;           /* the rounds planned from the account's state: code, */
	int plan_newpw;          /* password change, */
	int plan_enrol;          /* enrolment */
	int totp_ok;             /* TOTP verified (or enrolled) in this attempt */
	int pw_changed;
	int rounds;     /* re-asks in AP_NEWPW / AP_ENROL */
	int pam_in_use; /* -1 not asked yet; 1 when the store has PAM users (password timing) */
	uint8_t enrol_secret[TOTP_SECRET_LEN];
	int have_enrol_secret;
	int failures;  /* failed attempts on this connection */
	int end;       /* the connection must end (a request libssh could not answer) */
	int64_t t0_ms; /* when the message being handled arrived */
	int succeeded;
	unsigned methods;     /* authentication methods offered now */
	struct auth_rep *rep; /* the reply being built */
};

static const char PROMPT_PASSWORD[] = "Password: ";
static const char PROMPT_CODE[] = "Verification code: ";
static const char PROMPT_NEWPW[] = "New password: ";
static const char PROMPT_RETYPE[] = "Retype new password: ";

struct srv_auth *
srv_auth_new(struct conn *c)
{
	struct srv_auth *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->c = c;
	a->methods = SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_INTERACTIVE;
	a->pam_in_use = -1;
	return a;
}

static void
reset_attempt(struct srv_auth *a)
{
	a->phase = AP_IDLE;
	a->expect_answers = 0;
	a->first = AF_NONE;
	a->doomed = 0;
	a->fail_reason[0] = '\0';
	a->slot = 0;
	a->plan_code = a->plan_newpw = a->plan_enrol = 0;
	a->totp_ok = 0;
	a->pw_changed = 0;
	a->rounds = 0;
	explicit_bzero(a->enrol_secret, sizeof(a->enrol_secret));
	a->have_enrol_secret = 0;
	a->methods = SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_INTERACTIVE;
}

void
srv_auth_free(struct srv_auth *a)
{
	if (a == NULL)
		return;
	explicit_bzero(a->enrol_secret, sizeof(a->enrol_secret));
	free(a->bound_name);
	user_rec_free(a->user);
	free(a);
}

static int
srv_auth_exhausted(const struct srv_auth *a)
{
	int max = a->c->cfg->max_auth_tries > 0 ? a->c->cfg->max_auth_tries : 6;

	return a->failures >= max;
}

/* The actor of audit events: the account part of what was typed. */
static const char *
actor_of(const struct srv_auth *a)
{
	if (a->spec.user[0] != '\0')
		return a->spec.user;
	return a->bound_name != NULL ? a->bound_name : "-";
}

static void
audit_attempt(struct srv_auth *a, const char *type, const char *result, int importance, const char *method,
              const char *reason)
{
	json_t *j = json_object();
	char *detail = NULL;
	char object[160];

	if (j != NULL) {
		json_object_set_new(j, "method", json_string(method));
		if (reason != NULL && reason[0] != '\0')
			json_object_set_new(j, "reason", json_string(reason));
		if (a->bound_name != NULL)
			json_object_set_new(j, "ssh_user", json_string(a->bound_name));
		detail = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(j);
	}
	snprintf(object, sizeof(object), "user:%s", actor_of(a));
	conn_audit(a->c, actor_of(a), type, object, result, importance, detail);
	free(detail);
}

static int fail_attempt(struct srv_auth *a, const char *method, const char *reason);

/* Whether a round is under way: a prompt is pending, or a first factor was
 * given (a public key that passed, or a password that was checked). */
static int
round_open(const struct srv_auth *a)
{
	return a->phase != AP_IDLE || a->first != AF_NONE || a->doomed || a->slot;
}

static const char *
method_name(const struct srv_auth *a)
{
	return a->first == AF_PUBKEY ? "publickey+totp" : "password+totp";
}

/* A round ends without success because the client left it: it restarted,
 * switched method or user name, or the connection ended. Counted, audited
 * and padded like a wrong answer (an attacker must not get free guesses by
 * never answering the last prompt). Returns 1 (default failure reply). */
static int
abandon_round(struct srv_auth *a, const char *why)
{
	char reason[96];

	if (!round_open(a))
		return 0;
	snprintf(reason, sizeof(reason), "round abandoned (%s)%s%s", why, a->doomed ? ": " : "",
	         a->doomed ? a->fail_reason : "");
	return fail_attempt(a, a->first == AF_PUBKEY ? "publickey+totp" : "keyboard-interactive", reason);
}

/* Bind the attempt to a user name; a different name ends the round of the
 * previous one (counted against that user) and resets everything. */
static void
bind_user(struct srv_auth *a, const char *name)
{
	char why[128];

	if (name == NULL)
		name = "";
	if (a->bound_name != NULL && strcmp(a->bound_name, name) == 0)
		return;
	if (a->bound_name != NULL) {
		debug_f("user name changed mid-authentication: state reset");
		abandon_round(a, "user name changed");
	}
	free(a->bound_name);
	user_rec_free(a->user);
	a->user = NULL;
	a->bound_name = strdup(name);
	reset_attempt(a);
	if (target_spec_parse(name, &a->spec) != 0 || name_validate(NAME_USER, a->spec.user, why, sizeof(why)) != 0)
		return; /* malformed: behaves as an unknown user */
	if (store_user_get(a->c->st, a->spec.user, &a->user) != 0)
		a->user = NULL;
}

/* Read the bound user's row again: lock state and counters change under
 * us (other connections, other nodes, the administrator). */
static void
reload_user(struct srv_auth *a)
{
	struct user_rec *u = NULL;

	if (a->user == NULL)
		return;
	if (store_user_get_by_id(a->c->st, a->user->id, &u) != 0) {
		/* Unreadable now: treat as gone, never as still fine. */
		user_rec_free(a->user);
		a->user = NULL;
		return;
	}
	user_rec_free(a->user);
	a->user = u;
}

/* Why the bound user may not log in now, or NULL. Same outcome for all. */
static const char *
user_refusal(const struct srv_auth *a)
{
	const struct gh_config *cfg = a->c->cfg;
	int64_t now = time_now();
	int64_t last;

	if (a->user == NULL)
		return "unknown user";
	if (a->user->removed != 0)
		return "removed user";
	if (a->user->locked)
		return "account locked";
	if (a->user->locked_until > now)
		return "lockout active";
	if (cfg->account_inactive_days > 0) {
		last = a->user->last_login != 0 ? a->user->last_login : a->user->created;
		if (last != 0 && now - last > (int64_t)cfg->account_inactive_days * 86400)
			return "account inactive";
	}
	return NULL;
}

static void
doom(struct srv_auth *a, const char *reason)
{
	if (!a->doomed)
		snprintf(a->fail_reason, sizeof(a->fail_reason), "%s", reason);
	a->doomed = 1;
}

static int64_t
lockout_seconds(const struct srv_auth *a)
{
	return (int64_t)(a->c->cfg->lockout_minutes > 0 ? a->c->cfg->lockout_minutes : 30) * 60;
}

/* Take this round's failure in advance, before its first secret is judged
 * (store.h, store_user_attempt_begin). Refused while the account is locked
 * out, or while lockout_threshold rounds are already counted: then nothing
 * of this round is judged. */
static void
take_slot(struct srv_auth *a)
{
	int threshold = a->c->cfg->lockout_threshold > 0 ? a->c->cfg->lockout_threshold : 0;
	int granted = 0;

	if (a->slot || a->user == NULL || a->user->removed != 0)
		return;
	if (store_user_attempt_begin(a->c->st, a->user->id, threshold, lockout_seconds(a), time_now(), &granted) != 0) {
		error_f("cannot count the login attempt of %s", a->user->name);
		doom(a, "cannot count the attempt");
		return;
	}
	if (!granted) {
		doom(a, "lockout active");
		return;
	}
	a->slot = 1;
}

/* Plan the rounds after the first factor from the account's state, the
 * same whether the factor passed or not (see the comment at the top). */
static void
plan_rounds(struct srv_auth *a)
{
	const struct gh_config *cfg = a->c->cfg;
	const struct user_rec *u = a->user;
	struct pw_policy pol;
	int64_t now = time_now();

	a->plan_code = 1;
	a->plan_newpw = a->plan_enrol = 0;
	if (u == NULL || user_refusal(a) != NULL)
		return;
	if (!u->has_totp) {
		if (cfg->bench_totp_off) {
			/* bench_allow_no_totp: throwaway benchmark data only (documented). */
			a->plan_code = 0;
		} else if (u->enrol_until > now) {
			a->plan_code = 0;
			a->plan_enrol = 1;
		} else {
			/* Enrolment is not a way in: after the one-time window
			 * an administrator must reset (user totp-reset). */
			doom(a, "no TOTP and the enrolment window is closed");
			return;
		}
	}
	if (a->first == AF_PASSWORD && u->auth == USER_AUTH_LOCAL) {
		password_policy_from_config(cfg, &pol);
		a->plan_newpw = u->pw_temporary || password_expired(&pol, u->pw_changed, now);
	}
}

static int
send_prompts(struct srv_auth *a, enum auth_phase phase, const char *instruction, unsigned n, const char **prompts)
{
	struct auth_rep *rp = a->rep;

	a->phase = phase;
	a->expect_answers = n;
	if (n > 2)
		return 1;
	rp->kind = AREP_PROMPTS;
	snprintf(rp->instruction, sizeof(rp->instruction), "%s", instruction != NULL ? instruction : "");
	rp->nprompts = (int)n;
	for (unsigned i = 0; i < n; i++)
		snprintf(rp->prompt[i], sizeof(rp->prompt[i]), "%s", prompts[i]);
	return 0;
}

static int
ask_code(struct srv_auth *a)
{
	const char *p[1] = {PROMPT_CODE};

	return send_prompts(a, AP_CODE, NULL, 1, p);
}

static int
ask_new_password(struct srv_auth *a, const char *instruction)
{
	const char *p[2] = {PROMPT_NEWPW, PROMPT_RETYPE};

	return send_prompts(a, AP_NEWPW, instruction, 2, p);
}

/* Show the otpauth:// URI (instruction; OpenSSH prints it through its log
 * function, which escapes non-ASCII and truncates at 1 KiB) and the QR code
 * (in the prompt, which OpenSSH prints as UTF-8 text). A doomed round shows
 * a random secret that no account will ever have. */
static int
ask_enrolment(struct srv_auth *a, const char *note)
{
	char *b32 = NULL, *uri = NULL, *qr = NULL, *prompt = NULL;
	char instruction[1024];
	const char *p[1];
	const char *issuer = a->c->cfg->totp_issuer != NULL ? a->c->cfg->totp_issuer : "Gatehouse";
	int r = 1;

	if (!a->have_enrol_secret) {
		if (totp_secret_generate(a->enrol_secret, sizeof(a->enrol_secret)) != 0)
			goto out;
		a->have_enrol_secret = 1;
	}
	if (totp_base32_encode(a->enrol_secret, sizeof(a->enrol_secret), &b32) != 0 ||
	    totp_uri(issuer, a->spec.user, b32, &uri) != 0)
		goto out;
	if (qr_render_text(uri, 1, &qr) != 0)
		qr = NULL;
	snprintf(instruction, sizeof(instruction),
	         "%s%sTwo-factor enrolment: add this account to your authenticator app\n%s\nSecret: %s",
	         note != NULL ? note : "", note != NULL ? "\n" : "", uri, b32);
	if (asprintf(&prompt, "\r\n%sVerification code: ", qr != NULL ? qr : "") < 0) {
		prompt = NULL;
		goto out;
	}
	p[0] = prompt;
	r = send_prompts(a, AP_ENROL, instruction, 1, p);
out:
	if (b32 != NULL)
		secret_free(b32, strlen(b32));
	if (uri != NULL)
		secret_free(uri, strlen(uri));
	free(qr); /* the QR holds the secret too, but libqrencode's output is a picture of it */
	free(prompt);
	return r;
}

static void
sleep_until_mono(int64_t until_ms)
{
	int64_t left = until_ms - time_mono_ms();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)(left / 1000);
	ts.tv_nsec = (long)(left % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
pad_failure(const struct srv_auth *a)
{
	int64_t left = a->t0_ms + AUTH_FAIL_FLOOR_MS - time_mono_ms();

	if (a->t0_ms == 0 || left <= 0 || left > AUTH_FAIL_FLOOR_MS)
		return;
	sleep_until_mono(a->t0_ms + AUTH_FAIL_FLOOR_MS);
}

/* Fail the attempt: count, audit, pad, reset. The round counts against the
 * account when it took its failure in advance (a secret of it was judged);
 * every failure counts against the connection (max_auth_tries) and the
 * source (the listener's penalty). Returns 1 (default failure reply). */
static int
fail_attempt(struct srv_auth *a, const char *method, const char *reason)
{
	const struct gh_config *cfg = a->c->cfg;
	int now_locked = 0;
	/* lockout_threshold = 0 turns the lockout off, as documented (failures
	 * are still counted; the store locks only for a threshold > 0). */
	int threshold = cfg->lockout_threshold > 0 ? cfg->lockout_threshold : 0;
	int64_t lock_s = lockout_seconds(a);

	if (a->slot && a->user != NULL && a->user->removed == 0) {
		if (store_user_record_failure(a->c->st, a->user->id, threshold, lock_s, time_now(), a->slot,
		                              &now_locked) != 0)
			error_f("cannot record the failure of %s", a->user->name);
	}
	audit_attempt(a, "auth.fail", "fail", AUDIT_NOTICE, method, reason);
	if (now_locked) {
		audit_attempt(a, "auth.lockout", "locked", AUDIT_HIGH, method, "too many failures");
		info("account %s locked for %lld s after %d failures", a->user->name, (long long)lock_s, threshold);
	}
	info("authentication failed for %s (%s): %s", actor_of(a), method, reason);
	a->failures++;
	conn_notify_auth_failure();
	pad_failure(a);
	reset_attempt(a);
	/* Reload so that a lockout set by this or another connection counts. */
	reload_user(a);
	return 1;
}

static int
succeed(struct srv_auth *a, const char *method)
{
	const char *why;

	/* The last look at the account: another connection may have locked
	 * it (or an administrator removed it) while this round ran. */
	reload_user(a);
	if ((why = user_refusal(a)) != NULL)
		return fail_attempt(a, method, why);
	if (store_user_record_success(a->c->st, a->user->id, time_now()) != 0)
		error_f("cannot record the login of %s", a->user->name);
	audit_attempt(a, "auth.success", "ok", AUDIT_NOTICE, method, NULL);
	info("user %s authenticated (%s)", a->user->name, method);
	a->phase = AP_SUCCESS;
	a->succeeded = 1;
	a->slot = 0;
	explicit_bzero(a->enrol_secret, sizeof(a->enrol_secret));
	a->rep->kind = AREP_SUCCESS;
	return 0;
}

/* The transition after a round: the next one of the plan, or the end. */
static int
advance(struct srv_auth *a)
{
	if (a->first == AF_NONE && !a->doomed)
		return fail_attempt(a, "keyboard-interactive", "incomplete");
	if (a->plan_code && !a->totp_ok)
		return ask_code(a);
	if (a->plan_newpw && !a->pw_changed) {
		a->rounds = 0;
		return ask_new_password(a, "Your password is temporary or has expired and must be changed now.");
	}
	if (a->plan_enrol && !a->totp_ok) {
		a->rounds = 0;
		return ask_enrolment(a, NULL);
	}
	if (a->doomed || a->user == NULL)
		return fail_attempt(a, method_name(a), a->fail_reason[0] ? a->fail_reason : "incomplete");
	if (!a->user->has_totp && a->c->cfg->bench_totp_off)
		return succeed(a, a->first == AF_PUBKEY ? "publickey (no totp: bench)" : "password (no totp: bench)");
	return succeed(a, method_name(a));
}

/* Whether the store holds PAM users, asked once per connection: then every
 * password check takes pam_time, so that timing tells neither a PAM user
 * from an unknown or local one, nor a right PAM password from a wrong one. */
static int
pam_in_use(struct srv_auth *a)
{
	if (a->pam_in_use < 0)
		a->pam_in_use = store_user_any_pam(a->c->st) == 1;
	return a->pam_in_use;
}

/* First factor: the password. Always costs one hash verification (or one
 * PAM conversation), and is judged only under this round's counted failure. */
static void
check_password(struct srv_auth *a, const char *pw)
{
	const struct gh_config *cfg = a->c->cfg;
	const char *refusal = user_refusal(a);
	int64_t t0 = time_mono_ms();
	int r;

	if (refusal == NULL)
		take_slot(a);
	hashgate_enter(a->c->src_addr); /* bounded per source and globally; may wait, never skips */
	t0 = time_mono_ms();
	if (a->user != NULL && a->user->auth == USER_AUTH_PAM && a->user->removed == 0) {
		r = pam_check_password(cfg->pam_service != NULL ? cfg->pam_service : "gatehouse", cfg->pam_confdir,
		                       a->user->name, pw);
		if (r == ERR_EXPIRED)
			doom(a, "password expired (pam)");
		else if (r != 0)
			doom(a, "bad password");
	} else {
		const char *hash = password_dummy_hash();

		if (a->user != NULL && a->user->removed == 0 && a->user->pw_hash != NULL)
			hash = a->user->pw_hash;
		r = password_verify(pw, hash);
		if (hash == password_dummy_hash())
			doom(a, a->user == NULL ? "unknown user" : "no password set");
		else if (r != 0)
			doom(a, "bad password");
	}
	hashgate_leave(); /* before the padding: a pad must not hold a slot of the gate */
	if (cfg->pam_time_ms > 0 && pam_in_use(a)) {
		if (time_mono_ms() - t0 > cfg->pam_time_ms)
			verbose("password check took longer than pam_time (%d ms): raise it", cfg->pam_time_ms);
		sleep_until_mono(t0 + cfg->pam_time_ms);
	}
	if (refusal != NULL)
		doom(a, refusal);
	a->first = AF_PASSWORD;
	plan_rounds(a);
}

/* Decrypt the user's TOTP secret. Every writer (enrolment, `user add
 * --totp-secret`, `init`) stores the raw key bytes, and they are read as
 * such: guessing at a Base32 text here once decoded a raw key whose bytes
 * happened to be Base32 characters a second time (issue 15). */
static int
load_totp_secret(struct srv_auth *a, uint8_t **secret, size_t *len)
{
	struct secret_key *k = conn_master_key(a->c);
	uint8_t *sealed = NULL;
	size_t slen = 0;
	int r = ERR_INTERNAL;

	if (k == NULL)
		goto out;
	if ((r = store_user_get_totp(a->c->st, a->user->id, &sealed, &slen)) != 0)
		goto out;
	r = secret_open(k, "users", a->user->id, sealed, slen, secret, len);
out:
	free(sealed);
	return r;
}

/* Second factor: the code. Replay is refused across connections by the
 * atomic step advance in the store. */
static const char *
check_code(struct srv_auth *a, const char *code)
{
	uint8_t *secret = NULL;
	size_t len = 0;
	int64_t step = 0;
	const char *why = NULL;
	int r;

	if (load_totp_secret(a, &secret, &len) != 0) {
		why = "cannot load the TOTP secret";
		goto out;
	}
	r = totp_verify(secret, len, code, time(NULL), a->user->totp_last_step, &step);
	if (r == ERR_REPLAY) {
		why = "reused code";
		goto out;
	}
	if (r != 0) {
		why = "bad code";
		goto out;
	}
	if ((r = store_user_advance_totp_step(a->c->st, a->user->id, step)) != 0) {
		/* A store error (disk full) is not a replay: say which, for the
		 * administrator reading the log; the login fails either way. */
		why = r == ERR_REPLAY ? "reused code" : "cannot store the TOTP step";
		goto out;
	}
	a->user->totp_last_step = step;
out:
	secret_free(secret, len);
	return why;
}

/* The rules a new password must meet. A doomed round checks the same rules
 * with the same amount of hashing, but against dummies: comparing with the
 * account's current or old hashes would be an oracle for them. */
static void
judge_new_password(struct srv_auth *a, const char *pw1, const char *pw2, char *why, size_t whylen)
{
	const struct gh_config *cfg = a->c->cfg;
	const char *current = password_dummy_hash();
	struct pw_policy pol;
	char **hist = NULL;
	size_t nhist = 0;

	password_policy_from_config(cfg, &pol);
	why[0] = '\0';
	if (!a->doomed && a->user->pw_hash != NULL)
		current = a->user->pw_hash;
	if (strcmp(pw1, pw2) != 0) {
		snprintf(why, whylen, "the two passwords differ");
	} else if (password_check_policy(&pol, pw1, a->spec.user, why, whylen) != 0) {
		/* why says which rule failed */
	} else if (password_verify(pw1, current) == 0 && !a->doomed) {
		snprintf(why, whylen, "the new password must differ from the current one");
	} else if (pol.history > 0 && a->user != NULL &&
	           store_user_password_history(a->c->st, a->user->id, (size_t)pol.history, &hist, &nhist) == 0) {
		if (a->doomed) {
			for (size_t i = 0; i < nhist; i++)
				(void)password_verify(pw1, password_dummy_hash());
		} else if (password_check_history(pw1, hist, nhist, why, whylen) != 0) {
			/* why names the reuse */
		}
		store_strv_free(hist, nhist);
	}
}

static int
on_new_password(struct srv_auth *a, const char *pw1, const char *pw2)
{
	char why[256], note[320];
	char *hash = NULL;
	int r;

	judge_new_password(a, pw1, pw2, why, sizeof(why));
	if (why[0] != '\0') {
		if (!a->doomed)
			audit_attempt(a, "auth.password_change", "refused", AUDIT_NOTICE, "keyboard-interactive", why);
		if (++a->rounds >= AUTH_MAX_ROUNDS)
			return fail_attempt(a, "keyboard-interactive",
			                    a->doomed ? a->fail_reason : "password change refused too often");
		snprintf(note, sizeof(note), "Password not changed: %s.", why);
		return ask_new_password(a, note);
	}
	if (a->doomed) {
		a->pw_changed = 1; /* the same next round; nothing is stored */
		return advance(a);
	}
	r = password_hash(pw1, &hash);
	if (r == 0)
		r = store_user_set_password(a->c->st, a->user->id, hash, 0, time_now());
	if (hash != NULL)
		secret_free(hash, strlen(hash));
	if (r != 0) {
		error_f("cannot store the new password of %s: %s", a->user->name, gh_strerror(r));
		return fail_attempt(a, "keyboard-interactive", "cannot store the new password");
	}
	audit_attempt(a, "auth.password_change", "ok", AUDIT_NOTICE, "keyboard-interactive", NULL);
	a->pw_changed = 1;
	return advance(a);
}

static int
on_enrol_code(struct srv_auth *a, const char *code)
{
	struct secret_key *k = conn_master_key(a->c);
	uint8_t *sealed = NULL;
	size_t slen = 0;
	int64_t step = 0;
	int r;

	r = totp_verify(a->enrol_secret, sizeof(a->enrol_secret), code, time(NULL),
	                a->user != NULL ? a->user->totp_last_step : 0, &step);
	if (r != 0) {
		if (++a->rounds >= AUTH_MAX_ROUNDS)
			return fail_attempt(a, "keyboard-interactive",
			                    a->doomed ? a->fail_reason : "enrolment code wrong too often");
		return ask_enrolment(a, "That code was not right; try again with the next one.");
	}
	if (a->doomed) {
		a->totp_ok = 1; /* a dummy secret: the round fails at its end */
		return advance(a);
	}
	/* The window may have been closed meanwhile (another connection
	 * enrolled, an administrator reset): look again before storing. */
	reload_user(a);
	if (a->user == NULL || a->user->has_totp || a->user->enrol_until <= time_now())
		return fail_attempt(a, "keyboard-interactive", "enrolment window closed");
	if (k == NULL ||
	    secret_seal(k, "users", a->user->id, a->enrol_secret, sizeof(a->enrol_secret), &sealed, &slen) != 0 ||
	    store_user_set_totp(a->c->st, a->user->id, sealed, slen) != 0 ||
	    store_user_advance_totp_step(a->c->st, a->user->id, step) != 0) {
		free(sealed);
		return fail_attempt(a, "keyboard-interactive", "cannot store the TOTP secret");
	}
	free(sealed);
	a->user->has_totp = 1;
	a->user->totp_last_step = step;
	a->totp_ok = 1;
	audit_attempt(a, "auth.totp_enrol", "ok", AUDIT_HIGH, "keyboard-interactive", NULL);
	return advance(a);
}

/* An INFO_RESPONSE: exactly as many answers as prompts, then the phase's check. */
static int
on_kbdint_response(struct srv_auth *a, const struct auth_req *rq)
{
	int n = rq->nanswers;
	const char *ans0, *ans1;
	const char *why;

	if (a->phase == AP_IDLE || a->phase == AP_SUCCESS || a->bound_name == NULL)
		return fail_attempt(a, "keyboard-interactive", "response without a request");
	if (n < 0 || (unsigned)n != a->expect_answers)
		return fail_attempt(a, "keyboard-interactive", "answer count differs from prompt count");
	ans0 = n > 0 && rq->have_answer[0] ? rq->answer[0] : NULL;
	ans1 = n > 1 && rq->have_answer[1] ? rq->answer[1] : NULL;
	if (ans0 == NULL || (n > 1 && ans1 == NULL))
		return fail_attempt(a, "keyboard-interactive", "missing answer");

	switch (a->phase) {
	case AP_PASSWORD:
		check_password(a, ans0);
		return advance(a); /* the plan, the same for a right and a wrong password */
	case AP_CODE:
		/* A public-key round judges its first secret here. */
		if (!a->doomed)
			take_slot(a);
		if (a->doomed)
			return fail_attempt(a, method_name(a), a->fail_reason);
		reload_user(a);
		if ((why = user_refusal(a)) != NULL)
			return fail_attempt(a, method_name(a), why);
		if ((why = check_code(a, ans0)) != NULL)
			return fail_attempt(a, method_name(a), why);
		a->totp_ok = 1;
		return advance(a);
	case AP_NEWPW: return on_new_password(a, ans0, ans1);
	case AP_ENROL: return on_enrol_code(a, ans0);
	default: break;
	}
	return fail_attempt(a, "keyboard-interactive", "unexpected phase");
}

/* Whether the offered key is the user's stored key. */
static int
pubkey_matches(const struct srv_auth *a, ssh_key offered)
{
	char *line = NULL, *type, *b64, *save = NULL;
	ssh_key stored = NULL;
	int match = 0;

	if (a->user == NULL || a->user->pubkey == NULL || offered == NULL)
		return 0;
	if ((line = strdup(a->user->pubkey)) == NULL)
		return 0;
	type = strtok_r(line, " \t", &save);
	b64 = type != NULL ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	if (b64 != NULL && ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &stored) == SSH_OK)
		match = ssh_key_cmp(stored, offered, SSH_KEY_CMP_PUBLIC) == 0;
	ssh_key_free(stored);
	free(line);
	return match;
}

/* A public key offer (state NONE) or signed request (libssh checked the
 * signature: state VALID). Returns an SSH_AUTH_* answer. */
static int
on_pubkey(struct srv_auth *a, const struct auth_req *rq)
{
	ssh_key key = NULL;
	int match, state = rq->key_state;
	const char *why;

	if (a->succeeded)
		return SSH_AUTH_DENIED;
	bind_user(a, rq->user);
	/* Any USERAUTH_REQUEST ends the round under way (RFC 4252, 4256). */
	abandon_round(a, "new publickey request");
	if (srv_auth_exhausted(a))
		return SSH_AUTH_DENIED;
	if (ssh_pki_import_pubkey_base64(rq->key_b64, ssh_key_type_from_name(rq->key_type), &key) != SSH_OK)
		key = NULL;
	match = pubkey_matches(a, key);
	ssh_key_free(key);
	if (state == SSH_PUBLICKEY_STATE_NONE) {
		/* A bare offer proves nothing (Warpgate CVE-2023-43660): it only
		 * earns PK_OK so that the client signs. */
		return match ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
	}
	if (state != SSH_PUBLICKEY_STATE_VALID || !match) {
		fail_attempt(a, "publickey",
		             state == SSH_PUBLICKEY_STATE_VALID ? "key not registered" : "bad signature");
		return SSH_AUTH_DENIED;
	}
	a->first = AF_PUBKEY;
	if ((why = user_refusal(a)) != NULL) {
		/* Same answer as for a usable account: partial success, then the
		 * code prompt fails. */
		doom(a, why);
	}
	plan_rounds(a);
	a->methods = SSH_AUTH_METHOD_INTERACTIVE;
	debug("public key accepted for %s; second factor required", actor_of(a));
	return SSH_AUTH_PARTIAL;
}

static int
on_request(struct srv_auth *a, const struct auth_req *rq)
{
	const char *p[1] = {PROMPT_PASSWORD};

	if (a->succeeded)
		return 1;
	if (rq->kind == AREQ_RESPONSE)
		return on_kbdint_response(a, rq);
	if (rq->kind == AREQ_DROPPED) {
		/* libssh dropped a publickey request whose signature did not
		 * verify, without replying (conn.c): a failed attempt, and the
		 * connection ends since no failure can be sent. The user name
		 * is the one libssh logged for that request. */
		if (rq->user[0] != '\0')
			bind_user(a, rq->user);
		if (round_open(a))
			abandon_round(a, "invalid signature");
		else
			fail_attempt(a, "publickey", "invalid signature");
		a->end = 1;
		return 1;
	}

	bind_user(a, rq->user);
	switch (rq->kind) {
	case AREQ_NONE: abandon_round(a, "none request"); return 1; /* lists the methods */
	case AREQ_KBDINT:
		/* After a public key passed, keyboard-interactive continues the
		 * round; any other new request restarts it, which counts. */
		if (a->phase != AP_IDLE)
			abandon_round(a, "new keyboard-interactive request");
		if (srv_auth_exhausted(a))
			return 1;
		if (a->first == AF_PUBKEY)
			return advance(a);
		return send_prompts(a, AP_PASSWORD, NULL, 1, p);
	default:
		/* password, hostbased, gssapi: not offered. */
		if (round_open(a))
			return abandon_round(a, "method not offered");
		return fail_attempt(a, "other", "method not offered");
	}
}

void
srv_auth_end(struct srv_auth *a, const char *why)
{
	if (a == NULL || a->succeeded)
		return;
	a->t0_ms = 0; /* nobody to answer: no padding */
	abandon_round(a, why);
}

void
srv_auth_step(struct srv_auth *a, const struct auth_req *rq, struct auth_rep *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->kind = AREP_DEFAULT;
	a->rep = rp;
	a->t0_ms = time_mono_ms();
	if (rq->kind == AREQ_PUBKEY) {
		rp->kind = AREP_PUBKEY;
		rp->pk_result = on_pubkey(a, rq);
	} else if (on_request(a, rq) != 0) {
		rp->kind = AREP_DEFAULT;
	}
	a->rep = NULL;
	rp->methods = a->methods;
	rp->succeeded = a->succeeded;
	rp->exhausted = srv_auth_exhausted(a) || a->end;
	rp->audit_failed = a->c->audit_failed;
	if (a->succeeded && a->bound_name != NULL)
		snprintf(rp->name, sizeof(rp->name), "%s", a->bound_name);
}

int
auth_req_sanitize(struct auth_req *rq)
{
	rq->user[sizeof(rq->user) - 1] = '\0';
	rq->key_type[sizeof(rq->key_type) - 1] = '\0';
	rq->key_b64[sizeof(rq->key_b64) - 1] = '\0';
	for (int i = 0; i < 2; i++) {
		rq->answer[i][sizeof(rq->answer[i]) - 1] = '\0';
		rq->have_answer[i] = rq->have_answer[i] != 0;
	}
	if (rq->kind < AREQ_NONE || rq->kind > AREQ_DROPPED)
		return -1;
	if (rq->nanswers < -1 || rq->nanswers > 64)
		rq->nanswers = -1;
	if (rq->key_state != SSH_PUBLICKEY_STATE_NONE && rq->key_state != SSH_PUBLICKEY_STATE_VALID)
		rq->key_state = SSH_PUBLICKEY_STATE_WRONG;
	return 0;
}
