/* The sessions and channels tables (schema migration 2). */
#ifndef GH_PROXY_SESSION_DB_H
#define GH_PROXY_SESSION_DB_H

#include <stdint.h>

struct store;

struct sessdb_start {
	const char *uuid;
	const char *user;
	const char *source_addr;
	int source_port;
	const char *asset;
	const char *login;
	int pid;
	const char *recording;
	int64_t start_ms; /* Unix milliseconds */
};

int sessdb_start(struct store *st, const struct sessdb_start *s, int64_t *row);
int sessdb_channel_open(struct store *st, int64_t row, uint32_t num, const char *type, const char *command);
int sessdb_channel_close(struct store *st, int64_t row, uint32_t num, int has_exit, int exit_status);
int sessdb_progress(struct store *st, int64_t row, const char *channel_types, uint64_t bytes_in, uint64_t bytes_out,
                    int64_t last_activity);
int sessdb_end(struct store *st, int64_t row, const char *reason, const char *ended_by, uint64_t bytes_in,
               uint64_t bytes_out, uint64_t rec_frames, const char *rec_head);
/* Close rows still 'active' whose process is gone (end_reason 'aborted').
 * alive(pid) returns 1 when the process exists. */
int sessdb_reap_stale(struct store *st, int (*alive)(int pid), int *closed);

#endif
