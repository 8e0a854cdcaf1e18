/*
 * governance.c: the register's policy for rectification governance and the
 * flags derived from a finding's governance state (see governance.h).
 *
 * Invariants: the policy of an org unit is a pure function of the org
 * units' states (each OrgPolicy is an admin op in the log, folded like any
 * other), so every replica and syncd resolve it alike; flags are computed
 * from a state and a day, never stored, like overdue.
 */
#include "governance.h"

#include <string.h>

#include "date.h"

void sc_gov_policy_default(sc_gov_policy *out)
{
    out->general_days = SC_GOV_GENERAL_DAYS_DEFAULT;
    out->major_days = SC_GOV_MAJOR_DAYS_DEFAULT;
    out->sign_for_days = SC_GOV_SIGN_FOR_DAYS_DEFAULT;
    out->plan_days = SC_GOV_PLAN_DAYS_DEFAULT;
    static const sc_gov_rung ladder[] = SC_GOV_LADDER_DEFAULT;
    _Static_assert(sizeof ladder / sizeof ladder[0] <= SC_GOV_LADDER_MAX, "ladder fits");
    out->n_ladder = sizeof ladder / sizeof ladder[0];
    memcpy(out->ladder, ladder, sizeof ladder);
}

bool sc_gov_ladder_valid(const Scpb__EscalationRung *const *rungs, size_t n)
{
    if (n > SC_GOV_LADDER_MAX)
        return false;
    for (size_t k = 0; k < n; k++) {
        const Scpb__EscalationRung *r = rungs[k];
        if (!r->has_days || !sc_gov_days_valid(r->days) || !r->has_step ||
            r->step < SCPB__ESCALATION_STEP__ESCALATION_REMINDER ||
            r->step > SCPB__ESCALATION_STEP__ESCALATION_ACCOUNTABILITY)
            return false;
        if (k > 0 && (r->days <= rungs[k - 1]->days || r->step <= rungs[k - 1]->step))
            return false;
    }
    return true;
}

/* Take policy p's ladder when it sets a well-formed one. */
static bool take_ladder(const Scpb__OrgPolicy *p, sc_gov_policy *out)
{
    if (!p || p->n_ladder == 0 ||
        !sc_gov_ladder_valid((const Scpb__EscalationRung *const *)p->ladder, p->n_ladder))
        return false;
    out->n_ladder = p->n_ladder;
    for (size_t k = 0; k < p->n_ladder; k++)
        out->ladder[k] = (sc_gov_rung){p->ladder[k]->days, p->ladder[k]->step};
    return true;
}

bool sc_gov_days_valid(int64_t days)
{
    return days >= SC_GOV_DAYS_MIN && days <= SC_GOV_DAYS_MAX;
}

bool sc_gov_org_from_state(const Scpb__EntityState *st, sc_gov_org *out)
{
    memset(out, 0, sizeof *out);
    if (!st || st->kind_case != SCPB__ENTITY_STATE__KIND_ORG)
        return false;
    const Scpb__OrgState *o = st->org;
    if (o->has_parent && o->parent.len == SC_ID_LEN) {
        out->has_parent = true;
        memcpy(out->parent, o->parent.data, SC_ID_LEN);
    }
    out->policy = o->policy;
    return true;
}

sc_status sc_gov_policy_for(sc_gov_org_fn lookup, void *ctx, const uint8_t org[SC_ID_LEN],
                            sc_gov_policy *out)
{
    sc_gov_policy_default(out);
    bool general = false, major = false, sign = false, plan = false, ladder = false;
    uint8_t at[SC_ID_LEN];
    memcpy(at, org, SC_ID_LEN);
    for (int depth = 0; depth < SC_ORG_DEPTH_MAX; depth++) {
        sc_gov_org o;
        sc_status rc = lookup(ctx, at, &o);
        if (rc == SC_ERR_NOT_FOUND)
            return SC_OK;
        if (rc != SC_OK)
            return rc;
        const Scpb__OrgPolicy *p = o.policy;
        if (p && p->has_general_days && !general && sc_gov_days_valid(p->general_days)) {
            out->general_days = p->general_days;
            general = true;
        }
        if (p && p->has_major_days && !major && sc_gov_days_valid(p->major_days)) {
            out->major_days = p->major_days;
            major = true;
        }
        if (p && p->has_sign_for_days && !sign && sc_gov_days_valid(p->sign_for_days)) {
            out->sign_for_days = p->sign_for_days;
            sign = true;
        }
        if (p && p->has_plan_days && !plan && sc_gov_days_valid(p->plan_days)) {
            out->plan_days = p->plan_days;
            plan = true;
        }
        if (!ladder)
            ladder = take_ladder(p, out);
        if (!o.has_parent || (general && major && sign && plan && ladder))
            return SC_OK;
        memcpy(at, o.parent, SC_ID_LEN);
    }
    return SC_OK;
}

/* ---- what a major hazard's plan must give ---- */

static bool text_given(const char *s)
{
    return s && *s;
}

unsigned sc_gov_plan_missing(const Scpb__RectificationPlan *p)
{
    unsigned m = 0;
    if (!p->has_funds_cents)
        m |= SC_GOV_PLAN_FUNDS_AMOUNT;
    if (!text_given(p->funds_source))
        m |= SC_GOV_PLAN_FUNDS_SOURCE;
    if (!text_given(p->interim))
        m |= SC_GOV_PLAN_INTERIM;
    if (!text_given(p->lead_official))
        m |= SC_GOV_PLAN_LEAD;
    return m;
}

