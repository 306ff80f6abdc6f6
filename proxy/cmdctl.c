/* Command audit trail and command control: see cmdctl.h. */
#include "proxy/cmdctl.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/store.h"
#include "common/timeutil.h"
#include "proxy/audit-sink.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/recfilter.h"
#include "recorder/cmdextract.h"
#include "recorder/recorder.h"

/* Rules of a live interactive channel are read again at an Enter when they
 * are older than this: a rule added during a long session applies to it
 * within seconds, at the cost of one small query per Enter at most this
 * often. */
#define CMDCTL_RELOAD_MS 5000

/* A bigger window than this is tracked as this (cmdx bounds memory too). */
#define CMDCTL_MAX_COLS 1000
#define CMDCTL_MAX_ROWS 500

struct cmd_rule {
	int64_t id;
	char *pattern;
	int block; /* 1 block, 0 alert */
	regex_t re;
};

struct cmdctl_chan {
	struct cmdx *cx;        /* NULL: no screen tracking (exec, no pty, tracking off) */
	struct cmd_rule *rules; /* in decision order */
	size_t nrules;
	int has_block;     /* some rule blocks: check pending lines at Enter */
	int64_t loaded_ms; /* monotonic time the rules were read */
	char *last_cmd;    /* the last command of the channel, named in full-screen rows */
};

struct cmd_row {
	int64_t t_us;
	const char *text;
	const char *source; /* "exec" or "screen" (any interactive terminal) */
	const char *kind;   /* "command", "fullscreen_enter", "fullscreen_leave" */
	int confident, truncated;
	const char *action; /* "allowed", "blocked", "alerted" */
	int64_t rule_id;    /* 0 = none */
	const char *reason; /* why the text is not certain (cmdx_reasons_text), NULL = none */
};

static int64_t
now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void
cmdctl_session_begin(struct conn *c)
{
	if (c->session_start_us == 0)
		c->session_start_us = now_us();
}

static void
rules_free(struct cmd_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		regfree(&rules[i].re);
		free(rules[i].pattern);
	}
	free(rules);
}

void
cmdctl_chan_free(struct cmdctl_chan *cc)
{
	if (cc == NULL)
		return;
	cmdx_free(cc->cx);
	rules_free(cc->rules, cc->nrules);
	free(cc->last_cmd);
	free(cc);
}

static int
id_in(int64_t id, const int64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* A NULL column means "everyone" / "everywhere". */
static int
scope_matches(sqlite3_stmt *s, int col, int64_t want)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL || sqlite3_column_int64(s, col) == want;
}

static int
scope_in(sqlite3_stmt *s, int col, const int64_t *ids, size_t n)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL || id_in(sqlite3_column_int64(s, col), ids, n);
}

/* The rules that apply to this user on this asset, in decision order. */
static int
load_rules(struct conn *c, struct cmdctl_chan *cc)
{
	sqlite3_stmt *s = NULL;
	int64_t *ugroups = NULL, *agroups = NULL;
	size_t nug = 0, nag = 0, cap = 0;
	struct cmd_rule *rules = NULL, *nr;
	size_t n = 0;
	int rc, r = ERR_INTERNAL;

	if ((r = store_user_group_ids(c->st, c->user->id, &ugroups, &nug)) != 0)
		goto out;
	if ((r = store_asset_group_ids(c->st, c->asset->id, &agroups, &nag)) != 0)
		goto out;
	rc = sqlite3_prepare_v2(store_db(c->st),
	                        "SELECT id, pattern, action, user_id, group_id, asset_id, asset_group_id"
	                        " FROM cmdrules ORDER BY priority, id",
	                        -1, &s, NULL);
	if (rc != SQLITE_OK) {
		r = store_err(rc);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *pat = (const char *)sqlite3_column_text(s, 1);
		const char *act = (const char *)sqlite3_column_text(s, 2);

		if (pat == NULL || act == NULL)
			continue;
		if (!scope_matches(s, 3, c->user->id) || !scope_in(s, 4, ugroups, nug) ||
		    !scope_matches(s, 5, c->asset->id) || !scope_in(s, 6, agroups, nag))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nr = realloc(rules, cap * sizeof(*rules))) == NULL) {
				r = ERR_NOMEM;
				goto out;
			}
			rules = nr;
		}
		memset(&rules[n], 0, sizeof(rules[n]));
		if (regcomp(&rules[n].re, pat, REG_EXTENDED | REG_NOSUB) != 0) {
			/* `cmdrule add` validates with the same flags: only a database
			 * edited by hand gets here. Refuse rather than ignore a rule
			 * that may have been meant to block. */
			error("command rule %lld does not compile: %s", (long long)sqlite3_column_int64(s, 0), pat);
			r = ERR_INVALID;
			goto out;
		}
		rules[n].id = sqlite3_column_int64(s, 0);
		rules[n].block = strcmp(act, "block") == 0;
		if ((rules[n].pattern = strdup(pat)) == NULL) {
			regfree(&rules[n].re);
			r = ERR_NOMEM;
			goto out;
		}
		if (rules[n].block)
			cc->has_block = 1;
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = store_err(rc);
		goto out;
	}
	cc->rules = rules;
	cc->nrules = n;
	rules = NULL;
	n = 0;
	r = 0;
