/*
 * test_seal.c: the seal of a sync answer (core/seal.h).
 *
 * The digests are checked against the definition in docs/protocol.md
 * §4.2.1, written out here byte by byte independently of seal.c; every
 * field of the answer and of the request must move the seal; signing,
 * opening and comparing refuse what they must and say why.
 */
#include <check.h>
#include <sodium.h>
#include <string.h>

#include "core/ids.h"
#include "core/seal.h"
#include "sctest.h"

/* ---- an answer to seal ---- */

typedef struct answer {
    Scpb__SyncResponse r;
    Scpb__OpResult res[3], *resp[3];
    Scpb__LoggedOp ops[2], *opsp[2];
    Scpb__Checkpoint cp;
    ProtobufCBinaryData blobs[2];
    uint8_t ids[3][SC_HASH_LEN], leaves[2][SC_HASH_LEN], names[2][SC_HASH_LEN];
    uint8_t cursor[6];
    uint8_t signed_op[2][40];
} answer;

static void answer_init(answer *a)
{
    memset(a, 0, sizeof *a);
    scpb__sync_response__init(&a->r);
    for (int i = 0; i < 3; i++) {
        scpb__op_result__init(&a->res[i]);
        memset(a->ids[i], 0x10 + i, SC_HASH_LEN);
        a->res[i].has_op_id = a->res[i].has_status = true;
        a->res[i].op_id = (ProtobufCBinaryData){SC_HASH_LEN, a->ids[i]};
        a->resp[i] = &a->res[i];
    }
    a->res[0].status = SCPB__OP_STATUS__OP_ACCEPTED;
    a->res[0].has_log_index = true;
    a->res[0].log_index = 41;
    a->res[1].status = SCPB__OP_STATUS__OP_DUPLICATE;
    a->res[1].has_log_index = true;
    a->res[1].log_index = 7;
    a->res[2].status = SCPB__OP_STATUS__OP_REJECTED;
    a->res[2].has_reason = true;
    a->res[2].reason = SCPB__REASON__REASON_FORBIDDEN_ROLE;
    a->res[2].message = "op 2: inspectors may not close findings";
    for (int i = 0; i < 2; i++) {
        scpb__logged_op__init(&a->ops[i]);
        memset(a->signed_op[i], 0x30 + i, sizeof a->signed_op[i]);
        a->ops[i].has_signed_op = a->ops[i].has_log_index = a->ops[i].has_received_ms = true;
        a->ops[i].signed_op = (ProtobufCBinaryData){sizeof a->signed_op[i], a->signed_op[i]};
        a->ops[i].log_index = 30 + (uint64_t)i;
        a->ops[i].received_ms = 1790000000000 + i;
        memset(a->leaves[i], 0x50 + i, SC_HASH_LEN);
        a->opsp[i] = &a->ops[i];
        memset(a->names[i], 0x70 + i, SC_HASH_LEN);
        a->blobs[i] = (ProtobufCBinaryData){SC_HASH_LEN, a->names[i]};
    }
    scpb__checkpoint__init(&a->cp);
    a->cp.note = "spotcheck.test/log\n42\nAAAA\n\n— spotcheck.test/log xyz\n";
    a->cp.has_size = true;
    a->cp.size = 42;
    memcpy(a->cursor, "\x08\x2a\x10\x03\x00\x01", sizeof a->cursor);
    a->r.n_results = 3;
    a->r.results = a->resp;
    a->r.n_ops = 2;
    a->r.ops = a->opsp;
    a->r.has_cursor = true;
    a->r.cursor = (ProtobufCBinaryData){4, a->cursor};
    a->r.has_more = true;
    a->r.more = false;
    a->r.checkpoint = &a->cp;
    a->r.has_server_time_ms = true;
    a->r.server_time_ms = 1790000000123;
    a->r.n_blobs_stored = 2;
    a->r.blobs_stored = a->blobs;
    a->r.has_blobs_checked = true;
    a->r.blobs_checked = true;
}

static const uint8_t nonce[SC_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t body_hash[SC_HASH_LEN] = {0xbb};
static const uint8_t cursor_in[3] = {0x08, 0x01, 0x10};

static void build(const answer *a, sc_seal *s)
{
    sc_seal_input in = {nonce,
                        body_hash,
                        true,
                        cursor_in,
                        sizeof cursor_in,
                        &a->r,
                        (const uint8_t(*)[SC_HASH_LEN])a->leaves};
    sc_seal_build(&in, s);
}

/* ---- the digests, written out from the definition ---- */

typedef struct bytes {
    uint8_t b[4096];
    size_t n;
} bytes;

static void be(bytes *x, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--)
        x->b[x->n++] = (uint8_t)(v >> (8 * i));
}

