/*
 * merge_esc.c: the fold's rules for escalation, stop-work orders and
 * linked look-backs (DOMAIN.md §4-5, docs/data-model.md §4.3), and what
 * they add to a finding's state.
 *
 * Like every rule of the fold, each op is judged against its own causal
 * past, and the state depends only on the set of ops:
 *  - An escalation (提醒函, 通报, 约谈, 黄牌, 问责) is an append-only fact,
 *    valid on a finding that, in its past, is not closed and is overdue
 *    (the deadline in force there is before the day of the op's HLC) or
 *    relapsing (a reopen, or a failed look-back, is there).  Concurrent
 *    escalations are all kept, in fold order.
 *  - A stop-work order (停工整改) is in force until a lift: a rectified
 *    revisit marked lifts_stop_work, valid only with an order in force in
 *    its past, lifts exactly the orders in its past.  An order concurrent
 *    with a lift is not lifted by it (safety first), and a closure with an
 *    order in force in its past is invalid.
 *  - A look-back revisit that names its round (Revisit.look_back_of) is
 *    listed in the finding's state; which rounds re-check which findings
 *    is the assignments' (syncd checks the names, register_esc.c).
 * Rules allocate through the fold's env and set f->oom on failure.
 */
#include "date.h"
#include "hlc.h"
#include "merge_internal.h"

/* Valid ops of list v in op i's strict causal past. */
static size_t count_in_past(const fold *f, const size_t *v, size_t n, size_t i)
{
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        m += mg_in_past(f, v[k], i);
    return m;
}

/* Is stop-work order o lifted by a valid lift in op i's past? */
static bool lifted_in(const fold *f, size_t o, size_t i)
{
    for (size_t k = 0; k < f->nlifts; k++) {
        size_t l = f->lifts[k];
        if (mg_in_past(f, l, i) && mg_in_past(f, o, l))
            return true;
    }
    return false;
}

bool mg_esc_stop_work_in_past(const fold *f, size_t i)
{
    for (size_t k = 0; k < f->nstopworks; k++)
        if (mg_in_past(f, f->stopworks[k], i) && !lifted_in(f, f->stopworks[k], i))
            return true;
    return false;
}

/* A reopen, or a look-back that found it not rectified, in op i's past. */
static bool relapsed_in_past(const fold *f, size_t i)
{
    for (size_t j = 0; j < f->n; j++) {
        if (!mg_in_past(f, j, i) || !f->valid[j])
            continue;
        const Scpb__Op *op = mg_op(f, j);
        if (op->body_case == SCPB__OP__BODY_REOPEN)
            return true;
        if (op->body_case == SCPB__OP__BODY_REVISIT && op->revisit->has_look_back &&
            op->revisit->look_back &&
            op->revisit->result == SCPB__REVISIT_RESULT__REVISIT_NOT_RECTIFIED)
            return true;
    }
    return false;
}

_Static_assert(SC_GOV_ESCALATIONS_MAX == 32, "the escalation's refusal names 32");
_Static_assert(SC_GOV_STOP_WORK_MAX == 16, "the stop-work order's refusal names 16");

const char *mg_judge_escalation(fold *f, size_t i, int past, size_t winner)
{
    if (past == F_CLOSED)
        return "the finding is closed: there is nothing to escalate";
    if (count_in_past(f, f->escalations, f->nescalations, i) >= SC_GOV_ESCALATIONS_MAX)
        return "a finding is escalated at most 32 times (SC_GOV_ESCALATIONS_MAX)";
    int32_t deadline = 0;
    bool overdue = mg_gov_deadline_in_past(f, i, &deadline) &&
                   sc_date_from_ms(SC_HLC_MS(mg_op(f, i)->hlc)) > deadline;
    if (!overdue && !relapsed_in_past(f, i))
        return "an escalation is for an overdue or relapsing finding: this one is within its "
               "deadline and never relapsed";
    mg_push(f, &f->escalations, &f->nescalations, i);
    return NULL;
}

const char *mg_judge_stop_work(fold *f, size_t i, int past, size_t winner)
{
    if (past == F_CLOSED)
        return "the finding is closed: work is not stopped on a closed finding";
    if (count_in_past(f, f->stopworks, f->nstopworks, i) >= SC_GOV_STOP_WORK_MAX)
        return "a finding takes at most 16 stop-work orders (SC_GOV_STOP_WORK_MAX)";
    mg_push(f, &f->stopworks, &f->nstopworks, i);
    return NULL;
}

const char *mg_esc_judge_lift(const fold *f, size_t i)
{
    return mg_esc_stop_work_in_past(f, i) ? NULL
                                          : "no stop-work order (停工整改) is in force to lift";
}

