/*
 * auth.h: signed requests (docs/protocol.md §3).
 *
 * A request carries four headers (device key, time, nonce, signature); the
 * signature covers "spotcheck-request-v1" 0x00 METHOD "\n" TARGET "\n" TIME
 * "\n" NONCE "\n" hex(SHA-256(body)).  Checking happens in two steps so the
 * HTTP side can refuse early, before a body is read:
 *   1. sd_auth_parse (headers' form and the time window), when the headers
 *      arrive; the caller then resolves the device in the register
 *      (enrolled: else 401 unknown_device; not revoked: else 403
 *      device_revoked), which this module leaves to http.c so it does not
 *      depend on the register;
 *   2. sd_auth_verify (the signature over the body hash, then the nonce
 *      replay check), when the body is complete.
 * A nonce is recorded only after its signature verified, so nobody without
 * the device key can fill the cache in a device's name.
 *
 * The replay cache keeps every (device, nonce) seen with a request time in
 * the live window; a replay of a request is refused by the cache while its
 * time is still inside the skew, and by the time check afterwards.  Memory
 * is bounded: entries are grouped in epochs of one skew length by request
 * time, and an epoch is dropped whole once no request time in it can pass
 * the time check any more (at most twice the skew after it was seen).  When
 * the cap is reached inside the window the request is refused with
 * SC_ERR_UNAVAILABLE (503), never by growing without bound.
 *
 * Errors set err->reason: REASON_BAD_SIGNATURE (401; the message names the
 * check) or REASON_STORAGE (503: the replay cache is full).
 *
 * Threads: an sd_auth is safe to use from any number of threads.
 */
#ifndef SD_AUTH_H
#define SD_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/env.h"
#include "core/limits.h"
#include "core/status.h"

typedef struct sd_auth sd_auth;

/* Default cap on remembered nonces: 16 bytes a slot at 3/4 load or less, 43 MiB of tables at worst. */
#define SD_AUTH_NONCES_MAX ((size_t)1 << 20)
/* The longest request target signed (path and query). */
#define SD_AUTH_TARGET_MAX 8192

#define SD_HDR_DEVICE "X-Spotcheck-Device"
#define SD_HDR_TIME "X-Spotcheck-Time"
#define SD_HDR_NONCE "X-Spotcheck-Nonce"
#define SD_HDR_SIGNATURE "X-Spotcheck-Signature"

/*
 * A new checker.  env (borrowed, must outlive it) supplies the scratch
 * memory of signature checks and the random key of the cache's hash;
 * skew_ms is clock.skew_ms; max_nonces caps the cache (0: the default).
 */
sc_status sd_auth_new(const sc_env *env, int64_t skew_ms, size_t max_nonces, sd_auth **out);
/* Free; NULL is a no-op. */
void sd_auth_free(sd_auth *a);

/* The four headers as received; NULL when absent.  Borrowed. */
typedef struct sd_auth_headers {
    const char *device;
    const char *time;
    const char *nonce;
    const char *signature;
} sd_auth_headers;

/* A parsed request identity. */
typedef struct sd_auth_req {
    uint8_t device[SC_KEY_LEN];
    int64_t time_ms;             /* the device's clock, Unix ms */
    char time_text[24];          /* the header as sent: it is what was signed */
    uint8_t nonce[16];
    char nonce_hex[33];
    uint8_t sig[SC_SIG_LEN];
} sd_auth_req;

/* Check the headers' form and that time is within the skew of now_ms. */
sc_status sd_auth_parse(const sd_auth *a, const sd_auth_headers *h, int64_t now_ms,
                        sd_auth_req *out, sc_err *err);

/*
 * Verify the signature over method, target (target_len bytes, exactly as
 * sent) and the body's SHA-256, then record the nonce; a nonce this device
 * already used inside the window is a replay (REASON_BAD_SIGNATURE).
 */
sc_status sd_auth_verify(sd_auth *a, const sd_auth_req *req, const char *method, const char *target,
                         size_t target_len, const uint8_t body_hash[SC_HASH_LEN], int64_t now_ms,
                         sc_err *err);

/*
 * The signed bytes after the domain: METHOD "\n" TARGET "\n" TIME "\n" NONCE
 * "\n" BODYHASH.  Writes into out (cap bytes); returns the length, or 0 when
 * it does not fit.  Exposed for tests and for clients written in C.
 */
size_t sd_auth_canonical(const char *method, const char *target, size_t target_len,
                         const char *time_text, const char *nonce_hex,
                         const uint8_t body_hash[SC_HASH_LEN], uint8_t *out, size_t cap);

/* Remembered nonces now (tests and metrics). */
size_t sd_auth_nonce_count(sd_auth *a);

#endif
