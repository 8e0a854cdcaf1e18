/*
 * test_sync.c: the sync algorithm against a small in-process server that
 * speaks docs/protocol.md (signed requests checked, a Merkle log with
 * signed checkpoints and consistency proofs, cursors, `more`, chunked
 * blobs), and can be told to misbehave: answer garbage, rewrite history,
 * serve an op by an unknown device, reject ops, cut uploads.  It records
 * the length of every chunk it is sent, so the adaptive chunk size is
 * checked exactly, with the handle's monotonic clock stepped by the test;
 * and once more against a real syncd behind the fault proxy
 * (tests/support/faultproxy.h).  Otherwise the real syncd is exercised by
 * the CLI scenarios in tests/e2e.
 */
#include "fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "core/checkpoint.h"
#include "core/merkle.h"
#include "core/seal.h"
#include "faultproxy.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"

#define LOG_MAX 256
#define BLOBS_MAX 8
#define CHUNKS_MAX 64

enum mode {
    M_OK,
    M_GARBAGE,
    M_REWRITE_ROOT,
    M_SHRINK,
    M_BAD_PROOF,
    M_MORE_FOREVER,
    M_UNAVAILABLE,
    /* Lies, each about one thing; the answer is otherwise honest. */
    M_NO_SEAL,       /* no seal: a syncd older than the client, or a forged answer */
    M_FOREIGN_SEAL,  /* a seal signed by another key */
    M_REPLAYED_SEAL, /* sealed for another request (another nonce) */
    M_FORGE_ACCEPT,  /* says accepted without logging, sealed: only a receipt can tell */
    M_NO_RECEIPT,    /* logs and seals, but proves nothing */
    M_BAD_RECEIPT,   /* a receipt whose first hash is wrong */
    M_DROP_PULLED,   /* one pulled op dropped after sealing */
    M_FORGE_REJECT,  /* every result turned into a rejection after sealing */
};

typedef struct blob {
    uint8_t sha[SC_HASH_LEN];
    uint8_t *buf;
    uint64_t total, have;
    bool done;
} blob;

typedef struct srv {
    fx *f;
    int lfd, port;
    pthread_t th;
    atomic_int stop;       /* set by the test thread, read by the server thread */
    enum mode mode;
    int reject_kind;          /* op kind the server rejects (0: none) */
    uint32_t page;            /* ops per pull */
    int cut_after_chunks;     /* refuse the chunk PUT after this many, once; -1 never */
    int puts;                 /* chunk PUTs received */
    int reset_chunk;          /* reset the connection of this chunk PUT (0-based), once; -1 never */
    bool reset_now;           /* the connection is being reset: no more requests on it */
    size_t chunk_max;         /* chunks over this many bytes get 413 too_large; 0: no limit */
    int busy_puts;            /* answer this many chunk PUTs 409 at the current offset (busy) */
    /* Every chunk PUT's length, in arrival order: written by the server
     * thread before nchunks is raised, read by the test after it. */
    size_t chunk_len[CHUNKS_MAX];
    atomic_int nchunks;
    uint8_t *log[LOG_MAX];
    size_t loglen[LOG_MAX];
    uint8_t leaf[LOG_MAX][SC_HASH_LEN];
    size_t n;
    uint8_t rejected[LOG_MAX][SC_HASH_LEN];
    size_t nrejected;
    blob blobs[BLOBS_MAX];
    size_t nblobs;
    int requests, bad_signatures, requests503;
} srv;

/* ---- the log ---- */

static void log_add(srv *s, const uint8_t *b, size_t len)
{
    ck_assert_uint_lt(s->n, LOG_MAX);
    s->log[s->n] = malloc(len);
    memcpy(s->log[s->n], b, len);
    s->loglen[s->n] = len;
    sc_merkle_leaf_hash(b, len, s->leaf[s->n]);
    s->n++;
}

static sc_status node(void *ctx, unsigned level, uint64_t index, uint8_t out[SC_HASH_LEN])
{
    srv *s = ctx;
    if (level == 0) {
        memcpy(out, s->leaf[index], SC_HASH_LEN);
        return SC_OK;
    }
    uint8_t l[SC_HASH_LEN], r[SC_HASH_LEN];
    node(ctx, level - 1, index * 2, l);
    node(ctx, level - 1, index * 2 + 1, r);
    sc_merkle_node_hash(l, r, out);
    return SC_OK;
}

static sc_status seed_visit(sc_client *c, void *ctx, const st_opinfo *info, const uint8_t *b,
                            size_t len)
{
    (void)c;
    (void)info;
    log_add(ctx, b, len);
    return SC_OK;
}

static bool in_log(srv *s, const uint8_t id[SC_HASH_LEN], uint64_t *index)
{
    for (size_t i = 0; i < s->n; i++) {
        sc_op *op = NULL;
        ck_assert_int_eq(sc_op_open(NULL, s->log[i], s->loglen[i], 0, &op, NULL), SC_OK);
        bool eq = memcmp(op->id, id, SC_HASH_LEN) == 0;
        sc_op_free(NULL, op);
        if (eq) {
            *index = i;
            return true;
        }
    }
    return false;
}

/* ---- HTTP ---- */

typedef struct req {
    char method[16], target[256];
    char dev[80], time[32], nonce[48], sig[160], range[96];
    uint8_t *body;
    size_t len;
} req;

/* Answer without "Connection: close" and serve the next request on the same connection. */
static bool keep_alive;

static void respond(int fd, int status, const char *extra, const uint8_t *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s%s\r\n",
                     status, len, keep_alive ? "" : "Connection: close\r\n", extra ? extra : "");
    ssize_t w = write(fd, head, (size_t)n);
    if (len && w >= 0)
        w = write(fd, body, len);
    (void)w;
}

static void header(const char *line, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
        const char *v = line + nl + 1;
        while (*v == ' ')
            v++;
        snprintf(out, cap, "%.*s", (int)strcspn(v, "\r\n"), v);
    }
}

