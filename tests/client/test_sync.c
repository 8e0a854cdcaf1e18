/*
 * test_sync.c: the sync algorithm against syncd's own register and sync
 * service, served in process (tests/support/inproc/sctest_transport.h): requests
 * signed and checked, ops judged and logged, signed checkpoints,
 * consistency proofs and receipts, cursors, `more`, chunked photos, all
 * the real protocol logic.  Hooks make it misbehave where a test needs a
 * bad server: answer garbage or 503, rewrite history, serve an op by an
 * unknown device, reject ops, cut or refuse uploads, and lie about sync
 * answers (unsealed, sealed by another key or for another request,
 * results forged, no receipt or a wrong one, a pulled op dropped).  It
 * records the length of every chunk it is sent, so the adaptive chunk size
 * is checked exactly, with the handle's monotonic clock stepped by the
 * test; and once more against a real syncd process behind the fault proxy
 * (tests/support/faultproxy.h).  The CLI scenarios in tests/e2e drive real
 * syncd processes too.
 */
#include "fixture.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "core/checkpoint.h"
#include "core/merkle.h"
#include "core/seal.h"
#include "faultproxy.h"
#include "sctest_fixture.h"
#include "sctest_transport.h"
#include "sctest_reliab.h"
#include "sctest_server.h"

#define CHUNKS_MAX 64

enum mode {
    M_OK,
    M_DOWN, /* every request's connection is cut: nobody answers */
    M_GARBAGE,
    M_BLOAT, /* a 200 of 2M empty pulled ops: 4 MiB that unpack into some seventy times that */
    M_REWRITE_ROOT,
    M_SHRINK,
    M_BAD_PROOF,
    M_MORE_FOREVER,
    M_UNAVAILABLE,
    M_STRANGER, /* a pulled op by a key no server-signed enrollment names */
    M_LOSE,     /* a sync served and committed whose answer never arrives */
    /* Lies, each about one thing; the answer is otherwise syncd's own. */
    M_NO_SEAL,       /* no seal: a syncd older than the client, or a forged answer */
    M_FOREIGN_SEAL,  /* a seal signed by another key */
    M_REPLAYED_SEAL, /* sealed for another request (another nonce) */
    M_FORGE_ACCEPT,  /* accepted at made-up log indexes, sealed: only the receipt can tell */
    M_NO_RECEIPT,    /* logs and seals, but proves nothing */
    M_BAD_RECEIPT,   /* a receipt whose first hash is wrong */
    M_DROP_PULLED,   /* one pulled op dropped after sealing */
    M_FORGE_REJECT,  /* every result turned into a rejection after sealing */
    M_FORGE_PULLED,  /* the last pulled op's signature altered, the answer sealed again */
    M_FORGE_PULLED_AT, /* the same, in the answer to sync request forge_at alone */
    M_DROP_PULLED_AT,  /* M_DROP_PULLED in the answer to sync request forge_at alone */
    M_ADD_STORED,      /* every photo asked about listed as stored, after sealing */
};

/* The register in process, a tablet enrolled on it (inspector1), and how to misbehave. */
typedef struct srv {
    sct_tp *ip;      /* syncd's parts over the fixture register, and the transport */
    sct_inproc *p;   /* the parts: temp dir, register, settings */
    sc_client *c;    /* the tablet */
    const char *dir; /* for photo files: the temp dir */
    enum mode mode;
    int reject_kind;                   /* op kind the server says it rejects (0: none) */
    uint8_t rejected[64][SC_HASH_LEN]; /* ... and the ops it rejected, whose dependents go too */
    size_t nrejected;
    int cut_after_chunks; /* refuse the chunk PUT after this many, once; -1 never */
    int puts;             /* chunk PUTs that got that far */
    int reset_chunk;      /* cut the connection of this chunk PUT (0-based), once; -1 never */
    int resend_chunk;     /* this chunk PUT's connection dies and it goes again by itself */
    /* This sync POST (0-based) or chunk PUT is served, its answer lost with the connection,
     * and the same bytes served again (libcurl's resend after syncd had the first copy). */
    int served_resend_sync, served_resend_chunk;
    int busy_puts;        /* answer this many chunk PUTs 409 at the current offset (busy) */
    /* Answer this many photo HEADs 200 (stored), or chunk PUTs 201 (complete), in syncd's
     * place: a network on the way that says a photo is on the server when it is not. */
    int forged_heads, forged_puts;
    /* Every chunk PUT's length and start, in arrival order. */
    size_t chunk_len[CHUNKS_MAX];
    uint64_t chunk_start[CHUNKS_MAX];
    int nchunks;
    int syncs, requests503;
    int forge_at; /* the *_AT modes' sync request (0-based, as syncs counts them) */
    sc_keypair *stranger; /* M_STRANGER's author */
} srv;

static sct_tp_verdict on_request(void *ctx, const sct_tp_req *q, sct_tp_answer *a)
{
    srv *s = ctx;
    if (s->mode == M_DOWN)
        return SCT_CUT;
    if (strcmp(q->target, "/v1/sync") == 0) {
        if (s->syncs++ == s->served_resend_sync) {
            s->served_resend_sync = -1;
            return SCT_SERVED_RESENT;
        }
        if (s->mode == M_UNAVAILABLE) {
            s->requests503++;
            *a = (sct_tp_answer){.status = 503,
                                 .reason = SCPB__REASON__REASON_STORAGE,
                                 .message = "the register could not commit: disk full"};
            return SCT_ANSWER;
        }
        if (s->mode == M_GARBAGE) {
            static const char junk[] = "\xff\xff\xff garbage, not protobuf";
            *a = (sct_tp_answer){
                .status = 200, .body = (const uint8_t *)junk, .body_len = sizeof junk - 1};
            return SCT_ANSWER;
        }
        if (s->mode == M_BLOAT) {
            static uint8_t bloat[4 << 20];
            for (size_t i = 0; i < sizeof bloat; i += 2) {
                bloat[i] = 0x12; /* field 2 (ops), length-delimited */
                bloat[i + 1] = 0x00; /* an empty LoggedOp */
            }
            *a = (sct_tp_answer){.status = 200, .body = bloat, .body_len = sizeof bloat};
            return SCT_ANSWER;
        }
        return SCT_SERVE;
    }
    if (s->forged_heads > 0 && strcmp(q->method, "HEAD") == 0 &&
        strncmp(q->target, "/v1/blobs/", 10) == 0) {
        s->forged_heads--;
        *a = (sct_tp_answer){.status = 200};
        return SCT_ANSWER;
    }
    if (!q->chunk)
        return SCT_SERVE;
    int nc = s->nchunks;
    if (nc < CHUNKS_MAX) {
        s->chunk_len[nc] = q->len;
        s->chunk_start[nc] = q->start;
        s->nchunks = nc + 1;
    }
    if (nc == s->reset_chunk) {
        s->reset_chunk = -1;
        return SCT_CUT;
    }
    if (nc == s->resend_chunk) {
        s->resend_chunk = -1;
        return SCT_RESENT;
    }
    if (nc == s->served_resend_chunk) {
        s->served_resend_chunk = -1;
        return SCT_SERVED_RESENT;
    }
    if (s->busy_puts > 0) {
        /* syncd still holds an earlier upload of the photo: 409 where the offset is. */
        s->busy_puts--;
        *a = (sct_tp_answer){.status = 409,
                             .message = "another upload of this photo is in progress",
                             .has_offset = true,
                             .offset = q->start};
        return SCT_ANSWER;
    }
    if (s->forged_puts > 0) {
        s->forged_puts--;
        *a = (sct_tp_answer){.status = 201};
        return SCT_ANSWER;
    }
    if (s->puts++ == s->cut_after_chunks) {
        /* A refusal of the photo: it waits for the next sync. */
        s->cut_after_chunks = -1;
        *a = (sct_tp_answer){.status = 400, .message = "refused"};
        return SCT_ANSWER;
    }
    return SCT_SERVE;
}

/* Results for the ops of reject_kind, and every op depending on one, turned into rejections. */
static void reject_some(srv *s, const Scpb__SyncRequest *q, Scpb__SyncResponse *r)
{
    for (size_t i = 0; i < q->n_ops && i < r->n_results; i++) {
        sc_op *op = NULL;
        ck_assert_int_eq(sc_op_open(NULL, q->ops[i].data, q->ops[i].len, 0, &op, NULL), SC_OK);
        bool dep = false;
        for (size_t d = 0; d < op->op->n_deps; d++)
            for (size_t k = 0; k < s->nrejected; k++)
                dep = dep || memcmp(op->op->deps[d].data, s->rejected[k], SC_HASH_LEN) == 0;
        Scpb__OpResult *res = r->results[i];
        if ((int)op->op->body_case == s->reject_kind || dep) {
            res->status = SCPB__OP_STATUS__OP_REJECTED;
            res->has_log_index = false;
            res->has_reason = true;
            res->reason =
                dep ? SCPB__REASON__REASON_UNKNOWN_DEPENDENCY : SCPB__REASON__REASON_FORBIDDEN_ROLE;
            res->message = dep ? "a dep is not logged" : "not allowed here";
            ck_assert_uint_lt(s->nrejected, 64);
            memcpy(s->rejected[s->nrejected++], op->id, SC_HASH_LEN);
        }
        sc_op_free(NULL, op);
    }
}

