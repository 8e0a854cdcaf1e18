/*
 * names.c: the text names of the schema's enums (see names.h).
 *
 * Each name is the proto value name without its prefix, in lowercase
 * (ITEM_NOT_MET -> "not_met"), so the names follow the schema and a test
 * checks every table against the generated descriptors.  Op kinds are named
 * by their oneof field ("void_record" reads "void").  UNSPECIFIED values have
 * no name: they are never a valid choice.  REASON_NONE is named ("none")
 * because a result with no reason is a real, reportable state.
 */
#include "names.h"

#include <stdio.h>
#include <string.h>

#include "op.pb-c.h"
#include "reason.h"
#include "state.pb-c.h"
#include "wire.pb-c.h"

#define TABLE(ident, ...)                                                                          \
    static const sc_name ident##_v[] = {__VA_ARGS__};                                              \
    const sc_names ident = {ident##_v, sizeof ident##_v / sizeof ident##_v[0]}

TABLE(sc_names_entity_type, {SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, "org_unit"},
      {SCPB__ENTITY_TYPE__ENTITY_TARGET, "target"}, {SCPB__ENTITY_TYPE__ENTITY_USER, "user"},
      {SCPB__ENTITY_TYPE__ENTITY_DEVICE, "device"},
      {SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, "template"},
      {SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT, "assignment"},
      {SCPB__ENTITY_TYPE__ENTITY_INSPECTION, "inspection"},
      {SCPB__ENTITY_TYPE__ENTITY_FINDING, "finding"});

TABLE(sc_names_role, {SCPB__ROLE__ROLE_INSPECTOR, "inspector"},
      {SCPB__ROLE__ROLE_SUPERVISOR, "supervisor"}, {SCPB__ROLE__ROLE_RESPONSIBLE, "responsible"},
      {SCPB__ROLE__ROLE_AUDITOR, "auditor"}, {SCPB__ROLE__ROLE_ADMIN, "admin"});

TABLE(sc_names_org_level, {SCPB__ORG_LEVEL__LEVEL_CITY, "city"},
      {SCPB__ORG_LEVEL__LEVEL_COUNTY, "county"}, {SCPB__ORG_LEVEL__LEVEL_STREET, "street"},
      {SCPB__ORG_LEVEL__LEVEL_COMMUNITY, "community"}, {SCPB__ORG_LEVEL__LEVEL_GRID, "grid"},
      {SCPB__ORG_LEVEL__LEVEL_COMPOUND, "compound"}, {SCPB__ORG_LEVEL__LEVEL_BUILDING, "building"},
      {SCPB__ORG_LEVEL__LEVEL_UNIT, "unit"}, {SCPB__ORG_LEVEL__LEVEL_HOUSEHOLD, "household"});

TABLE(sc_names_org_kind, {SCPB__ORG_KIND__ORG_GOV_DEPT, "gov_dept"},
      {SCPB__ORG_KIND__ORG_COMMAND_HQ, "command_hq"},
      {SCPB__ORG_KIND__ORG_LEADING_GROUP, "leading_group"},
      {SCPB__ORG_KIND__ORG_WORK_GROUP, "work_group"},
      {SCPB__ORG_KIND__ORG_SAFETY_OFFICE, "safety_office"},
      {SCPB__ORG_KIND__ORG_DISCIPLINE, "discipline"},
      {SCPB__ORG_KIND__ORG_RESIDENTS_COMMITTEE, "residents_committee"},
      {SCPB__ORG_KIND__ORG_PROPERTY_CO, "property_co"},
      {SCPB__ORG_KIND__ORG_OWNERS_COMMITTEE, "owners_committee"},
      {SCPB__ORG_KIND__ORG_CLIENT, "client"}, {SCPB__ORG_KIND__ORG_CONTRACTOR, "contractor"},
      {SCPB__ORG_KIND__ORG_SUPERVISOR_ENG, "supervisor_eng"},
      {SCPB__ORG_KIND__ORG_ENTERPRISE, "enterprise"}, {SCPB__ORG_KIND__ORG_SCHOOL, "school"},
      {SCPB__ORG_KIND__ORG_OTHER, "other"});

TABLE(sc_names_target_type, {SCPB__TARGET_TYPE__TARGET_COMPOUND, "compound"},
      {SCPB__TARGET_TYPE__TARGET_VILLAGE, "village"},
      {SCPB__TARGET_TYPE__TARGET_COMMUNITY, "community"},
      {SCPB__TARGET_TYPE__TARGET_TOWNSHIP, "township"},
      {SCPB__TARGET_TYPE__TARGET_ORG_UNIT, "org_unit"},
      {SCPB__TARGET_TYPE__TARGET_PROPERTY_CO, "property_co"},
      {SCPB__TARGET_TYPE__TARGET_CONTRACT_SECTION, "contract_section"},
      {SCPB__TARGET_TYPE__TARGET_SMALL_VENUE, "small_venue"},
      {SCPB__TARGET_TYPE__TARGET_ENTERTAINMENT, "entertainment"},
      {SCPB__TARGET_TYPE__TARGET_MARKET, "market"},
      {SCPB__TARGET_TYPE__TARGET_SUPERMARKET, "supermarket"},
      {SCPB__TARGET_TYPE__TARGET_SCHOOL, "school"},
      {SCPB__TARGET_TYPE__TARGET_ELDERLY_HOME, "elderly_home"},
      {SCPB__TARGET_TYPE__TARGET_RENTAL_HOUSE, "rental_house"},
      {SCPB__TARGET_TYPE__TARGET_EMPLOYER, "employer"},
      {SCPB__TARGET_TYPE__TARGET_SERVICE_WINDOW, "service_window"},
      {SCPB__TARGET_TYPE__TARGET_EATERY, "eatery"},
      {SCPB__TARGET_TYPE__TARGET_FIREWORKS_RETAIL, "fireworks_retail"},
      {SCPB__TARGET_TYPE__TARGET_CHECKPOINT, "checkpoint"},
      {SCPB__TARGET_TYPE__TARGET_QUARANTINE_SITE, "quarantine_site"},
      {SCPB__TARGET_TYPE__TARGET_SAMPLING_POINT, "sampling_point"});

TABLE(sc_names_kind, {SCPB__INSPECTION_KIND__KIND_SELF, "self"},
      {SCPB__INSPECTION_KIND__KIND_INTERNAL_REVIEW, "internal_review"},
      {SCPB__INSPECTION_KIND__KIND_DAILY, "daily"}, {SCPB__INSPECTION_KIND__KIND_PATROL, "patrol"},
      {SCPB__INSPECTION_KIND__KIND_SUPERVISORY, "supervisory"},
      {SCPB__INSPECTION_KIND__KIND_SPOT, "spot"}, {SCPB__INSPECTION_KIND__KIND_SPECIAL, "special"},
      {SCPB__INSPECTION_KIND__KIND_JOINT, "joint"}, {SCPB__INSPECTION_KIND__KIND_CROSS, "cross"},
      {SCPB__INSPECTION_KIND__KIND_PRELIM, "prelim"},
      {SCPB__INSPECTION_KIND__KIND_ACCEPTANCE, "acceptance"},
      {SCPB__INSPECTION_KIND__KIND_RATING, "rating"},
      {SCPB__INSPECTION_KIND__KIND_REASSESS, "reassess"},
      {SCPB__INSPECTION_KIND__KIND_MOCK, "mock"},
      {SCPB__INSPECTION_KIND__KIND_FOLLOW_UP, "follow_up"},
      {SCPB__INSPECTION_KIND__KIND_DOOR_TO_DOOR, "door_to_door"});

TABLE(sc_names_disclosure, {SCPB__DISCLOSURE__DISCLOSURE_OPEN, "open"},
      {SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED, "unannounced"},
      {SCPB__DISCLOSURE__DISCLOSURE_EXPERIENTIAL, "experiential"});

TABLE(sc_names_relation, {SCPB__RELATION__RELATION_SELF, "self"},
      {SCPB__RELATION__RELATION_SUPERIOR, "superior"}, {SCPB__RELATION__RELATION_PEER, "peer"},
      {SCPB__RELATION__RELATION_EXTERNAL, "external"});

TABLE(sc_names_item_status, {SCPB__ITEM_STATUS__ITEM_MET, "met"},
      {SCPB__ITEM_STATUS__ITEM_NOT_MET, "not_met"}, {SCPB__ITEM_STATUS__ITEM_UNKNOWN, "unknown"},
      {SCPB__ITEM_STATUS__ITEM_NA, "na"});

TABLE(sc_names_grade, {SCPB__GRADE__GRADE_GENERAL, "general"}, {SCPB__GRADE__GRADE_MAJOR, "major"});

TABLE(sc_names_score_mode, {SCPB__SCORE_MODE__SCORE_EARNED, "earned"},
      {SCPB__SCORE_MODE__SCORE_DEDUCT, "deduct"});

TABLE(sc_names_source, {SCPB__FINDING_SOURCE__SOURCE_INSPECTION, "inspection"},
      {SCPB__FINDING_SOURCE__SOURCE_COMPLAINT, "complaint"},
      {SCPB__FINDING_SOURCE__SOURCE_HOTLINE, "hotline"},
      {SCPB__FINDING_SOURCE__SOURCE_OPINION, "opinion"},
      {SCPB__FINDING_SOURCE__SOURCE_MONITORING, "monitoring"});

TABLE(sc_names_revisit, {SCPB__REVISIT_RESULT__REVISIT_RECTIFIED, "rectified"},
      {SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED, "not_rectified"});

TABLE(sc_names_field, {SCPB__FIELD__FIELD_DESCRIPTION, "description"},
      {SCPB__FIELD__FIELD_GRADE, "grade"}, {SCPB__FIELD__FIELD_DEADLINE, "deadline"},
      {SCPB__FIELD__FIELD_RESPONSIBLE, "responsible"}, {SCPB__FIELD__FIELD_CATEGORY, "category"},
      {SCPB__FIELD__FIELD_LOCATION, "location"}, {SCPB__FIELD__FIELD_STATUS, "status"},
      {SCPB__FIELD__FIELD_ITEM, "item"}, {SCPB__FIELD__FIELD_ROLE, "role"},
      {SCPB__FIELD__FIELD_ACCESS, "access"}, {SCPB__FIELD__FIELD_PLAN, "plan"},
      {SCPB__FIELD__FIELD_EXTENSION, "extension"});

TABLE(sc_names_finding_status, {SCPB__FINDING_STATUS__FINDING_OPEN, "open"},
      {SCPB__FINDING_STATUS__FINDING_SUBMITTED, "submitted"},
      {SCPB__FINDING_STATUS__FINDING_VERIFIED, "verified"},
      {SCPB__FINDING_STATUS__FINDING_CLOSED, "closed"});

TABLE(sc_names_inspection_status, {SCPB__INSPECTION_STATUS__INSPECTION_DRAFT, "draft"},
      {SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED, "submitted"});

TABLE(sc_names_extension_status, {SCPB__EXTENSION_STATUS__EXTENSION_PENDING, "pending"},
      {SCPB__EXTENSION_STATUS__EXTENSION_APPROVED, "approved"},
      {SCPB__EXTENSION_STATUS__EXTENSION_REJECTED, "rejected"});

TABLE(sc_names_deadline_cause, {SCPB__DEADLINE_CAUSE__DEADLINE_FINDING, "finding"},
      {SCPB__DEADLINE_CAUSE__DEADLINE_NOTICE, "notice"},
      {SCPB__DEADLINE_CAUSE__DEADLINE_EXTENSION, "extension"},
      {SCPB__DEADLINE_CAUSE__DEADLINE_SUPERVISOR, "supervisor"});

TABLE(sc_names_escalation_step, {SCPB__ESCALATION_STEP__ESCALATION_REMINDER, "reminder"},
      {SCPB__ESCALATION_STEP__ESCALATION_PUBLIC_NOTICE, "public_notice"},
      {SCPB__ESCALATION_STEP__ESCALATION_INTERVIEW, "interview"},
      {SCPB__ESCALATION_STEP__ESCALATION_YELLOW_CARD, "yellow_card"},
      {SCPB__ESCALATION_STEP__ESCALATION_ACCOUNTABILITY, "accountability"});

/* The op kinds' names are the table's (opkinds.def). */
static const sc_name sc_names_op_kind_v[] = {
#define SC_OPKIND(CASE, member, name, applies, creates, may, photos, audit, check, fold, server)   \
    {SCPB__OP__BODY_##CASE, name},
#include "opkinds.def"
#undef SC_OPKIND
};
const sc_names sc_names_op_kind = {sc_names_op_kind_v,
                                   sizeof sc_names_op_kind_v / sizeof sc_names_op_kind_v[0]};

/* The reasons' names are in their one list, core/reason.h. */
#define REASON_NAME_(name, number, text) {SC_REASON_##name, text},
TABLE(sc_names_reason, SC_REASONS(REASON_NAME_));
#undef REASON_NAME_

TABLE(sc_names_op_status, {SCPB__OP_STATUS__OP_ACCEPTED, "accepted"},
      {SCPB__OP_STATUS__OP_DUPLICATE, "duplicate"}, {SCPB__OP_STATUS__OP_REJECTED, "rejected"});

const char *sc_name_of(const sc_names *t, int value)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].value == value)
            return t->v[i].name;
    return NULL;
}

void sc_names_join(const sc_names *t, char *out, size_t cap)
{
    size_t used = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < t->n && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", t->v[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

bool sc_name_parse(const sc_names *t, const char *s, int *out)
{
    if (!s)
        return false;
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->v[i].name, s) == 0) {
            *out = t->v[i].value;
            return true;
        }
    }
    return false;
}
