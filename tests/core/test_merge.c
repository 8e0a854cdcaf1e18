/*
 * test_merge.c: the deterministic merge (core/merge.c).
 *
 * Known behaviours first (the finding lifecycle, safety first, field
 * conflicts and their resolution, a user's access and role and concurrent
 * admin acts on it, inspections and late results, voids, structural
 * refusals), then the properties that make replicas converge: for
 * thousands of random seeds, devices record random ops offline on their
 * own replicas (admins acting on a user among them), exchange them in
 * random pairs and orders, and every replica and every arrival order ends
 * with the same state hash; the user's state is also checked against the
 * merge rules computed from the ops alone (user_oracle).  Finally every
 * allocation of a fold is made to fail in turn.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/ids.h"
#include "core/merge.h"
#include "core/names.h"
#include "scops.h"
#include "sctest.h"
#include "wire.pb-c.h"

#define FINDING SCPB__ENTITY_TYPE__ENTITY_FINDING
#define INSPECTION SCPB__ENTITY_TYPE__ENTITY_INSPECTION

static sct_env T;
static const sc_env *ENV;
static uint8_t TARGET[SC_ID_LEN];

/* Who the test devices speak for (the fold's sc_users): (key, user) pairs. */
typedef struct people {
    size_t n;
    uint8_t key[8][SC_KEY_LEN];
    uint8_t user[8][SC_ID_LEN];
    sc_status fail; /* SC_OK, or what every lookup fails with */
} people;

static people PEOPLE;

static sc_status people_user_of(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN])
{
    const people *p = ctx;
    if (p->fail != SC_OK)
        return p->fail;
    for (size_t i = 0; i < p->n; i++)
        if (memcmp(p->key[i], key, SC_KEY_LEN) == 0) {
            memcpy(user, p->user[i], SC_ID_LEN);
            return SC_OK;
        }
    return SC_ERR_NOT_FOUND;
}

static const sc_users PEOPLE_USERS = {people_user_of, &PEOPLE};

/* Device d was enrolled for user number u. */
static void enrolled_for(const sco_device *d, uint8_t u)
{
    ck_assert_uint_lt(PEOPLE.n, 8);
    memcpy(PEOPLE.key[PEOPLE.n], sc_keypair_public(d->key), SC_KEY_LEN);
    memset(PEOPLE.user[PEOPLE.n], 0, SC_ID_LEN);
    PEOPLE.user[PEOPLE.n][SC_ID_LEN - 1] = u;
    PEOPLE.n++;
}

static void setup(void)
{
    sct_env_init(&T, 7);
    ENV = &T.env;
    sc_uuid7_new(ENV, TARGET);
    memset(&PEOPLE, 0, sizeof PEOPLE);
    sco_fold_users = NULL;
}

static void teardown(void)
{
    sco_fold_users = NULL;
}

/* ---- op builders: each tries the op on a replica as a client would ---- */

static bool finding_create(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__Grade grade,
                           bool spot)
{
    Scpb__FindingCreate b = SCPB__FINDING_CREATE__INIT;
    b.has_target = true;
    b.target.len = SC_ID_LEN;
    b.target.data = TARGET;
    b.has_grade = true;
    b.grade = grade;
    b.description = grade == SCPB__GRADE__GRADE_MAJOR ? "燃气管道老化未按期检验" : "小区消防通道被车辆占用";
    b.category = grade == SCPB__GRADE__GRADE_MAJOR ? "GAS" : "FIRE_LANE";
    b.has_deadline_day = true;
    b.deadline_day = 20800;
    b.has_fixed_on_spot = spot;
    b.fixed_on_spot = spot;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &b;
    return sco_try(ENV, d, s, &op, e, FINDING, NULL);
}

static bool report(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char **why)
{
    Scpb__RectificationReport b = SCPB__RECTIFICATION_REPORT__INIT;
    b.note = "已清理占道车辆";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_RECTIFICATION_REPORT;
    op.rectification_report = &b;
    return sco_try(ENV, d, s, &op, e, FINDING, why);
}

static bool revisit(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], bool ok,
                    const char **why)
{
    Scpb__Revisit b = SCPB__REVISIT__INIT;
    b.has_result = true;
    b.result = ok ? SCPB__REVISIT_RESULT__REVISIT_RECTIFIED : SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED;
    b.note = ok ? "复查已整改" : "复查未整改";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_REVISIT;
    op.revisit = &b;
    return sco_try(ENV, d, s, &op, e, FINDING, why);
}

static bool closure(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char **why)
{
    Scpb__Closure b = SCPB__CLOSURE__INIT;
    b.note = "销号";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_CLOSURE;
    op.closure = &b;
    return sco_try(ENV, d, s, &op, e, FINDING, why);
}

static bool reopen(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char **why)
{
    Scpb__Reopen b = SCPB__REOPEN__INIT;
    b.reason = "回头看发现反弹";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_REOPEN;
    op.reopen = &b;
    return sco_try(ENV, d, s, &op, e, FINDING, why);
}

static bool edit(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__Field f,
                 const char *value)
{
    Scpb__FieldEdit b = SCPB__FIELD_EDIT__INIT;
    b.has_field = true;
    b.field = f;
    b.value = (char *)value;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_FIELD_EDIT;
    op.field_edit = &b;
    return sco_try(ENV, d, s, &op, e, FINDING, NULL);
}

static bool resolve(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__EntityType type,
                    Scpb__Field f, const char *value)
{
    Scpb__ConflictResolve b = SCPB__CONFLICT_RESOLVE__INIT;
    b.has_field = true;
    b.field = f;
    b.value = (char *)value;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_RESOLVE;
    op.resolve = &b;
    return sco_try(ENV, d, s, &op, e, type, NULL);
}

static bool photo(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__EntityType type,
                  uint8_t tag)
{
    uint8_t sha[SC_HASH_LEN];
    sc_sha256(&tag, 1, sha);
    Scpb__PhotoAttach b = SCPB__PHOTO_ATTACH__INIT;
    b.has_sha256 = true;
    b.sha256.len = SC_HASH_LEN;
    b.sha256.data = sha;
    b.has_size = true;
    b.size = 1000 + tag;
    b.mime = "image/jpeg";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_PHOTO_ATTACH;
    op.photo_attach = &b;
    return sco_try(ENV, d, s, &op, e, type, NULL);
}

static bool note(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__EntityType type,
                 const char *text)
{
    Scpb__Note b = SCPB__NOTE__INIT;
    b.text = (char *)text;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &b;
    return sco_try(ENV, d, s, &op, e, type, NULL);
}

static bool void_op(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__EntityType type,
                    const uint8_t *target_op, const char **why)
{
    Scpb__VoidRecord b = SCPB__VOID_RECORD__INIT;
    b.reason = "录入错误";
    if (target_op) {
        b.has_target_op = true;
        b.target_op.len = SC_HASH_LEN;
        b.target_op.data = (uint8_t *)target_op;
    }
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_VOID_RECORD;
    op.void_record = &b;
    return sco_try(ENV, d, s, &op, e, type, why);
}

static bool insp_open(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN])
{
    Scpb__InspectionOpen b;
    Scpb__Op op = SCPB__OP__INIT;
    sco_open_body(&op, &b, TARGET, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED);
    return sco_try(ENV, d, s, &op, e, INSPECTION, NULL);
}

static bool score(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char *code,
                  Scpb__ItemStatus st, int points, const char **why)
{
    Scpb__ItemResult b = SCPB__ITEM_RESULT__INIT;
    b.item_code = (char *)code;
    b.has_status = true;
    b.status = st;
    b.has_points = points >= 0;
    b.points = points;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_ITEM_RESULT;
    op.item_result = &b;
    return sco_try(ENV, d, s, &op, e, INSPECTION, why);
}

