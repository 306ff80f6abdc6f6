/* grant add | list | remove
 *
 * Every part of a grant is validated here with the same parsers that the
 * evaluation in auth/grant.c uses, so a grant that is stored is a grant
 * that evaluates as written. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "auth/grant.h"
#include "common/err.h"
#include "common/netaddr.h"
#include "common/timeutil.h"

/* A tunnel destination: HOST:PORT, HOST a DNS name or an IPv4 address,
 * or [IPv6]:PORT; PORT 1-65535. Written back in the canonical form the
 * proxy compares (common/netaddr.h, proxy/route.c): lower case, no trailing
 * dot, an IPv4 address as a dotted quad (0x7f.1 is 127.0.0.1), an
 * IPv4-mapped IPv6 address as IPv4, no leading zeros in the port. */
static int
forward_to_parse(const char *s, char *out, size_t outlen, char *why, size_t whylen)
{
	const char *colon, *host = s, *p;
	size_t hlen;
	char *end = NULL;
	long port;
	char h[256], canon[NETADDR_HOST_MAX + 1];
	struct in6_addr a6;
	int kind;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':') {
			snprintf(why, whylen, "expected [IPV6]:PORT");
			return ERR_INVALID;
		}
		host = s + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			snprintf(why, whylen, "expected HOST:PORT");
			return ERR_INVALID;
		}
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(h)) {
		snprintf(why, whylen, "the host must have 1 to 255 characters");
		return ERR_INVALID;
	}
	memcpy(h, host, hlen);
	h[hlen] = '\0';
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, h, &a6) != 1) {
			snprintf(why, whylen, "not an IPv6 address between the brackets");
			return ERR_INVALID;
		}
	} else {
		for (p = h; *p != '\0'; p++) {
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-') {
				snprintf(why, whylen, "character '%c' is not allowed in a host name", *p);
				return ERR_INVALID;
			}
		}
		if (h[0] == '-' || h[0] == '.') {
			snprintf(why, whylen, "a host name starts with a letter or a digit");
			return ERR_INVALID;
		}
	}
	errno = 0;
	if (colon[1] < '0' || colon[1] > '9' || (port = strtol(colon + 1, &end, 10), errno != 0) || *end != '\0' ||
	    port < 1 || port > 65535) {
		snprintf(why, whylen, "the port must be a number from 1 to 65535");
		return ERR_INVALID;
	}
	if ((kind = netaddr_normalise(h, canon, sizeof(canon))) < 0) {
		snprintf(why, whylen, "not a host name or an address");
		return ERR_INVALID;
	}
	snprintf(out, outlen, kind == NETADDR_V6 ? "[%s]:%ld" : "%s:%ld", canon, port);
	return 0;
}

