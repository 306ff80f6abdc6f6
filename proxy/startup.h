/* Start-up checks of gatehoused: the data directory must be usable by the
 * identity the daemon will run as, or the daemon exits before it listens
 * (a daemon that accepts connections it cannot serve is worse than none). */
#ifndef GH_PROXY_STARTUP_H
#define GH_PROXY_STARTUP_H

#include <stddef.h>

#include "common/config.h"

/* Checks, as the identity the connection processes will have (the service
 * user when started as root, checked in a forked child that drops to it):
 * the data directory is owned by the service user (root only), the host key
 * loads, the data directory can be reached (else: which parent directory
 * the identity may not enter), the database opens and takes a write lock,
 * the master key loads,
 * recordings/ accepts a new file (only a warning with recording_failure =
 * open: sessions then run unrecorded, as configured). Returns 0, or a
 * negative enum gh_err with one line for the operator in msg. */
int startup_check(const struct gh_config *cfg, const char *datadir, char *msg, size_t msglen);

#endif