static void raw(bytes *x, const void *p, size_t len)
{
    memcpy(x->b + x->n, p, len);
    x->n += len;
}

static void lp(bytes *x, const void *p, size_t len)
{
    be(x, len, 4);
    raw(x, p, len);
}

START_TEST(digests_follow_the_definition)
{
    answer a;
    answer_init(&a);
    sc_seal s;
    build(&a, &s);
    bytes x = {.n = 0};
    uint8_t h[SC_HASH_LEN];
    /* results: count, then op_id, status, log_index, reason, message per result */
    be(&x, 3, 8);
    lp(&x, a.ids[0], SC_HASH_LEN), be(&x, 1, 4), be(&x, 41, 8), be(&x, 0, 4), lp(&x, "", 0);
    lp(&x, a.ids[1], SC_HASH_LEN), be(&x, 2, 4), be(&x, 7, 8), be(&x, 0, 4), lp(&x, "", 0);
    lp(&x, a.ids[2], SC_HASH_LEN), be(&x, 3, 4), be(&x, 0, 8), be(&x, 7, 4);
    lp(&x, a.res[2].message, strlen(a.res[2].message));
    crypto_hash_sha256(h, x.b, x.n);
    ck_assert_mem_eq(s.msg.results_digest.data, h, SC_HASH_LEN);
    /* ops: count, then log_index, received_ms, leaf hash per op */
    x.n = 0;
    be(&x, 2, 8);
    for (int i = 0; i < 2; i++) {
        be(&x, 30 + (uint64_t)i, 8);
        be(&x, 1790000000000 + (uint64_t)i, 8);
        raw(&x, a.leaves[i], SC_HASH_LEN);
    }
    crypto_hash_sha256(h, x.b, x.n);
    ck_assert_mem_eq(s.msg.ops_digest.data, h, SC_HASH_LEN);
    /* blobs: checked, count, then each name */
    x.n = 0;
    be(&x, 1, 1);
    be(&x, 2, 8);
    lp(&x, a.names[0], SC_HASH_LEN);
    lp(&x, a.names[1], SC_HASH_LEN);
    crypto_hash_sha256(h, x.b, x.n);
    ck_assert_mem_eq(s.msg.blobs_digest.data, h, SC_HASH_LEN);
    /* the checkpoint: SHA-256 of its note */
    crypto_hash_sha256(h, (const uint8_t *)a.cp.note, strlen(a.cp.note));
    ck_assert_mem_eq(s.msg.checkpoint_hash.data, h, SC_HASH_LEN);
    /* and the rest as given */
    ck_assert_mem_eq(s.msg.nonce.data, nonce, SC_NONCE_LEN);
    ck_assert_mem_eq(s.msg.request_hash.data, body_hash, SC_HASH_LEN);
    ck_assert(s.msg.has_cursor_in && s.msg.cursor_in.len == 3);
    ck_assert(s.msg.has_cursor_out && s.msg.cursor_out.len == 4);
    ck_assert(s.msg.has_more && !s.msg.more);
    ck_assert_uint_eq(s.msg.tree_size, 42);
    ck_assert_int_eq(s.msg.server_time_ms, 1790000000123);
    /* No request cursor: none in the seal. */
    sc_seal_input in = {
        nonce, body_hash, false, NULL, 0, &a.r, (const uint8_t(*)[SC_HASH_LEN])a.leaves};
    sc_seal_build(&in, &s);
    ck_assert(!s.msg.has_cursor_in);
}
END_TEST

