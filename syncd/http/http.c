/*
 * http.c: the HTTP side of syncd (see http.h).
 *
 * Request life cycle with libmicrohttpd:
 *   1. The URI log callback runs first, with the request target exactly as
 *      sent; it allocates the request record (the target is what request
 *      signatures cover, before MHD splits and unescapes it).
 *   2. First handler call (headers only): route (404), method (405), the
 *      blob name (400), a Transfer-Encoding (400: every body comes with its
 *      Content-Length), request headers, their time and the device
 *      (401/403), the device's share of the replay cache (429/503), body
 *      limits (413), the request signature over the declared body hash
 *      (401: a body is never read for a request that does not verify), the
 *      bytes its body may hold in memory (429/503) and, for blob chunks,
 *      the range and the upload offset (400/409/413).  Refusals are
 *      answered here, before the body is read.
 *   3. Body calls: bytes are hashed for the request signature and either
 *      appended to a buffer that grows as they arrive (never past what was
 *      reserved for it) or streamed to the blob store.  libmicrohttpd holds
 *      a body to its Content-Length; should one run over its limit or its
 *      reservation all the same, MHD (0.9.75) cannot queue a response in
 *      the middle of it, so it is discarded from then on and answered at
 *      its end (413, 503); one that keeps going past twice the limit, or
 *      past the request deadline, has its connection closed.
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
#include <fcntl.h>
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
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/logjson.h"
#include "base/metrics.h"
#include "base/netaddr.h"
#include "budget.h"
#include "core/ids.h"
#include "core/limits.h"
#include "core/names.h"
#include "core/reason.h"
#include "deadline.h"
#include "sync/service.h"
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

/* Bodies of requests that carry none by design (GET, HEAD) are read up to this and discarded. */
#define IDLE_BODY_MAX 1024
/* The first buffer of a kept body; it doubles as the bytes arrive. */
#define BODY_CHUNK_MIN 4096
/*
 * Refusals of a share (429 rate_limited, 503 overloaded) logged per second at
 * most: a device flooding at thousands of requests a second must not flood
 * the log too.  The next line logged says how many were left out; the
 * metrics count them all.
 */
