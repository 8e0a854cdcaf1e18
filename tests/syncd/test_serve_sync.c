/*
 * test_serve_sync.c: the real syncd binary on 127.0.0.1:0 driven over HTTP
 * by signed clients: push and pull between two devices, an idempotent
 * re-push, the per-op rejection reasons reachable over HTTP, request-level
 * errors (400, 401, 404, 413), photos asked about (blobs_wanted), and
 * checkpoints that stay consistent across syncs (signed notes, consistency
 * and inclusion proofs verified here).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checkpoint.h"
#include "core/hlc.h"
#include "core/ids.h"
#include "core/merkle.h"
#include "core/seal.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_server.h"

static sct_live L; /* the register and its syncd, made anew for each test */
static uint8_t server_key[SC_KEY_LEN];
static char origin[SC_ORIGIN_MAX];

static void enroll(sct_client *c, const sc_keypair *k, const char *login)
{
    Scpb__EnrollResponse *er = NULL;
    sct_fixture_enroll(L.data, c, k, login, login, &er);
    memcpy(server_key, er->server_key.data, SC_KEY_LEN);
    snprintf(origin, sizeof origin, "%s", er->origin);
    scpb__enroll_response__free_unpacked(er, NULL);
}

/* Pull until `more` is false; returns the number of ops and leaves the cursor in *cur. */
static size_t pull_all(sct_client *c, uint8_t **cur, size_t *cur_len, bool (*seen)(const uint8_t *,
                                                                                   void *),
                       void *ctx)
{
    size_t total = 0;
    for (int round = 0; round < 100; round++) {
        Scpb__SyncResponse *r = NULL;
        ck_assert_int_eq(sct_sync(c, NULL, 0, *cur, *cur_len, 0, &r), 200);
        for (size_t i = 0; i < r->n_ops; i++) {
            sc_op *o = NULL;
            sc_err err;
            /* Every op pulled verifies on its own. */
            ck_assert_int_eq(sc_op_open(sct_sys_env(), r->ops[i]->signed_op.data,
                                        r->ops[i]->signed_op.len, SC_OP_VERIFY, &o, &err),
                             SC_OK);
            if (seen)
                seen(o->id, ctx);
            sc_op_free(sct_sys_env(), o);
        }
        total += r->n_ops;
        free(*cur);
        *cur = malloc(r->cursor.len + 1);
        memcpy(*cur, r->cursor.data, r->cursor.len);
        *cur_len = r->cursor.len;
        bool more = r->more;
        scpb__sync_response__free_unpacked(r, NULL);
        if (!more)
            return total;
    }
    ck_abort_msg("pull never ended");
    return total;
}

/* The value of the metric line that starts with `name ` in GET /metrics; -1 when absent. */
static double metric(sct_client *c, const char *name)
{
    sct_resp r;
    ck_assert_int_eq(sct_request(c, "GET", "/metrics", NULL, 0, NULL, NULL, &r), 200);
    double v = -1;
    size_t nl = strlen(name);
    const char *p = (const char *)r.body;
    while (p && *p) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ' ') {
            v = strtod(p + nl + 1, NULL);
            break;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    sct_resp_dispose(&r);
    return v;
}

typedef struct want_ids {
    const uint8_t (*ids)[SC_HASH_LEN];
    size_t n;
    size_t found;
} want_ids;

static bool count_found(const uint8_t *id, void *ctx)
{
    want_ids *w = ctx;
    for (size_t i = 0; i < w->n; i++)
        if (memcmp(w->ids[i], id, SC_HASH_LEN) == 0)
            w->found++;
    return true;
}

