#include "common/err.h"
int proxy_placeholder(void);
int
proxy_placeholder(void)
{
	return GH_OK;
}
