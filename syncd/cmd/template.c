/*
 * template.c: score sheets (checklist templates) read from JSON, the format
 * of docs/operations.md "Score sheets", into a TemplatePublish op body.
 * Kept apart from `syncd admin` so the parser is fuzzed on its own
 * (tests/fuzz/fuzz_template.c).
 */
#include "template.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/limits.h"
#include "core/names.h"

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An optional boolean member; false with msg when it is there and not a boolean. */
static bool jbool(json_t *o, const char *key, protobuf_c_boolean *has, protobuf_c_boolean *out,
                  const char *where, char *msg, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return true;
    if (!json_is_boolean(v)) {
        snprintf(msg, cap, "%s.%s must be true or false", where, key);
        return false;
    }
    *has = true;
    *out = json_is_true(v);
    return true;
}

/* An item's sub-item parent, scoring mode and photo rule. */
static bool item_more(json_t *it, Scpb__TemplateItem *x, size_t i, char *msg, size_t cap)
{
    char where[32];
    snprintf(where, sizeof where, "items[%zu]", i);
    json_t *parent = json_object_get(it, "parent"), *mode = json_object_get(it, "mode");
    if (parent && !json_is_string(parent)) {
        snprintf(msg, cap, "%s.parent must be the code of an earlier item", where);
        return false;
    }
    x->parent = (char *)jstr(it, "parent");
    if (mode) {
        int m = 0;
        if (!json_is_string(mode) || !sc_name_parse(&sc_names_score_mode, json_string_value(mode), &m)) {
            char list[64];
            sc_names_join(&sc_names_score_mode, list, sizeof list);
            snprintf(msg, cap, "%s.mode must be one of: %s", where, list);
            return false;
        }
        x->has_mode = true;
        x->mode = (Scpb__ScoreMode)m;
    }
    return jbool(it, "photo_if_not_met", &x->has_photo_if_not_met, &x->photo_if_not_met, where,
                 msg, cap);
}

static bool grades_from_json(json_t *arr, Scpb__TemplatePublish *b, sd_template_more *m,
                             char *msg, size_t cap)
{
    if (!json_is_array(arr) || json_array_size(arr) > SC_TEMPLATE_GRADES_MAX) {
        snprintf(msg, cap, "\"grades\" must be an array of at most %d bands",
                 SC_TEMPLATE_GRADES_MAX);
        return false;
    }
    for (size_t g = 0; g < json_array_size(arr); g++) {
        json_t *o = json_array_get(arr, g), *mp = json_object_get(o, "min_points");
        Scpb__GradeBand *band = &m->grades[g];
        scpb__grade_band__init(band);
        band->name = (char *)jstr(o, "name");
        if (!band->name || !json_is_integer(mp) || json_integer_value(mp) < 0 ||
            json_integer_value(mp) > INT32_MAX) {
            snprintf(msg, cap, "grades[%zu] needs a \"name\" and \"min_points\" >= 0", g);
            return false;
        }
        band->has_min_points = true;
        band->min_points = (int32_t)json_integer_value(mp);
        m->grade_ptrs[g] = band;
    }
    b->n_grades = json_array_size(arr);
    b->grades = b->n_grades ? m->grade_ptrs : NULL;
    return true;
}

static bool aggregate_from_json(json_t *o, Scpb__TemplatePublish *b, sd_template_more *m,
                                char *msg, size_t cap)
{
    Scpb__AggregateRule *r = &m->aggregate;
    scpb__aggregate_rule__init(r);
    json_t *pct = json_object_get(o, "min_percent"), *types = json_object_get(o, "target_types");
    if (!json_is_object(o) || !json_is_integer(pct) || json_integer_value(pct) < 1 ||
        json_integer_value(pct) > 100) {
        snprintf(msg, cap, "\"aggregate\" needs \"min_percent\", 1 to 100");
        return false;
    }
    r->has_min_percent = true;
    r->min_percent = (uint32_t)json_integer_value(pct);
    r->text = (char *)jstr(o, "text");
    if (types && (!json_is_array(types) || json_array_size(types) > SC_TEMPLATE_GRADES_MAX)) {
        snprintf(msg, cap, "aggregate.target_types must be an array of at most %d type names",
                 SC_TEMPLATE_GRADES_MAX);
        return false;
    }
    for (size_t i = 0; types && i < json_array_size(types); i++) {
        int t = 0;
        json_t *v = json_array_get(types, i);
        if (!json_is_string(v) || !sc_name_parse(&sc_names_target_type, json_string_value(v), &t)) {
            snprintf(msg, cap, "aggregate.target_types[%zu] is not a target type (%s)", i,
                     "syncd admin target add --help lists them");
            return false;
        }
        m->types[i] = (Scpb__TargetType)t;
    }
    r->n_target_types = types ? json_array_size(types) : 0;
    r->target_types = r->n_target_types ? m->types : NULL;
    b->aggregate = r;
    return true;
}