static bool submit(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char **why)
{
    Scpb__InspectionSubmit b = SCPB__INSPECTION_SUBMIT__INIT;
    b.remarks = "暗访完毕";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_INSPECTION_SUBMIT;
    op.inspection_submit = &b;
    return sco_try(ENV, d, s, &op, e, INSPECTION, why);
}

static bool amend(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], const char *code,
                  Scpb__ItemStatus st, int points, const char **why)
{
    Scpb__ItemResult r = SCPB__ITEM_RESULT__INIT;
    r.item_code = (char *)code;
    r.has_status = true;
    r.status = st;
    r.has_points = points >= 0;
    r.points = points;
    Scpb__ItemResult *rs[1] = {&r};
    Scpb__InspectionAmend b = SCPB__INSPECTION_AMEND__INIT;
    b.reason = "复核更正";
    b.n_results = 1;
    b.results = rs;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_INSPECTION_AMEND;
    op.inspection_amend = &b;
    return sco_try(ENV, d, s, &op, e, INSPECTION, why);
}

#define USER SCPB__ENTITY_TYPE__ENTITY_USER

static bool user_create(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__Role role)
{
    uint8_t org[SC_ID_LEN] = {7};
    Scpb__UserCreate b = SCPB__USER_CREATE__INIT;
    b.login = "wang.ming";
    b.name = "王明";
    b.has_role = true;
    b.role = role;
    b.has_org = true;
    b.org.len = SC_ID_LEN;
    b.org.data = org;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_USER_CREATE;
    op.user_create = &b;
    return sco_try(ENV, d, s, &op, e, USER, NULL);
}

/* An admin's change to the user: disabled or enabled again. */
static bool user_access(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], bool disable)
{
    Scpb__Op op = SCPB__OP__INIT;
    sco_user_body b;
    sco_user_act(&op, &b, disable ? SCPB__OP__BODY_USER_DISABLE : SCPB__OP__BODY_USER_ENABLE, 0,
                 disable ? "调离" : "返岗");
    return sco_try(ENV, d, s, &op, e, USER, NULL);
}

static bool user_role(sco_device *d, sco_set *s, const uint8_t e[SC_ID_LEN], Scpb__Role role)
{
    Scpb__Op op = SCPB__OP__INIT;
    sco_user_body b;
    sco_user_act(&op, &b, SCPB__OP__BODY_USER_ROLE, role, NULL);
    return sco_try(ENV, d, s, &op, e, USER, NULL);
}

/* ---- state helpers ---- */

typedef struct view {
    sc_fold_out fo;
} view;

static Scpb__EntityState *state_of(view *v, const sco_set *s)
{
    sco_fold(ENV, s, &v->fo);
    return v->fo.state;
}

static void view_dispose(view *v)
{
    sc_fold_out_dispose(ENV, &v->fo);
}

static const Scpb__Conflict *conflict(const Scpb__EntityState *st, Scpb__Field f)
{
    for (size_t i = 0; i < st->n_conflicts; i++)
        if (st->conflicts[i]->field == f)
            return st->conflicts[i];
    return NULL;
}

static Scpb__FindingStatus status_of(const sco_set *s)
{
    view v;
    Scpb__FindingStatus st = state_of(&v, s)->finding->status;
    view_dispose(&v);
    return st;
}

/* ---- the finding lifecycle ---- */

START_TEST(lifecycle_happy_path)
{
    sco_device insp, resp, sup;
    sco_device_init(&insp, 1, 1000000);
    sco_device_init(&resp, 2, 1000000);
    sco_device_init(&sup, 3, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    ck_assert(finding_create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, false));
    ck_assert_int_eq(status_of(&s), SCPB__FINDING_STATUS__FINDING_OPEN);
    ck_assert(report(&resp, &s, f, NULL));
    ck_assert_int_eq(status_of(&s), SCPB__FINDING_STATUS__FINDING_SUBMITTED);
    ck_assert(revisit(&insp, &s, f, true, NULL));
    ck_assert_int_eq(status_of(&s), SCPB__FINDING_STATUS__FINDING_VERIFIED);
    ck_assert(closure(&sup, &s, f, NULL));
    view v;
    Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_int_eq(st->finding->status, SCPB__FINDING_STATUS__FINDING_CLOSED);
    ck_assert_uint_eq(st->finding->reopen_count, 0);
    ck_assert_uint_eq(st->finding->revisit_count, 1);
    ck_assert_uint_eq(st->n_conflicts, 0);
    ck_assert_uint_eq(st->n_heads, 1);
    ck_assert_mem_eq(st->finding->closed_by.data, sc_keypair_public(sup.key), SC_KEY_LEN);
    ck_assert_mem_eq(st->finding->verified_by.data, sc_keypair_public(insp.key), SC_KEY_LEN);
    view_dispose(&v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&resp);
    sco_device_dispose(&sup);
}
END_TEST

START_TEST(invalid_transitions_are_refused_with_reasons)
{
    sco_device insp, sup;
    sco_device_init(&insp, 1, 1000000);
    sco_device_init(&sup, 3, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(finding_create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, false));
    ck_assert(!closure(&sup, &s, f, &why));
    ck_assert_str_eq(why, "closing (销号) needs a verified finding");
    ck_assert(!reopen(&sup, &s, f, &why));
    ck_assert_ptr_nonnull(why);
    ck_assert(!revisit(&insp, &s, f, true, &why));
    ck_assert_ptr_nonnull(why);
    /* A failing revisit of an open finding is a valid fact, with no transition. */
    ck_assert(revisit(&insp, &s, f, false, &why));
    ck_assert_int_eq(status_of(&s), SCPB__FINDING_STATUS__FINDING_OPEN);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup);
}
END_TEST

START_TEST(fixed_on_spot_starts_submitted)
{
    sco_device insp;
    sco_device_init(&insp, 1, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    ck_assert(finding_create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, true));
    ck_assert_int_eq(status_of(&s), SCPB__FINDING_STATUS__FINDING_SUBMITTED);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
}
END_TEST

START_TEST(major_hazard_needs_an_independent_verifier)
{
    sco_device insp, other, sup;
    sco_device_init(&insp, 1, 1000000);
    sco_device_init(&other, 4, 1000000);
    sco_device_init(&sup, 3, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    /* Fixed on the spot by the inspector, who also verifies: not enough for 重大隐患. */
    ck_assert(finding_create(&insp, &s, f, SCPB__GRADE__GRADE_MAJOR, true));
    ck_assert(revisit(&insp, &s, f, true, NULL));
    ck_assert(!closure(&sup, &s, f, &why));
    ck_assert_str_eq(why, "a major hazard must be verified by someone other than the reporting unit");
    /* A second, independent revisit does not change the verifier of record... */
    ck_assert(revisit(&other, &s, f, true, NULL));
    ck_assert(!closure(&sup, &s, f, &why));
    /* ...but sending it back and verifying independently does. */
    ck_assert(revisit(&other, &s, f, false, NULL));
    sco_device resp;
    sco_device_init(&resp, 2, 1000000);
    ck_assert(report(&resp, &s, f, NULL));
    ck_assert(revisit(&other, &s, f, true, NULL));
    ck_assert(closure(&sup, &s, f, &why));
    /* A general finding may be verified by its reporter's colleague device alike. */
    ck_assert_int_eq(status_of(&s), SCPB__FINDING_STATUS__FINDING_CLOSED);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&other);
    sco_device_dispose(&sup);
    sco_device_dispose(&resp);
}
END_TEST

/* Is op id listed among the state's invalid ops? */
static bool listed_invalid(const Scpb__EntityState *st, const uint8_t id[SC_HASH_LEN])
{
    for (size_t i = 0; i < st->n_invalid_ops; i++)
        if (st->invalid_ops[i].len == SC_HASH_LEN &&
            memcmp(st->invalid_ops[i].data, id, SC_HASH_LEN) == 0)
            return true;
    return false;
}

