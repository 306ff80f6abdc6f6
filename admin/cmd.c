/* The command table and the dispatcher. The same table serves the local CLI
 * and the role shell over SSH: `roles` says which roles may run a command
 * remotely; the local CLI (root on the bastion) may run every command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/cmd.h"

#define SA ADMIN_SUPER
#define AU ADMIN_AUDITOR
#define OP ADMIN_OPERATOR

/* clang-format off */
const struct admin_cmd admin_commands[] = {
	{"init", cmd_init, 0, 0,
	 "[--admin NAME] [--password-stdin] [--totp-secret B32]",
	 "create a new data directory and its bootstrap superadmin",
	 "  --admin NAME        name of the bootstrap superadmin (default: admin)\n"
	 "  --password-stdin    read the password from one line of standard input; it is\n"
	 "                      then NOT temporary (for scripts); otherwise a random\n"
	 "                      temporary password is printed once\n"
	 "  --totp-secret B32   use this base32 TOTP secret instead of a random one\n"},
	{"user add", cmd_user_add, SA, 1,
	 "NAME --role superadmin|auditor|operator [--password-stdin] [--totp-secret B32] [--pubkey FILE] [--auth local|pam]",
	 "add a user",
	 "  --role ROLE         superadmin, auditor or operator (required)\n"
	 "  --password-stdin    read the password from standard input (not temporary);\n"
	 "                      otherwise a temporary password is printed once\n"
	 "  --totp-secret B32   TOTP secret (base32); otherwise the user enrols at first login\n"
	 "  --pubkey FILE       one OpenSSH public key line for public key + TOTP logins\n"
	 "  --auth local|pam    where the password is checked (default local)\n"},
	{"user list", cmd_user_list, SA, 1, "", "list users", NULL},
	{"user show", cmd_user_show, SA, 1, "NAME", "show one user (never hashes or secrets)", NULL},
	{"user lock", cmd_user_lock, SA, 1, "NAME", "lock a user out", NULL},
	{"user unlock", cmd_user_unlock, SA, 1, "NAME", "unlock a user and clear a failed-login lockout", NULL},
	{"user remove", cmd_user_remove, SA, 1, "NAME", "remove a user (the name stays reserved)", NULL},
	{"user passwd", cmd_user_passwd, SA, 1, "NAME --password-stdin [--temporary]",
	 "set a user's password (policy and reuse rules apply)",
	 "  --password-stdin    read the new password from one line of standard input\n"
	 "  --temporary         the user must change it at next login\n"},
	{"user totp-reset", cmd_user_totp_reset, SA, 1, "NAME",
	 "clear a user's TOTP secret; the user enrols a new one at next login", NULL},
	{"group add", cmd_group_add, SA, 1, "NAME", "add a group (of users and assets)", NULL},
	{"group list", cmd_group_list, SA, 1, "", "list groups with their members", NULL},
	{"group remove", cmd_group_remove, SA, 1, "NAME", "remove a group not used by any grant", NULL},
	{"group member add", cmd_group_member_add, SA, 1, "GROUP USER", "add a user to a group", NULL},
	{"group member remove", cmd_group_member_remove, SA, 1, "GROUP USER", "remove a user from a group", NULL},
	{"asset add", cmd_asset_add, SA, 1,
	 "NAME --host HOST [--port N] [--group G]... [--hostkey FILE | --hostkey-scan]",
	 "add a target server",
	 "  --host HOST         DNS name or address of the target\n"
	 "  --port N            SSH port (default 22)\n"
	 "  --group G           put the asset in group G (repeatable; the group must exist)\n"
	 "  --hostkey FILE      pin the host key from an OpenSSH .pub or known_hosts line\n"
	 "  --hostkey-scan      connect to the target now and pin the key it presents\n"},
	{"asset list", cmd_asset_list, SA, 1, "", "list assets", NULL},
	{"asset show", cmd_asset_show, SA, 1, "NAME", "show one asset", NULL},
	{"asset remove", cmd_asset_remove, SA, 1, "NAME", "remove an asset (the name stays reserved)", NULL},
	{"asset hostkey", cmd_asset_hostkey, SA, 1, "NAME (--file FILE | --scan)", "pin a new host key for an asset",
	 "  --file FILE         an OpenSSH public key line or a known_hosts line\n"
	 "  --scan              connect to the target and pin the key it presents\n"},
	{"account add", cmd_account_add, SA, 1, "ASSET LOGIN (--key FILE | --password-stdin)",
	 "store the credential of a login on an asset (encrypted at rest)",
	 "  --key FILE          an unencrypted OpenSSH or PEM private key\n"
	 "  --password-stdin    read the target password from one line of standard input\n"},
	{"account list", cmd_account_list, SA, 1, "[ASSET]", "list target accounts (never their secrets)", NULL},
	{"account remove", cmd_account_remove, SA, 1, "ASSET LOGIN", "remove a target account", NULL},
	{"grant add", cmd_grant_add, SA, 1,
	 "(--user U | --group G) (--asset A | --asset-group AG) --login L [--rights R,...] [--expires ISO8601] "
	 "[--hours SPEC] [--from CIDR]... [--forward-to HOST:PORT]...",
	 "grant a user or group a login on an asset or asset group",
	 "  --rights R,...      shell,exec,upload,download,forward (default shell,exec,upload,download)\n"
	 "  --expires ISO8601   end of the grant, e.g. 2026-12-31 or 2026-12-31T18:00+08:00\n"
	 "  --hours SPEC        time windows in the configured time zone, e.g. 'Mon-Fri 09:00-18:00'\n"
	 "  --from CIDR         allowed source network (repeatable), e.g. 10.0.0.0/8\n"
	 "  --forward-to H:P    tunnel destination (ssh -L/-W, repeatable; needs the forward right),\n"
	 "                      reached from the target, e.g. 127.0.0.1:8080 or [::1]:5432\n"},
	{"grant list", cmd_grant_list, SA, 1, "[--user U] [--asset A]", "list grants", NULL},
	{"grant remove", cmd_grant_remove, SA, 1, "ID", "remove a grant", NULL},
	{"audit list", cmd_audit_list, SA | AU, 1, "[--since ISO8601] [--type T]", "list audit events",
	 "  --since ISO8601     only events at or after this time\n"
	 "  --type T            only this event type; 'user' matches every user.* type\n"},
	{"audit verify", cmd_audit_verify, AU, 1, "[--anchors FILE]", "verify the audit hash chain (and exported anchors)",
	 "  --anchors FILE      also check every anchor in FILE (syslog lines or JSON lines with\n"
	 "                      id and hash, as exported by audit.anchor messages) against the\n"
	 "                      database; local CLI only\n"},
	{"audit export", cmd_audit_export, AU, 1, "[--since ISO8601] [--type T]", "write audit events as JSON lines", NULL},
	{"compliance", cmd_compliance, SA | AU, 1, "[--json]",
	 "check the configuration and data against MLPS 2.0 level 3 (PASS/FAIL with evidence)",
	 "  exit 0 when every check passes, 1 otherwise; docs/compliance.md explains each check\n"},
	{"retention run", cmd_retention_run, 0, 1, "[--dry-run]",
	 "remove recordings, sessions and audit events older than retention_days (local CLI only)",
	 "  --dry-run           count what would be removed; remove nothing (still audited)\n"},
	{"session list", cmd_session_list, SA | AU | OP, 1, "[--user U] [--asset A] [--active]", "list sessions",
	 "  --user U            only sessions of user U\n"
	 "  --asset A           only sessions to asset A\n"
	 "  --active            only sessions still running\n"},
	{"session show", cmd_session_show, SA | AU | OP, 1, "ID", "show one session and its channels", NULL},
	{"kill", cmd_kill, SA | AU, 1, "SESSION [--reason TEXT]", "terminate a live session",
	 "  --reason TEXT       shown to the operator and kept in the session row\n"},
	{"play", cmd_play, AU | OP, 1, "SESSION [--channel N] [--max-idle SECONDS]",
	 "replay a recorded session (role shell over SSH)",
	 "  --channel N         the channel to show (default: every channel)\n"
	 "  --max-idle SECONDS  cap pauses at this many seconds (default 2)\n"},
	{"watch", cmd_watch, AU | OP, 1, "SESSION [--from start|now]", "follow a live session read-only (role shell over SSH)",
	 "  --from start|now    replay from the beginning, or show only what comes next (default now)\n"},
	{"verify", cmd_verify, AU | OP, 1, "SESSION", "verify a recording's hash chain against the session row", NULL},
	{"reveal", cmd_reveal, AU, 1, "SESSION --reason TEXT [--channel N] [--auditor NAME]",
	 "show the input typed without echo at a prompt for a secret, sealed in a recording (auditors; audited)",
	 "  --reason TEXT       why (kept in the recording.reveal audit event), required\n"
	 "  --channel N         only this channel\n"
	 "  --auditor NAME      on the bastion's command line: the auditor account doing it; its password\n"
	 "                      and a TOTP code are read from the terminal (or two lines of standard input)\n"},
	{"cmdrule add", cmd_cmdrule_add, SA, 1,
	 "--pattern REGEX --action block|alert [--user U | --group G] [--asset A | --asset-group AG] [--priority N]",
	 "add a command rule (block or alert on commands matching a POSIX extended regex)",
	 "  --pattern REGEX     POSIX extended regular expression, matched anywhere in the command\n"
	 "                      (anchor with ^ and $); tested at Enter for interactive shells\n"
	 "  --action A          block: the command never reaches the target; alert: it runs and\n"
	 "                      a high-importance audit event goes out at once\n"
	 "  --user U, --group G whom it applies to (default everyone)\n"
	 "  --asset A, --asset-group AG  where it applies (default every asset)\n"
	 "  --priority N        lower first (default 100); the first matching rule decides\n"},
	{"cmdrule list", cmd_cmdrule_list, SA | AU, 1, "", "list command rules in decision order", NULL},
	{"cmdrule remove", cmd_cmdrule_remove, SA, 1, "ID", "remove a command rule", NULL},
	{"command list", cmd_command_list, SA | AU | OP, 1,
	 "[--session ID] [--user U] [--asset A] [--since T] [--until T] [--grep REGEX] [--uncertain]",
	 "list the commands of sessions (exec and interactive)",
	 "  --session ID        only this session (ID from 'session list')\n"
	 "  --user U            only commands of user U\n"
	 "  --asset A           only commands on asset A\n"
	 "  --since T, --until T  ISO 8601 times (UTC unless an offset is given), inclusive\n"
	 "  --grep REGEX        only commands matching this POSIX extended regex\n"
	 "  --uncertain         only commands whose text is not certain (typed without echo, in the\n"
	 "                      alternate screen ...: the reason column says why)\n"
	 "  The FROM column is the offset in the session: gatehouse-play SESSION --from FROM\n"},
};
/* clang-format on */
const size_t admin_commands_count = sizeof(admin_commands) / sizeof(admin_commands[0]);

