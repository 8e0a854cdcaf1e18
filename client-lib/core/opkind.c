/*
 * opkind.c: opkinds.def as data (see opkind.h), and the photos each kind
 * names.
 *
 * The entity-type columns of the table are written with the types' names
 * (INSPECTION | FINDING); they become bit sets here, and OWN in a role's
 * column becomes the kind's own types, so every entry holds plain sets.
 */
#include "opkind.h"

/* ---- the photos each kind names (the table's photos column) ---- */

static void photos_photo_attach(const Scpb__Op *op, sc_photo_refs *out)
{
    const Scpb__PhotoAttach *p = op->photo_attach;
    out->sha = p->has_sha256 ? &p->sha256 : NULL;
    out->n = p->has_sha256 ? 1 : 0;
    out->size = p->size;
}

static void photos_finding_create(const Scpb__Op *op, sc_photo_refs *out)
{
    out->sha = op->finding_create->evidence;
    out->n = op->finding_create->n_evidence;
}

static void photos_rectification_report(const Scpb__Op *op, sc_photo_refs *out)
{
    out->sha = op->rectification_report->evidence;
    out->n = op->rectification_report->n_evidence;
}

static void photos_revisit(const Scpb__Op *op, sc_photo_refs *out)
{
    out->sha = op->revisit->evidence;
    out->n = op->revisit->n_evidence;
}

static void photos_escalation(const Scpb__Op *op, sc_photo_refs *out)
{
    out->sha = op->escalation->evidence;
    out->n = op->escalation->n_evidence;
}

static void photos_sign_off(const Scpb__Op *op, sc_photo_refs *out)
{
    out->sha = &op->sign_off->signature;
    out->n = 1;
}

static void photos_inspection_submit(const Scpb__Op *op, sc_photo_refs *out)
{
    out->sha = op->inspection_submit->photos;
    out->n = op->inspection_submit->n_photos;
}

/* ---- the table ---- */

#define TYPE_BIT(x) (1u << SCPB__ENTITY_TYPE__ENTITY_##x)
#define ORG_UNIT    TYPE_BIT(ORG_UNIT)
#define TARGET      TYPE_BIT(TARGET)
#define USER        TYPE_BIT(USER)
#define DEVICE      TYPE_BIT(DEVICE)
#define TEMPLATE    TYPE_BIT(TEMPLATE)
#define ASSIGNMENT  TYPE_BIT(ASSIGNMENT)
#define INSPECTION  TYPE_BIT(INSPECTION)
#define FINDING     TYPE_BIT(FINDING)
/* In a role's column: every type the kind applies to.  No real set of types is all ones. */
#define OWN 0xffffffffu

/* clang-format off */
#define UNPACK(...)              __VA_ARGS__
#define OWN_OR(bits, ap)         ((bits) == OWN ? (ap) : (bits))
#define MAY_(ap, i, s, r, a)     {OWN_OR(i, ap), OWN_OR(s, ap), OWN_OR(r, ap), OWN_OR(a, ap)}
#define MAY(applies, ...)        MAY_(applies, __VA_ARGS__)
#define PHOTO_USE(use, accessor) SC_PHOTOS_##use
#define PHOTO_FN(use, accessor)  accessor
#define SC_OPKIND(CASE, member, name, applies, creates, may, photos, audit, check, fold, server)   \
    {SCPB__OP__BODY_##CASE, #member, name, applies, creates, MAY(applies, UNPACK may),             \
     PHOTO_USE photos, PHOTO_FN photos},
/* clang-format on */
const sc_opkind sc_opkinds[] = {
#include "opkinds.def"
};
#undef SC_OPKIND

const size_t sc_opkinds_n = sizeof sc_opkinds / sizeof sc_opkinds[0];

size_t sc_opkind_pos(Scpb__Op__BodyCase kind)
{
    enum {
#define SC_OPKIND(CASE, ...) POS_##CASE,
#include "opkinds.def"
#undef SC_OPKIND
        POS_NONE
    };
    switch (kind) {
#define SC_OPKIND(CASE, ...)                                                                       \
    case SCPB__OP__BODY_##CASE:                                                                    \
        return POS_##CASE;
#include "opkinds.def"
#undef SC_OPKIND
    default:
        return sc_opkinds_n;
    }
}

const sc_opkind *sc_opkind_of(Scpb__Op__BodyCase kind)
{
    size_t pos = sc_opkind_pos(kind);
    return pos < sc_opkinds_n ? &sc_opkinds[pos] : NULL;
}

bool sc_op_kind_entity(Scpb__Op__BodyCase kind, Scpb__EntityType *type)
{
    const sc_opkind *k = sc_opkind_of(kind);
    /* Exactly one bit set: the kind has a single entity type. */
    if (!k || (k->applies & (k->applies - 1)) != 0)
        return false;
    for (int t = 0; t < 32; t++) {
        if (k->applies == 1u << t) {
            *type = (Scpb__EntityType)t;
            break;
        }
    }
    return true;
}

bool sc_op_kind_applies(Scpb__Op__BodyCase kind, Scpb__EntityType type)
{
    const sc_opkind *k = sc_opkind_of(kind);
    if (!k || (int)type <= 0 || (int)type >= 32)
        return false;
    return (k->applies & (1u << type)) != 0;
}

bool sc_op_kind_is_create(Scpb__Op__BodyCase kind)
{
    const sc_opkind *k = sc_opkind_of(kind);
    return k && k->creates;
}

bool sc_op_photo_refs(const Scpb__Op *op, sc_photo_refs *out)
{
    const sc_opkind *k = sc_opkind_of(op->body_case);
    *out = (sc_photo_refs){NULL, 0, 0, SC_PHOTOS_NONE};
    if (!k || !k->photo_refs)
        return false;
    out->use = k->photos;
    k->photo_refs(op, out);
    return true;
}

size_t sc_op_photos(const Scpb__Op *op, const ProtobufCBinaryData **out)
{
    sc_photo_refs r;
    sc_op_photo_refs(op, &r);
    *out = r.n ? r.sha : NULL;
    return r.n;
}
