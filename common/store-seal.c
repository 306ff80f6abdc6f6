/* The recording-seal key pairs (schema version 8, common/seal.h): the
 * public key is what the recorder seals unechoed input at a prompt for a
 * secret to; the private key is stored sealed with the master key and is
 * opened only by `reveal`. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/seal.h"
#include "common/secret.h"
#include "common/store-internal.h"
#include "common/store.h"
#include "common/timeutil.h"

static int
fill(sqlite3_stmt *stmt, struct seal_key_rec *out)
{
	const unsigned char *kid = sqlite3_column_text(stmt, 1);
	const void *pub = sqlite3_column_blob(stmt, 2);

	if (kid == NULL || pub == NULL || sqlite3_column_bytes(stmt, 2) != SEAL_KEY_LEN ||
	    strlen((const char *)kid) != 2 * SEAL_KEY_ID_LEN)
		return ERR_INVALID;
	out->id = sqlite3_column_int64(stmt, 0);
	memcpy(out->key_id, kid, 2 * SEAL_KEY_ID_LEN + 1);
	memcpy(out->public_key, pub, SEAL_KEY_LEN);
	out->created = sqlite3_column_int64(stmt, 3);
	return 0;
}

int
store_seal_current(struct store *st, struct seal_key_rec *out)
{
	sqlite3_stmt *stmt = NULL;
	int rc, r = ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st,
	                       "SELECT id, key_id, public_key, created FROM seal_keys WHERE retired = 0"
	                       " ORDER BY id DESC LIMIT 1",
	                       &stmt)) != 0)
		goto out;
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_NOTFOUND : store_err(rc);
		goto out;
	}
	r = fill(stmt, out);
out:
	sqlite3_finalize(stmt);
	return r;
}

int
store_seal_create(struct store *st, const struct secret_key *key, struct seal_key_rec *out)
{
	sqlite3_stmt *stmt = NULL;
	uint8_t pub[SEAL_KEY_LEN], priv[SEAL_KEY_LEN], id[SEAL_KEY_ID_LEN], *sealed = NULL;
	char hex[2 * SEAL_KEY_ID_LEN + 1];
	size_t sealed_len = 0;
	int64_t row, now = time_now();
	int own = 0, in_tx = 0, r = ERR_INTERNAL;

	if (key == NULL) {
		r = ERR_INVALID;
		goto out;
	}
	if ((r = seal_keypair(pub, priv)) != 0)
		goto out;
	seal_key_id(pub, id);
	seal_key_id_hex(id, hex);
	if ((r = store_tx_start(st, &own)) != 0)
		goto out;
	in_tx = 1;
	/* The row id is the AAD of the sealed private key: insert, then seal. */
	if ((r = store_prepare(st, "INSERT INTO seal_keys (key_id, public_key, created) VALUES (?1, ?2, ?3)", &stmt)) !=
	    0)
		goto out;
	sqlite3_bind_text(stmt, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 2, pub, SEAL_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, now);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	row = sqlite3_last_insert_rowid(store_db(st));
	sqlite3_finalize(stmt);
	stmt = NULL;
	if ((r = secret_seal(key, "seal_keys", row, priv, SEAL_KEY_LEN, &sealed, &sealed_len)) != 0)
		goto out;
	if ((r = store_prepare(st, "UPDATE seal_keys SET private_sealed = ?2 WHERE id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, row);
	sqlite3_bind_blob(stmt, 2, sealed, (int)sealed_len, SQLITE_STATIC);
	if ((r = store_step_done(stmt)) != 0)
		goto out;
	in_tx = 0;
	if ((r = store_tx_end(st, own, 1)) != 0)
		goto out;
	if (out != NULL) {
		out->id = row;
		memcpy(out->key_id, hex, sizeof(hex));
		memcpy(out->public_key, pub, SEAL_KEY_LEN);
		out->created = now;
	}
out:
	sqlite3_finalize(stmt);
	if (in_tx)
		store_tx_end(st, own, 0);
	secret_free(sealed, sealed_len);
	explicit_bzero(priv, sizeof(priv));
	return r;
}

int
store_seal_ensure(struct store *st, const struct secret_key *key, struct seal_key_rec *out, int *created)
{
	int r;

	*created = 0;
	if ((r = store_seal_current(st, out)) != ERR_NOTFOUND)
		return r;
	if ((r = store_seal_create(st, key, out)) == 0)
		*created = 1;
	return r;
}

int
store_seal_private(struct store *st, const struct secret_key *key, const char *key_id, uint8_t priv[32])
{
	sqlite3_stmt *stmt = NULL;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	int64_t row;
	int rc, r = ERR_INTERNAL;

	if ((r = store_prepare(st, "SELECT id, private_sealed FROM seal_keys WHERE key_id = ?1", &stmt)) != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, key_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ERR_NOTFOUND : store_err(rc);
		goto out;
	}
	row = sqlite3_column_int64(stmt, 0);
	if (sqlite3_column_type(stmt, 1) != SQLITE_BLOB) {
		r = ERR_CRYPTO;
		goto out;
	}
	if ((r = secret_open(key, "seal_keys", row, sqlite3_column_blob(stmt, 1), (size_t)sqlite3_column_bytes(stmt, 1),
	                     &pt, &ptlen)) != 0)
		goto out;
	if (ptlen != SEAL_KEY_LEN) {
		r = ERR_CRYPTO;
		goto out;
	}
	memcpy(priv, pt, SEAL_KEY_LEN);
	r = 0;
out:
	sqlite3_finalize(stmt);
	secret_free(pt, ptlen);
	return r;
}
