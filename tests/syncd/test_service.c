/*
 * test_service.c: the sync protocol served in process (syncd/sync/service.h),
 * with no HTTP: a signed request is authenticated from its method, target,
 * headers and body as plain values, a sync is served from the decoded
 * request to a sealed answer the client's checks accept, photos are put and
 * read, and each refusal carries the status, reason and message the HTTP
 * side sends.  The register is a real one, made by `syncd init` and
 * `syncd admin` (sctest_fixture.h).
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/reason.h"
#include "core/seal.h"
#include "scops.h"
#include "sctest.h"
#include "sctest_inproc.h"
#include "sctest_server.h"

static sct_inproc P;

/* The User-Agent the test's requests carry; a verified request notes it as its device's client. */
#define SERVICE_AGENT "spotcheck-test/1 libspotcheck/0"

static void tune(sd_config *cfg)
{
    cfg->batch_max = 5;
}

static void setup(void)
{
    sct_inproc_open(&P, tune);
}

static void teardown(void)
{
    sct_inproc_close(&P);
}

/* A request as a transport hands it over: method, target, the signature headers, the body. */
typedef struct signed_req {
    char device[65], time[24], nonce[33], sig[129], body_hash[65];
    sd_auth_headers h;
} signed_req;

static void hexs(const uint8_t *b, size_t n, char *out)
{
    ck_assert_int_eq(sc_hex_encode(b, n, out, 2 * n + 1), SC_OK);
}

/* Sign as a client does (docs/protocol.md §3), with nonce number k; the signed body may differ. */
static void sign(signed_req *s, const sc_keypair *kp, const char *method, const char *target,
                 const void *body, size_t len, uint32_t k)
{
    memset(s, 0, sizeof *s);
    hexs(sc_keypair_public(kp), SC_KEY_LEN, s->device);
    snprintf(s->time, sizeof s->time, "%" PRId64, sct_now_ms());
    uint8_t nonce[16] = {0};
    memcpy(nonce, &k, sizeof k);
    nonce[15] = 0xa5;
    hexs(nonce, sizeof nonce, s->nonce);
    uint8_t bh[SC_HASH_LEN];
    sc_sha256(body, len, bh);
    hexs(bh, SC_HASH_LEN, s->body_hash);
    uint8_t msg[1024], sig[SC_SIG_LEN];
    size_t n = sct_canonical(method, target, s->time, s->nonce, body, len, msg, sizeof msg);
    ck_assert_int_eq(sc_sign(sct_sys_env(), kp, SC_DOMAIN_REQUEST, msg, n, sig), SC_OK);
    hexs(sig, sizeof sig, s->sig);
    s->h = (sd_auth_headers){s->device, s->time, s->nonce, s->sig, s->body_hash, SERVICE_AGENT};
}

/* Enroll key as login through the register, as POST /v1/enroll does. */
static void enroll(const sc_keypair *kp, const char *login)
{
    char code[64];
    sct_fixture_code(P.fx.dir, login, code, sizeof code);
    const uint8_t *pub = sc_keypair_public(kp);
    uint8_t msg[96], sig[SC_SIG_LEN];
    size_t cl = strlen(code);
    memcpy(msg, code, cl);
    memcpy(msg + cl, pub, SC_KEY_LEN);
    ck_assert_int_eq(sc_sign(sct_sys_env(), kp, SC_DOMAIN_ENROLL, msg, cl + SC_KEY_LEN, sig),
                     SC_OK);
    Scpb__EnrollRequest req = SCPB__ENROLL_REQUEST__INIT;
    req.code = code;
    req.has_device_key = true;
    req.device_key = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)pub};
    req.has_proof = true;
    req.proof = (ProtobufCBinaryData){SC_SIG_LEN, sig};
    Scpb__EnrollResponse *out = NULL;
    sd_answer a;
    ck_assert_msg(sd_enroll_serve(&P.svc, &req, &out, &a) == SC_OK, "%u %s", a.status, a.message);
    ck_assert(out->has_server_key &&
              memcmp(out->server_key.data, sd_register_server_key(P.reg), SC_KEY_LEN) == 0);
    sd_msg_free(out);
    /* The code is used now: the same request again is refused like any code that does not work. */
    ck_assert_int_ne(sd_enroll_serve(&P.svc, &req, &out, &a), SC_OK);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(a.status, 409);
    ck_assert_int_eq(a.reason, SC_REASON_ENTITY_EXISTS);
}

