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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
#include "proxy/kill.h"
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

/* Login grace time over: nothing to clean up that the parent cannot. The
 * listener is told (write(2) is async-signal-safe) so that the expiry counts
 * against the source like a failed login. */
static void
on_alarm(int sig)
{
	ssize_t n = 0;

	(void)sig;
	if (auth_notify_fd >= 0)
		n = write(auth_notify_fd, "G", 1);
	(void)n;
	_exit(2);
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
static int
on_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *pubkey, char signature_state, void *ud)
{
	struct conn *c = ud;

	if (c->state != CONN_AUTH)
		return SSH_AUTH_DENIED;
	return srv_auth_pubkey(c->auth, user, pubkey, (enum ssh_publickey_state_e)signature_state);
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
		return srv_auth_handle(c->auth, msg);
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
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return 0;
}

static int
authenticate(struct conn *c)
{
	c->state = CONN_AUTH;
	ssh_set_auth_methods(c->srv, SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_INTERACTIVE);
	while (!srv_auth_succeeded(c->auth)) {
		ssh_event_dopoll(c->ev, 1000);
		if (srv_auth_succeeded(c->auth))
			break;
		if (srv_auth_exhausted(c->auth)) {
			info("too many authentication failures");
			ssh_disconnect(c->srv);
			return ERR_DENIED;
		}
		if (session_gone(c->srv) || conn_got_term || c->audit_failed)
			return ERR_DENIED;
	}
	alarm(0); /* authenticated: the login grace time no longer applies */
	notify_authenticated();
	c->user = srv_auth_take_user(c->auth);
	if ((c->ssh_user = strdup(srv_auth_name(c->auth))) == NULL || target_spec_parse(c->ssh_user, &c->spec) != 0 ||
	    c->user == NULL)
		return ERR_INTERNAL;
	c->state = CONN_RUNNING;
	return 0;
}

int
conn_serve(ssh_bind bind, int fd, const struct gh_config *cfg, const char *datadir)
{
	struct conn conn, *c = &conn;
	char path[4096], prefix[160];
	long kex_timeout;
	int one = 1;
	int status = 1, grace, r;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->datadir = datadir;
	c->state = CONN_KEX;
	c->next_chan_num = 1; /* 0 is the connection itself in recordings (docs/recording-format.md) */
	if (setup_signals() != 0)
		fatal("sigaction: %s", strerror(errno));
	grace = cfg->login_grace_time > 0 ? cfg->login_grace_time : 120;
	alarm((unsigned)grace);
	peer_address(c, fd);
	snprintf(prefix, sizeof(prefix), "conn %.100s", c->source);
	log_set_prefix(prefix);

	snprintf(path, sizeof(path), "%s/gatehouse.db", datadir);
	if ((r = store_open(path, 0, &c->st)) != 0) {
		error("cannot open %s: %s", path, gh_strerror(r));
		close(fd);
		goto out;
	}
	/* Connection processes come and go: the last one to close would
	 * checkpoint and truncate the WAL under an exclusive lock, making
	 * concurrent readers (admin CLI, auditors) fail with "database is
	 * locked". Automatic passive checkpoints during writes are enough. */
	sqlite3_db_config(store_db(c->st), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	audit_sink_install(cfg, datadir);
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
	if ((c->auth = srv_auth_new(c)) == NULL)
		goto out;
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
