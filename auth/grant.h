/* Grant evaluation: one pure function decides whether a user may use a login
 * on an asset with a right, from an address, at a time. No I/O: the caller
 * loads the rules (store_grant_list) and the facts, this answers. */
#ifndef GH_GRANT_H
#define GH_GRANT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum grant_right {
	RIGHT_SHELL = 1 << 0,
	RIGHT_EXEC = 1 << 1,
	RIGHT_UPLOAD = 1 << 2,
	RIGHT_DOWNLOAD = 1 << 3,
	RIGHT_FORWARD = 1 << 4,
};
#define RIGHTS_DEFAULT (RIGHT_SHELL | RIGHT_EXEC | RIGHT_UPLOAD | RIGHT_DOWNLOAD)
#define RIGHTS_ALL     (RIGHTS_DEFAULT | RIGHT_FORWARD)

/* One row of the grants table. Strings are owned by the rule (freed by
 * store_grant_list_free); a rule built by hand may point at static strings. */
struct grant_rule {
	int64_t id;
	int64_t user_id; /* exactly one of user_id / group_id is non-zero */
	int64_t group_id;
	int64_t asset_id; /* exactly one of asset_id / asset_group_id is non-zero */
	int64_t asset_group_id;
	char *login;
	unsigned rights;  /* enum grant_right bits */
	int64_t expires;  /* Unix time; 0 = never */
	char *hours;      /* time windows, NULL = always; see grant_hours_parse */
	char *sources;    /* comma-separated CIDRs, NULL = anywhere */
	char *forward_to; /* comma-separated HOST:PORT (tunnels), NULL = none */
	int64_t created;
	/* display names, filled by store_grant_list for tables */
	char *user_name, *group_name, *asset_name, *asset_group_name;
};

struct grant_query {
	int64_t user_id;
	const int64_t *group_ids; /* the user's groups */
	size_t n_groups;
	int user_locked; /* locked, lockout active or removed */
	int64_t asset_id;
	const int64_t *asset_group_ids;
	size_t n_asset_groups;
	int asset_removed;
	const char *login;
	unsigned right;          /* one enum grant_right bit */
	const char *source_addr; /* numeric IPv4 or IPv6 address */
	time_t now;
	const char *timezone;   /* IANA name for time windows, e.g. "Asia/Shanghai"; NULL = UTC */
	const char *asset_name; /* for the decision message; NULL = "asset #ID" */
};

enum grant_reason {
	GRANT_ALLOWED = 0,
	GRANT_DENY_NO_GRANT, /* nothing grants this login on this asset */
	GRANT_DENY_EXPIRED,
	GRANT_DENY_HOURS,  /* outside allowed hours */
	GRANT_DENY_SOURCE, /* source address not allowed */
	GRANT_DENY_RIGHT,  /* login granted, but not this right */
	GRANT_DENY_USER_LOCKED,
	GRANT_DENY_ASSET_REMOVED,
};

struct grant_decision {
	int allow;
	int64_t grant_id; /* the grant that allowed, or the closest one that denied (0 if none) */
	enum grant_reason reason;
	char message[256]; /* one line for the operator: "grant expired 2026-10-01" */
};

/* Evaluate the query against the rules. Always fills *out; returns 0, or
 * ERR_INVALID when the query itself is malformed. When several grants match
 * user/asset/login but deny, the reason reported is the most specific one
 * (right > source > hours > expired). */
int grant_evaluate(const struct grant_query *q, const struct grant_rule *rules, size_t n, struct grant_decision *out);

/* Validate a time-window spec: one or more "DAYS HH:MM-HH:MM" separated by
 * ';' or ',', DAYS being "Mon-Fri", "Sat,Sun" style lists/ranges or "*".
 * A window may cross midnight ("Mon-Fri 22:00-06:00" starts on those days).
 * Returns 0 or ERR_INVALID with a reason in why. */
int grant_hours_parse(const char *spec, char *why, size_t whylen);
/* Whether local time (weekday 0=Sun..6, minute of day) falls in the spec. */
int grant_hours_match(const char *spec, int wday, int minute_of_day);

/* Validate a CIDR ("10.0.0.0/8", "2001:db8::/32", or a bare address). */
int grant_cidr_parse(const char *cidr, char *why, size_t whylen);
/* 1 when addr is inside cidr, 0 otherwise (also when either is malformed). */
int grant_cidr_match(const char *cidr, const char *addr);

/* "shell,exec" <-> bits. Parse returns ERR_INVALID naming the bad word. */
int grant_rights_parse(const char *s, unsigned *out, char *why, size_t whylen);
void grant_rights_format(unsigned rights, char *buf, size_t len);
const char *grant_right_name(unsigned right);

#endif
