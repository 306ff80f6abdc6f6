#include "proxy/pump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "proxy/chan.h"
#include "proxy/cmdctl.h"
#include "proxy/conn.h"
#include "proxy/recfilter.h"
#include "proxy/xfer.h"
#include "recorder/recorder.h"

/* Per call and direction: keeps one busy channel from starving the others
 * and bounds the time between two polls. */
#define PUMP_ROUND_MAX (512 * 1024)
/* libssh cuts a channel write at the peer's maximum packet (32768 for
 * OpenSSH) minus 10 bytes of header: a 32 KiB write went out as one full
 * packet and one of 10 bytes (strace, docs/performance.md). A write is at
 * most 8 packets' payload: a hold written while the window is open goes out
 * in full packets but for its tail, and one blocking flush stays short. */
#define PUMP_PACKET    32758
#define PUMP_WRITE_MAX (8 * PUMP_PACKET)
/* The receive window the bastion keeps open on both legs, and how much of
 * it is consumed before it is topped up again (see open_window). */
#define PUMP_WINDOW (4u * 1024 * 1024)
#define PUMP_TOPUP  (128u * 1024)
/* libssh 0.10 buffers a data packet even beyond the window it granted
 * ("accept it anyway"), so a peer that ignores flow control could make this
 * process hold any amount. With every read taking all that is buffered
 * (read_hold), an honest client never has more than one window (4 MiB)
 * buffered here: twice that is a violation (flow_violated). */
#define PUMP_FLOW_LIMIT (2 * PUMP_WINDOW)
/* One read takes what libssh holds for the stream, up to this much. */
#define PUMP_HOLD_MAX (8u * 1024 * 1024)
/* An empty hold larger than this is given back. */
#define PUMP_HOLD_KEEP (64u * 1024)

struct pump_dir {
	ssh_channel src;
	int src_stderr;
	ssh_channel dst; /* NULL: the destination is gone, data is discarded */
	int dst_stderr;
	enum rec_type rec_type;
	uint64_t *counter;
	int *rx_flag;             /* set by the data callback */
	int *drained;             /* set here at EOF with nothing left */
	struct pump_carry *carry; /* read, not yet taken by the destination */
	int track;                /* command tracking: 1 operator input, 2 target output */
	int hold_back;            /* the other stream of the same source still holds data: read nothing */
};

/* Write what fits of buf to the destination; returns bytes taken (0 while
 * libssh holds writes during a key re-exchange) or -1 when it is gone. */
static int
write_some(const struct pump_dir *d, const char *buf, size_t len)
{
	uint32_t win = ssh_channel_window_size(d->dst);
	int w;

	if (win == 0)
		return 0;
	if (len > win)
		len = win;
	if (len > PUMP_WRITE_MAX)
		len = PUMP_WRITE_MAX;
	w = d->dst_stderr ? ssh_channel_write_stderr(d->dst, buf, (uint32_t)len)
	                  : ssh_channel_write(d->dst, buf, (uint32_t)len);
	return w < 0 ? -1 : w;
}

static void
mark_dst_dead(struct chan *ch, const struct pump_dir *d)
{
	debug_f("channel %u: write failed, discarding the rest", ch->num);
	if (d->dst == ch->down)
		ch->down_dead = 1;
	else
		ch->up_dead = 1;
}

/* Make room for want bytes in an empty hold; returns what fits (0 when
 * nothing could be allocated). */
static size_t
hold_reserve(struct pump_carry *k, size_t want)
{
	size_t cap;
	char *nb;

	if (k->cap >= want)
		return want;
	cap = k->cap ? k->cap : 32768;
	while (cap < want)
		cap *= 2;
	if ((nb = realloc(k->buf, cap)) != NULL) {
		k->buf = nb;
		k->cap = cap;
	}
	return want < k->cap ? want : k->cap;
}

/* What was just read into the (empty) hold of d: command tracking,
 * recording, counters. Returns the bytes to write (cmdctl may hold back a
 * blocked Enter) or a negative enum gh_err. */
static long
take(struct chan *ch, const struct pump_dir *d, size_t n)
{
	struct conn *c = ch->c;
	struct pump_carry *k = d->carry;
	int r;

	if (ch->cmd != NULL && d->track == 1)
		n = cmdctl_input(ch, k->buf, n);
	else if (ch->cmd != NULL && d->track == 2)
		cmdctl_output(ch, k->buf, n);
	if (c->rec != NULL) {
		r = recfilter_data(ch, d->rec_type, k->buf, n); /* pty: unechoed input redacted */
		if (r != 0 && conn_rec_failed(c, r) != 0)
			return r;
	}
	*d->counter += (uint64_t)n;
	c->last_activity_ms = time_mono_ms();
	k->off = 0;
	k->len = n;
	return (long)n;
}