static bool read_req(int fd, req *r)
{
    memset(r, 0, sizeof *r);
    char buf[16384];
    size_t got = 0;
    char *end = NULL;
    while (!end && got < sizeof buf - 1) {
        ssize_t k = read(fd, buf + got, sizeof buf - 1 - got);
        if (k <= 0)
            return false;
        got += (size_t)k;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        return false;
    sscanf(buf, "%15s %255s", r->method, r->target);
    size_t clen = 0;
    for (char *line = strstr(buf, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
        char cl[32] = "";
        header(line, "Content-Length", cl, sizeof cl);
        if (cl[0])
            clen = (size_t)strtoull(cl, NULL, 10);
        header(line, "X-Spotcheck-Device", r->dev, sizeof r->dev);
        header(line, "X-Spotcheck-Time", r->time, sizeof r->time);
        header(line, "X-Spotcheck-Nonce", r->nonce, sizeof r->nonce);
        header(line, "X-Spotcheck-Signature", r->sig, sizeof r->sig);
        header(line, "Content-Range", r->range, sizeof r->range);
    }
    r->body = malloc(clen + 1);
    size_t have = got - (size_t)(end + 4 - buf);
    memcpy(r->body, end + 4, have);
    while (have < clen) {
        ssize_t k = read(fd, r->body + have, clen - have);
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    r->len = have;
    return true;
}

/* docs/protocol.md §3, checked as syncd does. */
static bool signed_ok(srv *s, const req *r)
{
    uint8_t key[SC_KEY_LEN], sig[SC_SIG_LEN], h[SC_HASH_LEN];
    if (sc_hex_decode(r->dev, strlen(r->dev), key, SC_KEY_LEN) != SC_OK ||
        sc_hex_decode(r->sig, strlen(r->sig), sig, SC_SIG_LEN) != SC_OK || strlen(r->nonce) != 32 ||
        memcmp(key, sc_keypair_public(s->f->dev), SC_KEY_LEN) != 0)
        return false;
    sc_sha256(r->body, r->len, h);
    char bh[SC_HASH_HEX], msg[1024];
    cl_hex(h, SC_HASH_LEN, bh, sizeof bh);
    int n = snprintf(msg, sizeof msg, "%s\n%s\n%s\n%s\n%s", r->method, r->target, r->time, r->nonce,
                     bh);
    return sc_verify(NULL, key, SC_DOMAIN_REQUEST, (const uint8_t *)msg, (size_t)n, sig) == SC_OK;
}

static void send_msg(int fd, int status, const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(len + 1);
    protobuf_c_message_pack(m, b);
    respond(fd, status, "Content-Type: application/x-protobuf\r\n", b, len);
    free(b);
}

static int cmp_index(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The receipt of the accepted and duplicate results in the tree of size; false when none. */
static bool prove(srv *s, const Scpb__SyncResponse *out, uint64_t size,
                  uint8_t (*hashes)[SC_HASH_LEN], ProtobufCBinaryData *rh,
                  Scpb__MultiInclusionProof *mp)
{
    uint64_t idx[LOG_MAX];
    size_t k = 0;
    for (size_t i = 0; i < out->n_results; i++)
        if (out->results[i]->status != SCPB__OP_STATUS__OP_REJECTED &&
            out->results[i]->log_index < size)
            idx[k++] = out->results[i]->log_index;
    if (k == 0)
        return false;
    qsort(idx, k, sizeof *idx, cmp_index);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || idx[i] != idx[m - 1])
            idx[m++] = idx[i];
    size_t n = 0;
    ck_assert_int_eq(
        sc_merkle_multi_proof(node, s, idx, m, size, hashes, SC_PROOF_HASHES_MAX * 8, &n), SC_OK);
    for (size_t i = 0; i < n; i++)
        rh[i] = (ProtobufCBinaryData){SC_HASH_LEN, hashes[i]};
    mp->has_tree_size = true;
    mp->tree_size = size;
    mp->n_hashes = n;
    mp->hashes = rh;
    return true;
}

/* Seal the answer as syncd does (core/seal.h), or as the mode lies about it. */
static void seal_answer(srv *s, const req *r, const Scpb__SyncRequest *q, Scpb__SyncResponse *out,
                        uint8_t seal[SC_SEAL_MAX], uint8_t sig[SC_SIG_LEN])
{
    uint8_t nonce[SC_NONCE_LEN], body[SC_HASH_LEN], (*leaves)[SC_HASH_LEN];
    ck_assert_int_eq(sc_hex_decode(r->nonce, strlen(r->nonce), nonce, sizeof nonce), SC_OK);
    if (s->mode == M_REPLAYED_SEAL)
        nonce[0] ^= 1;
    sc_sha256(r->body, r->len, body);
    leaves = calloc(out->n_ops + 1, SC_HASH_LEN);
    for (size_t i = 0; i < out->n_ops; i++)
        sc_merkle_leaf_hash(out->ops[i]->signed_op.data, out->ops[i]->signed_op.len, leaves[i]);
    sc_seal_input in = {nonce,
                        body,
                        q->has_cursor,
                        q->cursor.data,
                        q->cursor.len,
                        out,
                        (const uint8_t(*)[SC_HASH_LEN])leaves};
    sc_seal built;
    sc_seal_build(&in, &built);
    sc_keypair *key = s->mode == M_FOREIGN_SEAL ? sct_key(77) : s->f->server;
    size_t len = 0;
    ck_assert_int_eq(sc_seal_sign(NULL, key, &built, seal, SC_SEAL_MAX, &len, sig), SC_OK);
    if (key != s->f->server)
        sc_keypair_free(key);
    free(leaves);
    out->has_seal = out->has_seal_sig = true;
    out->seal = (ProtobufCBinaryData){len, seal};
    out->seal_sig = (ProtobufCBinaryData){SC_SIG_LEN, sig};
}

static void do_sync(srv *s, int fd, const req *r)
{
    if (s->mode == M_UNAVAILABLE) {
        Scpb__Error e = SCPB__ERROR__INIT;
        e.has_status = e.has_reason = true;
        e.status = 503;
        e.reason = SCPB__REASON__REASON_STORAGE;
        e.message = "the register could not commit: disk full";
        s->requests503++;
        size_t len = scpb__error__get_packed_size(&e);
        uint8_t buf[256];
        scpb__error__pack(&e, buf);
        respond(fd, 503, "X-Spotcheck-Reason: storage\r\n", buf, len);
        return;
    }
    if (s->mode == M_GARBAGE) {
        static const char junk[] = "\xff\xff\xff garbage, not protobuf";
        respond(fd, 200, NULL, (const uint8_t *)junk, sizeof junk - 1);
        return;
    }
    Scpb__SyncRequest *q = scpb__sync_request__unpack(NULL, r->len, r->body);
    if (!q) {
        respond(fd, 400, NULL, NULL, 0);
        return;
    }
    Scpb__OpResult *res = calloc(q->n_ops + 1, sizeof *res);
    Scpb__OpResult **resp_res = calloc(q->n_ops + 1, sizeof *resp_res);
    uint8_t(*pushed)[SC_HASH_LEN] = calloc(q->n_ops + 1, SC_HASH_LEN);
    for (size_t i = 0; i < q->n_ops; i++) {
        scpb__op_result__init(&res[i]);
        resp_res[i] = &res[i];
        sc_op *op = NULL;
        ck_assert_int_eq(sc_op_open(NULL, q->ops[i].data, q->ops[i].len, SC_OP_VERIFY, &op, NULL),
                         SC_OK);
        memcpy(pushed[i], op->id, SC_HASH_LEN);
        res[i].has_op_id = true;
        res[i].op_id = (ProtobufCBinaryData){SC_HASH_LEN, pushed[i]};
        res[i].has_status = true;
        bool dep_rejected = false;
        for (size_t d = 0; d < op->op->n_deps; d++)
            for (size_t k = 0; k < s->nrejected; k++)
                dep_rejected = dep_rejected ||
                               memcmp(op->op->deps[d].data, s->rejected[k], SC_HASH_LEN) == 0;
        uint64_t idx;
        if (in_log(s, op->id, &idx)) {
            res[i].status = SCPB__OP_STATUS__OP_DUPLICATE;
            res[i].has_log_index = true;
            res[i].log_index = idx;
        } else if ((int)op->op->body_case == s->reject_kind || dep_rejected) {
            res[i].status = SCPB__OP_STATUS__OP_REJECTED;
            res[i].has_reason = true;
            res[i].reason = dep_rejected ? SCPB__REASON__REASON_UNKNOWN_DEPENDENCY
                                         : SCPB__REASON__REASON_FORBIDDEN_ROLE;
            res[i].message = dep_rejected ? "a dep is not logged" : "not allowed here";
            memcpy(s->rejected[s->nrejected++], op->id, SC_HASH_LEN);
        } else if (s->mode == M_FORGE_ACCEPT) {
            /* A made-up index inside the log, and nothing logged. */
            res[i].status = SCPB__OP_STATUS__OP_ACCEPTED;
            res[i].has_log_index = true;
            res[i].log_index = s->n - 1 - i % s->n;
        } else {
            res[i].status = SCPB__OP_STATUS__OP_ACCEPTED;
            res[i].has_log_index = true;
            res[i].log_index = s->n;
            log_add(s, q->ops[i].data, q->ops[i].len);
        }
        sc_op_free(NULL, op);
    }
    /* Pull from the cursor, leaving out what was pushed now. */
    uint64_t from = 0;
    if (q->has_cursor) {
        Scpb__Cursor *cur = scpb__cursor__unpack(NULL, q->cursor.len, q->cursor.data);
        ck_assert_ptr_nonnull(cur);
        from = cur->log_index;
        scpb__cursor__free_unpacked(cur, NULL);
    }
    Scpb__LoggedOp *lo = calloc(LOG_MAX + 1, sizeof *lo);
    Scpb__LoggedOp **lop = calloc(LOG_MAX + 1, sizeof *lop);
    size_t nl = 0;
    uint64_t i = from;
    for (; i < s->n && nl < s->page; i++) {
        sc_op *op = NULL;
        ck_assert_int_eq(sc_op_open(NULL, s->log[i], s->loglen[i], 0, &op, NULL), SC_OK);
        bool mine = false;
        for (size_t k = 0; k < q->n_ops; k++)
            mine = mine || memcmp(pushed[k], op->id, SC_HASH_LEN) == 0;
        sc_op_free(NULL, op);
        if (mine)
            continue;
        scpb__logged_op__init(&lo[nl]);
        lo[nl].has_signed_op = true;
        lo[nl].signed_op = (ProtobufCBinaryData){s->loglen[i], s->log[i]};
        lo[nl].has_log_index = true;
        lo[nl].log_index = i;
        lop[nl] = &lo[nl];
        nl++;
    }
    Scpb__Cursor cur = SCPB__CURSOR__INIT;
    cur.has_log_index = true;
    cur.log_index = i;
    uint8_t curbuf[32];
    size_t curlen = scpb__cursor__pack(&cur, curbuf);

    sc_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "test.example/log");
    cp.size = s->n;
    sc_merkle_root(node, s, s->n, cp.root);
    if (s->mode == M_REWRITE_ROOT)
        cp.root[0] ^= 1;
    if (s->mode == M_SHRINK && q->has_known_size && q->known_size > 0) {
        cp.size = q->known_size - 1;
        sc_merkle_root(node, s, cp.size, cp.root);
    }
    cp.time_ms = s->f->t.now_ms;
    char note[SC_CHECKPOINT_NOTE_MAX];
    size_t nlen;
    ck_assert_int_eq(sc_checkpoint_sign(NULL, s->f->server, &cp, note, sizeof note, &nlen, NULL),
                     SC_OK);
    Scpb__Checkpoint ck = SCPB__CHECKPOINT__INIT;
    ck.note = note;
    ck.has_size = true;
    ck.size = cp.size;
    ck.has_root = true;
    ck.root = (ProtobufCBinaryData){SC_HASH_LEN, cp.root};
    Scpb__ConsistencyProof cons = SCPB__CONSISTENCY_PROOF__INIT;
    uint8_t proof[SC_PROOF_HASHES_MAX][SC_HASH_LEN];
    ProtobufCBinaryData ph[SC_PROOF_HASHES_MAX];
    size_t np = 0;
    Scpb__SyncResponse out = SCPB__SYNC_RESPONSE__INIT;
    if (q->has_known_size && q->known_size > 0 && q->known_size < cp.size) {
        ck_assert_int_eq(sc_merkle_consistency_proof(node, s, q->known_size, cp.size, proof,
                                                     SC_PROOF_HASHES_MAX, &np),
                         SC_OK);
        if (s->mode == M_BAD_PROOF && np > 0)
            proof[0][0] ^= 1;
        for (size_t k = 0; k < np; k++)
            ph[k] = (ProtobufCBinaryData){SC_HASH_LEN, proof[k]};
        cons.has_old_size = cons.has_new_size = true;
        cons.old_size = q->known_size;
        cons.new_size = cp.size;
        cons.n_hashes = np;
        cons.hashes = ph;
        out.consistency = &cons;
    }
    out.n_results = q->n_ops;
    out.results = resp_res;
    out.n_ops = nl;
    out.ops = lop;
    out.has_cursor = true;
    out.cursor = (ProtobufCBinaryData){curlen, curbuf};
    out.has_more = true;
    out.more = i < s->n;
    if (s->mode == M_MORE_FOREVER) {
        /* "More!" with nothing in it and the cursor where it was. */
        out.n_ops = 0;
        out.more = true;
        out.has_cursor = q->has_cursor;
        out.cursor = q->cursor;
    }
    out.checkpoint = &ck;
    uint8_t receipt[SC_PROOF_HASHES_MAX * 8][SC_HASH_LEN];
    ProtobufCBinaryData rh[SC_PROOF_HASHES_MAX * 8];
    Scpb__MultiInclusionProof mp = SCPB__MULTI_INCLUSION_PROOF__INIT;
    if (s->mode != M_NO_RECEIPT && prove(s, &out, cp.size, receipt, rh, &mp))
        out.receipt = &mp;
    if (s->mode == M_BAD_RECEIPT && mp.n_hashes > 0)
        receipt[0][0] ^= 1;
    uint8_t seal[SC_SEAL_MAX], sig[SC_SIG_LEN];
    if (s->mode != M_NO_SEAL)
        seal_answer(s, r, q, &out, seal, sig);
    if (s->mode == M_DROP_PULLED && out.n_ops > 0)
        out.n_ops--;
    if (s->mode == M_FORGE_REJECT)
        for (size_t k = 0; k < out.n_results; k++) {
            res[k].status = SCPB__OP_STATUS__OP_REJECTED;
            res[k].has_log_index = false;
            res[k].has_reason = true;
            res[k].reason = SCPB__REASON__REASON_FORBIDDEN_ROLE;
            res[k].message = "forged";
        }
    send_msg(fd, 200, &out.base);
    free(lo);
    free(lop);
    free(res);
    free(resp_res);
    free(pushed);
    scpb__sync_request__free_unpacked(q, NULL);
}

static blob *find_blob(srv *s, const char *hex, bool create)
{
    uint8_t sha[SC_HASH_LEN];
    if (sc_hex_decode(hex, strlen(hex), sha, SC_HASH_LEN) != SC_OK)
        return NULL;
    for (size_t i = 0; i < s->nblobs; i++)
        if (memcmp(s->blobs[i].sha, sha, SC_HASH_LEN) == 0)
            return &s->blobs[i];
    if (!create || s->nblobs == BLOBS_MAX)
        return NULL;
    blob *b = &s->blobs[s->nblobs++];
    memset(b, 0, sizeof *b);
    memcpy(b->sha, sha, SC_HASH_LEN);
    return b;
}

static void do_blob(srv *s, int fd, const req *r)
{
    const char *hex = r->target + strlen("/v1/blobs/");
    char off[64];
    if (strcmp(r->method, "HEAD") == 0 || strcmp(r->method, "GET") == 0) {
        blob *b = find_blob(s, hex, false);
        if (b && b->done) {
            if (strcmp(r->method, "GET") == 0)
                respond(fd, 200, NULL, b->buf, b->total);
            else
                respond(fd, 200, NULL, NULL, 0);
            return;
        }
        snprintf(off, sizeof off, "X-Spotcheck-Offset: %llu\r\n",
                 (unsigned long long)(b ? b->have : 0));
        respond(fd, 404, off, NULL, 0);
        return;
    }
    unsigned long long a, z, total;
    blob *b = find_blob(s, hex, true);
    if (!b || sscanf(r->range, "bytes %llu-%llu/%llu", &a, &z, &total) != 3 ||
        z - a + 1 != r->len) {
        respond(fd, 400, NULL, NULL, 0);
        return;
    }
    int nc = atomic_load(&s->nchunks);
    if (nc < CHUNKS_MAX) {
        s->chunk_len[nc] = r->len;
        atomic_store(&s->nchunks, nc + 1);
    }
    if (nc == s->reset_chunk) {
        /* The connection dies before the answer: an RST once serve() closes fd. */
        s->reset_chunk = -1;
        s->reset_now = true;
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        return;
    }
    if (s->chunk_max && r->len > s->chunk_max) {
        respond(fd, 413, "X-Spotcheck-Reason: too_large\r\n", NULL, 0);
        return;
    }
    if (b->done) {
        respond(fd, 200, NULL, NULL, 0);
        return;
    }
    if (!b->buf) {
        b->buf = malloc(total);
        b->total = total;
    }
    if (a != b->have || s->busy_puts > 0) {
        /* A wrong offset, or (busy_puts) an earlier upload of the blob still held, as syncd says. */
        if (a == b->have)
            s->busy_puts--;
        snprintf(off, sizeof off, "X-Spotcheck-Offset: %llu\r\n", (unsigned long long)b->have);
        respond(fd, 409, off, NULL, 0);
        return;
    }
    if (s->puts++ == s->cut_after_chunks) {
        s->cut_after_chunks = -1;
        respond(fd, 400, NULL, NULL, 0); /* a refusal of the photo: it waits for the next sync */
        return;
    }
    memcpy(b->buf + a, r->body, r->len);
    b->have += r->len;
    if (b->have < b->total) {
        snprintf(off, sizeof off, "X-Spotcheck-Offset: %llu\r\n", (unsigned long long)b->have);
        respond(fd, 202, off, NULL, 0);
        return;
    }
    uint8_t h[SC_HASH_LEN];
    sc_sha256(b->buf, b->total, h);
    b->done = memcmp(h, b->sha, SC_HASH_LEN) == 0;
    respond(fd, b->done ? 201 : 422, NULL, NULL, 0);
}

/* Keep-alive: true when the next request comes on fd, false when a new connection waits instead. */
static bool next_on(srv *s, int fd)
{
    while (!atomic_load(&s->stop)) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->lfd, .events = POLLIN}};
        if (poll(p, 2, 20) <= 0)
            continue;
        if (p[0].revents)
            return true;
        if (p[1].revents)
            return false;
    }
    return false;
}

