/*
 * merge_state.c: building an entity's state (the EntityState message of
 * proto/state.proto) from the judged ops.
 *
 * The common part (id, heads, counts, invalid ops) comes from every op; the
 * rest from the valid ops, in fold order, each through its kind's state
 * hook (opkinds.def): the create op builds the per-type part (registers
 * and lifecycle resolved into values and conflicts), later ops add their
 * facts (photos, notes, voids, evidence, counters).  Every repeated field
 * gets a canonical order, so the encoding, and the state hash, agree on
 * every replica.
 *
 * Everything is allocated with the fold's env and owned by the state; a
 * failed allocation sets f->oom and the fold frees what was built.
 */
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "ids.h"
#include "merge_internal.h"
#include "names.h"

/* ---- protobuf values ---- */

static bool set_bytes(fold *f, ProtobufCBinaryData *dst, protobuf_c_boolean *has, const void *src,
                      size_t len)
{
    dst->data = sc_memdup(f->env, src, len);
    dst->len = dst->data ? len : 0;
    if (has)
        *has = dst->data != NULL;
    if (!dst->data)
        f->oom = true;
    return dst->data != NULL;
}

static void copy_bytes(fold *f, ProtobufCBinaryData *dst, protobuf_c_boolean *has,
                       const ProtobufCBinaryData *src, protobuf_c_boolean src_has)
{
    if (src_has && src->len)
        set_bytes(f, dst, has, src->data, src->len);
}

static char *str_dup(fold *f, const char *s)
{
    if (!s)
        return NULL;
    size_t len = strlen(s);
    char *d = sc_memdup(f->env, s, len + 1);
    if (!d)
        f->oom = true;
    return d;
}

/* Deep copy of a message through its encoding, allocated with the env. */
static void *msg_copy(fold *f, const ProtobufCMessage *m)
{
    if (!m)
        return NULL;
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sc_alloc(f->env, len);
    if (!buf) {
        f->oom = true;
        return NULL;
    }
    protobuf_c_message_pack(m, buf);
    ProtobufCAllocator a;
    sc_env_pb_allocator(f->env, &a);
    ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, &a, len, buf);
    sc_free(f->env, buf);
    if (!c)
        f->oom = true;
    return c;
}

static void *new_msg(fold *f, size_t size, void (*init)(void *))
{
    void *m = mg_alloc(f, 1, size);
    if (m)
        init(m);
    return m;
}

static void init_org(void *m)
{
    scpb__org_state__init(m);
}
static void init_target(void *m)
{
    scpb__target_state__init(m);
}
static void init_user(void *m)
{
    scpb__user_state__init(m);
}
static void init_device(void *m)
{
    scpb__device_state__init(m);
}
static void init_template(void *m)
{
    scpb__template_state__init(m);
}
static void init_assignment(void *m)
{
    scpb__assignment_state__init(m);
}
static void init_inspection(void *m)
{
    scpb__inspection_state__init(m);
}
static void init_finding(void *m)
{
    scpb__finding_state__init(m);
}
static void init_attachment(void *m)
{
    scpb__attachment__init(m);
}
static void init_note(void *m)
{
    scpb__note_entry__init(m);
}
static void init_conflict(void *m)
{
    scpb__conflict__init(m);
}
static void init_state(void *m)
{
    scpb__entity_state__init(m);
}

void *mg_new_msg(fold *f, size_t size, void (*init)(void *))
{
    return new_msg(f, size, init);
}

bool mg_set_bytes(fold *f, ProtobufCBinaryData *dst, protobuf_c_boolean *has, const void *src,
                  size_t len)
{
    return set_bytes(f, dst, has, src, len);
}

char *mg_str_dup(fold *f, const char *s)
{
    return str_dup(f, s);
}

void *mg_msg_copy(fold *f, const ProtobufCMessage *m)
{
    return msg_copy(f, m);
}

