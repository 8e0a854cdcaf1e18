/*
 * test_keys.c: how the replica keeps the device key (spotcheck.h, "The
 * device key"), against a real syncd.
 *
 *  - A key custody that holds the private key in this test's memory (as a
 *    platform keystore would) enrolls, records and syncs; the replica file
 *    and its log hold no byte of that private key, and a handle without the
 *    custody, or with another key, is refused.
 *  - sc_enroll_v2 stores no plain key unless asked: no keeper, or two, is
 *    refused before anything is sent, and the code still enrolls after.
 *  - A replica of schema 1 whose key is plain (tests/vectors/replica-v1,
 *    its key decrypted as a 0.1 tablet enrolled without a passphrase kept
 *    it) opens, migrates and syncs; sc_key_protect encrypts its key in
 *    place, after which the plain key's bytes are nowhere in the file; a
 *    wrong passphrase is refused and changes nothing.
 */
#include "fixture.h"

#include <sodium.h>
#include <sys/stat.h>

#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"

static sct_live L;

/* The "keystore": an Ed25519 key that lives only here, and how often it signed. */
typedef struct keystore {
    uint8_t pk[32], sk[crypto_sign_SECRETKEYBYTES];
    int signs;
    bool refuse; /* the user did not authenticate */
} keystore;

static sc_status keystore_sign(void *ctx, const uint8_t public_key[32], const uint8_t *msg,
                               size_t len, uint8_t sig[64])
{
    keystore *k = ctx;
    if (k->refuse || memcmp(public_key, k->pk, 32) != 0)
        return SC_ERR_FORBIDDEN;
    k->signs++;
    crypto_sign_detached(sig, NULL, msg, len, k->sk);
    return SC_OK;
}

static void keystore_make(keystore *k, uint8_t fill)
{
    memset(k, 0, sizeof *k);
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(fill + i * 13);
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static sc_key_custody custody_of(keystore *k)
{
    sc_key_custody kc = {.size = sizeof kc, .sign = keystore_sign, .ctx = k};
    memcpy(kc.public_key, k->pk, 32);
    return kc;
}

static sc_client *open_mode(const char *db, sc_open_mode mode)
{
    sc_client *c = NULL;
    char err[512];
    sc_open_options oo = {.size = sizeof oo, .mode = mode};
    sc_status s = sc_client_open_v3(db, &oo, &c, err, sizeof err);
    ck_assert_msg(s == SC_OK, "open %s: %s", db, err);
    return c;
}

/* The whole file at path into a malloc'd buffer (*len bytes); NULL and 0 when there is none. */
static uint8_t *slurp(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        size_t n = fread(buf + *len, 1, cap - *len, f);
        if (n == 0)
            break;
        *len += n;
    }
    fclose(f);
    return buf;
}

/* Whether db, its -wal or its -journal holds the n bytes of needle anywhere. */
static bool replica_holds(const char *db, const uint8_t *needle, size_t n)
{
    static const char *const suffix[] = {"", "-wal", "-journal"};
    bool found = false;
    for (size_t i = 0; i < 3 && !found; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s%s", db, suffix[i]);
        size_t len = 0;
        uint8_t *buf = slurp(path, &len);
        for (size_t o = 0; buf && len >= n && o <= len - n && !found; o++)
            found = memcmp(buf + o, needle, n) == 0;
        free(buf);
    }
    return found;
}

static const char *jstr(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    ck_assert_msg(v != NULL, "no string %s", key);
    return v;
}

/* A finding on the fixture's target, recorded by c; SC_OK or the failure. */
static sc_status record_finding(sc_client *c, const char *what)
{
    char fid[SC_ID_HEX_LEN];
    sc_finding_params_v2 fp = {.size = sizeof fp, .target = "T-JAHY", .description = what,
                               .grade = "general", .deadline = "2026-12-20",
                               .responsible = "junan", .source = "complaint"};
    return sc_finding_add_v2(c, &fp, fid);
}

static sc_status sync_json(sc_client *c, json_t **out)
{
    char *json = NULL;
    sc_status s = sc_sync(c, NULL, NULL, &json);
    *out = json ? json_loads(json, 0, NULL) : NULL;
    sc_json_free(c, json);
    return s;
}