out:
	sqlite3_finalize(s);
	rules_free(rules, n);
	free(ugroups);
	free(agroups);
	return r;
}

static const struct cmd_rule *
match(const struct cmdctl_chan *cc, const char *text)
{
	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < cc->nrules; i++)
		if (regexec(&cc->rules[i].re, text, 0, NULL, 0) == 0)
			return &cc->rules[i];
	return NULL;
}

/* A copy for JSON exports (jansson refuses invalid UTF-8, and an exec
 * command is arbitrary bytes): invalid sequences become '?'. The database
 * keeps the exact bytes. */
static char *
utf8_copy(const char *s)
{
	size_t n = strlen(s), i = 0, k, need;
	unsigned char *o = malloc(n + 1), lo, hi;

	if (o == NULL)
		return NULL;
	memcpy(o, s, n + 1);
	while (i < n) {
		unsigned char b = o[i];

		if (b < 0x80) {
			i++;
			continue;
		}
		/* RFC 3629: lead byte, then the allowed range of the second byte
		 * (no overlong forms, no surrogates, nothing above U+10FFFF). */
		lo = 0x80;
		hi = 0xbf;
		if (b >= 0xc2 && b <= 0xdf)
			need = 1;
		else if (b >= 0xe0 && b <= 0xef)
			need = 2;
		else if (b >= 0xf0 && b <= 0xf4)
			need = 3;
		else
			need = 0;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
		else if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
		for (k = 1; k <= need; k++) {
			unsigned char c = i + k < n ? o[i + k] : 0;

			if ((c & 0xc0) != 0x80 || (k == 1 && (c < lo || c > hi)))
				break;
		}
		if (need == 0 || k <= need) {
			o[i++] = '?';
			continue;
		}
		i += need + 1;
	}
	return (char *)o;
}

static void
store_row(struct chan *ch, const struct cmd_row *row)
{
	struct conn *c = ch->c;
	sqlite3_stmt *s = NULL;
	struct audit_sink_command ex;
	char *text = NULL;
	int rc;

	if (c->session_row == 0)
		return;
	rc = sqlite3_prepare_v2(
	        store_db(c->st),
	        "INSERT INTO commands (session_id, channel, user, asset, login, ts_ms, offset_ms, command,"
	        " source, confident, truncated, action, rule_id, kind, reason)"
	        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	        -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, c->session_row);
	sqlite3_bind_int64(s, 2, ch->num);
	sqlite3_bind_text(s, 3, c->user->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, c->asset->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, c->login, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, row->t_us / 1000);
	sqlite3_bind_int64(s, 7, row->t_us > c->session_start_us ? (row->t_us - c->session_start_us) / 1000 : 0);
	sqlite3_bind_text(s, 8, row->text != NULL ? row->text : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, row->source, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 10, row->confident);
	sqlite3_bind_int(s, 11, row->truncated);
	sqlite3_bind_text(s, 12, row->action, -1, SQLITE_STATIC);
	if (row->rule_id != 0)
		sqlite3_bind_int64(s, 13, row->rule_id);
	else
		sqlite3_bind_null(s, 13);
	sqlite3_bind_text(s, 14, row->kind, -1, SQLITE_STATIC);
	if (row->reason != NULL && row->reason[0] != '\0')
		sqlite3_bind_text(s, 15, row->reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 15);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
out:
	if (rc != SQLITE_OK)
		error("channel %u: cannot store a command row: %s", ch->num, sqlite3_errmsg(store_db(c->st)));
	sqlite3_finalize(s);
	/* Streamed at once to syslog / the JSON-lines file, as configured. */
	text = utf8_copy(row->text != NULL ? row->text : "");
	memset(&ex, 0, sizeof(ex));
	ex.session = c->uuid;
	ex.channel = ch->num;
	ex.user = c->user->name;
	ex.asset = c->asset->name;
	ex.login = c->login;
	ex.ts_ms = row->t_us / 1000;
	ex.offset_ms = row->t_us > c->session_start_us ? (row->t_us - c->session_start_us) / 1000 : 0;
	ex.kind = row->kind;
	ex.command = text != NULL ? text : "";
	ex.source = row->source;
	ex.confident = row->confident;
	ex.truncated = row->truncated;
	ex.action = row->action;
	ex.rule_id = row->rule_id;
	ex.reason = row->reason;
	audit_sink_command(&ex);
	free(text);
}

