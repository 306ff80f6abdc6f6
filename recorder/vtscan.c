/* The terminal output scanner (see vtscan.h).
 *
 * Two layers. A UTF-8 decoder turns bytes into code points (or U+FFFD for
 * each maximal invalid subpart, as Unicode's "best practice" for decoders
 * says). The state machine is the DEC ANSI parser's: one table of
 * transitions per state, plus the transitions that apply in every state
 * (CAN, SUB, ESC and the C1 controls). A transition is a range of code
 * points, an action and the next state; entering and leaving a state runs
 * that state's entry and exit actions (clearing the sequence, starting
 * and ending a control string). Every code point from U+00A0 up belongs
 * to one class, OTHER.
 *
 * Two deviations from the DEC diagram, both from today's terminals (xterm,
 * tmux): ':' is a parameter separator in a CSI (SGR 38:2::r:g:b), marked
 * as a sub-parameter; BEL ends an OSC string. A character from U+00A0 up
 * inside an escape or control sequence abandons it (it cannot be part of
 * one); inside a DCS header it makes the string one to ignore. */
#include "recorder/vtscan.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum vts_state {
	ST_GROUND,
	ST_ESC,
	ST_ESC_INTER,
	ST_CSI_ENTRY,
	ST_CSI_PARAM,
	ST_CSI_INTER,
	ST_CSI_IGNORE,
	ST_DCS_ENTRY,
	ST_DCS_PARAM,
	ST_DCS_INTER,
	ST_DCS_PASS,
	ST_DCS_IGNORE,
	ST_OSC,
	ST_SOS_PM_APC,
	ST_COUNT,
	ST_SAME, /* a transition that stays: no exit or entry action */
};

enum vts_action {
	A_IGNORE,
	A_PRINT,
	A_EXECUTE,
	A_COLLECT,      /* an intermediate byte */
	A_MARKER,       /* a private marker at the start of the parameters */
	A_PARAM,        /* a digit or a separator */
	A_ESC_DISPATCH, /* an escape sequence is complete */
	A_CSI_DISPATCH, /* a control sequence is complete */
	A_PUT,          /* a character of a control string */
	A_ABORT,        /* the sequence is abandoned, the character dropped */
};

#define OTHER 0xa0u /* every code point from U+00A0 up */

struct transition {
	uint32_t first, last;
	enum vts_action action;
	enum vts_state next;
};

#define END                                                                                                            \
	{                                                                                                              \
		0, 0, A_IGNORE, ST_COUNT                                                                               \
	}
/* The C0 controls other than CAN, SUB and ESC (which apply anywhere). */
#define C0(act)                                                                                                        \
	{0x00, 0x17, act, ST_SAME}, {0x19, 0x19, act, ST_SAME},                                                        \
	{                                                                                                              \
		0x1c, 0x1f, act, ST_SAME                                                                               \
	}

static const struct transition t_anywhere[] = {
        {0x18, 0x18, A_EXECUTE, ST_GROUND}, /* CAN */
        {0x1a, 0x1a, A_EXECUTE, ST_GROUND}, /* SUB */
        {0x1b, 0x1b, A_IGNORE, ST_ESC},
        {0x80, 0x8f, A_EXECUTE, ST_GROUND},
        {0x90, 0x90, A_IGNORE, ST_DCS_ENTRY},
        {0x91, 0x97, A_EXECUTE, ST_GROUND},
        {0x98, 0x98, A_IGNORE, ST_SOS_PM_APC},
        {0x99, 0x9a, A_EXECUTE, ST_GROUND},
        {0x9b, 0x9b, A_IGNORE, ST_CSI_ENTRY},
        {0x9c, 0x9c, A_IGNORE, ST_GROUND}, /* ST */
        {0x9d, 0x9d, A_IGNORE, ST_OSC},
        {0x9e, 0x9f, A_IGNORE, ST_SOS_PM_APC},
        END,
};

