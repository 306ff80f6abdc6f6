/* libFuzzer target for the user@login@asset parser (untrusted: it is the SSH
 * user name a client sends before authentication). Checks the invariants the
 * proxy relies on, not only the absence of crashes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proxy/target.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target_spec t;
	char *s = malloc(size + 1);
	char joined[3 * TARGET_NAME_MAX + 3];

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (target_spec_parse(s, &t) == 0) {
		/* A parsed spec always has a user; a login only with an asset; no
		 * component holds '@'; re-joining gives back the input. */
		if (t.user[0] == '\0' || (t.login[0] != '\0' && t.asset[0] == '\0'))
			abort();
		if (strchr(t.user, '@') || strchr(t.login, '@') || strchr(t.asset, '@'))
			abort();
		if (t.login[0] != '\0')
			snprintf(joined, sizeof(joined), "%s@%s@%s", t.user, t.login, t.asset);
		else if (t.asset[0] != '\0')
			snprintf(joined, sizeof(joined), "%s@%s", t.user, t.asset);
		else
			snprintf(joined, sizeof(joined), "%s", t.user);
		if (strcmp(joined, s) != 0)
			abort();
	} else if (t.user[0] != '\0') {
		abort(); /* a refused spec leaves nothing behind */
	}
	free(s);
	return 0;
}
