/*
 * service_sync.c: one sync, from the decoded request to the sealed answer
 * (docs/protocol.md §4.2, §7.1; see service.h).
 *
 * The order is the protocol's: check the request against the limits before
 * anything is stored; open and verify every pushed op here, on the
 * caller's thread (and helpers), before the single writer sees it; commit
 * through the group commit, which returns only once the ops are durable;
 * pull in one snapshot, whose checkpoint covers every op pulled and
 * every op just accepted; prove and seal last, over the finished answer.
 * A failure at any step answers with a refusal and nothing of the answer.
 */
#include "service.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/logjson.h"
#include "base/metrics.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/par.h"
#include "core/reason.h"
#include "core/seal.h"

/*
 * An answer and everything it borrows; the message comes first, so the
 * pointer handed out is the record's (sd_sync_response_free).
 */
typedef struct sync_reply {
    Scpb__SyncResponse msg;
    size_t n;               /* ops pushed */
    sd_result *res;         /* n results */
    Scpb__OpResult *ores;   /* n, borrowing from res */
    Scpb__OpResult **oresp; /* n pointers into ores */
    sd_pulled pulled;       /* owned, checkpoint included */
    Scpb__ConsistencyProof *cons;
    ProtobufCBinaryData *stored; /* the photos it may fetch, borrowing the request's bytes */
    Scpb__MultiInclusionProof *receipt;
    uint8_t seal[SC_SEAL_MAX];
    uint8_t sig[SC_SIG_LEN];
} sync_reply;

void sd_sync_response_free(Scpb__SyncResponse *resp)
{
    if (!resp)
        return;
    sync_reply *r = (sync_reply *)resp;
    free(r->res);
    free(r->ores);
    free(r->oresp);
    sd_pulled_dispose(&r->pulled);
    sd_msg_free(r->cons);
    free(r->stored);
    sd_msg_free(r->receipt);
    free(r);
}

/* A request's counts against the limits (sync_check, and sd_sync_precheck before decoding). */
static sc_status counts_check(const sd_service *s, size_t n_ops, size_t n_blobs_wanted,
                              sd_answer *a)
{
    if (n_ops > s->cfg->batch_max) {
        sd_answer_set(a, SD_HTTP_TOO_LARGE, SC_REASON_BATCH_LIMIT,
                      "%zu ops in one request; at most %" PRIu32, n_ops, s->cfg->batch_max);
        return SC_ERR_LIMIT;
    }
    if (n_blobs_wanted > SC_BLOBS_WANTED_MAX) {
        sd_answer_set(a, SD_HTTP_TOO_LARGE, SC_REASON_BATCH_LIMIT,
                      "%zu photos asked about in one request; at most %d", n_blobs_wanted,
                      SC_BLOBS_WANTED_MAX);
        return SC_ERR_LIMIT;
    }
    return SC_OK;
}

/*
 * A varint of at most max bytes (10 for a value; protobuf-c reads tags and
 * lengths of 5 at most) from *p (before end) into *v, advancing *p; false
 * when it is cut off or longer.
 */
