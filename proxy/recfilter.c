/* See recfilter.h. The filter holds typed input back from the recording
 * (never from the target) until the target's output shows whether it was
 * echoed; the records therefore come out a little later than the bytes
 * were relayed, in the order the filter decides. Input typed without echo
 * after a prompt for a secret is sealed here to the recording-seal key
 * (common/seal.h) before it is written. */
#include "proxy/recfilter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/seal.h"
#include "common/store.h"
#include "common/timeutil.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "recorder/redact.h"

/* The seal public key, read once per connection. gatehoused makes one at
 * start-up, so its absence means someone removed it: the secret is then
 * recorded as its length only (as before schema 8), and that is audited. */
static int
seal_key(struct conn *c)
{
	struct seal_key_rec k;
	char object[64];
	int r;

	if (c->seal_state != 0)
		return c->seal_state > 0;
	if ((r = store_seal_current(c->st, &k)) != 0) {
		error("no recording-seal key (%s): input typed at a prompt for a secret is recorded as its length only",
		      gh_strerror(r));
		snprintf(object, sizeof(object), "session:%s", c->uuid);
		conn_audit(c, "system", "recording.seal", object, "fail", AUDIT_CRITICAL,
		           "{\"error\":\"no seal key\"}");
		c->seal_state = -1;
		return 0;
	}
	memcpy(c->seal_pub, k.public_key, sizeof(c->seal_pub));
	c->seal_state = 1;
	return 1;
}

/* One secret line: sealed, bound to its session, channel and record. */
static int
write_sealed(struct chan *ch, const void *data, size_t len)
{
	struct conn *c = ch->c;
	uint8_t aad[SEAL_REC_AAD_LEN], *blob = NULL, be[4];
	size_t bloblen = 0;
	int r;

	if (!seal_key(c)) {
		be[0] = (uint8_t)(len >> 24);
		be[1] = (uint8_t)(len >> 16);
		be[2] = (uint8_t)(len >> 8);
		be[3] = (uint8_t)len;
		return rec_write(c->rec, REC_INPUT_REDACTED, ch->num, be, 4);
	}
	if ((r = seal_rec_aad(c->uuid, ch->num, rec_writer_next_ordinal(c->rec), aad)) == 0 &&
	    (r = seal_encrypt(c->seal_pub, aad, sizeof(aad), data, len, &blob, &bloblen)) == 0)
		r = rec_write(c->rec, REC_INPUT_SEALED, ch->num, blob, bloblen);
	free(blob);
	return r;
}

static int
emit(void *arg, enum rec_type type, const void *data, size_t len)
{
	struct chan *ch = arg;

	if (ch->c->rec == NULL)
		return 0;
	if (type == REC_INPUT_SEALED)
		return write_sealed(ch, data, len);
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
