/*
 * seal.c: building, signing, opening and comparing the seal of a sync
 * answer (see seal.h).
 *
 * Invariants: the digests are fed fixed-width big-endian integers and
 * length-prefixed byte strings, so no two different answers can feed the
 * same bytes; a received seal is bounded (SC_SEAL_MAX) and its signature
 * checked before it is decoded; nothing here allocates but the decoded
 * message that sc_seal_open hands out.
 */
#include "seal.h"

#include <string.h>

#include "ids.h"

static void put_u32(sc_sha256_ctx *h, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    sc_sha256_update(h, b, sizeof b);
}

static void put_u64(sc_sha256_ctx *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    sc_sha256_update(h, b, sizeof b);
}

/* u32 length, then the bytes.  Lengths come from unpacked messages, far below 4 GiB. */
static void put_bytes(sc_sha256_ctx *h, const void *p, size_t len)
{
    put_u32(h, (uint32_t)len);
    if (len)
        sc_sha256_update(h, p, len);
}

static void results_digest(const Scpb__SyncResponse *r, uint8_t out[SC_HASH_LEN])
{
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    put_u64(&h, r->n_results);
    for (size_t i = 0; i < r->n_results; i++) {
        const Scpb__OpResult *x = r->results[i];
        put_bytes(&h, x->op_id.data, x->has_op_id ? x->op_id.len : 0);
        put_u32(&h, x->has_status ? (uint32_t)x->status : 0);
        put_u64(&h, x->has_log_index ? x->log_index : 0);
        put_u32(&h, x->has_reason ? (uint32_t)x->reason : 0);
        put_bytes(&h, x->message, x->message ? strlen(x->message) : 0);
    }
    sc_sha256_final(&h, out);
}

static void ops_digest(const Scpb__SyncResponse *r, const uint8_t (*leaves)[SC_HASH_LEN],
                       uint8_t out[SC_HASH_LEN])
{
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    put_u64(&h, r->n_ops);
    for (size_t i = 0; i < r->n_ops; i++) {
        const Scpb__LoggedOp *x = r->ops[i];
        put_u64(&h, x->has_log_index ? x->log_index : 0);
        put_u64(&h, x->has_received_ms ? (uint64_t)x->received_ms : 0);
        sc_sha256_update(&h, leaves[i], SC_HASH_LEN);
    }
    sc_sha256_final(&h, out);
}

static void blobs_digest(const Scpb__SyncResponse *r, uint8_t out[SC_HASH_LEN])
{
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    uint8_t checked = r->has_blobs_checked && r->blobs_checked;
    sc_sha256_update(&h, &checked, 1);
    put_u64(&h, r->n_blobs_stored);
    for (size_t i = 0; i < r->n_blobs_stored; i++)
        put_bytes(&h, r->blobs_stored[i].data, r->blobs_stored[i].len);
    sc_sha256_final(&h, out);
}

void sc_seal_build(const sc_seal_input *in, sc_seal *out)
{
    const Scpb__SyncResponse *r = in->resp;
    memset(out, 0, sizeof *out);
    scpb__sync_seal__init(&out->msg);
    Scpb__SyncSeal *m = &out->msg;
    memcpy(out->nonce, in->nonce, SC_NONCE_LEN);
    memcpy(out->request_hash, in->request_hash, SC_HASH_LEN);
    results_digest(r, out->results);
    ops_digest(r, in->leaves, out->ops);
    blobs_digest(r, out->blobs);
    const char *note = r->checkpoint && r->checkpoint->note ? r->checkpoint->note : "";
    sc_sha256(note, strlen(note), out->checkpoint);

    m->has_nonce = true;
    m->nonce = (ProtobufCBinaryData){SC_NONCE_LEN, out->nonce};
    m->has_request_hash = true;
    m->request_hash = (ProtobufCBinaryData){SC_HASH_LEN, out->request_hash};
    if (in->has_cursor_in) {
        m->has_cursor_in = true;
        m->cursor_in = (ProtobufCBinaryData){in->cursor_in_len, (uint8_t *)in->cursor_in};
    }
    if (r->has_cursor) {
        m->has_cursor_out = true;
        m->cursor_out = r->cursor;
    }
    m->has_more = true;
    m->more = r->has_more && r->more;
    m->has_results_digest = true;
    m->results_digest = (ProtobufCBinaryData){SC_HASH_LEN, out->results};
    m->has_ops_digest = true;
    m->ops_digest = (ProtobufCBinaryData){SC_HASH_LEN, out->ops};
    m->has_blobs_digest = true;
    m->blobs_digest = (ProtobufCBinaryData){SC_HASH_LEN, out->blobs};
    m->has_tree_size = true;
    m->tree_size = r->checkpoint && r->checkpoint->has_size ? r->checkpoint->size : 0;
    m->has_checkpoint_hash = true;
    m->checkpoint_hash = (ProtobufCBinaryData){SC_HASH_LEN, out->checkpoint};
    if (r->has_server_time_ms) {
        m->has_server_time_ms = true;
        m->server_time_ms = r->server_time_ms;
    }
}

