/* Keyframes: the screen after seeking (restore the nearest keyframe, replay
 * the rest) equals the screen after a full replay, cell by cell, at many
 * points of synthetic recordings with colours, wide and combining
 * characters, scroll regions, insert mode, saved cursors, resizes and
 * alternate-screen (vim-like) programs, with escape sequences split across
 * records. Snapshots and caches are untrusted: damaged ones are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "common/err.h"
#include "recorder/keyframe.h"
#include "recorder/rec-reader.h"
#include "recorder/recorder.h"

static uint32_t seed;
/* Compare the complete state (hidden screen, modes, saved cursor), not
 * only the visible screen. */
static const int FULL = 1;

static uint32_t
rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

struct gen {
	char *buf;
	size_t len, cap;
	int cols, rows;
	int alt;
};

static void
add(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	char tmp[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(tmp));
	if (g->len + (size_t)n > g->cap) {
		g->cap = (g->cap + (size_t)n) * 2;
		g->buf = realloc(g->buf, g->cap);
		assert_non_null(g->buf);
	}
	memcpy(g->buf + g->len, tmp, (size_t)n);
	g->len += (size_t)n;
}

static const char *const words[] = {"ls",
                                    "-la",
                                    "drwxr-xr-x",
                                    "root",
                                    "4096",
                                    "Nov",
                                    "21",
                                    "\xe4\xb8\xad\xe6\x96\x87",
                                    "caf\x65\xcc\x81",
                                    "\xf0\x9f\x98\x80",
                                    "x",
                                    "tab\there",
                                    "end"};

/* One burst of shell-like or full-screen output. */
static void
burst(struct gen *g)
{
	unsigned k = rnd() % 16, i;

	switch (k) {
	case 0: /* enter a vim-like program */
		if (!g->alt) {
			add(g, "\033[?1049h\033[22;0;0t\033[1;%dr\033[?12h\033[?25l\033[H\033[2J", g->rows - 1);
			g->alt = 1;
		}
		break;
	case 1: /* leave it */
		if (g->alt) {
			add(g, "\033[r\033[?1049l\033[23;0;0t\033[?25h\r");
			g->alt = 0;
		}
		break;
	case 2: /* colours, 256 and RGB */
		add(g, "\033[1;31mred\033[0m \033[38;5;%umidx\033[48;2;%u;%u;%um rgb \033[0m\r\n", rnd() % 256,
		    rnd() % 256, rnd() % 256, rnd() % 256);
		break;
	case 3: /* scroll region and scrolling inside it */
		add(g, "\033[%u;%ur\033[%u;1H", 2 + rnd() % 3, g->rows - 1 - rnd() % 3, g->rows - 2);
		for (i = 0; i < 5; i++)
			add(g, "line %u in region\n", rnd() % 1000);
		if (!g->alt)
			add(g, "\033[r");
		break;
	case 4: /* cursor motion and drawing, like a full-screen editor */
		for (i = 0; i < 6; i++)
			add(g, "\033[%u;%uH\033[%um%s\033[0m", 1 + rnd() % g->rows, 1 + rnd() % g->cols, 30 + rnd() % 8,
			    words[rnd() % (sizeof(words) / sizeof(words[0]))]);
		break;
	case 5: /* saved cursor, insert mode */
		add(g, "\0337\033[%u;%uH\033[4hINS\033[4l\0338", 1 + rnd() % g->rows, 1 + rnd() % g->cols);
		break;
	case 6: /* erase with a background colour */
		add(g, "\033[44m\033[%u;1H\033[K\033[2;%uH\033[1J\033[0m", 1 + rnd() % g->rows, 1 + rnd() % 10);
		break;
	case 7: /* wide characters around the right edge */
		add(g, "\033[%u;%uH\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\r\n", 1 + rnd() % g->rows,
		    g->cols - 2 - rnd() % 3);
		break;
	case 8: /* line drawing in and out (a keyframe must not be taken inside) */
		add(g, "\033(0lqqk\033(B box\r\n");
		break;
	case 9: /* a narrow glyph over half of a wide one */
		add(g, "\033[1;1H\xe4\xb8\xad\033[1;1Hx\033[2;2H\xe6\x96\x87\033[2;3Hy");
		break;
	case 10: /* underline styles, italics, reverse, strike, font */
		add(g, "\033[4mu\033[21md\033[4:3mc\033[3mi\033[7mr\033[9ms\033[11mf\033[0m ok\r\n");
		break;
	case 11: /* origin mode */ add(g, "\033[3;%ur\033[?6h\033[2;2Horigin\033[?6l\033[r", g->rows - 1); break;
	case 12: /* autowrap off at the right edge */
		add(g, "\033[?7l\033[%u;%uHabcdefgh\033[?7h\r\n", 1 + rnd() % g->rows, g->cols - 3);
		break;
	default: /* plain shell output */
		for (i = 0; i < 1 + rnd() % 6; i++)
			add(g, "%s %s %s\r\n", words[rnd() % 13], words[rnd() % 13], words[rnd() % 13]);
		add(g, "$ ");
		break;
	}
}

