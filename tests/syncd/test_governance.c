/*
 * test_governance.c: what the register judges of rectification governance
 * (syncd/register/register_gov.c, and the fold's rules as syncd applies
 * them with the whole register): a submission carries its findings'
 * notices, a defaulted responsible unit is the target's, new findings
 * follow today's rules, the responsible unit acts only for itself, a
 * plan's person is a user of the register, and acceptance is by the level
 * above with three different people.  Ops are made by hand, as a client
 * that skips its own checks would send them; every refusal names its
 * reason and leaves the log as it was, and `syncd audit` replays the
 * accepted ones to the same states.
 */
#include "regfix.h"

#include "cmd/audit.h"
#include "core/date.h"
#include "core/governance.h"
#include "core/reason.h"

#define K_FINDING SCPB__ENTITY_TYPE__ENTITY_FINDING

/* The latest HLC any device here made: each device has seen what it builds on. */
static uint64_t LAST_HLC;

/* The world of regfix.h, with a user of the street (the responsible level) and one at the city. */
typedef struct gw {
    world w;
    uint8_t u_street[SC_ID_LEN], u_city[SC_ID_LEN];
    rf_dev street, city;
} gw;

static void gw_open(gw *g)
{
    memset(g, 0, sizeof *g);
    LAST_HLC = 0;
    world_open(&g->w);
    rf *f = &g->w.f;
    rf_user(f, "street-insp", SCPB__ROLE__ROLE_INSPECTOR, g->w.street, g->u_street);
    rf_user(f, "city-sup", SCPB__ROLE__ROLE_SUPERVISOR, g->w.city, g->u_city);
    rf_enroll(f, "street-insp", 11, &g->street);
    rf_enroll(f, "city-sup", 12, &g->city);
}

static void gw_close(gw *g)
{
    rf_dev_free(&g->street);
    rf_dev_free(&g->city);
    world_close(&g->w);
}

static rf_dev *see(rf_dev *d)
{
    sc_hlc_observe(&d->clock, LAST_HLC);
    return d;
}

/* A finding op on entity id with the given body, depending on dep. */
static sc_op *fop(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t dep[SC_HASH_LEN],
                  Scpb__Op *op)
{
    ProtobufCBinaryData depv[1];
    see(d);
    op->has_entity = true;
    op->entity = rf_bin(id, SC_ID_LEN);
    op->has_entity_type = true;
    op->entity_type = K_FINDING;
    rf_head(op, depv, dep);
    return rf_seal(f, d, op);
}

static sc_op *notice_op(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t *dep,
                        const uint8_t unit[SC_ID_LEN], bool defaulted)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Notice b = SCPB__NOTICE__INIT;
    b.has_responsible = true;
    b.responsible = rf_bin(unit, SC_ID_LEN);
    b.has_deadline_day = true;
    b.deadline_day = sc_date_from_ms(f->te.now_ms) + 30;
    b.has_responsible_defaulted = defaulted;
    b.responsible_defaulted = defaulted;
    op.body_case = SCPB__OP__BODY_NOTICE;
    op.notice = &b;
    return fop(f, d, id, dep, &op);
}

/* Push o and keep its id as the entity's new head. */
static sd_result push_head(rf *f, rf_dev *d, sc_op *o, uint8_t head[SC_HASH_LEN])
{
    memcpy(head, o->id, SC_HASH_LEN);
    if (o->op->hlc > LAST_HLC)
        LAST_HLC = o->op->hlc;
    return rf_push1(f, d, o);
}

/* A major finding on TA made by the inspector (under today's rules); its head into head. */
static void major_finding(gw *g, uint8_t id[SC_ID_LEN], uint8_t head[SC_HASH_LEN])
{
    rf *f = &g->w.f;
    sc_op *o = rf_finding(f, &g->w.insp, id, g->w.ta, NULL, "燃气管道老化未按期检验",
                          SCPB__GRADE__GRADE_MAJOR);
    rf_accepted(push_head(f, &g->w.insp, o, head));
}

static void expect_message(sd_result r, const char *part)
{
    ck_assert_msg(strstr(r.message, part), "message \"%s\" lacks \"%s\"", r.message, part);
}

