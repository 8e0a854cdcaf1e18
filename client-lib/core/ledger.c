/*
 * ledger.c: ledger rows from folded states (ledger.h).
 *
 * A row is built into one text arena (cell texts at offsets, pointed to
 * once the row is whole, since the arena may move while it grows), then
 * handed out with its CSV line; both buffers are reused by the next row.
 * Org units, targets, users and score sheets come through a state cache
 * (statecache.h).
 */
#include "ledger.h"

#include <stdio.h>
#include <string.h>

#include "date.h"
#include "governance.h"
#include "ids.h"
#include "names.h"
#include "op.pb-c.h"
#include "score.h"
#include "state.h"
#include "statecache.h"

/* ---- columns ---- */

typedef struct column {
    const char *zh, *en;
} column;

static const column finding_cols[FC_N] = {
    {"问题编号", "Finding"},          {"检查对象编码", "Target code"},
    {"检查对象", "Target"},           {"所属单位", "Unit"},
    {"隐患等级", "Grade"},            {"问题类别", "Category"},
    {"问题描述", "Description"},      {"问题来源", "Source"},
    {"检查类型", "Check kind"},       {"检查方式", "Disclosure"},
    {"发现日期", "Found"},            {"整改期限", "Deadline in force"},
    {"延期次数", "Extensions"},       {"责任单位", "Responsible unit"},
    {"责任人", "Responsible person"}, {"签收日期", "Signed for"},
    {"签收人", "Signed for by"},      {"状态", "Status"},
    {"整改日期", "Rectified"},        {"验收日期", "Accepted"},
    {"销号日期", "Closed"},           {"逾期天数", "Days overdue"},
    {"回头看次数", "Look-backs"},     {"反弹次数", "Reopens"},
    {"照片数", "Photos"},             {"记录编号", "Op id"},
};

enum {
    CC_ID, CC_TARGET_CODE, CC_TARGET, CC_UNIT, CC_KIND, CC_DISCLOSURE, CC_SELF_CHECK, CC_SHEET,
    CC_OPENED, CC_STATUS, CC_SUBMITTED, CC_SCORE, CC_MAX, CC_PASSED, CC_BAND, CC_FINDINGS,
    CC_PHOTOS, CC_AMENDS, CC_OP, CC_N
};

/* The most cells a row has (the findings' row is the wider). */
#define ROW_CELLS_MAX ((size_t)FC_N)

static const column check_cols[CC_N] = {
    {"检查编号", "Check"},        {"检查对象编码", "Target code"},
    {"检查对象", "Target"},       {"所属单位", "Unit"},
    {"检查类型", "Kind"},         {"检查方式", "Disclosure"},
    {"自查", "Self-check"},       {"评分表", "Score sheet"},
    {"检查日期", "Opened"},       {"状态", "Status"},
    {"提交日期", "Submitted"},    {"得分", "Score"},
    {"满分", "Out of"},           {"是否合格", "Passed"},
    {"等级", "Grade band"},       {"发现问题数", "Findings"},
    {"照片数", "Photos"},         {"修改次数", "Amendments"},
    {"记录编号", "Op id"},
};

/* Chinese names of the enums a row shows, by value (index); English is names.c's. */
static const char *const zh_grade[] = {NULL, "一般隐患", "重大隐患"};
static const char *const zh_status[] = {NULL, "待整改", "已报整改", "已复查", "已销号"};
static const char *const zh_check_status[] = {NULL, "草稿", "已提交"};
static const char *const zh_source[] = {NULL, "检查", "投诉", "热线", "意见", "监测"};
static const char *const zh_disclosure[] = {NULL, "明查", "暗访", "体验式"};
static const char *const zh_kind[] = {NULL,   "自查", "内部检查评比", "日常检查", "巡查", "督查",
                                      "抽查", "专项", "联合",         "交叉互检", "初审", "验收",
                                      "评定", "复查", "模拟",         "回头看",   "上门"};

_Static_assert((size_t)CC_N <= ROW_CELLS_MAX, "a checks row fits the row's cells");

