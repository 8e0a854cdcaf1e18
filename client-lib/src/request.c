/*
 * request.c: signed HTTP requests to syncd, over the handle's transport
 * (transport.c's libcurl by default, or the app's: spotcheck.h,
 * sc_transport).  Nothing here knows how bytes reach the server.
 *
 * Requests are signed as docs/protocol.md §3 says: five headers, the
 * signature over "spotcheck-request-v1\0" METHOD \n TARGET \n TIME \n NONCE
 * \n BODYHASH with the device key, and the body's hash itself, which lets
 * syncd check the signature before it reads the body.  Each try is signed
 * afresh (a new time and nonce), because syncd refuses a nonce it has
 * seen.  Bodies received are capped when the call starts; a server that
 * sends more gets the transfer aborted, never a bigger buffer.
 *
 * Time: requests are signed with the server's clock, not the device's.
 * Every answer carries the server's time (X-Spotcheck-Server-Time); the
 * handle keeps the offset to its own clock from the last answer, so a
 * tablet whose clock is minutes off signs times syncd accepts.  A request
 * refused `request_time` (signed before the server started, or with a
 * clock it had not heard of yet) is signed again at once, with the time
 * and the start boundary (X-Spotcheck-Not-Before) the refusal carries; that
 * retry is not one of `retries`.
 *
 * A request refused `nonce_used` is signed again at once too, with a new
 * nonce, once.  libcurl sends a request a second time, the same bytes, when
 * the kept-alive connection it reused turns out cut before any answer; if
 * the first copy had reached syncd, the second is a replay to it.  Every
 * signed request of the protocol is idempotent (a pushed op already logged
 * is a duplicate, a chunk already stored is answered with the offset), so
 * sending it again under a new nonce changes nothing the first did not.
 *
 * Retries: a failure to connect, a timeout, a connection cut and a 503 are
 * retried with exponential backoff (backoff_ms, doubling) up to `retries`
 * extra tries; anything else is final.  Photo chunks are the exception:
 * after a network failure sync.c sends their bytes again itself, in a
 * smaller chunk.  An answer that is not HTTP is SC_ERR_PROTOCOL, no answer
 * at all SC_ERR_NETWORK, a server whose TLS identity does not verify
 * SC_ERR_TLS (never retried: it will not verify the next time either).
 *
 * Cancellation: sc_client_interrupt (any thread) or a progress callback
 * that answers nonzero sets the handle's flag; a request on the wire is
 * aborted through the transport's progress callback (and its interrupt
 * hook), and no request starts while the flag is up.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/names.h"
#include "core/reason.h"
#include "internal.h"

typedef struct tp_req {
    const char *base;   /* server URL without trailing slash */
    const char *method; /* "GET", "POST", "PUT", "HEAD" */
    const char *target; /* path and query, as signed */
    const uint8_t *body;
    size_t len;
    const char *ctype; /* Content-Type of the body, NULL for none */
    const char *extra; /* one more header line (Content-Range), may be NULL */
    bool sign;
    bool once;          /* no retry after a network failure: the caller sends again */
    size_t cap;         /* response body cap */
    FILE *sink;         /* download: body goes here instead of memory */
    sc_sha256_ctx *sha; /* download: hashes the body */
} tp_req;

typedef struct sink {
    sc_client *c;
    const tp_req *req;
    tp_resp *resp;
    size_t cap;   /* bytes of resp->body allocated */
    uint64_t got; /* bytes received */
    bool over;    /* the cap was exceeded */
    bool failed;  /* out of memory or a write error */
} sink;

