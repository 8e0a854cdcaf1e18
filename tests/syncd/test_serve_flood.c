/*
 * test_serve_flood.c: one client must not starve the others, against a real
 * syncd on loopback (docs/security.md, "Attacks and their tests"; issue 11
 * items 3 and 4).  Each case runs the attack while an honest device syncs,
 * and asserts the refusal, its reason, and that the honest device's work
 * went in:
 *   - nonce_flood: an enrolled device sends signed requests with fresh
 *     nonces as fast as it can; past its quota it gets 429 rate_limited
 *     (with Retry-After), alone.  CI lowers the quota through the config;
 *     SC_SOAK=1 sends the full 1,048,575 requests at the default quota.
 *   - replay_after_restart: a signed pull captured before a restart (kill -9
 *     and a clean stop) is refused after it, request_time, and its answer
 *     carries nothing of what was made since.
 *   - held_back_bodies: connections that declare big bodies and hold back
 *     their last byte, with garbage signatures, with a device's real key,
 *     from several devices, and unsigned enrollments; syncd's memory
 *     (/proc/PID/status) stays within its caps and honest syncs go on.
 *   - trickling_connections: more connections than the connection limit,
 *     trickling their headers or body a byte at a time, from one address;
 *     the per-address limit keeps the honest client's slot and the receive
 *     deadline closes the tricklers however steadily they send.
 *   - verify_flood: one enrolled device pushes big batches of valid signed
 *     ops on four connections at once, each costing syncd a verification
 *     per op on its shared verifier threads; the honest device's pushes go
 *     in meanwhile, every flood request is answered in full, and every op
 *     of both is logged once.
 *   - sync_entries_counted_before_decoding: signed sync bodies of 8 MiB of
 *     one-byte ops, of photos asked about, of unknown or repeated fields
 *     are refused (413 batch_limit, 400 malformed) from their counts on the
 *     wire, before protobuf-c allocates for each entry: syncd's peak memory
 *     barely moves; a body of exactly sync.batch_max ops is served.
 *   - transfer_encoding_refused: a chunked body (beside Content-Length: 0,
 *     or alone), another coding, on enroll and on a signed sync, is refused
 *     400 from the headers and its connection closed: the megabytes sent
 *     after are not read.
 * Connections of attackers come from other loopback addresses (127.0.0.2,
 * ...), so that per-address limits tell them from the honest client.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ids.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"

static sct_live L; /* the register and its syncd, made anew for each test */
static char conf[600];
static sc_keypair *kh;  /* the honest device: inspector1 */
static sct_client ch;
static uint64_t clk;

static const char *const pb[] = {"Content-Type: application/x-protobuf", NULL};

/* Start syncd with settings (a config file's text). */
static void start(const char *settings)
{
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fputs(settings, f);
    fclose(f);
    const char *extra[] = {"--config", conf, NULL};
    sct_server_start(&L.srv, L.data, extra);
}

static void setup(void)
{
    sct_live_open(&L, false);
    snprintf(conf, sizeof conf, "%s/syncd.conf", L.tmp);
    /* Freed memory goes back at once, so resident memory is what syncd holds. */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=0", asan ? asan : "",
             asan && asan[0] ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    kh = sct_key(1);
    clk = 0;
}

static void teardown(void)
{
    sct_client_dispose(&ch);
    sc_keypair_free(kh);
    sct_live_close(&L, false);
}

/* The honest device pushes one new inspection: 200 and accepted, in the log at once. */
static void honest_push(const char *during)
{
    uint8_t id[SC_ID_LEN];
    sc_op *op = sct_op_open_inspection(kh, &clk, id, L.fx.target);
    Scpb__SyncResponse *r = NULL;
    long st = sct_sync(&ch, &op, 1, NULL, 0, 0, &r);
    ck_assert_msg(st == 200, "honest sync during %s: %ld", during, st);
    ck_assert_uint_eq(r->n_results, 1);
    ck_assert_msg(r->results[0]->status == SCPB__OP_STATUS__OP_ACCEPTED,
                  "honest op during %s: %s", during,
                  r->results[0]->message ? r->results[0]->message : "");
    scpb__sync_response__free_unpacked(r, NULL);
    sc_op_free(sct_sys_env(), op);
}

