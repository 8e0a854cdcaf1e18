/*
 * merge_rules.c: registers and the rules of the fold.
 *
 * Each op is judged against its causal past (mg_judge): first what holds
 * for every kind (its HLC after its deps', valid deps, a create only once
 * and first, the entity created and not voided in its past), then the
 * kind's own rule, the judge hook opkinds.def names.  A valid op then
 * records its register writes (its record hook).  The rules read the
 * lifecycle through merge_life.c and never build state.
 *
 * Registers: every editable field, and every checklist item, is a list of
 * writes.  Its frontier within a set of ops is the writes no other write
 * of the set has in its causal past; the value in effect is the last of
 * the frontier in fold order, and a frontier that disagrees is a conflict.
 */
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "ids.h"
#include "merge_internal.h"
#include "names.h"

/* ---- who made an op ---- */

/*
 * The person behind a device key, as 1 + SC_KEY_LEN bytes: 'u' and the
 * enrolled user's id, or 'k' and the key itself when no enrollment names it
 * (or no map was given), a person of its own.  A lookup failure is kept in
 * users_rc and fails the fold.
 */
#define PERSON_LEN (1 + SC_KEY_LEN)

static void person_of(fold *f, const uint8_t *key, uint8_t who[PERSON_LEN])
{
    memset(who, 0, PERSON_LEN);
    sc_status rc = SC_ERR_NOT_FOUND;
    if (f->users && f->users->user_of && f->users_rc == SC_OK)
        rc = f->users->user_of(f->users->ctx, key, who + 1);
    if (rc == SC_OK) {
        who[0] = 'u';
        memset(who + 1 + SC_ID_LEN, 0, SC_KEY_LEN - SC_ID_LEN);
        return;
    }
    if (rc != SC_ERR_NOT_FOUND && f->users_rc == SC_OK)
        f->users_rc = rc;
    who[0] = 'k';
    memcpy(who + 1, key, SC_KEY_LEN);
}

bool mg_user_of(fold *f, size_t i, uint8_t user[SC_ID_LEN])
{
    uint8_t who[PERSON_LEN];
    person_of(f, mg_author(f, i), who);
    if (who[0] != 'u')
        return false;
    memcpy(user, who + 1, SC_ID_LEN);
    return true;
}

/* Ops a and b were made by the same person (DESIGN §10: separation of duties is by person). */
static bool same_person(fold *f, size_t a, size_t b)
{
    const uint8_t *ka = mg_author(f, a), *kb = mg_author(f, b);
    if (memcmp(ka, kb, SC_KEY_LEN) == 0)
        return true;
    uint8_t pa[PERSON_LEN], pb[PERSON_LEN];
    person_of(f, ka, pa);
    person_of(f, kb, pb);
    return memcmp(pa, pb, PERSON_LEN) == 0;
}

bool mg_same_person(fold *f, size_t a, size_t b)
{
    return same_person(f, a, b);
}

/* ---- registers ---- */

/*
 * A register's slot in f->regix: FNV-1a of its field and (an item's) code.
 * Not keyed: a register list is at most a sheet's items and the fields, so
 * codes made to collide cost what a linear search did, no more.
 */
static size_t reg_hash(Scpb__Field field, const char *item_code)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)field;
    h *= 1099511628211ull;
    if (field == SCPB__FIELD__FIELD_ITEM)
        for (const unsigned char *p = (const unsigned char *)item_code; *p; p++) {
            h ^= *p;
            h *= 1099511628211ull;
        }
    return (size_t)(h ^ (h >> 32));
}

static bool reg_is(const reg *r, Scpb__Field field, const char *item_code)
{
    return r->field == field &&
           (field != SCPB__FIELD__FIELD_ITEM || strcmp(r->item_code, item_code) == 0);
}

/* Index register r of f (its slot is free: the index has room). */
static void regix_put(fold *f, size_t r)
{
    size_t mask = f->regix_cap - 1;
    size_t h = reg_hash(f->regs[r].field, f->regs[r].item_code) & mask;
    while (f->regix[h])
        h = (h + 1) & mask;
    f->regix[h] = (uint32_t)(r + 1);
}

