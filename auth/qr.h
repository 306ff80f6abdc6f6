/* QR codes drawn in a terminal (libqrencode), for TOTP enrolment. */
#ifndef GH_QR_H
#define GH_QR_H

#include <stddef.h>

/* Render text as a QR code using Unicode half blocks (two modules per
 * character cell), with a quiet zone, lines ending in "\r\n" when crlf is set
 * (for a raw pty). *out is malloc'd. */
int qr_render_text(const char *text, int crlf, char **out);

#endif
