/*
 * period.c: the period report (period.h) as one HTML page.  The figures
 * are the statistics' (sc_stats fold, sc_stats_cells), each finding's row
 * is the findings ledger's (sc_ledger_add, read by column), and overdue is
 * governance's (sc_gov_flags_of): nothing is counted here that the ledger
 * or the statistics count otherwise.  What this file adds is the choice of
 * rows (the unit and its children; open major hazards; overdue findings;
 * escalations in the period), the trend's buckets, and the page.
 *
 * The page has no script, no external reference of any kind and no font
 * but the system's; its stylesheet fixes every row's height and starts
 * every section on a new page, and tables are cut here into page-sized
 * pieces, so the printed page count follows from the row counts alone.
 */
#include "period.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/governance.h"
#include "core/stats_out.h"
#include "svg.h"

/* Rows listed per list at most; the rest are counted in a line under it. */
#define PERIOD_LIST_MAX 1000
/* The trend is per day for a period of up to TREND_DAYS days, then per week, month, year. */
#define TREND_DAYS   62
#define TREND_WEEKS  371
#define TREND_MONTHS 3660
enum { G_DAY = 0, G_WEEK = 1, G_MONTH = 2, G_YEAR = 3 };

/* ---- labels: every one in both languages ---- */

enum {
    L_TITLE,
    L_PERIOD,
    L_TO,
    L_AS_OF,
    L_GENERATED,
    L_S_STATS,
    L_S_CHARTS,
    L_S_MAJOR,
    L_S_OVERDUE,
    L_S_ESC,
    L_CONT,
    L_NONE,
    L_MORE_PRE,
    L_MORE_POST,
    L_RATE_CHART,
    L_TREND_CHART,
    L_FOUND,
    L_CLOSED,
    L_NO_UNITS,
    L_TARGET,
    L_DESC,
    L_RESPONSIBLE,
    L_DEADLINE,
    L_STATUS,
    L_MEASURES,
    L_PERSON,
    L_FUNDS,
    L_INTERIM,
    L_LEAD,
    L_GRADE,
    L_LATE_DAYS,
    L_ESCALATED,
    L_DATE,
    L_STEP,
    L_LEVEL,
    L_REASON,
    L_NO_PLAN,
    L_RETURNED,
    L_YUAN,
    L_DAY,
    L_WEEK,
    L_MONTH,
    L_YEAR,
    L_N
};

static const struct {
    const char *zh, *en;
} labels[L_N] = {
    [L_TITLE] = {"检查与整改情况报告", "Inspection and rectification report"},
    [L_PERIOD] = {"统计期间", "Period"},
    [L_TO] = {"至", "to"},
    [L_AS_OF] = {"截至", "As of"},
    [L_GENERATED] = {"生成时间", "Generated"},
    [L_S_STATS] = {"一、检查与整改统计", "1. Statistics"},
    [L_S_CHARTS] = {"二、图表", "2. Charts"},
    [L_S_MAJOR] = {"三、未销号重大隐患及整改方案",
                   "3. Open major hazards and their rectification plans"},
    [L_S_OVERDUE] = {"四、逾期未整改问题", "4. Overdue findings"},
    [L_S_ESC] = {"五、督办与问责", "5. Escalations"},
    [L_CONT] = {"（续）", " (continued)"},
    [L_NONE] = {"无", "None"},
    [L_MORE_PRE] = {"另有 ", ""},
    [L_MORE_POST] = {" 条未列出（见台账）", " more not listed (see the ledger)"},
    [L_RATE_CHART] = {"整改率（下级单位）", "Rectification rate by child unit"},
    [L_TREND_CHART] = {"发现问题与销号（按", "Findings found and closed, per "},
    [L_FOUND] = {"发现问题", "Found"},
    [L_CLOSED] = {"销号", "Closed"},
    [L_NO_UNITS] = {"无下级单位", "No child units"},
    [L_TARGET] = {"检查对象", "Target"},
    [L_DESC] = {"问题描述", "Description"},
    [L_RESPONSIBLE] = {"责任单位", "Responsible unit"},
    [L_DEADLINE] = {"整改期限", "Deadline"},
    [L_STATUS] = {"状态", "Status"},
    [L_MEASURES] = {"整改措施", "Measures"},
    [L_PERSON] = {"责任人", "Responsible person"},
    [L_FUNDS] = {"整改资金", "Funds"},
    [L_INTERIM] = {"临时措施", "Interim measures"},
    [L_LEAD] = {"督办领导", "Lead official"},
    [L_GRADE] = {"隐患等级", "Grade"},
    [L_LATE_DAYS] = {"逾期天数", "Days overdue"},
    [L_ESCALATED] = {"已督办", "Escalated"},
    [L_DATE] = {"日期", "Date"},
    [L_STEP] = {"督办措施", "Step"},
    [L_LEVEL] = {"层级", "Level"},
    [L_REASON] = {"事由", "Reason"},
    [L_NO_PLAN] = {"未报整改方案", "No plan filed"},
    [L_RETURNED] = {"已退回：", "Sent back: "},
    [L_YUAN] = {" 元", " yuan"},
    [L_DAY] = {"日）", "day"},
    [L_WEEK] = {"周）", "week"},
    [L_MONTH] = {"月）", "month"},
    [L_YEAR] = {"年）", "year"},
};

