/* Grant evaluation and the small languages grants are written in: time
 * windows, CIDR source lists and right lists. Everything here is pure: no
 * I/O, no allocation, so it is easy to test and to fuzz. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/grant.h"
#include "common/err.h"
#include "common/timeutil.h"

#define HOURS_MAX_WINDOWS 32
#define MINUTES_PER_DAY   (24 * 60)

static void set_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* ---- rights ---- */

static const struct {
	unsigned bit;
	const char *name;
} right_names[] = {
        {RIGHT_SHELL, "shell"},       {RIGHT_EXEC, "exec"},       {RIGHT_UPLOAD, "upload"},
        {RIGHT_DOWNLOAD, "download"}, {RIGHT_FORWARD, "forward"},
};
#define N_RIGHTS (sizeof(right_names) / sizeof(right_names[0]))

const char *
grant_right_name(unsigned right)
{
	size_t i;

	for (i = 0; i < N_RIGHTS; i++)
		if (right_names[i].bit == right)
			return right_names[i].name;
	return "unknown";
}

int
grant_rights_parse(const char *s, unsigned *out, char *why, size_t whylen)
{
	unsigned bits = 0;
	const char *p = s, *start;
	size_t len, i;
	int found;

	set_why(why, whylen, "%s", "");
	if (s == NULL || out == NULL)
		return ERR_INVALID;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - start);
		while (*p == ' ' || *p == '\t')
			p++;
		if (len == 0) {
			set_why(why, whylen, "empty right in list (expected shell, exec, upload, download, forward)");
			return ERR_INVALID;
		}
		found = 0;
		if (len == 3 && strncasecmp(start, "all", 3) == 0) {
			bits |= RIGHTS_ALL;
			found = 1;
		}
		for (i = 0; i < N_RIGHTS && !found; i++) {
			if (strlen(right_names[i].name) == len && strncasecmp(start, right_names[i].name, len) == 0) {
				bits |= right_names[i].bit;
				found = 1;
			}
		}
		if (!found) {
			set_why(why, whylen, "unknown right \"%.*s\" (expected shell, exec, upload, download, forward)",
			        len > 32 ? 32 : (int)len, start);
			return ERR_INVALID;
		}
		if (*p == '\0')
			break;
		if (*p != ',') {
			set_why(why, whylen, "rights must be separated by commas");
			return ERR_INVALID;
		}
		p++;
	}
	*out = bits;
	return 0;
}

void
grant_rights_format(unsigned rights, char *buf, size_t len)
{
	size_t i, o = 0;
	int n;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < N_RIGHTS; i++) {
		if (!(rights & right_names[i].bit))
			continue;
		n = snprintf(buf + o, len - o, "%s%s", o > 0 ? "," : "", right_names[i].name);
		if (n < 0 || (size_t)n >= len - o)
			return; /* truncated, still NUL-terminated */
		o += (size_t)n;
	}
	if (o == 0)
		snprintf(buf, len, "none");
}

/* ---- time windows ---- */

struct hours_window {
	unsigned days;  /* bit d set: the window starts on weekday d (0 = Sun) */
	int start, end; /* minutes of day; end < start crosses midnight */
};

static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static void
skip_space(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static int
parse_day(const char **p, int *day)
{
	int d;

	for (d = 0; d < 7; d++) {
		if (strncasecmp(*p, day_names[d], 3) == 0 && !isalpha((unsigned char)(*p)[3])) {
			*day = d;
			*p += 3;
			return 0;
		}
	}
	return ERR_INVALID;
}

/* "HH:MM", hours 00-23, or 24:00 when allow24 (the end of a window). */
static int
parse_clock(const char **p, int allow24, int *minute)
{
	const char *s = *p;
	int h, m;

	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return ERR_INVALID;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (!allow24 || m != 0)))
		return ERR_INVALID;
	*minute = h * 60 + m;
	*p = s + 5;
	return 0;
}

/* Parse the whole spec into windows. The grammar is
 *   spec   = window *( (";" | ",") window )
 *   window = days SP HH:MM "-" HH:MM
 *   days   = "*" | item *( "," item ),  item = DAY | DAY "-" DAY
 * ',' is both the day-list and the window separator; it is unambiguous
 * because a window always ends with its time range. */
