#include "common/schema.h"

/* Version 1: accounts, groups, assets, target accounts, grants, audit. */
static const char migration_1[] = "CREATE TABLE users ("
                                  " id INTEGER PRIMARY KEY,"
                                  " name TEXT NOT NULL UNIQUE,"
                                  " role TEXT NOT NULL CHECK (role IN ('superadmin','auditor','operator')),"
                                  " auth TEXT NOT NULL DEFAULT 'local' CHECK (auth IN ('local','pam')),"
                                  " pw_hash TEXT,"
                                  " pw_changed INTEGER NOT NULL DEFAULT 0,"
                                  " pw_temporary INTEGER NOT NULL DEFAULT 0,"
                                  " totp_secret BLOB,"
                                  " totp_last_step INTEGER NOT NULL DEFAULT 0,"
                                  " pubkey TEXT,"
                                  " locked INTEGER NOT NULL DEFAULT 0,"
                                  " failed_count INTEGER NOT NULL DEFAULT 0,"
                                  " locked_until INTEGER NOT NULL DEFAULT 0,"
                                  " last_login INTEGER NOT NULL DEFAULT 0,"
                                  " created INTEGER NOT NULL,"
                                  " removed INTEGER NOT NULL DEFAULT 0);"
                                  "CREATE TABLE password_history ("
                                  " user_id INTEGER NOT NULL REFERENCES users(id),"
                                  " hash TEXT NOT NULL,"
                                  " changed INTEGER NOT NULL);"
                                  "CREATE INDEX password_history_user ON password_history(user_id, changed);"
                                  "CREATE TABLE groups ("
                                  " id INTEGER PRIMARY KEY,"
                                  " name TEXT NOT NULL UNIQUE,"
                                  " created INTEGER NOT NULL);"
                                  "CREATE TABLE group_members ("
                                  " group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
                                  " user_id INTEGER NOT NULL REFERENCES users(id),"
                                  " PRIMARY KEY (group_id, user_id));"
                                  "CREATE TABLE assets ("
                                  " id INTEGER PRIMARY KEY,"
                                  " name TEXT NOT NULL UNIQUE,"
                                  " host TEXT NOT NULL,"
                                  " port INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),"
                                  " hostkey TEXT,"
                                  " created INTEGER NOT NULL,"
                                  " removed INTEGER NOT NULL DEFAULT 0);"
                                  "CREATE TABLE asset_group_members ("
                                  " group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
                                  " asset_id INTEGER NOT NULL REFERENCES assets(id),"
                                  " PRIMARY KEY (group_id, asset_id));"
                                  "CREATE TABLE accounts ("
                                  " id INTEGER PRIMARY KEY,"
                                  " asset_id INTEGER NOT NULL REFERENCES assets(id),"
                                  " login TEXT NOT NULL,"
                                  " kind TEXT NOT NULL CHECK (kind IN ('password','key')),"
                                  " secret BLOB,"
                                  " created INTEGER NOT NULL,"
                                  " UNIQUE (asset_id, login));"
                                  "CREATE TABLE grants ("
                                  " id INTEGER PRIMARY KEY,"
                                  " user_id INTEGER REFERENCES users(id),"
                                  " group_id INTEGER REFERENCES groups(id),"
                                  " asset_id INTEGER REFERENCES assets(id),"
                                  " asset_group_id INTEGER REFERENCES groups(id),"
                                  " login TEXT NOT NULL,"
                                  " rights INTEGER NOT NULL,"
                                  " expires INTEGER NOT NULL DEFAULT 0,"
                                  " hours TEXT,"
                                  " sources TEXT,"
                                  " forward_to TEXT,"
                                  " created INTEGER NOT NULL,"
                                  " CHECK ((user_id IS NULL) <> (group_id IS NULL)),"
                                  " CHECK ((asset_id IS NULL) <> (asset_group_id IS NULL)));"
                                  "CREATE TABLE audit ("
                                  " id INTEGER PRIMARY KEY,"
                                  " ts TEXT NOT NULL,"
                                  " actor TEXT NOT NULL,"
                                  " source TEXT NOT NULL,"
                                  " type TEXT NOT NULL,"
                                  " object TEXT NOT NULL,"
                                  " result TEXT NOT NULL,"
                                  " importance TEXT NOT NULL,"
                                  " detail TEXT,"
                                  " prev_hash TEXT NOT NULL,"
                                  " hash TEXT NOT NULL);"
                                  "CREATE INDEX audit_ts ON audit(ts);"
                                  "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
                                  " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;"
                                  "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
                                  " BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;";

