/* account add | list | remove
 *
 * A target account is a login on an asset and the credential Gatehouse uses
 * for it (a private key or a password), sealed with the master key. Operators
 * never see it; neither does this command's output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libssh/libssh.h>

#include "admin/cmd.h"
#include "common/err.h"
#include "common/secret.h"

#define KEY_FILE_MAX  (64 * 1024)
#define TARGET_PW_MAX 1024

static const char *
kind_name(enum account_kind k)
{
	return k == ACCOUNT_KEY ? "key" : "password";
}

/* Passphrase callback that always refuses: without it, libssh lets OpenSSL
 * prompt on /dev/tty for an encrypted PEM key. */
static int
refuse_passphrase(const char *prompt, char *buf, size_t len, int echo, int verify, void *userdata)
{
	return -1;
}

/* Check that text is a private key libssh can use without a passphrase;
 * describe it in desc ("ssh-ed25519 SHA256:..."). */
static int
check_private_key(const char *text, char *desc, size_t desclen)
{
	ssh_key key = NULL, pub = NULL;
	char *b64 = NULL, *line = NULL, *fp = NULL;
	int r = ERR_INVALID;

	if (ssh_pki_import_privkey_base64(text, NULL, refuse_passphrase, NULL, &key) != SSH_OK ||
	    !ssh_key_is_private(key))
		goto out;
	if (ssh_pki_export_privkey_to_pubkey(key, &pub) != SSH_OK || ssh_pki_export_pubkey_base64(pub, &b64) != SSH_OK)
		goto out;
	if (asprintf(&line, "%s %s", ssh_key_type_to_char(ssh_key_type(pub)), b64) < 0) {
		line = NULL;
		goto out;
	}
	fp = admin_pubkey_fingerprint(line);
	snprintf(desc, desclen, "%s %s", ssh_key_type_to_char(ssh_key_type(pub)), fp != NULL ? fp : "?");
	r = 0;
out:
	free(fp);
	free(line);
	free(b64);
	ssh_key_free(pub);
	ssh_key_free(key);
	return r;
}

int
cmd_account_add(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_KEY, O_PWSTDIN };
	static const struct admin_opt opts[] = {{"key", 1, 0}, {"password-stdin", 0, 0}, {0}};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_account_add);
	const struct secret_key *key = NULL;
	struct admin_args a;
	struct asset_rec *as = NULL;
	struct account_rec *old = NULL;
	char obj[256], pw[TARGET_PW_MAX], desc[256] = "", *keytext = NULL, *detail = NULL;
	size_t keylen = 0;
	int64_t id = 0;
	json_t *dj = NULL;
	int r, ret = ADMIN_EXIT_FAIL;
	enum account_kind kind;

	pw[0] = '\0';
	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 2, &a)) != 0)
		return r;
	if (a.npos != 2) {
		ret = admin_usage(ctx, cmd, "missing %s", a.npos == 0 ? "ASSET and LOGIN" : "LOGIN");
		goto out;
	}
	if (a.set[O_KEY] == a.set[O_PWSTDIN]) {
		ret = admin_usage(ctx, cmd, "give exactly one of --key FILE or --password-stdin");
		goto out;
	}
	kind = a.set[O_KEY] ? ACCOUNT_KEY : ACCOUNT_PASSWORD;
	if (admin_check_name(ctx, NAME_LOGIN, a.pos[1]) != 0 || admin_find_asset(ctx, a.pos[0], &as) != 0)
		goto out;
	snprintf(obj, sizeof(obj), "account:%s@%s", a.pos[1], as->name);
	if (store_account_get(ctx->st, as->id, a.pos[1], &old) == 0) {
		ret = admin_refuse(ctx, "account.add", obj, AUDIT_NOTICE,
		                   "account '%s' on asset '%s' already exists (remove it first to replace it)",
		                   a.pos[1], as->name);
		goto out;
	}
	if (kind == ACCOUNT_KEY) {
		if ((r = admin_read_file(a.val[O_KEY], KEY_FILE_MAX, &keytext, &keylen)) != 0) {
			admin_fail(ctx, "cannot read private key file '%s': %s", a.val[O_KEY], gh_strerror(r));
			goto out;
		}
		if (check_private_key(keytext, desc, sizeof(desc)) != 0) {
			admin_fail(ctx,
			           "private key file '%s' does not parse: it must be an unencrypted OpenSSH or PEM "
			           "private key",
			           a.val[O_KEY]);
			goto out;
		}
	} else if (admin_read_password(ctx, "Target password: ", pw, sizeof(pw)) != 0)
		goto out;
	if ((key = admin_master_key(ctx)) == NULL)
		goto out;
	dj = json_pack("{s:s,s:s,s:s}", "asset", as->name, "login", a.pos[1], "kind", kind_name(kind));
	if (dj != NULL && desc[0] != '\0')
		json_object_set_new(dj, "key", json_string(desc));
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT) : NULL;
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	if (kind == ACCOUNT_KEY)
		r = store_account_add(ctx->st, key, as->id, a.pos[1], kind, (const uint8_t *)keytext, keylen, &id);
	else
		r = store_account_add(ctx->st, key, as->id, a.pos[1], kind, (const uint8_t *)pw, strlen(pw), &id);
	if (r != 0)
		admin_fail(ctx, "cannot add account '%s' on '%s': %s", a.pos[1], as->name, gh_strerror(r));
	else
		r = admin_audit_tx(ctx, "account.add", obj, "ok", AUDIT_HIGH, detail);
	if (admin_end_tx(ctx, r) != 0)
		goto out;
	fprintf(ctx->out, "account '%s' on asset '%s' added (%s%s%s, encrypted at rest)\n", a.pos[1], as->name,
	        kind_name(kind), desc[0] != '\0' ? " " : "", desc);
	ret = ADMIN_EXIT_OK;
