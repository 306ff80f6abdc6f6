/* Error codes shared by every room. Library functions return 0 on success or
 * one of these negative codes; only programs decide to print and exit. */
#ifndef GH_ERR_H
#define GH_ERR_H

enum gh_err {
	GH_OK = 0,
	ERR_INTERNAL = -1, /* a bug or an unexpected library failure */
	ERR_NOMEM = -2,
	ERR_IO = -3, /* file or socket I/O failed */
	ERR_DB = -4, /* sqlite failed */
	ERR_NOTFOUND = -5,
	ERR_EXISTS = -6,
	ERR_INVALID = -7,  /* malformed input */
	ERR_CRYPTO = -8,   /* libcrypto failed, or authentication of a ciphertext */
	ERR_DENIED = -9,   /* a credential or an authorization was refused */
	ERR_POLICY = -10,  /* refused by a configured policy (password rules ...) */
	ERR_TAMPER = -11,  /* integrity check failed */
	ERR_FULL = -12,    /* storage full */
	ERR_REPLAY = -13,  /* a one-time code was used again */
	ERR_LOCKED = -14,  /* account locked */
	ERR_EXPIRED = -15, /* password or grant expired */
	ERR_TIMEOUT = -16,
	ERR_BUSY = -17,
};

/* Short English text for an error code; never NULL. */
const char *gh_strerror(int err);

#endif