/* command.block / command.alert (importance high; critical for a block
 * rule that matched only after the command reached the target). */
static void
audit_rule(struct chan *ch, const char *type, const char *result, int importance, const struct cmd_rule *rule,
           const char *text, const char *source)
{
	struct conn *c = ch->c;
	char object[64];
	json_t *j;
	char *detail = NULL, *safe = utf8_copy(text != NULL ? text : "");

	j = json_pack("{s:I,s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "rule", (json_int_t)rule->id, "pattern", rule->pattern,
	              "action", rule->block ? "block" : "alert", "command", safe != NULL ? safe : "", "channel",
	              (json_int_t)ch->num, "source", source, "asset", c->asset->name, "login", c->login);
	if (j != NULL)
		detail = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	snprintf(object, sizeof(object), "session:%s", c->uuid);
	conn_audit(c, c->user->name, type, object, result, importance, detail);
	free(safe);
	free(detail);
}

/* The line shown to the operator; the pattern is the administrator's text,
 * control characters are replaced so it cannot drive the terminal. */
static void
blocked_message(const struct cmd_rule *rule, char *msg, size_t msglen)
{
	char pat[200];
	size_t i;

	snprintf(pat, sizeof(pat), "%s", rule->pattern);
	for (i = 0; pat[i] != '\0'; i++)
		if ((unsigned char)pat[i] < 0x20 || pat[i] == 0x7f)
			pat[i] = '?';
	snprintf(msg, msglen, "command blocked by rule %lld (%s)", (long long)rule->id, pat);
}

static struct cmdctl_chan *
chan_state(struct chan *ch, int *err)
{
	struct cmdctl_chan *cc = ch->cmd;

	*err = 0;
	if (cc != NULL)
		return cc;
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		*err = ERR_NOMEM;
		return NULL;
	}
	if ((*err = load_rules(ch->c, cc)) != 0) {
		cmdctl_chan_free(cc);
		return NULL;
	}
	cc->loaded_ms = time_mono_ms();
	ch->cmd = cc;
	return cc;
}

int
cmdctl_exec(struct chan *ch, char *msg, size_t msglen)
{
	struct cmd_row row = {.source = "exec", .kind = "command", .confident = 1, .action = "allowed"};
	const struct cmd_rule *rule;
	struct cmdctl_chan *cc;
	int err;

	if ((cc = chan_state(ch, &err)) == NULL) {
		/* Fail closed: without the rules a blocked command could run. */
		error("channel %u: cannot read the command rules: %s", ch->num, gh_strerror(err));
		snprintf(msg, msglen, "the command rules cannot be read; command refused");
		return 1;
	}
	row.t_us = now_us();
	row.text = ch->command != NULL ? ch->command : "";
	rule = match(cc, row.text);
	if (rule != NULL) {
		row.rule_id = rule->id;
		row.action = rule->block ? "blocked" : "alerted";
	}
	store_row(ch, &row);
	if (rule == NULL)
		return 0;
	if (!rule->block) {
		audit_rule(ch, "command.alert", "ok", AUDIT_HIGH, rule, row.text, "exec");
		return 0;
	}
	audit_rule(ch, "command.block", "blocked", AUDIT_HIGH, rule, row.text, "exec");
	blocked_message(rule, msg, msglen);
	info("channel %u: exec blocked by command rule %lld", ch->num, (long long)rule->id);
	return 1;
}

