/*
 * auth.h: signed requests (docs/protocol.md §3) and replay protection.
 *
 * A request carries the signature headers (device key, time, nonce,
 * signature, and the body's SHA-256); the signature covers
 * "spotcheck-request-v1" 0x00 METHOD "\n" TARGET "\n" TIME "\n" NONCE "\n"
 * hex(SHA-256(body)).  Checking happens in steps so the HTTP side can
 * refuse early, before a body is read:
 *   1. sd_auth_parse (the headers' form, and the time: at most the clock
 *      skew behind now, at most ahead_ms ahead of it, and not before this
 *      process's start boundary), when the
 *      headers arrive; the caller then resolves the device in the register
 *      (enrolled: else 401 unknown_device), which this module leaves to
 *      sync/service.c (sd_service_identify) so it does not depend on the
 *      register; whether the device is revoked or its user disabled is told
 *      only after step 3 (device keys are public);
 *   2. sd_auth_admit: is the device under its share of the replay cache;
 *   3. sd_auth_check: the signature over the body hash, and that the nonce
 *      is not known.  With X-Spotcheck-Body-Sha256 this runs before the body
 *      is read, so nothing but the key's holder gets a byte buffered;
 *   4. sd_auth_record, once the body is complete (and hashes to what was
 *      signed): remember the nonce.  sd_auth_verify is 3 and 4 at once.
 * A nonce is recorded only after its signature verified, so nobody without
 * the device key can fill the cache, or a device's share of it, in the
 * device's name.
 *
 * Replays.  The cache keeps every (device, nonce) seen with a request time
 * in the live window; a replay is refused by the cache while its time is
 * inside the skew, and by the time check afterwards.  Nonces are grouped in
 * epochs of one skew length by request time, and an epoch is dropped whole
 * once no request time in it can pass the time check any more.  The cache
 * lives in memory, so a new process cannot know the nonces an earlier one
 * saw: it refuses every request signed before its start boundary (its
 * start time plus ahead_ms, past the latest time an earlier process could
 * have accepted), with REASON_REQUEST_TIME, and clients sign again with a
 * time at or after it (docs/design-changes.md says why this and not a
 * nonce table on disk).
 *
 * Shares.  One device may have at most device_nonces_max nonces remembered
 * (REASON_RATE_LIMITED, 429, beyond), so a flooding device is refused
 * alone.  All devices together are held to nonces_max; once that is
 * reached a device with more than device_reserve nonces gets
 * REASON_OVERLOADED (503) and a quieter one still gets in, so memory stays
 * under nonces_max + devices x device_reserve.
 *
 * Errors set err->reason: REASON_BAD_SIGNATURE (401; the message names the
 * check), REASON_NONCE_USED (401; a nonce the device used inside the
 * window), REASON_REQUEST_TIME (401; sd_auth_not_before and the server time
 * tell the client what to sign with), REASON_RATE_LIMITED (429) or
 * REASON_OVERLOADED (503), the last two with the milliseconds after which
 * a retry can succeed.
 *
 * Threads: an sd_auth is safe to use from any number of threads.
 */
#ifndef SD_AUTH_H
#define SD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/env.h"
#include "core/limits.h"
#include "core/status.h"

typedef struct sd_auth sd_auth;

/* The longest request target signed (path and query). */
#define SD_AUTH_TARGET_MAX 8192

#define SD_HDR_DEVICE "X-Spotcheck-Device"
#define SD_HDR_TIME "X-Spotcheck-Time"
#define SD_HDR_NONCE "X-Spotcheck-Nonce"
#define SD_HDR_SIGNATURE "X-Spotcheck-Signature"
#define SD_HDR_BODY_HASH "X-Spotcheck-Body-Sha256"

/* What an sd_auth enforces.  Zero counts take the defaults of core/limits.h. */
typedef struct sd_auth_limits {
    int64_t skew_ms;          /* clock.skew_ms: how far behind the server clock a time may be; > 0 */
    int64_t ahead_ms;         /* how far ahead (0: SC_REQUEST_AHEAD_MS); at most skew_ms */
    int64_t start_ms;         /* wall clock (ms) when this process took the data directory */
    size_t nonces_max;        /* nonces remembered, all devices */
    size_t device_nonces_max; /* nonces remembered for one device */
    size_t device_reserve;    /* what every device may still have when the cache is full */
} sd_auth_limits;

/*
 * A new checker.  env (borrowed, must outlive it) supplies the scratch
 * memory of signature checks; the cache's hash key is random.
 * SC_ERR_INVALID_ARG for a skew <= 0.
 */
sc_status sd_auth_new(const sc_env *env, const sd_auth_limits *lim, sd_auth **out);
/* Free; NULL is a no-op. */
void sd_auth_free(sd_auth *a);

