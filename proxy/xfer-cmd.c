/* Transfer command recognition (see xfer-cmd.h). The allow-lists are what
 * the clients send: OpenSSH's scp.c builds "scp [-v] [-r] [-p] [-d] -t|-f
 * [--] PATH"; rsync's server_options() (options.c) builds "rsync --server
 * [--sender] -FLAGSe.CAPS [long options] . PATH...". Anything the lists
 * do not name makes the command an ordinary command. */
#include "proxy/xfer-cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proxy/argv-split.h"

/* Characters a shell would act on. A transfer command that holds one
 * unquoted (or `$`/backquote inside double quotes) is not a plain scp/rsync
 * and is treated as a command, since the target's shell runs it. The scan
 * follows argv-split's quoting rules. `^` is a pipe in the old Bourne shell
 * and a glob operator in zsh. */
static int
shell_special(const char *s)
{
	int sq = 0, dq = 0;

	for (; *s != '\0'; s++) {
		if (sq) {
			if (*s == '\'')
				sq = 0;
			continue;
		}
		if (dq) {
			if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) {
				s++;
				continue;
			}
			if (*s == '"')
				dq = 0;
			else if (*s == '$' || *s == '`' || *s == '\\')
				return 1;
			continue;
		}
		if (*s == '\\' && s[1] != '\0') {
			s++;
			continue;
		}
		if (*s == '\'')
			sq = 1;
		else if (*s == '"')
			dq = 1;
		else if (strchr(";&|<>()$`*?[]{}~#!^\n\r", *s) != NULL)
			return 1;
	}
	return 0;
}

static void say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static void
add_path(char *paths, size_t len, const char *p)
{
	size_t n;

	if (paths == NULL || len == 0)
		return;
	n = strlen(paths);
	if (n + 1 < len)
		snprintf(paths + n, len - n, "%s%s", n ? " " : "", p);
}

/* ---- scp ----------------------------------------------------------------
 * Server side options of OpenSSH's scp, as its client sends them (one
 * letter a word; clustered forms such as -pf are accepted too, they mean
 * the same to getopt): -v verbose, -r recursive, -p times and modes, -d the
 * target must be a directory, -t sink (upload), -f source (download). */
static enum xfer_exec_kind
scp_classify(const struct argv_split *a, char *paths, size_t pathslen, char *why, size_t whylen)
{
	int i, up = 0, down = 0, ddash = 0;
	const char *p;

	for (i = 1; i < a->argc && a->argv[i][0] == '-'; i++) {
		if (strcmp(a->argv[i], "--") == 0) {
			ddash = 1;
			i++;
			break;
		}
		if (a->argv[i][1] == '\0') {
			say(why, whylen, "scp option '%s' is not one a client sends", a->argv[i]);
			return XE_NONE;
		}
		for (p = a->argv[i] + 1; *p != '\0'; p++) {
			if (strchr("vrpdtf", *p) == NULL) {
				say(why, whylen, "scp option %s is not one a client sends (-v -r -p -d -t -f)",
				    a->argv[i]);
				return XE_NONE;
			}
			up |= *p == 't';
			down |= *p == 'f';
		}
	}
	if (up == down) {
		say(why, whylen, "%s", up ? "scp with both -t and -f" : "scp without -t or -f (not the server side)");
		return XE_NONE;
	}
	if (i >= a->argc) {
		say(why, whylen, "%s", "scp without a path");
		return XE_NONE;
	}
	for (; i < a->argc; i++) {
		/* getopt may still take it as an option (GNU getopt permutes) */
		if (!ddash && a->argv[i][0] == '-') {
			say(why, whylen, "scp option %s after the path", a->argv[i]);
			return XE_NONE;
		}
		add_path(paths, pathslen, a->argv[i]);
	}
	return up ? XE_SCP_UPLOAD : XE_SCP_DOWNLOAD;
}

/* ---- rsync --------------------------------------------------------------- */

#define RS_UP   1u /* the target receives: rsync --server (upload) */
#define RS_DOWN 2u /* the target sends: rsync --server --sender (download) */
#define RS_BOTH (RS_UP | RS_DOWN)

/* Letters of the short option string rsync's client sends to a server
 * (server_options()), one by one: verbosity, backups, update, dry run,
 * links, dirs, keep-dirlinks, prune, omit times, fuzzy, copy links,
 * whole file, hard links, owner, group, devices, times, atimes, crtimes,
 * perms, executability, ACLs, xattrs, recursion, checksum, cvs-exclude,
 * ignore times, relative, one file system, sparse, compression. Not 's'
 * (--protect-args: the rest of the options would travel inside the stream,
 * unseen). 'e' is handled apart: see rsync_cluster(). */
