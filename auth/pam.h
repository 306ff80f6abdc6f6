/* PAM password backend for users created with --auth pam. */
#ifndef GH_PAM_H
#define GH_PAM_H

/* Authenticate user with password through PAM service `service` (pam_authenticate
 * then pam_acct_mgmt). confdir: a private configuration directory for
 * pam_start_confdir, or NULL/"" for the system's. Returns 0, ERR_DENIED,
 * ERR_EXPIRED (account/password expired per PAM) or ERR_INTERNAL. */
int pam_check_password(const char *service, const char *confdir, const char *user, const char *password);

#endif
