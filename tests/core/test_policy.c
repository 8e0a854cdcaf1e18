/*
 * test_policy.c: the role table.  The whole table is checked against an
 * independent list of what each role may do (every role x kind x entity
 * type, including unknown values), then the rules people ask about are
 * spelled out one by one.
 */
#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "core/names.h"
#include "core/policy.h"
#include "sctest.h"

/* "role kind entity_type", in names.h spelling: everything that is allowed. */
static const char *const allowed[] = {
    "admin org_create org_unit",
    "admin target_create target",
    "admin user_create user",
    "admin device_enroll device",
    "admin device_revoke device",
    "admin user_disable user",
    "admin user_enable user",
    "admin user_role user",
    "admin template_publish template",
    "admin assignment_create assignment",
    "admin note assignment",
    "admin void assignment",
    "admin org_policy org_unit",

    "supervisor assignment_create assignment",
    "supervisor inspection_open inspection",
    "supervisor item_result inspection",
    "supervisor inspection_submit inspection",
    "supervisor inspection_amend inspection",
    "supervisor finding_create finding",
    "supervisor field_edit finding",
    "supervisor rectification_report finding",
    "supervisor revisit finding",
    "supervisor closure finding",
    "supervisor reopen finding",
    "supervisor photo_attach inspection",
    "supervisor photo_attach finding",
    "supervisor note inspection",
    "supervisor note finding",
    "supervisor void assignment",
    "supervisor void inspection",
    "supervisor void finding",
    "supervisor resolve inspection",
    "supervisor resolve finding",
    "supervisor notice finding",
    "supervisor plan finding",
    "supervisor plan_return finding",
    "supervisor extension_decision finding",
    "supervisor deadline_change finding",
    "supervisor escalation finding",
    "supervisor stop_work finding",
    "supervisor sign_off inspection",

    "inspector inspection_open inspection",
    "inspector item_result inspection",
    "inspector inspection_submit inspection",
    "inspector inspection_amend inspection",
    "inspector finding_create finding",
    "inspector field_edit finding",
    "inspector revisit finding",
    "inspector reopen finding",
    "inspector photo_attach inspection",
    "inspector photo_attach finding",
    "inspector note inspection",
    "inspector note finding",
    "inspector void inspection",
    "inspector void finding",
    "inspector notice finding",
    "inspector sign_off inspection",

    "responsible rectification_report finding",
    "responsible inspection_open inspection",
    "responsible item_result inspection",
    "responsible inspection_submit inspection",
    "responsible finding_create finding",
    "responsible notice finding",
    "responsible photo_attach inspection",
    "responsible photo_attach finding",
    "responsible note finding",
    "responsible sign_for finding",
    "responsible plan finding",
    "responsible extension_request finding",
    "responsible countersign inspection",
};

#define N_ALLOWED (sizeof allowed / sizeof allowed[0])

/* The list as numbers, parsed once: ck_assert is too slow for the hot loop. */
static int allowed_v[N_ALLOWED][3];

static void parse_allowed(void)
{
    for (size_t i = 0; i < N_ALLOWED; i++) {
        char r[32], k[32], t[32];
        ck_assert_int_eq(sscanf(allowed[i], "%31s %31s %31s", r, k, t), 3);
        ck_assert_msg(sc_name_parse(&sc_names_role, r, &allowed_v[i][0]) &&
                          sc_name_parse(&sc_names_op_kind, k, &allowed_v[i][1]) &&
                          sc_name_parse(&sc_names_entity_type, t, &allowed_v[i][2]),
                      "bad line '%s'", allowed[i]);
    }
}

static bool listed(int role, int kind, int type)
{
    for (size_t i = 0; i < N_ALLOWED; i++)
        if (allowed_v[i][0] == role && allowed_v[i][1] == kind && allowed_v[i][2] == type)
            return true;
    return false;
}

START_TEST(whole_table)
{
    /* Every kind, plus NOT_SET and an unknown one; every type and role,
     * plus UNSPECIFIED and values past the end. */
    int kinds[64];
    size_t nk = 0;
    for (size_t i = 0; i < sc_names_op_kind.n; i++)
        kinds[nk++] = sc_names_op_kind.v[i].value;
    kinds[nk++] = SCPB__OP__BODY__NOT_SET;
    kinds[nk++] = 99;
    size_t allowed_seen = 0;
    parse_allowed();
    for (int role = -1; role <= 7; role++) {
        for (size_t k = 0; k < nk; k++) {
            for (int type = -1; type <= 10; type++) {
                bool want = listed(role, kinds[k], type);
                bool got = sc_policy_allows((Scpb__Role)role, (Scpb__Op__BodyCase)kinds[k],
                                            (Scpb__EntityType)type);
                if (got != want)
                    ck_abort_msg("role %d kind %s type %d: %s, expected %s", role,
                                 sc_name_of(&sc_names_op_kind, kinds[k]), type,
                                 got ? "allowed" : "refused", want ? "allowed" : "refused");
                allowed_seen += got;
                /* The table never allows a kind on a type it cannot apply to. */
                if (got &&
                    !sc_op_kind_applies((Scpb__Op__BodyCase)kinds[k], (Scpb__EntityType)type))
                    ck_abort_msg("allowed on a type the kind does not apply to");
            }
        }
    }
    ck_assert_uint_eq(allowed_seen, N_ALLOWED);
}
END_TEST