static int cmp_bytes32(const void *a, const void *b)
{
    const ProtobufCBinaryData *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Insert a copy of h into a sorted list of unique hashes, keeping it canonical. */
static void add_unique(fold *f, ProtobufCBinaryData **v, size_t *n, const ProtobufCBinaryData *h)
{
    size_t lo = 0, hi = *n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_bytes32(&(*v)[mid], h);
        if (c == 0)
            return;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    ProtobufCBinaryData *nv = sc_realloc_array(f->env, *v, *n + 1, sizeof *nv);
    if (!nv) {
        f->oom = true;
        return;
    }
    *v = nv;
    ProtobufCBinaryData copy;
    if (!set_bytes(f, &copy, NULL, h->data, h->len))
        return;
    memmove(&nv[lo + 1], &nv[lo], (*n - lo) * sizeof *nv);
    nv[lo] = copy;
    (*n)++;
}

static void add_ids(fold *f, ProtobufCBinaryData **v, size_t *n, const ProtobufCBinaryData *src,
                    size_t nsrc)
{
    for (size_t k = 0; k < nsrc && !f->oom; k++)
        add_unique(f, v, n, &src[k]);
}

void mg_add_conflict(fold *f, Scpb__EntityState *st, Scpb__Field field, const char *item_code,
                     const char **values, const size_t *ops, size_t m)
{
    Scpb__Conflict *c = new_msg(f, sizeof *c, init_conflict);
    if (!c)
        return;
    c->has_field = true;
    c->field = field;
    c->item_code = str_dup(f, item_code);
    c->values = mg_alloc(f, m, sizeof *c->values);
    c->ops = mg_alloc(f, m, sizeof *c->ops);
    if (c->values && c->ops) {
        for (size_t k = 0; k < m; k++) {
            c->values[k] = str_dup(f, values[k]);
            if (!c->values[k])
                break;
            c->n_values++;
            if (!set_bytes(f, &c->ops[k], NULL, f->in[ops[k]].id, SC_HASH_LEN))
                break;
            c->n_ops++;
        }
    }
    Scpb__Conflict **nv = sc_realloc_array(f->env, st->conflicts, st->n_conflicts + 1, sizeof *nv);
    if (!nv) {
        f->oom = true;
        ProtobufCAllocator a;
        sc_env_pb_allocator(f->env, &a);
        protobuf_c_message_free_unpacked(&c->base, &a);
        return;
    }
    st->conflicts = nv;
    st->conflicts[st->n_conflicts++] = c;
}

static int cmp_conflict(const void *a, const void *b)
{
    const Scpb__Conflict *x = *(Scpb__Conflict *const *)a, *y = *(Scpb__Conflict *const *)b;
    if (x->field != y->field)
        return x->field < y->field ? -1 : 1;
    return strcmp(x->item_code ? x->item_code : "", y->item_code ? y->item_code : "");
}

static int cmp_attachment(const void *a, const void *b)
{
    const Scpb__Attachment *x = *(Scpb__Attachment *const *)a, *y = *(Scpb__Attachment *const *)b;
    int c = cmp_bytes32(&x->sha256, &y->sha256);
    return c ? c : cmp_bytes32(&x->op, &y->op);
}

/* ---- the common part ---- */

/* A copy of the SC_HASH_LEN-byte id appended to the list *v of *n. */
static void append_id(fold *f, ProtobufCBinaryData **v, size_t *n, const uint8_t *id)
{
    ProtobufCBinaryData *nv = sc_realloc_array(f->env, *v, *n + 1, sizeof *nv);
    if (!nv) {
        f->oom = true;
        return;
    }
    *v = nv;
    if (set_bytes(f, &nv[*n], NULL, id, SC_HASH_LEN))
        (*n)++;
}

/* What every state says, valid ops or not: id, type, counts, creator, heads, invalid ops. */
static void build_common(fold *f, Scpb__EntityState *st)
{
    const Scpb__Op *first = mg_op(f, 0);
    set_bytes(f, &st->id, &st->has_id, first->entity.data, SC_ID_LEN);
    st->has_type = true;
    st->type = f->type;
    st->has_op_count = true;
    st->op_count = (uint32_t)f->n;
    uint64_t last = 0;
    for (size_t i = 0; i < f->n; i++)
        if (mg_op(f, i)->hlc > last)
            last = mg_op(f, i)->hlc;
    st->has_last_hlc = true;
    st->last_hlc = last;
    if (f->create < f->n) {
        set_bytes(f, &st->created_by, &st->has_created_by, mg_author(f, f->create), SC_KEY_LEN);
        st->has_created_hlc = true;
        st->created_hlc = mg_op(f, f->create)->hlc;
    }
    /* In op id order. */
    for (size_t k = 0; k < f->n && !f->oom; k++) {
        size_t i = f->byid[k];
        if (!f->is_dep[i])
            append_id(f, &st->heads, &st->n_heads, f->in[i].id);
        if (!f->valid[i] && !f->oom)
            append_id(f, &st->invalid_ops, &st->n_invalid_ops, f->in[i].id);
    }
}

/* ---- facts any entity may carry: voids, photos, notes ---- */

static void state_void_record(fold *f, Scpb__EntityState *st, size_t i)
{
    const Scpb__VoidRecord *v = mg_op(f, i)->void_record;
    if (v->has_target_op) {
        add_unique(f, &st->voided_ops, &st->n_voided_ops, &v->target_op);
    } else if (!st->voided) {
        st->has_voided = true;
        st->voided = true;
        st->void_reason = str_dup(f, v->reason);
    }
}

static void state_photo_attach(fold *f, Scpb__EntityState *st, size_t i)
{
    if (f->voided[i])
        return;
    const Scpb__PhotoAttach *p = mg_op(f, i)->photo_attach;
    Scpb__Attachment *a = new_msg(f, sizeof *a, init_attachment);
    Scpb__Attachment **nv =
        a ? sc_realloc_array(f->env, st->photos, st->n_photos + 1, sizeof *nv) : NULL;
    if (!nv) {
        f->oom = true;
        sc_free(f->env, a);
        return;
    }
    st->photos = nv;
    nv[st->n_photos++] = a;
    copy_bytes(f, &a->sha256, &a->has_sha256, &p->sha256, p->has_sha256);
    a->has_size = p->has_size;
    a->size = p->size;
    a->mime = str_dup(f, p->mime);
    a->has_captured_ms = p->has_captured_ms;
    a->captured_ms = p->captured_ms;
    a->caption = str_dup(f, p->caption);
    a->item_code = str_dup(f, p->item_code);
    a->has_time_source = p->has_time_source;
    a->time_source = p->time_source;
    a->has_geo_source = p->has_geo_source;
    a->geo_source = p->geo_source;
    set_bytes(f, &a->op, &a->has_op, f->in[i].id, SC_HASH_LEN);
    set_bytes(f, &a->author, &a->has_author, mg_author(f, i), SC_KEY_LEN);
    if (p->geo)
        a->geo = msg_copy(f, &p->geo->base);
}

static void state_note(fold *f, Scpb__EntityState *st, size_t i)
{
    if (f->voided[i])
        return;
    const Scpb__Op *op = mg_op(f, i);
    Scpb__NoteEntry *e = new_msg(f, sizeof *e, init_note);
    Scpb__NoteEntry **nv =
        e ? sc_realloc_array(f->env, st->notes, st->n_notes + 1, sizeof *nv) : NULL;
    if (!nv) {
        f->oom = true;
        sc_free(f->env, e);
        return;
    }
    st->notes = nv;
    nv[st->n_notes++] = e;
    set_bytes(f, &e->op, &e->has_op, f->in[i].id, SC_HASH_LEN);
    set_bytes(f, &e->author, &e->has_author, mg_author(f, i), SC_KEY_LEN);
    e->has_hlc = true;
    e->hlc = op->hlc;
    e->text = str_dup(f, op->note->text);
}

/* ---- administrative entities: the create op says it all ---- */

static void state_org(fold *f, Scpb__EntityState *st, size_t i)
{
    const Scpb__OrgCreate *c = mg_op(f, i)->org_create;
    Scpb__OrgState *s = new_msg(f, sizeof *s, init_org);
    if (!s)
        return;
    st->kind_case = SCPB__ENTITY_STATE__KIND_ORG;
    st->org = s;
    s->code = str_dup(f, c->code);
    s->name = str_dup(f, c->name);
    copy_bytes(f, &s->parent, &s->has_parent, &c->parent, c->has_parent);
    s->has_level = c->has_level;
    s->level = c->level;
    s->has_kind = c->has_kind;
    s->kind = c->kind;
}

static void state_target(fold *f, Scpb__EntityState *st, size_t i)
{
    const Scpb__TargetCreate *t = mg_op(f, i)->target_create;
    Scpb__TargetState *s = new_msg(f, sizeof *s, init_target);
    if (!s)
        return;
    st->kind_case = SCPB__ENTITY_STATE__KIND_TARGET;
    st->target = s;
    s->code = str_dup(f, t->code);
    s->name = str_dup(f, t->name);
    copy_bytes(f, &s->org, &s->has_org, &t->org, t->has_org);
    s->has_type = t->has_type;
    s->type = t->type;
    s->address = str_dup(f, t->address);
}

static void state_user(fold *f, Scpb__EntityState *st, size_t i)
{
    const Scpb__UserCreate *u = mg_op(f, i)->user_create;
    Scpb__UserState *s = new_msg(f, sizeof *s, init_user);
    if (!s)
        return;
    st->kind_case = SCPB__ENTITY_STATE__KIND_USER;
    st->user = s;
    s->login = str_dup(f, u->login);
    s->name = str_dup(f, u->name);
    s->has_role = u->has_role;
    s->role = u->role;
    copy_bytes(f, &s->org, &s->has_org, &u->org, u->has_org);
    /* The registers the create op started: the role in effect, and access (disabled wins). */
    const reg *r = mg_reg_find(f, SCPB__FIELD__FIELD_ROLE);
    size_t w = r ? mg_reg_resolve(f, st, r, NULL) : 0;
    int role;
    if (r && w < r->n && sc_name_parse(&sc_names_role, r->w[w].text, &role)) {
        s->has_role = true;
        s->role = (Scpb__Role)role;
    }
    r = mg_reg_find(f, SCPB__FIELD__FIELD_ACCESS);
    w = r ? mg_reg_resolve(f, st, r, MG_ACCESS_DISABLED) : 0;
    /* Absent unless disabled, so a user never disabled keeps the state it always had. */
    if (r && w < r->n && strcmp(r->w[w].text, MG_ACCESS_DISABLED) == 0) {
        const Scpb__Op *op = mg_op(f, r->w[w].op);
        s->has_disabled = true;
        s->disabled = true;
        if (op->body_case == SCPB__OP__BODY_USER_DISABLE)
            s->disabled_reason = str_dup(f, op->user_disable->reason);
    }
}

static void state_device(fold *f, Scpb__EntityState *st, size_t i)
{
    const Scpb__DeviceEnroll *d = mg_op(f, i)->device_enroll;
    Scpb__DeviceState *s = new_msg(f, sizeof *s, init_device);
    if (!s)
        return;
    st->kind_case = SCPB__ENTITY_STATE__KIND_DEVICE;
    st->device = s;
    copy_bytes(f, &s->user, &s->has_user, &d->user, d->has_user);
    copy_bytes(f, &s->key, &s->has_key, &d->key, d->has_key);
    s->label = str_dup(f, d->label);
}

/* The first valid revocation in fold order is the one the state names. */
static void state_device_revoke(fold *f, Scpb__EntityState *st, size_t i)
{
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_DEVICE || st->device->revoked)
        return;
    const Scpb__Op *op = mg_op(f, i);
    Scpb__DeviceState *s = st->device;
    s->has_revoked = true;
    s->revoked = true;
    s->revoke_reason = str_dup(f, op->device_revoke->reason);
    s->has_revoked_hlc = true;
    s->revoked_hlc = op->hlc;
}

