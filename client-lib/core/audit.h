/*
 * audit.h: streaming verification of a register's log, shared by
 * `syncd audit` and `spotcheck verify-bundle`, so the two check the same
 * things the same way.
 *
 * Fed every log entry in index order from 0, and every signed checkpoint
 * once the entries reach its size, the auditor checks without trusting the
 * server's database:
 *  - each entry decodes, is structurally valid and its signature verifies;
 *  - its author is the server key, or a device whose enrollment (a
 *    DeviceEnroll op by the server key) has a smaller index and whose
 *    revocation, if any, has a larger one, and whose user is not disabled
 *    at that point of the log (REASON_USER_DISABLED);
 *  - the author's role (from the UserCreate of the device's user and the
 *    UserRole ops before the entry) may make the op kind on the entity
 *    type (policy.h); server-key ops are admin;
 *  - each change to a user (UserRole, UserDisable, UserEnable) builds on
 *    the user's latest op, and no device is enrolled for a disabled user;
 *  - each checkpoint's signature verifies under the server key and its root
 *    equals the RFC 9162 root of the entries so far.
 * Replaying the ops into states is the caller's part: it needs storage
 * grouped by entity, which the core does not do.
 */
#ifndef SC_CORE_AUDIT_H
#define SC_CORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "env.h"
#include "status.h"

typedef struct sc_auditor sc_auditor;

/* A new auditor for the log of `server_key` with checkpoint origin `origin`. */
sc_status sc_auditor_new(const sc_env *env, const uint8_t server_key[SC_KEY_LEN],
                         const char *origin, sc_auditor **out);
void sc_auditor_free(sc_auditor *a);

/*
 * Check the entry at `index` (must be the next one).  On success, when out
 * is not NULL, *out is the opened op (the caller frees it with sc_op_free).
 * On failure err names the entry ("entry 41 (op 3fa2…): …").
 */
sc_status sc_auditor_entry(sc_auditor *a, uint64_t index, const uint8_t *signed_op, size_t len,
                           sc_op **out, sc_err *err);

/* Check a checkpoint note whose size is at most the entries seen so far.  Sizes
 * must not decrease from one checkpoint to the next. */
sc_status sc_auditor_checkpoint(sc_auditor *a, const char *note, size_t len, sc_err *err);

/* Entries and checkpoints checked so far, and the root of the entries. */
uint64_t sc_auditor_size(const sc_auditor *a);
uint64_t sc_auditor_checkpoints(const sc_auditor *a);
/* The size of the last checkpoint checked (0 before any): the entries the server signed for. */
uint64_t sc_auditor_last_checkpoint(const sc_auditor *a);
void sc_auditor_root(const sc_auditor *a, uint8_t out[SC_HASH_LEN]);

#endif
