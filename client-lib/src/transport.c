/*
 * transport.c: the default transport (spotcheck.h, sc_transport) over
 * libcurl.  The only module that touches libcurl.
 *
 * It sends one request as request.c built it, signed and capped, and hands
 * the answer back through the request's callbacks.  It keeps one easy
 * handle per client handle, driven by one multi handle, so connections
 * (and TLS sessions) are reused from request to request.  Driving it by
 * hand lets a request be started and finished later on the same thread
 * (tp_async): the caller works while the server answers, and no callback
 * ever runs on another thread.
 *
 * TLS: a CA given (PEM bytes, or a directory) replaces the system's store,
 * it does not add to it; with none given, $CURL_CA_BUNDLE and then
 * $SSL_CERT_FILE name the bundle, as for the curl tool, else libcurl's
 * built-in store is used.  A pin (CURLOPT_PINNEDPUBLICKEY, sha256// form)
 * is checked on top of the CA.  A failure of either is SC_ERR_TLS with
 * what failed in words, never "not HTTP".  The proxy given (or "" for none)
 * replaces libcurl's reading of the environment.
 *
 * An HTTP/1 answer whose head gives no length (cut_unframed) is reported
 * cut, SC_ERR_NETWORK: libcurl would take a head cut before its
 * Content-Length line for a whole answer with an empty body.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* One transfer: the request, and how its answer's body was delimited. */
typedef struct call {
    const sc_http_request *q;
    bool framed; /* the last answer's head gave a Content-Length or a chunked encoding */
} call;

typedef struct curl_tp {
    sc_env env; /* the client's allocator, to free this */
    CURL *h;    /* made on the first request */
    CURLM *m;   /* drives h: one connection cache for every request */
    bool open;  /* the last transfer left a connection to reuse */
    bool busy;  /* h is in m: a transfer started and not yet settled */
    bool done;  /* that transfer ended (rc) */
    CURLcode rc;
    struct curl_slist *hdr;       /* its header lines */
    call k;                       /* its header callback's state */
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's words about the last failure */
} curl_tp;

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    const sc_http_request *q = ud;
    size_t n = size * nmemb;
    return q->on_body(q->sink, ptr, n) == 0 ? n : 0;
}

/* Does the header line name `name` (case-insensitively), and does its value contain `has`? */
static bool header_is(const char *line, size_t n, const char *name, const char *has)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return false;
    if (!has)
        return true;
    size_t h = strlen(has);
    for (size_t i = k + 1; i + h <= n; i++)
        if (strncasecmp(line + i, has, h) == 0)
            return true;
    return false;
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
    call *k = ud;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0)
        k->framed = false; /* a new answer (after a 1xx, or a request sent again) */
    else if (header_is(line, n, "content-length", NULL) ||
             header_is(line, n, "transfer-encoding", "chunked"))
        k->framed = true;
    return k->q->on_header(k->q->sink, line, n) == 0 ? n : 0;
}

/*
 * An HTTP/1 answer whose head gives neither a Content-Length nor a chunked
 * encoding ends where its connection ends, and libcurl takes it as whole:
 * a head cut on the way before its Content-Length line then reads as a
 * complete answer with no body.  syncd delimits every body, so such an
 * answer is treated as cut: a network failure, retried like any other.
 */
static bool cut_unframed(CURL *h, const sc_http_request *q, const call *k, long status)
{
    long version = 0;
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
    bool http1 = version == CURL_HTTP_VERSION_1_0 || version == CURL_HTTP_VERSION_1_1;
    bool bodiless = strcmp(q->method, "HEAD") == 0 || status == 204 || status == 304 ||
                    (status >= 100 && status < 200);
    return http1 && !bodiless && !k->framed;
}

static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const sc_http_request *q = ud;
    if (!q->on_progress)
        return 0;
    return q->on_progress(q->sink, (uint64_t)ulnow, (uint64_t)ultotal, (uint64_t)dlnow,
                          (uint64_t)dltotal);
}

/* libcurl's codes in the transport's terms; what[] says what failed, for people. */
static sc_status classify(CURLcode rc, const char **what)
{
    *what = NULL;
    switch (rc) {
    case CURLE_OK:
        return SC_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return SC_ERR_NETWORK;
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
        return SC_ERR_CANCELLED;
    case CURLE_OUT_OF_MEMORY:
        return SC_ERR_NOMEM;
    case CURLE_PEER_FAILED_VERIFICATION:
        *what = "its certificate is not trusted";
        return SC_ERR_TLS;
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        *what = "its public key does not match the pin";
        return SC_ERR_TLS;
    case CURLE_SSL_CACERT_BADFILE:
        *what = "the CA certificates given cannot be used";
        return SC_ERR_TLS;
    case CURLE_SSL_CONNECT_ERROR:
        *what = "the TLS handshake failed";
        return SC_ERR_TLS;
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        *what = "TLS failed";
        return SC_ERR_TLS;
    default:
        return SC_ERR_PROTOCOL;
    }
}

