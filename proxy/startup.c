/* Start-up checks (see startup.h). Before this, a data directory left owned
 * by root made every connection process fail to open the database while the
 * daemon went on listening and logging. */
#include "proxy/startup.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <sqlite3.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/secret.h"
#include "common/store.h"

#define STARTUP_MASTER_KEY "master.key"

static int
check_host_key(const struct gh_config *cfg, const char *datadir, char *msg, size_t msglen)
{
	const char *hk = cfg->host_key != NULL ? cfg->host_key : "ssh_host_ed25519_key";
	char path[4096];
	ssh_key key = NULL;

	if (hk[0] == '/')
		snprintf(path, sizeof(path), "%s", hk);
	else
		snprintf(path, sizeof(path), "%s/%s", datadir, hk);
	if (access(path, R_OK) != 0) {
		snprintf(msg, msglen, "cannot read the host key %s: %s", path, strerror(errno));
		return ERR_IO;
	}
	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
		snprintf(msg, msglen, "cannot load the host key %s (not a private key?)", path);
		return ERR_INVALID;
	}
	ssh_key_free(key);
	return 0;
}

/* The data directory can be reached and used by this identity. A parent
 * it may not enter made SQLite say only "input/output error" about the
 * database: find the directory that stops it and say so. */
static int
check_reachable(const char *datadir, char *msg, size_t msglen)
{
	char path[4096], cwd[4096], blocker[4096] = "/", who[96];
	const struct passwd *pw = getpwuid(getuid());
	struct stat sb;
	size_t i, len;
	int n;

	snprintf(who, sizeof(who), "user %s (uid %u)", pw != NULL ? pw->pw_name : "?", (unsigned)getuid());
	if (stat(datadir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			snprintf(msg, msglen, "the data directory %s is not a directory", datadir);
			return ERR_INVALID;
		}
		if (access(datadir, R_OK | W_OK | X_OK) != 0) {
			snprintf(msg, msglen,
			         "%s may not read, write and enter the data directory %s (mode %04o, owner uid %u)",
			         who, datadir, (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid);
			return ERR_DENIED;
		}
		return 0;
	}
	if (errno != EACCES) {
		snprintf(msg, msglen, "cannot stat the data directory %s: %s", datadir, strerror(errno));
		return ERR_IO;
	}
	/* Walk down from / to the first component we cannot stat: its parent
	 * is the directory we may not enter. */
	if (datadir[0] == '/')
		n = snprintf(path, sizeof(path), "%s", datadir);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		n = snprintf(path, sizeof(path), "%s/%s", cwd, datadir);
	else
		n = -1;
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(msg, msglen, "cannot reach the data directory %s: %s", datadir, strerror(EACCES));
		return ERR_DENIED;
	}
	len = (size_t)n;
	for (i = 1; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		path[i] = '\0';
		if (stat(path, &sb) != 0) {
			struct stat pb;

			if (stat(blocker, &pb) != 0)
				memset(&pb, 0, sizeof(pb));
			snprintf(msg, msglen,
			         "cannot reach the data directory %s: %s may not enter %s (mode %04o, owner uid %u); "
			         "give it search permission there, or move the data directory",
			         datadir, who, blocker, (unsigned)(pb.st_mode & 07777), (unsigned)pb.st_uid);
			return ERR_DENIED;
		}
		snprintf(blocker, sizeof(blocker), "%s", path);
		if (i < len)
			path[i] = '/';
	}
	snprintf(msg, msglen, "cannot reach the data directory %s: %s", datadir, strerror(EACCES));
	return ERR_DENIED;
}

/* What the connection processes need from the data directory. */
static int
check_recordings(const char *datadir, char *msg, size_t msglen)
{
	struct stat sb;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/recordings", datadir);
	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(msg, msglen, "the recordings directory %s does not exist", path);
		return ERR_NOTFOUND;
	}
	snprintf(path, sizeof(path), "%s/recordings/.startup-probe-XXXXXX", datadir);
	if ((fd = mkstemp(path)) < 0) {
		snprintf(msg, msglen, "cannot create a file in %s/recordings: %s", datadir, strerror(errno));
		return ERR_IO;
	}
	close(fd);
	unlink(path);
	return 0;
}

/* The recording-seal key pair (common/seal.h): `gatehouse-admin init`
 * makes it; a data directory from before schema version 8 gets it here, on
 * the first start after the upgrade (a migration has no master key). */
