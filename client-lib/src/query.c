/*
 * query.c: what the replica holds, as JSON for people and tablet apps.
 *
 * Everything here reads folded states; nothing writes.  The derived flags
 * (overdue, evidence pending, score) are computed at query time from the
 * core's functions with today from the handle's clock, so they agree with
 * what syncd and other replicas compute from the same ops.
 */
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "core/date.h"
#include "core/names.h"
#include "core/score.h"
#include "internal.h"

static json_t *jhex(const uint8_t *p, size_t len)
{
    char hex[2 * SC_HASH_LEN + 1];
    if (!p || (len != SC_ID_LEN && len != SC_HASH_LEN && len != SC_KEY_LEN))
        return json_null();
    cl_hex(p, len, hex, sizeof hex);
    return json_string(hex);
}

static json_t *jbin(const ProtobufCBinaryData *b, protobuf_c_boolean has)
{
    return has ? jhex(b->data, b->len) : json_null();
}

static json_t *jname(const sc_names *t, int v)
{
    const char *n = sc_name_of(t, v);
    return n ? json_string(n) : json_null();
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A position: {"lat_e7","lon_e7"} (degrees x 1e7, as in ops) and, when known, its "source". */
static json_t *jgeo(const Scpb__Geo *g, const char *source)
{
    if (!g || !g->has_lat_e7 || !g->has_lon_e7)
        return json_null();
    json_t *o = json_pack("{s:i,s:i}", "lat_e7", g->lat_e7, "lon_e7", g->lon_e7);
    if (o && source)
        json_object_set_new(o, "source", json_string(source));
    return o;
}

static json_t *jday(int32_t day, bool has)
{
    if (!has)
        return json_null();
    char d[11];
    sc_date_format(day, d);
    return json_string(d);
}

static int32_t today(sc_client *c)
{
    return sc_date_from_ms(sc_env_now_ms(&c->env));
}

/* The code of a referenced entity (target, org unit, score sheet), else its hex id. */
static json_t *jref(sc_client *c, const ProtobufCBinaryData *b, protobuf_c_boolean has)
{
    if (!has || b->len != SC_ID_LEN)
        return json_null();
    Scpb__EntityState *st = NULL;
    json_t *out = NULL;
    if (st_state_get(c, b->data, &st) == SC_OK) {
        uint32_t version;
        const char *code = sc_state_code(st, &version);
        if (code && *code)
            out = json_string(code);
    }
    rp_state_free(c, st);
    return out ? out : jhex(b->data, b->len);
}

/* ---- shared with query_gov.c and sync.c (internal.h) ---- */

json_t *qr_jhex(const uint8_t *p, size_t len)
{
    return jhex(p, len);
}

json_t *qr_jbin(const ProtobufCBinaryData *b, protobuf_c_boolean has)
{
    return jbin(b, has);
}

json_t *qr_jname(const sc_names *t, int v)
{
    return jname(t, v);
}

json_t *qr_jstr(const char *s)
{
    return jstr(s);
}

json_t *qr_jday(int32_t day, bool has)
{
    return jday(day, has);
}

json_t *qr_jref(sc_client *c, const ProtobufCBinaryData *b, protobuf_c_boolean has)
{
    return jref(c, b, has);
}

int32_t qr_today(sc_client *c)
{
    return today(c);
}

/* A conflict's value as the field itself shows it: an org unit by its code. */
static json_t *conflict_value(sc_client *c, int field, const char *v)
{
    uint8_t id[SC_ID_LEN];
    if (field == SCPB__FIELD__FIELD_RESPONSIBLE && cl_parse_id(v, id)) {
        ProtobufCBinaryData b = {SC_ID_LEN, id};
        return jref(c, &b, true);
    }
    return json_string(v ? v : "");
}

static json_t *jconflicts(sc_client *c, const Scpb__EntityState *st)
{
    json_t *a = json_array();
    for (size_t i = 0; i < st->n_conflicts; i++) {
        const Scpb__Conflict *k = st->conflicts[i];
        json_t *vals = json_array(), *ops = json_array();
        for (size_t v = 0; v < k->n_values; v++)
            json_array_append_new(vals, conflict_value(c, k->field, k->values[v]));
        for (size_t v = 0; v < k->n_ops; v++)
            json_array_append_new(ops, jhex(k->ops[v].data, k->ops[v].len));
        json_array_append_new(a, json_pack("{s:o,s:o,s:o,s:o}", "field",
                                           jname(&sc_names_field, k->field), "item",
                                           jstr(k->item_code), "values", vals, "ops", ops));
    }
    return a;
}

/*
 * Conflicts still open: none on a voided entity, whose conflicts were
 * closed with the void (docs/data-model.md §3) and no inbox lists.
 */
static int open_conflicts(const Scpb__EntityState *st)
{
    return st->voided ? 0 : (int)st->n_conflicts;
}

static sc_status dump(sc_client *c, json_t *o, char **json)
{
    *json = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *json ? SC_OK : cl_fail(c, SC_ERR_NOMEM, 0, "out of memory building JSON");
}

/* ---- one entity as a list item ---- */

static json_t *finding_item(sc_client *c, const Scpb__EntityState *st)
{
    const Scpb__FindingState *f = rp_finding(st);
    if (!f)
        return NULL;
    json_t *item = json_pack(
        "{s:o,s:o,s:b,s:i,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:i,s:b,s:o}", "id",
        jhex(st->id.data, st->id.len), "status", jname(&sc_names_finding_status, f->status),
        "overdue", sc_finding_overdue(st, today(c)), "reopen_count", (int)f->reopen_count,
        "evidence_pending", sc_evidence_pending(st, bl_present, c), "deadline",
        jday(f->deadline_day, f->has_deadline_day), "grade", jname(&sc_names_grade, f->grade),
        "category", jstr(f->category), "description", jstr(f->description), "location",
        jstr(f->location), "target", jref(c, &f->target, f->has_target), "check",
        jbin(&f->inspection, f->has_inspection), "responsible",
        jref(c, &f->responsible, f->has_responsible), "item", jstr(f->item_code),
        "fixed_on_spot", (int)f->fixed_on_spot, "conflicts", open_conflicts(st), "voided",
        (int)st->voided, "void_reason", jstr(st->void_reason));
    if (item)
        gq_item(c, st, item);
    return item;
}

typedef struct scored {
    bool has;
    sc_score s;
} scored;

static scored score_of(sc_client *c, const Scpb__InspectionState *in)
{
    scored out = {0};
    if (!in->has_template_ || in->template_.len != SC_ID_LEN)
        return out;
    Scpb__EntityState *t = NULL;
    if (st_state_get(c, in->template_.data, &t) == SC_OK && rp_template(t) &&
        sc_score_inspection(rp_template(t), in, &out.s) == SC_OK)
        out.has = true;
    rp_state_free(c, t);
    return out;
}

static json_t *check_item(sc_client *c, const Scpb__EntityState *st)
{
    const Scpb__InspectionState *in = rp_inspection(st);
    if (!in)
        return NULL;
    scored sc = score_of(c, in);
    json_t *o = json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:i,s:i,s:b,s:o}", "id", jhex(st->id.data, st->id.len),
        "status", jname(&sc_names_inspection_status, in->status), "target",
        jref(c, &in->target, in->has_target), "kind", jname(&sc_names_kind, in->kind),
        "disclosure", jname(&sc_names_disclosure, in->disclosure), "template",
        jref(c, &in->template_, in->has_template_), "assignment",
        jbin(&in->assignment, in->has_assignment), "opened_by",
        jbin(&in->opened_by, in->has_opened_by), "results", (int)in->n_results, "photos",
        (int)st->n_photos, "conflicts", open_conflicts(st), "voided", (int)st->voided,
        "void_reason", jstr(st->void_reason));
    if (!o)
        return NULL;
    json_object_set_new(o, "self_check", json_boolean(in->self_check));
    if (sc.has) {
        json_object_set_new(o, "score", json_integer(sc.s.total));
        json_object_set_new(o, "max", json_integer(sc.s.max_total));
        json_object_set_new(o, "applicable_max", json_integer(sc.s.applicable_max));
        json_object_set_new(o, "pass_mark", json_integer(sc.s.pass_mark));
        json_object_set_new(o, "passed", json_boolean(sc.s.passed));
        json_object_set_new(o, "complete", json_boolean(sc.s.complete));
        json_object_set_new(o, "vetoed", json_boolean(sc.s.vetoed));
        json_object_set_new(o, "veto_item", sc.s.vetoed ? json_string(sc.s.veto_item) : json_null());
        json_object_set_new(o, "grade_band", sc.s.grade[0] ? json_string(sc.s.grade) : json_null());
    } else {
        json_object_set_new(o, "score", json_null());
        json_object_set_new(o, "max", json_null());
        json_object_set_new(o, "passed", json_null());
    }
    return o;
}

