/*
 * codec.c: signed ops in and out, and the structural check of an Op.
 *
 * Decoding is where bytes from the network first become structures, so it is
 * defensive in a fixed order: the length is capped before anything is
 * allocated; every protobuf-c unpack uses the environment's allocator and is
 * paired with its free; an allocation failure inside unpack is told apart
 * from a bad encoding (protobuf-c reports both as NULL) by a thin allocator
 * wrapper; unknown fields anywhere in the tree are refused; the decoded
 * envelope and op must re-encode to exactly the bytes received, compared
 * byte for byte, so no signed byte is invisible in the decoded form
 * (protobuf-c silently truncates a string at an embedded NUL and lets a
 * repeated field overwrite an earlier one) and one content has one encoding
 * (protobuf-c reads fields in any order); then the structure is checked and only then the
 * signature.
 *
 * sc_op_check reports the first problem it finds.  Its reasons:
 * REASON_MALFORMED when the op's shape is wrong (header fields, deps, a
 * missing body or a missing required field), REASON_WRONG_ENTITY_TYPE when
 * the body kind does not apply to the entity type, REASON_BAD_FIELD when a
 * present value is out of range or of the wrong form.  The message names the
 * field ("finding_create.description: empty").  An enum field that is
 * present must hold a known value other than UNSPECIFIED: an explicit
 * "unspecified" says nothing and would give one meaning two encodings.
 */
#include "codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "governance.h"
#include "ids.h"
#include "names.h"
#include "wire.pb-c.h"

/* ---- the structural check ---- */

/* Day numbers: 1970-01-01 .. 9999-12-31, the dates "YYYY-MM-DD" can write. */
#define DAY_MIN 0
#define DAY_MAX 2932896
/* Points one checklist item may be worth, and one result may score. */
#define ITEM_MAX_POINTS   1000
#define RESULT_MAX_POINTS 100000
/* Degrees x 1e7. */
#define LAT_MAX_E7 900000000
#define LON_MAX_E7 1800000000

/*
 * The checker state: the first failure wins and every later check is a
 * no-op, so each body check reads as a plain list of rules.  `where` names
 * the message being checked ("op", "finding_create",
 * "template_publish.items[3]").
 */
typedef struct chk {
    sc_err *err;
    sc_status rc;
    /* `where`, written out only when a check fails: every op opened is checked, a stored one
     * each time it is loaded, and an amendment names up to 500 results */
    const char *where; /* a literal; where_at: a list, and where_i the index in it */
    size_t where_i;
    bool where_at;
} chk;

static void chk_where(chk *c, const char *where)
{
    c->where = where;
    c->where_at = false;
}

/* The index'th of the list named where ("template_publish.items"). */
static void chk_where_at(chk *c, const char *where, size_t index)
{
    c->where = where;
    c->where_i = index;
    c->where_at = true;
}

static void fail(chk *c, int reason, const char *field, const char *fmt, ...) SC_PRINTF(4, 5);
static void fail(chk *c, int reason, const char *field, const char *fmt, ...)
{
    if (c->rc != SC_OK)
        return;
    char what[SC_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char where[64];
    if (c->where_at)
        snprintf(where, sizeof where, "%s[%zu]", c->where, c->where_i);
    else
        snprintf(where, sizeof where, "%s", c->where ? c->where : "op");
    c->rc = sc_err_set(c->err, SC_ERR_MALFORMED, reason, "%s.%s: %s", where, field, what);
}

#define MALFORMED SCPB__REASON__REASON_MALFORMED
#define BAD_FIELD SCPB__REASON__REASON_BAD_FIELD

enum { OPTIONAL = 0, REQUIRED = 1 };

/* A string: NULL is absent; present strings are valid UTF-8 of min..max bytes. */
static void chk_str(chk *c, const char *field, const char *s, int required, size_t min, size_t max)
{
    if (c->rc != SC_OK)
        return;
    if (!s) {
        if (required)
            fail(c, MALFORMED, field, "missing");
        return;
    }
    size_t len = strnlen(s, max + 1);
    if (len > max)
        fail(c, BAD_FIELD, field, "longer than %zu bytes", max);
    else if (len < min)
        fail(c, BAD_FIELD, field, "empty");
    else if (!sc_utf8_valid(s, len))
        fail(c, BAD_FIELD, field, "not valid UTF-8");
}

/* A bytes field of a fixed size (ids 16, hashes and keys 32). */
static void chk_bytes(chk *c, const char *field, protobuf_c_boolean has,
                      const ProtobufCBinaryData *b, int required, size_t size)
{
    if (c->rc != SC_OK)
        return;
    if (!has) {
        if (required)
            fail(c, MALFORMED, field, "missing");
        return;
    }
    if (b->len != size)
        fail(c, BAD_FIELD, field, "%zu bytes, expected %zu", b->len, size);
}

/* A list of fixed-size byte strings, at most max of them, optionally distinct. */
static void chk_list(chk *c, const char *field, size_t n, const ProtobufCBinaryData *v, size_t max,
                     size_t size, bool distinct)
{
    if (c->rc != SC_OK)
        return;
    if (n > max) {
        fail(c, BAD_FIELD, field, "%zu entries, at most %zu", n, max);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].len != size) {
            fail(c, BAD_FIELD, field, "entry %zu is %zu bytes, expected %zu", i, v[i].len, size);
            return;
        }
    }
    /* Quadratic, but only asked of short lists (assignees: 32). */
    for (size_t i = 0; distinct && i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (memcmp(v[i].data, v[j].data, size) == 0) {
                fail(c, BAD_FIELD, field, "entries %zu and %zu are the same", i, j);
                return;
            }
        }
    }
}

/* An enum field: present values must be known and not UNSPECIFIED (0). */
static void chk_enum(chk *c, const char *field, protobuf_c_boolean has, int value,
                     const ProtobufCEnumDescriptor *desc, int required)
{
    if (c->rc != SC_OK)
        return;
    if (!has) {
        if (required)
            fail(c, MALFORMED, field, "missing");
        return;
    }
    if (value == 0 || !protobuf_c_enum_descriptor_get_value(desc, value))
        fail(c, BAD_FIELD, field, "unknown value %d", value);
}

static void chk_int(chk *c, const char *field, protobuf_c_boolean has, int64_t v, int required,
                    int64_t lo, int64_t hi)
{
    if (c->rc != SC_OK)
        return;
    if (!has) {
        if (required)
            fail(c, MALFORMED, field, "missing");
        return;
    }
    if (v < lo || v > hi)
        fail(c, BAD_FIELD, field, "%lld outside [%lld, %lld]", (long long)v, (long long)lo,
             (long long)hi);
}

static void chk_geo(chk *c, const char *field, const Scpb__Geo *g)
{
    if (!g || c->rc != SC_OK)
        return;
    char name[48];
    /* A position needs both coordinates; accuracy alone locates nothing. */
    snprintf(name, sizeof name, "%s.lat_e7", field);
    chk_int(c, name, g->has_lat_e7, g->lat_e7, REQUIRED, -LAT_MAX_E7, LAT_MAX_E7);
    snprintf(name, sizeof name, "%s.lon_e7", field);
    chk_int(c, name, g->has_lon_e7, g->lon_e7, REQUIRED, -LON_MAX_E7, LON_MAX_E7);
}

