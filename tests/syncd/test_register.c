/*
 * test_register.c: the register (syncd/register/register*.c) against a real SQLite
 * database in a temp directory: init and key-file rules, every register-side
 * rejection reason of docs/protocol.md §5, cross-district checks (scope
 * waived for those named on the assignment), duplicates, in-batch chains
 * and cascades, checkpoints and proofs, storage failure, enrollment.
 */
#include "regfix.h"

#include <sqlite3.h>

#include "cmd/audit.h"
#include "core/checkpoint.h"
#include "core/merkle.h"

/* ---- init and the key file ---- */

START_TEST(init_refuses_existing_dir)
{
    char tmp[256];
    sct_tempdir(tmp, sizeof tmp);
    sc_err err;
    /* An empty existing directory is fine. */
    ck_assert_int_eq(sd_register_init(tmp, NULL, &err), SC_OK);
    /* Now it holds a register: refused, and nothing is touched. */
    struct stat before, after;
    char db[300];
    snprintf(db, sizeof db, "%s/register.db", tmp);
    ck_assert_int_eq(stat(db, &before), 0);
    ck_assert_int_eq(sd_register_init(tmp, NULL, &err), SC_ERR_EXISTS);
    ck_assert_ptr_nonnull(strstr(err.msg, "not empty"));
    ck_assert_int_eq(stat(db, &after), 0);
    ck_assert_int_eq(before.st_size, after.st_size);
    /* The key is 0600 and the blob dir exists. */
    char key[300], blobs[300];
    snprintf(key, sizeof key, "%s/server.key", tmp);
    snprintf(blobs, sizeof blobs, "%s/blobs", tmp);
    struct stat ks, bs;
    ck_assert_int_eq(stat(key, &ks), 0);
    ck_assert_int_eq(ks.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(blobs, &bs), 0);
    ck_assert(S_ISDIR(bs.st_mode));
    /* A bad origin is refused before anything is made. */
    char other[320];
    snprintf(other, sizeof other, "%s/other", tmp);
    ck_assert_int_eq(sd_register_init(other, "has space", &err), SC_ERR_INVALID_ARG);
    ck_assert_int_ne(access(other, F_OK), 0);
    sct_rmtree(tmp);
}
END_TEST

START_TEST(key_file_readable_by_others_refused)
{
    rf f;
    rf_open(&f);
    sd_register_close(f.r);
    f.r = NULL;
    char key[400];
    snprintf(key, sizeof key, "%s/server.key", f.data);
    ck_assert_int_eq(chmod(key, 0640), 0);
    sc_err err;
    sd_register *r = NULL;
    ck_assert_int_eq(sd_register_open(&f.cfg, &r, &err), SC_ERR_FORBIDDEN);
    ck_assert_ptr_null(r);
    char want[500];
    snprintf(want, sizeof want, "server key file %s is readable by others: chmod 600 it", key);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(chmod(key, 0600), 0);
    rf_reopen(&f);
    rf_close(&f);
}
END_TEST

/* ---- rejections, in the order of §5 ---- */

START_TEST(rejects_author_mismatch_unknown_and_revoked_device)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t id[SC_ID_LEN];
    /* An op signed by the supervisor's device, pushed on the inspector's request. */
    sd_result r = rf_push1(f, &w.insp, rf_insp_open(f, &w.sup, id, w.ta, NULL, NULL,
                                                    SCPB__DISCLOSURE__DISCLOSURE_OPEN));
    rf_rejected(r, SCPB__REASON__REASON_AUTHOR_MISMATCH);

    /* A key that was never enrolled. */
    rf_dev ghost;
    memset(&ghost, 0, sizeof ghost);
    ghost.kp = sct_key(99);
    memcpy(ghost.p.device, sc_keypair_public(ghost.kp), SC_KEY_LEN);
    ghost.clock = sc_hlc_make(f->te.now_ms - 1000, 0);
    r = rf_push1(f, &ghost, rf_insp_open(f, &ghost, id, w.ta, NULL, NULL,
                                         SCPB__DISCLOSURE__DISCLOSURE_OPEN));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_DEVICE);
    rf_dev_free(&ghost);

    /* Revoked by the admin: refused at once, earlier ops stay. */
    sc_op *open = rf_insp_open(f, &w.insp_b, id, w.tb, NULL, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    uint8_t head[SC_HASH_LEN];
    memcpy(head, open->id, SC_HASH_LEN);
    r = rf_push1(f, &w.insp_b, open);
    rf_accepted(r);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__DeviceRevoke rv = SCPB__DEVICE_REVOKE__INIT;
    op.has_entity = true;
    op.entity = rf_bin(w.insp_b.p.device_id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_DEVICE;
    op.body_case = SCPB__OP__BODY_DEVICE_REVOKE;
    op.device_revoke = &rv;
    rv.reason = (char *)"平板丢失";
    rf_admin_ok(f, &op);
    r = rf_push1(f, &w.insp_b, rf_note(f, &w.insp_b, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                                       head, "x"));
    rf_rejected(r, SCPB__REASON__REASON_DEVICE_REVOKED);
    sd_principal p;
    sc_err err;
    ck_assert_int_eq(sd_register_principal(f->r, sc_keypair_public(w.insp_b.kp), &p, &err), SC_OK);
    ck_assert(p.revoked);
    world_close(&w);
}
END_TEST

START_TEST(rejects_clock_ahead)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t id[SC_ID_LEN];
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen b = SCPB__INSPECTION_OPEN__INIT;
    rf_id(f, id);
    op.has_entity = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &b;
    b.has_target = true;
    b.target = rf_bin(w.ta, SC_ID_LEN);
    b.has_kind = true;
    b.kind = SCPB__INSPECTION_KIND__KIND_DAILY;
    b.has_disclosure = true;
    b.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
    op.has_hlc = true;
    op.hlc = sc_hlc_make(f->te.now_ms + 6 * 60 * 1000, 0); /* 6 minutes ahead, 5 allowed */
    sd_result r = rf_push1(f, &w.insp, rf_seal(f, &w.insp, &op));
    rf_rejected(r, SCPB__REASON__REASON_CLOCK_AHEAD);
    ck_assert_ptr_nonnull(strstr(r.message, "device clock is ahead"));
    /* Four minutes ahead is within the skew. */
    op.hlc = sc_hlc_make(f->te.now_ms + 4 * 60 * 1000, 0);
    r = rf_push1(f, &w.insp, rf_seal(f, &w.insp, &op));
    rf_accepted(r);
    world_close(&w);
}
END_TEST