/* Room in the index for one more register: false when out of memory. */
static bool regix_room(fold *f)
{
    if (2 * (f->nregs + 1) <= f->regix_cap)
        return true;
    size_t cap = f->regix_cap ? 2 * f->regix_cap : 32;
    uint32_t *ix = sc_calloc(f->env, cap, sizeof *ix);
    if (!ix)
        return false;
    sc_free(f->env, f->regix);
    f->regix = ix;
    f->regix_cap = cap;
    for (size_t r = 0; r < f->nregs; r++)
        regix_put(f, r);
    return true;
}

/* The register of field (and item_code, for items), made when there is none; NULL: out of memory.
 */
static reg *reg_get(fold *f, Scpb__Field field, const char *item_code)
{
    if (f->regix_cap) {
        size_t mask = f->regix_cap - 1;
        for (size_t h = reg_hash(field, item_code) & mask; f->regix[h]; h = (h + 1) & mask)
            if (reg_is(&f->regs[f->regix[h] - 1], field, item_code))
                return &f->regs[f->regix[h] - 1];
    }
    if (f->nregs >= UINT32_MAX - 1 || !regix_room(f)) {
        f->oom = true;
        return NULL;
    }
    if (f->nregs == f->regs_cap) {
        size_t cap = f->regs_cap ? f->regs_cap * 2 : 8;
        reg *nr = sc_realloc_array(f->env, f->regs, cap, sizeof *nr);
        if (!nr) {
            f->oom = true;
            return NULL;
        }
        f->regs = nr;
        f->regs_cap = cap;
    }
    reg *r = &f->regs[f->nregs++];
    memset(r, 0, sizeof *r);
    r->field = field;
    r->item_code = item_code;
    regix_put(f, f->nregs - 1);
    return r;
}

/* Record a write; `owned` (may be NULL) becomes the register's to free. */
static void reg_write_add(fold *f, Scpb__Field field, const char *item_code, size_t op,
                          const char *text, char *owned, const Scpb__ItemResult *item)
{
    reg *r = f->oom ? NULL : reg_get(f, field, item_code);
    if (!r) {
        sc_free(f->env, owned);
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        reg_write *nw = sc_realloc_array(f->env, r->w, cap, sizeof *nw);
        if (!nw) {
            f->oom = true;
            sc_free(f->env, owned);
            return;
        }
        r->w = nw;
        r->cap = cap;
    }
    r->w[r->n++] = (reg_write){.op = op, .text = text ? text : "", .owned = owned, .item = item};
}

/* The canonical text of an item result: "status" or "status:points". */
static void item_write(fold *f, size_t op, const Scpb__ItemResult *res)
{
    const char *st = sc_name_of(&sc_names_item_status, res->status);
    char buf[64];
    if (res->has_points)
        snprintf(buf, sizeof buf, "%s:%d", st ? st : "?", res->points);
    else
        snprintf(buf, sizeof buf, "%s", st ? st : "?");
    char *text = sc_memdup(f->env, buf, strlen(buf) + 1);
    if (!text)
        f->oom = true;
    else
        reg_write_add(f, SCPB__FIELD__FIELD_ITEM, res->item_code ? res->item_code : "", op, text,
                      text, res);
}

static void hex_write(fold *f, Scpb__Field field, size_t op, const ProtobufCBinaryData *ref,
                      bool has)
{
    if (!has || ref->len != SC_ID_LEN) {
        reg_write_add(f, field, NULL, op, "", NULL, NULL);
        return;
    }
    char *text = sc_alloc(f->env, SC_ID_HEX);
    if (!text) {
        f->oom = true;
        return;
    }
    sc_hex_encode(ref->data, SC_ID_LEN, text, SC_ID_HEX);
    reg_write_add(f, field, NULL, op, text, text, NULL);
}

static void day_write(fold *f, Scpb__Field field, size_t op, int32_t day, bool has)
{
    if (!has) {
        reg_write_add(f, field, NULL, op, "", NULL, NULL);
        return;
    }
    char *text = sc_alloc(f->env, 11);
    if (!text) {
        f->oom = true;
        return;
    }
    sc_date_format(day, text);
    reg_write_add(f, field, NULL, op, text, text, NULL);
}

