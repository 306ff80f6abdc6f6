/* The listening daemon: bind, drop privileges, accept, fork one process per
 * connection, reap children, shut down on SIGTERM. It never parses SSH bytes. */
#ifndef GH_PROXY_LISTENER_H
#define GH_PROXY_LISTENER_H

#include "common/config.h"

/* Runs until SIGTERM/SIGINT. Returns the daemon's exit status. */
int listener_run(const struct gh_config *cfg, const char *datadir);

#endif
