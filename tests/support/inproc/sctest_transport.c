/*
 * sctest_transport.c: libspotcheck's requests served in process by
 * syncd's register and sync service (sctest_transport.h).  Each request is answered
 * the way syncd's http.c answers it: the service's refusal becomes an
 * Error body with X-Spotcheck-Reason (and Not-Before, Retry-After,
 * Offset where http.c sends them), and every answer carries the server's
 * time.
 */
#include "sctest_transport.h"

#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/keyfile.h"
#include "blobs/blobs.h"
#include "core/checkpoint.h"
#include "core/merkle.h"
#include "core/names.h"
#include "core/seal.h"
#include "http/auth.h"
#include "http/http.h"
#include "register/register.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_server.h"

/* Memory a sync_answer hook was given, freed together. */
typedef struct arena {
    void **v;
    size_t n, cap;
} arena;

struct sct_tp {
    sct_inproc p;       /* syncd's parts, over the fixture register */
    sc_keypair *server; /* the server key, read from the data directory */
    sct_tp_hooks hooks;
    atomic_uint requests;
    /* The sync being answered, for sct_tp_seal (one at a time: tests sync serially). */
    pthread_mutex_t lock;
    const Scpb__SyncRequest *cur_req;
    sd_req_meta cur_meta;
    arena mem;
};

/* An answer on its way back: status, headers, body. */
typedef struct reply {
    long status;
    int reason; /* for an Error body and X-Spotcheck-Reason */
    char message[SC_ERR_MSG_MAX];
    bool error; /* send an Error body */
    bool has_offset;
    uint64_t offset;
    int64_t retry_ms;
    uint8_t *body; /* malloc'd, or NULL */
    size_t len;
} reply;

static void reply_answer(reply *r, const sd_answer *a)
{
    r->status = a->status;
    r->reason = a->reason;
    snprintf(r->message, sizeof r->message, "%s", a->message);
    r->error = a->status >= 300;
    r->has_offset = a->has_offset;
    r->offset = a->offset;
    r->retry_ms = a->retry_ms;
}

static void reply_refuse(reply *r, long status, int reason, const char *msg)
{
    r->status = status;
    r->reason = reason;
    r->error = true;
    snprintf(r->message, sizeof r->message, "%s", msg);
}

static void reply_msg(reply *r, const ProtobufCMessage *m)
{
    r->status = 200;
    r->len = protobuf_c_message_get_packed_size(m);
    r->body = malloc(r->len + 1);
    ck_assert_ptr_nonnull(r->body);
    protobuf_c_message_pack(m, r->body);
}

/* ---- the parts ---- */

sct_tp *sct_tp_open(void (*tune)(sd_config *cfg))
{
    sct_tp *ip = calloc(1, sizeof *ip);
    ck_assert_ptr_nonnull(ip);
    sct_inproc_open(&ip->p, tune);
    char key[700];
    sc_err err;
    sc_err_clear(&err);
    snprintf(key, sizeof key, "%s/server.key", ip->p.data);
    ck_assert_msg(sd_keyfile_read(key, &ip->server, &err) == SC_OK, "server key: %s", err.msg);
    pthread_mutex_init(&ip->lock, NULL);
    return ip;
}

void sct_tp_close(sct_tp *ip)
{
    if (!ip)
        return;
    sct_inproc_close(&ip->p);
    sc_keypair_free(ip->server);
    pthread_mutex_destroy(&ip->lock);
    free(ip);
}

sct_inproc *sct_tp_parts(sct_tp *ip)
{
    return &ip->p;
}

void sct_tp_set_hooks(sct_tp *ip, const sct_tp_hooks *h)
{
    if (h)
        ip->hooks = *h;
    else
        memset(&ip->hooks, 0, sizeof ip->hooks);
}

unsigned sct_tp_requests(const sct_tp *ip)
{
    return atomic_load(&ip->requests);
}

const sc_keypair *sct_tp_server_key(const sct_tp *ip)
{
    return ip->server;
}

