/*
 * test_sign.c: the inspected unit's sign-off (共同签字确认) in the fold
 * (core/merge_sign.c): a sign-off and a countersign are valid only on a
 * submitted inspection, a sign-off's signature is a photo of the
 * inspection in its past and its time not after the op, a countersign
 * names its inspection and its device's user, once per user, and several
 * sign-offs made on several replicas all end up in the state, in the same
 * order everywhere.
 */
#include <check.h>
#include <string.h>

#include "core/ids.h"
#include "core/merge.h"
#include "core/state.h"
#include "scops.h"
#include "sctest.h"

#define INSPECTION SCPB__ENTITY_TYPE__ENTITY_INSPECTION
#define T0         INT64_C(1797000000000)

static sct_env T;
static const sc_env *ENV;
static uint8_t TARGET[SC_ID_LEN], INSP[SC_ID_LEN];
static uint8_t SIG[SC_HASH_LEN];

/* Devices by number: 1 the inspector's tablet, 2 a second inspector's, 3 the unit's representative.
 */
static uint8_t KEYS[4][SC_KEY_LEN];
static bool KNOWN[4];

static void user_id(int u, uint8_t out[SC_ID_LEN])
{
    memset(out, 0, SC_ID_LEN);
    out[0] = 0xee;
    out[SC_ID_LEN - 1] = (uint8_t)u;
}

static sc_status p_user_of(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN])
{
    for (int i = 1; i < 4; i++)
        if (KNOWN[i] && memcmp(KEYS[i], key, SC_KEY_LEN) == 0) {
            user_id(i, user);
            return SC_OK;
        }
    return SC_ERR_NOT_FOUND;
}

static const sc_users USERS = {.user_of = p_user_of};

static void device(sco_device *d, uint32_t n)
{
    sco_device_init(d, n, T0);
    memcpy(KEYS[n], sc_keypair_public(d->key), SC_KEY_LEN);
    KNOWN[n] = true;
}

static void setup(void)
{
    sct_env_init(&T, 14);
    ENV = &T.env;
    sc_uuid7_new(ENV, TARGET);
    sc_uuid7_new(ENV, INSP);
    sc_sha256("a drawn signature", 17, SIG);
    memset(KNOWN, 0, sizeof KNOWN);
    sco_fold_users = &USERS;
}

static void teardown(void)
{
    sco_fold_users = NULL;
}

static ProtobufCBinaryData bin(const uint8_t *p, size_t len)
{
    return (ProtobufCBinaryData){len, (uint8_t *)(uintptr_t)p};
}

static bool try_op(sco_device *d, sco_set *s, Scpb__Op *op, const char **why)
{
    return sco_try(ENV, d, s, op, INSP, INSPECTION, why);
}

static void open_check(sco_device *d, sco_set *s)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen b;
    sco_open_body(&op, &b, TARGET, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED);
    ck_assert(try_op(d, s, &op, NULL));
}

static void submit(sco_device *d, sco_set *s)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionSubmit b = SCPB__INSPECTION_SUBMIT__INIT;
    op.body_case = SCPB__OP__BODY_INSPECTION_SUBMIT;
    op.inspection_submit = &b;
    ck_assert(try_op(d, s, &op, NULL));
}

static void photo(sco_device *d, sco_set *s, const uint8_t sha[SC_HASH_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__PhotoAttach b = SCPB__PHOTO_ATTACH__INIT;
    b.has_sha256 = b.has_size = true;
    b.sha256 = bin(sha, SC_HASH_LEN);
    b.size = 2048;
    b.mime = "image/png";
    b.caption = "签字";
    op.body_case = SCPB__OP__BODY_PHOTO_ATTACH;
    op.photo_attach = &b;
    ck_assert(try_op(d, s, &op, NULL));
}

static bool sign_off(sco_device *d, sco_set *s, const char *name, int64_t signed_ms,
                     const char **why)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__SignOff b = SCPB__SIGN_OFF__INIT;
    Scpb__Geo g = SCPB__GEO__INIT;
    g.has_lat_e7 = g.has_lon_e7 = true;
    g.lat_e7 = 322049000;
    g.lon_e7 = 1187851000;
    b.name = (char *)(uintptr_t)name;
    b.role = "物业经理";
    b.has_signature = b.has_signed_ms = true;
    b.signature = bin(SIG, SC_HASH_LEN);
    b.signed_ms = signed_ms ? signed_ms : d->now_ms;
    op.body_case = SCPB__OP__BODY_SIGN_OFF;
    op.sign_off = &b;
    op.geo = &g;
    return try_op(d, s, &op, why);
}