/* A SyncRequest body pushing ops[0..n), malloc'd into *len bytes. */
static uint8_t *sync_body(sc_op *const *ops, size_t n, size_t *len)
{
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    ProtobufCBinaryData raw[8];
    ck_assert_uint_le(n, 8);
    for (size_t i = 0; i < n; i++)
        raw[i] = (ProtobufCBinaryData){ops[i]->signed_len, ops[i]->signed_bytes};
    sr.n_ops = n;
    sr.ops = raw;
    *len = scpb__sync_request__get_packed_size(&sr);
    uint8_t *b = malloc(*len ? *len : 1);
    ck_assert_ptr_nonnull(b);
    scpb__sync_request__pack(&sr, b);
    return b;
}

/*
 * Authenticate and serve one sync of body; SC_OK with *out (free with
 * sd_sync_response_free), or the refusal in *a.
 */
static sc_status serve(const sc_keypair *kp, const uint8_t *body, size_t len, uint32_t k,
                       Scpb__SyncResponse **out, sd_req_meta *meta, sd_answer *a)
{
    signed_req s;
    sign(&s, kp, "POST", "/v1/sync", body, len, k);
    sd_principal who;
    sc_status rc =
        sd_service_authenticate(&P.svc, "POST", "/v1/sync", 8, &s.h, body, len, &who, meta, a);
    if (rc != SC_OK)
        return rc;
    Scpb__SyncRequest *sr = scpb__sync_request__unpack(NULL, len, body);
    ck_assert_ptr_nonnull(sr);
    sd_sync_counts counts;
    rc = sd_sync_serve(&P.svc, &who, sr, meta, out, &counts, a);
    if (rc == SC_OK)
        ck_assert_uint_eq(counts.pushed, sr->n_ops);
    /* The answer is freed before the request it borrows from: encode it now. */
    if (rc == SC_OK) {
        size_t n = scpb__sync_response__get_packed_size(*out);
        uint8_t *buf = malloc(n ? n : 1);
        scpb__sync_response__pack(*out, buf);
        sd_sync_response_free(*out);
        *out = scpb__sync_response__unpack(NULL, n, buf);
        ck_assert_ptr_nonnull(*out);
        free(buf);
    }
    scpb__sync_request__free_unpacked(sr, NULL);
    return rc;
}

START_TEST(sync_is_served_and_sealed)
{
    sc_keypair *ki = sct_key(1);
    enroll(ki, "inspector1");
    uint64_t clock = 0;
    uint8_t insp[SC_ID_LEN];
    sc_op *ops[2];
    ops[0] = sct_op_open_inspection(ki, &clock, insp, P.fx.target);
    ops[1] = sct_op_note(ki, &clock, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                         (const uint8_t(*)[SC_HASH_LEN])ops[0]->id, 1, "门岗未测温");
    size_t len;
    uint8_t *body = sync_body(ops, 2, &len);
    Scpb__SyncResponse *r = NULL;
    sd_req_meta meta;
    sd_answer a;
    ck_assert_msg(serve(ki, body, len, 1, &r, &meta, &a) == SC_OK, "%u %s", a.status, a.message);
    ck_assert_uint_eq(r->n_results, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(r->results[i]->status, SCPB__OP_STATUS__OP_ACCEPTED);
        ck_assert(memcmp(r->results[i]->op_id.data, ops[i]->id, SC_HASH_LEN) == 0);
    }
    ck_assert_uint_eq(r->checkpoint->size, r->results[1]->log_index + 1);
    ck_assert_ptr_nonnull(r->receipt);
    /* The seal binds the answer to this request, under the server key, as the client checks. */
    Scpb__SyncSeal *seal = NULL;
    sc_err e;
    sc_err_clear(&e);
    ck_assert_msg(sc_seal_open(sct_sys_env(), sd_register_server_key(P.reg), r->seal.data,
                               r->seal.len, r->seal_sig.data, r->seal_sig.len, &seal, &e) == SC_OK,
                  "%s", e.msg);
    ck_assert_uint_eq(seal->nonce.len, 16);
    ck_assert(memcmp(seal->nonce.data, meta.nonce, 16) == 0);
    ck_assert(memcmp(seal->request_hash.data, meta.body_hash, SC_HASH_LEN) == 0);
    scpb__sync_seal__free_unpacked(seal, NULL);
    scpb__sync_response__free_unpacked(r, NULL);

    /* The same ops again, with a new nonce: duplicates at the same indexes. */
    ck_assert(serve(ki, body, len, 2, &r, &meta, &a) == SC_OK);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(r->results[i]->status, SCPB__OP_STATUS__OP_DUPLICATE);
    scpb__sync_response__free_unpacked(r, NULL);
    free(body);
    for (int i = 0; i < 2; i++)
        sc_op_free(sct_sys_env(), ops[i]);
    sc_keypair_free(ki);
}
END_TEST

