/*
 * register_notify.c: the register's side of webhooks (docs/operations.md,
 * "Webhooks"): which events happen, their payloads, and queueing them in
 * the store's notify table, one row per event and configured hook.
 *
 * Events come from what changed, not from op kinds: a write transaction
 * remembers, for each entity an op changes, what events had told of it
 * (sd_notify_note), and when the rows are written (sd_notify_flush)
 * compares that with the entity's new state.  A finding graded major is a
 * finding.major_hazard, a status that becomes closed a finding.closed, each
 * new valid escalation a finding.escalated, more open conflicts than before
 * a conflict.raised.  The rows are put in the transaction that logs the op,
 * so an event is queued exactly when its op is committed: a crash never
 * loses one nor invents one.  finding.overdue comes from the overdue scan
 * (sd_register_notify_scan), which no op triggers.
 *
 * Unannounced checks (docs/security.md, "Webhooks"): nothing is told of an
 * inspection or of a finding made in one until the inspection is submitted
 * (released).  Until then it is not "shown": its events wait, and the
 * submission tells what happened meanwhile (a major hazard, an escalation)
 * as if it happened then.  Events of a secret assignment are never sent.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/metrics.h"
#include "core/date.h"
#include "core/names.h"
#include "core/state.h"
#include "register_internal.h"

#define DEDUPE_MAX 160

/* May an event name this entity (see the top of the file)? */
static bool nt_shown(const sd_entity_row *row)
{
    if (row->vis_class == SD_VIS_ASSIGNMENT_SECRET)
        return false;
    if ((row->vis_class == SD_VIS_INSPECTION || row->vis_class == SD_VIS_SELF_CHECK) &&
        !row->released)
        return false;
    return true;
}

static void nt_sum(const Scpb__EntityState *st, const sd_entity_row *row, sd_nsum *out)
{
    memset(out, 0, sizeof *out);
    if (!st)
        return;
    out->shown = nt_shown(row);
    out->conflicts = st->voided ? 0 : (uint32_t)st->n_conflicts;
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING && st->finding) {
        out->finding = true;
        out->status = (int)st->finding->status;
        out->grade = (int)st->finding->grade;
        out->escalations = (uint32_t)st->finding->n_escalations;
    }
}

/* ---- payloads ---- */

/* What one event says. */
typedef struct nt_event {
    unsigned kind;                     /* sd_event_kind */
    const uint8_t *entity;             /* SC_ID_LEN */
    int type;                          /* Scpb__EntityType */
    const Scpb__EntityState *st;       /* its state */
    const char *dedupe;
    int32_t days_overdue;              /* finding.overdue */
    const Scpb__EscalationEntry *esc;  /* finding.escalated */
    uint32_t conflicts;                /* conflict.raised */
} nt_event;

static void put_hex(json_t *o, const char *key, const ProtobufCBinaryData *b)
{
    if (b->len != SC_ID_LEN)
        return;
    char hex[2 * SC_ID_LEN + 1];
    sd_hex_id(b->data, b->len, hex, sizeof hex);
    json_object_set_new(o, key, json_string(hex));
}

static void put_name(json_t *o, const char *key, const sc_names *t, int v)
{
    const char *n = sc_name_of(t, v);
    if (n)
        json_object_set_new(o, key, json_string(n));
}

/* The finding's own fields: ids, grade, status, deadline.  No free text. */
static void put_finding(json_t *o, const Scpb__FindingState *f)
{
    put_hex(o, "target", &f->target);
    if (f->inspection.len)
        put_hex(o, "inspection", &f->inspection);
    put_name(o, "grade", &sc_names_grade, (int)f->grade);
    put_name(o, "status", &sc_names_finding_status, (int)f->status);
    if (f->has_deadline_day) {
        char day[11];
        sc_date_format(f->deadline_day, day);
        json_object_set_new(o, "deadline", json_string(day));
    }
}

#define RFC3339_MAX 48

static void rfc3339(int64_t ms, char out[RFC3339_MAX])
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, RFC3339_MAX, "%s.%03dZ", day, (int)(ms % 1000));
}

