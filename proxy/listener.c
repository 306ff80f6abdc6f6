#include "proxy/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/store.h"
#include "common/timeutil.h"
#include "proxy/algorithms.h"
#include "proxy/anchor.h"
#include "proxy/conn.h"
#include "proxy/hashgate.h"
#include "proxy/preauth.h"
#include "proxy/session-db.h"
#include "proxy/sessrec.h"

#define LISTENER_KILL_MARGIN_S 10 /* after shutdown_grace, before SIGKILL */
/* Pre-authentication limits (OpenSSH's MaxStartups): connections that have
 * not authenticated yet, in total (max_startups = start:rate:full, random
 * early drop between start and full) and per source address
 * (max_startups_per_source). A flood of half-open logins then cannot starve
 * operators who already logged in, and one source cannot take all the slots.
 * Per-source penalties: a source address with penalty_failures failed
 * authentication attempts (or login grace time expiries) within
 * penalty_window seconds is refused for penalty_time seconds, so that one
 * attacker can neither guess at length nor lock every account cheaply (the
 * account lockout would otherwise be the only brake). docs/security.md. */
#define PENALTY_SOURCES 512 /* sources tracked; the stalest entry is reused */
/* Evictions (a newcomer took a stalled connection's slot) are audited in
 * batches: the first at once, then at most one event per interval with the
 * count, so that a flood cannot flood the audit trail. */
#define EVICT_AUDIT_INTERVAL_MS  60000
#define HASHGATE_LOG_INTERVAL_MS 60000 /* the hash gate's counters are logged at most this often */

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_chld;

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void
on_chld(int sig)
{
	(void)sig;
	got_chld = 1;
}

/* A connection process and, until it authenticated, the read end of the
 * pipe on which it reports that (one byte, or EOF when it exits). */
struct child {
	pid_t pid;                /* 0 = free slot */
	int notify_fd;            /* -1 once authenticated (or gone, or evicted) */
	char addr[64];            /* source address, for the per-source limit */
	enum preauth_stage stage; /* what its monitor reported (preauth.h) */
	int64_t last_ms;          /* monotonic: accepted, first request or last progress */
};

/* max_sessions slots: connections served at once; more are closed at accept. */
static struct child *children;
static int max_children;
static int nchildren;

/* Failed attempts of one source address. */
struct penalty {
	char addr[64];         /* "" = free */
	int failures;          /* within the current window */
	int64_t window_start;  /* monotonic ms */
	int64_t blocked_until; /* monotonic ms; 0 = not blocked */
	int audit_pending;     /* blocked, not audited yet (several sources can be blocked in one batch) */
};

static struct penalty penalties[PENALTY_SOURCES];
static int penalty_blocks_new;   /* a source got blocked: audit it from the loop */
static int64_t stale_recheck_ms; /* monotonic ms of a second look for stale rows; 0 = none */
static const char *listener_datadir;
static const struct gh_config *listener_cfg;
static struct preauth_conn *victims; /* scratch for preauth_pick_victim, max_children entries */
static int *victim_slot;             /* victims[i] is children[victim_slot[i]] */
static struct hashgate *gate;        /* password hashing before authentication (hashgate.h) */
static int64_t gate_log_ms;          /* when the gate's counters were last logged */

/* Evictions not audited yet. */
struct evict_batch {
	int pending;     /* evictions since the last audit event */
	int stalled;     /* ... of connections that had not asked to authenticate */
	int idle;        /* ... of connections idle in authentication */
	int blocked;     /* ... of connections from a blocked source */
	char last[64];   /* the last evicted source */
	int64_t next_ms; /* no event before this (monotonic) */
};
static struct evict_batch evictions;

static void close_stale_sessions(const char *datadir);
static void child_report(struct child *ch);

static void
child_add(pid_t pid, int notify_fd, const char *addr)
{
	int i;

	for (i = 0; i < max_children; i++) {
		if (children[i].pid == 0) {
			children[i].pid = pid;
			children[i].notify_fd = notify_fd;
			snprintf(children[i].addr, sizeof(children[i].addr), "%s", addr);
			children[i].stage = PREAUTH_NEW;
			children[i].last_ms = time_mono_ms();
			nchildren++;
			return;
		}
	}
	if (notify_fd >= 0)
		close(notify_fd);
}

