/*
 * selfcheck.c: self-checks (自查) and self-reported hazards (自查自纠, 及时
 * 登记) on the tablet (docs/data-model.md §4.4).  A user of the responsible
 * role opens self-checks of its own unit's targets and raises hazards in
 * them (or on its own), which are marked self-reported; nobody else opens
 * a self-check or raises a hazard in one.  syncd holds every op to the
 * same (register_self.c); these checks say so before anything is
 * recorded, in people's terms.
 */
#include <string.h>

#include "internal.h"

static bool responsible(const sc_client *c)
{
    return c->id.role == SCPB__ROLE__ROLE_RESPONSIBLE;
}

/* The code of org unit id, or "?" when the replica lacks it (into buf). */
static const char *org_code(sc_client *c, const uint8_t id[SC_ID_LEN], char *buf, size_t cap)
{
    Scpb__EntityState *st = NULL;
    bool named = st_state_get(c, id, &st) == SC_OK &&
                 st->kind_case == SCPB__ENTITY_STATE__KIND_ORG && st->org->code;
    snprintf(buf, cap, "%s", named ? st->org->code : "?");
    rp_state_free(c, st);
    return buf;
}

sc_status sf_open(sc_client *c, int kind, const uint8_t target[SC_ID_LEN], bool *self_check)
{
    *self_check = false;
    if (!responsible(c))
        return SC_OK;
    if (kind != SCPB__INSPECTION_KIND__KIND_SELF)
        return cl_fail(c, SC_ERR_FORBIDDEN, SCPB__REASON__REASON_FORBIDDEN_ROLE,
                       "a responsible user opens self-checks (自查) only, on its own unit's "
                       "targets (check open --kind self)");
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, target, &st);
    bool has_org = s == SC_OK && st->kind_case == SCPB__ENTITY_STATE__KIND_TARGET &&
                   st->target->has_org && st->target->org.len == SC_ID_LEN;
    uint8_t org[SC_ID_LEN];
    if (has_org)
        memcpy(org, st->target->org.data, SC_ID_LEN);
    rp_state_free(c, st);
    bool own = false;
    if (has_org && (s = gv_org_within(c, org, c->id.org, &own)) != SC_OK)
        return s;
    if (!own) {
        char theirs[SC_CODE_MAX + 1], mine[SC_CODE_MAX + 1];
        return cl_fail(c, SC_ERR_FORBIDDEN, SCPB__REASON__REASON_OUT_OF_SCOPE,
                       "a self-check (自查) is of your own unit's targets: this target is %s's, "
                       "and you speak for %s",
                       has_org ? org_code(c, org, theirs, sizeof theirs) : "?",
                       org_code(c, c->id.org, mine, sizeof mine));
    }
    *self_check = true;
    return SC_OK;
}

sc_status sf_finding(sc_client *c, const uint8_t *check, bool *self_reported)
{
    *self_reported = responsible(c);
    if (!check)
        return SC_OK;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, check, &st);
    bool self = s == SC_OK && rp_inspection(st) && st->inspection->self_check;
    rp_state_free(c, st);
    if (s != SC_OK && s != SC_ERR_NOT_FOUND)
        return s;
    if (*self_reported && !self)
        return cl_fail(c, SC_ERR_FORBIDDEN, SCPB__REASON__REASON_FORBIDDEN_ROLE,
                       "a responsible user raises hazards in its own self-checks (自查) only");
    if (!*self_reported && self)
        return cl_fail(c, SC_ERR_FORBIDDEN, SCPB__REASON__REASON_FORBIDDEN_ROLE,
                       "the findings of a self-check (自查) are the responsible unit's own");
    return SC_OK;
}

/* Is inspection id a self-check of target?  SC_OK or the refusal naming text. */
static sc_status verifiable(sc_client *c, const char *text, const uint8_t id[SC_ID_LEN],
                            const uint8_t target[SC_ID_LEN])
{
    Scpb__EntityState *st = NULL;
    sc_status s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, "inspection", &st);
    if (s != SC_OK)
        return s;
    const Scpb__InspectionState *in = rp_inspection(st);
    bool self = in && in->self_check;
    bool same = in && in->has_target && in->target.len == SC_ID_LEN &&
                memcmp(in->target.data, target, SC_ID_LEN) == 0;
    rp_state_free(c, st);
    if (!self)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "inspection %s is not a self-check (自查): a spot check verifies "
                       "self-checks",
                       text);
    if (!same)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "self-check %s is of another target: a spot check verifies the "
                       "self-checks of its own target",
                       text);
    return SC_OK;
}

sc_status sf_verifies(sc_client *c, const char *const *checks, size_t n,
                      const uint8_t target[SC_ID_LEN], ProtobufCBinaryData **out)
{
    *out = NULL;
    if (n == 0)
        return SC_OK;
    if (n > SC_VERIFIES_MAX || !checks)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "a spot check verifies at most %d self-checks, not %zu", SC_VERIFIES_MAX,
                       n);
    /* The ids live after the n + 1 refs, in the one block the caller frees. */
    ProtobufCBinaryData *refs = sc_calloc(&c->env, n + 1, sizeof *refs + SC_ID_LEN);
    if (!refs)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    uint8_t(*ids)[SC_ID_LEN] = (uint8_t(*)[SC_ID_LEN])(refs + n + 1);
    sc_status s = SC_OK;
    for (size_t i = 0; s == SC_OK && i < n; i++) {
        if ((s = rc_parse_entity_id(c, checks[i], "inspection", ids[i])) != SC_OK ||
            (s = verifiable(c, checks[i], ids[i], target)) != SC_OK)
            break;
        for (size_t j = 0; s == SC_OK && j < i; j++)
            if (memcmp(ids[j], ids[i], SC_ID_LEN) == 0)
                s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                            "self-check %s is named twice", checks[i]);
        refs[i] = (ProtobufCBinaryData){SC_ID_LEN, ids[i]};
    }
    if (s != SC_OK) {
        sc_free(&c->env, refs);
        return s;
    }
    *out = refs;
    return SC_OK;
}
