/* recdump FILE: print a recording's records as text, one per line, for the
 * integration tests (grep-able), then a summary line:
 *
 *   ORDINAL TYPE-NAME ch=N len=N PAYLOAD
 *   end torn=0|1 frames=N records=N head=HEX trailer=0|1
 *
 * PAYLOAD: printable ASCII as is, other bytes as \xNN; 4-byte payloads of
 * REC_RESIZE, REC_EXIT_STATUS and REC_INPUT_REDACTED as numbers. The file is
 * read with rec_reader_rebuild semantics (a torn tail is reported, not an
 * error). Exit 0 when the file reads to its end, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
#include "recorder/rec-reader.h"

static unsigned
u32be(const uint8_t *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static void
payload(const struct rec_record *rec)
{
	size_t i;

	if (rec->len == 4 && (rec->type == REC_EXIT_STATUS || rec->type == REC_INPUT_REDACTED)) {
		printf("%u", u32be(rec->data));
		return;
	}
	if (rec->len == 4 && rec->type == REC_RESIZE) {
		printf("%ux%u", (unsigned)(rec->data[0] << 8 | rec->data[1]),
		       (unsigned)(rec->data[2] << 8 | rec->data[3]));
		return;
	}
	for (i = 0; i < rec->len; i++) {
		uint8_t b = rec->data[i];

		if (b >= 0x20 && b < 0x7f && b != '\\')
			putchar(b);
		else
			printf("\\x%02x", b);
	}
}

int
main(int argc, char **argv)
{
	struct rec_reader *r = NULL;
	struct rec_reader_info info;
	struct rec_record rec;
	char head[65];
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: recdump FILE\n");
		return 2;
	}
	if ((n = rec_reader_open(argv[1], &r)) != 0) {
		fprintf(stderr, "recdump: %s: %s\n", argv[1], gh_strerror(n));
		return 1;
	}
	while ((n = rec_reader_next(r, &rec)) == 1) {
		printf("%llu %s ch=%u len=%zu ", (unsigned long long)rec.ordinal, rec_type_name(rec.type), rec.channel,
		       rec.len);
		payload(&rec);
		putchar('\n');
	}
	rec_reader_get_info(r, &info);
	rec_hash_hex(info.head, head);
	printf("end torn=%d frames=%llu records=%llu head=%s trailer=%d\n", info.torn, (unsigned long long)info.frames,
	       (unsigned long long)info.records, head, info.has_trailer);
	if (n < 0)
		fprintf(stderr, "recdump: %s: %s (bad frame %lld)\n", argv[1], gh_strerror(n),
		        (long long)info.bad_frame);
	rec_reader_free(r);
	return n < 0 ? 1 : 0;
}
