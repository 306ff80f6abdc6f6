/* Unechoed input: what is echoed is recorded as typed; a secret typed at
 * a prompt for one goes out as REC_INPUT_SEALED (the caller seals it: here
 * the plain bytes arrive) and appears in no other record; any other line
 * the target did not echo is recorded as typed (issue 15: turning the echo
 * off hides nothing). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "common/err.h"
#include "recorder/redact.h"

struct rec {
	enum rec_type type;
	uint8_t data[2048];
	size_t len;
};

struct log {
	struct rec v[64];
	size_t n;
};

static int
collect(void *arg, enum rec_type type, const void *data, size_t len)
{
	struct log *l = arg;

	assert_true(l->n < 64);
	assert_true(len <= sizeof(l->v[0].data));
	l->v[l->n].type = type;
	memcpy(l->v[l->n].data, data, len);
	l->v[l->n].len = len;
	l->n++;
	return 0;
}

static void
in(struct redact *r, struct log *l, const char *s, int64_t t)
{
	assert_int_equal(redact_input(r, s, strlen(s), t, collect, l), 0);
}

static void
out(struct redact *r, struct log *l, const char *s, int64_t t)
{
	assert_int_equal(redact_output(r, s, strlen(s), t, collect, l), 0);
}

static void
expect(const struct log *l, size_t i, enum rec_type type, const char *data)
{
	assert_true(i < l->n);
	assert_int_equal(l->v[i].type, type);
	assert_int_equal(l->v[i].len, strlen(data));
	assert_memory_equal(l->v[i].data, data, l->v[i].len);
}

/* The secret is in no record, input or output, but the sealed ones. */
static void
nowhere(const struct log *l, const char *secret)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type != REC_INPUT_SEALED)
			assert_null(memmem(l->v[i].data, l->v[i].len, secret, strlen(secret)));
}

static void
expect_sealed(const struct log *l, size_t i, const char *data)
{
	assert_true(i < l->n);
	assert_int_equal(l->v[i].type, REC_INPUT_SEALED);
	assert_int_equal(l->v[i].len, strlen(data));
	assert_memory_equal(l->v[i].data, data, l->v[i].len);
}

static void
test_redact_echoed_typing_recorded(void **state)
{
	struct redact *r = redact_new(0);
	struct log l = {.n = 0};

	in(r, &l, "l", 0);
	assert_int_equal(l.n, 0); /* held until the echo */
	out(r, &l, "l", 5);
	in(r, &l, "s", 100);
	out(r, &l, "s", 104);
	in(r, &l, "\r", 200);
	out(r, &l, "\r\nfile-a\r\n$ ", 210);
	assert_int_equal(l.n, 6);
	expect(&l, 0, REC_DATA_IN, "l");
	expect(&l, 1, REC_DATA_OUT, "l");
	expect(&l, 2, REC_DATA_IN, "s");
	expect(&l, 4, REC_DATA_IN, "\r");
	expect(&l, 5, REC_DATA_OUT, "\r\nfile-a\r\n$ ");
	assert_int_equal(redact_due_ms(r, 300), -1);
	redact_free(r);
}

static void
test_redact_sudo_password(void **state)
{
	struct redact *r = redact_new(0);
	struct log l = {.n = 0};
	const char *pw = "s3cret!pw";

	out(r, &l, "\033[1m[sudo] password for alice: \033[0m", 0);
	for (size_t i = 0; i < strlen(pw); i++) {
		char c[2] = {pw[i], 0};

		in(r, &l, c, 100 + (int64_t)i * 150);
	}
	in(r, &l, "\r", 1500);
	assert_int_equal(l.n, 1); /* nothing decided before the answer */
	out(r, &l, "\r\n", 1510);
	out(r, &l, "root@web01:~# ", 1600);
	assert_int_equal(l.n, 5);
	expect_sealed(&l, 1, pw);
	expect(&l, 2, REC_DATA_IN, "\r");
	expect(&l, 3, REC_DATA_OUT, "\r\n");
	nowhere(&l, "s3c");
	/* The next command is recorded again. */
	in(r, &l, "id", 1700);
	out(r, &l, "id", 1705);
	expect(&l, 5, REC_DATA_IN, "id");
	redact_free(r);
}

static void
test_redact_unechoed_line_without_prompt(void **state)
{
	struct redact *r = redact_new(0);
	struct log l = {.n = 0};

	/* stty -echo, then a command: no prompt for a secret, no echo. The
	 * operator turned the echo off; that hides nothing from the record. */
	out(r, &l, "$ ", 0);
	in(r, &l, "touch /tmp/x\r", 100);
	out(r, &l, "\r\n$ ", 150);
	expect(&l, 1, REC_DATA_IN, "touch /tmp/x");
	expect(&l, 2, REC_DATA_IN, "\r");
	redact_free(r);
}

