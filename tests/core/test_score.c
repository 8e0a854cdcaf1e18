/*
 * test_score.c: core/score.c on sheets built here, each figure counted by
 * hand in its comment: sub-items (summed, capped at their item, n.a. taken
 * out of the item's maximum, the item n.a. when all are), deduction items,
 * grade bands scaled like the pass mark, a veto sub-item; and the rules both
 * sides judge results and submissions by.
 */
#include <string.h>

#include "core/reason.h"
#include "core/score.h"
#include "sctest.h"

/* A sheet of up to 8 items: code, parent (or NULL), max points, mode, veto, photo rule. */
typedef struct sheet {
    Scpb__TemplateState t;
    Scpb__TemplateItem items[8], *ptrs[8];
    Scpb__GradeBand bands[4], *bptrs[4];
} sheet;

static void add_item(sheet *s, const char *code, const char *parent, int max, bool deduct,
                     bool veto, bool photo)
{
    Scpb__TemplateItem *it = &s->items[s->t.n_items];
    scpb__template_item__init(it);
    it->code = (char *)code;
    it->parent = (char *)parent;
    it->has_max_points = true;
    it->max_points = max;
    it->has_mode = deduct;
    it->mode = deduct ? SCPB__SCORE_MODE__SCORE_DEDUCT : SCPB__SCORE_MODE__SCORE_MODE_UNSPECIFIED;
    it->veto = veto;
    it->photo_if_not_met = photo;
    s->ptrs[s->t.n_items++] = it;
}

static void add_band(sheet *s, const char *name, int min)
{
    Scpb__GradeBand *b = &s->bands[s->t.n_grades];
    scpb__grade_band__init(b);
    b->name = (char *)name;
    b->has_min_points = true;
    b->min_points = min;
    s->bptrs[s->t.n_grades++] = b;
}

/* a 10; b 20 with b1 5, b2 5, b3 10 (b3 a veto); c 10 by deduction. 40 in all, pass 24. */
static void make_sheet(sheet *s)
{
    memset(s, 0, sizeof *s);
    scpb__template_state__init(&s->t);
    s->t.code = "T";
    s->t.items = s->ptrs;
    s->t.grades = s->bptrs;
    s->t.pass_mark = 24;
    add_item(s, "a", NULL, 10, false, false, true);
    add_item(s, "b", NULL, 20, false, false, false);
    add_item(s, "b1", "b", 5, false, false, false);
    add_item(s, "b2", "b", 5, false, false, false);
    add_item(s, "b3", "b", 10, false, true, false);
    add_item(s, "c", NULL, 10, true, false, false);
    add_band(s, "pass", 24);
    add_band(s, "fine", 36);
}

/* Results as (code, status, points or -1, deduction or -1). */
typedef struct res {
    const char *code;
    Scpb__ItemStatus status;
    int points, deduction;
} res;

typedef struct insp {
    Scpb__InspectionState in;
    Scpb__ItemResult r[8], *ptrs[8];
} insp;

static void make_insp(insp *x, const res *rs, size_t n)
{
    memset(x, 0, sizeof *x);
    scpb__inspection_state__init(&x->in);
    x->in.results = x->ptrs;
    for (size_t i = 0; i < n; i++) {
        Scpb__ItemResult *r = &x->r[i];
        scpb__item_result__init(r);
        r->item_code = (char *)rs[i].code;
        r->has_status = true;
        r->status = rs[i].status;
        r->has_points = rs[i].points >= 0;
        r->points = rs[i].points;
        r->has_deduction = rs[i].deduction >= 0;
        r->deduction = rs[i].deduction;
        x->ptrs[x->in.n_results++] = r;
    }
}

#define MET SCPB__ITEM_STATUS__ITEM_MET
#define NOT SCPB__ITEM_STATUS__ITEM_NOT_MET
#define NA SCPB__ITEM_STATUS__ITEM_NA

