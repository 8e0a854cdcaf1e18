/*
 * query_sheet.c: a score sheet's campaign rule over an org unit (002 L30:
 * a township is 无疫 when at least 80% of its communities and villages
 * pass), read off the replica's folded states like every query.
 *
 * The targets counted are those of the rule's types (any type when it names
 * none) whose org unit is the one asked or below it.  Each counts as passing
 * when its latest submitted, unvoided check on the sheet (any version of its
 * code; latest by the submission's HLC) passes, scored against the version
 * it was made on; a target never checked counts as not passing.
 */
#include <jansson.h>
#include <string.h>

#include "core/names.h"
#include "core/score.h"
#include "internal.h"

/* Org units above a target, at most: the levels of DOMAIN.md §6 with room. */
#define ORG_DEPTH_MAX 32

typedef struct campaign {
    const char *code;                 /* the sheet's code */
    const Scpb__AggregateRule *rule;
    uint8_t org[SC_ID_LEN];
    json_t *targets;                  /* {target hex: entry} */
    json_t *order;                    /* [target hex], in id order */
} campaign;

/* Whether org unit `org` is `top` or below it. */
static bool org_within(sc_client *c, const ProtobufCBinaryData *org, const uint8_t top[SC_ID_LEN])
{
    uint8_t at[SC_ID_LEN];
    if (org->len != SC_ID_LEN)
        return false;
    memcpy(at, org->data, SC_ID_LEN);
    for (int depth = 0; depth < ORG_DEPTH_MAX; depth++) {
        if (memcmp(at, top, SC_ID_LEN) == 0)
            return true;
        Scpb__EntityState *st = NULL;
        bool up = st_state_get(c, at, &st) == SC_OK && st->kind_case == SCPB__ENTITY_STATE__KIND_ORG &&
                  st->org->has_parent && st->org->parent.len == SC_ID_LEN;
        if (up)
            memcpy(at, st->org->parent.data, SC_ID_LEN);
        rp_state_free(c, st);
        if (!up)
            return false;
    }
    return false;
}

static bool type_counts(const Scpb__AggregateRule *r, int type)
{
    for (size_t i = 0; i < r->n_target_types; i++)
        if ((int)r->target_types[i] == type)
            return true;
    return r->n_target_types == 0;
}

static sc_status visit_target(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    campaign *k = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__TargetState *t = st->kind_case == SCPB__ENTITY_STATE__KIND_TARGET ? st->target : NULL;
    if (t && !st->voided && type_counts(k->rule, t->type) && org_within(c, &t->org, k->org)) {
        json_t *hex = qr_jhex(id, SC_ID_LEN);
        json_t *e = json_pack("{s:O,s:o,s:o,s:o,s:n,s:n,s:b}", "id", hex, "code", qr_jstr(t->code),
                              "name", qr_jstr(t->name), "target_type",
                              qr_jname(&sc_names_target_type, t->type), "check", "score",
                              "passed", 0);
        if (e) {
            json_object_set_new(k->targets, json_string_value(hex), e);
            json_array_append(k->order, hex);
        }
        json_decref(hex);
    }
    rp_state_free(c, st);
    return SC_OK;
}

/* A submitted check on the sheet, of a counted target, newer than the one kept: it counts. */
static sc_status visit_check(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    campaign *k = ctx;
    Scpb__EntityState *st = NULL, *tpl = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__InspectionState *in = rp_inspection(st);
    json_t *target = in && in->has_target ? qr_jhex(in->target.data, in->target.len) : NULL;
    json_t *e = target ? json_object_get(k->targets, json_string_value(target)) : NULL;
    json_int_t seen = json_integer_value(json_object_get(e, "submitted_hlc"));
    if (e && !st->voided && in->status == SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED &&
        in->has_template_ && in->template_.len == SC_ID_LEN &&
        (json_int_t)in->submitted_hlc >= seen &&
        st_state_get(c, in->template_.data, &tpl) == SC_OK && rp_template(tpl) &&
        rp_template(tpl)->code && strcmp(rp_template(tpl)->code, k->code) == 0) {
        sc_score sc;
        sc_score_inspection(rp_template(tpl), in, &sc);
        json_object_set_new(e, "check", qr_jhex(id, SC_ID_LEN));
        json_object_set_new(e, "version", json_integer(rp_template(tpl)->version));
        json_object_set_new(e, "score", json_integer(sc.total));
        json_object_set_new(e, "passed", json_boolean(sc.passed));
        json_object_set_new(e, "submitted_hlc", json_integer((json_int_t)in->submitted_hlc));
    }
    json_decref(target);
    rp_state_free(c, tpl);
    rp_state_free(c, st);
    return SC_OK;
}

