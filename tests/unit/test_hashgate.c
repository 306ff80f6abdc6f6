/* The hash gate (proxy/hashgate.c): the bound on password hashing before
 * authentication, shared by forked processes. Each case forks real
 * processes that take and give back slots, as the monitors of a daemon do:
 * the global and per-source concurrency, the token bucket, reclaiming the
 * slot of a holder that was killed (also while inside the gate's lock),
 * and the order among waiters (a quiet source passes a queue of busy ones). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "proxy/hashgate.h"

/* What the child processes tell the test, in a shared mapping. */
struct board {
	int running;     /* checks inside the gate now */
	int max_running; /* most at once */
	int running_a;   /* ... from source "a" */
	int max_running_a;
	int admissions;   /* admission counter, all processes */
	int per_child[8]; /* admissions of each child */
	int stop;         /* children stop looping */
	int b_arrived_at; /* admissions when B asked */
	int b_admitted_at;
};

static struct board *
board_new(void)
{
	struct board *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(b != MAP_FAILED);
	memset(b, 0, sizeof(*b));
	return b;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void
max_update(int *max, int v)
{
	int old = __atomic_load_n(max, __ATOMIC_SEQ_CST);

	while (v > old && !__atomic_compare_exchange_n(max, &old, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

/* One check: enter, note how many run, hold hold_ms, leave. */
static int
one_check(struct hashgate *g, struct board *b, const char *src, int child, int hold_ms)
{
	int n, na = 0;

	if (hashgate_acquire(g, src, time_mono_ms() + 20000, NULL) != 0)
		return -1;
	n = __atomic_add_fetch(&b->running, 1, __ATOMIC_SEQ_CST);
	max_update(&b->max_running, n);
	if (strcmp(src, "a") == 0) {
		na = __atomic_add_fetch(&b->running_a, 1, __ATOMIC_SEQ_CST);
		max_update(&b->max_running_a, na);
	}
	__atomic_add_fetch(&b->admissions, 1, __ATOMIC_SEQ_CST);
	if (child >= 0)
		__atomic_add_fetch(&b->per_child[child], 1, __ATOMIC_SEQ_CST);
	sleep_ms(hold_ms);
	if (strcmp(src, "a") == 0)
		__atomic_sub_fetch(&b->running_a, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&b->running, 1, __ATOMIC_SEQ_CST);
	hashgate_release(g);
	return 0;
}

static pid_t
spawn_checks(struct hashgate *g, struct board *b, const char *src, int child, int count, int hold_ms)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < count && !__atomic_load_n(&b->stop, __ATOMIC_SEQ_CST); i++)
			if (one_check(g, b, src, child, hold_ms) != 0)
				_exit(1);
		_exit(0);
	}
	return pid;
}

static void
reap_ok(pid_t pid)
{
	int st = 0;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static const struct hashgate_limits roomy = {.concurrency = 2, .per_source = 8, .rate_per_min = 6000, .burst = 100};

static void
test_limits_checked(void **state)
{
	struct hashgate_limits l = roomy;

	(void)state;
	assert_null(hashgate_new(NULL));
	l.concurrency = 0;
	assert_null(hashgate_new(&l));
	l.concurrency = HASHGATE_MAX_CONCURRENCY + 1;
	assert_null(hashgate_new(&l));
	l = roomy;
	l.rate_per_min = 0;
	assert_null(hashgate_new(&l));
	l = roomy;
	l.burst = 0;
	assert_null(hashgate_new(&l));
	hashgate_free(NULL);
	/* Without a gate installed, enter and leave do nothing. */
	hashgate_install(NULL, 0);
	hashgate_enter("x");
	hashgate_leave();
}

static void
test_global_concurrency(void **state)
{
	struct hashgate *g = hashgate_new(&roomy);
	struct board *b = board_new();
	const char *src[6] = {"s1", "s2", "s3", "s4", "s5", "s6"};
	pid_t pid[6];

	(void)state;
	assert_non_null(g);
	for (int i = 0; i < 6; i++)
		pid[i] = spawn_checks(g, b, src[i], i, 3, 60);
	for (int i = 0; i < 6; i++)
		reap_ok(pid[i]);
	assert_int_equal(b->admissions, 18);
	assert_int_equal(b->max_running, 2); /* the bound, and it was used */
	{
		struct hashgate_stats st;

		hashgate_take_stats(g, &st);
		assert_int_equal(st.admitted, 18);
		assert_true(st.waited > 0);
		assert_int_equal(st.max_held, 2);
	}
	munmap(b, sizeof(*b));
	hashgate_free(g);
}

static void
test_per_source_concurrency(void **state)
{
	struct hashgate_limits l = {.concurrency = 4, .per_source = 1, .rate_per_min = 6000, .burst = 100};
	struct hashgate *g = hashgate_new(&l);
	struct board *b = board_new();
	pid_t pid[5];

	(void)state;
	assert_non_null(g);
	/* Four processes of source "a" and one of "b": "a" never runs two at
	 * once, and "b" runs beside it. */
	for (int i = 0; i < 4; i++)
		pid[i] = spawn_checks(g, b, "a", i, 3, 50);
	pid[4] = spawn_checks(g, b, "b", 4, 6, 50);
	for (int i = 0; i < 5; i++)
		reap_ok(pid[i]);
	assert_int_equal(b->admissions, 18);
	assert_int_equal(b->max_running_a, 1);
	assert_int_equal(b->max_running, 2);
	munmap(b, sizeof(*b));
	hashgate_free(g);
}

static void
test_token_bucket(void **state)
{
	/* 120 per minute = one every 500 ms, 3 at once after a quiet spell. */
	struct hashgate_limits l = {.concurrency = 2, .per_source = 1, .rate_per_min = 120, .burst = 3};
	struct hashgate *g = hashgate_new(&l);
	struct hashgate_stats hs;
	int64_t t0, waited = 0;

	(void)state;
	assert_non_null(g);
	t0 = time_mono_ms();
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hashgate_acquire(g, "a", t0 + 10000, &waited), 0);
		assert_int_equal(waited, 0); /* the burst does not wait */
		hashgate_release(g);
	}
	/* Drained: the next one waits for the refill, or times out first. */
	assert_int_equal(hashgate_acquire(g, "a", time_mono_ms() + 20, &waited), ERR_TIMEOUT);
	assert_true(waited >= 20);
	hashgate_release(g); /* nothing held: a no-op */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hashgate_acquire(g, "a", time_mono_ms() + 10000, &waited), 0);
		hashgate_release(g);
	}
	/* 6 checks with a burst of 3 at 2/s: 3 refills, 1.5 s at least. */
	assert_true(time_mono_ms() - t0 >= 1400);
	hashgate_take_stats(g, &hs);
	assert_int_equal(hs.admitted, 6);
	assert_int_equal(hs.waited, 3);
	/* Another source has its own bucket. */
	assert_int_equal(hashgate_acquire(g, "b", time_mono_ms() + 10000, &waited), 0);
	assert_int_equal(waited, 0);
	hashgate_release(g);
	hashgate_free(g);
}