static void *serve(void *arg)
{
    srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        req r;
        s->reset_now = false;
        for (bool more = true; more && read_req(fd, &r);
             more = keep_alive && !s->reset_now && next_on(s, fd)) {
            s->requests++;
            if (!signed_ok(s, &r)) {
                s->bad_signatures++;
                respond(fd, 401, "X-Spotcheck-Reason: bad_signature\r\n", NULL, 0);
            } else if (strcmp(r.target, "/v1/sync") == 0) {
                do_sync(s, fd, &r);
            } else if (strncmp(r.target, "/v1/blobs/", 10) == 0) {
                do_blob(s, fd, &r);
            } else {
                respond(fd, 404, NULL, NULL, 0);
            }
            free(r.body);
        }
        close(fd);
    }
    return NULL;
}

static void srv_start(srv *s, fx *f)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    s->page = 1000;
    s->cut_after_chunks = -1;
    s->reset_chunk = -1;
    ck_assert_int_eq(st_ops_bytes_each(f->c, seed_visit, s), SC_OK);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    ck_assert_int_eq(listen(s->lfd, 16), 0);
    ck_assert_int_eq(pthread_create(&s->th, NULL, serve, s), 0);
    char url[64];
    int n = snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    ck_assert_int_eq(st_meta_put(f->c, "server", url, (size_t)n), SC_OK);
    ck_assert_int_eq(rp_identity_load(f->c), SC_OK);
}

static void srv_stop(srv *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
    for (size_t i = 0; i < s->n; i++)
        free(s->log[i]);
    for (size_t i = 0; i < s->nblobs; i++)
        free(s->blobs[i].buf);
}

static json_t *sync_ok(fx *f)
{
    char *json = NULL;
    sc_status st = sc_sync(f->c, NULL, NULL, &json);
    ck_assert_msg(st == SC_OK, "sync: %s: %s", sc_status_name(st), sc_client_errmsg(f->c));
    return fx_json(f, json);
}

/* The sync's report o says photo sha was refused with this status (and reason, when not NULL). */
static void photo_was_refused(json_t *o, const char *sha, long status, const char *reason)
{
    json_t *v = json_object_get(o, "photos_refused");
    ck_assert_uint_eq(json_array_size(v), 1);
    json_t *p = json_array_get(v, 0);
    ck_assert_str_eq(json_string_value(json_object_get(p, "photo")), sha);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "status")), status);
    if (reason)
        ck_assert_str_eq(json_string_value(json_object_get(p, "reason")), reason);
    ck_assert_uint_gt(strlen(json_string_value(json_object_get(p, "message"))), 0);
}

static void write_photo(const char *path, size_t size)
{
    FILE *fp = fopen(path, "wb");
    fwrite("\xff\xd8\xff\xe0", 1, 4, fp);
    for (size_t i = 4; i < size; i++)
        fputc((int)(i * 13 % 256), fp);
    fclose(fp);
}

/* ---- tests ---- */

START_TEST(push_pull_and_photos)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    srv s;
    srv_start(&s, &f);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN], path[160], sha[SC_HASH_HEX_LEN];
    fx_check(&f, check);
    fx_finding(&f, check, "general", NULL, fid);
    snprintf(path, sizeof path, "%s/p.jpg", f.dir);
    write_photo(path, 300000);
    ck_assert_int_eq(sc_photo_add(f.c, check, path, NULL, sha), SC_OK);
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rejected")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "checkpoint"), "size")),
                     11);
    json_decref(o);
    ck_assert_int_eq(s.bad_signatures, 0);
    ck_assert(s.nblobs == 1 && s.blobs[0].done);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 0);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    o = fx_json(&f, json);
    json_t *h = json_object_get(o, "history");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(h, 0), "log_index")), 8);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 0), "state")), "accepted");
    json_decref(o);
    /* Nothing new: one round trip, nothing pushed, the same checkpoint. */
    int before = s.requests;
    o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), 0);
    json_decref(o);
    ck_assert_int_eq(s.requests - before, 1);
    /* The replica verifies, checkpoints included. */
    ck_assert_int_eq(sc_verify_replica(f.c, &json), SC_OK);
    sc_json_free(f.c, json);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

