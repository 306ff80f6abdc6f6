/* Recognition of the transfer commands a transfer-only grant may run: the
 * server side of OpenSSH's legacy scp (`scp -t` / `scp -f`) and of rsync
 * over a remote shell (`rsync --server [--sender] ...`), exactly as their
 * clients send them. Everything else is a command and needs the exec right.
 *
 * The command string is run by the target login's shell, so a command is
 * a transfer only when that shell can do nothing but start the real tool
 * with options the allow-lists below know:
 *
 *   - the string starts with "scp " or "rsync " (no path, no wrapper, no
 *     variable assignment: PATH is the target login's own);
 *   - no character a POSIX shell would act on outside single quotes
 *     (; & | < > ( ) $ ` * ? [ ] { } ~ # ! ^ and newlines);
 *   - scp: option words made of the letters v r p d t f, exactly one of t
 *     and f, an optional "--", then at least one path; no word that starts
 *     with '-' after the first path unless "--" came before it;
 *   - rsync: "--server", then "--sender" for a download, then the short
 *     option string rsync's client builds (letters checked one by one; the
 *     "e" in it starts the client's capability flags, not --rsh), then long
 *     options from a table, per direction, then ".", then at least one path
 *     that does not start with '-' (rsync's option parser reads options
 *     after the "." too).
 *
 * Pure (no I/O): unit tested by tests/unit/test_scp.c, fuzzed by
 * tests/fuzz/fuzz_scp.c. See docs/file-transfer.md. */
#ifndef GH_PROXY_XFER_CMD_H
#define GH_PROXY_XFER_CMD_H

#include <stddef.h>

/* What an exec command is, for the transfer rights (detection only: the
 * command string is forwarded unchanged). */
enum xfer_exec_kind {
	XE_NONE,          /* not a transfer: needs the exec right */
	XE_SCP_UPLOAD,    /* scp -t PATH */
	XE_SCP_DOWNLOAD,  /* scp -f PATH */
	XE_RSYNC_UPLOAD,  /* rsync --server ... (no --sender) */
	XE_RSYNC_DOWNLOAD /* rsync --server --sender ... */
};

/* Classify an exec command. The path arguments are copied to paths (space
 * separated, may be truncated; "" when not a transfer). When the command
 * names scp or rsync but is not a plain transfer, why says what was not
 * recognised (for the refusal message); otherwise why is "". paths and why
 * may be NULL. */
enum xfer_exec_kind xfer_exec_classify(const char *command, char *paths, size_t pathslen, char *why, size_t whylen);

#endif
