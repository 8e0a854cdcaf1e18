/*
 * test_audit.c: the streaming log verifier (core/audit.c) on logs built op
 * by op: who may sign each entry as the log goes by.  A user's devices are
 * refused from the entry after the user is disabled and taken again once it
 * is enabled; a role change decides what the user's devices may make from
 * then on; a change to a user must build on the user's latest op; no
 * device enrolls for a disabled user.  The checkpoints and the rest of the
 * auditor are covered through `syncd audit` (tests/syncd/test_audit.c).
 */
#include <check.h>
#include <string.h>

#include "core/audit.h"
#include "core/ids.h"
#include "core/reason.h"
#include "scops.h"
#include "sctest.h"

#define T_USER SCPB__ENTITY_TYPE__ENTITY_USER

static sct_env T;
static const sc_env *ENV;

/* A log under construction: the server's device, one inspector's tablet, and the entries. */
typedef struct testlog {
    sco_device srv, tab;
    uint8_t user[SC_ID_LEN];
    uint8_t last[SC_HASH_LEN]; /* the user's latest op */
    sc_op *e[32];
    size_t n;
} testlog;

static void push(testlog *l, sc_op *o)
{
    ck_assert_uint_lt(l->n, 32);
    l->e[l->n++] = o;
}

/* The user (an inspector) and the tablet enrolled for it, logged by the server. */
static void testlog_init(testlog *l)
{
    memset(l, 0, sizeof *l);
    sco_device_init(&l->srv, 1, 1000000);
    sco_device_init(&l->tab, 2, 1000000);
    sc_uuid7_new(ENV, l->user);
    uint8_t org[SC_ID_LEN] = {3};
    Scpb__UserCreate uc = SCPB__USER_CREATE__INIT;
    uc.login = "li";
    uc.has_role = true;
    uc.role = SCPB__ROLE__ROLE_INSPECTOR;
    uc.has_org = true;
    uc.org.len = SC_ID_LEN;
    uc.org.data = org;
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_USER_CREATE;
    op.user_create = &uc;
    sc_op *o = sco_make(ENV, &l->srv, &op, l->user, T_USER, NULL);
    memcpy(l->last, o->id, SC_HASH_LEN);
    push(l, o);
    uint8_t dev[SC_ID_LEN];
    sc_uuid7_new(ENV, dev);
    Scpb__DeviceEnroll de = SCPB__DEVICE_ENROLL__INIT;
    de.has_user = true;
    de.user.len = SC_ID_LEN;
    de.user.data = l->user;
    de.has_key = true;
    de.key.len = SC_KEY_LEN;
    de.key.data = (uint8_t *)sc_keypair_public(l->tab.key);
    Scpb__Op op2 = SCPB__OP__INIT;
    op2.body_case = SCPB__OP__BODY_DEVICE_ENROLL;
    op2.device_enroll = &de;
    push(l, sco_make(ENV, &l->srv, &op2, dev, SCPB__ENTITY_TYPE__ENTITY_DEVICE, NULL));
}

static void testlog_dispose(testlog *l)
{
    for (size_t i = 0; i < l->n; i++)
        sc_op_free(ENV, l->e[i]);
    sco_device_dispose(&l->srv);
    sco_device_dispose(&l->tab);
}

/*
 * A change to the user by the server: disable, enable or a role; deps is
 * the user's latest op unless `stale` names an older one.
 */
static void user_act(testlog *l, Scpb__Op__BodyCase kind, Scpb__Role role, const uint8_t *stale)
{
    Scpb__Op op = SCPB__OP__INIT;
    sco_user_body b;
    sco_user_act(&op, &b, kind, role, NULL);
    l->srv.now_ms += 1000;
    const uint8_t(*deps)[SC_HASH_LEN] = (const uint8_t(*)[SC_HASH_LEN])(stale ? stale : l->last);
    sc_op *o = sco_make_deps(ENV, &l->srv, &op, l->user, T_USER, deps, 1);
    memcpy(l->last, o->id, SC_HASH_LEN);
    push(l, o);
}

/* The tablet opens an inspection (what an inspector may make). */
static void tablet_works(testlog *l)
{
    uint8_t insp[SC_ID_LEN], target[SC_ID_LEN] = {9};
    sc_uuid7_new(ENV, insp);
    Scpb__InspectionOpen b;
    Scpb__Op op = SCPB__OP__INIT;
    sco_open_body(&op, &b, target, SCPB__DISCLOSURE__DISCLOSURE_OPEN);
    l->tab.now_ms += 1000;
    push(l, sco_make(ENV, &l->tab, &op, insp, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, NULL));
}

/* Feed the log; returns the index of the first entry refused (l->n when none) and its error. */
static size_t audit(const testlog *l, sc_err *err)
{
    sc_auditor *a = NULL;
    ck_assert_int_eq(sc_auditor_new(ENV, sc_keypair_public(l->srv.key), "test/audit", &a), SC_OK);
    size_t i = 0;
    for (; i < l->n; i++) {
        sc_err_clear(err);
        if (sc_auditor_entry(a, i, l->e[i]->signed_bytes, l->e[i]->signed_len, NULL, err) != SC_OK)
            break;
    }
    sc_auditor_free(a);
    return i;
}