/* A pulled op by a stranger's key, at log index 0 of the answer's log. */
static void add_stranger_op(srv *s, sct_tp *ip, Scpb__SyncResponse *r)
{
    uint8_t ent[SC_ID_LEN];
    sc_uuid7_new(sct_sys_env(), ent);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__InspectionOpen io = SCPB__INSPECTION_OPEN__INIT;
    io.has_target = io.has_kind = io.has_disclosure = true;
    io.target = (ProtobufCBinaryData){SC_ID_LEN, s->p->fx.target};
    io.kind = SCPB__INSPECTION_KIND__KIND_PATROL;
    io.disclosure = SCPB__DISCLOSURE__DISCLOSURE_OPEN;
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &io;
    op.has_version = op.has_entity = op.has_entity_type = op.has_author = op.has_hlc = true;
    op.version = 1;
    op.entity = (ProtobufCBinaryData){SC_ID_LEN, ent};
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
    op.author =
        (ProtobufCBinaryData){SC_KEY_LEN, (uint8_t *)(uintptr_t)sc_keypair_public(s->stranger)};
    op.hlc = sc_hlc_make(sct_now_ms() - 1000, 0);
    sc_op *a = NULL;
    ck_assert_int_eq(sc_op_seal(NULL, s->stranger, &op, &a, NULL), SC_OK);
    Scpb__LoggedOp *lo = sct_tp_alloc(ip, sizeof *lo);
    scpb__logged_op__init(lo);
    uint8_t *bytes = sct_tp_alloc(ip, a->signed_len);
    memcpy(bytes, a->signed_bytes, a->signed_len);
    lo->has_signed_op = lo->has_log_index = true;
    lo->signed_op = (ProtobufCBinaryData){a->signed_len, bytes};
    lo->log_index = 0;
    sc_op_free(NULL, a);
    Scpb__LoggedOp **ops = sct_tp_alloc(ip, (r->n_ops + 1) * sizeof *ops);
    if (r->n_ops)
        memcpy(ops, r->ops, r->n_ops * sizeof *ops);
    ops[r->n_ops] = lo;
    r->ops = ops;
    r->n_ops++;
}

static void flip(ProtobufCBinaryData *b)
{
    if (b->len)
        b->data[0] ^= 1;
}

static sct_tp_sync_verdict on_sync(void *ctx, sct_tp *ip, const Scpb__SyncRequest *q,
                                   Scpb__SyncResponse *r)
{
    srv *s = ctx;
    if (s->reject_kind) {
        reject_some(s, q, r);
        sct_tp_prove(ip, r);
        return SCT_RESEAL;
    }
    Scpb__Checkpoint *cp = r->checkpoint;
    switch (s->mode) {
    case M_REWRITE_ROOT: {
        uint8_t root[SC_HASH_LEN];
        memcpy(root, cp->root.data, SC_HASH_LEN);
        root[0] ^= 1;
        sct_tp_sign_checkpoint(ip, r, cp->size, root, NULL);
        return SCT_RESEAL;
    }
    case M_SHRINK:
        if (q->has_known_size && q->known_size > 0)
            sct_tp_sign_checkpoint(ip, r, q->known_size - 1, cp->root.data, NULL);
        return SCT_RESEAL;
    case M_BAD_PROOF:
        if (r->consistency && r->consistency->n_hashes > 0)
            flip(&r->consistency->hashes[0]);
        return SCT_RESEAL;
    case M_MORE_FOREVER:
        /* "More!" with nothing in it and the cursor where it was. */
        r->n_ops = 0;
        r->has_more = r->more = true;
        r->has_cursor = q->has_cursor;
        r->cursor = q->cursor;
        return SCT_RESEAL;
    case M_STRANGER:
        add_stranger_op(s, ip, r);
        return SCT_RESEAL;
    case M_LOSE:
        return SCT_LOSE;
    case M_NO_SEAL:
        r->has_seal = r->has_seal_sig = false;
        return SCT_SEND;
    case M_FOREIGN_SEAL: {
        sc_keypair *other = sct_key(77);
        sct_tp_seal(ip, r, other, false);
        sc_keypair_free(other);
        return SCT_SEND;
    }
    case M_REPLAYED_SEAL:
        sct_tp_seal(ip, r, NULL, true);
        return SCT_SEND;
    case M_FORGE_ACCEPT:
        /* Made-up indexes inside the log, and a true receipt of whatever stands there. */
        for (size_t i = 0; i < r->n_results; i++)
            if (r->results[i]->has_log_index)
                r->results[i]->log_index = i;
        sct_tp_prove(ip, r);
        return SCT_RESEAL;
    case M_NO_RECEIPT:
        r->receipt = NULL;
        return SCT_RESEAL;
    case M_BAD_RECEIPT:
        if (r->receipt && r->receipt->n_hashes > 0)
            flip(&r->receipt->hashes[0]);
        return SCT_RESEAL;
    case M_FORGE_PULLED_AT:
    case M_FORGE_PULLED:
        /* SignedOp's last field is the signature: its last byte changes, nothing else. */
        if (r->n_ops > 0 && (s->mode == M_FORGE_PULLED || s->syncs - 1 == s->forge_at)) {
            ProtobufCBinaryData *b = &r->ops[r->n_ops - 1]->signed_op;
            uint8_t *copy = sct_tp_alloc(ip, b->len);
            memcpy(copy, b->data, b->len);
            copy[b->len - 1] ^= 1;
            b->data = copy;
        }
        return SCT_RESEAL;
    case M_DROP_PULLED_AT:
    case M_DROP_PULLED:
        if (r->n_ops > 0 && (s->mode == M_DROP_PULLED || s->syncs - 1 == s->forge_at))
            r->n_ops--;
        return SCT_SEND;
    case M_ADD_STORED:
        /* The network backs its answers to HEAD and PUT up in the sync answer. */
        r->n_blobs_stored = q->n_blobs_wanted;
        r->blobs_stored = q->blobs_wanted;
        return SCT_SEND;
    case M_FORGE_REJECT:
        for (size_t k = 0; k < r->n_results; k++) {
            r->results[k]->status = SCPB__OP_STATUS__OP_REJECTED;
            r->results[k]->has_log_index = false;
            r->results[k]->has_reason = true;
            r->results[k]->reason = SCPB__REASON__REASON_FORBIDDEN_ROLE;
            r->results[k]->message = "forged";
        }
        return SCT_SEND;
    default:
        return SCT_SEND;
    }
}

/*
 * Pipelined rounds over the in-process transport: the default transport's
 * start/finish split (tp_async), with start serving the request at once
 * and keeping its answer, so the server has judged and logged request N+1
 * before the tablet checks answer N, as with a fast syncd.  With
 * `pipelined` set, every tablet of srv_tablet pushes two ops a round
 * through it.
 */
static struct early {
    sc_transport tp; /* the in-process transport it serves through */
    bool busy;       /* a request was started and not finished or dropped */
    sc_status s;
    sc_http_result res;
    unsigned starts, drops;
} early;
static bool pipelined;

static sc_status early_start(void *ctx, const sc_http_request *q, sc_http_result *res)
{
    ck_assert_msg(!early.busy, "a second request started before the first was finished");
    early.busy = true;
    early.starts++;
    early.s = early.tp.send(ctx, q, &early.res);
    memset(res, 0, sizeof *res);
    return SC_OK;
}

static sc_status early_finish(void *ctx, const sc_http_request *q, sc_http_result *res)
{
    (void)ctx;
    (void)q;
    ck_assert(early.busy);
    early.busy = false;
    *res = early.res;
    return early.s;
}

static void early_abandon(void *ctx)
{
    (void)ctx;
    if (early.busy)
        early.drops++;
    early.busy = false;
}

/* The in-process answer is made at the start: it is in as soon as the request is out. */
static bool early_ready(void *ctx)
{
    (void)ctx;
    return early.busy && early.s == SC_OK && early.res.status == 200;
}

static const tp_async early_async = {early_start, early_finish, early_abandon, early_ready};

static void pipeline(sc_client *c)
{
    early.tp = c->tp;
    c->tpa = &early_async;
    c->opt.batch_ops = 2;
}

/* A tablet of `login` on s's register, its requests served in process; retries none. */
static sc_client *srv_tablet(srv *s, const char *name, const char *login)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.db", s->p->tmp, name);
    sc_client_options opt = {.retries = UINT32_MAX, .timeout_ms = 2000};
    sc_client *c = sct_tp_client(s->ip, path, login, &opt);
    if (pipelined)
        pipeline(c);
    return c;
}

/*
 * A register with the fixture's org tree, targets and users (tune: its
 * settings, NULL for syncd's defaults), served in process, and inspector1's
 * tablet on it, synced once.
 */
static void srv_start_with(srv *s, void (*tune)(sd_config *cfg))
{
    memset(s, 0, sizeof *s);
    s->cut_after_chunks = s->reset_chunk = s->resend_chunk = -1;
    s->served_resend_sync = s->served_resend_chunk = -1;
    s->ip = sct_tp_open(tune);
    s->p = sct_tp_parts(s->ip);
    s->dir = s->p->tmp;
    sct_tp_hooks h = {on_request, on_sync, s};
    sct_tp_set_hooks(s->ip, &h);
    s->c = srv_tablet(s, "tablet", "inspector1");
    s->stranger = sct_key(50);
    ck_assert_msg(sc_sync(s->c, NULL, NULL, NULL) == SC_OK, "first sync: %s",
                  sc_client_errmsg(s->c));
}

static void srv_start(srv *s)
{
    srv_start_with(s, NULL);
}

static void srv_stop(srv *s)
{
    sc_client_close(s->c);
    sct_tp_close(s->ip);
    sc_keypair_free(s->stranger);
}

/* The register's photo store holds sha (hex). */
static bool srv_has_photo(const srv *s, const char *sha)
{
    char path[900];
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", s->p->data, sha, sha);
    struct stat st;
    return stat(path, &st) == 0;
}

static json_t *json_of(sc_client *c, char *json)
{
    ck_assert_ptr_nonnull(json);
    json_t *o = json_loads(json, 0, NULL);
    sc_json_free(c, json);
    ck_assert_ptr_nonnull(o);
    return o;
}

static json_t *sync_ok(sc_client *c)
{
    char *json = NULL;
    sc_status st = sc_sync(c, NULL, NULL, &json);
    ck_assert_msg(st == SC_OK, "sync: %s: %s", sc_status_name(st), sc_client_errmsg(c));
    return json_of(c, json);
}

/* A number from the tablet's status. */
static long long count(sc_client *c, const char *key)
{
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(c, &json), SC_OK);
    json_t *o = json_of(c, json);
    long long v = json_integer_value(json_object_get(o, key));
    json_decref(o);
    return v;
}

/* When the tablet's last completed sync ended (status last_sync_ms), or -1 before one. */
static long long last_sync(sc_client *c)
{
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(c, &json), SC_OK);
    json_t *o = json_of(c, json);
    json_t *v = json_object_get(o, "last_sync_ms");
    ck_assert(json_is_integer(v) || json_is_null(v));
    long long t = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
    json_decref(o);
    return t;
}