#define SHARE_LOG_PER_S 20

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
    sd_service svc;              /* the protocol served, over the same dependencies */
    sd_budget *budget;           /* request bodies in memory; owned */
    sd_deadline *deadlines;      /* receive deadlines of connections; owned */
    sc_par_pool par;             /* helpers verifying pushed ops (svc.par); when has_par */
    bool has_par;
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
    /* who, for the log line */
    bool has_peer;     /* the connection's address is known */
    sd_netaddr peer;   /* the address the connection came from */
    sd_netaddr client; /* the peer, or behind a trusted proxy the address it names */
    /* outcome, for the log line */
    unsigned status;
    int reason;
    const char *log_reason; /* the log's reason when it says more than the answer; static */
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
    bool hang_up;                /* answer with Connection: close: the connection cannot go on */
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
    sd_photo_chunk put;          /* a PUT's chunk; put.up owned until finished or aborted */
    /* sync counts, for the log line */
    sd_sync_counts counts;
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
    /*
     * While draining, after a body that ran over its limit, and when the
     * body's end cannot be told (hang_up), the client reconnects.
     */
    if (atomic_load(&q->h->draining) || q->over || q->hang_up)
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
    if (reason == SC_REASON_REQUEST_TIME) {
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

static enum MHD_Result send_empty(req *q, struct MHD_Connection *c, unsigned status,
                                  const uint64_t *offset)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(0, (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
    if (r && offset)
        add_offset(r, *offset);
    return send_resp(q, c, status, r);
}

/* An answer of the service: a refusal as an Error, or an upload's empty answer. */
static enum MHD_Result send_answer(req *q, struct MHD_Connection *c, const sd_answer *a)
{
    q->log_reason = a->log_reason;
    if (a->status < 300)
        return send_empty(q, c, a->status, a->has_offset ? &a->offset : NULL);
    if (a->retry_ms > 0)
        q->retry_ms = a->retry_ms;
    return send_error_ex(q, c, a->status, a->reason, NULL, a->has_offset ? &a->offset : NULL,
                         a->message);
}

/* A failure that carries its protocol reason (the body budget's). */
static enum MHD_Result send_err(req *q, struct MHD_Connection *c, const sc_err *e)
{
    sd_answer a;
    sd_answer_from_err(e, &a);
    return send_answer(q, c, &a);
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

/* A message the service made, or its refusal; frees the message. */
static enum MHD_Result send_served(req *q, struct MHD_Connection *c, sc_status rc, void *msg,
                                   const sd_answer *a)
{
    enum MHD_Result ret = rc == SC_OK ? send_pb(q, c, MHD_HTTP_OK, (const ProtobufCMessage *)msg)
                                      : send_answer(q, c, a);
    sd_msg_free(msg);
    return ret;
}

static enum MHD_Result do_enroll(req *q, struct MHD_Connection *c)
{
    Scpb__EnrollRequest *er = scpb__enroll_request__unpack(NULL, q->body_len, q->body);
    if (!er)
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, SC_REASON_MALFORMED,
                          "body is not an EnrollRequest");
    Scpb__EnrollResponse *out = NULL;
    sd_answer a;
    sc_status rc = sd_enroll_serve(&q->h->svc, er, &out, &a);
    scpb__enroll_request__free_unpacked(er, NULL);
    return send_served(q, c, rc, out, &a);
}

static enum MHD_Result do_sync(req *q, struct MHD_Connection *c)
{
    sd_http *h = q->h;
    sd_answer a;
    /*
     * The size was checked against sync.body_max before a byte was buffered;
     * the counts of entries are checked on the wire before decoding, which
     * allocates for each.
     */
    if (sd_sync_precheck(&h->svc, q->body, q->body_len, &a) != SC_OK)
        return send_answer(q, c, &a);
    Scpb__SyncRequest *sr = scpb__sync_request__unpack(NULL, q->body_len, q->body);
    /* The message holds its own copy of every op: the raw body can go now, lowering the peak. */
    free(q->body);
    q->body = NULL;
    if (!sr)
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, SC_REASON_MALFORMED,
                          "body is not a SyncRequest");
    sd_req_meta meta;
    memcpy(meta.nonce, q->ar.nonce, sizeof meta.nonce);
    memcpy(meta.body_hash, q->body_hash, SC_HASH_LEN);
    Scpb__SyncResponse *out = NULL;
    enum MHD_Result ret;
    if (sd_sync_serve(&h->svc, &q->who, sr, &meta, &out, &q->counts, &a) != SC_OK) {
        ret = send_answer(q, c, &a);
    } else {
        ret = send_pb(q, c, MHD_HTTP_OK, &out->base);
        if (ret == MHD_YES)
            sd_metrics_sync(elapsed_s(q));
    }
    sd_sync_response_free(out);
    scpb__sync_request__free_unpacked(sr, NULL);
    return ret;
}

static enum MHD_Result do_checkpoint(req *q, struct MHD_Connection *c)
{
    Scpb__Checkpoint *cp = NULL;
    sd_answer a;
    sc_status rc = sd_checkpoint_serve(&q->h->svc, &cp, &a);
    return send_served(q, c, rc, cp, &a);
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
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD,
                          "index and size must be given once each, as decimal numbers");
    Scpb__InclusionProof *p = NULL;
    sd_answer a;
    sc_status rc = sd_inclusion_serve(&q->h->svc, index, size, &p, &a);
    return send_served(q, c, rc, p, &a);
}

static enum MHD_Result do_consistency(req *q, struct MHD_Connection *c)
{
    uint64_t old, size;
    if (!query_pair(q, "old", &old, "size", &size))
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD,
                          "old and size must be given once each, as decimal numbers");
    Scpb__ConsistencyProof *p = NULL;
    sd_answer a;
    sc_status rc = sd_consistency_serve(&q->h->svc, old, size, &p, &a);
    return send_served(q, c, rc, p, &a);
}

