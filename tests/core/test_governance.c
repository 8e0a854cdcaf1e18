/*
 * test_governance.c: rectification governance (core/governance.c and the
 * fold's rules in core/merge_gov.c): the notice and the deadline it locks,
 * sign-for, the plan and its return, extensions and their decisions,
 * acceptance of major hazards by the level above with three different
 * people, the register's policy and the flags derived at query time; then
 * the property that replicas doing random governance work converge, in any
 * arrival order, with every op valid.
 *
 * People sit in a small tree, DOMAIN.md §6's chain: 市 city → 县 county →
 * 街道 street → 君安社区 junan → 君安花园物业 garden.  The fold learns who a
 * device speaks for and where that user sits through sc_users, as syncd,
 * a replica and `syncd audit` tell it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/governance.h"
#include "core/ids.h"
#include "core/merge.h"
#include "core/state.h"
#include "scops.h"
#include "sctest.h"

#define FINDING SCPB__ENTITY_TYPE__ENTITY_FINDING
#define MS_DAY  INT64_C(86400000)
#define D0      20800 /* 2026-12-13: the day the story starts */

static sct_env T;
static const sc_env *ENV;
static uint8_t TARGET[SC_ID_LEN];

/* ---- the org tree and the people in it ---- */

enum { CITY, COUNTY, STREET, JUNAN, GARDEN, NORGS };
static uint8_t ORG[NORGS][SC_ID_LEN];

/* Users, by number: who sits where. */
enum { U_INSP = 1, U_SUP, U_WUYE, U_CITY, U_JUNAN, U_GARDEN, NUSERS };
static const int USER_ORG[NUSERS] = {0, STREET, COUNTY, GARDEN, CITY, JUNAN, GARDEN};

typedef struct people {
    size_t n;
    uint8_t key[16][SC_KEY_LEN];
    int user[16];
} people;
static people PEOPLE;

static void user_id(int u, uint8_t out[SC_ID_LEN])
{
    memset(out, 0, SC_ID_LEN);
    out[0] = 0xee;
    out[SC_ID_LEN - 1] = (uint8_t)u;
}

static sc_status p_user_of(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN])
{
    const people *p = ctx;
    for (size_t i = 0; i < p->n; i++)
        if (memcmp(p->key[i], key, SC_KEY_LEN) == 0) {
            user_id(p->user[i], user);
            return SC_OK;
        }
    return SC_ERR_NOT_FOUND;
}

static sc_status p_org_of(void *ctx, const uint8_t user[SC_ID_LEN], uint8_t org[SC_ID_LEN])
{
    int u = user[SC_ID_LEN - 1];
    if (user[0] != 0xee || u <= 0 || u >= NUSERS)
        return SC_ERR_NOT_FOUND;
    memcpy(org, ORG[USER_ORG[u]], SC_ID_LEN);
    return SC_OK;
}

static sc_status p_parent_of(void *ctx, const uint8_t org[SC_ID_LEN], uint8_t parent[SC_ID_LEN],
                             bool *has)
{
    for (int o = 0; o < NORGS; o++)
        if (memcmp(ORG[o], org, SC_ID_LEN) == 0) {
            *has = o > CITY;
            if (*has)
                memcpy(parent, ORG[o - 1], SC_ID_LEN);
            return SC_OK;
        }
    return SC_ERR_NOT_FOUND;
}

static const sc_users USERS = {
    .user_of = p_user_of, .ctx = &PEOPLE, .org_of = p_org_of, .parent_of = p_parent_of};

/* A device number n of user u, its clock at day `day`. */
static void device(sco_device *d, uint32_t n, int u, int32_t day)
{
    sco_device_init(d, n, day * MS_DAY + 9 * 3600 * 1000);
    ck_assert_uint_lt(PEOPLE.n, 16);
    memcpy(PEOPLE.key[PEOPLE.n], sc_keypair_public(d->key), SC_KEY_LEN);
    PEOPLE.user[PEOPLE.n++] = u;
}

static void setup(void)
{
    sct_env_init(&T, 13);
    ENV = &T.env;
    sc_uuid7_new(ENV, TARGET);
    for (int o = 0; o < NORGS; o++)
        sc_uuid7_new(ENV, ORG[o]);
    memset(&PEOPLE, 0, sizeof PEOPLE);
    sco_fold_users = &USERS;
}

static void teardown(void)
{
    sco_fold_users = NULL;
}

/* ---- ops, each tried on a replica as a client would ---- */

static ProtobufCBinaryData bin(const uint8_t *p, size_t len)
{
    return (ProtobufCBinaryData){len, (uint8_t *)(uintptr_t)p};
}

static bool try_op(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__Op *op,
                   const char **why)
{
    return sco_try(ENV, d, s, op, e, FINDING, why);
}

/* The op the last successful try added. */
static const uint8_t *last(const sco_set *s)
{
    return s->v[s->n - 1]->id;
}

static bool create(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__Grade grade,
                   bool rules)
{
    Scpb__FindingCreate b = SCPB__FINDING_CREATE__INIT;
    b.has_target = true;
    b.target = bin(TARGET, SC_ID_LEN);
    b.has_grade = true;
    b.grade = grade;
    b.description =
        grade == SCPB__GRADE__GRADE_MAJOR ? "燃气管道老化未按期检验" : "电梯未张贴使用说明";
    b.has_rules = rules;
    b.rules = rules ? SC_GOV_RULES : 0;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &b;
    return try_op(d, s, e, &op, NULL);
}

static bool notice(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], int unit, int32_t day,
                   bool defaulted, const char **why)
{
    Scpb__Notice b = SCPB__NOTICE__INIT;
    b.has_responsible = true;
    b.responsible = bin(ORG[unit], SC_ID_LEN);
    b.has_deadline_day = true;
    b.deadline_day = day;
    b.has_responsible_defaulted = defaulted;
    b.responsible_defaulted = defaulted;
    b.has_deadline_defaulted = defaulted;
    b.deadline_defaulted = defaulted;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_NOTICE;
    op.notice = &b;
    return try_op(d, s, e, &op, why);
}

static bool sign_for(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char **why)
{
    Scpb__SignFor b = SCPB__SIGN_FOR__INIT;
    b.note = "已签收";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_SIGN_FOR;
    op.sign_for = &b;
    return try_op(d, s, e, &op, why);
}

/* A plan; missing: SC_GOV_PLAN_* fields left out. */
static bool plan(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], unsigned missing,
                 const char *measures, const char **why)
{
    Scpb__RectificationPlan b = SCPB__RECTIFICATION_PLAN__INIT;
    b.person_name = "陈静";
    b.person_phone = "13800000000";
    b.measures = (char *)(uintptr_t)measures;
    b.has_funds_cents = !(missing & SC_GOV_PLAN_FUNDS_AMOUNT);
    b.funds_cents = 1200000;
    b.funds_source = missing & SC_GOV_PLAN_FUNDS_SOURCE ? NULL : "安全专项费用";
    b.interim = missing & SC_GOV_PLAN_INTERIM ? NULL : "关闭总阀，每日巡查";
    b.lead_official = missing & SC_GOV_PLAN_LEAD ? NULL : "王副主任";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_PLAN;
    op.plan = &b;
    return try_op(d, s, e, &op, why);
}

static bool plan_return(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN],
                        const uint8_t p[SC_HASH_LEN], const char **why)
{
    Scpb__PlanReturn b = SCPB__PLAN_RETURN__INIT;
    b.has_plan = true;
    b.plan = bin(p, SC_HASH_LEN);
    b.reason = "资金来源不明";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_PLAN_RETURN;
    op.plan_return = &b;
    return try_op(d, s, e, &op, why);
}

static bool request(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], int32_t day,
                    const char **why)
{
    Scpb__ExtensionRequest b = SCPB__EXTENSION_REQUEST__INIT;
    b.has_deadline_day = true;
    b.deadline_day = day;
    b.reason = "检验机构排期";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_EXTENSION_REQUEST;
    op.extension_request = &b;
    return try_op(d, s, e, &op, why);
}