static char dir[64];
static char path[128];

static void
write_recording(unsigned s, size_t target, uint64_t *t_end)
{
	struct rec_writer *w = NULL;
	struct gen g = {.cols = 80, .rows = 24};
	uint64_t t = (uint64_t)time(NULL) * 1000000u + 5000000u;
	size_t off = 0;

	seed = s;
	snprintf(path, sizeof(path), "%s/kf-%u.ghrec", dir, s);
	unlink(path);
	assert_int_equal(rec_writer_open(path, "{\"version\":1}", &w), 0);
	rec_writer_set_limits(w, 64 * 1024, 0);
	assert_int_equal(rec_write_at(w, REC_CHANNEL_OPEN, 1, "{\"type\":\"session\"}", 18, t), 0);
	assert_int_equal(rec_write_at(w, REC_PTY, 1, "{\"term\":\"xterm\",\"cols\":80,\"rows\":24}", 36, t), 0);
	/* An exec channel interleaved: not a terminal, ignored by the screen. */
	assert_int_equal(rec_write_at(w, REC_CHANNEL_OPEN, 2, "{\"type\":\"exec\"}", 15, t), 0);
	while (g.len < target)
		burst(&g);
	while (off < g.len) {
		size_t n = 1 + rnd() % 300;
		unsigned k = rnd() % 40;

		if (n > g.len - off)
			n = g.len - off;
		t += rnd() % 50000;
		assert_int_equal(rec_write_at(w, REC_DATA_OUT, 1, g.buf + off, n, t), 0);
		off += n;
		if (k == 0) {
			uint8_t sz[4];
			int cols = 20 + (int)(rnd() % 100), rows = 5 + (int)(rnd() % 40);

			sz[0] = (uint8_t)(cols >> 8);
			sz[1] = (uint8_t)cols;
			sz[2] = (uint8_t)(rows >> 8);
			sz[3] = (uint8_t)rows;
			assert_int_equal(rec_write_at(w, REC_RESIZE, 1, sz, 4, t), 0);
			g.cols = cols;
			g.rows = rows;
		} else if (k == 1) {
			assert_int_equal(rec_write_at(w, REC_DATA_OUT, 2, "\033[2Jnot a screen", 16, t), 0);
		} else if (k == 2) {
			assert_int_equal(rec_write_at(w, REC_DATA_IN, 1, "ls\r", 3, t), 0);
		}
	}
	assert_int_equal(rec_writer_close_at(w, "test", t + 1), 0);
	rec_writer_free(w);
	free(g.buf);
	*t_end = t;
}

/* Full replay of channel 1 up to and including the record with `ordinal`
 * (or, with ordinal UINT64_MAX, every record at or before time_us). */
