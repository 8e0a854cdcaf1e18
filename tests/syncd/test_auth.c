/*
 * test_auth.c: request signatures (docs/protocol.md §3): the canonical
 * bytes, a good request, every refusal with its reason, the start
 * boundary, the replay cache (replays refused, other devices unaffected,
 * old epochs dropped), each device's share of it (429 to the device over
 * its quota only; a full cache refuses the busy devices, not the quiet
 * ones), checking before the body and recording after it, and use from
 * several threads.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "http/auth.h"
#include "sctest.h"
#include "sctest_server.h"
#include "wire.pb-c.h"

#define SKEW 300000 /* the default clock.skew_ms */
#define AHEAD SC_REQUEST_AHEAD_MS
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

/* A checker that started two skews before NOW, with the given caps (0: defaults). */
static sd_auth *new_auth_caps(size_t max, size_t device_max)
{
    sd_auth *a = NULL;
    sd_auth_limits lim = {.skew_ms = SKEW, .start_ms = NOW - 2 * SKEW, .nonces_max = max,
                          .device_nonces_max = device_max};
    ck_assert_int_eq(sd_auth_new(sct_sys_env(), &lim, &a), SC_OK);
    return a;
}

static sd_auth *new_auth(size_t max)
{
    return new_auth_caps(max, 0);
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
    return sd_auth_verify(a, &ar, method, target, strlen(target), bh, now, NULL, err);
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
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW + AHEAD, 2);
    ck_assert_int_eq(check(a, &s, "GET", "/v1/log/checkpoint", NULL, NOW, &err), SC_OK);
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW - SKEW, 3);
    ck_assert_int_eq(check(a, &s, "GET", "/v1/log/checkpoint", NULL, NOW, &err), SC_OK);
    sd_auth_free(a);
    sc_keypair_free(kp);
}
END_TEST

static void refused_as(sd_auth *a, const signed_req *s, const char *method, const char *target,
                       const char *body, int reason, const char *why)
{
    sc_err err;
    sc_status rc = check(a, s, method, target, body, NOW, &err);
    ck_assert_int_eq(rc, SC_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(err.reason, reason);
    ck_assert_msg(strstr(err.msg, why) != NULL, "message \"%s\" does not say \"%s\"", err.msg, why);
}

static void refused(sd_auth *a, const signed_req *s, const char *method, const char *target,
                    const char *body, const char *why)
{
    refused_as(a, s, method, target, body, SCPB__REASON__REASON_BAD_SIGNATURE, why);
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
    const int rt = SCPB__REASON__REASON_REQUEST_TIME;
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW + AHEAD + 1, 1);
    refused_as(a, &s, "GET", "/v1/log/checkpoint", NULL, rt, "ahead of the server clock");
    /* A skew ahead was accepted once; only behind is the skew now. */
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW + SKEW, 3);
    refused_as(a, &s, "GET", "/v1/log/checkpoint", NULL, rt, "ahead of the server clock");
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW - SKEW - 1, 2);
    refused_as(a, &s, "GET", "/v1/log/checkpoint", NULL, rt, "behind the server clock");
    ck_assert_uint_eq(sd_auth_nonce_count(a), 0);
    sd_auth_free(a);
    sc_keypair_free(kp);
}
END_TEST

/*
 * A process cannot know the nonces an earlier one saw, and an earlier one
 * accepted times up to the lead ahead of its clock: nothing signed before
 * start + lead is taken, however fresh its nonce.
 */
