/* The role shell (see role-shell.h).
 *
 * A command runs synchronously inside the connection process, with the
 * same store and master key the process already holds: admin_dispatch()
 * with an admin_ctx whose out/err are memory streams, moved to the channel
 * afterwards as its window allows. A secret prompt (read_secret) is the one
 * place that waits for the operator in the middle of a command: it polls
 * the connection's event itself (callbacks only set flags, so re-entering
 * them is harmless) until a line arrived, bounded by SHELL_SECRET_TIMEOUT.
 * Streaming commands (play, watch) return at once and continue as a job
 * stepped by the loop (role-live.c).
 *
 * Everything the shell sends is either its own control bytes (the line
 * editor's redraw) or goes through the sanitiser (recorder/vtsan.h): text
 * (command results, messages, which may quote what an operator typed or a
 * recording holds) as VTSAN_TEXT, recorded terminal output (play, watch)
 * as VTSAN_SCREEN in role-live.c. */
#include "proxy/role-shell.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "proxy/argv-split.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/role-live.h"
#include "recorder/vtsan.h"

#define SHELL_LINE_MAX       1024
#define SHELL_HIST_MAX       100
#define SHELL_IN_MAX         (16 * 1024)
#define SHELL_OUT_CHUNK      (32 * 1024)
#define SHELL_SECRET_TIMEOUT 120000 /* ms to type a password */
#define SHELL_FLUSH_WAIT     10000  /* ms to deliver the last output before closing */

enum shell_mode { SM_EXEC, SM_TTY, SM_LINES };
enum esc_state { ES_NONE, ES_ESC, ES_CSI };

struct obuf {
	char *p;
	size_t len, off, cap;
};

struct role_shell {
	struct conn *c;
	struct chan *ch;
	enum shell_mode mode;
	struct obuf out, err;
	struct vtsan *text;             /* every text put goes through it */
	unsigned char in[SHELL_IN_MAX]; /* received, not yet consumed */
	size_t inlen;
	int in_eof; /* the operator sent EOF */

	/* line editor (SM_TTY) */
	char line[SHELL_LINE_MAX];
	size_t llen, pos;
	char *hist[SHELL_HIST_MAX];
	size_t nhist, hidx;
	char saved[SHELL_LINE_MAX]; /* the line being typed while browsing history */
	enum esc_state es;
	char csi[8];
	size_t ncsi;
	int redraw;

	/* running */
	struct live_job *job;
	int status;        /* exit status of the last command */
	int finished;      /* exit requested: deliver output, then close */
	int64_t finish_ms; /* when finished was set */
	int dead;          /* writing to the channel failed */
	int started;
};

/* ---- output ----------------------------------------------------------- */

