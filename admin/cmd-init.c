/* init: create a data directory from nothing.
 *
 * Everything is checked before anything is created (an existing directory,
 * the admin name, the password, the TOTP secret), and on any later failure
 * everything init created is removed again: init either produces a complete
 * data directory or leaves the file system as it found it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libssh/libssh.h>

#include "admin/cmd.h"
#include "auth/password.h"
#include "auth/qr.h"
#include "auth/totp.h"
#include "common/err.h"
#include "common/secret.h"
#include "common/timeutil.h"

#define PW_MAX 1024

/* Files init creates inside the data directory, removed on failure. */
static const char *const created_files[] = {
        "gatehouse.conf", "master.key",       "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub",
        "gatehouse.db",   "gatehouse.db-wal", "gatehouse.db-shm",     "gatehouse.db-journal",
};

static void
undo_init(const char *dir)
{
	char path[4096];

	for (size_t i = 0; i < sizeof(created_files) / sizeof(created_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, created_files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/recordings", dir);
	rmdir(path);
	rmdir(dir);
}

static int
write_config(struct admin_ctx *ctx, const char *path)
{
	FILE *f = NULL;
	int fd, r = ERR_IO;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		admin_fail(ctx, "cannot create '%s': %s", path, strerror(errno));
		return ERR_IO;
	}
	r = config_write_default(f);
	if (fclose(f) != 0 && r == 0)
		r = ERR_IO;
	if (r != 0)
		admin_fail(ctx, "cannot write '%s': %s", path, gh_strerror(r));
	return r;
}

static int
write_host_key(struct admin_ctx *ctx, const char *dir, char **fp_out)
{
	char path[4096], pub[4200], *b64 = NULL, *line = NULL;
	ssh_key key = NULL;
	int r = ERR_INTERNAL;

	snprintf(path, sizeof(path), "%s/ssh_host_ed25519_key", dir);
	snprintf(pub, sizeof(pub), "%s.pub", path);
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		admin_fail(ctx, "cannot generate the ed25519 host key");
		goto out;
	}
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path) != SSH_OK || chmod(path, 0600) != 0) {
		admin_fail(ctx, "cannot write the host key '%s'", path);
		r = ERR_IO;
		goto out;
	}
	if (ssh_pki_export_pubkey_file(key, pub) != SSH_OK || chmod(pub, 0644) != 0) {
		admin_fail(ctx, "cannot write the host public key '%s'", pub);
		r = ERR_IO;
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK && asprintf(&line, "ssh-ed25519 %s", b64) >= 0)
		*fp_out = admin_pubkey_fingerprint(line);
	else
		line = NULL;
	r = 0;
out:
	free(line);
	free(b64);
	ssh_key_free(key);
	return r;
}

