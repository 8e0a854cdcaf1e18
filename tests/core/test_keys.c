/*
 * test_keys.c: Ed25519 against the RFC 8032 vectors, domain-separated
 * signing and verification, deterministic key generation, and the key file
 * format: plain and encrypted round trips, wrong and missing passphrases,
 * truncated and corrupted files, and Argon2 limits a hostile file might set.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"
#include "sctest.h"

/* ---- RFC 8032 vectors ---- */

typedef struct ed_vec {
    char name[32];
    uint8_t *secret, *public_, *message, *signature; /* malloc'd */
    size_t secret_len, public_len, message_len, signature_len;
} ed_vec;

/* The value after "<field> " on a line, or "" when the line is just the field. */
static const char *field_value(const char *line, const char *field)
{
    size_t n = strlen(field);
    ck_assert_msg(strncmp(line, field, n) == 0 && (line[n] == ' ' || line[n] == '\0'),
                  "expected field '%s', got '%.40s'", field, line);
    return line[n] == ' ' ? line + n + 1 : line + n;
}

static size_t read_ed_vectors(uint8_t *buf, ed_vec *out, size_t cap)
{
    static const char *fields[] = {"name", "secret", "public", "message", "signature"};
    size_t n = 0, k = 0;
    char *line = (char *)buf;
    while (line && *line) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] != '#' && line[0] != '\0') {
            ck_assert_uint_lt(n, cap);
            ed_vec *v = &out[n];
            const char *val = field_value(line, fields[k]);
            switch (k) {
            case 0:
                ck_assert_uint_lt(strlen(val), sizeof v->name);
                memcpy(v->name, val, strlen(val) + 1);
                break;
            case 1:
                v->secret = sct_unhex(val, &v->secret_len);
                break;
            case 2:
                v->public_ = sct_unhex(val, &v->public_len);
                break;
            case 3:
                v->message = sct_unhex(val, &v->message_len);
                break;
            default:
                v->signature = sct_unhex(val, &v->signature_len);
                n++;
                break;
            }
            k = (k + 1) % 5;
        }
        line = next;
    }
    ck_assert_uint_eq(k, 0);
    return n;
}

static void free_ed_vectors(ed_vec *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].secret);
        free(v[i].public_);
        free(v[i].message);
        free(v[i].signature);
    }
}

START_TEST(rfc8032_vectors)
{
    size_t len;
    uint8_t *buf = sct_read_vector("rfc8032-ed25519.txt", &len);
    ed_vec v[8];
    memset(v, 0, sizeof v);
    size_t n = read_ed_vectors(buf, v, 8);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(v[3].name, "TEST 1024");
    ck_assert_uint_eq(v[3].message_len, 1023);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(v[i].secret_len, 32);
        ck_assert_uint_eq(v[i].public_len, SC_KEY_LEN);
        ck_assert_uint_eq(v[i].signature_len, SC_SIG_LEN);
        /* libsodium directly: the vectors sign raw messages, no domain. */
        uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
        ck_assert_int_eq(crypto_sign_seed_keypair(pk, sk, v[i].secret), 0);
        ck_assert_mem_eq(pk, v[i].public_, SC_KEY_LEN);
        uint8_t sig[SC_SIG_LEN];
        ck_assert_int_eq(crypto_sign_detached(sig, NULL, v[i].message, v[i].message_len, sk), 0);
        ck_assert_msg(memcmp(sig, v[i].signature, SC_SIG_LEN) == 0, "%s: signature differs",
                      v[i].name);
        ck_assert_int_eq(crypto_sign_verify_detached(v[i].signature, v[i].message, v[i].message_len,
                                                     v[i].public_),
                         0);
        sodium_memzero(sk, sizeof sk);
        /* Our key pair from the same seed has the same public key. */
        sc_keypair *kp = NULL;
        ck_assert_int_eq(sc_keypair_from_seed(v[i].secret, &kp), SC_OK);
        ck_assert_mem_eq(sc_keypair_public(kp), v[i].public_, SC_KEY_LEN);
        sc_keypair_free(kp);
    }
    free_ed_vectors(v, n);
    free(buf);
}
END_TEST

/* ---- domain-separated signatures ---- */