START_TEST(push_and_pull)
{
    sc_keypair *ki = sct_key(1), *ks = sct_key(2);
    sct_client ci, cs;
    sct_client_init(&ci, L.srv.url, ki);
    sct_client_init(&cs, L.srv.url, ks);
    enroll(&ci, ki, "inspector1");
    enroll(&cs, ks, "supervisor1");
    uint8_t *icur = NULL, *scur = NULL;
    size_t icl = 0, scl = 0;
    ck_assert_uint_gt(pull_all(&ci, &icur, &icl, NULL, NULL), 10);
    ck_assert_uint_gt(pull_all(&cs, &scur, &scl, NULL, NULL), 10);

    uint64_t clock = 0;
    uint8_t insp[SC_ID_LEN];
    sc_op *ops[2];
    ops[0] = sct_op_open_inspection(ki, &clock, insp, L.fx.target);
    ops[1] = sct_op_note(ki, &clock, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                         (const uint8_t(*)[SC_HASH_LEN])ops[0]->id, 1, "门岗未测温");
    /* Pulls and enrollments commit nothing through the group-commit queue. */
    ck_assert(metric(&ci, "syncd_ingest_commits_total") == 0);
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(&ci, ops, 2, icur, icl, 0, &r), 200);
    ck_assert_uint_eq(r->n_results, 2);
    /* The push was one group commit of two ops. */
    ck_assert(metric(&ci, "syncd_ingest_commits_total") == 1);
    ck_assert(metric(&ci, "syncd_commit_ops_sum") == 2);
    ck_assert(metric(&ci, "syncd_commit_ops_count") == 1);
    uint64_t idx[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(r->results[i]->status == SCPB__OP_STATUS__OP_ACCEPTED, "op %d: %s", i,
                      r->results[i]->message ? r->results[i]->message : "");
        ck_assert(r->results[i]->has_log_index);
        ck_assert_uint_eq(r->results[i]->op_id.len, SC_HASH_LEN);
        ck_assert(memcmp(r->results[i]->op_id.data, ops[i]->id, SC_HASH_LEN) == 0);
        idx[i] = r->results[i]->log_index;
    }
    ck_assert_uint_eq(idx[1], idx[0] + 1);
    /* The pushing device does not get its own ops back in the same response. */
    for (size_t i = 0; i < r->n_ops; i++)
        ck_assert(r->ops[i]->log_index != idx[0] && r->ops[i]->log_index != idx[1]);
    ck_assert_uint_eq(r->checkpoint->size, idx[1] + 1);
    scpb__sync_response__free_unpacked(r, NULL);

    /* The supervisor (scope: the county) pulls both. */
    uint8_t ids[2][SC_HASH_LEN];
    memcpy(ids[0], ops[0]->id, SC_HASH_LEN);
    memcpy(ids[1], ops[1]->id, SC_HASH_LEN);
    want_ids w = {(const uint8_t(*)[SC_HASH_LEN])ids, 2, 0};
    pull_all(&cs, &scur, &scl, count_found, &w);
    ck_assert_uint_eq(w.found, 2);

    /* Re-pushing is a no-op answered duplicate, with the same log indexes. */
    uint64_t before = 0;
    ck_assert_int_eq(sct_sync(&ci, ops, 2, NULL, 0, 0, &r), 200);
    before = r->checkpoint->size;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(r->results[i]->status, SCPB__OP_STATUS__OP_DUPLICATE);
        ck_assert_uint_eq(r->results[i]->log_index, idx[i]);
    }
    scpb__sync_response__free_unpacked(r, NULL);
    ck_assert_int_eq(sct_sync(&ci, ops, 2, NULL, 0, 0, &r), 200);
    ck_assert_uint_eq(r->checkpoint->size, before);
    scpb__sync_response__free_unpacked(r, NULL);

    for (int i = 0; i < 2; i++)
        sc_op_free(sct_sys_env(), ops[i]);
    free(icur);
    free(scur);
    sct_client_dispose(&ci);
    sct_client_dispose(&cs);
    sc_keypair_free(ki);
    sc_keypair_free(ks);
}
END_TEST

/*
 * A push bigger than one part (syncd verifies and commits a request in
 * parts of 256 ops, each handed to the writer once verified): every op is
 * answered, a forged one among them is refused on its own, the rest are
 * logged in the order they were sent, in at most one group commit per part,
 * and the same push again is answered duplicate at the same indexes.
 */
