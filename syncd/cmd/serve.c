/*
 * serve.c: `syncd serve`: open the register, the blob store and the
 * group-commit queue, serve HTTP until SIGINT or SIGTERM, then shut down in
 * order: stop accepting, let requests in flight finish, drain the commit
 * queue, close.  Acknowledged ops are durable at every point, so a kill -9
 * instead loses only requests that were never answered.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked in every thread (the mask
 * is set before any thread starts, and threads inherit it); the main thread
 * takes them with sigtimedwait, so no work ever runs in a signal handler,
 * and between them sweeps the blob store (at start, then every
 * blobs.sweep_interval_s; with it, on a register several syncd share, the
 * shared replay cache's expired nonces) and writes when devices were last
 * seen (every
 * SC_SEEN_FLUSH_MS what sync/seen.h says is due, and all of it at the
 * end).
 * SIGPIPE is ignored: a client that hangs up must not stop the server.
 * Webhooks are delivered, and the overdue scan run, on a thread of their
 * own (notify/notify.h), stopped after the commit queue.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/config.h"
#include "base/datalock.h"
#include "base/logjson.h"
#include "blobs/blobs.h"
#include "commands.h"
#include "core/keys.h"
#include "http/auth.h"
#include "http/http.h"
#include "notify/notify.h"
#include "register/register.h"
#include "sync/ingest.h"
#include "sync/seen.h"

/* Connections of 1,000 devices need more descriptors than the usual soft limit of 1,024. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/*
 * Listen only once the clock has reached the replay boundary: a client
 * signing with the server's time then never meets it, and only requests
 * signed before this process started are refused (auth.h).  At most
 * SC_REQUEST_AHEAD_MS, part of it spent opening the register.
 */
static void wait_for_boundary(const sc_env *env, int64_t not_before_ms)
{
    for (int64_t now = env->now_ms(env->ctx); now < not_before_ms; now = env->now_ms(env->ctx)) {
        int64_t ms = not_before_ms - now;
        struct timespec nap = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&nap, NULL);
    }
}

static void log_fail(const char *what, const sc_err *e)
{
    sd_logline l;
    sd_log_begin(&l, SD_LOG_ERROR, what);
    sd_log_str(&l, "error", e->msg[0] ? e->msg : sc_strerror(e->code));
    sd_log_end(&l);
    fprintf(stderr, "syncd serve: %s: %s\n", what, e->msg[0] ? e->msg : sc_strerror(e->code));
}

/* Expire old uploads and photos no op names (blobs.h); a line in the log when it dropped any. */
static void sweep(sd_blobs *blobs)
{
    sd_blob_sweep r;
    sd_blobs_sweep(blobs, (int64_t)time(NULL), &r);
    if (!r.partials_cut && !r.partials_gone && !r.blobs_gone && !r.marks_gone)
        return;
    sd_logline l;
    sd_log_begin(&l, SD_LOG_INFO, "blob sweep");
    sd_log_uint(&l, "partials_cut", r.partials_cut);
    sd_log_uint(&l, "partials_dropped", r.partials_gone);
    sd_log_uint(&l, "unreferenced_dropped", r.blobs_gone);
    sd_log_uint(&l, "marks_dropped", r.marks_gone);
    sd_log_end(&l);
}

/*
 * The options and the settings file into *cfg.  Returns -1 when syncd may
 * go on, else the exit status (0 for --help, 2 for a usage or settings
 * error, said on stderr).
 */
static int serve_settings(int argc, char **argv, sd_config *cfg)
{
    const char *data = NULL, *listen = NULL, *conf = NULL;
    const sd_option opts[] = {{"data", &data, NULL},
                              {"listen", &listen, NULL},
                              {"config", &conf, NULL},
                              {NULL, NULL, NULL}};
    int st = sd_cmdline_parse("serve", argc, argv, opts, NULL, 0, NULL);
    if (st >= 0)
        return st;
    sc_err err;
    sc_err_clear(&err);
    sd_config_defaults(cfg);
    if (conf && sd_config_load(cfg, conf, &err) != SC_OK) {
        fprintf(stderr, "syncd serve: %s\n", err.msg);
        return 2;
    }
    if (data && sd_config_set(cfg, "data", data, &err) != SC_OK) {
        fprintf(stderr, "syncd serve: --data: %s\n", err.msg);
        return 2;
    }
    if (listen && sd_config_set_listen(cfg, listen, &err) != SC_OK) {
        fprintf(stderr, "syncd serve: --listen: %s\n", err.msg);
        return 2;
    }
    if (!cfg->data_dir[0])
        return sd_cmdline_fail("serve", "--data DIR is required");
    if (sd_config_check(cfg, &err) != SC_OK) {
        fprintf(stderr, "syncd serve: %s\n", err.msg);
        return 2;
    }
    return -1;
}

