/* gatehouse-play: replay, export, verify and describe session recordings.
 * The logic is in player/play.c; this is option parsing, the database
 * lookup and the audit event (who looked at what).
 *
 * What reaches the viewer's terminal is the sanitiser's (recorder/vtsan.h):
 * the reports (--info, --verify, --print-commands) always go through its
 * TEXT profile, wherever they are written; the output stream (--export raw,
 * or no terminal to play in) goes through its SCREEN profile when standard
 * output is a terminal, and is left as recorded for a file or a pipe;
 * asciicast is data for other players, written as recorded, in plain ASCII
 * (\uXXXX escapes) when standard output is a terminal. Playing in a
 * terminal draws from the emulator's screen (player/tty.c). */
#include <getopt.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/actor.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/store.h"
#include "player/play.h"
#include "recorder/vtsan.h"

#define DEFAULT_DATA_DIR "/var/lib/gatehouse"

static void
usage(FILE *f)
{
	fprintf(f, "usage: gatehouse-play [-d DIR] SESSION [--channel N] [--from TIME] [--to TIME]\n"
	           "                      [--max-idle SECONDS] [--verify] [--info]\n"
	           "                      [--export asciicast|raw] [-o FILE]\n"
	           "\n"
	           "SESSION is a session id or UUID (looked up in DIR/gatehouse.db) or the path\n"
	           "of a .ghrec file. TIME is seconds, M:SS, H:MM:SS from the start, or ISO 8601;\n"
	           "a fraction of a second is allowed (1:33.250, as --print-commands prints).\n"
	           "In a terminal it plays with the original timing; keys: space pause,\n"
	           "+/- speed, left/right 10 s, [ ] previous/next command, g go to time, q quit.\n"
	           "Otherwise, without --export, --verify or --info, the channel's output is\n"
	           "written to standard output. See docs/replay.md.\n"
	           "\n"
	           "  -d DIR              data directory (default $GATEHOUSE_DIR or " DEFAULT_DATA_DIR ")\n"
	           "  --channel N         the channel to play (default: the first terminal)\n"
	           "  --speed X           playback speed, 0.0625 to 64\n"
	           "  --from/--to TIME    the range to play or export\n"
	           "  --max-idle SECONDS  cap pauses\n"
	           "  --follow            a live session: continue until it ends\n"
	           "  --verify            check the integrity chain against the database\n"
	           "  --info              metadata, channels, sizes, end reason\n"
	           "  --export asciicast|raw  asciicast v2, or the channel's byte stream\n"
	           "  -o FILE             write to FILE (never overwritten)\n"
	           "  --print-commands    the commands, with their times\n");
}

/* The viewer's terminal while playing: raw keys, alternate screen; put
 * back on every way out, signals included. */
static struct termios saved_tio;
static int tio_saved;

static void
tty_restore(void)
{
	static const char leave[] = "\033[0m\033[?25h\033[?1049l";

	if (!tio_saved)
		return;
	(void)!write(STDOUT_FILENO, leave, sizeof(leave) - 1);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_saved = 0;
}

static void
on_signal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
tty_enter(void)
{
	static const char enter[] = "\033[?1049h\033[?25l";
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
		return ERR_IO;
	raw = saved_tio;
	cfmakeraw(&raw); /* Ctrl-C arrives as a key: 'q' and Ctrl-C quit */
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) != 0)
		return ERR_IO;
	tio_saved = 1;
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGQUIT, on_signal);
	(void)!write(STDOUT_FILENO, enter, sizeof(enter) - 1);
	return 0;
}