static int
hours_parse_windows(const char *spec, struct hours_window *w, size_t max, size_t *nw, char *why, size_t whylen)
{
	const char *p = spec, *q;
	size_t n = 0;
	int d1, d2, d;

	if (spec == NULL) {
		set_why(why, whylen, "no time window");
		return ERR_INVALID;
	}
	for (;;) {
		unsigned days = 0;

		skip_space(&p);
		if (n == max) {
			set_why(why, whylen, "more than %zu time windows", max);
			return ERR_INVALID;
		}
		if (*p == '*') {
			days = 0x7f;
			p++;
		} else {
			for (;;) {
				if (parse_day(&p, &d1) != 0) {
					set_why(why, whylen,
					        "expected a day (Mon, Tue, ... Sun) or '*' at \"%.20s\" in \"%.64s\"",
					        p, spec);
					return ERR_INVALID;
				}
				d2 = d1;
				if (*p == '-') {
					p++;
					if (parse_day(&p, &d2) != 0) {
						set_why(why, whylen, "expected a day after '-' at \"%.20s\"", p);
						return ERR_INVALID;
					}
				}
				/* A range may wrap the week: "Fri-Mon". */
				for (d = d1;; d = (d + 1) % 7) {
					days |= 1u << d;
					if (d == d2)
						break;
				}
				/* Before the time range a ',' can only continue
				 * the day list, spaces around it allowed. */
				q = p;
				skip_space(&q);
				if (*q != ',')
					break;
				p = q + 1;
				skip_space(&p);
			}
		}
		if (*p != ' ' && *p != '\t') {
			set_why(why, whylen, "expected a space and HH:MM-HH:MM after the days in \"%.64s\"", spec);
			return ERR_INVALID;
		}
		skip_space(&p);
		if (parse_clock(&p, 0, &w[n].start) != 0 || *p++ != '-' || parse_clock(&p, 1, &w[n].end) != 0) {
			set_why(why, whylen, "expected a time range HH:MM-HH:MM (00:00 to 24:00) in \"%.64s\"", spec);
			return ERR_INVALID;
		}
		if (w[n].start == w[n].end) {
			set_why(why, whylen, "empty time range in \"%.64s\" (use 00:00-24:00 for a whole day)", spec);
			return ERR_INVALID;
		}
		w[n].days = days;
		n++;
		skip_space(&p);
		if (*p == '\0')
			break;
		if (*p != ';' && *p != ',') {
			set_why(why, whylen, "expected ';' between time windows at \"%.20s\"", p);
			return ERR_INVALID;
		}
		p++;
	}
	*nw = n;
	return 0;
}

int
grant_hours_parse(const char *spec, char *why, size_t whylen)
{
	struct hours_window w[HOURS_MAX_WINDOWS];
	size_t n;

	set_why(why, whylen, "%s", "");
	return hours_parse_windows(spec, w, HOURS_MAX_WINDOWS, &n, why, whylen);
}

int
grant_hours_match(const char *spec, int wday, int minute_of_day)
{
	struct hours_window w[HOURS_MAX_WINDOWS];
	size_t n, i;
	int prev;

	if (wday < 0 || wday > 6 || minute_of_day < 0 || minute_of_day >= MINUTES_PER_DAY)
		return 0;
	if (hours_parse_windows(spec, w, HOURS_MAX_WINDOWS, &n, NULL, 0) != 0)
		return 0;
	prev = (wday + 6) % 7;
	for (i = 0; i < n; i++) {
		if (w[i].start < w[i].end) {
			if ((w[i].days & (1u << wday)) && minute_of_day >= w[i].start && minute_of_day < w[i].end)
				return 1;
		} else {
			/* Crossing midnight: the evening part belongs to the
			 * listed day, the morning part to the day after it. */
			if ((w[i].days & (1u << wday)) && minute_of_day >= w[i].start)
				return 1;
			if ((w[i].days & (1u << prev)) && minute_of_day < w[i].end)
				return 1;
		}
	}
	return 0;
}

/* ---- CIDR ---- */

struct net_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int
addr_parse(const char *s, size_t len, struct net_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(buf))
		return ERR_INVALID;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a->bytes) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return ERR_INVALID;
}

/* An IPv4-mapped IPv6 address (::ffff:10.1.2.3, what a dual-stack socket
 * reports for an IPv4 peer) is treated as the IPv4 address it carries. */
static void
addr_unmap(struct net_addr *a, int *prefix)
{
	if (a->family != AF_INET6 || memcmp(a->bytes, v4mapped_prefix, 12) != 0)
		return;
	if (prefix != NULL) {
		if (*prefix < 96)
			return; /* a network wider than the mapped range stays IPv6 */
		*prefix -= 96;
	}
	memmove(a->bytes, a->bytes + 12, 4);
	memset(a->bytes + 4, 0, 12);
	a->family = AF_INET;
}

