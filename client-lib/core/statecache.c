/*
 * statecache.c: states by id, looked up once (statecache.h).
 */
#include "statecache.h"

#include <stdbool.h>
#include <string.h>

#include "state.h"

typedef struct slot {
    uint8_t id[SC_ID_LEN];
    Scpb__EntityState *st; /* NULL: the source had none */
    bool used;
} slot;

struct sc_state_cache {
    const sc_env *env;
    sc_state_fn fn;
    void *ctx;
    slot *slots;
    size_t nslots, used; /* nslots a power of two */
};

sc_status sc_state_cache_new(const sc_env *env, sc_state_fn fn, void *ctx, sc_state_cache **out)
{
    *out = NULL;
    sc_state_cache *c = sc_calloc(env, 1, sizeof *c);
    if (!c)
        return SC_ERR_NOMEM;
    c->env = env;
    c->fn = fn;
    c->ctx = ctx;
    c->nslots = 64;
    if (!(c->slots = sc_calloc(env, c->nslots, sizeof *c->slots))) {
        sc_free(env, c);
        return SC_ERR_NOMEM;
    }
    *out = c;
    return SC_OK;
}

void sc_state_cache_free(sc_state_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].used)
            sc_state_free(c->env, c->slots[i].st);
    sc_free(c->env, c->slots);
    sc_free(c->env, c);
}

static size_t slot_of(const slot *slots, size_t n, const uint8_t id[SC_ID_LEN])
{
    uint64_t h = 0;
    for (int i = 8; i < SC_ID_LEN; i++)
        h = h << 8 | id[i];
    size_t k = (size_t)(h & (n - 1));
    while (slots[k].used && memcmp(slots[k].id, id, SC_ID_LEN) != 0)
        k = (k + 1) & (n - 1);
    return k;
}

static sc_status grow(sc_state_cache *c)
{
    size_t n = c->nslots * 2;
    slot *ns = sc_calloc(c->env, n, sizeof *ns);
    if (!ns)
        return SC_ERR_NOMEM;
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].used)
            ns[slot_of(ns, n, c->slots[i].id)] = c->slots[i];
    sc_free(c->env, c->slots);
    c->slots = ns;
    c->nslots = n;
    return SC_OK;
}

sc_status sc_state_cache_get(sc_state_cache *c, const ProtobufCBinaryData *id,
                             protobuf_c_boolean has, const Scpb__EntityState **out, sc_err *err)
{
    *out = NULL;
    if (!has || id->len != SC_ID_LEN)
        return SC_OK;
    size_t k = slot_of(c->slots, c->nslots, id->data);
    if (c->slots[k].used) {
        *out = c->slots[k].st;
        return SC_OK;
    }
    Scpb__EntityState *st = NULL;
    sc_status s = c->fn(c->ctx, id->data, &st);
    if (s != SC_OK && s != SC_ERR_NOT_FOUND)
        return sc_err_set(err, s, 0, "reading an entity failed");
    if (2 * (c->used + 1) > c->nslots) {
        if (grow(c) != SC_OK) {
            sc_state_free(c->env, st);
            return sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory");
        }
        k = slot_of(c->slots, c->nslots, id->data);
    }
    memcpy(c->slots[k].id, id->data, SC_ID_LEN);
    c->slots[k].st = st;
    c->slots[k].used = true;
    c->used++;
    *out = st;
    return SC_OK;
}
