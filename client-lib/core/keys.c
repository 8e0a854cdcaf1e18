/*
 * keys.c: Ed25519 key pairs, domain-separated signatures and key files.
 *
 * Invariants:
 *  - A key pair lives whole in one sodium_malloc'd block (guard pages,
 *    locked, wiped by sodium_free) that is read-only once built.  It is not
 *    made no-access when idle: signing would then have to flip page
 *    protections, which is not safe when two threads sign with one key
 *    (syncd signs checkpoints while serving requests).
 *  - Seeds, derived keys and signing buffers are wiped before they are
 *    released; nothing here logs or formats key material.
 *  - Every signature covers domain || '\0' || message, so a signature made
 *    for one purpose never verifies for another.
 *  - Loading a key file bounds the Argon2 cost by libsodium's SENSITIVE
 *    limits before deriving anything, so a hostile file cannot make the
 *    loader spend unbounded time or memory.
 *  - On failure, outputs are zeroed or NULL (fail closed).
 */
#include "keys.h"

#include <sodium.h>
#include <stdbool.h>
#include <string.h>

_Static_assert(crypto_sign_PUBLICKEYBYTES == SC_KEY_LEN, "Ed25519 public keys are 32 bytes");
_Static_assert(crypto_sign_BYTES == SC_SIG_LEN, "Ed25519 signatures are 64 bytes");
_Static_assert(crypto_sign_SEEDBYTES == 32, "Ed25519 seeds are 32 bytes");

struct sc_keypair {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES]; /* public key */
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed || public key; secret; zero when external */
    sc_sign_fn ext;                         /* an external signer (sc_keypair_external) or NULL */
    void *ext_ctx;
};

/* Key file layout (see keys.h). */
#define KEYFILE_MAGIC     "SCKEY1"
#define KEYFILE_MAGIC_LEN 7 /* including its NUL */
#define KEYFILE_SEED_LEN  32
#define KEYFILE_SALT_LEN  crypto_pwhash_SALTBYTES
#define KEYFILE_NONCE_LEN crypto_secretbox_NONCEBYTES
#define KEYFILE_BOX_LEN   (crypto_secretbox_MACBYTES + KEYFILE_SEED_LEN)
#define KEYFILE_PLAIN_LEN (KEYFILE_MAGIC_LEN + 1 + KEYFILE_SEED_LEN)
#define KEYFILE_ENC_LEN                                                                            \
    (KEYFILE_MAGIC_LEN + 1 + 8 + 8 + KEYFILE_SALT_LEN + KEYFILE_NONCE_LEN + KEYFILE_BOX_LEN)

_Static_assert(KEYFILE_SALT_LEN == 16, "the key file format fixes a 16-byte salt");
_Static_assert(KEYFILE_NONCE_LEN == 24, "the key file format fixes a 24-byte nonce");
_Static_assert(KEYFILE_PLAIN_LEN == 40, "plain key files are 40 bytes");
_Static_assert(KEYFILE_ENC_LEN == 112, "encrypted key files are 112 bytes");
_Static_assert(KEYFILE_ENC_LEN <= SC_KEYFILE_MAX, "SC_KEYFILE_MAX holds every key file");
_Static_assert(crypto_secretbox_KEYBYTES == 32, "secretbox keys are 32 bytes");

sc_status sc_crypto_init(void)
{
    /* sodium_init returns 1 when already initialised: that is success. */
    return sodium_init() < 0 ? SC_ERR_CRYPTO : SC_OK;
}

sc_status sc_keypair_from_seed(const uint8_t seed[32], sc_keypair **out)
{
    sc_status rc = SC_OK;
    sc_keypair *kp = NULL;
    *out = NULL;
    kp = sodium_malloc(sizeof *kp);
    if (!kp) {
        rc = SC_ERR_NOMEM;
        goto done;
    }
    memset(kp, 0, sizeof *kp); /* no external signer */
    if (crypto_sign_seed_keypair(kp->pk, kp->sk, seed) != 0) {
        rc = SC_ERR_CRYPTO;
        goto done;
    }
    /* Read-only from here on: a stray write through a bad pointer faults
     * instead of silently corrupting the key. */
    if (sodium_mprotect_readonly(kp) != 0) {
        rc = SC_ERR_CRYPTO;
        goto done;
    }
    *out = kp;
    kp = NULL;
done:
    sodium_free(kp); /* wipes; NULL is a no-op */
    return rc;
}

