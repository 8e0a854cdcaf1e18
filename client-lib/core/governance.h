/*
 * governance.h: the administrative process around a finding, as the work
 * plans run it (DOMAIN.md §4; docs/data-model.md §4): the notice (限期整改
 * 通知) with its responsible unit and deadline, sign-for (签收), the
 * rectification plan (整改方案), deadline extensions (延期) and acceptance
 * (验收) of major hazards.  The fold's rules for those ops are in
 * merge_gov.c; this module holds what the register, the client and the
 * tests share beside the fold: the periods of the register's policy and
 * how an org unit inherits them, the defaults a notice takes, what a major
 * hazard's plan must give, and the flags derived at query time.
 *
 * Nothing here reads a clock: "today" is always the caller's.
 */
#ifndef SC_CORE_GOVERNANCE_H
#define SC_CORE_GOVERNANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "limits.h"
#include "op.pb-c.h"
#include "state.pb-c.h"
#include "status.h"

/*
 * The rules a new finding follows (FindingCreate.rules).  Findings logged
 * without it keep the rules they were made under, so registers of earlier
 * versions fold as they did; syncd takes new findings only with it.
 */
#define SC_GOV_RULES 2

/*
 * The built-in periods, used where no org unit up the tree sets one
 * (OrgPolicy).  The seeds' numbers are examples, not rules (DOMAIN.md §0),
 * so every one is configurable per org unit:
 *  - a general finding is due 7 days after its notice (DOMAIN.md §11 #5,
 *    限期整改 7 days);
 *  - a major hazard, 60 days: the plans give months ("11月上旬整改完毕",
 *    004 L27), and a major hazard's notice names its deadline anyway;
 *  - a notice not signed for within 3 days is flagged: a notice is carried
 *    or sent, and signed for on receipt (000 L377);
 *  - a major hazard without a plan 7 days after its notice (or after its
 *    plan was sent back) is flagged: the self-check stage gives a week
 *    before its register is due (004 L23, L35).
 */
#define SC_GOV_GENERAL_DAYS_DEFAULT  7
#define SC_GOV_MAJOR_DAYS_DEFAULT    60
#define SC_GOV_SIGN_FOR_DAYS_DEFAULT 3
#define SC_GOV_PLAN_DAYS_DEFAULT     7

/* One rung of the escalation ladder: overdue by `days` or more suggests `step`. */
typedef struct sc_gov_rung {
    int32_t days;
    Scpb__EscalationStep step;
} sc_gov_rung;

/*
 * The built-in escalation ladder (OrgPolicy.ladder), the seeds' measures
 * mildest first (DOMAIN.md §4): a reminder letter (提醒函) once a notice's
 * deadline has passed by 3 days, a circulated notice (通报) at a week, an
 * interview (约谈) at two, a yellow card at a month, an accountability
 * referral (问责) at two months.  The seeds give the order, not the days
 * ("一周一通报", 001 L148, is the weekly rhythm the second rung keeps);
 * every register sets its own.
 */
#define SC_GOV_LADDER_DEFAULT                                                                     \
    {                                                                                             \
        {3, SCPB__ESCALATION_STEP__ESCALATION_REMINDER},                                          \
            {7, SCPB__ESCALATION_STEP__ESCALATION_PUBLIC_NOTICE},                                 \
            {14, SCPB__ESCALATION_STEP__ESCALATION_INTERVIEW},                                    \
            {30, SCPB__ESCALATION_STEP__ESCALATION_YELLOW_CARD},                                  \
            {60, SCPB__ESCALATION_STEP__ESCALATION_ACCOUNTABILITY},                               \
    }

/* The periods in force for an org unit, each from the nearest that sets it. */
typedef struct sc_gov_policy {
    int32_t general_days;  /* a general finding's defaulted deadline: issue day + this */
    int32_t major_days;    /* a major hazard's suggested period */
    int32_t sign_for_days; /* flag a notice not signed for within this */
    int32_t plan_days;     /* flag a major hazard without a plan within this */
    size_t n_ladder;       /* the escalation ladder, whole from the nearest that sets one */
    sc_gov_rung ladder[SC_GOV_LADDER_MAX];
} sc_gov_policy;

