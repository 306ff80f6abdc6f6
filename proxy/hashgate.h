/* The hash gate: password hashing before authentication is bounded per
 * source address and globally (docs/security.md, "Pre-authentication:
 * floods and hash work").
 *
 * Each connection's monitor is its own process, so the bound lives in a
 * table shared by all of them: an anonymous MAP_SHARED mapping the
 * listener creates before it forks, inherited by every monitor (the
 * network child unmaps it before it reads a byte: code an attacker may
 * control never sees it). A process-shared robust mutex guards it; a
 * process killed inside the critical section (login grace time, eviction)
 * leaves it consistent for the next one (EOWNERDEAD).
 *
 * A password check (yescrypt, or PAM) is admitted when
 *   - fewer than `concurrency` checks are running, all sources together;
 *   - fewer than `per_source` run for its source address;
 *   - its source's token bucket holds a token (rate_per_min, burst);
 *   - no other waiter that could run now has a better claim: the source
 *     served least recently first (one never served, or forgotten, before
 *     all), then the earlier arrival. Sources take turns: an operator from
 *     a quiet address passes a flood of checks at the next free slot, and
 *     a flood from many addresses puts each address once ahead of it, not
 *     each of its checks.
 * Otherwise the check waits (a futex on the table, woken when a slot frees,
 * re-checked at least every 200 ms). It is never skipped: the hash decides
 * nothing about which user exists, and the wait happens before it for
 * known and unknown users alike, so timing still tells them not apart.
 *
 * A slot records its holder's pid: a holder that died is reclaimed (the
 * listener reclaims a connection process's slot when it reaps it, a waiter
 * that finds the gate full checks the holders with kill(pid, 0), and no
 * check holds a slot longer than HASHGATE_HOLD_MAX_MS). */
#ifndef GH_PROXY_HASHGATE_H
#define GH_PROXY_HASHGATE_H

#include <stdint.h>
#include <sys/types.h>

#define HASHGATE_MAX_CONCURRENCY 256
#define HASHGATE_HOLD_MAX_MS     60000 /* a check older than this has died or hung: its slot is reclaimed */

struct hashgate;

struct hashgate_limits {
	int concurrency;  /* checks at once, all sources (1..HASHGATE_MAX_CONCURRENCY) */
	int per_source;   /* checks at once from one source address (>= 1) */
	int rate_per_min; /* sustained checks per minute from one source address (>= 1) */
	int burst;        /* checks a source that has been quiet may make at once (>= 1) */
};

/* Counters since the last hashgate_take_stats. */
struct hashgate_stats {
	uint64_t admitted;   /* checks that ran */
	uint64_t waited;     /* of which had to wait (sleep at least once) */
	uint64_t reclaimed;  /* slots taken back from dead or hung holders */
	int64_t max_wait_ms; /* longest wait */
	int max_held;        /* most checks running at once */
};

/* The shared table (creates the mapping: call before forking the
 * processes that share it). NULL on failure. */
struct hashgate *hashgate_new(const struct hashgate_limits *lim);
/* Unmap in this process; other processes keep their mapping. NULL: no-op. */
void hashgate_free(struct hashgate *g);

/* Wait until a check for source may run, then hold a slot for it.
 * 0, or ERR_TIMEOUT when deadline_ms (monotonic) passed first (no slot is
 * held then). waited_ms (may be NULL) gets the time spent waiting (0 when
 * it was admitted at once). */
int hashgate_acquire(struct hashgate *g, const char *source, int64_t deadline_ms, int64_t *waited_ms);
/* Whether this process is inside hashgate_acquire (async-signal-safe: for
 * a signal handler that would end the process; dying there leaves nothing
 * the listener's reclaim and the robust mutex do not take back). */
int hashgate_waiting(void);
/* Give back the slot this process holds (no-op when none). */
void hashgate_release(struct hashgate *g);
/* Take back whatever the process pid held or waited for (it exited). */
void hashgate_reclaim(struct hashgate *g, pid_t pid);
/* Read and reset the counters. */
void hashgate_take_stats(struct hashgate *g, struct hashgate_stats *out);

/* ---- the process's gate ----------------------------------------------
 * The listener installs its gate before forking; monitors inherit it and
 * srv-auth.c brackets each password check with hashgate_enter/leave. With
 * no gate installed (unit tests, the admin CLI) both are no-ops. */
void hashgate_install(struct hashgate *g, int max_wait_ms);
struct hashgate *hashgate_installed(void);
/* Network child: unmap the table before entering the sandbox. */
void hashgate_forget(void);
/* Wait for a slot for source (at most the installed max_wait_ms; past it
 * the check runs anyway, logged: the hash is never skipped). */
void hashgate_enter(const char *source);
void hashgate_leave(void);

/* Hash-gate limits from the configuration (hash_concurrency 0 = half the
 * online CPUs, at least 1). */
struct gh_config;
void hashgate_limits_from_config(const struct gh_config *cfg, struct hashgate_limits *lim);

#endif
