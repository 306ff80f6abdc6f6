/* echo-lat: keystroke echo round trip through a pty, for bench/run.sh.
 *
 *   echo-lat [-n SESSIONS] [-p PARALLEL] [-r READY] [-c COUNT] [-i INTERVAL_MS]
 *            [-d SECONDS] [-H SECONDS] [-o SAMPLES] -- COMMAND ARGS...
 *
 * Starts SESSIONS copies of COMMAND (an `ssh -tt ... 'stty raw -echo; echo
 * READY; exec cat'`) each on its own pty, PARALLEL at a time, and waits until
 * each has printed READY. Then either
 *   -H SECONDS  holds them open (idle) and exits when the time is up or on
 *               SIGTERM/SIGINT (memory and concurrency figures), or
 *   measures    sends one byte at a time and times until the same byte comes
 *               back: back to back (-i 0, COUNT samples) or one key every
 *               INTERVAL_MS per session for SECONDS (the typing figure).
 * Samples (microseconds, one a line) go to -o; a summary line to stdout:
 *   sessions=N failed=F samples=S p50_us= p90_us= p99_us= max_us= lost=L
 * The local pty is put in raw mode before COMMAND runs so that only the
 * remote end can echo. Only processes started here are signalled.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define RING 256

struct sess {
	pid_t pid;
	int fd;
	int ready;     /* READY seen */
	int dead;      /* EOF or error */
	char buf[256]; /* output before READY */
	size_t blen;
	double t_start; /* spawn time */
	double next;    /* next send time (interval mode) */
	double sent[RING];
	unsigned char sent_b[RING];
	unsigned head, tail; /* outstanding bytes */
	unsigned char key;
};

static volatile sig_atomic_t stop_flag;

static void
on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: echo-lat [-n N] [-p P] [-r READY] [-c COUNT] [-i MS] [-d S] [-H S] [-o FILE] -- CMD...\n");
	exit(2);
}

