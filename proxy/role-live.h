/* The role shell's streaming commands: play (replay a recording to the
 * channel with its timing, pauses capped), watch (follow a live session's
 * recording file as it grows, read-only) and verify (the recording's hash
 * chain against the sessions row). The player library (player/play.h)
 * finds the recording; recorder/rec-reader.h reads and follows it. */
#ifndef GH_PROXY_ROLE_LIVE_H
#define GH_PROXY_ROLE_LIVE_H

#include <stddef.h>

struct admin_ctx;
struct role_shell;
struct live_job;

/* Parse and start `what` (play, watch, verify). Returns an exit code; when
 * it streams, *job is set and the exit code comes from live_step. */
int live_start(struct admin_ctx *ctx, struct role_shell *sh, const char *what, int argc, char **argv,
               struct live_job **job);
/* Feed the keys typed meanwhile and produce output as the channel allows.
 * Returns 1 when the job is over (*status set), else 0. */
int live_step(struct live_job *j, struct role_shell *sh, const unsigned char *keys, size_t nkeys, int *status);
void live_free(struct live_job *j);

#endif
