/*
 * sync.c: the client side of docs/protocol.md.
 *
 * One round: take a bounded batch from the outbox (causal order), POST
 * /v1/sync with the cursor and the size of the last verified checkpoint,
 * and verify the whole answer before touching the replica:
 *   - its seal (core/seal.h): signed by the server key for this very
 *     request (nonce and body hash) over the results, the pulled ops, the
 *     cursor, the checkpoint and the photos it names, so nothing in it was
 *     forged, replayed, dropped or changed on the way (SC_ERR_UNPROVEN);
 *   - one result per pushed op, naming it;
 *   - the checkpoint's signature under the server key, and its consistency
 *     with the last verified checkpoint (a smaller size, another root at
 *     the same size or a proof that fails is SC_ERR_HISTORY_REWRITTEN);
 *   - the receipt: one batched inclusion proof that the exact bytes of
 *     every op answered accepted or duplicate are in that checkpoint's
 *     tree (SC_ERR_UNPROVEN without it: DESIGN §10, proof before
 *     forgetting);
 *   - every pulled op's signature, and its author: the server key, or a
 *     device enrolled by a server-signed DeviceEnroll with a smaller log
 *     index (seen earlier or earlier in this answer), not revoked before,
 *     and whose user was not disabled then (access.c).
 * Only then is the round applied, in one transaction: results (proven ops
 * leave the outbox with their receipt kept; rejected ops and their
 * dependents leave the state), pulled ops (deduplicated by id; one of our
 * own still in the outbox stays there until a push proves it), refolds,
 * the cursor, the checkpoint.  A refused answer changes nothing: the ops
 * stay queued and go again with the next sync.  Rounds repeat while the
 * outbox has more or the server says `more`.  Photos go up afterwards in
 * chunks, resuming from the server's offset, and photos pulled ops name
 * come down into the store.  The chunk size adapts to the link (internal.h,
 * SC_CL_CHUNK_START): it doubles while chunks go through fast and starts
 * over after a cut, from photo to photo within a sync.  The answers to
 * HEAD and PUT are not sealed: they decide what is sent, never the
 * replica.  A photo they say syncd stores is asked about (blobs_wanted) in
 * rounds after the uploads, and leaves BL_UPLOAD only when a sealed answer
 * lists it in blobs_stored (confirm_uploads).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/checkpoint.h"
#include "core/merkle.h"
#include "core/names.h"
#include "core/opkind.h"
#include "core/par.h"
#include "core/seal.h"
#include "internal.h"

/* Room left in a request body for the cursor and framing. */
#define BODY_MARGIN (64 * 1024)

typedef struct idset {
    uint8_t (*v)[SC_ID_LEN];
    size_t n, cap;
} idset;

static bool idset_add(sc_client *c, idset *s, const uint8_t id[SC_ID_LEN])
{
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->v[i], id, SC_ID_LEN) == 0)
            return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        uint8_t(*nv)[SC_ID_LEN] = sc_realloc_array(&c->env, s->v, cap, SC_ID_LEN);
        if (!nv)
            return false;
        s->v = nv;
        s->cap = cap;
    }
    memcpy(s->v[s->n++], id, SC_ID_LEN);
    return true;
}

static void idset_free(sc_client *c, idset *s)
{
    sc_free(&c->env, s->v);
    memset(s, 0, sizeof *s);
}

/* A growable list of SHA-256 hashes (photo names). */
typedef struct hashlist {
    uint8_t (*v)[SC_HASH_LEN];
    size_t n, cap;
} hashlist;

static bool hashlist_add(sc_client *c, hashlist *l, const uint8_t h[SC_HASH_LEN])
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint8_t(*nv)[SC_HASH_LEN] = sc_realloc_array(&c->env, l->v, cap, SC_HASH_LEN);
        if (!nv)
            return false;
        l->v = nv;
        l->cap = cap;
    }
    memcpy(l->v[l->n++], h, SC_HASH_LEN);
    return true;
}

static void hashlist_free(sc_client *c, hashlist *l)
{
    sc_free(&c->env, l->v);
    memset(l, 0, sizeof *l);
}

/* Older missing photos asked about per sync, in rotation (the rest wait for later syncs). */
#define ASK_OLD_MAX 256

/* What a whole sc_sync did, for the report. */
typedef struct report {
    uint64_t pushed, accepted, duplicate, pulled, uploaded, downloaded, deferred;
    json_t *rejected;
    /* One entry per round applied: which ops went in as accepted or duplicate,
     * which were rejected or deferred, how many were pulled, and the checkpoint. */
    json_t *rounds;
    json_t *round; /* the round being applied, moved into rounds once it commits */
    json_t *photos_refused; /* photos the server refused this sync; they stay pending */
    bool has_cp;
    uint64_t cp_size;
    uint8_t cp_root[SC_HASH_LEN];
    int64_t outbox_total;
    /*
     * Photos the replica lacks are not fetched blindly: each sync asks
     * syncd which of them it stores (blobs_wanted), and GETs only those.
     * ask: missing photos named by ops pulled in this sync, asked in the
     * next round (one more round at the end when needed); the first round
     * also asks about a rotating window of older missing photos.  After the
     * uploads, the photos in `sent` are asked about the same way.
     */
    hashlist ask;            /* to ask about, in order; ask_pos of them asked */
    size_t ask_pos;
    hashlist stored;         /* syncd said these are stored: download them */
    bool asked_old;          /* the window of older missing photos went out in this sync */
    bool legacy;             /* syncd ignored blobs_wanted: fetch every missing photo, as before */
    uint8_t ask_after[SC_HASH_LEN]; /* the window's last name: the next sync starts after it */
    bool ask_after_set;      /* ask_after is to be saved (meta photo_ask_after) */
    /*
     * Photos an unsealed answer (HEAD 200, a chunk's 201 or 200) says syncd
     * stores.  Anyone on the way could have said so: they stay BL_UPLOAD
     * until a sealed answer lists them in blobs_stored.  After the uploads
     * they go into ask (sorted here first), and rounds that push nothing
     * (confirming) ask about them; any round applied then marks those
     * listed BL_DONE (confirm_uploads).
     */
    hashlist sent;
    bool confirming;
} report;

/* ---- one round ---- */

typedef struct batch {
    ProtobufCBinaryData *ops;  /* copies of the outbox bytes; owned */
    uint8_t (*ids)[SC_HASH_LEN];
    size_t n, cap, bytes;
    /* Outbox ops to leave out: those of a request still unanswered (sorted), or NULL. */
    const uint8_t (*skip)[SC_HASH_LEN];
    size_t nskip;
} batch;

static int hash_cmp(const void *a, const void *b);

static sc_status batch_visit(sc_client *c, void *ctx, const uint8_t id[SC_HASH_LEN],
                             const uint8_t *signed_op, size_t len, bool *stop)
{
    batch *b = ctx;
    if (b->nskip && bsearch(id, b->skip, b->nskip, SC_HASH_LEN, hash_cmp))
        return SC_OK;
    if (b->n >= c->opt.batch_ops || (b->n > 0 && b->bytes + len + 8 > SC_SYNC_BODY_MAX - BODY_MARGIN)) {
        *stop = true;
        return SC_OK;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        ProtobufCBinaryData *no = sc_realloc_array(&c->env, b->ops, cap, sizeof *no);
        if (!no)
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory reading the outbox");
        b->ops = no;
        uint8_t(*ni)[SC_HASH_LEN] = sc_realloc_array(&c->env, b->ids, cap, SC_HASH_LEN);
        if (!ni)
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory reading the outbox");
        b->ids = ni;
        b->cap = cap;
    }
    uint8_t *copy = sc_memdup(&c->env, signed_op, len);
    if (!copy)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory reading the outbox");
    b->ops[b->n] = (ProtobufCBinaryData){len, copy};
    memcpy(b->ids[b->n], id, SC_HASH_LEN);
    b->n++;
    b->bytes += len + 8;
    return SC_OK;
}

static void batch_free(sc_client *c, batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        sc_free(&c->env, b->ops[i].data);
    sc_free(&c->env, b->ops);
    sc_free(&c->env, b->ids);
    memset(b, 0, sizeof *b);
}

/* Enrollments and revocations seen earlier in the answer being verified. */
typedef struct dev_seen {
    uint8_t key[SC_KEY_LEN];
    uint8_t entity[SC_ID_LEN];
    bool has_user;
    uint8_t user[SC_ID_LEN]; /* the user the DeviceEnroll names */
    uint64_t enroll;
    bool revoked;
    uint64_t revoke;
} dev_seen;

typedef struct round {
    Scpb__SyncResponse *resp;
    sc_op **pulled;            /* opened and verified, one per resp->ops; owned */
    size_t npulled;
    dev_seen *devs;            /* from this answer */
    size_t ndevs;
    sc_checkpoint cp;
    const char *note;
    uint64_t old_size;
    bool new_cp;               /* the checkpoint moved */
    size_t nproof;             /* hashes in resp->consistency that linked it */
    st_leaf *proven;           /* the ops the receipt proves, by log index; owned */
    size_t nproven;
    uint8_t (*receipt)[SC_HASH_LEN]; /* its hashes; owned */
    size_t nreceipt;
    cl_access access; /* users disabled and enabled, in the replica and in this answer */
    struct sig_run *sigs; /* the pulled ops' signature checks, running beside the apply; owned */
} round;

static void sigs_free(sc_client *c, round *r);

static void round_free(sc_client *c, round *r)
{
    sigs_free(c, r); /* first: its threads read the pulled ops */
    for (size_t i = 0; i < r->npulled; i++)
        sc_op_free(&c->env, r->pulled[i]);
    sc_free(&c->env, r->pulled);
    sc_free(&c->env, r->devs);
    sc_free(&c->env, r->proven);
    sc_free(&c->env, r->receipt);
    cl_access_dispose(c, &r->access);
    if (r->resp)
        scpb__sync_response__free_unpacked(r->resp, NULL);
    memset(r, 0, sizeof *r);
}

static bool is_server(sc_client *c, const Scpb__Op *op)
{
    return op->author.len == SC_KEY_LEN &&
           memcmp(op->author.data, c->id.server_key, SC_KEY_LEN) == 0;
}

/* Is the author of op (logged at index) allowed to have made it? */
static sc_status check_author(sc_client *c, round *r, const sc_op *op, uint64_t index)
{
    const Scpb__Op *o = op->op;
    if (is_server(c, o))
        return SC_OK;
    char hex[SC_HASH_HEX];
    cl_hex(op->id, SC_HASH_LEN, hex, sizeof hex);
    uint64_t enroll = 0, revoke = 0;
    bool revoked = false, found = false;
    const uint8_t *user = NULL;
    for (size_t i = 0; i < r->ndevs; i++)
        if (memcmp(r->devs[i].key, o->author.data, SC_KEY_LEN) == 0) {
            found = true;
            enroll = r->devs[i].enroll;
            revoked = r->devs[i].revoked;
            revoke = r->devs[i].revoke;
            user = r->devs[i].has_user ? r->devs[i].user : NULL;
        }
    if (!found) {
        sc_status s = st_device_get(c, o->author.data, &enroll, &revoked, &revoke);
        if (s == SC_OK)
            found = true;
        else if (s != SC_ERR_NOT_FOUND)
            return s;
    }
    /* A revocation pulled in this answer for a device enrolled earlier. */
    if (found)
        for (size_t i = 0; i < r->ndevs; i++)
            if (r->devs[i].revoked && memcmp(r->devs[i].key, o->author.data, SC_KEY_LEN) == 0 &&
                (!revoked || r->devs[i].revoke < revoke)) {
                revoked = true;
                revoke = r->devs[i].revoke;
            }
    if (!found || enroll >= index)
        return cl_fail(c, SC_ERR_BAD_SIGNATURE, SCPB__REASON__REASON_UNKNOWN_DEVICE,
                       "pulled op %.16s at log index %llu: its author is not an enrolled device",
                       hex, (unsigned long long)index);
    if (revoked && revoke < index)
        return cl_fail(c, SC_ERR_BAD_SIGNATURE, SCPB__REASON__REASON_DEVICE_REVOKED,
                       "pulled op %.16s at log index %llu: its author was revoked at %llu", hex,
                       (unsigned long long)index, (unsigned long long)revoke);
    sc_status s = cl_access_check(c, &r->access, o->author.data, user, index, op->id);
    if (s != SC_OK && c->err.reason == SCPB__REASON__REASON_USER_DISABLED)
        sc_err_prefix(&c->err, "pulled ");
    return s;
}

