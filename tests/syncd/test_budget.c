/*
 * test_budget.c: request-body memory in flight (syncd/http/budget.c): a
 * device's share answered 429 to that device alone, the shared caps 503,
 * the reserve that keeps small syncs going when big bodies filled the
 * pool, the unauthenticated share, and every byte given back (checked
 * against a model over many devices taking and giving in random order).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "http/budget.h"
#include "sctest.h"
#include "wire.pb-c.h"

#define MIB ((uint64_t)1024 * 1024)

static sd_budget *new_budget(uint64_t total, uint64_t device, uint64_t unverified)
{
    sd_budget_limits lim = {total, device, unverified, 64};
    sd_budget *b = NULL;
    ck_assert_int_eq(sd_budget_new(&lim, &b), SC_OK);
    return b;
}

static void key_of(uint32_t n, uint8_t out[SC_KEY_LEN])
{
    memset(out, 0, SC_KEY_LEN);
    memcpy(out, &n, sizeof n);
    out[31] = 0x77;
}

static void refused(sd_budget *b, const uint8_t *dev, uint64_t n, int reason, const char *setting)
{
    sd_budget_hold h;
    sc_err e;
    sc_err_clear(&e);
    uint64_t before = sd_budget_used(b);
    ck_assert_int_eq(sd_budget_take(b, dev, n, &h, &e), SC_ERR_UNAVAILABLE);
    ck_assert_int_eq(e.reason, reason);
    ck_assert_msg(strstr(e.msg, setting) != NULL, "\"%s\" does not name %s", e.msg, setting);
    ck_assert_uint_eq(h.bytes, 0);
    ck_assert_uint_eq(sd_budget_used(b), before);
}

START_TEST(device_share)
{
    sd_budget *b = new_budget(64 * MIB, 16 * MIB, MIB);
    uint8_t a[SC_KEY_LEN], other[SC_KEY_LEN];
    key_of(1, a);
    key_of(2, other);
    sd_budget_hold h1, h2, h3;
    sc_err e;
    ck_assert_int_eq(sd_budget_take(b, a, 8 * MIB, &h1, &e), SC_OK);
    ck_assert_int_eq(sd_budget_take(b, a, 8 * MIB, &h2, &e), SC_OK);
    /* A third body of the same device: its own share, 429's reason. */
    refused(b, a, 1, SCPB__REASON__REASON_RATE_LIMITED, "http.body_inflight_device_max");
    /* Another device is not affected. */
    ck_assert_int_eq(sd_budget_take(b, other, 8 * MIB, &h3, &e), SC_OK);
    ck_assert_uint_eq(sd_budget_used(b), 24 * MIB);
    /* Given back, the share is there again. */
    sd_budget_give(b, &h1);
    ck_assert_uint_eq(h1.bytes, 0);
    sd_budget_give(b, &h1); /* an empty hold: nothing */
    ck_assert_int_eq(sd_budget_take(b, a, 8 * MIB, &h1, &e), SC_OK);
    sd_budget_give(b, &h1);
    sd_budget_give(b, &h2);
    sd_budget_give(b, &h3);
    ck_assert_uint_eq(sd_budget_used(b), 0);
    sd_budget_free(b);
}
END_TEST