int
cmd_grant_add(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_USER, O_GROUP, O_ASSET, O_AGROUP, O_LOGIN, O_RIGHTS, O_EXPIRES, O_HOURS, O_FROM, O_FWD };
	static const struct admin_opt opts[] = {
	        {"user", 1, 0},
	        {"group", 1, 0},
	        {"asset", 1, 0},
	        {"asset-group", 1, 0},
	        {"login", 1, 0},
	        {"rights", 1, 0},
	        {"expires", 1, 0},
	        {"hours", 1, 0},
	        {"from", 1, 1},
	        {"forward-to", 1, 1},
	        {0},
	};
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_grant_add);
	struct admin_args a;
	struct grant_rule g;
	struct user_rec *u = NULL;
	struct asset_rec *as = NULL;
	char why[256] = "", obj[64], rights[128], *sources = NULL, *detail = NULL, *who = NULL, *what = NULL;
	char *fwd = NULL;
	size_t slen = 0, flen = 0;
	int64_t id = 0;
	json_t *dj = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

	memset(&g, 0, sizeof(g));
	if ((r = admin_parse(ctx, cmd, argc, argv, opts, 0, &a)) != 0)
		return r;
	if ((a.set[O_USER] != 0) == (a.set[O_GROUP] != 0)) {
		ret = admin_usage(ctx, cmd, "give exactly one of --user U or --group G");
		goto out;
	}
	if ((a.set[O_ASSET] != 0) == (a.set[O_AGROUP] != 0)) {
		ret = admin_usage(ctx, cmd, "give exactly one of --asset A or --asset-group AG");
		goto out;
	}
	if (!a.set[O_LOGIN]) {
		ret = admin_usage(ctx, cmd, "missing --login L (the login on the target)");
		goto out;
	}
	g.rights = RIGHTS_DEFAULT;
	if (a.set[O_RIGHTS] && grant_rights_parse(a.val[O_RIGHTS], &g.rights, why, sizeof(why)) != 0) {
		ret = admin_usage(ctx, cmd, "invalid --rights '%s': %s", a.val[O_RIGHTS], why);
		goto out;
	}
	if (a.set[O_EXPIRES]) {
		if (time_parse_iso(a.val[O_EXPIRES], &g.expires) != 0) {
			ret = admin_usage(ctx, cmd,
			                  "invalid --expires '%s': expected an ISO 8601 date such as 2026-12-31 or "
			                  "2026-12-31T18:00:00Z",
			                  a.val[O_EXPIRES]);
			goto out;
		}
		if (g.expires <= time_now()) {
			admin_fail(ctx, "--expires '%s' is in the past", a.val[O_EXPIRES]);
			goto out;
		}
	}
	if (a.set[O_HOURS] && grant_hours_parse(a.val[O_HOURS], why, sizeof(why)) != 0) {
		ret = admin_usage(ctx, cmd, "invalid --hours '%s': %s", a.val[O_HOURS], why);
		goto out;
	}
	for (size_t i = 0; i < a.nlist[O_FROM]; i++) {
		const char *c = a.list[O_FROM][i];
		char *ns;

		if (grant_cidr_parse(c, why, sizeof(why)) != 0) {
			ret = admin_usage(ctx, cmd, "invalid --from '%s': %s", c, why);
			goto out;
		}
		if ((ns = realloc(sources, slen + strlen(c) + 2)) == NULL) {
			admin_fail(ctx, "out of memory");
			goto out;
		}
		sources = ns;
		slen += (size_t)sprintf(sources + slen, "%s%s", slen > 0 ? "," : "", c);
	}
	for (size_t i = 0; i < a.nlist[O_FWD]; i++) {
		const char *d = a.list[O_FWD][i];
		char norm[300], *nf;

		if (forward_to_parse(d, norm, sizeof(norm), why, sizeof(why)) != 0) {
			ret = admin_usage(ctx, cmd, "invalid --forward-to '%s': %s", d, why);
			goto out;
		}
		if ((nf = realloc(fwd, flen + strlen(norm) + 2)) == NULL) {
			admin_fail(ctx, "out of memory");
			goto out;
		}
		fwd = nf;
		flen += (size_t)sprintf(fwd + flen, "%s%s", flen > 0 ? "," : "", norm);
	}
	if (fwd != NULL && !(g.rights & RIGHT_FORWARD)) {
		ret = admin_usage(ctx, cmd, "--forward-to needs the forward right (--rights ...,forward)");
		goto out;
	}
	if (admin_check_name(ctx, NAME_LOGIN, a.val[O_LOGIN]) != 0)
		goto out;
	if (a.set[O_USER]) {
		if (admin_find_user(ctx, a.val[O_USER], &u) != 0)
			goto out;
		g.user_id = u->id;
	} else if ((r = store_group_get_id(ctx->st, a.val[O_GROUP], &g.group_id)) != 0) {
		admin_fail(ctx, "group '%s' not found", a.val[O_GROUP]);
		goto out;
	}
	if (a.set[O_ASSET]) {
		if (admin_find_asset(ctx, a.val[O_ASSET], &as) != 0)
			goto out;
		g.asset_id = as->id;
	} else if ((r = store_group_get_id(ctx->st, a.val[O_AGROUP], &g.asset_group_id)) != 0) {
		admin_fail(ctx, "asset group '%s' not found", a.val[O_AGROUP]);
		goto out;
	}
	g.login = (char *)a.val[O_LOGIN];
	g.hours = (char *)a.val[O_HOURS];
	g.sources = sources;
	g.forward_to = fwd;
	g.created = time_now();
	grant_rights_format(g.rights, rights, sizeof(rights));
	if (asprintf(&who, "%s:%s", a.set[O_USER] ? "user" : "group", a.set[O_USER] ? u->name : a.val[O_GROUP]) < 0 ||
	    asprintf(&what, "%s:%s", a.set[O_ASSET] ? "asset" : "asset-group",
	             a.set[O_ASSET] ? as->name : a.val[O_AGROUP]) < 0) {
		who = what = NULL;
		admin_fail(ctx, "out of memory");
		goto out;
	}
	dj = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "to", who, "on", what, "login", g.login, "rights", rights,
	               "expires", out_time(g.expires), "hours", out_str(g.hours), "from", out_str(g.sources),
	               "forward_to", out_str(g.forward_to));
	detail = dj != NULL ? json_dumps(dj, JSON_COMPACT) : NULL;
	if ((r = store_begin(ctx->st)) != 0) {
		admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
		goto out;
	}
	r = store_grant_add(ctx->st, &g, &id);
	if (r != 0)
		admin_fail(ctx, "cannot add the grant: %s", gh_strerror(r));
	snprintf(obj, sizeof(obj), "grant:%lld", (long long)id);
	if (r == 0)
		r = admin_audit_tx(ctx, "grant.add", obj, "ok", AUDIT_NOTICE, detail);
	if (admin_end_tx(ctx, r) != 0)
		goto out;
	fprintf(ctx->out, "grant %lld added: %s may use %s on %s (%s)\n", (long long)id, who, g.login, what, rights);
	ret = ADMIN_EXIT_OK;
