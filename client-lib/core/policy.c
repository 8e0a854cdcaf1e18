/*
 * policy.c: which role may make which op kind, on which entity type
 * (DESIGN §5).
 *
 * One row per op kind; each column holds the entity types that role may
 * apply the kind to.  The table is the whole policy: a kind or role not in
 * it is refused, and so is any kind on a type it does not apply to
 * (sc_op_kind_applies), whatever the table says.  Auditors read everything
 * and write nothing, so they have no column.
 */
#include "policy.h"

#include <stddef.h>

#include "codec.h"

#define T(x) (1u << SCPB__ENTITY_TYPE__ENTITY_##x)
#define ASG  T(ASSIGNMENT)
#define INS  T(INSPECTION)
#define FND  T(FINDING)
/* The kind's own entity type: for kinds that apply to one type only. */
#define OWN 0xffffu

typedef struct rule {
    Scpb__Op__BodyCase kind;
    unsigned inspector; /* entity-type bits per role */
    unsigned supervisor;
    unsigned responsible; /* the rectifying unit's contact */
    unsigned admin;
} rule;

/* clang-format off */
static const rule rules[] = {
    /* kind                                  inspector  supervisor       responsible admin */
    {SCPB__OP__BODY_ORG_CREATE,              0,         0,               0,          OWN},
    {SCPB__OP__BODY_TARGET_CREATE,           0,         0,               0,          OWN},
    {SCPB__OP__BODY_USER_CREATE,             0,         0,               0,          OWN},
    {SCPB__OP__BODY_DEVICE_ENROLL,           0,         0,               0,          OWN},
    {SCPB__OP__BODY_DEVICE_REVOKE,           0,         0,               0,          OWN},
    {SCPB__OP__BODY_TEMPLATE_PUBLISH,        0,         0,               0,          OWN},
    {SCPB__OP__BODY_ASSIGNMENT_CREATE,       0,         OWN,             0,          OWN},
    {SCPB__OP__BODY_INSPECTION_OPEN,         OWN,       OWN,             0,          0},
    {SCPB__OP__BODY_ITEM_RESULT,             OWN,       OWN,             0,          0},
    {SCPB__OP__BODY_INSPECTION_SUBMIT,       OWN,       OWN,             0,          0},
    {SCPB__OP__BODY_INSPECTION_AMEND,        OWN,       OWN,             0,          0},
    {SCPB__OP__BODY_FINDING_CREATE,          OWN,       OWN,             0,          0},
    {SCPB__OP__BODY_FIELD_EDIT,              OWN,       OWN,             0,          0},
    /* Supervisors record reports for units that still report on paper. */
    {SCPB__OP__BODY_RECTIFICATION_REPORT,    0,         OWN,             OWN,        0},
    {SCPB__OP__BODY_REVISIT,                 OWN,       OWN,             0,          0},
    /* Closing (销号) is the supervisor's alone. */
    {SCPB__OP__BODY_CLOSURE,                 0,         OWN,             0,          0},
    {SCPB__OP__BODY_REOPEN,                  OWN,       OWN,             0,          0},
    /* The responsible unit sees findings, never the inspection itself. */
    {SCPB__OP__BODY_PHOTO_ATTACH,            INS | FND, INS | FND,       FND,        0},
    {SCPB__OP__BODY_NOTE,                    INS | FND, INS | FND,       FND,        ASG},
    {SCPB__OP__BODY_VOID_RECORD,             INS | FND, ASG | INS | FND, 0,          ASG},
    {SCPB__OP__BODY_RESOLVE,                 0,         INS | FND,       0,          0},
};
/* clang-format on */

bool sc_policy_allows(Scpb__Role role, Scpb__Op__BodyCase kind, Scpb__EntityType type)
{
    if (!sc_op_kind_applies(kind, type))
        return false;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const rule *r = &rules[i];
        if (r->kind != kind)
            continue;
        unsigned types = 0;
        switch (role) {
        case SCPB__ROLE__ROLE_INSPECTOR:
            types = r->inspector;
            break;
        case SCPB__ROLE__ROLE_SUPERVISOR:
            types = r->supervisor;
            break;
        case SCPB__ROLE__ROLE_RESPONSIBLE:
            types = r->responsible;
            break;
        case SCPB__ROLE__ROLE_ADMIN:
            types = r->admin;
            break;
        default: /* auditors, and anything unknown, may make nothing */
            types = 0;
            break;
        }
        return (types & (1u << type)) != 0;
    }
    return false;
}

bool sc_policy_allows_some(Scpb__Role role, Scpb__Op__BodyCase kind)
{
    for (int type = 1; type < 32; type++)
        if (sc_policy_allows(role, kind, (Scpb__EntityType)type))
            return true;
    return false;
}
