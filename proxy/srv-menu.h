/* The target menu drawn in the operator's pty channel: numbered asset/login
 * pairs, filter as you type, arrow keys, Enter, q to quit. */
#ifndef GH_PROXY_SRV_MENU_H
#define GH_PROXY_SRV_MENU_H

struct conn;
struct chan;
struct menu;

enum menu_result { MENU_PENDING, MENU_CHOSEN, MENU_QUIT };

int menu_start(struct conn *c, struct chan *ch);
/* Read the keys waiting on the channel, redraw; MENU_CHOSEN once a target
 * was picked (route_choose done). */
enum menu_result menu_step(struct conn *c, struct chan *ch);
void menu_free(struct menu *m);

#endif