sc_status sc_keypair_external(const uint8_t pub[SC_KEY_LEN], sc_sign_fn sign, void *ctx,
                               sc_keypair **out)
{
    *out = NULL;
    if (!pub || !sign)
        return SC_ERR_INVALID_ARG;
    sc_keypair *kp = sodium_malloc(sizeof *kp);
    if (!kp)
        return SC_ERR_NOMEM;
    memset(kp, 0, sizeof *kp);
    memcpy(kp->pk, pub, SC_KEY_LEN);
    kp->ext = sign;
    kp->ext_ctx = ctx;
    if (sodium_mprotect_readonly(kp) != 0) {
        sodium_free(kp);
        return SC_ERR_CRYPTO;
    }
    *out = kp;
    return SC_OK;
}

int sc_keypair_is_external(const sc_keypair *kp)
{
    return kp && kp->ext != NULL;
}

/*
 * sig = the external signer's signature over msg, checked under the public
 * key before it is used: a keystore that signs with another key, or
 * answers garbage, must not put a bad signature on an op.
 */
static sc_status sign_external(const sc_keypair *kp, const uint8_t *msg, size_t len,
                               uint8_t sig[SC_SIG_LEN])
{
    sc_status rc = kp->ext(kp->ext_ctx, kp->pk, msg, len, sig);
    if (rc == SC_OK && crypto_sign_verify_detached(sig, msg, len, kp->pk) != 0)
        rc = SC_ERR_BAD_SIGNATURE;
    else if (rc != SC_OK && rc != SC_ERR_NOMEM && rc != SC_ERR_CANCELLED)
        rc = SC_ERR_CRYPTO;
    return rc;
}

sc_status sc_keypair_generate(const sc_env *env, sc_keypair **out)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    sc_env_random(env, seed, sizeof seed);
    sc_status rc = sc_keypair_from_seed(seed, out);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

void sc_keypair_free(sc_keypair *kp)
{
    /* sodium_free makes the block writable, wipes it and releases it. */
    sodium_free(kp);
}

const uint8_t *sc_keypair_public(const sc_keypair *kp)
{
    return kp->pk;
}

/* The Argon2id cost limits a key file may carry: libsodium's own range, capped at SENSITIVE. */
static bool pwhash_limits_ok(uint64_t opslimit, uint64_t memlimit)
{
    return opslimit >= crypto_pwhash_OPSLIMIT_MIN && opslimit <= crypto_pwhash_OPSLIMIT_SENSITIVE &&
           memlimit >= crypto_pwhash_MEMLIMIT_MIN && memlimit <= crypto_pwhash_MEMLIMIT_SENSITIVE;
}

static void put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/*
 * Derive the secretbox key from a passphrase into key (sodium_malloc'd by
 * the caller).  crypto_pwhash fails only when it cannot get its memory.
 */
static sc_status derive_key(uint8_t *key, const char *pass, size_t pass_len, const uint8_t *salt,
                            uint64_t opslimit, uint64_t memlimit)
{
    if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pass, pass_len, salt, opslimit,
                      (size_t)memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return SC_ERR_NOMEM;
    return SC_OK;
}