static struct penalty *
penalty_find(const char *addr, int create)
{
	struct penalty *stalest = NULL, *soonest = &penalties[0];
	int i;

	for (i = 0; i < PENALTY_SOURCES; i++) {
		if (strcmp(penalties[i].addr, addr) == 0)
			return &penalties[i];
		/* Reuse the stalest entry that is not blocked (free ones have
		 * window_start 0): a blocked source must not be evicted by others. */
		if (penalties[i].blocked_until == 0 &&
		    (stalest == NULL || penalties[i].window_start < stalest->window_start))
			stalest = &penalties[i];
		if (penalties[i].blocked_until < soonest->blocked_until)
			soonest = &penalties[i];
	}
	if (!create)
		return NULL;
	if (stalest == NULL)
		stalest = soonest; /* all blocked: the block that ends first */
	memset(stalest, 0, sizeof(*stalest));
	snprintf(stalest->addr, sizeof(stalest->addr), "%s", addr);
	stalest->window_start = time_mono_ms();
	return stalest;
}

static void
penalty_failure(const char *addr)
{
	struct penalty *p = penalty_find(addr, 1);
	int64_t now = time_mono_ms();

	const struct gh_config *cfg = listener_cfg;

	if (cfg->penalty_time <= 0)
		return;
	if (now - p->window_start > (int64_t)cfg->penalty_window * 1000) {
		p->window_start = now;
		p->failures = 0;
	}
	if (++p->failures >= cfg->penalty_failures && p->blocked_until <= now) {
		p->blocked_until = now + (int64_t)cfg->penalty_time * 1000;
		error("source %s refused for %d s after %d failed logins in %d s", addr, cfg->penalty_time, p->failures,
		      cfg->penalty_window);
		penalty_blocks_new = 1;
		p->audit_pending = 1;
	}
}

static int
penalty_blocked(const char *addr)
{
	struct penalty *p = penalty_find(addr, 0);
	int64_t now = time_mono_ms();

	if (p == NULL || p->blocked_until == 0)
		return 0;
	if (now >= p->blocked_until) {
		p->blocked_until = 0;
		p->failures = 0;
		p->window_start = now;
		return 0;
	}
	return 1;
}

/* Whether addr is refused now (no side effect, unlike penalty_blocked). */
static int
penalty_is_blocked(const char *addr)
{
	struct penalty *p = penalty_find(addr, 0);

	return p != NULL && p->blocked_until > time_mono_ms();
}

static void
child_authenticated(struct child *ch)
{
	if (ch->notify_fd >= 0)
		close(ch->notify_fd);
	ch->notify_fd = -1;
}

/* Unauthenticated connections: in total, and from addr. */
static void
count_unauth(const char *addr, int *total, int *from_addr)
{
	int i;

	*total = *from_addr = 0;
	for (i = 0; i < max_children; i++) {
		if (children[i].pid == 0 || children[i].notify_fd < 0)
			continue;
		(*total)++;
		if (strcmp(children[i].addr, addr) == 0)
			(*from_addr)++;
	}
}

static void
reap_children(void)
{
	pid_t pid;
	int status, i, abnormal = 0;

	got_chld = 0;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		/* Killed, or its network child was (the monitor exits 128 + signal). */
		abnormal |= WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) >= 128);
		/* A password check it held or waited for is given back. */
		hashgate_reclaim(gate, pid);
		for (i = 0; i < max_children; i++) {
			if (children[i].pid == pid) {
				/* Its last reports ('F', 'G') may still be in the pipe when
				 * the exit is seen first: count them before closing it
				 * (bounded: the pipe holds at most a few reads' worth). */
				for (int k = 0; k < 16 && children[i].notify_fd >= 0; k++)
					child_report(&children[i]);
				child_authenticated(&children[i]);
				children[i].pid = 0;
				nchildren--;
				break;
			}
		}
		if (WIFSIGNALED(status))
			info("connection process %d killed by signal %d", (int)pid, WTERMSIG(status));
		else
			debug("connection process %d exited %d", (int)pid, WEXITSTATUS(status));
	}
	/* A connection process that was killed left its sessions row active.
	 * When a monitor was killed, its network child gets SIGKILL at that
	 * moment (PR_SET_PDEATHSIG) but may take a moment to die: look again
	 * a little later. */
	if (abnormal && listener_datadir != NULL) {
		close_stale_sessions(listener_datadir);
		stale_recheck_ms = time_mono_ms() + 2000;
	}
}

