#include "proxy/audit-sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/audit.h"
#include "common/log.h"

#define SYSLOG_PATH "/dev/log"
/* rsyslog accepts 8 KiB by default, journald more; longer messages are cut
 * by the daemon, the JSON-lines copy and the database keep everything. */
#define SYSLOG_MAX (64 * 1024)

static struct {
	int to_syslog;
	int log_fd;   /* datagram socket to the local syslog, -1 = not connected */
	int jsonl_fd; /* -1 = off */
	char host[256];
	unsigned dropped; /* messages the syslog socket did not take */
	int told_absent;  /* "no local syslog" said once */
	int anchor_every; /* audit_anchor_every */
	int installed;    /* the listener installs it; its children inherit */
} sink = {0, -1, -1, "-", 0, 0, 0, 0};

static int
syslog_priority(enum audit_importance i)
{
	switch (i) {
	case AUDIT_CRITICAL: return LOG_CRIT;
	case AUDIT_HIGH: return LOG_WARNING;
	case AUDIT_NOTICE: return LOG_NOTICE;
	default: return LOG_INFO;
	}
}

/* Append s to buf at *pos as an RFC 5424 PARAM-VALUE: '"', '\' and ']'
 * are escaped with a backslash (section 6.3.3); control bytes, which would
 * split or garble a log line, become '?'. The exact text is in the JSON
 * message that follows. Returns -1 when buf is full. */