START_TEST(start_boundary)
{
    sc_keypair *kp = sct_key(1);
    sd_auth *a = NULL;
    sd_auth_limits lim = {.skew_ms = SKEW, .start_ms = NOW};
    ck_assert_int_eq(sd_auth_new(sct_sys_env(), &lim, &a), SC_OK);
    ck_assert_int_eq(sd_auth_not_before(a), NOW + AHEAD);
    const int rt = SCPB__REASON__REASON_REQUEST_TIME;
    signed_req s;
    /* Signed a minute before the restart, or at its moment, or a millisecond short of the boundary. */
    int64_t before[] = {NOW - 60000, NOW, NOW + AHEAD - 1};
    for (uint32_t i = 0; i < 3; i++) {
        make(&s, kp, "POST", "/v1/sync", "x", before[i], i);
        refused_as(a, &s, "POST", "/v1/sync", "x", rt, "start boundary");
    }
    /* At the boundary (the lead ahead of the clock, which the window allows) it is taken. */
    sc_err err;
    make(&s, kp, "POST", "/v1/sync", "x", NOW + AHEAD, 10);
    ck_assert_int_eq(check(a, &s, "POST", "/v1/sync", "x", NOW, &err), SC_OK);
    /* Later, the clock has passed it and requests signed now are taken. */
    make(&s, kp, "POST", "/v1/sync", "x", NOW + 2 * AHEAD, 11);
    ck_assert_int_eq(check(a, &s, "POST", "/v1/sync", "x", NOW + 2 * AHEAD, &err), SC_OK);
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
    refused_as(a, &s, "POST", "/v1/sync", "x", SCPB__REASON__REASON_NONCE_USED, "replayed");
    /* The same nonce in a new request of the same device is refused too. */
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW + 100, 7);
    refused_as(a, &s, "GET", "/v1/log/checkpoint", NULL, SCPB__REASON__REASON_NONCE_USED,
               "replayed");
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
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_REQUEST_TIME);
    ck_assert(strstr(err.msg, "behind the server clock") != NULL);
    sd_auth_free(a);
    sc_keypair_free(kp);
}
END_TEST

/* n fresh requests of kp at time t (nonces from k0), each accepted. */
static void accept_n(sd_auth *a, const sc_keypair *kp, int64_t t, uint32_t k0, uint32_t n)
{
    signed_req s;
    sc_err err;
    for (uint32_t k = k0; k < k0 + n; k++) {
        make(&s, kp, "GET", "/v1/log/checkpoint", NULL, t, k);
        ck_assert_msg(check(a, &s, "GET", "/v1/log/checkpoint", NULL, t, &err) == SC_OK,
                      "request %u: %s", k, err.msg);
    }
}

/* The next fresh request of kp is refused with reason; returns the retry time. */
static int64_t share_refused(sd_auth *a, const sc_keypair *kp, uint32_t k, int reason,
                             const char *why)
{
    signed_req s;
    sd_auth_req ar;
    sc_err err;
    int64_t retry = 0;
    make(&s, kp, "GET", "/v1/log/checkpoint", NULL, NOW, k);
    ck_assert_int_eq(sd_auth_parse(a, &s.h, NOW, &ar, &err), SC_OK);
    /* Refused before the signature is even looked at ... */
    ck_assert_int_eq(sd_auth_admit(a, &ar, NOW, &retry, &err), SC_ERR_UNAVAILABLE);
    ck_assert_int_eq(err.reason, reason);
    /* ... and when recording, should it get that far. */
    uint8_t bh[SC_HASH_LEN];
    sc_sha256("", 0, bh);
    retry = 0;
    ck_assert_int_eq(sd_auth_verify(a, &ar, "GET", "/v1/log/checkpoint", 18, bh, NOW, &retry, &err),
                     SC_ERR_UNAVAILABLE);
    ck_assert_int_eq(err.reason, reason);
    ck_assert_msg(strstr(err.msg, why) != NULL, "message \"%s\" does not say \"%s\"", err.msg, why);
    ck_assert_int_gt(retry, 0);
    ck_assert_int_le(retry, 3 * SKEW);
    return retry;
}

/* One device over its quota is refused alone, with 429's reason, until its nonces age out. */
START_TEST(device_quota)
{
    sc_keypair *flood = sct_key(1), *quiet = sct_key(2);
    sd_auth *a = new_auth_caps(0, 50);
    accept_n(a, flood, NOW, 0, 50);
    ck_assert_uint_eq(sd_auth_device_count(a, sc_keypair_public(flood), NOW), 50);
    int64_t retry = share_refused(a, flood, 50, SCPB__REASON__REASON_RATE_LIMITED,
                                  "auth.device_nonces_max");
    ck_assert_uint_eq(sd_auth_nonce_count(a), 50);
    /* Another device is not affected. */
    accept_n(a, quiet, NOW, 0, 50);
    /* Once the flooder's epoch can no longer pass the time check, it is let in again. */
    accept_n(a, flood, NOW + retry, 100, 1);
    sd_auth_free(a);
    sc_keypair_free(flood);
    sc_keypair_free(quiet);
}
END_TEST

