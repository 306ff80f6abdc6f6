#define _XOPEN_SOURCE 700
#include "common/privdrop.h"

#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "common/err.h"

int
priv_service_user(uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(PRIV_SERVICE_USER);

	if (pw == NULL)
		return ERR_NOTFOUND;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
priv_drop(uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
		return ERR_DENIED;
	/* A drop that can be undone is no drop. */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return ERR_INTERNAL;
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
		return ERR_INTERNAL;
	return 0;
}

/* nftw has no user argument: the target ids live here for the walk. */
static uid_t chown_uid;
static gid_t chown_gid;

static int
chown_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return lchown(path, chown_uid, chown_gid) == 0 ? 0 : -1;
}

int
priv_chown_tree(const char *dir, uid_t uid, gid_t gid)
{
	chown_uid = uid;
	chown_gid = gid;
	return nftw(dir, chown_entry, 16, FTW_PHYS) == 0 ? 0 : ERR_IO;
}
