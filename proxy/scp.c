/* Legacy SCP stream observer (see scp.h): a byte-driven state machine, so
 * any split of the stream gives the same events. */
#include "proxy/scp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"

enum scp_state {
	ST_LINE, /* reading a control line */
	ST_DATA, /* reading a file's bytes */
	ST_END,  /* the '\0' after a file's bytes */
	ST_FAIL, /* not SCP: ignored from here on */
};

struct scp {
	scp_event_fn fn;
	void *ud;
	enum scp_state st;
	char line[SCP_MAX_LINE + 1];
	size_t nline;
	/* current file */
	char *name;
	uint32_t mode;
	uint64_t size, seen;
	EVP_MD_CTX *md;
	/* directory stack, joined */
	char dir[SCP_MAX_DEPTH * 256];
	size_t dirlen[SCP_MAX_DEPTH + 1];
	int depth;
	char err[128];
};

static void
fail(struct scp *s, const char *why)
{
	s->st = ST_FAIL;
	snprintf(s->err, sizeof(s->err), "%s", why);
}

static void
join(const struct scp *s, const char *name, char *out, size_t len)
{
	if (s->dir[0] != '\0')
		snprintf(out, len, "%s/%s", s->dir, name);
	else
		snprintf(out, len, "%s", name);
}

static void
file_done(struct scp *s, int complete)
{
	struct scp_event ev;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	char sha[2 * EVP_MAX_MD_SIZE + 1], path[sizeof(s->dir) + SCP_MAX_LINE + 2];

	if (s->name == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = SCP_EV_FILE;
	join(s, s->name, path, sizeof(path));
	ev.path = path;
	ev.name = s->name;
	ev.mode = s->mode;
	ev.size = s->size;
	ev.bytes = s->seen;
	ev.complete = complete;
	if (complete && s->md != NULL && EVP_DigestFinal_ex(s->md, md, &mdlen) == 1) {
		for (i = 0; i < mdlen; i++)
			snprintf(sha + 2 * i, 3, "%02x", md[i]);
		ev.sha256 = sha;
	}
	if (s->fn != NULL)
		s->fn(s->ud, &ev);
	free(s->name);
	s->name = NULL;
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}

/* "Cmmmm size name" / "Dmmmm size name": mode is 4 octal digits. */
static int
parse_cd(struct scp *s, const char *l, uint32_t *mode, uint64_t *size, const char **name)
{
	char *end;
	unsigned long long sz;
	int i;

	*mode = 0;
	for (i = 1; i <= 4; i++) {
		if (l[i] < '0' || l[i] > '7')
			return -1;
		*mode = *mode * 8 + (uint32_t)(l[i] - '0');
	}
	if (l[5] != ' ' || l[6] < '0' || l[6] > '9')
		return -1;
	sz = strtoull(l + 6, &end, 10);
	if (*end != ' ' || end[1] == '\0')
		return -1;
	*size = sz;
	*name = end + 1;
	/* A name is one path component (what scp itself accepts). */
	if (strchr(*name, '/') != NULL || strcmp(*name, "..") == 0 || strcmp(*name, ".") == 0)
		return -1;
	return 0;
}

static void
control_line(struct scp *s)
{
	const char *l = s->line, *name;
	struct scp_event ev;
	uint32_t mode;
	uint64_t size;
	size_t n, nl;

	switch (l[0]) {
	case 'C':
		if (parse_cd(s, l, &mode, &size, &name) != 0) {
			fail(s, "malformed C line");
			return;
		}
		if ((s->name = strdup(name)) == NULL) {
			fail(s, "out of memory");
			return;
		}
		s->mode = mode;
		s->size = size;
		s->seen = 0;
		s->md = EVP_MD_CTX_new();
		if (s->md != NULL && EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
			EVP_MD_CTX_free(s->md);
			s->md = NULL;
		}
		s->st = size > 0 ? ST_DATA : ST_END;
		return;
	case 'D':
		if (parse_cd(s, l, &mode, &size, &name) != 0 || s->depth >= SCP_MAX_DEPTH) {
			fail(s, "malformed D line");
			return;
		}
		n = strlen(s->dir);
		nl = strlen(name);
		if (n + 1 + nl >= sizeof(s->dir)) {
			fail(s, "directory path too long");
			return;
		}
		s->dirlen[s->depth++] = n;
		if (n > 0)
			s->dir[n++] = '/';
		memcpy(s->dir + n, name, nl + 1);
		memset(&ev, 0, sizeof(ev));
		ev.kind = SCP_EV_DIR;
		ev.path = s->dir;
		ev.name = name;
		ev.mode = mode;
		if (s->fn != NULL)
			s->fn(s->ud, &ev);
		return;
	case 'E':
		if (l[1] != '\0' || s->depth == 0) {
			fail(s, "unbalanced E line");
			return;
		}
		s->dir[s->dirlen[--s->depth]] = '\0';
		return;
	case 'T': return; /* times of the next entry: not logged */
	case '\001':
	case '\002':
		memset(&ev, 0, sizeof(ev));
		ev.kind = SCP_EV_ERROR;
		ev.message = l + 1;
		if (s->fn != NULL)
			s->fn(s->ud, &ev);
		return;
	default: fail(s, "not an SCP control line"); return;
	}
}

int
scp_feed(struct scp *s, const void *p, size_t n)
{
	const uint8_t *q = p;
	size_t i = 0, take;

	while (i < n) {
		switch (s->st) {
		case ST_FAIL: return ERR_INVALID;
		case ST_LINE:
			if (q[i] == '\n') {
				s->line[s->nline] = '\0';
				s->nline = 0;
				i++;
				control_line(s);
				break;
			}
			if (q[i] == '\0' && s->nline == 0) {
				i++; /* an acknowledgement on this side (the sink's first byte) */
				break;
			}
			if (s->nline == SCP_MAX_LINE) {
				fail(s, "control line too long");
				return ERR_INVALID;
			}
			s->line[s->nline++] = (char)q[i++];
			break;
		case ST_DATA:
			take = n - i;
			if (take > s->size - s->seen)
				take = (size_t)(s->size - s->seen);
			if (s->md != NULL && EVP_DigestUpdate(s->md, q + i, take) != 1) {
				EVP_MD_CTX_free(s->md);
				s->md = NULL;
			}
			s->seen += take;
			i += take;
			if (s->seen == s->size)
				s->st = ST_END;
			break;
		case ST_END:
			/* '\0' ends the file; anything else is the source's error byte. */
			file_done(s, q[i] == '\0');
			i++;
			s->st = ST_LINE;
			break;
		}
	}
	return s->st == ST_FAIL ? ERR_INVALID : 0;
}

struct scp *
scp_new(scp_event_fn fn, void *ud)
{
	struct scp *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->fn = fn;
	s->ud = ud;
	s->st = ST_LINE;
	return s;
}

void
scp_free(struct scp *s)
{
	if (s == NULL)
		return;
	file_done(s, 0);
	EVP_MD_CTX_free(s->md);
	free(s);
}

const char *
scp_error(const struct scp *s)
{
	return s->err[0] ? s->err : "no error";
}