static void state_template(fold *f, Scpb__EntityState *st, size_t i)
{
    const Scpb__TemplatePublish *t = mg_op(f, i)->template_publish;
    Scpb__TemplateState *s = new_msg(f, sizeof *s, init_template);
    if (!s)
        return;
    st->kind_case = SCPB__ENTITY_STATE__KIND_TEMPLATE;
    st->template_ = s;
    s->code = str_dup(f, t->code);
    s->name = str_dup(f, t->name);
    s->has_version = t->has_version;
    s->version = t->version;
    s->has_pass_mark = t->has_pass_mark;
    s->pass_mark = t->pass_mark;
    s->items = mg_alloc(f, t->n_items, sizeof *s->items);
    int64_t total = 0;
    for (size_t k = 0; s->items && k < t->n_items && !f->oom; k++) {
        s->items[k] = msg_copy(f, &t->items[k]->base);
        if (s->items[k])
            s->n_items++;
        /* A sub-item's points are its item's: counted once, there. */
        if (!t->items[k]->parent)
            total += t->items[k]->max_points;
    }
    s->has_max_total = true;
    s->max_total = total > INT32_MAX ? INT32_MAX : (int32_t)total;
    s->grades = t->n_grades ? mg_alloc(f, t->n_grades, sizeof *s->grades) : NULL;
    for (size_t k = 0; s->grades && k < t->n_grades && !f->oom; k++) {
        s->grades[k] = msg_copy(f, &t->grades[k]->base);
        if (s->grades[k])
            s->n_grades++;
    }
    if (t->aggregate)
        s->aggregate = msg_copy(f, &t->aggregate->base);
}