static const struct transition t_ground[] = {
        C0(A_EXECUTE),
        {0x20, 0x7e, A_PRINT, ST_SAME},
        {0x7f, 0x7f, A_EXECUTE, ST_SAME}, /* DEL: the caller decides (text shows it) */
        {OTHER, OTHER, A_PRINT, ST_SAME},
        END,
};

static const struct transition t_esc[] = {
        C0(A_EXECUTE),
        {0x20, 0x2f, A_COLLECT, ST_ESC_INTER},
        {0x30, 0x4f, A_ESC_DISPATCH, ST_GROUND},
        {0x50, 0x50, A_IGNORE, ST_DCS_ENTRY}, /* ESC P */
        {0x51, 0x57, A_ESC_DISPATCH, ST_GROUND},
        {0x58, 0x58, A_IGNORE, ST_SOS_PM_APC}, /* ESC X */
        {0x59, 0x5a, A_ESC_DISPATCH, ST_GROUND},
        {0x5b, 0x5b, A_IGNORE, ST_CSI_ENTRY}, /* ESC [ */
        {0x5c, 0x5c, A_ESC_DISPATCH, ST_GROUND},
        {0x5d, 0x5d, A_IGNORE, ST_OSC},        /* ESC ] */
        {0x5e, 0x5f, A_IGNORE, ST_SOS_PM_APC}, /* ESC ^, ESC _ */
        {0x60, 0x7e, A_ESC_DISPATCH, ST_GROUND},
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_ABORT, ST_GROUND},
        END,
};

static const struct transition t_esc_inter[] = {
        C0(A_EXECUTE),
        {0x20, 0x2f, A_COLLECT, ST_SAME},
        {0x30, 0x7e, A_ESC_DISPATCH, ST_GROUND},
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_ABORT, ST_GROUND},
        END,
};

static const struct transition t_csi_entry[] = {
        C0(A_EXECUTE),
        {0x20, 0x2f, A_COLLECT, ST_CSI_INTER},
        {0x30, 0x3b, A_PARAM, ST_CSI_PARAM},
        {0x3c, 0x3f, A_MARKER, ST_CSI_PARAM},
        {0x40, 0x7e, A_CSI_DISPATCH, ST_GROUND},
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_ABORT, ST_GROUND},
        END,
};

static const struct transition t_csi_param[] = {
        C0(A_EXECUTE),
        {0x20, 0x2f, A_COLLECT, ST_CSI_INTER},
        {0x30, 0x3b, A_PARAM, ST_SAME},
        {0x3c, 0x3f, A_IGNORE, ST_CSI_IGNORE},
        {0x40, 0x7e, A_CSI_DISPATCH, ST_GROUND},
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_ABORT, ST_GROUND},
        END,
};

static const struct transition t_csi_inter[] = {
        C0(A_EXECUTE),
        {0x20, 0x2f, A_COLLECT, ST_SAME},
        {0x30, 0x3f, A_IGNORE, ST_CSI_IGNORE},
        {0x40, 0x7e, A_CSI_DISPATCH, ST_GROUND},
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_ABORT, ST_GROUND},
        END,
};

static const struct transition t_csi_ignore[] = {
        C0(A_EXECUTE),
        {0x20, 0x3f, A_IGNORE, ST_SAME},
        {0x40, 0x7e, A_CSI_DISPATCH, ST_GROUND}, /* reported as bad */
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_ABORT, ST_GROUND},
        END,
};

static const struct transition t_dcs_entry[] = {
        C0(A_IGNORE),
        {0x20, 0x2f, A_COLLECT, ST_DCS_INTER},
        {0x30, 0x39, A_PARAM, ST_DCS_PARAM},
        {0x3a, 0x3a, A_IGNORE, ST_DCS_IGNORE},
        {0x3b, 0x3b, A_PARAM, ST_DCS_PARAM},
        {0x3c, 0x3f, A_MARKER, ST_DCS_PARAM},
        {0x40, 0x7e, A_IGNORE, ST_DCS_PASS}, /* hook */
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_IGNORE, ST_DCS_IGNORE},
        END,
};