/* Big bodies of a few devices fill the pool; a small sync of a quiet device still gets in. */
START_TEST(reserve_for_small_bodies)
{
    sd_budget *b = new_budget(32 * MIB, 16 * MIB, MIB);
    uint8_t big1[SC_KEY_LEN], big2[SC_KEY_LEN], quiet[SC_KEY_LEN], third[SC_KEY_LEN];
    key_of(1, big1);
    key_of(2, big2);
    key_of(3, quiet);
    key_of(4, third);
    sd_budget_hold h[4], s1, s2;
    sc_err e;
    ck_assert_int_eq(sd_budget_take(b, big1, 16 * MIB, &h[0], &e), SC_OK);
    ck_assert_int_eq(sd_budget_take(b, big2, 16 * MIB, &h[1], &e), SC_OK);
    /* Full: a big body of a third device is refused, 503's reason. */
    refused(b, third, 4 * MIB, SCPB__REASON__REASON_OVERLOADED, "http.body_inflight_max");
    /* A small one comes from the reserve ... */
    ck_assert_int_eq(sd_budget_take(b, quiet, SC_BODY_RESERVE_BODY_MAX, &s1, &e), SC_OK);
    ck_assert(s1.reserve);
    /* ... once per device at a time, and never for the devices holding big bodies. */
    refused(b, quiet, 100, SCPB__REASON__REASON_OVERLOADED, "http.body_inflight_max");
    refused(b, big1, 100, SCPB__REASON__REASON_RATE_LIMITED, "http.body_inflight_device_max");
    refused(b, big2, 100, SCPB__REASON__REASON_RATE_LIMITED, "http.body_inflight_device_max");
    ck_assert_int_eq(sd_budget_take(b, third, 100, &s2, &e), SC_OK);
    /* The reserve is finite: 64 devices at its largest body use it up. */
    sd_budget_hold many[64];
    size_t got = 0;
    for (uint32_t i = 0; i < 64; i++) {
        uint8_t k[SC_KEY_LEN];
        key_of(100 + i, k);
        if (sd_budget_take(b, k, SC_BODY_RESERVE_BODY_MAX, &many[got], &e) == SC_OK)
            got++;
    }
    ck_assert_uint_lt(got, 64);
    ck_assert_uint_le(sd_budget_used(b), 32 * MIB + SC_BODY_RESERVE_MAX);
    for (size_t i = 0; i < got; i++)
        sd_budget_give(b, &many[i]);
    sd_budget_give(b, &s1);
    sd_budget_give(b, &s2);
    sd_budget_give(b, &h[0]);
    sd_budget_give(b, &h[1]);
    ck_assert_uint_eq(sd_budget_used(b), 0);
    sd_budget_free(b);
}
END_TEST

START_TEST(unverified_share)
{
    sd_budget *b = new_budget(32 * MIB, 16 * MIB, 64 * 1024);
    sd_budget_hold h[4], v;
    sc_err e;
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(sd_budget_take(b, NULL, 16 * 1024, &h[i], &e), SC_OK);
    refused(b, NULL, 1, SCPB__REASON__REASON_OVERLOADED, "http.body_inflight_unverified_max");
    /* Devices whose signatures verified do not draw on it. */
    uint8_t k[SC_KEY_LEN];
    key_of(1, k);
    ck_assert_int_eq(sd_budget_take(b, k, 8 * MIB, &v, &e), SC_OK);
    sd_budget_give(b, &v);
    for (int i = 0; i < 4; i++)
        sd_budget_give(b, &h[i]);
    ck_assert_uint_eq(sd_budget_used(b), 0);
    sd_budget_free(b);
}
END_TEST

/* Many devices taking and giving in random order: the counts match a model, and all comes back. */
START_TEST(model)
{
    enum { DEVICES = 48, HOLDS = 400 };
    sd_budget *b = new_budget(1024 * MIB, 64 * 1024, MIB);
    sd_budget_hold held[HOLDS];
    uint32_t owner[HOLDS];
    uint64_t mine[DEVICES] = {0};
    memset(held, 0, sizeof held);
    uint64_t rng = 12345;
    for (int step = 0; step < 20000; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t i = (size_t)(rng >> 33) % HOLDS;
        if (held[i].bytes) {
            mine[owner[i]] -= held[i].bytes;
            sd_budget_give(b, &held[i]);
            continue;
        }
        uint32_t d = (uint32_t)(rng >> 17) % DEVICES;
        uint64_t n = 1 + (rng >> 40) % (16 * 1024);
        uint8_t k[SC_KEY_LEN];
        key_of(d, k);
        sc_err e;
        sc_status rc = sd_budget_take(b, k, n, &held[i], &e);
        ck_assert_int_eq(rc, mine[d] + n <= 64 * 1024 ? SC_OK : SC_ERR_UNAVAILABLE);
        if (rc == SC_OK) {
            owner[i] = d;
            mine[d] += n;
        }
    }
    for (size_t i = 0; i < HOLDS; i++)
        sd_budget_give(b, &held[i]);
    ck_assert_uint_eq(sd_budget_used(b), 0);
    sd_budget_free(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/budget");
    const sct_case cases[] = {
        {"device_share", device_share},
        {"reserve_for_small_bodies", reserve_for_small_bodies},
        {"unverified_share", unverified_share},
        {"model", model},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
