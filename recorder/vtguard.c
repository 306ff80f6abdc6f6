#include "recorder/vtguard.h"

#include <stdio.h>

void
vt_prime(VTerm *vt)
{
	vterm_input_write(vt, " \r", 2);
}

void
vt_sgr_color(char *buf, size_t len, const VTermColor *c, int bg)
{
	if (bg ? VTERM_COLOR_IS_DEFAULT_BG(c) : VTERM_COLOR_IS_DEFAULT_FG(c))
		snprintf(buf, len, "\033[%dm", bg ? 49 : 39);
	else if (VTERM_COLOR_IS_INDEXED(c))
		snprintf(buf, len, "\033[%d;5;%um", bg ? 48 : 38, c->indexed.idx);
	else
		snprintf(buf, len, "\033[%d;2;%u;%u;%um", bg ? 48 : 38, c->rgb.red, c->rgb.green, c->rgb.blue);
}
