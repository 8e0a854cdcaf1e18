/*
 * opkind.h: the op kinds, as one table.
 *
 * Everything the code knows about a kind of op (its name, the entity types
 * it applies to, whether it creates its entity, which roles may make it,
 * the photos it names, and the functions that check, judge, fold and
 * audit it) is one entry of opkinds.def.  sc_opkinds is that list as data;
 * the modules with a rule per kind (codec, merge, audit, syncd) expand
 * opkinds.def themselves to reach their functions.  Every table expanded
 * from opkinds.def lists the kinds in the same order, so sc_opkind_pos
 * indexes all of them.
 */
#ifndef SC_CORE_OPKIND_H
#define SC_CORE_OPKIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "op.pb-c.h"

/* What an op does with the photos it names. */
typedef enum sc_photo_use {
    SC_PHOTOS_NONE = 0, /* it names none */
    SC_PHOTOS_BRINGS,   /* it brings them (attached, or evidence): a replica fetches them */
    SC_PHOTOS_LISTS,    /* it lists photos other ops of its entity bring (a submission) */
} sc_photo_use;

/* The photos one op names. */
typedef struct sc_photo_refs {
    const ProtobufCBinaryData *sha; /* n SHA-256 hashes; borrowed from the op */
    size_t n;                       /* how many (0: sha is NULL) */
    uint64_t size;                  /* bytes the op declares for its photo (a PhotoAttach), or 0 */
    sc_photo_use use;               /* as the kind's entry says */
} sc_photo_refs;

/* The roles that make ops, in the order of the table's `may` column. */
enum { SC_MAY_INSPECTOR, SC_MAY_SUPERVISOR, SC_MAY_RESPONSIBLE, SC_MAY_ADMIN, SC_MAY_ROLES };

/* One entry of opkinds.def, as data. */
typedef struct sc_opkind {
    Scpb__Op__BodyCase kind;    /* the Op body's oneof case */
    const char *member;         /* the oneof member ("void_record") */
    const char *name;           /* the text name ("void"), as names.h spells it */
    unsigned applies;           /* entity types it applies to: bits 1u << Scpb__EntityType */
    bool creates;               /* it creates its entity: the first op, with no deps */
    unsigned may[SC_MAY_ROLES]; /* per role, the entity types (bits) it may be made on */
    sc_photo_use photos;        /* what it does with the photos it names */
    /* The photos of op (of this kind); NULL when photos is SC_PHOTOS_NONE. */
    void (*photo_refs)(const Scpb__Op *op, sc_photo_refs *out);
} sc_opkind;

/* Every kind, in the order of opkinds.def. */
extern const sc_opkind sc_opkinds[];
extern const size_t sc_opkinds_n;

/*
 * The position of kind in sc_opkinds, and in every table expanded from
 * opkinds.def; sc_opkinds_n when it is no kind.
 */
size_t sc_opkind_pos(Scpb__Op__BodyCase kind);
/* The entry of kind, or NULL when it is no kind (SCPB__OP__BODY__NOT_SET, an unknown case). */
const sc_opkind *sc_opkind_of(Scpb__Op__BodyCase kind);

/* The one entity type a kind applies to; false when it applies to several (*type unchanged). */
bool sc_op_kind_entity(Scpb__Op__BodyCase kind, Scpb__EntityType *type);
/* True when `kind` may be applied to an entity of `type`. */
bool sc_op_kind_applies(Scpb__Op__BodyCase kind, Scpb__EntityType type);
/* True for the kinds that create their entity (first op, no deps). */
bool sc_op_kind_is_create(Scpb__Op__BodyCase kind);

/*
 * The photos an op names, each a SHA-256 (the table's photos column: a
 * PhotoAttach's, the evidence of a FindingCreate, RectificationReport or
 * Revisit, the photos an InspectionSubmit lists).  out points into op
 * (borrowed like op); false, and *out zeroed, for a kind that names none.
 * An opened op's hashes are all SC_HASH_LEN bytes (sc_op_check).
 */
bool sc_op_photo_refs(const Scpb__Op *op, sc_photo_refs *out);
/* The hashes of sc_op_photo_refs: *out points into op; how many (0, *out NULL, when none). */
size_t sc_op_photos(const Scpb__Op *op, const ProtobufCBinaryData **out);

#endif
