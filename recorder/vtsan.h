/* The one sanitiser for everything a recording or an operator puts in
 * front of an auditor: recorded terminal output replayed or watched, and
 * recorded strings (commands, file names, reasons) printed as text.
 *
 * Built on the scanner (vtscan.h): the input is parsed, and the output is
 * made anew from what the parse allows, never copied, so the terminal on
 * the other side is always in its ground state between two writes (no
 * partial sequence or character is ever emitted, and nothing the input
 * started can swallow what is printed after it).
 *
 * VTSAN_SCREEN (terminal output): printable characters, the controls BS,
 * HT, LF, VT, FF, CR, SO, SI, and the sequences that only move the cursor,
 * erase, scroll or set colours and attributes, plus the display-only modes
 * (cursor visible, autowrap, origin, insert, alternate screen) and the
 * G0/G1 character sets ASCII and DEC line drawing. Everything else is
 * withheld: OSC (title, clipboard, hyperlinks, colours), DCS, SOS, PM, APC,
 * every query a terminal answers (DSR, DA, DECRQM, DECRQSS, window
 * reports), modes that change what the keyboard or mouse send (cursor
 * keys, keypad, mouse reporting, bracketed paste, focus events, newline
 * mode, modifyOtherKeys, kitty keyboard), window manipulation, printing,
 * resets, 8-bit controls, BEL and every other C0 and C1 control. The exact
 * lists are the tables in vtsan.c; docs/security.md says why for each.
 * A full reset (RIS) becomes "put the display modes back, clear the
 * screen". vtsan_finish() puts back every display mode the stream changed.
 *
 * VTSAN_TEXT (plain text): printable characters, LF and HT; every other
 * control is shown visibly in caret notation, as cat -v does (ESC as ^[,
 * CR as ^M, DEL as ^?, a C1 control U+009B as M-^[), so an investigator
 * sees that a command contained one.
 *
 * VTSAN_LINE (one field of a one-line-per-item listing: a command, a file
 * name): as TEXT, and LF too is shown as ^J, so that a recorded string
 * cannot forge the lines after it.
 *
 * In both, bytes that are not UTF-8 become U+FFFD. */
#ifndef GH_RECORDER_VTSAN_H
#define GH_RECORDER_VTSAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum vtsan_profile { VTSAN_SCREEN, VTSAN_TEXT, VTSAN_LINE };

struct vtsan;

/* NULL when out of memory. */
struct vtsan *vtsan_new(enum vtsan_profile profile);
void vtsan_free(struct vtsan *s);
/* Sanitise len more bytes of the stream. *out, *outlen: what may be shown
 * (valid until the next call on s). 0 or ERR_NOMEM (then nothing is
 * shown and the stream's state is unspecified: free it). */
int vtsan_write(struct vtsan *s, const void *in, size_t len, const char **out, size_t *outlen);
/* End of the stream, or a pause before other output goes to the same
 * terminal: an unfinished character is shown as U+FFFD, an unfinished
 * sequence is dropped, and (SCREEN) the display modes the stream changed
 * are put back (main screen, no scroll region, cursor visible, default
 * colours ...). The stream may go on afterwards. */
int vtsan_finish(struct vtsan *s, const char **out, size_t *outlen);
/* Sequences, strings and controls withheld so far. */
uint64_t vtsan_withheld(const struct vtsan *s);

/* A code point that may be shown as it is (not a control, a surrogate or
 * beyond Unicode). */
int vtsan_printable(uint32_t cp);

/* One string through TEXT or LINE (SCREEN works too, its modes put back
 * at the end): a new NUL-terminated string (a NUL in the input is shown
 * as ^@), or NULL when out of memory. */
char *vtsan_string(enum vtsan_profile profile, const char *in, size_t len);

/* A stream that sanitises everything written to it into dst (which it
 * does not close); fclose() finishes the stream and flushes dst. NULL
 * when out of memory. */
FILE *vtsan_fopen(FILE *dst, enum vtsan_profile profile);

#endif
