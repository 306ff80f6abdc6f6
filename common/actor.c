#include "common/actor.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
actor_local(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");
	char *s = NULL;
	int n;

	if (pw != NULL && getuid() == 0 && sudo != NULL && sudo[0] != '\0' && strlen(sudo) < 64)
		n = asprintf(&s, "%s(sudo:%s)", pw->pw_name, sudo);
	else if (pw != NULL)
		n = asprintf(&s, "%s", pw->pw_name);
	else
		n = asprintf(&s, "uid:%u", (unsigned)getuid());
	return n < 0 ? NULL : s;
}
