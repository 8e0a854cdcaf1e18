/*
 * auth.c: request signatures and the nonce replay cache (see auth.h).
 *
 * The cache is split into shards, each behind its own mutex, chosen by a
 * keyed SipHash of the device key, so that one device's nonces and its
 * share live under one lock and no client can aim entries at a shard of
 * its choice.  A shard keeps one set per epoch (request time divided by
 * the skew) in a ring of four: the epochs of the live window are now-1, now
 * and now+1, so a set whose epoch falls outside them is stale and is
 * emptied before reuse.  Each set holds the nonces (keyed SipHash of device
 * and nonce) and, beside them, how many nonces each device has in it: a
 * device's share is the sum over the live sets, and it drops with them, so
 * nothing is ever deleted one by one (linear probing, no tombstones).
 */
#include "auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/keys.h"
#include "core/reason.h"

#define SHARDS 16
#define RING 4
#define SET_MIN_SLOTS 64
#define DEV_MIN_SLOTS 8

typedef struct key128 {
    uint8_t b[16]; /* SipHash-2-4 (128-bit) under the cache's secret key; all-zero: an empty slot */
} key128;

typedef struct dev_slot {
    key128 k;       /* SipHash of the device key */
    uint32_t count; /* its nonces in this set */
} dev_slot;

typedef struct epoch_set {
    int64_t epoch;    /* request-time epoch held; meaningless when count == 0 */
    key128 *slot;     /* nonces; slots is a power of two, 0 when unallocated */
    size_t slots, count;
    dev_slot *dev;    /* devices with nonces here; dev_slots a power of two */
    size_t dev_slots, devs;
} epoch_set;

typedef struct shard {
    pthread_mutex_t mu;
    epoch_set set[RING];
    size_t count; /* nonces over all sets */
} shard;

struct sd_auth {
    const sc_env *env; /* borrowed */
    int64_t skew_ms, ahead_ms;
    int64_t not_before_ms;
    size_t max, device_max, reserve;
    atomic_size_t total; /* nonces over all shards */
    uint8_t sip_key[crypto_shorthash_siphashx24_KEYBYTES];
    shard shards[SHARDS];
    sd_auth_claim_fn claim; /* the cache shared with other processes; NULL: none */
    void *claim_ctx;
};

sc_status sd_auth_new(const sc_env *env, const sd_auth_limits *lim, sd_auth **out)
{
    *out = NULL;
    int64_t ahead = lim->ahead_ms ? lim->ahead_ms : SC_REQUEST_AHEAD_MS;
    if (lim->skew_ms <= 0 || ahead < 0 || ahead > lim->skew_ms)
        return SC_ERR_INVALID_ARG;
    if (sodium_init() < 0)
        return SC_ERR_CRYPTO;
    sd_auth *a = calloc(1, sizeof *a);
    if (!a)
        return SC_ERR_NOMEM;
    a->env = env;
    a->skew_ms = lim->skew_ms;
    a->ahead_ms = ahead;
    a->not_before_ms = lim->start_ms + ahead;
    a->max = lim->nonces_max ? lim->nonces_max : SC_AUTH_NONCES_DEFAULT;
    a->device_max = lim->device_nonces_max ? lim->device_nonces_max : SC_AUTH_DEVICE_NONCES_DEFAULT;
    a->reserve = lim->device_reserve ? lim->device_reserve : SC_AUTH_DEVICE_RESERVE;
    if (a->reserve > a->device_max)
        a->reserve = a->device_max;
    atomic_init(&a->total, 0);
    randombytes_buf(a->sip_key, sizeof a->sip_key);
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&a->shards[i].mu, NULL);
    *out = a;
    return SC_OK;
}

static void set_free(epoch_set *s)
{
    free(s->slot);
    free(s->dev);
    memset(s, 0, sizeof *s);
}