START_TEST(a_big_push_is_logged_in_parts_in_its_order)
{
    enum { N = 700, FORGED = 300 };
    sc_keypair *ki = sct_key(1);
    sct_client ci;
    sct_client_init(&ci, L.srv.url, ki);
    enroll(&ci, ki, "inspector1");
    uint64_t clock = 0;
    uint8_t insp[SC_ID_LEN];
    sc_op **ops = calloc(N, sizeof *ops);
    ck_assert_ptr_nonnull(ops);
    ops[0] = sct_op_open_inspection(ki, &clock, insp, L.fx.target);
    for (size_t i = 1; i < N; i++)
        ops[i] = sct_op_note(ki, &clock, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                             (const uint8_t(*)[SC_HASH_LEN])ops[0]->id, 1, "门岗未测温");
    /* The last byte of its signature, changed after signing. */
    ops[FORGED]->signed_bytes[ops[FORGED]->signed_len - 1] ^= 0x01;
    double commits = metric(&ci, "syncd_ingest_commits_total");
    double committed = metric(&ci, "syncd_commit_ops_sum");
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(&ci, ops, N, NULL, 0, 0, &r), 200);
    ck_assert_uint_eq(r->n_results, N);
    uint64_t *idx = calloc(N, sizeof *idx), last = 0;
    ck_assert_ptr_nonnull(idx);
    for (size_t i = 0; i < N; i++) {
        const Scpb__OpResult *res = r->results[i];
        if (i == FORGED) {
            ck_assert_int_eq(res->status, SCPB__OP_STATUS__OP_REJECTED);
            ck_assert_int_eq(res->reason, SCPB__REASON__REASON_BAD_SIGNATURE);
            continue;
        }
        ck_assert_msg(res->status == SCPB__OP_STATUS__OP_ACCEPTED, "op %zu: %s", i,
                      res->message ? res->message : "");
        ck_assert(memcmp(res->op_id.data, ops[i]->id, SC_HASH_LEN) == 0);
        idx[i] = res->log_index;
        ck_assert_msg(i == 0 || idx[i] > last, "op %zu logged at %llu, before %llu", i,
                      (unsigned long long)idx[i], (unsigned long long)last);
        last = idx[i];
    }
    ck_assert_uint_eq(r->checkpoint->size, last + 1);
    scpb__sync_response__free_unpacked(r, NULL);
    /* Three parts (256, 256, 188 ops): three group commits, or fewer when the writer found more
     * than one part waiting; the forged op's place is counted with its part. */
    double more = metric(&ci, "syncd_ingest_commits_total") - commits;
    ck_assert_msg(more >= 1 && more <= 3, "%g group commits", more);
    ck_assert(metric(&ci, "syncd_commit_ops_sum") == committed + N);
    ck_assert_int_eq(sct_sync(&ci, ops, N, NULL, 0, 0, &r), 200);
    for (size_t i = 0; i < N; i++) {
        if (i == FORGED) {
            ck_assert_int_eq(r->results[i]->status, SCPB__OP_STATUS__OP_REJECTED);
            continue;
        }
        ck_assert_int_eq(r->results[i]->status, SCPB__OP_STATUS__OP_DUPLICATE);
        ck_assert_uint_eq(r->results[i]->log_index, idx[i]);
    }
    scpb__sync_response__free_unpacked(r, NULL);
    for (size_t i = 0; i < N; i++)
        sc_op_free(sct_sys_env(), ops[i]);
    free(ops);
    free(idx);
    sct_client_dispose(&ci);
    sc_keypair_free(ki);
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * A push of a new op, a resent one and one the register refuses: the
 * answer carries a seal, signed by the server key, that is exactly the one
 * built from this request (its nonce and body hash) and the answer, and a
 * receipt that proves the new and the resent op in the checkpoint's tree.
 * Changing a result, or answering with another request's seal, is caught.
 */
START_TEST(answers_are_sealed_and_proven)
{
    sc_keypair *ki = sct_key(1);
    sct_client ci;
    sct_client_init(&ci, L.srv.url, ki);
    enroll(&ci, ki, "inspector1");
    uint8_t *cur = NULL;
    size_t cl = 0;
    pull_all(&ci, &cur, &cl, NULL, NULL);
    uint64_t clock = 0;
    uint8_t insp[SC_ID_LEN], nowhere[SC_ID_LEN], fake_dep[SC_HASH_LEN];
    sc_op *open = sct_op_open_inspection(ki, &clock, insp, L.fx.target);
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(&ci, &open, 1, NULL, 0, 0, &r), 200);
    scpb__sync_response__free_unpacked(r, NULL);
    sc_uuid7_new(sct_sys_env(), nowhere);
    memset(fake_dep, 7, sizeof fake_dep);
    sc_op *ops[3] = {
        sct_op_note(ki, &clock, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                    (const uint8_t(*)[SC_HASH_LEN])open->id, 1, "新的"),
        open,
        sct_op_note(ki, &clock, nowhere, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                    (const uint8_t(*)[SC_HASH_LEN])fake_dep, 1, "无处"),
    };
    ck_assert_int_eq(sct_sync(&ci, ops, 3, cur, cl, 0, &r), 200);
    ck_assert_int_eq(r->results[0]->status, SCPB__OP_STATUS__OP_ACCEPTED);
    ck_assert_int_eq(r->results[1]->status, SCPB__OP_STATUS__OP_DUPLICATE);
    ck_assert_int_eq(r->results[2]->status, SCPB__OP_STATUS__OP_REJECTED);

    /* The seal: signed, and the very seal of this request and this answer. */
    ck_assert(r->has_seal && r->has_seal_sig);
    Scpb__SyncSeal *got = NULL;
    sc_err err;
    ck_assert_int_eq(sc_seal_open(sct_sys_env(), server_key, r->seal.data, r->seal.len,
                                  r->seal_sig.data, r->seal_sig.len, &got, &err),
                     SC_OK);
    uint8_t nonce[SC_NONCE_LEN], (*leaves)[SC_HASH_LEN] = calloc(r->n_ops + 1, SC_HASH_LEN);
    ck_assert_int_eq(sc_hex_decode(ci.last_nonce, 32, nonce, sizeof nonce), SC_OK);
    for (size_t i = 0; i < r->n_ops; i++)
        sc_merkle_leaf_hash(r->ops[i]->signed_op.data, r->ops[i]->signed_op.len, leaves[i]);
    sc_seal_input in = {
        nonce, ci.last_body_hash, true, cur, cl, r, (const uint8_t(*)[SC_HASH_LEN])leaves};
    sc_seal want;
    sc_seal_build(&in, &want);
    ck_assert_int_eq(sc_seal_compare(&want.msg, got, &err), SC_OK);

    /* The receipt proves the accepted and the duplicate op, and nothing else is needed. */
    ck_assert_ptr_nonnull(r->receipt);
    ck_assert_uint_eq(r->receipt->tree_size, r->checkpoint->size);
    uint64_t idx[2] = {r->results[0]->log_index, r->results[1]->log_index};
    uint8_t lh[2][SC_HASH_LEN], proof[128][SC_HASH_LEN];
    const sc_op *by_idx[2] = {ops[0], ops[1]};
    if (idx[0] > idx[1]) {
        qsort(idx, 2, sizeof *idx, cmp_u64);
        by_idx[0] = ops[1];
        by_idx[1] = ops[0];
    }
    for (int i = 0; i < 2; i++)
        sc_merkle_leaf_hash(by_idx[i]->signed_bytes, by_idx[i]->signed_len, lh[i]);
    ck_assert_uint_le(r->receipt->n_hashes, 128);
    for (size_t i = 0; i < r->receipt->n_hashes; i++) {
        ck_assert_uint_eq(r->receipt->hashes[i].len, SC_HASH_LEN);
        memcpy(proof[i], r->receipt->hashes[i].data, SC_HASH_LEN);
    }
    ck_assert_int_eq(sc_merkle_verify_multi(idx, (const uint8_t(*)[SC_HASH_LEN])lh, 2,
                                            r->checkpoint->size,
                                            (const uint8_t(*)[SC_HASH_LEN])proof,
                                            r->receipt->n_hashes, r->checkpoint->root.data),
                     SC_OK);
    /* A result turned into a rejection, or another request's nonce, no longer matches. */
    r->results[0]->status = SCPB__OP_STATUS__OP_REJECTED;
    sc_seal_build(&in, &want);
    ck_assert_int_eq(sc_seal_compare(&want.msg, got, &err), SC_ERR_UNPROVEN);
    ck_assert_ptr_nonnull(strstr(err.msg, "results"));
    r->results[0]->status = SCPB__OP_STATUS__OP_ACCEPTED;
    nonce[0] ^= 1;
    sc_seal_build(&in, &want);
    ck_assert_int_eq(sc_seal_compare(&want.msg, got, &err), SC_ERR_UNPROVEN);
    ck_assert_ptr_nonnull(strstr(err.msg, "another request"));

    scpb__sync_seal__free_unpacked(got, NULL);
    scpb__sync_response__free_unpacked(r, NULL);
    free(leaves);
    for (int i = 0; i < 3; i++)
        sc_op_free(sct_sys_env(), ops[i]);
    free(cur);
    sct_client_dispose(&ci);
    sc_keypair_free(ki);
}
END_TEST