static int
cidr_parse_internal(const char *cidr, size_t len, struct net_addr *net, int *prefix, char *why, size_t whylen)
{
	const char *slash = memchr(cidr, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - cidr) : len;
	int max, pfx, bit;
	size_t i;

	if (addr_parse(cidr, alen, net) != 0) {
		set_why(why, whylen, "\"%.*s\" is not an IPv4 or IPv6 address", alen > 64 ? 64 : (int)alen, cidr);
		return ERR_INVALID;
	}
	max = net->family == AF_INET ? 32 : 128;
	pfx = max;
	if (slash != NULL) {
		const char *d = slash + 1;
		size_t dl = len - alen - 1;
		if (dl == 0 || dl > 3) {
			set_why(why, whylen, "bad prefix length in \"%.*s\"", len > 64 ? 64 : (int)len, cidr);
			return ERR_INVALID;
		}
		pfx = 0;
		for (i = 0; i < dl; i++) {
			if (!isdigit((unsigned char)d[i])) {
				set_why(why, whylen, "bad prefix length in \"%.*s\"", len > 64 ? 64 : (int)len, cidr);
				return ERR_INVALID;
			}
			pfx = pfx * 10 + (d[i] - '0');
		}
		if (pfx > max) {
			set_why(why, whylen, "prefix length %d is longer than %d", pfx, max);
			return ERR_INVALID;
		}
	}
	/* Host bits set ("10.1.2.3/8") are almost always a typo for a
	 * different network; refuse rather than guess. */
	for (bit = pfx; bit < max; bit++) {
		if (net->bytes[bit / 8] & (0x80 >> (bit % 8))) {
			set_why(why, whylen, "\"%.*s\" has host bits set after the /%d prefix",
			        len > 64 ? 64 : (int)len, cidr, pfx);
			return ERR_INVALID;
		}
	}
	*prefix = pfx;
	return 0;
}

int
grant_cidr_parse(const char *cidr, char *why, size_t whylen)
{
	struct net_addr net;
	int prefix;

	set_why(why, whylen, "%s", "");
	if (cidr == NULL) {
		set_why(why, whylen, "no address");
		return ERR_INVALID;
	}
	return cidr_parse_internal(cidr, strlen(cidr), &net, &prefix, why, whylen);
}

static int
cidr_match_len(const char *cidr, size_t len, const char *addr)
{
	struct net_addr net, a;
	int prefix, full, rest;

	if (cidr_parse_internal(cidr, len, &net, &prefix, NULL, 0) != 0 || addr == NULL ||
	    addr_parse(addr, strlen(addr), &a) != 0)
		return 0;
	addr_unmap(&net, &prefix);
	addr_unmap(&a, NULL);
	if (net.family != a.family)
		return 0;
	full = prefix / 8;
	rest = prefix % 8;
	if (memcmp(net.bytes, a.bytes, (size_t)full) != 0)
		return 0;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((net.bytes[full] & mask) != (a.bytes[full] & mask))
			return 0;
	}
	return 1;
}

int
grant_cidr_match(const char *cidr, const char *addr)
{
	if (cidr == NULL)
		return 0;
	return cidr_match_len(cidr, strlen(cidr), addr);
}

/* Whether addr is inside any CIDR of a comma-separated list. */
static int
sources_match(const char *list, const char *addr)
{
	const char *p = list, *start, *end;

	if (addr == NULL)
		return 0;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end > start && cidr_match_len(start, (size_t)(end - start), addr))
			return 1;
	}
	return 0;
}

/* ---- evaluation ---- */

