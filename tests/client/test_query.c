/*
 * test_query.c: lists, filters, scores and the derived flags, with today
 * taken from the injected clock; show naming people and telling why an op
 * does not count; voided records in lists; conflicts as the fields show
 * them, and closed by a void.
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

/* The history entry of op kind `kind` (the last one of that kind). */
static json_t *entry_of(json_t *shown, const char *kind)
{
    size_t i;
    json_t *e, *found = NULL;
    json_array_foreach(json_object_get(shown, "history"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "kind")), kind) == 0)
            found = e;
    }
    ck_assert_msg(found != NULL, "no %s in the history", kind);
    return found;
}

static json_t *show(fx *f, const char *id)
{
    char *json = NULL;
    ck_assert_msg(sc_show(f->c, id, &json) == SC_OK, "show: %s", sc_client_errmsg(f->c));
    return fx_json(f, json);
}

/*
 * show names the people behind device keys from server-signed facts (the
 * device's enrollment, the user's state): login and device label on each
 * history entry and note, and a people map for every key; the register's
 * key is syncd; a key no enrollment names stays hex alone.
 */
START_TEST(show_names_people)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN], key[SC_HASH_HEX_LEN], srv[SC_HASH_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-12-01", fid);
    ck_assert_int_eq(sc_note_add(f.c, fid, "called the property office"), SC_OK);
    /* A note by a key no enrollment in the replica names. */
    uint8_t id[SC_ID_LEN];
    ck_assert(cl_parse_id(fid, id));
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(st_state_get(f.c, id, &st), SC_OK);
    sc_keypair *stranger = sct_key(9);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Note n = SCPB__NOTE__INIT;
    n.text = "a stranger's note";
    op.n_deps = st->n_heads;
    op.deps = st->heads;
    op.has_hlc = true;
    op.hlc = st->last_hlc + 1;
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &n;
    fx_store(&f, stranger, &op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, NULL);
    rp_state_free(f.c, st);

    json_t *o = show(&f, fid);
    fx_hex(sc_keypair_public(f.dev), SC_KEY_LEN, key);
    json_t *e = entry_of(o, "finding_create");
    ck_assert_str_eq(json_string_value(json_object_get(e, "author")), key);
    ck_assert_str_eq(json_string_value(json_object_get(e, "author_login")), "li");
    ck_assert_str_eq(json_string_value(json_object_get(e, "author_device")), "tablet");
    ck_assert_str_eq(json_string_value(json_object_get(e, "author_role")), "supervisor");
    json_t *me = json_object_get(json_object_get(o, "people"), key);
    ck_assert_str_eq(json_string_value(json_object_get(me, "role")), "supervisor");
    ck_assert_str_eq(json_string_value(json_object_get(me, "login")), "li");
    ck_assert_str_eq(json_string_value(json_object_get(me, "name")), "李");
    ck_assert_str_eq(json_string_value(json_object_get(me, "device")), "tablet");
    ck_assert(json_is_false(json_object_get(me, "server")));
    ck_assert_str_eq(json_string_value(json_object_get(o, "created_by")), key);
    json_t *notes = json_object_get(o, "notes");
    ck_assert_uint_eq(json_array_size(notes), 2);
    size_t i;
    json_t *note;
    int named = 0, unnamed = 0;
    json_array_foreach(notes, i, note)
    {
        if (json_is_null(json_object_get(note, "author_login"))) {
            unnamed++;
            ck_assert(json_is_null(json_object_get(note, "author_role")));
            ck_assert_ptr_null(json_object_get(json_object_get(o, "people"),
                                               json_string_value(json_object_get(note, "author"))));
        } else {
            named++;
            ck_assert_str_eq(json_string_value(json_object_get(note, "author_login")), "li");
        }
    }
    ck_assert_int_eq(named, 1);
    ck_assert_int_eq(unnamed, 1);
    json_decref(o);
    /* Admin facts are the register's own. */
    char tgt[SC_ID_HEX_LEN];
    fx_hex(f.target, SC_ID_LEN, tgt);
    o = show(&f, tgt);
    fx_hex(sc_keypair_public(f.server), SC_KEY_LEN, srv);
    ck_assert(json_is_true(json_object_get(json_object_get(json_object_get(o, "people"), srv), "server")));
    json_decref(o);
    sc_keypair_free(stranger);
    fx_close(&f);
}
END_TEST