START_TEST(rejection_reasons)
{
    sc_keypair *ki = sct_key(1), *other = sct_key(7);
    sct_client ci;
    sct_client_init(&ci, L.srv.url, ki);
    enroll(&ci, ki, "inspector1");
    uint64_t clock = 0;
    enum { N = 13 };
    sc_op *ops[N] = {0};
    bool raw[N] = {0};
    int want[N];
    uint8_t ids[N][SC_ID_LEN];

    /* 0: not a SignedOp at all. */
    static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0x01};
    uint8_t zsig[SC_SIG_LEN] = {0};
    ops[0] = sct_op_raw(junk, sizeof junk, zsig);
    raw[0] = true;
    want[0] = SCPB__REASON__REASON_MALFORMED;
    /* 1: bigger than 64 KiB + 128 B. */
    uint8_t *big = calloc(1, SC_SIGNED_OP_MAX_BYTES);
    ops[1] = sct_op_raw(big, SC_SIGNED_OP_MAX_BYTES, zsig);
    raw[1] = true;
    want[1] = SCPB__REASON__REASON_TOO_LARGE;
    free(big);
    /* 2: a good op with one signature bit flipped. */
    sc_op *good = sct_op_open_inspection(ki, &clock, ids[2], L.fx.target);
    uint8_t sig[SC_SIG_LEN];
    memcpy(sig, good->sig, SC_SIG_LEN);
    sig[0] ^= 1;
    ops[2] = sct_op_raw(good->op_bytes, good->op_len, sig);
    raw[2] = true;
    want[2] = SCPB__REASON__REASON_BAD_SIGNATURE;
    sc_op_free(sct_sys_env(), good);
    /* 3: signed by its own author, but that author is not the device sending it. */
    ops[3] = sct_op_open_inspection(other, &clock, ids[3], L.fx.target);
    want[3] = SCPB__REASON__REASON_AUTHOR_MISMATCH;
    /* 4: the device clock is an hour ahead. */
    uint64_t ahead = sc_hlc_make(sct_now_ms() + 3600 * 1000, 0);
    ops[4] = sct_op_open_inspection(ki, &ahead, ids[4], L.fx.target);
    want[4] = SCPB__REASON__REASON_CLOCK_AHEAD;
    /* 5: an inspector may not create org units. */
    {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__OrgCreate oc = SCPB__ORG_CREATE__INIT;
        oc.code = "rogue";
        oc.name = "rogue";
        oc.has_parent = true;
        oc.parent.data = L.fx.street;
        oc.parent.len = SC_ID_LEN;
        oc.has_level = true;
        oc.level = SCPB__ORG_LEVEL__LEVEL_COMMUNITY;
        oc.has_kind = true;
        oc.kind = SCPB__ORG_KIND__ORG_OTHER;
        sc_uuid7_new(sct_sys_env(), ids[5]);
        op.has_entity = true;
        op.entity.data = ids[5];
        op.entity.len = SC_ID_LEN;
        op.has_entity_type = true;
        op.entity_type = SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT;
        op.body_case = SCPB__OP__BODY_ORG_CREATE;
        op.org_create = &oc;
        ops[5] = sct_device_op(ki, &clock, &op);
        want[5] = SCPB__REASON__REASON_FORBIDDEN_ROLE;
    }
    /* 6: a note on an entity that does not exist. */
    uint8_t nowhere[SC_HASH_LEN] = {1};
    sc_uuid7_new(sct_sys_env(), ids[6]);
    ops[6] = sct_op_note(ki, &clock, ids[6], SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                         (const uint8_t(*)[SC_HASH_LEN])nowhere, 1, "?");
    want[6] = SCPB__REASON__REASON_UNKNOWN_ENTITY;
    /* 7: a target outside the inspector's street. */
    ops[7] = sct_op_open_inspection(ki, &clock, ids[7], L.fx.target_out);
    want[7] = SCPB__REASON__REASON_OUT_OF_SCOPE;
    /* 8: a target that does not exist. */
    uint8_t ghost[SC_ID_LEN];
    sc_uuid7_new(sct_sys_env(), ghost);
    ops[8] = sct_op_open_inspection(ki, &clock, ids[8], ghost);
    want[8] = SCPB__REASON__REASON_UNKNOWN_REFERENCE;
    /* 9: accepted, so 10-12 have something to build on. */
    ops[9] = sct_op_open_inspection(ki, &clock, ids[9], L.fx.target);
    want[9] = 0;
    /* 10: a dep that is not a logged op of the entity. */
    ops[10] = sct_op_note(ki, &clock, ids[9], SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                          (const uint8_t(*)[SC_HASH_LEN])nowhere, 1, "x");
    want[10] = SCPB__REASON__REASON_UNKNOWN_DEPENDENCY;
    /* 11: an HLC not after its dep's: the dep's own.  sct_op_note ticks its clock
     * at the wall clock, which moves past op 9's HLC as soon as a millisecond has
     * passed, so the note is sealed again with the HLC set. */
    {
        uint64_t early = 1;
        sc_op *n = sct_op_note(ki, &early, ids[9], SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                               (const uint8_t(*)[SC_HASH_LEN])ops[9]->id, 1, "x");
        n->op->hlc = ops[9]->op->hlc;
        sc_err err;
        sc_err_clear(&err);
        ck_assert_int_eq(sc_op_seal(sct_sys_env(), ki, n->op, &ops[11], &err), SC_OK);
        sc_op_free(sct_sys_env(), n);
    }
    want[11] = SCPB__REASON__REASON_HLC_NOT_AFTER_DEPS;
    /* 12: the same entity created twice. */
    memcpy(ids[12], ids[9], SC_ID_LEN);
    {
        Scpb__Op op = SCPB__OP__INIT;
        Scpb__InspectionOpen io = SCPB__INSPECTION_OPEN__INIT;
        io.has_target = true;
        io.target.data = L.fx.target;
        io.target.len = SC_ID_LEN;
        io.has_kind = true;
        io.kind = SCPB__INSPECTION_KIND__KIND_DAILY;
        io.has_disclosure = true;
        io.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
        op.has_entity = true;
        op.entity.data = ids[12];
        op.entity.len = SC_ID_LEN;
        op.has_entity_type = true;
        op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
        op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
        op.inspection_open = &io;
        ops[12] = sct_device_op(ki, &clock, &op);
        want[12] = SCPB__REASON__REASON_ENTITY_EXISTS;
    }

    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(&ci, ops, N, NULL, 0, 0, &r), 200);
    ck_assert_uint_eq(r->n_results, N);
    for (int i = 0; i < N; i++) {
        const Scpb__OpResult *res = r->results[i];
        if (want[i] == 0) {
            ck_assert_msg(res->status == SCPB__OP_STATUS__OP_ACCEPTED, "op %d: %s", i,
                          res->message ? res->message : "");
            continue;
        }
        ck_assert_msg(res->status == SCPB__OP_STATUS__OP_REJECTED && (int)res->reason == want[i],
                      "op %d: status %d reason %d (want %d): %s", i, res->status, res->reason,
                      want[i], res->message ? res->message : "");
        ck_assert_ptr_nonnull(res->message);
        ck_assert_uint_gt(strlen(res->message), 0);
    }
    scpb__sync_response__free_unpacked(r, NULL);

    /* An op that depends on a rejected one is rejected with unknown_dependency. */
    uint8_t dep_id[SC_ID_LEN];
    sc_op *chain[2];
    chain[0] = sct_op_open_inspection(ki, &clock, dep_id, ghost); /* rejected: unknown target */
    chain[1] = sct_op_note(ki, &clock, dep_id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                           (const uint8_t(*)[SC_HASH_LEN])chain[0]->id, 1, "after");
    ck_assert_int_eq(sct_sync(&ci, chain, 2, NULL, 0, 0, &r), 200);
    ck_assert_int_eq(r->results[0]->reason, SCPB__REASON__REASON_UNKNOWN_REFERENCE);
    ck_assert_int_eq(r->results[1]->status, SCPB__OP_STATUS__OP_REJECTED);
    ck_assert(r->results[1]->reason == SCPB__REASON__REASON_UNKNOWN_DEPENDENCY ||
              r->results[1]->reason == SCPB__REASON__REASON_UNKNOWN_ENTITY);
    scpb__sync_response__free_unpacked(r, NULL);
    sc_op_free(sct_sys_env(), chain[0]);
    sc_op_free(sct_sys_env(), chain[1]);

    for (int i = 0; i < N; i++) {
        if (raw[i])
            sct_op_raw_free(ops[i]);
        else
            sc_op_free(sct_sys_env(), ops[i]);
    }
    sct_client_dispose(&ci);
    sc_keypair_free(ki);
    sc_keypair_free(other);
}
END_TEST

