#include "proxy/hashgate.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"

#define HG_WAITERS  512  /* registered waiters; more wait unregistered (no claim others can see) */
#define HG_SOURCES  1024 /* token buckets; > HG_WAITERS + slots, so one unreferenced entry always exists */
#define HG_ADDR_MAX 64
/* A token is worth HG_TOKEN units and one millisecond at rate r per minute
 * adds r units: refills are exact in integers, however often they run. */
#define HG_TOKEN           60000
#define HG_RECHECK_MS      200  /* a waiter looks again at least this often (token refill, dead holders) */
#define HG_STALE_WAITER_MS 2000 /* a waiter that has not looked for this long has no claim */
#define HG_SUSPECT_HOLD_MS 1000 /* holders older than this are checked for being alive */

/* Token bucket and turn of one source address. */
struct hg_source {
	char addr[HG_ADDR_MAX]; /* "" = free entry */
	int64_t units;          /* tokens x HG_TOKEN at last_ms */
	int64_t last_ms;        /* monotonic */
	int64_t turn_ms;        /* its last admission (monotonic); 0 = never: it goes first */
};

/* A check running. */
struct hg_slot {
	pid_t pid;        /* holder; 0 = free (written last when taken, first when freed) */
	int src;          /* its source, index in sources */
	int64_t since_ms; /* monotonic */
};

/* A check waiting; its claim is visible to the others. */
struct hg_waiter {
	pid_t pid;        /* 0 = free */
	int src;          /* index in sources */
	int64_t since_ms; /* arrival: first come first served among equal claims */
	int64_t seen_ms;  /* its last look */
};

/* The shared table. No derived counters: everything is recomputed from the
 * slots and the waiters, so a process killed half-way through an update
 * cannot leave a count wrong for ever. */
struct hg_shared {
	pthread_mutex_t lock; /* process-shared, robust */
	uint32_t seq;         /* futex word: bumped whenever a slot frees */
	struct hashgate_limits lim;
	struct hashgate_stats stats;
	struct hg_slot slots[HASHGATE_MAX_CONCURRENCY];
	struct hg_waiter waiters[HG_WAITERS];
	struct hg_source sources[HG_SOURCES];
};

/* This process's handle on the table. */
struct hashgate {
	struct hg_shared *sh;
	int slot;           /* the slot held, -1 = none */
	int64_t slot_since; /* when it was taken (a reclaimed slot may be someone else's now) */
	pid_t slot_pid;     /* by whom: a process forked meanwhile holds nothing */
};

static struct hashgate *installed;
static int installed_max_wait_ms;
static volatile sig_atomic_t in_acquire; /* hashgate_waiting() */

struct hashgate *
hashgate_new(const struct hashgate_limits *lim)
{
	struct hashgate *g = NULL;
	pthread_mutexattr_t attr;
	int attr_ok = 0;

	if (lim == NULL || lim->concurrency < 1 || lim->concurrency > HASHGATE_MAX_CONCURRENCY || lim->per_source < 1 ||
	    lim->rate_per_min < 1 || lim->burst < 1)
		return NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->slot = -1;
	g->sh = mmap(NULL, sizeof(*g->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g->sh == MAP_FAILED) {
		g->sh = NULL;
		goto fail;
	}
	/* The mapping is zero-filled: every slot, waiter and source is free. */
	g->sh->lim = *lim;
	if (pthread_mutexattr_init(&attr) != 0)
		goto fail;
	attr_ok = 1;
	if (pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&g->sh->lock, &attr) != 0)
		goto fail;
	pthread_mutexattr_destroy(&attr);
	return g;
fail:
	if (attr_ok)
		pthread_mutexattr_destroy(&attr);
	hashgate_free(g);
	return NULL;
}

void
hashgate_free(struct hashgate *g)
{
	if (g == NULL)
		return;
	if (g->sh != NULL)
		munmap(g->sh, sizeof(*g->sh));
	free(g);
}

/* Lock the table. A holder that died inside leaves EOWNERDEAD: the table has
 * no derived state to repair, so it is marked consistent and used. */
static int
gate_lock(struct hg_shared *sh)
{
	int r = pthread_mutex_lock(&sh->lock);

	if (r == EOWNERDEAD)
		r = pthread_mutex_consistent(&sh->lock);
	return r == 0 ? 0 : ERR_INTERNAL;
}

static void
gate_unlock(struct hg_shared *sh)
{
	pthread_mutex_unlock(&sh->lock);
}

