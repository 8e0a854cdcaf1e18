/*
 * test_security.c: the threats of docs/security.md against a real syncd,
 * one TCase each.  Every case asserts the refusal, its HTTP status and
 * reason, and that nothing was stored: the log size, every entity's state
 * (the register's replica hash), the stored blobs and the bytes of partial
 * uploads are what they were before the attempt (sct_stored_same).
 *
 * Refusals per op (a sync answered 200 with the op rejected) are checked
 * the same way: the op's result says rejected with the reason, and the
 * register did not move.  tests/syncd/test_serve_sync.c covers the
 * rejection reasons one by one; this file is the threat model's checklist.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hlc.h"
#include "core/ids.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"

static char tmp[512], data[600];
static sct_fixture fx;
static sct_server srv;
static sc_keypair *ki;        /* inspector1's device, enrolled */
static sct_client ci;
static uint64_t clk;
static sct_stored before;

static const char *const pb[] = {"Content-Type: application/x-protobuf", NULL};

static void enroll(sct_client *c, const sc_keypair *k, const char *login, uint8_t device[SC_ID_LEN])
{
    char code[64];
    sct_fixture_code(data, login, code, sizeof code);
    Scpb__EnrollResponse *er = NULL;
    ck_assert_int_eq(sct_enroll(c, code, k, login, &er), 200);
    if (device)
        memcpy(device, er->device.data, SC_ID_LEN);
    scpb__enroll_response__free_unpacked(er, NULL);
}

static void setup(void)
{
    sct_tempdir(tmp, sizeof tmp);
    snprintf(data, sizeof data, "%s/data", tmp);
    sct_fixture_make(&fx, data);
    sct_server_start(&srv, data, NULL);
    ki = sct_key(1);
    sct_client_init(&ci, srv.url, ki);
    enroll(&ci, ki, "inspector1", NULL);
    clk = 0;
}

static void teardown(void)
{
    sct_client_dispose(&ci);
    sc_keypair_free(ki);
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    sct_rmtree(tmp);
}

/* Take the register's picture before an attempt ... */
static void mark(void)
{
    sct_stored_get(data, &before);
}

/* ... and check nothing moved after it. */
static void unchanged(const char *what)
{
    sct_stored now;
    sct_stored_get(data, &now);
    sct_stored_same(&before, &now, what);
}

/* A refused request: the status, the reason header, an Error body with a message. */
static void refused(sct_resp *r, long status, const char *reason, const char *what)
{
    ck_assert_msg(r->status == status, "%s: got %ld, want %ld", what, r->status, status);
    ck_assert_msg(strcmp(r->reason, reason) == 0, "%s: reason %s, want %s", what, r->reason,
                  reason);
    Scpb__Error *e = sct_error(r);
    ck_assert_msg(e != NULL, "%s: the body is not an Error", what);
    ck_assert_uint_eq(e->status, (uint32_t)status);
    ck_assert_uint_gt(strlen(e->message), 0);
    scpb__error__free_unpacked(e, NULL);
    sct_resp_dispose(r);
    unchanged(what);
}

/* The encoding of a SyncRequest pushing ops (raw SignedOp encodings). */
static uint8_t *sync_body(sc_op *const *ops, size_t n, size_t *len)
{
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    ProtobufCBinaryData *enc = calloc(n + 1, sizeof *enc);
    for (size_t i = 0; i < n; i++)
        enc[i] = (ProtobufCBinaryData){ops[i]->signed_len, ops[i]->signed_bytes};
    sr.n_ops = n;
    sr.ops = enc;
    *len = scpb__sync_request__get_packed_size(&sr);
    uint8_t *body = malloc(*len + 1);
    scpb__sync_request__pack(&sr, body);
    free(enc);
    return body;
}

/* Push one op as c: the sync is answered 200 and the op rejected with reason; nothing stored. */
static void op_refused(sct_client *c, sc_op *op, Scpb__Reason reason, const char *what)
{
    mark();
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(c, &op, 1, NULL, 0, 0, &r), 200);
    ck_assert_uint_eq(r->n_results, 1);
    const Scpb__OpResult *res = r->results[0];
    ck_assert_msg(res->status == SCPB__OP_STATUS__OP_REJECTED && res->reason == reason,
                  "%s: status %d reason %d, want rejected %d: %s", what, res->status, res->reason,
                  reason, res->message ? res->message : "");
    ck_assert_ptr_nonnull(res->message);
    ck_assert_uint_gt(strlen(res->message), 0);
    ck_assert(!res->has_log_index);
    scpb__sync_response__free_unpacked(r, NULL);
    unchanged(what);
}

