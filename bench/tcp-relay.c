/* tcp-relay: the cheapest possible proxy, for bench/run.sh's echo floor.
 *
 *   tcp-relay LISTEN_PORT TARGET_PORT
 *
 * Listens on 127.0.0.1:LISTEN_PORT; each connection is relayed byte for
 * byte to 127.0.0.1:TARGET_PORT by a child process (poll, read, write,
 * TCP_NODELAY on both sockets, no crypto, no parsing). An ssh through it
 * pays exactly one more process on the path, which is the floor for the
 * latency any proxy adds, Gatehouse included. Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int
loopback(int port, struct sockaddr_in *sa)
{
	if (port <= 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return 0;
}

static void
nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Writes all of buf; 0 or -1. */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
relay(int a, int b)
{
	static char buf[65536];
	struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0 || write_all(p[1 - i].fd, buf, (size_t)n) != 0)
				return;
		}
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in la, ta;
	int one = 1, l;

	if (argc != 3 || loopback(atoi(argv[1]), &la) != 0 || loopback(atoi(argv[2]), &ta) != 0) {
		fprintf(stderr, "usage: tcp-relay LISTEN_PORT TARGET_PORT\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(l, (struct sockaddr *)&la, sizeof(la)) != 0 || listen(l, 64) != 0) {
		perror("tcp-relay: listen");
		return 1;
	}
	for (;;) {
		int c = accept(l, NULL, NULL), t;
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("tcp-relay: accept");
			return 1;
		}
		if (fork() == 0) {
			close(l);
			if ((t = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
			    connect(t, (struct sockaddr *)&ta, sizeof(ta)) != 0)
				_exit(1);
			nodelay(c);
			nodelay(t);
			relay(c, t);
			_exit(0);
		}
		close(c);
	}
}
