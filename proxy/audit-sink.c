#include "proxy/audit-sink.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "common/audit.h"
#include "common/log.h"

static struct {
	int to_syslog;
	int jsonl_fd; /* -1 = off */
} sink = {0, -1};

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

/* One JSON object per event; the detail is embedded as JSON when it is. */
static void
export_event(const struct audit_event *ev, int64_t id, const char *ts, void *arg)
{
	json_t *j = json_object(), *detail = NULL;
	char *line = NULL;
	size_t len;

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
	json_object_set_new(j, "importance", json_string(audit_importance_name(ev->importance)));
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
	if (sink.to_syslog)
		syslog(LOG_AUTHPRIV | syslog_priority(ev->importance), "gatehouse-audit %s", line);
	if (sink.jsonl_fd >= 0) {
		len = strlen(line);
		line[len] = '\n'; /* replaces the NUL: one write() per event keeps lines whole */
		if (write(sink.jsonl_fd, line, len + 1) != (ssize_t)(len + 1))
			error_f("cannot append to the audit JSON-lines file");
	}
	free(line);
}

void
audit_sink_install(const struct gh_config *cfg, const char *datadir)
{
	char path[4096];

	sink.to_syslog = cfg->audit_syslog;
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