START_TEST(a_submission_carries_the_notices)
{
    gw g;
    gw_open(&g);
    rf *f = &g.w.f;
    uint8_t insp[SC_ID_LEN], finding[SC_ID_LEN], ihead[SC_HASH_LEN], fhead[SC_HASH_LEN];
    rf_accepted(push_head(
        f, &g.w.insp,
        rf_insp_open(f, &g.w.insp, insp, g.w.ta, NULL, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN),
        ihead));
    sc_op *o = rf_finding(f, &g.w.insp, finding, g.w.ta, insp, "燃气管道老化未按期检验",
                          SCPB__GRADE__GRADE_MAJOR);
    rf_accepted(push_head(f, &g.w.insp, o, fhead));
    /* A submission listing the major hazard without its notice: refused, nothing logged. */
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionSubmit b = SCPB__INSPECTION_SUBMIT__INIT;
    ProtobufCBinaryData fl[1] = {rf_bin(finding, SC_ID_LEN)}, hl[1] = {rf_bin(fhead, SC_HASH_LEN)};
    b.n_findings = 1;
    b.findings = fl;
    b.n_finding_heads = 1;
    b.finding_heads = hl;
    op.has_entity = true;
    op.entity = rf_bin(insp, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.body_case = SCPB__OP__BODY_INSPECTION_SUBMIT;
    op.inspection_submit = &b;
    ProtobufCBinaryData depv[1];
    rf_head(&op, depv, ihead);
    uint64_t before = rf_log_size(f);
    sd_result r = rf_push1(f, &g.w.insp, rf_seal(f, &g.w.insp, &op));
    rf_rejected(r, SC_REASON_INVALID_TRANSITION);
    expect_message(r, "is a major hazard without its notice (限期整改通知): it names no "
                      "responsible unit and no deadline");
    ck_assert_uint_eq(rf_log_size(f), before);
    /* With its notice in the heads the submission lists, it goes in. */
    rf_accepted(
        push_head(f, &g.w.insp, notice_op(f, &g.w.insp, finding, fhead, g.w.street, false), fhead));
    hl[0] = rf_bin(fhead, SC_HASH_LEN);
    op.has_hlc = false;
    rf_accepted(rf_push1(f, &g.w.insp, rf_seal(f, &g.w.insp, &op)));
    gw_close(&g);
}
END_TEST

START_TEST(notices_and_new_findings_are_checked)
{
    gw g;
    gw_open(&g);
    rf *f = &g.w.f;
    uint8_t id[SC_ID_LEN], head[SC_HASH_LEN];
    /*
     * A finding of the earlier rules recorded after the register took these
     * (its clock at the register's opening here) is refused as new: the
     * client is older than the register.
     */
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__FindingCreate b = SCPB__FINDING_CREATE__INIT;
    rf_id(f, id);
    op.has_entity = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = K_FINDING;
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &b;
    b.has_target = true;
    b.target = rf_bin(g.w.ta, SC_ID_LEN);
    b.has_grade = true;
    b.grade = SCPB__GRADE__GRADE_GENERAL;
    b.description = "楼道堆物";
    op.has_hlc = true;
    op.hlc = sc_hlc_make(f->te.now_ms, 0);
    uint64_t before = rf_log_size(f);
    sd_result r = rf_push1(f, &g.w.insp, rf_seal(f, &g.w.insp, &op));
    rf_rejected(r, SC_REASON_BAD_FIELD);
    expect_message(r, "a new finding follows the rectification rules 2");
    expect_message(r, "this client is older than the register; update it");
    ck_assert_uint_eq(rf_log_size(f), before);
    /* A defaulted unit is the target's own. */
    major_finding(&g, id, head);
    r = rf_push1(f, &g.w.insp, notice_op(f, &g.w.insp, id, head, g.w.da, true));
    rf_rejected(r, SC_REASON_BAD_FIELD);
    expect_message(r, "a defaulted responsible unit is the target's org unit (street-a1), not "
                      "district-a");
    /* A major hazard's notice is never defaulted (the fold's rule, judged by syncd). */
    r = rf_push1(f, &g.w.insp, notice_op(f, &g.w.insp, id, head, g.w.street, true));
    rf_rejected(r, SC_REASON_INVALID_TRANSITION);
    expect_message(r, "a major hazard's notice names its responsible unit and its deadline");
    gw_close(&g);
}
END_TEST

static sc_op *sign_for_op(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t *dep)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__SignFor b = SCPB__SIGN_FOR__INIT;
    op.body_case = SCPB__OP__BODY_SIGN_FOR;
    op.sign_for = &b;
    return fop(f, d, id, dep, &op);
}

