/* The scanner (recorder/vtscan.c) and the sanitiser (recorder/vtsan.c):
 * one table of inputs and what may reach an auditor's terminal, each run
 * whole, byte by byte and in two halves at every split point (a sequence
 * cut by a buffer boundary must come out the same). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "recorder/vtsan.h"
#include "recorder/vtscan.h"

#define S(x) x, sizeof(x) - 1

struct san_case {
	const char *name;
	enum vtsan_profile profile;
	const char *in;
	size_t inlen;
	const char *want; /* the output, vtsan_finish included */
	uint64_t withheld;
};

static const struct san_case cases[] = {
        /* what passes */
        {"text", VTSAN_SCREEN, S("hello\r\n\tworld\b!"), "hello\r\n\tworld\b!", 0},
        {"utf-8", VTSAN_SCREEN, S("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x99\x82"),
         "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x99\x82", 0},
        {"sgr", VTSAN_SCREEN, S("\033[1;31mred\033[0m"), "\033[1;31mred\033[0m", 0},
        {"sgr sub-parameters", VTSAN_SCREEN, S("\033[38:2::255:0:0mX\033[m"), "\033[38:2::255:0:0mX\033[m", 0},
        {"sgr left set", VTSAN_SCREEN, S("\033[7mX"), "\033[7mX\033[m", 0},
        {"positioning", VTSAN_SCREEN, S("\033[10;20H\033[2J\033[K\033[3A\033[B\033[5G\033[2;3f\033[4d"),
         "\033[10;20H\033[2J\033[K\033[3A\033[B\033[5G\033[2;3f\033[4d", 0},
        {"empty parameters kept", VTSAN_SCREEN, S("\033[;5H"), "\033[;5H", 0},
        {"edit and scroll", VTSAN_SCREEN, S("\033[2@\033[3P\033[L\033[M\033[4X\033[S\033[2T\033[3b"),
         "\033[2@\033[3P\033[L\033[M\033[4X\033[S\033[2T\033[3b", 0},
        {"save restore index", VTSAN_SCREEN, S("\0337\0338\033D\033E\033M\033[s\033[u"),
         "\0337\0338\033D\033E\033M\033[s\033[u", 0},
        {"scroll region put back", VTSAN_SCREEN, S("\033[2;20rX"), "\033[2;20rX\033[r\033[9999;1H", 0},
        {"alternate screen put back", VTSAN_SCREEN, S("\033[?1049h\033[?25lvim"),
         "\033[?1049h\033[?25lvim\033[?1049l\033[?25h", 0},
        {"alternate screen left by the stream", VTSAN_SCREEN, S("\033[?1049hX\033[?1049l"), "\033[?1049hX\033[?1049l",
         0},
        {"autowrap, insert, origin", VTSAN_SCREEN, S("\033[?7l\033[4h\033[?6h"),
         "\033[?7l\033[4h\033[?6h\033[?6l\033[9999;1H\033[4l\033[?7h", 0},
        {"line drawing", VTSAN_SCREEN, S("\033(0qqq\033(B\033)0\016x\017"), "\033(0qqq\033(B\033)0\016x\017\033)B", 0},
        {"line drawing left on", VTSAN_SCREEN, S("\033(0q\016"), "\033(0q\016\033(B\017", 0},
        {"large parameter clamped", VTSAN_SCREEN, S("\033[99999999A"), "\033[65535A", 0},
        {"control inside a sequence", VTSAN_SCREEN, S("\033[3\r1m"), "\r\033[31m\033[m", 0},

        /* what is withheld */
        {"OSC 52 clipboard (BEL)", VTSAN_SCREEN, S("a\033]52;c;aGVsbG8=\007b"), "ab", 1},
        {"OSC 0 title (ST)", VTSAN_SCREEN, S("\033]0;PWNED\033\\x"), "x", 1},
        {"OSC 2 title", VTSAN_SCREEN, S("\033]2;PWNED\007"), "", 1},
        {"OSC 8 hyperlink", VTSAN_SCREEN, S("\033]8;;http://evil/\033\\link\033]8;;\033\\"), "link", 2},
        {"OSC colour query", VTSAN_SCREEN, S("\033]11;?\007"), "", 1},
        {"DCS DECRQSS", VTSAN_SCREEN, S("\033P$qm\033\\"), "", 1},
        {"DCS with a BEL inside", VTSAN_SCREEN, S("\033Pq#0\007;1\033\\z"), "z", 1},
        {"SOS PM APC", VTSAN_SCREEN, S("\033Xs\033\\\033^p\033\\\033_Gf=100;AAAA\033\\z"), "z", 3},
        {"DSR cursor position", VTSAN_SCREEN, S("\033[6n"), "", 1},
        {"DSR status", VTSAN_SCREEN, S("\033[5n"), "", 1},
        {"DA", VTSAN_SCREEN, S("\033[c"), "", 1},
        {"DA2", VTSAN_SCREEN, S("\033[>c"), "", 1},
        {"DA3", VTSAN_SCREEN, S("\033[=c"), "", 1},
        {"DECID", VTSAN_SCREEN, S("\033Z"), "", 1},
        {"DECRQM", VTSAN_SCREEN, S("\033[?2004$p"), "", 1},
        {"XTVERSION", VTSAN_SCREEN, S("\033[>q"), "", 1},
        {"window report", VTSAN_SCREEN, S("\033[21t\033[14t\033[8;100;200t"), "", 3},
        {"ENQ answerback", VTSAN_SCREEN, S("\005"), "", 1},
        {"BEL", VTSAN_SCREEN, S("a\007b"), "ab", 1},
        {"bracketed paste", VTSAN_SCREEN, S("\033[?2004h"), "", 1},
        {"mouse reporting", VTSAN_SCREEN, S("\033[?1000;1006h\033[?1003h"), "", 2},
        {"focus events", VTSAN_SCREEN, S("\033[?1004h"), "", 1},
        {"allowed mode kept, others dropped", VTSAN_SCREEN, S("\033[?1049;1000h"), "\033[?1049h\033[?1049l", 1},
        {"cursor keys and keypad", VTSAN_SCREEN, S("\033[?1h\033=\033>"), "", 3},
        {"newline and keyboard-lock modes", VTSAN_SCREEN, S("\033[20h\033[2h\033[12l"), "", 3},
        {"modifyOtherKeys", VTSAN_SCREEN, S("\033[>4;2m"), "", 1},
        {"kitty keyboard", VTSAN_SCREEN, S("\033[>1u\033[=1u\033[?u\033[<u"), "", 4},
        {"mouse highlight tracking", VTSAN_SCREEN, S("\033[1;2;3;4;5T"), "", 1},
        {"DECSLRM and restore-modes", VTSAN_SCREEN, S("\033[5;10s\033[?1000r"), "", 2},
        {"cursor style", VTSAN_SCREEN, S("\033[2 q"), "", 1},
        {"media copy", VTSAN_SCREEN, S("\033[5i\033[4i"), "", 2},
        {"soft reset and tab stops", VTSAN_SCREEN, S("\033[!p\033H\033[3g"), "", 3},
        {"8-bit controls, other character sets", VTSAN_SCREEN, S("\033 G\033%@\033(A\033#8"), "", 4},
        {"full reset becomes a clear", VTSAN_SCREEN, S("\033[?25l\033c"), "\033[?25l\033[?25h\033[H\033[2J", 0},
        {"C1 CSI", VTSAN_SCREEN,
         S("\xc2\x9b"
           "6n"),
         "", 1},
        {"C1 OSC and ST", VTSAN_SCREEN,
         S("\xc2\x9d"
           "0;x\xc2\x9cy"),
         "y", 1},
        {"C1 controls", VTSAN_SCREEN,
         S("a\xc2\x85\xc2\x88"
           "b"),
         "ab", 2},
        {"CAN abandons a sequence", VTSAN_SCREEN, S("\033[31\x18m"), "m", 1},
        {"ESC ends a string", VTSAN_SCREEN, S("\033]0;x\033[1mA"), "\033[1mA\033[m", 1},
        {"too many parameters", VTSAN_SCREEN,
         S("\033[1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1mX"), "X", 1},
        {"marker in the middle", VTSAN_SCREEN, S("\033[1?25hX"), "X", 1},
        {"DEL", VTSAN_SCREEN, S("a\177b"), "ab", 1},
        {"unfinished sequence dropped", VTSAN_SCREEN, S("a\033[3"), "a", 0},
        {"unfinished string dropped", VTSAN_SCREEN, S("a\033]0;never ends"), "a", 1},
        {"text after an unfinished OSC is swallowed", VTSAN_SCREEN, S("\033]0;x\nstill title"), "", 1},

        /* not UTF-8 */
        {"invalid byte", VTSAN_SCREEN,
         S("a\xff"
           "b"),
         "a\xef\xbf\xbd"
         "b",
         0},
        {"overlong", VTSAN_SCREEN, S("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd", 0},
        {"surrogate", VTSAN_SCREEN, S("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 0},
        {"cut short", VTSAN_SCREEN,
         S("\xe2\x82"
           "a"),
         "\xef\xbf\xbd"
         "a",
         0},
        {"cut at the end", VTSAN_SCREEN, S("a\xe2\x82"), "a\xef\xbf\xbd", 0},
        {"beyond U+10FFFF", VTSAN_SCREEN, S("\xf4\x90\x80\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 0},

        /* text */
        {"text plain", VTSAN_TEXT, S("ls -l /tmp\n\tx"), "ls -l /tmp\n\tx", 0},
        {"text escapes shown", VTSAN_TEXT, S("printf '\033]0;x\007'"), "printf '^[]0;x^G'", 2},
        {"text CR, BS, DEL, NUL", VTSAN_TEXT, S("a\rb\bc\177d\0e"), "a^Mb^Hc^?d^@e", 4},
        {"text C1", VTSAN_TEXT,
         S("\xc2\x9b"
           "31m"),
         "M-^[31m", 1},
        {"line: LF shown", VTSAN_LINE, S("rm -rf /\n00:00:01.000  1  ls\tx"), "rm -rf /^J00:00:01.000  1  ls\tx", 1},
        {"text UTF-8", VTSAN_TEXT, S("r\xc3\xa9sum\xc3\xa9 \xff"), "r\xc3\xa9sum\xc3\xa9 \xef\xbf\xbd", 0},
};

/* Feed in pieces cut at the given points; collect the output. */
static char *
run(const struct san_case *c, const size_t *cuts, size_t ncuts, uint64_t *withheld)
{
	struct vtsan *s = vtsan_new(c->profile);
	char *acc = calloc(1, 1);
	size_t acclen = 0, from = 0;
	const char *out;
	size_t outlen;

	assert_non_null(s);
	for (size_t k = 0; k <= ncuts; k++) {
		size_t to = k < ncuts ? cuts[k] : c->inlen;

		assert_int_equal(vtsan_write(s, c->in + from, to - from, &out, &outlen), 0);
		acc = realloc(acc, acclen + outlen + 1);
		memcpy(acc + acclen, out, outlen);
		acclen += outlen;
		from = to;
	}
	assert_int_equal(vtsan_finish(s, &out, &outlen), 0);
	acc = realloc(acc, acclen + outlen + 1);
	memcpy(acc + acclen, out, outlen);
	acclen += outlen;
	acc[acclen] = '\0';
	*withheld = vtsan_withheld(s);
	vtsan_free(s);
	return acc;
}

static void
check(const struct san_case *c, const char *got, uint64_t withheld, const char *how)
{
	if (strcmp(got, c->want) != 0 || withheld != c->withheld) {
		fprintf(stderr, "case '%s' (%s): got [", c->name, how);
		for (const char *p = got; *p; p++)
			fprintf(stderr, (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f ? "\\x%02x" : "%c",
			        (unsigned char)*p);
		fprintf(stderr, "] withheld %llu, want withheld %llu\n", (unsigned long long)withheld,
		        (unsigned long long)c->withheld);
		fail();
	}
}

static void
test_sanitiser_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct san_case *c = &cases[i];
		size_t *cuts = calloc(c->inlen + 1, sizeof(*cuts));
		uint64_t w;
		char *got;

		got = run(c, NULL, 0, &w);
		check(c, got, w, "whole");
		free(got);
		for (size_t k = 0; k + 1 < c->inlen; k++)
			cuts[k] = k + 1;
		got = run(c, cuts, c->inlen > 0 ? c->inlen - 1 : 0, &w);
		check(c, got, w, "byte by byte");
		free(got);
		for (size_t k = 1; k < c->inlen; k++) {
			got = run(c, &k, 1, &w);
			check(c, got, w, "two halves");
			free(got);
		}
		free(cuts);
	}
}

static void
test_text_helper(void **state)
{
	char *t;

	(void)state;
	t = vtsan_string(VTSAN_TEXT, S("rm -rf /\r   ls\033[8m"));
	assert_string_equal(t, "rm -rf /^M   ls^[[8m");
	free(t);
	t = vtsan_string(VTSAN_TEXT, "", 0);
	assert_string_equal(t, "");
	free(t);
	t = vtsan_string(VTSAN_SCREEN, S("\033[1mb\033]0;x\007"));
	assert_string_equal(t, "\033[1mb\033[m");
	free(t);
}

static void
test_file_stream(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len), *f;

	(void)state;
	assert_non_null(mem);
	f = vtsan_fopen(mem, VTSAN_SCREEN);
	assert_non_null(f);
	fputs("\033]0;t\007\033[31mA", f);
	fflush(f);
	fputs("\033[6", f);
	fputs("nB", f);
	assert_int_equal(fclose(f), 0);
	fclose(mem);
	assert_string_equal(buf, "\033[31mAB\033[m");
	free(buf);
}

/* ---- the scanner's events -------------------------------------------------- */

struct ev_log {
	struct vtscan_event ev[16];
	int n;
};

static void
log_event(const struct vtscan_event *ev, void *arg)
{
	struct ev_log *l = arg;

	if (l->n < 16)
		l->ev[l->n++] = *ev;
}

static void
test_scanner_events(void **state)
{
	struct ev_log l = {0};
	struct vtscan *vs = vtscan_new(VTSCAN_TERMINAL, log_event, &l);

	(void)state;
	assert_non_null(vs);
	/* "x" CSI 1;2:3 m, a C1 CSI ? 25 h, a DCS with a header, text */
	vtscan_write(vs, S("x\033[1;2:3m\xc2\x9b?25h\033P1;2$q"));
	vtscan_write(vs, S("m\033\\y"));
	vtscan_finish(vs);
	assert_int_equal(l.n, 8);
	assert_int_equal(l.ev[0].kind, VTSCAN_PRINT);
	assert_int_equal(l.ev[0].cp, 'x');
	assert_int_equal(l.ev[1].kind, VTSCAN_CSI);
	assert_int_equal(l.ev[1].final, 'm');
	assert_int_equal(l.ev[1].nparams, 3);
	assert_int_equal(l.ev[1].param[0], 1);
	assert_int_equal(l.ev[1].param[1], 2);
	assert_int_equal(l.ev[1].param[2], 3);
	assert_int_equal(l.ev[1].sub, 1u << 2);
	assert_int_equal(l.ev[1].start, 1);
	assert_int_equal(l.ev[1].end, 9);
	assert_int_equal(l.ev[2].kind, VTSCAN_CSI);
	assert_int_equal(l.ev[2].marker, '?');
	assert_int_equal(l.ev[2].param[0], 25);
	assert_int_equal(l.ev[2].start, 9); /* the C1 introducer: two bytes */
	assert_int_equal(l.ev[2].end, 15);
	assert_int_equal(l.ev[3].kind, VTSCAN_STR_START);
	assert_int_equal(l.ev[3].str, VTSCAN_DCS);
	assert_int_equal(l.ev[3].final, 'q');
	assert_string_equal(l.ev[3].inter, "$");
	assert_int_equal(l.ev[3].nparams, 2);
	assert_int_equal(l.ev[4].kind, VTSCAN_STR_PUT);
	assert_int_equal(l.ev[4].cp, 'm');
	assert_int_equal(l.ev[5].kind, VTSCAN_STR_END);
	assert_int_equal(l.ev[6].kind, VTSCAN_ESC);
	assert_int_equal(l.ev[6].final, '\\');
	assert_int_equal(l.ev[7].kind, VTSCAN_PRINT);
	assert_int_equal(l.ev[7].cp, 'y');
	assert_true(vtscan_idle(vs));
	vtscan_free(vs);
}

static void
test_scanner_literal(void **state)
{
	struct ev_log l = {0};
	struct vtscan *vs = vtscan_new(VTSCAN_LITERAL, log_event, &l);

	(void)state;
	vtscan_write(vs, S("\033[m"));
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ev[0].kind, VTSCAN_EXECUTE);
	assert_int_equal(l.ev[0].cp, 0x1b);
	assert_int_equal(l.ev[1].kind, VTSCAN_PRINT);
	assert_true(vtscan_idle(vs));
	vtscan_free(vs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sanitiser_table), cmocka_unit_test(test_text_helper),
	        cmocka_unit_test(test_file_stream),     cmocka_unit_test(test_scanner_events),
	        cmocka_unit_test(test_scanner_literal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