/*
 * A field value in canonical text (FieldEdit, ConflictResolve): dates
 * "YYYY-MM-DD" or "" to clear, grades by name, references as 32 lowercase
 * hex digits.
 */
static void chk_field_value(chk *c, const char *name, Scpb__Field field, const char *value)
{
    if (c->rc != SC_OK)
        return;
    if (!value) {
        fail(c, MALFORMED, name, "missing");
        return;
    }
    size_t len = strnlen(value, SC_TEXT_MAX + 1);
    switch (field) {
    case SCPB__FIELD__FIELD_DESCRIPTION:
        chk_str(c, name, value, REQUIRED, 1, SC_TEXT_MAX);
        break;
    case SCPB__FIELD__FIELD_GRADE: {
        int g;
        if (!sc_name_parse(&sc_names_grade, value, &g))
            fail(c, BAD_FIELD, name, "grade must be \"major\" or \"general\"");
        break;
    }
    case SCPB__FIELD__FIELD_DEADLINE: {
        int32_t day;
        if (len == 0)
            break; /* clears the deadline */
        if (sc_date_parse(value, len, &day) != SC_OK || day < DAY_MIN || day > DAY_MAX)
            fail(c, BAD_FIELD, name, "deadline must be YYYY-MM-DD (1970..9999) or empty");
        break;
    }
    case SCPB__FIELD__FIELD_RESPONSIBLE: {
        bool ok = len == 2 * SC_ID_LEN;
        for (size_t i = 0; ok && i < len; i++)
            ok = (value[i] >= '0' && value[i] <= '9') || (value[i] >= 'a' && value[i] <= 'f');
        if (!ok)
            fail(c, BAD_FIELD, name, "responsible must be 32 lowercase hex digits");
        break;
    }
    case SCPB__FIELD__FIELD_CATEGORY:
        chk_str(c, name, value, REQUIRED, 0, SC_NAME_MAX);
        break;
    case SCPB__FIELD__FIELD_LOCATION:
        chk_str(c, name, value, REQUIRED, 0, SC_TEXT_MAX);
        break;
    default:
        fail(c, BAD_FIELD, name, "field %d has no text value", (int)field);
        break;
    }
}

static void chk_org_create(chk *c, const Scpb__OrgCreate *b)
{
    chk_where(c, "org_create");
    chk_str(c, "code", b->code, REQUIRED, 1, SC_CODE_MAX);
    chk_str(c, "name", b->name, REQUIRED, 1, SC_NAME_MAX);
    chk_bytes(c, "parent", b->has_parent, &b->parent, OPTIONAL, SC_ID_LEN);
    chk_enum(c, "level", b->has_level, b->level, &scpb__org_level__descriptor, REQUIRED);
    chk_enum(c, "kind", b->has_kind, b->kind, &scpb__org_kind__descriptor, OPTIONAL);
}

static void chk_target_create(chk *c, const Scpb__TargetCreate *b)
{
    chk_where(c, "target_create");
    chk_str(c, "code", b->code, REQUIRED, 1, SC_CODE_MAX);
    chk_str(c, "name", b->name, REQUIRED, 1, SC_NAME_MAX);
    chk_bytes(c, "org", b->has_org, &b->org, REQUIRED, SC_ID_LEN);
    chk_enum(c, "type", b->has_type, b->type, &scpb__target_type__descriptor, OPTIONAL);
    chk_str(c, "address", b->address, OPTIONAL, 0, SC_TEXT_MAX);
}

static void chk_user_create(chk *c, const Scpb__UserCreate *b)
{
    chk_where(c, "user_create");
    chk_str(c, "login", b->login, REQUIRED, 1, SC_CODE_MAX);
    chk_str(c, "name", b->name, OPTIONAL, 0, SC_NAME_MAX);
    chk_enum(c, "role", b->has_role, b->role, &scpb__role__descriptor, REQUIRED);
    chk_bytes(c, "org", b->has_org, &b->org, REQUIRED, SC_ID_LEN);
}

static void chk_device_enroll(chk *c, const Scpb__DeviceEnroll *b)
{
    chk_where(c, "device_enroll");
    chk_bytes(c, "user", b->has_user, &b->user, REQUIRED, SC_ID_LEN);
    chk_bytes(c, "key", b->has_key, &b->key, REQUIRED, SC_KEY_LEN);
    chk_str(c, "label", b->label, OPTIONAL, 0, SC_NAME_MAX);
}

static void chk_device_revoke(chk *c, const Scpb__DeviceRevoke *b)
{
    chk_where(c, "device_revoke");
    chk_str(c, "reason", b->reason, OPTIONAL, 0, SC_TEXT_MAX);
}

static void chk_user_disable(chk *c, const Scpb__UserDisable *b)
{
    chk_where(c, "user_disable");
    chk_str(c, "reason", b->reason, OPTIONAL, 0, SC_TEXT_MAX);
}

static void chk_user_enable(chk *c, const Scpb__UserEnable *b)
{
    chk_where(c, "user_enable");
    chk_str(c, "reason", b->reason, OPTIONAL, 0, SC_TEXT_MAX);
}

static void chk_user_role(chk *c, const Scpb__UserRole *b)
{
    chk_where(c, "user_role");
    chk_enum(c, "role", b->has_role, b->role, &scpb__role__descriptor, REQUIRED);
}

/*
 * Item i of a sheet as a sub-item: its item is an earlier one that is no
 * sub-item itself (one level, so a sheet reads top-down), and the maxima of
 * an item's sub-items add up to at most the item's own.
 */
static void chk_sub_items(chk *c, const Scpb__TemplatePublish *b, size_t i)
{
    const Scpb__TemplateItem *it = b->items[i];
    chk_where_at(c, "template_publish.items", i);
    if (it->parent) {
        size_t p = 0;
        while (p < i && strcmp(b->items[p]->code, it->parent) != 0)
            p++;
        if (p == i)
            fail(c, BAD_FIELD, "parent", "\"%s\" is not an earlier item", it->parent);
        else if (b->items[p]->parent)
            fail(c, BAD_FIELD, "parent", "\"%s\" is a sub-item itself", it->parent);
        return;
    }
    int64_t subs = 0;
    bool any = false;
    for (size_t j = i + 1; j < b->n_items; j++)
        if (b->items[j]->parent && strcmp(b->items[j]->parent, it->code) == 0) {
            subs += b->items[j]->max_points;
            any = true;
        }
    if (any && subs > it->max_points)
        fail(c, BAD_FIELD, "max_points", "its sub-items add up to %lld points, over the item's %d",
             (long long)subs, it->max_points);
}