static void
test_redact_silence_redacts_after_hold(void **state)
{
	struct redact *r = redact_new(0);
	struct log l = {.n = 0};

	out(r, &l, "Password: ", 0);
	in(r, &l, "top", 100);
	assert_int_equal(redact_tick(r, 1000, collect, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(redact_due_ms(r, 1000), 1100);
	assert_int_equal(redact_tick(r, 2100, collect, &l), 0);
	expect_sealed(&l, 1, "top");
	in(r, &l, "secret", 2200);
	assert_int_equal(redact_flush(r, collect, &l), 0);
	expect_sealed(&l, 2, "secret");
	nowhere(&l, "top");
	nowhere(&l, "secret");
	redact_free(r);
}

static void
test_redact_paste_echoed_later(void **state)
{
	struct redact *r = redact_new(0);
	struct log l = {.n = 0};

	in(r, &l, "ls -la /etc\r", 0);
	out(r, &l, "ls -la /etc\r\ntotal 12\r\n", 40);
	expect(&l, 0, REC_DATA_IN, "ls -la /etc\r");
	/* A line editor redrawing (escape sequences first) is an echo too. */
	in(r, &l, "x", 100);
	out(r, &l, "\033[K\033[1Cx", 110);
	expect(&l, 2, REC_DATA_IN, "x");
	/* Control keys have nothing to hide. */
	in(r, &l, "\033[A", 200);
	out(r, &l, "\033[2Dls", 210);
	expect(&l, 4, REC_DATA_IN, "\033[A");
	redact_free(r);
}

static void
test_redact_output_while_typing_secret(void **state)
{
	struct redact *r = redact_new(0);
	struct log l = {.n = 0};

	out(r, &l, "Enter passphrase for key '/root/.ssh/id_ed25519': ", 0);
	in(r, &l, "Qz", 100);
	out(r, &l, "background job done\r\n", 150); /* not an echo */
	in(r, &l, "xW7\r", 300);
	out(r, &l, "\r\n", 320);
	nowhere(&l, "Qz");
	nowhere(&l, "xW7");
	/* Decided when the unrelated output came (a prompt was showing),
	 * the rest when the line ended without an echo. */
	expect_sealed(&l, 1, "Qz");
	expect(&l, 2, REC_DATA_OUT, "background job done\r\n");
	expect_sealed(&l, 3, "xW7");
	expect(&l, 4, REC_DATA_IN, "\r");
	redact_free(r);
}

static void
test_redact_fullscreen_and_limits(void **state)
{
	struct redact *r = redact_new(0);
	struct log l = {.n = 0};
	char big[1500];

	/* vim: keys go straight to the recording */
	out(r, &l, "\033[?1049h\033[H\033[2J~\r\n~", 0);
	in(r, &l, "dd", 10);
	expect(&l, 1, REC_DATA_IN, "dd");
	out(r, &l, "\033[?1049l$ ", 20);
	in(r, &l, "j", 30);
	assert_int_equal(l.n, 3); /* held again at the shell */
	out(r, &l, "j", 31);
	/* a huge paste without a prompt is released, in order */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	l.n = 0;
	in(r, &l, big, 100);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].type, REC_DATA_IN);
	assert_int_equal(l.v[0].len, REDACT_HOLD_MAX);
	out(r, &l, "aaaa", 110);
	assert_int_equal(l.v[1].type, REC_DATA_IN);
	assert_int_equal(l.v[1].len, sizeof(big) - 1 - REDACT_HOLD_MAX);
	redact_free(r);
}

static void
test_redact_keep_switch(void **state)
{
	struct redact *r = redact_new(1);
	struct log l = {.n = 0};

	out(r, &l, "Password: ", 0);
	in(r, &l, "visible\r", 10);
	expect(&l, 1, REC_DATA_IN, "visible\r");
	assert_int_equal(redact_tick(r, 99999, collect, &l), 0);
	assert_int_equal(redact_flush(r, collect, &l), 0);
	assert_int_equal(l.n, 2);
	redact_free(r);
	redact_free(NULL);
}

static void
test_redact_prompt_heuristic(void **state)
{
	static const struct {
		const char *text;
		int secret;
	} cases[] = {
	        {"Password:", 1},
	        {"Password: ", 1},
	        {"[sudo] password for bob: ", 1},
	        {"\033[1mPassword:\033[0m ", 1},
	        {"alice@web01's password: ", 1},
	        {"Enter passphrase for key '/root/.ssh/id_rsa': ", 1},
	        {"(current) UNIX password: ", 1},
	        {"New password: ", 1},
	        {"Verification code: ", 1},
	        {"Enter PIN for 'token': ", 1},
	        {"Enter pass phrase for key.pem:", 1},
	        {"Token (will be hidden): ", 1},
	        {"some output\r\nPassword: ", 1},
	        {"$ ", 0},
	        {"root@web01:~# ", 0},
	        {"Last password change: Nov 20\r\n$ ", 0},
	        {"passwd: password updated successfully\r\n", 0},
	        {"Password:\r\nSorry, try again.\r\n", 0},
	        {"", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (redact_is_secret_prompt(cases[i].text, strlen(cases[i].text)) != cases[i].secret)
			fail_msg("case %zu: \"%s\"", i, cases[i].text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_redact_echoed_typing_recorded),
	        cmocka_unit_test(test_redact_sudo_password),
	        cmocka_unit_test(test_redact_unechoed_line_without_prompt),
	        cmocka_unit_test(test_redact_silence_redacts_after_hold),
	        cmocka_unit_test(test_redact_paste_echoed_later),
	        cmocka_unit_test(test_redact_output_while_typing_secret),
	        cmocka_unit_test(test_redact_fullscreen_and_limits),
	        cmocka_unit_test(test_redact_keep_switch),
	        cmocka_unit_test(test_redact_prompt_heuristic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
