#include "proxy/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "common/err.h"
#include "common/log.h"
#include "common/store.h"
#include "common/timeutil.h"
#include "proxy/algorithms.h"
#include "proxy/conn.h"
#include "proxy/session-db.h"

#define LISTENER_MAX_CHILDREN  256 /* connections served at once; more are closed at accept */
#define LISTENER_UNPRIV_USER   "gatehouse"
#define LISTENER_KILL_MARGIN_S 10 /* after shutdown_grace, before SIGKILL */

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

static pid_t children[LISTENER_MAX_CHILDREN];
static int nchildren;
static const char *listener_datadir;

static void close_stale_sessions(const char *datadir);

static void
child_add(pid_t pid)
{
	int i;

	for (i = 0; i < LISTENER_MAX_CHILDREN; i++) {
		if (children[i] == 0) {
			children[i] = pid;
			nchildren++;
			return;
		}
	}
}

static void
reap_children(void)
{
	pid_t pid;
	int status, i, abnormal = 0;

	got_chld = 0;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		abnormal |= WIFSIGNALED(status);
		for (i = 0; i < LISTENER_MAX_CHILDREN; i++) {
			if (children[i] == pid) {
				children[i] = 0;
				nchildren--;
				break;
			}
		}
		if (WIFSIGNALED(status))
			info("connection process %d killed by signal %d", (int)pid, WTERMSIG(status));
		else
			debug("connection process %d exited %d", (int)pid, WEXITSTATUS(status));
	}
	/* A connection process that was killed left its sessions row active. */
	if (abnormal && listener_datadir != NULL)
		close_stale_sessions(listener_datadir);
}

static int
pid_alive(int pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Sessions rows left 'active' by processes that no longer exist (a crash,
 * kill -9, power loss) are closed as 'aborted'. */
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
	if ((r = sessdb_reap_stale(st, pid_alive, &n)) != 0)
		error("cannot close stale sessions: %s", gh_strerror(r));
	else if (n > 0)
		info("closed %d stale session(s) as aborted", n);
	store_close(st);
}

static int
drop_privileges(void)
{
	struct passwd *pw;

	if (getuid() != 0 && geteuid() != 0)
		return 0;
	if ((pw = getpwnam(LISTENER_UNPRIV_USER)) == NULL) {
		error("running as root and user %s does not exist", LISTENER_UNPRIV_USER);
		return ERR_NOTFOUND;
	}
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		error("cannot drop privileges to %s: %s", LISTENER_UNPRIV_USER, strerror(errno));
		return ERR_INTERNAL;
	}
	/* Verify: getting root back must be impossible. */
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid) {
		error("privileges were not dropped");
		return ERR_INTERNAL;
	}
	info("running as %s (uid %d)", LISTENER_UNPRIV_USER, (int)pw->pw_uid);
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
	return 0;
}

static ssh_bind
make_bind(const struct gh_config *cfg, const char *datadir)
{
	ssh_bind b = ssh_bind_new();
	char keypath[4096];
	const char *hk = cfg->host_key != NULL ? cfg->host_key : "ssh_host_ed25519_key";
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
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S, GH_MACS) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C, GH_MACS) != SSH_OK ||
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
	for (i = 0; i < LISTENER_MAX_CHILDREN; i++)
		if (children[i] > 0)
			kill(children[i], SIGTERM);
	while (nchildren > 0 && time_mono_ms() < deadline) {
		usleep(100 * 1000);
		reap_children();
	}
	if (nchildren > 0) {
		error("%d connection process(es) did not end: killing", nchildren);
		for (i = 0; i < LISTENER_MAX_CHILDREN; i++)
			if (children[i] > 0)
				kill(children[i], SIGKILL);
		deadline = time_mono_ms() + 5000;
		while (nchildren > 0 && time_mono_ms() < deadline) {
			usleep(100 * 1000);
			reap_children();
		}
	}
}

int
listener_run(const struct gh_config *cfg, const char *datadir)
{
	ssh_bind b = NULL;
	struct pollfd pfd;
	int lfd, fd, status = 1;
	pid_t pid;

	listener_datadir = datadir;
	if (install_signals() != 0)
		fatal("sigaction: %s", strerror(errno));
	if ((b = make_bind(cfg, datadir)) == NULL)
		return 1;
	/* The host key is loaded by ssh_bind_listen, so root is no longer needed. */
	if (drop_privileges() != 0)
		goto out;
	close_stale_sessions(datadir);
	lfd = ssh_bind_get_fd(b);
	fcntl(lfd, F_SETFD, FD_CLOEXEC);
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	info("listening on %s port %d", cfg->listen_address, cfg->port);
	while (!got_term) {
		if (got_chld)
			reap_children();
		pfd.fd = lfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (nchildren >= LISTENER_MAX_CHILDREN) {
			error("connection limit (%d) reached: refusing a connection", LISTENER_MAX_CHILDREN);
			close(fd);
			continue;
		}
		pid = fork();
		if (pid < 0) {
			error("fork: %s", strerror(errno));
			close(fd);
			continue;
		}
		if (pid == 0) {
			/* The connection process: it owns fd and nothing of the parent's loop. */
			close(lfd);
			status = conn_serve(b, fd, cfg, datadir);
			ssh_finalize();
			exit(status);
		}
		child_add(pid);
		close(fd);
	}
	shutdown_children(cfg);
	close_stale_sessions(datadir);
	status = 0;
out:
	ssh_bind_free(b);
	return status;
}