static const struct transition t_dcs_param[] = {
        C0(A_IGNORE),
        {0x20, 0x2f, A_COLLECT, ST_DCS_INTER},
        {0x30, 0x39, A_PARAM, ST_SAME},
        {0x3a, 0x3a, A_IGNORE, ST_DCS_IGNORE},
        {0x3b, 0x3b, A_PARAM, ST_SAME},
        {0x3c, 0x3f, A_IGNORE, ST_DCS_IGNORE},
        {0x40, 0x7e, A_IGNORE, ST_DCS_PASS},
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_IGNORE, ST_DCS_IGNORE},
        END,
};

static const struct transition t_dcs_inter[] = {
        C0(A_IGNORE),
        {0x20, 0x2f, A_COLLECT, ST_SAME},
        {0x30, 0x3f, A_IGNORE, ST_DCS_IGNORE},
        {0x40, 0x7e, A_IGNORE, ST_DCS_PASS},
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_IGNORE, ST_DCS_IGNORE},
        END,
};

static const struct transition t_dcs_pass[] = {
        C0(A_PUT), {0x20, 0x7e, A_PUT, ST_SAME}, {0x7f, 0x7f, A_IGNORE, ST_SAME}, {OTHER, OTHER, A_PUT, ST_SAME}, END,
};

static const struct transition t_dcs_ignore[] = {
        C0(A_IGNORE),
        {0x20, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_IGNORE, ST_SAME},
        END,
};

static const struct transition t_osc[] = {
        {0x00, 0x06, A_IGNORE, ST_SAME},
        {0x07, 0x07, A_IGNORE, ST_GROUND}, /* BEL ends it (xterm) */
        {0x08, 0x17, A_IGNORE, ST_SAME},
        {0x19, 0x19, A_IGNORE, ST_SAME},
        {0x1c, 0x1f, A_IGNORE, ST_SAME},
        {0x20, 0x7e, A_PUT, ST_SAME},
        {0x7f, 0x7f, A_IGNORE, ST_SAME},
        {OTHER, OTHER, A_PUT, ST_SAME},
        END,
};

static const struct transition t_sos_pm_apc[] = {
        C0(A_IGNORE), {0x20, 0x7e, A_PUT, ST_SAME}, {0x7f, 0x7f, A_IGNORE, ST_SAME}, {OTHER, OTHER, A_PUT, ST_SAME},
        END,
};

static const struct transition *const state_table[ST_COUNT] = {
        [ST_GROUND] = t_ground,
        [ST_ESC] = t_esc,
        [ST_ESC_INTER] = t_esc_inter,
        [ST_CSI_ENTRY] = t_csi_entry,
        [ST_CSI_PARAM] = t_csi_param,
        [ST_CSI_INTER] = t_csi_inter,
        [ST_CSI_IGNORE] = t_csi_ignore,
        [ST_DCS_ENTRY] = t_dcs_entry,
        [ST_DCS_PARAM] = t_dcs_param,
        [ST_DCS_INTER] = t_dcs_inter,
        [ST_DCS_PASS] = t_dcs_pass,
        [ST_DCS_IGNORE] = t_dcs_ignore,
        [ST_OSC] = t_osc,
        [ST_SOS_PM_APC] = t_sos_pm_apc,
};

/* The transition lists above, expanded once into a dense table indexed by
 * state and class (the lists stay the definition; the table is how they
 * are looked up: a linear search per byte was a third of the time). */
struct dense {
	uint8_t action; /* enum vts_action */
	uint8_t next;   /* enum vts_state, ST_SAME included */
};

static struct dense dense[ST_COUNT][OTHER + 1];
static pthread_once_t dense_once = PTHREAD_ONCE_INIT;

static const struct transition *
lookup(const struct transition *t, uint32_t cls)
{
	for (; t->next != ST_COUNT; t++)
		if (cls >= t->first && cls <= t->last)
			return t;
	return NULL;
}