static struct kf_term *
replay_to(struct rec_reader *rd, uint64_t ordinal, uint64_t time_us)
{
	struct kf_term *t = NULL;
	struct rec_record rec;
	int n;

	assert_int_equal(rec_reader_rewind(rd), 0);
	while ((n = rec_reader_next(rd, &rec)) == 1) {
		if (ordinal != UINT64_MAX ? rec.ordinal > ordinal : rec.time_us > time_us)
			break;
		assert_true(kf_apply_record(&t, 1, &rec) >= 0);
	}
	assert_true(n >= 0);
	assert_non_null(t);
	return t;
}

/* Seek: the keyframe before time_us, then the records after it. */
static struct kf_term *
seek_to(struct rec_reader *rd, const struct kf_cache *c, uint64_t time_us, int *used_kf)
{
	const struct kf_entry *e = kf_cache_find(c, 1, time_us);
	struct kf_term *t = NULL;
	struct rec_record rec;
	int n;

	*used_kf = e != NULL;
	if (e == NULL)
		return replay_to(rd, UINT64_MAX, time_us);
	assert_int_equal(kf_term_restore(e->blob, e->len, &t), 0);
	assert_int_equal(rec_reader_seek_frame(rd, (size_t)e->frame), 0);
	uint64_t expect = e->ordinal + 1;

	while ((n = rec_reader_next(rd, &rec)) == 1) {
		if (rec.ordinal <= e->ordinal)
			continue;
		/* nothing between the keyframe and here is skipped */
		assert_int_equal(rec.ordinal, expect);
		expect++;
		if (rec.time_us > time_us)
			break;
		assert_true(kf_apply_record(&t, 1, &rec) >= 0);
	}
	assert_true(n >= 0);
	return t;
}

static void
check_recording(unsigned s, size_t size, size_t interval)
{
	struct rec_reader *rd = NULL;
	struct kf_cache *c = NULL;
	uint64_t t_end, t0;
	struct rec_record rec;
	size_t i, used = 0, alt_kf = 0;
	char why[200];

	write_recording(s, size, &t_end);
	assert_int_equal(rec_reader_open(path, &rd), 0);
	do
		assert_int_equal(rec_reader_next(rd, &rec), 1);
	while (rec.type != REC_PTY);
	t0 = rec.time_us;
	assert_int_equal(kf_cache_build(rd, interval, &c), 0);
	assert_true(kf_cache_count(c) >= 10);

	/* Seeks to many points: equal to the full replay. */
	for (i = 0; i <= 60; i++) {
		uint64_t at = t0 + (t_end - t0) * i / 60 + (i % 7) * 13;
		struct kf_term *a, *b;
		int kf, row, col, vis, alt;

		a = seek_to(rd, c, at, &kf);
		b = replay_to(rd, UINT64_MAX, at);
		used += kf;
		kf_term_cursor(b, &row, &col, &vis, &alt);
		alt_kf += alt && kf;
		int cmp = kf_term_compare(a, b, FULL, why, sizeof(why));
		if (cmp != 0)
			fail_msg("seed %u, seek %zu: %s", s, i, why);
		kf_term_free(a);
		kf_term_free(b);
	}
	assert_true(used >= 40);
	assert_true(alt_kf >= 1);
	kf_cache_free(c);
	rec_reader_free(rd);
	unlink(path);
}

