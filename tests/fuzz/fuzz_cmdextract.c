/* libFuzzer target for the command extractor: arbitrary interleavings of
 * target output and operator input, with the proxy's calls mixed in.
 *
 * The data is a list of records. A record's first byte o chooses:
 *   o >> 6 == 0 or 1  target output, 2  operator input, 3  a call:
 *   size code s = o & 0x3f: s <= 48 bytes follow, else (s - 48) * 64 bytes;
 *   for calls, s % 4: 0 pending command, 1 pending typed, 2 resize (next two
 *   bytes: cols, rows), 3 cancel line.
 * Events are drained after each record and checked for consistency.
 * Seeds: tests/fuzz/corpus/fuzz_cmdextract, made from the bash corpus by
 * `tests/cmdx/gen-corpus.py --fuzz-seeds`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/cmdextract.h"

static void
drain(struct cmdx *cx, int *alt)
{
	struct cmdx_event ev;

	while (cmdx_next(cx, &ev) == 0) {
		switch (ev.type) {
		case CMDX_EV_COMMAND:
			if (ev.text == NULL || strlen(ev.text) != ev.len || ev.len == 0 ||
			    ev.len > CMDX_MAX_COMMAND + strlen(CMDX_TRUNCATED_MARKER))
				abort();
			if ((ev.flags & CMDX_F_TRUNCATED) && (ev.flags & CMDX_F_TYPED_AGREES))
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
	size_t i = 0, n, off;
	int alt = 0, t = 0;
	char *s;

	if (cx == NULL)
		return 0;
	while (i < size) {
		uint8_t o = data[i++];
		unsigned code = o & 0x3f, kind = o >> 6;

		n = code <= 48 ? code : (code - 48) * 64;
		if (kind == 3) {
			switch (code % 4) {
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
			}
			drain(cx, &alt);
			continue;
		}
		if (n > size - i)
			n = size - i;
		if (kind == 2) {
			off = cmdx_input_enter_offset(cx, data + i, n);
			if (off > n || (off < n && data[i + off] != '\r' && data[i + off] != '\n'))
				abort();
			if (cmdx_input(cx, data + i, n, t++) != 0)
				abort();
		} else if (cmdx_output(cx, data + i, n, t++) != 0) {
			abort();
		}
		i += n;
		drain(cx, &alt);
	}
	cmdx_free(cx);
	return 0;
}
