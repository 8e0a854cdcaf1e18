/*
 * replica.c: entity states as the core fold makes them, lookups of ids and
 * codes, the replica's hybrid logical clock and its identity.
 *
 * Invariant: an entity's stored state is sc_fold over its stored ops that
 * are not rejected.  Only rp_store_state writes states, and callers hand it
 * the output of rp_fold, so the state can never drift from the ops.
 */
#include <stdio.h>
#include <string.h>

#include "core/names.h"
#include "internal.h"

void rp_state_free(sc_client *c, Scpb__EntityState *st)
{
    sc_state_free(&c->env, st);
}

/*
 * The fold's sc_users over the replica: the user a key speaks for is the
 * one its DeviceEnroll op names (read from the op, which is stored with
 * the devices row, not from the device's state, which may be refolded
 * later in the same pull).
 */
sc_status rp_user_of(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN])
{
    sc_client *c = ctx;
    uint8_t device[SC_ID_LEN];
    sc_status s = st_device_entity(c, key, device);
    if (s != SC_OK)
        return s;
    sc_op **ops = NULL;
    size_t n = 0;
    s = st_ops_of_entity(c, device, false, &ops, &n);
    if (s != SC_OK)
        return s;
    s = SC_ERR_NOT_FOUND;
    for (size_t i = 0; i < n && s == SC_ERR_NOT_FOUND; i++) {
        const Scpb__Op *o = ops[i]->op;
        if (o->body_case == SCPB__OP__BODY_DEVICE_ENROLL &&
            o->device_enroll->user.len == SC_ID_LEN && o->device_enroll->key.len == SC_KEY_LEN &&
            memcmp(o->device_enroll->key.data, key, SC_KEY_LEN) == 0) {
            memcpy(user, o->device_enroll->user.data, SC_ID_LEN);
            s = SC_OK;
        }
    }
    st_ops_free(c, ops, n);
    return s;
}

/*
 * Where people sit (the fold's sc_users, for acceptance): a user's org
 * unit and an org unit's parent, from their stored states.  Both are fixed
 * when the entity is created, so any state of it will do; one the replica
 * has not pulled yet is not known (SC_ERR_NOT_FOUND).
 */
static sc_status org_of(void *ctx, const uint8_t user[SC_ID_LEN], uint8_t org[SC_ID_LEN])
{
    sc_client *c = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, user, &st);
    if (s == SC_OK && (st->kind_case != SCPB__ENTITY_STATE__KIND_USER || !st->user->has_org ||
                       st->user->org.len != SC_ID_LEN))
        s = SC_ERR_NOT_FOUND;
    if (s == SC_OK)
        memcpy(org, st->user->org.data, SC_ID_LEN);
    rp_state_free(c, st);
    return s;
}

static sc_status parent_of(void *ctx, const uint8_t org[SC_ID_LEN], uint8_t parent[SC_ID_LEN],
                           bool *has)
{
    sc_client *c = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, org, &st);
    if (s == SC_OK && st->kind_case != SCPB__ENTITY_STATE__KIND_ORG)
        s = SC_ERR_NOT_FOUND;
    if (s == SC_OK) {
        *has = st->org->has_parent && st->org->parent.len == SC_ID_LEN;
        if (*has)
            memcpy(parent, st->org->parent.data, SC_ID_LEN);
    }
    rp_state_free(c, st);
    return s;
}

/*
 * Fold an entity's stored (not rejected) ops plus `extra` into *out; *ops
 * and *n are the stored ops, in the order of out->why (extra last), for the
 * caller to free with st_ops_free.
 */