sc_status sc_keypair_save(const sc_env *env, const sc_keypair *kp, const char *pass,
                          size_t pass_len, uint64_t opslimit, uint64_t memlimit, uint8_t *out,
                          size_t cap, size_t *out_len, sc_err *err)
{
    sc_status rc = SC_OK;
    uint8_t *key = NULL;
    bool encrypt = pass_len > 0;
    size_t need = encrypt ? KEYFILE_ENC_LEN : KEYFILE_PLAIN_LEN;
    sc_err_clear(err);
    *out_len = 0;
    if (!kp || !out || kp->ext) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                        kp && kp->ext ? "key file: the key is held by an external signer"
                                      : "key file: no key or no buffer");
        need = 0; /* nothing to wipe */
        goto done;
    }
    if (encrypt && !pass) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "key file: passphrase length without text");
        goto done;
    }
    if (cap < need) {
        rc = sc_err_set(err, SC_ERR_TOO_LARGE, 0, "key file: needs %zu bytes, buffer holds %zu",
                        need, cap);
        goto done;
    }
    memcpy(out, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN);
    if (!encrypt) {
        out[KEYFILE_MAGIC_LEN] = 'P';
        /* An Ed25519 secret key begins with its seed. */
        memcpy(out + KEYFILE_MAGIC_LEN + 1, kp->sk, KEYFILE_SEED_LEN);
        *out_len = KEYFILE_PLAIN_LEN;
        goto done;
    }
    if (opslimit == 0)
        opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    if (memlimit == 0)
        memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    /* Refuse to write what sc_keypair_load would refuse to read. */
    if (!pwhash_limits_ok(opslimit, memlimit)) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                        "key file: Argon2 limits ops=%llu mem=%llu outside [MIN, SENSITIVE]",
                        (unsigned long long)opslimit, (unsigned long long)memlimit);
        goto done;
    }
    uint8_t *p = out + KEYFILE_MAGIC_LEN;
    *p++ = 'E';
    put_u64le(p, opslimit);
    p += 8;
    put_u64le(p, memlimit);
    p += 8;
    uint8_t *salt = p;
    sc_env_random(env, salt, KEYFILE_SALT_LEN);
    p += KEYFILE_SALT_LEN;
    uint8_t *nonce = p;
    sc_env_random(env, nonce, KEYFILE_NONCE_LEN);
    p += KEYFILE_NONCE_LEN;
    key = sodium_malloc(crypto_secretbox_KEYBYTES);
    if (!key) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "key file: no memory for the key");
        goto done;
    }
    rc = derive_key(key, pass, pass_len, salt, opslimit, memlimit);
    if (rc != SC_OK) {
        sc_err_set(err, rc, 0, "key file: Argon2id could not allocate %llu bytes",
                   (unsigned long long)memlimit);
        goto done;
    }
    if (crypto_secretbox_easy(p, kp->sk, KEYFILE_SEED_LEN, nonce, key) != 0) {
        rc = sc_err_set(err, SC_ERR_CRYPTO, 0, "key file: encryption failed");
        goto done;
    }
    *out_len = KEYFILE_ENC_LEN;
done:
    sodium_free(key); /* wipes */
    if (rc != SC_OK && out && need > 0)
        sodium_memzero(out, cap < need ? cap : need);
    return rc;
}

int sc_keyfile_is_encrypted(const uint8_t *buf, size_t len)
{
    return len == KEYFILE_ENC_LEN && memcmp(buf, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN) == 0 &&
           buf[KEYFILE_MAGIC_LEN] == 'E';
}

#define KEYFILE_CUSTODY_LEN (KEYFILE_MAGIC_LEN + 1)

sc_status sc_keyfile_custody(uint8_t *out, size_t cap, size_t *out_len)
{
    *out_len = 0;
    if (cap < KEYFILE_CUSTODY_LEN)
        return SC_ERR_TOO_LARGE;
    memcpy(out, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN);
    out[KEYFILE_MAGIC_LEN] = 'X';
    *out_len = KEYFILE_CUSTODY_LEN;
    return SC_OK;
}

int sc_keyfile_is_custody(const uint8_t *buf, size_t len)
{
    return len == KEYFILE_CUSTODY_LEN && memcmp(buf, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN) == 0 &&
           buf[KEYFILE_MAGIC_LEN] == 'X';
}

