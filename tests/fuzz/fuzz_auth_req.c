/* libFuzzer target for the monitor's request parser: the fixed-size
 * struct auth_req the network child sends over the socketpair (privsep.c
 * privsep_read_request -> auth_req_sanitize). The child runs libssh on
 * network bytes before authentication, so every byte of a request is
 * hostile. The input fills a request (shorter inputs leave zeroes, as a
 * child could send), which crosses a real SOCK_SEQPACKET socketpair the way
 * the monitor reads it; then the invariants srv-auth.c relies on are
 * checked, and the strings go through what the monitor does with them
 * before it touches the store (the user@login@asset parser, the user name
 * rules, the public key import). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "common/names.h"
#include "proxy/privsep.h"
#include "proxy/srv-auth.h"
#include "proxy/target.h"

static int sp[2] = {-1, -1};

static void
check_terminated(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_req in, out;
	struct target_spec spec;
	char why[128];
	ssh_key key = NULL;
	int r;

	if (sp[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) != 0)
		abort();
	memset(&in, 0, sizeof(in));
	memcpy(&in, data, size < sizeof(in) ? size : sizeof(in));
	if (send(sp[1], &in, sizeof(in), 0) != (ssize_t)sizeof(in))
		abort();
	memset(&out, 0x5a, sizeof(out));
	r = privsep_read_request(sp[0], &out);
	if (r != 1) {
		/* Refused as a whole: only a kind out of range may be refused. */
		if (r == 0 || (in.kind >= AREQ_NONE && in.kind <= AREQ_DROPPED))
			abort();
		return 0;
	}
	if (out.kind < AREQ_NONE || out.kind > AREQ_DROPPED)
		abort();
	check_terminated(out.user, sizeof(out.user));
	check_terminated(out.key_type, sizeof(out.key_type));
	check_terminated(out.key_b64, sizeof(out.key_b64));
	for (int i = 0; i < 2; i++) {
		check_terminated(out.answer[i], sizeof(out.answer[i]));
		if (out.have_answer[i] != 0 && out.have_answer[i] != 1)
			abort();
	}
	if (out.nanswers < -1 || out.nanswers > 64)
		abort();
	if (out.key_state != SSH_PUBLICKEY_STATE_NONE && out.key_state != SSH_PUBLICKEY_STATE_VALID &&
	    out.key_state != SSH_PUBLICKEY_STATE_WRONG)
		abort();
	/* What the monitor does with the strings before the store. */
	if (target_spec_parse(out.user, &spec) == 0)
		(void)name_validate(NAME_USER, spec.user, why, sizeof(why));
	if (out.kind == AREQ_PUBKEY &&
	    ssh_pki_import_pubkey_base64(out.key_b64, ssh_key_type_from_name(out.key_type), &key) == SSH_OK)
		ssh_key_free(key);
	return 0;
}
