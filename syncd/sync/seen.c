/*
 * seen.c: devices last seen (see seen.h).  An open-addressing table keyed
 * by the device key, never shrunk; entries are replaced in place when the
 * table is full (an entry written and not noted since).
 */
#include "seen.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    bool used;
    bool dirty;   /* noted since its last write */
    bool written; /* written at least once by this process */
    uint8_t key[SC_KEY_LEN];
    int64_t seen_ms;    /* the latest request */
    int64_t written_ms; /* when it was last taken for writing */
    char agent[SC_AGENT_MAX + 1];
} entry;

struct sd_seen {
    pthread_mutex_t mu;
    entry *v;
    size_t cap; /* a power of two, at least twice n */
    size_t n, max;
    int64_t write_ms;
};

sc_status sd_seen_new(size_t max, int64_t write_ms, sd_seen **out)
{
    *out = NULL;
    if (max == 0)
        max = SC_SEEN_DEVICES_MAX;
    sd_seen *s = calloc(1, sizeof *s);
    if (!s)
        return SC_ERR_NOMEM;
    /* The table grows as devices are noted; it starts small. */
    s->cap = 64;
    s->v = calloc(s->cap, sizeof *s->v);
    if (!s->v) {
        free(s);
        return SC_ERR_NOMEM;
    }
    s->max = max;
    s->write_ms = write_ms;
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return SC_OK;
}

void sd_seen_free(sd_seen *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->v);
    free(s);
}

static size_t slot_of(const uint8_t key[SC_KEY_LEN], size_t cap)
{
    /* Device keys are Ed25519 public keys: their bytes are as good as a hash. */
    uint64_t h;
    memcpy(&h, key, sizeof h);
    return (size_t)(h & (cap - 1));
}

/* Double the table (the caller holds mu); false when out of memory. */
static bool grow(sd_seen *s)
{
    size_t cap = s->cap * 2;
    entry *nv = calloc(cap, sizeof *nv);
    if (!nv)
        return false;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->v[i].used)
            continue;
        size_t j = slot_of(s->v[i].key, cap);
        while (nv[j].used)
            j = (j + 1) & (cap - 1);
        nv[j] = s->v[i];
    }
    free(s->v);
    s->v = nv;
    s->cap = cap;
    return true;
}

/* The entry of key, a new one, or one written and not noted since reused; NULL when none. */
static entry *find(sd_seen *s, const uint8_t key[SC_KEY_LEN])
{
    size_t j = slot_of(key, s->cap);
    while (s->v[j].used) {
        if (memcmp(s->v[j].key, key, SC_KEY_LEN) == 0)
            return &s->v[j];
        j = (j + 1) & (s->cap - 1);
    }
    if (s->n < s->max && (2 * (s->n + 1) <= s->cap || grow(s))) {
        j = slot_of(key, s->cap);
        while (s->v[j].used)
            j = (j + 1) & (s->cap - 1);
        entry *e = &s->v[j];
        memset(e, 0, sizeof *e);
        e->used = true;
        memcpy(e->key, key, SC_KEY_LEN);
        s->n++;
        return e;
    }
    /* Full: an entry already on disk and not noted since gives its place (rehashed in place). */
    for (size_t i = 0; i < s->cap; i++)
        if (s->v[i].used && !s->v[i].dirty) {
            s->v[i].used = false;
            s->n--;
            entry keep[1];
            /* Reinsert the rest of its cluster so lookups stay correct. */
            for (size_t k = (i + 1) & (s->cap - 1); s->v[k].used; k = (k + 1) & (s->cap - 1)) {
                keep[0] = s->v[k];
                s->v[k].used = false;
                size_t m = slot_of(keep[0].key, s->cap);
                while (s->v[m].used)
                    m = (m + 1) & (s->cap - 1);
                s->v[m] = keep[0];
            }
            return find(s, key);
        }
    return NULL;
}

void sd_seen_note(sd_seen *s, const uint8_t key[SC_KEY_LEN], const char *agent, int64_t now_ms)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, key);
    if (e) {
        if (now_ms > e->seen_ms)
            e->seen_ms = now_ms;
        size_t n = agent ? strnlen(agent, SC_AGENT_MAX) : 0;
        memcpy(e->agent, agent ? agent : "", n);
        e->agent[n] = '\0';
        e->dirty = true;
    }
    pthread_mutex_unlock(&s->mu);
}

size_t sd_seen_take(sd_seen *s, int64_t now_ms, bool all, sd_seen_row *out, size_t cap)
{
    size_t k = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->cap && k < cap; i++) {
        entry *e = &s->v[i];
        if (!e->used || !e->dirty)
            continue;
        if (!all && e->written && now_ms - e->written_ms < s->write_ms)
            continue;
        memcpy(out[k].key, e->key, SC_KEY_LEN);
        out[k].seen_ms = e->seen_ms;
        memcpy(out[k].agent, e->agent, sizeof out[k].agent);
        k++;
        e->dirty = false;
        e->written = true;
        e->written_ms = now_ms;
    }
    pthread_mutex_unlock(&s->mu);
    return k;
}

void sd_seen_retry(sd_seen *s, const sd_seen_row *rows, size_t n)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        entry *e = find(s, rows[i].key);
        if (!e || e->dirty)
            continue;
        e->dirty = true;
        e->written = false;
        if (rows[i].seen_ms > e->seen_ms) {
            e->seen_ms = rows[i].seen_ms;
            memcpy(e->agent, rows[i].agent, sizeof e->agent);
        }
    }
    pthread_mutex_unlock(&s->mu);
}

size_t sd_seen_count(sd_seen *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}
