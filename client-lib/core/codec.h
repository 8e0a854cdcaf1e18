/*
 * codec.h: signed ops in and out.
 *
 * "Sign bytes, not structures": a device encodes an Op once, signs those
 * bytes, and ships SignedOp{op, sig}.  Everyone else verifies the bytes as
 * received and decodes them; nothing is re-encoded to be verified, and the
 * op id is SHA-256 of the op bytes.
 *
 * Decoding checks the length against the limits before unpacking, pairs
 * every unpack with its free, and then checks the structure (sc_op_check):
 * sizes of ids, keys and hashes, text lengths and UTF-8, enum ranges, that
 * the body belongs to the entity type, that create ops have no deps and
 * other ops do.  Semantic rules (roles, lifecycle) are not here: they live
 * in merge.h (validity against the causal past) and in syncd.
 */
#ifndef SC_CORE_CODEC_H
#define SC_CORE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "keys.h"
#include "limits.h"
#include "op.pb-c.h"
#include "opkind.h"
#include "status.h"
#include "text.h"

/* A decoded op with the exact bytes it came from.  Everything is owned. */
typedef struct sc_op {
    uint8_t id[SC_HASH_LEN];   /* SHA-256 of op_bytes */
    Scpb__Op *op;              /* decoded Op; owned, freed by sc_op_free */
    uint8_t *signed_bytes;     /* the SignedOp encoding; owned */
    size_t signed_len;         /* bytes */
    const uint8_t *op_bytes;   /* the Op encoding, inside signed_bytes' decoded copy; borrowed */
    size_t op_len;             /* bytes */
    const uint8_t *sig;        /* SC_SIG_LEN bytes; borrowed like op_bytes */
    Scpb__SignedOp *envelope;  /* decoded SignedOp; owned */
} sc_op;

enum {
    SC_OP_VERIFY = 1u << 0, /* verify the signature against op.author */
};

/*
 * Decode a SignedOp encoding of len bytes, check its structure and, with
 * SC_OP_VERIFY, its signature.  The envelope and the op must each be
 * exactly the bytes protobuf-c writes for what they decode to (fields in
 * schema order, none repeated, no padded varints), so one content has one
 * op id.  On success *out is a new sc_op (freed with sc_op_free) holding a
 * copy of the bytes.  Errors: SC_ERR_TOO_LARGE (REASON_TOO_LARGE),
 * SC_ERR_MALFORMED (REASON_MALFORMED or REASON_BAD_FIELD, message names the
 * field; REASON_MALFORMED "not in canonical form" for other bytes), SC_ERR_BAD_SIGNATURE
 * (REASON_BAD_SIGNATURE), SC_ERR_NOMEM.  *out is NULL on failure.
 */
sc_status sc_op_open(const sc_env *env, const uint8_t *signed_bytes, size_t len, unsigned flags,
                     sc_op **out, sc_err *err);

/* Scratch bytes sc_op_verify needs for any op: the domain, its NUL, the largest op. */
#define SC_OP_VERIFY_SCRATCH (sizeof SC_DOMAIN_OP + SC_OP_MAX_BYTES)

/*
 * The signature check of sc_op_open's SC_OP_VERIFY, for an op opened
 * without it: the same verdict, reason and message.  It uses only scratch
 * (cap bytes, SC_OP_VERIFY_SCRATCH is enough) and no allocator, so
 * distinct ops may be checked on several threads at once.
 */
sc_status sc_op_verify(const sc_op *op, uint8_t *scratch, size_t cap, sc_err *err);

/*
 * Encode `op` (caller-built; author must equal kp's public key), check its
 * structure, sign it and return the sealed op as a new sc_op.  The caller
 * keeps ownership of `op`.
 */
sc_status sc_op_seal(const sc_env *env, const sc_keypair *kp, const Scpb__Op *op, sc_op **out,
                     sc_err *err);

/* Free an sc_op; NULL is a no-op. */
void sc_op_free(const sc_env *env, sc_op *op);

/* Structural checks on a decoded Op (see the file comment).  REASON_* in err. */
sc_status sc_op_check(const Scpb__Op *op, sc_err *err);

#endif