START_TEST(the_responsible_unit_acts_for_itself)
{
    gw g;
    gw_open(&g);
    rf *f = &g.w.f;
    uint8_t id[SC_ID_LEN], head[SC_HASH_LEN];
    major_finding(&g, id, head);
    /* Before its notice the finding names no unit to sign for. */
    sd_result r = rf_push1(f, &g.w.resp, sign_for_op(f, &g.w.resp, id, head));
    rf_rejected(r, SC_REASON_INVALID_TRANSITION);
    expect_message(r, "sign_for: the finding names no responsible unit yet");
    /* The notice names district B's unit: the street's contact does not speak for it. */
    rf_accepted(push_head(f, &g.w.insp, notice_op(f, &g.w.insp, id, head, g.w.db, false), head));
    r = rf_push1(f, &g.w.resp, sign_for_op(f, &g.w.resp, id, head));
    rf_rejected(r, SC_REASON_OUT_OF_SCOPE);
    expect_message(r, "sign_for is for the responsible unit (district-b): you speak for street-a1");
    /* Nor does it report the finding rectified. */
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__RectificationReport rr = SCPB__RECTIFICATION_REPORT__INIT;
    rr.note = "已整改";
    op.body_case = SCPB__OP__BODY_RECTIFICATION_REPORT;
    op.rectification_report = &rr;
    uint64_t before = rf_log_size(f);
    r = rf_push1(f, &g.w.resp, fop(f, &g.w.resp, id, head, &op));
    rf_rejected(r, SC_REASON_OUT_OF_SCOPE);
    expect_message(r, "rectification_report is for the responsible unit (district-b): you speak "
                      "for street-a1");
    ck_assert_uint_eq(rf_log_size(f), before);
    gw_close(&g);
}
END_TEST

START_TEST(a_plans_person_is_a_user_of_the_register)
{
    gw g;
    gw_open(&g);
    rf *f = &g.w.f;
    uint8_t id[SC_ID_LEN], head[SC_HASH_LEN], stranger[SC_ID_LEN];
    major_finding(&g, id, head);
    rf_accepted(
        push_head(f, &g.w.insp, notice_op(f, &g.w.insp, id, head, g.w.street, false), head));
    rf_id(f, stranger);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__RectificationPlan b = SCPB__RECTIFICATION_PLAN__INIT;
    b.has_person_user = true;
    b.person_user = rf_bin(stranger, SC_ID_LEN);
    b.measures = "更换管道";
    b.has_funds_cents = true;
    b.funds_cents = 1200000;
    b.funds_source = "安全专项费用";
    b.interim = "关闭总阀";
    b.lead_official = "王副主任";
    op.body_case = SCPB__OP__BODY_PLAN;
    op.plan = &b;
    sd_result r = rf_push1(f, &g.w.resp, fop(f, &g.w.resp, id, head, &op));
    rf_rejected(r, SC_REASON_UNKNOWN_REFERENCE);
    expect_message(r, "responsible person");
    b.person_user = rf_bin(g.w.u_resp, SC_ID_LEN);
    b.lead_official = NULL;
    op.has_hlc = false;
    r = rf_push1(f, &g.w.resp, fop(f, &g.w.resp, id, head, &op));
    rf_rejected(r, SC_REASON_INVALID_TRANSITION);
    expect_message(r, "a major hazard's plan needs the lead official (牵头领导)");
    b.lead_official = "王副主任";
    op.has_hlc = false;
    rf_accepted(rf_push1(f, &g.w.resp, fop(f, &g.w.resp, id, head, &op)));
    gw_close(&g);
}
END_TEST

static sc_op *revisit_op(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t *dep,
                         bool acceptance)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Revisit b = SCPB__REVISIT__INIT;
    b.has_result = true;
    b.result = SCPB__REVISIT_RESULT__REVISIT_RECTIFIED;
    b.has_acceptance = acceptance;
    b.acceptance = acceptance;
    op.body_case = SCPB__OP__BODY_REVISIT;
    op.revisit = &b;
    return fop(f, d, id, dep, &op);
}

