/* Pre-authentication admission: OpenSSH's MaxStartups random early drop
 * (max_startups = start:rate:full), and which held connection gives way to
 * a newcomer the drop would refuse. The listener (proxy/listener.c) keeps
 * the counts and the per-source penalties; docs/security.md. */
#ifndef GH_PROXY_PREAUTH_H
#define GH_PROXY_PREAUTH_H

#include <stdint.h>

struct auth_req;

/* With held unauthenticated connections already open, refuse a new one?
 * Never below start; from start on with probability rate% rising linearly
 * to 100% at full; always at full and beyond. rnd is a uniformly random
 * 32-bit value (preauth_random). Returns 1 = refuse. */
int preauth_drop(const int max_startups[3], int held, uint32_t rnd);

/* A random value from the kernel CSPRNG (getrandom). Returns 0, or -1 when
 * none could be had (the caller then refuses). */
int preauth_random(uint32_t *out);

/* ---- eviction (slowloris) -------------------------------------------
 *
 * What the listener knows of an unauthenticated connection comes from its
 * monitor's reports on the notify pipe (the listener never parses SSH):
 * 'K' when the client first asked to authenticate (so the key exchange is
 * done), 'P' when it made progress (preauth_request_reports). When the
 * random early drop would refuse a newcomer, the connection that is most
 * overdue gives way instead: the newcomer is admitted, the victim is ended
 * and its source charged one failure, like a login grace expiry. */

enum preauth_stage {
	PREAUTH_NEW,  /* accepted, no authentication request yet: in (or stalled after) the key exchange */
	PREAUTH_AUTH, /* asked to authenticate: a login is under way */
};

/* An honest client reaches its first authentication request within a few
 * round trips and a key exchange; a person at a prompt (password, code)
 * takes seconds to tens of seconds. A connection's idle time is measured
 * against the budget of its stage: the one furthest over its budget gives
 * way first. */
#define PREAUTH_NEW_DUE_MS  2000
#define PREAUTH_AUTH_DUE_MS 20000
/* Never evicted before this much idle time: a burst of honest newcomers
 * does not push out each other mid key exchange, and a connection whose
 * answer has just arrived (a password being hashed) is left alone. */
#define PREAUTH_MIN_IDLE_MS 1000

struct preauth_conn {
	enum preauth_stage stage;
	int64_t last_ms;    /* monotonic: accepted, first request, or last progress */
	int source_blocked; /* its source address is refused by the penalty now */
};

/* The index of the connection to evict among n, or -1 when none may be.
 * Connections from a blocked source first (oldest activity first); then,
 * among those idle at least PREAUTH_MIN_IDLE_MS, the highest idle time
 * over its stage's budget (ties: the longest idle). */
int preauth_pick_victim(const struct preauth_conn *conns, int n, int64_t now_ms);

/* The reports a monitor writes to the listener for one authentication
 * request: "K" for the first request of the connection, then "P" when the
 * request is progress a client cannot fake for free: an answer to prompts
 * (it costs a password check or a failure) or a signature libssh verified.
 * A "none" request, a restart or a bare key offer is not progress. Writes
 * up to 2 bytes to out and returns how many. */
int preauth_request_reports(const struct auth_req *rq, int first, char out[2]);

#endif
