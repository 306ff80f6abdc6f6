#include "common/err.h"

const char *
gh_strerror(int err)
{
	switch (err) {
	case GH_OK: return "success";
	case ERR_INTERNAL: return "internal error";
	case ERR_NOMEM: return "out of memory";
	case ERR_IO: return "input/output error";
	case ERR_DB: return "database error";
	case ERR_NOTFOUND: return "not found";
	case ERR_EXISTS: return "already exists";
	case ERR_INVALID: return "invalid input";
	case ERR_CRYPTO: return "cryptographic failure";
	case ERR_DENIED: return "denied";
	case ERR_POLICY: return "refused by policy";
	case ERR_TAMPER: return "integrity check failed";
	case ERR_FULL: return "storage full";
	case ERR_REPLAY: return "code already used";
	case ERR_LOCKED: return "account locked";
	case ERR_EXPIRED: return "expired";
	case ERR_TIMEOUT: return "timed out";
	case ERR_BUSY: return "busy";
	}
	return "unknown error";
}
