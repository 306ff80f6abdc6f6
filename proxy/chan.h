/* Session channels: one operator-facing channel (down) paired with one
 * target-facing channel (up). libssh callbacks only record what happened
 * (flags and requests); chan_step(), called from the connection loop outside
 * ssh_event_dopoll, makes every decision: the setup state machine, the
 * data pump and the EOF/close state machine. */
#ifndef GH_PROXY_CHAN_H
#define GH_PROXY_CHAN_H

#include <stdint.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

struct cmdctl_chan;
struct conn;
struct menu;
struct xfer;

enum chan_kind { CK_NONE, CK_SHELL, CK_EXEC, CK_SUBSYSTEM, CK_TUNNEL /* direct-tcpip (tunnel.c) */ };

/* Setup and life of a channel pair. */
enum chan_setup {
	CS_REQUESTS, /* operator channel open, collecting pty/env until shell/exec/subsystem */
	CS_ROUTE,    /* start requested: grant check, target connection */
	CS_MENU,     /* the operator picks a target in the menu */
	CS_SHELL,    /* the role shell (no target: superadmin, auditor, or an operator's exec) */
	CS_UP_OPEN,  /* target channel opening (non-blocking) */
	CS_UP_PTY,   /* pty request to the target */
	CS_UP_ENV,   /* allowed environment variables */
	CS_UP_START, /* shell / exec / subsystem request to the target */
	CS_LIVE,     /* relaying */
	CS_REFUSED,  /* telling the operator why, then closing */
	CS_CLOSING,  /* close sent, waiting for both sides' close */
	CS_DEAD,     /* freed by chan_reap() outside the poll */
};

#define CHAN_MAX_ENV 16

struct chan {
	struct chan *next;
	struct conn *c;
	uint32_t num;                                /* per connection, for the recording and the channels row */
	ssh_channel down;                            /* operator side */
	ssh_channel up;                              /* target side, NULL until opened */
	struct ssh_channel_callbacks_struct down_cb; /* must outlive the channel */
	struct ssh_channel_callbacks_struct up_cb;
	enum chan_setup setup;
	enum chan_kind kind;
	char *command;            /* exec command or subsystem name */
	struct role_shell *shell; /* CS_SHELL: the role shell (role-shell.c) */
	int64_t closing_since_ms;
	int64_t down_close_wait_ms; /* operator closed first: since when we wait for the exit status */

	/* pty */
	int has_pty;
	char term[64];
	int cols, rows, pxw, pxh;
	int resize_pending;

	/* environment (allow-listed) */
	char *env_name[CHAN_MAX_ENV];
	char *env_value[CHAN_MAX_ENV];
	int n_env, env_sent;

	char pending_signal[32]; /* one signal name waiting to be relayed */

	/* set by callbacks: data may be waiting */
	int down_rx, up_rx, up_rx_err;
	/* EOF/close state, both sides */
	int down_eof_rcvd, down_close_rcvd, down_eof_sent, down_close_sent;
	int up_eof_rcvd, up_close_rcvd, up_eof_sent, up_close_sent;
	int down_drained, up_drained_out, up_drained_err; /* source empty at EOF */
	int down_dead, up_dead;                           /* that side can take no more writes */
	int exit_status_rcvd, exit_status, exit_status_sent;
	char *exit_signal;
	int exit_core, exit_signal_sent;
	int more_pending;         /* the pump stopped at its per-round cap */
	uint32_t down_unwindowed; /* read from the operator since its window was last topped up (pump.c) */
	uint32_t up_unwindowed;   /* read from the target since its window was last topped up */
	/* Bytes read and recorded but not yet accepted by the destination: the
	 * hold of each direction (pump.c). Filled only when empty, with what
	 * libssh had buffered for the source; allocated while in use. */
	struct pump_carry {
		size_t off, len, cap;
		char *buf;
	} carry_in, carry_out, carry_err;

	char refuse_msg[384]; /* one line for the operator */
	int refuse_status;
	int notice_agent, notice_x11, notices_sent;
	int db_row; /* the channels row exists */

	struct menu *menu;
	struct xfer *xfer;    /* file-transfer inspection (xfer.c), NULL when none */
	unsigned xfer_rights; /* SFTP_RIGHT_* bits the grant gives this channel (route.c) */
	int xfer_exec;        /* enum xfer_exec_kind of an exec command (route.c) */
	char *fwd_host;       /* CK_TUNNEL: destination, opened from the target */
	int fwd_port;
	int fwd_unrecorded;      /* the destination is the target's own SSH service */
	int rec_opened;          /* channel open (and pty) recorded */
	struct redact *redact;   /* unechoed-input filter of a pty channel (recfilter.c), NULL until used */
	struct cmdctl_chan *cmd; /* command audit and rules (cmdctl.c), NULL when not tracked */
};

/* The channel-open callback target: a new pair with its down channel. */
struct chan *chan_new(struct conn *c, ssh_session srv);
/* Advance one channel; never called from a libssh callback. */
void chan_step(struct chan *ch);
/* Free the channels in CS_DEAD. */
void chan_reap(struct conn *c);
/* Ask every channel to end, with a message for the operator. */
void chan_end_all(struct conn *c, const char *message);
/* The target connection is gone: every up channel is closed. */
void chan_up_lost(struct conn *c);
void chan_free(struct chan *ch);
/* A direct-tcpip channel the operator opened (accepted by tunnel.c after
 * the policy allowed it): its target side is opened from the target to
 * host:port. */
struct chan *chan_new_tunnel(struct conn *c, ssh_channel down, const char *host, int port, int unrecorded);
/* Refuse the channel with a message (and exit status). */
void chan_refuse(struct chan *ch, const char *message, int status);
/* Record a message to the operator's stderr (best effort, window permitting). */
void chan_tell(struct chan *ch, const char *message);
const char *chan_kind_name(const struct chan *ch);

#endif
