/*
 * ids.h: identifiers and the hash everything is addressed by.
 *
 * Entity ids are UUIDv7 (RFC 9562 §5.7): 48 bits of Unix ms, version 7,
 * 74 random bits, variant 10; made on the device, so ids sort by creation
 * time.  Op ids, photo addresses and Merkle leaves use SHA-256, so an auditor
 * can check them with standard tools.
 */
#ifndef SC_CORE_IDS_H
#define SC_CORE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "limits.h"
#include "spotcheck.h"

/* A new UUIDv7 from env's clock and random source. */
void sc_uuid7_new(const sc_env *env, uint8_t out[SC_ID_LEN]);
/* The Unix ms embedded in a UUIDv7. */
int64_t sc_uuid7_ms(const uint8_t id[SC_ID_LEN]);
/* True when the 16 bytes carry version 7 and variant 10. */
bool sc_uuid7_valid(const uint8_t id[SC_ID_LEN]);

/* SHA-256 of len bytes. */
void sc_sha256(const void *data, size_t len, uint8_t out[SC_HASH_LEN]);

/* Incremental SHA-256 for streams (photos); state is caller-owned. */
typedef struct sc_sha256_ctx {
    _Alignas(16) unsigned char opaque[128]; /* crypto_hash_sha256_state */
} sc_sha256_ctx;
void sc_sha256_init(sc_sha256_ctx *ctx);
void sc_sha256_update(sc_sha256_ctx *ctx, const void *data, size_t len);
void sc_sha256_final(sc_sha256_ctx *ctx, uint8_t out[SC_HASH_LEN]);

/*
 * Lowercase hex.  sc_hex_encode writes 2*len digits and a NUL into out,
 * which must hold cap >= 2*len+1 bytes; returns SC_ERR_TOO_LARGE otherwise.
 */
sc_status sc_hex_encode(const uint8_t *bin, size_t len, char *out, size_t cap);
/*
 * Decode exactly `want` bytes from hex text of length text_len (upper or
 * lower case).  SC_ERR_MALFORMED if text_len != 2*want or a digit is bad.
 */
sc_status sc_hex_decode(const char *text, size_t text_len, uint8_t *out, size_t want);

/* Hex sizes including the NUL. */
#define SC_ID_HEX (2 * SC_ID_LEN + 1)
#define SC_HASH_HEX (2 * SC_HASH_LEN + 1)

#endif
