/* Helpers shared by the common/store*.c files and their unit tests; not part
 * of the store contract other rooms code against. */
#ifndef GH_STORE_INTERNAL_H
#define GH_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct store;

/* Apply list[user_version .. n-1] in one BEGIN IMMEDIATE transaction and set
 * user_version = n; rolls everything back on failure. ERR_INVALID when the
 * database is newer than n. */
int store_migrate(sqlite3 *db, const char *const *list, size_t n);

/* Prepare sql on the store's connection (ERR_DB on failure). */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out);
/* Step a statement expected to finish with SQLITE_DONE; 0 or store_err(). */
int store_step_done(sqlite3_stmt *stmt);
/* Copy a TEXT column (NULL stays NULL). */
int store_col_strdup(sqlite3_stmt *stmt, int col, char **out);
/* Run "... WHERE id = ?1" style statements binding one id; ERR_NOTFOUND when
 * no row changed. */
int store_exec_id(struct store *st, const char *sql, int64_t id);
/* The same, when changing no row is fine. */
int store_exec_id_any(struct store *st, const char *sql, int64_t id);

/* A write transaction that nests: BEGIN IMMEDIATE when none is open, a
 * SAVEPOINT inside the caller's. *own tells store_tx_end which. ok=0 rolls
 * back (to the savepoint). */
int store_tx_start(struct store *st, int *own);
int store_tx_end(struct store *st, int own, int ok);

/* Step stmt to its end, appending one element of elem_size bytes per row as
 * fill(stmt, elem) makes it. On success *out (malloc'd, NULL when no row)
 * and *n own the elements; on failure release(elem) has been called on every
 * filled element and *out is NULL. Every typed list of the store is this
 * loop with its own fill and release. */
typedef int (*store_fill_fn)(sqlite3_stmt *stmt, void *elem);
typedef void (*store_release_fn)(void *elem);
int store_collect_rows(sqlite3_stmt *stmt, size_t elem_size, store_fill_fn fill, store_release_fn release, void **out,
                       size_t *n);

/* Fill a NULL-terminated-free string vector from column 0 of stmt. */
int store_collect_strings(sqlite3_stmt *stmt, char ***out, size_t *n);
int store_collect_ids(sqlite3_stmt *stmt, int64_t **out, size_t *n);

/* Hand the audit events appended inside the transaction that just ended to
 * the sink (committed = 1) or drop them (rolled back). Called by
 * store_commit() and store_rollback(); defined in audit.c. */
void audit_pending_settle(int committed);

#endif
