/* The admin command set: one const table of commands shared by the local
 * CLI (gatehouse-admin) and, later, the role shell that runs over SSH.
 *
 * A command receives the words after its own name (argv[0] is the last word
 * of the command name, getopt style) and a context that says who runs it,
 * where output goes and how to read a secret. Commands return an exit code:
 * 0 success, 1 failure, 2 usage error. They never call exit(). */
#ifndef GH_ADMIN_CMD_H
#define GH_ADMIN_CMD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/audit.h"
#include "common/config.h"
#include "common/names.h"
#include "common/store.h"

#define ADMIN_EXIT_OK    0
#define ADMIN_EXIT_FAIL  1
#define ADMIN_EXIT_USAGE 2

/* Bit per enum user_role, for admin_cmd.roles. */
#define ADMIN_ROLE_BIT(r) (1u << (unsigned)(r))
#define ADMIN_SUPER       ADMIN_ROLE_BIT(ROLE_SUPERADMIN)
#define ADMIN_AUDITOR     ADMIN_ROLE_BIT(ROLE_AUDITOR)
#define ADMIN_OPERATOR    ADMIN_ROLE_BIT(ROLE_OPERATOR)

struct secret_key;

struct admin_ctx {
	const char *data_dir;   /* the data directory (-d) */
	struct store *st;       /* open store; NULL until admin_open_store() (init runs without one) */
	int own_store;          /* st was opened by admin_open_store (closed by admin_ctx_release) */
	struct gh_config cfg;   /* DIR/gatehouse.conf over the defaults */
	int cfg_loaded;         /* cfg holds allocated strings (config_free needed) */
	struct secret_key *key; /* master key: set by the caller, or loaded on first use by admin_master_key() */
	int own_key;            /* key was loaded by admin_master_key (freed by admin_ctx_release) */
	const char *actor;      /* audit actor: "root", "root(sudo:alice)", or the SSH user */
	const char *source;     /* audit source: "cli" locally, "ADDR:PORT" over SSH */
	int local_root;         /* the local CLI: may run every command, acts as superadmin */
	enum user_role role;    /* role of the actor when !local_root (role shell) */
	int json;               /* --json: machine-readable output */
	FILE *out;              /* results */
	FILE *err;              /* diagnostics */
	/* Read one secret (a password) into buf, NUL-terminated, without the
	 * line end. Locally: one line from stdin (--password-stdin); over SSH:
	 * a prompt without echo. Returns 0, or a negative gh_err (ERR_INVALID
	 * for empty input or no input at all). */
	int (*read_secret)(struct admin_ctx *ctx, const char *prompt, char *buf, size_t len);
	int interactive_secrets; /* read_secret prompts (SSH); else --password-stdin is required */
	const char *prog;        /* prefix of error messages, "gatehouse-admin" */
	/* The role shell over SSH (NULL in the local CLI). Commands that need
	 * the SSH channel (play, watch, verify) hand their arguments to it; the
	 * shell streams the result and the command's exit code comes later. */
	void *shell;
	int (*shell_run)(struct admin_ctx *ctx, const char *what, int argc, char **argv);
};

struct admin_cmd {
	const char *name; /* command words: "user add" */
	int (*run)(struct admin_ctx *ctx, int argc, char **argv);
	unsigned roles;      /* ADMIN_* bits allowed over SSH; the local CLI may run all */
	int needs_store;     /* dispatcher opens the store and the configuration first */
	const char *usage;   /* arguments after the name: "NAME --role R [...]" */
	const char *summary; /* one line */
	const char *help;    /* option details for --help, or NULL */
};

extern const struct admin_cmd admin_commands[];
extern const size_t admin_commands_count;

/* Find the command with the longest matching name in argv and run it.
 * Handles "--help" on any command and prints the command list for a bare
 * object word ("gatehouse-admin user"). Returns the exit code. */
int admin_dispatch(struct admin_ctx *ctx, int argc, char **argv);
/* The program's command overview. */
void admin_print_commands(FILE *f, const struct admin_ctx *ctx);

/* ---- command entry points (one file per object) ---------------------- */

