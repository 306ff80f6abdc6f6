/* QR codes for the terminal: libqrencode does the encoding, this only draws
 * the modules two rows per character cell with Unicode half blocks. */
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "auth/qr.h"
#include "common/err.h"

#define QR_QUIET 2 /* modules of light border around the code */

/* Light modules are drawn as blocks and dark ones as blank cells, as
 * `qrencode -t UTF8` does: on the usual dark terminal background the code
 * then reads dark-on-light, which is what scanners expect. */
static const char CELL_BOTH[] = "\xe2\x96\x88";   /* U+2588 full block */
static const char CELL_TOP[] = "\xe2\x96\x80";    /* U+2580 upper half block */
static const char CELL_BOTTOM[] = "\xe2\x96\x84"; /* U+2584 lower half block */
static const char CELL_NONE[] = " ";

/* Whether module (x, y) of the bordered picture is light. Coordinates include
 * the quiet zone; anything outside the symbol is light, except the half row
 * below the picture, which is left as background. */
static int
module_light(const QRcode *qr, int x, int y)
{
	int size = qr->width + 2 * QR_QUIET;

	if (y >= size)
		return 0;
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 1;
	return (qr->data[y * qr->width + x] & 1) == 0;
}

int
qr_render_text(const char *text, int crlf, char **out)
{
	QRcode *qr = NULL;
	char *buf = NULL;
	size_t cap, o = 0;
	int size, x, y;
	int r = ERR_INTERNAL;

	if (text == NULL || text[0] == '\0' || out == NULL)
		return ERR_INVALID;
	*out = NULL;
	/* Level M survives a smudged screen photo and still fits an otpauth
	 * URI in a code small enough for an 80-column terminal. */
	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL) {
		r = ERR_INVALID;
		goto out;
	}
	size = qr->width + 2 * QR_QUIET;
	/* 3 bytes per cell, a line ending per row pair, the NUL. */
	cap = (size_t)size * 3 * (size_t)((size + 1) / 2) + (size_t)((size + 1) / 2) * 2 + 1;
	if ((buf = malloc(cap)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	for (y = 0; y < size; y += 2) {
		for (x = 0; x < size; x++) {
			int top = module_light(qr, x, y), bottom = module_light(qr, x, y + 1);
			const char *cell = top && bottom ? CELL_BOTH
			                   : top         ? CELL_TOP
			                   : bottom      ? CELL_BOTTOM
			                                 : CELL_NONE;
			size_t l = strlen(cell);
			memcpy(buf + o, cell, l);
			o += l;
		}
		if (crlf)
			buf[o++] = '\r';
		buf[o++] = '\n';
	}
	buf[o] = '\0';
	*out = buf;
	buf = NULL;
	r = 0;
out:
	if (qr != NULL)
		QRcode_free(qr);
	free(buf);
	return r;
}
