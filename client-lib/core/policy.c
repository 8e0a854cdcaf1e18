/*
 * policy.c: which role may make which op kind, on which entity type
 * (DESIGN §5).
 *
 * The rules are the `may` column of opkinds.def: for each kind and role,
 * the entity types that role may apply the kind to.  The table is the whole
 * policy: a kind or role not in it is refused, and so is any kind on a
 * type it does not apply to (sc_op_kind_applies), whatever the table says.
 * Auditors read everything and write nothing, so they have no column.
 */
#include "policy.h"

#include "opkind.h"

bool sc_policy_allows(Scpb__Role role, Scpb__Op__BodyCase kind, Scpb__EntityType type)
{
    const sc_opkind *k = sc_opkind_of(kind);
    if (!k || !sc_op_kind_applies(kind, type))
        return false;
    unsigned types = 0;
    switch (role) {
    case SCPB__ROLE__ROLE_INSPECTOR:
        types = k->may[SC_MAY_INSPECTOR];
        break;
    case SCPB__ROLE__ROLE_SUPERVISOR:
        types = k->may[SC_MAY_SUPERVISOR];
        break;
    case SCPB__ROLE__ROLE_RESPONSIBLE:
        types = k->may[SC_MAY_RESPONSIBLE];
        break;
    case SCPB__ROLE__ROLE_ADMIN:
        types = k->may[SC_MAY_ADMIN];
        break;
    default: /* auditors, and anything unknown, may make nothing */
        types = 0;
        break;
    }
    return (types & (1u << type)) != 0;
}

bool sc_policy_allows_some(Scpb__Role role, Scpb__Op__BodyCase kind)
{
    for (int type = 1; type < 32; type++)
        if (sc_policy_allows(role, kind, (Scpb__EntityType)type))
            return true;
    return false;
}