/* The size of the tablet's last verified checkpoint. */
static long long cp_size(sc_client *c)
{
    char *json = NULL;
    ck_assert_int_eq(sc_client_status(c, &json), SC_OK);
    json_t *o = json_of(c, json);
    long long v = json_integer_value(json_object_get(json_object_get(o, "checkpoint"), "size"));
    json_decref(o);
    return v;
}

/* A draft spot check on the fixture's target; id out. */
static void new_check(sc_client *c, char id[SC_ID_HEX_LEN])
{
    sc_check_params p = {.target = "T-JAHY", .kind = "spot", .disclosure = "open"};
    ck_assert_msg(sc_check_open(c, &p, id) == SC_OK, "check open: %s", sc_client_errmsg(c));
}

static void new_finding(sc_client *c, const char *check, char id[SC_ID_HEX_LEN])
{
    sc_finding_params p = {.check = check,
                           .description = "小区消防通道被车辆占用",
                           .grade = "general",
                           .category = "FIRE_LANE",
                           .responsible = "junan-garden"};
    ck_assert_msg(sc_finding_add(c, &p, id) == SC_OK, "finding add: %s", sc_client_errmsg(c));
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
    srv s;
    srv_start(&s);
    long long size0 = cp_size(s.c);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN], path[700], sha[SC_HASH_HEX_LEN];
    new_check(s.c, check);
    new_finding(s.c, check, fid);
    snprintf(path, sizeof path, "%s/p.jpg", s.dir);
    write_photo(path, 300000);
    ck_assert_int_eq(sc_photo_add(s.c, check, path, NULL, sha), SC_OK);
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rejected")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "checkpoint"), "size")),
                     size0 + 3);
    json_decref(o);
    ck_assert(srv_has_photo(&s, sha));
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 0);
    /* sc_client_standing gives status's counts without hashing the replica. */
    sc_standing st = {.size = sizeof st};
    ck_assert_int_eq(sc_client_standing(s.c, &st), SC_OK);
    ck_assert_int_eq((long long)st.proven, count(s.c, "proven"));
    ck_assert_int_eq((long long)st.outbox, 0);
    ck_assert_int_eq((long long)st.rejected, count(s.c, "rejected"));
    ck_assert_int_eq((long long)st.photos_pending_upload, 0);
    ck_assert_int_eq(st.last_sync_ms, last_sync(s.c));
    ck_assert_int_gt(st.last_sync_ms, 0);
    sc_standing bad = {.size = 3};
    ck_assert_int_eq(sc_client_standing(s.c, &bad), SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(s.c), "sc_standing"));
    char *json = NULL;
    ck_assert_int_eq(sc_show(s.c, check, &json), SC_OK);
    o = json_of(s.c, json);
    json_t *h = json_object_get(o, "history");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(h, 0), "log_index")), size0);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 0), "state")), "accepted");
    json_decref(o);
    /* Nothing new: one round trip, nothing pushed, the same checkpoint. */
    unsigned before = sct_tp_requests(s.ip);
    o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "checkpoint"), "size")),
                     size0 + 3);
    json_decref(o);
    ck_assert_uint_eq(sct_tp_requests(s.ip) - before, 1);
    /* The replica verifies, checkpoints included. */
    ck_assert_int_eq(sc_verify_replica(s.c, &json), SC_OK);
    sc_json_free(s.c, json);
    srv_stop(&s);
}
END_TEST

START_TEST(pulls_other_devices_ops_and_photos)
{
    srv s;
    srv_start(&s);
    /* Another device of the user, its enrollment pulled before anything else. */
    sc_client *g = srv_tablet(&s, "other", "inspector1");
    json_decref(sync_ok(s.c));
    json_decref(sync_ok(g));
    /* It opens an inspection and attaches a photo it uploads. */
    char insp[SC_ID_HEX_LEN], path[700], sha[SC_HASH_HEX_LEN];
    sc_check_params p = {.target = "T-JAHY", .kind = "patrol", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(g, &p, insp), SC_OK);
    snprintf(path, sizeof path, "%s/theirs.jpg", s.dir);
    write_photo(path, 5000);
    ck_assert_int_eq(sc_photo_add(g, insp, path, NULL, sha), SC_OK);
    json_t *o = sync_ok(g);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_downloaded")), 1);
    json_decref(o);
    char *json = NULL;
    ck_assert_int_eq(sc_show(s.c, insp, &json), SC_OK);
    o = json_of(s.c, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "kind")), "patrol");
    ck_assert(
        json_is_true(json_object_get(json_array_get(json_object_get(o, "photos"), 0), "present")));
    json_decref(o);
    /* Our clock observed theirs: a new op on their inspection sorts after them. */
    ck_assert_int_eq(sc_note_add(s.c, insp, "seen"), SC_OK);
    sc_client_close(g);
    srv_stop(&s);
}
END_TEST

START_TEST(rejected_ops_leave_the_state)
{
    srv s;
    srv_start(&s);
    s.c->opt.batch_ops = 1; /* one op per round trip: the dependent is judged locally */
    s.reject_kind = SCPB__OP__BODY_NOTE;
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    ck_assert_int_eq(sc_note_add(s.c, check, "first"), SC_OK);
    ck_assert_int_eq(sc_check_score(s.c, check, "A", "met", 0, 0, NULL), SC_OK);
    ck_assert_int_eq(sc_note_add(s.c, check, "second"), SC_OK);
    json_t *o = sync_ok(s.c);
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
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    ck_assert_int_eq(count(s.c, "rejected"), 3);
    char *json = NULL;
    ck_assert_int_eq(sc_show(s.c, check, &json), SC_OK);
    o = json_of(s.c, json);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "notes")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "results")), 0);
    json_t *h = json_object_get(o, "history");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 1), "state")), "rejected");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 1), "reason")),
                     "forbidden_role");
    json_decref(o);
    /* The entity still records from its accepted past. */
    ck_assert_int_eq(sc_check_score(s.c, check, "A", "met", 0, 0, NULL), SC_OK);
    srv_stop(&s);
}
END_TEST

/*
 * A create op the server refuses (an inspector whose role was taken away,
 * say): the entity never existed, so the replica keeps no state of it, and
 * syncs go on.
 */
START_TEST(rejected_create_leaves_no_entity)
{
    srv s;
    srv_start(&s);
    s.reject_kind = SCPB__OP__BODY_INSPECTION_OPEN;
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    ck_assert_int_eq(sc_note_add(s.c, check, "门岗未测温"), SC_OK);
    json_t *o = sync_ok(s.c);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rejected")), 2);
    json_decref(o);
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    char *json = NULL;
    ck_assert_int_eq(sc_show(s.c, check, &json), SC_ERR_NOT_FOUND);
    /* The next sync has nothing to say about it. */
    o = sync_ok(s.c);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rejected")), 0);
    json_decref(o);
    srv_stop(&s);
}
END_TEST

static void pull_pages_of_3(sd_config *cfg)
{
    cfg->pull_max = 3;
}

START_TEST(batches_and_more)
{
    srv s;
    srv_start_with(&s, pull_pages_of_3);
    s.c->opt.batch_ops = 2;
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(sc_note_add(s.c, check, "n"), SC_OK);
    unsigned before = sct_tp_requests(s.ip);
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 7);
    /* Everything the server sent back was ours or already here: nothing new. */
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), 0);
    json_decref(o);
    ck_assert_uint_ge(sct_tp_requests(s.ip) - before, 4); /* batches of 2 */
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    /* A new tablet pulls the whole register in pages of 3, while the server says `more`. */
    sc_client *g = srv_tablet(&s, "new", "supervisor1");
    before = sct_tp_requests(s.ip);
    o = sync_ok(g);
    ck_assert_int_ge(json_integer_value(json_object_get(o, "pulled")), 10);
    json_decref(o);
    ck_assert_uint_ge(sct_tp_requests(s.ip) - before, 4);
    sc_client_close(g);
    srv_stop(&s);
}
END_TEST

/* The sync fails with want, no report, and a message with needle. */
static void sync_fails(sc_client *c, sc_status want, const char *needle)
{
    char *json = NULL;
    sc_status st = sc_sync(c, NULL, NULL, &json);
    ck_assert_msg(st == want, "sync: %s, wanted %s: %s", sc_status_name(st), sc_status_name(want),
                  sc_client_errmsg(c));
    ck_assert_ptr_null(json);
    ck_assert_msg(strstr(sc_client_errmsg(c), needle) != NULL, "message: %s", sc_client_errmsg(c));
}

/* Nothing from a failing answer is applied; the outbox and ops stay; the message names
 * server when it is not NULL. */
static void expect_failure_from(sc_client *c, sc_status want, const char *needle,
                                const char *server)
{
    long long outbox = count(c, "outbox"), ops = count(c, "ops");
    sync_fails(c, want, needle);
    ck_assert_msg(!server || strstr(sc_client_errmsg(c), server) != NULL,
                  "the message does not name %s: %s", server, sc_client_errmsg(c));
    ck_assert_int_eq(count(c, "outbox"), outbox);
    ck_assert_int_eq(count(c, "ops"), ops);
}

static void expect_failure(sc_client *c, sc_status want, const char *needle)
{
    expect_failure_from(c, want, needle, NULL);
}

START_TEST(garbage_and_unreachable)
{
    srv s;
    srv_start(&s);
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    s.mode = M_GARBAGE;
    expect_failure(s.c, SC_ERR_PROTOCOL, "not a SyncResponse");
    /* Millions of tiny entries are refused by what decoding them would take, before the seal
     * is looked at (with no bound, unpacking these 4 MiB took some 280 MB). */
    s.mode = M_BLOAT;
    expect_failure(s.c, SC_ERR_PROTOCOL, "more than an answer to this request can hold");
    /* A server that says `more` forever without sending anything is stopped. */
    s.mode = M_OK;
    json_decref(sync_ok(s.c));
    s.mode = M_MORE_FOREVER;
    char *json = NULL;
    ck_assert_int_eq(sc_sync(s.c, NULL, NULL, &json), SC_ERR_PROTOCOL);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(s.c), "without progress"));
    ck_assert_int_eq(sc_note_add(s.c, check, "offline again"), SC_OK);
    /* Nobody answers now. */
    s.mode = M_DOWN;
    expect_failure(s.c, SC_ERR_NETWORK, "unreachable");
    srv_stop(&s);
}
END_TEST

