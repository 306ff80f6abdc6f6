/* What the users of libvterm 0.1.4 share: the command extractor
 * (cmdx-screen.c), the player's emulator (keyframe*.c) and its terminal
 * output (player/tty.c).
 * The target's output is untrusted: it must never make libvterm loop,
 * overflow or read outside its buffers. */
#ifndef GATEHOUSE_RECORDER_VTGUARD_H
#define GATEHOUSE_RECORDER_VTGUARD_H

#include <stddef.h>

#include <vterm.h>

/* libvterm 0.1.4 writes CSI parameters past its 16-entry array when a
 * sequence has more separators (heap overflow, found by our fuzzer): the
 * scanners drop separators beyond this count. No real sequence has that
 * many. */
#define CSI_SAFE_ARGS 12

/* Call once on a new terminal, after its first reset and before a second
 * one (libvterm crashes on input before the first reset).
 *
 * REP (CSI Pn b) repeats the last printed character by advancing the
 * cursor by that character's width; before any character was printed the
 * width is 0 and libvterm 0.1.4 loops for ever (found by fuzz_cmdextract:
 * a target printing ESC [ b as its first output hung the session process).
 * Printing one character sets the width for the terminal's life (a reset
 * keeps it); the reset that follows erases it again. */
void vt_prime(VTerm *vt);

/* One colour of a pen as a whole SGR sequence (default, indexed or RGB),
 * into buf; a sequence on its own keeps libvterm's 16-argument limit. */
void vt_sgr_color(char *buf, size_t len, const VTermColor *c, int bg);

#endif
