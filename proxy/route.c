#include "proxy/route.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "auth/grant.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/names.h"
#include "common/netaddr.h"
#include "common/store.h"
#include "common/timeutil.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/sftp.h"
#include "proxy/xfer.h"

/* What grant_evaluate needs about the user, loaded once per decision. */
struct facts {
	struct user_rec *user; /* fresh copy: a lock set meanwhile counts */
	int64_t *gids;
	size_t ngids;
	struct grant_rule *rules;
	size_t nrules;
};

static void
facts_free(struct facts *f)
{
	user_rec_free(f->user);
	free(f->gids);
	store_grant_list_free(f->rules, f->nrules);
	memset(f, 0, sizeof(*f));
}

static int
facts_load(struct conn *c, struct facts *f)
{
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = store_user_get_by_id(c->st, c->user->id, &f->user)) != 0 ||
	    (r = store_user_group_ids(c->st, c->user->id, &f->gids, &f->ngids)) != 0 ||
	    (r = store_grant_list(c->st, c->user->id, 0, &f->rules, &f->nrules)) != 0) {
		facts_free(f);
		return r;
	}
	return 0;
}

static int
evaluate(struct conn *c, const struct facts *f, const struct asset_rec *a, const int64_t *agids, size_t nagids,
         const char *login, unsigned right, struct grant_decision *d)
{
	struct grant_query q;
	int64_t now = time_now();

	memset(&q, 0, sizeof(q));
	q.user_id = f->user->id;
	q.group_ids = f->gids;
	q.n_groups = f->ngids;
	q.user_locked = f->user->locked || f->user->removed != 0 || f->user->locked_until > now;
	q.asset_id = a->id;
	q.asset_name = a->name;
	q.asset_group_ids = agids;
	q.n_asset_groups = nagids;
	q.asset_removed = a->removed != 0;
	q.login = login;
	q.right = right;
	q.source_addr = c->src_addr;
	q.now = (time_t)now;
	q.timezone = c->cfg->timezone;
	return grant_evaluate(&q, f->rules, f->nrules, d);
}

static int
rule_matches_asset(const struct grant_rule *g, const struct asset_rec *a, const int64_t *agids, size_t n)
{
	size_t i;

	if (g->asset_id != 0)
		return g->asset_id == a->id;
	for (i = 0; i < n; i++)
		if (agids[i] == g->asset_group_id)
			return 1;
	return 0;
}

/* Logins of the rules that name this asset and allow `right` now. */
static int
allowed_logins(struct conn *c, const struct facts *f, const struct asset_rec *a, const int64_t *agids, size_t nagids,
               unsigned right, char ***out, size_t *nout)
{
	char **v = NULL;
	size_t n = 0, i, j;
	struct grant_decision d;

	*out = NULL;
	*nout = 0;
	for (i = 0; i < f->nrules; i++) {
		const char *login = f->rules[i].login;
		char **nv;
		int dup = 0;

		if (login == NULL || !rule_matches_asset(&f->rules[i], a, agids, nagids))
			continue;
		for (j = 0; j < n; j++)
			dup |= strcmp(v[j], login) == 0;
		if (dup || evaluate(c, f, a, agids, nagids, login, right, &d) != 0 || !d.allow)
			continue;
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL)
			goto oom;
		v = nv;
		if ((v[n] = strdup(login)) == NULL)
			goto oom;
		n++;
	}
	*out = v;
	*nout = n;
	return 0;
oom:
	store_strv_free(v, n);
	return ERR_NOMEM;
}

