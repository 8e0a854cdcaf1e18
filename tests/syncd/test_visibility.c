/*
 * test_visibility.c: who sees what (docs/protocol.md §6): the rule as a
 * pure function, then through real pulls: unannounced plans stay secret,
 * the inspected unit sees an inspection and its findings only once it is
 * submitted (with the ops logged before the submission delivered through
 * release events), a cross-district inspection reaches the inspector named
 * on its assignment and no other outside the district, paging with small
 * max, bad cursors, and exclusion of the request's own ops.
 */
#include "regfix.h"

#include "register/visibility.h"
#include "store/store.h"

#define ADM SCPB__ROLE__ROLE_ADMIN
#define AUD SCPB__ROLE__ROLE_AUDITOR
#define SUP SCPB__ROLE__ROLE_SUPERVISOR
#define INS SCPB__ROLE__ROLE_INSPECTOR
#define RSP SCPB__ROLE__ROLE_RESPONSIBLE

START_TEST(matrix_as_a_function)
{
    static const struct {
        Scpb__Role role;
        int cls;
        bool scope, named, released, want;
    } m[] = {
        /* admin facts: everyone */
        {RSP, SD_VIS_ALL, false, false, false, true},
        {INS, SD_VIS_ALL, false, false, false, true},
        /* open assignment */
        {ADM, SD_VIS_ASSIGNMENT_OPEN, false, false, false, true},
        {AUD, SD_VIS_ASSIGNMENT_OPEN, false, false, false, true},
        {SUP, SD_VIS_ASSIGNMENT_OPEN, true, false, false, true},
        {SUP, SD_VIS_ASSIGNMENT_OPEN, false, true, false, false},
        {INS, SD_VIS_ASSIGNMENT_OPEN, false, true, false, true},
        {INS, SD_VIS_ASSIGNMENT_OPEN, true, false, false, true},
        {INS, SD_VIS_ASSIGNMENT_OPEN, false, false, false, false},
        {RSP, SD_VIS_ASSIGNMENT_OPEN, true, false, false, true},
        {RSP, SD_VIS_ASSIGNMENT_OPEN, false, false, false, false},
        /* unannounced or experiential assignment */
        {AUD, SD_VIS_ASSIGNMENT_SECRET, false, false, false, true},
        {SUP, SD_VIS_ASSIGNMENT_SECRET, true, false, false, true},
        {INS, SD_VIS_ASSIGNMENT_SECRET, true, false, false, false},
        {INS, SD_VIS_ASSIGNMENT_SECRET, false, true, false, true},
        {RSP, SD_VIS_ASSIGNMENT_SECRET, true, true, true, false},
        /* inspection and its findings */
        {AUD, SD_VIS_INSPECTION, false, false, false, true},
        {SUP, SD_VIS_INSPECTION, true, false, false, true},
        {SUP, SD_VIS_INSPECTION, false, false, true, false},
        {SUP, SD_VIS_INSPECTION, false, true, false, true}, /* named on its assignment */
        {INS, SD_VIS_INSPECTION, true, false, false, true},
        {INS, SD_VIS_INSPECTION, false, true, false, true}, /* named on its assignment */
        {INS, SD_VIS_INSPECTION, false, false, true, false},
        {RSP, SD_VIS_INSPECTION, false, true, true, false},
        {RSP, SD_VIS_INSPECTION, true, false, false, false},
        {RSP, SD_VIS_INSPECTION, true, false, true, true},
        {RSP, SD_VIS_INSPECTION, false, false, true, false},
        /* a finding without an inspection */
        {SUP, SD_VIS_FINDING_FREE, true, false, false, true},
        {INS, SD_VIS_FINDING_FREE, false, false, false, false},
        {INS, SD_VIS_FINDING_FREE, false, true, false, false},
        {RSP, SD_VIS_FINDING_FREE, true, false, false, true},
        {RSP, SD_VIS_FINDING_FREE, false, false, false, false},
        /* no role: nothing but admin facts */
        {SCPB__ROLE__ROLE_UNSPECIFIED, SD_VIS_FINDING_FREE, true, true, true, false},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        ck_assert_msg(sd_visible(m[i].role, m[i].cls, m[i].scope, m[i].named, m[i].released) ==
                          m[i].want,
                      "row %zu", i);
}
END_TEST

static size_t pull(rf *f, const sd_principal *p, uint32_t max, uint64_t *idx, size_t cap)
{
    uint8_t *cur = NULL;
    size_t len = 0;
    size_t n = rf_pull_all(f, p, max, idx, cap, &cur, &len);
    free(cur);
    return n;
}

START_TEST(unannounced_plans_stay_secret)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t a_open[SC_ID_LEN], a_mine[SC_ID_LEN], a_theirs[SC_ID_LEN];
    const uint8_t *insp_b[1] = {w.u_insp_b}, *insp[1] = {w.u_insp};
    uint64_t i_open = rf_log_size(f);
    rf_assign(f, w.ta, insp_b, 1, SCPB__DISCLOSURE__DISCLOSURE_OPEN, a_open);
    uint64_t i_mine = rf_log_size(f);
    rf_assign(f, w.ta, insp, 1, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED, a_mine);
    uint64_t i_theirs = rf_log_size(f);
    rf_assign(f, w.ta, insp_b, 1, SCPB__DISCLOSURE__DISCLOSURE_EXPERIENTIAL, a_theirs);

    uint64_t idx[512];
    size_t n;
    n = pull(f, &w.resp.p, 1000, idx, 512);
    ck_assert(rf_has(idx, n, i_open));
    ck_assert(!rf_has(idx, n, i_mine));
    ck_assert(!rf_has(idx, n, i_theirs));

    n = pull(f, &w.insp.p, 1000, idx, 512);
    ck_assert(rf_has(idx, n, i_open));    /* target in scope */
    ck_assert(rf_has(idx, n, i_mine));    /* named */
    ck_assert(!rf_has(idx, n, i_theirs)); /* in scope but not named */

    n = pull(f, &w.insp_b.p, 1000, idx, 512);
    ck_assert(rf_has(idx, n, i_open));    /* named, though out of scope */
    ck_assert(!rf_has(idx, n, i_mine));
    ck_assert(rf_has(idx, n, i_theirs));

    n = pull(f, &w.sup.p, 1000, idx, 512);
    ck_assert(rf_has(idx, n, i_open) && rf_has(idx, n, i_mine) && rf_has(idx, n, i_theirs));
    n = pull(f, &w.aud.p, 1000, idx, 512);
    ck_assert_uint_eq(n, rf_log_size(f));
    world_close(&w);
}
END_TEST

