/*
 * notify.c: the delivering threads (notify.h).  Each configured hook has
 * its own thread, which claims its hook's earliest due delivery, attempts
 * it, and records the outcome; so a receiver that is down, slow or hangs
 * costs its own hook's deliveries their time, never another hook's.
 *
 * A claim holds its delivery for a lease of notify.timeout_s +
 * SC_NOTIFY_LEASE_MARGIN_MS, so that another syncd on the same PostgreSQL
 * register leaves it alone, and a syncd that dies holding it leaves it to
 * be claimed again after that.  A thread claims one delivery at a time, and
 * attempts it only when the attempt (at most notify.timeout_s: libcurl's
 * CURLOPT_TIMEOUT) ends inside the lease: no delivery is sent while another
 * syncd may hold it too.  Claiming is cheap next to an attempt, and a
 * thread looks (a read) before it claims (a write transaction), so an idle
 * hook costs no write.
 *
 * A delivery is recorded only after its attempt: a crash between the two
 * sends it again (at-least-once; receivers deduplicate by the event id,
 * which every retry repeats).  One more thread runs the overdue scan and
 * marks dead the due deliveries of hooks no longer configured, as their
 * hook's thread would if it had one.
 */
#include "notify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/logjson.h"
#include "base/metrics.h"
#include "core/env.h"

/* A configured hook and the thread that delivers its deliveries. */
typedef struct courier {
    sd_notify *n;        /* owner */
    sd_notify_hook hook; /* its URL and secret (wiped at stop) */
    pthread_t thread;
    bool started;
} courier;

struct sd_notify {
    sd_register *reg;                             /* borrowed */
    const sd_config *cfg;                         /* borrowed */
    courier couriers[SC_NOTIFY_HOOKS_MAX];        /* [0, n_hooks) */
    unsigned n_hooks;
    pthread_t thread;                             /* the scan's, and the unconfigured hooks' */
    bool started;
    pthread_mutex_t mu;                           /* guards the waits on cv */
    pthread_cond_t cv;                            /* broadcast at stop */
    atomic_bool stop;                             /* read by every thread and by libcurl */
};

/* The rows of one claim, copied out of the store's. */
typedef struct claimed {
    sd_notify_row rows[SC_NOTIFY_CLAIM_MAX];
    char *bodies[SC_NOTIFY_CLAIM_MAX];
    size_t n;
} claimed;

static bool take(void *ctx, const sd_notify_row *row)
{
    claimed *c = ctx;
    if (c->n == SC_NOTIFY_CLAIM_MAX)
        return false;
    char *body = strdup(row->body);
    if (!body)
        return false; /* left claimed: tried again when its lease ends */
    c->rows[c->n] = *row;
    c->rows[c->n].body = body;
    c->rows[c->n].last_error = "";
    c->bodies[c->n++] = body;
    return true;
}

static void claimed_free(claimed *c)
{
    for (size_t i = 0; c && i < c->n; i++)
        free(c->bodies[i]);
    free(c);
}

static const sd_notify_hook *hook_named(const sd_notify *n, const char *name)
{
    for (unsigned i = 0; i < n->n_hooks; i++)
        if (strcmp(n->couriers[i].hook.cfg->name, name) == 0)
            return &n->couriers[i].hook;
    return NULL;
}

static bool stopping(const sd_notify *n)
{
    return atomic_load(&n->stop);
}

/* Wait SC_NOTIFY_POLL_MS, or less when syncd stops. */
static void nap(sd_notify *n)
{
    pthread_mutex_lock(&n->mu);
    if (!stopping(n)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)SC_NOTIFY_POLL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&n->cv, &n->mu, &until);
    }
    pthread_mutex_unlock(&n->mu);
}

static void log_warn(const char *msg, const char *key, const char *value, const sc_err *err)
{
    sd_logline l;
    sd_log_begin(&l, SD_LOG_WARN, msg);
    if (key)
        sd_log_str(&l, key, value);
    sd_log_str(&l, "error", err->msg);
    sd_log_end(&l);
}

static void log_attempt(const sd_notify_row *row, const sd_notify_try *t)
{
    sd_logline l;
    bool dead = row->state == SD_NOTIFY_DEAD;
    sd_log_begin(&l, dead ? SD_LOG_WARN : t->delivered ? SD_LOG_DEBUG : SD_LOG_INFO,
                 dead ? "webhook delivery dead" : t->delivered ? "webhook delivered"
                                                               : "webhook delivery failed");
    sd_log_str(&l, "hook", row->hook);
    sd_log_str(&l, "event", row->event);
    sd_log_str(&l, "type", row->type);
    sd_log_uint(&l, "attempts", row->attempts);
    if (t->code)
        sd_log_int(&l, "status", t->code);
    if (!t->delivered)
        sd_log_str(&l, "error", t->error);
    sd_log_end(&l);
}