static const char *const step_zh[] = {"-", "提醒函", "通报", "约谈", "黄牌警告", "问责"};
static const char *const step_en[] = {"-",         "Reminder",    "Public notice",
                                      "Interview", "Yellow card", "Accountability"};
static const char *const level_zh[] = {"-",    "市",   "县(区)", "街道", "社区",
                                       "网格", "小区", "楼栋",   "单元", "户"};
static const char *const level_en[] = {"-",    "city",     "county",   "street", "community",
                                       "grid", "compound", "building", "unit",   "household"};

#define PICK(t, v) ((v) >= 0 && (size_t)(v) < sizeof(t) / sizeof(t)[0] ? (t)[v] : (t)[0])

/* ---- the fold ---- */

/* A finding in a list; texts are offsets into the report's arena (0: empty). */
typedef struct pr_item {
    uint8_t id[SC_ID_LEN];
    int32_t deadline; /* in force (INT32_MIN: none) */
    int32_t late;     /* days past it on as_of */
    int step;         /* the strongest escalation recorded */
    int plan;         /* 0: none filed, 1: in effect, 2: sent back */
    bool has_funds;
    int64_t funds_cents;
    size_t target, desc, grade, status, responsible, person;
    size_t measures, funds_source, interim, lead, phone, returned;
} pr_item;

/* An escalation recorded in the period. */
typedef struct pr_esc {
    uint8_t id[SC_ID_LEN]; /* the finding's */
    uint64_t hlc;
    int step, level;
    size_t target, desc, reason;
} pr_esc;

typedef struct pr_list {
    void *v;
    size_t n, cap, size; /* size: of one element */
} pr_list;

struct sc_period {
    const sc_env *env;
    sc_period_spec spec;
    sc_stats_spec sspec; /* for sc_stats_spec_keeps: the period */
    sc_stats *stats;
    sc_ledger *lg;
    sc_gov_policy pol;
    const Scpb__EntityState *cur; /* the finding sc_ledger_add is writing the row of */
    int gran;
    size_t nbuckets;
    int64_t *found, *closed; /* per bucket */
    pr_list major, late, esc;
    char *arena;
    size_t arena_len, arena_cap;
    bool oom;
};

sc_status sc_period_spec_parse(const sc_period_query *q, int32_t today, sc_period_spec *out,
                               sc_err *err)
{
    memset(out, 0, sizeof *out);
    if (!q->period)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "a period report needs a period: YYYY-MM-DD, YYYY-Www, YYYY-MM, "
                          "YYYY-Qn, YYYY, or YYYY-MM-DD..YYYY-MM-DD");
    sc_stats_query sq = {sizeof sq, NULL, NULL, q->lang, q->period, q->as_of};
    sc_stats_spec ss;
    sc_status s = sc_stats_spec_parse(&sq, today, &ss, err);
    if (s != SC_OK)
        return s;
    out->from = ss.from;
    out->to = ss.to;
    out->en = ss.view.en;
    out->as_of = ss.view.as_of;
    snprintf(out->period, sizeof out->period, "%s", q->period);
    return SC_OK;
}

static int32_t year_of(int32_t day, int *month)
{
    int y, m, d;
    sc_date_to_civil(day, &y, &m, &d);
    if (month)
        *month = m;
    return y;
}

/* The bucket a day falls in, counted from the period's first. */
static size_t bucket_of(const sc_period *p, int32_t day)
{
    int32_t from = p->spec.from;
    int m, m0;
    switch (p->gran) {
    case G_DAY:
        return (size_t)(day - from);
    case G_WEEK:
        return (
            size_t)((sc_stats_bucket(SC_PERIOD_WEEK, day) - sc_stats_bucket(SC_PERIOD_WEEK, from)) /
                    7);
    case G_MONTH: {
        int32_t y = year_of(day, &m), y0 = year_of(from, &m0);
        return (size_t)((y - y0) * 12 + m - m0);
    }
    default:
        return (size_t)(year_of(day, NULL) - year_of(from, NULL));
    }
}

sc_status sc_period_new(const sc_env *env, const sc_ledger_src *src, const sc_period_spec *spec,
                        sc_period **out)
{
    *out = NULL;
    sc_period *p = sc_calloc(env, 1, sizeof *p);
    if (!p)
        return SC_ERR_NOMEM;
    p->env = env;
    p->spec = *spec;
    p->sspec.has_period = true;
    p->sspec.from = spec->from;
    p->sspec.to = spec->to;
    sc_gov_policy_default(&p->pol);
    int32_t days = spec->to - spec->from + 1;
    p->gran = days <= TREND_DAYS     ? G_DAY
              : days <= TREND_WEEKS  ? G_WEEK
              : days <= TREND_MONTHS ? G_MONTH
                                     : G_YEAR;
    p->nbuckets = bucket_of(p, spec->to) + 1;
    p->major.size = p->late.size = sizeof(pr_item);
    p->esc.size = sizeof(pr_esc);
    sc_ledger_spec ls = {.en = spec->en,
                         .has_org = true,
                         .grade = -1,
                         .status = -1,
                         .kind = -1,
                         .source = -1,
                         .as_of = spec->as_of};
    memcpy(ls.org, spec->org, SC_ID_LEN);
    p->found = sc_calloc(env, p->nbuckets, sizeof *p->found);
    p->closed = sc_calloc(env, p->nbuckets, sizeof *p->closed);
    if (!p->found || !p->closed ||
        sc_stats_new(env, src, SC_STATS_ORG, 0, spec->as_of, &p->stats) != SC_OK ||
        sc_ledger_new(env, src, &ls, &p->lg) != SC_OK) {
        sc_period_free(p);
        return SC_ERR_NOMEM;
    }
    *out = p;
    return SC_OK;
}

