/* gatehoused: placeholder until the proxy lands (issue 3). */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: gatehoused -d DIR [-c CONFIG] [-l ADDR] [-p PORT] [-f]\n");
		return 0;
	}
	fprintf(stderr, "gatehoused: the SSH proxy is not built yet\n");
	return 1;
}