static int
put_sd_value(char *buf, size_t len, size_t *pos, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (*pos + 3 >= len)
			return -1;
		if (ch == '"' || ch == '\\' || ch == ']')
			buf[(*pos)++] = '\\';
		buf[(*pos)++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	return 0;
}

/* PRINTUSASCII only, at most max characters, "-" when empty (RFC 5424 6.2). */
static void
header_field(char *out, size_t outlen, const char *s, size_t max)
{
	size_t i = 0;

	for (; s != NULL && *s != '\0' && i < max && i + 1 < outlen; s++)
		out[i++] = (*s > 32 && *s < 127) ? *s : '_';
	if (i == 0 && outlen > 1)
		out[i++] = '-';
	out[i] = '\0';
}

int
audit_sink_format_5424(char *buf, size_t len, int pri, const char *ts, const char *host, int pid, const char *msgid,
                       const char *const *names, const char *const *values, size_t n, const char *msg)
{
	char h[256], id[33], tsf[64];
	size_t pos;
	int w;

	header_field(h, sizeof(h), host, 255);
	header_field(id, sizeof(id), msgid, 32);
	header_field(tsf, sizeof(tsf), ts, 40);
	w = snprintf(buf, len, "<%d>1 %s %s gatehouse %d %s [" AUDIT_SINK_SD_ID, pri, tsf, h, pid, id);
	if (w < 0 || (size_t)w >= len)
		return -1;
	pos = (size_t)w;
	for (size_t i = 0; i < n; i++) {
		if (values[i] == NULL)
			continue;
		w = snprintf(buf + pos, len - pos, " %s=\"", names[i]);
		if (w < 0 || (size_t)w >= len - pos)
			return -1;
		pos += (size_t)w;
		if (put_sd_value(buf, len, &pos, values[i]) != 0 || pos + 2 >= len)
			return -1;
		buf[pos++] = '"';
	}
	w = snprintf(buf + pos, len - pos, "]%s%s", msg != NULL ? " " : "", msg != NULL ? msg : "");
	if (w < 0 || (size_t)w >= len - pos)
		return -1;
	return (int)(pos + (size_t)w);
}

static void
syslog_connect(void)
{
	struct sockaddr_un sa;

	if (sink.log_fd >= 0)
		close(sink.log_fd);
	sink.log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sink.log_fd < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", SYSLOG_PATH);
	if (connect(sink.log_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(sink.log_fd);
		sink.log_fd = -1;
	}
}

/* Never blocks: a full socket buffer drops the message (counted, logged
 * once per 100); a restarted syslog daemon gets one reconnect. */
static void
syslog_send(const char *m, size_t n)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (sink.log_fd < 0)
			syslog_connect();
		if (sink.log_fd < 0) {
			/* No syslog daemon (a container, a test): said once, quietly;
			 * the database and the JSON-lines copy hold every event. */
			if (!sink.told_absent)
				verbose("no local syslog at " SYSLOG_PATH ": audit events are not sent to syslog");
			sink.told_absent = 1;
			return;
		}
		if (send(sink.log_fd, m, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n)
			return;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			break;
		close(sink.log_fd); /* ECONNREFUSED / ENOTCONN: the daemon restarted */
		sink.log_fd = -1;
	}
	if (sink.dropped++ % 100 == 0)
		error_f("the local syslog did not take an audit message (%u so far)", sink.dropped);
}

static void
export_line(int pri, const char *ts, const char *msgid, const char *const *names, const char *const *values, size_t n,
            char *line)
{
	size_t len;

	if (sink.to_syslog) {
		char *m = malloc(SYSLOG_MAX);
		int w;

		if (m != NULL) {
			w = audit_sink_format_5424(m, SYSLOG_MAX, pri, ts, sink.host, (int)getpid(), msgid, names,
			                           values, n, line);
			if (w < 0) /* too long: the structured data alone */
				w = audit_sink_format_5424(m, SYSLOG_MAX, pri, ts, sink.host, (int)getpid(), msgid,
				                           names, values, n, NULL);
			if (w > 0)
				syslog_send(m, (size_t)w);
			free(m);
		}
	}
	if (sink.jsonl_fd >= 0) {
		len = strlen(line);
		line[len] = '\n'; /* replaces the NUL: one write() per event keeps lines whole */
		if (write(sink.jsonl_fd, line, len + 1) != (ssize_t)(len + 1))
			error_f("cannot append to the audit JSON-lines file");
		line[len] = '\0';
	}
}

/* One JSON object per event; the detail is embedded as JSON when it is. */
static void
export_event(const struct audit_event *ev, int64_t id, const char *ts, void *arg)
{
	json_t *j = json_object(), *detail = NULL;
	char *line = NULL, idbuf[24];
	const char *imp = audit_importance_name(ev->importance);

	(void)arg;
	if (j == NULL)
		return;
	json_object_set_new(j, "id", json_integer(id));
	json_object_set_new(j, "ts", json_string(ts != NULL ? ts : ""));
	json_object_set_new(j, "actor", json_string(ev->actor != NULL ? ev->actor : "-"));
	json_object_set_new(j, "source", json_string(ev->source != NULL ? ev->source : "-"));
	json_object_set_new(j, "type", json_string(ev->type != NULL ? ev->type : "-"));
	json_object_set_new(j, "object", json_string(ev->object != NULL ? ev->object : "-"));
	json_object_set_new(j, "result", json_string(ev->result != NULL ? ev->result : "-"));
	json_object_set_new(j, "importance", json_string(imp));
	if (ev->detail != NULL) {
		detail = json_loads(ev->detail, 0, NULL);
		json_object_set_new(j, "detail", detail != NULL ? detail : json_string(ev->detail));
	}
	/* ENSURE_ASCII: nothing a user typed can carry control bytes or
	 * terminal escapes into a log line. */
	line = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (line == NULL)
		return;
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	{
		const char *names[] = {"id", "actor", "source", "type", "object", "result", "importance"};
		const char *values[] = {idbuf, ev->actor, ev->source, ev->type, ev->object, ev->result, imp};

		/* MSGID: the event type, so a collector can route on it. */
		export_line(LOG_AUTHPRIV | syslog_priority(ev->importance), ts, ev->type, names, values,
		            sizeof(names) / sizeof(names[0]), line);
	}
	free(line);
	/* Whichever process appends the Nth event anchors it: no coordination
	 * needed, the row id is global. */
	if (sink.anchor_every > 0 && id % sink.anchor_every == 0 && audit_sink_hash() != NULL)
		audit_sink_anchor(id, audit_sink_hash(), "every");
}

void
audit_sink_anchor(int64_t id, const char *hash, const char *reason)
{
	char ts[48], idbuf[24], *line = NULL;
	struct timespec now;
	struct tm tm;
	json_t *j;

	if (!sink.to_syslog && sink.jsonl_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (gmtime_r(&now.tv_sec, &tm) == NULL)
		return;
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now.tv_nsec / 1000000));
	j = json_pack("{s:s,s:s,s:I,s:s,s:s}", "type", "audit.anchor", "ts", ts, "id", (json_int_t)id, "hash", hash,
	              "reason", reason);
	if (j == NULL)
		return;
	line = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (line == NULL)
		return;
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	{
		const char *names[] = {"id", "hash", "reason"};
		const char *values[] = {idbuf, hash, reason};

		export_line(LOG_AUTHPRIV | LOG_NOTICE, ts, "audit.anchor", names, values,
		            sizeof(names) / sizeof(names[0]), line);
	}
	free(line);
}

