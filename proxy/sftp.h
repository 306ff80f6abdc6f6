/* SFTP inspection: a pure, incremental parser of both directions of an SFTP
 * (version 3, as OpenSSH speaks it) stream, with the transfer policy.
 *
 * Bytes from each side are fed in any split; whole packets come out on the
 * same side's output queue once inspected. A request the rights do not allow
 * never reaches the output: the inspector answers it itself with
 * SSH_FXP_STATUS SSH_FX_PERMISSION_DENIED for the same request id, queued on
 * the operator-bound output between two complete packets. Operations,
 * transfers and refusals are reported through a callback.
 *
 * Nothing reaches the target untracked: every request that goes out is
 * remembered until its answer (at most SFTP_MAX_PENDING at once; beyond,
 * requests wait in the input and the caller stops reading the operator,
 * see sftp_full); a request reusing the id of an outstanding one fails the
 * stream as a protocol violation (sftp_violation). No I/O, no libssh: unit
 * tested and fuzzed (tests/unit/test_sftp.c, tests/fuzz/fuzz_sftp.c). */
#ifndef GH_PROXY_SFTP_H
#define GH_PROXY_SFTP_H

#include <stddef.h>
#include <stdint.h>

/* Largest packet accepted (length field): OpenSSH's own limit is 256 KiB
 * plus a header; a longer one is a protocol error. */
#define SFTP_MAX_PACKET (256 * 1024 + 1024)
/* Requests awaiting an answer (OpenSSH's client keeps at most 64). */
#define SFTP_MAX_PENDING 4096

enum sftp_dir {
	SFTP_TO_TARGET = 0,   /* requests, from the operator */
	SFTP_TO_OPERATOR = 1, /* replies, from the target */
};

/* What the grant allows on this channel. */
#define SFTP_RIGHT_READ  1u /* download */
#define SFTP_RIGHT_WRITE 2u /* upload */

enum sftp_event_kind {
	SFTP_EV_OP,       /* a request answered by the target (op, path(s), status) */
	SFTP_EV_TRANSFER, /* a file handle closed: bytes each way, SHA-256 */
	SFTP_EV_LISTING,  /* a directory handle closed: entries listed */
	SFTP_EV_DENY,     /* a request refused by the policy (answered by us) */
	SFTP_EV_CONTENT,  /* sequential content of a file handle (for capture) */
};

struct sftp_event {
	enum sftp_event_kind kind;
	const char *op;    /* "open", "remove", "posix-rename@openssh.com" ... */
	const char *path;  /* NULL when the operation has none */
	const char *path2; /* rename/symlink/hardlink target, realpath answer */
	uint32_t pflags;   /* open flags (SSH_FXF_*) */
	uint32_t id;       /* request id */
	uint64_t bytes_read, bytes_written;
	uint64_t entries;    /* listing: names returned */
	const char *sha256;  /* hex; NULL unless the content went sequentially from offset 0 */
	const char *status;  /* "ok", "no such file" ..., "incomplete" (closed without reply) */
	const char *need;    /* deny: "upload", "download", "upload or download" */
	int write;           /* content: 1 = written by the operator, 0 = read */
	const uint8_t *data; /* content chunk */
	size_t len;
	void **handle_ud; /* content/transfer: a slot the caller may use per handle */
};

typedef void (*sftp_event_fn)(void *ud, const struct sftp_event *ev);

struct sftp;

struct sftp *sftp_new(unsigned rights, sftp_event_fn fn, void *ud);
/* Reports the handles still open as transfers with status "incomplete". */
void sftp_free(struct sftp *s);
/* Ask for SFTP_EV_CONTENT events (off by default). */
void sftp_want_content(struct sftp *s, int on);

/* Feed bytes travelling in one direction. Returns 0, or ERR_INVALID on a
 * protocol error (a length beyond SFTP_MAX_PACKET or zero, a request id
 * reused while outstanding, a handle from the target that cannot be
 * followed): the stream cannot be followed any more and the channel must be
 * closed. Requests that find the pending table full stay in the input. */
int sftp_feed(struct sftp *s, enum sftp_dir dir, const void *p, size_t n);
/* Take up the requests that waited for room in the pending table (after
 * answers came back). 0 or as sftp_feed. */
int sftp_resume(struct sftp *s);
/* The pending table is full: do not read more from the operator. */
int sftp_full(const struct sftp *s);
/* Bytes in the operator's input that include a whole request waiting for
 * room (0 when none): an EOF from the operator must wait for them. */
size_t sftp_waiting(const struct sftp *s);
/* The failure is a protocol violation by the operator (a request id reused
 * while outstanding), not a stream the bastion cannot follow. */
int sftp_violation(const struct sftp *s);
/* Inspected bytes waiting to be written toward dir's destination. */
size_t sftp_out_peek(const struct sftp *s, enum sftp_dir dir, const uint8_t **p);
void sftp_out_consume(struct sftp *s, enum sftp_dir dir, size_t n);
/* Bytes fed but not yet a complete packet. */
size_t sftp_partial(const struct sftp *s, enum sftp_dir dir);

/* One line for the log when sftp_feed failed. */
const char *sftp_error(const struct sftp *s);

/* For tests and documentation: the right a request type needs. */
const char *sftp_type_name(uint8_t type);

#endif