/* The parts of a running server, opened in this order and closed in the reverse. */
typedef struct server {
    const sd_config *cfg;
    int lock;        /* the data directory's lock; -1 when not taken */
    sd_register *reg;
    sd_blobs *blobs;
    sd_auth *auth;
    sd_seen *seen;
    sd_ingest *ingest;
    sd_notify *notify;
    sd_http *http;
} server;

/* Open every part and start listening; false (logged) when one cannot start. */
static bool serve_open(server *sv)
{
    const sd_config *cfg = sv->cfg;
    sc_err err;
    sc_err_clear(&err);
    if (sc_crypto_init() != SC_OK) {
        sc_err_set(&err, SC_ERR_CRYPTO, 0, "libsodium did not initialise");
        log_fail("cannot start", &err);
        return false;
    }
    if (sd_datalock_take(cfg->data_dir, "serve", &sv->lock, &err) != SC_OK) {
        log_fail("cannot start", &err);
        return false;
    }
    if (sd_register_open(cfg, &sv->reg, &err) != SC_OK) {
        log_fail("cannot open the register", &err);
        return false;
    }
    sd_blob_limits lim;
    sd_blob_limits_from(cfg, &lim);
    if (sd_blobs_open_at(sd_register_blob_dir(sv->reg), &lim, sd_register_photo_seen, sv->reg,
                         &sv->blobs, &err) != SC_OK) {
        log_fail("cannot open the blob store", &err);
        return false;
    }
    sweep(sv->blobs);
    /*
     * Taken after the data directory's lock: every earlier process on it has
     * ended, so no request it accepted was signed at or after start + the
     * request-time lead (SC_REQUEST_AHEAD_MS).
     */
    const sc_env *env = sd_register_env(sv->reg);
    sd_auth_limits al = {
        .skew_ms = cfg->clock_skew_ms,
        .start_ms = env->now_ms(env->ctx),
        .nonces_max = (size_t)cfg->nonces_max,
        .device_nonces_max = (size_t)cfg->device_nonces_max,
    };
    if (sd_auth_new(env, &al, &sv->auth) != SC_OK) {
        sc_err_set(&err, SC_ERR_NOMEM, 0, "cannot create the replay cache");
        log_fail("cannot start", &err);
        return false;
    }
    /* Other syncd serve this register too: a nonce one of them took is taken for all. */
    if (sd_register_shared(sv->reg))
        sd_auth_set_shared(sv->auth, sd_register_nonce_claim, sv->reg);
    if (sd_seen_new(0, SC_SEEN_WRITE_MS, &sv->seen) != SC_OK) {
        sc_err_set(&err, SC_ERR_NOMEM, 0, "cannot create the table of devices seen");
        log_fail("cannot start", &err);
        return false;
    }
    if (sd_ingest_start(sv->reg, cfg, &sv->ingest, &err) != SC_OK) {
        log_fail("cannot start the commit queue", &err);
        return false;
    }
    if (sd_notify_start(sv->reg, cfg, &sv->notify, &err) != SC_OK) {
        log_fail("cannot start the webhooks", &err);
        return false;
    }
    wait_for_boundary(env, sd_auth_not_before(sv->auth));
    sd_http_deps deps = {
        .cfg = cfg,
        .reg = sv->reg,
        .ingest = sv->ingest,
        .blobs = sv->blobs,
        .auth = sv->auth,
        .env = env,
        .seen = sv->seen,
    };
    if (sd_http_start(&deps, &sv->http, &err) != SC_OK) {
        log_fail("cannot start the HTTP server", &err);
        return false;
    }
    return true;
}

/* The one line a supervisor (and the tests) wait for, and its log entry. */
static void serve_announce(const server *sv)
{
    const sd_config *cfg = sv->cfg;
    const char *host = cfg->listen_host;
    bool v6 = host[0] != '[' && strchr(host, ':') != NULL; /* bare IPv6: bracket it in the URL */
    printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", host, v6 ? "]" : "",
           (unsigned)sd_http_port(sv->http));
    fflush(stdout);
    sd_logline l;
    sd_log_begin(&l, SD_LOG_INFO, "listening");
    sd_log_str(&l, "version", sc_version());
    sd_log_uint(&l, "protocol", sc_protocol_version());
    sd_log_str(&l, "host", host);
    sd_log_uint(&l, "port", sd_http_port(sv->http));
    sd_log_str(&l, "data", cfg->data_dir);
    sd_log_uint(&l, "threads", cfg->threads);
    sd_log_end(&l);
}

/*
 * Write the sightings due (all of them at the end), a batch per
 * transaction.  A failed write is logged and its sightings are kept for
 * the next try: they are operational facts, and losing one costs nothing
 * but a staler "last seen".
 */
