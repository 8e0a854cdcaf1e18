/*
 * par.h: a loop over [0, n) split into contiguous slices that run on
 * helper threads, for the signature checks of a batch of ops (syncd opens
 * pushed ops with it, the client verifies pulled ones).
 *
 * The calling thread runs slice 0 and waits for the others; a helper that
 * cannot start has its slice run on the calling thread, so every slice
 * runs exactly once whatever the system allows.  Slices never overlap:
 * a body that writes only the items of its slice needs no locks.  The
 * outcome is the one a plain loop would give.
 *
 * This is the core's only use of threads (POSIX threads, and sysconf for
 * the number of online CPUs); it keeps no state between calls.
 */
#ifndef SC_CORE_PAR_H
#define SC_CORE_PAR_H

#include <stdbool.h>
#include <stddef.h>

#include "limits.h"
#include "platform.h"

/* One slice: items [from, to) of slice number `slice`, with the caller's ctx. */
typedef void (*sc_par_fn)(void *ctx, size_t slice, size_t from, size_t to);

/*
 * How many slices to make of n items: one per `per_slice` items, at most
 * one per online CPU and SC_PAR_THREADS_MAX (core/limits.h), at least one.
 */
size_t sc_par_count(size_t n, size_t per_slice);

/*
 * Run fn over [0, n) in k slices of nearly equal size (k from
 * sc_par_count; taken as 1 when 0 and as SC_PAR_THREADS_MAX when more), in
 * parallel, and return when all are done.  n == 0 makes empty slices.
 */
void sc_par_run(size_t n, size_t k, sc_par_fn fn, void *ctx);

/* One slice's part of a run (internal to par.c). */
typedef struct sc_par_job {
    sc_par_fn fn;
    void *ctx;
    size_t slice, from, to;
} sc_par_job;

/* A run in the background: sc_par_start, then sc_par_wait exactly once. */
typedef struct sc_par {
    size_t k;
    sc_par_job job[SC_PAR_THREADS_MAX];
    sc_plat_thread th[SC_PAR_THREADS_MAX];
    bool started[SC_PAR_THREADS_MAX];
} sc_par;

/*
 * As sc_par_run, but every slice runs on a helper thread and this returns
 * at once, so the calling thread can do other work meanwhile (the client
 * folds pulled ops while their signatures are checked).  Nothing the slices
 * read may change before sc_par_wait returns.
 */
void sc_par_start(sc_par *p, size_t n, size_t k, sc_par_fn fn, void *ctx);

/* Wait for sc_par_start's slices; a slice whose helper could not start runs here. */
void sc_par_wait(sc_par *p);

#endif
