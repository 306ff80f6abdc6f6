/* The target leg. Everything here blocks (bounded by target_connect_timeout)
 * and runs before the target session joins the shared ssh_event: a blocking
 * libssh call on a session inside the event would poll the whole event and
 * re-enter the operator session's callbacks. */
#include "proxy/up-conn.h"

#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include <jansson.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/store.h"
#include "proxy/algorithms.h"
#include "proxy/conn.h"

static void
audit_target(struct conn *c, const char *type, const char *result, int importance, const char *why,
             const char *extra_key, const char *extra)
{
	json_t *j = json_object();
	char *detail = NULL;
	char object[300];

	json_object_set_new(j, "host", json_string(c->asset->host));
	json_object_set_new(j, "port", json_integer(c->asset->port));
	if (why != NULL)
		json_object_set_new(j, "reason", json_string(why));
	if (extra_key != NULL && extra != NULL)
		json_object_set_new(j, extra_key, json_string(extra));
	if (c->uuid[0] != '\0')
		json_object_set_new(j, "session", json_string(c->uuid));
	detail = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	snprintf(object, sizeof(object), "%s@%s", c->login, c->asset->name);
	conn_audit(c, c->user->name, type, object, result, importance, detail);
	free(detail);
}

/* The host key algorithms that make the target present the pinned key. */
/* The cipher order offered to the target (see GH_CIPHERS_AES_FIRST). The
 * CPU check is cpuid / the auxiliary vector: no system call, so it runs in
 * the sandboxed network child as well. */
static const char *
target_ciphers(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul"))
		return GH_CIPHERS_AES_FIRST;
#elif defined(__aarch64__)
	unsigned long hw = getauxval(AT_HWCAP);

	if ((hw & HWCAP_AES) != 0 && (hw & HWCAP_PMULL) != 0)
		return GH_CIPHERS_AES_FIRST;
#endif
	return GH_CIPHERS;
}

static const char *
hostkey_algorithms_for(const char *type)
{
	if (strcmp(type, "ssh-rsa") == 0)
		return "rsa-sha2-512,rsa-sha2-256";
	return type;
}

static char *
fingerprint(ssh_key k)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;

	if (k != NULL && ssh_get_publickey_hash(k, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
		ssh_clean_pubkey_hash(&hash);
	}
	return fp;
}

/* Compare the key the target presented with the pinned one. */
static int
check_hostkey(struct conn *c, ssh_session s, const char *pinned_type, const char *pinned_b64)
{
	ssh_key presented = NULL, pinned = NULL;
	char *fp = NULL;
	int r = ERR_DENIED;

	if (ssh_get_server_publickey(s, &presented) != SSH_OK) {
		snprintf(c->up_error, sizeof(c->up_error), "the target %s presented no host key", c->asset->name);
		goto out;
	}
	if (ssh_pki_import_pubkey_base64(pinned_b64, ssh_key_type_from_name(pinned_type), &pinned) != SSH_OK) {
		snprintf(c->up_error, sizeof(c->up_error), "the pinned host key of %s is unreadable", c->asset->name);
		goto out;
	}
	if (ssh_key_cmp(pinned, presented, SSH_KEY_CMP_PUBLIC) != 0) {
		fp = fingerprint(presented);
		snprintf(c->up_error, sizeof(c->up_error),
		         "host key mismatch for %s: the target presented %s, not the pinned host key; connection "
		         "refused",
		         c->asset->name, fp != NULL ? fp : "another key");
		error("host key mismatch for %s (%s:%d): presented %s", c->asset->name, c->asset->host, c->asset->port,
		      fp != NULL ? fp : "?");
		audit_target(c, "target.hostkey_mismatch", "blocked", AUDIT_CRITICAL, "host key mismatch", "presented",
		             fp);
		goto out;
	}
	r = 0;
out:
	ssh_string_free_char(fp);
	ssh_key_free(presented);
	ssh_key_free(pinned);
	return r;
}

