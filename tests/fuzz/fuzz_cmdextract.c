/* libFuzzer target for the command extractor: arbitrary interleavings of
 * target output and operator input, with the proxy's calls mixed in.
 *
 * The data is a list of records. A record's first byte o chooses:
 *   o >> 6 == 0 or 1  target output, 2  operator input, 3  a call:
 *   size code s = o & 0x3f: s <= 48 bytes follow, else (s - 48) * 64 bytes;
 *   for calls, s % 8: 0 pending command, 1 pending typed, 2 resize (next two
 *   bytes: cols, rows), 3 cancel line, 4 judge the pending line, 5 a tick
 *   (the clock jumps past CMDX_CONFIRM_US), 6 secret and length queries,
 *   7 finish (the channel ends; the extractor must go on working).
 * Operator input goes in the way the proxy feeds it: cut at every
 * judgement point, every reading judged (a line holding "rm -" is
 * refused: the cancel key replaces the byte and the rest is dropped).
 * Events are drained after each record and checked for consistency.
 * Seeds: tests/fuzz/corpus/fuzz_cmdextract, made from the bash corpus by
 * `tests/cmdx/gen-corpus.py --fuzz-seeds`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/cmdextract.h"

static int
judge(void *arg, const char *text, size_t len, enum cmdx_witness w)
{
	if (text == NULL || strlen(text) != len || len == 0 || w < CMDX_W_SCREEN || w > CMDX_W_GUESS)
		abort();
	return strstr(text, "rm -") != NULL;
}

/* The proxy's loop over one write of the operator. */
static void
proxy_input(struct cmdx *cx, const uint8_t *b, size_t n, int64_t t)
{
	while (n > 0) {
		size_t off = cmdx_input_enter_offset(cx, b, n);
		uint8_t c;

		if (off > n || (off < n && b[off] != '\r' && b[off] != '\n' && b[off] != 0x0f))
			abort();
		if (cmdx_input(cx, b, off, t) != 0)
			abort();
		if (off == n)
			return;
		if (cmdx_judge(cx, judge, NULL) == 1) {
			c = cmdx_cancel_key(cx);
			if (cmdx_input(cx, &c, 1, t) != 0)
				abort();
			return;
		}
		if (cmdx_input(cx, b + off, 1, t) != 0)
			abort();
		b += off + 1;
		n -= off + 1;
	}
}

static void
drain(struct cmdx *cx, int *alt)
{
	struct cmdx_event ev;
	char reasons[CMDX_REASONS_MAX];

	while (cmdx_next(cx, &ev) == 0) {
		cmdx_reasons_text(ev.reasons, reasons, sizeof(reasons));
		switch (ev.type) {
		case CMDX_EV_COMMAND:
			if (ev.text == NULL || strlen(ev.text) != ev.len || ev.len == 0 ||
			    ev.len > CMDX_MAX_COMMAND + strlen(CMDX_TRUNCATED_MARKER))
				abort();
			if ((ev.flags & CMDX_F_TRUNCATED) && (ev.flags & CMDX_F_TYPED_AGREES))
				abort();
			if ((ev.flags & CMDX_F_FROM_KEYS) && ev.reasons == 0)
				abort(); /* a line from the keys always says why */
			break;
		case CMDX_EV_SECRET_LINE:
			if (ev.text != NULL || ev.len == 0 || !(ev.reasons & CMDX_R_SECRET))
				abort();
			break;
		case CMDX_EV_FULLSCREEN_ENTER:
			if (*alt)
				abort();
			*alt = 1;
			break;
		case CMDX_EV_FULLSCREEN_LEAVE:
			if (!*alt)
				abort();
			*alt = 0;
			break;
		default: abort();
		}
		cmdx_event_clear(&ev);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdx *cx = cmdx_new(80, 24);
	size_t i = 0, n;
	int alt = 0;
	int64_t t = 0;
	char *s;

	if (cx == NULL)
		return 0;
	while (i < size) {
		uint8_t o = data[i++];
		unsigned code = o & 0x3f, kind = o >> 6;

		n = code <= 48 ? code : (code - 48) * 64;
		if (kind == 3) {
			switch (code % 8) {
			case 0:
				if (cmdx_pending_command(cx, &s) == 0) {
					if (s == NULL)
						abort();
					free(s);
				}
				break;
			case 1:
				if (cmdx_pending_typed(cx, &s) == 0) {
					if (s == NULL)
						abort();
					free(s);
				}
				break;
			case 2:
				if (i + 2 <= size) {
					cmdx_resize(cx, 2 + data[i] % 200, 1 + data[i + 1] % 60);
					i += 2;
				}
				break;
			case 3: cmdx_cancel_line(cx); break;
			case 4: (void)cmdx_judge(cx, judge, NULL); break;
			case 5:
				t += CMDX_CONFIRM_US;
				cmdx_tick(cx, t);
				break;
			case 6:
				(void)cmdx_pending_secret(cx);
				(void)cmdx_pending_len(cx);
				(void)cmdx_cancel_key(cx);
				break;
			case 7: cmdx_finish(cx); break;
			}
			drain(cx, &alt);
			continue;
		}
		if (n > size - i)
			n = size - i;
		if (kind == 2)
			proxy_input(cx, data + i, n, t++);
		else if (cmdx_output(cx, data + i, n, t++) != 0)
			abort();
		i += n;
		drain(cx, &alt);
	}
	cmdx_free(cx);
	return 0;
}