/* The answer: the rule, each target in id order, and whether the org unit meets it. */
static json_t *campaign_json(sc_client *c, const campaign *k, const Scpb__EntityState *sheet)
{
    json_t *list = json_array(), *types = json_array();
    size_t i, passed = 0;
    json_t *hex;
    json_array_foreach(k->order, i, hex)
    {
        json_t *e = json_object_get(k->targets, json_string_value(hex));
        json_object_del(e, "submitted_hlc");
        passed += json_is_true(json_object_get(e, "passed")) ? 1 : 0;
        json_array_append(list, e);
    }
    for (size_t t = 0; t < k->rule->n_target_types; t++)
        json_array_append_new(types, qr_jname(&sc_names_target_type, k->rule->target_types[t]));
    size_t n = json_array_size(list);
    ProtobufCBinaryData org = {SC_ID_LEN, (uint8_t *)(uintptr_t)k->org};
    /* passed / n >= min_percent / 100, without division; no targets meets nothing. */
    bool met = n > 0 && (uint64_t)passed * 100 >= (uint64_t)k->rule->min_percent * n;
    return json_pack("{s:o,s:s,s:i,s:o,s:{s:i,s:o,s:o},s:o,s:I,s:I,s:b}", "template",
                     qr_jhex(sheet->id.data, sheet->id.len), "code", k->code, "version",
                     (int)rp_template(sheet)->version, "org", qr_jref(c, &org, true), "rule",
                     "min_percent", (int)k->rule->min_percent, "target_types", types, "text",
                     qr_jstr(k->rule->text), "targets", list, "counted", (json_int_t)n, "passed",
                     (json_int_t)passed, "met", (int)met);
}

static sc_status campaign_read(sc_client *c, const char *template_, const char *org, char **json)
{
    uint8_t tid[SC_ID_LEN];
    campaign k = {0};
    Scpb__EntityState *sheet = NULL;
    sc_status s = rp_resolve(c, template_, SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, "score sheet", tid);
    if (s == SC_OK)
        s = rp_resolve(c, org, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, "org unit", k.org);
    if (s == SC_OK)
        s = rp_get(c, tid, SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, "score sheet", &sheet);
    if (s != SC_OK)
        return s;
    k.code = rp_template(sheet)->code ? rp_template(sheet)->code : "";
    k.rule = rp_template(sheet)->aggregate;
    if (!k.rule) {
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                    "score sheet %s v%u has no campaign rule (its \"aggregate\")", k.code,
                    rp_template(sheet)->version);
        rp_state_free(c, sheet);
        return s;
    }
    k.targets = json_object();
    k.order = json_array();
    if (!k.targets || !k.order)
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    if (s == SC_OK)
        s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_TARGET, false, visit_target, &k);
    if (s == SC_OK)
        s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, false, visit_check, &k);
    json_t *o = s == SC_OK ? campaign_json(c, &k, sheet) : NULL;
    json_decref(k.targets);
    json_decref(k.order);
    rp_state_free(c, sheet);
    if (s != SC_OK)
        return s;
    *json = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *json ? SC_OK : cl_fail(c, SC_ERR_NOMEM, 0, "out of memory building JSON");
}

/* One snapshot of the replica for the whole answer. */
sc_status sc_sheet_campaign(sc_client *c, const char *template_, const char *org, char **json)
{
    if (json)
        *json = NULL;
    if (!c || !json)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    bool began = false;
    sc_status s = st_snapshot_begin(c, &began);
    if (s == SC_OK)
        s = campaign_read(c, template_, org, json);
    st_snapshot_end(c, began);
    return s;
}