static void
obuf_add(struct role_shell *sh, struct obuf *b, const void *p, size_t n)
{
	char *np;
	size_t cap;

	if (n == 0)
		return;
	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			error("role shell: out of memory for output");
			sh->dead = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Text for the channel; with a pty we are the line discipline (the
 * operator's terminal is raw), and the sanitised text holds no CR. */
static void
obuf_add_lines(struct role_shell *sh, struct obuf *b, const char *s, size_t n)
{
	size_t i, start = 0;

	if (!sh->ch->has_pty) {
		obuf_add(sh, b, s, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '\n') {
			obuf_add(sh, b, s + start, i - start);
			obuf_add(sh, b, "\r\n", 2);
			start = i + 1;
		}
	}
	obuf_add(sh, b, s + start, n - start);
}

void
role_shell_put(struct role_shell *sh, int err, int raw, const void *p, size_t n)
{
	struct obuf *b = (err && !sh->ch->has_pty) ? &sh->err : &sh->out;
	const char *clean;
	size_t len;

	if (raw) {
		obuf_add(sh, b, p, n);
		return;
	}
	/* Text: each put is whole (a character cut at its end shows as
	 * U+FFFD rather than waiting for the next put). */
	if (vtsan_write(sh->text, p, n, &clean, &len) != 0) {
		error("role shell: out of memory for output");
		sh->dead = 1;
		return;
	}
	obuf_add_lines(sh, b, clean, len);
	if (vtsan_finish(sh->text, &clean, &len) != 0) {
		sh->dead = 1;
		return;
	}
	obuf_add_lines(sh, b, clean, len);
}

static void
put_str(struct role_shell *sh, const char *s)
{
	role_shell_put(sh, 0, 0, s, strlen(s));
}

static void __attribute__((format(printf, 3, 4))) put_fmt(struct role_shell *sh, int err, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		role_shell_put(sh, err, 0, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

size_t
role_shell_pending(const struct role_shell *sh)
{
	return (sh->out.len - sh->out.off) + (sh->err.len - sh->err.off);
}

int
role_shell_has_pty(const struct role_shell *sh)
{
	return sh->ch->has_pty;
}

static void
flush_one(struct role_shell *sh, struct obuf *b, int err)
{
	ssh_channel down = sh->ch->down;

	while (!sh->dead && b->off < b->len) {
		uint32_t win = ssh_channel_window_size(down);
		size_t n = b->len - b->off;
		int w;

		if (win == 0)
			return; /* never wait for a window inside the loop */
		if (n > win)
			n = win;
		if (n > SHELL_OUT_CHUNK)
			n = SHELL_OUT_CHUNK;
		w = err ? ssh_channel_write_stderr(down, b->p + b->off, (uint32_t)n)
		        : ssh_channel_write(down, b->p + b->off, (uint32_t)n);
		if (w < 0) {
			sh->dead = 1;
			return;
		}
		if (w == 0)
			return;
		b->off += (size_t)w;
	}
}

static void
flush(struct role_shell *sh)
{
	if (sh->ch->down_dead || sh->ch->down_close_rcvd) {
		sh->dead = 1;
		return;
	}
	flush_one(sh, &sh->out, 0);
	flush_one(sh, &sh->err, 1);
}

/* ---- input ------------------------------------------------------------ */

static void
read_input(struct role_shell *sh)
{
	struct chan *ch = sh->ch;
	int n;

	while (ch->down_rx && sh->inlen < sizeof(sh->in)) {
		n = ssh_channel_read_nonblocking(ch->down, sh->in + sh->inlen, (uint32_t)(sizeof(sh->in) - sh->inlen),
		                                 0);
		if (n <= 0) {
			ch->down_rx = 0;
			if (n == SSH_ERROR)
				sh->dead = 1;
			break;
		}
		sh->inlen += (size_t)n;
		sh->c->last_activity_ms = time_mono_ms();
	}
	if (ch->down_eof_rcvd && !ch->down_rx)
		sh->in_eof = 1;
}

static void
consume(struct role_shell *sh, size_t n)
{
	if (n > sh->inlen)
		n = sh->inlen;
	memmove(sh->in, sh->in + n, sh->inlen - n);
	/* Wipe the tail: a password may have passed through here. */
	explicit_bzero(sh->in + sh->inlen - n, n);
	sh->inlen -= n;
}

/* ---- secrets ---------------------------------------------------------- */

/* Move what the command printed so far to the channel queue (before a
 * prompt), keeping the streams open. */
struct memout {
	FILE *f;
	char *buf;
	size_t size, taken;
};

struct run_state {
	struct role_shell *sh;
	struct memout out, err;
};

static void
take_mem(struct role_shell *sh, struct memout *m, int err)
{
	if (m->f == NULL)
		return;
	fflush(m->f);
	if (m->size > m->taken) {
		role_shell_put(sh, err, 0, m->buf + m->taken, m->size - m->taken);
		m->taken = m->size;
	}
}

/* One line typed without echo: from the pty (Enter ends it, Backspace and
 * Ctrl-U edit, Ctrl-C cancels) or, without a pty, one line of the channel's
 * input ("\n" ends it; the input's end ends a last line). */
static int
read_line_secret(struct role_shell *sh, char *buf, size_t len)
{
	int64_t deadline = time_mono_ms() + SHELL_SECRET_TIMEOUT;
	size_t n = 0, i;
	int r = ERR_INVALID;

	buf[0] = '\0';
	for (;;) {
		flush(sh);
		read_input(sh);
		for (i = 0; i < sh->inlen; i++) {
			unsigned char b = sh->in[i];

			if (b == '\r' || b == '\n') {
				consume(sh, i + 1);
				/* "\r\n" from a pasted line: the "\n" is not an empty next answer */
				if (b == '\r' && sh->inlen > 0 && sh->in[0] == '\n')
					consume(sh, 1);
				r = n > 0 ? 0 : ERR_INVALID;
				goto out;
			}
			if (sh->ch->has_pty && b == 0x03) {
				consume(sh, i + 1);
				r = ERR_INVALID;
				goto out;
			}
			if (sh->ch->has_pty && (b == 0x7f || b == 0x08)) {
				if (n > 0)
					n--;
				continue;
			}
			if (sh->ch->has_pty && b == 0x15) {
				n = 0;
				continue;
			}
			if (n + 1 >= len) {
				consume(sh, i + 1);
				r = ERR_FULL;
				goto out;
			}
			buf[n++] = (char)b;
			buf[n] = '\0';
		}
		consume(sh, sh->inlen);
		if (sh->in_eof) {
			r = n > 0 ? 0 : ERR_INVALID;
			goto out;
		}
		if (sh->dead || sh->ch->down_close_rcvd || conn_got_term || time_mono_ms() > deadline) {
			r = ERR_TIMEOUT;
			goto out;
		}
		if (ssh_event_dopoll(sh->c->ev, 100) == SSH_ERROR && ssh_get_status(sh->c->srv) & SSH_CLOSED_ERROR) {
			r = ERR_IO;
			goto out;
		}
	}
out:
	buf[n < len ? n : len - 1] = '\0';
	if (r != 0)
		explicit_bzero(buf, len);
	if (sh->ch->has_pty)
		put_str(sh, "\n");
	flush(sh);
	return r;
}

static int
shell_read_secret(struct admin_ctx *ctx, const char *prompt, char *buf, size_t len)
{
	struct run_state *rs = ctx->shell;
	struct role_shell *sh = rs->sh;
	char *again = NULL;
	int r;

	take_mem(sh, &rs->out, 0);
	take_mem(sh, &rs->err, 1);
	/* Without a pty the prompt goes to stderr: stdout stays the result. */
	role_shell_put(sh, 1, 0, prompt, strlen(prompt));
	if ((r = read_line_secret(sh, buf, len)) != 0 || !sh->ch->has_pty)
		return r;
	/* A person typing blind: ask twice. */
	if ((again = malloc(len)) == NULL) {
		explicit_bzero(buf, len);
		return ERR_NOMEM;
	}
	put_str(sh, "Retype: ");
	r = read_line_secret(sh, again, len);
	if (r == 0 && strcmp(buf, again) != 0) {
		put_fmt(sh, 1, "gatehouse: the two entries differ\n");
		r = ERR_POLICY;
	}
	explicit_bzero(again, len);
	free(again);
	if (r != 0)
		explicit_bzero(buf, len);
	return r;
}

static int
shell_run_live(struct admin_ctx *ctx, const char *what, int argc, char **argv)
{
	struct run_state *rs = ctx->shell;

	return live_start(ctx, rs->sh, what, argc, argv, &rs->sh->job);
}

/* ---- commands --------------------------------------------------------- */

/* Options the role shell refuses. A file option would make the bastion read
 * one of its own files (the master key, another user's data) for a remote
 * user; a secret option would carry a secret on the command line (the
 * client's process list, this shell's audit event). getopt accepts
 * unambiguous prefixes, so prefixes count too ("--pub"). */
enum refused_opt { RO_NONE, RO_FILE, RO_SECRET };

static enum refused_opt
refused_kind(const char *arg)
{
	static const struct {
		const char *name;
		enum refused_opt kind;
	} opts[] = {{"pubkey", RO_FILE},
	            {"key", RO_FILE},
	            {"hostkey", RO_FILE},
	            {"file", RO_FILE},
	            {"totp-secret", RO_SECRET}};
	size_t n;

	if (strncmp(arg, "--", 2) != 0 || strcmp(arg, "--") == 0)
		return RO_NONE;
	arg += 2;
	n = strcspn(arg, "=");
	if (n == 0 || (n == 4 && strncmp(arg, "host", 4) == 0))
		return RO_NONE;
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
		if (n <= strlen(opts[k].name) && strncmp(arg, opts[k].name, n) == 0)
			return opts[k].kind;
	return RO_NONE;
}

static int
refused_option(int argc, char **argv, enum refused_opt *kind)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if ((*kind = refused_kind(argv[i])) != RO_NONE)
			return i;
	return -1;
}

static void
audit_command(struct role_shell *sh, int argc, char **argv, const char *error_text, int status)
{
	struct conn *c = sh->c;
	json_t *j = json_object(), *av = json_array();
	char object[160], *detail = NULL;
	const char *result;

	/* Defence in depth: a secret option is refused before it runs, and its
	 * value never reaches the trail either. */
	for (int i = 0; i < argc; i++) {
		enum refused_opt k = refused_kind(argv[i]);

		if (k == RO_SECRET && strchr(argv[i], '=') != NULL) {
			json_array_append_new(av, json_string("--totp-secret=(redacted)"));
		} else {
			json_array_append_new(av, json_string(argv[i]));
			if (k == RO_SECRET && i + 1 < argc) {
				json_array_append_new(av, json_string("(redacted)"));
				i++;
			}
		}
	}
	json_object_set_new(j, "argv", av);
	json_object_set_new(j, "channel", json_string(sh->mode == SM_EXEC ? "exec" : "shell"));
	json_object_set_new(j, "role", json_string(user_role_name(c->user->role)));
	if (error_text != NULL)
		json_object_set_new(j, "error", json_string(error_text));
	if (sh->job == NULL)
		json_object_set_new(j, "exit", json_integer(status));
	detail = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (argc >= 2 && argv[1][0] != '-')
		snprintf(object, sizeof(object), "command:%s %s", argv[0], argv[1]);
	else
		snprintf(object, sizeof(object), "command:%s", argc > 0 ? argv[0] : "-");
	result = sh->job != NULL ? "started" : status == 0 ? "ok" : status == ADMIN_EXIT_USAGE ? "usage" : "fail";
	conn_audit(c, c->user->name, "shell.command", object, result, status == 0 ? AUDIT_INFO : AUDIT_NOTICE, detail);
	free(detail);
}

static void
init_ctx(struct role_shell *sh, struct admin_ctx *ctx, struct run_state *rs)
{
	struct conn *c = sh->c;

	memset(ctx, 0, sizeof(*ctx));
	ctx->data_dir = c->datadir;
	ctx->st = c->st;
	ctx->cfg = *c->cfg; /* a copy of the daemon's; cfg_loaded 0: not freed here */
	ctx->key = conn_master_key(c);
	ctx->actor = c->user->name;
	ctx->source = c->source;
	ctx->role = c->user->role;
	ctx->prog = "gatehouse";
	ctx->read_secret = shell_read_secret;
	ctx->interactive_secrets = 1;
	ctx->shell = rs;
	ctx->shell_run = shell_run_live;
	ctx->out = rs->out.f;
	ctx->err = rs->err.f;
}

/* Whether the role may run this table entry (the same rule as the dispatcher). */
static int
cmd_allowed(const struct role_shell *sh, const struct admin_cmd *cmd)
{
	return (cmd->roles & ADMIN_ROLE_BIT(sh->c->user->role)) != 0;
}

static void
print_help(struct role_shell *sh)
{
	put_fmt(sh, 0, "Gatehouse role shell, %s (%s). Commands:\n", sh->c->user->name,
	        user_role_name(sh->c->user->role));
	for (size_t i = 0; i < admin_commands_count; i++) {
		const struct admin_cmd *cmd = &admin_commands[i];

		if (cmd_allowed(sh, cmd))
			put_fmt(sh, 0, "  %-20s %s\n", cmd->name, cmd->summary);
	}
	put_str(sh, "  help                 this list (COMMAND --help for a command's options)\n");
	if (sh->mode != SM_EXEC)
		put_str(sh, "  exit, quit           leave (Ctrl-D on an empty line too)\n");
	put_str(sh, "Arguments are split at spaces; quote with '...' or \"...\" (no shell: $, ;, | are plain text).\n"
	            "Secrets are asked for without echo, never given as arguments.\n");
}

/* The user record is read again for every command, as route.c does for
 * every channel: a lock, a removal or a role change applies at once, not at
 * the next login. */
static int
user_still_allowed(struct role_shell *sh)
{
	struct user_rec *u = NULL;
	int ok;

	if (store_user_get_by_id(sh->c->st, sh->c->user->id, &u) != 0)
		return 0;
	ok = !u->locked && u->removed == 0 && u->locked_until <= time_now() && u->role == sh->c->user->role;
	user_rec_free(u);
	return ok;
}

/* Run one command line; returns the exit status (a job may still run). */
static int
run_line(struct role_shell *sh, const char *line, size_t len)
{
	struct argv_split a;
	struct admin_ctx ctx;
	struct run_state rs;
	char why[160];
	enum refused_opt kind = RO_NONE;
	int status, bad;

	memset(&rs, 0, sizeof(rs));
	rs.sh = sh;
	if (argv_split(line, len, &a, why, sizeof(why)) != 0) {
		put_fmt(sh, 1, "gatehouse: invalid command line: %s\n", why);
		audit_command(sh, 0, NULL, why, ADMIN_EXIT_USAGE);
		return ADMIN_EXIT_USAGE;
	}
	if (a.argc == 0) {
		argv_split_free(&a);
		if (sh->mode != SM_EXEC)
			return 0;
		put_fmt(sh, 1, "gatehouse: no command given (try help)\n");
		return ADMIN_EXIT_USAGE;
	}
	if (strcmp(a.argv[0], "help") == 0 || strcmp(a.argv[0], "--help") == 0 || strcmp(a.argv[0], "?") == 0) {
		print_help(sh);
		argv_split_free(&a);
		return 0;
	}
	if (a.argc == 1 &&
	    (strcmp(a.argv[0], "exit") == 0 || strcmp(a.argv[0], "quit") == 0 || strcmp(a.argv[0], "logout") == 0)) {
		/* At the prompt, leaving is not a failure; a script (no pty)
		 * ends with the status of its last command. */
		sh->finished = 1;
		argv_split_free(&a);
		return sh->mode == SM_TTY ? 0 : sh->status;
	}
	if (strcmp(a.argv[0], "init") == 0) {
		put_fmt(sh, 1, "gatehouse: 'init' runs only locally on the bastion (gatehouse-admin init)\n");
		audit_command(sh, a.argc, a.argv, "init is local only", ADMIN_EXIT_FAIL);
		argv_split_free(&a);
		return ADMIN_EXIT_FAIL;
	}
	if ((bad = refused_option(a.argc, a.argv, &kind)) >= 0) {
		char opt[64];

		snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(a.argv[bad], "="), a.argv[bad]);
		if (kind == RO_FILE)
			put_fmt(sh, 1,
			        "gatehouse: %s names a file on the bastion, which the role shell does not read; use "
			        "--hostkey-scan/--scan, or gatehouse-admin on the bastion\n",
			        opt);
		else
			put_fmt(sh, 1,
			        "gatehouse: %s would put a secret on the command line; the user enrols TOTP at the "
			        "first login (or use gatehouse-admin on the bastion)\n",
			        opt);
		audit_command(sh, a.argc, a.argv, kind == RO_FILE ? "file option refused" : "secret option refused",
		              ADMIN_EXIT_USAGE);
		argv_split_free(&a);
		return ADMIN_EXIT_USAGE;
	}
	if (!user_still_allowed(sh)) {
		put_fmt(sh, 1, "gatehouse: your account is locked, removed or changed role; the shell ends\n");
		audit_command(sh, a.argc, a.argv, "account no longer allowed", ADMIN_EXIT_FAIL);
		sh->finished = 1;
		argv_split_free(&a);
		return ADMIN_EXIT_FAIL;
	}
	rs.out.f = open_memstream(&rs.out.buf, &rs.out.size);
	rs.err.f = open_memstream(&rs.err.buf, &rs.err.size);
	if (rs.out.f == NULL || rs.err.f == NULL) {
		put_fmt(sh, 1, "gatehouse: out of memory\n");
		status = ADMIN_EXIT_FAIL;
		goto out;
	}
	init_ctx(sh, &ctx, &rs);
	status = admin_dispatch(&ctx, a.argc, a.argv);
	admin_ctx_release(&ctx);
	take_mem(sh, &rs.out, 0);
	take_mem(sh, &rs.err, 1);
	audit_command(sh, a.argc, a.argv, NULL, status);
	if (status == ADMIN_EXIT_USAGE && sh->c->user->role == ROLE_OPERATOR)
		put_fmt(sh, 1, "gatehouse: to run a command on a server, connect as %s@LOGIN@ASSET@bastion\n",
		        sh->c->user->name);
out:
	if (rs.out.f != NULL)
		fclose(rs.out.f);
	if (rs.err.f != NULL)
		fclose(rs.err.f);
	free(rs.out.buf);
	free(rs.err.buf);
	argv_split_free(&a);
	return status;
}

/* ---- the line editor (pty) ------------------------------------------- */

static void
prompt(struct role_shell *sh)
{
	put_fmt(sh, 0, "gatehouse(%s)> ", sh->c->user->name);
	sh->llen = sh->pos = 0;
	sh->line[0] = '\0';
	sh->hidx = sh->nhist;
	sh->redraw = 0;
}

static void
redraw(struct role_shell *sh)
{
	char mv[32];

	role_shell_put(sh, 0, 1, "\r", 1);
	put_fmt(sh, 0, "gatehouse(%s)> ", sh->c->user->name);
	role_shell_put(sh, 0, 1, sh->line, sh->llen);
	role_shell_put(sh, 0, 1, "\x1b[K", 3);
	if (sh->pos < sh->llen) {
		snprintf(mv, sizeof(mv), "\x1b[%zuD", sh->llen - sh->pos);
		role_shell_put(sh, 0, 1, mv, strlen(mv));
	}
	sh->redraw = 0;
}

static void
set_line(struct role_shell *sh, const char *s)
{
	snprintf(sh->line, sizeof(sh->line), "%s", s);
	sh->llen = sh->pos = strlen(sh->line);
	sh->redraw = 1;
}

static void
insert(struct role_shell *sh, const char *s, size_t n)
{
	if (sh->llen + n >= sizeof(sh->line))
		n = sizeof(sh->line) - 1 - sh->llen;
	memmove(sh->line + sh->pos + n, sh->line + sh->pos, sh->llen - sh->pos);
	memcpy(sh->line + sh->pos, s, n);
	sh->llen += n;
	sh->pos += n;
	sh->line[sh->llen] = '\0';
	sh->redraw = 1;
}

static void
delete_range(struct role_shell *sh, size_t from, size_t to)
{
	if (from >= to || to > sh->llen)
		return;
	memmove(sh->line + from, sh->line + to, sh->llen - to);
	sh->llen -= to - from;
	sh->line[sh->llen] = '\0';
	if (sh->pos > to)
		sh->pos -= to - from;
	else if (sh->pos > from)
		sh->pos = from;
	sh->redraw = 1;
}

static void
history_add(struct role_shell *sh, const char *s)
{
	if (s[0] == '\0' || (sh->nhist > 0 && strcmp(sh->hist[sh->nhist - 1], s) == 0))
		return;
	if (sh->nhist == SHELL_HIST_MAX) {
		free(sh->hist[0]);
		memmove(sh->hist, sh->hist + 1, (SHELL_HIST_MAX - 1) * sizeof(*sh->hist));
		sh->nhist--;
	}
	if ((sh->hist[sh->nhist] = strdup(s)) != NULL)
		sh->nhist++;
}

static void
history_move(struct role_shell *sh, int delta)
{
	if (delta < 0 && sh->hidx > 0) {
		if (sh->hidx == sh->nhist)
			snprintf(sh->saved, sizeof(sh->saved), "%s", sh->line);
		sh->hidx--;
		set_line(sh, sh->hist[sh->hidx]);
	} else if (delta > 0 && sh->hidx < sh->nhist) {
		sh->hidx++;
		set_line(sh, sh->hidx == sh->nhist ? sh->saved : sh->hist[sh->hidx]);
	}
}

/* Candidate words: the role's command names and the built-ins. */
static const char *const builtins[] = {"help", "exit", "quit"};

/* Tab: complete the line up to the cursor against command names, one word
 * at a time; several candidates complete their common prefix, and a second
 * Tab with nothing to add lists them. */
static void
complete(struct role_shell *sh)
{
	char pre[SHELL_LINE_MAX], common[SHELL_LINE_MAX] = "", word[SHELL_LINE_MAX];
	const char *names[128];
	size_t nn = 0, plen, ncand = 0;

	if (sh->pos != sh->llen)
		return;
	snprintf(pre, sizeof(pre), "%.*s", (int)sh->pos, sh->line);
	/* leading spaces are not part of a name */
	plen = strlen(pre);
	for (size_t i = 0; i < admin_commands_count && nn < 120; i++)
		if (cmd_allowed(sh, &admin_commands[i]) && strcmp(admin_commands[i].name, "init") != 0)
			names[nn++] = admin_commands[i].name;
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		names[nn++] = builtins[i];
	for (size_t i = 0; i < nn; i++) {
		size_t end;

		if (strncmp(names[i], pre, plen) != 0 || strlen(names[i]) < plen)
			continue;
		/* the candidate up to the end of the word the cursor is in */
		end = plen + strcspn(names[i] + plen, " ");
		snprintf(word, sizeof(word), "%.*s%s", (int)end, names[i],
		         names[i][end] == ' ' || names[i][end] == '\0' ? " " : "");
		if (ncand++ == 0) {
			snprintf(common, sizeof(common), "%s", word);
		} else {
			size_t k = 0;

			while (common[k] != '\0' && common[k] == word[k])
				k++;
			common[k] = '\0';
		}
	}
	if (ncand == 0)
		return;
	if (strlen(common) > plen) {
		insert(sh, common + plen, strlen(common) - plen);
		return;
	}
	/* nothing to add: list what could follow */
	put_str(sh, "\n");
	for (size_t i = 0; i < nn; i++)
		if (strncmp(names[i], pre, plen) == 0)
			put_fmt(sh, 0, "  %s\n", names[i]);
	sh->redraw = 1;
}

static void
submit(struct role_shell *sh)
{
	char copy[SHELL_LINE_MAX];

	snprintf(copy, sizeof(copy), "%s", sh->line);
	put_str(sh, "\n");
	history_add(sh, copy);
	sh->status = run_line(sh, copy, strlen(copy));
	explicit_bzero(copy, sizeof(copy));
	if (!sh->finished && sh->job == NULL)
		prompt(sh);
	else
		sh->llen = sh->pos = 0;
}

static size_t
word_start(const struct role_shell *sh)
{
	size_t p = sh->pos;

	while (p > 0 && sh->line[p - 1] == ' ')
		p--;
	while (p > 0 && sh->line[p - 1] != ' ')
		p--;
	return p;
}

static void
csi_key(struct role_shell *sh, char final)
{
	switch (final) {
	case 'A': history_move(sh, -1); break;
	case 'B': history_move(sh, 1); break;
	case 'C':
		if (sh->pos < sh->llen) {
			sh->pos++;
			sh->redraw = 1;
		}
		break;
	case 'D':
		if (sh->pos > 0) {
			sh->pos--;
			sh->redraw = 1;
		}
		break;
	case 'H':
		sh->pos = 0;
		sh->redraw = 1;
		break;
	case 'F':
		sh->pos = sh->llen;
		sh->redraw = 1;
		break;
	case '~':
		if (strcmp(sh->csi, "3") == 0)
			delete_range(sh, sh->pos, sh->pos + 1);
		else if (strcmp(sh->csi, "1") == 0 || strcmp(sh->csi, "7") == 0)
			sh->pos = 0;
		else if (strcmp(sh->csi, "4") == 0 || strcmp(sh->csi, "8") == 0)
			sh->pos = sh->llen;
		sh->redraw = 1;
		break;
	default: break;
	}
}

/* One key byte at the prompt. Returns 2 for Enter (the caller submits once
 * the bytes up to here are consumed: a secret prompt reads what follows), 1
 * when the shell is to end, else 0. */
static int
key(struct role_shell *sh, unsigned char b)
{
	if (sh->es == ES_ESC) {
		sh->es = (b == '[' || b == 'O') ? ES_CSI : ES_NONE;
		sh->ncsi = 0;
		sh->csi[0] = '\0';
		return 0;
	}
	if (sh->es == ES_CSI) {
		if (b >= 0x40 && b <= 0x7e) {
			sh->es = ES_NONE;
			csi_key(sh, (char)b);
		} else if (sh->ncsi + 1 < sizeof(sh->csi)) {
			sh->csi[sh->ncsi++] = (char)b;
			sh->csi[sh->ncsi] = '\0';
		}
		return 0;
	}
	switch (b) {
	case 0x1b: sh->es = ES_ESC; return 0;
	case '\r':
	case '\n': return 2; /* the caller consumes the line's bytes, then submits */
	case 0x01:
		sh->pos = 0;
		sh->redraw = 1;
		return 0; /* ^A */
	case 0x05:
		sh->pos = sh->llen;
		sh->redraw = 1;
		return 0;                                               /* ^E */
	case 0x02: csi_key(sh, 'D'); return 0;                          /* ^B */
	case 0x06: csi_key(sh, 'C'); return 0;                          /* ^F */
	case 0x10: history_move(sh, -1); return 0;                      /* ^P */
	case 0x0e: history_move(sh, 1); return 0;                       /* ^N */
	case 0x0b: delete_range(sh, sh->pos, sh->llen); return 0;       /* ^K */
	case 0x15: delete_range(sh, 0, sh->pos); return 0;              /* ^U */
	case 0x17: delete_range(sh, word_start(sh), sh->pos); return 0; /* ^W */
	case 0x7f:
	case 0x08:
		if (sh->pos > 0)
			delete_range(sh, sh->pos - 1, sh->pos);
		return 0;
	case 0x03: /* ^C: drop the line */
		put_str(sh, "^C\n");
		prompt(sh);
		return 0;
	case 0x04: /* ^D: leave on an empty line, else delete under the cursor */
		if (sh->llen == 0) {
			put_str(sh, "\n");
			sh->status = 0;
			sh->finished = 1;
			return 1;
		}
		delete_range(sh, sh->pos, sh->pos + 1);
		return 0;
	case 0x0c:
		role_shell_put(sh, 0, 1, "\x1b[H\x1b[2J", 7);
		sh->redraw = 1;
		return 0; /* ^L */
	case '\t': complete(sh); return 0;
	default: break;
	}
	/* Printable ASCII only: the cursor arithmetic counts bytes. */
	if (b >= 0x20 && b < 0x7f) {
		char ch = (char)b;

		insert(sh, &ch, 1);
	}
	return 0;
}

/* ---- life ------------------------------------------------------------- */

int
role_shell_start(struct conn *c, struct chan *ch)
{
	struct role_shell *sh = calloc(1, sizeof(*sh));

	if (sh == NULL || (sh->text = vtsan_new(VTSAN_TEXT)) == NULL) {
		free(sh);
		return ERR_NOMEM;
	}
	sh->c = c;
	sh->ch = ch;
	if (ch->kind == CK_EXEC)
		sh->mode = SM_EXEC;
	else if (ch->has_pty)
		sh->mode = SM_TTY;
	else
		sh->mode = SM_LINES;
	ch->shell = sh;
	info("role shell (%s) for %s (%s)",
	     sh->mode == SM_EXEC  ? "exec"
	     : sh->mode == SM_TTY ? "pty"
	                          : "lines",
	     c->user->name, user_role_name(c->user->role));
	return 0;
}

void
role_shell_free(struct role_shell *sh)
{
	if (sh == NULL)
		return;
	live_free(sh->job);
	for (size_t i = 0; i < sh->nhist; i++)
		free(sh->hist[i]);
	explicit_bzero(sh->in, sizeof(sh->in));
	explicit_bzero(sh->line, sizeof(sh->line));
	free(sh->out.p);
	free(sh->err.p);
	vtsan_free(sh->text);
	free(sh);
}

static void
finish(struct role_shell *sh)
{
	if (!sh->finished) {
		sh->finished = 1;
	}
	if (sh->finish_ms == 0)
		sh->finish_ms = time_mono_ms();
}

/* Lines from a channel without a pty: each "\n"-terminated line is a
 * command (a last line without "\n" runs at EOF). */
static void
step_lines(struct role_shell *sh)
{
	while (!sh->finished && sh->job == NULL && role_shell_pending(sh) < 256 * 1024) {
		unsigned char *nl = memchr(sh->in, '\n', sh->inlen);
		size_t n;

		if (nl == NULL) {
			if (sh->inlen == sizeof(sh->in)) {
				put_fmt(sh, 1, "gatehouse: line too long\n");
				sh->status = ADMIN_EXIT_USAGE;
				consume(sh, sh->inlen);
			}
			if (sh->in_eof) {
				if (sh->inlen > 0) {
					char last[SHELL_IN_MAX + 1];

					n = sh->inlen;
					memcpy(last, sh->in, n);
					consume(sh, n);
					sh->status = run_line(sh, last, n);
					if (sh->job != NULL)
						return;
				}
				finish(sh);
			}
			return;
		}
		{
			char l[SHELL_IN_MAX + 1];

			n = (size_t)(nl - sh->in);
			memcpy(l, sh->in, n);
			if (n > 0 && l[n - 1] == '\r')
				n--;
			consume(sh, (size_t)(nl - sh->in) + 1);
			sh->status = run_line(sh, l, n);
			explicit_bzero(l, n);
		}
	}
}

static void
step_job(struct role_shell *sh)
{
	int st = 0;
	size_t nkeys = 0;

	/* Keys matter only with a pty (q, Ctrl-C); without one the stream ends
	 * when the channel closes. */
	if (sh->ch->has_pty) {
		nkeys = sh->inlen;
	}
	sh->c->last_activity_ms = time_mono_ms(); /* watching is activity */
	if (live_step(sh->job, sh, sh->in, nkeys, &st)) {
		live_free(sh->job);
		sh->job = NULL;
		sh->status = st;
		if (sh->mode == SM_EXEC)
			finish(sh);
		else if (sh->mode == SM_TTY && !sh->finished)
			prompt(sh);
	}
	if (nkeys > 0)
		consume(sh, nkeys);
	else if (!sh->ch->has_pty)
		consume(sh, sh->inlen); /* input without a pty is ignored during a stream */
}

void
role_shell_step(struct chan *ch)
{
	struct role_shell *sh = ch->shell;
	size_t i;

	if (sh == NULL) {
		chan_refuse(ch, "internal error", 1);
		return;
	}
	if (!sh->started) {
		sh->started = 1;
		if (sh->mode == SM_EXEC) {
			sh->status = run_line(sh, ch->command, strlen(ch->command));
			if (sh->job == NULL)
				finish(sh);
		} else if (sh->mode == SM_TTY) {
			put_fmt(sh, 0, "Gatehouse role shell for %s (%s). Type 'help' for the commands.\n",
			        sh->c->user->name, user_role_name(sh->c->user->role));
			prompt(sh);
		}
	}
	read_input(sh);
	if (sh->job != NULL && !sh->finished)
		step_job(sh);
	else if (sh->mode == SM_TTY && !sh->finished) {
		int k = 0;

		for (i = 0; i < sh->inlen && k == 0; i++)
			k = key(sh, sh->in[i]);
		consume(sh, i);
		if (k == 2)
			submit(sh);
		if (sh->redraw && !sh->finished && sh->job == NULL)
			redraw(sh);
		if (sh->in_eof && sh->inlen == 0)
			finish(sh);
	} else if (sh->mode == SM_LINES && !sh->finished) {
		step_lines(sh);
	} else if (sh->mode == SM_EXEC && sh->inlen > 0 && sh->job == NULL) {
		consume(sh, sh->inlen); /* nobody reads it */
	}
	if (sh->finished && sh->finish_ms == 0)
		sh->finish_ms = time_mono_ms();
	flush(sh);
	if (sh->dead) {
		chan_refuse(ch, "", sh->status);
		return;
	}
	if (sh->finished && (role_shell_pending(sh) == 0 || time_mono_ms() - sh->finish_ms > SHELL_FLUSH_WAIT))
		chan_refuse(ch, "", sh->status);
	/* Poll again at once only when there is something to do now: keys
	 * left after a command (a pasted batch), or output the window takes.
	 * Output waiting for a window waits for the peer's WINDOW_ADJUST. */
	ch->more_pending = (sh->inlen > 0 && sh->job == NULL && !sh->finished && role_shell_pending(sh) < 256 * 1024) ||
	                   (role_shell_pending(sh) > 0 && ssh_channel_window_size(ch->down) > 0);
}