static void
audit_route(struct conn *c, const char *asset, const char *login, const char *kind, const char *command,
            const char *result, int importance, const char *why, int64_t grant_id)
{
	json_t *j = json_object();
	char *detail = NULL;
	char object[300];

	json_object_set_new(j, "channel", json_string(kind));
	if (command != NULL)
		json_object_set_new(j, "command", json_string(command));
	if (why != NULL && why[0] != '\0')
		json_object_set_new(j, "reason", json_string(why));
	if (grant_id != 0)
		json_object_set_new(j, "grant", json_integer(grant_id));
	if (c->uuid[0] != '\0')
		json_object_set_new(j, "session", json_string(c->uuid));
	detail = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	snprintf(object, sizeof(object), "%s@%s", login != NULL && login[0] ? login : "?", asset);
	conn_audit(c, c->user->name, strcmp(result, "ok") == 0 ? "access.allow" : "access.deny", object, result,
	           importance, detail);
	free(detail);
}

/* The asset named by the operator, treating a removed one as absent. */
static int
asset_lookup(struct conn *c, const char *name, struct asset_rec **out)
{
	char why[128];
	int r;

	*out = NULL;
	if (name_validate(NAME_ASSET, name, why, sizeof(why)) != 0)
		return ERR_NOTFOUND;
	r = store_asset_get(c->st, name, out);
	if (r == 0 && (*out)->removed != 0) {
		asset_rec_free(*out);
		*out = NULL;
		return ERR_NOTFOUND;
	}
	return r;
}

static unsigned
right_of(const struct chan *ch)
{
	switch (ch->kind) {
	case CK_SHELL: return RIGHT_SHELL;
	case CK_EXEC:
		/* scp -t/-f and rsync --server are transfers: their direction's right,
		 * not exec (detected without a shell; the command goes unchanged). */
		switch (ch->xfer_exec) {
		case XE_SCP_UPLOAD:
		case XE_RSYNC_UPLOAD: return RIGHT_UPLOAD;
		case XE_SCP_DOWNLOAD:
		case XE_RSYNC_DOWNLOAD: return RIGHT_DOWNLOAD;
		default: return RIGHT_EXEC;
		}
	default: return RIGHT_UPLOAD | RIGHT_DOWNLOAD;
	}
}

/* Fix the target from the user name ("alice@web01", "alice@root@web01"). */
static int
resolve_direct(struct conn *c, const struct facts *f, unsigned right, char *msg, size_t msglen)
{
	struct asset_rec *a = NULL;
	int64_t *agids = NULL;
	size_t nagids = 0, nl = 0, i;
	char **logins = NULL;
	char list[200] = "";
	int r = ROUTE_REFUSED;

	if (asset_lookup(c, c->spec.asset, &a) != 0) {
		snprintf(msg, msglen, "no grant for %s%s%s", c->spec.login, c->spec.login[0] ? "@" : "", c->spec.asset);
		goto out;
	}
	if (c->spec.login[0] != '\0') {
		if ((c->login = strdup(c->spec.login)) == NULL)
			goto out;
	} else {
		unsigned rr = right == (RIGHT_UPLOAD | RIGHT_DOWNLOAD) ? RIGHT_DOWNLOAD : right;

		if (store_asset_group_ids(c->st, a->id, &agids, &nagids) != 0 ||
		    allowed_logins(c, f, a, agids, nagids, rr, &logins, &nl) != 0) {
			snprintf(msg, msglen, "internal error while checking grants");
			goto out;
		}
		/* sftp: a login with only the upload right counts too. */
		if (nl == 0 && rr != right && allowed_logins(c, f, a, agids, nagids, RIGHT_UPLOAD, &logins, &nl) != 0) {
			snprintf(msg, msglen, "internal error while checking grants");
			goto out;
		}
		if (nl == 0) {
			snprintf(msg, msglen, "no grant on %s", a->name);
			goto out;
		}
		if (nl > 1) {
			for (i = 0; i < nl; i++) {
				size_t len = strlen(list);

				snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", logins[i]);
			}
			snprintf(msg, msglen, "several logins on %s (%s): connect as %s@LOGIN@%s@bastion", a->name,
			         list, c->user->name, a->name);
			goto out;
		}
		c->login = logins[0];
		logins[0] = NULL;
	}
	c->asset = a;
	a = NULL;
	c->target_chosen = 1;
	r = ROUTE_OK;
out:
	asset_rec_free(a);
	free(agids);
	store_strv_free(logins, nl);
	return r;
}

