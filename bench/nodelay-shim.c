/* nodelay-shim: an LD_PRELOAD experiment for docs/performance.md, not part of
 * any build. It sets TCP_NODELAY on every TCP socket gatehoused accepts or
 * connects, which is what OpenSSH does for interactive sessions and what the
 * proxy does not do (yet), to measure what Nagle's algorithm costs the echo
 * round trip without touching proxy/:
 *
 *   cc -O2 -shared -fPIC -o build/nodelay-shim.so bench/nodelay-shim.c -ldl
 *   BENCH_PRELOAD=$PWD/build/nodelay-shim.so BENCH_ONLY="echo" bench/run.sh
 */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

static void
nodelay(int fd)
{
	int one = 1;

	/* Fails harmlessly (ENOPROTOOPT) on sockets that are not TCP. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int accept(int fd, struct sockaddr *addr, socklen_t *len);
int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int connect(int fd, const struct sockaddr *addr, socklen_t len);

int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int (*real)(int, struct sockaddr *, socklen_t *) =
	        (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
	int r = real(fd, addr, len);

	if (r >= 0)
		nodelay(r);
	return r;
}

int
accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int (*real)(int, struct sockaddr *, socklen_t *, int) =
	        (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
	int r = real(fd, addr, len, flags);

	if (r >= 0)
		nodelay(r);
	return r;
}

int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) =
	        (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");

	if (addr != NULL && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6))
		nodelay(fd); /* before the handshake: applies to the whole connection */
	return real(fd, addr, len);
}