START_TEST(acceptance_by_the_level_above_three_people_and_audit)
{
    gw g;
    gw_open(&g);
    rf *f = &g.w.f;
    uint8_t id[SC_ID_LEN], head[SC_HASH_LEN];
    major_finding(&g, id, head);
    rf_accepted(
        push_head(f, &g.w.insp, notice_op(f, &g.w.insp, id, head, g.w.street, false), head));
    rf_accepted(push_head(f, &g.w.resp, rf_report(f, see(&g.w.resp), id, head), head));
    /* The street's own inspector is not above the street. */
    sd_result r = rf_push1(f, &g.street, revisit_op(f, &g.street, id, head, true));
    rf_rejected(r, SC_REASON_INVALID_TRANSITION);
    expect_message(r, "an acceptance (验收) is made by a user of an org unit above the "
                      "responsible unit");
    /* The district's supervisor accepts; closing needs yet another person. */
    rf_accepted(push_head(f, &g.w.sup, revisit_op(f, &g.w.sup, id, head, true), head));
    r = rf_push1(f, &g.w.sup, rf_closure(f, see(&g.w.sup), id, head));
    rf_rejected(r, SC_REASON_INVALID_TRANSITION);
    expect_message(r, "the closer must be someone other than the acceptor");
    rf_accepted(push_head(f, &g.city, rf_closure(f, see(&g.city), id, head), head));
    /* The audit replays it all with the users and org units of the log. */
    sd_audit_report rep;
    sc_err err;
    sc_err_clear(&err);
    sd_register_close(f->r);
    f->r = NULL;
    ck_assert_msg(sd_audit_run(f->data, NULL, &rep, &err) == SC_OK, "%s / %s", rep.problem,
                  err.msg);
    rf_reopen(f);
    gw_close(&g);
}
END_TEST

/*
 * An upgraded tablet's queue: a finding an older client recorded before the
 * register took the rules (its HLC earlier than the register's
 * gov_rules_since_ms) goes in under its earlier rules, and so does the
 * submission listing it without a notice; reopened, the register keeps the
 * time it took them.
 */
START_TEST(earlier_rules_recorded_before_the_register_took_these)
{
    gw g;
    gw_open(&g);
    rf *f = &g.w.f;
    uint8_t insp[SC_ID_LEN], finding[SC_ID_LEN], ihead[SC_HASH_LEN], fhead[SC_HASH_LEN];
    rf_accepted(push_head(
        f, &g.w.insp,
        rf_insp_open(f, &g.w.insp, insp, g.w.ta, NULL, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN),
        ihead));
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__FindingCreate fc = SCPB__FINDING_CREATE__INIT;
    rf_id(f, finding);
    op.has_entity = true;
    op.entity = rf_bin(finding, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = K_FINDING;
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &fc;
    fc.has_target = true;
    fc.target = rf_bin(g.w.ta, SC_ID_LEN);
    fc.has_inspection = true;
    fc.inspection = rf_bin(insp, SC_ID_LEN);
    fc.has_grade = true;
    fc.grade = SCPB__GRADE__GRADE_GENERAL;
    fc.description = "楼道堆物";
    /* Recorded offline, 600 ms before the register was opened by this version. */
    op.has_hlc = true;
    op.hlc = sc_hlc_make(f->te.now_ms - 600, 0);
    rf_accepted(push_head(f, &g.w.insp, rf_seal(f, &g.w.insp, &op), fhead));
    Scpb__Op sub = SCPB__OP__INIT;
    Scpb__InspectionSubmit b = SCPB__INSPECTION_SUBMIT__INIT;
    ProtobufCBinaryData fl[1] = {rf_bin(finding, SC_ID_LEN)}, hl[1] = {rf_bin(fhead, SC_HASH_LEN)};
    b.n_findings = 1;
    b.findings = fl;
    b.n_finding_heads = 1;
    b.finding_heads = hl;
    sub.has_entity = true;
    sub.entity = rf_bin(insp, SC_ID_LEN);
    sub.has_entity_type = true;
    sub.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    sub.body_case = SCPB__OP__BODY_INSPECTION_SUBMIT;
    sub.inspection_submit = &b;
    ProtobufCBinaryData depv[1];
    rf_head(&sub, depv, ihead);
    rf_accepted(rf_push1(f, &g.w.insp, rf_seal(f, &g.w.insp, &sub)));
    /* Reopened, an hour later: the register took the rules when first opened, not now. */
    f->te.now_ms += 3600 * 1000;
    rf_reopen(f);
    uint8_t late[SC_ID_LEN];
    rf_id(f, late);
    op.entity = rf_bin(late, SC_ID_LEN);
    op.hlc = sc_hlc_make(f->te.now_ms - 1800 * 1000, 0);
    sd_result r = rf_push1(f, &g.w.insp, rf_seal(f, &g.w.insp, &op));
    rf_rejected(r, SC_REASON_BAD_FIELD);
    expect_message(r, "this client is older than the register");
    gw_close(&g);
}
END_TEST

/* A self-check (自查) of target by d: kind self, self_check as given. */
static sc_op *self_open(rf *f, rf_dev *d, uint8_t id[SC_ID_LEN], const uint8_t target[SC_ID_LEN],
                        bool self_check)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen b = SCPB__INSPECTION_OPEN__INIT;
    rf_id(f, id);
    op.has_entity = op.has_entity_type = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &b;
    b.has_target = b.has_kind = b.has_disclosure = true;
    b.target = rf_bin(target, SC_ID_LEN);
    b.kind = SCPB__INSPECTION_KIND__KIND_SELF;
    b.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
    b.has_self_check = b.self_check = self_check;
    return rf_seal(f, see(d), &op);
}

