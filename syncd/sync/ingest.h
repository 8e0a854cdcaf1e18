/*
 * ingest.h: group commit.  HTTP worker threads verify signatures in
 * parallel and hand their batches to one writer thread, which takes every
 * batch waiting (up to sync.commit_max_ops ops) into a single
 * sd_register_ingest call: one transaction and one fsync for all of them.
 * Each submitter wakes when its batch is durably committed.
 */
#ifndef SD_INGEST_H
#define SD_INGEST_H

#include "base/config.h"
#include "register/register.h"

typedef struct sd_ingest sd_ingest;

/* Start the writer thread over an open register (borrowed; must outlive the queue). */
sc_status sd_ingest_start(sd_register *r, const sd_config *cfg, sd_ingest **out, sc_err *err);

/*
 * Queue a batch and wait until it is committed or failed.  Thread-safe.
 * Returns what sd_register_ingest returned for the commit that carried it;
 * results are filled either way.  SC_ERR_UNAVAILABLE after stop began.
 */
sc_status sd_ingest_submit(sd_ingest *q, sd_batch *b, sc_err *err);

/* A batch queued by sd_ingest_enqueue: the caller's, and untouched, until sd_ingest_wait. */
typedef struct sd_ingest_ticket {
    sd_batch *b;
    sc_status rc;
    sc_err err;
    bool done;
    struct sd_ingest_ticket *next;
} sd_ingest_ticket;

/*
 * sd_ingest_submit in two halves, so the caller can verify the next part of
 * a request while the writer commits this one: enqueue returns at once
 * (SC_ERR_UNAVAILABLE after stop began, and then t->b stays NULL: there is
 * nothing to wait for), wait returns what submit would have.  Batches enqueued one after
 * the other by one thread are logged in that order.
 */
sc_status sd_ingest_enqueue(sd_ingest *q, sd_batch *b, sd_ingest_ticket *t, sc_err *err);
sc_status sd_ingest_wait(sd_ingest *q, sd_ingest_ticket *t, sc_err *err);

/* Commit what is queued, stop the thread, free the queue.  NULL is a no-op. */
void sd_ingest_stop(sd_ingest *q);

#endif