/* Note a server-signed enrollment or revocation so later ops in the answer can use it. */
static sc_status note_device(sc_client *c, round *r, const sc_op *op, uint64_t index)
{
    const Scpb__Op *o = op->op;
    if (!is_server(c, o))
        return SC_OK;
    if (o->body_case == SCPB__OP__BODY_DEVICE_ENROLL && o->device_enroll->key.len == SC_KEY_LEN) {
        dev_seen *nd = sc_realloc_array(&c->env, r->devs, r->ndevs + 1, sizeof *nd);
        if (!nd)
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory verifying pulled ops");
        r->devs = nd;
        dev_seen *d = &nd[r->ndevs++];
        memset(d, 0, sizeof *d);
        memcpy(d->key, o->device_enroll->key.data, SC_KEY_LEN);
        memcpy(d->entity, o->entity.data, SC_ID_LEN);
        d->has_user = o->device_enroll->user.len == SC_ID_LEN;
        if (d->has_user)
            memcpy(d->user, o->device_enroll->user.data, SC_ID_LEN);
        d->enroll = index;
    } else if (o->body_case == SCPB__OP__BODY_DEVICE_REVOKE) {
        /* The key of the revoked device: from this answer or from the replica's devices. */
        bool hit = false;
        for (size_t i = 0; i < r->ndevs; i++)
            if (memcmp(r->devs[i].entity, o->entity.data, SC_ID_LEN) == 0) {
                if (!r->devs[i].revoked || index < r->devs[i].revoke)
                    r->devs[i].revoke = index;
                r->devs[i].revoked = true;
                hit = true;
            }
        if (!hit) {
            Scpb__EntityState *st = NULL;
            if (st_state_get(c, o->entity.data, &st) == SC_OK && rp_device(st) &&
                st->device->key.len == SC_KEY_LEN) {
                dev_seen *nd = sc_realloc_array(&c->env, r->devs, r->ndevs + 1, sizeof *nd);
                if (!nd) {
                    rp_state_free(c, st);
                    return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory verifying pulled ops");
                }
                r->devs = nd;
                dev_seen *d = &nd[r->ndevs++];
                memset(d, 0, sizeof *d);
                memcpy(d->key, st->device->key.data, SC_KEY_LEN);
                memcpy(d->entity, o->entity.data, SC_ID_LEN);
                uint64_t e = 0, rv = 0;
                bool was = false;
                d->enroll = st_device_get(c, d->key, &e, &was, &rv) == SC_OK ? e : index;
                d->revoked = true;
                d->revoke = was && rv < index ? rv : index;
            }
            rp_state_free(c, st);
        }
    }
    return SC_OK;
}

/*
 * The signatures of the pulled ops are checked on helper threads (core/par.h,
 * a slice per SC_PAR_VERIFY_MIN ops, all of them off this thread) while this
 * thread checks the authors and then folds and stores the round inside its
 * transaction; the round commits only once every signature has verified, and
 * a bad one rolls it back (so nothing of a round with a forged op is ever
 * kept or shown).  Each slice has its own scratch buffer and writes only its
 * part of `bad`; nothing else is shared, and the ops stay unchanged until
 * sigs_finish or sigs_free has waited for the slices.
 */
typedef struct sig_job {
    sc_op *const *ops;
    uint8_t *bad;                          /* bad[i] = 1 when op i's signature does not verify */
    uint8_t *scratch[SC_PAR_THREADS_MAX]; /* SC_OP_VERIFY_SCRATCH bytes per slice */
} sig_job;

typedef struct sig_run {
    sig_job job;
    sc_par par;
    size_t n, k;  /* ops [0, n) checked in k slices */
    bool running; /* started, not yet waited for */
} sig_run;

static void sig_slice(void *arg, size_t slice, size_t from, size_t to)
{
    sig_job *j = arg;
    for (size_t i = from; i < to; i++) {
        sc_err e;
        sc_err_clear(&e);
        j->bad[i] =
            sc_op_verify(j->ops[i], j->scratch[slice], SC_OP_VERIFY_SCRATCH, &e) != SC_OK;
    }
}

/* Start checking the signatures of r->pulled[0..n). */
static sc_status sigs_start(sc_client *c, round *r, size_t n)
{
    sig_run *g = sc_calloc(&c->env, 1, sizeof *g);
    if (!g)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory verifying pulled ops");
    r->sigs = g;
    g->n = n;
    g->k = sc_par_count(n, SC_PAR_VERIFY_MIN);
    g->job.ops = r->pulled;
    if (!(g->job.bad = sc_calloc(&c->env, n + 1, 1)))
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory verifying pulled ops");
    for (size_t i = 0; i < g->k; i++)
        if (!(g->job.scratch[i] = sc_alloc(&c->env, SC_OP_VERIFY_SCRATCH)))
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory verifying pulled ops");
    if (n > 0) {
        sc_par_start(NULL, &g->par, n, g->k, sig_slice, &g->job);
        g->running = true;
    }
    return SC_OK;
}

/* Wait for the checks; the first op whose signature failed, or SIZE_MAX when none did. */
static size_t sigs_finish(round *r)
{
    sig_run *g = r->sigs;
    if (!g)
        return SIZE_MAX;
    if (g->running)
        sc_par_wait(&g->par);
    g->running = false;
    for (size_t i = 0; i < g->n; i++)
        if (g->job.bad[i])
            return i;
    return SIZE_MAX;
}

static void sigs_free(sc_client *c, round *r)
{
    sig_run *g = r->sigs;
    if (!g)
        return;
    sigs_finish(r);
    for (size_t i = 0; i < SC_PAR_THREADS_MAX; i++)
        sc_free(&c->env, g->job.scratch[i]);
    sc_free(&c->env, g->job.bad);
    sc_free(&c->env, g);
    r->sigs = NULL;
}

/* Fail the sync for pulled op i, whose signature does not verify: exactly what a one-by-one check says. */
static sc_status sig_failure(sc_client *c, const round *r, size_t i)
{
    sc_err e;
    sc_err_clear(&e);
    uint8_t *scratch = sc_alloc(&c->env, SC_OP_VERIFY_SCRATCH);
    sc_status s = scratch ? sc_op_verify(r->pulled[i], scratch, SC_OP_VERIFY_SCRATCH, &e)
                          : sc_err_set(&e, SC_ERR_NOMEM, 0, "op: cannot verify the signature");
    sc_free(&c->env, scratch);
    return cl_fail(c, s == SC_ERR_NOMEM ? s : SC_ERR_BAD_SIGNATURE, e.reason,
                   "pulled op at log index %llu: %s",
                   (unsigned long long)r->resp->ops[i]->log_index, e.msg);
}

/*
 * The round failed at pulled op i (SIZE_MAX: elsewhere) with s: a signature
 * that failed at or before i is what a one-by-one check would have reported.
 */
static sc_status sigs_first(sc_client *c, round *r, size_t i, sc_status s)
{
    size_t bad = sigs_finish(r);
    return bad != SIZE_MAX && bad <= i ? sig_failure(c, r, bad) : s;
}

static bool hash_eq(const ProtobufCBinaryData *b, const uint8_t h[SC_HASH_LEN])
{
    return b->len == SC_HASH_LEN && memcmp(b->data, h, SC_HASH_LEN) == 0;
}

/*
 * The seal first (core/seal.h): an answer not signed by the server key for
 * this request (nonce, body, cursor), or one that differs from what the
 * key signed, is not the server's answer to it, and nothing in it counts.
 */
static sc_status check_seal(sc_client *c, const round *r, const tp_resp *http,
                            const uint8_t *body, size_t body_len, const uint8_t *cursor,
                            size_t cursor_len)
{
    const Scpb__SyncResponse *resp = r->resp;
    sc_err e;
    sc_err_clear(&e);
    Scpb__SyncSeal *got = NULL;
    uint8_t(*leaves)[SC_HASH_LEN] = NULL;
    sc_status s = sc_seal_open(&c->env, c->id.server_key, resp->has_seal ? resp->seal.data : NULL,
                               resp->has_seal ? resp->seal.len : 0,
                               resp->has_seal_sig ? resp->seal_sig.data : NULL,
                               resp->has_seal_sig ? resp->seal_sig.len : 0, &got, &e);
    if (s == SC_OK && !(leaves = sc_calloc(&c->env, resp->n_ops + 1, SC_HASH_LEN)))
        s = sc_err_set(&e, SC_ERR_NOMEM, 0, "out of memory checking the answer");
    if (s == SC_OK) {
        /* An op without bytes counts as empty bytes; it is refused on its own further on. */
        for (size_t i = 0; i < resp->n_ops; i++) {
            const Scpb__LoggedOp *lo = resp->ops[i];
            sc_merkle_leaf_hash(lo->signed_op.data, lo->has_signed_op ? lo->signed_op.len : 0,
                                leaves[i]);
        }
        /* The body's hash as the request signed it (hashing it again costs a pass over up to
         * SC_SYNC_BODY_MAX bytes a round). */
        uint8_t hash[SC_HASH_LEN];
        if (http->has_body_sha)
            memcpy(hash, http->body_sha, SC_HASH_LEN);
        else
            sc_sha256(body, body_len, hash);
        sc_seal_input in = {http->nonce,
                            hash,
                            cursor != NULL,
                            cursor,
                            cursor_len,
                            resp,
                            (const uint8_t(*)[SC_HASH_LEN])leaves};
        sc_seal want;
        sc_seal_build(&in, &want);
        s = sc_seal_compare(&want.msg, got, &e);
    }
    sc_free(&c->env, leaves);
    if (got)
        scpb__sync_seal__free_unpacked(got, NULL);
    if (s == SC_ERR_NOMEM)
        return cl_fail(c, s, 0, "%s", e.msg);
    if (s != SC_OK)
        return cl_fail(c, SC_ERR_UNPROVEN, 0,
                       "sync: refused the answer of %s: %s; nothing of it was applied",
                       c->id.server, e.msg);
    return SC_OK;
}