/* Number of words of cmd->name matched by argv, or 0 when it does not match. */
static int
match_words(const char *name, int argc, char **argv)
{
	int k = 0;
	const char *p = name;

	while (*p != '\0') {
		size_t len = strcspn(p, " ");

		if (k >= argc || strlen(argv[k]) != len || strncmp(argv[k], p, len) != 0)
			return 0;
		k++;
		p += len;
		while (*p == ' ')
			p++;
	}
	return k;
}

static int
role_allows(const struct admin_ctx *ctx, const struct admin_cmd *cmd)
{
	return ctx->local_root || (cmd->roles & ADMIN_ROLE_BIT(ctx->role)) != 0;
}

void
admin_print_commands(FILE *f, const struct admin_ctx *ctx)
{
	for (size_t i = 0; i < admin_commands_count; i++) {
		if (!role_allows(ctx, &admin_commands[i]))
			continue;
		fprintf(f, "  %-20s %s\n", admin_commands[i].name, admin_commands[i].summary);
	}
}

static void
print_cmd_help(struct admin_ctx *ctx, const struct admin_cmd *cmd)
{
	fprintf(ctx->out, "usage: %s %s %s\n\n%s.\n", ctx->prog, cmd->name, cmd->usage, cmd->summary);
	if (cmd->help != NULL)
		fprintf(ctx->out, "\noptions:\n%s", cmd->help);
	fprintf(ctx->out, "\nSee docs/admin.md for examples.\n");
}

