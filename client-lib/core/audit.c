/*
 * audit.c: the streaming log verifier (see audit.h).
 *
 * It keeps only what the checks need: the Merkle frontier of the entries
 * so far, and two small hash tables: devices (key -> user, device entity,
 * revoked) and users (entity id -> role, disabled, latest op).  Memory
 * grows with the number of devices and users, never with the number of
 * ops.
 *
 * A user's role and access change by ops on the user (user_role,
 * user_disable, user_enable).  They are learnt in log order, which is the
 * fold's order only because each must build on the user's latest op (its
 * deps are exactly that op): syncd logs no other, and an entry that does
 * not is refused here, so a log with concurrent changes to one user, whose
 * fold could differ from their log order, never audits clean.
 */
#include "audit.h"

#include <string.h>

#include "checkpoint.h"
#include "ids.h"
#include "merkle.h"
#include "names.h"
#include "opkind.h"
#include "policy.h"
#include "wire.pb-c.h"

typedef struct device_slot {
    bool used;
    bool revoked;
    uint8_t key[SC_KEY_LEN];
    uint8_t entity[SC_ID_LEN];   /* the device entity */
    uint8_t user[SC_ID_LEN];
} device_slot;

typedef struct user_slot {
    bool used;
    bool disabled; /* as of the entries so far */
    uint8_t id[SC_ID_LEN];
    Scpb__Role role;           /* as of the entries so far */
    uint8_t last[SC_HASH_LEN]; /* the user's latest op: the next one must build on it */
} user_slot;

struct sc_auditor {
    const sc_env *env;
    uint8_t server_key[SC_KEY_LEN];
    char origin[SC_ORIGIN_MAX];
    sc_merkle_frontier tree;
    uint64_t checkpoints;
    uint64_t last_cp_size;
    device_slot *dev;
    size_t dev_cap, dev_n;       /* cap is a power of two */
    user_slot *usr;
    size_t usr_cap, usr_n;
};