static void state_assignment(fold *f, Scpb__EntityState *st, size_t i)
{
    const Scpb__AssignmentCreate *a = mg_op(f, i)->assignment_create;
    Scpb__AssignmentState *s = new_msg(f, sizeof *s, init_assignment);
    if (!s)
        return;
    st->kind_case = SCPB__ENTITY_STATE__KIND_ASSIGNMENT;
    st->assignment = s;
    copy_bytes(f, &s->target, &s->has_target, &a->target, a->has_target);
    add_ids(f, &s->inspectors, &s->n_inspectors, a->inspectors, a->n_inspectors);
    s->has_kind = a->has_kind;
    s->kind = a->kind;
    s->has_disclosure = a->has_disclosure;
    s->disclosure = a->disclosure;
    s->has_due_day = a->has_due_day;
    s->due_day = a->due_day;
    copy_bytes(f, &s->template_, &s->has_template_, &a->template_, a->has_template_);
    s->note = str_dup(f, a->note);
    add_ids(f, &s->rechecks, &s->n_rechecks, a->rechecks, a->n_rechecks);
    add_ids(f, &s->verifies, &s->n_verifies, a->verifies, a->n_verifies);
}

/* ---- inspections ---- */

static bool covered_by_submit(const fold *f, size_t op)
{
    for (size_t k = 0; k < f->nsubmits; k++)
        if (mg_in_past(f, op, f->submits[k]))
            return true;
    return false;
}

