/* Session lookup, metadata, verification and export (see play.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/err.h"
#include "common/seal.h"
#include "common/store.h"
#include "common/timeutil.h"
#include "player/play.h"
#include "player/play-int.h"
#include "recorder/vtsan.h"

static char *
dup_col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? strdup((const char *)t) : NULL;
}

void
play_session_free(struct play_session *s)
{
	if (s == NULL)
		return;
	free(s->uuid);
	free(s->path);
	free(s->user);
	free(s->source);
	free(s->asset);
	free(s->login);
	free(s->end_reason);
	free(s->index);
	free(s);
}

int
play_session_from_path(const char *path, struct play_session **out)
{
	struct play_session *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		play_session_free(s);
		return ERR_NOMEM;
	}
	*out = s;
	return 0;
}

int
play_session_lookup(struct store *st, const char *data_dir, const char *name, struct play_session **out)
{
	sqlite3_stmt *q = NULL;
	struct play_session *s = NULL;
	const char *head, *rec;
	char *end = NULL;
	long long id;
	int rc, r = ERR_INTERNAL;

	*out = NULL;
	id = strtoll(name, &end, 10);
	if (end == name || *end != '\0')
		id = -1;
	rc = sqlite3_prepare_v2(store_db(st),
	                        "SELECT id, uuid, user, source_addr || ':' || source_port, asset, login, start, end,"
	                        " end_reason, recording, rec_frames, rec_head, rec_index FROM sessions"
	                        " WHERE id = ?1 OR uuid = ?2",
	                        -1, &q, NULL);
	if (rc != SQLITE_OK)
		return ERR_DB;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		r = ERR_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = ERR_DB;
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	s->id = sqlite3_column_int64(q, 0);
	s->uuid = dup_col(q, 1);
	s->user = dup_col(q, 2);
	s->source = dup_col(q, 3);
	s->asset = dup_col(q, 4);
	s->login = dup_col(q, 5);
	s->start = sqlite3_column_int64(q, 6);
	s->end = sqlite3_column_int64(q, 7);
	s->end_reason = dup_col(q, 8);
	rec = (const char *)sqlite3_column_text(q, 9);
	s->frames = (uint64_t)sqlite3_column_int64(q, 10);
	head = (const char *)sqlite3_column_text(q, 11);
	if (head != NULL && rec_hash_parse(head, s->head) == 0)
		s->has_head = 1;
	if (sqlite3_column_bytes(q, 12) > 0 &&
	    rec_index_decode(sqlite3_column_blob(q, 12), (size_t)sqlite3_column_bytes(q, 12), &s->index, &s->nindex) !=
	            0) {
		r = ERR_INVALID;
		goto out;
	}
	/* The canonical place first; the row's path for a moved data dir. */
	if (s->uuid != NULL && asprintf(&s->path, "%s/recordings/%s.ghrec", data_dir, s->uuid) < 0) {
		s->path = NULL;
		r = ERR_NOMEM;
		goto out;
	}
	if ((s->path == NULL || access(s->path, F_OK) != 0) && rec != NULL) {
		free(s->path);
		if (rec[0] == '/')
			s->path = strdup(rec);
		else if (asprintf(&s->path, "%s/%s", data_dir, rec) < 0)
			s->path = NULL;
		if (s->path == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
	}
	if (s->path == NULL) {
		r = ERR_NOTFOUND;
		goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	sqlite3_finalize(q);
	play_session_free(s);
	return r;
}

/* ---- channels ------------------------------------------------------------ */

static struct chan_info *
chan_get(struct scan *sc, uint32_t num)
{
	struct chan_info *v;

	for (size_t i = 0; i < sc->n; i++)
		if (sc->v[i].num == num)
			return &sc->v[i];
	if ((v = realloc(sc->v, (sc->n + 1) * sizeof(*v))) == NULL)
		return NULL;
	sc->v = v;
	memset(&v[sc->n], 0, sizeof(v[0]));
	v[sc->n].num = num;
	return &v[sc->n++];
}

void
scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->ncmds; i++)
		free(sc->cmds[i].text);
	free(sc->cmds);
	for (size_t i = 0; i < sc->n; i++)
		free(sc->v[i].command);
	free(sc->v);
	json_decref(sc->header);
}

