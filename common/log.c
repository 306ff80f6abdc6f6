#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static struct {
	const char *ident;
	int to_stderr;
	enum log_level level;
	char prefix[128];
} log_state = {"gatehouse", 1, LOG_LEVEL_INFO, ""};

void
log_init(const char *ident, int to_stderr, enum log_level level)
{
	log_state.ident = ident;
	log_state.to_stderr = to_stderr;
	log_state.level = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void
log_close(void)
{
	if (!log_state.to_stderr)
		closelog();
}

void
log_reopen(void)
{
	if (log_state.to_stderr)
		return;
	closelog();
	openlog(log_state.ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void
log_set_level(enum log_level level)
{
	log_state.level = level;
}

void
log_set_prefix(const char *prefix)
{
	snprintf(log_state.prefix, sizeof(log_state.prefix), "%s", prefix ? prefix : "");
}

char *
log_escape(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (dstlen == 0)
		return dst;
	for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)*p;
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[*p >> 4];
			dst[o++] = hex[*p & 0xf];
		}
	}
	dst[o] = '\0';
	return dst;
}

static int
syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_FATAL: return LOG_CRIT;
	case LOG_LEVEL_ERROR: return LOG_ERR;
	case LOG_LEVEL_INFO: return LOG_INFO;
	case LOG_LEVEL_VERBOSE: return LOG_INFO;
	case LOG_LEVEL_DEBUG: return LOG_DEBUG;
	}
	return LOG_INFO;
}

void
log_msgv(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	char raw[2048], msg[4096];
	int n = 0;

	if (level > log_state.level)
		return;
	if (func != NULL)
		n = snprintf(raw, sizeof(raw), "%s: ", func);
	if (n < 0 || (size_t)n >= sizeof(raw))
		n = 0;
	vsnprintf(raw + n, sizeof(raw) - (size_t)n, fmt, ap);
	log_escape(msg, sizeof(msg), raw);
	if (log_state.to_stderr) {
		/* one write per line keeps lines of concurrent processes whole */
		fprintf(stderr, "%s%s%s%s%s\n", log_state.ident, log_state.prefix[0] ? "[" : "", log_state.prefix,
		        log_state.prefix[0] ? "]: " : ": ", msg);
	} else {
		syslog(syslog_priority(level), "%s%s%s", log_state.prefix, log_state.prefix[0] ? ": " : "", msg);
	}
}

void
log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_msgv(level, func, fmt, ap);
	va_end(ap);
}

void
fatal_msg(const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_msgv(LOG_LEVEL_FATAL, func, fmt, ap);
	va_end(ap);
	exit(1);
}