int
route_channel(struct conn *c, struct chan *ch, char *msg, size_t msglen)
{
	struct facts f;
	struct grant_decision d;
	int64_t *agids = NULL;
	size_t nagids = 0;
	unsigned right;
	int r = ROUTE_REFUSED;
	const char *kind = chan_kind_name(ch);
	char rights_note[64] = "", not_xfer[160] = "";

	msg[0] = '\0';
	if (ch->kind == CK_EXEC)
		ch->xfer_exec = (int)xfer_exec_classify(ch->command, NULL, 0, not_xfer, sizeof(not_xfer));
	right = right_of(ch);
	if (facts_load(c, &f) != 0) {
		snprintf(msg, msglen, "internal error while checking grants");
		return ROUTE_REFUSED;
	}
	if (!c->target_chosen) {
		if (c->spec.asset[0] == '\0') {
			facts_free(&f);
			/* No target: operators get the menu in a terminal; a command
			 * (anyone) and any shell of a superadmin or auditor go to the
			 * role shell, where the command table's role bits decide. */
			if (ch->kind == CK_EXEC || (ch->kind == CK_SHELL && c->user->role != ROLE_OPERATOR))
				return ROUTE_SHELL;
			if (ch->kind == CK_SHELL && ch->has_pty)
				return ROUTE_MENU;
			snprintf(msg, msglen,
			         "no target given: connect as %s@LOGIN@ASSET@bastion (or open a terminal for the menu)",
			         c->user->name);
			audit_route(c, "-", "-", kind, ch->command, "denied", AUDIT_NOTICE, "no target", 0);
			return ROUTE_REFUSED;
		}
		if (resolve_direct(c, &f, right, msg, msglen) != ROUTE_OK) {
			audit_route(c, c->spec.asset, c->spec.login, kind, ch->command, "denied", AUDIT_NOTICE, msg, 0);
			facts_free(&f);
			return ROUTE_REFUSED;
		}
	}
	if (store_asset_group_ids(c->st, c->asset->id, &agids, &nagids) != 0) {
		snprintf(msg, msglen, "internal error while checking grants");
		goto out;
	}
	/* SFTP is inspected (xfer.c): either transfer right opens the channel,
	 * each request is then checked against the rights it has. */
	if (right == (RIGHT_UPLOAD | RIGHT_DOWNLOAD)) {
		struct grant_decision du;
		int down_ok = evaluate(c, &f, c->asset, agids, nagids, c->login, RIGHT_DOWNLOAD, &d) == 0 && d.allow;
		int up_ok = evaluate(c, &f, c->asset, agids, nagids, c->login, RIGHT_UPLOAD, &du) == 0 && du.allow;

		ch->xfer_rights = (down_ok ? SFTP_RIGHT_READ : 0u) | (up_ok ? SFTP_RIGHT_WRITE : 0u);
		if (!down_ok && up_ok)
			d = du;
		snprintf(rights_note, sizeof(rights_note), "transfer rights: %s",
		         down_ok && up_ok ? "upload, download"
		         : up_ok          ? "upload"
		         : down_ok        ? "download"
		                          : "none");
	} else if (evaluate(c, &f, c->asset, agids, nagids, c->login, right, &d) != 0) {
		d.allow = 0;
		snprintf(d.message, sizeof(d.message), "invalid grant query");
	}
	if (!d.allow) {
		if (ch->xfer_exec != XE_NONE)
			snprintf(msg, msglen, "%s needs the %s right: %s",
			         ch->xfer_exec <= XE_SCP_DOWNLOAD ? "scp" : "rsync",
			         right == RIGHT_UPLOAD ? "upload" : "download",
			         d.message[0] ? d.message : "access refused");
		else if (not_xfer[0] != '\0')
			/* It names scp or rsync but is not what their clients run:
			 * say why it needed the exec right. */
			snprintf(msg, msglen, "%s (not a plain transfer: %s)",
			         d.message[0] ? d.message : "access refused", not_xfer);
		else
			snprintf(msg, msglen, "%s", d.message[0] ? d.message : "access refused");
		audit_route(c, c->asset->name, c->login, kind, ch->command, "denied", AUDIT_NOTICE, msg, d.grant_id);
		info("%s on %s@%s refused: %s", kind, c->login, c->asset->name, msg);
		goto out;
	}
	audit_route(c, c->asset->name, c->login, kind, ch->command, "ok", AUDIT_INFO, rights_note, d.grant_id);
	r = ROUTE_OK;
out:
	free(agids);
	facts_free(&f);
	return r;
}