void *sct_tp_alloc(sct_tp *ip, size_t n)
{
    arena *a = &ip->mem;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        ck_assert_ptr_nonnull(a->v);
    }
    void *p = calloc(1, n ? n : 1);
    ck_assert_ptr_nonnull(p);
    a->v[a->n++] = p;
    return p;
}

static void arena_free(arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* protobuf-c's allocator over the arena: a copy the hook may rewire freely. */
static void *pb_arena_alloc(void *ud, size_t n)
{
    return sct_tp_alloc(ud, n);
}

static void pb_arena_free(void *ud, void *p)
{
    (void)ud;
    (void)p;
}

/* ---- lying like the server ---- */

void sct_tp_sign_checkpoint(sct_tp *ip, Scpb__SyncResponse *resp, uint64_t size,
                            const uint8_t root[SC_HASH_LEN], const sc_keypair *key)
{
    sc_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    /* The origin the register signs for: the first line of its own note. */
    const char *note0 = resp->checkpoint->note;
    snprintf(cp.origin, sizeof cp.origin, "%.*s", (int)strcspn(note0, "\n"), note0);
    cp.size = size;
    memcpy(cp.root, root, SC_HASH_LEN);
    const sc_env *env = sd_register_env(ip->p.reg);
    cp.time_ms = env->now_ms(env->ctx);
    char *note = sct_tp_alloc(ip, SC_CHECKPOINT_NOTE_MAX);
    size_t nlen = 0;
    ck_assert_int_eq(sc_checkpoint_sign(NULL, key ? key : ip->server, &cp, note,
                                        SC_CHECKPOINT_NOTE_MAX, &nlen, NULL),
                     SC_OK);
    uint8_t *r = sct_tp_alloc(ip, SC_HASH_LEN);
    memcpy(r, root, SC_HASH_LEN);
    resp->checkpoint->note = note;
    resp->checkpoint->has_size = true;
    resp->checkpoint->size = size;
    resp->checkpoint->has_root = true;
    resp->checkpoint->root = (ProtobufCBinaryData){SC_HASH_LEN, r};
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void sct_tp_prove(sct_tp *ip, Scpb__SyncResponse *resp)
{
    uint64_t *idx = sct_tp_alloc(ip, (resp->n_results + 1) * sizeof *idx);
    size_t k = 0;
    for (size_t i = 0; i < resp->n_results; i++)
        if (resp->results[i]->status != SCPB__OP_STATUS__OP_REJECTED &&
            resp->results[i]->has_log_index)
            idx[k++] = resp->results[i]->log_index;
    qsort(idx, k, sizeof *idx, cmp_u64);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || idx[i] != idx[m - 1])
            idx[m++] = idx[i];
    resp->receipt = NULL;
    if (m == 0)
        return;
    Scpb__MultiInclusionProof *p = NULL;
    sc_err e;
    sc_err_clear(&e);
    ck_assert_msg(sd_register_receipt(ip->p.reg, idx, m, resp->checkpoint->size, &p, &e) == SC_OK,
                  "receipt: %s", e.msg);
    size_t n = scpb__multi_inclusion_proof__get_packed_size(p);
    uint8_t *packed = sct_tp_alloc(ip, n);
    scpb__multi_inclusion_proof__pack(p, packed);
    sd_msg_free(p);
    ProtobufCAllocator a = {pb_arena_alloc, pb_arena_free, ip};
    resp->receipt = scpb__multi_inclusion_proof__unpack(&a, n, packed);
    ck_assert_ptr_nonnull(resp->receipt);
}

void sct_tp_seal(sct_tp *ip, Scpb__SyncResponse *resp, const sc_keypair *key, bool other_nonce)
{
    const Scpb__SyncRequest *q = ip->cur_req;
    ck_assert_ptr_nonnull(q);
    uint8_t nonce[sizeof ip->cur_meta.nonce];
    memcpy(nonce, ip->cur_meta.nonce, sizeof nonce);
    if (other_nonce)
        nonce[0] ^= 1;
    uint8_t(*leaves)[SC_HASH_LEN] = sct_tp_alloc(ip, (resp->n_ops + 1) * SC_HASH_LEN);
    for (size_t i = 0; i < resp->n_ops; i++) {
        const Scpb__LoggedOp *lo = resp->ops[i];
        sc_merkle_leaf_hash(lo->signed_op.data, lo->has_signed_op ? lo->signed_op.len : 0,
                            leaves[i]);
    }
    sc_seal_input in = {nonce,
                        ip->cur_meta.body_hash,
                        q->has_cursor,
                        q->cursor.data,
                        q->cursor.len,
                        resp,
                        (const uint8_t(*)[SC_HASH_LEN])leaves};
    sc_seal built;
    sc_seal_build(&in, &built);
    uint8_t *seal = sct_tp_alloc(ip, SC_SEAL_MAX), *sig = sct_tp_alloc(ip, SC_SIG_LEN);
    size_t len = 0;
    ck_assert_int_eq(
        sc_seal_sign(NULL, key ? key : ip->server, &built, seal, SC_SEAL_MAX, &len, sig), SC_OK);
    resp->has_seal = resp->has_seal_sig = true;
    resp->seal = (ProtobufCBinaryData){len, seal};
    resp->seal_sig = (ProtobufCBinaryData){SC_SIG_LEN, sig};
}

/* ---- the endpoints, as http.c routes them ---- */

/* A message the service made, or its refusal; frees the message (http.c's send_served). */
static void reply_served(reply *r, sc_status rc, void *msg, const sd_answer *a)
{
    if (rc == SC_OK)
        reply_msg(r, msg);
    else
        reply_answer(r, a);
    sd_msg_free(msg);
}

static void serve_enroll(sct_tp *ip, const sct_tp_req *q, reply *r)
{
    Scpb__EnrollRequest *er = scpb__enroll_request__unpack(NULL, q->body_len, q->body);
    if (!er) {
        reply_refuse(r, 400, SCPB__REASON__REASON_MALFORMED, "body is not an EnrollRequest");
        return;
    }
    Scpb__EnrollResponse *out = NULL;
    sd_answer a;
    sc_status rc = sd_enroll_serve(&ip->p.svc, er, &out, &a);
    scpb__enroll_request__free_unpacked(er, NULL);
    reply_served(r, rc, out, &a);
}

/* The served answer, through the hook: *lose when it must never arrive. */
static void answer_sync(sct_tp *ip, const Scpb__SyncRequest *sr, const Scpb__SyncResponse *out,
                        reply *r, bool *lose)
{
    *lose = false;
    if (!ip->hooks.sync_answer) {
        reply_msg(r, &out->base);
        return;
    }
    /* The hook works on a copy in the arena, so it may rewire pointers as it likes. */
    size_t n = scpb__sync_response__get_packed_size(out);
    uint8_t *packed = malloc(n + 1);
    ck_assert_ptr_nonnull(packed);
    scpb__sync_response__pack(out, packed);
    ProtobufCAllocator a = {pb_arena_alloc, pb_arena_free, ip};
    Scpb__SyncResponse *copy = scpb__sync_response__unpack(&a, n, packed);
    free(packed);
    ck_assert_ptr_nonnull(copy);
    sct_tp_sync_verdict v = ip->hooks.sync_answer(ip->hooks.ctx, ip, sr, copy);
    if (v == SCT_RESEAL)
        sct_tp_seal(ip, copy, NULL, false);
    *lose = v == SCT_LOSE;
    reply_msg(r, &copy->base);
}

static void serve_sync(sct_tp *ip, const sct_tp_req *q, const sd_principal *who,
                       const sd_req_meta *meta, reply *r, bool *lose)
{
    *lose = false;
    sd_answer a;
    if (sd_sync_precheck(&ip->p.svc, q->body, q->body_len, &a) != SC_OK) {
        reply_answer(r, &a);
        return;
    }
    Scpb__SyncRequest *sr = scpb__sync_request__unpack(NULL, q->body_len, q->body);
    if (!sr) {
        reply_refuse(r, 400, SCPB__REASON__REASON_MALFORMED, "body is not a SyncRequest");
        return;
    }
    Scpb__SyncResponse *out = NULL;
    if (sd_sync_serve(&ip->p.svc, who, sr, meta, &out, NULL, &a) != SC_OK) {
        reply_answer(r, &a);
    } else {
        pthread_mutex_lock(&ip->lock);
        ip->cur_req = sr;
        ip->cur_meta = *meta;
        answer_sync(ip, sr, out, r, lose);
        ip->cur_req = NULL;
        arena_free(&ip->mem);
        pthread_mutex_unlock(&ip->lock);
    }
    sd_sync_response_free(out);
    scpb__sync_request__free_unpacked(sr, NULL);
}

/* Two numeric parameters of target's query, each given once (http.c's parser). */
static bool query_pair(const char *target, const char *k1, uint64_t *v1, const char *k2,
                       uint64_t *v2)
{
    const char *qs = strchr(target, '?');
    if (!qs)
        return false;
    size_t n = strlen(qs + 1);
    return sd_http_query_u64(qs + 1, n, k1, v1) == 1 && sd_http_query_u64(qs + 1, n, k2, v2) == 1;
}

/* GET /v1/log/checkpoint and /v1/log/proof/consistency: what libspotcheck asks of the log. */
static void serve_log(sct_tp *ip, const sct_tp_req *q, reply *r)
{
    size_t plen = strcspn(q->target, "?");
    sd_answer a;
    if (plen == strlen("/v1/log/checkpoint") &&
        strncmp(q->target, "/v1/log/checkpoint", plen) == 0) {
        Scpb__Checkpoint *cp = NULL;
        sc_status rc = sd_checkpoint_serve(&ip->p.svc, &cp, &a);
        reply_served(r, rc, cp, &a);
        return;
    }
    uint64_t old, size;
    if (plen != strlen("/v1/log/proof/consistency") ||
        strncmp(q->target, "/v1/log/proof/consistency", plen) != 0) {
        reply_refuse(r, 404, SCPB__REASON__REASON_NONE, "no such endpoint");
    } else if (!query_pair(q->target, "old", &old, "size", &size)) {
        reply_refuse(r, 400, SCPB__REASON__REASON_BAD_FIELD,
                     "old and size must be given once each, as decimal numbers");
    } else {
        Scpb__ConsistencyProof *p = NULL;
        sc_status rc = sd_consistency_serve(&ip->p.svc, old, size, &p, &a);
        reply_served(r, rc, p, &a);
    }
}

static void serve_blob(sct_tp *ip, const sct_tp_req *q, const sd_principal *who,
                       const sd_req_meta *meta, reply *r)
{
    const char *name = q->target + strlen("/v1/blobs/");
    if (strlen(name) != SD_BLOB_NAME_LEN) {
        reply_refuse(r, 404, SCPB__REASON__REASON_NONE, "no such photo name");
        return;
    }
    sd_answer a;
    if (strcmp(q->method, "PUT") == 0) {
        /* http.c's order: the role, the range, then the chunk. */
        if (sd_photo_may_upload(who, &a) != SC_OK)
            reply_answer(r, &a);
        else if (!q->chunk)
            reply_refuse(
                r, 400, SCPB__REASON__REASON_BAD_FIELD,
                "Content-Range must be \"bytes START-END/TOTAL\" with START <= END < TOTAL");
        else {
            sd_photo_put(&ip->p.svc, who, name, q->start, q->len, q->total, q->body, q->body_len,
                         meta->body_hash, &a);
            reply_answer(r, &a);
        }
        return;
    }
    bool head = strcmp(q->method, "HEAD") == 0;
    int fd = -1;
    uint64_t size = 0;
    if (sd_photo_read(&ip->p.svc, who, name, head, &fd, &size, &a) != SC_OK) {
        reply_answer(r, &a);
        return;
    }
    r->status = 200;
    if (!head) {
        r->body = malloc(size + 1);
        ck_assert_ptr_nonnull(r->body);
        ssize_t got = pread(fd, r->body, size, 0);
        ck_assert_int_eq(got, (ssize_t)size);
        r->len = size;
    }
    close(fd);
}

/* ---- the transport ---- */

/* The value of header `name` among the request's lines, or NULL. */
static const char *header(const sc_http_request *h, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < h->n_headers; i++)
        if (strncasecmp(h->headers[i], name, nl) == 0 && h->headers[i][nl] == ':') {
            const char *v = h->headers[i] + nl + 1;
            while (*v == ' ')
                v++;
            return v;
        }
    return NULL;
}

