/*
 * budget.c: body bytes in flight (see budget.h).
 *
 * The per-device counts live in a fixed open-addressing table with twice
 * as many slots as devices can have bodies in flight at once (each such
 * device holds a connection, so the connection limit bounds them); a
 * device's slot is emptied when its count returns to zero, with
 * backward-shift deletion so that no tombstones build up.  Slots are found
 * by a keyed hash of the device key: device keys are public, and a keyed
 * hash keeps anyone from lining them up on one probe chain.
 */
#include "budget.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wire.pb-c.h"

/* Scpb__Reason values used here. */
enum {
    R_RATE_LIMITED = SCPB__REASON__REASON_RATE_LIMITED,
    R_OVERLOADED = SCPB__REASON__REASON_OVERLOADED,
};

typedef struct dev_count {
    uint8_t key[SC_KEY_LEN]; /* the device key */
    uint64_t bytes;          /* 0: an empty slot */
} dev_count;

struct sd_budget {
    pthread_mutex_t mu;
    sd_budget_limits lim;
    uint64_t total;             /* bytes reserved in the main pool */
    uint64_t unverified;        /* of which for unauthenticated requests */
    uint64_t reserved;          /* bytes taken from the reserve for small bodies */
    dev_count *slot;            /* slots (a power of two) entries */
    size_t slots, used;
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

sc_status sd_budget_new(const sd_budget_limits *lim, sd_budget **out)
{
    *out = NULL;
    if (sodium_init() < 0)
        return SC_ERR_CRYPTO;
    sd_budget *b = calloc(1, sizeof *b);
    if (!b)
        return SC_ERR_NOMEM;
    b->lim = *lim;
    size_t want = lim->devices_max < 8 ? 16 : lim->devices_max * 2;
    b->slots = 16;
    while (b->slots < want && b->slots <= SIZE_MAX / 4)
        b->slots *= 2;
    b->slot = calloc(b->slots, sizeof *b->slot);
    if (!b->slot) {
        free(b);
        return SC_ERR_NOMEM;
    }
    randombytes_buf(b->hash_key, sizeof b->hash_key);
    pthread_mutex_init(&b->mu, NULL);
    *out = b;
    return SC_OK;
}

void sd_budget_free(sd_budget *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b->slot);
    free(b);
}

static size_t home(const sd_budget *b, const uint8_t *device)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, device, SC_KEY_LEN, b->hash_key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)v & (b->slots - 1);
}

/* The device's slot, or the empty one where it would go; NULL when the table is full. */
static dev_count *find(const sd_budget *b, const uint8_t *device)
{
    size_t mask = b->slots - 1, i = home(b, device);
    for (size_t n = 0; n < b->slots; n++, i = (i + 1) & mask)
        if (b->slot[i].bytes == 0 || memcmp(b->slot[i].key, device, SC_KEY_LEN) == 0)
            return &b->slot[i];
    return NULL;
}

/* Empty slot i and move later entries of its probe chain back (no tombstones). */
static void remove_at(sd_budget *b, size_t i)
{
    size_t mask = b->slots - 1;
    b->slot[i].bytes = 0;
    b->used--;
    for (size_t j = (i + 1) & mask; b->slot[j].bytes != 0; j = (j + 1) & mask) {
        size_t h = home(b, b->slot[j].key);
        /* Entry j may move to the hole at i when its home is not in the span (i, j]. */
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            b->slot[i] = b->slot[j];
            b->slot[j].bytes = 0;
            i = j;
        }
    }
}

/* Under b->mu: an unauthenticated body, from the unverified share of the main pool. */
static sc_status take_unverified(sd_budget *b, uint64_t n, sd_budget_hold *hold, sc_err *err)
{
    if (n > b->lim.total_max - b->total || n > b->lim.unverified_max - b->unverified)
        return sc_err_set(err, SC_ERR_UNAVAILABLE, R_OVERLOADED,
                          "unauthenticated request bodies in flight would exceed %" PRIu64
                          " bytes (http.body_inflight_unverified_max) or all bodies %" PRIu64
                          " (http.body_inflight_max); retry shortly",
                          b->lim.unverified_max, b->lim.total_max);
    b->unverified += n;
    b->total += n;
    hold->bytes = n;
    return SC_OK;
}

/* Under b->mu: a verified device's body, from the main pool or, small and alone, the reserve. */
static sc_status take_device(sd_budget *b, const uint8_t *device, uint64_t n, sd_budget_hold *hold,
                             sc_err *err)
{
    dev_count *d = find(b, device);
    uint64_t mine = d ? d->bytes : 0;
    if (n > b->lim.device_max || mine > b->lim.device_max - n)
        return sc_err_set(err, SC_ERR_UNAVAILABLE, R_RATE_LIMITED,
                          "this device's request bodies in flight would exceed %" PRIu64
                          " bytes (http.body_inflight_device_max); finish the requests it has "
                          "open first",
                          b->lim.device_max);
    if (!d)
        return sc_err_set(err, SC_ERR_UNAVAILABLE, R_OVERLOADED,
                          "too many devices sending bodies at once; retry shortly");
    bool main_pool = n <= b->lim.total_max - b->total;
    bool reserve = !main_pool && mine == 0 && n <= SC_BODY_RESERVE_BODY_MAX &&
                   n <= SC_BODY_RESERVE_MAX - b->reserved;
    if (!main_pool && !reserve)
        return sc_err_set(err, SC_ERR_UNAVAILABLE, R_OVERLOADED,
                          "request bodies in flight would exceed %" PRIu64
                          " bytes (http.body_inflight_max); retry shortly",
                          b->lim.total_max);
    if (d->bytes == 0) {
        memcpy(d->key, device, SC_KEY_LEN);
        b->used++;
    }
    d->bytes += n;
    if (reserve)
        b->reserved += n;
    else
        b->total += n;
    hold->bytes = n;
    hold->verified = true;
    hold->reserve = reserve;
    memcpy(hold->device, device, SC_KEY_LEN);
    return SC_OK;
}

sc_status sd_budget_take(sd_budget *b, const uint8_t *device, uint64_t n, sd_budget_hold *hold,
                         sc_err *err)
{
    memset(hold, 0, sizeof *hold);
    if (n == 0)
        return SC_OK;
    pthread_mutex_lock(&b->mu);
    sc_status rc = device ? take_device(b, device, n, hold, err) : take_unverified(b, n, hold, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

void sd_budget_give(sd_budget *b, sd_budget_hold *hold)
{
    if (hold->bytes == 0)
        return;
    uint64_t n = hold->bytes;
    pthread_mutex_lock(&b->mu);
    if (hold->reserve)
        b->reserved -= n;
    else
        b->total -= n;
    if (!hold->verified) {
        b->unverified -= n;
    } else {
        dev_count *d = find(b, hold->device);
        if (d && d->bytes != 0) {
            d->bytes -= n;
            if (d->bytes == 0)
                remove_at(b, (size_t)(d - b->slot));
        }
    }
    pthread_mutex_unlock(&b->mu);
    memset(hold, 0, sizeof *hold);
}

uint64_t sd_budget_used(sd_budget *b)
{
    pthread_mutex_lock(&b->mu);
    uint64_t n = b->total + b->reserved;
    pthread_mutex_unlock(&b->mu);
    return n;
}