/* Ed25519 over domain || '\0' || msg, computed by hand from a seed. */
static void sign_by_hand(const uint8_t seed[32], const char *domain, const uint8_t *msg, size_t len,
                         uint8_t sig[SC_SIG_LEN])
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    ck_assert_int_eq(crypto_sign_seed_keypair(pk, sk, seed), 0);
    size_t dlen = strlen(domain);
    uint8_t *buf = malloc(dlen + 1 + len);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, domain, dlen);
    buf[dlen] = 0;
    if (len)
        memcpy(buf + dlen + 1, msg, len);
    ck_assert_int_eq(crypto_sign_detached(sig, NULL, buf, dlen + 1 + len, sk), 0);
    free(buf);
    sodium_memzero(sk, sizeof sk);
}

START_TEST(sign_with_domain)
{
    sct_env t;
    sct_env_init(&t, 1);
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i * 7 + 1);
    sc_keypair *kp = NULL;
    ck_assert_int_eq(sc_keypair_from_seed(seed, &kp), SC_OK);
    const uint8_t msg[] = "an op's bytes";
    uint8_t sig[SC_SIG_LEN], want[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(&t.env, kp, SC_DOMAIN_OP, msg, sizeof msg, sig), SC_OK);
    sign_by_hand(seed, SC_DOMAIN_OP, msg, sizeof msg, want);
    ck_assert_mem_eq(sig, want, SC_SIG_LEN);
    ck_assert_int_eq(sc_verify(&t.env, sc_keypair_public(kp), SC_DOMAIN_OP, msg, sizeof msg, sig),
                     SC_OK);
    /* The empty message signs the domain and its NUL alone. */
    ck_assert_int_eq(sc_sign(&t.env, kp, SC_DOMAIN_ENROLL, NULL, 0, sig), SC_OK);
    sign_by_hand(seed, SC_DOMAIN_ENROLL, NULL, 0, want);
    ck_assert_mem_eq(sig, want, SC_SIG_LEN);
    ck_assert_int_eq(t.live, 0);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(verify_rejects)
{
    sct_env t;
    sct_env_init(&t, 1);
    sc_keypair *kp = sct_key(1), *other = sct_key(2);
    const uint8_t *pub = sc_keypair_public(kp);
    uint8_t msg[40];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)i;
    uint8_t sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(&t.env, kp, SC_DOMAIN_REQUEST, msg, sizeof msg, sig), SC_OK);
    ck_assert_int_eq(sc_verify(&t.env, pub, SC_DOMAIN_REQUEST, msg, sizeof msg, sig), SC_OK);
    /* Any flipped bit of the signature. */
    for (size_t bit = 0; bit < 8 * SC_SIG_LEN; bit++) {
        uint8_t bad[SC_SIG_LEN];
        memcpy(bad, sig, SC_SIG_LEN);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(sc_verify(&t.env, pub, SC_DOMAIN_REQUEST, msg, sizeof msg, bad),
                         SC_ERR_BAD_SIGNATURE);
    }
    /* Any flipped bit of the message. */
    for (size_t bit = 0; bit < 8 * sizeof msg; bit++) {
        uint8_t bad[sizeof msg];
        memcpy(bad, msg, sizeof msg);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(sc_verify(&t.env, pub, SC_DOMAIN_REQUEST, bad, sizeof bad, sig),
                         SC_ERR_BAD_SIGNATURE);
    }
    /* A signature for one purpose is not valid for another. */
    ck_assert_int_eq(sc_verify(&t.env, pub, SC_DOMAIN_OP, msg, sizeof msg, sig),
                     SC_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(sc_verify(&t.env, pub, SC_DOMAIN_ENROLL, msg, sizeof msg, sig),
                     SC_ERR_BAD_SIGNATURE);
    /* Moving the domain/message boundary changes the signed bytes. */
    ck_assert_int_eq(sc_verify(&t.env, pub, "spotcheck-request-v", msg, sizeof msg, sig),
                     SC_ERR_BAD_SIGNATURE);
    /* Nor under another key. */
    ck_assert_int_eq(
        sc_verify(&t.env, sc_keypair_public(other), SC_DOMAIN_REQUEST, msg, sizeof msg, sig),
        SC_ERR_BAD_SIGNATURE);
    /* A shorter message (the truncation a transport might cause). */
    ck_assert_int_eq(sc_verify(&t.env, pub, SC_DOMAIN_REQUEST, msg, sizeof msg - 1, sig),
                     SC_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(t.live, 0);
    sc_keypair_free(kp);
    sc_keypair_free(other);
}
END_TEST

START_TEST(sign_out_of_memory)
{
    sct_env t;
    sct_env_init(&t, 1);
    sc_keypair *kp = sct_key(1);
    uint8_t sig[SC_SIG_LEN];
    memset(sig, 0xaa, sizeof sig);
    sct_env_fail_at(&t, 1, 1);
    ck_assert_int_eq(sc_sign(&t.env, kp, SC_DOMAIN_OP, (const uint8_t *)"x", 1, sig), SC_ERR_NOMEM);
    uint8_t zero[SC_SIG_LEN] = {0};
    ck_assert_mem_eq(sig, zero, SC_SIG_LEN); /* fail closed */
    ck_assert_int_eq(
        sc_verify(&t.env, sc_keypair_public(kp), SC_DOMAIN_OP, (const uint8_t *)"x", 1, sig),
        SC_ERR_NOMEM);
    ck_assert_int_eq(t.live, 0);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(generate_from_env)
{
    /* The seed comes from the environment's random source, so a seeded
     * environment gives the same key and another seed another key. */
    sct_env a, b, c;
    sct_env_init(&a, 11);
    sct_env_init(&b, 11);
    sct_env_init(&c, 12);
    sc_keypair *ka = NULL, *kb = NULL, *kc = NULL;
    ck_assert_int_eq(sc_keypair_generate(&a.env, &ka), SC_OK);
    ck_assert_int_eq(sc_keypair_generate(&b.env, &kb), SC_OK);
    ck_assert_int_eq(sc_keypair_generate(&c.env, &kc), SC_OK);
    ck_assert_mem_eq(sc_keypair_public(ka), sc_keypair_public(kb), SC_KEY_LEN);
    ck_assert(memcmp(sc_keypair_public(ka), sc_keypair_public(kc), SC_KEY_LEN) != 0);
    /* It is the key pair of the 32 bytes the environment gave. */
    sct_env d;
    sct_env_init(&d, 11);
    uint8_t seed[32];
    d.env.random(d.env.ctx, seed, sizeof seed);
    sc_keypair *kd = NULL;
    ck_assert_int_eq(sc_keypair_from_seed(seed, &kd), SC_OK);
    ck_assert_mem_eq(sc_keypair_public(ka), sc_keypair_public(kd), SC_KEY_LEN);
    sc_keypair_free(ka);
    sc_keypair_free(kb);
    sc_keypair_free(kc);
    sc_keypair_free(kd);
    sc_keypair_free(NULL); /* a no-op */
}
END_TEST

/* ---- key files ---- */

#define FAST_OPS ((uint64_t)crypto_pwhash_OPSLIMIT_MIN)
#define FAST_MEM ((uint64_t)crypto_pwhash_MEMLIMIT_MIN)
static const char PASS[] = "correct horse battery staple";

static void put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

START_TEST(keyfile_plain_round_trip)
{
    sct_env t;
    sct_env_init(&t, 1);
    sc_keypair *kp = sct_key(3), *back = NULL;
    uint8_t file[SC_KEYFILE_MAX];
    size_t n = 0;
    sc_err err;
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, NULL, 0, 0, 0, file, sizeof file, &n, &err),
                     SC_OK);
    ck_assert_uint_eq(n, 40);
    ck_assert_mem_eq(file, "SCKEY1\0P", 8);
    ck_assert(!sc_keyfile_is_encrypted(file, n));
    ck_assert_int_eq(sc_keypair_load(file, n, NULL, 0, &back, &err), SC_OK);
    ck_assert_mem_eq(sc_keypair_public(back), sc_keypair_public(kp), SC_KEY_LEN);
    sc_keypair_free(back);
    /* A passphrase given for a plain file is not needed, and harmless. */
    ck_assert_int_eq(sc_keypair_load(file, n, PASS, strlen(PASS), &back, &err), SC_OK);
    ck_assert_mem_eq(sc_keypair_public(back), sc_keypair_public(kp), SC_KEY_LEN);
    sc_keypair_free(back);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(keyfile_encrypted_round_trip)
{
    sct_env t;
    sct_env_init(&t, 1);
    sc_keypair *kp = sct_key(4), *back = NULL;
    uint8_t file[SC_KEYFILE_MAX];
    size_t n = 0;
    sc_err err;
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, PASS, strlen(PASS), FAST_OPS, FAST_MEM, file,
                                     sizeof file, &n, &err),
                     SC_OK);
    ck_assert_uint_eq(n, 112);
    ck_assert_mem_eq(file, "SCKEY1\0E", 8);
    ck_assert(sc_keyfile_is_encrypted(file, n));
    /* The seed does not appear in the clear. */
    uint8_t plain[SC_KEYFILE_MAX];
    size_t pn = 0;
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, NULL, 0, 0, 0, plain, sizeof plain, &pn, &err),
                     SC_OK);
    for (size_t i = 0; i + 32 <= n; i++)
        ck_assert(memcmp(file + i, plain + 8, 32) != 0);
    ck_assert_int_eq(sc_keypair_load(file, n, PASS, strlen(PASS), &back, &err), SC_OK);
    ck_assert_mem_eq(sc_keypair_public(back), sc_keypair_public(kp), SC_KEY_LEN);
    sc_keypair_free(back);
    /* Limits 0 pick INTERACTIVE; the header says so (not loaded: slow). */
    ck_assert_int_eq(
        sc_keypair_save(&t.env, kp, PASS, strlen(PASS), 0, 0, file, sizeof file, &n, &err), SC_OK);
    uint8_t want[16];
    put_u64le(want, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    put_u64le(want + 8, crypto_pwhash_MEMLIMIT_INTERACTIVE);
    ck_assert_mem_eq(file + 8, want, 16);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(keyfile_wrong_or_missing_passphrase)
{
    sct_env t;
    sct_env_init(&t, 1);
    sc_keypair *kp = sct_key(5), *back = NULL;
    uint8_t file[SC_KEYFILE_MAX];
    size_t n = 0;
    sc_err err;
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, PASS, strlen(PASS), FAST_OPS, FAST_MEM, file,
                                     sizeof file, &n, &err),
                     SC_OK);
    ck_assert_int_eq(sc_keypair_load(file, n, "wrong", 5, &back, &err), SC_ERR_BAD_PASSPHRASE);
    ck_assert_ptr_null(back);
    ck_assert_ptr_nonnull(strstr(err.msg, "wrong passphrase"));
    /* One character short is just as wrong. */
    ck_assert_int_eq(sc_keypair_load(file, n, PASS, strlen(PASS) - 1, &back, &err),
                     SC_ERR_BAD_PASSPHRASE);
    ck_assert_int_eq(sc_keypair_load(file, n, NULL, 0, &back, &err), SC_ERR_BAD_PASSPHRASE);
    ck_assert_ptr_nonnull(strstr(err.msg, "no passphrase"));
    ck_assert_int_eq(sc_keypair_load(file, n, PASS, 0, &back, &err), SC_ERR_BAD_PASSPHRASE);
    ck_assert_ptr_nonnull(strstr(err.msg, "no passphrase"));
    ck_assert_ptr_null(back);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(keyfile_truncated_or_corrupted)
{
    sct_env t;
    sct_env_init(&t, 1);
    sc_keypair *kp = sct_key(6), *back = NULL;
    uint8_t enc[SC_KEYFILE_MAX + 1] = {0}, plain[SC_KEYFILE_MAX + 1] = {0};
    size_t en = 0, pn = 0;
    sc_err err;
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, PASS, strlen(PASS), FAST_OPS, FAST_MEM, enc,
                                     SC_KEYFILE_MAX, &en, &err),
                     SC_OK);
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, NULL, 0, 0, 0, plain, SC_KEYFILE_MAX, &pn, &err),
                     SC_OK);
    /* Every truncation, and one byte too many, is not a key file. */
    for (size_t len = 0; len <= en + 1; len++) {
        if (len == en)
            continue;
        ck_assert_int_eq(sc_keypair_load(enc, len, PASS, strlen(PASS), &back, &err),
                         SC_ERR_MALFORMED);
        ck_assert_ptr_null(back);
    }
    for (size_t len = 0; len <= pn + 1; len++) {
        if (len == pn)
            continue;
        ck_assert_int_eq(sc_keypair_load(plain, len, NULL, 0, &back, &err), SC_ERR_MALFORMED);
    }
    /* A damaged magic or type byte. */
    uint8_t bad[SC_KEYFILE_MAX];
    memcpy(bad, plain, pn);
    bad[0] = 'X';
    ck_assert_int_eq(sc_keypair_load(bad, pn, NULL, 0, &back, &err), SC_ERR_MALFORMED);
    memcpy(bad, plain, pn);
    bad[6] = '2'; /* the NUL that ends the magic */
    ck_assert_int_eq(sc_keypair_load(bad, pn, NULL, 0, &back, &err), SC_ERR_MALFORMED);
    memcpy(bad, plain, pn);
    bad[7] = 'Q';
    ck_assert_int_eq(sc_keypair_load(bad, pn, NULL, 0, &back, &err), SC_ERR_MALFORMED);
    /* Any damaged byte of salt, nonce or box fails authentication, which
     * cannot be told apart from a wrong passphrase. */
    for (size_t i = 24; i < en; i += 7) {
        memcpy(bad, enc, en);
        bad[i] ^= 0x01;
        ck_assert_int_eq(sc_keypair_load(bad, en, PASS, strlen(PASS), &back, &err),
                         SC_ERR_BAD_PASSPHRASE);
        ck_assert_ptr_null(back);
    }
    sc_keypair_free(kp);
}
END_TEST

