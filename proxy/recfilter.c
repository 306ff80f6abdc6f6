/* See recfilter.h. The filter holds typed input back from the recording
 * (never from the target) until the target's output shows whether it was
 * echoed; the records therefore come out a little later than the bytes
 * were relayed, in the order the filter decides. */
#include "proxy/recfilter.h"

#include "common/err.h"
#include "common/timeutil.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "recorder/redact.h"

static int
emit(void *arg, enum rec_type type, const void *data, size_t len)
{
	struct chan *ch = arg;

	if (ch->c->rec == NULL)
		return 0;
	return rec_write(ch->c->rec, type, ch->num, data, len);
}

int
recfilter_data(struct chan *ch, enum rec_type type, const void *data, size_t len)
{
	struct conn *c = ch->c;

	if (c->rec == NULL)
		return 0;
	/* Only a terminal has prompts that turn echo off; exec without a pty
	 * and sftp carry data, not keystrokes. */
	if (!ch->has_pty || c->cfg->record_unechoed_input || type == REC_DATA_ERR)
		return rec_write(c->rec, type, ch->num, data, len);
	if (ch->redact == NULL && (ch->redact = redact_new(0)) == NULL)
		return ERR_NOMEM;
	if (type == REC_DATA_IN)
		return redact_input(ch->redact, data, len, time_mono_ms(), emit, ch);
	return redact_output(ch->redact, data, len, time_mono_ms(), emit, ch);
}

int
recfilter_tick(struct chan *ch)
{
	if (ch->redact == NULL || ch->c->rec == NULL)
		return 0;
	return redact_tick(ch->redact, time_mono_ms(), emit, ch);
}

void
recfilter_close(struct chan *ch)
{
	struct redact *rd = ch->redact;
	int r = 0;

	if (rd == NULL)
		return;
	ch->redact = NULL; /* conn_rec_failed below closes channels, this one too */
	if (ch->c->rec != NULL)
		r = redact_flush(rd, emit, ch);
	redact_free(rd);
	if (r != 0)
		conn_rec_failed(ch->c, r);
}
