/*
 * metrics.c: the process-wide metrics registry (see metrics.h).  Counters
 * are relaxed atomics; histograms keep one atomic count per bucket
 * (non-cumulative, summed when rendered) and their sum in integer units
 * (microseconds, ops), so no floating-point atomics are needed.
 */
#include "metrics.h"

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

/* A token character: printable ASCII without the space. */
static bool token_char(char c)
{
    return c > 0x20 && c < 0x7f;
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
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return sc_err_set(err, errno == ENOENT ? SC_ERR_NOT_FOUND : SC_ERR_IO, 0,
                          "metrics token file %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return sc_err_set(err, SC_ERR_IO, 0, "metrics token file %s is not a regular file", path);
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return sc_err_set(err, SC_ERR_FORBIDDEN, 0,
                          "metrics token file %s is open to group or others: chmod 600 it", path);
    }
    char buf[SC_METRICS_TOKEN_MAX + 3];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf &&
           ((r = read(fd, buf + n, sizeof buf - n)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            n += (size_t)r;
    close(fd);
    if (n && buf[n - 1] == '\n')
        n--;
    if (n && buf[n - 1] == '\r')
        n--;
    bool ok = n >= SC_METRICS_TOKEN_MIN && n <= SC_METRICS_TOKEN_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = token_char(buf[i]);
    if (ok)
        sc_sha256(buf, n, hash);
    sodium_memzero(buf, sizeof buf);
    if (!ok)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "metrics token file %s: the token must be one line of %d to %d printable "
                          "characters without spaces",
                          path, SC_METRICS_TOKEN_MIN, SC_METRICS_TOKEN_MAX);
    return SC_OK;
}