static int cmp_item(const void *a, const void *b)
{
    const Scpb__ItemResult *x = *(Scpb__ItemResult *const *)a, *y = *(Scpb__ItemResult *const *)b;
    return strcmp(x->item_code ? x->item_code : "", y->item_code ? y->item_code : "");
}

/* The item registers: once submitted, results the submission did not cover are late. */
static void inspection_results(fold *f, Scpb__EntityState *st, Scpb__InspectionState *s)
{
    bool submitted = s->status == I_SUBMITTED;
    for (size_t r = 0; r < f->nregs && !f->oom; r++) {
        reg *rg = &f->regs[r];
        if (rg->field != SCPB__FIELD__FIELD_ITEM)
            continue;
        for (size_t k = 0; k < rg->n; k++)
            rg->w[k].late = submitted &&
                            mg_op(f, rg->w[k].op)->body_case == SCPB__OP__BODY_ITEM_RESULT &&
                            !covered_by_submit(f, rg->w[k].op);
        size_t w = mg_reg_resolve(f, st, rg, NULL);
        if (w == rg->n)
            continue;
        Scpb__ItemResult **nv = sc_realloc_array(f->env, s->results, s->n_results + 1, sizeof *nv);
        if (!nv) {
            f->oom = true;
            break;
        }
        s->results = nv;
        nv[s->n_results] = msg_copy(f, &rg->w[w].item->base);
        if (nv[s->n_results])
            s->n_results++;
    }
    if (s->n_results > 1)
        qsort(s->results, s->n_results, sizeof *s->results, cmp_item);
}