/*
 * Another tablet of inspector1 ("other") opens an inspection (insp) and adds
 * `notes` notes to it, synced, after s's tablet synced: s's tablet has
 * notes + 1 ops to pull.  The other tablet is returned, open.
 */
static sc_client *other_inspection(srv *s, int notes, char insp[SC_ID_HEX_LEN])
{
    sc_client *g = srv_tablet(s, "other", "inspector1");
    json_decref(sync_ok(s->c));
    json_decref(sync_ok(g));
    sc_check_params p = {.target = "T-JAHY", .kind = "patrol", .disclosure = "open"};
    ck_assert_int_eq(sc_check_open(g, &p, insp), SC_OK);
    for (int i = 0; i < notes; i++)
        ck_assert_int_eq(sc_note_add(g, insp, "seen"), SC_OK);
    json_decref(sync_ok(g));
    return g;
}

/*
 * A pulled op whose signature does not verify fails the sync, and nothing
 * of its round is kept: the round is folded while its signatures are being
 * checked, and commits only after all of them verified.
 */
START_TEST(a_forged_pulled_op_keeps_its_round_out)
{
    srv s;
    srv_start(&s);
    char insp[SC_ID_HEX_LEN];
    sc_client *g = other_inspection(&s, 40, insp);
    long long cp = cp_size(s.c), synced = last_sync(s.c);
    ck_assert_int_gt(synced, 0);
    s.mode = M_FORGE_PULLED;
    expect_failure(s.c, SC_ERR_BAD_SIGNATURE, "pulled op at log index");
    ck_assert_int_eq(last_sync(s.c), synced); /* a failed sync is not a sync */
    char *json = NULL;
    ck_assert_int_eq(sc_show(s.c, insp, &json), SC_ERR_NOT_FOUND);
    ck_assert_int_eq(cp_size(s.c), cp);
    ck_assert_int_eq(sc_verify_replica(s.c, &json), SC_OK);
    sc_json_free(s.c, json);
    /* The honest answer brings the whole round. */
    s.mode = M_OK;
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), 41);
    json_decref(o);
    ck_assert_int_ge(last_sync(s.c), synced);
    ck_assert_int_eq(sc_show(s.c, insp, &json), SC_OK);
    sc_json_free(s.c, json);
    sc_client_close(g);
    srv_stop(&s);
}
END_TEST

START_TEST(history_rewrites_are_caught)
{
    srv s;
    srv_start(&s);
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    json_decref(sync_ok(s.c));
    /* The same size with another root. */
    s.mode = M_REWRITE_ROOT;
    expect_failure(s.c, SC_ERR_HISTORY_REWRITTEN, "history was rewritten");
    /* A bigger tree whose proof does not lead back to the verified root. */
    ck_assert_int_eq(sc_note_add(s.c, check, "one"), SC_OK);
    expect_failure(s.c, SC_ERR_HISTORY_REWRITTEN, "does not verify");
    s.mode = M_BAD_PROOF;
    expect_failure(s.c, SC_ERR_HISTORY_REWRITTEN, "does not verify");
    /* A log that shrank. */
    s.mode = M_SHRINK;
    expect_failure(s.c, SC_ERR_HISTORY_REWRITTEN, "fewer");
    /* An honest answer again: the pending note goes through (as a duplicate). */
    s.mode = M_OK;
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "duplicate")), 1);
    json_decref(o);
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    /* An op by a key no server-signed enrollment names is refused, and nothing applied. */
    s.mode = M_STRANGER;
    ck_assert_int_eq(sc_note_add(s.c, check, "two"), SC_OK);
    expect_failure(s.c, SC_ERR_BAD_SIGNATURE, "not an enrolled device");
    char *json = NULL;
    ck_assert_int_eq(sc_verify_replica(s.c, &json), SC_OK);
    sc_json_free(s.c, json);
    srv_stop(&s);
}
END_TEST

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
static void verify_counts(sc_client *c, long long *unproven, long long *receipts)
{
    char *json = NULL;
    sc_status st = sc_verify_replica(c, &json);
    ck_assert_msg(st == SC_OK, "verify: %s", sc_client_errmsg(c));
    json_t *o = json_of(c, json);
    ck_assert(json_is_true(json_object_get(o, "ok")));
    *unproven = json_integer_value(json_object_get(o, "unproven"));
    *receipts = json_integer_value(json_object_get(o, "receipts"));
    json_decref(o);
}

/*
 * Proof before forgetting.  Each lie below is refused with SC_ERR_UNPROVEN
 * and a message that names the server and what is wrong; nothing of the
 * answer is applied, the ops stay in the outbox and count as unproven, and
 * the next honest answer proves each of them (logged once: a duplicate).
 */
START_TEST(answers_without_proof_change_nothing)
{
    srv s;
    srv_start(&s);
    long long size0 = cp_size(s.c);
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    ck_assert_int_eq(sc_note_add(s.c, check, "one"), SC_OK);
    ck_assert_int_eq(sc_note_add(s.c, check, "two"), SC_OK);
    ids pending = {0};
    ck_assert_int_eq(st_outbox_each(s.c, outbox_visit, &pending), SC_OK);
    ck_assert_uint_eq(pending.n, 3);
    const struct {
        enum mode mode;
        const char *why;
    } lies[] = {
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
        expect_failure_from(s.c, SC_ERR_UNPROVEN, lies[i].why, "http://in-process");
        ck_assert_int_eq(count(s.c, "outbox"), 3);
        long long unproven, receipts;
        verify_counts(s.c, &unproven, &receipts);
        ck_assert_int_eq(unproven, 3);
        ck_assert_int_eq(receipts, 0); /* nothing of ours was ever proven */
    }
    s.mode = M_OK;
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "duplicate")), 3);
    long long rounds = (long long)json_array_size(json_object_get(o, "rounds"));
    json_decref(o);
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    /* Eight pushes of the same three ops, and the log holds each once. */
    ck_assert_int_eq(cp_size(s.c), size0 + 3);
    long long unproven, receipts;
    verify_counts(s.c, &unproven, &receipts);
    ck_assert_int_eq(unproven, 0);
    ck_assert_int_eq(receipts, rounds); /* one a round: one, or two when pipelined */
    srv_stop(&s);
}
END_TEST

/* A pulled op dropped (or any pulled op changed) after the server sealed the answer. */
START_TEST(thinned_pulls_are_refused)
{
    srv s;
    srv_start(&s);
    sc_client *g = srv_tablet(&s, "other", "inspector1");
    json_decref(sync_ok(s.c));
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    json_decref(sync_ok(s.c));
    /* The user's other device adds two notes on the check; they arrive with the next pull. */
    json_decref(sync_ok(g));
    ck_assert_int_eq(sc_note_add(g, check, "theirs"), SC_OK);
    ck_assert_int_eq(sc_note_add(g, check, "theirs"), SC_OK);
    json_decref(sync_ok(g));
    uint8_t *cursor_before = NULL;
    size_t cl = 0;
    ck_assert_int_eq(st_meta_get_alloc(s.c, "cursor", &cursor_before, &cl), SC_OK);
    long long ops = count(s.c, "ops");
    s.mode = M_DROP_PULLED;
    expect_failure(s.c, SC_ERR_UNPROVEN, "pulled ops differ");
    /* The cursor and the checkpoint stayed: the next honest pull brings both. */
    uint8_t *cursor_after = NULL;
    size_t cl2 = 0;
    ck_assert_int_eq(st_meta_get_alloc(s.c, "cursor", &cursor_after, &cl2), SC_OK);
    ck_assert_uint_eq(cl, cl2);
    ck_assert_mem_eq(cursor_before, cursor_after, cl);
    sc_free(&s.c->env, cursor_before);
    sc_free(&s.c->env, cursor_after);
    s.mode = M_OK;
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), 2);
    json_decref(o);
    ck_assert_int_eq(count(s.c, "ops"), ops + 2);
    sc_client_close(g);
    srv_stop(&s);
}
END_TEST

/*
 * Ours ops the server logged but whose answer never came (lost), met again
 * in a pull before they were pushed again, stay in the outbox: a pull is
 * not a receipt.  They go again and are proven as duplicates.
 */
START_TEST(own_ops_pulled_stay_until_proven)
{
    srv s;
    srv_start(&s);
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    ck_assert_int_eq(sc_note_add(s.c, check, "lost answer"), SC_OK);
    ids pending = {0};
    ck_assert_int_eq(st_outbox_each(s.c, outbox_visit, &pending), SC_OK);
    ck_assert_uint_eq(pending.n, 2);
    /* Both reach the log; the answer is lost. */
    s.mode = M_LOSE;
    expect_failure(s.c, SC_ERR_NETWORK, "lost");
    s.mode = M_OK;
    ck_assert_int_eq(count(s.c, "outbox"), 2);
    /* One op a round: round 1 pushes the check and pulls the note, which stays queued;
     * round 2 proves it. */
    s.c->opt.batch_ops = 1;
    unsigned before = sct_tp_requests(s.ip);
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "duplicate")), 2);
    json_decref(o);
    ck_assert_uint_ge(sct_tp_requests(s.ip) - before, 2);
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    long long unproven, receipts;
    verify_counts(s.c, &unproven, &receipts);
    ck_assert_int_eq(unproven, 0);
    ck_assert_int_eq(receipts, 2);
    srv_stop(&s);
}
END_TEST

/*
 * The log endpoints: set-url asks the register at the new URL for its
 * checkpoint and, the log having grown, a proof that it extends the
 * replica's; the replica keeps everything and syncs there.
 */
START_TEST(set_url_proves_the_log_in_process)
{
    srv s;
    srv_start(&s);
    sc_client *g = srv_tablet(&s, "other", "inspector1");
    json_decref(sync_ok(g));
    char check[SC_ID_HEX_LEN];
    new_check(g, check);
    json_decref(sync_ok(g));
    long long ops = count(s.c, "ops"), size = cp_size(s.c);
    unsigned before = sct_tp_requests(s.ip);
    char *json = NULL;
    sc_status st = sc_server_set_url(s.c, "http://in-process-2", &json);
    ck_assert_msg(st == SC_OK, "set-url: %s: %s", sc_status_name(st), sc_client_errmsg(s.c));
    json_t *o = json_of(s.c, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "server")), "http://in-process-2");
    ck_assert_str_eq(json_string_value(json_object_get(o, "previous")), "http://in-process");
    ck_assert_int_gt(json_integer_value(json_object_get(json_object_get(o, "checkpoint"), "size")),
                     size);
    json_decref(o);
    ck_assert_uint_eq(sct_tp_requests(s.ip) - before, 2); /* the checkpoint and the proof */
    ck_assert_int_eq(count(s.c, "ops"), ops);
    ck_assert_int_eq(cp_size(s.c), size);
    o = sync_ok(s.c);
    ck_assert_int_ge(json_integer_value(json_object_get(o, "pulled")), 1);
    json_decref(o);
    sc_client_close(g);
    srv_stop(&s);
}
END_TEST