static json_t *assignment_item(sc_client *c, const Scpb__EntityState *st, bool done)
{
    const Scpb__AssignmentState *a = rp_assignment(st);
    if (!a)
        return NULL;
    json_t *insp = json_array();
    for (size_t i = 0; i < a->n_inspectors; i++)
        json_array_append_new(insp, jhex(a->inspectors[i].data, a->inspectors[i].len));
    bool overdue = !done && !st->voided && a->has_due_day && today(c) > a->due_day;
    json_t *item = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:b,s:b,s:o}", "id",
                     jhex(st->id.data, st->id.len), "target", jref(c, &a->target, a->has_target),
                     "kind", jname(&sc_names_kind, a->kind), "disclosure",
                     jname(&sc_names_disclosure, a->disclosure), "due",
                     jday(a->due_day, a->has_due_day), "template",
                     jref(c, &a->template_, a->has_template_), "inspectors", insp, "note",
                     jstr(a->note), "done", (int)done, "overdue", (int)overdue, "voided",
                     (int)st->voided, "void_reason", jstr(st->void_reason));
    if (item)
        eq_assignment(c, a, st->id.data, item);
    return item;
}

/* ---- lists ---- */

typedef struct lister {
    json_t *items;
    const sc_filter_v2 *f;       /* may be NULL */
    bool with_voided;            /* SC_LIST_WITH_VOIDED */
    bool has_target, has_asg;
    uint8_t target[SC_ID_LEN], asg[SC_ID_LEN];
    int status;                  /* -1: any */
    uint8_t (*done)[SC_ID_LEN];  /* assignments with a submitted inspection */
    size_t ndone;
    bool paged;                  /* only count items from from are kept (sc_filter_v2's limit) */
    size_t from, count, seen;    /* the page; items that matched so far */
} lister;

/* Whether the next item that matches falls in the page asked for (every item without one). */
static bool in_page(const lister *l)
{
    return !l->paged || (l->seen >= l->from && l->seen - l->from < l->count);
}

/* An item that matched: kept when it falls in the page, counted either way; NULL: not built. */
static void take(lister *l, json_t *item)
{
    if (in_page(l) && item)
        json_array_append_new(l->items, item);
    else
        json_decref(item);
    l->seen++;
}

static bool same_id(const ProtobufCBinaryData *b, protobuf_c_boolean has, const uint8_t id[SC_ID_LEN])
{
    return has && b->len == SC_ID_LEN && memcmp(b->data, id, SC_ID_LEN) == 0;
}

static sc_status list_findings(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    lister *l = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__FindingState *f = rp_finding(st);
    bool keep = f && (l->with_voided || !st->voided) &&
                (l->status < 0 || (int)f->status == l->status) &&
                (!l->f || !l->f->overdue || sc_finding_overdue(st, today(c))) &&
                (!l->has_target || same_id(&f->target, f->has_target, l->target));
    if (keep && l->has_asg) {
        /* A finding belongs to an assignment through its inspection. */
        Scpb__EntityState *in = NULL;
        keep = f->has_inspection && f->inspection.len == SC_ID_LEN &&
               st_state_get(c, f->inspection.data, &in) == SC_OK && rp_inspection(in) &&
               same_id(&in->inspection->assignment, in->inspection->has_assignment, l->asg);
        rp_state_free(c, in);
    }
    /* The item's own flags decide these filters; otherwise an item outside the page is only
       counted, never built (building one reads its target, org units and policy). */
    bool by_item = l->f && (l->f->stop_work || l->f->needs_escalation || l->f->self_reported);
    json_t *item = keep && (by_item || in_page(l)) ? finding_item(c, st) : NULL;
    if (item && l->f && l->f->stop_work)
        keep = json_is_true(json_object_get(item, "stop_work"));
    if (item && l->f && l->f->needs_escalation)
        keep = keep && json_is_true(json_object_get(item, "needs_escalation"));
    if (item && l->f && l->f->self_reported)
        keep = keep && json_is_true(json_object_get(item, "self_reported"));
    if (keep && (item || !by_item))
        take(l, item);
    else
        json_decref(item);
    rp_state_free(c, st);
    return SC_OK;
}

static sc_status list_checks(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    lister *l = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__InspectionState *in = rp_inspection(st);
    bool keep = in && (l->with_voided || !st->voided) &&
                (l->status < 0 || (int)in->status == l->status) &&
                (!l->has_target || same_id(&in->target, in->has_target, l->target)) &&
                (!l->has_asg || same_id(&in->assignment, in->has_assignment, l->asg));
    if (keep) {
        json_t *item = check_item(c, st);
        keep = !l->f || !l->f->overdue; /* inspections have no deadline */
        if (keep)
            take(l, item);
        else
            json_decref(item);
    }
    rp_state_free(c, st);
    return SC_OK;
}

static sc_status collect_done(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    lister *l = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__InspectionState *in = rp_inspection(st);
    if (in && !st->voided && in->status == SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED &&
        in->has_assignment && in->assignment.len == SC_ID_LEN) {
        uint8_t(*nd)[SC_ID_LEN] = sc_realloc_array(&c->env, l->done, l->ndone + 1, SC_ID_LEN);
        if (!nd) {
            rp_state_free(c, st);
            return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        }
        l->done = nd;
        memcpy(l->done[l->ndone++], in->assignment.data, SC_ID_LEN);
    }
    rp_state_free(c, st);
    return SC_OK;
}

