/*
 * deadline.c: per-connection receive deadlines and their sweeper (see
 * deadline.h).  Connections are kept in a doubly linked list under one
 * mutex; deadlines are atomics, so http.c moves them without the lock.
 */
#include "deadline.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/logjson.h"

/* How often the sweeper looks: a deadline is kept to within this. */
#define SWEEP_MS 250

struct sd_deadline_conn {
    int fd;                    /* the connection's socket; owned by libmicrohttpd */
    atomic_llong at_ms;        /* CLOCK_MONOTONIC ms; 0: none */
    atomic_bool fired;         /* the sweeper shut it down */
    sd_deadline_conn *prev, *next;
};

struct sd_deadline {
    pthread_mutex_t mu;
    pthread_cond_t wake;       /* signalled to stop */
    pthread_t thread;
    bool stopping;
    sd_deadline_conn *head;
    atomic_ullong closed;
};

int64_t sd_deadline_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One pass: shut down every connection past its deadline.  Under d->mu. */
static unsigned sweep(sd_deadline *d, int64_t now)
{
    unsigned n = 0;
    for (sd_deadline_conn *c = d->head; c; c = c->next) {
        long long at = atomic_load(&c->at_ms);
        if (at != 0 && now >= at && !atomic_load(&c->fired)) {
            /* The peer sees the connection end; libmicrohttpd reads EOF and closes it. */
            shutdown(c->fd, SHUT_RDWR);
            atomic_store(&c->fired, true);
            n++;
        }
    }
    return n;
}

static void *sweeper(void *arg)
{
    sd_deadline *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->stopping) {
        unsigned n = sweep(d, sd_deadline_now_ms());
        if (n) {
            atomic_fetch_add(&d->closed, n);
            sd_logline l;
            sd_log_begin(&l, SD_LOG_INFO, "request deadline passed: connections closed");
            sd_log_uint(&l, "closed", n);
            sd_log_str(&l, "setting", "http.request_timeout_s");
            sd_log_end(&l);
        }
        /* CLOCK_REALTIME for the wait only: a jump makes one pass early or late, nothing more. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += SWEEP_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&d->wake, &d->mu, &until);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

sc_status sd_deadline_start(sd_deadline **out, sc_err *err)
{
    *out = NULL;
    sd_deadline *d = calloc(1, sizeof *d);
    if (!d)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory starting the request deadlines");
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->wake, NULL);
    atomic_init(&d->closed, 0);
    int e = pthread_create(&d->thread, NULL, sweeper, d);
    if (e != 0) {
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->mu);
        free(d);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot start the request deadline thread: %s",
                          strerror(e));
    }
    *out = d;
    return SC_OK;
}

void sd_deadline_stop(sd_deadline *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    /* Connections still listed were never removed: free their records, not their sockets. */
    while (d->head) {
        sd_deadline_conn *c = d->head;
        d->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

sd_deadline_conn *sd_deadline_add(sd_deadline *d, int fd, int64_t at_ms)
{
    sd_deadline_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    atomic_init(&c->at_ms, at_ms);
    atomic_init(&c->fired, false);
    pthread_mutex_lock(&d->mu);
    c->next = d->head;
    if (d->head)
        d->head->prev = c;
    d->head = c;
    pthread_mutex_unlock(&d->mu);
    return c;
}

void sd_deadline_remove(sd_deadline *d, sd_deadline_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&d->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        d->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&d->mu);
    free(c);
}

void sd_deadline_set(sd_deadline_conn *c, int64_t at_ms)
{
    if (c)
        atomic_store(&c->at_ms, at_ms);
}

void sd_deadline_tighten(sd_deadline_conn *c, int64_t at_ms)
{
    if (!c)
        return;
    long long cur = atomic_load(&c->at_ms);
    while ((cur == 0 || at_ms < cur) && !atomic_compare_exchange_weak(&c->at_ms, &cur, at_ms))
        ;
}

bool sd_deadline_due(sd_deadline_conn *c, int64_t now_ms)
{
    if (!c)
        return false;
    long long at = atomic_load(&c->at_ms);
    return at != 0 && now_ms >= at;
}

bool sd_deadline_fired(sd_deadline_conn *c)
{
    return c && atomic_load(&c->fired);
}

uint64_t sd_deadline_closed(sd_deadline *d)
{
    return atomic_load(&d->closed);
}
