/* The role shell: what a login without a target gets when it is not an
 * operator asking for the menu (route.c decides). Superadmins and auditors
 * get a prompt in their pty channel (`gatehouse(NAME)> `, line editing,
 * history, tab completion of command names, help, exit); every user can run
 * one command through an exec channel (`ssh NAME@bastion -- user list`),
 * with its exit status. The commands are admin/'s table; its role bits
 * decide who may run what. Every command is an audit event (shell.command).
 *
 * Modes of a channel:
 *   exec          one command, then exit-status and close
 *   shell + pty   the interactive prompt
 *   shell, no pty commands read line by line from the channel (scripts), no prompt
 *
 * Output goes to the channel as the window allows (bounded by what a command
 * printed); with a pty, "\n" becomes "\r\n" and stderr joins stdout. */
#ifndef GH_PROXY_ROLE_SHELL_H
#define GH_PROXY_ROLE_SHELL_H

#include <stddef.h>

struct conn;
struct chan;
struct role_shell;

/* Start the shell on a channel whose shell/exec request arrived. 0, or a
 * negative gh_err (the caller refuses the channel). */
int role_shell_start(struct conn *c, struct chan *ch);
/* Advance: read input, run commands, write output. Ends the channel (exit
 * status, close) through chan_refuse(ch, "", status) when done. Never
 * called from a libssh callback. */
void role_shell_step(struct chan *ch);
void role_shell_free(struct role_shell *sh);

/* For the streaming commands (role-live.c). */
/* Queue bytes for the operator: err selects stderr (without a pty). Text
 * (raw 0) goes through the sanitiser's TEXT profile (controls shown as ^X)
 * and, with a pty, "\n" becomes "\r\n". raw 1 passes the bytes as they
 * are: only the shell's own control sequences, or what a VTSAN_SCREEN
 * sanitiser produced (recorded output, role-live.c). */
void role_shell_put(struct role_shell *sh, int err, int raw, const void *p, size_t n);
/* Bytes queued and not yet accepted by the channel. */
size_t role_shell_pending(const struct role_shell *sh);
/* The channel has a pty (keys arrive raw: q and Ctrl-C end a stream). */
int role_shell_has_pty(const struct role_shell *sh);

#endif
