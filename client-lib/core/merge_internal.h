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

    /* registers */
    reg *regs;
    size_t nregs, regs_cap;

    /* per-kind bookkeeping */
    size_t *voids; /* valid whole-entity voids */
    size_t nvoids;
    size_t *reports; /* valid rectification reports (and a fixed-on-spot create) */
    size_t nreports;
    size_t *submits; /* valid inspection submissions */
    size_t nsubmits;
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

/* ---- building the state (merge_state.c) ---- */

/* The state of the judged ops; NULL (and f->oom) when out of memory. */
Scpb__EntityState *mg_state_build(fold *f);
/* Add a conflict on field (and item_code) listing m values and the ops that wrote them. */
void mg_add_conflict(fold *f, Scpb__EntityState *st, Scpb__Field field, const char *item_code,
                     const char **values, const size_t *ops, size_t m);

#endif
