/* asset add | list | show | remove | hostkey
 *
 * An asset is a target SSH server. Its host key is pinned here, from a file
 * or by connecting once (trust on first use, done by an administrator who can
 * compare the fingerprint printed with the server's own); the proxy then
 * refuses any other key. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libssh/libssh.h>

#include "admin/cmd.h"
#include "common/err.h"
#include "common/timeutil.h"

#define HOSTKEY_FILE_MAX (1024 * 1024) /* a known_hosts file may be long */

/* ssh-ed25519 first: the key type the proxy prefers as well. */
static const char scan_hostkeys[] = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
                                    "rsa-sha2-512,rsa-sha2-256";

/* Connect to host:port, read the host key it presents, disconnect. No
 * authentication is attempted. */
static int
scan_hostkey(struct admin_ctx *ctx, const char *host, int port, char **keyline, char **fp)
{
	ssh_session s = NULL;
	ssh_key key = NULL;
	char *b64 = NULL, why[256];
	long timeout = ctx->cfg.target_connect_timeout > 0 ? ctx->cfg.target_connect_timeout : 10;
	int process_config = 0, r = ERR_INTERNAL;
	unsigned int uport = (unsigned int)port;

	*keyline = NULL;
	*fp = NULL;
	if ((s = ssh_new()) == NULL) {
		admin_fail(ctx, "out of memory");
		goto out;
	}
	/* Never read ~/.ssh/config or /etc/ssh/ssh_config: the scan must see
	 * exactly the host and port we were given. */
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &process_config) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, host) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &uport) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, scan_hostkeys) != SSH_OK) {
		admin_fail(ctx, "cannot set SSH options for %s:%d: %s", host, port, ssh_get_error(s));
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		admin_fail(ctx, "cannot connect to %s port %d to read its host key: %s", host, port, ssh_get_error(s));
		r = ERR_IO;
		goto out;
	}
	if (ssh_get_server_publickey(s, &key) != SSH_OK || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		admin_fail(ctx, "cannot read the host key of %s port %d: %s", host, port, ssh_get_error(s));
		goto out;
	}
	{
		char *line = NULL;

		if (asprintf(&line, "%s %s", ssh_key_type_to_char(ssh_key_type(key)), b64) < 0) {
			admin_fail(ctx, "out of memory");
			goto out;
		}
		r = admin_parse_pubkey_text(line, keyline, fp, why, sizeof(why));
		free(line);
		if (r != 0) {
			admin_fail(ctx, "host key of %s port %d: %s", host, port, why);
			goto out;
		}
	}
	r = 0;
out:
	free(b64);
	ssh_key_free(key);
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	return r;
}

static int
hostkey_from_file(struct admin_ctx *ctx, const char *path, char **keyline, char **fp)
{
	char *text = NULL, why[256];
	int r;

	if ((r = admin_read_file(path, HOSTKEY_FILE_MAX, &text, NULL)) != 0) {
		admin_fail(ctx, "cannot read host key file '%s': %s", path, gh_strerror(r));
		return r;
	}
	if ((r = admin_parse_pubkey_text(text, keyline, fp, why, sizeof(why))) != 0)
		admin_fail(ctx, "host key file '%s': %s", path, why);
	free(text);
	return r;
}

static int
parse_port(const char *s, int *port)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535)
		return ERR_INVALID;
	*port = (int)v;
	return 0;
}

