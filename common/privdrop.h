/* Running as the service user. The data directory belongs to the unprivileged
 * `gatehouse` user: `init` run by root hands the new directory over to it,
 * and the daemon started as root drops to it after binding. */
#ifndef GH_PRIVDROP_H
#define GH_PRIVDROP_H

#include <sys/types.h>

#define PRIV_SERVICE_USER "gatehouse"

/* uid/gid of the service user; ERR_NOTFOUND when it does not exist. */
int priv_service_user(uid_t *uid, gid_t *gid);
/* Permanently become uid/gid (supplementary groups reset to gid). Verifies
 * that root cannot be regained. */
int priv_drop(uid_t uid, gid_t gid);
/* lchown every entry under dir (dir included), not following symlinks. */
int priv_chown_tree(const char *dir, uid_t uid, gid_t gid);

#endif
