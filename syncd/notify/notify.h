/*
 * notify.h: delivering webhooks (docs/operations.md, "Webhooks").  The
 * register queues events in its store (register_notify.c) in the
 * transactions that commit their ops; this module delivers them, each hook
 * on a thread of its own: the thread claims its hook's earliest due
 * delivery, POSTs it to the hook's URL with libcurl, signed with the
 * hook's secret, and records the outcome: delivered on a 2xx answer, else
 * retried after an exponential backoff with jitter until
 * notify.max_attempts, then dead.  A receiver that is down, slow or hangs
 * holds only its own hook's thread, for notify.timeout_s per attempt at
 * most, and delays no other hook's deliveries and no sync.  One more
 * thread runs the overdue scan every notify.scan_interval_s, which also
 * sets the findings' gauges in /metrics, and marks dead the deliveries of
 * hooks no longer configured.
 */
#ifndef SD_NOTIFY_H
#define SD_NOTIFY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "core/status.h"
#include "register/register.h"

/* "t=SECONDS,v1=" and 64 hex digits. */
#define SD_NOTIFY_SIG_MAX 96

/*
 * The X-Spotcheck-Signature header's value for body sent at t_s (Unix
 * seconds): "t=T,v1=HEX", HEX the HMAC-SHA256 under the hook's secret of
 * the decimal T, a '.', and the body's bytes.
 */
void sd_notify_sign(const char *secret, size_t secret_len, int64_t t_s, const char *body,
                    size_t body_len, char out[SD_NOTIFY_SIG_MAX]);

/*
 * The wait before attempt `failed` + 1, after `failed` (>= 1) failures:
 * notify.retry_base_ms doubled each failure, at most notify.retry_max_s,
 * of which a random half (r: any 32 random bits) is jitter, so that
 * deliveries that failed together do not come back together.
 */
int64_t sd_notify_backoff_ms(const sd_config *cfg, uint32_t failed, uint32_t r);

/* The outcome of one attempt. */
typedef struct sd_notify_try {
    bool delivered;                      /* the receiver answered 2xx */
    bool stopped;                        /* given up because syncd stops: no attempt to count */
    int code;                            /* its HTTP status; 0: no answer */
    char error[SC_NOTIFY_ERROR_MAX + 1]; /* why not, when not delivered */
} sd_notify_try;

/* One hook, ready to send: its URL and its secret. */
typedef struct sd_notify_hook {
    const sd_hook *cfg;
    char secret[SC_NOTIFY_SECRET_MAX + 4];
    size_t secret_len;
    const atomic_bool *stop; /* borrowed; true: give up an attempt in flight; NULL: never */
} sd_notify_hook;

/*
 * POST row's body to h once: redirects are not followed (a 3xx is a
 * failure), only http and https are spoken, the whole exchange takes at
 * most timeout_s.  When *h->stop becomes true the exchange is given up
 * within about a second (out->stopped).
 */
void sd_notify_post(const sd_notify_hook *h, const sd_notify_row *row, int64_t now_ms,
                    unsigned timeout_s, sd_notify_try *out);

/* Load each hook's secret (SC_ERR_FORBIDDEN, ... naming the file). */
sc_status sd_notify_hook_load(const sd_hook *cfg, sd_notify_hook *out, sc_err *err);

typedef struct sd_notify sd_notify;

/*
 * Load the hooks' secrets and start the threads: one per configured hook,
 * and the scan's, which runs even with no hook configured (the overdue scan
 * keeps the findings' gauges).
 */
sc_status sd_notify_start(sd_register *reg, const sd_config *cfg, sd_notify **out, sc_err *err);
/*
 * Stop every thread and free; NULL is a no-op.  Attempts in flight are
 * given up (within about a second) and not recorded: their deliveries are
 * claimed again when their leases end, by this syncd restarted or another.
 */
void sd_notify_stop(sd_notify *n);

#endif