static int on_body(void *ud, const void *ptr, size_t n)
{
    sink *k = ud;
    if (k->got + n > k->req->cap) {
        k->over = true;
        return 1;
    }
    k->got += n;
    if (k->req->sink) {
        if (k->req->sha)
            sc_sha256_update(k->req->sha, ptr, n);
        if (fwrite(ptr, 1, n, k->req->sink) != n) {
            k->failed = true;
            return 1;
        }
        return 0;
    }
    tp_resp *r = k->resp;
    if (r->len + n > k->cap) {
        size_t ncap = k->cap ? k->cap : 4096;
        while (ncap < r->len + n)
            ncap *= 2;
        if (ncap > k->req->cap)
            ncap = k->req->cap;
        uint8_t *nb = sc_realloc_array(&k->c->env, r->body, ncap, 1);
        if (!nb) {
            k->failed = true;
            return 1;
        }
        r->body = nb;
        k->cap = ncap;
    }
    memcpy(r->body + r->len, ptr, n);
    r->len += n;
    return 0;
}

/* Case-insensitive header prefix match; returns the value or NULL. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || line[nl] != ':')
        return NULL;
    for (size_t i = 0; i < nl; i++) {
        char a = line[i], b = name[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return NULL;
    }
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *vlen = (size_t)(end - v);
    return v;
}

static bool parse_u64(const char *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;
    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

static int on_header(void *ud, const char *line, size_t n)
{
    sink *k = ud;
    size_t vl;
    const char *v;
    uint64_t u;
    if ((v = header_value(line, n, "X-Spotcheck-Reason", &vl)) != NULL) {
        size_t m = vl < sizeof k->resp->reason - 1 ? vl : sizeof k->resp->reason - 1;
        memcpy(k->resp->reason, v, m);
        k->resp->reason[m] = '\0';
    } else if ((v = header_value(line, n, "X-Spotcheck-Offset", &vl)) != NULL) {
        k->resp->has_offset = parse_u64(v, vl, &k->resp->offset);
    } else if ((v = header_value(line, n, "X-Spotcheck-Server-Time", &vl)) != NULL) {
        /* The server's clock now, against ours now: what to add to ours when signing. */
        if (parse_u64(v, vl, &u) && u <= INT64_MAX)
            k->c->clock_offset_ms = (int64_t)u - sc_env_now_ms(&k->c->env);
    } else if ((v = header_value(line, n, "X-Spotcheck-Not-Before", &vl)) != NULL) {
        if (parse_u64(v, vl, &u) && u <= INT64_MAX)
            k->resp->not_before_ms = (int64_t)u;
    } else if ((v = header_value(line, n, "Retry-After", &vl)) != NULL) {
        if (parse_u64(v, vl, &u) && u <= INT64_MAX)
            k->resp->retry_after_s = (int64_t)u;
    } else if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue or a redirect): forget the old headers. */
        k->resp->reason[0] = '\0';
        k->resp->has_offset = false;
        k->resp->not_before_ms = 0;
        k->resp->retry_after_s = -1;
    }
    return 0;
}

/*
 * While a request is on the wire: stop it when the handle is interrupted,
 * and give a caller of sc_sync_v2 its chance to (during an upload with the
 * bytes of the chunk sent so far, during a photo download with the bytes
 * received so far).
 */
static int on_progress(void *ud, uint64_t sent, uint64_t send_total, uint64_t received,
                       uint64_t receive_total)
{
    sink *k = ud;
    sc_client *c = k->c;
    (void)send_total;
    (void)receive_total;
    if (atomic_load(&c->interrupted))
        return 1;
    cl_progress *p = &c->prog;
    uint64_t wire = p->bytes == CL_WIRE_SENT ? sent : p->bytes == CL_WIRE_RECEIVED ? received : 0;
    /* A photo that brings more bytes than its op said raises the total, never past 100%. */
    uint64_t total = wire && p->done + wire > p->total ? p->done + wire : p->total;
    if (p->fn && p->on_wire && p->phase && p->fn(p->ctx, p->phase, p->done + wire, total) != 0) {
        c->by_progress = true;
        atomic_store(&c->interrupted, 1);
        return 1;
    }
    return 0;
}

/* The header lines of one try: at most eight, of at most 256 bytes each. */
typedef struct hdrs {
    char line[8][256];
    const char *v[8];
    size_t n;
} hdrs;