#define ZH(t, v) ((v) >= 0 && (size_t)(v) < sizeof(t) / sizeof(t)[0] ? (t)[v] : NULL)

/* ---- the ledger ---- */

struct sc_ledger {
    const sc_env *env;
    sc_ledger_src src;
    sc_ledger_spec spec;
    sc_state_cache *cache; /* org units, targets, users, score sheets */
    /* Inspections recently looked up, by the id's random tail: findings come in id order, and
     * those of one check were made together, so few slots catch nearly every repeat. */
    struct {
        uint8_t id[SC_ID_LEN];
        Scpb__EntityState *st; /* NULL: the source had none */
        bool used;
    } insp[SC_LEDGER_INSPECTIONS];
    sc_ledger_cell cells[ROW_CELLS_MAX];
    size_t off[ROW_CELLS_MAX];
    size_t ncells;
    char *text; /* the row's cell texts */
    size_t text_len, text_cap;
    char *csv; /* its CSV line */
    size_t csv_cap;
    bool oom;
    sc_ledger_totals totals;
};

int sc_ledger_entity_type(const sc_ledger *lg)
{
    return lg->spec.checks ? SCPB__ENTITY_TYPE__ENTITY_INSPECTION : SCPB__ENTITY_TYPE__ENTITY_FINDING;
}

sc_status sc_ledger_new(const sc_env *env, const sc_ledger_src *src, const sc_ledger_spec *spec,
                        sc_ledger **out)
{
    *out = NULL;
    sc_ledger *lg = sc_calloc(env, 1, sizeof *lg);
    if (!lg)
        return SC_ERR_NOMEM;
    lg->env = env;
    lg->src = *src;
    lg->spec = *spec;
    if (sc_state_cache_new(env, src->state, src->ctx, &lg->cache) != SC_OK) {
        sc_free(env, lg);
        return SC_ERR_NOMEM;
    }
    *out = lg;
    return SC_OK;
}

void sc_ledger_free(sc_ledger *lg)
{
    if (!lg)
        return;
    sc_state_cache_free(lg->cache);
    for (size_t i = 0; i < SC_LEDGER_INSPECTIONS; i++)
        sc_state_free(lg->env, lg->insp[i].st);
    sc_free(lg->env, lg->text);
    sc_free(lg->env, lg->csv);
    sc_free(lg->env, lg);
}

void sc_ledger_totals_get(const sc_ledger *lg, sc_ledger_totals *out)
{
    size_t size = out->size;
    *out = lg->totals;
    out->size = size;
}

/* An org unit's, target's, user's or score sheet's state through the cache (*out NULL: none). */
static sc_status cached(sc_ledger *lg, const ProtobufCBinaryData *id, protobuf_c_boolean has,
                        const Scpb__EntityState **out, sc_err *err)
{
    return sc_state_cache_get(lg->cache, id, has, out, err);
}

/* The inspection a finding was found in (*out NULL: none or unknown). */
static sc_status inspection_of(sc_ledger *lg, const Scpb__FindingState *f,
                               const Scpb__InspectionState **out, sc_err *err)
{
    *out = NULL;
    if (!f->has_inspection || f->inspection.len != SC_ID_LEN)
        return SC_OK;
    const uint8_t *id = f->inspection.data;
    size_t k = ((size_t)id[14] << 8 | id[15]) % SC_LEDGER_INSPECTIONS;
    if (!lg->insp[k].used || memcmp(lg->insp[k].id, id, SC_ID_LEN) != 0) {
        sc_state_free(lg->env, lg->insp[k].st);
        lg->insp[k].st = NULL;
        lg->insp[k].used = false;
        sc_status s = lg->src.state(lg->src.ctx, id, &lg->insp[k].st);
        if (s != SC_OK && s != SC_ERR_NOT_FOUND)
            return sc_err_set(err, s, 0, "ledger: reading an inspection failed");
        memcpy(lg->insp[k].id, id, SC_ID_LEN);
        lg->insp[k].used = true;
    }
    const Scpb__EntityState *in = lg->insp[k].st;
    if (in && in->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION)
        *out = in->inspection;
    return SC_OK;
}

/* ---- cells ---- */