START_TEST(request_errors)
{
    sc_keypair *ki = sct_key(1);
    sct_client ci;
    sct_client_init(&ci, L.srv.url, ki);
    enroll(&ci, ki, "inspector1");
    sct_resp r;
    static const char *const pb[] = {"Content-Type: application/x-protobuf", NULL};
    sct_request(&ci, "POST", "/v1/sync", "\x12\xff", 2, pb, NULL, &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(r.reason, "malformed");
    sct_resp_dispose(&r);
    size_t big = 8 * 1024 * 1024 + 1;
    uint8_t *body = calloc(1, big);
    /* As an HTTP client should for a large body: syncd refuses it from its
     * Content-Length before any of it is sent, instead of a reset mid-upload. */
    static const char *const pb_expect[] = {"Content-Type: application/x-protobuf",
                                            "Expect: 100-continue", NULL};
    sct_request(&ci, "POST", "/v1/sync", body, big, pb_expect, NULL, &r);
    ck_assert_int_eq(r.status, 413);
    ck_assert_str_eq(r.reason, "too_large");
    sct_resp_dispose(&r);
    free(body);
    sct_sign corrupt = {.corrupt = true};
    sct_request(&ci, "GET", "/v1/log/checkpoint", NULL, 0, NULL, &corrupt, &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(r.reason, "bad_signature");
    sct_resp_dispose(&r);
    sct_request(&ci, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    sct_resp_dispose(&r);
    sct_sign replay = {.nonce = ci.last_nonce, .time_ms = ci.last_time_ms};
    sct_request(&ci, "GET", "/v1/log/checkpoint", NULL, 0, NULL, &replay, &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(r.reason, "nonce_used");
    sct_resp_dispose(&r);
    sct_request(&ci, "GET", "/v1/nothing", NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.reason, "none");
    ck_assert_uint_eq(strlen(r.request_id), 16);
    /* The request id appears in the server's log. */
    char needle[64];
    snprintf(needle, sizeof needle, "\"request_id\":\"%s\"", r.request_id);
    sct_resp_dispose(&r);
    sct_request(&ci, "GET", "/healthz", NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    sct_resp_dispose(&r);
    ck_assert(sct_server_log_has(&L.srv, needle));
    sct_client_dispose(&ci);
    sc_keypair_free(ki);
}
END_TEST

/* POST /v1/sync asking about photos (blobs_wanted, docs/protocol.md §4.2); *out on 200. */
static long ask_photos(sct_client *c, const ProtobufCBinaryData *wanted, size_t n,
                       Scpb__SyncResponse **out)
{
    Scpb__SyncRequest req = SCPB__SYNC_REQUEST__INIT;
    req.n_blobs_wanted = n;
    req.blobs_wanted = (ProtobufCBinaryData *)wanted;
    size_t len = scpb__sync_request__get_packed_size(&req);
    uint8_t *body = malloc(len + 1);
    scpb__sync_request__pack(&req, body);
    static const char *const pb[] = {"Content-Type: application/x-protobuf", NULL};
    sct_resp r;
    long st = sct_request(c, "POST", "/v1/sync", body, len, pb, NULL, &r);
    if (out)
        *out = st == 200 ? scpb__sync_response__unpack(NULL, r.len, r.body) : NULL;
    sct_resp_dispose(&r);
    free(body);
    return st;
}

START_TEST(photos_asked_about)
{
    sc_keypair *ki = sct_key(1);
    sct_client ci;
    sct_client_init(&ci, L.srv.url, ki);
    enroll(&ci, ki, "inspector1");
    /* One photo named and stored, one named and never uploaded, one stored and never named. */
    static const char photo[] = "\xff\xd8\xff a small photo";
    static const char stray[] = "\xff\xd8\xff a photo no op names";
    uint8_t have[SC_HASH_LEN], lack[SC_HASH_LEN], unnamed[SC_HASH_LEN];
    sc_sha256(photo, sizeof photo - 1, have);
    sc_sha256(stray, sizeof stray - 1, unnamed);
    memset(lack, 0x5a, sizeof lack);
    uint64_t clk = 0;
    sct_name_photo(&ci, ki, &clk, L.fx.target, have, sizeof photo - 1, NULL);
    sct_name_photo(&ci, ki, &clk, L.fx.target, lack, 100, NULL);
    char hex[2 * SC_HASH_LEN + 1], target[128], range[96];
    ck_assert_int_eq(sc_hex_encode(have, SC_HASH_LEN, hex, sizeof hex), SC_OK);
    snprintf(target, sizeof target, "/v1/blobs/%s", hex);
    snprintf(range, sizeof range, "Content-Range: bytes 0-%zu/%zu", sizeof photo - 2,
             sizeof photo - 1);
    const char *const hdr[] = {range, "Content-Type: application/octet-stream", NULL};
    sct_resp r;
    ck_assert_int_eq(sct_request(&ci, "PUT", target, photo, sizeof photo - 1, hdr, NULL, &r), 201);
    sct_resp_dispose(&r);
    ck_assert_int_eq(sc_hex_encode(unnamed, SC_HASH_LEN, hex, sizeof hex), SC_OK);
    snprintf(target, sizeof target, "/v1/blobs/%s", hex);
    snprintf(range, sizeof range, "Content-Range: bytes 0-%zu/%zu", sizeof stray - 2,
             sizeof stray - 1);
    ck_assert_int_eq(sct_request(&ci, "PUT", target, stray, sizeof stray - 1, hdr, NULL, &r), 201);
    sct_resp_dispose(&r);

    ProtobufCBinaryData wanted[SC_BLOBS_WANTED_MAX + 1];
    wanted[0] = (ProtobufCBinaryData){SC_HASH_LEN, lack};
    wanted[1] = (ProtobufCBinaryData){SC_HASH_LEN, have};
    wanted[2] = (ProtobufCBinaryData){SC_HASH_LEN, unnamed};
    Scpb__SyncResponse *sr = NULL;
    ck_assert_int_eq(ask_photos(&ci, wanted, 3, &sr), 200);
    ck_assert_ptr_nonnull(sr);
    ck_assert(sr->has_blobs_checked && sr->blobs_checked);
    ck_assert_uint_eq(sr->n_blobs_stored, 1);
    ck_assert(memcmp(sr->blobs_stored[0].data, have, SC_HASH_LEN) == 0);
    scpb__sync_response__free_unpacked(sr, NULL);
    /* Nothing asked: nothing said, but the server still says it looked. */
    ck_assert_int_eq(ask_photos(&ci, NULL, 0, &sr), 200);
    ck_assert(sr->has_blobs_checked && sr->n_blobs_stored == 0);
    scpb__sync_response__free_unpacked(sr, NULL);
    /* Limits: at most SC_BLOBS_WANTED_MAX names, each 32 bytes. */
    for (size_t i = 0; i <= SC_BLOBS_WANTED_MAX; i++)
        wanted[i] = (ProtobufCBinaryData){SC_HASH_LEN, lack};
    ck_assert_int_eq(ask_photos(&ci, wanted, SC_BLOBS_WANTED_MAX + 1, NULL), 413);
    ck_assert_int_eq(ask_photos(&ci, wanted, SC_BLOBS_WANTED_MAX, NULL), 200);
    wanted[0].len = SC_HASH_LEN - 1;
    ck_assert_int_eq(ask_photos(&ci, wanted, 1, NULL), 400);
    sct_client_dispose(&ci);
    sc_keypair_free(ki);
}
END_TEST

static void open_checkpoint(const Scpb__Checkpoint *m, sc_checkpoint *out)
{
    sc_err err;
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(sc_checkpoint_open(m->note, strlen(m->note), server_key, origin, out, &err),
                     SC_OK);
    ck_assert_uint_eq(out->size, m->size);
    ck_assert_uint_eq(m->root.len, SC_HASH_LEN);
    ck_assert(memcmp(out->root, m->root.data, SC_HASH_LEN) == 0);
}

START_TEST(checkpoints_stay_consistent)
{
    sc_keypair *ki = sct_key(1);
    sct_client ci;
    sct_client_init(&ci, L.srv.url, ki);
    enroll(&ci, ki, "inspector1");
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(&ci, NULL, 0, NULL, 0, 0, &r), 200);
    sc_checkpoint prev;
    open_checkpoint(r->checkpoint, &prev);
    ck_assert_ptr_null(r->consistency);
    scpb__sync_response__free_unpacked(r, NULL);
    uint64_t clock = 0;
    for (int round = 0; round < 4; round++) {
        sc_op *ops[3];
        uint8_t id[SC_ID_LEN];
        for (int i = 0; i < 3; i++)
            ops[i] = sct_op_open_inspection(ki, &clock, id, L.fx.target);
        ck_assert_int_eq(sct_sync(&ci, ops, 3, NULL, 0, prev.size, &r), 200);
        sc_checkpoint cur;
        open_checkpoint(r->checkpoint, &cur);
        ck_assert_uint_ge(cur.size, prev.size + 3);
        ck_assert_ptr_nonnull(r->consistency);
        ck_assert_uint_eq(r->consistency->old_size, prev.size);
        ck_assert_uint_eq(r->consistency->new_size, cur.size);
        uint8_t(*hashes)[SC_HASH_LEN] = calloc(r->consistency->n_hashes + 1, SC_HASH_LEN);
        for (size_t i = 0; i < r->consistency->n_hashes; i++) {
            ck_assert_uint_eq(r->consistency->hashes[i].len, SC_HASH_LEN);
            memcpy(hashes[i], r->consistency->hashes[i].data, SC_HASH_LEN);
        }
        ck_assert_int_eq(sc_merkle_verify_consistency(prev.size, cur.size, prev.root, cur.root,
                                                      (const uint8_t(*)[SC_HASH_LEN])hashes,
                                                      r->consistency->n_hashes),
                         SC_OK);
        free(hashes);
        /* A receipt: the inclusion proof of the last op pushed. */
        uint64_t index = r->results[2]->log_index;
        scpb__sync_response__free_unpacked(r, NULL);
        char target[128];
        snprintf(target, sizeof target, "/v1/log/proof/inclusion?index=%llu&size=%llu",
                 (unsigned long long)index, (unsigned long long)cur.size);
        sct_resp resp;
        ck_assert_int_eq(sct_request(&ci, "GET", target, NULL, 0, NULL, NULL, &resp), 200);
        Scpb__InclusionProof *ip = scpb__inclusion_proof__unpack(NULL, resp.len, resp.body);
        ck_assert_ptr_nonnull(ip);
        uint8_t(*ih)[SC_HASH_LEN] = calloc(ip->n_hashes + 1, SC_HASH_LEN);
        for (size_t i = 0; i < ip->n_hashes; i++)
            memcpy(ih[i], ip->hashes[i].data, SC_HASH_LEN);
        uint8_t leaf[SC_HASH_LEN];
        sc_merkle_leaf_hash(ops[2]->signed_bytes, ops[2]->signed_len, leaf);
        ck_assert_int_eq(sc_merkle_verify_inclusion(leaf, index, cur.size,
                                                    (const uint8_t(*)[SC_HASH_LEN])ih, ip->n_hashes,
                                                    cur.root),
                         SC_OK);
        free(ih);
        scpb__inclusion_proof__free_unpacked(ip, NULL);
        sct_resp_dispose(&resp);
        for (int i = 0; i < 3; i++)
            sc_op_free(sct_sys_env(), ops[i]);
        prev = cur;
    }
    /* The same size again: no proof needed, and the same root. */
    ck_assert_int_eq(sct_sync(&ci, NULL, 0, NULL, 0, prev.size, &r), 200);
    sc_checkpoint same;
    open_checkpoint(r->checkpoint, &same);
    ck_assert_uint_eq(same.size, prev.size);
    ck_assert(memcmp(same.root, prev.root, SC_HASH_LEN) == 0);
    ck_assert_ptr_null(r->consistency);
    scpb__sync_response__free_unpacked(r, NULL);
    sct_client_dispose(&ci);
    sc_keypair_free(ki);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/serve_sync");
    sct_live_use(&L);
    const sct_case cases[] = {
        {"push_and_pull", push_and_pull},
        {"answers_are_sealed_and_proven", answers_are_sealed_and_proven},
        {"rejection_reasons", rejection_reasons},
        {"request_errors", request_errors},
        {"photos_asked_about", photos_asked_about},
        {"checkpoints_stay_consistent", checkpoints_stay_consistent},
        {"a_big_push_is_logged_in_parts_in_its_order", a_big_push_is_logged_in_parts_in_its_order},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){
                      .setup = sct_live_setup, .teardown = sct_live_teardown, .timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
