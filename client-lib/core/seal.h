/*
 * seal.h: the server's signed word on one sync answer (docs/protocol.md
 * §4.2.1).
 *
 * For every SyncResponse syncd signs a SyncSeal with its key: the request
 * it answers (the nonce of the signed request headers, the SHA-256 of the
 * request body, the cursor the client sent) and what the client acts on
 * (digests of the per-op results, of the pulled ops and of the photos said
 * to be stored; the cursor out, `more`, the checkpoint and the server
 * time).  Both sides build the seal with sc_seal_build from the same
 * inputs, so every digest is defined once; syncd signs it (sc_seal_sign),
 * the client checks the signature (sc_seal_open) and compares the signed
 * seal with the one it built from its own request and the answer it got
 * (sc_seal_compare), field by field.  An answer that does not match is not
 * the server's answer to this request, and nothing of it is applied.
 *
 * So a network in the middle cannot forge or replay an answer, change a
 * result ("accepted", "rejected"), drop or change a pulled op, or move the
 * cursor.  A dishonest server can still answer as it likes, but what it
 * answers is signed, and so attributable (docs/security.md).
 */
#ifndef SC_CORE_SEAL_H
#define SC_CORE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "keys.h"
#include "limits.h"
#include "status.h"
#include "wire.pb-c.h"

/* A request nonce (X-Spotcheck-Nonce): 16 bytes. */
#define SC_NONCE_LEN 16

/* What a seal is built from.  Everything is borrowed. */
typedef struct sc_seal_input {
    const uint8_t *nonce;        /* SC_NONCE_LEN bytes: the request's nonce */
    const uint8_t *request_hash; /* SHA-256 of the request body */
    bool has_cursor_in;          /* the request carried a cursor */
    const uint8_t *cursor_in;    /* its bytes (cursor_in_len) */
    size_t cursor_in_len;
    const Scpb__SyncResponse *resp;       /* the answer: every field but receipt and the seal */
    const uint8_t (*leaves)[SC_HASH_LEN]; /* RFC 9162 leaf hash of each resp->ops[i]'s signed_op */
} sc_seal_input;

/* A seal as built: msg points into the digests here and into the input's bytes. */
typedef struct sc_seal {
    Scpb__SyncSeal msg;
    uint8_t nonce[SC_NONCE_LEN];
    uint8_t request_hash[SC_HASH_LEN];
    uint8_t results[SC_HASH_LEN];
    uint8_t ops[SC_HASH_LEN];
    uint8_t blobs[SC_HASH_LEN];
    uint8_t checkpoint[SC_HASH_LEN];
} sc_seal;

/*
 * Build the seal of an answer into *out, which borrows the input's cursors
 * until they are freed.  Digests (docs/protocol.md §4.2.1 is normative):
 *   results: SHA-256 of u64 count, then per result: u32 len(op_id) op_id,
 *            u32 status, u64 log_index, u32 reason, u32 len(message) message;
 *   ops:     SHA-256 of u64 count, then per op: u64 log_index,
 *            i64 received_ms, the leaf hash of signed_op;
 *   blobs:   SHA-256 of u8 blobs_checked, u64 count, then per name:
 *            u32 len(name) name;
 *   checkpoint: SHA-256 of checkpoint.note.
 * Integers are big-endian; an absent field counts as zero or empty.
 */
void sc_seal_build(const sc_seal_input *in, sc_seal *out);

/*
 * Encode and sign a seal with the server key: out (cap bytes, SC_SEAL_MAX
 * is enough) gets the SyncSeal encoding, *len its length, sig
 * Ed25519(kp, SC_DOMAIN_SYNC "\0" || out).  SC_ERR_TOO_LARGE when it does
 * not fit; outputs are zeroed on failure.
 */
sc_status sc_seal_sign(const sc_env *env, const sc_keypair *kp, const sc_seal *s, uint8_t *out,
                       size_t cap, size_t *len, uint8_t sig[SC_SIG_LEN]);

/*
 * Check a received seal: at most SC_SEAL_MAX bytes, a 64-byte signature
 * that verifies under the server key for SC_DOMAIN_SYNC, and a SyncSeal
 * encoding.  *out (free with scpb__sync_seal__free_unpacked(*out, NULL)) on
 * success.  SC_ERR_UNPROVEN otherwise; the message says which.
 */
sc_status sc_seal_open(const sc_env *env, const uint8_t server_key[SC_KEY_LEN],
                       const uint8_t *bytes, size_t len, const uint8_t *sig, size_t sig_len,
                       Scpb__SyncSeal **out, sc_err *err);

/*
 * Compare a signed seal (got) with the one built from the request and the
 * answer (want).  SC_OK when every field of want is in got with the same
 * value (fields got has beyond those are a later syncd's and ignored);
 * else SC_ERR_UNPROVEN, and the message names the first field that differs
 * and what that means ("the results differ from what the server signed").
 */
sc_status sc_seal_compare(const Scpb__SyncSeal *want, const Scpb__SyncSeal *got, sc_err *err);

#endif
