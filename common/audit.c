/* The audit trail: an append-only, hash-chained table. The construction is
 * documented byte for byte in docs/audit.md so an external tool can re-verify
 * an exported trail. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/store-internal.h"
#include "common/store.h"
#include "common/timeutil.h"

#define HASH_HEX_LEN 64
#define GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static audit_sink_fn sink_fn;
static void *sink_arg;
/* The hash of the row a sink callback is delivering (audit_sink_hash). */
static const char *sink_cur_hash;

static const char *const importance_names[] = {"info", "notice", "high", "critical"};

const char *
audit_importance_name(enum audit_importance i)
{
	if ((unsigned)i < sizeof(importance_names) / sizeof(importance_names[0]))
		return importance_names[i];
	return "unknown";
}

void
audit_set_sink(audit_sink_fn fn, void *arg)
{
	sink_fn = fn;
	sink_arg = arg;
}

/* The fields of one row as hashed; strings, never NULL. */
struct audit_row {
	int64_t id;
	const char *ts, *actor, *source, *type, *object, *result, *importance, *detail;
};

static int
digest_field(EVP_MD_CTX *md, const char *s)
{
	uint64_t len = strlen(s);
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(len >> (56 - 8 * i));
	return EVP_DigestUpdate(md, be, sizeof(be)) == 1 && EVP_DigestUpdate(md, s, len) == 1 ? 0 : ERR_CRYPTO;
}

/* hex = SHA-256(prev_hex || for each field: len (8 bytes BE) || bytes). */
static int
row_hash(const char *prev_hex, const struct audit_row *row, char hex[HASH_HEX_LEN + 1])
{
	EVP_MD_CTX *md = NULL;
	uint8_t out[32];
	unsigned outlen = 0;
	char idbuf[24];
	const char *fields[9];
	int r = ERR_CRYPTO;

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, row->id);
	fields[0] = idbuf;
	fields[1] = row->ts;
	fields[2] = row->actor;
	fields[3] = row->source;
	fields[4] = row->type;
	fields[5] = row->object;
	fields[6] = row->result;
	fields[7] = row->importance;
	fields[8] = row->detail != NULL ? row->detail : "";
	if ((md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, prev_hex, strlen(prev_hex)) != 1)
		goto out;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (digest_field(md, fields[i]) != 0)
			goto out;
	}
	if (EVP_DigestFinal_ex(md, out, &outlen) != 1 || outlen != sizeof(out))
		goto out;
	for (size_t i = 0; i < sizeof(out); i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	r = 0;
out:
	EVP_MD_CTX_free(md);
	return r;
}

/* Events appended inside a caller's transaction, waiting for its end. */
struct pending_event {
	struct audit_event ev; /* strings owned by this copy */
	int64_t id;
	char ts[40];
	char hash[HASH_HEX_LEN + 1];
};

static struct pending_event *pending;
static size_t n_pending;

static void
pending_clear(void)
{
	for (size_t i = 0; i < n_pending; i++) {
		free((char *)pending[i].ev.actor);
		free((char *)pending[i].ev.source);
		free((char *)pending[i].ev.type);
		free((char *)pending[i].ev.object);
		free((char *)pending[i].ev.result);
		free((char *)pending[i].ev.detail);
	}
	free(pending);
	pending = NULL;
	n_pending = 0;
}

static int
pending_push(const struct audit_event *ev, int64_t id, const char *ts, const char *hash)
{
	struct pending_event *np, *p;

	if ((np = realloc(pending, (n_pending + 1) * sizeof(*np))) == NULL)
		return ERR_NOMEM;
	pending = np;
	p = &pending[n_pending];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->ev.importance = ev->importance;
	snprintf(p->ts, sizeof(p->ts), "%s", ts);
	snprintf(p->hash, sizeof(p->hash), "%s", hash);
	p->ev.actor = strdup(ev->actor);
	p->ev.source = strdup(ev->source);
	p->ev.type = strdup(ev->type);
	p->ev.object = strdup(ev->object);
	p->ev.result = strdup(ev->result);
	p->ev.detail = ev->detail != NULL ? strdup(ev->detail) : NULL;
	n_pending++;
	if (p->ev.actor == NULL || p->ev.source == NULL || p->ev.type == NULL || p->ev.object == NULL ||
	    p->ev.result == NULL || (ev->detail != NULL && p->ev.detail == NULL))
		return ERR_NOMEM;
	return 0;
}

