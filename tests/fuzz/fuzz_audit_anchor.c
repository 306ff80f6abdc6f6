/* libFuzzer target for the audit anchor parser (audit verify --anchors).
 * Its input is exported syslog / JSON-lines text, which may contain what an
 * operator typed. An accepted anchor must be a positive id and exactly 64
 * lowercase hex digits; nothing else may come back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "common/err.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hex[AUDIT_HASH_HEX + 1];
	int64_t id = 0;
	char *line;
	int r;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	memset(hex, 'X', sizeof(hex));
	r = audit_anchor_parse(line, &id, hex);
	if (r != 0 && r != 1 && r != ERR_INVALID)
		abort();
	if (r == 1) {
		if (id <= 0 || strlen(hex) != AUDIT_HASH_HEX)
			abort();
		for (size_t i = 0; i < AUDIT_HASH_HEX; i++)
			if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
				abort();
	}
	free(line);
	return 0;
}