/* An op of the body kind on entity; the caller fills the body. */
static sc_op *seal(const sc_keypair *k, Scpb__Op *op, const uint8_t entity[SC_ID_LEN],
                   Scpb__EntityType type, const uint8_t (*deps)[SC_HASH_LEN], size_t ndeps)
{
    ProtobufCBinaryData d[SC_DEPS_MAX];
    for (size_t i = 0; i < ndeps; i++)
        d[i] = (ProtobufCBinaryData){SC_HASH_LEN, (uint8_t *)(uintptr_t)deps[i]};
    op->has_entity = true;
    op->entity = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)(uintptr_t)entity};
    op->has_entity_type = true;
    op->entity_type = type;
    op->n_deps = ndeps;
    op->deps = d;
    return sct_device_op(k, &clk, op);
}

static void accepted(sct_client *c, sc_op *const *ops, size_t n)
{
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(c, ops, n, NULL, 0, 0, &r), 200);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(r->results[i]->status == SCPB__OP_STATUS__OP_ACCEPTED, "op %zu: %s", i,
                      r->results[i]->message ? r->results[i]->message : "");
    scpb__sync_response__free_unpacked(r, NULL);
}

/* A pushable op from raw op bytes and a signature (not opened: it need not verify). */
static sc_op *raw_op(const uint8_t *op, size_t op_len, const uint8_t sig[SC_SIG_LEN])
{
    Scpb__SignedOp so = SCPB__SIGNED_OP__INIT;
    so.has_op = true;
    so.op = (ProtobufCBinaryData){op_len, (uint8_t *)(uintptr_t)op};
    so.has_sig = true;
    so.sig = (ProtobufCBinaryData){SC_SIG_LEN, (uint8_t *)(uintptr_t)sig};
    sc_op *o = calloc(1, sizeof *o);
    o->signed_len = scpb__signed_op__get_packed_size(&so);
    o->signed_bytes = malloc(o->signed_len);
    scpb__signed_op__pack(&so, o->signed_bytes);
    return o;
}

static void raw_free(sc_op *o)
{
    free(o->signed_bytes);
    free(o);
}

/* ---- a forged signature ---- */

START_TEST(forged_signature)
{
    /* An op whose signature does not verify under its author. */
    uint8_t id[SC_ID_LEN], sig[SC_SIG_LEN];
    sc_op *op = sct_op_open_inspection(ki, &clk, id, fx.target);
    memcpy(sig, op->sig, SC_SIG_LEN);
    sig[7] ^= 0x20;
    sc_op *forged = raw_op(op->op_bytes, op->op_len, sig);
    op_refused(&ci, forged, SCPB__REASON__REASON_BAD_SIGNATURE, "forged op signature");
    raw_free(forged);
    sc_op_free(sct_sys_env(), op);

    /* A request whose signature does not verify (one bit), or that signs another target. */
    sc_op *good = sct_op_open_inspection(ki, &clk, id, fx.target);
    size_t len;
    uint8_t *body = sync_body(&good, 1, &len);
    sct_resp r;
    mark();
    sct_sign corrupt = {.corrupt = true};
    sct_request(&ci, "POST", "/v1/sync", body, len, pb, &corrupt, &r);
    refused(&r, 401, "bad_signature", "forged request signature");
    sct_sign other = {.sig_target = "/v1/log/checkpoint"};
    sct_request(&ci, "POST", "/v1/sync", body, len, pb, &other, &r);
    refused(&r, 401, "bad_signature", "signature over another target");
    /* Signed by another key than the device it names. */
    sc_keypair *thief = sct_key(66);
    sct_sign wrong_key = {.key = thief};
    sct_request(&ci, "POST", "/v1/sync", body, len, pb, &wrong_key, &r);
    refused(&r, 401, "bad_signature", "signed by another key");
    sc_keypair_free(thief);
    free(body);
    sc_op_free(sct_sys_env(), good);
}
END_TEST

/* ---- a valid signature from an unenrolled or a revoked device ---- */