/* The JSON payload of ev (malloc'd; free()), or NULL when out of memory. */
static char *nt_body(const sd_register *r, const nt_event *ev, const char *event_id, int64_t now)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    char when[RFC3339_MAX], hex[2 * SC_ID_LEN + 1];
    rfc3339(now, when);
    sd_hex_id(ev->entity, SC_ID_LEN, hex, sizeof hex);
    json_object_set_new(o, "id", json_string(event_id));
    json_object_set_new(o, "type", json_string(sd_event_name(ev->kind)));
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "time_ms", json_integer(now));
    json_object_set_new(o, "register", json_string(r->origin));
    json_object_set_new(o, "entity", json_string(hex));
    put_name(o, "entity_type", &sc_names_entity_type, ev->type);
    if (ev->st && ev->st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING && ev->st->finding) {
        json_object_set_new(o, "finding", json_string(hex));
        put_finding(o, ev->st->finding);
    }
    if (ev->kind == SD_EVENT_OVERDUE)
        json_object_set_new(o, "days_overdue", json_integer(ev->days_overdue));
    if (ev->esc) {
        put_name(o, "step", &sc_names_escalation_step, (int)ev->esc->step);
        put_name(o, "level", &sc_names_org_level, (int)ev->esc->level);
    }
    if (ev->kind == SD_EVENT_CONFLICT)
        json_object_set_new(o, "conflicts", json_integer(ev->conflicts));
    char *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

/*
 * Queue ev for every hook that takes its kind: pending, or dropped when
 * notify.queue_max deliveries already wait for that hook.  The cap is each
 * hook's own: a receiver that is down (or a flood of the events one hook
 * takes) fills its hook's queue, never another's.  *queued and *dropped
 * count the rows added (none when the (dedupe, hook) rows exist).
 */
static sc_status nt_queue(sd_register *r, sd_store *s, const nt_event *ev, int64_t now,
                          uint64_t *queued, uint64_t *dropped, sc_err *err)
{
    const sd_config *cfg = &r->cfg;
    uint8_t raw[16];
    char event_id[33];
    sc_env_random(&r->env, raw, sizeof raw);
    sd_hex_id(raw, sizeof raw, event_id, sizeof event_id);
    char *body = NULL;
    sc_status rc = SC_OK;
    for (unsigned i = 0; i < cfg->n_hooks && rc == SC_OK; i++) {
        const sd_hook *h = &cfg->hooks[i];
        if (!(h->events & ev->kind))
            continue;
        if (!body && !(body = nt_body(r, ev, event_id, now)))
            return sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
        uint64_t pending = 0;
        if ((rc = s->vt->notify_pending(s, h->name, &pending, err)) != SC_OK)
            break;
        sd_notify_row row;
        memset(&row, 0, sizeof row);
        memcpy(row.event, event_id, sizeof row.event);
        snprintf(row.hook, sizeof row.hook, "%s", h->name);
        snprintf(row.type, sizeof row.type, "%s", sd_event_name(ev->kind));
        row.dedupe = ev->dedupe;
        row.body = body;
        row.created_ms = now;
        bool full = pending >= cfg->notify_queue_max;
        row.state = full ? SD_NOTIFY_DROPPED : SD_NOTIFY_PENDING;
        row.next_ms = now;
        row.done_ms = full ? now : 0;
        bool added = false;
        rc = s->vt->notify_put(s, &row, &added, err);
        if (rc == SC_OK && added)
            (*(full ? dropped : queued))++;
    }
    free(body);
    return rc;
}

/* ---- events of a write transaction ---- */

void sd_notify_note(sd_txn *t, sd_ent *e)
{
    if (!t->r->cfg.n_hooks || e->nt_taken)
        return;
    e->nt_taken = true;
    memset(&e->nt_before, 0, sizeof e->nt_before);
    if (e->exists)
        nt_sum(sd_ent_state(t, e), &e->row, &e->nt_before);
}

void sd_notify_released(sd_txn *t, const uint8_t id[SC_ID_LEN])
{
    if (!t->r->cfg.n_hooks)
        return;
    sd_ent *e = sd_ent_get(t, id);
    if (e && !e->nt_taken) {
        e->nt_taken = true;
        memset(&e->nt_before, 0, sizeof e->nt_before);
    }
}

static void op_hex(const ProtobufCBinaryData *b, char *out, size_t cap)
{
    sd_hex_id(b->data, b->len <= SC_HASH_LEN ? b->len : SC_HASH_LEN, out, cap);
}

