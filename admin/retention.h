/* Retention: the ONE path that removes expired data (docs/audit.md
 * "Retention"). Run by `gatehouse-admin retention run` (local CLI only) and
 * once a day by the daemon. */
#ifndef GH_ADMIN_RETENTION_H
#define GH_ADMIN_RETENTION_H

#include <stdint.h>

struct store;

struct retention_result {
	int64_t cutoff; /* Unix time: data older than this expires */
	int64_t sessions, channels, commands, transfers;
	int64_t recordings;               /* recording files of those sessions */
	int64_t files_failed;             /* files that could not be removed */
	int64_t audit_events, audit_base; /* audit rows removed, the new base row */
};

/* In one transaction: remove closed sessions that ended before now - days
 * (with their channels, commands and transfers rows) and the audit rows
 * stamped before the cutoff (oldest prefix, base recorded), append the
 * retention.run event (actor, source) with the counts; after the commit,
 * delete the recording files and their captures. dry_run counts only (the
 * event is still written, result "dry-run"). 0 or a negative gh_err. */
int retention_run(struct store *st, const char *datadir, int days, int64_t now, int dry_run, const char *actor,
                  const char *source, struct retention_result *res);

#endif
