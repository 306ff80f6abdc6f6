/* Schema migrations, keyed on PRAGMA user_version. Migration i (1-based)
 * takes the database from version i-1 to i. Never edit a released migration:
 * append a new one. */
#ifndef GH_SCHEMA_H
#define GH_SCHEMA_H

#include <stddef.h>

extern const char *const schema_migrations[];
extern const size_t schema_migrations_count;

#endif
