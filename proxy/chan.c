/* Session channel pairs: callbacks record, chan_step() decides.
 *
 * The setup state machine (enum chan_setup) opens the target channel with
 * non-blocking libssh calls that return SSH_AGAIN until the target answered,
 * so no blocking call is ever made while both sessions share the event.
 *
 * EOF and close, per pair (data first, then state):
 *   operator EOF, its data drained      -> EOF to the target
 *   target EOF, stdout+stderr drained   -> exit-status/exit-signal, then EOF to the operator
 *   target close, drained               -> exit-status/signal if not sent, EOF, close both sides
 *   operator close, drained             -> EOF, close both sides
 *   CS_CLOSING until both sides' close arrived, then CS_DEAD, freed by chan_reap()
 *   outside ssh_event_dopoll. */
#include "proxy/chan.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libssh/server.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "proxy/cmdctl.h"
#include "proxy/conn.h"
#include "proxy/pump.h"
#include "proxy/recfilter.h"
#include "proxy/role-shell.h"
#include "proxy/route.h"
#include "proxy/session-db.h"
#include "proxy/srv-menu.h"
#include "proxy/up-conn.h"
#include "proxy/tunnel.h"
#include "proxy/xfer.h"
#include "recorder/recorder.h"

#define CHAN_CLOSE_WAIT_MS 10000 /* a peer that never answers our close */
#define CHAN_EXIT_WAIT_MS  3000  /* the target's exit-status after the operator closed */
#define CHAN_EXIT_WAIT_MS  3000  /* the target's exit-status after the operator closed */

const char *
chan_kind_name(const struct chan *ch)
{
	switch (ch->kind) {
	case CK_SHELL: return "shell";
	case CK_EXEC: return "exec";
	case CK_SUBSYSTEM: return ch->command != NULL ? ch->command : "subsystem";
	case CK_TUNNEL: return "direct-tcpip";
	default: return "none";
	}
}

/* ---- operator-side callbacks: record only -------------------------- */

static int
down_data_cb(ssh_session s, ssh_channel channel, void *data, uint32_t len, int is_stderr, void *ud)
{
	struct chan *ch = ud;

	/* Extended data from a client means nothing on these channels (OpenSSH's
	 * server drops it too): taken and dropped here, so it is never buffered. */
	if (is_stderr)
		return (int)len;
	ch->down_rx = 1;
	return 0; /* left in libssh's buffer; the pump reads it when the target has room */
}

static void
down_eof_cb(ssh_session s, ssh_channel channel, void *ud)
{
	struct chan *ch = ud;

	ch->down_eof_rcvd = 1;
	ch->down_rx = 1;
}

static void
down_close_cb(ssh_session s, ssh_channel channel, void *ud)
{
	struct chan *ch = ud;

	ch->down_close_rcvd = 1;
	ch->down_rx = 1;
}

static void
down_signal_cb(ssh_session s, ssh_channel channel, const char *signal, void *ud)
{
	struct chan *ch = ud;

	if (signal != NULL)
		snprintf(ch->pending_signal, sizeof(ch->pending_signal), "%s", signal);
}

static int
down_pty_cb(ssh_session s, ssh_channel channel, const char *term, int cols, int rows, int pxw, int pxh, void *ud)
{
	struct chan *ch = ud;

	if (ch->setup != CS_REQUESTS || ch->has_pty)
		return -1;
	ch->has_pty = 1;
	snprintf(ch->term, sizeof(ch->term), "%s", term != NULL ? term : "vt100");
	ch->cols = cols;
	ch->rows = rows;
	ch->pxw = pxw;
	ch->pxh = pxh;
	return 0;
}

static int
down_resize_cb(ssh_session s, ssh_channel channel, int cols, int rows, int pxw, int pxh, void *ud)
{
	struct chan *ch = ud;

	ch->cols = cols;
	ch->rows = rows;
	ch->pxw = pxw;
	ch->pxh = pxh;
	ch->resize_pending = 1;
	return 0;
}

static int
start_request(struct chan *ch, enum chan_kind kind, const char *arg)
{
	if (ch->setup != CS_REQUESTS)
		return -1; /* one shell/exec/subsystem per channel */
	if (arg != NULL && (ch->command = strdup(arg)) == NULL)
		return -1;
	ch->kind = kind;
	ch->setup = CS_ROUTE;
	return 0;
}

