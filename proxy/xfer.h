/* File transfers on a channel pair: the SFTP inspector (sftp.c) wired to the
 * pump, the `transfers` rows and the audit events; legacy scp and rsync
 * exec commands (recognised by xfer-cmd.c) observed and logged. See
 * docs/file-transfer.md. */
#ifndef GH_PROXY_XFER_H
#define GH_PROXY_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/xfer-cmd.h"

struct chan;
struct conn;

/* The channel became live: start inspecting (sftp subsystem, scp/rsync
 * exec) with the transfer rights the grant gives (SFTP_RIGHT_* bits).
 * Returns 0 (also when the channel is no transfer) or a negative enum gh_err. */
int xfer_start(struct chan *ch);
/* Move data for a channel under inspection, both directions except the
 * target's stderr (pump_chan does that). Bytes moved or a negative gh_err. */
long xfer_pump(struct chan *ch);
/* Bytes inspected and queued toward the operator, not yet written. */
size_t xfer_queued_out(const struct chan *ch);
/* Whether xfer_pump handles this channel's stdin/stdout. */
int xfer_active(const struct chan *ch);
/* The channel ends: open handles are reported, rows written. */
void xfer_end(struct chan *ch);

#endif