sc_status sc_keypair_load(const uint8_t *buf, size_t len, const char *pass, size_t pass_len,
                          sc_keypair **out, sc_err *err)
{
    sc_status rc = SC_OK;
    uint8_t *key = NULL;
    uint8_t *seed = NULL;
    sc_err_clear(err);
    *out = NULL;
    if (len < KEYFILE_MAGIC_LEN + 1 || memcmp(buf, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN) != 0) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "key file: not a Spotcheck key file");
        goto done;
    }
    uint8_t type = buf[KEYFILE_MAGIC_LEN];
    if (type == 'P') {
        if (len != KEYFILE_PLAIN_LEN) {
            rc = sc_err_set(err, SC_ERR_MALFORMED, 0,
                            "key file: plain key file is %zu bytes, expected %d", len,
                            KEYFILE_PLAIN_LEN);
            goto done;
        }
        rc = sc_keypair_from_seed(buf + KEYFILE_MAGIC_LEN + 1, out);
        if (rc != SC_OK)
            sc_err_set(err, rc, 0, "key file: cannot build the key pair");
        goto done;
    }
    if (type == 'X') {
        rc = sc_err_set(err, SC_ERR_BAD_PASSPHRASE, 0,
                        "key file: the key is held by a key custody, not in the file");
        goto done;
    }
    if (type != 'E') {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "key file: unknown type byte 0x%02x", type);
        goto done;
    }
    if (len != KEYFILE_ENC_LEN) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0,
                        "key file: encrypted key file is %zu bytes, expected %d", len,
                        KEYFILE_ENC_LEN);
        goto done;
    }
    const uint8_t *p = buf + KEYFILE_MAGIC_LEN + 1;
    uint64_t opslimit = get_u64le(p);
    uint64_t memlimit = get_u64le(p + 8);
    const uint8_t *salt = p + 16;
    const uint8_t *nonce = salt + KEYFILE_SALT_LEN;
    const uint8_t *box = nonce + KEYFILE_NONCE_LEN;
    if (!pwhash_limits_ok(opslimit, memlimit)) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0,
                        "key file: Argon2 limits ops=%llu mem=%llu outside [MIN, SENSITIVE]",
                        (unsigned long long)opslimit, (unsigned long long)memlimit);
        goto done;
    }
    if (!pass || pass_len == 0) {
        rc = sc_err_set(err, SC_ERR_BAD_PASSPHRASE, 0,
                        "key file: encrypted, and no passphrase was given");
        goto done;
    }
    key = sodium_malloc(crypto_secretbox_KEYBYTES);
    seed = sodium_malloc(KEYFILE_SEED_LEN);
    if (!key || !seed) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "key file: no memory for the key");
        goto done;
    }
    rc = derive_key(key, pass, pass_len, salt, opslimit, memlimit);
    if (rc != SC_OK) {
        sc_err_set(err, rc, 0, "key file: Argon2id could not allocate %llu bytes",
                   (unsigned long long)memlimit);
        goto done;
    }
    /* The MAC check cannot tell a wrong passphrase from a damaged file. */
    if (crypto_secretbox_open_easy(seed, box, KEYFILE_BOX_LEN, nonce, key) != 0) {
        rc = sc_err_set(err, SC_ERR_BAD_PASSPHRASE, 0,
                        "key file: wrong passphrase (or the file is damaged)");
        goto done;
    }
    rc = sc_keypair_from_seed(seed, out);
    if (rc != SC_OK)
        sc_err_set(err, rc, 0, "key file: cannot build the key pair");
done:
    sodium_free(key);
    sodium_free(seed);
    return rc;
}

/*
 * domain || '\0' || msg in a new buffer from env; *out_len gets its length.
 * NULL when the sizes overflow or memory runs out.
 */
