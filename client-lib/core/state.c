/*
 * state.c: what replicas do with a folded state: its canonical encoding and
 * hash, the replica hash over all entities, and the flags derived at query
 * time (overdue, evidence pending).
 *
 * The encoding is canonical because protobuf-c writes fields in number order
 * and the fold gives every repeated field a canonical order, so equal states
 * encode, and hash, equal on every replica.
 */
#include "state.h"

#include <sodium.h>
#include <string.h>

#include "ids.h"
#include "wire.pb-c.h"

static int cmp_bytes(const ProtobufCBinaryData *x, const ProtobufCBinaryData *y)
{
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

sc_status sc_state_encode(const sc_env *env, const Scpb__EntityState *st, uint8_t **out,
                          size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t size = scpb__entity_state__get_packed_size(st);
    uint8_t *buf = sc_alloc(env, size);
    if (!buf)
        return SC_ERR_NOMEM;
    scpb__entity_state__pack(st, buf);
    *out = buf;
    *len = size;
    return SC_OK;
}

sc_status sc_state_decode(const sc_env *env, const uint8_t *buf, size_t len, size_t limit,
                          Scpb__EntityState **out, sc_err *err)
{
    *out = NULL;
    if (len > limit)
        return sc_err_set(err, SC_ERR_TOO_LARGE, SCPB__REASON__REASON_TOO_LARGE,
                          "state of %zu bytes exceeds %zu", len, limit);
    ProtobufCAllocator a;
    sc_env_pb_allocator(env, &a);
    Scpb__EntityState *st = scpb__entity_state__unpack(&a, len, buf);
    if (!st)
        return sc_err_set(err, SC_ERR_MALFORMED, SCPB__REASON__REASON_MALFORMED,
                          "stored state does not decode");
    *out = st;
    return SC_OK;
}

void sc_state_free(const sc_env *env, Scpb__EntityState *st)
{
    if (!st)
        return;
    ProtobufCAllocator a;
    sc_env_pb_allocator(env, &a);
    protobuf_c_message_free_unpacked(&st->base, &a);
}

sc_status sc_state_hash(const sc_env *env, const Scpb__EntityState *st, uint8_t out[SC_HASH_LEN])
{
    uint8_t *buf;
    size_t len;
    sc_status rc = sc_state_encode(env, st, &buf, &len);
    if (rc != SC_OK) {
        memset(out, 0, SC_HASH_LEN);
        return rc;
    }
    sc_sha256(buf, len, out);
    sc_free(env, buf);
    return SC_OK;
}

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((sc_replica_hash *)0)->sha),
               "sc_replica_hash too small for libsodium's SHA-256 state");

void sc_replica_hash_init(sc_replica_hash *h)
{
    memset(h, 0, sizeof *h);
    crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)h->sha);
}

sc_status sc_replica_hash_add(sc_replica_hash *h, const uint8_t id[SC_ID_LEN],
                              const uint8_t state_hash[SC_HASH_LEN])
{
    if (h->count > 0 && memcmp(id, h->last_id, SC_ID_LEN) <= 0)
        return SC_ERR_INVALID_ARG;
    crypto_hash_sha256_state *s = (crypto_hash_sha256_state *)(void *)h->sha;
    crypto_hash_sha256_update(s, id, SC_ID_LEN);
    crypto_hash_sha256_update(s, state_hash, SC_HASH_LEN);
    memcpy(h->last_id, id, SC_ID_LEN);
    h->count++;
    return SC_OK;
}

void sc_replica_hash_final(sc_replica_hash *h, uint8_t out[SC_HASH_LEN])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)(void *)h->sha, out);
}

/* ---- derived flags ---- */

bool sc_finding_overdue(const Scpb__EntityState *st, int32_t today)
{
    if (!st || st->kind_case != SCPB__ENTITY_STATE__KIND_FINDING || st->voided)
        return false;
    const Scpb__FindingState *f = st->finding;
    return f->has_deadline_day && today > f->deadline_day && f->status != SCPB__FINDING_STATUS__FINDING_CLOSED;
}

bool sc_evidence_pending(const Scpb__EntityState *st, sc_blob_present_fn present, void *ctx)
{
    if (!st || !present)
        return false;
    for (size_t k = 0; k < st->n_photos; k++) {
        bool voided = false;
        for (size_t v = 0; v < st->n_voided_ops && !voided; v++)
            voided = cmp_bytes(&st->voided_ops[v], &st->photos[k]->op) == 0;
        if (!voided && st->photos[k]->sha256.len == SC_HASH_LEN &&
            !present(ctx, st->photos[k]->sha256.data))
            return true;
    }
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING)
        for (size_t k = 0; k < st->finding->n_evidence; k++)
            if (st->finding->evidence[k].len == SC_HASH_LEN &&
                !present(ctx, st->finding->evidence[k].data))
                return true;
    return false;
}

const char *sc_state_code(const Scpb__EntityState *st, uint32_t *version)
{
    *version = 0;
    switch (st->kind_case) {
    case SCPB__ENTITY_STATE__KIND_ORG:
        return st->org->code;
    case SCPB__ENTITY_STATE__KIND_TARGET:
        return st->target->code;
    case SCPB__ENTITY_STATE__KIND_USER:
        return st->user->login;
    case SCPB__ENTITY_STATE__KIND_TEMPLATE:
        *version = st->template_->version;
        return st->template_->code;
    default:
        return NULL;
    }
}
