/* File transfers on a channel pair: the SFTP inspector (sftp.c) wired to the
 * pump, the `transfers` rows and the audit events; detection of legacy scp
 * and rsync exec commands (policy and logging). See docs/file-transfer.md. */
#ifndef GH_PROXY_XFER_H
#define GH_PROXY_XFER_H

#include <stddef.h>
#include <stdint.h>

struct chan;
struct conn;

/* What an exec command is, for the transfer rights (detection only: the
 * command string is forwarded unchanged). */
enum xfer_exec_kind {
	XE_NONE,          /* not a transfer: needs the exec right */
	XE_SCP_UPLOAD,    /* scp -t PATH */
	XE_SCP_DOWNLOAD,  /* scp -f PATH */
	XE_RSYNC_UPLOAD,  /* rsync --server ... (no --sender) */
	XE_RSYNC_DOWNLOAD /* rsync --server --sender ... */
};

/* Classify an exec command (pure; argv split without any shell). The path
 * arguments are copied to paths (may be truncated), "" when none. */
enum xfer_exec_kind xfer_exec_classify(const char *command, char *paths, size_t pathslen);

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
