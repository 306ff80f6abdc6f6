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
/* 1 when tz is "UTC" (or empty) or an IANA zone present under
 * /usr/share/zoneinfo; glibc silently treats any unknown name as UTC, so
 * names are checked against the database instead. */
int time_zone_valid(const char *tz);
/* Local time in the IANA zone tz (NULL or "" = UTC); ERR_INVALID for a zone
 * time_zone_valid() refuses. */
int time_local(const char *tz, int64_t t, struct tm *out);
int64_t time_now(void);
/* Monotonic milliseconds. */
int64_t time_mono_ms(void);

#endif