static uint64_t key_hash(const uint8_t *k)
{
    /* Keys and UUIDv7 tails are random enough; mix the first 8 bytes anyway. */
    uint64_t h = 0;
    memcpy(&h, k, sizeof h);
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

/* The slot of a device key; with insert, a new slot when absent (NULL only when out of memory). */
static device_slot *dev_find(sc_auditor *a, const uint8_t key[SC_KEY_LEN], bool insert)
{
    if (insert && (a->dev_n + 1) * 2 > a->dev_cap) {
        size_t cap = a->dev_cap ? a->dev_cap * 2 : 64;
        device_slot *nd = sc_calloc(a->env, cap, sizeof *nd);
        if (!nd)
            return NULL;
        for (size_t i = 0; i < a->dev_cap; i++) {
            if (!a->dev[i].used)
                continue;
            size_t j = key_hash(a->dev[i].key) & (cap - 1);
            while (nd[j].used)
                j = (j + 1) & (cap - 1);
            nd[j] = a->dev[i];
        }
        sc_free(a->env, a->dev);
        a->dev = nd;
        a->dev_cap = cap;
    }
    if (!a->dev_cap)
        return NULL;
    size_t j = key_hash(key) & (a->dev_cap - 1);
    while (a->dev[j].used) {
        if (memcmp(a->dev[j].key, key, SC_KEY_LEN) == 0)
            return &a->dev[j];
        j = (j + 1) & (a->dev_cap - 1);
    }
    if (!insert)
        return NULL;
    a->dev[j].used = true;
    memcpy(a->dev[j].key, key, SC_KEY_LEN);
    a->dev_n++;
    return &a->dev[j];
}

static device_slot *dev_by_entity(sc_auditor *a, const uint8_t id[SC_ID_LEN])
{
    /* Revocations are rare: a scan keeps the table single-keyed. */
    for (size_t i = 0; i < a->dev_cap; i++)
        if (a->dev[i].used && memcmp(a->dev[i].entity, id, SC_ID_LEN) == 0)
            return &a->dev[i];
    return NULL;
}

static user_slot *usr_find(sc_auditor *a, const uint8_t id[SC_ID_LEN], bool insert)
{
    if (insert && (a->usr_n + 1) * 2 > a->usr_cap) {
        size_t cap = a->usr_cap ? a->usr_cap * 2 : 64;
        user_slot *nu = sc_calloc(a->env, cap, sizeof *nu);
        if (!nu)
            return NULL;
        for (size_t i = 0; i < a->usr_cap; i++) {
            if (!a->usr[i].used)
                continue;
            size_t j = key_hash(a->usr[i].id + 8) & (cap - 1);
            while (nu[j].used)
                j = (j + 1) & (cap - 1);
            nu[j] = a->usr[i];
        }
        sc_free(a->env, a->usr);
        a->usr = nu;
        a->usr_cap = cap;
    }
    if (!a->usr_cap)
        return NULL;
    /* UUIDv7: the first bytes are a timestamp, the last eight are random. */
    size_t j = key_hash(id + 8) & (a->usr_cap - 1);
    while (a->usr[j].used) {
        if (memcmp(a->usr[j].id, id, SC_ID_LEN) == 0)
            return &a->usr[j];
        j = (j + 1) & (a->usr_cap - 1);
    }
    if (!insert)
        return NULL;
    a->usr[j].used = true;
    memcpy(a->usr[j].id, id, SC_ID_LEN);
    a->usr_n++;
    return &a->usr[j];
}

sc_status sc_auditor_new(const sc_env *env, const uint8_t server_key[SC_KEY_LEN],
                         const char *origin, sc_auditor **out)
{
    *out = NULL;
    if (!server_key || !origin || strlen(origin) >= SC_ORIGIN_MAX)
        return SC_ERR_INVALID_ARG;
    sc_auditor *a = sc_calloc(env, 1, sizeof *a);
    if (!a)
        return SC_ERR_NOMEM;
    a->env = env;
    memcpy(a->server_key, server_key, SC_KEY_LEN);
    memcpy(a->origin, origin, strlen(origin) + 1);
    sc_merkle_frontier_init(&a->tree);
    *out = a;
    return SC_OK;
}

void sc_auditor_free(sc_auditor *a)
{
    if (!a)
        return;
    const sc_env *env = a->env;
    sc_free(env, a->dev);
    sc_free(env, a->usr);
    sc_free(env, a);
}

/* The role an author acts with at this point of the log, or a refusal. */
static sc_status author_role(sc_auditor *a, const sc_op *op, Scpb__Role *role, sc_err *err)
{
    const uint8_t *author = op->op->author.data;
    if (memcmp(author, a->server_key, SC_KEY_LEN) == 0) {
        *role = SCPB__ROLE__ROLE_ADMIN;
        return SC_OK;
    }
    device_slot *d = dev_find(a, author, false);
    if (!d)
        return sc_err_set(err, SC_ERR_REJECTED, SCPB__REASON__REASON_UNKNOWN_DEVICE,
                          "its author is not a device enrolled earlier in the log");
    if (d->revoked)
        return sc_err_set(err, SC_ERR_REJECTED, SCPB__REASON__REASON_DEVICE_REVOKED,
                          "its author device was revoked earlier in the log");
    user_slot *u = usr_find(a, d->user, false);
    if (!u)
        return sc_err_set(err, SC_ERR_REJECTED, SCPB__REASON__REASON_UNKNOWN_REFERENCE,
                          "its author device belongs to a user not created earlier in the log");
    if (u->disabled)
        return sc_err_set(err, SC_ERR_REJECTED, SCPB__REASON__REASON_USER_DISABLED,
                          "its author device's user was disabled earlier in the log");
    *role = u->role;
    return SC_OK;
}

/* ---- what the log teaches: users, enrollments, revocations (the table's audit column) ---- */

static sc_status learn_user_create(sc_auditor *a, const sc_op *op, sc_err *err)
{
    const Scpb__Op *o = op->op;
    user_slot *u = usr_find(a, o->entity.data, true);
    if (!u)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory");
    u->role = o->user_create->role;
    u->disabled = false;
    memcpy(u->last, op->id, SC_HASH_LEN);
    return SC_OK;
}

/* A change to a user's role or access: built on the user's latest op, then learnt. */
static sc_status learn_user_act(sc_auditor *a, const sc_op *op, sc_err *err)
{
    const Scpb__Op *o = op->op;
    user_slot *u = usr_find(a, o->entity.data, false);
    if (!u)
        return sc_err_set(err, SC_ERR_REJECTED, SCPB__REASON__REASON_UNKNOWN_ENTITY,
                          "it changes a user not created earlier in the log");
    if (o->n_deps != 1 || o->deps[0].len != SC_HASH_LEN ||
        memcmp(o->deps[0].data, u->last, SC_HASH_LEN) != 0)
        return sc_err_set(err, SC_ERR_REJECTED, SCPB__REASON__REASON_INVALID_TRANSITION,
                          "it changes a user without building on the user's latest op "
                          "(changes to one user are logged one after another)");
    if (o->body_case == SCPB__OP__BODY_USER_ROLE)
        u->role = o->user_role->role;
    else
        u->disabled = o->body_case == SCPB__OP__BODY_USER_DISABLE;
    memcpy(u->last, op->id, SC_HASH_LEN);
    return SC_OK;
}

static sc_status learn_device_enroll(sc_auditor *a, const sc_op *op, sc_err *err)
{
    const Scpb__DeviceEnroll *e = op->op->device_enroll;
    user_slot *u = usr_find(a, e->user.data, false);
    if (u && u->disabled)
        return sc_err_set(err, SC_ERR_REJECTED, SCPB__REASON__REASON_USER_DISABLED,
                          "it enrolls a device for a user disabled earlier in the log");
    device_slot *d = dev_find(a, e->key.data, true);
    if (!d)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory");
    memcpy(d->entity, op->op->entity.data, SC_ID_LEN);
    memcpy(d->user, e->user.data, SC_ID_LEN);
    d->revoked = false;
    return SC_OK;
}

static sc_status learn_device_revoke(sc_auditor *a, const sc_op *op, sc_err *err)
{
    (void)err;
    device_slot *d = dev_by_entity(a, op->op->entity.data);
    if (d)
        d->revoked = true;
    return SC_OK;
}

typedef sc_status (*learn_fn)(sc_auditor *a, const sc_op *op, sc_err *err);

static const learn_fn learns[] = {
#define SC_OPKIND(CASE, member, name, applies, creates, may, photos, audit, check, fold, server)   \
    audit,
#include "opkinds.def"
#undef SC_OPKIND
};

/* Remember what later entries are judged by, as the op's kind says. */
static sc_status learn(sc_auditor *a, const sc_op *op, sc_err *err)
{
    size_t pos = sc_opkind_pos(op->op->body_case);
    learn_fn fn = pos < sc_opkinds_n ? learns[pos] : NULL;
    return fn ? fn(a, op, err) : SC_OK;
}

sc_status sc_auditor_entry(sc_auditor *a, uint64_t index, const uint8_t *signed_op, size_t len,
                           sc_op **out, sc_err *err)
{
    sc_op *op = NULL;
    sc_status rc = SC_OK;
    char idhex[SC_HASH_HEX] = "?";
    if (out)
        *out = NULL;
    if (index != a->tree.size) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "entry %llu: expected entry %llu next",
                        (unsigned long long)index, (unsigned long long)a->tree.size);
        goto done;
    }
    rc = sc_op_open(a->env, signed_op, len, SC_OP_VERIFY, &op, err);
    if (rc != SC_OK) {
        sc_err_prefix(err, "entry %llu: ", (unsigned long long)index);
        goto done;
    }
    sc_hex_encode(op->id, SC_HASH_LEN, idhex, sizeof idhex);
    Scpb__Role role = SCPB__ROLE__ROLE_UNSPECIFIED;
    rc = author_role(a, op, &role, err);
    if (rc != SC_OK) {
        sc_err_prefix(err, "entry %llu (op %.16s): ", (unsigned long long)index, idhex);
        goto done;
    }
    if (!sc_policy_allows(role, op->op->body_case, op->op->entity_type)) {
        const char *rn = sc_name_of(&sc_names_role, role);
        const char *kn = sc_name_of(&sc_names_op_kind, op->op->body_case);
        rc = sc_err_set(err, SC_ERR_REJECTED, SCPB__REASON__REASON_FORBIDDEN_ROLE,
                        "entry %llu (op %.16s): a %s may not make %s", (unsigned long long)index,
                        idhex, rn ? rn : "?", kn ? kn : "?");
        goto done;
    }
    rc = learn(a, op, err);
    if (rc != SC_OK) {
        sc_err_prefix(err, "entry %llu (op %.16s): ", (unsigned long long)index, idhex);
        goto done;
    }
    uint8_t leaf[SC_HASH_LEN];
    sc_merkle_leaf_hash(signed_op, len, leaf);
    sc_merkle_frontier_append(&a->tree, leaf, NULL, NULL);
    if (out) {
        *out = op;
        op = NULL;
    }
