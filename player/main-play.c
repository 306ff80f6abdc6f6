/* gatehouse-play: placeholder until the player lands (issue 4). */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: gatehouse-play [-d DIR] SESSION [options]\n");
		return 0;
	}
	fprintf(stderr, "gatehouse-play: replay is not built yet\n");
	return 1;
}
