/* gatehouse-admin: the local administration CLI. Global options, the actor
 * for the audit trail, then the shared command table (admin/cmd.c). */
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "admin/cmd.h"
#include "common/actor.h"
#include "common/err.h"
#include "common/log.h"
#include "common/privdrop.h"

#define GATEHOUSE_VERSION "0.1.0"
#define DEFAULT_DATA_DIR  "/var/lib/gatehouse"

static void
usage(FILE *f, const struct admin_ctx *ctx)
{
	fprintf(f, "usage: gatehouse-admin [-d DIR] [--json] COMMAND [ARGS]\n"
	           "\n"
	           "Administer a Gatehouse bastion: users, groups, assets, target accounts,\n"
	           "grants, sessions and the audit trail.\n"
	           "\n"
	           "options:\n"
	           "  -d, --dir DIR   data directory (default $GATEHOUSE_DIR or " DEFAULT_DATA_DIR ")\n"
	           "  --json          machine-readable output for list and show commands\n"
	           "  -h, --help      this help; 'gatehouse-admin COMMAND --help' for a command\n"
	           "  --version       print the version\n"
	           "\n"
	           "commands:\n");
	admin_print_commands(f, ctx);
	fprintf(f, "\nExit status: 0 success, 1 failure, 2 usage error. See docs/admin.md.\n");
}

/* --password-stdin: one line of standard input, without its line end. When
 * standard input is a terminal, prompt on stderr and turn echo off so the
 * password does not appear on the screen. */
static int
read_secret_stdin(struct admin_ctx *ctx, const char *prompt, char *buf, size_t len)
{
	struct termios saved, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	int r = 0;
	size_t n;

	if (tty) {
		fprintf(ctx->err, "%s", prompt);
		fflush(ctx->err);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	if (fgets(buf, (int)len, stdin) == NULL) {
		r = ERR_INVALID;
		goto out;
	}
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == len - 1 && !feof(stdin)) {
		r = ERR_FULL; /* the line did not fit */
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (n == 0)
		r = ERR_INVALID;
out:
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fputc('\n', ctx->err);
	}
	return r;
}

/* A data directory initialised by root belongs to the service user when it
 * exists (contrib/install-deps.sh creates it), since the daemon drops to it.
 * Later root-run commands need no such care: SQLite gives the -wal and -shm
 * files it creates as root the owner of the database file. */
static int
give_to_service_user(const char *dir)
{
	struct stat sb;
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0 || priv_service_user(&uid, &gid) != 0)
		return ADMIN_EXIT_OK;
	if (stat(dir, &sb) != 0 || sb.st_uid != 0)
		return ADMIN_EXIT_OK; /* init --help, or not ours to give */
	if (priv_chown_tree(dir, uid, gid) != 0) {
		fprintf(stderr, "gatehouse-admin: cannot give %s to user %s\n", dir, PRIV_SERVICE_USER);
		return ADMIN_EXIT_FAIL;
	}
	return ADMIN_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	        {"dir", required_argument, NULL, 'd'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	struct admin_ctx ctx;
	char *actor = NULL;
	const char *env;
	int c, is_init, r = ADMIN_EXIT_FAIL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.prog = "gatehouse-admin";
	ctx.out = stdout;
	ctx.err = stderr;
	ctx.source = "cli";
	ctx.local_root = 1;
	ctx.role = ROLE_SUPERADMIN;
	ctx.read_secret = read_secret_stdin;
	env = getenv("GATEHOUSE_DIR");
	ctx.data_dir = env != NULL && env[0] != '\0' ? env : DEFAULT_DATA_DIR;
	log_init("gatehouse-admin", 1, LOG_LEVEL_INFO);

	opterr = 0;
	/* '+': stop at the command word; its own options are parsed later. */
	while ((c = getopt_long(argc, argv, "+:d:hV", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': ctx.data_dir = optarg; break;
		case 'j': ctx.json = 1; break;
		case 'h': usage(stdout, &ctx); return ADMIN_EXIT_OK;
		case 'V': printf("gatehouse-admin " GATEHOUSE_VERSION "\n"); return ADMIN_EXIT_OK;
		case ':':
			fprintf(stderr, "gatehouse-admin: option '%s' needs a value\n", argv[optind - 1]);
			usage(stderr, &ctx);
			return ADMIN_EXIT_USAGE;
		default:
			fprintf(stderr, "gatehouse-admin: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr, &ctx);
			return ADMIN_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "gatehouse-admin: no command given\n");
		usage(stderr, &ctx);
		return ADMIN_EXIT_USAGE;
	}
	if ((actor = actor_local()) == NULL) {
		fprintf(stderr, "gatehouse-admin: out of memory\n");
		return ADMIN_EXIT_FAIL;
	}
	ctx.actor = actor;
	is_init = strcmp(argv[optind], "init") == 0;
	r = admin_dispatch(&ctx, argc - optind, argv + optind);
	if (is_init && r == ADMIN_EXIT_OK)
		r = give_to_service_user(ctx.data_dir);
	admin_ctx_release(&ctx);
	free(actor);
	if (fflush(stdout) != 0 && r == ADMIN_EXIT_OK)
		r = ADMIN_EXIT_FAIL;
	return r;
}
