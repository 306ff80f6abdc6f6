/* Helpers shared by the admin commands: diagnostics, option parsing, opening
 * the data directory, audit events, lookups and public key parsing. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libssh/libssh.h>

#include "admin/cmd.h"
#include "common/err.h"
#include "common/log.h"
#include "common/names.h"
#include "common/secret.h"

static void vprint_err(struct admin_ctx *ctx, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
vprint_err(struct admin_ctx *ctx, const char *fmt, va_list ap)
{
	char msg[1024], esc[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Arguments may carry what a user typed: never let them reach the
	 * terminal raw. */
	log_escape(esc, sizeof(esc), msg);
	fprintf(ctx->err, "%s: %s\n", ctx->prog != NULL ? ctx->prog : "gatehouse-admin", esc);
}

int
admin_fail(struct admin_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_err(ctx, fmt, ap);
	va_end(ap);
	return ADMIN_EXIT_FAIL;
}

int
admin_usage(struct admin_ctx *ctx, const struct admin_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_err(ctx, fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		fprintf(ctx->err, "usage: %s %s %s\n", ctx->prog != NULL ? ctx->prog : "gatehouse-admin", cmd->name,
		        cmd->usage);
	return ADMIN_EXIT_USAGE;
}

const struct admin_cmd *
admin_cmd_by_run(int (*fn)(struct admin_ctx *, int, char **))
{
	for (size_t i = 0; i < admin_commands_count; i++)
		if (admin_commands[i].run == fn)
			return &admin_commands[i];
	return NULL;
}

int
admin_parse(struct admin_ctx *ctx, const struct admin_cmd *cmd, int argc, char **argv, const struct admin_opt *opts,
            int max_pos, struct admin_args *a)
{
	struct option lopts[ADMIN_MAX_OPTS + 1];
	int n = 0, c, r = ADMIN_EXIT_USAGE;

	memset(a, 0, sizeof(*a));
	memset(lopts, 0, sizeof(lopts));
	for (n = 0; opts != NULL && opts[n].name != NULL && n < ADMIN_MAX_OPTS; n++) {
		lopts[n].name = opts[n].name;
		lopts[n].has_arg = opts[n].has_arg ? required_argument : no_argument;
		lopts[n].val = 0x100 + n;
	}
	optind = 0; /* full re-initialisation of GNU getopt */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

		if (c == '?') {
			if (optopt != 0)
				admin_usage(ctx, cmd, "unknown option '-%c'", optopt);
			else
				admin_usage(ctx, cmd, "unknown option '%s'", bad);
			goto out;
		}
		if (c == ':') {
			admin_usage(ctx, cmd, "option '%s' needs a value", bad);
			goto out;
		}
		c -= 0x100;
		if (c < 0 || c >= n)
			goto out;
		if (a->set[c] && !opts[c].repeat) {
			admin_usage(ctx, cmd, "option '--%s' given twice", opts[c].name);
			goto out;
		}
		a->set[c]++;
		a->val[c] = optarg;
		if (opts[c].repeat && optarg != NULL) {
			const char **l = realloc(a->list[c], (a->nlist[c] + 1) * sizeof(*l));

			if (l == NULL) {
				r = admin_fail(ctx, "out of memory");
				goto out;
			}
			l[a->nlist[c]++] = optarg;
			a->list[c] = l;
		}
	}
	for (; optind < argc; optind++) {
		if (a->npos >= max_pos || a->npos >= ADMIN_MAX_POS) {
			admin_usage(ctx, cmd, "unexpected argument '%s'", argv[optind]);
			goto out;
		}
		a->pos[a->npos++] = argv[optind];
	}
	r = 0;
out:
	if (r != 0)
		admin_args_free(a);
	return r;
}

void
admin_args_free(struct admin_args *a)
{
	for (size_t i = 0; i < ADMIN_MAX_OPTS; i++) {
		free(a->list[i]);
		a->list[i] = NULL;
		a->nlist[i] = 0;
	}
}

