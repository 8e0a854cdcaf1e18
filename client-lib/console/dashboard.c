/*
 * dashboard.c: the console's dashboard (统计看板), with no HTTP in it: the
 * statistics of a window of days (sc_report_stats, by org unit, the
 * findings found in it) and two charts drawn here, server-side, by
 * report/svg.c, as the printed period report draws them: 整改率 of an org
 * unit's child units (a bar chart on a 0-100 % axis), and findings found
 * against findings closed (销号) per day, week or month of the window (a
 * line chart), a finding counted where its found day and its closing day
 * fall, from the findings ledger's own rows (sc_report_ledger's Found and
 * Closed).  The ledger pass runs on a thread with a read-only handle of its
 * own while the statistics are made on the console's handle (two snapshots
 * a moment apart; each handle used by one thread, as the library asks).
 * Every name in a chart is escaped by svg.c; the page inserts the SVG as it
 * comes.  Nothing here changes the replica.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "core/date.h"
#include "core/limits.h"
#include "svg.h"

enum { BY_DAY, BY_WEEK, BY_MONTH };

/* "YYYY-MM-DD" into days since 1970-01-01; false when it is not a day of the calendar. */
static bool parse_day(const char *s, int32_t *out)
{
    return s && sc_date_parse(s, strlen(s), out) == SC_OK;
}

/* The bucket of day: its index from the window's first bucket. */
static int32_t bucket_of(int by, int32_t from, int32_t day)
{
    if (by == BY_DAY)
        return day - from;
    if (by == BY_WEEK) /* weeks from Monday: 1970-01-05 was one */
        return (day - ((day - 4) % 7 + 7) % 7 - (from - ((from - 4) % 7 + 7) % 7)) / 7;
    int y0, m0, d0, y, m, d;
    sc_date_to_civil(from, &y0, &m0, &d0);
    sc_date_to_civil(day, &y, &m, &d);
    return (y * 12 + m) - (y0 * 12 + m0);
}

/* The label of bucket i: its first day as "MM-DD" (days, weeks from Monday) or "YYYY-MM". */
static void bucket_label(int by, int32_t from, int32_t i, char out[12])
{
    int y, m, d;
    if (by == BY_MONTH) {
        sc_date_to_civil(from, &y, &m, &d);
        int k = (m - 1) + i;
        snprintf(out, 12, "%04d-%02d", y + k / 12, k % 12 + 1);
        return;
    }
    int32_t day = by == BY_DAY ? from + i : from - ((from - 4) % 7 + 7) % 7 + 7 * i;
    sc_date_to_civil(day, &y, &m, &d);
    snprintf(out, 12, "%02d-%02d", m, d);
}

/* Findings found and closed per bucket, from the ledger's rows. */
typedef struct cs_trend {
    int by;
    int32_t from, to; /* the window, days since 1970-01-01, both included */
    size_t n;         /* buckets */
    int64_t *found, *closed; /* n each; owned */
    int col_found, col_closed; /* the Found and Closed columns, from the header; -1: none */
} cs_trend;

static void count_day(const cs_trend *t, const sc_ledger_cell *c, int64_t *into)
{
    if (c->type != SC_CELL_DATE || c->number < t->from || c->number > t->to)
        return;
    into[bucket_of(t->by, t->from, (int32_t)c->number)]++;
}

static int take_row(void *ctx, const sc_ledger_row *row)
{
    cs_trend *t = ctx;
    if (row->header) {
        for (size_t i = 0; i < row->n; i++) {
            if (strcmp(row->cells[i].text, "Found") == 0)
                t->col_found = (int)i;
            else if (strcmp(row->cells[i].text, "Closed") == 0)
                t->col_closed = (int)i;
        }
        return t->col_found >= 0 && t->col_closed >= 0 ? 0 : -1;
    }
    if ((size_t)t->col_found < row->n)
        count_day(t, &row->cells[t->col_found], t->found);
    if ((size_t)t->col_closed < row->n)
        count_day(t, &row->cells[t->col_closed], t->closed);
    return 0;
}

