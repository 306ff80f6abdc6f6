/* gatehouse.conf: one table describes every key (type, bounds, default and
 * documentation). The parser, the defaults and the documented default file
 * are all driven by it, so they cannot drift apart. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "common/config.h"
#include "common/timeutil.h"
#include "common/err.h"

enum key_type {
	KEY_INT,
	KEY_BOOL,
	KEY_ENUM,
	KEY_STRING,
	KEY_STARTUPS /* "start:rate:full" into int[3] */
};

struct config_key {
	const char *name; /* key as written in the file */
	enum key_type type;
	int min, max;             /* KEY_INT bounds */
	const char *const *words; /* KEY_ENUM: allowed words, NULL-terminated; index = stored value */
	const char *def;          /* default, as it would be written in the file */
	const char *doc;          /* one line for the default file */
	size_t offset;            /* in struct gh_config: int or char * */
};

static const char *const policy_words[] = {"mlps", "nist", NULL};
/* Index 0 = closed (the stored flag is "fail open"). */
static const char *const failure_words[] = {"closed", "open", NULL};
static const char *const onoff_words[] = {"off", "on", NULL};

#define OFF(f) offsetof(struct gh_config, f)

static const struct config_key config_keys[] = {
        {"listen_address", KEY_STRING, 0, 0, NULL, "0.0.0.0", "Address the daemon listens on (IPv4 or IPv6 literal).",
         OFF(listen_address)},
        {"port", KEY_INT, 1, 65535, NULL, "2222", "TCP port for SSH connections.", OFF(port)},
        {"host_key", KEY_STRING, 0, 0, NULL, "ssh_host_ed25519_key",
         "Host key file of the bastion, relative to the data directory.", OFF(host_key)},
        {"login_grace_time", KEY_INT, 1, 3600, NULL, "60", "Seconds a client has to authenticate.",
         OFF(login_grace_time)},
        {"max_auth_tries", KEY_INT, 1, 100, NULL, "6", "Authentication attempts allowed per connection.",
         OFF(max_auth_tries)},
        {"max_startups", KEY_STARTUPS, 0, 0, NULL, "10:30:100",
         "start:rate:full - beyond 'start' unauthenticated connections, refuse new ones with probability 'rate'% "
         "rising "
         "linearly to 100% at 'full' (OpenSSH MaxStartups).",
         OFF(max_startups)},
        {"max_startups_per_source", KEY_INT, 1, 1000, NULL, "16",
         "Unauthenticated connections allowed at once from one source address.", OFF(max_startups_per_source)},
        {"sandbox", KEY_BOOL, 0, 0, NULL, "yes",
         "Run the code that speaks SSH before authentication under seccomp, asking a monitor process for every "
         "decision (yes/no; no only where the kernel lacks seccomp user notification, or under valgrind).",
         OFF(sandbox)},
        {"max_sessions", KEY_INT, 1, 65536, NULL, "1024",
         "Connections served at once (one process each); more are closed at accept.", OFF(max_sessions)},
        {"penalty_failures", KEY_INT, 1, 100000, NULL, "20",
         "Failed logins (a login grace time expiry counts as one) after which a source address is refused.",
         OFF(penalty_failures)},
        {"penalty_window", KEY_INT, 1, 86400, NULL, "600", "Seconds over which a source's failed logins are counted.",
         OFF(penalty_window)},
        {"penalty_time", KEY_INT, 0, 604800, NULL, "900",
         "Seconds a source address is refused after penalty_failures failures; 0 turns source penalties off.",
         OFF(penalty_time)},
        {"hash_concurrency", KEY_INT, 0, 256, NULL, "0",
         "Password checks (yescrypt or PAM) run at once before authentication, all sources together; more wait. 0 "
         "means half the CPUs (at least 1).",
         OFF(hash_concurrency)},
        {"hash_source_rate", KEY_INT, 1, 6000, NULL, "60",
         "Password checks per minute one source address may make before authentication (sustained); more wait.",
         OFF(hash_source_rate)},
        {"hash_source_burst", KEY_INT, 1, 1000, NULL, "20",
         "Password checks a source address that has been quiet may make at once before hash_source_rate applies.",
         OFF(hash_source_burst)},
        {"idle_timeout", KEY_INT, 0, 86400 * 7, NULL, "1800",
         "Seconds without data in either direction before a session is closed; 0 means never.", OFF(idle_timeout)},
        {"shutdown_grace", KEY_INT, 0, 3600, NULL, "30", "Seconds live sessions get to finish on SIGTERM.",
         OFF(shutdown_grace)},
        {"password_policy", KEY_ENUM, 0, 0, policy_words, "mlps",
         "Password profile: mlps (8+ chars, 4 classes, 90-day age) or nist (15+ chars, blocklist, no expiry).",
         OFF(password_policy)},
        {"password_min_length", KEY_INT, 0, 1024, NULL, "0",
         "Minimum password length; 0 means the profile default (8 mlps, 15 nist).", OFF(password_min_length)},
        {"password_max_age_days", KEY_INT, 0, 36500, NULL, "90",
         "Days before a password must be changed; 0 means never.", OFF(password_max_age_days)},
        {"password_history", KEY_INT, 0, 100, NULL, "5", "Number of previous passwords that may not be reused.",
         OFF(password_history)},
        {"password_blocklist", KEY_STRING, 0, 0, NULL, "",
         "File of refused passwords, one per line (nist profile); empty for none.", OFF(password_blocklist)},
        {"lockout_threshold", KEY_INT, 0, 1000, NULL, "5",
         "Consecutive failed logins before an account locks; 0 turns it off.", OFF(lockout_threshold)},
        {"lockout_minutes", KEY_INT, 1, 525600, NULL, "30", "Minutes an account stays locked after too many failures.",
         OFF(lockout_minutes)},
        {"account_inactive_days", KEY_INT, 0, 36500, NULL, "0",
         "Lock accounts not used for this many days; 0 turns it off.", OFF(account_inactive_days)},
        {"timezone", KEY_STRING, 0, 0, NULL, "UTC", "IANA time zone for grant time windows and reports.",
         OFF(timezone)},
        {"totp_issuer", KEY_STRING, 0, 0, NULL, "Gatehouse", "Issuer shown by authenticator apps.", OFF(totp_issuer)},
        {"totp_enrol_hours", KEY_INT, 0, 8760, NULL, "72",
         "Hours a user without TOTP may enrol at login, from user add or user totp-reset; 0: never at login.",
         OFF(totp_enrol_hours)},
        {"pam_time", KEY_INT, 0, 60000, NULL, "1000",
         "Milliseconds every PAM password check takes, right or wrong (PAM's own failure delay is"
         " suppressed); 0 turns the padding off.",
         OFF(pam_time_ms)},
        {"pam_service", KEY_STRING, 0, 0, NULL, "gatehouse", "PAM service name for users with --auth pam.",
         OFF(pam_service)},
        {"pam_confdir", KEY_STRING, 0, 0, NULL, "",
         "Private PAM configuration directory; empty means the system's /etc/pam.d (set only by tests).",
         OFF(pam_confdir)},
        {"target_connect_timeout", KEY_INT, 1, 600, NULL, "10", "Seconds to wait for a target to answer.",
         OFF(target_connect_timeout)},
        {"recording_failure", KEY_ENUM, 0, 0, failure_words, "closed",
         "When a session cannot be recorded: 'closed' ends it, 'open' lets it run unrecorded (audited).",
         OFF(recording_fail_open)},
        {"record_unechoed_input", KEY_BOOL, 0, 0, NULL, "no",
         "Record passwords typed without echo at sudo/ssh prompts on targets in plain; 'no' seals them for 'reveal'.",
         OFF(record_unechoed_input)},
        {"audit_failure", KEY_ENUM, 0, 0, failure_words, "closed",
         "When an audit event cannot be written: 'closed' refuses the action, 'open' continues.", OFF(audit_fail_open)},
        {"audit_jsonl", KEY_STRING, 0, 0, NULL, "",
         "Path of a JSON-lines copy of every audit event; empty turns it off.", OFF(audit_jsonl)},
        {"audit_syslog", KEY_BOOL, 0, 0, NULL, "yes", "Send audit events to syslog (yes/no).", OFF(audit_syslog)},
        {"audit_anchor_every", KEY_INT, 0, 1000000, NULL, "100",
         "Send the audit chain head (id and hash) to syslog and audit_jsonl every N events, besides once a minute "
         "while events arrive and at daemon start and stop; 0 keeps only the timed anchors.",
         OFF(audit_anchor_every)},
        {"command_tracking", KEY_BOOL, 0, 0, NULL, "yes",
         "Extract the commands of interactive shells from the screen (yes/no); exec commands are always logged.",
         OFF(command_tracking)},
        {"transfer_capture", KEY_ENUM, 0, 0, onoff_words, "off",
         "Store the content of files moved by SFTP beside the recording (zstd, named by SHA-256): off or on.",
         OFF(transfer_capture)},
        {"transfer_capture_max", KEY_INT, 0, 2147483647, NULL, "104857600",
         "Largest file content captured, in bytes; larger or non-sequential transfers are logged, not stored.",
         OFF(transfer_capture_max)},
        {"retention_days", KEY_INT, 1, 36500, NULL, "180",
         "Days recordings and audit events are kept (MLPS level 2/3 requires at least 180).", OFF(retention_days)},
        {"allow_non_etm_macs", KEY_BOOL, 0, 0, NULL, "no",
         "Also offer hmac-sha2-256 and hmac-sha2-512 (encrypt-and-MAC) to clients that have neither AEAD ciphers nor "
         "-etm MACs, such as libssh2 1.10; ssh-audit warns about them (yes/no).",
         OFF(allow_non_etm_macs)},
        {"bench_allow_no_totp", KEY_BOOL, 0, 0, NULL, "no",
         "Allow users without TOTP; ONLY for throwaway benchmark data directories, never in production.",
         OFF(bench_totp_off)},
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int *
int_field(struct gh_config *c, const struct config_key *k)
{
	return (int *)(void *)((char *)c + k->offset);
}

static char **
str_field(struct gh_config *c, const struct config_key *k)
{
	return (char **)(void *)((char *)c + k->offset);
}

/* "start:rate:full", strictly: three decimal integers, 1 <= start <= full
 * <= 100000, rate 1..100 (OpenSSH accepts a bare number too; we do not, so
 * that the meaning is always spelled out). */
static int
parse_startups(const char *v, int out[3])
{
	long n[3];
	const char *p = v;
	char *end = NULL;

	for (int i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9')
			return ERR_INVALID;
		errno = 0;
		n[i] = strtol(p, &end, 10);
		if (errno != 0 || n[i] > 100000 || *end != (i < 2 ? ':' : '\0'))
			return ERR_INVALID;
		p = end + 1;
	}
	if (n[0] < 1 || n[0] > n[2] || n[1] < 1 || n[1] > 100)
		return ERR_INVALID;
	for (int i = 0; i < 3; i++)
		out[i] = (int)n[i];
	return 0;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return ERR_INVALID;
}

/* Parse v for key k into c. On error, a reason (without file:line) in why. */
static int
set_value(struct gh_config *c, const struct config_key *k, const char *v, char *why, size_t whylen)
{
	char *end = NULL, *dup = NULL;
	long n;
	int b;

	switch (k->type) {
	case KEY_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (v[0] == '\0' || *end != '\0' || errno != 0 || n < k->min || n > k->max) {
			snprintf(why, whylen, "key '%s': must be an integer between %d and %d", k->name, k->min,
			         k->max);
			return ERR_INVALID;
		}
		*int_field(c, k) = (int)n;
		return 0;
	case KEY_BOOL:
		if (parse_bool(v, &b) != 0) {
			snprintf(why, whylen, "key '%s': must be yes or no", k->name);
			return ERR_INVALID;
		}
		*int_field(c, k) = b;
		return 0;
	case KEY_ENUM:
		for (int i = 0; k->words[i] != NULL; i++) {
			if (strcmp(v, k->words[i]) == 0) {
				*int_field(c, k) = i;
				return 0;
			}
		}
		{
			char list[128] = "";
			for (int i = 0; k->words[i] != NULL; i++) {
				if (i > 0)
					strncat(list, k->words[i + 1] == NULL ? " or " : ", ",
					        sizeof(list) - strlen(list) - 1);
				strncat(list, k->words[i], sizeof(list) - strlen(list) - 1);
			}
			snprintf(why, whylen, "key '%s': must be %s", k->name, list);
		}
		return ERR_INVALID;
	case KEY_STARTUPS:
		if (parse_startups(v, int_field(c, k)) != 0) {
			snprintf(
			        why, whylen,
			        "key '%s': must be start:rate:full with 1 <= start <= full <= 100000 and rate 1 to 100",
			        k->name);
			return ERR_INVALID;
		}
		return 0;
	case KEY_STRING:
		if (strcmp(k->name, "timezone") == 0 && !time_zone_valid(v)) {
			snprintf(why, whylen, "key 'timezone': unknown time zone '%s' (not in /usr/share/zoneinfo)", v);
			return ERR_INVALID;
		}
		if ((dup = strdup(v)) == NULL) {
			snprintf(why, whylen, "key '%s': out of memory", k->name);
			return ERR_NOMEM;
		}
		free(*str_field(c, k));
		*str_field(c, k) = dup;
		return 0;
	}
	return ERR_INTERNAL;
}

void
config_defaults(struct gh_config *c)
{
	char why[128];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_KEYS; i++) {
		/* The defaults in the table are valid by construction (unit tested);
		 * only an allocation can fail, leaving that string NULL. */
		(void)set_value(c, &config_keys[i], config_keys[i].def, why, sizeof(why));
	}
}