void mg_reg_write(fold *f, Scpb__Field field, size_t op, const char *text, char *owned)
{
    reg_write_add(f, field, NULL, op, text, owned, NULL);
}

void mg_day_write(fold *f, Scpb__Field field, size_t op, int32_t day, bool has)
{
    day_write(f, field, op, day, has);
}

void mg_hex_write(fold *f, Scpb__Field field, size_t op, const ProtobufCBinaryData *ref, bool has)
{
    hex_write(f, field, op, ref, has);
}

/* The initial values a finding's create op writes to every field register. */
static void finding_create_writes(fold *f, size_t op, const Scpb__FindingCreate *c)
{
    const char *grade = sc_name_of(&sc_names_grade, c->grade);
    reg_write_add(f, SCPB__FIELD__FIELD_DESCRIPTION, NULL, op, c->description, NULL, NULL);
    reg_write_add(f, SCPB__FIELD__FIELD_GRADE, NULL, op, grade ? grade : "", NULL, NULL);
    day_write(f, SCPB__FIELD__FIELD_DEADLINE, op, c->deadline_day, c->has_deadline_day);
    hex_write(f, SCPB__FIELD__FIELD_RESPONSIBLE, op, &c->responsible, c->has_responsible);
    reg_write_add(f, SCPB__FIELD__FIELD_CATEGORY, NULL, op, c->category, NULL, NULL);
    reg_write_add(f, SCPB__FIELD__FIELD_LOCATION, NULL, op, c->location, NULL, NULL);
}

/*
 * The frontier of register r among the writes for which keep() holds: writes
 * that no other kept write has in its causal past.  `below` collects the
 * strict pasts of all kept writes, so each test is one bit.  Returns the
 * count; the frontier goes into out (indices into r->w) in fold order.
 */