/*
 * show tells apart the ops that do not count, each with its reason:
 * "voided" (a void record took it back: the void's reason), "rejected"
 * (syncd refused it: reason and message), "invalid" (not valid in its own
 * causal past: the fold's reason).
 */
START_TEST(show_tells_voided_invalid_rejected)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN], path[640], sha[SC_HASH_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-12-01", fid);
    snprintf(path, sizeof path, "%s/wrong.jpg", f.dir);
    FILE *fp = fopen(path, "wb");
    fputs("\xff\xd8\xff\xe0 not this compound", fp);
    fclose(fp);
    ck_assert_int_eq(sc_photo_add(f.c, fid, path, NULL, sha), SC_OK);
    json_t *o = show(&f, fid);
    char attach[SC_HASH_HEX_LEN];
    snprintf(attach, sizeof attach, "%s", json_string_value(json_object_get(entry_of(o, "photo_attach"), "op")));
    json_decref(o);
    ck_assert_int_eq(sc_void(f.c, attach, "the photo of another compound"), SC_OK);
    ck_assert_int_eq(sc_note_add(f.c, fid, "a note syncd will refuse"), SC_OK);

    /* syncd refused the note (as a sync applies a rejection). */
    uint8_t id[SC_ID_LEN], note_op[SC_HASH_LEN];
    ck_assert(cl_parse_id(fid, id));
    o = show(&f, fid);
    ck_assert(cl_parse_hash(json_string_value(json_object_get(entry_of(o, "note"), "op")), note_op));
    json_decref(o);
    ck_assert_int_eq(st_begin(f.c), SC_OK);
    ck_assert_int_eq(st_op_set(f.c, note_op, ST_REJECTED, false, 0, SCPB__REASON__REASON_OUT_OF_SCOPE,
                               "the finding is outside your scope"),
                     SC_OK);
    ck_assert_int_eq(rp_refold(f.c, id), SC_OK);
    ck_assert_int_eq(st_commit(f.c), SC_OK);

    /* Another device closes the open finding: invalid in its causal past. */
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(st_state_get(f.c, id, &st), SC_OK);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Closure cl = SCPB__CLOSURE__INIT;
    op.n_deps = st->n_heads;
    op.deps = st->heads;
    op.has_hlc = true;
    op.hlc = st->last_hlc + 1;
    op.body_case = SCPB__OP__BODY_CLOSURE;
    op.closure = &cl;
    fx_store(&f, f.other, &op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, NULL);
    rp_state_free(f.c, st);

    o = show(&f, fid);
    json_t *e = entry_of(o, "photo_attach");
    ck_assert_str_eq(json_string_value(json_object_get(e, "validity")), "voided");
    ck_assert_str_eq(json_string_value(json_object_get(e, "why")), "the photo of another compound");
    ck_assert(json_is_false(json_object_get(e, "valid")));
    /* The voided photo is out of the state; the history says where it went. */
    ck_assert_uint_eq(json_array_size(json_object_get(o, "photos")), 0);
    e = entry_of(o, "note");
    ck_assert_str_eq(json_string_value(json_object_get(e, "validity")), "rejected");
    ck_assert_str_eq(json_string_value(json_object_get(e, "reason")), "out_of_scope");
    ck_assert_str_eq(json_string_value(json_object_get(e, "why")), "the finding is outside your scope");
    e = entry_of(o, "closure");
    ck_assert_str_eq(json_string_value(json_object_get(e, "validity")), "invalid");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "why")), "verified"));
    e = entry_of(o, "finding_create");
    ck_assert_str_eq(json_string_value(json_object_get(e, "validity")), "valid");
    ck_assert(json_is_null(json_object_get(e, "why")));
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "open");
    json_decref(o);
    fx_close(&f);
}
END_TEST