void mg_esc_record_lift(fold *f, size_t i)
{
    mg_push(f, &f->lifts, &f->nlifts, i);
}

/* ---- the state ---- */

static void init_escalation(void *m)
{
    scpb__escalation_entry__init(m);
}
static void init_order(void *m)
{
    scpb__stop_work_order__init(m);
}
static void init_look_back(void *m)
{
    scpb__look_back_entry__init(m);
}

/* Append a new message to the list *v of *n (NULL and f->oom on failure). */
static void *append(fold *f, void ***v, size_t *n, size_t size, void (*init)(void *))
{
    void **nv = sc_realloc_array(f->env, *v, *n + 1, sizeof *nv);
    void *m = nv ? mg_new_msg(f, size, init) : NULL;
    if (nv)
        *v = nv;
    if (!m) {
        f->oom = true;
        return NULL;
    }
    (*v)[(*n)++] = m;
    return m;
}

static void set_op(fold *f, ProtobufCBinaryData *id, protobuf_c_boolean *has_id,
                   ProtobufCBinaryData *by, protobuf_c_boolean *has_by, size_t i)
{
    mg_set_bytes(f, id, has_id, f->in[i].id, SC_HASH_LEN);
    if (by)
        mg_set_bytes(f, by, has_by, mg_author(f, i), SC_KEY_LEN);
}

void mg_state_escalation(fold *f, Scpb__EntityState *st, size_t i)
{
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_FINDING)
        return;
    Scpb__FindingState *s = st->finding;
    const Scpb__Escalation *b = mg_op(f, i)->escalation;
    Scpb__EscalationEntry *e = append(f, (void ***)&s->escalations, &s->n_escalations, sizeof *e,
                                      init_escalation);
    if (!e)
        return;
    set_op(f, &e->op, &e->has_op, &e->by, &e->has_by, i);
    e->has_hlc = true;
    e->hlc = mg_op(f, i)->hlc;
    e->has_step = true;
    e->step = b->step;
    e->has_level = true;
    e->level = b->level;
    e->reason = mg_str_dup(f, b->reason);
    if (b->n_evidence == 0)
        return;
    e->evidence = mg_alloc(f, b->n_evidence, sizeof *e->evidence);
    for (size_t k = 0; e->evidence && k < b->n_evidence; k++) {
        protobuf_c_boolean has;
        if (!mg_set_bytes(f, &e->evidence[k], &has, b->evidence[k].data, SC_HASH_LEN))
            return;
        e->n_evidence++;
    }
}

/* A look-back revisit that names its round. */
void mg_esc_state_revisit(fold *f, Scpb__FindingState *s, size_t i)
{
    const Scpb__Revisit *r = mg_op(f, i)->revisit;
    if (!r->has_look_back_of)
        return;
    Scpb__LookBackEntry *e =
        append(f, (void ***)&s->look_backs, &s->n_look_backs, sizeof *e, init_look_back);
    if (!e)
        return;
    set_op(f, &e->op, &e->has_op, NULL, NULL, i);
    mg_set_bytes(f, &e->assignment, &e->has_assignment, r->look_back_of.data, SC_ID_LEN);
    e->has_result = true;
    e->result = r->result;
    e->has_hlc = true;
    e->hlc = mg_op(f, i)->hlc;
}

/* The stop-work orders, each with the first lift in fold order that has it in its past. */
void mg_esc_state(fold *f, Scpb__FindingState *s)
{
    for (size_t k = 0; k < f->nstopworks && !f->oom; k++) {
        size_t o = f->stopworks[k];
        Scpb__StopWorkOrder *e =
            append(f, (void ***)&s->stop_work, &s->n_stop_work, sizeof *e, init_order);
        if (!e)
            return;
        set_op(f, &e->op, &e->has_op, &e->by, &e->has_by, o);
        e->has_hlc = true;
        e->hlc = mg_op(f, o)->hlc;
        e->reason = mg_str_dup(f, mg_op(f, o)->stop_work->reason);
        for (size_t m = 0; m < f->nlifts; m++) {
            size_t l = f->lifts[m];
            if (!mg_in_past(f, o, l))
                continue;
            set_op(f, &e->lifted_op, &e->has_lifted_op, &e->lifted_by, &e->has_lifted_by, l);
            e->has_lifted_hlc = true;
            e->lifted_hlc = mg_op(f, l)->hlc;
            break;
        }
        if (!e->has_lifted_op) {
            s->has_stop_work_in_force = true;
            s->stop_work_in_force = true;
        }
    }
}
