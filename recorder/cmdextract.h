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
 *                       if (off < len) {          // buf[off] may submit a line
 *                               cmdx_judge(cx, fn, arg);   // every text it may be
 *                               ... block: do not forward buf[off]; send
 *                                   cmdx_cancel_key(cx) to the target in its
 *                                   place and pass it to cmdx_input too ...
 *                               ... allow: cmdx_input(cx, buf + off, 1, t),
 *                                   forward, and repeat with the rest ...
 *                       }
 *   on target bytes:    cmdx_output(cx, buf, len, t);
 *   now and then:       cmdx_tick(cx, t);
 *   then:               while (cmdx_next(cx, &ev) == 0) { ...; cmdx_event_clear(&ev); }
 *   on window change:   cmdx_resize(cx, cols, rows);
 *   at the end:         cmdx_finish(cx), then the events, then cmdx_free(cx).
 *
 * Bytes the proxy itself sends to the target go through cmdx_input, and
 * text it writes to the operator's terminal (a refusal message) through
 * cmdx_output, so that the model stays what the shell and the operator see.
 *
 * Commands are reported when the target accepts the line (its output after
 * the Enter), not when Enter is typed, because only then is the echoed line
 * complete (paste and type-ahead send Enter before any echo came back).
 *
 * Every line the operator submits is reported, whatever the terminal state:
 * a line the screen never showed accepted (typed without echo, inside the
 * alternate screen, to a program that is not a line editor) is reported from
 * the typed keys with CMDX_F_FROM_KEYS and the reasons; one typed without
 * echo after a prompt for a secret is reported as CMDX_EV_SECRET_LINE,
 * without its text. What each promise rests on: docs/command-control.md,
 * "What it promises".
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
	CMDX_EV_SECRET_LINE,      /* a line typed without echo after a prompt for a
	                             secret: no text, len is its length in bytes */
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
	/* The text comes from the typed keys, not from the screen: the screen
	 * never showed this line accepted. cmdx_event.reasons says why. */
	CMDX_F_FROM_KEYS = 1 << 4,
};

/* Bits of cmdx_event.reasons: why a line is not known for sure. A line
 * without reasons and with CMDX_F_TYPED_AGREES is confident. */
enum {
	CMDX_R_ALT_SCREEN = 1 << 0, /* typed while the alternate screen was shown */
	CMDX_R_NO_ECHO = 1 << 1,    /* the line never appeared on the screen */
	CMDX_R_NO_EDITOR = 1 << 2,  /* no line editor announced itself for it */
	CMDX_R_SHELL_KEYS = 1 << 3, /* keys only the target interprets (Tab, history, search) */
	CMDX_R_TTY_CHARS = 1 << 4,  /* the terminal's erase/kill/... characters were changed */
	CMDX_R_DIFFER = 1 << 5,     /* screen and typed keys give different texts */
	CMDX_R_PROMPT = 1 << 6,     /* the prompt was not found on screen */
	CMDX_R_SECRET = 1 << 7,     /* typed without echo after a prompt for a secret */
	CMDX_R_CONTINUED = 1 << 8,  /* may continue a line that was not submitted */
};
/* Longest text of cmdx_reasons_text. */
#define CMDX_REASONS_MAX 200

/* Which witness a text offered to a judge comes from. */
enum cmdx_witness {
	CMDX_W_SCREEN = 1, /* the screen: what the operator saw after the prompt */
	CMDX_W_EDITOR,     /* the typed keys through a model of readline */
	CMDX_W_TTY,        /* the typed keys through the terminal's line discipline */
	CMDX_W_GUESS,      /* another plausible reading of the keys (other erase or
	                      kill characters, a line that may not have ended) */
};

struct cmdx_event {
	enum cmdx_event_type type;
	int64_t t_us;     /* COMMAND, SECRET_LINE: time of the Enter; others: output time */
	char *text;       /* COMMAND: command text (not always UTF-8), owned by the event */
	size_t len;       /* length of text in bytes (SECRET_LINE: of the line typed) */
	unsigned flags;   /* CMDX_F_* */
	unsigned reasons; /* CMDX_R_* */
	int64_t tag;      /* the caller's cmdx_tag_line value for this line, else 0 */
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

/* Offset in buf of the first byte that may submit a line, or len if there
 * is none. Does not consume anything. Every CR and LF counts, in whatever
 * state (inside a bracketed paste, after Ctrl-V, inside the alternate
 * screen: the bastion cannot know that the target reads them as the
 * extractor does), and readline's other accept key, Ctrl-O. */
size_t cmdx_input_enter_offset(const struct cmdx *cx, const uint8_t *buf, size_t len);
/* Offer every text the line that the next byte may submit could be to fn,
 * each once, until fn returns non-zero (that value is returned; 0 when fn
 * accepted all). Texts never contain NUL. The screen's text and the keys'
 * come first, then other readings of the keys when the screen does not
 * confirm them: the terminal's line discipline with the special characters
 * seen set by stty and with the defaults, escape sequences dropped, each
 * character of the line taken as the erase, kill or word-erase character,
 * and the line joined with the previous one when that may not have ended
 * (docs/command-control.md). ERR_NOTFOUND when nothing is being typed. */
typedef int (*cmdx_judge_fn)(void *arg, const char *text, size_t len, enum cmdx_witness w);
int cmdx_judge(struct cmdx *cx, cmdx_judge_fn fn, void *arg);
/* 1 when the line being typed looks like a secret: a prompt for one was
 * showing and the screen shows nothing of it. Its texts must then not be
 * stored or audited. */
int cmdx_pending_secret(struct cmdx *cx);
/* Number of bytes typed for the line being typed. */
size_t cmdx_pending_len(const struct cmdx *cx);
/* The byte to send instead of a refused Enter so that the target drops the
 * line: the interrupt character (Ctrl-C, or the one stty set), else the
 * kill character. */
uint8_t cmdx_cancel_key(const struct cmdx *cx);
/* A value given back in the event of the line being typed (cmdctl: the
 * alert rule a secret line matched, since its event has no text). */
void cmdx_tag_line(struct cmdx *cx, int64_t tag);
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

/* Lines submitted and still waiting for the screen to confirm them are
 * reported from their keys once they waited CMDX_CONFIRM_US (call with the
 * current time, every second or so). */
#define CMDX_CONFIRM_US (3 * 1000 * 1000)
void cmdx_tick(struct cmdx *cx, int64_t t_us);
/* The channel ends: report every line still waiting. */
void cmdx_finish(struct cmdx *cx);
/* "alternate screen, not echoed" for reasons bits; "" for none. */
void cmdx_reasons_text(unsigned reasons, char *buf, size_t len);

/* Next event, oldest first: 0 and *ev filled (free with cmdx_event_clear),
 * or ERR_NOTFOUND when there is none. */
int cmdx_next(struct cmdx *cx, struct cmdx_event *ev);
void cmdx_event_clear(struct cmdx_event *ev);

#endif