static int
ensure_seal_key(struct store *st, const struct secret_key *mk, char *msg, size_t msglen)
{
	struct seal_key_rec k;
	struct audit_event ev;
	char detail[96];
	int created = 0, r;

	if ((r = store_seal_ensure(st, mk, &k, &created)) != 0) {
		snprintf(msg, msglen, "cannot make the recording-seal key: %s", gh_strerror(r));
		return r;
	}
	if (!created)
		return 0;
	snprintf(detail, sizeof(detail), "{\"key_id\":\"%s\"}", k.key_id);
	memset(&ev, 0, sizeof(ev));
	ev.actor = "system";
	ev.source = "gatehoused";
	ev.type = "seal.key_create";
	ev.object = "seal_key";
	ev.result = "ok";
	ev.importance = AUDIT_NOTICE;
	ev.detail = detail;
	if ((r = audit_append(st, &ev, NULL)) != 0) {
		snprintf(msg, msglen, "cannot audit the new recording-seal key: %s", gh_strerror(r));
		return r;
	}
	info("made the recording-seal key %s", k.key_id);
	return 0;
}

static int
check_data(const char *datadir, int rec_fail_open, char *msg, size_t msglen)
{
	struct store *st = NULL;
	struct secret_key *mk = NULL;
	char path[4096];
	int r;

	if ((r = check_reachable(datadir, msg, msglen)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/gatehouse.db", datadir);
	if ((r = store_open(path, 0, &st)) != 0) {
		snprintf(msg, msglen, "cannot open the database %s: %s", path, gh_strerror(r));
		return r;
	}
	/* SQLite opens a file it cannot write read-only without a word: only
	 * taking the write lock (which also needs the -wal and -shm files)
	 * proves that sessions and audit events can be written. */
	if (sqlite3_db_readonly(store_db(st), "main") != 0)
		r = ERR_DENIED;
	else if ((r = store_begin(st)) == 0)
		r = store_rollback(st);
	if (r != 0) {
		snprintf(msg, msglen, "cannot write the database %s: %s", path, gh_strerror(r));
		store_close(st);
		return r;
	}
	snprintf(path, sizeof(path), "%s/%s", datadir, STARTUP_MASTER_KEY);
	if ((r = secret_key_load(path, &mk)) != 0) {
		snprintf(msg, msglen, "cannot load the master key %s: %s", path, gh_strerror(r));
		store_close(st);
		return r;
	}
	r = ensure_seal_key(st, mk, msg, msglen);
	secret_key_free(mk);
	store_close(st);
	if (r != 0)
		return r;
	if ((r = check_recordings(datadir, msg, msglen)) != 0 && rec_fail_open) {
		/* The administrator chose to let sessions run unrecorded rather
		 * than refuse them: say it loudly, but start. */
		error("%s: sessions will run unrecorded (recording_failure = open)", msg);
		msg[0] = '\0';
		r = 0;
	}
	return r;
}

/* Root: the checks run in a child that has dropped to the service user, so
 * they see exactly what the connection processes will see; the child sends
 * its one line back through a pipe. */
static int
check_as(uid_t uid, gid_t gid, const char *datadir, int rec_fail_open, char *msg, size_t msglen)
{
	int p[2], status = 0, r;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	if (pipe(p) != 0) {
		snprintf(msg, msglen, "pipe: %s", strerror(errno));
		return ERR_IO;
	}
	if ((pid = fork()) < 0) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return ERR_IO;
	}
	if (pid == 0) {
		char line[512] = "";

		close(p[0]);
		if ((r = priv_drop(uid, gid)) != 0)
			snprintf(line, sizeof(line), "cannot drop privileges to %s: %s", PRIV_SERVICE_USER,
			         gh_strerror(r));
		else
			r = check_data(datadir, rec_fail_open, line, sizeof(line));
		if (r != 0 && write(p[1], line, strlen(line)) < 0)
			r = ERR_IO;
		_exit(r != 0 ? 1 : 0);
	}
	close(p[1]);
	msg[0] = '\0';
	while (got + 1 < msglen && (n = read(p[0], msg + got, msglen - got - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	msg[got] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (msg[0] == '\0')
		snprintf(msg, msglen, "the start-up check of the data directory failed");
	return ERR_DENIED;
}

int
startup_check(const struct gh_config *cfg, const char *datadir, char *msg, size_t msglen)
{
	struct stat sb;
	uid_t uid;
	gid_t gid;
	int r;

	msg[0] = '\0';
	if ((r = check_host_key(cfg, datadir, msg, msglen)) != 0)
		return r;
	if (getuid() != 0 && geteuid() != 0)
		return check_data(datadir, cfg->recording_fail_open, msg, msglen);
	if ((r = priv_service_user(&uid, &gid)) != 0) {
		snprintf(msg, msglen, "running as root and the service user %s does not exist", PRIV_SERVICE_USER);
		return r;
	}
	if (stat(datadir, &sb) != 0) {
		snprintf(msg, msglen, "cannot stat the data directory %s: %s", datadir, strerror(errno));
		return ERR_IO;
	}
	if (sb.st_uid != uid) {
		snprintf(msg, msglen, "data directory %s is owned by uid %u, not by %s: run chown -R %s: %s", datadir,
		         (unsigned)sb.st_uid, PRIV_SERVICE_USER, PRIV_SERVICE_USER, datadir);
		return ERR_DENIED;
	}
	return check_as(uid, gid, datadir, cfg->recording_fail_open, msg, msglen);
}