void sc_period_free(sc_period *p)
{
    if (!p)
        return;
    sc_stats_free(p->stats);
    sc_ledger_free(p->lg);
    sc_free(p->env, p->found);
    sc_free(p->env, p->closed);
    sc_free(p->env, p->major.v);
    sc_free(p->env, p->late.v);
    sc_free(p->env, p->esc.v);
    sc_free(p->env, p->arena);
    sc_free(p->env, p);
}

sc_status sc_period_org(sc_period *p, const Scpb__EntityState *st, sc_err *err)
{
    return sc_stats_org(p->stats, st, err);
}

/* A copy of s in the arena: its offset (0, the empty string, for NULL or ""). */
static size_t keep(sc_period *p, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || p->oom)
        return 0;
    if (p->arena_len == 0)
        p->arena_len = 1; /* offset 0 is "" */
    if (p->arena_len + n + 1 > p->arena_cap) {
        size_t cap = p->arena_cap ? p->arena_cap : 4096;
        while (cap < p->arena_len + n + 1)
            cap *= 2;
        char *a = sc_realloc_array(p->env, p->arena, cap, 1);
        if (!a) {
            p->oom = true;
            return 0;
        }
        a[0] = '\0';
        p->arena = a;
        p->arena_cap = cap;
    }
    memcpy(p->arena + p->arena_len, s, n + 1);
    size_t off = p->arena_len;
    p->arena_len += n + 1;
    return off;
}

static const char *text_at(const sc_period *p, size_t off)
{
    return off && p->arena ? p->arena + off : "";
}

/* Room for one more element: its address, zeroed (NULL when memory ran out). */
static void *push(sc_period *p, pr_list *l)
{
    if (p->oom)
        return NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        void *v = sc_realloc_array(p->env, l->v, cap, l->size);
        if (!v) {
            p->oom = true;
            return NULL;
        }
        l->v = v;
        l->cap = cap;
    }
    void *e = (char *)l->v + l->n++ * l->size;
    memset(e, 0, l->size);
    return e;
}

static void copy_id(uint8_t out[SC_ID_LEN], const Scpb__EntityState *st)
{
    if (st->has_id && st->id.len == SC_ID_LEN)
        memcpy(out, st->id.data, SC_ID_LEN);
}

/* The plan's fields (major hazards): the plan in effect, or the one sent back, marked so. */
static void keep_plan(sc_period *p, pr_item *it, const Scpb__FindingState *f)
{
    const Scpb__PlanState *ps = f->governance ? f->governance->plan : NULL;
    const Scpb__RectificationPlan *plan = ps ? ps->plan : NULL;
    if (!plan)
        return;
    it->plan = ps->returned ? 2 : 1;
    if (ps->returned)
        it->returned = keep(p, ps->return_reason);
    it->measures = keep(p, plan->measures);
    it->funds_source = keep(p, plan->funds_source);
    it->interim = keep(p, plan->interim);
    it->lead = keep(p, plan->lead_official);
    it->phone = keep(p, plan->person_phone);
    it->has_funds = plan->has_funds_cents;
    it->funds_cents = plan->funds_cents;
}

static void add_item(sc_period *p, pr_list *l, const sc_ledger_cell *c, const Scpb__EntityState *st,
                     const sc_gov_flags *fl, bool plan)
{
    pr_item *it = push(p, l);
    if (!it)
        return;
    copy_id(it->id, st);
    it->deadline = c[FC_DEADLINE].type == SC_CELL_DATE ? (int32_t)c[FC_DEADLINE].number : INT32_MIN;
    it->late = fl->late_days;
    it->step = (int)fl->escalated_step;
    it->target = keep(p, c[FC_TARGET].text);
    it->desc = keep(p, c[FC_DESCRIPTION].text);
    it->grade = keep(p, c[FC_GRADE].text);
    it->status = keep(p, c[FC_STATUS].text);
    it->responsible = keep(p, c[FC_RESPONSIBLE].text);
    it->person = keep(p, c[FC_PERSON].text);
    if (plan)
        keep_plan(p, it, st->finding);
}

static bool in_period(const sc_period *p, int32_t day)
{
    return day >= p->spec.from && day <= p->spec.to;
}

