/*
 * par.c: slices of a loop on helper threads (see par.h).
 */
#include "par.h"

#include <stdatomic.h>
#include <stdbool.h>

#include "limits.h"
#include "platform.h"

size_t sc_par_count(size_t n, size_t per_slice)
{
    unsigned cpus = sc_plat_cpus();
    size_t k = per_slice ? n / per_slice : n;
    if (k > cpus)
        k = (size_t)cpus;
    if (k > SC_PAR_THREADS_MAX)
        k = SC_PAR_THREADS_MAX;
    if (k < 1)
        k = 1;
    return k;
}

/* Items a thread takes at a time: a few signatures, ~0.5 ms of work. */
#define PAR_RUN_ITEMS 8

/* Where a slice is, in a pool: not queued (or taken back), queued, running, done. */
enum { JOB_IDLE, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

static void *par_run(void *arg)
{
    sc_par_job *j = arg;
    sc_par *p = j->par;
    for (;;) {
        size_t from = atomic_fetch_add(&p->next, PAR_RUN_ITEMS);
        if (from >= p->n)
            break;
        size_t to = p->n - from < PAR_RUN_ITEMS ? p->n : from + PAR_RUN_ITEMS;
        j->fn(j->ctx, j->slice, from, to);
    }
    return NULL;
}

/* ---- the pool ---- */

/* A helper: the oldest queued slice, run, marked done; until stopped with nothing queued. */
static void *pool_main(void *arg)
{
    sc_par_pool *pool = arg;
    sc_plat_mutex_lock(&pool->mu);
    for (;;) {
        while (!pool->head && !pool->stop)
            sc_plat_cond_wait(&pool->work, &pool->mu);
        sc_par_job *j = pool->head;
        if (!j)
            break;
        pool->head = j->qnext;
        if (!pool->head)
            pool->tail = NULL;
        j->state = JOB_RUNNING;
        sc_plat_mutex_unlock(&pool->mu);
        par_run(j);
        sc_plat_mutex_lock(&pool->mu);
        j->state = JOB_DONE; /* the last touch: its caller may return as soon as it sees this */
        sc_plat_cond_broadcast(&pool->done);
    }
    sc_plat_mutex_unlock(&pool->mu);
    return NULL;
}

int sc_par_pool_start(sc_par_pool *pool, size_t threads)
{
    *pool = (sc_par_pool){0};
    if (sc_plat_mutex_init(&pool->mu) != 0)
        return -1;
    if (sc_plat_cond_init(&pool->work) != 0) {
        sc_plat_mutex_destroy(&pool->mu);
        return -1;
    }
    if (sc_plat_cond_init(&pool->done) != 0) {
        sc_plat_cond_destroy(&pool->work);
        sc_plat_mutex_destroy(&pool->mu);
        return -1;
    }
    if (threads > SC_PAR_THREADS_MAX)
        threads = SC_PAR_THREADS_MAX;
    while (pool->nthreads < threads &&
           sc_plat_thread_start(&pool->th[pool->nthreads], pool_main, pool) == 0)
        pool->nthreads++;
    return 0;
}

void sc_par_pool_stop(sc_par_pool *pool)
{
    sc_plat_mutex_lock(&pool->mu);
    pool->stop = true;
    sc_plat_cond_broadcast(&pool->work);
    sc_plat_mutex_unlock(&pool->mu);
    for (size_t i = 0; i < pool->nthreads; i++)
        sc_plat_thread_join(&pool->th[i]);
    pool->nthreads = 0;
    sc_plat_cond_destroy(&pool->done);
    sc_plat_cond_destroy(&pool->work);
    sc_plat_mutex_destroy(&pool->mu);
}

/* Queue slices first.. of p for the pool's helpers. */
static void pool_queue(sc_par *p, size_t first)
{
    sc_par_pool *pool = p->pool;
    sc_plat_mutex_lock(&pool->mu);
    for (size_t i = first; i < p->k; i++) {
        sc_par_job *j = &p->job[i];
        j->state = JOB_QUEUED;
        j->qnext = NULL;
        if (pool->tail)
            pool->tail->qnext = j;
        else
            pool->head = j;
        pool->tail = j;
    }
    if (p->k - first == 1)
        sc_plat_cond_signal(&pool->work);
    else if (p->k > first)
        sc_plat_cond_broadcast(&pool->work);
    sc_plat_mutex_unlock(&pool->mu);
}

/* Take a queued slice back out of its pool's queue (the pool's lock held). */
static void pool_unqueue(sc_par_pool *pool, sc_par_job *j)
{
    sc_par_job *prev = NULL;
    for (sc_par_job *q = pool->head; q; prev = q, q = q->qnext)
        if (q == j) {
            if (prev)
                prev->qnext = j->qnext;
            else
                pool->head = j->qnext;
            if (pool->tail == j)
                pool->tail = prev;
            break;
        }
    j->state = JOB_IDLE;
}

/*
 * Wait for slices first.. of p: those still queued are taken back, the
 * items left are done here as one of them, and those running are waited for.
 */
static void pool_join(sc_par *p, size_t first)
{
    sc_par_pool *pool = p->pool;
    sc_par_job *mine = NULL;
    sc_plat_mutex_lock(&pool->mu);
    for (size_t i = first; i < p->k; i++)
        if (p->job[i].state == JOB_QUEUED) {
            pool_unqueue(pool, &p->job[i]);
            if (!mine)
                mine = &p->job[i];
        }
    sc_plat_mutex_unlock(&pool->mu);
    if (mine)
        par_run(mine);
    sc_plat_mutex_lock(&pool->mu);
    for (size_t i = first; i < p->k; i++)
        while (p->job[i].state == JOB_RUNNING)
            sc_plat_cond_wait(&pool->done, &pool->mu);
    sc_plat_mutex_unlock(&pool->mu);
    p->k = 0;
}

/* ---- runs ---- */

/* The threads of a run, none started yet. */
static void par_init(sc_par *p, sc_par_pool *pool, size_t n, size_t k, sc_par_fn fn, void *ctx)
{
    if (k < 1)
        k = 1;
    if (k > SC_PAR_THREADS_MAX)
        k = SC_PAR_THREADS_MAX;
    p->k = k;
    p->n = n;
    p->pool = pool;
    atomic_init(&p->next, 0);
    for (size_t i = 0; i < k; i++) {
        p->job[i] = (sc_par_job){fn, ctx, i, p, NULL, JOB_IDLE};
        p->started[i] = false;
    }
}

/* Wait for the helpers first.. of p; when none of them started, the items left are done here. */
static void par_join(sc_par *p, size_t first)
{
    if (p->pool) {
        pool_join(p, first);
        return;
    }
    bool any = first > 0;
    for (size_t i = first; i < p->k; i++)
        if (p->started[i]) {
            sc_plat_thread_join(&p->th[i]);
            any = true;
        }
    if (!any)
        par_run(&p->job[0]);
    p->k = 0;
}

void sc_par_wait(sc_par *p)
{
    par_join(p, 0);
}

void sc_par_run(sc_par_pool *pool, size_t n, size_t k, sc_par_fn fn, void *ctx)
{
    sc_par p;
    par_init(&p, pool, n, k, fn, ctx);
    /* Helpers are slices 1.., this thread slice 0; a helper that cannot start leaves its share. */
    if (pool)
        pool_queue(&p, 1);
    else
        for (size_t i = 1; i < p.k; i++)
            p.started[i] = sc_plat_thread_start(&p.th[i], par_run, &p.job[i]) == 0;
    par_run(&p.job[0]);
    par_join(&p, 1);
}

void sc_par_start(sc_par_pool *pool, sc_par *p, size_t n, size_t k, sc_par_fn fn, void *ctx)
{
    par_init(p, pool, n, k, fn, ctx);
    if (pool)
        pool_queue(p, 0);
    else
        for (size_t i = 0; i < p->k; i++)
            p->started[i] = sc_plat_thread_start(&p->th[i], par_run, &p->job[i]) == 0;
}
