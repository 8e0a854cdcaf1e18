/*
 * sctest_fixture.c: the in-process register fixture (see sctest_fixture.h).
 * It reaches syncd's headers by a relative path because the test support
 * library is shared with tests that do not link syncd.
 */
#include "sctest_fixture.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../syncd/register.h"
#include "core/ids.h"
#include "sctest_server.h"

static sd_register *open_reg(const char *dir)
{
    sd_config cfg;
    sd_config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    sd_register *r = NULL;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_open(&cfg, &r, &err);
    ck_assert_msg(rc == SC_OK, "sd_register_open(%s): %s", dir, err.msg);
    return r;
}

static void admin(sd_register *r, Scpb__Op *op, uint8_t id[SC_ID_LEN], Scpb__EntityType type)
{
    sc_uuid7_new(sct_sys_env(), id);
    op->has_entity = true;
    op->entity.data = id;
    op->entity.len = SC_ID_LEN;
    op->has_entity_type = true;
    op->entity_type = type;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_admin_op(r, op, NULL, &err);
    ck_assert_msg(rc == SC_OK, "admin op: %s (reason %d)", err.msg, err.reason);
}

static void org(sd_register *r, uint8_t id[SC_ID_LEN], const char *code, const char *name,
                const uint8_t *parent, Scpb__OrgLevel level, Scpb__OrgKind kind)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__OrgCreate b = SCPB__ORG_CREATE__INIT;
    b.code = (char *)(uintptr_t)code;
    b.name = (char *)(uintptr_t)name;
    if (parent) {
        b.has_parent = true;
        b.parent.data = (uint8_t *)(uintptr_t)parent;
        b.parent.len = SC_ID_LEN;
    }
    b.has_level = true;
    b.level = level;
    b.has_kind = true;
    b.kind = kind;
    op.body_case = SCPB__OP__BODY_ORG_CREATE;
    op.org_create = &b;
    admin(r, &op, id, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT);
}

static void target(sd_register *r, uint8_t id[SC_ID_LEN], const char *code, const char *name,
                   const uint8_t *orgid, Scpb__TargetType type)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__TargetCreate b = SCPB__TARGET_CREATE__INIT;
    b.code = (char *)(uintptr_t)code;
    b.name = (char *)(uintptr_t)name;
    b.has_org = true;
    b.org.data = (uint8_t *)(uintptr_t)orgid;
    b.org.len = SC_ID_LEN;
    b.has_type = true;
    b.type = type;
    op.body_case = SCPB__OP__BODY_TARGET_CREATE;
    op.target_create = &b;
    admin(r, &op, id, SCPB__ENTITY_TYPE__ENTITY_TARGET);
}

static void user(sd_register *r, uint8_t id[SC_ID_LEN], const char *login, const char *name,
                 Scpb__Role role, const uint8_t *orgid)
{
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__UserCreate b = SCPB__USER_CREATE__INIT;
    b.login = (char *)(uintptr_t)login;
    b.name = (char *)(uintptr_t)name;
    b.has_role = true;
    b.role = role;
    b.has_org = true;
    b.org.data = (uint8_t *)(uintptr_t)orgid;
    b.org.len = SC_ID_LEN;
    op.body_case = SCPB__OP__BODY_USER_CREATE;
    op.user_create = &b;
    admin(r, &op, id, SCPB__ENTITY_TYPE__ENTITY_USER);
}

void sct_fixture_make(sct_fixture *f, const char *dir)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_init(dir, "spotcheck.test/log", &err);
    ck_assert_msg(rc == SC_OK, "sd_register_init(%s): %s", dir, err.msg);
    sd_register *r = open_reg(dir);
    org(r, f->city, "city", "市疫情防控指挥部", NULL, SCPB__ORG_LEVEL__LEVEL_CITY,
        SCPB__ORG_KIND__ORG_COMMAND_HQ);
    org(r, f->county, "county", "县(区)指挥部", f->city, SCPB__ORG_LEVEL__LEVEL_COUNTY,
        SCPB__ORG_KIND__ORG_COMMAND_HQ);
    org(r, f->street, "street", "街道", f->county, SCPB__ORG_LEVEL__LEVEL_STREET,
        SCPB__ORG_KIND__ORG_GOV_DEPT);
    org(r, f->community, "junan", "君安社区", f->street, SCPB__ORG_LEVEL__LEVEL_COMMUNITY,
        SCPB__ORG_KIND__ORG_RESIDENTS_COMMITTEE);
    org(r, f->compound, "junan-garden", "君安花园小区", f->community,
        SCPB__ORG_LEVEL__LEVEL_COMPOUND, SCPB__ORG_KIND__ORG_PROPERTY_CO);
    org(r, f->other_street, "street2", "另一街道", f->county, SCPB__ORG_LEVEL__LEVEL_STREET,
        SCPB__ORG_KIND__ORG_GOV_DEPT);
    target(r, f->target, "T-JAHY", "君安花园小区", f->community, SCPB__TARGET_TYPE__TARGET_COMPOUND);
    target(r, f->target_out, "T-MKT", "农贸市场", f->other_street, SCPB__TARGET_TYPE__TARGET_MARKET);
    user(r, f->inspector, "inspector1", "检查员", SCPB__ROLE__ROLE_INSPECTOR, f->street);
    user(r, f->supervisor, "supervisor1", "督导员", SCPB__ROLE__ROLE_SUPERVISOR, f->county);
    user(r, f->responsible, "resp1", "物业负责人", SCPB__ROLE__ROLE_RESPONSIBLE, f->compound);
    user(r, f->auditor, "auditor1", "审计员", SCPB__ROLE__ROLE_AUDITOR, f->city);
    sd_register_close(r);
}

void sct_fixture_code(const char *dir, const char *login, char *out, size_t cap)
{
    sd_register *r = open_reg(dir);
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_enroll_code(r, login, 1, out, cap, &err);
    ck_assert_msg(rc == SC_OK, "enroll code for %s: %s", login, err.msg);
    sd_register_close(r);
}

void sct_fixture_revoke(const char *dir, const uint8_t device[SC_ID_LEN])
{
    sd_register *r = open_reg(dir);
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__DeviceRevoke b = SCPB__DEVICE_REVOKE__INIT;
    b.reason = "lost tablet";
    op.has_entity = true;
    op.entity.data = (uint8_t *)(uintptr_t)device;
    op.entity.len = SC_ID_LEN;
    op.has_entity_type = true;
    op.entity_type = SCPB__ENTITY_TYPE__ENTITY_DEVICE;
    op.body_case = SCPB__OP__BODY_DEVICE_REVOKE;
    op.device_revoke = &b;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_register_admin_op(r, &op, NULL, &err);
    ck_assert_msg(rc == SC_OK, "revoke: %s", err.msg);
    sd_register_close(r);
}

uint64_t sct_fixture_log_size(const char *dir)
{
    sd_register *r = open_reg(dir);
    sd_register_stats st;
    sc_err err;
    sc_err_clear(&err);
    ck_assert_int_eq(sd_register_stats_get(r, &st, &err), SC_OK);
    sd_register_close(r);
    return st.log_size;
}