START_TEST(pulls_other_devices_ops_and_photos)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    srv s;
    srv_start(&s, &f);
    json_decref(sync_ok(&f));
    /* Another device opens an inspection and attaches a photo it uploaded. */
    uint8_t insp[SC_ID_LEN], photo[SC_HASH_LEN];
    sc_uuid7_new(&f.t.env, insp);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen io = SCPB__INSPECTION_OPEN__INIT;
    io.has_target = true;
    io.target = (ProtobufCBinaryData){SC_ID_LEN, f.target};
    io.has_kind = io.has_disclosure = true;
    io.kind = SCPB__INSPECTION_KIND__KIND_PATROL;
    io.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &io;
    op.has_version = op.has_entity = op.has_entity_type = op.has_author = op.has_hlc = true;
    op.version = 1;
    op.entity = (ProtobufCBinaryData){SC_ID_LEN, insp};
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.author = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)sc_keypair_public(f.other)};
    op.hlc = sc_hlc_make(f.t.now_ms - 1000, 0);
    sc_op *a = NULL;
    ck_assert_int_eq(sc_op_seal(NULL, f.other, &op, &a, NULL), SC_OK);
    log_add(&s, a->signed_bytes, a->signed_len);
    uint8_t bytes[5000];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i * 31);
    sc_sha256(bytes, sizeof bytes, photo);
    blob *b = &s.blobs[s.nblobs++];
    memcpy(b->sha, photo, SC_HASH_LEN);
    b->buf = malloc(sizeof bytes);
    memcpy(b->buf, bytes, sizeof bytes);
    b->total = b->have = sizeof bytes;
    b->done = true;
    Scpb__Op op2 = SCPB__OP__INIT;
    Scpb__PhotoAttach pa = SCPB__PHOTO_ATTACH__INIT;
    pa.has_sha256 = pa.has_size = true;
    pa.sha256 = (ProtobufCBinaryData){SC_HASH_LEN, photo};
    pa.size = sizeof bytes;
    pa.mime = "image/jpeg";
    ProtobufCBinaryData dep = {SC_HASH_LEN, a->id};
    op2 = op;
    op2.body_case = SCPB__OP__BODY_PHOTO_ATTACH;
    op2.photo_attach = &pa;
    op2.n_deps = 1;
    op2.deps = &dep;
    op2.hlc = op.hlc + 1;
    sc_op *a2 = NULL;
    ck_assert_int_eq(sc_op_seal(NULL, f.other, &op2, &a2, NULL), SC_OK);
    log_add(&s, a2->signed_bytes, a2->signed_len);
    sc_op_free(NULL, a);
    sc_op_free(NULL, a2);
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_downloaded")), 1);
    json_decref(o);
    char hex[SC_ID_HEX_LEN], *json = NULL;
    fx_hex(insp, SC_ID_LEN, hex);
    ck_assert_int_eq(sc_show(f.c, hex, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "kind")), "patrol");
    ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(o, "photos"), 0), "present")));
    json_decref(o);
    /* Our clock observed theirs: a new op on their inspection sorts after them. */
    ck_assert_int_eq(sc_note_add(f.c, hex, "seen"), SC_OK);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

START_TEST(rejected_ops_leave_the_state)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->opt.batch_ops = 1; /* one op per round trip: the dependent is judged locally */
    srv s;
    srv_start(&s, &f);
    s.reject_kind = SCPB__OP__BODY_NOTE;
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    ck_assert_int_eq(sc_note_add(f.c, check, "first"), SC_OK);
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "met", 0, 0, NULL), SC_OK);
    ck_assert_int_eq(sc_note_add(f.c, check, "second"), SC_OK);
    json_t *o = sync_ok(&f);
    json_t *rej = json_object_get(o, "rejected");
    ck_assert_uint_eq(json_array_size(rej), 3); /* the note, and what depends on it */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rej, 0), "reason")),
                     "forbidden_role");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rej, 0), "message")),
                     "not allowed here");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rej, 1), "reason")),
                     "unknown_dependency");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 1);
    json_decref(o);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    ck_assert_int_eq(fx_count(&f, "rejected"), 3);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    o = fx_json(&f, json);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "notes")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "results")), 0);
    json_t *h = json_object_get(o, "history");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 1), "state")), "rejected");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 1), "reason")),
                     "forbidden_role");
    json_decref(o);
    /* The entity still records from its accepted past. */
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "met", 0, 0, NULL), SC_OK);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/*
 * A create op the server refuses (an inspector whose role was taken away,
 * say): the entity never existed, so the replica keeps no state of it, and
 * syncs go on.
 */
START_TEST(rejected_create_leaves_no_entity)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    srv s;
    srv_start(&s, &f);
    s.reject_kind = SCPB__OP__BODY_INSPECTION_OPEN;
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    ck_assert_int_eq(sc_note_add(f.c, check, "门岗未测温"), SC_OK);
    json_t *o = sync_ok(&f);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rejected")), 2);
    json_decref(o);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_ERR_NOT_FOUND);
    /* The next sync has nothing to say about it. */
    o = sync_ok(&f);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rejected")), 0);
    json_decref(o);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

START_TEST(batches_and_more)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->opt.batch_ops = 2;
    srv s;
    srv_start(&s, &f);
    s.page = 3;
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(sc_note_add(f.c, check, "n"), SC_OK);
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 7);
    /* Everything the server sent back was ours or already here: nothing new. */
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), 0);
    json_decref(o);
    ck_assert_int_ge(s.requests, 5);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/* Nothing from a failing answer is applied; the outbox and checkpoint stay; the message names
 * the server when server is not NULL. */
static void expect_failure_from(fx *f, sc_status want, const char *needle, const char *server)
{
    long long outbox = fx_count(f, "outbox"), ops = fx_count(f, "ops");
    char *json = NULL;
    sc_status st = sc_sync(f->c, NULL, NULL, &json);
    ck_assert_msg(st == want, "sync: %s, wanted %s: %s", sc_status_name(st), sc_status_name(want),
                  sc_client_errmsg(f->c));
    ck_assert_ptr_null(json);
    ck_assert_msg(strstr(sc_client_errmsg(f->c), needle) != NULL, "message: %s",
                  sc_client_errmsg(f->c));
    ck_assert_msg(!server || strstr(sc_client_errmsg(f->c), server) != NULL,
                  "the message does not name %s: %s", server, sc_client_errmsg(f->c));
    ck_assert_int_eq(fx_count(f, "outbox"), outbox);
    ck_assert_int_eq(fx_count(f, "ops"), ops);
}

static void expect_failure(fx *f, sc_status want, const char *needle)
{
    expect_failure_from(f, want, needle, NULL);
}

START_TEST(garbage_and_unreachable)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    srv s;
    srv_start(&s, &f);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    s.mode = M_GARBAGE;
    expect_failure(&f, SC_ERR_PROTOCOL, "not a SyncResponse");
    /* A server that says `more` forever without sending anything is stopped. */
    s.mode = M_OK;
    json_decref(sync_ok(&f));
    s.mode = M_MORE_FOREVER;
    char *json = NULL;
    ck_assert_int_eq(sc_sync(f.c, NULL, NULL, &json), SC_ERR_PROTOCOL);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(f.c), "without progress"));
    ck_assert_int_eq(sc_note_add(f.c, check, "offline again"), SC_OK);
    srv_stop(&s);
    /* The port is closed now. */
    expect_failure(&f, SC_ERR_NETWORK, "unreachable");
    fx_close(&f);
}
END_TEST

START_TEST(history_rewrites_are_caught)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    srv s;
    srv_start(&s, &f);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    json_decref(sync_ok(&f));
    /* The same size with another root. */
    s.mode = M_REWRITE_ROOT;
    expect_failure(&f, SC_ERR_HISTORY_REWRITTEN, "history was rewritten");
    /* A bigger tree whose proof does not lead back to the verified root. */
    ck_assert_int_eq(sc_note_add(f.c, check, "one"), SC_OK);
    expect_failure(&f, SC_ERR_HISTORY_REWRITTEN, "does not verify");
    s.mode = M_BAD_PROOF;
    expect_failure(&f, SC_ERR_HISTORY_REWRITTEN, "does not verify");
    /* A log that shrank. */
    s.mode = M_SHRINK;
    expect_failure(&f, SC_ERR_HISTORY_REWRITTEN, "fewer");
    /* An honest answer again: the pending note goes through (as a duplicate). */
    s.mode = M_OK;
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "duplicate")), 1);
    json_decref(o);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    /* An op by a key no server-signed enrollment names is refused, and nothing applied. */
    sc_keypair *stranger = sct_key(50);
    uint8_t ent[SC_ID_LEN];
    sc_uuid7_new(&f.t.env, ent);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen io = SCPB__INSPECTION_OPEN__INIT;
    io.has_target = io.has_kind = io.has_disclosure = true;
    io.target = (ProtobufCBinaryData){SC_ID_LEN, f.target};
    io.kind = SCPB__INSPECTION_KIND__KIND_PATROL;
    io.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &io;
    op.has_version = op.has_entity = op.has_entity_type = op.has_author = op.has_hlc = true;
    op.version = 1;
    op.entity = (ProtobufCBinaryData){SC_ID_LEN, ent};
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.author = (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)sc_keypair_public(stranger)};
    op.hlc = sc_hlc_make(f.t.now_ms - 1000, 0);
    sc_op *a = NULL;
    ck_assert_int_eq(sc_op_seal(NULL, stranger, &op, &a, NULL), SC_OK);
    log_add(&s, a->signed_bytes, a->signed_len);
    sc_op_free(NULL, a);
    sc_keypair_free(stranger);
    ck_assert_int_eq(sc_note_add(f.c, check, "two"), SC_OK);
    expect_failure(&f, SC_ERR_BAD_SIGNATURE, "not an enrolled device");
    char *json = NULL;
    ck_assert_int_eq(sc_verify_replica(f.c, &json), SC_OK);
    sc_json_free(f.c, json);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/* How many times op id is in the server's log. */
static int logged_times(srv *s, const uint8_t id[SC_HASH_LEN])
{
    int times = 0;
    for (size_t i = 0; i < s->n; i++) {
        sc_op *op = NULL;
        ck_assert_int_eq(sc_op_open(NULL, s->log[i], s->loglen[i], 0, &op, NULL), SC_OK);
        times += memcmp(op->id, id, SC_HASH_LEN) == 0;
        sc_op_free(NULL, op);
    }
    return times;
}

typedef struct ids {
    uint8_t v[16][SC_HASH_LEN];
    size_t n;
} ids;

static sc_status outbox_visit(sc_client *c, void *ctx, const uint8_t id[SC_HASH_LEN],
                              const uint8_t *b, size_t len, bool *stop)
{
    (void)c;
    (void)b;
    (void)len;
    (void)stop;
    ids *x = ctx;
    ck_assert_uint_lt(x->n, 16);
    memcpy(x->v[x->n++], id, SC_HASH_LEN);
    return SC_OK;
}