static size_t reg_frontier(fold *f, const reg *r, bool (*keep)(const fold *, const reg_write *),
                           size_t *out)
{
    uint64_t *below = mg_alloc(f, f->words, sizeof *below);
    if (!below)
        return 0;
    for (size_t k = 0; k < r->n; k++) {
        if (!keep(f, &r->w[k]))
            continue;
        size_t op = r->w[k].op;
        const uint64_t *s = mg_row(f, op);
        for (size_t w = 0; w < f->words; w++)
            below[w] |= s[w] & (w == op >> 6 ? ~(UINT64_C(1) << (op & 63)) : ~UINT64_C(0));
    }
    size_t m = 0;
    for (size_t k = 0; k < r->n; k++)
        if (keep(f, &r->w[k]) && !BIT(below, r->w[k].op))
            out[m++] = k;
    sc_free(f->env, below);
    /* Insertion sort by fold rank: frontiers are small. */
    for (size_t a = 1; a < m; a++)
        for (size_t b = a; b > 0 && f->rank[r->w[out[b - 1]].op] > f->rank[r->w[out[b]].op]; b--) {
            size_t t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
    return m;
}

/* An overruled approval's deadline does not count either (merge_gov.c). */
static bool keep_not_voided_or_late(const fold *f, const reg_write *w)
{
    return !w->late && !f->voided[w->op] && !mg_gov_overruled(f, w->op);
}

/*
 * Resolve register r into (winning write index or r->n) and raise its
 * conflict.  With late item results, each one the covered writes have not
 * seen is raised beside the value in effect.  prefer: the register's safe
 * value, which wins over the others of the frontier (the last write of it
 * in fold order), or NULL for the last writer.
 */
size_t mg_reg_resolve(fold *f, Scpb__EntityState *st, const reg *r, const char *prefer)
{
    size_t *front = mg_alloc(f, r->n + 1, sizeof *front);
    const char **vals = mg_alloc(f, r->n + 2, sizeof *vals);
    size_t *ops = mg_alloc(f, r->n + 2, sizeof *ops);
    size_t win = r->n;
    if (f->oom)
        goto done;
    size_t m = reg_frontier(f, r, keep_not_voided_or_late, front);
    if (m == 0 && f->oom)
        goto done;
    if (m > 0)
        win = front[m - 1];
    for (size_t k = m; prefer && k > 0; k--)
        if (strcmp(r->w[front[k - 1]].text, prefer) == 0) {
            win = front[k - 1];
            break;
        }
    size_t nv = 0;
    if (win < r->n) {
        vals[nv] = r->w[win].text;
        ops[nv++] = r->w[win].op;
    }
    bool differ = false;
    for (size_t k = 0; k < m; k++) {
        if (front[k] == win)
            continue;
        const reg_write *w = &r->w[front[k]];
        if (strcmp(w->text, r->w[win].text) != 0) {
            differ = true;
            vals[nv] = w->text;
            ops[nv++] = w->op;
        }
    }
    /* Late results: not covered by the submission and not seen by any covered write. */
    for (size_t k = 0; k < r->n; k++) {
        const reg_write *w = &r->w[k];
        if (!w->late || f->voided[w->op])
            continue;
        bool seen = false;
        for (size_t j = 0; j < r->n && !seen; j++)
            seen = !r->w[j].late && mg_in_past(f, w->op, r->w[j].op);
        if (!seen) {
            differ = true;
            vals[nv] = w->text;
            ops[nv++] = w->op;
        }
    }
    if (differ) {
        if (win == r->n) {
            /* Only late results: nothing in effect; show an empty value first. */
            for (size_t k = nv; k > 0; k--) {
                vals[k] = vals[k - 1];
                ops[k] = ops[k - 1];
            }
            vals[0] = "";
            ops[0] = f->create;
            nv++;
        }
        mg_add_conflict(f, st, r->field, r->field == SCPB__FIELD__FIELD_ITEM ? r->item_code : NULL,
                        vals, ops, nv);
    }
done:
    sc_free(f->env, front);
    sc_free(f->env, vals);
    sc_free(f->env, ops);
    return win;
}

const reg *mg_reg_find(const fold *f, Scpb__Field field)
{
    for (size_t r = 0; r < f->nregs; r++)
        if (f->regs[r].field == field)
            return &f->regs[r];
    return NULL;
}

/* The grade in effect within op i's past (LWW over the grade register's frontier there). */
int mg_grade_in_past(fold *f, size_t i)
{
    reg *r = NULL;
    for (size_t k = 0; k < f->nregs; k++)
        if (f->regs[k].field == SCPB__FIELD__FIELD_GRADE)
            r = &f->regs[k];
    if (!r)
        return SCPB__GRADE__GRADE_GENERAL;
    size_t best = r->n;
    for (size_t a = 0; a < r->n; a++) {
        size_t op = r->w[a].op;
        if (!mg_in_past(f, op, i))
            continue;
        bool dominated = false;
        for (size_t b = 0; b < r->n && !dominated; b++)
            dominated = b != a && mg_in_past(f, r->w[b].op, i) && mg_in_past(f, op, r->w[b].op);
        if (!dominated && (best == r->n || f->rank[op] > f->rank[r->w[best].op]))
            best = a;
    }
    if (best == r->n)
        return SCPB__GRADE__GRADE_GENERAL;
    return strcmp(r->w[best].text, "major") == 0 ? SCPB__GRADE__GRADE_MAJOR
                                                 : SCPB__GRADE__GRADE_GENERAL;
}

/* ---- voids ---- */

static bool voided_in_past(const fold *f, size_t i)
{
    for (size_t k = 0; k < f->nvoids; k++)
        if (mg_in_past(f, f->voids[k], i))
            return true;
    return false;
}

void mg_mark_voided(fold *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const Scpb__Op *op = mg_op(f, i);
        if (f->valid[i] && op->body_case == SCPB__OP__BODY_VOID_RECORD &&
            op->void_record->has_target_op) {
            size_t t = mg_find_id(f, op->void_record->target_op.data);
            if (t < f->n)
                f->voided[t] = true;
        }
    }
}

/* ---- the kinds' rules (the judge hooks of opkinds.def) ---- */