/* The events between what was told of e (b) and its state now (a). */
static sc_status nt_diff(sd_txn *t, const sd_ent *e, const Scpb__EntityState *st,
                         const sd_nsum *b, const sd_nsum *a)
{
    char id[2 * SC_ID_LEN + 1], op[2 * SC_HASH_LEN + 1], dedupe[DEDUPE_MAX];
    sd_hex_id(e->id, SC_ID_LEN, id, sizeof id);
    nt_event ev = {.entity = e->id, .type = e->row.type, .st = st, .dedupe = dedupe};
    sc_status rc = SC_OK;
    uint64_t *q = &t->nt_queued, *d = &t->nt_dropped;
    if (a->finding && a->grade == SCPB__GRADE__GRADE_MAJOR &&
        !(b->shown && b->grade == SCPB__GRADE__GRADE_MAJOR)) {
        ev.kind = SD_EVENT_MAJOR;
        snprintf(dedupe, sizeof dedupe, "major:%s", id);
        rc = nt_queue(t->r, t->s, &ev, t->now, q, d, t->err);
    }
    if (rc == SC_OK && a->finding && a->status == SCPB__FINDING_STATUS__FINDING_CLOSED &&
        !(b->shown && b->status == SCPB__FINDING_STATUS__FINDING_CLOSED)) {
        ev.kind = SD_EVENT_CLOSED;
        op_hex(&st->finding->status_op, op, sizeof op);
        snprintf(dedupe, sizeof dedupe, "closed:%s:%s", id, op);
        rc = nt_queue(t->r, t->s, &ev, t->now, q, d, t->err);
    }
    for (uint32_t i = b->shown ? b->escalations : 0; rc == SC_OK && a->finding && i < a->escalations;
         i++) {
        ev.kind = SD_EVENT_ESCALATION;
        ev.esc = st->finding->escalations[i];
        op_hex(&ev.esc->op, op, sizeof op);
        snprintf(dedupe, sizeof dedupe, "escalated:%s:%s", id, op);
        rc = nt_queue(t->r, t->s, &ev, t->now, q, d, t->err);
    }
    ev.esc = NULL;
    if (rc == SC_OK && a->conflicts > (b->shown ? b->conflicts : 0)) {
        ev.kind = SD_EVENT_CONFLICT;
        ev.conflicts = a->conflicts;
        snprintf(dedupe, sizeof dedupe, "conflict:%s:%llu", id, (unsigned long long)e->row.last_idx);
        rc = nt_queue(t->r, t->s, &ev, t->now, q, d, t->err);
    }
    return rc;
}

sc_status sd_notify_flush(sd_txn *t)
{
    if (!t->r->cfg.n_hooks)
        return t->rc;
    for (size_t i = 0; i < t->nall && t->rc == SC_OK; i++) {
        sd_ent *e = t->all[i];
        if (!e->nt_taken || !e->exists)
            continue;
        const Scpb__EntityState *st = sd_ent_state(t, e);
        if (!st)
            return t->rc;
        sd_nsum now;
        nt_sum(st, &e->row, &now);
        if (!now.shown)
            continue; /* told nothing yet: nt_before stays as it was */
        sc_status rc = nt_diff(t, e, st, &e->nt_before, &now);
        if (rc != SC_OK)
            return sd_txn_fail(t, rc);
        e->nt_before = now;
    }
    return t->rc;
}

/* ---- the overdue scan ---- */

/* One short write transaction on the writer connection, running fn(s, arg). */
static sc_status in_write(sd_register *r, sc_status (*fn)(sd_store *s, void *arg, sc_err *err),
                          void *arg, sc_err *err)
{
    pthread_mutex_lock(&r->wmu);
    sd_store *s = r->writer.s;
    sc_status rc = s->vt->begin(s, true, err);
    if (rc == SC_OK)
        rc = fn(s, arg, err);
    if (rc == SC_OK)
        rc = s->vt->commit(s, err);
    else
        s->vt->rollback(s);
    pthread_mutex_unlock(&r->wmu);
    return rc;
}


/* Overdue findings found by a scan that no event has told of yet in this process. */
typedef struct nt_due {
    uint8_t id[SC_ID_LEN];
    int32_t deadline;
} nt_due;