static void row_begin(sc_ledger *lg, size_t n)
{
    lg->ncells = n;
    lg->text_len = 0;
    for (size_t i = 0; i < n; i++) {
        lg->cells[i].type = SC_CELL_EMPTY;
        lg->cells[i].number = 0;
        lg->off[i] = SIZE_MAX;
    }
}

static void put_text(sc_ledger *lg, size_t col, const char *s)
{
    if (!s || !*s || lg->oom)
        return;
    size_t n = strlen(s);
    if (lg->text_len + n + 1 > lg->text_cap) {
        size_t cap = lg->text_cap ? lg->text_cap : 1024;
        while (cap < lg->text_len + n + 1)
            cap *= 2;
        char *nt = sc_realloc_array(lg->env, lg->text, cap, 1);
        if (!nt) {
            lg->oom = true;
            return;
        }
        lg->text = nt;
        lg->text_cap = cap;
    }
    memcpy(lg->text + lg->text_len, s, n + 1);
    lg->off[col] = lg->text_len;
    lg->text_len += n + 1;
    if (lg->cells[col].type == SC_CELL_EMPTY)
        lg->cells[col].type = SC_CELL_TEXT;
}

static void put_int(sc_ledger *lg, size_t col, long long v)
{
    char b[24];
    snprintf(b, sizeof b, "%lld", v);
    lg->cells[col].type = SC_CELL_INT;
    lg->cells[col].number = v;
    put_text(lg, col, b);
}

static void put_day(sc_ledger *lg, size_t col, int32_t day)
{
    char b[11];
    sc_date_format(day, b);
    lg->cells[col].type = SC_CELL_DATE;
    lg->cells[col].number = day;
    put_text(lg, col, b);
}

static void put_hlc_day(sc_ledger *lg, size_t col, uint64_t hlc, bool has)
{
    if (has && hlc)
        put_day(lg, col, sc_date_from_ms((int64_t)(hlc >> 16)));
}

static void put_hex(sc_ledger *lg, size_t col, const ProtobufCBinaryData *b, protobuf_c_boolean has)
{
    char hex[2 * SC_HASH_LEN + 1];
    if (has && b->len <= SC_HASH_LEN && sc_hex_encode(b->data, b->len, hex, sizeof hex) == SC_OK)
        put_text(lg, col, hex);
}

/* An enum's name: Chinese from zh (when the ledger is) or names.c's. */
static void put_name(sc_ledger *lg, size_t col, const sc_names *t, const char *zh, int v)
{
    put_text(lg, col, lg->spec.en || !zh ? sc_name_of(t, v) : zh);
}

static void put_yes(sc_ledger *lg, size_t col, bool yes)
{
    put_text(lg, col, lg->spec.en ? (yes ? "yes" : "no") : (yes ? "是" : "否"));
}

/* The code and name of a target, and the name of its org unit. */
static sc_status put_target(sc_ledger *lg, const ProtobufCBinaryData *id, protobuf_c_boolean has,
                            size_t code_col, sc_err *err)
{
    const Scpb__EntityState *t;
    sc_status s = cached(lg, id, has, &t, err);
    if (s != SC_OK || !t || t->kind_case != SCPB__ENTITY_STATE__KIND_TARGET)
        return s;
    put_text(lg, code_col, t->target->code);
    put_text(lg, code_col + 1, t->target->name);
    const Scpb__EntityState *o;
    if ((s = cached(lg, &t->target->org, t->target->has_org, &o, err)) != SC_OK)
        return s;
    if (o && o->kind_case == SCPB__ENTITY_STATE__KIND_ORG)
        put_text(lg, code_col + 2, o->org->name);
    return SC_OK;
}

