/*
 * par.h: a loop over [0, n) run on helper threads, for the signature
 * checks of a batch of ops (syncd opens pushed ops with it, the client
 * verifies pulled ones).
 *
 * Each thread (a slice) takes the next few items not yet taken until none
 * are left, so a thread the system holds up leaves its share to the
 * others.  The calling thread is slice 0 and waits for the others; a
 * helper that cannot start leaves its share to the threads that did (or to
 * the calling thread), so every item is passed exactly once whatever the
 * system allows.  Runs never overlap: a body that writes only the items it
 * is given, and its own slice's scratch, needs no locks.  The outcome is
 * the one a plain loop would give.
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

/* A run of items [from, to), on the thread of slice number `slice`, with the caller's ctx. */
typedef void (*sc_par_fn)(void *ctx, size_t slice, size_t from, size_t to);

/*
 * How many threads (slices) for n items: one per `per_slice` items, at most
 * one per online CPU and SC_PAR_THREADS_MAX (core/limits.h), at least one.
 */
size_t sc_par_count(size_t n, size_t per_slice);

/*
 * Run fn over [0, n) on k threads (k from sc_par_count; taken as 1 when 0
 * and as SC_PAR_THREADS_MAX when more), in parallel, and return when all
 * are done.  Each thread calls fn for runs of items, in any order, with its
 * own slice number in [0, k); every item is passed exactly once.
 */
void sc_par_run(size_t n, size_t k, sc_par_fn fn, void *ctx);

/* One thread's part of a run (internal to par.c). */
typedef struct sc_par_job {
    sc_par_fn fn;
    void *ctx;
    size_t slice;
    struct sc_par *par; /* the run: where the next items are taken from */
} sc_par_job;

/*
 * A run in the background: sc_par_start, then sc_par_wait exactly once.
 * Its threads take the items in runs of a few at a time, each the next not
 * yet taken (next, an atomic counter), so a thread that is held up (the
 * other CPU taken by the writer, say) leaves its share to the others.
 */
typedef struct sc_par {
    size_t k, n;
    _Atomic size_t next;
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