/* Authenticate, then the endpoint.  *lose: a sync served whose answer is lost. */
static void serve(sct_tp *ip, const sc_http_request *h, const sct_tp_req *q, reply *r, bool *lose)
{
    *lose = false;
    if (strcmp(q->method, "POST") == 0 && strcmp(q->target, "/v1/enroll") == 0) {
        serve_enroll(ip, q, r);
        return;
    }
    sd_auth_headers ah = {header(h, "X-Spotcheck-Device"),      header(h, "X-Spotcheck-Time"),
                          header(h, "X-Spotcheck-Nonce"),       header(h, "X-Spotcheck-Signature"),
                          header(h, "X-Spotcheck-Body-Sha256"), header(h, "User-Agent")};
    sd_principal who;
    sd_req_meta meta;
    sd_answer a;
    if (sd_service_authenticate(&ip->p.svc, q->method, q->target, strlen(q->target), &ah, q->body,
                                q->body_len, &who, &meta, &a) != SC_OK) {
        reply_answer(r, &a);
        return;
    }
    if (strcmp(q->method, "POST") == 0 && strcmp(q->target, "/v1/sync") == 0)
        serve_sync(ip, q, &who, &meta, r, lose);
    else if (strcmp(q->method, "GET") == 0 && strncmp(q->target, "/v1/log/", 8) == 0)
        serve_log(ip, q, r);
    else if (strncmp(q->target, "/v1/blobs/", 10) == 0)
        serve_blob(ip, q, &who, &meta, r);
    else
        reply_refuse(r, 404, SCPB__REASON__REASON_NONE, "no such endpoint");
}