static const char rsync_letters[] = "vqbunldKmOJyLkWHogDtUNpEAXrcCIRxSz";
/* Capability flags after "e." (maybe_add_e_option() and compat.c): incremental
 * recursion, symlink times, symlink iconv, flist I/O-error safety, xattr
 * optimisation, checksum seed order, inplace partial, varint flags, uid 0
 * names, and the pre-release 'V'. */
static const char rsync_caps[] = "iLsfxCIvuV";

enum rsync_arg {
	RA_NONE,  /* --name */
	RA_NUM,   /* --name=N (N may be negative) */
	RA_STR,   /* --name=VALUE */
	RA_WORD,  /* --name VALUE, the value as the next word */
	RA_EXACT, /* only the spellings in values */
};

struct rsync_opt {
	const char *name;
	enum rsync_arg arg;
	unsigned dirs; /* RS_UP, RS_DOWN */
	const char *values[5];
};

/* The long options rsync's client sends to a server for a transfer, with
 * the direction they are sent in. Options that make the target write in a
 * download (--remove-source-files, --log-file, --write-batch ...) or run
 * something else (--rsh, --rsync-path, --daemon, --config) are absent; so
 * is --files-from in an upload (the target would read the file and send
 * its lines to the operator). */
static const struct rsync_opt rsync_opts[] = {
        {"--iconv", RA_STR, RS_BOTH, {NULL}},
        {"--list-only", RA_NONE, RS_BOTH, {NULL}},
        {"--no-r", RA_NONE, RS_UP, {NULL}},
        {"--compress-level", RA_NUM, RS_BOTH, {NULL}},
        {"--no-specials", RA_NONE, RS_BOTH, {NULL}},
        {"--specials", RA_NONE, RS_BOTH, {NULL}},
        {"--log-format",
         RA_EXACT,
         RS_UP,
         {"--log-format=%i", "--log-format=%i%I", "--log-format=%o", "--log-format=X", NULL}},
        {"--msgs2stderr", RA_NONE, RS_BOTH, {NULL}},
        {"--no-msgs2stderr", RA_NONE, RS_BOTH, {NULL}},
        {"--timeout", RA_NUM, RS_BOTH, {NULL}},
        {"--bwlimit", RA_NUM, RS_BOTH, {NULL}},
        {"--backup-dir", RA_WORD, RS_UP, {NULL}},
        {"--suffix", RA_STR, RS_BOTH, {NULL}},
        {"--checksum-choice", RA_STR, RS_BOTH, {NULL}},
        {"--new-compress", RA_NONE, RS_BOTH, {NULL}},
        {"--old-compress", RA_NONE, RS_BOTH, {NULL}},
        {"--compress-choice", RA_STR, RS_BOTH, {NULL}},
        {"--max-delete", RA_NUM, RS_UP, {NULL}},
        {"--min-size", RA_STR, RS_UP, {NULL}},
        {"--max-size", RA_STR, RS_UP, {NULL}},
        {"--delete-before", RA_NONE, RS_UP, {NULL}},
        {"--delete-delay", RA_NONE, RS_UP, {NULL}},
        {"--delete-during", RA_NONE, RS_UP, {NULL}},
        {"--delete-after", RA_NONE, RS_UP, {NULL}},
        {"--delete", RA_NONE, RS_UP, {NULL}},
        {"--delete-excluded", RA_NONE, RS_UP, {NULL}},
        {"--force", RA_NONE, RS_UP, {NULL}},
        {"--super", RA_NONE, RS_UP, {NULL}},
        {"--size-only", RA_NONE, RS_UP, {NULL}},
        {"--stats", RA_NONE, RS_UP, {NULL}},
        {"--skip-compress", RA_STR, RS_DOWN, {NULL}},
        {"--max-alloc", RA_STR, RS_BOTH, {NULL}},
        {"--delete-missing-args", RA_NONE, RS_BOTH, {NULL}},
        {"--ignore-missing-args", RA_NONE, RS_DOWN, {NULL}},
        {"--modify-window", RA_NUM, RS_UP, {NULL}},
        {"--checksum-seed", RA_NUM, RS_BOTH, {NULL}},
        {"--partial-dir", RA_WORD, RS_UP, {NULL}},
        {"--delay-updates", RA_NONE, RS_UP, {NULL}},
        {"--partial", RA_NONE, RS_UP, {NULL}},
        {"--ignore-errors", RA_NONE, RS_BOTH, {NULL}},
        {"--copy-unsafe-links", RA_NONE, RS_BOTH, {NULL}},
        {"--safe-links", RA_NONE, RS_BOTH, {NULL}},
        {"--numeric-ids", RA_NONE, RS_BOTH, {NULL}},
        {"--use-qsort", RA_NONE, RS_BOTH, {NULL}},
        {"--usermap", RA_STR, RS_UP, {NULL}},
        {"--groupmap", RA_STR, RS_UP, {NULL}},
        {"--ignore-existing", RA_NONE, RS_UP, {NULL}},
        {"--existing", RA_NONE, RS_UP, {NULL}},
        {"--temp-dir", RA_WORD, RS_UP, {NULL}},
        {"--fsync", RA_NONE, RS_UP, {NULL}},
        {"--compare-dest", RA_WORD, RS_UP, {NULL}},
        {"--copy-dest", RA_WORD, RS_UP, {NULL}},
        {"--link-dest", RA_WORD, RS_UP, {NULL}},
        {"--info", RA_STR, RS_BOTH, {NULL}},
        {"--debug", RA_STR, RS_BOTH, {NULL}},
        {"--append", RA_NONE, RS_BOTH, {NULL}},
        {"--inplace", RA_NONE, RS_BOTH, {NULL}},
        {"--no-W", RA_NONE, RS_BOTH, {NULL}},
        {"--files-from", RA_WORD, RS_DOWN, {"--files-from=-", NULL}},
        {"--from0", RA_NONE, RS_DOWN, {NULL}},
        {"--no-relative", RA_NONE, RS_DOWN, {NULL}},
        {"--no-implied-dirs", RA_NONE, RS_BOTH, {NULL}},
        {"--write-devices", RA_NONE, RS_UP, {NULL}},
        /* the operator's client deletes its own files after an upload */
        {"--remove-source-files", RA_NONE, RS_UP, {NULL}},
        {"--remove-sent-files", RA_NONE, RS_UP, {NULL}},
        {"--copy-devices", RA_NONE, RS_DOWN, {NULL}},
        {"--preallocate", RA_NONE, RS_UP, {NULL}},
        {"--open-noatime", RA_NONE, RS_BOTH, {NULL}},
        {"--mkpath", RA_NONE, RS_UP, {NULL}},
};

