/* libFuzzer target for gatehouse.conf parsing (config_load over inih). The
 * input is written to an in-memory file reached through /proc/self/fd, so
 * the real file-reading path is exercised. Checks that a load either fails
 * with "PATH:..." or yields values inside every documented bound. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/config.h"
#include "common/err.h"

static int memfd = -1;
static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_config c;
	char err[512];
	int r;

	if (memfd < 0) {
		memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	config_defaults(&c);
	r = config_load(path, &c, err, sizeof(err));
	if (r == 0) {
		if (c.port < 1 || c.port > 65535 || c.retention_days < 1 || c.max_auth_tries < 1 ||
		    c.password_history < 0 ||
		    (c.password_policy != PW_PROFILE_MLPS && c.password_policy != PW_PROFILE_NIST) ||
		    (c.audit_syslog != 0 && c.audit_syslog != 1) || (c.recording_fail_open & ~1) != 0)
			abort();
		if (c.listen_address == NULL || c.timezone == NULL || c.audit_jsonl == NULL || c.pam_confdir == NULL)
			abort();
	} else {
		if (r != ERR_INVALID && r != ERR_NOMEM && r != ERR_IO)
			abort();
		if (strncmp(err, path, strlen(path)) != 0 || err[strlen(path)] != ':')
			abort();
	}
	config_free(&c);
	return 0;
}