static sc_status fold_stored(sc_client *c, const uint8_t entity[SC_ID_LEN], const sc_op *extra,
                             sc_fold_out *out, sc_op ***ops, size_t *n)
{
    memset(out, 0, sizeof *out);
    *ops = NULL;
    *n = 0;
    sc_fold_input *in = NULL;
    sc_status s = st_ops_of_entity(c, entity, false, ops, n);
    if (s != SC_OK)
        return s;
    size_t total = *n + (extra ? 1 : 0);
    if (total == 0)
        return cl_fail(c, SC_ERR_NOT_FOUND, SCPB__REASON__REASON_UNKNOWN_ENTITY,
                       "no ops for this entity in the replica");
    in = sc_calloc(&c->env, total, sizeof *in);
    if (!in)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory folding an entity");
    for (size_t i = 0; i < *n; i++)
        in[i] = (sc_fold_input){.id = (*ops)[i]->id, .op = (*ops)[i]->op};
    if (extra)
        in[*n] = (sc_fold_input){.id = extra->id, .op = extra->op};
    sc_err e;
    sc_err_clear(&e);
    sc_users users = {.user_of = rp_user_of, .ctx = c, .org_of = org_of, .parent_of = parent_of};
    s = sc_fold(&c->env, &users, in, total, out, &e);
    if (s != SC_OK)
        s = cl_fail(c, s, e.reason, "%s", e.msg);
    sc_free(&c->env, in);
    return s;
}

sc_status rp_fold(sc_client *c, const uint8_t entity[SC_ID_LEN], const sc_op *extra,
                  Scpb__EntityState **state, const char **extra_why)
{
    *state = NULL;
    if (extra_why)
        *extra_why = NULL;
    sc_op **ops = NULL;
    size_t n = 0;
    sc_fold_out out;
    sc_status s = fold_stored(c, entity, extra, &out, &ops, &n);
    if (s == SC_OK) {
        if (extra && extra_why)
            *extra_why = out.why[n];
        *state = out.state;
        out.state = NULL;
    }
    sc_fold_out_dispose(&c->env, &out);
    st_ops_free(c, ops, n);
    return s;
}

sc_status rp_fold_why(sc_client *c, const uint8_t entity[SC_ID_LEN], const uint8_t op[SC_HASH_LEN],
                      const char **why)
{
    *why = NULL;
    sc_op **ops = NULL;
    size_t n = 0;
    sc_fold_out out;
    sc_status s = fold_stored(c, entity, NULL, &out, &ops, &n);
    for (size_t i = 0; s == SC_OK && i < n && i < out.n; i++)
        if (memcmp(ops[i]->id, op, SC_HASH_LEN) == 0)
            *why = out.why[i]; /* static text (core/merge.h) */
    sc_fold_out_dispose(&c->env, &out);
    st_ops_free(c, ops, n);
    return s;
}

sc_status rp_store_state(sc_client *c, const Scpb__EntityState *st)
{
    uint8_t *enc = NULL;
    size_t len = 0;
    if (sc_state_encode(&c->env, st, &enc, &len) != SC_OK)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory encoding a state");
    uint8_t hash[SC_HASH_LEN];
    sc_sha256(enc, len, hash);
    uint32_t version;
    const char *code = sc_state_code(st, &version);
    sc_status s = st_state_put(c, st->id.data, (int)st->type, code, version, enc, len, hash,
                               st->n_conflicts > 0 && !st->voided);
    sc_free(&c->env, enc);
    return s;
}

sc_status rp_refold(sc_client *c, const uint8_t entity[SC_ID_LEN])
{
    Scpb__EntityState *st = NULL;
    sc_status s = rp_fold(c, entity, NULL, &st, NULL);
    if (s == SC_ERR_REJECTED && c->err.reason == SCPB__REASON__REASON_UNKNOWN_DEPENDENCY) {
        /* Some of its past has not reached us yet (a release in progress):
         * keep what we have; the next pull completes it and refolds. */
        sc_err_clear(&c->err);
        return SC_OK;
    }
    if (s == SC_ERR_NOT_FOUND && c->err.reason == SCPB__REASON__REASON_UNKNOWN_ENTITY) {
        /* syncd rejected every op of it, its creation too: no state is left.
         * (Refusing to apply the round instead kept the rejection, and every
         * later op, from ever leaving the outbox.) */
        sc_err_clear(&c->err);
        return st_state_drop(c, entity);
    }
    if (s != SC_OK)
        return s;
    s = rp_store_state(c, st);
    rp_state_free(c, st);
    return s;
}

static const char *type_name(int etype)
{
    const char *n = sc_name_of(&sc_names_entity_type, etype);
    return n ? n : "entity";
}

