/*
 * ledger_spec.c: a ledger query's text into an sc_ledger_spec (ledger.h):
 * which ledger, the language, the names of grade, status, kind and source
 * (names.c's tables, so they are the names every other command takes), the
 * period and the day overdue days are counted to.  A refusal lists the
 * values that are valid.
 */
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "ledger.h"
#include "names.h"
#include "reason.h"
#include "stats_out.h"

/* Exactly n decimal digits at s into *out. */
static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* The Monday of ISO week 1 of year y: the week with the year's first Thursday. */
static int32_t iso_week1(int y)
{
    int32_t jan4;
    sc_date_from_civil(y, 1, 4, &jan4);
    /* Day 0 (1970-01-01) was a Thursday: Monday-based weekday is (d + 3) mod 7. */
    int wd = (int)(((jan4 + 3) % 7 + 7) % 7);
    return jan4 - wd;
}

static sc_status one_period(const char *t, size_t n, int32_t *from, int32_t *to)
{
    int y, m, q, w;
    if (n < 4 || !digits(t, 4, &y) || y < 1970 || y > 9999)
        return SC_ERR_INVALID_ARG;
    if (n == 10) {
        if (sc_date_parse(t, n, from) != SC_OK)
            return SC_ERR_INVALID_ARG;
        *to = *from;
        return SC_OK;
    }
    if (n == 4) {
        sc_date_from_civil(y, 1, 1, from);
        sc_date_from_civil(y, 12, 31, to);
        return SC_OK;
    }
    if (t[4] != '-')
        return SC_ERR_INVALID_ARG;
    if (n == 7 && digits(t + 5, 2, &m) && m >= 1 && m <= 12) {
        sc_date_from_civil(y, m, 1, from);
        int32_t next;
        sc_date_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1, &next);
        *to = next - 1;
        return SC_OK;
    }
    if (n == 7 && (t[5] == 'Q' || t[5] == 'q') && digits(t + 6, 1, &q) && q >= 1 && q <= 4) {
        sc_date_from_civil(y, 3 * q - 2, 1, from);
        int32_t next;
        sc_date_from_civil(q == 4 ? y + 1 : y, q == 4 ? 1 : 3 * q + 1, 1, &next);
        *to = next - 1;
        return SC_OK;
    }
    if (n == 8 && (t[5] == 'W' || t[5] == 'w') && digits(t + 6, 2, &w) && w >= 1) {
        int32_t start = iso_week1(y) + 7 * (w - 1);
        if (start >= iso_week1(y + 1))
            return SC_ERR_INVALID_ARG; /* the year has no such week */
        *from = start;
        *to = start + 6;
        return SC_OK;
    }
    return SC_ERR_INVALID_ARG;
}

sc_status sc_period_parse(const char *text, int32_t *from, int32_t *to)
{
    const char *dots = strstr(text, "..");
    if (!dots)
        return one_period(text, strlen(text), from, to);
    int32_t a, b, ignore;
    if (dots - text != 10 || strlen(dots + 2) != 10 ||
        one_period(text, 10, &a, &ignore) != SC_OK || one_period(dots + 2, 10, &b, &ignore) != SC_OK ||
        a > b)
        return SC_ERR_INVALID_ARG;
    *from = a;
    *to = b;
    return SC_OK;
}

/* A name of table t, or -1 for NULL; a refusal listing t's names otherwise. */
static sc_status name_or_any(const sc_names *t, const char *what, const char *v, int *out,
                             sc_err *err)
{
    *out = -1;
    if (!v)
        return SC_OK;
    if (sc_name_parse(t, v, out))
        return SC_OK;
    char list[512];
    sc_names_join(t, list, sizeof list);
    return sc_err_set(err, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                      "%s \"%s\" is not valid: one of %s", what, v, list);
}

