/* Throughput of the command extractor on bulk terminal output.
 *
 * The issue asks that an interactive `cat` of a large file through the
 * bastion still streams at >= 100 MB/s with command tracking on. This feeds
 * realistic output (log and source-like lines, some UTF-8, optional colour)
 * through cmdx_output in 32 KiB chunks, the way the proxy would, and
 * reports MB/s for:
 *   idle      output after a command was accepted (the `cat` case: fast path)
 *   colour    the same with SGR colour sequences on every line (ls --color)
 *   cursor    a progress-bar style stream with ESC[?25l/h on every line
 *   typing    output while the operator types ahead (full emulation)
 *   vterm     libvterm's own screen layer alone, for reference
 * and checks that a command typed after the burst is still extracted.
 *
 * Build and run from the repository root:
 *   cc -O2 -D_GNU_SOURCE -Wno-unused-parameter -I. bench/cmdx-bench.c recorder/cmdextract.c recorder/cmdx-*.c \
 *      recorder/redact.c recorder/vtguard.c $(pkg-config --cflags --libs vterm) -o build/cmdx-bench
 *   build/cmdx-bench [MB]        (default 200 MB for the fast cases)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vterm.h>

#include "recorder/cmdextract.h"

#define CHUNK (32 * 1024)

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* About 1 MiB of text that looks like what people cat: log lines, code,
 * a few non-ASCII words. */
static char *
make_text(int colour, int cursor, size_t *len)
{
	static const char *words[] = {"error", "connection",      "from",   "10.0.0.12", "port",
	                              "user",  "accepted",        "int",    "return",    "struct",
	                              "café",  "日本語",          "=",      "{",         "}",
	                              "->",    "/var/log/syslog", "0x7f3a", "timeout",   "request"};
	size_t cap = 1 << 20, n = 0;
	char *b = malloc(cap + 512);
	unsigned seed = 1;

	while (n < cap) {
		int nw = 4 + (int)(seed % 12);
		if (cursor)
			n += (size_t)sprintf(b + n, "\x1b[?25l");
		n += (size_t)sprintf(b + n, "Nov 21 06:%02u:%02u host ", seed % 60, (seed / 7) % 60);
		for (int i = 0; i < nw; i++) {
			seed = seed * 1103515245u + 12345u;
			const char *w = words[(seed >> 8) % 20];
			if (colour && i % 3 == 0)
				n += (size_t)sprintf(b + n, "\x1b[01;3%um%s\x1b[0m ", (seed >> 4) % 8, w);
			else
				n += (size_t)sprintf(b + n, "%s ", w);
		}
		if (cursor)
			n += (size_t)sprintf(b + n, "\x1b[?25h");
		b[n++] = '\r';
		b[n++] = '\n';
	}
	*len = n;
	return b;
}

static void
drain(struct cmdx *cx, const char *want, const char *label)
{
	struct cmdx_event ev;
	int found = want == NULL;

	while (cmdx_next(cx, &ev) == 0) {
		if (ev.type == CMDX_EV_COMMAND && want != NULL && strcmp(ev.text, want) == 0)
			found = 1;
		cmdx_event_clear(&ev);
	}
	if (!found) {
		fprintf(stderr, "%s: command \"%s\" not extracted after the burst\n", label, want);
		exit(1);
	}
}

static void
in(struct cmdx *cx, const char *s)
{
	cmdx_input(cx, (const uint8_t *)s, strlen(s), 0);
}

static void
out(struct cmdx *cx, const char *s)
{
	cmdx_output(cx, (const uint8_t *)s, strlen(s), 0);
}

static double
run_cmdx(const char *label, const char *text, size_t tlen, size_t total, int typing)
{
	struct cmdx *cx = cmdx_new(80, 24);
	size_t fed = 0, off = 0;
	double t0, dt;

	out(cx, "\x1b[?2004hu@h:~$ ");
	in(cx, "cat big.log\r");
	out(cx, "cat big.log\r\n\x1b[?2004l\r");
	if (typing)
		in(cx, "echo typed ahe"); /* keys typed while the output runs */
	t0 = now_s();
	while (fed < total) {
		size_t n = tlen - off < CHUNK ? tlen - off : CHUNK;
		if (cmdx_output(cx, (const uint8_t *)text + off, n, 0) != 0) {
			fprintf(stderr, "%s: cmdx_output failed\n", label);
			exit(1);
		}
		fed += n;
		off = (off + n) % tlen;
		if (typing)
			drain(cx, NULL, label);
	}
	dt = now_s() - t0;
	if (typing) {
		in(cx, "ad\r");
		out(cx, "\x1b[?2004hu@h:~$ echo typed ahead\r\n\x1b[?2004l\r");
		drain(cx, "echo typed ahead", label);
	} else {
		drain(cx, "cat big.log", label);
		out(cx, "\x1b[?2004hu@h:~$ ");
		in(cx, "echo after\r");
		out(cx, "echo after\r\n\x1b[?2004l\r");
		drain(cx, "echo after", label);
	}
	cmdx_free(cx);
	printf("%-8s %7.0f MB in %6.2f s: %8.1f MB/s\n", label, total / 1e6, dt, total / 1e6 / dt);
	return total / 1e6 / dt;
}

static double
run_vterm(const char *text, size_t tlen, size_t total)
{
	VTerm *vt = vterm_new(24, 80);
	VTermScreen *scr;
	size_t fed = 0, off = 0;
	double t0, dt;

	vterm_set_utf8(vt, 1);
	scr = vterm_obtain_screen(vt);
	vterm_screen_reset(scr, 1);
	t0 = now_s();
	while (fed < total) {
		size_t n = tlen - off < CHUNK ? tlen - off : CHUNK;
		vterm_input_write(vt, text + off, n);
		fed += n;
		off = (off + n) % tlen;
	}
	dt = now_s() - t0;
	vterm_free(vt);
	printf("%-8s %7.0f MB in %6.2f s: %8.1f MB/s\n", "vterm", total / 1e6, dt, total / 1e6 / dt);
	return total / 1e6 / dt;
}

int
main(int argc, char **argv)
{
	size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 200, plen, clen, klen;
	char *plain = make_text(0, 0, &plen), *colour = make_text(1, 0, &clen), *cursor = make_text(0, 1, &klen);
	size_t total = mb * 1000 * 1000, slow = total / 10;
	double idle;

	idle = run_cmdx("idle", plain, plen, total, 0);
	run_cmdx("colour", colour, clen, total, 0);
	run_cmdx("cursor", cursor, klen, total, 0);
	run_cmdx("typing", plain, plen, slow, 1);
	run_vterm(plain, plen, slow);
	free(plain);
	free(colour);
	free(cursor);
	return idle >= 100.0 ? 0 : 2;
}
