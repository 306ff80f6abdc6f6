/* The target menu. Keys are read from the operator channel with
 * ssh_channel_read_nonblocking() outside the poll (the data callback only
 * flags them), the screen is redrawn whole after each batch of keys. */
#include "proxy/srv-menu.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/route.h"
#include "proxy/sessrec.h"

#define MENU_FILTER_MAX 64
#define MENU_SCREEN_MAX 16384

enum key_state { KS_NORMAL, KS_ESC, KS_CSI }; /* escape sequence parser */

struct menu {
	struct route_entry *e;
	size_t n;
	char filter[MENU_FILTER_MAX];
	size_t sel; /* index among the entries that match the filter */
	int dirty;  /* redraw needed */
	enum key_state ks;
};

void
menu_free(struct menu *m)
{
	if (m == NULL)
		return;
	route_entries_free(m->e, m->n);
	free(m);
}

int
menu_start(struct conn *c, struct chan *ch)
{
	struct menu *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return ERR_NOMEM;
	if (route_menu_entries(c, &m->e, &m->n) != 0) {
		free(m);
		return ERR_INTERNAL;
	}
	m->dirty = 1;
	ch->menu = m;
	return 0;
}

static int
is_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Numbers match by prefix of the entry number, anything else by a
 * case-insensitive substring of "login@asset host". */
static int
entry_matches(const struct menu *m, size_t i)
{
	char num[24], text[600];

	if (m->filter[0] == '\0')
		return 1;
	if (is_digits(m->filter)) {
		snprintf(num, sizeof(num), "%zu", i + 1);
		return strncmp(num, m->filter, strlen(m->filter)) == 0;
	}
	snprintf(text, sizeof(text), "%s@%s %s", m->e[i].login, m->e[i].asset, m->e[i].host);
	return strcasestr(text, m->filter) != NULL;
}

static size_t
count_matches(const struct menu *m)
{
	size_t i, k = 0;

	for (i = 0; i < m->n; i++)
		k += entry_matches(m, i);
	return k;
}

/* The index of the sel-th matching entry, or m->n. */
static size_t
nth_match(const struct menu *m, size_t sel)
{
	size_t i, k = 0;

	for (i = 0; i < m->n; i++) {
		if (!entry_matches(m, i))
			continue;
		if (k++ == sel)
			return i;
	}
	return m->n;
}

static void
draw(struct conn *c, struct chan *ch, struct menu *m)
{
	char *scr = malloc(MENU_SCREEN_MAX);
	size_t len = 0, i, k = 0, shown = 0, matches = count_matches(m);
	size_t room = ch->rows > 6 ? (size_t)ch->rows - 5 : 5, first = 0;
	int n;

	if (scr == NULL)
		return;
	if (m->sel >= room)
		first = m->sel - room + 1;
#define PUT(...)                                                                                                       \
	do {                                                                                                           \
		n = snprintf(scr + len, MENU_SCREEN_MAX - len, __VA_ARGS__);                                           \
		if (n > 0 && (size_t)n < MENU_SCREEN_MAX - len)                                                        \
			len += (size_t)n;                                                                              \
	} while (0)
	PUT("\x1b[H\x1b[2JGatehouse - %s: choose a target (type to filter, arrows, Enter; q quits)\r\n\r\n",
	    c->user->name);
	for (i = 0; i < m->n && shown < room; i++) {
		if (!entry_matches(m, i))
			continue;
		if (k++ < first)
			continue;
		PUT("%s %3zu  %s@%s  (%s)%s\r\n", k - 1 == m->sel ? "\x1b[7m>" : " ", i + 1, m->e[i].login,
		    m->e[i].asset, m->e[i].host, k - 1 == m->sel ? "\x1b[0m" : "");
		shown++;
	}
	if (matches == 0)
		PUT("  (nothing matches)\r\n");
	PUT("\r\nfilter: %s", m->filter);
#undef PUT
	if (ssh_channel_window_size(ch->down) >= len && ssh_channel_write(ch->down, scr, (uint32_t)len) == (int)len) {
		m->dirty = 0;
		sessrec_write(c, REC_DATA_OUT, ch->num, scr, len); /* what the operator saw */
	}
	free(scr);
}

static void
move_sel(struct menu *m, int delta)
{
	size_t matches = count_matches(m);

	if (matches == 0)
		return;
	if (delta < 0 && m->sel > 0)
		m->sel--;
	else if (delta > 0 && m->sel + 1 < matches)
		m->sel++;
}