static int
add_cmd(struct scan *sc, uint64_t t, uint32_t ch, const char *text, size_t len)
{
	struct cmd_entry *v;

	if (sc->ncmds % 64 == 0) {
		if ((v = realloc(sc->cmds, (sc->ncmds + 64) * sizeof(*v))) == NULL)
			return ERR_NOMEM;
		sc->cmds = v;
	}
	if ((sc->cmds[sc->ncmds].text = strndup(text, len)) == NULL)
		return ERR_NOMEM;
	sc->cmds[sc->ncmds].time_us = t;
	sc->cmds[sc->ncmds].channel = ch;
	sc->ncmds++;
	return 0;
}

/* Operator keys of a terminal channel: a line per Enter. */
static int
input_keys(struct scan *sc, struct chan_info *c, uint64_t t, const uint8_t *p, size_t len)
{
	int r = 0;

	for (size_t i = 0; i < len && r == 0; i++) {
		uint8_t b = p[i];

		if (c->in_esc) {
			if (c->in_esc == 1 && b != '[' && b != 'O')
				c->in_esc = 0;
			else if (c->in_esc == 2 && b >= 0x40 && b <= 0x7e)
				c->in_esc = 0;
			else
				c->in_esc = 2;
			continue;
		}
		if (b == 0x1b) {
			c->in_esc = 1;
		} else if (b == '\r' || b == '\n') {
			if (c->nline > 0)
				r = add_cmd(sc, t, c->num, c->line, c->nline);
			c->nline = 0;
		} else if (b == 0x7f || b == 0x08) {
			while (c->nline > 0 && (c->line[c->nline - 1] & 0xc0) == 0x80)
				c->nline--; /* a whole UTF-8 character */
			if (c->nline > 0)
				c->nline--;
		} else if (b == 0x15 || b == 0x03) {
			c->nline = 0; /* Ctrl-U, Ctrl-C */
		} else if ((b >= 0x20 || b == '\t') && c->nline < sizeof(c->line)) {
			c->line[c->nline++] = (char)b;
		}
	}
	return r;
}