static bool wire_varint(const uint8_t **p, const uint8_t *end, unsigned max, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 7 * max && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/*
 * Count the top-level fields of the protobuf encoding buf[0, len) by
 * number, without decoding it: count[k - 1] gets the fields numbered k
 * (1 <= k <= nfields), *other the rest.  One pass over the tags and
 * lengths, skipping each value by its wire type; it allocates nothing.
 * False when the bytes are not protobuf wire format as protobuf-c reads
 * it (a tag, value or length cut off, too long or running past the end,
 * field number 0, or a wire type it does not read: groups, 6 and 7), which
 * unpacking would refuse too.
 */
static bool wire_count_fields(const uint8_t *buf, size_t len, size_t *count, uint32_t nfields,
                              size_t *other)
{
    if (len == 0)
        return true; /* an empty message; buf may be NULL */
    const uint8_t *p = buf, *end = buf + len;
    while (p < end) {
        uint64_t tag, v;
        if (!wire_varint(&p, end, 5, &tag) || tag >> 3 == 0)
            return false;
        switch (tag & 7) {
        case 0: /* varint */
            if (!wire_varint(&p, end, 10, &v))
                return false;
            break;
        case 1: /* 64-bit */
            if (end - p < 8)
                return false;
            p += 8;
            break;
        case 2: /* length-delimited */
            if (!wire_varint(&p, end, 5, &v) || v > (uint64_t)(end - p))
                return false;
            p += v;
            break;
        case 5: /* 32-bit */
            if (end - p < 4)
                return false;
            p += 4;
            break;
        default:
            return false;
        }
        if (tag >> 3 <= nfields)
            count[(tag >> 3) - 1]++;
        else
            (*other)++;
    }
    return true;
}

sc_status sd_sync_precheck(const sd_service *s, const uint8_t *body, size_t len, sd_answer *a)
{
    /* wire.proto's SyncRequest: ops 1, cursor 2, known_size 3, max_pull 4, blobs_wanted 5. */
    size_t count[5] = {0}, unknown = 0;
    if (!wire_count_fields(body, len, count, 5, &unknown)) {
        sd_answer_set(a, SD_HTTP_BAD_REQUEST, SC_REASON_MALFORMED, "body is not a SyncRequest");
        return SC_ERR_MALFORMED;
    }
    sc_status rc = counts_check(s, count[0], count[4], a);
    if (rc != SC_OK)
        return rc;
    /* Each of the others is given once by any encoder; a few unknown ones are a newer client's. */
    size_t others = count[1] + count[2] + count[3] + unknown;
    if (others > SD_SYNC_OTHER_FIELDS_MAX) {
        sd_answer_set(a, SD_HTTP_BAD_REQUEST, SC_REASON_MALFORMED,
                      "%zu fields besides ops and blobs_wanted in one request; at most %d", others,
                      SD_SYNC_OTHER_FIELDS_MAX);
        return SC_ERR_MALFORMED;
    }
    return SC_OK;
}

/* The request against the limits, before anything is opened or stored. */
static sc_status sync_check(const sd_service *s, const Scpb__SyncRequest *sr, sd_answer *a)
{
    sc_status rc = counts_check(s, sr->n_ops, sr->n_blobs_wanted, a);
    if (rc != SC_OK)
        return rc;
    for (size_t i = 0; i < sr->n_blobs_wanted; i++)
        if (sr->blobs_wanted[i].len != SC_HASH_LEN) {
            sd_answer_set(a, SD_HTTP_BAD_REQUEST, SC_REASON_MALFORMED,
                          "blobs_wanted %zu is not a 32-byte SHA-256", i);
            return SC_ERR_MALFORMED;
        }
    if (sr->has_cursor && sr->cursor.len > 0) {
        /* Refuse a cursor syncd cannot have made before anything is stored. */
        Scpb__Cursor *cur = sr->cursor.len <= 64
                                ? scpb__cursor__unpack(NULL, sr->cursor.len, sr->cursor.data)
                                : NULL;
        if (!cur) {
            sd_answer_set(a, SD_HTTP_BAD_REQUEST, SC_REASON_MALFORMED,
                          "cursor is not one syncd made");
            return SC_ERR_MALFORMED;
        }
        scpb__cursor__free_unpacked(cur, NULL);
    }
    return SC_OK;
}

/* The best op id for a pushed op that did not open: SHA-256 of its op bytes, if it has any. */
static bool failed_op_id(const ProtobufCBinaryData *raw, uint8_t id[SC_HASH_LEN])
{
    bool ok = false;
    if (raw->len > SC_SIGNED_OP_MAX_BYTES)
        return false;
    Scpb__SignedOp *so = scpb__signed_op__unpack(NULL, raw->len, raw->data);
    if (so) {
        if (so->has_op) {
            sc_sha256(so->op.data, so->op.len, id);
            ok = true;
        }
        scpb__signed_op__free_unpacked(so, NULL);
    }
    return ok;
}

/* "op I: MSG", cut to fit cap (the register's messages are already at most this long). */
static void op_message(char *out, size_t cap, size_t i, const char *msg)
{
    int n = snprintf(out, cap, "op %zu: ", i);
    size_t used = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    size_t ml = strnlen(msg, cap - used - 1);
    memcpy(out + used, msg, ml);
    out[used + ml] = '\0';
}

static int reason_of_open(sc_status rc, const sc_err *e)
{
    if (e->reason != SC_REASON_NONE)
        return e->reason;
    return rc == SC_ERR_TOO_LARGE       ? SC_REASON_TOO_LARGE
           : rc == SC_ERR_BAD_SIGNATURE ? SC_REASON_BAD_SIGNATURE
                                        : SC_REASON_MALFORMED;
}

/*
 * Opening a pushed op is mostly its Ed25519 verification (~40 us): a
 * request of many ops is opened on helper threads too (core/par.h, one
 * thread per SC_PAR_OPEN_MIN ops), so one device pushing a big batch is
 * not held to one core while the others idle.  Each slice writes only its
 * ops and results; the outcome is the same as opening them one by one.
 */
typedef struct open_job {
    const sc_env *env;
    const Scpb__SyncRequest *sr;
    size_t base; /* the runs' items are ops base + i */
    sc_op **ops;
    sd_result *res;
    sc_par_pool *par; /* the service's helpers, or NULL */
} open_job;

static void open_slice(void *arg, size_t slice, size_t from, size_t to)
{
    (void)slice;
    open_job *j = arg;
    for (size_t i = j->base + from; i < j->base + to; i++) {
        const ProtobufCBinaryData *raw = &j->sr->ops[i];
        sc_err oe;
        sc_err_clear(&oe);
        sc_status rc = sc_op_open(j->env, raw->data, raw->len, SC_OP_VERIFY, &j->ops[i], &oe);
        if (rc != SC_OK) {
            sd_result *res = &j->res[i];
            j->ops[i] = NULL;
            failed_op_id(raw, res->op_id);
            res->status = SCPB__OP_STATUS__OP_REJECTED;
            res->reason = reason_of_open(rc, &oe);
            op_message(res->message, sizeof res->message, i, oe.msg[0] ? oe.msg : sc_strerror(rc));
        }
    }
}

static void count_results(const sd_result *res, size_t n, sd_sync_counts *c)
{
    for (size_t i = 0; i < n; i++) {
        sd_metrics_op(res[i].status, res[i].reason);
        if (res[i].status == SCPB__OP_STATUS__OP_ACCEPTED)
            c->accepted++;
        else if (res[i].status == SCPB__OP_STATUS__OP_DUPLICATE)
            c->duplicate++;
        else
            c->rejected++;
    }
}

/*
 * A big push is verified and committed in parts of this many ops: each part
 * goes to the writer as soon as its signatures are checked, and the next
 * part is checked while the writer judges and logs it, so one device's
 * request keeps both the verifier threads and the writer busy.  Parts are
 * queued in order, so they are logged in the request's order; the answer
 * still waits for every part to be durable.
 */
#define PUSH_PART_OPS 256

/*
 * Open and verify ops [from, to) of the request, fill their results' op ids
 * and excl (the pull leaves them out); returns how many opened.
 */
static size_t open_part(open_job *job, size_t from, size_t to, uint8_t (*excl)[SC_HASH_LEN],
                        size_t *nex)
{
    size_t nopen = 0;
    job->base = from;
    sc_par_run(job->par, to - from, sc_par_count(to - from, SC_PAR_OPEN_MIN), open_slice, job);
    for (size_t i = from; i < to; i++) {
        if (job->ops[i]) {
            /* Everything else (author, device, rules) is the register's to judge, after its
             * duplicate check, so a resent op is always answered duplicate. */
            memcpy(job->res[i].op_id, job->ops[i]->id, SC_HASH_LEN);
            memcpy(excl[(*nex)++], job->ops[i]->id, SC_HASH_LEN);
            nopen++;
        }
    }
    return nopen;
}

/*
 * Open, verify and commit the pushed ops into r->res; excl gets the ids of
 * those that opened (the pull leaves them out), *nex their count.
 */
static sc_status sync_push(const sd_service *s, const sd_principal *who,
                           const Scpb__SyncRequest *sr, sync_reply *r, uint8_t (*excl)[SC_HASH_LEN],
                           size_t *nex, sd_sync_counts *counts, sd_answer *a)
{
    size_t n = r->n, nparts = n ? (n + PUSH_PART_OPS - 1) / PUSH_PART_OPS : 0;
    const sc_env *env = s->env;
    sc_op **ops = calloc(n ? n : 1, sizeof *ops);
    sd_batch *parts = calloc(nparts ? nparts : 1, sizeof *parts);
    sd_ingest_ticket *tickets = calloc(nparts ? nparts : 1, sizeof *tickets); /* .b: queued */
    sc_status rc = SC_OK;
    sc_err e;
    sc_err_clear(&e);
    if (!ops || !parts || !tickets) {
        sd_answer_set(a, SD_HTTP_UNAVAILABLE, SC_REASON_STORAGE, "out of memory");
        rc = SC_ERR_NOMEM;
        nparts = 0;
    }
    /* Open and verify every op here, before the single writer sees it. */
    open_job job = {env, sr, 0, ops, r->res, s->par};
    int64_t received = env->now_ms(env->ctx);
    for (size_t k = 0; k < nparts && rc == SC_OK; k++) {
        size_t from = k * PUSH_PART_OPS, to = from + PUSH_PART_OPS < n ? from + PUSH_PART_OPS : n;
        if (open_part(&job, from, to, excl, nex) == 0)
            continue;
        parts[k] = (sd_batch){
            .who = who,
            .ops = (sc_op *const *)ops + from,
            .n = to - from,
            .results = r->res + from,
            .received_ms = received,
        };
        rc = sd_ingest_enqueue(s->ingest, &parts[k], &tickets[k], &e);
    }
    for (size_t k = 0; k < nparts; k++) {
        sc_err we;
        sc_err_clear(&we);
        if (tickets[k].b && sd_ingest_wait(s->ingest, &tickets[k], &we) != SC_OK && rc == SC_OK) {
            rc = tickets[k].rc;
            e = we;
        }
    }
    if (rc != SC_OK && rc != SC_ERR_NOMEM)
        /* Parts committed before the failure are logged; the client resends it all and gets
         * them back as duplicates. */
        sd_answer_set(a, SD_HTTP_UNAVAILABLE, SC_REASON_STORAGE, "%s",
                      e.msg[0] ? e.msg : "the register could not commit; retry later");
    for (size_t i = 0; ops && i < n; i++)
        sc_op_free(env, ops[i]);
    free(ops);
    free(parts);
    free(tickets);
    if (rc == SC_OK)
        count_results(r->res, n, counts);
    return rc;
}

/* What `who` may see since the cursor, and the proof that the log grew from known_size. */
static sc_status sync_pull(const sd_service *s, const sd_principal *who,
                           const Scpb__SyncRequest *sr, const uint8_t (*excl)[SC_HASH_LEN],
                           size_t nex, sync_reply *r, sd_answer *a)
{
    uint32_t max = s->cfg->pull_max;
    if (sr->has_max_pull && sr->max_pull > 0 && sr->max_pull < max)
        max = sr->max_pull;
    sd_pull pr = {
        .who = who,
        .cursor = sr->has_cursor ? sr->cursor.data : NULL,
        .cursor_len = sr->has_cursor ? sr->cursor.len : 0,
        .max = max,
        .exclude = excl,
        .nexclude = nex,
    };
    sc_err e;
    sc_err_clear(&e);
    sc_status rc = sd_register_pull(s->reg, &pr, &r->pulled, &e);
    /* The pull's own snapshot's checkpoint: it covers every op pulled and every op accepted. */
    const Scpb__Checkpoint *cp = r->pulled.checkpoint;
    if (rc == SC_OK && sr->has_known_size && sr->known_size > 0 && sr->known_size < cp->size)
        rc = sd_register_consistency(s->reg, sr->known_size, cp->size, &r->cons, &e);
    if (rc != SC_OK)
        sd_answer_from_err(&e, a);
    return rc;
}

/*
 * Of the n photos asked about (32-byte hashes), those stored that `who`
 * may read (docs/protocol.md §4.3), into out in the order asked.  A photo
 * it may not see is answered as an absent one; when the register cannot
 * say, none is.  Whether a photo is stored is asked first (a stat): most
 * photos asked about are not stored yet, and only the stored ones need the
 * register's word on who may read them.
 */
static void photos_readable(const sd_service *s, const sd_principal *who,
                            const ProtobufCBinaryData *want, size_t n, ProtobufCBinaryData *out,
                            size_t *nout)
{
    *nout = 0;
    if (n == 0)
        return; /* most syncs ask about none: no look at the register */
    uint8_t(*sha)[SC_HASH_LEN] = calloc(n, sizeof *sha);
    size_t *at = calloc(n, sizeof *at);
    bool *vis = calloc(n, sizeof *vis);
    size_t nst = 0;
    for (size_t i = 0; sha && at && vis && i < n; i++) {
        char name[SD_BLOB_NAME_LEN + 1];
        sd_blob_info info;
        sc_err be;
        if (sc_hex_encode(want[i].data, SC_HASH_LEN, name, sizeof name) == SC_OK &&
            sd_blobs_stat(s->blobs, who->device, name, &info, &be) == SC_OK && info.stored) {
            memcpy(sha[nst], want[i].data, SC_HASH_LEN);
            at[nst++] = i;
        }
    }
    sc_err e;
    sc_err_clear(&e);
    if (!sha || !at || !vis ||
        (nst > 0 && sd_register_photos_visible(s->reg, who, (const uint8_t(*)[SC_HASH_LEN])sha,
                                               nst, vis, &e) != SC_OK)) {
        if (e.msg[0])
            sd_log(SD_LOG_WARN, "blobs_wanted: cannot decide which photos the device may read",
                   e.msg);
        nst = 0;
    }
    for (size_t k = 0; k < nst; k++)
        if (vis[k])
            out[(*nout)++] = want[at[k]];
    free(sha);
    free(at);
    free(vis);
}

/* The results of a push as wire messages: ores[i] filled from res[i], borrowing its bytes. */
static void results_fill(const sd_result *res, size_t n, Scpb__OpResult *ores,
                         Scpb__OpResult **oresp)
{
    static const uint8_t zero[SC_HASH_LEN];
    for (size_t i = 0; i < n; i++) {
        Scpb__OpResult *o = &ores[i];
        scpb__op_result__init(o);
        if (memcmp(res[i].op_id, zero, SC_HASH_LEN) != 0) {
            o->has_op_id = true;
            o->op_id.data = (uint8_t *)res[i].op_id;
            o->op_id.len = SC_HASH_LEN;
        }
        o->has_status = true;
        o->status = res[i].status;
        if (res[i].status == SCPB__OP_STATUS__OP_REJECTED) {
            o->has_reason = true;
            o->reason = (Scpb__Reason)res[i].reason;
            o->message = (char *)res[i].message;
        } else {
            o->has_log_index = true;
            o->log_index = res[i].log_index;
        }
        oresp[i] = o;
    }
}

/* The answer's fields from what was pushed, pulled and proven, before the receipt and seal. */
static void sync_fill(const sd_service *s, sync_reply *r, size_t nstored)
{
    Scpb__SyncResponse *out = &r->msg;
    out->n_blobs_stored = nstored;
    out->blobs_stored = r->stored;
    out->has_blobs_checked = true;
    out->blobs_checked = true;
    results_fill(r->res, r->n, r->ores, r->oresp);
    out->n_results = r->n;
    out->results = r->oresp;
    out->n_ops = r->pulled.n;
    out->ops = r->pulled.ops;
    if (r->pulled.cursor) {
        out->has_cursor = true;
        out->cursor.data = r->pulled.cursor;
        out->cursor.len = r->pulled.cursor_len;
    }
    out->has_more = true;
    out->more = r->pulled.more;
    out->checkpoint = r->pulled.checkpoint;
    out->consistency = r->cons;
    out->has_server_time_ms = true;
    out->server_time_ms = s->env->now_ms(s->env->ctx);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * Prove and seal an answer that is otherwise complete (docs/protocol.md
 * §4.2.1, §7.1): the receipt proves every accepted and duplicate op in the
 * log of the checkpoint's size, and the seal, signed by the server key,
 * binds the answer to this request.
 */
static sc_status sync_prove(const sd_service *s, const Scpb__SyncRequest *sr,
                            const sd_req_meta *meta, sync_reply *r, sc_err *e)
{
    Scpb__SyncResponse *out = &r->msg;
    size_t n = r->n;
    uint64_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return sc_err_set(e, SC_ERR_NOMEM, SC_REASON_STORAGE, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (r->res[i].status == SCPB__OP_STATUS__OP_ACCEPTED ||
            r->res[i].status == SCPB__OP_STATUS__OP_DUPLICATE)
            idx[k++] = r->res[i].log_index;
    /* An op pushed twice in one request is one leaf. */
    qsort(idx, k, sizeof *idx, cmp_u64);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || idx[i] != idx[m - 1])
            idx[m++] = idx[i];
    sc_status rc =
        m ? sd_register_receipt(s->reg, idx, m, out->checkpoint->size, &r->receipt, e) : SC_OK;
    free(idx);
    if (rc != SC_OK)
        return rc;
    out->receipt = r->receipt;
    sc_seal_input in = {
        .nonce = meta->nonce,
        .request_hash = meta->body_hash,
        .has_cursor_in = sr->has_cursor,
        .cursor_in = sr->cursor.data,
        .cursor_in_len = sr->cursor.len,
        .resp = out,
        .leaves = (const uint8_t(*)[SC_HASH_LEN])r->pulled.leaves,
    };
    sc_seal seal;
    sc_seal_build(&in, &seal);
    size_t len = 0;
    if ((rc = sd_register_seal(s->reg, &seal, r->seal, sizeof r->seal, &len, r->sig, e)) != SC_OK)
        return rc;
    out->has_seal = true;
    out->seal = (ProtobufCBinaryData){len, r->seal};
    out->has_seal_sig = true;
    out->seal_sig = (ProtobufCBinaryData){SC_SIG_LEN, r->sig};
    return SC_OK;
}

/* A new answer record for n pushed ops and nwant photos asked about; NULL when out of memory. */
static sync_reply *reply_new(size_t n, size_t nwant)
{
    sync_reply *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    scpb__sync_response__init(&r->msg);
    r->n = n;
    r->res = calloc(n ? n : 1, sizeof *r->res);
    r->ores = calloc(n ? n : 1, sizeof *r->ores);
    r->oresp = calloc(n ? n : 1, sizeof *r->oresp);
    r->stored = calloc(nwant ? nwant : 1, sizeof *r->stored);
    if (!r->res || !r->ores || !r->oresp || !r->stored) {
        sd_sync_response_free(&r->msg);
        return NULL;
    }
    return r;
}

sc_status sd_sync_serve(const sd_service *s, const sd_principal *who, const Scpb__SyncRequest *sr,
                        const sd_req_meta *meta, Scpb__SyncResponse **out, sd_sync_counts *counts,
                        sd_answer *a)
{
    *out = NULL;
    sd_sync_counts cnt = {0};
    size_t n = sr->n_ops, nex = 0;
    cnt.pushed = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
    sync_reply *r = NULL;
    uint8_t(*excl)[SC_HASH_LEN] = NULL;
    sc_status rc = sync_check(s, sr, a);
    if (rc != SC_OK)
        goto done;
    r = reply_new(n, sr->n_blobs_wanted);
    excl = calloc(n ? n : 1, sizeof *excl);
    if (!r || !excl) {
        sd_answer_set(a, SD_HTTP_UNAVAILABLE, SC_REASON_STORAGE, "out of memory");
        rc = SC_ERR_NOMEM;
        goto done;
    }
    if ((rc = sync_push(s, who, sr, r, excl, &nex, &cnt, a)) != SC_OK ||
        (rc = sync_pull(s, who, sr, (const uint8_t(*)[SC_HASH_LEN])excl, nex, r, a)) != SC_OK)
        goto done;
    cnt.pulled = (uint32_t)r->pulled.n;
    /* Which of the photos the client lacks it may fetch, so it fetches only those (§4.2). */
    size_t nstored = 0;
    photos_readable(s, who, sr->blobs_wanted, sr->n_blobs_wanted, r->stored, &nstored);
    sync_fill(s, r, nstored);
    sc_err e;
    sc_err_clear(&e);
    if ((rc = sync_prove(s, sr, meta, r, &e)) != SC_OK) {
        sd_answer_from_err(&e, a);
        goto done;
    }
    *out = &r->msg;
    r = NULL;
done:
    free(excl);
    sd_sync_response_free(r ? &r->msg : NULL);
    if (counts)
        *counts = cnt;
    return rc;
}
