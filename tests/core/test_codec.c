/*
 * test_codec.c: signed ops in and out.
 *
 * A valid op of every kind (on every entity type it applies to) seals and
 * opens back to the same bytes; every structural rule of sc_op_check has a
 * failing case with the right reason and field, checked both directly and
 * through sc_op_open of a properly signed encoding; the edges of each limit
 * are accepted.  On the wire: oversized input is refused before anything is
 * allocated, truncations, garbage, unknown fields, non-canonical encodings
 * and every changed byte of a sealed op are refused, and sc_op_open fails
 * cleanly with SC_ERR_NOMEM at every allocation.  The committed fuzz seeds
 * are checked to open (and are written by this test when asked).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/governance.h"
#include "core/ids.h"
#include "core/names.h"
#include "sctest.h"
#include "wire.pb-c.h"

#define MALFORMED  SCPB__REASON__REASON_MALFORMED
#define BAD_FIELD  SCPB__REASON__REASON_BAD_FIELD
#define WRONG_TYPE SCPB__REASON__REASON_WRONG_ENTITY_TYPE
#define MS0        INT64_C(1795392000000) /* 2026-11-23T00:00:00Z */

/* ---- fixtures: one valid op of any kind, rebuilt from constants ---- */

static sct_env T;
static sc_keypair *KP;

static uint8_t ENTITY[SC_ID_LEN];
static uint8_t REF[4][SC_ID_LEN]; /* target, org, user/assignment, template */
static uint8_t PHOTO[2][SC_HASH_LEN];
static uint8_t DEP_HASH[SC_DEPS_MAX + 1][SC_HASH_LEN];
static ProtobufCBinaryData DEPS[SC_DEPS_MAX + 1];
static uint8_t INSPECTOR_ID[SC_ASSIGNEES_MAX + 1][SC_ID_LEN];
static ProtobufCBinaryData INSPECTORS[SC_ASSIGNEES_MAX + 1];
static ProtobufCBinaryData HASH_LIST[SC_SUBMIT_PHOTOS_MAX + 1]; /* evidence, photos, heads */
static ProtobufCBinaryData ID_LIST[SC_SUBMIT_FINDINGS_MAX + 1]; /* finding ids */
static char ITEM_CODE[SC_TEMPLATE_ITEMS_MAX + 1][8];
static Scpb__TemplateItem ITEM_V[SC_TEMPLATE_ITEMS_MAX + 1];
static Scpb__TemplateItem *ITEMS[SC_TEMPLATE_ITEMS_MAX + 1];
static Scpb__ItemResult RESULT_V[SC_TEMPLATE_ITEMS_MAX + 1];
static Scpb__ItemResult *RESULTS[SC_TEMPLATE_ITEMS_MAX + 1];
static char LONG_TEXT[SC_TEXT_MAX + 2];
static char HEX_REF[2 * SC_ID_LEN + 1];

static Scpb__Op OP;
static Scpb__Geo GEO, PHOTO_GEO;
static Scpb__OrgCreate ORG;
static Scpb__TargetCreate TARGET;
static Scpb__UserCreate USER;
static Scpb__DeviceEnroll ENROLL;
static Scpb__DeviceRevoke REVOKE;
static Scpb__UserDisable DISABLE;
static Scpb__UserEnable ENABLE;
static Scpb__UserRole ROLE;
static Scpb__TemplatePublish TEMPLATE;
static Scpb__AssignmentCreate ASSIGN;
static Scpb__InspectionOpen INSP;
static Scpb__ItemResult RESULT;
static Scpb__InspectionSubmit SUBMIT;
static Scpb__InspectionAmend AMEND;
static Scpb__FindingCreate FINDING;
static Scpb__FieldEdit EDIT;
static Scpb__RectificationReport REPORT;
static Scpb__Revisit REVISIT;
static Scpb__Closure CLOSURE;
static Scpb__Reopen REOPEN;
static Scpb__PhotoAttach PHOTO_ATTACH;
static Scpb__Note NOTE;
static Scpb__VoidRecord VOID;
static Scpb__ConflictResolve RESOLVE;
static Scpb__Notice NOTICE;
static Scpb__SignFor SIGN_FOR;
static Scpb__RectificationPlan PLAN;
static Scpb__PlanReturn PLAN_RETURN;
static Scpb__ExtensionRequest EXT_REQUEST;
static Scpb__ExtensionDecision EXT_DECISION;
static Scpb__DeadlineChange DEADLINE_CHANGE;
static Scpb__OrgPolicy ORG_POLICY;
static Scpb__EscalationRung RUNGS[2];
static Scpb__EscalationRung *LADDER[2];
static Scpb__Escalation ESCALATION;
static Scpb__StopWork STOP_WORK;
static Scpb__SignOff SIGN_OFF;
static Scpb__Countersign COUNTERSIGN;

static ProtobufCBinaryData bin(const void *p, size_t n)
{
    ProtobufCBinaryData b = {n, (uint8_t *)(uintptr_t)p};
    return b;
}

/* A valid UUIDv7 made from n, without an environment. */
static void make_id(uint32_t n, uint8_t out[SC_ID_LEN])
{
    uint64_t ms = (uint64_t)MS0 + n;
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (8 * (5 - i)));
    for (int i = 6; i < SC_ID_LEN; i++)
        out[i] = (uint8_t)(n * 31 + (uint32_t)i);
    out[6] = (uint8_t)(0x70 | (out[6] & 0x0f));
    out[8] = (uint8_t)(0x80 | (out[8] & 0x3f));
}

/* A string of exactly n bytes ('x'), n <= SC_TEXT_MAX + 1. */
static char *long_str(size_t n)
{
    return LONG_TEXT + (SC_TEXT_MAX + 1 - n);
}

static void reset_fixtures(void)
{
    make_id(1, ENTITY);
    for (uint32_t i = 0; i < 4; i++)
        make_id(100 + i, REF[i]);
    sc_sha256("photo a", 7, PHOTO[0]);
    sc_sha256("photo b", 7, PHOTO[1]);
    for (size_t i = 0; i <= SC_DEPS_MAX; i++) {
        uint8_t n = (uint8_t)i;
        sc_sha256(&n, 1, DEP_HASH[i]);
        DEPS[i] = bin(DEP_HASH[i], SC_HASH_LEN);
    }
    for (size_t i = 0; i <= SC_ASSIGNEES_MAX; i++) {
        make_id(200 + (uint32_t)i, INSPECTOR_ID[i]);
        INSPECTORS[i] = bin(INSPECTOR_ID[i], SC_ID_LEN);
    }
    for (size_t i = 0; i <= SC_SUBMIT_PHOTOS_MAX; i++)
        HASH_LIST[i] = bin(PHOTO[i % 2], SC_HASH_LEN);
    for (size_t i = 0; i <= SC_SUBMIT_FINDINGS_MAX; i++)
        ID_LIST[i] = bin(REF[2], SC_ID_LEN);
    for (size_t i = 0; i <= SC_TEMPLATE_ITEMS_MAX; i++) {
        snprintf(ITEM_CODE[i], sizeof ITEM_CODE[i], "i%03zu", i);
        Scpb__TemplateItem it = SCPB__TEMPLATE_ITEM__INIT;
        it.code = ITEM_CODE[i];
        it.section = "通道";
        it.text = "疏散通道畅通";
        it.has_max_points = 1;
        it.max_points = 10;
        ITEM_V[i] = it;
        ITEMS[i] = &ITEM_V[i];
        Scpb__ItemResult r = SCPB__ITEM_RESULT__INIT;
        r.item_code = ITEM_CODE[i];
        r.has_status = 1;
        r.status = SCPB__ITEM_STATUS__ITEM_MET;
        r.has_points = 1;
        r.points = 10;
        RESULT_V[i] = r;
        RESULTS[i] = &RESULT_V[i];
    }
    memset(LONG_TEXT, 'x', SC_TEXT_MAX + 1);
    LONG_TEXT[SC_TEXT_MAX + 1] = '\0';
    ck_assert_int_eq(sc_hex_encode(REF[1], SC_ID_LEN, HEX_REF, sizeof HEX_REF), SC_OK);
}

static Scpb__EntityType default_type(Scpb__Op__BodyCase kind)
{
    Scpb__EntityType t = SCPB__ENTITY_TYPE__ENTITY_FINDING;
    if (sc_op_kind_entity(kind, &t))
        return t;
    return kind == SCPB__OP__BODY_NOTE ? SCPB__ENTITY_TYPE__ENTITY_INSPECTION
                                       : SCPB__ENTITY_TYPE__ENTITY_FINDING;
}