/* Whether target id lies in the spec's org subtree (walking up at most SC_ORG_DEPTH_MAX). */
static sc_status in_org(sc_ledger *lg, const ProtobufCBinaryData *id, protobuf_c_boolean has,
                        bool *in, sc_err *err)
{
    *in = false;
    const Scpb__EntityState *t;
    sc_status s = cached(lg, id, has, &t, err);
    if (s != SC_OK || !t || t->kind_case != SCPB__ENTITY_STATE__KIND_TARGET)
        return s;
    ProtobufCBinaryData cur = t->target->org;
    protobuf_c_boolean has_cur = t->target->has_org;
    for (int depth = 0; depth < SC_ORG_DEPTH_MAX && has_cur && cur.len == SC_ID_LEN; depth++) {
        if (memcmp(cur.data, lg->spec.org, SC_ID_LEN) == 0) {
            *in = true;
            return SC_OK;
        }
        const Scpb__EntityState *o;
        if ((s = cached(lg, &cur, has_cur, &o, err)) != SC_OK)
            return s;
        if (!o || o->kind_case != SCPB__ENTITY_STATE__KIND_ORG)
            break;
        cur = o->org->parent;
        has_cur = o->org->has_parent;
    }
    return SC_OK;
}

static bool same(const ProtobufCBinaryData *b, protobuf_c_boolean has, const uint8_t id[SC_ID_LEN])
{
    return has && b->len == SC_ID_LEN && memcmp(b->data, id, SC_ID_LEN) == 0;
}

/* The filters every row shares: target, org subtree, period. */
static sc_status common_filters(sc_ledger *lg, const Scpb__EntityState *st,
                                const ProtobufCBinaryData *target, protobuf_c_boolean has,
                                bool *keep, sc_err *err)
{
    const sc_ledger_spec *sp = &lg->spec;
    *keep = !st->voided && (!sp->has_target || same(target, has, sp->target));
    if (*keep && sp->has_period) {
        int32_t day = sc_date_from_ms((int64_t)(st->created_hlc >> 16));
        *keep = day >= sp->from && day <= sp->to;
    }
    if (*keep && sp->has_org)
        return in_org(lg, target, has, keep, err);
    return SC_OK;
}

/* Distinct photos of a finding: attached ones and evidence, both sorted by SHA-256. */
static uint32_t photo_count(const Scpb__EntityState *st, const Scpb__FindingState *f)
{
    uint32_t n = (uint32_t)st->n_photos;
    for (size_t e = 0; e < (f ? f->n_evidence : 0); e++) {
        bool seen = false;
        for (size_t p = 0; p < st->n_photos && !seen; p++)
            seen = st->photos[p]->has_sha256 && st->photos[p]->sha256.len == f->evidence[e].len &&
                   memcmp(st->photos[p]->sha256.data, f->evidence[e].data, f->evidence[e].len) == 0;
        n += !seen;
    }
    return n;
}

/* ---- the findings' rows ---- */

typedef struct report_seek {
    const Scpb__EntityState *st;
    uint64_t hlc; /* the latest valid rectification report's (0: none) */
} report_seek;

static bool listed(const ProtobufCBinaryData *v, size_t n, const uint8_t op[SC_HASH_LEN])
{
    for (size_t i = 0; i < n; i++)
        if (v[i].len == SC_HASH_LEN && memcmp(v[i].data, op, SC_HASH_LEN) == 0)
            return true;
    return false;
}

static bool seek_report(void *ctx, const uint8_t op[SC_HASH_LEN], int kind, uint64_t hlc)
{
    report_seek *r = ctx;
    if (kind == SCPB__OP__BODY_RECTIFICATION_REPORT && hlc > r->hlc &&
        !listed(r->st->invalid_ops, r->st->n_invalid_ops, op) &&
        !listed(r->st->voided_ops, r->st->n_voided_ops, op))
        r->hlc = hlc;
    return true;
}

