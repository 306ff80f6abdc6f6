/* The recording of a pty channel's data through the unechoed-input
 * filter (recorder/redact.h): what the operator types without echo after a
 * prompt for a secret is sealed to the recording-seal key (REC_INPUT_SEALED,
 * opened only by an auditor's `reveal`), other unechoed input is recorded
 * as typed, and with record_unechoed_input = yes everything is. The pump
 * calls these instead of rec_write; channels without a pty are recorded as
 * they are. */
#ifndef GH_PROXY_RECFILTER_H
#define GH_PROXY_RECFILTER_H

#include <stddef.h>

#include "recorder/recorder.h"

struct chan;

/* Record one chunk of channel data (REC_DATA_IN, _OUT or _ERR) that was
 * relayed. Returns 0 or the recorder's negative enum gh_err. */
int recfilter_data(struct chan *ch, enum rec_type type, const void *data, size_t len);
/* Decide input held too long without an answer (called every loop pass). */
int recfilter_tick(struct chan *ch);
/* The channel ends: record what is held, free the filter. */
void recfilter_close(struct chan *ch);

#endif