/* Fill OP with a valid op of `kind` on its default entity type. */
static Scpb__Op *build(Scpb__Op__BodyCase kind)
{
    reset_fixtures();
    Scpb__Op op = SCPB__OP__INIT;
    op.has_version = 1;
    op.version = 1;
    op.has_entity = 1;
    op.entity = bin(ENTITY, SC_ID_LEN);
    op.has_entity_type = 1;
    op.entity_type = default_type(kind);
    op.has_author = 1;
    op.author = bin(sc_keypair_public(KP), SC_KEY_LEN);
    op.has_hlc = 1;
    op.hlc = (uint64_t)MS0 << 16 | 3;
    op.has_device_time_ms = 1;
    op.device_time_ms = MS0;
    Scpb__Geo geo = SCPB__GEO__INIT;
    geo.has_lat_e7 = geo.has_lon_e7 = geo.has_accuracy_m = 1;
    geo.lat_e7 = 301850000; /* Hangzhou */
    geo.lon_e7 = 1201540000;
    geo.accuracy_m = 8;
    GEO = PHOTO_GEO = geo;
    op.geo = &GEO;
    if (!sc_op_kind_is_create(kind)) {
        op.n_deps = 1;
        op.deps = DEPS;
    }
    op.body_case = kind;
    switch (kind) {
    case SCPB__OP__BODY_ORG_CREATE: {
        Scpb__OrgCreate b = SCPB__ORG_CREATE__INIT;
        b.code = "330106";
        b.name = "西湖区";
        b.has_parent = 1;
        b.parent = bin(REF[1], SC_ID_LEN);
        b.has_level = 1;
        b.level = SCPB__ORG_LEVEL__LEVEL_COUNTY;
        b.has_kind = 1;
        b.kind = SCPB__ORG_KIND__ORG_GOV_DEPT;
        ORG = b;
        op.org_create = &ORG;
        break;
    }
    case SCPB__OP__BODY_TARGET_CREATE: {
        Scpb__TargetCreate b = SCPB__TARGET_CREATE__INIT;
        b.code = "T-0001";
        b.name = "文新小区";
        b.has_org = 1;
        b.org = bin(REF[1], SC_ID_LEN);
        b.has_type = 1;
        b.type = SCPB__TARGET_TYPE__TARGET_COMPOUND;
        b.address = "文一西路 1 号";
        TARGET = b;
        op.target_create = &TARGET;
        break;
    }
    case SCPB__OP__BODY_USER_CREATE: {
        Scpb__UserCreate b = SCPB__USER_CREATE__INIT;
        b.login = "zhang.san";
        b.name = "张三";
        b.has_role = 1;
        b.role = SCPB__ROLE__ROLE_INSPECTOR;
        b.has_org = 1;
        b.org = bin(REF[1], SC_ID_LEN);
        USER = b;
        op.user_create = &USER;
        break;
    }
    case SCPB__OP__BODY_DEVICE_ENROLL: {
        Scpb__DeviceEnroll b = SCPB__DEVICE_ENROLL__INIT;
        b.has_user = 1;
        b.user = bin(REF[2], SC_ID_LEN);
        b.has_key = 1;
        b.key = bin(PHOTO[1], SC_KEY_LEN);
        b.label = "tablet 7";
        ENROLL = b;
        op.device_enroll = &ENROLL;
        break;
    }
    case SCPB__OP__BODY_DEVICE_REVOKE: {
        Scpb__DeviceRevoke b = SCPB__DEVICE_REVOKE__INIT;
        b.reason = "lost";
        REVOKE = b;
        op.device_revoke = &REVOKE;
        break;
    }
    case SCPB__OP__BODY_USER_DISABLE: {
        Scpb__UserDisable b = SCPB__USER_DISABLE__INIT;
        b.reason = "调离岗位";
        DISABLE = b;
        op.user_disable = &DISABLE;
        break;
    }
    case SCPB__OP__BODY_USER_ENABLE: {
        Scpb__UserEnable b = SCPB__USER_ENABLE__INIT;
        b.reason = "returned";
        ENABLE = b;
        op.user_enable = &ENABLE;
        break;
    }
    case SCPB__OP__BODY_USER_ROLE: {
        Scpb__UserRole b = SCPB__USER_ROLE__INIT;
        b.has_role = 1;
        b.role = SCPB__ROLE__ROLE_SUPERVISOR;
        ROLE = b;
        op.user_role = &ROLE;
        break;
    }
    case SCPB__OP__BODY_TEMPLATE_PUBLISH: {
        Scpb__TemplatePublish b = SCPB__TEMPLATE_PUBLISH__INIT;
        b.code = "FIRE-2026";
        b.name = "消防安全检查表";
        b.has_version = 1;
        b.version = 1;
        b.has_pass_mark = 1;
        b.pass_mark = 24;
        b.n_items = 3;
        b.items = ITEMS;
        TEMPLATE = b;
        op.template_publish = &TEMPLATE;
        break;
    }
    case SCPB__OP__BODY_ASSIGNMENT_CREATE: {
        Scpb__AssignmentCreate b = SCPB__ASSIGNMENT_CREATE__INIT;
        b.has_target = 1;
        b.target = bin(REF[0], SC_ID_LEN);
        b.n_inspectors = 2;
        b.inspectors = INSPECTORS;
        b.has_kind = 1;
        b.kind = SCPB__INSPECTION_KIND__KIND_SPOT;
        b.has_disclosure = 1;
        b.disclosure = SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED;
        b.has_due_day = 1;
        b.due_day = 20800;
        b.has_template_ = 1;
        b.template_ = bin(REF[3], SC_ID_LEN);
        b.note = "夜间暗访";
        ASSIGN = b;
        op.assignment_create = &ASSIGN;
        break;
    }
    case SCPB__OP__BODY_INSPECTION_OPEN: {
        Scpb__InspectionOpen b = SCPB__INSPECTION_OPEN__INIT;
        b.has_target = 1;
        b.target = bin(REF[0], SC_ID_LEN);
        b.has_template_ = 1;
        b.template_ = bin(REF[3], SC_ID_LEN);
        b.has_assignment = 1;
        b.assignment = bin(REF[2], SC_ID_LEN);
        b.has_kind = 1;
        b.kind = SCPB__INSPECTION_KIND__KIND_SPOT;
        b.has_disclosure = 1;
        b.disclosure = SCPB__DISCLOSURE__DISCLOSURE_UNANNOUNCED;
        b.has_relation = 1;
        b.relation = SCPB__RELATION__RELATION_SUPERIOR;
        INSP = b;
        op.inspection_open = &INSP;
        break;
    }
    case SCPB__OP__BODY_ITEM_RESULT: {
        Scpb__ItemResult b = SCPB__ITEM_RESULT__INIT;
        b.item_code = "i000";
        b.has_status = 1;
        b.status = SCPB__ITEM_STATUS__ITEM_NOT_MET;
        b.has_points = 1;
        b.points = 0;
        b.measured_value = "0.8 m";
        b.note = "通道宽度不足";
        b.has_relapse_prone = 1;
        b.relapse_prone = 1;
        RESULT = b;
        op.item_result = &RESULT;
        break;
    }
    case SCPB__OP__BODY_INSPECTION_SUBMIT: {
        Scpb__InspectionSubmit b = SCPB__INSPECTION_SUBMIT__INIT;
        b.n_findings = 1;
        b.findings = ID_LIST;
        b.n_finding_heads = 1;
        b.finding_heads = HASH_LIST;
        b.n_photos = 2;
        b.photos = HASH_LIST;
        b.remarks = "检查完毕";
        SUBMIT = b;
        op.inspection_submit = &SUBMIT;
        break;
    }
    case SCPB__OP__BODY_INSPECTION_AMEND: {
        Scpb__InspectionAmend b = SCPB__INSPECTION_AMEND__INIT;
        b.reason = "录入错误";
        b.n_results = 2;
        b.results = RESULTS;
        AMEND = b;
        op.inspection_amend = &AMEND;
        break;
    }
    case SCPB__OP__BODY_FINDING_CREATE: {
        Scpb__FindingCreate b = SCPB__FINDING_CREATE__INIT;
        b.has_inspection = 1;
        b.inspection = bin(REF[2], SC_ID_LEN);
        b.has_target = 1;
        b.target = bin(REF[0], SC_ID_LEN);
        b.item_code = "i000";
        b.has_grade = 1;
        b.grade = SCPB__GRADE__GRADE_MAJOR;
        b.category = "消防";
        b.description = "消防通道被杂物堵塞";
        b.location = "3 号楼东侧";
        b.has_deadline_day = 1;
        b.deadline_day = 20790;
        b.has_responsible = 1;
        b.responsible = bin(REF[1], SC_ID_LEN);
        b.has_fixed_on_spot = 1;
        b.fixed_on_spot = 0;
        b.n_evidence = 1;
        b.evidence = HASH_LIST;
        b.has_source = 1;
        b.source = SCPB__FINDING_SOURCE__SOURCE_INSPECTION;
        FINDING = b;
        op.finding_create = &FINDING;
        break;
    }
    case SCPB__OP__BODY_FIELD_EDIT: {
        Scpb__FieldEdit b = SCPB__FIELD_EDIT__INIT;
        b.has_field = 1;
        b.field = SCPB__FIELD__FIELD_DEADLINE;
        b.value = "2026-12-01";
        EDIT = b;
        op.field_edit = &EDIT;
        break;
    }
    case SCPB__OP__BODY_RECTIFICATION_REPORT: {
        Scpb__RectificationReport b = SCPB__RECTIFICATION_REPORT__INIT;
        b.note = "已清理";
        b.measures = "安排专人每日巡查";
        b.n_evidence = 1;
        b.evidence = HASH_LIST;
        REPORT = b;
        op.rectification_report = &REPORT;
        break;
    }
    case SCPB__OP__BODY_REVISIT: {
        Scpb__Revisit b = SCPB__REVISIT__INIT;
        b.has_result = 1;
        b.result = SCPB__REVISIT_RESULT__REVISIT_RECTIFIED;
        b.note = "复查合格";
        b.n_evidence = 1;
        b.evidence = HASH_LIST;
        b.has_look_back = 1;
        b.look_back = 0;
        REVISIT = b;
        op.revisit = &REVISIT;
        break;
    }
    case SCPB__OP__BODY_CLOSURE: {
        Scpb__Closure b = SCPB__CLOSURE__INIT;
        b.note = "销号";
        CLOSURE = b;
        op.closure = &CLOSURE;
        break;
    }
    case SCPB__OP__BODY_REOPEN: {
        Scpb__Reopen b = SCPB__REOPEN__INIT;
        b.reason = "回头看发现反弹";
        REOPEN = b;
        op.reopen = &REOPEN;
        break;
    }
    case SCPB__OP__BODY_PHOTO_ATTACH: {
        Scpb__PhotoAttach b = SCPB__PHOTO_ATTACH__INIT;
        b.has_sha256 = 1;
        b.sha256 = bin(PHOTO[0], SC_HASH_LEN);
        b.has_size = 1;
        b.size = 2500000;
        b.mime = "image/jpeg";
        b.has_captured_ms = 1;
        b.captured_ms = MS0 - 1000;
        b.geo = &PHOTO_GEO;
        b.caption = "堵塞现场";
        PHOTO_ATTACH = b;
        op.photo_attach = &PHOTO_ATTACH;
        break;
    }
    case SCPB__OP__BODY_NOTE: {
        Scpb__Note b = SCPB__NOTE__INIT;
        b.text = "负责人不在现场";
        NOTE = b;
        op.note = &NOTE;
        break;
    }
    case SCPB__OP__BODY_VOID_RECORD: {
        Scpb__VoidRecord b = SCPB__VOID_RECORD__INIT;
        b.reason = "重复录入";
        b.has_target_op = 1;
        b.target_op = bin(PHOTO[1], SC_HASH_LEN);
        VOID = b;
        op.void_record = &VOID;
        break;
    }
    case SCPB__OP__BODY_RESOLVE: {
        Scpb__ConflictResolve b = SCPB__CONFLICT_RESOLVE__INIT;
        b.has_field = 1;
        b.field = SCPB__FIELD__FIELD_ITEM;
        b.item_code = "i000";
        b.result = &RESULT_V[0];
        RESOLVE = b;
        op.resolve = &RESOLVE;
        break;
    }
    case SCPB__OP__BODY_NOTICE: {
        Scpb__Notice b = SCPB__NOTICE__INIT;
        b.has_responsible = 1;
        b.responsible = bin(REF[1], SC_ID_LEN);
        b.has_deadline_day = 1;
        b.deadline_day = 20790;
        b.has_responsible_defaulted = 1;
        b.has_deadline_defaulted = 1;
        b.deadline_defaulted = 1;
        b.note = "限期整改通知";
        NOTICE = b;
        op.notice = &NOTICE;
        break;
    }
    case SCPB__OP__BODY_SIGN_FOR: {
        Scpb__SignFor b = SCPB__SIGN_FOR__INIT;
        b.note = "已签收";
        SIGN_FOR = b;
        op.sign_for = &SIGN_FOR;
        break;
    }
    case SCPB__OP__BODY_PLAN: {
        Scpb__RectificationPlan b = SCPB__RECTIFICATION_PLAN__INIT;
        b.person_name = "陈静";
        b.person_phone = "+86 138 0000 0000";
        b.measures = "更换老化管道，委托检验";
        b.has_funds_cents = 1;
        b.funds_cents = 1200000;
        b.funds_source = "安全专项费用";
        b.interim = "关闭总阀，每日巡查";
        b.lead_official = "王副主任";
        PLAN = b;
        op.plan = &PLAN;
        break;
    }
    case SCPB__OP__BODY_PLAN_RETURN: {
        Scpb__PlanReturn b = SCPB__PLAN_RETURN__INIT;
        b.has_plan = 1;
        b.plan = bin(PHOTO[0], SC_HASH_LEN);
        b.reason = "资金来源不明";
        PLAN_RETURN = b;
        op.plan_return = &PLAN_RETURN;
        break;
    }
    case SCPB__OP__BODY_EXTENSION_REQUEST: {
        Scpb__ExtensionRequest b = SCPB__EXTENSION_REQUEST__INIT;
        b.has_deadline_day = 1;
        b.deadline_day = 20820;
        b.reason = "检验机构排期";
        EXT_REQUEST = b;
        op.extension_request = &EXT_REQUEST;
        break;
    }
    case SCPB__OP__BODY_EXTENSION_DECISION: {
        Scpb__ExtensionDecision b = SCPB__EXTENSION_DECISION__INIT;
        b.has_request = 1;
        b.request = bin(PHOTO[1], SC_HASH_LEN);
        b.has_approve = 1;
        b.approve = 0;
        b.reason = "理由不充分";
        EXT_DECISION = b;
        op.extension_decision = &EXT_DECISION;
        break;
    }
    case SCPB__OP__BODY_DEADLINE_CHANGE: {
        Scpb__DeadlineChange b = SCPB__DEADLINE_CHANGE__INIT;
        b.has_deadline_day = 1;
        b.deadline_day = 20800;
        b.reason = "区安委会要求提前";
        DEADLINE_CHANGE = b;
        op.deadline_change = &DEADLINE_CHANGE;
        break;
    }
    case SCPB__OP__BODY_ORG_POLICY: {
        Scpb__OrgPolicy b = SCPB__ORG_POLICY__INIT;
        b.has_general_days = 1;
        b.general_days = 7;
        b.has_plan_days = 1;
        b.plan_days = 5;
        ORG_POLICY = b;
        for (int k = 0; k < 2; k++) {
            scpb__escalation_rung__init(&RUNGS[k]);
            RUNGS[k].has_days = RUNGS[k].has_step = 1;
            RUNGS[k].days = 3 + 4 * k;
            RUNGS[k].step = k == 0 ? SCPB__ESCALATION_STEP__ESCALATION_REMINDER
                                   : SCPB__ESCALATION_STEP__ESCALATION_INTERVIEW;
            LADDER[k] = &RUNGS[k];
        }
        ORG_POLICY.n_ladder = 2;
        ORG_POLICY.ladder = LADDER;
        op.org_policy = &ORG_POLICY;
        break;
    }
    case SCPB__OP__BODY_ESCALATION: {
        Scpb__Escalation b = SCPB__ESCALATION__INIT;
        b.has_step = b.has_level = 1;
        b.step = SCPB__ESCALATION_STEP__ESCALATION_INTERVIEW;
        b.level = SCPB__ORG_LEVEL__LEVEL_COUNTY;
        b.reason = "逾期未整改，约谈物业负责人";
        b.n_evidence = 1;
        b.evidence = HASH_LIST;
        ESCALATION = b;
        op.escalation = &ESCALATION;
        break;
    }
    case SCPB__OP__BODY_STOP_WORK: {
        Scpb__StopWork b = SCPB__STOP_WORK__INIT;
        b.reason = "危大工程专项方案未经审查即施工";
        STOP_WORK = b;
        op.stop_work = &STOP_WORK;
        break;
    }
    case SCPB__OP__BODY_SIGN_OFF: {
        Scpb__SignOff b = SCPB__SIGN_OFF__INIT;
        b.name = "王建国";
        b.role = "物业经理";
        b.has_signature = b.has_signed_ms = 1;
        b.signature = bin(PHOTO[0], SC_HASH_LEN);
        b.signed_ms = 1790000000000;
        SIGN_OFF = b;
        op.sign_off = &SIGN_OFF;
        break;
    }
    case SCPB__OP__BODY_COUNTERSIGN: {
        Scpb__Countersign b = SCPB__COUNTERSIGN__INIT;
        b.has_inspection = b.has_signer = 1;
        b.inspection = op.entity;
        b.signer = bin(REF[1], SC_ID_LEN);
        b.note = "情况属实";
        COUNTERSIGN = b;
        op.countersign = &COUNTERSIGN;
        break;
    }
    default:
        ck_abort_msg("no builder for kind %d", (int)kind);
    }
    OP = op;
    return &OP;
}

static void setup(void)
{
    sct_env_init(&T, 99);
    KP = sct_key(1);
}

static void teardown(void)
{
    sc_keypair_free(KP);
}

/* ---- wire helpers (malloc'd, not through T, so T.live counts only the code under test) ---- */