static enum MHD_Result do_entries(req *q, struct MHD_Connection *c)
{
    uint64_t start, count;
    if (!query_pair(q, "start", &start, "count", &count))
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD,
                          "start and count must be given once each, as decimal numbers");
    Scpb__LogEntries *le = NULL;
    sd_answer a;
    sc_status rc = sd_entries_serve(&q->h->svc, &q->who, start, count, &le, &a);
    return send_served(q, c, rc, le, &a);
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
    q->reason = SC_REASON_STORAGE;
    struct MHD_Response *r = resp_text(text, CT_TEXT);
    if (r)
        MHD_add_response_header(r, HDR_REASON, reason_name(SC_REASON_STORAGE));
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
        return send_error(q, c, MHD_HTTP_FORBIDDEN, SC_REASON_FORBIDDEN_ROLE,
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
        g.webhook_pending = st.notify_pending;
    }
    size_t len = 0;
    char *text = sd_metrics_render(&g, &len);
    if (!text)
        return send_error(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, SC_REASON_STORAGE, "out of memory");
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_METRICS);
    return send_resp(q, c, MHD_HTTP_OK, r);
}

/* GET and HEAD. */
static enum MHD_Result do_blob_read(req *q, struct MHD_Connection *c, bool head)
{
    int fd = -1;
    uint64_t size = 0;
    sd_answer a;
    if (sd_photo_read(&q->h->svc, &q->who, q->blob, head, &fd, &size, &a) != SC_OK)
        return send_answer(q, c, &a);
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
    sd_answer a;
    sd_photo_put_finish(&q->h->svc, &q->put, q->body_hash, &a);
    return send_answer(q, c, &a);
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
 * range, then the limits and the device's own upload of the blob
 * (sd_photo_put_begin).
 */
static enum MHD_Result begin_upload(req *q, struct MHD_Connection *c, bool has_cl, uint64_t clen)
{
    sd_answer a;
    if (sd_photo_may_upload(&q->who, &a) != SC_OK)
        return send_answer(q, c, &a);
    const char *cr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_RANGE);
    uint64_t start, len, total;
    if (!sd_http_parse_range(cr, &start, &len, &total))
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD,
                          "Content-Range must be \"bytes START-END/TOTAL\" with START <= END < TOTAL");
    if (sd_photo_put_begin(&q->h->svc, &q->who, q->blob, start, len, total, has_cl, clen, q->authed,
                           &q->put, &a) != SC_OK)
        return send_answer(q, c, &a);
    /* The chunk's bytes: its Content-Length, which sd_photo_put_begin held to its range. */
    q->body_limit = clen;
    return MHD_YES;
}

/* The signature headers, their time, the device's share of the replay cache, then the device. */
static enum MHD_Result auth_headers(req *q, struct MHD_Connection *c)
{
    sd_auth_headers ah = {
        .device = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_DEVICE),
        .time = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_TIME),
        .nonce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_NONCE),
        .signature = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_SIGNATURE),
        .body_hash = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SD_HDR_BODY_HASH),
        .user_agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT),
    };
    sd_answer a;
    if (sd_service_identify(&q->h->svc, &ah, &q->ar, &q->who, &a) != SC_OK)
        return send_answer(q, c, &a);
    q->authed = true;
    sc_sha256_init(&q->hash);
    return MHD_YES;
}