void sd_auth_free(sd_auth *a)
{
    if (!a)
        return;
    for (int i = 0; i < SHARDS; i++) {
        for (int j = 0; j < RING; j++)
            set_free(&a->shards[i].set[j]);
        pthread_mutex_destroy(&a->shards[i].mu);
    }
    sodium_memzero(a->sip_key, sizeof a->sip_key);
    free(a);
}

int64_t sd_auth_not_before(const sd_auth *a)
{
    return a->not_before_ms;
}

/* Decode exactly 2*n lowercase hex digits; false on any other byte or length. */
static bool lowhex(const char *s, uint8_t *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return false;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0)
            return false;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return true;
}

/* The signed time: 1-18 decimal digits (inside int64 without overflow checks; ms times have 13). */
static bool parse_time(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n < 1 || n > 18)
        return false;
    int64_t t = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        t = t * 10 + (s[i] - '0');
    }
    *out = t;
    return true;
}

/* The time check: inside the window around now, and not before this process's start boundary. */
static sc_status check_time(const sd_auth *a, int64_t t, int64_t now_ms, sc_err *err)
{
    int64_t diff = t - now_ms;
    if (diff > a->ahead_ms || diff < -a->skew_ms)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_REQUEST_TIME,
                          "request time is %lld ms %s the server clock (at most %lld ms); "
                          "sign again with the server's time",
                          (long long)(diff < 0 ? -diff : diff), diff < 0 ? "behind" : "ahead of",
                          (long long)(diff < 0 ? a->skew_ms : a->ahead_ms));
    if (t < a->not_before_ms)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_REQUEST_TIME,
                          "request signed at %lld, before this server's start boundary %lld "
                          "(it cannot know the nonces used before it started); sign again with "
                          "a time at or after it",
                          (long long)t, (long long)a->not_before_ms);
    return SC_OK;
}

/*
 * The User-Agent as an admin may see it: at most SC_AGENT_MAX bytes, and
 * every byte that is not printable ASCII shown as '?', so no control
 * sequence a device sends reaches a terminal.
 */
static void agent_copy(const char *ua, char out[SC_AGENT_MAX + 1])
{
    size_t n = 0;
    for (; ua && ua[n] && n < SC_AGENT_MAX; n++)
        out[n] = ua[n] >= 0x20 && ua[n] < 0x7f ? ua[n] : '?';
    out[n] = '\0';
}

sc_status sd_auth_parse(const sd_auth *a, const sd_auth_headers *h, int64_t now_ms,
                        sd_auth_req *out, sc_err *err)
{
    memset(out, 0, sizeof *out);
    if (!h->device || !h->time || !h->nonce || !h->signature)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_BAD_SIGNATURE, "missing header %s",
                          !h->device  ? SD_HDR_DEVICE
                          : !h->time  ? SD_HDR_TIME
                          : !h->nonce ? SD_HDR_NONCE
                                      : SD_HDR_SIGNATURE);
    if (!lowhex(h->device, out->device, sizeof out->device))
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_BAD_SIGNATURE,
                          "%s is not 64 lowercase hex digits", SD_HDR_DEVICE);
    if (!lowhex(h->nonce, out->nonce, sizeof out->nonce))
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_BAD_SIGNATURE,
                          "%s is not 32 lowercase hex digits", SD_HDR_NONCE);
    if (!lowhex(h->signature, out->sig, sizeof out->sig))
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_BAD_SIGNATURE,
                          "%s is not 128 lowercase hex digits", SD_HDR_SIGNATURE);
    if (h->body_hash) {
        if (!lowhex(h->body_hash, out->body_hash, sizeof out->body_hash))
            return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_BAD_SIGNATURE,
                              "%s is not 64 lowercase hex digits", SD_HDR_BODY_HASH);
        out->has_body_hash = true;
    }
    int64_t t = 0;
    if (!parse_time(h->time, &t))
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_BAD_SIGNATURE,
                          "%s is not a decimal Unix time in ms", SD_HDR_TIME);
    sc_status rc = check_time(a, t, now_ms, err);
    if (rc != SC_OK)
        return rc;
    out->time_ms = t;
    memcpy(out->time_text, h->time, strlen(h->time) + 1);
    memcpy(out->nonce_hex, h->nonce, 33);
    agent_copy(h->user_agent, out->agent);
    sc_err_clear(err);
    return SC_OK;
}

