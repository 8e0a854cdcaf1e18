/*
 * record.c: recording, offline.  Every public function here turns one user
 * action into one or more signed ops and stores them, or refuses and
 * changes nothing.
 *
 * For each op, in this order: the role policy (core/policy.h), the
 * references (codes, ids, item codes) against the replica, deps = the
 * entity's current heads, the HLC ticked, sealed with the device key, and
 * judged by the core fold together with the entity's ops.  The fold's
 * verdict is the same one syncd will reach, so an op the client accepts
 * here is one the server accepts too (scope and visibility aside, which
 * need the whole register).  All ops of one action go in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/governance.h"
#include "core/names.h"
#include "core/opkind.h"
#include "core/policy.h"
#include "core/score.h"
#include "internal.h"

static char *cs(const char *s)
{
    return (char *)(uintptr_t)s;
}

static ProtobufCBinaryData bin(const uint8_t *p, size_t len)
{
    return (ProtobufCBinaryData){len, (uint8_t *)(uintptr_t)p};
}

static const char *kind_name(int kind)
{
    const sc_opkind *k = sc_opkind_of((Scpb__Op__BodyCase)kind);
    return k ? k->name : "op";
}

static const char *type_name(int type)
{
    const char *n = sc_name_of(&sc_names_entity_type, type);
    return n ? n : "entity";
}

/* Begin an action: a clean message, an identity, a transaction. */
static sc_status act_begin(sc_client *c)
{
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    sc_status s = cl_need_writable(c, "recording");
    if (s == SC_OK)
        s = cl_need_identity(c);
    if (s == SC_OK)
        s = cl_key(c);
    if (s == SC_OK)
        s = st_begin(c);
    return s;
}

static sc_status act_end(sc_client *c, sc_status s)
{
    if (s == SC_OK)
        s = st_commit(c);
    else
        st_rollback(c);
    return s;
}

/* The role policy for one op kind on one entity type (checked before photos are copied, too). */
static sc_status check_policy(sc_client *c, Scpb__Op__BodyCase kind, Scpb__EntityType type)
{
    if (sc_policy_allows((Scpb__Role)c->id.role, kind, type))
        return SC_OK;
    const char *role = sc_name_of(&sc_names_role, c->id.role);
    return cl_fail(c, SC_ERR_FORBIDDEN, SCPB__REASON__REASON_FORBIDDEN_ROLE,
                   "a user with role %s may not make %s on a %s", role ? role : "?", kind_name(kind),
                   type_name(type));
}

/*
 * Make, judge and store one op.  The caller fills entity, entity_type and
 * the body; this fills the rest.  op_id (may be NULL) gets the op id.
 */
static sc_status make_op(sc_client *c, Scpb__Op *op, uint8_t op_id[SC_HASH_LEN])
{
    sc_status s = SC_OK;
    Scpb__EntityState *cur = NULL, *next = NULL;
    sc_op *sealed = NULL;
    char ehex[SC_ID_HEX];
    cl_hex(op->entity.data, SC_ID_LEN, ehex, sizeof ehex);
    bool create = sc_op_kind_is_create(op->body_case);

    if ((s = check_policy(c, op->body_case, op->entity_type)) != SC_OK)
        return s;
    if (!create) {
        if ((s = rp_get(c, op->entity.data, op->entity_type, type_name(op->entity_type), &cur)) !=
            SC_OK)
            return s;
        if (cur->n_heads > SC_DEPS_MAX) {
            s = cl_fail(c, SC_ERR_LIMIT, 0,
                        "%s %s has %zu concurrent heads (at most %d): resolve its conflicts first",
                        type_name(op->entity_type), ehex, cur->n_heads, SC_DEPS_MAX);
            goto done;
        }
        op->n_deps = cur->n_heads;
        op->deps = cur->heads; /* borrowed until cur is freed, after sealing */
    }
    op->has_version = true;
    op->version = 1;
    op->has_author = true;
    op->author = bin(sc_keypair_public(c->key), SC_KEY_LEN);
    op->has_hlc = true;
    op->hlc = rp_hlc_tick(c);
    op->has_device_time_ms = true;
    op->device_time_ms = sc_env_now_ms(&c->env);

    sc_err e;
    sc_err_clear(&e);
    s = sc_op_seal(&c->env, c->key, op, &sealed, &e);
    op->n_deps = 0;
    op->deps = NULL;
    if (s != SC_OK) {
        /* The signer failing (a key custody that would not sign) is not the caller's argument. */
        bool signer = s == SC_ERR_NOMEM || s == SC_ERR_CRYPTO || s == SC_ERR_BAD_SIGNATURE;
        s = cl_fail(c, signer ? (s == SC_ERR_NOMEM ? s : SC_ERR_CRYPTO) : SC_ERR_INVALID_ARG,
                    e.reason, "%s: %s%s", kind_name(op->body_case), e.msg,
                    signer && s != SC_ERR_NOMEM && sc_keypair_is_external(c->key)
                        ? " (the key custody did not give a valid signature)"
                        : "");
        goto done;
    }
    const char *why = NULL;
    if ((s = rp_fold(c, op->entity.data, sealed, &next, &why)) != SC_OK)
        goto done;
    if (why) {
        s = cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                    "%s on %s %s: %s", kind_name(op->body_case), type_name(op->entity_type), ehex,
                    why);
        goto done;
    }
    bool inserted = false;
    if ((s = st_op_put(c, sealed, ST_LOCAL, ST_PENDING, false, 0, &inserted)) != SC_OK ||
        (s = rp_store_state(c, next)) != SC_OK || (s = rp_hlc_save(c)) != SC_OK)
        goto done;
    if (op_id)
        memcpy(op_id, sealed->id, SC_HASH_LEN);
done:
    sc_op_free(&c->env, sealed);
    rp_state_free(c, cur);
    rp_state_free(c, next);
    return s;
}

/* Coordinates given by the caller (degrees x 1e7) into g, when given; off the globe is refused. */
static sc_status geo_in(sc_client *c, int has, int32_t lat_e7, int32_t lon_e7, Scpb__Geo *g)
{
    scpb__geo__init(g);
    if (!has)
        return SC_OK;
    if (lat_e7 < -900000000 || lat_e7 > 900000000 || lon_e7 < -1800000000 || lon_e7 > 1800000000)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "coordinates %d, %d (degrees x 1e7) are off the globe: latitude -90..90, "
                       "longitude -180..180",
                       lat_e7, lon_e7);
    g->has_lat_e7 = g->has_lon_e7 = true;
    g->lat_e7 = lat_e7;
    g->lon_e7 = lon_e7;
    return SC_OK;
}

static void op_init(Scpb__Op *op, const uint8_t entity[SC_ID_LEN], Scpb__EntityType type)
{
    scpb__op__init(op);
    op->has_entity = true;
    op->entity = bin(entity, SC_ID_LEN);
    op->has_entity_type = true;
    op->entity_type = type;
}

/* A day (YYYY-MM-DD) named what in messages, into *out (days since the epoch). */
static sc_status parse_day(sc_client *c, const char *what, const char *text, int32_t *out)
{
    if (sc_date_parse(text, strlen(text), out) != SC_OK)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "%s \"%s\" is not a date YYYY-MM-DD", what, text);
    return SC_OK;
}

static sc_status parse_name(sc_client *c, const sc_names *t, const char *what, const char *text,
                            int *out)
{
    if (!text || !sc_name_parse(t, text, out)) {
        char list[256];
        sc_names_join(t, list, sizeof list);
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "%s \"%s\" is not one of: %s", what, text ? text : "", list);
    }
    return SC_OK;
}

static sc_status parse_entity_id(sc_client *c, const char *text, const char *what,
                                 uint8_t out[SC_ID_LEN])
{
    if (!cl_parse_id(text, out))
        return cl_fail(c, SC_ERR_NOT_FOUND, SCPB__REASON__REASON_UNKNOWN_ENTITY,
                       "%s \"%s\" is not an id (32 hex digits)", what, text ? text : "");
    return SC_OK;
}

/* ---- what governance.c records through (internal.h) ---- */

sc_status rc_act_begin(sc_client *c)
{
    return act_begin(c);
}

sc_status rc_act_end(sc_client *c, sc_status s)
{
    return act_end(c, s);
}

sc_status rc_check_policy(sc_client *c, Scpb__Op__BodyCase kind, Scpb__EntityType type)
{
    return check_policy(c, kind, type);
}

sc_status rc_make_op(sc_client *c, Scpb__Op *op, uint8_t op_id[SC_HASH_LEN])
{
    return make_op(c, op, op_id);
}

void rc_op_init(Scpb__Op *op, const uint8_t entity[SC_ID_LEN], Scpb__EntityType type)
{
    op_init(op, entity, type);
}

sc_status rc_parse_day(sc_client *c, const char *what, const char *text, int32_t *out)
{
    return parse_day(c, what, text, out);
}