/*
 * The scenario of the release tests: an inspection of TA with a finding and
 * a note, then (when submit is set) its submission.  Indexes go to ix[0..3].
 */
static void inspect(world *w, uint8_t insp[SC_ID_LEN], uint8_t fid[SC_ID_LEN], uint64_t ix[3],
                    uint8_t head[SC_HASH_LEN])
{
    rf *f = &w->f;
    sc_op *ops[3];
    ops[0] = rf_insp_open(f, &w->insp, insp, w->ta, NULL, NULL,
                          SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED);
    ops[1] = rf_finding(f, &w->insp, fid, w->ta, insp, "小区出入口未落实测温、验码、戴口罩",
                        SCPB__GRADE__GRADE_GENERAL);
    ops[2] = rf_note(f, &w->insp, fid, SCPB__ENTITY_TYPE__ENTITY_FINDING, ops[1]->id,
                     "暗访发现，已拍照");
    memcpy(head, ops[0]->id, SC_HASH_LEN);
    sd_result res[3];
    ck_assert_int_eq(rf_push(f, &w->insp, ops, 3, res), SC_OK);
    for (int i = 0; i < 3; i++) {
        rf_accepted(res[i]);
        ix[i] = res[i].log_index;
    }
}

START_TEST(inspected_unit_sees_inspection_only_after_submit)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t insp[SC_ID_LEN], fid[SC_ID_LEN], head[SC_HASH_LEN];
    uint64_t ix[3], idx[512];

    /* The responsible contact is up to date before the inspection starts. */
    uint8_t *cur = NULL;
    size_t curlen = 0;
    rf_pull_all(f, &w.resp.p, 1000, idx, 512, &cur, &curlen);
    inspect(&w, insp, fid, ix, head);
    size_t n = rf_pull_all(f, &w.resp.p, 1000, idx, 512, &cur, &curlen);
    ck_assert_uint_eq(n, 0);
    /* The supervisor sees it at once. */
    n = pull(f, &w.sup.p, 1000, idx, 512);
    ck_assert(rf_has(idx, n, ix[0]) && rf_has(idx, n, ix[1]) && rf_has(idx, n, ix[2]));

    /* Submitted: the earlier ops come through the release events, then the submission. */
    sd_result r = rf_push1(f, &w.insp, rf_submit(f, &w.insp, insp, head));
    rf_accepted(r);
    n = rf_pull_all(f, &w.resp.p, 1000, idx, 512, &cur, &curlen);
    ck_assert_uint_eq(n, 4);
    ck_assert(rf_has(idx, n, ix[0]) && rf_has(idx, n, ix[1]) && rf_has(idx, n, ix[2]));
    ck_assert(rf_has(idx, n, r.log_index));
    /* Release backfill first, then the log in order. */
    ck_assert_uint_eq(idx[3], r.log_index);

    /* A finding made on the submitted inspection is visible at once. */
    uint8_t fid2[SC_ID_LEN];
    r = rf_push1(f, &w.insp, rf_finding(f, &w.insp, fid2, w.ta, insp, "电梯公共区域未按每2小时消毒并记录",
                                        SCPB__GRADE__GRADE_GENERAL));
    rf_accepted(r);
    n = rf_pull_all(f, &w.resp.p, 1000, idx, 512, &cur, &curlen);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(idx[0], r.log_index);
    /* Nothing new: an empty pull. */
    n = rf_pull_all(f, &w.resp.p, 1000, idx, 512, &cur, &curlen);
    ck_assert_uint_eq(n, 0);
    free(cur);

    /* A responsible contact of another district never sees it. */
    uint8_t u[SC_ID_LEN];
    rf_user(f, "respb", SCPB__ROLE__ROLE_RESPONSIBLE, w.db, u);
    rf_dev rb;
    rf_enroll(f, "respb", 7, &rb);
    n = pull(f, &rb.p, 1000, idx, 512);
    ck_assert(!rf_has(idx, n, ix[0]) && !rf_has(idx, n, r.log_index));
    rf_dev_free(&rb);
    world_close(&w);
}
END_TEST

