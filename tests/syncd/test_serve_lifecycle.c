/*
 * test_serve_lifecycle.c: syncd's process life: SIGTERM stops accepting,
 * lets a request in flight finish (its response says Connection: close)
 * and exits 0; kill -9 in the middle of pushes loses nothing that was
 * acknowledged: after a restart every acknowledged op is in the log exactly
 * once, and `syncd audit` passes.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ids.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_server.h"

static sct_live L; /* the register and its syncd, made anew for each test */

START_TEST(sigterm_finishes_inflight)
{
    sc_keypair *k = sct_key(1);
    sct_client c;
    sct_client_init(&c, L.srv.url, k);
    sct_fixture_enroll(L.data, &c, k, "inspector1", NULL, NULL);

    const size_t total = 1024 * 1024;
    uint8_t *d = malloc(total);
    for (size_t i = 0; i < total; i++)
        d[i] = (uint8_t)(i ^ (i >> 8));
    uint8_t h[SC_HASH_LEN];
    char name[65], target[128], sig[1024], head[2048];
    sc_sha256(d, total, h);
    sc_hex_encode(h, sizeof h, name, sizeof name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    uint64_t clk = 0;
    sct_name_photo(&c, k, &clk, L.fx.target, h, total, NULL);
    sct_sign_lines(k, "PUT", target, d, total, sig, sizeof sig);
    int hl = snprintf(head, sizeof head,
                      "PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Range: bytes 0-%zu/%zu\r\n"
                      "Content-Length: %zu\r\n%s\r\n",
                      target, total - 1, total, total, sig);
    int fd = sct_connect(L.srv.port);
    ck_assert(sct_send_all(fd, head, (size_t)hl));
    ck_assert(sct_send_all(fd, d, total / 2));
    usleep(200 * 1000);

    sct_server_signal(&L.srv, SIGTERM);
    usleep(300 * 1000);
    /* Still running: a request is in flight. */
    ck_assert_int_eq(sct_server_wait(&L.srv, 0), -1);
    /* No new connections are accepted. */
    sct_client other;
    sct_client_init(&other, L.srv.url, NULL);
    sct_resp r;
    ck_assert_int_eq(sct_request(&other, "GET", "/healthz", NULL, 0, NULL, NULL, &r), 0);
    sct_resp_dispose(&r);
    sct_client_dispose(&other);

    /* The rest of the body arrives; the upload completes and is answered. */
    ck_assert(sct_send_all(fd, d + total / 2, total - total / 2));
    char *resp = sct_recv_all(fd);
    close(fd);
    ck_assert_msg(strncmp(resp, "HTTP/1.1 201", 12) == 0, "got: %.100s", resp);
    ck_assert(strstr(resp, "Connection: close") != NULL || strstr(resp, "connection: close"));
    free(resp);
    ck_assert_int_eq(sct_server_wait(&L.srv, 30000), 0);
    ck_assert(sct_server_log_has(&L.srv, "\"msg\":\"stopped\""));

    /* It was stored durably: a new server has it. */
    sct_server_start(&L.srv, L.data, NULL);
    sct_client_dispose(&c);
    sct_client_init(&c, L.srv.url, k);
    ck_assert_int_eq(sct_request(&c, "HEAD", target, NULL, 0, NULL, NULL, &r), 200);
    sct_resp_dispose(&r);
    ck_assert_int_eq(sct_server_stop(&L.srv), 0);
    free(d);
    sct_client_dispose(&c);
    sc_keypair_free(k);
}
END_TEST

#define PUSHERS 3
#define BATCH 25
#define ACKED_MAX 200000

typedef struct pusher {
    const char *url;
    sc_keypair *key;
    uint8_t (*acked)[SC_HASH_LEN]; /* op ids of ops acknowledged accepted or duplicate */
    size_t nacked;
    int rejected;
} pusher;

static atomic_bool stop_pushing;

static void *push_loop(void *arg)
{
    pusher *p = arg;
    sct_client c;
    sct_client_init(&c, p->url, p->key);
    uint64_t clock = 0;
    while (!atomic_load(&stop_pushing) && p->nacked + BATCH <= ACKED_MAX) {
        sc_op *ops[BATCH];
        uint8_t id[SC_ID_LEN];
        for (int i = 0; i < BATCH; i++)
            ops[i] = sct_op_open_inspection(p->key, &clock, id, L.fx.target);
        Scpb__SyncResponse *r = NULL;
        long st = sct_sync(&c, ops, BATCH, NULL, 0, 0, &r);
        if (st == 200) {
            for (size_t i = 0; i < r->n_results; i++) {
                if (r->results[i]->status == SCPB__OP_STATUS__OP_ACCEPTED ||
                    r->results[i]->status == SCPB__OP_STATUS__OP_DUPLICATE)
                    memcpy(p->acked[p->nacked++], ops[i]->id, SC_HASH_LEN);
                else
                    p->rejected++;
            }
            scpb__sync_response__free_unpacked(r, NULL);
        }
        for (int i = 0; i < BATCH; i++)
            sc_op_free(sct_sys_env(), ops[i]);
        if (st != 200)
            break; /* the server is gone */
    }
    sct_client_dispose(&c);
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, SC_HASH_LEN);
}

