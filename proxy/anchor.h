/* Timed anchors of the audit chain head (docs/audit.md "Anchors"): the
 * listener sends the head to syslog / audit_jsonl at start, once a minute
 * when it moved, and at stop. Per-N-events anchors come from the sink of
 * whichever process appends (proxy/audit-sink.c). */
#ifndef GH_PROXY_ANCHOR_H
#define GH_PROXY_ANCHOR_H

#include "common/config.h"

/* Install the audit sink in the listener and anchor the head ("start"). */
void anchor_start(const struct gh_config *cfg, const char *datadir);
/* Called from the listener's loop (at least once a second): anchors the
 * head once a minute if it moved since the last anchor. */
void anchor_tick(const char *datadir);
/* The last anchor at shutdown ("stop"). */
void anchor_stop(const char *datadir);

/* The daily retention run (admin/retention.h), from the listener's loop: a
 * minute after start, then every 24 hours; audited as retention.run with
 * actor "system". */
void retention_tick(const struct gh_config *cfg, const char *datadir);

#endif
