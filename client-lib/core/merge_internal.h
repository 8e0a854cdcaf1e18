/*
 * merge_internal.h: what the parts of the fold share, and nothing any other
 * module may call (they use merge.h).  sc_fold is one function written in
 * five files, one per seam:
 *
 *   merge.c        sc_fold: the steps in order, the fold's working set and
 *                  its disposal
 *   merge_graph.c  the causal graph: fold order, the deps, the closure
 *   merge_rules.c  registers and the rules: each op judged against its
 *                  causal past (the table's judge hooks), the register
 *                  writes it records (record hooks), voids
 *   merge_life.c   the lifecycle: the status register, memoized per op,
 *                  and the status in effect
 *   merge_state.c  building the EntityState (protobuf): the common part,
 *                  and what each kind adds to it (state hooks)
 *   merge_gov.c    rectification governance: the rules of the notice, the
 *                  plan, sign-for, extensions and acceptance, and the
 *                  finding's GovernanceState
 *   merge_esc.c    escalations, stop-work orders and their lifts, linked
 *                  look-backs
 *   merge_sign.c   the inspected unit's sign-offs and countersigns
 *
 * The per-kind rules are named by opkinds.def (its fold column); the file
 * that holds a hook expands the table to reach it, so hooks stay static.
 */
#ifndef SC_CORE_MERGE_INTERNAL_H
#define SC_CORE_MERGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "merge.h"
#include "opkind.h"

/* ---- the fold's working set (merge.c) ---- */

typedef struct reg_write {
    size_t op;                    /* input index of the writer */
    const char *text;             /* canonical value text; points into the op or into owned */
    char *owned;                  /* formatted text we allocated, else NULL */
    const Scpb__ItemResult *item; /* FIELD_ITEM: the result written, borrowed from the op */
    bool late;                    /* FIELD_ITEM: an item result the submission did not cover */
} reg_write;

typedef struct reg {
    Scpb__Field field;
    const char *item_code; /* FIELD_ITEM only; borrowed from an op */
    reg_write *w;
    size_t n, cap;
} reg;

typedef struct fold {
    const sc_env *env;
    const sc_users *users; /* who devices speak for; NULL: each key its own person */
    sc_status users_rc;    /* the first failure of users->user_of, else SC_OK */
    const sc_fold_input *in;
    size_t n;
    bool oom;

    size_t *order; /* fold order: order[k] is an input index */
    size_t *rank;  /* rank[i]: position of input i in fold order */
    size_t *byid;  /* input indices sorted by op id, for dep lookup */
    size_t *dep;   /* n * SC_DEPS_MAX dep indices */
    size_t *ndep;  /* deps per op */
    uint64_t *clo; /* closure rows: n rows of `words` words; row i has bit j if j is in i's past or
                      j == i */
    size_t words;
    bool *valid;
    const char **why;
    bool *is_dep; /* some op names this one as a dep */
    bool *voided; /* a valid void names this op (filled after judging) */

    Scpb__EntityType type;
    size_t create; /* input index of the valid create, or n */

    /* lifecycle (finding status, inspection status) */
    bool *lw;     /* op i is a valid lifecycle write */
    int *lres;    /* its resulting status */
    size_t *lver; /* finding: the op whose author verified (n if none) */
    size_t *loff; /* life[i] = lpool[loff[i] .. loff[i] + llen[i]) */
    size_t *llen;
    size_t *lpool;
    size_t lpool_n, lpool_cap;
    size_t *scratch; /* n entries */

    /* registers, and an open-addressing index of them by (field, item code): regix[h] is a
     * register's index + 1, 0 empty; regix_cap a power of two, at least twice nregs */
    reg *regs;
    size_t nregs, regs_cap;
    uint32_t *regix;
    size_t regix_cap;

    /* per-kind bookkeeping */
    size_t *voids; /* valid whole-entity voids */
    size_t nvoids;
    size_t *reports; /* valid rectification reports (and a fixed-on-spot create) */
    size_t nreports;
    size_t *submits; /* valid inspection submissions */
    size_t nsubmits;

    /* rectification governance (merge_gov.c): valid ops of each kind, in fold order */
    size_t *notices, *signfors, *plans, *returns, *requests, *decisions;
    size_t nnotices, nsignfors, nplans, nreturns, nrequests, ndecisions;
    size_t *dreq;          /* dreq[k]: the request decisions[k] names */
    uint8_t *outcome_memo; /* each request's final outcome once asked (merge_gov.c) */
    size_t deadline_writer;    /* the write in effect of the deadline register (n: none) */
    size_t responsible_writer; /* ... of the responsible unit's */
    size_t verifier;           /* the op that verified the finding's status in effect (n: none) */

    /* escalation and stop-work (merge_esc.c): valid ops of each kind, in fold order */
    size_t *escalations, *stopworks, *lifts; /* lifts: revisits that lift stop-work orders */
    size_t nescalations, nstopworks, nlifts;

    /* the inspected unit's sign-off (merge_sign.c): valid sign-offs and countersigns */
    size_t *signoffs;
    size_t nsignoffs;
} fold;

