/* Constants and encoders shared by the recording writer and reader.
 * docs/recording-format.md is the normative description; this header only
 * names what it says. Internal to recorder/. */
#ifndef GH_REC_FORMAT_H
#define GH_REC_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "recorder/recorder.h"

#define REC_FORMAT_VERSION 1

/* zstd frame magics (little endian on disk). Our own metadata lives in
 * skippable frames with this one variant, so zstdcat ignores it. */
#define REC_ZSTD_MAGIC 0xFD2FB528u
#define REC_SKIP_MAGIC 0x184D2A57u
#define REC_SKIP_MASK  0xFFFFFFF0u
#define REC_SKIP_BASE  0x184D2A50u

/* File header: skippable frame, payload "GHRF" ver u16 flags u16 id[16] created_us u64. */
#define REC_FILE_TAG        "GHRF"
#define REC_FILE_HEADER_LEN 32
/* Trailer: skippable frame, payload "GHRX" ver u16 flags u16 frames u64
 * records u64 head[32], then frames x 64-byte entries, then the footer
 * total_len u32 "GHRT" (total_len counts the whole skippable frame). */
#define REC_TRAILER_TAG     "GHRX"
#define REC_FOOTER_TAG      "GHRT"
#define REC_TRAILER_FIXED   56
#define REC_FOOTER_LEN      8
#define REC_INDEX_ENTRY_LEN 64
#define REC_TRAILER_CLEAN   0x0001u /* flags: written by rec_writer_close */

#define REC_CHAIN_SEED "gatehouse-rec-v1"

/* REC_FRAME payload: time_us u64, frame index u64, next ordinal u64. */
#define REC_FRAME_PAYLOAD_LEN 24
/* type u8 + channel varint (5) + delta varint (10) + length varint (4). */
#define REC_RECORD_HEADER_MAX 20

/* Bounds a reader applies to untrusted files. */
#define REC_MAX_FRAME_SIZE   (64u * 1024 * 1024) /* compressed bytes of one frame */
#define REC_MAX_TRAILER_SIZE (64u * 1024 * 1024)
#define REC_WINDOW_LOG_MAX   23 /* decoder window (8 MiB); the writer uses 20 */
#define REC_ZSTD_BLOCK_MAX   (128u * 1024)

static inline void
rec_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
rec_put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline void
rec_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline void
rec_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t
rec_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
rec_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
rec_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline uint32_t
rec_get_le32(const uint8_t *p)
{
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/* Unsigned LEB128. Returns the bytes written (at most 10). */
size_t rec_varint_put(uint8_t *p, uint64_t v);
/* Returns 1 and sets *v, *used; 0 when len is too short to tell; -1 when
 * the encoding is overlong, non-minimal or overflows 64 bits. */
int rec_varint_get(const uint8_t *p, size_t len, uint64_t *v, size_t *used);

/* h_init = SHA-256(REC_CHAIN_SEED || file header payload). */
int rec_chain_init(const uint8_t file_header[REC_FILE_HEADER_LEN], uint8_t out[32]);
/* h_k+1 = SHA-256(h_k || index u64 BE || frame_digest), frame_digest being
 * SHA-256 of the frame's compressed bytes. out may alias prev. */
int rec_chain_step(const uint8_t prev[32], uint64_t index, const uint8_t frame_digest[32], uint8_t out[32]);

void rec_index_entry_put(uint8_t *p, const struct rec_frame_info *e);
void rec_index_entry_get(const uint8_t *p, struct rec_frame_info *e);

/* Expected payload length of a fixed-size record type, -1 if variable. */
int rec_type_fixed_len(unsigned type);

#endif