/* Version 2: sessions and their channels (the proxy). */
static const char migration_2[] = "CREATE TABLE sessions ("
                                  " id INTEGER PRIMARY KEY,"
                                  " uuid TEXT NOT NULL UNIQUE,"
                                  " user TEXT NOT NULL,"
                                  " source_addr TEXT NOT NULL,"
                                  " source_port INTEGER NOT NULL,"
                                  " asset TEXT,"
                                  " login TEXT,"
                                  " channel_types TEXT NOT NULL DEFAULT '',"
                                  " start INTEGER NOT NULL,"
                                  " start_ms INTEGER NOT NULL DEFAULT 0,"
                                  " end INTEGER NOT NULL DEFAULT 0,"
                                  " end_reason TEXT,"
                                  " ended_by TEXT,"
                                  " state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','closed')),"
                                  " pid INTEGER NOT NULL DEFAULT 0,"
                                  " recording TEXT,"
                                  " bytes_in INTEGER NOT NULL DEFAULT 0,"
                                  " bytes_out INTEGER NOT NULL DEFAULT 0,"
                                  " last_activity INTEGER NOT NULL DEFAULT 0,"
                                  " rec_frames INTEGER NOT NULL DEFAULT 0,"
                                  " rec_head TEXT,"
                                  " rec_index BLOB);"
                                  "CREATE INDEX sessions_user ON sessions(user);"
                                  "CREATE INDEX sessions_state ON sessions(state);"
                                  "CREATE TABLE channels ("
                                  " session_id INTEGER NOT NULL REFERENCES sessions(id),"
                                  " num INTEGER NOT NULL,"
                                  " type TEXT NOT NULL,"
                                  " command TEXT,"
                                  " opened INTEGER NOT NULL,"
                                  " closed INTEGER NOT NULL DEFAULT 0,"
                                  " exit_status INTEGER,"
                                  " PRIMARY KEY (session_id, num));";

/* Version 3: command audit and command rules (issue 6). */
static const char migration_3[] =
        "CREATE TABLE commands ("
        " id INTEGER PRIMARY KEY,"
        " session_id INTEGER NOT NULL REFERENCES sessions(id),"
        " channel INTEGER NOT NULL,"
        " user TEXT NOT NULL,"
        " asset TEXT,"
        " login TEXT,"
        " ts_ms INTEGER NOT NULL,"
        " offset_ms INTEGER NOT NULL DEFAULT 0,"
        " command TEXT NOT NULL,"
        " source TEXT NOT NULL CHECK (source IN ('exec','screen')),"
        " confident INTEGER NOT NULL DEFAULT 1,"
        " truncated INTEGER NOT NULL DEFAULT 0,"
        " action TEXT NOT NULL DEFAULT 'allowed' CHECK (action IN ('allowed','blocked','alerted')),"
        " rule_id INTEGER,"
        " kind TEXT NOT NULL DEFAULT 'command'"
        " CHECK (kind IN ('command','fullscreen_enter','fullscreen_leave')));"
        "CREATE INDEX commands_session ON commands(session_id);"
        "CREATE INDEX commands_ts ON commands(ts_ms);"
        "CREATE TABLE cmdrules ("
        " id INTEGER PRIMARY KEY,"
        " pattern TEXT NOT NULL,"
        " action TEXT NOT NULL CHECK (action IN ('block','alert')),"
        " user_id INTEGER REFERENCES users(id),"
        " group_id INTEGER REFERENCES groups(id),"
        " asset_id INTEGER REFERENCES assets(id),"
        " asset_group_id INTEGER REFERENCES groups(id),"
        " priority INTEGER NOT NULL DEFAULT 100,"
        " created INTEGER NOT NULL);";

/* Version 4: file transfers and tunnels (issue 7). */
static const char migration_4[] = "CREATE TABLE transfers ("
                                  " id INTEGER PRIMARY KEY,"
                                  " session_id INTEGER NOT NULL REFERENCES sessions(id),"
                                  " channel INTEGER NOT NULL,"
                                  " user TEXT NOT NULL,"
                                  " asset TEXT,"
                                  " login TEXT,"
                                  " ts_ms INTEGER NOT NULL,"
                                  " protocol TEXT NOT NULL CHECK (protocol IN ('sftp','scp','rsync','tunnel')),"
                                  " op TEXT NOT NULL,"
                                  " path TEXT,"
                                  " path2 TEXT,"
                                  " detail TEXT,"
                                  " bytes_read INTEGER NOT NULL DEFAULT 0,"
                                  " bytes_written INTEGER NOT NULL DEFAULT 0,"
                                  " sha256 TEXT,"
                                  " status TEXT,"
                                  " allowed INTEGER NOT NULL DEFAULT 1,"
                                  " capture TEXT);"
                                  "CREATE INDEX transfers_session ON transfers(session_id);";

/* Version 5: terminating a live session (issue 8). `kill` writes who asks
 * and why into the row, then signals the session's process (SIGUSR1), which
 * reads them back, tells the operator and ends the session. */
