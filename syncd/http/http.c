/*
 * http.c: the HTTP side of syncd (see http.h).
 *
 * Request life cycle with libmicrohttpd:
 *   1. The URI log callback runs first, with the request target exactly as
 *      sent; it allocates the request record (the target is what request
 *      signatures cover, before MHD splits and unescapes it).
 *   2. First handler call (headers only): route (404), method (405), the
 *      blob name (400), request headers, their time and the device
 *      (401/403), the device's share of the replay cache (429/503), body
 *      limits (413), the request signature over the declared body hash
 *      (401: a body is never read for a request that does not verify), the
 *      bytes its body may hold in memory (429/503) and, for blob chunks,
 *      the range and the upload offset (400/409/413).  Refusals are
 *      answered here, before the body is read.
 *   3. Body calls: bytes are hashed for the request signature and either
 *      appended to a buffer that grows as they arrive (never past what was
 *      reserved for it) or streamed to the blob store.  MHD (0.9.75) cannot
 *      queue a response in the middle of a body, so a chunked body that
 *      runs over its limit is discarded from then on and answered 413 at
 *      its end; one that keeps going past twice the limit, or past the
 *      request deadline, has its connection closed.
 *   4. Last call: the body must hash to what was signed, the nonce is
 *      recorded, then the endpoint runs and its response is queued.
 *   5. The completion callback logs one line, gives back the body's
 *      reservation and frees the record; an upload cut off mid-chunk is cut
 *      back to its verified offset there.
 * Around all of it, every connection carries a receive deadline
 * (deadline.h) that trickled bytes cannot push back, and libmicrohttpd
 * limits the connections one client address may open.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/logjson.h"
#include "base/metrics.h"
#include "budget.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/limits.h"
#include "core/names.h"
#include "core/policy.h"
#include "deadline.h"
#include "wire.pb-c.h"

#define CT_PROTOBUF "application/x-protobuf"
#define CT_OCTETS "application/octet-stream"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define HDR_REQUEST_ID "X-Request-Id"
#define HDR_REASON "X-Spotcheck-Reason"
#define HDR_OFFSET "X-Spotcheck-Offset"
#define HDR_SERVER_TIME "X-Spotcheck-Server-Time"
#define HDR_NOT_BEFORE "X-Spotcheck-Not-Before"

/* Log entries per request (docs/protocol.md §4.4). */
#define ENTRIES_MAX 1000
/* Bodies of requests that carry none by design (GET, HEAD) are read up to this and discarded. */
#define IDLE_BODY_MAX 1024
/* Initial buffer for a body sent without Content-Length. */
#define BODY_CHUNK_MIN 4096
/*
 * Refusals of a share (429 rate_limited, 503 overloaded) logged per second at
 * most: a device flooding at thousands of requests a second must not flood
 * the log too.  The next line logged says how many were left out; the
 * metrics count them all.
 */
#define SHARE_LOG_PER_S 20

/* Scpb__Reason values used here, named once. */
enum {
    R_NONE = SCPB__REASON__REASON_NONE,
    R_MALFORMED = SCPB__REASON__REASON_MALFORMED,
    R_TOO_LARGE = SCPB__REASON__REASON_TOO_LARGE,
    R_BAD_SIGNATURE = SCPB__REASON__REASON_BAD_SIGNATURE,
    R_UNKNOWN_DEVICE = SCPB__REASON__REASON_UNKNOWN_DEVICE,
    R_DEVICE_REVOKED = SCPB__REASON__REASON_DEVICE_REVOKED,
    R_FORBIDDEN_ROLE = SCPB__REASON__REASON_FORBIDDEN_ROLE,
    R_ENTITY_EXISTS = SCPB__REASON__REASON_ENTITY_EXISTS,
    R_BAD_FIELD = SCPB__REASON__REASON_BAD_FIELD,
    R_STORAGE = SCPB__REASON__REASON_STORAGE,
    R_BATCH_LIMIT = SCPB__REASON__REASON_BATCH_LIMIT,
    R_QUOTA = SCPB__REASON__REASON_QUOTA,
    R_RATE_LIMITED = SCPB__REASON__REASON_RATE_LIMITED,
    R_OVERLOADED = SCPB__REASON__REASON_OVERLOADED,
    R_REQUEST_TIME = SCPB__REASON__REASON_REQUEST_TIME,
};

typedef enum route {
    ROUTE_NONE,
    ROUTE_ENROLL,
    ROUTE_SYNC,
    ROUTE_BLOB,
    ROUTE_CHECKPOINT,
    ROUTE_INCLUSION,
    ROUTE_CONSISTENCY,
    ROUTE_ENTRIES,
    ROUTE_HEALTH,
    ROUTE_METRICS,
} route;

typedef struct route_def {
    const char *path;     /* exact path; ROUTE_BLOB matches a prefix */
    route id;
    const char *allow;    /* methods, comma-separated, as in the Allow header */
    bool is_signed;       /* needs a request signature (§3) */
} route_def;

static const route_def routes[] = {
    {"/v1/enroll", ROUTE_ENROLL, "POST", false},
    {"/v1/sync", ROUTE_SYNC, "POST", true},
    {"/v1/blobs/", ROUTE_BLOB, "HEAD, GET, PUT", true},
    {"/v1/log/checkpoint", ROUTE_CHECKPOINT, "GET", true},
    {"/v1/log/proof/inclusion", ROUTE_INCLUSION, "GET", true},
    {"/v1/log/proof/consistency", ROUTE_CONSISTENCY, "GET", true},
    {"/v1/log/entries", ROUTE_ENTRIES, "GET", true},
    {"/healthz", ROUTE_HEALTH, "GET", false},
    {"/metrics", ROUTE_METRICS, "GET", false},
};

struct sd_http {
    sd_http_deps d;              /* borrowed dependencies */
    sd_budget *budget;           /* request bodies in memory; owned */
    sd_deadline *deadlines;      /* receive deadlines of connections; owned */
    int64_t request_ms;          /* http.request_timeout_s */
    int64_t idle_ms;             /* http.connection_timeout_s */
    bool has_metrics_token;      /* cfg->metrics_token_file is set: /metrics asks for its token */
    uint8_t metrics_token[SC_HASH_LEN]; /* SHA-256 of that token */
    struct MHD_Daemon *mhd;
    uint16_t port;
    atomic_uint inflight;        /* requests between URI callback and completion */
    atomic_bool draining;        /* stop began: answer with Connection: close */
    atomic_llong log_second;     /* CLOCK_MONOTONIC second of log_count */
    atomic_uint log_count;       /* share refusals logged in it */
    atomic_ullong log_dropped;   /* share refusals not logged since the last one logged */
};

/* One request.  Owned by MHD's connection between the URI callback and completion. */
typedef struct req {
    sd_http *h;
    char id[17];                 /* X-Request-Id */
    char *target;                /* raw request target; owned */
    size_t target_len;
    size_t path_len;             /* bytes of target before '?' */
    const route_def *rt;         /* NULL: unknown path */
    char method[8];
    struct timespec t0;          /* CLOCK_MONOTONIC at the URI callback */
    bool seen;                   /* the headers were handled */
    bool answered;               /* a response is queued */
    sd_deadline_conn *conn;      /* the connection's receive deadline; borrowed, may be NULL */
    /* outcome, for the log line */
    unsigned status;
    int reason;
    char message[SC_ERR_MSG_MAX];
    int64_t retry_ms;            /* Retry-After of a refusal, 0: none */
    /* body */
    uint8_t *body;               /* owned; NULL for streamed and discarded bodies */
    size_t body_len, body_cap;
    uint64_t body_limit;         /* bytes accepted into body */
    sd_budget_hold hold;         /* memory reserved for the body; given back in on_done */
    bool late;                   /* cut off at the receive deadline */
    uint64_t body_seen;          /* bytes received in all */
    bool over;                   /* ran past body_limit while streaming */
    bool store_failed;           /* a blob write failed: answer 503 at the end */
    sc_sha256_ctx hash;          /* SHA-256 of the body, for the request signature */
    uint8_t body_hash[SC_HASH_LEN]; /* its result, once the body is complete (for a seal) */
    /* authentication */
    bool authed;                 /* headers parsed and device resolved */
    bool verified;               /* signature checked over the declared body hash, before the body */
    sd_auth_req ar;
    sd_principal who;
    /* blobs */
    char blob[SD_BLOB_NAME_LEN + 1];
    sd_upload *up;               /* owned until finished or aborted */
    uint64_t r_start, r_len, r_total;
    bool blob_exists;            /* PUT of a stored blob: verify, then 200 */
    /* sync counts, for the log line */
    uint32_t pushed, accepted, duplicate, rejected, pulled;
} req;

