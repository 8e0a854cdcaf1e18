/*
 * sync.c: the console's sync button.  A sync takes seconds to minutes on a
 * slow link, and the console's handle serves every page meanwhile, so a
 * sync runs on a thread of its own with a handle of its own on the same
 * replica (the library lets a second handle write beside the first: they
 * take turns per transaction).  Its progress and its last result are kept
 * under a mutex for the page to poll; one sync runs at a time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"

struct cs_sync {
    cs_options opt;       /* the run's; borrowed */
    pthread_mutex_t mu;
    pthread_t th;
    bool running, joinable;
    char phase[24];        /* the progress callback's last phase */
    uint64_t done, total;
    json_t *last;          /* {"ok","finished_ms","result"|"error"}; owned */
};

cs_sync *cs_sync_new(const cs_options *o)
{
    cs_sync *sy = calloc(1, sizeof *sy);
    if (!sy)
        return NULL;
    sy->opt = *o;
    pthread_mutex_init(&sy->mu, NULL);
    return sy;
}

static void join(cs_sync *sy)
{
    if (sy->joinable) {
        pthread_join(sy->th, NULL);
        sy->joinable = false;
    }
}

void cs_sync_free(cs_sync *sy)
{
    if (!sy)
        return;
    join(sy);
    json_decref(sy->last);
    pthread_mutex_destroy(&sy->mu);
    free(sy);
}

static int on_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    cs_sync *sy = ctx;
    pthread_mutex_lock(&sy->mu);
    snprintf(sy->phase, sizeof sy->phase, "%s", phase);
    sy->done = done;
    sy->total = total;
    pthread_mutex_unlock(&sy->mu);
    return 0;
}

/* A handle of the sync's own, unlocked and with the run's network options. */
static sc_status open_own(cs_sync *sy, sc_client **out, char *err, size_t cap)
{
    sc_open_options oo = {.size = sizeof oo, .mode = SC_OPEN_EXISTING};
    sc_status s = sc_client_open_v3(sy->opt.db, &oo, out, err, cap);
    if (s != SC_OK)
        return s;
    char app[32];
    snprintf(app, sizeof app, "spotcheck-console/%s", sc_version());
    sc_client_set_app(*out, app);
    if (sy->opt.net && (s = sc_client_set_net(*out, sy->opt.net)) != SC_OK)
        return s;
    const char *pass = sy->opt.pass_env ? getenv(sy->opt.pass_env) : NULL;
    if (pass && (s = sc_client_unlock(*out, pass, strlen(pass))) != SC_OK)
        return s;
    return SC_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *run_sync(void *arg)
{
    cs_sync *sy = arg;
    sc_client *c = NULL;
    char err[512] = "", *json = NULL;
    sc_status s = open_own(sy, &c, err, sizeof err);
    if (s == SC_OK)
        s = sc_sync_v2(c, on_progress, sy, &json);
    json_t *result = json ? json_loads(json, 0, NULL) : NULL;
    const char *msg = c ? sc_client_errmsg(c) : err;
    json_t *last = json_pack("{s:b,s:I}", "ok", s == SC_OK, "finished_ms", (json_int_t)now_ms());
    if (last && s == SC_OK)
        json_object_set_new(last, "result", result ? result : json_null());
    else if (last) {
        json_decref(result);
        json_object_set_new(last, "error",
                            json_pack("{s:s,s:s,s:s}", "status", sc_status_name(s), "reason",
                                      c ? sc_client_reason(c) : "", "message",
                                      msg && *msg ? msg : sc_strerror(s)));
    }
    if (c)
        sc_json_free(c, json);
    sc_client_close(c);
    pthread_mutex_lock(&sy->mu);
    json_decref(sy->last);
    sy->last = last;
    sy->running = false;
    pthread_mutex_unlock(&sy->mu);
    return NULL;
}

sc_status cs_sync_start(cs_sync *sy)
{
    pthread_mutex_lock(&sy->mu);
    bool busy = sy->running;
    pthread_mutex_unlock(&sy->mu);
    if (busy)
        return SC_ERR_UNAVAILABLE;
    join(sy); /* the last one, finished */
    pthread_mutex_lock(&sy->mu);
    sy->running = true;
    sy->phase[0] = '\0';
    sy->done = sy->total = 0;
    pthread_mutex_unlock(&sy->mu);
    if (pthread_create(&sy->th, NULL, run_sync, sy) != 0) {
        pthread_mutex_lock(&sy->mu);
        sy->running = false;
        pthread_mutex_unlock(&sy->mu);
        return SC_ERR_NOMEM;
    }
    sy->joinable = true;
    return SC_OK;
}

json_t *cs_sync_state(cs_sync *sy)
{
    pthread_mutex_lock(&sy->mu);
    json_t *o = json_pack("{s:b,s:s,s:I,s:I,s:O}", "running", sy->running, "phase", sy->phase,
                          "done", (json_int_t)sy->done, "total", (json_int_t)sy->total, "last",
                          sy->last ? sy->last : json_null());
    pthread_mutex_unlock(&sy->mu);
    return o;
}

const char *cs_sync_db(const cs_sync *sy)
{
    return sy ? sy->opt.db : NULL;
}