START_TEST(sub_items_deductions_and_bands)
{
    sheet s;
    make_sheet(&s);
    insp x;
    /* a met 10; b1 met 5, b2 met --points 3, b3 met 10: b = 18 of 20; c deduct 4: 6.
     * 34 of 40: passes (34*40 >= 24*40), band "pass" (34 < 36). */
    const res r1[] = {{"a", MET, -1, -1}, {"b1", MET, -1, -1}, {"b2", MET, 3, -1},
                      {"b3", MET, -1, -1}, {"c", MET, -1, 4}};
    make_insp(&x, r1, 5);
    sc_score sc;
    sc_item_score items[6];
    ck_assert_int_eq(sc_score_items(&s.t, &x.in, &sc, items), SC_OK);
    ck_assert_int_eq(sc.total, 34);
    ck_assert_int_eq(sc.max_total, 40);
    ck_assert_int_eq(sc.applicable_max, 40);
    ck_assert_uint_eq(sc.items, 5); /* a, b1, b2, b3, c: b is scored by its sub-items */
    ck_assert(sc.complete && sc.passed && !sc.vetoed);
    ck_assert_str_eq(sc.grade, "pass");
    ck_assert_int_eq(items[1].points, 18);
    ck_assert_int_eq(items[1].max, 20);
    ck_assert_int_eq(items[5].points, 6);

    /* b3 n.a.: b's maximum is 20 - 10 = 10, its points 5 + 3 = 8; c no deduction: 10.
     * 28 of 30 applicable (40 on the sheet): 28*40 = 1120 >= 36*30 = 1080: band "fine". */
    const res r2[] = {{"a", MET, -1, -1}, {"b1", MET, -1, -1}, {"b2", MET, 3, -1},
                      {"b3", NA, -1, -1}, {"c", MET, -1, -1}};
    make_insp(&x, r2, 5);
    ck_assert_int_eq(sc_score_items(&s.t, &x.in, &sc, items), SC_OK);
    ck_assert_int_eq(sc.total, 28);
    ck_assert_int_eq(sc.applicable_max, 30);
    ck_assert_str_eq(sc.grade, "fine");
    ck_assert_int_eq(items[1].max, 10);

    /* Every sub-item n.a.: b is n.a. too. a 10, c not met with no deduction: 0. 10 of 20. */
    const res r3[] = {{"a", MET, -1, -1}, {"b1", NA, -1, -1}, {"b2", NA, -1, -1},
                      {"b3", NA, -1, -1}, {"c", NOT, -1, -1}};
    make_insp(&x, r3, 5);
    ck_assert_int_eq(sc_score_items(&s.t, &x.in, &sc, items), SC_OK);
    ck_assert_int_eq(sc.total, 10);
    ck_assert_int_eq(sc.applicable_max, 20);
    ck_assert(!items[1].applies);
    ck_assert(!sc.passed); /* 10*40 < 24*20 */
    ck_assert_str_eq(sc.grade, "");

    /* The veto sub-item b3 not met fails the sheet; no band.  Sub-items over their item are
     * capped: a result over the maximum counts as the maximum. */
    const res r4[] = {{"a", MET, -1, -1}, {"b1", MET, 50, -1}, {"b2", MET, -1, -1},
                      {"b3", NOT, 10, -1}, {"c", MET, -1, 0}};
    make_insp(&x, r4, 5);
    ck_assert_int_eq(sc_score_items(&s.t, &x.in, &sc, items), SC_OK);
    ck_assert(sc.vetoed && !sc.passed);
    ck_assert_str_eq(sc.veto_item, "b3");
    ck_assert_str_eq(sc.grade, "");
    ck_assert_int_eq(items[2].points, 5);
    ck_assert_int_eq(items[1].points, 20); /* 5 + 5 + 10, at most 20 */

    /* Incomplete: no band, not passed. */
    make_insp(&x, r1, 3);
    ck_assert_int_eq(sc_score_items(&s.t, &x.in, &sc, NULL), SC_OK);
    ck_assert(!sc.complete && !sc.passed);
    ck_assert_str_eq(sc.grade, "");
}
END_TEST