static bool decide(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN],
                   const uint8_t req[SC_HASH_LEN], bool approve, const char **why)
{
    Scpb__ExtensionDecision b = SCPB__EXTENSION_DECISION__INIT;
    b.has_request = true;
    b.request = bin(req, SC_HASH_LEN);
    b.has_approve = true;
    b.approve = approve;
    b.reason = approve ? NULL : "理由不充分";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_EXTENSION_DECISION;
    op.extension_decision = &b;
    return try_op(d, s, e, &op, why);
}

static bool change(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], int32_t day,
                   const char **why)
{
    Scpb__DeadlineChange b = SCPB__DEADLINE_CHANGE__INIT;
    b.has_deadline_day = true;
    b.deadline_day = day;
    b.reason = "区安委会要求";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_DEADLINE_CHANGE;
    op.deadline_change = &b;
    return try_op(d, s, e, &op, why);
}

static bool edit_deadline(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char *v,
                          bool resolve, const char **why)
{
    Scpb__FieldEdit fe = SCPB__FIELD_EDIT__INIT;
    Scpb__ConflictResolve cr = SCPB__CONFLICT_RESOLVE__INIT;
    Scpb__Op op = SCPB__OP__INIT;
    if (resolve) {
        cr.has_field = true;
        cr.field = SCPB__FIELD__FIELD_DEADLINE;
        cr.value = (char *)(uintptr_t)v;
        op.body_case = SCPB__OP__BODY_RESOLVE;
        op.resolve = &cr;
    } else {
        fe.has_field = true;
        fe.field = SCPB__FIELD__FIELD_DEADLINE;
        fe.value = (char *)(uintptr_t)v;
        op.body_case = SCPB__OP__BODY_FIELD_EDIT;
        op.field_edit = &fe;
    }
    return try_op(d, s, e, &op, why);
}

static bool report(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN])
{
    Scpb__RectificationReport b = SCPB__RECTIFICATION_REPORT__INIT;
    b.note = "已更换管道";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_RECTIFICATION_REPORT;
    op.rectification_report = &b;
    return try_op(d, s, e, &op, NULL);
}

static bool revisit(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], bool ok, bool acceptance,
                    const char **why)
{
    Scpb__Revisit b = SCPB__REVISIT__INIT;
    b.has_result = true;
    b.result =
        ok ? SCPB__REVISIT_RESULT__REVISIT_RECTIFIED : SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED;
    b.has_acceptance = acceptance;
    b.acceptance = acceptance;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_REVISIT;
    op.revisit = &b;
    return try_op(d, s, e, &op, why);
}

static bool closure(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char **why)
{
    Scpb__Closure b = SCPB__CLOSURE__INIT;
    b.note = "销号";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_CLOSURE;
    op.closure = &b;
    return try_op(d, s, e, &op, why);
}

/* ---- looking at the state ---- */

static const Scpb__EntityState *state_of(sc_fold_out *v, const sco_set *s)
{
    sco_fold(ENV, s, v);
    return v->state;
}

static const Scpb__Conflict *conflict(const Scpb__EntityState *st, Scpb__Field f)
{
    return sco_conflict(st, f);
}

static int32_t deadline_of(const sco_set *s)
{
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, s);
    int32_t d = st->finding->has_deadline_day ? st->finding->deadline_day : -1;
    sc_fold_out_dispose(ENV, &v);
    return d;
}

static void expect_why(bool ok, const char *why, const char *want)
{
    ck_assert_msg(!ok, "accepted, expected \"%s\"", want);
    ck_assert_msg(why && strcmp(why, want) == 0, "why \"%s\", expected \"%s\"",
                  why ? why : "(none)", want);
}

/* ---- the notice and the deadline it locks ---- */

START_TEST(notice_defaults_then_locks_the_deadline)
{
    sco_device insp, sup, wuye;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&wuye, 3, U_WUYE, D0);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    /* Before the notice, the deadline is the finding's own field; a supervisor's change waits. */
    ck_assert(edit_deadline(&insp, &s, f, "2026-12-23", false, NULL));
    expect_why(change(&sup, &s, f, D0 + 20, &why), why,
               "before the notice the deadline is edited on the finding; a supervisor's change "
               "is for after it");
    /* Submitted with the defaults: the target's unit, the day plus the period. */
    insp.now_ms += MS_DAY;
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 8, true, NULL));
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &s);
    const Scpb__GovernanceState *g = st->finding->governance;
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->rules, SC_GOV_RULES);
    ck_assert(g->has_notice_op && g->responsible_defaulted && g->deadline_defaulted);
    ck_assert_int_eq(st->finding->deadline_day, D0 + 8);
    ck_assert_mem_eq(st->finding->responsible.data, ORG[GARDEN], SC_ID_LEN);
    sc_fold_out_dispose(ENV, &v);
    /* Issued once; after it nobody edits or resolves the deadline. */
    expect_why(notice(&insp, &s, f, GARDEN, D0 + 9, false, &why), why,
               "the notice was already issued: its deadline moves by an extension or a "
               "supervisor's change");
    expect_why(edit_deadline(&insp, &s, f, "2026-12-30", false, &why), why,
               "after the notice the deadline moves only by an approved extension or a "
               "supervisor's deadline change with its reason");
    expect_why(edit_deadline(&sup, &s, f, "2026-12-30", true, &why), why,
               "after the notice a deadline conflict is settled by a supervisor's deadline "
               "change with its reason");
    /* A supervisor's change, with its reason, moves it; the deadline is no longer defaulted. */
    sup.now_ms += 2 * MS_DAY;
    ck_assert(change(&sup, &s, f, D0 + 5, NULL));
    st = state_of(&v, &s);
    g = st->finding->governance;
    ck_assert_int_eq(st->finding->deadline_day, D0 + 5);
    ck_assert(g->responsible_defaulted && !g->deadline_defaulted);
    /* The history: the edit, the notice, the supervisor's change. */
    ck_assert_uint_eq(g->n_deadlines, 3);
    ck_assert_int_eq(g->deadlines[0]->cause, SCPB__DEADLINE_CAUSE__DEADLINE_FINDING);
    ck_assert_int_eq(g->deadlines[0]->deadline_day, D0 + 10);
    ck_assert_int_eq(g->deadlines[1]->cause, SCPB__DEADLINE_CAUSE__DEADLINE_NOTICE);
    ck_assert_int_eq(g->deadlines[2]->cause, SCPB__DEADLINE_CAUSE__DEADLINE_SUPERVISOR);
    int32_t d = 0;
    ck_assert(sc_gov_deadline_on(st, D0, &d) && d == D0 + 10);
    ck_assert(sc_gov_deadline_on(st, D0 + 1, &d) && d == D0 + 8);
    ck_assert(sc_gov_deadline_on(st, D0 + 2, &d) && d == D0 + 5);
    ck_assert(!sc_gov_deadline_on(st, D0 - 1, &d));
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&wuye);
}
END_TEST

START_TEST(a_major_hazards_notice_is_never_defaulted)
{
    sco_device insp;
    device(&insp, 1, U_INSP, D0);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_MAJOR, true));
    expect_why(notice(&insp, &s, f, GARDEN, D0 + 60, true, &why), why,
               "a major hazard's notice names its responsible unit and its deadline: they are "
               "never defaulted");
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 60, false, NULL));
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
}
END_TEST

/* ---- sign-for ---- */

START_TEST(sign_for_answers_the_notice_once)
{
    sco_device insp, wuye, wuye2;
    device(&insp, 1, U_INSP, D0);
    device(&wuye, 3, U_WUYE, D0);
    device(&wuye2, 4, U_WUYE, D0);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0}, a = {0}, b = {0};
    const char *why = NULL;
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    expect_why(sign_for(&wuye, &s, f, &why), why,
               "sign-for (签收) answers a notice, and none was issued");
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 7, true, NULL));
    /* Two of the unit's tablets sign for it offline: both count, the first names the time. */
    sco_set_merge(ENV, &a, &s, &wuye);
    sco_set_merge(ENV, &b, &s, &wuye2);
    wuye2.now_ms += 3600 * 1000;
    ck_assert(sign_for(&wuye, &a, f, NULL));
    ck_assert(sign_for(&wuye2, &b, f, NULL));
    sco_set_merge(ENV, &a, &b, &wuye);
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &a);
    ck_assert_uint_eq(st->n_invalid_ops, 0);
    ck_assert_uint_eq(st->n_conflicts, 0);
    ck_assert_mem_eq(st->finding->governance->signed_for_by.data, sc_keypair_public(wuye.key),
                     SC_KEY_LEN);
    sc_fold_out_dispose(ENV, &v);
    expect_why(sign_for(&wuye, &a, f, &why), why, "the notice was already signed for");
    sco_set_dispose(ENV, &s);
    sco_set_dispose(ENV, &a);
    sco_set_dispose(ENV, &b);
    sco_device_dispose(&insp);
    sco_device_dispose(&wuye);
    sco_device_dispose(&wuye2);
}
END_TEST