/*
 * 交叉互检: district A's inspector, named on an assignment for TB in
 * district B, pulls the inspection they open there and its findings; the
 * other inspector of district A and district A's supervisor do not;
 * district B sees it as any inspection of its own.
 */
START_TEST(cross_district_inspection_reaches_the_named_inspector)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t u2[SC_ID_LEN], asg[SC_ID_LEN], insp[SC_ID_LEN], fid[SC_ID_LEN], bf[SC_ID_LEN];
    rf_user(f, "insp2", INS, w.da, u2);
    rf_dev insp2;
    rf_enroll(f, "insp2", 6, &insp2);
    const uint8_t *named[1] = {w.u_insp};
    rf_assign(f, w.tb, named, 1, SCPB__DISCLOSURE__DISCLOSURE_OPEN, asg);

    sc_op *ops[3];
    ops[0] = rf_insp_open(f, &w.insp, insp, w.tb, NULL, asg, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    ops[1] = rf_finding(f, &w.insp, fid, w.tb, insp, "村口卡点无人值守", SCPB__GRADE__GRADE_MAJOR);
    ops[2] = rf_note(f, &w.insp, fid, SCPB__ENTITY_TYPE__ENTITY_FINDING, ops[1]->id, "已拍照");
    sd_result res[3];
    uint64_t ix[4];
    ck_assert_int_eq(rf_push(f, &w.insp, ops, 3, res), SC_OK);
    for (int i = 0; i < 3; i++) {
        rf_accepted(res[i]);
        ix[i] = res[i].log_index;
    }
    /* District B's own free finding stays out of the named inspector's view. */
    sd_result rb =
        rf_push1(f, &w.insp_b,
                 rf_finding(f, &w.insp_b, bf, w.tb, NULL, "群众投诉", SCPB__GRADE__GRADE_GENERAL));
    rf_accepted(rb);
    ix[3] = rb.log_index;

    uint64_t idx[512];
    size_t n = pull(f, &w.insp.p, 1000, idx, 512);
    ck_assert(rf_has(idx, n, ix[0]) && rf_has(idx, n, ix[1]) && rf_has(idx, n, ix[2]));
    ck_assert(!rf_has(idx, n, ix[3]));
    /* Paged one op at a time, the named lookup gives the same answer. */
    ck_assert_uint_eq(pull(f, &w.insp.p, 1, idx, 512), n);
    n = pull(f, &insp2.p, 1000, idx, 512);
    ck_assert(!rf_has(idx, n, ix[0]) && !rf_has(idx, n, ix[1]) && !rf_has(idx, n, ix[2]));
    n = pull(f, &w.sup.p, 1000, idx, 512);
    ck_assert(!rf_has(idx, n, ix[0]) && !rf_has(idx, n, ix[1]) && !rf_has(idx, n, ix[2]));
    n = pull(f, &w.insp_b.p, 1000, idx, 512);
    ck_assert(rf_has(idx, n, ix[0]) && rf_has(idx, n, ix[1]) && rf_has(idx, n, ix[2]));
    ck_assert(rf_has(idx, n, ix[3]));
    rf_dev_free(&insp2);
    world_close(&w);
}
END_TEST