START_TEST(rejects_wrong_type_role_unknown_and_existing_entity)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t insp[SC_ID_LEN], fid[SC_ID_LEN];
    sc_op *open = rf_insp_open(f, &w.insp, insp, w.ta, NULL, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    uint8_t open_id[SC_HASH_LEN];
    memcpy(open_id, open->id, SC_HASH_LEN);
    rf_accepted(rf_push1(f, &w.insp, open));

    /* wrong_entity_type: a note addressed as a finding to an inspection. */
    sd_result r = rf_push1(f, &w.insp,
                           rf_note(f, &w.insp, insp, SCPB__ENTITY_TYPE__ENTITY_FINDING, open_id, "x"));
    rf_rejected(r, SCPB__REASON__REASON_WRONG_ENTITY_TYPE);

    /* forbidden_role: a responsible contact may not open inspections; an auditor writes nothing. */
    uint8_t other[SC_ID_LEN];
    r = rf_push1(f, &w.resp, rf_insp_open(f, &w.resp, other, w.ta, NULL, NULL,
                                          SCPB__DISCLOSURE__DISCLOSURE_OPEN));
    rf_rejected(r, SCPB__REASON__REASON_FORBIDDEN_ROLE);
    r = rf_push1(f, &w.aud, rf_finding(f, &w.aud, fid, w.ta, NULL, "楼道堆物、飞线充电",
                                       SCPB__GRADE__GRADE_GENERAL));
    rf_rejected(r, SCPB__REASON__REASON_FORBIDDEN_ROLE);

    /* unknown_entity: a note on an inspection nobody opened. */
    uint8_t nobody[SC_ID_LEN];
    rf_id(f, nobody);
    r = rf_push1(f, &w.insp,
                 rf_note(f, &w.insp, nobody, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, open_id, "x"));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_ENTITY);

    /* entity_exists: a second, different create op for the same id. */
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen b = SCPB__INSPECTION_OPEN__INIT;
    op.has_entity = true;
    op.entity = rf_bin(insp, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &b;
    b.has_target = true;
    b.target = rf_bin(w.ta, SC_ID_LEN);
    b.has_kind = true;
    b.kind = SCPB__INSPECTION_KIND__KIND_PATROL;
    b.has_disclosure = true;
    b.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
    r = rf_push1(f, &w.insp, rf_seal(f, &w.insp, &op));
    rf_rejected(r, SCPB__REASON__REASON_ENTITY_EXISTS);
    world_close(&w);
}
END_TEST

START_TEST(rejects_hidden_and_out_of_scope)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t insp[SC_ID_LEN], fid[SC_ID_LEN], other[SC_ID_LEN];
    /* out_of_scope: an inspector of district A opens an inspection in district B. */
    sd_result r = rf_push1(f, &w.insp, rf_insp_open(f, &w.insp, other, w.tb, NULL, NULL,
                                                    SCPB__DISCLOSURE__DISCLOSURE_OPEN));
    rf_rejected(r, SCPB__REASON__REASON_OUT_OF_SCOPE);

    sc_op *open = rf_insp_open(f, &w.insp, insp, w.ta, NULL, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    rf_accepted(rf_push1(f, &w.insp, open));
    sc_op *fc = rf_finding(f, &w.insp, fid, w.ta, insp, "小区消防通道被车辆占用",
                           SCPB__GRADE__GRADE_GENERAL);
    uint8_t fhead[SC_HASH_LEN];
    memcpy(fhead, fc->id, SC_HASH_LEN);
    rf_accepted(rf_push1(f, &w.insp, fc));
    /* Hidden: the inspected unit cannot touch a finding of an unsubmitted inspection, and is
     * told what a random id would get (unknown_entity), not that the finding exists. */
    r = rf_push1(f, &w.resp,
                 rf_report(f, &w.resp, fid, fhead));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_ENTITY);
    /* ... nor can an inspector of another district. */
    r = rf_push1(f, &w.insp_b,
                 rf_note(f, &w.insp_b, fid, SCPB__ENTITY_TYPE__ENTITY_FINDING, fhead, "看不到"));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_ENTITY);
    world_close(&w);
}
END_TEST

/* Push o, which must be accepted, and keep its id: the entity's head for the next op. */
static void push_head(rf *f, rf_dev *d, sc_op *o, uint8_t head[SC_HASH_LEN])
{
    memcpy(head, o->id, SC_HASH_LEN);
    rf_accepted(rf_push1(f, d, o));
}

/*
 * 交叉互检 (DOMAIN.md §1): district A's inspector is named on an assignment
 * for TB in district B.  They may open an inspection of it and work on it
 * and its findings; an unnamed inspector of district A may not, and
 * nothing else in district B opens up.
 */