/* The governance columns: sign-for, the plan's person, acceptance, approved extensions. */
static sc_status finding_governance(sc_ledger *lg, const Scpb__GovernanceState *g, sc_err *err)
{
    if (!g)
        return SC_OK;
    unsigned approved = 0;
    for (size_t k = 0; k < g->n_extensions; k++)
        approved += g->extensions[k]->status == SCPB__EXTENSION_STATUS__EXTENSION_APPROVED;
    put_int(lg, FC_EXTENSIONS, approved);
    const Scpb__RectificationPlan *plan = g->plan && !g->plan->returned ? g->plan->plan : NULL;
    if (plan && plan->person_name && *plan->person_name) {
        put_text(lg, FC_PERSON, plan->person_name);
    } else if (plan) {
        /* A plan may name a user of the register instead: their name. */
        const Scpb__EntityState *u;
        sc_status s = cached(lg, &plan->person_user, plan->has_person_user, &u, err);
        if (s != SC_OK)
            return s;
        if (u && u->kind_case == SCPB__ENTITY_STATE__KIND_USER)
            put_text(lg, FC_PERSON, u->user->name && *u->user->name ? u->user->name : u->user->login);
    }
    put_hlc_day(lg, FC_SIGNED_FOR, g->signed_for_hlc, g->has_signed_for_hlc);
    if (g->has_signed_for_by && g->signed_for_by.len == SC_KEY_LEN) {
        char who[SC_NAME_MAX + 1] = "";
        sc_status s = lg->src.person(lg->src.ctx, g->signed_for_by.data, who, sizeof who);
        if (s != SC_OK)
            return sc_err_set(err, s, 0, "ledger: naming who signed for a finding failed");
        put_text(lg, FC_SIGNED_FOR_BY, who);
    }
    put_hlc_day(lg, FC_ACCEPTED, g->accepted_hlc, g->has_accepted_hlc);
    return SC_OK;
}

static sc_status finding_cells(sc_ledger *lg, const Scpb__EntityState *st,
                               const Scpb__FindingState *f, const Scpb__InspectionState *in,
                               sc_err *err)
{
    sc_status s;
    put_hex(lg, FC_ID, &st->id, st->has_id);
    if ((s = put_target(lg, &f->target, f->has_target, FC_TARGET_CODE, err)) != SC_OK)
        return s;
    put_name(lg, FC_GRADE, &sc_names_grade, ZH(zh_grade, (int)f->grade), f->grade);
    put_text(lg, FC_CATEGORY, f->category);
    put_text(lg, FC_DESCRIPTION, f->description);
    put_name(lg, FC_SOURCE, &sc_names_source, ZH(zh_source, (int)f->source), f->source);
    if (in) {
        put_name(lg, FC_KIND, &sc_names_kind, ZH(zh_kind, (int)in->kind), in->kind);
        put_name(lg, FC_DISCLOSURE, &sc_names_disclosure, ZH(zh_disclosure, (int)in->disclosure),
                 in->disclosure);
    }
    put_hlc_day(lg, FC_FOUND, st->created_hlc, st->has_created_hlc);
    if (f->has_deadline_day)
        put_day(lg, FC_DEADLINE, f->deadline_day);
    const Scpb__EntityState *r;
    if ((s = cached(lg, &f->responsible, f->has_responsible, &r, err)) != SC_OK)
        return s;
    if (r && r->kind_case == SCPB__ENTITY_STATE__KIND_ORG)
        put_text(lg, FC_RESPONSIBLE, r->org->name);
    if ((s = finding_governance(lg, f->governance, err)) != SC_OK)
        return s;
    put_name(lg, FC_STATUS, &sc_names_finding_status, ZH(zh_status, (int)f->status), f->status);
    /* A valid report moves an open finding on; only a failing revisit or a reopen (both
     * counted) brings it back.  So an open finding with neither has no report to look for. */
    report_seek rs = {st, 0};
    bool reported = f->status != SCPB__FINDING_STATUS__FINDING_OPEN || f->revisit_count ||
                    f->reopen_count;
    if (reported && (s = lg->src.ops(lg->src.ctx, st->id.data, seek_report, &rs)) != SC_OK)
        return sc_err_set(err, s, 0, "ledger: reading a finding's ops failed");
    put_hlc_day(lg, FC_RECTIFIED, rs.hlc, rs.hlc != 0);
    bool closed = f->status == SCPB__FINDING_STATUS__FINDING_CLOSED;
    if (closed)
        put_hlc_day(lg, FC_CLOSED, f->closed_hlc, f->has_closed_hlc);
    sc_gov_policy pol;
    sc_gov_policy_default(&pol);
    sc_gov_flags fl;
    sc_gov_flags_of(st, &pol, lg->spec.as_of, &fl);
    put_int(lg, FC_OVERDUE, fl.overdue_days);
    put_int(lg, FC_LOOK_BACKS, (long long)f->n_look_backs);
    put_int(lg, FC_REOPENS, f->reopen_count);
    uint32_t photos = photo_count(st, f);
    put_int(lg, FC_PHOTOS, photos);
    put_hex(lg, FC_OP, &f->status_op, f->has_status_op);
    lg->totals.major += f->grade == SCPB__GRADE__GRADE_MAJOR;
    lg->totals.closed += closed;
    lg->totals.open += !closed;
    lg->totals.overdue += !closed && fl.late_days > 0;
    lg->totals.photos += photos;
    return SC_OK;
}