int
scan_recording(const char *path, struct scan *sc)
{
	struct rec_reader *r = NULL;
	struct rec_reader_info info;
	struct rec_record rec;
	int n, rc = ERR_INTERNAL;

	memset(sc, 0, sizeof(*sc));
	if ((rc = rec_reader_open(path, &r)) != 0)
		return rc;
	while ((n = rec_reader_next(r, &rec)) == 1) {
		struct chan_info *c;
		json_t *j;

		if (sc->first_us == 0)
			sc->first_us = rec.time_us;
		sc->last_us = rec.time_us;
		if (rec.type == REC_HEADER) {
			sc->header = json_loadb((const char *)rec.data, rec.len, 0, NULL);
			continue;
		}
		if (rec.type == REC_END) {
			snprintf(sc->end_reason, sizeof(sc->end_reason), "%.*s", (int)(rec.len < 100 ? rec.len : 100),
			         (const char *)rec.data);
			continue;
		}
		if (rec.channel == 0)
			continue;
		if ((c = chan_get(sc, rec.channel)) == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
		switch (rec.type) {
		case REC_CHANNEL_OPEN:
			if ((j = json_loadb((const char *)rec.data, rec.len, 0, NULL)) != NULL) {
				const char *t = json_string_value(json_object_get(j, "type"));
				const char *cmd = json_string_value(json_object_get(j, "command"));

				if (cmd == NULL)
					cmd = json_string_value(json_object_get(j, "subsystem"));
				snprintf(c->type, sizeof(c->type), "%s", t != NULL ? t : "?");
				if (cmd != NULL && c->command == NULL)
					c->command = strdup(cmd);
				if (cmd != NULL && t != NULL && strcmp(t, "exec") == 0 &&
				    (rc = add_cmd(sc, rec.time_us, c->num, cmd, strlen(cmd))) != 0) {
					json_decref(j);
					goto out;
				}
				json_decref(j);
			}
			break;
		case REC_PTY:
			c->pty = 1;
			if ((j = json_loadb((const char *)rec.data, rec.len, 0, NULL)) != NULL) {
				c->cols = (int)json_integer_value(json_object_get(j, "cols"));
				c->rows = (int)json_integer_value(json_object_get(j, "rows"));
				json_decref(j);
			}
			break;
		case REC_RESIZE: c->resizes++; break;
		case REC_DATA_OUT:
		case REC_DATA_ERR: c->out_bytes += rec.len; break;
		case REC_DATA_IN:
			c->in_bytes += rec.len;
			if (c->pty && (rc = input_keys(sc, c, rec.time_us, rec.data, rec.len)) != 0)
				goto out;
			break;
		case REC_INPUT_REDACTED:
			c->redacted += (uint64_t)rec.data[0] << 24 | (uint64_t)rec.data[1] << 16 |
			               (uint64_t)rec.data[2] << 8 | rec.data[3];
			if (c->pty && c->nline + 10 <= sizeof(c->line)) {
				memcpy(c->line + c->nline, "[redacted]", 10);
				c->nline += 10;
			}
			break;
		case REC_INPUT_SEALED:
			/* Typed without echo after a prompt for a secret: only an
			 * auditor's `gatehouse-admin reveal` opens it; the player
			 * shows its length. */
			if (rec.len >= SEAL_OVERHEAD) {
				char tag[48];
				int tl = snprintf(tag, sizeof(tag), "[sealed: %zu bytes]", rec.len - SEAL_OVERHEAD);
				c->sealed += rec.len - SEAL_OVERHEAD;
				if (c->pty && tl > 0 && c->nline + (size_t)tl <= sizeof(c->line)) {
					memcpy(c->line + c->nline, tag, (size_t)tl);
					c->nline += (size_t)tl;
				}
			}
			break;
		case REC_EXIT_STATUS:
			c->has_exit = 1;
			c->exit_status = (uint32_t)rec.data[0] << 24 | (uint32_t)rec.data[1] << 16 |
			                 (uint32_t)rec.data[2] << 8 | rec.data[3];
			break;
		default: break;
		}
	}
	rec_reader_get_info(r, &info);
	sc->ended = info.ended;
	sc->torn = info.torn;
	rc = n < 0 ? n : 0;
out:
	rec_reader_free(r);
	return rc;
}

const char *
str_or(const char *a, const char *b)
{
	return a != NULL ? a : b != NULL ? b : "-";
}

/* "Label: value" with the value through LINE. */
static int
print_field(FILE *out, const char *label, const char *value)
{
	char *clean = vtsan_string(VTSAN_LINE, value, strlen(value));

	if (clean == NULL)
		return ERR_NOMEM;
	fprintf(out, "%s%s\n", label, clean);
	free(clean);
	return 0;
}

int
play_info(const struct play_session *s, FILE *out)
{
	struct scan sc;
	char t1[40], t2[40];
	uint64_t dur;
	int r;

	if ((r = scan_recording(s->path, &sc)) != 0) {
		scan_free(&sc);
		return r;
	}
	json_t *h = sc.header;
	if ((r = print_field(
	             out, "Session:     ", str_or(s->uuid, json_string_value(json_object_get(h, "session"))))) != 0 ||
	    (r = print_field(out, "User:        ", str_or(s->user, json_string_value(json_object_get(h, "user"))))) !=
	            0 ||
	    (r = print_field(
	             out, "Source:      ", str_or(s->source, json_string_value(json_object_get(h, "source"))))) != 0 ||
	    (r = print_field(out, "Asset:       ", str_or(s->asset, json_string_value(json_object_get(h, "asset"))))) !=
	            0 ||
	    (r = print_field(out, "Login:       ", str_or(s->login, json_string_value(json_object_get(h, "login"))))) !=
	            0) {
		scan_free(&sc);
		return r;
	}
	time_format_iso((int64_t)(sc.first_us / 1000000), t1, sizeof(t1));
	time_format_iso((int64_t)(sc.last_us / 1000000), t2, sizeof(t2));
	dur = sc.last_us - sc.first_us;
	fprintf(out, "Start:       %s\n", t1);
	fprintf(out, "End:         %s%s\n", t2,
	        sc.ended  ? ""
	        : sc.torn ? " (torn: live or crashed)"
	                  : " (no end record)");
	fprintf(out, "Duration:    %llu:%02llu:%02llu\n", (unsigned long long)(dur / 3600000000u),
	        (unsigned long long)(dur / 60000000u % 60), (unsigned long long)(dur / 1000000u % 60));
	if ((r = print_field(out, "End reason:  ", str_or(s->end_reason, sc.end_reason[0] ? sc.end_reason : NULL))) !=
	            0 ||
	    (r = print_field(out, "Recording:   ", s->path)) != 0) {
		scan_free(&sc);
		return r;
	}
	fprintf(out, "Channels:\n");
	for (size_t i = 0; i < sc.n && r == 0; i++) {
		const struct chan_info *c = &sc.v[i];
		char *type = vtsan_string(VTSAN_LINE, c->type[0] ? c->type : "?", strlen(c->type[0] ? c->type : "?"));
		char *cmd = c->command != NULL ? vtsan_string(VTSAN_LINE, c->command, strlen(c->command)) : NULL;

		if (type == NULL || (c->command != NULL && cmd == NULL)) {
			free(type);
			free(cmd);
			r = ERR_NOMEM;
			break;
		}
		fprintf(out, "  %u %s", c->num, type);
		if (c->pty)
			fprintf(out, " pty %dx%d resizes %d", c->cols, c->rows, c->resizes);
		fprintf(out, " out %llu in %llu", (unsigned long long)c->out_bytes, (unsigned long long)c->in_bytes);
		if (c->redacted)
			fprintf(out, " redacted %llu", (unsigned long long)c->redacted);
		if (c->sealed)
			fprintf(out, " sealed %llu", (unsigned long long)c->sealed);
		if (c->has_exit)
			fprintf(out, " exit %u", c->exit_status);
		if (cmd != NULL)
			fprintf(out, " command %s", cmd);
		fputc('\n', out);
		free(type);
		free(cmd);
	}
	scan_free(&sc);
	return r;
}

int
play_verify(const struct play_session *s, FILE *out)
{
	struct rec_reader *r = NULL;
	struct rec_reader_info info;
	int64_t bad = -1;
	char hex[65];
	int rc;

	if ((rc = rec_reader_open(s->path, &r)) != 0) {
		fprintf(out, "FAILED: not a readable recording (%s)\n", gh_strerror(rc));
		return rc == ERR_INVALID ? ERR_TAMPER : rc;
	}
	rc = rec_reader_verify(r, s->has_head ? s->head : NULL, s->has_head ? s->frames : 0, s->index, s->nindex, &bad);
	rec_reader_get_info(r, &info);
	if (rc == 0 || (rc == ERR_NOTFOUND && !s->has_head && s->id == 0)) {
		rec_hash_hex(info.head, hex);
		fprintf(out, "OK: %llu frames, chain head %s%s%s\n", (unsigned long long)info.frames, hex,
		        s->has_head ? ", matches the database" : "", info.torn ? " (torn tail)" : "");
		rc = 0;
	} else if (rc == ERR_NOTFOUND) {
		fprintf(out, "FAILED: nothing to verify against (no trailer and no chain head in the database)%s\n",
		        info.torn ? "; torn tail" : "");
		rc = ERR_TAMPER;
	} else if (bad >= 0) {
		fprintf(out, "FAILED: first bad frame %lld%s\n", (long long)bad, info.torn ? " (torn tail)" : "");
		rc = ERR_TAMPER;
	} else {
		fprintf(out, "FAILED: %s%s\n", rc == ERR_TAMPER ? "chain head or frame count differs" : gh_strerror(rc),
		        info.torn ? " (torn tail)" : "");
		rc = ERR_TAMPER;
	}
	rec_reader_free(r);
	return rc;
}

/* ---- export ---------------------------------------------------------------- */

/* Output as JSON strings must be UTF-8: complete sequences are kept, an
 * incomplete tail waits for the next record, invalid bytes become U+FFFD. */
struct u8carry {
	uint8_t b[4];
	size_t n;
};

static size_t
utf8_len(uint8_t c)
{
	return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
}

static int
clean_utf8(struct u8carry *cy, const uint8_t *p, size_t len, char **outp, size_t *outlen)
{
	uint8_t *buf = malloc((cy->n + len) * 3 + 4), *w, *in = NULL;
	size_t i = 0, n;

	if (buf == NULL || (in = malloc(cy->n + len + 1)) == NULL) {
		free(buf);
		return ERR_NOMEM;
	}
	memcpy(in, cy->b, cy->n);
	memcpy(in + cy->n, p, len);
	n = cy->n + len;
	cy->n = 0;
	w = buf;
	while (i < n) {
		size_t l = utf8_len(in[i]), k;
		int ok = l > 0;

		if (ok && i + l > n) {
			for (k = 1; k < n - i; k++)
				if ((in[i + k] & 0xc0) != 0x80)
					break;
			if (k == n - i) {
				memcpy(cy->b, in + i, n - i);
				cy->n = n - i;
				break;
			}
			ok = 0;
		}
		for (k = 1; ok && k < l; k++)
			if ((in[i + k] & 0xc0) != 0x80)
				ok = 0;
		if (ok && l > 1) {
			uint32_t cp = in[i] & (0x7f >> l);

			for (k = 1; k < l; k++)
				cp = cp << 6 | (in[i + k] & 0x3f);
			if ((l == 2 && cp < 0x80) || (l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) ||
			    cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
				ok = 0;
		}
		if (!ok) {
			memcpy(w, "\xef\xbf\xbd", 3);
			w += 3;
			i++;
			continue;
		}
		memcpy(w, in + i, l);
		w += l;
		i += l;
	}
	free(in);
	*outp = (char *)buf;
	*outlen = (size_t)(w - buf);
	return 0;
}

int
pick_channel(const struct scan *sc, int64_t want, uint32_t *ch, int *cols, int *rows)
{
	for (size_t i = 0; i < sc->n; i++) {
		const struct chan_info *c = &sc->v[i];

		if (want >= 0 ? c->num == (uint64_t)want : c->pty) {
			*ch = c->num;
			*cols = c->cols > 0 ? c->cols : 80;
			*rows = c->rows > 0 ? c->rows : 24;
			return 0;
		}
	}
	if (want >= 0)
		return ERR_NOTFOUND;
	for (size_t i = 0; i < sc->n; i++)
		if (sc->v[i].out_bytes > 0) {
			*ch = sc->v[i].num;
			*cols = 80;
			*rows = 24;
			return 0;
		}
	return ERR_NOTFOUND;
}

/* One JSON line. ascii: every non-ASCII character escaped by jansson, and
 * DEL (which jansson leaves as it is) as \u007f: the same data, in plain
 * ASCII text. */
static int
emit_json(FILE *out, json_t *v, size_t flags, int ascii)
{
	char *s = v != NULL ? json_dumps(v, flags | (ascii ? JSON_ENSURE_ASCII : 0)) : NULL;

	if (s == NULL)
		return ERR_NOMEM;
	for (const char *p = s; *p != '\0'; p++) {
		if (ascii && *p == 0x7f)
			fputs("\\u007f", out);
		else
			fputc(*p, out);
	}
	fputc('\n', out);
	free(s);
	return 0;
}

static int
emit_event(FILE *out, double t, const char *code, const char *data, size_t len, int ascii)
{
	json_t *a = json_pack("[f,s,s#]", t, code, data, len);
	int r = emit_json(out, a, JSON_COMPACT | JSON_REAL_PRECISION(9), ascii);

	json_decref(a);
	return r;
}

int
play_export(const struct play_session *s, enum play_export how, const struct play_range *rg, FILE *out)
{
	struct scan sc;
	struct rec_reader *r = NULL;
	struct rec_record rec;
	struct u8carry co = {.n = 0}, ci = {.n = 0};
	uint32_t ch = 0;
	int cols = 80, rows = 24, n, rc = ERR_INTERNAL;
	double t_out = 0, last = 0;
	uint64_t prev_us = 0;

	for (;;) {
		if ((rc = scan_recording(s->path, &sc)) != 0)
			goto out;
		rc = pick_channel(&sc, rg->channel, &ch, &cols, &rows);
		if (rc == 0 || !rg->follow || sc.ended)
			break;
		/* a live session whose channel is not open yet */
		scan_free(&sc);
		usleep(200000);
	}
	if (rc != 0)
		goto out;
	if (how == PLAY_EXPORT_ASCIICAST) {
		json_t *h = json_pack("{s:i,s:i,s:i,s:I,s:s++}", "version", 2, "width", cols, "height", rows,
		                      "timestamp", (json_int_t)(sc.first_us / 1000000), "title",
		                      str_or(s->user, json_string_value(json_object_get(sc.header, "user"))), "@",
		                      str_or(s->asset, json_string_value(json_object_get(sc.header, "asset"))));
		rc = emit_json(out, h, JSON_COMPACT, rg->ascii_json);
		json_decref(h);
		if (rc != 0)
			goto out;
	}
	if ((rc = rec_reader_open(s->path, &r)) != 0)
		goto out;
	if (rg->from_us > 0 && (rc = rec_reader_seek_time(r, sc.first_us + rg->from_us)) != 0)
		goto out;
	for (;;) {
		uint64_t off;

		n = rec_reader_next(r, &rec);
		if (n == 0 && rg->follow) {
			struct rec_reader_info info;
			int grew = 0;

			rec_reader_get_info(r, &info);
			if (!info.ended) {
				/* Live: wait for the writer (it flushes every second). */
				if (fflush(out) != 0) {
					rc = ERR_IO;
					goto out;
				}
				usleep(200000);
				if ((rc = rec_reader_refresh(r, &grew)) != 0)
					goto out;
				continue;
			}
		}
		if (n != 1)
			break;
		off = rec.time_us - sc.first_us;
		char *txt = NULL;
		size_t tl = 0;

		if (rec.channel != ch || off < rg->from_us)
			continue;
		if (rg->to_us > 0 && off > rg->to_us)
			break;
		if (how == PLAY_EXPORT_RAW) {
			if ((rec.type == REC_DATA_OUT || rec.type == REC_DATA_ERR) &&
			    fwrite(rec.data, 1, rec.len, out) != rec.len) {
				rc = ERR_IO;
				goto out;
			}
			continue;
		}
		/* asciicast: time from the start (or --from), pauses capped */
		{
			double d = prev_us ? (double)(rec.time_us - prev_us) / 1e6 : (double)(off - rg->from_us) / 1e6;

			if (rg->max_idle > 0 && d > rg->max_idle)
				d = rg->max_idle;
			if (rec.type == REC_DATA_OUT || rec.type == REC_DATA_ERR || rec.type == REC_DATA_IN ||
			    rec.type == REC_RESIZE) {
				t_out += d;
				prev_us = rec.time_us;
			}
		}
		if (t_out < last)
			t_out = last;
		last = t_out;
		if (rec.type == REC_DATA_OUT || rec.type == REC_DATA_ERR || rec.type == REC_DATA_IN) {
			int in = rec.type == REC_DATA_IN;

			if ((rc = clean_utf8(in ? &ci : &co, rec.data, rec.len, &txt, &tl)) != 0)
				goto out;
			rc = tl > 0 ? emit_event(out, t_out, in ? "i" : "o", txt, tl, rg->ascii_json) : 0;
			free(txt);
			if (rc != 0)
				goto out;
		} else if (rec.type == REC_RESIZE && rec.len == 4) {
			char sz[32];

			snprintf(sz, sizeof(sz), "%ux%u", (unsigned)(rec.data[0] << 8 | rec.data[1]),
			         (unsigned)(rec.data[2] << 8 | rec.data[3]));
			if ((rc = emit_event(out, t_out, "r", sz, strlen(sz), rg->ascii_json)) != 0)
				goto out;
		}
	}
	rc = n < 0 ? n : 0;
	if (fflush(out) != 0 || ferror(out))
		rc = ERR_IO;
out:
	rec_reader_free(r);
	scan_free(&sc);
	return rc;
}

int
play_start_us(const struct play_session *s, uint64_t *start_us)
{
	struct rec_reader *r = NULL;
	struct rec_record rec;
	int n;

	*start_us = 0;
	if ((n = rec_reader_open(s->path, &r)) != 0)
		return n;
	n = rec_reader_next(r, &rec);
	if (n == 1)
		*start_us = rec.time_us;
	rec_reader_free(r);
	return n == 1 ? 0 : n < 0 ? n : ERR_INVALID;
}

int
play_print_commands(const struct play_session *s, FILE *out)
{
	struct scan sc;
	int r;

	if ((r = scan_recording(s->path, &sc)) == 0) {
		for (size_t i = 0; i < sc.ncmds && r == 0; i++) {
			uint64_t off = sc.cmds[i].time_us - sc.first_us;
			char *text = vtsan_string(VTSAN_LINE, sc.cmds[i].text, strlen(sc.cmds[i].text));

			if (text == NULL) {
				r = ERR_NOMEM;
				break;
			}
			fprintf(out, "%02llu:%02llu:%02llu.%03llu  %u  %s\n", (unsigned long long)(off / 3600000000u),
			        (unsigned long long)(off / 60000000u % 60), (unsigned long long)(off / 1000000u % 60),
			        (unsigned long long)(off / 1000u % 1000), sc.cmds[i].channel, text);
			free(text);
		}
	}
	scan_free(&sc);
	return r;
}

/* A trailing ".d" to ".dddddd" fraction of a second (as --print-commands
 * prints it) is cut off s into *frac_us; 0 when absent, ERR_INVALID when
 * malformed. */
static int
split_fraction(const char *s, char *whole, size_t len, uint64_t *frac_us)
{
	const char *dot = strchr(s, '.');
	size_t n;
	uint64_t scale = 100000;

	*frac_us = 0;
	if (dot == NULL) {
		if (strlen(s) >= len)
			return ERR_INVALID;
		snprintf(whole, len, "%s", s);
		return 0;
	}
	n = strlen(dot + 1);
	if (n == 0 || n > 6 || (size_t)(dot - s) >= len || strspn(dot + 1, "0123456789") != n)
		return ERR_INVALID;
	for (const char *p = dot + 1; *p != '\0'; p++, scale /= 10)
		*frac_us += (uint64_t)(*p - '0') * scale;
	memcpy(whole, s, (size_t)(dot - s));
	whole[dot - s] = '\0';
	return 0;
}

int
play_parse_time(const char *s, uint64_t start_us, uint64_t *offset_us)
{
	unsigned long a = 0, b = 0, c = 0;
	uint64_t frac = 0;
	char whole[64];
	int64_t t;
	char tail;

	if (strchr(s, 'T') != NULL || strchr(s, '-') != NULL) {
		if (time_parse_iso(s, &t) != 0)
			return ERR_INVALID;
		*offset_us = (uint64_t)t * 1000000u > start_us ? (uint64_t)t * 1000000u - start_us : 0;
		return 0;
	}
	if (split_fraction(s, whole, sizeof(whole), &frac) != 0 || whole[0] < '0' || whole[0] > '9')
		return ERR_INVALID;
	if (sscanf(whole, "%lu:%lu:%lu%c", &a, &b, &c, &tail) == 3 && b < 60 && c < 60)
		*offset_us = ((uint64_t)a * 3600 + b * 60 + c) * 1000000u + frac;
	else if (sscanf(whole, "%lu:%lu%c", &a, &b, &tail) == 2 && b < 60)
		*offset_us = ((uint64_t)a * 60 + b) * 1000000u + frac;
	else if (sscanf(whole, "%lu%c", &a, &tail) == 1 && a < 100000000)
		*offset_us = (uint64_t)a * 1000000u + frac;
	else
		return ERR_INVALID;
	return 0;
}