START_TEST(cross_district_check_for_the_named_inspector_only)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t u2[SC_ID_LEN], a_tb[SC_ID_LEN], a_ta[SC_ID_LEN];
    rf_user(f, "insp2", SCPB__ROLE__ROLE_INSPECTOR, w.da, u2);
    rf_dev insp2;
    rf_enroll(f, "insp2", 6, &insp2);
    const uint8_t *named[1] = {w.u_insp};
    rf_assign(f, w.tb, named, 1, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED, a_tb);
    rf_assign(f, w.ta, named, 1, SCPB__DISCLOSURE__DISCLOSURE_OPEN, a_ta);

    /* The named inspector opens the inspection under the assignment, outside their scope. */
    uint8_t insp[SC_ID_LEN], other[SC_ID_LEN], fid[SC_ID_LEN], free_f[SC_ID_LEN];
    uint8_t head[SC_HASH_LEN], fhead[SC_HASH_LEN], bhead[SC_HASH_LEN];
    push_head(
        f, &w.insp,
        rf_insp_open(f, &w.insp, insp, w.tb, NULL, a_tb, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED),
        head);
    /* Another inspector of the same district is not named: refused. */
    sd_result r = rf_push1(
        f, &insp2,
        rf_insp_open(f, &insp2, other, w.tb, NULL, a_tb, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED));
    rf_rejected(r, SCPB__REASON__REASON_OUT_OF_SCOPE);
    ck_assert_ptr_nonnull(strstr(r.message, "does not name you"));
    /* The named one still needs the assignment, and one for this target. */
    r = rf_push1(f, &w.insp,
                 rf_insp_open(f, &w.insp, other, w.tb, NULL, NULL,
                              SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED));
    rf_rejected(r, SCPB__REASON__REASON_OUT_OF_SCOPE);
    r = rf_push1(
        f, &w.insp,
        rf_insp_open(f, &w.insp, other, w.tb, NULL, a_ta, SCPB__DISCLOSURE__DISCLOSURE_OPEN));
    rf_rejected(r, SCPB__REASON__REASON_OUT_OF_SCOPE);

    /* Working on the inspection and its findings: item results, a finding, a note, the submit. */
    push_head(f, &w.insp,
              rf_item(f, &w.insp, insp, head, "org", SCPB__ITEM_STATUS__ITEM_NOT_MET, 0), head);
    push_head(f, &w.insp,
              rf_finding(f, &w.insp, fid, w.tb, insp, "乡镇卡口未落实逢车必查",
                         SCPB__GRADE__GRADE_GENERAL),
              fhead);
    push_head(f, &w.insp,
              rf_note(f, &w.insp, fid, SCPB__ENTITY_TYPE__ENTITY_FINDING, fhead, "交叉互检发现"),
              fhead);
    /* The unnamed inspector can neither see nor add to it: to them it does not exist. */
    r = rf_push1(f, &insp2,
                 rf_note(f, &insp2, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, head, "看不到"));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_ENTITY);
    r = rf_push1(f, &insp2,
                 rf_note(f, &insp2, fid, SCPB__ENTITY_TYPE__ENTITY_FINDING, fhead, "看不到"));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_ENTITY);
    r = rf_push1(f, &insp2,
                 rf_finding(f, &insp2, other, w.tb, insp, "代查", SCPB__GRADE__GRADE_GENERAL));
    rf_rejected(r, SCPB__REASON__REASON_OUT_OF_SCOPE);
    rf_accepted(rf_push1(f, &w.insp, rf_submit(f, &w.insp, insp, head)));

    /* Nothing else of district B opens up: a free finding on TB, or B's own inspection. */
    r = rf_push1(
        f, &w.insp,
        rf_finding(f, &w.insp, free_f, w.tb, NULL, "群众投诉", SCPB__GRADE__GRADE_GENERAL));
    rf_rejected(r, SCPB__REASON__REASON_OUT_OF_SCOPE);
    uint8_t binsp[SC_ID_LEN];
    push_head(
        f, &w.insp_b,
        rf_insp_open(f, &w.insp_b, binsp, w.tb, NULL, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN),
        bhead);
    r = rf_push1(
        f, &w.insp,
        rf_note(f, &w.insp, binsp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, bhead, "不该看到"));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_ENTITY);
    r = rf_push1(f, &w.insp,
                 rf_finding(f, &w.insp, other, w.tb, binsp, "不该记", SCPB__GRADE__GRADE_GENERAL));
    rf_rejected(r, SCPB__REASON__REASON_OUT_OF_SCOPE);

    /* The log stays auditable: scope is not part of the audit, the role table is. */
    sd_audit_report rep;
    sc_err err;
    ck_assert_msg(sd_audit_run(f->data, NULL, &rep, &err) == SC_OK, "%s %s", rep.problem, err.msg);
    rf_dev_free(&insp2);
    world_close(&w);
}
END_TEST

START_TEST(rejects_unknown_reference_and_duplicate_code)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t ghost[SC_ID_LEN], insp[SC_ID_LEN], fid[SC_ID_LEN];
    rf_id(f, ghost);
    /* An unknown target. */
    sd_result r = rf_push1(f, &w.insp, rf_insp_open(f, &w.insp, insp, ghost, NULL, NULL,
                                                    SCPB__DISCLOSURE__DISCLOSURE_OPEN));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_REFERENCE);
    /* An unknown score sheet. */
    r = rf_push1(f, &w.insp, rf_insp_open(f, &w.insp, insp, w.ta, ghost, NULL,
                                          SCPB__DISCLOSURE__DISCLOSURE_OPEN));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_REFERENCE);
    /* A finding naming an inspection that does not exist. */
    r = rf_push1(f, &w.insp, rf_finding(f, &w.insp, fid, w.ta, ghost, "燃气管道老化未按期检验",
                                        SCPB__GRADE__GRADE_MAJOR));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_REFERENCE);

    /* Duplicate codes and logins, through the admin path. */
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__OrgCreate b = SCPB__ORG_CREATE__INIT;
    uint8_t id[SC_ID_LEN];
    rf_id(f, id);
    op.has_entity = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT;
    op.body_case = SCPB__OP__BODY_ORG_CREATE;
    op.org_create = &b;
    b.code = (char *)"district-a";
    b.name = (char *)"again";
    b.has_level = true;
    b.level = SCPB__ORG_LEVEL__LEVEL_COUNTY;
    sc_err err;
    ck_assert_int_eq(rf_admin(f, &op, &err), SC_ERR_REJECTED);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_DUPLICATE_CODE);
    ck_assert_ptr_nonnull(strstr(err.msg, "district-a"));

    Scpb__Op uop = SCPB__OP__INIT;
    Scpb__UserCreate u = SCPB__USER_CREATE__INIT;
    rf_id(f, id);
    uop.has_entity = true;
    uop.entity = rf_bin(id, SC_ID_LEN);
    uop.has_entity_type = true;
    uop.entity_type = SCPB__ENTITY_TYPE__ENTITY_USER;
    uop.body_case = SCPB__OP__BODY_USER_CREATE;
    uop.user_create = &u;
    u.login = (char *)"insp";
    u.has_role = true;
    u.role = SCPB__ROLE__ROLE_INSPECTOR;
    u.has_org = true;
    u.org = rf_bin(w.da, SC_ID_LEN);
    ck_assert_int_eq(rf_admin(f, &uop, &err), SC_ERR_REJECTED);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_DUPLICATE_CODE);
    /* A parent org unit that does not exist. */
    b.code = (char *)"orphan";
    b.has_parent = true;
    b.parent = rf_bin(ghost, SC_ID_LEN);
    rf_id(f, id);
    ck_assert_int_eq(rf_admin(f, &op, &err), SC_ERR_REJECTED);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_UNKNOWN_REFERENCE);
    world_close(&w);
}
END_TEST