void
audit_pending_settle(int committed)
{
	if (committed && sink_fn != NULL) {
		for (size_t i = 0; i < n_pending; i++) {
			sink_cur_hash = pending[i].hash;
			sink_fn(&pending[i].ev, pending[i].id, pending[i].ts, sink_arg);
		}
		sink_cur_hash = NULL;
	}
	pending_clear();
}

static int
event_valid(const struct audit_event *ev)
{
	return ev != NULL && ev->actor != NULL && ev->source != NULL && ev->type != NULL && ev->object != NULL &&
	       ev->result != NULL && (unsigned)ev->importance <= AUDIT_CRITICAL;
}

/* Insert one row; the caller holds the write lock. ts receives the stamp. */
static int
append_locked(struct store *st, const struct audit_event *ev, int64_t *id, char *ts, size_t tslen,
              char hash[HASH_HEX_LEN + 1])
{
	sqlite3_stmt *stmt = NULL;
	struct audit_row row;
	char prev[HASH_HEX_LEN + 1] = GENESIS_HASH;
	int64_t last_id = 0;
	const unsigned char *h;
	int rc, r = ERR_INTERNAL;

	if ((r = store_prepare(st, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &stmt)) != 0)
		goto out;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		last_id = sqlite3_column_int64(stmt, 0);
		h = sqlite3_column_text(stmt, 1);
		if (h == NULL || strlen((const char *)h) != HASH_HEX_LEN) {
			r = ERR_TAMPER;
			goto out;
		}
		memcpy(prev, h, sizeof(prev));
	} else if (rc != SQLITE_DONE) {
		r = store_err(rc);
		goto out;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;

	time_now_iso_ms(ts, tslen);
	row.id = last_id + 1;
	row.ts = ts;
	row.actor = ev->actor;
	row.source = ev->source;
	row.type = ev->type;
	row.object = ev->object;
	row.result = ev->result;
	row.importance = audit_importance_name(ev->importance);
	row.detail = ev->detail;
	if ((r = row_hash(prev, &row, hash)) != 0)
		goto out;
	/* The explicit id makes a deleted row a visible gap instead of a
	 * silently reused rowid. */
	if ((r = store_prepare(st,
	                       "INSERT INTO audit (id, ts, actor, source, type, object, result, importance, detail,"
	                       " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, row.id);
	sqlite3_bind_text(stmt, 2, row.ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, row.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, row.source, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, row.type, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, row.object, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, row.result, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, row.importance, -1, SQLITE_STATIC);
	if (ev->detail != NULL)
		sqlite3_bind_text(stmt, 9, ev->detail, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 9);
	sqlite3_bind_text(stmt, 10, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 11, hash, -1, SQLITE_STATIC);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	*id = row.id;
	r = 0;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
audit_append_in_tx(struct store *st, const struct audit_event *ev, int64_t *id)
{
	char ts[40], hash[HASH_HEX_LEN + 1];
	int64_t new_id = 0;
	int r;

	if (!event_valid(ev))
		return ERR_INVALID;
	if (sqlite3_get_autocommit(store_db(st)))
		return ERR_INVALID; /* the caller promised a transaction */
	if ((r = append_locked(st, ev, &new_id, ts, sizeof(ts), hash)) != 0)
		return r;
	if (id != NULL)
		*id = new_id;
	/* The sink must not see an event the caller may still roll back:
	 * keep a copy until store_commit() or store_rollback() settles it. */
	if (sink_fn != NULL && (r = pending_push(ev, new_id, ts, hash)) != 0)
		return r;
	return 0;
}

int
audit_append(struct store *st, const struct audit_event *ev, int64_t *id)
{
	char ts[40], hash[HASH_HEX_LEN + 1];
	int64_t new_id = 0;
	int own = 0, r;

	if (!event_valid(ev))
		return ERR_INVALID;
	/* BEGIN IMMEDIATE takes the write lock before reading the last hash,
	 * so two processes cannot both extend the same row. */
	if ((r = store_tx_start(st, &own)) != 0)
		return r;
	if ((r = append_locked(st, ev, &new_id, ts, sizeof(ts), hash)) != 0) {
		store_tx_end(st, own, 0);
		return r;
	}
	if ((r = store_tx_end(st, own, 1)) != 0)
		return r;
	if (id != NULL)
		*id = new_id;
	if (sink_fn == NULL)
		return 0;
	/* Inside a caller's transaction the row is not committed yet: the
	 * sink hears of it when that transaction ends (store_commit). */
	if (!own)
		return pending_push(ev, new_id, ts, hash);
	sink_cur_hash = hash;
	sink_fn(ev, new_id, ts, sink_arg);
	sink_cur_hash = NULL;
	return 0;
}

static const char *
col_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	return s != NULL ? (const char *)s : "";
}

#define AUDIT_COLS "id, ts, actor, source, type, object, result, importance, detail, prev_hash, hash"

static void
row_from_stmt(sqlite3_stmt *stmt, struct audit_row *row)
{
	row->id = sqlite3_column_int64(stmt, 0);
	row->ts = col_text(stmt, 1);
	row->actor = col_text(stmt, 2);
	row->source = col_text(stmt, 3);
	row->type = col_text(stmt, 4);
	row->object = col_text(stmt, 5);
	row->result = col_text(stmt, 6);
	row->importance = col_text(stmt, 7);
	row->detail = col_text(stmt, 8);
}

/* The retention base: the last row removed by retention (id, hash), the
 * genesis of what remains. *id = 0 and the genesis hash when there is none
 * (or the table does not exist in an old database opened read-only). */
static int
read_base(struct store *st, int64_t *id, char hex[HASH_HEX_LEN + 1])
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *h;
	int rc, r = 0;

	*id = 0;
	memcpy(hex, GENESIS_HASH, sizeof(GENESIS_HASH));
	if (sqlite3_prepare_v2(store_db(st), "SELECT last_id, hash FROM audit_base WHERE id = 1", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return 0;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		h = sqlite3_column_text(stmt, 1);
		if (h == NULL || strlen((const char *)h) != HASH_HEX_LEN)
			r = ERR_TAMPER;
		else {
			*id = sqlite3_column_int64(stmt, 0);
			memcpy(hex, h, HASH_HEX_LEN + 1);
		}
	} else if (rc != SQLITE_DONE)
		r = store_err(rc);
	sqlite3_finalize(stmt);
	return r;
}

int
audit_verify(struct store *st, int64_t *bad_id, int64_t *rows, char *why, size_t whylen)
{
	sqlite3_stmt *stmt = NULL;
	struct audit_row row;
	char expect[HASH_HEX_LEN + 1] = GENESIS_HASH;
	char hash[HASH_HEX_LEN + 1];
	int64_t prev_id = 0, base_id = 0, count = 0;
	int own = 0, in_tx = 0, rc;
	int r = ERR_INTERNAL;

	if (bad_id != NULL)
		*bad_id = 0;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	/* One read transaction: the walk sees one consistent snapshot even
	 * while other processes append. */
	if (sqlite3_get_autocommit(store_db(st))) {
		if ((r = store_err(sqlite3_exec(store_db(st), "BEGIN", NULL, NULL, NULL))) != 0)
			goto out;
		own = in_tx = 1;
	}
	/* After retention the chain starts at the recorded base. */
	if ((r = read_base(st, &prev_id, expect)) != 0)
		goto out;
	base_id = prev_id;
	if ((r = store_prepare(st, "SELECT " AUDIT_COLS " FROM audit ORDER BY id", &stmt)) != 0)
		goto out;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *prev_hash = col_text(stmt, 9);
		const char *stored = col_text(stmt, 10);

		row_from_stmt(stmt, &row);
		if (row.id != prev_id + 1) {
			if (bad_id != NULL)
				*bad_id = prev_id + 1;
			if (why != NULL && prev_id == base_id)
				snprintf(why, whylen, "id gap before row %" PRId64 " (first rows deleted)", row.id);
			else if (why != NULL)
				snprintf(why, whylen, "id gap after row %" PRId64 " (row deleted)", prev_id);
			r = ERR_TAMPER;
			goto out;
		}
		if (strcmp(prev_hash, expect) != 0) {
			if (bad_id != NULL)
				*bad_id = row.id;
			if (why != NULL && prev_id == 0)
				snprintf(why, whylen, "row %" PRId64 ": previous hash is not the genesis value",
				         row.id);
			else if (why != NULL && prev_id == base_id)
				snprintf(why, whylen,
				         "row %" PRId64 ": previous hash is not the retention base (row %" PRId64 ")",
				         row.id, base_id);
			else if (why != NULL)
				snprintf(why, whylen,
				         "row %" PRId64 ": previous hash does not match row %" PRId64
				         " (row deleted or inserted before it)",
				         row.id, prev_id);
			r = ERR_TAMPER;
			goto out;
		}
		if ((r = row_hash(prev_hash, &row, hash)) != 0)
			goto out;
		if (strcmp(hash, stored) != 0) {
			if (bad_id != NULL)
				*bad_id = row.id;
			if (why != NULL)
				snprintf(why, whylen, "row %" PRId64 ": hash mismatch (row altered)", row.id);
			r = ERR_TAMPER;
			goto out;
		}
		memcpy(expect, stored, sizeof(expect));
		prev_id = row.id;
		count++;
	}
	if (rc != SQLITE_DONE) {
		r = store_err(rc);
		goto out;
	}
	r = 0;
out:
	if (rows != NULL)
		*rows = count;
	sqlite3_finalize(stmt);
	if (in_tx && own)
		sqlite3_exec(store_db(st), "COMMIT", NULL, NULL, NULL);
	return r;
}

static int
set_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(v)) == 0 ? 0 : ERR_NOMEM;
}

