/* mkrec [--screens|--slow] OUT.ghrec: write a recording with the writer
 * API for the player's integration tests (tests/integration/t_play_*.sh).
 *
 * Default: a shell channel (pty 80x24) with output, typed input, a
 * resize and an exit status, and an exec channel; the output of channel 1
 * is exactly the concatenation of OUT[] below.
 * --screens: a minute-long session whose screen reads SCREEN-A from 0 s,
 * SCREEN-B from 20 s, SCREEN-C from 40 s, with "ls" typed at 5 s and
 * "id" at 25 s (for seeking in a terminal).
 * --slow: a live recording: five lines "line N" written 400 ms apart in
 * real time, flushed each time, then closed (for --follow).
 * Prints "HEAD FRAMES" (the chain head in hex and the frame count, as the
 * sessions row keeps them). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static int
screens(struct rec_writer *w, uint64_t t)
{
	t -= 2000000u; /* the screens start with the recording */
	static const char *const scr[] = {"\033[2J\033[HSCREEN-A\r\n$ ", "\033[2J\033[HSCREEN-B\r\n$ ",
	                                  "\033[2J\033[HSCREEN-C\r\n$ "};

	rec_write_at(w, REC_CHANNEL_OPEN, 1, "{\"type\":\"shell\"}", 16, t);
	rec_write_at(w, REC_PTY, 1, "{\"term\":\"xterm\",\"cols\":80,\"rows\":24}", 36, t);
	rec_write_at(w, REC_DATA_OUT, 1, scr[0], strlen(scr[0]), t);
	rec_write_at(w, REC_DATA_IN, 1, "ls\r", 3, t + 5000000u);
	rec_write_at(w, REC_DATA_OUT, 1, "ls\r\n", 4, t + 5001000u);
	rec_write_at(w, REC_DATA_OUT, 1, scr[1], strlen(scr[1]), t + 20000000u);
	rec_write_at(w, REC_DATA_IN, 1, "id\r", 3, t + 25000000u);
	rec_write_at(w, REC_DATA_OUT, 1, "id\r\n", 4, t + 25001000u);
	rec_write_at(w, REC_DATA_OUT, 1, scr[2], strlen(scr[2]), t + 40000000u);
	rec_write_at(w, REC_DATA_OUT, 1, "bye\r\n", 5, t + 60000000u);
	rec_write_at(w, REC_CHANNEL_CLOSE, 1, NULL, 0, t + 60000000u);
	return rec_writer_close_at(w, "client closed", t + 60000000u);
}

static int
slow(struct rec_writer *w)
{
	char line[32];

	rec_write(w, REC_CHANNEL_OPEN, 1, "{\"type\":\"shell\"}", 16);
	rec_write(w, REC_PTY, 1, "{\"term\":\"xterm\",\"cols\":80,\"rows\":24}", 36);
	for (int i = 1; i <= 5; i++) {
		snprintf(line, sizeof(line), "line %d\r\n", i);
		rec_write(w, REC_DATA_OUT, 1, line, strlen(line));
		rec_flush(w);
		usleep(400000);
	}
	rec_write(w, REC_CHANNEL_CLOSE, 1, NULL, 0);
	return rec_writer_close(w, "client closed");
}

int
main(int argc, char **argv)
{
	struct rec_writer *w = NULL;
	uint64_t t = (uint64_t)time(NULL) * 1000000u + 2000000u;
	uint8_t sz[4] = {0, 100, 0, 30}, st[4] = {0, 0, 0, 0};
	char head[65];
	uint64_t frames;
	size_t i;

	const char *mode = argc == 3 ? argv[1] : "";

	if (argc != 2 && !(argc == 3 && (strcmp(mode, "--screens") == 0 || strcmp(mode, "--slow") == 0))) {
		fprintf(stderr, "usage: mkrec [--screens|--slow] OUT.ghrec\n");
		return 2;
	}
	if (rec_writer_open(argv[argc - 1], "{\"version\":1,\"user\":\"alice\",\"asset\":\"web01\",\"login\":\"root\"}",
	                    &w) != 0)
		return 1;
	if (mode[0] != '\0') {
		if ((strcmp(mode, "--slow") == 0 ? slow(w) : screens(w, t)) != 0)
			return 1;
		rec_writer_chain(w, head, &frames);
		rec_writer_free(w);
		printf("%s %llu\n", head, (unsigned long long)frames);
		return 0;
	}
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