static void state_inspection(fold *f, Scpb__EntityState *st, size_t i)
{
    const Scpb__InspectionOpen *c = mg_op(f, i)->inspection_open;
    Scpb__InspectionState *s = new_msg(f, sizeof *s, init_inspection);
    size_t *front = mg_alloc(f, f->n, sizeof *front);
    if (!s || !front) {
        sc_free(f->env, s);
        sc_free(f->env, front);
        return;
    }
    st->kind_case = SCPB__ENTITY_STATE__KIND_INSPECTION;
    st->inspection = s;
    copy_bytes(f, &s->target, &s->has_target, &c->target, c->has_target);
    copy_bytes(f, &s->template_, &s->has_template_, &c->template_, c->has_template_);
    copy_bytes(f, &s->assignment, &s->has_assignment, &c->assignment, c->has_assignment);
    s->has_kind = c->has_kind;
    s->kind = c->kind;
    s->has_disclosure = c->has_disclosure;
    s->disclosure = c->disclosure;
    s->has_relation = c->has_relation;
    s->relation = c->relation;
    s->has_self_check = s->self_check = c->has_self_check && c->self_check;
    set_bytes(f, &s->opened_by, &s->has_opened_by, mg_author(f, i), SC_KEY_LEN);
    if (mg_op(f, i)->geo)
        s->opened_at = msg_copy(f, &mg_op(f, i)->geo->base);

    size_t m = mg_life_final(f, front);
    size_t win = mg_life_winner(f, front, m);
    s->has_status = true;
    s->status = win < f->n ? (Scpb__InspectionStatus)f->lres[win] : I_DRAFT;
    s->has_amend_count = true; /* counted by state_inspection_amend */
    inspection_results(f, st, s);
    sc_free(f->env, front);
}

/* The submission in effect: the first in fold order gives who and when; the lists are unions. */
static void state_inspection_submit(fold *f, Scpb__EntityState *st, size_t i)
{
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_INSPECTION)
        return;
    Scpb__InspectionState *s = st->inspection;
    const Scpb__InspectionSubmit *sub = mg_op(f, i)->inspection_submit;
    if (!s->has_submitted_by) {
        set_bytes(f, &s->submitted_by, &s->has_submitted_by, mg_author(f, i), SC_KEY_LEN);
        s->has_submitted_hlc = true;
        s->submitted_hlc = mg_op(f, i)->hlc;
        s->remarks = str_dup(f, sub->remarks);
        if (mg_op(f, i)->geo)
            s->submitted_at = msg_copy(f, &mg_op(f, i)->geo->base);
    }
    add_ids(f, &s->findings, &s->n_findings, sub->findings, sub->n_findings);
    add_ids(f, &s->finding_heads, &s->n_finding_heads, sub->finding_heads, sub->n_finding_heads);
    add_ids(f, &s->submitted_photos, &s->n_submitted_photos, sub->photos, sub->n_photos);
}

static void state_inspection_amend(fold *f, Scpb__EntityState *st, size_t i)
{
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION)
        st->inspection->amend_count++;
}

/* ---- findings ---- */

