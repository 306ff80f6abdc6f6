/* libFuzzer target for the keyframe cache loader: the sidecar cache
 * (RECORDING.ghkf) is untrusted, it may be stale or forged. The first byte
 * picks what the rest is:
 *  - odd: one terminal snapshot (kf_term_restore). A snapshot that
 *    restores must be usable: the emulator takes more output, and its own
 *    snapshot restores again to an equal terminal.
 *  - even: a whole decoded cache (kf_cache_decode). The SHA-256 at its end
 *    is recomputed here and the identity the loader compares with is taken
 *    from the input, so that mutations reach the entry parser instead of
 *    stopping at the checksum; every entry's snapshot is then restored.
 * Seeds (corpus/fuzz_keyframe/) are snapshots and caches of recordings made
 * by the writer (alternate screen, wide characters, colours, margins). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/err.h"
#include "recorder/keyframe.h"

static void
exercise(struct kf_term *t)
{
	static const char more[] = "x\033[2J\033[5;3H\xe4\xb8\xad\033(0q\033(B\033[?1049l\033[r\r\ny\xcc\x81";
	struct kf_term *u = NULL;
	uint8_t *blob = NULL;
	size_t len = 0;
	char why[128];

	kf_term_write(t, more, sizeof(more) - 1);
	kf_term_resize(t, 20, 5);
	kf_term_write(t, "\0338\033[99;99Hz", sizeof("\0338\033[99;99Hz") - 1);
	if (kf_term_snapshot(t, &blob, &len) == 0) {
		if (kf_term_restore(blob, len, &u) != 0)
			abort(); /* our own snapshot must restore */
		if (kf_term_compare(t, u, 1, why, sizeof(why)) == 1)
			abort(); /* and restore to the same terminal */
		kf_term_free(u);
		free(blob);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_term *t = NULL;
	struct kf_cache *c = NULL;
	uint8_t *copy;
	uint64_t frames = 0;

	if (size < 1 || size > (1u << 20))
		return 0;
	if (data[0] & 1) {
		if (kf_term_restore(data + 1, size - 1, &t) == 0) {
			exercise(t);
			kf_term_free(t);
		}
		return 0;
	}
	data++;
	size--;
	if (size < 100)
		return 0;
	if ((copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data, size);
	SHA256(copy, size - 32, copy + size - 32);
	for (int i = 0; i < 8; i++)
		frames = frames << 8 | copy[24 + i];
	if (kf_cache_decode(copy, size, copy + 8, frames, copy + 32, &c) == 0) {
		for (size_t i = 0; i < kf_cache_count(c) && i < 8; i++) {
			const struct kf_entry *e = kf_cache_entry(c, i);

			if (e->frame >= frames)
				abort(); /* the loader bounds frame numbers */
			if (kf_term_restore(e->blob, e->len, &t) == 0) {
				exercise(t);
				kf_term_free(t);
				t = NULL;
			}
		}
		kf_cache_find(c, 1, UINT64_MAX / 2);
		kf_cache_free(c);
	}
	free(copy);
	return 0;
}
