/*
 * merge_gov.c: the fold's rules for rectification governance (DOMAIN.md §4,
 * docs/data-model.md §4): the notice (限期整改通知), sign-for (签收), the
 * rectification plan (整改方案) and its return, deadline extensions (延期),
 * a supervisor's deadline change, acceptance (验收) of major hazards, and
 * the GovernanceState they give a finding.
 *
 * Like every rule of the fold, each op is judged against its own causal
 * past, and the final state depends only on the set of ops:
 *  - The notice writes the responsible-unit and deadline registers.  Once a
 *    notice is in an op's past, a deadline moves only by an approved
 *    extension or a supervisor's change, never by an edit or a resolve.
 *  - A plan writes the FIELD_PLAN register (its op id): the plan in effect
 *    is the register's value, concurrent plans conflict until a later plan
 *    has seen both.  A return names the plan in effect in its own past; a
 *    plan filed concurrently with the return is not returned.
 *  - An extension request's outcome is decided by the decisions naming it
 *    that no other such decision has in its past: any rejection among them
 *    wins (the deadline stays, the safer outcome), and an approval with a
 *    concurrent rejection raises a FIELD_EXTENSION conflict until a later
 *    decision that has seen both settles it.  An approval writes the
 *    request's date to the deadline register, and that write counts only
 *    while the request's outcome, in the scope looked at, is approved.
 *  - The deadline history records the deadline in force after each op in
 *    fold order that could change it, so "overdue" can be counted against
 *    the deadline in force at the time (governance.c).
 *  - A major hazard under these rules (created with them, or with a notice
 *    in the closure's past) closes only on an acceptance revisit by a user
 *    of an org unit above the responsible one, and its reporter, acceptor
 *    and closer are three different people (users, not devices).
 *
 * Rules read the registers of merge_rules.c through scopes (a causal past,
 * a prefix of fold order, or everything); they allocate through the fold's
 * env and set f->oom on failure, like the rest of the fold.
 */
#include <string.h>

#include "date.h"
#include "governance.h"
#include "ids.h"
#include "merge_internal.h"

/* ---- which ops a rule looks at ---- */

typedef struct scope {
    size_t past_of; /* an op: its strict causal past; f->n: the fold-order prefix below */
    size_t upto;    /* with past_of == f->n: the ops of fold rank <= upto */
} scope;

static scope past_scope(size_t i)
{
    return (scope){i, 0};
}

static scope prefix_scope(const fold *f, size_t rank)
{
    return (scope){f->n, rank};
}

static scope all_scope(const fold *f)
{
    return (scope){f->n, SIZE_MAX};
}

static bool in_scope(const fold *f, const scope *s, size_t op)
{
    if (s->past_of < f->n)
        return mg_in_past(f, op, s->past_of);
    return f->rank[op] <= s->upto;
}

/* The first op of list v (valid ops, in fold order) in scope s, or f->n. */
static size_t first_in(const fold *f, const size_t *v, size_t n, const scope *s)
{
    for (size_t k = 0; k < n; k++)
        if (in_scope(f, s, v[k]))
            return v[k];
    return f->n;
}

static Scpb__Op__BodyCase kind_of(const fold *f, size_t i)
{
    return mg_op(f, i)->body_case;
}

bool mg_gov_notice_in_past(const fold *f, size_t i)
{
    scope s = past_scope(i);
    return first_in(f, f->notices, f->nnotices, &s) < f->n;
}

/* Findings created under these rules, or with a notice in op i's past. */
static bool governed(const fold *f, size_t i)
{
    const Scpb__FindingCreate *c =
        f->create < f->n && kind_of(f, f->create) == SCPB__OP__BODY_FINDING_CREATE
            ? mg_op(f, f->create)->finding_create
            : NULL;
    return (c && c->has_rules && c->rules >= SC_GOV_RULES) || mg_gov_notice_in_past(f, i);
}

/* ---- extension outcomes ---- */

typedef struct outcome {
    Scpb__ExtensionStatus status;
    size_t approve, reject; /* the last approving and rejecting decisions in effect, or f->n */
} outcome;

/* The request an extension decision names (f->n when it is not an op of the entity). */
static size_t request_of(const fold *f, size_t d)
{
    return mg_find_id(f, mg_op(f, d)->extension_decision->request.data);
}

