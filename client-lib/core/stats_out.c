/*
 * stats_out.c: the statistics as text (stats_out.h): JSON, CSV (the
 * ledger's CSV lines, with its BOM) and a terminal table whose columns line
 * up in display cells, a CJK character taking two.  One text buffer, grown
 * as it is written, handed to the caller whole.
 */
#include "stats_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "ledger.h"
#include "names.h"

typedef struct buf {
    const sc_env *env;
    char *p;
    size_t len, cap;
    bool oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = sc_realloc_array(b->env, b->p, cap, 1);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_s(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(buf *b, const char *fmt, ...) SC_PRINTF(2, 3);
static void putf(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: quotes, backslashes and control characters escaped; UTF-8 kept. */
static void put_jstr(buf *b, const char *s)
{
    put_s(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            putf(b, "\\%c", c);
        else if (c < 0x20)
            putf(b, "\\u%04x", c);
        else
            put(b, s, 1);
    }
    put_s(b, "\"");
}

/* A rate in per mille as a fraction ("0.667"), or null. */
static void put_rate(buf *b, int64_t permille)
{
    if (permille < 0)
        put_s(b, "null");
    else
        putf(b, "%lld.%03lld", (long long)(permille / 1000), (long long)(permille % 1000));
}

/* A figure x10 as a decimal ("85.5"), or null. */
static void put_x10(buf *b, int64_t v)
{
    if (v < 0)
        put_s(b, "null");
    else
        putf(b, "%lld.%lld", (long long)(v / 10), (long long)(v % 10));
}

static const char *by_name(int by)
{
    return by == SC_STATS_ORG ? "org" : by == SC_STATS_TARGET ? "target" : "period";
}

static const char *period_name(int p)
{
    static const char *const n[] = {"day", "week", "month", "quarter"};
    return p >= 0 && p <= SC_PERIOD_QUARTER ? n[p] : "day";
}

static void json_key(buf *b, const sc_stats_group *g, const sc_stats_view *v)
{
    char hex[2 * SC_ID_LEN + 1];
    if (v->by == SC_STATS_PERIOD) {
        char d[11];
        sc_date_format(g->day, d);
        putf(b, "\"period\":\"%s\"", d);
        return;
    }
    for (int i = 0; i < SC_ID_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", g->id[i]);
    putf(b, "\"id\":\"%s\",\"code\":", hex);
    put_jstr(b, g->code);
    put_s(b, ",\"name\":");
    put_jstr(b, g->name);
    if (v->by == SC_STATS_ORG) {
        putf(b, ",\"depth\":%d,\"rank\":", g->depth);
        if (g->rank)
            putf(b, "%u,\"siblings\":%u", g->rank, g->siblings);
        else
            put_s(b, "null,\"siblings\":null");
    }
}

static void json_checks(buf *b, const sc_stats_figs *f, const sc_stats_rates *r)
{
    putf(b, ",\"checks\":{\"total\":%llu,\"by_kind\":{", (unsigned long long)f->checks);
    bool first = true;
    for (int k = 1; k < SC_STATS_KINDS; k++) {
        const char *n = sc_name_of(&sc_names_kind, k);
        if (!f->by_kind[k] || !n)
            continue;
        putf(b, "%s\"%s\":%llu", first ? "" : ",", n, (unsigned long long)f->by_kind[k]);
        first = false;
    }
    put_s(b, "},\"by_disclosure\":{");
    first = true;
    for (int k = 1; k < SC_STATS_DISCLOSURES; k++) {
        const char *n = sc_name_of(&sc_names_disclosure, k);
        if (!n)
            continue;
        putf(b, "%s\"%s\":%llu", first ? "" : ",", n, (unsigned long long)f->by_disclosure[k]);
        first = false;
    }
    putf(b, "},\"submitted\":%llu,\"scored\":%llu,\"passed\":%llu,\"average_score\":",
         (unsigned long long)f->submitted, (unsigned long long)f->scored,
         (unsigned long long)f->passed);
    put_x10(b, r->avg_score_x10);
    put_s(b, ",\"pass_rate\":");
    put_rate(b, r->pass_permille);
    put_s(b, "}");
}

static void json_findings(buf *b, const sc_stats_figs *f, const sc_stats_rates *r)
{
    putf(b,
         ",\"findings\":{\"total\":%llu,\"general\":%llu,\"major\":%llu,\"closed\":%llu,"
         "\"on_time\":%llu,\"late\":%llu,\"overdue\":%llu,\"rectification_rate\":",
         (unsigned long long)f->findings, (unsigned long long)f->general,
         (unsigned long long)f->major, (unsigned long long)f->closed,
         (unsigned long long)f->on_time, (unsigned long long)f->late,
         (unsigned long long)f->overdue);
    put_rate(b, r->rect_permille);
    put_s(b, ",\"mean_days_to_close\":");
    put_x10(b, r->close_days_x10);
    putf(b, ",\"look_backs\":%llu,\"reopened\":%llu,\"reopen_rate\":",
         (unsigned long long)f->look_backs, (unsigned long long)f->reopened);
    put_rate(b, r->reopen_permille);
    put_s(b, "}");
}

static void out_json(buf *b, const sc_stats_group *g, size_t n, const sc_stats_view *v)
{
    char d[11];
    sc_date_format(v->as_of, d);
    putf(b, "{\"by\":\"%s\",", by_name(v->by));
    if (v->by == SC_STATS_PERIOD)
        putf(b, "\"period\":\"%s\",", period_name(v->period));
    putf(b, "\"as_of\":\"%s\",\"groups\":[", d);
    for (size_t i = 0; i < n; i++) {
        sc_stats_rates r;
        sc_stats_rates_of(&g[i].f, &r);
        put(b, i ? ",{" : "{", i ? 2 : 1);
        json_key(b, &g[i], v);
        json_checks(b, &g[i].f, &r);
        json_findings(b, &g[i].f, &r);
        put_s(b, "}");
    }
    put_s(b, "]}\n");
}

/* ---- CSV and the table share their columns ---- */

static const char *const head_zh[SC_STATS_COL_N] = {
    "单位", "检查数", "明查", "暗访", "体验式", "平均分", "合格率", "发现问题", "一般隐患",
    "重大隐患", "已销号", "按期整改", "逾期整改", "逾期未改", "整改率", "平均销号天数", "回头看",
    "反弹率", "排名"};
static const char *const head_en[SC_STATS_COL_N] = {
    "Unit", "Checks", "Open", "Unannounced", "Experiential", "Avg score", "Pass rate", "Findings",
    "General", "Major", "Closed", "On time", "Late", "Overdue", "Rect. rate", "Days to close",
    "Look-backs", "Reopen rate", "Rank"};

/* Per mille as a percent with one decimal ("66.7%"), or "-". */
static void pct(char *out, size_t cap, int64_t permille)
{
    if (permille < 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%lld.%lld%%", (long long)(permille / 10), (long long)(permille % 10));
}

static void x10(char *out, size_t cap, int64_t v)
{
    if (v < 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%lld.%lld", (long long)(v / 10), (long long)(v % 10));
}

void sc_stats_cells(const sc_stats_group *g, const sc_stats_view *v, bool indent,
                    char cells[SC_STATS_COL_N][SC_STATS_CELL_MAX])
{
    const sc_stats_figs *f = &g->f;
    sc_stats_rates r;
    sc_stats_rates_of(f, &r);
    if (v->by == SC_STATS_PERIOD) {
        sc_date_format(g->day, cells[SC_STATS_COL_KEY]);
    } else {
        int pad = indent && g->depth > 0 ? 2 * (g->depth < 16 ? g->depth : 16) : 0;
        snprintf(cells[SC_STATS_COL_KEY], SC_STATS_CELL_MAX, "%*s%s", pad, "",
                 g->name[0] ? g->name : g->code);
    }
    unsigned long long n[] = {f->checks,   f->by_disclosure[1], f->by_disclosure[2],
                              f->by_disclosure[3]};
    for (int i = 0; i < 4; i++)
        snprintf(cells[SC_STATS_COL_CHECKS + i], SC_STATS_CELL_MAX, "%llu", n[i]);
    x10(cells[SC_STATS_COL_AVG], SC_STATS_CELL_MAX, r.avg_score_x10);
    pct(cells[SC_STATS_COL_PASS], SC_STATS_CELL_MAX, r.pass_permille);
    unsigned long long m[] = {f->findings, f->general, f->major,  f->closed,
                              f->on_time,  f->late,    f->overdue};
    for (int i = 0; i < 7; i++)
        snprintf(cells[SC_STATS_COL_FINDINGS + i], SC_STATS_CELL_MAX, "%llu", m[i]);
    pct(cells[SC_STATS_COL_RATE], SC_STATS_CELL_MAX, r.rect_permille);
    x10(cells[SC_STATS_COL_DAYS], SC_STATS_CELL_MAX, r.close_days_x10);
    snprintf(cells[SC_STATS_COL_LOOK], SC_STATS_CELL_MAX, "%llu",
             (unsigned long long)f->look_backs);
    pct(cells[SC_STATS_COL_REOPEN], SC_STATS_CELL_MAX, r.reopen_permille);
    if (v->by == SC_STATS_ORG && g->rank)
        snprintf(cells[SC_STATS_COL_RANK], SC_STATS_CELL_MAX, "%u/%u", g->rank, g->siblings);
    else
        snprintf(cells[SC_STATS_COL_RANK], SC_STATS_CELL_MAX, "-");
}

static const char *key_head(const sc_stats_view *v)
{
    if (v->by == SC_STATS_TARGET)
        return v->en ? "Target" : "检查对象";
    if (v->by == SC_STATS_PERIOD)
        return v->en ? "Period from" : "起始日期";
    return v->en ? "Unit" : "单位";
}

const char *sc_stats_heading(const sc_stats_view *v, int col)
{
    if (col == SC_STATS_COL_KEY)
        return key_head(v);
    return col > 0 && col < SC_STATS_COL_N ? (v->en ? head_en[col] : head_zh[col]) : "";
}

static void out_csv(buf *b, const sc_stats_group *g, size_t n, const sc_stats_view *v)
{
    size_t cols = v->by == SC_STATS_ORG ? SC_STATS_COL_N : SC_STATS_COL_N - 1;
    sc_ledger_cell cells[SC_STATS_COL_N];
    char *line = NULL;
    size_t cap = 0, len = 0;
    for (size_t c = 0; c < cols; c++)
        cells[c] = (sc_ledger_cell){SC_CELL_TEXT, sc_stats_heading(v, (int)c), 0};
    if (sc_csv_line(b->env, cells, cols, true, &line, &cap, &len) != SC_OK)
        b->oom = true;
    put(b, line ? line : "", line ? len : 0);
    char text[SC_STATS_COL_N][SC_STATS_CELL_MAX];
    for (size_t i = 0; i < n && !b->oom; i++) {
        sc_stats_cells(&g[i], v, false, text);
        for (size_t c = 0; c < cols; c++)
            cells[c] = (sc_ledger_cell){c == SC_STATS_COL_KEY ? SC_CELL_TEXT : SC_CELL_INT, text[c],
                                        0};
        if (sc_csv_line(b->env, cells, cols, false, &line, &cap, &len) != SC_OK)
            b->oom = true;
        else
            put(b, line, len);
    }
    sc_free(b->env, line);
}

/* ---- the table ---- */

/* Display cells of one code point: two for East Asian wide and fullwidth ones (UAX #11). */
static int cp_width(uint32_t c)
{
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF && c != 0x303F) ||
                   (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
                   (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
                   (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD)
               ? 2
               : 1;
}

/* Display cells of a UTF-8 string (a byte that starts no sequence counts one). */
size_t sc_text_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c = *p;
        int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        c &= extra == 3 ? 0x07 : extra == 2 ? 0x0F : extra == 1 ? 0x1F : 0xFF;
        p++;
        for (int i = 0; i < extra && (*p & 0xC0) == 0x80; i++, p++)
            c = c << 6 | (*p & 0x3F);
        w += (size_t)cp_width(c);
    }
    return w;
}

/* Pad a cell to width cells: the key left-aligned, figures right-aligned. */
static void put_cell(buf *b, const char *text, size_t width, bool left)
{
    size_t w = sc_text_width(text);
    size_t pad = width > w ? width - w : 0;
    if (left)
        put(b, text, strlen(text));
    for (size_t i = 0; i < pad; i++)
        put_s(b, " ");
    if (!left)
        put(b, text, strlen(text));
}

static void out_table(buf *b, const sc_stats_group *g, size_t n, const sc_stats_view *v)
{
    size_t cols = v->by == SC_STATS_ORG ? SC_STATS_COL_N : SC_STATS_COL_N - 1;
    size_t width[SC_STATS_COL_N];
    char text[SC_STATS_COL_N][SC_STATS_CELL_MAX];
    for (size_t c = 0; c < cols; c++)
        width[c] = sc_text_width(sc_stats_heading(v, (int)c));
    for (size_t i = 0; i < n; i++) {
        sc_stats_cells(&g[i], v, true, text);
        for (size_t c = 0; c < cols; c++) {
            size_t w = sc_text_width(text[c]);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (size_t c = 0; c < cols; c++) {
        put(b, c ? "  " : "", c ? 2 : 0);
        put_cell(b, sc_stats_heading(v, (int)c), width[c], c == SC_STATS_COL_KEY);
    }
    put_s(b, "\n");
    for (size_t i = 0; i < n; i++) {
        sc_stats_cells(&g[i], v, true, text);
        for (size_t c = 0; c < cols; c++) {
            put(b, c ? "  " : "", c ? 2 : 0);
            put_cell(b, text[c], width[c], c == SC_STATS_COL_KEY);
        }
        put_s(b, "\n");
    }
}

sc_status sc_stats_render(const sc_env *env, const sc_stats_group *g, size_t n,
                          const sc_stats_view *v, char **out, size_t *len)
{
    buf b = {env, NULL, 0, 0, false};
    *out = NULL;
    *len = 0;
    if (v->format == SC_STATS_JSON)
        out_json(&b, g, n, v);
    else if (v->format == SC_STATS_CSV)
        out_csv(&b, g, n, v);
    else
        out_table(&b, g, n, v);
    put(&b, "", 0);
    if (b.oom) {
        sc_free(env, b.p);
        return SC_ERR_NOMEM;
    }
    *out = b.p;
    *len = b.len;
    return SC_OK;
}