START_TEST(keyfile_limits_refused)
{
    sct_env t;
    sct_env_init(&t, 1);
    sc_keypair *kp = sct_key(7), *back = NULL;
    uint8_t enc[SC_KEYFILE_MAX], bad[SC_KEYFILE_MAX];
    size_t en = 0;
    sc_err err;
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, PASS, strlen(PASS), FAST_OPS, FAST_MEM, enc,
                                     sizeof enc, &en, &err),
                     SC_OK);
    struct {
        uint64_t ops, mem;
    } hostile[] = {
        {crypto_pwhash_OPSLIMIT_SENSITIVE + 1, FAST_MEM},
        {UINT64_MAX, FAST_MEM},
        {FAST_OPS, (uint64_t)crypto_pwhash_MEMLIMIT_SENSITIVE + 1},
        {FAST_OPS, UINT64_MAX},
        {0, FAST_MEM},
        {FAST_OPS, FAST_MEM - 1},
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        memcpy(bad, enc, en);
        put_u64le(bad + 8, hostile[i].ops);
        put_u64le(bad + 16, hostile[i].mem);
        /* Refused before any derivation: this returns at once. */
        ck_assert_int_eq(sc_keypair_load(bad, en, PASS, strlen(PASS), &back, &err),
                         SC_ERR_MALFORMED);
        ck_assert_ptr_nonnull(strstr(err.msg, "Argon2 limits"));
        ck_assert_ptr_null(back);
        /* And never written either. */
        size_t n = 1;
        ck_assert_int_eq(sc_keypair_save(&t.env, kp, PASS, strlen(PASS), hostile[i].ops,
                                         hostile[i].mem, bad, sizeof bad, &n, &err),
                         hostile[i].ops == 0 ? SC_OK : SC_ERR_INVALID_ARG);
    }
    sc_keypair_free(kp);
}
END_TEST