static int
down_shell_cb(ssh_session s, ssh_channel channel, void *ud)
{
	return start_request(ud, CK_SHELL, NULL);
}

static int
down_exec_cb(ssh_session s, ssh_channel channel, const char *command, void *ud)
{
	return start_request(ud, CK_EXEC, command != NULL ? command : "");
}

static int
down_subsystem_cb(ssh_session s, ssh_channel channel, const char *subsystem, void *ud)
{
	/* Only SFTP: other subsystems are unknown to the recorder and the
	 * file-transfer policy. */
	if (subsystem == NULL || strcmp(subsystem, "sftp") != 0)
		return -1;
	return start_request(ud, CK_SUBSYSTEM, subsystem);
}

/* Environment allow-list: LANG and LC_*; everything else is refused (LD_*,
 * PATH ... could change what the target runs). */
static int
down_env_cb(ssh_session s, ssh_channel channel, const char *name, const char *value, void *ud)
{
	struct chan *ch = ud;

	if (ch->setup != CS_REQUESTS || name == NULL || value == NULL || ch->n_env >= CHAN_MAX_ENV)
		return -1;
	if (strcmp(name, "LANG") != 0 && strncmp(name, "LC_", 3) != 0)
		return -1;
	if (strlen(value) > 256)
		return -1;
	ch->env_name[ch->n_env] = strdup(name);
	ch->env_value[ch->n_env] = strdup(value);
	if (ch->env_name[ch->n_env] == NULL || ch->env_value[ch->n_env] == NULL) {
		free(ch->env_name[ch->n_env]);
		free(ch->env_value[ch->n_env]);
		return -1;
	}
	ch->n_env++;
	return 0;
}

/* OpenSSH sends auth-agent-req without want_reply; having this callback
 * makes libssh accept it silently, and the operator is told it is refused
 * (no agent channel is ever opened back). */
static void
down_agent_cb(ssh_session s, ssh_channel channel, void *ud)
{
	struct chan *ch = ud;

	ch->notice_agent = 1;
}

/* ---- target-side callbacks: record only ---------------------------- */

static int
up_data_cb(ssh_session s, ssh_channel channel, void *data, uint32_t len, int is_stderr, void *ud)
{
	struct chan *ch = ud;

	if (is_stderr)
		ch->up_rx_err = 1;
	else
		ch->up_rx = 1;
	return 0;
}

static void
up_eof_cb(ssh_session s, ssh_channel channel, void *ud)
{
	struct chan *ch = ud;

	ch->up_eof_rcvd = 1;
	ch->up_rx = ch->up_rx_err = 1;
}

static void
up_close_cb(ssh_session s, ssh_channel channel, void *ud)
{
	struct chan *ch = ud;

	ch->up_close_rcvd = 1;
	ch->up_rx = ch->up_rx_err = 1;
}

static void
up_exit_status_cb(ssh_session s, ssh_channel channel, int status, void *ud)
{
	struct chan *ch = ud;

	ch->exit_status_rcvd = 1;
	ch->exit_status = status;
}

static void
up_exit_signal_cb(ssh_session s, ssh_channel channel, const char *signal, int core, const char *errmsg,
                  const char *lang, void *ud)
{
	struct chan *ch = ud;

	free(ch->exit_signal);
	ch->exit_signal = strdup(signal != NULL ? signal : "KILL");
	ch->exit_core = core;
}

/* ---- life -------------------------------------------------------------- */

struct chan *
chan_new(struct conn *c, ssh_session srv)
{
	struct chan *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		return NULL;
	if ((ch->down = ssh_channel_new(srv)) == NULL) {
		free(ch);
		return NULL;
	}
	ch->c = c;
	ch->num = c->next_chan_num++;
	cmdctl_session_begin(c); /* origin of command offsets: the recording starts with the first channel */
	ch->down_cb.userdata = ch;
	ch->down_cb.channel_data_function = down_data_cb;
	ch->down_cb.channel_eof_function = down_eof_cb;
	ch->down_cb.channel_close_function = down_close_cb;
	ch->down_cb.channel_signal_function = down_signal_cb;
	ch->down_cb.channel_pty_request_function = down_pty_cb;
	ch->down_cb.channel_shell_request_function = down_shell_cb;
	ch->down_cb.channel_auth_agent_req_function = down_agent_cb;
	ch->down_cb.channel_pty_window_change_function = down_resize_cb;
	ch->down_cb.channel_exec_request_function = down_exec_cb;
	ch->down_cb.channel_env_request_function = down_env_cb;
	ch->down_cb.channel_subsystem_request_function = down_subsystem_cb;
	ssh_callbacks_init(&ch->down_cb);
	ssh_set_channel_callbacks(ch->down, &ch->down_cb);
	ch->setup = CS_REQUESTS;
	ch->next = c->chans;
	c->chans = ch;
	c->chans_ever = 1;
	return ch;
}