#define R(x) SCPB__ROLE__ROLE_##x
#define K(x) SCPB__OP__BODY_##x
#define E(x) SCPB__ENTITY_TYPE__ENTITY_##x

START_TEST(inspector)
{
    ck_assert(sc_policy_allows(R(INSPECTOR), K(FINDING_CREATE), E(FINDING)));
    ck_assert(sc_policy_allows(R(INSPECTOR), K(REVISIT), E(FINDING)));
    /* Closing (销号) is for supervisors. */
    ck_assert(!sc_policy_allows(R(INSPECTOR), K(CLOSURE), E(FINDING)));
    /* Inspectors do not plan checks, settle conflicts or report rectification. */
    ck_assert(!sc_policy_allows(R(INSPECTOR), K(ASSIGNMENT_CREATE), E(ASSIGNMENT)));
    ck_assert(!sc_policy_allows(R(INSPECTOR), K(RESOLVE), E(FINDING)));
    ck_assert(!sc_policy_allows(R(INSPECTOR), K(RECTIFICATION_REPORT), E(FINDING)));
    ck_assert(!sc_policy_allows(R(INSPECTOR), K(VOID_RECORD), E(ASSIGNMENT)));
    ck_assert(!sc_policy_allows(R(INSPECTOR), K(NOTE), E(ASSIGNMENT)));
}
END_TEST

START_TEST(supervisor)
{
    ck_assert(sc_policy_allows(R(SUPERVISOR), K(CLOSURE), E(FINDING)));
    ck_assert(sc_policy_allows(R(SUPERVISOR), K(RESOLVE), E(INSPECTION)));
    /* On behalf of a unit that reports on paper. */
    ck_assert(sc_policy_allows(R(SUPERVISOR), K(RECTIFICATION_REPORT), E(FINDING)));
    ck_assert(sc_policy_allows(R(SUPERVISOR), K(VOID_RECORD), E(ASSIGNMENT)));
    /* Administration stays with admins. */
    ck_assert(!sc_policy_allows(R(SUPERVISOR), K(USER_CREATE), E(USER)));
    ck_assert(!sc_policy_allows(R(SUPERVISOR), K(DEVICE_REVOKE), E(DEVICE)));
    ck_assert(!sc_policy_allows(R(SUPERVISOR), K(USER_DISABLE), E(USER)));
    ck_assert(!sc_policy_allows(R(SUPERVISOR), K(USER_ROLE), E(USER)));
    ck_assert(!sc_policy_allows(R(SUPERVISOR), K(TEMPLATE_PUBLISH), E(TEMPLATE)));
    ck_assert(!sc_policy_allows(R(SUPERVISOR), K(NOTE), E(ASSIGNMENT)));
}
END_TEST

START_TEST(responsible)
{
    ck_assert(sc_policy_allows(R(RESPONSIBLE), K(RECTIFICATION_REPORT), E(FINDING)));
    ck_assert(sc_policy_allows(R(RESPONSIBLE), K(PHOTO_ATTACH), E(FINDING)));
    ck_assert(sc_policy_allows(R(RESPONSIBLE), K(NOTE), E(FINDING)));
    /*
     * It opens, scores, photographs and submits its own self-checks (自查) and
     * raises hazards in them; syncd holds it to self-checks (register_self.c).
     * It never notes, amends or voids an inspection.
     */
    ck_assert(sc_policy_allows(R(RESPONSIBLE), K(INSPECTION_OPEN), E(INSPECTION)));
    ck_assert(sc_policy_allows(R(RESPONSIBLE), K(PHOTO_ATTACH), E(INSPECTION)));
    ck_assert(sc_policy_allows(R(RESPONSIBLE), K(FINDING_CREATE), E(FINDING)));
    ck_assert(!sc_policy_allows(R(RESPONSIBLE), K(NOTE), E(INSPECTION)));
    ck_assert(!sc_policy_allows(R(RESPONSIBLE), K(INSPECTION_AMEND), E(INSPECTION)));
    /* Nor judges its own rectification. */
    ck_assert(!sc_policy_allows(R(RESPONSIBLE), K(REVISIT), E(FINDING)));
    ck_assert(!sc_policy_allows(R(RESPONSIBLE), K(CLOSURE), E(FINDING)));
    ck_assert(!sc_policy_allows(R(RESPONSIBLE), K(FIELD_EDIT), E(FINDING)));
    ck_assert(!sc_policy_allows(R(RESPONSIBLE), K(VOID_RECORD), E(FINDING)));
}
END_TEST