static sc_status list_assignments(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    lister *l = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__AssignmentState *a = rp_assignment(st);
    bool done = false;
    for (size_t i = 0; i < l->ndone && !done; i++)
        done = memcmp(l->done[i], id, SC_ID_LEN) == 0;
    if (a && (l->with_voided || !st->voided) &&
        (!l->has_target || same_id(&a->target, a->has_target, l->target))) {
        json_t *item = assignment_item(c, st, done);
        bool keep = item != NULL;
        if (keep && l->f && l->f->overdue)
            keep = json_is_true(json_object_get(item, "overdue"));
        if (keep && l->status >= 0)
            keep = (l->status == 1) == done;
        if (keep)
            take(l, item);
        else
            json_decref(item);
    }
    rp_state_free(c, st);
    return SC_OK;
}

/* A target as lists show it. */
static sc_status list_targets(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    lister *l = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__TargetState *t = st->kind_case == SCPB__ENTITY_STATE__KIND_TARGET ? st->target : NULL;
    if (t && (l->with_voided || !st->voided))
        take(l, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "id", jhex(st->id.data, st->id.len),
                          "code", jstr(t->code), "name", jstr(t->name), "org",
                          jref(c, &t->org, t->has_org), "target_type",
                          jname(&sc_names_target_type, t->type), "address", jstr(t->address),
                          "voided", (int)st->voided));
    rp_state_free(c, st);
    return SC_OK;
}

/* A score sheet as lists show it: its id, code and version, and what it adds up to. */
static sc_status list_templates(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    lister *l = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__TemplateState *t = rp_template(st);
    if (t && (l->with_voided || !st->voided)) {
        size_t vetoes = 0;
        for (size_t i = 0; i < t->n_items; i++)
            vetoes += t->items[i]->veto ? 1 : 0;
        take(l, json_pack("{s:o,s:o,s:o,s:i,s:i,s:i,s:i,s:i}", "id",
                          jhex(st->id.data, st->id.len), "code", jstr(t->code), "name",
                          jstr(t->name), "version", (int)t->version, "pass_mark",
                          (int)t->pass_mark, "max_total", (int)t->max_total, "items",
                          (int)t->n_items, "veto_items", (int)vetoes));
    }
    rp_state_free(c, st);
    return SC_OK;
}

/* An org unit as lists show it: its parent by code (null for a root), so the tree can be drawn. */
static sc_status list_orgs(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    lister *l = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__OrgState *o = st->kind_case == SCPB__ENTITY_STATE__KIND_ORG ? st->org : NULL;
    if (o && (l->with_voided || !st->voided))
        take(l, json_pack("{s:o,s:o,s:o,s:o,s:o,s:b}", "id", jhex(st->id.data, st->id.len), "code",
                          jstr(o->code), "name", jstr(o->name), "parent",
                          jref(c, &o->parent, o->has_parent), "level",
                          jname(&sc_names_org_level, o->level), "voided", (int)st->voided));
    rp_state_free(c, st);
    return SC_OK;
}

/* What sc_list lists, in the order its messages and sc_value_name("list") give them. */
static const struct {
    const char *what;
    int etype;
    const sc_names *status; /* NULL: no status names (assignments: open, done) */
    st_id_fn fn;
} list_kinds[] = {
    {"checks", SCPB__ENTITY_TYPE__ENTITY_INSPECTION, &sc_names_inspection_status, list_checks},
    {"findings", SCPB__ENTITY_TYPE__ENTITY_FINDING, &sc_names_finding_status, list_findings},
    {"assignments", SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT, NULL, list_assignments},
    {"targets", SCPB__ENTITY_TYPE__ENTITY_TARGET, NULL, list_targets},
    {"templates", SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, NULL, list_templates},
    {"orgs", SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, NULL, list_orgs},
};
#define LIST_KINDS (sizeof list_kinds / sizeof list_kinds[0])

/* An assignment is open until an inspection under it is submitted. */
static const sc_name assignment_status_v[] = {{0, "open"}, {1, "done"}};
static const sc_names assignment_status = {assignment_status_v, 2};

/* The ledgers sc_report_ledger writes, and the languages of their headers. */
static const sc_name ledger_v[] = {{0, "findings"}, {1, "checks"}};
static const sc_names ledger_names = {ledger_v, 2};
static const sc_name lang_v[] = {{0, "zh"}, {1, "en"}};
static const sc_names lang_names = {lang_v, 2};

/* The names the API takes, by the field sc_value_name knows them as. */
static const struct {
    const char *field;
    const sc_names *names;
} value_fields[] = {
    {"kind", &sc_names_kind},
    {"disclosure", &sc_names_disclosure},
    {"relation", &sc_names_relation},
    {"item_status", &sc_names_item_status},
    {"grade", &sc_names_grade},
    {"source", &sc_names_source},
    {"revisit_result", &sc_names_revisit},
    {"finding_status", &sc_names_finding_status},
    {"inspection_status", &sc_names_inspection_status},
    {"assignment_status", &assignment_status},
    {"field", &sc_names_field},
    {"role", &sc_names_role},
    {"target_type", &sc_names_target_type},
    {"ledger", &ledger_names},
    {"lang", &lang_names},
    {"escalation_step", &sc_names_escalation_step},
    {"org_level", &sc_names_org_level},
};

const char *sc_value_name(const char *field, size_t i)
{
    if (!field)
        return NULL;
    if (strcmp(field, "list") == 0)
        return i < LIST_KINDS ? list_kinds[i].what : NULL;
    for (size_t f = 0; f < sizeof value_fields / sizeof value_fields[0]; f++)
        if (strcmp(value_fields[f].field, field) == 0)
            return i < value_fields[f].names->n ? value_fields[f].names->v[i].name : NULL;
    return NULL;
}

/* The status filter of a list: the names of what is listed, or none for what has no status. */
static sc_status list_status(sc_client *c, const char *what, const sc_names *names, int etype,
                             const char *status, int *out)
{
    if (etype == SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT)
        names = &assignment_status;
    char list[256];
    if (!names)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "%s have no status to filter by", what);
    if (sc_name_parse(names, status, out))
        return SC_OK;
    sc_names_join(names, list, sizeof list);
    return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                   "status \"%s\" is not a status of %s: one of %s", status, what, list);
}