START_TEST(custody_signs_enrolls_and_syncs)
{
    char db[700], code[128];
    snprintf(db, sizeof db, "%s/tablet.db", L.tmp);
    sct_fixture_code(L.data, "inspector1", code, sizeof code);
    keystore k;
    keystore_make(&k, 41);
    sc_key_custody kc = custody_of(&k);

    sc_client *c = open_mode(db, SC_OPEN_ENROLL);
    ck_assert_int_eq(sc_client_set_key_custody(c, &kc), SC_OK);
    sc_enroll_params ep = {.size = sizeof ep, .server_url = L.srv.url, .code = code};
    char *json = NULL;
    ck_assert_msg(sc_enroll_v2(c, &ep, &json) == SC_OK, "enroll: %s", sc_client_errmsg(c));
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(c, json);
    char pk_hex[65];
    sodium_bin2hex(pk_hex, sizeof pk_hex, k.pk, 32);
    ck_assert_str_eq(jstr(o, "device_key"), pk_hex);
    ck_assert_str_eq(jstr(o, "key"), "custody");
    json_decref(o);
    ck_assert_int_gt(k.signs, 0); /* the enrollment proof */

    /* Recording and syncing sign through the custody, and syncd takes it all. */
    ck_assert_msg(sync_json(c, &o) == SC_OK, "first pull: %s", sc_client_errmsg(c));
    json_decref(o);
    int before = k.signs;
    ck_assert_msg(record_finding(c, "消防通道堵塞") == SC_OK, "%s", sc_client_errmsg(c));
    ck_assert_msg(sync_json(c, &o) == SC_OK, "sync: %s", sc_client_errmsg(c));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 2); /* finding, notice */
    json_decref(o);
    ck_assert_int_gt(k.signs, before + 2); /* the ops and the signed requests */
    o = fx_status(c);
    ck_assert_str_eq(jstr(o, "key"), "custody");
    ck_assert(json_is_true(json_object_get(o, "key_encrypted")));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "outbox")), 0);
    json_decref(o);

    /* The keystore refuses (the user did not authenticate): nothing is recorded. */
    k.refuse = true;
    ck_assert_int_eq(record_finding(c, "不应记录"), SC_ERR_CRYPTO);
    k.refuse = false;
    o = fx_status(c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "outbox")), 0);
    json_decref(o);
    sc_client_close(c);

    /* Nothing of the private key is in the replica: not the seed, not the secret key. */
    ck_assert(!replica_holds(db, k.sk, 32));
    ck_assert(!replica_holds(db, k.sk, sizeof k.sk));
    ck_assert(replica_holds(db, k.pk, 32)); /* the search finds what is there */

    /* A later handle: without the custody it cannot sign, and says why. */
    c = open_mode(db, SC_OPEN_EXISTING);
    ck_assert_int_eq(record_finding(c, "无钥匙"), SC_ERR_BAD_PASSPHRASE);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "key custody"));
    ck_assert_int_eq(sc_client_unlock(c, "pw", 2), SC_ERR_BAD_PASSPHRASE);
    ck_assert_int_eq(sc_key_protect(c, "pw", 2), SC_ERR_BAD_PASSPHRASE);
    /* Another keystore's key is not this device's. */
    keystore other;
    keystore_make(&other, 99);
    sc_key_custody okc = custody_of(&other);
    ck_assert_int_eq(sc_client_set_key_custody(c, &okc), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "not the device key"));
    /* A custody struct from no header at all. */
    sc_key_custody bad = kc;
    bad.size = 3;
    ck_assert_int_eq(sc_client_set_key_custody(c, &bad), SC_ERR_INVALID_ARG);
    bad = kc;
    bad.sign = NULL;
    ck_assert_int_eq(sc_client_set_key_custody(c, &bad), SC_ERR_INVALID_ARG);
    /* Its own custody: it records and syncs again. */
    ck_assert_int_eq(sc_client_set_key_custody(c, &kc), SC_OK);
    ck_assert_msg(record_finding(c, "垃圾外溢") == SC_OK, "%s", sc_client_errmsg(c));
    ck_assert_msg(sync_json(c, &o) == SC_OK, "sync: %s", sc_client_errmsg(c));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 2);
    json_decref(o);
    sc_client_close(c);
    ck_assert(!replica_holds(db, k.sk, 32));
    char out[16384];
    ck_assert_msg(sct_audit(L.data, out, sizeof out) == 0, "%s", out);
    sodium_memzero(&k, sizeof k);
}
END_TEST