START_TEST(refusals_are_the_protocols)
{
    sc_keypair *ki = sct_key(1), *stranger = sct_key(9);
    enroll(ki, "inspector1");
    uint64_t clock = 0;
    uint8_t insp[SC_ID_LEN];
    sc_op *ops[6];
    for (int i = 0; i < 6; i++)
        ops[i] = sct_op_open_inspection(ki, &clock, insp, P.fx.target);
    size_t len;
    uint8_t *body = sync_body(ops, 6, &len);
    Scpb__SyncResponse *r = NULL;
    sd_req_meta meta;
    sd_answer a;
    /* Over sync.batch_max: 413 batch_limit, and nothing stored. */
    ck_assert_int_ne(serve(ki, body, len, 1, &r, &meta, &a), SC_OK);
    ck_assert_uint_eq(a.status, 413);
    ck_assert_int_eq(a.reason, SC_REASON_BATCH_LIMIT);
    ck_assert_str_eq(a.message, "6 ops in one request; at most 5");
    free(body);
    body = sync_body(ops, 1, &len);
    ck_assert(serve(ki, body, len, 2, &r, &meta, &a) == SC_OK);
    ck_assert_int_eq(r->results[0]->status, SCPB__OP_STATUS__OP_ACCEPTED);
    scpb__sync_response__free_unpacked(r, NULL);

    /* A key no device has: 401 unknown_device. */
    ck_assert_int_ne(serve(stranger, body, len, 3, &r, &meta, &a), SC_OK);
    ck_assert_uint_eq(a.status, 401);
    ck_assert_int_eq(a.reason, SC_REASON_UNKNOWN_DEVICE);

    /* A replayed nonce (401 nonce_used), and a body that is not the one signed (401 bad_signature). */
    signed_req s;
    sd_principal who;
    sign(&s, ki, "POST", "/v1/sync", body, len, 2);
    ck_assert_int_ne(
        sd_service_authenticate(&P.svc, "POST", "/v1/sync", 8, &s.h, body, len, &who, &meta, &a),
        SC_OK);
    ck_assert_uint_eq(a.status, 401);
    ck_assert_int_eq(a.reason, SC_REASON_NONCE_USED);
    sign(&s, ki, "POST", "/v1/sync", body, len, 4);
    body[len - 1] ^= 1;
    ck_assert_int_ne(
        sd_service_authenticate(&P.svc, "POST", "/v1/sync", 8, &s.h, body, len, &who, &meta, &a),
        SC_OK);
    ck_assert_uint_eq(a.status, 401);
    ck_assert_int_eq(a.reason, SC_REASON_BAD_SIGNATURE);
    ck_assert_str_eq(a.message, "the body does not hash to its X-Spotcheck-Body-Sha256 (changed "
                                "or cut in transit)");
    /* A body without its declared hash is refused before it is read. */
    body[len - 1] ^= 1;
    sign(&s, ki, "POST", "/v1/sync", body, len, 5);
    s.h.body_hash = NULL;
    ck_assert_int_ne(
        sd_service_authenticate(&P.svc, "POST", "/v1/sync", 8, &s.h, body, len, &who, &meta, &a),
        SC_OK);
    ck_assert_uint_eq(a.status, 401);
    ck_assert_int_eq(a.reason, SC_REASON_BAD_SIGNATURE);

    /* A cursor syncd never made: 400 malformed. */
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    static uint8_t junk[] = {0xff, 0xff, 0xff};
    sr.has_cursor = true;
    sr.cursor = (ProtobufCBinaryData){sizeof junk, junk};
    sd_principal p;
    sc_err e;
    sc_err_clear(&e);
    ck_assert_int_eq(sd_register_principal(P.reg, sc_keypair_public(ki), &p, &e), SC_OK);
    Scpb__SyncResponse *out = NULL;
    ck_assert_int_ne(sd_sync_serve(&P.svc, &p, &sr, &meta, &out, NULL, &a), SC_OK);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(a.status, 400);
    ck_assert_int_eq(a.reason, SC_REASON_MALFORMED);
    free(body);
    for (int i = 0; i < 6; i++)
        sc_op_free(sct_sys_env(), ops[i]);
    sc_keypair_free(ki);
    sc_keypair_free(stranger);
}
END_TEST

