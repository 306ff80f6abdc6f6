#include "proxy/anchor.h"

#include <stdint.h>
#include <stdio.h>

#include "admin/retention.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/store.h"
#include "common/timeutil.h"
#include "proxy/audit-sink.h"

#define ANCHOR_INTERVAL_MS 60000

static int64_t last_id = -1;  /* head id of the last timed anchor */
static int64_t last_check_ms; /* monotonic time of the last check */

/* Read the head (a short read transaction on a connection opened for it:
 * the listener keeps no database handle across fork) and anchor it when
 * forced or when it moved. */
static void
anchor_head(const char *datadir, const char *reason, int force)
{
	struct store *st = NULL;
	char path[4096], hex[AUDIT_HASH_HEX + 1];
	int64_t id = 0;

	snprintf(path, sizeof(path), "%s/gatehouse.db", datadir);
	if (store_open(path, 0, &st) != 0) {
		error("audit anchor: cannot open %s", path);
		return;
	}
	if (audit_head(st, &id, hex) != 0)
		error("audit anchor: cannot read the chain head");
	else if (id > 0 && (force || id != last_id)) {
		audit_sink_anchor(id, hex, reason);
		last_id = id;
	}
	store_close(st);
}

void
anchor_start(const struct gh_config *cfg, const char *datadir)
{
	audit_sink_install(cfg, datadir);
	anchor_head(datadir, "start", 1);
	last_check_ms = time_mono_ms();
}

void
anchor_tick(const char *datadir)
{
	int64_t now = time_mono_ms();

	if (now - last_check_ms < ANCHOR_INTERVAL_MS)
		return;
	last_check_ms = now;
	anchor_head(datadir, "minute", 0);
}

void
anchor_stop(const char *datadir)
{
	anchor_head(datadir, "stop", 1);
}

#define RETENTION_FIRST_MS    60000
#define RETENTION_INTERVAL_MS (24 * 3600 * 1000LL)

void
retention_tick(const struct gh_config *cfg, const char *datadir)
{
	static int64_t next_ms;
	struct retention_result res;
	struct store *st = NULL;
	char path[4096];
	int64_t now = time_mono_ms();
	int r;

	if (next_ms == 0)
		next_ms = now + RETENTION_FIRST_MS;
	if (now < next_ms)
		return;
	next_ms = now + RETENTION_INTERVAL_MS;
	snprintf(path, sizeof(path), "%s/gatehouse.db", datadir);
	if (store_open(path, 0, &st) != 0) {
		error("retention: cannot open %s", path);
		return;
	}
	/* Synchronous: once a day, and removing a few files and rows is short
	 * next to the login grace time of a waiting client. */
	if ((r = retention_run(st, datadir, cfg->retention_days, time_now(), 0, "system", "daemon", &res)) != 0)
		error("retention run failed, nothing removed: %s", gh_strerror(r));
	else if (res.sessions > 0 || res.audit_events > 0 || res.files_failed > 0)
		info("retention: removed %lld sessions, %lld audit events (%lld files could not be removed)",
		     (long long)res.sessions, (long long)res.audit_events, (long long)res.files_failed);
	store_close(st);
}
