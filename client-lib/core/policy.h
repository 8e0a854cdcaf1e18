/*
 * policy.h: which role may make which op kind (DESIGN §5): the `may`
 * column of the op-kind table (opkinds.def), which syncd enforces, the
 * client consults before recording, and docs/data-model.md reproduces.
 * Scope (org subtrees) and visibility need the register and live in syncd.
 */
#ifndef SC_CORE_POLICY_H
#define SC_CORE_POLICY_H

#include <stdbool.h>

#include "op.pb-c.h"

/* True when a user of `role` may make ops of `kind` on an entity of `type`. */
bool sc_policy_allows(Scpb__Role role, Scpb__Op__BodyCase kind, Scpb__EntityType type);
/*
 * True when a user of `role` may make ops of `kind` on some entity type.
 * syncd lets only roles that may attach photos (PhotoAttach) upload them.
 */
bool sc_policy_allows_some(Scpb__Role role, Scpb__Op__BodyCase kind);

#endif
