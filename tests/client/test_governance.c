/*
 * test_governance.c: rectification governance on a replica (client-lib/src
 * governance.c and query_gov.c): the notices a submission issues and their
 * defaults from the register's policy, a major hazard refused with nothing
 * recorded, the flags that come due as the handle's clock moves on (not
 * signed for, no plan, days overdue against the deadline in force), the
 * review queue's governance lists, and the API's own refusals.
 */
#include "fixture.h"

#define MS_DAY INT64_C(86400000)

static json_t *show(fx *f, const char *id)
{
    char *json = NULL;
    ck_assert_msg(sc_show(f->c, id, &json) == SC_OK, "show: %s", sc_client_errmsg(f->c));
    return fx_json(f, json);
}

static json_t *review(fx *f)
{
    char *json = NULL;
    ck_assert_int_eq(sc_review(f->c, &json), SC_OK);
    return fx_json(f, json);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool flag(json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

static void day_text(fx *f, int days, char out[11])
{
    sc_date_format(sc_date_from_ms(f->t.now_ms) + days, out);
}

/* A finding of grade, due in 7 days (d), in a submitted check. */
static void submitted(fx *f, const char *grade, char check[SC_ID_HEX_LEN], char id[SC_ID_HEX_LEN],
                      char d[11])
{
    fx_check(f, check);
    day_text(f, 7, d);
    fx_finding(f, check, grade, d, id);
    ck_assert_int_eq(sc_check_submit(f->c, check, NULL), SC_OK);
}

/* The register's policy on an org unit, stored as pulled from syncd. */
static void policy(fx *f, const uint8_t org[SC_ID_LEN], int general, int sign_for)
{
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(st_state_get(f->c, org, &st), SC_OK);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__OrgPolicy p = SCPB__ORG_POLICY__INIT;
    p.has_general_days = true;
    p.general_days = general;
    p.has_sign_for_days = true;
    p.sign_for_days = sign_for;
    op.n_deps = st->n_heads;
    op.deps = st->heads;
    op.body_case = SCPB__OP__BODY_ORG_POLICY;
    op.org_policy = &p;
    fx_store(f, f->server, &op, org, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, NULL);
    rp_state_free(f->c, st);
}

/* A finding op by another person (a key of its own), stored as pulled. */
static void pulled(fx *f, uint32_t keyno, const char *fid, Scpb__Op *op, uint8_t op_id[SC_HASH_LEN])
{
    uint8_t id[SC_ID_LEN];
    ck_assert(cl_parse_id(fid, id));
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(st_state_get(f->c, id, &st), SC_OK);
    op->n_deps = st->n_heads;
    op->deps = st->heads;
    op->has_hlc = true;
    op->hlc =
        sc_hlc_make(f->t.now_ms, 0) > st->last_hlc ? sc_hlc_make(f->t.now_ms, 0) : st->last_hlc + 1;
    sc_keypair *key = sct_key(keyno);
    fx_store(f, key, op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, op_id);
    sc_keypair_free(key);
    rp_state_free(f->c, st);
}

START_TEST(submission_issues_notices_with_the_policys_defaults)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    policy(&f, f.city, 10, 2);
    char check[SC_ID_HEX_LEN], gen[SC_ID_HEX_LEN], major[SC_ID_HEX_LEN];
    fx_check(&f, check);
    sc_finding_params p = {.check = check, .description = "电梯未张贴使用说明", .grade = "general"};
    ck_assert_int_eq(sc_finding_add(f.c, &p, gen), SC_OK);
    p.description = "燃气管道老化未按期检验";
    p.grade = "major";
    p.responsible = "unit-a";
    ck_assert_int_eq(sc_finding_add(f.c, &p, major), SC_OK);
    /* The major hazard has a unit but no deadline: refused, nothing recorded. */
    long long before = fx_count(&f, "outbox");
    ck_assert_int_eq(sc_check_submit(f.c, check, NULL), SC_ERR_INVALID_TRANSITION);
    ck_assert_msg(strstr(sc_client_errmsg(f.c),
                         "is a major hazard with no deadline: its notice "
                         "(限期整改通知) names both (finding set --deadline"),
                  "%s", sc_client_errmsg(f.c));
    ck_assert_str_eq(sc_client_reason(f.c), "invalid_transition");
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    char d[11];
    day_text(&f, 60, d);
    ck_assert_int_eq(sc_finding_set(f.c, major, "deadline", d), SC_OK);
    ck_assert_int_eq(sc_check_submit(f.c, check, NULL), SC_OK);
    /* The general finding took the city's period and the target's unit, and says so. */
    json_t *o = show(&f, gen);
    char want[11];
    day_text(&f, 10, want);
    ck_assert_str_eq(str(o, "deadline"), want);
    ck_assert_str_eq(str(o, "responsible"), "city");
    ck_assert(flag(o, "responsible_defaulted") && flag(o, "deadline_defaulted") &&
              flag(o, "notice"));
    json_t *g = json_object_get(o, "governance");
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(g, "policy"), "general_days")), 10);
    day_text(&f, 2, want);
    ck_assert_str_eq(str(json_object_get(g, "notice"), "sign_for_due"), want);
    json_decref(o);
    o = show(&f, major);
    ck_assert(!flag(o, "responsible_defaulted") && !flag(o, "deadline_defaulted"));
    json_decref(o);
    /* A second notice is refused before the fold is asked. */
    ck_assert_int_eq(sc_notice(f.c, gen, NULL, NULL, NULL), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "already has its notice"));
    fx_close(&f);
}
END_TEST

