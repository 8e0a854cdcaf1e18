/*
 * test_query.c: lists, filters, scores and the derived flags, with today
 * taken from the injected clock.
 */
#include "fixture.h"

static json_t *list(fx *f, const char *what, const sc_filter *flt)
{
    char *json = NULL;
    ck_assert_msg(sc_list(f->c, what, flt, &json) == SC_OK, "%s", sc_client_errmsg(f->c));
    json_t *o = fx_json(f, json);
    json_t *items = json_incref(json_object_get(o, "items"));
    json_decref(o);
    ck_assert_ptr_nonnull(items);
    return items;
}

static json_t *find(json_t *items, const char *id)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) if (strcmp(json_string_value(json_object_get(it, "id")), id) == 0)
        return it;
    return NULL;
}

START_TEST(score_and_veto)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char c1[SC_ID_HEX_LEN], c2[SC_ID_HEX_LEN];
    fx_check(&f, c1);
    fx_check(&f, c2);
    ck_assert_int_eq(sc_check_score(f.c, c1, "A", "met", 0, 0, NULL), SC_OK);
    ck_assert_int_eq(sc_check_score(f.c, c1, "B", "not_met", 1, 7, NULL), SC_OK);
    ck_assert_int_eq(sc_check_score(f.c, c1, "V", "met", 0, 0, NULL), SC_OK);
    ck_assert_int_eq(sc_check_score(f.c, c2, "A", "met", 0, 0, NULL), SC_OK);
    ck_assert_int_eq(sc_check_score(f.c, c2, "B", "met", 0, 0, NULL), SC_OK);
    ck_assert_int_eq(sc_check_score(f.c, c2, "V", "not_met", 0, 0, NULL), SC_OK);
    json_t *items = list(&f, "checks", NULL);
    ck_assert_uint_eq(json_array_size(items), 2);
    json_t *a = find(items, c1), *b = find(items, c2);
    ck_assert_int_eq(json_integer_value(json_object_get(a, "score")), 17);
    ck_assert_int_eq(json_integer_value(json_object_get(a, "max")), 20);
    ck_assert(json_is_true(json_object_get(a, "passed")));
    ck_assert_int_eq(json_integer_value(json_object_get(b, "score")), 15);
    ck_assert(json_is_false(json_object_get(b, "passed")));
    ck_assert(json_is_true(json_object_get(b, "vetoed")));
    ck_assert_str_eq(json_string_value(json_object_get(b, "veto_item")), "V");
    json_decref(items);
    /* Incomplete sheets do not pass. */
    char c3[SC_ID_HEX_LEN];
    fx_check(&f, c3);
    ck_assert_int_eq(sc_check_score(f.c, c3, "B", "met", 0, 0, NULL), SC_OK);
    items = list(&f, "checks", NULL);
    ck_assert(json_is_false(json_object_get(find(items, c3), "complete")));
    ck_assert(json_is_false(json_object_get(find(items, c3), "passed")));
    json_decref(items);
    fx_close(&f);
}
END_TEST

START_TEST(overdue_uses_the_injected_clock)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], past[SC_ID_HEX_LEN], soon[SC_ID_HEX_LEN], none[SC_ID_HEX_LEN];
    fx_check(&f, check);
    /* Today is 2026-11-23. */
    fx_finding(&f, check, "general", "2026-11-20", past);
    fx_finding(&f, check, "major", "2026-11-30", soon);
    fx_finding(&f, check, "general", NULL, none);
    sc_filter over = {.overdue = 1};
    json_t *items = list(&f, "findings", &over);
    ck_assert_uint_eq(json_array_size(items), 1);
    ck_assert_ptr_nonnull(find(items, past));
    ck_assert(json_is_true(json_object_get(find(items, past), "overdue")));
    json_decref(items);
    /* Twelve days later the second one is overdue too. */
    f.t.now_ms += 12LL * 24 * 3600 * 1000;
    items = list(&f, "findings", &over);
    ck_assert_uint_eq(json_array_size(items), 2);
    ck_assert_ptr_nonnull(find(items, soon));
    json_decref(items);
    items = list(&f, "findings", NULL);
    ck_assert_uint_eq(json_array_size(items), 3);
    json_t *it = find(items, soon);
    ck_assert_str_eq(json_string_value(json_object_get(it, "status")), "open");
    ck_assert_str_eq(json_string_value(json_object_get(it, "grade")), "major");
    ck_assert_str_eq(json_string_value(json_object_get(it, "deadline")), "2026-11-30");
    ck_assert_int_eq(json_integer_value(json_object_get(it, "reopen_count")), 0);
    ck_assert(json_is_false(json_object_get(it, "evidence_pending")));
    ck_assert(json_is_null(json_object_get(find(items, none), "deadline")));
    json_decref(items);
    fx_close(&f);
}
END_TEST