static sc_status finding_row(sc_ledger *lg, const Scpb__EntityState *st, bool *keep, sc_err *err)
{
    const sc_ledger_spec *sp = &lg->spec;
    const Scpb__FindingState *f = st->finding;
    *keep = (sp->grade < 0 || (int)f->grade == sp->grade) &&
            (sp->status < 0 || (int)f->status == sp->status) &&
            (sp->source < 0 || (int)f->source == sp->source);
    sc_status s = SC_OK;
    if (*keep)
        s = common_filters(lg, st, &f->target, f->has_target, keep, err);
    const Scpb__InspectionState *in = NULL;
    if (s == SC_OK && *keep)
        s = inspection_of(lg, f, &in, err);
    if (s == SC_OK && *keep && sp->kind >= 0)
        *keep = in && (int)in->kind == sp->kind;
    if (s != SC_OK || !*keep)
        return s;
    row_begin(lg, FC_N);
    return finding_cells(lg, st, f, in, err);
}

/* ---- the inspections' rows ---- */

static sc_status check_row(sc_ledger *lg, const Scpb__EntityState *st, bool *keep, sc_err *err)
{
    const sc_ledger_spec *sp = &lg->spec;
    const Scpb__InspectionState *in = st->inspection;
    *keep = (sp->status < 0 || (int)in->status == sp->status) &&
            (sp->kind < 0 || (int)in->kind == sp->kind);
    sc_status s = SC_OK;
    if (*keep)
        s = common_filters(lg, st, &in->target, in->has_target, keep, err);
    if (s != SC_OK || !*keep)
        return s;
    row_begin(lg, CC_N);
    put_hex(lg, CC_ID, &st->id, st->has_id);
    if ((s = put_target(lg, &in->target, in->has_target, CC_TARGET_CODE, err)) != SC_OK)
        return s;
    put_name(lg, CC_KIND, &sc_names_kind, ZH(zh_kind, (int)in->kind), in->kind);
    put_name(lg, CC_DISCLOSURE, &sc_names_disclosure, ZH(zh_disclosure, (int)in->disclosure),
             in->disclosure);
    put_yes(lg, CC_SELF_CHECK, in->self_check);
    put_hlc_day(lg, CC_OPENED, st->created_hlc, st->has_created_hlc);
    bool submitted = in->status == SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED;
    put_name(lg, CC_STATUS, &sc_names_inspection_status, ZH(zh_check_status, (int)in->status),
             in->status);
    put_hlc_day(lg, CC_SUBMITTED, in->submitted_hlc, submitted && in->has_submitted_hlc);
    const Scpb__EntityState *t;
    if ((s = cached(lg, &in->template_, in->has_template_, &t, err)) != SC_OK)
        return s;
    sc_score sc;
    if (t && t->kind_case == SCPB__ENTITY_STATE__KIND_TEMPLATE &&
        sc_score_inspection(t->template_, in, &sc) == SC_OK) {
        char sheet[SC_CODE_MAX + 16];
        snprintf(sheet, sizeof sheet, "%s v%u", t->template_->code ? t->template_->code : "",
                 t->template_->version);
        put_text(lg, CC_SHEET, sheet);
        put_int(lg, CC_SCORE, sc.total);
        put_int(lg, CC_MAX, sc.max_total);
        if (sc.complete)
            put_yes(lg, CC_PASSED, sc.passed);
        put_text(lg, CC_BAND, sc.grade);
    }
    put_int(lg, CC_FINDINGS, (long long)in->n_findings);
    put_int(lg, CC_PHOTOS, (long long)st->n_photos);
    put_int(lg, CC_AMENDS, in->amend_count);
    if (st->n_heads)
        put_hex(lg, CC_OP, &st->heads[0], true);
    lg->totals.closed += submitted;
    lg->totals.open += !submitted;
    lg->totals.photos += st->n_photos;
    return SC_OK;
}

