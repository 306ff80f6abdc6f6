/* libFuzzer target for the redaction filter (recorder/redact.h), which
 * reads the target's raw output to decide what operator input to keep. The
 * first byte of each chunk picks input, output, a clock tick or the
 * prompt detector; the two next give the chunk length. Every byte of input
 * must come out exactly once, either recorded or handed over to be sealed
 * (REC_INPUT_SEALED), and a sealed record is never empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/redact.h"

struct tally {
	uint64_t in_kept, in_redacted, in_sealed;
};

static int
emit(void *arg, enum rec_type type, const void *data, size_t len)
{
	struct tally *t = arg;
	const uint8_t *b = data;

	if (type == REC_DATA_IN)
		t->in_kept += len;
	else if (type == REC_INPUT_SEALED) {
		if (len == 0)
			abort();
		t->in_sealed += len;
	} else if (type == REC_INPUT_REDACTED) {
		if (len != 4)
			abort();
		t->in_redacted += (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct redact *r = redact_new(0);
	struct tally t = {0, 0, 0};
	uint64_t typed = 0;
	int64_t now = 0;
	size_t i = 0;

	if (r == NULL)
		return 0;
	while (i + 3 <= size) {
		uint8_t op = data[i];
		size_t len = (size_t)(data[i + 1] | data[i + 2] << 8) % 2048;

		i += 3;
		if (len > size - i)
			len = size - i;
		switch (op % 4) {
		case 0:
			redact_input(r, data + i, len, now, emit, &t);
			typed += len;
			break;
		case 1: redact_output(r, data + i, len, now, emit, &t); break;
		case 2:
			now += len * 3;
			redact_tick(r, now, emit, &t);
			break;
		case 3: (void)redact_is_secret_prompt((const char *)data + i, len); break;
		}
		i += len;
	}
	redact_flush(r, emit, &t);
	redact_free(r);
	if (t.in_kept + t.in_redacted + t.in_sealed != typed)
		abort();
	return 0;
}
