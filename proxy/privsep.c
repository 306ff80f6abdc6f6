/* Privilege separation: the network child's sandbox and the messages it
 * exchanges with its monitor. See privsep.h and docs/security.md. */
#include "proxy/privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/srv-auth.h"

#if defined(__SANITIZE_ADDRESS__)
#define GH_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GH_SANITIZER 1
#endif
#endif

/* Refused always (EPERM): reading or steering other processes, kernel
 * attack surface nobody here needs, and what could undo the sandbox's
 * point (a descriptor taken from another process). */
static const char *const refused_always[] = {
#ifndef GH_SANITIZER
        /* LeakSanitizer stops the process's threads with ptrace at exit. */
        "ptrace",
#endif
        "process_vm_readv",
        "process_vm_writev",
        "pidfd_getfd",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "mount",
        "umount2",
        "pivot_root",
        "move_mount",
        "open_tree",
        "fsopen",
        "fsmount",
        "fspick",
        "mount_setattr",
        "swapon",
        "swapoff",
        "reboot",
        "chroot",
        "setns",
        "unshare",
        "keyctl",
        "add_key",
        "request_key",
        "open_by_handle_at",
        "name_to_handle_at",
        "quotactl",
        "acct",
        "uselib",
};

/* Decided by the monitor: everything that reaches a file, a program, the
 * network or another process by name, what tells whether a path exists or
 * where a link points (stat, access, readlink ...: an attacker maps the
 * system with them), and process creation (a second thread or process
 * would be a second place to run from, and one that could change the
 * child's memory behind its back). After authentication they all pass:
 * stdio, libssh, sqlite and the sanitizers' runtime need the stat family,
 * and glibc 2.36 makes even fstat() a newfstatat(fd, "", AT_EMPTY_PATH). */
static const char *const decided[] = {
        "stat",
        "lstat",
        "newfstatat",
        "fstatat64",
        "statx",
        "statfs",
        "access",
        "faccessat",
        "faccessat2",
        "readlink",
        "readlinkat",
        "chdir",
        "getxattr",
        "lgetxattr",
        "listxattr",
        "llistxattr",
        "fork",
        "vfork",
        "clone",
        "clone3",
        "mq_open",
        "shmget",
        "shmat",
        "msgget",
        "msgsnd",
        "msgrcv",
        "semget",
        "semop",
        "semtimedop",
        "open",
        "openat",
        "openat2",
        "creat",
        "execve",
        "execveat",
        "socket",
        "connect",
        "bind",
        "unlink",
        "unlinkat",
        "rename",
        "renameat",
        "renameat2",
        "link",
        "linkat",
        "symlink",
        "symlinkat",
        "mkdir",
        "mkdirat",
        "rmdir",
        "mknod",
        "mknodat",
        "truncate",
        "chmod",
        "fchmodat",
        "chown",
        "lchown",
        "fchownat",
        "utime",
        "utimes",
        "utimensat",
        "futimesat",
        "setxattr",
        "lsetxattr",
        "removexattr",
        "lremovexattr",
        "inotify_add_watch",
        "fanotify_mark",
        "kill",
        "tkill",
        "tgkill",
        "pidfd_open",
        "pidfd_send_signal",
        "rt_sigqueueinfo",
        "rt_tgsigqueueinfo",
};

static int
add_rules(scmp_filter_ctx ctx, const char *const *names, size_t n, uint32_t action)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (seccomp_rule_add(ctx, action, nr, 0) != 0) {
			error("seccomp: cannot add a rule for %s", names[i]);
			return ERR_INTERNAL;
		}
	}
	return 0;
}

/* Pass fd (or, with fd < 0, only a byte saying "no sandbox") to the monitor. */
static int
send_fd(int sock, int fd)
{
	char byte = fd >= 0 ? 'S' : 'N';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) == 1 ? 0 : ERR_IO;
}

int
sandbox_enter(int mon_fd)
{
	scmp_filter_ctx ctx;
	int nfd, r = ERR_INTERNAL;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		error("no_new_privs: %s", strerror(errno));
		return ERR_INTERNAL;
	}
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return ERR_NOMEM;
	if (add_rules(ctx, refused_always, sizeof(refused_always) / sizeof(refused_always[0]), SCMP_ACT_ERRNO(EPERM)) !=
	            0 ||
	    add_rules(ctx, decided, sizeof(decided) / sizeof(decided[0]), SCMP_ACT_NOTIFY) != 0)
		goto out;
	if (seccomp_load(ctx) != 0) {
		error("seccomp: cannot load the filter (Linux 5.5 or later is needed; `sandbox = no` runs without)");
		goto out;
	}
	if ((nfd = seccomp_notify_fd(ctx)) < 0) {
		error("seccomp: no notification descriptor");
		goto out;
	}
	r = send_fd(mon_fd, nfd);
	close(nfd);
out:
	seccomp_release(ctx);
	return r;
}

int
sandbox_skip(int mon_fd)
{
	return send_fd(mon_fd, -1);
}

int
sandbox_receive_fd(int mon_fd, int timeout_ms)
{
	struct pollfd p = {.fd = mon_fd, .events = POLLIN};
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	int fd = -1;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	memset(&u, 0, sizeof(u));
	if (recvmsg(mon_fd, &m, MSG_CMSG_CLOEXEC) != 1 || byte != 'S')
		return -1;
	c = CMSG_FIRSTHDR(&m);
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

#ifdef GH_SANITIZER
/* Sanitizer builds only: the runtimes read /proc/self (maps, task) when
 * they report or check for leaks. The path is read from the child, which
 * could change it afterwards: acceptable for a test build, never built in
 * a release. */
static int
proc_path(pid_t pid, uint64_t addr)
{
	char buf[8] = {0};
	struct iovec local = {.iov_base = buf, .iov_len = 6},
	             remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = 6};

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == 6 && memcmp(buf, "/proc/", 6) == 0;
}
#endif

