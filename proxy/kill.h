/* Terminating a live session from outside (the `kill` command, admin/cmd-
 * live.c): the requester writes who and why into the sessions row and sends
 * SIGUSR1 to this connection process. The handler only sets a flag; the
 * connection loop calls kill_check(), which reads the request back from
 * the row, tells the operator, marks the recording and ends the session. */
#ifndef GH_PROXY_KILL_H
#define GH_PROXY_KILL_H

#include <signal.h>

struct conn;

extern volatile sig_atomic_t kill_got_signal;

/* The SIGUSR1 handler (async-signal-safe: sets the flag). */
void kill_on_signal(int sig);
/* From the connection loop, outside any libssh callback. Returns 1 when a
 * termination was started (the connection is now draining). */
int kill_check(struct conn *c);
/* Who ended the session (the sessions row's ended_by), NULL if nobody did. */
const char *kill_ended_by(void);

#endif