void
audit_sink_command(const struct audit_sink_command *c)
{
	char ts[48], chan[16], rule[24], off[32], *line = NULL;
	struct tm tm;
	time_t t;
	json_t *j;
	int blocked;

	if (!sink.to_syslog && sink.jsonl_fd < 0)
		return;
	t = (time_t)(c->ts_ms / 1000);
	if (gmtime_r(&t, &tm) == NULL)
		return;
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(c->ts_ms % 1000));
	snprintf(chan, sizeof(chan), "%u", c->channel);
	snprintf(rule, sizeof(rule), "%lld", (long long)c->rule_id);
	snprintf(off, sizeof(off), "%.3f", (double)c->offset_ms / 1000.0);
	j = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:f,s:s,s:s,s:s,s:b,s:b,s:s,s:o}", "record", "command", "ts",
	              ts, "session", c->session, "channel", (json_int_t)c->channel, "user", c->user, "asset", c->asset,
	              "login", c->login, "kind", c->kind, "offset", (double)c->offset_ms / 1000.0, "command",
	              c->command != NULL ? c->command : "", "source", c->source, "action", c->action, "confident",
	              c->confident, "truncated", c->truncated, "type", "command", "rule",
	              c->rule_id != 0 ? json_integer(c->rule_id) : json_null());
	if (j == NULL)
		return;
	if (c->reason != NULL && c->reason[0] != '\0')
		json_object_set_new(j, "reason", json_string(c->reason));
	line = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (line == NULL)
		return;
	blocked = strcmp(c->action, "allowed") != 0;
	{
		const char *names[] = {"session", "channel", "user",   "asset", "login",
		                       "kind",    "source",  "action", "rule",  "offset"};
		const char *values[] = {c->session, chan,      c->user,
		                        c->asset,   c->login,  c->kind,
		                        c->source,  c->action, c->rule_id != 0 ? rule : NULL,
		                        off};

		export_line(LOG_AUTHPRIV | (blocked ? LOG_WARNING : LOG_INFO), ts, "command", names, values,
		            sizeof(names) / sizeof(names[0]), line);
	}
	free(line);
}

void
audit_sink_forget(void)
{
	audit_set_sink(NULL, NULL);
	if (sink.log_fd >= 0)
		close(sink.log_fd);
	if (sink.jsonl_fd >= 0)
		close(sink.jsonl_fd);
	sink.log_fd = -1;
	sink.jsonl_fd = -1;
	sink.installed = 0;
}

void
audit_sink_install(const struct gh_config *cfg, const char *datadir)
{
	char path[4096];

	/* Installed by the listener (anchors, its own events) before it forks;
	 * the connection processes keep the inherited descriptors. */
	if (sink.installed)
		return;
	sink.installed = 1;
	sink.anchor_every = cfg->audit_anchor_every;
	sink.to_syslog = cfg->audit_syslog;
	if (sink.to_syslog) {
		if (gethostname(sink.host, sizeof(sink.host) - 1) != 0 || sink.host[0] == '\0')
			snprintf(sink.host, sizeof(sink.host), "-");
		sink.host[sizeof(sink.host) - 1] = '\0';
		syslog_connect();
	}
	if (cfg->audit_jsonl != NULL && cfg->audit_jsonl[0] != '\0') {
		if (cfg->audit_jsonl[0] == '/')
			snprintf(path, sizeof(path), "%s", cfg->audit_jsonl);
		else
			snprintf(path, sizeof(path), "%s/%s", datadir, cfg->audit_jsonl);
		sink.jsonl_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (sink.jsonl_fd < 0)
			error("cannot open the audit JSON-lines file %s", path);
	}
	if (sink.to_syslog || sink.jsonl_fd >= 0)
		audit_set_sink(export_event, NULL);
}