/* Grade bands: named, in ascending order of their points, within the sheet's maximum. */
static void chk_grades(chk *c, const Scpb__TemplatePublish *b, int64_t total)
{
    if (c->rc == SC_OK && b->n_grades > SC_TEMPLATE_GRADES_MAX)
        fail(c, BAD_FIELD, "grades", "%zu bands, at most %d", b->n_grades, SC_TEMPLATE_GRADES_MAX);
    for (size_t g = 0; c->rc == SC_OK && g < b->n_grades; g++) {
        const Scpb__GradeBand *band = b->grades[g];
        chk_where_at(c, "template_publish.grades", g);
        if (!band) {
            fail(c, MALFORMED, "name", "band missing");
            break;
        }
        chk_str(c, "name", band->name, REQUIRED, 1, SC_NAME_MAX);
        chk_int(c, "min_points", band->has_min_points, band->min_points, REQUIRED, 0, total);
        if (c->rc == SC_OK && g > 0 && band->min_points <= b->grades[g - 1]->min_points)
            fail(c, BAD_FIELD, "min_points", "%d, not above the band before", band->min_points);
        for (size_t h = 0; c->rc == SC_OK && h < g; h++)
            if (strcmp(b->grades[h]->name, band->name) == 0)
                fail(c, BAD_FIELD, "name", "same as grades[%zu]", h);
    }
}

static void chk_template_publish(chk *c, const Scpb__TemplatePublish *b)
{
    chk_where(c, "template_publish");
    chk_str(c, "code", b->code, REQUIRED, 1, SC_CODE_MAX);
    chk_str(c, "name", b->name, REQUIRED, 1, SC_NAME_MAX);
    chk_int(c, "version", b->has_version, b->version, REQUIRED, 1, UINT32_MAX);
    if (c->rc == SC_OK && b->n_items == 0)
        fail(c, MALFORMED, "items", "missing");
    if (c->rc == SC_OK && b->n_items > SC_TEMPLATE_ITEMS_MAX)
        fail(c, BAD_FIELD, "items", "%zu items, at most %d", b->n_items, SC_TEMPLATE_ITEMS_MAX);
    int64_t total = 0;
    for (size_t i = 0; c->rc == SC_OK && i < b->n_items; i++) {
        const Scpb__TemplateItem *it = b->items[i];
        chk_where_at(c, "template_publish.items", i);
        if (!it) {
            fail(c, MALFORMED, "code", "item missing");
            break;
        }
        chk_str(c, "code", it->code, REQUIRED, 1, SC_CODE_MAX);
        chk_str(c, "section", it->section, OPTIONAL, 0, SC_NAME_MAX);
        chk_str(c, "text", it->text, REQUIRED, 1, SC_TEXT_MAX);
        chk_int(c, "max_points", it->has_max_points, it->max_points, OPTIONAL, 0, ITEM_MAX_POINTS);
        /* Codes name items in results; two items with one code would make
         * every result for it ambiguous.  Quadratic in up to 500 short
         * strings: microseconds, once per published template. */
        for (size_t j = 0; c->rc == SC_OK && j < i; j++)
            if (strcmp(b->items[j]->code, it->code) == 0)
                fail(c, BAD_FIELD, "code", "same as items[%zu]", j);
        chk_enum(c, "mode", it->has_mode, it->mode, &scpb__score_mode__descriptor, OPTIONAL);
        chk_str(c, "parent", it->parent, OPTIONAL, 1, SC_CODE_MAX);
        if (it->has_max_points && !it->parent)
            total += it->max_points;
    }
    for (size_t i = 0; c->rc == SC_OK && i < b->n_items; i++)
        chk_sub_items(c, b, i);
    chk_where(c, "template_publish");
    chk_int(c, "pass_mark", b->has_pass_mark, b->pass_mark, OPTIONAL, 0, total);
    chk_grades(c, b, total);
    if (c->rc == SC_OK && b->aggregate) {
        const Scpb__AggregateRule *r = b->aggregate;
        chk_where(c, "template_publish.aggregate");
        chk_int(c, "min_percent", r->has_min_percent, r->min_percent, REQUIRED, 1, 100);
        chk_str(c, "text", r->text, OPTIONAL, 0, SC_TEXT_MAX);
        if (c->rc == SC_OK && r->n_target_types > SC_TEMPLATE_GRADES_MAX)
            fail(c, BAD_FIELD, "target_types", "%zu, at most %d", r->n_target_types,
                 SC_TEMPLATE_GRADES_MAX);
        for (size_t i = 0; c->rc == SC_OK && i < r->n_target_types; i++)
            chk_enum(c, "target_types", true, r->target_types[i], &scpb__target_type__descriptor,
                     REQUIRED);
    }
}

static void chk_assignment_create(chk *c, const Scpb__AssignmentCreate *b)
{
    chk_where(c, "assignment_create");
    chk_bytes(c, "target", b->has_target, &b->target, REQUIRED, SC_ID_LEN);
    if (c->rc == SC_OK && b->n_inspectors == 0)
        fail(c, MALFORMED, "inspectors", "missing");
    chk_list(c, "inspectors", b->n_inspectors, b->inspectors, SC_ASSIGNEES_MAX, SC_ID_LEN, true);
    chk_enum(c, "kind", b->has_kind, b->kind, &scpb__inspection_kind__descriptor, REQUIRED);
    chk_enum(c, "disclosure", b->has_disclosure, b->disclosure, &scpb__disclosure__descriptor,
             REQUIRED);
    chk_int(c, "due_day", b->has_due_day, b->due_day, OPTIONAL, DAY_MIN, DAY_MAX);
    chk_bytes(c, "template", b->has_template_, &b->template_, OPTIONAL, SC_ID_LEN);
    chk_str(c, "note", b->note, OPTIONAL, 0, SC_TEXT_MAX);
    chk_list(c, "rechecks", b->n_rechecks, b->rechecks, SC_RECHECKS_MAX, SC_ID_LEN, true);
    chk_list(c, "verifies", b->n_verifies, b->verifies, SC_VERIFIES_MAX, SC_ID_LEN, true);
}

static void chk_inspection_open(chk *c, const Scpb__InspectionOpen *b)
{
    chk_where(c, "inspection_open");
    chk_bytes(c, "target", b->has_target, &b->target, REQUIRED, SC_ID_LEN);
    chk_bytes(c, "template", b->has_template_, &b->template_, OPTIONAL, SC_ID_LEN);
    chk_bytes(c, "assignment", b->has_assignment, &b->assignment, OPTIONAL, SC_ID_LEN);
    chk_enum(c, "kind", b->has_kind, b->kind, &scpb__inspection_kind__descriptor, REQUIRED);
    chk_enum(c, "disclosure", b->has_disclosure, b->disclosure, &scpb__disclosure__descriptor,
             REQUIRED);
    chk_enum(c, "relation", b->has_relation, b->relation, &scpb__relation__descriptor, OPTIONAL);
    if (c->rc == SC_OK && b->has_self_check && b->self_check &&
        b->kind != SCPB__INSPECTION_KIND__KIND_SELF)
        fail(c, BAD_FIELD, "self_check", "a self-check is of kind self (自查)");
}