static int cmp_leaf(const void *a, const void *b)
{
    const st_leaf *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Proof before forgetting (DESIGN §10): every op answered accepted or
 * duplicate leaves the outbox only when the receipt proves its exact
 * signed bytes are a leaf of the tree the checkpoint signs, at the log
 * index the answer gives.  Without that proof nothing is applied and the
 * ops go again with the next sync.  r->proven and r->receipt are kept for
 * the replica (sc_verify_replica checks them again).
 */
static sc_status check_receipt(sc_client *c, const batch *b, round *r)
{
    const Scpb__SyncResponse *resp = r->resp;
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++)
        k += resp->results[i]->status != SCPB__OP_STATUS__OP_REJECTED;
    if (k == 0)
        return SC_OK;
    const Scpb__MultiInclusionProof *p = resp->receipt;
    if (!p || !p->has_tree_size || p->tree_size != r->cp.size ||
        p->n_hashes > SC_MULTIPROOF_HASHES_MAX)
        return cl_fail(c, SC_ERR_UNPROVEN, 0,
                       "sync: %s answered %zu ops logged without proof that they are in its log "
                       "of %llu entries; they stay in the outbox",
                       c->id.server, k, (unsigned long long)r->cp.size);
    r->proven = sc_calloc(&c->env, k, sizeof *r->proven);
    r->receipt = sc_calloc(&c->env, p->n_hashes + 1, SC_HASH_LEN);
    uint64_t *idx = sc_calloc(&c->env, k, sizeof *idx);
    uint8_t(*leaf)[SC_HASH_LEN] = sc_calloc(&c->env, k, SC_HASH_LEN);
    sc_status s = SC_OK;
    if (!r->proven || !r->receipt || !idx || !leaf) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory checking a receipt");
        goto done;
    }
    for (size_t i = 0, j = 0; i < b->n; i++) {
        const Scpb__OpResult *res = resp->results[i];
        if (res->status == SCPB__OP_STATUS__OP_REJECTED)
            continue;
        memcpy(r->proven[j].id, b->ids[i], SC_HASH_LEN);
        r->proven[j].index = res->log_index;
        sc_merkle_leaf_hash(b->ops[i].data, b->ops[i].len, r->proven[j].hash);
        j++;
    }
    /* By log index; an op pushed twice is one leaf, two ops at one index are a lie. */
    qsort(r->proven, k, sizeof *r->proven, cmp_leaf);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m > 0 && r->proven[i].index == r->proven[m - 1].index) {
            if (memcmp(r->proven[i].hash, r->proven[m - 1].hash, SC_HASH_LEN) != 0) {
                s = cl_fail(c, SC_ERR_UNPROVEN, 0,
                            "sync: %s answered log index %llu for two different ops; they stay "
                            "in the outbox",
                            c->id.server, (unsigned long long)r->proven[i].index);
                goto done;
            }
            continue;
        }
        r->proven[m] = r->proven[i];
        idx[m] = r->proven[m].index;
        memcpy(leaf[m], r->proven[m].hash, SC_HASH_LEN);
        m++;
    }
    r->nproven = m;
    bool ok = true;
    for (size_t i = 0; ok && i < p->n_hashes; i++) {
        ok = p->hashes[i].len == SC_HASH_LEN;
        if (ok)
            memcpy(r->receipt[i], p->hashes[i].data, SC_HASH_LEN);
    }
    r->nreceipt = p->n_hashes;
    if (!ok || sc_merkle_verify_multi(idx, (const uint8_t(*)[SC_HASH_LEN])leaf, m, r->cp.size,
                                      (const uint8_t(*)[SC_HASH_LEN])r->receipt, p->n_hashes,
                                      r->cp.root) != SC_OK)
        s = cl_fail(c, SC_ERR_UNPROVEN, 0,
                    "sync: %s's proof that %zu ops are in its log of %llu entries does not "
                    "verify; they stay in the outbox",
                    c->id.server, m, (unsigned long long)r->cp.size);
done:
    sc_free(&c->env, idx);
    sc_free(&c->env, leaf);
    return s;
}

/*
 * The checkpoint: signed by the server key for our origin, its fields as
 * its note says, and consistent with the last verified one (a smaller
 * size, another root at the same size, or a consistency proof that is
 * missing or fails is SC_ERR_HISTORY_REWRITTEN).  Fills r->cp, r->note,
 * r->old_size, r->new_cp and r->nproof.
 */
static sc_status check_checkpoint(sc_client *c, round *r)
{
    Scpb__SyncResponse *resp = r->resp;
    sc_status s;
    const Scpb__Checkpoint *cp = resp->checkpoint;
    if (!cp || !cp->note)
        return cl_fail(c, SC_ERR_PROTOCOL, 0, "sync: the answer has no checkpoint");
    size_t note_len = strlen(cp->note);
    sc_err e;
    sc_err_clear(&e);
    if ((s = sc_checkpoint_open(cp->note, note_len, c->id.server_key, c->id.origin, &r->cp, &e)) !=
        SC_OK)
        return cl_fail(c, SC_ERR_CHECKPOINT, 0, "sync: checkpoint: %s", e.msg);
    if ((cp->has_size && cp->size != r->cp.size) || (cp->has_root && !hash_eq(&cp->root, r->cp.root)))
        return cl_fail(c, SC_ERR_CHECKPOINT, 0,
                       "sync: the checkpoint's size or root differ from its signed note");
    r->note = cp->note;
    bool found = false;
    uint8_t old_root[SC_HASH_LEN] = {0};
    if ((s = st_ckpt_last(c, &found, &r->old_size, old_root, NULL)) != SC_OK)
        return s;
    if (!found)
        r->old_size = 0;
    if (r->cp.size < r->old_size)
        return cl_fail(c, SC_ERR_HISTORY_REWRITTEN, 0,
                       "sync: the server's log has %llu entries, fewer than the %llu of a verified "
                       "checkpoint: history was rewritten",
                       (unsigned long long)r->cp.size, (unsigned long long)r->old_size);
    if (found && r->cp.size == r->old_size && memcmp(r->cp.root, old_root, SC_HASH_LEN) != 0)
        return cl_fail(c, SC_ERR_HISTORY_REWRITTEN, 0,
                       "sync: the server's root at size %llu differs from the verified one: "
                       "history was rewritten",
                       (unsigned long long)r->cp.size);
    r->new_cp = !found || r->cp.size != r->old_size;
    if (found && r->old_size > 0 && r->cp.size > r->old_size) {
        const Scpb__ConsistencyProof *p = resp->consistency;
        if (!p || !p->has_old_size || !p->has_new_size || p->old_size != r->old_size ||
            p->new_size != r->cp.size || p->n_hashes > SC_PROOF_HASHES_MAX)
            return cl_fail(c, SC_ERR_HISTORY_REWRITTEN, 0,
                           "sync: no consistency proof from the verified size %llu to %llu",
                           (unsigned long long)r->old_size, (unsigned long long)r->cp.size);
        uint8_t(*h)[SC_HASH_LEN] = sc_calloc(&c->env, p->n_hashes + 1, SC_HASH_LEN);
        if (!h)
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory verifying a proof");
        bool ok = true;
        for (size_t i = 0; i < p->n_hashes; i++) {
            ok = ok && p->hashes[i].len == SC_HASH_LEN;
            if (ok)
                memcpy(h[i], p->hashes[i].data, SC_HASH_LEN);
        }
        s = ok ? sc_merkle_verify_consistency(r->old_size, r->cp.size, old_root, r->cp.root,
                                              (const uint8_t(*)[SC_HASH_LEN])h, p->n_hashes)
               : SC_ERR_PROOF;
        sc_free(&c->env, h);
        if (s != SC_OK)
            return cl_fail(c, SC_ERR_HISTORY_REWRITTEN, 0,
                           "sync: the consistency proof from size %llu to %llu does not verify: "
                           "history was rewritten",
                           (unsigned long long)r->old_size, (unsigned long long)r->cp.size);
        /* The proof is kept with the checkpoint so `verify` can recheck the chain. */
        r->nproof = p->n_hashes;
    }
    return SC_OK;
}

/* Verify everything in the answer but its seal (check_seal); nothing is written. */
/*
 * Check the authors of the pulled ops in log order (their signatures are
 * being checked meanwhile); ops from k on did not open: the first of them
 * is reported as a one-by-one check would.
 */
static sc_status check_authors(sc_client *c, round *r, size_t k)
{
    const Scpb__SyncResponse *resp = r->resp;
    size_t n = resp->n_ops;
    sc_status s;
    sc_err e;
    for (size_t i = 0; i < n; i++) {
        const Scpb__LoggedOp *lo = resp->ops[i];
        if (i == k) {
            if (!lo->has_signed_op || !lo->has_log_index || lo->log_index >= r->cp.size)
                return sigs_first(c, r, SIZE_MAX,
                                  cl_fail(c, SC_ERR_PROTOCOL, 0,
                                          "sync: pulled op %zu has no bytes or a log index beyond "
                                          "the checkpoint",
                                          i + 1));
            sc_op *again = NULL;
            sc_err_clear(&e);
            s = sc_op_open(&c->env, lo->signed_op.data, lo->signed_op.len, SC_OP_VERIFY, &again,
                           &e);
            sc_op_free(&c->env, again);
            return sigs_first(c, r, SIZE_MAX,
                              cl_fail(c, s == SC_ERR_NOMEM ? s : SC_ERR_BAD_SIGNATURE, e.reason,
                                      "pulled op at log index %llu: %s",
                                      (unsigned long long)lo->log_index, e.msg));
        }
        if ((s = check_author(c, r, r->pulled[i], lo->log_index)) != SC_OK ||
            (s = note_device(c, r, r->pulled[i], lo->log_index)) != SC_OK ||
            (s = cl_access_note(c, &r->access, r->pulled[i]->op, lo->log_index)) != SC_OK)
            return sigs_first(c, r, i, s);
    }
    return SC_OK;
}

static sc_status verify_round(sc_client *c, const batch *b, round *r)
{
    Scpb__SyncResponse *resp = r->resp;
    sc_status s;
    /* Per-op results. */
    if (resp->n_results != b->n)
        return cl_fail(c, SC_ERR_PROTOCOL, 0, "sync: %zu ops pushed but %zu results came back",
                       b->n, resp->n_results);
    for (size_t i = 0; i < b->n; i++) {
        const Scpb__OpResult *res = resp->results[i];
        if ((res->has_op_id && !hash_eq(&res->op_id, b->ids[i])) || !res->has_status ||
            res->status < SCPB__OP_STATUS__OP_ACCEPTED ||
            res->status > SCPB__OP_STATUS__OP_REJECTED ||
            (res->status != SCPB__OP_STATUS__OP_REJECTED && !res->has_log_index))
            return cl_fail(c, SC_ERR_PROTOCOL, 0, "sync: result %zu of %zu does not match its op",
                           i + 1, b->n);
    }
    if ((s = check_checkpoint(c, r)) != SC_OK)
        return s;
    for (size_t i = 0; i < b->n; i++)
        if (resp->results[i]->has_log_index && resp->results[i]->log_index >= r->cp.size)
            return cl_fail(c, SC_ERR_UNPROVEN, 0,
                           "sync: %s answered result %zu with log index %llu beyond its "
                           "checkpoint (%llu); the ops stay in the outbox",
                           c->id.server, i + 1, (unsigned long long)resp->results[i]->log_index,
                           (unsigned long long)r->cp.size);
    if ((s = check_receipt(c, b, r)) != SC_OK)
        return s;
    /*
     * Pulled ops: decoded here (decoding allocates through the handle's
     * allocator, so it stays on this thread); their signatures are checked
     * on helper threads from here on (sigs_start), while this thread takes
     * the authors in log order and then applies the round; a failure is
     * reported as a one-by-one check would report it (sigs_first).
     */
    sc_err e;
    size_t n = resp->n_ops, k = n; /* k: the first op that is not there or does not decode */
    r->pulled = sc_calloc(&c->env, n + 1, sizeof *r->pulled);
    if (!r->pulled)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory verifying pulled ops");
    for (size_t i = 0; i < n && k == n; i++) {
        const Scpb__LoggedOp *lo = resp->ops[i];
        sc_err_clear(&e);
        if (!lo->has_signed_op || !lo->has_log_index || lo->log_index >= r->cp.size ||
            sc_op_open(&c->env, lo->signed_op.data, lo->signed_op.len, 0, &r->pulled[i], &e) !=
                SC_OK)
            k = i;
        else
            r->npulled = i + 1;
    }
    if ((s = sigs_start(c, r, k)) != SC_OK)
        return s;
    /* The authors' devices are read in one snapshot, not a read transaction (and locks) an op. */
    bool began = false;
    if ((s = st_snapshot_begin(c, &began)) != SC_OK)
        return sigs_first(c, r, SIZE_MAX, s);
    s = check_authors(c, r, k);
    st_snapshot_end(c, began);
    return s;
}