int
audit_export_jsonl(struct store *st, int64_t since, const char *type, FILE *out)
{
	sqlite3_stmt *stmt = NULL;
	json_t *o = NULL, *detail = NULL;
	struct audit_row row;
	char since_ts[40], base[32];
	char *line = NULL;
	int rc, r = ERR_INTERNAL;

	/* Stored stamps carry milliseconds; compare against ".000Z" so the
	 * text order equals the time order. */
	time_format_iso(since > 0 ? since : 0, base, sizeof(base));
	if (strlen(base) != 20) {
		r = ERR_INVALID;
		goto out;
	}
	base[19] = '\0';
	snprintf(since_ts, sizeof(since_ts), "%s.000Z", base);
	if ((r = store_prepare(st,
	                       "SELECT " AUDIT_COLS " FROM audit WHERE ts >= ?1 AND (?2 IS NULL OR type = ?2)"
	                       " ORDER BY id",
	                       &stmt)) != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, since_ts, -1, SQLITE_STATIC);
	if (type != NULL)
		sqlite3_bind_text(stmt, 2, type, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 2);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		row_from_stmt(stmt, &row);
		if ((o = json_object()) == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		if (json_object_set_new(o, "id", json_integer(row.id)) != 0 || set_str(o, "ts", row.ts) != 0 ||
		    set_str(o, "actor", row.actor) != 0 || set_str(o, "source", row.source) != 0 ||
		    set_str(o, "type", row.type) != 0 || set_str(o, "object", row.object) != 0 ||
		    set_str(o, "result", row.result) != 0 || set_str(o, "importance", row.importance) != 0) {
			r = ERR_NOMEM;
			goto out;
		}
		if (sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
			/* Detail is JSON text by contract; anything else is kept as a string. */
			detail = json_loads(row.detail, JSON_REJECT_DUPLICATES, NULL);
			if (detail == NULL)
				detail = json_string(row.detail);
			if (detail == NULL || json_object_set_new(o, "detail", detail) != 0) {
				detail = NULL;
				r = ERR_NOMEM;
				goto out;
			}
			detail = NULL;
		}
		if (set_str(o, "prev_hash", col_text(stmt, 9)) != 0 || set_str(o, "hash", col_text(stmt, 10)) != 0) {
			r = ERR_NOMEM;
			goto out;
		}
		if ((line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)) == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		for (const char *p = line; *p != '\0'; p++)
			if (*p == 0x7f ? fputs("\\u007f", out) < 0 : fputc(*p, out) == EOF) {
				r = ERR_IO;
				goto out;
			}
		if (fputc('\n', out) == EOF) {
			r = ERR_IO;
			goto out;
		}
		free(line);
		line = NULL;
		json_decref(o);
		o = NULL;
	}
	if (rc != SQLITE_DONE) {
		r = store_err(rc);
		goto out;
	}
	r = fflush(out) == 0 ? 0 : ERR_IO;
out:
	free(line);
	json_decref(detail);
	json_decref(o);
	sqlite3_finalize(stmt);
	return r;
}

