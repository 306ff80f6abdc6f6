/* Screen keyframes: a terminal emulator (libvterm) whose complete state can
 * be serialised and restored exactly, and a per-recording cache of such
 * snapshots so that seeking replays at most a few MiB of output.
 *
 * libvterm 0.1.4 cannot be asked for everything a snapshot needs, so a
 * snapshot is built from three sources (docs/replay.md has the details):
 *  - the cells of both screens (the main screen is read by switching the
 *    alternate screen off through the state API, after which the emulator
 *    is rebuilt from the snapshot itself);
 *  - modes, scroll region, margins and cursor shape, asked of libvterm with
 *    the same DECRQM/DECRQSS queries a host would send;
 *  - what neither offers (insert mode, newline mode, the cursor saved by
 *    DECSC/1049, character sets, tab stops, pending wrap, half-read escape
 *    sequences) is followed by our own scanner of the byte stream; a
 *    snapshot is only taken at a point where whatever the scanner cannot
 *    restore is in its default state (kf_term_safe).
 * Restoring paints the cells and sets the state with ordinary escape
 * sequences fed to a fresh emulator, so the restored emulator is libvterm
 * itself in the same state, not an imitation of it.
 *
 * Every snapshot and cache byte is untrusted when read back: the cache
 * file lives beside the recording and may be stale or forged. */
#ifndef GH_KEYFRAME_H
#define GH_KEYFRAME_H

#include <stddef.h>
#include <stdint.h>

#include <vterm.h>

struct rec_reader;

/* Size limits for an emulator (also applied to untrusted snapshots). */
#define KF_MAX_COLS  1000
#define KF_MAX_ROWS  500
#define KF_MAX_CELLS 250000

struct kf_term;

/* A terminal of cols x rows (clamped to 2..KF_MAX_COLS, 1..KF_MAX_ROWS). */
int kf_term_new(int cols, int rows, struct kf_term **out);
void kf_term_free(struct kf_term *t);
/* Feed target output (any bytes; escape sequences may span calls). */
void kf_term_write(struct kf_term *t, const void *buf, size_t len);
/* A window-size change (REC_RESIZE). */
void kf_term_resize(struct kf_term *t, int cols, int rows);
void kf_term_size(const struct kf_term *t, int *cols, int *rows);
/* The libvterm screen, for drawing (valid until the next call that may
 * rebuild the emulator: kf_term_snapshot, kf_term_resize never does). */
VTermScreen *kf_term_screen(struct kf_term *t);
/* Cursor position, visibility and whether the alternate screen is on. */
void kf_term_cursor(struct kf_term *t, int *row, int *col, int *visible, int *alt);

/* 1 when a snapshot taken now restores exactly (no escape sequence half
 * read, default character sets and tab stops, no pending wrap). */
int kf_term_safe(const struct kf_term *t);
/* Serialise the complete state into a malloc'ed blob. ERR_BUSY when the
 * terminal is not at a safe point. The emulator behind t may be replaced
 * (by one restored from the blob): screen pointers become stale. */
int kf_term_snapshot(struct kf_term *t, uint8_t **blob, size_t *len);
/* A new terminal in the state a blob describes. ERR_INVALID for anything
 * malformed (the blob is untrusted). */
int kf_term_restore(const uint8_t *blob, size_t len, struct kf_term **out);

/* Apply one record to the emulator of `channel`: REC_PTY creates it (or
 * resizes it), REC_RESIZE resizes, REC_DATA_OUT/ERR are written. Records
 * of other channels and other types are ignored. The player and the cache
 * builder both replay through this one function, so they agree. Returns 1
 * when the screen may have changed, 0 if not, or a negative gh_err. */
struct rec_record;
int kf_apply_record(struct kf_term **t, uint32_t channel, const struct rec_record *rec);
/* Compare two terminals: size, cursor and every cell of the current
 * screen; with full, when both are at a safe point, also the complete state (hidden
 * screen, modes, pen, saved cursor) through their snapshots. 0 when equal, 1 when they differ (with
 * a description in why), or a negative gh_err. For tests. */
int kf_term_compare(struct kf_term *a, struct kf_term *b, int full, char *why, size_t whylen);

/* ---- the keyframe cache of one recording ------------------------------ */

struct kf_cache;

struct kf_entry {
	uint32_t channel; /* recording channel number */
	uint64_t ordinal; /* the snapshot is the state after this record */
	uint64_t time_us; /* that record's time */
	uint64_t frame;   /* index of the zstd frame holding that record */
	const uint8_t *blob;
	size_t len;
};

/* Build the keyframes of every pty channel by reading the recording from
 * the start (the reader is rewound before and after). A snapshot is taken
 * at the first safe record boundary after every `interval` bytes of a
 * channel's output (0 = KF_DEFAULT_INTERVAL). */
#define KF_DEFAULT_INTERVAL (512u * 1024)
int kf_cache_build(struct rec_reader *r, size_t interval, struct kf_cache **out);
void kf_cache_free(struct kf_cache *c);
/* Serialise / load, bound to the recording's identity: its file id, frame
 * count and final chain head. Loading refuses (ERR_INVALID, ERR_TAMPER)
 * anything malformed or made for another state of the file. */
int kf_cache_encode(const struct kf_cache *c, const uint8_t file_id[16], uint64_t frames, const uint8_t head[32],
                    uint8_t **blob, size_t *len);
int kf_cache_decode(const uint8_t *blob, size_t len, const uint8_t file_id[16], uint64_t frames, const uint8_t head[32],
                    struct kf_cache **out);
/* The recording's cache: load PATH.ghkf (for PATH.ghrec) when it matches
 * the finished recording behind r, else build and try to save it (a
 * directory we cannot write to just means the cache lives in memory for
 * this run). A recording without a trailer (live or crashed) is never
 * cached on disk. *loaded says whether the file was used. */
int kf_cache_open(struct rec_reader *r, const char *rec_path, struct kf_cache **out, int *loaded);
/* Only load a valid cache file (ERR_NOTFOUND when there is none that
 * matches): a player shows the first frame at once and builds the cache
 * at the first seek. */
int kf_cache_load(struct rec_reader *r, const char *rec_path, struct kf_cache **out);
size_t kf_cache_count(const struct kf_cache *c);
/* The i-th keyframe (in recording order), NULL past the end. */
const struct kf_entry *kf_cache_entry(const struct kf_cache *c, size_t i);
/* The last keyframe of channel at or before time_us (NULL if none). */
const struct kf_entry *kf_cache_find(const struct kf_cache *c, uint32_t channel, uint64_t time_us);

#endif