static sc_status list_read(sc_client *c, const char *what, const sc_filter_v2 *f, char **json)
{
    unsigned flags = f ? f->flags : 0;
    if (json)
        *json = NULL;
    if (!c || !what || !json)
        return c ? cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_list: what and json are required")
                 : SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    if (flags & ~SC_LIST_WITH_VOIDED)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_list_v2: unknown flags 0x%x",
                       flags & ~SC_LIST_WITH_VOIDED);
    lister l;
    memset(&l, 0, sizeof l);
    l.f = f;
    l.with_voided = flags & SC_LIST_WITH_VOIDED;
    l.status = -1;
    sc_status s = SC_OK;
    size_t kind = 0;
    while (kind < LIST_KINDS && strcmp(list_kinds[kind].what, what) != 0)
        kind++;
    if (kind == LIST_KINDS) {
        char list[128];
        size_t used = 0;
        for (size_t i = 0; i < LIST_KINDS; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     list_kinds[i].what);
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "cannot list \"%s\": one of %s", what, list);
    }
    int etype = list_kinds[kind].etype;
    st_id_fn fn = list_kinds[kind].fn;
    if (f && f->status &&
        (s = list_status(c, what, list_kinds[kind].status, etype, f->status, &l.status)) != SC_OK)
        return s;
    bool admin = etype == SCPB__ENTITY_TYPE__ENTITY_TARGET ||
                 etype == SCPB__ENTITY_TYPE__ENTITY_TEMPLATE ||
                 etype == SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT;
    if (admin && f && (f->overdue || f->target || f->assignment))
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "%s are listed whole: no --overdue, --target or --assignment", what);
    if (f && f->target) {
        if ((s = rp_resolve(c, f->target, SCPB__ENTITY_TYPE__ENTITY_TARGET, "target", l.target)) !=
            SC_OK)
            return s;
        l.has_target = true;
    }
    if (f && f->assignment) {
        if (!cl_parse_id(f->assignment, l.asg))
            return cl_fail(c, SC_ERR_NOT_FOUND, 0, "assignment \"%s\" is not an id", f->assignment);
        l.has_asg = true;
    }
    l.items = json_array();
    if (!l.items)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    if (f && f->limit) {
        l.paged = true;
        l.from = f->offset;
        l.count = f->limit;
    }
    if (etype == SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT)
        s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, false, collect_done, &l);
    if (s == SC_OK)
        s = st_entities_each(c, etype, false, fn, &l);
    sc_free(&c->env, l.done);
    if (s != SC_OK) {
        json_decref(l.items);
        return s;
    }
    if (l.paged)
        return dump(c,
                    json_pack("{s:o,s:I,s:I}", "items", l.items, "total", (json_int_t)l.seen,
                              "offset", (json_int_t)l.from),
                    json);
    return dump(c, json_pack("{s:o}", "items", l.items), json);
}

/* One snapshot of the replica for the whole answer, though a writer commits meanwhile. */
sc_status sc_list_v3(sc_client *c, const char *what, const sc_filter_v2 *f, char **json)
{
    if (json)
        *json = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_filter_v2 q;
    sc_status s = SC_OK;
    if (f && (s = cl_sized(c, &q, sizeof q, CL_SIZE_THROUGH(sc_filter_v2, flags), f,
                           "sc_filter_v2")) != SC_OK)
        return s;
    bool began = false;
    if ((s = st_snapshot_begin(c, &began)) == SC_OK) {
        gq_memo_begin(c);
        s = list_read(c, what, f ? &q : NULL, json);
        gq_memo_end(c);
    }
    st_snapshot_end(c, began);
    return s;
}

sc_status sc_list_v2(sc_client *c, const char *what, const sc_filter *f, unsigned flags,
                     char **json)
{
    sc_filter_v2 q = {sizeof q, NULL, 0, NULL, NULL, flags, 0, 0, 0, 0, 0};
    if (f) {
        q.status = f->status;
        q.overdue = f->overdue;
        q.target = f->target;
        q.assignment = f->assignment;
    }
    return sc_list_v3(c, what, &q, json);
}

sc_status sc_list(sc_client *c, const char *what, const sc_filter *f, char **json)
{
    return sc_list_v2(c, what, f, 0, json);
}

/* ---- show ---- */

static const char *op_state_name(int st)
{
    return st == ST_ACCEPTED ? "accepted" : st == ST_REJECTED ? "rejected" : "pending";
}

static bool listed(const ProtobufCBinaryData *v, size_t n, const uint8_t id[SC_HASH_LEN])
{
    for (size_t i = 0; i < n; i++)
        if (v[i].len == SC_HASH_LEN && memcmp(v[i].data, id, SC_HASH_LEN) == 0)
            return true;
    return false;
}

/*
 * The people a show names, by device key (hex): login, name, device label
 * and the user's role in effect, from the replica's server-signed facts
 * (rp_person_of).  Keys the replica cannot name are left out; their hex is
 * all there is.
 */
static sc_status name_key(sc_client *c, json_t *people, const ProtobufCBinaryData *key, bool has)
{
    if (!has || key->len != SC_KEY_LEN)
        return SC_OK;
    char hex[SC_HASH_HEX];
    cl_hex(key->data, key->len, hex, sizeof hex);
    if (json_object_get(people, hex))
        return SC_OK;
    rp_person p;
    sc_status s = rp_person_of(c, key->data, &p);
    if (s != SC_OK || !p.known)
        return s;
    json_t *o = p.server ? json_pack("{s:b,s:n,s:s,s:n}", "server", 1, "login", "name",
                                     "syncd (the register)", "device")
                         : json_pack("{s:b,s:o,s:o,s:o,s:o,s:o,s:o}", "server", 0, "login",
                                     p.login[0] ? json_string(p.login) : json_null(), "name",
                                     p.name[0] ? json_string(p.name) : json_null(), "device",
                                     p.device[0] ? json_string(p.device) : json_null(), "role",
                                     jname(&sc_names_role, p.role), "user",
                                     jhex(p.user, SC_ID_LEN), "device_id",
                                     jhex(p.device_id, SC_ID_LEN));
    if (!o || json_object_set_new(people, hex, o) != 0)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    return SC_OK;
}

/*
 * Login, device label and role of a named key into entry as prefix_login,
 * prefix_device, prefix_role (null: unknown).
 */
static void add_person(json_t *entry, json_t *people, const char *prefix, const json_t *hexkey)
{
    json_t *p = json_is_string(hexkey) ? json_object_get(people, json_string_value(hexkey)) : NULL;
    static const char *const what[] = {"login", "device", "role"};
    char k[32];
    for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
        snprintf(k, sizeof k, "%s_%s", prefix, what[i]);
        json_t *v = p ? json_object_get(p, what[i]) : NULL;
        json_object_set_new(entry, k, v ? json_copy(v) : json_null());
    }
}

typedef struct hist {
    json_t *a;
    json_t *people;
    json_t *void_reasons; /* op hex -> the reason of the void_record that voided it */
    const Scpb__EntityState *st;
} hist;

/*
 * Whether an op counts, and why not: "rejected" (syncd refused it: its
 * reason and message), "invalid" (not valid in its causal past: the fold's
 * reason), "voided" (a void record took it back: that void's reason).
 */
static sc_status op_validity(sc_client *c, const hist *h, const st_opinfo *info, json_t *e)
{
    char hex[SC_HASH_HEX];
    cl_hex(info->id, SC_HASH_LEN, hex, sizeof hex);
    const char *validity = "valid", *why = NULL;
    sc_status s = SC_OK;
    if (info->state == ST_REJECTED) {
        validity = "rejected";
        why = info->message;
        const char *rn = info->reason ? sc_name_of(&sc_names_reason, info->reason) : NULL;
        json_object_set_new(e, "reason", jstr(rn));
        json_object_set_new(e, "message", json_string(info->message));
    } else if (listed(h->st->invalid_ops, h->st->n_invalid_ops, info->id)) {
        validity = "invalid";
        s = rp_fold_why(c, info->entity, info->id, &why);
    } else if (listed(h->st->voided_ops, h->st->n_voided_ops, info->id)) {
        validity = "voided";
        why = json_string_value(json_object_get(h->void_reasons, hex));
    }
    json_object_set_new(e, "valid", json_boolean(strcmp(validity, "valid") == 0));
    json_object_set_new(e, "validity", json_string(validity));
    json_object_set_new(e, "why", jstr(why));
    return s;
}