START_TEST(auditor_and_unknown_roles)
{
    for (size_t k = 0; k < sc_names_op_kind.n; k++) {
        for (int type = 0; type <= 9; type++) {
            Scpb__Op__BodyCase kind = (Scpb__Op__BodyCase)sc_names_op_kind.v[k].value;
            ck_assert(!sc_policy_allows(R(AUDITOR), kind, (Scpb__EntityType)type));
            ck_assert(!sc_policy_allows(R(UNSPECIFIED), kind, (Scpb__EntityType)type));
            ck_assert(!sc_policy_allows((Scpb__Role)42, kind, (Scpb__EntityType)type));
        }
    }
}
END_TEST

START_TEST(admin)
{
    ck_assert(sc_policy_allows(R(ADMIN), K(DEVICE_REVOKE), E(DEVICE)));
    /* Disabling, enabling and changing the role of a user: admins only, on users only. */
    ck_assert(sc_policy_allows(R(ADMIN), K(USER_DISABLE), E(USER)));
    ck_assert(sc_policy_allows(R(ADMIN), K(USER_ENABLE), E(USER)));
    ck_assert(sc_policy_allows(R(ADMIN), K(USER_ROLE), E(USER)));
    ck_assert(!sc_policy_allows(R(ADMIN), K(USER_DISABLE), E(DEVICE)));
    ck_assert(sc_policy_allows(R(ADMIN), K(ASSIGNMENT_CREATE), E(ASSIGNMENT)));
    /* Admins run the register; they do not inspect. */
    ck_assert(!sc_policy_allows(R(ADMIN), K(INSPECTION_OPEN), E(INSPECTION)));
    ck_assert(!sc_policy_allows(R(ADMIN), K(FINDING_CREATE), E(FINDING)));
    ck_assert(!sc_policy_allows(R(ADMIN), K(VOID_RECORD), E(FINDING)));
    /* Even an admin cannot put a kind on the wrong type. */
    ck_assert(!sc_policy_allows(R(ADMIN), K(ORG_CREATE), E(TARGET)));
    ck_assert(!sc_policy_allows(R(ADMIN), K(NOTE), E(USER)));
}
END_TEST

/* Who may upload photos (syncd): the roles that may attach them to something. */
START_TEST(photo_attach_on_some_type)
{
    ck_assert(sc_policy_allows_some(R(INSPECTOR), K(PHOTO_ATTACH)));
    ck_assert(sc_policy_allows_some(R(SUPERVISOR), K(PHOTO_ATTACH)));
    ck_assert(sc_policy_allows_some(R(RESPONSIBLE), K(PHOTO_ATTACH)));
    ck_assert(!sc_policy_allows_some(R(AUDITOR), K(PHOTO_ATTACH)));
    ck_assert(!sc_policy_allows_some(R(ADMIN), K(PHOTO_ATTACH)));
    ck_assert(!sc_policy_allows_some(R(UNSPECIFIED), K(PHOTO_ATTACH)));
    ck_assert(!sc_policy_allows_some((Scpb__Role)42, K(PHOTO_ATTACH)));
    /* The same answer as the table, kind by kind and role by role. */
    for (size_t k = 0; k < sc_names_op_kind.n; k++) {
        Scpb__Op__BodyCase kind = (Scpb__Op__BodyCase)sc_names_op_kind.v[k].value;
        for (int role = 0; role <= 6; role++) {
            bool any = false;
            for (int type = 0; type <= 9; type++)
                any = any || sc_policy_allows((Scpb__Role)role, kind, (Scpb__EntityType)type);
            ck_assert_int_eq(sc_policy_allows_some((Scpb__Role)role, kind), any);
        }
    }
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    const sct_case cases[] = {
        {"whole_table", whole_table},
        {"inspector", inspector},
        {"supervisor", supervisor},
        {"responsible", responsible},
        {"auditor_and_unknown_roles", auditor_and_unknown_roles},
        {"photo_attach_on_some_type", photo_attach_on_some_type},
        {"admin", admin},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(policy_suite());
}