/* ---- the plan ---- */

START_TEST(plans_are_complete_and_sent_back_by_name)
{
    sco_device insp, sup, wuye;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&wuye, 3, U_WUYE, D0);
    uint8_t f[SC_ID_LEN], p1[SC_HASH_LEN], p2[SC_HASH_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_MAJOR, true));
    expect_why(plan(&wuye, &s, f, 0, "更换管道", &why), why,
               "a rectification plan (整改方案) answers a notice, and none was issued");
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 60, false, NULL));
    /* A major hazard's plan names what it lacks. */
    expect_why(plan(&wuye, &s, f, SC_GOV_PLAN_FUNDS_AMOUNT | SC_GOV_PLAN_LEAD, "更换管道", &why),
               why,
               "a major hazard's plan needs the funds amount and the lead official (牵头领导)");
    expect_why(plan(&wuye, &s, f, 15u, "更换管道", &why), why,
               "a major hazard's plan needs the funds amount, the funds source, the interim "
               "controls or contingency plan (临时管控措施、应急预案) and the lead official "
               "(牵头领导)");
    ck_assert(plan(&wuye, &s, f, 0, "更换管道", NULL));
    memcpy(p1, last(&s), SC_HASH_LEN);
    ck_assert(plan_return(&sup, &s, f, p1, NULL));
    expect_why(plan_return(&sup, &s, f, p1, &why), why, "the plan was already sent back");
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &s);
    const Scpb__PlanState *ps = st->finding->governance->plan;
    ck_assert(ps && ps->returned);
    ck_assert_str_eq(ps->return_reason, "资金来源不明");
    ck_assert_mem_eq(ps->op.data, p1, SC_HASH_LEN);
    sc_fold_out_dispose(ENV, &v);
    /* A revised plan stands; the old one is no longer the one to send back. */
    ck_assert(plan(&wuye, &s, f, 0, "更换管道，并委托有资质单位检验", NULL));
    memcpy(p2, last(&s), SC_HASH_LEN);
    expect_why(plan_return(&sup, &s, f, p1, &why), why,
               "a later plan was filed: that one is the plan to send back");
    st = state_of(&v, &s);
    ps = st->finding->governance->plan;
    ck_assert(!ps->returned);
    ck_assert_mem_eq(ps->op.data, p2, SC_HASH_LEN);
    ck_assert_uint_eq(st->finding->governance->plan_count, 2);
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&wuye);
}
END_TEST

/* A plan filed while the supervisor sends the previous one back; two plans filed at once. */
START_TEST(plan_versus_send_back_and_concurrent_plans)
{
    sco_device insp, sup, wuye, wuye2;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&wuye, 3, U_WUYE, D0);
    device(&wuye2, 4, U_GARDEN, D0);
    uint8_t f[SC_ID_LEN], p1[SC_HASH_LEN], p2[SC_HASH_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0}, a = {0}, b = {0};
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 7, true, NULL));
    ck_assert(plan(&wuye, &s, f, 15u, "清理楼道", NULL)); /* a general finding's plan */
    memcpy(p1, last(&s), SC_HASH_LEN);
    sco_set_merge(ENV, &a, &s, &wuye);
    sco_set_merge(ENV, &b, &s, &sup);
    ck_assert(plan(&wuye, &a, f, 15u, "清理楼道，张贴告示", NULL));
    memcpy(p2, last(&a), SC_HASH_LEN);
    ck_assert(plan_return(&sup, &b, f, p1, NULL));
    sco_set_merge(ENV, &a, &b, &wuye);
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &a);
    ck_assert_uint_eq(st->n_invalid_ops, 0);
    /* The revision stands, not returned; the return stays in history. */
    ck_assert_mem_eq(st->finding->governance->plan->op.data, p2, SC_HASH_LEN);
    ck_assert(!st->finding->governance->plan->returned);
    ck_assert_ptr_null(conflict(st, SCPB__FIELD__FIELD_PLAN));
    sc_fold_out_dispose(ENV, &v);

    /* Two tablets of the unit file plans at once: a plan conflict until a plan has seen both. */
    sco_set c = {0}, d = {0};
    sco_set_merge(ENV, &c, &a, &wuye);
    sco_set_merge(ENV, &d, &a, &wuye2);
    ck_assert(plan(&wuye, &c, f, 15u, "方案甲", NULL));
    ck_assert(plan(&wuye2, &d, f, 15u, "方案乙", NULL));
    sco_set_merge(ENV, &c, &d, &wuye);
    st = state_of(&v, &c);
    const Scpb__Conflict *k = conflict(st, SCPB__FIELD__FIELD_PLAN);
    ck_assert_ptr_nonnull(k);
    ck_assert_uint_eq(k->n_values, 2);
    sc_fold_out_dispose(ENV, &v);
    ck_assert(plan(&wuye, &c, f, 15u, "合并方案", NULL));
    st = state_of(&v, &c);
    ck_assert_ptr_null(conflict(st, SCPB__FIELD__FIELD_PLAN));
    ck_assert_uint_eq(st->finding->governance->plan_count, 5);
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &s);
    sco_set_dispose(ENV, &a);
    sco_set_dispose(ENV, &b);
    sco_set_dispose(ENV, &c);
    sco_set_dispose(ENV, &d);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&wuye);
    sco_device_dispose(&wuye2);
}
END_TEST

/* ---- extensions ---- */

static const Scpb__ExtensionState *extension(const Scpb__EntityState *st, size_t k)
{
    ck_assert_uint_gt(st->finding->governance->n_extensions, k);
    return st->finding->governance->extensions[k];
}

START_TEST(only_an_approval_moves_the_deadline)
{
    sco_device insp, sup, wuye, wuye2;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&wuye, 3, U_WUYE, D0);
    device(&wuye2, 4, U_WUYE, D0); /* the same person's second tablet */
    uint8_t f[SC_ID_LEN], r1[SC_HASH_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    expect_why(request(&wuye, &s, f, D0 + 30, &why), why,
               "an extension (延期) is asked of a notice's deadline, and no notice was issued");
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 7, true, NULL));
    expect_why(request(&wuye, &s, f, D0 + 7, &why), why,
               "an extension asks for a date after the deadline in force");
    ck_assert(request(&wuye, &s, f, D0 + 30, NULL));
    memcpy(r1, last(&s), SC_HASH_LEN);
    expect_why(request(&wuye, &s, f, D0 + 40, &why), why,
               "an earlier extension request is still pending");
    /* Pending: the deadline is the notice's. */
    ck_assert_int_eq(deadline_of(&s), D0 + 7);
    /* Whoever asked does not decide, on whatever tablet. */
    expect_why(decide(&wuye2, &s, f, r1, true, &why), why,
               "an extension is decided by someone other than the person who asked for it");
    ck_assert(decide(&sup, &s, f, r1, false, NULL));
    ck_assert_int_eq(deadline_of(&s), D0 + 7);
    expect_why(decide(&sup, &s, f, r1, true, &why), why, "the extension was already rejected");
    ck_assert(request(&wuye, &s, f, D0 + 20, NULL));
    ck_assert(decide(&sup, &s, f, last(&s), true, NULL));
    expect_why(decide(&sup, &s, f, s.v[s.n - 2]->id, true, &why), why,
               "the extension was already approved");
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_int_eq(st->finding->deadline_day, D0 + 20);
    ck_assert_int_eq(extension(st, 0)->status, SCPB__EXTENSION_STATUS__EXTENSION_REJECTED);
    ck_assert_str_eq(extension(st, 0)->decision_reason, "理由不充分");
    ck_assert_int_eq(extension(st, 1)->status, SCPB__EXTENSION_STATUS__EXTENSION_APPROVED);
    ck_assert_mem_eq(extension(st, 1)->decided_by.data, sc_keypair_public(sup.key), SC_KEY_LEN);
    const Scpb__GovernanceState *g = st->finding->governance;
    ck_assert_int_eq(g->deadlines[g->n_deadlines - 1]->cause,
                     SCPB__DEADLINE_CAUSE__DEADLINE_EXTENSION);
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&wuye);
    sco_device_dispose(&wuye2);
}
END_TEST