START_TEST(unenrolled_and_revoked_devices)
{
    uint8_t id[SC_ID_LEN];
    /* A key that never enrolled: its own valid signatures get it nowhere. */
    sc_keypair *stranger = sct_key(40);
    sct_client cs;
    sct_client_init(&cs, srv.url, stranger);
    sc_op *op = sct_op_open_inspection(stranger, &clk, id, fx.target);
    size_t len;
    uint8_t *body = sync_body(&op, 1, &len);
    sct_resp r;
    mark();
    sct_request(&cs, "POST", "/v1/sync", body, len, pb, NULL, &r);
    refused(&r, 401, "unknown_device", "unenrolled device's sync");
    free(body);
    sc_op_free(sct_sys_env(), op);
    /* Its op relayed by an enrolled device is refused too: the author is not the sender. */
    op = sct_op_open_inspection(stranger, &clk, id, fx.target);
    op_refused(&ci, op, SCPB__REASON__REASON_AUTHOR_MISMATCH, "stranger's op relayed");
    sc_op_free(sct_sys_env(), op);

    /* A device revoked by the admin (a lost tablet). */
    sc_keypair *lost = sct_key(41);
    sct_client cl;
    sct_client_init(&cl, srv.url, lost);
    uint8_t device[SC_ID_LEN];
    enroll(&cl, lost, "inspector1", device);
    sc_op *before_revoke = sct_op_open_inspection(lost, &clk, id, fx.target);
    accepted(&cl, &before_revoke, 1);
    sct_fixture_revoke(data, device);
    op = sct_op_open_inspection(lost, &clk, id, fx.target);
    body = sync_body(&op, 1, &len);
    mark();
    sct_request(&cl, "POST", "/v1/sync", body, len, pb, NULL, &r);
    refused(&r, 403, "device_revoked", "revoked device's sync");
    uint8_t blob[100] = {1, 2, 3};
    char name[65], target[128];
    uint8_t h[SC_HASH_LEN];
    sc_sha256(blob, sizeof blob, h);
    sc_hex_encode(h, sizeof h, name, sizeof name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    const char *const range[] = {"Content-Range: bytes 0-99/100", NULL};
    sct_request(&cl, "PUT", target, blob, sizeof blob, range, NULL, &r);
    refused(&r, 403, "device_revoked", "revoked device's photo");
    /* Its op relayed by a good device: author_mismatch, and the revocation stands in audit. */
    op_refused(&ci, op, SCPB__REASON__REASON_AUTHOR_MISMATCH, "revoked device's op relayed");
    free(body);
    sc_op_free(sct_sys_env(), op);
    sc_op_free(sct_sys_env(), before_revoke);
    sct_client_dispose(&cl);
    sct_client_dispose(&cs);
    sc_keypair_free(lost);
    sc_keypair_free(stranger);
}
END_TEST

/* ---- a replayed request ---- */

START_TEST(replayed_request)
{
    uint8_t id[SC_ID_LEN];
    sc_op *op = sct_op_open_inspection(ki, &clk, id, fx.target);
    size_t len;
    uint8_t *body = sync_body(&op, 1, &len);
    sct_resp r;
    ck_assert_int_eq(sct_request(&ci, "POST", "/v1/sync", body, len, pb, NULL, &r), 200);
    sct_resp_dispose(&r);
    /* The same bytes again, headers and all: the nonce was seen. */
    mark();
    sct_sign replay = {.nonce = ci.last_nonce, .time_ms = ci.last_time_ms};
    sct_request(&ci, "POST", "/v1/sync", body, len, pb, &replay, &r);
    refused(&r, 401, "bad_signature", "replayed sync");
    /* The same nonce on a new body (a new op) is refused as well. */
    sc_op *op2 = sct_op_open_inspection(ki, &clk, id, fx.target);
    uint8_t *body2 = sync_body(&op2, 1, &len);
    sct_request(&ci, "POST", "/v1/sync", body2, len, pb, &replay, &r);
    refused(&r, 401, "bad_signature", "reused nonce");
    /* A request captured long ago: outside the clock window. */
    sct_sign old = {.time_ms = sct_now_ms() - 10 * 60 * 1000};
    sct_request(&ci, "POST", "/v1/sync", body2, len, pb, &old, &r);
    refused(&r, 401, "request_time", "stale request");
    free(body);
    free(body2);
    sc_op_free(sct_sys_env(), op);
    sc_op_free(sct_sys_env(), op2);
}
END_TEST

/* ---- an op on a target outside the user's scope ---- */

START_TEST(target_out_of_scope)
{
    uint8_t id[SC_ID_LEN];
    sc_op *op = sct_op_open_inspection(ki, &clk, id, fx.target_out);
    op_refused(&ci, op, SCPB__REASON__REASON_OUT_OF_SCOPE, "inspection outside the scope");
    sc_op_free(sct_sys_env(), op);
}
END_TEST

/* A finding in an inspection of fx.target, accepted; its id and create op id out. */
static void make_finding(uint8_t finding[SC_ID_LEN], uint8_t create_id[SC_HASH_LEN])
{
    uint8_t insp[SC_ID_LEN];
    sc_op *ops[2];
    ops[0] = sct_op_open_inspection(ki, &clk, insp, fx.target);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__FindingCreate fc = SCPB__FINDING_CREATE__INIT;
    fc.has_inspection = true;
    fc.inspection = (ProtobufCBinaryData){SC_ID_LEN, insp};
    fc.has_target = true;
    fc.target = (ProtobufCBinaryData){SC_ID_LEN, fx.target};
    fc.has_grade = true;
    fc.grade = SCPB__GRADE__GRADE_GENERAL;
    fc.description = "消防通道被占用";
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &fc;
    sc_uuid7_new(sct_sys_env(), finding);
    ops[1] = seal(ki, &op, finding, SCPB__ENTITY_TYPE__ENTITY_FINDING, NULL, 0);
    accepted(&ci, ops, 2);
    memcpy(create_id, ops[1]->id, SC_HASH_LEN);
    sc_op_free(sct_sys_env(), ops[0]);
    sc_op_free(sct_sys_env(), ops[1]);
}

/* ---- an inspector closing a finding ---- */

START_TEST(inspector_closing_finding)
{
    uint8_t finding[SC_ID_LEN], head[SC_HASH_LEN];
    make_finding(finding, head);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Closure cl = SCPB__CLOSURE__INIT;
    cl.note = "销号";
    op.body_case = SCPB__OP__BODY_CLOSURE;
    op.closure = &cl;
    sc_op *close = seal(ki, &op, finding, SCPB__ENTITY_TYPE__ENTITY_FINDING,
                        (const uint8_t(*)[SC_HASH_LEN])head, 1);
    op_refused(&ci, close, SCPB__REASON__REASON_FORBIDDEN_ROLE, "inspector closing a finding");
    sc_op_free(sct_sys_env(), close);
}
END_TEST

/* ---- an auditor writing ---- */

START_TEST(auditor_writing)
{
    sc_keypair *ka = sct_key(50);
    sct_client ca;
    sct_client_init(&ca, srv.url, ka);
    enroll(&ca, ka, "auditor1", NULL);
    uint8_t id[SC_ID_LEN];
    sc_op *op = sct_op_open_inspection(ka, &clk, id, fx.target);
    op_refused(&ca, op, SCPB__REASON__REASON_FORBIDDEN_ROLE, "auditor opening an inspection");
    sc_op_free(sct_sys_env(), op);
    /* Nor a note on someone else's finding. */
    uint8_t finding[SC_ID_LEN], head[SC_HASH_LEN];
    make_finding(finding, head);
    op = sct_op_note(ka, &clk, finding, SCPB__ENTITY_TYPE__ENTITY_FINDING,
                     (const uint8_t(*)[SC_HASH_LEN])head, 1, "审计意见");
    op_refused(&ca, op, SCPB__REASON__REASON_FORBIDDEN_ROLE, "auditor writing a note");
    sc_op_free(sct_sys_env(), op);
    sct_client_dispose(&ca);
    sc_keypair_free(ka);
}
END_TEST

/* Run `syncd admin --data DATA` with up to 10 args (NULL-terminated); its first line (an id) in out. */
static void admin_id(char *out, size_t cap, const char *const *a)
{
    const char *v[10] = {0};
    for (int i = 0; i < 10 && a[i]; i++)
        v[i] = a[i];
    int st = sct_syncd_run(out, cap, "admin", "--data", data, v[0], v[1], v[2], v[3], v[4], v[5],
                           v[6], v[7], v[8], v[9], NULL);
    ck_assert_msg(st == 0, "syncd admin %s %s exited %d", a[0], a[1], st);
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
}

/* Pull everything as c; true when any pulled op is of entity id. */
static bool pulls_entity(sct_client *c, const uint8_t id[SC_ID_LEN], size_t *pulled)
{
    uint8_t *cur = NULL;
    size_t cl = 0;
    bool seen = false;
    *pulled = 0;
    for (int round = 0; round < 100; round++) {
        Scpb__SyncResponse *r = NULL;
        ck_assert_int_eq(sct_sync(c, NULL, 0, cur, cl, 0, &r), 200);
        for (size_t i = 0; i < r->n_ops; i++) {
            sc_op *o = NULL;
            ck_assert_int_eq(sc_op_open(sct_sys_env(), r->ops[i]->signed_op.data,
                                        r->ops[i]->signed_op.len, 0, &o, NULL),
                             SC_OK);
            seen = seen || memcmp(o->op->entity.data, id, SC_ID_LEN) == 0;
            sc_op_free(sct_sys_env(), o);
        }
        *pulled += r->n_ops;
        free(cur);
        cur = malloc(r->cursor.len + 1);
        memcpy(cur, r->cursor.data, r->cursor.len);
        cl = r->cursor.len;
        bool more = r->more;
        scpb__sync_response__free_unpacked(r, NULL);
        if (!more)
            break;
    }
    free(cur);
    return seen;
}

/* ---- a responsible user pulling a planned unannounced check ---- */

START_TEST(responsible_never_pulls_unannounced_plan)
{
    /* A target inside the responsible unit's own compound, planned both ways. */
    char line[256], hid[256], oid[256];
    static const char *const target[] = {"target", "add", "T-GARDEN", "--name", "君安花园3栋",
                                         "--org", "junan-garden", "--type", "compound", NULL};
    static const char *const secret[] = {"assign", "--target", "T-GARDEN", "--inspector",
                                         "inspector1", "--kind", "spot", "--disclosure",
                                         "unannounced", NULL};
    static const char *const plain[] = {"assign", "--target", "T-GARDEN", "--inspector",
                                        "inspector1", "--kind", "spot", "--disclosure", "open",
                                        NULL};
    admin_id(line, sizeof line, target);
    admin_id(hid, sizeof hid, secret);
    admin_id(oid, sizeof oid, plain);
    uint8_t hidden[SC_ID_LEN], open[SC_ID_LEN];
    ck_assert_int_eq(sc_hex_decode(hid, strlen(hid), hidden, SC_ID_LEN), SC_OK);
    ck_assert_int_eq(sc_hex_decode(oid, strlen(oid), open, SC_ID_LEN), SC_OK);

    sc_keypair *kr = sct_key(60);
    sct_client cr;
    sct_client_init(&cr, srv.url, kr);
    enroll(&cr, kr, "resp1", NULL);
    mark();
    size_t n = 0;
    /* The pull succeeds (200) and never carries the unannounced plan; the open one it does. */
    ck_assert_msg(!pulls_entity(&cr, hidden, &n), "the responsible unit pulled an unannounced plan");
    ck_assert_msg(pulls_entity(&cr, open, &n), "the responsible unit did not see the open plan");
    ck_assert_uint_gt(n, 0);
    unchanged("responsible pulling");
    /* The inspector named on it does see it. */
    ck_assert(pulls_entity(&ci, hidden, &n));
    /* Nor may the unit write on it (it cannot see it). */
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Note note = SCPB__NOTE__INIT;
    note.text = "我们知道了";
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &note;
    static const uint8_t guess[1][SC_HASH_LEN] = {{1}}; /* it cannot know the plan's heads */
    sc_op *probe = seal(kr, &op, hidden, SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT, guess, 1);
    mark();
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(&cr, &probe, 1, NULL, 0, 0, &r), 200);
    ck_assert_int_eq(r->results[0]->status, SCPB__OP_STATUS__OP_REJECTED);
    scpb__sync_response__free_unpacked(r, NULL);
    unchanged("responsible writing on an unannounced plan");
    sc_op_free(sct_sys_env(), probe);
    sct_client_dispose(&cr);
    sc_keypair_free(kr);
}
END_TEST

