/* PAM password backend: users created with `--auth pam` have no password hash
 * of ours; their password is checked by the PAM service `gatehouse` (or the
 * configured one). The TOTP factor stays ours either way.
 *
 * The conversation answers exactly one kind of question, a no-echo prompt,
 * with the password the operator already typed at our own `Password:` prompt.
 * Anything else a module asks (an echoed prompt, a new password for a
 * chauthtok dialogue) is refused: the operator is not in a conversation with
 * PAM, and guessing an answer could hand the password to the wrong question. */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/pam.h"
#include "common/err.h"

/* What the conversation needs: the password to give, and whether a module
 * asked for something we could not answer (reported as ERR_INTERNAL rather
 * than as a wrong password, so that a misconfigured stack is visible). */
struct pam_answer {
	const char *password; /* borrowed from the caller, never copied here except into PAM's replies */
	int refused;          /* a prompt type we do not answer was seen */
};

static void
free_responses(struct pam_response *resp, int n)
{
	int i;

	if (resp == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (resp[i].resp != NULL) {
			explicit_bzero(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
}

/* Linux-PAM passes msg as an array of pointers (Solaris as a pointer to an
 * array); indexing msg[i] is the Linux reading, and this file is Linux-only. */
static int
gatehouse_conv(int num_msg, const struct pam_message **msg, struct pam_response **out, void *appdata)
{
	struct pam_answer *ans = appdata;
	struct pam_response *resp = NULL;
	int i;

	if (out == NULL || msg == NULL || ans == NULL || num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	*out = NULL;
	resp = calloc((size_t)num_msg, sizeof(*resp));
	if (resp == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < num_msg; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			/* PAM frees each reply with free(): hand it its own copy. */
			resp[i].resp = strdup(ans->password);
			if (resp[i].resp == NULL) {
				free_responses(resp, num_msg);
				return PAM_BUF_ERR;
			}
			break;
		case PAM_TEXT_INFO:
		case PAM_ERROR_MSG:
			/* Informational: nothing to answer, nobody to show it to. */
			break;
		default:
			/* PAM_PROMPT_ECHO_ON (a username or an OTP from another
			 * module) or a binary prompt: not ours to answer. */
			ans->refused = 1;
			free_responses(resp, num_msg);
			return PAM_CONV_ERR;
		}
	}
	*out = resp;
	return PAM_SUCCESS;
}

/* Map a PAM result of pam_authenticate/pam_acct_mgmt to our error codes. */
static int
map_pam_result(int pr)
{
	switch (pr) {
	case PAM_SUCCESS: return 0;
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_ACCT_EXPIRED:
	case PAM_AUTHTOK_EXPIRED: return ERR_EXPIRED;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_PERM_DENIED:
	case PAM_CRED_INSUFFICIENT:
	case PAM_MAXTRIES: return ERR_DENIED;
	/* PAM_AUTHINFO_UNAVAIL (shadow unreadable, directory down) and the
	 * rest are the system's fault, not a wrong password: they must not
	 * count towards the operator's lockout. */
	default: return ERR_INTERNAL;
	}
}

/* 1 when a private configuration directory holds a stack for service (or
 * the `other` fallback Linux-PAM would use). Checked first because libpam
 * 1.5 leaks its handle when pam_start_confdir finds no stack, and a
 * misconfiguration deserves a plain failure anyway. */
static int
confdir_has_service(const char *confdir, const char *service)
{
	char path[4096];
	int n;

	if (strchr(service, '/') != NULL)
		return 0;
	n = snprintf(path, sizeof(path), "%s/%s", confdir, service);
	if (n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0)
		return 1;
	n = snprintf(path, sizeof(path), "%s/other", confdir);
	return n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0;
}

/* PAM's failure delay (pam_unix, pam_faildelay) sleeps only after a wrong
 * password, so its length told right from wrong (issue 15: about 2 s against
 * 34 ms). With PAM_FAIL_DELAY set libpam calls this instead of sleeping;
 * the caller pads every outcome to one constant time (srv-auth.c, pam_time)
 * and keeps its own failure padding, lockout and source penalties. */
static void
no_fail_delay(int retval, unsigned usec_delay, void *appdata)
{
	(void)retval;
	(void)usec_delay;
	(void)appdata;
}

int
pam_check_password(const char *service, const char *confdir, const char *user, const char *password)
{
	struct pam_answer ans = {password, 0};
	struct pam_conv conv = {gatehouse_conv, &ans};
	pam_handle_t *pamh = NULL;
	int pr = PAM_SYSTEM_ERR;
	int r = ERR_INTERNAL;

	if (service == NULL || *service == '\0' || user == NULL || *user == '\0' || password == NULL)
		return ERR_INVALID;
	if (confdir != NULL && *confdir != '\0') {
		if (!confdir_has_service(confdir, service))
			return ERR_INTERNAL;
		pr = pam_start_confdir(service, user, &conv, confdir, &pamh);
	} else
		pr = pam_start(service, user, &conv, &pamh);
	if (pr != PAM_SUCCESS) {
		pamh = NULL; /* pam_start leaves it undefined on failure */
		r = ERR_INTERNAL;
		goto out;
	}
	if ((pr = pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_fail_delay)) != PAM_SUCCESS) {
		r = ERR_INTERNAL;
		goto out;
	}
	/* PAM_SILENT: modules must not try to talk to a terminal we do not
	 * have; PAM_DISALLOW_NULL_AUTHTOK: an empty password never passes. */
	pr = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (pr != PAM_SUCCESS) {
		r = ans.refused ? ERR_INTERNAL : map_pam_result(pr);
		goto out;
	}
	/* The account phase decides expiry and locks (shadow aging, pam_time,
	 * pam_access ...): a right password is not enough. */
	pr = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (pr != PAM_SUCCESS) {
		r = ans.refused ? ERR_INTERNAL : map_pam_result(pr);
		goto out;
	}
	r = 0;
out:
	if (pamh != NULL)
		pam_end(pamh, pr);
	return r;
}