int
admin_open_store(struct admin_ctx *ctx)
{
	char path[4096], err[512];
	struct stat sb;
	int r;

	if (stat(ctx->data_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return admin_fail(ctx, "data directory '%s' not found (create it with 'gatehouse-admin -d %s init')",
		                  ctx->data_dir, ctx->data_dir);
	config_defaults(&ctx->cfg);
	ctx->cfg_loaded = 1;
	snprintf(path, sizeof(path), "%s/gatehouse.conf", ctx->data_dir);
	/* A missing file means the documented defaults; a broken one is an error. */
	if (access(path, F_OK) == 0 && (r = config_load(path, &ctx->cfg, err, sizeof(err))) != 0)
		return admin_fail(ctx, "%s", err[0] != '\0' ? err : gh_strerror(r));
	snprintf(path, sizeof(path), "%s/gatehouse.db", ctx->data_dir);
	if ((r = store_open(path, 0, &ctx->st)) != 0)
		return admin_fail(ctx, "cannot open database '%s': %s", path, gh_strerror(r));
	ctx->own_store = 1;
	return 0;
}

const struct secret_key *
admin_master_key(struct admin_ctx *ctx)
{
	char path[4096];
	int r;

	if (ctx->key != NULL)
		return ctx->key;
	snprintf(path, sizeof(path), "%s/master.key", ctx->data_dir);
	if ((r = secret_key_load(path, &ctx->key)) != 0) {
		admin_fail(ctx, "cannot load master key '%s': %s", path, gh_strerror(r));
		return NULL;
	}
	ctx->own_key = 1;
	return ctx->key;
}

void
admin_ctx_release(struct admin_ctx *ctx)
{
	if (ctx->own_key) {
		secret_key_free(ctx->key);
		ctx->key = NULL;
		ctx->own_key = 0;
	}
	if (ctx->own_store) {
		store_close(ctx->st);
		ctx->st = NULL;
		ctx->own_store = 0;
	}
	if (ctx->cfg_loaded)
		config_free(&ctx->cfg);
	ctx->cfg_loaded = 0;
}

void
admin_event(const struct admin_ctx *ctx, struct audit_event *ev, const char *type, const char *object,
            const char *result, enum audit_importance imp)
{
	memset(ev, 0, sizeof(*ev));
	ev->actor = ctx->actor;
	ev->source = ctx->source;
	ev->type = type;
	ev->object = object;
	ev->result = result;
	ev->importance = imp;
}

static int
audit_common(struct admin_ctx *ctx, int in_tx, const char *type, const char *object, const char *result,
             enum audit_importance imp, const char *detail)
{
	struct audit_event ev;
	int r;

	admin_event(ctx, &ev, type, object, result, imp);
	ev.detail = detail;
	r = in_tx ? audit_append_in_tx(ctx->st, &ev, NULL) : audit_append(ctx->st, &ev, NULL);
	if (r != 0)
		admin_fail(ctx, "cannot write audit event %s: %s", type, gh_strerror(r));
	return r;
}

int
admin_audit(struct admin_ctx *ctx, const char *type, const char *object, const char *result, enum audit_importance imp,
            const char *detail)
{
	return audit_common(ctx, 0, type, object, result, imp, detail);
}

int
admin_audit_tx(struct admin_ctx *ctx, const char *type, const char *object, const char *result,
               enum audit_importance imp, const char *detail)
{
	return audit_common(ctx, 1, type, object, result, imp, detail);
}

int
admin_refuse(struct admin_ctx *ctx, const char *type, const char *object, enum audit_importance imp, const char *fmt,
             ...)
{
	char msg[1024];
	char *detail = NULL;
	json_t *o = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	admin_fail(ctx, "%s", msg);
	if (ctx->st != NULL) {
		o = json_pack("{s:s}", "error", msg);
		detail = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
		admin_audit(ctx, type, object, "fail", imp, detail);
	}
	free(detail);
	json_decref(o);
	return ADMIN_EXIT_FAIL;
}

int
admin_end_tx(struct admin_ctx *ctx, int r)
{
	if (r == 0) {
		if ((r = store_commit(ctx->st)) != 0)
			store_rollback(ctx->st);
	} else
		store_rollback(ctx->st);
	return r;
}

int
admin_check_name(struct admin_ctx *ctx, enum name_kind kind, const char *s)
{
	char why[256] = "";
	int r;

	if ((r = name_validate(kind, s, why, sizeof(why))) != 0)
		admin_fail(ctx, "invalid %s", why[0] != '\0' ? why : name_kind_label(kind));
	return r;
}

int
admin_find_user(struct admin_ctx *ctx, const char *name, struct user_rec **out)
{
	struct user_rec *u = NULL;
	int r = store_user_get(ctx->st, name, &u);

	if (r == 0 && u->removed != 0) {
		user_rec_free(u);
		u = NULL;
		r = ERR_NOTFOUND;
	}
	if (r == ERR_NOTFOUND)
		admin_fail(ctx, "user '%s' not found", name);
	else if (r != 0)
		admin_fail(ctx, "cannot read user '%s': %s", name, gh_strerror(r));
	*out = u;
	return r;
}

int
admin_find_asset(struct admin_ctx *ctx, const char *name, struct asset_rec **out)
{
	struct asset_rec *a = NULL;
	int r = store_asset_get(ctx->st, name, &a);

	if (r == 0 && a->removed != 0) {
		asset_rec_free(a);
		a = NULL;
		r = ERR_NOTFOUND;
	}
	if (r == ERR_NOTFOUND)
		admin_fail(ctx, "asset '%s' not found", name);
	else if (r != 0)
		admin_fail(ctx, "cannot read asset '%s': %s", name, gh_strerror(r));
	*out = a;
	return r;
}

int
admin_read_password(struct admin_ctx *ctx, const char *prompt, char *buf, size_t len)
{
	int r;

	if (ctx->read_secret == NULL)
		return admin_fail(ctx, "no way to read a password here"), ERR_INVALID;
	r = ctx->read_secret(ctx, prompt, buf, len);
	if (r != 0) {
		explicit_bzero(buf, len);
		if (r == ERR_INVALID)
			admin_fail(ctx, "no password given (expected one line on standard input)");
		else if (r == ERR_FULL)
			admin_fail(ctx, "password too long (at most %zu characters)", len - 1);
		else
			admin_fail(ctx, "cannot read password: %s", gh_strerror(r));
	}
	return r;
}

int
admin_read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	ssize_t got;
	int fd = -1, r = ERR_INTERNAL;
	struct stat sb;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		r = ERR_INVALID;
		goto out;
	}
	if ((size_t)sb.st_size > max) {
		r = ERR_FULL;
		goto out;
	}
	if ((buf = calloc(1, max + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	while (n < max && (got = read(fd, buf + n, max - n)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = ERR_IO;
			goto out;
		}
		n += (size_t)got;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	if (len != NULL)
		*len = n;
	r = 0;
out:
	if (buf != NULL)
		secret_free(buf, max + 1);
	if (fd >= 0)
		close(fd);
	return r;
}

char *
admin_pubkey_fingerprint(const char *keyline)
{
	char *copy = NULL, *sp, *fp = NULL, *res = NULL;
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;

	if (keyline == NULL || (copy = strdup(keyline)) == NULL)
		goto out;
	if ((sp = strchr(copy, ' ')) == NULL)
		goto out;
	*sp++ = '\0';
	if (ssh_pki_import_pubkey_base64(sp, ssh_key_type_from_name(copy), &key) != SSH_OK)
		goto out;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		goto out;
	if ((fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) == NULL)
		goto out;
	res = strdup(fp);
out:
	if (fp != NULL)
		ssh_string_free_char(fp);
	if (hash != NULL)
		ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	free(copy);
	return res;
}

/* Try "TYPE BASE64" at tokens[i], tokens[i+1]. */
static int
try_key_tokens(const char *type, const char *b64, char **keyline, char *why, size_t whylen)
{
	enum ssh_keytypes_e t = ssh_key_type_from_name(type);
	ssh_key key = NULL;
	char *exported = NULL;
	int r = ERR_INVALID;

	if (t == SSH_KEYTYPE_UNKNOWN)
		return ERR_NOTFOUND;
	if (strstr(type, "-cert-") != NULL) {
		snprintf(why, whylen, "certificates are not supported, give the plain public key");
		goto out;
	}
	if (ssh_pki_import_pubkey_base64(b64, t, &key) != SSH_OK) {
		snprintf(why, whylen, "the %s key data does not parse", type);
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(key, &exported) != SSH_OK) {
		snprintf(why, whylen, "cannot export the key");
		goto out;
	}
	if (asprintf(keyline, "%s %s", ssh_key_type_to_char(ssh_key_type(key)), exported) < 0) {
		*keyline = NULL;
		r = ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	free(exported);
	ssh_key_free(key);
	return r;
}

int
admin_parse_pubkey_text(const char *text, char **keyline, char **fp, char *why, size_t whylen)
{
	char *copy = NULL, *line, *save = NULL;
	int r = ERR_INVALID;

	*keyline = NULL;
	*fp = NULL;
	snprintf(why, whylen, "no public key line found (expected 'TYPE BASE64 [comment]' or a known_hosts line)");
	if ((copy = strdup(text)) == NULL)
		return ERR_NOMEM;
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *tok[4] = {NULL, NULL, NULL, NULL}, *tsave = NULL, *t;
		int nt = 0;

		for (t = strtok_r(line, " \t\r", &tsave); t != NULL && nt < 4; t = strtok_r(NULL, " \t\r", &tsave))
			tok[nt++] = t;
		if (nt == 0 || tok[0][0] == '#')
			continue;
		/* @cert-authority lines hold a CA, @revoked lines a key that must
		 * never be trusted: neither is a host key to pin. */
		if (tok[0][0] == '@')
			continue;
		/* A public key file has the type first; known_hosts has the host
		 * pattern first. */
		for (int i = 0; i <= 1 && i + 1 < nt; i++) {
			r = try_key_tokens(tok[i], tok[i + 1], keyline, why, whylen);
			if (r != ERR_NOTFOUND)
				goto found;
		}
		r = ERR_INVALID;
	}
	goto out;
found:
	if (r == 0 && (*fp = admin_pubkey_fingerprint(*keyline)) == NULL) {
		snprintf(why, whylen, "cannot compute the key fingerprint");
		free(*keyline);
		*keyline = NULL;
		r = ERR_INVALID;
	}
out:
	free(copy);
	return r;
}