/* Authenticate with the stored credential; the plaintext lives only here. */
static int
authenticate(struct conn *c, ssh_session s)
{
	struct account_rec *acc = NULL;
	struct secret_key *k = conn_master_key(c);
	uint8_t *secret = NULL;
	size_t len = 0;
	ssh_key key = NULL;
	int rc = SSH_AUTH_ERROR, r = ERR_DENIED;

	if (k == NULL || store_account_get(c->st, c->asset->id, c->login, &acc) != 0 ||
	    store_account_secret(c->st, k, acc->id, &secret, &len) != 0) {
		snprintf(c->up_error, sizeof(c->up_error), "no usable credential for %s@%s", c->login, c->asset->name);
		audit_target(c, "target.fail", "fail", AUDIT_HIGH, "no credential", NULL, NULL);
		goto out;
	}
	if (acc->kind == ACCOUNT_PASSWORD) {
		rc = ssh_userauth_password(s, NULL, (const char *)secret);
	} else if (ssh_pki_import_privkey_base64((const char *)secret, NULL, NULL, NULL, &key) == SSH_OK) {
		rc = ssh_userauth_publickey(s, NULL, key);
	}
	secret_free(secret, len);
	secret = NULL;
	if (rc != SSH_AUTH_SUCCESS) {
		snprintf(c->up_error, sizeof(c->up_error), "the target %s refused the stored credential for %s",
		         c->asset->name, c->login);
		audit_target(c, "target.fail", "fail", AUDIT_HIGH, "target refused the credential", NULL, NULL);
		goto out;
	}
	r = 0;
out:
	secret_free(secret, len);
	ssh_key_free(key); /* libssh wipes private key material on free */
	account_rec_free(acc);
	return r;
}

int
up_connect(struct conn *c)
{
	ssh_session s = NULL;
	char *pin = NULL, *type, *b64, *save = NULL;
	long timeout = c->cfg->target_connect_timeout > 0 ? c->cfg->target_connect_timeout : 10;
	int port = c->asset->port, no = 0, one = 1, r = ERR_INTERNAL;

	c->up_error[0] = '\0';
	if (c->asset->hostkey == NULL || (pin = strdup(c->asset->hostkey)) == NULL ||
	    (type = strtok_r(pin, " \t", &save)) == NULL || (b64 = strtok_r(NULL, " \t\r\n", &save)) == NULL) {
		snprintf(c->up_error, sizeof(c->up_error), "the host key of %s is not pinned; connection refused",
		         c->asset->name);
		audit_target(c, "target.hostkey_missing", "blocked", AUDIT_CRITICAL, "no pinned host key", NULL, NULL);
		goto out;
	}
	if ((s = ssh_new()) == NULL)
		goto out;
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, c->asset->host) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_USER, c->login) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_KEY_EXCHANGE, GH_KEX) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, target_ciphers()) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, target_ciphers()) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_HMAC_C_S, GH_MACS) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_HMAC_S_C, GH_MACS) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, hostkey_algorithms_for(type)) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_COMPRESSION, "none") != SSH_OK ||
	    /* Keystrokes are small writes: no Nagle delay on the target leg. */
	    ssh_options_set(s, SSH_OPTIONS_NODELAY, &one) != SSH_OK) {
		snprintf(c->up_error, sizeof(c->up_error), "cannot configure the connection to %s", c->asset->name);
		error("target options: %s", ssh_get_error(s));
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		snprintf(c->up_error, sizeof(c->up_error), "cannot connect to %s (%s:%d): %s", c->asset->name,
		         c->asset->host, port, ssh_get_error(s));
		audit_target(c, "target.fail", "fail", AUDIT_NOTICE, "connect failed", "error", ssh_get_error(s));
		goto out;
	}
	if ((r = check_hostkey(c, s, type, b64)) != 0 || (r = authenticate(c, s)) != 0)
		goto out;
	ssh_set_blocking(s, 0);
	if (ssh_event_add_session(c->ev, s) != SSH_OK) {
		snprintf(c->up_error, sizeof(c->up_error), "internal error");
		r = ERR_INTERNAL;
		goto out;
	}
	audit_target(c, "target.connect", "ok", AUDIT_INFO, NULL, NULL, NULL);
	info("connected to %s@%s (%s:%d)", c->login, c->asset->name, c->asset->host, port);
	c->up = s;
	s = NULL;
	r = 0;
out:
	if (r != 0 && c->up_error[0] == '\0')
		snprintf(c->up_error, sizeof(c->up_error), "cannot connect to %s", c->asset->name);
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	free(pin);
	return r;
}
