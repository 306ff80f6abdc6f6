#include "proxy/pump.h"

#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "recorder/recorder.h"

/* Per call and direction: keeps one busy channel from starving the others
 * and bounds the time between two polls. */
#define PUMP_ROUND_MAX (512 * 1024)
#define PUMP_CHUNK     (32 * 1024)

struct pump_dir {
	ssh_channel src;
	int src_stderr;
	ssh_channel dst; /* NULL: the destination is gone, data is discarded */
	int dst_stderr;
	enum rec_type rec_type;
	uint64_t *counter;
	int *rx_flag; /* set by the data callback */
	int *drained; /* set here at EOF with nothing left */
};

/* One direction. Returns bytes moved (>= 0) or a negative enum gh_err. */
static long
pump_one(struct chan *ch, const struct pump_dir *d)
{
	struct conn *c = ch->c;
	char buf[PUMP_CHUNK];
	long moved = 0;
	uint32_t room;
	int n, w, r;

	if (!*d->rx_flag || *d->drained)
		return 0;
	while (moved < PUMP_ROUND_MAX) {
		room = sizeof(buf);
		if (d->dst != NULL) {
			uint32_t win = ssh_channel_window_size(d->dst);

			if (win == 0) {
				/* Blocked on the destination's window: retried after the
				 * next poll (libssh does not report a re-opened window). */
				return moved;
			}
			if (win < room)
				room = win;
		}
		n = ssh_channel_read_nonblocking(d->src, buf, room, d->src_stderr);
		if (n == SSH_EOF) {
			*d->drained = 1;
			*d->rx_flag = 0;
			return moved;
		}
		if (n == SSH_ERROR) {
			/* The source session failed; its close is handled elsewhere. */
			*d->drained = 1;
			*d->rx_flag = 0;
			return moved;
		}
		if (n == 0) {
			*d->rx_flag = 0;
			return moved;
		}
		if (c->rec != NULL) {
			r = rec_write(c->rec, d->rec_type, ch->num, buf, (size_t)n);
			if (r != 0 && conn_rec_failed(c, r) != 0) {
				explicit_bzero(buf, (size_t)n);
				return r;
			}
		}
		if (d->dst != NULL) {
			w = d->dst_stderr ? ssh_channel_write_stderr(d->dst, buf, (uint32_t)n)
			                  : ssh_channel_write(d->dst, buf, (uint32_t)n);
			if (w != n) {
				debug_f("channel %u: write failed, discarding the rest", ch->num);
				if (d->dst == ch->down)
					ch->down_dead = 1;
				else
					ch->up_dead = 1;
			}
		}
		*d->counter += (uint64_t)n;
		moved += n;
		c->last_activity_ms = time_mono_ms();
	}
	ch->more_pending = 1;
	return moved;
}

long
pump_chan(struct chan *ch)
{
	struct conn *c = ch->c;
	long total = 0, r;
	struct pump_dir in = {0}, out = {0}, err = {0};

	ch->more_pending = 0;
	/* operator -> target */
	in.src = ch->down;
	in.dst = (ch->up_dead || ch->up_eof_sent || ch->up_close_rcvd) ? NULL : ch->up;
	in.rec_type = REC_DATA_IN;
	in.counter = &c->bytes_in;
	in.rx_flag = &ch->down_rx;
	in.drained = &ch->down_drained;
	if ((r = pump_one(ch, &in)) < 0)
		return r;
	total += r;
	/* target -> operator, stdout then stderr */
	out.src = ch->up;
	out.dst = (ch->down_dead || ch->down_eof_sent || ch->down_close_rcvd) ? NULL : ch->down;
	out.rec_type = REC_DATA_OUT;
	out.counter = &c->bytes_out;
	out.rx_flag = &ch->up_rx;
	out.drained = &ch->up_drained_out;
	if ((r = pump_one(ch, &out)) < 0)
		return r;
	total += r;
	err = out;
	err.src_stderr = 1;
	err.dst_stderr = 1;
	err.rec_type = REC_DATA_ERR;
	err.rx_flag = &ch->up_rx_err;
	err.drained = &ch->up_drained_err;
	if ((r = pump_one(ch, &err)) < 0)
		return r;
	total += r;
	return total;
}
