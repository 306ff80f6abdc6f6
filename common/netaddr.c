/* Tunnel destination hosts (see netaddr.h). */
#include "common/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

static int
is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static int
put_v4(const struct in_addr *a, char *out, size_t outlen)
{
	if (inet_ntop(AF_INET, a, out, (socklen_t)outlen) == NULL)
		return ERR_INVALID;
	return NETADDR_V4;
}

int
netaddr_normalise(const char *host, char *out, size_t outlen)
{
	char h[NETADDR_HOST_MAX + 1];
	struct in_addr a4;
	struct in6_addr a6;
	size_t n, i;
	int bracket = 0;

	if (host == NULL || out == NULL || outlen == 0)
		return ERR_INVALID;
	out[0] = '\0';
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
		bracket = 1;
	}
	if (n == 0 || n > NETADDR_HOST_MAX)
		return ERR_INVALID;
	memcpy(h, host, n);
	h[n] = '\0';
	/* Only what names and addresses are made of: no space (inet_aton
	 * stops at one), no '%' scope, no '/', no control characters. */
	for (i = 0; i < n; i++)
		if (!is_alnum(h[i]) && h[i] != '.' && h[i] != '-' && h[i] != '_' && h[i] != ':')
			return ERR_INVALID;
	if (strchr(h, ':') != NULL) {
		if (inet_pton(AF_INET6, h, &a6) != 1)
			return ERR_INVALID;
		/* ::ffff:a.b.c.d reaches the IPv4 address a.b.c.d */
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], 4);
			return put_v4(&a4, out, outlen);
		}
		if (inet_ntop(AF_INET6, &a6, out, (socklen_t)outlen) == NULL)
			return ERR_INVALID;
		return NETADDR_V6;
	}
	if (bracket)
		return ERR_INVALID; /* brackets hold an IPv6 address only */
	for (i = 0; i < n; i++)
		if (h[i] >= 'A' && h[i] <= 'Z')
			h[i] = (char)(h[i] - 'A' + 'a');
	/* A fully qualified name's dot: the same destination as the grant's
	 * name without it (and the target is asked for the form judged). */
	if (n > 1 && h[n - 1] == '.')
		h[--n] = '\0';
	/* The forms inet_aton reads (the whole string: no space got here). */
	if (inet_aton(h, &a4) != 0)
		return put_v4(&a4, out, outlen);
	/* A name: labels of letters, digits, '-' and '_', none empty, none
	 * starting with '-'. */
	for (i = 0; i < n; i++) {
		if (h[i] == '.' && (i == 0 || h[i - 1] == '.' || i + 1 == n))
			return ERR_INVALID;
		if (h[i] == '-' && (i == 0 || h[i - 1] == '.'))
			return ERR_INVALID;
	}
	if ((size_t)snprintf(out, outlen, "%s", h) >= outlen)
		return ERR_INVALID;
	return NETADDR_NAME;
}

int
netaddr_is_local(const char *c)
{
	/* Loopback names of stock /etc/hosts files (Debian, Red Hat). */
	static const char *const names[] = {"localhost",
	                                    "localhost4",
	                                    "localhost6",
	                                    "localhost.localdomain",
	                                    "localhost4.localdomain4",
	                                    "localhost6.localdomain6",
	                                    "ip6-localhost",
	                                    "ip6-loopback"};
	struct in_addr a4;
	struct in6_addr a6;
	size_t i, n;

	if (c == NULL)
		return 0;
	if (inet_pton(AF_INET, c, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127 || a4.s_addr == 0;
	if (inet_pton(AF_INET6, c, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(c, names[i]) == 0)
			return 1;
	n = strlen(c);
	return n > 10 && strcmp(c + n - 10, ".localhost") == 0;
}
