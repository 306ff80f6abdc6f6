/* The sqlite store: opening, schema migrations, transactions, and the entity
 * functions every room uses (users, groups, assets, target accounts, grants).
 * Every access to gatehouse.db goes through common/store*.c or auth/, so that
 * moving it behind a privileged monitor stays a mechanical change.
 *
 * Conventions: functions return 0 or a negative enum gh_err. Out-parameters
 * handed over with ** belong to the caller (free with the matching _free).
 * Timestamps are Unix seconds (int64_t), 0 meaning "none". */
#ifndef GH_STORE_H
#define GH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct store;

/* The schema version this build writes (PRAGMA user_version). */
int store_schema_version(void);

/* Open DIR/gatehouse.db (path given in full). create=1 allows creating a new
 * file. Sets WAL, foreign keys, busy timeout; runs pending migrations inside
 * one transaction. */
int store_open(const char *path, int create, struct store **out);
void store_close(struct store *st);
sqlite3 *store_db(struct store *st);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* Map a sqlite result code to enum gh_err (SQLITE_FULL -> ERR_FULL ...). */
int store_err(int sqlite_rc);

/* ---- users ---------------------------------------------------------- */

enum user_role { ROLE_SUPERADMIN = 0, ROLE_AUDITOR = 1, ROLE_OPERATOR = 2 };
enum user_auth { USER_AUTH_LOCAL = 0, USER_AUTH_PAM = 1 };

struct user_rec {
	int64_t id;
	char *name;
	enum user_role role;
	enum user_auth auth;
	char *pw_hash;          /* yescrypt; NULL for PAM users */
	int64_t pw_changed;     /* when the password was last set */
	int pw_temporary;       /* must be changed at next login */
	int has_totp;           /* a TOTP secret is enrolled */
	int64_t totp_last_step; /* last accepted TOTP time step (replay guard) */
	char *pubkey;           /* OpenSSH public key line, or NULL */
	int locked;             /* locked by an administrator */
	int failed_count;       /* failed logins (and rounds being judged) within the lockout period */
	int64_t failed_at;      /* when failed_count last grew */
	int64_t locked_until;   /* lockout after failures ends at this time */
	int64_t enrol_until;    /* without TOTP: enrolment at login allowed until then (0 = never) */
	int64_t last_login;
	int64_t created;
	int64_t removed; /* soft removal: the name stays reserved */
};

const char *user_role_name(enum user_role r);
int user_role_parse(const char *s, enum user_role *out);

void user_rec_free(struct user_rec *u);
/* Removed users are returned too (check ->removed). */
int store_user_get(struct store *st, const char *name, struct user_rec **out);
int store_user_get_by_id(struct store *st, int64_t id, struct user_rec **out);
/* All users not removed, ordered by name. */
int store_user_list(struct store *st, struct user_rec ***out, size_t *n);
void user_rec_list_free(struct user_rec **list, size_t n);
/* Inserts a user; pw_hash may be NULL. Returns the new id in *id. */
int store_user_add(struct store *st, const struct user_rec *u, int64_t *id);
int store_user_set_password(struct store *st, int64_t id, const char *hash, int temporary, int64_t now);
/* The last n password hashes (newest first, the current one included), for
 * the reuse rule. */
int store_user_password_history(struct store *st, int64_t id, size_t n, char ***hashes, size_t *count);
int store_user_set_locked(struct store *st, int64_t id, int locked);
int store_user_remove(struct store *st, int64_t id, int64_t now);
int store_user_set_pubkey(struct store *st, int64_t id, const char *pubkey);
/* sealed: AEAD blob from secret_seal() bound to ("users", id); NULL clears. */
int store_user_set_totp(struct store *st, int64_t id, const uint8_t *sealed, size_t len);
int store_user_get_totp(struct store *st, int64_t id, uint8_t **sealed, size_t *len);
/* Atomically accept a TOTP step only if greater than the stored one (replay
 * guard across connections). Returns ERR_REPLAY when not greater. */
int store_user_advance_totp_step(struct store *st, int64_t id, int64_t step);
/* 1 when some user (not removed) authenticates through PAM, 0 when none,
 * or a negative enum gh_err. */
int store_user_any_pam(struct store *st);
/* Open (until > now) or close (0) the one-time TOTP enrolment window. */
int store_user_set_enrol_until(struct store *st, int64_t id, int64_t until);

/* Failure accounting across connections (srv-auth.c). A login round takes a
 * failure in advance, atomically with the lock check, before any answer of
 * it is judged; a round that succeeds gives it back (record_success), one
 * that fails or is abandoned keeps it. So however many connections race,
 * at most `threshold` rounds are judged per lockout period. Failures older
 * than `period` seconds are forgotten (a reservation left by a process that
 * died mid-round must not lock an account for ever).
 *
 * store_user_attempt_begin: *granted = 0 when the account is locked out
 * (locked_until in the future, or threshold rounds already counted);
 * otherwise the failure is counted and *granted = 1. threshold 0 = no
 * lockout (always granted, still counted). */
int store_user_attempt_begin(struct store *st, int64_t id, int threshold, int64_t period, int64_t now, int *granted);
/* A failed round. counted: its failure was taken by attempt_begin; otherwise
 * it is counted now. Locks for lock_seconds when the count reaches
 * threshold (*now_locked = 1), and starts counting afresh. */
