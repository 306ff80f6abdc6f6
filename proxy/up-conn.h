/* The target leg: a libssh client session to the chosen asset, with the
 * pinned host key checked and the stored credential used then wiped. */
#ifndef GH_PROXY_UP_CONN_H
#define GH_PROXY_UP_CONN_H

struct conn;

/* Blocking connect, host-key check and authentication (done before the
 * session joins the shared event), then the session is made non-blocking
 * and added to c->ev. On failure c->up_error holds one line for the
 * operator and an audit event was written. */
int up_connect(struct conn *c);

#endif