/*
 * Separation of duties is by person: one supervisor with two tablets who
 * reports on one and verifies on the other has not had the hazard checked
 * by someone else.  The same ops judged device by device would pass.
 */
START_TEST(major_hazard_verifier_is_another_person)
{
    sco_device insp, sup_a, sup_b;
    sco_device_init(&insp, 1, 1000000);
    sco_device_init(&sup_a, 3, 1000000);
    sco_device_init(&sup_b, 5, 1000000);
    enrolled_for(&insp, 1);
    enrolled_for(&sup_a, 2);
    enrolled_for(&sup_b, 2); /* the supervisor's second tablet */
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(finding_create(&insp, &s, f, SCPB__GRADE__GRADE_MAJOR, false));
    ck_assert(report(&sup_a, &s, f, NULL));
    ck_assert(revisit(&sup_b, &s, f, true, NULL));

    /* Device by device (no map), tablet A's closure passes... */
    ck_assert(closure(&sup_a, &s, f, &why));
    const sc_op *closed = s.v[s.n - 1];
    ck_assert_int_eq(closed->op->body_case, SCPB__OP__BODY_CLOSURE);
    /* ...person by person, the same set holds it invalid, and the finding stays verified. */
    sco_fold_users = &PEOPLE_USERS;
    sc_fold_out fo;
    sco_fold(ENV, &s, &fo);
    ck_assert(listed_invalid(fo.state, closed->id));
    ck_assert_int_eq(fo.state->finding->status, SCPB__FINDING_STATUS__FINDING_VERIFIED);
    sc_fold_out_dispose(ENV, &fo);

    /* On a replica that judges by person, neither tablet may close it. */
    sco_set t = {0};
    for (size_t i = 0; i + 1 < s.n; i++)
        sco_set_add(ENV, &t, s.v[i]);
    ck_assert(!closure(&sup_a, &t, f, &why));
    ck_assert_str_eq(why,
                     "a major hazard must be verified by someone other than the reporting unit");
    ck_assert(!closure(&sup_b, &t, f, &why));
    /* Another person's verification (sent back, reported again, verified) lets it close. */
    ck_assert(revisit(&insp, &t, f, false, NULL));
    ck_assert(report(&sup_a, &t, f, NULL));
    ck_assert(revisit(&insp, &t, f, true, NULL));
    ck_assert(closure(&sup_b, &t, f, &why));
    ck_assert_int_eq(status_of(&t), SCPB__FINDING_STATUS__FINDING_CLOSED);

    /* A map that cannot answer fails the fold; it never guesses. */
    PEOPLE.fail = SC_ERR_STORAGE;
    sc_fold_input *in = calloc(s.n, sizeof *in);
    for (size_t i = 0; i < s.n; i++)
        in[i] = (sc_fold_input){.id = s.v[i]->id, .op = s.v[i]->op};
    sc_err err;
    ck_assert_int_eq(sc_fold(ENV, &PEOPLE_USERS, in, s.n, &fo, &err), SC_ERR_STORAGE);
    ck_assert_ptr_null(fo.state);
    free(in);
    sco_set_dispose(ENV, &t);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&sup_a);
    sco_device_dispose(&sup_b);
}
END_TEST