int
cmd_asset_add(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_HOST, O_PORT, O_GROUP, O_HOSTKEY, O_SCAN };
	static const struct admin_opt opts[] = {
	        {"host", 1, 0}, {"port", 1, 0}, {"group", 1, 1}, {"hostkey", 1, 0}, {"hostkey-scan", 0, 0}, {0},
	};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_asset_add);
	struct admin_args a;
	struct asset_rec rec, *old = NULL;
	char obj[128], *keyline = NULL, *fp = NULL, *detail = NULL;
	int64_t id = 0, *gids = NULL;
	json_t *dj = NULL, *groups = NULL;
	int r, ret = ADMIN_EXIT_FAIL;
	const char *name;

	memset(&rec, 0, sizeof(rec));
	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 1, &a)) != 0)
		return r;
	if (a.npos != 1) {
		ret = admin_usage(ctx, cmd, "missing asset NAME");
		goto out;
	}
	name = a.pos[0];
	if (!a.set[O_HOST]) {
		ret = admin_usage(ctx, cmd, "missing --host HOST");
		goto out;
	}
	rec.port = 22;
	if (a.set[O_PORT] && parse_port(a.val[O_PORT], &rec.port) != 0) {
		ret = admin_usage(ctx, cmd, "invalid --port '%s' (1-65535)", a.val[O_PORT]);
		goto out;
	}
	if (a.set[O_HOSTKEY] && a.set[O_SCAN]) {
		ret = admin_usage(ctx, cmd, "give either --hostkey FILE or --hostkey-scan, not both");
		goto out;
	}
	if (admin_check_name(ctx, NAME_ASSET, name) != 0 || admin_check_name(ctx, NAME_HOST, a.val[O_HOST]) != 0)
		goto out;
	snprintf(obj, sizeof(obj), "asset:%s", name);
	if (store_asset_get(ctx->st, name, &old) == 0) {
		ret = admin_refuse(ctx, "asset.add", obj, AUDIT_NOTICE,
		                   old->removed ? "asset '%s' was removed; the name stays reserved"
		                                : "asset '%s' already exists",
		                   name);
		goto out;
	}
	if ((gids = calloc(a.nlist[O_GROUP] + 1, sizeof(*gids))) == NULL || (groups = json_array()) == NULL) {
		admin_fail(ctx, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < a.nlist[O_GROUP]; i++) {
		r = store_group_get_id(ctx->st, a.list[O_GROUP][i], &gids[i]);
		if (r == ERR_NOTFOUND) {
			admin_fail(ctx, "group '%s' not found (create it with 'group add')", a.list[O_GROUP][i]);
			goto out;
		} else if (r != 0) {
			admin_fail(ctx, "cannot read group '%s': %s", a.list[O_GROUP][i], gh_strerror(r));
			goto out;
		}
		json_array_append_new(groups, json_string(a.list[O_GROUP][i]));
	}
	if (a.set[O_HOSTKEY] && hostkey_from_file(ctx, a.val[O_HOSTKEY], &keyline, &fp) != 0)
		goto out;
	if (a.set[O_SCAN] && scan_hostkey(ctx, a.val[O_HOST], rec.port, &keyline, &fp) != 0)
		goto out;
	rec.name = (char *)name;
	rec.host = (char *)a.val[O_HOST];
	rec.hostkey = keyline;
	rec.created = time_now();
	dj = json_pack("{s:s,s:i,s:O,s:o}", "host", rec.host, "port", rec.port, "groups", groups, "hostkey",
	               out_str(fp));
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT) : NULL;
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	r = store_asset_add(ctx->st, &rec, &id);
	if (r != 0)
		admin_fail(ctx, "cannot add asset '%s': %s", name, gh_strerror(r));
	for (size_t i = 0; r == 0 && i < a.nlist[O_GROUP]; i++)
		if ((r = store_asset_group_add(ctx->st, gids[i], id)) != 0 && r != ERR_EXISTS)
			admin_fail(ctx, "cannot add asset '%s' to group '%s': %s", name, a.list[O_GROUP][i],
			           gh_strerror(r));
		else
			r = 0;
	if (r == 0)
		r = admin_audit_tx(ctx, "asset.add", obj, "ok", AUDIT_NOTICE, detail);
	if (admin_end_tx(ctx, r) != 0)
		goto out;
	fprintf(ctx->out, "asset '%s' added (%s port %d)\n", name, rec.host, rec.port);
	if (fp != NULL)
		fprintf(ctx->out, "host key pinned: %.*s %s\n", (int)strcspn(keyline, " "), keyline, fp);
	else
		fprintf(ctx->out, "no host key pinned yet: pin one with 'asset hostkey %s --scan' or --file\n", name);
	ret = ADMIN_EXIT_OK;