sc_status rc_parse_entity_id(sc_client *c, const char *text, const char *what,
                             uint8_t out[SC_ID_LEN])
{
    return parse_entity_id(c, text, what, out);
}

sc_status rc_need_text(sc_client *c, const char *text, const char *what)
{
    if (!text || !*text)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD, "%s", what);
    return SC_OK;
}

void rc_op_out(sc_status s, const uint8_t op[SC_HASH_LEN], char out_op[SC_HASH_HEX_LEN])
{
    if (s == SC_OK && out_op)
        cl_hex(op, SC_HASH_LEN, out_op, SC_HASH_HEX_LEN);
}

/*
 * An item code the sheet does not have: the message lists the sheet's codes,
 * as many as a message holds, and where to read the rest.
 */
static sc_status unknown_item(sc_client *c, const Scpb__TemplateState *ts, const char *item)
{
    char codes[SC_ERR_MSG_MAX];
    size_t used = 0, listed = 0, n = ts ? ts->n_items : 0;
    const size_t room = sizeof codes / 2; /* leave the rest of the message its words */
    codes[0] = '\0';
    for (; listed < n; listed++) {
        const char *code = ts->items[listed]->code ? ts->items[listed]->code : "";
        if (used + strlen(code) + 2 >= room)
            break;
        used += (size_t)snprintf(codes + used, sizeof codes - used, "%s%s", listed ? ", " : "",
                                 code);
    }
    char more[64] = "";
    if (listed < n)
        snprintf(more, sizeof more, ", and %zu more (show the score sheet)", n - listed);
    return cl_fail(c, SC_ERR_NOT_FOUND, SCPB__REASON__REASON_UNKNOWN_REFERENCE,
                   "item \"%.64s\" is not on score sheet %.64s; its items: %s%s", item,
                   ts && ts->code ? ts->code : "?", codes, more);
}

/* The score sheet of an inspection, or NULL (free-form): *t to free with rp_state_free. */
static sc_status sheet_of(sc_client *c, const Scpb__InspectionState *insp, Scpb__EntityState **t)
{
    *t = NULL;
    if (!insp->has_template_ || insp->template_.len != SC_ID_LEN)
        return SC_OK;
    return rp_get(c, insp->template_.data, SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, "score sheet", t);
}

/* An item a finding is about: on the inspection's score sheet, when it has one. */
static sc_status check_item_code(sc_client *c, const Scpb__InspectionState *insp, const char *code)
{
    Scpb__EntityState *t = NULL;
    sc_status s = sheet_of(c, insp, &t);
    if (s == SC_OK && rp_template(t) && !sc_template_item(rp_template(t), code))
        s = unknown_item(c, rp_template(t), code);
    rp_state_free(c, t);
    return s;
}

static int result_cmp(const void *key, const void *elem)
{
    const Scpb__ItemResult *r = *(Scpb__ItemResult *const *)elem;
    return strcmp(key, r->item_code ? r->item_code : "");
}

/*
 * A free-form inspection (no score sheet) scores at most as many items as
 * a sheet holds, as syncd judges it: a new item beyond them is refused here
 * rather than after the next sync.
 */
static sc_status check_free_item(sc_client *c, const Scpb__InspectionState *insp,
                                 const Scpb__ItemResult *r)
{
    if (insp->n_results < SC_TEMPLATE_ITEMS_MAX ||
        bsearch(r->item_code, insp->results, insp->n_results, sizeof *insp->results, result_cmp))
        return SC_OK;
    return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                   "a free-form inspection scores at most %d items, as a score sheet holds: it "
                   "has %zu, and item %.64s would be one more",
                   SC_TEMPLATE_ITEMS_MAX, insp->n_results, r->item_code);
}

/*
 * Check a result against the inspection's score sheet, when it has one, by
 * the rules syncd applies (core/score.h): the item is on it and scored on
 * its own, points within its maximum, a deduction only on a deduction item
 * and never below zero.
 */
static sc_status check_item(sc_client *c, const Scpb__InspectionState *insp,
                            const Scpb__ItemResult *r)
{
    if (!r->item_code || !*r->item_code)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD, "no item code given");
    if ((r->has_points && r->points < 0) || (r->has_deduction && r->deduction < 0))
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "item %s: points and deductions are never below zero", r->item_code);
    Scpb__EntityState *t = NULL;
    sc_status s = sheet_of(c, insp, &t);
    const Scpb__TemplateState *ts = rp_template(t);
    if (s != SC_OK || !ts) {
        rp_state_free(c, t);
        return s == SC_OK ? check_free_item(c, insp, r) : s;
    }
    char why[SC_ERR_MSG_MAX];
    int reason = sc_score_check_result(ts, r, why, sizeof why);
    if (reason == SCPB__REASON__REASON_UNKNOWN_REFERENCE)
        s = unknown_item(c, ts, r->item_code);
    else if (reason != SCPB__REASON__REASON_NONE)
        s = cl_fail(c, SC_ERR_INVALID_ARG, reason, "%s", why);
    rp_state_free(c, t);
    return s;
}

/* A photo copied into the store, ready to be attached. */
typedef struct photo_in {
    uint8_t sha[SC_HASH_LEN];
    uint64_t size;
    char mime[SC_MIME_MAX];
    int64_t mtime_ms;
    bl_exif exif; /* when and where it was taken, as its EXIF data says */
} photo_in;

/* Copy files into the store and index them for upload (in the caller's transaction). */
static sc_status import_photos(sc_client *c, const char *const *paths, size_t n, photo_in *out)
{
    for (size_t i = 0; i < n; i++) {
        photo_in *p = &out[i];
        sc_status s = bl_import(c, paths[i], p->sha, &p->size, p->mime, sizeof p->mime, &p->mtime_ms);
        if (s == SC_OK)
            bl_exif_read(paths[i], &p->exif);
        if (s == SC_OK)
            s = st_blob_put(c, p->sha, p->size, p->mime, BL_UPLOAD);
        /* Attached anew, it waits for upload whatever it was: the syncd may lack it (its last
         * op was refused, say), and a photo it holds is found by a HEAD and confirmed. */
        if (s == SC_OK)
            s = st_blob_set(c, p->sha, BL_UPLOAD);
        if (s != SC_OK)
            return s;
    }
    return SC_OK;
}

/* What a photo attachment says beside the photo itself (sc_photo_add_v2). */
typedef struct photo_meta {
    const char *caption, *item;
    const Scpb__Geo *geo; /* may be NULL */
} photo_meta;

static sc_status attach_photos_meta(sc_client *c, const uint8_t entity[SC_ID_LEN],
                                    Scpb__EntityType type, const photo_in *ph, size_t n,
                                    const photo_meta *m);

/* A PhotoAttach op on the entity for each imported photo. */
static sc_status attach_photos(sc_client *c, const uint8_t entity[SC_ID_LEN],
                               Scpb__EntityType type, const photo_in *ph, size_t n,
                               const char *caption)
{
    photo_meta m = {.caption = caption};
    return attach_photos_meta(c, entity, type, ph, n, &m);
}

static sc_status attach_photos_meta(sc_client *c, const uint8_t entity[SC_ID_LEN],
                                    Scpb__EntityType type, const photo_in *ph, size_t n,
                                    const photo_meta *m)
{
    for (size_t i = 0; i < n; i++) {
        Scpb__Op op;
        op_init(&op, entity, type);
        Scpb__PhotoAttach pa = SCPB__PHOTO_ATTACH__INIT;
        pa.has_sha256 = true;
        pa.sha256 = bin(ph[i].sha, SC_HASH_LEN);
        pa.has_size = true;
        pa.size = ph[i].size;
        pa.mime = cs(ph[i].mime);
        /* The capture time from EXIF when the photo has it, else the file's. */
        pa.has_captured_ms = pa.has_time_source = true;
        pa.captured_ms = ph[i].exif.has_time ? ph[i].exif.captured_ms : ph[i].mtime_ms;
        pa.time_source = ph[i].exif.has_time ? SCPB__TIME_SOURCE__TIME_EXIF
                                             : SCPB__TIME_SOURCE__TIME_FILE;
        pa.caption = cs(m->caption);
        pa.item_code = cs(m->item);
        /* The position the caller gives (the tablet's fix), else the photo's own. */
        Scpb__Geo exif_geo = SCPB__GEO__INIT;
        if (m->geo) {
            pa.geo = (Scpb__Geo *)(uintptr_t)m->geo;
            pa.has_geo_source = true;
            pa.geo_source = SCPB__GEO_SOURCE__GEO_GIVEN;
        } else if (ph[i].exif.has_gps) {
            exif_geo.has_lat_e7 = exif_geo.has_lon_e7 = true;
            exif_geo.lat_e7 = ph[i].exif.lat_e7;
            exif_geo.lon_e7 = ph[i].exif.lon_e7;
            pa.geo = &exif_geo;
            pa.has_geo_source = true;
            pa.geo_source = SCPB__GEO_SOURCE__GEO_EXIF;
        }
        op.body_case = SCPB__OP__BODY_PHOTO_ATTACH;
        op.photo_attach = &pa;
        sc_status s = make_op(c, &op, NULL);
        if (s != SC_OK)
            return s;
    }
    return SC_OK;
}

