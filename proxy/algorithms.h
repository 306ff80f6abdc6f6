/* Hardened algorithm lists for both legs (see libssh-notes.md): no NIST-curve
 * ECDH, no SHA-1, encrypt-then-MAC only, AEAD ciphers first, no compression. */
#ifndef GH_PROXY_ALGORITHMS_H
#define GH_PROXY_ALGORITHMS_H

#define GH_KEX                                                                                                         \
	"curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512"
#define GH_CIPHERS                                                                                                     \
	"chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr"
/* Target leg on a CPU with AES and carry-less multiply instructions: the
 * bastion is the client there and its order decides, and AES-GCM then costs
 * about two thirds of chacha20-poly1305's CPU per byte (docs/performance.md,
 * item 5). Same set, only the order differs (up-conn.c target_ciphers). */
#define GH_CIPHERS_AES_FIRST                                                                                           \
	"aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr"
#define GH_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
/* allow_non_etm_macs = yes, operator leg only: clients without AEAD ciphers
 * and without -etm MACs (libssh2 1.10) can then use a CTR cipher with a
 * SHA-2 MAC in encrypt-and-MAC mode. Still no SHA-1; off by default because
 * ssh-audit rightly warns about encrypt-and-MAC. */
#define GH_MACS_COMPAT   GH_MACS ",hmac-sha2-256,hmac-sha2-512"
#define GH_HOSTKEY_ALGOS "ssh-ed25519"

#endif