static void
gate_wake(struct hg_shared *sh)
{
	__atomic_add_fetch(&sh->seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &sh->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int
pid_gone(pid_t pid)
{
	return kill(pid, 0) != 0 && errno == ESRCH;
}

/* Tokens of a source now, in units (the bucket is refilled to now). */
static int64_t
source_units(struct hg_shared *sh, int src, int64_t now)
{
	struct hg_source *s = &sh->sources[src];
	int64_t cap = (int64_t)sh->lim.burst * HG_TOKEN;

	if (now > s->last_ms) {
		s->units += (now - s->last_ms) * sh->lim.rate_per_min;
		if (s->units > cap)
			s->units = cap;
		s->last_ms = now;
	}
	return s->units;
}

/* Whether a source entry is named by a slot or a registered waiter. */
static int
source_referenced(const struct hg_shared *sh, int src)
{
	for (int i = 0; i < sh->lim.concurrency; i++)
		if (sh->slots[i].pid != 0 && sh->slots[i].src == src)
			return 1;
	for (int i = 0; i < HG_WAITERS; i++)
		if (sh->waiters[i].pid != 0 && sh->waiters[i].src == src)
			return 1;
	return 0;
}

/* The entry of addr, created when missing: a free entry, or else the
 * unreferenced one with the fullest bucket (a full bucket carries no
 * memory of past use, so forgetting it costs nothing). Never -1: there are
 * more entries than slots and waiters together. */
static int
source_find(struct hg_shared *sh, const char *addr, int64_t now)
{
	int free_i = -1, reuse = -1;
	int64_t reuse_units = -1;

	for (int i = 0; i < HG_SOURCES; i++) {
		if (sh->sources[i].addr[0] == '\0') {
			if (free_i < 0)
				free_i = i;
			continue;
		}
		if (strncmp(sh->sources[i].addr, addr, HG_ADDR_MAX - 1) == 0)
			return i;
	}
	if (free_i < 0) {
		for (int i = 0; i < HG_SOURCES; i++) {
			int64_t u = source_units(sh, i, now);

			if (u > reuse_units && !source_referenced(sh, i)) {
				reuse = i;
				reuse_units = u;
			}
		}
		free_i = reuse >= 0 ? reuse : 0;
	}
	snprintf(sh->sources[free_i].addr, HG_ADDR_MAX, "%s", addr);
	sh->sources[free_i].units = (int64_t)sh->lim.burst * HG_TOKEN;
	sh->sources[free_i].last_ms = now;
	sh->sources[free_i].turn_ms = 0;
	return free_i;
}

/* Free the slots of holders that died (pid gone) or hung (held too long).
 * Returns how many. */
static int
reclaim_dead_holders(struct hg_shared *sh, int64_t now)
{
	int n = 0;

	for (int i = 0; i < sh->lim.concurrency; i++) {
		struct hg_slot *s = &sh->slots[i];

		if (s->pid == 0 || now - s->since_ms < HG_SUSPECT_HOLD_MS)
			continue;
		if (now - s->since_ms >= HASHGATE_HOLD_MAX_MS || pid_gone(s->pid)) {
			s->pid = 0;
			n++;
		}
	}
	sh->stats.reclaimed += (uint64_t)n;
	return n;
}

/* Whether a claim (its source's last turn, its arrival, its pid) comes
 * before another: the source served least recently first, then first come
 * first served. Sources take turns, so a flood from many addresses puts
 * each of them once, not each of its checks, ahead of a quiet one. */
static int
claim_before(int64_t turn, int64_t since, pid_t pid, int64_t turn2, int64_t since2, pid_t pid2)
{
	if (turn != turn2)
		return turn < turn2;
	if (since != since2)
		return since < since2;
	return pid < pid2;
}

/* Whether a check from src (its waiter entry w, -1 when unregistered,
 * arrived at since) may run now. */
static int
may_run(struct hg_shared *sh, int src, int w, int64_t since, int64_t now)
{
	/* Checks running per source, then also those that would run before us. */
	int busy[HG_SOURCES];
	int held = 0, ahead = 0;
	pid_t me = getpid();

	memset(busy, 0, sizeof(busy));
	for (int i = 0; i < sh->lim.concurrency; i++) {
		if (sh->slots[i].pid != 0) {
			held++;
			busy[sh->slots[i].src]++;
		}
	}
	if (held >= sh->lim.concurrency || busy[src] >= sh->lim.per_source)
		return 0;
	if (source_units(sh, src, now) < HG_TOKEN)
		return 0;
	for (int i = 0; i < HG_WAITERS; i++) {
		struct hg_waiter *o = &sh->waiters[i];

		if (o->pid == 0 || i == w)
			continue;
		if (now - o->seen_ms > HG_STALE_WAITER_MS) {
			/* Dead (its slot in the table outlived it) or stopped:
			 * no claim. A dead one's entry is freed. */
			if (pid_gone(o->pid))
				o->pid = 0;
			continue;
		}
		if (busy[o->src] >= sh->lim.per_source || source_units(sh, o->src, now) < HG_TOKEN)
			continue; /* could not run now anyway */
		if (claim_before(sh->sources[o->src].turn_ms, o->since_ms, o->pid, sh->sources[src].turn_ms, since,
		                 me)) {
			ahead++;
			busy[o->src]++;
		}
	}
	return ahead < sh->lim.concurrency - held && busy[src] < sh->lim.per_source;
}

static int
waiter_add(struct hg_shared *sh, int src, int64_t now)
{
	for (int i = 0; i < HG_WAITERS; i++) {
		struct hg_waiter *o = &sh->waiters[i];

		if (o->pid != 0 && !(now - o->seen_ms > HG_STALE_WAITER_MS && pid_gone(o->pid)))
			continue;
		o->src = src;
		o->since_ms = now;
		o->seen_ms = now;
		o->pid = getpid();
		return i;
	}
	return -1;
}

int
hashgate_acquire(struct hashgate *g, const char *source, int64_t deadline_ms, int64_t *waited_ms)
{
	struct hg_shared *sh;
	int64_t t0 = time_mono_ms(), now = t0, sleep_ms, units;
	int src, w = -1, r = 0, slept = 0;
	uint32_t seq;

	if (waited_ms != NULL)
		*waited_ms = 0;
	if (g == NULL || g->sh == NULL)
		return 0;
	if (g->slot >= 0 && g->slot_pid == getpid())
		return 0; /* already held: one slot per process */
	g->slot = -1;
	sh = g->sh;
	if (source == NULL)
		source = "";
	if (gate_lock(sh) != 0)
		return ERR_INTERNAL;
	in_acquire = 1;
	for (;;) {
		now = time_mono_ms();
		src = source_find(sh, source, now);
		if (w >= 0) {
			if (sh->waiters[w].pid != getpid()) /* freed by a reclaim meanwhile */
				w = -1;
			else {
				sh->waiters[w].seen_ms = now;
				sh->waiters[w].src = src;
			}
		}
		if (may_run(sh, src, w, w >= 0 ? sh->waiters[w].since_ms : t0, now)) {
			int held = 0;

			for (int i = 0; i < sh->lim.concurrency && g->slot < 0; i++) {
				if (sh->slots[i].pid == 0) {
					sh->slots[i].src = src;
					sh->slots[i].since_ms = now;
					sh->slots[i].pid = getpid();
					g->slot = i;
					g->slot_since = now;
					g->slot_pid = getpid();
				}
			}
			for (int i = 0; i < sh->lim.concurrency; i++)
				held += sh->slots[i].pid != 0;
			sh->sources[src].units -= HG_TOKEN;
			sh->sources[src].turn_ms = now;
			if (w >= 0)
				sh->waiters[w].pid = 0;
			sh->stats.admitted++;
			if (slept) {
				sh->stats.waited++;
				if (now - t0 > sh->stats.max_wait_ms)
					sh->stats.max_wait_ms = now - t0;
			}
			if (held > sh->stats.max_held)
				sh->stats.max_held = held;
			break;
		}
		if (reclaim_dead_holders(sh, now) > 0)
			continue;
		if (now >= deadline_ms) {
			if (w >= 0)
				sh->waiters[w].pid = 0;
			r = ERR_TIMEOUT;
			break;
		}
		if (w < 0)
			w = waiter_add(sh, src, now);
		sleep_ms = HG_RECHECK_MS;
		units = source_units(sh, src, now);
		if (units < HG_TOKEN && (HG_TOKEN - units + sh->lim.rate_per_min - 1) / sh->lim.rate_per_min < sleep_ms)
			sleep_ms = (HG_TOKEN - units + sh->lim.rate_per_min - 1) / sh->lim.rate_per_min;
		if (deadline_ms - now < sleep_ms)
			sleep_ms = deadline_ms - now;
		if (sleep_ms < 1)
			sleep_ms = 1;
		seq = __atomic_load_n(&sh->seq, __ATOMIC_SEQ_CST);
		gate_unlock(sh);
		{
			struct timespec ts = {.tv_sec = (time_t)(sleep_ms / 1000),
			                      .tv_nsec = (long)(sleep_ms % 1000) * 1000000L};

			/* Returns on a wake, a timeout, a signal, or at once when a
			 * slot freed since seq was read: all mean "look again". */
			syscall(SYS_futex, &sh->seq, FUTEX_WAIT, seq, &ts, NULL, 0);
		}
		slept = 1;
		if (gate_lock(sh) != 0) {
			in_acquire = 0;
			return ERR_INTERNAL;
		}
	}
	gate_unlock(sh);
	in_acquire = 0;
	if (waited_ms != NULL && slept)
		*waited_ms = now - t0;
	return r;
}

int
hashgate_waiting(void)
{
	return in_acquire;
}

void
hashgate_release(struct hashgate *g)
{
	struct hg_shared *sh;

	if (g == NULL || g->sh == NULL || g->slot < 0 || g->slot_pid != getpid())
		return;
	sh = g->sh;
	if (gate_lock(sh) == 0) {
		struct hg_slot *s = &sh->slots[g->slot];

		/* Unless it was reclaimed (held too long) and is someone else's now. */
		if (s->pid == getpid() && s->since_ms == g->slot_since)
			s->pid = 0;
		gate_wake(sh);
		gate_unlock(sh);
	}
	g->slot = -1;
}

void
hashgate_reclaim(struct hashgate *g, pid_t pid)
{
	struct hg_shared *sh;
	int n = 0;

	if (g == NULL || g->sh == NULL || pid <= 0)
		return;
	sh = g->sh;
	if (gate_lock(sh) != 0)
		return;
	for (int i = 0; i < sh->lim.concurrency; i++) {
		if (sh->slots[i].pid == pid) {
			sh->slots[i].pid = 0;
			sh->stats.reclaimed++;
			n++;
		}
	}
	for (int i = 0; i < HG_WAITERS; i++) {
		if (sh->waiters[i].pid == pid) {
			sh->waiters[i].pid = 0;
			n++;
		}
	}
	if (n > 0)
		gate_wake(sh);
	gate_unlock(sh);
}

void
hashgate_take_stats(struct hashgate *g, struct hashgate_stats *out)
{
	struct hg_shared *sh;
	int held = 0;

	memset(out, 0, sizeof(*out));
	if (g == NULL || g->sh == NULL)
		return;
	sh = g->sh;
	if (gate_lock(sh) != 0)
		return;
	*out = sh->stats;
	memset(&sh->stats, 0, sizeof(sh->stats));
	for (int i = 0; i < sh->lim.concurrency; i++)
		held += sh->slots[i].pid != 0;
	sh->stats.max_held = held;
	gate_unlock(sh);
}

/* ---- the process's gate ---------------------------------------------- */

void
hashgate_install(struct hashgate *g, int max_wait_ms)
{
	installed = g;
	installed_max_wait_ms = max_wait_ms > 0 ? max_wait_ms : 60000;
}

struct hashgate *
hashgate_installed(void)
{
	return installed;
}

void
hashgate_forget(void)
{
	hashgate_free(installed);
	installed = NULL;
}

void
hashgate_enter(const char *source)
{
	int64_t waited = 0;
	int r;

	if (installed == NULL)
		return;
	r = hashgate_acquire(installed, source, time_mono_ms() + installed_max_wait_ms, &waited);
	if (r == ERR_TIMEOUT)
		error("password check from %s waited %lld ms for the hash gate: checking anyway", source,
		      (long long)waited);
	else if (r != 0)
		error("the hash gate is unusable: checking without it");
	else if (waited >= 1000)
		verbose("password check from %s waited %lld ms for the hash gate", source, (long long)waited);
}

void
hashgate_leave(void)
{
	hashgate_release(installed);
}

void
hashgate_limits_from_config(const struct gh_config *cfg, struct hashgate_limits *lim)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(lim, 0, sizeof(*lim));
	/* Half the CPUs by default: a flood of checks from many addresses
	 * leaves the other half to key exchanges and running sessions. */
	lim->concurrency = cfg->hash_concurrency > 0 ? cfg->hash_concurrency : (int)(cpus > 1 ? cpus / 2 : 1);
	if (lim->concurrency > HASHGATE_MAX_CONCURRENCY)
		lim->concurrency = HASHGATE_MAX_CONCURRENCY;
	lim->per_source = 1;
	lim->rate_per_min = cfg->hash_source_rate;
	lim->burst = cfg->hash_source_burst;
}