size_t sd_auth_canonical(const char *method, const char *target, size_t target_len,
                         const char *time_text, const char *nonce_hex,
                         const uint8_t body_hash[SC_HASH_LEN], uint8_t *out, size_t cap)
{
    char hash_hex[SC_HASH_HEX];
    size_t ml = strlen(method), tl = strlen(time_text), nl = strlen(nonce_hex);
    size_t need = ml + 1 + target_len + 1 + tl + 1 + nl + 1 + 2 * SC_HASH_LEN;
    if (need > cap || sc_hex_encode(body_hash, SC_HASH_LEN, hash_hex, sizeof hash_hex) != SC_OK)
        return 0;
    size_t o = 0;
#define PUT_(p, n)                                                                                 \
    do {                                                                                           \
        memcpy(out + o, (p), (n));                                                                 \
        o += (n);                                                                                  \
    } while (0)
    PUT_(method, ml);
    PUT_("\n", 1);
    PUT_(target, target_len);
    PUT_("\n", 1);
    PUT_(time_text, tl);
    PUT_("\n", 1);
    PUT_(nonce_hex, nl);
    PUT_("\n", 1);
    PUT_(hash_hex, 2 * SC_HASH_LEN);
#undef PUT_
    return o;
}

/* ---- the cache ---- */

static bool key_zero(const key128 *k)
{
    static const key128 zero;
    return memcmp(k, &zero, sizeof zero) == 0;
}

static size_t key_home(const key128 *k, size_t slots)
{
    uint64_t v;
    memcpy(&v, k->b, sizeof v);
    return (size_t)(v >> 4) & (slots - 1);
}

static void key_make(const sd_auth *a, const uint8_t *in, size_t n, key128 *k)
{
    crypto_shorthash_siphashx24(k->b, in, n, a->sip_key);
    if (key_zero(k))
        k->b[0] = 1; /* all-zero marks an empty slot; a 2^-128 event costs nothing to avoid */
}

/* The nonce's slot in s, or the empty slot where it would go; NULL when s has no table. */
static key128 *nonce_slot(const epoch_set *s, const key128 *k)
{
    if (s->slots == 0)
        return NULL;
    size_t mask = s->slots - 1;
    for (size_t i = key_home(k, s->slots);; i = (i + 1) & mask)
        if (key_zero(&s->slot[i]) || memcmp(&s->slot[i], k, sizeof *k) == 0)
            return &s->slot[i];
}

/* The device's slot in s, or the empty slot where it would go; NULL when s has no table. */
static dev_slot *dev_find(const epoch_set *s, const key128 *k)
{
    if (s->dev_slots == 0)
        return NULL;
    size_t mask = s->dev_slots - 1;
    for (size_t i = key_home(k, s->dev_slots);; i = (i + 1) & mask)
        if (key_zero(&s->dev[i].k) || memcmp(&s->dev[i].k, k, sizeof *k) == 0)
            return &s->dev[i];
}

/* Next table size keeping the load at most 3/4 with one more entry; 0 when it fits already. */
static size_t grow_to(size_t slots, size_t count, size_t min)
{
    if (slots && (count + 1) * 4 <= slots * 3)
        return 0;
    return slots ? slots * 2 : min;
}

