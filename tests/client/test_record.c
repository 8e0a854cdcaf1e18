/*
 * test_record.c: recording offline: every action makes signed ops judged by
 * the core fold, refusals change nothing, deps and HLCs are right.
 */
#include "fixture.h"

#include "core/names.h"

static int64_t outbox(fx *f)
{
    return fx_count(f, "outbox");
}

START_TEST(inspection_draft_then_submitted)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    ck_assert_uint_eq(strlen(check), 32);
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "met", 0, 0, NULL), SC_OK);
    ck_assert_int_eq(sc_check_score(f.c, check, "B", "not_met", 1, 4, "垃圾箱外溢"), SC_OK);
    /* Drafts stay editable: a second result for A replaces the first. */
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "not_met", 1, 2, NULL), SC_OK);
    ck_assert_int_eq(sc_check_submit(f.c, check, "ok"), SC_OK);
    int64_t before = outbox(&f);
    ck_assert_int_eq(before, 5);
    /* Scoring a submitted check is refused with the fold's reason; nothing changes. */
    ck_assert_int_eq(sc_check_score(f.c, check, "B", "met", 0, 0, NULL), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "amend"));
    ck_assert_str_eq(sc_client_reason(f.c), "invalid_transition");
    ck_assert_int_eq(sc_check_submit(f.c, check, NULL), SC_ERR_INVALID_TRANSITION);
    ck_assert_int_eq(outbox(&f), before);
    /* Amendments are the way to correct it. */
    ck_assert_int_eq(sc_check_amend(f.c, check, "recount", "B", "met", 1, 9, NULL), SC_OK);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "submitted");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "amend_count")), 1);
    ck_assert_int_eq(json_array_size(json_object_get(o, "history")), 6);
    json_decref(o);
    fx_close(&f);
}
END_TEST

/* A free-form inspection takes at most a score sheet's items, as syncd judges it. */
START_TEST(free_form_items_are_bounded)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], code[16];
    sc_check_params p = {.target = "T1", .kind = "spot", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(f.c, &p, check), SC_OK);
    for (int i = 0; i < SC_TEMPLATE_ITEMS_MAX; i++) {
        snprintf(code, sizeof code, "I%03d", i);
        ck_assert_int_eq(sc_check_score(f.c, check, code, "met", 0, 0, NULL), SC_OK);
    }
    int64_t before = outbox(&f);
    ck_assert_int_eq(sc_check_score(f.c, check, "I500", "met", 0, 0, NULL), SC_ERR_INVALID_ARG);
    ck_assert_str_eq(sc_client_reason(f.c), "bad_field");
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "scores at most 500 items"));
    ck_assert_int_eq(outbox(&f), before);
    /* Its items may still be scored again. */
    ck_assert_int_eq(sc_check_score(f.c, check, "I007", "not_met", 1, 2, NULL), SC_OK);
    fx_close(&f);
}
END_TEST

START_TEST(deps_are_heads_and_hlc_ticks)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "met", 0, 0, NULL), SC_OK);
    uint8_t id[SC_ID_LEN];
    ck_assert(cl_parse_id(check, id));
    sc_op **ops = NULL;
    size_t n = 0;
    ck_assert_int_eq(st_ops_of_entity(f.c, id, true, &ops, &n), SC_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(ops[0]->op->n_deps, 0);
    ck_assert_uint_eq(ops[1]->op->n_deps, 1);
    ck_assert_mem_eq(ops[1]->op->deps[0].data, ops[0]->id, SC_HASH_LEN);
    ck_assert_uint_gt(ops[1]->op->hlc, ops[0]->op->hlc);
    /* Ops are signed by this device and verify as stored. */
    ck_assert_mem_eq(ops[1]->op->author.data, sc_keypair_public(f.dev), SC_KEY_LEN);
    sc_op *again = NULL;
    sc_err e;
    ck_assert_int_eq(sc_op_open(NULL, ops[1]->signed_bytes, ops[1]->signed_len, SC_OP_VERIFY,
                                &again, &e),
                     SC_OK);
    sc_op_free(NULL, again);
    /* The HLC is above every pulled admin fact. */
    ck_assert_uint_gt(ops[0]->op->hlc, sc_hlc_make(f.t.now_ms - 3600 * 1000, 100));
    st_ops_free(f.c, ops, n);
    fx_close(&f);
}
END_TEST

