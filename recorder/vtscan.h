/* A terminal output scanner: the DEC ANSI parser (the state diagram of
 * vt100.net/emu/dec_ansi_parser) as a table-driven state machine, over
 * UTF-8.
 *
 * It turns a byte stream into events: a printable character, a control, an
 * escape sequence, a control sequence (CSI) with its parameters, and the
 * control strings (OSC, DCS, SOS, PM, APC) as start / character / end. It
 * keeps no screen and answers nothing; the caller decides what an event
 * means. Input may be split anywhere (in the middle of a UTF-8 character or
 * of a sequence): the scanner keeps what it needs between writes, and only
 * a whole sequence is ever reported.
 *
 * Users: the sanitiser of what reaches an auditor's terminal (vtsan.h).
 * It is written so that the keyframe writer and the command extractor,
 * which track sequence boundaries with scanners of their own today, can
 * move onto it: every event carries the stream offsets it spans.
 *
 * Decoding: UTF-8 as RFC 3629 says (no overlong forms, no surrogates,
 * nothing above U+10FFFF); every maximal invalid subpart becomes one
 * U+FFFD. Code points U+0080..U+009F are the C1 controls and act as the
 * 7-bit sequences they stand for (U+009B is CSI, U+009D is OSC ...), as in
 * a terminal that honours them; a terminal that does not shows nothing
 * worse than text. */
#ifndef GH_RECORDER_VTSCAN_H
#define GH_RECORDER_VTSCAN_H

#include <stddef.h>
#include <stdint.h>

#define VTSCAN_PARAMS_MAX    32    /* more make the sequence bad */
#define VTSCAN_INTER_MAX     2     /* intermediate bytes kept; more make it bad */
#define VTSCAN_PARAM_DEFAULT (-1)  /* an empty parameter */
#define VTSCAN_PARAM_MAX     65535 /* larger values are clamped to it */

enum vtscan_kind {
	VTSCAN_PRINT,     /* a printable character (cp) */
	VTSCAN_EXECUTE,   /* a control: C0 (cp < 0x20), DEL (0x7f, in text only) or C1 (0x80..0x9f) */
	VTSCAN_ESC,       /* ESC, intermediates (inter), final */
	VTSCAN_CSI,       /* CSI, marker, params, intermediates, final */
	VTSCAN_STR_START, /* a control string begins (str); a DCS carries its marker, params, inter, final */
	VTSCAN_STR_PUT,   /* one character of the string (cp) */
	VTSCAN_STR_END,   /* the string ended: ST, BEL (OSC), CAN, SUB, ESC or C1 starting something else,
	                   * or vtscan_finish */
};

enum vtscan_str { VTSCAN_OSC, VTSCAN_DCS, VTSCAN_SOS, VTSCAN_PM, VTSCAN_APC };

struct vtscan_event {
	enum vtscan_kind kind;
	uint32_t cp;                      /* PRINT, EXECUTE, STR_PUT */
	int invalid;                      /* PRINT: cp is U+FFFD standing for bytes that are not UTF-8 */
	char final;                       /* ESC, CSI, DCS: the final byte */
	char marker;                      /* CSI, DCS: private marker '<' '=' '>' '?', or 0 */
	char inter[VTSCAN_INTER_MAX + 1]; /* ESC, CSI, DCS: intermediate bytes, NUL-terminated */
	int nparams;                      /* CSI, DCS */
	int32_t param[VTSCAN_PARAMS_MAX]; /* VTSCAN_PARAM_DEFAULT when empty */
	uint32_t sub;                     /* bit i: param i came after ':' (a sub-parameter) */
	int bad;                          /* CSI, DCS: a sequence DEC's parser ignores (a marker or
	                                   * a parameter after it began, too many parameters or
	                                   * intermediates): report-only, never to be acted on */
	enum vtscan_str str;              /* STR_START, STR_PUT, STR_END */
	uint64_t start, end;              /* stream offsets: the event's first byte (ESC or the
	                                   * C1 introducer for sequences) and one past its last */
};

/* VTSCAN_TERMINAL parses sequences; VTSCAN_LITERAL only decodes: every
 * control, ESC and C1 included, is an EXECUTE event (text that is not
 * meant for a terminal, such as a command line). */
enum vtscan_mode { VTSCAN_TERMINAL, VTSCAN_LITERAL };

typedef void (*vtscan_fn)(const struct vtscan_event *ev, void *arg);

struct vtscan;

/* NULL when out of memory. fn is called for every event, in order. */
struct vtscan *vtscan_new(enum vtscan_mode mode, vtscan_fn fn, void *arg);
void vtscan_free(struct vtscan *vs);
/* Scan len more bytes of the stream. */
void vtscan_write(struct vtscan *vs, const void *buf, size_t len);
/* End of the stream: an unfinished character is reported as U+FFFD, an
 * unfinished string is ended, an unfinished sequence is dropped. The
 * scanner is then in its ground state (offsets go on). */
void vtscan_finish(struct vtscan *vs);
/* Nothing pending: no partial character, sequence or string. */
int vtscan_idle(const struct vtscan *vs);
/* Bytes scanned so far. */
uint64_t vtscan_offset(const struct vtscan *vs);

#endif