START_TEST(look_back_reopens_and_counts)
{
    sco_device insp, resp, sup;
    sco_device_init(&insp, 1, 1000000);
    sco_device_init(&resp, 2, 1000000);
    sco_device_init(&sup, 3, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    ck_assert(finding_create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, false));
    ck_assert(report(&resp, &s, f, NULL));
    ck_assert(revisit(&insp, &s, f, false, NULL)); /* not rectified: back to open */
    ck_assert_int_eq(status_of(&s), SCPB__FINDING_STATUS__FINDING_OPEN);
    ck_assert(report(&resp, &s, f, NULL));
    ck_assert(revisit(&insp, &s, f, true, NULL));
    ck_assert(closure(&sup, &s, f, NULL));
    ck_assert(revisit(&insp, &s, f, false, NULL)); /* 回头看 finds a relapse */
    view v;
    Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_int_eq(st->finding->status, SCPB__FINDING_STATUS__FINDING_OPEN);
    ck_assert_uint_eq(st->finding->reopen_count, 1);
    ck_assert_uint_eq(st->finding->revisit_count, 3);
    view_dispose(&v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
    sco_device_dispose(&resp);
    sco_device_dispose(&sup);
}
END_TEST

/* ---- concurrency ---- */

START_TEST(safety_first_beats_a_concurrent_closure)
{
    sco_device insp, resp, sup;
    sco_device_init(&insp, 1, 1000000);
    sco_device_init(&resp, 2, 1000000);
    sco_device_init(&sup, 3, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set base = {0};
    ck_assert(finding_create(&insp, &base, f, SCPB__GRADE__GRADE_GENERAL, false));
    ck_assert(report(&resp, &base, f, NULL));
    ck_assert(revisit(&insp, &base, f, true, NULL));
    /* Offline: the supervisor closes, another inspector's revisit fails. Close is later in time. */
    sco_set a = {0}, b = {0};
    sco_set_merge(ENV, &a, &base, &sup);
    sco_set_merge(ENV, &b, &base, &insp);
    sup.now_ms += 60000;
    ck_assert(closure(&sup, &a, f, NULL));
    ck_assert(revisit(&insp, &b, f, false, NULL));
    sco_set_merge(ENV, &a, &b, &sup);
    sco_set_merge(ENV, &b, &a, &insp);
    uint8_t ha[SC_HASH_LEN], hb[SC_HASH_LEN];
    sco_hash(ENV, &a, ha);
    sco_hash(ENV, &b, hb);
    ck_assert_mem_eq(ha, hb, SC_HASH_LEN);
    view v;
    Scpb__EntityState *st = state_of(&v, &a);
    ck_assert_int_eq(st->finding->status, SCPB__FINDING_STATUS__FINDING_OPEN);
    const Scpb__Conflict *c = conflict(st, SCPB__FIELD__FIELD_STATUS);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->n_values, 2);
    ck_assert_str_eq(c->values[0], "open");
    ck_assert_str_eq(c->values[1], "closed");
    view_dispose(&v);
    /* The supervisor acknowledges: the conflict goes, the finding stays open. */
    ck_assert(resolve(&sup, &a, f, FINDING, SCPB__FIELD__FIELD_STATUS, ""));
    st = state_of(&v, &a);
    ck_assert_int_eq(st->finding->status, SCPB__FINDING_STATUS__FINDING_OPEN);
    ck_assert_ptr_null(conflict(st, SCPB__FIELD__FIELD_STATUS));
    view_dispose(&v);
    sco_set_dispose(ENV, &base);
    sco_set_dispose(ENV, &a);
    sco_set_dispose(ENV, &b);
    sco_device_dispose(&insp);
    sco_device_dispose(&resp);
    sco_device_dispose(&sup);
}
END_TEST

START_TEST(concurrent_field_edits_conflict_until_resolved)
{
    sco_device d1, d2, sup;
    sco_device_init(&d1, 1, 1000000);
    sco_device_init(&d2, 5, 1000000);
    sco_device_init(&sup, 3, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set base = {0}, a = {0}, b = {0};
    ck_assert(finding_create(&d1, &base, f, SCPB__GRADE__GRADE_GENERAL, false));
    sco_set_merge(ENV, &a, &base, &d1);
    sco_set_merge(ENV, &b, &base, &d2);
    ck_assert(edit(&d1, &a, f, SCPB__FIELD__FIELD_DEADLINE, "2026-12-01"));
    d2.now_ms += 5000;
    ck_assert(edit(&d2, &b, f, SCPB__FIELD__FIELD_DEADLINE, "2026-12-15"));
    /* Same value edited concurrently: no conflict on that field. */
    ck_assert(edit(&d1, &a, f, SCPB__FIELD__FIELD_LOCATION, "3号楼东侧"));
    ck_assert(edit(&d2, &b, f, SCPB__FIELD__FIELD_LOCATION, "3号楼东侧"));
    sco_set_merge(ENV, &a, &b, &d1);
    view v;
    Scpb__EntityState *st = state_of(&v, &a);
    const Scpb__Conflict *c = conflict(st, SCPB__FIELD__FIELD_DEADLINE);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->n_values, 2);
    /* The later writer in fold order is in effect. */
    ck_assert_str_eq(c->values[0], "2026-12-15");
    int32_t day;
    ck_assert_int_eq(sc_date_parse("2026-12-15", 10, &day), SC_OK);
    ck_assert_int_eq(st->finding->deadline_day, day);
    ck_assert_ptr_null(conflict(st, SCPB__FIELD__FIELD_LOCATION));
    view_dispose(&v);
    sco_set_merge(ENV, &base, &a, &sup);
    ck_assert(resolve(&sup, &base, f, FINDING, SCPB__FIELD__FIELD_DEADLINE, "2026-12-10"));
    st = state_of(&v, &base);
    ck_assert_ptr_null(conflict(st, SCPB__FIELD__FIELD_DEADLINE));
    ck_assert_int_eq(sc_date_parse("2026-12-10", 10, &day), SC_OK);
    ck_assert_int_eq(st->finding->deadline_day, day);
    view_dispose(&v);
    sco_set_dispose(ENV, &base);
    sco_set_dispose(ENV, &a);
    sco_set_dispose(ENV, &b);
    sco_device_dispose(&d1);
    sco_device_dispose(&d2);
    sco_device_dispose(&sup);
}
END_TEST

/* ---- inspections ---- */

START_TEST(inspection_draft_submit_amend)
{
    sco_device insp;
    sco_device_init(&insp, 1, 1000000);
    uint8_t e[SC_ID_LEN];
    sc_uuid7_new(ENV, e);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(insp_open(&insp, &s, e));
    ck_assert(score(&insp, &s, e, "A1", SCPB__ITEM_STATUS__ITEM_MET, 5, NULL));
    ck_assert(score(&insp, &s, e, "A2", SCPB__ITEM_STATUS__ITEM_NOT_MET, 0, NULL));
    ck_assert(score(&insp, &s, e, "A1", SCPB__ITEM_STATUS__ITEM_MET, 4, NULL)); /* re-score the draft */
    ck_assert(!amend(&insp, &s, e, "A1", SCPB__ITEM_STATUS__ITEM_MET, 3, &why));
    ck_assert(submit(&insp, &s, e, NULL));
    ck_assert(!score(&insp, &s, e, "A1", SCPB__ITEM_STATUS__ITEM_MET, 5, &why));
    ck_assert_str_eq(why, "the inspection is submitted: amend it instead of scoring");
    ck_assert(!submit(&insp, &s, e, &why));
    ck_assert(amend(&insp, &s, e, "A2", SCPB__ITEM_STATUS__ITEM_MET, 2, NULL));
    view v;
    Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_int_eq(st->inspection->status, SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED);
    ck_assert_uint_eq(st->inspection->n_results, 2);
    ck_assert_str_eq(st->inspection->results[0]->item_code, "A1");
    ck_assert_int_eq(st->inspection->results[0]->points, 4);
    ck_assert_int_eq(st->inspection->results[1]->points, 2);
    ck_assert_uint_eq(st->inspection->amend_count, 1);
    view_dispose(&v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
}
END_TEST

START_TEST(late_item_results_are_not_covered_by_the_submission)
{
    sco_device d1, d2;
    sco_device_init(&d1, 1, 1000000);
    sco_device_init(&d2, 2, 1000000);
    uint8_t e[SC_ID_LEN];
    sc_uuid7_new(ENV, e);
    sco_set base = {0}, a = {0}, b = {0};
    ck_assert(insp_open(&d1, &base, e));
    ck_assert(score(&d1, &base, e, "A1", SCPB__ITEM_STATUS__ITEM_MET, 5, NULL));
    sco_set_merge(ENV, &a, &base, &d1);
    sco_set_merge(ENV, &b, &base, &d2);
    ck_assert(submit(&d1, &a, e, NULL));
    ck_assert(score(&d2, &b, e, "A1", SCPB__ITEM_STATUS__ITEM_NOT_MET, 0, NULL));
    sco_set_merge(ENV, &a, &b, &d1);
    view v;
    Scpb__EntityState *st = state_of(&v, &a);
    ck_assert_int_eq(st->inspection->results[0]->points, 5); /* as submitted */
    ck_assert_uint_eq(st->n_conflicts, 1);
    ck_assert_int_eq(st->conflicts[0]->field, SCPB__FIELD__FIELD_ITEM);
    ck_assert_str_eq(st->conflicts[0]->item_code, "A1");
    view_dispose(&v);
    /* An amendment that has seen the late result settles it. */
    ck_assert(amend(&d1, &a, e, "A1", SCPB__ITEM_STATUS__ITEM_NOT_MET, 1, NULL));
    st = state_of(&v, &a);
    ck_assert_uint_eq(st->n_conflicts, 0);
    ck_assert_int_eq(st->inspection->results[0]->points, 1);
    view_dispose(&v);
    sco_set_dispose(ENV, &base);
    sco_set_dispose(ENV, &a);
    sco_set_dispose(ENV, &b);
    sco_device_dispose(&d1);
    sco_device_dispose(&d2);
}
END_TEST

/* ---- voids ---- */

START_TEST(voids_remove_facts_and_freeze_the_entity)
{
    sco_device insp;
    sco_device_init(&insp, 1, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    const char *why = NULL;
    ck_assert(finding_create(&insp, &s, f, SCPB__GRADE__GRADE_GENERAL, false));
    ck_assert(photo(&insp, &s, f, FINDING, 1));
    ck_assert(photo(&insp, &s, f, FINDING, 2));
    view v;
    Scpb__EntityState *st = state_of(&v, &s);
    ck_assert_uint_eq(st->n_photos, 2);
    uint8_t victim[SC_HASH_LEN];
    memcpy(victim, st->photos[0]->op.data, SC_HASH_LEN);
    view_dispose(&v);
    ck_assert(void_op(&insp, &s, f, FINDING, victim, NULL));
    st = state_of(&v, &s);
    ck_assert_uint_eq(st->n_photos, 1);
    ck_assert_uint_eq(st->n_voided_ops, 1);
    view_dispose(&v);
    /* Voiding the create op on its own is not a thing. */
    uint8_t create_id[SC_HASH_LEN];
    st = state_of(&v, &s);
    (void)st;
    view_dispose(&v);
    for (size_t i = 0; i < s.n; i++)
        if (s.v[i]->op->body_case == SCPB__OP__BODY_FINDING_CREATE)
            memcpy(create_id, s.v[i]->id, SC_HASH_LEN);
    ck_assert(!void_op(&insp, &s, f, FINDING, create_id, &why));
    ck_assert(void_op(&insp, &s, f, FINDING, NULL, NULL));
    ck_assert(!edit(&insp, &s, f, SCPB__FIELD__FIELD_DESCRIPTION, "改"));
    ck_assert(note(&insp, &s, f, FINDING, "作废原因已登记"));
    st = state_of(&v, &s);
    ck_assert(st->voided);
    ck_assert_str_eq(st->void_reason, "录入错误");
    ck_assert_uint_eq(st->n_notes, 1);
    view_dispose(&v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
}
END_TEST

/* ---- structure ---- */

START_TEST(structural_refusals)
{
    sco_device d;
    sco_device_init(&d, 1, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    ck_assert(finding_create(&d, &s, f, SCPB__GRADE__GRADE_GENERAL, false));
    ck_assert(report(&d, &s, f, NULL));
    sc_fold_input in[2];
    sc_fold_out out;
    sc_err err;
    /* The report without its create: a dep is missing. */
    size_t ri = s.v[0]->op->body_case == SCPB__OP__BODY_RECTIFICATION_REPORT ? 0 : 1;
    in[0].id = s.v[ri]->id;
    in[0].op = s.v[ri]->op;
    ck_assert_int_eq(sc_fold(ENV, NULL, in, 1, &out, &err), SC_ERR_REJECTED);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_UNKNOWN_DEPENDENCY);
    ck_assert_ptr_null(out.state);
    /* The same op twice. */
    in[1] = in[0];
    ck_assert_int_eq(sc_fold(ENV, NULL, in, 2, &out, &err), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_fold(ENV, NULL, in, 0, &out, &err), SC_ERR_INVALID_ARG);
    /* A dep with a later HLC makes the op invalid, not the fold. */
    sco_device early;
    sco_device_init(&early, 9, 10);
    uint8_t dep[1][SC_HASH_LEN];
    memcpy(dep[0], s.v[0]->id, SC_HASH_LEN);
    Scpb__Note b = SCPB__NOTE__INIT;
    b.text = "时钟落后";
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &b;
    sc_op *late = sco_make_deps(ENV, &early, &op, f, FINDING, (const uint8_t(*)[SC_HASH_LEN])dep, 1);
    sco_set_add(ENV, &s, late);
    sc_fold_out fo;
    sco_fold(ENV, &s, &fo);
    ck_assert_uint_eq(fo.state->n_invalid_ops, 1);
    ck_assert_mem_eq(fo.state->invalid_ops[0].data, late->id, SC_HASH_LEN);
    sc_fold_out_dispose(ENV, &fo);
    sc_op_free(ENV, late);
    sco_device_dispose(&early);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&d);
}
END_TEST

START_TEST(state_codec_and_replica_hash)
{
    sco_device d;
    sco_device_init(&d, 1, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    ck_assert(finding_create(&d, &s, f, SCPB__GRADE__GRADE_MAJOR, false));
    ck_assert(photo(&d, &s, f, FINDING, 3));
    view v;
    Scpb__EntityState *st = state_of(&v, &s);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(sc_state_encode(ENV, st, &buf, &len), SC_OK);
    Scpb__EntityState *back = NULL;
    ck_assert_int_eq(sc_state_decode(ENV, buf, len, len - 1, &back, NULL), SC_ERR_TOO_LARGE);
    ck_assert_int_eq(sc_state_decode(ENV, buf, len, len, &back, NULL), SC_OK);
    uint8_t h1[SC_HASH_LEN], h2[SC_HASH_LEN];
    ck_assert_int_eq(sc_state_hash(ENV, st, h1), SC_OK);
    ck_assert_int_eq(sc_state_hash(ENV, back, h2), SC_OK);
    ck_assert_mem_eq(h1, h2, SC_HASH_LEN);
    /* Derived flags. */
    ck_assert(!sc_finding_overdue(st, st->finding->deadline_day));
    ck_assert(sc_finding_overdue(st, st->finding->deadline_day + 1));
    sc_state_free(ENV, back);
    sc_free(ENV, buf);
    view_dispose(&v);

    sc_replica_hash rh;
    sc_replica_hash_init(&rh);
    uint8_t id1[SC_ID_LEN] = {1}, id2[SC_ID_LEN] = {2};
    ck_assert_int_eq(sc_replica_hash_add(&rh, id2, h1), SC_OK);
    ck_assert_int_eq(sc_replica_hash_add(&rh, id1, h1), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_replica_hash_add(&rh, id2, h1), SC_ERR_INVALID_ARG);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&d);
}
END_TEST

static bool present_none(void *ctx, const uint8_t sha[SC_HASH_LEN])
{
    (void)ctx;
    (void)sha;
    return false;
}

static bool present_all(void *ctx, const uint8_t sha[SC_HASH_LEN])
{
    (void)ctx;
    (void)sha;
    return true;
}

START_TEST(evidence_pending_follows_the_blob_store)
{
    sco_device d;
    sco_device_init(&d, 1, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set s = {0};
    ck_assert(finding_create(&d, &s, f, SCPB__GRADE__GRADE_GENERAL, false));
    view v;
    Scpb__EntityState *st = state_of(&v, &s);
    ck_assert(!sc_evidence_pending(st, present_none, NULL));
    view_dispose(&v);
    ck_assert(photo(&d, &s, f, FINDING, 4));
    st = state_of(&v, &s);
    ck_assert(sc_evidence_pending(st, present_none, NULL));
    ck_assert(!sc_evidence_pending(st, present_all, NULL));
    view_dispose(&v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&d);
}
END_TEST

/* ---- users: access and role ---- */

START_TEST(user_access_and_role)
{
    sco_device adm;
    sco_device_init(&adm, 9, 1000000);
    uint8_t u[SC_ID_LEN];
    sc_uuid7_new(ENV, u);
    sco_set s = {0};
    ck_assert(user_create(&adm, &s, u, SCPB__ROLE__ROLE_INSPECTOR));
    view v;
    Scpb__EntityState *st = state_of(&v, &s);
    /* A user no op changed: the state it always had (no access field, no conflict). */
    ck_assert_int_eq(st->user->role, SCPB__ROLE__ROLE_INSPECTOR);
    ck_assert(!st->user->has_disabled);
    ck_assert_ptr_null(st->user->disabled_reason);
    ck_assert_uint_eq(st->n_conflicts, 0);
    view_dispose(&v);

    ck_assert(user_access(&adm, &s, u, true));
    st = state_of(&v, &s);
    ck_assert(st->user->has_disabled && st->user->disabled);
    ck_assert_str_eq(st->user->disabled_reason, "调离");
    view_dispose(&v);
    /* The role changes while disabled; access stays as it is. */
    ck_assert(user_role(&adm, &s, u, SCPB__ROLE__ROLE_SUPERVISOR));
    st = state_of(&v, &s);
    ck_assert_int_eq(st->user->role, SCPB__ROLE__ROLE_SUPERVISOR);
    ck_assert(st->user->disabled);
    view_dispose(&v);
    ck_assert(user_access(&adm, &s, u, false));
    st = state_of(&v, &s);
    ck_assert(!st->user->has_disabled);
    ck_assert_ptr_null(st->user->disabled_reason);
    ck_assert_int_eq(st->user->role, SCPB__ROLE__ROLE_SUPERVISOR);
    ck_assert_uint_eq(st->n_invalid_ops, 0);
    view_dispose(&v);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&adm);
}
END_TEST

/*
 * Concurrent admin acts on one user (two admins offline): disabled wins
 * over a concurrent enable whichever comes later in fold order, and raises
 * an access conflict until an act that has seen both settles it; a disable
 * and a concurrent role change both take effect; concurrent role changes
 * go to the last writer and raise a role conflict.
 */
START_TEST(concurrent_user_acts)
{
    for (int later = 0; later < 2; later++) {
        sco_device a1, a2;
        sco_device_init(&a1, 11, 1000000);
        sco_device_init(&a2, 12, 1000000);
        uint8_t u[SC_ID_LEN];
        sc_uuid7_new(ENV, u);
        sco_set base = {0}, x = {0}, y = {0};
        ck_assert(user_create(&a1, &base, u, SCPB__ROLE__ROLE_INSPECTOR));
        ck_assert(user_access(&a1, &base, u, true));
        sco_set_merge(ENV, &x, &base, &a1);
        sco_set_merge(ENV, &y, &base, &a2);
        /* x: still disabled, and a new role; y: enabled again.  `later` decides fold order. */
        (later ? &a1 : &a2)->now_ms += 60000;
        ck_assert(user_access(&a1, &x, u, true));
        ck_assert(user_role(&a1, &x, u, SCPB__ROLE__ROLE_AUDITOR));
        ck_assert(user_access(&a2, &y, u, false));
        ck_assert(user_role(&a2, &y, u, SCPB__ROLE__ROLE_SUPERVISOR));
        sco_set_merge(ENV, &x, &y, &a1);
        view v;
        Scpb__EntityState *st = state_of(&v, &x);
        ck_assert_msg(st->user->disabled, "later=%d: a concurrent enable beat a disable", later);
        const Scpb__Conflict *c = conflict(st, SCPB__FIELD__FIELD_ACCESS);
        ck_assert_ptr_nonnull(c);
        ck_assert_uint_eq(c->n_values, 2);
        ck_assert_str_eq(c->values[0], "disabled");
        ck_assert_str_eq(c->values[1], "active");
        /* Roles: the last writer in fold order, and a conflict naming both. */
        Scpb__Role want = later ? SCPB__ROLE__ROLE_AUDITOR : SCPB__ROLE__ROLE_SUPERVISOR;
        ck_assert_int_eq(st->user->role, want);
        c = conflict(st, SCPB__FIELD__FIELD_ROLE);
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(c->values[0], sc_name_of(&sc_names_role, want));
        view_dispose(&v);
        /* An enable that has seen both settles access; a role change that has seen both, the role.
         */
        ck_assert(user_access(&a2, &x, u, false));
        ck_assert(user_role(&a2, &x, u, SCPB__ROLE__ROLE_INSPECTOR));
        st = state_of(&v, &x);
        ck_assert(!st->user->disabled);
        ck_assert_int_eq(st->user->role, SCPB__ROLE__ROLE_INSPECTOR);
        ck_assert_uint_eq(st->n_conflicts, 0);
        view_dispose(&v);
        sco_set_dispose(ENV, &base);
        sco_set_dispose(ENV, &x);
        sco_set_dispose(ENV, &y);
        sco_device_dispose(&a1);
        sco_device_dispose(&a2);
    }
}
END_TEST

/* ---- convergence properties ---- */

#define REPLICAS 3

typedef struct sim {
    uint64_t rng;
    sco_device dev[REPLICAS];
    sco_set rep[REPLICAS];
    uint8_t finding[SC_ID_LEN];
    uint8_t inspection[SC_ID_LEN];
    uint8_t user[SC_ID_LEN]; /* admins on every replica disable, enable and change its role */
} sim;

static uint64_t next(sim *m)
{
    /* splitmix64: reproducible from the seed. */
    uint64_t x = (m->rng += UINT64_C(0x9E3779B97F4A7C15));
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

static unsigned pick(sim *m, unsigned n)
{
    return (unsigned)(next(m) % n);
}

/* Split a replica's ops by entity into a new set. */
static void only(const sco_set *s, const uint8_t e[SC_ID_LEN], sco_set *out)
{
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->v[i]->op->entity.data, e, SC_ID_LEN) == 0)
            sco_set_add(ENV, out, s->v[i]);
}

/* An admin on replica r acts on the user: disable, enable, or a new role. */
static void random_user_act(sim *m, unsigned r)
{
    static const Scpb__Role roles[] = {SCPB__ROLE__ROLE_INSPECTOR, SCPB__ROLE__ROLE_SUPERVISOR,
                                       SCPB__ROLE__ROLE_AUDITOR};
    sco_set us = {0};
    only(&m->rep[r], m->user, &us);
    m->dev[r].now_ms += 1 + pick(m, 3000);
    switch (pick(m, 3)) {
    case 0:
        ck_assert(user_access(&m->dev[r], &us, m->user, true));
        break;
    case 1:
        ck_assert(user_access(&m->dev[r], &us, m->user, false));
        break;
    default:
        ck_assert(user_role(&m->dev[r], &us, m->user, roles[pick(m, 3)]));
        break;
    }
    sco_set_merge(ENV, &m->rep[r], &us, NULL);
    sco_set_dispose(ENV, &us);
}

static void random_action(sim *m, unsigned r)
{
    if (pick(m, 4) == 0) {
        random_user_act(m, r);
        return;
    }
    sco_device *d = &m->dev[r];
    sco_set fs = {0}, is = {0};
    only(&m->rep[r], m->finding, &fs);
    only(&m->rep[r], m->inspection, &is);
    static const char *days[] = {"2026-12-01", "2026-12-05", "2026-12-20"};
    static const char *codes[] = {"A1", "A2", "A3"};
    d->now_ms += 1 + pick(m, 3000);
    switch (pick(m, 14)) {
    case 0:
        report(d, &fs, m->finding, NULL);
        break;
    case 1:
    case 2:
        revisit(d, &fs, m->finding, pick(m, 2), NULL);
        break;
    case 3:
        closure(d, &fs, m->finding, NULL);
        break;
    case 4:
        reopen(d, &fs, m->finding, NULL);
        break;
    case 5:
        edit(d, &fs, m->finding, SCPB__FIELD__FIELD_DEADLINE, days[pick(m, 3)]);
        break;
    case 6:
        edit(d, &fs, m->finding, SCPB__FIELD__FIELD_GRADE, pick(m, 2) ? "major" : "general");
        break;
    case 7:
        resolve(d, &fs, m->finding, FINDING,
                pick(m, 2) ? SCPB__FIELD__FIELD_STATUS : SCPB__FIELD__FIELD_DEADLINE,
                days[pick(m, 3)]);
        break;
    case 8:
        photo(d, &fs, m->finding, FINDING, (uint8_t)pick(m, 4));
        break;
    case 9:
        note(d, &is, m->inspection, INSPECTION, "记录");
        break;
    case 10:
    case 11:
        score(d, &is, m->inspection, codes[pick(m, 3)], (Scpb__ItemStatus)(1 + pick(m, 4)),
              (int)pick(m, 6), NULL);
        break;
    case 12:
        if (pick(m, 3) == 0)
            submit(d, &is, m->inspection, NULL);
        else
            amend(d, &is, m->inspection, codes[pick(m, 3)], SCPB__ITEM_STATUS__ITEM_MET,
                  (int)pick(m, 6), NULL);
        break;
    case 13:
        if (fs.n > 2 && pick(m, 4) == 0) {
            /* void a random photo or note if there is one */
            for (size_t i = 0; i < fs.n; i++)
                if (fs.v[i]->op->body_case == SCPB__OP__BODY_PHOTO_ATTACH) {
                    void_op(d, &fs, m->finding, FINDING, fs.v[i]->id, NULL);
                    break;
                }
        }
        break;
    }
    sco_set_merge(ENV, &m->rep[r], &fs, NULL);
    sco_set_merge(ENV, &m->rep[r], &is, NULL);
    sco_set_dispose(ENV, &fs);
    sco_set_dispose(ENV, &is);
}

/* Fold an entity's ops in a shuffled order; returns the state hash. */
static void shuffled_hash(sim *m, const sco_set *all, const uint8_t e[SC_ID_LEN],
                          uint8_t out[SC_HASH_LEN])
{
    sco_set s = {0};
    only(all, e, &s);
    for (size_t i = s.n; i > 1; i--) {
        size_t j = pick(m, (unsigned)i);
        sc_op *t = s.v[i - 1];
        s.v[i - 1] = s.v[j];
        s.v[j] = t;
    }
    sco_hash(ENV, &s, out);
    sco_set_dispose(ENV, &s);
}

/*
 * The user's state as the merge rules say it must be, computed from the
 * ops and their deps alone, not with the fold's registers: access is
 * disabled exactly when some disable has no enable in its causal future
 * (disabled wins over a concurrent enable); the role is that of the last
 * role write in fold order among those no other role write has seen (access
 * acts, concurrent or not, never change it); and each field is in conflict
 * exactly when its writes that no other write of it has seen disagree.
 */
typedef struct user_truth {
    bool disabled, access_conflict, role_conflict;
    Scpb__Role role;
} user_truth;

/* past[i * n + j]: op j is in op i's causal past (or is i). */
static bool *causal_past(const sco_set *s)
{
    size_t n = s->n;
    bool *past = calloc(n * n + 1, 1);
    ck_assert_ptr_nonnull(past);
    for (size_t i = 0; i < n; i++)
        past[i * n + i] = true;
    /* Relax until nothing changes: sets are small. */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < n; i++)
            for (size_t d = 0; d < s->v[i]->op->n_deps; d++)
                for (size_t j = 0; j < n; j++) {
                    if (memcmp(s->v[j]->id, s->v[i]->op->deps[d].data, SC_HASH_LEN) != 0)
                        continue;
                    for (size_t k = 0; k < n; k++)
                        if (past[j * n + k] && !past[i * n + k])
                            changed = past[i * n + k] = true;
                }
    }
    return past;
}