static sc_status add_header(sc_client *c, hdrs *h, const char *line)
{
    if (h->n == sizeof h->line / sizeof h->line[0] || strlen(line) >= sizeof h->line[0])
        return cl_fail(c, SC_ERR_INTERNAL, 0, "a request header does not fit");
    snprintf(h->line[h->n], sizeof h->line[0], "%s", line);
    h->v[h->n] = h->line[h->n];
    h->n++;
    return SC_OK;
}

/* The time to sign with: the server's clock as last heard, never before its start boundary. */
static int64_t sign_time(sc_client *c)
{
    int64_t t = sc_env_now_ms(&c->env) + c->clock_offset_ms;
    return t < c->not_before_ms ? c->not_before_ms : t;
}

/* The five signature headers (docs/protocol.md §3); out gets the nonce and body hash signed. */
static sc_status sign_headers(sc_client *c, const tp_req *q, hdrs *h, tp_resp *out)
{
    sc_status s = cl_key(c);
    if (s != SC_OK)
        return s;
    uint8_t hash[SC_HASH_LEN], nonce[16], sig[SC_SIG_LEN];
    char bodyhash[SC_HASH_HEX], nonce_hex[33], sig_hex[2 * SC_SIG_LEN + 1], key_hex[SC_HASH_HEX];
    char time_text[24], line[256];
    sc_sha256(q->body ? (const void *)q->body : "", q->body ? q->len : 0, hash);
    memcpy(out->body_sha, hash, SC_HASH_LEN);
    out->has_body_sha = true;
    cl_hex(hash, SC_HASH_LEN, bodyhash, sizeof bodyhash);
    sc_env_random(&c->env, nonce, sizeof nonce);
    memcpy(out->nonce, nonce, sizeof nonce);
    cl_hex(nonce, sizeof nonce, nonce_hex, sizeof nonce_hex);
    snprintf(time_text, sizeof time_text, "%lld", (long long)sign_time(c));
    size_t tl = strlen(q->target);
    size_t mlen = strlen(q->method) + 1 + tl + 1 + strlen(time_text) + 1 + 32 + 1 + 64;
    char *msg = sc_alloc(&c->env, mlen + 1);
    if (!msg)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory signing a request");
    int w = snprintf(msg, mlen + 1, "%s\n%s\n%s\n%s\n%s", q->method, q->target, time_text,
                     nonce_hex, bodyhash);
    s = sc_sign(&c->env, c->key, SC_DOMAIN_REQUEST, (const uint8_t *)msg, (size_t)w, sig);
    sc_free(&c->env, msg);
    if (s != SC_OK)
        return cl_fail(c, s, 0, "could not sign the request");
    cl_hex(sig, SC_SIG_LEN, sig_hex, sizeof sig_hex);
    cl_hex(sc_keypair_public(c->key), SC_KEY_LEN, key_hex, sizeof key_hex);
    const char *const fields[][2] = {{"X-Spotcheck-Device", key_hex},
                                     {"X-Spotcheck-Time", time_text},
                                     {"X-Spotcheck-Nonce", nonce_hex},
                                     {"X-Spotcheck-Signature", sig_hex},
                                     /* The hash signed, sent along, so syncd verifies before it
                                      * reads the body. */
                                     {"X-Spotcheck-Body-Sha256", bodyhash}};
    for (size_t i = 0; s == SC_OK && i < sizeof fields / sizeof fields[0]; i++) {
        snprintf(line, sizeof line, "%s: %s", fields[i][0], fields[i][1]);
        s = add_header(c, h, line);
    }
    return s;
}