/* libssh 0.10 keeps a channel's receive window at 1,280,000 bytes
 * (WINDOWBASE, re-opened when it falls under half) and has no setting for
 * it: one channel could carry at most ~1.28 MB per round trip, half of
 * what an OpenSSH peer offers (2 MiB), so transfers over a distant link
 * were window-bound (docs/performance.md, item 4). The one public path to a
 * larger window is ssh_channel_read_timeout(), which first grows the window
 * to the byte count asked for. Asked for the channel's extended-data
 * (stderr) stream with timeout 0, it tops the window up to PUMP_WINDOW and
 * returns at once; the sink is as large as the count, so it never
 * overflows. On the operator's channel that stream means nothing (SSH
 * clients do not send it; chan.c drops it on arrival). On the target's it
 * is the command's standard error: open_window is called only when that
 * stream's hold is empty, and whatever the call did read (stderr that
 * arrived meanwhile) goes into the hold as the stderr pump would have put
 * it there. Called after PUMP_TOPUP bytes were read from the side and only
 * when its sources were drained: unread data plus the window stay within
 * one window, and typing never causes a window adjust per key. */
static long
open_window(struct chan *ch, ssh_channel side, const struct pump_dir *err)
{
	static uint8_t sink[PUMP_WINDOW]; /* untouched pages cost nothing */
	int n = ssh_channel_read_timeout(side, sink, sizeof(sink), 1, 0);

	if (n <= 0)
		return 0;
	if (err == NULL) {
		debug_f("channel %u: %d bytes of extended data from the operator dropped", ch->num, n);
		return 0;
	}
	if (hold_reserve(err->carry, (size_t)n) < (size_t)n)
		return ERR_NOMEM;
	memcpy(err->carry->buf, sink, (size_t)n);
	return take(ch, err, (size_t)n);
}

/* Bytes read from one side this round count toward its next top-up;
 * returns 1 once PUMP_TOPUP were read since the last one (the caller
 * resets the count when it tops up). */
static int
topup_count(uint32_t *since, uint64_t read)
{
	*since += read < PUMP_TOPUP ? (uint32_t)read : PUMP_TOPUP;
	if (*since > PUMP_TOPUP)
		*since = PUMP_TOPUP;
	return *since >= PUMP_TOPUP;
}

/* Drain what libssh holds for the source stream into the (empty) hold.
 * Returns bytes read, 0 when nothing is there, SSH_EOF or SSH_ERROR.
 *
 * Why everything at once: libssh 0.10 re-opens the source's window after
 * every read that leaves it under 640,000 bytes, to 1,280,000, without
 * counting what it still buffers. Reading only what the destination can
 * take, a little at a time, therefore re-opened the window again and again
 * while the buffer grew: a fast operator uploading to a slow command made
 * the bastion hold 140 MB of a 200 MB upload (docs/performance.md). Taking
 * the whole buffer per read, and reading again only once the hold has gone
 * out, allows one re-opening per hold: libssh's buffer and the hold each
 * stay within one window. */
static int
read_hold(const struct pump_dir *d)
{
	struct pump_carry *k = d->carry;
	int avail = ssh_channel_poll(d->src, d->src_stderr);
	size_t want;

	if (avail <= 0)
		return avail; /* 0, SSH_EOF or SSH_ERROR */
	want = (size_t)avail < PUMP_HOLD_MAX ? (size_t)avail : PUMP_HOLD_MAX;
	if ((want = hold_reserve(k, want)) == 0)
		return SSH_ERROR;
	return ssh_channel_read_nonblocking(d->src, k->buf, (uint32_t)want, d->src_stderr);
}

/* One direction: write what the hold has, and when it is empty read what
 * the source has into it. Returns bytes moved (>= 0) or a negative enum
 * gh_err. */
static long
pump_one(struct chan *ch, const struct pump_dir *d)
{
	struct pump_carry *k = d->carry;
	long moved = 0, got;
	int n, w;

	while (moved < PUMP_ROUND_MAX) {
		if (k->len > 0) {
			if (d->dst == NULL) {
				k->len = k->off = 0; /* the destination is gone: recorded, then dropped */
				continue;
			}
			w = write_some(d, k->buf + k->off, k->len);
			if (w < 0) {
				mark_dst_dead(ch, d);
				k->len = k->off = 0;
				continue;
			}
			if (w == 0)
				return moved; /* no window (or a key re-exchange): after the next poll */
			k->off += (size_t)w;
			k->len -= (size_t)w;
			moved += w;
			continue;
		}
		k->off = 0;
		if (k->cap > PUMP_HOLD_KEEP) {
			free(k->buf);
			k->buf = NULL;
			k->cap = 0;
		}
		if (!*d->rx_flag || *d->drained || d->hold_back)
			return moved;
		/* Blocked on the destination's window: nothing is read, so libssh
		 * does not re-open the source's; retried after the next poll
		 * (libssh does not report a re-opened window). */
		if (d->dst != NULL && ssh_channel_window_size(d->dst) == 0)
			return moved;
		n = read_hold(d);
		if (n == SSH_EOF || n == SSH_ERROR) {
			/* At EOF with nothing left (or the source session failed; its
			 * close is handled by the connection loop). */
			*d->drained = 1;
			*d->rx_flag = 0;
			return moved;
		}
		if (n == 0) {
			*d->rx_flag = 0;
			return moved;
		}
		if ((got = take(ch, d, (size_t)n)) < 0)
			return got;
		if (d->dst == NULL)
			moved += got;
	}
	ch->more_pending = 1;
	return moved;
}