/* A request with a body has its signature checked over the declared body hash before a byte is read. */
static enum MHD_Result verify_early(req *q, struct MHD_Connection *c, bool has_body)
{
    sd_answer a;
    if (sd_service_verify_early(&q->h->svc, &q->ar, q->method, q->target, q->target_len, has_body,
                                &q->verified, &a) != SC_OK)
        return send_answer(q, c, &a);
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
        return send_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, SC_REASON_TOO_LARGE,
                          "body of %" PRIu64 " bytes exceeds the limit of %" PRIu64, clen,
                          q->body_limit);
    if (!keeps_body(q))
        return MHD_YES;
    /* What the Content-Length declares; without one there is no body (on_headers). */
    uint64_t want = clen;
    if (want == 0)
        return MHD_YES;
    /* Only a request whose signature verified draws on its device's share. */
    const uint8_t *device = q->verified ? q->ar.device : NULL;
    sc_err e;
    sc_err_clear(&e);
    if (sd_budget_take(h->budget, device, want, &q->hold, &e) != SC_OK) {
        /* The device's own bodies end by the request deadline at the latest; others' sooner. */
        q->retry_ms = e.reason == SC_REASON_RATE_LIMITED ? h->request_ms : 1000;
        return send_err(q, c, &e);
    }
    return MHD_YES;
}

/* The X-Forwarded-For values of a request, the last SC_FORWARDED_HEADERS_MAX of them, in order. */
typedef struct xff_values {
    const char *v[SC_FORWARDED_HEADERS_MAX];
    size_t seen;
} xff_values;

static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    xff_values *x = cls;
    if (key && value && strcasecmp(key, "X-Forwarded-For") == 0)
        x->v[x->seen++ % SC_FORWARDED_HEADERS_MAX] = value;
    return MHD_YES;
}

/* The client the log names: the peer, or the address a trusted proxy names for it (netaddr.h). */
static void find_client(req *q, struct MHD_Connection *c)
{
    const sd_config *cfg = q->h->d.cfg;
    if (!q->has_peer || cfg->n_trusted_proxies == 0)
        return;
    xff_values x = {{NULL}, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_xff, &x);
    const char *ordered[SC_FORWARDED_HEADERS_MAX];
    size_t n = x.seen < SC_FORWARDED_HEADERS_MAX ? x.seen : SC_FORWARDED_HEADERS_MAX;
    for (size_t i = 0; i < n; i++)
        ordered[i] = x.v[(x.seen - n + i) % SC_FORWARDED_HEADERS_MAX];
    q->client =
        sd_netaddr_client(&q->peer, ordered, n, cfg->trusted_proxies, cfg->n_trusted_proxies);
}

static enum MHD_Result on_headers(req *q, struct MHD_Connection *c, const char *method)
{
    snprintf(q->method, sizeof q->method, "%s", method);
    find_client(q, c);
    if (!q->rt)
        return send_error(q, c, MHD_HTTP_NOT_FOUND, SC_REASON_NONE, "no such path");
    if (!method_allowed(q->rt, method)) {
        char msg[64];
        snprintf(msg, sizeof msg, "allowed: %s", q->rt->allow);
        return send_error_ex(q, c, MHD_HTTP_METHOD_NOT_ALLOWED, SC_REASON_NONE, q->rt->allow, NULL, msg);
    }
    if (q->rt->id == ROUTE_BLOB) {
        size_t pl = strlen(q->rt->path);
        if (!sd_blob_name_valid(q->target + pl, q->path_len - pl))
            return send_error(q, c, MHD_HTTP_BAD_REQUEST, SC_REASON_BAD_FIELD,
                              "a blob name is 64 lowercase hex digits");
        memcpy(q->blob, q->target + pl, SD_BLOB_NAME_LEN);
        q->blob[SD_BLOB_NAME_LEN] = '\0';
    }
    /*
     * The limits, the memory reserved and whether a body hash is demanded
     * are all decided from the Content-Length, so a body must come with one,
     * as libspotcheck's always do (libcurl with CURLOPT_POSTFIELDSIZE).
     * libmicrohttpd (0.9.75) lets any Transfer-Encoding override the
     * Content-Length and reads the body its own way (chunks, or to the end of
     * the connection), so a request with one is refused here, its body
     * unread, and its connection closed (RFC 9112 §6.3).
     */
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        q->hang_up = true;
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, SC_REASON_MALFORMED,
                          "Transfer-Encoding is not accepted: send the body with a "
                          "Content-Length");
    }
    enum MHD_Result ret;
    if (q->rt->is_signed && ((ret = auth_headers(q, c)) != MHD_YES || q->answered))
        return ret;

    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t clen = 0;
    bool has_cl = cl != NULL;
    if (has_cl && !parse_u64(cl, strlen(cl), &clen))
        return send_error(q, c, MHD_HTTP_BAD_REQUEST, SC_REASON_MALFORMED, "Content-Length is not a number");
    /* Without a Content-Length (and a Transfer-Encoding, refused above) there is no body. */
    bool has_body = has_cl && clen > 0;
    if (q->authed && ((ret = verify_early(q, c, has_body)) != MHD_YES || q->answered))
        return ret;
    if (q->rt->id == ROUTE_BLOB && strcmp(method, MHD_HTTP_METHOD_PUT) == 0)
        return begin_upload(q, c, has_cl, clen);
    return body_begin(q, c, has_cl, clen);
}