/* The TLS trust for this request: the handle's options over what the replica remembers. */
static void apply_trust(const sc_client *c, sc_http_request *h)
{
    const sc_trust *n = &c->net, *r = &c->trust;
    const sc_trust *ca = n->ca_set ? n : r;
    if (ca->ca_len > 0) {
        h->ca_pem = ca->ca;
        h->ca_pem_len = ca->ca_len;
    }
    const char *dir = n->ca_dir ? n->ca_dir : r->ca_dir;
    const char *pin = n->pin ? n->pin : r->pin;
    h->ca_dir = dir && *dir ? dir : NULL;
    h->pin = pin && *pin ? pin : NULL;
    h->proxy = n->proxy;
}

/* One try's state, which the transport reads until the answer is in. */
typedef struct tp_try {
    hdrs h;
    char url[SC_CL_URL_MAX + 1024];
    sink k;
    sc_http_request hr;
    sc_http_result res;
} tp_try;

/* Build the try: the URL, the headers (signed when q says so), the callbacks into out. */
static sc_status try_begin(sc_client *c, const tp_req *q, tp_resp *out, tp_try *t)
{
    char line[256];
    sc_status s = SC_OK;
    tp_resp_dispose(c, out);
    out->retry_after_s = -1;
    memset(t, 0, sizeof *t);
    t->k = (sink){.c = c, .req = q, .resp = out};
    size_t blen = strlen(q->base), tlen = strlen(q->target);
    if (blen + tlen >= sizeof t->url)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "URL too long");
    memcpy(t->url, q->base, blen);
    memcpy(t->url + blen, q->target, tlen + 1);
    /* The app's tokens, then the library's (sc_client_set_app): syncd shows them to admins. */
    snprintf(line, sizeof line, "User-Agent: %s%slibspotcheck/%s", c->app, c->app[0] ? " " : "",
             sc_version());
    if ((s = add_header(c, &t->h, line)) != SC_OK)
        return s;
    if (q->ctype) {
        snprintf(line, sizeof line, "Content-Type: %s", q->ctype);
        if ((s = add_header(c, &t->h, line)) != SC_OK)
            return s;
    }
    if (q->extra && (s = add_header(c, &t->h, q->extra)) != SC_OK)
        return s;
    if (q->sign && (s = sign_headers(c, q, &t->h, out)) != SC_OK)
        return s;
    t->hr = (sc_http_request){.method = q->method,
                              .url = t->url,
                              .target = q->target,
                              .headers = t->h.v,
                              .n_headers = t->h.n,
                              .body = q->body,
                              .body_len = q->body ? q->len : 0,
                              .timeout_ms = c->opt.timeout_ms,
                              .on_header = on_header,
                              .on_body = on_body,
                              .on_progress = on_progress,
                              .sink = &t->k};
    apply_trust(c, &t->hr);
    return SC_OK;
}

/*
 * What the transport's send (status s, t->res) made of the try.  *sent
 * gets how many times the request went out: a transport may send a
 * request again by itself, on a new connection, when the reused
 * connection it went out on dies before an answer (libcurl does).  That is
 * a cut too, so it counts.  *net is true for a failure the transport calls
 * the network's (worth a retry).
 */
static sc_status try_end(sc_client *c, const tp_req *q, tp_resp *out, tp_try *t, sc_status s,
                         bool *net, unsigned *sent)
{
    *net = false;
    *sent = t->res.sends > 1 ? 2 : 1;
    out->status = s == SC_OK ? t->res.status : 0;
    t->res.message[sizeof t->res.message - 1] = '\0';
    const char *why = t->res.message[0] ? t->res.message : sc_strerror(s);
    if (t->k.over)
        return cl_fail(c, SC_ERR_PROTOCOL, 0, "%s %s: the answer exceeds %zu bytes", q->method,
                       q->target, q->cap);
    if (t->k.failed)
        return cl_fail(c, q->sink ? SC_ERR_IO : SC_ERR_NOMEM, 0, "%s %s: cannot keep the answer",
                       q->method, q->target);
    switch (s) {
    case SC_OK:
        return SC_OK;
    case SC_ERR_CANCELLED:
        return tp_cancelled(c, q->target);
    case SC_ERR_NETWORK:
        *net = true;
        return cl_fail(c, SC_ERR_NETWORK, 0, "%s is unreachable (%s %s: %s)", q->base, q->method,
                       q->target, why);
    case SC_ERR_TLS:
        return cl_fail(c, SC_ERR_TLS, 0, "%s: its TLS identity does not verify: %s (%s %s)",
                       q->base, why, q->method, q->target);
    case SC_ERR_NOMEM:
        return cl_fail(c, SC_ERR_NOMEM, 0, "%s %s: out of memory: %s", q->method, q->target, why);
    default:
        return cl_fail(c, SC_ERR_PROTOCOL, 0,
                       "%s answered %s %s with something that is not HTTP: %s", q->base, q->method,
                       q->target, why);
    }
}