/* The CA bundle from the environment when none is given, as the curl tool reads it. */
static const char *ca_from_env(void)
{
    const char *v = getenv("CURL_CA_BUNDLE");
    if (v && *v)
        return v;
    v = getenv("SSL_CERT_FILE");
    return v && *v ? v : NULL;
}

static void set_tls(CURL *h, const sc_http_request *q)
{
    const char *env = q->ca_pem || q->ca_dir ? NULL : ca_from_env();
    if (q->ca_pem) {
        struct curl_blob b = {(void *)(uintptr_t)q->ca_pem, q->ca_pem_len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
    }
    if (q->ca_pem || q->ca_dir) {
        /* Given CAs replace the system's: no default bundle or directory beside them. */
        curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(h, CURLOPT_CAPATH, q->ca_dir);
    } else if (env) {
        curl_easy_setopt(h, CURLOPT_CAINFO, env);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    }
    if (q->pin)
        curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, q->pin);
    if (q->proxy)
        curl_easy_setopt(h, CURLOPT_PROXY, q->proxy);
}

static void curl_abandon(void *ctx);

/* Set h up for q and add it to m; the transfer runs when m is driven (drive). */
static sc_status setup(curl_tp *t, const sc_http_request *q, sc_http_result *res)
{
    curl_abandon(t); /* a transfer started and never finished does not hold the handle */
    memset(res, 0, sizeof *res);
    res->sends = 1;
    if ((!t->h && !(t->h = curl_easy_init())) || (!t->m && !(t->m = curl_multi_init()))) {
        snprintf(res->message, sizeof res->message, "libcurl could not start");
        return SC_ERR_NOMEM;
    }
    CURL *h = t->h;
    struct curl_slist *hdr = NULL;
    curl_easy_reset(h);
    /* No "Expect: 100-continue" round trip for chunk uploads. */
    for (size_t i = 0; i <= q->n_headers; i++) {
        struct curl_slist *n = curl_slist_append(hdr, i < q->n_headers ? q->headers[i] : "Expect:");
        if (!n) {
            curl_slist_free_all(hdr);
            snprintf(res->message, sizeof res->message, "out of memory building a request");
            return SC_ERR_NOMEM;
        }
        hdr = n;
    }
    t->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(h, CURLOPT_URL, q->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)q->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)q->timeout_ms);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)(uintptr_t)q);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    t->k = (call){.q = q, .framed = false};
    curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)&t->k);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)(uintptr_t)q);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    set_tls(h, q);
    if (strcmp(q->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(q->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body ? (const char *)q->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
    }
    if (curl_multi_add_handle(t->m, h) != CURLM_OK) {
        curl_slist_free_all(hdr);
        snprintf(res->message, sizeof res->message, "libcurl could not start the transfer");
        return SC_ERR_NOMEM;
    }
    t->hdr = hdr;
    t->busy = true;
    t->done = false;
    t->rc = CURLE_OK;
    return SC_OK;
}

/*
 * Drive the transfer until it ends, or with until_sent until the request's
 * body has gone out (the answer is then the server's business, and waits
 * in the socket until drive is called again).
 */
/* One pass of the transfer, never waiting; t->done and t->rc once it ended. */
static CURLMcode step(curl_tp *t)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(t->m, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(t->m, &left)))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->h) {
            t->done = true;
            t->rc = msg->data.result;
        }
    return mc;
}