/* Whether hay (n bytes) contains needle (m bytes). */
static bool has_bytes(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

/* The encoding of an empty SyncRequest (a pull from the start); *len gets its size. */
static uint8_t *pull_body(size_t *len)
{
    Scpb__SyncRequest sr = SCPB__SYNC_REQUEST__INIT;
    *len = scpb__sync_request__get_packed_size(&sr);
    uint8_t *b = malloc(*len + 1);
    scpb__sync_request__pack(&sr, b);
    return b;
}

/* ---- a nonce flood from one enrolled device ---- */

typedef struct flooder {
    sct_client c;
    uint64_t sends;            /* requests to send */
    uint64_t ok, limited, other;
    long other_status;
    char other_reason[64];
    int64_t retry_after;       /* of the first 429 */
    char message[256];         /* of the first 429 */
    atomic_int *done;          /* flooders finished; shared */
} flooder;

static void *flood(void *arg)
{
    flooder *f = arg;
    for (uint64_t i = 0; i < f->sends; i++) {
        sct_resp r;
        long st = sct_request(&f->c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r);
        if (st == 200) {
            f->ok++;
        } else if (st == 429 && strcmp(r.reason, "rate_limited") == 0) {
            if (f->limited++ == 0) {
                f->retry_after = r.retry_after;
                Scpb__Error *e = sct_error(&r);
                if (e) {
                    snprintf(f->message, sizeof f->message, "%s", e->message ? e->message : "");
                    scpb__error__free_unpacked(e, NULL);
                }
            }
        } else {
            f->other++;
            f->other_status = st;
            snprintf(f->other_reason, sizeof f->other_reason, "%s", r.reason);
        }
        sct_resp_dispose(&r);
    }
    atomic_fetch_add(f->done, 1);
    return NULL;
}

START_TEST(nonce_flood)
{
    /* CI: a quota of 300 and 800 requests; soak: the default quota and the full flood. */
    bool soak = sct_soak();
    uint64_t quota = soak ? SC_AUTH_DEVICE_NONCES_DEFAULT : 300;
    uint64_t total = soak ? 1048575 : 800;
    char settings[128];
    snprintf(settings, sizeof settings, "auth.device_nonces_max = %" PRIu64 "\n", quota);
    start(soak ? "" : settings);
    sct_client_init(&ch, L.srv.url, kh);
    sct_fixture_enroll(L.data, &ch, kh, "inspector1", "inspector1", NULL);
    sc_keypair *ka = sct_key(2);
    enum { THREADS = 2 };
    flooder fl[THREADS];
    memset(fl, 0, sizeof fl);
    atomic_int done;
    atomic_init(&done, 0);
    for (int i = 0; i < THREADS; i++) {
        sct_client_init(&fl[i].c, L.srv.url, ka);
        fl[i].sends = total / THREADS + (i == 0 ? total % THREADS : 0);
        fl[i].done = &done;
    }
    sct_fixture_enroll(L.data, &fl[0].c, ka, "auditor1", "auditor1", NULL);
    sct_stored before, after;
    sct_stored_get(L.data, &before);

    pthread_t th[THREADS];
    int64_t flood_t0 = sct_mono_ms();
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, flood, &fl[i]), 0);
    /* The honest device keeps pushing as long as the flood runs. */
    unsigned pushes = 0;
    do {
        honest_push("a nonce flood");
        pushes++;
        sct_sleep_ms(50);
    } while (atomic_load(&done) < THREADS || pushes < 5);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    int64_t flood_s = (sct_mono_ms() - flood_t0) / 1000 + 1;
    honest_push("after a nonce flood");
    pushes++;

    uint64_t ok = 0, limited = 0;
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(fl[i].other == 0, "flooder got %ld %s", fl[i].other_status,
                      fl[i].other_reason);
        ok += fl[i].ok;
        limited += fl[i].limited;
    }
    printf("nonce flood: %" PRIu64 " requests, %" PRIu64 " answered, %" PRIu64
           " refused 429; %u honest pushes accepted meanwhile\n",
           total, ok, limited, pushes);
    /*
     * Its quota went through, and every other request was refused with 429's reason.  A flood
     * longer than the replay window (the soak's, under the sanitizers) gets a new quota as its
     * oldest nonces age out: at most one more per skew window.
     */
    uint64_t windows = 1 + (uint64_t)flood_s * 1000 / SC_CLOCK_SKEW_MS_DEFAULT;
    ck_assert_uint_ge(ok, quota);
    ck_assert_uint_le(ok, windows == 1 ? quota : quota * (windows + 1));
    ck_assert_uint_eq(limited, total - ok);
    for (int i = 0; i < THREADS; i++) {
        if (!fl[i].limited)
            continue;
        ck_assert_int_ge(fl[i].retry_after, 1);
        ck_assert_int_le(fl[i].retry_after, 3 * SC_CLOCK_SKEW_MS_DEFAULT / 1000);
        ck_assert_msg(strstr(fl[i].message, "auth.device_nonces_max") != NULL, "message: %s",
                      fl[i].message);
    }
    /* The flooder is still refused; the honest device's ops are all in, nothing else changed. */
    sct_resp r;
    ck_assert_int_eq(sct_request(&fl[0].c, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r),
                     429);
    sct_resp_dispose(&r);
    sct_stored_get(L.data, &after);
    ck_assert_uint_eq(after.log_size, before.log_size + pushes);
    /* The flood did not flood the log: at most 20 refusals' lines a second. */
    unsigned lines = 0;
    FILE *lf = fopen(L.srv.log, "r");
    ck_assert_ptr_nonnull(lf);
    char line[4096];
    while (fgets(line, sizeof line, lf))
        lines += strstr(line, "\"reason\":\"rate_limited\"") != NULL;
    fclose(lf);
    printf("nonce flood: %u of the refusals logged over %" PRId64 " s\n", lines, flood_s);
    ck_assert_uint_le(lines, 20 * (uint64_t)(flood_s + 1));
    for (int i = 0; i < THREADS; i++)
        sct_client_dispose(&fl[i].c);
    sc_keypair_free(ka);
}
END_TEST

/* ---- a captured request replayed after a restart ---- */

/* Run `syncd admin ARG...` on the register and decode the id it prints. */
static void admin_id(uint8_t id[SC_ID_LEN], const char *const *a)
{
    const char *v[12] = {0};
    for (int i = 0; i < 12 && a[i]; i++)
        v[i] = a[i];
    char out[256];
    int st = sct_syncd_run(out, sizeof out, "admin", "--data", L.data, v[0], v[1], v[2], v[3], v[4],
                           v[5], v[6], v[7], v[8], v[9], v[10], v[11], NULL);
    ck_assert_msg(st == 0, "syncd admin %s exited %d", a[0], st);
    ck_assert_int_eq(sc_hex_decode(out, 2 * SC_ID_LEN, id, SC_ID_LEN), SC_OK);
}

