/* gatehoused: the SSH bastion daemon (see docs/gatehoused.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libssh/libssh.h>

#include "auth/totp.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "proxy/listener.h"
#include "proxy/startup.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: gatehoused -d DIR [-c CONFIG] [-l ADDR] [-p PORT] [-f] [-v]\n"
	             "  -d DIR     data directory (gatehouse.db, host key, master key, recordings/)\n"
	             "  -c CONFIG  configuration file (default DIR/gatehouse.conf)\n"
	             "  -l ADDR    listen address (overrides listen_address)\n"
	             "  -p PORT    listen port (overrides port)\n"
	             "  -f         stay in the foreground and log to stderr (otherwise syslog)\n"
	             "  -v         verbose logging (twice: debug)\n"
	             "Signals: SIGTERM/SIGINT stop accepting, warn live sessions and end them after\n"
	             "shutdown_grace seconds.\n");
}

int
main(int argc, char **argv)
{
	struct gh_config cfg;
	const char *datadir = NULL, *conf = NULL, *addr = NULL;
	char confpath[4096], err[512];
	struct stat sb;
	int opt, port = 0, foreground = 0, verbosity = 0, r;
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

	while ((opt = getopt_long(argc, argv, "d:c:l:p:fvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd': datadir = optarg; break;
		case 'c': conf = optarg; break;
		case 'l': addr = optarg; break;
		case 'p':
			port = atoi(optarg);
			if (port <= 0 || port > 65535) {
				fprintf(stderr, "gatehoused: bad port %s\n", optarg);
				return 2;
			}
			break;
		case 'f': foreground = 1; break;
		case 'v': verbosity++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (datadir == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("gatehoused", foreground,
	         verbosity >= 2   ? LOG_LEVEL_DEBUG
	         : verbosity == 1 ? LOG_LEVEL_VERBOSE
	                          : LOG_LEVEL_INFO);
	if (stat(datadir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		fatal("data directory %s does not exist (create it with gatehouse-admin -d DIR init)", datadir);
	if (conf == NULL) {
		snprintf(confpath, sizeof(confpath), "%s/gatehouse.conf", datadir);
		conf = confpath;
	}
	config_defaults(&cfg);
	if ((r = config_load(conf, &cfg, err, sizeof(err))) != 0)
		fatal("%s", err[0] ? err : gh_strerror(r));
	if (addr != NULL) {
		free(cfg.listen_address);
		if ((cfg.listen_address = strdup(addr)) == NULL)
			fatal("out of memory");
	}
	if (port != 0)
		cfg.port = port;
	if (ssh_init() != SSH_OK || totp_init() != 0)
		fatal("library initialisation failed");
	/* Before detaching and before listening: a data directory the daemon
	 * cannot use is an error the person starting it must see. */
	if (startup_check(&cfg, datadir, err, sizeof(err)) != 0) {
		if (!foreground)
			fprintf(stderr, "gatehoused: %s\n", err);
		fatal("%s", err);
	}
	if (!foreground && daemon(0, 0) != 0)
		fatal("daemon: cannot detach");
	r = listener_run(&cfg, datadir);
	config_free(&cfg);
	ssh_finalize();
	return r;
}