/* ---- photos: bytes that do not match the hash, names that try to leave the store ---- */

START_TEST(photo_bytes_not_matching_hash)
{
    enum { N = 5000 };
    uint8_t *d = malloc(N);
    for (size_t i = 0; i < N; i++)
        d[i] = (uint8_t)(i * 7);
    uint8_t h[SC_HASH_LEN];
    char name[65], target[128];
    sc_sha256(d, N, h);
    sc_hex_encode(h, sizeof h, name, sizeof name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    d[100] ^= 1; /* the bytes sent are not the ones named */
    const char *const range[] = {"Content-Range: bytes 0-4999/5000", NULL};
    sct_resp r;
    mark();
    sct_request(&ci, "PUT", target, d, N, range, NULL, &r);
    refused(&r, 422, "bad_field", "photo not matching its hash");
    /* Nothing half-kept: HEAD says not stored, from offset 0. */
    ck_assert_int_eq(sct_request(&ci, "HEAD", target, NULL, 0, NULL, NULL, &r), 404);
    ck_assert_int_le(r.offset, 0);
    sct_resp_dispose(&r);
    ck_assert(!sct_blob_stored(data, h));
    free(d);
}
END_TEST

START_TEST(blob_name_path_traversal)
{
    static const char *const names[] = {
        "../../register.db",
        "..%2f..%2fregister.db",
        "%2e%2e/%2e%2e/server.key",
        "../partial/x",
        "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/..",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde/",
        "",
    };
    const char *const range[] = {"Content-Range: bytes 0-3/4", NULL};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char target[256], what[300];
        snprintf(target, sizeof target, "/v1/blobs/%s", names[i]);
        static const char *const methods[] = {"GET", "HEAD", "PUT"};
        for (int m = 0; m < 3; m++) {
            snprintf(what, sizeof what, "%s %s", methods[m], target);
            sct_resp r;
            mark();
            sct_request(&ci, methods[m], target, m == 2 ? "abcd" : NULL, m == 2 ? 4 : 0,
                        m == 2 ? range : NULL, NULL, &r);
            if (m == 1) { /* HEAD has no body: status and header only */
                ck_assert_msg(r.status == 400, "%s: got %ld", what, r.status);
                ck_assert_str_eq(r.reason, "bad_field");
                sct_resp_dispose(&r);
                unchanged(what);
            } else {
                refused(&r, 400, "bad_field", what);
            }
        }
    }
    /* Nothing was written beside the data directory. */
    struct stat st;
    char path[700];
    snprintf(path, sizeof path, "%s/x", tmp);
    ck_assert_int_ne(stat(path, &st), 0);
}
END_TEST