START_TEST(references_are_checked_locally)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], id[SC_ID_HEX_LEN];
    sc_check_params bad = {.target = "NOPE", .kind = "spot", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(f.c, &bad, id), SC_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "NOPE"));
    ck_assert_str_eq(id, "");
    sc_check_params badkind = {.target = "T1", .kind = "sometimes", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(f.c, &badkind, id), SC_ERR_INVALID_ARG);
    fx_check(&f, check);
    ck_assert_int_eq(sc_check_score(f.c, check, "ZZ", "met", 0, 0, NULL), SC_ERR_NOT_FOUND);
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "met", 1, 6, NULL), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "great", 0, 0, NULL), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_check_score(f.c, "00112233445566778899aabbccddeeff", "A", "met", 0, 0, NULL),
                     SC_ERR_NOT_FOUND);
    ck_assert_int_eq(sc_check_score(f.c, "not-an-id", "A", "met", 0, 0, NULL), SC_ERR_NOT_FOUND);
    sc_finding_params fp = {.check = check, .description = "x", .grade = "huge"};
    ck_assert_int_eq(sc_finding_add(f.c, &fp, id), SC_ERR_INVALID_ARG);
    fp.grade = "major";
    fp.responsible = "no-such-org";
    ck_assert_int_eq(sc_finding_add(f.c, &fp, id), SC_ERR_NOT_FOUND);
    fp.responsible = NULL;
    fp.deadline = "2026-13-01";
    ck_assert_int_eq(sc_finding_add(f.c, &fp, id), SC_ERR_INVALID_ARG);
    ck_assert_str_eq(sc_client_errmsg(f.c), "deadline \"2026-13-01\" is not a date YYYY-MM-DD");
    fp.deadline = NULL;
    fp.item = "ZZ";
    ck_assert_int_eq(sc_finding_add(f.c, &fp, id), SC_ERR_NOT_FOUND);
    ck_assert_int_eq(outbox(&f), 1);
    fx_close(&f);
}
END_TEST

START_TEST(role_policy_refuses)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", NULL, fid);
    int64_t before = outbox(&f);
    /* Closing (销号) is a supervisor's; rectification reports the responsible unit's. */
    ck_assert_int_eq(sc_close(f.c, fid, NULL), SC_ERR_FORBIDDEN);
    ck_assert_str_eq(sc_client_reason(f.c), "forbidden_role");
    ck_assert_int_eq(sc_rectify(f.c, fid, "done", NULL, NULL, 0), SC_ERR_FORBIDDEN);
    ck_assert_int_eq(outbox(&f), before);
    fx_close(&f);
}
END_TEST

START_TEST(finding_lifecycle)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-12-01", fid);
    int64_t before = outbox(&f);
    /* Closing an open finding is not valid in its causal past. */
    ck_assert_int_eq(sc_close(f.c, fid, NULL), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "verified"));
    ck_assert_int_eq(sc_revisit(f.c, fid, "rectified", NULL, 0, NULL, 0), SC_ERR_INVALID_TRANSITION);
    ck_assert_int_eq(sc_reopen(f.c, fid, "relapse"), SC_ERR_INVALID_TRANSITION);
    ck_assert_int_eq(outbox(&f), before);
    ck_assert_int_eq(sc_rectify(f.c, fid, "moved the cars", "signs", NULL, 0), SC_OK);
    ck_assert_int_eq(sc_revisit(f.c, fid, "not_rectified", "still blocked", 0, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_rectify(f.c, fid, "towed", NULL, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_revisit(f.c, fid, "rectified", NULL, 0, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_close(f.c, fid, "销号"), SC_OK);
    ck_assert_int_eq(sc_revisit(f.c, fid, "not_rectified", "回头看: relapse", 1, NULL, 0), SC_OK);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, fid, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "open");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "reopen_count")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o, "description")), "小区消防通道被车辆占用");
    ck_assert_str_eq(json_string_value(json_object_get(o, "responsible")), "unit-a");
    json_decref(o);
    /* Field edits and a note; void needs a reason. */
    ck_assert_int_eq(sc_finding_set(f.c, fid, "deadline", "2026-12-15"), SC_OK);
    ck_assert_int_eq(sc_finding_set(f.c, fid, "grade", "major"), SC_OK);
    ck_assert_int_eq(sc_finding_set(f.c, fid, "deadline", "soon"), SC_ERR_INVALID_ARG);
    ck_assert_str_eq(sc_client_errmsg(f.c), "deadline \"soon\" is not a date YYYY-MM-DD");
    ck_assert_int_eq(sc_finding_set(f.c, fid, "grade", "worse"), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_finding_set(f.c, fid, "colour", "red"), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_note_add(f.c, fid, "called the property office"), SC_OK);
    ck_assert_int_eq(sc_void(f.c, fid, ""), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_void(f.c, fid, "duplicate of another"), SC_OK);
    ck_assert_int_eq(sc_finding_set(f.c, fid, "deadline", "2026-12-20"), SC_ERR_INVALID_TRANSITION);
    fx_close(&f);
}
END_TEST