/* One --forward-to entry (HOST:PORT or [V6]:PORT, len bytes) in canonical
 * form (netaddr.h). 0 or -1. */
static int
forward_entry(const char *p, size_t len, char *host, size_t hostlen, int *port)
{
	char buf[NETADDR_HOST_MAX + 16], *colon, *end = NULL;
	long v;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	colon = buf[0] == '[' ? strstr(buf, "]:") : strrchr(buf, ':');
	if (colon == NULL)
		return -1;
	if (buf[0] == '[')
		colon++; /* the ':' after ']' */
	*colon = '\0';
	v = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return netaddr_normalise(buf, host, hostlen) > 0 ? 0 : -1;
}

/* forward_to is a comma-separated list of HOST:PORT ([V6]:PORT); host is
 * canonical. Entries are compared in canonical form too: 127.0.0.1:22 on
 * the grant allows 0x7f.1:22, [::ffff:127.0.0.1]:22 or localhost.:22 for
 * localhost:22, since they are the same destination and the target is
 * asked for the canonical form. */
static int
forward_listed(const char *list, const char *host, int port)
{
	char h[NETADDR_HOST_MAX + 1];
	const char *p = list, *e;
	int eport;

	if (list == NULL)
		return 0;
	while (*p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if (forward_entry(p, (size_t)(e - p), h, sizeof(h), &eport) == 0 && eport == port &&
		    strcmp(h, host) == 0)
			return 1;
		p = *e != '\0' ? e + 1 : e;
	}
	return 0;
}

/* The tunnel is opened from the target: its own address, or its loopback,
 * on its SSH port reaches its sshd (ssh -J through the bastion). host is
 * canonical; so is the asset's host once normalised. A name the target
 * resolves to itself (its own host name in /etc/hosts) cannot be told
 * without the target's resolver: such a tunnel is refused unless listed,
 * like any destination, but not labelled unrecorded. */
static int
is_target_ssh(const struct asset_rec *a, const char *host, int port)
{
	char ah[NETADDR_HOST_MAX + 1];

	if (port != a->port)
		return 0;
	if (netaddr_is_local(host))
		return 1;
	return netaddr_normalise(a->host, ah, sizeof(ah)) > 0 && strcmp(ah, host) == 0;
}