static uint8_t *pack_op(const Scpb__Op *op, size_t *len)
{
    *len = scpb__op__get_packed_size(op);
    uint8_t *buf = malloc(*len ? *len : 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(scpb__op__pack(op, buf), *len);
    return buf;
}

static uint8_t *wrap(const uint8_t *op, size_t op_len, const uint8_t *sig, size_t sig_len,
                     size_t *len)
{
    Scpb__SignedOp so = SCPB__SIGNED_OP__INIT;
    so.has_op = op != NULL;
    so.op = bin(op, op_len);
    so.has_sig = sig != NULL;
    so.sig = bin(sig, sig_len);
    *len = scpb__signed_op__get_packed_size(&so);
    uint8_t *buf = malloc(*len ? *len : 1);
    ck_assert_ptr_nonnull(buf);
    scpb__signed_op__pack(&so, buf);
    return buf;
}

/* A SignedOp of exactly these op bytes, properly signed by KP. */
static uint8_t *sign_wrap(const uint8_t *op, size_t op_len, size_t *len)
{
    uint8_t sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(NULL, KP, SC_DOMAIN_OP, op, op_len, sig), SC_OK);
    return wrap(op, op_len, sig, sizeof sig, len);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* op bytes || extra bytes, in a new buffer. */
static uint8_t *concat(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, size_t *len)
{
    uint8_t *out = malloc(alen + blen + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, a, alen);
    memcpy(out + alen, b, blen);
    *len = alen + blen;
    return out;
}

/* Open with verification; expects failure with code and reason, message containing what. */
static void expect_open_fails(const uint8_t *buf, size_t len, sc_status code, int reason,
                              const char *what)
{
    sc_op *o = (sc_op *)&o; /* must be set to NULL */
    sc_err err;
    sc_status rc = sc_op_open(&T.env, buf, len, SC_OP_VERIFY, &o, &err);
    ck_assert_msg(rc == code, "open: %s (%s), expected %s", sc_status_name(rc), err.msg,
                  sc_status_name(code));
    ck_assert_int_eq(err.code, code);
    ck_assert_int_eq(err.reason, reason);
    ck_assert_ptr_null(o);
    if (what)
        ck_assert_msg(strstr(err.msg, what) != NULL, "message '%s' lacks '%s'", err.msg, what);
    ck_assert_int_eq(T.live, 0);
}

/* ---- valid ops ---- */

START_TEST(valid_ops_of_every_kind)
{
    for (size_t k = 0; k < sc_names_op_kind.n; k++) {
        Scpb__Op__BodyCase kind = (Scpb__Op__BodyCase)sc_names_op_kind.v[k].value;
        for (int type = 1; type <= 8; type++) {
            if (!sc_op_kind_applies(kind, (Scpb__EntityType)type))
                continue;
            Scpb__Op *op = build(kind);
            op->entity_type = (Scpb__EntityType)type;
            sc_err err;
            ck_assert_msg(sc_op_check(op, &err) == SC_OK, "%s on %d: %s",
                          sc_names_op_kind.v[k].name, type, err.msg);
            ck_assert_int_eq(err.code, SC_OK);
            sc_op *sealed = NULL, *opened = NULL;
            ck_assert_int_eq(sc_op_seal(&T.env, KP, op, &sealed, &err), SC_OK);
            ck_assert_int_eq(sc_op_open(&T.env, sealed->signed_bytes, sealed->signed_len,
                                        SC_OP_VERIFY, &opened, &err),
                             SC_OK);
            /* The op bytes are exactly the caller's op, encoded once. */
            size_t n;
            uint8_t *want = pack_op(op, &n);
            ck_assert_uint_eq(opened->op_len, n);
            ck_assert_mem_eq(opened->op_bytes, want, n);
            uint8_t id[SC_HASH_LEN];
            sc_sha256(want, n, id);
            ck_assert_mem_eq(opened->id, id, SC_HASH_LEN);
            ck_assert_mem_eq(sealed->id, id, SC_HASH_LEN);
            ck_assert_uint_eq(opened->signed_len, sealed->signed_len);
            ck_assert_mem_eq(opened->signed_bytes, sealed->signed_bytes, sealed->signed_len);
            ck_assert_int_eq(opened->op->body_case, kind);
            ck_assert_int_eq(opened->op->entity_type, type);
            /* The signature is over the domain and the op bytes. */
            ck_assert_int_eq(sc_verify(&T.env, sc_keypair_public(KP), SC_DOMAIN_OP,
                                       opened->op_bytes, opened->op_len, opened->sig),
                             SC_OK);
            free(want);
            sc_op_free(&T.env, sealed);
            sc_op_free(&T.env, opened);
            ck_assert_int_eq(T.live, 0);
        }
    }
    sc_op_free(&T.env, NULL); /* a no-op */
}
END_TEST

/* ---- the structural rules ---- */

typedef struct rule_case {
    const char *name;
    Scpb__Op__BodyCase kind;
    void (*mutate)(void);
    int reason; /* 0: the mutated op is valid */
    const char *what;
} rule_case;

#define MUT(fn, ...)                                                                               \
    static void fn(void)                                                                           \
    {                                                                                              \
        __VA_ARGS__;                                                                               \
    }

/* header */
MUT(version_missing, OP.has_version = 0)
MUT(version_2, OP.version = 2)
MUT(entity_missing, OP.has_entity = 0)
MUT(entity_short, OP.entity.len = 15)
MUT(entity_v4, ENTITY[6] = (uint8_t)(0x40 | (ENTITY[6] & 0x0f)))
MUT(entity_type_missing, OP.has_entity_type = 0)
MUT(entity_type_unknown, OP.entity_type = (Scpb__EntityType)99)
MUT(entity_type_unspecified, OP.entity_type = SCPB__ENTITY_TYPE__ENTITY_UNSPECIFIED)
MUT(author_missing, OP.has_author = 0)
MUT(author_short, OP.author.len = 31)
MUT(hlc_missing, OP.has_hlc = 0)
MUT(hlc_no_ms, OP.hlc = 5)
MUT(geo_lat, GEO.lat_e7 = 900000001)
MUT(geo_lon, GEO.lon_e7 = -1800000001)
MUT(geo_no_lon, GEO.has_lon_e7 = 0)
MUT(geo_edges, GEO.lat_e7 = -900000000; GEO.lon_e7 = 1800000000)
MUT(geo_absent, OP.geo = NULL)
MUT(deps_too_many, OP.n_deps = SC_DEPS_MAX + 1)
MUT(deps_max, OP.n_deps = SC_DEPS_MAX)
MUT(dep_short, DEPS[0].len = 31)
MUT(deps_dup, OP.n_deps = 3; DEPS[2] = DEPS[0])
MUT(create_with_deps, OP.n_deps = 1; OP.deps = DEPS)
MUT(no_deps, OP.n_deps = 0)
MUT(no_body, OP.body_case = SCPB__OP__BODY__NOT_SET)
MUT(note_on_user, OP.entity_type = SCPB__ENTITY_TYPE__ENTITY_USER)
MUT(finding_on_inspection, OP.entity_type = SCPB__ENTITY_TYPE__ENTITY_INSPECTION)
MUT(photo_on_assignment, OP.entity_type = SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT)
/* strings */
MUT(desc_missing, FINDING.description = NULL)
MUT(desc_empty, FINDING.description = "")
MUT(desc_long, FINDING.description = long_str(SC_TEXT_MAX + 1))
MUT(desc_max, FINDING.description = long_str(SC_TEXT_MAX))
MUT(desc_overlong_nul, FINDING.description = "a\xc0\x80")
MUT(desc_surrogate, FINDING.description = "\xed\xa0\x80")
MUT(desc_beyond_unicode, FINDING.description = "\xf4\x90\x80\x80")
MUT(desc_cut_sequence, FINDING.description = "隐\xe6\x82")
MUT(desc_emoji, FINDING.description = "\xf0\x9f\x94\xa5 fire")
MUT(org_code_missing, ORG.code = NULL)
MUT(org_code_long, ORG.code = long_str(SC_CODE_MAX + 1))
MUT(org_code_max, ORG.code = long_str(SC_CODE_MAX))
MUT(org_name_long, ORG.name = long_str(SC_NAME_MAX + 1))
MUT(login_empty, USER.login = "")
MUT(mime_long, PHOTO_ATTACH.mime = long_str(SC_MIME_MAX + 1))
MUT(mime_empty, PHOTO_ATTACH.mime = "")
MUT(category_long, FINDING.category = long_str(SC_NAME_MAX + 1))
MUT(finding_item_code_empty, FINDING.item_code = "")
MUT(finding_item_code_absent, FINDING.item_code = NULL)
MUT(address_bad_utf8, TARGET.address = "\xff")
/* ids, hashes, keys */
MUT(target_org_short, TARGET.org.len = 15)
MUT(target_org_missing, TARGET.has_org = 0)
MUT(org_parent_long, ORG.parent.len = 17)
MUT(enroll_key_short, ENROLL.key.len = 31)
MUT(enroll_user_missing, ENROLL.has_user = 0)
MUT(photo_sha_short, PHOTO_ATTACH.sha256.len = 31)
MUT(void_target_op_short, VOID.target_op.len = 16)
MUT(void_target_op_absent, VOID.has_target_op = 0)
/* enums */
MUT(level_unspecified, ORG.level = SCPB__ORG_LEVEL__LEVEL_UNSPECIFIED)
MUT(level_unknown, ORG.level = (Scpb__OrgLevel)10)
MUT(level_missing, ORG.has_level = 0)
MUT(org_kind_absent, ORG.has_kind = 0)
MUT(item_status_unknown, RESULT.status = (Scpb__ItemStatus)5)
MUT(item_status_negative, RESULT.status = (Scpb__ItemStatus)-1)
MUT(relation_unknown, INSP.relation = (Scpb__Relation)9)
MUT(grade_unknown, FINDING.grade = (Scpb__Grade)3)
MUT(disclosure_missing, ASSIGN.has_disclosure = 0)
MUT(role_unknown, USER.role = (Scpb__Role)6)
MUT(disable_reason_long, DISABLE.reason = LONG_TEXT)
MUT(disable_no_reason, DISABLE.reason = NULL)
MUT(enable_reason_bad_utf8, ENABLE.reason = "\xff")
MUT(role_change_missing, ROLE.has_role = 0)
MUT(role_change_unknown, ROLE.role = (Scpb__Role)6)
MUT(role_change_none, ROLE.role = SCPB__ROLE__ROLE_UNSPECIFIED)
MUT(source_unknown, FINDING.source = (Scpb__FindingSource)6)
/* days and points */
MUT(deadline_negative, FINDING.deadline_day = -1)
MUT(deadline_too_late, FINDING.deadline_day = 2932897)
MUT(deadline_last, FINDING.deadline_day = 2932896)
MUT(due_day_negative, ASSIGN.due_day = -5)
MUT(points_negative, RESULT.points = -1)
MUT(points_too_many, RESULT.points = 100001)
MUT(points_max, RESULT.points = 100000)
/* counts */
MUT(evidence_too_many, FINDING.n_evidence = SC_EVIDENCE_MAX + 1)
MUT(evidence_max, FINDING.n_evidence = SC_EVIDENCE_MAX)
MUT(evidence_short, HASH_LIST[0].len = 31)
MUT(inspectors_none, ASSIGN.n_inspectors = 0)
MUT(inspectors_too_many, ASSIGN.n_inspectors = SC_ASSIGNEES_MAX + 1)
MUT(inspectors_max, ASSIGN.n_inspectors = SC_ASSIGNEES_MAX)
MUT(inspectors_dup, ASSIGN.n_inspectors = 3; INSPECTORS[2] = INSPECTORS[0])
MUT(inspector_short, INSPECTORS[1].len = 15)
MUT(submit_findings_too_many, SUBMIT.n_findings = SC_SUBMIT_FINDINGS_MAX + 1)
MUT(submit_heads_too_many, SUBMIT.n_finding_heads = SC_SUBMIT_FINDINGS_MAX + 1)
MUT(submit_photos_too_many, SUBMIT.n_photos = SC_SUBMIT_PHOTOS_MAX + 1)
MUT(submit_photos_max, SUBMIT.n_photos = SC_SUBMIT_PHOTOS_MAX)
MUT(submit_finding_long, ID_LIST[0].len = 32)
MUT(submit_empty, SUBMIT.n_findings = SUBMIT.n_finding_heads = SUBMIT.n_photos = 0)
/* template */
MUT(tpl_version_zero, TEMPLATE.version = 0)
MUT(tpl_version_missing, TEMPLATE.has_version = 0)
MUT(tpl_no_items, TEMPLATE.n_items = 0)
MUT(tpl_too_many_items, TEMPLATE.n_items = SC_TEMPLATE_ITEMS_MAX + 1)
MUT(tpl_max_items, TEMPLATE.n_items = SC_TEMPLATE_ITEMS_MAX)
MUT(tpl_dup_code, ITEM_V[2].code = ITEM_CODE[0])
MUT(tpl_item_code_empty, ITEM_V[1].code = "")
MUT(tpl_item_text_empty, ITEM_V[1].text = "")
MUT(tpl_item_text_missing, ITEM_V[1].text = NULL)
MUT(tpl_item_points_over, ITEM_V[0].max_points = 1001)
MUT(tpl_item_points_negative, ITEM_V[0].max_points = -1)
MUT(tpl_item_points_absent, ITEM_V[0].has_max_points = 0; TEMPLATE.pass_mark = 20)
MUT(tpl_pass_mark_over, TEMPLATE.pass_mark = 31)
MUT(tpl_pass_mark_all, TEMPLATE.pass_mark = 30)
MUT(tpl_pass_mark_negative, TEMPLATE.pass_mark = -1)
MUT(tpl_pass_mark_absent, TEMPLATE.has_pass_mark = 0)
/* amendment */
MUT(amend_reason_empty, AMEND.reason = "")
MUT(amend_no_results, AMEND.n_results = 0)
MUT(amend_too_many, AMEND.n_results = SC_TEMPLATE_ITEMS_MAX + 1)
MUT(amend_result_bad, RESULT_V[1].status = SCPB__ITEM_STATUS__ITEM_UNSPECIFIED)
MUT(amend_result_no_code, RESULT_V[1].item_code = NULL)
MUT(amend_dup, RESULT_V[1].item_code = ITEM_CODE[0])
/* field edits */
MUT(edit_status, EDIT.field = SCPB__FIELD__FIELD_STATUS)
MUT(edit_item, EDIT.field = SCPB__FIELD__FIELD_ITEM)
MUT(edit_field_missing, EDIT.has_field = 0)
MUT(edit_field_unknown, EDIT.field = (Scpb__Field)13)
MUT(edit_role, EDIT.field = SCPB__FIELD__FIELD_ROLE; EDIT.value = "admin")
MUT(edit_access, EDIT.field = SCPB__FIELD__FIELD_ACCESS; EDIT.value = "active")
MUT(edit_value_missing, EDIT.value = NULL)
MUT(edit_deadline_clear, EDIT.value = "")
MUT(edit_deadline_bad_day, EDIT.value = "2026-02-30")
MUT(edit_deadline_short, EDIT.value = "2026-12-1")
MUT(edit_deadline_1969, EDIT.value = "1969-12-31")
MUT(edit_grade_major, EDIT.field = SCPB__FIELD__FIELD_GRADE; EDIT.value = "major")
MUT(edit_grade_minor, EDIT.field = SCPB__FIELD__FIELD_GRADE; EDIT.value = "minor")
MUT(edit_grade_upper, EDIT.field = SCPB__FIELD__FIELD_GRADE; EDIT.value = "MAJOR")
MUT(edit_responsible, EDIT.field = SCPB__FIELD__FIELD_RESPONSIBLE; EDIT.value = HEX_REF)
MUT(edit_responsible_upper, EDIT.field = SCPB__FIELD__FIELD_RESPONSIBLE; HEX_REF[3] = 'A';
    EDIT.value = HEX_REF)
MUT(edit_responsible_short, EDIT.field = SCPB__FIELD__FIELD_RESPONSIBLE; HEX_REF[31] = '\0';
    EDIT.value = HEX_REF)
MUT(edit_responsible_not_hex, EDIT.field = SCPB__FIELD__FIELD_RESPONSIBLE; HEX_REF[0] = 'g';
    EDIT.value = HEX_REF)
MUT(edit_description_empty, EDIT.field = SCPB__FIELD__FIELD_DESCRIPTION; EDIT.value = "")
MUT(edit_description, EDIT.field = SCPB__FIELD__FIELD_DESCRIPTION; EDIT.value = "已整改")
MUT(edit_category_long, EDIT.field = SCPB__FIELD__FIELD_CATEGORY;
    EDIT.value = long_str(SC_NAME_MAX + 1))
MUT(edit_category_clear, EDIT.field = SCPB__FIELD__FIELD_CATEGORY; EDIT.value = "")
MUT(edit_location_bad_utf8, EDIT.field = SCPB__FIELD__FIELD_LOCATION; EDIT.value = "\x80")
/* lifecycle and append-only bodies */
MUT(revisit_result_missing, REVISIT.has_result = 0)
MUT(revisit_result_unknown, REVISIT.result = (Scpb__RevisitResult)3)
MUT(reopen_reason_empty, REOPEN.reason = "")
MUT(reopen_reason_missing, REOPEN.reason = NULL)
MUT(report_evidence_too_many, REPORT.n_evidence = SC_EVIDENCE_MAX + 1)
MUT(photo_size_zero, PHOTO_ATTACH.size = 0)
MUT(photo_size_over, PHOTO_ATTACH.size = SC_BLOB_MAX + 1)
MUT(photo_size_max, PHOTO_ATTACH.size = SC_BLOB_MAX)
MUT(photo_size_missing, PHOTO_ATTACH.has_size = 0)
MUT(photo_geo_bad, PHOTO_GEO.lat_e7 = -900000001)
MUT(note_empty, NOTE.text = "")
MUT(note_missing, NOTE.text = NULL)
MUT(void_reason_empty, VOID.reason = "")
/* resolve */
MUT(resolve_field_missing, RESOLVE.has_field = 0)
MUT(resolve_item_no_code, RESOLVE.item_code = NULL)
MUT(resolve_item_no_result, RESOLVE.result = NULL)
MUT(resolve_item_code_differs, RESOLVE.item_code = "i001")
MUT(resolve_item_result_bad, RESULT_V[0].has_status = 0)
MUT(resolve_grade, RESOLVE.field = SCPB__FIELD__FIELD_GRADE; RESOLVE.item_code = NULL;
    RESOLVE.result = NULL; RESOLVE.value = "general")
MUT(resolve_grade_bad, RESOLVE.field = SCPB__FIELD__FIELD_GRADE; RESOLVE.item_code = NULL;
    RESOLVE.result = NULL; RESOLVE.value = "severe")
MUT(resolve_grade_with_item, RESOLVE.field = SCPB__FIELD__FIELD_GRADE; RESOLVE.result = NULL;
    RESOLVE.value = "general")
MUT(resolve_deadline_no_value, RESOLVE.field = SCPB__FIELD__FIELD_DEADLINE;
    RESOLVE.item_code = NULL; RESOLVE.result = NULL)
MUT(resolve_status, RESOLVE.field = SCPB__FIELD__FIELD_STATUS; RESOLVE.item_code = NULL;
    RESOLVE.result = NULL)
MUT(resolve_status_any_value, RESOLVE.field = SCPB__FIELD__FIELD_STATUS; RESOLVE.item_code = NULL;
    RESOLVE.result = NULL; RESOLVE.value = "whatever")
/* rectification governance */
MUT(finding_rules_2, FINDING.has_rules = 1; FINDING.rules = SC_GOV_RULES)
MUT(finding_rules_1, FINDING.has_rules = 1; FINDING.rules = 1)
MUT(finding_rules_3, FINDING.has_rules = 1; FINDING.rules = 3)
MUT(notice_no_unit, NOTICE.has_responsible = 0)
MUT(notice_no_deadline, NOTICE.has_deadline_day = 0)
MUT(notice_unit_short, NOTICE.responsible.len = 15)
MUT(plan_no_person, PLAN.person_name = NULL)
MUT(plan_name_no_phone, PLAN.person_phone = NULL)
MUT(plan_user_person, PLAN.person_name = NULL; PLAN.person_phone = NULL; PLAN.has_person_user = 1;
    PLAN.person_user = bin(REF[2], SC_ID_LEN))
MUT(plan_phone_long, PLAN.person_phone = long_str(SC_PHONE_MAX + 1))
MUT(plan_no_measures, PLAN.measures = NULL)
MUT(plan_funds_negative, PLAN.funds_cents = -1)
MUT(plan_funds_over, PLAN.funds_cents = SC_GOV_FUNDS_MAX + 1)
MUT(plan_general, PLAN.has_funds_cents = 0; PLAN.funds_source = NULL; PLAN.interim = NULL;
    PLAN.lead_official = NULL)
MUT(plan_source_empty, PLAN.funds_source = "")
MUT(return_no_reason, PLAN_RETURN.reason = NULL)
MUT(return_plan_short, PLAN_RETURN.plan.len = 16)
MUT(request_no_reason, EXT_REQUEST.reason = "")
MUT(request_no_day, EXT_REQUEST.has_deadline_day = 0)
MUT(decision_no_approve, EXT_DECISION.has_approve = 0)
MUT(reject_no_reason, EXT_DECISION.reason = NULL)
MUT(approve_no_reason, EXT_DECISION.approve = 1; EXT_DECISION.reason = NULL)
MUT(change_no_reason, DEADLINE_CHANGE.reason = NULL)
MUT(change_no_day, DEADLINE_CHANGE.has_deadline_day = 0)
MUT(policy_zero, ORG_POLICY.general_days = 0)
MUT(policy_too_long, ORG_POLICY.plan_days = SC_GOV_DAYS_MAX + 1)
MUT(policy_empty, ORG_POLICY.has_general_days = 0; ORG_POLICY.has_plan_days = 0)
MUT(ladder_falls, RUNGS[1].days = 3)
MUT(ladder_step_falls, RUNGS[1].step = SCPB__ESCALATION_STEP__ESCALATION_REMINDER)
MUT(ladder_no_step, RUNGS[0].has_step = 0)
MUT(escalation_no_reason, ESCALATION.reason = NULL)
MUT(escalation_empty_reason, ESCALATION.reason = "")
MUT(escalation_no_level, ESCALATION.has_level = 0)
MUT(escalation_step_unknown, ESCALATION.step = 9)
MUT(stop_work_no_reason, STOP_WORK.reason = NULL)
MUT(sign_off_no_name, SIGN_OFF.name = NULL)
MUT(sign_off_empty_role, SIGN_OFF.role = "")
MUT(sign_off_short_signature, SIGN_OFF.signature.len = 31)
MUT(sign_off_no_time, SIGN_OFF.has_signed_ms = 0)
MUT(sign_off_time_zero, SIGN_OFF.signed_ms = 0)
MUT(countersign_no_signer, COUNTERSIGN.has_signer = 0)
MUT(countersign_short_inspection, COUNTERSIGN.inspection.len = 15)
MUT(self_check_of_spot_kind, INSP.has_self_check = 1; INSP.self_check = 1;
    INSP.kind = SCPB__INSPECTION_KIND__KIND_SPOT)
MUT(verifies_twice, ASSIGN.n_verifies = 2; ASSIGN.verifies = ID_LIST) /* the same id twice */
MUT(look_back_of_plain_revisit, REVISIT.has_look_back_of = 1;
    REVISIT.look_back_of = bin(REF[2], SC_ID_LEN); REVISIT.has_look_back = 0)
MUT(lift_not_rectified, REVISIT.has_lifts_stop_work = 1; REVISIT.lifts_stop_work = 1;
    REVISIT.result = SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED)
MUT(rechecks_twice, ASSIGN.n_rechecks = 2; ASSIGN.rechecks = ID_LIST) /* the same id twice */
MUT(edit_plan, EDIT.field = SCPB__FIELD__FIELD_PLAN)
MUT(resolve_extension, RESOLVE.field = SCPB__FIELD__FIELD_EXTENSION; RESOLVE.item_code = NULL;
    RESOLVE.result = NULL; RESOLVE.value = "approved")

#define K(x) SCPB__OP__BODY_##x

static const rule_case rule_cases[] = {
    {"version missing", K(NOTE), version_missing, MALFORMED, "op.version: missing"},
    {"version 2", K(NOTE), version_2, MALFORMED, "op.version: 2"},
    {"entity missing", K(NOTE), entity_missing, MALFORMED, "op.entity: missing"},
    {"entity 15 bytes", K(NOTE), entity_short, MALFORMED, "op.entity: 15 bytes"},
    {"entity not v7", K(NOTE), entity_v4, MALFORMED, "op.entity: not a UUIDv7"},
    {"entity type missing", K(NOTE), entity_type_missing, MALFORMED, "op.entity_type: missing"},
    {"entity type 99", K(NOTE), entity_type_unknown, MALFORMED, "op.entity_type: unknown"},
    {"entity type 0", K(NOTE), entity_type_unspecified, MALFORMED, "op.entity_type: unknown"},
    {"author missing", K(NOTE), author_missing, MALFORMED, "op.author: missing"},
    {"author 31 bytes", K(NOTE), author_short, MALFORMED, "op.author: 31 bytes"},
    {"hlc missing", K(NOTE), hlc_missing, MALFORMED, "op.hlc: missing"},
    {"hlc without ms", K(NOTE), hlc_no_ms, MALFORMED, "op.hlc: no physical time"},
    {"geo lat", K(NOTE), geo_lat, BAD_FIELD, "op.geo.lat_e7: 900000001 outside"},
    {"geo lon", K(NOTE), geo_lon, BAD_FIELD, "op.geo.lon_e7"},
    {"geo without lon", K(NOTE), geo_no_lon, MALFORMED, "op.geo.lon_e7: missing"},
    {"geo edges", K(NOTE), geo_edges, 0, NULL},
    {"geo absent", K(NOTE), geo_absent, 0, NULL},
    {"17 deps", K(NOTE), deps_too_many, MALFORMED, "op.deps: 17 deps"},
    {"16 deps", K(NOTE), deps_max, 0, NULL},
    {"dep 31 bytes", K(NOTE), dep_short, MALFORMED, "op.deps: dep 0 is 31 bytes"},
    {"duplicate deps", K(NOTE), deps_dup, MALFORMED, "op.deps: deps 0 and 2 are the same"},
    {"create with deps", K(ORG_CREATE), create_with_deps, MALFORMED, "takes no deps"},
    {"finding create with deps", K(FINDING_CREATE), create_with_deps, MALFORMED, "no deps"},
    {"edit without deps", K(FIELD_EDIT), no_deps, MALFORMED, "field_edit needs the entity"},
    {"revoke without deps", K(DEVICE_REVOKE), no_deps, MALFORMED, "op.deps"},
    {"no body", K(NOTE), no_body, MALFORMED, "op.body: missing"},
    {"note on a user", K(NOTE), note_on_user, WRONG_TYPE, "note does not apply to user"},
    {"finding on inspection", K(FINDING_CREATE), finding_on_inspection, WRONG_TYPE,
     "finding_create does not apply to inspection"},
    {"photo on assignment", K(PHOTO_ATTACH), photo_on_assignment, WRONG_TYPE, "photo_attach"},
    {"revisit on inspection", K(REVISIT), finding_on_inspection, WRONG_TYPE, "revisit"},

    {"description missing", K(FINDING_CREATE), desc_missing, MALFORMED,
     "finding_create.description: missing"},
    {"description empty", K(FINDING_CREATE), desc_empty, BAD_FIELD,
     "finding_create.description: empty"},
    {"description too long", K(FINDING_CREATE), desc_long, BAD_FIELD,
     "finding_create.description: longer than 8192 bytes"},
    {"description at the limit", K(FINDING_CREATE), desc_max, 0, NULL},
    {"overlong NUL", K(FINDING_CREATE), desc_overlong_nul, BAD_FIELD, "not valid UTF-8"},
    {"surrogate", K(FINDING_CREATE), desc_surrogate, BAD_FIELD, "not valid UTF-8"},
    {"beyond U+10FFFF", K(FINDING_CREATE), desc_beyond_unicode, BAD_FIELD, "not valid UTF-8"},
    {"cut sequence", K(FINDING_CREATE), desc_cut_sequence, BAD_FIELD, "not valid UTF-8"},
    {"four-byte UTF-8", K(FINDING_CREATE), desc_emoji, 0, NULL},
    {"org code missing", K(ORG_CREATE), org_code_missing, MALFORMED, "org_create.code: missing"},
    {"org code too long", K(ORG_CREATE), org_code_long, BAD_FIELD,
     "org_create.code: longer than 64"},
    {"org code at the limit", K(ORG_CREATE), org_code_max, 0, NULL},
    {"org name too long", K(ORG_CREATE), org_name_long, BAD_FIELD,
     "org_create.name: longer than 256"},
    {"login empty", K(USER_CREATE), login_empty, BAD_FIELD, "user_create.login: empty"},
    {"mime too long", K(PHOTO_ATTACH), mime_long, BAD_FIELD, "photo_attach.mime: longer"},
    {"mime empty", K(PHOTO_ATTACH), mime_empty, BAD_FIELD, "photo_attach.mime: empty"},
    {"category too long", K(FINDING_CREATE), category_long, BAD_FIELD,
     "finding_create.category: longer than 256"},
    {"finding item code empty", K(FINDING_CREATE), finding_item_code_empty, BAD_FIELD,
     "finding_create.item_code: empty"},
    {"finding without item code", K(FINDING_CREATE), finding_item_code_absent, 0, NULL},
    {"address not UTF-8", K(TARGET_CREATE), address_bad_utf8, BAD_FIELD,
     "target_create.address: not valid UTF-8"},

    {"target org 15 bytes", K(TARGET_CREATE), target_org_short, BAD_FIELD,
     "target_create.org: 15 bytes, expected 16"},
    {"target org missing", K(TARGET_CREATE), target_org_missing, MALFORMED,
     "target_create.org: missing"},
    {"org parent 17 bytes", K(ORG_CREATE), org_parent_long, BAD_FIELD, "org_create.parent"},
    {"device key 31 bytes", K(DEVICE_ENROLL), enroll_key_short, BAD_FIELD,
     "device_enroll.key: 31 bytes, expected 32"},
    {"device user missing", K(DEVICE_ENROLL), enroll_user_missing, MALFORMED,
     "device_enroll.user: missing"},
    {"photo hash 31 bytes", K(PHOTO_ATTACH), photo_sha_short, BAD_FIELD, "photo_attach.sha256"},
    {"void target 16 bytes", K(VOID_RECORD), void_target_op_short, BAD_FIELD, "void.target_op"},
    {"void of the whole entity", K(VOID_RECORD), void_target_op_absent, 0, NULL},

    {"level unspecified", K(ORG_CREATE), level_unspecified, BAD_FIELD,
     "org_create.level: unknown value 0"},
    {"level 10", K(ORG_CREATE), level_unknown, BAD_FIELD, "org_create.level: unknown value 10"},
    {"level missing", K(ORG_CREATE), level_missing, MALFORMED, "org_create.level: missing"},
    {"org kind absent", K(ORG_CREATE), org_kind_absent, 0, NULL},
    {"item status 5", K(ITEM_RESULT), item_status_unknown, BAD_FIELD, "item_result.status"},
    {"item status -1", K(ITEM_RESULT), item_status_negative, BAD_FIELD, "item_result.status"},
    {"relation 9", K(INSPECTION_OPEN), relation_unknown, BAD_FIELD, "inspection_open.relation"},
    {"grade 3", K(FINDING_CREATE), grade_unknown, BAD_FIELD, "finding_create.grade"},
    {"disclosure missing", K(ASSIGNMENT_CREATE), disclosure_missing, MALFORMED,
     "assignment_create.disclosure: missing"},
    {"role 6", K(USER_CREATE), role_unknown, BAD_FIELD, "user_create.role"},
    {"disable reason too long", K(USER_DISABLE), disable_reason_long, BAD_FIELD,
     "user_disable.reason"},
    {"disable without a reason", K(USER_DISABLE), disable_no_reason, 0, NULL},
    {"enable reason not UTF-8", K(USER_ENABLE), enable_reason_bad_utf8, BAD_FIELD,
     "user_enable.reason"},
    {"role change without a role", K(USER_ROLE), role_change_missing, MALFORMED,
     "user_role.role: missing"},
    {"role change to role 6", K(USER_ROLE), role_change_unknown, BAD_FIELD, "user_role.role"},
    {"role change to no role", K(USER_ROLE), role_change_none, BAD_FIELD, "user_role.role"},
    {"disable without deps", K(USER_DISABLE), no_deps, MALFORMED, "op.deps"},
    {"source 6", K(FINDING_CREATE), source_unknown, BAD_FIELD, "finding_create.source"},

    {"deadline -1", K(FINDING_CREATE), deadline_negative, BAD_FIELD,
     "finding_create.deadline_day: -1 outside [0, 2932896]"},
    {"deadline after 9999", K(FINDING_CREATE), deadline_too_late, BAD_FIELD,
     "finding_create.deadline_day"},
    {"deadline 9999-12-31", K(FINDING_CREATE), deadline_last, 0, NULL},
    {"due day -5", K(ASSIGNMENT_CREATE), due_day_negative, BAD_FIELD, "assignment_create.due_day"},
    {"points -1", K(ITEM_RESULT), points_negative, BAD_FIELD, "item_result.points"},
    {"points 100001", K(ITEM_RESULT), points_too_many, BAD_FIELD, "item_result.points"},
    {"points 100000", K(ITEM_RESULT), points_max, 0, NULL},

    {"65 evidence", K(FINDING_CREATE), evidence_too_many, BAD_FIELD,
     "finding_create.evidence: 65 entries, at most 64"},
    {"64 evidence", K(FINDING_CREATE), evidence_max, 0, NULL},
    {"evidence 31 bytes", K(FINDING_CREATE), evidence_short, BAD_FIELD,
     "finding_create.evidence: entry 0 is 31 bytes"},
    {"no inspectors", K(ASSIGNMENT_CREATE), inspectors_none, MALFORMED,
     "assignment_create.inspectors: missing"},
    {"33 inspectors", K(ASSIGNMENT_CREATE), inspectors_too_many, BAD_FIELD,
     "assignment_create.inspectors: 33 entries"},
    {"32 inspectors", K(ASSIGNMENT_CREATE), inspectors_max, 0, NULL},
    {"inspector twice", K(ASSIGNMENT_CREATE), inspectors_dup, BAD_FIELD,
     "assignment_create.inspectors: entries 0 and 2 are the same"},
    {"inspector 15 bytes", K(ASSIGNMENT_CREATE), inspector_short, BAD_FIELD,
     "assignment_create.inspectors: entry 1"},
    {"401 findings", K(INSPECTION_SUBMIT), submit_findings_too_many, BAD_FIELD,
     "inspection_submit.findings: 401 entries"},
    {"401 heads", K(INSPECTION_SUBMIT), submit_heads_too_many, BAD_FIELD,
     "inspection_submit.finding_heads"},
    {"1001 photos", K(INSPECTION_SUBMIT), submit_photos_too_many, BAD_FIELD,
     "inspection_submit.photos: 1001 entries"},
    {"1000 photos", K(INSPECTION_SUBMIT), submit_photos_max, 0, NULL},
    {"finding id 32 bytes", K(INSPECTION_SUBMIT), submit_finding_long, BAD_FIELD,
     "inspection_submit.findings: entry 0 is 32 bytes"},
    {"empty submission", K(INSPECTION_SUBMIT), submit_empty, 0, NULL},

    {"template version 0", K(TEMPLATE_PUBLISH), tpl_version_zero, BAD_FIELD,
     "template_publish.version: 0 outside"},
    {"template version missing", K(TEMPLATE_PUBLISH), tpl_version_missing, MALFORMED,
     "template_publish.version: missing"},
    {"template without items", K(TEMPLATE_PUBLISH), tpl_no_items, MALFORMED,
     "template_publish.items: missing"},
    {"template with 501 items", K(TEMPLATE_PUBLISH), tpl_too_many_items, BAD_FIELD,
     "template_publish.items: 501 items"},
    {"template with 500 items", K(TEMPLATE_PUBLISH), tpl_max_items, 0, NULL},
    {"template item codes repeat", K(TEMPLATE_PUBLISH), tpl_dup_code, BAD_FIELD,
     "template_publish.items[2].code: same as items[0]"},
    {"template item code empty", K(TEMPLATE_PUBLISH), tpl_item_code_empty, BAD_FIELD,
     "template_publish.items[1].code: empty"},
    {"template item text empty", K(TEMPLATE_PUBLISH), tpl_item_text_empty, BAD_FIELD,
     "template_publish.items[1].text: empty"},
    {"template item text missing", K(TEMPLATE_PUBLISH), tpl_item_text_missing, MALFORMED,
     "template_publish.items[1].text: missing"},
    {"template item 1001 points", K(TEMPLATE_PUBLISH), tpl_item_points_over, BAD_FIELD,
     "template_publish.items[0].max_points"},
    {"template item -1 points", K(TEMPLATE_PUBLISH), tpl_item_points_negative, BAD_FIELD,
     "template_publish.items[0].max_points"},
    {"template item without points", K(TEMPLATE_PUBLISH), tpl_item_points_absent, 0, NULL},
    {"pass mark above the total", K(TEMPLATE_PUBLISH), tpl_pass_mark_over, BAD_FIELD,
     "template_publish.pass_mark: 31 outside [0, 30]"},
    {"pass mark equal to the total", K(TEMPLATE_PUBLISH), tpl_pass_mark_all, 0, NULL},
    {"pass mark -1", K(TEMPLATE_PUBLISH), tpl_pass_mark_negative, BAD_FIELD,
     "template_publish.pass_mark"},
    {"no pass mark", K(TEMPLATE_PUBLISH), tpl_pass_mark_absent, 0, NULL},

    {"amendment reason empty", K(INSPECTION_AMEND), amend_reason_empty, BAD_FIELD,
     "inspection_amend.reason: empty"},
    {"amendment without results", K(INSPECTION_AMEND), amend_no_results, MALFORMED,
     "inspection_amend.results: missing"},
    {"amendment with 501 results", K(INSPECTION_AMEND), amend_too_many, BAD_FIELD,
     "inspection_amend.results: 501"},
    {"amendment result status", K(INSPECTION_AMEND), amend_result_bad, BAD_FIELD,
     "inspection_amend.results[1].status: unknown value 0"},
    {"amendment result without code", K(INSPECTION_AMEND), amend_result_no_code, MALFORMED,
     "inspection_amend.results[1].item_code: missing"},
    {"amendment item twice", K(INSPECTION_AMEND), amend_dup, BAD_FIELD,
     "inspection_amend.results[1].item_code: same as results[0]"},

    {"edit status", K(FIELD_EDIT), edit_status, BAD_FIELD, "field_edit.field: status is not"},
    {"edit item", K(FIELD_EDIT), edit_item, BAD_FIELD, "field_edit.field: item is not"},
    {"edit without field", K(FIELD_EDIT), edit_field_missing, MALFORMED,
     "field_edit.field: missing"},
    {"edit field 13", K(FIELD_EDIT), edit_field_unknown, BAD_FIELD, "field_edit.field: unknown"},
    {"edit a user's role", K(FIELD_EDIT), edit_role, BAD_FIELD,
     "field_edit.field: role is not editable"},
    {"edit a user's access", K(FIELD_EDIT), edit_access, BAD_FIELD,
     "field_edit.field: access is not editable"},
    {"edit without value", K(FIELD_EDIT), edit_value_missing, MALFORMED,
     "field_edit.value: missing"},
    {"edit clears deadline", K(FIELD_EDIT), edit_deadline_clear, 0, NULL},
    {"edit deadline Feb 30", K(FIELD_EDIT), edit_deadline_bad_day, BAD_FIELD,
     "field_edit.value: deadline must be"},
    {"edit deadline short", K(FIELD_EDIT), edit_deadline_short, BAD_FIELD, "field_edit.value"},
    {"edit deadline 1969", K(FIELD_EDIT), edit_deadline_1969, BAD_FIELD, "field_edit.value"},
    {"edit grade major", K(FIELD_EDIT), edit_grade_major, 0, NULL},
    {"edit grade minor", K(FIELD_EDIT), edit_grade_minor, BAD_FIELD,
     "field_edit.value: grade must be"},
    {"edit grade MAJOR", K(FIELD_EDIT), edit_grade_upper, BAD_FIELD, "grade must be"},
    {"edit responsible", K(FIELD_EDIT), edit_responsible, 0, NULL},
    {"edit responsible upper case", K(FIELD_EDIT), edit_responsible_upper, BAD_FIELD,
     "field_edit.value: responsible must be 32 lowercase hex digits"},
    {"edit responsible short", K(FIELD_EDIT), edit_responsible_short, BAD_FIELD,
     "responsible must be"},
    {"edit responsible not hex", K(FIELD_EDIT), edit_responsible_not_hex, BAD_FIELD,
     "responsible must be"},
    {"edit description empty", K(FIELD_EDIT), edit_description_empty, BAD_FIELD,
     "field_edit.value: empty"},
    {"edit description", K(FIELD_EDIT), edit_description, 0, NULL},
    {"edit category too long", K(FIELD_EDIT), edit_category_long, BAD_FIELD,
     "field_edit.value: longer than 256"},
    {"edit clears category", K(FIELD_EDIT), edit_category_clear, 0, NULL},
    {"edit location not UTF-8", K(FIELD_EDIT), edit_location_bad_utf8, BAD_FIELD,
     "field_edit.value: not valid UTF-8"},

    {"revisit without result", K(REVISIT), revisit_result_missing, MALFORMED,
     "revisit.result: missing"},
    {"revisit result 3", K(REVISIT), revisit_result_unknown, BAD_FIELD, "revisit.result"},
    {"reopen reason empty", K(REOPEN), reopen_reason_empty, BAD_FIELD, "reopen.reason: empty"},
    {"reopen reason missing", K(REOPEN), reopen_reason_missing, MALFORMED,
     "reopen.reason: missing"},
    {"report with 65 photos", K(RECTIFICATION_REPORT), report_evidence_too_many, BAD_FIELD,
     "rectification_report.evidence"},
    {"photo of 0 bytes", K(PHOTO_ATTACH), photo_size_zero, BAD_FIELD,
     "photo_attach.size: 0 outside"},
    {"photo over the blob limit", K(PHOTO_ATTACH), photo_size_over, BAD_FIELD, "photo_attach.size"},
    {"photo at the blob limit", K(PHOTO_ATTACH), photo_size_max, 0, NULL},
    {"photo without size", K(PHOTO_ATTACH), photo_size_missing, MALFORMED,
     "photo_attach.size: missing"},
    {"photo geo", K(PHOTO_ATTACH), photo_geo_bad, BAD_FIELD, "photo_attach.geo.lat_e7"},
    {"note empty", K(NOTE), note_empty, BAD_FIELD, "note.text: empty"},
    {"note missing", K(NOTE), note_missing, MALFORMED, "note.text: missing"},
    {"void reason empty", K(VOID_RECORD), void_reason_empty, BAD_FIELD, "void.reason: empty"},

    {"resolve without field", K(RESOLVE), resolve_field_missing, MALFORMED,
     "resolve.field: missing"},
    {"resolve item without code", K(RESOLVE), resolve_item_no_code, MALFORMED,
     "resolve.item_code: missing"},
    {"resolve item without result", K(RESOLVE), resolve_item_no_result, MALFORMED,
     "resolve.result: missing"},
    {"resolve item codes differ", K(RESOLVE), resolve_item_code_differs, BAD_FIELD,
     "resolve.result.item_code: differs"},
    {"resolve item result invalid", K(RESOLVE), resolve_item_result_bad, MALFORMED,
     "resolve.result.status: missing"},
    {"resolve grade", K(RESOLVE), resolve_grade, 0, NULL},
    {"resolve grade badly", K(RESOLVE), resolve_grade_bad, BAD_FIELD,
     "resolve.value: grade must be"},
    {"resolve grade with item code", K(RESOLVE), resolve_grade_with_item, BAD_FIELD,
     "resolve.item_code: only with field item"},
    {"resolve deadline without value", K(RESOLVE), resolve_deadline_no_value, MALFORMED,
     "resolve.value: missing"},
    {"resolve status", K(RESOLVE), resolve_status, 0, NULL},
    {"resolve status ignores value", K(RESOLVE), resolve_status_any_value, 0, NULL},

    {"finding under rules 2", K(FINDING_CREATE), finding_rules_2, 0, NULL},
    {"finding rules 1", K(FINDING_CREATE), finding_rules_1, BAD_FIELD,
     "finding_create.rules: 1 outside [2, 2]"},
    {"finding rules 3", K(FINDING_CREATE), finding_rules_3, BAD_FIELD, "finding_create.rules"},
    {"notice without unit", K(NOTICE), notice_no_unit, MALFORMED, "notice.responsible: missing"},
    {"notice without deadline", K(NOTICE), notice_no_deadline, MALFORMED,
     "notice.deadline_day: missing"},
    {"notice unit 15 bytes", K(NOTICE), notice_unit_short, BAD_FIELD, "notice.responsible"},
    {"plan without a person", K(PLAN), plan_no_person, MALFORMED,
     "plan.person_user: missing: the responsible person is an enrolled user, or a name and a "
     "phone number"},
    {"plan name without phone", K(PLAN), plan_name_no_phone, MALFORMED, "plan.person_user"},
    {"plan by a user", K(PLAN), plan_user_person, 0, NULL},
    {"plan phone too long", K(PLAN), plan_phone_long, BAD_FIELD, "plan.person_phone: longer"},
    {"plan without measures", K(PLAN), plan_no_measures, MALFORMED, "plan.measures: missing"},
    {"plan funds -1", K(PLAN), plan_funds_negative, BAD_FIELD, "plan.funds_cents"},
    {"plan funds too large", K(PLAN), plan_funds_over, BAD_FIELD, "plan.funds_cents"},
    {"general plan", K(PLAN), plan_general, 0, NULL},
    {"plan funds source empty", K(PLAN), plan_source_empty, BAD_FIELD,
     "plan.funds_source: empty"},
    {"return without reason", K(PLAN_RETURN), return_no_reason, MALFORMED,
     "plan_return.reason: missing"},
    {"return plan 16 bytes", K(PLAN_RETURN), return_plan_short, BAD_FIELD, "plan_return.plan"},
    {"request reason empty", K(EXTENSION_REQUEST), request_no_reason, BAD_FIELD,
     "extension_request.reason: empty"},
    {"request without date", K(EXTENSION_REQUEST), request_no_day, MALFORMED,
     "extension_request.deadline_day: missing"},
    {"decision neither way", K(EXTENSION_DECISION), decision_no_approve, MALFORMED,
     "extension_decision.approve: missing"},
    {"rejection without reason", K(EXTENSION_DECISION), reject_no_reason, MALFORMED,
     "extension_decision.reason: missing"},
    {"approval without reason", K(EXTENSION_DECISION), approve_no_reason, 0, NULL},
    {"deadline change without reason", K(DEADLINE_CHANGE), change_no_reason, MALFORMED,
     "deadline_change.reason: missing"},
    {"deadline change without date", K(DEADLINE_CHANGE), change_no_day, MALFORMED,
     "deadline_change.deadline_day: missing"},
    {"policy of 0 days", K(ORG_POLICY), policy_zero, BAD_FIELD,
     "org_policy.general_days: 0 outside [1, 3650]"},
    {"policy past ten years", K(ORG_POLICY), policy_too_long, BAD_FIELD, "org_policy.plan_days"},
    {"policy that sets nothing", K(ORG_POLICY), policy_empty, 0, NULL},
    {"ladder whose days fall", K(ORG_POLICY), ladder_falls, BAD_FIELD,
     "org_policy.ladder: days and steps rise strictly"},
    {"ladder whose steps fall", K(ORG_POLICY), ladder_step_falls, BAD_FIELD, "org_policy.ladder"},
    {"ladder rung without step", K(ORG_POLICY), ladder_no_step, MALFORMED,
     "org_policy.ladder.step: missing"},
    {"escalation without reason", K(ESCALATION), escalation_no_reason, MALFORMED,
     "escalation.reason: missing"},
    {"escalation with empty reason", K(ESCALATION), escalation_empty_reason, BAD_FIELD,
     "escalation.reason: empty"},
    {"escalation without level", K(ESCALATION), escalation_no_level, MALFORMED,
     "escalation.level: missing"},
    {"escalation step 9", K(ESCALATION), escalation_step_unknown, BAD_FIELD,
     "escalation.step: unknown value 9"},
    {"stop-work without reason", K(STOP_WORK), stop_work_no_reason, MALFORMED,
     "stop_work.reason: missing"},
    {"sign-off without name", K(SIGN_OFF), sign_off_no_name, MALFORMED, "sign_off.name: missing"},
    {"sign-off with empty role", K(SIGN_OFF), sign_off_empty_role, BAD_FIELD,
     "sign_off.role: empty"},
    {"sign-off with a short signature hash", K(SIGN_OFF), sign_off_short_signature, BAD_FIELD,
     "sign_off.signature: 31 bytes"},
    {"sign-off without its time", K(SIGN_OFF), sign_off_no_time, MALFORMED,
     "sign_off.signed_ms: missing"},
    {"sign-off at time 0", K(SIGN_OFF), sign_off_time_zero, BAD_FIELD, "sign_off.signed_ms: 0 outside"},
    {"countersign without signer", K(COUNTERSIGN), countersign_no_signer, MALFORMED,
     "countersign.signer: missing"},
    {"countersign naming a short id", K(COUNTERSIGN), countersign_short_inspection, BAD_FIELD,
     "countersign.inspection: 15 bytes"},
    {"a self-check of kind spot", K(INSPECTION_OPEN), self_check_of_spot_kind, BAD_FIELD,
     "inspection_open.self_check: a self-check is of kind self"},
    {"a self-check verified twice", K(ASSIGNMENT_CREATE), verifies_twice, BAD_FIELD,
     "assignment_create.verifies"},
    {"look-back round on a plain revisit", K(REVISIT), look_back_of_plain_revisit, BAD_FIELD,
     "revisit.look_back_of: only on a look-back"},
    {"lift by a failed revisit", K(REVISIT), lift_not_rectified, BAD_FIELD,
     "revisit.lifts_stop_work: only a rectified revisit"},
    {"a finding re-checked twice", K(ASSIGNMENT_CREATE), rechecks_twice, BAD_FIELD,
     "assignment_create.rechecks"},
    {"edit the plan", K(FIELD_EDIT), edit_plan, BAD_FIELD, "field_edit.field: plan is not"},
    {"resolve an extension", K(RESOLVE), resolve_extension, BAD_FIELD,
     "resolve.field: extension conflicts are settled by a new decision"},
};

START_TEST(structural_rules)
{
    for (size_t i = 0; i < sizeof rule_cases / sizeof rule_cases[0]; i++) {
        const rule_case *rc = &rule_cases[i];
        build(rc->kind);
        rc->mutate();
        sc_err err;
        sc_status got = sc_op_check(&OP, &err);
        if (rc->reason == 0) {
            ck_assert_msg(got == SC_OK, "%s: refused: %s", rc->name, err.msg);
        } else {
            ck_assert_msg(got == SC_ERR_MALFORMED && err.reason == rc->reason,
                          "%s: got %s reason %d (%s), expected reason %d", rc->name,
                          sc_status_name(got), err.reason, err.msg, rc->reason);
            ck_assert_msg(strstr(err.msg, rc->what) != NULL, "%s: message '%s' lacks '%s'",
                          rc->name, err.msg, rc->what);
        }
        /* The same through the wire: a properly signed encoding of the
         * mutated op opens, or fails the same way.  (An op over the size
         * limit cannot travel at all; seal_refuses covers that.) */
        size_t n, sn;
        uint8_t *bytes = pack_op(&OP, &n);
        if (n > SC_OP_MAX_BYTES) {
            free(bytes);
            continue;
        }
        uint8_t *signed_op = sign_wrap(bytes, n, &sn);
        sc_op *o = NULL;
        sc_status wire = sc_op_open(&T.env, signed_op, sn, SC_OP_VERIFY, &o, &err);
        if (rc->reason == 0) {
            ck_assert_msg(wire == SC_OK, "%s: open refused: %s", rc->name, err.msg);
            sc_op_free(&T.env, o);
        } else {
            ck_assert_msg(wire == SC_ERR_MALFORMED && err.reason == rc->reason &&
                              strstr(err.msg, rc->what) != NULL,
                          "%s: open gave %s reason %d (%s)", rc->name, sc_status_name(wire),
                          err.reason, err.msg);
            ck_assert_ptr_null(o);
        }
        ck_assert_int_eq(T.live, 0);
        free(bytes);
        free(signed_op);
    }
}
END_TEST

START_TEST(check_arguments)
{
    sc_err err;
    ck_assert_int_eq(sc_op_check(NULL, &err), SC_ERR_INVALID_ARG);
    build(SCPB__OP__BODY_NOTE);
    OP.note = NULL; /* a caller-built op naming a body it does not carry */
    ck_assert_int_eq(sc_op_check(&OP, &err), SC_ERR_MALFORMED);
    ck_assert_int_eq(err.reason, MALFORMED);
    /* err may be NULL: the status still says what happened. */
    ck_assert_int_eq(sc_op_check(&OP, NULL), SC_ERR_MALFORMED);
    build(SCPB__OP__BODY_NOTE);
    ck_assert_int_eq(sc_op_check(&OP, NULL), SC_OK);
    /* A failed check is cleared by the next good one. */
    OP.version = 3;
    ck_assert_int_eq(sc_op_check(&OP, &err), SC_ERR_MALFORMED);
    OP.version = 1;
    ck_assert_int_eq(sc_op_check(&OP, &err), SC_OK);
    ck_assert_int_eq(err.code, SC_OK);
    ck_assert_int_eq(err.reason, 0);
    ck_assert_str_eq(err.msg, "");
}
END_TEST

/* ---- sealing ---- */

START_TEST(seal_refuses)
{
    sc_err err;
    sc_op *o = (sc_op *)&o;
    /* The author must be the signing key. */
    sc_keypair *other = sct_key(2);
    build(SCPB__OP__BODY_NOTE);
    ck_assert_int_eq(sc_op_seal(&T.env, other, &OP, &o, &err), SC_ERR_INVALID_ARG);
    ck_assert_ptr_null(o);
    ck_assert_ptr_nonnull(strstr(err.msg, "op.author"));
    sc_keypair_free(other);
    /* A structurally bad op is not signed. */
    build(SCPB__OP__BODY_NOTE);
    NOTE.text = "";
    o = (sc_op *)&o;
    ck_assert_int_eq(sc_op_seal(&T.env, KP, &OP, &o, &err), SC_ERR_MALFORMED);
    ck_assert_int_eq(err.reason, BAD_FIELD);
    ck_assert_ptr_null(o);
    /* An op over the size limit: 500 items of 200 bytes is ~100 KiB. */
    build(SCPB__OP__BODY_TEMPLATE_PUBLISH);
    TEMPLATE.n_items = SC_TEMPLATE_ITEMS_MAX;
    for (size_t i = 0; i < SC_TEMPLATE_ITEMS_MAX; i++)
        ITEM_V[i].text = long_str(200);
    ck_assert_int_eq(sc_op_check(&OP, &err), SC_OK);
    o = (sc_op *)&o;
    ck_assert_int_eq(sc_op_seal(&T.env, KP, &OP, &o, &err), SC_ERR_TOO_LARGE);
    ck_assert_int_eq(err.reason, SCPB__REASON__REASON_TOO_LARGE);
    ck_assert_ptr_null(o);
    ck_assert_int_eq(T.live, 0);
}
END_TEST

/* ---- the wire ---- */

static uint8_t *sealed_bytes(Scpb__Op__BodyCase kind, size_t *len)
{
    sc_err err;
    sc_op *o = NULL;
    build(kind);
    ck_assert_int_eq(sc_op_seal(&T.env, KP, &OP, &o, &err), SC_OK);
    uint8_t *copy = malloc(o->signed_len);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, o->signed_bytes, o->signed_len);
    *len = o->signed_len;
    sc_op_free(&T.env, o);
    return copy;
}

