/* libFuzzer target for the scanner and the sanitiser (recorder/vtscan.h,
 * recorder/vtsan.h), which read what an operator's session printed before
 * an auditor sees it. The first byte picks the profile and where the input
 * is cut in two. Checked, on every input:
 *  - cut or whole, the output is the same (sequences split across buffers);
 *  - after every write the output leaves a terminal in its ground state
 *    (a fresh scanner over it is idle);
 *  - the output sanitised again comes out unchanged with nothing withheld:
 *    everything emitted is on the allow-list;
 *  - TEXT output holds no control but LF and HT (LINE: HT), no C1, and
 *    is valid UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/vtsan.h"
#include "recorder/vtscan.h"

struct buf {
	char *p;
	size_t len;
};

static void
append(struct buf *b, const char *p, size_t n)
{
	char *np = realloc(b->p, b->len + n + 1);

	if (np == NULL)
		abort();
	b->p = np;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
no_event(const struct vtscan_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

/* Sanitise data cut at the given points; each output piece must leave a
 * terminal in its ground state. */
static struct buf
sanitise(enum vtsan_profile p, const uint8_t *data, size_t size, size_t cut)
{
	struct vtsan *s = vtsan_new(p);
	struct vtscan *check = vtscan_new(VTSCAN_TERMINAL, no_event, NULL);
	struct buf b = {NULL, 0};
	const char *out;
	size_t n;

	if (s == NULL || check == NULL)
		abort();
	if (vtsan_write(s, data, cut, &out, &n) != 0)
		abort();
	append(&b, out, n);
	vtscan_write(check, out, n);
	if (!vtscan_idle(check))
		abort();
	if (vtsan_write(s, data + cut, size - cut, &out, &n) != 0)
		abort();
	append(&b, out, n);
	vtscan_write(check, out, n);
	if (!vtscan_idle(check))
		abort();
	if (vtsan_finish(s, &out, &n) != 0)
		abort();
	append(&b, out, n);
	vtscan_write(check, out, n);
	if (!vtscan_idle(check))
		abort();
	vtsan_free(s);
	vtscan_free(check);
	return b;
}

static void
text_event(const struct vtscan_event *ev, void *arg)
{
	const enum vtsan_profile *p = arg;

	if (ev->kind == VTSCAN_PRINT && ev->invalid)
		abort(); /* the output is UTF-8 */
	if (ev->kind == VTSCAN_EXECUTE && !(ev->cp == '\n' && *p == VTSAN_TEXT) && ev->cp != '\t')
		abort();
	if (ev->kind != VTSCAN_PRINT && ev->kind != VTSCAN_EXECUTE)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum vtsan_profile p;
	struct buf whole, cut, again;
	struct vtsan *s;
	const char *out;
	size_t n, at;

	if (size < 1)
		return 0;
	p = data[0] % 3 == 0 ? VTSAN_SCREEN : data[0] % 3 == 1 ? VTSAN_TEXT : VTSAN_LINE;
	data++;
	size--;
	at = size > 0 ? (size_t)(data[0] % (size + 1)) : 0;
	whole = sanitise(p, data, size, 0);
	cut = sanitise(p, data, size, at);
	if (whole.len != cut.len || (whole.len > 0 && memcmp(whole.p, cut.p, whole.len) != 0))
		abort();
	if (p == VTSAN_SCREEN) {
		/* idempotent, nothing withheld the second time */
		again = sanitise(p, (const uint8_t *)whole.p, whole.len, whole.len / 2);
		s = vtsan_new(p);
		if (s == NULL || vtsan_write(s, whole.p, whole.len, &out, &n) != 0 || vtsan_finish(s, &out, &n) != 0)
			abort();
		if (vtsan_withheld(s) != 0)
			abort();
		vtsan_free(s);
		if (again.len != whole.len || (whole.len > 0 && memcmp(again.p, whole.p, whole.len) != 0))
			abort();
		free(again.p);
	} else {
		struct vtscan *vs = vtscan_new(VTSCAN_LITERAL, text_event, &p);

		if (vs == NULL)
			abort();
		vtscan_write(vs, whole.p, whole.len);
		vtscan_finish(vs);
		vtscan_free(vs);
	}
	free(whole.p);
	free(cut.p);
	return 0;
}