static void seen_flush(const server *sv, bool all)
{
    enum { BATCH = 256 };
    static sd_seen_row rows[BATCH]; /* the main thread's alone */
    const sc_env *env = sd_register_env(sv->reg);
    int64_t now = env->now_ms(env->ctx);
    size_t n;
    do {
        n = sd_seen_take(sv->seen, now, all, rows, BATCH);
        sc_err err;
        sc_err_clear(&err);
        if (n && sd_register_seen_put(sv->reg, rows, n, &err) != SC_OK) {
            sd_logline l;
            sd_log_begin(&l, SD_LOG_WARN, "devices seen not written");
            sd_log_str(&l, "error", err.msg);
            sd_log_uint(&l, "devices", n);
            sd_log_end(&l);
            sd_seen_retry(sv->seen, rows, n);
            return;
        }
    } while (n == BATCH);
}

/*
 * Forget the shared replay cache's nonces of requests no time check passes
 * any more: signed over two skews ago (one skew is the window; the second
 * covers the clocks of the other syncd on the register).
 */
static void sweep_nonces(const server *sv, int64_t now_ms)
{
    if (!sd_register_shared(sv->reg))
        return;
    uint64_t n = 0;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_nonce_sweep(sv->reg, now_ms - 2 * sv->cfg->clock_skew_ms, &n, &err);
    if (rc == SC_OK && n == 0)
        return;
    sd_logline l;
    sd_log_begin(&l, rc == SC_OK ? SD_LOG_INFO : SD_LOG_WARN, "nonce sweep");
    if (rc == SC_OK)
        sd_log_uint(&l, "nonces_dropped", n);
    else
        sd_log_str(&l, "error", err.msg);
    sd_log_end(&l);
}

/* Serve until SIGINT or SIGTERM (returned), sweeping the blob store between signals. */
static int serve_until_signal(const server *sv, const sigset_t *set)
{
    int sig = 0;
    const sc_env *env = sd_register_env(sv->reg);
    int64_t sweep_ms = (int64_t)sv->cfg->blob_sweep_s * 1000;
    int64_t next_sweep = env->now_ms(env->ctx) + sweep_ms;
    for (;;) {
        /* Between signals: the sightings due, and the blob store's sweep every sweep_ms. */
        int64_t wait_ms = SC_SEEN_FLUSH_MS;
        struct timespec every = {.tv_sec = (time_t)(wait_ms / 1000),
                                 .tv_nsec = (long)(wait_ms % 1000) * 1000000L};
        sig = sigtimedwait(set, NULL, &every);
        if (sig < 0 && errno == EAGAIN) {
            seen_flush(sv, false);
            int64_t now = env->now_ms(env->ctx);
            if (now >= next_sweep) {
                sweep(sv->blobs);
                sweep_nonces(sv, now);
                next_sweep = now + sweep_ms;
            }
        }
        if (sig < 0)
            continue;
        if (sig == SIGHUP) {
            /* Settings are read at start; a reload would be half-applied, so HUP is only noted. */
            sd_log(SD_LOG_INFO, "SIGHUP ignored: restart syncd to apply new settings", NULL);
            continue;
        }
        return sig;
    }
}

/* Order: no new requests, requests in flight answered, queue committed, storage closed. */
static void serve_close(server *sv)
{
    sd_http_stop(sv->http, (int64_t)sv->cfg->connection_timeout_s * 1000);
    sd_ingest_stop(sv->ingest);
    sd_notify_stop(sv->notify);
    if (sv->seen && sv->reg)
        seen_flush(sv, true);
    sd_seen_free(sv->seen);
    sd_auth_free(sv->auth);
    sd_blobs_close(sv->blobs);
    sd_register_close(sv->reg);
    sd_datalock_release(sv->lock);
}

int sd_cmd_serve(int argc, char **argv)
{
    sd_config cfg;
    int status = serve_settings(argc, argv, &cfg);
    if (status >= 0)
        return status;
    sd_log_set_level(cfg.log_level);

    /* Before any thread exists, so every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    status = 1;
    server sv = {.cfg = &cfg, .lock = -1};
    if (serve_open(&sv)) {
        serve_announce(&sv);
        int sig = serve_until_signal(&sv, &set);
        sd_logline l;
        sd_log_begin(&l, SD_LOG_INFO, "stopping");
        sd_log_str(&l, "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
        sd_log_uint(&l, "in_flight", sd_http_inflight(sv.http));
        sd_log_end(&l);
        status = 0;
    }
    serve_close(&sv);
    if (status == 0)
        sd_log(SD_LOG_INFO, "stopped", NULL);
    return status;
}