static int
id_in(int64_t id, const int64_t *ids, size_t n)
{
	size_t i;

	if (id == 0 || ids == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static int
rule_applies(const struct grant_query *q, const struct grant_rule *g)
{
	int who, what;

	who = (g->user_id != 0 && g->user_id == q->user_id) || id_in(g->group_id, q->group_ids, q->n_groups);
	what = (g->asset_id != 0 && g->asset_id == q->asset_id) ||
	       id_in(g->asset_group_id, q->asset_group_ids, q->n_asset_groups);
	return who && what && g->login != NULL && strcmp(g->login, q->login) == 0;
}

/* How far a denial got: a higher rank means the rule matched more of the
 * request, so its reason tells the operator more. */
static int
reason_rank(enum grant_reason r)
{
	switch (r) {
	case GRANT_DENY_EXPIRED: return 1;
	case GRANT_DENY_HOURS: return 2;
	case GRANT_DENY_SOURCE: return 3;
	case GRANT_DENY_RIGHT: return 4;
	default: return 0;
	}
}

static void
asset_label(const struct grant_query *q, char *buf, size_t len)
{
	if (q->asset_name != NULL && q->asset_name[0] != '\0')
		snprintf(buf, len, "%s", q->asset_name);
	else
		snprintf(buf, len, "asset #%lld", (long long)q->asset_id);
}

static enum grant_reason
rule_check(const struct grant_query *q, const struct grant_rule *g)
{
	struct tm tm;

	if (g->expires != 0 && (int64_t)q->now >= g->expires)
		return GRANT_DENY_EXPIRED;
	if (g->hours != NULL && g->hours[0] != '\0') {
		/* An unknown zone or a broken spec denies: fail closed. */
		if (time_local(q->timezone, (int64_t)q->now, &tm) != 0 ||
		    !grant_hours_match(g->hours, tm.tm_wday, tm.tm_hour * 60 + tm.tm_min))
			return GRANT_DENY_HOURS;
	}
	if (g->sources != NULL && g->sources[0] != '\0' && !sources_match(g->sources, q->source_addr))
		return GRANT_DENY_SOURCE;
	if (!(g->rights & q->right))
		return GRANT_DENY_RIGHT;
	return GRANT_ALLOWED;
}

static void
deny_message(const struct grant_query *q, const struct grant_rule *g, enum grant_reason reason, char *msg, size_t len)
{
	char asset[128], when[32];
	struct tm tm;

	asset_label(q, asset, sizeof(asset));
	switch (reason) {
	case GRANT_DENY_USER_LOCKED: snprintf(msg, len, "account locked"); break;
	case GRANT_DENY_ASSET_REMOVED: snprintf(msg, len, "asset removed"); break;
	case GRANT_DENY_NO_GRANT: snprintf(msg, len, "no grant for %s@%s", q->login, asset); break;
	case GRANT_DENY_EXPIRED:
		/* The date in the zone the operator configured; the time
		 * only when the grant did not end at midnight. */
		if (time_local(q->timezone, g->expires, &tm) != 0 && time_local(NULL, g->expires, &tm) != 0) {
			snprintf(msg, len, "grant expired");
			break;
		}
		if (tm.tm_hour == 0 && tm.tm_min == 0)
			strftime(when, sizeof(when), "%Y-%m-%d", &tm);
		else
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		snprintf(msg, len, "grant expired %s", when);
		break;
	case GRANT_DENY_HOURS: snprintf(msg, len, "outside allowed hours (%s)", g->hours); break;
	case GRANT_DENY_SOURCE:
		snprintf(msg, len, "source address %s not allowed",
		         q->source_addr != NULL ? q->source_addr : "unknown");
		break;
	case GRANT_DENY_RIGHT:
		snprintf(msg, len, "right %s not granted for %s@%s", grant_right_name(q->right), q->login, asset);
		break;
	case GRANT_ALLOWED: snprintf(msg, len, "allowed by grant %lld", (long long)g->id); break;
	}
}

int
grant_evaluate(const struct grant_query *q, const struct grant_rule *rules, size_t n, struct grant_decision *out)
{
	const struct grant_rule *best = NULL;
	enum grant_reason best_reason = GRANT_DENY_NO_GRANT, reason;
	size_t i;

	if (out == NULL)
		return ERR_INVALID;
	memset(out, 0, sizeof(*out));
	out->allow = 0;
	out->reason = GRANT_DENY_NO_GRANT;
	/* A malformed query denies too, so a caller that ignores the return
	 * value still fails closed. */
	if (q == NULL || q->login == NULL || q->right == 0 || (q->right & (q->right - 1)) != 0 ||
	    (q->right & ~(unsigned)RIGHTS_ALL) != 0 || (n > 0 && rules == NULL)) {
		snprintf(out->message, sizeof(out->message), "invalid grant query");
		return ERR_INVALID;
	}
	if (q->user_locked) {
		out->reason = GRANT_DENY_USER_LOCKED;
		deny_message(q, NULL, out->reason, out->message, sizeof(out->message));
		return 0;
	}
	if (q->asset_removed) {
		out->reason = GRANT_DENY_ASSET_REMOVED;
		deny_message(q, NULL, out->reason, out->message, sizeof(out->message));
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!rule_applies(q, &rules[i]))
			continue;
		reason = rule_check(q, &rules[i]);
		if (reason == GRANT_ALLOWED) {
			out->allow = 1;
			out->grant_id = rules[i].id;
			out->reason = GRANT_ALLOWED;
			deny_message(q, &rules[i], GRANT_ALLOWED, out->message, sizeof(out->message));
			return 0;
		}
		if (best == NULL || reason_rank(reason) > reason_rank(best_reason)) {
			best = &rules[i];
			best_reason = reason;
		}
	}
	out->reason = best_reason;
	out->grant_id = best != NULL ? best->id : 0;
	deny_message(q, best, best_reason, out->message, sizeof(out->message));
	return 0;
}