static int
pid_alive(int pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Sessions rows left 'active' by processes that no longer exist (a crash,
 * kill -9, power loss) are closed as 'aborted', with the chain head and
 * index of their recording rebuilt from the file (sessrec.c). */
static void
close_stale_sessions(const char *datadir)
{
	struct store *st = NULL;
	char path[4096];
	int n = 0, r;

	snprintf(path, sizeof(path), "%s/gatehouse.db", datadir);
	if ((r = store_open(path, 0, &st)) != 0) {
		error("cannot open %s: %s", path, gh_strerror(r));
		return;
	}
	if ((r = sessrec_recover_stale(st, datadir, pid_alive, &n)) != 0)
		error("cannot close stale sessions: %s", gh_strerror(r));
	else if (n > 0)
		info("closed %d stale session(s) as aborted", n);
	store_close(st);
}

static int
drop_privileges(void)
{
	uid_t uid;
	gid_t gid;
	int r;

	if (getuid() != 0 && geteuid() != 0)
		return 0;
	if ((r = priv_service_user(&uid, &gid)) != 0) {
		error("running as root and user %s does not exist", PRIV_SERVICE_USER);
		return r;
	}
	if ((r = priv_drop(uid, gid)) != 0) {
		error("cannot drop privileges to %s: %s", PRIV_SERVICE_USER, gh_strerror(r));
		return r;
	}
	info("running as %s (uid %d)", PRIV_SERVICE_USER, (int)uid);
	return 0;
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_term;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) != 0)
		return -1;
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* An eviction (SIGUSR2) that reaches a connection process before it
	 * set its handler must not kill it as by a crash. */
	sigaction(SIGUSR2, &sa, NULL);
	return 0;
}

static ssh_bind
make_bind(const struct gh_config *cfg, const char *datadir)
{
	ssh_bind b = ssh_bind_new();
	char keypath[4096];
	const char *hk = cfg->host_key != NULL ? cfg->host_key : "ssh_host_ed25519_key";
	const char *macs = cfg->allow_non_etm_macs ? GH_MACS_COMPAT : GH_MACS;
	int no = 0, port = cfg->port;

	if (b == NULL)
		return NULL;
	if (hk[0] == '/')
		snprintf(keypath, sizeof(keypath), "%s", hk);
	else
		snprintf(keypath, sizeof(keypath), "%s/%s", datadir, hk);
	/* PROCESS_CONFIG first: otherwise libssh reads a global config file. */
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDADDR, cfg->listen_address) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDPORT, &port) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY, keypath) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE, GH_KEX) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S, GH_CIPHERS) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C, GH_CIPHERS) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S, macs) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C, macs) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, GH_HOSTKEY_ALGOS) != SSH_OK) {
		error("ssh_bind options: %s", ssh_get_error(b));
		ssh_bind_free(b);
		return NULL;
	}
	if (ssh_bind_listen(b) != SSH_OK) {
		error("cannot listen on %s:%d: %s", cfg->listen_address, port, ssh_get_error(b));
		ssh_bind_free(b);
		return NULL;
	}
	return b;
}

/* SIGTERM: stop accepting, pass SIGTERM on (children tell their operators
 * and end after shutdown_grace), wait, then SIGKILL what is left. */
static void
shutdown_children(const struct gh_config *cfg)
{
	int64_t deadline = time_mono_ms() + (int64_t)(cfg->shutdown_grace + LISTENER_KILL_MARGIN_S) * 1000;
	int i;

	info("shutting down: %d connection(s) get %d s", nchildren, cfg->shutdown_grace);
	for (i = 0; i < max_children; i++)
		if (children[i].pid > 0)
			kill(children[i].pid, SIGTERM);
	while (nchildren > 0 && time_mono_ms() < deadline) {
		usleep(100 * 1000);
		reap_children();
	}
	if (nchildren > 0) {
		error("%d connection process(es) did not end: killing", nchildren);
		for (i = 0; i < max_children; i++)
			if (children[i].pid > 0)
				kill(children[i].pid, SIGKILL);
		deadline = time_mono_ms() + 5000;
		while (nchildren > 0 && time_mono_ms() < deadline) {
			usleep(100 * 1000);
			reap_children();
		}
	}
}

static void
source_of(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	snprintf(buf, len, "?");
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)len);
	else if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)ss)->sin6_addr))
		inet_ntop(AF_INET, &((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr[12], buf, (socklen_t)len);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)len);
}

/* A connection process reported: "F" per failed attempt, "G" when its
 * login grace time expired (a connection that never authenticates costs
 * its source like a failure), "K" on its first authentication request,
 * "P" on progress in authentication (preauth_request_reports), "A" once
 * authenticated; EOF when it exits. */