/* The answer through the request's callbacks, as http.c sends it. */
static sc_status deliver(sct_tp *ip, const sc_http_request *h, reply *r)
{
    char line[512];
    const sc_env *env = sd_register_env(ip->p.reg);
    snprintf(line, sizeof line, "HTTP/1.1 %ld", r->status);
    int stop = h->on_header(h->sink, line, strlen(line));
    snprintf(line, sizeof line, "X-Spotcheck-Server-Time: %" PRId64, env->now_ms(env->ctx));
    stop = stop || h->on_header(h->sink, line, strlen(line));
    if (r->has_offset) {
        snprintf(line, sizeof line, "X-Spotcheck-Offset: %" PRIu64, r->offset);
        stop = stop || h->on_header(h->sink, line, strlen(line));
    }
    if (r->error) {
        const char *rn = sc_name_of(&sc_names_reason, r->reason);
        snprintf(line, sizeof line, "X-Spotcheck-Reason: %s", rn ? rn : "none");
        stop = stop || h->on_header(h->sink, line, strlen(line));
        if (r->reason == SCPB__REASON__REASON_REQUEST_TIME) {
            snprintf(line, sizeof line, "X-Spotcheck-Not-Before: %" PRId64,
                     sd_auth_not_before(ip->p.auth));
            stop = stop || h->on_header(h->sink, line, strlen(line));
        }
        if (r->retry_ms > 0) {
            snprintf(line, sizeof line, "Retry-After: %" PRId64, (r->retry_ms + 999) / 1000);
            stop = stop || h->on_header(h->sink, line, strlen(line));
        }
        Scpb__Error e = SCPB__ERROR__INIT;
        e.has_status = e.has_reason = true;
        e.status = (uint32_t)r->status;
        e.reason = (Scpb__Reason)r->reason;
        e.message = r->message;
        free(r->body);
        r->body = NULL;
        reply_msg(r, &e.base);
        r->status = e.status;
    }
    if (!stop && r->len && strcmp(h->method, "HEAD") != 0)
        stop = h->on_body(h->sink, r->body, r->len);
    return stop ? SC_ERR_CANCELLED : SC_OK;
}

