/* libFuzzer target for the legacy SCP stream observer and the exec command
 * classifier (both see what an operator sends). The first byte splits the
 * input in two feeds, so a split anywhere must give the same events. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acc a = {0, 0}, b = {0, 0};
	struct scp *s;
	size_t cut;
	int ra, rb1, rb2;
	char *cmd, paths[128];

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
	/* the classifier: never a transfer with an unquoted shell character */
	if ((cmd = malloc(size + 1)) == NULL)
		return 0;
	memcpy(cmd, data, size);
	cmd[size] = '\0';
	if (xfer_exec_classify(cmd, paths, sizeof(paths)) != XE_NONE && strpbrk(cmd, ";|&`\n") != NULL &&
	    strchr(cmd, '\'') == NULL && strchr(cmd, '"') == NULL && strchr(cmd, '\\') == NULL)
		abort();
	free(cmd);
	return 0;
}