/* The labels a dashboard's charts carry, as the period report words them. */
typedef struct cs_words {
    const char *rate, *trend[3], *found, *closed, *none;
} cs_words;

static const cs_words words_zh = {"整改率（下级单位）",
                                  {"发现问题与销号（按日）", "发现问题与销号（按周）",
                                   "发现问题与销号（按月）"},
                                  "发现问题",
                                  "销号",
                                  "无"};
static const cs_words words_en = {"Rectification rate by child unit",
                                  {"Findings found and closed, per day",
                                   "Findings found and closed, per week",
                                   "Findings found and closed, per month"},
                                  "Found",
                                  "Closed",
                                  "None"};

/* Count the window's findings found and closed in org's subtree (NULL: all), from the ledger. */
static sc_status count_trend(sc_client *c, cs_trend *t, const char *org)
{
    sc_ledger_query q = {.size = sizeof q, .ledger = "findings", .lang = "en", .org = org};
    return sc_report_ledger(c, &q, take_row, t, NULL);
}

/* The line chart of found against closed per bucket, and the counts into out's "trend". */
static sc_status trend_chart(const cs_trend *t, const cs_words *w, sc_svg_buf *b, json_t *out)
{
    sc_status s = SC_OK;
    char (*labels)[12] = calloc(t->n, sizeof *labels);
    const char **lp = calloc(t->n, sizeof *lp);
    json_t *buckets = json_array(), *found = json_array(), *closed = json_array();
    for (size_t i = 0; labels && lp && i < t->n; i++) {
        bucket_label(t->by, t->from, (int32_t)i, labels[i]);
        lp[i] = labels[i];
        json_array_append_new(buckets, json_string(labels[i]));
        json_array_append_new(found, json_integer(t->found[i]));
        json_array_append_new(closed, json_integer(t->closed[i]));
    }
    const sc_svg_series series[] = {{w->found, t->found}, {w->closed, t->closed}};
    if (!labels || !lp || sc_svg_lines(b, w->trend[t->by], lp, t->n, series, 2, w->none) != 0)
        s = SC_ERR_NOMEM;
    json_object_set_new(out, "trend", json_pack("{s:o,s:o,s:o}", "buckets", buckets, "found",
                                                found, "closed", closed));
    free(labels);
    free(lp);
    return s;
}

/*
 * The trend's ledger pass, on a thread and a read-only handle of its own
 * while the statistics are made on the console's: on two cores the
 * dashboard costs the longer of the two passes, not both.  What failed is
 * kept as the library said it, for the answer.
 */
typedef struct cs_trend_job {
    const char *db; /* the replica; NULL: counted on the console's handle after the statistics */
    const char *org;
    cs_trend *t;
    pthread_t th;
    bool started;
    sc_status s;
    char status[40], reason[40], message[512];
} cs_trend_job;

static void *trend_thread(void *arg)
{
    cs_trend_job *j = arg;
    sc_client *c = NULL;
    sc_open_options oo = {.size = sizeof oo, .mode = SC_OPEN_READONLY};
    j->s = sc_client_open_v3(j->db, &oo, &c, j->message, sizeof j->message);
    if (j->s == SC_OK && (j->s = count_trend(c, j->t, j->org)) != SC_OK) {
        snprintf(j->reason, sizeof j->reason, "%s", sc_client_reason(c));
        snprintf(j->message, sizeof j->message, "%s", sc_client_errmsg(c));
    }
    snprintf(j->status, sizeof j->status, "%s", sc_status_name(j->s));
    sc_client_close(c);
    return NULL;
}

/* Count the trend: started on its own thread when it can be, else here (after the statistics). */
static void trend_start(cs_trend_job *j)
{
    j->started = j->db && pthread_create(&j->th, NULL, trend_thread, j) == 0;
}

static sc_status trend_finish(sc_client *c, cs_trend_job *j, cs_answer *out)
{
    if (j->started)
        pthread_join(j->th, NULL);
    else
        j->s = count_trend(c, j->t, j->org);
    if (j->s == SC_OK)
        return SC_OK;
    if (!j->started)
        cs_api_fail(c, j->s, out);
    else
        cs_api_error(out, j->s == SC_ERR_NOT_FOUND ? 404 : 500, j->status, j->reason, j->message);
    return j->s;
}