/* The replica verifies; its JSON's "unproven" and "receipts" are returned. */
static void verify_counts(fx *f, long long *unproven, long long *receipts)
{
    char *json = NULL;
    sc_status st = sc_verify_replica(f->c, &json);
    ck_assert_msg(st == SC_OK, "verify: %s", sc_client_errmsg(f->c));
    json_t *o = fx_json(f, json);
    ck_assert(json_is_true(json_object_get(o, "ok")));
    *unproven = json_integer_value(json_object_get(o, "unproven"));
    *receipts = json_integer_value(json_object_get(o, "receipts"));
    json_decref(o);
}

/*
 * Proof before forgetting.  Each lie below is refused with SC_ERR_UNPROVEN
 * and a message that names the server and what is wrong; nothing of the
 * answer is applied, the ops stay in the outbox and count as unproven, and
 * the next honest answer delivers each of them to the log exactly once.
 */
START_TEST(answers_without_proof_change_nothing)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    srv s;
    srv_start(&s, &f);
    json_decref(sync_ok(&f));
    char check[SC_ID_HEX_LEN], url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    fx_check(&f, check);
    ck_assert_int_eq(sc_note_add(f.c, check, "one"), SC_OK);
    ck_assert_int_eq(sc_note_add(f.c, check, "two"), SC_OK);
    ids pending = {0};
    ck_assert_int_eq(st_outbox_each(f.c, outbox_visit, &pending), SC_OK);
    ck_assert_uint_eq(pending.n, 3);
    const struct {
        enum mode mode;
        const char *why;
    } lies[] = {
        /* First, while the ops are not logged; every other lie logs them (then: duplicates). */
        {M_FORGE_ACCEPT, "does not verify"},
        {M_NO_SEAL, "carries no seal"},
        {M_FOREIGN_SEAL, "not signed by the server key"},
        {M_REPLAYED_SEAL, "answers another request"},
        {M_NO_RECEIPT, "without proof"},
        {M_BAD_RECEIPT, "does not verify"},
        {M_FORGE_REJECT, "results differ"},
    };
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        s.mode = lies[i].mode;
        expect_failure_from(&f, SC_ERR_UNPROVEN, lies[i].why, url);
        ck_assert_int_eq(fx_count(&f, "outbox"), 3);
        long long unproven, receipts;
        verify_counts(&f, &unproven, &receipts);
        ck_assert_int_eq(unproven, 3);
        ck_assert_int_eq(receipts, 0); /* nothing of ours was ever proven */
    }
    s.mode = M_OK;
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 3);
    json_decref(o);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    for (size_t i = 0; i < pending.n; i++)
        ck_assert_int_eq(logged_times(&s, pending.v[i]), 1);
    long long unproven, receipts;
    verify_counts(&f, &unproven, &receipts);
    ck_assert_int_eq(unproven, 0);
    ck_assert_int_eq(receipts, 1);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/* A pulled op dropped (or any pulled op changed) after the server sealed the answer. */
START_TEST(thinned_pulls_are_refused)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    srv s;
    srv_start(&s, &f);
    json_decref(sync_ok(&f));
    /* Another device's two notes on the shared target arrive with the next pull. */
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    ids head = {0};
    ck_assert_int_eq(st_outbox_each(f.c, outbox_visit, &head), SC_OK);
    json_decref(sync_ok(&f));
    uint8_t ent[SC_ID_LEN];
    ck_assert(cl_parse_id(check, ent));
    uint64_t clock = sc_hlc_make(f.t.now_ms + 1000, 0);
    for (int i = 0; i < 2; i++) {
        sc_op *n = sct_op_note(f.other, &clock, ent, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                               (const uint8_t(*)[SC_HASH_LEN])head.v, 1, "theirs");
        log_add(&s, n->signed_bytes, n->signed_len);
        memcpy(head.v[0], n->id, SC_HASH_LEN);
        sc_op_free(NULL, n);
    }
    char *cursor_before = NULL;
    size_t cl = 0;
    ck_assert_int_eq(st_meta_get_alloc(f.c, "cursor", (uint8_t **)&cursor_before, &cl), SC_OK);
    long long ops = fx_count(&f, "ops");
    s.mode = M_DROP_PULLED;
    expect_failure(&f, SC_ERR_UNPROVEN, "pulled ops differ");
    /* The cursor and the checkpoint stayed: the next honest pull brings both. */
    char *cursor_after = NULL;
    size_t cl2 = 0;
    ck_assert_int_eq(st_meta_get_alloc(f.c, "cursor", (uint8_t **)&cursor_after, &cl2), SC_OK);
    ck_assert_uint_eq(cl, cl2);
    ck_assert_mem_eq(cursor_before, cursor_after, cl);
    sc_free(&f.c->env, cursor_before);
    sc_free(&f.c->env, cursor_after);
    s.mode = M_OK;
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), 2);
    json_decref(o);
    ck_assert_int_eq(fx_count(&f, "ops"), ops + 2);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/*
 * One of our ops the server logged but whose answer we never got (a lost
 * response), met again in a pull before we pushed it again, stays in the
 * outbox: a pull is not a receipt.  It goes again and is proven as a
 * duplicate.
 */
START_TEST(own_ops_pulled_stay_until_proven)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->opt.batch_ops = 1;
    srv s;
    srv_start(&s, &f);
    json_decref(sync_ok(&f));
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    ck_assert_int_eq(sc_note_add(f.c, check, "lost answer"), SC_OK);
    ids pending = {0};
    ck_assert_int_eq(st_outbox_each(f.c, outbox_visit, &pending), SC_OK);
    ck_assert_uint_eq(pending.n, 2);
    /* The note reached the log; its answer was lost. */
    sc_op *note = NULL;
    ck_assert_int_eq(st_op_load(f.c, pending.v[1], &note), SC_OK);
    log_add(&s, note->signed_bytes, note->signed_len);
    sc_op_free(&f.c->env, note);
    int before = s.requests;
    json_t *o = sync_ok(&f);
    json_decref(o);
    /* Round 1 pushed the check and pulled the note, which stayed queued; round 2 proved it. */
    ck_assert_int_ge(s.requests - before, 2);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    ck_assert_int_eq(logged_times(&s, pending.v[1]), 1);
    long long unproven, receipts;
    verify_counts(&f, &unproven, &receipts);
    ck_assert_int_eq(unproven, 0);
    ck_assert_int_eq(receipts, 2);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

START_TEST(upload_resumes_from_the_server_offset)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->opt.chunk_bytes = 4096;
    srv s;
    srv_start(&s, &f);
    s.cut_after_chunks = 2;
    char check[SC_ID_HEX_LEN], path[160], sha[SC_HASH_HEX_LEN];
    fx_check(&f, check);
    snprintf(path, sizeof path, "%s/p.jpg", f.dir);
    write_photo(path, 20000);
    ck_assert_int_eq(sc_photo_add(f.c, check, path, NULL, sha), SC_OK);
    /* The third chunk is refused: the sync reports the photo, which stays pending. */
    json_t *o = sync_ok(&f);
    photo_was_refused(o, sha, 400, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 0);
    json_decref(o);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0); /* the ops went through before the photos */
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 1);
    ck_assert_uint_eq(s.blobs[0].have, 8192);
    ck_assert_int_eq(s.puts, 3);
    o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    ck_assert(s.blobs[0].done);
    ck_assert_int_eq(s.puts, 6); /* 3 more from 8192, not 5 from 0 */
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 0);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

static uint32_t slept[16];
static size_t nslept;

static void record_sleep(void *ctx, uint32_t ms)
{
    (void)ctx;
    if (nslept < 16)
        slept[nslept++] = ms;
}

START_TEST(retries_back_off_then_give_up)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->opt.retries = 3;
    f.c->opt.backoff_ms = 10;
    f.c->opt.sleep_ms = record_sleep;
    nslept = 0;
    srv s;
    srv_start(&s, &f);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    s.mode = M_UNAVAILABLE;
    expect_failure(&f, SC_ERR_UNAVAILABLE, "disk full");
    ck_assert_int_eq(s.requests503, 4); /* the first try and three retries */
    ck_assert_uint_eq(nslept, 3);
    ck_assert_uint_eq(slept[0], 10);
    ck_assert_uint_eq(slept[1], 20);
    ck_assert_uint_eq(slept[2], 40);
    s.mode = M_OK;
    json_decref(sync_ok(&f));
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/* ---- adaptive upload chunks ---- */

#define MiB ((size_t)1 << 20)

/* The handle's monotonic clock in these tests: each reading is mono_step ms
 * after the one before, so every chunk PUT takes mono_step ms. */
static int64_t mono_now, mono_step;

static int64_t step_mono(void *ctx)
{
    (void)ctx;
    int64_t t = mono_now;
    mono_now += mono_step;
    return t;
}

/* Attach a photo of size bytes to check; tag makes its content (and hash) its own. */
/* A photo of size bytes (tag makes it unique) on check; sha (may be NULL) gets its hash. */
static void add_photo_sha(fx *f, const char *check, size_t size, int tag, char sha[SC_HASH_HEX_LEN])
{
    char path[160];
    snprintf(path, sizeof path, "%s/p%d.jpg", f->dir, tag);
    write_photo(path, size);
    FILE *fp = fopen(path, "r+b");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, 4, SEEK_SET), 0);
    ck_assert_int_eq(fprintf(fp, "%08d", tag), 8);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_int_eq(sc_photo_add(f->c, check, path, NULL, sha), SC_OK);
}

static void add_photo(fx *f, const char *check, size_t size, int tag)
{
    add_photo_sha(f, check, size, tag, NULL);
}

/* Lengths as text, for a failure message. */
static void lengths_text(const size_t *v, int n, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used < cap - 24; i++)
        used += (size_t)snprintf(out + used, cap - used, " %zu", v[i]);
}

/* The chunk PUTs the server saw, from the `from`th on, were exactly want[0..n). */
static void expect_chunks(srv *s, const char *what, int from, const size_t *want, int n)
{
    int got = atomic_load(&s->nchunks);
    bool same = got - from == n;
    for (int i = 0; same && i < n; i++)
        same = s->chunk_len[from + i] == want[i];
    char seen[1024], wanted[1024];
    lengths_text(s->chunk_len + from, got - from, seen, sizeof seen);
    lengths_text(want, n, wanted, sizeof wanted);
    ck_assert_msg(same, "%s: chunk lengths%s, wanted%s", what, seen, wanted);
}