sc_status rp_get(sc_client *c, const uint8_t id[SC_ID_LEN], int etype, const char *what,
                 Scpb__EntityState **out)
{
    *out = NULL;
    char hex[SC_ID_HEX];
    cl_hex(id, SC_ID_LEN, hex, sizeof hex);
    sc_status s = st_state_get(c, id, out);
    if (s == SC_ERR_NOT_FOUND)
        return cl_fail(c, SC_ERR_NOT_FOUND, SCPB__REASON__REASON_UNKNOWN_ENTITY,
                       "%s %s is not in the replica", what ? what : "entity", hex);
    if (s != SC_OK)
        return s;
    if (etype && (int)(*out)->type != etype) {
        const char *have = type_name((int)(*out)->type);
        rp_state_free(c, *out);
        *out = NULL;
        return cl_fail(c, SC_ERR_NOT_FOUND, SCPB__REASON__REASON_WRONG_ENTITY_TYPE,
                       "%s is a %s, not a %s", hex, have, type_name(etype));
    }
    if (etype && (*out)->kind_case == SCPB__ENTITY_STATE__KIND__NOT_SET) {
        /* Ops of it are here but not its creation (its past has not arrived). */
        rp_state_free(c, *out);
        *out = NULL;
        return cl_fail(c, SC_ERR_NOT_FOUND, SCPB__REASON__REASON_UNKNOWN_ENTITY,
                       "%s %s is not complete in the replica (sync to fetch it)",
                       what ? what : "entity", hex);
    }
    return SC_OK;
}

/*
 * Who a device key speaks for, from server-signed facts only: the device
 * its DeviceEnroll made (label, user) and that user's state (login, name).
 * The replica's own key is known from its identity before its enrollment
 * op is pulled; the server's key is the register itself.
 */
sc_status rp_person_of(sc_client *c, const uint8_t key[SC_KEY_LEN], rp_person *out)
{
    memset(out, 0, sizeof *out);
    if (c->id.enrolled && memcmp(key, c->id.server_key, SC_KEY_LEN) == 0) {
        out->known = out->server = true;
        return SC_OK;
    }
    Scpb__EntityState *dev = NULL, *user = NULL;
    sc_status s = st_device_entity(c, key, out->device_id);
    if (s == SC_OK)
        s = st_state_get(c, out->device_id, &dev);
    const Scpb__DeviceState *d = rp_device(dev);
    if (s == SC_OK && d && d->has_user && d->user.len == SC_ID_LEN) {
        out->known = true;
        memcpy(out->user, d->user.data, SC_ID_LEN);
        snprintf(out->device, sizeof out->device, "%s", d->label ? d->label : "");
        s = st_state_get(c, d->user.data, &user);
        if (s == SC_OK && user->kind_case == SCPB__ENTITY_STATE__KIND_USER) {
            snprintf(out->login, sizeof out->login, "%s", user->user->login ? user->user->login : "");
            snprintf(out->name, sizeof out->name, "%s", user->user->name ? user->user->name : "");
            out->role = user->user->has_role ? (int)user->user->role : 0;
        }
    }
    if (!out->login[0] && c->id.enrolled && memcmp(key, c->id.device_key, SC_KEY_LEN) == 0) {
        out->known = true;
        memcpy(out->user, c->id.user, SC_ID_LEN);
        memcpy(out->device_id, c->id.device_id, SC_ID_LEN);
        snprintf(out->login, sizeof out->login, "%s", c->id.login);
        snprintf(out->name, sizeof out->name, "%s", c->id.name);
        out->role = (int)c->id.role;
    }
    rp_state_free(c, dev);
    rp_state_free(c, user);
    /* Not knowing someone is an answer, not a failure. */
    return s == SC_ERR_NOT_FOUND ? SC_OK : s;
}