START_TEST(photos_are_put_and_read)
{
    sc_keypair *ki = sct_key(1), *kr = sct_key(3), *ka = sct_key(4);
    enroll(ki, "inspector1");
    enroll(kr, "resp1");
    enroll(ka, "auditor1");
    sd_principal pi, pr, pa;
    sc_err e;
    sc_err_clear(&e);
    ck_assert_int_eq(sd_register_principal(P.reg, sc_keypair_public(ki), &pi, &e), SC_OK);
    ck_assert_int_eq(sd_register_principal(P.reg, sc_keypair_public(kr), &pr, &e), SC_OK);
    ck_assert_int_eq(sd_register_principal(P.reg, sc_keypair_public(ka), &pa, &e), SC_OK);
    static const char photo[] = "\xff\xd8\xff a photo of the fire lane";
    size_t n = sizeof photo - 1;
    uint8_t sha[SC_HASH_LEN];
    sc_sha256(photo, n, sha);
    char name[SD_BLOB_NAME_LEN + 1];
    hexs(sha, SC_HASH_LEN, name);
    sd_answer a;
    int fd = -1;
    uint64_t size = 0;

    /* An auditor attaches no photos, so it uploads none. */
    sd_photo_put(&P.svc, &pa, name, 0, n, n, (const uint8_t *)photo, n, sha, &a);
    ck_assert_uint_eq(a.status, 403);
    ck_assert_int_eq(a.reason, SC_REASON_FORBIDDEN_ROLE);
    /* Half, then the rest: 202 at the offset, then 201 complete. */
    uint8_t half[SC_HASH_LEN];
    sc_sha256(photo, 10, half);
    sd_photo_put(&P.svc, &pi, name, 0, 10, n, (const uint8_t *)photo, 10, half, &a);
    ck_assert_uint_eq(a.status, 202);
    ck_assert(a.has_offset && a.offset == 10);
    /* A chunk at an offset the upload does not have: 409 with the offset. */
    sd_photo_put(&P.svc, &pi, name, 5, 5, n, (const uint8_t *)photo + 5, 5, sha, &a);
    ck_assert_uint_eq(a.status, 409);
    ck_assert(a.has_offset && a.offset == 10);
    uint8_t rest[SC_HASH_LEN];
    sc_sha256(photo + 10, n - 10, rest);
    sd_photo_put(&P.svc, &pi, name, 10, n - 10, n, (const uint8_t *)photo + 10, n - 10, rest, &a);
    ck_assert_uint_eq(a.status, 201);
    ck_assert(a.has_offset && a.offset == n);
    /* Stored, but no op names it: read as an absent photo (HEAD says the device's offset). */
    ck_assert_int_ne(sd_photo_read(&P.svc, &pi, name, true, &fd, &size, &a), SC_OK);
    ck_assert_uint_eq(a.status, 404);
    ck_assert_int_eq(a.reason, SC_REASON_NONE);
    ck_assert_str_eq(a.message, "blob is not stored");
    ck_assert(a.has_offset && a.offset == 0);

    /* An op naming it, pushed in process: the inspector reads its bytes. */
    uint64_t clock = 0;
    uint8_t insp[SC_ID_LEN];
    sc_op *ops[2];
    ops[0] = sct_op_open_inspection(ki, &clock, insp, P.fx.target);
    ops[1] = sct_op_photo(ki, &clock, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                          (const uint8_t(*)[SC_HASH_LEN])ops[0]->id, 1, sha, n);
    size_t len;
    uint8_t *body = sync_body(ops, 2, &len);
    Scpb__SyncResponse *r = NULL;
    sd_req_meta meta;
    ck_assert(serve(ki, body, len, 1, &r, &meta, &a) == SC_OK);
    ck_assert_int_eq(r->results[1]->status, SCPB__OP_STATUS__OP_ACCEPTED);
    scpb__sync_response__free_unpacked(r, NULL);
    ck_assert_int_eq(sd_photo_read(&P.svc, &pi, name, false, &fd, &size, &a), SC_OK);
    ck_assert_uint_eq(size, n);
    char got[64];
    ck_assert_int_eq(read(fd, got, sizeof got), (ssize_t)n);
    ck_assert(memcmp(got, photo, n) == 0);
    close(fd);
    /* A stored photo it may read, put again: 200. */
    sd_photo_put(&P.svc, &pi, name, 0, n, n, (const uint8_t *)photo, n, sha, &a);
    ck_assert_uint_eq(a.status, 200);
    /* The inspected unit does not see a draft inspection's photo. */
    ck_assert_int_ne(sd_photo_read(&P.svc, &pr, name, false, &fd, &size, &a), SC_OK);
    ck_assert_uint_eq(a.status, 404);
    ck_assert(!a.has_offset);
    free(body);
    for (int i = 0; i < 2; i++)
        sc_op_free(sct_sys_env(), ops[i]);
    sc_keypair_free(ki);
    sc_keypair_free(kr);
    sc_keypair_free(ka);
}
END_TEST

