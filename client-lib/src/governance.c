/*
 * governance.c: recording rectification governance (docs/data-model.md §4):
 * the notice (限期整改通知), sign-for (签收), the plan (整改方案) and its
 * return, extensions (延期) and their decisions, a supervisor's deadline
 * change.  Acceptance (验收) is a revisit (record.c, sc_revisit_v2).
 *
 * Every call turns one act into one signed op through record.c, so the
 * role table, the fold's verdict and the one transaction are those of
 * every recording call.  Beside them, in people's terms: what the register
 * checks that the fold cannot (a responsible user acts for the finding's
 * own unit, a plan's person is a user of the register), and the defaults a
 * general finding's notice takes from the register's policy (OrgPolicy on
 * the org units, as this replica has pulled them).
 */
#include <string.h>

#include "core/date.h"
#include "internal.h"

static char *cs(const char *s)
{
    return (char *)(uintptr_t)s;
}

static ProtobufCBinaryData bin(const uint8_t *p, size_t len)
{
    return (ProtobufCBinaryData){len, (uint8_t *)(uintptr_t)p};
}

static int32_t today(sc_client *c)
{
    return sc_date_from_ms(sc_env_now_ms(&c->env));
}

/* ---- the register's policy, as the replica knows it ---- */

/* sc_gov_policy_for's lookup over the replica: the last state read is kept for its policy. */
typedef struct org_walk {
    sc_client *c;
    Scpb__EntityState *st;
} org_walk;

static sc_status org_lookup(void *ctx, const uint8_t id[SC_ID_LEN], sc_gov_org *out)
{
    org_walk *w = ctx;
    rp_state_free(w->c, w->st);
    w->st = NULL;
    sc_status s = st_state_get(w->c, id, &w->st);
    if (s != SC_OK)
        return s;
    return sc_gov_org_from_state(w->st, out) ? SC_OK : SC_ERR_NOT_FOUND;
}

sc_status gv_policy_for(sc_client *c, const uint8_t org[SC_ID_LEN], sc_gov_policy *out)
{
    org_walk w = {c, NULL};
    sc_status s = sc_gov_policy_for(org_lookup, &w, org, out);
    rp_state_free(c, w.st);
    return s;
}

/* The org unit a target belongs to; false when the replica does not have it. */
static bool target_org(sc_client *c, const ProtobufCBinaryData *target, uint8_t org[SC_ID_LEN])
{
    Scpb__EntityState *st = NULL;
    bool ok = target->len == SC_ID_LEN && st_state_get(c, target->data, &st) == SC_OK &&
              st->kind_case == SCPB__ENTITY_STATE__KIND_TARGET && st->target->has_org &&
              st->target->org.len == SC_ID_LEN;
    if (ok)
        memcpy(org, st->target->org.data, SC_ID_LEN);
    rp_state_free(c, st);
    return ok;
}

/* ---- the notice ---- */

static bool needs_notice(const Scpb__EntityState *st)
{
    const Scpb__FindingState *f = rp_finding(st);
    return f && !st->voided && !f->fixed_on_spot &&
           !(f->governance && f->governance->has_notice_op);
}

/*
 * A major hazard lacking its unit or deadline: refused, naming what and
 * how to give it (in SC_ERR_MSG_MAX bytes: the finding's id, not its text).
 */
static sc_status refuse_major(sc_client *c, const uint8_t id[SC_ID_LEN],
                              const Scpb__FindingState *f, const sc_gov_policy *pol)
{
    char hex[SC_ID_HEX], suggest[11];
    cl_hex(id, SC_ID_LEN, hex, sizeof hex);
    sc_date_format(today(c) + pol->major_days, suggest);
    bool unit = f->has_responsible, deadline = f->has_deadline_day;
    return cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                   "finding %s is a major hazard with %s: its notice (限期整改通知) names both "
                   "(finding set%s%s; the policy's period ends %s)",
                   hex,
                   !unit && !deadline ? "no responsible unit and no deadline"
                   : !unit            ? "no responsible unit"
                                      : "no deadline",
                   unit ? "" : " --responsible ORG", deadline ? "" : " --deadline YYYY-MM-DD",
                   suggest);
}