/* The escalations of a finding recorded in the period. */
static void add_escalations(sc_period *p, const sc_ledger_cell *c, const Scpb__EntityState *st)
{
    const Scpb__FindingState *f = st->finding;
    for (size_t i = 0; i < f->n_escalations; i++) {
        const Scpb__EscalationEntry *e = f->escalations[i];
        if (!in_period(p, sc_date_from_ms((int64_t)(e->hlc >> 16))))
            continue;
        pr_esc *x = push(p, &p->esc);
        if (!x)
            return;
        copy_id(x->id, st);
        x->hlc = e->hlc;
        x->step = (int)e->step;
        x->level = (int)e->level;
        x->target = keep(p, c[FC_TARGET].text);
        x->desc = keep(p, c[FC_DESCRIPTION].text);
        x->reason = keep(p, e->reason);
    }
}

/* A finding's ledger row (only rows the ledger keeps: in the unit's subtree, not voided). */
static int take_row(void *ctx, const sc_ledger_row *row)
{
    sc_period *p = ctx;
    if (row->header || row->n < FC_N)
        return 0;
    const sc_ledger_cell *c = row->cells;
    const Scpb__EntityState *st = p->cur;
    const Scpb__FindingState *f = st->finding;
    if (c[FC_FOUND].type == SC_CELL_DATE && in_period(p, (int32_t)c[FC_FOUND].number))
        p->found[bucket_of(p, (int32_t)c[FC_FOUND].number)]++;
    if (c[FC_CLOSED].type == SC_CELL_DATE && in_period(p, (int32_t)c[FC_CLOSED].number))
        p->closed[bucket_of(p, (int32_t)c[FC_CLOSED].number)]++;
    sc_gov_flags fl;
    sc_gov_flags_of(st, &p->pol, p->spec.as_of, &fl);
    bool open = f->status != SCPB__FINDING_STATUS__FINDING_CLOSED;
    if (open && f->grade == SCPB__GRADE__GRADE_MAJOR)
        add_item(p, &p->major, c, st, &fl, true);
    if (open && fl.late_days > 0)
        add_item(p, &p->late, c, st, &fl, false);
    add_escalations(p, c, st);
    return 0;
}

sc_status sc_period_add(sc_period *p, const Scpb__EntityState *st, sc_err *err)
{
    sc_status s = SC_OK;
    if (sc_stats_spec_keeps(&p->sspec, st) && (s = sc_stats_add(p->stats, st, err)) != SC_OK)
        return s;
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_FINDING || !st->finding)
        return SC_OK;
    p->cur = st;
    s = sc_ledger_add(p->lg, st, take_row, p, err);
    p->cur = NULL;
    if (s == SC_OK && p->oom)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "period report: out of memory");
    return s;
}

/* ---- the page ---- */

typedef struct page {
    sc_period *p;
    sc_svg_buf *b;
    bool en; /* the labels' language */
    sc_stats_view view;
    const sc_stats_group *self;  /* the unit's group */
    const sc_stats_group **rows; /* the unit, then its children */
    size_t nrows;
} page;

static const char *lab(const page *g, int which)
{
    return g->en ? labels[which].en : labels[which].zh;
}

static void esc(page *g, const char *s)
{
    sc_svg_escape(g->b, s);
}

static void put(page *g, const char *s)
{
    sc_svg_puts(g->b, s);
}

static void day_text(int32_t day, char out[11])
{
    if (day == INT32_MIN)
        snprintf(out, 11, "-");
    else
        sc_date_format(day, out);
}

/*
 * The stylesheet.  Every height is fixed (rows nowrap, or three lines in a
 * box that clips), each section starts a page, and the tables are cut into
 * pages by the SC_PERIOD_*_ROWS counts, which leave room to spare on A4
 * with 12 mm margins (273 mm of height): a statistics page of 30 rows is
 * 10 + 9 + 30 x 7 = 229 mm, a plans page of 16 rows 10 + 9 + 16 x 13 =
 * 227 mm, a chart page at most 10 + 87 + 3 + 128 + 3 = 231 mm.
 */