START_TEST(a_finding_without_an_inspection_gets_its_notice_at_once)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char id[SC_ID_HEX_LEN];
    sc_finding_params p = {.target = "T1",
                           .source = "complaint",
                           .description = "楼道堆物、飞线充电",
                           .grade = "general"};
    ck_assert_int_eq(sc_finding_add(f.c, &p, id), SC_OK);
    json_t *o = show(&f, id);
    ck_assert(flag(o, "notice") && flag(o, "deadline_defaulted"));
    json_decref(o);
    long long before = fx_count(&f, "outbox");
    p.grade = "major";
    p.description = "烟花爆竹零售点与居民楼未隔离";
    ck_assert_int_eq(sc_finding_add(f.c, &p, id), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "no responsible unit and no deadline"));
    ck_assert_str_eq(id, "");
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    fx_close(&f);
}
END_TEST

/* An item of the review queue's list `what` has this id. */
static bool queued(fx *f, const char *what, const char *id)
{
    json_t *r = review(f);
    bool found = false;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r, what), i, it) found =
        found || strcmp(str(it, "id"), id) == 0;
    json_decref(r);
    return found;
}

START_TEST(flags_come_due_with_the_clock)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], id[SC_ID_HEX_LEN], d[11];
    submitted(&f, "major", check, id, d);
    json_t *o = show(&f, id);
    ck_assert(!flag(o, "sign_for_late") && !flag(o, "plan_late"));
    json_decref(o);
    ck_assert(!queued(&f, "sign_for_late", id));
    /* Four days on: not signed for within 3 days. */
    f.t.now_ms += 4 * MS_DAY;
    o = show(&f, id);
    ck_assert(flag(o, "sign_for_late") && !flag(o, "plan_late"));
    json_decref(o);
    ck_assert(queued(&f, "sign_for_late", id));
    /* The unit signs for it (pulled from another tablet): no longer late. */
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__SignFor sf = SCPB__SIGN_FOR__INIT;
    op.body_case = SCPB__OP__BODY_SIGN_FOR;
    op.sign_for = &sf;
    pulled(&f, 31, id, &op, NULL);
    ck_assert(!queued(&f, "sign_for_late", id));
    /* Eight days on: no plan for a major hazard within 7 days, and a day overdue. */
    f.t.now_ms += 4 * MS_DAY;
    o = show(&f, id);
    ck_assert(flag(o, "plan_late") && flag(o, "signed_for"));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "overdue_days")), 1);
    json_decref(o);
    ck_assert(queued(&f, "plan_late", id));
    /* The unit asks for a later date; pending, it is still overdue, and awaits a decision. */
    Scpb__Op rq = SCPB__OP__INIT;
    Scpb__ExtensionRequest er = SCPB__EXTENSION_REQUEST__INIT;
    er.has_deadline_day = true;
    er.deadline_day = sc_date_from_ms(f.t.now_ms) + 20;
    er.reason = "材料到货延迟";
    rq.body_case = SCPB__OP__BODY_EXTENSION_REQUEST;
    rq.extension_request = &er;
    uint8_t req[SC_HASH_LEN];
    pulled(&f, 31, id, &rq, req);
    ck_assert(queued(&f, "extension_requests", id));
    o = show(&f, id);
    ck_assert(flag(o, "overdue"));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "extensions_pending")), 1);
    json_decref(o);
    /* A supervisor approves two days later: not overdue now; the two days it was stay counted. */
    f.t.now_ms += 2 * MS_DAY;
    Scpb__Op dc = SCPB__OP__INIT;
    Scpb__ExtensionDecision ed = SCPB__EXTENSION_DECISION__INIT;
    ed.has_request = true;
    ed.request = (ProtobufCBinaryData){SC_HASH_LEN, req};
    ed.has_approve = true;
    ed.approve = true;
    dc.body_case = SCPB__OP__BODY_EXTENSION_DECISION;
    dc.extension_decision = &ed;
    pulled(&f, 32, id, &dc, NULL);
    f.t.now_ms += 3 * MS_DAY;
    o = show(&f, id);
    ck_assert(!flag(o, "overdue"));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "overdue_days")), 2);
    json_t *hist = json_object_get(json_object_get(o, "governance"), "deadline_history");
    ck_assert_uint_eq(json_array_size(hist), 2);
    ck_assert_str_eq(str(json_array_get(hist, 1), "cause"), "extension");
    json_decref(o);
    ck_assert(!queued(&f, "extension_requests", id));
    fx_close(&f);
}
END_TEST

