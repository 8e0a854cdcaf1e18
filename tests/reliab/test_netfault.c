/*
 * test_netfault.c: a bad network between the devices and syncd.
 *
 * Eight libspotcheck devices reach syncd only through the fault proxy
 * (tests/support/faultproxy.h), which drops connections, holds pieces
 * back, cuts requests and responses half-way and resets connections, drawn
 * from a seeded stream.  The devices record and sync through it; a sync the
 * network breaks fails and is tried again later.  Then the network heals,
 * the devices finish syncing, and every one of them must hold exactly the
 * register's state (the same replica hash), with every op logged once and
 * every photo stored whole (wl_check_final).  Every kind of fault must have
 * happened, so the test cannot pass on a network that was never bad.
 *
 * 30 actions per device in CI; SC_SOAK=1 runs 600 (docs/operations.md).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ids.h"
#include "faultproxy.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_reliab.h"
#include "sctest_server.h"
#include "workload.h"

#define DEVICES 8

static sct_live L; /* the register and its syncd, made anew for each test */

START_TEST(devices_converge_through_faults)
{
    unsigned actions = sct_scale(30, 600);
    uint64_t seed = sct_seed("reliab/netfault");
    sct_proxy_opts clean = {.seed = seed};
    sct_proxy *px = sct_proxy_start(L.srv.port, &clean);
    char url[64];
    sct_proxy_url(px, url, sizeof url);
    /* Enrollment spends a one-time code, so it happens on a clean network. */
    wl_client cl[DEVICES];
    /* Half the devices give a sync up at the first fault, half retry twice first. */
    sc_client_options once = {.timeout_ms = 10000, .retries = UINT32_MAX, .backoff_ms = 20,
                              .chunk_bytes = 32 * 1024};
    for (int i = 0; i < DEVICES; i++) {
        wl_open(&cl[i], i, L.tmp, seed, i % 2 ? &once : NULL);
        wl_enroll(&cl[i], url, L.data, i < 6 ? "inspector1" : "supervisor1");
    }
    sct_reg_view reg;
    sct_reg_read(L.data, &reg);
    uint64_t base_log = reg.log_size;
    sct_reg_dispose(&reg);

    sct_proxy_opts bad = {.seed = seed,
                          .drop_pct = 5,
                          .truncate_pct = 10,
                          .reset_pct = 8,
                          .cut_max = 48 * 1024,
                          .delay_pct = 10,
                          .delay_max_ms = 40};
    sct_proxy_set_opts(px, &bad);
    wl_crew crew;
    wl_crew_start(&crew, cl, DEVICES, 2, actions);
    for (;;) {
        bool done = true;
        for (int i = 0; i < DEVICES; i++)
            done = done && cl[i].actions >= actions;
        if (done)
            break;
        sct_sleep_ms(50);
    }
    wl_crew_stop(&crew);
    sct_proxy_stats st;
    sct_proxy_get_stats(px, &st);

    /* The network heals; everyone finishes and must agree with the register. */
    sct_proxy_set_opts(px, &clean);
    wl_settle(cl, DEVICES, 20);
    size_t total = wl_check_final(L.data, cl, DEVICES, base_log);
    unsigned failed = 0, ok = 0, photos = 0;
    for (int i = 0; i < DEVICES; i++) {
        failed += cl[i].syncs_failed;
        ok += cl[i].syncs_ok;
        photos += cl[i].photos;
        wl_close(&cl[i]);
    }
    fprintf(stderr,
            "reliab/netfault: %llu connections, %llu faults injected: %llu dropped, %llu cut "
            "(%llu requests, %llu responses), %llu reset, %llu delayed; %u syncs broken by them "
            "and %u whole; %zu ops and %u photos from %d devices: all converged to the "
            "register's state hash, nothing lost or twice\n",
            (unsigned long long)st.connections,
            (unsigned long long)(st.drops + st.truncations + st.resets + st.delays),
            (unsigned long long)st.drops, (unsigned long long)st.truncations,
            (unsigned long long)st.cut_requests, (unsigned long long)st.cut_responses,
            (unsigned long long)st.resets, (unsigned long long)st.delays, failed, ok, total,
            photos, DEVICES);
    /* Every kind of fault happened. */
    ck_assert_uint_gt(st.drops, 0);
    ck_assert_uint_gt(st.cut_requests, 0);
    ck_assert_uint_gt(st.cut_responses, 0);
    ck_assert_uint_gt(st.resets, 0);
    ck_assert_uint_gt(st.delays, 0);
    ck_assert_uint_gt(failed, 0);
    sct_proxy_stop(px);
}
END_TEST

/*
 * A chunk whose connection dies half-way (the client's FIN arrives, no more
 * bytes) must not keep its blob locked: the device reconnects and sends the
 * chunk again at once, and must not be told 409 "another upload of this
 * blob is in progress" until syncd's idle timeout.
 */