#define BIT(row, j) ((row)[(j) >> 6] >> ((j)&63) & 1u)

#define F_OPEN      SCPB__FINDING_STATUS__FINDING_OPEN
#define F_SUBMITTED SCPB__FINDING_STATUS__FINDING_SUBMITTED
#define F_VERIFIED  SCPB__FINDING_STATUS__FINDING_VERIFIED
#define F_CLOSED    SCPB__FINDING_STATUS__FINDING_CLOSED
#define I_DRAFT     SCPB__INSPECTION_STATUS__INSPECTION_DRAFT
#define I_SUBMITTED SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED

/* The fold column of opkinds.def, and its flags. */
#define FOLD_JUDGE(judge, record, state, flags)  judge
#define FOLD_RECORD(judge, record, state, flags) record
#define FOLD_STATE(judge, record, state, flags)  state
#define FOLD_FLAGS(judge, record, state, flags)  flags
#define VOIDABLE                                 1u /* a void may name an op of this kind alone */
#define AFTER_VOID                               2u /* still valid on a voided entity */

/* A zeroed array of n (at least 1) elements; NULL sets f->oom. */
void *mg_alloc(fold *f, size_t n, size_t size);
/* Append i to the list *v of *n ops (allocated with room for every op on first use). */
void mg_push(fold *f, size_t **v, size_t *n, size_t i);

static inline const Scpb__Op *mg_op(const fold *f, size_t i)
{
    return f->in[i].op;
}

static inline const uint8_t *mg_author(const fold *f, size_t i)
{
    return mg_op(f, i)->author.data;
}

/* ---- who made an op (merge_rules.c) ---- */

/* Ops a and b were made by the same person (users, not devices). */
bool mg_same_person(fold *f, size_t a, size_t b);
/* The user op i's author key speaks for; false when no enrollment names it (or on a failure,
 * kept in users_rc). */
bool mg_user_of(fold *f, size_t i, uint8_t user[SC_ID_LEN]);

/* ---- the causal graph (merge_graph.c) ---- */

static inline const uint64_t *mg_row(const fold *f, size_t i)
{
    return f->clo + i * f->words;
}

/* j is in the causal past of i (strictly). */
static inline bool mg_in_past(const fold *f, size_t j, size_t i)
{
    return j != i && BIT(mg_row(f, i), j);
}

/* Fold order, the op ids, the deps and the closure; refuses unknown deps, duplicates and cycles. */
sc_status mg_graph_build(fold *f, sc_err *err);
/* The input index of op id (SC_HASH_LEN bytes), or f->n. */
size_t mg_find_id(const fold *f, const uint8_t *id);

/* ---- registers and the rules (merge_rules.c) ---- */

/* The op's verdict against its causal past: NULL when valid, else why not. */
const char *mg_judge(fold *f, size_t i);
/* After judging: the op's register writes and its memoized lifecycle frontier. */
void mg_record(fold *f, size_t i);
/* Mark every op a valid single-op void names (f->voided). */
void mg_mark_voided(fold *f);
/* Register `field` (not FIELD_ITEM), or NULL when nothing wrote it. */
const reg *mg_reg_find(const fold *f, Scpb__Field field);
/* Record a write of text to register field by op (owned: freed with the fold, may be NULL). */
void mg_reg_write(fold *f, Scpb__Field field, size_t op, const char *text, char *owned);
/* A date (YYYY-MM-DD, or "" when !has) or an id (32 hex digits) written to a register. */
void mg_day_write(fold *f, Scpb__Field field, size_t op, int32_t day, bool has);
void mg_hex_write(fold *f, Scpb__Field field, size_t op, const ProtobufCBinaryData *ref, bool has);
/* The grade in effect within op i's past. */
int mg_grade_in_past(fold *f, size_t i);
/*
 * The winning write of r (an index into r->w, or r->n) and r's conflict,
 * added to st; prefer (or NULL) is the value that wins a disagreeing
 * frontier (safety first), else the last writer in fold order wins.
 */
size_t mg_reg_resolve(fold *f, Scpb__EntityState *st, const reg *r, const char *prefer);
/* The values of a user's FIELD_ACCESS register. */
#define MG_ACCESS_ACTIVE   "active"
#define MG_ACCESS_DISABLED "disabled"

/* ---- the lifecycle (merge_life.c) ---- */

