/*
 * ingest.c: the group-commit queue (ingest.h).
 *
 * Submitters append a waiter (a ticket the caller keeps) to a FIFO and
 * sleep on one condition variable; the writer thread takes every waiter queued, up
 * to commit_max_ops ops (always at least one waiter, however large), hands
 * them to one sd_register_ingest call, marks them done with its status and
 * wakes everyone.  Each commit that succeeds is recorded in the metrics
 * (syncd_ingest_commits_total, syncd_commit_ops).  The queue order is the
 * log order, so two requests from the same device are logged in the order
 * they arrived.  Stop refuses new submissions, lets the writer drain what
 * is queued, and joins it.
 */
#include "ingest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"
#include "core/reason.h"

typedef sd_ingest_ticket waiter;

struct sd_ingest {
    sd_register *r;               /* borrowed */
    uint32_t commit_max;          /* ops per commit */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;          /* the writer waits for waiters */
    pthread_cond_t done;          /* waiters wait for their commit */
    waiter *head, *tail;
    bool stopping;
};

static void *writer_main(void *arg)
{
    sd_ingest *q = arg;
    sd_batch **batches = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->work, &q->mu);
        if (!q->head)
            break; /* stopping and drained */
        /* Take waiters up to the op budget; the first always goes. */
        waiter *first = q->head, *last = NULL;
        size_t n = 0, ops = 0;
        for (waiter *w = q->head; w; w = w->next) {
            if (n > 0 && ops + w->b->n > q->commit_max)
                break;
            ops += w->b->n;
            n++;
            last = w;
        }
        q->head = last->next;
        if (!q->head)
            q->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&q->mu);

        sc_status rc = SC_OK;
        sc_err err;
        sc_err_clear(&err);
        if (n > cap) {
            sd_batch **v = realloc(batches, n * sizeof *v);
            if (v) {
                batches = v;
                cap = n;
            } else {
                rc = sc_err_set(&err, SC_ERR_NOMEM, SC_REASON_STORAGE, "ingest: out of memory");
            }
        }
        if (rc == SC_OK) {
            size_t i = 0;
            for (waiter *w = first; w; w = w->next)
                batches[i++] = w->b;
            rc = sd_register_ingest(q->r, batches, n, &err);
            /* A failed commit stored nothing; the 503s it caused are counted by http.c. */
            if (rc == SC_OK)
                sd_metrics_commit(ops);
        } else {
            for (waiter *w = first; w; w = w->next) {
                sd_batch *b = w->b;
                for (size_t i = 0; i < b->n; i++) {
                    if (!b->ops[i])
                        continue;
                    b->results[i].status = SCPB__OP_STATUS__OP_REJECTED;
                    b->results[i].reason = SC_REASON_STORAGE;
                    snprintf(b->results[i].message, sizeof b->results[i].message, "%s",
                             "the server is out of memory; resend later");
                }
            }
            rc = SC_ERR_STORAGE;
        }

        pthread_mutex_lock(&q->mu);
        for (waiter *w = first; w;) {
            waiter *next = w->next;
            w->rc = rc;
            w->err = err;
            w->done = true;
            w = next;
        }
        pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->mu);
    free(batches);
    return NULL;
}

sc_status sd_ingest_start(sd_register *r, const sd_config *cfg, sd_ingest **out, sc_err *err)
{
    *out = NULL;
    sd_ingest *q = calloc(1, sizeof *q);
    if (!q)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "ingest: out of memory");
    q->r = r;
    q->commit_max = cfg->commit_max_ops ? cfg->commit_max_ops : 1;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->done, NULL);
    if (pthread_create(&q->thread, NULL, writer_main, q) != 0) {
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->work);
        pthread_cond_destroy(&q->done);
        free(q);
        return sc_err_set(err, SC_ERR_INTERNAL, 0, "ingest: cannot start the writer thread");
    }
    *out = q;
    return SC_OK;
}

sc_status sd_ingest_enqueue(sd_ingest *q, sd_batch *b, sd_ingest_ticket *t, sc_err *err)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_lock(&q->mu);
    if (q->stopping) {
        pthread_mutex_unlock(&q->mu);
        return sc_err_set(err, SC_ERR_UNAVAILABLE, SC_REASON_STORAGE, "ingest: the server is stopping");
    }
    t->b = b;
    if (q->tail)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    return SC_OK;
}

sc_status sd_ingest_wait(sd_ingest *q, sd_ingest_ticket *t, sc_err *err)
{
    pthread_mutex_lock(&q->mu);
    while (!t->done)
        pthread_cond_wait(&q->done, &q->mu);
    pthread_mutex_unlock(&q->mu);
    if (err)
        *err = t->err;
    return t->rc;
}

sc_status sd_ingest_submit(sd_ingest *q, sd_batch *b, sc_err *err)
{
    sd_ingest_ticket t;
    sc_status rc = sd_ingest_enqueue(q, b, &t, err);
    return rc == SC_OK ? sd_ingest_wait(q, &t, err) : rc;
}

void sd_ingest_stop(sd_ingest *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->done);
    free(q);
}
