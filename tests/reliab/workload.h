/*
 * workload.h: field devices for the reliability tests.  Each wl_client is a
 * libspotcheck replica (public API only, spotcheck.h) that records what an
 * inspector records offline — inspections, notes, findings with photos,
 * photos, submissions — chosen by a seeded random stream, and syncs.  A
 * crew runs clients in threads and can park them between actions, so a
 * test can look at the replicas and the register while nothing moves.
 */
#ifndef SC_RELIAB_WORKLOAD_H
#define SC_RELIAB_WORKLOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spotcheck.h"

#define WL_CHECKS_MAX 64
#define WL_FINDINGS_MAX 256

typedef struct wl_client {
    int n;                                   /* index, for messages */
    char db[600];                            /* replica file */
    char photo_dir[600];                     /* where its photos are made */
    sc_client *c;                            /* open handle, or NULL while closed */
    sc_client_options opt;                   /* retries, timeouts, chunk size */
    uint64_t rng;                            /* its own random stream */
    uint32_t photo_min, photo_max;           /* photo sizes in bytes */
    char checks[WL_CHECKS_MAX][SC_ID_HEX_LEN];     /* drafts it may still add to */
    size_t n_checks;
    char findings[WL_FINDINGS_MAX][SC_ID_HEX_LEN];
    size_t n_findings;
    /* counters */
    unsigned actions, photos, syncs_ok, syncs_failed, submits;
    unsigned errors;                         /* unexpected failures */
    char first_error[512];
} wl_client;

/* Open (creating) the replica dir/devN.db with opt (NULL: fast retries for loopback tests). */
void wl_open(wl_client *w, int n, const char *dir, uint64_t seed, const sc_client_options *opt);
/* Close the handle (the replica stays); NULL handle is fine. */
void wl_close(wl_client *w);
/* Reopen after wl_close. */
void wl_reopen(wl_client *w);
/* Enroll as login at url, with a fresh code from `syncd admin` on data_dir. */
void wl_enroll(wl_client *w, const char *url, const char *data_dir, const char *login);

/* One random recording action (always valid for its causal past). */
void wl_action(wl_client *w);
/*
 * One sc_sync.  Failures a broken network or a dead server explain
 * (network, unavailable, not-HTTP) are counted in syncs_failed; anything
 * else is an error (history rewritten, a bad signature, local storage).
 */
sc_status wl_sync(wl_client *w);

/* A crew of clients in threads: each loops action, then (every sync_every actions) sync. */
typedef struct wl_crew {
    wl_client *cl;
    size_t n;
    unsigned sync_every;
    unsigned max_actions;                    /* per client; 0: unbounded */
    pthread_t th[32];
    atomic_int phase;                        /* run, park, stop */
    atomic_int parked;
} wl_crew;

void wl_crew_start(wl_crew *k, wl_client *cl, size_t n, unsigned sync_every, unsigned max_actions);
/* Wait until every client is between actions and holds still. */
void wl_crew_park(wl_crew *k);
void wl_crew_resume(wl_crew *k);
void wl_crew_stop(wl_crew *k);

/*
 * Sync every client until each reports a clean sync with an empty outbox and
 * no photo left to upload, then once more each so everyone has pulled
 * everyone's last ops.  Asserts it gets there within `rounds` passes.
 */
void wl_settle(wl_client *cl, size_t n, unsigned rounds);

/*
 * After wl_settle: nothing lost, nothing twice, everyone converged.
 *  - the log has no op twice and its indexes are contiguous;
 *  - it holds exactly base_log + every client's local ops, each at the index
 *    the client was told, and no client op was rejected;
 *  - every client photo is stored whole, and no stored blob is damaged;
 *  - every client's replica hash equals the register's (all clients see
 *    everything in these tests), and each replica verifies on its own;
 *  - `syncd audit` passes (signatures, the Merkle log, and replaying the log
 *    reproduces the stored states).
 * Returns the total of client ops (for the test's report).
 */
size_t wl_check_final(const char *data_dir, wl_client *cl, size_t n, uint64_t base_log);

#endif