/* ---- handing rows out ---- */

static sc_status emit(sc_ledger *lg, bool header, sc_ledger_fn fn, void *ctx, sc_err *err)
{
    if (lg->oom)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "ledger: out of memory");
    for (size_t i = 0; i < lg->ncells; i++)
        lg->cells[i].text = lg->off[i] == SIZE_MAX ? "" : lg->text + lg->off[i];
    size_t len = 0;
    sc_status s = sc_csv_line(lg->env, lg->cells, lg->ncells, header, &lg->csv, &lg->csv_cap, &len);
    if (s != SC_OK)
        return sc_err_set(err, s, 0, "ledger: out of memory");
    sc_ledger_row row = {header, lg->cells, lg->ncells, lg->csv, len};
    if (fn(ctx, &row) != 0)
        return sc_err_set(err, SC_ERR_IO, 0, "ledger: writing a row failed");
    return SC_OK;
}

sc_status sc_ledger_header(sc_ledger *lg, sc_ledger_fn fn, void *ctx, sc_err *err)
{
    const column *cols = lg->spec.checks ? check_cols : finding_cols;
    size_t n = lg->spec.checks ? CC_N : FC_N;
    row_begin(lg, n);
    for (size_t i = 0; i < n; i++)
        put_text(lg, i, lg->spec.en ? cols[i].en : cols[i].zh);
    return emit(lg, true, fn, ctx, err);
}

sc_status sc_ledger_add(sc_ledger *lg, const Scpb__EntityState *st, sc_ledger_fn fn, void *ctx,
                        sc_err *err)
{
    bool keep = false;
    sc_status s = SC_OK;
    if (lg->spec.checks && st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION)
        s = check_row(lg, st, &keep, err);
    else if (!lg->spec.checks && st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING)
        s = finding_row(lg, st, &keep, err);
    if (s != SC_OK || !keep)
        return s;
    lg->totals.rows++;
    return emit(lg, false, fn, ctx, err);
}

/* ---- CSV ---- */

sc_status sc_csv_line(const sc_env *env, const sc_ledger_cell *cells, size_t n, bool bom,
                      char **buf, size_t *cap, size_t *len)
{
    /* Worst case: every byte a quote (doubled), two quotes, an apostrophe and a comma per
     * field, BOM, CRLF. */
    size_t need = 8;
    for (size_t i = 0; i < n; i++)
        need += 2 * strlen(cells[i].text) + 4;
    if (need > *cap) {
        char *nb = sc_realloc_array(env, *buf, need, 1);
        if (!nb)
            return SC_ERR_NOMEM;
        *buf = nb;
        *cap = need;
    }
    char *o = *buf;
    if (bom) {
        memcpy(o, "\xEF\xBB\xBF", 3);
        o += 3;
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = cells[i].text;
        if (i)
            *o++ = ',';
        bool quote = strpbrk(t, ",\"\r\n") != NULL;
        if (quote)
            *o++ = '"';
        /* Text a spreadsheet would read as a formula (typed by whoever wrote the
         * finding) is written as text: a leading apostrophe, as Excel does; a
         * leading tab or carriage return too, which a spreadsheet may skip. */
        if (cells[i].type == SC_CELL_TEXT && strchr("=+-@\t\r", *t) && *t)
            *o++ = '\'';
        for (; *t; t++) {
            if (*t == '"')
                *o++ = '"';
            *o++ = *t;
        }
        if (quote)
            *o++ = '"';
    }
    *o++ = '\r';
    *o++ = '\n';
    *len = (size_t)(o - *buf);
    return SC_OK;
}
