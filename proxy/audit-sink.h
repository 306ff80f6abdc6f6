/* Real-time export of the audit events a connection process writes:
 * syslog (audit_syslog) and a JSON-lines file (audit_jsonl), per
 * gatehouse.conf. The database row stays the reference; an export failure
 * is logged, never fatal. */
#ifndef GH_PROXY_AUDIT_SINK_H
#define GH_PROXY_AUDIT_SINK_H

#include "common/config.h"

/* Register the sink (audit_set_sink) for this process. */
void audit_sink_install(const struct gh_config *cfg, const char *datadir);

#endif
