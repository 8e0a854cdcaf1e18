/*
 * fixture.h: an enrolled replica without a server, for the client's module
 * tests.  It writes the identity the way sc_enroll does and stores admin
 * facts (org units, a target, a user, the device's enrollment, a score
 * sheet, an assignment) signed by a test server key as if they had been
 * pulled, so recording, queries and verification run offline and
 * deterministically (seeded randomness, a fixed clock on 2026-11-23).
 * Test code only; header-only so each test file stays one executable.
 */
#ifndef SC_TEST_CLIENT_FIXTURE_H
#define SC_TEST_CLIENT_FIXTURE_H

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client-lib/src/internal.h"
#include "core/date.h"
#include "sctest.h"
#include "sctest_server.h"

typedef struct fx {
    sct_env t;
    sc_client_options opt;
    sc_client *c;
    char dir[512];        /* the temp dir */
    char db[600];         /* dir/replica.db */
    sc_keypair *server;
    sc_keypair *dev;      /* this replica's device */
    sc_keypair *other;    /* a second enrolled device, for concurrent ops */
    Scpb__Role role;
    uint8_t city[SC_ID_LEN], unit[SC_ID_LEN], target[SC_ID_LEN], tpl[SC_ID_LEN];
    uint8_t user[SC_ID_LEN], device[SC_ID_LEN], other_device[SC_ID_LEN], asg[SC_ID_LEN];
    uint64_t index;       /* next log index for stored admin facts */
} fx;

/* sc_client_status of c, parsed (json_decref it). */
static inline json_t *fx_status(sc_client *c)
{
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(c, &json), SC_OK);
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(c, json);
    ck_assert_ptr_nonnull(o);
    return o;
}

static inline void fx_options(fx *f)
{
    memset(&f->opt, 0, sizeof f->opt);
    f->opt.alloc = f->t.env.alloc;
    f->opt.realloc = f->t.env.realloc;
    f->opt.free = f->t.env.free;
    f->opt.now_ms = f->t.env.now_ms;
    f->opt.random = f->t.env.random;
    f->opt.ctx = &f->t;
    f->opt.retries = UINT32_MAX; /* no retries: tests never wait */
    f->opt.timeout_ms = 2000;
}

/* Seal op with key, store it as pulled and accepted at the next log index, refold. */
static inline void fx_store(fx *f, sc_keypair *key, Scpb__Op *op, const uint8_t id[SC_ID_LEN],
                            Scpb__EntityType type, uint8_t op_id[SC_HASH_LEN])
{
    op->has_version = true;
    op->version = 1;
    op->has_entity = true;
    op->entity = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)(uintptr_t)id};
    op->has_entity_type = true;
    op->entity_type = type;
    op->has_author = true;
    op->author = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)sc_keypair_public(key)};
    if (!op->has_hlc) {
        op->has_hlc = true;
        op->hlc = sc_hlc_make(f->t.now_ms - 3600 * 1000, (uint16_t)f->index);
    }
    op->has_device_time_ms = true;
    op->device_time_ms = SC_HLC_MS(op->hlc);
    sc_op *sealed = NULL;
    sc_err e;
    sc_err_clear(&e);
    ck_assert_msg(sc_op_seal(NULL, key, op, &sealed, &e) == SC_OK, "seal: %s", e.msg);
    bool inserted;
    ck_assert_int_eq(st_begin(f->c), SC_OK);
    ck_assert_int_eq(st_op_put(f->c, sealed, ST_PULLED, ST_ACCEPTED, true, f->index, &inserted),
                     SC_OK);
    if (op->body_case == SCPB__OP__BODY_DEVICE_ENROLL)
        ck_assert_int_eq(
            st_device_enroll(f->c, op->device_enroll->key.data, id, f->index), SC_OK);
    ck_assert_msg(rp_refold(f->c, id) == SC_OK, "refold: %s", sc_client_errmsg(f->c));
    rp_hlc_observe(f->c, op->hlc);
    ck_assert_int_eq(rp_hlc_save(f->c), SC_OK);
    ck_assert_int_eq(st_commit(f->c), SC_OK);
    if (op_id)
        memcpy(op_id, sealed->id, SC_HASH_LEN);
    sc_op_free(NULL, sealed);
    f->index++;
}