sc_status sc_seal_sign(const sc_env *env, const sc_keypair *kp, const sc_seal *s, uint8_t *out,
                       size_t cap, size_t *len, uint8_t sig[SC_SIG_LEN])
{
    *len = 0;
    memset(sig, 0, SC_SIG_LEN);
    size_t n = scpb__sync_seal__get_packed_size(&s->msg);
    if (n > cap || n > SC_SEAL_MAX)
        return SC_ERR_TOO_LARGE;
    scpb__sync_seal__pack(&s->msg, out);
    sc_status rc = sc_sign(env, kp, SC_DOMAIN_SYNC, out, n, sig);
    if (rc != SC_OK) {
        memset(out, 0, n);
        return rc;
    }
    *len = n;
    return SC_OK;
}

sc_status sc_seal_open(const sc_env *env, const uint8_t server_key[SC_KEY_LEN],
                       const uint8_t *bytes, size_t len, const uint8_t *sig, size_t sig_len,
                       Scpb__SyncSeal **out, sc_err *err)
{
    (void)env;
    *out = NULL;
    if (!bytes || len == 0 || !sig || sig_len == 0)
        return sc_err_set(err, SC_ERR_UNPROVEN, 0, "the answer carries no seal");
    if (len > SC_SEAL_MAX || sig_len != SC_SIG_LEN)
        return sc_err_set(err, SC_ERR_UNPROVEN, 0,
                          "the answer's seal is %zu bytes (at most %d) with a %zu-byte signature",
                          len, SC_SEAL_MAX, sig_len);
    uint8_t scratch[sizeof SC_DOMAIN_SYNC + SC_SEAL_MAX];
    if (sc_verify_buf(server_key, SC_DOMAIN_SYNC, bytes, len, sig, scratch, sizeof scratch) !=
        SC_OK)
        return sc_err_set(err, SC_ERR_UNPROVEN, 0,
                          "the answer's seal is not signed by the server key");
    Scpb__SyncSeal *m = scpb__sync_seal__unpack(NULL, len, bytes);
    if (!m)
        return sc_err_set(err, SC_ERR_UNPROVEN, 0, "the answer's seal is not a SyncSeal");
    *out = m;
    return SC_OK;
}

static bool bytes_eq(bool ha, const ProtobufCBinaryData *a, bool hb, const ProtobufCBinaryData *b)
{
    if (ha != hb)
        return false;
    return !ha || (a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0));
}

sc_status sc_seal_compare(const Scpb__SyncSeal *want, const Scpb__SyncSeal *got, sc_err *err)
{
    const char *what = NULL;
    if (!bytes_eq(want->has_nonce, &want->nonce, got->has_nonce, &got->nonce) ||
        !bytes_eq(want->has_request_hash, &want->request_hash, got->has_request_hash,
                  &got->request_hash))
        what = "it answers another request (a replayed or redirected answer)";
    else if (!bytes_eq(want->has_cursor_in, &want->cursor_in, got->has_cursor_in, &got->cursor_in))
        what = "it answers another cursor";
    else if (!bytes_eq(want->has_results_digest, &want->results_digest, got->has_results_digest,
                       &got->results_digest))
        what = "the per-op results differ from what the server signed";
    else if (!bytes_eq(want->has_ops_digest, &want->ops_digest, got->has_ops_digest,
                       &got->ops_digest))
        what = "the pulled ops differ from what the server signed (one was dropped, added or "
               "changed)";
    else if (!bytes_eq(want->has_cursor_out, &want->cursor_out, got->has_cursor_out,
                       &got->cursor_out) ||
             want->has_more != got->has_more || want->more != got->more)
        what = "the cursor or `more` differ from what the server signed";
    else if (want->has_tree_size != got->has_tree_size || want->tree_size != got->tree_size ||
             !bytes_eq(want->has_checkpoint_hash, &want->checkpoint_hash, got->has_checkpoint_hash,
                       &got->checkpoint_hash))
        what = "the checkpoint differs from what the server signed";
    else if (!bytes_eq(want->has_blobs_digest, &want->blobs_digest, got->has_blobs_digest,
                       &got->blobs_digest))
        what = "the photos said to be stored differ from what the server signed";
    else if (want->has_server_time_ms != got->has_server_time_ms ||
             want->server_time_ms != got->server_time_ms)
        what = "the server time differs from what the server signed";
    if (what)
        return sc_err_set(err, SC_ERR_UNPROVEN, 0, "the answer's seal does not match: %s", what);
    return SC_OK;
}