START_TEST(upload_resumes_from_the_server_offset)
{
    srv s;
    srv_start(&s);
    s.c->opt.chunk_bytes = 4096;
    s.cut_after_chunks = 2;
    char check[SC_ID_HEX_LEN], path[700], sha[SC_HASH_HEX_LEN];
    new_check(s.c, check);
    snprintf(path, sizeof path, "%s/p.jpg", s.dir);
    write_photo(path, 20000);
    ck_assert_int_eq(sc_photo_add(s.c, check, path, NULL, sha), SC_OK);
    /* The third chunk is refused: the sync reports the photo, which stays pending. */
    json_t *o = sync_ok(s.c);
    photo_was_refused(o, sha, 400, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 0);
    json_decref(o);
    ck_assert_int_eq(count(s.c, "outbox"), 0); /* the ops went through before the photos */
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 1);
    ck_assert_int_eq(s.puts, 3);
    o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    ck_assert(srv_has_photo(&s, sha));
    /* 3 more from 8192, where syncd's offset was, not 5 from 0. */
    ck_assert_int_eq(s.puts, 6);
    ck_assert_uint_eq(s.chunk_start[3], 8192);
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 0);
    srv_stop(&s);
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
    srv s;
    srv_start(&s);
    s.c->opt.retries = 3;
    s.c->opt.backoff_ms = 10;
    s.c->opt.sleep_ms = record_sleep;
    nslept = 0;
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    s.mode = M_UNAVAILABLE;
    expect_failure(s.c, SC_ERR_UNAVAILABLE, "disk full");
    ck_assert_int_eq(s.requests503, 4); /* the first try and three retries */
    ck_assert_uint_eq(nslept, 3);
    ck_assert_uint_eq(slept[0], 10);
    ck_assert_uint_eq(slept[1], 20);
    ck_assert_uint_eq(slept[2], 40);
    s.mode = M_OK;
    json_decref(sync_ok(s.c));
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    srv_stop(&s);
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

/* A photo of size bytes (tag makes it unique) on check; sha (may be NULL) gets its hash. */
static void add_photo_sha(srv *s, const char *check, size_t size, int tag,
                          char sha[SC_HASH_HEX_LEN])
{
    char path[700];
    snprintf(path, sizeof path, "%s/p%d.jpg", s->dir, tag);
    write_photo(path, size);
    FILE *fp = fopen(path, "r+b");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, 4, SEEK_SET), 0);
    ck_assert_int_eq(fprintf(fp, "%08d", tag), 8);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_int_eq(sc_photo_add(s->c, check, path, NULL, sha), SC_OK);
}

static void add_photo(srv *s, const char *check, size_t size, int tag)
{
    add_photo_sha(s, check, size, tag, NULL);
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
    int got = s->nchunks;
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
    srv s;
    srv_start(&s);
    s.c->mono_ms = step_mono;
    mono_step = 5;
    char check[SC_ID_HEX_LEN], sha[4][SC_HASH_HEX_LEN];
    new_check(s.c, check);
    for (int i = 0; i < 3; i++)
        add_photo_sha(&s, check, 4000000, i, sha[i]);
    json_t *o = sync_ok(s.c);
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
    add_photo_sha(&s, check, 20000000, 3, sha[3]);
    o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    const size_t big[] = {MiB, 2 * MiB, 4 * MiB, 8 * MiB, 20000000 - 15 * MiB};
    expect_chunks(&s, "the next sync", 5, big, 5);
    for (int i = 0; i < 4; i++)
        ck_assert(srv_has_photo(&s, sha[i]));
    srv_stop(&s);
}
END_TEST

START_TEST(upload_chunks_keep_their_size_on_a_slow_link)
{
    srv s;
    srv_start(&s);
    s.c->mono_ms = step_mono;
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    /* Every chunk takes exactly the threshold: not fast, so none grows. */
    mono_step = SC_CL_CHUNK_FAST_MS;
    add_photo(&s, check, 4000000, 0);
    json_decref(sync_ok(s.c));
    const size_t slow[] = {MiB, MiB, MiB, 4000000 - 3 * MiB};
    expect_chunks(&s, "chunks of 1 s", 0, slow, 4);
    /* A millisecond less is fast. */
    mono_step = SC_CL_CHUNK_FAST_MS - 1;
    add_photo(&s, check, 4000000, 1);
    json_decref(sync_ok(s.c));
    const size_t fast[] = {MiB, 2 * MiB, 4000000 - 3 * MiB};
    expect_chunks(&s, "chunks of 999 ms", 4, fast, 3);
    srv_stop(&s);
}
END_TEST

START_TEST(upload_chunks_stay_under_the_callers_ceiling)
{
    srv s;
    srv_start(&s);
    s.c->mono_ms = step_mono;
    mono_step = 0;
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    /* A ceiling between the steps: the chunks grow to it and stay there. */
    s.c->opt.chunk_bytes = 3 * MiB;
    add_photo(&s, check, 12000000, 0);
    json_decref(sync_ok(s.c));
    const size_t capped[] = {MiB, 2 * MiB, 3 * MiB, 3 * MiB, 12000000 - 9 * MiB};
    expect_chunks(&s, "a 3 MiB ceiling", 0, capped, 5);
    /* A ceiling under the 1 MiB start is the start too: every chunk is that small. */
    s.c->opt.chunk_bytes = 64 * 1024;
    add_photo(&s, check, 300000, 1);
    json_decref(sync_ok(s.c));
    const size_t small[] = {65536, 65536, 65536, 65536, 300000 - 4 * 65536};
    expect_chunks(&s, "a 64 KiB ceiling", 5, small, 5);
    srv_stop(&s);
}
END_TEST

START_TEST(upload_chunk_size_starts_over_after_a_cut)
{
    srv s;
    srv_start(&s);
    s.c->mono_ms = step_mono;
    mono_step = 5;
    s.c->opt.retries = 2;
    s.c->opt.sleep_ms = record_sleep;
    nslept = 0;
    s.reset_chunk = 2; /* the 4 MiB chunk */
    char check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN];
    new_check(s.c, check);
    add_photo_sha(&s, check, 12000000, 0, sha);
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    ck_assert_uint_eq(nslept, 1); /* one wait, then the cut chunk's bytes went again */
    /*
     * They go again from 1 MiB, and the chunks after them grow to half the
     * cut one at most.
     */
    const size_t cut[] = {MiB,     2 * MiB, 4 * MiB, MiB,
                          2 * MiB, 2 * MiB, 2 * MiB, 12000000 - 10 * MiB};
    expect_chunks(&s, "a cut", 0, cut, 8);
    ck_assert(srv_has_photo(&s, sha));
    srv_stop(&s);
}
END_TEST

/*
 * On a kept-alive connection that dies before the answer, libcurl sends the
 * request again on a new one by itself: no network failure reaches the
 * sync, but the chunk was cut all the same.
 */
START_TEST(upload_chunk_size_starts_over_after_libcurl_resends)
{
    srv s;
    srv_start(&s);
    s.c->mono_ms = step_mono;
    mono_step = 5;
    s.resend_chunk = 2;
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    add_photo(&s, check, 12000000, 0);
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    const size_t cut[] = {MiB, 2 * MiB, 4 * MiB, 4 * MiB, MiB, 2 * MiB, 12000000 - 10 * MiB};
    expect_chunks(&s, "a cut libcurl mended", 0, cut, 7);
    srv_stop(&s);
}
END_TEST

/*
 * libcurl's resend when syncd had the first copy: the same bytes, the same
 * nonce, refused 401 nonce_used.  The client signs the request again with
 * a new nonce, once, and the push and the photo go through, each op logged
 * once.
 */
START_TEST(a_request_served_then_resent_is_signed_again)
{
    srv s;
    srv_start(&s);
    long long size0 = cp_size(s.c);
    char check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN];
    new_check(s.c, check);
    add_photo_sha(&s, check, 3 * MiB, 0, sha);
    s.served_resend_sync = s.syncs;
    s.served_resend_chunk = 1;
    unsigned before = sct_tp_requests(s.ip);
    json_t *o = sync_ok(s.c);
    /* The first copy logged the ops; the copy signed again finds them logged. */
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "duplicate")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "checkpoint"), "size")),
                     size0 + 2);
    json_decref(o);
    ck_assert_int_eq(s.served_resend_sync, -1);
    ck_assert_int_eq(s.served_resend_chunk, -1);
    ck_assert(srv_has_photo(&s, sha));
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 0);
    /* Each resent request came back signed anew: two copies served, a third signed again. */
    ck_assert_uint_ge(sct_tp_requests(s.ip) - before, 2 + 3);
    srv_stop(&s);
}
END_TEST

/*
 * A 409 that leaves the offset where it was (syncd still holds a cut
 * upload of the photo) is waited out with the retry backoff, not sent
 * again at once; past the retries the sync stops, the photo pending.
 */
START_TEST(upload_waits_while_the_server_is_busy)
{
    srv s;
    srv_start(&s);
    s.c->opt.retries = 3;
    s.c->opt.backoff_ms = 10;
    s.c->opt.sleep_ms = record_sleep;
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    json_decref(sync_ok(s.c));
    add_photo(&s, check, 3000000, 0);
    nslept = 0;
    s.busy_puts = 2;
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    ck_assert_uint_eq(nslept, 2);
    ck_assert_uint_eq(slept[0], 10);
    ck_assert_uint_eq(slept[1], 20);

    char sha[SC_HASH_HEX_LEN];
    add_photo_sha(&s, check, 3000000, 1, sha);
    nslept = 0;
    s.busy_puts = 100;
    o = sync_ok(s.c);
    photo_was_refused(o, sha, 409, NULL);
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(
                   json_array_get(json_object_get(o, "photos_refused"), 0), "message")),
               "still busy with an earlier upload of this photo"));
    json_decref(o);
    ck_assert_uint_eq(nslept, 3);
    ck_assert_uint_eq(slept[2], 40);
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 1);
    s.busy_puts = 0;
    json_decref(sync_ok(s.c));
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 0);
    srv_stop(&s);
}
END_TEST