void
config_free(struct gh_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (config_keys[i].type == KEY_STRING) {
			free(*str_field(c, &config_keys[i]));
			*str_field(c, &config_keys[i]) = NULL;
		}
	}
}

struct parse_state {
	struct gh_config *cfg;
	FILE *f;
	const char *path;
	int line;     /* line most recently handed to inih */
	int err_line; /* first error's line, 0 = none */
	int err_code;
	char err[256]; /* first error's reason */
	int long_line; /* a line did not fit inih's buffer */
};

static void
record_error(struct parse_state *ps, int code, const char *why)
{
	if (ps->err_line != 0)
		return;
	ps->err_line = ps->line;
	ps->err_code = code;
	snprintf(ps->err, sizeof(ps->err), "%s", why);
}

/* inih reads one line per call: counting here gives the exact line of each
 * handler call, which inih itself does not pass (INI_HANDLER_LINENO is off in
 * the distribution build). */
static char *
read_line(char *buf, int num, void *arg)
{
	struct parse_state *ps = arg;
	char *s = fgets(buf, num, ps->f);
	int c;

	if (s == NULL)
		return NULL;
	ps->line++;
	if (strchr(buf, '\n') == NULL && !feof(ps->f)) {
		/* Too long for inih: drop the rest of the line and report it. */
		while ((c = fgetc(ps->f)) != EOF && c != '\n')
			;
		record_error(ps, ERR_INVALID, "line too long");
	}
	return s;
}

