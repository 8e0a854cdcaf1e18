/*
 * test_ids.c: UUIDv7 layout and order, SHA-256 against the NIST vectors
 * (one-shot and incremental), and hex encoding with its failure modes.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "sctest.h"

#define EPOCH_MS INT64_C(1795392000000) /* sct_env's clock: 2026-11-23T00:00:00Z */

START_TEST(uuid7_layout)
{
    sct_env t;
    sct_env_init(&t, 1);
    uint8_t id[SC_ID_LEN];
    sc_uuid7_new(&t.env, id);
    ck_assert_uint_eq(id[6] >> 4, 7); /* version */
    ck_assert_uint_eq(id[8] >> 6, 2); /* variant 10 */
    ck_assert(sc_uuid7_valid(id));
    ck_assert_int_eq(sc_uuid7_ms(id), EPOCH_MS);
    /* The first 48 bits are the big-endian milliseconds. */
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | id[i];
    ck_assert_uint_eq(ms, (uint64_t)EPOCH_MS);
}
END_TEST

START_TEST(uuid7_random_bits)
{
    /* Same clock, same seed: same id; another seed: another id.  The 74
     * random bits must come from the environment, nowhere else. */
    sct_env a, b, c;
    sct_env_init(&a, 5);
    sct_env_init(&b, 5);
    sct_env_init(&c, 6);
    uint8_t ia[SC_ID_LEN], ib[SC_ID_LEN], ic[SC_ID_LEN], ia2[SC_ID_LEN];
    sc_uuid7_new(&a.env, ia);
    sc_uuid7_new(&b.env, ib);
    sc_uuid7_new(&c.env, ic);
    sc_uuid7_new(&a.env, ia2);
    ck_assert_mem_eq(ia, ib, SC_ID_LEN);
    ck_assert(memcmp(ia, ic, SC_ID_LEN) != 0);
    ck_assert(memcmp(ia, ia2, SC_ID_LEN) != 0); /* same ms, fresh random bits */
    ck_assert_mem_eq(ia, ia2, 6);               /* ... and the same time */
}
END_TEST

START_TEST(uuid7_order)
{
    /* With a clock that moves, ids sort by creation time. */
    sct_env t;
    sct_env_init(&t, 2);
    t.step_ms = 1;
    uint8_t prev[SC_ID_LEN], cur[SC_ID_LEN];
    sc_uuid7_new(&t.env, prev);
    for (int i = 0; i < 1000; i++) {
        sc_uuid7_new(&t.env, cur);
        ck_assert(sc_uuid7_valid(cur));
        ck_assert_int_eq(sc_uuid7_ms(cur), sc_uuid7_ms(prev) + 1);
        ck_assert_int_lt(memcmp(prev, cur, SC_ID_LEN), 0);
        memcpy(prev, cur, SC_ID_LEN);
    }
}
END_TEST

START_TEST(uuid7_clock_out_of_range)
{
    /* A clock before 1970 or past 48 bits clamps; the id stays valid. */
    sct_env t;
    sct_env_init(&t, 3);
    uint8_t id[SC_ID_LEN];
    t.now_ms = -5;
    sc_uuid7_new(&t.env, id);
    ck_assert(sc_uuid7_valid(id));
    ck_assert_int_eq(sc_uuid7_ms(id), 0);
    t.now_ms = INT64_MAX;
    sc_uuid7_new(&t.env, id);
    ck_assert(sc_uuid7_valid(id));
    ck_assert_int_eq(sc_uuid7_ms(id), INT64_C(0xffffffffffff));
}
END_TEST

START_TEST(uuid7_valid_rejects)
{
    uint8_t id[SC_ID_LEN];
    sct_env t;
    sct_env_init(&t, 4);
    sc_uuid7_new(&t.env, id);
    uint8_t v4[SC_ID_LEN];
    memcpy(v4, id, SC_ID_LEN);
    v4[6] = (uint8_t)(0x40 | (v4[6] & 0x0f)); /* UUIDv4 */
    ck_assert(!sc_uuid7_valid(v4));
    uint8_t ncs[SC_ID_LEN];
    memcpy(ncs, id, SC_ID_LEN);
    ncs[8] &= 0x3f; /* variant 0 (NCS) */
    ck_assert(!sc_uuid7_valid(ncs));
    uint8_t ms[SC_ID_LEN];
    memcpy(ms, id, SC_ID_LEN);
    ms[8] = (uint8_t)(0xc0 | (ms[8] & 0x1f)); /* variant 110 (Microsoft) */
    ck_assert(!sc_uuid7_valid(ms));
    uint8_t zero[SC_ID_LEN] = {0};
    ck_assert(!sc_uuid7_valid(zero));
}
END_TEST

/* One line of sha256.txt: "<count> <digest> <text>". */
typedef struct sha_vec {
    unsigned long long count;
    uint8_t digest[SC_HASH_LEN];
    const char *text;
    size_t text_len;
} sha_vec;

