/* UTF-8 encoding of one code point. */
#ifndef GH_UTF8_H
#define GH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Encode c (<= 0x10ffff) into out; returns the byte count (1 to 4). The
 * caller decides what to do with surrogates and control characters. */
size_t utf8_encode(uint32_t c, char out[4]);

#endif