START_TEST(oversized_refused_before_unpacking)
{
    size_t len = SC_SIGNED_OP_MAX_BYTES + 1;
    uint8_t *big = calloc(1, len);
    ck_assert_ptr_nonnull(big);
    /* Every allocation would fail: a TOO_LARGE answer proves none was tried. */
    sct_env_fail_at(&T, 1, 1);
    expect_open_fails(big, len, SC_ERR_TOO_LARGE, SCPB__REASON__REASON_TOO_LARGE, "at most");
    ck_assert_uint_eq(T.allocs, 0);
    sct_env_fail_at(&T, 0, 0);
    free(big);

    /* An envelope within its limit whose op is over the op limit. */
    size_t op_len = SC_OP_MAX_BYTES + 1, n;
    uint8_t *op = calloc(1, op_len);
    uint8_t sig[SC_SIG_LEN] = {0};
    uint8_t *env = wrap(op, op_len, sig, sizeof sig, &n);
    ck_assert_uint_le(n, SC_SIGNED_OP_MAX_BYTES);
    expect_open_fails(env, n, SC_ERR_TOO_LARGE, SCPB__REASON__REASON_TOO_LARGE, "op is");
    free(op);
    free(env);
}
END_TEST

START_TEST(truncated)
{
    size_t len;
    uint8_t *buf = sealed_bytes(SCPB__OP__BODY_FINDING_CREATE, &len);
    for (size_t cut = 0; cut < len; cut++)
        expect_open_fails(buf, cut, SC_ERR_MALFORMED, MALFORMED, NULL);
    free(buf);
}
END_TEST