/*
 * After a body went wrong (over its limit, or not kept or stored), whether
 * to read on: MHD (0.9.75) cannot answer before the body ends, so up to the
 * limit once more is read and dropped for the client to get its answer;
 * beyond that, hang up.
 */
static enum MHD_Result read_on(const req *q)
{
    return q->body_seen > 2 * q->body_limit ? MHD_NO : MHD_YES;
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
    if (q->put.up || q->store_failed) {
        sc_err e;
        sc_err_clear(&e);
        if (q->put.up && sd_upload_write(q->put.up, data, n, &e) != SC_OK) {
            /* Keep reading (the chunk is bounded) so the client gets its 503. */
            q->store_failed = true;
            snprintf(q->message, sizeof q->message, "%s", e.msg);
            sd_upload_abort(q->put.up);
            q->put.up = NULL;
        }
        return q->store_failed ? read_on(q) : MHD_YES;
    }
    if (q->put.exists)
        return read_on(q);
    if (q->over || q->body_seen > q->body_limit) {
        if (!q->over) {
            q->over = true;
            free(q->body);
            q->body = NULL;
            q->body_len = q->body_cap = 0;
        }
        return read_on(q);
    }
    if (!keeps_body(q))
        return MHD_YES;
    if (n > q->body_cap - q->body_len) {
        /*
         * Only what has arrived is buffered: grow by doubling, never past
         * what was reserved (the Content-Length), so a client that
         * declares a big body and holds back its bytes holds no memory for
         * them.
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

static enum MHD_Result on_complete(req *q, struct MHD_Connection *c)
{
    sd_http *h = q->h;
    /* Everything is received: answering may take its time (a group commit), it is not reading. */
    sd_deadline_set(q->conn, 0);
    if (q->over)
        return send_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, SC_REASON_TOO_LARGE,
                          "body exceeds the limit of %" PRIu64 " bytes", q->body_limit);
    if (q->store_failed) {
        char msg[SC_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", q->message);
        if (q->blob[0]) {
            sd_answer a;
            sd_photo_put_failed(&h->svc, &q->who, &q->put, msg, &a);
            return send_answer(q, c, &a);
        }
        return send_error_ex(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, SC_REASON_STORAGE, NULL, NULL,
                             msg);
    }
    if (q->authed) {
        sd_answer a;
        sc_sha256_final(&q->hash, q->body_hash);
        if (sd_service_verify_body(&h->svc, &q->ar, q->verified, q->method, q->target,
                                   q->target_len, q->body_hash, &a) != SC_OK) {
            /* The chunk's bytes are not the device's: cut them off. */
            sd_upload_abort(q->put.up);
            q->put.up = NULL;
            return send_answer(q, c, &a);
        }
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
    return send_error(q, c, MHD_HTTP_NOT_FOUND, SC_REASON_NONE, "no such path");
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
    const union MHD_ConnectionInfo *ai =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    q->has_peer = ai && sd_netaddr_from_sockaddr(ai->client_addr, &q->peer);
    q->client = q->peer;
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
    sd_upload_abort(q->put.up);
    q->put.up = NULL;
    sd_budget_give(h->budget, &q->hold);
    q->late = q->late || sd_deadline_fired(q->conn);
    /* A kept-alive connection may idle, then has a request's time for the next one. */
    sd_deadline_set(q->conn, sd_deadline_now_ms() + h->idle_ms + h->request_ms);

    uint64_t dropped = 0;
    bool share = q->reason == SC_REASON_RATE_LIMITED || q->reason == SC_REASON_OVERLOADED;
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
    if (q->has_peer) {
        char addr[64];
        sd_netaddr_format(&q->client, addr, sizeof addr);
        sd_log_str(&l, "client", addr);
        if (memcmp(&q->client, &q->peer, sizeof q->peer) != 0) {
            sd_netaddr_format(&q->peer, addr, sizeof addr);
            sd_log_str(&l, "proxy", addr);
        }
    }
    if (q->authed)
        sd_log_hex(&l, "device", q->ar.device, SC_KEY_LEN);
    if (q->body_seen)
        sd_log_uint(&l, "bytes_in", q->body_seen);
    if (q->status >= 400 || q->reason) {
        sd_log_str(&l, "reason", q->log_reason ? q->log_reason : reason_name(q->reason));
        sd_log_str(&l, "error", q->message);
    } else if (q->message[0]) {
        sd_log_str(&l, "error", q->message);
    }
    if (q->rt && q->rt->id == ROUTE_SYNC && q->status == 200) {
        sd_log_uint(&l, "pushed", q->counts.pushed);
        sd_log_uint(&l, "accepted", q->counts.accepted);
        sd_log_uint(&l, "duplicate", q->counts.duplicate);
        sd_log_uint(&l, "rejected", q->counts.rejected);
        sd_log_uint(&l, "pulled", q->counts.pulled);
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
    if (h->has_par)
        sc_par_pool_stop(&h->par);
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
    h->svc = (sd_service){deps->cfg,  deps->reg, deps->ingest, deps->blobs,
                          deps->auth, deps->env, deps->seen, NULL};
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
    /* Kept between requests: a thread started per push costs a lone device ~2 ms each. Without
     * the pool (it could not be made), each push starts its own. */
    h->has_par = sc_par_pool_start(&h->par, sc_par_count(SIZE_MAX, 1)) == 0;
    h->svc.par = h->has_par ? &h->par : NULL;
    *out = h;
    return SC_OK;
}

/*
 * The listening socket, bound here rather than by libmicrohttpd, so that a
 * failure names the address asked for and why ("127.0.0.1:8080: Address
 * already in use"), where libmicrohttpd's own message names no port.  The
 * options are libmicrohttpd's: address reuse (a restart does not wait out
 * TIME_WAIT), IPv6 sockets for IPv6 only, non-blocking for the thread pool.
 */
/* Connections the kernel queues before they are accepted: 1,000 devices reconnecting at once. */
#define LISTEN_BACKLOG 1024

static sc_status listen_on(const sd_config *cfg, const struct addrinfo *ai, int *fd, sc_err *err)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    bool ok = s >= 0 && setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
              (ai->ai_family != AF_INET6 ||
               setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0) &&
              bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, LISTEN_BACKLOG) == 0;
    int flags = ok ? fcntl(s, F_GETFL) : -1;
    ok = ok && flags >= 0 && fcntl(s, F_SETFL, flags | O_NONBLOCK) == 0;
    if (!ok) {
        int e = errno;
        if (s >= 0)
            close(s);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot listen on %s:%u: %s", cfg->listen_host,
                          (unsigned)cfg->listen_port, strerror(e));
    }
    *fd = s;
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
    int lfd = -1;
    rc = listen_on(cfg, ai, &lfd, err);
    freeaddrinfo(ai);
    if (rc != SC_OK) {
        http_free(h);
        return rc;
    }
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
        MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->connection_timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_pool,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cfg->connections_per_address, MHD_OPTION_END);
    if (!h->mhd) {
        /* The socket is libmicrohttpd's once given, also when it fails to start: not closed here.
         */
        http_free(h);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot serve HTTP on %s:%u (the log says why)",
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
