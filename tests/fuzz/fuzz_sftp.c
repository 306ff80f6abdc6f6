/* libFuzzer target for the SFTP inspector (untrusted both ways: the
 * operator's requests and the target's answers). The input is a script:
 * each chunk starts with one control byte (bit 0: direction, bits 1-7: the
 * chunk length), so splits, interleavings and packet contents are all
 * explored. Checks the invariants the relay relies on: only whole packets
 * come out, in order, each one with a length within the limit, and the
 * bastion's own answers are well-formed STATUS packets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/sftp.h"

static void
on_event(void *ud, const struct sftp_event *ev)
{
	(void)ud;
	/* strings handed out must be readable C strings */
	if (ev->op == NULL || strlen(ev->op) > 64)
		abort();
	if (ev->path != NULL)
		(void)strlen(ev->path);
	if (ev->path2 != NULL)
		(void)strlen(ev->path2);
	if (ev->sha256 != NULL && strlen(ev->sha256) != 64)
		abort();
}

/* The queued output must be a sequence of whole packets. */
static void
check_out(struct sftp *s, enum sftp_dir dir)
{
	const uint8_t *p;
	size_t n = sftp_out_peek(s, dir, &p), i = 0;

	while (i < n) {
		uint32_t len;

		if (n - i < 5)
			abort();
		len = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 | p[i + 3];
		if (len == 0 || len > SFTP_MAX_PACKET || n - i - 4 < len)
			abort();
		i += 4 + (size_t)len;
	}
	sftp_out_consume(s, dir, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sftp *s = sftp_new(data[0] % 4, on_event, NULL);
	size_t i = 1;

	if (size == 0 || s == NULL) {
		sftp_free(s);
		return 0;
	}
	sftp_want_content(s, data[0] & 4);
	while (i < size) {
		enum sftp_dir dir = (data[i] & 1) ? SFTP_TO_OPERATOR : SFTP_TO_TARGET;
		size_t n = data[i] >> 1;

		i++;
		if (n > size - i)
			n = size - i;
		if (sftp_feed(s, dir, data + i, n) != 0) {
			if (sftp_feed(s, dir, data + i, 0) == 0)
				abort(); /* a failed stream stays failed */
			break;
		}
		check_out(s, SFTP_TO_TARGET);
		check_out(s, SFTP_TO_OPERATOR);
		i += n;
	}
	sftp_free(s);
	return 0;
}