static inline void fx_admin(fx *f, Scpb__Op *op, uint8_t id[SC_ID_LEN], Scpb__EntityType type)
{
    sc_uuid7_new(&f->t.env, id);
    fx_store(f, f->server, op, id, type, NULL);
}

static inline void fx_org(fx *f, uint8_t id[SC_ID_LEN], const char *code, const uint8_t *parent)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__OrgCreate oc = SCPB__ORG_CREATE__INIT;
    oc.code = (char *)(uintptr_t)code;
    oc.name = (char *)(uintptr_t)code;
    oc.has_parent = parent != NULL;
    oc.parent = (ProtobufCBinaryData){parent ? SC_ID_LEN : 0, (uint8_t *)(uintptr_t)parent};
    oc.has_level = true;
    oc.level = parent ? SCPB__ORG_LEVEL__LEVEL_COMMUNITY : SCPB__ORG_LEVEL__LEVEL_CITY;
    op.body_case = SCPB__OP__BODY_ORG_CREATE;
    op.org_create = &oc;
    fx_admin(f, &op, id, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT);
}

static inline void fx_enroll(fx *f, uint8_t dev_id[SC_ID_LEN], sc_keypair *key)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__DeviceEnroll de = SCPB__DEVICE_ENROLL__INIT;
    de.has_user = true;
    de.user = (ProtobufCBinaryData){SC_ID_LEN, f->user};
    de.has_key = true;
    de.key = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)sc_keypair_public(key)};
    de.label = "tablet";
    op.body_case = SCPB__OP__BODY_DEVICE_ENROLL;
    op.device_enroll = &de;
    fx_admin(f, &op, dev_id, SCPB__ENTITY_TYPE__ENTITY_DEVICE);
}

/* Seed the admin facts every test uses. */
static inline void fx_seed(fx *f)
{
    fx_org(f, f->city, "city", NULL);
    fx_org(f, f->unit, "unit-a", f->city);
    {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__TargetCreate tc = SCPB__TARGET_CREATE__INIT;
        tc.code = "T1";
        tc.name = "君安花园小区";
        tc.has_org = true;
        tc.org = (ProtobufCBinaryData){SC_ID_LEN, f->city};
        tc.has_type = true;
        tc.type = SCPB__TARGET_TYPE__TARGET_COMPOUND;
        op.body_case = SCPB__OP__BODY_TARGET_CREATE;
        op.target_create = &tc;
        fx_admin(f, &op, f->target, SCPB__ENTITY_TYPE__ENTITY_TARGET);
    }
    {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__UserCreate uc = SCPB__USER_CREATE__INIT;
        uc.login = "li";
        uc.name = "李";
        uc.has_role = true;
        uc.role = f->role;
        uc.has_org = true;
        uc.org = (ProtobufCBinaryData){SC_ID_LEN, f->city};
        op.body_case = SCPB__OP__BODY_USER_CREATE;
        op.user_create = &uc;
        fx_admin(f, &op, f->user, SCPB__ENTITY_TYPE__ENTITY_USER);
    }
    fx_enroll(f, f->device, f->dev);
    fx_enroll(f, f->other_device, f->other);
    {
        /* A sheet of 20 points, pass at 15, with a veto item. */
        Scpb__TemplateItem a = SCPB__TEMPLATE_ITEM__INIT, b = SCPB__TEMPLATE_ITEM__INIT,
                           v = SCPB__TEMPLATE_ITEM__INIT;
        a.code = "A";
        a.text = "组织领导";
        a.has_max_points = true;
        a.max_points = 5;
        b.code = "B";
        b.text = "卫生情况";
        b.has_max_points = true;
        b.max_points = 10;
        v.code = "V";
        v.text = "无确诊病例";
        v.has_max_points = true;
        v.max_points = 5;
        v.has_veto = true;
        v.veto = true;
        Scpb__TemplateItem *items[] = {&a, &b, &v};
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__TemplatePublish tp = SCPB__TEMPLATE_PUBLISH__INIT;
        tp.code = "SHEET";
        tp.name = "测评表";
        tp.has_version = true;
        tp.version = 1;
        tp.has_pass_mark = true;
        tp.pass_mark = 15;
        tp.n_items = 3;
        tp.items = items;
        op.body_case = SCPB__OP__BODY_TEMPLATE_PUBLISH;
        op.template_publish = &tp;
        fx_admin(f, &op, f->tpl, SCPB__ENTITY_TYPE__ENTITY_TEMPLATE);
    }
    {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__AssignmentCreate ac = SCPB__ASSIGNMENT_CREATE__INIT;
        ProtobufCBinaryData who = {SC_ID_LEN, f->user};
        ac.has_target = true;
        ac.target = (ProtobufCBinaryData){SC_ID_LEN, f->target};
        ac.n_inspectors = 1;
        ac.inspectors = &who;
        ac.has_kind = true;
        ac.kind = SCPB__INSPECTION_KIND__KIND_SPOT;
        ac.has_disclosure = true;
        ac.disclosure = SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED;
        ac.has_template_ = true;
        ac.template_ = (ProtobufCBinaryData){SC_ID_LEN, f->tpl};
        ac.has_due_day = true;
        ac.due_day = sc_date_from_ms(f->t.now_ms) + 7;
        op.body_case = SCPB__OP__BODY_ASSIGNMENT_CREATE;
        op.assignment_create = &ac;
        fx_admin(f, &op, f->asg, SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT);
    }
}