/* Photo sha (hex) is among those `outbox` says wait to go up (BL_UPLOAD). */
static bool photo_waits(sc_client *c, const char *sha)
{
    char *json = NULL;
    ck_assert_int_eq(sc_outbox(c, 0, &json), SC_OK);
    json_t *o = json_of(c, json), *p;
    size_t i;
    bool found = false;
    json_array_foreach(json_object_get(o, "photos_waiting"), i, p)
        found = found || strcmp(json_string_value(json_object_get(p, "sha256")), sha) == 0;
    json_decref(o);
    return found;
}

/* A sync that uploaded nothing, and leaves photo sha waiting, not on the server. */
static void nothing_uploaded(srv *s, const char *sha)
{
    json_t *o = sync_ok(s->c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "photos_refused")), 0);
    json_decref(o);
    ck_assert(!srv_has_photo(s, sha));
    ck_assert_int_eq(count(s->c, "photos_pending_upload"), 1);
    ck_assert(photo_waits(s->c, sha));
}

/*
 * A photo whose op syncd refused: no op of the tablet's brings it any more,
 * and no sealed answer could ever list it (no op the device can see names
 * it), so it is not sent and no longer waits, and later syncs send nothing
 * for it either.  The same photo attached again by an accepted op goes up.
 */
START_TEST(photo_of_a_refused_op_is_not_sent)
{
    srv s;
    srv_start(&s);
    char check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN];
    new_check(s.c, check);
    json_decref(sync_ok(s.c));
    s.reject_kind = SCPB__OP__BODY_PHOTO_ATTACH;
    add_photo_sha(&s, check, 20000, 0, sha);
    int syncs = s.syncs;
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rejected")), 1);
    json_decref(o);
    ck_assert_int_eq(s.nchunks, 0);
    ck_assert(!srv_has_photo(&s, sha));
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 0);
    ck_assert(!photo_waits(s.c, sha));
    /* One round: nothing to confirm. */
    ck_assert_int_eq(s.syncs - syncs, 1);
    syncs = s.syncs;
    json_decref(sync_ok(s.c));
    ck_assert_int_eq(s.nchunks, 0);
    ck_assert_int_eq(s.syncs - syncs, 1);
    /* Attached again, and accepted this time: it goes up and is done. */
    s.reject_kind = 0;
    add_photo_sha(&s, check, 20000, 0, sha);
    o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    ck_assert(srv_has_photo(&s, sha));
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 0);
    srv_stop(&s);
}
END_TEST

/*
 * Answers to HEAD and PUT are not sealed: a network on the way that
 * answers a photo's HEAD "stored" (200), or its chunk "complete" (201),
 * without syncd storing it, spares the tablet that upload for the sync but
 * does not finish the photo.  It stays pending until a sealed sync answer
 * lists it as stored (one more round trip after the uploads), and the next
 * honest sync uploads it.  A network that also adds it to a sync answer's
 * blobs_stored breaks the seal.
 */
START_TEST(unsealed_photo_answers_finish_no_photo)
{
    srv s;
    srv_start(&s);
    char check[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN], sha2[SC_HASH_HEX_LEN];
    new_check(s.c, check);
    add_photo_sha(&s, check, 20000, 0, sha);
    s.forged_heads = 1;
    int syncs = s.syncs;
    nothing_uploaded(&s, sha);
    ck_assert_int_eq(s.forged_heads, 0);
    ck_assert_int_eq(s.nchunks, 0);
    /* The round that pushed the ops, and one asking about the photo. */
    ck_assert_int_eq(s.syncs - syncs, 2);
    /* Its one chunk answered 201 in syncd's place: the same. */
    s.forged_puts = 1;
    nothing_uploaded(&s, sha);
    ck_assert_int_eq(s.forged_puts, 0);
    ck_assert_int_eq(s.nchunks, 1);
    /* Honest answers: it goes up, and the sealed answer after it makes it done. */
    syncs = s.syncs;
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rounds")), 2);
    json_decref(o);
    ck_assert_int_eq(s.syncs - syncs, 2);
    ck_assert_int_eq(s.nchunks, 2);
    ck_assert(srv_has_photo(&s, sha));
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 0);
    ck_assert(!photo_waits(s.c, sha));
    /* Done: the next sync neither sends it nor asks about it, one round trip. */
    syncs = s.syncs;
    unsigned before = sct_tp_requests(s.ip);
    o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 0);
    json_decref(o);
    ck_assert_uint_eq(sct_tp_requests(s.ip) - before, 1);

    /* A network that lies about HEAD and in the sync answer: refused, the photo waits. */
    add_photo_sha(&s, check, 30000, 1, sha2);
    s.forged_heads = 1;
    s.mode = M_ADD_STORED;
    char *json = NULL;
    sc_status st = sc_sync(s.c, NULL, NULL, &json);
    ck_assert_msg(st == SC_ERR_UNPROVEN, "sync: %s: %s", sc_status_name(st),
                  sc_client_errmsg(s.c));
    ck_assert_ptr_null(json);
    ck_assert_ptr_nonnull(strstr(sc_client_errmsg(s.c), "refused the answer of"));
    ck_assert_int_eq(s.forged_heads, 0);
    ck_assert(!srv_has_photo(&s, sha2));
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 1);
    ck_assert(photo_waits(s.c, sha2));
    s.mode = M_OK;
    o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 1);
    json_decref(o);
    ck_assert(srv_has_photo(&s, sha2));
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 0);
    ck_assert_int_eq(sc_verify_replica(s.c, &json), SC_OK);
    sc_json_free(s.c, json);
    srv_stop(&s);
}
END_TEST

static void chunk_max_2mib(sd_config *cfg)
{
    cfg->blob_chunk_max = 2 * MiB;
}

/* A syncd whose blobs.chunk_max is under the ceiling: the sync keeps under it. */
START_TEST(upload_chunks_shrink_to_the_servers_limit)
{
    srv s;
    srv_start_with(&s, chunk_max_2mib);
    s.c->mono_ms = step_mono;
    mono_step = 5;
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    add_photo(&s, check, 8000000, 0);
    add_photo(&s, check, 4000000, 1);
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "photos_uploaded")), 2);
    json_decref(o);
    /*
     * Whichever photo goes first, one 4 MiB chunk is refused and sent again
     * in 2 MiB halves, and no later chunk of the sync tries 4 MiB again.
     */
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 0);
    int n = s.nchunks;
    size_t most = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        most = s.chunk_len[i] > most ? s.chunk_len[i] : most;
        refused += s.chunk_len[i] > 2 * MiB;
    }
    char seen[1024];
    lengths_text(s.chunk_len, n, seen, sizeof seen);
    ck_assert_msg(refused == 1 && most == 4 * MiB, "chunk lengths%s", seen);
    /* Under the start size a 413 is final for the photo, and the sync says so. */
    s.p->cfg.blob_chunk_max = 512 * 1024; /* syncd's service reads its settings live */
    char sha[SC_HASH_HEX_LEN];
    add_photo_sha(&s, check, 4000000, 2, sha);
    o = sync_ok(s.c);
    photo_was_refused(o, sha, 413, "too_large");
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(
                   json_array_get(json_object_get(o, "photos_refused"), 0), "message")),
               "photo upload: server answered 413"));
    json_decref(o);
    ck_assert_int_eq(count(s.c, "photos_pending_upload"), 1);
    srv_stop(&s);
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
    char check[SC_ID_HEX_LEN]; /* an inspection for the photos */
    uint64_t cut_at;           /* reset the next request once the upload reaches this offset */
    unsigned slept;            /* waits before a cut chunk's bytes went again */
    sc_client *watch;          /* a handle whose waits must come outside its transactions */
    unsigned slept_in_txn;     /* waits while watch held the replica's write transaction */
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
    /* A backoff is a wait on the network: never with the replica's write lock held. */
    if (l->watch && l->watch->db && !sqlite3_get_autocommit((sqlite3 *)l->watch->db))
        l->slept_in_txn++;
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
    sc_check_params p = {
        .target = "T-JAHY", .kind = "spot", .disclosure = "open", .relation = "superior"};
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
    uint64_t bytes_from; /* proxy bytes when the sync started */
    atomic_int fired;    /* the interrupt was sent */
    atomic_int stop;     /* the sync returned without needing one */
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

/*
 * Pipelined rounds (sync.c, exchange_follow): the next request goes out
 * before an answer is checked, and the lies, rewrites, rejections and
 * pages of the tests above end exactly as they do one round at a time.
 * Each variant checks that requests really went out early.
 */
