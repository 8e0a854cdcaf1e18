/*
 * test_par.c: core/par.h.  Every item of a run is passed exactly once, in
 * runs of a few, each on a slice number below the threads asked for; the
 * background run (sc_par_start) does the same while the caller works; a
 * thread that is held up leaves its share to the others; and all of it
 * holds with threads per run, with a pool of helpers, and with a pool that
 * has none, many callers sharing one pool, and its helpers busy elsewhere.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/par.h"
#include "sctest.h"
#include "sctest_reliab.h"

#define ITEMS_MAX 1200

typedef struct seen {
    atomic_uint times[ITEMS_MAX];       /* how often each item was passed */
    atomic_uint by[SC_PAR_THREADS_MAX]; /* items each slice did */
    atomic_uint bad;                    /* runs outside [0, n) or with a slice out of range */
    size_t n, k;
    unsigned hold_ms; /* slice 0 sleeps this long in its first run */
    atomic_bool held;
    atomic_bool released; /* that sleep is over */
} seen;

static void visit(void *ctx, size_t slice, size_t from, size_t to)
{
    seen *s = ctx;
    if (from >= to || to > s->n || slice >= s->k) {
        atomic_fetch_add(&s->bad, 1);
        return;
    }
    if (slice == 0 && s->hold_ms && !atomic_exchange(&s->held, true)) {
        sct_sleep_ms(s->hold_ms);
        atomic_store(&s->released, true);
    }
    for (size_t i = from; i < to; i++)
        atomic_fetch_add(&s->times[i], 1);
    atomic_fetch_add(&s->by[slice], (unsigned)(to - from));
}

static void expect_each_once(seen *s)
{
    ck_assert_uint_eq(atomic_load(&s->bad), 0);
    unsigned total = 0;
    for (size_t i = 0; i < s->n; i++)
        ck_assert_msg(atomic_load(&s->times[i]) == 1, "item %zu of %zu passed %u times (k %zu)", i,
                      s->n, atomic_load(&s->times[i]), s->k);
    for (size_t j = 0; j < SC_PAR_THREADS_MAX; j++)
        total += atomic_load(&s->by[j]);
    ck_assert_uint_eq(total, s->n);
}

static seen *fresh(size_t n, size_t k)
{
    seen *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    s->n = n;
    s->k = k < 1 ? 1 : k > SC_PAR_THREADS_MAX ? SC_PAR_THREADS_MAX : k;
    return s;
}

/* The helpers a test runs with: threads per run, a pool of SC_PAR_THREADS_MAX, a pool of none. */
enum { WITH_THREADS, WITH_POOL, WITH_EMPTY_POOL, WITH_COUNT };

static sc_par_pool *helpers(int with, sc_par_pool *pool)
{
    if (with == WITH_THREADS)
        return NULL;
    ck_assert_int_eq(sc_par_pool_start(pool, with == WITH_POOL ? SC_PAR_THREADS_MAX : 0), 0);
    ck_assert_uint_eq(pool->nthreads, with == WITH_POOL ? SC_PAR_THREADS_MAX : 0);
    return pool;
}

static void helpers_done(sc_par_pool *pool)
{
    if (pool)
        sc_par_pool_stop(pool);
}

START_TEST(every_item_once)
{
    const size_t ns[] = {0, 1, 7, 8, 9, 63, 64, 65, 1000, 1003};
    const size_t ks[] = {0, 1, 2, 3, 4, SC_PAR_THREADS_MAX + 3};
    for (int with = 0; with < WITH_COUNT; with++) {
        sc_par_pool store, *pool = helpers(with, &store);
        for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
            for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++) {
                seen *s = fresh(ns[a], ks[b]);
                sc_par_run(pool, ns[a], ks[b], visit, s);
                expect_each_once(s);
                free(s);
            }
        helpers_done(pool);
    }
}
END_TEST

