/* The pump: the one place where channel data moves, in both directions.
 *
 * Invariant: bytes are read from a source channel only when the destination
 * can take them, i.e. at most ssh_channel_window_size(dst) bytes, and every
 * byte read is recorded and written before the next read. What is not read
 * stays in libssh's channel buffer, whose window is then not re-opened: the
 * sender is slowed, nothing is buffered without bound. */
#ifndef GH_PROXY_PUMP_H
#define GH_PROXY_PUMP_H

struct chan;

/* Move what can be moved for one live channel pair. Returns the number of
 * bytes moved, or a negative enum gh_err when the channel must end:
 * ERR_INVALID when the operator ignored the channel window (audited, end
 * reason set), anything else when the recording failed and the session
 * may not go on. */
long pump_chan(struct chan *ch);

#endif