START_TEST(keyfile_small_buffer)
{
    sct_env t;
    sct_env_init(&t, 1);
    sc_keypair *kp = sct_key(8);
    uint8_t out[111];
    size_t n = 99;
    sc_err err;
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, PASS, strlen(PASS), FAST_OPS, FAST_MEM, out,
                                     sizeof out, &n, &err),
                     SC_ERR_TOO_LARGE);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, NULL, 0, 0, 0, out, 39, &n, &err),
                     SC_ERR_TOO_LARGE);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(sc_keypair_save(&t.env, NULL, NULL, 0, 0, 0, out, sizeof out, &n, &err),
                     SC_ERR_INVALID_ARG);
    /* A passphrase length without the passphrase is a caller bug, not "plain". */
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, NULL, 5, 0, 0, out, sizeof out, &n, &err),
                     SC_ERR_INVALID_ARG);
    sc_keypair_free(kp);
}
END_TEST

/* ---- an external signer (a platform keystore) ---- */

/* The "keystore": the secret key in this test's memory, and how often it signed. */
typedef struct ext_store {
    uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[SC_KEY_LEN];
    int calls;
    int mode; /* 0 signs, 1 signs with another key, 2 fails */
} ext_store;

static sc_status ext_sign(void *ctx, const uint8_t pub[SC_KEY_LEN], const uint8_t *msg, size_t len,
                          uint8_t sig[SC_SIG_LEN])
{
    ext_store *k = ctx;
    k->calls++;
    ck_assert_mem_eq(pub, k->pk, SC_KEY_LEN);
    if (k->mode == 2)
        return SC_ERR_IO;
    uint8_t other_pk[SC_KEY_LEN], other_sk[crypto_sign_SECRETKEYBYTES], seed[32] = {9};
    crypto_sign_seed_keypair(other_pk, other_sk, seed);
    crypto_sign_detached(sig, NULL, msg, len, k->mode == 1 ? other_sk : k->sk);
    return SC_OK;
}

