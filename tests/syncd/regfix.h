/*
 * regfix.h: the register fixture shared by the syncd register tests: a
 * fresh data directory in a temp dir, a register with a deterministic
 * clock, admin helpers (org units, targets, users, enrolled devices,
 * assignments), builders for device ops, and a push that ingests one batch.
 * Header-only (static functions) so each test file stays one executable.
 */
#ifndef SD_TEST_REGFIX_H
#define SD_TEST_REGFIX_H

#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/codec.h"
#include "core/governance.h"
#include "core/hlc.h"
#include "core/ids.h"
#include "core/keys.h"
#include "core/merge.h"
#include "register/register.h"
#include "sctest.h"
#include "sctest_pg.h"
#include "sctest_server.h"

/* Each test file uses some of these helpers. */
#define RF_FN static __attribute__((unused))

typedef struct rf {
    char tmp[256];           /* the temp dir (sct_tempdir) */
    char data[320];          /* tmp/data: the data directory */
    sct_env te;              /* deterministic clock and randomness */
    sd_config cfg;
    sd_register *r;
    char pg_url[300];        /* the register's PostgreSQL database; "" for SQLite (DATA/register.db) */
} rf;

typedef struct rf_dev {
    sc_keypair *kp;
    sd_principal p;
    sc_hlc clock;
    uint32_t keyno;
} rf_dev;

RF_FN void rf_reopen(rf *f)
{
    sd_register_close(f->r);
    f->r = NULL;
    sc_err err;
    sc_err_clear(&err);
    ck_assert_msg(sd_register_open_env(&f->cfg, &f->te.env, &f->r, &err) == SC_OK, "%s", err.msg);
}

RF_FN void rf_open(rf *f)
{
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(sc_crypto_init(), SC_OK);
    sct_tempdir(f->tmp, sizeof f->tmp);
    snprintf(f->data, sizeof f->data, "%s/data", f->tmp);
    sct_env_init(&f->te, 42);
    sc_err err;
    sc_err_clear(&err);
    if (sct_pg_up()) {
        /* SC_TEST_STORE=postgresql (sctest.h): the register in a new PostgreSQL database. */
        sd_store_loc loc;
        memset(&loc, 0, sizeof loc);
        sct_pg_newdb(f->pg_url, sizeof f->pg_url);
        ck_assert_msg(sd_store_loc_url(f->pg_url, &loc, &err) == SC_OK, "%s", err.msg);
        ck_assert_msg(sd_register_init_at(f->data, "spotcheck.test/register", &loc, &err) == SC_OK,
                      "%s", err.msg);
    } else {
        ck_assert_msg(sd_register_init(f->data, "spotcheck.test/register", &err) == SC_OK, "%s",
                      err.msg);
    }
    sd_config_defaults(&f->cfg);
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s", f->data);
    rf_reopen(f);
}

