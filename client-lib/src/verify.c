/*
 * verify.c: checking without trusting anyone.
 *
 * sc_verify_replica rechecks the replica on its own: every op's signature
 * over its stored bytes and its author, every kept checkpoint's signature
 * and the consistency proofs that linked them, every receipt (the batched
 * inclusion proofs that let this device's ops leave the outbox) against
 * the checkpoint it names, that every op of ours held as logged has one,
 * and that folding each entity's ops again gives the stored state.  Ops
 * still in the outbox are counted as unproven: nothing vouches for them
 * yet.
 *
 * sc_verify_bundle checks a syncd export: the entries and checkpoints are
 * streamed through the core auditor (signatures, enrollments, roles,
 * Merkle roots), one record in memory at a time, replayed into a temporary
 * in-memory replica and folded with the same fold, and the trailer's size,
 * root and replica hash must equal what was computed.
 *
 * vf_replica_hash is that hash over a replica's own states; sc_client_status
 * reports it, so replicas that see the same ops can be compared with each
 * other and with the register (`syncd audit` prints the register's).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bundle.pb-c.h"
#include "core/audit.h"
#include "core/checkpoint.h"
#include "core/merkle.h"
#include "internal.h"

#define BUNDLE_MAGIC "SCBUNDLE1\n"
#define BUNDLE_RECORD_MAX (1024 * 1024)
#define VERIFY_ERRORS_MAX 20

typedef struct vctx {
    json_t *errors;
    sc_status first;
    uint64_t ops, ckpts, entities, receipts;
    uint8_t (*proven)[SC_HASH_LEN]; /* op ids the receipts prove; sorted before use */
    size_t nproven, capproven;
    uint64_t prev_size;
    uint8_t prev_root[SC_HASH_LEN];
    bool have_prev;
    cl_access access; /* users disabled and enabled, as the replica holds them */
} vctx;

static void problem(sc_client *c, vctx *v, sc_status code, const char *fmt, ...)
    SC_PRINTF(4, 5);