static void
dense_build(void)
{
	for (int st = 0; st < ST_COUNT; st++)
		for (uint32_t cls = 0; cls <= OTHER; cls++) {
			const struct transition *t = lookup(t_anywhere, cls);

			if (t == NULL)
				t = lookup(state_table[st], cls);
			/* every class has a transition in every state; an
			 * entry missing would make the character ignored */
			dense[st][cls].action = t != NULL ? (uint8_t)t->action : A_IGNORE;
			dense[st][cls].next = t != NULL ? (uint8_t)t->next : ST_SAME;
		}
}

struct vtscan {
	enum vtscan_mode mode;
	vtscan_fn fn;
	void *arg;
	enum vts_state state;
	uint64_t off; /* bytes scanned */
	/* UTF-8 decoder */
	uint32_t u8cp;      /* the character so far */
	int u8need;         /* continuation bytes still expected */
	uint8_t u8lo, u8hi; /* the range of the next continuation byte */
	uint64_t u8start;   /* offset of the lead byte */
	uint64_t cur_start; /* offsets of the code point being processed */
	uint64_t cur_end;
	int cur_invalid; /* it stands for bytes that are not UTF-8 */
	/* the sequence or string being collected */
	struct vtscan_event seq;
	/* a character's event: zeroed once, only its own fields change (a
	 * memset of the whole event per character cost half the time) */
	struct vtscan_event chr;
	int ninter;
	int param_started; /* a digit or separator was seen (the first parameter exists) */
	uint64_t seq_start;
};

struct vtscan *
vtscan_new(enum vtscan_mode mode, vtscan_fn fn, void *arg)
{
	struct vtscan *vs;

	if (pthread_once(&dense_once, dense_build) != 0 || (vs = calloc(1, sizeof(*vs))) == NULL)
		return NULL;
	vs->mode = mode;
	vs->fn = fn;
	vs->arg = arg;
	vs->state = ST_GROUND;
	return vs;
}

void
vtscan_free(struct vtscan *vs)
{
	free(vs);
}

uint64_t
vtscan_offset(const struct vtscan *vs)
{
	return vs->off;
}

int
vtscan_idle(const struct vtscan *vs)
{
	return vs->state == ST_GROUND && vs->u8need == 0;
}

static void
emit_char(struct vtscan *vs, enum vtscan_kind kind, uint32_t cp)
{
	struct vtscan_event *ev = &vs->chr;

	ev->kind = kind;
	ev->cp = cp;
	ev->invalid = kind == VTSCAN_PRINT && vs->cur_invalid;
	ev->str = vs->seq.str;
	ev->start = vs->cur_start;
	ev->end = vs->cur_end;
	vs->fn(ev, vs->arg);
}

/* A sequence (or a string's start or end) with what was collected. */
static void
emit_seq(struct vtscan *vs, enum vtscan_kind kind, char final, uint64_t end)
{
	vs->seq.kind = kind;
	vs->seq.final = final;
	vs->seq.cp = 0;
	vs->seq.invalid = 0;
	vs->seq.start = vs->seq_start;
	vs->seq.end = end;
	vs->fn(&vs->seq, vs->arg);
}

/* Parameters are written as they come, so only the counts and flags are
 * reset. */
static void
clear_seq(struct vtscan *vs)
{
	vs->seq.nparams = 0;
	vs->seq.sub = 0;
	vs->seq.bad = 0;
	vs->seq.marker = 0;
	vs->seq.inter[0] = '\0';
	vs->ninter = 0;
	vs->param_started = 0;
}

static void
collect(struct vtscan *vs, uint32_t cp)
{
	if (vs->ninter >= VTSCAN_INTER_MAX) {
		vs->seq.bad = 1;
		return;
	}
	vs->seq.inter[vs->ninter++] = (char)cp;
	vs->seq.inter[vs->ninter] = '\0';
}

