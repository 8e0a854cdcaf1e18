/*
 * test_auth.c: request signatures (docs/protocol.md §3): the canonical
 * bytes, a good request, every refusal with its reason, the replay cache
 * (replays refused, other devices unaffected, old epochs dropped, the cap
 * answered 503 instead of growing) and use from several threads.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "core/ids.h"
#include "sctest.h"
#include "sctest_server.h"
#include "wire.pb-c.h"

#define SKEW 300000 /* the default clock.skew_ms */
#define NOW INT64_C(1795392000000)

typedef struct signed_req {
    char device[65], time[24], nonce[33], sig[129];
    sd_auth_headers h;
} signed_req;

static void hexs(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Sign like a client: method, target, body at time t with nonce number k. */
static void make(signed_req *s, const sc_keypair *kp, const char *method, const char *target,
                 const char *body, int64_t t, uint32_t k)
{
    memset(s, 0, sizeof *s);
    hexs(sc_keypair_public(kp), SC_KEY_LEN, s->device);
    snprintf(s->time, sizeof s->time, "%" PRId64, t);
    uint8_t nonce[16] = {0};
    memcpy(nonce, &k, sizeof k);
    nonce[15] = 0x5a;
    hexs(nonce, sizeof nonce, s->nonce);
    uint8_t msg[1024], sig[SC_SIG_LEN];
    size_t n = sct_canonical(method, target, s->time, s->nonce, body, body ? strlen(body) : 0, msg,
                             sizeof msg);
    ck_assert_int_eq(sc_sign(sct_sys_env(), kp, SC_DOMAIN_REQUEST, msg, n, sig), SC_OK);
    hexs(sig, sizeof sig, s->sig);
    s->h.device = s->device;
    s->h.time = s->time;
    s->h.nonce = s->nonce;
    s->h.signature = s->sig;
}

static sd_auth *new_auth(size_t max)
{
    sd_auth *a = NULL;
    ck_assert_int_eq(sd_auth_new(sct_sys_env(), SKEW, max, &a), SC_OK);
    return a;
}

/* Parse and verify; returns the status and fills err. */
static sc_status check(sd_auth *a, const signed_req *s, const char *method, const char *target,
                       const char *body, int64_t now, sc_err *err)
{
    sd_auth_req ar;
    sc_err_clear(err);
    sc_status rc = sd_auth_parse(a, &s->h, now, &ar, err);
    if (rc != SC_OK)
        return rc;
    uint8_t bh[SC_HASH_LEN];
    sc_sha256(body ? body : "", body ? strlen(body) : 0, bh);
    return sd_auth_verify(a, &ar, method, target, strlen(target), bh, now, err);
}

START_TEST(canonical_bytes)
{
    uint8_t bh[SC_HASH_LEN], out[512];
    sc_sha256("", 0, bh);
    size_t n = sd_auth_canonical("GET", "/v1/log/proof/inclusion?index=3&size=10", 39,
                                 "1795392000000", "000102030405060708090a0b0c0d0e0f", bh, out,
                                 sizeof out);
    const char *want = "GET\n/v1/log/proof/inclusion?index=3&size=10\n1795392000000\n"
                       "000102030405060708090a0b0c0d0e0f\n"
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    ck_assert_uint_eq(n, strlen(want));
    ck_assert(memcmp(out, want, n) == 0);
    /* The test client builds the same bytes independently. */
    uint8_t other[512];
    size_t m = sct_canonical("GET", "/v1/log/proof/inclusion?index=3&size=10", "1795392000000",
                             "000102030405060708090a0b0c0d0e0f", NULL, 0, other, sizeof other);
    ck_assert_uint_eq(m, n);
    ck_assert(memcmp(other, out, n) == 0);
    /* Too small a buffer is refused, not overrun. */
    ck_assert_uint_eq(sd_auth_canonical("GET", "/", 1, "1", "00", bh, out, 10), 0);
}
END_TEST

START_TEST(good_request)
{
    sc_keypair *kp = sct_key(1);
    sd_auth *a = new_auth(0);
    signed_req s;
    make(&s, kp, "POST", "/v1/sync", "body bytes", NOW, 1);
    sc_err err;
    ck_assert_int_eq(check(a, &s, "POST", "/v1/sync", "body bytes", NOW, &err), SC_OK);
    ck_assert_uint_eq(sd_auth_nonce_count(a), 1);
    /* At the edges of the window. */
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW + SKEW, 2);
    ck_assert_int_eq(check(a, &s, "GET", "/v1/log/checkpoint", NULL, NOW, &err), SC_OK);
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW - SKEW, 3);
    ck_assert_int_eq(check(a, &s, "GET", "/v1/log/checkpoint", NULL, NOW, &err), SC_OK);
    sd_auth_free(a);
    sc_keypair_free(kp);
}
END_TEST

