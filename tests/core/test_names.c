/*
 * test_names.c: every enum table against the generated descriptors: each
 * value but UNSPECIFIED has exactly the name derived from its proto name
 * (prefix dropped, lowercase), nothing else is in the table, and names
 * parse back.  Op kinds are checked against the Op oneof's field names.
 */
#include <ctype.h>
#include <string.h>

#include "core/names.h"
#include "op.pb-c.h"
#include "sctest.h"
#include "state.pb-c.h"
#include "wire.pb-c.h"

static const struct {
    const char *what;
    const sc_names *table;
    const ProtobufCEnumDescriptor *desc;
} enums[] = {
    {"entity_type", &sc_names_entity_type, &scpb__entity_type__descriptor},
    {"role", &sc_names_role, &scpb__role__descriptor},
    {"org_level", &sc_names_org_level, &scpb__org_level__descriptor},
    {"org_kind", &sc_names_org_kind, &scpb__org_kind__descriptor},
    {"target_type", &sc_names_target_type, &scpb__target_type__descriptor},
    {"kind", &sc_names_kind, &scpb__inspection_kind__descriptor},
    {"disclosure", &sc_names_disclosure, &scpb__disclosure__descriptor},
    {"relation", &sc_names_relation, &scpb__relation__descriptor},
    {"item_status", &sc_names_item_status, &scpb__item_status__descriptor},
    {"grade", &sc_names_grade, &scpb__grade__descriptor},
    {"score_mode", &sc_names_score_mode, &scpb__score_mode__descriptor},
    {"source", &sc_names_source, &scpb__finding_source__descriptor},
    {"revisit", &sc_names_revisit, &scpb__revisit_result__descriptor},
    {"field", &sc_names_field, &scpb__field__descriptor},
    {"finding_status", &sc_names_finding_status, &scpb__finding_status__descriptor},
    {"inspection_status", &sc_names_inspection_status, &scpb__inspection_status__descriptor},
    {"extension_status", &sc_names_extension_status, &scpb__extension_status__descriptor},
    {"deadline_cause", &sc_names_deadline_cause, &scpb__deadline_cause__descriptor},
    {"reason", &sc_names_reason, &scpb__reason__descriptor},
    {"op_status", &sc_names_op_status, &scpb__op_status__descriptor},
};

/* "ITEM_NOT_MET" -> "not_met": drop the first word, lowercase the rest. */
static void derive(const char *proto_name, char *out, size_t cap)
{
    const char *p = strchr(proto_name, '_');
    ck_assert_ptr_nonnull(p);
    size_t n = strlen(p + 1);
    ck_assert_uint_lt(n, cap);
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)p[1 + i]);
}

START_TEST(every_enum_value_named)
{
    for (size_t e = 0; e < sizeof enums / sizeof enums[0]; e++) {
        const ProtobufCEnumDescriptor *d = enums[e].desc;
        size_t named = 0;
        for (unsigned i = 0; i < d->n_values; i++) {
            const ProtobufCEnumValue *v = &d->values[i];
            const char *got = sc_name_of(enums[e].table, v->value);
            bool is_none = d == &scpb__reason__descriptor && v->value == 0;
            if (v->value == 0 && !is_none) {
                /* UNSPECIFIED is never a choice, so it has no name. */
                ck_assert_msg(got == NULL, "%s: %s has a name", enums[e].what, v->name);
                continue;
            }
            char want[64];
            derive(v->name, want, sizeof want);
            ck_assert_msg(got && strcmp(got, want) == 0, "%s: %s is named '%s', expected '%s'",
                          enums[e].what, v->name, got ? got : "(none)", want);
            int back = -1;
            ck_assert(sc_name_parse(enums[e].table, want, &back));
            ck_assert_int_eq(back, v->value);
            named++;
        }
        /* Nothing in the table that the schema does not have. */
        ck_assert_msg(enums[e].table->n == named, "%s: table has %zu names, schema %zu",
                      enums[e].what, enums[e].table->n, named);
        for (size_t i = 0; i < enums[e].table->n; i++)
            for (size_t j = 0; j < i; j++)
                ck_assert_str_ne(enums[e].table->v[i].name, enums[e].table->v[j].name);
    }
}
END_TEST