static void setup(void)
{
    sct_env_init(&T, 5);
    ENV = &T.env;
}

START_TEST(disabled_users_devices_are_refused_until_enabled)
{
    testlog l;
    testlog_init(&l);
    tablet_works(&l); /* 2: before the disable: fine */
    user_act(&l, SCPB__OP__BODY_USER_DISABLE, 0, NULL);
    size_t disabled_at = l.n;
    tablet_works(&l); /* refused */
    sc_err err;
    ck_assert_uint_eq(audit(&l, &err), disabled_at);
    ck_assert_int_eq(err.reason, SC_REASON_USER_DISABLED);
    ck_assert_msg(strstr(err.msg, "disabled earlier in the log"), "%s", err.msg);
    /* Enabled again: the same tablet signs on, and its earlier work never stopped counting. */
    sc_op_free(ENV, l.e[--l.n]);
    user_act(&l, SCPB__OP__BODY_USER_ENABLE, 0, NULL);
    tablet_works(&l);
    ck_assert_uint_eq(audit(&l, &err), l.n);
    testlog_dispose(&l);
}
END_TEST

START_TEST(role_changes_decide_what_later_entries_may_make)
{
    testlog l;
    testlog_init(&l);
    user_act(&l, SCPB__OP__BODY_USER_ROLE, SCPB__ROLE__ROLE_AUDITOR, NULL);
    size_t at = l.n;
    tablet_works(&l); /* an auditor opens nothing */
    sc_err err;
    ck_assert_uint_eq(audit(&l, &err), at);
    ck_assert_int_eq(err.reason, SC_REASON_FORBIDDEN_ROLE);
    ck_assert_msg(strstr(err.msg, "auditor"), "%s", err.msg);
    sc_op_free(ENV, l.e[--l.n]);
    user_act(&l, SCPB__OP__BODY_USER_ROLE, SCPB__ROLE__ROLE_SUPERVISOR, NULL);
    tablet_works(&l);
    ck_assert_uint_eq(audit(&l, &err), l.n);
    testlog_dispose(&l);
}
END_TEST

START_TEST(user_changes_build_on_the_latest)
{
    testlog l;
    testlog_init(&l);
    uint8_t created[SC_HASH_LEN];
    memcpy(created, l.last, SC_HASH_LEN);
    user_act(&l, SCPB__OP__BODY_USER_DISABLE, 0, NULL);
    /* An enable made beside the disable, on the user as created: concurrent, never logged. */
    user_act(&l, SCPB__OP__BODY_USER_ENABLE, 0, created);
    sc_err err;
    ck_assert_uint_eq(audit(&l, &err), l.n - 1);
    ck_assert_int_eq(err.reason, SC_REASON_INVALID_TRANSITION);
    ck_assert_msg(strstr(err.msg, "latest op"), "%s", err.msg);
    testlog_dispose(&l);
}
END_TEST

START_TEST(no_device_enrolls_for_a_disabled_user)
{
    testlog l;
    testlog_init(&l);
    user_act(&l, SCPB__OP__BODY_USER_DISABLE, 0, NULL);
    sco_device other;
    sco_device_init(&other, 4, 1000000);
    uint8_t dev[SC_ID_LEN];
    sc_uuid7_new(ENV, dev);
    Scpb__DeviceEnroll de = SCPB__DEVICE_ENROLL__INIT;
    de.has_user = true;
    de.user.len = SC_ID_LEN;
    de.user.data = l.user;
    de.has_key = true;
    de.key.len = SC_KEY_LEN;
    de.key.data = (uint8_t *)sc_keypair_public(other.key);
    Scpb__Op op = SCPB__OP__INIT;
    op.body_case = SCPB__OP__BODY_DEVICE_ENROLL;
    op.device_enroll = &de;
    push(&l, sco_make(ENV, &l.srv, &op, dev, SCPB__ENTITY_TYPE__ENTITY_DEVICE, NULL));
    sc_err err;
    ck_assert_uint_eq(audit(&l, &err), l.n - 1);
    ck_assert_int_eq(err.reason, SC_REASON_USER_DISABLED);
    ck_assert_msg(strstr(err.msg, "enrolls a device"), "%s", err.msg);
    sco_device_dispose(&other);
    testlog_dispose(&l);
}
END_TEST

static Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    const sct_case cases[] = {
        {"disabled_user", disabled_users_devices_are_refused_until_enabled},
        {"role_change", role_changes_decide_what_later_entries_may_make},
        {"user_chain", user_changes_build_on_the_latest},
        {"enroll_disabled", no_device_enrolls_for_a_disabled_user},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.setup = setup});
    return s;
}

int main(void)
{
    return sct_run(audit_suite());
}
