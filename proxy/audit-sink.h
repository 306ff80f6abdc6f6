/* Real-time export of the audit events and commands a connection process
 * writes: the local syslog (audit_syslog) as RFC 5424 messages with
 * structured data, and a JSON-lines file (audit_jsonl), per gatehouse.conf.
 * The database rows stay the reference; an export failure is logged, never
 * fatal, and never waits (a stalled syslog daemon must not stall sessions).
 * docs/audit.md ("Real-time export") describes the formats. */
#ifndef GH_PROXY_AUDIT_SINK_H
#define GH_PROXY_AUDIT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

/* The SD-ID of Gatehouse's structured data element. 32473 is the private
 * enterprise number IANA reserves for examples (RFC 5612); a deployment
 * that needs its own can change this one constant. */
#define AUDIT_SINK_SD_ID "gatehouse@32473"

/* Register the sink (audit_set_sink) for this process. */
void audit_sink_install(const struct gh_config *cfg, const char *datadir);
/* Close the sink's descriptors and unregister it: the network child does
 * this before closing what it inherited (a stale descriptor number would
 * later write events into whatever file reuses it), and installs its own
 * after authentication. */
void audit_sink_forget(void);

/* One command row (proxy/cmdctl.c), exported like an audit event with
 * MSGID "command" and "record":"command" in the JSON line. */
struct audit_sink_command {
	const char *session; /* uuid */
	uint32_t channel;
	const char *user, *asset, *login;
	int64_t ts_ms;     /* Unix milliseconds */
	int64_t offset_ms; /* in the session */
	const char *kind;  /* command, fullscreen_enter, fullscreen_leave */
	const char *command;
	const char *source; /* exec, screen */
	int confident, truncated;
	const char *action; /* allowed, blocked, alerted */
	int64_t rule_id;    /* 0 = none */
	const char *reason; /* why the text is not certain, NULL = none */
};
void audit_sink_command(const struct audit_sink_command *cmd);

/* An audit.anchor message: the chain head (row id and hash) to syslog and
 * the JSON-lines file; reason "every" (id % audit_anchor_every == 0),
 * "minute", "start" or "stop". docs/audit.md ("Anchors"). */
void audit_sink_anchor(int64_t id, const char *hash, const char *reason);

/* Format one RFC 5424 message (exposed for the unit test): PRI, version 1,
 * ts (RFC 3339), host, app "gatehouse", pid, msgid, one SD element with the
 * n name/value pairs (values escaped, control bytes replaced), then msg.
 * Returns the length written (NUL-terminated), or -1 when buf is too small. */
int audit_sink_format_5424(char *buf, size_t len, int pri, const char *ts, const char *host, int pid, const char *msgid,
                           const char *const *names, const char *const *values, size_t n, const char *msg);

#endif
