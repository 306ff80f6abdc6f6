/* The per-connection process: key exchange, authentication, then one loop
 * that polls both sessions and steps every channel.
 *
 * Session life (enum conn_state):
 *   CONN_KEX -> CONN_AUTH -> CONN_RUNNING -> CONN_DRAINING -> CONN_DONE
 * CONN_DRAINING is entered on idle timeout, shutdown, recorder or audit
 * failure: every channel is told why and closed; CONN_DONE when none is left
 * or the operator is gone. Nothing is freed inside ssh_event_dopoll. */
#include "proxy/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <libssh/callbacks.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/timeutil.h"
#include "proxy/algorithms.h"
#include "proxy/audit-sink.h"
#include "proxy/chan.h"
#include "proxy/cmdctl.h"
#include "proxy/hashgate.h"
#include "proxy/kill.h"
#include "proxy/preauth.h"
#include "proxy/privsep.h"
#include "proxy/session-db.h"
#include "proxy/sessrec.h"
#include "proxy/srv-auth.h"
#include "proxy/tunnel.h"
#include "recorder/recorder.h"

#define GH_MASTER_KEY_FILE "master.key"
#define CONN_MAX_CHANNELS  16   /* live channels per connection (OpenSSH's MaxSessions is 10) */
#define CONN_POLL_MS       250  /* upper bound between two level-triggered passes */
#define CONN_DB_UPDATE_MS  5000 /* sessions row progress */

volatile sig_atomic_t conn_got_term;
static volatile sig_atomic_t conn_got_evict; /* the listener gave our slot to a newcomer (SIGUSR2) */
static int auth_notify_fd = -1;

void
conn_set_auth_notify_fd(int fd)
{
	auth_notify_fd = fd;
}

void
conn_notify_auth_failure(void)
{
	/* Best effort: a full pipe (the listener is busy) only loses a count. */
	if (auth_notify_fd >= 0 && write(auth_notify_fd, "F", 1) != 1)
		debug("cannot report an authentication failure to the listener");
}

static void
notify_authenticated(void)
{
	if (auth_notify_fd < 0)
		return;
	if (write(auth_notify_fd, "A", 1) != 1)
		debug("cannot report authentication to the listener");
	close(auth_notify_fd);
	auth_notify_fd = -1;
}

static void
on_term(int sig)
{
	(void)sig;
	conn_got_term = 1;
}

/* Login grace time over. The first alarm only sets a flag: the monitor's
 * loop then ends a login round under way as a failed attempt (audited) and
 * stops. Should the monitor be stuck (a PAM module that never returns), a
 * second alarm 5 s later ends it here: nothing to clean up that the parent
 * cannot. Either way the listener is told (write(2) is async-signal-safe)
 * so that the expiry counts against the source like a failed login. */
static volatile sig_atomic_t conn_got_alarm;

static void
on_alarm(int sig)
{
	ssize_t n = 0;

	(void)sig;
	if (!conn_got_alarm) {
		conn_got_alarm = 1;
		alarm(5);
		return;
	}
	if (auth_notify_fd >= 0)
		n = write(auth_notify_fd, "G", 1);
	(void)n;
	_exit(2);
}

static void
notify_grace_expired(void)
{
	if (auth_notify_fd >= 0 && write(auth_notify_fd, "G", 1) != 1)
		debug("cannot report the grace time expiry to the listener");
}

/* The listener evicts a stalled unauthenticated connection (listener.c
 * evict_for): the monitor's loop ends it. Ignored once authenticated. A
 * monitor waiting for the hash gate ends here: it would otherwise live on
 * uncounted until its turn, and dying there leaves nothing the listener
 * cannot take back (hashgate.h). */
static void
on_evict(int sig)
{
	(void)sig;
	if (hashgate_waiting())
		_exit(3);
	conn_got_evict = 1;
}

/* Monitor: tell the listener how authentication progresses ("K" on the
 * first request, "P" on progress: preauth.h), so that it knows which
 * unauthenticated connections have stalled without parsing SSH. */
static void
notify_request(const struct auth_req *rq, int *nrequests)
{
	char ev[2];
	int n = preauth_request_reports(rq, (*nrequests)++ == 0, ev);

	if (n > 0 && auth_notify_fd >= 0 && write(auth_notify_fd, ev, (size_t)n) != n)
		debug("cannot report authentication progress to the listener");
}

void
conn_set_end_reason(struct conn *c, const char *reason)
{
	if (c->end_reason[0] == '\0')
		snprintf(c->end_reason, sizeof(c->end_reason), "%s", reason);
}

void
conn_audit(struct conn *c, const char *actor, const char *type, const char *object, const char *result, int importance,
           const char *detail)
{
	struct audit_event ev = {
	        .actor = actor != NULL ? actor : "-",
	        .source = c->source,
	        .type = type,
	        .object = object != NULL ? object : "-",
	        .result = result,
	        .importance = (enum audit_importance)importance,
	        .detail = detail,
	};
	int r = audit_append(c->st, &ev, NULL);

	if (r != 0) {
		error("cannot append audit event %s: %s", type, gh_strerror(r));
		if (!c->cfg->audit_fail_open)
			c->audit_failed = 1;
	}
}