/* Run SQL on the register's PostgreSQL database (f->pg_url); aborts the test when it fails. */
RF_FN void rf_pg_exec(const rf *f, const char *sql)
{
    PGconn *c = PQconnectdb(f->pg_url);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

RF_FN void rf_close(rf *f)
{
    sd_register_close(f->r);
    f->r = NULL;
    sct_rmtree(f->tmp);
}

RF_FN void rf_id(rf *f, uint8_t out[SC_ID_LEN])
{
    sc_uuid7_new(&f->te.env, out);
}

RF_FN ProtobufCBinaryData rf_bin(const uint8_t *p, size_t n)
{
    ProtobufCBinaryData b = {n, (uint8_t *)(uintptr_t)p};
    return b;
}

/* Log an admin op; returns its status (err filled). */
RF_FN sc_status rf_admin(rf *f, Scpb__Op *op, sc_err *err)
{
    uint64_t idx;
    sc_err_clear(err);
    return sd_register_admin_op(f->r, op, &idx, err);
}

RF_FN void rf_admin_ok(rf *f, Scpb__Op *op)
{
    sc_err err;
    ck_assert_msg(rf_admin(f, op, &err) == SC_OK, "admin op: %s", err.msg);
}

RF_FN void rf_org(rf *f, const char *code, const uint8_t *parent, uint8_t out[SC_ID_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__OrgCreate b = SCPB__ORG_CREATE__INIT;
    rf_id(f, out);
    op.has_entity = true;
    op.entity = rf_bin(out, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT;
    op.body_case = SCPB__OP__BODY_ORG_CREATE;
    op.org_create = &b;
    b.code = (char *)code;
    b.name = (char *)code;
    b.has_level = true;
    b.level = parent ? SCPB__ORG_LEVEL__LEVEL_STREET : SCPB__ORG_LEVEL__LEVEL_CITY;
    if (parent) {
        b.has_parent = true;
        b.parent = rf_bin(parent, SC_ID_LEN);
    }
    rf_admin_ok(f, &op);
}

RF_FN void rf_target(rf *f, const char *code, const uint8_t org[SC_ID_LEN], uint8_t out[SC_ID_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__TargetCreate b = SCPB__TARGET_CREATE__INIT;
    rf_id(f, out);
    op.has_entity = true;
    op.entity = rf_bin(out, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_TARGET;
    op.body_case = SCPB__OP__BODY_TARGET_CREATE;
    op.target_create = &b;
    b.code = (char *)code;
    b.name = (char *)"君安花园小区";
    b.has_org = true;
    b.org = rf_bin(org, SC_ID_LEN);
    b.has_type = true;
    b.type = SCPB__TARGET_TYPE__TARGET_COMPOUND;
    rf_admin_ok(f, &op);
}

RF_FN void rf_user(rf *f, const char *login, Scpb__Role role, const uint8_t org[SC_ID_LEN],
                    uint8_t out[SC_ID_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__UserCreate b = SCPB__USER_CREATE__INIT;
    rf_id(f, out);
    op.has_entity = true;
    op.entity = rf_bin(out, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_USER;
    op.body_case = SCPB__OP__BODY_USER_CREATE;
    op.user_create = &b;
    b.login = (char *)login;
    b.name = (char *)login;
    b.has_role = true;
    b.role = role;
    b.has_org = true;
    b.org = rf_bin(org, SC_ID_LEN);
    rf_admin_ok(f, &op);
}

/* Enroll a new device (key number keyno) for login through the enrollment path. */
RF_FN void rf_enroll(rf *f, const char *login, uint32_t keyno, rf_dev *d)
{
    memset(d, 0, sizeof *d);
    d->keyno = keyno;
    d->kp = sct_key(keyno);
    char code[32];
    sc_err err;
    sc_err_clear(&err);
    ck_assert_msg(sd_register_enroll_code(f->r, login, 72, code, sizeof code, &err) == SC_OK, "%s",
                  err.msg);
    const uint8_t *pub = sc_keypair_public(d->kp);
    uint8_t msg[64];
    size_t cl = strlen(code);
    memcpy(msg, code, cl);
    memcpy(msg + cl, pub, SC_KEY_LEN);
    uint8_t sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(&f->te.env, d->kp, SC_DOMAIN_ENROLL, msg, cl + SC_KEY_LEN, sig), SC_OK);
    Scpb__EnrollRequest req = SCPB__ENROLL_REQUEST__INIT;
    req.code = code;
    req.has_device_key = true;
    req.device_key = rf_bin(pub, SC_KEY_LEN);
    req.has_proof = true;
    req.proof = rf_bin(sig, SC_SIG_LEN);
    req.label = (char *)"平板 1";
    Scpb__EnrollResponse *resp = NULL;
    ck_assert_msg(sd_register_enroll(f->r, &req, &resp, NULL, &err) == SC_OK, "enroll: %s",
                  err.msg);
    sd_msg_free(resp);
    ck_assert_msg(sd_register_principal(f->r, pub, &d->p, &err) == SC_OK, "%s", err.msg);
    d->clock = sc_hlc_make(f->te.now_ms - 1000, 0);
}

RF_FN void rf_dev_free(rf_dev *d)
{
    sc_keypair_free(d->kp);
    d->kp = NULL;
}

/* Seal a device op: version, author, HLC (ticked), device time. */
RF_FN sc_op *rf_seal(rf *f, rf_dev *d, Scpb__Op *op)
{
    op->has_version = true;
    op->version = 1;
    op->has_author = true;
    op->author = rf_bin(sc_keypair_public(d->kp), SC_KEY_LEN);
    if (!op->has_hlc) {
        op->has_hlc = true;
        op->hlc = sc_hlc_tick(&d->clock, f->te.now_ms - 500);
    }
    op->has_device_time_ms = true;
    op->device_time_ms = f->te.now_ms;
    sc_op *o = NULL;
    sc_err err;
    sc_err_clear(&err);
    ck_assert_msg(sc_op_seal(&f->te.env, d->kp, op, &o, &err) == SC_OK, "seal: %s", err.msg);
    return o;
}

RF_FN void rf_head(Scpb__Op *op, ProtobufCBinaryData *depv, const uint8_t *dep)
{
    if (!dep)
        return;
    depv[0] = rf_bin(dep, SC_HASH_LEN);
    op->n_deps = 1;
    op->deps = depv;
}

RF_FN sc_op *rf_insp_open(rf *f, rf_dev *d, uint8_t id[SC_ID_LEN], const uint8_t target[SC_ID_LEN],
                           const uint8_t *tpl, const uint8_t *assignment, Scpb__Disclosure disc)
{
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
    b.target = rf_bin(target, SC_ID_LEN);
    if (tpl) {
        b.has_template_ = true;
        b.template_ = rf_bin(tpl, SC_ID_LEN);
    }
    if (assignment) {
        b.has_assignment = true;
        b.assignment = rf_bin(assignment, SC_ID_LEN);
    }
    b.has_kind = true;
    b.kind = SCPB__INSPECTION_KIND__KIND_SPOT;
    b.has_disclosure = true;
    b.disclosure = disc;
    return rf_seal(f, d, &op);
}

RF_FN sc_op *rf_item(rf *f, rf_dev *d, const uint8_t insp[SC_ID_LEN], const uint8_t *dep,
                      const char *code, Scpb__ItemStatus status, int points)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__ItemResult b = SCPB__ITEM_RESULT__INIT;
    ProtobufCBinaryData depv[1];
    op.has_entity = true;
    op.entity = rf_bin(insp, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.body_case = SCPB__OP__BODY_ITEM_RESULT;
    op.item_result = &b;
    b.item_code = (char *)code;
    b.has_status = true;
    b.status = status;
    if (points >= 0) {
        b.has_points = true;
        b.points = points;
    }
    rf_head(&op, depv, dep);
    return rf_seal(f, d, &op);
}

RF_FN sc_op *rf_submit(rf *f, rf_dev *d, const uint8_t insp[SC_ID_LEN], const uint8_t *dep)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionSubmit b = SCPB__INSPECTION_SUBMIT__INIT;
    ProtobufCBinaryData depv[1];
    op.has_entity = true;
    op.entity = rf_bin(insp, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.body_case = SCPB__OP__BODY_INSPECTION_SUBMIT;
    op.inspection_submit = &b;
    b.remarks = (char *)"测评完毕";
    rf_head(&op, depv, dep);
    return rf_seal(f, d, &op);
}

RF_FN sc_op *rf_finding(rf *f, rf_dev *d, uint8_t id[SC_ID_LEN], const uint8_t target[SC_ID_LEN],
                         const uint8_t *insp, const char *text, Scpb__Grade grade)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__FindingCreate b = SCPB__FINDING_CREATE__INIT;
    rf_id(f, id);
    op.has_entity = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_FINDING;
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &b;
    b.has_target = true;
    b.target = rf_bin(target, SC_ID_LEN);
    if (insp) {
        b.has_inspection = true;
        b.inspection = rf_bin(insp, SC_ID_LEN);
        b.has_source = true;
        b.source = SCPB__FINDING_SOURCE__SOURCE_INSPECTION;
    } else {
        b.has_source = true;
        b.source = SCPB__FINDING_SOURCE__SOURCE_COMPLAINT;
    }
    b.has_grade = true;
    b.grade = grade;
    b.description = (char *)text;
    b.category = (char *)"FIRE_LANE";
    b.has_rules = true;
    b.rules = SC_GOV_RULES;
    return rf_seal(f, d, &op);
}

RF_FN sc_op *rf_note(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], Scpb__EntityType type,
                      const uint8_t *dep, const char *text)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Note b = SCPB__NOTE__INIT;
    ProtobufCBinaryData depv[1];
    op.has_entity = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = type;
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &b;
    b.text = (char *)text;
    rf_head(&op, depv, dep);
    return rf_seal(f, d, &op);
}

RF_FN sc_op *rf_closure(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t *dep)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Closure b = SCPB__CLOSURE__INIT;
    ProtobufCBinaryData depv[1];
    op.has_entity = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_FINDING;
    op.body_case = SCPB__OP__BODY_CLOSURE;
    op.closure = &b;
    b.note = (char *)"销号";
    rf_head(&op, depv, dep);
    return rf_seal(f, d, &op);
}

RF_FN sc_op *rf_report(rf *f, rf_dev *d, const uint8_t id[SC_ID_LEN], const uint8_t *dep)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__RectificationReport b = SCPB__RECTIFICATION_REPORT__INIT;
    ProtobufCBinaryData depv[1];
    op.has_entity = true;
    op.entity = rf_bin(id, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_FINDING;
    op.body_case = SCPB__OP__BODY_RECTIFICATION_REPORT;
    op.rectification_report = &b;
    b.note = (char *)"已清理消防通道";
    rf_head(&op, depv, dep);
    return rf_seal(f, d, &op);
}

/* An assignment made by the admin command path (server key). */
RF_FN void rf_assign(rf *f, const uint8_t target[SC_ID_LEN], const uint8_t *const *inspectors,
                      size_t n, Scpb__Disclosure disc, uint8_t out[SC_ID_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__AssignmentCreate b = SCPB__ASSIGNMENT_CREATE__INIT;
    ProtobufCBinaryData iv[8];
    rf_id(f, out);
    op.has_entity = true;
    op.entity = rf_bin(out, SC_ID_LEN);
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT;
    op.body_case = SCPB__OP__BODY_ASSIGNMENT_CREATE;
    op.assignment_create = &b;
    b.has_target = true;
    b.target = rf_bin(target, SC_ID_LEN);
    for (size_t i = 0; i < n; i++)
        iv[i] = rf_bin(inspectors[i], SC_ID_LEN);
    b.n_inspectors = n;
    b.inspectors = iv;
    b.has_kind = true;
    b.kind = SCPB__INSPECTION_KIND__KIND_SPOT;
    b.has_disclosure = true;
    b.disclosure = disc;
    rf_admin_ok(f, &op);
}

/* Ingest one batch from d; results into res (n entries).  Frees the ops. */
RF_FN sc_status rf_push(rf *f, rf_dev *d, sc_op **ops, size_t n, sd_result *res)
{
    sd_batch b;
    memset(&b, 0, sizeof b);
    b.who = &d->p;
    b.ops = ops;
    b.n = n;
    b.results = res;
    b.received_ms = f->te.now_ms;
    sd_batch *bp = &b;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_ingest(f->r, &bp, 1, &err);
    for (size_t i = 0; i < n; i++)
        sc_op_free(&f->te.env, ops[i]);
    return rc;
}

/* Push one op and return its result. */
RF_FN sd_result rf_push1(rf *f, rf_dev *d, sc_op *o)
{
    sd_result res;
    memset(&res, 0, sizeof res);
    rf_push(f, d, &o, 1, &res);
    return res;
}

#define rf_accepted(expr)                                                                          \
    do {                                                                                           \
        sd_result rf_r_ = (expr);                                                                  \
        ck_assert_msg(rf_r_.status == SCPB__OP_STATUS__OP_ACCEPTED,                                \
                      "expected accepted, got %d/%d: %s", (int)rf_r_.status, rf_r_.reason,         \
                      rf_r_.message);                                                              \
    } while (0)
#define rf_rejected(expr, why)                                                                     \
    do {                                                                                           \
        sd_result rf_r_ = (expr);                                                                  \
        ck_assert_msg(rf_r_.status == SCPB__OP_STATUS__OP_REJECTED && rf_r_.reason == (why),       \
                      "expected reason %d, got %d/%d: %s", (int)(why), (int)rf_r_.status,          \
                      rf_r_.reason, rf_r_.message);                                                \
    } while (0)

/* Pull everything visible to d (in pages of max); returns the count, fills idx[] (cap). */
RF_FN size_t rf_pull_all(rf *f, const sd_principal *p, uint32_t max, uint64_t *idx, size_t cap,
                          uint8_t **cursor, size_t *cursor_len)
{
    size_t total = 0;
    for (int round = 0; round < 10000; round++) {
        sd_pull req;
        memset(&req, 0, sizeof req);
        req.who = p;
        req.cursor = *cursor;
        req.cursor_len = *cursor_len;
        req.max = max;
        sd_pulled out;
        sc_err err;
        sc_err_clear(&err);
        ck_assert_msg(sd_register_pull(f->r, &req, &out, &err) == SC_OK, "pull: %s", err.msg);
        for (size_t i = 0; i < out.n; i++) {
            ck_assert_uint_le(out.n, max);
            if (total < cap)
                idx[total] = out.ops[i]->log_index;
            total++;
        }
        free(*cursor);
        *cursor = out.cursor;
        *cursor_len = out.cursor_len;
        out.cursor = NULL;
        bool more = out.more;
        sd_pulled_dispose(&out);
        if (!more)
            break;
    }
    return total;
}

RF_FN bool rf_has(const uint64_t *v, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/*
 * A small world: 市 city -> 区 A -> 街道 A1, and 区 B; target TA in A1 and
 * TB in B; an inspector, a supervisor and a responsible contact in A (the
 * responsible one in A1), an inspector in B, an auditor at the city.
 */
typedef struct world {
    rf f;
    uint8_t city[SC_ID_LEN], da[SC_ID_LEN], street[SC_ID_LEN], db[SC_ID_LEN];
    uint8_t ta[SC_ID_LEN], tb[SC_ID_LEN];
    uint8_t u_insp[SC_ID_LEN], u_insp_b[SC_ID_LEN], u_sup[SC_ID_LEN], u_resp[SC_ID_LEN],
        u_aud[SC_ID_LEN];
    rf_dev insp, insp_b, sup, resp, aud;
} world;

RF_FN void world_open(world *w)
{
    memset(w, 0, sizeof *w);
    rf *f = &w->f;
    rf_open(f);
    rf_org(f, "city", NULL, w->city);
    rf_org(f, "district-a", w->city, w->da);
    rf_org(f, "street-a1", w->da, w->street);
    rf_org(f, "district-b", w->city, w->db);
    rf_target(f, "TA", w->street, w->ta);
    rf_target(f, "TB", w->db, w->tb);
    rf_user(f, "insp", SCPB__ROLE__ROLE_INSPECTOR, w->da, w->u_insp);
    rf_user(f, "inspb", SCPB__ROLE__ROLE_INSPECTOR, w->db, w->u_insp_b);
    rf_user(f, "sup", SCPB__ROLE__ROLE_SUPERVISOR, w->da, w->u_sup);
    rf_user(f, "resp", SCPB__ROLE__ROLE_RESPONSIBLE, w->street, w->u_resp);
    rf_user(f, "aud", SCPB__ROLE__ROLE_AUDITOR, w->city, w->u_aud);
    rf_enroll(f, "insp", 1, &w->insp);
    rf_enroll(f, "inspb", 2, &w->insp_b);
    rf_enroll(f, "sup", 3, &w->sup);
    rf_enroll(f, "resp", 4, &w->resp);
    rf_enroll(f, "aud", 5, &w->aud);
}

RF_FN void world_close(world *w)
{
    rf_dev_free(&w->insp);
    rf_dev_free(&w->insp_b);
    rf_dev_free(&w->sup);
    rf_dev_free(&w->resp);
    rf_dev_free(&w->aud);
    rf_close(&w->f);
}

RF_FN uint64_t rf_log_size(rf *f)
{
    sd_register_stats st;
    sc_err err;
    ck_assert_int_eq(sd_register_stats_get(f->r, &st, &err), SC_OK);
    return st.log_size;
}

#endif