/*
 * Say what became of one pushed op in the report: `what` is "accepted",
 * "duplicate", "rejected" or "deferred".  Each goes into the round's list
 * of that name ({op, entity, kind, log_index} when logged, else {op,
 * entity, kind, reason, message}); rejected ones also into the sync's.
 */
static sc_status note_op(sc_client *c, report *rep, const char *what, const uint8_t op[SC_HASH_LEN],
                         const uint8_t entity[SC_ID_LEN], int kind, int64_t log_index, int reason,
                         const char *message)
{
    char oh[SC_HASH_HEX], eh[SC_ID_HEX];
    cl_hex(op, SC_HASH_LEN, oh, sizeof oh);
    cl_hex(entity, SC_ID_LEN, eh, sizeof eh);
    const char *kn = sc_name_of(&sc_names_op_kind, kind), *rn = sc_name_of(&sc_names_reason, reason);
    json_t *e = json_pack("{s:s,s:s,s:s}", "op", oh, "entity", eh, "kind", kn ? kn : "?");
    if (e && log_index >= 0)
        json_object_set_new(e, "log_index", json_integer((json_int_t)log_index));
    if (e && log_index < 0) {
        json_object_set_new(e, "reason", json_string(rn ? rn : "none"));
        json_object_set_new(e, "message", json_string(message ? message : ""));
    }
    bool rejected = strcmp(what, "rejected") == 0;
    if (!e || json_array_append(json_object_get(rep->round, what), e) != 0 ||
        (rejected && json_array_append(rep->rejected, e) != 0)) {
        json_decref(e);
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    }
    json_decref(e);
    return SC_OK;
}

/* Mark every op that depends (transitively) on a rejected op of the entity as rejected. */
static sc_status reject_dependents(sc_client *c, const uint8_t entity[SC_ID_LEN], report *rep)
{
    sc_op **ops = NULL;
    size_t n = 0;
    sc_status s = st_ops_of_entity(c, entity, true, &ops, &n);
    if (s != SC_OK)
        return s;
    bool *rej = sc_calloc(&c->env, n + 1, sizeof *rej);
    if (!rej) {
        st_ops_free(c, ops, n);
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    }
    for (size_t i = 0; i < n && s == SC_OK; i++) {
        st_opinfo info;
        if ((s = st_op_info(c, ops[i]->id, &info)) == SC_OK)
            rej[i] = info.state == ST_REJECTED;
    }
    /* Store order is causal for what we made; iterate to a fixpoint for the rest. */
    for (bool changed = true; changed && s == SC_OK;) {
        changed = false;
        for (size_t i = 0; i < n && s == SC_OK; i++) {
            if (rej[i])
                continue;
            const Scpb__Op *o = ops[i]->op;
            for (size_t d = 0; d < o->n_deps && !rej[i]; d++)
                for (size_t j = 0; j < n; j++)
                    if (rej[j] && o->deps[d].len == SC_HASH_LEN &&
                        memcmp(o->deps[d].data, ops[j]->id, SC_HASH_LEN) == 0) {
                        char hex[SC_HASH_HEX], msg[128];
                        cl_hex(ops[j]->id, SC_HASH_LEN, hex, sizeof hex);
                        snprintf(msg, sizeof msg, "depends on rejected op %.16s", hex);
                        s = st_op_set(c, ops[i]->id, ST_REJECTED, false, 0,
                                      SCPB__REASON__REASON_UNKNOWN_DEPENDENCY, msg);
                        rej[i] = changed = true;
                        if (s == SC_OK)
                            s = note_op(c, rep, "rejected", ops[i]->id, entity,
                                        (int)ops[i]->op->body_case, -1,
                                        SCPB__REASON__REASON_UNKNOWN_DEPENDENCY, msg);
                        break;
                    }
        }
    }
    sc_free(&c->env, rej);
    st_ops_free(c, ops, n);
    return s;
}

/*
 * Photos an op brings (the op-kind table's photos column): remember the ones
 * not in the store, to download.  A submission only lists photos that its
 * inspection's attachments bring; they are fetched for the attachments.
 */
static sc_status want_blobs(sc_client *c, report *rep, const Scpb__Op *o)
{
    sc_photo_refs r;
    if (!sc_op_photo_refs(o, &r) || r.use != SC_PHOTOS_BRINGS)
        return SC_OK;
    for (size_t i = 0; i < r.n; i++) {
        if (r.sha[i].len != SC_HASH_LEN || bl_present(c, r.sha[i].data))
            continue;
        sc_status s = st_blob_put(c, r.sha[i].data, r.size, NULL, BL_MISSING);
        if (s != SC_OK)
            return s;
        if (!hashlist_add(c, &rep->ask, r.sha[i].data))
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    }
    return SC_OK;
}

/*
 * The results of the pushed ops: accepted and duplicate ones leave the
 * outbox with their log index (the receipt proved them), rejected ones
 * leave the state (their entities into touched), "retry later" ones stay.
 */
static sc_status apply_results(sc_client *c, const batch *b, const round *r, report *rep,
                               idset *touched)
{
    const Scpb__SyncResponse *resp = r->resp;
    sc_status s = SC_OK;
    for (size_t i = 0; i < b->n && s == SC_OK; i++) {
        const Scpb__OpResult *res = resp->results[i];
        st_opinfo info;
        if ((s = st_op_info(c, b->ids[i], &info)) != SC_OK)
            break;
        if (res->status == SCPB__OP_STATUS__OP_REJECTED) {
            int reason = res->has_reason ? (int)res->reason : 0;
            const char *msg = res->message && sc_utf8_valid(res->message, strlen(res->message))
                                  ? res->message
                                  : "";
            if (reason == SCPB__REASON__REASON_STORAGE || reason == SCPB__REASON__REASON_BATCH_LIMIT) {
                rep->deferred++; /* not processed: stays in the outbox for the next sync */
                s = note_op(c, rep, "deferred", b->ids[i], info.entity, info.kind, -1, reason, msg);
                continue;
            }
            s = st_op_set(c, b->ids[i], ST_REJECTED, false, 0, reason, msg);
            if (s == SC_OK && !idset_add(c, touched, info.entity))
                s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
            if (s == SC_OK)
                s = note_op(c, rep, "rejected", b->ids[i], info.entity, info.kind, -1, reason, msg);
        } else {
            bool dup = res->status == SCPB__OP_STATUS__OP_DUPLICATE;
            s = st_op_set(c, b->ids[i], ST_ACCEPTED, true, res->log_index, 0, NULL);
            if (dup)
                rep->duplicate++;
            else
                rep->accepted++;
            if (s == SC_OK)
                s = note_op(c, rep, dup ? "duplicate" : "accepted", b->ids[i], info.entity,
                            info.kind, (int64_t)res->log_index, 0, NULL);
        }
    }
    return s;
}

/* What a pulled op tells about who may sign later ops: enrollments, revocations, users' access. */
static sc_status note_facts(sc_client *c, const Scpb__Op *o, uint64_t index)
{
    if (is_server(c, o) && o->body_case == SCPB__OP__BODY_DEVICE_ENROLL &&
        o->device_enroll->key.len == SC_KEY_LEN)
        return st_device_enroll(c, o->device_enroll->key.data, o->entity.data, index);
    if (is_server(c, o) && o->body_case == SCPB__OP__BODY_DEVICE_REVOKE)
        return st_device_revoke(c, o->entity.data, index);
    if (o->body_case == SCPB__OP__BODY_USER_DISABLE || o->body_case == SCPB__OP__BODY_USER_ENABLE)
        return st_user_access_put(c, o->entity.data, index,
                                  o->body_case == SCPB__OP__BODY_USER_DISABLE);
    return SC_OK;
}

/*
 * Our own user's role as the replica now folds it: an admin's role change
 * (user_role) takes effect for what this device may record from now on,
 * as it does on syncd for what it accepts.  *role gets it when it changed;
 * the handle takes it once the round commits.
 */
static sc_status own_role(sc_client *c, int *role)
{
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, c->id.user, &st);
    if (s == SC_ERR_NOT_FOUND)
        return SC_OK;
    if (s == SC_OK && st->kind_case == SCPB__ENTITY_STATE__KIND_USER &&
        (int)st->user->role != c->id.role) {
        s = st_meta_put_u64(c, "role", (uint64_t)st->user->role);
        *role = (int)st->user->role;
    }
    rp_state_free(c, st);
    return s;
}

/* The pulled ops: stored (new ones counted), their HLCs observed, enrollments noted, photos wanted. */
static sc_status apply_pulled(sc_client *c, const round *r, report *rep, idset *touched,
                              uint64_t *pulled)
{
    const Scpb__SyncResponse *resp = r->resp;
    sc_status s = SC_OK;
    for (size_t i = 0; i < r->npulled && s == SC_OK; i++) {
        const sc_op *op = r->pulled[i];
        const Scpb__Op *o = op->op;
        uint64_t index = resp->ops[i]->log_index;
        bool inserted = false;
        if ((s = st_op_put(c, op, ST_PULLED, ST_ACCEPTED, true, index, &inserted)) != SC_OK)
            break;
        if (!inserted) {
            /* One of ours still in the outbox stays there: only a receipt lets it go. */
            st_opinfo info;
            if ((s = st_op_info(c, op->id, &info)) == SC_OK && info.state != ST_REJECTED &&
                (!info.has_index || info.state != ST_ACCEPTED) &&
                !(info.origin == ST_LOCAL && info.state == ST_PENDING))
                s = st_op_set(c, op->id, ST_ACCEPTED, true, index, 0, NULL);
            if (s != SC_OK)
                break;
        }
        rp_hlc_observe(c, o->hlc);
        s = note_facts(c, o, index);
        if (s == SC_OK)
            s = want_blobs(c, rep, o);
        if (s == SC_OK && !idset_add(c, touched, o->entity.data))
            s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        if (inserted)
            (*pulled)++; /* ops new to the replica; our own come back and are deduplicated */
    }
    return s;
}

/* The round's new checkpoint, with the consistency proof that links it to the last one. */
static sc_status store_checkpoint(sc_client *c, const round *r)
{
    const Scpb__ConsistencyProof *p = r->resp->consistency;
    uint8_t(*h)[SC_HASH_LEN] = NULL;
    if (r->nproof && p) {
        h = sc_calloc(&c->env, r->nproof, SC_HASH_LEN);
        if (!h)
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        for (size_t i = 0; i < r->nproof; i++)
            memcpy(h[i], p->hashes[i].data, SC_HASH_LEN);
    }
    sc_status s = st_ckpt_add(c, r->note, strlen(r->note), r->cp.size, r->cp.root,
                              (const uint8_t(*)[SC_HASH_LEN])h, h ? r->nproof : 0);
    sc_free(&c->env, h);
    return s;
}

/* A fresh entry for the round about to be applied (rep->round). */
static sc_status round_begin(sc_client *c, const batch *b, report *rep)
{
    json_decref(rep->round);
    rep->round = json_pack("{s:I,s:I,s:[],s:[],s:[],s:[]}", "round",
                           (json_int_t)json_array_size(rep->rounds) + 1, "pushed", (json_int_t)b->n,
                           "accepted", "duplicate", "rejected", "deferred");
    return rep->round ? SC_OK : cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
}