static const char migration_5[] = "ALTER TABLE sessions ADD COLUMN kill_requested_by TEXT;"
                                  "ALTER TABLE sessions ADD COLUMN kill_requested_role TEXT;"
                                  "ALTER TABLE sessions ADD COLUMN kill_reason TEXT;"
                                  "ALTER TABLE sessions ADD COLUMN kill_requested_at INTEGER NOT NULL DEFAULT 0;";

/* Version 6: retention (issue 9). The only DELETE the audit trail accepts
 * is the oldest prefix, inside the retention transaction: that transaction
 * sets retention_guard.active, records the last removed row in audit_base
 * (the new genesis audit_verify starts from) and clears the flag before it
 * commits. Anyone with raw database access can still do anything; the
 * chain, the anchors and the retention.run event make it visible. */
static const char migration_6[] = "CREATE TABLE retention_guard ("
                                  " id INTEGER PRIMARY KEY CHECK (id = 1),"
                                  " active INTEGER NOT NULL DEFAULT 0);"
                                  "INSERT INTO retention_guard (id, active) VALUES (1, 0);"
                                  "CREATE TABLE audit_base ("
                                  " id INTEGER PRIMARY KEY CHECK (id = 1),"
                                  " last_id INTEGER NOT NULL,"
                                  " hash TEXT NOT NULL);"
                                  "DROP TRIGGER audit_no_delete;"
                                  "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
                                  " SELECT RAISE(ABORT, 'audit trail is append-only')"
                                  "  WHERE (SELECT active FROM retention_guard WHERE id = 1) IS NOT 1;"
                                  " SELECT RAISE(ABORT, 'audit rows are removed oldest first')"
                                  "  WHERE OLD.id <> (SELECT min(id) FROM audit);"
                                  " END;"
                                  "CREATE TRIGGER audit_base_guard_ins BEFORE INSERT ON audit_base"
                                  " WHEN (SELECT active FROM retention_guard WHERE id = 1) IS NOT 1"
                                  " BEGIN SELECT RAISE(ABORT, 'audit_base changes only during retention'); END;"
                                  "CREATE TRIGGER audit_base_guard_upd BEFORE UPDATE ON audit_base"
                                  " WHEN (SELECT active FROM retention_guard WHERE id = 1) IS NOT 1"
                                  " BEGIN SELECT RAISE(ABORT, 'audit_base changes only during retention'); END;"
                                  "CREATE TRIGGER audit_base_guard_del BEFORE DELETE ON audit_base"
                                  " BEGIN SELECT RAISE(ABORT, 'audit_base is never deleted'); END;";

/* Version 7: the attack review (issue 15).
 * - failed_at: when failed_count last grew. Failures older than the lockout
 *   period no longer count, so that a reservation left by a connection that
 *   died mid-round (srv-auth.c counts a round before judging it) cannot keep
 *   an account locked for ever.
 * - enrol_until: the one-time window in which a user without TOTP may enrol
 *   at login (set by `user add` and `user totp-reset`, closed by enrolment).
 *   Users waiting to enrol when the database is upgraded get a fresh window
 *   of 72 hours rather than none, so that an upgrade locks nobody out. */
static const char migration_7[] = "ALTER TABLE users ADD COLUMN failed_at INTEGER NOT NULL DEFAULT 0;"
                                  "ALTER TABLE users ADD COLUMN enrol_until INTEGER NOT NULL DEFAULT 0;"
                                  "UPDATE users SET enrol_until = CAST(strftime('%s','now') AS INTEGER) + 259200"
                                  " WHERE totp_secret IS NULL AND removed = 0;";

/* Version 8: command control and sealed input (issue 15, finding 4).
 * commands.reason says why a command's text is not certain (typed without
 * echo, inside the alternate screen, ...; NULL when it is). seal_keys holds
 * the X25519 keypairs that unechoed input at a prompt for a secret is
 * sealed to in the recordings (common/seal.h): the public key in clear, the
 * private key sealed with the master key (AAD: this table and the row id).
 * The newest key not retired is the one in use; old ones stay to open old
 * recordings. The key itself is made by `gatehouse-admin init` and, for a
 * database upgraded to this version, by gatehoused at start-up (a migration
 * has no master key). Plain SQL for PostgreSQL too (BYTEA for BLOB). */
static const char migration_8[] = "ALTER TABLE commands ADD COLUMN reason TEXT;"
                                  "CREATE TABLE seal_keys ("
                                  " id INTEGER PRIMARY KEY,"
                                  " key_id TEXT NOT NULL UNIQUE,"
                                  " public_key BLOB NOT NULL,"
                                  " private_sealed BLOB,"
                                  " created INTEGER NOT NULL,"
                                  " retired INTEGER NOT NULL DEFAULT 0);";

const char *const schema_migrations[] = {migration_1, migration_2, migration_3, migration_4,
                                         migration_5, migration_6, migration_7, migration_8};
const size_t schema_migrations_count = sizeof(schema_migrations) / sizeof(schema_migrations[0]);
