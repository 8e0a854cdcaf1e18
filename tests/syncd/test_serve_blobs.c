/*
 * test_serve_blobs.c: a photo uploaded to the real syncd binary, cut off
 * halfway through a chunk on a raw socket and resumed from the offset HEAD
 * reports; the stored bytes come back whole and hash to their name.  And a
 * blob bigger than one chunk travels in several.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ids.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_server.h"

static sct_live L; /* the register and its syncd, made anew for each test */

static uint8_t *photo(size_t n, char name[65])
{
    uint8_t *b = malloc(n);
    ck_assert_ptr_nonnull(b);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    uint8_t h[SC_HASH_LEN];
    sc_sha256(b, n, h);
    sc_hex_encode(h, sizeof h, name, 65);
    return b;
}

/* An op of k's naming the photo (hex name), pushed first as a tablet does. */
static void name_photo(sct_client *c, const sc_keypair *k, const char *name, size_t size)
{
    uint8_t sha[SC_HASH_LEN];
    uint64_t clk = 0;
    ck_assert_int_eq(sc_hex_decode(name, 64, sha, sizeof sha), SC_OK);
    sct_name_photo(c, k, &clk, L.fx.target, sha, size, NULL);
}

static int64_t head_offset(sct_client *c, const char *target, long *status)
{
    sct_resp r;
    *status = sct_request(c, "HEAD", target, NULL, 0, NULL, NULL, &r);
    int64_t off = r.offset;
    sct_resp_dispose(&r);
    return off;
}

static long put(sct_client *c, const char *target, const uint8_t *d, size_t start, size_t len,
                size_t total, int64_t *offset)
{
    char range[128];
    snprintf(range, sizeof range, "Content-Range: bytes %zu-%zu/%zu", start, start + len - 1, total);
    const char *const hdr[] = {range, "Content-Type: application/octet-stream", NULL};
    sct_resp r;
    long st = sct_request(c, "PUT", target, d + start, len, hdr, NULL, &r);
    if (offset)
        *offset = r.offset;
    sct_resp_dispose(&r);
    return st;
}

START_TEST(cut_at_half_and_resumed)
{
    sc_keypair *k = sct_key(1);
    sct_client c;
    sct_client_init(&c, L.srv.url, k);
    sct_fixture_enroll(L.data, &c, k, "inspector1", NULL, NULL);

    char name[65], target[128];
    const size_t total = 6 * 1024 * 1024 + 321;
    const size_t half = total / 2;
    uint8_t *d = photo(total, name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    name_photo(&c, k, name, total);

    /* The first half arrives whole. */
    int64_t off = -1;
    ck_assert_int_eq(put(&c, target, d, 0, half, total, &off), 202);
    ck_assert_int_eq(off, (int64_t)half);

    /* The second half is cut off after a quarter of it: the connection drops. */
    size_t rest = total - half;
    char sig[1024], head[2048];
    sct_sign_lines(k, "PUT", target, d + half, rest, sig, sizeof sig);
    int hl = snprintf(head, sizeof head,
                      "PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                      "Content-Range: bytes %zu-%zu/%zu\r\nContent-Length: %zu\r\n%s\r\n",
                      target, half, total - 1, total, rest, sig);
    int fd = sct_connect(L.srv.port);
    ck_assert(sct_send_all(fd, head, (size_t)hl));
    ck_assert(sct_send_all(fd, d + half, rest / 4));
    usleep(200 * 1000);
    close(fd);

    /* HEAD reports the verified half only; the cut bytes were never verified. */
    long st = 0;
    for (int i = 0; i < 50; i++) {
        off = head_offset(&c, target, &st);
        if (off == (int64_t)half)
            break;
        usleep(20 * 1000); /* the server notices the hang-up asynchronously */
    }
    ck_assert_int_eq(st, 404);
    ck_assert_int_eq(off, (int64_t)half);

    /* Resume: the rest in two chunks. */
    size_t q = rest / 2;
    ck_assert_int_eq(put(&c, target, d, half, q, total, &off), 202);
    ck_assert_int_eq(off, (int64_t)(half + q));
    ck_assert_int_eq(put(&c, target, d, half + q, rest - q, total, &off), 201);

    sct_resp r;
    ck_assert_int_eq(sct_request(&c, "GET", target, NULL, 0, NULL, NULL, &r), 200);
    ck_assert_uint_eq(r.len, total);
    ck_assert(memcmp(r.body, d, total) == 0);
    uint8_t h[SC_HASH_LEN];
    char hex[65];
    sc_sha256(r.body, r.len, h);
    sc_hex_encode(h, sizeof h, hex, sizeof hex);
    ck_assert_str_eq(hex, name);
    sct_resp_dispose(&r);
    ck_assert_int_eq(head_offset(&c, target, &st), -1);
    ck_assert_int_eq(st, 200);
    free(d);
    sct_client_dispose(&c);
    sc_keypair_free(k);
}
END_TEST

START_TEST(chunk_limit_splits_big_photos)
{
    sc_keypair *k = sct_key(1);
    sct_client c;
    sct_client_init(&c, L.srv.url, k);
    sct_fixture_enroll(L.data, &c, k, "inspector1", NULL, NULL);
    char name[65], target[128];
    const size_t total = 20 * 1024 * 1024;
    uint8_t *d = photo(total, name);
    snprintf(target, sizeof target, "/v1/blobs/%s", name);
    name_photo(&c, k, name, total);
    /* One chunk over 8 MiB is refused before its body is read. */
    ck_assert_int_eq(put(&c, target, d, 0, 8 * 1024 * 1024 + 1, total, NULL), 413);
    const size_t chunk = 8 * 1024 * 1024;
    long st = 0;
    for (size_t at = 0; at < total; at += chunk)
        st = put(&c, target, d, at, total - at < chunk ? total - at : chunk, total, NULL);
    ck_assert_int_eq(st, 201);
    sct_resp r;
    ck_assert_int_eq(sct_request(&c, "GET", target, NULL, 0, NULL, NULL, &r), 200);
    ck_assert_uint_eq(r.len, total);
    ck_assert(memcmp(r.body, d, total) == 0);
    sct_resp_dispose(&r);
    free(d);
    sct_client_dispose(&c);
    sc_keypair_free(k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/serve_blobs");
    sct_live_use(&L);
    const sct_case cases[] = {
        {"cut_at_half_and_resumed", cut_at_half_and_resumed},
        {"chunk_limit_splits_big_photos", chunk_limit_splits_big_photos},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){
                      .setup = sct_live_setup, .teardown = sct_live_teardown, .timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
