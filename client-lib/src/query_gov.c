/*
 * query_gov.c: a finding's rectification governance as JSON
 * (docs/data-model.md §4): the flags of its list item (derived at query
 * time from its state, today and the register's policy for its target's
 * org unit, like overdue) and the whole story in its show: the notice and
 * its defaults, sign-for, the plan in effect and whether it was sent back,
 * the extensions and their decisions, the deadline in force each time it
 * changed, and the acceptance (验收).
 *
 * Reads only.  Device keys stay hex; the show's people names them.
 */
#include <stdio.h>
#include <string.h>

#include "core/hlc.h"
#include "internal.h"

/* Policies by target, remembered through one read pass (a register has tens of targets). */
typedef struct gq_memo {
    size_t n;
    struct {
        uint8_t target[SC_ID_LEN];
        sc_gov_policy pol;
    } e[SC_GOV_MEMO_TARGETS];
} gq_memo;

void gq_memo_begin(sc_client *c)
{
    if (!c->policies)
        c->policies = sc_calloc(&c->env, 1, sizeof *c->policies);
}

void gq_memo_end(sc_client *c)
{
    sc_free(&c->env, c->policies);
    c->policies = NULL;
}

static void walk_policy(sc_client *c, const Scpb__FindingState *f, sc_gov_policy *out);

/* The policy for the finding's target's org unit (the defaults when the replica lacks it). */
static void policy_of(sc_client *c, const Scpb__FindingState *f, sc_gov_policy *out)
{
    gq_memo *m = c->policies;
    bool keyed = m && f->has_target && f->target.len == SC_ID_LEN;
    for (size_t i = 0; keyed && i < m->n; i++)
        if (memcmp(m->e[i].target, f->target.data, SC_ID_LEN) == 0) {
            *out = m->e[i].pol;
            return;
        }
    walk_policy(c, f, out);
    if (keyed && m->n < SC_GOV_MEMO_TARGETS) {
        memcpy(m->e[m->n].target, f->target.data, SC_ID_LEN);
        m->e[m->n++].pol = *out;
    }
}

static void walk_policy(sc_client *c, const Scpb__FindingState *f, sc_gov_policy *out)
{
    Scpb__EntityState *t = NULL;
    bool found = f->has_target && f->target.len == SC_ID_LEN &&
                 st_state_get(c, f->target.data, &t) == SC_OK &&
                 t->kind_case == SCPB__ENTITY_STATE__KIND_TARGET && t->target->has_org &&
                 t->target->org.len == SC_ID_LEN &&
                 gv_policy_for(c, t->target->org.data, out) == SC_OK;
    if (!found)
        sc_gov_policy_default(out);
    rp_state_free(c, t);
}

static json_t *jms(uint64_t hlc, bool has)
{
    return has ? json_integer((json_int_t)SC_HLC_MS(hlc)) : json_null();
}

void gq_item(sc_client *c, const Scpb__EntityState *st, json_t *item)
{
    const Scpb__FindingState *f = rp_finding(st);
    if (!f)
        return;
    sc_gov_policy pol;
    policy_of(c, f, &pol);
    sc_gov_flags fl;
    sc_gov_flags_of(st, &pol, qr_today(c), &fl);
    const Scpb__GovernanceState *g = f->governance;
    json_object_set_new(item, "notice", json_boolean(fl.notice));
    json_object_set_new(item, "responsible_defaulted", json_boolean(g && g->responsible_defaulted));
    json_object_set_new(item, "deadline_defaulted", json_boolean(g && g->deadline_defaulted));
    json_object_set_new(item, "signed_for", json_boolean(fl.signed_for));
    json_object_set_new(item, "sign_for_late", json_boolean(fl.sign_for_late));
    json_object_set_new(item, "plan", json_boolean(g && g->plan && !g->plan->returned));
    json_object_set_new(item, "plan_late", json_boolean(fl.plan_late));
    json_object_set_new(item, "extensions_pending", json_integer(fl.extensions_pending));
    json_object_set_new(item, "overdue_days", json_integer(fl.overdue_days));
    json_object_set_new(item, "accepted", json_boolean(g && g->has_accepted_by));
    eq_item(c, st, &pol, item);
}

/* "12000.50" from hundredths. */
static json_t *jamount(int64_t cents, bool has)
{
    if (!has)
        return json_null();
    char buf[32];
    snprintf(buf, sizeof buf, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
    return json_string(buf);
}

static json_t *plan_json(sc_client *c, const Scpb__PlanState *ps)
{
    if (!ps || !ps->plan)
        return json_null();
    const Scpb__RectificationPlan *p = ps->plan;
    json_t *person =
        json_pack("{s:o,s:o,s:o}", "user", qr_jref(c, &p->person_user, p->has_person_user), "name",
                  qr_jstr(p->person_name), "phone", qr_jstr(p->person_phone));
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o}", "op",
                     qr_jbin(&ps->op, ps->has_op), "by", qr_jbin(&ps->author, ps->has_author),
                     "at_ms", jms(ps->hlc, ps->has_hlc), "person", person, "measures",
                     qr_jstr(p->measures), "funds", jamount(p->funds_cents, p->has_funds_cents),
                     "funds_source", qr_jstr(p->funds_source), "interim", qr_jstr(p->interim),
                     "lead_official", qr_jstr(p->lead_official), "returned", (int)ps->returned,
                     "return_reason", qr_jstr(ps->return_reason), "returned_by",
                     qr_jbin(&ps->returned_by, ps->has_returned_by), "returned_at_ms",
                     jms(ps->returned_hlc, ps->has_returned_hlc));
}

