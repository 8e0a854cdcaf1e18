/*
 * merge.h: the deterministic merge (DESIGN §4), written once for both sides.
 *
 * The state of an entity is a pure function of its set of ops: sc_fold takes
 * the ops in any order and returns the same EntityState, byte for byte, on
 * every replica.  The rules:
 *
 *  - Fold order is (HLC, author key, op id), a linear extension of causality
 *    because a valid op's HLC exceeds its deps'.  Causality is the deps
 *    closure; two ops are concurrent when neither is in the other's closure.
 *  - Every op is judged against its own causal past (the fold of its deps
 *    closure), never against what happened to arrive first.  An op that is
 *    not valid there is kept in the set, listed in invalid_ops, and has no
 *    effect.  syncd refuses such ops at ingest, so the log never holds one.
 *  - Append-only facts (photos, notes, evidence, revisits, voids) are unions.
 *  - Each editable field (and each checklist item of an inspection) is a
 *    register: its writers are the create op and the valid edits.  The value
 *    is that of the last writer in fold order among the writers no other
 *    writer has seen (the frontier).  If the frontier holds different
 *    values, the entity carries a Conflict until a writer that has all of
 *    them in its causal past (a later edit or a ConflictResolve) settles it.
 *  - The finding lifecycle is a register too, but its frontier resolves to
 *    the safest status (open < submitted < verified < closed): a failing
 *    revisit or a reopen beats a concurrent closure.  The overruled
 *    transitions stay in history and raise a FIELD_STATUS conflict.
 *  - A major hazard is closed only after a verifying revisit by someone
 *    other than everyone who reported it (a rectification report, or the
 *    creation of a finding fixed on the spot): a person, not a device, so
 *    one user's second tablet does not count (sc_users).
 *  - Rectification governance (merge_gov.c): the notice, the plan and its
 *    return, sign-for, extensions and their decisions (a rejection beats a
 *    concurrent approval), a supervisor's deadline change, and acceptance
 *    (验收) of major hazards by a user of an org unit above the
 *    responsible one; reporter, acceptor and closer are three people.
 *  - Item results made concurrently with an inspection's submission are not
 *    covered by it; they are left out of the results and raised as
 *    FIELD_ITEM conflicts until an amendment or resolve covers them.
 *
 * Limits: at most SC_ENTITY_OPS_MAX ops.  Memory is O(n^2/8) bytes for the
 * causality matrix plus the state.
 */
#ifndef SC_CORE_MERGE_H
#define SC_CORE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "limits.h"
#include "op.pb-c.h"
#include "state.pb-c.h"
#include "state.h"
#include "status.h"

/*
 * Who a device key speaks for.  Separation of duties is by person (DESIGN
 * §10): a "someone other than" rule compares users, and ops name only
 * their author's device key.  The map is the one the DeviceEnroll ops make
 * (signed by the server; every replica and syncd hold them all, since
 * devices are visible to everyone), and a key's user never changes once it
 * is enrolled, so the fold stays a pure function of the op set and the
 * enrollments in the log: every replica, syncd and `syncd audit` fold alike.
 *
 * user_of writes the user the key was enrolled for and returns SC_OK;
 * SC_ERR_NOT_FOUND for a key no enrollment names (the key then counts as a
 * person of its own, which is what a replica that has not pulled an
 * enrollment yet must assume: syncd judged every logged op with the whole
 * map, so such a replica can only be more lenient, never refuse a logged
 * op); any other status is a failure to look it up, and the fold fails
 * with it.  Called only while judging a rule that compares people.
 */
typedef struct sc_users {
    sc_status (*user_of)(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN]);
    void *ctx; /* the caller's, passed to every callback */
    /*
     * Where people sit, for acceptance (验收) by a user of an org unit above
     * the responsible one: the org unit a user belongs to (its UserCreate)
     * and the parent of an org unit (its OrgCreate; *has false for a root).
     * Both are fixed when the entity is created and visible to everyone, so
     * the fold stays a pure function of what the log holds.  SC_ERR_NOT_FOUND
     * for a user or org unit not known here: the rule then lets the op
     * through, as for an unknown key; any other status fails the fold.
     * Either NULL: the rule is not judged (callers that fold one rule's ops).
     */
    sc_status (*org_of)(void *ctx, const uint8_t user[SC_ID_LEN], uint8_t org[SC_ID_LEN]);
    sc_status (*parent_of)(void *ctx, const uint8_t org[SC_ID_LEN], uint8_t parent[SC_ID_LEN],
                           bool *has);
} sc_users;

/* One op of the entity: its id and decoded body, both borrowed for the call. */
typedef struct sc_fold_input {
    const uint8_t *id;    /* SC_HASH_LEN bytes */
    const Scpb__Op *op;   /* passed sc_op_check */
} sc_fold_input;

typedef struct sc_fold_out {
    Scpb__EntityState *state; /* owned; free with sc_fold_out_dispose or sc_state_free */
    const char **why;         /* n entries: NULL when ops[i] is valid, else a static reason text; owned array */
    size_t n;                 /* number of ops folded */
} sc_fold_out;

/*
 * Fold the n ops of one entity (all of them: every dep must be among them).
 * users says who each device speaks for (NULL: every key is a person of its
 * own, for callers with no enrollments, such as tests of one rule).
 * Errors: SC_ERR_INVALID_ARG (n == 0, ops of different entities, the same
 * op twice), SC_ERR_REJECTED with REASON_UNKNOWN_DEPENDENCY (a dep that is
 * not in the set), SC_ERR_LIMIT with REASON_ENTITY_FULL (n above
 * SC_ENTITY_OPS_MAX), SC_ERR_NOMEM, or what users->user_of failed with.
 * *out is zeroed on failure.
 */
sc_status sc_fold(const sc_env *env, const sc_users *users, const sc_fold_input *ops, size_t n,
                  sc_fold_out *out, sc_err *err);

/* Free what sc_fold returned; out itself is caller-owned.  Safe on a zeroed out. */
void sc_fold_out_dispose(const sc_env *env, sc_fold_out *out);

#endif