/* Closing a closed finding says so, and who closed it, and changes nothing. */
START_TEST(closing_a_closed_finding_says_so)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-12-01", fid);
    ck_assert_int_eq(sc_rectify(f.c, fid, "moved the cars", NULL, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_revisit(f.c, fid, "rectified", NULL, 0, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_close(f.c, fid, "销号"), SC_OK);
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(f.c, &json), SC_OK);
    json_t *before = fx_json(&f, json);
    ck_assert_int_eq(sc_close(f.c, fid, "again"), SC_ERR_INVALID_TRANSITION);
    char want[160];
    snprintf(want, sizeof want, "finding %s is already closed (销号) by li: nothing changed", fid);
    ck_assert_str_eq(sc_client_errmsg(f.c), want);
    ck_assert_str_eq(sc_client_reason(f.c), "invalid_transition");
    ck_assert_int_eq(sc_client_status(f.c, &json), SC_OK);
    json_t *after = fx_json(&f, json);
    ck_assert(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    fx_close(&f);
}
END_TEST

START_TEST(major_hazard_needs_other_verifier)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "major", NULL, fid);
    ck_assert_int_eq(sc_rectify(f.c, fid, "replaced the pipe", NULL, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_revisit(f.c, fid, "rectified", NULL, 0, NULL, 0), SC_OK);
    /* The same device reported and verified: a major hazard cannot be closed on that. */
    ck_assert_int_eq(sc_close(f.c, fid, NULL), SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "someone other"));
    fx_close(&f);
}
END_TEST

START_TEST(fixed_on_spot_starts_submitted)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    sc_finding_params p = {.check = check, .description = "楼道堆物", .grade = "general",
                           .fixed_on_spot = 1};
    ck_assert_int_eq(sc_finding_add(f.c, &p, fid), SC_OK);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, fid, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "submitted");
    json_decref(o);
    fx_close(&f);
}
END_TEST

START_TEST(submit_lists_findings_and_photos)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], f1[SC_ID_HEX_LEN], f2[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", NULL, f1);
    fx_finding(&f, check, "major", "2026-12-30", f2); /* a major hazard's notice names its deadline */
    char path[700];
    snprintf(path, sizeof path, "%s/p.jpg", f.dir);
    FILE *fp = fopen(path, "wb");
    fwrite("\xff\xd8\xff\xe0photo", 1, 9, fp);
    fclose(fp);
    ck_assert_int_eq(sc_photo_add(f.c, check, path, "gate", sha), SC_OK);
    ck_assert_int_eq(sc_check_submit(f.c, check, NULL), SC_OK);
    /* Findings cannot be added to a submitted inspection. */
    char f3[SC_ID_HEX_LEN];
    sc_finding_params p = {.check = check, .description = "late", .grade = "general"};
    ck_assert_int_eq(sc_finding_add(f.c, &p, f3), SC_ERR_INVALID_TRANSITION);
    uint8_t id[SC_ID_LEN];
    ck_assert(cl_parse_id(check, id));
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(st_state_get(f.c, id, &st), SC_OK);
    ck_assert_uint_eq(st->inspection->n_findings, 2);
    ck_assert_uint_eq(st->inspection->n_finding_heads, 2);
    ck_assert_uint_eq(st->inspection->n_submitted_photos, 1);
    uint8_t h[SC_HASH_LEN];
    ck_assert(cl_parse_hash(sha, h));
    ck_assert_mem_eq(st->inspection->submitted_photos[0].data, h, SC_HASH_LEN);
    rp_state_free(f.c, st);
    fx_close(&f);
}
END_TEST

START_TEST(open_from_assignment)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char asg[SC_ID_HEX_LEN], check[SC_ID_HEX_LEN];
    fx_hex(f.asg, SC_ID_LEN, asg);
    sc_check_params p = {.assignment = asg};
    ck_assert_msg(sc_check_open(f.c, &p, check) == SC_OK, "%s", sc_client_errmsg(f.c));
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "disclosure")), "unannounced");
    ck_assert_str_eq(json_string_value(json_object_get(o, "kind")), "spot");
    ck_assert_str_eq(json_string_value(json_object_get(o, "template")), "SHEET");
    ck_assert_str_eq(json_string_value(json_object_get(o, "target")), "T1");
    ck_assert_str_eq(json_string_value(json_object_get(o, "assignment")), asg);
    json_decref(o);
    fx_close(&f);
}
END_TEST

