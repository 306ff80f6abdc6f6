/* Command audit trail and command control for the proxy (issue 6).
 *
 * exec channels: the command string is logged exactly (source 'exec') and
 * checked against the command rules before the exec request is sent.
 * pty shell channels: both byte streams feed a command extractor
 * (recorder/cmdextract.h); every line the operator submits becomes a
 * `commands` row (source 'screen'; from the typed keys, with the reason,
 * when the screen never showed it), and a byte that may submit a line is
 * held back when any reading of that line matches a block rule: the target
 * gets Ctrl-C instead (the shell abandons the line and prints a fresh
 * prompt) and the operator one line saying why.
 *
 * Rules (`cmdrules`) are read when a channel starts, and again at an Enter
 * of an interactive channel when they are older than 5 s. The first
 * matching rule in (priority, id) order decides. docs/command-control.md has the
 * details and what matching cannot stop. */
#ifndef GH_PROXY_CMDCTL_H
#define GH_PROXY_CMDCTL_H

#include <stddef.h>
#include <stdint.h>

struct chan;
struct conn;
struct cmdctl_chan;

/* A channel opened: the first one remembers the time, the origin of command
 * offsets (the recording starts with the first channel's request, a few
 * milliseconds later, so an offset rounded down lands just before the
 * command in gatehouse-play). */
void cmdctl_session_begin(struct conn *c);

/* An exec channel is about to go to the target: log its command, apply the
 * rules. Returns 0 to go on, 1 when a block rule refused it (msg holds the
 * line for the operator, without the "gatehouse: " prefix). */
int cmdctl_exec(struct chan *ch, char *msg, size_t msglen);

/* A shell or exec channel with a pty is about to start: track its screen
 * (when command tracking is on). No-op for other channels; refuses the
 * channel when the rules cannot be read. */
void cmdctl_shell_start(struct chan *ch);

/* Operator bytes read by the pump, before they are recorded and written to
 * the target. May rewrite buf in place (a blocked Enter becomes Ctrl-C and
 * what followed it is dropped); returns the new length (<= len). */
size_t cmdctl_input(struct chan *ch, char *buf, size_t len);
/* Target bytes read by the pump for the operator. */
void cmdctl_output(struct chan *ch, const char *buf, size_t len);
/* Every pass of the loop: lines the screen never confirmed are logged from
 * their keys once they waited a few seconds. */
void cmdctl_tick(struct chan *ch);
/* The channel ends: log the lines still waiting (before cmdctl_chan_free). */
void cmdctl_close(struct chan *ch);
/* The operator's window changed (ch->cols, ch->rows). */
void cmdctl_resize(struct chan *ch);

void cmdctl_chan_free(struct cmdctl_chan *cc);

#endif
