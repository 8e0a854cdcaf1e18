/*
 * checkpoint.h: signed checkpoints in the C2SP tlog-checkpoint format.
 *
 *   <origin>\n
 *   <tree size, decimal>\n
 *   <root hash, standard base64>\n
 *   time <unix ms, decimal>\n                      (extension line)
 *   \n
 *   — <origin> <base64(key id[4] || Ed25519 signature[64])>\n
 *
 * The signature covers the note text up to and including the newline before
 * the blank line.  key id = SHA-256(origin || "\n" || 0x01 || public key)[:4]
 * (the C2SP signed-note rule for Ed25519).  A verifier accepts a note only
 * when a signature line with the expected name and key id verifies; lines
 * from other keys are ignored, so witnesses can cosign later.
 */
#ifndef SC_CORE_CHECKPOINT_H
#define SC_CORE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "keys.h"
#include "limits.h"
#include "status.h"

typedef struct sc_checkpoint {
    char origin[SC_ORIGIN_MAX];    /* NUL-terminated */
    uint64_t size;                 /* leaves */
    uint8_t root[SC_HASH_LEN];
    int64_t time_ms;               /* from the time extension line, 0 if absent */
} sc_checkpoint;

/* The 4-byte key id of a (name, Ed25519 public key) pair. */
void sc_checkpoint_key_id(const char *name, const uint8_t pub[SC_KEY_LEN], uint8_t out[4]);

/*
 * Write the signed note for cp into out (cap bytes, SC_CHECKPOINT_NOTE_MAX is
 * enough), NUL-terminated; *len excludes the NUL.  The origin must be
 * printable UTF-8 without newlines; as it is also the key name of the
 * signature line, it may not hold spaces or '+' either (C2SP key names), or
 * standard tooling could not parse the note.  The time line carries
 * cp->time_ms and is left out when it is 0; the caller stamps the time, so
 * env's clock is not read.  SC_ERR_INVALID_ARG for a bad origin or a
 * negative time, SC_ERR_TOO_LARGE when cap is too small; out is zeroed on
 * failure.
 */
sc_status sc_checkpoint_sign(const sc_env *env, const sc_keypair *kp, const sc_checkpoint *cp,
                             char *out, size_t cap, size_t *len, sc_err *err);

/*
 * Parse a note of len bytes and verify it under pub.  When want_origin is
 * not NULL the origin must equal it.  Errors: SC_ERR_TOO_LARGE,
 * SC_ERR_MALFORMED (the message names the line), SC_ERR_CHECKPOINT (no
 * signature line by this key verifies).  *out is zeroed on failure.
 */
sc_status sc_checkpoint_open(const char *note, size_t len, const uint8_t pub[SC_KEY_LEN],
                             const char *want_origin, sc_checkpoint *out, sc_err *err);

#endif
