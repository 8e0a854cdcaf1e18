/*
 * stats.h: the statistics of findings and inspections (docs/reports.md,
 * "Statistics"), folded one state at a time, shared by the client (its
 * replica) and syncd (the whole register).
 *
 * Groups are org units (each finding or check counts for its target's
 * org unit and every unit above it: rolled up the tree), targets, or
 * periods (day, ISO week, month, quarter: by the day a finding was found
 * or a check opened).  Every org unit is a group even with nothing in it,
 * so a unit with no findings shows as such and its siblings are ranked
 * beside it.  Memory grows with the org units, targets and periods, never
 * with the findings.
 */
#ifndef SC_CORE_STATS_H
#define SC_CORE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "limits.h"
#include "state.pb-c.h"
#include "status.h"

enum { SC_STATS_ORG = 0, SC_STATS_TARGET = 1, SC_STATS_PERIOD = 2 };
enum { SC_PERIOD_DAY = 0, SC_PERIOD_WEEK = 1, SC_PERIOD_MONTH = 2, SC_PERIOD_QUARTER = 3 };

#define SC_STATS_KINDS 17 /* Scpb__InspectionKind values, 0 unspecified */
#define SC_STATS_DISCLOSURES 4

/* The counts of one group; the rates are derived (sc_stats_rates). */
typedef struct sc_stats_figs {
    uint64_t checks;                          /* inspections */
    uint64_t by_kind[SC_STATS_KINDS];         /* by InspectionKind */
    uint64_t by_disclosure[SC_STATS_DISCLOSURES]; /* by Disclosure */
    uint64_t submitted;                       /* checks submitted */
    uint64_t scored;                          /* submitted, every item scored, on a known sheet */
    int64_t score_sum;                        /* their points */
    uint64_t passed;                          /* of those, passed */
    uint64_t findings;
    uint64_t general, major;                  /* by grade */
    uint64_t closed;                          /* closed (销号) */
    uint64_t on_time;                         /* closed, never a day past the deadline in force */
    uint64_t late;                            /* closed after some day past it */
    uint64_t overdue;                         /* open and past the deadline in force on as_of */
    uint64_t close_days;                      /* sum of found-to-closed days over the closed */
    uint64_t look_backs;                      /* look-back revisits (回头看) naming them */
    uint64_t ever_closed;                     /* closed now, or reopened after a closure */
    uint64_t reopened;                        /* reopened at least once */
} sc_stats_figs;

/* What sc_stats_figs come to, as per mille (‰, integers: -1 when the base is 0). */
typedef struct sc_stats_rates {
    int64_t avg_score_x10;     /* mean points of scored checks, x10 */
    int32_t pass_permille;     /* passed / scored */
    int32_t rect_permille;     /* 整改率: closed / findings */
    int64_t close_days_x10;    /* mean days to close, x10 */
    int32_t reopen_permille;   /* reopened / ever closed */
} sc_stats_rates;

void sc_stats_rates_of(const sc_stats_figs *f, sc_stats_rates *out);

/* One group of the result. */
typedef struct sc_stats_group {
    uint8_t id[SC_ID_LEN];     /* org unit or target (SC_STATS_PERIOD: zero) */
    int32_t day;               /* SC_STATS_PERIOD: the period's first day */
    bool has_parent;           /* SC_STATS_ORG */
    uint8_t parent[SC_ID_LEN];
    int depth;                 /* SC_STATS_ORG: 0 for a root */
    char code[SC_CODE_MAX + 1];
    char name[SC_NAME_MAX + 1];
    uint32_t rank;             /* SC_STATS_ORG: by 整改率 among its siblings, 1 first; 0 unranked */
    uint32_t siblings;         /* how many are ranked beside it */
    sc_stats_figs f;
} sc_stats_group;

/* Where states come from (the ledger's source: ledger.h). */
typedef struct sc_ledger_src sc_ledger_src;

typedef struct sc_stats sc_stats;

/*
 * A new fold: group by `by` (SC_STATS_*; period: SC_PERIOD_*), counting
 * overdue as of day as_of.  An org-unit fold needs every org unit first
 * (sc_stats_org, each once).
 */
sc_status sc_stats_new(const sc_env *env, const sc_ledger_src *src, int by, int period,
                       int32_t as_of, sc_stats **out);
void sc_stats_free(sc_stats *s);
/* An org unit's state (any other state is ignored). */
sc_status sc_stats_org(sc_stats *s, const Scpb__EntityState *st, sc_err *err);
/* A finding's or inspection's state (voided ones and others are ignored). */
sc_status sc_stats_add(sc_stats *s, const Scpb__EntityState *st, sc_err *err);
/*
 * The groups, ranked: org units in tree order (each after its parent,
 * siblings by code), targets by code, periods by day.  Borrowed until the
 * fold is freed.
 */
sc_status sc_stats_groups(sc_stats *s, const sc_stats_group **out, size_t *n, sc_err *err);
/* The period bucket a day falls in: its first day. */
int32_t sc_stats_bucket(int period, int32_t day);

#endif