static sc_status check_photo_count(sc_client *c, size_t n)
{
    if (n > SC_EVIDENCE_MAX)
        return cl_fail(c, SC_ERR_LIMIT, SCPB__REASON__REASON_BAD_FIELD,
                       "%zu photos, at most %d per record", n, SC_EVIDENCE_MAX);
    return SC_OK;
}

/* ---- inspections ---- */

static sc_status check_open(sc_client *c, const sc_check_params_v2 *p, char out_id[SC_ID_HEX_LEN])
{
    if (out_id)
        out_id[0] = '\0';
    if (!p)
        return c ? cl_fail(c, SC_ERR_INVALID_ARG, 0, "no parameters") : SC_ERR_INVALID_ARG;
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    Scpb__EntityState *asg = NULL;
    uint8_t id[SC_ID_LEN], target[SC_ID_LEN], tpl[SC_ID_LEN], asg_id[SC_ID_LEN];
    bool has_tpl = false, has_asg = false, has_target = false;
    int kind = 0, disc = 0, rel = 0;
    if (p->assignment) {
        if ((s = parse_entity_id(c, p->assignment, "assignment", asg_id)) != SC_OK ||
            (s = rp_get(c, asg_id, SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT, "assignment", &asg)) !=
                SC_OK)
            goto done;
        has_asg = true;
        const Scpb__AssignmentState *a = rp_assignment(asg);
        if (asg->voided) {
            s = cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                        "assignment %s is voided", p->assignment);
            goto done;
        }
        if (a && a->has_target && a->target.len == SC_ID_LEN) {
            memcpy(target, a->target.data, SC_ID_LEN);
            has_target = true;
        }
        if (a && a->has_kind)
            kind = a->kind;
        if (a && a->has_disclosure)
            disc = a->disclosure;
        if (a && a->has_template_ && a->template_.len == SC_ID_LEN) {
            memcpy(tpl, a->template_.data, SC_ID_LEN);
            has_tpl = true;
        }
    }
    if (p->target) {
        if ((s = rp_resolve(c, p->target, SCPB__ENTITY_TYPE__ENTITY_TARGET, "target", target)) !=
            SC_OK)
            goto done;
        has_target = true;
    }
    if (!has_target) {
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                    "an inspection needs a target (or an assignment naming one)");
        goto done;
    }
    if (p->kind && (s = parse_name(c, &sc_names_kind, "kind", p->kind, &kind)) != SC_OK)
        goto done;
    if (p->disclosure &&
        (s = parse_name(c, &sc_names_disclosure, "disclosure", p->disclosure, &disc)) != SC_OK)
        goto done;
    if (p->relation && (s = parse_name(c, &sc_names_relation, "relation", p->relation, &rel)) != SC_OK)
        goto done;
    if (!kind || !disc) {
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                    "an inspection needs a kind and a disclosure (or an assignment giving them)");
        goto done;
    }
    if (p->template_) {
        if ((s = rp_resolve(c, p->template_, SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, "score sheet",
                            tpl)) != SC_OK)
            goto done;
        has_tpl = true;
    }
    Scpb__Geo at;
    if ((s = geo_in(c, p->has_gps, p->lat_e7, p->lon_e7, &at)) != SC_OK)
        goto done;
    bool self_check = false;
    if ((s = sf_open(c, kind, target, &self_check)) != SC_OK)
        goto done;
    sc_uuid7_new(&c->env, id);
    Scpb__Op op;
    op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION);
    op.geo = p->has_gps ? &at : NULL;
    Scpb__InspectionOpen io = SCPB__INSPECTION_OPEN__INIT;
    io.has_target = true;
    io.target = bin(target, SC_ID_LEN);
    io.has_template_ = has_tpl;
    io.template_ = bin(has_tpl ? tpl : NULL, has_tpl ? SC_ID_LEN : 0);
    io.has_assignment = has_asg;
    io.assignment = bin(has_asg ? asg_id : NULL, has_asg ? SC_ID_LEN : 0);
    io.has_kind = true;
    io.kind = (Scpb__InspectionKind)kind;
    io.has_disclosure = true;
    io.disclosure = (Scpb__Disclosure)disc;
    io.has_self_check = io.self_check = self_check;
    io.has_relation = rel != 0;
    io.relation = (Scpb__Relation)rel;
    op.body_case = SCPB__OP__BODY_INSPECTION_OPEN;
    op.inspection_open = &io;
    s = make_op(c, &op, NULL);
    if (s == SC_OK && out_id)
        cl_hex(id, SC_ID_LEN, out_id, SC_ID_HEX_LEN);
done:
    rp_state_free(c, asg);
    s = act_end(c, s);
    if (s != SC_OK && out_id)
        out_id[0] = '\0';
    return s;
}

/*
 * Plan a check (an assignment): the supervisor's side of DESIGN §5.  The
 * named users must be inspectors or supervisors, which syncd checks again;
 * an unannounced plan is then pulled only by them and by supervisors in
 * scope, never by the inspected unit.
 */
static sc_status assign(sc_client *c, const sc_assign_params_v2 *p, char out_id[SC_ID_HEX_LEN])
{
    if (out_id)
        out_id[0] = '\0';
    if (!p)
        return c ? cl_fail(c, SC_ERR_INVALID_ARG, 0, "no parameters") : SC_ERR_INVALID_ARG;
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN], target[SC_ID_LEN], tpl[SC_ID_LEN];
    uint8_t (*users)[SC_ID_LEN] = NULL;
    ProtobufCBinaryData *refs = NULL, *rechecks = NULL, *verifies = NULL;
    bool has_tpl = false;
    int kind = 0, disc = 0;
    int32_t due = 0;
    if (p->ninspectors == 0 || p->ninspectors > SC_ASSIGNEES_MAX) {
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                    "a plan names 1 to %d inspectors, not %zu", SC_ASSIGNEES_MAX, p->ninspectors);
        goto done;
    }
    if ((s = rp_resolve(c, p->target, SCPB__ENTITY_TYPE__ENTITY_TARGET, "target", target)) != SC_OK)
        goto done;
    if ((s = parse_name(c, &sc_names_kind, "kind", p->kind, &kind)) != SC_OK ||
        (s = parse_name(c, &sc_names_disclosure, "disclosure", p->disclosure, &disc)) != SC_OK)
        goto done;
    if (p->due && (s = parse_day(c, "due date", p->due, &due)) != SC_OK)
        goto done;
    if (p->template_) {
        if ((s = rp_resolve(c, p->template_, SCPB__ENTITY_TYPE__ENTITY_TEMPLATE, "score sheet",
                            tpl)) != SC_OK)
            goto done;
        has_tpl = true;
    }
    if ((s = es_rechecks(c, p->rechecks, p->nrechecks, target, &rechecks)) != SC_OK ||
        (s = sf_verifies(c, p->verifies, p->nverifies, target, &verifies)) != SC_OK)
        goto done;
    users = sc_calloc(&c->env, p->ninspectors, sizeof *users);
    refs = sc_calloc(&c->env, p->ninspectors, sizeof *refs);
    if (!users || !refs) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < p->ninspectors; i++) {
        Scpb__EntityState *u = NULL;
        if ((s = rp_resolve(c, p->inspectors[i], SCPB__ENTITY_TYPE__ENTITY_USER, "user",
                            users[i])) != SC_OK ||
            (s = rp_get(c, users[i], SCPB__ENTITY_TYPE__ENTITY_USER, "user", &u)) != SC_OK)
            goto done;
        Scpb__Role role = u->kind_case == SCPB__ENTITY_STATE__KIND_USER ? u->user->role : 0;
        rp_state_free(c, u);
        if (role != SCPB__ROLE__ROLE_INSPECTOR && role != SCPB__ROLE__ROLE_SUPERVISOR) {
            s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_UNKNOWN_REFERENCE,
                        "%s is not an inspector or a supervisor", p->inspectors[i]);
            goto done;
        }
        for (size_t j = 0; j < i; j++)
            if (memcmp(users[j], users[i], SC_ID_LEN) == 0) {
                s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                            "%s is named twice", p->inspectors[i]);
                goto done;
            }
        refs[i] = bin(users[i], SC_ID_LEN);
    }
    sc_uuid7_new(&c->env, id);
    Scpb__Op op;
    op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT);
    Scpb__AssignmentCreate ac = SCPB__ASSIGNMENT_CREATE__INIT;
    ac.has_target = true;
    ac.target = bin(target, SC_ID_LEN);
    ac.n_inspectors = p->ninspectors;
    ac.inspectors = refs;
    ac.has_kind = true;
    ac.kind = (Scpb__InspectionKind)kind;
    ac.has_disclosure = true;
    ac.disclosure = (Scpb__Disclosure)disc;
    ac.has_due_day = p->due != NULL;
    ac.due_day = due;
    ac.has_template_ = has_tpl;
    ac.template_ = bin(has_tpl ? tpl : NULL, has_tpl ? SC_ID_LEN : 0);
    ac.note = cs(p->note);
    ac.n_rechecks = rechecks ? p->nrechecks : 0;
    ac.rechecks = rechecks;
    ac.n_verifies = verifies ? p->nverifies : 0;
    ac.verifies = verifies;
    op.body_case = SCPB__OP__BODY_ASSIGNMENT_CREATE;
    op.assignment_create = &ac;
    s = make_op(c, &op, NULL);
    if (s == SC_OK && out_id)
        cl_hex(id, SC_ID_LEN, out_id, SC_ID_HEX_LEN);