typedef struct scan_ctx {
    sd_register *r;
    int64_t now;
    int32_t today;
    sd_finding_stats *st;
    nt_due *due;
    size_t n, cap;
    sc_status rc;
    sc_err *err;
} scan_ctx;

/* The value the map of told findings keeps for a deadline: never NULL. */
static void *told_value(int32_t deadline)
{
    return (void *)(uintptr_t)((uint64_t)(uint32_t)deadline + 1);
}

static bool scan_due(scan_ctx *c, const uint8_t id[SC_ID_LEN], int32_t deadline)
{
    void **slot = sd_idmap_find(&c->r->nt_told, id);
    if (slot && *slot == told_value(deadline))
        return true;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        nt_due *v = realloc(c->due, cap * sizeof *v);
        if (!v) {
            c->rc = sc_err_set(c->err, SC_ERR_NOMEM, 0, "register: out of memory");
            return false;
        }
        c->due = v;
        c->cap = cap;
    }
    memcpy(c->due[c->n].id, id, SC_ID_LEN);
    c->due[c->n++].deadline = deadline;
    return true;
}

static bool scan_finding(void *ctx, const sd_entity_row *row)
{
    scan_ctx *c = ctx;
    Scpb__EntityState *st = NULL;
    c->rc = sd_decode_state(&c->r->env, row->state, row->state_len, &st, c->err);
    if (c->rc != SC_OK)
        return false;
    bool go = true;
    const Scpb__FindingState *f = st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING ? st->finding : NULL;
    if (f && !st->voided) {
        if (f->status != SCPB__FINDING_STATUS__FINDING_CLOSED) {
            if (f->grade == SCPB__GRADE__GRADE_MAJOR)
                c->st->open_major++;
            else if (f->grade == SCPB__GRADE__GRADE_GENERAL)
                c->st->open_general++;
            else
                c->st->open_other++;
        }
        c->st->escalations += f->n_escalations;
    }
    if (f && sc_finding_overdue(st, c->today)) {
        c->st->overdue++;
        /* Overdue from the first moment of the day after its deadline (UTC). */
        int64_t since_s = (c->now - ((int64_t)f->deadline_day + 1) * 86400000) / 1000;
        if (since_s > c->st->oldest_overdue_s)
            c->st->oldest_overdue_s = since_s;
        if (c->r->cfg.n_hooks && nt_shown(row))
            go = scan_due(c, row->id, f->deadline_day);
    }
    sd_state_free(st);
    return go;
}

/* Due findings queued per write transaction: the register's write lock is held that long. */
#define OVERDUE_BATCH 256

/* A batch of due findings to queue finding.overdue for, as the writer sees them now. */
typedef struct overdue_args {
    sd_register *r;
    const nt_due *due;
    size_t n;
    int64_t now;
    uint64_t *queued, *dropped;
} overdue_args;

static sc_status do_overdue(sd_store *s, void *arg, sc_err *err)
{
    overdue_args *a = arg;
    int32_t today = sc_date_from_ms(a->now);
    sc_status rc = SC_OK;
    for (size_t i = 0; i < a->n && rc == SC_OK; i++) {
        const nt_due *d = &a->due[i];
        sd_entity_row row;
        memset(&row, 0, sizeof row);
        rc = s->vt->entity_get(s, d->id, true, &row, err);
        Scpb__EntityState *st = NULL;
        if (rc == SC_OK)
            rc = sd_decode_state(&a->r->env, row.state, row.state_len, &st, err);
        if (rc == SC_OK && nt_shown(&row) && sc_finding_overdue(st, today) &&
            st->finding->deadline_day == d->deadline) {
            char id[2 * SC_ID_LEN + 1], dedupe[DEDUPE_MAX];
            sd_hex_id(d->id, SC_ID_LEN, id, sizeof id);
            snprintf(dedupe, sizeof dedupe, "overdue:%s:%ld", id, (long)d->deadline);
            nt_event ev = {.kind = SD_EVENT_OVERDUE,
                           .entity = d->id,
                           .type = row.type,
                           .st = st,
                           .dedupe = dedupe,
                           .days_overdue = today - d->deadline};
            rc = nt_queue(a->r, s, &ev, a->now, a->queued, a->dropped, err);
        }
        sd_state_free(st);
        free(row.state);
    }
    return rc;
}