static void
test_reclaim_dead_holder(void **state)
{
	struct hashgate_limits l = {.concurrency = 1, .per_source = 1, .rate_per_min = 6000, .burst = 100};
	struct hashgate *g = hashgate_new(&l);
	struct board *b = board_new();
	int64_t waited = -1;
	pid_t pid;
	int st;

	(void)state;
	assert_non_null(g);
	/* A holder killed with its slot (the login grace time, an eviction):
	 * once it is gone, the next check gets the slot without any help. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (hashgate_acquire(g, "dead", time_mono_ms() + 5000, NULL) != 0)
			_exit(1);
		__atomic_store_n(&b->admissions, 1, __ATOMIC_SEQ_CST);
		pause();
		_exit(0);
	}
	while (__atomic_load_n(&b->admissions, __ATOMIC_SEQ_CST) == 0)
		sleep_ms(5);
	assert_int_equal(hashgate_acquire(g, "other", time_mono_ms() + 50, NULL), ERR_TIMEOUT);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(hashgate_acquire(g, "other", time_mono_ms() + 10000, &waited), 0);
	hashgate_release(g);
	{
		struct hashgate_stats hs;

		hashgate_take_stats(g, &hs);
		assert_int_equal(hs.reclaimed, 1);
	}

	/* The listener reclaims a reaped process's slot at once. */
	__atomic_store_n(&b->admissions, 0, __ATOMIC_SEQ_CST);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (hashgate_acquire(g, "dead", time_mono_ms() + 5000, NULL) != 0)
			_exit(1);
		__atomic_store_n(&b->admissions, 1, __ATOMIC_SEQ_CST);
		pause();
		_exit(0);
	}
	while (__atomic_load_n(&b->admissions, __ATOMIC_SEQ_CST) == 0)
		sleep_ms(5);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	hashgate_reclaim(g, pid);
	assert_int_equal(hashgate_acquire(g, "other", time_mono_ms() + 10000, &waited), 0);
	assert_int_equal(waited, 0);
	hashgate_release(g);
	munmap(b, sizeof(*b));
	hashgate_free(g);
}