static int
clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void
cmdctl_shell_start(struct chan *ch)
{
	struct cmdctl_chan *cc;
	int err;

	/* An exec with a pty (`ssh -t host bash`) is as interactive as a shell:
	 * tracked too, or it would be a way around every rule. */
	if ((ch->kind != CK_SHELL && ch->kind != CK_EXEC) || !ch->has_pty || ch->c->cfg->command_tracking == 0)
		return;
	if ((cc = chan_state(ch, &err)) == NULL) {
		error("channel %u: cannot read the command rules: %s", ch->num, gh_strerror(err));
		chan_refuse(ch, "the command rules cannot be read; access refused", 1);
		return;
	}
	cc->cx = cmdx_new(clamp(ch->cols > 0 ? ch->cols : 80, 2, CMDCTL_MAX_COLS),
	                  clamp(ch->rows > 0 ? ch->rows : 24, 2, CMDCTL_MAX_ROWS));
	if (cc->cx == NULL) {
		chan_refuse(ch, "out of memory", 1);
		return;
	}
}

void
cmdctl_resize(struct chan *ch)
{
	struct cmdctl_chan *cc = ch->cmd;

	if (cc != NULL && cc->cx != NULL)
		cmdx_resize(cc->cx, clamp(ch->cols, 2, CMDCTL_MAX_COLS), clamp(ch->rows, 2, CMDCTL_MAX_ROWS));
}

/* The rule a tag names (cmdx_tag_line), NULL when it is gone. */
static const struct cmd_rule *
rule_by_id(const struct cmdctl_chan *cc, int64_t id)
{
	for (size_t i = 0; i < cc->nrules; i++)
		if (cc->rules[i].id == id)
			return &cc->rules[i];
	return NULL;
}

/* A secret line's stand-in text: its length, never its bytes. */
static void
secret_text(size_t len, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "[secret input: %zu bytes, sealed in the recording]", len);
}

/* Store every event the extractor has ready. */
static void
drain_events(struct chan *ch)
{
	struct cmdctl_chan *cc = ch->cmd;
	struct cmdx_event ev;

	while (cmdx_next(cc->cx, &ev) == 0) {
		struct cmd_row row = {.t_us = ev.t_us, .source = "screen", .action = "allowed"};
		const struct cmd_rule *rule = NULL;
		char reason[CMDX_REASONS_MAX], stand_in[96];

		cmdx_reasons_text(ev.reasons, reason, sizeof(reason));
		row.reason = reason;
		if (ev.type == CMDX_EV_COMMAND) {
			row.kind = "command";
			row.text = ev.text;
			row.confident =
			        (ev.flags & CMDX_F_TYPED_AGREES) && !(ev.flags & CMDX_F_FROM_KEYS) && ev.reasons == 0;
			row.truncated = (ev.flags & CMDX_F_TRUNCATED) != 0;
			if ((rule = match(cc, ev.text)) != NULL) {
				row.rule_id = rule->id;
				row.action = "alerted";
			}
			/* the full-screen markers name the program, not a line typed in it */
			if (!(ev.reasons & CMDX_R_ALT_SCREEN)) {
				free(cc->last_cmd);
				cc->last_cmd = ev.text != NULL ? strdup(ev.text) : NULL;
			}
		} else if (ev.type == CMDX_EV_SECRET_LINE) {
			/* Typed without echo after a prompt for a secret: the text is
			 * sealed in the recording (gatehouse-admin reveal), here only
			 * its length. It was judged at its Enter like any line; an
			 * alert rule it matched then came back as the tag. */
			secret_text(ev.len, stand_in, sizeof(stand_in));
			row.kind = "command";
			row.text = stand_in;
			row.confident = 0;
			if (ev.tag != 0 && (rule = rule_by_id(cc, ev.tag)) != NULL) {
				row.rule_id = rule->id;
				row.action = "alerted";
			}
		} else {
			/* Full-screen programs: a marker row naming the command that
			 * most likely started the program (the last one accepted). */
			row.kind = ev.type == CMDX_EV_FULLSCREEN_ENTER ? "fullscreen_enter" : "fullscreen_leave";
			row.text = cc->last_cmd != NULL ? cc->last_cmd : "";
			row.confident = 0;
			row.reason = NULL;
		}
		store_row(ch, &row);
		if (rule != NULL && !rule->block)
			audit_rule(ch, "command.alert", "ok", AUDIT_HIGH, rule, row.text, "screen");
		else if (rule != NULL)
			/* A block rule matches a line that reached the shell: the
			 * check at Enter saw another text (type-ahead the screen had
			 * not shown yet, ...). Say so loudly. */
			audit_rule(ch, "command.alert", "block-missed", AUDIT_CRITICAL, rule, row.text, "screen");
		cmdx_event_clear(&ev);
	}
}