/* An item result; the caller has set c->where. */
static void chk_item_result_fields(chk *c, const Scpb__ItemResult *b)
{
    chk_str(c, "item_code", b->item_code, REQUIRED, 1, SC_CODE_MAX);
    chk_enum(c, "status", b->has_status, b->status, &scpb__item_status__descriptor, REQUIRED);
    chk_int(c, "points", b->has_points, b->points, OPTIONAL, 0, RESULT_MAX_POINTS);
    chk_int(c, "deduction", b->has_deduction, b->deduction, OPTIONAL, 0, RESULT_MAX_POINTS);
    if (c->rc == SC_OK && b->has_points && b->has_deduction)
        fail(c, BAD_FIELD, "deduction", "a result gives points earned or deducted, not both");
    chk_str(c, "measured_value", b->measured_value, OPTIONAL, 0, SC_TEXT_MAX);
    chk_str(c, "note", b->note, OPTIONAL, 0, SC_TEXT_MAX);
}

static void chk_item_result(chk *c, const Scpb__ItemResult *b)
{
    chk_where(c, "item_result");
    chk_item_result_fields(c, b);
}

static void chk_inspection_submit(chk *c, const Scpb__InspectionSubmit *b)
{
    chk_where(c, "inspection_submit");
    chk_list(c, "findings", b->n_findings, b->findings, SC_SUBMIT_FINDINGS_MAX, SC_ID_LEN, false);
    chk_list(c, "finding_heads", b->n_finding_heads, b->finding_heads, SC_SUBMIT_FINDINGS_MAX,
             SC_HASH_LEN, false);
    chk_list(c, "photos", b->n_photos, b->photos, SC_SUBMIT_PHOTOS_MAX, SC_HASH_LEN, false);
    chk_str(c, "remarks", b->remarks, OPTIONAL, 0, SC_TEXT_MAX);
}

typedef struct code_at {
    const char *code;
    size_t at;
} code_at;

static int code_at_cmp(const void *x, const void *y)
{
    const code_at *a = x, *b = y;
    int d = strcmp(a->code, b->code);
    return d ? d : (a->at > b->at) - (a->at < b->at);
}

/*
 * The first result (in order) whose item an earlier one names: *j gets the
 * earliest such; SIZE_MAX when none does.  Sorted, not compared pairwise:
 * an amendment names up to SC_TEMPLATE_ITEMS_MAX items, and every stored
 * op is checked again each time its entity is loaded.
 */
static size_t first_repeat(const Scpb__InspectionAmend *b, size_t *j)
{
    code_at v[SC_TEMPLATE_ITEMS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < b->n_results && n < SC_TEMPLATE_ITEMS_MAX; i++)
        if (b->results[i] && b->results[i]->item_code)
            v[n++] = (code_at){b->results[i]->item_code, i};
    qsort(v, n, sizeof *v, code_at_cmp);
    size_t first = SIZE_MAX;
    for (size_t k = 1; k < n; k++)
        if (strcmp(v[k].code, v[k - 1].code) == 0 &&
            (k < 2 || strcmp(v[k - 1].code, v[k - 2].code) != 0) && v[k].at < first) {
            first = v[k].at; /* the second of its code: the first of it named before */
            *j = v[k - 1].at;
        }
    return first;
}

static void chk_inspection_amend(chk *c, const Scpb__InspectionAmend *b)
{
    chk_where(c, "inspection_amend");
    chk_str(c, "reason", b->reason, REQUIRED, 1, SC_TEXT_MAX);
    if (c->rc == SC_OK && b->n_results == 0)
        fail(c, MALFORMED, "results", "missing");
    if (c->rc == SC_OK && b->n_results > SC_TEMPLATE_ITEMS_MAX)
        fail(c, BAD_FIELD, "results", "%zu results, at most %d", b->n_results,
             SC_TEMPLATE_ITEMS_MAX);
    /* One amendment gives each item one new result. */
    size_t j = 0, repeat = c->rc == SC_OK ? first_repeat(b, &j) : SIZE_MAX;
    for (size_t i = 0; c->rc == SC_OK && i < b->n_results; i++) {
        chk_where_at(c, "inspection_amend.results", i);
        if (!b->results[i]) {
            fail(c, MALFORMED, "item_code", "result missing");
            break;
        }
        chk_item_result_fields(c, b->results[i]);
        if (i == repeat)
            fail(c, BAD_FIELD, "item_code", "same as results[%zu]", j);
    }
}

static void chk_finding_create(chk *c, const Scpb__FindingCreate *b)
{
    chk_where(c, "finding_create");
    chk_bytes(c, "inspection", b->has_inspection, &b->inspection, OPTIONAL, SC_ID_LEN);
    chk_bytes(c, "target", b->has_target, &b->target, REQUIRED, SC_ID_LEN);
    chk_str(c, "item_code", b->item_code, OPTIONAL, 1, SC_CODE_MAX);
    chk_enum(c, "grade", b->has_grade, b->grade, &scpb__grade__descriptor, REQUIRED);
    chk_str(c, "category", b->category, OPTIONAL, 0, SC_NAME_MAX);
    chk_str(c, "description", b->description, REQUIRED, 1, SC_TEXT_MAX);
    chk_str(c, "location", b->location, OPTIONAL, 0, SC_TEXT_MAX);
    chk_int(c, "deadline_day", b->has_deadline_day, b->deadline_day, OPTIONAL, DAY_MIN, DAY_MAX);
    chk_bytes(c, "responsible", b->has_responsible, &b->responsible, OPTIONAL, SC_ID_LEN);
    chk_list(c, "evidence", b->n_evidence, b->evidence, SC_EVIDENCE_MAX, SC_HASH_LEN, false);
    chk_enum(c, "source", b->has_source, b->source, &scpb__finding_source__descriptor, OPTIONAL);
    /* Absent is the earlier rules; 1 would be a second way to say so. */
    chk_int(c, "rules", b->has_rules, b->rules, OPTIONAL, SC_GOV_RULES, SC_GOV_RULES);
}

static void chk_field_edit(chk *c, const Scpb__FieldEdit *b)
{
    chk_where(c, "field_edit");
    chk_enum(c, "field", b->has_field, b->field, &scpb__field__descriptor, REQUIRED);
    if (c->rc != SC_OK)
        return;
    /* Status moves by lifecycle ops, items by results, a user's fields by user ops, plans
     * and extensions by their own ops. */
    if (b->field == SCPB__FIELD__FIELD_STATUS || b->field == SCPB__FIELD__FIELD_ITEM ||
        b->field == SCPB__FIELD__FIELD_ROLE || b->field == SCPB__FIELD__FIELD_ACCESS ||
        b->field == SCPB__FIELD__FIELD_PLAN || b->field == SCPB__FIELD__FIELD_EXTENSION) {
        fail(c, BAD_FIELD, "field", "%s is not editable", sc_name_of(&sc_names_field, b->field));
        return;
    }
    chk_field_value(c, "value", b->field, b->value);
}

static void chk_rectification_report(chk *c, const Scpb__RectificationReport *b)
{
    chk_where(c, "rectification_report");
    chk_str(c, "note", b->note, OPTIONAL, 0, SC_TEXT_MAX);
    chk_str(c, "measures", b->measures, OPTIONAL, 0, SC_TEXT_MAX);
    chk_list(c, "evidence", b->n_evidence, b->evidence, SC_EVIDENCE_MAX, SC_HASH_LEN, false);
}