/* ---- anchors ------------------------------------------------------------ */

const char *
audit_sink_hash(void)
{
	return sink_cur_hash;
}

int
audit_head(struct store *st, int64_t *id, char hex[AUDIT_HASH_HEX + 1])
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *h;
	int rc, r = ERR_INTERNAL;

	*id = 0;
	memcpy(hex, GENESIS_HASH, sizeof(GENESIS_HASH));
	if ((r = store_prepare(st, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &stmt)) != 0)
		goto out;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		h = sqlite3_column_text(stmt, 1);
		if (h == NULL || strlen((const char *)h) != HASH_HEX_LEN) {
			r = ERR_TAMPER;
			goto out;
		}
		*id = sqlite3_column_int64(stmt, 0);
		memcpy(hex, h, HASH_HEX_LEN + 1);
	} else if (rc != SQLITE_DONE) {
		r = store_err(rc);
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(stmt);
	return r;
}

/* 64 hex digits (either case) into lowercase hex; 0 or ERR_INVALID. */
static int
hash_norm(const char *s, size_t len, char hex[AUDIT_HASH_HEX + 1])
{
	if (len != AUDIT_HASH_HEX)
		return ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return ERR_INVALID;
		hex[i] = c;
	}
	hex[AUDIT_HASH_HEX] = '\0';
	return 0;
}