/* OR op's strict causal past into the bit set below. */
static void add_past(const fold *f, uint64_t *below, size_t op)
{
    const uint64_t *row = mg_row(f, op);
    for (size_t w = 0; w < f->words; w++)
        below[w] |= row[w] & (w == op >> 6 ? ~(UINT64_C(1) << (op & 63)) : ~UINT64_C(0));
}

/*
 * The outcome of request req among the decisions on it in scope s: those
 * no other of them has in its past are in effect, and a rejection among
 * them wins.  The decisions' requests are known (f->dreq), so this costs
 * the decisions of the fold plus those of req times the closure's width.
 */
static void ext_outcome(fold *f, size_t req, const scope *s, outcome *o)
{
    o->approve = o->reject = f->n;
    size_t m = 0;
    for (size_t a = 0; a < f->ndecisions; a++)
        m += f->dreq[a] == req && in_scope(f, s, f->decisions[a]);
    uint64_t *below = m > 1 ? mg_alloc(f, f->words, sizeof *below) : NULL;
    for (size_t a = 0; below && a < f->ndecisions; a++)
        if (f->dreq[a] == req && in_scope(f, s, f->decisions[a]))
            add_past(f, below, f->decisions[a]);
    for (size_t a = 0; a < f->ndecisions && !(m > 1 && !below); a++) {
        size_t d = f->decisions[a];
        if (f->dreq[a] != req || !in_scope(f, s, d) || (below && BIT(below, d)))
            continue;
        if (mg_op(f, d)->extension_decision->approve)
            o->approve = d;
        else
            o->reject = d;
    }
    sc_free(f->env, below);
    o->status = o->reject < f->n    ? SCPB__EXTENSION_STATUS__EXTENSION_REJECTED
                : o->approve < f->n ? SCPB__EXTENSION_STATUS__EXTENSION_APPROVED
                                    : SCPB__EXTENSION_STATUS__EXTENSION_PENDING;
}

/*
 * A deadline write that does not count in scope s: an approval its
 * request's outcome overrules.  memo (n entries, zeroed for the scope)
 * keeps each request's outcome once asked: 1 approved, 2 not.
 */
static bool overruled_in(fold *f, size_t op, const scope *s, uint8_t *memo)
{
    if (kind_of(f, op) != SCPB__OP__BODY_EXTENSION_DECISION ||
        !mg_op(f, op)->extension_decision->approve)
        return false;
    size_t req = request_of(f, op);
    if (req == f->n)
        return true;
    if (!memo[req]) {
        outcome o;
        ext_outcome(f, req, s, &o);
        memo[req] = o.status == SCPB__EXTENSION_STATUS__EXTENSION_APPROVED ? 1 : 2;
    }
    return memo[req] == 2;
}

bool mg_gov_overruled(const fold *cf, size_t op)
{
    /* The register's keep callback holds the fold as const; the memo is the fold's own. */
    fold *f = (fold *)(uintptr_t)cf;
    if (kind_of(f, op) != SCPB__OP__BODY_EXTENSION_DECISION)
        return false;
    if (!f->outcome_memo && !(f->outcome_memo = mg_alloc(f, f->n, sizeof *f->outcome_memo)))
        return false; /* f->oom: the fold fails */
    scope s = all_scope(f);
    return overruled_in(f, op, &s, f->outcome_memo);
}

/* ---- registers within a scope ---- */

/*
 * The write in effect of register r among its writes in scope s that count
 * there: the last in fold order of those no other counted one has in its
 * past.  r->n when none (or out of memory).
 */
static size_t reg_in_scope(fold *f, const reg *r, const scope *s)
{
    uint64_t *below = mg_alloc(f, f->words, sizeof *below);
    uint8_t *memo = mg_alloc(f, f->n, sizeof *memo);
    size_t best = r->n;
    if (!below || !memo)
        goto done;
    for (size_t k = 0; k < r->n; k++) {
        size_t op = r->w[k].op;
        if (in_scope(f, s, op) && !overruled_in(f, op, s, memo))
            add_past(f, below, op);
    }
    for (size_t k = 0; k < r->n; k++) {
        size_t op = r->w[k].op;
        if (!in_scope(f, s, op) || BIT(below, op) || overruled_in(f, op, s, memo))
            continue;
        if (best == r->n || f->rank[op] > f->rank[r->w[best].op])
            best = k;
    }
done:
    sc_free(f->env, below);
    sc_free(f->env, memo);
    return best;
}

