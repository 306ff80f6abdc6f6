/* Time formatting and parsing: ISO 8601, UTC. */
#ifndef GH_TIMEUTIL_H
#define GH_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "2026-11-21T05:54:44Z" */
void time_format_iso(int64_t t, char *buf, size_t len);
/* "2026-11-21T05:54:44.123Z" from the real-time clock */
void time_now_iso_ms(char *buf, size_t len);
/* Accepts "2026-11-21", "2026-11-21T05:54", "2026-11-21T05:54:44", with an
 * optional "Z" or "+08:00"/"-0500" offset (none means UTC). */
int time_parse_iso(const char *s, int64_t *out);
/* Local time in the IANA zone tz (NULL or "" = UTC). */
int time_local(const char *tz, int64_t t, struct tm *out);
int64_t time_now(void);
/* Monotonic milliseconds. */
int64_t time_mono_ms(void);

#endif
