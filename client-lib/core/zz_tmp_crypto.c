/*
 * zz_tmp_crypto.c: TEMPORARY stand-in for the parts of ids.c and keys.c that
 * merkle.c and checkpoint.c need (SHA-256, key pairs from seeds, sc_sign,
 * sc_verify, sc_sign_raw), so this branch builds and tests before the real
 * modules land.  Drop this file when ids.c and keys.c are merged; nothing
 * else here is meant to survive.
 *
 * The key pair lives in sodium_malloc'd memory and holds libsodium's 64-byte
 * Ed25519 secret key (seed || public key).
 */
#include <sodium.h>
#include <string.h>

#include "env.h"
#include "ids.h"
#include "keys.h"

struct sc_keypair {
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed || public key, wiped on free */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};

sc_status sc_crypto_init(void)
{
    return sodium_init() < 0 ? SC_ERR_CRYPTO : SC_OK;
}

void sc_sha256(const void *data, size_t len, uint8_t out[SC_HASH_LEN])
{
    crypto_hash_sha256(out, data, len);
}

sc_status sc_keypair_from_seed(const uint8_t seed[32], sc_keypair **out)
{
    if (!out)
        return SC_ERR_INVALID_ARG;
    *out = NULL;
    if (!seed)
        return SC_ERR_INVALID_ARG;
    sc_keypair *kp = sodium_malloc(sizeof *kp);
    if (!kp)
        return SC_ERR_NOMEM;
    if (crypto_sign_seed_keypair(kp->pk, kp->sk, seed) != 0) {
        sodium_free(kp);
        return SC_ERR_CRYPTO;
    }
    *out = kp;
    return SC_OK;
}

void sc_keypair_free(sc_keypair *kp)
{
    if (kp)
        sodium_free(kp);
}

const uint8_t *sc_keypair_public(const sc_keypair *kp)
{
    return kp->pk;
}

sc_status sc_sign_raw(const sc_keypair *kp, const uint8_t *msg, size_t len, uint8_t sig[SC_SIG_LEN])
{
    if (!sig)
        return SC_ERR_INVALID_ARG;
    if (!kp || (!msg && len)) {
        memset(sig, 0, SC_SIG_LEN);
        return SC_ERR_INVALID_ARG;
    }
    if (crypto_sign_detached(sig, NULL, msg, len, kp->sk) != 0) {
        memset(sig, 0, SC_SIG_LEN);
        return SC_ERR_CRYPTO;
    }
    return SC_OK;
}

/* domain || "\0" || msg in one allocation from env; NULL on overflow or failure. */
static uint8_t *domain_message(const sc_env *env, const char *domain, const uint8_t *msg,
                               size_t len, size_t *total)
{
    size_t dlen = strlen(domain);
    if (len > SIZE_MAX - dlen - 1)
        return NULL;
    *total = dlen + 1 + len;
    uint8_t *buf = sc_alloc(env, *total);
    if (!buf)
        return NULL;
    memcpy(buf, domain, dlen + 1);
    if (len)
        memcpy(buf + dlen + 1, msg, len);
    return buf;
}

sc_status sc_sign(const sc_env *env, const sc_keypair *kp, const char *domain, const uint8_t *msg,
                  size_t len, uint8_t sig[SC_SIG_LEN])
{
    if (!sig)
        return SC_ERR_INVALID_ARG;
    memset(sig, 0, SC_SIG_LEN);
    if (!kp || !domain || (!msg && len))
        return SC_ERR_INVALID_ARG;
    size_t total = 0;
    uint8_t *buf = domain_message(env, domain, msg, len, &total);
    if (!buf)
        return SC_ERR_NOMEM;
    sc_status rc = SC_OK;
    if (crypto_sign_detached(sig, NULL, buf, total, kp->sk) != 0) {
        memset(sig, 0, SC_SIG_LEN);
        rc = SC_ERR_CRYPTO;
    }
    sc_free(env, buf);
    return rc;
}

sc_status sc_verify(const sc_env *env, const uint8_t pub[SC_KEY_LEN], const char *domain,
                    const uint8_t *msg, size_t len, const uint8_t sig[SC_SIG_LEN])
{
    if (!pub || !domain || !sig || (!msg && len))
        return SC_ERR_INVALID_ARG;
    size_t total = 0;
    uint8_t *buf = domain_message(env, domain, msg, len, &total);
    if (!buf)
        return SC_ERR_NOMEM;
    sc_status rc =
        crypto_sign_verify_detached(sig, buf, total, pub) == 0 ? SC_OK : SC_ERR_BAD_SIGNATURE;
    sc_free(env, buf);
    return rc;
}
