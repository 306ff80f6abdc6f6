/* The audit trail: an append-only table whose rows form a SHA-256 hash chain.
 * Each row carries the previous row's hash; triggers refuse UPDATE and DELETE.
 * Appends serialise on BEGIN IMMEDIATE so concurrent processes keep one chain.
 *
 * Row hash = SHA-256 over the previous hash (hex) and the row's fields, each
 * length-prefixed (see docs/audit.md), so no field can bleed into another. */
#ifndef GH_AUDIT_H
#define GH_AUDIT_H

#include <stdint.h>
#include <stdio.h>

struct store;

enum audit_importance { AUDIT_INFO = 0, AUDIT_NOTICE = 1, AUDIT_HIGH = 2, AUDIT_CRITICAL = 3 };

struct audit_event {
	const char *actor;  /* user name, "system", or "-" */
	const char *source; /* "cli", "cli:root" or "ADDR:PORT" */
	const char *type;   /* dotted event type: "user.add", "auth.fail" ... */
	const char *object; /* what it acted on: "user:alice", "asset:web01" ... */
	const char *result; /* "ok", "fail", "denied", "blocked" ... */
	enum audit_importance importance;
	const char *detail; /* optional JSON object text, NULL for none; never a secret */
};

const char *audit_importance_name(enum audit_importance i);

/* Append one event (own transaction). Returns the new row id in *id if non-NULL.
 * A sink (syslog / JSON lines) may be registered later; see audit_set_sink. */
int audit_append(struct store *st, const struct audit_event *ev, int64_t *id);
/* Append inside a transaction the caller already holds (store_begin). */
int audit_append_in_tx(struct store *st, const struct audit_event *ev, int64_t *id);

/* Verify the whole chain. Returns 0 when intact; ERR_TAMPER with *bad_id the
 * first row that does not verify (and a reason in why). */
int audit_verify(struct store *st, int64_t *bad_id, int64_t *rows, char *why, size_t whylen);

/* Write events as JSON lines (since: Unix time, 0 = all; type NULL = all),
 * in plain ASCII (\uXXXX escapes for everything else and DEL): the lines
 * may be read in a terminal, and a recorded string must not act on it. */
int audit_export_jsonl(struct store *st, int64_t since, const char *type, FILE *out);

/* Called after every successful append (for real-time export). */
typedef void (*audit_sink_fn)(const struct audit_event *ev, int64_t id, const char *ts, void *arg);
void audit_set_sink(audit_sink_fn fn, void *arg);

/* ---- anchors (docs/audit.md "Anchors") ------------------------------------
 * The chain head (last row id and hash) copied outside the database, so a
 * consistent rewrite of the chain is caught against the copies. */

#define AUDIT_HASH_HEX 64

/* The current head: *id = 0 and hex = 64 zeros for an empty trail. */
int audit_head(struct store *st, int64_t *id, char hex[AUDIT_HASH_HEX + 1]);

/* During a sink callback: the hash of the row being delivered (NULL outside
 * a callback). Lets the sink anchor the head without a query. */
const char *audit_sink_hash(void);

/* Find an anchor in one exported line: a JSON object with "id" (integer)
 * and "hash" (64 hex digits), or text containing "id=N" and "hash=HEX"
 * (quoted values allowed, as in RFC 5424 structured data). Returns 1 with
 * *id and hex (lowercase) set, 0 when the line holds no anchor, ERR_INVALID
 * for a line that names an anchor ("audit.anchor") but is malformed. */
int audit_anchor_parse(const char *line, int64_t *id, char hex[AUDIT_HASH_HEX + 1]);

/* Check one anchor against the database: 0 when row id exists with that
 * hash (or is the retention base with that hash); AUDIT_ANCHOR_RETIRED when
 * retention removed the row (nothing to compare); ERR_TAMPER with a reason
 * otherwise (row missing, hash differs). */
#define AUDIT_ANCHOR_RETIRED 1
int audit_anchor_check(struct store *st, int64_t id, const char *hex, char *why, size_t whylen);

/* Retention (docs/audit.md "Retention"): inside the caller's transaction,
 * remove the oldest rows stamped before before_ts (ISO 8601, as stored),
 * never the head, and record the last removed row as the new base that
 * audit_verify starts from. *removed rows; *base_id the new base (0 when
 * nothing expired). The only path that deletes audit rows. */
int audit_retention_prefix(struct store *st, const char *before_ts, int64_t *removed, int64_t *base_id);

#endif
