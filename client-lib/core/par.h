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
 * The helpers come from a pool (sc_par_pool) when the caller has one:
 * threads started once and kept waiting between runs.  Starting a thread
 * for each run costs about 2 ms on a machine whose other CPU has gone idle
 * (docs/performance.md), as much as verifying 60 signatures, and a server
 * answering small pushes pays it once a request: syncd's HTTP server keeps
 * a pool.  Without one (NULL), each run starts its own threads and joins
 * them: the client does, since spotcheck.h promises that sc_sync leaves no
 * thread behind, and a pull's rounds are big enough not to notice.  A pool
 * is shared by any number of callers at once: a slice still waiting in its
 * queue when the run's items are all taken is taken back by its caller, so
 * a run never waits for a helper busy with another's.
 *
 * This is the core's only use of threads (POSIX threads, and sysconf for
 * the number of online CPUs).
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

/* One thread's part of a run (internal to par.c). */
typedef struct sc_par_job {
    sc_par_fn fn;
    void *ctx;
    size_t slice;
    struct sc_par *par;         /* the run: where the next items are taken from */
    struct sc_par_job *qnext;   /* in its pool's queue */
    int state;                  /* par.c's JOB_*: not queued, queued, running, done */
} sc_par_job;

/*
 * Helper threads kept for runs: sc_par_pool_start, then any number of runs
 * from any threads, then sc_par_pool_stop once no run is going on.  The
 * fields are par.c's; the struct is the caller's to place.
 */
typedef struct sc_par_pool {
    sc_plat_mutex mu;
    sc_plat_cond work;         /* a slice was queued, or stop */
    sc_plat_cond done;         /* a slice finished */
    sc_par_job *head, *tail;   /* queued slices, oldest first */
    sc_plat_thread th[SC_PAR_THREADS_MAX];
    size_t nthreads;
    bool stop;
} sc_par_pool;

/*
 * Start up to `threads` helpers (at most SC_PAR_THREADS_MAX); 0, or nonzero
 * when the pool could not be made at all (then nothing is to be stopped).
 * A pool whose threads could not all start works with those that did, and
 * with none its runs are done by their callers.
 */
int sc_par_pool_start(sc_par_pool *pool, size_t threads);

/* Stop and join the helpers; no run may be going on. */
void sc_par_pool_stop(sc_par_pool *pool);

/*
 * Run fn over [0, n) on k threads (k from sc_par_count; taken as 1 when 0
 * and as SC_PAR_THREADS_MAX when more), in parallel, and return when all
 * are done.  Each thread calls fn for runs of items, in any order, with its
 * own slice number in [0, k); every item is passed exactly once.  The
 * helpers are pool's, or threads of the run's own when pool is NULL.
 */
void sc_par_run(sc_par_pool *pool, size_t n, size_t k, sc_par_fn fn, void *ctx);

/*
 * A run in the background: sc_par_start, then sc_par_wait exactly once.
 * Its threads take the items in runs of a few at a time, each the next not
 * yet taken (next, an atomic counter), so a thread that is held up (the
 * other CPU taken by the writer, say) leaves its share to the others.
 */
typedef struct sc_par {
    size_t k, n;
    _Atomic size_t next;
    sc_par_pool *pool; /* NULL: the threads below */
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
void sc_par_start(sc_par_pool *pool, sc_par *p, size_t n, size_t k, sc_par_fn fn, void *ctx);

/*
 * Wait for sc_par_start's slices; the items no helper has taken yet (its
 * helpers could not start, or the pool's were busy) are done here.
 */
void sc_par_wait(sc_par *p);

#endif