/* The deadline in force in scope s: false when there is none. */
static bool deadline_in(fold *f, const scope *s, int32_t *day)
{
    const reg *r = mg_reg_find(f, SCPB__FIELD__FIELD_DEADLINE);
    size_t w = r ? reg_in_scope(f, r, s) : 0;
    if (!r || w == r->n)
        return false;
    const char *v = r->w[w].text;
    return v[0] && sc_date_parse(v, strlen(v), day) == SC_OK;
}

bool mg_gov_deadline_in_past(fold *f, size_t i, int32_t *day)
{
    scope s = past_scope(i);
    return deadline_in(f, &s, day);
}

/* ---- acceptance (验收) ---- */

/*
 * Does op i's author belong to an org unit above `unit` (strictly)?  Where
 * people sit is told by users (core/merge.h); when it cannot tell (no map,
 * a key or org unit this replica does not know yet), the answer is yes:
 * syncd judges with the whole register, so a replica can only be more
 * lenient than it, never refuse a logged op.
 */
static bool above_unit(fold *f, size_t i, const uint8_t unit[SC_ID_LEN])
{
    const sc_users *u = f->users;
    uint8_t user[SC_ID_LEN], org[SC_ID_LEN], at[SC_ID_LEN], parent[SC_ID_LEN];
    if (!u || !u->org_of || !u->parent_of || !mg_user_of(f, i, user) || f->users_rc != SC_OK)
        return true;
    sc_status rc = u->org_of(u->ctx, user, org);
    if (rc != SC_OK) {
        if (rc != SC_ERR_NOT_FOUND)
            f->users_rc = rc;
        return true;
    }
    memcpy(at, unit, SC_ID_LEN);
    for (int depth = 0; depth < SC_ORG_DEPTH_MAX; depth++) {
        bool has = false;
        rc = u->parent_of(u->ctx, at, parent, &has);
        if (rc != SC_OK) {
            if (rc != SC_ERR_NOT_FOUND)
                f->users_rc = rc;
            return true;
        }
        if (!has)
            return false;
        if (memcmp(parent, org, SC_ID_LEN) == 0)
            return true;
        memcpy(at, parent, SC_ID_LEN);
    }
    return false;
}

/* Some rectification report (or fixed-on-the-spot creation) in op i's past is by i's author. */
static bool reported_by_same(fold *f, size_t i)
{
    for (size_t k = 0; k < f->nreports; k++)
        if (mg_in_past(f, f->reports[k], i) && mg_same_person(f, f->reports[k], i))
            return true;
    return false;
}

const char *mg_gov_judge_acceptance(fold *f, size_t i)
{
    const reg *r = mg_reg_find(f, SCPB__FIELD__FIELD_RESPONSIBLE);
    scope s = past_scope(i);
    size_t w = r ? reg_in_scope(f, r, &s) : 0;
    uint8_t unit[SC_ID_LEN];
    if (!r || w == r->n || !r->w[w].text[0] ||
        sc_hex_decode(r->w[w].text, strlen(r->w[w].text), unit, SC_ID_LEN) != SC_OK)
        return "an acceptance (验收) needs the finding's responsible unit";
    if (!above_unit(f, i, unit))
        return "an acceptance (验收) is made by a user of an org unit above the responsible unit";
    if (reported_by_same(f, i))
        return "the acceptor must be someone other than the reporter";
    return NULL;
}

static bool is_acceptance(const fold *f, size_t v)
{
    const Scpb__Op *op = mg_op(f, v);
    return op->body_case == SCPB__OP__BODY_REVISIT && op->revisit->has_acceptance &&
           op->revisit->acceptance;
}

