/*
 * escalation.c: recording escalations (提醒函, 通报, 约谈, 黄牌, 问责),
 * stop-work orders (停工整改) and the findings a look-back round re-checks
 * (docs/data-model.md §4.3).  A revisit that lifts an order or names its
 * round is sc_revisit_v3 (record.c).
 *
 * Every call turns one act into one signed op through record.c, so the
 * role table, the fold's verdict (overdue or relapsing, an order in force)
 * and the one transaction are those of every recording call; what the
 * register checks beyond the fold (a round's findings are of its target)
 * is checked here first, in people's terms.
 */
#include <string.h>

#include "internal.h"

static char *cs(const char *s)
{
    return (char *)(uintptr_t)s;
}

static sc_status parse_enum(sc_client *c, const sc_names *t, const char *what, const char *text,
                            int *out)
{
    if (text && sc_name_parse(t, text, out))
        return SC_OK;
    char choices[256];
    sc_names_join(t, choices, sizeof choices);
    return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                   "%s \"%s\" is not one of: %s", what, text ? text : "", choices);
}

/* The finding's id, its state (a finding), and the role's leave to make kind on it. */
static sc_status finding_act(sc_client *c, const char *finding, Scpb__Op__BodyCase kind,
                             uint8_t id[SC_ID_LEN])
{
    Scpb__EntityState *st = NULL;
    sc_status s = rc_parse_entity_id(c, finding, "finding", id);
    if (s == SC_OK)
        s = rc_check_policy(c, kind, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    if (s == SC_OK)
        s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, "finding", &st);
    rp_state_free(c, st);
    return s;
}

sc_status sc_escalate(sc_client *c, const char *finding, const sc_escalation_params *p,
                      char out_op[SC_HASH_HEX_LEN])
{
    if (out_op)
        out_op[0] = '\0';
    if (!c)
        return SC_ERR_INVALID_ARG;
    if (!p)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "no parameters");
    sc_escalation_params q;
    sc_status s = cl_sized(c, &q, sizeof q, CL_SIZE_THROUGH(sc_escalation_params, n_photos), p,
                           "sc_escalation_params");
    if (s != SC_OK || (s = rc_act_begin(c)) != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN], op_id[SC_HASH_LEN];
    int step = 0, level = 0;
    void *ph = NULL;
    ProtobufCBinaryData *ev = NULL;
    if ((s = finding_act(c, finding, SCPB__OP__BODY_ESCALATION, id)) != SC_OK ||
        (s = parse_enum(c, &sc_names_escalation_step, "step", q.step, &step)) != SC_OK ||
        (s = parse_enum(c, &sc_names_org_level, "level", q.level, &level)) != SC_OK ||
        (s = rc_need_text(c, q.reason, "an escalation states its reason (--reason)")) != SC_OK ||
        (s = rc_with_evidence(c, id, q.photos, q.n_photos, &ph, &ev)) != SC_OK)
        goto done;
    Scpb__Op op;
    rc_op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    Scpb__Escalation b = SCPB__ESCALATION__INIT;
    b.has_step = b.has_level = true;
    b.step = (Scpb__EscalationStep)step;
    b.level = (Scpb__OrgLevel)level;
    b.reason = cs(q.reason);
    b.n_evidence = q.n_photos;
    b.evidence = ev;
    op.body_case = SCPB__OP__BODY_ESCALATION;
    op.escalation = &b;
    s = rc_make_op(c, &op, op_id);
    rc_op_out(s, op_id, out_op);
done:
    sc_free(&c->env, ph);
    sc_free(&c->env, ev);
    return rc_act_end(c, s);
}

sc_status sc_stop_work(sc_client *c, const char *finding, const char *reason,
                       char out_op[SC_HASH_HEX_LEN])
{
    if (out_op)
        out_op[0] = '\0';
    sc_status s = rc_act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN], op_id[SC_HASH_LEN];
    if ((s = finding_act(c, finding, SCPB__OP__BODY_STOP_WORK, id)) == SC_OK &&
        (s = rc_need_text(c, reason,
                          "a stop-work order (停工整改) states its reason (--reason)")) == SC_OK) {
        Scpb__Op op;
        rc_op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
        Scpb__StopWork b = SCPB__STOP_WORK__INIT;
        b.reason = cs(reason);
        op.body_case = SCPB__OP__BODY_STOP_WORK;
        op.stop_work = &b;
        s = rc_make_op(c, &op, op_id);
        rc_op_out(s, op_id, out_op);
    }
    return rc_act_end(c, s);
}

/* ---- a look-back round's findings ---- */

sc_status es_rechecks(sc_client *c, const char *const *rechecks, size_t n,
                      const uint8_t target[SC_ID_LEN], ProtobufCBinaryData **out)
{
    *out = NULL;
    if (n == 0)
        return SC_OK;
    if (n > SC_RECHECKS_MAX || !rechecks)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "a look-back round re-checks at most %d findings, not %zu", SC_RECHECKS_MAX,
                       n);
    uint8_t(*ids)[SC_ID_LEN] = sc_calloc(&c->env, n, SC_ID_LEN);
    ProtobufCBinaryData *refs = sc_calloc(&c->env, n + 1, sizeof *refs + SC_ID_LEN);
    if (!ids || !refs) {
        sc_free(&c->env, ids);
        sc_free(&c->env, refs);
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    }
    /* The ids live after the n + 1 refs, in the one block the caller frees. */
    uint8_t(*keep)[SC_ID_LEN] = (uint8_t(*)[SC_ID_LEN])(refs + n + 1);
    sc_status s = SC_OK;
    for (size_t i = 0; s == SC_OK && i < n; i++) {
        Scpb__EntityState *st = NULL;
        if ((s = rc_parse_entity_id(c, rechecks[i], "finding", ids[i])) != SC_OK ||
            (s = rp_get(c, ids[i], SCPB__ENTITY_TYPE__ENTITY_FINDING, "finding", &st)) != SC_OK)
            break;
        const Scpb__FindingState *f = rp_finding(st);
        bool same = f && f->has_target && f->target.len == SC_ID_LEN &&
                    memcmp(f->target.data, target, SC_ID_LEN) == 0;
        rp_state_free(c, st);
        if (!same)
            s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                        "finding %s is of another target: a look-back round re-checks the "
                        "findings of its own target",
                        rechecks[i]);
        for (size_t j = 0; s == SC_OK && j < i; j++)
            if (memcmp(ids[j], ids[i], SC_ID_LEN) == 0)
                s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                            "finding %s is named twice", rechecks[i]);
        memcpy(keep[i], ids[i], SC_ID_LEN);
        refs[i] = (ProtobufCBinaryData){SC_ID_LEN, keep[i]};
    }
    sc_free(&c->env, ids);
    if (s != SC_OK) {
        sc_free(&c->env, refs);
        return s;
    }
    *out = refs;
    return SC_OK;
}