static size_t read_sha_vectors(uint8_t *buf, sha_vec *out, size_t cap)
{
    size_t n = 0;
    char *line = (char *)buf;
    while (line && *line) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] != '#' && line[0] != '\0') {
            ck_assert_uint_lt(n, cap);
            char *end = NULL;
            out[n].count = strtoull(line, &end, 10);
            ck_assert(end && *end == ' ' && out[n].count > 0);
            char *hex = end + 1;
            ck_assert_uint_ge(strlen(hex), 2 * SC_HASH_LEN);
            ck_assert_int_eq(sc_hex_decode(hex, 2 * SC_HASH_LEN, out[n].digest, SC_HASH_LEN),
                             SC_OK);
            char *text = hex + 2 * SC_HASH_LEN;
            ck_assert(*text == '\0' || *text == ' ');
            out[n].text = *text ? text + 1 : text;
            out[n].text_len = strlen(out[n].text);
            n++;
        }
        line = next;
    }
    return n;
}

START_TEST(sha256_vectors)
{
    size_t len;
    uint8_t *buf = sct_read_vector("sha256.txt", &len);
    sha_vec v[16];
    size_t n = read_sha_vectors(buf, v, 16);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        uint8_t got[SC_HASH_LEN];
        if (v[i].count == 1) {
            sc_sha256(v[i].text, v[i].text_len, got);
            ck_assert_mem_eq(got, v[i].digest, SC_HASH_LEN);
            /* Incremental, split at every point: the same digest. */
            for (size_t cut = 0; cut <= v[i].text_len; cut++) {
                sc_sha256_ctx ctx;
                sc_sha256_init(&ctx);
                sc_sha256_update(&ctx, v[i].text, cut);
                sc_sha256_update(&ctx, v[i].text + cut, v[i].text_len - cut);
                sc_sha256_final(&ctx, got);
                ck_assert_mem_eq(got, v[i].digest, SC_HASH_LEN);
            }
        } else {
            /* The million-'a' vector goes through the incremental API in
             * uneven chunks, as a photo upload would. */
            sc_sha256_ctx ctx;
            sc_sha256_init(&ctx);
            char chunk[4099];
            ck_assert_uint_eq(v[i].text_len, 1);
            memset(chunk, v[i].text[0], sizeof chunk);
            unsigned long long left = v[i].count;
            while (left > 0) {
                size_t take = left < sizeof chunk ? (size_t)left : sizeof chunk;
                sc_sha256_update(&ctx, chunk, take);
                left -= take;
            }
            sc_sha256_final(&ctx, got);
            ck_assert_mem_eq(got, v[i].digest, SC_HASH_LEN);
        }
    }
    free(buf);
}
END_TEST

START_TEST(hex_round_trip)
{
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char hex[2 * 256 + 1];
    ck_assert_int_eq(sc_hex_encode(all, sizeof all, hex, sizeof hex), SC_OK);
    ck_assert_uint_eq(strlen(hex), 512);
    ck_assert(strncmp(hex, "000102", 6) == 0);
    ck_assert(strcmp(hex + 500, "fafbfcfdfeff") == 0); /* lowercase */
    uint8_t back[256];
    ck_assert_int_eq(sc_hex_decode(hex, strlen(hex), back, sizeof back), SC_OK);
    ck_assert_mem_eq(back, all, sizeof all);
    /* Upper case decodes too. */
    uint8_t b2[2];
    ck_assert_int_eq(sc_hex_decode("ABcd", 4, b2, 2), SC_OK);
    ck_assert_uint_eq(b2[0], 0xab);
    ck_assert_uint_eq(b2[1], 0xcd);
    /* Zero bytes: an empty string. */
    char e[1] = {'x'};
    ck_assert_int_eq(sc_hex_encode(all, 0, e, 1), SC_OK);
    ck_assert_int_eq(e[0], '\0');
    ck_assert_int_eq(sc_hex_decode("", 0, back, 0), SC_OK);
}
END_TEST

START_TEST(hex_bad_inputs)
{
    uint8_t id[SC_ID_LEN] = {1, 2, 3};
    char small[2 * SC_ID_LEN]; /* one short: no room for the NUL */
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(sc_hex_encode(id, SC_ID_LEN, small, sizeof small), SC_ERR_TOO_LARGE);
    ck_assert_int_eq(small[0], '\0'); /* fail closed */
    ck_assert_int_eq(sc_hex_encode(id, SIZE_MAX, small, sizeof small), SC_ERR_TOO_LARGE);

    uint8_t out[2];
    const char *bad[] = {"abc", "abcde", "0g12", "12 3", "-123", "12\0003"};
    size_t lens[] = {3, 5, 4, 4, 4, 4};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(out, 0xee, sizeof out);
        ck_assert_int_eq(sc_hex_decode(bad[i], lens[i], out, 2), SC_ERR_MALFORMED);
        ck_assert_uint_eq(out[0], 0);
        ck_assert_uint_eq(out[1], 0);
    }
    /* The text must be exactly 2*want digits, neither more nor fewer. */
    ck_assert_int_eq(sc_hex_decode("abcdef", 6, out, 2), SC_ERR_MALFORMED);
    ck_assert_int_eq(sc_hex_decode("ab", 2, out, 2), SC_ERR_MALFORMED);
}
END_TEST

static Suite *ids_suite(void)
{
    Suite *s = suite_create("ids");
    const sct_case cases[] = {
        {"uuid7_layout", uuid7_layout},
        {"uuid7_random_bits", uuid7_random_bits},
        {"uuid7_order", uuid7_order},
        {"uuid7_clock_out_of_range", uuid7_clock_out_of_range},
        {"uuid7_valid_rejects", uuid7_valid_rejects},
        {"sha256_vectors", sha256_vectors},
        {"hex_round_trip", hex_round_trip},
        {"hex_bad_inputs", hex_bad_inputs},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(ids_suite());
}