const char *mg_gov_judge_closure(fold *f, size_t i, size_t v)
{
    if (!governed(f, i))
        return NULL;
    if (!is_acceptance(f, v))
        return "closing a major hazard needs an acceptance (验收) by a user of an org unit above "
               "the responsible unit";
    if (mg_same_person(f, i, v))
        return "the closer must be someone other than the acceptor";
    if (reported_by_same(f, i))
        return "the closer must be someone other than the reporter";
    return NULL;
}

/* ---- the kinds' rules (judge and record hooks of opkinds.def) ---- */

_Static_assert(SC_GOV_EXTENSIONS_MAX == 32, "the extension request's refusal names 32");

const char *mg_judge_notice(fold *f, size_t i, int past, size_t winner)
{
    const Scpb__Notice *n = mg_op(f, i)->notice;
    if (mg_gov_notice_in_past(f, i))
        return "the notice was already issued: its deadline moves by an extension or a "
               "supervisor's change";
    if (past == F_CLOSED)
        return "a closed finding needs no notice";
    if (mg_grade_in_past(f, i) == SCPB__GRADE__GRADE_MAJOR &&
        ((n->has_responsible_defaulted && n->responsible_defaulted) ||
         (n->has_deadline_defaulted && n->deadline_defaulted)))
        return "a major hazard's notice names its responsible unit and its deadline: they are "
               "never defaulted";
    mg_push(f, &f->notices, &f->nnotices, i);
    return NULL;
}

void mg_record_notice(fold *f, size_t i)
{
    const Scpb__Notice *n = mg_op(f, i)->notice;
    mg_hex_write(f, SCPB__FIELD__FIELD_RESPONSIBLE, i, &n->responsible, n->has_responsible);
    mg_day_write(f, SCPB__FIELD__FIELD_DEADLINE, i, n->deadline_day, n->has_deadline_day);
}

const char *mg_judge_sign_for(fold *f, size_t i, int past, size_t winner)
{
    scope s = past_scope(i);
    if (!mg_gov_notice_in_past(f, i))
        return "sign-for (签收) answers a notice, and none was issued";
    if (past == F_CLOSED)
        return "the finding is closed";
    if (first_in(f, f->signfors, f->nsignfors, &s) < f->n)
        return "the notice was already signed for";
    mg_push(f, &f->signfors, &f->nsignfors, i);
    return NULL;
}

const char *mg_judge_plan(fold *f, size_t i, int past, size_t winner)
{
    if (!mg_gov_notice_in_past(f, i))
        return "a rectification plan (整改方案) answers a notice, and none was issued";
    if (past == F_CLOSED)
        return "the finding is closed";
    if (mg_grade_in_past(f, i) == SCPB__GRADE__GRADE_MAJOR) {
        unsigned missing = sc_gov_plan_missing(mg_op(f, i)->plan);
        if (missing)
            return sc_gov_plan_missing_text(missing);
    }
    mg_push(f, &f->plans, &f->nplans, i);
    return NULL;
}

/* The plan register holds the plan's op id. */
void mg_record_plan(fold *f, size_t i)
{
    char *text = sc_alloc(f->env, SC_HASH_HEX);
    if (!text) {
        f->oom = true;
        return;
    }
    sc_hex_encode(f->in[i].id, SC_HASH_LEN, text, SC_HASH_HEX);
    mg_reg_write(f, SCPB__FIELD__FIELD_PLAN, i, text, text);
}

const char *mg_judge_plan_return(fold *f, size_t i, int past, size_t winner)
{
    size_t t = mg_find_id(f, mg_op(f, i)->plan_return->plan.data);
    if (t == f->n || !mg_in_past(f, t, i) || !f->valid[t] || kind_of(f, t) != SCPB__OP__BODY_PLAN)
        return "a plan return names a plan in its causal past";
    const reg *r = mg_reg_find(f, SCPB__FIELD__FIELD_PLAN);
    scope s = past_scope(i);
    size_t w = r ? reg_in_scope(f, r, &s) : 0;
    if (!r || w == r->n || r->w[w].op != t)
        return "a later plan was filed: that one is the plan to send back";
    for (size_t k = 0; k < f->nreturns; k++)
        if (mg_in_past(f, f->returns[k], i) &&
            mg_find_id(f, mg_op(f, f->returns[k])->plan_return->plan.data) == t)
            return "the plan was already sent back";
    mg_push(f, &f->returns, &f->nreturns, i);
    return NULL;
}