/* Show the operator why, on the terminal (best effort, window permitting);
 * the extractor sees the same text so its screen stays the operator's. */
static void
tell_operator(struct chan *ch, const char *message)
{
	char line[320];
	int n;

	n = snprintf(line, sizeof(line), "\r\ngatehouse: %s\r\n", message);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	cmdx_output(ch->cmd->cx, (const uint8_t *)line, (size_t)n, now_us());
	/* Through the redaction filter like all pty output, so the recording
	 * keeps the order the operator saw. */
	if (ch->c->rec != NULL) {
		int r = recfilter_data(ch, REC_DATA_OUT, line, (size_t)n);

		if (r != 0)
			conn_rec_failed(ch->c, r);
	}
	if (ch->down == NULL || ch->down_dead || ch->down_eof_sent || ch->down_close_rcvd)
		return;
	if (ssh_channel_window_size(ch->down) < (uint32_t)n)
		return;
	if (ssh_channel_write(ch->down, line, (uint32_t)n) != n)
		ch->down_dead = 1;
}

/* What a judge of one pending line collects over the texts the extractor
 * offers (cmdx_judge). */
struct verdict {
	const struct cmdctl_chan *cc;
	const struct cmd_rule *block; /* the block rule that decided, NULL = none */
	const struct cmd_rule *alert; /* the first alert rule any text matched */
	char *text;                   /* the text the block rule matched */
	enum cmdx_witness witness;    /* where that text came from */
};

static int
judge_text(void *arg, const char *text, size_t len, enum cmdx_witness w)
{
	struct verdict *v = arg;
	const struct cmd_rule *rule;

	/* per text, the first matching rule in decision order decides */
	if ((rule = match(v->cc, text)) == NULL)
		return 0;
	if (!rule->block) {
		if (v->alert == NULL)
			v->alert = rule;
		return 0;
	}
	v->block = rule;
	v->witness = w;
	v->text = strndup(text, len);
	return 1;
}

static void
verdict_clear(struct verdict *v)
{
	/* the texts may be a secret typed at a prompt */
	if (v->text != NULL)
		explicit_bzero(v->text, strlen(v->text));
	free(v->text);
	memset(v, 0, sizeof(*v));
}

/* Where the text a block rule matched came from, for the row. */
static const char *
witness_reason(enum cmdx_witness w, int confident)
{
	switch (w) {
	case CMDX_W_SCREEN: return confident ? NULL : "matched on the line as shown (the keys give another text)";
	case CMDX_W_EDITOR: return "matched on the typed keys (readline's reading)";
	case CMDX_W_TTY: return "matched on the typed keys (the terminal's line discipline)";
	case CMDX_W_GUESS: break;
	}
	return "matched on another reading of the typed keys (other erase or kill characters, a line that may not "
	       "have ended)";
}

/* Read the rules again when they are old; on failure keep the ones we have. */
static void
maybe_reload(struct chan *ch, struct cmdctl_chan *cc)
{
	struct cmdctl_chan fresh;
	int64_t now = time_mono_ms();
	int r;

	if (now - cc->loaded_ms < CMDCTL_RELOAD_MS)
		return;
	cc->loaded_ms = now;
	memset(&fresh, 0, sizeof(fresh));
	if ((r = load_rules(ch->c, &fresh)) != 0) {
		error("channel %u: cannot read the command rules again (%s); the previous ones stay", ch->num,
		      gh_strerror(r));
		return;
	}
	rules_free(cc->rules, cc->nrules);
	cc->rules = fresh.rules;
	cc->nrules = fresh.nrules;
	cc->has_block = fresh.has_block;
}

/* The line the byte at buf[pos] may submit is blocked: the operator is told
 * why, the target gets the cancel key instead (the line is dropped there),
 * nothing after it goes out, and the block is logged and audited. Returns
 * the new length of buf. */
