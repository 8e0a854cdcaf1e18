/*
 * test_sign.c: what the register judges of the inspected unit's sign-off
 * (syncd/register/register_sign.c, and the fold's rules, core/merge_sign.c,
 * as syncd applies them with the whole register).  Ops are made by hand, as
 * a client that skips its own checks would send them:
 *  - a countersign of an unannounced check the unit may not see yet (a
 *    draft) is answered exactly as one of an id the register does not have;
 *  - a sign-off of a draft, or without its signature photo in its past, is
 *    refused; a countersign in another user's name, or naming another
 *    inspection, is refused; a user countersigns once; an inspector does
 *    not countersign; a self-check is signed off by nobody;
 * every refusal names its reason and leaves the log as it was, and `syncd
 * audit` replays the accepted ones to the same states.
 */
#include "regfix.h"

#include <errno.h>

#include "blobs/blobs.h"
#include "cmd/audit.h"
#include "core/reason.h"

#define K_INSPECTION SCPB__ENTITY_TYPE__ENTITY_INSPECTION

/* The latest HLC any device here made: each device has seen what it builds on. */
static uint64_t LAST_HLC;

static rf_dev *see(rf_dev *d)
{
    sc_hlc_observe(&d->clock, LAST_HLC);
    return d;
}

/* An op of inspection id with the given body, depending on dep (the head). */
static sc_op *iop(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t dep[SC_HASH_LEN],
                  Scpb__Op *op)
{
    ProtobufCBinaryData depv[1];
    op->has_entity = op->has_entity_type = true;
    op->entity = rf_bin(id, SC_ID_LEN);
    op->entity_type = K_INSPECTION;
    rf_head(op, depv, dep);
    return rf_seal(f, see(d), op);
}

/* Push o; when accepted, its id is the entity's new head. */
static sd_result push(rf *f, rf_dev *d, sc_op *o, uint8_t head[SC_HASH_LEN])
{
    uint8_t id[SC_HASH_LEN];
    memcpy(id, o->id, SC_HASH_LEN);
    if (o->op->hlc > LAST_HLC)
        LAST_HLC = o->op->hlc;
    sd_result r = rf_push1(f, d, o);
    if (r.status == SCPB__OP_STATUS__OP_ACCEPTED)
        memcpy(head, id, SC_HASH_LEN);
    return r;
}