/* One try, through the transport's send. */
static sc_status try_once(sc_client *c, const tp_req *q, tp_resp *out, bool *net, unsigned *sent)
{
    tp_try t;
    *net = false;
    *sent = 1;
    sc_status s = try_begin(c, q, out, &t);
    if (s != SC_OK)
        return s;
    s = c->tp.send(c->tp.ctx, &t.hr, &t.res);
    return try_end(c, q, out, &t, s, net, sent);
}

/*
 * A call started by tp_call_start: its request, and its first try when
 * that went out through the transport's start (tp_async).
 */
struct tp_pending {
    tp_req q;
    tp_resp *out;
    bool started;     /* the first try went to the transport: finish or abandon it there */
    sc_status sent_s; /* the transport's status for that try */
    tp_try t;
};

/* The wait before a retry; false when the handle was interrupted meanwhile. */
static bool backoff(sc_client *c, uint32_t *wait)
{
    c->opt.sleep_ms(c->env.ctx, *wait);
    *wait = *wait > UINT32_MAX / 2 ? UINT32_MAX : *wait * 2;
    return !atomic_load(&c->interrupted);
}

/* The call with its retries; first: its first try, already sent (tp_call_finish), or NULL. */
static sc_status request_from(sc_client *c, const tp_req *q, tp_resp *out, tp_pending *first)
{
    if (!first)
        memset(out, 0, sizeof *out);
    sc_status s;
    uint32_t wait = c->opt.backoff_ms;
    long pos = q->sink ? ftell(q->sink) : 0;
    sc_sha256_ctx sha0;
    if (q->sha)
        sha0 = *q->sha;
    unsigned tries = 0;
    bool resigned = false, renonced = false;
    for (uint32_t attempt = 0;;) {
        bool net = false;
        unsigned sent = 1;
        if (first) {
            s = try_end(c, q, out, &first->t, first->sent_s, &net, &sent);
            first = NULL;
        } else {
            if ((s = tp_cancelled(c, q->target)) != SC_OK)
                return s;
            s = try_once(c, q, out, &net, &sent);
        }
        tries += sent;
        out->tries = tries;
        bool refused = s == SC_OK && q->sign && out->status == 401;
        bool resign = refused && !resigned && strcmp(out->reason, "request_time") == 0;
        bool renonce = refused && !renonced && strcmp(out->reason, "nonce_used") == 0;
        bool again = (net && !q->once) || (s == SC_OK && out->status == 503);
        if (renonce) {
            renonced = true;
        } else if (resign) {
            /* The answer set the clock offset; a restarted server also said where it starts. */
            resigned = true;
            if (out->not_before_ms > c->not_before_ms)
                c->not_before_ms = out->not_before_ms;
        } else {
            if (!again || attempt >= c->opt.retries)
                return s;
            attempt++;
            if (!backoff(c, &wait))
                return tp_cancelled(c, q->target);
        }
        if (q->sink) {
            /* Start the download again from where it started, with what the try before wrote
             * (a 503's body, a cut photo) cut off: a shorter answer must not leave its tail
             * behind bytes that the hash, started again too, never saw. */
            if (fseek(q->sink, pos, SEEK_SET) != 0 || fflush(q->sink) != 0 ||
                ftruncate(fileno(q->sink), (off_t)pos) != 0)
                return cl_fail(c, SC_ERR_IO, 0, "cannot rewind a download: %s", strerror(errno));
            if (q->sha)
                *q->sha = sha0;
        }
    }
}