/* ---- responses ---- */

static const char *reason_name(int reason)
{
    const char *n = sc_name_of(&sc_names_reason, reason);
    return n ? n : "none";
}

/* Queue r with the headers every response carries, and record the status.  Consumes r. */
static enum MHD_Result send_resp(req *q, struct MHD_Connection *c, unsigned status,
                                 struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, HDR_REQUEST_ID, q->id);
    /* The server clock, so a client signs with it (docs/protocol.md §3). */
    char now[24];
    const sc_env *env = q->h->d.env;
    snprintf(now, sizeof now, "%lld", (long long)env->now_ms(env->ctx));
    MHD_add_response_header(r, HDR_SERVER_TIME, now);
    /* While draining, and after a body that ran over its limit, the client reconnects. */
    if (atomic_load(&q->h->draining) || q->over)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES) {
        q->answered = true;
        q->status = status;
        sd_metrics_http(status);
    }
    return ret;
}

static struct MHD_Response *resp_pb(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return NULL;
    protobuf_c_message_pack(m, buf);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, buf, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(buf);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_PROTOBUF);
    return r;
}

static enum MHD_Result send_pb(req *q, struct MHD_Connection *c, unsigned status,
                               const ProtobufCMessage *m)
{
    return send_resp(q, c, status, resp_pb(m));
}

static void add_offset(struct MHD_Response *r, uint64_t offset)
{
    char num[24];
    snprintf(num, sizeof num, "%" PRIu64, offset);
    MHD_add_response_header(r, HDR_OFFSET, num);
}

/* An Error response: body, X-Spotcheck-Reason, and optionally X-Spotcheck-Offset or Allow. */
static enum MHD_Result send_error_ex(req *q, struct MHD_Connection *c, unsigned status, int reason,
                                     const char *allow, const uint64_t *offset, const char *msg)
{
    snprintf(q->message, sizeof q->message, "%s", msg);
    q->reason = reason;
    Scpb__Error e = SCPB__ERROR__INIT;
    e.has_status = true;
    e.status = status;
    e.has_reason = true;
    e.reason = (Scpb__Reason)reason;
    e.message = q->message;
    e.request_id = q->id;
    struct MHD_Response *r = resp_pb(&e.base);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, HDR_REASON, reason_name(reason));
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (offset)
        add_offset(r, *offset);
    char num[24];
    if (reason == R_REQUEST_TIME) {
        snprintf(num, sizeof num, "%lld", (long long)sd_auth_not_before(q->h->d.auth));
        MHD_add_response_header(r, HDR_NOT_BEFORE, num);
    }
    if (q->retry_ms > 0) {
        snprintf(num, sizeof num, "%lld", (long long)((q->retry_ms + 999) / 1000));
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, num);
    }
    return send_resp(q, c, status, r);
}

static enum MHD_Result send_error(req *q, struct MHD_Connection *c, unsigned status, int reason,
                                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static enum MHD_Result send_error(req *q, struct MHD_Connection *c, unsigned status, int reason,
                                  const char *fmt, ...)
{
    char msg[SC_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return send_error_ex(q, c, status, reason, NULL, NULL, msg);
}

/* The status for a failure reported by the register or the auth checks. */
static unsigned status_of_reason(int reason)
{
    switch (reason) {
    case R_MALFORMED:
    case R_BAD_FIELD:
        return MHD_HTTP_BAD_REQUEST;
    case R_BAD_SIGNATURE:
    case R_UNKNOWN_DEVICE:
        return MHD_HTTP_UNAUTHORIZED;
    case R_DEVICE_REVOKED:
    case R_FORBIDDEN_ROLE:
        return MHD_HTTP_FORBIDDEN;
    case R_ENTITY_EXISTS:
        return MHD_HTTP_CONFLICT;
    case R_TOO_LARGE:
    case R_BATCH_LIMIT:
        return MHD_HTTP_CONTENT_TOO_LARGE;
    case R_REQUEST_TIME:
        return MHD_HTTP_UNAUTHORIZED;
    case R_RATE_LIMITED:
        return MHD_HTTP_TOO_MANY_REQUESTS;
    case R_QUOTA:
        return MHD_HTTP_INSUFFICIENT_STORAGE;
    default:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    }
}

static enum MHD_Result send_err(req *q, struct MHD_Connection *c, const sc_err *e)
{
    int reason = e->reason;
    if (reason == R_NONE) {
        /* A failure without a protocol reason is the server's, not the client's. */
        reason = R_STORAGE;
    }
    return send_error_ex(q, c, status_of_reason(reason), reason, NULL, NULL,
                         e->msg[0] ? e->msg : sc_strerror(e->code));
}

/* Resolve the signing device: enrolled (else 401 unknown_device), not revoked (else 403). */
static sc_status resolve_device(sd_register *r, const sd_auth_req *ar, sd_principal *who, sc_err *err)
{
    memset(who, 0, sizeof *who);
    sc_status rc = sd_register_principal(r, ar->device, who, err);
    if (rc == SC_ERR_NOT_FOUND)
        return sc_err_set(err, SC_ERR_NOT_FOUND, R_UNKNOWN_DEVICE, "device key is not enrolled");
    if (rc != SC_OK) {
        if (err->reason == R_NONE)
            err->reason = R_STORAGE;
        return rc;
    }
    if (who->revoked)
        return sc_err_set(err, SC_ERR_FORBIDDEN, R_DEVICE_REVOKED, "device is revoked");
    return SC_OK;
}

/* ---- small parsers ---- */

/* A decimal uint64 of 1-19 digits, nothing else. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

int sd_http_query_u64(const char *query, size_t len, const char *key, uint64_t *out)
{
    const char *p = query, *end = query + len;
    size_t kl = strlen(key);
    int found = 0;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            if (found || !parse_u64(p + kl + 1, (size_t)(stop - p) - kl - 1, out))
                return -1;
            found = 1;
        }
        p = amp ? amp + 1 : end;
    }
    return found;
}

/* A query parameter of this request's raw target. */
static int query_u64(const req *q, const char *key, uint64_t *out)
{
    if (q->path_len >= q->target_len)
        return 0;
    return sd_http_query_u64(q->target + q->path_len + 1, q->target_len - q->path_len - 1, key,
                             out);
}

bool sd_http_parse_range(const char *s, uint64_t *start, uint64_t *len, uint64_t *total)
{
    if (!s || strncmp(s, "bytes ", 6) != 0)
        return false;
    s += 6;
    const char *dash = strchr(s, '-');
    const char *slash = dash ? strchr(dash, '/') : NULL;
    uint64_t a, b, t;
    if (!dash || !slash || !parse_u64(s, (size_t)(dash - s), &a) ||
        !parse_u64(dash + 1, (size_t)(slash - dash - 1), &b) ||
        !parse_u64(slash + 1, strlen(slash + 1), &t) || a > b || b >= t)
        return false;
    *start = a;
    *len = b - a + 1;
    *total = t;
    return true;
}

static double elapsed_s(const req *q)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - q->t0.tv_sec) + (double)(now.tv_nsec - q->t0.tv_nsec) / 1e9;
}

/* ---- endpoints ---- */

static enum MHD_Result do_enroll(req *q, struct MHD_Connection *c)
{
    Scpb__EnrollRequest *er = scpb__enroll_request__unpack(NULL, q->body_len, q->body);
    if (!er)
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_MALFORMED, "body is not an EnrollRequest");
    Scpb__EnrollResponse *out = NULL;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_enroll(q->h->d.reg, er, &out, &err);
    scpb__enroll_request__free_unpacked(er, NULL);
    if (rc != SC_OK) {
        sd_msg_free(out);
        return send_err(q, c, &err);
    }
    enum MHD_Result ret = send_pb(q, c, MHD_HTTP_OK, &out->base);
    sd_msg_free(out);
    return ret;
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
    if (e->reason != R_NONE)
        return e->reason;
    return rc == SC_ERR_TOO_LARGE       ? R_TOO_LARGE
           : rc == SC_ERR_BAD_SIGNATURE ? R_BAD_SIGNATURE
                                        : R_MALFORMED;
}