static sc_status hist_visit(sc_client *c, void *ctx, const st_opinfo *info)
{
    hist *h = ctx;
    sc_op *op = NULL;
    sc_status s = st_op_load(c, info->id, &op);
    if (s != SC_OK)
        return s;
    const Scpb__Op *o = op->op;
    json_t *e = json_pack("{s:o,s:o,s:o,s:I,s:I,s:I,s:o,s:b,s:s}", "op",
                          jhex(info->id, SC_HASH_LEN), "kind", jname(&sc_names_op_kind, info->kind),
                          "author", jhex(o->author.data, o->author.len), "hlc",
                          (json_int_t)info->hlc, "time_ms", (json_int_t)SC_HLC_MS(info->hlc),
                          "device_time_ms", (json_int_t)o->device_time_ms, "log_index",
                          info->has_index ? json_integer((json_int_t)info->log_index)
                                          : json_null(),
                          "local", info->origin == ST_LOCAL, "state", op_state_name(info->state));
    if (!e)
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    if (s == SC_OK)
        s = name_key(c, h->people, &o->author, o->has_author);
    if (s == SC_OK) {
        add_person(e, h->people, "author", json_object_get(e, "author"));
        s = op_validity(c, h, info, e);
    }
    if (s == SC_OK)
        json_array_append(h->a, e);
    json_decref(e);
    sc_op_free(&c->env, op);
    return s;
}

/* What each void record of the entity voided on its own (a photo, a note, an item result), and why. */
static sc_status void_reasons(sc_client *c, const uint8_t id[SC_ID_LEN], json_t *out)
{
    sc_op **ops = NULL;
    size_t n = 0;
    sc_status s = st_ops_of_entity(c, id, false, &ops, &n);
    for (size_t i = 0; s == SC_OK && i < n; i++) {
        const Scpb__Op *o = ops[i]->op;
        if (o->body_case != SCPB__OP__BODY_VOID_RECORD || !o->void_record->has_target_op ||
            o->void_record->target_op.len != SC_HASH_LEN)
            continue;
        char hex[SC_HASH_HEX];
        cl_hex(o->void_record->target_op.data, SC_HASH_LEN, hex, sizeof hex);
        if (!json_object_get(out, hex))
            json_object_set_new(out, hex, jstr(o->void_record->reason));
    }
    st_ops_free(c, ops, n);
    return s;
}

static void show_finding(sc_client *c, json_t *o, const Scpb__EntityState *st)
{
    const Scpb__FindingState *f = rp_finding(st);
    json_t *item = finding_item(c, st);
    json_object_update(o, item);
    json_decref(item);
    json_t *ev = json_array();
    for (size_t i = 0; i < f->n_evidence; i++)
        json_array_append_new(ev, jhex(f->evidence[i].data, f->evidence[i].len));
    json_object_set_new(o, "evidence", ev);
    json_object_set_new(o, "source", jname(&sc_names_source, f->source));
    json_object_set_new(o, "revisit_count", json_integer(f->revisit_count));
    json_object_set_new(o, "last_revisit",
                        f->has_last_revisit ? jname(&sc_names_revisit, f->last_revisit) : json_null());
    json_object_set_new(o, "reported_by", jbin(&f->reported_by, f->has_reported_by));
    json_object_set_new(o, "verified_by", jbin(&f->verified_by, f->has_verified_by));
    json_object_set_new(o, "closed_by", jbin(&f->closed_by, f->has_closed_by));
    gq_show(c, st, o);
}

/* The score sheet's items with no result in effect, in the sheet's order. */
static json_t *unscored_items(sc_client *c, const Scpb__InspectionState *in)
{
    json_t *a = json_array();
    Scpb__EntityState *t = NULL;
    if (!a || !in->has_template_ || in->template_.len != SC_ID_LEN ||
        st_state_get(c, in->template_.data, &t) != SC_OK || !rp_template(t)) {
        rp_state_free(c, t);
        return a;
    }
    const Scpb__TemplateState *ts = rp_template(t);
    for (size_t i = 0; i < ts->n_items; i++) {
        const Scpb__TemplateItem *it = ts->items[i];
        bool has_result = sc_template_has_subs(ts, it->code); /* scored by its sub-items */
        for (size_t k = 0; k < in->n_results && !has_result; k++)
            has_result = it->code && in->results[k]->item_code &&
                         strcmp(it->code, in->results[k]->item_code) == 0;
        if (!has_result)
            json_array_append_new(a, json_pack("{s:o,s:o,s:o,s:i,s:b}", "code", jstr(it->code),
                                               "section", jstr(it->section), "text",
                                               jstr(it->text), "max_points", it->max_points,
                                               "veto", (int)it->veto));
    }
    rp_state_free(c, t);
    return a;
}

/*
 * The score section by section, in the sheet's order: each item (not the
 * sub-items, which are under their item) with its points and maximum as it
 * applies, and the section's sums.
 */
static json_t *sections_of(sc_client *c, const Scpb__InspectionState *in)
{
    json_t *a = json_array();
    Scpb__EntityState *t = NULL;
    const Scpb__TemplateState *ts = NULL;
    sc_item_score *is = NULL;
    sc_score sum;
    if (a && in->has_template_ && in->template_.len == SC_ID_LEN &&
        st_state_get(c, in->template_.data, &t) == SC_OK)
        ts = rp_template(t);
    if (ts && ts->n_items)
        is = sc_calloc(&c->env, ts->n_items, sizeof *is);
    if (!is || sc_score_items(ts, in, &sum, is) != SC_OK) {
        sc_free(&c->env, is);
        rp_state_free(c, t);
        return a;
    }
    json_t *sec = NULL;
    for (size_t i = 0; i < ts->n_items; i++) {
        const Scpb__TemplateItem *it = ts->items[i];
        const char *name = it->section ? it->section : "";
        if (!sec || strcmp(json_string_value(json_object_get(sec, "section")), name) != 0) {
            sec = json_pack("{s:s,s:I,s:I,s:[]}", "section", name, "points", (json_int_t)0,
                            "max", (json_int_t)0, "items");
            json_array_append_new(a, sec);
        }
        if (!sec || it->parent) /* under its item */
            continue;
        json_t *e = json_pack("{s:o,s:o,s:I,s:I,s:b,s:b}", "code", jstr(it->code), "text",
                              jstr(it->text), "points", (json_int_t)is[i].points, "max",
                              (json_int_t)is[i].max, "scored", (int)is[i].scored, "applies",
                              (int)is[i].applies);
        json_t *subs = json_array();
        for (size_t j = 0; subs && j < ts->n_items; j++)
            if (ts->items[j]->parent && it->code && strcmp(ts->items[j]->parent, it->code) == 0)
                json_array_append_new(
                    subs, json_pack("{s:o,s:I,s:I,s:b,s:b}", "code", jstr(ts->items[j]->code),
                                    "points", (json_int_t)is[j].points, "max",
                                    (json_int_t)is[j].max, "scored", (int)is[j].scored,
                                    "applies", (int)is[j].applies));
        if (json_array_size(subs))
            json_object_set_new(e, "sub_items", subs);
        else
            json_decref(subs);
        json_array_append_new(json_object_get(sec, "items"), e);
        if (is[i].applies) {
            json_object_set_new(sec, "points", json_integer(json_integer_value(json_object_get(sec, "points")) + is[i].points));
            json_object_set_new(sec, "max", json_integer(json_integer_value(json_object_get(sec, "max")) + is[i].max));
        }
    }
    sc_free(&c->env, is);
    rp_state_free(c, t);
    return a;
}