/* The round applied: its pulled count and checkpoint, and into the report's rounds. */
static void round_end(report *rep, uint64_t pulled, const round *r)
{
    char hex[SC_HASH_HEX];
    cl_hex(r->cp.root, SC_HASH_LEN, hex, sizeof hex);
    json_object_set_new(rep->round, "pulled", json_integer((json_int_t)pulled));
    json_object_set_new(rep->round, "checkpoint",
                        json_pack("{s:I,s:s}", "size", (json_int_t)r->cp.size, "root", hex));
    json_array_append_new(rep->rounds, rep->round);
    rep->round = NULL;
}

/* Is h one of the photos an unsealed answer said syncd stores (rep->sent, sorted)? */
static bool is_sent(const report *rep, const ProtobufCBinaryData *h)
{
    return rep->confirming && h->len == SC_HASH_LEN &&
           bsearch(h->data, rep->sent.v, rep->sent.n, SC_HASH_LEN, hash_cmp) != NULL;
}

/*
 * Our photos that the sealed answer lists as stored (each one asked about:
 * take_stored) are on the server: they leave BL_UPLOAD with the round.  No
 * other answer moves a photo out of BL_UPLOAD (docs/security.md).  *n:
 * how many, for the report's photos_uploaded once the round commits.
 */
static sc_status confirm_uploads(sc_client *c, const Scpb__SyncResponse *resp, const report *rep,
                                 uint64_t *n)
{
    *n = 0;
    for (size_t i = 0; !rep->legacy && i < resp->n_blobs_stored; i++) {
        if (!is_sent(rep, &resp->blobs_stored[i]))
            continue;
        sc_status s = st_blob_set(c, resp->blobs_stored[i].data, BL_DONE);
        if (s != SC_OK)
            return s;
        (*n)++;
    }
    return SC_OK;
}

/*
 * Something to do once a round is applied, before its signatures are
 * waited for and it commits (sync_rounds: check the answer behind it).
 */
typedef struct round_hook {
    void (*fn)(sc_client *c, report *rep, void *ctx);
    void *ctx;
} round_hook;

static sc_status apply_round(sc_client *c, const batch *b, round *r, report *rep,
                             const round_hook *hook)
{
    idset touched = {0};
    uint64_t pulled = 0, confirmed = 0;
    sc_hlc hlc = c->hlc; /* as it was, should the round not commit */
    sc_status s = round_begin(c, b, rep);
    if (s == SC_OK)
        s = st_begin(c);
    if (s != SC_OK)
        return s;
    s = apply_results(c, b, r, rep, &touched);
    /* The receipt that let the accepted ops go, for sc_verify_replica. */
    if (s == SC_OK && r->nproven > 0)
        s = st_receipt_add(c, r->cp.size, r->proven, r->nproven,
                           (const uint8_t(*)[SC_HASH_LEN])r->receipt, r->nreceipt);
    /* Dependents of rejected ops leave the state too. */
    for (size_t i = 0; i < touched.n && s == SC_OK; i++)
        s = reject_dependents(c, touched.v[i], rep);
    if (s == SC_OK)
        s = apply_pulled(c, r, rep, &touched, &pulled);
    if (s == SC_OK)
        s = confirm_uploads(c, r->resp, rep, &confirmed);
    int role = -1;
    for (size_t i = 0; i < touched.n && s == SC_OK; i++) {
        s = rp_refold(c, touched.v[i]);
        if (s == SC_OK && memcmp(touched.v[i], c->id.user, SC_ID_LEN) == 0)
            s = own_role(c, &role);
    }
    if (s == SC_OK && r->resp->has_cursor)
        s = st_meta_put(c, "cursor", r->resp->cursor.data, r->resp->cursor.len);
    if (s == SC_OK && r->new_cp)
        s = store_checkpoint(c, r);
    if (s == SC_OK && rep->ask_after_set) {
        s = st_meta_put(c, "photo_ask_after", rep->ask_after, SC_HASH_LEN);
        rep->ask_after_set = s != SC_OK;
    }
    if (s == SC_OK)
        s = rp_hlc_save(c);
    idset_free(c, &touched);
    if (s == SC_OK && hook)
        hook->fn(c, rep, hook->ctx);
    /* Nothing commits before every pulled signature has verified. */
    s = sigs_first(c, r, SIZE_MAX, s);
    if (s == SC_OK)
        s = st_commit(c);
    else {
        st_rollback(c);
        c->hlc = hlc;
    }
    if (s == SC_OK && role >= 0)
        c->id.role = role;
    if (s == SC_OK) {
        rep->pulled += pulled;
        rep->uploaded += confirmed;
        rep->has_cp = true;
        rep->cp_size = r->cp.size;
        memcpy(rep->cp_root, r->cp.root, SC_HASH_LEN);
        round_end(rep, pulled, r);
    }
    return s;
}

static sc_status old_visit(sc_client *c, void *ctx, const uint8_t sha[SC_HASH_LEN], uint64_t size)
{
    (void)size;
    return hashlist_add(c, ctx, sha) ? SC_OK : cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
}

/*
 * The photos this round asks syncd about: in the first round, a window of
 * older missing photos (rotating from sync to sync); then the ones named
 * by ops this sync pulled, and after the uploads our own photos to
 * confirm (confirm_rounds), in order.  At most SC_BLOBS_WANTED_MAX.
 */
static sc_status photos_to_ask(sc_client *c, report *rep, hashlist *out, size_t *from_ask)
{
    *from_ask = 0;
    if (rep->legacy)
        return SC_OK;
    sc_status s = SC_OK;
    if (!rep->asked_old) {
        uint8_t after[SC_HASH_LEN];
        size_t len = 0;
        s = st_meta_get(c, "photo_ask_after", after, sizeof after, &len);
        if (s != SC_OK && s != SC_ERR_NOT_FOUND)
            return s;
        bool have = s == SC_OK && len == SC_HASH_LEN;
        s = st_blobs_missing_from(c, have ? after : NULL, ASK_OLD_MAX, old_visit, out);
        if (s != SC_OK)
            return s;
        rep->asked_old = true;
        if (out->n > 0) {
            memcpy(rep->ask_after, out->v[out->n - 1], SC_HASH_LEN);
            rep->ask_after_set = true;
        }
    }
    while (rep->ask_pos + *from_ask < rep->ask.n && out->n < SC_BLOBS_WANTED_MAX) {
        if (!hashlist_add(c, out, rep->ask.v[rep->ask_pos + *from_ask]))
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        (*from_ask)++;
    }
    return SC_OK;
}

/*
 * syncd's blobs_stored must be some of what was asked, in the order asked
 * (so a server cannot make the client fetch photos nothing names).
 */
static sc_status take_stored(sc_client *c, report *rep, const Scpb__SyncResponse *resp,
                             const hashlist *asked)
{
    if (asked->n > 0 && !(resp->has_blobs_checked && resp->blobs_checked)) {
        rep->legacy = true; /* a syncd that predates blobs_wanted */
        return SC_OK;
    }
    size_t j = 0;
    for (size_t i = 0; i < resp->n_blobs_stored; i++) {
        const ProtobufCBinaryData *h = &resp->blobs_stored[i];
        while (j < asked->n && !(h->len == SC_HASH_LEN && memcmp(h->data, asked->v[j], SC_HASH_LEN) == 0))
            j++;
        if (j == asked->n)
            return cl_fail(c, SC_ERR_PROTOCOL, 0,
                           "sync: the server says it stores photo %zu, which was not asked about",
                           i + 1);
        j++;
    }
    return SC_OK;
}

/*
 * One /v1/sync exchange: the request as it went out and, once it came,
 * the answer.  Rounds are pipelined: when an answer pushed everything it
 * was given (nothing rejected or deferred) and there is more to do, the
 * next request goes out before that answer is verified and applied, and
 * the server works on it meanwhile (exchange_follow).  It carries the
 * cursor and checkpoint size the unverified answer gave; if that answer
 * then fails its checks, the next one is dropped unread, and whatever
 * the server logged of it stays in the outbox to come back as duplicates.
 * Answers are still verified and applied one after the other, in order,
 * each against the checkpoint the one before it left.
 */
typedef struct exchange {
    batch b;
    hashlist asked;             /* photos asked about (blobs_wanted) */
    ProtobufCBinaryData *wanted;
    size_t from_ask;            /* of them from rep->ask */
    uint8_t *cursor;            /* sent, or NULL */
    size_t cursor_len;
    bool found;                 /* a checkpoint is known: known_size is its size */
    uint64_t known;
    uint8_t *body;              /* the request's bytes */
    size_t body_len;
    uint8_t (*sorted)[SC_HASH_LEN]; /* b.ids sorted, for the next request to skip */
    tp_pending *call;           /* started and not finished */
    tp_resp http;
    round r;
    /* Finished, and checked, while the round before it was being applied (check_behind):
     * what each step returned, and the failure it left. */
    bool finished, checked;
    sc_status finish_s, check_s;
    sc_err err;
} exchange;

static void exchange_free(sc_client *c, exchange *x)
{
    if (x->call)
        tp_call_drop(c, x->call); /* never read: its connection is closed */
    round_free(c, &x->r);
    batch_free(c, &x->b);
    tp_resp_dispose(c, &x->http);
    sc_free(&c->env, x->cursor);
    sc_free(&c->env, x->body);
    sc_free(&c->env, x->wanted);
    sc_free(&c->env, x->sorted);
    hashlist_free(c, &x->asked);
    memset(x, 0, sizeof *x);
    cl_access_init(&x->r.access);
}

/*
 * The request from the replica: outbox (none while confirming uploads),
 * cursor, the last verified checkpoint, photos to ask.
 */
static sc_status exchange_build(sc_client *c, report *rep, exchange *x)
{
    sc_status s = rep->confirming ? SC_OK : st_outbox_each(c, batch_visit, &x->b);
    if (s != SC_OK)
        return s;
    s = st_meta_get_alloc(c, "cursor", &x->cursor, &x->cursor_len);
    if (s != SC_OK && s != SC_ERR_NOT_FOUND)
        return s;
    if ((s = st_ckpt_last(c, &x->found, &x->known, (uint8_t[SC_HASH_LEN]){0}, NULL)) != SC_OK ||
        (s = photos_to_ask(c, rep, &x->asked, &x->from_ask)) != SC_OK)
        return s;
    x->wanted = sc_calloc(&c->env, x->asked.n + 1, sizeof *x->wanted);
    if (!x->wanted)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory building a sync request");
    for (size_t i = 0; i < x->asked.n; i++)
        x->wanted[i] = (ProtobufCBinaryData){SC_HASH_LEN, x->asked.v[i]};
    return SC_OK;
}

/*
 * Is the answer in prev one to send the next request behind?  Only with
 * the library's own transport (it can start a request and finish it
 * later), when every op pushed went into the log (a rejection changes what
 * the outbox holds: dependents leave it), when the answer names its
 * checkpoint, and when there is more to do: the server has more to pull,
 * or the outbox holds ops beyond this batch.
 */
static bool can_follow(sc_client *c, const exchange *prev)
{
    const Scpb__SyncResponse *resp = prev->r.resp;
    if (!c->tpa || !resp || resp->n_results != prev->b.n || !resp->checkpoint ||
        !resp->checkpoint->has_size)
        return false;
    for (size_t i = 0; i < resp->n_results; i++)
        if (!resp->results[i]->has_status ||
            resp->results[i]->status == SCPB__OP_STATUS__OP_REJECTED)
            return false;
    if (resp->has_more && resp->more)
        return true;
    int64_t left = 0;
    return prev->b.n > 0 && st_count(c, "outbox", &left) == SC_OK && (uint64_t)left > prev->b.n;
}

