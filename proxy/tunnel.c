/* Local port forwarding policy (see tunnel.h, docs/file-transfer.md). */
#include "proxy/tunnel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/audit.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/route.h"

#define TUNNEL_MAX_LIVE 16 /* tunnels of one connection at once */

static int
live_tunnels(const struct conn *c)
{
	const struct chan *ch;
	int n = 0;

	for (ch = c->chans; ch != NULL; ch = ch->next)
		n += ch->kind == CK_TUNNEL && ch->setup < CS_CLOSING;
	return n;
}

/* requested: the host as the operator wrote it, when it differs from the
 * canonical form in dest (NULL otherwise). */
static void
audit_tunnel(struct conn *c, const char *type, const char *dest, const char *result, int importance, const char *why,
             const char *orig, int oport, int unrecorded, const char *requested)
{
	json_t *j = json_object();
	char *detail;
	char object[300];

	json_object_set_new(j, "destination", json_string(dest));
	if (requested != NULL)
		json_object_set_new(j, "requested", json_string(requested));
	json_object_set_new(j, "originator", json_sprintf("%s:%d", orig != NULL ? orig : "", oport));
	if (why != NULL && why[0] != '\0')
		json_object_set_new(j, "reason", json_string(why));
	if (unrecorded)
		json_object_set_new(j, "unrecorded", json_true());
	if (c->uuid[0] != '\0')
		json_object_set_new(j, "session", json_string(c->uuid));
	if (c->asset != NULL)
		json_object_set_new(j, "target",
		                    json_sprintf("%s@%s", c->login != NULL ? c->login : "?", c->asset->name));
	detail = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	snprintf(object, sizeof(object), "%s", dest);
	conn_audit(c, c->user != NULL ? c->user->name : "-", type, object, result, importance, detail);
	free(detail);
}

int
tunnel_open(struct conn *c, ssh_message msg)
{
	const char *host = ssh_message_channel_request_open_destination(msg);
	int port = ssh_message_channel_request_open_destination_port(msg);
	const char *orig = ssh_message_channel_request_open_originator(msg);
	int oport = ssh_message_channel_request_open_originator_port(msg);
	char why[384] = "", dest[300], canon[NETADDR_HOST_MAX + 1], requested[300];
	const char *req = NULL;
	int to_target = 0, r;
	ssh_channel down;
	struct chan *ch;

	/* One spelling per destination (common/netaddr.h): the grant, the
	 * "target's own SSH port" label and the channel opened from the target
	 * all use the canonical form, so 0x7f.1 or ::ffff:127.0.0.1 is judged,
	 * labelled and opened as 127.0.0.1. */
	if (host == NULL || port <= 0 || port > 65535 || netaddr_normalise(host, canon, sizeof(canon)) < 0) {
		snprintf(dest, sizeof(dest), "?:%d", port);
		if (host != NULL)
			snprintf(requested, sizeof(requested), "%.255s", host);
		audit_tunnel(c, "forward.deny", dest, "denied", AUDIT_NOTICE, "malformed destination", orig, oport, 0,
		             host != NULL ? requested : NULL);
		c->forward_notice = 1;
		return 1;
	}
	if (strcmp(canon, host) != 0) {
		snprintf(requested, sizeof(requested),
		         strchr(host, ':') != NULL && host[0] != '[' ? "[%s]:%d" : "%s:%d", host, port);
		req = requested;
	}
	host = canon;
	snprintf(dest, sizeof(dest), strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d", host, port);
	if (c->up_failed || c->begin_failed) {
		r = ROUTE_REFUSED;
		snprintf(why, sizeof(why), "the target is not reachable");
	} else if (live_tunnels(c) >= TUNNEL_MAX_LIVE) {
		r = ROUTE_REFUSED;
		snprintf(why, sizeof(why), "too many tunnels at once (%d)", TUNNEL_MAX_LIVE);
	} else {
		r = route_tunnel(c, host, port, &to_target, why, sizeof(why));
	}
	/* ssh -J through the bastion: ciphertext the bastion cannot record,
	 * logged as such whether allowed or not. */
	if (to_target)
		audit_tunnel(c, "tunnel.unrecorded", dest, r == ROUTE_OK ? "ok" : "denied", AUDIT_HIGH, why, orig,
		             oport, 1, req);
	if (r != ROUTE_OK) {
		audit_tunnel(c, "forward.deny", dest, "denied", AUDIT_NOTICE, why, orig, oport, to_target, req);
		info("direct-tcpip to %s refused: %s", dest, why);
		c->forward_notice = 1; /* told on a live channel, if any */
		return 1;
	}
	if ((down = ssh_message_channel_request_open_reply_accept(msg)) == NULL) {
		error("direct-tcpip to %s: cannot accept the channel", dest);
		return 0; /* an answer was attempted: no second reply */
	}
	if ((ch = chan_new_tunnel(c, down, host, port, to_target)) == NULL) {
		ssh_channel_close(down);
		ssh_channel_free(down);
		return 0;
	}
	audit_tunnel(c, "tunnel.open", dest, "ok", AUDIT_INFO, NULL, orig, oport, to_target, req);
	verbose("channel %u: tunnel to %s from the target", ch->num, dest);
	return 0;
}

void
tunnel_failed(struct chan *ch, const char *why)
{
	info("channel %u: tunnel to %s failed: %s", ch->num, ch->command != NULL ? ch->command : "?",
	     why != NULL && why[0] ? why : "closed");
	audit_tunnel(ch->c, "tunnel.fail", ch->command != NULL ? ch->command : "?", "fail", AUDIT_NOTICE, why, NULL, 0,
	             ch->fwd_unrecorded, NULL);
}
