/*
 * auth.c: request signatures and the nonce replay cache (see auth.h).
 *
 * The cache is split into shards, each behind its own mutex, chosen by a
 * keyed SipHash of (device, nonce) so that no client can aim many entries at
 * one shard.  A shard keeps one open-addressing set per epoch (request time
 * divided by the skew) in a ring of four: the epochs of the live window are
 * now-1, now and now+1, so a slot whose epoch falls outside them is stale
 * and is emptied before reuse.  Entries are never deleted one by one, which
 * keeps the sets simple (linear probing, no tombstones).
 */
#include "auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/keys.h"

#define SHARDS 16
#define RING 4
#define SET_MIN_SLOTS 64

typedef struct nonce_key {
    uint8_t b[16]; /* SipHash-2-4 (128-bit) of device || nonce under the cache's secret key */
} nonce_key;

typedef struct nonce_set {
    int64_t epoch;   /* request-time epoch this set holds; meaningless when count == 0 */
    nonce_key *slot; /* slots; all-zero means empty (a real hash of zero is ignored, see key_make) */
    size_t slots;    /* power of two, 0 when unallocated */
    size_t count;
} nonce_set;

typedef struct shard {
    pthread_mutex_t mu;
    nonce_set set[RING];
    size_t count; /* entries over all sets */
} shard;

struct sd_auth {
    const sc_env *env;     /* borrowed */
    int64_t skew_ms;
    size_t shard_max;      /* entries per shard */
    uint8_t sip_key[crypto_shorthash_siphashx24_KEYBYTES];
    shard shards[SHARDS];
};

sc_status sd_auth_new(const sc_env *env, int64_t skew_ms, size_t max_nonces, sd_auth **out)
{
    *out = NULL;
    if (skew_ms <= 0)
        return SC_ERR_INVALID_ARG;
    if (sodium_init() < 0)
        return SC_ERR_CRYPTO;
    sd_auth *a = calloc(1, sizeof *a);
    if (!a)
        return SC_ERR_NOMEM;
    a->env = env;
    a->skew_ms = skew_ms;
    if (max_nonces == 0)
        max_nonces = SD_AUTH_NONCES_MAX;
    a->shard_max = max_nonces / SHARDS ? max_nonces / SHARDS : 1;
    randombytes_buf(a->sip_key, sizeof a->sip_key);
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&a->shards[i].mu, NULL);
    *out = a;
    return SC_OK;
}

void sd_auth_free(sd_auth *a)
{
    if (!a)
        return;
    for (int i = 0; i < SHARDS; i++) {
        for (int j = 0; j < RING; j++)
            free(a->shards[i].set[j].slot);
        pthread_mutex_destroy(&a->shards[i].mu);
    }
    sodium_memzero(a->sip_key, sizeof a->sip_key);
    free(a);
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

sc_status sd_auth_parse(const sd_auth *a, const sd_auth_headers *h, int64_t now_ms,
                        sd_auth_req *out, sc_err *err)
{
    const int bad = 3; /* REASON_BAD_SIGNATURE */
    memset(out, 0, sizeof *out);
    if (!h->device || !h->time || !h->nonce || !h->signature)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, bad, "missing header %s",
                          !h->device  ? SD_HDR_DEVICE
                          : !h->time  ? SD_HDR_TIME
                          : !h->nonce ? SD_HDR_NONCE
                                      : SD_HDR_SIGNATURE);
    if (!lowhex(h->device, out->device, sizeof out->device))
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, bad,
                          "%s is not 64 lowercase hex digits", SD_HDR_DEVICE);
    if (!lowhex(h->nonce, out->nonce, sizeof out->nonce))
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, bad,
                          "%s is not 32 lowercase hex digits", SD_HDR_NONCE);
    if (!lowhex(h->signature, out->sig, sizeof out->sig))
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, bad,
                          "%s is not 128 lowercase hex digits", SD_HDR_SIGNATURE);
    size_t tl = strlen(h->time);
    /* 18 digits keep the value inside int64 without overflow checks; ms times have 13. */
    bool digits = tl >= 1 && tl <= 18;
    int64_t t = 0;
    for (size_t i = 0; digits && i < tl; i++) {
        if (h->time[i] < '0' || h->time[i] > '9')
            digits = false;
        else
            t = t * 10 + (h->time[i] - '0');
    }
    if (!digits)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, bad, "%s is not a decimal Unix time in ms",
                          SD_HDR_TIME);
    int64_t diff = t - now_ms;
    if (diff > a->skew_ms || diff < -a->skew_ms)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, bad,
                          "request time is %lld ms %s the server clock (allowed skew %lld ms)",
                          (long long)(diff < 0 ? -diff : diff), diff < 0 ? "behind" : "ahead of",
                          (long long)a->skew_ms);
    out->time_ms = t;
    memcpy(out->time_text, h->time, tl + 1);
    memcpy(out->nonce_hex, h->nonce, 33);
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

static bool key_zero(const nonce_key *k)
{
    static const nonce_key zero;
    return memcmp(k, &zero, sizeof zero) == 0;
}

static uint64_t key_index(const nonce_key *k)
{
    uint64_t v;
    memcpy(&v, k->b, sizeof v);
    return v;
}