sc_status rp_resolve(sc_client *c, const char *text, int etype, const char *what,
                     uint8_t out[SC_ID_LEN])
{
    memset(out, 0, SC_ID_LEN);
    if (!text || !*text)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "no %s given", what);
    uint8_t id[SC_ID_LEN];
    if (cl_parse_id(text, id)) {
        Scpb__EntityState *st = NULL;
        sc_status s = rp_get(c, id, etype, what, &st);
        rp_state_free(c, st);
        if (s == SC_OK)
            memcpy(out, id, SC_ID_LEN);
        return s;
    }
    sc_status s = st_find_code(c, etype, text, id);
    if (s == SC_ERR_NOT_FOUND)
        return cl_fail(c, SC_ERR_NOT_FOUND, SCPB__REASON__REASON_UNKNOWN_REFERENCE,
                       "no %s with code \"%s\" in the replica (sync to fetch it?)", what, text);
    if (s == SC_OK)
        memcpy(out, id, SC_ID_LEN);
    return s;
}

void rp_hlc_observe(sc_client *c, uint64_t hlc)
{
    /* The server's time, as the last answer told it (SC_HLC_FUTURE_MS says why). */
    int64_t server_now = sc_env_now_ms(&c->env) + c->clock_offset_ms;
    if (SC_HLC_MS(hlc) > server_now + SC_HLC_FUTURE_MS)
        return;
    sc_hlc_observe(&c->hlc, hlc);
}

sc_hlc rp_hlc_tick(sc_client *c)
{
    return sc_hlc_tick(&c->hlc, sc_env_now_ms(&c->env));
}

sc_status rp_hlc_save(sc_client *c)
{
    return st_meta_put_u64(c, "hlc", c->hlc);
}

/* Read a fixed-size meta value; absent or of another size is an error. */
static sc_status meta_exact(sc_client *c, const char *key, void *buf, size_t want)
{
    size_t len = 0;
    sc_status s = st_meta_get(c, key, buf, want, &len);
    if (s == SC_OK && len != want)
        s = cl_fail(c, SC_ERR_STORAGE, 0, "replica: identity field %s is damaged", key);
    else if (s == SC_ERR_NOT_FOUND)
        s = cl_fail(c, SC_ERR_STORAGE, 0, "replica: identity field %s is missing", key);
    return s;
}

static sc_status meta_text(sc_client *c, const char *key, char *buf, size_t cap)
{
    size_t len = 0;
    sc_status s = st_meta_get(c, key, buf, cap - 1, &len);
    if (s == SC_ERR_NOT_FOUND) {
        len = 0;
        s = SC_OK;
    }
    buf[s == SC_OK ? len : 0] = '\0';
    return s;
}

sc_status rp_identity_load(sc_client *c)
{
    sc_ident *id = &c->id;
    memset(id, 0, sizeof *id);
    uint64_t hlc = 0;
    sc_status s = st_meta_get_u64(c, "hlc", &hlc);
    if (s != SC_OK && s != SC_ERR_NOT_FOUND)
        return s;
    c->hlc = hlc;
    s = st_meta_get(c, "keyfile", id->keyfile, sizeof id->keyfile, &id->keyfile_len);
    if (s == SC_ERR_NOT_FOUND)
        return SC_OK; /* not enrolled yet */
    if (s != SC_OK)
        return s;
    uint64_t role = 0;
    if ((s = meta_exact(c, "device_key", id->device_key, SC_KEY_LEN)) != SC_OK ||
        (s = meta_exact(c, "server_key", id->server_key, SC_KEY_LEN)) != SC_OK ||
        (s = meta_exact(c, "user", id->user, SC_ID_LEN)) != SC_OK ||
        (s = meta_exact(c, "org", id->org, SC_ID_LEN)) != SC_OK ||
        (s = meta_exact(c, "device_id", id->device_id, SC_ID_LEN)) != SC_OK ||
        (s = meta_text(c, "server", id->server, sizeof id->server)) != SC_OK ||
        (s = meta_text(c, "origin", id->origin, sizeof id->origin)) != SC_OK ||
        (s = meta_text(c, "login", id->login, sizeof id->login)) != SC_OK ||
        (s = meta_text(c, "name", id->name, sizeof id->name)) != SC_OK ||
        (s = st_meta_get_u64(c, "role", &role)) != SC_OK)
        return s;
    id->role = (int)role;
    id->enrolled = true;
    return sv_trust_load(c);
}