/* Write the identity as sc_enroll would, with the key file under pass (NULL: plain). */
static inline void fx_identity(fx *f, const char *pass)
{
    uint8_t keyfile[SC_KEYFILE_MAX];
    size_t len = 0;
    sc_err e;
    sc_err_clear(&e);
    ck_assert_int_eq(sc_keypair_save(&f->t.env, f->dev, pass, pass ? strlen(pass) : 0,
                                     crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN,
                                     keyfile, sizeof keyfile, &len, &e),
                     SC_OK);
    sc_client *c = f->c;
    uint64_t role = (uint64_t)f->role;
    ck_assert_int_eq(st_begin(c), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "device_key", sc_keypair_public(f->dev), SC_KEY_LEN), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "server_key", sc_keypair_public(f->server), SC_KEY_LEN), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "user", f->user, SC_ID_LEN), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "org", f->city, SC_ID_LEN), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "device_id", f->device, SC_ID_LEN), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "server", "http://127.0.0.1:9", 18), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "origin", "test.example/log", 16), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "login", "li", 2), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "name", "李", strlen("李")), SC_OK);
    ck_assert_int_eq(st_meta_put_u64(c, "role", role), SC_OK);
    ck_assert_int_eq(st_meta_put(c, "keyfile", keyfile, len), SC_OK);
    ck_assert_int_eq(st_commit(c), SC_OK);
    ck_assert_int_eq(rp_identity_load(c), SC_OK);
}

static inline void fx_reopen(fx *f)
{
    sc_client_close(f->c);
    f->c = NULL;
    char err[256];
    ck_assert_msg(sc_client_open(f->db, &f->opt, &f->c, err, sizeof err) == SC_OK, "open: %s", err);
}

/* A fresh enrolled replica in a temp dir, with role and an optional key passphrase. */
static inline void fx_open_pass(fx *f, Scpb__Role role, const char *pass)
{
    memset(f, 0, sizeof *f);
    sct_env_init(&f->t, 7);
    fx_options(f);
    f->role = role;
    sct_tempdir(f->dir, sizeof f->dir);
    snprintf(f->db, sizeof f->db, "%s/replica.db", f->dir);
    f->server = sct_key(100);
    f->dev = sct_key(1);
    f->other = sct_key(2);
    char err[256];
    ck_assert_msg(sc_client_open(f->db, &f->opt, &f->c, err, sizeof err) == SC_OK, "open: %s", err);
    /* Ids of the user and devices are needed by the identity; seed first. */
    fx_seed(f);
    fx_identity(f, pass);
}

