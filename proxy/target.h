/* The target selection syntax carried in the SSH user name:
 *
 *   alice                 -> user alice, no target (the menu)
 *   alice@web01           -> user alice, asset web01, the one login granted there
 *   alice@root@web01      -> user alice, login root, asset web01
 *
 * OpenSSH splits user and host at the LAST '@' of `ssh alice@root@web01@bastion`,
 * so the server receives "alice@root@web01" as the user name. The parser is pure
 * (no allocation, no I/O) so that it can be fuzzed; the components are then
 * validated as names (common/names.h) by the caller. */
#ifndef GH_PROXY_TARGET_H
#define GH_PROXY_TARGET_H

#include <stddef.h>

#define TARGET_NAME_MAX 128

struct target_spec {
	char user[TARGET_NAME_MAX];  /* the Gatehouse account */
	char login[TARGET_NAME_MAX]; /* target login, "" when not given */
	char asset[TARGET_NAME_MAX]; /* asset name, "" when not given (menu) */
};

/* 0, or ERR_INVALID when the string is empty, too long, has an empty
 * component, more than three components, or a byte outside printable ASCII. */
int target_spec_parse(const char *s, struct target_spec *out);

#endif
