/* The one place where command results are printed: every list and show
 * builds jansson values, and this file renders them as an aligned table, as
 * "Header: value" lines, or as JSON with --json. Text output escapes control
 * characters, and JSON is plain ASCII (out_json), so a stored string can
 * never drive the reader's terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/cmd.h"
#include "common/log.h"
#include "common/timeutil.h"

json_t *
out_time(int64_t t)
{
	char buf[64];

	if (t == 0)
		return json_null();
	time_format_iso(t, buf, sizeof(buf));
	return json_string(buf);
}

json_t *
out_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* Text of one cell, malloc'd. */
static char *
cell_text(const json_t *v)
{
	char *raw = NULL, *esc = NULL;
	size_t cap;

	switch (json_typeof(v)) {
	case JSON_STRING: raw = strdup(json_string_value(v)); break;
	case JSON_INTEGER:
		if (asprintf(&raw, "%lld", (long long)json_integer_value(v)) < 0)
			raw = NULL;
		break;
	case JSON_REAL:
		if (asprintf(&raw, "%g", json_real_value(v)) < 0)
			raw = NULL;
		break;
	case JSON_TRUE: raw = strdup("yes"); break;
	case JSON_FALSE: raw = strdup("no"); break;
	case JSON_ARRAY: {
		size_t i, len = 0;
		json_t *e;
		char **parts = calloc(json_array_size(v) + 1, sizeof(*parts));

		if (parts == NULL)
			return NULL;
		json_array_foreach(v, i, e)
		{
			parts[i] = cell_text(e);
			len += (parts[i] ? strlen(parts[i]) : 0) + 1;
		}
		raw = calloc(1, len + 2);
		for (i = 0; i < json_array_size(v); i++) {
			if (raw != NULL && parts[i] != NULL) {
				if (i > 0)
					strcat(raw, ",");
				strcat(raw, parts[i]);
			}
			free(parts[i]);
		}
		free(parts);
		if (raw != NULL && raw[0] == '\0') {
			free(raw);
			raw = strdup("-");
		}
		return raw;
	}
	case JSON_OBJECT: raw = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS); break;
	case JSON_NULL:
	default: raw = strdup("-"); break;
	}
	if (raw == NULL)
		return NULL;
	/* Escaping at most quadruples the length. */
	cap = strlen(raw) * 4 + 1;
	esc = malloc(cap);
	if (esc != NULL)
		log_escape(esc, cap, raw);
	free(raw);
	return esc;
}

int
out_json(FILE *f, const json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_ENSURE_ASCII);

	if (s == NULL)
		return -1;
	/* jansson escapes C0 and, with ENSURE_ASCII, everything above
	 * U+007F; DEL is the one control left (only ever inside a string) */
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == 0x7f)
			fputs("\\u007f", f);
		else
			fputc(*p, f);
	}
	fputc('\n', f);
	free(s);
	return ferror(f) ? -1 : 0;
}

static int
print_json(struct admin_ctx *ctx, json_t *v)
{
	int r = out_json(ctx->out, v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	return r == 0 ? ADMIN_EXIT_OK : admin_fail(ctx, "cannot write output");
}

/* The last column is not padded, so lines carry no trailing blanks. */
static void
print_cell(FILE *f, const char *text, size_t width, int last)
{
	if (last)
		fprintf(f, "%s\n", text);
	else
		fprintf(f, "%-*s  ", (int)width, text);
}

int
out_table(struct admin_ctx *ctx, const struct out_col *cols, size_t ncols, json_t *rows)
{
	size_t nrows, i, c, *width = NULL;
	char **cells = NULL;
	int r = ADMIN_EXIT_FAIL;

	if (rows == NULL)
		return admin_fail(ctx, "out of memory");
	if (ctx->json) {
		r = print_json(ctx, rows);
		goto out;
	}
	nrows = json_array_size(rows);
	width = calloc(ncols, sizeof(*width));
	cells = calloc(nrows * ncols + 1, sizeof(*cells));
	if (width == NULL || cells == NULL) {
		r = admin_fail(ctx, "out of memory");
		goto out;
	}
	for (c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].header);
	for (i = 0; i < nrows; i++) {
		json_t *row = json_array_get(rows, i);

		for (c = 0; c < ncols; c++) {
			json_t *v = json_object_get(row, cols[c].key);
			char *t = cell_text(v != NULL ? v : json_null());

			if (t == NULL) {
				r = admin_fail(ctx, "out of memory");
				goto out;
			}
			cells[i * ncols + c] = t;
			if (strlen(t) > width[c])
				width[c] = strlen(t);
		}
	}
	for (c = 0; c < ncols; c++)
		print_cell(ctx->out, cols[c].header, width[c], c + 1 == ncols);
	for (i = 0; i < nrows; i++)
		for (c = 0; c < ncols; c++)
			print_cell(ctx->out, cells[i * ncols + c], width[c], c + 1 == ncols);
	r = ADMIN_EXIT_OK;
out:
	if (cells != NULL)
		for (i = 0; cells[i] != NULL; i++)
			free(cells[i]);
	free(cells);
	free(width);
	json_decref(rows);
	return r;
}

int
out_object(struct admin_ctx *ctx, const struct out_col *cols, size_t ncols, json_t *obj)
{
	size_t c, w = 0;
	int r = ADMIN_EXIT_FAIL;

	if (obj == NULL)
		return admin_fail(ctx, "out of memory");
	if (ctx->json) {
		r = print_json(ctx, obj);
		goto out;
	}
	for (c = 0; c < ncols; c++)
		if (strlen(cols[c].header) > w)
			w = strlen(cols[c].header);
	for (c = 0; c < ncols; c++) {
		json_t *v = json_object_get(obj, cols[c].key);
		char *t = cell_text(v != NULL ? v : json_null());

		if (t == NULL) {
			r = admin_fail(ctx, "out of memory");
			goto out;
		}
		fprintf(ctx->out, "%s:%*s %s\n", cols[c].header, (int)(w - strlen(cols[c].header)), "", t);
		free(t);
	}
	r = ADMIN_EXIT_OK;
out:
	json_decref(obj);
	return r;
}