/*
 * Opening a pushed op is mostly its Ed25519 verification (~40 us): a
 * request of many ops is opened on helper threads too (one per
 * OPEN_PAR_MIN ops, at most one per online CPU and OPEN_THREADS_MAX in
 * all, this thread included), so one device pushing a big batch is not
 * held to one core while the others idle.  Each thread opens a contiguous
 * slice and writes only its slice of ops and results; the outcome is the
 * same as opening them one by one.
 */
#define OPEN_PAR_MIN 32
#define OPEN_THREADS_MAX 4

typedef struct open_job {
    const sc_env *env;
    const Scpb__SyncRequest *sr;
    sc_op **ops;
    sd_result *res;
    size_t from, to;
} open_job;

static void *open_slice(void *arg)
{
    open_job *j = arg;
    for (size_t i = j->from; i < j->to; i++) {
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
    return NULL;
}

/* Open and verify ops [0, n): ops[i] on success, else NULL with res[i] rejected. */
static void open_all(const sc_env *env, const Scpb__SyncRequest *sr, size_t n, sc_op **ops,
                     sd_result *res)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nj = n / OPEN_PAR_MIN;
    if (cpus > 0 && nj > (size_t)cpus)
        nj = (size_t)cpus;
    if (nj > OPEN_THREADS_MAX)
        nj = OPEN_THREADS_MAX;
    if (nj < 1)
        nj = 1;
    open_job job[OPEN_THREADS_MAX];
    pthread_t th[OPEN_THREADS_MAX];
    bool started[OPEN_THREADS_MAX] = {false};
    for (size_t k = 0; k < nj; k++)
        job[k] = (open_job){env, sr, ops, res, n * k / nj, n * (k + 1) / nj};
    /* Helpers take slices 1.., this thread slice 0; a helper that cannot start is done here. */
    for (size_t k = 1; k < nj; k++)
        started[k] = pthread_create(&th[k], NULL, open_slice, &job[k]) == 0;
    open_slice(&job[0]);
    for (size_t k = 1; k < nj; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            open_slice(&job[k]);
    }
}