/* Fold order: (HLC, author key, op id). */
static bool fold_before(const sc_op *a, const sc_op *b)
{
    if (a->op->hlc != b->op->hlc)
        return a->op->hlc < b->op->hlc;
    int c = memcmp(a->op->author.data, b->op->author.data, SC_KEY_LEN);
    return c != 0 ? c < 0 : memcmp(a->id, b->id, SC_HASH_LEN) < 0;
}

/* The value op i writes to the role (field 0) or access (field 1), or -1 when none. */
static int user_write(const sc_op *o, int field)
{
    switch (o->op->body_case) {
    case SCPB__OP__BODY_USER_CREATE:
        return field ? 0 : (int)o->op->user_create->role;
    case SCPB__OP__BODY_USER_ROLE:
        return field ? -1 : (int)o->op->user_role->role;
    case SCPB__OP__BODY_USER_DISABLE:
        return field ? 1 : -1;
    case SCPB__OP__BODY_USER_ENABLE:
        return field ? 0 : -1;
    default:
        return -1;
    }
}

static user_truth user_oracle(const sco_set *s)
{
    size_t n = s->n;
    bool *past = causal_past(s);
    user_truth t = {false, false, false, SCPB__ROLE__ROLE_UNSPECIFIED};
    for (int field = 0; field < 2; field++) {
        size_t win = n;
        int first = -1;
        bool differ = false;
        for (size_t i = 0; i < n; i++) {
            int v = user_write(s->v[i], field);
            if (v < 0)
                continue;
            bool seen = false; /* another write of the field has i in its past */
            for (size_t j = 0; j < n && !seen; j++)
                seen = j != i && user_write(s->v[j], field) >= 0 && past[j * n + i];
            if (seen)
                continue;
            differ = differ || (first >= 0 && v != first);
            if (first < 0)
                first = v;
            if (win == n || fold_before(s->v[win], s->v[i]))
                win = i;
        }
        if (field == 0) {
            t.role = (Scpb__Role)user_write(s->v[win], 0);
            t.role_conflict = differ;
        } else {
            t.access_conflict = differ;
        }
    }
    /* Disabled: a disable with no enable after it. */
    for (size_t i = 0; i < n && !t.disabled; i++) {
        if (s->v[i]->op->body_case != SCPB__OP__BODY_USER_DISABLE)
            continue;
        bool enabled_after = false;
        for (size_t j = 0; j < n && !enabled_after; j++)
            enabled_after =
                j != i && s->v[j]->op->body_case == SCPB__OP__BODY_USER_ENABLE && past[j * n + i];
        t.disabled = !enabled_after;
    }
    free(past);
    return t;
}