#define PIPELINED(name)                                                                            \
    START_TEST(name##_pipelined)                                                                   \
    {                                                                                              \
        memset(&early, 0, sizeof early);                                                           \
        pipelined = true;                                                                          \
        name##_fn(0);                                                                              \
        pipelined = false;                                                                         \
        ck_assert_uint_gt(early.starts, 0);                                                        \
    }                                                                                              \
    END_TEST
PIPELINED(answers_without_proof_change_nothing)
PIPELINED(history_rewrites_are_caught)
PIPELINED(rejected_ops_leave_the_state)
PIPELINED(batches_and_more)
PIPELINED(a_forged_pulled_op_keeps_its_round_out)
PIPELINED(own_ops_pulled_stay_until_proven)

/*
 * A tablet catching up in pages of 3 (13 new ops: five answers), pipelined:
 * each answer behind one that pulled ops is finished and checked while that
 * round commits.  The forged answer is the `at`-th (0-based) of the pull.
 */
static void forged_page(srv *s, int at, enum mode how, long long *cp0, long long *synced)
{
    char insp[SC_ID_HEX_LEN];
    sc_client_close(other_inspection(s, 12, insp));
    *cp0 = cp_size(s->c);
    *synced = last_sync(s->c);
    memset(&early, 0, sizeof early);
    pipeline(s->c);
    s->c->checked_behind = 0;
    s->forge_at = s->syncs + at;
    s->mode = how;
}

/* The sync fails with want and a message with needle, having applied `kept` more ops. */
static void expect_failure_keeping(sc_client *c, sc_status want, const char *needle,
                                   long long kept)
{
    long long ops = count(c, "ops");
    sync_fails(c, want, needle);
    ck_assert_int_eq(count(c, "ops"), ops + kept);
}

/* The honest answers bring the rest, and the replica verifies. */
static void forged_page_mended(srv *s, long long cp0, long long pulled)
{
    s->mode = M_OK;
    json_t *o = sync_ok(s->c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pulled")), pulled);
    json_decref(o);
    ck_assert_int_eq(cp_size(s->c), cp0 + 13);
    char *json = NULL;
    ck_assert_int_eq(sc_verify_replica(s->c, &json), SC_OK);
    sc_json_free(s->c, json);
}

/*
 * The pull of forged_page, its answer `at` spoilt by `how`: the sync fails
 * with want and a message that names the spoilt answer's last op (its log
 * index) or says `says`, the `kept` ops of the rounds before it are kept and
 * nothing after, at least two answers were checked behind a round, and the
 * honest answers then bring the rest.
 */
static void spoilt_page(int at, enum mode how, sc_status want, const char *says, long long kept)
{
    srv s;
    srv_start_with(&s, pull_pages_of_3);
    long long cp0, synced;
    forged_page(&s, at, how, &cp0, &synced);
    char needle[64];
    if (says)
        snprintf(needle, sizeof needle, "%s", says);
    else
        snprintf(needle, sizeof needle, "pulled op at log index %lld:", cp0 + 3 * at + 2);
    expect_failure_keeping(s.c, want, needle, kept);
    ck_assert_uint_ge(s.c->checked_behind, 2);
    ck_assert_int_eq(last_sync(s.c), synced);
    ck_assert_uint_eq(early.drops, 0); /* nothing went out behind the spoilt answer */
    forged_page_mended(&s, cp0, 13 - kept);
    srv_stop(&s);
}

/*
 * The third answer is forged: it was checked behind the second while that
 * one committed, so the two before it are kept and it is not, and the sync
 * fails with its own error, not hidden by the commit that followed.
 */
START_TEST(a_forged_answer_checked_behind_a_round_keeps_only_itself_out)
{
    spoilt_page(2, M_FORGE_PULLED_AT, SC_ERR_BAD_SIGNATURE, NULL, 6);
}
END_TEST

/*
 * The third answer lost an op after it was sealed: its seal check fails
 * while the second round commits, and that failure, message and all, is
 * the sync's once the second round is in.
 */
START_TEST(an_answer_failing_its_seal_behind_a_round_fails_the_sync_after_it)
{
    spoilt_page(2, M_DROP_PULLED_AT, SC_ERR_UNPROVEN, "pulled ops differ", 6);
}
END_TEST

/*
 * The second answer is forged, and the third was checked behind it, inside
 * its transaction: both go, only the first round is kept, and the error is
 * the forged op's.
 */
START_TEST(a_forged_round_takes_the_answer_checked_behind_it)
{
    spoilt_page(1, M_FORGE_PULLED_AT, SC_ERR_BAD_SIGNATURE, NULL, 3);
}
END_TEST

/*
 * An answer that fails its checks while the next request is already out:
 * the sync fails, that request's answer is never read, and every op of
 * both stays in the outbox.  What the server logged of the second comes
 * back as duplicates with the next honest sync, proven like the rest.
 */
START_TEST(a_bad_answer_drops_the_request_behind_it)
{
    srv s;
    srv_start(&s);
    memset(&early, 0, sizeof early);
    pipeline(s.c);
    s.c->opt.batch_ops = 1;
    long long size0 = cp_size(s.c);
    char check[SC_ID_HEX_LEN];
    new_check(s.c, check);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(sc_note_add(s.c, check, "n"), SC_OK);
    int syncs = s.syncs;
    s.mode = M_BAD_RECEIPT;
    expect_failure_from(s.c, SC_ERR_UNPROVEN, "does not verify", "http://in-process");
    /* The first answer failed; the second request had gone out and was dropped unread. */
    ck_assert_int_eq(s.syncs - syncs, 2);
    ck_assert_uint_eq(early.starts, 2);
    ck_assert_uint_eq(early.drops, 1);
    ck_assert_int_eq(count(s.c, "outbox"), 5);
    long long unproven, receipts;
    verify_counts(s.c, &unproven, &receipts);
    ck_assert_int_eq(unproven, 5);
    ck_assert_int_eq(receipts, 0);
    s.mode = M_OK;
    json_t *o = sync_ok(s.c);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "pushed")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "duplicate")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 3);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "rounds")), 5);
    json_decref(o);
    ck_assert_int_eq(count(s.c, "outbox"), 0);
    ck_assert_int_eq(cp_size(s.c), size0 + 5);
    verify_counts(s.c, &unproven, &receipts);
    ck_assert_int_eq(unproven, 0);
    ck_assert_int_eq(receipts, 5);
    srv_stop(&s);
}
END_TEST

/* The tablet opened again, four ops a round: its next request opens a new connection, which
 * the proxy serves under its options of the time. */
static void live_reopen(live *l)
{
    char path[600], err[256];
    sc_client_close(l->c);
    snprintf(path, sizeof path, "%s/tablet.db", l->tmp);
    sc_client_options opt = {
        .sleep_ms = live_sleep, .ctx = l, .retries = 5, .backoff_ms = 200, .batch_ops = 4};
    ck_assert_msg(sc_client_open(path, &opt, &l->c, err, sizeof err) == SC_OK, "open: %s", err);
    l->c->mono_ms = step_mono;
    ck_assert_ptr_nonnull(l->c->tpa); /* the default transport can start and finish later */
}

/* Every op of the tablet went into the log once: nothing queued, the log size0 + n, all proven. */
static void live_expect_logged(live *l, long long size0, long long n)
{
    ck_assert_int_eq(count(l->c, "outbox"), 0);
    ck_assert_int_eq(cp_size(l->c), size0 + n);
    long long unproven, receipts;
    verify_counts(l->c, &unproven, &receipts);
    ck_assert_int_eq(unproven, 0);
}

/*
 * A fresh tablet pulls 600 ops from syncd in pages of 100 through libcurl,
 * each answer behind a round checked while that round commits when it is
 * found in (curl_ready, never waiting), else in its turn: it gets every op,
 * and its replica verifies; then again through cuts on the way, where an
 * answer cut behind a round leaves that round committed and is sent again.
 */
START_TEST(pulls_checked_behind_rounds_against_syncd)
{
    live l;
    live_start(&l, "sync.pull_max = 100");
    for (int i = 0; i < 599; i++)
        ck_assert_int_eq(sc_note_add(l.c, l.check, "n"), SC_OK);
    live_sync(&l);
    long long size = cp_size(l.c);
    char path[600], url[64], code[64], err[256];
    sct_proxy_url(l.px, url, sizeof url);
    const sct_proxy_opts cuts[] = {
        l.clean, {.seed = 5, .truncate_pct = 30, .reset_pct = 20, .cut_max = 4096, .faults_max = 3}};
    for (int k = 0; k < 2; k++) {
        sct_proxy_set_opts(l.px, &cuts[k]);
        snprintf(path, sizeof path, "%s/fresh%d.db", l.tmp, k);
        sc_client_options opt = {.sleep_ms = live_sleep, .ctx = &l, .retries = 5, .backoff_ms = 50};
        sc_client *g = NULL;
        ck_assert_msg(sc_client_open(path, &opt, &g, err, sizeof err) == SC_OK, "open: %s", err);
        sct_fixture_code(l.data, "auditor1", code, sizeof code);
        /* The clean pull goes to syncd itself, the other through the proxy's cuts. */
        ck_assert_msg(sc_enroll(g, k ? url : l.sv.url, code, k ? "cut" : "clean", NULL, 0, NULL) ==
                          SC_OK,
                      "enroll: %s", sc_client_errmsg(g));
        ck_assert_ptr_nonnull(g->tpa);
        l.watch = g;
        sc_status st = sc_sync(g, NULL, NULL, NULL);
        ck_assert_msg(st == SC_OK, "pull %d: %s: %s", k, sc_status_name(st), sc_client_errmsg(g));
        ck_assert_uint_eq(l.slept_in_txn, 0);
        l.watch = NULL;
        ck_assert_int_ge(cp_size(g), size);
        if (k == 1) {
            sct_proxy_stats ps;
            sct_proxy_get_stats(l.px, &ps);
            ck_assert_uint_ge(ps.truncations + ps.resets, 1);
        }
        /* How many answers were in when their round was applied depends on the machine. */
        printf("client/sync: pull %s: %u answers checked behind their rounds\n",
               k ? "through cuts" : "from syncd", g->checked_behind);
        char *json = NULL;
        ck_assert_int_eq(sc_verify_replica(g, &json), SC_OK);
        sc_json_free(g, json);
        ck_assert_int_eq(sc_show(g, l.check, &json), SC_OK);
        json_t *o = json_loads(json, 0, NULL);
        sc_json_free(g, json);
        ck_assert_ptr_nonnull(o);
        json_decref(o);
        sc_client_close(g);
    }
    live_stop(&l);
    sct_rmtree(l.tmp);
}
END_TEST

/*
 * An answer cut in its head, before its length, reads to libcurl as a
 * whole 200 with no body; the transport calls it cut (cut_unframed) and
 * sends the request again.  tp_call_ready must not call it in: a pulled
 * round that asks would otherwise finish it, retries, backoff sleeps and
 * all, inside its transaction, which holds the replica's write lock
 * (check_behind).  A whole answer is in within the same wait, so "not in"
 * is the cut's doing, not the clock's.  Cut after the status line, after
 * the first header line, and inside the second.
 */
