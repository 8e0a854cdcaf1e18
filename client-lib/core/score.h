/*
 * score.h: the score of an inspection against its score sheet (DOMAIN §2),
 * and the rules a result, a sheet and a submission must meet to be scored.
 *
 * Each item in effect counts: met -> its points (max_points when none are
 * given), not met -> its points (0 when none), unknown -> 0, n.a. -> left out
 * of both the total and the maximum.  A deduction item (SCORE_DEDUCT, 扣分)
 * scores its maximum less the points deducted: met with no deduction is the
 * maximum, not met with none is 0.  An item with sub-items (5+5+5+3+2, 八有)
 * scores the sum of its sub-items, at most its own maximum; a sub-item n.a.
 * takes its points out of its item's maximum, and the item is n.a. when all
 * of them are.  Only items that are no sub-item add up to the total.
 *
 * The pass mark scales with the items that apply: passed when total *
 * max_total >= pass_mark * applicable_max.  A veto item (一票否决) that is
 * not met (an item with sub-items: one of them not met) fails the sheet
 * whatever the total.  A complete sheet, not vetoed, earns the highest grade
 * band (精美/达标) whose min_points it reaches, scaled like the pass mark.
 *
 * Both sides judge with these: the client before it records, syncd before
 * it logs (and `syncd audit` and the fold never need them: they concern
 * the sheet, which is another entity).
 */
#ifndef SC_CORE_SCORE_H
#define SC_CORE_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "state.pb-c.h"
#include "status.h"

typedef struct sc_score {
    int64_t total;            /* points scored */
    int64_t max_total;        /* sum of max_points over the sheet's items (not sub-items) */
    int64_t applicable_max;   /* the same over what applies */
    int32_t pass_mark;        /* as published */
    uint32_t items;           /* items to score: those without sub-items */
    uint32_t scored;          /* of those, with a result in effect */
    bool complete;            /* every item to score has a result */
    bool vetoed;              /* a veto item is not met */
    bool passed;              /* complete, not vetoed, and at or above the (scaled) pass mark */
    char veto_item[SC_CODE_MAX + 1]; /* the first vetoing item code, "" if none */
    char grade[SC_NAME_MAX + 1];     /* the grade band earned, "" if none */
} sc_score;

/* One item's part of the score, in the sheet's order. */
typedef struct sc_item_score {
    int64_t points;  /* scored (0 while unscored) */
    int64_t max;     /* its maximum as it applies (n.a. sub-items taken out) */
    bool scored;     /* it has a result (an item with sub-items: all of them have) */
    bool applies;    /* not n.a. */
} sc_item_score;

/*
 * Score `insp` against `tpl`; items (may be NULL) gets tpl->n_items entries.
 * Results for codes the sheet does not have, or for an item with sub-items,
 * are ignored.  SC_ERR_INVALID_ARG when either is NULL.
 */
sc_status sc_score_items(const Scpb__TemplateState *tpl, const Scpb__InspectionState *insp,
                         sc_score *out, sc_item_score *items);
sc_status sc_score_inspection(const Scpb__TemplateState *tpl, const Scpb__InspectionState *insp,
                              sc_score *out);

/* Whether the item of tpl with this code has sub-items (and so is scored by them). */
bool sc_template_has_subs(const Scpb__TemplateState *tpl, const char *code);
/* The item of tpl with this code, or NULL. */
const Scpb__TemplateItem *sc_template_item(const Scpb__TemplateState *tpl, const char *code);

/*
 * Whether the result r can be recorded against tpl: 0 (SC_REASON_NONE), or
 * the reason (SC_REASON_UNKNOWN_REFERENCE: no such item; SC_REASON_BAD_FIELD:
 * an item scored by its sub-items, points over the item's maximum, a
 * deduction on an item scored by points earned or points on a deduction
 * item, a deduction that takes the item below zero) with why in `why`.
 */
int sc_score_check_result(const Scpb__TemplateState *tpl, const Scpb__ItemResult *r, char *why,
                          size_t cap);

/*
 * Whether an inspection in state st (its results and photos) may be
 * submitted against tpl: every item not met that asks for a photo when not
 * met has a photo attached with its item code.  0, or SC_REASON_BAD_FIELD
 * naming the first such item in `why`.
 */
int sc_score_check_submit(const Scpb__TemplateState *tpl, const Scpb__EntityState *st, char *why,
                          size_t cap);

#endif
