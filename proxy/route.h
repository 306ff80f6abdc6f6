/* Routing decisions: which asset and login a channel goes to, and whether
 * the grants allow it. Every decision goes through grant_evaluate(). */
#ifndef GH_PROXY_ROUTE_H
#define GH_PROXY_ROUTE_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct chan;

enum route_result { ROUTE_OK, ROUTE_MENU, ROUTE_REFUSED, ROUTE_SHELL };

/* Decide for a channel whose start was requested. ROUTE_SHELL: no target
 * was given and this is not an operator's terminal (the menu): the role
 * shell runs the channel (role-shell.c). On ROUTE_REFUSED, msg holds
 * one line for the operator and an audit event was written. On ROUTE_OK the
 * connection's target (c->asset, c->login) is set. */
int route_channel(struct conn *c, struct chan *ch, char *msg, size_t msglen);

/* A menu line: a login on an asset the user may open a shell on now. */
struct route_entry {
	char *asset;
	char *login;
	char *host;
};

int route_menu_entries(struct conn *c, struct route_entry **out, size_t *n);
void route_entries_free(struct route_entry *e, size_t n);
/* Fix the connection's target after a menu choice (the grant is still
 * checked by route_channel). */
int route_choose(struct conn *c, const char *asset, const char *login);
/* A direct-tcpip request to host:port (opened from the target), host in
 * canonical form (common/netaddr.h): fixes the connection's target like a
 * first channel would, then needs the forward right on a grant whose
 * forward_to lists host:port (compared in canonical form). *to_target is set
 * when host:port is the target's own SSH service (an unrecorded tunnel).
 * ROUTE_OK, or ROUTE_REFUSED with one line in msg (not audited here). */
int route_tunnel(struct conn *c, const char *host, int port, int *to_target, char *msg, size_t msglen);

#endif