START_TEST(answer_cut_in_its_head_is_not_in)
{
    live l;
    live_start(&l, NULL);
    Scpb__SyncRequest rq = SCPB__SYNC_REQUEST__INIT;
    size_t len = scpb__sync_request__get_packed_size(&rq);
    uint8_t *body = malloc(len + 1);
    ck_assert_ptr_nonnull(body);
    scpb__sync_request__pack(&rq, body);
    const uint32_t cuts[] = {0, 17, 49, 60};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        sct_proxy_opts o = {.seed = 1, .truncate_pct = 100, .faults_max = 1,
                            .cut_answer_at = cuts[k]};
        sct_proxy_set_opts(l.px, cuts[k] ? &o : &l.clean);
        sct_proxy_stats before, now;
        sct_proxy_get_stats(l.px, &before);
        tp_resp resp;
        memset(&resp, 0, sizeof resp);
        tp_pending *p = NULL;
        ck_assert_int_eq(tp_call_start(l.c, "/v1/sync", body, len, SC_CL_RESPONSE_MAX, &resp, &p),
                         SC_OK);
        /* Asked every 10 ms for up to 5 s; once the proxy cut the answer, 0.5 s more. */
        bool in = false;
        for (int i = 0, after = 0; i < 500 && !in && after < 50; i++) {
            in = tp_call_ready(l.c, p);
            sct_proxy_get_stats(l.px, &now);
            after += now.cut_responses > before.cut_responses;
            sct_sleep_ms(10);
        }
        sct_proxy_get_stats(l.px, &now);
        if (cuts[k]) {
            ck_assert_uint_eq(now.cut_responses, before.cut_responses + 1);
            ck_assert_msg(!in, "an answer cut after %u bytes was called in", cuts[k]);
        } else {
            ck_assert_msg(in, "a whole answer was not in within 5 s");
        }
        /* Finished in its turn, the cut answer is a network failure, and the request goes again. */
        ck_assert_int_eq(tp_call_finish(l.c, p), SC_OK);
        ck_assert_int_eq(resp.status, 200);
        if (cuts[k])
            ck_assert_uint_ge(resp.tries, 2);
        else
            ck_assert_uint_eq(resp.tries, 1);
        tp_resp_dispose(l.c, &resp);
    }
    free(body);
    live_stop(&l);
    sct_rmtree(l.tmp);
}
END_TEST

/*
 * Pipelined rounds through libcurl against a real syncd, behind the fault
 * proxy.  A forged answer arrives while the next request is already out:
 * the sync fails, the request behind it is dropped unread (syncd may have
 * logged it), and the next honest sync proves every op that waited, as a
 * duplicate or accepted, each logged once.  Then answers and requests cut on the
 * way: the rounds are sent again and every op is logged once.
 */
START_TEST(pipelined_rounds_against_syncd_through_lies_and_cuts)
{
    live l;
    live_start(&l, NULL);
    long long size0 = cp_size(l.c);
    for (int i = 0; i < 30; i++)
        ck_assert_int_eq(sc_note_add(l.c, l.check, "n"), SC_OK);
    ck_assert_int_eq(count(l.c, "outbox"), 31);
    /* The second answer is made up by the proxy (the first is real, and remembered). */
    sct_proxy_opts lie = {.seed = 1, .lie = SCT_LIE_FORGE_ACCEPT, .lies_max = 1};
    sct_proxy_set_opts(l.px, &lie);
    live_reopen(&l);
    char *json = NULL;
    sc_status st = sc_sync(l.c, NULL, NULL, &json);
    ck_assert_msg(st == SC_ERR_UNPROVEN, "sync: %s: %s", sc_status_name(st),
                  sc_client_errmsg(l.c));
    sct_proxy_stats ps;
    sct_proxy_get_stats(l.px, &ps);
    ck_assert_uint_eq(ps.lies, 1);
    ck_assert_int_eq(count(l.c, "outbox"), 27); /* the first round went in; the rest wait */
    sct_proxy_set_opts(l.px, &l.clean);
    json = NULL;
    ck_assert_msg(sc_sync(l.c, NULL, NULL, &json) == SC_OK, "sync: %s", sc_client_errmsg(l.c));
    json_t *o = json_of(l.c, json);
    /* The third round, sent behind the forged answer, is a duplicate when syncd got it whole
     * before the tablet dropped its connection. */
    json_int_t dup = json_integer_value(json_object_get(o, "duplicate"));
    ck_assert_msg(dup == 0 || dup == 4, "duplicates: %lld", (long long)dup);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accepted")), 27 - dup);
    json_decref(o);
    ck_assert_int_eq(count(l.c, "outbox"), 0);
    ck_assert_int_eq(cp_size(l.c), size0 + 31);
    /* Cuts on the way, in requests and answers. */
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(sc_note_add(l.c, l.check, "m"), SC_OK);
    sct_proxy_opts cuts = {
        .seed = 3, .truncate_pct = 40, .reset_pct = 20, .cut_max = 600, .faults_max = 3};
    sct_proxy_set_opts(l.px, &cuts);
    live_reopen(&l);
    live_sync(&l);
    sct_proxy_get_stats(l.px, &ps);
    ck_assert_uint_ge(ps.truncations + ps.resets, 1);
    live_expect_logged(&l, size0, 51);
    live_stop(&l);
    sct_rmtree(l.tmp);
}
END_TEST

/* sc_sync_v2's callback: stop once the first round's answer is applied. */
static int cancel_after_a_round(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    (void)ctx;
    (void)total;
    return strcmp(phase, "push") == 0 && done >= 4;
}

/*
 * A sync stopped by its progress callback after a round, while the next
 * request is already out: SC_ERR_CANCELLED, the rounds applied stay (one,
 * or two when the answer behind it was already in), nothing else of the
 * outbox moved, and the next sync takes every op into the log once.
 */
START_TEST(a_pipelined_sync_cancelled_keeps_what_it_applied)
{
    live l;
    live_start(&l, NULL);
    live_reopen(&l);
    long long size0 = cp_size(l.c);
    for (int i = 0; i < 30; i++)
        ck_assert_int_eq(sc_note_add(l.c, l.check, "n"), SC_OK);
    long long ops = count(l.c, "ops");
    char *json = NULL;
    sc_status st = sc_sync_v2(l.c, cancel_after_a_round, NULL, &json);
    ck_assert_msg(st == SC_ERR_CANCELLED, "sync: %s: %s", sc_status_name(st),
                  sc_client_errmsg(l.c));
    ck_assert_ptr_null(json);
    long long left = count(l.c, "outbox");
    ck_assert_msg(left == 27 || left == 23, "outbox after the cancelled sync: %lld", left);
    ck_assert_int_eq(count(l.c, "ops"), ops);
    ck_assert_int_eq(cp_size(l.c), size0 + 31 - left);
    live_sync(&l);
    live_expect_logged(&l, size0, 31);
    live_stop(&l);
    sct_rmtree(l.tmp);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sync");
    const sct_case cases[] = {
        {"push_pull_and_photos", push_pull_and_photos},
        {"pulls_other_devices_ops_and_photos", pulls_other_devices_ops_and_photos},
        {"a_forged_pulled_op_keeps_its_round_out", a_forged_pulled_op_keeps_its_round_out},
        {"rejected_ops_leave_the_state", rejected_ops_leave_the_state},
        {"rejected_create_leaves_no_entity", rejected_create_leaves_no_entity},
        {"batches_and_more", batches_and_more},
        {"garbage_and_unreachable", garbage_and_unreachable},
        {"history_rewrites_are_caught", history_rewrites_are_caught},
        {"answers_without_proof_change_nothing", answers_without_proof_change_nothing},
        {"thinned_pulls_are_refused", thinned_pulls_are_refused},
        {"own_ops_pulled_stay_until_proven", own_ops_pulled_stay_until_proven},
        {"set_url_proves_the_log_in_process", set_url_proves_the_log_in_process},
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
        {"a_request_served_then_resent_is_signed_again",
         a_request_served_then_resent_is_signed_again},
        {"upload_chunks_shrink_to_the_servers_limit", upload_chunks_shrink_to_the_servers_limit},
        {"upload_waits_while_the_server_is_busy", upload_waits_while_the_server_is_busy},
        {"unsealed_photo_answers_finish_no_photo", unsealed_photo_answers_finish_no_photo},
        {"photo_of_a_refused_op_is_not_sent", photo_of_a_refused_op_is_not_sent},
        {"answers_without_proof_change_nothing_pipelined",
         answers_without_proof_change_nothing_pipelined},
        {"history_rewrites_are_caught_pipelined", history_rewrites_are_caught_pipelined},
        {"rejected_ops_leave_the_state_pipelined", rejected_ops_leave_the_state_pipelined},
        {"batches_and_more_pipelined", batches_and_more_pipelined},
        {"a_forged_pulled_op_keeps_its_round_out_pipelined",
         a_forged_pulled_op_keeps_its_round_out_pipelined},
        {"own_ops_pulled_stay_until_proven_pipelined", own_ops_pulled_stay_until_proven_pipelined},
        {"a_bad_answer_drops_the_request_behind_it", a_bad_answer_drops_the_request_behind_it},
        {"a_forged_answer_checked_behind_a_round_keeps_only_itself_out",
         a_forged_answer_checked_behind_a_round_keeps_only_itself_out},
        {"a_forged_round_takes_the_answer_checked_behind_it",
         a_forged_round_takes_the_answer_checked_behind_it},
        {"an_answer_failing_its_seal_behind_a_round_fails_the_sync_after_it",
         an_answer_failing_its_seal_behind_a_round_fails_the_sync_after_it},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    /* Against a real syncd: a register to make and a process to start, under the sanitizers. */
    const sct_case live_cases[] = {
        {"upload_chunks_adapt_against_syncd_through_cuts",
         upload_chunks_adapt_against_syncd_through_cuts},
        {"upload_chunks_keep_under_syncds_chunk_max", upload_chunks_keep_under_syncds_chunk_max},
        {"sync_cancelled_mid_photo_changes_nothing", sync_cancelled_mid_photo_changes_nothing},
        {"set_url_moves_only_to_the_same_register", set_url_moves_only_to_the_same_register},
        {"pipelined_rounds_against_syncd_through_lies_and_cuts",
         pipelined_rounds_against_syncd_through_lies_and_cuts},
        {"pulls_checked_behind_rounds_against_syncd", pulls_checked_behind_rounds_against_syncd},
        {"answer_cut_in_its_head_is_not_in", answer_cut_in_its_head_is_not_in},
        {"a_pipelined_sync_cancelled_keeps_what_it_applied",
         a_pipelined_sync_cancelled_keeps_what_it_applied},
    };
    sct_suite_add(s, live_cases, SCT_COUNT(live_cases), &(sct_tcase_opts){.timeout_s = 180});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
