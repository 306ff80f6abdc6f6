/* Operator authentication: an explicit state machine bound to the connection
 * and to the user name the client sent. Factors: password (local yescrypt or
 * PAM) or a public key proven by signature, then TOTP; first-login password
 * change and TOTP enrolment run inside keyboard-interactive. */
#ifndef GH_PROXY_SRV_AUTH_H
#define GH_PROXY_SRV_AUTH_H

#include <libssh/libssh.h>
#include <libssh/server.h>

struct conn;
struct srv_auth;

/* The decisions run in the monitor (privsep.c), which holds the database,
 * the master key and PAM; the network child only turns SSH messages into
 * an auth_req and applies the auth_rep it gets back. Both are fixed-size
 * plain data so that they cross the socketpair as they are; the monitor
 * treats every field of a request as hostile (auth_req_sanitize). */
#define AUTH_NAME_MAX    256
#define AUTH_ANSWER_MAX  1024 /* longer answers count as missing */
#define AUTH_KEYTYPE_MAX 64
#define AUTH_KEY_MAX     8192 /* base64 public key */
#define AUTH_INSTR_MAX   1024
#define AUTH_PROMPT_MAX  16384 /* the enrolment QR code is drawn in a prompt */

enum auth_req_kind {
	AREQ_NONE = 1, /* method "none": lists the methods */
	AREQ_KBDINT,   /* keyboard-interactive start */
	AREQ_RESPONSE, /* keyboard-interactive INFO_RESPONSE */
	AREQ_OTHER,    /* password, hostbased ...: not offered */
	AREQ_PUBKEY,   /* public key offer (state NONE) or signature (libssh verified: VALID) */
	AREQ_DROPPED,  /* libssh dropped a publickey request (bad signature) without a reply */
};

struct auth_req {
	int kind;
	char user[AUTH_NAME_MAX]; /* as sent; not in a RESPONSE; DROPPED: as libssh logged it */
	int nanswers;             /* RESPONSE: answers received (-1 = unreadable) */
	int have_answer[2];
	char answer[2][AUTH_ANSWER_MAX];
	char key_type[AUTH_KEYTYPE_MAX];
	char key_b64[AUTH_KEY_MAX];
	int key_state; /* enum ssh_publickey_state_e */
};

enum auth_rep_kind {
	AREP_DEFAULT = 1, /* libssh's default reply: failure, listing rep.methods */
	AREP_PROMPTS,     /* an INFO_REQUEST with these prompts (no echo) */
	AREP_SUCCESS,     /* success: authentication is over */
	AREP_PUBKEY,      /* the answer of the auth_pubkey callback is pk_result */
};

struct auth_rep {
	int kind;
	int pk_result;    /* SSH_AUTH_* */
	unsigned methods; /* SSH_AUTH_METHOD_* offered from now on */
	char instruction[AUTH_INSTR_MAX];
	int nprompts;
	char prompt[2][AUTH_PROMPT_MAX];
	int succeeded;            /* every factor passed */
	int exhausted;            /* too many failures, or no reply possible: disconnect */
	int audit_failed;         /* an audit write failed (fail closed): disconnect */
	char name[AUTH_NAME_MAX]; /* the user name as sent, once succeeded */
};

struct srv_auth *srv_auth_new(struct conn *c);
void srv_auth_free(struct srv_auth *a);

/* One request, one reply. Public keys: pk_result is SSH_AUTH_SUCCESS only
 * for a bare offer of the registered key (libssh then answers PK_OK), and
 * SSH_AUTH_PARTIAL for a verified signature (TOTP still to come); never
 * SSH_AUTH_SUCCESS for a signature, which would end authentication. */
void srv_auth_step(struct srv_auth *a, const struct auth_req *rq, struct auth_rep *rp);

/* The connection ends before authentication (client gone, login grace
 * time): a round under way counts as a failed attempt, audited. */
void srv_auth_end(struct srv_auth *a, const char *why);

/* Make a request from an untrusted peer safe to read: strings terminated,
 * counts and kinds in range. Returns 0, or -1 when it makes no sense. */
int auth_req_sanitize(struct auth_req *rq);

#endif