static void refused(sd_auth *a, const signed_req *s, const char *method, const char *target,
                    const char *body, const char *why)
{
    sc_err err;
    sc_status rc = check(a, s, method, target, body, NOW, &err);
    ck_assert_int_eq(rc, SC_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_BAD_SIGNATURE);
    ck_assert_msg(strstr(err.msg, why) != NULL, "message \"%s\" does not say \"%s\"", err.msg, why);
}

START_TEST(missing_headers)
{
    sc_keypair *kp = sct_key(1);
    sd_auth *a = new_auth(0);
    signed_req s;
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW, 1);
    signed_req t = s;
    t.h.device = NULL;
    refused(a, &t, "GET", "/v1/log/checkpoint", NULL, "X-Spotcheck-Device");
    t = s;
    t.h.time = NULL;
    refused(a, &t, "GET", "/v1/log/checkpoint", NULL, "X-Spotcheck-Time");
    t = s;
    t.h.nonce = NULL;
    refused(a, &t, "GET", "/v1/log/checkpoint", NULL, "X-Spotcheck-Nonce");
    t = s;
    t.h.signature = NULL;
    refused(a, &t, "GET", "/v1/log/checkpoint", NULL, "X-Spotcheck-Signature");
    sd_auth_free(a);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(malformed_headers)
{
    sc_keypair *kp = sct_key(1);
    sd_auth *a = new_auth(0);
    signed_req s, t;
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW, 1);
    const char *target = "/v1/log/checkpoint";

    t = s; /* upper-case hex is not the protocol's form */
    for (char *p = t.device; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 32);
    t.h.device = t.device;
    refused(a, &t, "GET", target, NULL, "X-Spotcheck-Device");
    t = s;
    t.device[63] = '\0';
    t.h.device = t.device;
    refused(a, &t, "GET", target, NULL, "X-Spotcheck-Device");
    t = s;
    t.h.nonce = "0011";
    refused(a, &t, "GET", target, NULL, "X-Spotcheck-Nonce");
    t = s;
    t.h.nonce = "zz0102030405060708090a0b0c0d0e0f";
    refused(a, &t, "GET", target, NULL, "X-Spotcheck-Nonce");
    t = s;
    t.sig[127] = '\0';
    t.h.signature = t.sig;
    refused(a, &t, "GET", target, NULL, "X-Spotcheck-Signature");
    t = s;
    t.h.time = "-1795392000000";
    refused(a, &t, "GET", target, NULL, "X-Spotcheck-Time");
    t = s;
    t.h.time = "1795392000000.5";
    refused(a, &t, "GET", target, NULL, "X-Spotcheck-Time");
    t = s;
    t.h.time = "";
    refused(a, &t, "GET", target, NULL, "X-Spotcheck-Time");
    t = s;
    t.h.time = "99999999999999999999999";
    refused(a, &t, "GET", target, NULL, "X-Spotcheck-Time");
    ck_assert_uint_eq(sd_auth_nonce_count(a), 0);
    sd_auth_free(a);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(time_window)
{
    sc_keypair *kp = sct_key(1);
    sd_auth *a = new_auth(0);
    signed_req s;
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW + SKEW + 1, 1);
    refused(a, &s, "GET", "/v1/log/checkpoint", NULL, "ahead of the server clock");
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW - SKEW - 1, 2);
    refused(a, &s, "GET", "/v1/log/checkpoint", NULL, "behind the server clock");
    sd_auth_free(a);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(bad_signatures)
{
    sc_keypair *kp = sct_key(1), *other = sct_key(2);
    sd_auth *a = new_auth(0);
    signed_req s, t;
    const char *target = "/v1/log/proof/inclusion?index=3&size=10";
    make(&s, kp, "GET", target, NULL, NOW, 1);
    /* Each part of the canonical string matters. */
    refused(a, &s, "POST", target, NULL, "does not verify");
    refused(a, &s, "GET", "/v1/log/proof/inclusion?index=4&size=10", NULL, "does not verify");
    refused(a, &s, "GET", target, "a body", "does not verify");
    t = s;
    t.h.time = "1795392000001";
    refused(a, &t, "GET", target, NULL, "does not verify");
    t = s;
    t.nonce[0] = t.nonce[0] == '0' ? '1' : '0';
    t.h.nonce = t.nonce;
    refused(a, &t, "GET", target, NULL, "does not verify");
    /* Signed by another key than the one named. */
    signed_req o;
    make(&o, other, "GET", target, NULL, NOW, 1);
    t = s;
    t.h.signature = o.sig;
    refused(a, &t, "GET", target, NULL, "does not verify");
    /* A failed signature never reaches the replay cache. */
    ck_assert_uint_eq(sd_auth_nonce_count(a), 0);
    sc_err err;
    ck_assert_int_eq(check(a, &s, "GET", target, NULL, NOW, &err), SC_OK);
    sd_auth_free(a);
    sc_keypair_free(kp);
    sc_keypair_free(other);
}
END_TEST