START_TEST(upload_chunks_grow_while_the_link_is_fast)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->mono_ms = step_mono;
    mono_step = 5;
    srv s;
    srv_start(&s, &f);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    for (int i = 0; i < 3; i++)
        add_photo(&f, check, 4000000, i);
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 3);
    json_decref(o);
    /*
     * 1 MiB, then twice each chunk that went through: the first photo's
     * short last chunk keeps the 4 MiB it earned, and the next photos in
     * the same sync go up whole.
     */
    const size_t grown[] = {MiB, 2 * MiB, 4000000 - 3 * MiB, 4000000, 4000000};
    expect_chunks(&s, "a fast link", 0, grown, 5);
    /* A sync starts over at 1 MiB and grows up to the 8 MiB ceiling. */
    add_photo(&f, check, 20000000, 3);
    o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    const size_t big[] = {MiB, 2 * MiB, 4 * MiB, 8 * MiB, 20000000 - 15 * MiB};
    expect_chunks(&s, "the next sync", 5, big, 5);
    ck_assert_uint_eq(s.nblobs, 4);
    for (size_t i = 0; i < s.nblobs; i++)
        ck_assert(s.blobs[i].done);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

START_TEST(upload_chunks_keep_their_size_on_a_slow_link)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->mono_ms = step_mono;
    srv s;
    srv_start(&s, &f);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    /* Every chunk takes exactly the threshold: not fast, so none grows. */
    mono_step = SC_CL_CHUNK_FAST_MS;
    add_photo(&f, check, 4000000, 0);
    json_decref(sync_ok(&f));
    const size_t slow[] = {MiB, MiB, MiB, 4000000 - 3 * MiB};
    expect_chunks(&s, "chunks of 1 s", 0, slow, 4);
    /* A millisecond less is fast. */
    mono_step = SC_CL_CHUNK_FAST_MS - 1;
    add_photo(&f, check, 4000000, 1);
    json_decref(sync_ok(&f));
    const size_t fast[] = {MiB, 2 * MiB, 4000000 - 3 * MiB};
    expect_chunks(&s, "chunks of 999 ms", 4, fast, 3);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

START_TEST(upload_chunks_stay_under_the_callers_ceiling)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->mono_ms = step_mono;
    mono_step = 0;
    srv s;
    srv_start(&s, &f);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    /* A ceiling between the steps: the chunks grow to it and stay there. */
    f.c->opt.chunk_bytes = 3 * MiB;
    add_photo(&f, check, 12000000, 0);
    json_decref(sync_ok(&f));
    const size_t capped[] = {MiB, 2 * MiB, 3 * MiB, 3 * MiB, 12000000 - 9 * MiB};
    expect_chunks(&s, "a 3 MiB ceiling", 0, capped, 5);
    /* A ceiling under the 1 MiB start is the start too: every chunk is that small. */
    f.c->opt.chunk_bytes = 64 * 1024;
    add_photo(&f, check, 300000, 1);
    json_decref(sync_ok(&f));
    const size_t small[] = {65536, 65536, 65536, 65536, 300000 - 4 * 65536};
    expect_chunks(&s, "a 64 KiB ceiling", 5, small, 5);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

START_TEST(upload_chunk_size_starts_over_after_a_cut)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->mono_ms = step_mono;
    mono_step = 5;
    f.c->opt.retries = 2;
    f.c->opt.sleep_ms = record_sleep;
    nslept = 0;
    srv s;
    srv_start(&s, &f);
    s.reset_chunk = 2; /* the 4 MiB chunk */
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    add_photo(&f, check, 12000000, 0);
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    ck_assert_uint_eq(nslept, 1); /* one wait, then the cut chunk's bytes went again */
    /*
     * They go again from 1 MiB, and the chunks after them grow to half the
     * cut one at most.
     */
    const size_t cut[] = {MiB, 2 * MiB, 4 * MiB, MiB, 2 * MiB, 2 * MiB, 2 * MiB,
                          12000000 - 10 * MiB};
    expect_chunks(&s, "a cut", 0, cut, 8);
    ck_assert(s.blobs[0].done);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/*
 * On a kept-alive connection that dies before the answer, libcurl sends the
 * request again on a new one by itself: no network failure reaches the
 * sync, but the chunk was cut all the same.
 */
START_TEST(upload_chunk_size_starts_over_after_libcurl_resends)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR); /* no retries: only libcurl sends again */
    f.c->mono_ms = step_mono;
    mono_step = 5;
    keep_alive = true;
    srv s;
    srv_start(&s, &f);
    s.reset_chunk = 2;
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    add_photo(&f, check, 12000000, 0);
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    const size_t cut[] = {MiB, 2 * MiB, 4 * MiB, 4 * MiB, MiB, 2 * MiB, 12000000 - 10 * MiB};
    expect_chunks(&s, "a cut libcurl mended", 0, cut, 7);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/*
 * A 409 that leaves the offset where it was (syncd still holds a cut
 * upload of the photo) is waited out with the retry backoff, not sent
 * again at once; past the retries the sync stops, the photo pending.
 */
START_TEST(upload_waits_while_the_server_is_busy)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->opt.retries = 3;
    f.c->opt.backoff_ms = 10;
    f.c->opt.sleep_ms = record_sleep;
    srv s;
    srv_start(&s, &f);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    json_decref(sync_ok(&f));
    add_photo(&f, check, 3000000, 0);
    nslept = 0;
    s.busy_puts = 2;
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    ck_assert_uint_eq(nslept, 2);
    ck_assert_uint_eq(slept[0], 10);
    ck_assert_uint_eq(slept[1], 20);

    char sha[SC_HASH_HEX_LEN];
    add_photo_sha(&f, check, 3000000, 1, sha);
    nslept = 0;
    s.busy_puts = 100;
    o = sync_ok(&f);
    photo_was_refused(o, sha, 409, NULL);
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(
                   json_array_get(json_object_get(o, "photos_refused"), 0), "message")),
               "still busy with an earlier upload of this photo"));
    json_decref(o);
    ck_assert_uint_eq(nslept, 3);
    ck_assert_uint_eq(slept[2], 40);
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 1);
    s.busy_puts = 0;
    json_decref(sync_ok(&f));
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 0);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/* A server whose blobs.chunk_max is under the ceiling: the sync keeps under it. */
START_TEST(upload_chunks_shrink_to_the_servers_limit)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    f.c->mono_ms = step_mono;
    mono_step = 5;
    srv s;
    srv_start(&s, &f);
    s.chunk_max = 2 * MiB;
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    add_photo(&f, check, 8000000, 0);
    add_photo(&f, check, 4000000, 1);
    json_t *o = sync_ok(&f);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 2);
    json_decref(o);
    /*
     * Whichever photo goes first, one 4 MiB chunk is refused and sent again
     * in 2 MiB halves, and no later chunk of the sync tries 4 MiB again.
     */
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 0);
    int n = atomic_load(&s.nchunks);
    size_t most = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        most = s.chunk_len[i] > most ? s.chunk_len[i] : most;
        refused += s.chunk_len[i] > 2 * MiB;
    }
    char seen[1024];
    lengths_text(s.chunk_len, n, seen, sizeof seen);
    ck_assert_msg(refused == 1 && most == 4 * MiB, "chunk lengths%s", seen);
    /* Under the start size a 413 is final for the photo, and the sync says so. */
    s.chunk_max = 512 * 1024;
    char sha[SC_HASH_HEX_LEN];
    add_photo_sha(&f, check, 4000000, 2, sha);
    o = sync_ok(&f);
    photo_was_refused(o, sha, 413, "too_large");
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(
                   json_array_get(json_object_get(o, "photos_refused"), 0), "message")),
               "photo upload: server answered 413"));
    json_decref(o);
    ck_assert_int_eq(fx_count(&f, "photos_pending_upload"), 1);
    srv_stop(&s);
    fx_close(&f);
}
END_TEST

/*
 * The same against a real syncd, through the fault proxy: what syncd logs
 * it accepted is what the chunk sizes were.  The test's clock keeps the
 * sizes independent of how fast this machine is; the network and the
 * server are real.
 */
typedef struct live {
    char tmp[512], data[600];
    sct_server sv;
    sct_proxy *px;
    sct_proxy_opts clean, cut;
    sc_client *c;
    char check[SC_ID_HEX_LEN];    /* an inspection for the photos */
    uint64_t cut_at;              /* reset the next request once the upload reaches this offset */
    unsigned slept;               /* waits before a cut chunk's bytes went again */
} live;

static void live_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    live *l = ctx;
    (void)total;
    if (l->cut_at && strcmp(phase, "upload") == 0 && done == l->cut_at) {
        sct_proxy_set_opts(l->px, &l->cut);
        l->cut_at = 0;
    }
}

/* The wait before a cut chunk's bytes go again, really waited. */
static void live_sleep(void *ctx, uint32_t ms)
{
    live *l = ctx;
    l->slept++;
    sct_sleep_ms(ms);
}

/*
 * A register, syncd (with the settings line conf, may be NULL) behind a
 * clean fault proxy, and an enrolled tablet with an inspection open, its
 * chunks timed on the test's clock at 5 ms each.
 */