static void drive(curl_tp *t, const sc_http_request *q, bool until_sent)
{
    while (!t->done) {
        CURLMcode mc = step(t);
        if (t->done)
            break;
        if (mc != CURLM_OK) {
            t->done = true;
            t->rc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_SEND_ERROR;
            break;
        }
        if (until_sent) {
            curl_off_t up = 0;
            if (curl_easy_getinfo(t->h, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK &&
                (uint64_t)up >= (uint64_t)q->body_len)
                return;
        }
        curl_multi_poll(t->m, NULL, 0, 100, NULL);
    }
}

/* The outcome of the ended transfer into res; h leaves m. */
static sc_status settle(curl_tp *t, const sc_http_request *q, sc_http_result *res)
{
    CURL *h = t->h;
    CURLcode rc = t->rc;
    long status = 0, connects = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    /* A new connection where the last transfer left one open: libcurl sent the request again
     * after the reused connection died. */
    res->sends = t->open && connects > 0 ? 2 : 1;
    curl_socket_t sock = CURL_SOCKET_BAD;
    t->open =
        curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &sock) == CURLE_OK && sock != CURL_SOCKET_BAD;
    const char *what;
    sc_status s = classify(rc, &what);
    if (s == SC_OK && cut_unframed(h, q, &t->k, status)) {
        s = SC_ERR_NETWORK;
        what = "cut on the way";
        snprintf(t->errbuf, sizeof t->errbuf,
                 "the connection ended in the answer's head, before its length");
    }
    res->status = s == SC_OK ? status : 0;
    if (s != SC_OK) {
        const char *detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
        /* A message for people: a long one is cut, never overrun. */
        int n = snprintf(res->message, sizeof res->message, "%s%s%s", what ? what : "",
                         what ? ": " : "", detail);
        if (n < 0)
            res->message[0] = '\0';
    }
    curl_multi_remove_handle(t->m, h);
    curl_slist_free_all(t->hdr);
    t->hdr = NULL;
    t->busy = false;
    return s;
}

static sc_status curl_send(void *ctx, const sc_http_request *q, sc_http_result *res)
{
    curl_tp *t = ctx;
    sc_status s = setup(t, q, res);
    if (s != SC_OK)
        return s;
    drive(t, q, false);
    return settle(t, q, res);
}

/* tp_async: the first half of curl_send, returning once the request is out (or failed). */
static sc_status curl_start(void *ctx, const sc_http_request *q, sc_http_result *res)
{
    curl_tp *t = ctx;
    sc_status s = setup(t, q, res);
    if (s == SC_OK)
        drive(t, q, true);
    return s;
}

/* tp_async: the second half: wait for the answer of the request curl_start sent. */
static sc_status curl_finish(void *ctx, const sc_http_request *q, sc_http_result *res)
{
    curl_tp *t = ctx;
    memset(res, 0, sizeof *res);
    res->sends = 1;
    if (!t->busy) {
        snprintf(res->message, sizeof res->message, "no request was started");
        return SC_ERR_PROTOCOL;
    }
    drive(t, q, false);
    return settle(t, q, res);
}

/*
 * tp_async: whether the started request's answer is all in, and a 200, so
 * that curl_finish returns it without waiting: the transfer takes whatever
 * has arrived (passes while its socket has more to read), never waiting.
 * An answer cut in its head (cut_unframed) is not in: curl_finish would
 * call it a network failure, and the call would send the request again.
 */
static bool curl_ready(void *ctx)
{
    curl_tp *t = ctx;
    if (!t->busy)
        return false;
    for (int pass = 0; !t->done && pass < 256; pass++) {
        int ready = 0;
        if (step(t) != CURLM_OK)
            return false;
        if (t->done || curl_multi_poll(t->m, NULL, 0, 0, &ready) != CURLM_OK || ready == 0)
            break;
    }
    long status = 0;
    return t->done && t->rc == CURLE_OK &&
           curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200 &&
           !cut_unframed(t->h, t->k.q, &t->k, status);
}

/* tp_async: drop a started request unanswered; its connection is closed, never reused. */
static void curl_abandon(void *ctx)
{
    curl_tp *t = ctx;
    if (!t->busy)
        return;
    curl_multi_remove_handle(t->m, t->h);
    curl_slist_free_all(t->hdr);
    t->hdr = NULL;
    t->busy = false;
    t->open = false;
}

static void curl_close(void *ctx)
{
    curl_tp *t = ctx;
    if (!t)
        return;
    curl_abandon(t);
    if (t->h)
        curl_easy_cleanup(t->h);
    if (t->m)
        curl_multi_cleanup(t->m);
    sc_env env = t->env;
    sc_free(&env, t);
}

sc_status tp_curl_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SC_OK : SC_ERR_INTERNAL;
}

sc_status tp_curl_make(sc_client *c, sc_transport *out)
{
    memset(out, 0, sizeof *out);
    curl_tp *t = sc_calloc(&c->env, 1, sizeof *t);
    if (!t)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    t->env = c->env;
    out->version = SC_TRANSPORT_VERSION;
    out->ctx = t;
    out->send = curl_send;
    out->close = curl_close;
    return SC_OK;
}

const tp_async tp_curl_async = {curl_start, curl_finish, curl_abandon, curl_ready};
