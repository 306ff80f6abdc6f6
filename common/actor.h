/* Who runs a local tool, for the audit trail's actor field. */
#ifndef GH_ACTOR_H
#define GH_ACTOR_H

/* The OS user running this process ("root", "alice"); through sudo, also
 * who invoked it ("root(sudo:alice)"). Only root's SUDO_USER is believed:
 * anybody else could set the variable. malloc'd; NULL when out of memory. */
char *actor_local(void);

#endif