START_TEST(the_api_refuses_with_reasons)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], id[SC_ID_HEX_LEN], d[11], op[SC_HASH_HEX_LEN];
    submitted(&f, "general", check, id, d);
    long long before = fx_count(&f, "outbox");
    /* The role table: an inspector neither signs for nor plans nor decides. */
    ck_assert_int_eq(sc_sign_for(f.c, id, NULL), SC_ERR_FORBIDDEN);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "may not make sign_for"));
    sc_plan_params pp = {.size = sizeof pp, .person = "li", .measures = "清理"};
    ck_assert_int_eq(sc_plan(f.c, id, &pp, op), SC_ERR_FORBIDDEN);
    ck_assert_str_eq(op, "");
    ck_assert_int_eq(sc_extension_decide(f.c, id, NULL, 1, NULL), SC_ERR_FORBIDDEN);
    ck_assert_int_eq(sc_deadline_change(f.c, id, d, "x"), SC_ERR_FORBIDDEN);
    /* Flags this library does not know. */
    ck_assert_int_eq(sc_revisit_v2(f.c, id, "rectified", NULL, 4u, NULL, 0), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "unknown flags"));
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    fx_close(&f);

    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    fx_check(&f, check);
    fx_finding(&f, check, "general", d, id);
    ck_assert_int_eq(sc_check_submit(f.c, check, NULL), SC_OK);
    before = fx_count(&f, "outbox");
    /* A size under the struct's, and a newer header's struct setting a field this library lacks. */
    pp.size = offsetof(sc_plan_params, lead_official);
    ck_assert_int_eq(sc_plan(f.c, id, &pp, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "sc_plan_params.size is"));
    struct {
        sc_plan_params p;
        const char *later;
    } newer = {.p = pp, .later = "x"};
    newer.p.size = sizeof newer;
    ck_assert_int_eq(sc_plan(f.c, id, &newer.p, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "newer spotcheck.h"));
    pp.size = sizeof pp;
    pp.person = NULL;
    ck_assert_int_eq(sc_plan(f.c, id, &pp, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "a plan names its responsible person"));
    pp.person = "li";
    pp.funds = "1,200";
    ck_assert_int_eq(sc_plan(f.c, id, &pp, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "is not an amount"));
    ck_assert_int_eq(sc_plan_return(f.c, id, NULL, "x"), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "the finding has no plan"));
    ck_assert_int_eq(sc_extension_decide(f.c, id, NULL, 1, NULL), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "no pending extension request"));
    ck_assert_int_eq(sc_deadline_change(f.c, id, d, NULL), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    /* A supervisor files the plan of a unit that reports on paper: amounts in hundredths. */
    pp.funds = "1200.5";
    ck_assert_int_eq(sc_plan(f.c, id, &pp, op), SC_OK);
    ck_assert_uint_eq(strlen(op), 64);
    json_t *o = show(&f, id);
    json_t *plan = json_object_get(json_object_get(o, "governance"), "plan");
    ck_assert_str_eq(str(plan, "funds"), "1200.50");
    ck_assert_str_eq(str(plan, "op"), op);
    json_decref(o);
    fx_close(&f);
}
END_TEST