static void publish_sheet(rf *f, uint8_t id[SC_ID_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__TemplatePublish b = SCPB__TEMPLATE_PUBLISH__INIT;
    Scpb__TemplateItem i1 = SCPB__TEMPLATE_ITEM__INIT, i2 = SCPB__TEMPLATE_ITEM__INIT;
    Scpb__TemplateItem *items[2] = {&i1, &i2};
    rf_id(f, id);
    op.has_entity = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_TEMPLATE;
    op.body_case = SCPB__OP__BODY_TEMPLATE_PUBLISH;
    op.template_publish = &b;
    b.code = (char *)"wuyi";
    b.name = (char *)"无疫小区测评表";
    b.has_version = true;
    b.version = 1;
    b.has_pass_mark = true;
    b.pass_mark = 20;
    i1.code = (char *)"org";
    i1.text = (char *)"组织领导";
    i1.has_max_points = true;
    i1.max_points = 5;
    i2.code = (char *)"cases";
    i2.text = (char *)"无确诊病例";
    i2.has_max_points = true;
    i2.max_points = 20;
    i2.has_veto = true;
    i2.veto = true;
    b.n_items = 2;
    b.items = items;
    rf_admin_ok(f, &op);
}

START_TEST(rejects_bad_field_deps_and_full_entity)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t tpl[SC_ID_LEN], insp[SC_ID_LEN];
    publish_sheet(f, tpl);
    sc_op *open = rf_insp_open(f, &w.insp, insp, w.ta, tpl, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    uint8_t head[SC_HASH_LEN];
    memcpy(head, open->id, SC_HASH_LEN);
    uint64_t open_hlc = open->op->hlc;
    rf_accepted(rf_push1(f, &w.insp, open));
    /* bad_field: more points than the item has; unknown_reference: an item not on the sheet. */
    sd_result r = rf_push1(f, &w.insp, rf_item(f, &w.insp, insp, head, "org",
                                               SCPB__ITEM_STATUS__ITEM_MET, 6));
    rf_rejected(r, SCPB__REASON__REASON_BAD_FIELD);
    r = rf_push1(f, &w.insp, rf_item(f, &w.insp, insp, head, "nosuch",
                                     SCPB__ITEM_STATUS__ITEM_MET, 1));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_REFERENCE);
    r = rf_push1(f, &w.insp, rf_item(f, &w.insp, insp, head, "org", SCPB__ITEM_STATUS__ITEM_MET, 5));
    rf_accepted(r);

    /* unknown_dependency: a dep that is no logged op of this entity. */
    uint8_t bogus[SC_HASH_LEN];
    memset(bogus, 0xab, sizeof bogus);
    r = rf_push1(f, &w.insp, rf_note(f, &w.insp, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, bogus,
                                     "x"));
    rf_rejected(r, SCPB__REASON__REASON_UNKNOWN_DEPENDENCY);

    /* hlc_not_after_deps: an HLC equal to its dep's. */
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Note nb = SCPB__NOTE__INIT;
    ProtobufCBinaryData dv[1] = {rf_bin(head, SC_HASH_LEN)};
    op.has_entity = true;
    op.entity = rf_bin(insp, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &nb;
    nb.text = (char *)"时钟回拨";
    op.n_deps = 1;
    op.deps = dv;
    op.has_hlc = true;
    op.hlc = open_hlc;
    r = rf_push1(f, &w.insp, rf_seal(f, &w.insp, &op));
    rf_rejected(r, SCPB__REASON__REASON_HLC_NOT_AFTER_DEPS);

    /* entity_full: pretend the inspection already holds the maximum. */
    sd_register_close(f->r);
    f->r = NULL;
    if (f->pg_url[0]) {
        char hex[2 * SC_ID_LEN + 1], q[160];
        sc_hex_encode(insp, SC_ID_LEN, hex, sizeof hex);
        snprintf(q, sizeof q, "UPDATE entities SET op_count = 4096 WHERE id = '\\x%s'", hex);
        rf_pg_exec(f, q);
    } else {
        char db[400];
        snprintf(db, sizeof db, "%s/register.db", f->data);
        sqlite3 *h;
        ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
        sqlite3_stmt *st;
        ck_assert_int_eq(sqlite3_prepare_v2(h, "UPDATE entities SET op_count = 4096 WHERE id = ?1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_blob(st, 1, insp, SC_ID_LEN, SQLITE_STATIC);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(h);
    }
    rf_reopen(f);
    r = rf_push1(f, &w.insp, rf_note(f, &w.insp, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, head,
                                     "第4097条"));
    rf_rejected(r, SCPB__REASON__REASON_ENTITY_FULL);
    world_close(&w);
}
END_TEST

START_TEST(rejects_invalid_transition_with_fold_message)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t fid[SC_ID_LEN];
    sc_op *fc = rf_finding(f, &w.sup, fid, w.ta, NULL, "燃气管道老化未按期检验",
                           SCPB__GRADE__GRADE_MAJOR);
    uint8_t head[SC_HASH_LEN];
    memcpy(head, fc->id, SC_HASH_LEN);
    rf_accepted(rf_push1(f, &w.sup, fc));
    /* Closing (销号) an open finding: the fold says why not. */
    sd_result r = rf_push1(f, &w.sup, rf_closure(f, &w.sup, fid, head));
    rf_rejected(r, SCPB__REASON__REASON_INVALID_TRANSITION);
    ck_assert_str_eq(r.message, "closing (销号) needs a verified finding");
    world_close(&w);
}
END_TEST

/* ---- duplicates, chains, cascades ---- */

START_TEST(duplicate_push_answers_its_index)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t fid[SC_ID_LEN];
    sc_op *a = rf_finding(f, &w.insp, fid, w.ta, NULL, "电梯、健身器材未张贴使用说明和注意事项",
                          SCPB__GRADE__GRADE_GENERAL);
    sc_op *b = NULL;
    sc_err err;
    ck_assert_int_eq(sc_op_open(&f->te.env, a->signed_bytes, a->signed_len, SC_OP_VERIFY, &b, &err),
                     SC_OK);
    sc_op *c = NULL;
    ck_assert_int_eq(sc_op_open(&f->te.env, a->signed_bytes, a->signed_len, SC_OP_VERIFY, &c, &err),
                     SC_OK);
    sd_result r1 = rf_push1(f, &w.insp, a);
    rf_accepted(r1);
    uint64_t size = rf_log_size(f);
    sd_result r2 = rf_push1(f, &w.insp, b);
    ck_assert_int_eq(r2.status, SCPB__OP_STATUS__OP_DUPLICATE);
    ck_assert_uint_eq(r2.log_index, r1.log_index);
    ck_assert_uint_eq(rf_log_size(f), size);
    /* Twice in one batch: logged once. */
    uint8_t fid2[SC_ID_LEN];
    sc_op *d = rf_finding(f, &w.insp, fid2, w.ta, NULL, "配电箱、水系、护栏处无明显警示标识",
                          SCPB__GRADE__GRADE_GENERAL);
    sc_op *e = NULL;
    ck_assert_int_eq(sc_op_open(&f->te.env, d->signed_bytes, d->signed_len, SC_OP_VERIFY, &e, &err),
                     SC_OK);
    sc_op *ops[2] = {d, e};
    sd_result res[2];
    ck_assert_int_eq(rf_push(f, &w.insp, ops, 2, res), SC_OK);
    rf_accepted(res[0]);
    ck_assert_int_eq(res[1].status, SCPB__OP_STATUS__OP_DUPLICATE);
    ck_assert_uint_eq(res[1].log_index, res[0].log_index);
    sc_op_free(&f->te.env, c);
    world_close(&w);
}
END_TEST

START_TEST(in_batch_dependency_chain_is_accepted)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t insp[SC_ID_LEN], fid[SC_ID_LEN];
    sc_op *ops[5];
    ops[0] = rf_insp_open(f, &w.insp, insp, w.ta, NULL, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    ops[1] = rf_item(f, &w.insp, insp, ops[0]->id, "卫生情况", SCPB__ITEM_STATUS__ITEM_NOT_MET, 4);
    ops[2] = rf_finding(f, &w.insp, fid, w.ta, insp, "垃圾箱外溢、雨停1小时后主干道仍积水",
                        SCPB__GRADE__GRADE_GENERAL);
    ops[3] = rf_note(f, &w.insp, fid, SCPB__ENTITY_TYPE__ENTITY_FINDING, ops[2]->id, "当日整改");
    ops[4] = rf_submit(f, &w.insp, insp, ops[1]->id);
    uint64_t size = rf_log_size(f);
    sd_result res[5];
    ck_assert_int_eq(rf_push(f, &w.insp, ops, 5, res), SC_OK);
    for (int i = 0; i < 5; i++) {
        rf_accepted(res[i]);
        ck_assert_uint_eq(res[i].log_index, size + (uint64_t)i);
    }
    Scpb__EntityState *st = NULL;
    sc_err err;
    ck_assert_int_eq(sd_register_state(f->r, insp, &st, &err), SC_OK);
    ck_assert_int_eq(st->inspection->status, SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED);
    ck_assert_uint_eq(st->op_count, 3);
    sd_state_free(st);
    world_close(&w);
}
END_TEST

START_TEST(rejection_cascades_to_dependents)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t insp[SC_ID_LEN], ok[SC_ID_LEN];
    sc_op *ops[4];
    /* Out of scope, so refused; the item and the submit depend on it. */
    ops[0] = rf_insp_open(f, &w.insp, insp, w.tb, NULL, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    ops[1] = rf_item(f, &w.insp, insp, ops[0]->id, "org", SCPB__ITEM_STATUS__ITEM_MET, 1);
    ops[2] = rf_insp_open(f, &w.insp, ok, w.ta, NULL, NULL, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    ops[3] = rf_submit(f, &w.insp, insp, ops[1]->id);
    sd_result res[4];
    ck_assert_int_eq(rf_push(f, &w.insp, ops, 4, res), SC_OK);
    rf_rejected(res[0], SCPB__REASON__REASON_OUT_OF_SCOPE);
    rf_rejected(res[1], SCPB__REASON__REASON_UNKNOWN_DEPENDENCY);
    rf_accepted(res[2]);
    rf_rejected(res[3], SCPB__REASON__REASON_UNKNOWN_DEPENDENCY);
    ck_assert_str_eq(res[3].message, "depends on an op of this request that was rejected");
    world_close(&w);
}
END_TEST

/* ---- checkpoints and proofs ---- */

static void checkpoint_of(rf *f, sc_checkpoint *cp)
{
    Scpb__Checkpoint *m = NULL;
    sc_err err;
    ck_assert_int_eq(sd_register_checkpoint(f->r, &m, &err), SC_OK);
    ck_assert_int_eq(sc_checkpoint_open(m->note, strlen(m->note), sd_register_server_key(f->r),
                                        sd_register_origin(f->r), cp, &err),
                     SC_OK);
    ck_assert_uint_eq(cp->size, m->size);
    ck_assert_mem_eq(cp->root, m->root.data, SC_HASH_LEN);
    sd_msg_free(m);
}

START_TEST(checkpoints_verify_and_stay_consistent)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    sc_checkpoint a, b;
    checkpoint_of(f, &a);
    ck_assert_uint_eq(a.size, rf_log_size(f));
    uint8_t fid[SC_ID_LEN];
    for (int i = 0; i < 3; i++)
        rf_accepted(rf_push1(f, &w.insp, rf_finding(f, &w.insp, fid, w.ta, NULL,
                                                     "楼道堆物、飞线充电", SCPB__GRADE__GRADE_GENERAL)));
    checkpoint_of(f, &b);
    ck_assert_uint_eq(b.size, a.size + 3);
    Scpb__ConsistencyProof *p = NULL;
    sc_err err;
    ck_assert_int_eq(sd_register_consistency(f->r, a.size, b.size, &p, &err), SC_OK);
    uint8_t(*h)[SC_HASH_LEN] = calloc(p->n_hashes + 1, SC_HASH_LEN);
    for (size_t i = 0; i < p->n_hashes; i++)
        memcpy(h[i], p->hashes[i].data, SC_HASH_LEN);
    ck_assert_int_eq(sc_merkle_verify_consistency(a.size, b.size, a.root, b.root,
                                                  (const uint8_t(*)[SC_HASH_LEN])h, p->n_hashes),
                     SC_OK);
    /* A wrong old root does not verify. */
    a.root[0] ^= 1;
    ck_assert_int_eq(sc_merkle_verify_consistency(a.size, b.size, a.root, b.root,
                                                  (const uint8_t(*)[SC_HASH_LEN])h, p->n_hashes),
                     SC_ERR_PROOF);
    free(h);
    sd_msg_free(p);
    /* Out of range. */
    ck_assert_int_eq(sd_register_consistency(f->r, 0, b.size, &p, &err), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_BAD_FIELD);
    ck_assert_int_eq(sd_register_consistency(f->r, 1, b.size + 1, &p, &err), SC_ERR_INVALID_ARG);
    world_close(&w);
}
END_TEST

START_TEST(inclusion_proofs_verify_for_every_index)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    uint8_t fid[SC_ID_LEN];
    for (int i = 0; i < 4; i++)
        rf_accepted(rf_push1(f, &w.insp, rf_finding(f, &w.insp, fid, w.ta, NULL,
                                                     "路灯亮化率低于98%", SCPB__GRADE__GRADE_GENERAL)));
    sc_checkpoint cp;
    checkpoint_of(f, &cp);
    sd_principal admin;
    sc_err err;
    ck_assert_int_eq(sd_register_principal(f->r, sd_register_server_key(f->r), &admin, &err), SC_OK);
    Scpb__LogEntries *le = NULL;
    ck_assert_int_eq(sd_register_entries(f->r, &admin, 0, 1000, &le, &err), SC_OK);
    ck_assert_uint_eq(le->n_entries, cp.size);
    /* The auditor may read entries; an inspector may not. */
    Scpb__LogEntries *no = NULL;
    ck_assert_int_eq(sd_register_entries(f->r, &w.insp.p, 0, 10, &no, &err), SC_ERR_FORBIDDEN);
    for (uint64_t size = 1; size <= cp.size; size++) {
        /* The root of the first `size` leaves, computed here from the entries. */
        sc_merkle_frontier fr;
        sc_merkle_frontier_init(&fr);
        for (uint64_t i = 0; i < size; i++) {
            uint8_t leaf[SC_HASH_LEN];
            sc_merkle_leaf_hash(le->entries[i]->signed_op.data, le->entries[i]->signed_op.len, leaf);
            sc_merkle_frontier_append(&fr, leaf, NULL, NULL);
        }
        uint8_t root[SC_HASH_LEN];
        sc_merkle_frontier_root(&fr, root);
        if (size == cp.size)
            ck_assert_mem_eq(root, cp.root, SC_HASH_LEN);
        for (uint64_t i = 0; i < size; i++) {
            Scpb__InclusionProof *p = NULL;
            ck_assert_int_eq(sd_register_inclusion(f->r, i, size, &p, &err), SC_OK);
            uint8_t(*h)[SC_HASH_LEN] = calloc(p->n_hashes + 1, SC_HASH_LEN);
            for (size_t k = 0; k < p->n_hashes; k++)
                memcpy(h[k], p->hashes[k].data, SC_HASH_LEN);
            uint8_t leaf[SC_HASH_LEN];
            sc_merkle_leaf_hash(le->entries[i]->signed_op.data, le->entries[i]->signed_op.len, leaf);
            ck_assert_msg(sc_merkle_verify_inclusion(leaf, i, size, (const uint8_t(*)[SC_HASH_LEN])h,
                                                     p->n_hashes, root) == SC_OK,
                          "inclusion of %llu in %llu", (unsigned long long)i,
                          (unsigned long long)size);
            free(h);
            sd_msg_free(p);
        }
    }
    Scpb__InclusionProof *p = NULL;
    ck_assert_int_eq(sd_register_inclusion(f->r, cp.size, cp.size, &p, &err), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sd_register_inclusion(f->r, 0, cp.size + 1, &p, &err), SC_ERR_INVALID_ARG);
    sd_msg_free(le);
    world_close(&w);
}
END_TEST