out:
	admin_args_free(&a);
	asset_rec_free(old);
	free(gids);
	free(keyline);
	free(fp);
	free(detail);
	json_decref(dj);
	json_decref(groups);
	return ret;
}

/* Names of the target accounts on an asset, as a JSON array. */
static json_t *
asset_logins_json(struct admin_ctx *ctx, int64_t asset_id)
{
	struct account_rec **list = NULL;
	size_t n = 0;
	json_t *arr = json_array();

	if (arr != NULL && store_account_list(ctx->st, asset_id, &list, &n) == 0)
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_string(list[i]->login));
	account_rec_list_free(list, n);
	return arr;
}

static json_t *
asset_json(struct admin_ctx *ctx, const struct asset_rec *as, int full)
{
	char **groups = NULL, *fp = NULL, *type = NULL;
	size_t ng = 0;
	json_t *o, *garr = json_array();

	if (store_asset_group_names(ctx->st, as->id, &groups, &ng) == 0)
		for (size_t i = 0; garr != NULL && i < ng; i++)
			json_array_append_new(garr, json_string(groups[i]));
	store_strv_free(groups, ng);
	if (as->hostkey != NULL) {
		fp = admin_pubkey_fingerprint(as->hostkey);
		type = strndup(as->hostkey, strcspn(as->hostkey, " "));
	}
	o = json_pack("{s:s,s:s,s:i,s:o,s:o,s:o}", "name", as->name, "host", as->host, "port", as->port, "hostkey_type",
	              out_str(type), "hostkey", out_str(fp), "groups", garr);
	if (o != NULL && full) {
		json_object_set_new(o, "id", json_integer(as->id));
		json_object_set_new(o, "hostkey_line", out_str(as->hostkey));
		json_object_set_new(o, "logins", asset_logins_json(ctx, as->id));
		json_object_set_new(o, "created", out_time(as->created));
	}
	free(fp);
	free(type);
	return o;
}

int
cmd_asset_list(struct admin_ctx *ctx, int argc, char **argv)
{
	static const struct out_col cols[] = {
	        {"name", "NAME"}, {"host", "HOST"}, {"port", "PORT"}, {"hostkey", "HOST KEY"}, {"groups", "GROUPS"},
	};
	struct admin_args a;
	struct asset_rec **list = NULL;
	size_t n = 0;
	json_t *rows;
	int r;

	if ((r = admin_parse(ctx, admin_cmd_by_run(cmd_asset_list), argc, argv, NULL, 0, &a)) != 0)
		return r;
	admin_args_free(&a);
	if ((r = store_asset_list(ctx->st, &list, &n)) != 0)
		return admin_fail(ctx, "cannot list assets: %s", gh_strerror(r));
	rows = json_array();
	for (size_t i = 0; rows != NULL && i < n; i++)
		if (list[i]->removed == 0)
			json_array_append_new(rows, asset_json(ctx, list[i], 0));
	asset_rec_list_free(list, n);
	return out_table(ctx, cols, sizeof(cols) / sizeof(cols[0]), rows);
}

static int
one_asset(struct admin_ctx *ctx, int (*fn)(struct admin_ctx *, int, char **), int argc, char **argv,
          const struct admin_opt *opts, struct admin_args *a, struct asset_rec **as)
{
	const struct admin_cmd *cmd = admin_cmd_by_run(fn);
	int r;

	*as = NULL;
	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 1, a)) != 0)
		return r;
	if (a->npos != 1) {
		admin_args_free(a);
		return admin_usage(ctx, cmd, "missing asset NAME");
	}
	if (admin_find_asset(ctx, a->pos[0], as) != 0) {
		admin_args_free(a);
		return ADMIN_EXIT_FAIL;
	}
	return 0;
}