const char *mg_judge_extension_request(fold *f, size_t i, int past, size_t winner)
{
    if (!mg_gov_notice_in_past(f, i))
        return "an extension (延期) is asked of a notice's deadline, and no notice was issued";
    if (past == F_CLOSED)
        return "the finding is closed";
    scope s = past_scope(i);
    size_t asked = 0;
    for (size_t k = 0; k < f->nrequests; k++)
        asked += in_scope(f, &s, f->requests[k]);
    if (asked >= SC_GOV_EXTENSIONS_MAX)
        return "a finding asks for a later deadline at most 32 times (SC_GOV_EXTENSIONS_MAX)";
    for (size_t k = 0; k < f->nrequests; k++) {
        outcome o;
        if (!in_scope(f, &s, f->requests[k]))
            continue;
        ext_outcome(f, f->requests[k], &s, &o);
        if (o.status == SCPB__EXTENSION_STATUS__EXTENSION_PENDING)
            return "an earlier extension request is still pending";
    }
    int32_t day;
    if (deadline_in(f, &s, &day) && mg_op(f, i)->extension_request->deadline_day <= day)
        return "an extension asks for a date after the deadline in force";
    mg_push(f, &f->requests, &f->nrequests, i);
    return NULL;
}

const char *mg_judge_extension_decision(fold *f, size_t i, int past, size_t winner)
{
    size_t q = request_of(f, i);
    if (q == f->n || !mg_in_past(f, q, i) || !f->valid[q] ||
        kind_of(f, q) != SCPB__OP__BODY_EXTENSION_REQUEST)
        return "a decision names an extension request in its causal past";
    if (mg_same_person(f, q, i))
        return "an extension is decided by someone other than the person who asked for it";
    scope s = past_scope(i);
    outcome o;
    ext_outcome(f, q, &s, &o);
    bool settles = o.approve < f->n && o.reject < f->n; /* a later decision settles a conflict */
    if (o.status == SCPB__EXTENSION_STATUS__EXTENSION_APPROVED && !settles)
        return "the extension was already approved";
    if (o.status == SCPB__EXTENSION_STATUS__EXTENSION_REJECTED && !settles)
        return "the extension was already rejected";
    size_t nd = f->ndecisions;
    mg_push(f, &f->decisions, &f->ndecisions, i);
    mg_push(f, &f->dreq, &nd, q);
    return NULL;
}

/* An approval writes the request's date; it counts while the request stays approved. */
void mg_record_extension_decision(fold *f, size_t i)
{
    if (!mg_op(f, i)->extension_decision->approve)
        return;
    size_t q = request_of(f, i);
    const Scpb__ExtensionRequest *r = mg_op(f, q)->extension_request;
    mg_day_write(f, SCPB__FIELD__FIELD_DEADLINE, i, r->deadline_day, true);
}

const char *mg_judge_deadline_change(fold *f, size_t i, int past, size_t winner)
{
    if (!mg_gov_notice_in_past(f, i))
        return "before the notice the deadline is edited on the finding; a supervisor's change "
               "is for after it";
    return NULL;
}

void mg_record_deadline_change(fold *f, size_t i)
{
    const Scpb__DeadlineChange *d = mg_op(f, i)->deadline_change;
    mg_day_write(f, SCPB__FIELD__FIELD_DEADLINE, i, d->deadline_day, true);
}

/* ---- org units: the register's policy ---- */

void mg_state_org_policy(fold *f, Scpb__EntityState *st, size_t i)
{
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_ORG)
        return;
    Scpb__OrgState *o = st->org;
    if (o->policy) {
        ProtobufCAllocator a;
        sc_env_pb_allocator(f->env, &a);
        protobuf_c_message_free_unpacked(&o->policy->base, &a);
    }
    /* The last valid policy in fold order is the one in force. */
    o->policy = mg_msg_copy(f, &mg_op(f, i)->org_policy->base);
}

/* ---- the finding's GovernanceState ---- */

static void init_gov(void *m)
{
    scpb__governance_state__init(m);
}
static void init_plan(void *m)
{
    scpb__plan_state__init(m);
}
static void init_ext(void *m)
{
    scpb__extension_state__init(m);
}
static void init_deadline(void *m)
{
    scpb__deadline_entry__init(m);
}

