/* mkrec OUT.ghrec: write a small deterministic recording with the writer
 * API for the player's integration tests (tests/integration/t_play_*.sh):
 * a shell channel (pty 80x24) with output, typed input, a resize and an
 * exit status, and an exec channel. Prints "HEAD FRAMES" (the chain head in
 * hex and the frame count, as the sessions row keeps them). The output of
 * channel 1 is exactly the concatenation of OUT[] below. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "recorder/recorder.h"

static const char *const OUT[] = {
        "Welcome to web01\r\n",
        "$ ",
        "ls\r\n",
        "file-a  file-b\r\n",
        "$ ",
        "\033[1;31mred\033[0m \xe4\xb8\xad\xe6\x96\x87\r\n",
        "$ ",
        "exit\r\n",
};

int
main(int argc, char **argv)
{
	struct rec_writer *w = NULL;
	uint64_t t = (uint64_t)time(NULL) * 1000000u + 2000000u;
	uint8_t sz[4] = {0, 100, 0, 30}, st[4] = {0, 0, 0, 0};
	char head[65];
	uint64_t frames;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: mkrec OUT.ghrec\n");
		return 2;
	}
	if (rec_writer_open(argv[1], "{\"version\":1,\"user\":\"alice\",\"asset\":\"web01\",\"login\":\"root\"}", &w) !=
	    0)
		return 1;
	rec_write_at(w, REC_CHANNEL_OPEN, 1, "{\"type\":\"shell\"}", 16, t);
	rec_write_at(w, REC_PTY, 1, "{\"term\":\"xterm\",\"cols\":80,\"rows\":24}", 36, t);
	for (i = 0; i < sizeof(OUT) / sizeof(OUT[0]); i++) {
		t += 1500000; /* 1.5 s between outputs */
		if (i == 2)
			rec_write_at(w, REC_DATA_IN, 1, "ls\r", 3, t - 500000);
		if (i == 4)
			rec_write_at(w, REC_RESIZE, 1, sz, 4, t - 100000);
		if (i == 5) /* a password typed without echo: only its length */
			rec_write_at(w, REC_INPUT_REDACTED, 1, "\0\0\0\x08", 4, t - 200000);
		rec_write_at(w, REC_DATA_OUT, 1, OUT[i], strlen(OUT[i]), t);
	}
	rec_write_at(w, REC_EXIT_STATUS, 1, st, 4, t + 1000);
	rec_write_at(w, REC_CHANNEL_CLOSE, 1, NULL, 0, t + 2000);
	rec_write_at(w, REC_CHANNEL_OPEN, 2, "{\"type\":\"exec\",\"command\":\"uptime\"}", 34, t + 3000);
	rec_write_at(w, REC_DATA_OUT, 2, "up 3 days\n", 10, t + 4000);
	rec_write_at(w, REC_CHANNEL_CLOSE, 2, NULL, 0, t + 5000);
	if (rec_writer_close_at(w, "client closed", t + 6000) != 0)
		return 1;
	rec_writer_chain(w, head, &frames);
	rec_writer_free(w);
	printf("%s %llu\n", head, (unsigned long long)frames);
	return 0;
}
