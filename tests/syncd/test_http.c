/*
 * test_http.c: the HTTP module in-process on 127.0.0.1:0 over a real
 * register in a temp dir: routing (404, 405), the headers every response
 * carries, body limits (Content-Length; a Transfer-Encoding is refused),
 * malformed bodies, request authentication, enrollment, the log endpoints,
 * blobs over HTTP, /healthz and /metrics, and 503 when the register cannot
 * commit.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ids.h"
#include "http/http.h"
#include "sctest.h"
#include "sctest_inproc.h"
#include "sctest_server.h"

static sct_inproc P;
static sd_http *http;
static char base[64];

static void tune(sd_config *cfg)
{
    cfg->listen_port = 0;
    cfg->threads = 2;
    cfg->sync_body_max = 64 * 1024;
    cfg->batch_max = 5;
    cfg->blob_max = 1024 * 1024;
    cfg->blob_chunk_max = 256 * 1024;
}

static void setup(void)
{
    sct_inproc_open(&P, tune);
    sd_http_deps d = {&P.cfg, P.reg, P.ingest, P.blobs, P.auth, P.svc.env, P.seen};
    sc_err err;
    sc_err_clear(&err);
    ck_assert_int_eq(sd_http_start(&d, &http, &err), SC_OK);
    ck_assert_uint_gt(sd_http_port(http), 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)sd_http_port(http));
}

static void teardown(void)
{
    sd_http_stop(http, 5000);
    sct_inproc_close(&P);
}

/* Enroll key as login over HTTP; returns the device entity id. */
static void enroll(sct_client *c, const sc_keypair *key, const char *login)
{
    char code[64];
    sc_err err;
    sc_err_clear(&err);
    ck_assert_int_eq(sd_register_enroll_code(P.reg, login, 1, code, sizeof code, &err), SC_OK);
    ck_assert_int_eq(sct_enroll(c, code, key, NULL, NULL), 200);
}

/* The Error body agrees with the headers. */
static void assert_error(const sct_resp *r, long status, const char *reason)
{
    ck_assert_int_eq(r->status, status);
    ck_assert_str_eq(r->reason, reason);
    ck_assert_uint_eq(strlen(r->request_id), 16);
    ck_assert_str_eq(r->content_type, "application/x-protobuf");
    ck_assert_int_gt(r->server_time_ms, 0);
    Scpb__Error *e = sct_error(r);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->status, (unsigned)status);
    ck_assert_str_eq(e->request_id, r->request_id);
    ck_assert_ptr_nonnull(e->message);
    ck_assert_uint_gt(strlen(e->message), 0);
    scpb__error__free_unpacked(e, NULL);
}