static void chk_revisit(chk *c, const Scpb__Revisit *b)
{
    chk_where(c, "revisit");
    chk_enum(c, "result", b->has_result, b->result, &scpb__revisit_result__descriptor, REQUIRED);
    chk_str(c, "note", b->note, OPTIONAL, 0, SC_TEXT_MAX);
    chk_list(c, "evidence", b->n_evidence, b->evidence, SC_EVIDENCE_MAX, SC_HASH_LEN, false);
    chk_bytes(c, "look_back_of", b->has_look_back_of, &b->look_back_of, OPTIONAL, SC_ID_LEN);
    if (c->rc == SC_OK && b->has_look_back_of && !(b->has_look_back && b->look_back))
        fail(c, BAD_FIELD, "look_back_of", "only on a look-back (look_back)");
    if (c->rc == SC_OK && b->has_lifts_stop_work && b->lifts_stop_work &&
        b->result != SCPB__REVISIT_RESULT__REVISIT_RECTIFIED)
        fail(c, BAD_FIELD, "lifts_stop_work", "only a rectified revisit lifts a stop-work order");
}

static void chk_closure(chk *c, const Scpb__Closure *b)
{
    chk_where(c, "closure");
    chk_str(c, "note", b->note, OPTIONAL, 0, SC_TEXT_MAX);
}

static void chk_reopen(chk *c, const Scpb__Reopen *b)
{
    chk_where(c, "reopen");
    chk_str(c, "reason", b->reason, REQUIRED, 1, SC_TEXT_MAX);
}

static void chk_photo_attach(chk *c, const Scpb__PhotoAttach *b)
{
    chk_where(c, "photo_attach");
    chk_bytes(c, "sha256", b->has_sha256, &b->sha256, REQUIRED, SC_HASH_LEN);
    /* size is a uint64: compare before any signed conversion. */
    if (c->rc == SC_OK && !b->has_size)
        fail(c, MALFORMED, "size", "missing");
    if (c->rc == SC_OK && (b->size < 1 || b->size > SC_BLOB_MAX))
        fail(c, BAD_FIELD, "size", "%llu outside [1, %llu]", (unsigned long long)b->size,
             (unsigned long long)SC_BLOB_MAX);
    chk_str(c, "mime", b->mime, REQUIRED, 1, SC_MIME_MAX);
    chk_geo(c, "geo", b->geo);
    chk_str(c, "caption", b->caption, OPTIONAL, 0, SC_TEXT_MAX);
    chk_str(c, "item_code", b->item_code, OPTIONAL, 1, SC_CODE_MAX);
}

static void chk_note(chk *c, const Scpb__Note *b)
{
    chk_where(c, "note");
    chk_str(c, "text", b->text, REQUIRED, 1, SC_TEXT_MAX);
}

static void chk_void_record(chk *c, const Scpb__VoidRecord *b)
{
    chk_where(c, "void");
    chk_str(c, "reason", b->reason, REQUIRED, 1, SC_TEXT_MAX);
    chk_bytes(c, "target_op", b->has_target_op, &b->target_op, OPTIONAL, SC_HASH_LEN);
}

static void chk_resolve(chk *c, const Scpb__ConflictResolve *b)
{
    chk_where(c, "resolve");
    chk_enum(c, "field", b->has_field, b->field, &scpb__field__descriptor, REQUIRED);
    if (c->rc != SC_OK)
        return;
    if (b->field == SCPB__FIELD__FIELD_ITEM) {
        /* The value is ignored; the item takes the result carried beside it. */
        chk_str(c, "item_code", b->item_code, REQUIRED, 1, SC_CODE_MAX);
        chk_str(c, "value", b->value, OPTIONAL, 0, SC_TEXT_MAX);
        if (c->rc == SC_OK && !b->result)
            fail(c, MALFORMED, "result", "missing");
        if (c->rc != SC_OK)
            return;
        chk_where(c, "resolve.result");
        chk_item_result_fields(c, b->result);
        if (c->rc == SC_OK && strcmp(b->result->item_code, b->item_code) != 0)
            fail(c, BAD_FIELD, "item_code", "differs from resolve.item_code");
        return;
    }
    /* A plan is replaced by a later plan, an extension settled by a later decision. */
    if (b->field == SCPB__FIELD__FIELD_PLAN || b->field == SCPB__FIELD__FIELD_EXTENSION) {
        fail(c, BAD_FIELD, "field", "%s conflicts are settled by a new %s, not a resolve",
             sc_name_of(&sc_names_field, b->field),
             b->field == SCPB__FIELD__FIELD_PLAN ? "plan" : "decision");
        return;
    }
    /* An item code or result on any other field would be silently ignored. */
    if (b->item_code)
        fail(c, BAD_FIELD, "item_code", "only with field item");
    if (b->result)
        fail(c, BAD_FIELD, "result", "only with field item");
    if (c->rc == SC_OK &&
        (b->field == SCPB__FIELD__FIELD_ROLE || b->field == SCPB__FIELD__FIELD_ACCESS)) {
        /* A user's registers are settled by a later user op that has seen both sides. */
        fail(c, BAD_FIELD, "field", "%s is a user's, settled by a later user op",
             sc_name_of(&sc_names_field, b->field));
        return;
    }
    if (b->field == SCPB__FIELD__FIELD_STATUS)
        chk_str(c, "value", b->value, OPTIONAL, 0, SC_TEXT_MAX); /* ignored */
    else
        chk_field_value(c, "value", b->field, b->value);
}

/* ---- rectification governance (core/governance.h) ---- */

static void chk_notice(chk *c, const Scpb__Notice *b)
{
    chk_where(c, "notice");
    chk_bytes(c, "responsible", b->has_responsible, &b->responsible, REQUIRED, SC_ID_LEN);
    chk_int(c, "deadline_day", b->has_deadline_day, b->deadline_day, REQUIRED, DAY_MIN, DAY_MAX);
    chk_str(c, "note", b->note, OPTIONAL, 0, SC_TEXT_MAX);
}

static void chk_sign_for(chk *c, const Scpb__SignFor *b)
{
    chk_where(c, "sign_for");
    chk_str(c, "note", b->note, OPTIONAL, 0, SC_TEXT_MAX);
}

/* The responsible person: an enrolled user, or a name and a phone number. */
static void chk_plan(chk *c, const Scpb__RectificationPlan *b)
{
    chk_where(c, "plan");
    chk_bytes(c, "person_user", b->has_person_user, &b->person_user, OPTIONAL, SC_ID_LEN);
    chk_str(c, "person_name", b->person_name, OPTIONAL, 1, SC_NAME_MAX);
    chk_str(c, "person_phone", b->person_phone, OPTIONAL, 1, SC_PHONE_MAX);
    if (c->rc == SC_OK && !b->has_person_user && !(b->person_name && b->person_phone))
        fail(c, MALFORMED, "person_user",
             "missing: the responsible person is an enrolled user, or a name and a phone number");
    chk_str(c, "measures", b->measures, REQUIRED, 1, SC_TEXT_MAX);
    chk_int(c, "funds_cents", b->has_funds_cents, b->funds_cents, OPTIONAL, 0, SC_GOV_FUNDS_MAX);
    chk_str(c, "funds_source", b->funds_source, OPTIONAL, 1, SC_NAME_MAX);
    chk_str(c, "interim", b->interim, OPTIONAL, 1, SC_TEXT_MAX);
    chk_str(c, "lead_official", b->lead_official, OPTIONAL, 1, SC_NAME_MAX);
}