/* The built-in policy. */
void sc_gov_policy_default(sc_gov_policy *out);

/* What the policy walk needs to know of one org unit. */
typedef struct sc_gov_org {
    bool has_parent;
    uint8_t parent[SC_ID_LEN];
    const Scpb__OrgPolicy *policy; /* borrowed until the next call of the lookup; NULL: none set */
} sc_gov_org;

/*
 * Look an org unit up: SC_OK with *out filled, SC_ERR_NOT_FOUND when it is
 * not known (the walk stops there, with what it found so far), or a
 * failure, which the walk returns.
 */
typedef sc_status (*sc_gov_org_fn)(void *ctx, const uint8_t id[SC_ID_LEN], sc_gov_org *out);

/*
 * The policy in force for org unit `org`: each period from the nearest org
 * unit at or above it that sets it, else the built-in one.  At most
 * SC_ORG_DEPTH_MAX levels are walked.
 */
sc_status sc_gov_policy_for(sc_gov_org_fn lookup, void *ctx, const uint8_t org[SC_ID_LEN],
                            sc_gov_policy *out);

/* Fill an sc_gov_org from an org unit's state (false when st is not an org unit). */
bool sc_gov_org_from_state(const Scpb__EntityState *st, sc_gov_org *out);

/* ---- what ops must say ---- */

/* The fields a major hazard's plan lacks, as bits. */
enum {
    SC_GOV_PLAN_FUNDS_AMOUNT = 1u,
    SC_GOV_PLAN_FUNDS_SOURCE = 2u,
    SC_GOV_PLAN_INTERIM = 4u,
    SC_GOV_PLAN_LEAD = 8u,
};

/* The SC_GOV_PLAN_* bits of what a major hazard's plan p lacks (0: nothing). */
unsigned sc_gov_plan_missing(const Scpb__RectificationPlan *p);

/*
 * The refusal naming what a major hazard's plan lacks (mask from
 * sc_gov_plan_missing, not 0): a static text, the same for the fold, syncd
 * and the client ("a major hazard's plan needs the funds amount and the
 * lead official (牵头领导)").
 */
const char *sc_gov_plan_missing_text(unsigned mask);

/* Range of an OrgPolicy period (days). */
bool sc_gov_days_valid(int64_t days);

/* A ladder of n rungs is well formed: days and steps in range, both strictly rising. */
bool sc_gov_ladder_valid(const Scpb__EscalationRung *const *rungs, size_t n);

/* ---- derived at query time ---- */

/* The flags of a finding on day `today` under policy p (docs/data-model.md §4). */
typedef struct sc_gov_flags {
    bool notice;        /* a notice was issued */
    int32_t notice_day; /* its day (UTC) */
    bool signed_for;
    bool sign_for_late;    /* notice issued, not signed for, today past the sign-for period */
    int32_t sign_for_due;  /* the last day to sign for */
    bool plan_due_applies; /* a major hazard with a notice and no plan standing */
    int32_t plan_due;      /* the last day to file one */
    bool plan_late;        /* ... and today is past it */
    unsigned extensions_pending;
    int32_t overdue_days; /* days past the deadline in force on each day, up to today or the
                             closure in effect */
    /* Escalation and stop-work (docs/data-model.md §4.3): */
    bool stop_work;                      /* a stop-work order is in force */
    Scpb__EscalationStep escalated_step; /* the strongest escalation recorded (0: none) */
    int32_t late_days;                   /* today past the deadline in force now, if open */
    Scpb__EscalationStep suggested_step; /* the ladder's step for late_days (0: none) */
    bool needs_escalation;               /* suggested_step above escalated_step */
} sc_gov_flags;

/*
 * The flags of finding state st (zeroed for anything else, and for a
 * voided finding; a closed finding is never late).
 */
void sc_gov_flags_of(const Scpb__EntityState *st, const sc_gov_policy *p, int32_t today,
                     sc_gov_flags *out);

/*
 * The deadline in force at the end of day `day` by the finding's deadline
 * history; false when none was (or the finding keeps no history: then the
 * deadline in its state is the only one it knows).
 */
bool sc_gov_deadline_on(const Scpb__EntityState *st, int32_t day, int32_t *deadline);

#endif