static bool countersign(sco_device *d, sco_set *s, int signer, const uint8_t *insp,
                        const char **why)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Countersign b = SCPB__COUNTERSIGN__INIT;
    uint8_t user[SC_ID_LEN];
    user_id(signer, user);
    b.has_inspection = b.has_signer = true;
    b.inspection = bin(insp, SC_ID_LEN);
    b.signer = bin(user, SC_ID_LEN);
    b.note = "情况属实";
    op.body_case = SCPB__OP__BODY_COUNTERSIGN;
    op.countersign = &b;
    return try_op(d, s, &op, why);
}

static Scpb__EntityState *fold_state(const sco_set *s, sc_fold_out *fo)
{
    sco_fold(ENV, s, fo);
    return fo->state;
}

START_TEST(a_sign_off_follows_the_submission_with_its_signature)
{
    sco_device insp;
    device(&insp, 1);
    sco_set s = {0};
    const char *why = NULL;
    open_check(&insp, &s);
    photo(&insp, &s, SIG);
    insp.now_ms += 60000;
    /* A draft is not signed off: it may still change. */
    ck_assert(!sign_off(&insp, &s, "王建国", 0, &why));
    ck_assert_str_eq(why, "the inspection is a draft: its unit signs it off once it is submitted");
    submit(&insp, &s);
    /* The time of the signature is not after the op. */
    ck_assert(!sign_off(&insp, &s, "王建国", insp.now_ms + 3600000, &why));
    ck_assert_str_eq(why, "the signature's time is after the sign-off was made");
    ck_assert(sign_off(&insp, &s, "王建国", 0, &why));

    sc_fold_out fo;
    const Scpb__InspectionState *in = fold_state(&s, &fo)->inspection;
    ck_assert_uint_eq(in->n_sign_offs, 1);
    const Scpb__SignOffEntry *e = in->sign_offs[0];
    ck_assert_str_eq(e->name, "王建国");
    ck_assert_str_eq(e->role, "物业经理");
    ck_assert(!e->countersign);
    ck_assert_mem_eq(e->signature.data, SIG, SC_HASH_LEN);
    ck_assert(e->has_signed_ms && e->signed_ms <= (int64_t)SC_HLC_MS(e->hlc));
    ck_assert_ptr_nonnull(e->geo);
    ck_assert_int_eq(e->geo->lat_e7, 322049000);
    ck_assert_mem_eq(e->by.data, KEYS[1], SC_KEY_LEN);
    ck_assert_mem_eq(e->op.data, s.v[s.n - 1]->id, SC_HASH_LEN);
    sc_fold_out_dispose(ENV, &fo);
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
}
END_TEST

START_TEST(the_signature_is_a_photo_of_the_inspection_in_its_past)
{
    sco_device insp;
    device(&insp, 1);
    sco_set s = {0};
    const char *why = NULL;
    open_check(&insp, &s);
    uint8_t other[SC_HASH_LEN];
    sc_sha256("another photo", 13, other);
    photo(&insp, &s, other);
    submit(&insp, &s);
    ck_assert(!sign_off(&insp, &s, "王建国", 0, &why));
    ck_assert_str_eq(why, "the drawn signature is not a photo attached to the inspection before "
                          "the sign-off");
    /* Attached after the submission is fine: the representative signs at the end. */
    photo(&insp, &s, SIG);
    ck_assert(sign_off(&insp, &s, "王建国", 0, &why));
    sco_set_dispose(ENV, &s);
    sco_device_dispose(&insp);
}
END_TEST