START_TEST(garbage)
{
    uint8_t seed[randombytes_SEEDBYTES] = {7};
    uint8_t buf[512];
    for (uint32_t i = 0; i < 3000; i++) {
        memcpy(seed + 16, &i, sizeof i);
        randombytes_buf_deterministic(buf, sizeof buf, seed);
        size_t len = (size_t)buf[0] << 1 | (buf[1] & 1);
        /* Half the inputs start like a SignedOp (field 1, length-delimited). */
        if (i % 2 == 0 && len > 2) {
            buf[0] = 0x0a;
            buf[1] = (uint8_t)(len - 2 < 0x7f ? len - 2 : 0x7f);
        }
        sc_op *o = (sc_op *)&o;
        sc_err err;
        sc_status rc = sc_op_open(&T.env, buf, len, SC_OP_VERIFY, &o, &err);
        if (rc == SC_OK)
            ck_abort_msg("garbage %u opened", i);
        if (rc != SC_ERR_MALFORMED || o != NULL || T.live != 0)
            ck_abort_msg("garbage %u: %s (%s)", i, sc_status_name(rc), err.msg);
    }
}
END_TEST

START_TEST(every_changed_byte_refused)
{
    /* Nothing in a sealed op can change unnoticed: the envelope is
     * canonical, and the op bytes and signature are tied by Ed25519. */
    size_t len;
    uint8_t *buf = sealed_bytes(SCPB__OP__BODY_ITEM_RESULT, &len);
    static const uint8_t flips[] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < len; i++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            buf[i] ^= flips[f];
            sc_op *o = NULL;
            sc_err err;
            sc_status rc = sc_op_open(&T.env, buf, len, SC_OP_VERIFY, &o, &err);
            if (rc == SC_OK || o != NULL || T.live != 0)
                ck_abort_msg("byte %zu ^ 0x%02x: %s", i, flips[f], sc_status_name(rc));
            buf[i] ^= flips[f];
        }
    }
    free(buf);
}
END_TEST

