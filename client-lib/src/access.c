/*
 * access.c: whether a pulled op's author was allowed to sign it as far as
 * its user goes: a disabled user's devices sign nothing from the disable
 * on, until the user is enabled again (docs/data-model.md §3).  syncd
 * refuses such ops; a client checks it again, as it checks revocations, so
 * a server that logged one is caught.
 *
 * The replica keeps one row per UserDisable and UserEnable op pulled, at
 * its log index (store.c, user_access), and an answer being verified adds
 * the ones it brings (cl_access_note) before they are stored.  The state
 * of a user just before index i is the last of these before i: the
 * register logs a user's changes one after another, so their log order is
 * the fold's.  Most registers never disable anyone; then nothing is looked
 * up per op.
 */
#include <stdio.h>
#include <string.h>

#include "core/reason.h"
#include "internal.h"

void cl_access_init(cl_access *a)
{
    memset(a, 0, sizeof *a);
    a->any = -1;
}

void cl_access_dispose(sc_client *c, cl_access *a)
{
    sc_free(&c->env, a->acts);
    memset(a, 0, sizeof *a);
}

sc_status cl_access_note(sc_client *c, cl_access *a, const Scpb__Op *o, uint64_t index)
{
    if (o->body_case != SCPB__OP__BODY_USER_DISABLE && o->body_case != SCPB__OP__BODY_USER_ENABLE)
        return SC_OK;
    if (o->entity.len != SC_ID_LEN)
        return SC_OK;
    cl_access_act *na = sc_realloc_array(&c->env, a->acts, a->n + 1, sizeof *na);
    if (!na)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory verifying pulled ops");
    a->acts = na;
    cl_access_act *x = &na[a->n++];
    memcpy(x->user, o->entity.data, SC_ID_LEN);
    x->index = index;
    x->disabled = o->body_case == SCPB__OP__BODY_USER_DISABLE;
    a->any = 1;
    return SC_OK;
}

/* Was user disabled just before index: the answer's own acts first, then the replica's. */
static sc_status disabled_at(sc_client *c, const cl_access *a, const uint8_t user[SC_ID_LEN],
                             uint64_t index, bool *disabled, uint64_t *since)
{
    size_t best = a->n;
    for (size_t i = 0; i < a->n; i++)
        if (a->acts[i].index < index && memcmp(a->acts[i].user, user, SC_ID_LEN) == 0 &&
            (best == a->n || a->acts[i].index > a->acts[best].index))
            best = i;
    if (best < a->n) {
        *disabled = a->acts[best].disabled;
        *since = a->acts[best].index;
        return SC_OK;
    }
    *since = 0;
    return st_user_disabled_at(c, user, index, disabled);
}

sc_status cl_access_disabled(sc_client *c, cl_access *a, const uint8_t key[SC_KEY_LEN],
                             const uint8_t *user, uint64_t index, bool *disabled)
{
    *disabled = false;
    if (a->any < 0) {
        bool any = false;
        sc_status s = st_user_access_any(c, &any);
        if (s != SC_OK)
            return s;
        a->any = any || a->n > 0;
    }
    if (!a->any)
        return SC_OK;
    uint8_t u[SC_ID_LEN];
    if (!user) {
        sc_status s = rp_user_of(c, key, u);
        if (s == SC_ERR_NOT_FOUND)
            return SC_OK; /* no enrollment names it: refused as an unknown device already */
        if (s != SC_OK)
            return s;
        user = u;
    }
    uint64_t since = 0;
    return disabled_at(c, a, user, index, disabled, &since);
}

sc_status cl_access_check(sc_client *c, cl_access *a, const uint8_t key[SC_KEY_LEN],
                          const uint8_t *user, uint64_t index, const uint8_t op_id[SC_HASH_LEN])
{
    bool disabled = false;
    sc_status s = cl_access_disabled(c, a, key, user, index, &disabled);
    if (s != SC_OK || !disabled)
        return s;
    char hex[SC_HASH_HEX];
    cl_hex(op_id, SC_HASH_LEN, hex, sizeof hex);
    return cl_fail(c, SC_ERR_BAD_SIGNATURE, SC_REASON_USER_DISABLED,
                   "op %.16s at log index %llu: its author's user was disabled before it", hex,
                   (unsigned long long)index);
}