done:
    sc_free(&c->env, users);
    sc_free(&c->env, refs);
    sc_free(&c->env, rechecks);
    sc_free(&c->env, verifies);
    s = act_end(c, s);
    if (s != SC_OK && out_id)
        out_id[0] = '\0';
    return s;
}

static sc_status item_result(sc_client *c, const Scpb__InspectionState *insp,
                             const sc_item_params *p, Scpb__ItemResult *r)
{
    int st = 0;
    sc_status s = parse_name(c, &sc_names_item_status, "item status", p->status, &st);
    if (s != SC_OK)
        return s;
    scpb__item_result__init(r);
    r->item_code = cs(p->item);
    r->has_status = true;
    r->status = (Scpb__ItemStatus)st;
    r->has_points = p->has_points != 0;
    r->points = p->points;
    r->has_deduction = p->has_deduction != 0;
    r->deduction = p->deduction;
    r->measured_value = cs(p->measured);
    r->has_relapse_prone = p->relapse_prone != 0;
    r->relapse_prone = p->relapse_prone != 0;
    r->note = cs(p->note);
    if (r->has_points && r->has_deduction)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "item %s: give the points earned or the points deducted, not both",
                       p->item ? p->item : "");
    return check_item(c, insp, r);
}

/* An item result on a draft (amend: NULL) or an amendment of a submitted inspection. */
static sc_status record_item(sc_client *c, const char *check, const char *amend,
                             const sc_item_params *p)
{
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN];
    Scpb__EntityState *st = NULL;
    Scpb__ItemResult r, *rs[1] = {&r};
    sc_item_params q;
    if ((s = cl_sized(c, &q, sizeof q, CL_SIZE_THROUGH(sc_item_params, note), p,
                      "sc_item_params")) != SC_OK ||
        (s = parse_entity_id(c, check, "inspection", id)) != SC_OK ||
        (s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, "inspection", &st)) != SC_OK ||
        (s = item_result(c, st->inspection, &q, &r)) != SC_OK)
        goto done;
    if (amend && !*amend) {
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                    "an amendment needs a reason");
        goto done;
    }
    Scpb__Op op;
    op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION);
    Scpb__InspectionAmend am = SCPB__INSPECTION_AMEND__INIT;
    if (amend) {
        am.reason = cs(amend);
        am.n_results = 1;
        am.results = rs;
        op.body_case = SCPB__OP__BODY_INSPECTION_AMEND;
        op.inspection_amend = &am;
    } else {
        op.body_case = SCPB__OP__BODY_ITEM_RESULT;
        op.item_result = &r;
    }
    s = make_op(c, &op, NULL);
done:
    rp_state_free(c, st);
    return act_end(c, s);
}

sc_status sc_check_score_v2(sc_client *c, const char *check, const sc_item_params *p)
{
    return record_item(c, check, NULL, p);
}

sc_status sc_check_amend_v2(sc_client *c, const char *check, const char *reason,
                            const sc_item_params *p)
{
    return record_item(c, check, reason ? reason : "", p);
}

sc_status sc_check_score(sc_client *c, const char *check, const char *item, const char *status,
                         int has_points, int32_t points, const char *note)
{
    sc_item_params p = {.size = sizeof p, .item = item, .status = status,
                        .has_points = has_points, .points = points, .note = note};
    return record_item(c, check, NULL, &p);
}

sc_status sc_check_amend(sc_client *c, const char *check, const char *reason, const char *item,
                         const char *status, int has_points, int32_t points, const char *note)
{
    sc_item_params p = {.size = sizeof p, .item = item, .status = status,
                        .has_points = has_points, .points = points, .note = note};
    return record_item(c, check, reason ? reason : "", &p);
}

/* A growing, sorted, unique list of 32-byte hashes (or ids padded to 32). */
typedef struct hashset {
    ProtobufCBinaryData *v;
    uint8_t (*store)[SC_HASH_LEN];
    size_t n, cap;
} hashset;

static int hs_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SC_HASH_LEN);
}

static bool hs_add(sc_client *c, hashset *h, const uint8_t *p, size_t len)
{
    if (len != SC_HASH_LEN && len != SC_ID_LEN)
        return true;
    /* One set holds values of one length (ids or hashes), zero-padded in store. */
    for (size_t i = 0; i < h->n; i++)
        if (memcmp(h->store[i], p, len) == 0)
            return true;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        uint8_t(*ns)[SC_HASH_LEN] = sc_realloc_array(&c->env, h->store, cap, SC_HASH_LEN);
        if (!ns)
            return false;
        h->store = ns;
        h->cap = cap;
    }
    memset(h->store[h->n], 0, SC_HASH_LEN);
    memcpy(h->store[h->n], p, len);
    h->n++;
    return true;
}

/* Sort and point v at the stored entries, each `len` bytes long. */
static bool hs_finish(sc_client *c, hashset *h, size_t len)
{
    if (h->n > 1)
        qsort(h->store, h->n, SC_HASH_LEN, hs_cmp);
    h->v = sc_calloc(&c->env, h->n ? h->n : 1, sizeof *h->v);
    if (!h->v)
        return false;
    for (size_t i = 0; i < h->n; i++)
        h->v[i] = bin(h->store[i], len);
    return true;
}

static void hs_free(sc_client *c, hashset *h)
{
    sc_free(&c->env, h->v);
    sc_free(&c->env, h->store);
    memset(h, 0, sizeof *h);
}

static bool add_photos(sc_client *c, hashset *photos, const Scpb__EntityState *st)
{
    for (size_t k = 0; k < st->n_photos; k++) {
        bool voided = false;
        for (size_t v = 0; v < st->n_voided_ops && !voided; v++)
            voided = st->voided_ops[v].len == st->photos[k]->op.len &&
                     memcmp(st->voided_ops[v].data, st->photos[k]->op.data, SC_HASH_LEN) == 0;
        if (!voided && !hs_add(c, photos, st->photos[k]->sha256.data, st->photos[k]->sha256.len))
            return false;
    }
    if (rp_finding(st))
        for (size_t k = 0; k < st->finding->n_evidence; k++)
            if (!hs_add(c, photos, st->finding->evidence[k].data, st->finding->evidence[k].len))
                return false;
    return true;
}

typedef struct submit_ctx {
    const uint8_t *check;
    hashset findings, heads, photos;
    bool oom;
} submit_ctx;

static sc_status submit_visit(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    submit_ctx *x = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__FindingState *f = rp_finding(st);
    if (f && !st->voided && f->has_inspection && f->inspection.len == SC_ID_LEN &&
        memcmp(f->inspection.data, x->check, SC_ID_LEN) == 0) {
        bool ok = hs_add(c, &x->findings, id, SC_ID_LEN);
        for (size_t k = 0; ok && k < st->n_heads; k++)
            ok = hs_add(c, &x->heads, st->heads[k].data, st->heads[k].len);
        if (!ok || !add_photos(c, &x->photos, st))
            s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory listing the inspection's findings");
    }
    rp_state_free(c, st);
    return s;
}

/* Items not met that ask for a photo have one (core/score.h, as syncd checks). */
static sc_status photos_required(sc_client *c, const Scpb__EntityState *st)
{
    Scpb__EntityState *t = NULL;
    sc_status s = sheet_of(c, st->inspection, &t);
    char why[SC_ERR_MSG_MAX];
    int reason = s == SC_OK && rp_template(t)
                     ? sc_score_check_submit(rp_template(t), st, why, sizeof why)
                     : SCPB__REASON__REASON_NONE;
    rp_state_free(c, t);
    if (s == SC_OK && reason != SCPB__REASON__REASON_NONE)
        s = cl_fail(c, SC_ERR_INVALID_TRANSITION, reason, "%s", why);
    return s;
}

sc_status sc_check_submit(sc_client *c, const char *check, const char *remarks)
{
    sc_submit_params p = {.size = sizeof p, .remarks = remarks};
    return sc_check_submit_v2(c, check, &p);
}