START_TEST(bad_signature)
{
    size_t len;
    uint8_t *buf = sealed_bytes(SCPB__OP__BODY_NOTE, &len);
    /* The signature is the last 64 bytes of the envelope. */
    buf[len - 10] ^= 0x20;
    expect_open_fails(buf, len, SC_ERR_BAD_SIGNATURE, SCPB__REASON__REASON_BAD_SIGNATURE,
                      "signature does not match");
    /* Without SC_OP_VERIFY the structure alone is judged. */
    sc_op *o = NULL;
    sc_err err;
    ck_assert_int_eq(sc_op_open(&T.env, buf, len, 0, &o, &err), SC_OK);
    sc_op_free(&T.env, o);
    free(buf);

    /* An op naming another device as author, signed with this key. */
    sc_keypair *other = sct_key(2);
    build(SCPB__OP__BODY_NOTE);
    OP.author = bin(sc_keypair_public(other), SC_KEY_LEN);
    size_t n, sn;
    uint8_t *bytes = pack_op(&OP, &n);
    uint8_t *env = sign_wrap(bytes, n, &sn);
    expect_open_fails(env, sn, SC_ERR_BAD_SIGNATURE, SCPB__REASON__REASON_BAD_SIGNATURE, NULL);
    free(bytes);
    free(env);
    sc_keypair_free(other);
}
END_TEST

