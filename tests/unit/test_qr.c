/* Terminal QR rendering: the drawn half blocks must reproduce, module for
 * module, the symbol libqrencode computed, inside a light quiet zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <qrencode.h>

#include "auth/qr.h"
#include "common/err.h"

#define QUIET 2

static const char URI[] = "otpauth://totp/Gatehouse:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                          "&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30";

/* Decode one cell into its top and bottom "light" flags; returns bytes used. */
static size_t
cell(const char *p, int *top, int *bottom)
{
	if (strncmp(p, "\xe2\x96\x88", 3) == 0) {
		*top = *bottom = 1;
		return 3;
	}
	if (strncmp(p, "\xe2\x96\x80", 3) == 0) {
		*top = 1;
		*bottom = 0;
		return 3;
	}
	if (strncmp(p, "\xe2\x96\x84", 3) == 0) {
		*top = 0;
		*bottom = 1;
		return 3;
	}
	if (*p == ' ') {
		*top = *bottom = 0;
		return 1;
	}
	fail_msg("unexpected byte 0x%02x in the picture", (unsigned char)*p);
	return 0;
}

/* Expected lightness of module (x, y) in the bordered picture. */
static int
expected_light(const QRcode *qr, int x, int y)
{
	int size = qr->width + 2 * QUIET;

	if (y >= size)
		return 0; /* the padding half row below an odd-sized picture */
	x -= QUIET;
	y -= QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 1;
	return !(qr->data[y * qr->width + x] & 1);
}

static void
check_render(const char *text, int crlf)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	char *out = NULL;
	const char *p;
	int size, x, y, top, bottom, lines = 0;

	assert_non_null(qr);
	size = qr->width + 2 * QUIET;
	assert_int_equal(qr_render_text(text, crlf, &out), 0);
	assert_non_null(out);
	p = out;
	for (y = 0; y < size; y += 2) {
		for (x = 0; x < size; x++) {
			p += cell(p, &top, &bottom);
			if (top != expected_light(qr, x, y) || bottom != expected_light(qr, x, y + 1))
				fail_msg("module mismatch at x=%d y=%d", x, y);
		}
		if (crlf) {
			assert_int_equal(*p, '\r');
			p++;
		} else {
			assert_int_not_equal(*p, '\r');
		}
		assert_int_equal(*p, '\n');
		p++;
		lines++;
	}
	assert_int_equal(*p, '\0');
	assert_int_equal(lines, (size + 1) / 2);
	free(out);
	QRcode_free(qr);
}

static void
test_render_uri(void **state)
{
	(void)state;
	check_render(URI, 0);
	check_render(URI, 1);
}

static void
test_render_short(void **state)
{
	char *out = NULL;

	(void)state;
	check_render("A", 0);
	/* The first line is all quiet zone: full blocks only. */
	assert_int_equal(qr_render_text("A", 0, &out), 0);
	assert_true(strncmp(out, "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88", 9) == 0);
	assert_null(strchr(out, '\r'));
	free(out);
}

static void
test_render_invalid(void **state)
{
	char *out = NULL;
	char *huge;

	(void)state;
	assert_int_equal(qr_render_text("", 0, &out), ERR_INVALID);
	assert_int_equal(qr_render_text(NULL, 0, &out), ERR_INVALID);
	assert_null(out);
	/* More than a version 40 symbol can hold. */
	huge = malloc(4000);
	assert_non_null(huge);
	memset(huge, 'x', 3999);
	huge[3999] = '\0';
	assert_int_equal(qr_render_text(huge, 0, &out), ERR_INVALID);
	assert_null(out);
	free(huge);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_render_uri),
	        cmocka_unit_test(test_render_short),
	        cmocka_unit_test(test_render_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