static const char period_css[] =
    "@page { size: A4; margin: 12mm; }\n"
    "html { font-family: \"Noto Sans CJK SC\", \"WenQuanYi Micro Hei\", \"Source Han Sans SC\",\n"
    "  \"PingFang SC\", \"Microsoft YaHei\", sans-serif; font-size: 9pt; color: #000; }\n"
    "body { margin: 0; }\n"
    "h1 { font-size: 15pt; height: 10mm; line-height: 10mm; margin: 0; overflow: hidden;\n"
    "  white-space: nowrap; }\n"
    "p.meta { height: 10mm; line-height: 5mm; margin: 0 0 3mm; font-size: 8.5pt; overflow: hidden; "
    "}\n"
    "h2 { font-size: 12pt; height: 8mm; line-height: 8mm; margin: 0 0 2mm; overflow: hidden;\n"
    "  white-space: nowrap; }\n"
    "table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 8pt; }\n"
    "thead { display: table-header-group; }\n"
    "tr { break-inside: avoid; page-break-inside: avoid; }\n"
    "th, td { box-sizing: border-box; border: 0.2mm solid #888; padding: 0 1mm; overflow: hidden; "
    "}\n"
    "th { height: 9mm; line-height: 3.4mm; background: #e8eef7; text-align: center; }\n"
    "th div { max-height: 7mm; overflow: hidden; }\n"
    "td { height: 7mm; line-height: 3.4mm; white-space: nowrap; text-overflow: ellipsis; }\n"
    "td.n { text-align: right; }\n"
    "td.late { color: #b00000; font-weight: bold; }\n"
    "tr.self td { font-weight: bold; background: #f3f3f3; }\n"
    "table.stats th:first-child { width: 34mm; }\n"
    "table.plans td { height: 13mm; white-space: normal; vertical-align: top; }\n"
    "table.plans td div { max-height: 11.5mm; overflow: hidden; line-height: 3.8mm; }\n"
    "table.plans th:nth-child(1) { width: 18mm; } table.plans th:nth-child(2) { width: 24mm; }\n"
    "table.plans th:nth-child(3) { width: 17mm; } table.plans th:nth-child(4) { width: 17mm; }\n"
    "table.plans th:nth-child(5) { width: 12mm; } table.plans th:nth-child(6) { width: 28mm; }\n"
    "table.plans th:nth-child(7) { width: 19mm; } table.plans th:nth-child(8) { width: 15mm; }\n"
    "table.plans th:nth-child(9) { width: 15mm; }\n"
    "table.overdue th:nth-child(1) { width: 30mm; } table.overdue th:nth-child(3) { width: 16mm; "
    "}\n"
    "table.overdue th:nth-child(4) { width: 30mm; } table.overdue th:nth-child(5) { width: 18mm; "
    "}\n"
    "table.overdue th:nth-child(6) { width: 14mm; } table.overdue th:nth-child(7) { width: 18mm; "
    "}\n"
    "table.escalations th:nth-child(1) { width: 18mm; }\n"
    "table.escalations th:nth-child(2) { width: 18mm; }\n"
    "table.escalations th:nth-child(3) { width: 14mm; }\n"
    "table.escalations th:nth-child(4) { width: 30mm; }\n"
    "table.escalations th:nth-child(6) { width: 50mm; }\n"
    "svg.sc-chart { display: block; width: 100%; height: auto; margin: 0 0 3mm; }\n"
    "p.none, p.more { height: 6mm; line-height: 6mm; margin: 2mm 0; }\n"
    "@media screen {\n"
    "  body { max-width: 186mm; margin: 8mm auto; }\n"
    "  section.page { border-bottom: 1px dashed #bbbbbb; padding-bottom: 6mm; margin-bottom: 6mm; "
    "}\n"
    "}\n"
    "@media print {\n"
    "  html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }\n"
    "  section.page { break-before: page; }\n"
    "  section.page:first-of-type { break-before: avoid; }\n"
    "}\n";

