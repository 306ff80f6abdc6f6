/* Hardened algorithm lists for both legs (see libssh-notes.md): no NIST-curve
 * ECDH, no SHA-1, encrypt-then-MAC only, AEAD ciphers first, no compression. */
#ifndef GH_PROXY_ALGORITHMS_H
#define GH_PROXY_ALGORITHMS_H

#define GH_KEX                                                                                                         \
	"curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512"
#define GH_CIPHERS                                                                                                     \
	"chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr"
#define GH_MACS          "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
#define GH_HOSTKEY_ALGOS "ssh-ed25519"

#endif
