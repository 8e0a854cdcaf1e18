/*
 * ids.c: UUIDv7 entity ids, SHA-256 and hex.
 *
 * A UUIDv7 (RFC 9562 §5.7) is built only from the environment's clock and
 * random source, so tests get the same ids every run and the core keeps no
 * state.  Without state there is no per-millisecond counter: ids made in the
 * same millisecond are ordered by their random bits, which the RFC allows
 * ("monotonicity" is optional).  SHA-256 is libsodium's; the incremental
 * context keeps libsodium's state inside a caller-owned opaque buffer whose
 * size and alignment are checked at compile time.  Hex output is always
 * lowercase; every failure leaves the output zeroed (fail closed).
 */
#include "ids.h"

#include <sodium.h>
#include <string.h>

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((sc_sha256_ctx *)0)->opaque),
               "sc_sha256_ctx is too small for libsodium's SHA-256 state");
_Static_assert(_Alignof(crypto_hash_sha256_state) <= 16,
               "sc_sha256_ctx is not aligned enough for libsodium's SHA-256 state");

/* The largest Unix millisecond a UUIDv7's 48-bit time field can hold. */
#define UUID7_MS_MAX INT64_C(0xffffffffffff)

void sc_uuid7_new(const sc_env *env, uint8_t out[SC_ID_LEN])
{
    int64_t ms = sc_env_now_ms(env);
    /* A clock before 1970 or after year 10889 cannot be represented; clamp so
     * the id stays a valid UUIDv7 rather than wrapping to a wrong time. */
    if (ms < 0)
        ms = 0;
    if (ms > UUID7_MS_MAX)
        ms = UUID7_MS_MAX;
    uint64_t t = (uint64_t)ms;
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(t >> (8 * (5 - i)));
    /* 10 random bytes fill rand_a (12 bits) and rand_b (62 bits); the version
     * and variant bits then overwrite the 6 bits they own. */
    sc_env_random(env, out + 6, SC_ID_LEN - 6);
    out[6] = (uint8_t)(0x70 | (out[6] & 0x0f));
    out[8] = (uint8_t)(0x80 | (out[8] & 0x3f));
}

int64_t sc_uuid7_ms(const uint8_t id[SC_ID_LEN])
{
    uint64_t t = 0;
    for (int i = 0; i < 6; i++)
        t = (t << 8) | id[i];
    return (int64_t)t;
}

bool sc_uuid7_valid(const uint8_t id[SC_ID_LEN])
{
    return (id[6] & 0xf0) == 0x70 && (id[8] & 0xc0) == 0x80;
}

void sc_sha256(const void *data, size_t len, uint8_t out[SC_HASH_LEN])
{
    crypto_hash_sha256(out, data, len);
}

/*
 * The context is a byte buffer; libsodium's state is copied in and out
 * rather than accessed through a cast pointer, so no object is ever read
 * through an lvalue of a type it was not stored as.  104 bytes per call is
 * nothing next to hashing a photo chunk.
 */
void sc_sha256_init(sc_sha256_ctx *ctx)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    memset(ctx->opaque, 0, sizeof ctx->opaque);
    memcpy(ctx->opaque, &st, sizeof st);
}

void sc_sha256_update(sc_sha256_ctx *ctx, const void *data, size_t len)
{
    crypto_hash_sha256_state st;
    memcpy(&st, ctx->opaque, sizeof st);
    crypto_hash_sha256_update(&st, data, len);
    memcpy(ctx->opaque, &st, sizeof st);
}

void sc_sha256_final(sc_sha256_ctx *ctx, uint8_t out[SC_HASH_LEN])
{
    crypto_hash_sha256_state st;
    memcpy(&st, ctx->opaque, sizeof st);
    crypto_hash_sha256_final(&st, out);
    memset(ctx->opaque, 0, sizeof ctx->opaque);
}

sc_status sc_hex_encode(const uint8_t *bin, size_t len, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    sc_status rc = SC_OK;
    if (len > (SIZE_MAX - 1) / 2 || cap < 2 * len + 1) {
        rc = SC_ERR_TOO_LARGE;
        goto done;
    }
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 0x0f];
    }
    out[2 * len] = '\0';
done:
    if (rc != SC_OK && out && cap > 0)
        out[0] = '\0';
    return rc;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

sc_status sc_hex_decode(const char *text, size_t text_len, uint8_t *out, size_t want)
{
    sc_status rc = SC_OK;
    if (want > SIZE_MAX / 2 || text_len != 2 * want) {
        rc = SC_ERR_MALFORMED;
        goto done;
    }
    for (size_t i = 0; i < want; i++) {
        int hi = hex_digit(text[2 * i]);
        int lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            rc = SC_ERR_MALFORMED;
            goto done;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
done:
    if (rc != SC_OK && out && want > 0)
        memset(out, 0, want);
    return rc;
}