/* A finding asks for more time a bounded number of times (SC_GOV_EXTENSIONS_MAX). */
START_TEST(extensions_are_bounded)
{
    sco_device insp, sup, wuye;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&wuye, 3, U_WUYE, D0);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 7, true, NULL));
    for (int k = 0; k < SC_GOV_EXTENSIONS_MAX; k++) {
        ck_assert(request(&wuye, &s, f, D0 + 8 + k, NULL));
        ck_assert(decide(&sup, &s, f, last(&s), false, NULL));
    }
    expect_why(request(&wuye, &s, f, D0 + 100, &why), why,
               "a finding asks for a later deadline at most 32 times (SC_GOV_EXTENSIONS_MAX)");
    ck_assert_int_eq(deadline_of(&s), D0 + 7);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&wuye);
}
END_TEST

/* Two approvals agree; an approval beside a rejection loses, until a decision has seen both. */
START_TEST(a_rejection_beats_a_concurrent_approval)
{
    sco_device insp, sup, city, wuye;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&city, 5, U_CITY, D0);
    device(&wuye, 3, U_WUYE, D0);
    uint8_t f[SC_ID_LEN], r[SC_HASH_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0}, a = {0}, b = {0};
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 7, true, NULL));
    ck_assert(request(&wuye, &s, f, D0 + 30, NULL));
    memcpy(r, last(&s), SC_HASH_LEN);
    sco_set_merge(ENV, &a, &s, &sup);
    sco_set_merge(ENV, &b, &s, &city);
    ck_assert(decide(&sup, &a, f, r, true, NULL));
    ck_assert(decide(&city, &b, f, r, true, NULL));
    sco_set both = {0};
    sco_set_merge(ENV, &both, &a, NULL);
    sco_set_merge(ENV, &both, &b, NULL);
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &both);
    ck_assert_int_eq(extension(st, 0)->status, SCPB__EXTENSION_STATUS__EXTENSION_APPROVED);
    ck_assert_ptr_null(conflict(st, SCPB__FIELD__FIELD_EXTENSION));
    ck_assert_int_eq(st->finding->deadline_day, D0 + 30);
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &both);

    /* Now the city rejects while the county approves. */
    sco_set_dispose(ENV, &b);
    sco_set_merge(ENV, &b, &s, &city);
    ck_assert(decide(&city, &b, f, r, false, NULL));
    sco_set_merge(ENV, &a, &b, &sup);
    st = state_of(&v, &a);
    ck_assert_uint_eq(st->n_invalid_ops, 0);
    ck_assert_int_eq(extension(st, 0)->status, SCPB__EXTENSION_STATUS__EXTENSION_REJECTED);
    ck_assert_int_eq(st->finding->deadline_day, D0 + 7);
    const Scpb__Conflict *k = conflict(st, SCPB__FIELD__FIELD_EXTENSION);
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(k->values[0], "rejected");
    ck_assert_str_eq(k->values[1], "approved");
    char rhex[SC_HASH_HEX];
    sc_hex_encode(r, SC_HASH_LEN, rhex, sizeof rhex);
    ck_assert_str_eq(k->item_code, rhex);
    sc_fold_out_dispose(ENV, &v);
    /* A decision that has seen both settles it. */
    sup.now_ms += MS_DAY;
    ck_assert(decide(&sup, &a, f, r, true, NULL));
    st = state_of(&v, &a);
    ck_assert_int_eq(extension(st, 0)->status, SCPB__EXTENSION_STATUS__EXTENSION_APPROVED);
    ck_assert_int_eq(st->finding->deadline_day, D0 + 30);
    ck_assert_ptr_null(conflict(st, SCPB__FIELD__FIELD_EXTENSION));
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &s);
    sco_set_dispose(ENV, &a);
    sco_set_dispose(ENV, &b);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&city);
    sco_device_dispose(&wuye);
}
END_TEST

/* ---- acceptance (验收) of major hazards ---- */

START_TEST(acceptance_by_the_level_above_and_three_people)
{
    sco_device insp, sup, sup2, city, wuye, garden, junan;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&sup2, 6, U_SUP, D0); /* the county supervisor's second tablet */
    device(&city, 5, U_CITY, D0);
    device(&wuye, 3, U_WUYE, D0);
    device(&garden, 7, U_GARDEN, D0);
    device(&junan, 8, U_JUNAN, D0);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_MAJOR, true));
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 60, false, NULL));
    ck_assert(report(&wuye, &s, f));
    /* The street inspector's revisit verifies, but closing needs an acceptance. */
    ck_assert(revisit(&insp, &s, f, true, false, NULL));
    expect_why(closure(&city, &s, f, &why), why,
               "closing a major hazard needs an acceptance (验收) by a user of an org unit "
               "above the responsible unit");
    /* Not by the responsible unit's own level. */
    expect_why(revisit(&garden, &s, f, true, true, &why), why,
               "an acceptance (验收) is made by a user of an org unit above the responsible unit");
    /* The county accepts; its supervisor cannot also close it, on either tablet. */
    ck_assert(revisit(&sup, &s, f, true, true, NULL));
    expect_why(closure(&sup2, &s, f, &why), why,
               "the closer must be someone other than the acceptor");
    /* The reporter cannot close it either (roles aside, which the table decides). */
    expect_why(closure(&wuye, &s, f, &why), why,
               "the closer must be someone other than the reporter");
    ck_assert(closure(&city, &s, f, NULL));
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_int_eq(st->finding->status, SCPB__FINDING_STATUS__FINDING_CLOSED);
    ck_assert_mem_eq(st->finding->governance->accepted_by.data, sc_keypair_public(sup.key),
                     SC_KEY_LEN);
    sc_fold_out_dispose(ENV, &v);

    /* The acceptor is not the reporter: the community reports and cannot accept its own work. */
    uint8_t f2[SC_ID_LEN];
    sc_uuid7_new(ENV, f2);
    sco_set s2 = {0};
    ck_assert(create(&insp, &s2, f2, SCPB__GRADE__GRADE_MAJOR, true));
    ck_assert(notice(&insp, &s2, f2, GARDEN, D0 + 60, false, NULL));
    ck_assert(report(&junan, &s2, f2));
    expect_why(revisit(&junan, &s2, f2, true, true, &why), why,
               "the acceptor must be someone other than the reporter");
    /* A failed acceptance sends it back like any failing revisit. */
    ck_assert(revisit(&sup, &s2, f2, false, true, NULL));
    st = state_of(&v, &s2);
    ck_assert_int_eq(st->finding->status, SCPB__FINDING_STATUS__FINDING_OPEN);
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &s);
    sco_set_dispose(ENV, &s2);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&sup2);
    sco_device_dispose(&city);
    sco_device_dispose(&wuye);
    sco_device_dispose(&garden);
    sco_device_dispose(&junan);
}
END_TEST

/* Findings logged under the earlier rules fold as they did: no governance state, no acceptance. */
START_TEST(findings_of_the_earlier_rules_fold_as_before)
{
    sco_device insp, sup, wuye;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&wuye, 3, U_WUYE, D0);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_MAJOR, false));
    ck_assert(edit_deadline(&insp, &s, f, "2026-12-31", false, NULL));
    ck_assert(report(&wuye, &s, f));
    ck_assert(revisit(&insp, &s, f, true, false, NULL));
    ck_assert(closure(&sup, &s, f, NULL));
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_int_eq(st->finding->status, SCPB__FINDING_STATUS__FINDING_CLOSED);
    ck_assert_ptr_null(st->finding->governance);
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&wuye);
}
END_TEST