/* Room for one more nonce and one more device in s.  False when out of memory. */
static bool set_reserve(epoch_set *s)
{
    size_t n = grow_to(s->slots, s->count, SET_MIN_SLOTS);
    if (n) {
        key128 *t = n <= SIZE_MAX / sizeof *t ? calloc(n, sizeof *t) : NULL;
        if (!t)
            return false;
        epoch_set bigger = {.slot = t, .slots = n};
        for (size_t i = 0; i < s->slots; i++)
            if (!key_zero(&s->slot[i]))
                *nonce_slot(&bigger, &s->slot[i]) = s->slot[i];
        free(s->slot);
        s->slot = t;
        s->slots = n;
    }
    n = grow_to(s->dev_slots, s->devs, DEV_MIN_SLOTS);
    if (n) {
        dev_slot *t = n <= SIZE_MAX / sizeof *t ? calloc(n, sizeof *t) : NULL;
        if (!t)
            return false;
        epoch_set bigger = {.dev = t, .dev_slots = n};
        for (size_t i = 0; i < s->dev_slots; i++)
            if (!key_zero(&s->dev[i].k))
                *dev_find(&bigger, &s->dev[i].k) = s->dev[i];
        free(s->dev);
        s->dev = t;
        s->dev_slots = n;
    }
    return true;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Drop the sets no request time of which can pass the time check at now_epoch. */
static void shard_expire(sd_auth *a, shard *sh, int64_t now_epoch)
{
    for (int i = 0; i < RING; i++) {
        epoch_set *s = &sh->set[i];
        if (s->count && (s->epoch < now_epoch - 1 || s->epoch > now_epoch + 1)) {
            sh->count -= s->count;
            atomic_fetch_sub(&a->total, s->count);
            set_free(s);
        }
    }
}

/* The device's nonces over the live sets of sh, and the oldest epoch holding any. */
static size_t dev_window(const shard *sh, const key128 *dk, int64_t *oldest)
{
    size_t n = 0;
    for (int i = 0; i < RING; i++) {
        const epoch_set *s = &sh->set[i];
        const dev_slot *d = s->count ? dev_find(s, dk) : NULL;
        if (d && !key_zero(&d->k)) {
            if (n == 0 || s->epoch < *oldest)
                *oldest = s->epoch;
            n += d->count;
        }
    }
    return n;
}

/* Whether the cache is over its cap once every shard dropped its stale sets. */
static bool cache_full(sd_auth *a, int64_t now_epoch)
{
    if (atomic_load(&a->total) < a->max)
        return false;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&a->shards[i].mu);
        shard_expire(a, &a->shards[i], now_epoch);
        pthread_mutex_unlock(&a->shards[i].mu);
    }
    return atomic_load(&a->total) >= a->max;
}

/* The device's shard and key. */
static shard *dev_shard(sd_auth *a, const uint8_t device[SC_KEY_LEN], key128 *dk)
{
    key_make(a, device, SC_KEY_LEN, dk);
    return &a->shards[dk->b[15] % SHARDS];
}

/* Under sh->mu: refuse a device over its share (full: the cache is over its cap). */
static sc_status share_check(const sd_auth *a, const shard *sh, const key128 *dk, bool full,
                             int64_t now_ms, int64_t *retry_ms, sc_err *err)
{
    int64_t oldest = 0;
    size_t mine = dev_window(sh, dk, &oldest);
    int64_t now_epoch = floor_div(now_ms, a->skew_ms);
    if (mine >= a->device_max) {
        /* Its oldest set goes when the clock reaches two epochs past it. */
        int64_t wait = (oldest + 2) * a->skew_ms - now_ms;
        if (retry_ms)
            *retry_ms = wait > 0 ? wait : 1000;
        return sc_err_set(err, SC_ERR_UNAVAILABLE, SC_REASON_RATE_LIMITED,
                          "this device signed %zu requests within the replay window, its "
                          "share is %zu (auth.device_nonces_max); retry in %lld s",
                          mine, a->device_max, (long long)((wait + 999) / 1000));
    }
    if (full && mine >= a->reserve) {
        int64_t wait = (now_epoch + 1) * a->skew_ms - now_ms;
        if (retry_ms)
            *retry_ms = wait > 0 ? wait : 1000;
        return sc_err_set(err, SC_ERR_UNAVAILABLE, SC_REASON_OVERLOADED,
                          "the replay cache is full (%zu nonces, auth.nonces_max) and this "
                          "device already has %zu in it; retry in %lld s",
                          a->max, mine, (long long)((wait + 999) / 1000));
    }
    return SC_OK;
}

