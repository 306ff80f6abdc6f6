/* Tunnel destination hosts, read the way the target's resolver reads them,
 * written back in one canonical form. The bastion judges a tunnel (the
 * grant's --forward-to list, "is this the target's own SSH service") on the
 * canonical form and asks the target to open exactly that form, so what is
 * judged is what is opened: "0", "2130706433", "127.1", "0x7f.1",
 * "017700000001", "::ffff:127.0.0.1" and "127.0.0.1" are one destination.
 * Pure (no DNS, no I/O): unit tested by tests/unit/test_netaddr.c, fuzzed by
 * tests/fuzz/fuzz_netaddr.c. */
#ifndef GH_COMMON_NETADDR_H
#define GH_COMMON_NETADDR_H

#include <stddef.h>

/* Longest host accepted (a DNS name's limit). */
#define NETADDR_HOST_MAX 255

enum netaddr_kind {
	NETADDR_NAME = 1, /* a name: resolved by the target */
	NETADDR_V4 = 2,   /* an IPv4 address, dotted quad */
	NETADDR_V6 = 3,   /* an IPv6 address, RFC 5952 text (inet_ntop) */
};

/* Canonical form of host into out (NETADDR_HOST_MAX + 1 bytes suffice):
 *   - "[...]" brackets around an IPv6 address are removed;
 *   - an IPv4 address in any form inet_aton(3) accepts (glibc's getaddrinfo
 *     on the target accepts the same: one to four parts, decimal, octal
 *     with a leading 0, hexadecimal with 0x) becomes a dotted quad;
 *   - an IPv6 address becomes inet_ntop's text, and an IPv4-mapped one
 *     (::ffff:a.b.c.d) the IPv4 address;
 *   - a name is lower-cased and loses one trailing dot ("localhost." is
 *     "localhost"); a name that is then an IPv4 address is that address.
 * Returns the enum netaddr_kind, or ERR_INVALID: empty, longer than
 * NETADDR_HOST_MAX, or a character no name or address has (space, '%',
 * '/', control characters ...), an empty label. */
int netaddr_normalise(const char *host, char *out, size_t outlen);

/* Whether a canonical host is the target itself from the target's side:
 * 127.0.0.0/8, ::1, the unspecified addresses 0.0.0.0 and :: (Linux
 * connects them to the local host), "localhost" and names under
 * ".localhost" (RFC 6761). */
int netaddr_is_local(const char *canonical);

#endif