START_TEST(supervisor_plans_a_check)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    const char *who[] = {"li"};
    sc_assign_params p = {.target = "T1", .inspectors = who, .ninspectors = 1, .kind = "spot",
                          .disclosure = "unannounced", .due = "2026-12-01", .template_ = "SHEET",
                          .note = "暗访君安花园小区"};
    char asg[SC_ID_HEX_LEN];
    ck_assert_msg(sc_assign(f.c, &p, asg) == SC_OK, "%s", sc_client_errmsg(f.c));
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, asg, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "type")), "assignment");
    ck_assert_str_eq(json_string_value(json_object_get(o, "disclosure")), "unannounced");
    json_decref(o);
    /* The plan is then worked like any assignment. */
    char check[SC_ID_HEX_LEN];
    sc_check_params cp = {.assignment = asg};
    ck_assert_msg(sc_check_open(f.c, &cp, check) == SC_OK, "%s", sc_client_errmsg(f.c));

    long long ops = fx_count(&f, "ops");
    const char *nobody[] = {"wang"};
    p.inspectors = nobody;
    ck_assert_int_eq(sc_assign(f.c, &p, asg), SC_ERR_NOT_FOUND);
    ck_assert_str_eq(asg, "");
    const char *twice[] = {"li", "li"};
    p.inspectors = twice;
    p.ninspectors = 2;
    ck_assert_int_eq(sc_assign(f.c, &p, asg), SC_ERR_INVALID_ARG);
    p.inspectors = who;
    p.ninspectors = 1;
    p.due = "12/01";
    ck_assert_int_eq(sc_assign(f.c, &p, asg), SC_ERR_INVALID_ARG);
    ck_assert_str_eq(sc_client_errmsg(f.c), "due date \"12/01\" is not a date YYYY-MM-DD");
    p.due = NULL;
    p.disclosure = "secret";
    ck_assert_int_eq(sc_assign(f.c, &p, asg), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(fx_count(&f, "ops"), ops);
    fx_close(&f);
}
END_TEST

START_TEST(inspector_may_not_plan)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    const char *who[] = {"li"};
    sc_assign_params p = {.target = "T1", .inspectors = who, .ninspectors = 1, .kind = "spot",
                          .disclosure = "open"};
    char asg[SC_ID_HEX_LEN];
    long long ops = fx_count(&f, "ops");
    ck_assert_int_eq(sc_assign(f.c, &p, asg), SC_ERR_FORBIDDEN);
    ck_assert_int_eq(fx_count(&f, "ops"), ops);
    fx_close(&f);
}
END_TEST

START_TEST(conflict_then_resolve)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-12-01", fid);
    /* Another device edits the deadline concurrently with ours. */
    fx_conflict(&f, fid, SCPB__FIELD__FIELD_DEADLINE, "deadline", "2026-12-05", "2026-12-10");
    char *json = NULL;
    ck_assert_int_eq(sc_conflicts(f.c, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    json_t *items = json_object_get(o, "items");
    ck_assert_uint_eq(json_array_size(items), 1);
    json_t *k = json_array_get(json_object_get(json_array_get(items, 0), "conflicts"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(k, "field")), "deadline");
    ck_assert_uint_eq(json_array_size(json_object_get(k, "values")), 2);
    json_decref(o);
    ck_assert_int_eq(sc_resolve(f.c, fid, "deadline", "2026-12-08", NULL), SC_OK);
    ck_assert_int_eq(sc_conflicts(f.c, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "items")), 0);
    json_decref(o);
    ck_assert_int_eq(sc_show(f.c, fid, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "deadline")), "2026-12-08");
    json_decref(o);
    fx_close(&f);
}
END_TEST

START_TEST(not_enrolled_refuses)
{
    fx_dir d;
    fx_dir_open(&d, "r.db");
    sc_client *c = NULL;
    ck_assert_int_eq(sc_client_open(d.db, NULL, &c, NULL, 0), SC_OK);
    char id[SC_ID_HEX_LEN];
    sc_check_params p = {.target = "T1", .kind = "spot", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(c, &p, id), SC_ERR_NOT_ENROLLED);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(c), "enroll"));
    sc_client_close(c);
    sc_client_close(NULL);
    fx_dir_close(&d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("record");
    const sct_case cases[] = {
        {"inspection_draft_then_submitted", inspection_draft_then_submitted},
        {"free_form_items_are_bounded", free_form_items_are_bounded},
        {"deps_are_heads_and_hlc_ticks", deps_are_heads_and_hlc_ticks},
        {"references_are_checked_locally", references_are_checked_locally},
        {"role_policy_refuses", role_policy_refuses},
        {"finding_lifecycle", finding_lifecycle},
        {"closing_a_closed_finding_says_so", closing_a_closed_finding_says_so},
        {"major_hazard_needs_other_verifier", major_hazard_needs_other_verifier},
        {"fixed_on_spot_starts_submitted", fixed_on_spot_starts_submitted},
        {"submit_lists_findings_and_photos", submit_lists_findings_and_photos},
        {"open_from_assignment", open_from_assignment},
        {"supervisor_plans_a_check", supervisor_plans_a_check},
        {"inspector_may_not_plan", inspector_may_not_plan},
        {"conflict_then_resolve", conflict_then_resolve},
        {"not_enrolled_refuses", not_enrolled_refuses},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