/* Every field an answer or a request carries moves the seal; the compare names which. */
START_TEST(every_field_moves_the_seal)
{
    /* The seal borrows the answer's cursor, so the one compared against keeps its own answer. */
    answer a, a0;
    sc_seal base, moved;
    sc_err e;
    answer_init(&a0);
    build(&a0, &base);
    ck_assert_int_eq(sc_seal_compare(&base.msg, &base.msg, &e), SC_OK);
    /* Each change: (what it touches in a, the word the message must hold). */
    for (int t = 0; t < 19; t++) {
        answer_init(&a);
        const char *why = NULL;
        switch (t) {
        case 0:
            a.res[0].log_index = 40;
            why = "results";
            break;
        case 1:
            a.res[1].status = SCPB__OP_STATUS__OP_ACCEPTED;
            why = "results";
            break;
        case 2:
            a.res[2].reason = SCPB__REASON__REASON_OUT_OF_SCOPE;
            why = "results";
            break;
        case 3:
            a.res[2].message = "op 2: something else";
            why = "results";
            break;
        case 4:
            a.ids[0][31] ^= 1;
            why = "results";
            break;
        case 5:
            a.r.n_results = 2;
            why = "results";
            break;
        case 6:
            a.r.n_ops = 1;
            why = "pulled ops";
            break;
        case 7:
            a.ops[1].log_index = 29;
            why = "pulled ops";
            break;
        case 8:
            a.ops[0].received_ms++;
            why = "pulled ops";
            break;
        case 9:
            a.leaves[1][0] ^= 1;
            why = "pulled ops";
            break;
        case 10:
            a.cursor[0] ^= 1;
            why = "cursor";
            break;
        case 11:
            a.r.more = true;
            why = "cursor";
            break;
        case 12:
            a.cp.size = 41;
            why = "checkpoint";
            break;
        case 13:
            a.cp.note = "spotcheck.test/log\n42\nAAAB\n\n— x\n";
            why = "checkpoint";
            break;
        case 14:
            a.r.n_blobs_stored = 1;
            why = "photos";
            break;
        case 15:
            a.r.blobs_checked = false;
            why = "photos";
            break;
        case 16:
            a.r.server_time_ms++;
            why = "time";
            break;
        case 17:
            a.r.has_cursor = false;
            why = "cursor";
            break;
        case 18:
            a.res[0].has_log_index = false;
            why = "results";
            break;
        }
        build(&a, &moved);
        ck_assert_int_eq(sc_seal_compare(&moved.msg, &base.msg, &e), SC_ERR_UNPROVEN);
        ck_assert_msg(strstr(e.msg, why) != NULL, "change %d: %s", t, e.msg);
    }
    /* The request: its nonce, body and cursor. */
    answer_init(&a);
    uint8_t other[SC_NONCE_LEN];
    memcpy(other, nonce, sizeof other);
    other[15] ^= 1;
    sc_seal_input in = {other,
                        body_hash,
                        true,
                        cursor_in,
                        sizeof cursor_in,
                        &a.r,
                        (const uint8_t(*)[SC_HASH_LEN])a.leaves};
    sc_seal_build(&in, &moved);
    ck_assert_int_eq(sc_seal_compare(&moved.msg, &base.msg, &e), SC_ERR_UNPROVEN);
    ck_assert_ptr_nonnull(strstr(e.msg, "another request"));
    uint8_t hash2[SC_HASH_LEN] = {0xbc};
    in.nonce = nonce;
    in.request_hash = hash2;
    sc_seal_build(&in, &moved);
    ck_assert_int_eq(sc_seal_compare(&moved.msg, &base.msg, &e), SC_ERR_UNPROVEN);
    ck_assert_ptr_nonnull(strstr(e.msg, "another request"));
    in.request_hash = body_hash;
    in.has_cursor_in = false;
    sc_seal_build(&in, &moved);
    ck_assert_int_eq(sc_seal_compare(&moved.msg, &base.msg, &e), SC_ERR_UNPROVEN);
    ck_assert_ptr_nonnull(strstr(e.msg, "another cursor"));
    /* Message boundaries are in the digest: "ab" + "c" is not "a" + "bc". */
    a0.res[0].message = "ab";
    a0.res[1].message = "c";
    build(&a0, &base);
    answer_init(&a);
    a.res[0].message = "a";
    a.res[1].message = "bc";
    build(&a, &moved);
    ck_assert_int_eq(sc_seal_compare(&moved.msg, &base.msg, &e), SC_ERR_UNPROVEN);
}
END_TEST

