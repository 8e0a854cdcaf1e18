/*
 * register_internal.h: what the register's modules share, and nothing any
 * other part of syncd may call (they use register.h).  The register is
 * one handle implemented by eight files:
 *
 *   register.c         open/close, the read pool, principals, visibility of
 *                      an entity to a principal, lookups, stats, health
 *   register_write.c   write transactions and the entities they cache;
 *                      the two ways ops enter the log (pushed batches,
 *                      admin ops)
 *   register_judge.c   judging one op: the checks of docs/protocol.md §5
 *   register_accept.c  logging an accepted op and the rows it derives
 *                      (entity row, codes, devices, assignees, releases)
 *   register_enroll.c  enrollment codes and device enrollment
 *   register_pull.c    pull and its cursor
 *   register_log.c     checkpoints, proofs and raw log entries
 *   register_photos.c  who may read a photo (the ops naming it, their visibility)
 *   register_notify.c  the webhook events a commit makes, the overdue scan, the
 *                      delivery queue's transactions
 *
 * Invariants the modules keep together:
 *  - Only code running inside a write transaction (sd_txn, under wmu on
 *    the writer connection) writes to the database.
 *  - Memory kept across transactions is validated against the database
 *    before use: the Merkle frontier by the log size, each connection's
 *    org tree by data_version.  Per-transaction caches die with the
 *    transaction.
 *  - A read connection is used by one thread at a time, between
 *    sd_pool_get and sd_pool_put.
 */
#ifndef SD_REGISTER_INTERNAL_H
#define SD_REGISTER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/keys.h"
#include "core/merge.h"
#include "core/merkle.h"
#include "core/reason.h"
#include "register.h"
#include "store/store.h"
#include "visibility.h"

#define R_(x) SC_REASON_##x
#define T_(x) SCPB__ENTITY_TYPE__ENTITY_##x
#define K_(x) SCPB__OP__BODY_##x

/* Read connections kept open; a pull or proof waits when all are busy. */
#define SD_POOL_MAX 16

/* ---- a small map from 16-byte ids to pointers (register.c) ---- */

typedef struct sd_idmap {
    uint8_t (*key)[SC_ID_LEN];
    void **val;    /* NULL: free slot */
    size_t cap, n; /* cap: a power of two, or 0 */
} sd_idmap;

/* The value slot of id, or NULL when absent. */
void **sd_idmap_find(const sd_idmap *m, const uint8_t id[SC_ID_LEN]);
/* Insert or replace; v must not be NULL.  False when out of memory (m unchanged). */
bool sd_idmap_put(sd_idmap *m, const uint8_t id[SC_ID_LEN], void *v);
void sd_idmap_dispose(sd_idmap *m);

/* ---- the handle (register.c) ---- */

/* One database connection and what is cached per connection. */
typedef struct sd_conn {
    sd_store *s;
    sd_orgcache orgs;
} sd_conn;

struct sd_register {
    sd_config cfg;
    sc_env env;
    sc_keypair *kp; /* the server key */
    uint8_t server_key[SC_KEY_LEN];
    char origin[SC_ORIGIN_MAX];
    sd_store_loc where; /* the register: the data directory's SQLite file or PostgreSQL URL */
    /* meta gov_rules_since_ms: when this register first ran with the
     * rectification rules (SC_GOV_RULES); a finding recorded before by an
     * older client keeps its earlier rules (register_judge.c). */
    int64_t gov_since_ms;

    pthread_mutex_t wmu; /* the writer connection and the frontier */
    sd_conn writer;
    sc_merkle_frontier frontier; /* valid when frontier_ok and its size is the log size */
    bool frontier_ok;

    pthread_mutex_t pmu; /* the read pool */
    pthread_cond_t pcv;
    sd_conn *idle[SD_POOL_MAX];
    size_t nidle, nopen;

    sd_idmap nt_told; /* finding -> the deadline a finding.overdue was queued for (the scan's) */
};