/* ---- the register's policy and the derived flags ---- */

static Scpb__OrgPolicy POLICY[NORGS];
static bool HAS_POLICY[NORGS];

static sc_status tree_lookup(void *ctx, const uint8_t id[SC_ID_LEN], sc_gov_org *out)
{
    for (int o = 0; o < NORGS; o++)
        if (memcmp(ORG[o], id, SC_ID_LEN) == 0) {
            memset(out, 0, sizeof *out);
            out->has_parent = o > CITY;
            if (o > CITY)
                memcpy(out->parent, ORG[o - 1], SC_ID_LEN);
            out->policy = HAS_POLICY[o] ? &POLICY[o] : NULL;
            return SC_OK;
        }
    return SC_ERR_NOT_FOUND;
}

START_TEST(policy_is_inherited_period_by_period)
{
    for (int o = 0; o < NORGS; o++) {
        scpb__org_policy__init(&POLICY[o]);
        HAS_POLICY[o] = false;
    }
    sc_gov_policy p;
    ck_assert_int_eq(sc_gov_policy_for(tree_lookup, NULL, ORG[GARDEN], &p), SC_OK);
    ck_assert_int_eq(p.general_days, SC_GOV_GENERAL_DAYS_DEFAULT);
    ck_assert_int_eq(p.plan_days, SC_GOV_PLAN_DAYS_DEFAULT);
    HAS_POLICY[CITY] = true;
    POLICY[CITY].has_general_days = true;
    POLICY[CITY].general_days = 10;
    POLICY[CITY].has_sign_for_days = true;
    POLICY[CITY].sign_for_days = 5;
    HAS_POLICY[STREET] = true;
    POLICY[STREET].has_sign_for_days = true;
    POLICY[STREET].sign_for_days = 2;
    ck_assert_int_eq(sc_gov_policy_for(tree_lookup, NULL, ORG[GARDEN], &p), SC_OK);
    ck_assert_int_eq(p.general_days, 10); /* the city's */
    ck_assert_int_eq(p.sign_for_days, 2); /* the street's, nearer */
    ck_assert_int_eq(p.major_days, SC_GOV_MAJOR_DAYS_DEFAULT);
    ck_assert_int_eq(sc_gov_policy_for(tree_lookup, NULL, ORG[COUNTY], &p), SC_OK);
    ck_assert_int_eq(p.sign_for_days, 5);
    /* An org unit not known here stops the walk: the defaults stand. */
    uint8_t stranger[SC_ID_LEN];
    sc_uuid7_new(ENV, stranger);
    ck_assert_int_eq(sc_gov_policy_for(tree_lookup, NULL, stranger, &p), SC_OK);
    ck_assert_int_eq(p.general_days, SC_GOV_GENERAL_DAYS_DEFAULT);
}
END_TEST

START_TEST(flags_count_against_the_deadline_in_force)
{
    sco_device insp, sup, wuye;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&wuye, 3, U_WUYE, D0);
    uint8_t f[SC_ID_LEN], p1[SC_HASH_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    sc_gov_policy pol;
    sc_gov_policy_default(&pol);
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_MAJOR, true));
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 7, false, NULL));
    sc_fold_out v;
    sc_gov_flags fl;
    sc_gov_flags_of(state_of(&v, &s), &pol, D0 + 3, &fl);
    ck_assert(fl.notice && !fl.signed_for && !fl.sign_for_late);
    ck_assert_int_eq(fl.sign_for_due, D0 + 3);
    ck_assert(fl.plan_due_applies && !fl.plan_late && fl.plan_due == D0 + 7);
    sc_gov_flags_of(v.state, &pol, D0 + 8, &fl);
    ck_assert(fl.sign_for_late && fl.plan_late);
    ck_assert_int_eq(fl.overdue_days, 1);
    sc_fold_out_dispose(ENV, &v);
    /* Signed for, a plan filed: neither flag.  The plan sent back on day +9 is due again by +16. */
    ck_assert(sign_for(&wuye, &s, f, NULL));
    ck_assert(plan(&wuye, &s, f, 0, "更换管道", NULL));
    memcpy(p1, last(&s), SC_HASH_LEN);
    sc_gov_flags_of(state_of(&v, &s), &pol, D0 + 8, &fl);
    ck_assert(fl.signed_for && !fl.sign_for_late && !fl.plan_due_applies);
    sc_fold_out_dispose(ENV, &v);
    sup.now_ms += 9 * MS_DAY;
    ck_assert(plan_return(&sup, &s, f, p1, NULL));
    sc_gov_flags_of(state_of(&v, &s), &pol, D0 + 16, &fl);
    ck_assert(fl.plan_due_applies && fl.plan_due == D0 + 16 && !fl.plan_late);
    sc_fold_out_dispose(ENV, &v);
    /* Overdue from D0+8; an extension approved on D0+10 to D0+30: two days overdue, no more. */
    wuye.now_ms += 10 * MS_DAY;
    ck_assert(request(&wuye, &s, f, D0 + 30, NULL));
    sc_gov_flags_of(state_of(&v, &s), &pol, D0 + 10, &fl);
    ck_assert_uint_eq(fl.extensions_pending, 1);
    ck_assert_int_eq(fl.overdue_days, 3); /* pending: the notice's deadline is in force */
    ck_assert(sc_finding_overdue(v.state, D0 + 10));
    sc_fold_out_dispose(ENV, &v);
    sup.now_ms = (D0 + 10) * MS_DAY + 15 * 3600 * 1000;
    ck_assert(decide(&sup, &s, f, last(&s), true, NULL));
    const Scpb__EntityState *st = state_of(&v, &s);
    sc_gov_flags_of(st, &pol, D0 + 15, &fl);
    ck_assert_int_eq(fl.overdue_days, 2);
    ck_assert_uint_eq(fl.extensions_pending, 0);
    ck_assert(!sc_finding_overdue(st, D0 + 15));
    int32_t d = 0;
    ck_assert(sc_gov_deadline_on(st, D0 + 9, &d) && d == D0 + 7);
    ck_assert(sc_gov_deadline_on(st, D0 + 10, &d) && d == D0 + 30);
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&wuye);
}
END_TEST

/* ---- convergence ---- */

#define REPLICAS 4

typedef struct sim {
    uint64_t rng;
    sco_device dev[REPLICAS];
    sco_set rep[REPLICAS];
    uint8_t finding[SC_ID_LEN];
} sim;

static unsigned pick(sim *m, unsigned n)
{
    return sco_pick(&m->rng, n);
}

/* A random op of kind `of` in s, or NULL. */
static const uint8_t *some_op(sim *m, const sco_set *s, Scpb__Op__BodyCase of)
{
    const uint8_t *found = NULL;
    unsigned seen = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i]->op->body_case == of && pick(m, ++seen) == 0)
            found = s->v[i]->id;
    return found;
}

static void random_action(sim *m, unsigned r)
{
    sco_device *d = &m->dev[r];
    sco_set *s = &m->rep[r];
    const uint8_t *e = m->finding;
    d->now_ms += 1 + pick(m, 6 * 3600 * 1000);
    const uint8_t *op;
    /* The lifecycle's ops come up more often, so runs reach acceptance and closure. */
    switch (pick(m, 18)) {
    case 0:
        notice(d, s, e, GARDEN, D0 + (int32_t)pick(m, 20), pick(m, 2), NULL);
        break;
    case 1:
        sign_for(d, s, e, NULL);
        break;
    case 2:
        plan(d, s, e, pick(m, 4) ? 0 : 1u, pick(m, 2) ? "方案甲" : "方案乙", NULL);
        break;
    case 3:
        if ((op = some_op(m, s, SCPB__OP__BODY_PLAN)))
            plan_return(d, s, e, op, NULL);
        break;
    case 4:
        request(d, s, e, D0 + 10 + (int32_t)pick(m, 40), NULL);
        break;
    case 5:
    case 6:
        if ((op = some_op(m, s, SCPB__OP__BODY_EXTENSION_REQUEST)))
            decide(d, s, e, op, pick(m, 2), NULL);
        break;
    case 7:
        change(d, s, e, D0 + (int32_t)pick(m, 50), NULL);
        break;
    case 8:
    case 13:
        report(d, s, e);
        break;
    case 9:
    case 14:
    case 15:
        revisit(d, s, e, pick(m, 4) != 0, pick(m, 3) != 0, NULL);
        break;
    case 10:
    case 16:
    case 17:
        closure(d, s, e, NULL);
        break;
    case 11:
        edit_deadline(d, s, e, pick(m, 2) ? "2026-12-20" : "2026-12-25", pick(m, 3) == 0, NULL);
        break;
    case 12: {
        Scpb__FieldEdit fe = SCPB__FIELD_EDIT__INIT;
        fe.has_field = true;
        fe.field = SCPB__FIELD__FIELD_GRADE;
        fe.value = pick(m, 2) ? "major" : "general";
        Scpb__Op o = SCPB__OP__INIT;
        o.body_case = SCPB__OP__BODY_FIELD_EDIT;
        o.field_edit = &fe;
        try_op(d, s, e, &o, NULL);
        break;
    }
    }
}