sc_status sc_check_submit_v2(sc_client *c, const char *check, const sc_submit_params *in)
{
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    sc_submit_params q;
    Scpb__Geo at;
    if ((s = cl_sized(c, &q, sizeof q, CL_SIZE_THROUGH(sc_submit_params, lon_e7), in,
                      "sc_submit_params")) != SC_OK ||
        (s = geo_in(c, q.has_gps, q.lat_e7, q.lon_e7, &at)) != SC_OK)
        return act_end(c, s);
    const char *remarks = q.remarks;
    uint8_t id[SC_ID_LEN];
    Scpb__EntityState *st = NULL;
    submit_ctx x;
    memset(&x, 0, sizeof x);
    x.check = id;
    /* The notices first (限期整改通知): the submission lists the heads they make. */
    if ((s = parse_entity_id(c, check, "inspection", id)) != SC_OK ||
        (s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, "inspection", &st)) != SC_OK ||
        (s = photos_required(c, st)) != SC_OK || (s = gv_issue_notices(c, id)) != SC_OK ||
        (s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_FINDING, false, submit_visit, &x)) !=
            SC_OK)
        goto done;
    if (!add_photos(c, &x.photos, st) || !hs_finish(c, &x.findings, SC_ID_LEN) ||
        !hs_finish(c, &x.heads, SC_HASH_LEN) || !hs_finish(c, &x.photos, SC_HASH_LEN)) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory preparing the submission");
        goto done;
    }
    if (x.findings.n > SC_SUBMIT_FINDINGS_MAX || x.photos.n > SC_SUBMIT_PHOTOS_MAX) {
        s = cl_fail(c, SC_ERR_LIMIT, 0, "inspection has %zu findings and %zu photos (at most %d, %d)",
                    x.findings.n, x.photos.n, SC_SUBMIT_FINDINGS_MAX, SC_SUBMIT_PHOTOS_MAX);
        goto done;
    }
    Scpb__Op op;
    op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION);
    op.geo = q.has_gps ? &at : NULL;
    Scpb__InspectionSubmit sub = SCPB__INSPECTION_SUBMIT__INIT;
    sub.n_findings = x.findings.n;
    sub.findings = x.findings.v;
    sub.n_finding_heads = x.heads.n;
    sub.finding_heads = x.heads.v;
    sub.n_photos = x.photos.n;
    sub.photos = x.photos.v;
    sub.remarks = cs(remarks);
    op.body_case = SCPB__OP__BODY_INSPECTION_SUBMIT;
    op.inspection_submit = &sub;
    s = make_op(c, &op, NULL);
done:
    hs_free(c, &x.findings);
    hs_free(c, &x.heads);
    hs_free(c, &x.photos);
    rp_state_free(c, st);
    return act_end(c, s);
}

/* ---- findings ---- */

/* The canonical text of a field edit's value (see op.proto's Field). */
static sc_status canon_field(sc_client *c, int field, const char *value, char *out, size_t cap)
{
    if (!value)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD, "no value given");
    switch (field) {
    case SCPB__FIELD__FIELD_GRADE: {
        int g;
        sc_status s = parse_name(c, &sc_names_grade, "grade", value, &g);
        if (s == SC_OK)
            snprintf(out, cap, "%s", value);
        return s;
    }
    case SCPB__FIELD__FIELD_DEADLINE: {
        int32_t day;
        if (!*value) {
            out[0] = '\0';
            return SC_OK;
        }
        sc_status s = parse_day(c, "deadline", value, &day);
        if (s != SC_OK)
            return s;
        char d[11];
        sc_date_format(day, d);
        snprintf(out, cap, "%s", d);
        return SC_OK;
    }
    case SCPB__FIELD__FIELD_RESPONSIBLE: {
        uint8_t org[SC_ID_LEN];
        if (!*value) {
            out[0] = '\0';
            return SC_OK;
        }
        sc_status s = rp_resolve(c, value, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, "org unit", org);
        if (s == SC_OK)
            cl_hex(org, SC_ID_LEN, out, cap);
        return s;
    }
    case SCPB__FIELD__FIELD_DESCRIPTION:
        if (!*value)
            return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                           "a description cannot be empty");
        /* fall through */
    case SCPB__FIELD__FIELD_CATEGORY:
    case SCPB__FIELD__FIELD_LOCATION:
        if (strlen(value) >= cap)
            return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                           "value is longer than %zu bytes", cap - 1);
        snprintf(out, cap, "%s", value);
        return SC_OK;
    default:
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "that field cannot be edited");
    }
}

/* What sc_finding_add resolved from its parameters. */
typedef struct finding_in {
    uint8_t check[SC_ID_LEN], target[SC_ID_LEN], org[SC_ID_LEN];
    bool has_target, has_org;
    int grade, source;
    int32_t deadline;
    bool self_reported; /* raised by the responsible unit itself (selfcheck.c) */
} finding_in;

/* The inspection a finding is raised on: a draft, not voided; it gives the target and source. */
static sc_status finding_check(sc_client *c, const sc_finding_params_v2 *p, finding_in *f)
{
    Scpb__EntityState *insp = NULL;
    sc_status s = parse_entity_id(c, p->check, "inspection", f->check);
    if (s == SC_OK)
        s = rp_get(c, f->check, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, "inspection", &insp);
    if (s != SC_OK) {
        rp_state_free(c, insp);
        return s;
    }
    const Scpb__InspectionState *is = insp->inspection;
    if (insp->voided) {
        s = cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                    "inspection %s is voided", p->check);
    } else if (is->status == SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED) {
        s = cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                    "inspection %s is submitted: findings are raised while it is a draft",
                    p->check);
    } else {
        if (is->has_target && is->target.len == SC_ID_LEN) {
            memcpy(f->target, is->target.data, SC_ID_LEN);
            f->has_target = true;
        }
        f->source = SCPB__FINDING_SOURCE__SOURCE_INSPECTION;
        if (p->item)
            s = check_item_code(c, is, p->item);
    }
    rp_state_free(c, insp);
    return s;
}

/* Every parameter of sc_finding_add checked, and its references found in the replica. */
static sc_status finding_resolve(sc_client *c, const sc_finding_params_v2 *p, finding_in *f)
{
    sc_status s;
    if (p->check && (s = finding_check(c, p, f)) != SC_OK)
        return s;
    if (p->target) {
        if ((s = rp_resolve(c, p->target, SCPB__ENTITY_TYPE__ENTITY_TARGET, "target", f->target)) !=
            SC_OK)
            return s;
        f->has_target = true;
    }
    if (!f->has_target)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "a finding needs an inspection or a target");
    if (p->source &&
        (s = parse_name(c, &sc_names_source, "source", p->source, &f->source)) != SC_OK)
        return s;
    if (!f->source)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "a finding without an inspection needs a source (complaint, hotline, ...)");
    if (!p->description || !*p->description)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "a finding needs a description");
    if ((s = parse_name(c, &sc_names_grade, "grade", p->grade, &f->grade)) != SC_OK)
        return s;
    if (p->deadline && (s = parse_day(c, "deadline", p->deadline, &f->deadline)) != SC_OK)
        return s;
    if (p->responsible) {
        if ((s = rp_resolve(c, p->responsible, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, "org unit",
                            f->org)) != SC_OK)
            return s;
        f->has_org = true;
    }
    return sf_finding(c, p->check ? f->check : NULL, &f->self_reported);
}

/* Make the FindingCreate op of finding id, naming the n_photos photos of ev as evidence. */
static sc_status finding_create(sc_client *c, const sc_finding_params_v2 *p, const finding_in *f,
                                const uint8_t id[SC_ID_LEN], ProtobufCBinaryData *ev)
{
    Scpb__Op op;
    op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    Scpb__FindingCreate fc = SCPB__FINDING_CREATE__INIT;
    fc.has_inspection = p->check != NULL;
    fc.inspection = bin(p->check ? f->check : NULL, p->check ? SC_ID_LEN : 0);
    fc.has_target = true;
    fc.target = bin(f->target, SC_ID_LEN);
    fc.item_code = cs(p->item);
    fc.has_grade = true;
    fc.grade = (Scpb__Grade)f->grade;
    fc.category = cs(p->category);
    fc.description = cs(p->description);
    fc.location = cs(p->location);
    fc.has_deadline_day = p->deadline != NULL;
    fc.deadline_day = f->deadline;
    fc.has_responsible = f->has_org;
    fc.responsible = bin(f->has_org ? f->org : NULL, f->has_org ? SC_ID_LEN : 0);
    fc.has_fixed_on_spot = p->fixed_on_spot != 0;
    fc.fixed_on_spot = p->fixed_on_spot != 0;
    fc.n_evidence = p->n_photos;
    fc.evidence = ev;
    fc.has_source = true;
    fc.source = (Scpb__FindingSource)f->source;
    fc.has_rules = true;
    fc.rules = SC_GOV_RULES;
    fc.has_self_reported = fc.self_reported = f->self_reported;
    op.body_case = SCPB__OP__BODY_FINDING_CREATE;
    op.finding_create = &fc;
    return make_op(c, &op, NULL);
}