/* A read connection, opened on demand; waits while SD_POOL_MAX are in use. */
sc_status sd_pool_get(sd_register *r, sd_conn **out, sc_err *err);
/* Hand it back (ending any read transaction left open); NULL is a no-op. */
void sd_pool_put(sd_register *r, sd_conn *c);

/* ---- small shared helpers (register.c) ---- */

/* Lowercase hex of id into out (cap bytes); empty when it does not fit. */
void sd_hex_id(const uint8_t *id, size_t len, char *out, size_t cap);
/* Decode a stored EntityState; a state that does not decode is a storage failure. */
sc_status sd_decode_state(const sc_env *env, const uint8_t *buf, size_t len,
                          Scpb__EntityState **out, sc_err *err);
/* The entity type's name for messages ("entity" when unknown). */
const char *sd_type_name(int type);
/* The server key or an admin user: may do anything, see everything. */
bool sd_is_admin(const sd_principal *p);
/* Copy len bytes into a new malloc'd dst->data; sets *has when given.  False when out of memory. */
bool sd_bytes_copy(ProtobufCBinaryData *dst, protobuf_c_boolean *has, const void *src, size_t len);

/* The server key as a principal (admin, is_server). */
void sd_principal_server(const sd_register *r, sd_principal *out);
/* Resolve a device key on connection s (see sd_register_principal). */
sc_status sd_principal_load(sd_register *r, sd_store *s, const uint8_t key[SC_KEY_LEN],
                            sd_principal *out, sc_err *err);

/* What decides whether an entity is visible (docs/protocol.md §6), from its row. */
typedef struct sd_vis_facts {
    const uint8_t *id; /* the entity */
    int vis_class;     /* sd_vis_class */
    bool released;
    const uint8_t *scope_org;  /* NULL when it has none (then it is in nobody's scope) */
    const uint8_t *inspection; /* the inspection it belongs to (itself, or a finding's); or NULL */
} sd_vis_facts;

/* Who is looking, and where the facts about them are read. */
typedef struct sd_viewer {
    const sd_principal *p;
    sd_store *s;            /* the connection to read assignees and states on */
    const sc_env *env;      /* decodes states */
    const sd_orgtree *tree; /* s's org tree (from its connection's cache) */
    sd_idmap *named;        /* optional memo: inspection -> (void *)1 named, (void *)2 not */
} sd_viewer;

/*
 * May the viewer see the entity?  Gathers what sd_visible decides on:
 * whether its org unit lies in the viewer's subtree, whether the viewer is
 * named on it (an assignment) or on its inspection's assignment (an
 * inspection or a finding made in one, asked only when it is out of
 * scope).  Storage errors come back as the status; *out is then false.
 */
sc_status sd_visible_to(const sd_viewer *v, const sd_vis_facts *f, bool *out, sc_err *err);

/*
 * Is user named on the assignment the inspection insp was opened under?
 * False for an inspection without one (or no such inspection).  This is
 * what lets an inspector work a cross-district check outside their scope.
 */
sc_status sd_named_on_inspection(sd_store *s, const sc_env *env, const uint8_t insp[SC_ID_LEN],
                                 const uint8_t user[SC_ID_LEN], bool *out, sc_err *err);

/* ---- write transactions (register_write.c) ---- */

/* The batch fold's verdict on one op (sd_judge_op). */
typedef struct sd_verdict {
    const uint8_t *id;        /* SC_HASH_LEN bytes; borrowed from the op */
    const char *why;          /* NULL: valid against its causal past; else the fold's static reason */
} sd_verdict;

/* What webhooks were told of an entity (register_notify.c). */
typedef struct sd_nsum {
    bool shown;           /* an event may name it: not in an inspection that is not released */
    bool finding;
    int status, grade;    /* findings */
    uint32_t escalations; /* findings: valid escalations */
    uint32_t conflicts;   /* open conflicts */
} sd_nsum;

