/*
 * test_hlc.c: the hybrid logical clock: packing, ticks against physical
 * time, counter carry, saturation at the top, merging a remote HLC, and the
 * "clock ahead" test at its boundaries and extremes.
 */
#include <sodium.h>

#include "core/hlc.h"
#include "sctest.h"

#define NOW INT64_C(1795392000000) /* 2026-11-23T00:00:00Z */

START_TEST(pack)
{
    sc_hlc h = sc_hlc_make(NOW, 7);
    ck_assert_int_eq(SC_HLC_MS(h), NOW);
    ck_assert_uint_eq(SC_HLC_COUNTER(h), 7);
    ck_assert_uint_eq(h, ((uint64_t)NOW << 16) | 7);
    /* Out-of-range milliseconds clamp rather than wrap. */
    ck_assert_uint_eq(sc_hlc_make(-1, 3), 3);
    ck_assert_int_eq(SC_HLC_MS(sc_hlc_make(INT64_MAX, 0)), SC_HLC_MS_MAX);
    ck_assert_int_eq(SC_HLC_MS(sc_hlc_make(SC_HLC_MS_MAX, 0xffff)), SC_HLC_MS_MAX);
    /* Order of packed values is order of (ms, counter). */
    ck_assert(sc_hlc_make(NOW, 0xffff) < sc_hlc_make(NOW + 1, 0));
}
END_TEST

START_TEST(tick)
{
    sc_hlc c = 0;
    /* Physical time ahead of the clock: take it, counter 0. */
    ck_assert_uint_eq(sc_hlc_tick(&c, NOW), sc_hlc_make(NOW, 0));
    ck_assert_uint_eq(c, sc_hlc_make(NOW, 0));
    /* Same millisecond: the counter moves. */
    ck_assert_uint_eq(sc_hlc_tick(&c, NOW), sc_hlc_make(NOW, 1));
    /* Physical time behind the clock (a clock set back): still forward. */
    ck_assert_uint_eq(sc_hlc_tick(&c, NOW - 60000), sc_hlc_make(NOW, 2));
    /* Physical time moves on: back to counter 0. */
    ck_assert_uint_eq(sc_hlc_tick(&c, NOW + 1), sc_hlc_make(NOW + 1, 0));
}
END_TEST

START_TEST(tick_counter_carry)
{
    /* 65536 events in one millisecond carry into the next millisecond. */
    sc_hlc c = sc_hlc_make(NOW, 0xfffe);
    ck_assert_uint_eq(sc_hlc_tick(&c, NOW), sc_hlc_make(NOW, 0xffff));
    ck_assert_uint_eq(sc_hlc_tick(&c, NOW), sc_hlc_make(NOW + 1, 0));
    ck_assert_uint_eq(sc_hlc_tick(&c, NOW + 1), sc_hlc_make(NOW + 1, 1));
}
END_TEST

START_TEST(tick_saturates)
{
    sc_hlc c = UINT64_MAX;
    ck_assert_uint_eq(sc_hlc_tick(&c, NOW), UINT64_MAX);
    ck_assert_uint_eq(sc_hlc_tick(&c, INT64_MAX), UINT64_MAX);
    c = sc_hlc_make(SC_HLC_MS_MAX, 0xfffe);
    ck_assert_uint_eq(sc_hlc_tick(&c, 0), UINT64_MAX);
    ck_assert_uint_eq(sc_hlc_tick(&c, 0), UINT64_MAX); /* never wraps to 0 */
}
END_TEST

START_TEST(tick_monotonic)
{
    /* Whatever the physical clock does, ticks strictly increase and never
     * fall behind it. */
    uint8_t seed[randombytes_SEEDBYTES] = {42};
    int32_t jitter[4096];
    randombytes_buf_deterministic(jitter, sizeof jitter, seed);
    sc_hlc c = 0, prev = 0;
    int64_t now = NOW;
    for (size_t i = 0; i < sizeof jitter / sizeof jitter[0]; i++) {
        now += jitter[i] % 5; /* -4 .. +4 ms: a clock that wobbles */
        sc_hlc h = sc_hlc_tick(&c, now);
        ck_assert_uint_gt(h, prev);
        ck_assert_int_ge(SC_HLC_MS(h), now);
        prev = h;
    }
}
END_TEST

START_TEST(observe)
{
    sc_hlc c = sc_hlc_make(NOW, 5);
    sc_hlc_observe(&c, sc_hlc_make(NOW, 4));
    ck_assert_uint_eq(c, sc_hlc_make(NOW, 5));
    sc_hlc_observe(&c, sc_hlc_make(NOW + 10, 0));
    ck_assert_uint_eq(c, sc_hlc_make(NOW + 10, 0));
    /* Observing does not tick: the next local op is after the remote one. */
    ck_assert_uint_eq(sc_hlc_tick(&c, NOW), sc_hlc_make(NOW + 10, 1));
}
END_TEST

START_TEST(is_ahead)
{
    const int64_t skew = 5 * 60 * 1000;
    ck_assert(!sc_hlc_is_ahead(sc_hlc_make(NOW, 0), NOW, skew));
    ck_assert(!sc_hlc_is_ahead(sc_hlc_make(NOW + skew, 0xffff), NOW, skew));
    ck_assert(sc_hlc_is_ahead(sc_hlc_make(NOW + skew + 1, 0), NOW, skew));
    ck_assert(!sc_hlc_is_ahead(sc_hlc_make(NOW - 1000000, 0), NOW, skew));
    ck_assert(!sc_hlc_is_ahead(sc_hlc_make(NOW, 0), NOW, 0));
    ck_assert(sc_hlc_is_ahead(sc_hlc_make(NOW + 1, 0), NOW, 0));
    /* Extremes do not overflow (UBSan would abort). */
    ck_assert(!sc_hlc_is_ahead(UINT64_MAX, INT64_MAX, INT64_MAX));
    ck_assert(sc_hlc_is_ahead(UINT64_MAX, INT64_MIN, 0));
    ck_assert(sc_hlc_is_ahead(0, INT64_MIN, INT64_MIN));
    ck_assert(!sc_hlc_is_ahead(0, 0, INT64_MAX));
}
END_TEST

static Suite *hlc_suite(void)
{
    Suite *s = suite_create("hlc");
    const sct_case cases[] = {
        {"pack", pack},
        {"tick", tick},
        {"tick_counter_carry", tick_counter_carry},
        {"tick_saturates", tick_saturates},
        {"tick_monotonic", tick_monotonic},
        {"observe", observe},
        {"is_ahead", is_ahead},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(hlc_suite());
}