START_TEST(routing)
{
    sct_client c;
    sct_client_init(&c, base, NULL);
    sct_resp r;
    const char *missing[] = {"/", "/v1", "/v1/syncx", "/v1/sync/", "/v1/blob", "/v1/log",
                             "/healthz/x", "/v2/sync"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        sct_request(&c, "GET", missing[i], NULL, 0, NULL, NULL, &r);
        assert_error(&r, 404, "none");
        sct_resp_dispose(&r);
    }
    sct_request(&c, "GET", "/v1/sync", NULL, 0, NULL, NULL, &r);
    assert_error(&r, 405, "none");
    sct_resp_dispose(&r);
    sct_request(&c, "DELETE", "/v1/blobs/00", NULL, 0, NULL, NULL, &r);
    assert_error(&r, 405, "none");
    sct_resp_dispose(&r);
    sct_request(&c, "POST", "/healthz", "x", 1, NULL, NULL, &r);
    assert_error(&r, 405, "none");
    sct_resp_dispose(&r);
    /* Request ids differ from one response to the next. */
    char first[64];
    sct_request(&c, "GET", "/healthz", NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq((char *)r.body, "ok\n");
    snprintf(first, sizeof first, "%s", r.request_id);
    sct_resp_dispose(&r);
    sct_request(&c, "GET", "/healthz", NULL, 0, NULL, NULL, &r);
    ck_assert_uint_eq(strlen(r.request_id), 16);
    ck_assert_str_ne(first, r.request_id);
    sct_resp_dispose(&r);
    sct_client_dispose(&c);
}
END_TEST

START_TEST(metrics_endpoint)
{
    sct_client c;
    sct_client_init(&c, base, NULL);
    sct_resp r;
    sct_request(&c, "GET", "/nope", NULL, 0, NULL, NULL, &r);
    sct_resp_dispose(&r);
    sct_request(&c, "GET", "/metrics", NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(strncmp(r.content_type, "text/plain; version=0.0.4", 25) == 0);
    ck_assert(strstr((char *)r.body, "syncd_http_requests_total{code=\"404\"}") != NULL);
    ck_assert(strstr((char *)r.body, "\nsyncd_log_size ") != NULL);
    ck_assert(strstr((char *)r.body, "\nsyncd_entities ") != NULL);
    ck_assert(strstr((char *)r.body, "\nsyncd_register_lock_hold_seconds_count ") != NULL);
    ck_assert(strstr((char *)r.body, "\nsyncd_register_lock_wait_seconds_count ") != NULL);
    sct_resp_dispose(&r);
    sct_client_dispose(&c);
}
END_TEST

START_TEST(enrollment)
{
    sct_client c;
    sct_client_init(&c, base, NULL);
    sc_keypair *k1 = sct_key(1), *k2 = sct_key(2);
    char code[64];
    sc_err err;
    ck_assert_int_eq(sd_register_enroll_code(P.reg, "inspector1", 1, code, sizeof code, &err), SC_OK);
    Scpb__EnrollResponse *er = NULL;
    ck_assert_int_eq(sct_enroll(&c, code, k1, "tablet 1", &er), 200);
    ck_assert_ptr_nonnull(er);
    ck_assert_str_eq(er->login, "inspector1");
    ck_assert_int_eq(er->role, SCPB__ROLE__ROLE_INSPECTOR);
    ck_assert_uint_eq(er->server_key.len, SC_KEY_LEN);
    ck_assert(memcmp(er->server_key.data, sd_register_server_key(P.reg), SC_KEY_LEN) == 0);
    ck_assert_ptr_nonnull(er->checkpoint);
    scpb__enroll_response__free_unpacked(er, NULL);
    /* The code is single-use, for another key too. */
    sct_resp r;
    ck_assert_int_eq(sct_enroll(&c, code, k2, NULL, NULL), 403);
    /* A key enrolled already: 409. */
    ck_assert_int_eq(sd_register_enroll_code(P.reg, "inspector1", 1, code, sizeof code, &err), SC_OK);
    ck_assert_int_eq(sct_enroll(&c, code, k1, NULL, NULL), 409);
    /* A proof by another key: 401. */
    Scpb__EnrollRequest q = SCPB__ENROLL_REQUEST__INIT;
    uint8_t proof[SC_SIG_LEN] = {1};
    q.code = code;
    q.has_device_key = true;
    q.device_key.data = (uint8_t *)(uintptr_t)sc_keypair_public(k2);
    q.device_key.len = SC_KEY_LEN;
    q.has_proof = true;
    q.proof.data = proof;
    q.proof.len = sizeof proof;
    uint8_t buf[512];
    size_t n = scpb__enroll_request__pack(&q, buf);
    sct_request(&c, "POST", "/v1/enroll", buf, n, NULL, NULL, &r);
    assert_error(&r, 401, "bad_signature");
    sct_resp_dispose(&r);
    /* Not an EnrollRequest: 400. */
    sct_request(&c, "POST", "/v1/enroll", "\xff\xff\xff", 3, NULL, NULL, &r);
    assert_error(&r, 400, "malformed");
    sct_resp_dispose(&r);
    /* Over 16 KiB: 413, decided from Content-Length before the body is read. */
    size_t big = 16 * 1024 + 1;
    uint8_t *body = calloc(1, big);
    sct_request(&c, "POST", "/v1/enroll", body, big, NULL, NULL, &r);
    assert_error(&r, 413, "too_large");
    ck_assert_str_eq(r.connection, "close");
    sct_resp_dispose(&r);
    free(body);
    sc_keypair_free(k1);
    sc_keypair_free(k2);
    sct_client_dispose(&c);
}
END_TEST

/* Send raw bytes on a new connection and return what comes back until the server closes (malloc'd). */
static char *raw_exchange(const void *req, size_t len, const void *more, size_t more_len,
                          int repeat)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(sd_http_port(http));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    for (int i = 0; i < repeat; i++)
        if (send(fd, more, more_len, MSG_NOSIGNAL) != (ssize_t)more_len)
            break;
    /* Read one response: headers, then Content-Length bytes (or up to the server's close). */
    size_t cap = 65536, n = 0;
    char *out = malloc(cap);
    ssize_t got;
    while (n + 1 < cap && (got = recv(fd, out + n, cap - 1 - n, 0)) > 0) {
        n += (size_t)got;
        out[n] = '\0';
        char *end = strstr(out, "\r\n\r\n");
        const char *cl = strstr(out, "Content-Length: ");
        if (end && cl && cl < end && n >= (size_t)(end + 4 - out) + strtoul(cl + 16, NULL, 10))
            break;
    }
    out[n] = '\0';
    close(fd);
    return out;
}

START_TEST(transfer_encoding_refused)
{
    /*
     * Every body comes with its Content-Length: one with a Transfer-Encoding, beside a
     * Content-Length or not, is refused from its headers and its connection closed.
     */
    static const char *const heads[] = {
        "POST /v1/enroll HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST /v1/enroll HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
        "Transfer-Encoding: chunked\r\n\r\n",
        "POST /v1/sync HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
        "Transfer-Encoding: gzip\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        char *out = raw_exchange(heads[i], strlen(heads[i]), NULL, 0, 0);
        ck_assert_msg(strncmp(out, "HTTP/1.1 400", 12) == 0, "%s: got %.80s", heads[i], out);
        ck_assert(strstr(out, "X-Spotcheck-Reason: malformed") != NULL);
        ck_assert(strstr(out, "Transfer-Encoding is not accepted") != NULL);
        ck_assert(strstr(out, "Connection: close") != NULL);
        free(out);
    }
}
END_TEST

START_TEST(sync_limits_and_malformed)
{
    sc_keypair *k = sct_key(1);
    sct_client c;
    sct_client_init(&c, base, k);
    enroll(&c, k, "inspector1");
    sct_resp r;
    static const char *const pb[] = {"Content-Type: application/x-protobuf", NULL};
    /* Not a SyncRequest. */
    sct_request(&c, "POST", "/v1/sync", "\x0a\xff\x01", 3, pb, NULL, &r);
    assert_error(&r, 400, "malformed");
    sct_resp_dispose(&r);
    /* Over sync.body_max (64 KiB here). */
    size_t big = 64 * 1024 + 1;
    uint8_t *body = calloc(1, big);
    sct_request(&c, "POST", "/v1/sync", body, big, pb, NULL, &r);
    assert_error(&r, 413, "too_large");
    sct_resp_dispose(&r);
    free(body);
    /* More ops than sync.batch_max (5 here): refused before any is opened. */
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    ProtobufCBinaryData ops[6];
    for (int i = 0; i < 6; i++) {
        ops[i].data = (uint8_t *)"junk";
        ops[i].len = 4;
    }
    sr.n_ops = 6;
    sr.ops = ops;
    uint8_t buf[256];
    size_t n = scpb__sync_request__pack(&sr, buf);
    sct_request(&c, "POST", "/v1/sync", buf, n, pb, NULL, &r);
    assert_error(&r, 413, "batch_limit");
    sct_resp_dispose(&r);
    /* A cursor syncd did not make. */
    Scpb__SyncRequest s2 = SCPB__SYNC_REQUEST__INIT;
    s2.has_cursor = true;
    s2.cursor.data = (uint8_t *)"\xff\xff\xff\xff";
    s2.cursor.len = 4;
    n = scpb__sync_request__pack(&s2, buf);
    sct_request(&c, "POST", "/v1/sync", buf, n, pb, NULL, &r);
    assert_error(&r, 400, "malformed");
    sct_resp_dispose(&r);
    /* Junk ops within the limit are per-op rejections, not a failed request. */
    sr.n_ops = 2;
    n = scpb__sync_request__pack(&sr, buf);
    sct_request(&c, "POST", "/v1/sync", buf, n, pb, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    Scpb__SyncResponse *resp = scpb__sync_response__unpack(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(resp);
    ck_assert_uint_eq(resp->n_results, 2);
    ck_assert_int_eq(resp->results[0]->status, SCPB__OP_STATUS__OP_REJECTED);
    ck_assert_int_eq(resp->results[0]->reason, SCPB__REASON__REASON_MALFORMED);
    ck_assert_ptr_nonnull(resp->checkpoint);
    scpb__sync_response__free_unpacked(resp, NULL);
    sct_resp_dispose(&r);
    sct_client_dispose(&c);
    sc_keypair_free(k);
}
END_TEST

START_TEST(request_auth)
{
    sc_keypair *k = sct_key(1), *stranger = sct_key(99);
    sct_client c;
    sct_client_init(&c, base, k);
    enroll(&c, k, "inspector1");
    sct_resp r;
    sct_sign unsigned_ = {.omit = true};
    sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, &unsigned_, &r);
    assert_error(&r, 401, "bad_signature");
    sct_resp_dispose(&r);
    sct_sign corrupt = {.corrupt = true};
    sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, &corrupt, &r);
    assert_error(&r, 401, "bad_signature");
    sct_resp_dispose(&r);
    /* The target signed must be the target sent, query included. */
    sct_sign other_target = {.sig_target = "/v1/log/checkpoint?x=1"};
    sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, &other_target, &r);
    assert_error(&r, 401, "bad_signature");
    sct_resp_dispose(&r);
    /* Outside the clock window: refused with the server's time, to sign again with. */
    sct_sign late = {.time_ms = sct_now_ms() - 10 * 60 * 1000};
    sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, &late, &r);
    assert_error(&r, 401, "request_time");
    ck_assert_int_ge(r.server_time_ms, sct_now_ms() - 60000);
    ck_assert_int_gt(r.not_before_ms, 0);
    sct_resp_dispose(&r);
    /* A body needs its declared hash, and must match it. */
    const char *const pb[] = {"Content-Type: application/x-protobuf", NULL};
    sct_sign no_hash = {.no_body_hash = true};
    sct_request(&c, "POST", "/v1/sync", "\x08\x01", 2, pb, &no_hash, &r);
    assert_error(&r, 401, "bad_signature");
    ck_assert(strstr((const char *)r.body, "X-Spotcheck-Body-Sha256") != NULL);
    sct_resp_dispose(&r);
    /* Headers signed for one body, another body sent (swapped in transit). */
    sct_sign swapped = {.sig_body = "\x08\x02"};
    sct_request(&c, "POST", "/v1/sync", "\x08\x01", 2, pb, &swapped, &r);
    assert_error(&r, 401, "bad_signature");
    ck_assert(strstr((const char *)r.body, "does not hash") != NULL);
    sct_resp_dispose(&r);
    /* A declared hash the signature does not cover. */
    sct_sign other_hash = {.body_hash = "00000000000000000000000000000000"
                                        "00000000000000000000000000000000"};
    sct_request(&c, "POST", "/v1/sync", "\x08\x01", 2, pb, &other_hash, &r);
    assert_error(&r, 401, "bad_signature");
    ck_assert(strstr((const char *)r.body, "does not verify") != NULL);
    sct_resp_dispose(&r);
    /* Good, then the same nonce again: a replay. */
    sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    sct_resp_dispose(&r);
    sct_sign replay = {.nonce = c.last_nonce, .time_ms = c.last_time_ms};
    sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, &replay, &r);
    assert_error(&r, 401, "nonce_used");
    sct_resp_dispose(&r);
    /* A key that was never enrolled. */
    sct_client s;
    sct_client_init(&s, base, stranger);
    sct_request(&s, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r);
    assert_error(&r, 401, "unknown_device");
    sct_resp_dispose(&r);
    sct_client_dispose(&s);
    sct_client_dispose(&c);
    sc_keypair_free(k);
    sc_keypair_free(stranger);
}
END_TEST