static void
child_report(struct child *ch)
{
	char buf[64];
	ssize_t n, i;

	n = read(ch->notify_fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		child_authenticated(ch);
		return;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] == 'F' || buf[i] == 'G')
			penalty_failure(ch->addr);
		else if (buf[i] == 'K' || buf[i] == 'P') {
			ch->stage = PREAUTH_AUTH;
			ch->last_ms = time_mono_ms();
		} else if (buf[i] == 'A')
			child_authenticated(ch);
		if (ch->notify_fd < 0)
			return;
	}
}

/* The audit event for a newly blocked source (the listener opens the store
 * only for such rare events). */
static void
audit_penalty(const char *datadir)
{
	struct store *st = NULL;
	char path[4096], detail[160];
	struct audit_event ev = {0};

	penalty_blocks_new = 0;
	snprintf(path, sizeof(path), "%s/gatehouse.db", datadir);
	if (store_open(path, 0, &st) != 0)
		return;
	snprintf(detail, sizeof(detail), "{\"failures\":%d,\"window_s\":%d,\"blocked_s\":%d}",
	         listener_cfg->penalty_failures, listener_cfg->penalty_window, listener_cfg->penalty_time);
	for (int i = 0; i < PENALTY_SOURCES; i++) {
		if (!penalties[i].audit_pending)
			continue;
		penalties[i].audit_pending = 0;
		ev.actor = "system";
		ev.source = penalties[i].addr;
		ev.type = "source.block";
		ev.object = penalties[i].addr;
		ev.result = "blocked";
		ev.importance = AUDIT_HIGH;
		ev.detail = detail;
		if (audit_append(st, &ev, NULL) != 0)
			error("cannot audit the block of %s", penalties[i].addr);
	}
	store_close(st);
}

/* MaxStartups' random early drop (proxy/preauth.c); no randomness = refuse. */
static int
startups_drop(const struct gh_config *cfg, int total)
{
	uint32_t rnd = 0;

	if (total < cfg->max_startups[0])
		return 0;
	if (preauth_random(&rnd) != 0)
		return 1;
	return preauth_drop(cfg->max_startups, total, rnd);
}

/* The newcomer from addr would be dropped: end the unauthenticated
 * connection that is most overdue instead (preauth_pick_victim), so that a
 * flood of stalled connections cannot keep operators out. The victim's
 * monitor gets SIGUSR2 and ends the connection (conn.c); its source is
 * charged one failure, like a login grace expiry. Returns 0 when one was
 * evicted, -1 when none may be (the newcomer is then refused). */
static int
evict_for(const char *addr)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		struct child *ch;
		int n = 0, v;
		int64_t now = time_mono_ms(), last;
		const char *why;

		for (int i = 0; i < max_children; i++) {
			if (children[i].pid == 0 || children[i].notify_fd < 0)
				continue;
			victims[n].stage = children[i].stage;
			victims[n].last_ms = children[i].last_ms;
			victims[n].source_blocked = penalty_is_blocked(children[i].addr);
			victim_slot[n++] = i;
		}
		if ((v = preauth_pick_victim(victims, n, now)) < 0)
			return -1;
		ch = &children[victim_slot[v]];
		/* A report may have arrived since the last poll: progress or
		 * success protects it, so read it before deciding. */
		last = ch->last_ms;
		child_report(ch);
		if (ch->notify_fd < 0 || ch->last_ms != last)
			continue;
		why = victims[v].source_blocked  ? "its source is blocked"
		      : ch->stage == PREAUTH_NEW ? "no authentication request"
		                                 : "no progress in authentication";
		info("evicted the connection from %s (%s for %.1f s) for a new one from %s", ch->addr, why,
		     (double)(now - ch->last_ms) / 1000.0, addr);
		if (kill(ch->pid, SIGUSR2) != 0 && errno != ESRCH)
			error("cannot signal connection process %d: %s", (int)ch->pid, strerror(errno));
		if (victims[v].source_blocked)
			evictions.blocked++;
		else if (ch->stage == PREAUTH_NEW)
			evictions.stalled++;
		else
			evictions.idle++;
		evictions.pending++;
		snprintf(evictions.last, sizeof(evictions.last), "%s", ch->addr);
		/* No longer counted as unauthenticated: it is ending. */
		child_authenticated(ch);
		penalty_failure(ch->addr);
		return 0;
	}
	return -1;
}