/* The fold's user state agrees with the oracle; returns the oracle's word. */
static user_truth check_user(unsigned seed, const sco_set *rep, const uint8_t u[SC_ID_LEN])
{
    sco_set us = {0};
    only(rep, u, &us);
    user_truth t = user_oracle(&us);
    view v;
    Scpb__EntityState *st = state_of(&v, &us);
    ck_assert_msg(st->user->disabled == t.disabled, "seed %u: disabled %d, the rules say %d", seed,
                  st->user->disabled, t.disabled);
    ck_assert_msg(st->user->role == t.role, "seed %u: role %d, the rules say %d", seed,
                  st->user->role, t.role);
    ck_assert_msg((conflict(st, SCPB__FIELD__FIELD_ACCESS) != NULL) == t.access_conflict,
                  "seed %u: access conflict", seed);
    ck_assert_msg((conflict(st, SCPB__FIELD__FIELD_ROLE) != NULL) == t.role_conflict,
                  "seed %u: role conflict", seed);
    ck_assert_uint_eq(st->n_invalid_ops, 0);
    view_dispose(&v);
    sco_set_dispose(ENV, &us);
    return t;
}

/*
 * With SC_WRITE_FUZZ_SEEDS=DIR, the first seeds' replicas become the seed
 * corpus of tests/fuzz/fuzz_merge.c (mode byte, then 2-byte lengths and ops).
 */