static void chk_plan_return(chk *c, const Scpb__PlanReturn *b)
{
    chk_where(c, "plan_return");
    chk_bytes(c, "plan", b->has_plan, &b->plan, REQUIRED, SC_HASH_LEN);
    chk_str(c, "reason", b->reason, REQUIRED, 1, SC_TEXT_MAX);
}

static void chk_extension_request(chk *c, const Scpb__ExtensionRequest *b)
{
    chk_where(c, "extension_request");
    chk_int(c, "deadline_day", b->has_deadline_day, b->deadline_day, REQUIRED, DAY_MIN, DAY_MAX);
    chk_str(c, "reason", b->reason, REQUIRED, 1, SC_TEXT_MAX);
}

static void chk_extension_decision(chk *c, const Scpb__ExtensionDecision *b)
{
    chk_where(c, "extension_decision");
    chk_bytes(c, "request", b->has_request, &b->request, REQUIRED, SC_HASH_LEN);
    if (c->rc == SC_OK && !b->has_approve)
        fail(c, MALFORMED, "approve", "missing");
    /* A rejection says why; an approval may. */
    chk_str(c, "reason", b->reason, b->has_approve && !b->approve ? REQUIRED : OPTIONAL, 1,
            SC_TEXT_MAX);
}

static void chk_deadline_change(chk *c, const Scpb__DeadlineChange *b)
{
    chk_where(c, "deadline_change");
    chk_int(c, "deadline_day", b->has_deadline_day, b->deadline_day, REQUIRED, DAY_MIN, DAY_MAX);
    chk_str(c, "reason", b->reason, REQUIRED, 1, SC_TEXT_MAX);
}

static void chk_org_policy(chk *c, const Scpb__OrgPolicy *b)
{
    chk_where(c, "org_policy");
    chk_int(c, "general_days", b->has_general_days, b->general_days, OPTIONAL, SC_GOV_DAYS_MIN,
            SC_GOV_DAYS_MAX);
    chk_int(c, "major_days", b->has_major_days, b->major_days, OPTIONAL, SC_GOV_DAYS_MIN,
            SC_GOV_DAYS_MAX);
    chk_int(c, "sign_for_days", b->has_sign_for_days, b->sign_for_days, OPTIONAL, SC_GOV_DAYS_MIN,
            SC_GOV_DAYS_MAX);
    chk_int(c, "plan_days", b->has_plan_days, b->plan_days, OPTIONAL, SC_GOV_DAYS_MIN,
            SC_GOV_DAYS_MAX);
    if (c->rc == SC_OK && b->n_ladder > SC_GOV_LADDER_MAX)
        fail(c, BAD_FIELD, "ladder", "more than %d rungs (one per step)", SC_GOV_LADDER_MAX);
    for (size_t k = 0; c->rc == SC_OK && k < b->n_ladder; k++) {
        const Scpb__EscalationRung *r = b->ladder[k];
        chk_int(c, "ladder.days", r->has_days, r->days, REQUIRED, SC_GOV_DAYS_MIN, SC_GOV_DAYS_MAX);
        chk_enum(c, "ladder.step", r->has_step, r->step, &scpb__escalation_step__descriptor,
                 REQUIRED);
    }
    if (c->rc == SC_OK &&
        !sc_gov_ladder_valid((const Scpb__EscalationRung *const *)b->ladder, b->n_ladder))
        fail(c, BAD_FIELD, "ladder", "days and steps rise strictly from rung to rung");
}

static void chk_escalation(chk *c, const Scpb__Escalation *b)
{
    chk_where(c, "escalation");
    chk_enum(c, "step", b->has_step, b->step, &scpb__escalation_step__descriptor, REQUIRED);
    chk_enum(c, "level", b->has_level, b->level, &scpb__org_level__descriptor, REQUIRED);
    chk_str(c, "reason", b->reason, REQUIRED, 1, SC_TEXT_MAX);
    chk_list(c, "evidence", b->n_evidence, b->evidence, SC_EVIDENCE_MAX, SC_HASH_LEN, false);
}

static void chk_stop_work(chk *c, const Scpb__StopWork *b)
{
    chk_where(c, "stop_work");
    chk_str(c, "reason", b->reason, REQUIRED, 1, SC_TEXT_MAX);
}

static void chk_sign_off(chk *c, const Scpb__SignOff *b)
{
    chk_where(c, "sign_off");
    chk_str(c, "name", b->name, REQUIRED, 1, SC_NAME_MAX);
    chk_str(c, "role", b->role, REQUIRED, 1, SC_NAME_MAX);
    chk_bytes(c, "signature", b->has_signature, &b->signature, REQUIRED, SC_HASH_LEN);
    chk_int(c, "signed_ms", b->has_signed_ms, b->signed_ms, REQUIRED, 1, INT64_MAX);
}

static void chk_countersign(chk *c, const Scpb__Countersign *b)
{
    chk_where(c, "countersign");
    chk_bytes(c, "inspection", b->has_inspection, &b->inspection, REQUIRED, SC_ID_LEN);
    chk_bytes(c, "signer", b->has_signer, &b->signer, REQUIRED, SC_ID_LEN);
    chk_str(c, "note", b->note, OPTIONAL, 0, SC_TEXT_MAX);
}

/* The op's own fields, before the body. */
static void chk_header(chk *c, const Scpb__Op *op)
{
    chk_where(c, "op");
    if (!op->has_version)
        fail(c, MALFORMED, "version", "missing");
    else if (op->version != 1)
        fail(c, MALFORMED, "version", "%u is not supported (1 is)", op->version);
    if (c->rc == SC_OK && !op->has_entity)
        fail(c, MALFORMED, "entity", "missing");
    else if (c->rc == SC_OK && op->entity.len != SC_ID_LEN)
        fail(c, MALFORMED, "entity", "%zu bytes, expected %d", op->entity.len, SC_ID_LEN);
    else if (c->rc == SC_OK && !sc_uuid7_valid(op->entity.data))
        fail(c, MALFORMED, "entity", "not a UUIDv7");
    if (c->rc == SC_OK && !op->has_entity_type)
        fail(c, MALFORMED, "entity_type", "missing");
    else if (c->rc == SC_OK &&
             (op->entity_type == 0 || !protobuf_c_enum_descriptor_get_value(
                                          &scpb__entity_type__descriptor, op->entity_type)))
        fail(c, MALFORMED, "entity_type", "unknown value %d", (int)op->entity_type);
    if (c->rc == SC_OK && !op->has_author)
        fail(c, MALFORMED, "author", "missing");
    else if (c->rc == SC_OK && op->author.len != SC_KEY_LEN)
        fail(c, MALFORMED, "author", "%zu bytes, expected %d", op->author.len, SC_KEY_LEN);
    if (c->rc == SC_OK && !op->has_hlc)
        fail(c, MALFORMED, "hlc", "missing");
    else if (c->rc == SC_OK && (op->hlc >> 16) == 0)
        fail(c, MALFORMED, "hlc", "no physical time");
    chk_geo(c, "geo", op->geo);
    if (c->rc != SC_OK)
        return;
    if (op->n_deps > SC_DEPS_MAX) {
        fail(c, MALFORMED, "deps", "%zu deps, at most %d", op->n_deps, SC_DEPS_MAX);
        return;
    }
    for (size_t i = 0; i < op->n_deps; i++) {
        if (op->deps[i].len != SC_HASH_LEN) {
            fail(c, MALFORMED, "deps", "dep %zu is %zu bytes, expected %d", i, op->deps[i].len,
                 SC_HASH_LEN);
            return;
        }
        for (size_t j = 0; j < i; j++) {
            if (memcmp(op->deps[i].data, op->deps[j].data, SC_HASH_LEN) == 0) {
                fail(c, MALFORMED, "deps", "deps %zu and %zu are the same", j, i);
                return;
            }
        }
    }
}