/* An entity as a write transaction sees it. */
typedef struct sd_ent {
    uint8_t id[SC_ID_LEN];
    bool exists;
    sd_entity_row row;        /* row.state: malloc'd by the store or NULL */
    Scpb__EntityState *state; /* decoded (env), owned; NULL until needed */
    bool stale;               /* state is older than ops: fold them before use (sd_ent_state) */
    sc_op **ops;              /* its ops in log order, once loaded */
    uint64_t *idx;            /* idx[i]: the log index of ops[i] */
    bool *own;                /* ops[i] is freed with the cache */
    size_t nops, capops;
    bool ops_loaded;
    bool dirty;               /* row and state are newer than the database's (sd_txn_flush) */
    sd_verdict *verdicts;     /* the batch fold's verdicts on this group commit's ops; owned */
    size_t nverdicts;
    sd_idmap vmap;            /* first 16 bytes of an op id -> its entry in verdicts */
    bool folded;              /* the batch fold ran (or could not) for this entity */
    Scpb__EntityState *batch_state; /* the batch fold's state (env), owned; NULL once used */
    size_t batch_first, batch_n;    /* it folded ops[0, batch_first) and then verdicts[0, batch_n - batch_first) */
    bool nt_taken;                  /* nt_before holds what events told of it (register_notify.c) */
    sd_nsum nt_before;
    sd_idmap codes;                 /* a free-form inspection's item codes, keyed by code_key */
    size_t codes_scanned;           /* ops[0, codes_scanned) are in codes and results_n */
    size_t results_n;               /* an inspection's item results, over ops[0, codes_scanned) */
    uint8_t code_key[16];           /* SipHash key of codes, drawn when it is first used */
} sd_ent;

/*
 * The ops of one group commit, in the order they are judged (NULL ops left
 * out), so that judging an op can look ahead at the later ops of its
 * entity (the batch fold, register_judge.c).
 */
typedef struct sd_pend {
    sc_op **ops;              /* borrowed from the batches */
    size_t *next;             /* next[i]: the next op of ops[i]'s entity, or SIZE_MAX */
    size_t n;
    size_t cur;               /* the op being judged */
} sd_pend;

/* One write transaction on the writer connection (the caller holds wmu). */
typedef struct sd_txn {
    sd_register *r;
    sd_conn *c;
    sd_store *s;
    const sc_env *env;
    int64_t now;
    uint64_t start;   /* log size when the transaction began */
    uint64_t size;    /* the next log index */
    uint64_t rel_seq; /* the next release event */
    bool rel_loaded;
    sc_merkle_frontier fr; /* the frontier as this transaction grows it */
    sd_idmap ents;         /* id -> sd_ent* */
    sd_ent **all;
    size_t nall, capall;
    size_t ndirty; /* entities in `all` whose rows are not written yet */
    size_t cached_ops;
    sd_pend *pend;    /* a group commit's ops (sd_register_ingest); NULL otherwise */
    sd_idmap refused; /* ops refused in this transaction: first 16 bytes -> full id */
    uint8_t (*refused_ids)[SC_HASH_LEN];
    size_t nrefused, caprefused;
    sc_err *err;  /* the storage error, when one happened */
    sc_status rc; /* sticky storage status */
    uint64_t nt_queued, nt_dropped; /* webhook deliveries queued and dropped (queue full) */
    double asked_at, locked_at; /* monotonic seconds: begin called, the write lock held (0: not) */
} sd_txn;

/* Who makes the ops being judged. */
typedef struct sd_actor {
    sd_principal p;
    bool unknown; /* the device is not enrolled */
} sd_actor;

