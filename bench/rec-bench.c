/* Recorder benchmark (not part of the default build).
 *
 *   make MODE=release build/librecorder.a build/libcommon.a
 *   cc -O2 -I. -o build/rec-bench bench/rec-bench.c build/librecorder.a build/libcommon.a -lzstd -lcrypto
 *   build/rec-bench [DIR] [LEVEL]
 *
 * Measures, with the recorder API and synthetic but deterministic input:
 *  1. size of a moderate interactive hour (issue 5 target: <= 200 KB/hour),
 *  2. writer throughput and CPU for bulk transfers (text, random bytes and
 *     zeros), at the writer's own levels unless LEVEL is given,
 *  3. memory held per writer: while a frame is open and after it is released,
 *  4. reader: time to open a long recording and seek into it.
 * Figures depend on the machine; the sizes do not. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "recorder/rec-reader.h"
#include "recorder/recorder.h"

static uint32_t seed = 1;

static uint32_t
rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static double
wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static long
rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static const char *const words[] = {
        "root",       "admin",   "www-data", "nginx",   "systemd",
        "journal",    "etc",     "var",      "log",     "conf",
        "service",    "active",  "running",  "total",   "drwxr-xr-x",
        "-rw-r--r--", "Nov",     "21",       "06:12",   "config",
        "error",      "warning", "kernel",   "usr",     "lib",
        "bin",        "home",    "tmp",      "proc",    "cpu",
        "memory",     "disk",    "eth0",     "inet",    "127.0.0.1",
        "10.0.3.17",  "LISTEN",  "tcp",      "sshd",    "cron",
        "backup",     "status",  "loaded",   "enabled", "/etc/nginx/nginx.conf",
        "4096",       "1024",    "0",        "1",       "ok",
};
static const char *const commands[] = {
        "ls -la",          "cd /var/log",     "tail -n 50 syslog",        "systemctl status nginx",
        "df -h",           "free -m",         "ps aux | grep nginx",      "vi /etc/nginx/nginx.conf",
        "cat /etc/hosts",  "uptime",          "journalctl -u sshd -n 20", "ip addr",
        "sudo apt update", "grep -r error .", "top -b -n 1 | head -20",   "git status",
};

/* One line of plausible terminal output. */
static size_t
output_line(char *buf, size_t cap)
{
	size_t n = 0;
	int nw = 3 + (int)(rnd() % 9);

	for (int i = 0; i < nw && n + 40 < cap; i++) {
		const char *w = words[rnd() % (sizeof(words) / sizeof(words[0]))];
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " " : "", w);
		if (rnd() % 4 == 0)
			n += (size_t)snprintf(buf + n, cap - n, "%u", rnd() % 100000);
	}
	n += (size_t)snprintf(buf + n, cap - n, "\r\n");
	return n;
}

/* A moderate interactive hour: an operator types a command about every 9
 * seconds on average (~400 per hour, ~10,000 keystrokes), each key echoed,
 * each command answered by 0-60 lines of output (~700 KB in the hour), with
 * pauses; a prompt after each command; the caller's 1 Hz tick. */
/* Variants, to see where the bytes go: 1 = no per-second flush (never
 * ticks), 2 = one-hour frames. */
static int variant;
/* Output model: 0 = every output line drawn at random (a worst case: 2.3:1
 * at best for plain zstd), 1 = each command prints the same lines each time
 * it runs, one line in eight changed (closer to real administration). */
static int model;
/* The terminal bytes of the hour alone, to compare with plain zstd. */
static char *plain;
static size_t plain_len, plain_cap;

static void
plain_add(const void *p, size_t n)
{
	if (plain_len + n > plain_cap) {
		plain_cap = (plain_len + n) * 2;
		plain = realloc(plain, plain_cap);
		if (plain == NULL)
			abort();
	}
	memcpy(plain + plain_len, p, n);
	plain_len += n;
}