/* Lists leave voided records out; SC_LIST_WITH_VOIDED keeps them, marked with their reason. */
START_TEST(list_with_voided)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], kept[SC_ID_HEX_LEN], gone[SC_ID_HEX_LEN], asg[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-11-01", kept);
    fx_finding(&f, check, "general", "2026-11-01", gone);
    ck_assert_int_eq(sc_void(f.c, gone, "recorded twice"), SC_OK);
    json_t *items = list(&f, "findings", NULL);
    ck_assert_ptr_nonnull(find(items, kept));
    ck_assert_ptr_null(find(items, gone));
    json_decref(items);
    char *json = NULL;
    ck_assert_int_eq(sc_list_v2(f.c, "findings", NULL, SC_LIST_WITH_VOIDED, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    items = json_object_get(o, "items");
    json_t *it = find(items, gone);
    ck_assert_ptr_nonnull(it);
    ck_assert(json_is_true(json_object_get(it, "voided")));
    ck_assert_str_eq(json_string_value(json_object_get(it, "void_reason")), "recorded twice");
    ck_assert(json_is_false(json_object_get(it, "overdue")));
    ck_assert(json_is_false(json_object_get(find(items, kept), "voided")));
    ck_assert(json_is_null(json_object_get(find(items, kept), "void_reason")));
    json_decref(o);
    /* A voided record still matches by what it was, and is never overdue. */
    sc_filter open = {.status = "open"}, overdue = {.overdue = 1};
    ck_assert_int_eq(sc_list_v2(f.c, "findings", &open, SC_LIST_WITH_VOIDED, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "items")), 2);
    json_decref(o);
    ck_assert_int_eq(sc_list_v2(f.c, "findings", &overdue, SC_LIST_WITH_VOIDED, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "items")), 1);
    json_decref(o);
    /* Checks and plans too. */
    sc_assign_params ap = {.target = "T1", .inspectors = (const char *const[]){"li"},
                           .ninspectors = 1, .kind = "spot", .disclosure = "open"};
    ck_assert_int_eq(sc_assign(f.c, &ap, asg), SC_OK);
    ck_assert_int_eq(sc_void(f.c, asg, "planned twice"), SC_OK);
    ck_assert_int_eq(sc_void(f.c, check, "wrong compound"), SC_OK);
    items = list(&f, "assignments", NULL);
    ck_assert_ptr_null(find(items, asg));
    json_decref(items);
    ck_assert_int_eq(sc_list_v2(f.c, "assignments", NULL, SC_LIST_WITH_VOIDED, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(find(json_object_get(o, "items"), asg),
                                                       "void_reason")),
                     "planned twice");
    json_decref(o);
    ck_assert_int_eq(sc_list_v2(f.c, "checks", NULL, SC_LIST_WITH_VOIDED, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert(json_is_true(json_object_get(find(json_object_get(o, "items"), check), "voided")));
    json_decref(o);
    ck_assert_int_eq(sc_list_v2(f.c, "checks", NULL, 2, &json), SC_ERR_INVALID_ARG);
    ck_assert_ptr_null(json);
    fx_close(&f);
}
END_TEST

/* The first conflict listed by sc_conflicts for fid, or NULL; *inbox gets the whole answer. */
static json_t *inbox_conflict(fx *f, const char *fid, json_t **inbox)
{
    char *json = NULL;
    ck_assert_int_eq(sc_conflicts(f->c, &json), SC_OK);
    *inbox = fx_json(f, json);
    json_t *it = find(json_object_get(*inbox, "items"), fid);
    return it ? json_array_get(json_object_get(it, "conflicts"), 0) : NULL;
}

/* A conflict on the responsible unit names each unit by its code, as the field does. */
START_TEST(conflict_values_name_org_codes)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN], unit[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-12-01", fid);
    fx_hex(f.unit, SC_ID_LEN, unit);
    fx_conflict(&f, fid, SCPB__FIELD__FIELD_RESPONSIBLE, "responsible", "city", unit);
    json_t *inbox = NULL;
    json_t *k = inbox_conflict(&f, fid, &inbox);
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(json_string_value(json_object_get(k, "field")), "responsible");
    json_t *vals = json_object_get(k, "values");
    ck_assert_uint_eq(json_array_size(vals), 2);
    bool city = false, unit_a = false;
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v)
    {
        city = city || strcmp(json_string_value(v), "city") == 0;
        unit_a = unit_a || strcmp(json_string_value(v), "unit-a") == 0;
    }
    ck_assert_msg(city && unit_a, "values are not codes: %s %s", json_string_value(json_array_get(vals, 0)),
                  json_string_value(json_array_get(vals, 1)));
    json_decref(inbox);
    /* The value in effect is the field's, by the same name. */
    json_t *o = show(&f, fid);
    json_t *shown = json_array_get(json_object_get(json_array_get(json_object_get(o, "conflicts"), 0),
                                                   "values"),
                                   0);
    ck_assert_str_eq(json_string_value(shown), json_string_value(json_object_get(o, "responsible")));
    json_decref(o);
    /* A resolve takes the code, as shown. */
    ck_assert_int_eq(sc_resolve(f.c, fid, "responsible", "unit-a", NULL), SC_OK);
    ck_assert_ptr_null(inbox_conflict(&f, fid, &inbox));
    json_decref(inbox);
    fx_close(&f);
}
END_TEST