out:
	admin_args_free(&a);
	user_rec_free(u);
	asset_rec_free(as);
	free(sources);
	free(fwd);
	free(detail);
	free(who);
	free(what);
	json_decref(dj);
	return ret;
}

int
cmd_grant_list(struct admin_ctx *ctx, int argc, char **argv)
{
	enum { O_USER, O_ASSET };
	static const struct admin_opt opts[] = {{"user", 1, 0}, {"asset", 1, 0}, {0}};
	static const struct out_col cols[] = {
	        {"id", "ID"},         {"to", "TO"},           {"on", "ON"},       {"login", "LOGIN"},
	        {"rights", "RIGHTS"}, {"expires", "EXPIRES"}, {"hours", "HOURS"}, {"from", "FROM"},
	};
	struct admin_args a;
	struct user_rec *u = NULL;
	struct asset_rec *as = NULL;
	struct grant_rule *list = NULL;
	size_t n = 0;
	json_t *rows = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

	if ((r = admin_parse(ctx, admin_cmd_by_run(cmd_grant_list), argc, argv, opts, 0, &a)) != 0)
		return r;
	if (a.set[O_USER] && admin_find_user(ctx, a.val[O_USER], &u) != 0)
		goto out;
	if (a.set[O_ASSET] && admin_find_asset(ctx, a.val[O_ASSET], &as) != 0)
		goto out;
	if ((r = store_grant_list(ctx->st, u != NULL ? u->id : 0, as != NULL ? as->id : 0, &list, &n)) != 0) {
		admin_fail(ctx, "cannot list grants: %s", gh_strerror(r));
		goto out;
	}
	rows = json_array();
	for (size_t i = 0; rows != NULL && i < n; i++) {
		const struct grant_rule *g = &list[i];
		char rights[128], *to = NULL, *on = NULL;

		grant_rights_format(g->rights, rights, sizeof(rights));
		if (asprintf(&to, "%s:%s", g->user_id != 0 ? "user" : "group",
		             g->user_id != 0 ? (g->user_name ? g->user_name : "?")
		                             : (g->group_name ? g->group_name : "?")) < 0)
			to = NULL;
		if (asprintf(&on, "%s:%s", g->asset_id != 0 ? "asset" : "asset-group",
		             g->asset_id != 0 ? (g->asset_name ? g->asset_name : "?")
		                              : (g->asset_group_name ? g->asset_group_name : "?")) < 0)
			on = NULL;
		json_array_append_new(
		        rows, json_pack("{s:I,s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)g->id, "to",
		                        out_str(to), "on", out_str(on), "login", g->login, "rights", rights, "expires",
		                        out_time(g->expires), "hours", out_str(g->hours), "from", out_str(g->sources),
		                        "forward_to", out_str(g->forward_to), "created", out_time(g->created)));
		free(to);
		free(on);
	}
	ret = out_table(ctx, cols, sizeof(cols) / sizeof(cols[0]), rows);
out:
	admin_args_free(&a);
	user_rec_free(u);
	asset_rec_free(as);
	store_grant_list_free(list, n);
	return ret;
}

int
cmd_grant_remove(struct admin_ctx *ctx, int argc, char **argv)
{
	const struct admin_cmd *cmd = admin_cmd_by_run(cmd_grant_remove);
	struct admin_args a;
	char obj[64], *end = NULL;
	long long id;
	int r;

	if ((r = admin_parse(ctx, cmd, argc, argv, NULL, 1, &a)) != 0)
		return r;
	admin_args_free(&a);
	if (a.npos != 1)
		return admin_usage(ctx, cmd, "missing grant ID");
	errno = 0;
	id = strtoll(a.pos[0], &end, 10);
	if (errno != 0 || end == a.pos[0] || *end != '\0' || id <= 0)
		return admin_usage(ctx, cmd, "invalid grant ID '%s' (a number from 'grant list')", a.pos[0]);
	snprintf(obj, sizeof(obj), "grant:%lld", id);
	if ((r = store_begin(ctx->st)) != 0)
		return admin_fail(ctx, "cannot start a transaction: %s", gh_strerror(r));
	r = store_grant_remove(ctx->st, id);
	if (r == 0)
		r = admin_audit_tx(ctx, "grant.remove", obj, "ok", AUDIT_NOTICE, NULL);
	if ((r = admin_end_tx(ctx, r)) != 0) {
		if (r == ERR_NOTFOUND)
			return admin_refuse(ctx, "grant.remove", obj, AUDIT_NOTICE, "grant %lld not found", id);
		return admin_fail(ctx, "cannot remove grant %lld: %s", id, gh_strerror(r));
	}
	fprintf(ctx->out, "grant %lld removed\n", id);
	return ADMIN_EXIT_OK;
}
