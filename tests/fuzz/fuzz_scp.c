/* libFuzzer target for the legacy SCP stream observer and the exec command
 * classifier of proxy/xfer-cmd.c (both see what an operator sends). The first byte splits the
 * input in two feeds, so a split anywhere must give the same events. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/argv-split.h"
#include "proxy/scp.h"
#include "proxy/xfer.h"

struct acc {
	unsigned long long sum; /* a digest of the events, compared across splits */
	int n;
};

static void
on_event(void *ud, const struct scp_event *ev)
{
	struct acc *a = ud;
	const char *p;

	a->n++;
	a->sum = a->sum * 31 + (unsigned)ev->kind + ev->size * 7 + ev->bytes * 13 + ev->mode + (unsigned)ev->complete;
	for (p = ev->path != NULL ? ev->path : ""; *p != '\0'; p++)
		a->sum = a->sum * 131 + (unsigned char)*p;
	if (ev->kind == SCP_EV_FILE && ev->bytes > ev->size)
		abort();
	if (ev->sha256 != NULL && (!ev->complete || strlen(ev->sha256) != 64))
		abort();
}

/* Invariants of a command the classifier calls a transfer, checked with
 * means of their own rather than by running the same grammar again: the
 * tool by its bare name, no shell character outside quotes, no option that
 * runs a program or writes on a download's target, and the same answer
 * whatever buffers are given. */
static void
check_classify(const char *cmd)
{
	/* rsync words that run a program, write a log or batch, or hide options */
	static const char *const never[] = {"--rsh",        "-e",           "--rsync-path", "--log-file", "--write-b",
	                                    "--only-write", "--read-batch", "--daemon",     "--config",   "-M",
	                                    "--remote-opt", "--protect",    "--secluded",   "--filter",   "--sender"};
	char paths[128], why[128];
	enum xfer_exec_kind k = xfer_exec_classify(cmd, paths, sizeof(paths), why, sizeof(why));
	struct argv_split a = {0};
	char serr[64];
	int i, j, opts = 1;

	if (xfer_exec_classify(cmd, NULL, 0, NULL, 0) != k || strlen(paths) >= sizeof(paths))
		abort();
	if (k == XE_NONE) {
		if (paths[0] != '\0')
			abort();
		return;
	}
	if (why[0] != '\0')
		abort();
	if (strncmp(cmd, k <= XE_SCP_DOWNLOAD ? "scp " : "rsync ", k <= XE_SCP_DOWNLOAD ? 4 : 6) != 0)
		abort();
	if (strpbrk(cmd, "'\"\\") == NULL && strpbrk(cmd, ";&|<>()$`*?[]{}~#!^\n\r") != NULL)
		abort();
	if (argv_split(cmd, strlen(cmd), &a, serr, sizeof(serr)) != 0)
		abort();
	for (i = 1; i < a.argc; i++) {
		const char *w = a.argv[i];

		if (k <= XE_SCP_DOWNLOAD) {
			/* options: only the letters scp's client sends */
			if (opts && strcmp(w, "--") == 0)
				break;
			if (opts && w[0] == '-' && strspn(w + 1, "vrpdtf") != strlen(w + 1))
				abort();
			if (w[0] != '-')
				opts = 0;
			else if (!opts)
				abort();
			continue;
		}
		if (strcmp(w, ".") == 0)
			opts = 0;
		if (!opts) {
			if (w[0] == '-')
				abort();
			continue;
		}
		for (j = 0; j < (int)(sizeof(never) / sizeof(never[0])); j++) {
			size_t n = strlen(never[j]);

			/* --sender only right after --server; -e only as "-FLAGSe." */
			if (strcmp(never[j], "--sender") == 0 && i == 2)
				continue;
			if (strncmp(w, never[j], n) == 0 &&
			    !(strcmp(never[j], "-e") == 0 && (w[2] == '.' || (w[2] >= '0' && w[2] <= '9'))))
				abort();
		}
		if (w[0] == '-' && w[1] != '-' && w[1] != 'B' && w[1] != '@' && strchr(w, 'e') != NULL &&
		    strchr(w, '.') == NULL)
			abort(); /* a short -e must carry the capability dot */
		if (k == XE_RSYNC_DOWNLOAD && strncmp(w, "--remove-s", 10) == 0)
			abort();
		if (k == XE_RSYNC_UPLOAD && (strncmp(w, "--files-from", 12) == 0 || strncmp(w, "-B", 2) == 0))
			abort();
	}
	if (k >= XE_RSYNC_UPLOAD && (a.argc < 4 || strcmp(a.argv[1], "--server") != 0))
		abort();
	argv_split_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acc a = {0, 0}, b = {0, 0};
	struct scp *s;
	size_t cut;
	int ra, rb1, rb2;
	char *cmd;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	s = scp_new(on_event, &a);
	ra = scp_feed(s, data, size);
	scp_free(s);
	s = scp_new(on_event, &b);
	rb1 = scp_feed(s, data, cut);
	rb2 = rb1 == 0 ? scp_feed(s, data + cut, size - cut) : rb1;
	scp_free(s);
	if ((ra == 0) != (rb2 == 0))
		abort();
	if (ra == 0 && (a.n != b.n || a.sum != b.sum))
		abort();
	/* the classifier (proxy/xfer-cmd.c) */
	if ((cmd = malloc(size + 1)) == NULL)
		return 0;
	memcpy(cmd, data, size);
	cmd[size] = '\0';
	check_classify(cmd);
	free(cmd);
	return 0;
}