/* Make the notice: explicit values where given (or on the finding), else the defaults. */
static sc_status notice_op(sc_client *c, const uint8_t id[SC_ID_LEN], const Scpb__EntityState *st,
                           const uint8_t *unit, const int32_t *deadline, const char *note)
{
    const Scpb__FindingState *f = st->finding;
    sc_gov_policy pol;
    uint8_t org[SC_ID_LEN], torg[SC_ID_LEN];
    bool has_torg = target_org(c, &f->target, torg);
    sc_status s = has_torg ? gv_policy_for(c, torg, &pol) : SC_OK;
    if (!has_torg)
        sc_gov_policy_default(&pol);
    if (s != SC_OK)
        return s;
    bool major = f->grade == SCPB__GRADE__GRADE_MAJOR;
    bool has_unit = unit || f->has_responsible, has_day = deadline || f->has_deadline_day;
    if (major && (!has_unit || !has_day)) {
        Scpb__FindingState shown = *f;
        shown.has_responsible = has_unit;
        shown.has_deadline_day = has_day;
        return refuse_major(c, id, &shown, &pol);
    }
    if (unit)
        memcpy(org, unit, SC_ID_LEN);
    else if (f->has_responsible && f->responsible.len == SC_ID_LEN)
        memcpy(org, f->responsible.data, SC_ID_LEN);
    else if (has_torg)
        memcpy(org, torg, SC_ID_LEN);
    else
        return cl_fail(c, SC_ERR_NOT_FOUND, SCPB__REASON__REASON_UNKNOWN_REFERENCE,
                       "the finding's target is not in the replica: sync to fetch it");
    Scpb__Op op;
    rc_op_init(&op, id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
    Scpb__Notice n = SCPB__NOTICE__INIT;
    n.has_responsible = true;
    n.responsible = bin(org, SC_ID_LEN);
    n.has_deadline_day = true;
    n.deadline_day = deadline              ? *deadline
                     : f->has_deadline_day ? f->deadline_day
                                           : today(c) + pol.general_days;
    n.has_responsible_defaulted = !has_unit;
    n.responsible_defaulted = !has_unit;
    n.has_deadline_defaulted = !has_day;
    n.deadline_defaulted = !has_day;
    n.note = cs(note);
    op.body_case = SCPB__OP__BODY_NOTICE;
    op.notice = &n;
    return rc_make_op(c, &op, NULL);
}

sc_status gv_issue_notice(sc_client *c, const uint8_t id[SC_ID_LEN])
{
    Scpb__EntityState *st = NULL;
    sc_status s = rp_get(c, id, SCPB__ENTITY_TYPE__ENTITY_FINDING, "finding", &st);
    if (s == SC_OK && needs_notice(st))
        s = notice_op(c, id, st, NULL, NULL, NULL);
    rp_state_free(c, st);
    return s;
}

typedef struct id_list {
    const uint8_t *check;
    uint8_t (*v)[SC_ID_LEN];
    size_t n;
} id_list;

static sc_status collect_findings(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    id_list *l = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s != SC_OK)
        return s;
    const Scpb__FindingState *f = rp_finding(st);
    if (f && f->has_inspection && f->inspection.len == SC_ID_LEN &&
        memcmp(f->inspection.data, l->check, SC_ID_LEN) == 0 && needs_notice(st)) {
        uint8_t(*nv)[SC_ID_LEN] = sc_realloc_array(&c->env, l->v, l->n + 1, SC_ID_LEN);
        if (!nv)
            s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
        else
            memcpy((l->v = nv)[l->n++], id, SC_ID_LEN);
    }
    rp_state_free(c, st);
    return s;
}

sc_status gv_issue_notices(sc_client *c, const uint8_t check[SC_ID_LEN])
{
    id_list l = {check, NULL, 0};
    /* Listed first: the notices change the states the walk reads. */
    sc_status s =
        st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_FINDING, false, collect_findings, &l);
    for (size_t i = 0; s == SC_OK && i < l.n; i++)
        s = gv_issue_notice(c, l.v[i]);
    sc_free(&c->env, l.v);
    return s;
}

/* ---- the finding an act is on ---- */

typedef struct act {
    uint8_t id[SC_ID_LEN];
    Scpb__EntityState *st; /* the finding's state; freed by act_done */
} act;

