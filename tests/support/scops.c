/*
 * scops.c: real signed ops for tests (see scops.h).
 */
#include "scops.h"

#include <stdlib.h>
#include <string.h>

void sco_device_init(sco_device *d, uint32_t n, int64_t now_ms)
{
    memset(d, 0, sizeof *d);
    d->key = sct_key(n);
    d->now_ms = now_ms;
}

void sco_device_dispose(sco_device *d)
{
    sc_keypair_free(d->key);
    d->key = NULL;
}

void sco_set_dispose(const sc_env *env, sco_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        sc_op_free(env, s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

bool sco_set_has(const sco_set *s, const uint8_t id[SC_HASH_LEN])
{
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->v[i]->id, id, SC_HASH_LEN) == 0)
            return true;
    return false;
}

bool sco_set_add(const sc_env *env, sco_set *s, const sc_op *op)
{
    if (sco_set_has(s, op->id))
        return false;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        ck_assert_ptr_nonnull(s->v);
    }
    sc_op *copy = NULL;
    ck_assert_int_eq(sc_op_open(env, op->signed_bytes, op->signed_len, 0, &copy, NULL), SC_OK);
    s->v[s->n++] = copy;
    return true;
}

void sco_set_merge(const sc_env *env, sco_set *dst, const sco_set *src, sco_device *dev)
{
    for (size_t i = 0; i < src->n; i++)
        if (sco_set_add(env, dst, src->v[i]) && dev)
            sc_hlc_observe(&dev->clock, src->v[i]->op->hlc);
}

const sc_users *sco_fold_users = NULL;

static sc_fold_input *inputs(const sco_set *s)
{
    sc_fold_input *in = calloc(s->n ? s->n : 1, sizeof *in);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < s->n; i++) {
        in[i].id = s->v[i]->id;
        in[i].op = s->v[i]->op;
    }
    return in;
}

void sco_fold(const sc_env *env, const sco_set *s, sc_fold_out *out)
{
    sc_fold_input *in = inputs(s);
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sc_fold(env, sco_fold_users, in, s->n, out, &err);
    ck_assert_msg(rc == SC_OK, "fold failed: %s (%s)", sc_strerror(rc), err.msg);
    free(in);
}

void sco_hash(const sc_env *env, const sco_set *s, uint8_t out[SC_HASH_LEN])
{
    sc_fold_out fo;
    sco_fold(env, s, &fo);
    ck_assert_int_eq(sc_state_hash(env, fo.state, out), SC_OK);
    sc_fold_out_dispose(env, &fo);
}

sc_op *sco_make_deps(const sc_env *env, sco_device *dev, Scpb__Op *op,
                     const uint8_t entity[SC_ID_LEN], Scpb__EntityType type,
                     const uint8_t (*deps)[SC_HASH_LEN], size_t ndeps)
{
    ProtobufCBinaryData dv[SC_DEPS_MAX];
    ck_assert_uint_le(ndeps, SC_DEPS_MAX);
    for (size_t i = 0; i < ndeps; i++) {
        dv[i].len = SC_HASH_LEN;
        dv[i].data = (uint8_t *)deps[i];
    }
    op->has_version = true;
    op->version = 1;
    op->has_entity = true;
    op->entity.len = SC_ID_LEN;
    op->entity.data = (uint8_t *)entity;
    op->has_entity_type = true;
    op->entity_type = type;
    op->has_author = true;
    op->author.len = SC_KEY_LEN;
    op->author.data = (uint8_t *)sc_keypair_public(dev->key);
    op->has_hlc = true;
    op->hlc = sc_hlc_tick(&dev->clock, dev->now_ms);
    op->has_device_time_ms = true;
    op->device_time_ms = dev->now_ms;
    op->n_deps = ndeps;
    op->deps = ndeps ? dv : NULL;
    sc_op *out = NULL;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sc_op_seal(env, dev->key, op, &out, &err);
    ck_assert_msg(rc == SC_OK, "seal failed: %s (%s)", sc_strerror(rc), err.msg);
    op->deps = NULL;
    op->n_deps = 0;
    return out;
}

sc_op *sco_make(const sc_env *env, sco_device *dev, Scpb__Op *op, const uint8_t entity[SC_ID_LEN],
                Scpb__EntityType type, const sco_set *base)
{
    uint8_t deps[SC_DEPS_MAX][SC_HASH_LEN];
    size_t nd = 0;
    if (base && base->n) {
        /* A client has observed every op it holds before it makes a new one. */
        for (size_t i = 0; i < base->n; i++)
            sc_hlc_observe(&dev->clock, base->v[i]->op->hlc);
        sc_fold_out fo;
        sco_fold(env, base, &fo);
        for (size_t i = 0; i < fo.state->n_heads && nd < SC_DEPS_MAX; i++)
            memcpy(deps[nd++], fo.state->heads[i].data, SC_HASH_LEN);
        sc_fold_out_dispose(env, &fo);
    }
    return sco_make_deps(env, dev, op, entity, type, (const uint8_t(*)[SC_HASH_LEN])deps, nd);
}

bool sco_try(const sc_env *env, sco_device *dev, sco_set *s, Scpb__Op *op,
             const uint8_t entity[SC_ID_LEN], Scpb__EntityType type, const char **why)
{
    sc_op *o = sco_make(env, dev, op, entity, type, s);
    sco_set trial = {0};
    sco_set_merge(env, &trial, s, NULL);
    sco_set_add(env, &trial, o);
    sc_fold_out fo;
    sco_fold(env, &trial, &fo);
    const char *w = NULL;
    for (size_t i = 0; i < trial.n; i++)
        if (memcmp(trial.v[i]->id, o->id, SC_HASH_LEN) == 0)
            w = fo.why[i];
    sc_fold_out_dispose(env, &fo);
    sco_set_dispose(env, &trial);
    if (why)
        *why = w;
    if (!w)
        sco_set_add(env, s, o);
    sc_op_free(env, o);
    return w == NULL;
}

void sco_user_act(Scpb__Op *op, sco_user_body *b, Scpb__Op__BodyCase kind, Scpb__Role role,
                  const char *reason)
{
    scpb__user_disable__init(&b->disable);
    scpb__user_enable__init(&b->enable);
    scpb__user_role__init(&b->role);
    op->body_case = kind;
    if (kind == SCPB__OP__BODY_USER_DISABLE) {
        b->disable.reason = (char *)(uintptr_t)reason;
        op->user_disable = &b->disable;
    } else if (kind == SCPB__OP__BODY_USER_ENABLE) {
        b->enable.reason = (char *)(uintptr_t)reason;
        op->user_enable = &b->enable;
    } else {
        b->role.has_role = true;
        b->role.role = role;
        op->user_role = &b->role;
    }
}

void sco_open_body(Scpb__Op *op, Scpb__InspectionOpen *b, const uint8_t target[SC_ID_LEN],
                   Scpb__Disclosure disclosure)
{
    scpb__inspection_open__init(b);
    b->has_target = true;
    b->target.len = SC_ID_LEN;
    b->target.data = (uint8_t *)(uintptr_t)target;
    b->has_kind = true;
    b->kind = SCPB__INSPECTION_KIND__KIND_SPOT;
    b->has_disclosure = true;
    b->disclosure = disclosure;
    op->body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op->inspection_open = b;
}