/*
 * A responsible unit's contact acts for its own unit only, as syncd judges
 * it: a rectification report on another unit's finding, and a notice of a
 * hazard it did not report itself, are refused here with nothing recorded.
 */
START_TEST(a_responsible_user_speaks_for_its_own_unit)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], id[SC_ID_HEX_LEN], d[11];
    submitted(&f, "general", check, id, d);
    /* The handle now speaks for a sibling of unit-a, as its responsible contact. */
    uint8_t other[SC_ID_LEN];
    fx_org(&f, other, "unit-b", f.city);
    f.c->id.role = SCPB__ROLE__ROLE_RESPONSIBLE;
    memcpy(f.c->id.org, other, SC_ID_LEN);
    long long before = fx_count(&f, "outbox");
    ck_assert_int_eq(sc_rectify(f.c, id, "已整改", NULL, NULL, 0), SC_ERR_FORBIDDEN);
    ck_assert_str_eq(sc_client_reason(f.c), "out_of_scope");
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c),
                                 "a rectification report is for the responsible unit (unit-a)"));
    ck_assert_int_eq(sc_notice(f.c, id, "unit-b", d, NULL), SC_ERR_FORBIDDEN);
    ck_assert_str_eq(sc_client_reason(f.c), "forbidden_role");
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "its own self-reported hazards only"));
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    /* Speaking for the city above both, the report goes in. */
    memcpy(f.c->id.org, f.city, SC_ID_LEN);
    ck_assert_int_eq(sc_rectify(f.c, id, "已整改", NULL, NULL, 0), SC_OK);
    ck_assert_int_eq(fx_count(&f, "outbox"), before + 1);
    fx_close(&f);
}
END_TEST

/*
 * Escalation and stop-work through the API (client-lib/src/escalation.c):
 * refusals before anything is recorded (no reason, an unknown step, a
 * finding within its deadline, a lift of nothing, a struct of a newer
 * header), then the ladder's queue, the escalation and the order in show,
 * and the list filters.
 */