/*
 * A log longer than the Merkle nodes' tile of 2^8 leaves, with nodes stored
 * only at every 4th level (tlog.h): every inclusion proof at sizes around
 * the stored levels' boundaries and every consistency proof to the full
 * size verify, the frontier rebuilt from storage after a reopen gives the
 * same roots, and the audit finds the stored nodes complete and right.
 */
static void push_findings(world *w, size_t n)
{
    rf *f = &w->f;
    sc_op *ops[50];
    sd_result res[50];
    uint8_t fid[SC_ID_LEN];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < 50 ? n - done : 50;
        for (size_t i = 0; i < k; i++)
            ops[i] = rf_finding(f, &w->insp, fid, w->ta, NULL, "消防通道堵塞",
                                SCPB__GRADE__GRADE_GENERAL);
        ck_assert_int_eq(rf_push(f, &w->insp, ops, k, res), SC_OK);
        for (size_t i = 0; i < k; i++)
            rf_accepted(res[i]);
        done += k;
    }
}

START_TEST(proofs_and_audit_beyond_a_tile)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    sc_err err;
    push_findings(&w, 300);
    /* The frontier is now loaded from the stored nodes, not carried over in memory. */
    rf_reopen(f);
    ck_assert_int_eq(sd_register_principal(f->r, sc_keypair_public(w.insp.kp), &w.insp.p, &err),
                     SC_OK);
    push_findings(&w, 37);
    sc_checkpoint cp;
    checkpoint_of(f, &cp);
    uint64_t n = cp.size;
    ck_assert_uint_gt(n, 256 + 64);

    sd_principal admin;
    ck_assert_int_eq(sd_register_principal(f->r, sd_register_server_key(f->r), &admin, &err), SC_OK);
    Scpb__LogEntries *le = NULL;
    ck_assert_int_eq(sd_register_entries(f->r, &admin, 0, 1000, &le, &err), SC_OK);
    ck_assert_uint_eq(le->n_entries, n);
    uint8_t(*leaf)[SC_HASH_LEN] = calloc(n, SC_HASH_LEN);
    uint8_t(*root)[SC_HASH_LEN] = calloc(n + 1, SC_HASH_LEN);
    sc_merkle_frontier fr;
    sc_merkle_frontier_init(&fr);
    for (uint64_t i = 0; i < n; i++) {
        sc_merkle_leaf_hash(le->entries[i]->signed_op.data, le->entries[i]->signed_op.len, leaf[i]);
        sc_merkle_frontier_append(&fr, leaf[i], NULL, NULL);
        sc_merkle_frontier_root(&fr, root[i + 1]);
    }
    ck_assert_mem_eq(root[n], cp.root, SC_HASH_LEN);

    uint8_t(*h)[SC_HASH_LEN] = calloc(SC_PROOF_HASHES_MAX, SC_HASH_LEN);
    const uint64_t sizes[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 127, 128, 129,
                              255, 256, 257, 271, 272, 300, 301, n - 1, n};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint64_t size = sizes[k];
        for (uint64_t i = 0; i < size; i++) {
            Scpb__InclusionProof *p = NULL;
            ck_assert_int_eq(sd_register_inclusion(f->r, i, size, &p, &err), SC_OK);
            for (size_t j = 0; j < p->n_hashes; j++)
                memcpy(h[j], p->hashes[j].data, SC_HASH_LEN);
            ck_assert_msg(sc_merkle_verify_inclusion(leaf[i], i, size,
                                                     (const uint8_t(*)[SC_HASH_LEN])h, p->n_hashes,
                                                     root[size]) == SC_OK,
                          "inclusion of %llu in %llu", (unsigned long long)i,
                          (unsigned long long)size);
            sd_msg_free(p);
        }
    }
    for (uint64_t old = 1; old <= n; old++) {
        for (size_t k = 0; k < 3; k++) {
            uint64_t size = k == 0 ? n : k == 1 ? 256 : 300;
            if (old > size)
                continue;
            Scpb__ConsistencyProof *p = NULL;
            ck_assert_int_eq(sd_register_consistency(f->r, old, size, &p, &err), SC_OK);
            for (size_t j = 0; j < p->n_hashes; j++)
                memcpy(h[j], p->hashes[j].data, SC_HASH_LEN);
            ck_assert_msg(sc_merkle_verify_consistency(old, size, root[old], root[size],
                                                       (const uint8_t(*)[SC_HASH_LEN])h,
                                                       p->n_hashes) == SC_OK,
                          "consistency of %llu with %llu", (unsigned long long)old,
                          (unsigned long long)size);
            sd_msg_free(p);
        }
    }

    /* The audit checks every stored node: levels 4 and 8 here. */
    sd_audit_report rep;
    ck_assert_msg(sd_audit_run(f->data, NULL, &rep, &err) == SC_OK, "%s / %s", rep.problem,
                  err.msg);
    ck_assert_uint_eq(rep.nodes, n / 16 + n / 256);
    free(h);
    free(leaf);
    free(root);
    sd_msg_free(le);
    world_close(&w);
}
END_TEST

