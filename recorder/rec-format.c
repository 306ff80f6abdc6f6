/* Encoders shared by the recording writer and reader: varints, the SHA-256
 * frame chain and index entries (docs/recording-format.md). */
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "recorder/rec-format.h"

size_t
rec_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

int
rec_varint_get(const uint8_t *p, size_t len, uint64_t *v, size_t *used)
{
	uint64_t val = 0;

	for (size_t i = 0; i < 10; i++) {
		if (i >= len)
			return 0;
		uint64_t b = p[i] & 0x7f;
		/* The tenth byte may only hold the top bit of a 64-bit value. */
		if (i == 9 && b > 1)
			return -1;
		val |= b << (7 * i);
		if (!(p[i] & 0x80)) {
			/* A zero final byte after the first is a non-minimal encoding:
			 * refusing it keeps one byte sequence per value. */
			if (i > 0 && p[i] == 0)
				return -1;
			*v = val;
			*used = i + 1;
			return 1;
		}
	}
	return -1;
}

static int
sha256_parts(const void *a, size_t alen, const void *b, size_t blen, const void *c, size_t clen, uint8_t out[32])
{
	EVP_MD_CTX *md = NULL;
	unsigned int olen = 0;
	int r = ERR_CRYPTO;

	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, a, alen) != 1 ||
	    EVP_DigestUpdate(md, b, blen) != 1 || (clen > 0 && EVP_DigestUpdate(md, c, clen) != 1) ||
	    EVP_DigestFinal_ex(md, out, &olen) != 1 || olen != 32)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(md);
	return r;
}

int
rec_chain_init(const uint8_t file_header[REC_FILE_HEADER_LEN], uint8_t out[32])
{
	return sha256_parts(REC_CHAIN_SEED, strlen(REC_CHAIN_SEED), file_header, REC_FILE_HEADER_LEN, NULL, 0, out);
}

int
rec_chain_step(const uint8_t prev[32], uint64_t index, const uint8_t frame_digest[32], uint8_t out[32])
{
	uint8_t p[32], idx[8];

	memcpy(p, prev, 32);
	rec_put_be64(idx, index);
	return sha256_parts(p, 32, idx, 8, frame_digest, 32, out);
}

void
rec_index_entry_put(uint8_t *p, const struct rec_frame_info *e)
{
	rec_put_be64(p, e->offset);
	rec_put_be64(p + 8, e->size);
	rec_put_be64(p + 16, e->first_time_us);
	rec_put_be64(p + 24, e->first_ordinal);
	memcpy(p + 32, e->chain, 32);
}

void
rec_index_entry_get(const uint8_t *p, struct rec_frame_info *e)
{
	e->offset = rec_get_be64(p);
	e->size = rec_get_be64(p + 8);
	e->first_time_us = rec_get_be64(p + 16);
	e->first_ordinal = rec_get_be64(p + 24);
	memcpy(e->chain, p + 32, 32);
}

int
rec_type_fixed_len(unsigned type)
{
	switch (type) {
	case REC_RESIZE:
	case REC_EXIT_STATUS:
	case REC_INPUT_REDACTED: return 4;
	case REC_FRAME: return REC_FRAME_PAYLOAD_LEN;
	default: return -1;
	}
}
