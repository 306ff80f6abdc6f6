/* The role shell's command line splitter: a command string (an SSH exec
 * request, or a line typed at the role shell prompt) into an argv vector,
 * WITHOUT any shell. Rules (a small, strict subset of POSIX sh quoting):
 *
 *   - words are separated by spaces and tabs;
 *   - '...' quotes everything literally up to the next ';
 *   - "..." quotes literally, except \" and \\ which stand for " and \;
 *   - outside quotes, \X stands for X (any printable X, space included);
 *   - nothing else is special: ; | & $ ` ( ) < > * ~ are ordinary characters,
 *     there is no expansion, no globbing, no redirection, no comment.
 *
 * Refused (ERR_INVALID, with a reason in why): a NUL byte inside the string
 * (len counts it), any other control character (newline, CR, ESC, DEL ...),
 * an unbalanced quote, a trailing backslash, more than ARGV_MAX_WORDS words
 * or a string longer than ARGV_MAX_LEN bytes. Non-ASCII UTF-8 bytes pass as
 * they are (names are validated by the commands). The function is pure
 * (fuzzed: tests/fuzz/fuzz_argv_split.c). */
#ifndef GH_PROXY_ARGV_SPLIT_H
#define GH_PROXY_ARGV_SPLIT_H

#include <stddef.h>

#define ARGV_MAX_WORDS 64
#define ARGV_MAX_LEN   8192

struct argv_split {
	int argc;
	char **argv; /* argc words and a NULL; argv[i] point into one block */
	char *block;
};

/* Split s (len bytes, not necessarily NUL-terminated). Returns 0 (argc may
 * be 0 for a blank line), ERR_INVALID or ERR_NOMEM. On error out is empty. */
int argv_split(const char *s, size_t len, struct argv_split *out, char *why, size_t whylen);
void argv_split_free(struct argv_split *a);

#endif