START_TEST(escalation_and_stop_work_through_the_api)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char id[SC_ID_HEX_LEN], op[SC_HASH_HEX_LEN], d[11];
    day_text(&f, 4, d);
    sc_finding_params p = {.target = "T1",
                           .source = "complaint",
                           .description = "楼道堆物、飞线充电",
                           .grade = "general",
                           .deadline = d};
    ck_assert_int_eq(sc_finding_add(f.c, &p, id), SC_OK);
    long long before = fx_count(&f, "outbox");
    sc_escalation_params ep = {.size = sizeof ep, .step = "reminder", .level = "county"};
    ck_assert_int_eq(sc_escalate(f.c, id, &ep, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "an escalation states its reason"));
    ck_assert_str_eq(op, "");
    ep.reason = "逾期未整改";
    ep.step = "warning";
    ck_assert_int_eq(sc_escalate(f.c, id, &ep, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c),
                                 "step \"warning\" is not one of: reminder, public_notice, "
                                 "interview, yellow_card, accountability"));
    ep.step = "reminder";
    ep.level = "province";
    ck_assert_int_eq(sc_escalate(f.c, id, &ep, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "level \"province\" is not one of: city, "
                                                        "county, street, community, grid"));
    /* The names the calls take are the ones sc_value_name gives, in the same order. */
    ck_assert_str_eq(sc_value_name("escalation_step", 0), "reminder");
    ck_assert_str_eq(sc_value_name("escalation_step", 4), "accountability");
    ck_assert_ptr_null(sc_value_name("escalation_step", 5));
    ck_assert_str_eq(sc_value_name("org_level", 1), "county");
    ep.level = "county";
    ck_assert_int_eq(sc_escalate(f.c, id, &ep, op), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "within its deadline and never relapsed"));
    /* A struct from a newer header that sets what this library does not know. */
    struct {
        sc_escalation_params p;
        const char *later;
    } newer = {ep, "x"};
    newer.p.size = sizeof newer;
    ck_assert_int_eq(sc_escalate(f.c, id, &newer.p, op), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "newer spotcheck.h"));
    ck_assert_int_eq(sc_stop_work(f.c, id, "", op), SC_ERR_INVALID_ARG);
    sc_revisit_params rp = {.size = sizeof rp,
                            .result = "rectified",
                            .flags = SC_REVISIT_LIFT_STOP_WORK};
    ck_assert_int_eq(sc_revisit_v3(f.c, id, &rp), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "no stop-work order"));
    rp.flags = 64;
    ck_assert_int_eq(sc_revisit_v3(f.c, id, &rp), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(fx_count(&f, "outbox"), before);
    /* Eight days on, four days late: the built-in ladder suggests a reminder. */
    f.t.now_ms += 8 * MS_DAY;
    ck_assert(queued(&f, "needs_escalation", id));
    ck_assert_int_eq(sc_escalate(f.c, id, &ep, op), SC_OK);
    ck_assert_uint_eq(strlen(op), 64);
    ck_assert(!queued(&f, "needs_escalation", id));
    ck_assert_int_eq(sc_stop_work(f.c, id, "停止使用充电区", op), SC_OK);
    json_t *o = show(&f, id);
    json_t *e = json_array_get(json_object_get(o, "escalations"), 0);
    ck_assert_str_eq(str(e, "step"), "reminder");
    ck_assert_str_eq(str(e, "level"), "county");
    ck_assert(flag(o, "stop_work_in_force"));
    json_decref(o);
    sc_filter_v2 fl = {.size = sizeof fl, .stop_work = 1};
    char *json = NULL;
    ck_assert_int_eq(sc_list_v3(f.c, "findings", &fl, &json), SC_OK);
    json_t *l = fx_json(&f, json);
    ck_assert_uint_eq(json_array_size(json_object_get(l, "items")), 1);
    json_decref(l);
    fx_close(&f);
}
END_TEST

static Suite *governance_suite(void)
{
    Suite *s = suite_create("client/governance");
    const sct_case cases[] = {
        {"submission", submission_issues_notices_with_the_policys_defaults},
        {"free_finding", a_finding_without_an_inspection_gets_its_notice_at_once},
        {"flags", flags_come_due_with_the_clock},
        {"refusals", the_api_refuses_with_reasons},
        {"own_unit", a_responsible_user_speaks_for_its_own_unit},
        {"escalation", escalation_and_stop_work_through_the_api},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 60});
    return s;
}

int main(void)
{
    return sct_run(governance_suite());
}