static void shuffled_hash(sim *m, const sco_set *all, uint8_t out[SC_HASH_LEN])
{
    sco_set s = {0};
    sco_set_merge(ENV, &s, all, NULL);
    for (size_t i = s.n; i > 1; i--) {
        size_t j = pick(m, (unsigned)i);
        sc_op *t = s.v[i - 1];
        s.v[i - 1] = s.v[j];
        s.v[j] = t;
    }
    sco_hash(ENV, &s, out);
    sco_set_dispose(ENV, &s);
}

/* SC_MERGE_SEEDS, as for core/merge; 1000 by default: each run here is longer. */
static unsigned seeds(void)
{
    return sco_seeds(1000);
}

/*
 * Four tablets (the inspector, the county supervisor, the property
 * company's contact and the city's supervisor) record governance ops on a
 * finding offline, exchange them in random pairs, and end with the same
 * state whatever the arrival order; every op stays valid where it arrives.
 */
START_TEST(random_governance_converges)
{
    static const int who[REPLICAS] = {U_INSP, U_SUP, U_WUYE, U_CITY};
    unsigned nseeds = seeds();
    unsigned seen_ext_conflict = 0, seen_plan_conflict = 0, seen_returned = 0,
             seen_accepted_closure = 0, seen_closed = 0;
    for (unsigned seed = 1; seed <= nseeds; seed++) {
        sim m;
        memset(&m, 0, sizeof m);
        m.rng = seed;
        PEOPLE.n = 0;
        for (unsigned r = 0; r < REPLICAS; r++)
            device(&m.dev[r], 100 + r, who[r], D0);
        sc_uuid7_new(ENV, m.finding);
        sco_set seed_ops = {0};
        ck_assert(create(&m.dev[0], &seed_ops, m.finding,
                         pick(&m, 2) ? SCPB__GRADE__GRADE_MAJOR : SCPB__GRADE__GRADE_GENERAL,
                         true));
        if (pick(&m, 4) != 0)
            ck_assert(notice(&m.dev[0], &seed_ops, m.finding, GARDEN, D0 + 7, false, NULL));
        for (unsigned r = 0; r < REPLICAS; r++)
            sco_set_merge(ENV, &m.rep[r], &seed_ops, &m.dev[r]);
        sco_set_dispose(ENV, &seed_ops);
        unsigned steps = 16 + pick(&m, 32);
        for (unsigned k = 0; k < steps; k++) {
            if (pick(&m, 4) == 0) {
                unsigned a = pick(&m, REPLICAS), b = pick(&m, REPLICAS);
                sco_set_merge(ENV, &m.rep[a], &m.rep[b], &m.dev[a]);
            } else {
                random_action(&m, pick(&m, REPLICAS));
            }
        }
        for (unsigned a = 0; a < REPLICAS; a++)
            for (unsigned b = 0; b < REPLICAS; b++)
                sco_set_merge(ENV, &m.rep[a], &m.rep[b], &m.dev[a]);
        uint8_t ref[SC_HASH_LEN], h[SC_HASH_LEN];
        shuffled_hash(&m, &m.rep[0], ref);
        for (unsigned r = 0; r < REPLICAS; r++)
            for (unsigned t = 0; t < 2; t++) {
                shuffled_hash(&m, &m.rep[r], h);
                ck_assert_msg(memcmp(ref, h, SC_HASH_LEN) == 0, "seed %u: replica %u diverges",
                              seed, r);
            }
        sc_fold_out fo;
        sco_fold(ENV, &m.rep[0], &fo);
        ck_assert_msg(fo.state->n_invalid_ops == 0, "seed %u: an op became invalid", seed);
        const Scpb__FindingState *fs = fo.state->finding;
        seen_ext_conflict += conflict(fo.state, SCPB__FIELD__FIELD_EXTENSION) != NULL;
        seen_plan_conflict += conflict(fo.state, SCPB__FIELD__FIELD_PLAN) != NULL;
        seen_returned += fs->governance && fs->governance->plan && fs->governance->plan->returned;
        seen_closed += fs->status == SCPB__FINDING_STATUS__FINDING_CLOSED;
        seen_accepted_closure += fs->status == SCPB__FINDING_STATUS__FINDING_CLOSED &&
                                 fs->governance && fs->governance->has_accepted_by;
        sc_fold_out_dispose(ENV, &fo);
        for (unsigned r = 0; r < REPLICAS; r++) {
            sco_set_dispose(ENV, &m.rep[r]);
            sco_device_dispose(&m.dev[r]);
        }
    }
    /* The runs reach the cases the rules are about (with the default number of seeds). */
    if (nseeds >= 1000)
        ck_assert_msg(seen_ext_conflict && seen_plan_conflict && seen_returned &&
                          seen_accepted_closure,
                      "extension conflicts %u, plan conflicts %u, returned plans %u, accepted "
                      "closures %u of %u",
                      seen_ext_conflict, seen_plan_conflict, seen_returned, seen_accepted_closure,
                      seen_closed);
}
END_TEST

/* ---- escalation, stop-work and linked look-backs (core/merge_esc.c) ---- */

static bool escalate(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN],
                     Scpb__EscalationStep step, const char **why)
{
    Scpb__Escalation b = SCPB__ESCALATION__INIT;
    b.has_step = b.has_level = true;
    b.step = step;
    b.level = SCPB__ORG_LEVEL__LEVEL_COUNTY;
    b.reason = "逾期未整改";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_ESCALATION;
    op.escalation = &b;
    return try_op(d, s, e, &op, why);
}

static bool stop_work(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char **why)
{
    Scpb__StopWork b = SCPB__STOP_WORK__INIT;
    b.reason = "危大工程专项方案未经审查即施工";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_STOP_WORK;
    op.stop_work = &b;
    return try_op(d, s, e, &op, why);
}

/* A revisit that lifts the stop-work orders in its past, or a look-back of round `of`. */
static bool revisit_ex(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], bool ok, bool lift,
                       const uint8_t *of, const char **why)
{
    Scpb__Revisit b = SCPB__REVISIT__INIT;
    b.has_result = true;
    b.result =
        ok ? SCPB__REVISIT_RESULT__REVISIT_RECTIFIED : SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED;
    b.has_lifts_stop_work = lift;
    b.lifts_stop_work = lift;
    b.has_look_back = b.has_look_back_of = of != NULL;
    b.look_back = of != NULL;
    b.look_back_of = bin(of, of ? SC_ID_LEN : 0);
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_REVISIT;
    op.revisit = &b;
    return try_op(d, s, e, &op, why);
}

static void at_day(sco_device *d, int32_t day)
{
    d->now_ms = day * MS_DAY + 10 * 3600 * 1000;
}