static int
is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* The short option string: letters from rsync_letters, then optionally
 * 'e' and the capability flags ("e.iLsfxCIvu", or "e32.1iLs..." from a
 * pre-release client). In a server's command line rsync reads the argument
 * of -e as those flags (compat.c, client_info), never as a remote shell. */
static int
rsync_cluster(const char *w)
{
	const char *p;

	for (p = w + 1; *p != '\0' && *p != 'e'; p++)
		if (strchr(rsync_letters, *p) == NULL)
			return 0;
	if (*p == '\0')
		return p > w + 1;
	p++; /* 'e' */
	if (*p >= '0' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != '.' || *p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	} else if (*p++ != '.') {
		return 0;
	}
	for (; *p != '\0'; p++)
		if (strchr(rsync_caps, *p) == NULL)
			return 0;
	return 1;
}

/* One long option word (and its value word for RA_WORD). Returns the
 * number of words used, 0 when not allowed. */
static int
rsync_long(const struct argv_split *a, int i, unsigned dir)
{
	const char *w = a->argv[i], *eq = strchr(w, '=');
	size_t n = eq != NULL ? (size_t)(eq - w) : strlen(w), k, v;

	for (k = 0; k < sizeof(rsync_opts) / sizeof(rsync_opts[0]); k++) {
		const struct rsync_opt *o = &rsync_opts[k];

		if (strlen(o->name) != n || strncmp(o->name, w, n) != 0)
			continue;
		if ((o->dirs & dir) == 0)
			return 0;
		for (v = 0; v < sizeof(o->values) / sizeof(o->values[0]) && o->values[v] != NULL; v++)
			if (strcmp(o->values[v], w) == 0)
				return 1;
		switch (o->arg) {
		case RA_NONE: return eq == NULL;
		case RA_NUM: return eq != NULL && is_number(eq + 1);
		case RA_STR: return eq != NULL;
		case RA_WORD:
			/* popt would take a word starting with '-' as the value too;
			 * clients never send one (paths are absolute or ./-x). A value
			 * "." is refused too: "." always ends the options here. */
			return eq == NULL && i + 1 < a->argc && a->argv[i + 1][0] != '-' &&
			                       strcmp(a->argv[i + 1], ".") != 0
			               ? 2
			               : 0;
		case RA_EXACT: return 0;
		}
	}
	return 0;
}