static int
interactive_hour(const char *path, int level, uint64_t *raw, uint64_t *file, uint64_t *frames_out)
{
	struct rec_writer *w = NULL;
	uint64_t t, end, next_tick, frames;
	char buf[8192], hex[65];
	int r;

	if ((r = rec_writer_open(path, "{\"user\":\"alice\",\"asset\":\"web01\",\"login\":\"root\"}", &w)) != 0)
		return r;
	rec_writer_set_level(w, level);
	if (variant == 2)
		rec_writer_set_limits(w, 64u << 20, 3700ull * 1000000);
	t = real_us() + 1000000;
	end = t + 3600ull * 1000000;
	next_tick = t;
	*raw = 0;
	rec_write_at(w, REC_CHANNEL_OPEN, 0, "{\"type\":\"shell\"}", 16, t);
	rec_write_at(w, REC_PTY, 0, "{\"term\":\"xterm-256color\",\"cols\":120,\"rows\":40}", 46, t);
	while (t < end) {
		size_t ci = rnd() % (sizeof(commands) / sizeof(commands[0]));
		const char *cmd = commands[ci];
		size_t cl = strlen(cmd), lines = model ? (ci * 37 + 5) % 61 : rnd() % 61, li = 0;
		const char *prompt = "root@web01:~# ";

		/* think, then type the command key by key, each echoed */
		t += 2000000 + rnd() % 8000000;
		for (size_t i = 0; i <= cl; i++) {
			char c = i < cl ? cmd[i] : '\r';
			t += 80000 + rnd() % 250000;
			while (next_tick <= t) {
				if (variant != 1)
					rec_tick_at(w, next_tick);
				next_tick += 1000000;
			}
			rec_write_at(w, REC_DATA_IN, 0, &c, 1, t);
			rec_write_at(w, REC_DATA_OUT, 0, i < cl ? &c : "\r\n", i < cl ? 1 : 2, t + 300);
			plain_add(i < cl ? &c : "\r\n", i < cl ? 1 : 2);
			*raw += 1 + (i < cl ? 1 : 2);
		}
		/* output arrives in a few chunks */
		while (lines > 0) {
			size_t n = 0, chunk = 1 + rnd() % 20;
			for (; chunk > 0 && lines > 0 && n < sizeof(buf) - 256; chunk--, lines--, li++) {
				uint32_t keep = seed;
				if (model == 1) {
					int vary = rnd() % 8 == 0;
					keep = seed;
					seed = (uint32_t)(ci * 1000 + li + 1) + (vary ? keep : 0);
				}
				n += output_line(buf + n, sizeof(buf) - n);
				if (model == 1)
					seed = keep;
			}
			t += 1000 + rnd() % 50000;
			rec_write_at(w, REC_DATA_OUT, 0, buf, n, t);
			plain_add(buf, n);
			*raw += n;
		}
		rec_write_at(w, REC_DATA_OUT, 0, prompt, strlen(prompt), t + 500);
		plain_add(prompt, strlen(prompt));
		*raw += strlen(prompt);
	}
	if ((r = rec_writer_close_at(w, "client closed", t + 1)) != 0) {
		rec_writer_free(w);
		return r;
	}
	rec_writer_chain(w, hex, &frames);
	*file = rec_writer_bytes(w);
	*frames_out = frames;
	rec_writer_free(w);
	return 0;
}

enum { BULK_TEXT, BULK_RANDOM, BULK_ZEROS };

/* Input is generated up front (8 MiB, more than the 1 MiB window, so zstd
 * cannot simply find the previous round) and only its recording is timed. */
static int
bulk(const char *path, int level, int kind, size_t total, double *mbps, double *cpu, uint64_t *file)
{
	struct rec_writer *w = NULL;
	const size_t pool = 8u << 20, chunk = 32768;
	char *buf = malloc(pool + 512);
	double c0, w0;
	int r = 0;

	if (buf == NULL)
		return -1;
	if (kind == BULK_ZEROS)
		memset(buf, 0, pool);
	for (size_t n = 0; kind != BULK_ZEROS && n < pool;) {
		if (kind == BULK_RANDOM) {
			static uint64_t x = 88172645463325252ull; /* xorshift64: all 64 bits random */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(buf + n, &x, 8);
			n += 8;
		} else {
			n += output_line(buf + n, 512);
		}
	}
	if ((r = rec_writer_open(path, "{}", &w)) != 0) {
		free(buf);
		return r;
	}
	if (level != 0) /* else the writer's own levels, as in production */
		rec_writer_set_level(w, level);
	c0 = cpu_seconds();
	w0 = wall_seconds();
	for (size_t done = 0; done < total; done += chunk) {
		if ((r = rec_write(w, REC_DATA_OUT, 0, buf + done % pool, chunk)) != 0)
			break;
		rec_tick(w);
	}
	if (r == 0)
		r = rec_writer_close(w, "done");
	*cpu = cpu_seconds() - c0;
	*mbps = total / 1048576.0 / (wall_seconds() - w0);
	*file = rec_writer_bytes(w);
	rec_writer_free(w);
	free(buf);
	return r;
}

static void
memory(const char *dir, int n)
{
	struct rec_writer **ws = calloc((size_t)n, sizeof(*ws));
	char path[512];
	long before, open_frame, released;
	uint64_t t = real_us() + 1000000;

	if (ws == NULL)
		return;
	before = rss_kib();
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/mem-%d.rec", dir, i);
		unlink(path);
		if (rec_writer_open(path, "{\"user\":\"alice\"}", &ws[i]) != 0) {
			fprintf(stderr, "open %s failed\n", path);
			n = i;
			break;
		}
		/* a login banner and a prompt */
		rec_write_at(ws[i], REC_DATA_OUT, 0, "Welcome to web01\r\nroot@web01:~# ", 32, t);
		rec_tick_at(ws[i], t + 1000000);
	}
	open_frame = rss_kib();
	for (int i = 0; i < n; i++)
		rec_tick_at(ws[i], t + 601000000); /* a small frame ends at ten minutes: compressor released */
	released = rss_kib();
	printf("memory: %d writers: %.1f KiB each with a frame open, %.1f KiB each once the frame ended (RSS)\n", n,
	       (double)(open_frame - before) / n, (double)(released - before) / n);
	for (int i = 0; i < n; i++) {
		rec_writer_free(ws[i]);
		snprintf(path, sizeof(path), "%s/mem-%d.rec", dir, i);
		unlink(path);
	}
	free(ws);
}