struct chan *
chan_new_tunnel(struct conn *c, ssh_channel down, const char *host, int port, int unrecorded)
{
	struct chan *ch = calloc(1, sizeof(*ch));
	char dest[300];

	if (ch == NULL)
		return NULL;
	snprintf(dest, sizeof(dest), strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d", host, port);
	if ((ch->fwd_host = strdup(host)) == NULL || (ch->command = strdup(dest)) == NULL) {
		free(ch->fwd_host);
		free(ch);
		return NULL;
	}
	ch->c = c;
	ch->down = down;
	ch->num = c->next_chan_num++;
	ch->kind = CK_TUNNEL;
	ch->fwd_port = port;
	ch->fwd_unrecorded = unrecorded;
	ch->down_cb.userdata = ch;
	ch->down_cb.channel_data_function = down_data_cb;
	ch->down_cb.channel_eof_function = down_eof_cb;
	ch->down_cb.channel_close_function = down_close_cb;
	ssh_callbacks_init(&ch->down_cb);
	ssh_set_channel_callbacks(ch->down, &ch->down_cb);
	ch->setup = CS_ROUTE; /* decided already: session, target connection, forward open */
	ch->next = c->chans;
	c->chans = ch;
	c->chans_ever = 1;
	return ch;
}

void
chan_free(struct chan *ch)
{
	int i;

	if (ch == NULL)
		return;
	menu_free(ch->menu);
	xfer_end(ch);
	role_shell_free(ch->shell);
	cmdctl_close(ch);
	cmdctl_chan_free(ch->cmd);
	recfilter_close(ch);
	if (ch->up != NULL)
		ssh_channel_free(ch->up);
	if (ch->down != NULL)
		ssh_channel_free(ch->down);
	for (i = 0; i < ch->n_env; i++) {
		free(ch->env_name[i]);
		free(ch->env_value[i]);
	}
	free(ch->command);
	free(ch->fwd_host);
	free(ch->exit_signal);
	free(ch->carry_in.buf);
	free(ch->carry_out.buf);
	free(ch->carry_err.buf);
	free(ch);
}

void
chan_reap(struct conn *c)
{
	struct chan **pp = &c->chans, *ch;

	while ((ch = *pp) != NULL) {
		if (ch->setup == CS_DEAD) {
			*pp = ch->next;
			chan_free(ch);
		} else {
			pp = &ch->next;
		}
	}
}

static void
rec_json(struct chan *ch, enum rec_type type, json_t *j)
{
	char *s;
	int r;

	if (ch->c->rec == NULL || j == NULL) {
		json_decref(j);
		return;
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		return;
	r = rec_write(ch->c->rec, type, ch->num, s, strlen(s));
	free(s);
	if (r != 0)
		conn_rec_failed(ch->c, r);
}

static void
rec_raw(struct chan *ch, enum rec_type type, const void *p, size_t n)
{
	int r;

	if (ch->c->rec == NULL)
		return;
	r = rec_write(ch->c->rec, type, ch->num, p, n);
	if (r != 0)
		conn_rec_failed(ch->c, r);
}

void
chan_tell(struct chan *ch, const char *message)
{
	char line[512];
	int n;

	if (ch->down == NULL || ch->down_dead || ch->down_eof_sent || ch->down_close_rcvd || ch->down_close_sent)
		return;
	n = snprintf(line, sizeof(line), "gatehouse: %s\r\n", message);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (ssh_channel_window_size(ch->down) < (uint32_t)n)
		return; /* never wait for a window: a message is best effort */
	if (ssh_channel_write_stderr(ch->down, line, (uint32_t)n) != n)
		ch->down_dead = 1;
	rec_raw(ch, REC_MARK, message, strlen(message));
}

void
chan_refuse(struct chan *ch, const char *message, int status)
{
	snprintf(ch->refuse_msg, sizeof(ch->refuse_msg), "%s", message);
	ch->refuse_status = status;
	ch->setup = CS_REFUSED;
}

/* Send close on both sides (after EOF), and go to CS_CLOSING. */
static void
close_both(struct chan *ch)
{
	struct conn *c = ch->c;

	if (ch->up != NULL && !ch->up_dead && !ch->up_close_sent) {
		if (!ch->up_eof_sent && !ch->up_close_rcvd)
			ssh_channel_send_eof(ch->up);
		ch->up_eof_sent = 1;
		ssh_channel_close(ch->up);
	}
	ch->up_close_sent = 1;
	if (ch->down != NULL && !ch->down_close_sent) {
		if (!ch->down_eof_sent && !ch->down_close_rcvd && !ch->down_dead)
			ssh_channel_send_eof(ch->down);
		ch->down_eof_sent = 1;
		ssh_channel_close(ch->down);
	}
	ch->down_close_sent = 1;
	if (ch->setup != CS_CLOSING) {
		xfer_end(ch);        /* its transfer rows before the channel's close */
		recfilter_close(ch); /* input still held by the redaction filter */
		rec_raw(ch, REC_CHANNEL_CLOSE, NULL, 0);
		if (c->session_row != 0 && ch->db_row)
			sessdb_channel_close(c->st, c->session_row, ch->num, ch->exit_status_rcvd, ch->exit_status);
	}
	ch->setup = CS_CLOSING;
	ch->closing_since_ms = time_mono_ms();
}

/* exit-status / exit-signal go before the operator's EOF and close. */
static void
forward_exit(struct chan *ch)
{
	uint8_t be[4];

	/* Allowed after EOF (sshd itself sends EOF, exit-status, close), never after close. */
	if (ch->down_dead || ch->down_close_sent)
		return;
	if (ch->exit_status_rcvd && !ch->exit_status_sent) {
		ssh_channel_request_send_exit_status(ch->down, ch->exit_status);
		ch->exit_status_sent = 1;
		be[0] = (uint8_t)((unsigned)ch->exit_status >> 24);
		be[1] = (uint8_t)((unsigned)ch->exit_status >> 16);
		be[2] = (uint8_t)((unsigned)ch->exit_status >> 8);
		be[3] = (uint8_t)ch->exit_status;
		rec_raw(ch, REC_EXIT_STATUS, be, sizeof(be));
	}
	if (ch->exit_signal != NULL && !ch->exit_signal_sent) {
		ssh_channel_request_send_exit_signal(ch->down, ch->exit_signal, ch->exit_core, "", "");
		ch->exit_signal_sent = 1;
		rec_raw(ch, REC_EXIT_SIGNAL, ch->exit_signal, strlen(ch->exit_signal));
	}
}

static int
down_drained(const struct chan *ch)
{
	return ch->down_drained && ch->carry_in.len == 0;
}

static int
up_drained(const struct chan *ch)
{
	return ch->up_drained_out && ch->up_drained_err && ch->carry_out.len == 0 && ch->carry_err.len == 0;
}

/* The EOF/close state machine of a live pair. */
static void
live_state(struct chan *ch)
{
	if (ch->down_eof_rcvd && down_drained(ch) && !ch->up_eof_sent && !ch->up_dead && !ch->up_close_rcvd) {
		ssh_channel_send_eof(ch->up);
		ch->up_eof_sent = 1;
		rec_raw(ch, REC_EOF_IN, NULL, 0);
	}
	if (ch->up_eof_rcvd && up_drained(ch) && !ch->down_eof_sent) {
		forward_exit(ch);
		if (!ch->down_dead && !ch->down_close_rcvd)
			ssh_channel_send_eof(ch->down);
		ch->down_eof_sent = 1;
		rec_raw(ch, REC_EOF_OUT, NULL, 0);
	}
	if ((ch->up_close_rcvd || ch->up_dead) && up_drained(ch)) {
		forward_exit(ch);
		close_both(ch);
		return;
	}
	if (ch->down_close_rcvd && down_drained(ch)) {
		/* The operator's client closes as soon as it has our EOF and its
		 * own input ended, without waiting for exit-status. When the target
		 * already ended its output, its exit-status and close are on their
		 * way: wait for them (bounded) so the status is not lost. */
		if (ch->up_eof_rcvd && !ch->up_close_rcvd && !ch->up_dead) {
			if (ch->down_close_wait_ms == 0)
				ch->down_close_wait_ms = time_mono_ms();
			if (time_mono_ms() - ch->down_close_wait_ms < CHAN_EXIT_WAIT_MS)
				return;
		}
		close_both(ch);
		return;
	}
	if (ch->down_dead && ch->up_dead)
		close_both(ch);
}

static void
relay_requests(struct chan *ch)
{
	uint8_t sz[4];

	if (ch->resize_pending && ch->has_pty) {
		ch->resize_pending = 0;
		if (!ch->up_dead && !ch->up_close_rcvd)
			ssh_channel_change_pty_size(ch->up, ch->cols, ch->rows);
		sz[0] = (uint8_t)(ch->cols >> 8);
		sz[1] = (uint8_t)ch->cols;
		sz[2] = (uint8_t)(ch->rows >> 8);
		sz[3] = (uint8_t)ch->rows;
		rec_raw(ch, REC_RESIZE, sz, sizeof(sz));
		cmdctl_resize(ch);
	}
	if (ch->pending_signal[0] != '\0') {
		if (!ch->up_dead && !ch->up_close_rcvd)
			ssh_channel_request_send_signal(ch->up, ch->pending_signal);
		verbose("channel %u: signal %s relayed", ch->num, ch->pending_signal);
		ch->pending_signal[0] = '\0';
	}
	if (!ch->notices_sent && (ch->notice_agent || ch->notice_x11)) {
		ch->notices_sent = 1;
		if (ch->notice_agent)
			chan_tell(ch, "agent forwarding is refused by the bastion");
		if (ch->notice_x11)
			chan_tell(ch, "X11 forwarding is refused by the bastion");
	}
}

static void
record_open(struct chan *ch)
{
	struct conn *c = ch->c;
	json_t *j = json_object();
	size_t len = strlen(c->channel_types);
	const char *type = chan_kind_name(ch);

	if (ch->rec_opened) { /* a menu channel was recorded when the menu began */
		json_decref(j);
		return;
	}
	ch->rec_opened = 1;
	json_object_set_new(j, "type", json_string(ch->kind == CK_SUBSYSTEM ? "subsystem" : type));
	if (ch->kind == CK_EXEC)
		json_object_set_new(j, "command", json_string(ch->command));
	if (ch->kind == CK_SUBSYSTEM)
		json_object_set_new(j, "subsystem", json_string(ch->command));
	if (ch->kind == CK_TUNNEL) {
		json_object_set_new(j, "destination", json_string(ch->command));
		json_object_set_new(j, "unrecorded", json_boolean(ch->fwd_unrecorded));
	}
	rec_json(ch, REC_CHANNEL_OPEN, j);
	if (ch->has_pty) {
		j = json_object();
		json_object_set_new(j, "term", json_string(ch->term));
		json_object_set_new(j, "cols", json_integer(ch->cols));
		json_object_set_new(j, "rows", json_integer(ch->rows));
		rec_json(ch, REC_PTY, j);
	}
	/* channel_types: the distinct kinds seen, in order */
	if (strstr(c->channel_types, type) == NULL && len + strlen(type) + 2 < sizeof(c->channel_types))
		snprintf(c->channel_types + len, sizeof(c->channel_types) - len, "%s%s", len ? "," : "", type);
	if (c->session_row != 0 &&
	    sessdb_channel_open(c->st, c->session_row, ch->num, type, ch->kind == CK_EXEC ? ch->command : NULL) == 0)
		ch->db_row = 1;
}

static void
route(struct chan *ch)
{
	struct conn *c = ch->c;
	char msg[384];
	int r;

	/* A tunnel was decided when it was opened (tunnel.c). */
	r = ch->kind == CK_TUNNEL ? ROUTE_OK : route_channel(c, ch, msg, sizeof(msg));
	if (r == ROUTE_SHELL) {
		if (role_shell_start(c, ch) != 0)
			chan_refuse(ch, "cannot start the role shell", 1);
		else
			ch->setup = CS_SHELL;
		return;
	}
	if (r == ROUTE_MENU) {
		/* Recorded from the first channel: the menu itself (its screens
		 * and the operator's keys) is part of the session. */
		if (c->session_row == 0 && conn_begin_session(c) != 0) {
			chan_refuse(ch, "the session cannot be recorded; access refused", 1);
			return;
		}
		record_open(ch);
		if (menu_start(c, ch) != 0)
			chan_refuse(ch, "cannot show the menu", 1);
		else
			ch->setup = CS_MENU;
		return;
	}
	if (r != ROUTE_OK) {
		chan_refuse(ch, msg, 1);
		return;
	}
	/* Begins the session, or (after the menu) names its target. */
	if (conn_begin_session(c) != 0) {
		chan_refuse(ch, "the session cannot be recorded; access refused", 1);
		return;
	}
	/* Command rules: a blocked exec never reaches the target. */
	if (ch->kind == CK_EXEC && cmdctl_exec(ch, msg, sizeof(msg)) != 0) {
		record_open(ch);
		chan_refuse(ch, msg, 126);
		return;
	}
	cmdctl_shell_start(ch);
	if (ch->setup == CS_REFUSED)
		return;
	if (c->up == NULL) {
		if (c->up_failed || up_connect(c) != 0) {
			c->up_failed = 1;
			chan_refuse(ch, c->up_error[0] ? c->up_error : "cannot connect to the target", 1);
			return;
		}
	}
	if ((ch->up = ssh_channel_new(c->up)) == NULL) {
		chan_refuse(ch, "cannot open a channel to the target", 1);
		return;
	}
	ch->up_cb.userdata = ch;
	ch->up_cb.channel_data_function = up_data_cb;
	ch->up_cb.channel_eof_function = up_eof_cb;
	ch->up_cb.channel_close_function = up_close_cb;
	ch->up_cb.channel_exit_status_function = up_exit_status_cb;
	ch->up_cb.channel_exit_signal_function = up_exit_signal_cb;
	ssh_callbacks_init(&ch->up_cb);
	ssh_set_channel_callbacks(ch->up, &ch->up_cb);
	record_open(ch);
	ch->setup = CS_UP_OPEN;
}

/* One non-blocking target request: SSH_AGAIN keeps the state. */
static void
up_setup(struct chan *ch)
{
	int rc = SSH_OK;

	switch (ch->setup) {
	case CS_UP_OPEN:
		if (ch->kind == CK_TUNNEL)
			rc = ssh_channel_open_forward(ch->up, ch->fwd_host, ch->fwd_port, "127.0.0.1", 0);
		else
			rc = ssh_channel_open_session(ch->up);
		if (rc == SSH_OK)
			ch->setup = CS_UP_PTY;
		break;
	case CS_UP_PTY:
		if (ch->has_pty)
			rc = ssh_channel_request_pty_size(ch->up, ch->term, ch->cols, ch->rows);
		if (rc == SSH_OK)
			ch->setup = CS_UP_ENV;
		break;
	case CS_UP_ENV:
		if (ch->env_sent < ch->n_env) {
			rc = ssh_channel_request_env(ch->up, ch->env_name[ch->env_sent], ch->env_value[ch->env_sent]);
			if (rc == SSH_AGAIN)
				break;
			if (rc != SSH_OK)
				debug("channel %u: target refused env %s", ch->num, ch->env_name[ch->env_sent]);
			ch->env_sent++;
			rc = SSH_OK;
			break;
		}
		ch->setup = CS_UP_START;
		break;
	case CS_UP_START:
		if (ch->kind == CK_TUNNEL)
			rc = SSH_OK; /* a tunnel has no program */
		else if (ch->kind == CK_SHELL)
			rc = ssh_channel_request_shell(ch->up);
		else if (ch->kind == CK_EXEC)
			rc = ssh_channel_request_exec(ch->up, ch->command);
		else
			rc = ssh_channel_request_subsystem(ch->up, ch->command);
		if (rc == SSH_OK) {
			ch->setup = CS_LIVE;
			if (xfer_start(ch) != 0)
				chan_refuse(ch, "cannot start the file-transfer inspection", 1);
			/* data the operator sent meanwhile waits in libssh */
			ch->down_rx = ch->up_rx = ch->up_rx_err = 1;
			verbose("channel %u: %s started on the target", ch->num, chan_kind_name(ch));
		}
		break;
	default: return;
	}
	if (rc == SSH_ERROR) {
		char msg[256];

		snprintf(msg, sizeof(msg), "the target refused the %s request",
		         ch->setup == CS_UP_OPEN  ? "channel"
		         : ch->setup == CS_UP_PTY ? "pty"
		                                  : chan_kind_name(ch));
		error("channel %u: %s: %s", ch->num, msg, ssh_get_error(ch->c->up));
		if (!ssh_channel_is_open(ch->up)) {
			/* Never opened (or already closed): nothing to close on that side. */
			ch->up_dead = 1;
			ch->up_close_rcvd = 1;
		}
		chan_refuse(ch, msg, 1);
	}
}

static void
refused(struct chan *ch)
{
	/* A tunnel has no stderr nor exit status: audit why and close. */
	if (ch->kind == CK_TUNNEL) {
		tunnel_failed(ch, ch->refuse_msg);
		close_both(ch);
		return;
	}
	if (ch->refuse_msg[0] != '\0')
		chan_tell(ch, ch->refuse_msg);
	if (!ch->down_dead && !ch->down_close_rcvd && !ch->exit_status_sent) {
		ssh_channel_request_send_exit_status(ch->down, ch->refuse_status);
		ch->exit_status_sent = 1;
	}
	/* Whatever the operator sent is discarded. */
	close_both(ch);
}

void
chan_step(struct chan *ch)
{
	struct conn *c = ch->c;
	long r;
	int guard;

	/* Each transition may enable the next; a few rounds per call. */
	for (guard = 0; guard < 8; guard++) {
		enum chan_setup before = ch->setup;

		if (ch->down_close_rcvd && ch->setup < CS_LIVE) {
			/* The operator gave up before the pair went live. */
			close_both(ch);
		}
		switch (ch->setup) {
		case CS_REQUESTS: break;
		case CS_ROUTE: route(ch); break;
		case CS_MENU:
			switch (menu_step(c, ch)) {
			case MENU_CHOSEN: ch->setup = CS_ROUTE; break;
			case MENU_QUIT: chan_refuse(ch, "", 0); break;
			default: break;
			}
			break;
		case CS_SHELL: role_shell_step(ch); break;
		case CS_UP_OPEN:
		case CS_UP_PTY:
		case CS_UP_ENV:
		case CS_UP_START: up_setup(ch); break;
		case CS_LIVE:
			relay_requests(ch);
			r = pump_chan(ch);
			if (r < 0) {
				conn_set_end_reason(c, "recording failed"); /* unless the pump named another reason */
				close_both(ch);
				break;
			}
			live_state(ch);
			break;
		case CS_REFUSED: refused(ch); break;
		case CS_CLOSING:
			/* Drain and discard what is still buffered so the delayed
			 * close can complete, then wait for both closes. */
			if (ch->up != NULL && !ch->up_close_rcvd && ch->up_dead)
				ch->up_close_rcvd = 1;
			if ((ch->down_close_rcvd || ch->down_dead) && (ch->up == NULL || ch->up_close_rcvd))
				ch->setup = CS_DEAD;
			else if (time_mono_ms() - ch->closing_since_ms > CHAN_CLOSE_WAIT_MS)
				ch->setup = CS_DEAD;
			break;
		case CS_DEAD: break;
		}
		if (ch->setup == before)
			break;
	}
}

void
chan_end_all(struct conn *c, const char *message)
{
	struct chan *ch;

	for (ch = c->chans; ch != NULL; ch = ch->next) {
		if (ch->setup >= CS_CLOSING)
			continue;
		if (message != NULL)
			chan_tell(ch, message);
		close_both(ch);
	}
}

void
chan_up_lost(struct conn *c)
{
	struct chan *ch;

	for (ch = c->chans; ch != NULL; ch = ch->next) {
		if (ch->up == NULL)
			continue;
		ch->up_dead = 1;
		ch->up_close_rcvd = 1;
		ch->up_eof_rcvd = 1;
		/* No data callback will come again: have the pump read what libssh
		 * still holds, then see the error (drained), so that a live pair
		 * closes instead of waiting for ever (t_fault_target_dies). */
		ch->up_rx = 1;
		ch->up_rx_err = 1;
		if (ch->setup > CS_ROUTE && ch->setup < CS_LIVE)
			chan_refuse(ch, "the target connection was lost", 1);
		else if (ch->setup == CS_LIVE)
			chan_tell(ch, "the target connection was lost; the session is closed");
	}
}