sc_status sc_op_check(const Scpb__Op *op, sc_err *err)
{
    chk c = {.err = err, .rc = SC_OK, .where = ""};
    sc_err_clear(err);
    if (!op)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "op: NULL");
    chk_header(&c, op);
    if (c.rc != SC_OK)
        return c.rc;

    const sc_opkind *k = sc_opkind_of(op->body_case);
    /* Every member of the oneof is a message pointer at the same offset. */
    if (!k || !op->org_create) {
        fail(&c, MALFORMED, "body", "missing");
        return c.rc;
    }
    if (!sc_op_kind_applies(op->body_case, op->entity_type)) {
        fail(&c, SCPB__REASON__REASON_WRONG_ENTITY_TYPE, "body", "%s does not apply to %s", k->name,
             sc_name_of(&sc_names_entity_type, op->entity_type));
        return c.rc;
    }
    if (k->creates && op->n_deps > 0)
        fail(&c, MALFORMED, "deps", "%s creates its entity and takes no deps", k->name);
    else if (!k->creates && op->n_deps == 0)
        fail(&c, MALFORMED, "deps", "%s needs the entity's heads as deps", k->name);
    if (c.rc != SC_OK)
        return c.rc;

    /* The kind's check, as opkinds.def names it, on its own member of the oneof. */
    switch (op->body_case) {
#define SC_OPKIND(CASE, member, name, applies, creates, may, photos, audit, check, fold, server)   \
    case SCPB__OP__BODY_##CASE:                                                                    \
        check(&c, op->member);                                                                     \
        break;
#include "opkinds.def"
#undef SC_OPKIND
    default: /* sc_opkind_of above knows every case */
        fail(&c, MALFORMED, "body", "missing");
        break;
    }
    return c.rc;
}

/* ---- decoding ---- */

/*
 * protobuf-c returns NULL from unpack both for a bad encoding and for an
 * allocation failure.  This wrapper around the environment's allocator
 * remembers whether any allocation failed, so the caller can report
 * SC_ERR_NOMEM (retry later) rather than "malformed" (never retry).
 */
typedef struct track_alloc {
    ProtobufCAllocator inner; /* from sc_env_pb_allocator */
    bool failed;              /* an allocation returned NULL */
} track_alloc;

static void *track_alloc_fn(void *data, size_t size)
{
    track_alloc *t = data;
    void *p = t->inner.alloc(t->inner.allocator_data, size);
    if (!p)
        t->failed = true;
    return p;
}

static void track_free_fn(void *data, void *ptr)
{
    track_alloc *t = data;
    t->inner.free(t->inner.allocator_data, ptr);
}

/*
 * True when any message in the tree carries unknown fields.  A field this
 * schema does not know could mean anything to a newer writer; accepting it
 * would sign and log bytes that no replica can interpret.  The recursion
 * follows the schema, which has no recursive messages, so its depth is fixed
 * (Op -> ConflictResolve -> ItemResult).
 */
static bool has_unknown_fields(const ProtobufCMessage *m)
{
    if (m->n_unknown_fields > 0)
        return true;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(const void *)(base + f->quantifier_offset);
            ProtobufCMessage *const *v =
                *(ProtobufCMessage *const *const *)(const void *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (v[k] && has_unknown_fields(v[k]))
                    return true;
            continue;
        }
        /* Members of a oneof share one slot; only the set one is valid. */
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(const void *)(base + f->quantifier_offset) != f->id)
            continue;
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(const void *)(base + f->offset);
        if (sub && has_unknown_fields(sub))
            return true;
    }
    return false;
}

/*
 * A ProtobufCBuffer that compares what protobuf-c writes with the bytes
 * received, as it writes them: re-encoding costs no allocation and stops
 * comparing at the first difference.
 */
typedef struct same_buffer {
    ProtobufCBuffer base;
    const uint8_t *want; /* the bytes received, borrowed */
    size_t len;          /* their length */
    size_t at;           /* bytes matched so far */
    bool differs;
} same_buffer;

static void same_append(ProtobufCBuffer *b, size_t n, const uint8_t *data)
{
    same_buffer *s = (same_buffer *)(void *)b;
    if (s->differs || n == 0)
        return; /* an empty field's bytes may come as NULL */
    if (n > s->len - s->at || memcmp(s->want + s->at, data, n) != 0) {
        s->differs = true;
        return;
    }
    s->at += n;
}

/*
 * m re-encodes to exactly bytes[0, len): every byte, not only the length.
 * A same-length difference is a reordering (fields, or the members of a
 * nested message, in another order than the schema's), which protobuf-c
 * reads without complaint; a shorter re-encoding is a string cut at a NUL,
 * a field given twice or a padded varint.  Either way one content would
 * have two encodings, and so two op ids and two signatures.
 */
static bool is_canonical(const ProtobufCMessage *m, const uint8_t *bytes, size_t len)
{
    same_buffer s = {{same_append}, bytes, len, 0, false};
    protobuf_c_message_pack_to_buffer(m, &s.base);
    return !s.differs && s.at == len;
}

/* The message of a failed signature check (sc_op_open and sc_op_verify say the same). */
static void verify_fail(sc_status rc, sc_err *err)
{
    if (rc == SC_ERR_BAD_SIGNATURE)
        sc_err_set(err, rc, SCPB__REASON__REASON_BAD_SIGNATURE,
                   "op: signature does not match the author key");
    else
        sc_err_set(err, rc, 0, "op: cannot verify the signature");
}

sc_status sc_op_verify(const sc_op *op, uint8_t *scratch, size_t cap, sc_err *err)
{
    if (!op || !op->op || op->op->author.len != SC_KEY_LEN || !op->sig)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "op: nothing to verify");
    sc_status rc = sc_verify_buf(op->op->author.data, SC_DOMAIN_OP, op->op_bytes, op->op_len,
                                 op->sig, scratch, cap);
    if (rc != SC_OK)
        verify_fail(rc, err);
    return rc;
}

