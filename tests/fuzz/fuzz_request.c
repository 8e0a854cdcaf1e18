/*
 * fuzz_request.c: the parsers syncd runs on request headers and targets
 * before any signature is checked: the X-Spotcheck-* headers
 * (sd_auth_parse, then sd_auth_verify), Content-Range
 * (sd_http_parse_range), query parameters (sd_http_query_u64), blob names
 * (sd_blob_name_valid), and the JSON escaping of whatever lands in a log
 * line (sd_json_escape).
 *
 * The input is split at newlines into: device, time, nonce, signature,
 * Content-Range, query, free text (also sent as the User-Agent), body hash
 * (X-Spotcheck-Body-Sha256).  Beyond not crashing, each result must keep
 * its contract (a range fits its total, a blob name is 64 lowercase hex
 * digits, escaped text is valid UTF-8 with no raw control bytes or quotes,
 * the User-Agent kept is printable ASCII within SC_AGENT_MAX, a random
 * signature never verifies).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/logjson.h"
#include "blobs/blobs.h"
#include "core/codec.h"
#include "core/ids.h"
#include "http/auth.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 8
#define NOW INT64_C(1795392000000)

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return NOW;
}

static void zero_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0, len);
}

static const sc_env env = {NULL, NULL, NULL, fixed_now, zero_random, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sd_auth *auth;
    /* Started long enough ago that only the clock window limits the time. */
    static const sd_auth_limits lim = {.skew_ms = 300000, .start_ms = NOW - 600000,
                                       .nonces_max = 1024, .device_nonces_max = 64};
    if (!auth && (sc_crypto_init() != SC_OK || sd_auth_new(&env, &lim, &auth) != SC_OK))
        abort();

    /* Split into NUL-terminated fields (a missing field is NULL, as a missing header). */
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *field[FIELDS] = {0};
    size_t flen[FIELDS] = {0};
    char *p = copy;
    for (int i = 0; i < FIELDS && p; i++) {
        char *nl = memchr(p, '\n', (size_t)(copy + size - p));
        field[i] = p;
        flen[i] = nl ? (size_t)(nl - p) : strlen(p);
        if (nl)
            *nl = '\0';
        p = nl ? nl + 1 : NULL;
    }

    sd_auth_headers h = {field[0], field[1], field[2], field[3], field[7], field[6]};
    sd_auth_req ar;
    sc_err err;
    if (sd_auth_parse(auth, &h, NOW, &ar, &err) == SC_OK) {
        /* The User-Agent kept is printable ASCII within its limit, whatever was sent. */
        size_t al = strnlen(ar.agent, sizeof ar.agent);
        if (al > SC_AGENT_MAX)
            abort();
        for (size_t i = 0; i < al; i++)
            if (ar.agent[i] < 0x20 || ar.agent[i] >= 0x7f)
                abort();
        uint8_t bh[SC_HASH_LEN];
        sc_sha256(data, size, bh);
        const char *target = field[5] ? field[5] : "/";
        /* Fuzzed signatures are random bytes: one verifying would be a forgery. */
        if (sd_auth_verify(auth, &ar, "GET", target, strlen(target), bh, NOW, NULL, &err) == SC_OK)
            abort();
        if (ar.has_body_hash &&
            sd_auth_check(auth, &ar, "PUT", target, strlen(target), ar.body_hash, NOW, &err) == SC_OK)
            abort();
    } else if (err.reason == 0 || err.msg[0] == '\0') {
        abort(); /* every refusal says why */
    }

    uint64_t start, len, total;
    if (field[4] && sd_http_parse_range(field[4], &start, &len, &total) &&
        (len == 0 || start >= total || len > total - start))
        abort();

    if (field[5]) {
        uint64_t v;
        int r = sd_http_query_u64(field[5], flen[5], "index", &v);
        if (r < -1 || r > 1)
            abort();
    }

    if (field[6]) {
        if (sd_blob_name_valid(field[6], flen[6])) {
            if (flen[6] != SD_BLOB_NAME_LEN)
                abort();
            for (size_t i = 0; i < flen[6]; i++)
                if (!((field[6][i] >= '0' && field[6][i] <= '9') ||
                      (field[6][i] >= 'a' && field[6][i] <= 'f')))
                    abort();
        }
        size_t cap = flen[6] * 6 + 1;
        char *out = malloc(cap);
        if (out) {
            size_t n = sd_json_escape(field[6], flen[6], out, cap);
            if (n == (size_t)-1 || n != strlen(out) || !sc_utf8_valid(out, n))
                abort();
            for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)out[i];
                if (c < 0x20 || c == 0x7f)
                    abort();
                if (c == '"' && (i == 0 || out[i - 1] != '\\'))
                    abort();
            }
            free(out);
        }
    }
    free(copy);
    return 0;
}