static void
test_keyframe_exact_at_every_keyframe(void **state)
{
	struct rec_reader *rd = NULL;
	struct kf_cache *c = NULL;
	uint64_t t_end;
	size_t checked = 0, i;
	char why[200];
	const struct kf_entry *e;

	write_recording(7, 300 * 1024, &t_end);
	assert_int_equal(rec_reader_open(path, &rd), 0);
	assert_int_equal(kf_cache_build(rd, 2048, &c), 0);
	assert_true(kf_cache_count(c) >= 50);
	for (i = 0; (e = kf_cache_entry(c, i)) != NULL; i++) {
		struct kf_term *a = NULL, *b = replay_to(rd, e->ordinal, 0);

		assert_int_equal(e->channel, 1);
		assert_int_equal(kf_term_restore(e->blob, e->len, &a), 0);
		if (kf_term_compare(a, b, FULL, why, sizeof(why)) != 0)
			fail_msg("keyframe %zu at ordinal %llu: %s", i, (unsigned long long)e->ordinal, why);
		kf_term_free(a);
		kf_term_free(b);
		checked++;
	}
	assert_true(checked >= 20);
	kf_cache_free(c);
	rec_reader_free(rd);
	if (!getenv("KEEP"))
		unlink(path);
}

static void
test_keyframe_seek_equals_full_replay(void **state)
{
	check_recording(1, 200 * 1024, 4096);
	check_recording(4, 200 * 1024, 4096);
	check_recording(5, 200 * 1024, 2048);
	check_recording(2, 200 * 1024, 1024);
	check_recording(3, 400 * 1024, 8192);
}

static void
test_keyframe_restore_refuses_damage(void **state)
{
	struct kf_term *t = NULL, *u = NULL;
	uint8_t *blob = NULL;
	size_t len = 0, i;
	const char s[] = "\033[1;32mhello \xe4\xb8\xad\033[0m\r\n\033[?1049h\033[5;10r\033[3;3Hvim\0337";

	assert_int_equal(kf_term_new(40, 12, &t), 0);
	kf_term_write(t, s, sizeof(s) - 1);
	assert_int_equal(kf_term_snapshot(t, &blob, &len), 0);
	assert_int_equal(kf_term_restore(blob, len, &u), 0);
	kf_term_free(u);
	/* Every truncation is refused. */
	for (i = 0; i < len; i++) {
		u = NULL;
		assert_int_not_equal(kf_term_restore(blob, i, &u), 0);
		assert_null(u);
	}
	/* Byte flips either are refused or give a valid terminal (no crash,
	 * no leak: ASan checks). */
	for (i = 0; i < len; i++) {
		blob[i] ^= 0xff;
		u = NULL;
		if (kf_term_restore(blob, len, &u) == 0)
			kf_term_free(u);
		blob[i] ^= 0xff;
	}
	/* Not safe inside an escape sequence or a character. */
	kf_term_write(t, "\033[3", 3);
	assert_false(kf_term_safe(t));
	kf_term_write(t, "1m\xe4\xb8", 4);
	assert_false(kf_term_safe(t));
	/* The line-drawing set survives a snapshot: "q" is a line after it. */
	kf_term_write(t, "\xad\033(0", 4);
	assert_true(kf_term_safe(t));
	free(blob);
	assert_int_equal(kf_term_snapshot(t, &blob, &len), 0);
	assert_int_equal(kf_term_restore(blob, len, &u), 0);
	kf_term_write(t, "q", 1);
	kf_term_write(u, "q", 1);
	{
		VTermScreenCell c;
		int row, col, vis, alt;
		char why[200];

		kf_term_cursor(u, &row, &col, &vis, &alt);
		memset(&c, 0, sizeof(c));
		vterm_screen_get_cell(kf_term_screen(u), (VTermPos){row, col - 1}, &c);
		assert_int_equal(c.chars[0], 0x2500);
		assert_int_equal(kf_term_compare(t, u, 1, why, sizeof(why)), 0);
	}
	kf_term_free(u);
	free(blob);
	kf_term_free(t);
}