/* The audit event for evictions since the last one (the first of a flood
 * at once, then at most one per EVICT_AUDIT_INTERVAL_MS). */
static void
audit_evictions(const char *datadir, int force)
{
	struct store *st = NULL;
	char path[4096], startups[48];
	char *detail = NULL;
	json_t *j = NULL;
	struct audit_event ev = {0};
	int64_t now = time_mono_ms();

	if (evictions.pending == 0 || (!force && now < evictions.next_ms))
		return;
	evictions.next_ms = now + EVICT_AUDIT_INTERVAL_MS;
	snprintf(path, sizeof(path), "%s/gatehouse.db", datadir);
	if (store_open(path, 0, &st) != 0)
		return; /* counted again with the next batch */
	snprintf(startups, sizeof(startups), "%d:%d:%d", listener_cfg->max_startups[0], listener_cfg->max_startups[1],
	         listener_cfg->max_startups[2]);
	j = json_pack("{s:i,s:i,s:i,s:i,s:s,s:s}", "evicted", evictions.pending, "no_auth_request", evictions.stalled,
	              "idle_in_auth", evictions.idle, "blocked_source", evictions.blocked, "last_source",
	              evictions.last, "max_startups", startups);
	detail = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	ev.actor = "system";
	ev.source = evictions.last;
	ev.type = "preauth.evict";
	ev.object = "preauth";
	ev.result = "evicted";
	ev.importance = AUDIT_HIGH;
	ev.detail = detail;
	if (audit_append(st, &ev, NULL) != 0)
		error("cannot audit %d evictions", evictions.pending);
	else {
		int64_t next = evictions.next_ms;

		memset(&evictions, 0, sizeof(evictions));
		evictions.next_ms = next;
	}
	store_close(st);
	free(detail);
	json_decref(j);
}

/* The hash gate's counters, logged when checks had to wait (so that an
 * administrator sees a flood of password checks being held back). */
static void
log_hashgate(int force)
{
	struct hashgate_stats hs;
	int64_t now = time_mono_ms();

	if (!force && now - gate_log_ms < HASHGATE_LOG_INTERVAL_MS)
		return;
	gate_log_ms = now;
	hashgate_take_stats(gate, &hs);
	if (hs.waited == 0 && hs.reclaimed == 0)
		return;
	info("hash gate: %llu password checks, %llu waited (longest %lld ms), at most %d at once, %llu slots reclaimed",
	     (unsigned long long)hs.admitted, (unsigned long long)hs.waited, (long long)hs.max_wait_ms, hs.max_held,
	     (unsigned long long)hs.reclaimed);
}

/* Wait for a connection or an authentication report. Returns the number of
 * ready descriptors; index 0 is the listening socket. */
static int
wait_events(int lfd, struct pollfd *pfd, int *slot)
{
	int i, n = 1, rc;

	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	for (i = 0; i < max_children; i++) {
		if (children[i].pid == 0 || children[i].notify_fd < 0)
			continue;
		pfd[n].fd = children[i].notify_fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		slot[n++] = i;
	}
	rc = poll(pfd, (nfds_t)n, 1000);
	if (rc <= 0)
		return rc;
	for (i = 1; i < n; i++)
		if (pfd[i].revents != 0)
			child_report(&children[slot[i]]);
	return rc;
}

/* Fork the connection process for fd. */
static void
spawn(ssh_bind b, int lfd, int fd, const char *addr, const struct gh_config *cfg, const char *datadir)
{
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0) {
		error("pipe: %s", strerror(errno));
		close(fd);
		return;
	}
	pid = fork();
	if (pid < 0) {
		error("fork: %s", strerror(errno));
		close(fd);
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		/* The connection process: it owns fd and nothing of the parent's loop. */
		close(lfd);
		close(p[0]);
		fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
		for (int i = 0; i < max_children; i++)
			if (children[i].pid != 0 && children[i].notify_fd >= 0)
				close(children[i].notify_fd);
		conn_set_auth_notify_fd(p[1]);
		status = conn_serve(b, fd, cfg, datadir);
		ssh_finalize();
		exit(status);
	}
	close(p[1]);
	close(fd);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	child_add(pid, p[0], addr);
}

/* The listener holds a pipe to every connection that has not
 * authenticated yet and each connection process inherits the limit:
 * make sure max_sessions is not refused for lack of descriptors (the
 * usual soft limit is 1024). Raised up to the hard limit only. */