static inline void fx_open(fx *f, Scpb__Role role)
{
    fx_open_pass(f, role, NULL);
}

static inline void fx_close(fx *f)
{
    sc_client_close(f->c);
    sc_keypair_free(f->server);
    sc_keypair_free(f->dev);
    sc_keypair_free(f->other);
    sct_rmtree(f->dir);
    ck_assert_int_eq(f->t.live, 0); /* every allocation through the env was freed */
}

/* A temp dir for a replica that is not enrolled (or not a replica at all). */
typedef struct fx_dir {
    char dir[512]; /* the temp dir, removed by fx_dir_close */
    char db[600];  /* dir/NAME */
} fx_dir;

static inline void fx_dir_open(fx_dir *d, const char *name)
{
    sct_tempdir(d->dir, sizeof d->dir);
    snprintf(d->db, sizeof d->db, "%s/%s", d->dir, name);
}

static inline void fx_dir_close(fx_dir *d)
{
    sct_rmtree(d->dir);
}

/* Count of a status field (outbox, ops, ...) from sc_client_status. */
static inline long long fx_count(fx *f, const char *key)
{
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(f->c, &json), SC_OK);
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(f->c, json);
    ck_assert_ptr_nonnull(o);
    long long v = json_integer_value(json_object_get(o, key));
    json_decref(o);
    return v;
}

/* Parse a library JSON result; the caller json_decref's it. */
static inline json_t *fx_json(fx *f, char *json)
{
    ck_assert_ptr_nonnull(json);
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(f->c, json);
    ck_assert_ptr_nonnull(o);
    return o;
}

static inline void fx_hex(const uint8_t *id, size_t len, char *out)
{
    cl_hex(id, len, out, 2 * len + 1);
}

/* Open an inspection on T1 with the score sheet. */
static inline void fx_check(fx *f, char id[SC_ID_HEX_LEN])
{
    sc_check_params p = {.target = "T1", .kind = "spot", .disclosure = "open", .template_ = "SHEET"};
    ck_assert_msg(sc_check_open(f->c, &p, id) == SC_OK, "check open: %s", sc_client_errmsg(f->c));
}

static inline void fx_finding(fx *f, const char *check, const char *grade, const char *deadline,
                              char id[SC_ID_HEX_LEN])
{
    sc_finding_params p = {.check = check, .description = "小区消防通道被车辆占用", .grade = grade,
                           .category = "FIRE_LANE", .deadline = deadline, .responsible = "unit-a"};
    ck_assert_msg(sc_finding_add(f->c, &p, id) == SC_OK, "finding add: %s", sc_client_errmsg(f->c));
}

/*
 * A conflict on a finding's field: this replica's edit of `name` to `ours`
 * and, concurrent with it, the other device's edit to `theirs`, made from
 * the heads before ours and stored as pulled.
 */
static inline void fx_conflict(fx *f, const char *fid, Scpb__Field field, const char *name,
                               const char *ours, const char *theirs)
{
    uint8_t id[SC_ID_LEN];
    ck_assert(cl_parse_id(fid, id));
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(st_state_get(f->c, id, &st), SC_OK);
    ck_assert_msg(sc_finding_set(f->c, fid, name, ours) == SC_OK, "set: %s", sc_client_errmsg(f->c));
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__FieldEdit fe = SCPB__FIELD_EDIT__INIT;
    fe.has_field = true;
    fe.field = field;
    fe.value = (char *)(uintptr_t)theirs;
    op.n_deps = st->n_heads;
    op.deps = st->heads;
    op.has_hlc = true;
    op.hlc = st->last_hlc + 5;
    op.body_case = SCPB__OP__BODY_FIELD_EDIT;
    op.field_edit = &fe;
    fx_store(f, f->other, &op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, NULL);
    rp_state_free(f->c, st);
}

#endif