START_TEST(in_the_background)
{
    const size_t ns[] = {0, 1, 1000};
    const size_t ks[] = {1, 2, 4};
    for (int with = 0; with < WITH_COUNT; with++) {
        sc_par_pool store, *pool = helpers(with, &store);
        for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
            for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++) {
                seen *s = fresh(ns[a], ks[b]);
                sc_par p;
                sc_par_start(pool, &p, ns[a], ks[b], visit, s);
                sct_sleep_ms(1); /* the caller's own work meanwhile */
                sc_par_wait(&p);
                expect_each_once(s);
                free(s);
            }
        helpers_done(pool);
    }
}
END_TEST

/*
 * Slice 0 sleeps in its first run: the other thread takes the rest, where
 * fixed halves would have left it half the items to wait for.
 */
START_TEST(a_thread_held_up_leaves_its_share)
{
    for (int with = 0; with < WITH_EMPTY_POOL; with++) {
        sc_par_pool store, *pool = helpers(with, &store);
        seen *s = fresh(1000, 2);
        s->hold_ms = 200;
        sc_par_run(pool, 1000, 2, visit, s);
        expect_each_once(s);
        ck_assert_msg(atomic_load(&s->by[0]) < 100, "slice 0 did %u of 1000 items",
                      atomic_load(&s->by[0]));
        free(s);
        helpers_done(pool);
    }
}
END_TEST

/* Callers on four threads share a pool of two helpers, in the foreground and the background. */
#define CALLERS 4
#define CALLER_RUNS 40

static void *caller_main(void *arg)
{
    sc_par_pool *pool = arg;
    for (unsigned r = 0; r < CALLER_RUNS; r++) {
        size_t n = 1 + (r * 37) % 1003, k = 1 + r % SC_PAR_THREADS_MAX;
        seen *s = fresh(n, k);
        if (r % 2) {
            sc_par p;
            sc_par_start(pool, &p, n, k, visit, s);
            sc_par_wait(&p);
        } else {
            sc_par_run(pool, n, k, visit, s);
        }
        expect_each_once(s);
        free(s);
    }
    return NULL;
}

START_TEST(callers_share_a_pool)
{
    sc_par_pool pool;
    ck_assert_int_eq(sc_par_pool_start(&pool, 2), 0);
    sc_plat_thread th[CALLERS];
    for (size_t i = 0; i < CALLERS; i++)
        ck_assert_int_eq(sc_plat_thread_start(&th[i], caller_main, &pool), 0);
    for (size_t i = 0; i < CALLERS; i++)
        sc_plat_thread_join(&th[i]);
    sc_par_pool_stop(&pool);
}
END_TEST

/*
 * The pool's one helper is held up in another run: a run's slices still
 * queued are taken back and done by their caller, which does not wait for
 * the helper (the other run is still held when it returns).
 */
START_TEST(a_busy_pool_leaves_the_run_to_its_caller)
{
    sc_par_pool pool;
    ck_assert_int_eq(sc_par_pool_start(&pool, 1), 0);
    seen *busy = fresh(8, 1);
    busy->hold_ms = 2000;
    sc_par held;
    sc_par_start(&pool, &held, 8, 1, visit, busy);
    while (!atomic_load(&busy->held))
        sct_sleep_ms(1);
    for (int bg = 0; bg < 2; bg++) {
        seen *s = fresh(1000, 2);
        if (bg) {
            sc_par p;
            sc_par_start(&pool, &p, 1000, 2, visit, s);
            sc_par_wait(&p);
        } else {
            sc_par_run(&pool, 1000, 2, visit, s);
        }
        expect_each_once(s);
        ck_assert_msg(!atomic_load(&busy->released), "the run waited for the busy helper");
        free(s);
    }
    sc_par_wait(&held);
    expect_each_once(busy);
    free(busy);
    sc_par_pool_stop(&pool);
}
END_TEST

static Suite *par_suite(void)
{
    Suite *s = suite_create("par");
    const sct_case cases[] = {
        {"every_item_once", every_item_once},
        {"in_the_background", in_the_background},
        {"a_thread_held_up_leaves_its_share", a_thread_held_up_leaves_its_share},
        {"callers_share_a_pool", callers_share_a_pool},
        {"a_busy_pool_leaves_the_run_to_its_caller", a_busy_pool_leaves_the_run_to_its_caller},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(par_suite());
}