/* The earliest request time this process accepts: start_ms + ahead_ms. */
int64_t sd_auth_not_before(const sd_auth *a);

/* The headers as received; NULL when absent.  Borrowed. */
typedef struct sd_auth_headers {
    const char *device;
    const char *time;
    const char *nonce;
    const char *signature;
    const char *body_hash;       /* optional */
    const char *user_agent;      /* optional, not signed: the client's app and library versions */
} sd_auth_headers;

/* A parsed request identity. */
typedef struct sd_auth_req {
    uint8_t device[SC_KEY_LEN];
    int64_t time_ms;             /* the signed time, Unix ms */
    char time_text[24];          /* the header as sent: it is what was signed */
    uint8_t nonce[16];
    char nonce_hex[33];
    uint8_t sig[SC_SIG_LEN];
    bool has_body_hash;          /* X-Spotcheck-Body-Sha256 was sent */
    uint8_t body_hash[SC_HASH_LEN];
    char agent[SC_AGENT_MAX + 1]; /* User-Agent, cut to SC_AGENT_MAX, non-printable bytes as '?';
                                     empty when none was sent */
} sd_auth_req;

/*
 * Check the headers' form (REASON_BAD_SIGNATURE), that the time is inside
 * the window around now_ms and not before sd_auth_not_before
 * (REASON_REQUEST_TIME).  The User-Agent is kept as out->agent, made safe
 * to show; it is informational and never refused.
 */
sc_status sd_auth_parse(const sd_auth *a, const sd_auth_headers *h, int64_t now_ms,
                        sd_auth_req *out, sc_err *err);

/*
 * Whether the device may have one more nonce remembered now (nothing is
 * recorded).  SC_ERR_UNAVAILABLE with REASON_RATE_LIMITED or
 * REASON_OVERLOADED and *retry_ms (may be NULL) when not.
 */
sc_status sd_auth_admit(sd_auth *a, const sd_auth_req *req, int64_t now_ms, int64_t *retry_ms,
                        sc_err *err);

/*
 * Verify the signature over method, target (target_len bytes, exactly as
 * sent) and body_hash, and that the device has not used the nonce inside
 * the window (REASON_BAD_SIGNATURE, REASON_NONCE_USED).  Records nothing.
 */
sc_status sd_auth_check(sd_auth *a, const sd_auth_req *req, const char *method, const char *target,
                        size_t target_len, const uint8_t body_hash[SC_HASH_LEN], int64_t now_ms,
                        sc_err *err);

/*
 * Remember the nonce of a request whose signature verified: a nonce the
 * device already used inside the window is a replay (REASON_NONCE_USED);
 * a device over its share is refused as sd_auth_admit says.
 */
sc_status sd_auth_record(sd_auth *a, const sd_auth_req *req, int64_t now_ms, int64_t *retry_ms,
                         sc_err *err);

/*
 * Share the replay cache with other processes (several syncd on one
 * PostgreSQL register, each with a cache of its own in memory): once this
 * process's cache took a nonce, sd_auth_record asks claim (ctx borrowed)
 * whether any process took it before; *fresh false is a replay
 * (REASON_NONCE_USED), a claim that fails refuses the request with
 * REASON_OVERLOADED and a retry.  Set it before any request is served.
 */
typedef sc_status (*sd_auth_claim_fn)(void *ctx, const uint8_t device[SC_KEY_LEN],
                                      const uint8_t nonce[16], int64_t time_ms, bool *fresh,
                                      sc_err *err);
void sd_auth_set_shared(sd_auth *a, sd_auth_claim_fn claim, void *ctx);

/* sd_auth_check, then sd_auth_record. */
sc_status sd_auth_verify(sd_auth *a, const sd_auth_req *req, const char *method, const char *target,
                         size_t target_len, const uint8_t body_hash[SC_HASH_LEN], int64_t now_ms,
                         int64_t *retry_ms, sc_err *err);

/*
 * The signed bytes after the domain: METHOD "\n" TARGET "\n" TIME "\n" NONCE
 * "\n" BODYHASH.  Writes into out (cap bytes); returns the length, or 0 when
 * it does not fit.  Exposed for tests and for clients written in C.
 */
size_t sd_auth_canonical(const char *method, const char *target, size_t target_len,
                         const char *time_text, const char *nonce_hex,
                         const uint8_t body_hash[SC_HASH_LEN], uint8_t *out, size_t cap);

/* Remembered nonces now, all devices (tests and metrics). */
size_t sd_auth_nonce_count(sd_auth *a);
/* Remembered nonces of one device now, as its share counts them (tests). */
size_t sd_auth_device_count(sd_auth *a, const uint8_t device[SC_KEY_LEN], int64_t now_ms);

#endif