int
cmd_init(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_ADMIN, O_PWSTDIN, O_TOTP };
	static const struct admin_opt opts[] = {{"admin", 1, 0}, {"password-stdin", 0, 0}, {"totp-secret", 1, 0}, {0}};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_init);
	struct admin_args a;
	struct pw_policy pol;
	struct user_rec u;
	struct stat sb;
	char pw[PW_MAX], why[256] = "", path[4096], obj[128], seal_detail[64];
	struct seal_key_rec seal;
	char *hash = NULL, *b32 = NULL, *uri = NULL, *qr = NULL, *hostfp = NULL, *detail = NULL;
	uint8_t *totp = NULL;
	size_t totp_len = TOTP_SECRET_LEN;
	int64_t id = 0;
	const char *admin = "admin", *dir = ctx->data_dir;
	int r, ret = ADMIN_EXIT_FAIL, created = 0, generated = 0;
	json_t *dj = NULL;
	mode_t old_umask;

	pw[0] = '\0';
	memset(&u, 0, sizeof(u));
	old_umask = umask(077);
	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 0, &a)) != 0) {
		umask(old_umask);
		return r;
	}
	if (a.set[O_ADMIN])
		admin = a.val[O_ADMIN];
	config_defaults(&ctx->cfg);
	ctx->cfg_loaded = 1;
	/* ---- checks: nothing is created before they all pass ---- */
	if (lstat(dir, &sb) == 0) {
		admin_fail(ctx, "data directory '%s' already exists; init changes nothing", dir);
		goto out;
	}
	if (admin_check_name(ctx, NAME_USER, admin) != 0)
		goto out;
	if (a.set[O_TOTP]) {
		if (admin_totp_secret_decode(ctx, a.val[O_TOTP], &totp, &totp_len) != 0)
			goto out;
	} else {
		if ((totp = malloc(TOTP_SECRET_LEN)) == NULL || totp_secret_generate(totp, TOTP_SECRET_LEN) != 0) {
			admin_fail(ctx, "cannot generate a TOTP secret");
			goto out;
		}
	}
	if (a.set[O_PWSTDIN]) {
		if (admin_read_password(ctx, "Password: ", pw, sizeof(pw)) != 0)
			goto out;
	} else {
		if ((r = password_generate(pw, sizeof(pw))) != 0) {
			admin_fail(ctx, "cannot generate a password: %s", gh_strerror(r));
			goto out;
		}
		generated = 1;
	}
	password_policy_from_config(&ctx->cfg, &pol);
	if (password_check_policy(&pol, pw, admin, why, sizeof(why)) != 0) {
		admin_fail(ctx, "password refused: %s", why);
		goto out;
	}
	if ((r = password_hash(pw, &hash)) != 0 || (r = totp_base32_encode(totp, totp_len, &b32)) != 0 ||
	    (r = totp_uri(ctx->cfg.totp_issuer, admin, b32, &uri)) != 0 || (r = qr_render_text(uri, 0, &qr)) != 0) {
		admin_fail(ctx, "cannot prepare the administrator's credentials: %s", gh_strerror(r));
		goto out;
	}
	/* ---- creation ---- */
	if (mkdir(dir, 0700) != 0) {
		admin_fail(ctx,
		           errno == EEXIST ? "data directory '%s' already exists; init changes nothing"
		                           : "cannot create data directory '%s': %s",
		           dir, strerror(errno));
		goto out;
	}
	created = 1;
	if (chmod(dir, 0700) != 0) {
		admin_fail(ctx, "cannot set the mode of '%s': %s", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/gatehouse.conf", dir);
	if (write_config(ctx, path) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/master.key", dir);
	if ((r = secret_key_create(path)) != 0) {
		admin_fail(ctx, "cannot create the master key '%s': %s", path, gh_strerror(r));
		goto out;
	}
	if (write_host_key(ctx, dir, &hostfp) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/recordings", dir);
	if (mkdir(path, 0700) != 0) {
		admin_fail(ctx, "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/gatehouse.db", dir);
	if ((r = store_open(path, 1, &ctx->st)) != 0) {
		admin_fail(ctx, "cannot create the database '%s': %s", path, gh_strerror(r));
		goto out;
	}
	ctx->own_store = 1;
	u.name = (char *)admin;
	u.role = ROLE_SUPERADMIN;
	u.auth = USER_AUTH_LOCAL;
	u.pw_hash = hash;
	u.pw_changed = time_now();
	/* A generated password was shown on a terminal: it must be replaced.
	 * One from --password-stdin was chosen by a script and is final. */
	u.pw_temporary = generated;
	u.created = time_now();
	dj = json_pack("{s:s,s:i,s:b,s:o}", "admin", admin, "schema", store_schema_version(), "temporary_password",
	               generated, "host_key", out_str(hostfp));
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT) : NULL;
	snprintf(obj, sizeof(obj), "user:%s", admin);
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	r = store_user_add(ctx->st, &u, &id);
	if (r != 0)
		admin_fail(ctx, "cannot add the administrator '%s': %s", admin, gh_strerror(r));
	if (r == 0)
		r = admin_store_totp(ctx, id, totp, totp_len);
	if (r == 0)
		r = admin_audit_tx(ctx, "system.init", "system", "ok", AUDIT_HIGH, detail);
	if (r == 0)
		r = admin_audit_tx(ctx, "user.add", obj, "ok", AUDIT_HIGH, "{\"role\":\"superadmin\",\"totp\":true}");
	/* The key unechoed input at a prompt for a secret is sealed to in the
	 * recordings; only `reveal` opens it (common/seal.h). */
	if (r == 0 && (r = store_seal_create(ctx->st, admin_master_key(ctx), &seal)) != 0)
		admin_fail(ctx, "cannot make the recording-seal key: %s", gh_strerror(r));
	if (r == 0) {
		snprintf(seal_detail, sizeof(seal_detail), "{\"key_id\":\"%s\"}", seal.key_id);
		r = admin_audit_tx(ctx, "seal.key_create", "seal_key", "ok", AUDIT_NOTICE, seal_detail);
	}
	if (admin_end_tx(ctx, r) != 0)
		goto out;

	fprintf(ctx->out, "Initialised Gatehouse data directory %s\n\n", dir);
	fprintf(ctx->out, "Bootstrap superadmin: %s\n", admin);
	if (generated)
		fprintf(ctx->out,
		        "Temporary password (shown once, write it down; it must be changed at first login):\n"
		        "  %s\n\n",
		        pw);
	else
		fprintf(ctx->out, "Password: as given on standard input (not temporary)\n\n");
	fprintf(ctx->out,
	        "TOTP: add this account to an authenticator app now, by scanning the QR code\n"
	        "or by entering the URI below. Logins ask for the 6-digit code after the password.\n"
	        "  %s\n\n%s\n",
	        uri, qr);
	if (hostfp != NULL)
		fprintf(ctx->out, "Bastion host key: ssh-ed25519 %s\n", hostfp);
	ret = ADMIN_EXIT_OK;
out:
	if (ret != ADMIN_EXIT_OK && created) {
		store_close(ctx->st);
		ctx->st = NULL;
		ctx->own_store = 0;
		undo_init(dir);
		admin_fail(ctx, "init failed; removed the partly created '%s'", dir);
	}
	umask(old_umask);
	explicit_bzero(pw, sizeof(pw));
	admin_args_free(&a);
	if (totp != NULL)
		secret_free(totp, totp_len);
	if (b32 != NULL)
		secret_free(b32, strlen(b32));
	if (uri != NULL)
		secret_free(uri, strlen(uri));
	if (qr != NULL)
		secret_free(qr, strlen(qr));
	free(hash);
	free(hostfp);
	free(detail);
	json_decref(dj);
	return ret;
}