/* The operator's channel still flagged after its pump round holds unread
 * data (the target had no room); more than PUMP_FLOW_LIMIT of it means the
 * client ignored the window. ssh_channel_poll does no I/O on a non-empty
 * buffer. Not applied to the target's channel: there libssh re-opens the
 * window when stderr arrives, counting only stderr's buffer, so an honest
 * target writing stderr between large stdout blocks to a slow operator can
 * leave more than that unread (seen in CI); the target is a managed host. */
static int
flow_violated(struct chan *ch)
{
	struct conn *c = ch->c;
	char detail[160];
	int n;

	if (!ch->down_rx || ch->down_drained || (n = ssh_channel_poll(ch->down, 0)) <= (int)PUMP_FLOW_LIMIT)
		return 0;
	snprintf(detail, sizeof(detail), "the operator sent %d bytes beyond the channel window (limit %u)", n,
	         (unsigned)PUMP_FLOW_LIMIT);
	error("channel %u: %s: channel closed", ch->num, detail);
	conn_audit(c, c->user != NULL ? c->user->name : "-", "channel.flow_violation",
	           c->asset != NULL ? c->asset->name : "-", "closed", AUDIT_HIGH, detail);
	conn_set_end_reason(c, "flow control violated");
	return 1;
}

long
pump_chan(struct chan *ch)
{
	struct conn *c = ch->c;
	long total = 0, r;
	struct pump_dir in = {0}, out = {0}, err = {0};
	uint64_t in_before = c->bytes_in, out_before = c->bytes_out;

	ch->more_pending = 0;
	if ((r = recfilter_tick(ch)) != 0 && conn_rec_failed(c, r) != 0)
		return r;
	cmdctl_tick(ch);
	/* operator -> target */
	in.src = ch->down;
	in.dst = (ch->up_dead || ch->up_eof_sent || ch->up_close_rcvd) ? NULL : ch->up;
	in.rec_type = REC_DATA_IN;
	in.counter = &c->bytes_in;
	in.rx_flag = &ch->down_rx;
	in.drained = &ch->down_drained;
	in.carry = &ch->carry_in;
	in.track = 1;
	/* File transfers under inspection move stdin/stdout in xfer.c. */
	if ((r = xfer_active(ch) ? xfer_pump(ch) : pump_one(ch, &in)) < 0)
		return r;
	total += r;
	if (topup_count(&ch->down_unwindowed, c->bytes_in - in_before) && !ch->down_rx && !ch->down_drained &&
	    !ch->down_dead) {
		ch->down_unwindowed = 0;
		(void)open_window(ch, ch->down, NULL);
	}
	/* target -> operator, stdout then stderr */
	out.src = ch->up;
	out.dst = (ch->down_dead || ch->down_eof_sent || ch->down_close_rcvd) ? NULL : ch->down;
	out.rec_type = REC_DATA_OUT;
	out.counter = &c->bytes_out;
	out.rx_flag = &ch->up_rx;
	out.drained = &ch->up_drained_out;
	out.carry = &ch->carry_out;
	out.track = 2;
	/* stdout and stderr share the target's window, and a read of either
	 * lets libssh re-open it: each is read only when the other's hold has
	 * gone out too, or stderr read under back-pressure would keep the
	 * window open while stdout piles up in libssh's buffer. */
	out.hold_back = ch->carry_err.len > 0;
	if ((r = xfer_active(ch) ? 0 : pump_one(ch, &out)) < 0)
		return r;
	total += r;
	err = out;
	err.src_stderr = 1;
	err.dst_stderr = 1;
	err.rec_type = REC_DATA_ERR;
	err.rx_flag = &ch->up_rx_err;
	err.drained = &ch->up_drained_err;
	err.carry = &ch->carry_err;
	err.hold_back = ch->carry_out.len > 0 || (xfer_active(ch) && xfer_queued_out(ch) > 0);
	if ((r = pump_one(ch, &err)) < 0)
		return r;
	total += r;
	if (topup_count(&ch->up_unwindowed, c->bytes_out - out_before) && ch->up != NULL && !ch->up_rx &&
	    !ch->up_rx_err && !ch->up_drained_out && !ch->up_dead && ch->carry_err.len == 0) {
		ch->up_unwindowed = 0;
		if ((r = open_window(ch, ch->up, &err)) < 0)
			return r;
		if (r > 0)
			ch->more_pending = 1; /* stderr taken on the way: written on the next round */
		total += r;
	}
	if (flow_violated(ch))
		return ERR_INVALID;
	return total;
}
