/* Cost of judging a line before it is submitted (cmdx_judge, issue 15):
 * every reading of the pending line offered to ten realistic block rules
 * (regexec, REG_EXTENDED | REG_NOSUB, as proxy/cmdctl.c compiles them), for
 * lines of 60 B to 64 KiB, once with the screen confirming the keys (one
 * reading suffices) and once typed without echo (every reading, the
 * per-character erase/kill/word-erase ones included); then a 1000-line
 * bracketed paste into a full-screen program, judged at every pasted line
 * end. docs/command-control.md ("What it promises") quotes the figures.
 *
 * Build and run from the repository root:
 *   cc -O2 -D_GNU_SOURCE -Wno-unused-parameter -I. bench/cmdx-judge-bench.c recorder/cmdextract.c \
 *      recorder/cmdx-*.c recorder/redact.c $(pkg-config --cflags --libs vterm) -o build/cmdx-judge-bench
 *   build/cmdx-judge-bench
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recorder/cmdextract.h"

#define NRULES 10

static regex_t re[NRULES];
static long readings;

static int
judge(void *arg, const char *text, size_t len, enum cmdx_witness w)
{
	readings++;
	for (int i = 0; i < NRULES; i++)
		if (regexec(&re[i], text, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
one_line(size_t len, int echo)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789 -/._ABCDEFGHIJKLMNOP";
	struct cmdx *cx = cmdx_new(200, 50);
	char *line = malloc(len + 1);
	int n = len > 10000 ? 5 : 200;
	double t0;

	for (size_t i = 0; i < len; i++)
		line[i] = chars[(i * 7 + i / 13) % (sizeof(chars) - 1)];
	line[len] = '\0';
	cmdx_output(cx, (const uint8_t *)"\x1b[?2004h$ ", 10, 0);
	cmdx_input(cx, (const uint8_t *)line, len, 1);
	if (echo)
		cmdx_output(cx, (const uint8_t *)line, len, 2);
	readings = 0;
	t0 = now_s();
	for (int i = 0; i < n; i++)
		cmdx_judge(cx, judge, NULL);
	printf("line %6zu B, %-15s %9.3f ms per judgement, %3ld readings\n", len, echo ? "screen confirms" : "no echo",
	       (now_s() - t0) * 1000 / n, readings / n);
	cmdx_free(cx);
	free(line);
}

static void
paste_into_vim(void)
{
	struct cmdx *cx = cmdx_new(120, 40);
	char buf[128];
	double t0;

	cmdx_output(cx, (const uint8_t *)"\x1b[?1049h\x1b[?2004h~", 17, 0);
	cmdx_input(cx, (const uint8_t *)"i\x1b[200~", 7, 1);
	readings = 0;
	t0 = now_s();
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(buf, sizeof(buf), "server.option.%d = some value here # comment", i);
		cmdx_input(cx, (const uint8_t *)buf, (size_t)n, 2);
		cmdx_judge(cx, judge, NULL);
		cmdx_input(cx, (const uint8_t *)"\r", 1, 2);
	}
	printf("1000-line paste into a full-screen program: %.1f ms in all, %ld readings\n", (now_s() - t0) * 1000,
	       readings);
	cmdx_free(cx);
}

int
main(void)
{
	static const char *const rules[NRULES] = {
	        "(^|[;&|[:space:]])(reboot|shutdown|halt|poweroff)([[:space:]]|$)",
	        "rm -rf /([[:space:]]|$)",
	        "(^|[;&|[:space:]])mkfs\\.",
	        "DROP (DATABASE|TABLE)",
	        "dd if=.* of=/dev/",
	        "chmod -R 777 /",
	        "iptables -F",
	        "(^|[;&|[:space:]])userdel ",
	        "> */etc/(passwd|shadow)",
	        "curl [^|]*\\| *(ba)?sh",
	};
	static const size_t lens[] = {60, 400, 4096, 65536};

	for (int i = 0; i < NRULES; i++)
		if (regcomp(&re[i], rules[i], REG_EXTENDED | REG_NOSUB) != 0)
			return 1;
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		one_line(lens[k], 1);
		one_line(lens[k], 0);
	}
	paste_into_vim();
	return 0;
}