static void show_inspection(sc_client *c, json_t *o, const Scpb__EntityState *st)
{
    const Scpb__InspectionState *in = rp_inspection(st);
    json_t *item = check_item(c, st);
    json_object_update(o, item);
    json_decref(item);
    json_t *rs = json_array();
    for (size_t i = 0; i < in->n_results; i++) {
        const Scpb__ItemResult *r = in->results[i];
        json_array_append_new(
            rs, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "item", jstr(r->item_code), "status",
                          jname(&sc_names_item_status, r->status), "points",
                          r->has_points ? json_integer(r->points) : json_null(), "deduction",
                          r->has_deduction ? json_integer(r->deduction) : json_null(), "note",
                          jstr(r->note), "measured", jstr(r->measured_value), "relapse_prone",
                          (int)r->relapse_prone));
    }
    json_object_set_new(o, "results", rs);
    json_object_set_new(o, "unscored", unscored_items(c, in));
    json_object_set_new(o, "sections", sections_of(c, in));
    json_t *fs = json_array();
    for (size_t i = 0; i < in->n_findings; i++)
        json_array_append_new(fs, jhex(in->findings[i].data, in->findings[i].len));
    json_object_set_new(o, "findings", fs);
    json_object_set_new(o, "relation", jname(&sc_names_relation, in->relation));
    json_object_set_new(o, "submitted_by", jbin(&in->submitted_by, in->has_submitted_by));
    json_object_set_new(o, "remarks", jstr(in->remarks));
    json_object_set_new(o, "amend_count", json_integer(in->amend_count));
    json_object_set_new(o, "opened_at", jgeo(in->opened_at, NULL));
    json_object_set_new(o, "submitted_at", jgeo(in->submitted_at, NULL));
    json_object_set_new(o, "sign_offs", qr_sign_offs(c, st));
}

/* A sheet's campaign rule: {"min_percent","target_types","text"}, or null. */
static json_t *aggregate_json(const Scpb__AggregateRule *r)
{
    if (!r)
        return json_null();
    json_t *types = json_array();
    for (size_t i = 0; i < r->n_target_types; i++)
        json_array_append_new(types, jname(&sc_names_target_type, r->target_types[i]));
    return json_pack("{s:i,s:o,s:o}", "min_percent", (int)r->min_percent, "target_types", types,
                     "text", jstr(r->text));
}

static void show_admin(sc_client *c, json_t *o, const Scpb__EntityState *st)
{
    switch (st->kind_case) {
    case SCPB__ENTITY_STATE__KIND_ORG:
        json_object_set_new(o, "code", jstr(st->org->code));
        json_object_set_new(o, "name", jstr(st->org->name));
        json_object_set_new(o, "parent", jref(c, &st->org->parent, st->org->has_parent));
        json_object_set_new(o, "level", jname(&sc_names_org_level, st->org->level));
        break;
    case SCPB__ENTITY_STATE__KIND_TARGET:
        json_object_set_new(o, "code", jstr(st->target->code));
        json_object_set_new(o, "name", jstr(st->target->name));
        json_object_set_new(o, "org", jref(c, &st->target->org, st->target->has_org));
        json_object_set_new(o, "target_type", jname(&sc_names_target_type, st->target->type));
        json_object_set_new(o, "address", jstr(st->target->address));
        break;
    case SCPB__ENTITY_STATE__KIND_USER:
        json_object_set_new(o, "login", jstr(st->user->login));
        json_object_set_new(o, "name", jstr(st->user->name));
        json_object_set_new(o, "role", jname(&sc_names_role, st->user->role));
        json_object_set_new(o, "org", jref(c, &st->user->org, st->user->has_org));
        break;
    case SCPB__ENTITY_STATE__KIND_DEVICE:
        json_object_set_new(o, "key", jbin(&st->device->key, st->device->has_key));
        json_object_set_new(o, "user", jbin(&st->device->user, st->device->has_user));
        json_object_set_new(o, "label", jstr(st->device->label));
        json_object_set_new(o, "revoked", json_boolean(st->device->revoked));
        break;
    case SCPB__ENTITY_STATE__KIND_TEMPLATE: {
        const Scpb__TemplateState *t = st->template_;
        json_t *items = json_array();
        for (size_t i = 0; i < t->n_items; i++) {
            const Scpb__TemplateItem *it = t->items[i];
            json_t *e = json_pack("{s:o,s:o,s:o,s:i,s:b,s:s,s:b}", "code", jstr(it->code),
                                  "section", jstr(it->section), "text", jstr(it->text),
                                  "max_points", it->max_points, "veto", (int)it->veto, "mode",
                                  it->mode == SCPB__SCORE_MODE__SCORE_DEDUCT ? "deduct" : "earned",
                                  "photo_if_not_met", (int)it->photo_if_not_met);
            if (e && it->parent)
                json_object_set_new(e, "parent", json_string(it->parent));
            json_array_append_new(items, e);
        }
        json_t *grades = json_array();
        for (size_t i = 0; i < t->n_grades; i++)
            json_array_append_new(grades, json_pack("{s:o,s:i}", "name", jstr(t->grades[i]->name),
                                                    "min_points", t->grades[i]->min_points));
        json_object_set_new(o, "grades", grades);
        json_object_set_new(o, "aggregate", aggregate_json(t->aggregate));
        json_object_set_new(o, "code", jstr(t->code));
        json_object_set_new(o, "name", jstr(t->name));
        json_object_set_new(o, "version", json_integer(t->version));
        json_object_set_new(o, "pass_mark", json_integer(t->pass_mark));
        json_object_set_new(o, "max_total", json_integer(t->max_total));
        json_object_set_new(o, "items", items);
        break;
    }
    case SCPB__ENTITY_STATE__KIND_ASSIGNMENT: {
        json_t *item = assignment_item(c, st, false);
        json_object_update(o, item);
        json_decref(item);
        json_object_del(o, "done");
        json_object_del(o, "overdue");
        break;
    }
    default:
        break;
    }
}

/* Name every device key the show mentions outside its history. */
static sc_status name_keys(sc_client *c, json_t *people, const Scpb__EntityState *st)
{
    const Scpb__FindingState *f = rp_finding(st);
    const Scpb__InspectionState *in = rp_inspection(st);
    sc_status s = name_key(c, people, &st->created_by, st->has_created_by);
    if (s == SC_OK && f && (s = name_key(c, people, &f->reported_by, f->has_reported_by)) == SC_OK &&
        (s = name_key(c, people, &f->verified_by, f->has_verified_by)) == SC_OK)
        s = name_key(c, people, &f->closed_by, f->has_closed_by);
    if (s == SC_OK && in && (s = name_key(c, people, &in->opened_by, in->has_opened_by)) == SC_OK)
        s = name_key(c, people, &in->submitted_by, in->has_submitted_by);
    for (size_t i = 0; s == SC_OK && i < st->n_notes; i++)
        s = name_key(c, people, &st->notes[i]->author, true);
    if (s == SC_OK && f)
        s = gq_name_keys(c, st, name_key, people);
    return s;
}