static sc_status finding_add(sc_client *c, const sc_finding_params_v2 *p,
                             char out_id[SC_ID_HEX_LEN])
{
    if (out_id)
        out_id[0] = '\0';
    if (!p)
        return c ? cl_fail(c, SC_ERR_INVALID_ARG, 0, "no parameters") : SC_ERR_INVALID_ARG;
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    photo_in *ph = NULL;
    ProtobufCBinaryData *ev = NULL;
    uint8_t id[SC_ID_LEN];
    finding_in f;
    memset(&f, 0, sizeof f);
    if ((s = check_photo_count(c, p->n_photos)) != SC_OK ||
        (s = check_policy(c, SCPB__OP__BODY_FINDING_CREATE, SCPB__ENTITY_TYPE__ENTITY_FINDING)) !=
            SC_OK ||
        (s = finding_resolve(c, p, &f)) != SC_OK)
        goto done;
    ph = sc_calloc(&c->env, p->n_photos + 1, sizeof *ph);
    ev = sc_calloc(&c->env, p->n_photos + 1, sizeof *ev);
    if (!ph || !ev) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    /* Evidence is named in the create op, so the photos are copied first and attached after. */
    if ((s = import_photos(c, p->photos, p->n_photos, ph)) != SC_OK)
        goto done;
    for (size_t i = 0; i < p->n_photos; i++)
        ev[i] = bin(ph[i].sha, SC_HASH_LEN);
    sc_uuid7_new(&c->env, id);
    if ((s = finding_create(c, p, &f, id, ev)) != SC_OK ||
        (s = attach_photos(c, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, ph, p->n_photos, NULL)) !=
            SC_OK)
        goto done;
    /* A finding without an inspection has no submission: its notice goes with it now. */
    if (!p->check && (s = gv_issue_notice(c, id)) != SC_OK)
        goto done;
    if (out_id)
        cl_hex(id, SC_ID_LEN, out_id, SC_ID_HEX_LEN);
done:
    sc_free(&c->env, ph);
    sc_free(&c->env, ev);
    s = act_end(c, s);
    if (s != SC_OK && out_id)
        out_id[0] = '\0';
    return s;
}

sc_status sc_finding_set(sc_client *c, const char *finding, const char *field, const char *value)
{
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN];
    int f = 0;
    char *canon = sc_alloc(&c->env, SC_TEXT_MAX + 1);
    if (!canon) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    if ((s = parse_entity_id(c, finding, "finding", id)) != SC_OK ||
        (s = parse_name(c, &sc_names_field, "field", field, &f)) != SC_OK ||
        (s = canon_field(c, f, value, canon, SC_TEXT_MAX + 1)) != SC_OK)
        goto done;
    Scpb__Op op;
    op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    Scpb__FieldEdit fe = SCPB__FIELD_EDIT__INIT;
    fe.has_field = true;
    fe.field = (Scpb__Field)f;
    fe.value = canon;
    op.body_case = SCPB__OP__BODY_FIELD_EDIT;
    op.field_edit = &fe;
    s = make_op(c, &op, NULL);
done:
    sc_free(&c->env, canon);
    return act_end(c, s);
}

/* Find an entity's type from its state; the id must be known. */
static sc_status entity_type_of(sc_client *c, const char *text, uint8_t id[SC_ID_LEN],
                                Scpb__EntityType *type)
{
    sc_status s = parse_entity_id(c, text, "entity", id);
    if (s != SC_OK)
        return s;
    Scpb__EntityState *st = NULL;
    if ((s = rp_get(c, id, 0, "entity", &st)) == SC_OK)
        *type = st->type;
    rp_state_free(c, st);
    return s;
}

/* A photo's item is one of the inspection's score sheet. */
static sc_status photo_item(sc_client *c, const uint8_t id[SC_ID_LEN], Scpb__EntityType type,
                            const char *item)
{
    if (!item)
        return SC_OK;
    if (type != SCPB__ENTITY_TYPE__ENTITY_INSPECTION)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "a photo shows an item of an inspection's score sheet: attach it to the "
                       "inspection");
    Scpb__EntityState *st = NULL, *t = NULL;
    sc_status s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, "inspection", &st);
    if (s == SC_OK)
        s = sheet_of(c, st->inspection, &t);
    if (s == SC_OK && (!rp_template(t) || !sc_template_item(rp_template(t), item)))
        s = rp_template(t) ? unknown_item(c, rp_template(t), item)
                           : cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                                     "the inspection has no score sheet: its photos name no item");
    rp_state_free(c, t);
    rp_state_free(c, st);
    return s;
}


sc_status sc_photo_add_v2(sc_client *c, const sc_photo_params *p, char out_sha[SC_HASH_HEX_LEN])
{
    if (out_sha)
        out_sha[0] = '\0';
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    sc_photo_params q;
    uint8_t id[SC_ID_LEN];
    photo_in ph;
    Scpb__Geo geo;
    Scpb__EntityType type = 0;
    if ((s = cl_sized(c, &q, sizeof q, CL_SIZE_THROUGH(sc_photo_params, lon_e7), p,
                      "sc_photo_params")) != SC_OK ||
        (s = entity_type_of(c, q.entity, id, &type)) != SC_OK ||
        (s = check_policy(c, SCPB__OP__BODY_PHOTO_ATTACH, type)) != SC_OK ||
        (s = photo_item(c, id, type, q.item)) != SC_OK ||
        (s = geo_in(c, q.has_gps, q.lat_e7, q.lon_e7, &geo)) != SC_OK)
        goto done;
    photo_meta m = {.caption = q.caption, .item = q.item, .geo = q.has_gps ? &geo : NULL};
    if ((s = import_photos(c, &q.path, 1, &ph)) == SC_OK)
        s = attach_photos_meta(c, id, type, &ph, 1, &m);
    if (s == SC_OK && out_sha)
        cl_hex(ph.sha, SC_HASH_LEN, out_sha, SC_HASH_HEX_LEN);
done:
    s = act_end(c, s);
    if (s != SC_OK && out_sha)
        out_sha[0] = '\0';
    return s;
}

sc_status sc_photo_add(sc_client *c, const char *entity, const char *path, const char *caption,
                       char out_sha[SC_HASH_HEX_LEN])
{
    sc_photo_params p = {.size = sizeof p, .entity = entity, .path = path, .caption = caption};
    return sc_photo_add_v2(c, &p, out_sha);
}

/* Photos attached first (so the record that names them depends on them), then the record. */
static sc_status with_evidence(sc_client *c, const uint8_t id[SC_ID_LEN], const char *const *photos,
                               size_t n, photo_in **ph, ProtobufCBinaryData **ev)
{
    *ph = NULL;
    *ev = NULL;
    sc_status s = check_photo_count(c, n);
    if (s != SC_OK)
        return s;
    *ph = sc_calloc(&c->env, n + 1, sizeof **ph);
    *ev = sc_calloc(&c->env, n + 1, sizeof **ev);
    if (!*ph || !*ev)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    if ((s = import_photos(c, photos, n, *ph)) != SC_OK ||
        (s = attach_photos(c, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, *ph, n, NULL)) != SC_OK)
        return s;
    for (size_t i = 0; i < n; i++)
        (*ev)[i] = bin((*ph)[i].sha, SC_HASH_LEN);
    return SC_OK;
}

sc_status rc_with_evidence(sc_client *c, const uint8_t id[SC_ID_LEN], const char *const *photos,
                           size_t n, void **ph, ProtobufCBinaryData **ev)
{
    photo_in *p = NULL;
    sc_status s = with_evidence(c, id, photos, n, &p, ev);
    *ph = p;
    return s;
}

sc_status rc_geo_in(sc_client *c, int has, int32_t lat_e7, int32_t lon_e7, Scpb__Geo *g)
{
    return geo_in(c, has, lat_e7, lon_e7, g);
}

sc_status rc_attach_photo(sc_client *c, const uint8_t id[SC_ID_LEN], Scpb__EntityType type,
                          const char *path, const char *caption, const Scpb__Geo *geo,
                          uint8_t sha[SC_HASH_LEN])
{
    photo_in ph;
    photo_meta m = {.caption = caption, .geo = geo};
    sc_status s = import_photos(c, &path, 1, &ph);
    if (s == SC_OK)
        s = attach_photos_meta(c, id, type, &ph, 1, &m);
    if (s == SC_OK)
        memcpy(sha, ph.sha, SC_HASH_LEN);
    return s;
}