sc_status sd_auth_admit(sd_auth *a, const sd_auth_req *req, int64_t now_ms, int64_t *retry_ms,
                        sc_err *err)
{
    int64_t now_epoch = floor_div(now_ms, a->skew_ms);
    bool full = cache_full(a, now_epoch);
    key128 dk;
    shard *sh = dev_shard(a, req->device, &dk);
    pthread_mutex_lock(&sh->mu);
    shard_expire(a, sh, now_epoch);
    sc_status rc = share_check(a, sh, &dk, full, now_ms, retry_ms, err);
    pthread_mutex_unlock(&sh->mu);
    return rc;
}

static void nonce_key(const sd_auth *a, const sd_auth_req *req, key128 *k)
{
    uint8_t in[SC_KEY_LEN + sizeof req->nonce];
    memcpy(in, req->device, SC_KEY_LEN);
    memcpy(in + SC_KEY_LEN, req->nonce, sizeof req->nonce);
    key_make(a, in, sizeof in, k);
}

/* Under sh->mu: whether a live set holds k. */
static bool nonce_seen(const shard *sh, const key128 *k)
{
    for (int i = 0; i < RING; i++) {
        const key128 *slot = sh->set[i].count ? nonce_slot(&sh->set[i], k) : NULL;
        if (slot && !key_zero(slot))
            return true;
    }
    return false;
}

sc_status sd_auth_check(sd_auth *a, const sd_auth_req *req, const char *method, const char *target,
                        size_t target_len, const uint8_t body_hash[SC_HASH_LEN], int64_t now_ms,
                        sc_err *err)
{
    if (target_len > SD_AUTH_TARGET_MAX)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_BAD_SIGNATURE,
                          "request target longer than %d bytes", SD_AUTH_TARGET_MAX);
    size_t cap = strlen(method) + target_len + 24 + 33 + 2 * SC_HASH_LEN + 8;
    uint8_t *msg = malloc(cap);
    if (!msg)
        return sc_err_set(err, SC_ERR_NOMEM, SC_REASON_STORAGE, "out of memory checking a request signature");
    size_t len = sd_auth_canonical(method, target, target_len, req->time_text, req->nonce_hex,
                                   body_hash, msg, cap);
    sc_status rc = len ? sc_verify(a->env, req->device, SC_DOMAIN_REQUEST, msg, len, req->sig)
                       : SC_ERR_INTERNAL;
    free(msg);
    if (rc != SC_OK)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_BAD_SIGNATURE,
                          "request signature does not verify under the device key");
    key128 dk, k;
    shard *sh = dev_shard(a, req->device, &dk);
    nonce_key(a, req, &k);
    pthread_mutex_lock(&sh->mu);
    shard_expire(a, sh, floor_div(now_ms, a->skew_ms));
    bool seen = nonce_seen(sh, &k);
    pthread_mutex_unlock(&sh->mu);
    if (seen)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_NONCE_USED,
                          "nonce already used by this device (replayed request)");
    return SC_OK;
}

/* Under sh->mu: the set of epoch, taking a free one of the ring when it has none. */
static epoch_set *set_for(shard *sh, int64_t epoch)
{
    for (int i = 0; i < RING; i++)
        if (sh->set[i].count && sh->set[i].epoch == epoch)
            return &sh->set[i];
    for (int i = 0; i < RING; i++)
        if (sh->set[i].count == 0) {
            /* A free set of the ring: it holds nothing (its tables, if any, are empty). */
            sh->set[i].epoch = epoch;
            return &sh->set[i];
        }
    return NULL;
}