static void
param(struct vtscan *vs, uint32_t cp)
{
	struct vtscan_event *s = &vs->seq;

	if (!vs->param_started) {
		vs->param_started = 1;
		s->nparams = 1;
		s->param[0] = VTSCAN_PARAM_DEFAULT;
	}
	if (cp == ';' || cp == ':') {
		if (s->nparams >= VTSCAN_PARAMS_MAX) {
			s->bad = 1; /* digits after this go nowhere */
			return;
		}
		s->param[s->nparams] = VTSCAN_PARAM_DEFAULT;
		if (cp == ':')
			s->sub |= 1u << s->nparams;
		s->nparams++;
		return;
	}
	if (s->bad && s->nparams >= VTSCAN_PARAMS_MAX)
		return;
	int32_t *p = &s->param[s->nparams - 1];
	int32_t v = *p == VTSCAN_PARAM_DEFAULT ? 0 : *p;

	v = v * 10 + (int32_t)(cp - '0');
	*p = v > VTSCAN_PARAM_MAX ? VTSCAN_PARAM_MAX : v;
}

static enum vtscan_str
string_kind(uint32_t introducer)
{
	switch (introducer) {
	case 'X':
	case 0x98: return VTSCAN_SOS;
	case '^':
	case 0x9e: return VTSCAN_PM;
	case '_':
	case 0x9f: return VTSCAN_APC;
	case 'P':
	case 0x90: return VTSCAN_DCS;
	default: return VTSCAN_OSC;
	}
}

static int
in_string(enum vts_state s)
{
	return s == ST_OSC || s == ST_SOS_PM_APC || s == ST_DCS_PASS || s == ST_DCS_IGNORE;
}

/* Leave the current state for next (cp caused it). */
static void
transition_to(struct vtscan *vs, enum vts_state next, uint32_t cp)
{
	enum vts_state prev = vs->state;

	if (in_string(prev)) {
		/* An ESC or a C1 introducer belongs to what follows. */
		uint64_t end = cp == 0x1b || (cp >= 0x80 && cp < 0xa0 && cp != 0x9c) ? vs->cur_start : vs->cur_end;

		emit_seq(vs, VTSCAN_STR_END, 0, end);
	}
	if (cp == 0x1b || (cp >= 0x80 && cp < 0xa0))
		vs->seq_start = vs->cur_start; /* an introducer: what follows belongs to it */
	vs->state = next;
	switch (next) {
	case ST_ESC:
	case ST_CSI_ENTRY:
	case ST_DCS_ENTRY:
		clear_seq(vs);
		if (next == ST_DCS_ENTRY)
			vs->seq.str = VTSCAN_DCS;
		break;
	case ST_CSI_IGNORE: vs->seq.bad = 1; break;
	case ST_OSC:
	case ST_SOS_PM_APC:
		clear_seq(vs);
		vs->seq.str = string_kind(cp);
		emit_seq(vs, VTSCAN_STR_START, 0, vs->cur_end);
		break;
	case ST_DCS_PASS: /* hook: the header is complete */
		vs->seq.str = VTSCAN_DCS;
		emit_seq(vs, VTSCAN_STR_START, (char)cp, vs->cur_end);
		break;
	case ST_DCS_IGNORE:
		vs->seq.str = VTSCAN_DCS;
		vs->seq.bad = 1;
		emit_seq(vs, VTSCAN_STR_START, 0, vs->cur_end);
		break;
	default: break;
	}
}

static void
act(struct vtscan *vs, enum vts_action a, uint32_t cp)
{
	switch (a) {
	case A_IGNORE: break;
	case A_PRINT: emit_char(vs, VTSCAN_PRINT, cp); break;
	case A_EXECUTE: emit_char(vs, VTSCAN_EXECUTE, cp); break;
	case A_COLLECT: collect(vs, cp); break;
	case A_MARKER: vs->seq.marker = (char)cp; break;
	case A_PARAM: param(vs, cp); break;
	case A_ESC_DISPATCH: emit_seq(vs, VTSCAN_ESC, (char)cp, vs->cur_end); break;
	case A_CSI_DISPATCH: emit_seq(vs, VTSCAN_CSI, (char)cp, vs->cur_end); break;
	case A_PUT: emit_char(vs, VTSCAN_STR_PUT, cp); break;
	case A_ABORT: break;
	}
}