static void live_start(live *l, const char *conf)
{
    memset(l, 0, sizeof *l);
    sct_tempdir(l->tmp, sizeof l->tmp);
    snprintf(l->data, sizeof l->data, "%s/data", l->tmp);
    sct_fixture fix;
    sct_fixture_make(&fix, l->data);
    char path[600], url[64], code[64], err[256];
    const char *extra[] = {"--config", path, NULL};
    if (conf) {
        snprintf(path, sizeof path, "%s/syncd.conf", l->tmp);
        FILE *fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        fprintf(fp, "%s\n", conf);
        ck_assert_int_eq(fclose(fp), 0);
    }
    sct_server_start(&l->sv, l->data, conf ? extra : NULL);
    l->clean = (sct_proxy_opts){.seed = 1};
    /* One reset, within the first 64 KiB of the request after cut_at. */
    l->cut = (sct_proxy_opts){.seed = 1, .reset_pct = 100, .cut_max = 64 * 1024, .faults_max = 1};
    l->px = sct_proxy_start(l->sv.port, &l->clean);
    sct_proxy_url(l->px, url, sizeof url);
    /* Waits of 200 ms: syncd has let go of a cut chunk's upload by then. */
    sc_client_options opt = {.sleep_ms = live_sleep, .ctx = l, .retries = 2, .backoff_ms = 200};
    snprintf(path, sizeof path, "%s/tablet.db", l->tmp);
    ck_assert_msg(sc_client_open(path, &opt, &l->c, err, sizeof err) == SC_OK, "open: %s", err);
    l->c->mono_ms = step_mono;
    mono_step = 5;
    sct_fixture_code(l->data, "inspector1", code, sizeof code);
    ck_assert_msg(sc_enroll(l->c, url, code, "tablet", NULL, 0, NULL) == SC_OK, "enroll: %s",
                  sc_client_errmsg(l->c));
    ck_assert_msg(sc_sync(l->c, NULL, NULL, NULL) == SC_OK, "sync: %s", sc_client_errmsg(l->c));
    sc_check_params p = {.target = "T-JAHY", .kind = "spot", .disclosure = "open",
                         .relation = "superior"};
    ck_assert_int_eq(sc_check_open(l->c, &p, l->check), SC_OK);
}

/* A photo of size bytes named name (its content its own) on the inspection; sha gets its hash. */
static void live_photo(live *l, const char *name, size_t size, char sha[SC_HASH_HEX_LEN])
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.jpg", l->tmp, name);
    write_photo(path, size);
    FILE *fp = fopen(path, "r+b");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, 4, SEEK_SET), 0);
    ck_assert_int_eq(fprintf(fp, "%.8s", name), (int)(strlen(name) < 8 ? strlen(name) : 8));
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_int_eq(sc_photo_add(l->c, l->check, path, NULL, sha), SC_OK);
}

static void live_sync(live *l)
{
    sc_status st = sc_sync(l->c, live_progress, l, NULL);
    ck_assert_msg(st == SC_OK, "sync: %s: %s", sc_status_name(st), sc_client_errmsg(l->c));
}

/* Stop everything; syncd's log is complete after this. */
static void live_stop(live *l)
{
    sc_client_close(l->c);
    sct_proxy_stop(l->px);
    ck_assert_int_eq(sct_server_stop(&l->sv), 0);
}

/* Lengths of the chunks of blob sha that syncd's log says it answered `status`, in order. */
static int logged_puts(const char *log, const char *sha, long status, size_t *out, int cap)
{
    char path[128], line[4096];
    snprintf(path, sizeof path, "/v1/blobs/%s", sha);
    FILE *fp = fopen(log, "r");
    ck_assert_ptr_nonnull(fp);
    int n = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *o = json_loads(line, 0, NULL);
        const char *m = json_string_value(json_object_get(o, "method"));
        const char *t = json_string_value(json_object_get(o, "path"));
        json_int_t st = json_integer_value(json_object_get(o, "status"));
        if (m && t && strcmp(m, "PUT") == 0 && strcmp(t, path) == 0 && st == status) {
            ck_assert_int_lt(n, cap);
            out[n++] = (size_t)json_integer_value(json_object_get(o, "bytes_in"));
        }
        json_decref(o);
    }
    fclose(fp);
    return n;
}

/* Lengths of the chunks of blob sha that syncd accepted (202, then 201), in order. */
static int logged_chunks(const char *log, const char *sha, size_t *out, int cap)
{
    int n = logged_puts(log, sha, 202, out, cap);
    return n + logged_puts(log, sha, 201, out + n, cap - n);
}

START_TEST(upload_chunks_adapt_against_syncd_through_cuts)
{
    live l;
    live_start(&l, NULL);
    char whole[SC_HASH_HEX_LEN], cut[SC_HASH_HEX_LEN];
    /* A clean network: the chunks double up to syncd's blobs.chunk_max, 8 MiB exactly. */
    live_photo(&l, "whole", 16000000, whole);
    live_sync(&l);
    ck_assert_uint_eq(l.slept, 0);
    /*
     * The connection of the 4 MiB chunk is reset.  Its bytes go again on a
     * new connection: the same chunk by libcurl itself (it does so when a
     * reused connection dies before the answer), or 1 MiB of them by the
     * sync after a wait.
     */
    live_photo(&l, "cut", 12000000, cut);
    l.cut_at = 3 * MiB;
    live_sync(&l);
    ck_assert_uint_le(l.slept, 1);
    sct_proxy_stats st;
    sct_proxy_get_stats(l.px, &st);
    ck_assert_uint_eq(st.resets, 1);
    live_stop(&l);

    size_t got[32];
    char text[1024];
    int n = logged_chunks(l.sv.log, whole, got, 32);
    const size_t doubled[] = {MiB, 2 * MiB, 4 * MiB, 8 * MiB, 16000000 - 15 * MiB};
    lengths_text(got, n, text, sizeof text);
    ck_assert_msg(n == 5 && memcmp(got, doubled, sizeof doubled) == 0, "clean: accepted%s", text);
    /*
     * 1 MiB and 2 MiB, then the cut: the chunks start over at 1 MiB (after
     * libcurl's copy of the cut chunk, if it sent one and syncd took it
     * rather than answer 409 while it still held the cut upload), and grow
     * to 2 MiB at most, half the cut chunk.  Kept at 4 MiB the photo's rest
     * would have gone as one chunk of 4,659,968 bytes.
     */
    n = logged_chunks(l.sv.log, cut, got, 32);
    lengths_text(got, n, text, sizeof text);
    fprintf(stderr, "client/sync: syncd accepted chunks of%s bytes around a reset, resent by %s\n",
            text, l.slept ? "the sync" : "libcurl");
    size_t sum = 0, after = 0;
    bool restarted = false;
    for (int i = 0; i < n; i++) {
        sum += got[i];
        if (restarted)
            after = got[i] > after ? got[i] : after;
        restarted = restarted || (i >= 2 && got[i] == MiB);
    }
    ck_assert_msg(n >= 5 && got[0] == MiB && got[1] == 2 * MiB && restarted && after <= 2 * MiB &&
                      sum == 12000000,
                  "cut: accepted%s", text);
    sct_rmtree(l.tmp);
}
END_TEST

/*
 * A syncd whose blobs.chunk_max (2 MiB) is under the client's 8 MiB: the
 * first chunk over it is refused (a 413, or the reset that comes with it
 * when syncd closes before reading the body), and the sync goes on under it.
 */
START_TEST(upload_chunks_keep_under_syncds_chunk_max)
{
    live l;
    live_start(&l, "blobs.chunk_max = 2097152");
    char a[SC_HASH_HEX_LEN], b[SC_HASH_HEX_LEN];
    live_photo(&l, "a", 8000000, a);
    live_photo(&l, "b", 4000000, b);
    live_sync(&l);
    live_stop(&l);
    size_t got[32], sum = 0, most = 0;
    char text[1024];
    for (int k = 0; k < 2; k++) {
        int n = logged_chunks(l.sv.log, k ? b : a, got, 32);
        lengths_text(got, n, text, sizeof text);
        for (int i = 0; i < n; i++) {
            sum += got[i];
            most = got[i] > most ? got[i] : most;
        }
        ck_assert_msg(n > 0 && got[0] <= 2 * MiB, "photo %d: accepted%s", k, text);
    }
    ck_assert_uint_eq(sum, 12000000);
    ck_assert_uint_eq(most, 2 * MiB);
    /*
     * Refused for one photo only (once, or twice when libcurl sent the
     * refused chunk again itself): the other keeps under the limit from
     * its start.
     */
    int ra = logged_puts(l.sv.log, a, 413, got, 32), rb = logged_puts(l.sv.log, b, 413, got, 32);
    ck_assert_msg((ra > 0) != (rb > 0) && ra + rb <= 2, "413s: %d and %d", ra, rb);
    sct_rmtree(l.tmp);
}
END_TEST

/* ---- cancelling a sync ---- */

/* What a failed sync must leave as it was. */
typedef struct replica_snap {
    long long outbox, ops, pending, rejected;
    char replica_hash[SC_HASH_HEX_LEN];
    long long cp_size;
    char cp_root[SC_HASH_HEX_LEN];
    uint8_t *cursor;
    size_t cursor_len;
} replica_snap;

static void snap_take(sc_client *c, replica_snap *r)
{
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(c, &json), SC_OK);
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(c, json);
    ck_assert_ptr_nonnull(o);
    memset(r, 0, sizeof *r);
    r->outbox = json_integer_value(json_object_get(o, "outbox"));
    r->ops = json_integer_value(json_object_get(o, "ops"));
    r->pending = json_integer_value(json_object_get(o, "photos_pending_upload"));
    r->rejected = json_integer_value(json_object_get(o, "rejected"));
    snprintf(r->replica_hash, sizeof r->replica_hash, "%s",
             json_string_value(json_object_get(o, "replica_hash")));
    json_t *cp = json_object_get(o, "checkpoint");
    r->cp_size = json_integer_value(json_object_get(cp, "size"));
    snprintf(r->cp_root, sizeof r->cp_root, "%s", json_string_value(json_object_get(cp, "root")));
    json_decref(o);
    ck_assert_int_eq(st_meta_get_alloc(c, "cursor", &r->cursor, &r->cursor_len), SC_OK);
}

static void snap_expect_same(sc_client *c, replica_snap *before)
{
    replica_snap after;
    snap_take(c, &after);
    ck_assert_int_eq(after.outbox, before->outbox);
    ck_assert_int_eq(after.ops, before->ops);
    ck_assert_int_eq(after.pending, before->pending);
    ck_assert_int_eq(after.rejected, before->rejected);
    ck_assert_str_eq(after.replica_hash, before->replica_hash);
    ck_assert_int_eq(after.cp_size, before->cp_size);
    ck_assert_str_eq(after.cp_root, before->cp_root);
    ck_assert_uint_eq(after.cursor_len, before->cursor_len);
    ck_assert_mem_eq(after.cursor, before->cursor, before->cursor_len);
    sc_free(&c->env, after.cursor);
}

