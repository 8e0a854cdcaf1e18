/*
 * notify.c: the delivering thread (notify.h).  Each round it claims up to
 * SC_NOTIFY_CLAIM_MAX due deliveries (held for a lease, so another syncd
 * on the same PostgreSQL register leaves them alone, and a syncd that dies
 * holding them leaves them to be claimed again), attempts each, and
 * records each outcome.  A delivery is recorded only after its attempt:
 * a crash between the two sends it again (at-least-once; receivers
 * deduplicate by the event id, which every retry repeats).
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

struct sd_notify {
    sd_register *reg;
    const sd_config *cfg;
    sd_notify_hook hooks[SC_NOTIFY_HOOKS_MAX];
    unsigned n_hooks;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
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

static const sd_notify_hook *hook_named(const sd_notify *n, const char *name)
{
    for (unsigned i = 0; i < n->n_hooks; i++)
        if (strcmp(n->hooks[i].cfg->name, name) == 0)
            return &n->hooks[i];
    return NULL;
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

/* Attempt one claimed delivery and record its outcome. */
static void deliver(sd_notify *n, sd_notify_row *row)
{
    const sc_env *env = sd_register_env(n->reg);
    sd_notify_try t;
    const sd_notify_hook *h = hook_named(n, row->hook);
    int64_t now = sc_env_now_ms(env);
    if (h) {
        sd_notify_post(h, row, now, n->cfg->notify_timeout_s, &t);
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
    if (sd_register_notify_finish(n->reg, row, &err) != SC_OK) {
        /* Its lease ends and it is claimed again: sent twice rather than lost. */
        sd_logline l;
        sd_log_begin(&l, SD_LOG_WARN, "webhook delivery not recorded");
        sd_log_str(&l, "event", row->event);
        sd_log_str(&l, "error", err.msg);
        sd_log_end(&l);
    }
}

/* One round of claims; the number of deliveries attempted. */
static size_t round_of_deliveries(sd_notify *n)
{
    claimed *c = calloc(1, sizeof *c);
    if (!c)
        return 0;
    const sc_env *env = sd_register_env(n->reg);
    int64_t lease = (int64_t)n->cfg->notify_timeout_s * 1000 + SC_NOTIFY_LEASE_MARGIN_MS;
    sc_err err;
    sc_err_clear(&err);
    if (sd_register_notify_claim(n->reg, sc_env_now_ms(env), lease, SC_NOTIFY_CLAIM_MAX, take, c,
                                 &err) != SC_OK) {
        sd_logline l;
        sd_log_begin(&l, SD_LOG_WARN, "webhook deliveries not claimed");
        sd_log_str(&l, "error", err.msg);
        sd_log_end(&l);
    }
    size_t done = 0;
    for (; done < c->n; done++) {
        pthread_mutex_lock(&n->mu);
        bool stop = n->stop;
        pthread_mutex_unlock(&n->mu);
        if (stop)
            break; /* the rest are claimed again when their lease ends */
        deliver(n, &c->rows[done]);
    }
    for (size_t i = 0; i < c->n; i++)
        free(c->bodies[i]);
    free(c);
    return done;
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
    for (;;) {
        int64_t now = sc_env_now_ms(env);
        if (now >= next_scan) {
            scan(n);
            next_scan = sc_env_now_ms(env) + (int64_t)n->cfg->notify_scan_s * 1000;
        }
        size_t sent = n->n_hooks ? round_of_deliveries(n) : 0;
        pthread_mutex_lock(&n->mu);
        if (!n->stop && sent == 0) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (long)SC_NOTIFY_POLL_MS * 1000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&n->cv, &n->mu, &until);
        }
        bool stop = n->stop;
        pthread_mutex_unlock(&n->mu);
        if (stop)
            break;
    }
    return NULL;
}

static void wipe(sd_notify *n)
{
    for (unsigned i = 0; i < SC_NOTIFY_HOOKS_MAX; i++)
        sodium_memzero(n->hooks[i].secret, sizeof n->hooks[i].secret);
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
    for (unsigned i = 0; i < cfg->n_hooks; i++) {
        sc_status rc = sd_notify_hook_load(&cfg->hooks[i], &n->hooks[i], err);
        if (rc != SC_OK) {
            wipe(n);
            free(n);
            return rc;
        }
        n->n_hooks++;
    }
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    if (pthread_create(&n->thread, NULL, notify_main, n) != 0) {
        sd_notify_stop(n);
        return sc_err_set(err, SC_ERR_NOMEM, 0, "cannot start the webhook thread");
    }
    n->started = true;
    *out = n;
    return SC_OK;
}

void sd_notify_stop(sd_notify *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->stop = true;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (n->started)
        pthread_join(n->thread, NULL);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    wipe(n);
    free(n);
}