START_TEST(filters_and_review_queue)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], f1[SC_ID_HEX_LEN], f2[SC_ID_HEX_LEN], f3[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-11-01", f1);
    fx_finding(&f, check, "general", NULL, f2);
    fx_finding(&f, check, "general", NULL, f3);
    ck_assert_int_eq(sc_rectify(f.c, f2, "done", NULL, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_rectify(f.c, f3, "done", NULL, NULL, 0), SC_OK);
    ck_assert_int_eq(sc_revisit(f.c, f3, "rectified", NULL, 0, NULL, 0), SC_OK);
    sc_filter st = {.status = "submitted"};
    json_t *items = list(&f, "findings", &st);
    ck_assert_uint_eq(json_array_size(items), 1);
    ck_assert_ptr_nonnull(find(items, f2));
    json_decref(items);
    sc_filter tgt = {.target = "T1"};
    items = list(&f, "findings", &tgt);
    ck_assert_uint_eq(json_array_size(items), 3);
    json_decref(items);
    sc_filter bad = {.status = "sleeping"};
    char *json = NULL;
    ck_assert_int_eq(sc_list(f.c, "findings", &bad, &json), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_list(f.c, "cats", NULL, &json), SC_ERR_INVALID_ARG);
    sc_filter nowhere = {.target = "T9"};
    ck_assert_int_eq(sc_list(f.c, "findings", &nowhere, &json), SC_ERR_NOT_FOUND);
    ck_assert_int_eq(sc_review(f.c, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "awaiting_closure")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(o, "awaiting_closure"), 0), "id")),
                     f3);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "awaiting_revisit")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "overdue")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "conflicts")), 0);
    json_decref(o);
    /* Assignments: the seeded one is open and not overdue; checks filter by assignment. */
    items = list(&f, "assignments", NULL);
    ck_assert_uint_eq(json_array_size(items), 1);
    ck_assert(json_is_false(json_object_get(json_array_get(items, 0), "overdue")));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "disclosure")),
                     "unannounced");
    json_decref(items);
    char asg[SC_ID_HEX_LEN];
    fx_hex(f.asg, SC_ID_LEN, asg);
    sc_filter by = {.assignment = asg};
    items = list(&f, "checks", &by);
    ck_assert_uint_eq(json_array_size(items), 0);
    json_decref(items);
    fx_close(&f);
}
END_TEST

START_TEST(show_history_and_unknown_ids)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], key[SC_HASH_HEX_LEN];
    fx_check(&f, check);
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "met", 0, 0, NULL), SC_OK);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "id")), check);
    ck_assert_str_eq(json_string_value(json_object_get(o, "type")), "inspection");
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "draft");
    json_t *h = json_object_get(o, "history");
    ck_assert_uint_eq(json_array_size(h), 2);
    json_t *e = json_array_get(h, 1);
    fx_hex(sc_keypair_public(f.dev), SC_KEY_LEN, key);
    ck_assert_str_eq(json_string_value(json_object_get(e, "author")), key);
    ck_assert_str_eq(json_string_value(json_object_get(e, "kind")), "item_result");
    ck_assert(json_is_null(json_object_get(e, "log_index")));
    ck_assert_str_eq(json_string_value(json_object_get(e, "state")), "pending");
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(e, "op"))), 64);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "conflicts")), 0);
    json_decref(o);
    /* Admin facts show too, with their log index. */
    char tgt[SC_ID_HEX_LEN];
    fx_hex(f.target, SC_ID_LEN, tgt);
    ck_assert_int_eq(sc_show(f.c, tgt, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "name")), "君安花园小区");
    ck_assert(json_is_integer(json_object_get(json_array_get(json_object_get(o, "history"), 0),
                                              "log_index")));
    json_decref(o);
    ck_assert_int_eq(sc_show(f.c, "ffffffffffffffffffffffffffffffff", &json), SC_ERR_NOT_FOUND);
    ck_assert_ptr_null(json);
    ck_assert_int_eq(sc_show(f.c, "xyz", &json), SC_ERR_NOT_FOUND);
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query");
    const sct_case cases[] = {
        {"score_and_veto", score_and_veto},
        {"overdue_uses_the_injected_clock", overdue_uses_the_injected_clock},
        {"filters_and_review_queue", filters_and_review_queue},
        {"show_history_and_unknown_ids", show_history_and_unknown_ids},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
