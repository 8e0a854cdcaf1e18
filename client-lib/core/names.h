/*
 * names.h: the text names of the schema's enums, as the CLI, the admin
 * commands, JSON output and logs spell them ("not_met", "unannounced",
 * "follow_up").  One table per enum; parsing is exact and case-sensitive.
 */
#ifndef SC_CORE_NAMES_H
#define SC_CORE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sc_name {
    int value;
    const char *name;
} sc_name;

typedef struct sc_names {
    const sc_name *v;
    size_t n;
} sc_names;

extern const sc_names sc_names_entity_type; /* org_unit target user device template assignment inspection finding */
extern const sc_names sc_names_role;        /* inspector supervisor responsible auditor admin */
extern const sc_names sc_names_org_level;   /* city county street community grid compound building unit household */
extern const sc_names sc_names_org_kind;    /* gov_dept command_hq ... other */
extern const sc_names sc_names_target_type; /* compound village ... sampling_point */
extern const sc_names sc_names_kind;        /* self internal_review daily patrol supervisory spot special joint cross prelim acceptance rating reassess mock follow_up door_to_door */
extern const sc_names sc_names_disclosure;  /* open unannounced experiential */
extern const sc_names sc_names_relation;    /* self superior peer external */
extern const sc_names sc_names_item_status; /* met not_met unknown na */
extern const sc_names sc_names_grade;       /* general major */
extern const sc_names sc_names_score_mode;  /* earned deduct */
extern const sc_names sc_names_source;      /* inspection complaint hotline opinion monitoring */
extern const sc_names sc_names_revisit;     /* rectified not_rectified */
extern const sc_names sc_names_field;       /* description grade deadline responsible category location status item plan extension */
extern const sc_names sc_names_finding_status;    /* open submitted verified closed */
extern const sc_names sc_names_inspection_status; /* draft submitted */
extern const sc_names sc_names_extension_status;  /* pending approved rejected */
extern const sc_names sc_names_deadline_cause;    /* finding notice extension supervisor */
extern const sc_names sc_names_escalation_step;   /* reminder public_notice interview yellow_card accountability */
extern const sc_names sc_names_op_kind;     /* Scpb__Op__BodyCase: org_create ... resolve */
extern const sc_names sc_names_reason;      /* Scpb__Reason: none malformed too_large bad_signature ... */
extern const sc_names sc_names_op_status;   /* accepted duplicate rejected */

/* The name of value, or NULL when the table has none. */
const char *sc_name_of(const sc_names *t, int value);
/* "a, b, c": every name of t, for a message (cut at cap; always NUL-terminated). */
void sc_names_join(const sc_names *t, char *out, size_t cap);
/* Parse a NUL-terminated name; false (and *out unchanged) when unknown. */
bool sc_name_parse(const sc_names *t, const char *s, int *out);

#endif