static size_t
block_line(struct chan *ch, char *buf, size_t pos, int64_t t, struct verdict *v, int secret, size_t typed_len)
{
	struct cmdctl_chan *cc = ch->cmd;
	char msg[300], stand_in[96], reason[CMDX_REASONS_MAX + 160];
	const char *wr;
	struct cmd_row row = {.t_us = t,
	                      .text = v->text,
	                      .source = "screen",
	                      .kind = "command",
	                      .action = "blocked",
	                      .rule_id = v->block->id};

	/* Confident: matched on the screen, and the keys alone give the same
	 * text (they were offered after the screen, so ask). */
	if (!secret && v->witness == CMDX_W_SCREEN) {
		char *typed = NULL;
		row.confident = cmdx_pending_typed(cc->cx, &typed) == 0 && typed != NULL && v->text != NULL &&
		                strcmp(typed, v->text) == 0;
		free(typed);
	}
	wr = witness_reason(v->witness, row.confident);
	if (secret) {
		/* the text of a secret is never stored, audited or shown */
		secret_text(typed_len, stand_in, sizeof(stand_in));
		row.text = stand_in;
	}
	snprintf(reason, sizeof(reason), "%s%s%s", secret ? "typed without echo after a prompt for a secret" : "",
	         secret && wr != NULL ? "; " : "", wr != NULL ? wr : "");
	row.reason = reason;
	blocked_message(v->block, msg, sizeof(msg));
	tell_operator(ch, msg);
	/* Ctrl-C makes the shell abandon the half-typed line and print a
	 * fresh prompt, even when the line wrapped (a redraw after Ctrl-U
	 * would move up over our message); the interrupt character stty set,
	 * if it was changed. */
	buf[pos] = (char)cmdx_cancel_key(cc->cx);
	cmdx_input(cc->cx, (const uint8_t *)buf + pos, 1, t);
	/* The kill character (stty -isig seen) clears the line without ending
	 * it: the target holds nothing of it any more, neither must the model,
	 * or its keys would be read into every later line. */
	if (cmdx_pending_len(cc->cx) > 0)
		cmdx_cancel_line(cc->cx);
	store_row(ch, &row);
	audit_rule(ch, "command.block", "blocked", AUDIT_HIGH, v->block, row.text, "screen");
	info("channel %u: command blocked by rule %lld", ch->num, (long long)v->block->id);
	if (ch->c->rec != NULL)
		rec_write(ch->c->rec, REC_MARK, ch->num, msg, strlen(msg));
	return pos + 1;
}

size_t
cmdctl_input(struct chan *ch, char *buf, size_t len)
{
	struct cmdctl_chan *cc = ch->cmd;
	int64_t t;
	size_t pos = 0, off;

	if (cc == NULL || cc->cx == NULL)
		return len;
	t = now_us();
	while (pos < len) {
		struct verdict v = {.cc = cc};
		int secret;

		off = cmdx_input_enter_offset(cc->cx, (const uint8_t *)buf + pos, len - pos);
		cmdx_input(cc->cx, (const uint8_t *)buf + pos, off, t);
		pos += off;
		if (pos >= len)
			break;
		maybe_reload(ch, cc);
		/* buf[pos] may submit a line: every text it may be is judged,
		 * whatever the terminal shows (docs/command-control.md, "What it
		 * promises"). A secret line is judged too, but never stored. */
		secret = cc->nrules > 0 && cmdx_pending_secret(cc->cx);
		if (cc->nrules > 0 && (cc->has_block || secret))
			cmdx_judge(cc->cx, judge_text, &v);
		if (v.block != NULL) {
			len = block_line(ch, buf, pos, t, &v, secret, cmdx_pending_len(cc->cx));
			verdict_clear(&v);
			break;
		}
		if (secret && v.alert != NULL)
			cmdx_tag_line(cc->cx, v.alert->id);
		verdict_clear(&v);
		cmdx_input(cc->cx, (const uint8_t *)buf + pos, 1, t);
		pos++;
	}
	drain_events(ch);
	return len;
}

void
cmdctl_tick(struct chan *ch)
{
	struct cmdctl_chan *cc = ch->cmd;

	if (cc == NULL || cc->cx == NULL)
		return;
	cmdx_tick(cc->cx, now_us());
	drain_events(ch);
}

void
cmdctl_close(struct chan *ch)
{
	struct cmdctl_chan *cc = ch->cmd;

	if (cc == NULL || cc->cx == NULL)
		return;
	cmdx_finish(cc->cx);
	drain_events(ch);
}

void
cmdctl_output(struct chan *ch, const char *buf, size_t len)
{
	struct cmdctl_chan *cc = ch->cmd;

	if (cc == NULL || cc->cx == NULL)
		return;
	cmdx_output(cc->cx, (const uint8_t *)buf, len, now_us());
	drain_events(ch);
}