/* The results of a push as wire messages: ores[i] filled from res[i], borrowing its bytes. */
static void results_fill(const sd_result *res, size_t n, Scpb__OpResult *ores,
                         Scpb__OpResult **oresp)
{
    static const uint8_t zero[SC_HASH_LEN];
    for (size_t i = 0; i < n; i++) {
        Scpb__OpResult *r = &ores[i];
        scpb__op_result__init(r);
        if (memcmp(res[i].op_id, zero, SC_HASH_LEN) != 0) {
            r->has_op_id = true;
            r->op_id.data = (uint8_t *)res[i].op_id;
            r->op_id.len = SC_HASH_LEN;
        }
        r->has_status = true;
        r->status = res[i].status;
        if (res[i].status == SCPB__OP_STATUS__OP_REJECTED) {
            r->has_reason = true;
            r->reason = (Scpb__Reason)res[i].reason;
            r->message = (char *)res[i].message;
        } else {
            r->has_log_index = true;
            r->log_index = res[i].log_index;
        }
        oresp[i] = r;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* A sync answer's receipt and seal; the answer's fields borrow from here until it is sent. */
typedef struct sync_proof {
    Scpb__MultiInclusionProof *receipt; /* owned */
    uint8_t seal[SC_SEAL_MAX];
    uint8_t sig[SC_SIG_LEN];
} sync_proof;

/*
 * Prove and seal an answer that is otherwise complete (docs/protocol.md
 * §4.2.1, §7.1): the receipt proves every accepted and duplicate op in the
 * log of the checkpoint's size, and the seal, signed by the server key,
 * binds the answer to this request.
 */
static sc_status sync_prove(req *q, const Scpb__SyncRequest *sr, const sd_result *res, size_t n,
                            const sd_pulled *pulled, Scpb__SyncResponse *out, sync_proof *sp,
                            sc_err *e)
{
    sd_register *reg = q->h->d.reg;
    uint64_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return sc_err_set(e, SC_ERR_NOMEM, R_STORAGE, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (res[i].status == SCPB__OP_STATUS__OP_ACCEPTED ||
            res[i].status == SCPB__OP_STATUS__OP_DUPLICATE)
            idx[k++] = res[i].log_index;
    /* An op pushed twice in one request is one leaf. */
    qsort(idx, k, sizeof *idx, cmp_u64);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || idx[i] != idx[m - 1])
            idx[m++] = idx[i];
    sc_status rc =
        m ? sd_register_receipt(reg, idx, m, out->checkpoint->size, &sp->receipt, e) : SC_OK;
    free(idx);
    if (rc != SC_OK)
        return rc;
    out->receipt = sp->receipt;
    sc_seal_input in = {
        .nonce = q->ar.nonce,
        .request_hash = q->body_hash,
        .has_cursor_in = sr->has_cursor,
        .cursor_in = sr->cursor.data,
        .cursor_in_len = sr->cursor.len,
        .resp = out,
        .leaves = (const uint8_t(*)[SC_HASH_LEN])pulled->leaves,
    };
    sc_seal seal;
    sc_seal_build(&in, &seal);
    size_t len = 0;
    if ((rc = sd_register_seal(reg, &seal, sp->seal, sizeof sp->seal, &len, sp->sig, e)) != SC_OK)
        return rc;
    out->has_seal = true;
    out->seal = (ProtobufCBinaryData){len, sp->seal};
    out->has_seal_sig = true;
    out->seal_sig = (ProtobufCBinaryData){SC_SIG_LEN, sp->sig};
    return SC_OK;
}

/*
 * Of the n photos asked about (32-byte hashes), those stored that q's
 * device may read (docs/protocol.md §4.3), into out in the order asked.
 * A photo it may not see is answered as an absent one; when the register
 * cannot say, none is.  Whether a photo is stored is asked first (a stat):
 * most photos asked about are not stored yet, and only the stored ones
 * need the register's word on who may read them.
 */
static void photos_readable(req *q, const ProtobufCBinaryData *want, size_t n,
                            ProtobufCBinaryData *out, size_t *nout)
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
            sd_blobs_stat(q->h->d.blobs, q->who.device, name, &info, &be) == SC_OK &&
            info.stored) {
            memcpy(sha[nst], want[i].data, SC_HASH_LEN);
            at[nst++] = i;
        }
    }
    sc_err e;
    sc_err_clear(&e);
    if (!sha || !at || !vis ||
        (nst > 0 && sd_register_photos_visible(q->h->d.reg, &q->who,
                                               (const uint8_t(*)[SC_HASH_LEN])sha, nst, vis,
                                               &e) != SC_OK)) {
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

static enum MHD_Result do_sync(req *q, struct MHD_Connection *c)
{
    sd_http *h = q->h;
    const sd_config *cfg = h->d.cfg;
    const sc_env *env = h->d.env;
    enum MHD_Result ret = MHD_NO;
    sc_op **ops = NULL;
    sd_result *res = NULL;
    uint8_t (*excl)[SC_HASH_LEN] = NULL;
    Scpb__OpResult *ores = NULL;
    Scpb__OpResult **oresp = NULL;
    Scpb__Checkpoint *cp = NULL;
    Scpb__ConsistencyProof *cons = NULL;
    ProtobufCBinaryData *stored = NULL;
    sync_proof proof = {0};
    sd_pulled pulled;
    bool have_pulled = false;
    size_t n = 0, nex = 0, nopen = 0;
    sc_err e;
    sc_err_clear(&e);
    memset(&pulled, 0, sizeof pulled);

    /* The size was checked against sync.body_max before a byte was buffered. */
    Scpb__SyncRequest *sr = scpb__sync_request__unpack(NULL, q->body_len, q->body);
    /* The message holds its own copy of every op: the raw body can go now, lowering the peak. */
    free(q->body);
    q->body = NULL;
    if (!sr)
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_MALFORMED, "body is not a SyncRequest");
    n = sr->n_ops;
    q->pushed = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
    if (n > cfg->batch_max) {
        ret = send_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, R_BATCH_LIMIT,
                         "%zu ops in one request; at most %" PRIu32, n, cfg->batch_max);
        goto done;
    }
    if (sr->n_blobs_wanted > SC_BLOBS_WANTED_MAX) {
        ret = send_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, R_BATCH_LIMIT,
                         "%zu photos asked about in one request; at most %d", sr->n_blobs_wanted,
                         SC_BLOBS_WANTED_MAX);
        goto done;
    }
    for (size_t i = 0; i < sr->n_blobs_wanted; i++)
        if (sr->blobs_wanted[i].len != SC_HASH_LEN) {
            ret = send_error(q, c, MHD_HTTP_BAD_REQUEST, R_MALFORMED,
                             "blobs_wanted %zu is not a 32-byte SHA-256", i);
            goto done;
        }
    if (sr->has_cursor && sr->cursor.len > 0) {
        /* Refuse a cursor syncd cannot have made before anything is stored. */
        Scpb__Cursor *cur = sr->cursor.len <= 64
                                ? scpb__cursor__unpack(NULL, sr->cursor.len, sr->cursor.data)
                                : NULL;
        if (!cur) {
            ret = send_error(q, c, MHD_HTTP_BAD_REQUEST, R_MALFORMED,
                             "cursor is not one syncd made");
            goto done;
        }
        scpb__cursor__free_unpacked(cur, NULL);
    }
    ops = calloc(n ? n : 1, sizeof *ops);
    res = calloc(n ? n : 1, sizeof *res);
    excl = calloc(n ? n : 1, sizeof *excl);
    ores = calloc(n ? n : 1, sizeof *ores);
    oresp = calloc(n ? n : 1, sizeof *oresp);
    if (!ops || !res || !excl || !ores || !oresp) {
        ret = send_error(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, R_STORAGE, "out of memory");
        goto done;
    }

    /* Open and verify every op here, before the single writer sees it. */
    open_all(env, sr, n, ops, res);
    for (size_t i = 0; i < n; i++) {
        if (ops[i]) {
            /* Everything else (author, device, rules) is the register's to judge, after its
             * duplicate check, so a resent op is always answered duplicate. */
            memcpy(res[i].op_id, ops[i]->id, SC_HASH_LEN);
            memcpy(excl[nex++], ops[i]->id, SC_HASH_LEN);
            nopen++;
        }
    }
    if (nopen > 0) {
        sd_batch b = {
            .who = &q->who,
            .ops = (sc_op *const *)ops,
            .n = n,
            .results = res,
            .received_ms = env->now_ms(env->ctx),
        };
        sc_status rc = sd_ingest_submit(h->d.ingest, &b, &e);
        if (rc != SC_OK) {
            /* Nothing from this request was stored: the client resends it all. */
            ret = send_error(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, R_STORAGE, "%s",
                             e.msg[0] ? e.msg : "the register could not commit; retry later");
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        sd_metrics_op(res[i].status, res[i].reason);
        if (res[i].status == SCPB__OP_STATUS__OP_ACCEPTED)
            q->accepted++;
        else if (res[i].status == SCPB__OP_STATUS__OP_DUPLICATE)
            q->duplicate++;
        else
            q->rejected++;
    }

    uint32_t max = cfg->pull_max;
    if (sr->has_max_pull && sr->max_pull > 0 && sr->max_pull < max)
        max = sr->max_pull;
    sd_pull pr = {
        .who = &q->who,
        .cursor = sr->has_cursor ? sr->cursor.data : NULL,
        .cursor_len = sr->has_cursor ? sr->cursor.len : 0,
        .max = max,
        .exclude = (const uint8_t(*)[SC_HASH_LEN])excl,
        .nexclude = nex,
    };
    if (sd_register_pull(h->d.reg, &pr, &pulled, &e) != SC_OK) {
        ret = send_err(q, c, &e);
        goto done;
    }
    have_pulled = true;
    q->pulled = (uint32_t)pulled.n;
    /* The pull's own snapshot's checkpoint: it covers every op pulled and every op accepted. */
    cp = pulled.checkpoint;
    pulled.checkpoint = NULL;
    if (sr->has_known_size && sr->known_size > 0 && sr->known_size < cp->size &&
        sd_register_consistency(h->d.reg, sr->known_size, cp->size, &cons, &e) != SC_OK) {
        ret = send_err(q, c, &e);
        goto done;
    }

    /* Which of the photos the client lacks it may fetch, so it fetches only those (§4.2). */
    size_t nstored = 0;
    stored = calloc(sr->n_blobs_wanted ? sr->n_blobs_wanted : 1, sizeof *stored);
    if (!stored) {
        ret = send_error(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, R_STORAGE, "out of memory");
        goto done;
    }
    photos_readable(q, sr->blobs_wanted, sr->n_blobs_wanted, stored, &nstored);

    Scpb__SyncResponse out = SCPB__SYNC_RESPONSE__INIT;
    out.n_blobs_stored = nstored;
    out.blobs_stored = stored;
    out.has_blobs_checked = true;
    out.blobs_checked = true;
    results_fill(res, n, ores, oresp);
    out.n_results = n;
    out.results = oresp;
    out.n_ops = pulled.n;
    out.ops = pulled.ops;
    if (pulled.cursor) {
        out.has_cursor = true;
        out.cursor.data = pulled.cursor;
        out.cursor.len = pulled.cursor_len;
    }
    out.has_more = true;
    out.more = pulled.more;
    out.checkpoint = cp;
    out.consistency = cons;
    out.has_server_time_ms = true;
    out.server_time_ms = env->now_ms(env->ctx);
    if (sync_prove(q, sr, res, n, &pulled, &out, &proof, &e) != SC_OK) {
        ret = send_err(q, c, &e);
        goto done;
    }
    ret = send_pb(q, c, MHD_HTTP_OK, &out.base);
    if (ret == MHD_YES)
        sd_metrics_sync(elapsed_s(q));
done:
    for (size_t i = 0; ops && i < n; i++)
        sc_op_free(env, ops[i]);
    free(ops);
    free(res);
    free(excl);
    free(ores);
    free(oresp);
    free(stored);
    if (have_pulled)
        sd_pulled_dispose(&pulled);
    sd_msg_free(cp);
    sd_msg_free(cons);
    sd_msg_free(proof.receipt);
    scpb__sync_request__free_unpacked(sr, NULL);
    return ret;
}

static enum MHD_Result do_checkpoint(req *q, struct MHD_Connection *c)
{
    Scpb__Checkpoint *cp = NULL;
    sc_err e;
    sc_err_clear(&e);
    if (sd_register_checkpoint(q->h->d.reg, &cp, &e) != SC_OK) {
        sd_msg_free(cp);
        return send_err(q, c, &e);
    }
    enum MHD_Result ret = send_pb(q, c, MHD_HTTP_OK, &cp->base);
    sd_msg_free(cp);
    return ret;
}

/* Two required numeric query parameters. */
static bool query_pair(req *q, const char *k1, uint64_t *v1, const char *k2, uint64_t *v2)
{
    return query_u64(q, k1, v1) == 1 && query_u64(q, k2, v2) == 1;
}

static enum MHD_Result do_inclusion(req *q, struct MHD_Connection *c)
{
    uint64_t index, size;
    if (!query_pair(q, "index", &index, "size", &size))
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_BAD_FIELD,
                          "index and size must be given once each, as decimal numbers");
    Scpb__InclusionProof *p = NULL;
    sc_err e;
    sc_err_clear(&e);
    if (sd_register_inclusion(q->h->d.reg, index, size, &p, &e) != SC_OK) {
        sd_msg_free(p);
        return send_err(q, c, &e);
    }
    enum MHD_Result ret = send_pb(q, c, MHD_HTTP_OK, &p->base);
    sd_msg_free(p);
    return ret;
}

