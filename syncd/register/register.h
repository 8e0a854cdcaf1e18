/*
 * register.h: the central register: the log of signed ops, the states
 * folded from them, and everything derived (devices, codes, visibility,
 * Merkle nodes, checkpoints).  This is the boundary between syncd's
 * storage side and its HTTP side: http.c calls only what is here (and
 * ingest.h), never SQL.
 *
 * Invariants:
 *  - The log is append-only; an op gets the next index only after every
 *    validation passed, and its derived rows are written in the same
 *    transaction, followed by a new signed checkpoint.  A commit either
 *    lands whole or not at all.
 *  - Everything but the log and the enrollment codes can be rebuilt by
 *    replaying the log; `syncd audit` does exactly that and compares.
 *  - The register keeps no state across transactions that the database does
 *    not also hold, so `syncd admin` can write while `syncd serve` runs.
 *
 * Threads: every function is safe to call from any thread.  Reads use a
 * pool of read connections; writes serialize on one writer connection.
 */
#ifndef SD_REGISTER_H
#define SD_REGISTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/config.h"
#include "core/codec.h"
#include "core/seal.h"
#include "core/status.h"
#include "state.pb-c.h"
#include "store/store.h"
#include "wire.pb-c.h"

typedef struct sd_register sd_register;

/* Who is making a request: resolved from the device key that signed it. */
typedef struct sd_principal {
    uint8_t device[SC_KEY_LEN];      /* device public key */
    uint8_t device_id[SC_ID_LEN];    /* the device entity (zero for the server key) */
    uint8_t user[SC_ID_LEN];         /* the user entity (zero for the server key) */
    uint8_t org[SC_ID_LEN];          /* the user's org unit: scope is its subtree */
    Scpb__Role role;                 /* ROLE_ADMIN for the server key */
    char login[SC_CODE_MAX + 1];
    bool revoked;                    /* the device is revoked */
    bool disabled;                   /* the device's user is disabled */
    bool is_server;                  /* the server key itself (syncd admin) */
} sd_principal;

/*
 * `syncd init`: create data_dir with the register database, the server key
 * (mode 0600) and the blob directory.  Refuses (SC_ERR_EXISTS) a directory
 * that exists and is not empty.  origin: the checkpoint origin line; NULL
 * picks "spotcheck/<first 8 hex digits of the server key>".
 */
sc_status sd_register_init(const char *data_dir, const char *origin, sc_err *err);
/*
 * The same with the register where `where` says when it is not NULL
 * (`syncd init --store URL [--blobs DIR]`: sd_store_loc_url,
 * sd_store_loc_blobs): the schema is made in that PostgreSQL database
 * (which must hold no register) and DIR/store.conf names it and the shared
 * blob directory; DIR keeps the server key and that file, and copies of
 * DIR serve the one register.  Messages name the URL without its password.
 */
sc_status sd_register_init_at(const char *data_dir, const char *origin, const sd_store_loc *where,
                              sc_err *err);
/* The blob store's root directory: DIR/blobs, or the shared one DIR/store.conf names. */
const char *sd_register_blob_dir(const sd_register *r);

/*
 * Several syncd share this register (PostgreSQL), and with it the replay
 * cache: sd_register_nonce_claim is an sd_auth_claim_fn (http/auth.h;
 * ctx: the register), sd_register_nonce_sweep forgets the claims of
 * requests signed before before_ms.  Both SC_ERR_INVALID_ARG on a register
 * one syncd serves alone (SQLite).
 */
bool sd_register_shared(const sd_register *r);
sc_status sd_register_nonce_claim(void *r, const uint8_t device[SC_KEY_LEN],
                                  const uint8_t nonce[16], int64_t time_ms, bool *fresh,
                                  sc_err *err);
sc_status sd_register_nonce_sweep(sd_register *r, int64_t before_ms, uint64_t *n, sc_err *err);

/*
 * Open the register in cfg->data_dir.  Refuses a server key file that is
 * readable or writable by group or others (SC_ERR_FORBIDDEN, the message
 * names the file and the fix), and a database of another schema version.
 */
sc_status sd_register_open(const sd_config *cfg, sd_register **out, sc_err *err);
/*
 * The same with an injected environment (clock, randomness, allocator for
 * the core), copied; tests use it for a deterministic clock.  env must be
 * thread-safe when the register is used from several threads.  NULL picks
 * the system environment (wall clock, libsodium randomness, malloc).
 */
sc_status sd_register_open_env(const sd_config *cfg, const sc_env *env, sd_register **out,
                               sc_err *err);