int
cmd_asset_show(struct admin_ctx *ctx, int argc, char **argv)
{
	static const struct out_col cols[] = {
	        {"name", "Name"},        {"host", "Host"},     {"port", "Port"},     {"hostkey_type", "Host key type"},
	        {"hostkey", "Host key"}, {"groups", "Groups"}, {"logins", "Logins"}, {"created", "Created"},
	};
	struct admin_args a;
	struct asset_rec *as = NULL;
	int r;

	if ((r = one_asset(ctx, cmd_asset_show, argc, argv, NULL, &a, &as)) != 0)
		return r;
	admin_args_free(&a);
	r = out_object(ctx, cols, sizeof(cols) / sizeof(cols[0]), asset_json(ctx, as, 1));
	asset_rec_free(as);
	return r;
}

int
cmd_asset_remove(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_args a;
	struct asset_rec *as = NULL;
	char obj[128];
	int r, ret = ADMIN_EXIT_FAIL;

	if ((r = one_asset(ctx, cmd_asset_remove, argc, argv, NULL, &a, &as)) != 0)
		return r;
	admin_args_free(&a);
	snprintf(obj, sizeof(obj), "asset:%s", as->name);
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	r = store_asset_remove(ctx->st, as->id, time_now());
	if (r != 0)
		admin_fail(ctx, "cannot remove asset '%s': %s", as->name, gh_strerror(r));
	else
		r = admin_audit_tx(ctx, "asset.remove", obj, "ok", AUDIT_NOTICE, NULL);
	if (admin_end_tx(ctx, r) != 0)
		goto out;
	fprintf(ctx->out, "asset '%s' removed\n", as->name);
	ret = ADMIN_EXIT_OK;
out:
	asset_rec_free(as);
	return ret;
}

int
cmd_asset_hostkey(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_FILE, O_SCAN };
	static const struct admin_opt opts[] = {{"file", 1, 0}, {"scan", 0, 0}, {0}};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_asset_hostkey);
	struct admin_args a;
	struct asset_rec *as = NULL;
	char obj[128], *keyline = NULL, *fp = NULL, *oldfp = NULL, *detail = NULL;
	json_t *dj = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

	if ((r = one_asset(ctx, cmd_asset_hostkey, argc, argv, opts, &a, &as)) != 0)
		return r;
	if (a.set[O_FILE] == a.set[O_SCAN]) {
		ret = admin_usage(ctx, cmd, "give exactly one of --file FILE or --scan");
		goto out;
	}
	snprintf(obj, sizeof(obj), "asset:%s", as->name);
	if (a.set[O_FILE] && hostkey_from_file(ctx, a.val[O_FILE], &keyline, &fp) != 0)
		goto out;
	if (a.set[O_SCAN] && scan_hostkey(ctx, as->host, as->port, &keyline, &fp) != 0)
		goto out;
	oldfp = as->hostkey != NULL ? admin_pubkey_fingerprint(as->hostkey) : NULL;
	dj = json_pack("{s:o,s:s}", "old", out_str(oldfp), "new", fp);
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT) : NULL;
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	r = store_asset_set_hostkey(ctx->st, as->id, keyline);
	if (r != 0)
		admin_fail(ctx, "cannot pin the host key of '%s': %s", as->name, gh_strerror(r));
	else
		r = admin_audit_tx(ctx, "asset.hostkey", obj, "ok", AUDIT_HIGH, detail);
	if (admin_end_tx(ctx, r) != 0)
		goto out;
	fprintf(ctx->out, "host key of '%s' pinned: %.*s %s%s\n", as->name, (int)strcspn(keyline, " "), keyline, fp,
	        oldfp != NULL && strcmp(oldfp, fp) != 0 ? " (replaces the previous key)" : "");
	ret = ADMIN_EXIT_OK;
out:
	admin_args_free(&a);
	asset_rec_free(as);
	free(keyline);
	free(fp);
	free(oldfp);
	free(detail);
	json_decref(dj);
	return ret;
}