static enum MHD_Result do_consistency(req *q, struct MHD_Connection *c)
{
    uint64_t old, size;
    if (!query_pair(q, "old", &old, "size", &size))
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_BAD_FIELD,
                          "old and size must be given once each, as decimal numbers");
    if (old == 0 || old > size)
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_BAD_FIELD,
                          "need 0 < old <= size, got old %" PRIu64 " and size %" PRIu64, old, size);
    Scpb__ConsistencyProof *p = NULL;
    sc_err e;
    sc_err_clear(&e);
    if (sd_register_consistency(q->h->d.reg, old, size, &p, &e) != SC_OK) {
        sd_msg_free(p);
        return send_err(q, c, &e);
    }
    enum MHD_Result ret = send_pb(q, c, MHD_HTTP_OK, &p->base);
    sd_msg_free(p);
    return ret;
}

static enum MHD_Result do_entries(req *q, struct MHD_Connection *c)
{
    uint64_t start, count;
    if (!query_pair(q, "start", &start, "count", &count))
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_BAD_FIELD,
                          "start and count must be given once each, as decimal numbers");
    if (count == 0 || count > ENTRIES_MAX)
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_BAD_FIELD,
                          "count must be between 1 and %d", ENTRIES_MAX);
    Scpb__LogEntries *le = NULL;
    sc_err e;
    sc_err_clear(&e);
    if (sd_register_entries(q->h->d.reg, &q->who, start, (uint32_t)count, &le, &e) != SC_OK) {
        sd_msg_free(le);
        if (e.code == SC_ERR_FORBIDDEN && e.reason == R_NONE)
            e.reason = R_FORBIDDEN_ROLE;
        return send_err(q, c, &e);
    }
    enum MHD_Result ret = send_pb(q, c, MHD_HTTP_OK, &le->base);
    sd_msg_free(le);
    return ret;
}

static struct MHD_Response *resp_text(const char *text, const char *ctype)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    return r;
}

static enum MHD_Result do_health(req *q, struct MHD_Connection *c)
{
    sc_err e;
    sc_err_clear(&e);
    if (sd_register_health(q->h->d.reg, &e) == SC_OK)
        return send_resp(q, c, MHD_HTTP_OK, resp_text("ok\n", CT_TEXT));
    /* Health checkers read the status; people read the text, so this one error is not protobuf. */
    char text[SC_ERR_MSG_MAX + 32];
    snprintf(text, sizeof text, "unavailable: %s\n", e.msg[0] ? e.msg : sc_strerror(e.code));
    snprintf(q->message, sizeof q->message, "%s", e.msg);
    q->reason = R_STORAGE;
    struct MHD_Response *r = resp_text(text, CT_TEXT);
    if (r)
        MHD_add_response_header(r, HDR_REASON, reason_name(R_STORAGE));
    return send_resp(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, r);
}

static enum MHD_Result do_metrics(req *q, struct MHD_Connection *c)
{
    /* Operators only (metrics.h): one answer for a missing token, a wrong one, a foreign address.
     */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *authz =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!sd_metrics_allowed(ci ? ci->client_addr : NULL, authz,
                            q->h->has_metrics_token ? q->h->metrics_token : NULL))
        return send_error(q, c, MHD_HTTP_FORBIDDEN, R_FORBIDDEN_ROLE,
                          "metrics are served to operators only: from loopback, or with the "
                          "token of metrics.token_file");
    sd_metrics_gauges g = {0};
    sd_register_stats st;
    sc_err e;
    sc_err_clear(&e);
    if (sd_register_stats_get(q->h->d.reg, &st, &e) == SC_OK) {
        g.valid = true;
        g.log_size = st.log_size;
        g.entities = st.entities;
        g.devices = st.devices;
        g.checkpoints = st.checkpoints;
    }
    size_t len = 0;
    char *text = sd_metrics_render(&g, &len);
    if (!text)
        return send_error(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, R_STORAGE, "out of memory");
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_METRICS);
    return send_resp(q, c, MHD_HTTP_OK, r);
}

static enum MHD_Result send_empty(req *q, struct MHD_Connection *c, unsigned status,
                                  const uint64_t *offset)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(0, (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
    if (r && offset)
        add_offset(r, *offset);
    return send_resp(q, c, status, r);
}

/*
 * May q's device read q->blob: is it named by an op the device can see
 * (docs/protocol.md §4.3)?  SC_OK and *out; a storage status (err set)
 * when the register cannot say.
 */
static sc_status blob_visible(req *q, bool *out, sc_err *e)
{
    uint8_t sha[1][SC_HASH_LEN];
    *out = false;
    if (sc_hex_decode(q->blob, SD_BLOB_NAME_LEN, sha[0], SC_HASH_LEN) != SC_OK)
        return sc_err_set(e, SC_ERR_MALFORMED, R_BAD_FIELD,
                          "a blob name is 64 lowercase hex digits");
    return sd_register_photos_visible(q->h->d.reg, &q->who, (const uint8_t(*)[SC_HASH_LEN])sha, 1,
                                      out, e);
}

/*
 * GET and HEAD.  A photo the device may not read gets exactly the answer
 * of an absent one: 404, reason none, "blob is not stored", and on HEAD
 * the offset of the device's own upload of it (0 when none).
 */
static enum MHD_Result do_blob_read(req *q, struct MHD_Connection *c, bool head)
{
    int fd = -1;
    uint64_t size = 0;
    bool visible = false;
    sd_blob_info info;
    sc_err e;
    sc_err_clear(&e);
    if (blob_visible(q, &visible, &e) != SC_OK ||
        sd_blobs_stat(q->h->d.blobs, q->who.device, q->blob, &info, &e) != SC_OK)
        return send_err(q, c, &e);
    sc_status rc = visible && info.stored
                       ? sd_blobs_open_read(q->h->d.blobs, q->blob, &fd, &size, &e)
                       : SC_ERR_NOT_FOUND;
    if (rc == SC_ERR_NOT_FOUND)
        return send_error_ex(q, c, MHD_HTTP_NOT_FOUND, R_NONE, NULL, head ? &info.offset : NULL,
                             "blob is not stored");
    if (rc != SC_OK)
        return send_err(q, c, &e);
    /* MHD owns fd from here and sends it with sendfile where it can; HEAD sends no body. */
    struct MHD_Response *r = MHD_create_response_from_fd64(size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_OCTETS);
    return send_resp(q, c, MHD_HTTP_OK, r);
}

static enum MHD_Result do_blob_put(req *q, struct MHD_Connection *c)
{
    if (q->blob_exists)
        return send_empty(q, c, MHD_HTTP_OK, NULL);
    bool complete = false;
    uint64_t offset = 0;
    sc_err e;
    sc_err_clear(&e);
    sd_upload *up = q->up;
    q->up = NULL;
    sc_status rc = sd_upload_finish(up, &complete, &offset, &e);
    if (rc == SC_OK) {
        sd_metrics_blob_upload(q->r_len);
        if (complete) {
            sd_metrics_blob_stored(q->r_total);
            return send_empty(q, c, MHD_HTTP_CREATED, &offset);
        }
        return send_empty(q, c, MHD_HTTP_ACCEPTED, &offset);
    }
    if (rc == SC_ERR_MALFORMED)
        return send_error_ex(q, c, MHD_HTTP_UNPROCESSABLE_CONTENT, R_BAD_FIELD, NULL, &offset,
                             e.msg);
    return send_error_ex(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, R_STORAGE, NULL, &offset, e.msg);
}

/* ---- the request life cycle ---- */

static const route_def *find_route(const char *path, size_t len)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t pl = strlen(routes[i].path);
        if (routes[i].id == ROUTE_BLOB ? (len >= pl && memcmp(path, routes[i].path, pl) == 0)
                                       : (len == pl && memcmp(path, routes[i].path, pl) == 0))
            return &routes[i];
    }
    return NULL;
}

static bool method_allowed(const route_def *rt, const char *method)
{
    size_t ml = strlen(method);
    for (const char *p = rt->allow; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == ml && memcmp(p, method, n) == 0)
            return true;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return false;
}

static bool keeps_body(const req *q)
{
    return q->rt && (q->rt->id == ROUTE_ENROLL || q->rt->id == ROUTE_SYNC);
}

