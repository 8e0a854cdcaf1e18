/*
 * register_log.c: reading the transparency log (RFC 9162): the latest
 * signed checkpoint, inclusion and consistency proofs against the current
 * tree, a sync's receipt (one batched inclusion proof for the ops it
 * proves), and raw entries for auditors and admins.  The tree's nodes are
 * written by tlog.c as ops are accepted; this file only reads them.
 *
 * Invariants:
 *  - Every answer comes from one read transaction, so a proof and the
 *    size it was checked against belong to the same tree.
 *  - Proof arguments are checked against the log size before any node is
 *    read; a proof longer than SC_PROOF_HASHES_MAX cannot occur for a tree
 *    of at most 2^64 leaves.
 */
#include <stdlib.h>
#include <string.h>

#include "core/merkle.h"
#include "register_internal.h"
#include "tlog.h"

Scpb__LoggedOp *sd_logged_op_new(const sd_op_row *row)
{
    Scpb__LoggedOp *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    scpb__logged_op__init(m);
    if (!sd_bytes_copy(&m->signed_op, &m->has_signed_op, row->signed_op, row->signed_len)) {
        free(m);
        return NULL;
    }
    m->has_log_index = true;
    m->log_index = row->idx;
    m->has_received_ms = true;
    m->received_ms = row->received_ms;
    return m;
}

sc_status sd_register_checkpoint(sd_register *r, Scpb__Checkpoint **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    rc = sd_tlog_latest(c->s, out, err);
    sd_pool_put(r, c);
    return rc;
}

/* n hashes into a new array of n malloc'd 32-byte fields, as protobuf-c frees them. */
static sc_status hashes_copy(const uint8_t (*buf)[SC_HASH_LEN], size_t n,
                             ProtobufCBinaryData **hashes, size_t *nh, sc_err *err)
{
    ProtobufCBinaryData *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!sd_bytes_copy(&v[i], NULL, buf[i], SC_HASH_LEN)) {
            for (size_t j = 0; j < i; j++)
                free(v[j].data);
            free(v);
            return sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
        }
    }
    *hashes = v;
    *nh = n;
    return SC_OK;
}

typedef sc_status (*proof_fn)(sd_tlog_reader *rd, uint64_t a, uint64_t b,
                              uint8_t (*out)[SC_HASH_LEN], size_t cap, size_t *n);

static sc_status incl(sd_tlog_reader *rd, uint64_t a, uint64_t b, uint8_t (*out)[SC_HASH_LEN],
                      size_t cap, size_t *n)
{
    return sc_merkle_inclusion_proof(sd_tlog_node, rd, a, b, out, cap, n);
}

static sc_status cons(sd_tlog_reader *rd, uint64_t a, uint64_t b, uint8_t (*out)[SC_HASH_LEN],
                      size_t cap, size_t *n)
{
    return sc_merkle_consistency_proof(sd_tlog_node, rd, a, b, out, cap, n);
}

/* Compute a proof against the current log; checks a < b <= size (inclusion) or 0 < a <= b <= size.
 */
static sc_status proof(sd_register *r, bool inclusion, uint64_t a, uint64_t b,
                       ProtobufCBinaryData **hashes, size_t *nh, sc_err *err)
{
    *hashes = NULL;
    *nh = 0;
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    uint64_t size = 0;
    uint8_t(*buf)[SC_HASH_LEN] = malloc(SC_PROOF_HASHES_MAX * SC_HASH_LEN);
    size_t n = 0;
    if (!buf) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
        goto done;
    }
    rc = c->s->vt->begin(c->s, false, err);
    if (rc == SC_OK)
        rc = c->s->vt->log_size(c->s, &size, err);
    if (rc != SC_OK)
        goto done;
    if (inclusion && (a >= b || b > size)) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, R_(BAD_FIELD),
                        "inclusion proof: need index < size <= %llu", (unsigned long long)size);
        goto done;
    }
    if (!inclusion && (a == 0 || a > b || b > size)) {
        rc =
            sc_err_set(err, SC_ERR_INVALID_ARG, R_(BAD_FIELD),
                       "consistency proof: need 0 < old <= size <= %llu", (unsigned long long)size);
        goto done;
    }
    sd_tlog_reader rd = {c->s, err};
    rc = (inclusion ? incl : cons)(&rd, a, b, buf, SC_PROOF_HASHES_MAX, &n);
    if (rc != SC_OK) {
        if (err && err->code == SC_OK)
            sc_err_set(err, rc, R_(STORAGE), "proof: the log's nodes are incomplete");
        goto done;
    }
    rc = c->s->vt->commit(c->s, err);
    if (rc == SC_OK)
        rc = hashes_copy((const uint8_t(*)[SC_HASH_LEN])buf, n, hashes, nh, err);
done:
    free(buf);
    sd_pool_put(r, c);
    return rc;
}

sc_status sd_register_inclusion(sd_register *r, uint64_t index, uint64_t size,
                                Scpb__InclusionProof **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    Scpb__InclusionProof *m = malloc(sizeof *m);
    if (!m)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
    scpb__inclusion_proof__init(m);
    sc_status rc = proof(r, true, index, size, &m->hashes, &m->n_hashes, err);
    if (rc != SC_OK) {
        free(m);
        return rc;
    }
    m->has_leaf_index = true;
    m->leaf_index = index;
    m->has_tree_size = true;
    m->tree_size = size;
    *out = m;
    return SC_OK;
}

