/*
 * metrics.c: the process-wide metrics registry (see metrics.h).  Counters
 * are relaxed atomics; histograms keep one atomic count per bucket
 * (non-cumulative, summed when rendered) and their sum in integer units
 * (microseconds, ops), so no floating-point atomics are needed.
 */
#include "metrics.h"
#include "secretfile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/names.h"
#include "spotcheck.h"

#define REASONS_MAX 64   /* Scpb__Reason values are small and stable */
#define CODE_MIN 100
#define CODE_MAX 599

static const double sync_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25,  0.5,    1,     2.5,  5,     10};
#define SYNC_BUCKETS (sizeof sync_bounds / sizeof sync_bounds[0])
static const uint64_t commit_bounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
#define COMMIT_BUCKETS (sizeof commit_bounds / sizeof commit_bounds[0])
static const double lock_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
#define LOCK_BUCKETS (sizeof lock_bounds / sizeof lock_bounds[0])

typedef atomic_uint_fast64_t counter;

static struct {
    counter accepted, duplicate;
    counter rejected[REASONS_MAX];
    counter sync_requests;
    counter sync_bucket[SYNC_BUCKETS + 1]; /* last: above every bound */
    counter sync_sum_us;
    counter http[CODE_MAX - CODE_MIN + 1];
    counter blobs_stored, blob_stored_bytes, blob_upload_bytes;
    counter commits;
    counter commit_bucket[COMMIT_BUCKETS + 1];
    counter commit_ops_sum;
    counter wh_queued, wh_dropped, wh_delivered, wh_failed, wh_dead;
    counter f_scanned; /* 1 once an overdue scan has set the finding gauges */
    counter f_open_general, f_open_major, f_open_other, f_overdue, f_oldest_s, f_escalations;
    counter lock_wait_bucket[LOCK_BUCKETS + 1], lock_wait_sum_us;
    counter lock_hold_bucket[LOCK_BUCKETS + 1], lock_hold_sum_us;
} m;