static void op_id(fold *f, ProtobufCBinaryData *dst, protobuf_c_boolean *has, size_t i)
{
    mg_set_bytes(f, dst, has, f->in[i].id, SC_HASH_LEN);
}

static void op_author(fold *f, ProtobufCBinaryData *dst, protobuf_c_boolean *has, size_t i)
{
    mg_set_bytes(f, dst, has, mg_author(f, i), SC_KEY_LEN);
}

/* The notice in effect (the first in fold order), and whether its defaults are still in effect. */
static void gov_notice(fold *f, Scpb__GovernanceState *g)
{
    if (f->nnotices == 0)
        return;
    size_t i = f->notices[0];
    op_id(f, &g->notice_op, &g->has_notice_op, i);
    op_author(f, &g->notice_by, &g->has_notice_by, i);
    g->has_notice_hlc = true;
    g->notice_hlc = mg_op(f, i)->hlc;
    size_t r = f->responsible_writer, d = f->deadline_writer;
    if (r < f->n && kind_of(f, r) == SCPB__OP__BODY_NOTICE &&
        mg_op(f, r)->notice->responsible_defaulted) {
        g->has_responsible_defaulted = true;
        g->responsible_defaulted = true;
    }
    if (d < f->n && kind_of(f, d) == SCPB__OP__BODY_NOTICE &&
        mg_op(f, d)->notice->deadline_defaulted) {
        g->has_deadline_defaulted = true;
        g->deadline_defaulted = true;
    }
    if (f->nsignfors > 0) {
        size_t k = f->signfors[0];
        op_id(f, &g->signed_for_op, &g->has_signed_for_op, k);
        op_author(f, &g->signed_for_by, &g->has_signed_for_by, k);
        g->has_signed_for_hlc = true;
        g->signed_for_hlc = mg_op(f, k)->hlc;
    }
}

/* The plan in effect (conflicts of concurrent plans raised), and its first return. */
static void gov_plan(fold *f, Scpb__EntityState *st, Scpb__GovernanceState *g)
{
    g->has_plan_count = f->nplans > 0;
    g->plan_count = (uint32_t)f->nplans;
    const reg *r = mg_reg_find(f, SCPB__FIELD__FIELD_PLAN);
    size_t w = r ? mg_reg_resolve(f, st, r, NULL) : 0;
    if (!r || w == r->n)
        return;
    size_t p = r->w[w].op;
    Scpb__PlanState *ps = mg_new_msg(f, sizeof *ps, init_plan);
    if (!ps)
        return;
    g->plan = ps;
    op_id(f, &ps->op, &ps->has_op, p);
    op_author(f, &ps->author, &ps->has_author, p);
    ps->has_hlc = true;
    ps->hlc = mg_op(f, p)->hlc;
    ps->plan = mg_msg_copy(f, &mg_op(f, p)->plan->base);
    for (size_t k = 0; k < f->nreturns; k++) {
        size_t ret = f->returns[k];
        const Scpb__PlanReturn *pr = mg_op(f, ret)->plan_return;
        if (mg_find_id(f, pr->plan.data) != p)
            continue;
        ps->has_returned = true;
        ps->returned = true;
        ps->return_reason = mg_str_dup(f, pr->reason);
        op_author(f, &ps->returned_by, &ps->has_returned_by, ret);
        ps->has_returned_hlc = true;
        ps->returned_hlc = mg_op(f, ret)->hlc;
        break;
    }
}

