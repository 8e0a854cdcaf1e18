/*
 * par.c: slices of a loop on helper threads (see par.h).
 */
#include "par.h"

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

static void *par_run(void *arg)
{
    sc_par_job *j = arg;
    j->fn(j->ctx, j->slice, j->from, j->to);
    return NULL;
}

/* The slices of a run, none started yet. */
static void par_init(sc_par *p, size_t n, size_t k, sc_par_fn fn, void *ctx)
{
    if (k < 1)
        k = 1;
    if (k > SC_PAR_THREADS_MAX)
        k = SC_PAR_THREADS_MAX;
    p->k = k;
    for (size_t i = 0; i < k; i++) {
        p->job[i] = (sc_par_job){fn, ctx, i, n * i / k, n * (i + 1) / k};
        p->started[i] = false;
    }
}

/* Wait for slices first.. of p; one whose helper did not start runs here. */
static void par_join(sc_par *p, size_t first)
{
    for (size_t i = first; i < p->k; i++) {
        if (p->started[i])
            sc_plat_thread_join(&p->th[i]);
        else
            par_run(&p->job[i]);
    }
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
    /* Helpers take slices 1.., this thread slice 0; a helper that cannot start is done here. */
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