/* Take the write lock, read the log size and the frontier. */
sc_status sd_txn_begin(sd_register *r, sd_txn *t, sc_err *err);
/* Sign a checkpoint when something was logged, then commit; the frontier is kept only then. */
sc_status sd_txn_commit(sd_txn *t);
/* Free the caches; failed: roll back. */
void sd_txn_end(sd_txn *t, bool failed);
/* Record a storage failure (the first one sticks) and return the sticky status. */
sc_status sd_txn_fail(sd_txn *t, sc_status rc);
/* Drop the entity cache when it holds too many decoded ops (between ops only; flushes first). */
void sd_txn_trim(sd_txn *t);
/*
 * Write the rows of the entities this transaction changed but has not
 * written yet (inspections and findings: sd_accept defers them, so an
 * entity that takes many ops in one group commit is encoded and written
 * once).  Call it before anything reads those rows from the database
 * rather than through sd_ent_get; sd_txn_commit does.  Returns the sticky
 * status.
 */
sc_status sd_txn_flush(sd_txn *t);
/* The entity as this transaction sees it; NULL on a storage error (t->rc). */
sd_ent *sd_ent_get(sd_txn *t, const uint8_t id[SC_ID_LEN]);
/*
 * The decoded state of an existing entity, folded first when it is stale;
 * NULL when it does not exist or on a storage error.
 */
const Scpb__EntityState *sd_ent_state(sd_txn *t, sd_ent *e);
/*
 * A state of an existing entity that may be older than its ops (not folded
 * again when stale): only for what its create op fixes (an inspection's
 * target, score sheet, assignment), which every state carries alike.
 */
const Scpb__EntityState *sd_ent_created_state(sd_txn *t, sd_ent *e);
/* Load the entity's logged ops into e->ops (once). */
sc_status sd_ent_load_ops(sd_txn *t, sd_ent *e);
/* Append an op logged at idx to e->ops; own: freed with the cache.  False when out of memory. */
bool sd_ent_push_op(sd_ent *e, sc_op *o, uint64_t idx, bool own);
/* The position in e->ops (loaded) of the op with this id, or e->nops when it is not one of them. */
size_t sd_ent_find_op(const sd_ent *e, const uint8_t id[SC_HASH_LEN]);
/* Remember a refused op, so ops depending on it are refused as such (cascade). */
void sd_refused_add(sd_txn *t, const uint8_t id[SC_HASH_LEN]);
bool sd_refused_has(const sd_txn *t, const uint8_t id[SC_HASH_LEN]);

/*
 * Fill in (as sd_register_admin_op says), seal, judge and log an admin op
 * inside an open transaction.  SC_OK when logged; SC_ERR_REJECTED with the
 * reason in err; else a storage failure.  out_index may be NULL.
 */
sc_status sd_admin_in_txn(sd_txn *t, Scpb__Op *op, uint64_t *out_index, sc_err *err);

/* ---- judging and accepting (register_judge.c, register_accept.c) ---- */

/*
 * The fold's sc_users (core/merge.h) over the devices table as the
 * transaction `ctx` (an sd_txn) has it: the user each enrolled key speaks
 * for, so "someone other than" rules compare people.
 */