/* Begin an act of `kind` on finding text: the action, the policy, the finding's state. */
static sc_status act_open(sc_client *c, const char *finding, Scpb__Op__BodyCase kind, act *a)
{
    memset(a, 0, sizeof *a);
    sc_status s = rc_act_begin(c);
    if (s != SC_OK)
        return s;
    if ((s = rc_parse_entity_id(c, finding, "finding", a->id)) == SC_OK &&
        (s = rc_check_policy(c, kind, SCPB__ENTITY_TYPE__ENTITY_FINDING)) == SC_OK)
        s = rp_get(c, a->id, SCPB__ENTITY_TYPE__ENTITY_FINDING, "finding", &a->st);
    if (s != SC_OK) {
        rp_state_free(c, a->st);
        a->st = NULL;
        return rc_act_end(c, s);
    }
    return SC_OK;
}

static sc_status act_done(sc_client *c, act *a, sc_status s)
{
    rp_state_free(c, a->st);
    a->st = NULL;
    return rc_act_end(c, s);
}

/* org lies at or below top, by the parents the replica knows. */
sc_status gv_org_within(sc_client *c, const uint8_t org[SC_ID_LEN], const uint8_t top[SC_ID_LEN],
                        bool *out)
{
    uint8_t at[SC_ID_LEN];
    memcpy(at, org, SC_ID_LEN);
    *out = false;
    for (int depth = 0; depth < SC_ORG_DEPTH_MAX && !*out; depth++) {
        if (memcmp(at, top, SC_ID_LEN) == 0) {
            *out = true;
            break;
        }
        Scpb__EntityState *st = NULL;
        sc_status s = st_state_get(c, at, &st);
        bool up = s == SC_OK && st->kind_case == SCPB__ENTITY_STATE__KIND_ORG &&
                  st->org->has_parent && st->org->parent.len == SC_ID_LEN;
        if (up)
            memcpy(at, st->org->parent.data, SC_ID_LEN);
        rp_state_free(c, st);
        if (s != SC_OK && s != SC_ERR_NOT_FOUND)
            return s;
        if (!up)
            break;
    }
    return SC_OK;
}

/* Is unit org one the user speaks for (their org unit or below)?  Fails OUT_OF_SCOPE otherwise. */
static sc_status speaks_for(sc_client *c, const uint8_t org[SC_ID_LEN], const char *what)
{
    bool ok = false;
    sc_status s = gv_org_within(c, org, c->id.org, &ok);
    if (s == SC_OK && !ok) {
        Scpb__EntityState *o = NULL;
        bool named = st_state_get(c, org, &o) == SC_OK &&
                     o->kind_case == SCPB__ENTITY_STATE__KIND_ORG && o->org->code;
        s = cl_fail(c, SC_ERR_FORBIDDEN, SCPB__REASON__REASON_OUT_OF_SCOPE,
                    "%s is for the responsible unit (%s), which you do not speak for", what,
                    named ? o->org->code : "?");
        rp_state_free(c, o);
    }
    return s;
}

/*
 * A user of the responsible role acts for the finding's responsible unit
 * (their org unit is it, or above it), as syncd checks (register_gov.c).
 * A rectification report (report) on a finding that names no unit yet is
 * judged by scope alone.
 */
sc_status gv_unit_act(sc_client *c, const Scpb__FindingState *f, const char *what, bool report)
{
    if (c->id.role != SCPB__ROLE__ROLE_RESPONSIBLE)
        return SC_OK;
    if (!f->has_responsible || f->responsible.len != SC_ID_LEN)
        return report ? SC_OK
                      : cl_fail(c, SC_ERR_INVALID_TRANSITION,
                                SCPB__REASON__REASON_INVALID_TRANSITION,
                                "%s: the finding names no responsible unit yet (its notice does)",
                                what);
    return speaks_for(c, f->responsible.data, what);
}

static sc_status unit_act(sc_client *c, const act *a, const char *what)
{
    return gv_unit_act(c, a->st->finding, what, false);
}

/*
 * A responsible user's notice is of its own self-reported hazard, naming
 * its own unit or one below it, as syncd checks (register_self.c).
 */