sc_status sc_rectify(sc_client *c, const char *finding, const char *note, const char *measures,
                     const char *const *photos, size_t n_photos)
{
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN];
    photo_in *ph = NULL;
    ProtobufCBinaryData *ev = NULL;
    Scpb__EntityState *st = NULL;
    if ((s = parse_entity_id(c, finding, "finding", id)) != SC_OK ||
        (s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, "finding", &st)) != SC_OK ||
        (s = check_policy(c, SCPB__OP__BODY_RECTIFICATION_REPORT,
                          SCPB__ENTITY_TYPE__ENTITY_FINDING)) != SC_OK ||
        (s = gv_unit_act(c, st->finding, "a rectification report", true)) != SC_OK)
        goto done;
    if ((s = with_evidence(c, id, photos, n_photos, &ph, &ev)) != SC_OK)
        goto done;
    Scpb__Op op;
    op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    Scpb__RectificationReport rr = SCPB__RECTIFICATION_REPORT__INIT;
    rr.note = cs(note);
    rr.measures = cs(measures);
    rr.n_evidence = n_photos;
    rr.evidence = ev;
    op.body_case = SCPB__OP__BODY_RECTIFICATION_REPORT;
    op.rectification_report = &rr;
    s = make_op(c, &op, NULL);
done:
    rp_state_free(c, st);
    sc_free(&c->env, ph);
    sc_free(&c->env, ev);
    return act_end(c, s);
}

static sc_status revisit(sc_client *c, const char *finding, const sc_revisit_params *p);

sc_status sc_revisit(sc_client *c, const char *finding, const char *result, const char *note,
                     int look_back, const char *const *photos, size_t n_photos)
{
    return sc_revisit_v2(c, finding, result, note, look_back ? SC_REVISIT_LOOK_BACK : 0, photos,
                         n_photos);
}

sc_status sc_revisit_v2(sc_client *c, const char *finding, const char *result, const char *note,
                        unsigned flags, const char *const *photos, size_t n_photos)
{
    if (c && (flags & ~(SC_REVISIT_LOOK_BACK | SC_REVISIT_ACCEPTANCE)))
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_revisit_v2: unknown flags 0x%x",
                       flags & ~(SC_REVISIT_LOOK_BACK | SC_REVISIT_ACCEPTANCE));
    sc_revisit_params p = {sizeof p, result, note, flags, NULL, photos, n_photos};
    return revisit(c, finding, &p);
}

sc_status sc_revisit_v3(sc_client *c, const char *finding, const sc_revisit_params *p)
{
    if (!c)
        return SC_ERR_INVALID_ARG;
    if (!p)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "no parameters");
    sc_revisit_params q;
    sc_status s = cl_sized(c, &q, sizeof q, CL_SIZE_THROUGH(sc_revisit_params, n_photos), p,
                           "sc_revisit_params");
    if (s != SC_OK)
        return s;
    const unsigned known = SC_REVISIT_LOOK_BACK | SC_REVISIT_ACCEPTANCE | SC_REVISIT_LIFT_STOP_WORK;
    if (q.flags & ~known)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_revisit_v3: unknown flags 0x%x",
                       q.flags & ~known);
    if (q.look_back_of && !(q.flags & SC_REVISIT_LOOK_BACK))
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "a look-back round is named by a look-back (--look-back)");
    return revisit(c, finding, &q);
}

/* The round a look-back names: an assignment in the replica that re-checks finding id. */
static sc_status look_back_round(sc_client *c, const char *text, const uint8_t id[SC_ID_LEN],
                                 uint8_t out[SC_ID_LEN])
{
    Scpb__EntityState *st = NULL;
    sc_status s = parse_entity_id(c, text, "assignment", out);
    if (s == SC_OK)
        s = rp_get(c, out, SCPB__ENTITY_TYPE__ENTITY_ASSIGNMENT, "assignment", &st);
    const Scpb__AssignmentState *a = s == SC_OK ? rp_assignment(st) : NULL;
    bool named = false;
    for (size_t k = 0; a && k < a->n_rechecks && !named; k++)
        named = a->rechecks[k].len == SC_ID_LEN && memcmp(a->rechecks[k].data, id, SC_ID_LEN) == 0;
    rp_state_free(c, st);
    if (s == SC_OK && !named)
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                    "assignment %s does not re-check this finding: a look-back belongs to a round "
                    "that names it (spotcheck assign --recheck)",
                    text);
    return s;
}

static sc_status revisit(sc_client *c, const char *finding, const sc_revisit_params *p)
{
    const char *result = p->result, *note = p->note;
    const char *const *photos = p->photos;
    size_t n_photos = p->n_photos;
    unsigned flags = p->flags;
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN], round[SC_ID_LEN];
    photo_in *ph = NULL;
    ProtobufCBinaryData *ev = NULL;
    int res = 0;
    Scpb__EntityState *st = NULL;
    bool look_back = flags & SC_REVISIT_LOOK_BACK, acceptance = flags & SC_REVISIT_ACCEPTANCE;
    if ((s = parse_entity_id(c, finding, "finding", id)) != SC_OK ||
        (s = parse_name(c, &sc_names_revisit, "revisit result", result, &res)) != SC_OK ||
        (s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, "finding", &st)) != SC_OK ||
        (s = check_policy(c, SCPB__OP__BODY_REVISIT, SCPB__ENTITY_TYPE__ENTITY_FINDING)) != SC_OK)
        goto done;
    if (p->look_back_of && (s = look_back_round(c, p->look_back_of, id, round)) != SC_OK)
        goto done;
    if ((flags & SC_REVISIT_LIFT_STOP_WORK) && res != SCPB__REVISIT_RESULT__REVISIT_RECTIFIED) {
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                    "only a rectified revisit lifts a stop-work order (停工整改)");
        goto done;
    }
    if ((s = with_evidence(c, id, photos, n_photos, &ph, &ev)) != SC_OK)
        goto done;
    Scpb__Op op;
    op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    Scpb__Revisit rv = SCPB__REVISIT__INIT;
    rv.has_result = true;
    rv.result = (Scpb__RevisitResult)res;
    rv.note = cs(note);
    rv.n_evidence = n_photos;
    rv.evidence = ev;
    rv.has_look_back = look_back;
    rv.look_back = look_back;
    rv.has_acceptance = acceptance;
    rv.acceptance = acceptance;
    rv.has_lifts_stop_work = rv.lifts_stop_work = (flags & SC_REVISIT_LIFT_STOP_WORK) != 0;
    rv.has_look_back_of = p->look_back_of != NULL;
    rv.look_back_of = bin(p->look_back_of ? round : NULL, p->look_back_of ? SC_ID_LEN : 0);
    op.body_case = SCPB__OP__BODY_REVISIT;
    op.revisit = &rv;
    s = make_op(c, &op, NULL);
done:
    rp_state_free(c, st);
    sc_free(&c->env, ph);
    sc_free(&c->env, ev);
    return act_end(c, s);
}

/*
 * Closing a closed finding would change nothing: say that it is closed
 * already, and by whom, rather than what a closure needs in general.
 */
static sc_status refuse_closed(sc_client *c, const uint8_t id[SC_ID_LEN])
{
    Scpb__EntityState *st = NULL;
    sc_status s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, "finding", &st);
    const Scpb__FindingState *f = rp_finding(st);
    if (s == SC_OK && f && !st->voided && f->status == SCPB__FINDING_STATUS__FINDING_CLOSED) {
        char hex[SC_ID_HEX], by[SC_CODE_MAX + 8] = "";
        cl_hex(id, SC_ID_LEN, hex, sizeof hex);
        rp_person p;
        if (f->has_closed_by && f->closed_by.len == SC_KEY_LEN &&
            rp_person_of(c, f->closed_by.data, &p) == SC_OK && p.login[0])
            snprintf(by, sizeof by, " by %s", p.login);
        s = cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                    "finding %s is already closed (销号)%s: nothing changed", hex, by);
    }
    rp_state_free(c, st);
    return s;
}

sc_status sc_close(sc_client *c, const char *finding, const char *note)
{
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN];
    if ((s = parse_entity_id(c, finding, "finding", id)) == SC_OK &&
        (s = refuse_closed(c, id)) == SC_OK) {
        Scpb__Op op;
        op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
        Scpb__Closure cl = SCPB__CLOSURE__INIT;
        cl.note = cs(note);
        op.body_case = SCPB__OP__BODY_CLOSURE;
        op.closure = &cl;
        s = make_op(c, &op, NULL);
    }
    return act_end(c, s);
}

sc_status sc_reopen(sc_client *c, const char *finding, const char *reason)
{
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN];
    if ((s = parse_entity_id(c, finding, "finding", id)) != SC_OK)
        goto done;
    if (!reason || !*reason) {
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD, "a reopen needs a reason");
        goto done;
    }
    Scpb__Op op;
    op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    Scpb__Reopen ro = SCPB__REOPEN__INIT;
    ro.reason = cs(reason);
    op.body_case = SCPB__OP__BODY_REOPEN;
    op.reopen = &ro;
    s = make_op(c, &op, NULL);
done:
    return act_end(c, s);
}