sc_status sd_register_consistency(sd_register *r, uint64_t old_size, uint64_t size,
                                  Scpb__ConsistencyProof **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    Scpb__ConsistencyProof *m = malloc(sizeof *m);
    if (!m)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "proof: out of memory");
    scpb__consistency_proof__init(m);
    sc_status rc = proof(r, false, old_size, size, &m->hashes, &m->n_hashes, err);
    if (rc != SC_OK) {
        free(m);
        return rc;
    }
    m->has_old_size = true;
    m->old_size = old_size;
    m->has_new_size = true;
    m->new_size = size;
    *out = m;
    return SC_OK;
}

sc_status sd_register_receipt(sd_register *r, const uint64_t *idx, size_t k, uint64_t size,
                              Scpb__MultiInclusionProof **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    bool valid = idx && k > 0;
    for (size_t i = 0; valid && i < k; i++)
        valid = idx[i] < size && (i == 0 || idx[i] > idx[i - 1]);
    if (!valid)
        return sc_err_set(err, SC_ERR_INVALID_ARG, R_(BAD_FIELD),
                          "receipt: need ascending leaf indexes below the size %llu",
                          (unsigned long long)size);
    /* Counting walks the tree shape only: the buffer is sized before any node is read. */
    size_t len = sc_merkle_multi_proof_len(idx, k, size);
    Scpb__MultiInclusionProof *m = malloc(sizeof *m);
    uint8_t(*buf)[SC_HASH_LEN] = malloc((len ? len : 1) * SC_HASH_LEN);
    sd_conn *c = NULL;
    sc_status rc = m && buf ? sd_pool_get(r, &c, err)
                            : sc_err_set(err, SC_ERR_NOMEM, 0, "receipt: out of memory");
    if (m)
        scpb__multi_inclusion_proof__init(m);
    uint64_t have = 0;
    size_t n = 0;
    if (rc == SC_OK)
        rc = c->s->vt->begin(c->s, false, err);
    if (rc == SC_OK)
        rc = c->s->vt->log_size(c->s, &have, err);
    if (rc == SC_OK && size > have)
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, R_(BAD_FIELD),
                        "receipt: size %llu is beyond the log (%llu)", (unsigned long long)size,
                        (unsigned long long)have);
    if (rc == SC_OK) {
        sd_tlog_reader rd = {c->s, err};
        rc = sc_merkle_multi_proof(sd_tlog_node, &rd, idx, k, size, buf, len, &n);
        if (rc != SC_OK && err && err->code == SC_OK)
            sc_err_set(err, rc, R_(STORAGE), "receipt: the log's nodes are incomplete");
    }
    if (rc == SC_OK)
        rc = c->s->vt->commit(c->s, err);
    if (rc == SC_OK)
        rc = hashes_copy((const uint8_t(*)[SC_HASH_LEN])buf, n, &m->hashes, &m->n_hashes, err);
    free(buf);
    if (c)
        sd_pool_put(r, c);
    if (rc != SC_OK) {
        free(m);
        return rc;
    }
    m->has_tree_size = true;
    m->tree_size = size;
    *out = m;
    return SC_OK;
}

typedef struct entries_ctx {
    Scpb__LogEntries *m;
    bool oom;
} entries_ctx;

static bool entry_row(void *ctx, const sd_op_row *row)
{
    entries_ctx *e = ctx;
    Scpb__LoggedOp *lo = sd_logged_op_new(row);
    if (!lo) {
        e->oom = true;
        return false;
    }
    e->m->entries[e->m->n_entries++] = lo;
    return true;
}

sc_status sd_register_entries(sd_register *r, const sd_principal *who, uint64_t start,
                              uint32_t count, Scpb__LogEntries **out, sc_err *err)
{
    sc_err_clear(err);
    *out = NULL;
    if (!who || (!sd_is_admin(who) && who->role != SCPB__ROLE__ROLE_AUDITOR))
        return sc_err_set(err, SC_ERR_FORBIDDEN, R_(FORBIDDEN_ROLE),
                          "log entries are for auditors and admins only");
    if (count > SC_LOG_ENTRIES_MAX)
        return sc_err_set(err, SC_ERR_INVALID_ARG, R_(BAD_FIELD), "count: at most %d entries",
                          SC_LOG_ENTRIES_MAX);
    Scpb__LogEntries *m = malloc(sizeof *m);
    if (!m)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "entries: out of memory");
    scpb__log_entries__init(m);
    m->entries = calloc(count ? count : 1, sizeof *m->entries);
    sd_conn *c = NULL;
    sc_status rc = m->entries ? sd_pool_get(r, &c, err)
                              : sc_err_set(err, SC_ERR_NOMEM, 0, "entries: out of memory");
    if (rc == SC_OK)
        rc = c->s->vt->begin(c->s, false, err);
    if (rc == SC_OK && count) {
        entries_ctx e = {m, false};
        uint64_t end = start + count < start ? UINT64_MAX : start + count;
        rc = c->s->vt->op_scan(c->s, start, end, entry_row, &e, err);
        if (rc == SC_OK && e.oom)
            rc = sc_err_set(err, SC_ERR_NOMEM, 0, "entries: out of memory");
    }
    if (rc == SC_OK)
        rc = sd_tlog_latest(c->s, &m->checkpoint, err);
    if (rc == SC_OK)
        rc = c->s->vt->commit(c->s, err);
    if (c)
        sd_pool_put(r, c);
    if (rc != SC_OK) {
        sd_msg_free(m);
        return rc;
    }
    *out = m;
    return SC_OK;
}