int
route_tunnel(struct conn *c, const char *host, int port, int *to_target, char *msg, size_t msglen)
{
	struct facts f, one;
	struct grant_decision d;
	int64_t *agids = NULL;
	size_t nagids = 0, i;
	int r = ROUTE_REFUSED;

	*to_target = 0;
	msg[0] = '\0';
	if (facts_load(c, &f) != 0) {
		snprintf(msg, msglen, "internal error while checking grants");
		return ROUTE_REFUSED;
	}
	if (!c->target_chosen) {
		if (c->spec.asset[0] == '\0') {
			snprintf(msg, msglen, "a tunnel goes through a target: connect as %s@LOGIN@ASSET@bastion",
			         c->user->name);
			goto out;
		}
		if (resolve_direct(c, &f, RIGHT_FORWARD, msg, msglen) != ROUTE_OK)
			goto out;
	}
	*to_target = is_target_ssh(c->asset, host, port);
	if (store_asset_group_ids(c->st, c->asset->id, &agids, &nagids) != 0) {
		snprintf(msg, msglen, "internal error while checking grants");
		goto out;
	}
	if (evaluate(c, &f, c->asset, agids, nagids, c->login, RIGHT_FORWARD, &d) != 0 || !d.allow) {
		snprintf(msg, msglen, "%s", d.message[0] ? d.message : "no forward right");
		goto out;
	}
	/* The destination must be listed on a grant that itself allows the
	 * forward right now (not on any other grant of the user). */
	one = f;
	for (i = 0; i < f.nrules; i++) {
		if (!forward_listed(f.rules[i].forward_to, host, port))
			continue;
		one.rules = &f.rules[i];
		one.nrules = 1;
		if (evaluate(c, &one, c->asset, agids, nagids, c->login, RIGHT_FORWARD, &d) == 0 && d.allow) {
			r = ROUTE_OK;
			goto out;
		}
	}
	snprintf(msg, msglen,
	         strchr(host, ':') != NULL ? "[%s]:%d is not a tunnel destination of your grant on %s%s"
	                                   : "%s:%d is not a tunnel destination of your grant on %s%s",
	         host, port, c->asset->name,
	         *to_target ? " (the target's own SSH service: an unrecorded tunnel must be listed explicitly)" : "");
out:
	free(agids);
	facts_free(&f);
	return r;
}

int
route_choose(struct conn *c, const char *asset, const char *login)
{
	struct asset_rec *a = NULL;
	int r;

	if ((r = asset_lookup(c, asset, &a)) != 0)
		return r;
	if ((c->login = strdup(login)) == NULL) {
		asset_rec_free(a);
		return ERR_NOMEM;
	}
	c->asset = a;
	c->target_chosen = 1;
	return 0;
}

void
route_entries_free(struct route_entry *e, size_t n)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(e[i].asset);
		free(e[i].login);
		free(e[i].host);
	}
	free(e);
}

int
route_menu_entries(struct conn *c, struct route_entry **out, size_t *n)
{
	struct facts f;
	struct asset_rec **assets = NULL;
	size_t na = 0, i, j, ne = 0, nl;
	struct route_entry *e = NULL, *ne_p;
	char **logins;
	int64_t *agids;
	size_t nagids;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = facts_load(c, &f)) != 0)
		return r;
	if ((r = store_asset_list(c->st, &assets, &na)) != 0)
		goto out;
	for (i = 0; i < na; i++) {
		if (assets[i]->removed != 0)
			continue;
		agids = NULL;
		nagids = 0;
		logins = NULL;
		nl = 0;
		if ((r = store_asset_group_ids(c->st, assets[i]->id, &agids, &nagids)) != 0 ||
		    (r = allowed_logins(c, &f, assets[i], agids, nagids, RIGHT_SHELL, &logins, &nl)) != 0) {
			free(agids);
			goto out;
		}
		free(agids);
		for (j = 0; j < nl; j++) {
			if ((ne_p = realloc(e, (ne + 1) * sizeof(*e))) == NULL) {
				store_strv_free(logins, nl);
				r = ERR_NOMEM;
				goto out;
			}
			e = ne_p;
			e[ne].asset = strdup(assets[i]->name);
			e[ne].login = logins[j];
			e[ne].host = strdup(assets[i]->host);
			logins[j] = NULL;
			ne++;
		}
		store_strv_free(logins, nl);
	}
	*out = e;
	*n = ne;
	e = NULL;
	ne = 0;
	r = 0;
out:
	route_entries_free(e, ne);
	asset_rec_list_free(assets, na);
	facts_free(&f);
	return r;
}
