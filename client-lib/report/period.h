/*
 * period.h: the period report (docs/reports.md, "Period report"): one
 * self-contained HTML file for an org unit and a period, shared by the
 * client (its replica: what its user may see) and syncd (the whole
 * register).  It holds the statistics of the unit and its child units (the
 * statistics' own fold and cells: core/stats.c, stats_out.c), two charts
 * (report/svg.c: 整改率 per child unit, findings found against closed per
 * day, week, month or year), the open major hazards with their
 * rectification plans (整改方案), the overdue findings and the escalations
 * recorded in the period, each finding's row taken from the findings
 * ledger (core/ledger.c) so every figure means what it means there.
 *
 * The caller feeds it states as it does the statistics: every org unit
 * (sc_period_org), then every inspection and finding (sc_period_add), then
 * asks for the page.  Nothing here reads a clock, a file or a network.
 *
 * The page prints to A4 with a page count that follows from its rows:
 * each section begins a page, and its tables are cut into pages of a fixed
 * number of rows of fixed height (the SC_PERIOD_*_ROWS below), each with
 * its header row, so a section takes max(1, ceil(rows / per page)) pages.
 * tests/e2e/report_period.sh counts them in a PDF Chromium prints.
 */
#ifndef SC_REPORT_PERIOD_H
#define SC_REPORT_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ledger.h"
#include "core/stats.h"

/* Rows per printed page: the statistics (its first page under the title, then the rest). */
#define SC_PERIOD_STATS_FIRST 20
#define SC_PERIOD_STATS_ROWS  30
/* Bars per page of the 整改率 chart (its first page under the trend chart, then the rest). */
#define SC_PERIOD_BARS_FIRST 16
#define SC_PERIOD_BARS_ROWS  30
/* Open major hazards per page (each row three lines: the plan). */
#define SC_PERIOD_MAJOR_ROWS 16
/* Overdue findings, and escalations, per page. */
#define SC_PERIOD_LIST_ROWS 30

/* A period report's query, parsed; the org unit is the caller's to resolve. */
typedef struct sc_period_spec {
    uint8_t org[SC_ID_LEN]; /* the org unit (id) */
    int32_t from, to;       /* the period's first and last day */
    char period[48];        /* the period as asked, for the title */
    bool en;                /* English (else Chinese) */
    int32_t as_of;          /* the day overdue is counted to */
    int64_t generated_ms;   /* when the report is made (the caller's clock), for the title */
} sc_period_spec;

/*
 * Parse q's period (required), lang and as_of (today: its default) into
 * *out; org is left unset.  A value that is not valid is
 * SC_ERR_INVALID_ARG naming the valid ones.
 */
sc_status sc_period_spec_parse(const sc_period_query *q, int32_t today, sc_period_spec *out,
                               sc_err *err);

typedef struct sc_period sc_period;

/* A new report over src for spec (both copied). */
sc_status sc_period_new(const sc_env *env, const sc_ledger_src *src, const sc_period_spec *spec,
                        sc_period **out);
/* Free it; NULL is a no-op. */
void sc_period_free(sc_period *p);
/* An org unit's state: every one, each once, before any other (others are ignored). */
sc_status sc_period_org(sc_period *p, const Scpb__EntityState *st, sc_err *err);
/* An inspection's or finding's state (others, and voided ones, are ignored). */
sc_status sc_period_add(sc_period *p, const Scpb__EntityState *st, sc_err *err);
/*
 * The page: *html (NUL-terminated, allocated with env), *len bytes.
 * SC_ERR_NOT_FOUND when the spec's org unit is not among the org units fed.
 */
sc_status sc_period_render(sc_period *p, char **html, size_t *len, sc_err *err);

#endif