START_TEST(log_endpoints)
{
    sc_keypair *k = sct_key(1), *ka = sct_key(2);
    sct_client c, a;
    sct_client_init(&c, base, k);
    sct_client_init(&a, base, ka);
    enroll(&c, k, "inspector1");
    enroll(&a, ka, "auditor1");
    sct_resp r;
    sct_request(&c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    Scpb__Checkpoint *cp = scpb__checkpoint__unpack(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(cp);
    uint64_t size = cp->size;
    ck_assert_uint_gt(size, 10);
    ck_assert_ptr_nonnull(cp->note);
    scpb__checkpoint__free_unpacked(cp, NULL);
    sct_resp_dispose(&r);

    char t[128];
    snprintf(t, sizeof t, "/v1/log/proof/inclusion?index=3&size=%llu", (unsigned long long)size);
    sct_request(&c, "GET", t, NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    Scpb__InclusionProof *ip = scpb__inclusion_proof__unpack(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(ip);
    ck_assert_uint_eq(ip->leaf_index, 3);
    ck_assert_uint_gt(ip->n_hashes, 0);
    scpb__inclusion_proof__free_unpacked(ip, NULL);
    sct_resp_dispose(&r);
    const char *bad[] = {"/v1/log/proof/inclusion", "/v1/log/proof/inclusion?index=3",
                         "/v1/log/proof/inclusion?index=x&size=4",
                         "/v1/log/proof/inclusion?index=1&index=2&size=4",
                         "/v1/log/proof/inclusion?index=4&size=4",
                         "/v1/log/proof/inclusion?index=0&size=99999",
                         "/v1/log/proof/consistency?old=0&size=4",
                         "/v1/log/proof/consistency?old=5&size=4",
                         "/v1/log/entries?start=0&count=0", "/v1/log/entries?start=0&count=1001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sct_request(&a, "GET", bad[i], NULL, 0, NULL, NULL, &r);
        ck_assert_msg(r.status == 400, "%s: %ld", bad[i], r.status);
        assert_error(&r, 400, "bad_field");
        sct_resp_dispose(&r);
    }
    snprintf(t, sizeof t, "/v1/log/proof/consistency?old=2&size=%llu", (unsigned long long)size);
    sct_request(&c, "GET", t, NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    sct_resp_dispose(&r);
    /* Raw entries hold unannounced checks: auditors and admins only. */
    sct_request(&c, "GET", "/v1/log/entries?start=0&count=5", NULL, 0, NULL, NULL, &r);
    assert_error(&r, 403, "forbidden_role");
    sct_resp_dispose(&r);
    sct_request(&a, "GET", "/v1/log/entries?start=0&count=5", NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    Scpb__LogEntries *le = scpb__log_entries__unpack(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(le);
    ck_assert_uint_eq(le->n_entries, 5);
    ck_assert_uint_eq(le->entries[4]->log_index, 4);
    scpb__log_entries__free_unpacked(le, NULL);
    sct_resp_dispose(&r);
    sct_client_dispose(&c);
    sct_client_dispose(&a);
    sc_keypair_free(k);
    sc_keypair_free(ka);
}
END_TEST

static uint8_t *pattern(size_t n, char name[65])
{
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 31 + (i >> 9));
    uint8_t h[SC_HASH_LEN];
    sc_sha256(b, n, h);
    sc_hex_encode(h, sizeof h, name, 65);
    return b;
}

static long put_chunk(sct_client *c, const char *name, const uint8_t *data, size_t start,
                      size_t len, size_t total, sct_resp *r)
{
    char target[128], range[128];
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    snprintf(range, sizeof range, "Content-Range: bytes %zu-%zu/%zu", start, start + len - 1, total);
    const char *const hdr[] = {range, "Content-Type: application/octet-stream", NULL};
    return sct_request(c, "PUT", target, data + start, len, hdr, NULL, r);
}

START_TEST(blobs_over_http)
{
    sc_keypair *k = sct_key(1);
    sct_client c;
    sct_client_init(&c, base, k);
    enroll(&c, k, "inspector1");
    char name[65], target[128];
    const size_t total = 300 * 1024;
    uint8_t *data = pattern(total, name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    sct_resp r;
    /* Names that are not 64 lowercase hex digits. */
    const char *bad[] = {"/v1/blobs/", "/v1/blobs/abc", "/v1/blobs/..%2f..%2fregister.db",
                         "/v1/blobs/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sct_request(&c, "GET", bad[i], NULL, 0, NULL, NULL, &r);
        assert_error(&r, 400, "bad_field");
        sct_resp_dispose(&r);
    }
    sct_request(&c, "HEAD", target, NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_int_eq(r.offset, 0);
    sct_resp_dispose(&r);
    /* An op names the photo before it goes up, as a tablet pushes its ops first. */
    uint8_t sha[SC_HASH_LEN];
    uint64_t clk = 0;
    sc_hex_decode(name, 64, sha, sizeof sha);
    sct_name_photo(&c, k, &clk, P.fx.target, sha, total, NULL);
    sct_request(&c, "PUT", target, data, 10, NULL, NULL, &r);
    assert_error(&r, 400, "bad_field"); /* no Content-Range */
    sct_resp_dispose(&r);
    put_chunk(&c, name, data, 0, 256 * 1024 + 1, total, &r);
    assert_error(&r, 413, "too_large"); /* over blobs.chunk_max */
    sct_resp_dispose(&r);
    char huge[65];
    uint8_t *tiny = pattern(10, huge);
    put_chunk(&c, huge, tiny, 0, 10, 2 * 1024 * 1024, &r);
    assert_error(&r, 413, "too_large"); /* over blobs.max_size */
    sct_resp_dispose(&r);
    free(tiny);
    /* Two chunks: 202 then 201. */
    ck_assert_int_eq(put_chunk(&c, name, data, 0, 100 * 1024, total, &r), 202);
    ck_assert_int_eq(r.offset, 100 * 1024);
    sct_resp_dispose(&r);
    put_chunk(&c, name, data, 50, 100, total, &r);
    assert_error(&r, 409, "bad_field");
    ck_assert_int_eq(r.offset, 100 * 1024);
    sct_resp_dispose(&r);
    sct_request(&c, "HEAD", target, NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_int_eq(r.offset, 100 * 1024);
    sct_resp_dispose(&r);
    /* A chunk whose request signature fails is cut off again. */
    char range[128];
    snprintf(range, sizeof range, "Content-Range: bytes %d-%zu/%zu", 100 * 1024, total - 1, total);
    const char *const hdr[] = {range, NULL};
    sct_sign corrupt = {.corrupt = true};
    sct_request(&c, "PUT", target, data + 100 * 1024, total - 100 * 1024, hdr, &corrupt, &r);
    assert_error(&r, 401, "bad_signature");
    sct_resp_dispose(&r);
    sct_request(&c, "HEAD", target, NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.offset, 100 * 1024);
    sct_resp_dispose(&r);
    ck_assert_int_eq(put_chunk(&c, name, data, 100 * 1024, total - 100 * 1024, total, &r), 201);
    sct_resp_dispose(&r);
    sct_request(&c, "HEAD", target, NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.content_length, (int64_t)total);
    sct_resp_dispose(&r);
    sct_request(&c, "GET", target, NULL, 0, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, total);
    ck_assert(memcmp(r.body, data, total) == 0);
    sct_resp_dispose(&r);
    /* Stored already: 200, nothing changes. */
    ck_assert_int_eq(put_chunk(&c, name, data, 0, 1000, total, &r), 200);
    sct_resp_dispose(&r);
    /* Bytes that do not hash to the name: 422. */
    char wrong[65];
    uint8_t *w = pattern(5000, wrong);
    w[100] ^= 1;
    put_chunk(&c, wrong, w, 0, 5000, 5000, &r);
    assert_error(&r, 422, "bad_field");
    sct_resp_dispose(&r);
    free(w);
    free(data);
    sct_client_dispose(&c);
    sc_keypair_free(k);
}
END_TEST

START_TEST(storage_failure_is_503)
{
    sc_keypair *k = sct_key(1);
    sct_client c;
    sct_client_init(&c, base, k);
    enroll(&c, k, "inspector1");
    uint64_t clock = 0;
    uint8_t insp[SC_ID_LEN];
    sc_op *open = sct_op_open_inspection(k, &clock, insp, P.fx.target);
    Scpb__SyncResponse *resp = NULL;
    ck_assert_int_eq(sct_sync(&c, &open, 1, NULL, 0, 0, &resp), 200);
    ck_assert_int_eq(resp->results[0]->status, SCPB__OP_STATUS__OP_ACCEPTED);
    uint64_t size = resp->checkpoint->size;
    scpb__sync_response__free_unpacked(resp, NULL);
    /* Notes of 8 KB each cannot fit in a database that may not grow. */
    char text[8001];
    memset(text, 'n', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    sc_op *notes[5];
    for (int i = 0; i < 5; i++)
        notes[i] = sct_op_note(k, &clock, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                               (const uint8_t(*)[SC_HASH_LEN])open->id, 1, text);
    sc_err err;
    ck_assert_int_eq(sd_register_limit_storage(P.reg, 0, &err), SC_OK);
    sct_resp r;
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    ProtobufCBinaryData enc[5];
    for (int i = 0; i < 5; i++) {
        enc[i].data = notes[i]->signed_bytes;
        enc[i].len = notes[i]->signed_len;
    }
    sr.n_ops = 5;
    sr.ops = enc;
    size_t n = scpb__sync_request__get_packed_size(&sr);
    uint8_t *body = malloc(n);
    scpb__sync_request__pack(&sr, body);
    sct_request(&c, "POST", "/v1/sync", body, n, NULL, NULL, &r);
    assert_error(&r, 503, "storage");
    sct_resp_dispose(&r);
    free(body);
    /* Nothing from the request was stored. */
    ck_assert_int_eq(sd_register_limit_storage(P.reg, 100000, &err), SC_OK);
    ck_assert_int_eq(sct_sync(&c, NULL, 0, NULL, 0, 0, &resp), 200);
    ck_assert_uint_eq(resp->checkpoint->size, size);
    scpb__sync_response__free_unpacked(resp, NULL);
    /* And once the disk has room, the same ops go in. */
    ck_assert_int_eq(sct_sync(&c, notes, 5, NULL, 0, 0, &resp), 200);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(resp->results[i]->status, SCPB__OP_STATUS__OP_ACCEPTED);
    scpb__sync_response__free_unpacked(resp, NULL);
    for (int i = 0; i < 5; i++)
        sc_op_free(sct_sys_env(), notes[i]);
    sc_op_free(sct_sys_env(), open);
    sct_client_dispose(&c);
    sc_keypair_free(k);
}
END_TEST

START_TEST(parsers)
{
    uint64_t a = 0, n = 0, t = 0;
    ck_assert(sd_http_parse_range("bytes 0-9/10", &a, &n, &t));
    ck_assert(a == 0 && n == 10 && t == 10);
    ck_assert(sd_http_parse_range("bytes 5-5/6", &a, &n, &t));
    ck_assert(a == 5 && n == 1 && t == 6);
    ck_assert(sd_http_parse_range("bytes 100-9999999999999999998/9999999999999999999", &a, &n, &t));
    const char *bad[] = {NULL, "", "bytes", "bytes 0-9", "bytes 0-9/", "bytes 9-0/10",
                         "bytes 0-10/10", "bytes -1-9/10", "bytes 0-9/10 ", "Bytes 0-9/10",
                         "bytes 0x0-9/10", "bytes 0-9/*", "bytes */10", "bytes 0--9/10",
                         "bytes 00000000000000000000-1/5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!sd_http_parse_range(bad[i], &a, &n, &t), "accepted \"%s\"",
                      bad[i] ? bad[i] : "(null)");
    uint64_t v = 0;
    const char *q = "index=3&size=10&x=y";
    ck_assert_int_eq(sd_http_query_u64(q, strlen(q), "index", &v), 1);
    ck_assert_uint_eq(v, 3);
    ck_assert_int_eq(sd_http_query_u64(q, strlen(q), "size", &v), 1);
    ck_assert_uint_eq(v, 10);
    ck_assert_int_eq(sd_http_query_u64(q, strlen(q), "start", &v), 0);
    ck_assert_int_eq(sd_http_query_u64(q, strlen(q), "x", &v), -1);
    ck_assert_int_eq(sd_http_query_u64(q, strlen(q), "siz", &v), 0);
    const char *dup = "size=1&size=2";
    ck_assert_int_eq(sd_http_query_u64(dup, strlen(dup), "size", &v), -1);
    const char *empty = "size=&index=1";
    ck_assert_int_eq(sd_http_query_u64(empty, strlen(empty), "size", &v), -1);
    /* The length bounds the scan: nothing past it is read. */
    ck_assert_int_eq(sd_http_query_u64("size=12", 6, "size", &v), 1);
    ck_assert_uint_eq(v, 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/http");
    const sct_case cases[] = {
        {"routing", routing},
        {"metrics_endpoint", metrics_endpoint},
        {"enrollment", enrollment},
        {"transfer_encoding_refused", transfer_encoding_refused},
        {"sync_limits_and_malformed", sync_limits_and_malformed},
        {"request_auth", request_auth},
        {"log_endpoints", log_endpoints},
        {"blobs_over_http", blobs_over_http},
        {"storage_failure_is_503", storage_failure_is_503},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown});
    const sct_case plain[] = {{"parsers", parsers}};
    sct_suite_add(s, plain, SCT_COUNT(plain), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