/* Note a problem: the first one becomes the handle's message; all go to the report. */
static void problem(sc_client *c, vctx *v, sc_status code, const char *fmt, ...)
{
    char msg[SC_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (v->first == SC_OK) {
        v->first = code;
        cl_fail(c, code, 0, "%s", msg);
    }
    if (json_array_size(v->errors) < VERIFY_ERRORS_MAX)
        json_array_append_new(v->errors, json_string(msg));
}

static sc_status verify_op(sc_client *c, void *ctx, const st_opinfo *info, const uint8_t *bytes,
                           size_t len)
{
    vctx *v = ctx;
    char hex[SC_HASH_HEX];
    cl_hex(info->id, SC_HASH_LEN, hex, sizeof hex);
    v->ops++;
    sc_op *op = NULL;
    sc_err e;
    sc_err_clear(&e);
    sc_status s = sc_op_open(&c->env, bytes, len, SC_OP_VERIFY, &op, &e);
    if (s == SC_ERR_NOMEM)
        return cl_fail(c, s, 0, "out of memory");
    if (s != SC_OK) {
        problem(c, v, SC_ERR_BAD_SIGNATURE, "op %.16s: %s", hex, e.msg);
        return SC_OK;
    }
    if (memcmp(op->id, info->id, SC_HASH_LEN) != 0)
        problem(c, v, SC_ERR_BAD_SIGNATURE, "op %.16s: its bytes hash to another id", hex);
    const uint8_t *author = op->op->author.data;
    if (info->origin == ST_LOCAL && info->state != ST_REJECTED) {
        if (memcmp(author, c->id.device_key, SC_KEY_LEN) != 0)
            problem(c, v, SC_ERR_BAD_SIGNATURE, "local op %.16s: not signed by this device", hex);
    } else if (info->origin == ST_PULLED &&
               memcmp(author, c->id.server_key, SC_KEY_LEN) != 0) {
        uint64_t enroll = 0, revoke = 0;
        bool revoked = false;
        s = st_device_get(c, author, &enroll, &revoked, &revoke);
        if (s != SC_OK && s != SC_ERR_NOT_FOUND) {
            sc_op_free(&c->env, op);
            return s;
        }
        if (s == SC_ERR_NOT_FOUND || (info->has_index && enroll >= info->log_index))
            problem(c, v, SC_ERR_BAD_SIGNATURE,
                    "op %.16s: its author is not enrolled before log index %llu", hex,
                    (unsigned long long)info->log_index);
        else if (revoked && info->has_index && revoke < info->log_index)
            problem(c, v, SC_ERR_BAD_SIGNATURE,
                    "op %.16s: its author was revoked before log index %llu", hex,
                    (unsigned long long)info->log_index);
        bool disabled = false;
        if (s == SC_OK && info->has_index &&
            (s = cl_access_disabled(c, &v->access, author, NULL, info->log_index, &disabled)) !=
                SC_OK) {
            sc_op_free(&c->env, op);
            return s;
        }
        if (disabled)
            problem(c, v, SC_ERR_BAD_SIGNATURE,
                    "op %.16s: its author's user was disabled before log index %llu", hex,
                    (unsigned long long)info->log_index);
    }
    sc_op_free(&c->env, op);
    return SC_OK;
}

static sc_status verify_ckpt(sc_client *c, void *ctx, const char *note, size_t note_len,
                             uint64_t size, const uint8_t root[SC_HASH_LEN],
                             const uint8_t (*proof)[SC_HASH_LEN], size_t nproof)
{
    vctx *v = ctx;
    v->ckpts++;
    sc_checkpoint cp;
    sc_err e;
    sc_err_clear(&e);
    if (sc_checkpoint_open(note, note_len, c->id.server_key, c->id.origin, &cp, &e) != SC_OK) {
        problem(c, v, SC_ERR_CHECKPOINT, "checkpoint of size %llu: %s", (unsigned long long)size,
                e.msg);
        return SC_OK;
    }
    if (cp.size != size || memcmp(cp.root, root, SC_HASH_LEN) != 0)
        problem(c, v, SC_ERR_CHECKPOINT, "checkpoint %llu: stored size/root differ from its note",
                (unsigned long long)size);
    if (v->have_prev) {
        if (size < v->prev_size)
            problem(c, v, SC_ERR_HISTORY_REWRITTEN, "checkpoint %llu is smaller than the one before",
                    (unsigned long long)size);
        else if (size == v->prev_size && memcmp(root, v->prev_root, SC_HASH_LEN) != 0)
            problem(c, v, SC_ERR_HISTORY_REWRITTEN,
                    "checkpoint %llu has another root than the one before",
                    (unsigned long long)size);
        else if (size > v->prev_size && v->prev_size > 0 &&
                 sc_merkle_verify_consistency(v->prev_size, size, v->prev_root, root, proof,
                                              nproof) != SC_OK)
            problem(c, v, SC_ERR_PROOF, "checkpoint %llu: the consistency proof does not verify",
                    (unsigned long long)size);
    }
    v->have_prev = true;
    v->prev_size = size;
    memcpy(v->prev_root, root, SC_HASH_LEN);
    return SC_OK;
}

/* A receipt proves its ops' stored bytes in the tree of a stored checkpoint. */
static sc_status verify_receipt(sc_client *c, void *ctx, uint64_t size, const st_leaf *leaves,
                                size_t n, const uint8_t (*proof)[SC_HASH_LEN], size_t nproof)
{
    vctx *v = ctx;
    uint64_t nth = ++v->receipts;
    uint8_t root[SC_HASH_LEN];
    sc_status s = st_ckpt_root(c, size, root);
    if (s == SC_ERR_NOT_FOUND) {
        problem(c, v, SC_ERR_PROOF, "receipt %llu: no verified checkpoint of size %llu",
                (unsigned long long)nth, (unsigned long long)size);
        return SC_OK;
    }
    if (s != SC_OK)
        return s;
    uint64_t *idx = sc_calloc(&c->env, n ? n : 1, sizeof *idx);
    uint8_t(*leaf)[SC_HASH_LEN] = sc_calloc(&c->env, n ? n : 1, SC_HASH_LEN);
    if (v->nproven + n > v->capproven) {
        size_t cap = (v->nproven + n) * 2;
        uint8_t(*np)[SC_HASH_LEN] = sc_realloc_array(&c->env, v->proven, cap, SC_HASH_LEN);
        if (np) {
            v->proven = np;
            v->capproven = cap;
        }
    }
    if (!idx || !leaf || v->nproven + n > v->capproven) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    bool have_all = true;
    for (size_t i = 0; i < n && s == SC_OK; i++) {
        sc_op *op = NULL;
        idx[i] = leaves[i].index;
        s = st_op_load(c, leaves[i].id, &op);
        if (s == SC_OK)
            sc_merkle_leaf_hash(op->signed_bytes, op->signed_len, leaf[i]);
        sc_op_free(&c->env, op);
        if (s == SC_ERR_NOT_FOUND) {
            have_all = false;
            s = SC_OK;
        }
        memcpy(v->proven[v->nproven++], leaves[i].id, SC_HASH_LEN);
    }
    if (s != SC_OK)
        goto done;
    if (!have_all)
        problem(c, v, SC_ERR_PROOF, "receipt %llu: it names an op the replica does not hold",
                (unsigned long long)nth);
    else if (sc_merkle_verify_multi(idx, (const uint8_t(*)[SC_HASH_LEN])leaf, n, size, proof,
                                    nproof, root) != SC_OK)
        problem(c, v, SC_ERR_PROOF,
                "receipt %llu: the proof that %zu ops are in the log of %llu entries does not "
                "verify",
                (unsigned long long)nth, n, (unsigned long long)size);
done:
    sc_free(&c->env, idx);
    sc_free(&c->env, leaf);
    return s;
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, SC_HASH_LEN);
}