/* One of two words: *second set when it is the second; NULL is the first. */
static sc_status either(const char *what, const char *v, const char *a, const char *b,
                        bool *second, sc_err *err)
{
    *second = v && strcmp(v, b) == 0;
    if (!v || *second || strcmp(v, a) == 0)
        return SC_OK;
    return sc_err_set(err, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                      "%s \"%s\" is not valid: one of %s, %s", what, v, a, b);
}

/* A query's period (NULL: none) and as-of day (NULL: *as_of kept). */
static sc_status period_and_day(const char *period, const char *as_of, bool *has, int32_t *from,
                                int32_t *to, int32_t *day, sc_err *err)
{
    if (period) {
        if (sc_period_parse(period, from, to) != SC_OK)
            return sc_err_set(err, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                              "period \"%s\" is not valid: one of YYYY-MM-DD, YYYY-Www, YYYY-MM, "
                              "YYYY-Qn, YYYY, or YYYY-MM-DD..YYYY-MM-DD",
                              period);
        *has = true;
    }
    if (as_of && sc_date_parse(as_of, strlen(as_of), day) != SC_OK)
        return sc_err_set(err, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                          "as-of \"%s\" is not a day: YYYY-MM-DD", as_of);
    return SC_OK;
}

sc_status sc_ledger_spec_parse(const sc_ledger_query *q, int32_t today, sc_ledger_spec *out,
                               sc_err *err)
{
    memset(out, 0, sizeof *out);
    out->as_of = today;
    sc_status s;
    if ((s = either("ledger", q->ledger, "findings", "checks", &out->checks, err)) != SC_OK ||
        (s = either("lang", q->lang, "zh", "en", &out->en, err)) != SC_OK)
        return s;
    const sc_names *statuses = out->checks ? &sc_names_inspection_status : &sc_names_finding_status;
    if ((s = name_or_any(&sc_names_grade, "grade", q->grade, &out->grade, err)) != SC_OK ||
        (s = name_or_any(statuses, out->checks ? "inspection status" : "finding status", q->status,
                         &out->status, err)) != SC_OK ||
        (s = name_or_any(&sc_names_kind, "kind", q->kind, &out->kind, err)) != SC_OK ||
        (s = name_or_any(&sc_names_source, "source", q->source, &out->source, err)) != SC_OK)
        return s;
    if (out->checks && (q->grade || q->source))
        return sc_err_set(err, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                          "the checks ledger has no grade or source: those filter findings");
    return period_and_day(q->period, q->as_of, &out->has_period, &out->from, &out->to,
                          &out->as_of, err);
}

sc_status sc_stats_spec_parse(const sc_stats_query *q, int32_t today, sc_stats_spec *out,
                              sc_err *err)
{
    static const char *const bys[] = {"org", "target", "day", "week", "month", "quarter"};
    static const char *const formats[] = {"table", "json", "csv"};
    memset(out, 0, sizeof *out);
    out->view.as_of = today;
    size_t i = 0;
    while (q->by && i < 6 && strcmp(q->by, bys[i]) != 0)
        i++;
    if (i == 6)
        return sc_err_set(err, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                          "by \"%s\" is not valid: one of org, target, day, week, month, quarter",
                          q->by);
    out->view.by = i < 2 ? (int)i : SC_STATS_PERIOD;
    out->view.period = i < 2 ? 0 : (int)i - 2;
    size_t f = 0;
    while (q->format && f < 3 && strcmp(q->format, formats[f]) != 0)
        f++;
    if (f == 3)
        return sc_err_set(err, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                          "format \"%s\" is not valid: one of table, json, csv", q->format);
    out->view.format = (int)f;
    sc_status s = either("lang", q->lang, "zh", "en", &out->view.en, err);
    if (s != SC_OK)
        return s;
    return period_and_day(q->period, q->as_of, &out->has_period, &out->from, &out->to,
                          &out->view.as_of, err);
}

bool sc_stats_spec_keeps(const sc_stats_spec *sp, const Scpb__EntityState *st)
{
    if (!sp->has_period)
        return true;
    int32_t day = sc_date_from_ms((int64_t)(st->created_hlc >> 16));
    return day >= sp->from && day <= sp->to;
}