static void head(page *g)
{
    const sc_period_spec *sp = &g->p->spec;
    sc_svg_printf(g->b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
                  sp->en ? "en" : "zh-CN");
    /* It is opened from a file or a mail: should any text get past esc(), it can run nothing and
     * fetch nothing (the charts are inline SVG, the styles inline). */
    put(g, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'\">\n");
    put(g, "<meta name=\"viewport\" content=\"width=device-width\">\n<title>");
    esc(g, g->self->name[0] ? g->self->name : g->self->code);
    put(g, " ");
    esc(g, lab(g, L_TITLE));
    put(g, " ");
    esc(g, sp->period);
    put(g, "</title>\n<style>\n");
    put(g, period_css);
    put(g, "</style>\n</head>\n<body>\n");
}

static void title_block(page *g)
{
    const sc_period_spec *sp = &g->p->spec;
    char from[11], to[11], as_of[11], gen[11];
    sc_date_format(sp->from, from);
    sc_date_format(sp->to, to);
    sc_date_format(sp->as_of, as_of);
    int64_t ms = sp->generated_ms;
    sc_date_format(sc_date_from_ms(ms), gen);
    int64_t in_day = ((ms % 86400000) + 86400000) % 86400000;
    put(g, "<header class=\"title\"><h1>");
    esc(g, g->self->name[0] ? g->self->name : g->self->code);
    put(g, " ");
    esc(g, lab(g, L_TITLE));
    put(g, "</h1>\n<p class=\"meta\">");
    esc(g, lab(g, L_PERIOD));
    sc_svg_printf(g->b, ": <span class=\"period\">%s %s %s</span> (", from, lab(g, L_TO), to);
    esc(g, sp->period);
    put(g, ") · ");
    esc(g, lab(g, L_AS_OF));
    sc_svg_printf(g->b, ": <span class=\"as-of\">%s</span><br>", as_of);
    esc(g, lab(g, L_GENERATED));
    sc_svg_printf(g->b, ": %s %02d:%02d UTC · ", gen, (int)(in_day / 3600000),
                  (int)(in_day / 60000 % 60));
    esc(g, g->self->code);
    put(g, "</p></header>\n");
}

/* Open a page of a section: its heading, "(continued)" after the first. */
static void section_open(page *g, const char *cls, int heading, bool cont)
{
    sc_svg_printf(g->b, "<section class=\"page %s\">\n<h2>", cls);
    esc(g, lab(g, heading));
    if (cont)
        esc(g, lab(g, L_CONT));
    put(g, "</h2>\n");
}

static void table_open(page *g, const char *cls, const int *heads, size_t n)
{
    sc_svg_printf(g->b, "<table class=\"%s\"><thead><tr>", cls);
    for (size_t i = 0; i < n; i++) {
        put(g, "<th><div>");
        esc(g, lab(g, heads[i]));
        put(g, "</div></th>");
    }
    put(g, "</tr></thead>\n<tbody>\n");
}

static void cell(page *g, const char *cls, const char *text)
{
    if (cls)
        sc_svg_printf(g->b, "<td class=\"%s\">", cls);
    else
        put(g, "<td>");
    esc(g, text && *text ? text : "-");
    put(g, "</td>");
}

/* A cell of up to three lines (the plans'). */
static void cell_wrap(page *g, const char *text)
{
    put(g, "<td><div>");
    esc(g, text && *text ? text : "-");
    put(g, "</div></td>");
}

typedef void (*row_fn)(page *g, size_t i);

/*
 * A section of n rows: pages of `first` rows, then of `per`, each a table
 * with its header row; "None" when n is 0; the rows not listed counted
 * under the last.
 */
static void section(page *g, const char *cls, int heading, const int *heads, size_t nh, size_t n,
                    size_t first, size_t per, row_fn fn)
{
    size_t shown = n < PERIOD_LIST_MAX ? n : PERIOD_LIST_MAX, i = 0;
    bool cont = false;
    do {
        section_open(g, cls, heading, cont);
        size_t end = i + (cont ? per : first);
        if (shown == 0) {
            put(g, "<p class=\"none\">");
            esc(g, lab(g, L_NONE));
            put(g, "</p>\n");
        } else {
            table_open(g, cls, heads, nh);
            for (; i < shown && i < end; i++)
                fn(g, i);
            put(g, "</tbody></table>\n");
        }
        if (i >= shown && n > shown) {
            put(g, "<p class=\"more\">");
            esc(g, lab(g, L_MORE_PRE));
            sc_svg_printf(g->b, "%zu", n - shown);
            esc(g, lab(g, L_MORE_POST));
            put(g, "</p>\n");
        }
        put(g, "</section>\n");
        cont = true;
    } while (i < shown);
}

/* ---- the sections ---- */

static const int stats_cols[] = {SC_STATS_COL_KEY,    SC_STATS_COL_CHECKS,   SC_STATS_COL_AVG,
                                 SC_STATS_COL_PASS,   SC_STATS_COL_FINDINGS, SC_STATS_COL_MAJOR,
                                 SC_STATS_COL_CLOSED, SC_STATS_COL_OVERDUE,  SC_STATS_COL_RATE,
                                 SC_STATS_COL_DAYS,   SC_STATS_COL_REOPEN,   SC_STATS_COL_RANK};
#define STATS_COLS (sizeof stats_cols / sizeof stats_cols[0])

static void stats_row(page *g, size_t i)
{
    char cells[SC_STATS_COL_N][SC_STATS_CELL_MAX];
    sc_stats_cells(g->rows[i], &g->view, false, cells);
    sc_svg_printf(g->b, "<tr%s data-code=\"", i == 0 ? " class=\"self\"" : "");
    esc(g, g->rows[i]->code);
    put(g, "\">");
    for (size_t c = 0; c < STATS_COLS; c++)
        cell(g, c ? "n" : NULL, cells[stats_cols[c]]);
    put(g, "</tr>\n");
}

static void stats_section(page *g)
{
    /* The headings are the statistics' own, in the page's language. */
    sc_svg_printf(g->b, "<section class=\"page stats\">\n");
    title_block(g);
    size_t i = 0;
    bool cont = false;
    do {
        if (cont)
            put(g, "<section class=\"page stats\">\n");
        put(g, "<h2>");
        esc(g, lab(g, L_S_STATS));
        if (cont)
            esc(g, lab(g, L_CONT));
        put(g, "</h2>\n<table class=\"stats\"><thead><tr>");
        for (size_t c = 0; c < STATS_COLS; c++) {
            put(g, "<th><div>");
            esc(g, sc_stats_heading(&g->view, stats_cols[c]));
            put(g, "</div></th>");
        }
        put(g, "</tr></thead>\n<tbody>\n");
        size_t end = i + (cont ? SC_PERIOD_STATS_ROWS : SC_PERIOD_STATS_FIRST);
        for (; i < g->nrows && i < end; i++)
            stats_row(g, i);
        put(g, "</tbody></table>\n</section>\n");
        cont = true;
    } while (i < g->nrows);
}

static const char *bucket_label(const sc_period *p, size_t i, char out[12])
{
    int32_t from = p->spec.from;
    int y, m, d;
    if (p->gran == G_DAY || p->gran == G_WEEK) {
        int32_t day = p->gran == G_DAY ? from + (int32_t)i
                                       : sc_stats_bucket(SC_PERIOD_WEEK, from) + 7 * (int32_t)i;
        sc_date_to_civil(day, &y, &m, &d);
        snprintf(out, 12, "%02d-%02d", m, d);
    } else if (p->gran == G_MONTH) {
        sc_date_to_civil(from, &y, &m, &d);
        int k = (m - 1) + (int)i;
        snprintf(out, 12, "%04d-%02d", y + k / 12, k % 12 + 1);
    } else {
        snprintf(out, 12, "%04d", year_of(from, NULL) + (int)i);
    }
    return out;
}

/* The trend, then the first bars; further bars on pages of their own. */
static void charts_section(page *g)
{
    sc_period *p = g->p;
    size_t nb = p->nbuckets, nbars = g->nrows - 1;
    char(*names)[12] = sc_calloc(p->env, nb, sizeof *names);
    const char **lp = sc_calloc(p->env, nb, sizeof *lp);
    sc_svg_bar *bars = sc_calloc(p->env, nbars ? nbars : 1, sizeof *bars);
    if (!names || !lp || !bars) {
        g->b->failed = true;
    } else {
        for (size_t i = 0; i < nb; i++)
            lp[i] = bucket_label(p, i, names[i]);
        for (size_t i = 0; i < nbars; i++) {
            sc_stats_rates r;
            sc_stats_rates_of(&g->rows[i + 1]->f, &r);
            bars[i].label = g->rows[i + 1]->name[0] ? g->rows[i + 1]->name : g->rows[i + 1]->code;
            bars[i].permille = r.rect_permille;
        }
        char title[160];
        snprintf(title, sizeof title, "%s%s", lab(g, L_TREND_CHART), lab(g, L_DAY + p->gran));
        const sc_svg_series s[] = {{lab(g, L_FOUND), p->found}, {lab(g, L_CLOSED), p->closed}};
        size_t i = 0;
        bool cont = false;
        do {
            section_open(g, "charts", L_S_CHARTS, cont);
            if (!cont)
                sc_svg_lines(g->b, title, lp, nb, s, 2, lab(g, L_NONE));
            size_t n = nbars - i < (cont ? SC_PERIOD_BARS_ROWS : SC_PERIOD_BARS_FIRST)
                           ? nbars - i
                           : (cont ? SC_PERIOD_BARS_ROWS : SC_PERIOD_BARS_FIRST);
            sc_svg_bars(g->b, lab(g, L_RATE_CHART), bars + i, n, lab(g, L_NO_UNITS));
            i += n;
            put(g, "</section>\n");
            cont = true;
        } while (i < nbars);
    }
    sc_free(p->env, names);
    sc_free(p->env, lp);
    sc_free(p->env, bars);
}

static const int major_cols[] = {L_TARGET,   L_DESC,   L_RESPONSIBLE, L_DEADLINE, L_STATUS,
                                 L_MEASURES, L_PERSON, L_FUNDS,       L_INTERIM,  L_LEAD};

static void major_row(page *g, size_t i)
{
    const sc_period *p = g->p;
    const pr_item *it = (const pr_item *)p->major.v + i;
    char d[11], funds[64] = "";
    day_text(it->deadline, d);
    put(g, "<tr>");
    cell_wrap(g, text_at(p, it->target));
    cell_wrap(g, text_at(p, it->desc));
    cell_wrap(g, text_at(p, it->responsible));
    cell(g, NULL, d);
    cell(g, NULL, text_at(p, it->status));
    if (it->plan == 0) {
        cell_wrap(g, lab(g, L_NO_PLAN));
    } else {
        put(g, "<td><div>");
        if (it->plan == 2) {
            esc(g, lab(g, L_RETURNED));
            esc(g, text_at(p, it->returned));
            put(g, "<br>");
        }
        esc(g, it->measures ? text_at(p, it->measures) : "-");
        put(g, "</div></td>");
    }
    put(g, "<td><div>");
    esc(g, it->person ? text_at(p, it->person) : "-");
    if (it->phone) {
        put(g, "<br>");
        esc(g, text_at(p, it->phone));
    }
    put(g, "</div></td>");
    if (it->has_funds)
        snprintf(funds, sizeof funds, "%lld.%02lld%s", (long long)(it->funds_cents / 100),
                 (long long)(llabs(it->funds_cents % 100)), lab(g, L_YUAN));
    put(g, "<td><div>");
    esc(g, funds[0] ? funds : "-");
    if (it->funds_source) {
        put(g, "<br>");
        esc(g, text_at(p, it->funds_source));
    }
    put(g, "</div></td>");
    cell_wrap(g, text_at(p, it->interim));
    cell_wrap(g, text_at(p, it->lead));
    put(g, "</tr>\n");
}

static const int late_cols[] = {L_TARGET,   L_DESC,      L_GRADE,    L_RESPONSIBLE,
                                L_DEADLINE, L_LATE_DAYS, L_ESCALATED};

static void late_row(page *g, size_t i)
{
    const sc_period *p = g->p;
    const pr_item *it = (const pr_item *)p->late.v + i;
    char d[11], late[16];
    day_text(it->deadline, d);
    snprintf(late, sizeof late, "%d", (int)it->late);
    put(g, "<tr>");
    cell(g, NULL, text_at(p, it->target));
    cell(g, NULL, text_at(p, it->desc));
    cell(g, NULL, text_at(p, it->grade));
    cell(g, NULL, text_at(p, it->responsible));
    cell(g, NULL, d);
    cell(g, "n late", late);
    cell(g, NULL, p->spec.en ? PICK(step_en, it->step) : PICK(step_zh, it->step));
    put(g, "</tr>\n");
}

static const int esc_cols[] = {L_DATE, L_STEP, L_LEVEL, L_TARGET, L_DESC, L_REASON};

static void esc_row(page *g, size_t i)
{
    const sc_period *p = g->p;
    const pr_esc *x = (const pr_esc *)p->esc.v + i;
    char d[11];
    sc_date_format(sc_date_from_ms((int64_t)(x->hlc >> 16)), d);
    put(g, "<tr>");
    cell(g, NULL, d);
    cell(g, NULL, p->spec.en ? PICK(step_en, x->step) : PICK(step_zh, x->step));
    cell(g, NULL, p->spec.en ? PICK(level_en, x->level) : PICK(level_zh, x->level));
    cell(g, NULL, text_at(p, x->target));
    cell(g, NULL, text_at(p, x->desc));
    cell(g, NULL, text_at(p, x->reason));
    put(g, "</tr>\n");
}

/* ---- order ---- */

static int by_deadline(const void *a, const void *b)
{
    const pr_item *x = a, *y = b;
    if (x->deadline != y->deadline)
        return x->deadline < y->deadline ? -1 : 1;
    return memcmp(x->id, y->id, SC_ID_LEN);
}

static int by_lateness(const void *a, const void *b)
{
    const pr_item *x = a, *y = b;
    if (x->late != y->late)
        return x->late > y->late ? -1 : 1;
    return memcmp(x->id, y->id, SC_ID_LEN);
}

static int by_time(const void *a, const void *b)
{
    const pr_esc *x = a, *y = b;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    return memcmp(x->id, y->id, SC_ID_LEN);
}

static void sort_list(pr_list *l, int (*cmp)(const void *, const void *))
{
    if (l->n > 1)
        qsort(l->v, l->n, l->size, cmp);
}

/* The unit's group and its children's, in the statistics' order. */
static sc_status pick_rows(page *g, const sc_stats_group *all, size_t n, sc_err *err)
{
    const uint8_t *org = g->p->spec.org;
    for (size_t i = 0; i < n && !g->self; i++)
        if (memcmp(all[i].id, org, SC_ID_LEN) == 0)
            g->self = &all[i];
    if (!g->self)
        return sc_err_set(err, SC_ERR_NOT_FOUND, 0, "period report: the org unit is not known");
    g->rows = sc_calloc(g->p->env, n, sizeof *g->rows);
    if (!g->rows)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "period report: out of memory");
    g->rows[g->nrows++] = g->self;
    for (size_t i = 0; i < n; i++)
        if (all[i].has_parent && memcmp(all[i].parent, org, SC_ID_LEN) == 0)
            g->rows[g->nrows++] = &all[i];
    return SC_OK;
}