/* One request's entry and, when an approval and a rejection stand side by side, its conflict. */
static void gov_extension(fold *f, Scpb__EntityState *st, Scpb__ExtensionState *e, size_t q)
{
    const Scpb__ExtensionRequest *r = mg_op(f, q)->extension_request;
    op_id(f, &e->request, &e->has_request, q);
    op_author(f, &e->requested_by, &e->has_requested_by, q);
    e->has_requested_hlc = true;
    e->requested_hlc = mg_op(f, q)->hlc;
    e->has_deadline_day = true;
    e->deadline_day = r->deadline_day;
    e->reason = mg_str_dup(f, r->reason);
    scope s = all_scope(f);
    outcome o;
    ext_outcome(f, q, &s, &o);
    e->has_status = true;
    e->status = o.status;
    size_t by = o.reject < f->n ? o.reject : o.approve;
    if (by < f->n) {
        op_author(f, &e->decided_by, &e->has_decided_by, by);
        e->has_decided_hlc = true;
        e->decided_hlc = mg_op(f, by)->hlc;
        e->decision_reason = mg_str_dup(f, mg_op(f, by)->extension_decision->reason);
    }
    if (o.reject < f->n && o.approve < f->n) {
        char req[SC_HASH_HEX];
        sc_hex_encode(f->in[q].id, SC_HASH_LEN, req, sizeof req);
        const char *values[2] = {"rejected", "approved"};
        size_t ops[2] = {o.reject, o.approve};
        mg_add_conflict(f, st, SCPB__FIELD__FIELD_EXTENSION, req, values, ops, 2);
    }
}

static void gov_extensions(fold *f, Scpb__EntityState *st, Scpb__GovernanceState *g)
{
    if (f->nrequests == 0)
        return;
    g->extensions = mg_alloc(f, f->nrequests, sizeof *g->extensions);
    for (size_t k = 0; g->extensions && k < f->nrequests && !f->oom; k++) {
        Scpb__ExtensionState *e = mg_new_msg(f, sizeof *e, init_ext);
        if (!e)
            break;
        g->extensions[g->n_extensions++] = e;
        gov_extension(f, st, e, f->requests[k]);
    }
}

/* Why op i may have changed the deadline in force; 0 when it cannot. */
static Scpb__DeadlineCause deadline_cause(const fold *f, size_t i)
{
    const Scpb__Op *op = mg_op(f, i);
    switch (op->body_case) {
    case SCPB__OP__BODY_FINDING_CREATE:
        return SCPB__DEADLINE_CAUSE__DEADLINE_FINDING;
    case SCPB__OP__BODY_FIELD_EDIT:
        return op->field_edit->field == SCPB__FIELD__FIELD_DEADLINE
                   ? SCPB__DEADLINE_CAUSE__DEADLINE_FINDING
                   : 0;
    case SCPB__OP__BODY_RESOLVE:
        return op->resolve->field == SCPB__FIELD__FIELD_DEADLINE
                   ? SCPB__DEADLINE_CAUSE__DEADLINE_FINDING
                   : 0;
    case SCPB__OP__BODY_NOTICE:
        return SCPB__DEADLINE_CAUSE__DEADLINE_NOTICE;
    case SCPB__OP__BODY_EXTENSION_DECISION:
        return SCPB__DEADLINE_CAUSE__DEADLINE_EXTENSION;
    case SCPB__OP__BODY_DEADLINE_CHANGE:
        return SCPB__DEADLINE_CAUSE__DEADLINE_SUPERVISOR;
    default:
        return 0;
    }
}

static void deadline_entry(fold *f, Scpb__GovernanceState *g, size_t i, bool has, int32_t day,
                           Scpb__DeadlineCause cause)
{
    Scpb__DeadlineEntry **nv =
        sc_realloc_array(f->env, g->deadlines, g->n_deadlines + 1, sizeof *nv);
    Scpb__DeadlineEntry *e = nv ? mg_new_msg(f, sizeof *e, init_deadline) : NULL;
    if (nv)
        g->deadlines = nv;
    if (!e) {
        f->oom = true;
        return;
    }
    g->deadlines[g->n_deadlines++] = e;
    e->has_deadline_day = has;
    e->deadline_day = has ? day : 0;
    op_id(f, &e->op, &e->has_op, i);
    e->has_hlc = true;
    e->hlc = mg_op(f, i)->hlc;
    e->has_cause = true;
    e->cause = cause;
}

/* The write of register r in effect among the kept writes of fold rank <= k (r->n: none). */
static size_t kept_winner(fold *f, const reg *r, const bool *kept, size_t k, uint64_t *below)
{
    memset(below, 0, f->words * sizeof *below);
    for (size_t w = 0; w < r->n; w++)
        if (kept[r->w[w].op] && f->rank[r->w[w].op] <= k)
            add_past(f, below, r->w[w].op);
    size_t best = r->n;
    for (size_t w = 0; w < r->n; w++) {
        size_t op = r->w[w].op;
        if (kept[op] && f->rank[op] <= k && !BIT(below, op) &&
            (best == r->n || f->rank[op] > f->rank[r->w[best].op]))
            best = w;
    }
    return best;
}