static enum xfer_exec_kind
rsync_classify(const struct argv_split *a, char *paths, size_t pathslen, char *why, size_t whylen)
{
	unsigned dir = RS_UP;
	int i = 2, n;
	const char *w;

	if (a->argc < 2 || strcmp(a->argv[1], "--server") != 0) {
		say(why, whylen, "%s", "rsync without --server (not the server side of a transfer)");
		return XE_NONE;
	}
	if (i < a->argc && strcmp(a->argv[i], "--sender") == 0) {
		dir = RS_DOWN;
		i++;
	}
	/* The short option string comes first when there is one. */
	if (i < a->argc && a->argv[i][0] == '-' && a->argv[i][1] != '-' && a->argv[i][1] != 'B' &&
	    a->argv[i][1] != '@') {
		if (!rsync_cluster(a->argv[i])) {
			say(why, whylen, "rsync option string %s has a letter a plain transfer does not use",
			    a->argv[i]);
			return XE_NONE;
		}
		i++;
	}
	while (i < a->argc && strcmp(a->argv[i], ".") != 0) {
		w = a->argv[i];
		/* -B (block size) only in a download: in an upload the target
		 * sends the checksums of its existing files' blocks, and tiny
		 * blocks would spell out their content. */
		if (dir == RS_DOWN && strncmp(w, "-B", 2) == 0 && is_number(w + 2) && w[2] != '-') {
			i++;
			continue;
		}
		if (dir == RS_UP && strncmp(w, "-@", 2) == 0 && is_number(w + 2)) {
			i++;
			continue;
		}
		if (strncmp(w, "--", 2) != 0 || (n = rsync_long(a, i, dir)) == 0) {
			say(why, whylen, "rsync option %s is not one a plain transfer uses", w);
			return XE_NONE;
		}
		i += n;
	}
	if (i >= a->argc || i + 1 >= a->argc) {
		say(why, whylen, "%s", "rsync without \". PATH\"");
		return XE_NONE;
	}
	for (i++; i < a->argc; i++) {
		/* rsync's option parser reads options after the "." as well */
		if (a->argv[i][0] == '-') {
			say(why, whylen, "rsync option %s after the paths", a->argv[i]);
			return XE_NONE;
		}
		add_path(paths, pathslen, a->argv[i]);
	}
	return dir == RS_DOWN ? XE_RSYNC_DOWNLOAD : XE_RSYNC_UPLOAD;
}

/* For the refusal message only: a command whose first word ends in /scp or
 * /rsync (or is quoted, or preceded by spaces) looks like a transfer to the
 * operator but is not one. */
static void
named_by_path(const char *command, char *why, size_t whylen)
{
	struct argv_split a = {0};
	const char *base;
	char serr[64];

	if (argv_split(command, strlen(command), &a, serr, sizeof(serr)) == 0 && a.argc > 0) {
		base = strrchr(a.argv[0], '/') != NULL ? strrchr(a.argv[0], '/') + 1 : a.argv[0];
		if (strcmp(base, "scp") == 0 || strcmp(base, "rsync") == 0)
			say(why, whylen, "%s is run only by its bare name, as its client sends it", base);
	}
	argv_split_free(&a);
}

enum xfer_exec_kind
xfer_exec_classify(const char *command, char *paths, size_t pathslen, char *why, size_t whylen)
{
	struct argv_split a = {0};
	char serr[128];
	enum xfer_exec_kind k = XE_NONE;
	int scp;

	if (paths != NULL && pathslen > 0)
		paths[0] = '\0';
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (command == NULL)
		goto out;
	/* The tool itself, by the name its client uses: a path (./scp,
	 * /tmp/x/scp, even /usr/bin/scp) or a wrapper is something else. */
	if (strncmp(command, "scp ", 4) == 0) {
		scp = 1;
	} else if (strncmp(command, "rsync ", 6) == 0) {
		scp = 0;
	} else {
		named_by_path(command, why, whylen);
		goto out;
	}
	if (shell_special(command)) {
		say(why, whylen, "%s", "a character the target's shell would act on");
		goto out;
	}
	if (argv_split(command, strlen(command), &a, serr, sizeof(serr)) != 0) {
		say(why, whylen, "%s", serr);
		goto out;
	}
	k = scp ? scp_classify(&a, paths, pathslen, why, whylen) : rsync_classify(&a, paths, pathslen, why, whylen);
out:
	if (k == XE_NONE && paths != NULL && pathslen > 0)
		paths[0] = '\0';
	argv_split_free(&a);
	return k;
}
