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
#include <arpa/inet.h>
#include <check.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/governance.h"
#include "core/hlc.h"
#include "core/ids.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"

static sct_live L;            /* the register and its syncd, made anew for each test */
static sc_keypair *ki;        /* inspector1's device, enrolled */
static sct_client ci;
static uint64_t clk;
static sct_stored before;

static const char *const pb[] = {"Content-Type: application/x-protobuf", NULL};

static void enroll(sct_client *c, const sc_keypair *k, const char *login, uint8_t device[SC_ID_LEN])
{
    Scpb__EnrollResponse *er = NULL;
    sct_fixture_enroll(L.data, c, k, login, login, &er);
    if (device)
        memcpy(device, er->device.data, SC_ID_LEN);
    scpb__enroll_response__free_unpacked(er, NULL);
}

static void setup(void)
{
    sct_live_open(&L, true);
    ki = sct_key(1);
    sct_client_init(&ci, L.srv.url, ki);
    enroll(&ci, ki, "inspector1", NULL);
    clk = 0;
}

static void teardown(void)
{
    sct_client_dispose(&ci);
    sc_keypair_free(ki);
    sct_live_close(&L, false);
}

/* Take the register's picture before an attempt ... */
static void mark(void)
{
    sct_stored_get(L.data, &before);
}

/* ... and check nothing moved after it. */
static void unchanged(const char *what)
{
    sct_stored now;
    sct_stored_get(L.data, &now);
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

/* ---- a forged signature ---- */

START_TEST(forged_signature)
{
    /* An op whose signature does not verify under its author. */
    uint8_t id[SC_ID_LEN], sig[SC_SIG_LEN];
    sc_op *op = sct_op_open_inspection(ki, &clk, id, L.fx.target);
    memcpy(sig, op->sig, SC_SIG_LEN);
    sig[7] ^= 0x20;
    sc_op *forged = sct_op_raw(op->op_bytes, op->op_len, sig);
    op_refused(&ci, forged, SCPB__REASON__REASON_BAD_SIGNATURE, "forged op signature");
    sct_op_raw_free(forged);
    sc_op_free(sct_sys_env(), op);

    /* A request whose signature does not verify (one bit), or that signs another target. */
    sc_op *good = sct_op_open_inspection(ki, &clk, id, L.fx.target);
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
    sct_client_init(&cs, L.srv.url, stranger);
    sc_op *op = sct_op_open_inspection(stranger, &clk, id, L.fx.target);
    size_t len;
    uint8_t *body = sync_body(&op, 1, &len);
    sct_resp r;
    mark();
    sct_request(&cs, "POST", "/v1/sync", body, len, pb, NULL, &r);
    refused(&r, 401, "unknown_device", "unenrolled device's sync");
    free(body);
    sc_op_free(sct_sys_env(), op);
    /* Its op relayed by an enrolled device is refused too: the author is not the sender. */
    op = sct_op_open_inspection(stranger, &clk, id, L.fx.target);
    op_refused(&ci, op, SCPB__REASON__REASON_AUTHOR_MISMATCH, "stranger's op relayed");
    sc_op_free(sct_sys_env(), op);

    /* A device revoked by the admin (a lost tablet). */
    sc_keypair *lost = sct_key(41);
    sct_client cl;
    sct_client_init(&cl, L.srv.url, lost);
    uint8_t device[SC_ID_LEN];
    enroll(&cl, lost, "inspector1", device);
    sc_op *before_revoke = sct_op_open_inspection(lost, &clk, id, L.fx.target);
    accepted(&cl, &before_revoke, 1);
    sct_fixture_revoke(L.data, device);
    op = sct_op_open_inspection(lost, &clk, id, L.fx.target);
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
    sc_op *op = sct_op_open_inspection(ki, &clk, id, L.fx.target);
    size_t len;
    uint8_t *body = sync_body(&op, 1, &len);
    sct_resp r;
    ck_assert_int_eq(sct_request(&ci, "POST", "/v1/sync", body, len, pb, NULL, &r), 200);
    sct_resp_dispose(&r);
    /* The same bytes again, headers and all: the nonce was seen. */
    mark();
    sct_sign replay = {.nonce = ci.last_nonce, .time_ms = ci.last_time_ms};
    sct_request(&ci, "POST", "/v1/sync", body, len, pb, &replay, &r);
    refused(&r, 401, "nonce_used", "replayed sync");
    /* The same nonce on a new body (a new op) is refused as well. */
    sc_op *op2 = sct_op_open_inspection(ki, &clk, id, L.fx.target);
    uint8_t *body2 = sync_body(&op2, 1, &len);
    sct_request(&ci, "POST", "/v1/sync", body2, len, pb, &replay, &r);
    refused(&r, 401, "nonce_used", "reused nonce");
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
    sc_op *op = sct_op_open_inspection(ki, &clk, id, L.fx.target_out);
    op_refused(&ci, op, SCPB__REASON__REASON_OUT_OF_SCOPE, "inspection outside the scope");
    sc_op_free(sct_sys_env(), op);
}
END_TEST

/*
 * A finding of `grade` in a new draft inspection of target by inspector1,
 * accepted; its id and create op id out.
 */
static void make_finding_on(const uint8_t target[SC_ID_LEN], Scpb__Grade grade,
                            uint8_t finding[SC_ID_LEN], uint8_t create_id[SC_HASH_LEN])
{
    uint8_t insp[SC_ID_LEN];
    sc_op *ops[2];
    ops[0] = sct_op_open_inspection(ki, &clk, insp, target);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__FindingCreate fc = SCPB__FINDING_CREATE__INIT;
    fc.has_inspection = true;
    fc.inspection = (ProtobufCBinaryData){SC_ID_LEN, insp};
    fc.has_target = true;
    fc.target = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)(uintptr_t)target};
    fc.has_grade = true;
    fc.grade = grade;
    fc.has_rules = true;
    fc.rules = SC_GOV_RULES;
    fc.description =
        grade == SCPB__GRADE__GRADE_MAJOR ? "燃气管道老化未按期检验" : "消防通道被占用";
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &fc;
    sc_uuid7_new(sct_sys_env(), finding);
    ops[1] = seal(ki, &op, finding, SCPB__ENTITY_TYPE__ENTITY_FINDING, NULL, 0);
    accepted(&ci, ops, 2);
    memcpy(create_id, ops[1]->id, SC_HASH_LEN);
    sc_op_free(sct_sys_env(), ops[0]);
    sc_op_free(sct_sys_env(), ops[1]);
}

/* A finding of `grade` in an inspection of fx.target, accepted; its id and create op id out. */
static void make_graded_finding(Scpb__Grade grade, uint8_t finding[SC_ID_LEN],
                                uint8_t create_id[SC_HASH_LEN])
{
    make_finding_on(L.fx.target, grade, finding, create_id);
}

