/*
 * config.h: syncd's settings, their defaults, and loading them from a
 * `key = value` file (deploy/syncd.conf.example documents every key) and
 * from command-line overrides.  Every limit the server enforces lives here;
 * the defaults come from core/limits.h.
 */
#ifndef SD_CONFIG_H
#define SD_CONFIG_H

#include <stdint.h>

#include "base/netaddr.h"
#include "core/limits.h"
#include "core/status.h"

#define SD_PATH_MAX 4096

/* Events a webhook may be sent (notify.hook.NAME.events); docs/operations.md, "Webhooks". */
typedef enum sd_event_kind {
    SD_EVENT_MAJOR = 1u << 0,      /* finding.major_hazard */
    SD_EVENT_OVERDUE = 1u << 1,    /* finding.overdue */
    SD_EVENT_ESCALATION = 1u << 2, /* finding.escalated */
    SD_EVENT_CLOSED = 1u << 3,     /* finding.closed */
    SD_EVENT_CONFLICT = 1u << 4,   /* conflict.raised */
    SD_EVENT_ALL_ = (1u << 5) - 1,
} sd_event_kind;

/* The name of one event kind (a single bit), e.g. "finding.overdue"; NULL when unknown. */
const char *sd_event_name(unsigned kind);

/* One webhook (notify.hook.NAME.*): where events go and the secret that signs them. */
typedef struct sd_hook {
    char name[SC_NOTIFY_HOOK_NAME_MAX + 1];
    char url[SC_NOTIFY_URL_MAX + 1];          /* http:// or https:// */
    char secret_file[SD_PATH_MAX];            /* private file, like metrics.token_file */
    unsigned events;                          /* sd_event_kind bits; default all */
} sd_hook;

typedef struct sd_config {
    char data_dir[SD_PATH_MAX];   /* `--data` */
    char listen_host[256];        /* `listen` host part, default 127.0.0.1 */
    uint16_t listen_port;         /* 0 picks a free port */
    unsigned threads;             /* HTTP worker threads (`http.threads`) */
    unsigned connection_limit;    /* open connections at once (`http.connection_limit`) */
    unsigned connection_timeout_s;/* idle connection timeout (`http.connection_timeout_s`) */
    unsigned connections_per_address; /* open connections from one address, 0: no limit (`http.connections_per_address`) */
    unsigned request_timeout_s;   /* headers and body of one request, however slow (`http.request_timeout_s`) */
    uint64_t body_inflight_max;   /* bytes of request bodies held at once (`http.body_inflight_max`) */
    uint64_t body_inflight_device_max; /* bytes one device's bodies may hold (`http.body_inflight_device_max`) */
    uint64_t body_inflight_unverified_max; /* bytes of unsigned bodies (`http.body_inflight_unverified_max`) */
    uint64_t nonces_max;          /* nonces remembered, all devices (`auth.nonces_max`) */
    uint64_t device_nonces_max;   /* nonces remembered for one device (`auth.device_nonces_max`) */
    uint64_t sync_body_max;       /* bytes (`sync.body_max`) */
    uint32_t batch_max;           /* ops per sync request (`sync.batch_max`) */
    uint32_t pull_max;            /* ops per pull (`sync.pull_max`) */
    uint32_t commit_max_ops;      /* ops per group commit (`sync.commit_max_ops`) */
    uint64_t blob_max;            /* bytes (`blobs.max_size`) */
    uint64_t blob_chunk_max;      /* bytes (`blobs.chunk_max`) */
    uint32_t blob_partial_count;  /* uploads in progress per device (`blobs.partial_max_count`) */
    uint64_t blob_partial_bytes;  /* their sizes, bytes per device (`blobs.partial_max_bytes`) */
    uint64_t blob_partial_age_s;  /* `blobs.partial_max_age_s` */
    uint32_t blob_unref_count; /* photos no op names, per device (`blobs.unreferenced_max_count`) */
    uint64_t blob_unref_bytes; /* their sizes, bytes per device (`blobs.unreferenced_max_bytes`) */
    uint64_t blob_unref_age_s; /* `blobs.unreferenced_max_age_s` */
    unsigned blob_sweep_s;     /* seconds between sweeps (`blobs.sweep_interval_s`) */
    int64_t clock_skew_ms;        /* `clock.skew_ms` */
    int log_level;                /* 0 error, 1 warn, 2 info, 3 debug (`log.level`) */
    char metrics_token_file[SD_PATH_MAX]; /* `metrics.token_file`; "" serves /metrics to loopback
                                             only */
    sd_netaddr trusted_proxies[SC_TRUSTED_PROXIES_MAX]; /* `http.trusted_proxies`: whose
                                             X-Forwarded-For names a request's client in the log */
    unsigned n_trusted_proxies; /* entries in trusted_proxies; 0: none, the peer is the client */
    sd_hook hooks[SC_NOTIFY_HOOKS_MAX]; /* notify.hook.NAME.{url,secret_file,events} */
    unsigned n_hooks;
    uint64_t notify_queue_max;    /* pending deliveries (`notify.queue_max`) */
    uint32_t notify_attempts;     /* attempts before a delivery is dead (`notify.max_attempts`) */
    uint64_t notify_retry_base_ms;/* first retry delay, doubled each time (`notify.retry_base_ms`) */
    uint64_t notify_retry_max_s;  /* the longest delay (`notify.retry_max_s`) */
    unsigned notify_timeout_s;    /* one delivery's whole HTTP exchange (`notify.timeout_s`) */
    unsigned notify_scan_s;       /* seconds between overdue scans (`notify.scan_interval_s`) */
} sd_config;

/* Fill with the defaults (data_dir empty, listen 127.0.0.1:8080). */
void sd_config_defaults(sd_config *c);

/* Set one key from text; SC_ERR_INVALID_ARG with a message naming the key and the accepted range. */
sc_status sd_config_set(sd_config *c, const char *key, const char *value, sc_err *err);

/* Apply a `key = value` file ('#' starts a comment).  Unknown keys are errors, naming the line. */
sc_status sd_config_load(sd_config *c, const char *path, sc_err *err);

/*
 * Check the settings against each other, once all are applied: a photo of
 * blobs.max_size must fit the per-device upload quota, a device's share of
 * body memory must hold one full sync body, and so on.  SC_ERR_INVALID_ARG
 * naming the keys.
 */
sc_status sd_config_check(const sd_config *c, sc_err *err);

/* Parse "HOST:PORT" into listen_host and listen_port. */
sc_status sd_config_set_listen(sd_config *c, const char *hostport, sc_err *err);

#endif