/* sc_enroll_v2 stores no plain key unless asked, and refuses before it spends the code. */
START_TEST(enroll_needs_one_keeper_for_the_key)
{
    char db[700], code[128];
    snprintf(db, sizeof db, "%s/tablet.db", L.tmp);
    sct_fixture_code(L.data, "inspector1", code, sizeof code);
    sc_client *c = open_mode(db, SC_OPEN_ENROLL);
    sc_enroll_params ep = {.size = sizeof ep, .server_url = L.srv.url, .code = code};
    ck_assert_int_eq(sc_enroll_v2(c, &ep, NULL), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "SC_ENROLL_PLAIN_KEY"));
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "passphrase"));
    ep.pass = "pw";
    ep.pass_len = 2;
    ep.flags = SC_ENROLL_PLAIN_KEY;
    ck_assert_int_eq(sc_enroll_v2(c, &ep, NULL), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "more than one"));
    keystore k;
    keystore_make(&k, 7);
    sc_key_custody kc = custody_of(&k);
    ck_assert_int_eq(sc_client_set_key_custody(c, &kc), SC_OK);
    ep.flags = 0;
    ck_assert_int_eq(sc_enroll_v2(c, &ep, NULL), SC_ERR_INVALID_ARG); /* custody and passphrase */
    ck_assert_int_eq(sc_client_set_key_custody(c, NULL), SC_OK);
    ep.flags = 0x8;
    ck_assert_int_eq(sc_enroll_v2(c, &ep, NULL), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "unknown flags"));

    /* The code was not spent: with a passphrase it enrolls, and the key rests encrypted. */
    ep.flags = 0;
    ep.pass = "correct horse";
    ep.pass_len = strlen(ep.pass);
    ck_assert_msg(sc_enroll_v2(c, &ep, NULL) == SC_OK, "enroll: %s", sc_client_errmsg(c));
    json_t *o = fx_status(c);
    ck_assert_str_eq(jstr(o, "key"), "passphrase");
    json_decref(o);
    sc_client_close(c);

    /* A later handle signs only once unlocked; a wrong passphrase is refused, changing nothing. */
    uint8_t h1[SC_HASH_LEN], h2[SC_HASH_LEN];
    c = open_mode(db, SC_OPEN_EXISTING);
    ck_assert(sct_file_sha256(db, h1));
    ck_assert_int_eq(record_finding(c, "未解锁"), SC_ERR_BAD_PASSPHRASE);
    ck_assert_int_eq(sc_client_unlock(c, "wrong", 5), SC_ERR_BAD_PASSPHRASE);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "wrong passphrase"));
    ck_assert_int_eq(sc_key_protect(c, "new", 3), SC_ERR_BAD_PASSPHRASE);
    ck_assert(sct_file_sha256(db, h2));
    ck_assert_mem_eq(h1, h2, SC_HASH_LEN);
    ck_assert_int_eq(sc_client_unlock(c, ep.pass, ep.pass_len), SC_OK);
    json_t *r = NULL;
    ck_assert_msg(sync_json(c, &r) == SC_OK, "sync: %s", sc_client_errmsg(c));
    json_decref(r);
    ck_assert_msg(record_finding(c, "已解锁") == SC_OK, "%s", sc_client_errmsg(c));
    sc_client_close(c);
}
END_TEST

/* ---- a replica of schema 1 with a plain key ---- */

#define VECTOR_PASS "vector-passphrase"
#define NEW_PASS "new passphrase"

/*
 * The vector's replica in dir, its key decrypted into a plain key file in
 * place, as a 0.1 tablet enrolled without a passphrase kept it; the seed
 * into seed.
 */
static void plain_vector(const char *tmp, char *db, size_t cap, uint8_t seed[32])
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp -R '%s/replica-v1/.' '%s' && chmod 700 '%s/data' && "
             "chmod 600 '%s/data/server.key' '%s/replica.db'",
             SC_VECTORS_DIR, tmp, tmp, tmp, tmp);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(db, cap, "%s/replica.db", tmp);
    char sql[2 * SC_KEYFILE_MAX + 128];
    /* The encrypted key file, as hex, out of the vector. */
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"SELECT hex(value) FROM meta WHERE key='keyfile'\"",
             db);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char hex[512] = "";
    ck_assert_ptr_nonnull(fgets(hex, sizeof hex, p));
    pclose(p);
    hex[strcspn(hex, "\n")] = '\0';
    size_t n = 0;
    uint8_t *enc = sct_unhex(hex, &n);
    sc_keypair *kp = NULL;
    sc_err e;
    ck_assert_int_eq(sc_keypair_load(enc, n, VECTOR_PASS, strlen(VECTOR_PASS), &kp, &e), SC_OK);
    free(enc);
    sct_env t;
    sct_env_init(&t, 1);
    uint8_t plain[SC_KEYFILE_MAX];
    ck_assert_int_eq(sc_keypair_save(&t.env, kp, NULL, 0, 0, 0, plain, sizeof plain, &n, &e),
                     SC_OK);
    sc_keypair_free(kp);
    memcpy(seed, plain + 8, 32); /* "SCKEY1\0" 'P' seed (keys.h) */
    char phex[2 * SC_KEYFILE_MAX + 1];
    sodium_bin2hex(phex, sizeof phex, plain, n);
    snprintf(sql, sizeof sql, "UPDATE meta SET value=X'%s' WHERE key='keyfile'", phex);
    sct_sql_exec(db, sql);
    sct_sql_exec(db, "VACUUM");
}

