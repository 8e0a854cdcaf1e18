/*
 * score.c: an inspection's total, pass/fail and grade band against its
 * score sheet, and the rules of results and submissions (score.h).
 *
 * Pure arithmetic on the folded states; 64-bit sums so a sheet of 500 items
 * at 1000 points cannot overflow, and the pass and band tests compare cross
 * products so no rounding decides them.
 */
#include "score.h"

#include <stdio.h>
#include <string.h>

#include "reason.h"

static const Scpb__ItemResult *result_for(const Scpb__InspectionState *insp, const char *code)
{
    for (size_t k = 0; k < insp->n_results; k++)
        if (insp->results[k]->item_code && strcmp(insp->results[k]->item_code, code) == 0)
            return insp->results[k];
    return NULL;
}

const Scpb__TemplateItem *sc_template_item(const Scpb__TemplateState *tpl, const char *code)
{
    for (size_t k = 0; tpl && code && k < tpl->n_items; k++)
        if (tpl->items[k]->code && strcmp(tpl->items[k]->code, code) == 0)
            return tpl->items[k];
    return NULL;
}

static bool is_sub_of(const Scpb__TemplateItem *it, const char *code)
{
    return it->parent && code && strcmp(it->parent, code) == 0;
}

bool sc_template_has_subs(const Scpb__TemplateState *tpl, const char *code)
{
    for (size_t k = 0; k < tpl->n_items; k++)
        if (is_sub_of(tpl->items[k], code))
            return true;
    return false;
}

static void copy_code(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* An item scored on its own result (no sub-items); *not_met when it is not met. */
static sc_item_score score_leaf(const Scpb__TemplateItem *item, const Scpb__ItemResult *r,
                                bool *not_met)
{
    int64_t max = item->max_points;
    sc_item_score s = {.points = 0, .max = max, .scored = r != NULL, .applies = true};
    *not_met = false;
    if (!r)
        return s;
    bool deduct = item->mode == SCPB__SCORE_MODE__SCORE_DEDUCT;
    int64_t less = r->has_deduction ? (r->deduction < max ? r->deduction : max) : 0;
    int64_t given = r->has_points ? (r->points < max ? r->points : max) : 0;
    if (less < 0)
        less = 0;
    switch (r->status) {
    case SCPB__ITEM_STATUS__ITEM_MET:
        s.points = deduct ? max - less : r->has_points ? given : max;
        break;
    case SCPB__ITEM_STATUS__ITEM_NOT_MET:
        s.points = deduct ? (r->has_deduction ? max - less : 0) : given;
        *not_met = true;
        break;
    case SCPB__ITEM_STATUS__ITEM_NA:
        s.applies = false;
        s.max = 0;
        break;
    default: /* unknown: applies, scores nothing */
        break;
    }
    return s;
}

/* An item with sub-items: their sum, at most its maximum; n.a. ones out of its maximum. */
static sc_item_score score_parent(const Scpb__TemplateState *tpl, const Scpb__InspectionState *insp,
                                  size_t k, bool *not_met)
{
    const Scpb__TemplateItem *item = tpl->items[k];
    sc_item_score s = {.points = 0, .max = item->max_points, .scored = true, .applies = false};
    int64_t sum = 0;
    *not_met = false;
    for (size_t j = 0; j < tpl->n_items; j++) {
        if (!is_sub_of(tpl->items[j], item->code))
            continue;
        bool sub_not_met;
        sc_item_score sub = score_leaf(tpl->items[j], result_for(insp, tpl->items[j]->code),
                                       &sub_not_met);
        *not_met = *not_met || sub_not_met;
        s.scored = s.scored && sub.scored;
        if (sub.applies) {
            s.applies = true;
            sum += sub.points;
        } else {
            s.max -= tpl->items[j]->max_points;
        }
    }
    if (s.max < 0)
        s.max = 0;
    if (!s.applies)
        s.max = 0;
    s.points = sum < s.max ? sum : s.max;
    return s;
}

/* The highest band a complete, unvetoed score reaches ("" when none). */
static void grade_of(const Scpb__TemplateState *tpl, sc_score *out)
{
    out->grade[0] = '\0';
    if (!out->complete || out->vetoed)
        return;
    int32_t best = -1;
    for (size_t g = 0; g < tpl->n_grades; g++) {
        const Scpb__GradeBand *b = tpl->grades[g];
        bool reached = out->applicable_max == 0
                           ? b->min_points <= 0
                           : out->total * out->max_total >= (int64_t)b->min_points * out->applicable_max;
        if (reached && b->min_points > best) {
            best = b->min_points;
            copy_code(out->grade, sizeof out->grade, b->name);
        }
    }
}

sc_status sc_score_items(const Scpb__TemplateState *tpl, const Scpb__InspectionState *insp,
                         sc_score *out, sc_item_score *items)
{
    if (!out)
        return SC_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!tpl || !insp)
        return SC_ERR_INVALID_ARG;
    out->pass_mark = tpl->pass_mark;
    for (size_t k = 0; k < tpl->n_items; k++) {
        const Scpb__TemplateItem *item = tpl->items[k];
        const char *code = item->code ? item->code : "";
        bool parent = sc_template_has_subs(tpl, code), not_met = false;
        sc_item_score s = parent ? score_parent(tpl, insp, k, &not_met)
                                 : score_leaf(item, result_for(insp, code), &not_met);
        if (items)
            items[k] = s;
        if (!parent) {
            out->items++;
            out->scored += s.scored ? 1 : 0;
        }
        if (not_met && item->veto && !out->vetoed) {
            out->vetoed = true;
            copy_code(out->veto_item, sizeof out->veto_item, code);
        }
        if (item->parent) /* a sub-item counts in its item's points */
            continue;
        out->max_total += item->max_points;
        if (s.applies) {
            out->applicable_max += s.max;
            out->total += s.points;
        }
    }
    out->complete = out->scored == out->items;
    /* total / applicable_max >= pass_mark / max_total, without division. */
    bool above = out->applicable_max == 0
                     ? out->pass_mark <= 0
                     : out->total * out->max_total >= (int64_t)out->pass_mark * out->applicable_max;
    out->passed = out->complete && !out->vetoed && above;
    grade_of(tpl, out);
    return SC_OK;
}