/* A kind's fold column in opkinds.def. */
typedef struct fold_rule {
    /* Validity and lifecycle writes, from the status in the op's past (-1 and f->n without a
     * lifecycle, or for a create); NULL: none. */
    const char *(*judge)(fold *f, size_t i, int past, size_t winner);
    void (*record)(fold *f, size_t i); /* register writes of a valid op; NULL: none */
    unsigned flags;                    /* VOIDABLE, AFTER_VOID */
} fold_rule;

static const fold_rule *rule_of(Scpb__Op__BodyCase kind);

/* The op that verified the status in effect at winner (f->n when none). */
static size_t verifier_of(const fold *f, size_t winner)
{
    return winner < f->n ? f->lver[winner] : f->n;
}

static const char *judge_inspection_open(fold *f, size_t i, int past, size_t winner)
{
    mg_life_write(f, i, I_DRAFT, f->n);
    return NULL;
}

static const char *judge_item_result(fold *f, size_t i, int past, size_t winner)
{
    if (past != I_DRAFT)
        return "the inspection is submitted: amend it instead of scoring";
    return NULL;
}

static const char *judge_inspection_submit(fold *f, size_t i, int past, size_t winner)
{
    if (past != I_DRAFT)
        return "the inspection is already submitted";
    mg_life_write(f, i, I_SUBMITTED, f->n);
    mg_push(f, &f->submits, &f->nsubmits, i);
    return NULL;
}

static const char *judge_inspection_amend(fold *f, size_t i, int past, size_t winner)
{
    if (past != I_SUBMITTED)
        return "only a submitted inspection is amended; edit the draft instead";
    return NULL;
}

static const char *judge_finding_create(fold *f, size_t i, int past, size_t winner)
{
    const Scpb__FindingCreate *c = mg_op(f, i)->finding_create;
    bool spot = c->has_fixed_on_spot && c->fixed_on_spot;
    /* Fixed on the spot (当场整改): the creator reported the rectification. */
    if (spot)
        mg_push(f, &f->reports, &f->nreports, i);
    mg_life_write(f, i, spot ? F_SUBMITTED : F_OPEN, f->n);
    return NULL;
}

static const char *judge_rectification_report(fold *f, size_t i, int past, size_t winner)
{
    if (past != F_OPEN && past != F_SUBMITTED)
        return "a rectification report needs an open finding";
    mg_life_write(f, i, F_SUBMITTED, f->n);
    mg_push(f, &f->reports, &f->nreports, i);
    return NULL;
}

static const char *judge_revisit(fold *f, size_t i, int past, size_t winner)
{
    const Scpb__Revisit *r = mg_op(f, i)->revisit;
    bool acceptance = r->has_acceptance && r->acceptance;
    const char *why = acceptance ? mg_gov_judge_acceptance(f, i) : NULL;
    if (why)
        return why;
    bool lift = r->has_lifts_stop_work && r->lifts_stop_work;
    if (lift && (why = mg_esc_judge_lift(f, i)))
        return why;
    if (r->result == SCPB__REVISIT_RESULT__REVISIT_RECTIFIED && past == F_OPEN)
        return "a revisit cannot verify a finding that nothing was reported on";
    if (lift) /* valid from here on */
        mg_esc_record_lift(f, i);
    if (r->result == SCPB__REVISIT_RESULT__REVISIT_RECTIFIED) {
        /* An acceptance (验收) verifies a verified finding anew: it becomes its verifier. */
        if (past == F_SUBMITTED || (acceptance && past == F_VERIFIED))
            mg_life_write(f, i, F_VERIFIED, i);
        return NULL; /* verified or closed: a confirming look-back, no transition */
    }
    if (past == F_SUBMITTED || past == F_VERIFIED || past == F_CLOSED)
        mg_life_write(f, i, F_OPEN, f->n);
    return NULL;
}