/* Find k in s; when absent and insert is set, add it.  Returns true when it was present. */
static bool set_probe(nonce_set *s, const nonce_key *k, bool insert)
{
    if (s->slots == 0)
        return false;
    size_t mask = s->slots - 1;
    for (size_t i = (size_t)(key_index(k) >> 4) & mask;; i = (i + 1) & mask) {
        if (key_zero(&s->slot[i])) {
            if (insert) {
                s->slot[i] = *k;
                s->count++;
            }
            return false;
        }
        if (memcmp(&s->slot[i], k, sizeof *k) == 0)
            return true;
    }
}

/* Make room for one more entry (load at most 3/4).  False when out of memory. */
static bool set_reserve(nonce_set *s)
{
    if (s->slots && (s->count + 1) * 4 <= s->slots * 3)
        return true;
    size_t n = s->slots ? s->slots * 2 : SET_MIN_SLOTS;
    if (n > SIZE_MAX / sizeof(nonce_key))
        return false;
    nonce_set bigger = {.epoch = s->epoch, .slots = n, .count = 0};
    bigger.slot = calloc(n, sizeof(nonce_key));
    if (!bigger.slot)
        return false;
    for (size_t i = 0; i < s->slots; i++)
        if (!key_zero(&s->slot[i]))
            set_probe(&bigger, &s->slot[i], true);
    free(s->slot);
    *s = bigger;
    return true;
}

static void set_clear(shard *sh, nonce_set *s)
{
    sh->count -= s->count;
    free(s->slot);
    memset(s, 0, sizeof *s);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

sc_status sd_auth_verify(sd_auth *a, const sd_auth_req *req, const char *method, const char *target,
                         size_t target_len, const uint8_t body_hash[SC_HASH_LEN], int64_t now_ms,
                         sc_err *err)
{
    const int bad = 3; /* REASON_BAD_SIGNATURE */
    if (target_len > SD_AUTH_TARGET_MAX)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, bad, "request target longer than %d bytes",
                          SD_AUTH_TARGET_MAX);
    size_t cap = strlen(method) + target_len + 24 + 33 + 2 * SC_HASH_LEN + 8;
    uint8_t *msg = malloc(cap);
    if (!msg)
        return sc_err_set(err, SC_ERR_NOMEM, 21, "out of memory checking a request signature");
    size_t len = sd_auth_canonical(method, target, target_len, req->time_text, req->nonce_hex,
                                   body_hash, msg, cap);
    sc_status rc = len ? sc_verify(a->env, req->device, SC_DOMAIN_REQUEST, msg, len, req->sig)
                       : SC_ERR_INTERNAL;
    free(msg);
    if (rc != SC_OK)
        return sc_err_set(err, SC_ERR_BAD_SIGNATURE, bad,
                          "request signature does not verify under the device key");

    /* The replay check, only now that the request is known to come from the device. */
    uint8_t in[SC_KEY_LEN + sizeof req->nonce];
    memcpy(in, req->device, SC_KEY_LEN);
    memcpy(in + SC_KEY_LEN, req->nonce, sizeof req->nonce);
    nonce_key k;
    crypto_shorthash_siphashx24(k.b, in, sizeof in, a->sip_key);
    if (key_zero(&k))
        k.b[0] = 1; /* all-zero marks an empty slot; a 2^-128 event costs nothing to avoid */
    shard *sh = &a->shards[k.b[15] % SHARDS];
    int64_t now_epoch = floor_div(now_ms, a->skew_ms);
    int64_t epoch = floor_div(req->time_ms, a->skew_ms);
    sc_status out = SC_OK;

    pthread_mutex_lock(&sh->mu);
    nonce_set *mine = NULL;
    for (int i = 0; i < RING; i++) {
        nonce_set *s = &sh->set[i];
        if (s->count && (s->epoch < now_epoch - 1 || s->epoch > now_epoch + 1))
            set_clear(sh, s); /* no request time in it can pass the time check any more */
        if (s->count && s->epoch == epoch)
            mine = s;
    }
    bool seen = false;
    for (int i = 0; i < RING && !seen; i++)
        seen = sh->set[i].count && set_probe(&sh->set[i], &k, false);
    if (seen) {
        out = sc_err_set(err, SC_ERR_BAD_SIGNATURE, bad,
                         "nonce already used by this device (replayed request)");
        goto done;
    }
    if (!mine) {
        for (int i = 0; i < RING && !mine; i++)
            if (sh->set[i].count == 0) {
                mine = &sh->set[i];
                free(mine->slot);
                memset(mine, 0, sizeof *mine);
                mine->epoch = epoch;
            }
    }
    if (!mine || sh->count >= a->shard_max || !set_reserve(mine)) {
        out = sc_err_set(err, SC_ERR_UNAVAILABLE, 21 /* REASON_STORAGE */,
                         "replay cache is full; retry later");
        goto done;
    }
    set_probe(mine, &k, true);
    sh->count++;
done:
    pthread_mutex_unlock(&sh->mu);
    return out;
}

size_t sd_auth_nonce_count(sd_auth *a)
{
    size_t n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&a->shards[i].mu);
        n += a->shards[i].count;
        pthread_mutex_unlock(&a->shards[i].mu);
    }
    return n;
}
