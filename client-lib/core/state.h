/*
 * state.h: folded entity states as replicas keep them: canonical encoding,
 * hashes, and the flags derived at query time.  States come from sc_fold
 * (merge.h) or from storage via sc_state_decode.
 */
#ifndef SC_CORE_STATE_H
#define SC_CORE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "limits.h"
#include "state.pb-c.h"
#include "status.h"

/* Encode a state canonically; *out is allocated with env.  */
sc_status sc_state_encode(const sc_env *env, const Scpb__EntityState *st, uint8_t **out,
                          size_t *len);
/* Decode a stored state (len checked against limit before unpacking). */
sc_status sc_state_decode(const sc_env *env, const uint8_t *buf, size_t len, size_t limit,
                          Scpb__EntityState **out, sc_err *err);
/* Free a state from sc_fold or sc_state_decode; NULL is a no-op. */
void sc_state_free(const sc_env *env, Scpb__EntityState *st);
/*
 * The code people type for an entity: an org unit's or target's code, a
 * user's login, a score sheet's code (*version its version; 0 for the
 * others); NULL for the kinds that have none.  Borrowed from st.
 */
const char *sc_state_code(const Scpb__EntityState *st, uint32_t *version);
/* SHA-256 of the canonical encoding. */
sc_status sc_state_hash(const sc_env *env, const Scpb__EntityState *st, uint8_t out[SC_HASH_LEN]);

/*
 * The hash of a whole replica: SHA-256 over (entity id || state hash) of
 * every entity in ascending entity id order.  sc_replica_hash_add refuses
 * (SC_ERR_INVALID_ARG) an id not greater than the previous one.
 */
typedef struct sc_replica_hash {
    _Alignas(16) unsigned char sha[128]; /* crypto_hash_sha256_state */
    uint8_t last_id[SC_ID_LEN];
    uint64_t count;
} sc_replica_hash;
void sc_replica_hash_init(sc_replica_hash *h);
sc_status sc_replica_hash_add(sc_replica_hash *h, const uint8_t id[SC_ID_LEN],
                              const uint8_t state_hash[SC_HASH_LEN]);
void sc_replica_hash_final(sc_replica_hash *h, uint8_t out[SC_HASH_LEN]);

/* Derived flags of a finding, computed at query time (they depend on the date and the blob store). */
/* Deadline passed (today > deadline day) and not closed, not voided. */
bool sc_finding_overdue(const Scpb__EntityState *st, int32_t today);
/* Whether a photo is present locally; ctx is the caller's. */
typedef bool (*sc_blob_present_fn)(void *ctx, const uint8_t sha256[SC_HASH_LEN]);
/* Some photo attached to, or named as evidence by, the entity is not present. */
bool sc_evidence_pending(const Scpb__EntityState *st, sc_blob_present_fn present, void *ctx);

#endif
