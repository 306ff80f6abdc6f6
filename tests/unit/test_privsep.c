/* The network child's sandbox (proxy/privsep.c), with the policy the
 * daemon uses: a child enters it exactly as conn_serve does, then tries
 * what an attacker who took it over before authentication would try. The
 * parent plays the monitor. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy/privsep.h"

static void *
thread_main(void *arg)
{
	return arg;
}

/* Process creation: a child that exits at once, and a thread. */
static int
can_fork(void)
{
	int st = 0;
	pid_t p = fork();

	if (p == 0)
		_exit(7);
	return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7;
}

static int
can_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, thread_main, NULL) != 0)
		return 0;
	return pthread_join(t, NULL) == 0;
}

/* Child results, one byte each: 'y' when the attempt was refused as
 * expected before authentication, then 'Y' when it worked after. */
static int
child_probe(int mon, const char *secret, const char *link)
{
	char go, buf[256];
	struct stat sb;
	int fd, ok = 1;

	if (sandbox_enter(mon) != 0)
		return 10;
	/* Before authentication. */
	fd = open(secret, O_RDONLY);
	ok &= fd < 0 && errno == EACCES;
	ok &= open("/etc/hostname", O_RDONLY) < 0;                    /* any file */
	ok &= socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EACCES; /* no new connections */
	ok &= unlink(secret) != 0 && errno == EACCES;                 /* no deleting by name */
	ok &= kill(getppid(), 0) != 0 && errno == EACCES;             /* no signals to others */
	ok &= kill(getpid(), 0) == 0;                                 /* but to itself */
	ok &= prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	/* Nothing that tells whether a path exists or where a link points. */
	ok &= stat("/etc/shadow", &sb) != 0 && errno == EACCES;
	ok &= readlink(link, buf, sizeof(buf)) < 0 && errno == EACCES;
	ok &= access("/etc/passwd", F_OK) != 0 && errno == EACCES;
	/* fstat as glibc 2.36 makes it (newfstatat with AT_EMPTY_PATH):
	 * refused too, without an alarm */
	ok &= fstat(mon, &sb) != 0 && errno == EACCES;
	/* No second process or thread. */
	ok &= !can_fork();
	ok &= !can_thread();
	if (write(mon, ok ? "y" : "n", 1) != 1 || read(mon, &go, 1) != 1)
		return 11;
	/* After the monitor saw authentication succeed. */
	fd = open(secret, O_RDONLY);
	ok = fd >= 0;
	if (fd >= 0)
		close(fd);
	ok &= stat("/etc/shadow", &sb) == 0;
	ok &= readlink(link, buf, sizeof(buf)) > 0;
	ok &= access("/etc/passwd", F_OK) == 0;
	ok &= fstat(mon, &sb) == 0 && S_ISSOCK(sb.st_mode);
	ok &= can_fork();
	ok &= can_thread();
	if (write(mon, ok ? "Y" : "N", 1) != 1)
		return 12;
	return 0;
}

static void
test_sandbox_refuses_until_authenticated(void **state)
{
	char path[] = "/tmp/gh-privsep.XXXXXX", link[sizeof(path) + 5], got, refused[64];
	int sp[2], nfd, authenticated = 0, st, nrefused = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(close(mkstemp(path)), 0);
	snprintf(link, sizeof(link), "%s.link", path);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sp[0]);
		_exit(child_probe(sp[1], path, link));
	}
	close(sp[1]);
	nfd = sandbox_receive_fd(sp[0], 10000);
	assert_true(nfd >= 0);
	for (int phase = 0; phase < 2;) {
		struct pollfd p[2] = {{.fd = sp[0], .events = POLLIN}, {.fd = nfd, .events = POLLIN}};

		assert_true(poll(p, 2, 10000) > 0);
		if (p[1].revents & POLLIN) {
			assert_int_equal(sandbox_answer(nfd, pid, authenticated, refused, sizeof(refused)), 0);
			if (refused[0] != '\0')
				nrefused++;
		}
		if (p[0].revents & POLLIN) {
			assert_int_equal(read(sp[0], &got, 1), 1);
			if (phase == 0) {
				assert_int_equal(got, 'y');
				authenticated = 1;
				assert_int_equal(write(sp[0], "g", 1), 1);
			} else {
				assert_int_equal(got, 'Y');
			}
			phase++;
		}
	}
	/* answer what the child does on its way out (sanitizer reports) */
	while (waitpid(pid, &st, WNOHANG) == 0) {
		struct pollfd p = {.fd = nfd, .events = POLLIN};

		if (poll(&p, 1, 100) > 0 && (p.revents & POLLIN))
			sandbox_answer(nfd, pid, authenticated, refused, sizeof(refused));
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* open x2, socket, unlink, kill of the parent, stat, readlink,
	 * access, fork (clone), the thread (clone3): each one named; the
	 * fstat is refused quietly */
	assert_int_equal(nrefused, 10);
	close(nfd);
	close(sp[0]);
	unlink(link);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sandbox_refuses_until_authenticated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
