/*
 * signoff.c: recording the inspected unit's sign-off (共同签字确认, 001 L97;
 * 签章, 002 L66; docs/data-model.md §2): the representative signs on the
 * inspector's tablet (sc_check_sign_off), or countersigns with their own
 * enrolled device (sc_check_countersign).
 *
 * Each call is one act through record.c, so the role table, the fold's
 * verdict (a submitted inspection, the signature a photo in its past, a
 * user countersigns once) and the one transaction are those of every
 * recording call.  What can be told before a photo is copied (the
 * inspection is here and submitted, the fields are there) is checked
 * first, so a refused sign-off leaves nothing behind.
 */
#include <string.h>

#include "internal.h"

static char *cs(const char *s)
{
    return (char *)(uintptr_t)s;
}

/* The inspection's id; it is in this replica and submitted, and the role may make kind on it. */
static sc_status submitted_check(sc_client *c, const char *check, Scpb__Op__BodyCase kind,
                                 uint8_t id[SC_ID_LEN])
{
    Scpb__EntityState *st = NULL;
    sc_status s = rc_parse_entity_id(c, check, "inspection", id);
    if (s == SC_OK)
        s = rc_check_policy(c, kind, SCPB__ENTITY_TYPE__ENTITY_INSPECTION);
    if (s == SC_OK)
        s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, "inspection", &st);
    if (s == SC_OK && st->inspection->status != SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED)
        s = cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                    "inspection %s is a draft: its unit signs it off once it is submitted "
                    "(spotcheck check submit)",
                    check);
    rp_state_free(c, st);
    return s;
}

sc_status sc_check_sign_off(sc_client *c, const char *check, const sc_sign_off_params *p,
                            char out_op[SC_HASH_HEX_LEN])
{
    if (out_op)
        out_op[0] = '\0';
    if (!c)
        return SC_ERR_INVALID_ARG;
    if (!p)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "no parameters");
    sc_sign_off_params q;
    sc_status s = cl_sized(c, &q, sizeof q, CL_SIZE_THROUGH(sc_sign_off_params, lon_e7), p,
                           "sc_sign_off_params");
    if (s != SC_OK || (s = rc_act_begin(c)) != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN], sha[SC_HASH_LEN], op_id[SC_HASH_LEN];
    Scpb__Geo geo;
    if ((s = rc_need_text(c, q.name, "a sign-off gives the representative's name (--name)")) !=
            SC_OK ||
        (s = rc_need_text(c, q.role, "a sign-off gives the representative's post (--role)")) !=
            SC_OK ||
        (s = rc_need_text(c, q.signature,
                          "a sign-off carries the drawn signature, an image file "
                          "(--signature)")) != SC_OK ||
        (s = rc_geo_in(c, q.has_gps, q.lat_e7, q.lon_e7, &geo)) != SC_OK ||
        (s = submitted_check(c, check, SCPB__OP__BODY_SIGN_OFF, id)) != SC_OK)
        goto done;
    /* The time it was signed: now, read before the op's HLC is ticked, so never after it. */
    int64_t now = sc_env_now_ms(&c->env);
    if ((s = rc_attach_photo(c, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, q.signature,
                             "signature (签字)", q.has_gps ? &geo : NULL, sha)) != SC_OK)
        goto done;
    Scpb__Op op;
    rc_op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION);
    Scpb__SignOff b = SCPB__SIGN_OFF__INIT;
    b.name = cs(q.name);
    b.role = cs(q.role);
    b.has_signature = b.has_signed_ms = true;
    b.signature = (ProtobufCBinaryData){SC_HASH_LEN, sha};
    b.signed_ms = now;
    op.body_case = SCPB__OP__BODY_SIGN_OFF;
    op.sign_off = &b;
    op.geo = q.has_gps ? &geo : NULL;
    s = rc_make_op(c, &op, op_id);
    rc_op_out(s, op_id, out_op);
done:
    return rc_act_end(c, s);
}

sc_status sc_check_countersign(sc_client *c, const char *check, const sc_countersign_params *p,
                               char out_op[SC_HASH_HEX_LEN])
{
    if (out_op)
        out_op[0] = '\0';
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_countersign_params q = {.size = sizeof q};
    sc_status s = p ? cl_sized(c, &q, sizeof q, CL_SIZE_THROUGH(sc_countersign_params, lon_e7), p,
                               "sc_countersign_params")
                    : SC_OK;
    if (s != SC_OK || (s = rc_act_begin(c)) != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN], op_id[SC_HASH_LEN];
    Scpb__Geo geo;
    if ((s = rc_geo_in(c, q.has_gps, q.lat_e7, q.lon_e7, &geo)) != SC_OK ||
        (s = submitted_check(c, check, SCPB__OP__BODY_COUNTERSIGN, id)) != SC_OK)
        goto done;
    Scpb__Op op;
    rc_op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION);
    Scpb__Countersign b = SCPB__COUNTERSIGN__INIT;
    b.has_inspection = b.has_signer = true;
    b.inspection = (ProtobufCBinaryData){SC_ID_LEN, id};
    b.signer = (ProtobufCBinaryData){SC_ID_LEN, c->id.user};
    b.note = cs(q.note);
    op.body_case = SCPB__OP__BODY_COUNTERSIGN;
    op.countersign = &b;
    op.geo = q.has_gps ? &geo : NULL;
    s = rc_make_op(c, &op, op_id);
    rc_op_out(s, op_id, out_op);
done:
    return rc_act_end(c, s);
}