/* sc_op_verify: the signature check of SC_OP_VERIFY on an op opened without it, same verdicts. */
START_TEST(verify_after_open)
{
    size_t len;
    uint8_t *buf = sealed_bytes(SCPB__OP__BODY_NOTE, &len);
    uint8_t *scratch = malloc(SC_OP_VERIFY_SCRATCH);
    ck_assert_ptr_nonnull(scratch);
    sc_op *o = NULL;
    sc_err err;
    ck_assert_int_eq(sc_op_open(&T.env, buf, len, 0, &o, &err), SC_OK);
    sc_err_clear(&err);
    ck_assert_int_eq(sc_op_verify(o, scratch, SC_OP_VERIFY_SCRATCH, &err), SC_OK);
    /* A scratch buffer too small for the domain and the op is refused, not overrun. */
    ck_assert_int_eq(sc_op_verify(o, scratch, o->op_len, &err), SC_ERR_INVALID_ARG);
    sc_op_free(&T.env, o);

    /* A flipped signature bit: the same code, reason and message as sc_op_open's. */
    buf[len - 10] ^= 0x20;
    sc_err want;
    sc_err_clear(&want);
    o = NULL;
    ck_assert_int_eq(sc_op_open(&T.env, buf, len, SC_OP_VERIFY, &o, &want), SC_ERR_BAD_SIGNATURE);
    ck_assert_ptr_null(o);
    ck_assert_int_eq(sc_op_open(&T.env, buf, len, 0, &o, &err), SC_OK);
    sc_err_clear(&err);
    ck_assert_int_eq(sc_op_verify(o, scratch, SC_OP_VERIFY_SCRATCH, &err), SC_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(err.reason, want.reason);
    ck_assert_str_eq(err.msg, want.msg);
    sc_op_free(&T.env, o);
    ck_assert_int_eq(sc_op_verify(NULL, scratch, SC_OP_VERIFY_SCRATCH, &err), SC_ERR_INVALID_ARG);
    free(scratch);
    free(buf);
}
END_TEST

START_TEST(envelope_shape)
{
    size_t n, sn;
    build(SCPB__OP__BODY_NOTE);
    uint8_t *bytes = pack_op(&OP, &n);
    uint8_t sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(NULL, KP, SC_DOMAIN_OP, bytes, n, sig), SC_OK);
    uint8_t *env = wrap(bytes, n, sig, 63, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "signature is not 64 bytes");
    free(env);
    env = wrap(bytes, n, NULL, 0, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "signature is not 64 bytes");
    free(env);
    env = wrap(NULL, 0, sig, sizeof sig, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "op missing");
    free(env);
    /* Empty input is an empty SignedOp: no op. */
    expect_open_fails((const uint8_t *)"", 0, SC_ERR_MALFORMED, MALFORMED, "op missing");
    /* An empty op is an Op without a version. */
    uint8_t esig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(NULL, KP, SC_DOMAIN_OP, NULL, 0, esig), SC_OK);
    env = wrap((const uint8_t *)"", 0, esig, sizeof esig, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "op.version: missing");
    free(env);
    /* Unknown flags are refused rather than ignored. */
    sc_op *o = NULL;
    sc_err err;
    env = sign_wrap(bytes, n, &sn);
    ck_assert_int_eq(sc_op_open(&T.env, env, sn, 0x80, &o, &err), SC_ERR_INVALID_ARG);
    ck_assert_ptr_null(o);
    free(env);
    free(bytes);
}
END_TEST

START_TEST(unknown_fields)
{
    size_t n, sn, xn;
    uint8_t extra[16];
    /* In the op: field 99, varint 1. */
    build(SCPB__OP__BODY_NOTE);
    uint8_t *bytes = pack_op(&OP, &n);
    size_t e = put_varint(extra, 99 << 3 | 0);
    extra[e++] = 0x01;
    uint8_t *op = concat(bytes, n, extra, e, &xn);
    uint8_t *env = sign_wrap(op, xn, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "op: unknown field");
    free(op);
    free(env);

    /* In the body, one level down: Note{text "a", field 9 varint 1}. */
    OP.body_case = SCPB__OP__BODY__NOT_SET;
    uint8_t *head = pack_op(&OP, &n);
    static const uint8_t note_body[] = {0x0a, 0x01, 'a', 9 << 3 | 0, 0x01};
    e = put_varint(extra, 51 << 3 | 2);
    extra[e++] = sizeof note_body;
    uint8_t *with_tag = concat(head, n, extra, e, &xn);
    op = concat(with_tag, xn, note_body, sizeof note_body, &xn);
    env = sign_wrap(op, xn, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "op: unknown field");
    free(op);
    free(env);
    /* The same body without the unknown field opens: the test is fair. */
    op = concat(head, n, extra, e, &xn);
    op[xn - 1] = 3; /* the body is now 3 bytes */
    uint8_t *good = concat(op, xn, note_body, 3, &xn);
    env = sign_wrap(good, xn, &sn);
    sc_op *o = NULL;
    sc_err err;
    ck_assert_msg(sc_op_open(&T.env, env, sn, SC_OP_VERIFY, &o, &err) == SC_OK, "%s", err.msg);
    ck_assert_str_eq(o->op->note->text, "a");
    sc_op_free(&T.env, o);
    free(good);
    free(op);
    free(env);
    free(with_tag);
    free(head);

    /* In a nested message two levels down: resolve.result. */
    build(SCPB__OP__BODY_RESOLVE);
    RESULT_V[0].base.n_unknown_fields = 0;
    /* Field 15: ItemResult has no such field (7 became the deduction). */
    ProtobufCMessageUnknownField unk = {15, PROTOBUF_C_WIRE_TYPE_VARINT, 1, (uint8_t *)"\x01"};
    RESULT_V[0].base.unknown_fields = &unk;
    RESULT_V[0].base.n_unknown_fields = 1; /* protobuf-c packs it back out */
    uint8_t *nested = pack_op(&OP, &n);
    env = sign_wrap(nested, n, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "op: unknown field");
    free(nested);
    free(env);

    /* In the envelope: field 3. */
    build(SCPB__OP__BODY_NOTE);
    free(bytes);
    bytes = pack_op(&OP, &n);
    env = sign_wrap(bytes, n, &sn);
    static const uint8_t env_extra[] = {3 << 3 | 0, 0x01};
    uint8_t *env2 = concat(env, sn, env_extra, sizeof env_extra, &xn);
    expect_open_fails(env2, xn, SC_ERR_MALFORMED, MALFORMED, "signed op: unknown field");
    free(env2);
    free(env);
    free(bytes);
}
END_TEST

START_TEST(non_canonical)
{
    size_t n, sn, xn, hn;
    uint8_t extra[16];
    /* A string with a NUL inside: protobuf-c would show "ab", the log would
     * hold "ab\0cd". */
    build(SCPB__OP__BODY_NOTE);
    OP.body_case = SCPB__OP__BODY__NOT_SET;
    uint8_t *head = pack_op(&OP, &hn);
    static const uint8_t nul_body[] = {0x0a, 0x05, 'a', 'b', 0x00, 'c', 'd'};
    size_t e = put_varint(extra, 51 << 3 | 2);
    extra[e++] = sizeof nul_body;
    uint8_t *tagged = concat(head, hn, extra, e, &xn);
    uint8_t *op = concat(tagged, xn, nul_body, sizeof nul_body, &n);
    uint8_t *env = sign_wrap(op, n, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "not in canonical form");
    free(op);
    free(env);
    free(tagged);
    free(head);

    /* A field given twice (the second wins in protobuf-c, silently). */
    build(SCPB__OP__BODY_NOTE);
    uint8_t *bytes = pack_op(&OP, &n);
    static const uint8_t again[] = {0x08, 0x01};
    op = concat(bytes, n, again, sizeof again, &xn);
    env = sign_wrap(op, xn, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "not in canonical form");
    free(op);
    free(env);
    free(bytes);

    /* A padded varint: version 1 written in two bytes. */
    build(SCPB__OP__BODY_NOTE);
    OP.has_version = 0;
    bytes = pack_op(&OP, &n);
    static const uint8_t padded[] = {0x08, 0x81, 0x00};
    op = concat(padded, sizeof padded, bytes, n, &xn);
    env = sign_wrap(op, xn, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "not in canonical form");
    free(op);
    free(env);
    free(bytes);

    /* The envelope too: the op field given twice. */
    build(SCPB__OP__BODY_NOTE);
    bytes = pack_op(&OP, &n);
    env = sign_wrap(bytes, n, &sn);
    uint8_t *twice = concat(env, sn, env, sn, &xn);
    expect_open_fails(twice, xn, SC_ERR_MALFORMED, MALFORMED, "signed op: not in canonical");
    free(twice);
    free(env);
    free(bytes);
}
END_TEST

/* Index of needle in hay, which must hold it exactly once. */
static size_t find_once(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0) {
            ck_assert_msg(at == SIZE_MAX, "the bytes occur twice");
            at = i;
        }
    ck_assert_msg(at != SIZE_MAX, "the bytes do not occur");
    return at;
}

/*
 * Fields in another order than the schema's: protobuf-c decodes them to the
 * same op, and the re-encoding has the same length, so only a comparison
 * of every byte tells them apart.  Each variant is properly signed, so the
 * signature cannot be what refuses it.
 */
START_TEST(reordered_fields)
{
    size_t n, sn, xn;
    build(SCPB__OP__BODY_NOTE);
    uint8_t *bytes = pack_op(&OP, &n);
    /* The canonical bytes open: the variants below differ only in order. */
    uint8_t *env = sign_wrap(bytes, n, &sn);
    sc_op *o = NULL;
    sc_err err;
    ck_assert_msg(sc_op_open(&T.env, env, sn, SC_OP_VERIFY, &o, &err) == SC_OK, "%s", err.msg);
    uint8_t id[SC_HASH_LEN];
    memcpy(id, o->id, SC_HASH_LEN);
    sc_op_free(&T.env, o);
    free(env);

    /* Top level: the version field (the first, 08 01) moved to the end. */
    ck_assert_uint_eq(bytes[0], 0x08);
    ck_assert_uint_eq(bytes[1], 0x01);
    uint8_t *moved = concat(bytes + 2, n - 2, bytes, 2, &xn);
    ck_assert_uint_eq(xn, n);
    Scpb__Op *same = scpb__op__unpack(NULL, xn, moved);
    ck_assert_ptr_nonnull(same); /* protobuf-c takes it as the same op */
    ck_assert_uint_eq(scpb__op__get_packed_size(same), n);
    scpb__op__free_unpacked(same, NULL);
    env = sign_wrap(moved, xn, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "op: not in canonical form");
    free(env);
    free(moved);

    /* Nested: the geo's latitude and longitude swapped inside the op. */
    uint8_t geo[64];
    size_t gn = scpb__geo__get_packed_size(&GEO);
    ck_assert_uint_le(gn, sizeof geo);
    scpb__geo__pack(&GEO, geo);
    size_t at = find_once(bytes, n, geo, gn);
    size_t lat = 1 + 5, lon = 1 + 5; /* tag and a 5-byte zigzag varint each (3e8 and 2.4e9) */
    ck_assert_uint_eq(geo[0], 0x08);
    ck_assert_uint_eq(geo[lat], 0x10);
    uint8_t *swapped = malloc(n);
    memcpy(swapped, bytes, n);
    xn = n;
    memcpy(swapped + at, geo + lat, lon);
    memcpy(swapped + at + lon, geo, lat);
    ck_assert_mem_ne(swapped, bytes, n);
    env = sign_wrap(swapped, xn, &sn);
    expect_open_fails(env, sn, SC_ERR_MALFORMED, MALFORMED, "op: not in canonical form");
    free(env);
    free(swapped);

    /* The envelope: the signature before the op. */
    uint8_t sig[SC_SIG_LEN];
    ck_assert_int_eq(sc_sign(NULL, KP, SC_DOMAIN_OP, bytes, n, sig), SC_OK);
    uint8_t *canon = wrap(bytes, n, sig, sizeof sig, &sn);
    size_t on, fn;
    uint8_t *sig_only = wrap(NULL, 0, sig, sizeof sig, &xn);
    uint8_t *op_only = wrap(bytes, n, NULL, 0, &on);
    uint8_t *flipped = concat(sig_only, xn, op_only, on, &fn);
    ck_assert_uint_eq(fn, sn);
    ck_assert_mem_ne(flipped, canon, sn);
    expect_open_fails(flipped, fn, SC_ERR_MALFORMED, MALFORMED, "signed op: not in canonical form");
    /* Nothing in between: the canonical envelope of the same bytes opens, under the same id. */
    ck_assert_int_eq(sc_op_open(&T.env, canon, sn, SC_OP_VERIFY, &o, &err), SC_OK);
    ck_assert_mem_eq(o->id, id, SC_HASH_LEN);
    sc_op_free(&T.env, o);
    free(flipped);
    free(op_only);
    free(sig_only);
    free(canon);
    free(bytes);
}
END_TEST

static void alloc_failures(Scpb__Op__BodyCase kind, int fail_all)
{
    size_t len;
    uint8_t *buf = sealed_bytes(kind, &len);
    uint64_t i;
    for (i = 1;; i++) {
        ck_assert_uint_lt(i, 10000);
        sct_env_fail_at(&T, i, fail_all);
        sc_op *o = (sc_op *)&o;
        sc_err err;
        sc_status rc = sc_op_open(&T.env, buf, len, SC_OP_VERIFY, &o, &err);
        if (rc == SC_OK) {
            sc_op_free(&T.env, o);
            ck_assert_int_eq(T.live, 0);
            break;
        }
        ck_assert_msg(rc == SC_ERR_NOMEM, "allocation %llu: %s (%s)", (unsigned long long)i,
                      sc_status_name(rc), err.msg);
        ck_assert_int_eq(err.code, SC_ERR_NOMEM);
        ck_assert_ptr_null(o);
        ck_assert_msg(T.live == 0, "allocation %llu: %lld blocks leaked", (unsigned long long)i,
                      (long long)T.live);
    }
    /* A template with items, a resolve with nested messages: many steps. */
    ck_assert_uint_gt(i, 4);
    sct_env_fail_at(&T, 0, 0);
    free(buf);
}

START_TEST(open_allocation_failures)
{
    alloc_failures(SCPB__OP__BODY_TEMPLATE_PUBLISH, 0);
    alloc_failures(SCPB__OP__BODY_TEMPLATE_PUBLISH, 1);
    alloc_failures(SCPB__OP__BODY_RESOLVE, 0);
    alloc_failures(SCPB__OP__BODY_NOTE, 1);
}
END_TEST

START_TEST(seal_allocation_failures)
{
    for (uint64_t i = 1;; i++) {
        ck_assert_uint_lt(i, 10000);
        build(SCPB__OP__BODY_FINDING_CREATE);
        sct_env_fail_at(&T, i, 0);
        sc_op *o = (sc_op *)&o;
        sc_err err;
        sc_status rc = sc_op_seal(&T.env, KP, &OP, &o, &err);
        if (rc == SC_OK) {
            sc_op_free(&T.env, o);
            ck_assert_int_eq(T.live, 0);
            break;
        }
        ck_assert_int_eq(rc, SC_ERR_NOMEM);
        ck_assert_ptr_null(o);
        ck_assert_int_eq(T.live, 0);
    }
}
END_TEST