START_TEST(plain_key_replica_opens_syncs_and_is_protected)
{
    char tmp[512], db[700], data[600];
    sct_tempdir(tmp, sizeof tmp);
    uint8_t seed[32];
    plain_vector(tmp, db, sizeof db, seed);
    ck_assert(replica_holds(db, seed, 32)); /* the plain key is there to be found */
    snprintf(data, sizeof data, "%s/data", tmp);
    char out[4096];
    ck_assert_msg(sct_syncd_run(out, sizeof out, "migrate", "--data", data, NULL) == 0, "%s", out);
    sct_server srv;
    sct_server_start(&srv, data, NULL);

    /* It opens (migrated from schema 1) and syncs with its plain key, as before. */
    sc_client *c = open_mode(db, SC_OPEN_EXISTING);
    json_t *o = fx_status(c);
    ck_assert_str_eq(jstr(o, "key"), "plain");
    ck_assert(json_is_false(json_object_get(o, "key_encrypted")));
    long long queued = (long long)json_integer_value(json_object_get(o, "outbox"));
    json_decref(o);
    ck_assert_int_gt(queued, 0);
    ck_assert_msg(sc_server_set_url(c, srv.url, NULL) == SC_OK, "%s", sc_client_errmsg(c));
    ck_assert_msg(sync_json(c, &o) == SC_OK, "sync: %s", sc_client_errmsg(c));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), queued);
    json_decref(o);

    /* Protected in place: the key is encrypted, and its plain bytes are gone from the file. */
    ck_assert_int_eq(sc_key_protect(c, NULL, 0), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_key_protect(c, NEW_PASS, strlen(NEW_PASS)), SC_OK);
    o = fx_status(c);
    ck_assert_str_eq(jstr(o, "key"), "passphrase");
    json_decref(o);
    ck_assert(!replica_holds(db, seed, 32));
    ck_assert_msg(record_finding(c, "保护后") == SC_OK, "%s", sc_client_errmsg(c));
    sc_client_close(c);
    ck_assert(!replica_holds(db, seed, 32));

    /* A wrong passphrase is refused and changes nothing; the new one signs and syncs. */
    c = open_mode(db, SC_OPEN_EXISTING);
    uint8_t h1[SC_HASH_LEN], h2[SC_HASH_LEN];
    ck_assert(sct_file_sha256(db, h1));
    ck_assert_int_eq(sc_client_unlock(c, VECTOR_PASS, strlen(VECTOR_PASS)), SC_ERR_BAD_PASSPHRASE);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "wrong passphrase"));
    ck_assert_int_eq(sync_json(c, &o), SC_ERR_BAD_PASSPHRASE);
    ck_assert(sct_file_sha256(db, h2));
    ck_assert_mem_eq(h1, h2, SC_HASH_LEN);
    ck_assert_int_eq(sc_client_unlock(c, NEW_PASS, strlen(NEW_PASS)), SC_OK);
    ck_assert_msg(sync_json(c, &o) == SC_OK, "sync: %s", sc_client_errmsg(c));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 2);
    json_decref(o);
    char *json = NULL;
    ck_assert_int_eq(sc_verify_replica(c, &json), SC_OK);
    sc_json_free(c, json);
    sc_client_close(c);
    ck_assert_msg(sct_audit(data, out, sizeof out) == 0, "%s", out);
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    sct_rmtree(tmp);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("client_keys");
    sct_live_use(&L);
    const sct_case live[] = {
        {"custody_signs_enrolls_and_syncs", custody_signs_enrolls_and_syncs},
        {"enroll_needs_one_keeper_for_the_key", enroll_needs_one_keeper_for_the_key},
    };
    sct_suite_add(s, live, SCT_COUNT(live),
                  &(sct_tcase_opts){.setup = sct_live_setup, .teardown = sct_live_teardown});
    const sct_case alone[] = {
        {"plain_key_replica_opens_syncs_and_is_protected",
         plain_key_replica_opens_syncs_and_is_protected},
    };
    sct_suite_add(s, alone, SCT_COUNT(alone), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