/* The request after prev, whose answer is in but not yet applied: its cursor and checkpoint. */
static sc_status exchange_follow(sc_client *c, const report *rep, exchange *prev, exchange *x)
{
    const Scpb__SyncResponse *resp = prev->r.resp;
    prev->sorted = sc_calloc(&c->env, prev->b.n + 1, SC_HASH_LEN);
    if (!prev->sorted)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory building a sync request");
    if (prev->b.n)
        memcpy(prev->sorted, prev->b.ids, prev->b.n * SC_HASH_LEN);
    qsort(prev->sorted, prev->b.n, SC_HASH_LEN, hash_cmp);
    x->b.skip = (const uint8_t(*)[SC_HASH_LEN])prev->sorted;
    x->b.nskip = prev->b.n;
    sc_status s = rep->confirming ? SC_OK : st_outbox_each(c, batch_visit, &x->b);
    if (s != SC_OK)
        return s;
    const uint8_t *cur = resp->has_cursor ? resp->cursor.data : prev->cursor;
    size_t cur_len = resp->has_cursor ? resp->cursor.len : prev->cursor_len;
    if (cur && !(x->cursor = sc_memdup(&c->env, cur, cur_len ? cur_len : 1)))
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory building a sync request");
    x->cursor_len = cur ? cur_len : 0;
    x->found = true;
    x->known = resp->checkpoint->size;
    x->wanted = sc_calloc(&c->env, 1, sizeof *x->wanted);
    if (!x->wanted)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory building a sync request");
    return SC_OK;
}

/* The request's bytes into x->body. */
static sc_status exchange_pack(sc_client *c, exchange *x)
{
    Scpb__SyncRequest req = SCPB__SYNC_REQUEST__INIT;
    req.n_ops = x->b.n;
    req.ops = x->b.ops;
    req.has_cursor = x->cursor != NULL;
    req.cursor = (ProtobufCBinaryData){x->cursor_len, x->cursor};
    req.has_known_size = true;
    req.known_size = x->found ? x->known : 0;
    req.has_max_pull = true;
    req.max_pull = SC_CL_PULL_MAX;
    req.n_blobs_wanted = x->asked.n;
    req.blobs_wanted = x->wanted;
    sc_free(&c->env, x->body);
    x->body_len = scpb__sync_request__get_packed_size(&req);
    x->body = sc_alloc(&c->env, x->body_len);
    if (!x->body)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory building a sync request");
    scpb__sync_request__pack(&req, x->body);
    return SC_OK;
}

static sc_status exchange_start(sc_client *c, exchange *x)
{
    sc_status s = exchange_pack(c, x);
    if (s == SC_OK)
        s = tp_call_start(c, "/v1/sync", x->body, x->body_len, SC_CL_RESPONSE_MAX, &x->http,
                          &x->call);
    return s;
}

/*
 * What decoding an answer to x may take: its bytes copied twice over, and
 * per entry it can hold (a result a pushed op, the ops it may pull, a photo
 * asked about, with their proofs' hashes in the slack) 1 KiB of structs and
 * protobuf-c's scratch.  Legitimate answers take a fraction of it; an
 * answer of millions of empty entries, which would unpack into some seventy
 * times its size before its seal is checked, is refused.
 */
static size_t answer_budget(const exchange *x)
{
    size_t entries = x->b.n + SC_CL_PULL_MAX + x->asked.n;
    return 2 * x->http.len + entries * 1024 + (size_t)4 * 1024 * 1024;
}

/*
 * Wait for the answer and decode it.  A cursor the server refuses (400
 * malformed: not one it made, or past its log) is dropped and the pull
 * starts over from the beginning; ops that come again are deduplicated,
 * and a log that shrank is caught by the checkpoint check.
 */
static sc_status exchange_finish(sc_client *c, exchange *x)
{
    tp_pending *p = x->call;
    x->call = NULL;
    sc_status s = tp_call_finish(c, p);
    if (s != SC_OK)
        return s;
    if (x->http.status == 400 && x->cursor && strcmp(x->http.reason, "malformed") == 0) {
        sc_free(&c->env, x->cursor);
        x->cursor = NULL;
        x->cursor_len = 0;
        tp_resp_dispose(c, &x->http);
        if ((s = exchange_pack(c, x)) != SC_OK ||
            (s = tp_call(c, "POST", "/v1/sync", x->body, x->body_len, true, SC_CL_RESPONSE_MAX,
                         &x->http)) != SC_OK)
            return s;
    }
    if (x->http.status != 200)
        return tp_fail(c, &x->http, "sync");
    size_t limit = answer_budget(x);
    sc_pb_budget budget;
    sc_pb_budget_init(&budget, limit);
    x->r.resp = scpb__sync_response__unpack(&budget.a, x->http.len, x->http.body);
    if (!x->r.resp && budget.over)
        return cl_fail(c, SC_ERR_PROTOCOL, 0,
                       "%s answered /v1/sync with %zu bytes that would take more than %zu bytes "
                       "to decode, more than an answer to this request can hold",
                       c->id.server, x->http.len, limit);
    if (!x->r.resp)
        return cl_fail(c, SC_ERR_PROTOCOL, 0,
                       "%s answered /v1/sync with %zu bytes that are not a SyncResponse",
                       c->id.server, x->http.len);
    return SC_OK;
}

/* Check the answer: its seal, the photos it stores, its results, checkpoint and pulled ops. */
static sc_status exchange_check(sc_client *c, report *rep, exchange *x)
{
    sc_status s;
    if ((s = check_seal(c, &x->r, &x->http, x->body, x->body_len, x->cursor, x->cursor_len)) !=
            SC_OK ||
        (s = take_stored(c, rep, x->r.resp, &x->asked)) != SC_OK)
        return s;
    return verify_round(c, &x->b, &x->r);
}

/*
 * The answer behind the round being applied (a pull, its answer already
 * in, behind a round that pulled ops): finished and checked while that
 * round's last signatures are verified and it commits, so that its
 * decoding, author checks and signatures keep the CPUs busy through the
 * commit.  Its checks read the replica in the round's own transaction, as
 * they would after its commit; if that round then fails, this answer goes
 * with it, unapplied.  A failure of its own is kept (with its message) for
 * its turn, after the round commits.
 */
static void check_behind(sc_client *c, report *rep, void *ctx)
{
    exchange *x = ctx;
    sc_err before = c->err;
    c->checked_behind++;
    x->finished = true;
    x->finish_s = exchange_finish(c, x);
    if (x->finish_s == SC_OK) {
        x->checked = true;
        x->check_s = exchange_check(c, rep, x);
    }
    x->err = c->err;
    c->err = before;
}

/*
 * Check and apply the answer; next: the request behind it, out already
 * (NULL: none), which a pull may check before this round commits.  *more:
 * another round is due; *moved: something was pushed, pulled or the
 * cursor advanced.
 */
static sc_status exchange_apply(sc_client *c, report *rep, exchange *x, exchange *next, bool *more,
                                bool *moved)
{
    const Scpb__SyncResponse *resp = x->r.resp;
    sc_status s;
    *more = false;
    *moved = false;
    if (x->checked && (s = x->check_s) != SC_OK) {
        c->err = x->err;
        return s;
    }
    if (!x->checked && (s = exchange_check(c, rep, x)) != SC_OK)
        return s;
    /* Behind an answer that pulled ops, a pull (no ops to log) whose answer is already in: the
     * round's transaction, which holds the replica's write lock, never waits on the network. */
    round_hook behind = {check_behind, next};
    bool early = next && next->call && next->b.n == 0 && resp->n_ops > 0 &&
                 tp_call_ready(c, next->call);
    if ((s = apply_round(c, &x->b, &x->r, rep, early ? &behind : NULL)) != SC_OK)
        return s;
    /* Photos to download; our own uploads among them were confirmed in the round. */
    for (size_t i = 0; !rep->legacy && i < resp->n_blobs_stored; i++)
        if (!is_sent(rep, &resp->blobs_stored[i]) &&
            !hashlist_add(c, &rep->stored, resp->blobs_stored[i].data))
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    rep->ask_pos += x->from_ask;
    rep->pushed += x->b.n;
    *moved = x->b.n > 0 || resp->n_ops > 0 || x->asked.n > 0 ||
             (resp->has_cursor &&
              (resp->cursor.len != x->cursor_len ||
               (x->cursor_len && memcmp(resp->cursor.data, x->cursor, x->cursor_len))));
    tp_progress(c, "push", rep->pushed, (uint64_t)rep->outbox_total);
    tp_progress(c, "pull", rep->pulled, 0);
    /* Another round when the server has more, or the outbox still has ops it has not seen. */
    int64_t left = 0;
    if ((s = st_count(c, "outbox", &left)) != SC_OK)
        return s;
    /* ... or photos named by ops of this sync are still to be asked about. */
    *more = (resp->has_more && resp->more) ||
            (x->b.n > 0 && left > 0 && (uint64_t)left > rep->deferred) ||
            (!rep->legacy && rep->ask_pos < rep->ask.n);
    return SC_OK;
}

/*
 * The rounds of a sync.  *cur is the exchange in hand; when its answer
 * lets the next request go out at once (can_follow), *next is sent before
 * *cur is applied, and becomes the one in hand.
 */
static sc_status sync_rounds(sc_client *c, report *rep)
{
    exchange xs[2];
    memset(xs, 0, sizeof xs);
    cl_access_init(&xs[0].r.access);
    cl_access_init(&xs[1].r.access);
    exchange *cur = &xs[0], *next = &xs[1];
    bool more = true, sent = false; /* sent: cur's request is already out */
    sc_status s = SC_OK;
    /* A server that says `more` but sends nothing new, round after round, is stopped. */
    uint32_t idle = 0;
    for (uint32_t rounds = 0; more && s == SC_OK; rounds++) {
        bool moved = false;
        if (rounds >= SC_CL_ROUNDS_MAX || idle >= SC_CL_IDLE_ROUNDS_MAX) {
            s = cl_fail(c, SC_ERR_PROTOCOL, 0,
                        "sync: the server kept saying `more` for %u rounds without progress",
                        rounds);
            break;
        }
        if (!sent && ((s = exchange_build(c, rep, cur)) != SC_OK ||
                      (s = exchange_start(c, cur)) != SC_OK))
            break;
        if (!cur->finished)
            s = exchange_finish(c, cur);
        else if ((s = cur->finish_s) != SC_OK)
            c->err = cur->err; /* check_behind's failure, kept for now */
        /* A next request that cannot be made now is made after this round, as without one. */
        sent = s == SC_OK && (!cur->checked || cur->check_s == SC_OK) && can_follow(c, cur) &&
               exchange_follow(c, rep, cur, next) == SC_OK && exchange_start(c, next) == SC_OK;
        if (!sent)
            exchange_free(c, next);
        if (s == SC_OK)
            s = exchange_apply(c, rep, cur, sent ? next : NULL, &more, &moved);
        exchange_free(c, cur);
        exchange *t = cur;
        cur = next;
        next = t;
        more = more || sent;
        idle = moved ? 0 : idle + 1;
    }
    exchange_free(c, cur); /* a request sent behind an answer that failed: dropped */
    exchange_free(c, next);
    return s;
}

/* ---- photos ---- */

typedef struct blob_job {
    report *rep;
    uint8_t *buf;               /* one chunk of chunk_bytes, the first ceiling, or NULL; owned */
    size_t start;               /* the first chunk, and the size after a cut (bytes) */
    size_t ceiling;             /* the largest chunk: chunk_bytes, lowered by cuts, 413s (bytes) */
    size_t chunk;               /* the next chunk: start <= chunk <= ceiling (bytes) */
    bool refused;               /* the last upload_one failed for its photo alone */
    long refused_status;        /* its HTTP status (0: the photo could not be read here) */
    uint64_t down_bytes;        /* bytes of the photos downloaded so far in this sync */
    uint64_t down_total;        /* bytes of the photos to download, as the ops name them */
    hashlist live;              /* photos this device's ops not refused bring, sorted */
    bool live_known;            /* live was read (at the first photo to upload) */
} blob_job;