START_TEST(kill9_during_push_then_restart)
{
    pusher p[PUSHERS];
    pthread_t th[PUSHERS];
    for (int i = 0; i < PUSHERS; i++) {
        p[i] = (pusher){L.srv.url, sct_key((uint32_t)(20 + i)), NULL, 0, 0};
        p[i].acked = malloc((size_t)ACKED_MAX * SC_HASH_LEN);
        sct_client c;
        sct_client_init(&c, L.srv.url, p[i].key);
        sct_fixture_enroll(L.data, &c, p[i].key, "inspector1", NULL, NULL);
        sct_client_dispose(&c);
    }
    atomic_store(&stop_pushing, false);
    for (int i = 0; i < PUSHERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, push_loop, &p[i]), 0);
    usleep(1500 * 1000);
    sct_server_kill(&L.srv); /* kill -9 with pushes in flight */
    atomic_store(&stop_pushing, true);
    size_t acked = 0;
    for (int i = 0; i < PUSHERS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(p[i].rejected, 0);
        acked += p[i].nacked;
    }
    ck_assert_uint_gt(acked, 0);

    /* Restart on the same data and read the whole log as an auditor. */
    sct_server_start(&L.srv, L.data, NULL);
    sc_keypair *ka = sct_key(30);
    sct_client a;
    sct_client_init(&a, L.srv.url, ka);
    sct_fixture_enroll(L.data, &a, ka, "auditor1", NULL, NULL);
    sct_resp r;
    ck_assert_int_eq(sct_request(&a, "GET", "/v1/log/checkpoint", NULL, 0, NULL, NULL, &r), 200);
    Scpb__Checkpoint *cp = scpb__checkpoint__unpack(NULL, r.len, r.body);
    uint64_t size = cp->size;
    scpb__checkpoint__free_unpacked(cp, NULL);
    sct_resp_dispose(&r);
    uint8_t(*logged)[SC_HASH_LEN] = malloc((size_t)size * SC_HASH_LEN + 1);
    size_t n = 0;
    for (uint64_t start = 0; start < size; start += 1000) {
        char target[128];
        uint64_t count = size - start < 1000 ? size - start : 1000;
        snprintf(target, sizeof target, "/v1/log/entries?start=%llu&count=%llu",
                 (unsigned long long)start, (unsigned long long)count);
        ck_assert_int_eq(sct_request(&a, "GET", target, NULL, 0, NULL, NULL, &r), 200);
        Scpb__LogEntries *le = scpb__log_entries__unpack(NULL, r.len, r.body);
        ck_assert_ptr_nonnull(le);
        ck_assert_uint_eq(le->n_entries, count);
        for (size_t i = 0; i < le->n_entries; i++) {
            Scpb__SignedOp *so = scpb__signed_op__unpack(NULL, le->entries[i]->signed_op.len,
                                                         le->entries[i]->signed_op.data);
            ck_assert_ptr_nonnull(so);
            sc_sha256(so->op.data, so->op.len, logged[n++]);
            scpb__signed_op__free_unpacked(so, NULL);
        }
        scpb__log_entries__free_unpacked(le, NULL);
        sct_resp_dispose(&r);
    }
    ck_assert_uint_eq(n, size);
    qsort(logged, n, SC_HASH_LEN, cmp_id);
    for (size_t i = 1; i < n; i++)
        ck_assert_msg(memcmp(logged[i - 1], logged[i], SC_HASH_LEN) != 0, "an op is logged twice");
    for (int t = 0; t < PUSHERS; t++) {
        for (size_t i = 0; i < p[t].nacked; i++)
            ck_assert_msg(bsearch(p[t].acked[i], logged, n, SC_HASH_LEN, cmp_id) != NULL,
                          "an acknowledged op is missing after the crash");
        free(p[t].acked);
        sc_keypair_free(p[t].key);
    }
    free(logged);
    sct_client_dispose(&a);
    sc_keypair_free(ka);
    ck_assert_int_eq(sct_server_stop(&L.srv), 0);

    /* The whole register re-verifies offline. */
    char out[8192];
    int st = sct_syncd_run(out, sizeof out, "audit", "--data", L.data, NULL);
    ck_assert_msg(st == 0, "syncd audit exited %d: %s", st, out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/serve_lifecycle");
    sct_live_use(&L);
    const sct_case cases[] = {
        {"sigterm_finishes_inflight", sigterm_finishes_inflight},
        {"kill9_during_push_then_restart", kill9_during_push_then_restart},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = sct_live_setup,
                                    .teardown = sct_live_teardown_kill,
                                    .timeout_s = 240});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
