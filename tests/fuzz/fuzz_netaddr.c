/* libFuzzer target for the tunnel destination normaliser (common/netaddr.c):
 * the host of a direct-tcpip request is the operator's. Invariants: the
 * canonical form is a fixed point, parses back as the kind returned, never
 * holds a character outside its kind's alphabet, and fits its buffer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/netaddr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[512], out[NETADDR_HOST_MAX + 1], again[NETADDR_HOST_MAX + 1];
	struct in_addr a4;
	struct in6_addr a6;
	int k, k2;
	size_t i;

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	k = netaddr_normalise(in, out, sizeof(out));
	if (k < 0) {
		if (out[0] != '\0')
			abort();
		return 0;
	}
	if (strlen(out) == 0 || strlen(out) > NETADDR_HOST_MAX)
		abort();
	switch (k) {
	case NETADDR_V4:
		if (inet_pton(AF_INET, out, &a4) != 1)
			abort();
		break;
	case NETADDR_V6:
		if (inet_pton(AF_INET6, out, &a6) != 1 || IN6_IS_ADDR_V4MAPPED(&a6))
			abort();
		break;
	case NETADDR_NAME:
		for (i = 0; out[i] != '\0'; i++)
			if (strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", out[i]) == NULL)
				abort();
		if (out[0] == '.' || out[0] == '-' || out[strlen(out) - 1] == '.' || strstr(out, "..") != NULL)
			abort();
		if (inet_aton(out, &a4) != 0)
			abort(); /* an address is never left as a name */
		break;
	default: abort();
	}
	k2 = netaddr_normalise(out, again, sizeof(again));
	if (k2 != k || strcmp(again, out) != 0)
		abort();
	(void)netaddr_is_local(out);
	return 0;
}
