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

struct srv_auth *srv_auth_new(struct conn *c);
void srv_auth_free(struct srv_auth *a);

/* Handle one SSH_REQUEST_AUTH message (from the message callback). Returns
 * 0 when a reply was sent, 1 to let libssh send the default failure. */
int srv_auth_handle(struct srv_auth *a, ssh_message msg);

/* The server's auth_pubkey callback. Returns SSH_AUTH_SUCCESS only for a
 * bare offer of the registered key (libssh then answers PK_OK), and
 * SSH_AUTH_PARTIAL for a verified signature (TOTP still to come); never
 * SSH_AUTH_SUCCESS for a signature, which would end authentication. */
int srv_auth_pubkey(struct srv_auth *a, const char *user, ssh_key key, enum ssh_publickey_state_e state);

/* Every factor passed and success was sent. */
int srv_auth_succeeded(const struct srv_auth *a);
/* Too many failures on this connection: disconnect. */
int srv_auth_exhausted(const struct srv_auth *a);
/* The user name (as sent, "alice@root@web01") that succeeded. */
const char *srv_auth_name(const struct srv_auth *a);
/* Hands the authenticated user's record to the caller. */
struct user_rec *srv_auth_take_user(struct srv_auth *a);

#endif