/* ---- storage failure ---- */

START_TEST(storage_failure_leaves_nothing_half_written)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    if (f->pg_url[0]) {
        /* A full disk is the SQLite backend's test hook (store.h, limit_pages); its run covers this. */
        world_close(&w);
        return;
    }
    uint64_t size = rf_log_size(f);
    sc_checkpoint before, after;
    checkpoint_of(f, &before);
    /* A batch big enough to need new pages, on a database that may not grow. */
    enum { N = 200 };
    static const char big[] =
        "进口冷链食品台账缺供应商、批次、购买者信息；进出人员登记缺少籍贯、来去方向、交通方式。"
        "危险性较大工程专项方案未经审查即施工，劳动用工登记和岗前安全培训记录缺失。";
    sc_op *ops[N];
    uint8_t fid[SC_ID_LEN];
    for (int i = 0; i < N; i++)
        ops[i] = rf_finding(f, &w.insp, fid, w.ta, NULL, big, SCPB__GRADE__GRADE_GENERAL);
    sc_err err;
    ck_assert_int_eq(sd_register_limit_storage(f->r, 0, &err), SC_OK);
    sd_result res[N];
    ck_assert_int_eq(rf_push(f, &w.insp, ops, N, res), SC_ERR_STORAGE);
    for (int i = 0; i < N; i++)
        rf_rejected(res[i], SCPB__REASON__REASON_STORAGE);
    /* Nothing changed: reopen without the limit and look. */
    rf_reopen(f);
    ck_assert_uint_eq(rf_log_size(f), size);
    checkpoint_of(f, &after);
    ck_assert_uint_eq(after.size, before.size);
    ck_assert_mem_eq(after.root, before.root, SC_HASH_LEN);
    /* And the register still works. */
    rf_accepted(rf_push1(f, &w.insp, rf_finding(f, &w.insp, fid, w.ta, NULL, "安全专项费用未落实",
                                                SCPB__GRADE__GRADE_GENERAL)));
    ck_assert_uint_eq(rf_log_size(f), size + 1);
    world_close(&w);
}
END_TEST