/*
 * A void closes the entity's conflicts (docs/data-model.md §3): no inbox
 * lists them, the list item counts none, show keeps them for the record,
 * and a resolve is refused saying why, with nothing recorded.
 */
START_TEST(void_closes_conflicts)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_SUPERVISOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", "2026-12-01", fid);
    fx_conflict(&f, fid, SCPB__FIELD__FIELD_DEADLINE, "deadline", "2026-12-05", "2026-12-10");
    json_t *inbox = NULL;
    ck_assert_ptr_nonnull(inbox_conflict(&f, fid, &inbox));
    json_decref(inbox);
    ck_assert_int_eq(sc_void(f.c, fid, "recorded on the wrong compound"), SC_OK);

    ck_assert_ptr_null(inbox_conflict(&f, fid, &inbox));
    json_decref(inbox);
    char *json = NULL;
    ck_assert_int_eq(sc_review(f.c, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "conflicts")), 0);
    json_decref(o);
    ck_assert_int_eq(sc_list_v2(f.c, "findings", NULL, SC_LIST_WITH_VOIDED, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_int_eq(json_integer_value(json_object_get(find(json_object_get(o, "items"), fid),
                                                        "conflicts")),
                     0);
    json_decref(o);
    o = show(&f, fid);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "conflicts")), 0);
    json_t *closed = json_object_get(o, "conflicts_closed_by_void");
    ck_assert_uint_eq(json_array_size(closed), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(closed, 0), "field")), "deadline");
    json_decref(o);

    ck_assert_int_eq(sc_client_status(f.c, &json), SC_OK);
    json_t *before = fx_json(&f, json);
    ck_assert_int_eq(sc_resolve(f.c, fid, "deadline", "2026-12-05", NULL), SC_ERR_INVALID_TRANSITION);
    char want[200];
    snprintf(want, sizeof want,
             "finding %s is voided: its conflicts were closed with the void, nothing is left to "
             "resolve",
             fid);
    ck_assert_str_eq(sc_client_errmsg(f.c), want);
    ck_assert_int_eq(sc_client_status(f.c, &json), SC_OK);
    json_t *after = fx_json(&f, json);
    ck_assert(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    fx_close(&f);
}
END_TEST

/* A page of a list: the items from offset, and how many match in all. */
START_TEST(list_a_page)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], fid[5][SC_ID_HEX_LEN];
    fx_check(&f, check);
    for (int i = 0; i < 5; i++)
        fx_finding(&f, check, i == 3 ? "major" : "general", "2026-12-01", fid[i]);
    json_t *all = list(&f, "findings", NULL);
    ck_assert_uint_eq(json_array_size(all), 5);
    sc_filter_v2 fl = {.size = sizeof fl, .offset = 1, .limit = 2};
    char *json = NULL;
    ck_assert_int_eq(sc_list_v3(f.c, "findings", &fl, &json), SC_OK);
    json_t *o = fx_json(&f, json), *items = json_object_get(o, "items");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "total")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "offset")), 1);
    ck_assert_uint_eq(json_array_size(items), 2);
    for (size_t i = 0; i < 2; i++)
        ck_assert(json_equal(json_array_get(items, i), json_array_get(all, i + 1)));
    json_decref(o);
    /* Past the end: nothing, and still the count; with a status, the count of that status. */
    fl.offset = 9;
    ck_assert_int_eq(sc_list_v3(f.c, "findings", &fl, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "items")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "total")), 5);
    json_decref(o);
    sc_filter_v2 open = {.size = sizeof open, .status = "open", .limit = 1};
    ck_assert_int_eq(sc_list_v3(f.c, "findings", &open, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "total")), 5);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "items")), 1);
    json_decref(o);
    /* An older caller's struct, without the page's fields, lists everything as before. */
    fl.size = offsetof(sc_filter_v2, offset);
    ck_assert_int_eq(sc_list_v3(f.c, "findings", &fl, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "items")), 5);
    ck_assert_ptr_null(json_object_get(o, "total"));
    json_decref(o);
    json_decref(all);
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
        {"show_names_people", show_names_people},
        {"show_tells_voided_invalid_rejected", show_tells_voided_invalid_rejected},
        {"list_with_voided", list_with_voided},
        {"conflict_values_name_org_codes", conflict_values_name_org_codes},
        {"void_closes_conflicts", void_closes_conflicts},
        {"list_a_page", list_a_page},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