/* The page's buffer allocates through the report's env, so the caller frees it with sc_free. */
static void *env_realloc(void *ctx, void *ptr, size_t n)
{
    return sc_realloc_array(ctx, ptr, n, 1);
}

static void env_free(void *ctx, void *ptr)
{
    sc_free(ctx, ptr);
}

sc_status sc_period_render(sc_period *p, char **html, size_t *len, sc_err *err)
{
    *html = NULL;
    *len = 0;
    const sc_stats_group *all = NULL;
    size_t n = 0;
    sc_status s = sc_stats_groups(p->stats, &all, &n, err);
    if (s != SC_OK)
        return s;
    sc_svg_buf b = {.realloc_fn = env_realloc, .free_fn = env_free, .ctx = (void *)p->env};
    page g = {p,    &b,   p->spec.en, {SC_STATS_ORG, 0, SC_STATS_TABLE, p->spec.en, p->spec.as_of},
              NULL, NULL, 0};
    if ((s = pick_rows(&g, all, n, err)) != SC_OK)
        return s;
    sort_list(&p->major, by_deadline);
    sort_list(&p->late, by_lateness);
    sort_list(&p->esc, by_time);
    head(&g);
    stats_section(&g);
    charts_section(&g);
    section(&g, "plans", L_S_MAJOR, major_cols, 10, p->major.n, SC_PERIOD_MAJOR_ROWS,
            SC_PERIOD_MAJOR_ROWS, major_row);
    section(&g, "overdue", L_S_OVERDUE, late_cols, 7, p->late.n, SC_PERIOD_LIST_ROWS,
            SC_PERIOD_LIST_ROWS, late_row);
    section(&g, "escalations", L_S_ESC, esc_cols, 6, p->esc.n, SC_PERIOD_LIST_ROWS,
            SC_PERIOD_LIST_ROWS, esc_row);
    put(&g, "</body>\n</html>\n");
    sc_free(p->env, g.rows);
    if (b.failed || p->oom) {
        sc_free(p->env, b.p);
        return sc_err_set(err, SC_ERR_NOMEM, 0, "period report: out of memory");
    }
    *html = b.p;
    *len = b.len;
    return SC_OK;
}