static void
tty_size(void *arg, int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static int
audit(struct store *st, const char *actor, const char *type, int64_t id, const char *result, enum audit_importance imp)
{
	char object[48];
	struct audit_event ev = {
	        .actor = actor,
	        .source = "cli",
	        .type = type,
	        .object = object,
	        .result = result,
	        .importance = imp,
	};

	snprintf(object, sizeof(object), "session:%lld", (long long)id);
	if (audit_append(st, &ev, NULL) != 0) {
		fprintf(stderr, "gatehouse-play: cannot write the audit event; nothing is shown\n");
		return ERR_DB;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	        {"dir", required_argument, NULL, 'd'},    {"channel", required_argument, NULL, 'c'},
	        {"speed", required_argument, NULL, 's'},  {"from", required_argument, NULL, 'F'},
	        {"to", required_argument, NULL, 'T'},     {"max-idle", required_argument, NULL, 'm'},
	        {"follow", no_argument, NULL, 'f'},       {"verify", no_argument, NULL, 'V'},
	        {"info", no_argument, NULL, 'i'},         {"export", required_argument, NULL, 'e'},
	        {"output", required_argument, NULL, 'o'}, {"print-commands", no_argument, NULL, 'p'},
	        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *dir = getenv("GATEHOUSE_DIR"), *from = NULL, *to = NULL, *export = NULL, *outpath = NULL;
	struct play_session *s = NULL;
	struct play_range rg = {.channel = -1};
	struct store *st = NULL;
	struct stat sb;
	FILE *out = stdout, *shown = NULL;
	char *dbpath = NULL, *actor = NULL;
	int c, verify = 0, info = 0, follow = 0, commands = 0, r, rc = 1;
	double speed = 1.0;
	uint64_t start_us = 0;
	const char *type = "session.play";

	log_init("gatehouse-play", 1, LOG_LEVEL_INFO);
	if (dir == NULL || dir[0] == '\0')
		dir = DEFAULT_DATA_DIR;
	while ((c = getopt_long(argc, argv, "d:o:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'c': rg.channel = strtoll(optarg, NULL, 10); break;
		case 's':
			speed = strtod(optarg, NULL);
			if (!(speed >= 1.0 / 16 && speed <= 64)) {
				fprintf(stderr, "gatehouse-play: --speed takes 0.0625 to 64\n");
				return 2;
			}
			break;
		case 'F': from = optarg; break;
		case 'T': to = optarg; break;
		case 'm': rg.max_idle = strtod(optarg, NULL); break;
		case 'f': follow = 1; break;
		case 'V': verify = 1; break;
		case 'i': info = 1; break;
		case 'e': export = optarg; break;
		case 'o': outpath = optarg; break;
		case 'p': commands = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "gatehouse-play: one SESSION is needed\n");
		usage(stderr);
		return 2;
	}
	if (export != NULL && strcmp(export, "raw") != 0 && strcmp(export, "asciicast") != 0) {
		fprintf(stderr, "gatehouse-play: --export takes asciicast or raw\n");
		return 2;
	}
	if ((actor = actor_local()) == NULL)
		goto out;
	/* A path to a recording, or a session in the database. */
	if (strchr(argv[optind], '/') != NULL || (stat(argv[optind], &sb) == 0 && S_ISREG(sb.st_mode))) {
		r = play_session_from_path(argv[optind], &s);
	} else {
		if (asprintf(&dbpath, "%s/gatehouse.db", dir) < 0) {
			dbpath = NULL;
			goto out;
		}
		if ((r = store_open(dbpath, 0, &st)) != 0) {
			fprintf(stderr, "gatehouse-play: cannot open %s: %s\n", dbpath, gh_strerror(r));
			goto out;
		}
		r = play_session_lookup(st, dir, argv[optind], &s);
	}
	if (r != 0) {
		fprintf(stderr, "gatehouse-play: session '%s' not found\n", argv[optind]);
		goto out;
	}
	if ((from != NULL || to != NULL) && play_start_us(s, &start_us) != 0) {
		fprintf(stderr, "gatehouse-play: cannot read %s\n", s->path);
		goto out;
	}
	if (from != NULL && play_parse_time(from, start_us, &rg.from_us) != 0) {
		fprintf(stderr, "gatehouse-play: bad time '%s'\n", from);
		rc = 2;
		goto out;
	}
	if (to != NULL && play_parse_time(to, start_us, &rg.to_us) != 0) {
		fprintf(stderr, "gatehouse-play: bad time '%s'\n", to);
		rc = 2;
		goto out;
	}
	if (outpath != NULL && (out = fopen(outpath, "wx")) == NULL) {
		fprintf(stderr, "gatehouse-play: cannot create %s\n", outpath);
		out = stdout;
		goto out;
	}
	rg.follow = follow;
	if (export != NULL)
		type = "session.export";
	else if (verify)
		type = "session.verify";
	else if (info || commands)
		type = "session.info";
	/* Who looked at what is written before anything is shown (and
	 * nothing is shown if it cannot be written); a verification is
	 * written after, with its result. */
	if (!verify && st != NULL && audit(st, actor, type, s->id, "ok", AUDIT_INFO) != 0)
		goto out;
	/* Text reports: sanitised wherever they go (a file is read in a
	 * terminal later). The output stream: sanitised for a terminal only. */
	if (verify || info || commands)
		shown = vtsan_fopen(out, VTSAN_TEXT);
	else if (out == stdout && isatty(STDOUT_FILENO) && (export == NULL || strcmp(export, "raw") == 0) &&
	         !(export == NULL && isatty(STDIN_FILENO)))
		shown = vtsan_fopen(out, VTSAN_SCREEN);
	else
		shown = out;
	if (shown == NULL) {
		fprintf(stderr, "gatehouse-play: out of memory\n");
		shown = out;
		goto out;
	}
	rg.ascii_json = out == stdout && isatty(STDOUT_FILENO);
	if (verify) {
		r = play_verify(s, shown);
	} else if (info) {
		r = play_info(s, shown);
	} else if (commands) {
		r = play_print_commands(s, shown);
	} else if (export != NULL) {
		r = play_export(s, strcmp(export, "raw") == 0 ? PLAY_EXPORT_RAW : PLAY_EXPORT_ASCIICAST, &rg, shown);
	} else if (out == stdout && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		struct play_tty_io io = {.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .size = tty_size};

		if ((r = tty_enter()) == 0) {
			r = play_tty(s, &rg, speed, &io);
			tty_restore();
		}
	} else {
		/* not a terminal to play in: the output stream, like cat */
		r = play_export(s, PLAY_EXPORT_RAW, &rg, shown);
	}
	/* finishing the sanitiser puts the display back (SCREEN) */
	if (shown != out && fclose(shown) != 0 && r == 0)
		r = ERR_IO;
	shown = out;
	if (r != 0 && !verify)
		fprintf(stderr, "gatehouse-play: %s\n", gh_strerror(r));
	rc = r == 0 ? 0 : 1;
	if (verify && st != NULL &&
	    audit(st, actor, type, s->id, r == 0 ? "ok" : "fail", r == ERR_TAMPER ? AUDIT_HIGH : AUDIT_INFO) != 0)
		rc = 1;
out:
	if (shown != NULL && shown != out)
		fclose(shown);
	if (out != stdout && fclose(out) != 0)
		rc = 1;
	play_session_free(s);
	store_close(st);
	free(dbpath);
	free(actor);
	return rc;
}