START_TEST(cut_chunk_frees_its_blob)
{
    sc_keypair *k = sct_key(1);
    sct_client c;
    sct_client_init(&c, L.srv.url, k);
    sct_fixture_enroll(L.data, &c, k, "inspector1", NULL, NULL);
    enum { TOTAL = 64 * 1024 };
    uint8_t *d = malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        d[i] = (uint8_t)(i * 31 + 7);
    uint8_t h[SC_HASH_LEN];
    char name[65], target[128], sig[1024], head[2048], range[96];
    sc_sha256(d, TOTAL, h);
    sc_hex_encode(h, sizeof h, name, sizeof name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    snprintf(range, sizeof range, "Content-Range: bytes 0-%d/%d", TOTAL - 1, TOTAL);
    for (int cut = 0; cut < 4; cut++) {
        /* The chunk starts and its connection is closed after 10 KB (cut 1: half-closed). */
        sct_sign_lines(k, "PUT", target, d, TOTAL, sig, sizeof sig);
        int hl = snprintf(head, sizeof head,
                          "PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Length: %d\r\n%s\r\n",
                          target, range, TOTAL, sig);
        int fd = sct_connect(L.srv.port);
        ck_assert(sct_send_all(fd, head, (size_t)hl));
        ck_assert(sct_send_all(fd, d, 10 * 1024));
        /* Cuts 0 and 1 come a moment after the bytes; 2 and 3 right behind them. */
        if (cut < 2)
            sct_sleep_ms(100);
        if (cut % 2 == 0)
            close(fd);
        else
            shutdown(fd, SHUT_WR);
        /* The device sends the chunk again on a new connection. */
        const char *const hdr[] = {range, "Content-Type: application/octet-stream", NULL};
        long st = 0;
        int tries = 0;
        for (; tries < 100; tries++) {
            sct_resp r;
            st = sct_request(&c, "PUT", target, d, TOTAL, hdr, NULL, &r);
            sct_resp_dispose(&r);
            if (st != 409)
                break;
            sct_sleep_ms(50);
        }
        if (cut % 2 == 1)
            close(fd);
        ck_assert_msg(st == 201 || st == 200, "cut %d: the chunk sent again got %ld after %d tries",
                      cut, st, tries);
        /* Not locked out for more than a moment. */
        ck_assert_msg(tries <= 20, "cut %d: locked out for %d ms", cut, tries * 50);
        {
            /* A new blob for the next round. */
            d[0] ^= 0x5a;
            sc_sha256(d, TOTAL, h);
            sc_hex_encode(h, sizeof h, name, sizeof name);
            snprintf(target, sizeof target, "/v1/blobs/%s", name);
        }
    }
    free(d);
    sct_client_dispose(&c);
    sc_keypair_free(k);
}
END_TEST

/*
 * An answer cut inside its head, before its Content-Length line, reads to
 * libcurl as a whole answer with no body (the body of an HTTP/1 answer
 * without a length ends where the connection does).  The client must take
 * it as cut, a network failure tried again later, never as a server that
 * answered a sync without its seal.  One sync per cut point, through the
 * whole head of the answer and into its body.
 */
START_TEST(answers_cut_in_their_heads_are_network_failures)
{
    uint64_t seed = sct_seed("reliab/netfault");
    sct_proxy_opts clean = {.seed = seed};
    sct_proxy *px = sct_proxy_start(L.srv.port, &clean);
    char url[64];
    sct_proxy_url(px, url, sizeof url);
    sc_client_options no_retry = {.timeout_ms = 10000, .retries = UINT32_MAX, .backoff_ms = 1};
    wl_client w;
    wl_open(&w, 0, L.tmp, seed, &no_retry);
    wl_enroll(&w, url, L.data, "inspector1");
    sct_reg_view reg;
    sct_reg_read(L.data, &reg);
    uint64_t base_log = reg.log_size;
    sct_reg_dispose(&reg);
    wl_action(&w); /* a draft inspection to add notes to */
    ck_assert_uint_eq(w.n_checks, 1);
    ck_assert_int_eq(wl_sync(&w), SC_OK);
    unsigned cut = 0, whole = 0;
    for (uint32_t at = 1; at <= 300; at++) {
        char text[64];
        snprintf(text, sizeof text, "第%u次记录", at);
        ck_assert_int_eq(sc_note_add(w.c, w.checks[0], text), SC_OK);
        sct_proxy_opts o = {.seed = seed, .truncate_pct = 100, .faults_max = 1, .cut_answer_at = at};
        sct_proxy_set_opts(px, &o);
        sc_status s = sc_sync(w.c, NULL, NULL, NULL);
        ck_assert_msg(s == SC_OK || s == SC_ERR_NETWORK || s == SC_ERR_PROTOCOL,
                      "the answer cut after %u bytes: %s (%s)", at, sc_status_name(s),
                      sc_client_errmsg(w.c));
        if (s == SC_OK) {
            whole++;
        } else {
            cut++;
            /* The network heals for a sync, so each cut answer is to a push of one note. */
            sct_proxy_set_opts(px, &clean);
            ck_assert_msg(wl_sync(&w) == SC_OK, "after the cut at %u: %s", at,
                          sc_client_errmsg(w.c));
        }
    }
    fprintf(stderr, "reliab/netfault: 300 sync answers cut after 1..300 bytes: %u failed as cut, "
            "%u whole\n", cut, whole);
    ck_assert_uint_gt(cut, 100); /* a sync answer's head alone is longer than that */
    sct_proxy_set_opts(px, &clean);
    wl_settle(&w, 1, 5);
    ck_assert_uint_eq(wl_check_final(L.data, &w, 1, base_log), 1 + 300);
    wl_close(&w);
    sct_proxy_stop(px);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("reliab/netfault");
    sct_live_use(&L);
    const sct_case faults[] = {
        {"devices_converge_through_faults", devices_converge_through_faults}};
    sct_suite_add(
        s, faults, SCT_COUNT(faults),
        &(sct_tcase_opts){sct_live_setup, sct_live_teardown, sct_soak() ? 6 * 3600 : 480});
    const sct_case cut[] = {
        {"cut_chunk_frees_its_blob", cut_chunk_frees_its_blob},
        {"answers_cut_in_their_heads_are_network_failures",
         answers_cut_in_their_heads_are_network_failures}};
    sct_suite_add(s, cut, SCT_COUNT(cut),
                  &(sct_tcase_opts){sct_live_setup, sct_live_teardown, 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
