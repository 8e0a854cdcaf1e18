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

typedef struct par_job {
    sc_par_fn fn;
    void *ctx;
    size_t slice, from, to;
} par_job;

static void *par_run(void *arg)
{
    par_job *j = arg;
    j->fn(j->ctx, j->slice, j->from, j->to);
    return NULL;
}

void sc_par_run(size_t n, size_t k, sc_par_fn fn, void *ctx)
{
    if (k < 1)
        k = 1;
    if (k > SC_PAR_THREADS_MAX)
        k = SC_PAR_THREADS_MAX;
    par_job job[SC_PAR_THREADS_MAX];
    sc_plat_thread th[SC_PAR_THREADS_MAX];
    bool started[SC_PAR_THREADS_MAX] = {false};
    for (size_t i = 0; i < k; i++)
        job[i] = (par_job){fn, ctx, i, n * i / k, n * (i + 1) / k};
    /* Helpers take slices 1.., this thread slice 0; a helper that cannot start is done here. */
    for (size_t i = 1; i < k; i++)
        started[i] = sc_plat_thread_start(&th[i], par_run, &job[i]) == 0;
    par_run(&job[0]);
    for (size_t i = 1; i < k; i++) {
        if (started[i])
            sc_plat_thread_join(&th[i]);
        else
            par_run(&job[i]);
    }
}
