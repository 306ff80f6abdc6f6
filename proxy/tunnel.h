/* Local port forwarding (ssh -L, -W, -J): the policy decision when the
 * operator opens a direct-tcpip channel. The channel pair itself is a
 * chan (CK_TUNNEL) whose target side is opened FROM the target with
 * ssh_channel_open_forward, so the destination is reached from the target's
 * network; its bytes are recorded and counted by xfer.c. */
#ifndef GH_PROXY_TUNNEL_H
#define GH_PROXY_TUNNEL_H

#include <libssh/libssh.h>
#include <libssh/server.h>

struct conn;

/* Called from the message callback for SSH_CHANNEL_DIRECT_TCPIP. Returns 0
 * when the channel was accepted (a new chan exists), 1 when refused: the
 * caller lets libssh send the default refusal. Audits either way. Makes no
 * blocking call (the target connection is made later by chan_step). */
int tunnel_open(struct conn *c, ssh_message msg);
/* The tunnel's target side could not be opened (destination unreachable
 * from the target, target lost ...): audited tunnel.fail with the reason. */
struct chan;
void tunnel_failed(struct chan *ch, const char *why);

#endif