/*
 * A PUT's headers: who may upload (the roles that may attach photos), the
 * range, the limits, then the device's own upload of the blob.  A blob the
 * device may read and that is stored is answered 200 after its chunk is
 * read and its signature checked; one it may not read is uploaded like an
 * absent one, all of it (docs/protocol.md §4.3).
 */
static enum MHD_Result begin_upload(req *q, struct MHD_Connection *c, bool has_cl, uint64_t clen)
{
    const sd_config *cfg = q->h->d.cfg;
    if (!sc_policy_allows_some(q->who.role, SCPB__OP__BODY_PHOTO_ATTACH)) {
        const char *role = sc_name_of(&sc_names_role, q->who.role);
        return send_error(q, c, MHD_HTTP_FORBIDDEN, R_FORBIDDEN_ROLE,
                          "the %s role may not attach photos, so it may not upload them",
                          role ? role : "device's");
    }
    const char *cr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_RANGE);
    if (!sd_http_parse_range(cr, &q->r_start, &q->r_len, &q->r_total))
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_BAD_FIELD,
                          "Content-Range must be \"bytes START-END/TOTAL\" with START <= END < TOTAL");
    if (q->r_total > cfg->blob_max)
        return send_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, R_TOO_LARGE,
                          "blob of %" PRIu64 " bytes exceeds blobs.max_size %" PRIu64, q->r_total,
                          cfg->blob_max);
    if (q->r_len > cfg->blob_chunk_max)
        return send_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, R_TOO_LARGE,
                          "chunk of %" PRIu64 " bytes exceeds blobs.chunk_max %" PRIu64, q->r_len,
                          cfg->blob_chunk_max);
    if (!has_cl || clen != q->r_len)
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_BAD_FIELD,
                          "Content-Length must be END-START+1 = %" PRIu64, q->r_len);
    uint64_t offset = 0;
    bool visible = false;
    sd_blob_info info;
    sc_err e;
    sc_err_clear(&e);
    if (blob_visible(q, &visible, &e) != SC_OK ||
        sd_blobs_stat(q->h->d.blobs, q->who.device, q->blob, &info, &e) != SC_OK)
        return send_err(q, c, &e);
    if (visible && info.stored) {
        /* Read, hash and drop the chunk; answer 200 once its signature verified.  The device's
         * own upload of it, if any, is of no more use. */
        if (info.offset)
            sd_blobs_forget(q->h->d.blobs, q->who.device, q->blob);
        q->blob_exists = true;
        return MHD_YES;
    }
    sc_status rc = sd_upload_begin(q->h->d.blobs, q->who.device, q->blob, q->r_start, q->r_len,
                                   q->r_total, visible, &q->up, &offset, &e);
    switch (rc) {
    case SC_OK:
        /* A whole blob in one chunk: the body hash for the signature is its hash too. */
        if (q->authed)
            sd_upload_hash_by_caller(q->up);
        return MHD_YES;
    case SC_ERR_INVALID_TRANSITION:
        return send_error_ex(q, c, MHD_HTTP_CONFLICT, R_BAD_FIELD, NULL, &offset, e.msg);
    case SC_ERR_LIMIT:
        return send_error_ex(q, c, MHD_HTTP_INSUFFICIENT_STORAGE, R_QUOTA, NULL, &offset, e.msg);
    case SC_ERR_TOO_LARGE:
        return send_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, R_TOO_LARGE, "%s", e.msg);
    case SC_ERR_MALFORMED:
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_BAD_FIELD, "%s", e.msg);
    default:
        return send_error_ex(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, R_STORAGE, NULL, &offset, e.msg);
    }
}

/*
 * The signature headers, their time, the device's share of the replay
 * cache, then the device itself.  The share comes before the register is
 * asked about the device: a device flooding with requests costs a lookup
 * in memory per request, not a read of the register.
 */
static enum MHD_Result auth_headers(req *q, struct MHD_Connection *c)
{
    sd_http *h = q->h;
    sd_auth_headers ah = {
        .device = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_DEVICE),
        .time = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_TIME),
        .nonce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_NONCE),
        .signature = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_SIGNATURE),
        .body_hash = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_BODY_HASH),
    };
    sc_err e;
    sc_err_clear(&e);
    const sc_env *env = h->d.env;
    int64_t now = env->now_ms(env->ctx);
    if (sd_auth_parse(h->d.auth, &ah, now, &q->ar, &e) != SC_OK ||
        sd_auth_admit(h->d.auth, &q->ar, now, &q->retry_ms, &e) != SC_OK ||
        resolve_device(h->d.reg, &q->ar, &q->who, &e) != SC_OK)
        return send_err(q, c, &e);
    q->authed = true;
    sc_sha256_init(&q->hash);
    return MHD_YES;
}

/*
 * A signed request that has a body declares the body's hash, and its
 * signature is checked against it now: nobody but the device's key holder
 * gets a byte of a body read, buffered or written to the blob store.  The
 * bytes are checked against the declared hash when they are all in.
 */
static enum MHD_Result verify_early(req *q, struct MHD_Connection *c, bool has_body)
{
    if (!q->ar.has_body_hash) {
        if (!has_body)
            return MHD_YES; /* verified with the (empty) body at its end, as always */
        return send_error(q, c, MHD_HTTP_UNAUTHORIZED, R_BAD_SIGNATURE,
                          "missing header %s: a signed request with a body declares the body's "
                          "SHA-256 (docs/protocol.md §3)",
                          SD_HDR_BODY_HASH);
    }
    sc_err e;
    sc_err_clear(&e);
    const sc_env *env = q->h->d.env;
    if (sd_auth_check(q->h->d.auth, &q->ar, q->method, q->target, q->target_len, q->ar.body_hash,
                      env->now_ms(env->ctx), &e) != SC_OK)
        return send_err(q, c, &e);
    q->verified = true;
    return MHD_YES;
}

/* The route's body limit (413 over it), and the memory a kept body may take, reserved before it is read. */
static enum MHD_Result body_begin(req *q, struct MHD_Connection *c, bool has_cl, uint64_t clen)
{
    sd_http *h = q->h;
    q->body_limit = q->rt->id == ROUTE_SYNC     ? h->d.cfg->sync_body_max
                    : q->rt->id == ROUTE_ENROLL ? SC_SMALL_BODY_MAX
                                                : IDLE_BODY_MAX;
    if (has_cl && clen > q->body_limit)
        return send_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, R_TOO_LARGE,
                          "body of %" PRIu64 " bytes exceeds the limit of %" PRIu64, clen,
                          q->body_limit);
    if (!keeps_body(q))
        return MHD_YES;
    /* A chunked body may grow to the limit: that is what it holds until it ends. */
    uint64_t want = has_cl ? clen : q->body_limit;
    if (want == 0)
        return MHD_YES;
    /* Only a request whose signature verified draws on its device's share. */
    const uint8_t *device = q->verified ? q->ar.device : NULL;
    sc_err e;
    sc_err_clear(&e);
    if (sd_budget_take(h->budget, device, want, &q->hold, &e) != SC_OK) {
        /* The device's own bodies end by the request deadline at the latest; others' sooner. */
        q->retry_ms = e.reason == R_RATE_LIMITED ? h->request_ms : 1000;
        return send_err(q, c, &e);
    }
    return MHD_YES;
}

static enum MHD_Result on_headers(req *q, struct MHD_Connection *c, const char *method)
{
    snprintf(q->method, sizeof q->method, "%s", method);
    if (!q->rt)
        return send_error(q, c, MHD_HTTP_NOT_FOUND, R_NONE, "no such path");
    if (!method_allowed(q->rt, method)) {
        char msg[64];
        snprintf(msg, sizeof msg, "allowed: %s", q->rt->allow);
        return send_error_ex(q, c, MHD_HTTP_METHOD_NOT_ALLOWED, R_NONE, q->rt->allow, NULL, msg);
    }
    if (q->rt->id == ROUTE_BLOB) {
        size_t pl = strlen(q->rt->path);
        if (!sd_blob_name_valid(q->target + pl, q->path_len - pl))
            return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_BAD_FIELD,
                              "a blob name is 64 lowercase hex digits");
        memcpy(q->blob, q->target + pl, SD_BLOB_NAME_LEN);
        q->blob[SD_BLOB_NAME_LEN] = '\0';
    }
    enum MHD_Result ret;
    if (q->rt->is_signed && ((ret = auth_headers(q, c)) != MHD_YES || q->answered))
        return ret;

    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    uint64_t clen = 0;
    bool has_cl = cl != NULL;
    if (has_cl && !parse_u64(cl, strlen(cl), &clen))
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, R_MALFORMED, "Content-Length is not a number");
    bool has_body = (has_cl && clen > 0) || (!has_cl && te != NULL);
    if (q->authed && ((ret = verify_early(q, c, has_body)) != MHD_YES || q->answered))
        return ret;
    if (q->rt->id == ROUTE_BLOB && strcmp(method, MHD_HTTP_METHOD_PUT) == 0)
        return begin_upload(q, c, has_cl, clen);
    return body_begin(q, c, has_cl, clen);
}

