/* libFuzzer target for the player's terminal emulator on recorded target
 * output, which is untrusted: whatever the target printed must neither
 * crash nor hang the emulator, and seeking must stay exact.
 *
 * The data is a list of records. A record's first byte o chooses:
 *   o == 0xff           a window-size change (next two bytes: cols, rows)
 *   o == 0xfe           a seek point: when the writer would take a
 *                       keyframe here, snapshot and go on from the copy
 *   otherwise           (o & 0x7f) + 1 bytes of output follow
 * A reference terminal takes the same output without ever being
 * snapshotted; at the end both must show the same screen (the property
 * the player's seeking relies on: a keyframe plus the rest equals a full
 * replay). Seeds: tests/fuzz/corpus/fuzz_vt_stream. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "recorder/keyframe.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_term *t = NULL, *ref = NULL, *u;
	size_t i = 0, n;
	uint8_t *blob;
	size_t len;
	char why[256];
	int r;

	if (size > (1u << 16))
		return 0;
	if (kf_term_new(80, 24, &t) != 0 || kf_term_new(80, 24, &ref) != 0)
		abort();
	while (i < size) {
		uint8_t o = data[i++];

		if (o == 0xff) {
			if (i + 2 > size)
				break;
			kf_term_resize(t, 2 + data[i] % 200, 1 + data[i + 1] % 60);
			kf_term_resize(ref, 2 + data[i] % 200, 1 + data[i + 1] % 60);
			i += 2;
			continue;
		}
		if (o == 0xfe) {
			/* The writer skips points it cannot restore exactly. */
			if ((r = kf_term_snapshot(t, &blob, &len)) == ERR_BUSY)
				continue;
			if (r != 0)
				abort();
			if (kf_term_restore(blob, len, &u) != 0)
				abort(); /* and the snapshot restores */
			free(blob);
			if (kf_term_compare(t, u, 1, why, sizeof(why)) != 0) {
				fprintf(stderr, "restored terminal differs: %s\n", why);
				abort();
			}
			kf_term_free(t);
			t = u;
			continue;
		}
		n = (size_t)(o & 0x7f) + 1;
		if (n > size - i)
			n = size - i;
		kf_term_write(t, data + i, n);
		kf_term_write(ref, data + i, n);
		i += n;
	}
	if (kf_term_compare(t, ref, 0, why, sizeof(why)) != 0) {
		fprintf(stderr, "seek differs from full replay: %s\n", why);
		abort();
	}
	kf_term_free(t);
	kf_term_free(ref);
	return 0;
}