/* Feed one key byte. Returns MENU_CHOSEN/MENU_QUIT or MENU_PENDING. */
static enum menu_result
key(struct conn *c, struct chan *ch, struct menu *m, unsigned char b)
{
	size_t fl = strlen(m->filter), idx;

	m->dirty = 1;
	if (m->ks == KS_ESC) {
		m->ks = (b == '[' || b == 'O') ? KS_CSI : KS_NORMAL;
		if (m->ks == KS_NORMAL)
			m->filter[0] = '\0';
		return MENU_PENDING;
	}
	if (m->ks == KS_CSI) {
		if (b >= 0x40 && b <= 0x7e) {
			m->ks = KS_NORMAL;
			if (b == 'A')
				move_sel(m, -1);
			else if (b == 'B')
				move_sel(m, 1);
		}
		return MENU_PENDING;
	}
	switch (b) {
	case 0x1b: m->ks = KS_ESC; return MENU_PENDING;
	case 0x03:
	case 0x04: return MENU_QUIT;
	case '\r':
	case '\n':
		idx = nth_match(m, m->sel);
		if (idx >= m->n)
			return MENU_PENDING;
		if (route_choose(c, m->e[idx].asset, m->e[idx].login) != 0)
			return MENU_QUIT;
		return MENU_CHOSEN;
	case 0x7f:
	case 0x08:
		if (fl > 0)
			m->filter[fl - 1] = '\0';
		m->sel = 0;
		return MENU_PENDING;
	default: break;
	}
	if (b == 'q' && fl == 0)
		return MENU_QUIT;
	if (b > 0x20 && b < 0x7f && fl + 1 < sizeof(m->filter)) {
		m->filter[fl] = (char)b;
		m->filter[fl + 1] = '\0';
		m->sel = 0;
	}
	return MENU_PENDING;
}

enum menu_result
menu_step(struct conn *c, struct chan *ch)
{
	struct menu *m = ch->menu;
	unsigned char buf[256];
	enum menu_result res = MENU_PENDING;
	int n, i;

	if (m == NULL)
		return MENU_QUIT;
	if (m->n == 0) {
		chan_refuse(ch, "no asset is granted to you now", 1);
		return MENU_PENDING;
	}
	if (ch->down_close_rcvd || ch->down_eof_rcvd)
		return MENU_QUIT;
	if (ch->resize_pending) {
		ch->resize_pending = 0;
		m->dirty = 1;
	}
	while (res == MENU_PENDING && ch->down_rx) {
		n = ssh_channel_read_nonblocking(ch->down, buf, sizeof(buf), 0);
		if (n <= 0) {
			ch->down_rx = 0;
			if (n == SSH_EOF || n == SSH_ERROR)
				return MENU_QUIT;
			break;
		}
		c->last_activity_ms = time_mono_ms(); /* typing in the menu is activity */
		sessrec_write(c, REC_DATA_IN, ch->num, buf, (size_t)n);
		if (ch->setup != CS_MENU)
			return MENU_PENDING; /* the recorder failed: the channel is closing */
		for (i = 0; i < n && res == MENU_PENDING; i++)
			res = key(c, ch, m, buf[i]);
	}
	if (res == MENU_QUIT) {
		if (ssh_channel_window_size(ch->down) > 16 && ssh_channel_write(ch->down, "\x1b[H\x1b[2J", 7) == 7)
			sessrec_write(c, REC_DATA_OUT, ch->num, "\x1b[H\x1b[2J", 7);
		return ch->setup == CS_MENU ? res : MENU_PENDING;
	}
	if (res == MENU_CHOSEN) {
		char line[300];
		int len = snprintf(line, sizeof(line), "\x1b[H\x1b[2JConnecting to %s@%s ...\r\n", c->login,
		                   c->asset->name);

		if (len > 0 && (size_t)len < sizeof(line) && ssh_channel_window_size(ch->down) >= (uint32_t)len &&
		    ssh_channel_write(ch->down, line, (uint32_t)len) == len)
			sessrec_write(c, REC_DATA_OUT, ch->num, line, (size_t)len);
		menu_free(ch->menu);
		ch->menu = NULL;
		return ch->setup == CS_MENU ? res : MENU_PENDING;
	}
	if (m->dirty)
		draw(c, ch, m);
	return MENU_PENDING;
}