/*
 * Is an answer to a photo upload a refusal of that photo, which leaves the
 * sync free to go on with the others?  Not when it concerns the device
 * (401, a revoked or unknown device) or the server (5xx but 507 quota):
 * every other request would fail the same way.
 */
static bool photo_refusal(const tp_resp *r)
{
    if (r->status == 507)
        return true;
    if (r->status < 400 || r->status >= 500 || r->status == 401)
        return false;
    return !(r->status == 403 && (strcmp(r->reason, "device_revoked") == 0 ||
                                  strcmp(r->reason, "user_disabled") == 0 ||
                                  strcmp(r->reason, "unknown_device") == 0));
}

/* upload_one failed for this photo alone (status 0: read here): say so, and keep the error. */
static sc_status photo_refused(blob_job *j, long status, sc_status s)
{
    j->refused = true;
    j->refused_status = status;
    return s;
}

static void blob_target(const uint8_t sha[SC_HASH_LEN], char *out, size_t cap)
{
    char hex[SC_HASH_HEX];
    cl_hex(sha, SC_HASH_LEN, hex, sizeof hex);
    snprintf(out, cap, "/v1/blobs/%s", hex);
}

/* For the rest of the sync no chunk is bigger than half of len, nor smaller than the start. */
static void chunk_lower(blob_job *j, size_t len)
{
    size_t half = len / 2 > j->start ? len / 2 : j->start;
    if (half < j->ceiling)
        j->ceiling = half;
    if (j->chunk > j->ceiling)
        j->chunk = j->ceiling;
}

/*
 * A chunk of len bytes was cut (a network failure, a timeout, or libcurl
 * sending it again on a new connection): the next goes at the start size,
 * and none after it grows past half this one.  A link that cut a chunk is
 * likelier to cut one as big again; and a chunk that a server or a proxy
 * refuses as too large often looks like a cut: the 413 is sent before the
 * body is read and the connection closed, so the client, still sending,
 * gets a reset and not the answer.
 */
static void chunk_cut(blob_job *j, size_t len)
{
    chunk_lower(j, len);
    j->chunk = j->start;
}

/*
 * The next chunk's size after a PUT of len bytes that took ms milliseconds
 * over `tries` requests and was answered `status` (internal.h,
 * SC_CL_CHUNK_START, says why).  A chunk accepted fast lets the next one be
 * twice its length, up to the ceiling; the current size stays when it is
 * more, since a photo's short last chunk proves less than a full one.  A
 * slow chunk, or a 409, leaves the size as it is.  A chunk sent more than
 * once (by libcurl on a new connection, or after a 503) counts as cut.
 */
static void chunk_adapt(blob_job *j, size_t len, int64_t ms, unsigned tries, long status)
{
    if (tries > 1) {
        chunk_cut(j, len);
        return;
    }
    bool accepted = status == 200 || status == 201 || status == 202;
    if (!accepted || ms < 0 || ms >= SC_CL_CHUNK_FAST_MS)
        return;
    size_t next = len > j->ceiling / 2 ? j->ceiling : 2 * len;
    if (next > j->chunk)
        j->chunk = next;
}

/*
 * PUT the chunk of photo f (at path) that starts at offset, at the current
 * size; *len gets its length.  The transport does not send a chunk again by
 * itself: after a cut the same bytes go again here, in a chunk of the start
 * size (chunk_cut), after the transport's backoff, up to opt.retries times
 * in a row.  A 413 for a chunk over the start size halves the ceiling and
 * sends again at once: the server's blobs.chunk_max (or a proxy's body
 * limit) is lower than ours.  That takes a few requests at most, the
 * ceiling being at most 8 times the start; at the start size a 413 is final
 * (as it is for a photo over blobs.max_size).
 */
static sc_status put_chunk(sc_client *c, blob_job *j, FILE *f, const char *path,
                           const char *target, uint64_t offset, uint64_t total, size_t *len,
                           tp_resp *r)
{
    uint32_t wait = c->opt.backoff_ms, cuts = 0;
    for (;;) {
        size_t want = total - offset < j->chunk ? (size_t)(total - offset) : j->chunk;
        if (fseek(f, (long)offset, SEEK_SET) != 0 || fread(j->buf, 1, want, f) != want)
            return photo_refused(j, 0, cl_fail(c, SC_ERR_IO, 0, "cannot read photo %s", path));
        tp_resp_dispose(c, r);
        int64_t t0 = c->mono_ms(c->env.ctx);
        /* On the wire, a caller of sc_sync_v2 sees the bytes of the chunk sent so far. */
        c->prog.phase = "upload";
        c->prog.done = offset;
        c->prog.total = total;
        c->prog.bytes = CL_WIRE_SENT;
        sc_status s = tp_put_chunk(c, target, j->buf, want, offset, total, r);
        c->prog.bytes = CL_WIRE_NONE;
        if (s == SC_ERR_NETWORK && cuts < c->opt.retries) {
            chunk_cut(j, want);
            cuts++;
            c->opt.sleep_ms(c->env.ctx, wait);
            wait = wait > UINT32_MAX / 2 ? UINT32_MAX : wait * 2;
            continue;
        }
        if (s != SC_OK)
            return s;
        if (r->status == 413 && want > j->start) {
            chunk_lower(j, want);
            continue;
        }
        chunk_adapt(j, want, c->mono_ms(c->env.ctx) - t0, r->tries, r->status);
        *len = want;
        return SC_OK;
    }
}

static sc_status upload_one(sc_client *c, blob_job *j, const uint8_t sha[SC_HASH_LEN])
{
    char target[128], path[4096];
    blob_target(sha, target, sizeof target);
    bl_path(c, sha, path, sizeof path);
    tp_resp r;
    memset(&r, 0, sizeof r);
    FILE *f = NULL;
    uint64_t total = 0;
    j->refused = false;
    sc_status s = tp_call(c, "HEAD", target, NULL, 0, true, SC_CL_SMALL_RESPONSE_MAX, &r);
    if (s != SC_OK)
        goto done;
    if (r.status == 200)
        goto uploaded;
    if (r.status != 404) {
        s = tp_fail(c, &r, "photo upload");
        if (photo_refusal(&r))
            photo_refused(j, r.status, s);
        goto done;
    }
    uint64_t offset = r.has_offset ? r.offset : 0;
    /* The chunk size grows within the sync, so the one buffer of the sync is the ceiling's; a
     * sync with no photo to send allocates none. */
    if (!j->buf && !(j->buf = sc_alloc(&c->env, j->ceiling))) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory for photo uploads");
        goto done;
    }
    f = fopen(path, "rb");
    if (!f) {
        s = photo_refused(
            j, 0, cl_fail(c, SC_ERR_IO, 0, "photo %s is missing from the local store", path));
        goto done;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        s = photo_refused(j, 0, cl_fail(c, SC_ERR_IO, 0, "cannot read photo %s", path));
        goto done;
    }
    long end = ftell(f);
    if (end <= 0) {
        s = photo_refused(j, 0, cl_fail(c, SC_ERR_IO, 0, "photo %s is empty", path));
        goto done;
    }
    total = (uint64_t)end;
    /*
     * Each answered chunk moves the offset forward or fails; the bound stops
     * a server that loops us.  No chunk is smaller than j->start (but the
     * last), so total / j->start chunks carry any photo.
     */
    uint32_t busy = 0, busy_wait = c->opt.backoff_ms; /* 409s that left the offset where it was */
    for (uint64_t guard = 0; guard < total / j->start + 64; guard++) {
        if (offset > total) {
            s = cl_fail(c, SC_ERR_PROTOCOL, 0, "photo upload: server offset %llu beyond %llu bytes",
                        (unsigned long long)offset, (unsigned long long)total);
            goto done;
        }
        if (offset == total) {
            s = cl_fail(c, SC_ERR_PROTOCOL, 0, "photo upload: the server has all %llu bytes "
                        "but does not store the photo", (unsigned long long)total);
            goto done;
        }
        size_t want = 0;
        if ((s = put_chunk(c, j, f, path, target, offset, total, &want, &r)) != SC_OK)
            goto done;
        if (r.status == 200 || r.status == 201)
            goto uploaded;
        if (r.status == 202 || r.status == 409) {
            uint64_t next = r.has_offset ? r.offset : offset + want;
            if (r.status == 202 && next <= offset) {
                s = cl_fail(c, SC_ERR_PROTOCOL, 0, "photo upload: the offset did not move");
                goto done;
            }
            if (r.status == 409 && next == offset) {
                /*
                 * syncd still holds an earlier upload of this photo (a
                 * connection cut mid-chunk, not yet noticed): wait as after
                 * a network failure, and give up for this sync after as
                 * many tries; the photo stays pending.
                 */
                if (busy >= c->opt.retries) {
                    s = photo_refused(j, r.status,
                                      cl_fail(c, SC_ERR_UNAVAILABLE, 0,
                                              "photo upload: the server is still busy with an "
                                              "earlier upload of this photo; it stays pending "
                                              "for the next sync"));
                    goto done;
                }
                busy++;
                c->opt.sleep_ms(c->env.ctx, busy_wait);
                busy_wait = busy_wait > UINT32_MAX / 2 ? UINT32_MAX : busy_wait * 2;
                guard--; /* a wait, not a chunk: the bound counts chunks */
                continue;
            }
            busy = 0;
            busy_wait = c->opt.backoff_ms;
            offset = next;
            tp_progress(c, "upload", offset, total);
            continue;
        }
        s = tp_fail(c, &r, "photo upload");
        if (photo_refusal(&r))
            photo_refused(j, r.status, s);
        goto done;
    }
    s = cl_fail(c, SC_ERR_PROTOCOL, 0, "photo upload did not finish");
    goto done;
uploaded:
    /*
     * Neither HEAD's 200 nor a chunk's 201 or 200 is sealed: they end this
     * photo's upload for the sync, and the photo stays BL_UPLOAD until a
     * sealed answer lists it as stored (confirm_rounds).
     */
    if (!hashlist_add(c, &j->rep->sent, sha))
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    if (s == SC_OK && total)
        tp_progress(c, "upload", total, total);
done:
    if (f)
        fclose(f);
    tp_resp_dispose(c, &r);
    return s;
}

/* Add the photos an op of ours brings to the hashlist ctx (see live_photos). */
static sc_status live_visit(sc_client *c, void *ctx, const st_opinfo *info)
{
    const sc_opkind *k = sc_opkind_of((Scpb__Op__BodyCase)info->kind);
    if (!k || k->photos != SC_PHOTOS_BRINGS)
        return SC_OK;
    sc_op *op = NULL;
    sc_status s = st_op_load(c, info->id, &op);
    if (s != SC_OK)
        return s;
    sc_photo_refs r;
    if (sc_op_photo_refs(op->op, &r) && r.use == SC_PHOTOS_BRINGS)
        for (size_t i = 0; i < r.n && s == SC_OK; i++)
            if (r.sha[i].len == SC_HASH_LEN && !hashlist_add(c, ctx, r.sha[i].data))
                s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    sc_op_free(&c->env, op);
    return s;
}

/*
 * The photos this device's ops bring, pending or logged, into live
 * (sorted): a photo waiting for upload that none of them brings was
 * brought by an op syncd refused, which left the state.
 */
static sc_status live_photos(sc_client *c, hashlist *live)
{
    sc_status s = st_own_ops_each(c, ST_PENDING, false, -1, live_visit, live);
    if (s == SC_OK)
        s = st_own_ops_each(c, ST_ACCEPTED, false, -1, live_visit, live);
    if (s == SC_OK && live->n)
        qsort(live->v, live->n, SC_HASH_LEN, hash_cmp);
    return s;
}