/* Whether word is the first word of some command ("user"). */
static int
is_object_word(const struct admin_ctx *ctx, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i < admin_commands_count; i++)
		if (strncmp(admin_commands[i].name, word, wl) == 0 && admin_commands[i].name[wl] == ' ' &&
		    role_allows(ctx, &admin_commands[i]))
			return 1;
	return 0;
}

/* Commands of an object word, for a bare or unknown subcommand. */
static void
print_object_commands(const struct admin_ctx *ctx, FILE *f, const char *word)
{
	size_t wl = strlen(word);

	fprintf(f, "commands:\n");
	for (size_t i = 0; i < admin_commands_count; i++) {
		const struct admin_cmd *c = &admin_commands[i];

		if (strncmp(c->name, word, wl) == 0 && c->name[wl] == ' ' && role_allows(ctx, c))
			fprintf(f, "  %s %s\n", c->name, c->usage);
	}
}

int
admin_dispatch(struct admin_ctx *ctx, int argc, char **argv)
{
	const struct admin_cmd *best = NULL;
	char **args = NULL;
	int best_k = 0, nargs = 0, r = ADMIN_EXIT_FAIL, help = 0;

	if (argc < 1)
		return admin_usage(ctx, NULL, "no command given (try --help)");
	for (size_t i = 0; i < admin_commands_count; i++) {
		int k = match_words(admin_commands[i].name, argc, argv);

		if (k > best_k) {
			best_k = k;
			best = &admin_commands[i];
		}
	}
	if (best == NULL) {
		int asks_help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);

		if (!is_object_word(ctx, argv[0]))
			return admin_usage(ctx, NULL, "unknown command '%s' (try --help)", argv[0]);
		if (asks_help) {
			print_object_commands(ctx, ctx->out, argv[0]);
			return ADMIN_EXIT_OK;
		}
		if (argc > 1)
			admin_usage(ctx, NULL, "unknown command '%s %s'", argv[0], argv[1]);
		else
			admin_usage(ctx, NULL, "'%s' needs a subcommand", argv[0]);
		print_object_commands(ctx, ctx->err, argv[0]);
		return ADMIN_EXIT_USAGE;
	}
	if (!role_allows(ctx, best)) {
		if (ctx->st != NULL) {
			char obj[64];

			snprintf(obj, sizeof(obj), "command:%s", best->name);
			admin_audit(ctx, "command.denied", obj, "denied", AUDIT_NOTICE, NULL);
		}
		return admin_fail(ctx, "'%s' is not permitted for role %s", best->name, user_role_name(ctx->role));
	}
	/* argv for the command: its last name word, then the rest; "--json" is
	 * accepted anywhere and "--help" anywhere before "--". */
	if ((args = calloc((size_t)argc + 1, sizeof(*args))) == NULL)
		return admin_fail(ctx, "out of memory");
	args[nargs++] = argv[best_k - 1];
	for (int i = best_k, dashdash = 0; i < argc; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0)
			dashdash = 1;
		if (!dashdash && strcmp(argv[i], "--json") == 0) {
			ctx->json = 1;
			continue;
		}
		if (!dashdash && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0))
			help = 1;
		args[nargs++] = argv[i];
	}
	if (help) {
		print_cmd_help(ctx, best);
		r = ADMIN_EXIT_OK;
		goto out;
	}
	if (best->needs_store && ctx->st == NULL && admin_open_store(ctx) != 0) {
		r = ADMIN_EXIT_FAIL;
		goto out;
	}
	r = best->run(ctx, nargs, args);
out:
	free(args);
	return r;
}