/* One code point through the state machine. */
static void
feed(struct vtscan *vs, uint32_t cp)
{
	uint32_t cls = cp < OTHER ? cp : OTHER;
	const struct dense *t;

	if (vs->mode == VTSCAN_LITERAL) {
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			emit_char(vs, VTSCAN_EXECUTE, cp);
		else
			emit_char(vs, VTSCAN_PRINT, cp);
		return;
	}
	/* the common case first: text */
	if (vs->state == ST_GROUND && ((cp >= 0x20 && cp < 0x7f) || cp >= OTHER)) {
		emit_char(vs, VTSCAN_PRINT, cp);
		return;
	}
	t = &dense[vs->state][cls];
	if (t->next == ST_SAME) {
		act(vs, t->action, cp);
		return;
	}
	/* DEC's order: exit action, transition action, entry action. The
	 * transition actions that end a sequence report it before any
	 * string starts (none does both). */
	if (t->action == A_EXECUTE || t->action == A_ESC_DISPATCH || t->action == A_CSI_DISPATCH) {
		if (in_string(vs->state))
			transition_to(vs, ST_GROUND, cp);
		act(vs, t->action, cp);
		if (t->next != ST_GROUND || vs->state != ST_GROUND)
			transition_to(vs, t->next, cp);
		return;
	}
	act(vs, t->action, cp);
	transition_to(vs, t->next, cp);
}

/* A decoded code point, or U+FFFD for bytes that are not UTF-8. */
static void
deliver(struct vtscan *vs, uint32_t cp, uint64_t start, uint64_t end, int invalid)
{
	vs->cur_start = start;
	vs->cur_end = end;
	vs->cur_invalid = invalid;
	feed(vs, cp);
}

void
vtscan_write(struct vtscan *vs, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++, vs->off++) {
		uint8_t b = p[i];

		if (vs->u8need > 0) {
			if (b >= vs->u8lo && b <= vs->u8hi) {
				vs->u8cp = (vs->u8cp << 6) | (b & 0x3fu);
				vs->u8lo = 0x80;
				vs->u8hi = 0xbf;
				if (--vs->u8need == 0)
					deliver(vs, vs->u8cp, vs->u8start, vs->off + 1, 0);
				continue;
			}
			/* The character is cut short: what came of it is one
			 * U+FFFD, and this byte starts afresh. */
			vs->u8need = 0;
			deliver(vs, 0xfffd, vs->u8start, vs->off, 1);
		}
		if (b < 0x80) {
			deliver(vs, b, vs->off, vs->off + 1, 0);
			continue;
		}
		vs->u8start = vs->off;
		vs->u8lo = 0x80;
		vs->u8hi = 0xbf;
		if (b >= 0xc2 && b <= 0xdf) {
			vs->u8need = 1;
			vs->u8cp = b & 0x1fu;
		} else if (b >= 0xe0 && b <= 0xef) {
			vs->u8need = 2;
			vs->u8cp = b & 0x0fu;
			if (b == 0xe0)
				vs->u8lo = 0xa0; /* no overlong forms */
			else if (b == 0xed)
				vs->u8hi = 0x9f; /* no surrogates */
		} else if (b >= 0xf0 && b <= 0xf4) {
			vs->u8need = 3;
			vs->u8cp = b & 0x07u;
			if (b == 0xf0)
				vs->u8lo = 0x90;
			else if (b == 0xf4)
				vs->u8hi = 0x8f; /* nothing above U+10FFFF */
		} else {
			/* a continuation byte out of place, C0, C1, F5..FF */
			deliver(vs, 0xfffd, vs->off, vs->off + 1, 1);
		}
	}
}

void
vtscan_finish(struct vtscan *vs)
{
	if (vs->u8need > 0) {
		vs->u8need = 0;
		deliver(vs, 0xfffd, vs->u8start, vs->off, 1);
	}
	if (in_string(vs->state)) {
		vs->cur_start = vs->cur_end = vs->off;
		emit_seq(vs, VTSCAN_STR_END, 0, vs->off);
	}
	vs->state = ST_GROUND;
}
