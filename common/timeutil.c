/* Time formatting and parsing. Everything stored is UTC; local time exists
 * only for grant windows and reports, in an explicitly named zone. */
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/timeutil.h"

void
time_format_iso(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (len == 0)
		return;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}

void
time_now_iso_ms(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	if (len == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm) == NULL || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, len, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
}

/* Reads exactly n digits. */
static int
read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

int
time_parse_iso(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	struct tm tm;
	time_t t;

	if (s == NULL)
		return ERR_INVALID;
	if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' || read_digits(&p, 2, &d))
		return ERR_INVALID;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi))
			return ERR_INVALID;
		if (*p == ':') {
			p++;
			if (read_digits(&p, 2, &sec))
				return ERR_INVALID;
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if (read_digits(&p, 2, &oh))
				return ERR_INVALID;
			if (*p == ':')
				p++;
			if (read_digits(&p, 2, &om))
				return ERR_INVALID;
			if (oh > 23 || om > 59)
				return ERR_INVALID;
		}
	}
	if (*p != '\0')
		return ERR_INVALID;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return ERR_INVALID;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return ERR_INVALID;
	*out = (int64_t)t - (int64_t)sign * (oh * 3600 + om * 60);
	return 0;
}

int
time_zone_valid(const char *tz)
{
	char path[256];
	struct stat sb;

	if (tz == NULL || tz[0] == '\0' || strcmp(tz, "UTC") == 0)
		return 1;
	if (tz[0] == '/' || strstr(tz, "..") != NULL || strlen(tz) > 128)
		return 0;
	for (const char *p = tz; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || *p == '/' || *p == '_' || *p == '-' || *p == '+'))
			return 0;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int
time_local(const char *tz, int64_t t, struct tm *out)
{
	char *saved = NULL;
	const char *old;
	time_t tt = (time_t)t;
	int r = ERR_INTERNAL;

	if (tz == NULL || tz[0] == '\0' || strcmp(tz, "UTC") == 0)
		return gmtime_r(&tt, out) != NULL ? 0 : ERR_INVALID;
	/* An unknown zone makes glibc silently use UTC: refuse it instead. */
	if (!time_zone_valid(tz))
		return ERR_INVALID;
	if ((old = getenv("TZ")) != NULL && (saved = strdup(old)) == NULL)
		return ERR_NOMEM;
	if (setenv("TZ", tz, 1) != 0) {
		r = ERR_NOMEM;
		goto out;
	}
	tzset();
	r = localtime_r(&tt, out) != NULL ? 0 : ERR_INVALID;
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
out:
	free(saved);
	return r;
}

int64_t
time_now(void)
{
	return (int64_t)time(NULL);
}

int64_t
time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
