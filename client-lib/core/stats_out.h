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

/* Display cells of a UTF-8 string: 2 for an East Asian wide or fullwidth character, else 1. */
size_t sc_text_width(const char *s);

#endif