static sc_op *photo_op(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t *dep,
                       const uint8_t sha[SC_HASH_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__PhotoAttach b = SCPB__PHOTO_ATTACH__INIT;
    b.has_sha256 = b.has_size = true;
    b.sha256 = rf_bin(sha, SC_HASH_LEN);
    b.size = 19; /* the photos' bytes here: put_photo */
    b.mime = (char *)"image/png";
    b.caption = (char *)"签字";
    op.body_case = SCPB__OP__BODY_PHOTO_ATTACH;
    op.photo_attach = &b;
    return iop(f, d, id, dep, &op);
}

/* A photo of 19 bytes (text) as an upload would leave it in DATA/blobs; its hash into sha. */
static void put_photo(rf *f, const char *text, uint8_t sha[SC_HASH_LEN])
{
    ck_assert_uint_eq(strlen(text), 19);
    sc_sha256(text, 19, sha);
    char name[SC_HASH_HEX], root[400], path[600], dir[600];
    ck_assert_int_eq(sc_hex_encode(sha, SC_HASH_LEN, name, sizeof name), SC_OK);
    snprintf(root, sizeof root, "%s/blobs", f->data);
    ck_assert(sd_blob_path_at(root, name, path, sizeof path));
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    ck_assert_msg(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s", dir);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(text, 1, 19, fp), 19);
    ck_assert_int_eq(fclose(fp), 0);
}

static sc_op *sign_off_op(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t *dep,
                          const uint8_t sha[SC_HASH_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__SignOff b = SCPB__SIGN_OFF__INIT;
    b.name = (char *)"王建国";
    b.role = (char *)"物业经理";
    b.has_signature = b.has_signed_ms = true;
    b.signature = rf_bin(sha, SC_HASH_LEN);
    b.signed_ms = f->te.now_ms - 2000;
    op.body_case = SCPB__OP__BODY_SIGN_OFF;
    op.sign_off = &b;
    return iop(f, d, id, dep, &op);
}

static sc_op *countersign_op(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t *dep,
                             const uint8_t named[SC_ID_LEN], const uint8_t signer[SC_ID_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Countersign b = SCPB__COUNTERSIGN__INIT;
    b.has_inspection = b.has_signer = true;
    b.inspection = rf_bin(named, SC_ID_LEN);
    b.signer = rf_bin(signer, SC_ID_LEN);
    op.body_case = SCPB__OP__BODY_COUNTERSIGN;
    op.countersign = &b;
    return iop(f, d, id, dep, &op);
}

static void expect_message(sd_result r, const char *part)
{
    ck_assert_msg(strstr(r.message, part), "message \"%s\" lacks \"%s\"", r.message, part);
}

/* The register's whole answer to an op, with the entity's hex id in it replaced by "ID". */
static void answer_of(sd_result r, const uint8_t id[SC_ID_LEN], char *out, size_t cap)
{
    char hex[SC_ID_HEX];
    ck_assert_int_eq(sc_hex_encode(id, SC_ID_LEN, hex, sizeof hex), SC_OK);
    const char *at = strstr(r.message, hex);
    ck_assert_ptr_nonnull(at);
    snprintf(out, cap, "%d/%d %.*sID%s", (int)r.status, r.reason, (int)(at - r.message), r.message,
             at + strlen(hex));
}

START_TEST(sign_offs_and_countersigns_are_judged)
{
    world w;
    LAST_HLC = 0;
    world_open(&w);
    rf *f = &w.f;
    uint8_t chk[SC_ID_LEN], head[SC_HASH_LEN], sig[SC_HASH_LEN], other[SC_HASH_LEN];
    put_photo(f, "the drawn signature", sig);
    put_photo(f, "the compound's gate", other);
    /* An unannounced check (暗访) of the unit's compound, a draft with a photo. */
    rf_accepted(push(f, &w.insp,
                     rf_insp_open(f, see(&w.insp), chk, w.ta, NULL, NULL,
                                  SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED),
                     head));
    rf_accepted(push(f, &w.insp, photo_op(f, &w.insp, chk, head, other), head));
    uint64_t before = rf_log_size(f);

    /* The unit may not see it yet: answered as an id the register does not have. */
    sd_result hidden = push(f, &w.resp, countersign_op(f, &w.resp, chk, head, chk, w.u_resp), head);
    rf_rejected(hidden, SC_REASON_UNKNOWN_ENTITY);
    uint8_t nowhere[SC_ID_LEN];
    rf_id(f, nowhere);
    sd_result absent =
        push(f, &w.resp, countersign_op(f, &w.resp, nowhere, head, nowhere, w.u_resp), head);
    char a1[512], a2[512];
    answer_of(hidden, chk, a1, sizeof a1);
    answer_of(absent, nowhere, a2, sizeof a2);
    ck_assert_str_eq(a1, a2);
    /* The inspector's tablet: not on a draft. */
    sd_result r = push(f, &w.insp, sign_off_op(f, &w.insp, chk, head, sig), head);
    rf_rejected(r, SC_REASON_INVALID_TRANSITION);
    expect_message(r, "the inspection is a draft: its unit signs it off once it is submitted");
    ck_assert_uint_eq(rf_log_size(f), before);

    /* Submitted: the signature must be a photo of the check in the sign-off's past. */
    rf_accepted(push(f, &w.insp, rf_submit(f, see(&w.insp), chk, head), head));
    before = rf_log_size(f);
    r = push(f, &w.insp, sign_off_op(f, &w.insp, chk, head, sig), head);
    rf_rejected(r, SC_REASON_INVALID_TRANSITION);
    expect_message(r, "the drawn signature is not a photo attached to the inspection");
    ck_assert_uint_eq(rf_log_size(f), before);
    rf_accepted(push(f, &w.insp, photo_op(f, &w.insp, chk, head, sig), head));
    rf_accepted(push(f, &w.insp, sign_off_op(f, &w.insp, chk, head, sig), head));

    /* The unit's representative, on their own device: only in their own name, for this check. */
    before = rf_log_size(f);
    r = push(f, &w.resp, countersign_op(f, &w.resp, chk, head, chk, w.u_insp), head);
    rf_rejected(r, SC_REASON_AUTHOR_MISMATCH);
    expect_message(r, "a representative countersigns with their own device");
    r = push(f, &w.resp, countersign_op(f, &w.resp, chk, head, nowhere, w.u_resp), head);
    rf_rejected(r, SC_REASON_BAD_FIELD);
    expect_message(r, "a countersign names the inspection it is made on");
    r = push(f, &w.insp, countersign_op(f, &w.insp, chk, head, chk, w.u_insp), head);
    rf_rejected(r, SC_REASON_FORBIDDEN_ROLE);
    ck_assert_uint_eq(rf_log_size(f), before);
    rf_accepted(push(f, &w.resp, countersign_op(f, &w.resp, chk, head, chk, w.u_resp), head));
    before = rf_log_size(f);
    r = push(f, &w.resp, countersign_op(f, &w.resp, chk, head, chk, w.u_resp), head);
    rf_rejected(r, SC_REASON_INVALID_TRANSITION);
    expect_message(r, "this user has already countersigned the inspection");
    ck_assert_uint_eq(rf_log_size(f), before);

    /* The state the register keeps: the sign-off, then the countersign. */
    Scpb__EntityState *st = NULL;
    sc_err err;
    sc_err_clear(&err);
    ck_assert_msg(sd_register_state(f->r, chk, &st, &err) == SC_OK, "%s", err.msg);
    ck_assert_uint_eq(st->inspection->n_sign_offs, 2);
    ck_assert(!st->inspection->sign_offs[0]->countersign);
    ck_assert_mem_eq(st->inspection->sign_offs[0]->signature.data, sig, SC_HASH_LEN);
    ck_assert(st->inspection->sign_offs[1]->countersign);
    ck_assert_mem_eq(st->inspection->sign_offs[1]->signer.data, w.u_resp, SC_ID_LEN);
    sd_state_free(st);

    sd_audit_report rep;
    sc_err_clear(&err);
    sd_register_close(f->r);
    f->r = NULL;
    ck_assert_msg(sd_audit_run(f->data, NULL, &rep, &err) == SC_OK, "%s / %s", rep.problem,
                  err.msg);
    rf_reopen(f);
    world_close(&w);
}
END_TEST

/* A self-check (自查) of target by the unit: nobody else's record, nothing to sign off. */
START_TEST(a_self_check_is_signed_off_by_nobody)
{
    world w;
    LAST_HLC = 0;
    world_open(&w);
    rf *f = &w.f;
    uint8_t chk[SC_ID_LEN], head[SC_HASH_LEN], sig[SC_HASH_LEN];
    put_photo(f, "the drawn signature", sig);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen b = SCPB__INSPECTION_OPEN__INIT;
    rf_id(f, chk);
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &b;
    b.has_target = b.has_kind = b.has_disclosure = true;
    b.target = rf_bin(w.ta, SC_ID_LEN);
    b.kind = SCPB__INSPECTION_KIND__KIND_SELF;
    b.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
    b.has_self_check = b.self_check = true;
    rf_accepted(push(f, &w.resp, iop(f, &w.resp, chk, NULL, &op), head));
    rf_accepted(push(f, &w.resp, photo_op(f, &w.resp, chk, head, sig), head));
    rf_accepted(push(f, &w.resp, rf_submit(f, see(&w.resp), chk, head), head));
    /* Nobody else photographs it either (the unit's photo is in the inspection's past, so an
     * inspector's sign-off with it is refused for whose record it is). */
    sd_result r = push(f, &w.insp, photo_op(f, &w.insp, chk, head, sig), head);
    rf_rejected(r, SC_REASON_FORBIDDEN_ROLE);
    uint64_t before = rf_log_size(f);
    r = push(f, &w.resp, countersign_op(f, &w.resp, chk, head, chk, w.u_resp), head);
    rf_rejected(r, SC_REASON_FORBIDDEN_ROLE);
    expect_message(r, "there is no one else's inspection to countersign");
    r = push(f, &w.insp, sign_off_op(f, &w.insp, chk, head, sig), head);
    rf_rejected(r, SC_REASON_FORBIDDEN_ROLE);
    expect_message(r, "a self-check (自查) is the responsible unit's own");
    ck_assert_uint_eq(rf_log_size(f), before);
    world_close(&w);
}
END_TEST

static Suite *sign_suite(void)
{
    Suite *s = suite_create("syncd/sign");
    const sct_case cases[] = {
        {"judged", sign_offs_and_countersigns_are_judged},
        {"self_check", a_self_check_is_signed_off_by_nobody},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(sign_suite());
}
