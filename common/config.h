/* gatehouse.conf: "key = value" lines (inih), '#' comments, no sections.
 * Every key, its type, default and documentation live in one table in
 * config.c; the default file written by `init` is generated from it, so the
 * documentation cannot drift from the parser. */
#ifndef GH_CONFIG_H
#define GH_CONFIG_H

#include <stdio.h>

enum pw_profile_id { PW_PROFILE_MLPS = 0, PW_PROFILE_NIST = 1 };

struct gh_config {
	/* daemon */
	char *listen_address;        /* listen_address = 0.0.0.0 */
	int port;                    /* port = 2222 */
	char *host_key;              /* host_key = ssh_host_ed25519_key (relative to data dir) */
	int login_grace_time;        /* seconds */
	int max_auth_tries;          /* per connection */
	int max_startups[3];         /* start:rate:full (OpenSSH MaxStartups), unauthenticated connections */
	int max_startups_per_source; /* unauthenticated connections from one address */
	int max_sessions;            /* connections served at once */
	int sandbox;                 /* privilege separation's seccomp sandbox (privsep.h) */
	int penalty_failures;        /* failed logins (or grace expiries) from one address ... */
	int penalty_window;          /* ... within this many seconds ... */
	int penalty_time;            /* ... refuse that address for this many seconds */
	int hash_concurrency;        /* password checks at once before authentication, all sources; 0 = half the CPUs */
	int hash_source_rate;        /* password checks per minute from one address, sustained ... */
	int hash_source_burst;       /* ... and at once after a quiet spell */
	int idle_timeout;            /* seconds without data either way; 0 = off */
	int shutdown_grace;          /* seconds given to live sessions on SIGTERM */
	/* accounts and passwords */
	enum pw_profile_id password_policy; /* mlps | nist */
	int password_min_length;            /* 0 = profile default (8 mlps, 15 nist) */
	int password_max_age_days;          /* 0 = never; default 90 (mlps) */
	int password_history;               /* last N passwords refused */
	char *password_blocklist;           /* file of refused passwords (nist) */
	int lockout_threshold;              /* failed logins before lock */
	int lockout_minutes;
	int account_inactive_days; /* lock accounts unused for N days; 0 = off */
	char *timezone;            /* for grant time windows and reports */
	char *totp_issuer;         /* issuer in otpauth:// URIs */
	int totp_enrol_hours; /* one-time enrolment window opened by user add / totp-reset; 0 = no enrolment at login */
	int pam_time_ms;      /* every PAM password check answers after this long (timing) */
	char *pam_service;    /* PAM service name, default "gatehouse" */
	char *pam_confdir;    /* private PAM configuration directory ("" = system /etc/pam.d); tests */
	/* targets */
	int target_connect_timeout; /* seconds */
	/* recording and audit */
	int recording_fail_open;   /* recording_failure = closed | open */
	int record_unechoed_input; /* no: input typed without echo at a prompt for a secret is sealed (recfilter.c) */
	int audit_fail_open;       /* audit_failure = closed | open */
	char *audit_jsonl;         /* path of a JSON-lines copy of audit events, "" = off */
	int audit_syslog;          /* send audit events to syslog */
	int audit_anchor_every;    /* anchor the chain head every N events (0 = only once a minute) */
	int command_tracking;      /* command_tracking = yes | no: screen extraction in pty shells */
	int transfer_capture;      /* transfer_capture = off | on: SFTP file contents beside the recording */
	int transfer_capture_max;  /* bytes; larger files are not captured */
	int retention_days;
	int bench_totp_off;     /* bench_allow_no_totp: only for bench data dirs */
	int allow_non_etm_macs; /* also offer hmac-sha2-256/512 to clients (libssh2 1.10) */
};

/* Fill with defaults. */
void config_defaults(struct gh_config *c);
/* Parse path over the defaults. On error returns ERR_INVALID (or ERR_IO) and
 * writes "FILE:LINE: key: reason" into err. */
int config_load(const char *path, struct gh_config *c, char *err, size_t errlen);
void config_free(struct gh_config *c);
/* Write the documented default configuration. */
int config_write_default(FILE *out);

#endif
