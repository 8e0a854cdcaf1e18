/*
 * query_esc.c: escalations, stop-work orders and look-backs as JSON
 * (docs/data-model.md §4.3): the flags of a finding's list item (derived at
 * query time from its state, today and the escalation ladder of its
 * target's org unit), the whole record in its show, and an assignment's
 * look-back round: the findings it re-checks and the look-backs done.
 *
 * Reads only.  Device keys stay hex; the show's people names them.
 */
#include <string.h>

#include "core/hlc.h"
#include "internal.h"

static json_t *jms(uint64_t hlc, bool has)
{
    return has ? json_integer((json_int_t)SC_HLC_MS(hlc)) : json_null();
}

static json_t *jstep(Scpb__EscalationStep step)
{
    return step ? qr_jname(&sc_names_escalation_step, step) : json_null();
}

void eq_item(sc_client *c, const Scpb__EntityState *st, const sc_gov_policy *pol, json_t *item)
{
    const Scpb__FindingState *f = rp_finding(st);
    if (!f)
        return;
    sc_gov_flags fl;
    sc_gov_flags_of(st, pol, qr_today(c), &fl);
    json_object_set_new(item, "stop_work", json_boolean(fl.stop_work));
    json_object_set_new(item, "escalations", json_integer((json_int_t)f->n_escalations));
    json_object_set_new(item, "escalated_step", jstep(fl.escalated_step));
    json_object_set_new(item, "late_days", json_integer(fl.late_days));
    json_object_set_new(item, "suggested_step", jstep(fl.suggested_step));
    json_object_set_new(item, "needs_escalation", json_boolean(fl.needs_escalation));
    json_object_set_new(item, "look_backs", json_integer((json_int_t)f->n_look_backs));
    json_object_set_new(item, "self_reported", json_boolean(f->self_reported));
}

static json_t *escalations_json(const Scpb__FindingState *f)
{
    json_t *a = json_array();
    for (size_t k = 0; k < f->n_escalations; k++) {
        const Scpb__EscalationEntry *e = f->escalations[k];
        json_t *ev = json_array();
        for (size_t j = 0; j < e->n_evidence; j++)
            json_array_append_new(ev, qr_jhex(e->evidence[j].data, e->evidence[j].len));
        json_array_append_new(
            a, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "op", qr_jbin(&e->op, e->has_op), "by",
                         qr_jbin(&e->by, e->has_by), "at_ms", jms(e->hlc, e->has_hlc), "step",
                         jstep(e->step), "level", qr_jname(&sc_names_org_level, e->level),
                         "reason", qr_jstr(e->reason), "evidence", ev));
    }
    return a;
}

static json_t *stop_work_json(const Scpb__FindingState *f)
{
    json_t *a = json_array();
    for (size_t k = 0; k < f->n_stop_work; k++) {
        const Scpb__StopWorkOrder *o = f->stop_work[k];
        json_array_append_new(
            a, json_pack("{s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o}", "op", qr_jbin(&o->op, o->has_op),
                         "by", qr_jbin(&o->by, o->has_by), "at_ms", jms(o->hlc, o->has_hlc),
                         "reason", qr_jstr(o->reason), "lifted", (int)o->has_lifted_op,
                         "lifted_op", qr_jbin(&o->lifted_op, o->has_lifted_op), "lifted_by",
                         qr_jbin(&o->lifted_by, o->has_lifted_by), "lifted_at_ms",
                         jms(o->lifted_hlc, o->has_lifted_hlc)));
    }
    return a;
}

static json_t *look_backs_json(const Scpb__FindingState *f)
{
    json_t *a = json_array();
    for (size_t k = 0; k < f->n_look_backs; k++) {
        const Scpb__LookBackEntry *e = f->look_backs[k];
        json_array_append_new(a, json_pack("{s:o,s:o,s:o,s:o}", "op", qr_jbin(&e->op, e->has_op),
                                           "round", qr_jbin(&e->assignment, e->has_assignment),
                                           "result", qr_jname(&sc_names_revisit, e->result),
                                           "at_ms", jms(e->hlc, e->has_hlc)));
    }
    return a;
}

void eq_show(sc_client *c, const Scpb__EntityState *st, json_t *o)
{
    const Scpb__FindingState *f = rp_finding(st);
    if (!f)
        return;
    json_object_set_new(o, "escalations", escalations_json(f));
    json_object_set_new(o, "stop_work", stop_work_json(f));
    json_object_set_new(o, "stop_work_in_force", json_boolean(f->stop_work_in_force));
    json_object_set_new(o, "look_backs", look_backs_json(f));
    json_object_set_new(o, "look_backs_done", json_integer((json_int_t)f->n_look_backs));
    json_object_set_new(o, "self_reported", json_boolean(f->self_reported));
}

sc_status eq_name_keys(sc_client *c, const Scpb__EntityState *st,
                       sc_status (*name)(sc_client *c, json_t *people,
                                         const ProtobufCBinaryData *key, bool has),
                       json_t *people)
{
    const Scpb__FindingState *f = rp_finding(st);
    sc_status s = SC_OK;
    for (size_t k = 0; f && s == SC_OK && k < f->n_escalations; k++)
        s = name(c, people, &f->escalations[k]->by, f->escalations[k]->has_by);
    for (size_t k = 0; f && s == SC_OK && k < f->n_stop_work; k++)
        if ((s = name(c, people, &f->stop_work[k]->by, f->stop_work[k]->has_by)) == SC_OK)
            s = name(c, people, &f->stop_work[k]->lifted_by, f->stop_work[k]->has_lifted_by);
    return s;
}

void eq_assignment(sc_client *c, const Scpb__AssignmentState *a, const uint8_t id[SC_ID_LEN],
                   json_t *item)
{
    json_t *rechecks = json_array();
    int64_t done = 0;
    for (size_t k = 0; k < a->n_rechecks; k++) {
        const ProtobufCBinaryData *fid = &a->rechecks[k];
        json_array_append_new(rechecks, qr_jhex(fid->data, fid->len));
        Scpb__EntityState *st = NULL;
        if (fid->len != SC_ID_LEN || st_state_get(c, fid->data, &st) != SC_OK)
            continue; /* not pulled here (yet): its look-backs are not counted */
        const Scpb__FindingState *f = rp_finding(st);
        for (size_t j = 0; f && j < f->n_look_backs; j++)
            done += f->look_backs[j]->assignment.len == SC_ID_LEN &&
                    memcmp(f->look_backs[j]->assignment.data, id, SC_ID_LEN) == 0;
        rp_state_free(c, st);
    }
    json_object_set_new(item, "rechecks", rechecks);
    json_object_set_new(item, "look_backs_done", json_integer((json_int_t)done));
    json_t *verifies = json_array();
    for (size_t k = 0; k < a->n_verifies; k++)
        json_array_append_new(verifies, qr_jhex(a->verifies[k].data, a->verifies[k].len));
    json_object_set_new(item, "verifies", verifies);
}