static enum MHD_Result on_body(req *q, const char *data, size_t n)
{
    /* Bytes that keep coming cannot push the deadline back: past it, hang up. */
    if (sd_deadline_due(q->conn, sd_deadline_now_ms())) {
        q->late = true;
        snprintf(q->message, sizeof q->message, "request not received within %lld s "
                 "(http.request_timeout_s)", (long long)(q->h->request_ms / 1000));
        return MHD_NO;
    }
    q->body_seen += n;
    if (q->authed)
        sc_sha256_update(&q->hash, data, n);
    if (q->up || q->store_failed) {
        sc_err e;
        sc_err_clear(&e);
        if (q->up && sd_upload_write(q->up, data, n, &e) != SC_OK) {
            /* Keep reading (the chunk is bounded) so the client gets its 503. */
            q->store_failed = true;
            snprintf(q->message, sizeof q->message, "%s", e.msg);
            sd_upload_abort(q->up);
            q->up = NULL;
        }
        return MHD_YES;
    }
    if (q->blob_exists)
        return MHD_YES;
    if (q->over || q->body_seen > q->body_limit) {
        if (!q->over) {
            q->over = true;
            free(q->body);
            q->body = NULL;
            q->body_len = q->body_cap = 0;
        }
        /* Discard up to the limit once more, so the client can read its 413; beyond that, hang up. */
        return q->body_seen > 2 * q->body_limit ? MHD_NO : MHD_YES;
    }
    if (!keeps_body(q))
        return MHD_YES;
    if (n > q->body_cap - q->body_len) {
        /*
         * Only what has arrived is buffered: grow by doubling, never past
         * what was reserved (the Content-Length, or the limit when chunked),
         * so a client that declares a big body and holds back its bytes
         * holds no memory for them.
         */
        size_t want = q->body_len + n;
        if (want > q->hold.bytes) {
            /* More than was declared: libmicrohttpd does not let it happen; refuse, do not grow. */
            q->store_failed = true;
            snprintf(q->message, sizeof q->message, "body longer than its Content-Length");
            return MHD_YES;
        }
        size_t cap = q->body_cap ? q->body_cap : BODY_CHUNK_MIN;
        while (cap < want)
            cap *= 2;
        if (cap > q->hold.bytes)
            cap = (size_t)q->hold.bytes;
        uint8_t *nb = realloc(q->body, cap);
        if (!nb) {
            q->store_failed = true;
            snprintf(q->message, sizeof q->message, "out of memory");
            return MHD_YES;
        }
        q->body = nb;
        q->body_cap = cap;
    }
    memcpy(q->body + q->body_len, data, n);
    q->body_len += n;
    return MHD_YES;
}

/*
 * The whole body is in: it must hash to what was signed (declared up
 * front, or checked now for a request without a body), then its nonce is
 * remembered.  bh gets the body's hash.
 */
static sc_status auth_complete(req *q, uint8_t bh[SC_HASH_LEN], sc_err *e)
{
    sd_auth *a = q->h->d.auth;
    const sc_env *env = q->h->d.env;
    int64_t now = env->now_ms(env->ctx);
    sc_sha256_final(&q->hash, bh);
    if (!q->verified)
        return sd_auth_verify(a, &q->ar, q->method, q->target, q->target_len, bh, now,
                              &q->retry_ms, e);
    if (memcmp(bh, q->ar.body_hash, SC_HASH_LEN) != 0)
        return sc_err_set(e, SC_ERR_BAD_SIGNATURE, R_BAD_SIGNATURE,
                          "the body does not hash to its %s (changed or cut in transit)",
                          SD_HDR_BODY_HASH);
    return sd_auth_record(a, &q->ar, now, &q->retry_ms, e);
}

static enum MHD_Result on_complete(req *q, struct MHD_Connection *c)
{
    sd_http *h = q->h;
    /* Everything is received: answering may take its time (a group commit), it is not reading. */
    sd_deadline_set(q->conn, 0);
    if (q->over)
        return send_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, R_TOO_LARGE,
                          "body exceeds the limit of %" PRIu64 " bytes", q->body_limit);
    if (q->store_failed) {
        sd_blob_info info = {0};
        sc_err e;
        if (q->blob[0])
            sd_blobs_stat(h->d.blobs, q->who.device, q->blob, &info, &e);
        char msg[SC_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", q->message);
        return send_error_ex(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, R_STORAGE, NULL,
                             q->blob[0] ? &info.offset : NULL, msg);
    }
    if (q->authed) {
        uint8_t *bh = q->body_hash;
        sc_err e;
        sc_err_clear(&e);
        if (auth_complete(q, bh, &e) != SC_OK) {
            /* The chunk's bytes are not the device's: cut them off. */
            sd_upload_abort(q->up);
            q->up = NULL;
            return send_err(q, c, &e);
        }
        if (q->up)
            sd_upload_set_digest(q->up, bh);
    }
    switch (q->rt->id) {
    case ROUTE_ENROLL:
        return do_enroll(q, c);
    case ROUTE_SYNC:
        return do_sync(q, c);
    case ROUTE_BLOB:
        if (strcmp(q->method, MHD_HTTP_METHOD_PUT) == 0)
            return do_blob_put(q, c);
        return do_blob_read(q, c, strcmp(q->method, MHD_HTTP_METHOD_HEAD) == 0);
    case ROUTE_CHECKPOINT:
        return do_checkpoint(q, c);
    case ROUTE_INCLUSION:
        return do_inclusion(q, c);
    case ROUTE_CONSISTENCY:
        return do_consistency(q, c);
    case ROUTE_ENTRIES:
        return do_entries(q, c);
    case ROUTE_HEALTH:
        return do_health(q, c);
    case ROUTE_METRICS:
        return do_metrics(q, c);
    case ROUTE_NONE:
        break;
    }
    return send_error(q, c, MHD_HTTP_NOT_FOUND, R_NONE, "no such path");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    req *q = *con_cls;
    if (!q)
        return MHD_NO; /* the URI callback could not allocate: hang up */
    if (!q->seen) {
        q->seen = true;
        return on_headers(q, c, method);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->answered)
            return MHD_YES;
        return on_body(q, upload_data, n);
    }
    if (q->answered)
        return MHD_YES;
    return on_complete(q, c);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    sd_http *h = cls;
    req *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    size_t n = strlen(uri);
    q->target = malloc(n + 1);
    if (!q->target) {
        free(q);
        return NULL;
    }
    memcpy(q->target, uri, n + 1);
    q->target_len = n;
    const char *qm = memchr(uri, '?', n);
    q->path_len = qm ? (size_t)(qm - uri) : n;
    q->rt = find_route(q->target, q->path_len);
    q->h = h;
    clock_gettime(CLOCK_MONOTONIC, &q->t0);
    /* The request line is in: the rest of this request has request_timeout_s at most. */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    q->conn = ci ? ci->socket_context : NULL;
    sd_deadline_tighten(q->conn, sd_deadline_now_ms() + h->request_ms);
    sd_log_request_id(q->id);
    atomic_fetch_add(&h->inflight, 1);
    return q;
}