/* Close; NULL is a no-op.  No call may be in progress. */
void sd_register_close(sd_register *r);

const uint8_t *sd_register_server_key(const sd_register *r); /* 32 bytes, borrowed */
const char *sd_register_origin(const sd_register *r);        /* borrowed */
/* The environment the register runs with (borrowed; thread-safe unless a test injected otherwise). */
const sc_env *sd_register_env(const sd_register *r);
/* The system environment: wall clock, libsodium randomness, malloc.  Static, thread-safe. */
const sc_env *sd_env_system(void);

/*
 * Resolve a device key.  SC_ERR_NOT_FOUND (REASON_UNKNOWN_DEVICE) when no
 * device has it; a revoked device is returned with revoked = true, a
 * disabled user's with disabled = true.  The server key resolves to an
 * admin principal with is_server.
 */
sc_status sd_register_principal(sd_register *r, const uint8_t device[SC_KEY_LEN], sd_principal *out,
                                sc_err *err);

/* ---- ingest ---- */

typedef struct sd_result {
    uint8_t op_id[SC_HASH_LEN];
    Scpb__OpStatus status;       /* OP_ACCEPTED, OP_DUPLICATE or OP_REJECTED */
    uint64_t log_index;          /* accepted and duplicate */
    int reason;                  /* Scpb__Reason, rejected */
    char message[SC_ERR_MSG_MAX];
} sd_result;

/* One request's pushed ops.  All memory is the caller's. */
typedef struct sd_batch {
    const sd_principal *who;
    sc_op *const *ops;           /* n ops, opened and signature-verified; NULL where the caller already rejected */
    size_t n;
    sd_result *results;          /* n results; entries for NULL ops are filled by the caller beforehand */
    int64_t received_ms;         /* server receipt time */
} sd_batch;

/*
 * Judge and log the ops of nb batches in one transaction (group commit), in
 * batch order and, within a batch, in op order; then sign a checkpoint and
 * commit durably (fsync).  Fills every result.  SC_ERR_STORAGE (reason
 * REASON_STORAGE) when the commit failed: nothing is stored and every
 * result that would have been accepted is marked rejected with
 * REASON_STORAGE.  SC_OK otherwise, whatever the per-op outcomes.
 */
sc_status sd_register_ingest(sd_register *r, sd_batch *const *batches, size_t nb, sc_err *err);

/*
 * Make an admin fact: fill version, author (the server key), HLC and device
 * time into `op`, seal it with the server key, and ingest it in its own
 * transaction.  *out_index gets its log index.  Used by `syncd admin` and by
 * enrollment.  err carries the reason when the op is rejected
 * (SC_ERR_REJECTED, err->reason a REASON_*).  The caller sets entity,
 * entity_type and the body; a create op without an entity gets a new
 * UUIDv7 (not reported back), and a non-create op without deps gets the
 * entity's current heads as deps.  The HLC is the server clock, raised
 * above the deps' HLCs.  out_index may be NULL.
 */
sc_status sd_register_admin_op(sd_register *r, Scpb__Op *op, uint64_t *out_index, sc_err *err);

/*
 * n admin facts in one transaction, each as sd_register_admin_op makes it
 * (a later op may reference the entity of an earlier one).  Every op is
 * judged, even after one is rejected, and results[i] says how op i fared;
 * the transaction commits only when commit is true and every op was
 * accepted, else nothing of it is kept.  *logged: the ops were committed.
 * SC_OK whatever the verdicts; SC_ERR_STORAGE when the database failed.
 */
sc_status sd_register_admin_ops(sd_register *r, Scpb__Op *const *ops, size_t n, bool commit,
                                sd_result *results, bool *logged, sc_err *err);

/* ---- enrollment ---- */

/*
 * Make a one-time enrollment code for the user with this login, valid for
 * ttl_hours.  The code is written into out (cap bytes, 32 is enough) and
 * stored only as a hash.  A disabled user gets none (SC_ERR_FORBIDDEN,
 * REASON_USER_DISABLED).
 */
sc_status sd_register_enroll_code(sd_register *r, const char *login, unsigned ttl_hours, char *out,
                                  size_t cap, sc_err *err);

/*
 * The hash a typed code is stored under (normalized as enrollment does);
 * false when it is not the form of a code.  out is SC_HASH_LEN bytes.
 */
bool sd_register_code_hash(const char *typed, uint8_t out[SC_HASH_LEN]);
/*
 * Revoke the unused, unexpired code stored under hash, in its own write
 * transaction.  SC_ERR_NOT_FOUND (REASON_UNKNOWN_REFERENCE) when there is
 * no such code (used, expired, revoked already, or unknown).
 */
