/* Command extraction from an interactive terminal session.
 *
 * A pure module: it sees the two byte streams of a pty channel (what the
 * operator typed, what the target printed) and turns them into command
 * records. The target's output drives a terminal emulator (libvterm's state
 * layer with our own cell grid); when a line is accepted the command is the
 * text the operator saw after the prompt, with wrapped rows joined. A small
 * model of the typed keys says whether the keys alone explain that text.
 * docs/command-control.md ("Extraction: how and how sure") has the details
 * and the limits.
 *
 * Use from the proxy, for each pty channel:
 *
 *   cx = cmdx_new(cols, rows);
 *   on operator bytes:  off = cmdx_input_enter_offset(cx, buf, len);
 *                       cmdx_input(cx, buf, off, t);
 *                       if (off < len) {          // buf[off] submits a line
 *                               cmdx_pending_command(cx, &text);  // and
 *                               cmdx_pending_typed(cx, &typed);   // check both
 *                               ... block: do not forward buf[off]; to
 *                                   clear the line send Ctrl-C to the
 *                                   target and pass it to cmdx_input too ...
 *                               ... allow: cmdx_input(cx, buf + off, 1, t),
 *                                   forward, and repeat with the rest ...
 *                       }
 *   on target bytes:    cmdx_output(cx, buf, len, t);
 *   then:               while (cmdx_next(cx, &ev) == 0) { ...; cmdx_event_clear(&ev); }
 *   on window change:   cmdx_resize(cx, cols, rows);
 *
 * Bytes the proxy itself sends to the target go through cmdx_input, and
 * text it writes to the operator's terminal (a refusal message) through
 * cmdx_output, so that the model stays what the shell and the operator see.
 *
 * Commands are reported when the target accepts the line (its output after
 * the Enter), not when Enter is typed, because only then is the echoed line
 * complete (paste and type-ahead send Enter before any echo came back).
 */
#ifndef GH_CMDEXTRACT_H
#define GH_CMDEXTRACT_H

#include <stddef.h>
#include <stdint.h>

/* Largest command text reported; longer ones are cut and flagged. */
#define CMDX_MAX_COMMAND (64 * 1024)
/* Appended to a command text that was cut at CMDX_MAX_COMMAND bytes. */
#define CMDX_TRUNCATED_MARKER " [gatehouse: command truncated]"

enum cmdx_event_type {
	CMDX_EV_COMMAND = 1,      /* a line accepted by the target's shell */
	CMDX_EV_FULLSCREEN_ENTER, /* alternate screen on (vim, less, top ...) */
	CMDX_EV_FULLSCREEN_LEAVE, /* alternate screen off */
};

/* Bits of cmdx_event.flags. */
enum {
	/* The keys typed for this line, replayed through a model of line
	 * editing, give exactly the echoed command. Absent when the line used
	 * keys only the shell can interpret (Tab, history, search) or when
	 * typed and echoed text differ. */
	CMDX_F_TYPED_AGREES = 1 << 0,
	/* The text was cut at CMDX_MAX_COMMAND and ends with the marker. */
	CMDX_F_TRUNCATED = 1 << 1,
	/* The shell announced no line editor for this line (no bracketed
	 * paste mode: a shell without readline, or a program such as a REPL
	 * reading a line with the terminal echoing it). */
	CMDX_F_NO_EDITOR = 1 << 2,
	/* The prompt could not be located on screen; the text may still
	 * contain prompt characters. */
	CMDX_F_PROMPT_GUESSED = 1 << 3,
};

struct cmdx_event {
	enum cmdx_event_type type;
	int64_t t_us; /* COMMAND: time of the Enter; others: output time */
	char *text;   /* COMMAND: UTF-8 command text, owned by the event */
	size_t len;   /* length of text in bytes */
	unsigned flags;
};

struct cmdx;

/* A tracker for a terminal of cols x rows cells; NULL on failure. */
struct cmdx *cmdx_new(int cols, int rows);
void cmdx_free(struct cmdx *cx);
/* The operator's window changed size. 0 or ERR_INVALID/ERR_NOMEM. */
int cmdx_resize(struct cmdx *cx, int cols, int rows);

/* Operator -> target bytes, with the time they were forwarded. */
int cmdx_input(struct cmdx *cx, const uint8_t *buf, size_t len, int64_t t_us);
/* Target -> operator bytes. */
int cmdx_output(struct cmdx *cx, const uint8_t *buf, size_t len, int64_t t_us);

/* Offset in buf of the first byte that would submit a line (CR or LF typed
 * outside a bracketed paste, while no full-screen program runs), or len if
 * there is none. Does not consume anything. */
size_t cmdx_input_enter_offset(const struct cmdx *cx, const uint8_t *buf, size_t len);
/* The command that Enter would submit now, as the screen shows it (with
 * any earlier continuation lines joined). 0 and *text (caller frees), or
 * ERR_NOTFOUND when no line is being edited (or inside a full-screen
 * program). */
int cmdx_pending_command(struct cmdx *cx, char **text);
/* The same line according to the typed keys alone; ERR_NOTFOUND when the
 * keys cannot be replayed (Tab, history ...). A blocking policy should test
 * both texts. */
int cmdx_pending_typed(struct cmdx *cx, char **text);
/* 1 when the line being typed was typed while a line editor that announced
 * itself with bracketed paste (readline) was reading it; 0 otherwise: a
 * program reading the terminal, a password prompt without echo, or a shell
 * without the markers. Only an editor's line may be judged by its typed
 * keys: elsewhere they can be a secret that never reached the screen. */
int cmdx_pending_editor(const struct cmdx *cx);
/* Forget the line being edited, for a proxy that refused it and left the
 * target's line alone (otherwise pass what it sent to cmdx_input). */
void cmdx_cancel_line(struct cmdx *cx);

/* Next event, oldest first: 0 and *ev filled (free with cmdx_event_clear),
 * or ERR_NOTFOUND when there is none. */
int cmdx_next(struct cmdx *cx, struct cmdx_event *ev);
void cmdx_event_clear(struct cmdx_event *ev);

#endif