static int
handle_key(void *arg, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = arg;
	char why[200];

	if (section != NULL && section[0] != '\0') {
		snprintf(why, sizeof(why), "sections are not used (found [%.60s])", section);
		record_error(ps, ERR_INVALID, why);
		return 0;
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(config_keys[i].name, name) != 0)
			continue;
		int r = set_value(ps->cfg, &config_keys[i], value, why, sizeof(why));
		if (r != 0) {
			record_error(ps, r, why);
			return 0;
		}
		return 1;
	}
	snprintf(why, sizeof(why), "unknown key '%.60s'", name);
	record_error(ps, ERR_INVALID, why);
	return 0;
}

int
config_load(const char *path, struct gh_config *c, char *err, size_t errlen)
{
	struct parse_state ps;
	int rc, r = ERR_INTERNAL;

	memset(&ps, 0, sizeof(ps));
	ps.cfg = c;
	ps.path = path;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((ps.f = fopen(path, "re")) == NULL) {
		if (err != NULL)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	rc = ini_parse_stream(read_line, &ps, handle_key, &ps);
	/* inih returns the first error line of any kind; one before ours is a
	 * syntax error the handler never saw. */
	if (ps.err_line != 0 && !(rc > 0 && rc < ps.err_line)) {
		if (err != NULL)
			snprintf(err, errlen, "%s:%d: %s", path, ps.err_line, ps.err);
		r = ps.err_code;
		goto out;
	}
	if (rc > 0) {
		/* A syntax error inih found itself (no '=', unclosed '['). */
		if (err != NULL)
			snprintf(err, errlen, "%s:%d: expected 'key = value'", path, rc);
		r = ERR_INVALID;
		goto out;
	}
	if (rc != 0 || ferror(ps.f)) {
		if (err != NULL)
			snprintf(err, errlen, "%s: read error", path);
		r = rc == -2 ? ERR_NOMEM : ERR_IO;
		goto out;
	}
	r = 0;
out:
	if (ps.f != NULL)
		fclose(ps.f);
	return r;
}

int
config_write_default(FILE *out)
{
	fputs("# gatehouse.conf: Gatehouse daemon settings.\n"
	      "#\n"
	      "# Format: one 'key = value' per line, '#' starts a comment, no sections.\n"
	      "# Every setting is shown below, commented out, with its default value;\n"
	      "# uncomment a line and change the value to override it. Unknown keys\n"
	      "# and invalid values stop the daemon with FILE:LINE and the key named.\n",
	      out);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];
		fprintf(out, "\n# %s\n", k->doc);
		if (k->type == KEY_INT)
			fprintf(out, "# (integer, %d to %d)\n", k->min, k->max);
		fprintf(out, "# %s =%s%s\n", k->name, k->def[0] != '\0' ? " " : "", k->def);
	}
	fflush(out);
	return ferror(out) ? ERR_IO : 0;
}