static void
test_killed_anywhere(void **state)
{
	/* Processes killed at random points of a busy acquire/release loop,
	 * some inside the gate's lock (the robust mutex's EOWNERDEAD): the gate
	 * stays usable and no slot stays lost once they are reaped. */
	struct hashgate_limits l = {.concurrency = 2, .per_source = 4, .rate_per_min = 6000, .burst = 1000};
	struct hashgate *g = hashgate_new(&l);
	int64_t waited = 0;

	(void)state;
	assert_non_null(g);
	for (int round = 0; round < 20; round++) {
		pid_t pid[3];
		int st;

		for (int i = 0; i < 3; i++) {
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				for (;;) {
					if (hashgate_acquire(g, "busy", time_mono_ms() + 10000, NULL) == 0)
						hashgate_release(g);
				}
			}
		}
		sleep_ms(3 + round % 7);
		for (int i = 0; i < 3; i++) {
			kill(pid[i], SIGKILL);
			assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
			hashgate_reclaim(g, pid[i]);
		}
		/* Both slots free again. */
		assert_int_equal(hashgate_acquire(g, "check", time_mono_ms() + 5000, &waited), 0);
		hashgate_release(g);
		assert_int_equal(hashgate_acquire(g, "check2", time_mono_ms() + 5000, &waited), 0);
		hashgate_release(g);
	}
	hashgate_free(g);
}

static void
on_usr2(int sig)
{
	(void)sig;
	if (hashgate_waiting()) /* as conn.c's eviction handler does */
		_exit(3);
}

static void
test_signal_while_waiting(void **state)
{
	/* A monitor evicted while it waits for a slot ends at once (the
	 * listener then takes back its waiter entry); the gate goes on. */
	struct hashgate_limits l = {.concurrency = 1, .per_source = 1, .rate_per_min = 6000, .burst = 100};
	struct hashgate *g = hashgate_new(&l);
	int64_t waited = 0;
	pid_t pid;
	int st;

	(void)state;
	assert_non_null(g);
	assert_int_equal(hashgate_waiting(), 0);
	assert_int_equal(hashgate_acquire(g, "holder", time_mono_ms() + 1000, NULL), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGUSR2, on_usr2);
		hashgate_acquire(g, "waiter", time_mono_ms() + 20000, NULL);
		_exit(0); /* admitted or timed out: not what the test wants */
	}
	sleep_ms(300); /* it is waiting by now (or will be when the signal comes) */
	kill(pid, SIGUSR2);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
	hashgate_reclaim(g, pid);
	hashgate_release(g);
	assert_int_equal(hashgate_waiting(), 0);
	assert_int_equal(hashgate_acquire(g, "next", time_mono_ms() + 5000, &waited), 0);
	assert_int_equal(waited, 0);
	hashgate_release(g);
	hashgate_free(g);
}

static void
test_quiet_source_first(void **state)
{
	/* One slot; five busy sources queue for it, each served already. A
	 * source that has not been served lately (here: never) gets the next
	 * free slot instead of the end of the queue: at most one admission
	 * (the one under way when it asked) between its arrival and its own.
	 * First come, first served would put the whole queue before it. */
	struct hashgate_limits l = {.concurrency = 1, .per_source = 1, .rate_per_min = 6, .burst = 20};
	struct hashgate *g = hashgate_new(&l);
	struct board *b = board_new();
	const char *src[5] = {"a1", "a2", "a3", "a4", "a5"};
	pid_t pid[5], qb;
	int64_t deadline;
	int all_served = 0;

	(void)state;
	assert_non_null(g);
	for (int i = 0; i < 5; i++)
		pid[i] = spawn_checks(g, b, src[i], i, 100, 80);
	deadline = time_mono_ms() + 30000;
	while (!all_served && time_mono_ms() < deadline) {
		all_served = 1;
		for (int i = 0; i < 5; i++)
			all_served &= __atomic_load_n(&b->per_child[i], __ATOMIC_SEQ_CST) > 0;
		sleep_ms(20);
	}
	assert_true(all_served);
	qb = fork();
	assert_true(qb >= 0);
	if (qb == 0) {
		b->b_arrived_at = __atomic_load_n(&b->admissions, __ATOMIC_SEQ_CST);
		if (hashgate_acquire(g, "quiet", time_mono_ms() + 20000, NULL) != 0)
			_exit(1);
		b->b_admitted_at = __atomic_load_n(&b->admissions, __ATOMIC_SEQ_CST);
		hashgate_release(g);
		_exit(0);
	}
	reap_ok(qb);
	__atomic_store_n(&b->stop, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 5; i++)
		reap_ok(pid[i]);
	print_message("quiet source: %d admission(s) between its arrival and its own\n",
	              b->b_admitted_at - b->b_arrived_at);
	assert_true(b->b_admitted_at - b->b_arrived_at <= 1);
	munmap(b, sizeof(*b));
	hashgate_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_limits_checked),         cmocka_unit_test(test_global_concurrency),
	        cmocka_unit_test(test_per_source_concurrency), cmocka_unit_test(test_token_bucket),
	        cmocka_unit_test(test_reclaim_dead_holder),    cmocka_unit_test(test_killed_anywhere),
	        cmocka_unit_test(test_signal_while_waiting),   cmocka_unit_test(test_quiet_source_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