/* An op of ours held as logged must be one a receipt proves. */
static sc_status verify_logged(sc_client *c, void *ctx, const uint8_t id[SC_HASH_LEN])
{
    vctx *v = ctx;
    if (v->nproven && bsearch(id, v->proven, v->nproven, SC_HASH_LEN, cmp_id))
        return SC_OK;
    char hex[SC_HASH_HEX];
    cl_hex(id, SC_HASH_LEN, hex, sizeof hex);
    problem(c, v, SC_ERR_PROOF, "op %.16s: held as logged, but no receipt proves it is in the log",
            hex);
    return SC_OK;
}

static sc_status verify_state(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    vctx *v = ctx;
    char hex[SC_ID_HEX];
    cl_hex(id, SC_ID_LEN, hex, sizeof hex);
    v->entities++;
    Scpb__EntityState *st = NULL;
    sc_status s = rp_fold(c, id, NULL, &st, NULL);
    if (s == SC_ERR_REJECTED) {
        sc_err_clear(&c->err); /* part of its past has not arrived: nothing to compare */
        return SC_OK;
    }
    if (s != SC_OK)
        return s;
    uint8_t want[SC_HASH_LEN], have[SC_HASH_LEN];
    s = sc_state_hash(&c->env, st, want);
    rp_state_free(c, st);
    if (s != SC_OK)
        return cl_fail(c, s, 0, "out of memory");
    s = st_state_hash(c, id, have);
    if (s == SC_ERR_NOT_FOUND || (s == SC_OK && memcmp(want, have, SC_HASH_LEN) != 0))
        problem(c, v, SC_ERR_REJECTED, "entity %s: stored state differs from the fold of its ops",
                hex);
    else if (s != SC_OK)
        return s;
    return SC_OK;
}