/* The value of "key=" in text, where key starts a word (line start, blank,
 * '[' or ','); an optional double quote around the value; val and len point into line. */
static int
text_field(const char *line, const char *key, const char **val, size_t *len)
{
	size_t kl = strlen(key);

	for (const char *p = strstr(line, key); p != NULL; p = strstr(p + 1, key)) {
		const char *v;

		if (p != line && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '[' && p[-1] != ',')
			continue;
		if (p[kl] != '=')
			continue;
		v = p + kl + 1;
		if (*v == '"') {
			const char *e = strchr(v + 1, '"');

			if (e == NULL)
				return ERR_INVALID;
			*val = v + 1;
			*len = (size_t)(e - v - 1);
		} else {
			*val = v;
			*len = strcspn(v, " \t,]\r\n");
		}
		return 1;
	}
	return 0;
}

static int
parse_id(const char *s, size_t len, int64_t *id)
{
	int64_t n = 0;

	if (len == 0 || len > 18)
		return ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_INVALID;
		n = n * 10 + (s[i] - '0');
	}
	if (n <= 0)
		return ERR_INVALID;
	*id = n;
	return 0;
}

#define ANCHOR_SD_START  "[gatehouse@32473 "
#define ANCHOR_JSON_HEAD "{\"type\":\"audit.anchor\""