static sc_status request(sc_client *c, const tp_req *q, tp_resp *out)
{
    return request_from(c, q, out, NULL);
}

sc_status tp_call_url(sc_client *c, const char *base, const char *method, const char *target,
                      const uint8_t *body, size_t len, bool sign, size_t cap, tp_resp *out)
{
    tp_req q = {.base = base,
                .method = method,
                .target = target,
                .body = body,
                .len = len,
                .sign = sign,
                .cap = cap};
    if (strcmp(method, "POST") == 0)
        q.ctype = "application/x-protobuf";
    return request(c, &q, out);
}

sc_status tp_call(sc_client *c, const char *method, const char *target, const uint8_t *body,
                  size_t len, bool sign, size_t cap, tp_resp *out)
{
    return tp_call_url(c, c->id.server, method, target, body, len, sign, cap, out);
}

sc_status tp_call_start(sc_client *c, const char *target, const uint8_t *body, size_t len,
                        size_t cap, tp_resp *out, tp_pending **pending)
{
    memset(out, 0, sizeof *out);
    tp_pending *p = sc_calloc(&c->env, 1, sizeof *p);
    *pending = p;
    if (!p)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory starting a request");
    p->q = (tp_req){.base = c->id.server,
                    .method = "POST",
                    .target = target,
                    .body = body,
                    .len = len,
                    .ctype = "application/x-protobuf",
                    .sign = true,
                    .cap = cap};
    p->out = out;
    /* An app's transport, an interrupt or a try that cannot be built: all of it at finish. */
    if (!c->tpa || atomic_load(&c->interrupted) || try_begin(c, &p->q, out, &p->t) != SC_OK)
        return SC_OK;
    p->started = true;
    p->sent_s = c->tpa->start(c->tp.ctx, &p->t.hr, &p->t.res);
    return SC_OK;
}

sc_status tp_call_finish(sc_client *c, tp_pending *p)
{
    if (!p)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory starting a request");
    sc_status s;
    if (p->started) {
        if (p->sent_s == SC_OK)
            p->sent_s = c->tpa->finish(c->tp.ctx, &p->t.hr, &p->t.res);
        else
            c->tpa->abandon(c->tp.ctx);
        s = request_from(c, &p->q, p->out, p);
    } else {
        s = request(c, &p->q, p->out);
    }
    sc_free(&c->env, p);
    return s;
}

bool tp_call_ready(sc_client *c, const tp_pending *p)
{
    return p && p->started && p->sent_s == SC_OK && c->tpa->ready(c->tp.ctx);
}

void tp_call_drop(sc_client *c, tp_pending *p)
{
    if (!p)
        return;
    if (p->started)
        c->tpa->abandon(c->tp.ctx);
    tp_resp_dispose(c, p->out);
    sc_free(&c->env, p);
}

sc_status tp_put_chunk(sc_client *c, const char *target, const uint8_t *chunk, size_t len,
                       uint64_t start, uint64_t total, tp_resp *out)
{
    char range[128];
    snprintf(range, sizeof range, "Content-Range: bytes %llu-%llu/%llu", (unsigned long long)start,
             (unsigned long long)(start + len - 1), (unsigned long long)total);
    tp_req q = {.base = c->id.server,
                .method = "PUT",
                .target = target,
                .body = chunk,
                .len = len,
                .ctype = "application/octet-stream",
                .extra = range,
                .sign = true,
                .once = true,
                .cap = SC_CL_SMALL_RESPONSE_MAX};
    return request(c, &q, out);
}