START_TEST(log_endpoints)
{
    sc_keypair *ki = sct_key(1), *ka = sct_key(4);
    enroll(ki, "inspector1");
    enroll(ka, "auditor1");
    sd_principal pi, pa;
    sc_err e;
    sc_err_clear(&e);
    ck_assert_int_eq(sd_register_principal(P.reg, sc_keypair_public(ki), &pi, &e), SC_OK);
    ck_assert_int_eq(sd_register_principal(P.reg, sc_keypair_public(ka), &pa, &e), SC_OK);
    sd_answer a;
    Scpb__Checkpoint *cp = NULL;
    ck_assert_int_eq(sd_checkpoint_serve(&P.svc, &cp, &a), SC_OK);
    uint64_t size = cp->size;
    ck_assert_uint_gt(size, 2);
    sd_msg_free(cp);
    Scpb__InclusionProof *ip = NULL;
    ck_assert_int_eq(sd_inclusion_serve(&P.svc, 1, size, &ip, &a), SC_OK);
    sd_msg_free(ip);
    ck_assert_int_ne(sd_inclusion_serve(&P.svc, size, size, &ip, &a), SC_OK);
    ck_assert_ptr_null(ip);
    ck_assert_uint_eq(a.status, 400);
    ck_assert_int_eq(a.reason, SC_REASON_BAD_FIELD);
    Scpb__ConsistencyProof *cons = NULL;
    ck_assert_int_eq(sd_consistency_serve(&P.svc, 1, size, &cons, &a), SC_OK);
    sd_msg_free(cons);
    ck_assert_int_ne(sd_consistency_serve(&P.svc, 0, size, &cons, &a), SC_OK);
    ck_assert_uint_eq(a.status, 400);
    char want[96];
    snprintf(want, sizeof want, "need 0 < old <= size, got old 0 and size %" PRIu64, size);
    ck_assert_str_eq(a.message, want);
    /* Raw entries are the auditors' and admins': an inspector is refused for its role. */
    Scpb__LogEntries *le = NULL;
    ck_assert_int_eq(sd_entries_serve(&P.svc, &pa, 0, 2, &le, &a), SC_OK);
    ck_assert_uint_eq(le->n_entries, 2);
    sd_msg_free(le);
    ck_assert_int_ne(sd_entries_serve(&P.svc, &pi, 0, 2, &le, &a), SC_OK);
    ck_assert_ptr_null(le);
    ck_assert_uint_eq(a.status, 403);
    ck_assert_int_eq(a.reason, SC_REASON_FORBIDDEN_ROLE);
    ck_assert_int_ne(sd_entries_serve(&P.svc, &pa, 0, SC_LOG_ENTRIES_MAX + 1, &le, &a), SC_OK);
    ck_assert_uint_eq(a.status, 400);
    ck_assert_str_eq(a.message, "count must be between 1 and 1000");
    sc_keypair_free(ki);
    sc_keypair_free(ka);
}
END_TEST