/* The request captured (or delayed) in transit: refused request_time, carrying nothing of id. */
static void replay_refused(const uint8_t *body, size_t len, const char *nonce, int64_t t,
                           const uint8_t secret[SC_ID_LEN], const char *what)
{
    sct_sign same = {.nonce = nonce, .time_ms = t};
    sct_resp r;
    long st = sct_request(&ch, "POST", "/v1/sync", body, len, pb, &same, &r);
    ck_assert_msg(st == 401, "%s: got %ld", what, st);
    ck_assert_msg(strcmp(r.reason, "request_time") == 0, "%s: reason %s", what, r.reason);
    ck_assert_int_gt(r.not_before_ms, t);
    Scpb__Error *e = sct_error(&r);
    ck_assert_msg(e != NULL, "%s: not an Error", what);
    ck_assert_msg(strstr(e->message, "start boundary") != NULL, "%s: %s", what, e->message);
    scpb__error__free_unpacked(e, NULL);
    ck_assert_msg(!has_bytes(r.body, r.len, secret, SC_ID_LEN),
                  "%s: the answer carries the plan made after the capture", what);
    sct_resp_dispose(&r);
}

/* Whether a pull from the start by the honest device brings entity id. */
static bool pulls(const uint8_t id[SC_ID_LEN])
{
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(&ch, NULL, 0, NULL, 0, 0, &r), 200);
    bool seen = false;
    for (size_t i = 0; i < r->n_ops && !seen; i++)
        seen = has_bytes(r->ops[i]->signed_op.data, r->ops[i]->signed_op.len, id, SC_ID_LEN);
    scpb__sync_response__free_unpacked(r, NULL);
    return seen;
}

START_TEST(replay_after_restart)
{
    start("");
    sct_client_init(&ch, L.srv.url, kh);
    sct_fixture_enroll(L.data, &ch, kh, "inspector1", "inspector1", NULL);
    uint16_t port = L.srv.port;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)port);
    static const char *const plan[] = {"assign", "--target", "T-JAHY", "--inspector",
                                       "inspector1", "--kind", "spot", "--disclosure",
                                       "unannounced", NULL};
    size_t len;
    uint8_t *body = pull_body(&len);
    for (int clean = 0; clean < 2; clean++) {
        const char *how = clean ? "after a clean stop" : "after kill -9";
        /* A pull the device sent and syncd answered, seen on the wire ... */
        char sent_nonce[33], held_nonce[33];
        uint8_t nb[16];
        randombytes_buf(nb, sizeof nb);
        sc_hex_encode(nb, sizeof nb, sent_nonce, sizeof sent_nonce);
        randombytes_buf(nb, sizeof nb);
        sc_hex_encode(nb, sizeof nb, held_nonce, sizeof held_nonce);
        int64_t t = sct_now_ms();
        sct_sign sent = {.nonce = sent_nonce, .time_ms = t};
        sct_resp r;
        ck_assert_int_eq(sct_request(&ch, "POST", "/v1/sync", body, len, pb, &sent, &r), 200);
        sct_resp_dispose(&r);
        /* ... and one held back in transit.  Then an unannounced plan for the device's user. */
        uint8_t secret[SC_ID_LEN];
        admin_id(secret, plan);
        if (clean) {
            ck_assert_int_eq(sct_server_stop(&L.srv), 0);
        } else {
            sct_server_kill(&L.srv);
        }
        const char *extra[] = {"--config", conf, "--listen", listen, NULL};
        sct_server_start(&L.srv, L.data, extra);
        char what[96];
        snprintf(what, sizeof what, "a pull replayed %s", how);
        replay_refused(body, len, sent_nonce, t, secret, what);
        snprintf(what, sizeof what, "a pull delivered late %s", how);
        replay_refused(body, len, held_nonce, t, secret, what);
        /* The device itself, signing now, gets the plan: it was there to leak. */
        ck_assert_msg(pulls(secret), "the device does not see its own plan %s", how);
        honest_push(how);
    }
    free(body);
}
END_TEST

/* ---- bodies held back by one byte ---- */