static int
spawn(struct sess *s, char **argv)
{
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	struct termios tio;
	pid_t pid;
	int fd = -1;

	pid = forkpty(&fd, NULL, NULL, &ws);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (tcgetattr(0, &tio) == 0) {
			cfmakeraw(&tio);
			tcsetattr(0, TCSANOW, &tio);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	s->pid = pid;
	s->fd = fd;
	s->t_start = now_s();
	s->key = 'a';
	return 0;
}

static void
end_all(struct sess *ss, int n)
{
	int i, k, left;

	for (i = 0; i < n; i++) {
		if (ss[i].fd >= 0)
			close(ss[i].fd); /* ssh sees the tty hang up and exits */
		ss[i].fd = -1;
	}
	for (k = 0; k < 100; k++) {
		left = 0;
		for (i = 0; i < n; i++) {
			if (ss[i].pid > 0) {
				if (waitpid(ss[i].pid, NULL, WNOHANG) == ss[i].pid)
					ss[i].pid = 0;
				else
					left++;
			}
		}
		if (left == 0)
			return;
		usleep(50000);
	}
	for (i = 0; i < n; i++)
		if (ss[i].pid > 0)
			kill(ss[i].pid, SIGTERM);
	for (i = 0; i < n; i++)
		if (ss[i].pid > 0)
			waitpid(ss[i].pid, NULL, 0);
}

int
main(int argc, char **argv)
{
	int n = 1, par = 8, opt, i, failed = 0, nready = 0, started = 0;
	long count = 2000, lost = 0;
	double interval = 0, duration = 10, hold = -1, t0;
	const char *ready = "READY", *out = NULL;
	struct sess *ss;
	struct pollfd *pfd;
	double *samples;
	size_t ns = 0, cap;
	struct rlimit rl;

	while ((opt = getopt(argc, argv, "n:p:r:c:i:d:H:o:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'p': par = atoi(optarg); break;
		case 'r': ready = optarg; break;
		case 'c': count = atol(optarg); break;
		case 'i': interval = atof(optarg) / 1000.0; break;
		case 'd': duration = atof(optarg); break;
		case 'H': hold = atof(optarg); break;
		case 'o': out = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc || n < 1 || par < 1)
		usage();
	argv += optind;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGPIPE, SIG_IGN);
	ss = calloc((size_t)n, sizeof(*ss));
	pfd = calloc((size_t)n, sizeof(*pfd));
	cap = interval > 0 ? (size_t)(n * (duration / interval + 2)) : (size_t)count + 16;
	samples = calloc(cap, sizeof(*samples));
	if (ss == NULL || pfd == NULL || samples == NULL)
		return 1;
	for (i = 0; i < n; i++)
		ss[i].fd = -1;

	/* Phase 1: start them, at most `par` not yet ready. */
	while (nready + failed < n && !stop_flag) {
		int pending = started - nready - failed;

		while (started < n && pending < par) {
			if (spawn(&ss[started], argv) != 0) {
				ss[started].dead = 1;
				failed++;
			}
			started++;
			pending++;
		}
		for (i = 0; i < started; i++) {
			pfd[i].fd = (!ss[i].ready && !ss[i].dead) ? ss[i].fd : -1;
			pfd[i].events = POLLIN;
		}
		poll(pfd, (nfds_t)started, 200);
		for (i = 0; i < started; i++) {
			struct sess *s = &ss[i];
			ssize_t r;

			if (s->ready || s->dead)
				continue;
			if (pfd[i].revents) {
				r = read(s->fd, s->buf + s->blen, sizeof(s->buf) - 1 - s->blen);
				if (r > 0) {
					s->blen += (size_t)r;
					s->buf[s->blen] = '\0';
					if (strstr(s->buf, ready) != NULL) {
						s->ready = 1;
						nready++;
						continue;
					}
					if (s->blen > sizeof(s->buf) / 2) { /* keep the tail */
						memmove(s->buf, s->buf + s->blen - 16, 16);
						s->blen = 16;
					}
				} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					s->dead = 1;
					failed++;
					fprintf(stderr, "echo-lat: session %d ended before READY: %.200s\n", i, s->buf);
					continue;
				}
			}
			if (now_s() - s->t_start > 60) {
				s->dead = 1;
				failed++;
				fprintf(stderr, "echo-lat: session %d not ready after 60 s\n", i);
			}
		}
	}
	fprintf(stderr, "echo-lat: %d sessions ready, %d failed\n", nready, failed);

	if (hold >= 0) {
		printf("held=%d failed=%d\n", nready, failed);
		fflush(stdout);
		t0 = now_s();
		while (!stop_flag && now_s() - t0 < hold) {
			/* drain whatever arrives so no ssh blocks on a full pty */
			for (i = 0; i < n; i++) {
				pfd[i].fd = ss[i].dead ? -1 : ss[i].fd;
				pfd[i].events = POLLIN;
			}
			if (poll(pfd, (nfds_t)n, 500) > 0) {
				char junk[512];

				for (i = 0; i < n; i++)
					if (pfd[i].revents && read(ss[i].fd, junk, sizeof(junk)) <= 0 &&
					    errno != EAGAIN)
						ss[i].dead = 1;
			}
		}
		end_all(ss, n);
		return 0;
	}

	/* Phase 2: measure. */
	t0 = now_s();
	for (i = 0; i < n; i++)
		ss[i].next = t0 + (interval > 0 ? interval * i / n : 0);
	for (;;) {
		double t = now_s(), wait_s = 1.0;
		int timeout_ms;

		if (stop_flag)
			break;
		if (interval > 0 ? t - t0 >= duration : (long)ns >= count)
			break;
		for (i = 0; i < n; i++) {
			struct sess *s = &ss[i];
			int can = interval > 0 ? t >= s->next : s->head == s->tail;

			if (!s->ready || s->dead || !can || s->tail - s->head >= RING)
				continue;
			if (write(s->fd, &s->key, 1) == 1) {
				s->sent[s->tail % RING] = now_s();
				s->sent_b[s->tail % RING] = s->key;
				s->tail++;
				s->key = s->key == 'z' ? 'a' : s->key + 1;
			}
			if (interval > 0)
				s->next += interval;
		}
		for (i = 0; i < n; i++) {
			pfd[i].fd = (ss[i].ready && !ss[i].dead) ? ss[i].fd : -1;
			pfd[i].events = POLLIN;
			if (interval > 0 && ss[i].next - t < wait_s)
				wait_s = ss[i].next - t;
		}
		timeout_ms = interval > 0 ? (wait_s > 0 ? (int)(wait_s * 1000) : 0) : 1000;
		if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
			continue;
		t = now_s();
		for (i = 0; i < n; i++) {
			struct sess *s = &ss[i];
			unsigned char b[512];
			ssize_t r, k;

			if (!pfd[i].revents || pfd[i].fd < 0)
				continue;
			r = read(s->fd, b, sizeof(b));
			if (r <= 0) {
				if (r == 0 || (errno != EAGAIN && errno != EINTR))
					s->dead = 1;
				continue;
			}
			for (k = 0; k < r; k++) {
				/* Echoes come back in order; anything else is noise. */
				while (s->head != s->tail && s->sent_b[s->head % RING] != b[k]) {
					s->head++;
					lost++;
				}
				if (s->head == s->tail)
					continue;
				if (ns < cap)
					samples[ns++] = (t - s->sent[s->head % RING]) * 1e6;
				s->head++;
			}
		}
	}
	end_all(ss, n);

	if (out != NULL) {
		FILE *f = fopen(out, "w");

		if (f != NULL) {
			for (size_t j = 0; j < ns; j++)
				fprintf(f, "%.1f\n", samples[j]);
			fclose(f);
		}
	}
	qsort(samples, ns, sizeof(*samples), cmp_d);
#define PCT(p) (ns ? samples[(size_t)((ns - 1) * (p))] : 0.0)
	printf("sessions=%d failed=%d samples=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f lost=%ld\n", nready,
	       failed, ns, PCT(0.50), PCT(0.90), PCT(0.99), ns ? samples[ns - 1] : 0.0, lost);
	return nready > 0 && ns > 0 ? 0 : 1;
}
