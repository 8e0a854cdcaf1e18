/*
 * visibility.c: the §6 matrix and the org-unit tree.
 *
 * The tree is an open-addressing hash table from org id to its slot, each
 * slot holding the slot of its parent.  "Within" walks up from an org unit
 * to its root: the depth is that of the administrative levels (市 → 户,
 * nine), so a walk is a handful of lookups and needs no precomputed
 * subtree sets.  The walk is capped at the number of org units, so even a
 * corrupted database with a parent cycle cannot loop forever.
 */
#include "visibility.h"

#include <stdlib.h>
#include <string.h>

#define NO_SLOT SIZE_MAX

typedef struct org_slot {
    uint8_t id[SC_ID_LEN];
    uint8_t parent_id[SC_ID_LEN];
    bool has_parent;
    bool used;
    size_t parent;  /* slot of the parent, NO_SLOT for a root or a missing parent */
} org_slot;

struct sd_orgtree {
    org_slot *slot;
    size_t cap;     /* power of two */
    size_t n;
};

static size_t hash_id(const uint8_t id[SC_ID_LEN])
{
    /* UUIDv7: the leading bytes are a timestamp; mix in the random tail. */
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return (size_t)(h ^ (h >> 29));
}

static size_t find(const sd_orgtree *t, const uint8_t id[SC_ID_LEN])
{
    if (!t || t->cap == 0)
        return NO_SLOT;
    size_t mask = t->cap - 1;
    for (size_t i = hash_id(id) & mask, k = 0; k < t->cap; i = (i + 1) & mask, k++) {
        if (!t->slot[i].used)
            return NO_SLOT;
        if (memcmp(t->slot[i].id, id, SC_ID_LEN) == 0)
            return i;
    }
    return NO_SLOT;
}

static bool grow(sd_orgtree *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    org_slot *s = calloc(cap, sizeof *s);
    if (!s)
        return false;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i].used)
            continue;
        size_t j = hash_id(t->slot[i].id) & (cap - 1);
        while (s[j].used)
            j = (j + 1) & (cap - 1);
        s[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = s;
    t->cap = cap;
    return true;
}

typedef struct load_ctx {
    sd_orgtree *t;
    bool oom;
} load_ctx;

static bool load_one(void *ctx, const uint8_t id[SC_ID_LEN], const uint8_t *parent)
{
    load_ctx *c = ctx;
    sd_orgtree *t = c->t;
    if ((t->n + 1) * 2 > t->cap && !grow(t)) {
        c->oom = true;
        return false;
    }
    size_t j = hash_id(id) & (t->cap - 1);
    while (t->slot[j].used) {
        if (memcmp(t->slot[j].id, id, SC_ID_LEN) == 0)
            return true;
        j = (j + 1) & (t->cap - 1);
    }
    org_slot *s = &t->slot[j];
    s->used = true;
    memcpy(s->id, id, SC_ID_LEN);
    s->has_parent = parent != NULL;
    if (parent)
        memcpy(s->parent_id, parent, SC_ID_LEN);
    t->n++;
    return true;
}

sc_status sd_orgtree_load(sd_store *s, sd_orgtree **out, sc_err *err)
{
    *out = NULL;
    sd_orgtree *t = calloc(1, sizeof *t);
    if (!t || !grow(t)) {
        free(t);
        return sc_err_set(err, SC_ERR_NOMEM, 0, "org tree: out of memory");
    }
    load_ctx c = {t, false};
    sc_status rc = s->vt->org_scan(s, load_one, &c, err);
    if (rc == SC_OK && c.oom)
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "org tree: out of memory");
    if (rc != SC_OK) {
        sd_orgtree_free(t);
        return rc;
    }
    for (size_t i = 0; i < t->cap; i++)
        if (t->slot[i].used)
            t->slot[i].parent = t->slot[i].has_parent ? find(t, t->slot[i].parent_id) : NO_SLOT;
    *out = t;
    return SC_OK;
}

void sd_orgtree_free(sd_orgtree *t)
{
    if (!t)
        return;
    free(t->slot);
    free(t);
}

bool sd_orgtree_has(const sd_orgtree *t, const uint8_t org[SC_ID_LEN])
{
    return find(t, org) != NO_SLOT;
}

size_t sd_orgtree_size(const sd_orgtree *t)
{
    return t ? t->n : 0;
}

bool sd_orgtree_within(const sd_orgtree *t, const uint8_t org[SC_ID_LEN],
                       const uint8_t top[SC_ID_LEN])
{
    if (memcmp(org, top, SC_ID_LEN) == 0)
        return true;
    size_t i = find(t, org);
    for (size_t steps = 0; i != NO_SLOT && steps <= t->n; steps++) {
        if (memcmp(t->slot[i].id, top, SC_ID_LEN) == 0)
            return true;
        i = t->slot[i].parent;
    }
    return false;
}

sc_status sd_orgcache_get(sd_orgcache *c, sd_store *s, const sd_orgtree **out, sc_err *err)
{
    int64_t v = 0;
    sc_status rc = s->vt->data_version(s, &v, err);
    if (rc != SC_OK)
        return rc;
    if (!c->tree || v != c->version) {
        sd_orgtree *t = NULL;
        rc = sd_orgtree_load(s, &t, err);
        if (rc != SC_OK)
            return rc;
        sd_orgtree_free(c->tree);
        c->tree = t;
        c->version = v;
    }
    *out = c->tree;
    return SC_OK;
}

void sd_orgcache_invalidate(sd_orgcache *c)
{
    sd_orgtree_free(c->tree);
    c->tree = NULL;
}

void sd_orgcache_dispose(sd_orgcache *c)
{
    sd_orgcache_invalidate(c);
}

bool sd_visible(Scpb__Role role, int vis_class, bool in_scope, bool named, bool released)
{
    if (vis_class == SD_VIS_ALL)
        return true;
    switch (role) {
    case SCPB__ROLE__ROLE_ADMIN:
    case SCPB__ROLE__ROLE_AUDITOR:
        return true;
    case SCPB__ROLE__ROLE_SUPERVISOR:
        /* A supervisor named on a cross-district assignment works its inspections. */
        return in_scope || (vis_class == SD_VIS_INSPECTION && named);
    case SCPB__ROLE__ROLE_INSPECTOR:
        switch (vis_class) {
        case SD_VIS_ASSIGNMENT_OPEN:
        case SD_VIS_INSPECTION:
        case SD_VIS_SELF_CHECK:
            return named || in_scope;
        case SD_VIS_ASSIGNMENT_SECRET:
            return named;
        default:
            return in_scope;
        }
    case SCPB__ROLE__ROLE_RESPONSIBLE:
        switch (vis_class) {
        case SD_VIS_ASSIGNMENT_OPEN:
        case SD_VIS_FINDING_FREE:
        case SD_VIS_SELF_CHECK: /* its own self-checks, drafts too */
            return in_scope;
        case SD_VIS_INSPECTION:
            return in_scope && released;
        default:
            return false; /* unannounced and experiential plans: never */
        }
    default:
        return false;
    }
}