sc_status sc_op_open(const sc_env *env, const uint8_t *signed_bytes, size_t len, unsigned flags,
                     sc_op **out, sc_err *err)
{
    sc_status rc = SC_OK;
    sc_op *o = NULL;
    track_alloc track = {.failed = false};
    sc_env_pb_allocator(env, &track.inner);
    ProtobufCAllocator alloc = {track_alloc_fn, track_free_fn, &track};
    sc_err_clear(err);
    *out = NULL;

    if (len > SC_SIGNED_OP_MAX_BYTES) {
        rc = sc_err_set(err, SC_ERR_TOO_LARGE, SCPB__REASON__REASON_TOO_LARGE,
                        "signed op: %zu bytes, at most %d", len, SC_SIGNED_OP_MAX_BYTES);
        goto done;
    }
    if ((!signed_bytes && len > 0) || (flags & ~(unsigned)SC_OP_VERIFY) != 0) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "signed op: bad arguments");
        goto done;
    }
    o = sc_calloc(env, 1, sizeof *o);
    if (!o || !(o->signed_bytes = sc_memdup(env, signed_bytes, len))) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "signed op: out of memory");
        goto done;
    }
    o->signed_len = len;

    o->envelope = scpb__signed_op__unpack(&alloc, len, o->signed_bytes);
    if (!o->envelope) {
        rc = track.failed ? sc_err_set(err, SC_ERR_NOMEM, 0, "signed op: out of memory")
                          : sc_err_set(err, SC_ERR_MALFORMED, MALFORMED,
                                       "signed op: not a SignedOp encoding");
        goto done;
    }
    const Scpb__SignedOp *env_msg = o->envelope;
    if (has_unknown_fields(&env_msg->base)) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, MALFORMED, "signed op: unknown field");
        goto done;
    }
    if (!is_canonical(&env_msg->base, o->signed_bytes, len)) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, MALFORMED,
                        "signed op: not in canonical form (fields reordered, repeated or padded)");
        goto done;
    }
    if (!env_msg->has_op) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, MALFORMED, "signed op: op missing");
        goto done;
    }
    if (env_msg->op.len > SC_OP_MAX_BYTES) {
        rc = sc_err_set(err, SC_ERR_TOO_LARGE, SCPB__REASON__REASON_TOO_LARGE,
                        "signed op: op is %zu bytes, at most %d", env_msg->op.len, SC_OP_MAX_BYTES);
        goto done;
    }
    if (!env_msg->has_sig || env_msg->sig.len != SC_SIG_LEN) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, MALFORMED, "signed op: signature is not %d bytes",
                        SC_SIG_LEN);
        goto done;
    }
    o->op_bytes = env_msg->op.data;
    o->op_len = env_msg->op.len;
    o->sig = env_msg->sig.data;

    o->op = scpb__op__unpack(&alloc, o->op_len, o->op_bytes);
    if (!o->op) {
        rc = track.failed ? sc_err_set(err, SC_ERR_NOMEM, 0, "op: out of memory")
                          : sc_err_set(err, SC_ERR_MALFORMED, MALFORMED, "op: not an Op encoding");
        goto done;
    }
    if (has_unknown_fields(&o->op->base)) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, MALFORMED, "op: unknown field");
        goto done;
    }
    /* Every signed byte must be the one protobuf-c writes for the decoded op,
     * nested messages included: otherwise the log would hold bytes no
     * replica shows, or one content under two op ids. */
    if (!is_canonical(&o->op->base, o->op_bytes, o->op_len)) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, MALFORMED,
                        "op: not in canonical form (fields reordered, repeated or padded, or an "
                        "embedded NUL)");
        goto done;
    }
    rc = sc_op_check(o->op, err);
    if (rc != SC_OK)
        goto done;
    if (flags & SC_OP_VERIFY) {
        rc = sc_verify(env, o->op->author.data, SC_DOMAIN_OP, o->op_bytes, o->op_len, o->sig);
        if (rc != SC_OK) {
            verify_fail(rc, err);
            goto done;
        }
    }
    sc_sha256(o->op_bytes, o->op_len, o->id);
    *out = o;
    o = NULL;
done:
    sc_op_free(env, o);
    return rc;
}

void sc_op_free(const sc_env *env, sc_op *op)
{
    if (!op)
        return;
    ProtobufCAllocator alloc;
    sc_env_pb_allocator(env, &alloc);
    if (op->op)
        scpb__op__free_unpacked(op->op, &alloc);
    if (op->envelope)
        scpb__signed_op__free_unpacked(op->envelope, &alloc);
    sc_free(env, op->signed_bytes);
    sc_free(env, op);
}

/* ---- encoding ---- */

sc_status sc_op_seal(const sc_env *env, const sc_keypair *kp, const Scpb__Op *op, sc_op **out,
                     sc_err *err)
{
    sc_status rc = SC_OK;
    uint8_t *op_buf = NULL;
    uint8_t *signed_buf = NULL;
    size_t op_len = 0;
    uint8_t sig[SC_SIG_LEN];
    sc_err_clear(err);
    *out = NULL;

    if (!kp || !op) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "seal: NULL key or op");
        goto done;
    }
    if (!op->has_author || op->author.len != SC_KEY_LEN ||
        memcmp(op->author.data, sc_keypair_public(kp), SC_KEY_LEN) != 0) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "op.author: not the signing key");
        goto done;
    }
    rc = sc_op_check(op, err);
    if (rc != SC_OK)
        goto done;
    op_len = scpb__op__get_packed_size(op);
    if (op_len > SC_OP_MAX_BYTES) {
        rc = sc_err_set(err, SC_ERR_TOO_LARGE, SCPB__REASON__REASON_TOO_LARGE,
                        "op: %zu bytes, at most %d", op_len, SC_OP_MAX_BYTES);
        goto done;
    }
    op_buf = sc_alloc(env, op_len);
    if (!op_buf) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "seal: out of memory");
        goto done;
    }
    scpb__op__pack(op, op_buf);
    rc = sc_sign(env, kp, SC_DOMAIN_OP, op_buf, op_len, sig);
    if (rc != SC_OK) {
        sc_err_set(err, rc, 0, "seal: cannot sign");
        goto done;
    }
    Scpb__SignedOp so = SCPB__SIGNED_OP__INIT;
    so.has_op = 1;
    so.op.data = op_buf;
    so.op.len = op_len;
    so.has_sig = 1;
    so.sig.data = sig;
    so.sig.len = SC_SIG_LEN;
    size_t signed_len = scpb__signed_op__get_packed_size(&so);
    signed_buf = sc_alloc(env, signed_len);
    if (!signed_buf) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "seal: out of memory");
        goto done;
    }
    scpb__signed_op__pack(&so, signed_buf);
    /* Opening what was just sealed gives the result the same ownership as
     * any received op, and proves the bytes decode to what was checked. */
    rc = sc_op_open(env, signed_buf, signed_len, 0, out, err);
done:
    sc_free(env, op_buf);
    sc_free(env, signed_buf);
    return rc;
}