static sc_status own_notice(sc_client *c, const act *a, const uint8_t *org)
{
    if (c->id.role != SCPB__ROLE__ROLE_RESPONSIBLE)
        return SC_OK;
    if (!a->st->finding->self_reported)
        return cl_fail(c, SC_ERR_FORBIDDEN, SCPB__REASON__REASON_FORBIDDEN_ROLE,
                       "a responsible user issues the notice of its own self-reported hazards "
                       "only");
    return org ? speaks_for(c, org, "the notice") : SC_OK;
}

/* ---- the acts ---- */

sc_status sc_notice(sc_client *c, const char *finding, const char *responsible,
                    const char *deadline, const char *note)
{
    act a;
    sc_status s = act_open(c, finding, SCPB__OP__BODY_NOTICE, &a);
    if (s != SC_OK)
        return s;
    uint8_t org[SC_ID_LEN];
    int32_t day = 0;
    if (responsible && (s = rp_resolve(c, responsible, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT,
                                       "org unit", org)) != SC_OK)
        return act_done(c, &a, s);
    if (deadline && (s = rc_parse_day(c, "deadline", deadline, &day)) != SC_OK)
        return act_done(c, &a, s);
    if ((s = own_notice(c, &a, responsible ? org : NULL)) != SC_OK)
        return act_done(c, &a, s);
    if (a.st->finding->governance && a.st->finding->governance->has_notice_op)
        s = cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                    "finding %s already has its notice: the deadline moves by an extension "
                    "(spotcheck extension request) or a supervisor's change (spotcheck deadline)",
                    finding);
    else
        s = notice_op(c, a.id, a.st, responsible ? org : NULL, deadline ? &day : NULL, note);
    return act_done(c, &a, s);
}

sc_status sc_sign_for(sc_client *c, const char *finding, const char *note)
{
    act a;
    sc_status s = act_open(c, finding, SCPB__OP__BODY_SIGN_FOR, &a);
    if (s != SC_OK)
        return s;
    if ((s = unit_act(c, &a, "sign-for (签收)")) == SC_OK) {
        Scpb__Op op;
        rc_op_init(&op, a.id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
        Scpb__SignFor b = SCPB__SIGN_FOR__INIT;
        b.note = cs(note);
        op.body_case = SCPB__OP__BODY_SIGN_FOR;
        op.sign_for = &b;
        s = rc_make_op(c, &op, NULL);
    }
    return act_done(c, &a, s);
}

/* "12000", "12000.5" or "12000.50" (no sign, no separators) into hundredths. */
static sc_status parse_amount(sc_client *c, const char *text, int64_t *out)
{
    const char *dot = strchr(text, '.');
    size_t whole = dot ? (size_t)(dot - text) : strlen(text), frac = dot ? strlen(dot + 1) : 0;
    bool ok = whole > 0 && whole <= 13 && (!dot || (frac >= 1 && frac <= 2));
    int64_t v = 0;
    for (size_t i = 0; ok && i < whole; i++) {
        ok = text[i] >= '0' && text[i] <= '9';
        v = v * 10 + (text[i] - '0');
    }
    for (size_t i = 0; ok && i < 2; i++) {
        int d = dot && i < frac ? dot[1 + i] - '0' : 0;
        ok = d >= 0 && d <= 9;
        v = v * 10 + d;
    }
    if (!ok || v > SC_GOV_FUNDS_MAX)
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "funds \"%s\" is not an amount (12000 or 12000.50, at most %lld)", text,
                       (long long)(SC_GOV_FUNDS_MAX / 100));
    *out = v;
    return SC_OK;
}

