/* One operator connection, served by its own forked process: the operator-
 * facing libssh server session, the target-facing client session, their
 * channels, the recording and the sessions row. Shared by the proxy room's
 * modules (srv-auth, srv-menu, route, up-conn, chan, pump); nothing outside
 * proxy/ sees it. */
#ifndef GH_PROXY_CONN_H
#define GH_PROXY_CONN_H

#include <signal.h>
#include <stdint.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "common/config.h"
#include "common/store.h"
#include "proxy/target.h"

struct srv_auth;
struct rec_writer;
struct chan;
struct secret_key;

/* Life of the connection (the per-connection process). */
enum conn_state {
	CONN_KEX,      /* key exchange */
	CONN_AUTH,     /* authenticating */
	CONN_RUNNING,  /* authenticated, channels come and go */
	CONN_DRAINING, /* ending: channels are being closed */
	CONN_DONE,     /* all channels gone, tear down */
};

struct conn {
	const struct gh_config *cfg;
	const char *datadir;
	struct store *st;
	struct secret_key *mkey; /* master key, loaded lazily */
	enum conn_state state;

	/* operator side */
	ssh_session srv;
	ssh_event ev;
	struct ssh_server_callbacks_struct srv_cb; /* must outlive the session */
	char src_addr[64];
	int src_port;
	char source[96];       /* "ADDR:PORT" for audit events */
	struct srv_auth *auth; /* monitor: the authentication state machine */
	int mon_fd;            /* network child: the socket to the monitor (privsep.h) */
	int auth_ok;           /* network child: the monitor saw every factor pass */
	int auth_end;          /* network child: too many failures, or the monitor failed */
	char auth_name[256];   /* network child: the user name that authenticated */

	/* who, after authentication */
	struct user_rec *user;
	char *ssh_user; /* the user name as sent (with @login@asset) */
	struct target_spec spec;

	/* target, once decided (direct syntax or menu) */
	int target_chosen;
	struct asset_rec *asset;
	char *login;
	ssh_session up;     /* NULL until connected */
	int up_failed;      /* the connection was tried and failed: refuse further channels */
	char up_error[256]; /* one line for the operator */

	/* channels */
	struct chan *chans; /* list, newest first */
	uint32_t next_chan_num;
	int chans_ever; /* a channel was ever opened */

	/* session accounting, recording */
	char uuid[37];
	int64_t session_row; /* 0 until the sessions row exists */
	int begin_failed;    /* the session could not start (recording): refuse channels */
	char *rec_path;
	struct rec_writer *rec;   /* NULL when not recording (not started, or failed open) */
	int rec_failed;           /* the recorder failed once: handled */
	int audit_failed;         /* an audit append failed (fail closed unless audit_failure=open) */
	int forward_notice;       /* a forward was refused: tell the operator on a live channel */
	uint64_t bytes_in;        /* operator -> target */
	uint64_t bytes_out;       /* target -> operator */
	int64_t last_activity_ms; /* monotonic */
	int64_t last_db_update_ms;
	char channel_types[128]; /* "shell,exec,sftp" as seen */
	char end_reason[64];     /* first reason wins */
	int target_recorded;     /* the recording and the row name the target (sessrec.c) */
	int had_pty;             /* a channel had a terminal: build keyframes at the end */
	char rec_head[65];       /* at the end: the recording's chain head (hex), frames and bytes, */
	uint64_t rec_frames;     /* for the row and the session.end audit event */
	uint64_t rec_bytes;
	int64_t session_start_us; /* wall clock when the session began: origin of command offsets (cmdctl.c) */
	uint8_t seal_pub[32];     /* the recording-seal public key (recfilter.c), once loaded */
	int seal_state;           /* 0 not loaded yet, 1 loaded, -1 none: secrets recorded as their length */

	/* shutdown */
	int64_t shutdown_deadline_ms; /* 0 = none */
};

/* Set by signal handlers of the connection process. */
extern volatile sig_atomic_t conn_got_term;

/* The write end of a pipe to the listener: one byte is written (and the
 * pipe closed) once the operator authenticated, so the listener can count
 * unauthenticated connections. -1 = none. */
void conn_set_auth_notify_fd(int fd);
/* Report one failed authentication attempt to the listener (per-source
 * penalties): one byte "F" on the same pipe. */
void conn_notify_auth_failure(void);

/* Serve one accepted TCP connection (fd) in the current (forked) process.
 * Returns the process exit status. */
int conn_serve(ssh_bind bind, int fd, const struct gh_config *cfg, const char *datadir);

/* Record why the connection ends (the first reason is kept). */
void conn_set_end_reason(struct conn *c, const char *reason);
/* Append an audit event with this connection's actor and source. */
void conn_audit(struct conn *c, const char *actor, const char *type, const char *object, const char *result,
                int importance, const char *detail);
/* The master key, loaded on first use; NULL on failure. */
struct secret_key *conn_master_key(struct conn *c);
/* Open recording and sessions row once the target is known. */
int conn_begin_session(struct conn *c);
/* Fail closed / open on a recorder error. Returns 0 when the session may go on. */
int conn_rec_failed(struct conn *c, int err);

#endif