START_TEST(escalation_is_for_overdue_or_relapsing_findings)
{
    sco_device insp, sup, sup2, wuye;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&sup2, 4, U_CITY, D0);
    device(&wuye, 3, U_WUYE, D0);
    uint8_t f[SC_ID_LEN], g[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sc_uuid7_new(ENV, g);
    sco_set s = {0}, t = {0};
    const char *why = NULL;
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 7, false, NULL));
    /* Within its deadline, never relapsed: nothing to escalate. */
    at_day(&sup, D0 + 7);
    expect_why(escalate(&sup, &s, f, SCPB__ESCALATION_STEP__ESCALATION_REMINDER, &why), why,
               "an escalation is for an overdue or relapsing finding: this one is within its "
               "deadline and never relapsed");
    /* Overdue on D0+8: two supervisors escalate at once, offline; both stand, in fold order. */
    at_day(&sup, D0 + 10);
    at_day(&sup2, D0 + 10);
    sco_set s2 = {0};
    sco_set_merge(ENV, &s2, &s, &sup2);
    ck_assert(escalate(&sup, &s, f, SCPB__ESCALATION_STEP__ESCALATION_REMINDER, NULL));
    ck_assert(escalate(&sup2, &s2, f, SCPB__ESCALATION_STEP__ESCALATION_INTERVIEW, NULL));
    sco_set_merge(ENV, &s, &s2, &sup);
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_uint_eq(st->n_invalid_ops, 0);
    ck_assert_uint_eq(st->finding->n_escalations, 2);
    ck_assert_uint_eq(st->n_conflicts, 0);
    sc_gov_policy pol;
    sc_gov_policy_default(&pol);
    sc_gov_flags fl;
    /* 13 days late: the ladder suggests a public notice; an interview was recorded already. */
    sc_gov_flags_of(st, &pol, D0 + 20, &fl);
    ck_assert_int_eq(fl.escalated_step, SCPB__ESCALATION_STEP__ESCALATION_INTERVIEW);
    ck_assert_int_eq(fl.late_days, 13);
    ck_assert_int_eq(fl.suggested_step, SCPB__ESCALATION_STEP__ESCALATION_PUBLIC_NOTICE);
    ck_assert(!fl.needs_escalation);
    sc_gov_flags_of(st, &pol, D0 + 37, &fl);
    ck_assert(fl.needs_escalation && fl.suggested_step == SCPB__ESCALATION_STEP__ESCALATION_YELLOW_CARD);
    sc_fold_out_dispose(ENV, &v);
    /* A relapse: closed, then reopened by a failed look-back; escalated within a new deadline. */
    ck_assert(create(&insp, &t, g, SCPB__GRADE__GRADE_GENERAL, true));
    ck_assert(notice(&insp, &t, g, GARDEN, D0 + 30, false, NULL));
    ck_assert(report(&wuye, &t, g));
    ck_assert(revisit(&insp, &t, g, true, false, NULL));
    ck_assert(closure(&sup, &t, g, NULL));
    Scpb__Revisit lb = SCPB__REVISIT__INIT;
    lb.has_result = lb.has_look_back = true;
    lb.result = SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED;
    lb.look_back = true;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_REVISIT;
    op.revisit = &lb;
    ck_assert(try_op(&insp, &t, g, &op, NULL));
    ck_assert(escalate(&sup, &t, g, SCPB__ESCALATION_STEP__ESCALATION_PUBLIC_NOTICE, NULL));
    /* Closed again: nothing to escalate. */
    ck_assert(report(&wuye, &t, g));
    ck_assert(revisit(&insp, &t, g, true, false, NULL));
    ck_assert(closure(&sup, &t, g, NULL));
    expect_why(escalate(&sup, &t, g, SCPB__ESCALATION_STEP__ESCALATION_INTERVIEW, &why), why,
               "the finding is closed: there is nothing to escalate");
    sco_set_dispose(ENV, &s);
    sco_set_dispose(ENV, &s2);
    sco_set_dispose(ENV, &t);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&sup2);
    sco_device_dispose(&wuye);
}
END_TEST

START_TEST(stop_work_is_lifted_only_by_a_rectified_revisit)
{
    sco_device insp, sup, sup2, wuye;
    device(&insp, 1, U_INSP, D0);
    device(&sup, 2, U_SUP, D0);
    device(&sup2, 4, U_CITY, D0);
    device(&wuye, 3, U_WUYE, D0);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 7, false, NULL));
    ck_assert(report(&wuye, &s, f));
    expect_why(revisit_ex(&insp, &s, f, true, true, NULL, &why), why,
               "no stop-work order (停工整改) is in force to lift");
    ck_assert(stop_work(&sup, &s, f, NULL));
    ck_assert(revisit(&insp, &s, f, true, false, NULL));
    sc_fold_out v;
    ck_assert(state_of(&v, &s)->finding->stop_work_in_force);
    sc_fold_out_dispose(ENV, &v);
    /* Verified, but the order stands: no closure until a revisit lifts it. */
    expect_why(closure(&sup, &s, f, &why), why,
               "the finding is under a stop-work order (停工整改): a rectified revisit lifts it "
               "before it is closed");
    /* A lift concurrent with a second order lifts only the first. */
    sco_set s2 = {0};
    sco_set_merge(ENV, &s2, &s, &sup2);
    ck_assert(revisit_ex(&insp, &s, f, true, true, NULL, NULL));
    ck_assert(stop_work(&sup2, &s2, f, NULL));
    sco_set_merge(ENV, &s, &s2, &insp);
    const Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_uint_eq(st->n_invalid_ops, 0);
    ck_assert_uint_eq(st->finding->n_stop_work, 2);
    ck_assert(st->finding->stop_work_in_force);
    ck_assert_uint_eq(st->finding->stop_work[0]->has_lifted_op + st->finding->stop_work[1]->has_lifted_op, 1);
    sc_fold_out_dispose(ENV, &v);
    /* The next lift, having seen both, lifts the second; then the finding closes. */
    ck_assert(revisit_ex(&insp, &s, f, true, true, NULL, NULL));
    ck_assert(!state_of(&v, &s)->finding->stop_work_in_force);
    sc_fold_out_dispose(ENV, &v);
    ck_assert(closure(&sup, &s, f, NULL));
    expect_why(stop_work(&sup, &s, f, &why), why,
               "the finding is closed: work is not stopped on a closed finding");
    sco_set_dispose(ENV, &s);
    sco_set_dispose(ENV, &s2);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
    sco_device_dispose(&sup2);
    sco_device_dispose(&wuye);
}
END_TEST