static sc_status verify_replica_read(sc_client *c, char **json)
{
    if (json)
        *json = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    sc_status s = cl_need_identity(c);
    if (s != SC_OK)
        return s;
    vctx v;
    memset(&v, 0, sizeof v);
    cl_access_init(&v.access);
    v.errors = json_array();
    if (!v.errors)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    int64_t unproven = 0;
    if ((s = st_ops_bytes_each(c, verify_op, &v)) == SC_OK &&
        (s = st_ckpt_each(c, verify_ckpt, &v)) == SC_OK &&
        (s = st_receipts_each(c, verify_receipt, &v)) == SC_OK) {
        if (v.nproven)
            qsort(v.proven, v.nproven, SC_HASH_LEN, cmp_id);
        s = st_logged_own_each(c, verify_logged, &v);
    }
    if (s == SC_OK)
        s = st_entities_each(c, 0, true, verify_state, &v);
    if (s == SC_OK)
        s = st_count(c, "outbox", &unproven);
    if (s == SC_OK && json) {
        json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:O}", "ok", v.first == SC_OK, "ops",
                              (json_int_t)v.ops, "entities", (json_int_t)v.entities, "checkpoints",
                              (json_int_t)v.ckpts, "receipts", (json_int_t)v.receipts, "unproven",
                              (json_int_t)unproven, "errors", v.errors);
        *json = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!*json)
            s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    }
    json_decref(v.errors);
    sc_free(&c->env, v.proven);
    cl_access_dispose(c, &v.access);
    if (s == SC_OK && v.first != SC_OK)
        s = v.first; /* the message of the first problem is on the handle */
    return s;
}

/* One snapshot of the replica for the whole answer, though a writer commits meanwhile. */
sc_status sc_verify_replica(sc_client *c, char **json)
{
    if (json)
        *json = NULL;
    bool began = false;
    sc_status s = c ? st_snapshot_begin(c, &began) : SC_OK;
    if (s == SC_OK)
        s = verify_replica_read(c, json);
    if (c)
        st_snapshot_end(c, began);
    return s;
}

/* ---- bundles ---- */

typedef struct bundle {
    FILE *f;
    uint8_t *buf;
    sc_auditor *aud;
    sc_client *tmp;            /* the temporary in-memory replica */
    uint64_t entries, ckpts;
    char origin[SC_ORIGIN_MAX];
    bool trailer;
} bundle;

