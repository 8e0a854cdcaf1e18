/*
 * stats_out.h: the statistics (stats.h) as text for people and programs:
 * JSON (docs/reports.md gives its shape), CSV (UTF-8 with a BOM, as the
 * ledgers) and a terminal table aligned in display cells, where a CJK
 * character takes two.  Rates are computed here from the counts, once.
 */
#ifndef SC_CORE_STATS_OUT_H
#define SC_CORE_STATS_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include "stats.h"

enum { SC_STATS_TABLE = 0, SC_STATS_JSON = 1, SC_STATS_CSV = 2 };

/* How the groups are shown. */
typedef struct sc_stats_view {
    int by;        /* SC_STATS_ORG, _TARGET, _PERIOD */
    int period;    /* SC_PERIOD_* when by period */
    int format;    /* SC_STATS_TABLE, _JSON, _CSV */
    bool en;       /* English headers (else Chinese) */
    int32_t as_of; /* the day overdue was counted to */
} sc_stats_view;

/* A statistics query, parsed. */
typedef struct sc_stats_spec {
    sc_stats_view view;
    bool has_period;
    int32_t from, to; /* count only what was found (opened) between these days */
} sc_stats_spec;

/* Parse q (today: as_of's default); a value not valid is SC_ERR_INVALID_ARG naming the valid. */
sc_status sc_stats_spec_parse(const sc_stats_query *q, int32_t today, sc_stats_spec *out,
                              sc_err *err);
/* Whether st (a finding or inspection) falls in the query's period. */
bool sc_stats_spec_keeps(const sc_stats_spec *sp, const Scpb__EntityState *st);

/* The n groups as text: *out (NUL-terminated, allocated with env), *len bytes. */
sc_status sc_stats_render(const sc_env *env, const sc_stats_group *g, size_t n,
                          const sc_stats_view *v, char **out, size_t *len);

/* The columns of the table and the CSV (by period or target: all but the rank). */
enum {
    SC_STATS_COL_KEY, SC_STATS_COL_CHECKS, SC_STATS_COL_OPEN_D, SC_STATS_COL_UNANN,
    SC_STATS_COL_EXPER, SC_STATS_COL_AVG, SC_STATS_COL_PASS, SC_STATS_COL_FINDINGS,
    SC_STATS_COL_GENERAL, SC_STATS_COL_MAJOR, SC_STATS_COL_CLOSED, SC_STATS_COL_ON_TIME,
    SC_STATS_COL_LATE, SC_STATS_COL_OVERDUE, SC_STATS_COL_RATE, SC_STATS_COL_DAYS,
    SC_STATS_COL_LOOK, SC_STATS_COL_REOPEN, SC_STATS_COL_RANK, SC_STATS_COL_N
};
#define SC_STATS_CELL_MAX (SC_NAME_MAX + 2 * 16 + 16)

/* A column's heading in v's language. */
const char *sc_stats_heading(const sc_stats_view *v, int col);
/*
 * The cells of one group as the table and the CSV show them ("66.7%", "-",
 * "1/2"): the figures are computed here once, for every format.  The key
 * is indented by depth when indent.
 */
void sc_stats_cells(const sc_stats_group *g, const sc_stats_view *v, bool indent,
                    char cells[SC_STATS_COL_N][SC_STATS_CELL_MAX]);

/* Display cells of a UTF-8 string: 2 for an East Asian wide or fullwidth character, else 1. */
size_t sc_text_width(const char *s);

#endif