static const char *judge_closure(fold *f, size_t i, int past, size_t winner)
{
    if (past != F_VERIFIED)
        return "closing (销号) needs a verified finding";
    if (mg_esc_stop_work_in_past(f, i))
        return "the finding is under a stop-work order (停工整改): a rectified revisit lifts it "
               "before it is closed";
    if (mg_grade_in_past(f, i) == SCPB__GRADE__GRADE_MAJOR) {
        size_t v = verifier_of(f, winner);
        if (v == f->n)
            return "closing a major hazard needs a verifying revisit";
        for (size_t k = 0; k < f->nreports; k++)
            if (mg_in_past(f, f->reports[k], i) && same_person(f, f->reports[k], v))
                return "a major hazard must be verified by someone other than the reporting unit";
        const char *why = mg_gov_judge_closure(f, i, v);
        if (why)
            return why;
    }
    mg_life_write(f, i, F_CLOSED, verifier_of(f, winner));
    return NULL;
}

static const char *judge_reopen(fold *f, size_t i, int past, size_t winner)
{
    if (past != F_VERIFIED && past != F_CLOSED)
        return "only a verified or closed finding can be reopened";
    mg_life_write(f, i, F_OPEN, f->n);
    return NULL;
}

static const char *judge_void_record(fold *f, size_t i, int past, size_t winner)
{
    const Scpb__VoidRecord *v = mg_op(f, i)->void_record;
    if (!v->has_target_op) {
        mg_push(f, &f->voids, &f->nvoids, i);
        return NULL;
    }
    size_t t = v->target_op.len == SC_HASH_LEN ? mg_find_id(f, v->target_op.data) : f->n;
    if (t == f->n || !mg_in_past(f, t, i) || !f->valid[t])
        return "a void names an op that is not in its causal past";
    if (!(rule_of(mg_op(f, t)->body_case)->flags & VOIDABLE))
        return "only a photo, a note or an item result can be voided on its own";
    return NULL;
}

/* After the notice a deadline moves only by the governance ops (merge_gov.c). */
static const char *judge_field_edit(fold *f, size_t i, int past, size_t winner)
{
    if (mg_op(f, i)->field_edit->field == SCPB__FIELD__FIELD_DEADLINE &&
        mg_gov_notice_in_past(f, i))
        return "after the notice the deadline moves only by an approved extension or a "
               "supervisor's deadline change with its reason";
    return NULL;
}

static const char *judge_resolve(fold *f, size_t i, int past, size_t winner)
{
    Scpb__Field field = mg_op(f, i)->resolve->field;
    if (f->type == SCPB__ENTITY_TYPE__ENTITY_INSPECTION)
        return field != SCPB__FIELD__FIELD_ITEM
                   ? "an inspection's conflicts are about checklist items"
                   : NULL;
    if (field == SCPB__FIELD__FIELD_STATUS) {
        /* Settles a status conflict: keeps the outcome its past already has. */
        mg_life_write(f, i, past, verifier_of(f, winner));
        return NULL;
    }
    if (field == SCPB__FIELD__FIELD_ITEM)
        return "findings have no checklist items";
    if (field == SCPB__FIELD__FIELD_DEADLINE && mg_gov_notice_in_past(f, i))
        return "after the notice a deadline conflict is settled by a supervisor's deadline "
               "change with its reason";
    return NULL;
}

/* ---- the register writes of valid ops (the record hooks of opkinds.def) ---- */

static void record_item_result(fold *f, size_t i)
{
    item_write(f, i, mg_op(f, i)->item_result);
}

static void record_inspection_amend(fold *f, size_t i)
{
    const Scpb__InspectionAmend *a = mg_op(f, i)->inspection_amend;
    for (size_t k = 0; k < a->n_results; k++)
        item_write(f, i, a->results[k]);
}

static void record_finding_create(fold *f, size_t i)
{
    finding_create_writes(f, i, mg_op(f, i)->finding_create);
}

static void record_field_edit(fold *f, size_t i)
{
    const Scpb__FieldEdit *e = mg_op(f, i)->field_edit;
    reg_write_add(f, e->field, NULL, i, e->value, NULL, NULL);
}