struct secret_key *
conn_master_key(struct conn *c)
{
	char path[4096];
	int r;

	if (c->mkey != NULL)
		return c->mkey;
	snprintf(path, sizeof(path), "%s/%s", c->datadir, GH_MASTER_KEY_FILE);
	if ((r = secret_key_load(path, &c->mkey)) != 0) {
		error("cannot load the master key %s: %s", path, gh_strerror(r));
		c->mkey = NULL;
	}
	return c->mkey;
}

static int
make_uuid(char out[37])
{
	uint8_t b[16];

	if (secret_random(b, sizeof(b)) != 0)
		return ERR_CRYPTO;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
	         b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

static void
audit_session(struct conn *c, const char *type, const char *result, int importance, const char *reason)
{
	json_t *j = json_object();
	char *detail;
	char object[120];

	json_object_set_new(j, "asset", json_string(c->asset != NULL ? c->asset->name : ""));
	json_object_set_new(j, "login", json_string(c->login != NULL ? c->login : ""));
	if (c->rec_path != NULL)
		json_object_set_new(j, "recording", json_string(c->rec_path));
	if (reason != NULL) {
		json_object_set_new(j, "reason", json_string(reason));
		json_object_set_new(j, "bytes_in", json_integer((json_int_t)c->bytes_in));
		json_object_set_new(j, "bytes_out", json_integer((json_int_t)c->bytes_out));
		/* The recording's chain head in the audit hash chain: the trail
		 * then vouches for the recording, frame by frame. */
		if (c->rec_head[0] != '\0') {
			json_object_set_new(j, "rec_head", json_string(c->rec_head));
			json_object_set_new(j, "rec_frames", json_integer((json_int_t)c->rec_frames));
			json_object_set_new(j, "rec_bytes", json_integer((json_int_t)c->rec_bytes));
		}
	}
	detail = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	snprintf(object, sizeof(object), "session:%s", c->uuid);
	conn_audit(c, c->user->name, type, object, result, importance, detail);
	free(detail);
}

int
conn_begin_session(struct conn *c)
{
	json_t *h = NULL;
	char *header = NULL, start_iso[40];
	struct sessdb_start s;
	int r = ERR_INTERNAL;

	/* Menu: the session began with the first channel, the target comes now. */
	if (c->session_row != 0) {
		sessrec_target(c); /* a failure is logged (and a recorder failure handled): not fatal */
		return 0;
	}
	if (c->begin_failed)
		return ERR_INTERNAL; /* refused once: refuse every later channel too */
	c->begin_failed = 1;
	if ((r = make_uuid(c->uuid)) != 0)
		goto out;
	if (asprintf(&c->rec_path, "%s/recordings/%s.ghrec", c->datadir, c->uuid) < 0) {
		c->rec_path = NULL;
		r = ERR_NOMEM;
		goto out;
	}
	time_now_iso_ms(start_iso, sizeof(start_iso));
	/* Menu sessions begin before the target is known: asset and login are
	 * null here and named later by a REC_MARK {"target": ...}. */
	c->target_recorded = c->asset != NULL;
	h = json_pack("{s:i,s:s,s:s,s:s,s:i,s:s,s:s?,s:s?,s:s}", "version", 1, "session", c->uuid, "user",
	              c->user->name, "source_addr", c->src_addr, "source_port", c->src_port, "source", c->source,
	              "asset", c->asset != NULL ? c->asset->name : NULL, "login", c->asset != NULL ? c->login : NULL,
	              "start", start_iso);
	if (h == NULL || (header = json_dumps(h, JSON_COMPACT)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	r = rec_writer_open(c->rec_path, header, &c->rec);
	if (r != 0) {
		c->rec = NULL;
		error("cannot create the recording %s: %s", c->rec_path, gh_strerror(r));
		conn_audit(c, c->user->name, "recording.fail", c->rec_path, "fail", AUDIT_CRITICAL,
		           "{\"stage\":\"open\"}");
		if (!c->cfg->recording_fail_open)
			goto out; /* fail closed: no session without its recording */
		c->rec_failed = 1;
		free(c->rec_path);
		c->rec_path = NULL;
	}
	memset(&s, 0, sizeof(s));
	s.uuid = c->uuid;
	s.user = c->user->name;
	s.source_addr = c->src_addr;
	s.source_port = c->src_port;
	s.asset = c->asset != NULL ? c->asset->name : NULL;
	s.login = c->asset != NULL ? c->login : NULL;
	s.pid = (int)getpid();
	s.recording = c->rec_path;
	s.start_ms = time_now() * 1000;
	if ((r = sessdb_start(c->st, &s, &c->session_row)) != 0) {
		error("cannot insert the sessions row: %s", gh_strerror(r));
		c->session_row = 0;
		goto out;
	}
	c->begin_failed = 0;
	audit_session(c, "session.start", "ok", AUDIT_INFO, NULL);
	info("session %s: %s -> %s@%s, recording %s", c->uuid, c->user->name, c->asset != NULL ? c->login : "(menu)",
	     c->asset != NULL ? c->asset->name : "(menu)", c->rec_path != NULL ? c->rec_path : "(none)");
	r = 0;
out:
	json_decref(h);
	free(header);
	return r;
}

int
conn_rec_failed(struct conn *c, int err)
{
	if (c->rec_failed)
		return c->cfg->recording_fail_open ? 0 : err;
	c->rec_failed = 1;
	error("recording %s failed: %s", c->rec_path != NULL ? c->rec_path : "?", gh_strerror(err));
	rec_writer_free(c->rec);
	c->rec = NULL;
	conn_audit(c, c->user != NULL ? c->user->name : "-", "recording.fail", c->rec_path != NULL ? c->rec_path : "-",
	           "fail", AUDIT_CRITICAL, "{\"stage\":\"write\"}");
	if (c->cfg->recording_fail_open)
		return 0;
	conn_set_end_reason(c, "recording failed");
	chan_end_all(c, "the session recording failed; the session is closed");
	c->state = CONN_DRAINING;
	return err;
}

/* ---- libssh callbacks: they record, the loop acts ------------------- */

static struct chan *
chan_of(struct conn *c, ssh_channel channel)
{
	struct chan *ch;

	for (ch = c->chans; ch != NULL; ch = ch->next)
		if (ch->down == channel)
			return ch;
	return NULL;
}

static int
live_channels(const struct conn *c)
{
	const struct chan *ch;
	int n = 0;

	for (ch = c->chans; ch != NULL; ch = ch->next)
		n += ch->setup < CS_CLOSING;
	return n;
}

/* Public key offers and signatures come through the server callback (the
 * message accessors for them are deprecated in 0.10); the state machine is
 * the same object as for keyboard-interactive. */
/* Network child: one authentication step, decided by the monitor. The
 * methods it allows from now on are set before libssh answers. */
static int
auth_step(struct conn *c, const struct auth_req *rq, struct auth_rep *rp)
{
	if (privsep_auth(c->mon_fd, rq, rp) != 0) {
		error("the monitor does not answer: ending the connection");
		c->auth_end = 1;
		return ERR_IO;
	}
	ssh_set_auth_methods(c->srv, (int)rp->methods);
	if (rp->exhausted || rp->audit_failed)
		c->auth_end = 1;
	if (rp->succeeded) {
		c->auth_ok = 1;
		snprintf(c->auth_name, sizeof(c->auth_name), "%s", rp->name);
	}
	return 0;
}

/* An SSH_REQUEST_AUTH message: 0 when answered, 1 for libssh's default
 * (failure) reply. */
static int
auth_message(struct conn *c, ssh_message msg)
{
	struct auth_req *rq = calloc(1, sizeof(*rq));
	struct auth_rep *rp = calloc(1, sizeof(*rp));
	int method = ssh_message_subtype(msg), r = 1;
	const char *user = ssh_message_auth_user(msg);

	if (rq == NULL || rp == NULL || c->auth_ok || c->auth_end)
		goto out;
	if (method == SSH_AUTH_METHOD_INTERACTIVE && ssh_message_auth_kbdint_is_response(msg)) {
		rq->kind = AREQ_RESPONSE;
		rq->nanswers = ssh_userauth_kbdint_getnanswers(c->srv);
		for (int i = 0; i < 2 && i < rq->nanswers; i++) {
			const char *ans = ssh_userauth_kbdint_getanswer(c->srv, (unsigned)i);

			/* An answer too long for the message counts as missing. */
			if (ans != NULL && strlen(ans) < sizeof(rq->answer[i])) {
				snprintf(rq->answer[i], sizeof(rq->answer[i]), "%s", ans);
				rq->have_answer[i] = 1;
			}
		}
	} else {
		rq->kind = method == SSH_AUTH_METHOD_NONE          ? AREQ_NONE
		           : method == SSH_AUTH_METHOD_INTERACTIVE ? AREQ_KBDINT
		                                                   : AREQ_OTHER;
		/* A name too long for the message is no user's: it stays empty. */
		if (user != NULL && strlen(user) < sizeof(rq->user))
			snprintf(rq->user, sizeof(rq->user), "%s", user);
		else if (user != NULL)
			snprintf(rq->user, sizeof(rq->user), "%s", "\x01too-long");
	}
	if (auth_step(c, rq, rp) != 0)
		goto out;
	switch (rp->kind) {
	case AREP_PROMPTS: {
		const char *p[2] = {rp->prompt[0], rp->prompt[1]};
		char echo[2] = {0, 0};

		if (ssh_message_auth_interactive_request(msg, "", rp->instruction, (unsigned)rp->nprompts, p, echo) ==
		    SSH_OK)
			r = 0;
		else
			error_f("cannot send keyboard-interactive request");
		break;
	}
	case AREP_SUCCESS: r = ssh_message_auth_reply_success(msg, 0) == SSH_OK ? 0 : 1; break;
	default: break;
	}
out:
	if (rq != NULL) {
		explicit_bzero(rq, sizeof(*rq)); /* answers: passwords, codes */
		free(rq);
	}
	if (rp != NULL) {
		explicit_bzero(rp, sizeof(*rp)); /* the enrolment secret */
		free(rp);
	}
	return r;
}

static int
on_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *pubkey, char signature_state, void *ud)
{
	struct conn *c = ud;

	struct auth_req *rq;
	struct auth_rep *rp;
	char *b64 = NULL;
	const char *type;
	int r = SSH_AUTH_DENIED;

	if (c->state != CONN_AUTH || c->auth_ok || c->auth_end)
		return SSH_AUTH_DENIED;
	rq = calloc(1, sizeof(*rq));
	rp = calloc(1, sizeof(*rp));
	type = ssh_key_type_to_char(ssh_key_type(pubkey));
	if (rq == NULL || rp == NULL || type == NULL || ssh_pki_export_pubkey_base64(pubkey, &b64) != SSH_OK ||
	    strlen(b64) >= sizeof(rq->key_b64) || strlen(type) >= sizeof(rq->key_type) ||
	    strlen(user != NULL ? user : "") >= sizeof(rq->user))
		goto out; /* too large to be a registered key: refused */
	rq->kind = AREQ_PUBKEY;
	snprintf(rq->user, sizeof(rq->user), "%s", user != NULL ? user : "");
	snprintf(rq->key_type, sizeof(rq->key_type), "%s", type);
	snprintf(rq->key_b64, sizeof(rq->key_b64), "%s", b64);
	rq->key_state = signature_state;
	if (auth_step(c, rq, rp) == 0)
		r = rp->pk_result;
out:
	ssh_string_free_char(b64);
	free(rq);
	free(rp);
	return r;
}

static ssh_channel
on_channel_open(ssh_session s, void *ud)
{
	struct conn *c = ud;
	struct chan *ch;

	if (c->state != CONN_RUNNING || live_channels(c) >= CONN_MAX_CHANNELS)
		return NULL;
	if ((ch = chan_new(c, s)) == NULL)
		return NULL;
	debug("channel %u opened", ch->num);
	return ch->down;
}

static void
audit_forward(struct conn *c, const char *what, const char *dest, int port)
{
	json_t *j = json_pack("{s:s,s:s,s:i}", "kind", what, "destination", dest != NULL ? dest : "", "port", port);
	char *detail = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	conn_audit(c, c->user != NULL ? c->user->name : "-", "forward.deny", what, "denied", AUDIT_NOTICE, detail);
	if (strcmp(what, "x11") != 0)
		c->forward_notice = 1; /* told on a live channel by the loop, never from a callback */
	info("%s refused (%s:%d)", what, dest != NULL ? dest : "", port);
	free(detail);
	json_decref(j);
}

/* Everything that no server/channel callback took. Returning 1 makes libssh
 * send the default refusal (and, for a service request, acceptance). */
static int
on_message(ssh_session s, ssh_message msg, void *ud)
{
	struct conn *c = ud;
	struct chan *ch;

	switch (ssh_message_type(msg)) {
	case SSH_REQUEST_AUTH:
		if (c->state != CONN_AUTH)
			return 1;
		return auth_message(c, msg);
	case SSH_REQUEST_CHANNEL_OPEN:
		if (c->state != CONN_RUNNING)
			return 1;
		switch (ssh_message_subtype(msg)) {
		case SSH_CHANNEL_DIRECT_TCPIP:
			/* ssh -L / -W / -J: the grant decides (tunnel.c); a refusal
			 * is audited there and answered by libssh's default reply. */
			return tunnel_open(c, msg);
		case SSH_CHANNEL_X11: audit_forward(c, "x11", NULL, 0); break;
		default: audit_forward(c, "channel", NULL, 0); break;
		}
		return 1;
	case SSH_REQUEST_CHANNEL:
		if (ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_X11 &&
		    (ch = chan_of(c, ssh_message_channel_request_channel(msg))) != NULL) {
			ch->notice_x11 = 1;
			audit_forward(c, "x11", NULL, 0);
		}
		return 1;
	case SSH_REQUEST_GLOBAL:
		if (ssh_message_subtype(msg) == SSH_GLOBAL_REQUEST_TCPIP_FORWARD)
			audit_forward(c, "tcpip-forward", ssh_message_global_request_address(msg),
			              ssh_message_global_request_port(msg));
		return 1;
	default: return 1;
	}
}

/* ---- the loop -------------------------------------------------------- */

static int
session_gone(ssh_session s)
{
	return s == NULL || (ssh_get_status(s) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0 || !ssh_is_connected(s);
}

static void
progress(struct conn *c, int force)
{
	int64_t now = time_mono_ms();

	if (c->session_row == 0 || (!force && now - c->last_db_update_ms < CONN_DB_UPDATE_MS))
		return;
	c->last_db_update_ms = now;
	if (sessdb_progress(c->st, c->session_row, c->channel_types, c->bytes_in, c->bytes_out,
	                    time_now() - (now - c->last_activity_ms) / 1000) != 0)
		error("cannot update the sessions row");
}

static void
drain(struct conn *c, const char *reason, const char *message)
{
	if (c->state == CONN_DRAINING)
		return;
	conn_set_end_reason(c, reason);
	chan_end_all(c, message);
	c->state = CONN_DRAINING;
}

static void
check_timers(struct conn *c)
{
	const struct gh_config *cfg = c->cfg;
	int64_t now = time_mono_ms();
	char msg[160];
	int r;

	if (c->rec != NULL && (r = rec_tick(c->rec)) != 0)
		conn_rec_failed(c, r);
	kill_check(c);
	if (c->audit_failed)
		drain(c, "audit failed", "the audit trail cannot be written; the session is closed");
	if (cfg->idle_timeout > 0 && c->state == CONN_RUNNING &&
	    now - c->last_activity_ms > (int64_t)cfg->idle_timeout * 1000) {
		snprintf(msg, sizeof(msg), "no activity for %d seconds: the session is closed (idle timeout)",
		         cfg->idle_timeout);
		info("idle timeout after %d s", cfg->idle_timeout);
		if (c->session_row != 0)
			audit_session(c, "session.idle_timeout", "closed", AUDIT_NOTICE, "idle timeout");
		else
			conn_audit(c, c->user->name, "session.idle_timeout", "-", "closed", AUDIT_NOTICE, NULL);
		drain(c, "idle timeout", msg);
	}
	if (conn_got_term && c->shutdown_deadline_ms == 0) {
		struct chan *ch;

		c->shutdown_deadline_ms = now + (int64_t)(cfg->shutdown_grace > 0 ? cfg->shutdown_grace : 0) * 1000;
		snprintf(msg, sizeof(msg), "the bastion is shutting down; this session ends in %d seconds",
		         cfg->shutdown_grace);
		for (ch = c->chans; ch != NULL; ch = ch->next)
			if (ch->setup < CS_CLOSING)
				chan_tell(ch, msg);
	}
	/* Nothing running (a master connection without channels): no reason to wait. */
	if (c->shutdown_deadline_ms != 0 && (now >= c->shutdown_deadline_ms || live_channels(c) == 0))
		drain(c, "shutdown", "the bastion is shutting down: the session is closed");
}

static void
run(struct conn *c)
{
	struct chan *ch;
	int more;

	c->last_activity_ms = time_mono_ms();
	while (c->state != CONN_DONE) {
		more = 0;
		for (ch = c->chans; ch != NULL; ch = ch->next)
			more |= ch->more_pending;
		ssh_event_dopoll(c->ev, more ? 0 : CONN_POLL_MS);

		if (session_gone(c->srv)) {
			/* The operator is gone: nobody to tell, close the target side.
			 * Leaving after every channel ended is the normal end. */
			conn_set_end_reason(c, live_channels(c) > 0 ? "operator disconnected" : "closed");
			for (ch = c->chans; ch != NULL; ch = ch->next) {
				ch->down_dead = 1;
				ch->down_close_rcvd = 1;
			}
			chan_end_all(c, NULL);
			c->state = CONN_DONE;
			break;
		}
		if (c->up != NULL && !c->up_failed && session_gone(c->up)) {
			info("the target connection was lost");
			c->up_failed = 1;
			snprintf(c->up_error, sizeof(c->up_error), "the target connection was lost");
			conn_set_end_reason(c, "target disconnected");
			chan_up_lost(c);
			/* A dead socket in the event could make every poll return at once. */
			ssh_event_remove_session(c->ev, c->up);
		}
		for (ch = c->chans; ch != NULL; ch = ch->next)
			chan_step(ch);
		for (ch = c->chans; c->forward_notice && ch != NULL; ch = ch->next) {
			if (ch->setup == CS_LIVE) {
				chan_tell(ch, "port forwarding is refused by the bastion");
				c->forward_notice = 0;
			}
		}
		chan_reap(c);
		check_timers(c);
		progress(c, 0);
		if (c->state == CONN_DRAINING && c->chans == NULL)
			c->state = CONN_DONE;
	}
}

static void
end_session(struct conn *c)
{
	char head[65] = "";
	uint64_t frames = 0;
	int r;

	conn_set_end_reason(c, "closed");
	for (struct chan *ch = c->chans; ch != NULL; ch = ch->next)
		if (ch->has_pty)
			c->had_pty = 1;
	if (c->rec != NULL) {
		r = rec_writer_close(c->rec, c->end_reason);
		if (r == 0) {
			rec_writer_chain(c->rec, head, &frames);
			memcpy(c->rec_head, head, sizeof(c->rec_head));
			c->rec_frames = frames;
			c->rec_bytes = rec_writer_bytes(c->rec);
			sessrec_store_index(c);
		} else
			error("closing the recording failed: %s", gh_strerror(r));
		rec_writer_free(c->rec);
		c->rec = NULL;
	}
	if (c->session_row != 0) {
		progress(c, 1);
		if (sessdb_end(c->st, c->session_row, c->end_reason, kill_ended_by(), c->bytes_in, c->bytes_out, frames,
		               head[0] ? head : NULL) != 0)
			error("cannot close the sessions row");
		audit_session(c, "session.end", "ok", AUDIT_INFO, c->end_reason);
		info("session %s ended: %s (in %llu, out %llu bytes)", c->uuid, c->end_reason,
		     (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out);
	}
}

static void
peer_address(struct conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	snprintf(c->src_addr, sizeof(c->src_addr), "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &in->sin_addr, c->src_addr, sizeof(c->src_addr));
			c->src_port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			/* A v4-mapped address (listening on ::) is shown and matched
			 * against grant source CIDRs as the IPv4 address it is. */
			if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
				inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], c->src_addr, sizeof(c->src_addr));
			else
				inet_ntop(AF_INET6, &in6->sin6_addr, c->src_addr, sizeof(c->src_addr));
			c->src_port = ntohs(in6->sin6_port);
		}
	}
	if (strchr(c->src_addr, ':') != NULL)
		snprintf(c->source, sizeof(c->source), "[%s]:%d", c->src_addr, c->src_port);
	else
		snprintf(c->source, sizeof(c->source), "%s:%d", c->src_addr, c->src_port);
}

static int
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_term;
	if (sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = kill_on_signal; /* `kill SESSION`: the request is in the sessions row */
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = on_evict;
	if (sigaction(SIGUSR2, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return 0;
}

/* Network child: close every descriptor inherited from the listener but
 * the two it needs (a database handle would survive the sandbox), and
 * reconnect to syslog before the sandbox forbids it. */
static void
close_inherited(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	/* Descriptors kept in static state must go with their owners. */
	audit_sink_forget();
	log_close();
	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0U, 0);
	log_reopen();
}

/* The database, opened by the monitor before authentication and by the
 * network child after it. */
static int
open_store(struct conn *c)
{
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/gatehouse.db", c->datadir);
	if ((r = store_open(path, 0, &c->st)) != 0) {
		error("cannot open %s: %s", path, gh_strerror(r));
		return r;
	}
	/* Connection processes come and go: the last one to close would
	 * checkpoint and truncate the WAL under an exclusive lock, making
	 * concurrent readers (admin CLI, auditors) fail with "database is
	 * locked". Automatic passive checkpoints during writes are enough. */
	sqlite3_db_config(store_db(c->st), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	audit_sink_install(c->cfg, c->datadir);
	return 0;
}

/* Network child: wait until the monitor has seen every factor pass, then
 * load what the session needs (the monitor now lets files through). */
/* libssh 0.10 drops a publickey request whose signature does not verify
 * (messages.c: "goto error") without any reply, and exports no function to
 * send USERAUTH_FAILURE outside a message: the client would wait until the
 * login grace time. The only trace is libssh's own log line, so during
 * authentication its packet-level log is read for it (and nothing else of
 * it is kept); the monitor then counts the failure and the connection ends
 * with a disconnect message instead of hanging. */
static int auth_request_dropped;
static char auth_request_user[AUTH_NAME_MAX]; /* of the last request libssh logged */

static void
on_libssh_log(int priority, const char *function, const char *buffer, void *userdata)
{
	static const char intro[] = "Auth request for service ";
	const char *p, *q, *end;

	(void)priority;
	(void)function;
	(void)userdata;
	if (buffer == NULL)
		return;
	/* "Auth request for service ssh-connection, method publickey for user 'NAME'" */
	if ((p = strstr(buffer, intro)) != NULL && (q = strstr(p, " for user '")) != NULL &&
	    (end = strrchr(q, '\'')) != NULL && end > q + 11) {
		q += 11;
		snprintf(auth_request_user, sizeof(auth_request_user), "%.*s", (int)(end - q), q);
	}
	if (strstr(buffer, "nvalid signature") != NULL || strstr(buffer, "Failed to get digest") != NULL)
		auth_request_dropped = 1;
}

static int
authenticate(struct conn *c)
{
	int r;

	c->state = CONN_AUTH;
	ssh_set_auth_methods(c->srv, SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_INTERACTIVE);
	ssh_set_log_callback(on_libssh_log);
	ssh_set_log_level(SSH_LOG_PACKET);
	while (!c->auth_ok) {
		ssh_event_dopoll(c->ev, 1000);
		if (auth_request_dropped && !c->auth_ok && !c->auth_end) {
			struct auth_req *rq = calloc(1, sizeof(*rq));
			struct auth_rep *rp = calloc(1, sizeof(*rp));

			auth_request_dropped = 0;
			if (rq == NULL || rp == NULL)
				c->auth_end = 1;
			else {
				rq->kind = AREQ_DROPPED;
				snprintf(rq->user, sizeof(rq->user), "%s", auth_request_user);
				auth_step(c, rq, rp);
			}
			free(rq);
			free(rp);
			if (c->auth_end)
				ssh_session_set_disconnect_message(c->srv, "authentication failed: invalid signature");
		}
		if (c->auth_ok)
			break;
		if (c->auth_end) {
			info("authentication ended: too many failures, or the audit trail cannot be written");
			ssh_set_log_level(SSH_LOG_NOLOG);
			ssh_disconnect(c->srv);
			return ERR_DENIED;
		}
		if (session_gone(c->srv) || conn_got_term) {
			ssh_set_log_level(SSH_LOG_NOLOG);
			return ERR_DENIED;
		}
	}
	ssh_set_log_level(SSH_LOG_NOLOG);
	if ((r = open_store(c)) != 0)
		return r;
	if ((c->ssh_user = strdup(c->auth_name)) == NULL || target_spec_parse(c->ssh_user, &c->spec) != 0)
		return ERR_INTERNAL;
	if ((r = store_user_get(c->st, c->spec.user, &c->user)) != 0) {
		error("cannot load the authenticated user %s: %s", c->spec.user, gh_strerror(r));
		return r;
	}
	c->state = CONN_RUNNING;
	return 0;
}

/* Before authentication a refused syscall means the network child tried
 * what libssh never does: someone may control it. Logged each time,
 * audited once per connection (an attacker's loop must not flood the
 * trail). */
static void
monitor_audit_refusal(struct conn *c, const char *syscall, unsigned n)
{
	char detail[128];

	info("sandbox: refused %s before authentication", syscall);
	if (n > 0 || c->st == NULL)
		return;
	snprintf(detail, sizeof(detail), "{\"syscall\":\"%s\"}", syscall);
	conn_audit(c, "-", "sandbox.refuse", "connection", "blocked", AUDIT_HIGH, detail);
}

/* The monitor: decides authentication for the network child and answers
 * its sandbox's questions until it exits. Returns the child's status. */
static int
monitor_run(struct conn *c, int mon_fd, pid_t child)
{
	struct auth_req *rq = calloc(1, sizeof(*rq));
	struct auth_rep *rp = calloc(1, sizeof(*rp));
	int nfd, authenticated = 0, reaped = 0, mon_open = 1, st = 0, r, status = -1, nrequests = 0;
	unsigned nrefused = 0;
	char refused[64];

	nfd = sandbox_receive_fd(mon_fd, 30000);
	if (c->cfg->sandbox && nfd < 0) {
		error("the network child did not enter its sandbox: connection closed");
		goto stop;
	}
	if (rq == NULL || rp == NULL || open_store(c) != 0 || (c->auth = srv_auth_new(c)) == NULL)
		goto stop;
	while (!reaped) {
		struct pollfd p[2] = {{.fd = mon_open ? mon_fd : -1, .events = POLLIN}, {.fd = nfd, .events = POLLIN}};

		if (conn_got_alarm && !authenticated) {
			/* A round under way is a failed attempt; then go as the
			 * alarm always did: nothing needs cleaning that the
			 * parent cannot clean (and a stall flood must not cost
			 * an orderly exit per connection). */
			info("login grace time over: connection closed");
			srv_auth_end(c->auth, "login grace time");
			notify_grace_expired();
			kill(child, SIGKILL);
			_exit(2);
		}
		if (conn_got_term) {
			conn_got_term = 0;
			kill(child, SIGTERM);
		}
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if (conn_got_evict && !authenticated) {
			info("evicted: the slot went to a new connection (stalled before authentication)");
			srv_auth_end(c->auth, "evicted");
			status = 3;
			goto stop;
		}
		if (nfd >= 0 && (p[1].revents & POLLIN)) {
			if (sandbox_answer(nfd, child, authenticated, refused, sizeof(refused)) != 0) {
				/* Unusable: closing it fails the child's next
				 * decided syscall (ENOSYS), never lets it pass. */
				error("sandbox: the notification descriptor failed");
				close(nfd);
				nfd = -1;
			} else if (refused[0] != '\0') {
				monitor_audit_refusal(c, refused, nrefused++);
			}
		} else if (nfd >= 0 && p[1].revents != 0) {
			close(nfd); /* no task left behind the filter: the child exited */
			nfd = -1;
		}
		if (mon_open && p[0].revents != 0) {
			r = privsep_read_request(mon_fd, rq);
			if (r == 0) {
				mon_open = 0; /* the child is exiting */
			} else if (r == 1 && !authenticated) {
				notify_request(rq, &nrequests);
				srv_auth_step(c->auth, rq, rp);
				explicit_bzero(rq, sizeof(*rq));
				if (rp->succeeded) {
					authenticated = 1;
					alarm(0); /* the login grace time no longer applies */
					/* Before the listener can read "A": a late
					 * eviction must not end a session. */
					signal(SIGUSR2, SIG_IGN);
					notify_authenticated();
				}
				if (privsep_send_reply(mon_fd, rp) != 0)
					mon_open = 0;
				explicit_bzero(rp, sizeof(*rp));
				if (authenticated) {
					/* Nothing more to decide: let go of what the
					 * session does not need from us. */
					srv_auth_free(c->auth);
					c->auth = NULL;
					store_close(c->st);
					c->st = NULL;
					secret_key_free(c->mkey);
					c->mkey = NULL;
					/* It idles for the session's life: give the
					 * heap it used back (bench: memory per session). */
					malloc_trim(0);
				}
			} else if (r != ERR_BUSY) {
				error("malformed message from the network child: connection closed");
				if (c->st != NULL)
					conn_audit(c, "-", "sandbox.violation", "connection", "blocked", AUDIT_HIGH,
					           "{\"reason\":\"malformed message to the monitor\"}");
				goto stop;
			}
		}
		if (waitpid(child, &st, WNOHANG) == child)
			reaped = 1;
	}
	/* The child is gone before authenticating: a round it left open counts. */
	if (!authenticated)
		srv_auth_end(c->auth, "connection closed");
	goto wait;
stop:
	if (!authenticated)
		srv_auth_end(c->auth, "connection closed");
	kill(child, SIGKILL);
wait:
	while (!reaped && waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (nfd >= 0)
		close(nfd);
	close(mon_fd);
	free(rq);
	free(rp);
	srv_auth_free(c->auth);
	store_close(c->st);
	secret_key_free(c->mkey);
	if (status >= 0)
		return status;
	if (WIFSIGNALED(st)) {
		/* 128 + signal tells the listener the session's row may have
		 * been left active (listener.c closes such rows). */
		info("network child %d killed by signal %d", (int)child, WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int
conn_serve(ssh_bind bind, int fd, const struct gh_config *cfg, const char *datadir)
{
	struct conn conn, *c = &conn;
	char prefix[160];
	long kex_timeout;
	int one = 1, sp[2];
	int status = 1, grace;
	pid_t monitor, child;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->datadir = datadir;
	c->state = CONN_KEX;
	c->mon_fd = -1;
	c->next_chan_num = 1; /* 0 is the connection itself in recordings (docs/recording-format.md) */
	if (setup_signals() != 0)
		fatal("sigaction: %s", strerror(errno));
	grace = cfg->login_grace_time > 0 ? cfg->login_grace_time : 120;
	alarm((unsigned)grace);
	peer_address(c, fd);
	snprintf(prefix, sizeof(prefix), "conn %.100s", c->source);
	log_set_prefix(prefix);

	/* Privilege separation (privsep.h): fork before anything is opened. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		error("socketpair: %s", strerror(errno));
		close(fd);
		return 1;
	}
	monitor = getpid();
	if ((child = fork()) < 0) {
		error("fork: %s", strerror(errno));
		close(fd);
		close(sp[0]);
		close(sp[1]);
		return 1;
	}
	if (child > 0) {
		close(fd);
		close(sp[1]);
		return monitor_run(c, sp[0], child);
	}
	close(sp[0]);
	c->mon_fd = sp[1];
	/* The network child ends with its monitor, and may not tell the
	 * listener it authenticated: only the monitor knows. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != monitor)
		_exit(1);
	if (auth_notify_fd >= 0)
		close(auth_notify_fd);
	auth_notify_fd = -1;
	/* The hash gate's table is the monitors' (hashgate.h): code that may
	 * fall to an attacker must not be able to write it. */
	hashgate_forget();
	close_inherited(fd, c->mon_fd);
	if (cfg->sandbox ? sandbox_enter(c->mon_fd) != 0 : sandbox_skip(c->mon_fd) != 0) {
		error("cannot enter the sandbox: connection closed");
		close(fd);
		goto out;
	}
	/* Interactive echo is a stream of tiny writes: without TCP_NODELAY,
	 * Nagle's algorithm held some for 40-50 ms (bench echo p99). */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		verbose("TCP_NODELAY: %s", strerror(errno));
	if ((c->srv = ssh_new()) == NULL || ssh_bind_accept_fd(bind, c->srv, fd) != SSH_OK) {
		error("accept: %s", c->srv != NULL ? ssh_get_error(c->srv) : "out of memory");
		close(fd);
		goto out;
	}
	kex_timeout = grace;
	ssh_options_set(c->srv, SSH_OPTIONS_TIMEOUT, &kex_timeout);
	/* "none", not "no": libssh maps "no" to "none,zlib@openssh.com". */
	if (ssh_options_set(c->srv, SSH_OPTIONS_COMPRESSION, "none") != SSH_OK) {
		error("cannot disable compression: %s", ssh_get_error(c->srv));
		goto out;
	}
	c->srv_cb.userdata = c;
	c->srv_cb.channel_open_request_session_function = on_channel_open;
	c->srv_cb.auth_pubkey_function = on_auth_pubkey;
	ssh_callbacks_init(&c->srv_cb);
	ssh_set_server_callbacks(c->srv, &c->srv_cb);
	ssh_set_message_callback(c->srv, on_message, c);
	if (ssh_handle_key_exchange(c->srv) != SSH_OK) {
		verbose("key exchange failed: %s", ssh_get_error(c->srv));
		goto out;
	}
	/* From here on nothing blocks on the operator session. */
	ssh_set_blocking(c->srv, 0);
	if ((c->ev = ssh_event_new()) == NULL || ssh_event_add_session(c->ev, c->srv) != SSH_OK)
		goto out;
	if (authenticate(c) != 0)
		goto out;
	run(c);
	status = 0;
out:
	/* Lines still waiting for their echo are logged while the session is
	 * open (chan_free would do it after the session row is closed). */
	for (struct chan *ch = c->chans; ch != NULL; ch = ch->next)
		cmdctl_close(ch);
	if (c->user != NULL)
		end_session(c);
	for (struct chan *ch = c->chans, *next; ch != NULL; ch = next) {
		next = ch->next;
		chan_free(ch);
	}
	c->chans = NULL;
	if (c->up != NULL) {
		if (c->ev != NULL && !c->up_failed)
			ssh_event_remove_session(c->ev, c->up);
		ssh_disconnect(c->up);
		ssh_free(c->up);
	}
	if (c->srv != NULL) {
		if (c->ev != NULL)
			ssh_event_remove_session(c->ev, c->srv);
		ssh_disconnect(c->srv);
		ssh_free(c->srv);
	}
	if (c->ev != NULL)
		ssh_event_free(c->ev);
	if (c->had_pty && c->rec_head[0] != '\0')
		sessrec_build_keyframes(c->rec_path);
	srv_auth_free(c->auth);
	user_rec_free(c->user);
	asset_rec_free(c->asset);
	free(c->login);
	free(c->ssh_user);
	free(c->rec_path);
	secret_key_free(c->mkey);
	store_close(c->st);
	return status;
}