/* The org unit org names among the statistics' groups (by code or id), or the root; -1: none. */
static long find_org(const json_t *groups, const char *org)
{
    for (size_t i = 0; i < json_array_size(groups); i++) {
        const json_t *g = json_array_get(groups, i);
        if (!org || strcmp(org, json_string_value(json_object_get(g, "code"))) == 0 ||
            strcmp(org, json_string_value(json_object_get(g, "id"))) == 0)
            return (long)i;
    }
    return -1;
}

/* A group's 整改率 in per mille, -1 when it has no findings (null). */
static int32_t rate_of(const json_t *g)
{
    const json_t *r = json_object_get(json_object_get(g, "findings"), "rectification_rate");
    return json_is_number(r) ? (int32_t)(json_number_value(r) * 1000 + 0.5) : -1;
}

/* The bar chart of 整改率 of the unit at groups[at]'s child units (itself when it has none). */
static sc_status rate_chart(const json_t *groups, long at, const cs_words *w, sc_svg_buf *b)
{
    size_t n = json_array_size(groups), k = 0;
    sc_svg_bar *bars = calloc(n ? n : 1, sizeof *bars);
    if (!bars)
        return SC_ERR_NOMEM;
    const json_t *unit = at >= 0 ? json_array_get(groups, (size_t)at) : NULL;
    json_int_t depth = json_integer_value(json_object_get(unit, "depth"));
    for (size_t i = (size_t)at + 1; unit && i < n; i++) {
        const json_t *g = json_array_get(groups, i);
        json_int_t d = json_integer_value(json_object_get(g, "depth"));
        if (d <= depth)
            break;
        if (d == depth + 1)
            bars[k++] = (sc_svg_bar){json_string_value(json_object_get(g, "name")), rate_of(g)};
    }
    if (k == 0 && unit)
        bars[k++] = (sc_svg_bar){json_string_value(json_object_get(unit, "name")), rate_of(unit)};
    int rc = sc_svg_bars(b, w->rate, bars, k, w->none);
    free(bars);
    return rc == 0 ? SC_OK : SC_ERR_NOMEM;
}

/* The window and its buckets the arguments ask for; false with the refusal in out. */
static bool window_of(cs_arg_fn arg, void *ctx, cs_trend *t, cs_answer *out)
{
    static const char *const bys[] = {"day", "week", "month"};
    const char *by = arg(ctx, "by");
    t->by = by && *by ? -1 : BY_WEEK;
    for (int i = 0; t->by < 0 && i < 3; i++)
        if (strcmp(by, bys[i]) == 0)
            t->by = i;
    char why[160];
    if (t->by < 0) {
        snprintf(why, sizeof why, "by \"%.40s\" is not valid: one of day, week, month", by);
        cs_api_error(out, 400, "SC_ERR_INVALID_ARG", "bad_field", why);
        return false;
    }
    if (!parse_day(arg(ctx, "from"), &t->from) || !parse_day(arg(ctx, "to"), &t->to) ||
        t->to < t->from) {
        cs_api_error(out, 400, "SC_ERR_INVALID_ARG", "bad_field",
                     "the dashboard's window is two days YYYY-MM-DD, from and to, from first");
        return false;
    }
    t->n = (size_t)bucket_of(t->by, t->from, t->to) + 1;
    if (t->n > SC_CONSOLE_CHART_BUCKETS_MAX) {
        snprintf(why, sizeof why,
                 "the window is %zu %ss: at most %d a chart (a shorter window, or by month)",
                 t->n, bys[t->by], SC_CONSOLE_CHART_BUCKETS_MAX);
        cs_api_error(out, 400, "SC_ERR_INVALID_ARG", "bad_field", why);
        return false;
    }
    t->col_found = t->col_closed = -1;
    t->found = calloc(t->n, sizeof *t->found);
    t->closed = calloc(t->n, sizeof *t->closed);
    if (!t->found || !t->closed) {
        cs_api_error(out, 500, "SC_ERR_NOMEM", "", "out of memory");
        return false;
    }
    return true;
}