/* Whether " audit.anchor " occurs in [from, to): the MSGID of a syslog
 * line, which only Gatehouse writes (operators' text comes after the SD). */
static int
msgid_is_anchor(const char *from, const char *to)
{
	const char *q = strstr(from, " audit.anchor "); /* the first occurrence */

	return q != NULL && q < to;
}

/* id= and hash= of text (NUL-terminated); named: the line claims to be an
 * anchor, so a missing or bad field is an error rather than "no anchor". */
static int
parse_text_anchor(const char *text, int named, int64_t *id, char hex[AUDIT_HASH_HEX + 1])
{
	const char *iv = NULL, *hv = NULL;
	size_t il = 0, hl = 0;
	int fi = text_field(text, "id", &iv, &il);
	int fh = text_field(text, "hash", &hv, &hl);

	if (fi < 0 || fh < 0)
		return ERR_INVALID;
	if (fh == 0)
		return named ? ERR_INVALID : 0;
	if (fi == 0 || parse_id(iv, il, id) != 0 || hash_norm(hv, hl, hex) != 0)
		return ERR_INVALID;
	return 1;
}

int
audit_anchor_parse(const char *line, int64_t *id, char hex[AUDIT_HASH_HEX + 1])
{
	const char *p = line, *sd, *e;
	char *part = NULL;
	int r = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '{') {
		/* JSON: an anchor has a top-level "hash" (audit.anchor lines and
		 * `audit export` rows). Operators' text only ever appears in
		 * values, so it cannot add such a key. */
		int named = strncmp(p, ANCHOR_JSON_HEAD, strlen(ANCHOR_JSON_HEAD)) == 0;
		json_t *j = json_loads(p, JSON_DECODE_ANY, NULL), *ji, *jh;

		if (j == NULL || !json_is_object(j)) {
			json_decref(j);
			return named ? ERR_INVALID : 0;
		}
		ji = json_object_get(j, "id");
		jh = json_object_get(j, "hash");
		if (jh == NULL) /* an ordinary event or command line */
			r = named ? ERR_INVALID : 0;
		else if (!json_is_integer(ji) || json_integer_value(ji) <= 0 || !json_is_string(jh) ||
		         hash_norm(json_string_value(jh), strlen(json_string_value(jh)), hex) != 0)
			r = ERR_INVALID;
		else {
			*id = (int64_t)json_integer_value(ji);
			r = 1;
		}
		json_decref(j);
		return r;
	}
	if ((sd = strstr(line, ANCHOR_SD_START)) != NULL) {
		/* A syslog line: an anchor only when its MSGID says so, and the
		 * fields are read from the structured data element alone (the
		 * message after it may carry anything an operator typed). */
		if (!msgid_is_anchor(line, sd))
			return 0;
		for (e = sd + 1; *e != '\0' && !(*e == ']' && e[-1] != '\\'); e++)
			;
		if ((part = strndup(sd + 1, (size_t)(e - sd - 1))) == NULL)
			return ERR_NOMEM;
		r = parse_text_anchor(part, 1, id, hex);
		free(part);
		return r;
	}
	/* Plain text ("id=N hash=HEX", hand-written or from another format). */
	return parse_text_anchor(line, strstr(line, "audit.anchor") != NULL, id, hex);
}