/*
 * One text per combination, written out, so the fold (whose reasons are
 * static) names exactly what is missing, in the order the plan lists it.
 */
const char *sc_gov_plan_missing_text(unsigned mask)
{
#define P "a major hazard's plan needs "
#define A "the funds amount"
#define S "the funds source"
#define I "the interim controls or contingency plan (临时管控措施、应急预案)"
#define L "the lead official (牵头领导)"
    static const char *const texts[16] = {
        NULL,
        P A,
        P S,
        P A " and " S,
        P I,
        P A " and " I,
        P S " and " I,
        P A ", " S " and " I,
        P L,
        P A " and " L,
        P S " and " L,
        P A ", " S " and " L,
        P I " and " L,
        P A ", " I " and " L,
        P S ", " I " and " L,
        P A ", " S ", " I " and " L,
    };
#undef P
#undef A
#undef S
#undef I
#undef L
    mask &= 15u;
    return texts[mask] ? texts[mask] : "a major hazard's plan is complete";
}

/* ---- flags ---- */

static int32_t day_of_hlc(uint64_t hlc)
{
    return sc_date_from_ms((int64_t)(hlc >> 16));
}

bool sc_gov_deadline_on(const Scpb__EntityState *st, int32_t day, int32_t *deadline)
{
    if (!st || st->kind_case != SCPB__ENTITY_STATE__KIND_FINDING || !st->finding->governance)
        return false;
    const Scpb__GovernanceState *g = st->finding->governance;
    bool has = false;
    for (size_t k = 0; k < g->n_deadlines; k++) {
        const Scpb__DeadlineEntry *e = g->deadlines[k];
        if (day_of_hlc(e->hlc) > day)
            break;
        has = e->has_deadline_day;
        if (has)
            *deadline = e->deadline_day;
    }
    return has;
}

/*
 * Days d in [from, to] with d > the deadline in force at the end of d, from
 * the history: each entry holds from its day until the day before the next
 * entry's (the last of several on one day is the one in force that day).
 */
static int32_t overdue_days(const Scpb__GovernanceState *g, int32_t to)
{
    int64_t total = 0;
    for (size_t k = 0; k < g->n_deadlines; k++) {
        const Scpb__DeadlineEntry *e = g->deadlines[k];
        int32_t start = day_of_hlc(e->hlc);
        int32_t end = k + 1 < g->n_deadlines ? day_of_hlc(g->deadlines[k + 1]->hlc) - 1 : to;
        if (end > to)
            end = to;
        if (!e->has_deadline_day || end < start)
            continue;
        int32_t first = e->deadline_day + 1 > start ? e->deadline_day + 1 : start;
        if (end >= first)
            total += (int64_t)end - first + 1;
    }
    return total > INT32_MAX ? INT32_MAX : (int32_t)total;
}

/* Stop-work, the escalations recorded and the ladder's suggestion for today. */
static void escalation_flags(const Scpb__FindingState *f, const sc_gov_policy *p, int32_t today,
                             bool closed, sc_gov_flags *out)
{
    out->stop_work = f->stop_work_in_force;
    for (size_t k = 0; k < f->n_escalations; k++)
        if (f->escalations[k]->step > out->escalated_step)
            out->escalated_step = f->escalations[k]->step;
    if (closed || !f->has_deadline_day || today <= f->deadline_day)
        return;
    out->late_days = today - f->deadline_day;
    for (size_t k = 0; k < p->n_ladder; k++)
        if (out->late_days >= p->ladder[k].days)
            out->suggested_step = p->ladder[k].step;
    out->needs_escalation = out->suggested_step > out->escalated_step;
}

void sc_gov_flags_of(const Scpb__EntityState *st, const sc_gov_policy *p, int32_t today,
                     sc_gov_flags *out)
{
    memset(out, 0, sizeof *out);
    if (!st || st->kind_case != SCPB__ENTITY_STATE__KIND_FINDING || st->voided)
        return;
    const Scpb__FindingState *f = st->finding;
    bool closed = f->status == SCPB__FINDING_STATUS__FINDING_CLOSED;
    escalation_flags(f, p, today, closed, out);
    int32_t until = closed && f->has_closed_hlc ? day_of_hlc(f->closed_hlc) : today;
    const Scpb__GovernanceState *g = f->governance;
    if (!g) {
        /* The earlier rules keep no history: only the deadline there is now. */
        if (f->has_deadline_day && until > f->deadline_day)
            out->overdue_days = until - f->deadline_day;
        return;
    }
    out->overdue_days = overdue_days(g, until);
    for (size_t k = 0; k < g->n_extensions; k++)
        if (g->extensions[k]->status == SCPB__EXTENSION_STATUS__EXTENSION_PENDING)
            out->extensions_pending++;
    if (!g->has_notice_hlc)
        return;
    out->notice = true;
    out->notice_day = day_of_hlc(g->notice_hlc);
    out->signed_for = g->has_signed_for_hlc;
    out->sign_for_due = out->notice_day + p->sign_for_days;
    out->sign_for_late = !out->signed_for && !closed && today > out->sign_for_due;
    bool standing = g->plan && !g->plan->returned;
    if (f->grade == SCPB__GRADE__GRADE_MAJOR && !standing && !closed) {
        int32_t from = g->plan && g->plan->has_returned_hlc ? day_of_hlc(g->plan->returned_hlc)
                                                            : out->notice_day;
        out->plan_due_applies = true;
        out->plan_due = from + p->plan_days;
        out->plan_late = today > out->plan_due;
    }
}