static void
raise_nofile(int sessions)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)sessions + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		error("setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)rl.rlim_cur, strerror(errno));
	if (rl.rlim_cur < want)
		info("open-file limit %llu is below what max_sessions = %d needs (%llu)",
		     (unsigned long long)rl.rlim_cur, sessions, (unsigned long long)want);
}

int
listener_run(const struct gh_config *cfg, const char *datadir)
{
	struct pollfd *pfd = NULL;
	int *slot = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[64];
	ssh_bind b = NULL;
	int lfd, fd, status = 1, total, from_addr;

	listener_datadir = datadir;
	listener_cfg = cfg;
	max_children = cfg->max_sessions;
	children = calloc((size_t)max_children, sizeof(*children));
	pfd = calloc((size_t)max_children + 1, sizeof(*pfd));
	slot = calloc((size_t)max_children + 1, sizeof(*slot));
	victims = calloc((size_t)max_children, sizeof(*victims));
	victim_slot = calloc((size_t)max_children, sizeof(*victim_slot));
	if (children == NULL || pfd == NULL || slot == NULL || victims == NULL || victim_slot == NULL)
		fatal("out of memory for %d sessions", max_children);
	raise_nofile(max_children);
	if (install_signals() != 0)
		fatal("sigaction: %s", strerror(errno));
	if ((b = make_bind(cfg, datadir)) == NULL)
		return 1;
	/* The host key is loaded by ssh_bind_listen, so root is no longer needed. */
	if (drop_privileges() != 0)
		goto out;
	close_stale_sessions(datadir);
	{
		struct hashgate_limits lim;

		/* Shared with every connection process forked from here on. */
		hashgate_limits_from_config(cfg, &lim);
		if ((gate = hashgate_new(&lim)) == NULL) {
			error("cannot create the hash gate: %s", strerror(errno));
			goto out;
		}
		hashgate_install(gate, (cfg->login_grace_time > 0 ? cfg->login_grace_time : 120) * 1000);
		info("hash gate: %d password check(s) at once, %d per minute per source (burst %d)", lim.concurrency,
		     lim.rate_per_min, lim.burst);
	}
	anchor_start(cfg, datadir);
	lfd = ssh_bind_get_fd(b);
	fcntl(lfd, F_SETFD, FD_CLOEXEC);
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	info("listening on %s port %d", cfg->listen_address, cfg->port);
	while (!got_term) {
		anchor_tick(datadir);
		retention_tick(cfg, datadir);
		if (got_chld)
			reap_children();
		if (stale_recheck_ms != 0 && time_mono_ms() >= stale_recheck_ms) {
			stale_recheck_ms = 0;
			close_stale_sessions(datadir);
		}
		log_hashgate(0);
		if (wait_events(lfd, pfd, slot) <= 0 || (pfd[0].revents & POLLIN) == 0) {
			if (penalty_blocks_new)
				audit_penalty(datadir);
			audit_evictions(datadir, 0);
			continue;
		}
		if (penalty_blocks_new)
			audit_penalty(datadir);
		audit_evictions(datadir, 0);
		sslen = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		source_of(&ss, addr, sizeof(addr));
		if (penalty_blocked(addr)) {
			debug("refusing a connection from %s: penalty", addr);
			close(fd);
			continue;
		}
		count_unauth(addr, &total, &from_addr);
		/* The random early drop picks whether the pool of unauthenticated
		 * connections grows; when it says no, the most overdue one gives
		 * way to the newcomer, which is refused only when none may. */
		if (nchildren >= max_children || from_addr >= cfg->max_startups_per_source ||
		    (startups_drop(cfg, total) && evict_for(addr) != 0)) {
			error("refusing a connection from %s: %d connections, %d unauthenticated (%d from it)", addr,
			      nchildren, total, from_addr);
			close(fd);
			continue;
		}
		spawn(b, lfd, fd, addr, cfg, datadir);
	}
	/* Stop accepting now: new connections are refused rather than left
	 * waiting in the backlog during the grace period. */
	ssh_bind_free(b);
	b = NULL;
	shutdown_children(cfg);
	close_stale_sessions(datadir);
	audit_evictions(datadir, 1);
	log_hashgate(1);
	anchor_stop(datadir);
	status = 0;
out:
	ssh_bind_free(b);
	hashgate_install(NULL, 0);
	hashgate_free(gate);
	gate = NULL;
	free(pfd);
	free(slot);
	free(victims);
	free(victim_slot);
	return status;
}