static void record_user_create(fold *f, size_t i)
{
    const char *role = sc_name_of(&sc_names_role, mg_op(f, i)->user_create->role);
    reg_write_add(f, SCPB__FIELD__FIELD_ROLE, NULL, i, role ? role : "", NULL, NULL);
    reg_write_add(f, SCPB__FIELD__FIELD_ACCESS, NULL, i, MG_ACCESS_ACTIVE, NULL, NULL);
}

static void record_user_disable(fold *f, size_t i)
{
    reg_write_add(f, SCPB__FIELD__FIELD_ACCESS, NULL, i, MG_ACCESS_DISABLED, NULL, NULL);
}

static void record_user_enable(fold *f, size_t i)
{
    reg_write_add(f, SCPB__FIELD__FIELD_ACCESS, NULL, i, MG_ACCESS_ACTIVE, NULL, NULL);
}

static void record_user_role(fold *f, size_t i)
{
    const char *role = sc_name_of(&sc_names_role, mg_op(f, i)->user_role->role);
    reg_write_add(f, SCPB__FIELD__FIELD_ROLE, NULL, i, role ? role : "", NULL, NULL);
}

static void record_resolve(fold *f, size_t i)
{
    const Scpb__ConflictResolve *r = mg_op(f, i)->resolve;
    if (r->field == SCPB__FIELD__FIELD_ITEM)
        item_write(f, i, r->result);
    else if (r->field != SCPB__FIELD__FIELD_STATUS)
        reg_write_add(f, r->field, NULL, i, r->value, NULL, NULL);
}

/* ---- judging and recording any op ---- */

static const fold_rule rules[] = {
#define SC_OPKIND(CASE, member, name, applies, creates, may, photos, audit, check, fold, server)   \
    {FOLD_JUDGE fold, FOLD_RECORD fold, FOLD_FLAGS fold},
#include "opkinds.def"
#undef SC_OPKIND
};

/* The kind's rule (a kind the table lacks never reaches the fold: sc_op_check). */
static const fold_rule *rule_of(Scpb__Op__BodyCase kind)
{
    static const fold_rule none = {NULL, NULL, 0};
    size_t pos = sc_opkind_pos(kind);
    return pos < sc_opkinds_n ? &rules[pos] : &none;
}

const char *mg_judge(fold *f, size_t i)
{
    const Scpb__Op *op = mg_op(f, i);
    const fold_rule *rule = rule_of(op->body_case);
    /* HLC first: only with it does fold order visit the deps before the op. */
    for (size_t d = 0; d < f->ndep[i]; d++)
        if (mg_op(f, f->dep[i * SC_DEPS_MAX + d])->hlc >= op->hlc)
            return "its HLC is not after the HLC of its deps";
    for (size_t d = 0; d < f->ndep[i]; d++)
        if (!f->valid[f->dep[i * SC_DEPS_MAX + d]])
            return "depends on an op that is not valid";
    if (sc_op_kind_is_create(op->body_case)) {
        if (f->create != f->n)
            return "the entity was already created";
        if (!sc_op_kind_applies(op->body_case, f->type))
            return "this op kind does not apply to the entity type";
        f->create = i;
        return rule->judge ? rule->judge(f, i, -1, f->n) : NULL;
    }
    if (!sc_op_kind_applies(op->body_case, f->type))
        return "this op kind does not apply to the entity type";
    if (f->create == f->n || !mg_in_past(f, f->create, i))
        return "the entity is not created in its causal past";
    if (voided_in_past(f, i) && !(rule->flags & AFTER_VOID))
        return "the entity is voided";
    /* Transitions start from the status in effect in the op's own past. */
    int past = -1;
    size_t winner = f->n;
    if (mg_is_lifecycle_type(f->type) && (past = mg_life_status_past(f, i, &winner)) < 0)
        return "the entity is not created in its causal past";
    return rule->judge ? rule->judge(f, i, past, winner) : NULL;
}

void mg_record(fold *f, size_t i)
{
    const fold_rule *rule = rule_of(mg_op(f, i)->body_case);
    if (f->valid[i] && rule->record)
        rule->record(f, i);
    if (mg_is_lifecycle_type(f->type))
        mg_life_record(f, i);
}