sc_status sd_register_code_revoke(sd_register *r, const uint8_t hash[SC_HASH_LEN], sc_err *err);
/*
 * Write when n devices were last seen (sync/seen.h), in one transaction.
 * These rows are operational, outside the log.
 */
sc_status sd_register_seen_put(sd_register *r, const sd_seen_row *rows, size_t n, sc_err *err);

/*
 * Enroll a device (POST /v1/enroll).  err->reason says why on failure:
 * REASON_MALFORMED, REASON_BAD_SIGNATURE (proof), REASON_FORBIDDEN_ROLE
 * (code unknown, used or expired), REASON_ENTITY_EXISTS (key enrolled),
 * REASON_STORAGE.  err's reason and message are the same for every code
 * that does not enroll, so that nothing tells a valid code from another;
 * *why (may be NULL) gets, for the operator's log only, which it was:
 * "code_unknown", "code_malformed", "code_used", "code_revoked" or "code_expired" (static
 * text; NULL on success and for other failures).  *out is freed with
 * sd_msg_free.
 */
sc_status sd_register_enroll(sd_register *r, const Scpb__EnrollRequest *req,
                             Scpb__EnrollResponse **out, const char **why, sc_err *err);

/* ---- pull ---- */

typedef struct sd_pull {
    const sd_principal *who;
    const uint8_t *cursor;       /* from the client; NULL or empty: from the start */
    size_t cursor_len;
    uint32_t max;                /* at most this many ops */
    const uint8_t (*exclude)[SC_HASH_LEN]; /* op ids not to return (pushed in this request) */
    size_t nexclude;
} sd_pull;

typedef struct sd_pulled {
    Scpb__LoggedOp **ops;        /* owned; free with sd_pulled_dispose */
    uint8_t (*leaves)[SC_HASH_LEN]; /* the leaf hash of each op's signed_op, as stored; owned */
    size_t n;
    uint8_t *cursor;             /* owned */
    size_t cursor_len;
    bool more;
    Scpb__Checkpoint *checkpoint; /* the latest checkpoint of the pull's snapshot: it covers every
                                     op pulled and every op committed before; owned */
} sd_pulled;

/* What the user may see since the cursor (docs/protocol.md §6).  SC_ERR_MALFORMED for a bad cursor. */
sc_status sd_register_pull(sd_register *r, const sd_pull *req, sd_pulled *out, sc_err *err);
void sd_pulled_dispose(sd_pulled *p);

/* ---- photos (register_photos.c) ---- */

/*
 * Which of the n photos (SHA-256 each) `who` may read: visible[i] is true
 * when an op naming sha[i] belongs to an entity `who` can see, by the rules
 * of pull (docs/protocol.md §6).  A photo no op names is visible to nobody.
 * One snapshot for all n.  On failure every visible[i] is false.
 */
sc_status sd_register_photos_visible(sd_register *r, const sd_principal *who,
                                     const uint8_t (*sha)[SC_HASH_LEN], size_t n, bool *visible,
                                     sc_err *err);

/*
 * The blob store's question (blobs.h, sd_blob_seen_fn), with reg an
 * sd_register: with device (a device key), may that device read the photo
 * (false for a key no device has); with device NULL, does any logged op
 * name it.
 */
sc_status sd_register_photo_seen(void *reg, const uint8_t *device, const uint8_t sha[SC_HASH_LEN],
                                 bool *out, sc_err *err);

/* ---- the log ---- */

/* The latest signed checkpoint.  Free with sd_msg_free. */
sc_status sd_register_checkpoint(sd_register *r, Scpb__Checkpoint **out, sc_err *err);
/* RFC 9162 proofs; REASON_BAD_FIELD for an index or size out of range.  Free with sd_msg_free. */
sc_status sd_register_inclusion(sd_register *r, uint64_t index, uint64_t size,
                                Scpb__InclusionProof **out, sc_err *err);
sc_status sd_register_consistency(sd_register *r, uint64_t old_size, uint64_t size,
                                  Scpb__ConsistencyProof **out, sc_err *err);
/*
 * A sync's receipt: one batched inclusion proof (core/merkle.h) of the
 * leaves idx[0..k) (ascending, distinct) in the tree of `size` leaves,
 * which must not be beyond the log; REASON_BAD_FIELD otherwise.  Costs
 * O(log size) node reads for a run of ops logged together, at most 64 per
 * leaf.  Free with sd_msg_free.
 */