START_TEST(external_signer)
{
    sct_env t;
    sct_env_init(&t, 1);
    ext_store k = {.calls = 0};
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i * 5 + 3);
    crypto_sign_seed_keypair(k.pk, k.sk, seed);
    sc_keypair *kp = NULL;
    ck_assert_int_eq(sc_keypair_external(k.pk, ext_sign, &k, &kp), SC_OK);
    ck_assert(sc_keypair_is_external(kp));
    ck_assert_mem_eq(sc_keypair_public(kp), k.pk, SC_KEY_LEN);
    /* sc_sign hands the signer the whole signed input: a signature by the seed's key. */
    const uint8_t msg[] = "an op's bytes";
    uint8_t sig[SC_SIG_LEN], want[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(&t.env, kp, SC_DOMAIN_OP, msg, sizeof msg, sig), SC_OK);
    sign_by_hand(seed, SC_DOMAIN_OP, msg, sizeof msg, want);
    ck_assert_mem_eq(sig, want, SC_SIG_LEN);
    ck_assert_int_eq(sc_sign_raw(kp, (const uint8_t *)"note", 4, sig), SC_OK);
    ck_assert_int_eq(crypto_sign_verify_detached(sig, (const uint8_t *)"note", 4, k.pk), 0);
    ck_assert_int_eq(k.calls, 2);
    /* A keystore that signs with another key, or fails, gives no signature. */
    k.mode = 1;
    ck_assert_int_eq(sc_sign(&t.env, kp, SC_DOMAIN_OP, msg, sizeof msg, sig), SC_ERR_BAD_SIGNATURE);
    uint8_t zero[SC_SIG_LEN] = {0};
    ck_assert_mem_eq(sig, zero, SC_SIG_LEN);
    k.mode = 2;
    ck_assert_int_eq(sc_sign(&t.env, kp, SC_DOMAIN_OP, msg, sizeof msg, sig), SC_ERR_CRYPTO);
    ck_assert_int_eq(sc_sign_raw(kp, (const uint8_t *)"note", 4, sig), SC_ERR_CRYPTO);
    ck_assert_mem_eq(sig, zero, SC_SIG_LEN);
    /* There are no key bytes to save; the custody key file loads as no key. */
    uint8_t out[SC_KEYFILE_MAX];
    size_t n = 0;
    sc_err err;
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, NULL, 0, 0, 0, out, sizeof out, &n, &err),
                     SC_ERR_INVALID_ARG);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(sc_keyfile_custody(out, sizeof out, &n), SC_OK);
    ck_assert(sc_keyfile_is_custody(out, n));
    ck_assert(!sc_keyfile_is_encrypted(out, n));
    sc_keypair *loaded = NULL;
    ck_assert_int_eq(sc_keypair_load(out, n, PASS, strlen(PASS), &loaded, &err),
                     SC_ERR_BAD_PASSPHRASE);
    ck_assert_ptr_null(loaded);
    ck_assert_ptr_nonnull(strstr(err.msg, "key custody"));
    ck_assert_int_eq(sc_keyfile_custody(out, 7, &n), SC_ERR_TOO_LARGE);
    ck_assert_int_eq(t.live, 0);
    sc_keypair_free(kp);
    sodium_memzero(k.sk, sizeof k.sk);
}
END_TEST

static Suite *keys_suite(void)
{
    Suite *s = suite_create("keys");
    const sct_case cases[] = {
        {"rfc8032_vectors", rfc8032_vectors},
        {"sign_with_domain", sign_with_domain},
        {"verify_rejects", verify_rejects},
        {"sign_out_of_memory", sign_out_of_memory},
        {"generate_from_env", generate_from_env},
        {"keyfile_plain_round_trip", keyfile_plain_round_trip},
        {"keyfile_encrypted_round_trip", keyfile_encrypted_round_trip},
        {"keyfile_wrong_or_missing_passphrase", keyfile_wrong_or_missing_passphrase},
        {"keyfile_truncated_or_corrupted", keyfile_truncated_or_corrupted},
        {"keyfile_limits_refused", keyfile_limits_refused},
        {"keyfile_small_buffer", keyfile_small_buffer},
        {"external_signer", external_signer},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(keys_suite());
}
