/* Pre-authentication admission: OpenSSH's MaxStartups random early drop
 * (max_startups = start:rate:full). The listener (proxy/listener.c) keeps
 * the counts and the per-source penalties; docs/security.md. */
#ifndef GH_PROXY_PREAUTH_H
#define GH_PROXY_PREAUTH_H

#include <stdint.h>

/* With held unauthenticated connections already open, refuse a new one?
 * Never below start; from start on with probability rate% rising linearly
 * to 100% at full; always at full and beyond. rnd is a uniformly random
 * 32-bit value (preauth_random). Returns 1 = refuse. */
int preauth_drop(const int max_startups[3], int held, uint32_t rnd);

/* A random value from the kernel CSPRNG (getrandom). Returns 0, or -1 when
 * none could be had (the caller then refuses). */
int preauth_random(uint32_t *out);

#endif