/*
 * When flooding devices fill the whole cache, the devices with more than
 * the reserve are refused (503 overloaded) and a quiet device still gets
 * its reserve: memory stays under the cap plus the reserves.
 */
START_TEST(global_cap_spares_quiet_devices)
{
    sc_keypair *f1 = sct_key(1), *f2 = sct_key(2), *quiet = sct_key(3);
    sd_auth *a = new_auth_caps(200, 100);
    accept_n(a, f1, NOW, 0, 100);
    accept_n(a, f2, NOW, 0, 100);
    ck_assert_uint_eq(sd_auth_nonce_count(a), 200);
    /* The flooders: at their own quota, 429. */
    share_refused(a, f1, 100, SCPB__REASON__REASON_RATE_LIMITED, "auth.device_nonces_max");
    /* The quiet device: its reserve, then 503 because the cache is full. */
    accept_n(a, quiet, NOW, 0, SC_AUTH_DEVICE_RESERVE);
    share_refused(a, quiet, 1000, SCPB__REASON__REASON_OVERLOADED, "auth.nonces_max");
    ck_assert_uint_eq(sd_auth_nonce_count(a), 200 + SC_AUTH_DEVICE_RESERVE);
    sd_auth_free(a);
    sc_keypair_free(f1);
    sc_keypair_free(f2);
    sc_keypair_free(quiet);
}
END_TEST

/* Checking (before a body) records nothing; recording after it catches a replay in between. */
START_TEST(check_then_record)
{
    sc_keypair *kp = sct_key(1);
    sd_auth *a = new_auth(0);
    signed_req s;
    sd_auth_req ar;
    sc_err err;
    uint8_t bh[SC_HASH_LEN];
    sc_sha256("x", 1, bh);
    make(&s, kp, "POST", "/v1/sync", "x", NOW, 1);
    ck_assert_int_eq(sd_auth_parse(a, &s.h, NOW, &ar, &err), SC_OK);
    ck_assert_int_eq(sd_auth_check(a, &ar, "POST", "/v1/sync", 8, bh, NOW, &err), SC_OK);
    /* The same request, sent twice at once: both pass the check ... */
    ck_assert_int_eq(sd_auth_check(a, &ar, "POST", "/v1/sync", 8, bh, NOW, &err), SC_OK);
    ck_assert_uint_eq(sd_auth_nonce_count(a), 0);
    /* ... and only the first to finish is recorded. */
    ck_assert_int_eq(sd_auth_record(a, &ar, NOW, NULL, &err), SC_OK);
    ck_assert_int_eq(sd_auth_record(a, &ar, NOW, NULL, &err), SC_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_NONCE_USED);
    ck_assert(strstr(err.msg, "replayed") != NULL);
    ck_assert_int_eq(sd_auth_check(a, &ar, "POST", "/v1/sync", 8, bh, NOW, &err),
                     SC_ERR_BAD_SIGNATURE);
    /* A declared body hash that is malformed is refused with the header named. */
    signed_req t = s;
    t.h.body_hash = "00ff";
    ck_assert_int_eq(sd_auth_parse(a, &t.h, NOW, &ar, &err), SC_ERR_BAD_SIGNATURE);
    ck_assert(strstr(err.msg, "X-Spotcheck-Body-Sha256") != NULL);
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
    const sct_case cases[] = {
        {"canonical_bytes", canonical_bytes},
        {"good_request", good_request},
        {"missing_headers", missing_headers},
        {"malformed_headers", malformed_headers},
        {"time_window", time_window},
        {"start_boundary", start_boundary},
        {"bad_signatures", bad_signatures},
        {"replay", replay},
        {"old_epochs_dropped", old_epochs_dropped},
        {"device_quota", device_quota},
        {"global_cap_spares_quiet_devices", global_cap_spares_quiet_devices},
        {"check_then_record", check_then_record},
        {"threads", threads},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
