/* Replay benchmark (not part of the default build).
 *
 *   make build/libplayer.a build/librecorder.a build/libcommon.a
 *   cc -O2 -I. -o build/play-bench bench/play-bench.c build/librecorder.a build/libcommon.a \
 *      $(pkg-config --libs libzstd libcrypto vterm jansson)
 *   build/play-bench [DIR] [MIB]
 *
 * Writes a synthetic 4-hour recording with heavy output (default 40 MiB of
 * terminal output: shell listings, a full-screen editor redrawing, colour
 * and wide characters, resizes) through the recorder's *_at test hooks,
 * then measures what an auditor waits for:
 *  1. building the keyframe cache on first open (and its size),
 *  2. open-to-first-frame with the cache: open, load the cache, emulate
 *     up to the first output, as gatehouse-play does,
 *  3. seeks to 200 points spread over the 4 hours (restore the keyframe
 *     before the point, replay the rest): median, 99th percentile, max.
 * Each seek is the player's own sequence (player/tty.c seek_to). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "recorder/keyframe.h"
#include "recorder/rec-reader.h"
#include "recorder/recorder.h"

static uint32_t seed = 7;

static uint32_t
rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t
gen(char *buf, size_t cap, int *alt)
{
	size_t n = 0;
	unsigned k = rnd() % 10;

	if (k < 6) {
		/* a listing */
		for (int i = 0; i < 20 && n + 200 < cap; i++)
			n += (size_t)snprintf(
			        buf + n, cap - n,
			        "-rw-r--r-- 1 root root %6u Nov 21 07:%02u \033[1;34mfile-%05u.log\033[0m "
			        "\xe6\x97\xa5\xe5\xbf\x97\r\n",
			        rnd() % 999999, rnd() % 60, rnd() % 99999);
	} else if (k < 9) {
		/* an editor redrawing its screen */
		if (!*alt) {
			n += (size_t)snprintf(buf + n, cap - n, "\033[?1049h\033[1;23r\033[H\033[2J");
			*alt = 1;
		}
		for (int i = 0; i < 23 && n + 200 < cap; i++)
			n += (size_t)snprintf(buf + n, cap - n, "\033[%d;1H\033[38;5;%um%-70.70s\033[0m\033[K", i + 1,
			                      rnd() % 256,
			                      "static int main(int argc, char **argv) { return argc > 1; }");
		n += (size_t)snprintf(buf + n, cap - n, "\033[24;1H\033[7m-- INSERT --\033[0m\033[%u;%uH",
		                      1 + rnd() % 23, 1 + rnd() % 70);
	} else if (*alt) {
		n += (size_t)snprintf(buf + n, cap - n, "\033[r\033[?1049l\r$ ");
		*alt = 0;
	}
	return n;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 40;
	uint64_t t0 = ((uint64_t)time(NULL) + 10) * 1000000u, span = 4ull * 3600 * 1000000u, t = t0;
	char path[512], kpath[512], *buf = malloc(1 << 20);
	struct rec_writer *w = NULL;
	struct rec_reader *r = NULL;
	struct kf_cache *c = NULL;
	struct rec_record rec;
	size_t total = 0, target = mib << 20, nseek = 200;
	double *lat = calloc(nseek, sizeof(double)), t1, t2;
	int alt = 0, loaded = 0;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/play-bench.ghrec", dir);
	snprintf(kpath, sizeof(kpath), "%s/play-bench.ghkf", dir);
	unlink(path);
	unlink(kpath);
	if (buf == NULL || lat == NULL || rec_writer_open(path, "{\"version\":1}", &w) != 0) {
		fprintf(stderr, "cannot create %s\n", path);
		return 1;
	}
	rec_write_at(w, REC_CHANNEL_OPEN, 1, "{\"type\":\"shell\"}", 16, t0);
	rec_write_at(w, REC_PTY, 1, "{\"term\":\"xterm\",\"cols\":120,\"rows\":40}", 37, t0);
	while (total < target) {
		size_t n = gen(buf, 1 << 20, &alt);

		t = t0 + (uint64_t)((double)span * (double)total / (double)target); /* spread over 4 hours */
		if (n > 0 && rec_write_at(w, REC_DATA_OUT, 1, buf, n, t) != 0)
			return 1;
		total += n;
		if (rnd() % 500 == 0) {
			uint8_t sz[4] = {0, (uint8_t)(80 + rnd() % 80), 0, (uint8_t)(24 + rnd() % 30)};

			rec_write_at(w, REC_RESIZE, 1, sz, 4, t);
		}
		rec_tick_at(w, t);
	}
	if (rec_writer_close_at(w, "bench", t + 1) != 0)
		return 1;
	rec_writer_free(w);
	stat(path, &sb);
	printf("recording: %.1f MiB of output over %.1f h, file %.1f MiB\n", total / 1048576.0, (t - t0) / 3.6e9,
	       sb.st_size / 1048576.0);

	/* 0. first open, before any cache: the first frame at once */
	t1 = now_ms();
	{
		struct kf_term *term = NULL;

		if (rec_reader_open(path, &r) != 0 || kf_cache_load(r, path, &c) != ERR_NOTFOUND)
			return 1;
		while (rec_reader_next(r, &rec) == 1) {
			kf_apply_record(&term, 1, &rec);
			if (rec.type == REC_DATA_OUT)
				break;
		}
		kf_term_free(term);
		rec_reader_free(r);
	}
	printf("open to first frame (no cache yet): %.1f ms\n", now_ms() - t1);

	/* 1. the first seek: the cache is built and saved */
	t1 = now_ms();
	if (rec_reader_open(path, &r) != 0 || kf_cache_open(r, path, &c, &loaded) != 0)
		return 1;
	t2 = now_ms();
	stat(kpath, &sb);
	printf("first seek (cache built): %.0f ms, %zu keyframes, cache %.1f MiB\n", t2 - t1, kf_cache_count(c),
	       sb.st_size / 1048576.0);
	kf_cache_free(c);
	rec_reader_free(r);

	/* 2. open to first frame, cache on disk */
	t1 = now_ms();
	{
		struct kf_term *term = NULL;

		if (rec_reader_open(path, &r) != 0 || kf_cache_open(r, path, &c, &loaded) != 0 || !loaded)
			return 1;
		while (rec_reader_next(r, &rec) == 1) {
			kf_apply_record(&term, 1, &rec);
			if (rec.type == REC_DATA_OUT)
				break;
		}
		kf_term_free(term);
	}
	t2 = now_ms();
	printf("open to first frame (cache loaded): %.1f ms\n", t2 - t1);

	/* 3. seeks */
	for (size_t i = 0; i < nseek; i++) {
		uint64_t at = t0 + (uint64_t)((double)(t - t0) * (double)rnd() / (double)(1u << 24));
		const struct kf_entry *e;
		struct kf_term *term = NULL;

		t1 = now_ms();
		e = kf_cache_find(c, 1, at);
		if (e != NULL) {
			kf_term_restore(e->blob, e->len, &term);
			rec_reader_seek_frame(r, (size_t)e->frame);
		} else {
			rec_reader_rewind(r);
		}
		while (rec_reader_next(r, &rec) == 1) {
			if (e != NULL && rec.ordinal <= e->ordinal)
				continue;
			if (rec.time_us > at)
				break;
			kf_apply_record(&term, 1, &rec);
		}
		lat[i] = now_ms() - t1;
		kf_term_free(term);
	}
	for (size_t i = 1; i < nseek; i++)
		for (size_t j = i; j > 0 && lat[j - 1] > lat[j]; j--) {
			double x = lat[j];

			lat[j] = lat[j - 1];
			lat[j - 1] = x;
		}
	printf("seek (%zu points): median %.1f ms, p99 %.1f ms, max %.1f ms\n", nseek, lat[nseek / 2],
	       lat[nseek * 99 / 100], lat[nseek - 1]);
	kf_cache_free(c);
	rec_reader_free(r);
	unlink(path);
	unlink(kpath);
	free(buf);
	free(lat);
	return 0;
}