bool sd_template_more_from_json(json_t *root, Scpb__TemplatePublish *b, sd_template_more *more,
                                char *msg, size_t cap)
{
    json_t *grades = json_object_get(root, "grades"), *agg = json_object_get(root, "aggregate");
    if (grades && !grades_from_json(grades, b, more, msg, cap))
        return false;
    return !agg || aggregate_from_json(agg, b, more, msg, cap);
}

bool sd_template_from_json(json_t *root, Scpb__TemplatePublish *b, Scpb__TemplateItem **items,
                           Scpb__TemplateItem **ptrs, char *msg, size_t cap)
{
    *items = NULL;
    if (!json_is_object(root)) {
        snprintf(msg, cap, "expected a JSON object");
        return false;
    }
    b->code = (char *)jstr(root, "code");
    b->name = (char *)jstr(root, "name");
    json_t *ver = json_object_get(root, "version"), *pass = json_object_get(root, "pass_mark");
    json_t *arr = json_object_get(root, "items");
    if (!b->code || !b->name) {
        snprintf(msg, cap, "\"code\" and \"name\" must be strings");
        return false;
    }
    if (!json_is_integer(ver) || json_integer_value(ver) < 1 ||
        json_integer_value(ver) > UINT32_MAX) {
        snprintf(msg, cap, "\"version\" must be a whole number >= 1");
        return false;
    }
    b->has_version = true;
    b->version = (uint32_t)json_integer_value(ver);
    if (pass) {
        if (!json_is_integer(pass) || json_integer_value(pass) < 0 ||
            json_integer_value(pass) > INT32_MAX) {
            snprintf(msg, cap, "\"pass_mark\" must be a whole number >= 0");
            return false;
        }
        b->has_pass_mark = true;
        b->pass_mark = (int32_t)json_integer_value(pass);
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > SC_TEMPLATE_ITEMS_MAX) {
        snprintf(msg, cap, "\"items\" must be an array of 1 to %d items",
                SC_TEMPLATE_ITEMS_MAX);
        return false;
    }
    size_t n = json_array_size(arr);
    *items = calloc(n, sizeof **items);
    if (!*items) {
        snprintf(msg, cap, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(arr, i);
        Scpb__TemplateItem *x = &(*items)[i];
        scpb__template_item__init(x);
        ptrs[i] = x;
        if (!json_is_object(it)) {
            snprintf(msg, cap, "items[%zu] is not an object", i);
            return false;
        }
        x->code = (char *)jstr(it, "code");
        x->section = (char *)jstr(it, "section");
        x->text = (char *)jstr(it, "text");
        if (!x->code || !x->text) {
            snprintf(msg, cap, "items[%zu] needs \"code\" and \"text\" strings", i);
            return false;
        }
        if (!item_more(it, x, i, msg, cap))
            return false;
        json_t *mp = json_object_get(it, "max_points"), *veto = json_object_get(it, "veto");
        if (mp) {
            if (!json_is_integer(mp) || json_integer_value(mp) < 0 ||
                json_integer_value(mp) > INT32_MAX) {
                snprintf(msg, cap, "items[%zu].max_points must be a whole number", i);
                return false;
            }
            x->has_max_points = true;
            x->max_points = (int32_t)json_integer_value(mp);
        }
        if (veto) {
            if (!json_is_boolean(veto)) {
                snprintf(msg, cap, "items[%zu].veto must be true or false",
                        i);
                return false;
            }
            x->has_veto = true;
            x->veto = json_is_true(veto);
        }
    }
    b->n_items = n;
    b->items = ptrs;
    return true;
}
