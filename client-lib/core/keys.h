/*
 * keys.h: Ed25519 device and server keys, signing with domain separation,
 * and the key file format.
 *
 * A secret key lives only in sodium_malloc'd memory (guard pages, locked,
 * wiped on free) inside an opaque sc_keypair.  Every signature covers a
 * domain string followed by the message, so a signature made for one
 * purpose (an op, a request, an enrollment proof, a sync answer's seal) can
 * never be replayed as another.  The domains are fixed below; each ends in a NUL byte, which is
 * part of the signed bytes.  Checkpoints are the one exception: they are
 * C2SP signed notes, signed with sc_sign_raw so that standard tooling can
 * verify them.
 *
 * Key file format (all integers little-endian), written by sc_keypair_save,
 * read by sc_keypair_load; the caller does the file I/O:
 *   plain:     "SCKEY1\0" 'P' seed[32]                                   (40 bytes)
 *   encrypted: "SCKEY1\0" 'E' opslimit u64, memlimit u64, salt[16],
 *              nonce[24], secretbox(seed)[48]                            (112 bytes)
 *   custody:   "SCKEY1\0" 'X'                                            (8 bytes)
 * The encryption key is Argon2id(passphrase, salt, opslimit, memlimit).  A
 * custody key file holds no key at all: it says that the private key is
 * held outside (a platform keystore that signs, sc_keypair_external), and
 * the public key is the replica's record of the device key.
 */
#ifndef SC_CORE_KEYS_H
#define SC_CORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "limits.h"
#include "status.h"

#define SC_DOMAIN_OP "spotcheck-op-v1"           /* SignedOp.sig over the op bytes */
#define SC_DOMAIN_REQUEST "spotcheck-request-v1" /* HTTP request signatures */
#define SC_DOMAIN_ENROLL "spotcheck-enroll-v1"   /* enrollment proof of possession */
#define SC_DOMAIN_SYNC "spotcheck-sync-v1"       /* the server's seal on a sync answer (seal.h) */

typedef struct sc_keypair sc_keypair;

/* Initialise libsodium; call once before any other core function.  Thread-safe. */
sc_status sc_crypto_init(void);

/* A new key pair from 32 bytes of env's random source.  *out is freed with sc_keypair_free. */
sc_status sc_keypair_generate(const sc_env *env, sc_keypair **out);
/* The key pair of a 32-byte seed (RFC 8032 test vectors use this). */
sc_status sc_keypair_from_seed(const uint8_t seed[32], sc_keypair **out);
/*
 * A signer that holds the private key outside this process's reach (a
 * platform keystore): it signs msg (the whole signed input: for sc_sign the
 * domain, its NUL and the message) with the private key of pub and writes
 * the Ed25519 signature into sig.  SC_OK, or any other status for a
 * failure.
 */
typedef sc_status (*sc_sign_fn)(void *ctx, const uint8_t pub[SC_KEY_LEN], const uint8_t *msg,
                                size_t len, uint8_t sig[SC_SIG_LEN]);
/*
 * A key pair whose private half is the signer's: sc_sign and sc_sign_raw
 * call sign (with ctx, borrowed for the key pair's life) and check what it
 * answers under pub, SC_ERR_BAD_SIGNATURE when it does not verify and
 * SC_ERR_CRYPTO when the signer failed.  sc_keypair_save refuses it: there
 * are no key bytes to save.
 */
sc_status sc_keypair_external(const uint8_t pub[SC_KEY_LEN], sc_sign_fn sign, void *ctx,
                              sc_keypair **out);
/* True for a key pair made by sc_keypair_external. */
int sc_keypair_is_external(const sc_keypair *kp);
/* Wipe and free; NULL is a no-op. */
void sc_keypair_free(sc_keypair *kp);
/* The 32-byte public key, borrowed for the key pair's lifetime. */
const uint8_t *sc_keypair_public(const sc_keypair *kp);

/*
 * Serialize to `out` (cap bytes, SC_KEYFILE_MAX is enough); *out_len gets the
 * length.  With a passphrase (pass_len > 0) the seed is encrypted under
 * Argon2id + XSalsa20-Poly1305 using env's random source for salt and nonce;
 * opslimit/memlimit 0 pick libsodium's INTERACTIVE limits.
 */
sc_status sc_keypair_save(const sc_env *env, const sc_keypair *kp, const char *pass, size_t pass_len,
                          uint64_t opslimit, uint64_t memlimit, uint8_t *out, size_t cap,
                          size_t *out_len, sc_err *err);
/*
 * Parse a key file.  SC_ERR_BAD_PASSPHRASE when the file is encrypted and the
 * passphrase is wrong or missing (the message says which), SC_ERR_MALFORMED
 * when the bytes are not a key file.  Argon2 limits above libsodium's
 * SENSITIVE limits are refused as malformed, so a hostile file cannot make
 * loading take unbounded time or memory.
 */
sc_status sc_keypair_load(const uint8_t *buf, size_t len, const char *pass, size_t pass_len,
                          sc_keypair **out, sc_err *err);
/* True when a key file is encrypted (needs a passphrase). */
int sc_keyfile_is_encrypted(const uint8_t *buf, size_t len);
/* The custody key file into out (cap bytes; SC_ERR_TOO_LARGE when short); *out_len its length. */
sc_status sc_keyfile_custody(uint8_t *out, size_t cap, size_t *out_len);
/* True when a key file says the key is held by a custody signer. */
int sc_keyfile_is_custody(const uint8_t *buf, size_t len);

/* sig = Ed25519(kp, domain || "\0" || msg).  env supplies scratch memory. */
sc_status sc_sign(const sc_env *env, const sc_keypair *kp, const char *domain, const uint8_t *msg,
                  size_t len, uint8_t sig[SC_SIG_LEN]);
/* SC_OK when sig verifies under pub for domain || "\0" || msg, else SC_ERR_BAD_SIGNATURE. */
sc_status sc_verify(const sc_env *env, const uint8_t pub[SC_KEY_LEN], const char *domain,
                    const uint8_t *msg, size_t len, const uint8_t sig[SC_SIG_LEN]);

/*
 * sc_verify without an allocator: domain || "\0" || msg is assembled in
 * the caller's scratch buffer (cap bytes, at least strlen(domain) + 1 +
 * len; SC_ERR_INVALID_ARG when smaller).  It touches nothing but its
 * arguments, so several threads may verify at once, each with its own
 * scratch.
 */
sc_status sc_verify_buf(const uint8_t pub[SC_KEY_LEN], const char *domain, const uint8_t *msg,
                        size_t len, const uint8_t sig[SC_SIG_LEN], uint8_t *scratch, size_t cap);

/*
 * sig = Ed25519(kp, msg), with no domain prefix.  This exists only for
 * formats that define their own signing input and are verified by other
 * tools, such as C2SP signed notes (checkpoint.h); everything else signs
 * with sc_sign.  The caller must ensure msg contains no NUL byte: every
 * sc_sign input does (the domain terminator), so the two can never collide.
 * sig is zeroed on failure.
 */
sc_status sc_sign_raw(const sc_keypair *kp, const uint8_t *msg, size_t len,
                      uint8_t sig[SC_SIG_LEN]);

#endif
