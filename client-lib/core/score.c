/*
 * score.c: an inspection's total and pass/fail against its score sheet.
 *
 * Pure arithmetic on the folded states; 64-bit sums so a sheet of 500 items
 * at 1000 points cannot overflow, and the pass test compares cross products
 * so no rounding decides a pass.
 */
#include "score.h"

#include <string.h>

static const Scpb__ItemResult *result_for(const Scpb__InspectionState *insp, const char *code)
{
    for (size_t k = 0; k < insp->n_results; k++)
        if (insp->results[k]->item_code && strcmp(insp->results[k]->item_code, code) == 0)
            return insp->results[k];
    return NULL;
}

sc_status sc_score_inspection(const Scpb__TemplateState *tpl, const Scpb__InspectionState *insp,
                              sc_score *out)
{
    if (!out)
        return SC_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!tpl || !insp)
        return SC_ERR_INVALID_ARG;
    out->pass_mark = tpl->pass_mark;
    out->items = (uint32_t)tpl->n_items;
    for (size_t k = 0; k < tpl->n_items; k++) {
        const Scpb__TemplateItem *item = tpl->items[k];
        const char *code = item->code ? item->code : "";
        int64_t max = item->max_points;
        out->max_total += max;
        const Scpb__ItemResult *r = result_for(insp, code);
        if (!r) {
            out->applicable_max += max;
            continue;
        }
        out->scored++;
        switch (r->status) {
        case SCPB__ITEM_STATUS__ITEM_MET:
            out->applicable_max += max;
            out->total += r->has_points ? (r->points < max ? r->points : max) : max;
            break;
        case SCPB__ITEM_STATUS__ITEM_NOT_MET:
            out->applicable_max += max;
            out->total += r->has_points ? (r->points < max ? r->points : max) : 0;
            if (item->veto && !out->vetoed) {
                out->vetoed = true;
                size_t len = strlen(code);
                if (len > SC_CODE_MAX)
                    len = SC_CODE_MAX;
                memcpy(out->veto_item, code, len);
                out->veto_item[len] = '\0';
            }
            break;
        case SCPB__ITEM_STATUS__ITEM_NA:
            break;
        default: /* unknown: applies, scores nothing */
            out->applicable_max += max;
            break;
        }
    }
    out->complete = out->scored == out->items;
    /* total / applicable_max >= pass_mark / max_total, without division. */
    bool above = out->applicable_max == 0
                     ? out->pass_mark <= 0
                     : out->total * out->max_total >= (int64_t)out->pass_mark * out->applicable_max;
    out->passed = out->complete && !out->vetoed && above;
    return SC_OK;
}