/* The statistics by org unit of the findings found (checks opened) in the window, as JSON. */
static sc_status stats_of(sc_client *c, cs_arg_fn arg, void *ctx, json_t **stats)
{
    char period[64];
    snprintf(period, sizeof period, "%.20s..%.20s", arg(ctx, "from"), arg(ctx, "to"));
    const char *as_of = arg(ctx, "as_of"), *lang = arg(ctx, "lang");
    sc_stats_query q = {.size = sizeof q,
                        .by = "org",
                        .format = "json",
                        .lang = lang && *lang ? lang : NULL,
                        .period = period,
                        .as_of = as_of && *as_of ? as_of : NULL};
    char *text = NULL;
    sc_status s = sc_report_stats(c, &q, &text);
    if (s == SC_OK && !(*stats = json_loads(text, 0, NULL)))
        s = SC_ERR_NOMEM;
    sc_json_free(c, text);
    return s;
}

/* The two charts and the answer, once the statistics and the trend are counted. */
static void answer(const cs_trend *t, json_t *stats, const char *org, bool en, cs_answer *out)
{
    const json_t *groups = json_object_get(stats, "groups");
    long at = find_org(groups, org);
    if (org && at < 0) {
        char why[160];
        snprintf(why, sizeof why, "no org unit \"%.60s\" in the replica", org);
        cs_api_error(out, 404, "SC_ERR_NOT_FOUND", "unknown_reference", why);
        return;
    }
    const cs_words *w = en ? &words_en : &words_zh;
    sc_svg_buf rate = {0}, trend = {0};
    json_t *o = json_object();
    sc_status s = o ? rate_chart(groups, at, w, &rate) : SC_ERR_NOMEM;
    if (s == SC_OK)
        s = trend_chart(t, w, &trend, o);
    const json_t *unit = at >= 0 ? json_array_get(groups, (size_t)at) : NULL;
    if (s == SC_OK) {
        json_object_set(o, "stats", stats);
        json_object_set_new(o, "org", unit ? json_deep_copy(unit) : json_null());
        json_object_set_new(o, "charts", json_pack("{s:s,s:s}", "rate", rate.p ? rate.p : "",
                                                   "trend", trend.p ? trend.p : ""));
    }
    sc_svg_buf_dispose(&rate);
    sc_svg_buf_dispose(&trend);
    out->body = s == SC_OK ? json_dumps(o, JSON_COMPACT) : NULL;
    out->http = out->body ? 200 : 500;
    if (!out->body)
        cs_api_error(out, 500, "SC_ERR_NOMEM", "", "out of memory");
    json_decref(o);
}

void cs_dashboard(sc_client *c, const char *db, cs_arg_fn arg, void *ctx, cs_answer *out)
{
    const char *from = arg(ctx, "from"), *to = arg(ctx, "to"), *org = arg(ctx, "org");
    const char *lang = arg(ctx, "lang");
    if (!from || !*from || !to || !*to) {
        cs_api_error(out, 400, "SC_ERR_INVALID_ARG", "bad_field",
                     "the dashboard's window is two days YYYY-MM-DD, from and to");
        return;
    }
    org = org && *org ? org : NULL;
    cs_trend t = {0};
    json_t *stats = NULL;
    if (window_of(arg, ctx, &t, out)) {
        /* The trend of the unit asked for (the whole replica: the root's), counted meanwhile. */
        cs_trend_job j = {.db = db, .org = org, .t = &t};
        trend_start(&j);
        /* The library judges the window, so a day that is not one is refused in its words. */
        sc_status s = stats_of(c, arg, ctx, &stats);
        if (s != SC_OK) {
            if (j.started)
                pthread_join(j.th, NULL);
            if (s == SC_ERR_NOMEM)
                cs_api_error(out, 500, "SC_ERR_NOMEM", "", "out of memory");
            else
                cs_api_fail(c, s, out);
        } else if (trend_finish(c, &j, out) == SC_OK) {
            answer(&t, stats, org, lang && strcmp(lang, "en") == 0, out);
        }
    }
    json_decref(stats);
    free(t.found);
    free(t.closed);
}