START_TEST(several_sign_offs_are_all_kept_in_fold_order)
{
    sco_device a, b;
    device(&a, 1);
    device(&b, 2);
    sco_set sa = {0}, sb = {0};
    const char *why = NULL;
    open_check(&a, &sa);
    photo(&a, &sa, SIG);
    submit(&a, &sa);
    sco_set_merge(ENV, &sb, &sa, &b);
    /* Two tablets, offline, each takes a party's signature (a joint check). */
    ck_assert(sign_off(&a, &sa, "王建国", 0, &why));
    ck_assert(sign_off(&b, &sb, "李秀英", 0, &why));
    sco_set ab = {0}, ba = {0};
    sco_set_merge(ENV, &ab, &sa, NULL);
    sco_set_merge(ENV, &ab, &sb, NULL);
    sco_set_merge(ENV, &ba, &sb, NULL);
    sco_set_merge(ENV, &ba, &sa, NULL);
    uint8_t h1[SC_HASH_LEN], h2[SC_HASH_LEN];
    sco_hash(ENV, &ab, h1);
    sco_hash(ENV, &ba, h2);
    ck_assert_mem_eq(h1, h2, SC_HASH_LEN);
    sc_fold_out fo;
    const Scpb__InspectionState *in = fold_state(&ab, &fo)->inspection;
    ck_assert_uint_eq(in->n_sign_offs, 2);
    ck_assert_uint_lt(in->sign_offs[0]->hlc, in->sign_offs[1]->hlc + 1);
    ck_assert_str_ne(in->sign_offs[0]->name, in->sign_offs[1]->name);
    sc_fold_out_dispose(ENV, &fo);
    /* Up to SC_SIGN_OFFS_MAX in an op's past. */
    for (int k = 2; k < SC_SIGN_OFFS_MAX; k++)
        ck_assert(sign_off(&a, &ab, "代表", 0, &why));
    ck_assert(!sign_off(&a, &ab, "代表", 0, &why));
    ck_assert_str_eq(why, "an inspection takes at most 16 sign-offs and countersigns "
                          "(SC_SIGN_OFFS_MAX)");
    sco_set_dispose(ENV, &sa);
    sco_set_dispose(ENV, &sb);
    sco_set_dispose(ENV, &ab);
    sco_set_dispose(ENV, &ba);
    sco_device_dispose(&a);
    sco_device_dispose(&b);
}
END_TEST

START_TEST(a_countersign_is_its_signers_own_once)
{
    sco_device insp, rep;
    device(&insp, 1);
    device(&rep, 3);
    sco_set s = {0};
    const char *why = NULL;
    open_check(&insp, &s);
    sco_set r = {0};
    sco_set_merge(ENV, &r, &s, &rep);
    ck_assert(!countersign(&rep, &r, 3, INSP, &why));
    ck_assert_str_eq(why, "the inspection is a draft: its unit signs it off once it is submitted");
    submit(&insp, &s);
    sco_set_merge(ENV, &r, &s, &rep);
    uint8_t other[SC_ID_LEN];
    sc_uuid7_new(ENV, other);
    ck_assert(!countersign(&rep, &r, 3, other, &why));
    ck_assert_str_eq(why, "a countersign names the inspection it is made on");
    /* In another's name: the device speaks for user 3, not 1. */
    ck_assert(!countersign(&rep, &r, 1, INSP, &why));
    ck_assert_str_eq(why, "the countersign's signer is not the user its device is enrolled for");
    ck_assert(countersign(&rep, &r, 3, INSP, &why));
    ck_assert(!countersign(&rep, &r, 3, INSP, &why));
    ck_assert_str_eq(why, "this user has already countersigned the inspection");

    sc_fold_out fo;
    const Scpb__InspectionState *in = fold_state(&r, &fo)->inspection;
    ck_assert_uint_eq(in->n_sign_offs, 1);
    ck_assert(in->sign_offs[0]->countersign);
    uint8_t u3[SC_ID_LEN];
    user_id(3, u3);
    ck_assert_mem_eq(in->sign_offs[0]->signer.data, u3, SC_ID_LEN);
    ck_assert_str_eq(in->sign_offs[0]->note, "情况属实");
    ck_assert_ptr_null(in->sign_offs[0]->name);
    sc_fold_out_dispose(ENV, &fo);

    /* A replica that has not pulled the enrollment cannot tell: it lets it through. */
    KNOWN[3] = false;
    sco_set_dispose(ENV, &r);
    r = (sco_set){0};
    sco_set_merge(ENV, &r, &s, &rep);
    ck_assert(countersign(&rep, &r, 2, INSP, &why));
    sco_set_dispose(ENV, &s);
    sco_set_dispose(ENV, &r);
    sco_device_dispose(&insp);
    sco_device_dispose(&rep);
}
END_TEST

static Suite *sign_suite(void)
{
    Suite *s = suite_create("sign");
    const sct_case cases[] = {
        {"sign_off", a_sign_off_follows_the_submission_with_its_signature},
        {"signature", the_signature_is_a_photo_of_the_inspection_in_its_past},
        {"several", several_sign_offs_are_all_kept_in_fold_order},
        {"countersign", a_countersign_is_its_signers_own_once},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown});
    return s;
}

int main(void)
{
    return sct_run(sign_suite());
}