START_TEST(results_refused_as_both_sides_refuse_them)
{
    sheet s;
    make_sheet(&s);
    char why[SC_ERR_MSG_MAX];
    Scpb__ItemResult r;
    struct {
        const char *code;
        int points, deduction, reason;
        const char *says;
    } cases[] = {
        {"a", 10, -1, SC_REASON_NONE, NULL},
        {"a", 11, -1, SC_REASON_BAD_FIELD, "11 points, the item has 0 to 10"},
        {"b", 5, -1, SC_REASON_BAD_FIELD, "scored by its sub-items"},
        {"b1", 6, -1, SC_REASON_BAD_FIELD, "6 points, the item has 0 to 5"},
        {"a", -1, 1, SC_REASON_BAD_FIELD, "not by deduction"},
        {"c", 3, -1, SC_REASON_BAD_FIELD, "scored by deduction"},
        {"c", -1, 10, SC_REASON_NONE, NULL},
        {"c", -1, 11, SC_REASON_BAD_FIELD, "would score it below zero"},
        {"zz", -1, -1, SC_REASON_UNKNOWN_REFERENCE, "not on score sheet T"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scpb__item_result__init(&r);
        r.item_code = (char *)cases[i].code;
        r.has_status = true;
        r.status = MET;
        r.has_points = cases[i].points >= 0;
        r.points = cases[i].points;
        r.has_deduction = cases[i].deduction >= 0;
        r.deduction = cases[i].deduction;
        why[0] = '\0';
        ck_assert_int_eq(sc_score_check_result(&s.t, &r, why, sizeof why), cases[i].reason);
        if (cases[i].says)
            ck_assert_msg(strstr(why, cases[i].says), "case %zu: %s", i, why);
    }
    /* A negative deduction is below zero too. */
    r.item_code = "c";
    r.has_points = false;
    r.has_deduction = true;
    r.deduction = -1;
    ck_assert_int_eq(sc_score_check_result(&s.t, &r, why, sizeof why), SC_REASON_BAD_FIELD);
}
END_TEST

START_TEST(a_submission_needs_the_photo_of_an_item_not_met)
{
    sheet s;
    make_sheet(&s);
    insp x;
    const res r[] = {{"a", NOT, 2, -1}};
    make_insp(&x, r, 1);
    Scpb__EntityState st = SCPB__ENTITY_STATE__INIT;
    st.kind_case = SCPB__ENTITY_STATE__KIND_INSPECTION;
    st.inspection = &x.in;
    char why[SC_ERR_MSG_MAX];
    ck_assert_int_eq(sc_score_check_submit(&s.t, &st, why, sizeof why), SC_REASON_BAD_FIELD);
    ck_assert_ptr_nonnull(strstr(why, "item a is not met and needs a photo"));
    /* A photo of another item does not do; one of this item does. */
    Scpb__Attachment a = SCPB__ATTACHMENT__INIT, *photos[] = {&a};
    a.item_code = "b1";
    st.photos = photos;
    st.n_photos = 1;
    ck_assert_int_eq(sc_score_check_submit(&s.t, &st, why, sizeof why), SC_REASON_BAD_FIELD);
    a.item_code = "a";
    ck_assert_int_eq(sc_score_check_submit(&s.t, &st, why, sizeof why), SC_REASON_NONE);
    /* Met, it needs none. */
    x.r[0].status = MET;
    st.n_photos = 0;
    ck_assert_int_eq(sc_score_check_submit(&s.t, &st, why, sizeof why), SC_REASON_NONE);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("score");
    const sct_case cases[] = {
        {"sub_items_deductions_and_bands", sub_items_deductions_and_bands},
        {"results_refused_as_both_sides_refuse_them", results_refused_as_both_sides_refuse_them},
        {"a_submission_needs_the_photo_of_an_item_not_met",
         a_submission_needs_the_photo_of_an_item_not_met},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