int cmd_init(struct admin_ctx *ctx, int argc, char **argv);
int cmd_user_add(struct admin_ctx *ctx, int argc, char **argv);
int cmd_user_list(struct admin_ctx *ctx, int argc, char **argv);
int cmd_user_show(struct admin_ctx *ctx, int argc, char **argv);
int cmd_user_lock(struct admin_ctx *ctx, int argc, char **argv);
int cmd_user_unlock(struct admin_ctx *ctx, int argc, char **argv);
int cmd_user_remove(struct admin_ctx *ctx, int argc, char **argv);
int cmd_user_passwd(struct admin_ctx *ctx, int argc, char **argv);
int cmd_user_totp_reset(struct admin_ctx *ctx, int argc, char **argv);
int cmd_group_add(struct admin_ctx *ctx, int argc, char **argv);
int cmd_group_list(struct admin_ctx *ctx, int argc, char **argv);
int cmd_group_remove(struct admin_ctx *ctx, int argc, char **argv);
int cmd_group_member_add(struct admin_ctx *ctx, int argc, char **argv);
int cmd_group_member_remove(struct admin_ctx *ctx, int argc, char **argv);
int cmd_asset_add(struct admin_ctx *ctx, int argc, char **argv);
int cmd_asset_list(struct admin_ctx *ctx, int argc, char **argv);
int cmd_asset_show(struct admin_ctx *ctx, int argc, char **argv);
int cmd_asset_remove(struct admin_ctx *ctx, int argc, char **argv);
int cmd_asset_hostkey(struct admin_ctx *ctx, int argc, char **argv);
int cmd_account_add(struct admin_ctx *ctx, int argc, char **argv);
int cmd_account_list(struct admin_ctx *ctx, int argc, char **argv);
int cmd_account_remove(struct admin_ctx *ctx, int argc, char **argv);
int cmd_grant_add(struct admin_ctx *ctx, int argc, char **argv);
int cmd_grant_list(struct admin_ctx *ctx, int argc, char **argv);
int cmd_grant_remove(struct admin_ctx *ctx, int argc, char **argv);
int cmd_audit_list(struct admin_ctx *ctx, int argc, char **argv);
int cmd_audit_verify(struct admin_ctx *ctx, int argc, char **argv);
int cmd_audit_export(struct admin_ctx *ctx, int argc, char **argv);
int cmd_compliance(struct admin_ctx *ctx, int argc, char **argv);
int cmd_retention_run(struct admin_ctx *ctx, int argc, char **argv);
int cmd_session_list(struct admin_ctx *ctx, int argc, char **argv);
int cmd_session_show(struct admin_ctx *ctx, int argc, char **argv);
int cmd_kill(struct admin_ctx *ctx, int argc, char **argv);
int cmd_play(struct admin_ctx *ctx, int argc, char **argv);
int cmd_watch(struct admin_ctx *ctx, int argc, char **argv);
int cmd_verify(struct admin_ctx *ctx, int argc, char **argv);
int cmd_cmdrule_add(struct admin_ctx *ctx, int argc, char **argv);
int cmd_cmdrule_list(struct admin_ctx *ctx, int argc, char **argv);
int cmd_cmdrule_remove(struct admin_ctx *ctx, int argc, char **argv);
int cmd_command_list(struct admin_ctx *ctx, int argc, char **argv);
int cmd_reveal(struct admin_ctx *ctx, int argc, char **argv);

/* ---- helpers for commands (admin/util.c) ------------------------------ */