/* What every entity shows: status, void, creator, heads, photos and notes. */
static void show_common(sc_client *c, json_t *o, const Scpb__EntityState *st, const hist *h)
{
    if (!json_object_get(o, "status"))
        json_object_set_new(o, "status", json_string(st->voided ? "voided" : "active"));
    json_object_set_new(o, "voided", json_boolean(st->voided));
    json_object_set_new(o, "void_reason", jstr(st->void_reason));
    json_object_set_new(o, "created_by", jbin(&st->created_by, st->has_created_by));
    json_object_set_new(o, "op_count", json_integer(st->op_count));
    json_t *heads = json_array();
    for (size_t i = 0; i < st->n_heads; i++)
        json_array_append_new(heads, jhex(st->heads[i].data, st->heads[i].len));
    json_object_set_new(o, "heads", heads);
    json_t *photos = json_array();
    for (size_t i = 0; i < st->n_photos; i++) {
        const Scpb__Attachment *a = st->photos[i];
        bool voided = listed(st->voided_ops, st->n_voided_ops, a->op.data);
        json_t *p = json_pack(
            "{s:o,s:I,s:o,s:I,s:o,s:o,s:b,s:b}", "sha256", jhex(a->sha256.data, a->sha256.len),
            "size", (json_int_t)a->size, "mime", jstr(a->mime), "captured_ms",
            (json_int_t)a->captured_ms, "caption", jstr(a->caption), "op",
            jhex(a->op.data, a->op.len), "present",
            (int)(a->sha256.len == SC_HASH_LEN && bl_present(c, a->sha256.data)), "voided",
            (int)voided);
        if (p && a->item_code)
            json_object_set_new(p, "item", json_string(a->item_code));
        if (p && a->geo && a->geo->has_lat_e7 && a->geo->has_lon_e7)
            json_object_set_new(p, "gps", jgeo(a->geo, a->has_geo_source
                                                           ? (a->geo_source == SCPB__GEO_SOURCE__GEO_EXIF
                                                                  ? "exif"
                                                                  : "given")
                                                           : NULL));
        if (p && a->has_time_source)
            json_object_set_new(p, "time_source",
                                json_string(a->time_source == SCPB__TIME_SOURCE__TIME_EXIF ? "exif"
                                                                                           : "file"));
        json_array_append_new(photos, p);
    }
    json_object_set_new(o, "photos", photos);
    json_t *notes = json_array();
    for (size_t i = 0; i < st->n_notes; i++) {
        const Scpb__NoteEntry *n = st->notes[i];
        json_t *e = json_pack("{s:o,s:o,s:o,s:I}", "op", jhex(n->op.data, n->op.len), "author",
                              jhex(n->author.data, n->author.len), "text", jstr(n->text), "hlc",
                              (json_int_t)n->hlc);
        add_person(e, h->people, "author", json_object_get(e, "author"));
        json_array_append_new(notes, e);
    }
    json_object_set_new(o, "notes", notes);
    /* A void closes the entity's conflicts: they are kept for the record, not as open ones. */
    json_t *k = jconflicts(c, st);
    json_object_set_new(o, "conflicts", st->voided ? json_array() : json_incref(k));
    json_object_set_new(o, "conflicts_closed_by_void", st->voided ? json_incref(k) : json_array());
    json_decref(k);
}

/* A code people know an entity by: a score sheet's (its latest version), a target's, an org unit's. */
static bool code_id(sc_client *c, const char *text, uint8_t id[SC_ID_LEN])
{
    static const int types[] = {SCPB__ENTITY_TYPE__ENTITY_TEMPLATE,
                                SCPB__ENTITY_TYPE__ENTITY_TARGET,
                                SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT};
    for (size_t i = 0; text && *text && i < sizeof types / sizeof types[0]; i++)
        if (st_find_code(c, types[i], text, id) == SC_OK)
            return true;
    return false;
}

static sc_status show_read(sc_client *c, const char *id_text, char **json)
{
    if (json)
        *json = NULL;
    if (!c || !json)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    uint8_t id[SC_ID_LEN];
    if (!cl_parse_id(id_text, id) && !code_id(c, id_text, id))
        return cl_fail(c, SC_ERR_NOT_FOUND, 0,
                       "\"%s\" is not an entity id (32 hex digits), nor the code of a score "
                       "sheet, target or org unit in the replica",
                       id_text ? id_text : "");
    Scpb__EntityState *st = NULL;
    sc_status s = rp_get(c, id, 0, "entity", &st);
    if (s != SC_OK)
        return s;
    json_t *o = json_pack("{s:o,s:o}", "id", jhex(id, SC_ID_LEN), "type",
                          jname(&sc_names_entity_type, st->type));
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING)
        show_finding(c, o, st);
    else if (st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION)
        show_inspection(c, o, st);
    else
        show_admin(c, o, st);
    hist h = {.a = json_array(), .people = json_object(), .void_reasons = json_object(), .st = st};
    s = void_reasons(c, id, h.void_reasons);
    if (s == SC_OK)
        s = st_ops_each(c, id, hist_visit, &h);
    if (s == SC_OK)
        s = name_keys(c, h.people, st);
    if (s == SC_OK)
        show_common(c, o, st, &h);
    json_object_set_new(o, "history", h.a);
    json_object_set_new(o, "people", h.people);
    json_decref(h.void_reasons);
    rp_state_free(c, st);
    if (s != SC_OK) {
        json_decref(o);
        return s;
    }
    return dump(c, o, json);
}

/* One snapshot of the replica for the whole answer, though a writer commits meanwhile. */
sc_status sc_show(sc_client *c, const char *id_text, char **json)
{
    if (json)
        *json = NULL;
    bool began = false;
    sc_status s = c ? st_snapshot_begin(c, &began) : SC_OK;
    if (s == SC_OK)
        s = show_read(c, id_text, json);
    if (c)
        st_snapshot_end(c, began);
    return s;
}

/* ---- this device's ops: queued, proven, rejected ---- */

typedef struct own_list {
    json_t *a;
} own_list;

static sc_status own_visit(sc_client *c, void *ctx, const st_opinfo *info)
{
    (void)c;
    own_list *l = ctx;
    json_t *e = json_pack("{s:o,s:o,s:o,s:o,s:I}", "op", jhex(info->id, SC_HASH_LEN), "entity",
                          jhex(info->entity, SC_ID_LEN), "type",
                          jname(&sc_names_entity_type, info->etype), "kind",
                          jname(&sc_names_op_kind, info->kind), "time_ms",
                          (json_int_t)SC_HLC_MS(info->hlc));
    if (e && info->state == ST_ACCEPTED)
        json_object_set_new(e, "log_index", info->has_index
                                                ? json_integer((json_int_t)info->log_index)
                                                : json_null());
    if (e && info->state == ST_REJECTED) {
        const char *rn = info->reason ? sc_name_of(&sc_names_reason, info->reason) : NULL;
        json_object_set_new(e, "reason", jstr(rn));
        json_object_set_new(e, "message", json_string(info->message));
    }
    if (!e || json_array_append_new(l->a, e) != 0)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    return SC_OK;
}

static sc_status photo_visit(sc_client *c, void *ctx, const uint8_t sha[SC_HASH_LEN], uint64_t size)
{
    own_list *l = ctx;
    json_t *e = json_pack("{s:o,s:I}", "sha256", jhex(sha, SC_HASH_LEN), "size", (json_int_t)size);
    if (!e || json_array_append_new(l->a, e) != 0)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    return SC_OK;
}