START_TEST(op_kinds_named_by_oneof_field)
{
    const ProtobufCMessageDescriptor *d = &scpb__op__descriptor;
    size_t named = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        /* The body case value is the field number; void_record reads "void". */
        const char *want = strcmp(f->name, "void_record") == 0 ? "void" : f->name;
        const char *got = sc_name_of(&sc_names_op_kind, (int)f->id);
        ck_assert_msg(got && strcmp(got, want) == 0, "op kind %u is '%s', expected '%s'", f->id,
                      got ? got : "(none)", want);
        int back = -1;
        ck_assert(sc_name_parse(&sc_names_op_kind, want, &back));
        ck_assert_int_eq(back, (int)f->id);
        named++;
    }
    ck_assert_uint_eq(named, 36);
    ck_assert_uint_eq(sc_names_op_kind.n, named);
    ck_assert_ptr_null(sc_name_of(&sc_names_op_kind, SCPB__OP__BODY__NOT_SET));
}
END_TEST

START_TEST(examples)
{
    /* The spellings the CLI and the docs use. */
    ck_assert_str_eq(sc_name_of(&sc_names_item_status, SCPB__ITEM_STATUS__ITEM_NOT_MET), "not_met");
    ck_assert_str_eq(sc_name_of(&sc_names_kind, SCPB__INSPECTION_KIND__KIND_FOLLOW_UP),
                     "follow_up");
    ck_assert_str_eq(sc_name_of(&sc_names_disclosure, SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED),
                     "unannounced");
    ck_assert_str_eq(sc_name_of(&sc_names_entity_type, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT),
                     "org_unit");
    ck_assert_str_eq(sc_name_of(&sc_names_org_kind, SCPB__ORG_KIND__ORG_GOV_DEPT), "gov_dept");
    ck_assert_str_eq(sc_name_of(&sc_names_target_type, SCPB__TARGET_TYPE__TARGET_SMALL_VENUE),
                     "small_venue");
    ck_assert_str_eq(sc_name_of(&sc_names_finding_status, SCPB__FINDING_STATUS__FINDING_OPEN),
                     "open");
    ck_assert_str_eq(sc_name_of(&sc_names_reason, SCPB__REASON__REASON_NONE), "none");
    ck_assert_str_eq(sc_name_of(&sc_names_reason, SCPB__REASON__REASON_BAD_SIGNATURE),
                     "bad_signature");
    ck_assert_str_eq(sc_name_of(&sc_names_op_kind, SCPB__OP__BODY_VOID_RECORD), "void");
}
END_TEST

START_TEST(parse_is_exact)
{
    int v = 1234;
    const char *bad[] = {"Not_met", "NOT_MET", "not_met ", " not_met", "not", "", "unspecified"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert(!sc_name_parse(&sc_names_item_status, bad[i], &v));
    ck_assert(!sc_name_parse(&sc_names_item_status, NULL, &v));
    ck_assert(!sc_name_parse(&sc_names_op_kind, "void_record", &v));
    ck_assert_int_eq(v, 1234); /* unchanged on failure */
    ck_assert_ptr_null(sc_name_of(&sc_names_grade, 3));
    ck_assert_ptr_null(sc_name_of(&sc_names_grade, -1));
}
END_TEST

static Suite *names_suite(void)
{
    Suite *s = suite_create("names");
    const sct_case cases[] = {
        {"every_enum_value_named", every_enum_value_named},
        {"op_kinds_named_by_oneof_field", op_kinds_named_by_oneof_field},
        {"examples", examples},
        {"parse_is_exact", parse_is_exact},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(names_suite());
}