/*
 * One photo to upload.  A refusal of that photo (a quota, a size, bytes
 * that do not match: photo_refusal) does not stop the others: it is
 * reported in photos_refused, and the photo stays pending for a later sync.
 */
static sc_status upload_visit(sc_client *c, void *ctx, const uint8_t sha[SC_HASH_LEN], uint64_t size)
{
    (void)size;
    blob_job *j = ctx;
    /* No op of ours brings it any more (the one that did was refused): nothing to send, and no
     * sealed answer could ever list it (no op the device can see names it). */
    sc_status s = SC_OK;
    if (!j->live_known && (s = live_photos(c, &j->live)) != SC_OK)
        return s;
    j->live_known = true;
    if (!j->live.n || !bsearch(sha, j->live.v, j->live.n, SC_HASH_LEN, hash_cmp))
        return st_blob_set(c, sha, BL_DONE);
    s = upload_one(c, j, sha);
    if (s == SC_OK || !j->refused)
        return s;
    char hex[SC_HASH_HEX];
    cl_hex(sha, SC_HASH_LEN, hex, sizeof hex);
    const char *reason = c->err.reason ? sc_name_of(&sc_names_reason, c->err.reason) : NULL;
    json_t *o =
        json_pack("{s:s,s:I,s:s,s:s}", "photo", hex, "status", (json_int_t)j->refused_status,
                  "reason", reason ? reason : "none", "message", c->err.msg);
    if (!o || json_array_append_new(j->rep->photos_refused, o) != 0)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    sc_err_clear(&c->err);
    return SC_OK;
}

static sc_status download_visit(sc_client *c, void *ctx, const uint8_t sha[SC_HASH_LEN],
                                uint64_t size)
{
    (void)size;
    blob_job *j = ctx;
    if (bl_present(c, sha))
        return st_blob_set(c, sha, BL_DONE);
    char target[128], tmp[4096];
    blob_target(sha, target, sizeof target);
    FILE *f = NULL;
    sc_status s = bl_tmp_create(c, tmp, sizeof tmp, &f);
    if (s != SC_OK)
        return s;
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    tp_resp r;
    /* On the wire, a caller of sc_sync_v2 sees the bytes received so far. */
    c->prog.phase = "download_bytes";
    c->prog.done = j->down_bytes;
    c->prog.total = j->down_total;
    c->prog.bytes = CL_WIRE_RECEIVED;
    s = tp_download(c, target, f, SC_BLOB_MAX, &h, &r);
    c->prog.bytes = CL_WIRE_NONE;
    bool ok = s == SC_OK && r.status == 200;
    long received = ftell(f);
    /* Stored means on disk: the bytes are synced here, the directory after the rename. */
    if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        s = cl_fail(c, SC_ERR_IO, 0, "cannot sync downloaded photo %s: %s", target + 10,
                    strerror(errno));
        ok = false;
    }
    fclose(f);
    if (ok) {
        uint8_t got[SC_HASH_LEN];
        sc_sha256_final(&h, got);
        if (memcmp(got, sha, SC_HASH_LEN) != 0) {
            s = cl_fail(c, SC_ERR_PROTOCOL, 0, "downloaded photo %s does not match its hash",
                        target + 10);
            ok = false;
        } else if ((s = bl_install(c, tmp, sha)) == SC_OK &&
                   (s = st_blob_set(c, sha, BL_DONE)) == SC_OK) {
            j->rep->downloaded++;
            j->down_bytes += received > 0 ? (uint64_t)received : 0;
            tp_resp_dispose(c, &r);
            return SC_OK;
        }
    } else if (s == SC_OK && r.status != 404) {
        s = tp_fail(c, &r, "photo download");
    }
    remove(tmp);
    tp_resp_dispose(c, &r);
    /* A photo not uploaded yet (404) stays pending; it is not an error of this sync. */
    return s;
}

/*
 * Photos to fetch: those syncd said it stores (every missing one against a
 * syncd that cannot say), with totals from the start: "download" counts
 * photos (done of total), "download_bytes" their bytes (done of the sizes
 * the ops name, raised if a photo brings more).
 */
static int hash_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SC_HASH_LEN);
}

static sc_status download_photos(sc_client *c, blob_job *j, report *rep)
{
    sc_status s = SC_OK;
    if (rep->legacy)
        s = st_blobs_each(c, BL_MISSING, old_visit, &rep->stored);
    /* A photo named by several ops, or asked about in two rounds, is fetched and counted once. */
    if (rep->stored.n > 1) {
        qsort(rep->stored.v, rep->stored.n, SC_HASH_LEN, hash_cmp);
        size_t w = 1;
        for (size_t i = 1; i < rep->stored.n; i++)
            if (memcmp(rep->stored.v[i], rep->stored.v[w - 1], SC_HASH_LEN) != 0)
                memmove(rep->stored.v[w++], rep->stored.v[i], SC_HASH_LEN);
        rep->stored.n = w;
    }
    for (size_t i = 0; i < rep->stored.n && s == SC_OK; i++) {
        uint64_t size = 0;
        if (!bl_present(c, rep->stored.v[i]) &&
            (s = st_blob_size(c, rep->stored.v[i], &size)) == SC_OK)
            j->down_total += size;
    }
    size_t n = rep->stored.n;
    if (s != SC_OK || n == 0)
        return s;
    tp_progress(c, "download", 0, n);
    tp_progress(c, "download_bytes", 0, j->down_total);
    for (size_t i = 0; i < n && s == SC_OK; i++) {
        s = download_visit(c, j, rep->stored.v[i], 0);
        if (j->down_bytes > j->down_total)
            j->down_total = j->down_bytes;
        if (s == SC_OK) {
            tp_progress(c, "download", i + 1, n);
            tp_progress(c, "download_bytes", j->down_bytes, j->down_total);
        }
    }
    return s;
}

/*
 * The photos unsealed answers said syncd stores are asked about
 * (blobs_wanted, SC_BLOBS_WANTED_MAX a request) in rounds that push
 * nothing, from the current cursor: rounds like any other (they may pull,
 * and what they pull is applied and its photos asked about too), each
 * marking the photos its sealed blobs_stored lists BL_DONE.  The others
 * stay BL_UPLOAD for the next sync, where a HEAD finds them stored or
 * they go up again.  One more round trip for a sync that uploaded photos.
 * A syncd that answers no blobs_wanted (legacy) cannot confirm any: they
 * stay pending.
 */
static sc_status confirm_rounds(sc_client *c, report *rep)
{
    if (rep->sent.n == 0 || rep->legacy)
        return SC_OK;
    qsort(rep->sent.v, rep->sent.n, SC_HASH_LEN, hash_cmp);
    for (size_t i = 0; i < rep->sent.n; i++)
        if (!hashlist_add(c, &rep->ask, rep->sent.v[i]))
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    rep->confirming = true;
    sc_status s = sync_rounds(c, rep);
    rep->confirming = false;
    return s;
}

/* ---- the whole sync ---- */

static sc_status sync_run(sc_client *c, char **json)
{
    report rep;
    memset(&rep, 0, sizeof rep);
    rep.rejected = json_array();
    rep.rounds = json_array();
    rep.photos_refused = json_array();
    blob_job job = {.rep = &rep};
    sc_status s = cl_need_identity(c);
    if (s == SC_OK)
        s = cl_key(c);
    if (s == SC_OK)
        s = st_count(c, "outbox", &rep.outbox_total);
    if (s != SC_OK)
        goto done;
    if (!rep.rejected || !rep.rounds || !rep.photos_refused) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    if ((s = sync_rounds(c, &rep)) != SC_OK)
        goto done;
    job.ceiling = c->opt.chunk_bytes;
    job.start = job.ceiling < SC_CL_CHUNK_START ? job.ceiling : SC_CL_CHUNK_START;
    job.chunk = job.start;
    if ((s = st_blobs_each(c, BL_UPLOAD, upload_visit, &job)) != SC_OK ||
        (s = confirm_rounds(c, &rep)) != SC_OK)
        goto done;
    if ((s = download_photos(c, &job, &rep)) != SC_OK)
        goto done;
    if (json) {
        int64_t conflicts = 0;
        if ((s = qr_conflict_count(c, &conflicts)) != SC_OK)
            goto done;
        json_t *o = json_object();
        json_object_set_new(o, "pushed", json_integer((json_int_t)rep.pushed));
        json_object_set_new(o, "accepted", json_integer((json_int_t)rep.accepted));
        json_object_set_new(o, "duplicate", json_integer((json_int_t)rep.duplicate));
        json_object_set(o, "rejected", rep.rejected);
        json_object_set_new(o, "deferred", json_integer((json_int_t)rep.deferred));
        json_object_set_new(o, "pulled", json_integer((json_int_t)rep.pulled));
        json_object_set_new(o, "photos_uploaded", json_integer((json_int_t)rep.uploaded));
        json_object_set_new(o, "photos_downloaded", json_integer((json_int_t)rep.downloaded));
        json_object_set(o, "photos_refused", rep.photos_refused);
        json_object_set_new(o, "conflicts", json_integer(conflicts));
        json_object_set(o, "rounds", rep.rounds);
        if (rep.has_cp) {
            char hex[SC_HASH_HEX];
            cl_hex(rep.cp_root, SC_HASH_LEN, hex, sizeof hex);
            json_object_set_new(o, "checkpoint", json_pack("{s:I,s:s}", "size",
                                                           (json_int_t)rep.cp_size, "root", hex));
        } else {
            json_object_set_new(o, "checkpoint", json_null());
        }
        *json = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!*json)
            s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    }
done:
    sc_free(&c->env, job.buf);
    json_decref(rep.rejected);
    json_decref(rep.rounds);
    json_decref(rep.round);
    json_decref(rep.photos_refused);
    hashlist_free(c, &rep.ask);
    hashlist_free(c, &rep.stored);
    hashlist_free(c, &rep.sent);
    hashlist_free(c, &job.live);
    return s;
}

/* A progress callback of sc_sync, called as one of sc_sync_v2's that never cancels. */
typedef struct v1_progress {
    sc_progress_fn fn;
    void *ctx;
} v1_progress;

static int v1_call(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    v1_progress *p = ctx;
    p->fn(p->ctx, phase, done, total);
    return 0;
}

/*
 * The whole sync with the caller's progress callback; on_wire: call it
 * while requests run too.  A sync that was asked to stop returns
 * SC_ERR_CANCELLED, also when it had nothing left to do.
 */
static sc_status sync_with(sc_client *c, sc_progress_v2_fn fn, void *ctx, bool on_wire, char **json)
{
    if (json)
        *json = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    tp_begin(c);
    if (c->read_only)
        return cl_need_writable(c, "sc_sync");
    c->prog = (cl_progress){.fn = fn, .ctx = ctx, .on_wire = on_wire};
    /* The rounds' commits go to disk together, with the last one (one fsync a sync). */
    st_defer_durability(c);
    sc_status s = sync_run(c, json);
    sc_status d = st_settle(c, s == SC_OK, sc_env_now_ms(&c->env));
    if (s == SC_OK && d != SC_OK) {
        s = d;
        if (json) {
            sc_json_free(c, *json);
            *json = NULL;
        }
    }
    if (s == SC_OK && (s = tp_cancelled(c, "sync")) != SC_OK && json) {
        sc_json_free(c, *json);
        *json = NULL;
    }
    memset(&c->prog, 0, sizeof c->prog);
    return s;
}

sc_status sc_sync(sc_client *c, sc_progress_fn progress, void *ctx, char **json)
{
    v1_progress p = {progress, ctx};
    return sync_with(c, progress ? v1_call : NULL, &p, false, json);
}

sc_status sc_sync_v2(sc_client *c, sc_progress_v2_fn progress, void *ctx, char **json)
{
    return sync_with(c, progress, ctx, true, json);
}