static sc_status outbox_read(sc_client *c, size_t proven_max, char **json)
{
    if (json)
        *json = NULL;
    if (!c || !json)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    own_list queued = {json_array()}, proven = {json_array()}, rejected = {json_array()},
             photos = {json_array()};
    int64_t nproven = 0;
    int64_t max = proven_max == 0 || proven_max > INT64_MAX ? -1 : (int64_t)proven_max;
    sc_status s = SC_OK;
    if (!queued.a || !proven.a || !rejected.a || !photos.a)
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    if (s == SC_OK)
        s = st_own_ops_each(c, ST_PENDING, false, -1, own_visit, &queued);
    if (s == SC_OK)
        s = st_own_ops_each(c, ST_ACCEPTED, true, max, own_visit, &proven);
    if (s == SC_OK)
        s = st_own_ops_each(c, ST_REJECTED, false, -1, own_visit, &rejected);
    if (s == SC_OK)
        s = st_blobs_each(c, BL_UPLOAD, photo_visit, &photos);
    if (s == SC_OK)
        s = st_count(c, "proven", &nproven);
    json_t *o = s == SC_OK ? json_pack("{s:O,s:O,s:I,s:O,s:O}", "queued", queued.a, "proven",
                                       proven.a, "proven_total", (json_int_t)nproven, "rejected",
                                       rejected.a, "photos_waiting", photos.a)
                           : NULL;
    json_decref(queued.a);
    json_decref(proven.a);
    json_decref(rejected.a);
    json_decref(photos.a);
    if (s != SC_OK)
        return s;
    return dump(c, o, json);
}

/* One snapshot of the replica for the whole answer, though a writer commits meanwhile. */
sc_status sc_outbox(sc_client *c, size_t proven_max, char **json)
{
    if (json)
        *json = NULL;
    bool began = false;
    sc_status s = c ? st_snapshot_begin(c, &began) : SC_OK;
    if (s == SC_OK)
        s = outbox_read(c, proven_max, json);
    if (c)
        st_snapshot_end(c, began);
    return s;
}

/* ---- review queue and conflicts ---- */

typedef struct queue {
    json_t *closure, *revisit, *overdue, *conflicts;
    json_t *sign_for_late, *plan_late, *extensions; /* governance (query_gov.c's flags) */
    json_t *escalate;                               /* query_esc.c's needs_escalation */
    int64_t nconflicts;
} queue;

static sc_status queue_visit(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    queue *q = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    if (st->n_conflicts > 0 && !st->voided) {
        q->nconflicts++;
        if (q->conflicts)
            json_array_append_new(q->conflicts,
                                  json_pack("{s:o,s:o,s:o}", "id", jhex(id, SC_ID_LEN), "type",
                                            jname(&sc_names_entity_type, st->type), "conflicts",
                                            jconflicts(c, st)));
    }
    const Scpb__FindingState *f = rp_finding(st);
    if (q->closure && f && !st->voided) {
        /* One item per finding, shared by every list it is in: building it reads the target,
           its org units and their policy, the bulk of a review's time. */
        json_t *item = finding_item(c, st);
        if (f->status == SCPB__FINDING_STATUS__FINDING_VERIFIED)
            json_array_append(q->closure, item);
        if (f->status == SCPB__FINDING_STATUS__FINDING_SUBMITTED)
            json_array_append(q->revisit, item);
        if (sc_finding_overdue(st, today(c)))
            json_array_append(q->overdue, item);
        if (json_is_true(json_object_get(item, "sign_for_late")))
            json_array_append(q->sign_for_late, item);
        if (json_is_true(json_object_get(item, "plan_late")))
            json_array_append(q->plan_late, item);
        if (json_integer_value(json_object_get(item, "extensions_pending")) > 0)
            json_array_append(q->extensions, item);
        if (json_is_true(json_object_get(item, "needs_escalation")))
            json_array_append(q->escalate, item);
        json_decref(item);
    }
    rp_state_free(c, st);
    return SC_OK;
}

sc_status qr_conflict_count(sc_client *c, int64_t *out)
{
    /* The conflicted table mirrors queue_visit's test, kept as states are stored. */
    return st_count(c, "conflicted", out);
}

static sc_status review_read(sc_client *c, char **json)
{
    if (json)
        *json = NULL;
    if (!c || !json)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    queue q = {json_array(), json_array(), json_array(), json_array(), json_array(),
               json_array(), json_array(), json_array(), 0};
    gq_memo_begin(c);
    sc_status s = st_entities_each(c, 0, false, queue_visit, &q);
    gq_memo_end(c);
    json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "awaiting_closure", q.closure,
                          "awaiting_revisit", q.revisit, "overdue", q.overdue, "conflicts",
                          q.conflicts, "sign_for_late", q.sign_for_late, "plan_late", q.plan_late,
                          "extension_requests", q.extensions, "needs_escalation", q.escalate);
    if (s != SC_OK) {
        json_decref(o);
        return s;
    }
    return dump(c, o, json);
}

/* One snapshot of the replica for the whole answer, though a writer commits meanwhile. */
sc_status sc_review(sc_client *c, char **json)
{
    if (json)
        *json = NULL;
    bool began = false;
    sc_status s = c ? st_snapshot_begin(c, &began) : SC_OK;
    if (s == SC_OK)
        s = review_read(c, json);
    if (c)
        st_snapshot_end(c, began);
    return s;
}

static sc_status conflicts_read(sc_client *c, char **json)
{
    if (json)
        *json = NULL;
    if (!c || !json)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    /* Only the entities the conflicted index names are read: what every entity in conflict is. */
    queue q = {.conflicts = json_array()};
    sc_status s = st_conflicted_each(c, queue_visit, &q);
    json_t *o = json_pack("{s:o}", "items", q.conflicts);
    if (s != SC_OK) {
        json_decref(o);
        return s;
    }
    return dump(c, o, json);
}

/* One snapshot of the replica for the whole answer, though a writer commits meanwhile. */
sc_status sc_conflicts(sc_client *c, char **json)
{
    if (json)
        *json = NULL;
    bool began = false;
    sc_status s = c ? st_snapshot_begin(c, &began) : SC_OK;
    if (s == SC_OK)
        s = conflicts_read(c, json);
    if (c)
        st_snapshot_end(c, began);
    return s;
}

/* ---- a photo out of the store ---- */

sc_status sc_photo_get(sc_client *c, const char *sha_text, const char *path, char **json)
{
    if (json)
        *json = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    uint8_t sha[SC_HASH_LEN];
    if (!cl_parse_hash(sha_text, sha))
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "a photo is named by its SHA-256, 64 hex digits");
    if (!path || !*path)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "no file to write the photo to");
    uint64_t size = 0;
    char mime[SC_MIME_MAX];
    sc_status s = bl_export(c, sha, path, &size, mime, sizeof mime);
    if (s != SC_OK || !json)
        return s;
    s = dump(c, json_pack("{s:o,s:I,s:s,s:s}", "sha256", jhex(sha, SC_HASH_LEN), "size",
                          (json_int_t)size, "mime", mime, "path", path),
             json);
    if (s != SC_OK)
        unlink(path);
    return s;
}