/*
 * A decision changes which approvals of its request count in the prefix up
 * to rank k; true when one of them changed (kept[] updated).
 */
static bool decision_flips(fold *f, const reg *r, const size_t *wr, bool *kept, size_t i, size_t k)
{
    size_t req = request_of(f, i);
    scope s = prefix_scope(f, k);
    outcome o;
    ext_outcome(f, req, &s, &o);
    bool approved = o.status == SCPB__EXTENSION_STATUS__EXTENSION_APPROVED, flipped = false;
    for (size_t a = 0; a < f->ndecisions; a++) {
        size_t d = f->decisions[a];
        if (f->dreq[a] != req || f->rank[d] > k || !wr[d] || kept[d] == approved)
            continue;
        kept[d] = approved;
        flipped = true;
    }
    return flipped;
}

/*
 * The deadline in force after each op that could change it, in fold order
 * (a fold-order prefix is causally closed: it holds every op's past), with
 * an entry each time it changed.  Swept once: a plain write is the new
 * value in effect (it is the latest so far, and nothing before it has it
 * in its past); only a decision that makes approvals count or stop counting
 * takes the register's frontier again.
 */
static void gov_deadlines(fold *f, Scpb__GovernanceState *g)
{
    const reg *r = mg_reg_find(f, SCPB__FIELD__FIELD_DEADLINE);
    size_t *wr = mg_alloc(f, f->n, sizeof *wr); /* op -> its write's index + 1, or 0 */
    bool *kept = mg_alloc(f, f->n, sizeof *kept);
    uint64_t *below = mg_alloc(f, f->words, sizeof *below);
    bool have = false;
    int32_t cur = 0;
    size_t win = r ? r->n : 0;
    for (size_t w = 0; r && wr && w < r->n; w++)
        wr[r->w[w].op] = w + 1;
    for (size_t k = 0; r && !f->oom && k < f->n; k++) {
        size_t i = f->order[k];
        Scpb__DeadlineCause cause = f->valid[i] ? deadline_cause(f, i) : 0;
        if (!cause)
            continue;
        if (kind_of(f, i) == SCPB__OP__BODY_EXTENSION_DECISION) {
            if (decision_flips(f, r, wr, kept, i, k))
                win = kept_winner(f, r, kept, k, below);
        } else if (wr[i]) {
            kept[i] = true;
            win = wr[i] - 1;
        }
        const char *v = win < r->n ? r->w[win].text : "";
        int32_t day = 0;
        bool has = v[0] && sc_date_parse(v, strlen(v), &day) == SC_OK;
        if (has != have || (has && day != cur))
            deadline_entry(f, g, i, has, day, cause);
        have = has;
        cur = day;
    }
    sc_free(f->env, wr);
    sc_free(f->env, kept);
    sc_free(f->env, below);
}

void mg_gov_state(fold *f, Scpb__EntityState *st, Scpb__FindingState *s)
{
    const Scpb__FindingCreate *c = mg_op(f, f->create)->finding_create;
    bool rules = c->has_rules && c->rules >= SC_GOV_RULES;
    if (!rules &&
        f->nnotices + f->nsignfors + f->nplans + f->nreturns + f->nrequests + f->ndecisions == 0)
        return; /* the earlier rules, untouched: the state is as it always was */
    Scpb__GovernanceState *g = mg_new_msg(f, sizeof *g, init_gov);
    if (!g)
        return;
    s->governance = g;
    g->has_rules = c->has_rules;
    g->rules = c->rules;
    gov_notice(f, g);
    gov_plan(f, st, g);
    gov_extensions(f, st, g);
    gov_deadlines(f, g);
    size_t v = f->verifier;
    if (v < f->n && is_acceptance(f, v)) {
        op_author(f, &g->accepted_by, &g->has_accepted_by, v);
        g->has_accepted_hlc = true;
        g->accepted_hlc = mg_op(f, v)->hlc;
    }
}