/* Read a response head within ms; returns the status (0 for none) and fills reason. */
static int read_status(int fd, int ms, char *reason, size_t cap)
{
    char buf[4096];
    size_t got = 0;
    int64_t end = sct_mono_ms() + ms;
    reason[0] = '\0';
    while (got < sizeof buf - 1) {
        int left = (int)(end - sct_mono_ms());
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    buf[got] = '\0';
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return 0;
    const char *h = strstr(buf, "X-Spotcheck-Reason: ");
    if (h)
        snprintf(reason, cap, "%.*s", (int)strcspn(h + 20, "\r\n"), h + 20);
    return status;
}

/* Send the first len bytes of body; stops at an error (the server hung up). */
static void send_filler(int fd, const uint8_t *body, size_t len)
{
    for (size_t off = 0; off < len;) {
        size_t n = len - off < 65536 ? len - off : 65536;
        ssize_t k = send(fd, body + off, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        off += (size_t)k;
    }
}

/*
 * Open a connection from src declaring a body of len bytes for target,
 * signed by kp over body (or with a garbage signature under kp's key when
 * forge is set; without the body's hash when no_hash), and send `sent`
 * bytes of it.  Returns the socket.
 */
static int held_post(const char *src, const sc_keypair *kp, const char *target, const uint8_t *body,
                     size_t len, size_t sent, bool forge, bool no_hash)
{
    char sig[1024], head[2048];
    if (kp && !forge) {
        sct_sign_lines(kp, "POST", target, body, len, sig, sizeof sig);
    } else if (kp) {
        char dev[65], nonce[33];
        uint8_t nb[16];
        randombytes_buf(nb, sizeof nb);
        sc_hex_encode(nb, sizeof nb, nonce, sizeof nonce);
        sc_hex_encode(sc_keypair_public(kp), SC_KEY_LEN, dev, sizeof dev);
        uint8_t bh[SC_HASH_LEN];
        char bhex[65];
        sc_sha256(body, len, bh);
        sc_hex_encode(bh, sizeof bh, bhex, sizeof bhex);
        snprintf(sig, sizeof sig,
                 "X-Spotcheck-Device: %s\r\nX-Spotcheck-Time: %" PRId64 "\r\nX-Spotcheck-Nonce: %s"
                 "\r\nX-Spotcheck-Signature: %0128d\r\n%s%s%s",
                 dev, sct_now_ms(), nonce, 0, no_hash ? "" : "X-Spotcheck-Body-Sha256: ",
                 no_hash ? "" : bhex, no_hash ? "" : "\r\n");
    } else {
        sig[0] = '\0';
    }
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
             "Content-Length: %zu\r\n%s\r\n",
             target, len, sig);
    int fd = sct_connect_from(src, L.srv.port);
    ck_assert_int_ge(fd, 0);
    /* A server that stops reading must not stall the test. */
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ck_assert(sct_send_all(fd, head, strlen(head)));
    send_filler(fd, body, sent);
    return fd;
}

static void expect_refusal(int fd, int status, const char *reason, const char *what)
{
    char got[64];
    int st = read_status(fd, 5000, got, sizeof got);
    ck_assert_msg(st == status && strcmp(got, reason) == 0, "%s: got %d %s, want %d %s", what, st,
                  got, status, reason);
}

/* No answer yet: syncd is still waiting for the held-back byte. */
static void expect_waiting(int fd, const char *what)
{
    char got[64];
    int st = read_status(fd, 200, got, sizeof got);
    ck_assert_msg(st == 0, "%s: answered %d %s while its body is incomplete", what, st, got);
}

#define MIB ((size_t)1024 * 1024)

START_TEST(held_back_bodies)
{
    start("sync.body_max = 4194304\n"
          "http.body_inflight_max = 16777216\n"
          "http.body_inflight_device_max = 8388608\n"
          "http.body_inflight_unverified_max = 131072\n"
          "http.connections_per_address = 0\n");
    sct_client_init(&ch, L.srv.url, kh);
    sct_fixture_enroll(L.data, &ch, kh, "inspector1", "inspector1", NULL);
    sc_keypair *kc[3] = {sct_key(3), sct_key(4), sct_key(5)};
    for (int i = 0; i < 3; i++)
        sct_fixture_enroll(L.data, &ch, kc[i], "supervisor1", "supervisor1", NULL);
    honest_push("warm-up");
    long base = sct_proc_rss_kib(L.srv.pid);
    ck_assert_int_gt(base, 0);
    uint8_t *big = malloc(4 * MIB);
    memset(big, 0x5a, 4 * MIB);
    int fds[256];
    int nfd = 0;

    /* 1. 150 connections under the honest device's key with garbage signatures, declaring
     *    4 MiB each (ten of them sending all but its last byte, the rest nothing yet; half
     *    without the body's hash): refused from the headers, nothing buffered. */
    for (int i = 0; i < 150; i++) {
        size_t sent = i < 10 ? 4 * MIB - 1 : 0;
        int fd = held_post("127.0.0.2", kh, "/v1/sync", big, 4 * MIB, sent, true, i % 2 == 1);
        expect_refusal(fd, 401, "bad_signature", "garbage signature");
        fds[nfd++] = fd;
    }
    long after_forged = sct_proc_rss_kib(L.srv.pid);
    printf("held-back bodies: RSS %ld KiB at start, %ld KiB after 150 forged 4 MiB bodies\n", base,
           after_forged);
    ck_assert_int_lt(after_forged - base, 16 * 1024);
    honest_push("150 forged bodies");

    /* 2. Enrollments (unsigned) held back: 8 of 16 KiB fit the unverified share, then 503. */
    uint8_t small[16384];
    memset(small, 0x11, sizeof small);
    int refused = 0;
    for (int i = 0; i < 10; i++)
        fds[nfd++] = held_post("127.0.0.3", NULL, "/v1/enroll", small, sizeof small,
                               sizeof small - 1, false, false);
    sct_sleep_ms(300);
    for (int i = nfd - 10; i < nfd; i++) {
        char reason[64];
        int st = read_status(fds[i], 100, reason, sizeof reason);
        ck_assert_msg(st == 0 || (st == 503 && strcmp(reason, "overloaded") == 0),
                      "a held enrollment: %d %s", st, reason);
        refused += st == 503;
    }
    ck_assert_int_eq(refused, 2);
    honest_push("held enrollments");
    int fd;

    /* 3. One device with its real key: two 4 MiB bodies held back, the third is its own 429. */
    for (int i = 0; i < 2; i++) {
        fds[nfd++] = held_post("127.0.0.4", kc[0], "/v1/sync", big, 4 * MIB, 4 * MIB - 1, false,
                               false);
        expect_waiting(fds[nfd - 1], "a held body within the device's share");
    }
    fd = held_post("127.0.0.4", kc[0], "/v1/sync", big, 4 * MIB, 0, false, false);
    expect_refusal(fd, 429, "rate_limited", "the device's third held body");
    close(fd);
    honest_push("one device holding its share");

    /* 4. A second device fills the pool to the byte (enrollments count too); a third is
     *    refused 503, and a small sync still passes, from the reserve. */
    size_t rest[2] = {4 * MIB, 4 * MIB - 8 * sizeof small};
    for (int i = 0; i < 2; i++) {
        fds[nfd++] = held_post("127.0.0.5", kc[1], "/v1/sync", big, rest[i], rest[i] - 1, false,
                               false);
        expect_waiting(fds[nfd - 1], "a held body filling the pool");
    }
    fd = held_post("127.0.0.6", kc[2], "/v1/sync", big, 4 * MIB, 0, false, false);
    expect_refusal(fd, 503, "overloaded", "a body past the shared cap");
    close(fd);
    honest_push("the body pool full");
    long held = sct_proc_rss_kib(L.srv.pid);
    printf("held-back bodies: RSS %ld KiB with 16 MiB of bodies and 128 KiB of enrollments held\n",
           held);
    /* What is held (16 MiB and the enrollments), with room for the buffers' doubling. */
    ck_assert_int_lt(held - base, 48 * 1024);

    /* 5. Hung up: every reservation comes back. */
    for (int i = 0; i < nfd; i++)
        close(fds[i]);
    sct_sleep_ms(300);
    sct_client cc;
    sct_client_init(&cc, L.srv.url, kc[2]);
    Scpb__SyncResponse *r = NULL;
    ck_assert_int_eq(sct_sync(&cc, NULL, 0, NULL, 0, 0, &r), 200);
    scpb__sync_response__free_unpacked(r, NULL);
    sc_keypair *late = sct_key(6);
    sct_fixture_enroll(L.data, &cc, late, "auditor1", "auditor1", NULL);
    sc_keypair_free(late);
    sct_client_dispose(&cc);
    free(big);
    for (int i = 0; i < 3; i++)
        sc_keypair_free(kc[i]);
}
END_TEST

/* ---- a sync body of millions of tiny entries ---- */

/* Reset pid's peak resident memory (VmHWM) to what it holds now (proc(5), clear_refs). */
static void reset_hwm(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_int_ge(fputs("5", f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

/* A body of count copies of the n bytes of entry (one SyncRequest field each); *len its size. */
static uint8_t *repeated(const uint8_t *entry, size_t n, size_t count, size_t *len)
{
    *len = n * count;
    uint8_t *b = malloc(*len + 1);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < count; i++)
        memcpy(b + i * n, entry, n);
    return b;
}

/*
 * The honest device posts body to /v1/sync: the answer in *r, and by how
 * much syncd's peak resident memory rose while it was handled (KiB).
 */
static long sync_peak_kib(const uint8_t *body, size_t len, sct_resp *r)
{
    reset_hwm(L.srv.pid);
    long base = sct_proc_hwm_kib(L.srv.pid);
    ck_assert_int_gt(base, 0);
    sct_request(&ch, "POST", "/v1/sync", body, len, pb, NULL, r);
    return sct_proc_hwm_kib(L.srv.pid) - base;
}

/* r is refused 413 batch_limit with message. */
static void batch_refused(sct_resp *r, const char *message, const char *what)
{
    ck_assert_msg(r->status == 413 && strcmp(r->reason, "batch_limit") == 0,
                  "%s: got %ld %s, want 413 batch_limit", what, r->status, r->reason);
    Scpb__Error *e = sct_error(r);
    ck_assert_msg(e != NULL, "%s: the body is not an Error", what);
    ck_assert_str_eq(e->message, message);
    scpb__error__free_unpacked(e, NULL);
    sct_resp_dispose(r);
}

START_TEST(sync_entries_counted_before_decoding)
{
    start("");
    sct_client_init(&ch, L.srv.url, kh);
    sct_fixture_enroll(L.data, &ch, kh, "inspector1", "inspector1", NULL);
    honest_push("warm-up");
    /*
     * A validly signed body within sync.body_max (8 MiB) of one-byte entries (3 bytes each on
     * the wire): decoded, each would cost syncd an allocation and a slot, hundreds of MiB in
     * all, before its count was checked.  Refused from the count on the wire instead.
     */
    static const uint8_t one_op[] = {0x0a, 0x01, 0x78};   /* ops (field 1): "x" */
    static const uint8_t one_blob[] = {0x2a, 0x01, 0x78}; /* blobs_wanted (field 5): "x" */
    size_t count = SC_SYNC_BODY_MAX / 3, len;
    char want[128];
    sct_resp r;
    uint8_t *body = repeated(one_op, sizeof one_op, count, &len);
    long grew = sync_peak_kib(body, len, &r);
    printf("sync body of %zu one-byte ops: syncd's peak memory rose %ld KiB\n", count, grew);
    snprintf(want, sizeof want, "%zu ops in one request; at most %d", count, SC_BATCH_OPS_MAX);
    batch_refused(&r, want, "millions of one-byte ops");
    ck_assert_int_lt(grew, 40 * 1024);
    free(body);

    body = repeated(one_blob, sizeof one_blob, count, &len);
    grew = sync_peak_kib(body, len, &r);
    printf("sync body of %zu one-byte blobs_wanted: syncd's peak memory rose %ld KiB\n", count,
           grew);
    snprintf(want, sizeof want, "%zu photos asked about in one request; at most %d", count,
             SC_BLOBS_WANTED_MAX);
    batch_refused(&r, want, "millions of photos asked about");
    ck_assert_int_lt(grew, 40 * 1024);
    free(body);

    /* Unknown fields (6: 0) and a singular field given again and again cost as much. */
    static const uint8_t others[][2] = {{0x30, 0x00}, {0x18, 0x00}};
    for (int i = 0; i < 2; i++) {
        count = SC_SYNC_BODY_MAX / 2;
        body = repeated(others[i], 2, count, &len);
        grew = sync_peak_kib(body, len, &r);
        printf("sync body of %zu fields %d: syncd's peak memory rose %ld KiB\n", count,
               others[i][0] >> 3, grew);
        ck_assert_msg(r.status == 400 && strcmp(r.reason, "malformed") == 0,
                      "millions of field %d: got %ld %s, want 400 malformed", others[i][0] >> 3,
                      r.status, r.reason);
        sct_resp_dispose(&r);
        ck_assert_int_lt(grew, 40 * 1024);
        free(body);
    }

    /* Exactly sync.batch_max ops is within the limit: decoded and served, each op rejected. */
    body = repeated(one_op, sizeof one_op, SC_BATCH_OPS_MAX, &len);
    ck_assert_int_eq(sct_request(&ch, "POST", "/v1/sync", body, len, pb, NULL, &r), 200);
    Scpb__SyncResponse *sr = scpb__sync_response__unpack(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(sr);
    ck_assert_uint_eq(sr->n_results, SC_BATCH_OPS_MAX);
    for (size_t i = 0; i < sr->n_results; i++)
        ck_assert_int_eq(sr->results[i]->status, SCPB__OP_STATUS__OP_REJECTED);
    scpb__sync_response__free_unpacked(sr, NULL);
    sct_resp_dispose(&r);
    free(body);
    honest_push("after bodies of millions of entries");
}
END_TEST

/* ---- Transfer-Encoding ---- */

/* Whether the server closes fd within ms (the rest of an answer read and dropped). */
static bool closed_within(int fd, int ms)
{
    int64_t end = sct_mono_ms() + ms;
    char buf[4096];
    for (;;) {
        int left = (int)(end - sct_mono_ms());
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return false;
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
    }
}

START_TEST(transfer_encoding_refused)
{
    start("");
    sct_client_init(&ch, L.srv.url, kh);
    sct_fixture_enroll(L.data, &ch, kh, "inspector1", "inspector1", NULL);
    /* 64 KiB chunks of a chunked body, to send after the head. */
    enum { CHUNK = 65536 };
    size_t cl = 0;
    char *chunk = malloc(CHUNK + 16);
    cl += (size_t)sprintf(chunk, "%x\r\n", CHUNK);
    memset(chunk + cl, 'a', CHUNK);
    cl += CHUNK;
    memcpy(chunk + cl, "\r\n", 2);
    cl += 2;
    char sig[1024];
    sct_sign_lines(kh, "POST", "/v1/sync", "", 0, sig, sizeof sig);
    /*
     * Content-Length 0 with a chunked body: libmicrohttpd reads the chunks while the limits and
     * the signature would go by the Content-Length.  Chunked alone, another coding, and a
     * signed sync, too: every body must come with its Content-Length.
     */
    const struct {
        const char *target, *framing, *sig;
    } cases[] = {
        {"/v1/enroll", "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", ""},
        {"/v1/enroll", "Transfer-Encoding: chunked\r\n", ""},
        {"/v1/enroll", "Content-Length: 10\r\nTransfer-Encoding: gzip\r\n", ""},
        {"/v1/sync", "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", sig},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char head[2048];
        snprintf(head, sizeof head,
                 "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
                 "%s%s\r\n",
                 cases[i].target, cases[i].framing, cases[i].sig);
        int fd = sct_connect_from("127.0.0.2", L.srv.port);
        ck_assert_int_ge(fd, 0);
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ck_assert(sct_send_all(fd, head, strlen(head)));
        /* Answered from the head, before a byte of the body is sent ... */
        char reason[64];
        int st = read_status(fd, 3000, reason, sizeof reason);
        ck_assert_msg(st == 400 && strcmp(reason, "malformed") == 0,
                      "%s with %.40s: got %d %s, want 400 malformed", cases[i].target,
                      cases[i].framing, st, reason);
        /* ... and the connection closed: what follows is not read. */
        ck_assert_msg(closed_within(fd, 3000), "%s with %.40s: connection left open",
                      cases[i].target, cases[i].framing);
        size_t sent = 0;
        for (int k = 0; k < 1024; k++) {
            ssize_t n = send(fd, chunk, cl, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        printf("Transfer-Encoding case %zu (%s): refused; %zu bytes sent after it before the "
               "send failed\n",
               i, cases[i].target, sent);
        ck_assert_msg(sent < 16 * MIB, "%zu bytes of chunks taken after the refusal", sent);
        close(fd);
    }
    free(chunk);
    /* Bodies with a Content-Length go through as ever. */
    sc_keypair *kc = sct_key(3);
    sct_fixture_enroll(L.data, &ch, kc, "supervisor1", "supervisor1", NULL);
    sc_keypair_free(kc);
    honest_push("after bodies with a Transfer-Encoding");
}
END_TEST

/* ---- connections that trickle ---- */

typedef struct trickle {
    const char *src;
    int n;                     /* connections to open */
    const char *head;          /* sent at once on each */
    int64_t t0;                /* CLOCK_MONOTONIC ms at the start */
    int fd[128];
    atomic_llong ended[128];   /* ms after t0 when the server ended it; -1 while open */
    atomic_bool stop;
} trickle;

static bool peer_gone(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0)
        return false;
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || n > 0;
}

static void *trickle_main(void *arg)
{
    trickle *t = arg;
    for (int i = 0; i < t->n; i++) {
        t->fd[i] = sct_connect_from(t->src, L.srv.port);
        if (t->fd[i] < 0 || !sct_send_all(t->fd[i], t->head, strlen(t->head)))
            atomic_store(&t->ended[i], sct_mono_ms() - t->t0);
    }
    /* One byte on every open connection every 300 ms: the idle timeout never fires. */
    while (!atomic_load(&t->stop)) {
        for (int i = 0; i < t->n; i++) {
            if (atomic_load(&t->ended[i]) >= 0)
                continue;
            if (peer_gone(t->fd[i]) || send(t->fd[i], "x", 1, MSG_NOSIGNAL) != 1)
                atomic_store(&t->ended[i], sct_mono_ms() - t->t0);
        }
        sct_sleep_ms(300);
    }
    for (int i = 0; i < t->n; i++)
        if (t->fd[i] >= 0)
            close(t->fd[i]);
    return NULL;
}

START_TEST(trickling_connections)
{
    start("http.connection_limit = 64\n"
          "http.connections_per_address = 16\n"
          "http.request_timeout_s = 3\n"
          "http.connection_timeout_s = 30\n");
    sct_client_init(&ch, L.srv.url, kh);
    sct_fixture_enroll(L.data, &ch, kh, "inspector1", "inspector1", NULL);
    sc_keypair *kc = sct_key(3);
    sct_fixture_enroll(L.data, &ch, kc, "supervisor1", "supervisor1", NULL);
    /* 80 connections from one address (more than the whole limit), trickling their headers ... */
    trickle *hdr = calloc(1, sizeof *hdr);
    hdr->src = "127.0.0.2";
    hdr->n = 80;
    hdr->head = "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    /* ... and 4 from another, with a real device's signed headers, trickling the body. */
    static uint8_t body[1000];
    char sig[1024], head[1400];
    sct_sign_lines(kc, "POST", "/v1/sync", body, sizeof body, sig, sizeof sig);
    snprintf(head, sizeof head,
             "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n%s\r\n",
             sizeof body, sig);
    trickle *bod = calloc(1, sizeof *bod);
    bod->src = "127.0.0.3";
    bod->n = 4;
    bod->head = head;
    pthread_t th[2];
    hdr->t0 = bod->t0 = sct_mono_ms();
    atomic_init(&hdr->stop, false);
    atomic_init(&bod->stop, false);
    for (int i = 0; i < 128; i++) {
        atomic_init(&hdr->ended[i], -1);
        atomic_init(&bod->ended[i], -1);
    }
    ck_assert_int_eq(pthread_create(&th[0], NULL, trickle_main, hdr), 0);
    ck_assert_int_eq(pthread_create(&th[1], NULL, trickle_main, bod), 0);
    /* The honest client syncs all along, until every trickler was cut off (15 s at most). */
    sct_sleep_ms(500);
    int64_t t0 = sct_mono_ms();
    for (int i = 0;; i++) {
        honest_push("trickling connections");
        sct_sleep_ms(500);
        bool all = true;
        for (int k = 0; k < hdr->n; k++)
            all = all && atomic_load(&hdr->ended[k]) >= 0;
        for (int k = 0; k < bod->n; k++)
            all = all && atomic_load(&bod->ended[k]) >= 0;
        if ((all && i >= 6) || sct_mono_ms() - t0 > 15000)
            break;
    }
    atomic_store(&hdr->stop, true);
    atomic_store(&bod->stop, true);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    /* The per-address limit closed all but 16 at once; the deadline closed the rest at ~3 s. */
    int at_once = 0, by_deadline = 0, open_at_end = 0;
    int64_t latest = 0;
    for (int i = 0; i < hdr->n; i++) {
        int64_t e = atomic_load(&hdr->ended[i]);
        if (e < 0)
            open_at_end++;
        else if (e < 1000)
            at_once++;
        else
            by_deadline++;
        latest = e > latest ? e : latest;
    }
    /* The bodies' deadline: their headers came at once, so 3 s from then, however steady. */
    for (int i = 0; i < bod->n; i++) {
        int64_t e = atomic_load(&bod->ended[i]);
        ck_assert_msg(e >= 2500 && e < 10000, "a trickled body ended after %" PRId64 " ms", e);
    }
    printf("trickling: %d closed at once (per-address limit), %d at the deadline (last after "
           "%" PRId64 " ms), %d still open\n",
           at_once, by_deadline, latest, open_at_end);
    ck_assert_int_eq(open_at_end, 0);
    ck_assert_int_ge(at_once, 80 - 16);
    ck_assert_int_le(by_deadline, 16);
    ck_assert_int_lt(latest, 10000);
    ck_assert(sct_server_log_has(&L.srv, "request deadline passed"));
    free(hdr);
    free(bod);
    sc_keypair_free(kc);
}
END_TEST

/* ---- a verification flood: big valid pushes from one device on several connections ---- */

#define FLOOD_OPS 1000

typedef struct pusher {
    sct_client c;
    const sc_keypair *key;
    const uint8_t *target;
    unsigned requests;          /* pushes to send, FLOOD_OPS ops each */
    unsigned answered;          /* 200, every op accepted */
    long bad_status;            /* the first answer that was not (0: none) */
    char bad[160];
    atomic_int *done;           /* pushers finished; shared */
} pusher;

static void *push_flood(void *arg)
{
    pusher *f = arg;
    uint64_t tick = 0; /* this connection's op clock */
    sc_op **ops = calloc(FLOOD_OPS, sizeof *ops);
    for (unsigned r = 0; r < f->requests && ops; r++) {
        uint8_t id[SC_ID_LEN];
        for (size_t i = 0; i < FLOOD_OPS; i++)
            ops[i] = sct_op_open_inspection(f->key, &tick, id, f->target);
        Scpb__SyncResponse *resp = NULL;
        long st = sct_sync(&f->c, ops, FLOOD_OPS, NULL, 0, 0, &resp);
        size_t accepted = 0;
        for (size_t i = 0; st == 200 && i < resp->n_results; i++)
            accepted += resp->results[i]->status == SCPB__OP_STATUS__OP_ACCEPTED;
        if (st == 200 && resp->n_results == FLOOD_OPS && accepted == FLOOD_OPS)
            f->answered++;
        else if (!f->bad_status) {
            f->bad_status = st;
            snprintf(f->bad, sizeof f->bad, "%ld, %zu of %zu results accepted", st, accepted,
                     st == 200 ? resp->n_results : 0);
        }
        if (resp)
            scpb__sync_response__free_unpacked(resp, NULL);
        for (size_t i = 0; i < FLOOD_OPS; i++)
            sc_op_free(sct_sys_env(), ops[i]);
    }
    free(ops);
    atomic_fetch_add(f->done, 1);
    return NULL;
}

START_TEST(verify_flood)
{
    unsigned per = sct_soak() ? 60 : 3; /* pushes on each connection */
    start("");
    sct_client_init(&ch, L.srv.url, kh);
    sct_fixture_enroll(L.data, &ch, kh, "inspector1", "inspector1", NULL);
    sc_keypair *ka = sct_key(2);
    enum { CONNS = 4 };
    static const char *const from[CONNS] = {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"};
    pusher fl[CONNS];
    memset(fl, 0, sizeof fl);
    atomic_int done;
    atomic_init(&done, 0);
    for (int i = 0; i < CONNS; i++) {
        sct_client_init(&fl[i].c, L.srv.url, ka);
        fl[i].c.source = from[i];
        fl[i].key = ka;
        fl[i].target = L.fx.target;
        fl[i].requests = per;
        fl[i].done = &done;
    }
    sct_fixture_enroll(L.data, &fl[0].c, ka, "supervisor1", "supervisor1", NULL);
    sct_stored before, after;
    sct_stored_get(L.data, &before);

    pthread_t th[CONNS];
    for (int i = 0; i < CONNS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, push_flood, &fl[i]), 0);
    /* The honest device pushes while the flood runs, and once more after it. */
    unsigned pushes = 0;
    do {
        honest_push("a verification flood");
        pushes++;
        sct_sleep_ms(20);
    } while (atomic_load(&done) < CONNS);
    for (int i = 0; i < CONNS; i++)
        pthread_join(th[i], NULL);
    honest_push("after a verification flood");
    pushes++;

    unsigned answered = 0;
    for (int i = 0; i < CONNS; i++) {
        ck_assert_msg(fl[i].bad_status == 0, "flood connection %d: %s", i, fl[i].bad);
        answered += fl[i].answered;
    }
    ck_assert_uint_eq(answered, CONNS * per);
    sct_stored_get(L.data, &after);
    ck_assert_uint_eq(after.log_size, before.log_size + (uint64_t)CONNS * per * FLOOD_OPS + pushes);
    printf("verification flood: %u pushes of %d ops on %d connections, all logged; %u honest pushes "
           "accepted meanwhile\n",
           answered, FLOOD_OPS, CONNS, pushes);
    for (int i = 0; i < CONNS; i++)
        sct_client_dispose(&fl[i].c);
    sc_keypair_free(ka);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/serve_flood");
    const sct_case cases[] = {
        {"nonce_flood", nonce_flood},
        {"replay_after_restart", replay_after_restart},
        {"held_back_bodies", held_back_bodies},
        {"trickling_connections", trickling_connections},
        {"verify_flood", verify_flood},
        {"sync_entries_counted_before_decoding", sync_entries_counted_before_decoding},
        {"transfer_encoding_refused", transfer_encoding_refused},
    };
    /* The soak flood sends a million requests. */
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){
                      .setup = setup, .teardown = teardown, .timeout_s = sct_soak() ? 3600 : 240});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