/* An admin act on the user with this login, as `syncd admin user` makes it. */
static void user_act(const char *login, Scpb__Op__BodyCase kind, Scpb__Role role)
{
    uint8_t user[SC_ID_LEN];
    sc_err e;
    sc_err_clear(&e);
    ck_assert_int_eq(
        sd_register_lookup_code(P.reg, SCPB__ENTITY_TYPE__ENTITY_USER, login, 0, user, &e), SC_OK);
    Scpb__Op op = SCPB__OP__INIT;
    op.has_entity = true;
    op.entity = (ProtobufCBinaryData){SC_ID_LEN, user};
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_USER;
    sco_user_body b;
    sco_user_act(&op, &b, kind, role, "left the team");
    ck_assert_msg(sd_register_admin_op(P.reg, &op, NULL, &e) == SC_OK, "%s", e.msg);
}

START_TEST(disabled_users_devices_are_refused)
{
    sc_keypair *ki = sct_key(1);
    enroll(ki, "inspector1");
    uint64_t clock = 0;
    uint8_t insp[SC_ID_LEN];
    sc_op *op = sct_op_open_inspection(ki, &clock, insp, P.fx.target);
    size_t len;
    uint8_t *body = sync_body(&op, 1, &len);
    Scpb__SyncResponse *r = NULL;
    sd_req_meta meta;
    sd_answer a;
    sd_register_stats before, after;
    sc_err e;
    sc_err_clear(&e);
    ck_assert_int_eq(sd_register_stats_get(P.reg, &before, &e), SC_OK);

    user_act("inspector1", SCPB__OP__BODY_USER_DISABLE, 0);
    /* 403 user_disabled, naming the user, and nothing of the request stored. */
    ck_assert_int_ne(serve(ki, body, len, 1, &r, &meta, &a), SC_OK);
    ck_assert_uint_eq(a.status, 403);
    ck_assert_int_eq(a.reason, SC_REASON_USER_DISABLED);
    ck_assert_msg(strstr(a.message, "user inspector1 is disabled"), "%s", a.message);
    ck_assert_int_eq(sd_register_stats_get(P.reg, &after, &e), SC_OK);
    ck_assert_uint_eq(after.log_size, before.log_size + 1); /* the disable alone */
    /* A refused request is not the device's sighting. */
    sd_seen_row rows[4];
    ck_assert_uint_eq(sd_seen_take(P.seen, sct_now_ms(), true, rows, 4), 0);

    /* Enabled again, the same device is served with its ops. */
    user_act("inspector1", SCPB__OP__BODY_USER_ENABLE, 0);
    ck_assert_msg(serve(ki, body, len, 2, &r, &meta, &a) == SC_OK, "%u %s", a.status, a.message);
    ck_assert_int_eq(r->results[0]->status, SCPB__OP_STATUS__OP_ACCEPTED);
    scpb__sync_response__free_unpacked(r, NULL);

    /* A new role applies from the next request: an auditor opens no inspection. */
    user_act("inspector1", SCPB__OP__BODY_USER_ROLE, SCPB__ROLE__ROLE_AUDITOR);
    sc_op *op2 = sct_op_open_inspection(ki, &clock, insp, P.fx.target);
    free(body);
    body = sync_body(&op2, 1, &len);
    ck_assert(serve(ki, body, len, 3, &r, &meta, &a) == SC_OK);
    ck_assert_int_eq(r->results[0]->status, SCPB__OP_STATUS__OP_REJECTED);
    ck_assert_int_eq(r->results[0]->reason, SC_REASON_FORBIDDEN_ROLE);
    scpb__sync_response__free_unpacked(r, NULL);
    free(body);
    sc_op_free(sct_sys_env(), op);
    sc_op_free(sct_sys_env(), op2);
    sc_keypair_free(ki);
}
END_TEST