/* Whether a share refusal gets its log line; *dropped: how many were left out before it. */
static bool share_refusal_logged(sd_http *h, uint64_t *dropped)
{
    long long sec = (long long)(sd_deadline_now_ms() / 1000);
    long long cur = atomic_load(&h->log_second);
    if (cur != sec && atomic_compare_exchange_strong(&h->log_second, &cur, sec))
        atomic_store(&h->log_count, 0);
    if (atomic_fetch_add(&h->log_count, 1) >= SHARE_LOG_PER_S) {
        atomic_fetch_add(&h->log_dropped, 1);
        return false;
    }
    *dropped = atomic_exchange(&h->log_dropped, 0);
    return true;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)c;
    sd_http *h = cls;
    req *q = *con_cls;
    if (!q)
        return;
    *con_cls = NULL;
    /* A chunk cut off mid-body never verified: its bytes go. */
    sd_upload_abort(q->up);
    q->up = NULL;
    sd_budget_give(h->budget, &q->hold);
    q->late = q->late || sd_deadline_fired(q->conn);
    /* A kept-alive connection may idle, then has a request's time for the next one. */
    sd_deadline_set(q->conn, sd_deadline_now_ms() + h->idle_ms + h->request_ms);

    uint64_t dropped = 0;
    bool share = q->reason == R_RATE_LIMITED || q->reason == R_OVERLOADED;
    if (share && !share_refusal_logged(h, &dropped))
        goto out;
    sd_logline l;
    int level = q->status >= 500 ? SD_LOG_WARN : SD_LOG_INFO;
    sd_log_begin(&l, level, "request");
    sd_log_str(&l, "request_id", q->id);
    sd_log_str(&l, "method", q->method[0] ? q->method : "-");
    sd_log_strn(&l, "path", q->target, q->path_len);
    sd_log_uint(&l, "status", q->status);
    sd_log_double(&l, "duration_ms", elapsed_s(q) * 1000.0);
    if (q->authed)
        sd_log_hex(&l, "device", q->ar.device, SC_KEY_LEN);
    if (q->body_seen)
        sd_log_uint(&l, "bytes_in", q->body_seen);
    if (q->status >= 400 || q->reason) {
        sd_log_str(&l, "reason", reason_name(q->reason));
        sd_log_str(&l, "error", q->message);
    } else if (q->message[0]) {
        sd_log_str(&l, "error", q->message);
    }
    if (q->rt && q->rt->id == ROUTE_SYNC && q->status == 200) {
        sd_log_uint(&l, "pushed", q->pushed);
        sd_log_uint(&l, "accepted", q->accepted);
        sd_log_uint(&l, "duplicate", q->duplicate);
        sd_log_uint(&l, "rejected", q->rejected);
        sd_log_uint(&l, "pulled", q->pulled);
    }
    if (q->blob[0])
        sd_log_str(&l, "blob", q->blob);
    if (dropped)
        sd_log_uint(&l, "unlogged_refusals", dropped);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        sd_log_str(&l, "terminated", q->late ? "deadline"
                                     : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
                                     : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN
                                         ? "shutdown"
                                     : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client_abort"
                                                                                 : "error");
    sd_log_end(&l);
out:
    free(q->body);
    free(q->target);
    free(q);
    atomic_fetch_sub(&h->inflight, 1);
}

/* A connection opens (its receive deadline starts) or closes (before its socket is closed). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    sd_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? sd_deadline_add(h->deadlines, ci->connect_fd,
                                               sd_deadline_now_ms() + h->idle_ms + h->request_ms)
                             : NULL;
    } else {
        sd_deadline_remove(h->deadlines, *socket_context);
        *socket_context = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sd_log(SD_LOG_WARN, "libmicrohttpd", msg);
}

/* Free h and what it owns besides the daemon. */
static void http_free(sd_http *h)
{
    sd_deadline_stop(h->deadlines);
    sd_budget_free(h->budget);
    free(h);
}

/* A new server record with its body budget and deadline sweeper (no daemon yet). */
static sc_status http_new(const sd_http_deps *deps, sd_http **out, sc_err *err)
{
    const sd_config *cfg = deps->cfg;
    sd_http *h = calloc(1, sizeof *h);
    if (!h)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory starting the HTTP server");
    h->d = *deps;
    h->request_ms = (int64_t)cfg->request_timeout_s * 1000;
    h->idle_ms = (int64_t)cfg->connection_timeout_s * 1000;
    atomic_init(&h->inflight, 0);
    atomic_init(&h->draining, false);
    atomic_init(&h->log_second, 0);
    atomic_init(&h->log_count, 0);
    atomic_init(&h->log_dropped, 0);
    if (cfg->metrics_token_file[0]) {
        sc_status rc = sd_metrics_token_load(cfg->metrics_token_file, h->metrics_token, err);
        if (rc != SC_OK) {
            free(h);
            return rc;
        }
        h->has_metrics_token = true;
    }
    sd_budget_limits bl = {
        .total_max = cfg->body_inflight_max,
        .device_max = cfg->body_inflight_device_max,
        .unverified_max = cfg->body_inflight_unverified_max,
        .devices_max = cfg->connection_limit,
    };
    if (sd_budget_new(&bl, &h->budget) != SC_OK) {
        free(h);
        return sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory starting the HTTP server");
    }
    if (sd_deadline_start(&h->deadlines, err) != SC_OK) {
        http_free(h);
        return err->code;
    }
    *out = h;
    return SC_OK;
}

sc_status sd_http_start(const sd_http_deps *deps, sd_http **out, sc_err *err)
{
    *out = NULL;
    const sd_config *cfg = deps->cfg;
    sd_http *h = NULL;
    sc_status rc = http_new(deps, &h, err);
    if (rc != SC_OK)
        return rc;

    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[8], host[sizeof cfg->listen_host];
    snprintf(port, sizeof port, "%u", (unsigned)cfg->listen_port);
    /* "[::1]" in a HOST:PORT is the IPv6 address ::1. */
    size_t hl = strlen(cfg->listen_host);
    if (hl >= 2 && cfg->listen_host[0] == '[' && cfg->listen_host[hl - 1] == ']')
        snprintf(host, sizeof host, "%.*s", (int)(hl - 2), cfg->listen_host + 1);
    else
        snprintf(host, sizeof host, "%s", cfg->listen_host);
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0 || !ai) {
        http_free(h);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot resolve listen address %s: %s",
                          cfg->listen_host, gai_strerror(gai));
    }
    /*
     * poll(), not epoll: libmicrohttpd 0.9.75's edge-triggered epoll loses a
     * FIN that arrives together with the last bytes of a body.  The
     * connection then sits until connection_timeout_s, holding its blob's
     * upload lock (the device resending the chunk is told 409 meanwhile) and
     * keeping a SIGTERM drain waiting (tests/reliab/test_netfault.c).
     */
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_POLL;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /*
     * Each connection gets a memory pool of this many bytes for its request
     * headers and read buffer, held for as long as the connection stays
     * open, so with 1,000 devices connected it was most of syncd's memory
     * (massif: 64 KiB a connection by default).  Our requests carry well
     * under 2 KiB of headers and bodies are copied out as they arrive, so
     * 16 KiB is plenty; a request whose headers do not fit is refused by
     * libmicrohttpd (431).
     */
    const size_t conn_pool = 16 * 1024;
    /* The logger goes first, so MHD reports even option errors through it. */
    h->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->connection_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->connection_timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_pool, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        h, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->connections_per_address,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->mhd) {
        http_free(h);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot listen on %s:%u (see the log for why)",
                          cfg->listen_host, (unsigned)cfg->listen_port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : cfg->listen_port;
    *out = h;
    return SC_OK;
}

uint16_t sd_http_port(const sd_http *h)
{
    return h->port;
}

unsigned sd_http_inflight(const sd_http *h)
{
    return atomic_load(&h->inflight);
}

void sd_http_stop(sd_http *h, int64_t drain_ms)
{
    if (!h)
        return;
    atomic_store(&h->draining, true);
    MHD_socket ls = MHD_quiesce_daemon(h->mhd);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    struct timespec t0, now, nap = {0, 10 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(&h->inflight) > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t ms = (int64_t)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= drain_ms) {
            sd_log(SD_LOG_WARN, "shutdown: requests still in flight after the drain time",
                   NULL);
            break;
        }
        nanosleep(&nap, NULL);
    }
    MHD_stop_daemon(h->mhd);
    http_free(h);
}