/* Each field register's value in effect, and its conflict. */
static void finding_fields(fold *f, Scpb__EntityState *st, Scpb__FindingState *s)
{
    static const Scpb__Field fields[] = {
        SCPB__FIELD__FIELD_DESCRIPTION, SCPB__FIELD__FIELD_GRADE,    SCPB__FIELD__FIELD_DEADLINE,
        SCPB__FIELD__FIELD_RESPONSIBLE, SCPB__FIELD__FIELD_CATEGORY, SCPB__FIELD__FIELD_LOCATION};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0] && !f->oom; k++) {
        const reg *r = mg_reg_find(f, fields[k]);
        if (!r)
            continue;
        size_t w = mg_reg_resolve(f, st, r, NULL);
        if (w == r->n)
            continue;
        const char *v = r->w[w].text;
        if (fields[k] == SCPB__FIELD__FIELD_DEADLINE)
            f->deadline_writer = r->w[w].op;
        else if (fields[k] == SCPB__FIELD__FIELD_RESPONSIBLE)
            f->responsible_writer = r->w[w].op;
        switch (fields[k]) {
        case SCPB__FIELD__FIELD_DESCRIPTION:
            s->description = str_dup(f, v);
            break;
        case SCPB__FIELD__FIELD_GRADE: {
            int g = SCPB__GRADE__GRADE_GENERAL;
            sc_name_parse(&sc_names_grade, v, &g);
            s->has_grade = true;
            s->grade = (Scpb__Grade)g;
            break;
        }
        case SCPB__FIELD__FIELD_DEADLINE: {
            int32_t day;
            if (v[0] && sc_date_parse(v, strlen(v), &day) == SC_OK) {
                s->has_deadline_day = true;
                s->deadline_day = day;
            }
            break;
        }
        case SCPB__FIELD__FIELD_RESPONSIBLE: {
            uint8_t id[SC_ID_LEN];
            if (v[0] && sc_hex_decode(v, strlen(v), id, SC_ID_LEN) == SC_OK)
                set_bytes(f, &s->responsible, &s->has_responsible, id, SC_ID_LEN);
            break;
        }
        case SCPB__FIELD__FIELD_CATEGORY:
            s->category = v[0] ? str_dup(f, v) : NULL;
            break;
        case SCPB__FIELD__FIELD_LOCATION:
            s->location = v[0] ? str_dup(f, v) : NULL;
            break;
        default:
            break;
        }
    }
}

/*
 * The status in effect, who verified it, and the reopen count: the valid
 * transitions from closed back to open (回头看 relapses and explicit
 * reopens), each told by the status in its own past.
 */
static void finding_lifecycle(fold *f, Scpb__EntityState *st, Scpb__FindingState *s, size_t *front)
{
    size_t m = mg_life_final(f, front);
    size_t win = mg_life_winner(f, front, m);
    if (win < f->n) {
        s->has_status = true;
        s->status = (Scpb__FindingStatus)f->lres[win];
        set_bytes(f, &s->status_op, &s->has_status_op, f->in[win].id, SC_HASH_LEN);
        mg_life_conflict(f, st, front, m, win);
        if ((s->status == F_VERIFIED || s->status == F_CLOSED) && f->lver[win] < f->n) {
            f->verifier = f->lver[win];
            set_bytes(f, &s->verified_by, &s->has_verified_by, mg_author(f, f->lver[win]),
                      SC_KEY_LEN);
        }
    }
    uint32_t reopens = 0;
    for (size_t k = 0; k < f->n && !f->oom; k++) {
        size_t i = f->order[k], w;
        if (f->valid[i] && f->lw[i] && f->lres[i] == F_OPEN && i != f->create &&
            mg_life_status_past(f, i, &w) == F_CLOSED)
            reopens++;
    }
    s->has_reopen_count = true;
    s->reopen_count = reopens;
}

