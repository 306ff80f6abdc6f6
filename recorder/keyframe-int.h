/* Internals of the keyframe emulator shared by keyframe.c (emulator,
 * scanner, snapshots) and keyframe-restore.c (restoring snapshots). */
#ifndef GH_KEYFRAME_INT_H
#define GH_KEYFRAME_INT_H

#include <stddef.h>
#include <stdint.h>

#include <vterm.h>

#include "recorder/vtguard.h"

/* Scanner states: where in the escape-sequence grammar the last byte fed
 * left us. Only GROUND is a point where a snapshot may be taken. */
enum scan_state { SC_GROUND = 0, SC_ESC, SC_ESC_INTER, SC_CSI, SC_STR, SC_STR_ESC };

struct kf_pen {
	uint16_t attrs; /* bold 0, underline 1-2, italic 3, blink 4, reverse 5, strike 6, font 7-10 */
	VTermColor fg, bg;
};

struct kf_saved {
	int valid; /* a DECSC (or 1048/1049) happened: restore it */
	int row, col;
	struct kf_pen pen;
	int visible, shape; /* cursor visibility and DECSCUSR value */
};

struct kf_term {
	VTerm *vt;
	VTermScreen *screen;
	VTermState *state;
	int cols, rows;
	/* scanner */
	enum scan_state sc;
	int utf8_left; /* continuation bytes still expected */
	char u8[4];    /* the partial character held back from libvterm */
	int u8_len;
	int csi_args;     /* separators seen in the current CSI */
	char csi_leader;  /* '?', '>' ... or 0 */
	char csi_buf[32]; /* parameters of the current CSI (truncated) */
	size_t csi_len;
	char csi_inter;   /* the intermediate byte seen, or 0 */
	char esc_inter;   /* first intermediate after ESC */
	int single_shift; /* SS2/SS3 pending for the next character */
	/* Character sets: libvterm starts with UTF-8 in G0..G3; ESC ( B
	 * makes G0 plain ASCII (ncurses sends it with every sgr0), ESC ( 0
	 * the line-drawing set. Replayed by a restore. */
	char g_inter[4];    /* intermediate of G0..G3's last designation, 0 = initial */
	char g_final[4];    /* its final byte */
	int gl;             /* locking shift: which G set is GL */
	int tabs_dirty;     /* tab stops changed since the last reset */
	int lineattr_dirty; /* a double-width/height line attribute was used */
	int irm, lnm;       /* insert mode, newline mode (not asked via DECRQM) */
	int origin, lrmm;   /* DECOM, DECLRMM as the scanner saw them (snapshot checks them before any query) */
	int stbm_explicit;  /* the bottom margin was set, not left at its default */
	int slrm_explicit;  /* the right margin was set */
	int in_text;        /* the last byte fed was text */
	int run_glyph;      /* the current text run completed a glyph */
	int glyph_valid;    /* glyph_row/col hold the cursor after the last glyph */
	int glyph_row, glyph_col;
	char rep[4];      /* the last character printed, while nothing else followed */
	int rep_len;      /* its length, 0 = REP has nothing to repeat */
	int rep_esc_len;  /* rep_len when the current escape sequence began */
	int pending_cols; /* a resize waiting for the end of a sequence (0 = none) */
	int pending_rows;
	struct kf_saved saved;
	/* answers to our own queries */
	char reply[64];
	size_t reply_len;
	int querying;
};

/* Snapshot layout: magic, then the header fields and flags below (see
 * kf_term_snapshot). */
#define KF_MAGIC   "KFS1"
#define F_ALT      0x001
#define F_VISIBLE  0x002
#define F_BLINK    0x004
#define F_REVERSE  0x008
#define F_ORIGIN   0x010
#define F_AUTOWRAP 0x020
#define F_IRM      0x040
#define F_LNM      0x080
#define F_LRMM     0x100
#define F_SAVED    0x200
#define F_SVISIBLE 0x400
#define F_ATTACH   0x800  /* a combining character would join the glyph left of the cursor */
#define F_STBM_SET 0x1000 /* the bottom margin is explicit (matters when it is the last row) */
#define F_SLRM_SET 0x2000 /* the right margin is explicit */

/* Set libvterm's pen (SGR sequences fed to the emulator). */
void kf_write_pen(struct kf_term *t, const struct kf_pen *p);

#endif