/* A general finding in an inspection of fx.target, accepted; its id and create op id out. */
static void make_finding(uint8_t finding[SC_ID_LEN], uint8_t create_id[SC_HASH_LEN])
{
    make_graded_finding(SCPB__GRADE__GRADE_GENERAL, finding, create_id);
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
    sct_client_init(&ca, L.srv.url, ka);
    enroll(&ca, ka, "auditor1", NULL);
    uint8_t id[SC_ID_LEN];
    sc_op *op = sct_op_open_inspection(ka, &clk, id, L.fx.target);
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
    int st = sct_syncd_run(out, cap, "admin", "--data", L.data, v[0], v[1], v[2], v[3], v[4], v[5],
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
    sct_client_init(&cr, L.srv.url, kr);
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
    ck_assert(!sct_blob_stored(L.data, h));
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
    snprintf(path, sizeof path, "%s/x", L.tmp);
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
    sct_client_init(&anon, L.srv.url, NULL);
    sct_request(&anon, "POST", "/v1/enroll", body, 16 * 1024 + 1, pb, NULL, &r);
    refused(&r, 413, "too_large", "enroll body over 16 KiB");
    sct_client_dispose(&anon);
    free(body);
    /* A batch of 1,001 valid ops: refused whole, none of them stored. */
    enum { N = 1001 };
    sc_op **ops = calloc(N, sizeof *ops);
    uint8_t id[SC_ID_LEN];
    for (int i = 0; i < N; i++)
        ops[i] = sct_op_open_inspection(ki, &clk, id, L.fx.target);
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
        huge = sct_op_raw(ob, ol, zero);
        free(ob);
    }
    op_refused(&ci, huge, SCPB__REASON__REASON_TOO_LARGE, "one op over 64 KiB");
    sct_op_raw_free(huge);
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
        int fd = sct_connect(L.srv.port);
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
    sc_op *op = sct_op_open_inspection(ki, &ahead, id, L.fx.target);
    op_refused(&ci, op, SCPB__REASON__REASON_CLOCK_AHEAD, "op dated tomorrow");
    sc_op_free(sct_sys_env(), op);
    /* Just past the 5-minute skew. */
    ahead = sc_hlc_make(sct_now_ms() + 6 * 60 * 1000, 0);
    op = sct_op_open_inspection(ki, &ahead, id, L.fx.target);
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
    sct_client_init(&c, L.srv.url, NULL);
    char code[64];
    sct_fixture_code(L.data, "inspector1", code, sizeof code);
    ck_assert_int_eq(sct_enroll(&c, code, k1, NULL, NULL), 200);
    /* Used twice (another key: a stolen code). */
    mark();
    ck_assert_int_eq(sct_enroll(&c, code, k2, NULL, NULL), 403);
    unchanged("enrollment code used twice");
    /* Expired: a code whose time has run out (its expiry set into the past as time passing would). */
    char code2[64];
    sct_fixture_code(L.data, "inspector1", code2, sizeof code2);
    char db[700], sql[200];
    snprintf(db, sizeof db, "%s/register.db", L.data);
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
    sct_client_init(&c3, L.srv.url, k3);
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
    ck_assert_int_eq(sct_server_stop(&L.srv), 0);
    char key[700], log[700];
    snprintf(key, sizeof key, "%s/server.key", L.data);
    snprintf(log, sizeof log, "%s/refused.log", L.tmp);
    static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0666};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        ck_assert_int_eq(chmod(key, modes[i]), 0);
        remove(log);
        const char *argv[] = {sct_syncd_path(), "serve",       "--data", L.data,
                              "--listen",       "127.0.0.1:0", NULL};
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
    sct_server_start(&L.srv, L.data, NULL);
    ck_assert_int_eq(sct_server_stop(&L.srv), 0);
    ck_assert_int_eq(chmod(key, 0600), 0);
    sct_server_start(&L.srv, L.data, NULL);
}
END_TEST

/* ---- oracles: hidden entities answer as nonexistent ones ---- */

/* A new device of login, enrolled; its key out (free it) and a client for it in c. */
static sc_keypair *device_of(sct_client *c, const char *login, uint32_t n)
{
    sc_keypair *k = sct_key(n);
    sct_client_init(c, L.srv.url, k);
    enroll(c, k, login, NULL);
    return k;
}

/* `syncd admin` printing an id; the id decoded into out. */
static void admin_entity(const char *const *a, uint8_t out[SC_ID_LEN])
{
    char line[256];
    admin_id(line, sizeof line, a);
    ck_assert_int_eq(sc_hex_decode(line, strlen(line), out, SC_ID_LEN), SC_OK);
}

/*
 * Push op as c; its whole answer (every field of the OpResult but the op
 * id, which hashes the op) as text, with the hex of each of the n ids
 * replaced by "ID".  Nothing may be stored.
 */
static char *op_answer(sct_client *c, sc_op *op, const uint8_t (*ids)[SC_ID_LEN], size_t n)
{
    mark();
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(c, &op, 1, NULL, 0, 0, &r), 200);
    ck_assert_uint_eq(r->n_results, 1);
    const Scpb__OpResult *res = r->results[0];
    char msg[512];
    snprintf(msg, sizeof msg, "%s", res->message ? res->message : "");
    for (size_t i = 0; i < n; i++) {
        char hex[SC_ID_HEX];
        ck_assert_int_eq(sc_hex_encode(ids[i], SC_ID_LEN, hex, sizeof hex), SC_OK);
        for (char *at; (at = strstr(msg, hex)) != NULL;)
            memmove(at + 2, at + strlen(hex), strlen(at + strlen(hex)) + 1), memcpy(at, "ID", 2);
    }
    char *out = malloc(700);
    snprintf(out, 700, "status %d/%d, log index %d/%llu, reason %d/%d, message %d \"%s\"",
             res->has_status, res->status, res->has_log_index, (unsigned long long)res->log_index,
             res->has_reason, res->reason, res->message != NULL, msg);
    scpb__sync_response__free_unpacked(r, NULL);
    unchanged("a probe of a hidden entity");
    return out;
}

/* The answers to two probes are the same, and are refusals for `reason`. */
static void same_answer(char *hidden, char *nonexistent, Scpb__Reason reason, const char *what)
{
    ck_assert_msg(strcmp(hidden, nonexistent) == 0, "%s:\n  hidden:      %s\n  nonexistent: %s",
                  what, hidden, nonexistent);
    char want[64];
    snprintf(want, sizeof want, "status 1/%d, log index 0/0, reason 1/%d,",
             SCPB__OP_STATUS__OP_REJECTED, reason);
    ck_assert_msg(strncmp(hidden, want, strlen(want)) == 0, "%s: %s", what, hidden);
    free(hidden);
    free(nonexistent);
}