/*
 * Attempt one claimed delivery to h and record its outcome; h NULL: its
 * hook is not configured here, and it is dead without an attempt.
 */
static void deliver(sd_notify *n, const sd_notify_hook *h, sd_notify_row *row)
{
    const sc_env *env = sd_register_env(n->reg);
    sd_notify_try t;
    int64_t now = sc_env_now_ms(env);
    if (h) {
        sd_notify_post(h, row, now, n->cfg->notify_timeout_s, &t);
        if (t.stopped)
            return; /* not an attempt: claimed again when its lease ends */
        row->attempts++;
    } else {
        memset(&t, 0, sizeof t);
        snprintf(t.error, sizeof t.error, "no hook \"%s\" is configured", row->hook);
    }
    now = sc_env_now_ms(env);
    row->last_code = t.code;
    row->last_error = t.error;
    if (t.delivered) {
        row->state = SD_NOTIFY_DELIVERED;
        row->done_ms = now;
    } else if (!h || row->attempts >= n->cfg->notify_attempts) {
        row->state = SD_NOTIFY_DEAD;
        row->done_ms = now;
    } else {
        uint32_t r;
        sc_env_random(env, &r, sizeof r);
        row->next_ms = now + sd_notify_backoff_ms(n->cfg, row->attempts, r);
    }
    if (h)
        sd_metrics_webhook_attempt(t.delivered, row->state == SD_NOTIFY_DEAD);
    log_attempt(row, &t);
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_notify_finish(n->reg, row, &err) != SC_OK)
        /* Its lease ends and it is claimed again: sent twice rather than lost. */
        log_warn("webhook delivery not recorded", "event", row->event, &err);
}

/*
 * Claim up to limit of hook's due deliveries, after looking (a read) that
 * there are some; NULL when none were claimed.  *until: when the claim's
 * lease ends.
 */
static claimed *claim(sd_notify *n, const char *hook, unsigned limit, int64_t *until)
{
    const sc_env *env = sd_register_env(n->reg);
    int64_t lease = (int64_t)n->cfg->notify_timeout_s * 1000 + SC_NOTIFY_LEASE_MARGIN_MS;
    int64_t now = sc_env_now_ms(env);
    bool due = false;
    sc_err err;
    sc_err_clear(&err);
    claimed *c = NULL;
    if (sd_register_notify_due(n->reg, hook, now, &due, &err) != SC_OK) {
        log_warn("webhook deliveries not looked for", "hook", hook, &err);
        return NULL;
    }
    if (!due || !(c = calloc(1, sizeof *c)))
        return NULL;
    /* The store's claim_until: the time spent waiting for the write lock counts against it. */
    now = sc_env_now_ms(env);
    *until = now + lease;
    if (sd_register_notify_claim(n->reg, hook, now, lease, limit, take, c, &err) != SC_OK)
        log_warn("webhook deliveries not claimed", "hook", hook, &err);
    if (c->n == 0) {
        claimed_free(c);
        return NULL;
    }
    return c;
}

/* Deliver the hook's earliest due delivery, if there is one: whether there was. */
static bool deliver_next(sd_notify *n, const sd_notify_hook *h)
{
    int64_t until = 0;
    /* One at a time: the attempt must end inside the lease taken with it. */
    claimed *c = claim(n, h->cfg->name, 1, &until);
    if (!c)
        return false;
    const sc_env *env = sd_register_env(n->reg);
    /* The write lock may have been slow to come: attempt only what ends inside the lease. */
    if (sc_env_now_ms(env) + (int64_t)n->cfg->notify_timeout_s * 1000 <= until) {
        deliver(n, h, &c->rows[0]);
    } else {
        sd_logline l;
        sd_log_begin(&l, SD_LOG_WARN, "webhook delivery put off: its lease would end first");
        sd_log_str(&l, "hook", c->rows[0].hook);
        sd_log_str(&l, "event", c->rows[0].event);
        sd_log_end(&l);
    }
    claimed_free(c);
    return true;
}

static void *courier_main(void *arg)
{
    courier *k = arg;
    while (!stopping(k->n))
        if (!deliver_next(k->n, &k->hook))
            nap(k->n);
    return NULL;
}

/* The pending deliveries' hooks that are not configured here (the scan thread's). */
typedef struct strays {
    sd_notify *n;
    int64_t now;
    size_t dead; /* deliveries marked dead */
} strays;