sc_status sd_register_receipt(sd_register *r, const uint64_t *idx, size_t k, uint64_t size,
                              Scpb__MultiInclusionProof **out, sc_err *err);
/*
 * Sign a sync answer's seal with the server key (core/seal.h): out (cap
 * bytes) gets its encoding, *len the length, sig the signature.
 */
sc_status sd_register_seal(sd_register *r, const sc_seal *s, uint8_t *out, size_t cap, size_t *len,
                           uint8_t sig[SC_SIG_LEN], sc_err *err);
/*
 * Raw entries for auditors and admins (SC_ERR_FORBIDDEN otherwise); count
 * at most SC_LOG_ENTRIES_MAX.
 */
sc_status sd_register_entries(sd_register *r, const sd_principal *who, uint64_t start,
                              uint32_t count, Scpb__LogEntries **out, sc_err *err);

/* Free a message returned by this module; NULL is a no-op. */
void sd_msg_free(void *msg);

/*
 * Look up an entity's current state by id (for admin and reports).
 * SC_ERR_NOT_FOUND when absent.  *out is freed with sd_state_free.
 */
sc_status sd_register_state(sd_register *r, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out,
                            sc_err *err);
/* The entity with a code: kind is the entity type (org unit, target, user = login, template with its version). */
sc_status sd_register_lookup_code(sd_register *r, Scpb__EntityType kind, const char *code,
                                  uint32_t version, uint8_t out[SC_ID_LEN], sc_err *err);
void sd_state_free(Scpb__EntityState *st);

/* ---- operations ---- */

typedef struct sd_register_stats {
    uint64_t log_size;           /* ops logged */
    uint64_t entities;
    uint64_t devices;            /* enrolled, not revoked */
    uint64_t checkpoints;
    uint64_t notify_pending;     /* webhook deliveries waiting */
} sd_register_stats;

sc_status sd_register_stats_get(sd_register *r, sd_register_stats *out, sc_err *err);
/* SC_OK when the register can be read and a write transaction can start. */
sc_status sd_register_health(sd_register *r, sc_err *err);

/* ---- webhooks (register_notify.c; docs/operations.md, "Webhooks") ---- */

/* The findings as the overdue scan counted them (the /metrics gauges). */
typedef struct sd_finding_stats {
    uint64_t open_general, open_major, open_other; /* not closed, not voided, by grade */
    uint64_t overdue;             /* sc_finding_overdue today (UTC) */
    int64_t oldest_overdue_s;     /* since the oldest overdue one's deadline passed; 0: none */
    uint64_t escalations;         /* valid escalations on every finding */
} sd_finding_stats;

/*
 * The overdue scan: read every finding, count *st, and queue a
 * finding.overdue event for each finding past its deadline in force (once
 * per finding and deadline: a new deadline that passes is a new event),
 * unless it belongs to an inspection not yet released.  Run by syncd
 * serve every notify.scan_interval_s.
 */
sc_status sd_register_notify_scan(sd_register *r, int64_t now_ms, sd_finding_stats *st,
                                  sc_err *err);
/*
 * Claim hook's due deliveries (store.h, notify_claim) in a write
 * transaction of their own.
 */
sc_status sd_register_notify_claim(sd_register *r, const char *hook, int64_t now_ms,
                                   int64_t lease_ms, unsigned limit, sd_notify_fn fn, void *ctx,
                                   sc_err *err);
/* The name of each hook with pending deliveries, once, in order (store.h, notify_hooks). */
sc_status sd_register_notify_hooks(sd_register *r, sd_name_fn fn, void *ctx, sc_err *err);
/* Whether hook has a delivery to claim now (store.h, notify_due); a read, no write lock. */
sc_status sd_register_notify_due(sd_register *r, const char *hook, int64_t now_ms, bool *due,
                                 sc_err *err);
/* Record a delivery's outcome (store.h, notify_finish). */
sc_status sd_register_notify_finish(sd_register *r, const sd_notify_row *row, sc_err *err);
/* Every delivery, oldest first (the delivery log). */
sc_status sd_register_notify_list(sd_register *r, sd_notify_fn fn, void *ctx, sc_err *err);
/* Queue deliveries in `state` again (id 0: all of them); *n gets how many. */
sc_status sd_register_notify_retry(sd_register *r, int64_t id, int state, uint64_t *n,
                                   sc_err *err);

/*
 * Test hook: let the database grow by at most extra_pages more pages, so
 * the next commit that needs more fails as a full disk would (SQLITE_FULL).
 */
sc_status sd_register_limit_storage(sd_register *r, uint64_t extra_pages, sc_err *err);

#endif
