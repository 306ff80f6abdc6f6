/* libFuzzer target for the SFTP inspector (untrusted both ways: the
 * operator's requests and the target's answers). The input is a script:
 * each chunk starts with one control byte (bit 0: direction, bits 1-7: the
 * chunk length), so splits, interleavings and packet contents are all
 * explored. Checks the invariants the relay relies on: only whole packets
 * come out, in order, each one with a length within the limit, and the
 * bastion's own answers are well-formed STATUS packets; no request goes to
 * the target with the id of one still outstanding (a shadow of the
 * outstanding ids, kept from what went out each way), never more than
 * SFTP_MAX_PENDING outstanding, and requests wait only while the table is
 * full. */
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

/* Outstanding request ids, as seen from the outside. */
static uint32_t outstanding[SFTP_MAX_PENDING];
static size_t noutstanding;

static long
find_outstanding(uint32_t id)
{
	size_t i;

	for (i = 0; i < noutstanding; i++)
		if (outstanding[i] == id)
			return (long)i;
	return -1;
}

/* The queued output must be a sequence of whole packets. */
static void
check_out(struct sftp *s, enum sftp_dir dir)
{
	const uint8_t *p;
	size_t n = sftp_out_peek(s, dir, &p), i = 0;
	long k;

	while (i < n) {
		uint32_t len, id;

		if (n - i < 5)
			abort();
		len = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 | p[i + 3];
		if (len == 0 || len > SFTP_MAX_PACKET || n - i - 4 < len)
			abort();
		/* type 1 (INIT) and 2 (VERSION) carry no id */
		if (len >= 5 && p[i + 4] != 1 && p[i + 4] != 2) {
			id = (uint32_t)p[i + 5] << 24 | (uint32_t)p[i + 6] << 16 | (uint32_t)p[i + 7] << 8 | p[i + 8];
			k = find_outstanding(id);
			if (dir == SFTP_TO_TARGET) {
				if (k >= 0 || noutstanding >= SFTP_MAX_PENDING)
					abort(); /* an ambiguous or untracked request went out */
				outstanding[noutstanding++] = id;
			} else if (k >= 0) {
				outstanding[k] = outstanding[--noutstanding];
			}
		}
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
	noutstanding = 0;
	while (i < size) {
		enum sftp_dir dir = (data[i] & 1) ? SFTP_TO_OPERATOR : SFTP_TO_TARGET;
		size_t n = data[i] >> 1;

		i++;
		if (n > size - i)
			n = size - i;
		if (sftp_feed(s, dir, data + i, n) != 0 || sftp_resume(s) != 0) {
			if (sftp_feed(s, dir, data + i, 0) == 0)
				abort(); /* a failed stream stays failed */
			break;
		}
		if (sftp_violation(s) || (sftp_waiting(s) > 0 && !sftp_full(s)))
			abort();
		check_out(s, SFTP_TO_TARGET);
		check_out(s, SFTP_TO_OPERATOR);
		i += n;
	}
	sftp_free(s);
	return 0;
}