int store_user_record_failure(struct store *st, int64_t id, int threshold, int64_t lock_seconds, int64_t now,
                              int counted, int *now_locked);
int store_user_record_success(struct store *st, int64_t id, int64_t now);
int store_user_clear_lockout(struct store *st, int64_t id);

/* ---- groups (hold users and assets) -------------------------------- */

int store_group_add(struct store *st, const char *name, int64_t *id);
int store_group_get_id(struct store *st, const char *name, int64_t *id);
int store_group_list(struct store *st, char ***names, size_t *n);
int store_group_remove(struct store *st, int64_t id);
int store_group_member_add(struct store *st, int64_t group_id, int64_t user_id);
int store_group_member_remove(struct store *st, int64_t group_id, int64_t user_id);
int store_group_members(struct store *st, int64_t group_id, char ***user_names, size_t *n);
int store_user_group_ids(struct store *st, int64_t user_id, int64_t **ids, size_t *n);
void store_strv_free(char **v, size_t n);

/* ---- assets --------------------------------------------------------- */

struct asset_rec {
	int64_t id;
	char *name;
	char *host;
	int port;
	char *hostkey; /* pinned "type base64" line, NULL if not pinned yet */
	int64_t created;
	int64_t removed;
};

void asset_rec_free(struct asset_rec *a);
int store_asset_add(struct store *st, const struct asset_rec *a, int64_t *id);
int store_asset_get(struct store *st, const char *name, struct asset_rec **out);
int store_asset_get_by_id(struct store *st, int64_t id, struct asset_rec **out);
int store_asset_list(struct store *st, struct asset_rec ***out, size_t *n);
void asset_rec_list_free(struct asset_rec **list, size_t n);
int store_asset_remove(struct store *st, int64_t id, int64_t now);
int store_asset_set_hostkey(struct store *st, int64_t id, const char *hostkey);
int store_asset_group_add(struct store *st, int64_t group_id, int64_t asset_id);
int store_asset_group_ids(struct store *st, int64_t asset_id, int64_t **ids, size_t *n);
/* Names of the groups an asset belongs to. */
int store_asset_group_names(struct store *st, int64_t asset_id, char ***names, size_t *n);

/* ---- target accounts (login + sealed credential) -------------------- */

enum account_kind { ACCOUNT_PASSWORD = 0, ACCOUNT_KEY = 1 };

struct account_rec {
	int64_t id;
	int64_t asset_id;
	char *asset_name;
	char *login;
	enum account_kind kind;
	int64_t created;
};

void account_rec_free(struct account_rec *a);
/* Inserts the row, then seals the secret with AAD ("accounts", id) inside the
 * same transaction. The secret buffer is the caller's to wipe. */
struct secret_key;
int store_account_add(struct store *st, const struct secret_key *key, int64_t asset_id, const char *login,
                      enum account_kind kind, const uint8_t *secret, size_t secret_len, int64_t *id);
int store_account_get(struct store *st, int64_t asset_id, const char *login, struct account_rec **out);
/* Decrypts the credential into *secret (caller wipes and frees). */
int store_account_secret(struct store *st, const struct secret_key *key, int64_t account_id, uint8_t **secret,
                         size_t *len);
/* asset_id 0 = all assets. */
int store_account_list(struct store *st, int64_t asset_id, struct account_rec ***out, size_t *n);
void account_rec_list_free(struct account_rec **list, size_t n);
int store_account_remove(struct store *st, int64_t id);

/* ---- grants ---------------------------------------------------------- */

struct grant_rule; /* auth/grant.h */

/* Inserts a grant (id is assigned). */
int store_grant_add(struct store *st, const struct grant_rule *g, int64_t *id);
/* Grants, optionally filtered (0 = no filter on that side). For a user filter,
 * grants given through the user's groups are included. */
int store_grant_list(struct store *st, int64_t user_id, int64_t asset_id, struct grant_rule **out, size_t *n);
void store_grant_list_free(struct grant_rule *list, size_t n);
int store_grant_remove(struct store *st, int64_t id);

/* ---- recording-seal keys (common/store-seal.c, common/seal.h) ---- */

struct seal_key_rec {
	int64_t id;
	char key_id[17];        /* hex of the 8-byte key id */
	uint8_t public_key[32]; /* X25519 */
	int64_t created;
};
/* The key pair in use: the newest not retired. ERR_NOTFOUND when none. */
int store_seal_current(struct store *st, struct seal_key_rec *out);
/* Make a new key pair and store it, the private key sealed with the master
 * key (AAD "seal_keys", row id), in the caller's transaction if one is open.
 * The caller audits. */
int store_seal_create(struct store *st, const struct secret_key *key, struct seal_key_rec *out);
/* Make one when there is none (a new data directory, a database upgraded
 * to schema 8); *created says whether it did. */
int store_seal_ensure(struct store *st, const struct secret_key *key, struct seal_key_rec *out, int *created);
/* The private key of the pair named by key_id (hex); ERR_NOTFOUND when
 * unknown, ERR_CRYPTO when its sealed copy does not open. Wipe priv. */
int store_seal_private(struct store *st, const struct secret_key *key, const char *key_id, uint8_t priv[32]);

#endif