/* An fd-only stat: fstat() as glibc 2.36 makes it (newfstatat with
 * AT_EMPTY_PATH, or statx). Judged by the flags register alone: with a
 * path that is not empty the call reaches that path all the same, which
 * is why it is refused before authentication too (quietly: stdio may ask
 * about a stream). */
static int
fd_stat_form(const char *name, const uint64_t *a)
{
	if (strcmp(name, "newfstatat") == 0 || strcmp(name, "fstatat64") == 0)
		return (a[3] & AT_EMPTY_PATH) != 0;
	if (strcmp(name, "statx") == 0)
		return (a[2] & AT_EMPTY_PATH) != 0;
	return 0;
}

/* Before authentication: what may pass. Signals to the child itself
 * (abort() raises one), nothing else. The decision reads the syscall's
 * number and its register arguments, never the child's memory, so there
 * is nothing the child could change between the decision and the kernel's
 * use of the arguments (seccomp user notification's time-of-check
 * problem); process creation is refused, so no second thread exists to
 * try (sanitizer builds excepted, below).
 *
 * *quiet: the refusal is expected of an honest child (fd_stat_form) and is
 * not an alarm. */
static int
allowed_preauth(const struct seccomp_notif *req, pid_t child, int *quiet)
{
	char *name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
	uint64_t a[4] = {req->data.args[0], req->data.args[1], req->data.args[2], req->data.args[3]};
	int ok = 0;

	*quiet = 0;
	if (name == NULL)
		return 0;
	if (strcmp(name, "kill") == 0 || strcmp(name, "tgkill") == 0)
		ok = (pid_t)a[0] == child;
	else if (strcmp(name, "tkill") == 0)
		ok = (pid_t)a[0] == child || (pid_t)a[0] == (pid_t)req->pid;
	else
		*quiet = fd_stat_form(name, a);
#ifdef GH_SANITIZER
	/* LeakSanitizer stops the world from a task it clones with
	 * CLONE_UNTRACED (it is sharing the child's memory: the reads of
	 * /proc paths below are then racy, which a test build accepts). */
	if (strcmp(name, "clone") == 0)
		ok = (a[0] & CLONE_UNTRACED) != 0;
	else if (strcmp(name, "open") == 0 || strcmp(name, "stat") == 0 || strcmp(name, "lstat") == 0 ||
	         strcmp(name, "readlink") == 0 || strcmp(name, "access") == 0)
		ok = proc_path((pid_t)req->pid, a[0]);
	else if (strcmp(name, "openat") == 0 || strcmp(name, "newfstatat") == 0 || strcmp(name, "readlinkat") == 0 ||
	         strcmp(name, "statx") == 0 || strcmp(name, "faccessat") == 0)
		ok = ok || proc_path((pid_t)req->pid, a[1]);
#endif
	free(name);
	return ok;
}

int
sandbox_answer(int notify_fd, pid_t child, int authenticated, char *refused, size_t refusedlen)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	int r = -1, quiet = 0;

	refused[0] = '\0';
	if (seccomp_notify_alloc(&req, &resp) != 0)
		return -1;
	if (seccomp_notify_receive(notify_fd, req) != 0) {
		/* The child went away between the poll and the read (ENOENT),
		 * or the descriptor is dead: let the caller look. */
		r = errno == ENOENT || errno == EINTR ? 0 : -1;
		goto out;
	}
	resp->id = req->id;
	resp->val = 0;
	if (authenticated || allowed_preauth(req, child, &quiet)) {
		resp->error = 0;
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else {
		char *name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);

		resp->error = -EACCES;
		resp->flags = 0;
		if (quiet)
			verbose("sandbox: refused %s (an fd-only stat) before authentication",
			        name != NULL ? name : "?");
		else
			snprintf(refused, refusedlen, "%s", name != NULL ? name : "?");
		free(name);
	}
	/* ENOENT: the child was killed while we decided. */
	r = seccomp_notify_respond(notify_fd, resp) == 0 || errno == ENOENT ? 0 : -1;
out:
	seccomp_notify_free(req, resp);
	return r;
}

int
privsep_auth(int mon_fd, const struct auth_req *rq, struct auth_rep *rp)
{
	ssize_t n;

	if (send(mon_fd, rq, sizeof(*rq), MSG_NOSIGNAL) != (ssize_t)sizeof(*rq))
		return ERR_IO;
	do
		n = recv(mon_fd, rp, sizeof(*rp), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*rp))
		return ERR_IO;
	rp->instruction[sizeof(rp->instruction) - 1] = '\0';
	rp->prompt[0][sizeof(rp->prompt[0]) - 1] = '\0';
	rp->prompt[1][sizeof(rp->prompt[1]) - 1] = '\0';
	rp->name[sizeof(rp->name) - 1] = '\0';
	if (rp->nprompts < 0 || rp->nprompts > 2)
		return ERR_INVALID;
	return 0;
}

int
privsep_read_request(int mon_fd, struct auth_req *rq)
{
	ssize_t n;

	do
		n = recv(mon_fd, rq, sizeof(*rq), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n < 0)
		return errno == EAGAIN ? ERR_BUSY : ERR_IO;
	if (n != (ssize_t)sizeof(*rq) || auth_req_sanitize(rq) != 0)
		return ERR_INVALID;
	return 1;
}

int
privsep_send_reply(int mon_fd, const struct auth_rep *rp)
{
	return send(mon_fd, rp, sizeof(*rp), MSG_NOSIGNAL) == (ssize_t)sizeof(*rp) ? 0 : ERR_IO;
}