/* The plan's body from the caller's params; *user is where a named user's id goes. */
static sc_status plan_body(sc_client *c, const sc_plan_params *p, Scpb__RectificationPlan *b,
                           uint8_t user[SC_ID_LEN])
{
    sc_status s = SC_OK;
    if (!p->person && !(p->person_name && *p->person_name && p->person_phone && *p->person_phone))
        return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                       "a plan names its responsible person: an enrolled user (--person LOGIN), "
                       "or a name and a phone number (--person-name, --person-phone)");
    if ((s = rc_need_text(c, p->measures, "a plan says its measures (--measures)")) != SC_OK)
        return s;
    if (p->person &&
        (s = rp_resolve(c, p->person, SCPB__ENTITY_TYPE__ENTITY_USER, "user", user)) != SC_OK)
        return s;
    b->has_person_user = p->person != NULL;
    b->person_user = bin(p->person ? user : NULL, p->person ? SC_ID_LEN : 0);
    b->person_name = cs(p->person_name);
    b->person_phone = cs(p->person_phone);
    b->measures = cs(p->measures);
    if (p->funds && (s = parse_amount(c, p->funds, &b->funds_cents)) != SC_OK)
        return s;
    b->has_funds_cents = p->funds != NULL;
    b->funds_source = cs(p->funds_source);
    b->interim = cs(p->interim);
    b->lead_official = cs(p->lead_official);
    return SC_OK;
}

sc_status sc_plan(sc_client *c, const char *finding, const sc_plan_params *p,
                  char out_op[SC_HASH_HEX_LEN])
{
    if (out_op)
        out_op[0] = '\0';
    if (!c)
        return SC_ERR_INVALID_ARG;
    if (!p)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "no parameters");
    /* The struct as this library knows it: an older program's lacks nothing yet (one release). */
    sc_plan_params q;
    sc_status s = cl_sized(c, &q, sizeof q, CL_SIZE_THROUGH(sc_plan_params, lead_official), p,
                           "sc_plan_params");
    if (s != SC_OK)
        return s;
    act a;
    if ((s = act_open(c, finding, SCPB__OP__BODY_PLAN, &a)) != SC_OK)
        return s;
    Scpb__RectificationPlan b = SCPB__RECTIFICATION_PLAN__INIT;
    uint8_t user[SC_ID_LEN], id[SC_HASH_LEN];
    if ((s = plan_body(c, &q, &b, user)) == SC_OK && (s = unit_act(c, &a, "a plan")) == SC_OK) {
        Scpb__Op op;
        rc_op_init(&op, a.id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
        op.body_case = SCPB__OP__BODY_PLAN;
        op.plan = &b;
        s = rc_make_op(c, &op, id);
    }
    if (s == SC_OK && out_op)
        cl_hex(id, SC_HASH_LEN, out_op, SC_HASH_HEX_LEN);
    return act_done(c, &a, s);
}

/* An op id given, or the one `what` names in the state (the plan in effect, a pending request). */
static sc_status op_named(sc_client *c, const char *text, const ProtobufCBinaryData *dflt,
                          const char *what, uint8_t out[SC_HASH_LEN])
{
    if (text) {
        if (!cl_parse_hash(text, out))
            return cl_fail(c, SC_ERR_INVALID_ARG, SCPB__REASON__REASON_BAD_FIELD,
                           "%s \"%s\" is not an op id (64 hex digits)", what, text);
        return SC_OK;
    }
    if (!dflt || dflt->len != SC_HASH_LEN)
        return cl_fail(c, SC_ERR_INVALID_TRANSITION, SCPB__REASON__REASON_INVALID_TRANSITION,
                       "the finding has no %s", what);
    memcpy(out, dflt->data, SC_HASH_LEN);
    return SC_OK;
}