sc_status tp_download(sc_client *c, const char *target, void *file, uint64_t cap,
                      sc_sha256_ctx *sha, tp_resp *out)
{
    tp_req q = {.base = c->id.server,
                .method = "GET",
                .target = target,
                .sign = true,
                .cap = (size_t)cap,
                .sink = file,
                .sha = sha};
    return request(c, &q, out);
}

void tp_resp_dispose(sc_client *c, tp_resp *r)
{
    if (!r)
        return;
    sc_free(&c->env, r->body);
    memset(r, 0, sizeof *r);
}

sc_status tp_fail(sc_client *c, const tp_resp *r, const char *what)
{
    int reason = SC_REASON_NONE;
    if (r->reason[0])
        sc_name_parse(&sc_names_reason, r->reason, &reason);
    char msg[SC_ERR_MSG_MAX] = "";
    if (r->body && r->len && r->len <= SC_CL_SMALL_RESPONSE_MAX) {
        Scpb__Error *e = scpb__error__unpack(NULL, r->len, r->body);
        if (e) {
            if (e->message && sc_utf8_valid(e->message, strlen(e->message)))
                snprintf(msg, sizeof msg, "%s", e->message);
            if (e->has_reason && !reason)
                reason = e->reason;
            scpb__error__free_unpacked(e, NULL);
        }
    }
    sc_status code;
    switch (r->status) {
    case 401:
    case 403:
        code = SC_ERR_FORBIDDEN;
        break;
    case 429: /* this device's own share; the message says when to retry */
    case 503:
        code = SC_ERR_UNAVAILABLE;
        break;
    case 404:
        code = SC_ERR_NOT_FOUND;
        break;
    default:
        code = r->status >= 400 && r->status < 600 ? SC_ERR_SERVER : SC_ERR_PROTOCOL;
        break;
    }
    const char *rn = reason ? sc_name_of(&sc_names_reason, reason) : NULL;
    return cl_fail(c, code, reason, "%s: server answered %ld%s%s%s%s", what, r->status,
                   rn ? " " : "", rn ? rn : "", msg[0] ? ": " : "", msg);
}

sc_status tp_open_default(sc_client *c)
{
    sc_status s = tp_curl_make(c, &c->tp);
    c->tpa = s == SC_OK ? &tp_curl_async : NULL;
    return s;
}

void tp_close(sc_client *c)
{
    if (c->tp.close)
        c->tp.close(c->tp.ctx);
    memset(&c->tp, 0, sizeof c->tp);
    c->tpa = NULL;
}

void tp_begin(sc_client *c)
{
    atomic_store(&c->interrupted, 0);
    c->by_progress = false;
}

sc_status tp_cancelled(sc_client *c, const char *what)
{
    if (!atomic_load(&c->interrupted))
        return SC_OK;
    return cl_fail(c, SC_ERR_CANCELLED, 0, "%s: cancelled by %s", what,
                   c->by_progress ? "the progress callback" : "sc_client_interrupt");
}

void tp_progress(sc_client *c, const char *phase, uint64_t done, uint64_t total)
{
    cl_progress *p = &c->prog;
    p->phase = phase;
    p->done = done;
    p->total = total;
    if (p->fn && p->fn(p->ctx, phase, done, total) != 0) {
        c->by_progress = true;
        atomic_store(&c->interrupted, 1);
    }
}

void sc_client_interrupt(sc_client *c)
{
    if (!c)
        return;
    atomic_store(&c->interrupted, 1);
    if (c->tp.interrupt)
        c->tp.interrupt(c->tp.ctx);
}

sc_status sc_client_set_transport(sc_client *c, const sc_transport *t)
{
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    if (t && (t->version != SC_TRANSPORT_VERSION || !t->send))
        return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                       "sc_client_set_transport: version %d (this library knows %d) or no send",
                       t->version, SC_TRANSPORT_VERSION);
    tp_close(c);
    if (!t)
        return tp_open_default(c);
    c->tp = *t;
    return SC_OK;
}