static uint8_t *domain_message(const sc_env *env, const char *domain, const uint8_t *msg,
                               size_t len, size_t *out_len)
{
    size_t dlen = strlen(domain) + 1; /* the NUL is part of the signed bytes */
    if (len > SIZE_MAX - dlen)
        return NULL;
    uint8_t *buf = sc_alloc(env, dlen + len);
    if (!buf)
        return NULL;
    memcpy(buf, domain, dlen);
    if (len)
        memcpy(buf + dlen, msg, len);
    *out_len = dlen + len;
    return buf;
}

sc_status sc_sign(const sc_env *env, const sc_keypair *kp, const char *domain, const uint8_t *msg,
                  size_t len, uint8_t sig[SC_SIG_LEN])
{
    sc_status rc = SC_OK;
    size_t n = 0;
    uint8_t *buf = NULL;
    if (!kp || !domain || (!msg && len)) {
        rc = SC_ERR_INVALID_ARG;
        goto done;
    }
    buf = domain_message(env, domain, msg, len, &n);
    if (!buf) {
        rc = SC_ERR_NOMEM;
        goto done;
    }
    if (kp->ext)
        rc = sign_external(kp, buf, n, sig);
    else if (crypto_sign_detached(sig, NULL, buf, n, kp->sk) != 0)
        rc = SC_ERR_CRYPTO;
done:
    if (buf) {
        /* The message is not secret, but the buffer may hold what the
         * caller would rather not leave in freed memory (request bodies). */
        sodium_memzero(buf, n);
        sc_free(env, buf);
    }
    if (rc != SC_OK)
        memset(sig, 0, SC_SIG_LEN);
    return rc;
}

sc_status sc_sign_raw(const sc_keypair *kp, const uint8_t *msg, size_t len,
                      uint8_t sig[SC_SIG_LEN])
{
    if (!kp || !sig || (!msg && len) || (len && memchr(msg, 0, len))) {
        if (sig)
            memset(sig, 0, SC_SIG_LEN);
        return SC_ERR_INVALID_ARG;
    }
    if (kp->ext) {
        sc_status rc = sign_external(kp, msg, len, sig);
        if (rc != SC_OK)
            memset(sig, 0, SC_SIG_LEN);
        return rc;
    }
    if (crypto_sign_detached(sig, NULL, msg, len, kp->sk) != 0) {
        memset(sig, 0, SC_SIG_LEN);
        return SC_ERR_CRYPTO;
    }
    return SC_OK;
}

sc_status sc_verify_buf(const uint8_t pub[SC_KEY_LEN], const char *domain, const uint8_t *msg,
                        size_t len, const uint8_t sig[SC_SIG_LEN], uint8_t *scratch, size_t cap)
{
    if (!pub || !domain || !sig || (!msg && len) || !scratch)
        return SC_ERR_INVALID_ARG;
    size_t dlen = strlen(domain) + 1; /* the NUL is part of the signed bytes */
    if (len > SIZE_MAX - dlen || cap < dlen + len)
        return SC_ERR_INVALID_ARG;
    memcpy(scratch, domain, dlen);
    if (len)
        memcpy(scratch + dlen, msg, len);
    return crypto_sign_verify_detached(sig, scratch, dlen + len, pub) == 0 ? SC_OK
                                                                          : SC_ERR_BAD_SIGNATURE;
}

sc_status sc_verify(const sc_env *env, const uint8_t pub[SC_KEY_LEN], const char *domain,
                    const uint8_t *msg, size_t len, const uint8_t sig[SC_SIG_LEN])
{
    sc_status rc = SC_OK;
    size_t n = 0;
    uint8_t *buf = NULL;
    if (!pub || !domain || !sig || (!msg && len)) {
        rc = SC_ERR_INVALID_ARG;
        goto done;
    }
    buf = domain_message(env, domain, msg, len, &n);
    if (!buf) {
        rc = SC_ERR_NOMEM;
        goto done;
    }
    if (crypto_sign_verify_detached(sig, buf, n, pub) != 0)
        rc = SC_ERR_BAD_SIGNATURE;
done:
    if (buf) {
        sodium_memzero(buf, n);
        sc_free(env, buf);
    }
    return rc;
}
