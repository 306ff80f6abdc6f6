/* Logging in the manner of OpenSSH's log.h.
 *
 * Messages go to stderr (foreground, tools) or syslog (daemon). The sink
 * escapes the whole formatted message once: any byte that is not printable
 * ASCII (and any backslash) becomes \xNN, so an untrusted username, command
 * or path can never forge a log line or smuggle terminal escapes. Call sites
 * therefore pass untrusted strings as they are. Never pass a secret. */
#ifndef GH_LOG_H
#define GH_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_FATAL, LOG_LEVEL_ERROR, LOG_LEVEL_INFO, LOG_LEVEL_VERBOSE, LOG_LEVEL_DEBUG };

/* ident: program name; to_stderr: 1 for stderr, 0 for syslog (LOG_AUTHPRIV). */
void log_init(const char *ident, int to_stderr, enum log_level level);
/* Disconnect from syslog, and connect again (around closing descriptors). */
void log_close(void);
void log_reopen(void);
void log_set_level(enum log_level level);
/* A prefix added to every message of this process (e.g. "conn 127.0.0.1:4000"). */
void log_set_prefix(const char *prefix);

void log_msg(enum log_level level, const char *func, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_msgv(enum log_level level, const char *func, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
void fatal_msg(const char *func, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Escape src into dst (always NUL-terminated); returns dst. Used by the sink
 * and by anything else that must show an untrusted string on one line. */
char *log_escape(char *dst, size_t dstlen, const char *src);

#define debug(...)   log_msg(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__)
#define verbose(...) log_msg(LOG_LEVEL_VERBOSE, NULL, __VA_ARGS__)
#define info(...)    log_msg(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define error(...)   log_msg(LOG_LEVEL_ERROR, NULL, __VA_ARGS__)
#define fatal(...)   fatal_msg(NULL, __VA_ARGS__)
/* _f variants prefix the calling function's name. */
#define debug_f(...)   log_msg(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)
#define verbose_f(...) log_msg(LOG_LEVEL_VERBOSE, __func__, __VA_ARGS__)
#define info_f(...)    log_msg(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define error_f(...)   log_msg(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define fatal_f(...)   fatal_msg(__func__, __VA_ARGS__)

#endif