sc_status sc_void(sc_client *c, const char *id_text, const char *reason)
{
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN], target_op[SC_HASH_LEN];
    bool one_op = false;
    Scpb__EntityType type = 0;
    if (!reason || !*reason) {
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD, "a void needs a reason");
        goto done;
    }
    if (cl_parse_hash(id_text, target_op)) {
        st_opinfo info;
        if ((s = st_op_info(c, target_op, &info)) == SC_ERR_NOT_FOUND) {
            s = cl_fail(c, SC_ERR_NOT_FOUND, SCPB__REASON__REASON_UNKNOWN_ENTITY,
                        "op %s is not in the replica", id_text);
            goto done;
        }
        if (s != SC_OK)
            goto done;
        memcpy(id, info.entity, SC_ID_LEN);
        type = (Scpb__EntityType)info.etype;
        one_op = true;
    } else if ((s = entity_type_of(c, id_text, id, &type)) != SC_OK) {
        goto done;
    }
    Scpb__Op op;
    op_init(&op, id, type);
    Scpb__VoidRecord vr = SCPB__VOID_RECORD__INIT;
    vr.reason = cs(reason);
    vr.has_target_op = one_op;
    vr.target_op = bin(one_op ? target_op : NULL, one_op ? SC_HASH_LEN : 0);
    op.body_case = SCPB__OP__BODY_VOID_RECORD;
    op.void_record = &vr;
    s = make_op(c, &op, NULL);
done:
    return act_end(c, s);
}

sc_status sc_note_add(sc_client *c, const char *entity, const char *text)
{
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN];
    Scpb__EntityType type = 0;
    if ((s = entity_type_of(c, entity, id, &type)) != SC_OK)
        goto done;
    if (!text || !*text) {
        s = cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD, "a note needs text");
        goto done;
    }
    Scpb__Op op;
    op_init(&op, id, type);
    Scpb__Note n = SCPB__NOTE__INIT;
    n.text = cs(text);
    op.body_case = SCPB__OP__BODY_NOTE;
    op.note = &n;
    s = make_op(c, &op, NULL);
done:
    return act_end(c, s);
}

/* "met", "not_met:3": an item result from its canonical text. */
static sc_status parse_result_text(sc_client *c, const char *value, char *status, size_t cap,
                                   int *has_points, int32_t *points)
{
    *has_points = 0;
    *points = 0;
    const char *colon = value ? strchr(value, ':') : NULL;
    size_t n = colon ? (size_t)(colon - value) : (value ? strlen(value) : 0);
    if (!value || n == 0 || n >= cap)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "an item value is a status, optionally with points (\"not_met:3\")");
    memcpy(status, value, n);
    status[n] = '\0';
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || v < 0 || v > INT32_MAX)
            return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                           "points \"%s\" are not a number", colon + 1);
        *has_points = 1;
        *points = (int32_t)v;
    }
    return SC_OK;
}

/*
 * A void closes the entity's conflicts (docs/data-model.md §3): none is
 * open, so a resolve has nothing to settle, and says so.
 */
static sc_status refuse_voided(sc_client *c, const uint8_t id[SC_ID_LEN], Scpb__EntityType type)
{
    Scpb__EntityState *st = NULL;
    sc_status s = rp_get(c, id, type, type_name(type), &st);
    if (s == SC_OK && st->voided) {
        char hex[SC_ID_HEX];
        cl_hex(id, SC_ID_LEN, hex, sizeof hex);
        s = cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                    "%s %s is voided: its conflicts were closed with the void, nothing is left "
                    "to resolve",
                    type_name(type), hex);
    }
    rp_state_free(c, st);
    return s;
}

sc_status sc_resolve(sc_client *c, const char *entity, const char *field, const char *value,
                     const char *item)
{
    sc_status s = act_begin(c);
    if (s != SC_OK)
        return s;
    uint8_t id[SC_ID_LEN];
    Scpb__EntityType type = 0;
    Scpb__EntityState *st = NULL;
    int f = 0;
    char *canon = sc_alloc(&c->env, SC_TEXT_MAX + 1);
    Scpb__ItemResult r;
    if (!canon) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    canon[0] = '\0';
    if ((s = entity_type_of(c, entity, id, &type)) != SC_OK ||
        (s = refuse_voided(c, id, type)) != SC_OK ||
        (s = parse_name(c, &sc_names_field, "field", field, &f)) != SC_OK)
        goto done;
    Scpb__Op op;
    op_init(&op, id, type);
    Scpb__ConflictResolve cr = SCPB__CONFLICT_RESOLVE__INIT;
    cr.has_field = true;
    cr.field = (Scpb__Field)f;
    if (f == SCPB__FIELD__FIELD_ITEM) {
        char status[32];
        int hp;
        int32_t pts;
        if ((s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, "inspection", &st)) != SC_OK ||
            (s = parse_result_text(c, value, status, sizeof status, &hp, &pts)) != SC_OK ||
            (s = item_result(c, st->inspection,
                             &(sc_item_params){.size = sizeof(sc_item_params), .item = item,
                                               .status = status, .has_points = hp, .points = pts},
                             &r)) != SC_OK)
            goto done;
        cr.item_code = cs(item);
        cr.result = &r;
    } else if (f != SCPB__FIELD__FIELD_STATUS) {
        if ((s = canon_field(c, f, value, canon, SC_TEXT_MAX + 1)) != SC_OK)
            goto done;
        cr.value = canon;
    }
    op.body_case = SCPB__OP__BODY_RESOLVE;
    op.resolve = &cr;
    s = make_op(c, &op, NULL);
done:
    rp_state_free(c, st);
    sc_free(&c->env, canon);
    return act_end(c, s);
}

/* ---- the entry points that take structs: sized ones, and those of 0.1 ---- */

/* A caller's sized struct into q; NULL stays NULL (the callee says "no parameters"). */
static sc_status params_in(sc_client *c, const void *p, void *q, size_t size, size_t min,
                           const char *what, char *out_id)
{
    if (out_id)
        out_id[0] = '\0';
    if (!c)
        return SC_ERR_INVALID_ARG;
    return p ? cl_sized(c, q, size, min, p, what) : SC_OK;
}

sc_status sc_check_open_v2(sc_client *c, const sc_check_params_v2 *p, char out_id[SC_ID_HEX_LEN])
{
    sc_check_params_v2 q;
    sc_status s = params_in(c, p, &q, sizeof q, CL_SIZE_THROUGH(sc_check_params_v2, assignment),
                            "sc_check_params_v2", out_id);
    return s == SC_OK ? check_open(c, p ? &q : NULL, out_id) : s;
}

sc_status sc_check_open(sc_client *c, const sc_check_params *p, char out_id[SC_ID_HEX_LEN])
{
    if (!p)
        return check_open(c, NULL, out_id);
    sc_check_params_v2 q = {.size = sizeof q,
                            .target = p->target,
                            .kind = p->kind,
                            .disclosure = p->disclosure,
                            .relation = p->relation,
                            .template_ = p->template_,
                            .assignment = p->assignment};
    return check_open(c, &q, out_id);
}

sc_status sc_assign_v2(sc_client *c, const sc_assign_params_v2 *p, char out_id[SC_ID_HEX_LEN])
{
    sc_assign_params_v2 q;
    sc_status s = params_in(c, p, &q, sizeof q, CL_SIZE_THROUGH(sc_assign_params_v2, note),
                            "sc_assign_params_v2", out_id);
    return s == SC_OK ? assign(c, p ? &q : NULL, out_id) : s;
}

sc_status sc_assign(sc_client *c, const sc_assign_params *p, char out_id[SC_ID_HEX_LEN])
{
    if (!p)
        return assign(c, NULL, out_id);
    sc_assign_params_v2 q = {sizeof q,      p->target, p->inspectors, p->ninspectors, p->kind,
                             p->disclosure, p->due,    p->template_,  p->note,        NULL,
                             0,             NULL,      0};
    return assign(c, &q, out_id);
}

sc_status sc_finding_add_v2(sc_client *c, const sc_finding_params_v2 *p, char out_id[SC_ID_HEX_LEN])
{
    sc_finding_params_v2 q;
    sc_status s = params_in(c, p, &q, sizeof q, CL_SIZE_THROUGH(sc_finding_params_v2, n_photos),
                            "sc_finding_params_v2", out_id);
    return s == SC_OK ? finding_add(c, p ? &q : NULL, out_id) : s;
}

sc_status sc_finding_add(sc_client *c, const sc_finding_params *p, char out_id[SC_ID_HEX_LEN])
{
    if (!p)
        return finding_add(c, NULL, out_id);
    sc_finding_params_v2 q = {.size = sizeof q,
                              .check = p->check,
                              .target = p->target,
                              .description = p->description,
                              .grade = p->grade,
                              .category = p->category,
                              .item = p->item,
                              .location = p->location,
                              .deadline = p->deadline,
                              .responsible = p->responsible,
                              .source = p->source,
                              .fixed_on_spot = p->fixed_on_spot,
                              .photos = p->photos,
                              .n_photos = p->n_photos};
    return finding_add(c, &q, out_id);
}