START_TEST(look_backs_name_their_round)
{
    sco_device insp, insp2, sup, wuye;
    device(&insp, 1, U_INSP, D0);
    device(&insp2, 5, U_JUNAN, D0);
    device(&sup, 2, U_SUP, D0);
    device(&wuye, 3, U_WUYE, D0);
    uint8_t f[SC_ID_LEN], round[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sc_uuid7_new(ENV, round);
    sco_set s = {0};
    ck_assert(create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    ck_assert(notice(&insp, &s, f, GARDEN, D0 + 7, false, NULL));
    ck_assert(report(&wuye, &s, f));
    ck_assert(revisit(&insp, &s, f, true, false, NULL));
    /* A failed look-back concurrent with the closure: safety first, the finding is open. */
    sco_set s2 = {0};
    sco_set_merge(ENV, &s2, &s, &insp2);
    ck_assert(closure(&sup, &s, f, NULL));
    ck_assert(revisit_ex(&insp2, &s2, f, false, false, round, NULL));
    sco_set_merge(ENV, &s, &s2, &sup);
    sc_fold_out v;
    const Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_uint_eq(st->n_invalid_ops, 0);
    ck_assert_int_eq(st->finding->status, SCPB__FINDING_STATUS__FINDING_OPEN);
    ck_assert_uint_eq(st->finding->n_look_backs, 1);
    ck_assert_mem_eq(st->finding->look_backs[0]->assignment.data, round, SC_ID_LEN);
    ck_assert_int_eq(st->finding->look_backs[0]->result,
                     SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED);
    sc_fold_out_dispose(ENV, &v);
    sco_set_dispose(ENV, &s);
    sco_set_dispose(ENV, &s2);
    sco_device_dispose(&insp);
    sco_device_dispose(&insp2);
    sco_device_dispose(&sup);
    sco_device_dispose(&wuye);
}
END_TEST

/* Is op id a in the causal past of op b (both in s)? */
static bool in_past_of(const sco_set *s, const sc_op *b, const uint8_t a[SC_HASH_LEN], int depth)
{
    for (size_t d = 0; d < b->op->n_deps && depth < 4096; d++) {
        if (memcmp(b->op->deps[d].data, a, SC_HASH_LEN) == 0)
            return true;
        for (size_t k = 0; k < s->n; k++)
            if (memcmp(s->v[k]->id, b->op->deps[d].data, SC_HASH_LEN) == 0 &&
                in_past_of(s, s->v[k], a, depth + 1))
                return true;
    }
    return false;
}

/* The oracle: an order is in force when no lift in the set has it in its past. */
static bool oracle_in_force(const sco_set *s)
{
    for (size_t o = 0; o < s->n; o++) {
        if (s->v[o]->op->body_case != SCPB__OP__BODY_STOP_WORK)
            continue;
        bool lifted = false;
        for (size_t l = 0; l < s->n && !lifted; l++) {
            const Scpb__Op *op = s->v[l]->op;
            lifted = op->body_case == SCPB__OP__BODY_REVISIT && op->revisit->lifts_stop_work &&
                     in_past_of(s, s->v[l], s->v[o]->id, 0);
        }
        if (!lifted)
            return true;
    }
    return false;
}

static size_t count_kind(const sco_set *s, Scpb__Op__BodyCase kind)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->v[i]->op->body_case == kind;
    return n;
}

static void random_escalation_action(sco_device *d, sco_set *s, const uint8_t *e,
                                     const uint8_t round[SC_ID_LEN], uint64_t *rng)
{
    d->now_ms += 1 + sco_pick(rng, 2 * (unsigned)MS_DAY);
    switch (sco_pick(rng, 9)) {
    case 0:
        escalate(d, s, e, 1 + sco_pick(rng, 5), NULL);
        break;
    case 1:
        stop_work(d, s, e, NULL);
        break;
    case 2:
    case 3: {
        bool ok = sco_pick(rng, 4) != 0;
        revisit_ex(d, s, e, ok, ok && sco_pick(rng, 2), NULL, NULL);
        break;
    }
    case 4:
        revisit_ex(d, s, e, sco_pick(rng, 2), false, round, NULL);
        break;
    case 5:
        report(d, s, e);
        break;
    case 6:
    case 7:
        closure(d, s, e, NULL);
        break;
    case 8: {
        Scpb__Reopen b = SCPB__REOPEN__INIT;
        b.reason = "回头看发现反弹";
        Scpb__Op op = SCPB__OP__INIT;
        op.body_case = SCPB__OP__BODY_REOPEN;
        op.reopen = &b;
        try_op(d, s, e, &op, NULL);
        break;
    }
    }
}

/*
 * Four tablets escalate, stop work, lift, look back, report and close one
 * finding offline and exchange their ops in random pairs: every replica
 * folds the same state in any arrival order, no op becomes invalid, and the
 * state says what an oracle reads off the ops and their deps: every
 * escalation and look-back kept, and an order in force exactly when no lift
 * has it in its past.
 */
START_TEST(random_escalation_converges)
{
    static const int who[REPLICAS] = {U_INSP, U_SUP, U_WUYE, U_CITY};
    unsigned nseeds = seeds() / 2, seen_concurrent_order = 0, seen_closed_lifted = 0;
    for (unsigned seed = 1; seed <= nseeds; seed++) {
        sim m;
        memset(&m, 0, sizeof m);
        m.rng = seed;
        PEOPLE.n = 0;
        for (unsigned r = 0; r < REPLICAS; r++)
            device(&m.dev[r], 100 + r, who[r], D0);
        sc_uuid7_new(ENV, m.finding);
        uint8_t round[SC_ID_LEN];
        sc_uuid7_new(ENV, round);
        sco_set seed_ops = {0};
        ck_assert(create(&m.dev[0], &seed_ops, m.finding, SCPB__GRADE__GRADE_GENERAL, true));
        ck_assert(notice(&m.dev[0], &seed_ops, m.finding, GARDEN, D0 + 3, false, NULL));
        for (unsigned r = 0; r < REPLICAS; r++)
            sco_set_merge(ENV, &m.rep[r], &seed_ops, &m.dev[r]);
        sco_set_dispose(ENV, &seed_ops);
        unsigned steps = 16 + pick(&m, 32);
        for (unsigned k = 0; k < steps; k++) {
            if (pick(&m, 4) == 0) {
                unsigned a = pick(&m, REPLICAS), b = pick(&m, REPLICAS);
                sco_set_merge(ENV, &m.rep[a], &m.rep[b], &m.dev[a]);
            } else {
                unsigned r = pick(&m, REPLICAS);
                random_escalation_action(&m.dev[r], &m.rep[r], m.finding, round, &m.rng);
            }
        }
        for (unsigned a = 0; a < REPLICAS; a++)
            for (unsigned b = 0; b < REPLICAS; b++)
                sco_set_merge(ENV, &m.rep[a], &m.rep[b], &m.dev[a]);
        uint8_t ref[SC_HASH_LEN], h[SC_HASH_LEN];
        shuffled_hash(&m, &m.rep[0], ref);
        for (unsigned r = 0; r < REPLICAS; r++) {
            shuffled_hash(&m, &m.rep[r], h);
            ck_assert_msg(memcmp(ref, h, SC_HASH_LEN) == 0, "seed %u: replica %u diverges", seed,
                          r);
        }
        sc_fold_out fo;
        sco_fold(ENV, &m.rep[0], &fo);
        const Scpb__FindingState *fs = fo.state->finding;
        ck_assert_msg(fo.state->n_invalid_ops == 0, "seed %u: an op became invalid", seed);
        ck_assert_uint_eq(fs->n_escalations, count_kind(&m.rep[0], SCPB__OP__BODY_ESCALATION));
        ck_assert_uint_eq(fs->n_stop_work, count_kind(&m.rep[0], SCPB__OP__BODY_STOP_WORK));
        ck_assert_msg(fs->stop_work_in_force == oracle_in_force(&m.rep[0]),
                      "seed %u: stop-work in force %d, the oracle says otherwise", seed,
                      (int)fs->stop_work_in_force);
        size_t lifted = 0;
        for (size_t k = 0; k < fs->n_stop_work; k++)
            lifted += fs->stop_work[k]->has_lifted_op;
        seen_concurrent_order += fs->stop_work_in_force && lifted > 0;
        seen_closed_lifted +=
            fs->status == SCPB__FINDING_STATUS__FINDING_CLOSED && lifted > 0;
        sc_fold_out_dispose(ENV, &fo);
        for (unsigned r = 0; r < REPLICAS; r++) {
            sco_set_dispose(ENV, &m.rep[r]);
            sco_device_dispose(&m.dev[r]);
        }
    }
    if (nseeds >= 500)
        ck_assert_msg(seen_concurrent_order && seen_closed_lifted,
                      "orders standing beside a lift %u, closed after a lift %u",
                      seen_concurrent_order, seen_closed_lifted);
}
END_TEST

static Suite *governance_suite(void)
{
    Suite *s = suite_create("governance");
    const sct_case cases[] = {
        {"notice", notice_defaults_then_locks_the_deadline},
        {"major_notice", a_major_hazards_notice_is_never_defaulted},
        {"sign_for", sign_for_answers_the_notice_once},
        {"plan", plans_are_complete_and_sent_back_by_name},
        {"plan_concurrency", plan_versus_send_back_and_concurrent_plans},
        {"extension", only_an_approval_moves_the_deadline},
        {"extension_concurrency", a_rejection_beats_a_concurrent_approval},
        {"extension_bound", extensions_are_bounded},
        {"acceptance", acceptance_by_the_level_above_and_three_people},
        {"earlier_rules", findings_of_the_earlier_rules_fold_as_before},
        {"policy", policy_is_inherited_period_by_period},
        {"flags", flags_count_against_the_deadline_in_force},
        {"convergence", random_governance_converges},
        {"escalation", escalation_is_for_overdue_or_relapsing_findings},
        {"stop_work", stop_work_is_lifted_only_by_a_rectified_revisit},
        {"look_backs", look_backs_name_their_round},
        {"escalation_convergence", random_escalation_converges},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown, .timeout_s = 900});
    return s;
}

int main(void)
{
    return sct_run(governance_suite());
}