static json_t *extensions_json(const Scpb__GovernanceState *g)
{
    json_t *a = json_array();
    for (size_t k = 0; g && k < g->n_extensions; k++) {
        const Scpb__ExtensionState *e = g->extensions[k];
        json_array_append_new(a, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "request",
                                           qr_jbin(&e->request, e->has_request), "by",
                                           qr_jbin(&e->requested_by, e->has_requested_by), "at_ms",
                                           jms(e->requested_hlc, e->has_requested_hlc), "deadline",
                                           qr_jday(e->deadline_day, e->has_deadline_day), "reason",
                                           qr_jstr(e->reason), "status",
                                           qr_jname(&sc_names_extension_status, e->status),
                                           "decided_by", qr_jbin(&e->decided_by, e->has_decided_by),
                                           "decided_at_ms", jms(e->decided_hlc, e->has_decided_hlc),
                                           "decision_reason", qr_jstr(e->decision_reason)));
    }
    return a;
}

static json_t *history_json(const Scpb__GovernanceState *g)
{
    json_t *a = json_array();
    for (size_t k = 0; g && k < g->n_deadlines; k++) {
        const Scpb__DeadlineEntry *e = g->deadlines[k];
        json_array_append_new(a,
                              json_pack("{s:o,s:o,s:o,s:o}", "deadline",
                                        qr_jday(e->deadline_day, e->has_deadline_day), "from_ms",
                                        jms(e->hlc, e->has_hlc), "op", qr_jbin(&e->op, e->has_op),
                                        "cause", qr_jname(&sc_names_deadline_cause, e->cause)));
    }
    return a;
}

void gq_show(sc_client *c, const Scpb__EntityState *st, json_t *o)
{
    const Scpb__FindingState *f = rp_finding(st);
    const Scpb__GovernanceState *g = f ? f->governance : NULL;
    eq_show(c, st, o);
    if (!g) {
        json_object_set_new(o, "governance", json_null());
        return;
    }
    sc_gov_policy pol;
    policy_of(c, f, &pol);
    sc_gov_flags fl;
    sc_gov_flags_of(st, &pol, qr_today(c), &fl);
    json_t *notice =
        g->has_notice_op
            ? json_pack("{s:o,s:o,s:o,s:b,s:b,s:o}", "op", qr_jbin(&g->notice_op, true), "by",
                        qr_jbin(&g->notice_by, g->has_notice_by), "at_ms",
                        jms(g->notice_hlc, g->has_notice_hlc), "responsible_defaulted",
                        (int)g->responsible_defaulted, "deadline_defaulted",
                        (int)g->deadline_defaulted, "sign_for_due",
                        qr_jday(fl.sign_for_due, fl.notice))
            : json_null();
    json_t *signed_for = g->has_signed_for_op
                             ? json_pack("{s:o,s:o,s:o}", "op", qr_jbin(&g->signed_for_op, true),
                                         "by", qr_jbin(&g->signed_for_by, g->has_signed_for_by),
                                         "at_ms", jms(g->signed_for_hlc, g->has_signed_for_hlc))
                             : json_null();
    json_t *policy =
        json_pack("{s:i,s:i,s:i,s:i}", "general_days", pol.general_days, "major_days",
                  pol.major_days, "sign_for_days", pol.sign_for_days, "plan_days", pol.plan_days);
    json_t *gov =
        json_pack("{s:i,s:o,s:o,s:o,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "rules", (int)g->rules, "notice",
                  notice, "signed_for", signed_for, "plan", plan_json(c, g->plan), "plan_count",
                  (int)g->plan_count, "plan_due", qr_jday(fl.plan_due, fl.plan_due_applies),
                  "extensions", extensions_json(g), "deadline_history", history_json(g),
                  "accepted_by", qr_jbin(&g->accepted_by, g->has_accepted_by), "accepted_at_ms",
                  jms(g->accepted_hlc, g->has_accepted_hlc), "policy", policy);
    json_object_set_new(o, "governance", gov ? gov : json_null());
}

sc_status gq_name_keys(sc_client *c, const Scpb__EntityState *st,
                       sc_status (*name)(sc_client *c, json_t *people,
                                         const ProtobufCBinaryData *key, bool has),
                       json_t *people)
{
    const Scpb__FindingState *f = rp_finding(st);
    const Scpb__GovernanceState *g = f ? f->governance : NULL;
    sc_status s = eq_name_keys(c, st, name, people);
    if (!g || s != SC_OK)
        return s;
    s = name(c, people, &g->notice_by, g->has_notice_by);
    if (s == SC_OK)
        s = name(c, people, &g->signed_for_by, g->has_signed_for_by);
    if (s == SC_OK)
        s = name(c, people, &g->accepted_by, g->has_accepted_by);
    if (s == SC_OK && g->plan &&
        (s = name(c, people, &g->plan->author, g->plan->has_author)) == SC_OK)
        s = name(c, people, &g->plan->returned_by, g->plan->has_returned_by);
    for (size_t k = 0; s == SC_OK && k < g->n_extensions; k++) {
        const Scpb__ExtensionState *e = g->extensions[k];
        if ((s = name(c, people, &e->requested_by, e->has_requested_by)) == SC_OK)
            s = name(c, people, &e->decided_by, e->has_decided_by);
    }
    return s;
}
