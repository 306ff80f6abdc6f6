/* Validation of names that users type: user, group, asset names, target
 * logins, host names. Documented in docs/admin.md. Nothing validated here is
 * ever passed to a shell; the check keeps logs, menus and the target selection
 * syntax (user@login@asset) unambiguous. */
#ifndef GH_NAMES_H
#define GH_NAMES_H

#include <stddef.h>

enum name_kind { NAME_USER, NAME_GROUP, NAME_ASSET, NAME_LOGIN, NAME_HOST };

const char *name_kind_label(enum name_kind k);
/* 0 when valid; ERR_INVALID with a one-line reason in why. */
int name_validate(enum name_kind kind, const char *s, char *why, size_t whylen);

#endif
