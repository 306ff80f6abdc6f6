/* Legacy SCP (rcp) protocol observer: a pure, incremental parser of the
 * stream a `scp -t` (sink) or `scp -f` (source) process exchanges, to report
 * each file (name, size, mode, directory path) and directory. It only
 * watches: bytes are relayed unchanged. No I/O (tests/unit/test_scp.c,
 * tests/fuzz/fuzz_scp.c).
 *
 * The stream that carries the files is the operator's input for `scp -t`
 * (upload) and the target's output for `scp -f` (download); the other
 * direction only carries acknowledgements and is not parsed. Lines:
 *   Cmmmm <size> <name>\n  a file follows: size bytes, then one '\0'
 *   Dmmmm 0 <name>\n       enter a directory      E\n   leave it
 *   T<mtime> 0 <atime> 0\n times for the next C/D   \001msg\n \002msg\n  warning/error */
#ifndef GH_PROXY_SCP_H
#define GH_PROXY_SCP_H

#include <stddef.h>
#include <stdint.h>

#define SCP_MAX_LINE  4096 /* a control line longer than this is a protocol error */
#define SCP_MAX_DEPTH 64   /* nested directories */

enum scp_event_kind {
	SCP_EV_FILE, /* a file's data ended (complete or not) */
	SCP_EV_DIR,  /* a directory was entered */
	SCP_EV_ERROR /* a \001/\002 message line from the data side */
};

struct scp_event {
	enum scp_event_kind kind;
	const char *path;    /* directory prefix + name, '/'-joined */
	const char *name;    /* as sent */
	uint32_t mode;       /* octal mode from the line */
	uint64_t size;       /* announced size */
	uint64_t bytes;      /* data bytes seen */
	const char *sha256;  /* hex SHA-256 of the data, NULL when incomplete */
	int complete;        /* all bytes and the terminating '\0' seen */
	const char *message; /* SCP_EV_ERROR */
};

typedef void (*scp_event_fn)(void *ud, const struct scp_event *ev);

struct scp;

struct scp *scp_new(scp_event_fn fn, void *ud);
/* Reports a file still in progress as incomplete. */
void scp_free(struct scp *s);
/* Feed bytes of the data-carrying direction. Returns 0, or ERR_INVALID once
 * the stream is not SCP (it is then ignored: scp_feed keeps returning it). */
int scp_feed(struct scp *s, const void *p, size_t n);
const char *scp_error(const struct scp *s);

#endif
