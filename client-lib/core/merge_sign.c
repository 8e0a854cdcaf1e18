/*
 * merge_sign.c: the fold's rules for the inspected unit's sign-off
 * (共同签字确认, 001 L97; 签章, 002 L66; docs/data-model.md §2), and what it
 * adds to an inspection's state.
 *
 * Like every rule of the fold, each op is judged against its own causal
 * past, and the state depends only on the set of ops:
 *  - A sign-off (the representative signs on the inspector's tablet) and
 *    a countersign (with the representative's own enrolled device) are
 *    valid only on an inspection submitted in their past: the unit signs
 *    the record as submitted, not a draft that may still change.
 *  - A sign-off's drawn signature is a photo attached to the inspection in
 *    its past (that PhotoAttach gives its size, time and place), and its
 *    time is not after the op was made.
 *  - A countersign names its own inspection and the user its device is
 *    enrolled for (when the fold knows the device: a replica that has not
 *    pulled the enrollment lets it through, as the register, which always
 *    knows, does not); a user countersigns an inspection once.
 *  - Several sign-offs (several parties of a joint check) are all kept, in
 *    fold order, up to SC_SIGN_OFFS_MAX in any op's past.
 * Rules allocate through the fold's env and set f->oom on failure.
 */
#include <string.h>

#include "hlc.h"
#include "merge_internal.h"

_Static_assert(SC_SIGN_OFFS_MAX == 16, "the sign-off's refusal names 16");

/* The common part of both kinds' rules: a submitted inspection with room for one more. */
static const char *judge_common(fold *f, size_t i, int past)
{
    if (past != I_SUBMITTED)
        return "the inspection is a draft: its unit signs it off once it is submitted";
    size_t m = 0;
    for (size_t k = 0; k < f->nsignoffs; k++)
        m += mg_in_past(f, f->signoffs[k], i);
    if (m >= SC_SIGN_OFFS_MAX)
        return "an inspection takes at most 16 sign-offs and countersigns (SC_SIGN_OFFS_MAX)";
    return NULL;
}

/* A valid photo of the inspection with this hash is attached in op i's past. */
static bool photo_in_past(const fold *f, size_t i, const ProtobufCBinaryData *sha)
{
    for (size_t j = 0; j < f->n; j++) {
        const Scpb__Op *op = mg_op(f, j);
        if (op->body_case != SCPB__OP__BODY_PHOTO_ATTACH || !f->valid[j] || !mg_in_past(f, j, i))
            continue;
        const Scpb__PhotoAttach *p = op->photo_attach;
        if (p->has_sha256 && p->sha256.len == sha->len &&
            memcmp(p->sha256.data, sha->data, sha->len) == 0)
            return true;
    }
    return false;
}

const char *mg_judge_sign_off(fold *f, size_t i, int past, size_t winner)
{
    const Scpb__Op *op = mg_op(f, i);
    const Scpb__SignOff *b = op->sign_off;
    const char *why = judge_common(f, i, past);
    if (why)
        return why;
    if (b->signed_ms > (int64_t)SC_HLC_MS(op->hlc))
        return "the signature's time is after the sign-off was made";
    if (!photo_in_past(f, i, &b->signature))
        return "the drawn signature is not a photo attached to the inspection before the "
               "sign-off";
    mg_push(f, &f->signoffs, &f->nsignoffs, i);
    return NULL;
}

const char *mg_judge_countersign(fold *f, size_t i, int past, size_t winner)
{
    const Scpb__Op *op = mg_op(f, i);
    const Scpb__Countersign *b = op->countersign;
    if (op->entity.len != SC_ID_LEN || b->inspection.len != SC_ID_LEN ||
        memcmp(b->inspection.data, op->entity.data, SC_ID_LEN) != 0)
        return "a countersign names the inspection it is made on";
    const char *why = judge_common(f, i, past);
    if (why)
        return why;
    uint8_t user[SC_ID_LEN];
    if (mg_user_of(f, i, user) && memcmp(user, b->signer.data, SC_ID_LEN) != 0)
        return "the countersign's signer is not the user its device is enrolled for";
    for (size_t k = 0; k < f->nsignoffs; k++) {
        const Scpb__Op *o = mg_op(f, f->signoffs[k]);
        if (o->body_case == SCPB__OP__BODY_COUNTERSIGN && mg_in_past(f, f->signoffs[k], i) &&
            memcmp(o->countersign->signer.data, b->signer.data, SC_ID_LEN) == 0)
            return "this user has already countersigned the inspection";
    }
    mg_push(f, &f->signoffs, &f->nsignoffs, i);
    return NULL;
}

/* ---- the state ---- */

static void init_entry(void *m)
{
    scpb__sign_off_entry__init(m);
}

void mg_state_sign_off(fold *f, Scpb__EntityState *st, size_t i)
{
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_INSPECTION)
        return;
    Scpb__InspectionState *s = st->inspection;
    Scpb__SignOffEntry **nv =
        sc_realloc_array(f->env, s->sign_offs, s->n_sign_offs + 1, sizeof *nv);
    Scpb__SignOffEntry *e = nv ? mg_new_msg(f, sizeof *e, init_entry) : NULL;
    if (nv)
        s->sign_offs = nv;
    if (!e) {
        f->oom = true;
        return;
    }
    nv[s->n_sign_offs++] = e;
    const Scpb__Op *op = mg_op(f, i);
    mg_set_bytes(f, &e->op, &e->has_op, f->in[i].id, SC_HASH_LEN);
    mg_set_bytes(f, &e->by, &e->has_by, mg_author(f, i), SC_KEY_LEN);
    e->has_hlc = true;
    e->hlc = op->hlc;
    if (op->geo)
        e->geo = mg_msg_copy(f, &op->geo->base);
    if (op->body_case == SCPB__OP__BODY_COUNTERSIGN) {
        e->has_countersign = e->countersign = true;
        mg_set_bytes(f, &e->signer, &e->has_signer, op->countersign->signer.data, SC_ID_LEN);
        e->note = mg_str_dup(f, op->countersign->note);
        return;
    }
    const Scpb__SignOff *b = op->sign_off;
    e->name = mg_str_dup(f, b->name);
    e->role = mg_str_dup(f, b->role);
    mg_set_bytes(f, &e->signature, &e->has_signature, b->signature.data, SC_HASH_LEN);
    e->has_signed_ms = true;
    e->signed_ms = b->signed_ms;
}