static sc_status inproc_send(void *ctx, const sc_http_request *h, sc_http_result *res)
{
    sct_tp *ip = ctx;
    memset(res, 0, sizeof *res);
    res->sends = 1;
    sct_tp_req q = {.method = h->method,
                    .target = h->target,
                    .body = h->body,
                    .body_len = h->body_len,
                    .number = atomic_fetch_add(&ip->requests, 1)};
    q.chunk = strcmp(h->method, "PUT") == 0 &&
              sd_http_parse_range(header(h, "Content-Range"), &q.start, &q.len, &q.total);
    /* An interrupt before anything is served. */
    if (h->on_progress && h->on_progress(h->sink, 0, h->body_len, 0, 0) != 0)
        return SC_ERR_CANCELLED;
    reply r;
    memset(&r, 0, sizeof r);
    sct_tp_answer ans;
    memset(&ans, 0, sizeof ans);
    sct_tp_verdict v = ip->hooks.before ? ip->hooks.before(ip->hooks.ctx, &q, &ans) : SCT_SERVE;
    if (v == SCT_RESENT) {
        res->sends = 2;
        q.number = atomic_fetch_add(&ip->requests, 1);
        memset(&ans, 0, sizeof ans);
        v = ip->hooks.before(ip->hooks.ctx, &q, &ans);
        if (v == SCT_RESENT)
            v = SCT_CUT;
    }
    bool lose = false;
    if (v == SCT_SERVED_RESENT) {
        /* The first copy is served and its answer dies with the connection. */
        serve(ip, h, &q, &r, &lose);
        free(r.body);
        memset(&r, 0, sizeof r);
        lose = false;
        res->sends = 2;
        q.number = atomic_fetch_add(&ip->requests, 1);
        v = SCT_SERVE;
    }
    if (v == SCT_CUT) {
        snprintf(res->message, sizeof res->message, "Connection reset by peer (in process)");
        return SC_ERR_NETWORK;
    }
    if (v == SCT_ANSWER) {
        r.status = ans.status;
        r.reason = ans.reason;
        r.error = ans.status >= 400 && !ans.body;
        snprintf(r.message, sizeof r.message, "%s", ans.message ? ans.message : "");
        r.has_offset = ans.has_offset;
        r.offset = ans.offset;
        if (ans.body) {
            r.body = malloc(ans.body_len + 1);
            ck_assert_ptr_nonnull(r.body);
            memcpy(r.body, ans.body, ans.body_len);
            r.len = ans.body_len;
        }
    } else {
        serve(ip, h, &q, &r, &lose);
    }
    sc_status s = SC_OK;
    if (lose) {
        snprintf(res->message, sizeof res->message, "the answer was lost (in process)");
        s = SC_ERR_NETWORK;
    } else {
        res->status = r.status;
        s = deliver(ip, h, &r);
        if (s == SC_OK && h->on_progress &&
            h->on_progress(h->sink, h->body_len, h->body_len, r.len, r.len) != 0)
            s = SC_ERR_CANCELLED;
    }
    free(r.body);
    return s;
}

void sct_tp_transport(sct_tp *ip, sc_transport *out)
{
    memset(out, 0, sizeof *out);
    out->version = SC_TRANSPORT_VERSION;
    out->ctx = ip;
    out->send = inproc_send;
}

sc_client *sct_tp_client(sct_tp *ip, const char *path, const char *login,
                         const sc_client_options *opt)
{
    sc_client *c = NULL;
    char err[256], code[64];
    ck_assert_msg(sc_client_open(path, opt, &c, err, sizeof err) == SC_OK, "open %s: %s", path,
                  err);
    sc_transport t;
    sct_tp_transport(ip, &t);
    ck_assert_int_eq(sc_client_set_transport(c, &t), SC_OK);
    sc_err e;
    sc_err_clear(&e);
    ck_assert_msg(sd_register_enroll_code(ip->p.reg, login, 1, code, sizeof code, &e) == SC_OK,
                  "enrollment code for %s: %s", login, e.msg);
    ck_assert_msg(sc_enroll(c, "http://in-process", code, login, NULL, 0, NULL) == SC_OK,
                  "enroll %s: %s", login, sc_client_errmsg(c));
    return c;
}