/* Read one record; *eof at a clean end of file. */
static sc_status read_record(sc_client *c, bundle *b, uint64_t nth, Scpb__BundleRecord **out,
                             bool *eof)
{
    *out = NULL;
    *eof = false;
    uint8_t len4[4];
    size_t got = fread(len4, 1, 4, b->f);
    if (got == 0 && feof(b->f)) {
        *eof = true;
        return SC_OK;
    }
    if (got != 4)
        return cl_fail(c, SC_ERR_MALFORMED, 0, "bundle record %llu: truncated length",
                       (unsigned long long)nth);
    uint32_t len = (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 | (uint32_t)len4[2] << 8 |
                   len4[3];
    if (len > BUNDLE_RECORD_MAX)
        return cl_fail(c, SC_ERR_TOO_LARGE, 0, "bundle record %llu: %u bytes, at most %d",
                       (unsigned long long)nth, len, BUNDLE_RECORD_MAX);
    if (fread(b->buf, 1, len, b->f) != len)
        return cl_fail(c, SC_ERR_MALFORMED, 0, "bundle record %llu: truncated",
                       (unsigned long long)nth);
    ProtobufCAllocator a;
    sc_env_pb_allocator(&c->env, &a);
    *out = scpb__bundle_record__unpack(&a, len, b->buf);
    if (!*out)
        return cl_fail(c, SC_ERR_MALFORMED, 0, "bundle record %llu: not a BundleRecord",
                       (unsigned long long)nth);
    return SC_OK;
}

static void record_free(sc_client *c, Scpb__BundleRecord *r)
{
    if (!r)
        return;
    ProtobufCAllocator a;
    sc_env_pb_allocator(&c->env, &a);
    scpb__bundle_record__free_unpacked(r, &a);
}

typedef struct rh {
    sc_replica_hash h;
    sc_status s;
} rh;

static sc_status refold_visit(sc_client *t, void *ctx, const uint8_t id[SC_ID_LEN])
{
    (void)ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = rp_fold(t, id, NULL, &st, NULL);
    if (s != SC_OK) {
        char hex[SC_ID_HEX];
        cl_hex(id, SC_ID_LEN, hex, sizeof hex);
        char msg[SC_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", t->err.msg);
        return cl_fail(t, s, t->err.reason, "entity %s does not fold: %s", hex, msg);
    }
    s = rp_store_state(t, st);
    rp_state_free(t, st);
    return s;
}

static sc_status hash_visit(sc_client *t, void *ctx, const uint8_t id[SC_ID_LEN])
{
    rh *h = ctx;
    uint8_t sh[SC_HASH_LEN];
    sc_status s = st_state_hash(t, id, sh);
    if (s == SC_OK && sc_replica_hash_add(&h->h, id, sh) != SC_OK)
        s = cl_fail(t, SC_ERR_INTERNAL, 0, "entities out of order");
    return s;
}

sc_status vf_replica_hash(sc_client *c, uint8_t out[SC_HASH_LEN], uint64_t *count)
{
    rh h;
    sc_replica_hash_init(&h.h);
    sc_status s = st_entities_each(c, 0, false, hash_visit, &h);
    sc_replica_hash_final(&h.h, out);
    if (count)
        *count = h.h.count;
    if (s != SC_OK)
        memset(out, 0, SC_HASH_LEN);
    return s;
}

/* The first record: a v1 header, which names the origin and the server key the rest is under. */
static sc_status bundle_header(sc_client *c, bundle *b, const Scpb__BundleRecord *r, json_t *o)
{
    const Scpb__BundleHeader *h =
        r->record_case == SCPB__BUNDLE_RECORD__RECORD_HEADER ? r->header : NULL;
    if (!h || !h->has_version || h->version != 1 || !h->origin ||
        strlen(h->origin) >= sizeof b->origin || h->server_key.len != SC_KEY_LEN)
        return cl_fail(c, SC_ERR_MALFORMED, 0, "bundle: the first record is not a v1 header");
    snprintf(b->origin, sizeof b->origin, "%s", h->origin);
    sc_status s = sc_auditor_new(&c->env, h->server_key.data, h->origin, &b->aud);
    if (s != SC_OK)
        return cl_fail(c, s, 0, "bundle: cannot start the auditor");
    char key[SC_HASH_HEX];
    cl_hex(h->server_key.data, SC_KEY_LEN, key, sizeof key);
    json_object_set_new(o, "origin", json_string(h->origin));
    json_object_set_new(o, "server_key", json_string(key));
    return SC_OK;
}

/* One log entry: through the auditor, then into the temporary replica. */
static sc_status bundle_entry(sc_client *c, bundle *b, const Scpb__LoggedOp *lo)
{
    sc_op *op = NULL;
    sc_err e;
    sc_err_clear(&e);
    if (!lo->has_signed_op || (lo->has_log_index && lo->log_index != b->entries))
        return cl_fail(c, SC_ERR_MALFORMED, 0, "entry %llu: missing bytes or out of order",
                       (unsigned long long)b->entries);
    sc_status s =
        sc_auditor_entry(b->aud, b->entries, lo->signed_op.data, lo->signed_op.len, &op, &e);
    if (s != SC_OK)
        return cl_fail(c, s, e.reason, "%s", e.msg[0] ? e.msg : "entry does not verify");
    bool inserted;
    s = st_op_put(b->tmp, op, ST_PULLED, ST_ACCEPTED, true, b->entries, &inserted);
    sc_op_free(&c->env, op);
    if (s != SC_OK)
        return cl_fail(c, s, 0, "entry %llu: %s", (unsigned long long)b->entries, b->tmp->err.msg);
    if (!inserted)
        return cl_fail(c, SC_ERR_MALFORMED, 0, "entry %llu: the same op is logged twice",
                       (unsigned long long)b->entries);
    b->entries++;
    return SC_OK;
}

/*
 * The trailer: the entries' count and root, then the replay (fold every
 * entity, hash the replica as syncd does) against its replica hash.  The
 * trailer is whoever made the file's word; what vouches for the entries is
 * a checkpoint the server key signed, so the last one must cover them all:
 * else ops could be taken out of a bundle, or added behind its last
 * checkpoint, and the rest would still verify.
 */
static sc_status bundle_trailer(sc_client *c, bundle *b, const Scpb__BundleTrailer *t, json_t *o)
{
    b->trailer = true;
    uint8_t root[SC_HASH_LEN];
    sc_auditor_root(b->aud, root);
    if (!t->has_size || t->size != b->entries)
        return cl_fail(c, SC_ERR_MALFORMED, 0, "trailer: size %llu, but %llu entries came",
                       (unsigned long long)t->size, (unsigned long long)b->entries);
    if (sc_auditor_checkpoints(b->aud) == 0)
        return cl_fail(c, SC_ERR_PROOF, 0,
                       "no checkpoint signed by the server covers the bundle's %llu entries",
                       (unsigned long long)b->entries);
    if (sc_auditor_last_checkpoint(b->aud) != b->entries)
        return cl_fail(c, SC_ERR_PROOF, 0,
                       "the last checkpoint signed by the server covers %llu of the %llu entries: "
                       "the others are the bundle maker's word alone",
                       (unsigned long long)sc_auditor_last_checkpoint(b->aud),
                       (unsigned long long)b->entries);
    if (t->root.len != SC_HASH_LEN || memcmp(t->root.data, root, SC_HASH_LEN) != 0)
        return cl_fail(c, SC_ERR_PROOF, 0, "trailer: root differs from the entries' root");
    sc_status s = st_entities_each(b->tmp, 0, true, refold_visit, NULL);
    if (s != SC_OK)
        return cl_fail(c, s, 0, "replay: %s", b->tmp->err.msg);
    uint8_t rhash[SC_HASH_LEN];
    uint64_t nent = 0;
    if ((s = vf_replica_hash(b->tmp, rhash, &nent)) != SC_OK)
        return cl_fail(c, s, 0, "replay: %s", b->tmp->err.msg);
    char hex[SC_HASH_HEX];
    cl_hex(root, SC_HASH_LEN, hex, sizeof hex);
    json_object_set_new(o, "root", json_string(hex));
    cl_hex(rhash, SC_HASH_LEN, hex, sizeof hex);
    json_object_set_new(o, "replica_hash", json_string(hex));
    json_object_set_new(o, "entities", json_integer((json_int_t)nent));
    if (t->replica_hash.len != SC_HASH_LEN || memcmp(t->replica_hash.data, rhash, SC_HASH_LEN) != 0)
        return cl_fail(c, SC_ERR_REJECTED, 0,
                       "trailer: replica hash differs from replaying the %llu entries",
                       (unsigned long long)b->entries);
    if (t->has_entities && t->entities != nent)
        return cl_fail(c, SC_ERR_REJECTED, 0, "trailer: %llu entities, replay made %llu",
                       (unsigned long long)t->entities, (unsigned long long)nent);
    return SC_OK;
}

/* A record after the header. */
static sc_status bundle_record(sc_client *c, bundle *b, uint64_t nth, const Scpb__BundleRecord *r,
                               json_t *o)
{
    switch (r->record_case) {
    case SCPB__BUNDLE_RECORD__RECORD_ENTRY:
        return bundle_entry(c, b, r->entry);
    case SCPB__BUNDLE_RECORD__RECORD_CHECKPOINT: {
        const char *note = r->checkpoint->note ? r->checkpoint->note : "";
        sc_err e;
        sc_err_clear(&e);
        sc_status s = sc_auditor_checkpoint(b->aud, note, strlen(note), &e);
        if (s != SC_OK)
            s = cl_fail(c, s, 0, "checkpoint %llu (after entry %llu): %s",
                        (unsigned long long)b->ckpts, (unsigned long long)b->entries, e.msg);
        b->ckpts++;
        return s;
    }
    case SCPB__BUNDLE_RECORD__RECORD_TRAILER:
        return bundle_trailer(c, b, r->trailer, o);
    default:
        return cl_fail(c, SC_ERR_MALFORMED, 0, "bundle record %llu: a second header or nothing",
                       (unsigned long long)nth);
    }
}

static sc_status bundle_check(sc_client *c, bundle *b, json_t *o)
{
    char magic[sizeof BUNDLE_MAGIC - 1];
    if (fread(magic, 1, sizeof magic, b->f) != sizeof magic ||
        memcmp(magic, BUNDLE_MAGIC, sizeof magic) != 0)
        return cl_fail(c, SC_ERR_MALFORMED, 0, "not a Spotcheck bundle (bad magic)");
    sc_status s = SC_OK;
    Scpb__BundleRecord *r = NULL;
    bool eof = false;
    for (uint64_t nth = 0; s == SC_OK; nth++) {
        record_free(c, r);
        r = NULL;
        if ((s = read_record(c, b, nth, &r, &eof)) != SC_OK)
            break;
        if (eof) {
            if (!b->trailer)
                s = cl_fail(c, SC_ERR_MALFORMED, 0,
                            "bundle ends after %llu entries without a trailer",
                            (unsigned long long)b->entries);
            break;
        }
        if (b->trailer)
            s = cl_fail(c, SC_ERR_MALFORMED, 0, "bundle has records after its trailer");
        else
            s = nth == 0 ? bundle_header(c, b, r, o) : bundle_record(c, b, nth, r, o);
    }
    record_free(c, r);
    return s;
}

sc_status sc_verify_bundle(sc_client *c, const char *path, char **json)
{
    if (json)
        *json = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    bundle b;
    memset(&b, 0, sizeof b);
    json_t *o = json_object();
    sc_status s = SC_OK;
    char err[SC_ERR_MSG_MAX];
    if (!o)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    b.f = path ? fopen(path, "rb") : NULL;
    if (!b.f) {
        s = cl_fail(c, SC_ERR_IO, 0, "cannot read bundle %s", path ? path : "(none)");
        goto done;
    }
    b.buf = sc_alloc(&c->env, BUNDLE_RECORD_MAX);
    if (!b.buf) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    if ((s = sc_client_open(":memory:", &c->opt, &b.tmp, err, sizeof err)) != SC_OK) {
        s = cl_fail(c, s, 0, "temporary replica: %s", err);
        goto done;
    }
    /* One transaction for the replay's inserts: an in-memory database needs no durability. */
    if ((s = st_begin(b.tmp)) != SC_OK) {
        s = cl_fail(c, s, 0, "temporary replica: %s", b.tmp->err.msg);
        goto done;
    }
    s = bundle_check(c, &b, o);
    st_rollback(b.tmp);
done:
    json_object_set_new(o, "ok", json_boolean(s == SC_OK));
    json_object_set_new(o, "entries", json_integer((json_int_t)b.entries));
    json_object_set_new(o, "checkpoints", json_integer((json_int_t)b.ckpts));
    json_object_set_new(o, "error", s == SC_OK ? json_null() : json_string(c->err.msg));
    if (json) {
        *json = json_dumps(o, JSON_COMPACT);
        if (!*json && s == SC_OK)
            s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    }
    json_decref(o);
    sc_client_close(b.tmp);
    sc_auditor_free(b.aud);
    sc_free(&c->env, b.buf);
    if (b.f)
        fclose(b.f);
    return s;
}