/* Verified requests note their device and User-Agent (sync/seen.h); refused ones do not. */
START_TEST(seen_notes_verified_requests)
{
    sc_keypair *ki = sct_key(1), *stranger = sct_key(9);
    enroll(ki, "inspector1");
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    size_t len = scpb__sync_request__get_packed_size(&sr);
    uint8_t body[16];
    scpb__sync_request__pack(&sr, body);
    signed_req s;
    sd_principal who;
    sd_req_meta meta;
    sd_answer a;
    sd_seen_row rows[4];
    /* Refused: a stranger, a body that is not the one signed. */
    sign(&s, stranger, "POST", "/v1/sync", body, len, 1);
    ck_assert_int_ne(
        sd_service_authenticate(&P.svc, "POST", "/v1/sync", 8, &s.h, body, len, &who, &meta, &a),
        SC_OK);
    sign(&s, ki, "POST", "/v1/sync", body, len, 2);
    s.h.body_hash = "00000000000000000000000000000000000000000000000000000000000000ff";
    ck_assert_int_ne(
        sd_service_authenticate(&P.svc, "POST", "/v1/sync", 8, &s.h, body, len, &who, &meta, &a),
        SC_OK);
    ck_assert_uint_eq(sd_seen_take(P.seen, sct_now_ms(), true, rows, 4), 0);

    /* Verified, with a User-Agent carrying a terminal escape: kept printable. */
    int64_t t0 = sct_now_ms();
    sign(&s, ki, "POST", "/v1/sync", body, len, 3);
    s.h.user_agent = "app/1 \x1b[2J\xe4\xb8\xad";
    ck_assert_int_eq(
        sd_service_authenticate(&P.svc, "POST", "/v1/sync", 8, &s.h, body, len, &who, &meta, &a),
        SC_OK);
    ck_assert_uint_eq(sd_seen_take(P.seen, sct_now_ms(), true, rows, 4), 1);
    ck_assert(memcmp(rows[0].key, sc_keypair_public(ki), SC_KEY_LEN) == 0);
    ck_assert_str_eq(rows[0].agent, "app/1 ?[2J???");
    ck_assert_int_ge(rows[0].seen_ms, t0);
    /* Written, then due again only a minute later; everything at shutdown. */
    sign(&s, ki, "POST", "/v1/sync", body, len, 4);
    ck_assert_int_eq(
        sd_service_authenticate(&P.svc, "POST", "/v1/sync", 8, &s.h, body, len, &who, &meta, &a),
        SC_OK);
    ck_assert_uint_eq(sd_seen_take(P.seen, sct_now_ms(), false, rows, 4), 0);
    ck_assert_uint_eq(sd_seen_take(P.seen, sct_now_ms() + SC_SEEN_WRITE_MS, false, rows, 4), 1);
    ck_assert_str_eq(rows[0].agent, SERVICE_AGENT);
    sc_keypair_free(ki);
    sc_keypair_free(stranger);
}
END_TEST

/* ---- a sync body's counts, on the wire ---- */

/* sd_sync_precheck's verdict on len bytes; *decodes: whether protobuf-c decodes them. */
static sc_status precheck(const void *body, size_t len, bool *decodes, sd_answer *a)
{
    Scpb__SyncRequest *sr = scpb__sync_request__unpack(NULL, len, body);
    *decodes = sr != NULL;
    scpb__sync_request__free_unpacked(sr, NULL);
    return sd_sync_precheck(&P.svc, body, len, a);
}