/* A finding of inspection insp on target by d, self-reported or not. */
static sc_op *self_finding(rf *f, rf_dev *d, uint8_t id[SC_ID_LEN], const uint8_t target[SC_ID_LEN],
                           const uint8_t insp[SC_ID_LEN], bool self_reported)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__FindingCreate b = SCPB__FINDING_CREATE__INIT;
    rf_id(f, id);
    op.has_entity = op.has_entity_type = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.entity_type = K_FINDING;
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &b;
    b.has_target = b.has_inspection = b.has_source = b.has_grade = b.has_rules = true;
    b.target = rf_bin(target, SC_ID_LEN);
    b.inspection = rf_bin(insp, SC_ID_LEN);
    b.source = SCPB__FINDING_SOURCE__SOURCE_INSPECTION;
    b.grade = SCPB__GRADE__GRADE_GENERAL;
    b.description = (char *)"楼道堆物、飞线充电";
    b.rules = SC_GOV_RULES;
    b.has_self_reported = b.self_reported = self_reported;
    return rf_seal(f, see(d), &op);
}

/*
 * Self-checks at the register, as a client that skips its own checks would
 * send them: the responsible user opens only self-checks of its own
 * targets, nobody else opens one or raises a hazard in one, and its hazards
 * are self-reported; a look-back names a round that re-checks its finding.
 * Every refusal names why and logs nothing; the audit replays the rest.
 */