/* A hook with pending deliveries: unless configured here, mark a claim of its due ones dead. */
static bool stray_hook(void *ctx, const char *hook)
{
    strays *s = ctx;
    if (hook_named(s->n, hook))
        return true;
    int64_t until = 0;
    claimed *c = claim(s->n, hook, SC_NOTIFY_CLAIM_MAX, &until);
    for (size_t i = 0; c && i < c->n && !stopping(s->n); i++, s->dead++)
        deliver(s->n, NULL, &c->rows[i]);
    claimed_free(c);
    return !stopping(s->n);
}

/* Mark dead the due deliveries of hooks no longer configured: how many. */
static size_t strays_dead(sd_notify *n)
{
    strays s = {.n = n};
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_notify_hooks(n->reg, stray_hook, &s, &err) != SC_OK)
        log_warn("webhook hooks not listed", NULL, NULL, &err);
    return s.dead;
}

static void scan(sd_notify *n)
{
    sd_finding_stats st;
    sc_err err;
    sc_err_clear(&err);
    const sc_env *env = sd_register_env(n->reg);
    if (sd_register_notify_scan(n->reg, sc_env_now_ms(env), &st, &err) != SC_OK) {
        sd_logline l;
        sd_log_begin(&l, SD_LOG_WARN, "overdue scan failed");
        sd_log_str(&l, "error", err.msg);
        sd_log_end(&l);
        return;
    }
    sd_metrics_findings f = {
        .open_general = st.open_general,
        .open_major = st.open_major,
        .open_other = st.open_other,
        .overdue = st.overdue,
        .oldest_overdue_s = st.oldest_overdue_s > 0 ? (uint64_t)st.oldest_overdue_s : 0,
        .escalations = st.escalations,
    };
    sd_metrics_findings_set(&f);
}

static void *notify_main(void *arg)
{
    sd_notify *n = arg;
    const sc_env *env = sd_register_env(n->reg);
    /* Not at start: a syncd restarted again and again (a crash loop) would decode every finding each time. */
    int64_t next_scan = sc_env_now_ms(env) + (int64_t)n->cfg->notify_scan_s * 1000;
    while (!stopping(n)) {
        int64_t now = sc_env_now_ms(env);
        if (now >= next_scan) {
            scan(n);
            next_scan = sc_env_now_ms(env) + (int64_t)n->cfg->notify_scan_s * 1000;
        }
        /* With no hook configured nothing is delivered nor given up, as before. */
        size_t dead = n->n_hooks ? strays_dead(n) : 0;
        if (dead == 0)
            nap(n);
    }
    return NULL;
}

static void wipe(sd_notify *n)
{
    for (unsigned i = 0; i < SC_NOTIFY_HOOKS_MAX; i++)
        sodium_memzero(n->couriers[i].hook.secret, sizeof n->couriers[i].hook.secret);
}

sc_status sd_notify_start(sd_register *reg, const sd_config *cfg, sd_notify **out, sc_err *err)
{
    *out = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "libcurl did not initialise");
    sd_notify *n = calloc(1, sizeof *n);
    if (!n)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory");
    n->reg = reg;
    n->cfg = cfg;
    atomic_init(&n->stop, false);
    for (unsigned i = 0; i < cfg->n_hooks && i < SC_NOTIFY_HOOKS_MAX; i++) {
        courier *k = &n->couriers[i];
        sc_status rc = sd_notify_hook_load(&cfg->hooks[i], &k->hook, err);
        if (rc != SC_OK) {
            wipe(n);
            free(n);
            return rc;
        }
        k->n = n;
        k->hook.stop = &n->stop;
        n->n_hooks++;
    }
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    sc_status rc = SC_OK;
    if (pthread_create(&n->thread, NULL, notify_main, n) == 0)
        n->started = true;
    else
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "cannot start the webhook thread");
    for (unsigned i = 0; rc == SC_OK && i < n->n_hooks; i++) {
        courier *k = &n->couriers[i];
        if (pthread_create(&k->thread, NULL, courier_main, k) == 0)
            k->started = true;
        else
            rc = sc_err_set(err, SC_ERR_NOMEM, 0, "cannot start the thread of webhook %s",
                            k->hook.cfg->name);
    }
    if (rc != SC_OK) {
        sd_notify_stop(n);
        return rc;
    }
    *out = n;
    return SC_OK;
}

void sd_notify_stop(sd_notify *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    atomic_store(&n->stop, true);
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    /* Every thread was told at once: they end together, each within about a second. */
    if (n->started)
        pthread_join(n->thread, NULL);
    for (unsigned i = 0; i < n->n_hooks; i++)
        if (n->couriers[i].started)
            pthread_join(n->couriers[i].thread, NULL);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    wipe(n);
    free(n);
}