START_TEST(sync_counted_on_the_wire)
{
    sd_answer a;
    bool decodes;
    /* Counts from the encoding, with sd_sync_serve's answers: ops (batch_max 5 here) ... */
    uint8_t junk[4] = {1, 2, 3, 4}, hash[SC_HASH_LEN] = {0};
    ProtobufCBinaryData ops[6], blobs[SC_BLOBS_WANTED_MAX + 1];
    for (size_t i = 0; i < 6; i++)
        ops[i] = (ProtobufCBinaryData){sizeof junk, junk};
    for (size_t i = 0; i <= SC_BLOBS_WANTED_MAX; i++)
        blobs[i] = (ProtobufCBinaryData){sizeof hash, hash};
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    sr.has_cursor = sr.has_known_size = sr.has_max_pull = true;
    sr.cursor = (ProtobufCBinaryData){sizeof junk, junk};
    sr.known_size = 1000000;
    sr.max_pull = 7;
    sr.ops = ops;
    sr.blobs_wanted = blobs;
    static uint8_t buf[(SC_BLOBS_WANTED_MAX + 1) * 40];
    const struct {
        size_t ops, blobs;
        unsigned status;
        const char *message;
    } counts[] = {
        {5, SC_BLOBS_WANTED_MAX, 0, NULL},
        {6, 0, 413, "6 ops in one request; at most 5"},
        {0, SC_BLOBS_WANTED_MAX + 1, 413, "1001 photos asked about in one request; at most 1000"},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        sr.n_ops = counts[i].ops;
        sr.n_blobs_wanted = counts[i].blobs;
        size_t n = scpb__sync_request__pack(&sr, buf);
        sc_status rc = precheck(buf, n, &decodes, &a);
        ck_assert(decodes);
        if (!counts[i].status) {
            ck_assert_int_eq(rc, SC_OK);
            continue;
        }
        ck_assert_int_ne(rc, SC_OK);
        ck_assert_uint_eq(a.status, counts[i].status);
        ck_assert_int_eq(a.reason, SC_REASON_BATCH_LIMIT);
        ck_assert_str_eq(a.message, counts[i].message);
    }
    /* ... an empty body, and fields of every wire type this SyncRequest does not know. */
    static const uint8_t unknown[] = {0x30, 0x96, 0x01,                         /* 6: varint */
                                      0x39, 1, 2, 3, 4, 5, 6, 7, 8,             /* 7: 64-bit */
                                      0x45, 1, 2, 3, 4,                         /* 8: 32-bit */
                                      0x52, 0x02, 0x08, 0x01,                   /* 10: bytes */
                                      0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00};      /* 2^29-1 */
    ck_assert_int_eq(precheck(NULL, 0, &decodes, &a), SC_OK);
    ck_assert(decodes);
    ck_assert_int_eq(precheck(unknown, sizeof unknown, &decodes, &a), SC_OK);
    ck_assert(decodes);
    /* Other fields beyond what any encoder sends: a singular one given 65 times. */
    uint8_t many[2 * (SD_SYNC_OTHER_FIELDS_MAX + 1)];
    for (size_t i = 0; i < sizeof many; i += 2) {
        many[i] = 0x18; /* known_size */
        many[i + 1] = 0x01;
    }
    ck_assert_int_eq(precheck(many, sizeof many - 2, &decodes, &a), SC_OK);
    ck_assert_int_ne(precheck(many, sizeof many, &decodes, &a), SC_OK);
    ck_assert(decodes);
    ck_assert_uint_eq(a.status, 400);
    ck_assert_int_eq(a.reason, SC_REASON_MALFORMED);
    ck_assert_str_eq(a.message,
                     "65 fields besides ops and blobs_wanted in one request; at most 64");
    /* Bytes that are not wire format: refused, as protobuf-c refuses them. */
    static const struct {
        const char *what;
        size_t len;
        const uint8_t b[12];
    } bad[] = {
        {"a tag without its value", 1, {0x0a}},
        {"a length past the end", 4, {0x0a, 0x05, 'a', 'b'}},
        {"field number 0", 2, {0x02, 0x00}},
        {"a varint cut off", 2, {0x18, 0xff}},
        {"a 64-bit value cut off", 3, {0x19, 1, 2}},
        {"a 32-bit value cut off", 2, {0x1d, 1}},
        {"a group", 2, {0x0b, 0x0c}},
        {"wire type 6", 2, {0x0e, 0x00}},
        {"wire type 7", 2, {0x0f, 0x00}},
        {"a varint of eleven bytes", 12, {0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                          0x80, 0x80, 0x01}},
        {"a tag of six bytes", 7, {0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00}},
        {"a length of six bytes", 7, {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(precheck(bad[i].b, bad[i].len, &decodes, &a) != SC_OK, "%s: passed",
                      bad[i].what);
        ck_assert_msg(!decodes, "%s: protobuf-c decodes it", bad[i].what);
        ck_assert_uint_eq(a.status, 400);
        ck_assert_int_eq(a.reason, SC_REASON_MALFORMED);
        ck_assert_str_eq(a.message, "body is not a SyncRequest");
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/service");
    const sct_case cases[] = {
        {"sync_is_served_and_sealed", sync_is_served_and_sealed},
        {"refusals_are_the_protocols", refusals_are_the_protocols},
        {"photos_are_put_and_read", photos_are_put_and_read},
        {"log_endpoints", log_endpoints},
        {"disabled_users_devices_are_refused", disabled_users_devices_are_refused},
        {"seen_notes_verified_requests", seen_notes_verified_requests},
        {"sync_counted_on_the_wire", sync_counted_on_the_wire},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown, .timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