/* ---- oversized bodies and batches ---- */

START_TEST(oversized_bodies_and_batches)
{
    sct_resp r;
    /* A sync body over sync.body_max (8 MiB): refused from Content-Length, before buffering. */
    size_t big = 8 * 1024 * 1024 + 1;
    uint8_t *body = calloc(1, big);
    mark();
    /* With 100-continue, as an HTTP client should for a large body, the 413
     * arrives before any of the body is sent (not as a reset mid-upload). */
    static const char *const pb_expect[] = {"Content-Type: application/x-protobuf",
                                            "Expect: 100-continue", NULL};
    sct_request(&ci, "POST", "/v1/sync", body, big, pb_expect, NULL, &r);
    refused(&r, 413, "too_large", "sync body over 8 MiB");
    free(body);
    /* An enroll body over 16 KiB. */
    body = calloc(1, 16 * 1024 + 1);
    sct_client anon;
    sct_client_init(&anon, srv.url, NULL);
    sct_request(&anon, "POST", "/v1/enroll", body, 16 * 1024 + 1, pb, NULL, &r);
    refused(&r, 413, "too_large", "enroll body over 16 KiB");
    sct_client_dispose(&anon);
    free(body);
    /* A batch of 1,001 valid ops: refused whole, none of them stored. */
    enum { N = 1001 };
    sc_op **ops = calloc(N, sizeof *ops);
    uint8_t id[SC_ID_LEN];
    for (int i = 0; i < N; i++)
        ops[i] = sct_op_open_inspection(ki, &clk, id, fx.target);
    size_t len;
    body = sync_body(ops, N, &len);
    sct_request(&ci, "POST", "/v1/sync", body, len, pb, NULL, &r);
    refused(&r, 413, "batch_limit", "1,001 ops in one sync");
    free(body);
    for (int i = 0; i < N; i++)
        sc_op_free(sct_sys_env(), ops[i]);
    free(ops);
    /* One op over 64 KiB + 128 B: that op rejected too_large. */
    char *text = malloc(SC_OP_MAX_BYTES + 1);
    memset(text, 'x', SC_OP_MAX_BYTES);
    text[SC_OP_MAX_BYTES] = '\0';
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__Note note = SCPB__NOTE__INIT;
    note.text = text;
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &note;
    sc_op *huge;
    {
        /* Too big to seal with the library; pack it by hand with a zero signature. */
        sc_uuid7_new(sct_sys_env(), id);
        op.has_entity = true;
        op.entity = (ProtobufCBinaryData){SC_ID_LEN, id};
        op.has_entity_type = true;
        op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
        op.has_version = true;
        op.version = 1;
        size_t ol = scpb__op__get_packed_size(&op);
        uint8_t *ob = malloc(ol);
        scpb__op__pack(&op, ob);
        static const uint8_t zero[SC_SIG_LEN];
        huge = raw_op(ob, ol, zero);
        free(ob);
    }
    op_refused(&ci, huge, SCPB__REASON__REASON_TOO_LARGE, "one op over 64 KiB");
    raw_free(huge);
    free(text);
    /*
     * A photo chunk over blobs.chunk_max, and a photo over blobs.max_size: 413 from the headers,
     * before a byte of the body is read (so they are sent without one).
     */
    static const char *const over[][2] = {{"0-9437183/20000000", "9437184"},
                                          {"0-3/70000000", "4"}};
    for (int i = 0; i < 2; i++) {
        char target[128], head[2048], sig[1024];
        snprintf(target, sizeof target, "/v1/blobs/%064d", 0);
        sct_sign_lines(ki, "PUT", target, "", 0, sig, sizeof sig);
        int hl = snprintf(head, sizeof head,
                          "PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Range: bytes %s\r\n"
                          "Content-Length: %s\r\n%s\r\n",
                          target, over[i][0], over[i][1], sig);
        mark();
        int fd = sct_connect(srv.port);
        ck_assert(sct_send_all(fd, head, (size_t)hl));
        shutdown(fd, SHUT_WR);
        char *resp = sct_recv_all(fd);
        close(fd);
        ck_assert_msg(strncmp(resp, "HTTP/1.1 413", 12) == 0, "range %s: %.80s", over[i][0], resp);
        ck_assert(strstr(resp, "too_large") != NULL);
        free(resp);
        unchanged(i == 0 ? "chunk over 8 MiB" : "photo over 64 MiB");
    }
}
END_TEST