/* ---- enrollment ---- */

static sc_status try_enroll(rf *f, const char *code, sc_keypair *kp, bool bad_proof,
                            Scpb__EnrollResponse **resp, sc_err *err)
{
    const uint8_t *pub = sc_keypair_public(kp);
    uint8_t msg[96];
    size_t cl = strlen(code);
    memcpy(msg, code, cl);
    memcpy(msg + cl, pub, SC_KEY_LEN);
    uint8_t sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(&f->te.env, kp, SC_DOMAIN_ENROLL, msg, cl + SC_KEY_LEN, sig), SC_OK);
    if (bad_proof)
        sig[3] ^= 0x10;
    Scpb__EnrollRequest req = SCPB__ENROLL_REQUEST__INIT;
    req.code = (char *)code;
    req.has_device_key = true;
    req.device_key = rf_bin(pub, SC_KEY_LEN);
    req.has_proof = true;
    req.proof = rf_bin(sig, SC_SIG_LEN);
    *resp = NULL;
    return sd_register_enroll(f->r, &req, resp, NULL, err);
}

START_TEST(enrollment_codes_are_single_use_and_expire)
{
    world w;
    world_open(&w);
    rf *f = &w.f;
    char code[32];
    sc_err err;
    ck_assert_int_eq(sd_register_enroll_code(f->r, "sup", 72, code, sizeof code, &err), SC_OK);
    /* 5 groups of 4 Crockford base32 characters. */
    ck_assert_uint_eq(strlen(code), 24);
    for (int i = 0; i < 24; i++)
        ck_assert(i % 5 == 4 ? code[i] == '-' : strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", code[i]) != NULL);
    ck_assert_int_eq(sd_register_enroll_code(f->r, "nobody", 72, code, sizeof code, &err),
                     SC_ERR_NOT_FOUND);
    ck_assert_int_eq(sd_register_enroll_code(f->r, "sup", 72, code, sizeof code, &err), SC_OK);

    sc_keypair *k1 = sct_key(50), *k2 = sct_key(51);
    Scpb__EnrollResponse *resp = NULL;
    ck_assert_int_eq(try_enroll(f, code, k1, true, &resp, &err), SC_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_BAD_SIGNATURE);
    ck_assert_int_eq(try_enroll(f, code, k1, false, &resp, &err), SC_OK);
    ck_assert_str_eq(resp->login, "sup");
    ck_assert_int_eq(resp->role, SCPB__ROLE__ROLE_SUPERVISOR);
    ck_assert_mem_eq(resp->user.data, w.u_sup, SC_ID_LEN);
    ck_assert_mem_eq(resp->org.data, w.da, SC_ID_LEN);
    ck_assert_mem_eq(resp->server_key.data, sd_register_server_key(f->r), SC_KEY_LEN);
    ck_assert_str_eq(resp->origin, "spotcheck.test/register");
    ck_assert_uint_eq(resp->checkpoint->size, rf_log_size(f));
    ck_assert_int_eq(resp->device.len, SC_ID_LEN);
    sd_msg_free(resp);
    /* Used: refused with the one message; the same key again: entity_exists. */
    ck_assert_int_eq(try_enroll(f, code, k2, false, &resp, &err), SC_ERR_FORBIDDEN);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_FORBIDDEN_ROLE);
    char msg_used[SC_ERR_MSG_MAX];
    snprintf(msg_used, sizeof msg_used, "%s", err.msg);
    ck_assert_int_eq(sd_register_enroll_code(f->r, "sup", 72, code, sizeof code, &err), SC_OK);
    ck_assert_int_eq(try_enroll(f, code, k1, false, &resp, &err), SC_ERR_EXISTS);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_ENTITY_EXISTS);
    /* Unknown and expired codes get the same message as used ones. */
    ck_assert_int_eq(try_enroll(f, "AAAA-BBBB-CCCC-DDDD-EEEE", k2, false, &resp, &err),
                     SC_ERR_FORBIDDEN);
    ck_assert_str_eq(err.msg, msg_used);
    ck_assert_int_eq(sd_register_enroll_code(f->r, "sup", 1, code, sizeof code, &err), SC_OK);
    f->te.now_ms += 3600 * 1000 + 1;
    ck_assert_int_eq(try_enroll(f, code, k2, false, &resp, &err), SC_ERR_FORBIDDEN);
    ck_assert_str_eq(err.msg, msg_used);
    /* Typed in lower case with O for 0: still the code. */
    ck_assert_int_eq(sd_register_enroll_code(f->r, "sup", 1, code, sizeof code, &err), SC_OK);
    for (char *p = code; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    ck_assert_int_eq(try_enroll(f, code, k2, false, &resp, &err), SC_OK);
    sd_msg_free(resp);
    sc_keypair_free(k1);
    sc_keypair_free(k2);
    world_close(&w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/register");
    const sct_case cases[] = {
        {"init refuses an existing dir", init_refuses_existing_dir},
        {"key file perms", key_file_readable_by_others_refused},
        {"author, device, revoked", rejects_author_mismatch_unknown_and_revoked_device},
        {"clock ahead", rejects_clock_ahead},
        {"type, role, entity", rejects_wrong_type_role_unknown_and_existing_entity},
        {"visibility and scope", rejects_hidden_and_out_of_scope},
        {"cross-district checks", cross_district_check_for_the_named_inspector_only},
        {"references and codes", rejects_unknown_reference_and_duplicate_code},
        {"fields, deps, full", rejects_bad_field_deps_and_full_entity},
        {"invalid transition", rejects_invalid_transition_with_fold_message},
        {"duplicate push", duplicate_push_answers_its_index},
        {"in-batch chain", in_batch_dependency_chain_is_accepted},
        {"cascade", rejection_cascades_to_dependents},
        {"checkpoints", checkpoints_verify_and_stay_consistent},
        {"inclusion proofs", inclusion_proofs_verify_for_every_index},
        {"proofs beyond a tile", proofs_and_audit_beyond_a_tile},
        {"storage failure", storage_failure_leaves_nothing_half_written},
        {"enrollment", enrollment_codes_are_single_use_and_expire},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