START_TEST(replay)
{
    sc_keypair *kp = sct_key(1), *other = sct_key(2);
    sd_auth *a = new_auth(0);
    signed_req s;
    sc_err err;
    make(&s, kp, "POST", "/v1/sync", "x", NOW, 7);
    ck_assert_int_eq(check(a, &s, "POST", "/v1/sync", "x", NOW, &err), SC_OK);
    refused(a, &s, "POST", "/v1/sync", "x", "replayed");
    /* The same nonce in a new request of the same device is refused too. */
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW + 1000, 7);
    refused(a, &s, "GET", "/v1/log/checkpoint", NULL, "replayed");
    /* Another device may use the same nonce. */
    make(&s, other, "POST", "/v1/sync", "x", NOW, 7);
    ck_assert_int_eq(check(a, &s, "POST", "/v1/sync", "x", NOW, &err), SC_OK);
    sd_auth_free(a);
    sc_keypair_free(kp);
    sc_keypair_free(other);
}
END_TEST

START_TEST(old_epochs_dropped)
{
    sc_keypair *kp = sct_key(1);
    sd_auth *a = new_auth(0);
    signed_req s;
    sc_err err;
    for (uint32_t k = 0; k < 100; k++) {
        make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW, k);
        ck_assert_int_eq(check(a, &s, "GET", "/v1/log/checkpoint", NULL, NOW, &err), SC_OK);
    }
    ck_assert_uint_eq(sd_auth_nonce_count(a), 100);
    /* Three skews later no request time of then can pass the time check: they are forgotten. */
    int64_t later = NOW + 3 * SKEW;
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, later, 1000);
    /* Every shard drops its stale epoch when next touched; touch them all. */
    for (uint32_t k = 1000; k < 1400; k++) {
        make(&s, kp, "GET", "/v1/log/checkpoint", NULL, later, k);
        ck_assert_int_eq(check(a, &s, "GET", "/v1/log/checkpoint", NULL, later, &err), SC_OK);
    }
    ck_assert_uint_eq(sd_auth_nonce_count(a), 400);
    /* A replay of an old request is now refused by its time instead. */
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW, 3);
    ck_assert_int_eq(check(a, &s, "GET", "/v1/log/checkpoint", NULL, later, &err),
                     SC_ERR_BAD_SIGNATURE);
    ck_assert(strstr(err.msg, "behind the server clock") != NULL);
    sd_auth_free(a);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(cap_refuses_with_503)
{
    sc_keypair *kp = sct_key(1);
    /* 16 shards of 2 entries each. */
    sd_auth *a = new_auth(32);
    signed_req s;
    sc_err err;
    bool full = false;
    for (uint32_t k = 0; k < 200 && !full; k++) {
        make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW, k);
        sc_status rc = check(a, &s, "GET", "/v1/log/checkpoint", NULL, NOW, &err);
        if (rc != SC_OK) {
            ck_assert_int_eq(rc, SC_ERR_UNAVAILABLE);
            ck_assert_int_eq(err.reason, SCPB__REASON__REASON_STORAGE);
            full = true;
        }
    }
    ck_assert(full);
    ck_assert_uint_le(sd_auth_nonce_count(a), 32);
    sd_auth_free(a);
    sc_keypair_free(kp);
}
END_TEST

typedef struct worker {
    sd_auth *a;
    sc_keypair *kp;
    int failures;
} worker;

static void *verify_many(void *arg)
{
    worker *w = arg;
    signed_req s;
    sc_err err;
    for (uint32_t k = 0; k < 300; k++) {
        make(&s, w->kp, "POST", "/v1/sync", "b", NOW, k);
        if (check(w->a, &s, "POST", "/v1/sync", "b", NOW, &err) != SC_OK)
            w->failures++;
        if (check(w->a, &s, "POST", "/v1/sync", "b", NOW, &err) != SC_ERR_BAD_SIGNATURE)
            w->failures++;
    }
    return NULL;
}

START_TEST(threads)
{
    sd_auth *a = new_auth(0);
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){a, sct_key((uint32_t)(10 + i)), 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, verify_many, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
        sc_keypair_free(w[i].kp);
    }
    ck_assert_uint_eq(sd_auth_nonce_count(a), 1200);
    sd_auth_free(a);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/auth");
    struct {
        const char *name;
        const TTest *t;
    } cases[] = {
        {"canonical_bytes", canonical_bytes},
        {"good_request", good_request},
        {"missing_headers", missing_headers},
        {"malformed_headers", malformed_headers},
        {"time_window", time_window},
        {"bad_signatures", bad_signatures},
        {"replay", replay},
        {"old_epochs_dropped", old_epochs_dropped},
        {"cap_refuses_with_503", cap_refuses_with_503},
        {"threads", threads},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_test(tc, cases[i].t);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return sct_run(suite());
}