static void
reader(const char *path)
{
	struct rec_reader *r = NULL;
	struct rec_record rec;
	const struct rec_frame_info *idx;
	size_t n;
	double w0 = wall_seconds(), t_open, t_seek = 0, t_full;
	uint64_t count = 0;

	if (rec_reader_open(path, &r) != 0)
		return;
	idx = rec_reader_index(r, &n);
	rec_reader_next(r, &rec);
	t_open = wall_seconds() - w0;
	for (int i = 0; i < 20 && n > 0; i++) {
		double s0 = wall_seconds();
		rec_reader_seek_time(r,
		                     idx[0].first_time_us + (idx[n - 1].first_time_us - idx[0].first_time_us) / 20 * i);
		rec_reader_next(r, &rec);
		double s = wall_seconds() - s0;
		if (s > t_seek)
			t_seek = s;
	}
	rec_reader_rewind(r);
	w0 = wall_seconds();
	while (rec_reader_next(r, &rec) == 1)
		count++;
	t_full = wall_seconds() - w0;
	printf("reader: open+first record %.2f ms, worst seek to a frame %.2f ms, full read %.1f ms (%llu records, "
	       "%zu frames)\n",
	       t_open * 1e3, t_seek * 1e3, t_full * 1e3, (unsigned long long)count, n);
	rec_reader_free(r);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	int level = argc > 2 ? atoi(argv[2]) : 3;
	char path[512];
	uint64_t raw, file, frames;
	double mbps, cpu;

	snprintf(path, sizeof(path), "%s/bench-hour.rec", dir);
	model = 1;
	unlink(path);
	if (interactive_hour(path, level, &raw, &file, &frames) == 0)
		printf("interactive hour, repeated output (level %d): %llu bytes of terminal data, recording %llu "
		       "bytes "
		       "(%.1f KB), %llu frames\n",
		       level, (unsigned long long)raw, (unsigned long long)file, file / 1000.0,
		       (unsigned long long)frames);
	unlink(path);
	model = 0;
	seed = 1;
	plain_len = 0;
	if (interactive_hour(path, level, &raw, &file, &frames) == 0)
		printf("interactive hour, random output (level %d): %llu bytes of terminal data, recording %llu bytes "
		       "(%.1f KB), %llu frames\n",
		       level, (unsigned long long)raw, (unsigned long long)file, file / 1000.0,
		       (unsigned long long)frames);
	{
		size_t cap = ZSTD_compressBound(plain_len);
		char *z = malloc(cap);
		if (z != NULL) {
			printf("  the output bytes alone as one zstd stream: %.1f KB at level 3, %.1f KB at level 19\n",
			       ZSTD_compress(z, cap, plain, plain_len, 3) / 1000.0,
			       ZSTD_compress(z, cap, plain, plain_len, 19) / 1000.0);
			free(z);
		}
	}
	reader(path);
	unlink(path);
	for (variant = 1; variant <= 2; variant++) {
		seed = 1;
		plain_len = 0;
		if (interactive_hour(path, level, &raw, &file, &frames) == 0)
			printf("  variant %s: recording %.1f KB, %llu frames\n",
			       variant == 1 ? "without the 1 s flush" : "with one-hour frames", file / 1000.0,
			       (unsigned long long)frames);
		unlink(path);
	}
	variant = 0;

	snprintf(path, sizeof(path), "%s/bench-bulk.rec", dir);
	/* Bulk at the writer's own levels (level 1 after the first frame)
	 * unless a level was named on the command line. */
	for (int kind = BULK_TEXT; kind <= BULK_ZEROS; kind++) {
		static const char *const name[] = {"text", "random", "zeros"};
		unlink(path);
		if (bulk(path, argc > 2 ? level : 0, kind, 256u << 20, &mbps, &cpu, &file) == 0)
			printf("bulk %s 256 MiB: %.0f MB/s, %.2f s CPU (%.2f s/GiB), recording %.1f MiB\n", name[kind],
			       mbps, cpu, cpu * 4, file / 1048576.0);
		if (kind == BULK_TEXT)
			reader(path);
		unlink(path);
	}
	memory(dir, argc > 3 ? atoi(argv[3]) : 200);
	return 0;
}
