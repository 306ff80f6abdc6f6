#include "recorder/vtguard.h"

void
vt_prime(VTerm *vt)
{
	vterm_input_write(vt, " \r", 2);
}