static void write_fuzz_seed(unsigned seed, const sco_set *s, const uint8_t *f, const uint8_t *insp)
{
    const char *dir = getenv("SC_WRITE_FUZZ_SEEDS");
    if (!dir || seed > 8)
        return;
    for (unsigned e = 0; e < 2; e++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/seed-%u-%s", dir, seed, e ? "inspection" : "finding");
        FILE *out = fopen(path, "wb");
        ck_assert_ptr_nonnull(out);
        fputc(seed & 1, out);
        for (size_t i = 0; i < s->n; i++) {
            if (memcmp(s->v[i]->op->entity.data, e ? insp : f, SC_ID_LEN) != 0)
                continue;
            fputc((int)(s->v[i]->signed_len >> 8), out);
            fputc((int)(s->v[i]->signed_len & 0xff), out);
            fwrite(s->v[i]->signed_bytes, 1, s->v[i]->signed_len, out);
        }
        fclose(out);
    }
}

static unsigned seeds(void)
{
    const char *e = getenv("SC_MERGE_SEEDS");
    long n = e ? strtol(e, NULL, 10) : 0;
    return n > 0 ? (unsigned)n : 2000;
}

START_TEST(random_replicas_converge)
{
    unsigned nseeds = seeds();
    unsigned disabled = 0, access_conflicts = 0, role_conflicts = 0;
    for (unsigned seed = 1; seed <= nseeds; seed++) {
        sim m;
        memset(&m, 0, sizeof m);
        m.rng = seed;
        for (unsigned r = 0; r < REPLICAS; r++)
            sco_device_init(&m.dev[r], 100 + r, 1000000 + pick(&m, 100000));
        /* Devices 0 and 1 are one user's two tablets: rules compare people. */
        PEOPLE.n = 0;
        for (unsigned r = 0; r < REPLICAS; r++)
            enrolled_for(&m.dev[r], r == 0 ? 1 : (uint8_t)r);
        sco_fold_users = &PEOPLE_USERS;
        sc_uuid7_new(ENV, m.finding);
        sc_uuid7_new(ENV, m.inspection);
        sc_uuid7_new(ENV, m.user);
        sco_set fseed = {0}, iseed = {0}, useed = {0};
        ck_assert(finding_create(&m.dev[0], &fseed, m.finding, SCPB__GRADE__GRADE_GENERAL,
                                 pick(&m, 3) == 0));
        ck_assert(insp_open(&m.dev[0], &iseed, m.inspection));
        ck_assert(user_create(&m.dev[0], &useed, m.user, SCPB__ROLE__ROLE_INSPECTOR));
        for (unsigned r = 0; r < REPLICAS; r++) {
            sco_set_merge(ENV, &m.rep[r], &fseed, &m.dev[r]);
            sco_set_merge(ENV, &m.rep[r], &iseed, &m.dev[r]);
            sco_set_merge(ENV, &m.rep[r], &useed, &m.dev[r]);
        }
        sco_set_dispose(ENV, &fseed);
        sco_set_dispose(ENV, &iseed);
        sco_set_dispose(ENV, &useed);

        unsigned steps = 6 + pick(&m, 14);
        for (unsigned k = 0; k < steps; k++) {
            if (pick(&m, 4) == 0) {
                unsigned a = pick(&m, REPLICAS), b = pick(&m, REPLICAS);
                sco_set_merge(ENV, &m.rep[a], &m.rep[b], &m.dev[a]); /* one-way exchange */
            } else {
                random_action(&m, pick(&m, REPLICAS));
            }
        }
        /* Everyone exchanges with everyone, in a random order. */
        for (unsigned round = 0; round < 2; round++)
            for (unsigned k = 0; k < REPLICAS * REPLICAS; k++) {
                unsigned a = pick(&m, REPLICAS), b = pick(&m, REPLICAS);
                sco_set_merge(ENV, &m.rep[a], &m.rep[b], &m.dev[a]);
            }
        for (unsigned a = 0; a < REPLICAS; a++)
            for (unsigned b = 0; b < REPLICAS; b++)
                sco_set_merge(ENV, &m.rep[a], &m.rep[b], &m.dev[a]);

        const uint8_t *ents[3] = {m.finding, m.inspection, m.user};
        for (unsigned e = 0; e < 3; e++) {
            uint8_t ref[SC_HASH_LEN], h[SC_HASH_LEN];
            shuffled_hash(&m, &m.rep[0], ents[e], ref);
            for (unsigned r = 0; r < REPLICAS; r++)
                for (unsigned t = 0; t < 2; t++) {
                    shuffled_hash(&m, &m.rep[r], ents[e], h);
                    ck_assert_msg(memcmp(ref, h, SC_HASH_LEN) == 0,
                                  "seed %u: replica %u diverges on entity %u", seed, r, e);
                }
            /* Idempotence: merging everything again changes nothing. */
            sco_set_merge(ENV, &m.rep[0], &m.rep[1], NULL);
            shuffled_hash(&m, &m.rep[0], ents[e], h);
            ck_assert_mem_eq(ref, h, SC_HASH_LEN);
        }
        user_truth t = check_user(seed, &m.rep[0], m.user);
        disabled += t.disabled;
        access_conflicts += t.access_conflict;
        role_conflicts += t.role_conflict;
        write_fuzz_seed(seed, &m.rep[0], m.finding, m.inspection);
        /* On every replica every op is valid: each was valid where it was made. */
        sco_set fs = {0};
        only(&m.rep[0], m.finding, &fs);
        sc_fold_out fo;
        sco_fold(ENV, &fs, &fo);
        ck_assert_msg(fo.state->n_invalid_ops == 0, "seed %u: an op became invalid", seed);
        sc_fold_out_dispose(ENV, &fo);
        sco_set_dispose(ENV, &fs);
        for (unsigned r = 0; r < REPLICAS; r++) {
            sco_set_dispose(ENV, &m.rep[r]);
            sco_device_dispose(&m.dev[r]);
        }
    }
    /* The runs met what the user rules are about. */
    printf("users over %u seeds: %u disabled, %u access conflicts, %u role conflicts\n", nseeds,
           disabled, access_conflicts, role_conflicts);
    if (nseeds >= 100)
        ck_assert(disabled > 0 && access_conflicts > 0 && role_conflicts > 0);
}
END_TEST