static void add(counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(counter *c)
{
    return (uint64_t)atomic_load_explicit(c, memory_order_relaxed);
}

void sd_metrics_reset(void)
{
    counter *c = (counter *)&m;
    for (size_t i = 0; i < sizeof m / sizeof *c; i++)
        atomic_store(&c[i], 0);
}

void sd_metrics_op(int status, int reason)
{
    if (status == 1) /* OP_ACCEPTED */
        add(&m.accepted, 1);
    else if (status == 2) /* OP_DUPLICATE */
        add(&m.duplicate, 1);
    else
        add(&m.rejected[reason >= 0 && reason < REASONS_MAX ? reason : 0], 1);
}

void sd_metrics_sync(double seconds)
{
    size_t b = 0;
    while (b < SYNC_BUCKETS && seconds > sync_bounds[b])
        b++;
    add(&m.sync_requests, 1);
    add(&m.sync_bucket[b], 1);
    add(&m.sync_sum_us, seconds > 0 ? (uint64_t)(seconds * 1e6 + 0.5) : 0);
}

void sd_metrics_http(unsigned code)
{
    if (code >= CODE_MIN && code <= CODE_MAX)
        add(&m.http[code - CODE_MIN], 1);
}

void sd_metrics_blob_stored(uint64_t bytes)
{
    add(&m.blobs_stored, 1);
    add(&m.blob_stored_bytes, bytes);
}

void sd_metrics_blob_upload(uint64_t bytes)
{
    add(&m.blob_upload_bytes, bytes);
}

void sd_metrics_commit(uint64_t ops)
{
    size_t b = 0;
    while (b < COMMIT_BUCKETS && ops > commit_bounds[b])
        b++;
    add(&m.commits, 1);
    add(&m.commit_bucket[b], 1);
    add(&m.commit_ops_sum, ops);
}

static void lock_add(counter *bucket, counter *sum_us, double seconds)
{
    size_t b = 0;
    while (b < LOCK_BUCKETS && seconds > lock_bounds[b])
        b++;
    add(&bucket[b], 1);
    add(sum_us, seconds > 0 ? (uint64_t)(seconds * 1e6 + 0.5) : 0);
}

void sd_metrics_write_lock(double wait_s, double hold_s)
{
    lock_add(m.lock_wait_bucket, &m.lock_wait_sum_us, wait_s);
    lock_add(m.lock_hold_bucket, &m.lock_hold_sum_us, hold_s);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void sd_metrics_webhook_queued(uint64_t queued, uint64_t dropped)
{
    add(&m.wh_queued, queued);
    add(&m.wh_dropped, dropped);
}

void sd_metrics_webhook_attempt(bool delivered, bool dead)
{
    add(delivered ? &m.wh_delivered : &m.wh_failed, 1);
    if (dead)
        add(&m.wh_dead, 1);
}

void sd_metrics_findings_set(const sd_metrics_findings *f)
{
    atomic_store_explicit(&m.f_open_general, f->open_general, memory_order_relaxed);
    atomic_store_explicit(&m.f_open_major, f->open_major, memory_order_relaxed);
    atomic_store_explicit(&m.f_open_other, f->open_other, memory_order_relaxed);
    atomic_store_explicit(&m.f_overdue, f->overdue, memory_order_relaxed);
    atomic_store_explicit(&m.f_oldest_s, f->oldest_overdue_s, memory_order_relaxed);
    atomic_store_explicit(&m.f_escalations, f->escalations, memory_order_relaxed);
    atomic_store_explicit(&m.f_scanned, 1, memory_order_relaxed);
}

/* The findings and the webhooks. */
static void render_notify(FILE *f, const sd_metrics_gauges *g)
{
    if (get(&m.f_scanned)) {
        head(f, "syncd_findings_open", "gauge",
             "Findings not closed nor voided, by grade, at the latest overdue scan.");
        fprintf(f, "syncd_findings_open{grade=\"general\"} %" PRIu64 "\n", get(&m.f_open_general));
        fprintf(f, "syncd_findings_open{grade=\"major\"} %" PRIu64 "\n", get(&m.f_open_major));
        fprintf(f, "syncd_findings_open{grade=\"unspecified\"} %" PRIu64 "\n",
                get(&m.f_open_other));
        head(f, "syncd_findings_overdue", "gauge",
             "Findings past their deadline in force and not closed, at the latest overdue scan.");
        fprintf(f, "syncd_findings_overdue %" PRIu64 "\n", get(&m.f_overdue));
        head(f, "syncd_findings_oldest_overdue_seconds", "gauge",
             "Since the oldest overdue finding's deadline passed (0: none overdue).");
        fprintf(f, "syncd_findings_oldest_overdue_seconds %" PRIu64 "\n", get(&m.f_oldest_s));
        head(f, "syncd_finding_escalations", "gauge",
             "Valid escalations recorded on findings, at the latest overdue scan.");
        fprintf(f, "syncd_finding_escalations %" PRIu64 "\n", get(&m.f_escalations));
    }
    if (g && g->valid) {
        head(f, "syncd_webhook_queue_depth", "gauge", "Webhook deliveries waiting to be sent.");
        fprintf(f, "syncd_webhook_queue_depth %" PRIu64 "\n", g->webhook_pending);
    }
    head(f, "syncd_webhook_queued_total", "counter", "Webhook deliveries queued.");
    fprintf(f, "syncd_webhook_queued_total %" PRIu64 "\n", get(&m.wh_queued));
    head(f, "syncd_webhook_dropped_total", "counter",
         "Webhook deliveries not queued because notify.queue_max were waiting.");
    fprintf(f, "syncd_webhook_dropped_total %" PRIu64 "\n", get(&m.wh_dropped));
    head(f, "syncd_webhook_deliveries_total", "counter", "Webhook deliveries a receiver took (2xx).");
    fprintf(f, "syncd_webhook_deliveries_total %" PRIu64 "\n", get(&m.wh_delivered));
    head(f, "syncd_webhook_failures_total", "counter",
         "Webhook delivery attempts that failed (no answer, a redirect, or not 2xx).");
    fprintf(f, "syncd_webhook_failures_total %" PRIu64 "\n", get(&m.wh_failed));
    head(f, "syncd_webhook_dead_total", "counter",
         "Webhook deliveries given up after notify.max_attempts.");
    fprintf(f, "syncd_webhook_dead_total %" PRIu64 "\n", get(&m.wh_dead));
}

static void lock_render(FILE *f, const char *name, const char *help, counter *bucket,
                        counter *sum_us)
{
    head(f, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t b = 0; b < LOCK_BUCKETS; b++) {
        cum += get(&bucket[b]);
        fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, lock_bounds[b], cum);
    }
    cum += get(&bucket[LOCK_BUCKETS]);
    fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
    fprintf(f, "%s_sum %.6f\n", name, (double)get(sum_us) / 1e6);
    fprintf(f, "%s_count %" PRIu64 "\n", name, cum);
}

char *sd_metrics_render(const sd_metrics_gauges *g, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;

    head(f, "syncd_build_info", "gauge", "This syncd's version and protocol version (always 1).");
    fprintf(f, "syncd_build_info{version=\"%s\",protocol=\"%u\"} 1\n", sc_version(),
            (unsigned)sc_protocol_version());

    head(f, "syncd_ops_accepted_total", "counter", "Pushed ops accepted and logged.");
    fprintf(f, "syncd_ops_accepted_total %" PRIu64 "\n", get(&m.accepted));
    head(f, "syncd_ops_duplicate_total", "counter", "Pushed ops that were already logged.");
    fprintf(f, "syncd_ops_duplicate_total %" PRIu64 "\n", get(&m.duplicate));
    head(f, "syncd_ops_rejected_total", "counter", "Pushed ops rejected, by reason.");
    for (int r = 1; r < REASONS_MAX; r++) {
        const char *name = sc_name_of(&sc_names_reason, r);
        if (name)
            fprintf(f, "syncd_ops_rejected_total{reason=\"%s\"} %" PRIu64 "\n", name,
                    get(&m.rejected[r]));
    }

    head(f, "syncd_sync_requests_total", "counter", "POST /v1/sync requests processed.");
    fprintf(f, "syncd_sync_requests_total %" PRIu64 "\n", get(&m.sync_requests));
    head(f, "syncd_sync_duration_seconds", "histogram",
         "Time from a sync request's headers to its response, including the durable commit.");
    uint64_t cum = 0;
    for (size_t b = 0; b < SYNC_BUCKETS; b++) {
        cum += get(&m.sync_bucket[b]);
        fprintf(f, "syncd_sync_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", sync_bounds[b],
                cum);
    }
    cum += get(&m.sync_bucket[SYNC_BUCKETS]);
    fprintf(f, "syncd_sync_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
    fprintf(f, "syncd_sync_duration_seconds_sum %.6f\n", (double)get(&m.sync_sum_us) / 1e6);
    fprintf(f, "syncd_sync_duration_seconds_count %" PRIu64 "\n", cum);

    head(f, "syncd_http_requests_total", "counter", "HTTP responses, by status code.");
    for (unsigned c = CODE_MIN; c <= CODE_MAX; c++) {
        uint64_t v = get(&m.http[c - CODE_MIN]);
        if (v)
            fprintf(f, "syncd_http_requests_total{code=\"%u\"} %" PRIu64 "\n", c, v);
    }

    if (g && g->valid) {
        head(f, "syncd_log_size", "gauge", "Ops in the log (the Merkle tree size).");
        fprintf(f, "syncd_log_size %" PRIu64 "\n", g->log_size);
        head(f, "syncd_entities", "gauge", "Entities in the register.");
        fprintf(f, "syncd_entities %" PRIu64 "\n", g->entities);
        head(f, "syncd_devices", "gauge", "Enrolled devices that are not revoked.");
        fprintf(f, "syncd_devices %" PRIu64 "\n", g->devices);
        head(f, "syncd_checkpoints", "gauge",
             "Signed checkpoints in the register: one per commit since init, admin commits included.");
        fprintf(f, "syncd_checkpoints %" PRIu64 "\n", g->checkpoints);
    }

    head(f, "syncd_blobs_stored_total", "counter", "Blobs completed and stored.");
    fprintf(f, "syncd_blobs_stored_total %" PRIu64 "\n", get(&m.blobs_stored));
    head(f, "syncd_blobs_stored_bytes_total", "counter", "Bytes of the blobs completed and stored.");
    fprintf(f, "syncd_blobs_stored_bytes_total %" PRIu64 "\n", get(&m.blob_stored_bytes));
    head(f, "syncd_blob_upload_bytes_total", "counter",
         "Blob bytes received in upload chunks whose signature verified.");
    fprintf(f, "syncd_blob_upload_bytes_total %" PRIu64 "\n", get(&m.blob_upload_bytes));

    head(f, "syncd_ingest_commits_total", "counter", "Group commits (one transaction and fsync each).");
    fprintf(f, "syncd_ingest_commits_total %" PRIu64 "\n", get(&m.commits));
    head(f, "syncd_commit_ops", "histogram", "Ops judged per group commit.");
    cum = 0;
    for (size_t b = 0; b < COMMIT_BUCKETS; b++) {
        cum += get(&m.commit_bucket[b]);
        fprintf(f, "syncd_commit_ops_bucket{le=\"%" PRIu64 "\"} %" PRIu64 "\n", commit_bounds[b],
                cum);
    }
    cum += get(&m.commit_bucket[COMMIT_BUCKETS]);
    fprintf(f, "syncd_commit_ops_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
    fprintf(f, "syncd_commit_ops_sum %" PRIu64 "\n", get(&m.commit_ops_sum));
    fprintf(f, "syncd_commit_ops_count %" PRIu64 "\n", cum);
    render_notify(f, g);
    lock_render(f, "syncd_register_lock_wait_seconds",
                "Time a write transaction waited for the register's write lock.",
                m.lock_wait_bucket, &m.lock_wait_sum_us);
    lock_render(f, "syncd_register_lock_hold_seconds",
                "Time a write transaction held the register's write lock, through its commit.",
                m.lock_hold_bucket, &m.lock_hold_sum_us);

    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = n;
    return buf;
}

/* ---- who may read them ---- */

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}


bool sd_metrics_allowed(const struct sockaddr *peer, const char *authorization,
                        const uint8_t *token_hash)
{
    if (!token_hash)
        return peer && is_loopback(peer);
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    size_t n = strnlen(t, SC_METRICS_TOKEN_MAX + 1);
    while (n && t[n - 1] == ' ')
        n--;
    if (n < SC_METRICS_TOKEN_MIN || n > SC_METRICS_TOKEN_MAX)
        return false;
    uint8_t h[SC_HASH_LEN];
    sc_sha256(t, n, h);
    return sodium_memcmp(h, token_hash, SC_HASH_LEN) == 0;
}

sc_status sd_metrics_token_load(const char *path, uint8_t hash[SC_HASH_LEN], sc_err *err)
{
    memset(hash, 0, SC_HASH_LEN);
    char buf[SC_METRICS_TOKEN_MAX + 4];
    size_t n = 0;
    sc_status rc = sd_secret_read(path, "metrics token file", SC_METRICS_TOKEN_MIN,
                                  SC_METRICS_TOKEN_MAX, buf, sizeof buf, &n, err);
    if (rc == SC_OK)
        sc_sha256(buf, n, hash);
    sodium_memzero(buf, sizeof buf);
    return rc;
}
