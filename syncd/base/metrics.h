/*
 * metrics.h: syncd's counters and histograms, rendered in the Prometheus
 * text exposition format (version 0.0.4) for GET /metrics.
 *
 * The registry is process-wide, like the log: any module records an event
 * with one call and no handle to thread through (the group-commit writer in
 * ingest.c records its commits with sd_metrics_commit).  Every counter is a
 * relaxed atomic, so recording is lock-free and safe from any thread; a
 * scrape reads each value once and may see one event counted in a counter
 * and not yet in a histogram, which Prometheus tolerates.
 *
 * docs/operations.md lists every metric with its meaning.
 */
#ifndef SD_METRICS_H
#define SD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/limits.h"
#include "core/status.h"

/* Forget everything recorded (tests only). */
void sd_metrics_reset(void);

/* One pushed op's outcome: status is a Scpb__OpStatus, reason a Scpb__Reason (rejected only). */
void sd_metrics_op(int status, int reason);
/* One POST /v1/sync answered 200, and how long it took from headers to response. */
void sd_metrics_sync(double seconds);
/* One HTTP response with this status code. */
void sd_metrics_http(unsigned code);
/* A blob completed and stored (bytes: its size). */
void sd_metrics_blob_stored(uint64_t bytes);
/* Blob bytes received in verified upload chunks. */
void sd_metrics_blob_upload(uint64_t bytes);
/* One group commit of `ops` ops (called by the ingest writer). */
void sd_metrics_commit(uint64_t ops);
/*
 * One write transaction on the register: how long it waited for the
 * register's write lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory
 * lock, which every syncd on the register shares) and how long it then held
 * it, through its commit.  The hold time bounds the ingest of the whole
 * register, however many instances serve it (docs/performance.md).
 */
void sd_metrics_write_lock(double wait_s, double hold_s);

/* Webhook deliveries queued by a commit (or an overdue scan), and those dropped with the queue full. */
void sd_metrics_webhook_queued(uint64_t queued, uint64_t dropped);
/* One delivery attempt: delivered (2xx), or failed; dead: it was the last one allowed. */
void sd_metrics_webhook_attempt(bool delivered, bool dead);

/* The findings as the latest overdue scan counted them (register.h, sd_finding_stats). */
typedef struct sd_metrics_findings {
    uint64_t open_general, open_major, open_other;
    uint64_t overdue;
    uint64_t oldest_overdue_s;
    uint64_t escalations;
} sd_metrics_findings;
void sd_metrics_findings_set(const sd_metrics_findings *f);

/* Gauges read from the register at scrape time. */
typedef struct sd_metrics_gauges {
    bool valid;        /* false when the register could not be read: gauges are omitted */
    uint64_t log_size; /* ops logged */
    uint64_t entities;
    uint64_t devices;  /* enrolled, not revoked */
    uint64_t checkpoints; /* signed checkpoints: one per commit, admin commits included */
    uint64_t webhook_pending; /* webhook deliveries waiting */
} sd_metrics_gauges;

/*
 * Render every metric as Prometheus text.  Returns a malloc'd,
 * NUL-terminated buffer (free with free(); *len gets its length without the
 * NUL), or NULL when out of memory.
 */
char *sd_metrics_render(const sd_metrics_gauges *g, size_t *len);

/*
 * Who may read the metrics.  They count what happens in the register (ops
 * logged, rejected by reason, syncs), so an outsider watching them would see
 * an unannounced plan being made: they are for operators only
 * (docs/security.md).  Without a token (token_hash NULL) a request is served
 * when it comes from a loopback address; with one, when its Authorization
 * header is "Bearer TOKEN" with that token, from wherever it comes (a proxy
 * on the same host makes every request look like loopback, so the token is
 * then required of loopback too).  peer is the connection's address (NULL:
 * unknown, refused); authorization the header's value or NULL.  The token
 * is compared by its SHA-256, with sodium_memcmp.
 */
bool sd_metrics_allowed(const struct sockaddr *peer, const char *authorization,
                        const uint8_t *token_hash);

/*
 * Read the metrics token from path (metrics.token_file): one line of
 * SC_METRICS_TOKEN_MIN to SC_METRICS_TOKEN_MAX printable ASCII characters
 * without spaces, a final newline allowed.  The file must be private: one
 * that group or others may read or write is refused (SC_ERR_FORBIDDEN,
 * "chmod 600").  hash gets its SHA-256; the token itself is wiped.
 */
sc_status sd_metrics_token_load(const char *path, uint8_t hash[SC_HASH_LEN], sc_err *err);

#endif