static void state_finding(fold *f, Scpb__EntityState *st, size_t i)
{
    const Scpb__FindingCreate *c = mg_op(f, i)->finding_create;
    Scpb__FindingState *s = new_msg(f, sizeof *s, init_finding);
    size_t *front = mg_alloc(f, f->n, sizeof *front);
    if (!s || !front) {
        sc_free(f->env, s);
        sc_free(f->env, front);
        return;
    }
    st->kind_case = SCPB__ENTITY_STATE__KIND_FINDING;
    st->finding = s;
    copy_bytes(f, &s->inspection, &s->has_inspection, &c->inspection, c->has_inspection);
    copy_bytes(f, &s->target, &s->has_target, &c->target, c->has_target);
    s->item_code = str_dup(f, c->item_code);
    s->has_fixed_on_spot = true;
    s->fixed_on_spot = c->has_fixed_on_spot && c->fixed_on_spot;
    s->has_source = c->has_source;
    s->source = c->source;
    s->has_self_reported = s->self_reported = c->has_self_reported && c->self_reported;
    finding_fields(f, st, s);
    finding_lifecycle(f, st, s, front);
    add_ids(f, &s->evidence, &s->n_evidence, c->evidence, c->n_evidence);
    s->has_revisit_count = true; /* counted by state_revisit */
    mg_gov_state(f, st, s);
    mg_esc_state(f, s);
    sc_free(f->env, front);
}

static void state_rectification_report(fold *f, Scpb__EntityState *st, size_t i)
{
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_FINDING)
        return;
    Scpb__FindingState *s = st->finding;
    const Scpb__RectificationReport *r = mg_op(f, i)->rectification_report;
    add_ids(f, &s->evidence, &s->n_evidence, r->evidence, r->n_evidence);
    /* The last report in fold order names the reporter. */
    sc_free(f->env, s->reported_by.data);
    s->reported_by.data = NULL;
    set_bytes(f, &s->reported_by, &s->has_reported_by, mg_author(f, i), SC_KEY_LEN);
}

static void state_revisit(fold *f, Scpb__EntityState *st, size_t i)
{
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_FINDING)
        return;
    Scpb__FindingState *s = st->finding;
    const Scpb__Revisit *r = mg_op(f, i)->revisit;
    add_ids(f, &s->evidence, &s->n_evidence, r->evidence, r->n_evidence);
    s->revisit_count++;
    s->has_last_revisit = true;
    s->last_revisit = r->result;
    mg_esc_state_revisit(f, s, i);
}

/* A closed finding names its last valid closure in fold order. */
static void state_closure(fold *f, Scpb__EntityState *st, size_t i)
{
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_FINDING || st->finding->status != F_CLOSED)
        return;
    Scpb__FindingState *s = st->finding;
    sc_free(f->env, s->closed_by.data);
    s->closed_by.data = NULL;
    set_bytes(f, &s->closed_by, &s->has_closed_by, mg_author(f, i), SC_KEY_LEN);
    s->has_closed_hlc = true;
    s->closed_hlc = mg_op(f, i)->hlc;
}

/* ---- the whole state ---- */

typedef void (*state_fn)(fold *f, Scpb__EntityState *st, size_t i);

static const state_fn states[] = {
#define SC_OPKIND(CASE, member, name, applies, creates, may, photos, audit, check, fold, server)   \
    FOLD_STATE fold,
#include "opkinds.def"
#undef SC_OPKIND
};

Scpb__EntityState *mg_state_build(fold *f)
{
    Scpb__EntityState *st = new_msg(f, sizeof *st, init_state);
    if (!st)
        return NULL;
    build_common(f, st);
    /* The create op comes first: every other valid op has it in its past. */
    for (size_t k = 0; k < f->n && !f->oom; k++) {
        size_t i = f->order[k];
        size_t pos = sc_opkind_pos(mg_op(f, i)->body_case);
        if (f->valid[i] && pos < sc_opkinds_n && states[pos])
            states[pos](f, st, i);
    }
    if (st->n_photos > 1)
        qsort(st->photos, st->n_photos, sizeof *st->photos, cmp_attachment);
    if (st->n_conflicts > 1)
        qsort(st->conflicts, st->n_conflicts, sizeof *st->conflicts, cmp_conflict);
    return st;
}
