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

/* The threads of a run, none started yet. */
static void par_init(sc_par *p, size_t n, size_t k, sc_par_fn fn, void *ctx)
{
    if (k < 1)
        k = 1;
    if (k > SC_PAR_THREADS_MAX)
        k = SC_PAR_THREADS_MAX;
    p->k = k;
    p->n = n;
    atomic_init(&p->next, 0);
    for (size_t i = 0; i < k; i++) {
        p->job[i] = (sc_par_job){fn, ctx, i, p};
        p->started[i] = false;
    }
}

/* Wait for the helpers first.. of p; when none of them started, the items left are done here. */
static void par_join(sc_par *p, size_t first)
{
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

void sc_par_run(size_t n, size_t k, sc_par_fn fn, void *ctx)
{
    sc_par p;
    par_init(&p, n, k, fn, ctx);
    /* Helpers are slices 1.., this thread slice 0; a helper that cannot start leaves its share. */
    for (size_t i = 1; i < p.k; i++)
        p.started[i] = sc_plat_thread_start(&p.th[i], par_run, &p.job[i]) == 0;
    par_run(&p.job[0]);
    par_join(&p, 1);
}

void sc_par_start(sc_par *p, size_t n, size_t k, sc_par_fn fn, void *ctx)
{
    par_init(p, n, k, fn, ctx);
    for (size_t i = 0; i < p->k; i++)
        p->started[i] = sc_plat_thread_start(&p->th[i], par_run, &p->job[i]) == 0;
}
