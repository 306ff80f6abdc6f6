/* The recording around the sessions row and the audit trail: records the
 * proxy writes itself (menu screens and keys), the target chosen after the
 * session began (menu), the seek index kept in the row, and crash recovery
 * of sessions whose process died (index and chain head rebuilt from the
 * file, row closed 'aborted', session.end audited with the chain head). */
#ifndef GH_PROXY_SESSREC_H
#define GH_PROXY_SESSREC_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/recorder.h"

struct conn;
struct store;

/* Append one record if the connection is recording; a failure goes through
 * conn_rec_failed (fail closed or open, as configured). */
void sessrec_write(struct conn *c, enum rec_type type, uint32_t chan, const void *data, size_t len);
/* The target became known after the session began (menu): a REC_MARK
 * {"target": {"asset", "login"}} on channel 0 and the row's asset/login. */
int sessrec_target(struct conn *c);
/* After rec_writer_close: keep the seek index in the row (rec_index). */
int sessrec_store_index(struct conn *c);

/* After the connection is over (both legs disconnected): build the
 * player's keyframe cache (PATH.ghkf) of a finished recording that had a
 * terminal channel, so that the first seek of a replay is as fast as any
 * other. Best effort: a failure only costs the player that build later. */
void sessrec_build_keyframes(const char *rec_path);

/* Close the 'active' rows whose process is gone (alive(pid) == 0): rebuild
 * each recording's index and chain head from the file (rec_reader_rebuild),
 * store rec_frames, rec_head and rec_index with end_reason 'aborted', and
 * audit session.end (result "aborted") with the chain head, frame count,
 * bytes and whether the file ends in a torn frame — row and event in one
 * transaction. datadir resolves relative recording paths. */
int sessrec_recover_stale(struct store *st, const char *datadir, int (*alive)(int pid), int *closed);

#endif