sc_status sd_register_notify_scan(sd_register *r, int64_t now_ms, sd_finding_stats *st,
                                  sc_err *err)
{
    memset(st, 0, sizeof *st);
    scan_ctx c = {.r = r, .now = now_ms, .today = sc_date_from_ms(now_ms), .st = st, .err = err};
    sd_conn *conn = NULL;
    sc_status rc = sd_pool_get(r, &conn, err);
    if (rc != SC_OK)
        return rc;
    rc = conn->s->vt->entity_type_scan(conn->s, T_(FINDING), scan_finding, &c, err);
    sd_pool_put(r, conn);
    if (rc == SC_OK)
        rc = c.rc;
    uint64_t queued = 0, dropped = 0;
    for (size_t i = 0; rc == SC_OK && i < c.n; i += OVERDUE_BATCH) {
        size_t k = c.n - i < OVERDUE_BATCH ? c.n - i : OVERDUE_BATCH;
        overdue_args a = {r, c.due + i, k, now_ms, &queued, &dropped};
        rc = in_write(r, do_overdue, &a, err);
        /* Told (or dropped, or found no longer due): not looked at again for this deadline. */
        for (size_t j = i; rc == SC_OK && j < i + k; j++)
            if (!sd_idmap_put(&r->nt_told, c.due[j].id, told_value(c.due[j].deadline)))
                break; /* only costs a second look next time */
    }
    free(c.due);
    sd_metrics_webhook_queued(queued, dropped);
    return rc;
}

/* ---- deliveries ---- */

typedef struct claim_args {
    const char *hook;
    int64_t now, lease;
    unsigned limit;
    sd_notify_fn fn;
    void *ctx;
} claim_args;

static sc_status do_claim(sd_store *s, void *arg, sc_err *err)
{
    claim_args *a = arg;
    return s->vt->notify_claim(s, a->hook, a->now, a->lease, a->limit, a->fn, a->ctx, err);
}

sc_status sd_register_notify_claim(sd_register *r, const char *hook, int64_t now_ms,
                                   int64_t lease_ms, unsigned limit, sd_notify_fn fn, void *ctx,
                                   sc_err *err)
{
    claim_args a = {hook, now_ms, lease_ms, limit, fn, ctx};
    return in_write(r, do_claim, &a, err);
}

sc_status sd_register_notify_hooks(sd_register *r, sd_name_fn fn, void *ctx, sc_err *err)
{
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    rc = c->s->vt->notify_hooks(c->s, fn, ctx, err);
    sd_pool_put(r, c);
    return rc;
}

sc_status sd_register_notify_due(sd_register *r, const char *hook, int64_t now_ms, bool *due,
                                 sc_err *err)
{
    *due = false;
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    rc = c->s->vt->notify_due(c->s, hook, now_ms, due, err);
    sd_pool_put(r, c);
    return rc;
}

typedef struct finish_args {
    const sd_notify_row *row;
} finish_args;

static sc_status do_finish(sd_store *s, void *arg, sc_err *err)
{
    return s->vt->notify_finish(s, ((finish_args *)arg)->row, err);
}

sc_status sd_register_notify_finish(sd_register *r, const sd_notify_row *row, sc_err *err)
{
    finish_args a = {row};
    return in_write(r, do_finish, &a, err);
}

sc_status sd_register_notify_list(sd_register *r, sd_notify_fn fn, void *ctx, sc_err *err)
{
    sd_conn *c = NULL;
    sc_status rc = sd_pool_get(r, &c, err);
    if (rc != SC_OK)
        return rc;
    rc = c->s->vt->notify_scan(c->s, fn, ctx, err);
    sd_pool_put(r, c);
    return rc;
}

typedef struct retry_args {
    int64_t id, now;
    int state;
    uint64_t *n;
} retry_args;

static sc_status do_retry(sd_store *s, void *arg, sc_err *err)
{
    retry_args *a = arg;
    return s->vt->notify_retry(s, a->id, a->state, a->now, a->n, err);
}

sc_status sd_register_notify_retry(sd_register *r, int64_t id, int state, uint64_t *n,
                                   sc_err *err)
{
    retry_args a = {id, sc_env_now_ms(&r->env), state, n};
    return in_write(r, do_retry, &a, err);
}