START_TEST(kind_tables)
{
    static const struct {
        Scpb__Op__BodyCase kind;
        Scpb__EntityType type; /* 0: several */
        bool create;
    } want[] = {
        {K(ORG_CREATE), SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, true},
        {K(TARGET_CREATE), SCPB__ENTITY_TYPE__ENTITY_TARGET, true},
        {K(USER_CREATE), SCPB__ENTITY_TYPE__ENTITY_USER, true},
        {K(DEVICE_ENROLL), SCPB__ENTITY_TYPE__ENTITY_DEVICE, true},
        {K(DEVICE_REVOKE), SCPB__ENTITY_TYPE__ENTITY_DEVICE, false},
        {K(USER_DISABLE), SCPB__ENTITY_TYPE__ENTITY_USER, false},
        {K(USER_ENABLE), SCPB__ENTITY_TYPE__ENTITY_USER, false},
        {K(USER_ROLE), SCPB__ENTITY_TYPE__ENTITY_USER, false},
        {K(TEMPLATE_PUBLISH), SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, true},
        {K(ASSIGNMENT_CREATE), SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT, true},
        {K(INSPECTION_OPEN), SCPB__ENTITY_TYPE__ENTITY_INSPECTION, true},
        {K(ITEM_RESULT), SCPB__ENTITY_TYPE__ENTITY_INSPECTION, false},
        {K(INSPECTION_SUBMIT), SCPB__ENTITY_TYPE__ENTITY_INSPECTION, false},
        {K(INSPECTION_AMEND), SCPB__ENTITY_TYPE__ENTITY_INSPECTION, false},
        {K(FINDING_CREATE), SCPB__ENTITY_TYPE__ENTITY_FINDING, true},
        {K(FIELD_EDIT), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(RECTIFICATION_REPORT), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(REVISIT), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(CLOSURE), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(REOPEN), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(PHOTO_ATTACH), 0, false},
        {K(NOTE), 0, false},
        {K(VOID_RECORD), 0, false},
        {K(RESOLVE), 0, false},
        {K(NOTICE), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(SIGN_FOR), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(PLAN), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(PLAN_RETURN), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(EXTENSION_REQUEST), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(EXTENSION_DECISION), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(DEADLINE_CHANGE), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(ORG_POLICY), SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, false},
        {K(ESCALATION), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(STOP_WORK), SCPB__ENTITY_TYPE__ENTITY_FINDING, false},
        {K(SIGN_OFF), SCPB__ENTITY_TYPE__ENTITY_INSPECTION, false},
        {K(COUNTERSIGN), SCPB__ENTITY_TYPE__ENTITY_INSPECTION, false},
    };
    ck_assert_uint_eq(sizeof want / sizeof want[0], sc_names_op_kind.n);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        Scpb__EntityType t = (Scpb__EntityType)77;
        bool single = sc_op_kind_entity(want[i].kind, &t);
        ck_assert_int_eq(single, want[i].type != 0);
        ck_assert_int_eq(t, single ? want[i].type : 77); /* unchanged when several */
        ck_assert_int_eq(sc_op_kind_is_create(want[i].kind), want[i].create);
        for (int type = -1; type <= 10; type++) {
            bool applies = sc_op_kind_applies(want[i].kind, (Scpb__EntityType)type);
            if (want[i].type != 0)
                ck_assert_int_eq(applies, type == (int)want[i].type);
        }
    }
    /* The multi-type kinds. */
    const Scpb__EntityType A = SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT,
                           I = SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                           F = SCPB__ENTITY_TYPE__ENTITY_FINDING,
                           U = SCPB__ENTITY_TYPE__ENTITY_USER;
    ck_assert(!sc_op_kind_applies(K(PHOTO_ATTACH), A));
    ck_assert(sc_op_kind_applies(K(PHOTO_ATTACH), I) && sc_op_kind_applies(K(PHOTO_ATTACH), F));
    ck_assert(sc_op_kind_applies(K(NOTE), A) && sc_op_kind_applies(K(NOTE), I) &&
              sc_op_kind_applies(K(NOTE), F) && !sc_op_kind_applies(K(NOTE), U));
    ck_assert(sc_op_kind_applies(K(VOID_RECORD), A) && sc_op_kind_applies(K(VOID_RECORD), I) &&
              sc_op_kind_applies(K(VOID_RECORD), F) && !sc_op_kind_applies(K(VOID_RECORD), U));
    ck_assert(!sc_op_kind_applies(K(RESOLVE), A));
    ck_assert(sc_op_kind_applies(K(RESOLVE), I) && sc_op_kind_applies(K(RESOLVE), F));
    /* Nothing applies for an unknown kind or type. */
    Scpb__EntityType t = (Scpb__EntityType)77;
    ck_assert(!sc_op_kind_entity(SCPB__OP__BODY__NOT_SET, &t));
    ck_assert(!sc_op_kind_entity((Scpb__Op__BodyCase)99, &t));
    ck_assert_int_eq(t, 77);
    ck_assert(!sc_op_kind_applies(SCPB__OP__BODY__NOT_SET, F));
    ck_assert(!sc_op_kind_applies(K(NOTE), SCPB__ENTITY_TYPE__ENTITY_UNSPECIFIED));
    ck_assert(!sc_op_kind_applies(K(NOTE), (Scpb__EntityType)1000));
    ck_assert(!sc_op_kind_is_create(SCPB__OP__BODY__NOT_SET));
}
END_TEST

START_TEST(utf8)
{
    static const struct {
        const char *s;
        size_t len;
        bool ok;
    } cases[] = {
        {"", 0, true},
        {"plain ascii", 11, true},
        {"\xc2\x80", 2, true},         /* U+0080 */
        {"\xdf\xbf", 2, true},         /* U+07FF */
        {"\xe0\xa0\x80", 3, true},     /* U+0800 */
        {"\xed\x9f\xbf", 3, true},     /* U+D7FF */
        {"\xee\x80\x80", 3, true},     /* U+E000 */
        {"\xef\xbf\xbf", 3, true},     /* U+FFFF */
        {"\xf0\x90\x80\x80", 4, true}, /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 4, true}, /* U+10FFFF */
        {"检查", 6, true},
        {"a\0b", 3, false},                 /* NUL */
        {"\xc0\x80", 2, false},             /* overlong NUL */
        {"\xc1\xbf", 2, false},             /* overlong */
        {"\xe0\x9f\xbf", 3, false},         /* overlong */
        {"\xf0\x8f\xbf\xbf", 4, false},     /* overlong */
        {"\xed\xa0\x80", 3, false},         /* U+D800 */
        {"\xed\xbf\xbf", 3, false},         /* U+DFFF */
        {"\xf4\x90\x80\x80", 4, false},     /* U+110000 */
        {"\xf8\x88\x80\x80\x80", 5, false}, /* five bytes */
        {"\x80", 1, false},                 /* lone continuation */
        {"\xe6\xa3", 2, false},             /* cut */
        {"\xe6\xa3x", 3, false},            /* interrupted */
        {"\xfe", 1, false},
        {"\xff", 1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(sc_utf8_valid(cases[i].s, cases[i].len) == cases[i].ok, "case %zu", i);
    /* The length bounds the scan: a cut inside the buffer is seen. */
    ck_assert(sc_utf8_valid("检查", 3));
    ck_assert(!sc_utf8_valid("检查", 4));
}
END_TEST

/* ---- fuzz seeds ---- */

static const Scpb__Op__BodyCase SEED_KINDS[] = {
    K(ORG_CREATE),   K(TEMPLATE_PUBLISH), K(ASSIGNMENT_CREATE), K(INSPECTION_OPEN),
    K(ITEM_RESULT),  K(INSPECTION_AMEND), K(FINDING_CREATE),    K(FIELD_EDIT),
    K(PHOTO_ATTACH), K(RESOLVE),
};

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    uint8_t *buf = malloc(SC_SIGNED_OP_MAX_BYTES + 1);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, SC_SIGNED_OP_MAX_BYTES + 1, f);
    fclose(f);
    return buf;
}

/*
 * The seeds under tests/fuzz/corpus/op_open are sealed ops of several kinds.
 * With SC_WRITE_FUZZ_SEEDS=<dir> in the environment this test writes them
 * there (run once, commit the files); otherwise it checks that the committed
 * ones still open and verify, so a schema change cannot quietly turn the
 * corpus into garbage.
 */
START_TEST(fuzz_seeds)
{
    const char *out_dir = getenv("SC_WRITE_FUZZ_SEEDS");
    for (size_t i = 0; i < sizeof SEED_KINDS / sizeof SEED_KINDS[0]; i++) {
        const char *name = sc_name_of(&sc_names_op_kind, SEED_KINDS[i]);
        char path[1024];
        size_t len;
        if (out_dir) {
            uint8_t *buf = sealed_bytes(SEED_KINDS[i], &len);
            snprintf(path, sizeof path, "%s/%s.op", out_dir, name);
            FILE *f = fopen(path, "wb");
            ck_assert_msg(f != NULL, "cannot write %s", path);
            ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
            ck_assert_int_eq(fclose(f), 0);
            free(buf);
            continue;
        }
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/op_open/%s.op", SC_SOURCE_DIR, name);
        uint8_t *buf = read_file(path, &len);
        sc_op *o = NULL;
        sc_err err;
        ck_assert_msg(sc_op_open(&T.env, buf, len, SC_OP_VERIFY, &o, &err) == SC_OK, "%s: %s", path,
                      err.msg);
        ck_assert_int_eq(o->op->body_case, SEED_KINDS[i]);
        sc_op_free(&T.env, o);
        free(buf);
    }
}
END_TEST

/* The photos each kind of op names (what syncd indexes to decide who may read a photo). */
START_TEST(photos_named)
{
    uint8_t h[4][SC_HASH_LEN];
    for (int i = 0; i < 4; i++)
        memset(h[i], 0x10 + i, SC_HASH_LEN);
    ProtobufCBinaryData list[3] = {{SC_HASH_LEN, h[1]}, {SC_HASH_LEN, h[2]}, {SC_HASH_LEN, h[3]}};
    const ProtobufCBinaryData *got = NULL;
    Scpb__Op op = SCPB__OP__INIT;
    Scpb__PhotoAttach pa = SCPB__PHOTO_ATTACH__INIT;
    op.body_case = SCPB__OP__BODY_PHOTO_ATTACH;
    op.photo_attach = &pa;
    ck_assert_uint_eq(sc_op_photos(&op, &got), 0); /* no hash */
    ck_assert_ptr_null(got);
    pa.has_sha256 = true;
    pa.sha256 = (ProtobufCBinaryData){SC_HASH_LEN, h[0]};
    ck_assert_uint_eq(sc_op_photos(&op, &got), 1);
    ck_assert_mem_eq(got[0].data, h[0], SC_HASH_LEN);
    Scpb__FindingCreate fc = SCPB__FINDING_CREATE__INIT;
    fc.n_evidence = 2;
    fc.evidence = list;
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &fc;
    ck_assert_uint_eq(sc_op_photos(&op, &got), 2);
    ck_assert_ptr_eq(got, list);
    Scpb__RectificationReport rr = SCPB__RECTIFICATION_REPORT__INIT;
    rr.n_evidence = 1;
    rr.evidence = list + 2;
    op.body_case = SCPB__OP__BODY_RECTIFICATION_REPORT;
    op.rectification_report = &rr;
    ck_assert_uint_eq(sc_op_photos(&op, &got), 1);
    ck_assert_mem_eq(got[0].data, h[3], SC_HASH_LEN);
    Scpb__Revisit rv = SCPB__REVISIT__INIT;
    rv.n_evidence = 3;
    rv.evidence = list;
    op.body_case = SCPB__OP__BODY_REVISIT;
    op.revisit = &rv;
    ck_assert_uint_eq(sc_op_photos(&op, &got), 3);
    Scpb__InspectionSubmit is = SCPB__INSPECTION_SUBMIT__INIT;
    is.n_photos = 3;
    is.photos = list;
    op.body_case = SCPB__OP__BODY_INSPECTION_SUBMIT;
    op.inspection_submit = &is;
    ck_assert_uint_eq(sc_op_photos(&op, &got), 3);
    ck_assert_mem_eq(got[2].data, h[3], SC_HASH_LEN);
    /* Every other kind names none. */
    Scpb__Note note = SCPB__NOTE__INIT;
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &note;
    ck_assert_uint_eq(sc_op_photos(&op, &got), 0);
    ck_assert_ptr_null(got);
}
END_TEST

/*
 * Text a terminal would act on: C0 controls (newline, tab, ESC), DEL and C1
 * controls (U+009B is CSI) are found; CJK and other text is not.  Shown,
 * newlines and tabs become spaces, the rest and bytes that are not UTF-8
 * '?', so a forged line or an escape sequence never reaches a terminal.
 */
START_TEST(terminal_text)
{
    static const struct {
        const char *in, *shown;
        bool control;
    } cases[] = {
        {"君安花园 plain", "君安花园 plain", false},
        {"", "", false},
        {"two\nlines\tand a tab", "two lines and a tab", true},
        {"\x1b[31mred\x1b]0;title\x07", "?[31mred?]0;title?", true},
        {"del\x7f c1\xc2\x9b" "31m", "del? c1?31m", true},
        {"not utf-8 \xff\xc3 end", "not utf-8 ?? end", false},
        {"\xc2\xa0nbsp", "\xc2\xa0nbsp", false},
    };
    for (size_t i = 0; i < SCT_COUNT(cases); i++) {
        ck_assert_msg(sc_text_has_control(cases[i].in, strlen(cases[i].in)) == cases[i].control,
                      "case %zu", i);
        char *out = sc_text_for_terminal(cases[i].in);
        ck_assert_ptr_nonnull(out);
        ck_assert_str_eq(out, cases[i].shown);
        free(out);
    }
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    const sct_case cases[] = {
        {"terminal_text", terminal_text},
        {"valid_ops_of_every_kind", valid_ops_of_every_kind},
        {"structural_rules", structural_rules},
        {"check_arguments", check_arguments},
        {"seal_refuses", seal_refuses},
        {"oversized_refused_before_unpacking", oversized_refused_before_unpacking},
        {"truncated", truncated},
        {"garbage", garbage},
        {"every_changed_byte_refused", every_changed_byte_refused},
        {"bad_signature", bad_signature},
        {"verify_after_open", verify_after_open},
        {"envelope_shape", envelope_shape},
        {"unknown_fields", unknown_fields},
        {"non_canonical", non_canonical},
        {"reordered_fields", reordered_fields},
        {"open_allocation_failures", open_allocation_failures},
        {"seal_allocation_failures", seal_allocation_failures},
        {"kind_tables", kind_tables},
        {"photos_named", photos_named},
        {"utf8", utf8},
        {"fuzz_seeds", fuzz_seeds},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown});
    return s;
}

int main(void)
{
    return sct_run(codec_suite());
}