START_TEST(paging_with_small_max_returns_the_same_ops)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t insp[SC_ID_LEN], fid[SC_ID_LEN], head[SC_HASH_LEN];
    uint64_t ix[3];
    uint8_t *cur0 = NULL;
    size_t len0 = 0;
    uint64_t idx[512], ref[512];
    rf_pull_all(f, &w.resp.p, 1000, idx, 512, &cur0, &len0);
    for (int k = 0; k < 3; k++) {
        inspect(&w, insp, fid, ix, head);
        rf_accepted(rf_push1(f, &w.insp, rf_submit(f, &w.insp, insp, head)));
    }
    uint8_t *cur = malloc(len0);
    memcpy(cur, cur0, len0);
    size_t len = len0;
    size_t nref = rf_pull_all(f, &w.resp.p, 1000, ref, 512, &cur, &len);
    ck_assert_uint_eq(nref, 12);
    for (uint32_t max = 1; max <= 5; max++) {
        memcpy(cur, cur0, len0);
        len = len0;
        size_t n = rf_pull_all(f, &w.resp.p, max, idx, 512, &cur, &len);
        ck_assert_uint_eq(n, nref);
        for (size_t i = 0; i < n; i++)
            ck_assert(rf_has(ref, nref, idx[i]));
    }
    /* From the start, the whole visible log pages the same way. */
    uint8_t *none = NULL;
    size_t zero = 0;
    size_t all = rf_pull_all(f, &w.sup.p, 1000, ref, 512, &none, &zero);
    free(none);
    none = NULL;
    zero = 0;
    ck_assert_uint_eq(rf_pull_all(f, &w.sup.p, 3, idx, 512, &none, &zero), all);
    free(none);
    free(cur);
    free(cur0);
    world_close(&w);
}
END_TEST

START_TEST(bad_cursor_is_refused)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    sd_pull req;
    memset(&req, 0, sizeof req);
    req.who = &w.insp.p;
    req.max = 10;
    sd_pulled out;
    sc_err err;
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    req.cursor = junk;
    req.cursor_len = sizeof junk;
    ck_assert_int_eq(sd_register_pull(f->r, &req, &out, &err), SC_ERR_MALFORMED);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_MALFORMED);
    /* A well-formed cursor past the end of the log is not one we made either. */
    Scpb__Cursor c = SCPB__CURSOR__INIT;
    c.has_log_index = true;
    c.log_index = 1000000;
    c.has_release_seq = true;
    c.release_seq = 0;
    uint8_t buf[32];
    req.cursor = buf;
    req.cursor_len = scpb__cursor__pack(&c, buf);
    ck_assert_int_eq(sd_register_pull(f->r, &req, &out, &err), SC_ERR_MALFORMED);
    /* Nor one without its fields. */
    Scpb__Cursor e = SCPB__CURSOR__INIT;
    e.has_log_index = true;
    req.cursor_len = scpb__cursor__pack(&e, buf);
    ck_assert_int_eq(sd_register_pull(f->r, &req, &out, &err), SC_ERR_MALFORMED);
    world_close(&w);
}
END_TEST

START_TEST(own_pushed_ops_are_excluded)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t *cur = NULL;
    size_t len = 0;
    uint64_t idx[512];
    rf_pull_all(f, &w.insp.p, 1000, idx, 512, &cur, &len);
    uint8_t fid[SC_ID_LEN], fid2[SC_ID_LEN];
    sc_op *mine = rf_finding(f, &w.insp, fid, w.ta, NULL, "施工围挡褪色、污损、缺字掉字",
                             SCPB__GRADE__GRADE_GENERAL);
    uint8_t ex[1][SC_HASH_LEN];
    memcpy(ex[0], mine->id, SC_HASH_LEN);
    sd_result r1 = rf_push1(f, &w.insp, mine);
    sd_result r2 = rf_push1(f, &w.sup, rf_finding(f, &w.sup, fid2, w.ta, NULL, "农贸市场周边占道经营、乱停乱放",
                                                  SCPB__GRADE__GRADE_GENERAL));
    rf_accepted(r1);
    rf_accepted(r2);
    sd_pull req;
    memset(&req, 0, sizeof req);
    req.who = &w.insp.p;
    req.cursor = cur;
    req.cursor_len = len;
    req.max = 100;
    req.exclude = (const uint8_t(*)[SC_HASH_LEN])ex;
    req.nexclude = 1;
    sd_pulled out;
    sc_err err;
    ck_assert_int_eq(sd_register_pull(f->r, &req, &out, &err), SC_OK);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_uint_eq(out.ops[0]->log_index, r2.log_index);
    ck_assert(!out.more);
    sd_pulled_dispose(&out);
    free(cur);
    world_close(&w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/visibility");
    const sct_case cases[] = {
        {"matrix", matrix_as_a_function},
        {"unannounced plans", unannounced_plans_stay_secret},
        {"release on submit", inspected_unit_sees_inspection_only_after_submit},
        {"cross-district inspection", cross_district_inspection_reaches_the_named_inspector},
        {"paging", paging_with_small_max_returns_the_same_ops},
        {"bad cursor", bad_cursor_is_refused},
        {"exclude own ops", own_pushed_ops_are_excluded},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