sc_status sc_plan_return(sc_client *c, const char *finding, const char *plan, const char *reason)
{
    act a;
    sc_status s = act_open(c, finding, SCPB__OP__BODY_PLAN_RETURN, &a);
    if (s != SC_OK)
        return s;
    const Scpb__GovernanceState *g = a.st->finding->governance;
    uint8_t p[SC_HASH_LEN];
    if ((s = rc_need_text(c, reason, "sending a plan back says why (--reason)")) == SC_OK &&
        (s = op_named(c, plan, g && g->plan ? &g->plan->op : NULL, "plan", p)) == SC_OK) {
        Scpb__Op op;
        rc_op_init(&op, a.id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
        Scpb__PlanReturn b = SCPB__PLAN_RETURN__INIT;
        b.has_plan = true;
        b.plan = bin(p, SC_HASH_LEN);
        b.reason = cs(reason);
        op.body_case = SCPB__OP__BODY_PLAN_RETURN;
        op.plan_return = &b;
        s = rc_make_op(c, &op, NULL);
    }
    return act_done(c, &a, s);
}

sc_status sc_extension_request(sc_client *c, const char *finding, const char *deadline,
                               const char *reason, char out_op[SC_HASH_HEX_LEN])
{
    if (out_op)
        out_op[0] = '\0';
    act a;
    sc_status s = act_open(c, finding, SCPB__OP__BODY_EXTENSION_REQUEST, &a);
    if (s != SC_OK)
        return s;
    int32_t day = 0;
    uint8_t id[SC_HASH_LEN];
    if ((s = rc_need_text(c, deadline, "an extension asks for a new date (--deadline)")) == SC_OK &&
        (s = rc_need_text(c, reason, "an extension says why (--reason)")) == SC_OK &&
        (s = rc_parse_day(c, "deadline", deadline, &day)) == SC_OK &&
        (s = unit_act(c, &a, "an extension request")) == SC_OK) {
        Scpb__Op op;
        rc_op_init(&op, a.id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
        Scpb__ExtensionRequest b = SCPB__EXTENSION_REQUEST__INIT;
        b.has_deadline_day = true;
        b.deadline_day = day;
        b.reason = cs(reason);
        op.body_case = SCPB__OP__BODY_EXTENSION_REQUEST;
        op.extension_request = &b;
        s = rc_make_op(c, &op, id);
    }
    if (s == SC_OK && out_op)
        cl_hex(id, SC_HASH_LEN, out_op, SC_HASH_HEX_LEN);
    return act_done(c, &a, s);
}

/* The request still pending, when there is exactly one. */
static const ProtobufCBinaryData *pending_request(const Scpb__EntityState *st)
{
    const Scpb__GovernanceState *g = st->finding->governance;
    const ProtobufCBinaryData *found = NULL;
    for (size_t k = 0; g && k < g->n_extensions; k++)
        if (g->extensions[k]->status == SCPB__EXTENSION_STATUS__EXTENSION_PENDING) {
            if (found)
                return NULL;
            found = &g->extensions[k]->request;
        }
    return found;
}

sc_status sc_extension_decide(sc_client *c, const char *finding, const char *request, int approve,
                              const char *reason)
{
    act a;
    sc_status s = act_open(c, finding, SCPB__OP__BODY_EXTENSION_DECISION, &a);
    if (s != SC_OK)
        return s;
    uint8_t q[SC_HASH_LEN];
    if ((s = op_named(c, request, pending_request(a.st), "pending extension request", q)) ==
            SC_OK &&
        (approve || (s = rc_need_text(c, reason, "a rejection says why (--reason)")) == SC_OK)) {
        Scpb__Op op;
        rc_op_init(&op, a.id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
        Scpb__ExtensionDecision b = SCPB__EXTENSION_DECISION__INIT;
        b.has_request = true;
        b.request = bin(q, SC_HASH_LEN);
        b.has_approve = true;
        b.approve = approve != 0;
        b.reason = cs(reason && *reason ? reason : NULL);
        op.body_case = SCPB__OP__BODY_EXTENSION_DECISION;
        op.extension_decision = &b;
        s = rc_make_op(c, &op, NULL);
    }
    return act_done(c, &a, s);
}

sc_status sc_deadline_change(sc_client *c, const char *finding, const char *deadline,
                             const char *reason)
{
    act a;
    sc_status s = act_open(c, finding, SCPB__OP__BODY_DEADLINE_CHANGE, &a);
    if (s != SC_OK)
        return s;
    int32_t day = 0;
    if ((s = rc_need_text(c, deadline, "a deadline change gives the new date (--deadline)")) ==
            SC_OK &&
        (s = rc_need_text(
             c, reason, "a supervisor's deadline change states its reason (--reason)")) == SC_OK &&
        (s = rc_parse_day(c, "deadline", deadline, &day)) == SC_OK) {
        Scpb__Op op;
        rc_op_init(&op, a.id, SCPB__ENTITY_TYPE__ENTITY_FINDING);
        Scpb__DeadlineChange b = SCPB__DEADLINE_CHANGE__INIT;
        b.has_deadline_day = true;
        b.deadline_day = day;
        b.reason = cs(reason);
        op.body_case = SCPB__OP__BODY_DEADLINE_CHANGE;
        op.deadline_change = &b;
        s = rc_make_op(c, &op, NULL);
    }
    return act_done(c, &a, s);
}