/* ---- an op whose HLC is far in the future ---- */

START_TEST(hlc_far_in_the_future)
{
    uint8_t id[SC_ID_LEN];
    uint64_t ahead = sc_hlc_make(sct_now_ms() + 24 * 3600 * 1000, 0);
    sc_op *op = sct_op_open_inspection(ki, &ahead, id, fx.target);
    op_refused(&ci, op, SCPB__REASON__REASON_CLOCK_AHEAD, "op dated tomorrow");
    sc_op_free(sct_sys_env(), op);
    /* Just past the 5-minute skew. */
    ahead = sc_hlc_make(sct_now_ms() + 6 * 60 * 1000, 0);
    op = sct_op_open_inspection(ki, &ahead, id, fx.target);
    op_refused(&ci, op, SCPB__REASON__REASON_CLOCK_AHEAD, "op 6 minutes ahead");
    sc_op_free(sct_sys_env(), op);
    /* A request from the future is refused before its body counts. */
    sct_sign future = {.time_ms = sct_now_ms() + 10 * 60 * 1000};
    sct_resp r;
    mark();
    sct_request(&ci, "GET", "/v1/log/checkpoint", NULL, 0, NULL, &future, &r);
    refused(&r, 401, "request_time", "request dated 10 minutes ahead");
}
END_TEST