void sd_auth_set_shared(sd_auth *a, sd_auth_claim_fn claim, void *ctx)
{
    a->claim = claim;
    a->claim_ctx = ctx;
}

/* Ask the shared cache about a nonce this process's cache just took. */
static sc_status claim_shared(sd_auth *a, const sd_auth_req *req, int64_t *retry_ms, sc_err *err)
{
    bool fresh = false;
    sc_err e2;
    sc_err_clear(&e2);
    if (a->claim(a->claim_ctx, req->device, req->nonce, req->time_ms, &fresh, &e2) != SC_OK) {
        if (retry_ms)
            *retry_ms = 1000;
        return sc_err_set(err, SC_ERR_UNAVAILABLE, SC_REASON_OVERLOADED,
                          "the shared replay cache did not answer; retry later");
    }
    if (!fresh)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_NONCE_USED,
                          "nonce already used by this device (replayed request)");
    return SC_OK;
}

sc_status sd_auth_record(sd_auth *a, const sd_auth_req *req, int64_t now_ms, int64_t *retry_ms,
                         sc_err *err)
{
    bool recorded = false;
    int64_t now_epoch = floor_div(now_ms, a->skew_ms);
    int64_t epoch = floor_div(req->time_ms, a->skew_ms);
    bool full = cache_full(a, now_epoch);
    key128 dk, k;
    shard *sh = dev_shard(a, req->device, &dk);
    nonce_key(a, req, &k);
    sc_status rc = SC_OK;
    pthread_mutex_lock(&sh->mu);
    shard_expire(a, sh, now_epoch);
    if (nonce_seen(sh, &k)) {
        rc = sc_err_set(err, SC_ERR_BAD_SIGNATURE, SC_REASON_NONCE_USED,
                        "nonce already used by this device (replayed request)");
        goto done;
    }
    /* A request whose body took longer than the skew: no replay of it passes the time check now. */
    if (epoch < now_epoch - 1)
        goto done;
    if ((rc = share_check(a, sh, &dk, full, now_ms, retry_ms, err)) != SC_OK)
        goto done;
    epoch_set *s = set_for(sh, epoch);
    if (!s || !set_reserve(s)) {
        if (retry_ms)
            *retry_ms = 1000;
        rc = sc_err_set(err, SC_ERR_UNAVAILABLE, SC_REASON_OVERLOADED,
                        "out of memory for the replay cache; retry later");
        goto done;
    }
    *nonce_slot(s, &k) = k;
    s->count++;
    dev_slot *d = dev_find(s, &dk);
    if (key_zero(&d->k)) {
        d->k = dk;
        s->devs++;
    }
    d->count++;
    sh->count++;
    atomic_fetch_add(&a->total, 1);
    recorded = true;
done:
    pthread_mutex_unlock(&sh->mu);
    if (recorded && a->claim)
        rc = claim_shared(a, req, retry_ms, err);
    return rc;
}

sc_status sd_auth_verify(sd_auth *a, const sd_auth_req *req, const char *method, const char *target,
                         size_t target_len, const uint8_t body_hash[SC_HASH_LEN], int64_t now_ms,
                         int64_t *retry_ms, sc_err *err)
{
    sc_status rc = sd_auth_check(a, req, method, target, target_len, body_hash, now_ms, err);
    return rc == SC_OK ? sd_auth_record(a, req, now_ms, retry_ms, err) : rc;
}

size_t sd_auth_nonce_count(sd_auth *a)
{
    return atomic_load(&a->total);
}

size_t sd_auth_device_count(sd_auth *a, const uint8_t device[SC_KEY_LEN], int64_t now_ms)
{
    key128 dk;
    shard *sh = dev_shard(a, device, &dk);
    int64_t oldest = 0;
    pthread_mutex_lock(&sh->mu);
    shard_expire(a, sh, floor_div(now_ms, a->skew_ms));
    size_t n = dev_window(sh, &dk, &oldest);
    pthread_mutex_unlock(&sh->mu);
    return n;
}
