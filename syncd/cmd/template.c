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

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
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
