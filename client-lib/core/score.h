/*
 * score.h: the score of an inspection against its score sheet (DOMAIN §2).
 *
 * Each item in effect counts: met -> its points (max_points when none are
 * given), not met -> its points (0 when none), unknown -> 0, n.a. -> left out
 * of both the total and the maximum.  The pass mark scales with the items
 * that apply: passed when total * max_total >= pass_mark * applicable_max.
 * A veto item (一票否决) that is not met fails the sheet whatever the total.
 */
#ifndef SC_CORE_SCORE_H
#define SC_CORE_SCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "state.pb-c.h"
#include "status.h"

typedef struct sc_score {
    int64_t total;            /* points scored */
    int64_t max_total;        /* sum of max_points over the sheet */
    int64_t applicable_max;   /* sum of max_points over items not n.a. */
    int32_t pass_mark;        /* as published */
    uint32_t items;           /* items on the sheet */
    uint32_t scored;          /* items with a result in effect */
    bool complete;            /* every item has a result */
    bool vetoed;              /* a veto item is not met */
    bool passed;              /* complete, not vetoed, and at or above the (scaled) pass mark */
    char veto_item[SC_CODE_MAX + 1]; /* the first vetoing item code, "" if none */
} sc_score;

/*
 * Score `insp` against `tpl`.  Results for codes the sheet does not have are
 * ignored.  SC_ERR_INVALID_ARG when either is NULL.
 */
sc_status sc_score_inspection(const Scpb__TemplateState *tpl, const Scpb__InspectionState *insp,
                              sc_score *out);

#endif