/* ---- allocation failure ---- */

START_TEST(every_allocation_failure_is_clean)
{
    sco_device d1, d2;
    sco_device_init(&d1, 1, 1000000);
    sco_device_init(&d2, 2, 1000000);
    uint8_t f[SC_ID_LEN];
    sc_uuid7_new(ENV, f);
    sco_set base = {0}, a = {0}, b = {0};
    ck_assert(finding_create(&d1, &base, f, SCPB__GRADE__GRADE_GENERAL, false));
    ck_assert(photo(&d1, &base, f, FINDING, 1));
    ck_assert(note(&d1, &base, f, FINDING, "备注"));
    sco_set_merge(ENV, &a, &base, &d1);
    sco_set_merge(ENV, &b, &base, &d2);
    ck_assert(edit(&d1, &a, f, SCPB__FIELD__FIELD_DEADLINE, "2026-12-01"));
    ck_assert(edit(&d2, &b, f, SCPB__FIELD__FIELD_DEADLINE, "2026-12-02"));
    sco_set_merge(ENV, &a, &b, &d1);

    sc_fold_input *in = calloc(a.n, sizeof *in);
    for (size_t i = 0; i < a.n; i++) {
        in[i].id = a.v[i]->id;
        in[i].op = a.v[i]->op;
    }
    sct_env fail;
    sct_env_init(&fail, 1);
    unsigned failures = 0;
    for (uint64_t n = 1;; n++) {
        sct_env_fail_at(&fail, n, 0);
        fail.live = 0;
        sc_fold_out out;
        sc_err err;
        sc_status rc = sc_fold(&fail.env, NULL, in, a.n, &out, &err);
        if (rc == SC_OK) {
            sc_fold_out_dispose(&fail.env, &out);
            ck_assert_int_eq(fail.live, 0);
            break;
        }
        ck_assert_int_eq(rc, SC_ERR_NOMEM);
        ck_assert_ptr_null(out.state);
        ck_assert_msg(fail.live == 0, "allocation %llu: %lld blocks leaked", (unsigned long long)n,
                      (long long)fail.live);
        failures++;
        ck_assert_uint_lt(n, 100000);
    }
    ck_assert_uint_gt(failures, 10);
    free(in);
    sco_set_dispose(ENV, &base);
    sco_set_dispose(ENV, &a);
    sco_set_dispose(ENV, &b);
    sco_device_dispose(&d1);
    sco_device_dispose(&d2);
}
END_TEST

static Suite *merge_suite(void)
{
    Suite *s = suite_create("merge");
    const sct_case cases[] = {
        {"lifecycle", lifecycle_happy_path},
        {"invalid_transitions", invalid_transitions_are_refused_with_reasons},
        {"fixed_on_spot", fixed_on_spot_starts_submitted},
        {"major_hazard", major_hazard_needs_an_independent_verifier},
        {"major_hazard_by_person", major_hazard_verifier_is_another_person},
        {"look_back", look_back_reopens_and_counts},
        {"safety_first", safety_first_beats_a_concurrent_closure},
        {"field_conflicts", concurrent_field_edits_conflict_until_resolved},
        {"user_access_role", user_access_and_role},
        {"user_concurrent_acts", concurrent_user_acts},
        {"inspection", inspection_draft_submit_amend},
        {"late_results", late_item_results_are_not_covered_by_the_submission},
        {"voids", voids_remove_facts_and_freeze_the_entity},
        {"structure", structural_refusals},
        {"state_codec", state_codec_and_replica_hash},
        {"evidence_pending", evidence_pending_follows_the_blob_store},
        {"convergence", random_replicas_converge},
        {"alloc_failure", every_allocation_failure_is_clean},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown, .timeout_s = 900});
    return s;
}

int main(void)
{
    return sct_run(merge_suite());
}