/* ---- an enrollment code used twice or expired ---- */

START_TEST(enrollment_code_reused_or_expired)
{
    sc_keypair *k1 = sct_key(70), *k2 = sct_key(71), *k3 = sct_key(72);
    sct_client c;
    sct_client_init(&c, srv.url, NULL);
    char code[64];
    sct_fixture_code(data, "inspector1", code, sizeof code);
    ck_assert_int_eq(sct_enroll(&c, code, k1, NULL, NULL), 200);
    /* Used twice (another key: a stolen code). */
    mark();
    ck_assert_int_eq(sct_enroll(&c, code, k2, NULL, NULL), 403);
    unchanged("enrollment code used twice");
    /* Expired: a code whose time has run out (its expiry set into the past as time passing would). */
    char code2[64];
    sct_fixture_code(data, "inspector1", code2, sizeof code2);
    char db[700], sql[200];
    snprintf(db, sizeof db, "%s/register.db", data);
    snprintf(sql, sizeof sql,
             "UPDATE enroll_codes SET expires_ms = created_ms + 1 WHERE used_ms IS NULL");
    {
        sqlite3 *h = NULL;
        ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
        sqlite3_busy_timeout(h, 10000);
        ck_assert_int_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_gt(sqlite3_changes(h), 0);
        sqlite3_close(h);
    }
    mark();
    sct_resp r;
    Scpb__EnrollResponse *er = NULL;
    ck_assert_int_eq(sct_enroll(&c, code2, k3, NULL, &er), 403);
    unchanged("expired enrollment code");
    /* The refusals read the same as an unknown code, so codes cannot be probed. */
    ck_assert_int_eq(sct_enroll(&c, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ", k3, NULL, NULL), 403);
    /* And the refused keys cannot sign requests. */
    sct_client c3;
    sct_client_init(&c3, srv.url, k3);
    sct_request(&c3, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r);
    refused(&r, 401, "unknown_device", "key refused enrollment");
    sct_client_dispose(&c3);
    sct_client_dispose(&c);
    sc_keypair_free(k1);
    sc_keypair_free(k2);
    sc_keypair_free(k3);
}
END_TEST

/* ---- a server key file readable by others ---- */

START_TEST(server_key_readable_by_others)
{
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    char key[700], log[700];
    snprintf(key, sizeof key, "%s/server.key", data);
    snprintf(log, sizeof log, "%s/refused.log", tmp);
    static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0666};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        ck_assert_int_eq(chmod(key, modes[i]), 0);
        remove(log);
        const char *argv[] = {sct_syncd_path(), "serve", "--data", data, "--listen",
                              "127.0.0.1:0", NULL};
        int st = sct_wait_pid(sct_spawn(argv, log), 30000);
        ck_assert_msg(st == 1, "syncd serve with server.key mode %o exited %d", modes[i], st);
        FILE *f = fopen(log, "r");
        ck_assert_ptr_nonnull(f);
        char text[4096];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        ck_assert_msg(strstr(text, "server.key") && strstr(text, "chmod 600"),
                      "mode %o: the refusal does not name the file and the fix: %s", modes[i],
                      text);
        ck_assert_msg(strstr(text, "listening on") == NULL, "mode %o: it listened", modes[i]);
    }
    /* 0600 (and 0400) start. */
    ck_assert_int_eq(chmod(key, 0400), 0);
    sct_server_start(&srv, data, NULL);
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    ck_assert_int_eq(chmod(key, 0600), 0);
    sct_server_start(&srv, data, NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/security");
    struct {
        const char *name;
        const TTest *t;
    } cases[] = {
        {"forged_signature", forged_signature},
        {"unenrolled_and_revoked_devices", unenrolled_and_revoked_devices},
        {"replayed_request", replayed_request},
        {"target_out_of_scope", target_out_of_scope},
        {"inspector_closing_finding", inspector_closing_finding},
        {"responsible_never_pulls_unannounced_plan", responsible_never_pulls_unannounced_plan},
        {"auditor_writing", auditor_writing},
        {"photo_bytes_not_matching_hash", photo_bytes_not_matching_hash},
        {"blob_name_path_traversal", blob_name_path_traversal},
        {"oversized_bodies_and_batches", oversized_bodies_and_batches},
        {"hlc_far_in_the_future", hlc_far_in_the_future},
        {"enrollment_code_reused_or_expired", enrollment_code_reused_or_expired},
        {"server_key_readable_by_others", server_key_readable_by_others},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, cases[i].t);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return sct_run(suite());
}