sc_status sc_score_inspection(const Scpb__TemplateState *tpl, const Scpb__InspectionState *insp,
                              sc_score *out)
{
    return sc_score_items(tpl, insp, out, NULL);
}

int sc_score_check_result(const Scpb__TemplateState *tpl, const Scpb__ItemResult *r, char *why,
                          size_t cap)
{
    const char *code = r && r->item_code ? r->item_code : "";
    const Scpb__TemplateItem *it = sc_template_item(tpl, code);
    if (!it) {
        snprintf(why, cap, "item %s is not on score sheet %s v%u", code,
                 tpl && tpl->code ? tpl->code : "?", tpl ? tpl->version : 0);
        return SC_REASON_UNKNOWN_REFERENCE;
    }
    bool deduct = it->mode == SCPB__SCORE_MODE__SCORE_DEDUCT;
    if (sc_template_has_subs(tpl, code))
        snprintf(why, cap, "item %s is scored by its sub-items (show the score sheet)", code);
    else if (r->has_points && (r->points < 0 || r->points > it->max_points))
        snprintf(why, cap, "item %s: %d points, the item has 0 to %d", code, r->points,
                 it->max_points);
    else if (deduct && r->has_points)
        snprintf(why, cap, "item %s is scored by deduction (扣分): give the points deducted", code);
    else if (!deduct && r->has_deduction)
        snprintf(why, cap, "item %s is scored by points earned, not by deduction", code);
    else if (r->has_deduction && r->deduction < 0)
        snprintf(why, cap, "item %s: a deduction of %d is below zero", code, r->deduction);
    else if (r->has_deduction && r->deduction > it->max_points)
        snprintf(why, cap, "item %s: deducting %d from its %d points would score it below zero",
                 code, r->deduction, it->max_points);
    else
        return SC_REASON_NONE;
    return SC_REASON_BAD_FIELD;
}

static bool photo_of(const Scpb__EntityState *st, const char *code)
{
    for (size_t p = 0; p < st->n_photos; p++)
        if (st->photos[p]->item_code && strcmp(st->photos[p]->item_code, code) == 0)
            return true;
    return false;
}

int sc_score_check_submit(const Scpb__TemplateState *tpl, const Scpb__EntityState *st, char *why,
                          size_t cap)
{
    const Scpb__InspectionState *insp =
        st && st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION ? st->inspection : NULL;
    for (size_t k = 0; tpl && insp && k < tpl->n_items; k++) {
        const Scpb__TemplateItem *it = tpl->items[k];
        if (!it->photo_if_not_met || !it->code)
            continue;
        const Scpb__ItemResult *r = result_for(insp, it->code);
        if (r && r->status == SCPB__ITEM_STATUS__ITEM_NOT_MET && !photo_of(st, it->code)) {
            snprintf(why, cap,
                     "item %s is not met and needs a photo of it before submission (photo add "
                     "with the item)",
                     it->code);
            return SC_REASON_BAD_FIELD;
        }
    }
    return SC_REASON_NONE;
}