/* A rectification report on entity, claimed to be of type. */
static sc_op *report_op(const sc_keypair *k, const uint8_t entity[SC_ID_LEN], Scpb__EntityType type,
                        const uint8_t (*deps)[SC_HASH_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__RectificationReport rr = SCPB__RECTIFICATION_REPORT__INIT;
    rr.note = "已整改";
    op.body_case = SCPB__OP__BODY_RECTIFICATION_REPORT;
    op.rectification_report = &rr;
    return seal(k, &op, entity, type, deps, 1);
}

/*
 * As c (key k), open an inspection of target under the plan, then under an
 * id the register does not have: the same answer, unknown_reference.
 */
static void open_under_plan(sct_client *c, const sc_keypair *k, const uint8_t target[SC_ID_LEN],
                            const uint8_t plan[SC_ID_LEN], const char *what)
{
    uint8_t ids[4][SC_ID_LEN];
    memcpy(ids[0], plan, SC_ID_LEN);
    sc_uuid7_new(sct_sys_env(), ids[1]);
    sc_uuid7_new(sct_sys_env(), ids[2]);
    sc_uuid7_new(sct_sys_env(), ids[3]);
    sc_op *via_plan = sct_op_inspection_open(k, &clk, ids[2], target, ids[0]);
    sc_op *via_none = sct_op_inspection_open(k, &clk, ids[3], target, ids[1]);
    const uint8_t(*named)[SC_ID_LEN] = (const uint8_t(*)[SC_ID_LEN])ids;
    same_answer(op_answer(c, via_plan, named, 4), op_answer(c, via_none, named, 4),
                SCPB__REASON__REASON_UNKNOWN_REFERENCE, what);
    sc_op_free(sct_sys_env(), via_plan);
    sc_op_free(sct_sys_env(), via_none);
}

/* T-GARDEN in the responsible unit's compound, and an unannounced plan on it naming inspector1. */
static void secret_plan(uint8_t garden[SC_ID_LEN], uint8_t plan[SC_ID_LEN])
{
    static const char *const target[] = {"target",      "add",   "T-GARDEN",     "--name",
                                         "君安花园3栋", "--org", "junan-garden", "--type",
                                         "compound",    NULL};
    static const char *const secret[] = {"assign",      "--target", "T-GARDEN", "--inspector",
                                         "inspector1",  "--kind",   "spot",     "--disclosure",
                                         "unannounced", NULL};
    static const char *const insp2[] = {"user",  "add",    "inspector2", "--role",     "inspector",
                                        "--org", "street", "--name",     "另一检查员", NULL};
    admin_entity(target, garden);
    admin_entity(secret, plan);
    char line[256];
    admin_id(line, sizeof line, insp2);
}

START_TEST(hidden_entities_answer_as_nonexistent)
{
    uint8_t garden[SC_ID_LEN], plan[SC_ID_LEN], insp[SC_ID_LEN], finding[SC_ID_LEN];
    secret_plan(garden, plan);
    /* inspector1's draft inspection of the garden, with a finding: hidden from the unit until
     * submitted. */
    sc_op *ops[2];
    ops[0] = sct_op_open_inspection(ki, &clk, insp, garden);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__FindingCreate fc = SCPB__FINDING_CREATE__INIT;
    fc.has_inspection = true;
    fc.inspection = (ProtobufCBinaryData){SC_ID_LEN, insp};
    fc.has_target = true;
    fc.target = (ProtobufCBinaryData){SC_ID_LEN, garden};
    fc.has_grade = true;
    fc.grade = SCPB__GRADE__GRADE_GENERAL;
    fc.description = "楼道堆放杂物";
    fc.has_rules = true;
    fc.rules = SC_GOV_RULES;
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &fc;
    sc_uuid7_new(sct_sys_env(), finding);
    ops[1] = seal(ki, &op, finding, SCPB__ENTITY_TYPE__ENTITY_FINDING, NULL, 0);
    accepted(&ci, ops, 2);
    uint8_t none[SC_ID_LEN];
    sc_uuid7_new(sct_sys_env(), none); /* an id the register does not have */
    static const uint8_t guess[1][SC_HASH_LEN] = {{7}};

    sct_client cr, c2;
    sc_keypair *kr = device_of(&cr, "resp1", 61), *k2 = device_of(&c2, "inspector2", 62);
    uint8_t ids[2][SC_ID_LEN];
    memcpy(ids[0], none, SC_ID_LEN);
    const Scpb__EntityType F = SCPB__ENTITY_TYPE__ENTITY_FINDING;
    const Scpb__EntityType I = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    const Scpb__Reason UNKNOWN = SCPB__REASON__REASON_UNKNOWN_ENTITY;
    struct {
        const char *what;
        sct_client *c;
        const sc_keypair *k;
        const uint8_t *hidden;
        Scpb__EntityType claim;
        bool note;
    } probes[] = {
        {"the unit reporting on a draft's finding", &cr, kr, finding, F, false},
        {"the unit reporting on the plan, called a finding", &cr, kr, plan, F, false},
        {"an unnamed inspector's note on the plan, called an inspection", &c2, k2, plan, I, true},
        {"an unnamed inspector's note on the plan, called a finding", &c2, k2, plan, F, true},
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        const uint8_t *target[2] = {probes[i].hidden, none};
        char *answer[2];
        for (int j = 0; j < 2; j++) {
            sc_op *p = probes[i].note ? sct_op_note(probes[i].k, &clk, target[j], probes[i].claim,
                                                    guess, 1, "探一探")
                                      : report_op(probes[i].k, target[j], probes[i].claim, guess);
            memcpy(ids[1], probes[i].hidden, SC_ID_LEN);
            answer[j] = op_answer(probes[i].c, p, (const uint8_t(*)[SC_ID_LEN])ids, 2);
            sc_op_free(sct_sys_env(), p);
        }
        same_answer(answer[0], answer[1], UNKNOWN, probes[i].what);
    }

    /* A reference: the plan named by an inspection of another target. */
    open_under_plan(&c2, k2, L.fx.target, plan, "an inspection of another target naming the plan");

    /* A create on the plan's own id cannot succeed, but it does not say what the id is. */
    sc_op *squat = sct_op_inspection_open(k2, &clk, plan, L.fx.target, NULL);
    char *ans = op_answer(&c2, squat, NULL, 0);
    ck_assert_msg(strstr(ans, "assignment") == NULL, "the answer names the hidden type: %s", ans);
    free(ans);
    sc_op_free(sct_sys_env(), squat);

    /* The owner's work is untouched, and the unit still pulls none of it. */
    size_t n = 0;
    ck_assert(!pulls_entity(&cr, finding, &n));
    ck_assert(!pulls_entity(&cr, plan, &n));
    ck_assert(pulls_entity(&ci, finding, &n));
    sc_op_free(sct_sys_env(), ops[0]);
    sc_op_free(sct_sys_env(), ops[1]);
    sct_client_dispose(&cr);
    sct_client_dispose(&c2);
    sc_keypair_free(kr);
    sc_keypair_free(k2);
}
END_TEST

/* An inspection of target opened by k, accepted: a self-check (自查) or a spot check. */
static void open_check(sct_client *c, const sc_keypair *k, const uint8_t target[SC_ID_LEN],
                       bool self_check, uint8_t id[SC_ID_LEN], uint8_t head[SC_HASH_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen b = SCPB__INSPECTION_OPEN__INIT;
    b.has_target = b.has_kind = b.has_disclosure = b.has_relation = true;
    b.target = (ProtobufCBinaryData){SC_ID_LEN, (uint8_t *)(uintptr_t)target};
    b.kind = self_check ? SCPB__INSPECTION_KIND__KIND_SELF : SCPB__INSPECTION_KIND__KIND_SPOT;
    b.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
    b.relation = self_check ? SCPB__RELATION__RELATION_SELF : SCPB__RELATION__RELATION_SUPERIOR;
    b.has_self_check = b.self_check = self_check;
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &b;
    sc_uuid7_new(sct_sys_env(), id);
    sc_op *o = seal(k, &op, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, NULL, 0);
    accepted(c, &o, 1);
    memcpy(head, o->id, SC_HASH_LEN);
    sc_op_free(sct_sys_env(), o);
}

/* A submission of inspection insp (head: its head) by k, listing the one finding `listed`. */
static sc_op *submit_listing(const sc_keypair *k, const uint8_t insp[SC_ID_LEN],
                             const uint8_t head[SC_HASH_LEN], const uint8_t listed[SC_ID_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionSubmit b = SCPB__INSPECTION_SUBMIT__INIT;
    ProtobufCBinaryData fl[1] = {{SC_ID_LEN, (uint8_t *)(uintptr_t)listed}};
    b.n_findings = listed ? 1 : 0;
    b.findings = fl;
    op.body_case = SCPB__OP__BODY_INSPECTION_SUBMIT;
    op.inspection_submit = &b;
    return seal(k, &op, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                (const uint8_t(*)[SC_HASH_LEN])head, 1);
}

START_TEST(submission_listing_hidden_finding)
{
    /*
     * inspector1's draft inspection of the compound's T-GARDEN, with a major
     * hazard and no notice yet: hidden from the unit until submitted.  A
     * submission listing it used to be refused with the hazard's grade and
     * what its notice lacks, and one listing an unknown id taken.
     */
    uint8_t garden[SC_ID_LEN], plan[SC_ID_LEN], finding[SC_ID_LEN], create[SC_HASH_LEN];
    secret_plan(garden, plan);
    make_finding_on(garden, SCPB__GRADE__GRADE_MAJOR, finding, create);
    static const char *const insp3[] = {"user",         "add",   "inspector3", "--role",
                                        "inspector",    "--org", "street2",    "--name",
                                        "外街道检查员", NULL};
    char line[256];
    admin_id(line, sizeof line, insp3);
    sct_client cr, c3;
    sc_keypair *kr = device_of(&cr, "resp1", 64), *k3 = device_of(&c3, "inspector3", 65);
    uint8_t ids[2][SC_ID_LEN];
    memcpy(ids[0], finding, SC_ID_LEN);
    sc_uuid7_new(sct_sys_env(), ids[1]); /* an id the register does not have */
    const struct {
        const char *what;
        sct_client *c;
        const sc_keypair *k;
        const uint8_t *target;
        bool self_check;
    } subs[] = {
        {"the unit's self-check listing the hidden hazard", &cr, kr, garden, true},
        {"an inspector out of scope listing it in a check of its own", &c3, k3, L.fx.target_out,
         false},
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        uint8_t insp[SC_ID_LEN], head[SC_HASH_LEN];
        open_check(subs[i].c, subs[i].k, subs[i].target, subs[i].self_check, insp, head);
        char *answer[2];
        for (int j = 0; j < 2; j++) {
            sc_op *sub = submit_listing(subs[i].k, insp, head, ids[j]);
            answer[j] = op_answer(subs[i].c, sub, (const uint8_t(*)[SC_ID_LEN])ids, 2);
            sc_op_free(sct_sys_env(), sub);
        }
        ck_assert_msg(strstr(answer[0], "major") == NULL && strstr(answer[0], "notice") == NULL,
                      "%s: the answer describes the hazard: %s", subs[i].what, answer[0]);
        same_answer(answer[0], answer[1], SCPB__REASON__REASON_UNKNOWN_REFERENCE, subs[i].what);
        /* Listing nothing it may not see, the submission goes in. */
        sc_op *sub = submit_listing(subs[i].k, insp, head, NULL);
        accepted(subs[i].c, &sub, 1);
        sc_op_free(sct_sys_env(), sub);
    }
    size_t n = 0;
    ck_assert(!pulls_entity(&cr, finding, &n));
    sct_client_dispose(&cr);
    sct_client_dispose(&c3);
    sc_keypair_free(kr);
    sc_keypair_free(k3);
}
END_TEST

START_TEST(unnamed_inspector_opening_under_unannounced_plan)
{
    uint8_t garden[SC_ID_LEN], plan[SC_ID_LEN], id[SC_ID_LEN];
    secret_plan(garden, plan);
    sct_client c2;
    sc_keypair *k2 = device_of(&c2, "inspector2", 63);
    /* inspector2 works in the street (the garden is in scope) but the plan does not name them. */
    open_under_plan(&c2, k2, garden, plan, "an unnamed inspector opening under the plan");
    /* The inspector the plan names opens it. */
    sc_uuid7_new(sct_sys_env(), id);
    sc_op *named = sct_op_inspection_open(ki, &clk, id, garden, plan);
    accepted(&ci, &named, 1);
    sc_op_free(sct_sys_env(), named);
    sct_client_dispose(&c2);
    sc_keypair_free(k2);
}
END_TEST

/*
 * A refusal's whole answer but its request id (which every answer has, and
 * which differs by design): HTTP status, reason header, content type, and
 * every field of the Error body.  The caller frees it; r is disposed.
 */
static char *error_answer(sct_resp *r)
{
    Scpb__Error *e = sct_error(r);
    ck_assert_msg(e != NULL, "status %ld: the body is not an Error", r->status);
    ck_assert(e->request_id && e->request_id[0]);
    char *out = malloc(1024);
    snprintf(out, 1024, "%ld %s %s | status %d/%u reason %d/%d message %d \"%s\" unknown %u",
             r->status, r->reason, r->content_type, e->has_status, e->status, e->has_reason,
             e->reason, e->message != NULL, e->message ? e->message : "", e->base.n_unknown_fields);
    scpb__error__free_unpacked(e, NULL);
    sct_resp_dispose(r);
    return out;
}

/* An enrollment's whole answer, as error_answer, and the reason syncd's log gives it. */
static char *enroll_answer(sct_client *c, const char *code, const sc_keypair *k, char *logged,
                           size_t cap)
{
    sct_resp r;
    sct_enroll_answer(c, code, k, NULL, &r);
    ck_assert_msg(sct_server_log_field(&L.srv, r.request_id, "reason", logged, cap),
                  "no log line for request %s", r.request_id);
    return error_answer(&r);
}

START_TEST(enrollment_answers_tell_no_code_from_another)
{
    sct_client c;
    sct_client_init(&c, L.srv.url, NULL);
    char used[64], expired[64], unused[64];
    sct_fixture_code(L.data, "supervisor1", used, sizeof used);
    sc_keypair *first = sct_key(73);
    ck_assert_int_eq(sct_enroll(&c, used, first, NULL, NULL), 200);
    sct_fixture_code(L.data, "supervisor1", expired, sizeof expired);
    char db[700];
    snprintf(db, sizeof db, "%s/register.db", L.data);
    sqlite3 *h = NULL;
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    ck_assert_int_eq(sqlite3_exec(h,
                                  "UPDATE enroll_codes SET expires_ms = created_ms + 1 "
                                  "WHERE used_ms IS NULL",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    sct_fixture_code(L.data, "supervisor1", unused, sizeof unused);

    /*
     * A new key: a used, an expired, a random and a malformed code get one
     * answer; only the operator's log tells them apart.
     */
    sc_keypair *k = sct_key(74);
    const char *codes[] = {used, expired, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ", "not a code at all"};
    const char *why[] = {"code_used", "code_expired", "code_unknown", "code_malformed"};
    char logged[64];
    mark();
    char *first_answer = enroll_answer(&c, codes[0], k, logged, sizeof logged);
    ck_assert_msg(strncmp(first_answer, "403 forbidden_role ", 19) == 0, "%s", first_answer);
    ck_assert_str_eq(logged, why[0]);
    for (size_t i = 1; i < sizeof codes / sizeof codes[0]; i++) {
        char *a = enroll_answer(&c, codes[i], k, logged, sizeof logged);
        ck_assert_msg(strcmp(a, first_answer) == 0, "code \"%s\":\n  %s\nvs a used code:\n  %s",
                      codes[i], a, first_answer);
        ck_assert_msg(strcmp(logged, why[i]) == 0, "code \"%s\" logged as %s, not %s", codes[i],
                      logged, why[i]);
        free(a);
    }
    unchanged("enrollment with a used, expired, random or malformed code");
    /* A key already enrolled: the valid unused code is answered as a random one, and kept. */
    char *valid = enroll_answer(&c, unused, ki, logged, sizeof logged);
    ck_assert_str_eq(logged, "entity_exists");
    char *random = enroll_answer(&c, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ", ki, logged, sizeof logged);
    ck_assert_str_eq(logged, "entity_exists");
    ck_assert_msg(strcmp(valid, random) == 0, "an enrolled key tells a valid code:\n  %s\n  %s",
                  valid, random);
    ck_assert_msg(strncmp(valid, "409 entity_exists ", 18) == 0, "%s", valid);
    unchanged("an enrolled key probing codes");
    ck_assert_int_eq(sct_enroll(&c, unused, k, NULL, NULL), 200);
    free(valid);
    free(random);
    free(first_answer);
    sc_keypair_free(k);
    sc_keypair_free(first);
    sct_client_dispose(&c);
}
END_TEST

/* A request as c, signed as sign says: its whole refusal; nothing stored. */
static char *request_answer(sct_client *c, const char *method, const char *target,
                            const uint8_t *body, size_t len, const sct_sign *sign)
{
    sct_resp r;
    mark();
    sct_request(c, method, target, body, len, body ? pb : NULL, sign, &r);
    char *out = error_answer(&r);
    unchanged("a request with a bad signature");
    return out;
}

/* ---- a device's standing, told only to the holder of its key ---- */

START_TEST(device_standing_told_after_signature)
{
    /* A second tablet of inspector1, revoked; a user's tablet, and then the user disabled. */
    sc_keypair *lost = sct_key(42), *gone = sct_key(43);
    sct_client cl, cg;
    sct_client_init(&cl, L.srv.url, lost);
    sct_client_init(&cg, L.srv.url, gone);
    uint8_t device[SC_ID_LEN];
    enroll(&cl, lost, "inspector1", device);
    sct_fixture_revoke(L.data, device);
    static const char *const add[] = {"user",  "add",    "inspector9", "--role",     "inspector",
                                      "--org", "street", "--name",     "调离检查员", NULL};
    static const char *const disable[] = {"user", "disable", "inspector9", NULL};
    char line[256];
    admin_id(line, sizeof line, add);
    enroll(&cg, gone, "inspector9", NULL);
    admin_id(line, sizeof line, disable);

    /*
     * Garbage signatures over the public keys: a push (checked before its
     * body is read), a read declaring its empty body's hash, and one that
     * does not (checked at its end).  The revoked and the disabled devices
     * get, byte for byte, what the active one gets.
     */
    uint8_t id[SC_ID_LEN];
    sc_op *op = sct_op_open_inspection(ki, &clk, id, L.fx.target);
    size_t len;
    uint8_t *body = sync_body(&op, 1, &len);
    const sct_sign bad = {.corrupt = true}, bad_no_hash = {.corrupt = true, .no_body_hash = true};
    const struct {
        const char *method, *target;
        const uint8_t *body;
        size_t len;
        const sct_sign *sign;
    } reqs[] = {
        {"POST", "/v1/sync", body, len, &bad},
        {"GET", "/v1/log/checkpoint", NULL, 0, &bad},
        {"GET", "/v1/log/checkpoint", NULL, 0, &bad_no_hash},
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        char *active = request_answer(&ci, reqs[i].method, reqs[i].target, reqs[i].body,
                                      reqs[i].len, reqs[i].sign);
        ck_assert_msg(strncmp(active, "401 bad_signature ", 18) == 0, "%s %s: %s", reqs[i].method,
                      reqs[i].target, active);
        sct_client *others[] = {&cl, &cg};
        for (size_t j = 0; j < 2; j++) {
            char *got = request_answer(others[j], reqs[i].method, reqs[i].target, reqs[i].body,
                                       reqs[i].len, reqs[i].sign);
            ck_assert_msg(strcmp(got, active) == 0, "%s %s, %s device:\n  got:    %s\n  active: %s",
                          reqs[i].method, reqs[i].target, j == 0 ? "revoked" : "disabled user's",
                          got, active);
            free(got);
        }
        free(active);
    }

    /* Signed by the key's holder, each is told why it is refused. */
    sct_resp r;
    mark();
    sct_request(&cl, "POST", "/v1/sync", body, len, pb, NULL, &r);
    refused(&r, 403, "device_revoked", "revoked device's sync");
    sct_request(&cl, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r);
    refused(&r, 403, "device_revoked", "revoked device's checkpoint");
    sct_request(&cg, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r);
    char *told = error_answer(&r);
    ck_assert_msg(strncmp(told, "403 user_disabled ", 18) == 0 && strstr(told, "inspector9"),
                  "disabled user's checkpoint: %s", told);
    free(told);
    sct_request(&cg, "POST", "/v1/sync", body, len, pb, NULL, &r);
    refused(&r, 403, "user_disabled", "disabled user's sync");
    free(body);
    sc_op_free(sct_sys_env(), op);
    sct_client_dispose(&cl);
    sct_client_dispose(&cg);
    sc_keypair_free(lost);
    sc_keypair_free(gone);
}
END_TEST

/* A non-loopback IPv4 address of this machine into ip (cap bytes); false when it has none. */
static bool outside_address(char *ip, size_t cap)
{
    struct ifaddrs *all = NULL;
    bool found = false;
    if (getifaddrs(&all) != 0)
        return false;
    for (struct ifaddrs *i = all; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
            !(i->ifa_flags & IFF_UP))
            continue;
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)i->ifa_addr;
        found = inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)cap) != NULL &&
                strncmp(ip, "127.", 4) != 0;
    }
    freeifaddrs(all);
    return found;
}

/* GET /metrics from base with the extra header lines (may be NULL); the answer in r. */
static long get_metrics(const char *base, const char *const *headers, sct_resp *r)
{
    sct_client c;
    sct_client_init(&c, base, NULL);
    long st = sct_request(&c, "GET", "/metrics", NULL, 0, headers, NULL, r);
    sct_client_dispose(&c);
    return st;
}

START_TEST(metrics_for_operators_only)
{
    sct_resp r;
    /* Loopback, no token configured: served. */
    ck_assert_int_eq(get_metrics(L.srv.url, NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr((const char *)r.body, "syncd_log_size"));
    sct_resp_dispose(&r);
    /* From an address of the machine that is not loopback: refused. */
    char ip[64], url[128];
    if (outside_address(ip, sizeof ip)) {
        ck_assert_int_eq(sct_server_stop(&L.srv), 0);
        static const char *const any[] = {"--listen", "0.0.0.0:0", NULL};
        sct_server_start(&L.srv, L.data, any);
        snprintf(url, sizeof url, "http://%s:%u", ip, (unsigned)L.srv.port);
        mark();
        get_metrics(url, NULL, &r);
        refused(&r, 403, "forbidden_role", "metrics from a non-loopback address");
        char lo[64];
        snprintf(lo, sizeof lo, "http://127.0.0.1:%u", (unsigned)L.srv.port);
        ck_assert_int_eq(get_metrics(lo, NULL, &r), 200);
        sct_resp_dispose(&r);
    } else {
        fprintf(stderr, "metrics_for_operators_only: this machine has no non-loopback IPv4 "
                        "address; that refusal is covered by syncd/metrics alone\n");
    }

    /* With a token: asked of everyone, loopback too; a wrong one is answered as none at all. */
    char token[700], conf[700], line[800];
    static const char secret[] = "0f3c9a71d2e84b56a1c07e9f3b2d6c48e5a7f1093b8d2c6e4f7a1b0c9d8e2f3a";
    snprintf(token, sizeof token, "%s/metrics.token", L.tmp);
    snprintf(conf, sizeof conf, "%s/syncd.conf", L.tmp);
    FILE *f = fopen(token, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", secret);
    fclose(f);
    ck_assert_int_eq(chmod(token, 0600), 0);
    f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "metrics.token_file = %s\n", token);
    fclose(f);
    ck_assert_int_eq(sct_server_stop(&L.srv), 0);
    const char *const with_conf[] = {"--config", conf, NULL};
    sct_server_start(&L.srv, L.data, with_conf);
    static const char *const wrong[] = {
        "Authorization: Bearer 1f3c9a71d2e84b56a1c07e9f3b2d6c48e5a7f1093b8d2c6e4f7a1b0c9d8e2f3a",
        NULL};
    mark();
    get_metrics(L.srv.url, NULL, &r);
    char *none = error_answer(&r);
    get_metrics(L.srv.url, wrong, &r);
    char *bad = error_answer(&r);
    ck_assert_msg(strcmp(none, bad) == 0, "no token:\n  %s\nwrong token:\n  %s", none, bad);
    ck_assert_msg(strncmp(none, "403 forbidden_role ", 19) == 0, "%s", none);
    free(none);
    free(bad);
    unchanged("metrics without the right token");
    snprintf(line, sizeof line, "Authorization: Bearer %s", secret);
    const char *const right[] = {line, NULL};
    ck_assert_int_eq(get_metrics(L.srv.url, right, &r), 200);
    ck_assert_ptr_nonnull(strstr((const char *)r.body, "syncd_ops_accepted_total"));
    sct_resp_dispose(&r);

    /* A token file others may read is refused at start, naming the fix. */
    ck_assert_int_eq(sct_server_stop(&L.srv), 0);
    ck_assert_int_eq(chmod(token, 0644), 0);
    char log[700];
    snprintf(log, sizeof log, "%s/refused.log", L.tmp);
    const char *argv[] = {sct_syncd_path(), "serve",    "--data", L.data, "--listen",
                          "127.0.0.1:0",    "--config", conf,     NULL};
    ck_assert_int_eq(sct_wait_pid(sct_spawn(argv, log), 30000), 1);
    f = fopen(log, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    ck_assert_msg(strstr(line, "chmod 600") != NULL, "%s", line);
    sct_server_start(&L.srv, L.data, NULL);
}
END_TEST

/* ---- separation of duties: one person, two tablets ---- */

/*
 * An op of `kind` on the finding with one dep; body filled from the
 * arguments: a revisit rectified or not (an acceptance, 验收, when
 * acceptance), a notice naming the compound's unit.
 */
static sc_op *finding_op_v(const sc_keypair *k, const uint8_t finding[SC_ID_LEN],
                           Scpb__Op__BodyCase kind, bool rectified, bool acceptance,
                           const uint8_t dep[SC_HASH_LEN])
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__RectificationReport rr = SCPB__RECTIFICATION_REPORT__INIT;
    Scpb__Revisit rv = SCPB__REVISIT__INIT;
    Scpb__Closure cl = SCPB__CLOSURE__INIT;
    Scpb__Notice nt = SCPB__NOTICE__INIT;
    op.body_case = kind;
    rr.note = "已更换管道";
    op.rectification_report = &rr;
    if (kind == SCPB__OP__BODY_NOTICE) {
        nt.has_responsible = nt.has_deadline_day = true;
        nt.responsible = (ProtobufCBinaryData){SC_ID_LEN, L.fx.compound};
        nt.deadline_day = 21000;
        op.notice = &nt;
    } else if (kind == SCPB__OP__BODY_REVISIT) {
        rv.has_result = true;
        rv.result = rectified ? SCPB__REVISIT_RESULT__REVISIT_RECTIFIED
                              : SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED;
        rv.has_acceptance = acceptance;
        rv.acceptance = acceptance;
        op.revisit = &rv;
    } else if (kind == SCPB__OP__BODY_CLOSURE) {
        cl.note = "销号";
        op.closure = &cl;
    }
    return seal(k, &op, finding, SCPB__ENTITY_TYPE__ENTITY_FINDING,
                (const uint8_t(*)[SC_HASH_LEN])dep, 1);
}

static sc_op *finding_op(const sc_keypair *k, const uint8_t finding[SC_ID_LEN],
                         Scpb__Op__BodyCase kind, bool rectified, const uint8_t dep[SC_HASH_LEN])
{
    return finding_op_v(k, finding, kind, rectified, false, dep);
}

/* Push one op as c, accepted; its id becomes the new head. */
static void step(sct_client *c, sc_op *op, uint8_t head[SC_HASH_LEN])
{
    accepted(c, &op, 1);
    memcpy(head, op->id, SC_HASH_LEN);
    sc_op_free(sct_sys_env(), op);
}

START_TEST(one_person_two_tablets_closing_major_hazard)
{
    uint8_t finding[SC_ID_LEN], head[SC_HASH_LEN];
    make_graded_finding(SCPB__GRADE__GRADE_MAJOR, finding, head);
    sct_client ca, cb;
    sc_keypair *ka = device_of(&ca, "supervisor1", 64), *kb = device_of(&cb, "supervisor1", 65);
    const Scpb__Op__BodyCase REPORT = SCPB__OP__BODY_RECTIFICATION_REPORT,
                             REVISIT = SCPB__OP__BODY_REVISIT, CLOSE = SCPB__OP__BODY_CLOSURE;
    /* Its notice names the compound's unit as responsible (the street's inspector is above it). */
    step(&ci, finding_op(ki, finding, SCPB__OP__BODY_NOTICE, false, head), head);
    /* Tablet A reports the rectification, tablet B verifies it: both acknowledged... */
    step(&ca, finding_op(ka, finding, REPORT, false, head), head);
    step(&cb, finding_op(kb, finding, REVISIT, true, head), head);
    sct_stored acked;
    sct_stored_get(L.data, &acked);
    /* ...but the hazard was not checked by someone else: neither tablet may close it. */
    sc_op *close_a = finding_op(ka, finding, CLOSE, false, head);
    sc_op *close_b = finding_op(kb, finding, CLOSE, false, head);
    for (int i = 0; i < 2; i++) {
        sc_op *c = i ? close_b : close_a;
        mark();
        Scpb__SyncResponse *r = NULL;
        ck_assert_int_eq(sct_sync(i ? &cb : &ca, &c, 1, NULL, 0, 0, &r), 200);
        const Scpb__OpResult *res = r->results[0];
        ck_assert_int_eq(res->status, SCPB__OP_STATUS__OP_REJECTED);
        ck_assert_int_eq(res->reason, SCPB__REASON__REASON_INVALID_TRANSITION);
        ck_assert_msg(strstr(res->message, "someone other than") != NULL, "%s", res->message);
        scpb__sync_response__free_unpacked(r, NULL);
        unchanged("one supervisor's second tablet closing the hazard");
    }
    sc_op_free(sct_sys_env(), close_a);
    sc_op_free(sct_sys_env(), close_b);
    /* The acknowledged report and revisit stand. */
    sct_stored now;
    sct_stored_get(L.data, &now);
    sct_stored_same(&acked, &now, "the acknowledged report and revisit");
    /* Someone else's acceptance (sent back, reported again, accepted by the street above the
     * unit) is still not enough for tablet B: its user reported, and the closer is a third
     * person (docs/data-model.md §4.1); another supervisor closes it. */
    step(&ci, finding_op(ki, finding, REVISIT, false, head), head);
    step(&ca, finding_op(ka, finding, REPORT, false, head), head);
    step(&ci, finding_op_v(ki, finding, REVISIT, true, true, head), head);
    sc_op *close_again = finding_op(kb, finding, CLOSE, false, head);
    mark();
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(&cb, &close_again, 1, NULL, 0, 0, &r), 200);
    ck_assert_int_eq(r->results[0]->status, SCPB__OP_STATUS__OP_REJECTED);
    ck_assert_msg(strstr(r->results[0]->message, "the closer must be someone other than the reporter"),
                  "%s", r->results[0]->message);
    scpb__sync_response__free_unpacked(r, NULL);
    unchanged("the reporter's second tablet closing the hazard");
    sc_op_free(sct_sys_env(), close_again);
    static const char *const sup2[] = {"user", "add",  "supervisor2", "--role", "supervisor",
                                       "--org", "county", NULL};
    char line[256];
    admin_id(line, sizeof line, sup2);
    sct_client cc;
    sc_keypair *kc = device_of(&cc, "supervisor2", 66);
    step(&cc, finding_op(kc, finding, CLOSE, false, head), head);
    sct_client_dispose(&cc);
    sc_keypair_free(kc);
    char out[8192];
    int st = sct_audit(L.data, out, sizeof out);
    ck_assert_msg(st == 0, "syncd audit exited %d: %s", st, out);
    sct_client_dispose(&ca);
    sct_client_dispose(&cb);
    sc_keypair_free(ka);
    sc_keypair_free(kb);
}
END_TEST

/* ---- non-canonical bytes: one content, two op ids ---- */

START_TEST(reordered_fields_refused)
{
    uint8_t id[SC_ID_LEN];
    sc_op *canon = sct_op_open_inspection(ki, &clk, id, L.fx.target);
    /* The same op with its first field (version, 08 01) moved to the end, properly signed. */
    size_t n = canon->op_len;
    ck_assert(n > 2 && canon->op_bytes[0] == 0x08 && canon->op_bytes[1] == 0x01);
    uint8_t *moved = malloc(n);
    memcpy(moved, canon->op_bytes + 2, n - 2);
    memcpy(moved + n - 2, canon->op_bytes, 2);
    uint8_t sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(sct_sys_env(), ki, SC_DOMAIN_OP, moved, n, sig), SC_OK);
    sc_op *reordered = sct_op_raw(moved, n, sig);
    /* The envelope's fields the other way round: the signature first. */
    Scpb__SignedOp half = SCPB__SIGNED_OP__INIT;
    half.has_sig = true;
    half.sig = (ProtobufCBinaryData){SC_SIG_LEN, (uint8_t *)(uintptr_t)canon->sig};
    size_t hn = scpb__signed_op__get_packed_size(&half);
    sc_op *flipped = calloc(1, sizeof *flipped);
    flipped->signed_len = canon->signed_len;
    flipped->signed_bytes = malloc(flipped->signed_len);
    scpb__signed_op__pack(&half, flipped->signed_bytes);
    half.has_sig = false;
    half.has_op = true;
    half.op = (ProtobufCBinaryData){canon->op_len, (uint8_t *)(uintptr_t)canon->op_bytes};
    ck_assert_uint_eq(hn + scpb__signed_op__get_packed_size(&half), flipped->signed_len);
    scpb__signed_op__pack(&half, flipped->signed_bytes + hn);
    ck_assert_mem_ne(flipped->signed_bytes, canon->signed_bytes, canon->signed_len);

    for (int round = 0; round < 2; round++) {
        op_refused(&ci, reordered, SCPB__REASON__REASON_MALFORMED, "reordered op fields");
        op_refused(&ci, flipped, SCPB__REASON__REASON_MALFORMED, "reordered envelope fields");
        if (round == 0)
            accepted(&ci, &canon, 1); /* the canonical bytes go in; the variants still do not */
    }
    /* One content, one op id in the log. */
    sct_reg_view reg;
    sct_reg_read(L.data, &reg);
    uint8_t other[SC_HASH_LEN];
    sc_sha256(moved, n, other);
    ck_assert(sct_reg_has(&reg, canon->id, UINT64_MAX));
    ck_assert(!sct_reg_has(&reg, other, UINT64_MAX));
    sct_reg_dispose(&reg);
    free(moved);
    sct_op_raw_free(reordered);
    sct_op_raw_free(flipped);
    sc_op_free(sct_sys_env(), canon);
}
END_TEST

/* ---- a free-form inspection grown without bound ---- */

/* An amendment of insp by inspector1 scoring codes PREFIX0 .. PREFIX(n-1) met, after dep. */
static sc_op *amend_op(const uint8_t insp[SC_ID_LEN], const char *prefix, size_t n,
                       const uint8_t dep[SC_HASH_LEN])
{
    static char codes[SC_TEMPLATE_ITEMS_MAX][16];
    Scpb__ItemResult res[SC_TEMPLATE_ITEMS_MAX], *rp[SC_TEMPLATE_ITEMS_MAX];
    ck_assert_uint_le(n, SC_TEMPLATE_ITEMS_MAX);
    for (size_t k = 0; k < n; k++) {
        snprintf(codes[k], sizeof codes[k], "%s%zu", prefix, k);
        scpb__item_result__init(&res[k]);
        res[k].item_code = codes[k];
        res[k].has_status = true;
        res[k].status = SCPB__ITEM_STATUS__ITEM_MET;
        rp[k] = &res[k];
    }
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionAmend am = SCPB__INSPECTION_AMEND__INIT;
    am.reason = "补录检查项";
    am.n_results = n;
    am.results = rp;
    op.body_case = SCPB__OP__BODY_INSPECTION_AMEND;
    op.inspection_amend = &am;
    return seal(ki, &op, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                (const uint8_t(*)[SC_HASH_LEN])dep, 1);
}

/* A free-form inspection (no score sheet) the inspector opened and submitted: its head into head. */
static void submitted_free_form(uint8_t insp[SC_ID_LEN], uint8_t head[SC_HASH_LEN])
{
    step(&ci, sct_op_open_inspection(ki, &clk, insp, L.fx.target), head);
    step(&ci, submit_listing(ki, insp, head, NULL), head);
}

/*
 * An inspector's device grows one free-form inspection (no score sheet, so
 * any item codes) by amendments of 500 new codes each.  Every code is a
 * register the fold looks up and the state lists, so each new op made the
 * register's fold of it slower, quadratically: at 35,000 codes a push of
 * ten 5 KiB amendments held the register's single writer, and every other
 * device's push, for minutes.  A free-form inspection scores at most as
 * many items as a score sheet holds (SC_TEMPLATE_ITEMS_MAX); past that an
 * amendment is refused bad_field, while the items it has may still be
 * amended.
 */
START_TEST(free_form_inspection_grown_without_bound)
{
    uint8_t insp[SC_ID_LEN], head[SC_HASH_LEN];
    submitted_free_form(insp, head);
    step(&ci, amend_op(insp, "a", SC_TEMPLATE_ITEMS_MAX, head), head);
    /* One code more than a sheet can hold, alone or among codes the inspection has. */
    sc_op *more = amend_op(insp, "b", 1, head);
    op_refused(&ci, more, SCPB__REASON__REASON_BAD_FIELD, "a free-form inspection's 501st item");
    sc_op_free(sct_sys_env(), more);
    more = amend_op(insp, "a", SC_TEMPLATE_ITEMS_MAX, head);
    accepted(&ci, &more, 1);
    sc_op_free(sct_sys_env(), more);
}
END_TEST

/*
 * Each push on an inspection folds all its ops again, so an inspector's
 * device amending every item of one inspection over and over made each push
 * cost the register's writer about a millisecond per op already logged.
 * An inspection takes at most SC_INSPECTION_RESULTS_MAX item results over
 * its life; the next amendment is refused entity_full, logging nothing.
 */
START_TEST(inspection_results_bounded_over_its_life)
{
    uint8_t insp[SC_ID_LEN], head[SC_HASH_LEN];
    submitted_free_form(insp, head);
    enum { PER_PUSH = 10 };
    const size_t full = SC_INSPECTION_RESULTS_MAX / SC_TEMPLATE_ITEMS_MAX;
    ck_assert_uint_eq(full % PER_PUSH, 0);
    for (size_t k = 0; k < full; k += PER_PUSH) {
        sc_op *ops[PER_PUSH];
        for (size_t i = 0; i < PER_PUSH; i++) {
            ops[i] = amend_op(insp, "a", SC_TEMPLATE_ITEMS_MAX, head);
            memcpy(head, ops[i]->id, SC_HASH_LEN);
        }
        accepted(&ci, ops, PER_PUSH);
        for (size_t i = 0; i < PER_PUSH; i++)
            sc_op_free(sct_sys_env(), ops[i]);
    }
    sc_op *more = amend_op(insp, "a", 1, head);
    op_refused(&ci, more, SCPB__REASON__REASON_ENTITY_FULL, "the inspection's 20,001st result");
    sc_op_free(sct_sys_env(), more);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/security");
    const sct_case cases[] = {
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
        {"hidden_entities_answer_as_nonexistent", hidden_entities_answer_as_nonexistent},
        {"submission_listing_hidden_finding", submission_listing_hidden_finding},
        {"unnamed_inspector_opening_under_unannounced_plan",
         unnamed_inspector_opening_under_unannounced_plan},
        {"enrollment_answers_tell_no_code_from_another",
         enrollment_answers_tell_no_code_from_another},
        {"device_standing_told_after_signature", device_standing_told_after_signature},
        {"metrics_for_operators_only", metrics_for_operators_only},
        {"one_person_two_tablets_closing_major_hazard",
         one_person_two_tablets_closing_major_hazard},
        {"reordered_fields_refused", reordered_fields_refused},
        {"free_form_inspection_grown_without_bound", free_form_inspection_grown_without_bound},
        {"inspection_results_bounded_over_its_life", inspection_results_bounded_over_its_life},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown, .timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
