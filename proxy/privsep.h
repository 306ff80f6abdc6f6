/* Privilege separation of a connection (docs/security.md, "Processes").
 *
 * The connection process forks before it opens anything: the child (the
 * "network child") speaks SSH with the operator; the parent (the
 * "monitor") holds the database, the master key and PAM, and makes every
 * authentication decision (srv_auth_step) for the child over a socketpair.
 *
 * Before reading a byte from the network the child sets no_new_privs and
 * installs a seccomp filter: a few syscalls are refused outright (ptrace,
 * process_vm_*, pidfd_getfd, io_uring, bpf, mount, module loading ...),
 * and every syscall that reaches a file or the network by name (open,
 * socket, connect, unlink, rename, chmod, execve, kill ...), that tells
 * whether a path exists or where a link points (stat, statx, access,
 * readlink ...) or that creates a process or thread (fork, vfork, clone,
 * clone3) is sent to the monitor through a seccomp user-notification
 * descriptor. Until the monitor itself has seen every factor pass, it
 * refuses them all (EACCES), judging by the syscall number and register
 * arguments only, never the child's memory (nothing to race): an attacker
 * who takes over the child before authentication holds only the
 * operator's socket, and cannot open the database, the master key or a
 * recording, map the file system, start a second thread or process, reach
 * another host, or signal another process. After
 * authentication the monitor lets them through: the child then runs the
 * session as the `gatehouse` user, as before.
 *
 * libssh has no way to move a server session to another process (OpenSSH
 * serialises its own state for that), so the child that did the key
 * exchange keeps the connection; the filter cannot be lifted, which is why
 * it decides through the monitor rather than by itself. */
#ifndef GH_PROXY_PRIVSEP_H
#define GH_PROXY_PRIVSEP_H

#include <sys/types.h>

struct auth_req;
struct auth_rep;

/* Network child: set no_new_privs, install the filter and pass its
 * notification descriptor to the monitor over mon_fd. 0 or a gh_err. */
int sandbox_enter(int mon_fd);
/* The same without a sandbox (`sandbox = no`). */
int sandbox_skip(int mon_fd);

/* Monitor: receive the child's notification descriptor (waits up to
 * timeout_ms). The descriptor, or -1. */
int sandbox_receive_fd(int mon_fd, int timeout_ms);

/* Monitor: answer one pending notification of child. Before
 * authentication only signals to the child itself pass; after it,
 * everything. A refused syscall's name goes to refused ("" when none was
 * refused, or when the refusal is no alarm: an fd-only stat, which stdio
 * may do). 0, or -1 when the descriptor is unusable. */
int sandbox_answer(int notify_fd, pid_t child, int authenticated, char *refused, size_t refusedlen);

/* Network child: one authentication step decided by the monitor. 0 or a
 * gh_err (the monitor is gone: end the connection). */
int privsep_auth(int mon_fd, const struct auth_req *rq, struct auth_rep *rp);

/* Monitor: read one request from the child. 1 = a request in *rq,
 * 0 = the child closed its end, a gh_err on a malformed message. */
int privsep_read_request(int mon_fd, struct auth_req *rq);
int privsep_send_reply(int mon_fd, const struct auth_rep *rp);

#endif