done:
    sc_op_free(a->env, op);
    return rc;
}

sc_status sc_auditor_checkpoint(sc_auditor *a, const char *note, size_t len, sc_err *err)
{
    sc_checkpoint cp;
    sc_status rc = sc_checkpoint_open(note, len, a->server_key, a->origin, &cp, err);
    if (rc != SC_OK) {
        sc_err_prefix(err, "checkpoint after entry %llu: ", (unsigned long long)a->tree.size);
        return rc;
    }
    if (cp.size != a->tree.size)
        return sc_err_set(err, SC_ERR_CHECKPOINT, 0,
                          "checkpoint of size %llu met after %llu entries",
                          (unsigned long long)cp.size, (unsigned long long)a->tree.size);
    if (a->checkpoints && cp.size < a->last_cp_size)
        return sc_err_set(err, SC_ERR_CHECKPOINT, 0, "checkpoint size %llu after size %llu",
                          (unsigned long long)cp.size, (unsigned long long)a->last_cp_size);
    uint8_t root[SC_HASH_LEN];
    sc_merkle_frontier_root(&a->tree, root);
    if (memcmp(root, cp.root, SC_HASH_LEN) != 0)
        return sc_err_set(err, SC_ERR_CHECKPOINT, 0,
                          "checkpoint of size %llu: its root is not the root of the entries",
                          (unsigned long long)cp.size);
    a->checkpoints++;
    a->last_cp_size = cp.size;
    return SC_OK;
}

uint64_t sc_auditor_size(const sc_auditor *a)
{
    return a->tree.size;
}

uint64_t sc_auditor_checkpoints(const sc_auditor *a)
{
    return a->checkpoints;
}

uint64_t sc_auditor_last_checkpoint(const sc_auditor *a)
{
    return a->checkpoints ? a->last_cp_size : 0;
}

void sc_auditor_root(const sc_auditor *a, uint8_t out[SC_HASH_LEN])
{
    sc_merkle_frontier_root(&a->tree, out);
}