int
audit_anchor_check(struct store *st, int64_t id, const char *hex, char *why, size_t whylen)
{
	sqlite3_stmt *stmt = NULL;
	int rc, r = ERR_INTERNAL;

	char base[HASH_HEX_LEN + 1];
	int64_t base_id = 0;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = read_base(st, &base_id, base)) != 0)
		goto out;
	if (id < base_id) {
		r = AUDIT_ANCHOR_RETIRED; /* removed by retention: nothing left to compare */
		goto out;
	}
	if (id == base_id) {
		if (strcmp(base, hex) == 0) {
			r = 0;
		} else {
			if (why != NULL)
				snprintf(why, whylen,
				         "anchor id=%" PRId64 " hash=%.16s...: the retention base has hash %.16s... "
				         "(database rewritten)",
				         id, hex, base);
			r = ERR_TAMPER;
		}
		goto out;
	}
	if ((r = store_prepare(st, "SELECT hash FROM audit WHERE id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		if (why != NULL)
			snprintf(why, whylen, "anchor id=%" PRId64 ": row %" PRId64 " is missing (trail truncated)", id,
			         id);
		r = ERR_TAMPER;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_err(rc);
		goto out;
	}
	if (strcmp(col_text(stmt, 0), hex) != 0) {
		if (why != NULL)
			snprintf(why, whylen,
			         "anchor id=%" PRId64 " hash=%.16s...: row %" PRId64
			         " has hash %.16s... (database rewritten)",
			         id, hex, id, col_text(stmt, 0));
		r = ERR_TAMPER;
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(stmt);
	return r;
}

int
audit_retention_prefix(struct store *st, const char *before_ts, int64_t *removed, int64_t *base_id)
{
	sqlite3_stmt *stmt = NULL;
	char hash[HASH_HEX_LEN + 1];
	int64_t last = 0, head = 0;
	int rc, r = ERR_INTERNAL;

	*removed = 0;
	*base_id = 0;
	if (sqlite3_get_autocommit(store_db(st)))
		return ERR_INVALID; /* only inside the retention transaction */
	if ((r = audit_head(st, &head, hash)) != 0)
		goto out;
	/* The newest expired row, but never the head: the chain keeps at
	 * least one row to extend, and the retention.run event follows. */
	if ((r = store_prepare(st, "SELECT max(id) FROM audit WHERE ts < ?1 AND id < ?2", &stmt)) != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, before_ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, head);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		r = store_err(rc);
		goto out;
	}
	last = sqlite3_column_int64(stmt, 0); /* NULL (nothing expired) reads as 0 */
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (last <= 0) {
		r = 0;
		goto out;
	}
	if ((r = store_prepare(st, "SELECT hash FROM audit WHERE id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, last);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW || strlen(col_text(stmt, 0)) != HASH_HEX_LEN) {
		r = rc == SQLITE_ROW ? ERR_TAMPER : store_err(rc);
		goto out;
	}
	memcpy(hash, col_text(stmt, 0), sizeof(hash));
	sqlite3_finalize(stmt);
	stmt = NULL;
	if ((r = store_err(sqlite3_exec(store_db(st), "UPDATE retention_guard SET active = 1 WHERE id = 1", NULL, NULL,
	                                NULL))) != 0)
		goto out;
	if ((r = store_prepare(st, "INSERT OR REPLACE INTO audit_base (id, last_id, hash) VALUES (1, ?1, ?2)",
	                       &stmt)) != 0)
		goto guard;
	sqlite3_bind_int64(stmt, 1, last);
	sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC);
	if ((r = store_step_done(stmt)) != 0)
		goto guard;
	sqlite3_finalize(stmt);
	stmt = NULL;
	if ((r = store_prepare(st, "DELETE FROM audit WHERE id <= ?1", &stmt)) != 0)
		goto guard;
	sqlite3_bind_int64(stmt, 1, last);
	if ((r = store_step_done(stmt)) != 0)
		goto guard;
	*removed = sqlite3_changes(store_db(st));
	*base_id = last;
guard:
	/* The flag never outlives this function, success or not (a failure
	 * also rolls the whole transaction back). */
	if (store_err(sqlite3_exec(store_db(st), "UPDATE retention_guard SET active = 0 WHERE id = 1", NULL, NULL,
	                           NULL)) != 0 &&
	    r == 0)
		r = ERR_DB;
out:
	sqlite3_finalize(stmt);
	return r;
}
