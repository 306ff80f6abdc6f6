/* Redaction of input typed without echo (passwords typed at sudo, passwd,
 * ssh prompts on the target) before it reaches the recording.
 *
 * The bastion cannot see the target's terminal modes, so it infers them:
 * what the operator types is held back (from the RECORDING only: the proxy
 * forwards it to the target at once) until the target shows whether it
 * echoes it. Input that the target's next output starts with is recorded
 * as REC_DATA_IN. A line ended (CR/LF) without that echo is decided by
 * what asked for it:
 *  - after a prompt for a secret ("Password:", "[sudo] password for x:",
 *    "passphrase", "Verification code:" ...), its text is emitted as
 *    REC_INPUT_SEALED carrying the plain bytes: the caller seals them to
 *    the recording-seal key before writing (common/seal.h), so they are out
 *    of the plain recording and yet not lost;
 *  - anywhere else it is recorded as typed (REC_DATA_IN): an operator who
 *    turns the echo off does not thereby hide what was typed (issue 15).
 * The line end itself is always kept. Held input is decided after at most
 * REDACT_HOLD_MS or REDACT_HOLD_MAX bytes. A pure module: no clock, no I/O,
 * no keys; the caller passes the time and a function that writes records.
 * docs/replay.md ("Redaction") has the rules and their limits.
 *
 * Wiring for one pty channel (exec and sftp channels are not filtered):
 *
 *   r = redact_new(cfg->record_unechoed_input);
 *   operator -> target:  forward, then redact_input(r, buf, n, now_ms, emit, ch)
 *   target -> operator:  redact_output(r, buf, n, now_ms, emit, ch)
 *   every tick:          redact_tick(r, now_ms, emit, ch)
 *   channel close/EOF:   redact_flush(r, emit, ch); redact_free(r)
 *
 * with emit(ch, type, data, len) calling rec_write(w, type, ch->num, ...)
 * and sealing REC_INPUT_SEALED's bytes first.
 */
#ifndef GH_REDACT_H
#define GH_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/recorder.h"

/* Longest time and size input is held before it is decided. */
#define REDACT_HOLD_MS  2000
#define REDACT_HOLD_MAX 1024

struct redact;

/* Writes one record; returns 0 or a negative gh_err (passed back). */
typedef int (*redact_emit_fn)(void *arg, enum rec_type type, const void *data, size_t len);

/* keep_unechoed: record everything as typed, secrets too (the config
 * switch record_unechoed_input = yes); the filter then passes input
 * through. */
struct redact *redact_new(int keep_unechoed);
void redact_free(struct redact *r);

/* Operator input (already forwarded to the target). */
int redact_input(struct redact *r, const void *buf, size_t len, int64_t now_ms, redact_emit_fn emit, void *arg);
/* Target output: decides held input first, then records the output. */
int redact_output(struct redact *r, const void *buf, size_t len, int64_t now_ms, redact_emit_fn emit, void *arg);
/* Decide input held for REDACT_HOLD_MS without an answer. */
int redact_tick(struct redact *r, int64_t now_ms, redact_emit_fn emit, void *arg);
/* End of the channel: decide whatever is held. */
int redact_flush(struct redact *r, redact_emit_fn emit, void *arg);
/* Milliseconds until redact_tick has something to do, -1 if nothing is
 * held (for a poll timeout). */
int64_t redact_due_ms(const struct redact *r, int64_t now_ms);

/* Does this output text end with a prompt for a secret? (Exposed for
 * tests.) The text is the tail of the output, escape sequences included. */
int redact_is_secret_prompt(const char *tail, size_t len);

#endif