START_TEST(self_checks_and_look_back_rounds_are_checked)
{
    gw g;
    gw_open(&g);
    rf *f = &g.w.f;
    uint8_t chk[SC_ID_LEN], other[SC_ID_LEN], fid[SC_ID_LEN], head[SC_HASH_LEN];
    uint64_t before = rf_log_size(f);
    sd_result r = rf_push1(f, &g.w.resp, rf_insp_open(f, see(&g.w.resp), other, g.w.ta, NULL, NULL,
                                                      SCPB__DISCLOSURE__DISCLOSURE_OPEN));
    rf_rejected(r, SC_REASON_FORBIDDEN_ROLE);
    expect_message(r, "a responsible user opens self-checks (自查) only");
    r = rf_push1(f, &g.w.resp, self_open(f, &g.w.resp, other, g.w.tb, true));
    rf_rejected(r, SC_REASON_OUT_OF_SCOPE);
    r = rf_push1(f, &g.w.insp, self_open(f, &g.w.insp, other, g.w.ta, true));
    rf_rejected(r, SC_REASON_FORBIDDEN_ROLE);
    expect_message(r, "a self-check (自查) is opened by the responsible unit itself");
    ck_assert_uint_eq(rf_log_size(f), before);
    /* The unit's self-check of its own compound; the inspector may not raise a hazard in it,
     * nor photograph it. */
    rf_accepted(push_head(f, &g.w.resp, self_open(f, &g.w.resp, chk, g.w.ta, true), head));
    Scpb__Op pop = SCPB__OP__INIT;
    Scpb__PhotoAttach pa = SCPB__PHOTO_ATTACH__INIT;
    ProtobufCBinaryData pdep[1];
    uint8_t sha[SC_HASH_LEN];
    memset(sha, 0x5a, sizeof sha);
    pa.has_sha256 = pa.has_size = true;
    pa.sha256 = rf_bin(sha, SC_HASH_LEN);
    pa.size = 100;
    pa.mime = (char *)"image/jpeg";
    pop.has_entity = pop.has_entity_type = true;
    pop.entity = rf_bin(chk, SC_ID_LEN);
    pop.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    pop.body_case = SCPB__OP__BODY_PHOTO_ATTACH;
    pop.photo_attach = &pa;
    rf_head(&pop, pdep, head);
    r = rf_push1(f, &g.w.insp, rf_seal(f, see(&g.w.insp), &pop));
    rf_rejected(r, SC_REASON_FORBIDDEN_ROLE);
    expect_message(r, "photo_attach: a self-check (自查) is the responsible unit's own");
    r = rf_push1(f, &g.w.insp, self_finding(f, &g.w.insp, fid, g.w.ta, chk, false));
    rf_rejected(r, SC_REASON_FORBIDDEN_ROLE);
    expect_message(r, "the findings of a self-check (自查) are the responsible unit's own");
    r = rf_push1(f, &g.w.resp, self_finding(f, &g.w.resp, fid, g.w.ta, chk, false));
    rf_rejected(r, SC_REASON_BAD_FIELD);
    expect_message(r, "a responsible user's finding is self-reported");
    rf_accepted(push_head(f, &g.w.resp, self_finding(f, &g.w.resp, fid, g.w.ta, chk, true), head));
    uint8_t round[SC_ID_LEN], fhead[SC_HASH_LEN];
    memcpy(fhead, head, SC_HASH_LEN);
    /* Its notice names the street's unit, not another district's nor the one above it. */
    before = rf_log_size(f);
    r = rf_push1(f, &g.w.resp, notice_op(f, &g.w.resp, fid, fhead, g.w.db, false));
    rf_rejected(r, SC_REASON_OUT_OF_SCOPE);
    expect_message(r, "names its own org unit or one below it as responsible");
    r = rf_push1(f, &g.w.resp, notice_op(f, &g.w.resp, fid, fhead, g.w.da, false));
    rf_rejected(r, SC_REASON_OUT_OF_SCOPE);
    ck_assert_uint_eq(rf_log_size(f), before);
    rf_accepted(push_head(f, &g.w.resp, notice_op(f, &g.w.resp, fid, fhead, g.w.street, false),
                          fhead));
    /* A look-back naming a round that does not re-check the finding. */
    const uint8_t *who[1] = {g.w.u_insp};
    rf_assign(f, g.w.ta, who, 1, SCPB__DISCLOSURE__DISCLOSURE_OPEN, round);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Revisit rv = SCPB__REVISIT__INIT;
    rv.has_result = rv.has_look_back = rv.look_back = rv.has_look_back_of = true;
    rv.result = SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED;
    rv.look_back_of = rf_bin(round, SC_ID_LEN);
    op.body_case = SCPB__OP__BODY_REVISIT;
    op.revisit = &rv;
    before = rf_log_size(f);
    r = rf_push1(f, &g.w.insp, fop(f, &g.w.insp, fid, fhead, &op));
    rf_rejected(r, SC_REASON_BAD_FIELD);
    expect_message(r, "does not re-check this finding");
    ck_assert_uint_eq(rf_log_size(f), before);
    sd_audit_report rep;
    sc_err err;
    sc_err_clear(&err);
    sd_register_close(f->r);
    f->r = NULL;
    ck_assert_msg(sd_audit_run(f->data, NULL, &rep, &err) == SC_OK, "%s / %s", rep.problem,
                  err.msg);
    rf_reopen(f);
    gw_close(&g);
}
END_TEST

static Suite *governance_suite(void)
{
    Suite *s = suite_create("syncd/governance");
    const sct_case cases[] = {
        {"submission", a_submission_carries_the_notices},
        {"notices", notices_and_new_findings_are_checked},
        {"earlier_rules", earlier_rules_recorded_before_the_register_took_these},
        {"unit_acts", the_responsible_unit_acts_for_itself},
        {"plan_person", a_plans_person_is_a_user_of_the_register},
        {"acceptance", acceptance_by_the_level_above_three_people_and_audit},
        {"self_checks", self_checks_and_look_back_rounds_are_checked},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(governance_suite());
}