/* "gatehouse-admin: <message>" on ctx->err; returns ADMIN_EXIT_FAIL. */
int admin_fail(struct admin_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error naming the problem and the command's usage; returns 2. */
int admin_usage(struct admin_ctx *ctx, const struct admin_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The command whose run function is fn (for usage messages). */
const struct admin_cmd *admin_cmd_by_run(int (*fn)(struct admin_ctx *, int, char **));

/* Open DIR/gatehouse.db and load DIR/gatehouse.conf into ctx. */
int admin_open_store(struct admin_ctx *ctx);
/* Load DIR/master.key on first use. Prints the error itself and returns
 * NULL on failure. */
const struct secret_key *admin_master_key(struct admin_ctx *ctx);
/* Release what admin_open_store / admin_master_key / init acquired; a store
 * or key the caller put in the context stays the caller's. */
void admin_ctx_release(struct admin_ctx *ctx);

/* Fill an audit event with the context's actor and source. */
void admin_event(const struct admin_ctx *ctx, struct audit_event *ev, const char *type, const char *object,
                 const char *result, enum audit_importance imp);
/* Append an event in its own transaction (for refusals and failures).
 * An audit write failure is reported on ctx->err; returns 0 or gh_err. */
int admin_audit(struct admin_ctx *ctx, const char *type, const char *object, const char *result,
                enum audit_importance imp, const char *detail);
/* Append inside the caller's transaction. */
int admin_audit_tx(struct admin_ctx *ctx, const char *type, const char *object, const char *result,
                   enum audit_importance imp, const char *detail);

/* Validate a name, printing "invalid user name 'x': reason" on failure. */
int admin_check_name(struct admin_ctx *ctx, enum name_kind kind, const char *s);
/* Look up a user / asset that is not removed; prints "user 'x' not found". */
int admin_find_user(struct admin_ctx *ctx, const char *name, struct user_rec **out);
int admin_find_asset(struct admin_ctx *ctx, const char *name, struct asset_rec **out);
/* Read a password through ctx->read_secret, printing a clear error. */
int admin_read_password(struct admin_ctx *ctx, const char *prompt, char *buf, size_t len);

/* Decode a base32 TOTP secret from the command line (at least 128 bits). */
int admin_totp_secret_decode(struct admin_ctx *ctx, const char *b32, uint8_t **raw, size_t *len);
/* Seal a TOTP secret with AAD ("users", user_id) and store it, inside the
 * caller's transaction. */
int admin_store_totp(struct admin_ctx *ctx, int64_t user_id, const uint8_t *raw, size_t len);

/* Read a whole small file (at most max bytes) into a NUL-terminated buffer. */
int admin_read_file(const char *path, size_t max, char **out, size_t *len);
/* Parse an OpenSSH public key line or a known_hosts line: the first line
 * that holds "TYPE BASE64". On success *keyline is "TYPE BASE64" (malloc'd)
 * and *fp the "SHA256:..." fingerprint (malloc'd). why names the problem. */
int admin_parse_pubkey_text(const char *text, char **keyline, char **fp, char *why, size_t whylen);
/* Fingerprint of a stored "TYPE BASE64" line; malloc'd, NULL if unparsable. */
char *admin_pubkey_fingerprint(const char *keyline);

/* Option parsing shared by the commands: getopt_long (optind reset, GNU
 * argument permutation so options and positionals may mix), with errors
 * reported by us as usage errors naming the option. */
#define ADMIN_MAX_OPTS 16
#define ADMIN_MAX_POS  8

struct admin_opt {
	const char *name; /* long name without "--"; NULL ends the table */
	int has_arg;      /* 1: takes a value */
	int repeat;       /* 1: may be given several times (values collected in list) */
};

struct admin_args {
	int set[ADMIN_MAX_OPTS];           /* how many times each option was given */
	const char *val[ADMIN_MAX_OPTS];   /* last value (for has_arg) */
	const char **list[ADMIN_MAX_OPTS]; /* every value of a repeatable option */
	size_t nlist[ADMIN_MAX_OPTS];
	const char *pos[ADMIN_MAX_POS]; /* positional arguments */
	int npos;
};

/* Returns 0, or ADMIN_EXIT_USAGE after printing what was wrong. Positional
 * arguments beyond max_pos are a usage error. */
int admin_parse(struct admin_ctx *ctx, const struct admin_cmd *cmd, int argc, char **argv, const struct admin_opt *opts,
                int max_pos, struct admin_args *a);
void admin_args_free(struct admin_args *a);

/* Print the reason, audit a refused change (result "fail", detail
 * {"error": reason}) in its own transaction, return ADMIN_EXIT_FAIL. */
int admin_refuse(struct admin_ctx *ctx, const char *type, const char *object, enum audit_importance imp,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* End a transaction: commit when r == 0, roll back otherwise. Returns the
 * final gh_err (a failed commit turns into an error). */
int admin_end_tx(struct admin_ctx *ctx, int r);

/* ---- output (admin/output.c) ------------------------------------------ */

/* A column of a table: JSON key and header text. */
struct out_col {
	const char *key;
	const char *header;
};

/* Print rows (a JSON array of objects) as a table with the given columns,
 * or as JSON with --json. Takes ownership of rows. */
int out_table(struct admin_ctx *ctx, const struct out_col *cols, size_t ncols, json_t *rows);
/* Print one object as "Header: value" lines (fields in order), or as JSON. */
int out_object(struct admin_ctx *ctx, const struct out_col *cols, size_t ncols, json_t *obj);
/* A JSON value for a timestamp: ISO string, or null for 0. */
json_t *out_time(int64_t t);
/* A JSON string or null for NULL. */
json_t *out_str(const char *s);
/* v as JSON text and a newline, in plain ASCII: every other character (and
 * DEL) as a \uXXXX escape, the same data, nothing a terminal acts on.
 * Every --json output goes through it. 0 or -1. */
int out_json(FILE *f, const json_t *v, size_t flags);

#endif