/* sc_sync_v2's callback: stop once the photo's first chunk is on the wire. */
static int cancel_in_first_chunk(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    unsigned *calls = ctx;
    (void)total;
    if (strcmp(phase, "upload") != 0)
        return 0;
    (*calls)++;
    return done >= 256 * 1024;
}

typedef struct canceller {
    live *l;
    uint64_t bytes_from;   /* proxy bytes when the sync started */
    atomic_int fired;      /* the interrupt was sent */
    atomic_int stop;       /* the sync returned without needing one */
} canceller;

/* Another thread: once 512 KiB of the photo went through the proxy, interrupt the sync. */
static void *cancel_from_afar(void *arg)
{
    canceller *k = arg;
    while (!atomic_load(&k->stop)) {
        sct_proxy_stats st;
        sct_proxy_get_stats(k->l->px, &st);
        if (st.bytes >= k->bytes_from + 512 * 1024) {
            sc_client_interrupt(k->l->c);
            atomic_store(&k->fired, 1);
            return NULL;
        }
        sct_sleep_ms(5);
    }
    return NULL;
}

/*
 * A sync cancelled in mid-photo, by its progress callback and then from
 * another thread while a chunk is on a slow link, returns SC_ERR_CANCELLED
 * and leaves the replica as a failed sync does: the rounds applied before
 * stay, and from there the outbox, the ops, the cursor, the checkpoint and
 * the pending photo are exactly as before the cancelled sync.  The next
 * sync completes, and the photo's upload resumed: syncd accepted each of
 * its bytes once.
 */
START_TEST(sync_cancelled_mid_photo_changes_nothing)
{
    live l;
    live_start(&l, NULL);
    l.c->opt.retries = 5;
    char sha[SC_HASH_HEX_LEN];
    live_photo(&l, "cancel", 6000000, sha);
    /* The callback stops the sync inside the first chunk; the check and the photo's op went. */
    unsigned calls = 0;
    char *json = NULL;
    sc_status st = sc_sync_v2(l.c, cancel_in_first_chunk, &calls, &json);
    ck_assert_msg(st == SC_ERR_CANCELLED, "sync: %s: %s", sc_status_name(st),
                  sc_client_errmsg(l.c));
    ck_assert_ptr_null(json);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(l.c), "progress callback"));
    ck_assert_uint_ge(calls, 1);
    replica_snap before;
    snap_take(l.c, &before);
    ck_assert_int_eq(before.outbox, 0);
    ck_assert_int_eq(before.pending, 1);
    /* Then a slow link, and an interrupt from another thread while a chunk crawls over it. */
    sct_proxy_opts slow = {.seed = 1, .rate_bps = 1024 * 1024};
    sct_proxy_set_opts(l.px, &slow);
    sct_proxy_stats ps;
    sct_proxy_get_stats(l.px, &ps);
    canceller k = {.l = &l, .bytes_from = ps.bytes};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, cancel_from_afar, &k), 0);
    st = sc_sync(l.c, NULL, NULL, &json);
    atomic_store(&k.stop, 1);
    pthread_join(th, NULL);
    ck_assert_msg(st == SC_ERR_CANCELLED, "sync: %s: %s", sc_status_name(st),
                  sc_client_errmsg(l.c));
    ck_assert(atomic_load(&k.fired));
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(l.c), "sc_client_interrupt"));
    snap_expect_same(l.c, &before);
    /* An interrupt between calls is forgotten when the next starts: it completes. */
    sc_client_interrupt(l.c);
    sct_proxy_set_opts(l.px, &l.clean);
    live_sync(&l);
    replica_snap done;
    snap_take(l.c, &done);
    ck_assert_int_eq(done.pending, 0);
    ck_assert_int_eq(done.outbox, 0);
    sc_free(&l.c->env, done.cursor);
    sc_free(&l.c->env, before.cursor);
    live_stop(&l);
    size_t got[64], sum = 0;
    int n = logged_chunks(l.sv.log, sha, got, 64);
    for (int i = 0; i < n; i++)
        sum += got[i];
    ck_assert_uint_eq(sum, 6000000);
    sct_rmtree(l.tmp);
}
END_TEST

/* ---- a new URL for the server ---- */

/*
 * The same register at another URL (syncd itself rather than the proxy in
 * front of it): the replica moves, keeps everything, and syncs there.  A
 * URL serving another register (one where this device's key is enrolled
 * too, so it answers) is refused for its checkpoint, and the URL kept.
 */
START_TEST(set_url_moves_only_to_the_same_register)
{
    live l;
    live_start(&l, NULL);
    replica_snap before;
    snap_take(l.c, &before);
    char proxied[64];
    sct_proxy_url(l.px, proxied, sizeof proxied);
    char *json = NULL;
    sc_status st = sc_server_set_url(l.c, l.sv.url, &json);
    ck_assert_msg(st == SC_OK, "set-url: %s: %s", sc_status_name(st), sc_client_errmsg(l.c));
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(l.c, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "server")), l.sv.url);
    ck_assert_str_eq(json_string_value(json_object_get(o, "previous")), proxied);
    json_decref(o);
    snap_expect_same(l.c, &before);
    /* The check opened by live_start goes to the register at the new URL. */
    live_sync(&l);
    sc_free(&l.c->env, before.cursor);
    snap_take(l.c, &before);
    ck_assert_int_eq(before.outbox, 0);
    /* Another register, where this device's key is enrolled too: not this replica's log. */
    char tmp2[512], data2[600], code[64];
    sct_tempdir(tmp2, sizeof tmp2);
    snprintf(data2, sizeof data2, "%s/data", tmp2);
    sct_fixture other;
    sct_fixture_make(&other, data2);
    sct_server sv2;
    sct_server_start(&sv2, data2, NULL);
    sct_fixture_code(data2, "inspector1", code, sizeof code);
    sct_client hc;
    sct_client_init(&hc, sv2.url, l.c->key);
    ck_assert_int_eq(sct_enroll(&hc, code, l.c->key, "same key", NULL), 200);
    sct_client_dispose(&hc);
    st = sc_server_set_url(l.c, sv2.url, &json);
    ck_assert_msg(st == SC_ERR_CHECKPOINT, "set-url to another register: %s: %s",
                  sc_status_name(st), sc_client_errmsg(l.c));
    ck_assert_ptr_null(json);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(l.c), "does not serve this replica's register"));
    snap_expect_same(l.c, &before);
    char *status = NULL;
    ck_assert_int_eq(sc_client_status(l.c, &status), SC_OK);
    o = json_loads(status, 0, NULL);
    sc_json_free(l.c, status);
    ck_assert_str_eq(json_string_value(json_object_get(o, "server")), l.sv.url);
    json_decref(o);
    /* A URL that is not one, and one nobody answers: refused, nothing saved. */
    ck_assert_int_eq(sc_server_set_url(l.c, "ftp://127.0.0.1:1", NULL), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sct_server_stop(&sv2), 0);
    l.c->opt.retries = 0;
    ck_assert_int_eq(sc_server_set_url(l.c, sv2.url, NULL), SC_ERR_NETWORK);
    snap_expect_same(l.c, &before);
    live_sync(&l);
    sc_free(&l.c->env, before.cursor);
    live_stop(&l);
    sct_rmtree(tmp2);
    sct_rmtree(l.tmp);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sync");
    const sct_case cases[] = {
        {"push_pull_and_photos", push_pull_and_photos},
        {"pulls_other_devices_ops_and_photos", pulls_other_devices_ops_and_photos},
        {"rejected_ops_leave_the_state", rejected_ops_leave_the_state},
        {"rejected_create_leaves_no_entity", rejected_create_leaves_no_entity},
        {"batches_and_more", batches_and_more},
        {"garbage_and_unreachable", garbage_and_unreachable},
        {"history_rewrites_are_caught", history_rewrites_are_caught},
        {"answers_without_proof_change_nothing", answers_without_proof_change_nothing},
        {"thinned_pulls_are_refused", thinned_pulls_are_refused},
        {"own_ops_pulled_stay_until_proven", own_ops_pulled_stay_until_proven},
        {"upload_resumes_from_the_server_offset", upload_resumes_from_the_server_offset},
        {"retries_back_off_then_give_up", retries_back_off_then_give_up},
        {"upload_chunks_grow_while_the_link_is_fast", upload_chunks_grow_while_the_link_is_fast},
        {"upload_chunks_keep_their_size_on_a_slow_link",
         upload_chunks_keep_their_size_on_a_slow_link},
        {"upload_chunks_stay_under_the_callers_ceiling",
         upload_chunks_stay_under_the_callers_ceiling},
        {"upload_chunk_size_starts_over_after_a_cut", upload_chunk_size_starts_over_after_a_cut},
        {"upload_chunk_size_starts_over_after_libcurl_resends",
         upload_chunk_size_starts_over_after_libcurl_resends},
        {"upload_chunks_shrink_to_the_servers_limit", upload_chunks_shrink_to_the_servers_limit},
        {"upload_waits_while_the_server_is_busy", upload_waits_while_the_server_is_busy},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    /* Against a real syncd: a register to make and a process to start, under the sanitizers. */
    const sct_case live_cases[] = {
        {"upload_chunks_adapt_against_syncd_through_cuts",
         upload_chunks_adapt_against_syncd_through_cuts},
        {"upload_chunks_keep_under_syncds_chunk_max", upload_chunks_keep_under_syncds_chunk_max},
        {"sync_cancelled_mid_photo_changes_nothing", sync_cancelled_mid_photo_changes_nothing},
        {"set_url_moves_only_to_the_same_register", set_url_moves_only_to_the_same_register},
    };
    sct_suite_add(s, live_cases, SCT_COUNT(live_cases), &(sct_tcase_opts){.timeout_s = 180});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