static void
test_keyframe_cache_file_bound_to_recording(void **state)
{
	struct rec_reader *rd = NULL;
	struct rec_reader_info info;
	struct kf_cache *c = NULL, *d = NULL;
	uint8_t *blob = NULL, head[32];
	size_t len = 0, i;
	uint64_t t_end;

	write_recording(11, 100 * 1024, &t_end);
	assert_int_equal(rec_reader_open(path, &rd), 0);
	rec_reader_get_info(rd, &info);
	assert_true(info.has_trailer);
	assert_int_equal(kf_cache_build(rd, 4096, &c), 0);
	assert_int_equal(kf_cache_encode(c, info.file_id, info.trailer_frames, info.trailer_head, &blob, &len), 0);
	assert_int_equal(kf_cache_decode(blob, len, info.file_id, info.trailer_frames, info.trailer_head, &d), 0);
	assert_int_equal(kf_cache_count(d), kf_cache_count(c));
	kf_cache_free(d);
	/* Another head (the recording changed): refused. */
	memcpy(head, info.trailer_head, 32);
	head[5] ^= 1;
	assert_int_equal(kf_cache_decode(blob, len, info.file_id, info.trailer_frames, head, &d), ERR_TAMPER);
	assert_int_equal(kf_cache_decode(blob, len, info.file_id, info.trailer_frames + 1, info.trailer_head, &d),
	                 ERR_TAMPER);
	/* Any changed byte: refused. */
	for (i = 0; i < len; i += 1 + len / 500) {
		blob[i] ^= 0x40;
		d = NULL;
		assert_int_not_equal(
		        kf_cache_decode(blob, len, info.file_id, info.trailer_frames, info.trailer_head, &d), 0);
		assert_null(d);
		blob[i] ^= 0x40;
	}
	free(blob);
	kf_cache_free(c);
	rec_reader_free(rd);
	unlink(path);
}

/* kf_cache_open writes the sidecar beside the recording, uses it next time,
 * and rebuilds it when it does not match. */
static void
test_keyframe_cache_sidecar(void **state)
{
	struct rec_reader *rd = NULL;
	struct kf_cache *c = NULL;
	uint64_t t_end;
	char side[160];
	FILE *f;
	int loaded = -1;

	write_recording(12, 5 * 1024 * 1024, &t_end);
	snprintf(side, sizeof(side), "%s/kf-12.ghkf", dir);
	unlink(side);
	assert_int_equal(rec_reader_open(path, &rd), 0);
	assert_int_equal(kf_cache_open(rd, path, &c, &loaded), 0);
	assert_int_equal(loaded, 0);
	assert_true(kf_cache_count(c) >= 1);
	kf_cache_free(c);
	assert_int_equal(access(side, R_OK), 0);
	assert_int_equal(kf_cache_open(rd, path, &c, &loaded), 0);
	assert_int_equal(loaded, 1);
	kf_cache_free(c);
	/* A forged cache (garbage) is rebuilt, not trusted. */
	f = fopen(side, "r+");
	assert_non_null(f);
	fseek(f, 70, SEEK_SET);
	fputc('X', f);
	fclose(f);
	assert_int_equal(kf_cache_open(rd, path, &c, &loaded), 0);
	assert_int_equal(loaded, 0);
	kf_cache_free(c);
	rec_reader_free(rd);
	unlink(side);
	unlink(path);
}

/* The player's emulator reads recorded target output: REP (ESC [ b) as
 * the first output must not hang it (libvterm 0.1.4 looped for ever). */
static void
test_keyframe_rep_before_any_glyph(void **state)
{
	static const char out[] = "\033[b\033[0b\033[99999bok";
	struct kf_term *t = NULL;

	assert_int_equal(kf_term_new(80, 24, &t), 0);
	alarm(20);
	kf_term_write(t, out, sizeof(out) - 1);
	alarm(0);
	kf_term_free(t);
}

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/gh-kf.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_keyframe_restore_refuses_damage),
	        cmocka_unit_test(test_keyframe_exact_at_every_keyframe),
	        cmocka_unit_test(test_keyframe_seek_equals_full_replay),
	        cmocka_unit_test(test_keyframe_cache_file_bound_to_recording),
	        cmocka_unit_test(test_keyframe_cache_sidecar),
	        cmocka_unit_test(test_keyframe_rep_before_any_glyph),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