bool mg_is_lifecycle_type(Scpb__EntityType t);
/* Op i is a lifecycle write: its status becomes result; verifier is the verifying op (or f->n). */
void mg_life_write(fold *f, size_t i, int result, size_t verifier);
/* The status in op i's past (-1 when nothing is there), and the write in effect there (*winner). */
int mg_life_status_past(fold *f, size_t i, size_t *winner);
/* Memoize op i's lifecycle frontier (after judging it). */
void mg_life_record(fold *f, size_t i);
/* The lifecycle frontier over every op, in fold order, into front (n entries); returns its size. */
size_t mg_life_final(fold *f, size_t *front);
/* The write in effect of a frontier (f->n when it is empty). */
size_t mg_life_winner(fold *f, const size_t *front, size_t m);
/* A FIELD_STATUS conflict in st when the frontier's statuses differ from the winner's. */
void mg_life_conflict(fold *f, Scpb__EntityState *st, const size_t *front, size_t m, size_t win);

/* ---- rectification governance (merge_gov.c) ---- */

/* The judge, record and state hooks opkinds.def names for the governance kinds. */
const char *mg_judge_notice(fold *f, size_t i, int past, size_t winner);
const char *mg_judge_sign_for(fold *f, size_t i, int past, size_t winner);
const char *mg_judge_plan(fold *f, size_t i, int past, size_t winner);
const char *mg_judge_plan_return(fold *f, size_t i, int past, size_t winner);
const char *mg_judge_extension_request(fold *f, size_t i, int past, size_t winner);
const char *mg_judge_extension_decision(fold *f, size_t i, int past, size_t winner);
const char *mg_judge_deadline_change(fold *f, size_t i, int past, size_t winner);
void mg_record_notice(fold *f, size_t i);
void mg_record_plan(fold *f, size_t i);
void mg_record_extension_decision(fold *f, size_t i);
void mg_record_deadline_change(fold *f, size_t i);
void mg_state_org_policy(fold *f, Scpb__EntityState *st, size_t i);

/* A notice is in op i's causal past. */
bool mg_gov_notice_in_past(const fold *f, size_t i);
/* Op i (a revisit marked acceptance, 验收) may accept: NULL, else why not. */
const char *mg_gov_judge_acceptance(fold *f, size_t i);
/* Closure i of a major hazard whose verifying revisit is v, under the governance rules. */
const char *mg_gov_judge_closure(fold *f, size_t i, size_t v);
/*
 * A deadline write that does not count in the final state: an approval
 * whose request ended up not approved (a concurrent rejection wins).
 */
bool mg_gov_overruled(const fold *f, size_t op);
/* The finding's GovernanceState (after its fields and lifecycle), with plan and extension
 * conflicts; nothing for a finding of the earlier rules that no governance op touched. */
void mg_gov_state(fold *f, Scpb__EntityState *st, Scpb__FindingState *s);

/* The deadline in force in op i's causal past: false when there is none. */
bool mg_gov_deadline_in_past(fold *f, size_t i, int32_t *day);

/* ---- escalation, stop-work and look-backs (merge_esc.c) ---- */

const char *mg_judge_escalation(fold *f, size_t i, int past, size_t winner);
const char *mg_judge_stop_work(fold *f, size_t i, int past, size_t winner);
void mg_state_escalation(fold *f, Scpb__EntityState *st, size_t i);
/* A stop-work order is in force in op i's causal past (lifted by no lift there). */
bool mg_esc_stop_work_in_past(const fold *f, size_t i);
/* Revisit i may lift the stop-work orders in its past: NULL, else why not. */
const char *mg_esc_judge_lift(const fold *f, size_t i);
/* Valid revisit i lifts them (judged by mg_esc_judge_lift). */
void mg_esc_record_lift(fold *f, size_t i);
/* A valid revisit i naming its look-back round: its entry in s->look_backs. */
void mg_esc_state_revisit(fold *f, Scpb__FindingState *s, size_t i);
/* The stop-work orders with their lifts, and whether one is in force. */
void mg_esc_state(fold *f, Scpb__FindingState *s);

/* ---- the inspected unit's sign-off (merge_sign.c) ---- */

const char *mg_judge_sign_off(fold *f, size_t i, int past, size_t winner);
const char *mg_judge_countersign(fold *f, size_t i, int past, size_t winner);
/* A valid sign-off or countersign i: its entry in the inspection's sign_offs. */
void mg_state_sign_off(fold *f, Scpb__EntityState *st, size_t i);

/* ---- building the state (merge_state.c) ---- */

/* The state of the judged ops; NULL (and f->oom) when out of memory. */
Scpb__EntityState *mg_state_build(fold *f);
/* Protobuf values for the state, allocated with the fold's env (f->oom on failure). */
void *mg_new_msg(fold *f, size_t size, void (*init)(void *));
bool mg_set_bytes(fold *f, ProtobufCBinaryData *dst, protobuf_c_boolean *has, const void *src,
                  size_t len);
char *mg_str_dup(fold *f, const char *s);
void *mg_msg_copy(fold *f, const ProtobufCMessage *m);
/* Add a conflict on field (and item_code) listing m values and the ops that wrote them. */
void mg_add_conflict(fold *f, Scpb__EntityState *st, Scpb__Field field, const char *item_code,
                     const char **values, const size_t *ops, size_t m);

#endif