sc_status sd_txn_user_of(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN]);
/* The fold's whole sc_users over the transaction: who a key speaks for, and where users sit. */
sc_users sd_txn_users(sd_txn *t);
/* Mark res rejected with reason and a message; returns SC_OK (a verdict, not a failure). */
sc_status sd_reject(sd_result *res, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool sd_rejected(const sd_result *res);

/*
 * Judge one op (docs/protocol.md §5, in that order) and log it when it
 * passes.  Returns a storage status; the verdict is in res.  *taken tells
 * whether the register now owns o (only when own and accepted).
 */
sc_status sd_judge_op(sd_txn *t, const sd_actor *a, sc_op *o, bool own, int64_t received_ms,
                      sd_result *res, bool *taken);

/*
 * Log a judged op: its log row and Merkle leaf, its entity's new row and
 * state st, its derived rows and release events.  On success the cache
 * owns st (and o when own); on failure the caller still owns st.  st may be
 * NULL for an existing inspection or finding (the op was judged by the
 * batch fold): the entity's state is then stale, folded again when it is
 * read or written (sd_ent_state, sd_txn_flush).
 */
sc_status sd_accept(sd_txn *t, sc_op *o, bool own, sd_ent *e, Scpb__EntityState *st,
                    int64_t received_ms, sd_result *res);

/*
 * A referenced entity of `type` the author can see (register_judge.c); NULL
 * when it is missing, of another type or hidden from them (res rejected with
 * UNKNOWN_REFERENCE naming `what`), or on a storage error (t->rc).
 */
sd_ent *sd_judge_ref(sd_txn *t, const sd_actor *a, const ProtobufCBinaryData *id, int type,
                     const char *what, sd_result *res);

/* ---- rectification governance (register_gov.c): the server column of opkinds.def ---- */

sc_status sd_refs_notice(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                         sd_result *res);
sc_status sd_refs_unit_act(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                           sd_result *res);
/* Does a speak for unit org (their org unit is it or above it)?  false, t->rc set, on a failure. */
bool sd_speaks_for(sd_txn *t, const sd_actor *a, const uint8_t org[SC_ID_LEN]);
sc_status sd_refs_report(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                         sd_result *res);
sc_status sd_refs_plan(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                       sd_result *res);
sc_status sd_refs_inspection_submit(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                    sd_result *res);

/* ---- linked look-backs (register_esc.c) ---- */

/* An assignment's rechecks: findings the author sees, of the assignment's target. */
sc_status sd_refs_rechecks(sd_txn *t, const sd_actor *a, const Scpb__AssignmentCreate *b,
                           sd_result *res);
/* A revisit's look-back round re-checks its finding (the server column of opkinds.def). */
sc_status sd_refs_revisit(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                          sd_result *res);

/* ---- the inspected unit's sign-off (register_sign.c): the server column of opkinds.def ---- */

sc_status sd_refs_sign_off(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                           sd_result *res);
sc_status sd_refs_countersign(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                              sd_result *res);

/* ---- self-checks and self-reported hazards (register_self.c) ---- */

/* An inspection_open's self_check fits its author's role. */
sc_status sd_self_open(sd_txn *t, const sd_actor *a, const Scpb__InspectionOpen *b, sd_result *res);
/* An op on inspection e by a (score, submit, amend, photo): self-checks are the unit's own. */
sc_status sd_self_inspection_act(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                 sd_result *res);
/* A finding_create's self_reported fits its author and its inspection. */
sc_status sd_self_finding(sd_txn *t, const sd_actor *a, const Scpb__FindingCreate *b,
                          sd_result *res);
/* A responsible user's notice is of a self-reported finding. */
sc_status sd_self_notice(sd_txn *t, const sd_actor *a, const Scpb__Notice *n, sd_ent *e,
                         sd_result *res);
/* An assignment's verifies: self-checks of its target the author sees. */
sc_status sd_refs_verifies(sd_txn *t, const sd_actor *a, const Scpb__AssignmentCreate *b,
                           sd_result *res);
/* A photo on an inspection (the server column of opkinds.def). */
sc_status sd_refs_photo_attach(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                               sd_result *res);

/* ---- webhook events (register_notify.c) ---- */

/*
 * Before an op changes e (sd_accept): remember, once per transaction, what
 * events have told of it so far.  A no-op when no hook is configured.
 */
void sd_notify_note(sd_txn *t, sd_ent *e);
/* A finding an inspection's submission just released: nothing was told of it yet. */
void sd_notify_released(sd_txn *t, const uint8_t id[SC_ID_LEN]);
/*
 * Queue the events of every entity noted since the last call (a major
 * hazard, a closure, an escalation, a conflict), in this transaction; the
 * entities' rows are written (sd_txn_flush calls it last).  Returns the
 * sticky status.
 */
sc_status sd_notify_flush(sd_txn *t);

/* ---- the log (register_log.c) ---- */

/* A LoggedOp message for a log row (signed bytes copied); NULL when out of memory. */
Scpb__LoggedOp *sd_logged_op_new(const sd_op_row *row);

#endif