START_TEST(sign_open_and_refuse)
{
    sc_keypair *server = sct_key(1), *other = sct_key(2);
    answer a;
    answer_init(&a);
    sc_seal s;
    build(&a, &s);
    uint8_t buf[SC_SEAL_MAX], sig[SC_SIG_LEN];
    size_t len = 0;
    ck_assert_int_eq(sc_seal_sign(NULL, server, &s, buf, sizeof buf, &len, sig), SC_OK);
    ck_assert_uint_gt(len, 0);
    ck_assert_uint_lt(len, 400);
    const uint8_t *pub = sc_keypair_public(server);
    Scpb__SyncSeal *got = NULL;
    sc_err e;
    ck_assert_int_eq(sc_seal_open(NULL, pub, buf, len, sig, SC_SIG_LEN, &got, &e), SC_OK);
    ck_assert_int_eq(sc_seal_compare(&s.msg, got, &e), SC_OK);
    scpb__sync_seal__free_unpacked(got, NULL);
    /* The signature covers the domain: a request signature over the same bytes is refused. */
    uint8_t req_sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(NULL, server, SC_DOMAIN_REQUEST, buf, len, req_sig), SC_OK);
    ck_assert_int_eq(sc_seal_open(NULL, pub, buf, len, req_sig, SC_SIG_LEN, &got, &e),
                     SC_ERR_UNPROVEN);
    ck_assert_ptr_nonnull(strstr(e.msg, "not signed by the server key"));
    ck_assert_ptr_null(got);
    /* Another key, a flipped byte, a cut signature, nothing at all, too many bytes. */
    ck_assert_int_eq(
        sc_seal_open(NULL, sc_keypair_public(other), buf, len, sig, SC_SIG_LEN, &got, &e),
        SC_ERR_UNPROVEN);
    buf[len / 2] ^= 1;
    ck_assert_int_eq(sc_seal_open(NULL, pub, buf, len, sig, SC_SIG_LEN, &got, &e), SC_ERR_UNPROVEN);
    buf[len / 2] ^= 1;
    ck_assert_int_eq(sc_seal_open(NULL, pub, buf, len, sig, SC_SIG_LEN - 1, &got, &e),
                     SC_ERR_UNPROVEN);
    ck_assert_int_eq(sc_seal_open(NULL, pub, NULL, 0, NULL, 0, &got, &e), SC_ERR_UNPROVEN);
    ck_assert_ptr_nonnull(strstr(e.msg, "no seal"));
    uint8_t big[SC_SEAL_MAX + 1] = {0};
    ck_assert_int_eq(sc_seal_open(NULL, pub, big, sizeof big, sig, SC_SIG_LEN, &got, &e),
                     SC_ERR_UNPROVEN);
    /* Signed bytes that are not a SyncSeal. */
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
    ck_assert_int_eq(sc_sign(NULL, server, SC_DOMAIN_SYNC, junk, sizeof junk, sig), SC_OK);
    ck_assert_int_eq(sc_seal_open(NULL, pub, junk, sizeof junk, sig, SC_SIG_LEN, &got, &e),
                     SC_ERR_UNPROVEN);
    ck_assert_ptr_nonnull(strstr(e.msg, "not a SyncSeal"));
    ck_assert_ptr_null(got);
    /* Too small a buffer to sign into. */
    ck_assert_int_eq(sc_seal_sign(NULL, server, &s, buf, 10, &len, sig), SC_ERR_TOO_LARGE);
    ck_assert_uint_eq(len, 0);
    sc_keypair_free(server);
    sc_keypair_free(other);
}
END_TEST

/* A seal with a field a later syncd adds still compares; one that lacks a field does not. */
START_TEST(later_fields_are_ignored_missing_ones_are_not)
{
    answer a;
    answer_init(&a);
    sc_seal s;
    build(&a, &s);
    size_t n = scpb__sync_seal__get_packed_size(&s.msg);
    uint8_t buf[SC_SEAL_MAX];
    scpb__sync_seal__pack(&s.msg, buf);
    /* Field 99, varint 1: tag (99 << 3) = 792 = 0x98 0x06. */
    buf[n] = 0x98;
    buf[n + 1] = 0x06;
    buf[n + 2] = 0x01;
    Scpb__SyncSeal *got = scpb__sync_seal__unpack(NULL, n + 3, buf);
    ck_assert_ptr_nonnull(got);
    sc_err e;
    ck_assert_int_eq(sc_seal_compare(&s.msg, got, &e), SC_OK);
    got->has_ops_digest = false;
    ck_assert_int_eq(sc_seal_compare(&s.msg, got, &e), SC_ERR_UNPROVEN);
    ck_assert_ptr_nonnull(strstr(e.msg, "pulled ops"));
    scpb__sync_seal__free_unpacked(got, NULL);
}
END_TEST

static Suite *seal_suite(void)
{
    Suite *s = suite_create("core/seal");
    const sct_case cases[] = {
        {"digests_follow_the_definition", digests_follow_the_definition},
        {"every_field_moves_the_seal", every_field_moves_the_seal},
        {"sign_open_and_refuse", sign_open_and_refuse},
        {"later_fields_are_ignored_missing_ones_are_not",
         later_fields_are_ignored_missing_ones_are_not},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    if (sc_crypto_init() != SC_OK)
        return 1;
    return sct_run(seal_suite());
}