out:
	explicit_bzero(pw, sizeof(pw));
	if (keytext != NULL)
		secret_free(keytext, keylen);
	admin_args_free(&a);
	asset_rec_free(as);
	account_rec_free(old);
	free(detail);
	json_decref(dj);
	return ret;
}

int
cmd_account_list(struct admin_ctx *ctx, int argc, char **argv)
{
	static const struct out_col cols[] = {
	        {"asset", "ASSET"}, {"login", "LOGIN"}, {"kind", "KIND"}, {"created", "CREATED"}};
	struct admin_args a;
	struct asset_rec *as = NULL;
	struct account_rec **list = NULL;
	size_t n = 0;
	json_t *rows;
	int r;

	if ((r = admin_parse(ctx, admin_cmd_by_run(cmd_account_list), argc, argv, NULL, 1, &a)) != 0)
		return r;
	admin_args_free(&a);
	if (a.npos == 1 && admin_find_asset(ctx, a.pos[0], &as) != 0)
		return ADMIN_EXIT_FAIL;
	r = store_account_list(ctx->st, as != NULL ? as->id : 0, &list, &n);
	asset_rec_free(as);
	if (r != 0)
		return admin_fail(ctx, "cannot list accounts: %s", gh_strerror(r));
	rows = json_array();
	for (size_t i = 0; rows != NULL && i < n; i++)
		json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:o}", "asset", list[i]->asset_name, "login",
		                                      list[i]->login, "kind", kind_name(list[i]->kind), "created",
		                                      out_time(list[i]->created)));
	account_rec_list_free(list, n);
	return out_table(ctx, cols, sizeof(cols) / sizeof(cols[0]), rows);
}

int
cmd_account_remove(struct admin_ctx *ctx, int argc, char **argv)
{
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_account_remove);
	struct admin_args a;
	struct asset_rec *as = NULL;
	struct account_rec *acc = NULL;
	char obj[256];
	int r, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, cmd, argc, argv, NULL, 2, &a)) != 0)
		return r;
	admin_args_free(&a);
	if (a.npos != 2)
		return admin_usage(ctx, cmd, "missing %s", a.npos == 0 ? "ASSET and LOGIN" : "LOGIN");
	if (admin_find_asset(ctx, a.pos[0], &as) != 0)
		goto out;
	snprintf(obj, sizeof(obj), "account:%s@%s", a.pos[1], as->name);
	r = store_account_get(ctx->st, as->id, a.pos[1], &acc);
	if (r == ERR_NOTFOUND) {
		ret = admin_refuse(ctx, "account.remove", obj, AUDIT_NOTICE, "account '%s' on asset '%s' not found",
		                   a.pos[1], as->name);
		goto out;
	} else if (r != 0) {
		admin_fail(ctx, "cannot read account '%s' on '%s': %s", a.pos[1], as->name, gh_strerror(r));
		goto out;
	}
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	r = store_account_remove(ctx->st, acc->id);
	if (r != 0)
		admin_fail(ctx, "cannot remove account '%s' on '%s': %s", a.pos[1], as->name, gh_strerror(r));
	else
		r = admin_audit_tx(ctx, "account.remove", obj, "ok", AUDIT_HIGH, NULL);
	if (admin_end_tx(ctx, r) != 0)
		goto out;
	fprintf(ctx->out, "account '%s' on asset '%s' removed\n", a.pos[1], as->name);
	ret = ADMIN_EXIT_OK;
out:
	asset_rec_free(as);
	account_rec_free(acc);
	return ret;
}
