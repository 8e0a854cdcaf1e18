/*
 * store.h: the register's storage interface.  The register modules
 * (register*.c), tlog.c, visibility.c, audit.c and export.c reach the
 * database only through this table of functions, behind which sit two
 * backends: store_sqlite.c (the embedded default, one process per data
 * directory) and store_pg.c (PostgreSQL, shared by several syncd).  A data
 * directory names its backend (sd_store_locate).  All SQL lives in the
 * backends.
 *
 * One sd_store is one database connection, used by one thread at a time.
 * Writes happen only between begin(write = true) and commit/rollback; a
 * write transaction takes the register's write lock at once, so two
 * processes (syncd serve and syncd admin; with PostgreSQL, every syncd
 * serve on the register) serialize on it.  Reads may run
 * inside a read transaction (one snapshot) or outside any (each call its
 * own snapshot).
 *
 * Errors: SC_ERR_NOT_FOUND for a missing row where a function says so;
 * SC_ERR_STORAGE for everything the database refuses (disk full, I/O
 * error, busy past the timeout, constraint broken), with the database's
 * message in err; after such an error inside a transaction the caller
 * rolls back (PostgreSQL aborts the transaction at the first error; the
 * register never goes on after one with either backend).  Pointers in
 * rows handed to a scan callback are borrowed for the duration of that
 * callback only.  A scan's callback may call the store on the same
 * connection.
 *
 * The tables (docs/data-model.md, "Server register"): meta, ops, entities,
 * codes, devices, assignees, enroll_codes, merkle, checkpoints, releases,
 * photo_refs, device_seen, notify.
 */
#ifndef SD_STORE_H
#define SD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/status.h"

/* The schema version this build reads and writes (meta key "schema_version"). */
#define SD_SCHEMA_VERSION 7

/* Who may see an entity (docs/protocol.md §6); stored per entity. */
typedef enum sd_vis_class {
    SD_VIS_ALL = 0,               /* org units, targets, users, devices, score sheets */
    SD_VIS_ASSIGNMENT_OPEN = 1,   /* assignment with open disclosure */
    SD_VIS_ASSIGNMENT_SECRET = 2, /* unannounced or experiential assignment */
    SD_VIS_INSPECTION = 3,        /* an inspection, or a finding made in one */
    SD_VIS_FINDING_FREE = 4,      /* a finding without an inspection (complaint, hotline) */
    SD_VIS_SELF_CHECK = 5,        /* a self-check (自查) by the responsible unit, or a finding of one */
} sd_vis_class;

/* One logged op. */
typedef struct sd_op_row {
    uint64_t idx;                    /* 0-based log index */
    uint8_t op_id[SC_HASH_LEN];
    uint8_t entity[SC_ID_LEN];
    uint8_t author[SC_KEY_LEN];
    int kind;                        /* Scpb__Op__BodyCase */
    uint64_t hlc;
    int64_t received_ms;             /* server receipt time */
    const uint8_t *signed_op;        /* SignedOp encoding; borrowed (see each function) */
    size_t signed_len;               /* bytes */
    uint8_t leaf_hash[SC_HASH_LEN];  /* RFC 9162 leaf hash of signed_op */
} sd_op_row;

/* One entity: its folded state and what visibility and references need without decoding it. */
typedef struct sd_entity_row {
    uint8_t id[SC_ID_LEN];
    int type;                        /* Scpb__EntityType */
    uint32_t op_count;
    uint64_t last_idx;               /* log index of its latest op */
    uint8_t *state;                  /* EntityState encoding; see each function for ownership */
    size_t state_len;                /* bytes */
    uint8_t state_hash[SC_HASH_LEN];
    bool has_target;
    uint8_t target[SC_ID_LEN];       /* assignment, inspection, finding: its target */
    bool has_scope;
    uint8_t scope_org[SC_ID_LEN];    /* the org unit whose subtree holds it: a target's org; for
                                        assignments, inspections, findings their target's org; for
                                        an org unit its parent (absent for a root) */
    int vis_class;                   /* sd_vis_class */
    bool released;                   /* inspection submitted (inspection and its findings) */
    bool has_inspection;
    uint8_t inspection[SC_ID_LEN];   /* finding: the inspection it was made in */
} sd_entity_row;

/* One enrolled device. */
typedef struct sd_device_row {
    uint8_t key[SC_KEY_LEN];         /* Ed25519 public key */
    uint8_t device[SC_ID_LEN];       /* the device entity */
    uint8_t user[SC_ID_LEN];         /* the user entity */
    uint64_t enrolled_idx;           /* log index of the DeviceEnroll */
    bool revoked;
    uint64_t revoked_idx;            /* log index of the first DeviceRevoke */
} sd_device_row;

/* One enrollment code (stored hashed). */
typedef struct sd_enroll_row {
    uint8_t hash[SC_HASH_LEN];       /* SHA-256 of the normalized code */
    uint8_t user[SC_ID_LEN];
    int64_t created_ms;
    int64_t expires_ms;
    bool used;
    int64_t used_ms;
    bool has_device;
    uint8_t device[SC_ID_LEN]; /* the device it enrolled (used codes) */
    bool revoked;              /* revoked by an admin before it was used */
    int64_t revoked_ms;
} sd_enroll_row;

/* When a device was last seen: its latest verified request, and the client it named. */
typedef struct sd_seen_row {
    uint8_t key[SC_KEY_LEN];      /* the device key */
    int64_t seen_ms;              /* Unix ms */
    char agent[SC_AGENT_MAX + 1]; /* the request's User-Agent, printable ASCII; may be empty */
} sd_seen_row;

/* One stored checkpoint. */
typedef struct sd_checkpoint_row {
    uint64_t size;
    uint8_t root[SC_HASH_LEN];
    int64_t time_ms;
    const char *note;                /* signed note text; borrowed (see each function) */
    size_t note_len;
} sd_checkpoint_row;

/* A row of the pull scan: an op and the visibility columns of its entity. */
typedef struct sd_pull_row {
    sd_op_row op;                    /* signed_op borrowed for the callback */
    int type;                        /* entity type */
    int vis_class;
    bool released;
    bool has_scope;
    uint8_t scope_org[SC_ID_LEN];
    uint64_t seq;                    /* release scans: the release event's number */
    bool has_inspection;
    uint8_t inspection[SC_ID_LEN];   /* finding: the inspection it was made in */
} sd_pull_row;

/* Where a webhook delivery stands (notify.state). */
typedef enum sd_notify_state {
    SD_NOTIFY_PENDING = 0,   /* waiting for its next attempt */
    SD_NOTIFY_DELIVERED = 1, /* a receiver answered 2xx */
    SD_NOTIFY_DEAD = 2,      /* notify.max_attempts failed, or its hook is gone */
    SD_NOTIFY_DROPPED = 3,   /* the queue was full when the event happened: never sent */
} sd_notify_state;

/* One webhook delivery: an event for one hook (docs/operations.md, "Webhooks"). */
typedef struct sd_notify_row {
    int64_t id;                 /* the row, in enqueue order (put: assigned) */
    char event[33];             /* the event id: 32 hex digits, the same on every retry */
    char hook[SC_NOTIFY_HOOK_NAME_MAX + 1];
    char type[40];              /* sd_event_name */
    const char *dedupe;         /* put only: one row per (dedupe, hook) */
    const char *body;           /* the JSON payload; borrowed */
    int64_t created_ms;
    int state;                  /* sd_notify_state */
    uint32_t attempts;
    int64_t next_ms;            /* pending: not before */
    int64_t done_ms;            /* delivered, dead, dropped: when; else 0 */
    int last_code;              /* the last answer's HTTP status; 0: none */
    const char *last_error;     /* borrowed; "" when none */
} sd_notify_row;

typedef struct sd_store sd_store;

/* Scan callbacks return true to go on, false to stop (the scan then returns SC_OK). */
typedef bool (*sd_op_fn)(void *ctx, const sd_op_row *row);
typedef bool (*sd_entity_fn)(void *ctx, const sd_entity_row *row);
typedef bool (*sd_device_fn)(void *ctx, const sd_device_row *row);
typedef bool (*sd_checkpoint_fn)(void *ctx, const sd_checkpoint_row *row);
typedef bool (*sd_pull_fn)(void *ctx, const sd_pull_row *row);
typedef bool (*sd_org_fn)(void *ctx, const uint8_t id[SC_ID_LEN], const uint8_t *parent);
typedef bool (*sd_code_fn)(void *ctx, int kind, const char *code, uint32_t version,
                           const uint8_t entity[SC_ID_LEN]);
typedef bool (*sd_pair_fn)(void *ctx, const uint8_t a[SC_ID_LEN], const uint8_t b[SC_ID_LEN]);
typedef bool (*sd_release_fn)(void *ctx, uint64_t seq, const uint8_t entity[SC_ID_LEN],
                              uint64_t idx);
typedef bool (*sd_photo_ref_fn)(void *ctx, const uint8_t entity[SC_ID_LEN], uint64_t idx);
typedef bool (*sd_enroll_fn)(void *ctx, const sd_enroll_row *row);
typedef bool (*sd_notify_fn)(void *ctx, const sd_notify_row *row);
typedef bool (*sd_name_fn)(void *ctx, const char *name);

typedef struct sd_store_vt {
    void (*close)(sd_store *s);

    /* Transactions.  write: take the write lock now (waits up to the busy timeout). */
    sc_status (*begin)(sd_store *s, bool write, sc_err *err);
    sc_status (*commit)(sd_store *s, sc_err *err);
    void (*rollback)(sd_store *s);
    /* A number that changes whenever another connection commits (SQLite: PRAGMA data_version). */
    sc_status (*data_version)(sd_store *s, int64_t *out, sc_err *err);

    /* meta: small named values.  get: SC_ERR_NOT_FOUND when absent; *val is malloc'd, caller frees. */
    sc_status (*meta_get)(sd_store *s, const char *key, uint8_t **val, size_t *len, sc_err *err);
    sc_status (*meta_put)(sd_store *s, const char *key, const void *val, size_t len, sc_err *err);

    /* The log. */
    sc_status (*log_size)(sd_store *s, uint64_t *out, sc_err *err);
    /* The same op id twice (for its one entity) is refused: SC_ERR_STORAGE. */
    sc_status (*op_append)(sd_store *s, const sd_op_row *row, sc_err *err);
    /* Log entries [from, to) in index order. */
    sc_status (*op_scan)(sd_store *s, uint64_t from, uint64_t to, sd_op_fn fn, void *ctx,
                         sc_err *err);
    /*
     * The ops signed by author or of one of the kinds, in index order (for
     * `syncd admin log`; it reads the whole log).
     */
    sc_status (*op_scan_by)(sd_store *s, const uint8_t author[SC_KEY_LEN], const int *kinds,
                            size_t nkinds, sd_op_fn fn, void *ctx, sc_err *err);
    /* An entity's ops in index order. */
    sc_status (*entity_ops)(sd_store *s, const uint8_t entity[SC_ID_LEN], sd_op_fn fn, void *ctx,
                            sc_err *err);
    /* The leaf hash of log entry idx; SC_ERR_NOT_FOUND beyond the log. */
    sc_status (*leaf_get)(sd_store *s, uint64_t idx, uint8_t out[SC_HASH_LEN], sc_err *err);
    /* The leaf hashes of entries [from, from + n) into out (n slots); SC_ERR_NOT_FOUND when any is beyond the log. */
    sc_status (*leaf_range)(sd_store *s, uint64_t from, size_t n, uint8_t (*out)[SC_HASH_LEN],
                            sc_err *err);

    /* Entities.  get: with want_state, row->state is malloc'd (caller frees), else NULL. */
    sc_status (*entity_get)(sd_store *s, const uint8_t id[SC_ID_LEN], bool want_state,
                            sd_entity_row *row, sc_err *err);
    sc_status (*entity_put)(sd_store *s, const sd_entity_row *row, sc_err *err);
    sc_status (*entity_set_released)(sd_store *s, const uint8_t id[SC_ID_LEN], sc_err *err);
    /* Every entity in ascending id order, with its state (borrowed). */
    sc_status (*entity_scan)(sd_store *s, sd_entity_fn fn, void *ctx, sc_err *err);
    /* Every entity of one type in ascending id order, with its state (borrowed). */
    sc_status (*entity_type_scan)(sd_store *s, int type, sd_entity_fn fn, void *ctx, sc_err *err);
    /* The findings made in an inspection (no state). */
    sc_status (*entity_findings)(sd_store *s, const uint8_t inspection[SC_ID_LEN], sd_entity_fn fn,
                                 void *ctx, sc_err *err);
    sc_status (*entity_count)(sd_store *s, uint64_t *out, sc_err *err);
    /* Every org unit and its parent (NULL for a root). */
    sc_status (*org_scan)(sd_store *s, sd_org_fn fn, void *ctx, sc_err *err);

    /* Unique codes: kind is the entity type; version is 0 except for score sheets. */
    sc_status (*code_find)(sd_store *s, int kind, const char *code, uint32_t version,
                           uint8_t entity[SC_ID_LEN], sc_err *err);
    sc_status (*code_put)(sd_store *s, int kind, const char *code, uint32_t version,
                          const uint8_t entity[SC_ID_LEN], sc_err *err);
    sc_status (*code_scan)(sd_store *s, sd_code_fn fn, void *ctx, sc_err *err);

    /* Devices. */
    sc_status (*device_get)(sd_store *s, const uint8_t key[SC_KEY_LEN], sd_device_row *row,
                            sc_err *err);
    sc_status (*device_by_entity)(sd_store *s, const uint8_t device[SC_ID_LEN], sd_device_row *row,
                                  sc_err *err);
    sc_status (*device_put)(sd_store *s, const sd_device_row *row, sc_err *err);
    /* Marks the device revoked at idx unless it already is. */
    sc_status (*device_revoke)(sd_store *s, const uint8_t device[SC_ID_LEN], uint64_t idx,
                               sc_err *err);
    sc_status (*device_scan)(sd_store *s, sd_device_fn fn, void *ctx, sc_err *err);
    /* Enrolled and not revoked. */
    sc_status (*device_count)(sd_store *s, uint64_t *out, sc_err *err);

    /* Inspectors named on assignments. */
    sc_status (*assignee_put)(sd_store *s, const uint8_t assignment[SC_ID_LEN],
                              const uint8_t user[SC_ID_LEN], sc_err *err);
    /* SC_OK when named, SC_ERR_NOT_FOUND when not. */
    sc_status (*assignee_has)(sd_store *s, const uint8_t assignment[SC_ID_LEN],
                              const uint8_t user[SC_ID_LEN], sc_err *err);
    sc_status (*assignee_scan)(sd_store *s, sd_pair_fn fn, void *ctx, sc_err *err);

    /* Enrollment codes.  use: SC_ERR_NOT_FOUND when the code is unknown or already used. */
    sc_status (*enroll_put)(sd_store *s, const sd_enroll_row *row, sc_err *err);
    sc_status (*enroll_get)(sd_store *s, const uint8_t hash[SC_HASH_LEN], sd_enroll_row *row,
                            sc_err *err);
    sc_status (*enroll_use)(sd_store *s, const uint8_t hash[SC_HASH_LEN], int64_t now_ms,
                            const uint8_t device[SC_ID_LEN], sc_err *err);
    /* Every code, oldest first. */
    sc_status (*enroll_scan)(sd_store *s, sd_enroll_fn fn, void *ctx, sc_err *err);
    /* Revoke an unused, unexpired code; SC_ERR_NOT_FOUND when there is none such. */
    sc_status (*enroll_revoke)(sd_store *s, const uint8_t hash[SC_HASH_LEN], int64_t now_ms,
                               sc_err *err);
    /* Revoke every unused, unexpired code of a user; *n gets how many. */
    sc_status (*enroll_revoke_user)(sd_store *s, const uint8_t user[SC_ID_LEN], int64_t now_ms,
                                    uint64_t *n, sc_err *err);

    /*
     * When devices were last seen (device_seen: not in the log, not audited;
     * what `syncd admin device list` shows).  put keeps the later time.
     * get: SC_ERR_NOT_FOUND for a device never seen.
     */
    sc_status (*seen_put)(sd_store *s, const sd_seen_row *row, sc_err *err);
    sc_status (*seen_get)(sd_store *s, const uint8_t key[SC_KEY_LEN], sd_seen_row *row,
                          sc_err *err);

    /* Stored Merkle nodes of perfect subtrees, level >= 1 (level 0 is leaf_get; tlog.h says which levels). */
    sc_status (*node_get)(sd_store *s, unsigned level, uint64_t index, uint8_t out[SC_HASH_LEN],
                          sc_err *err);
    /* The nodes of one level with indexes [from, from + n) into out; SC_ERR_NOT_FOUND when any is missing. */
    sc_status (*node_range)(sd_store *s, unsigned level, uint64_t from, size_t n,
                            uint8_t (*out)[SC_HASH_LEN], sc_err *err);
    sc_status (*node_put)(sd_store *s, unsigned level, uint64_t index,
                          const uint8_t hash[SC_HASH_LEN], sc_err *err);
    sc_status (*node_count)(sd_store *s, uint64_t *out, sc_err *err);
    /* Every stored node in (level, index) order; the callback gets level and index via ctx rows. */
    sc_status (*node_scan)(sd_store *s,
                           bool (*fn)(void *ctx, unsigned level, uint64_t index,
                                      const uint8_t hash[SC_HASH_LEN]),
                           void *ctx, sc_err *err);

    /* Checkpoints.  latest: the largest size; SC_ERR_NOT_FOUND when none.  note is malloc'd (caller frees). */
    sc_status (*checkpoint_put)(sd_store *s, const sd_checkpoint_row *row, sc_err *err);
    sc_status (*checkpoint_latest)(sd_store *s, sd_checkpoint_row *row, char **note, sc_err *err);
    /* In ascending size order (note borrowed). */
    sc_status (*checkpoint_scan)(sd_store *s, sd_checkpoint_fn fn, void *ctx, sc_err *err);
    sc_status (*checkpoint_count)(sd_store *s, uint64_t *out, sc_err *err);

    /* Release events.  next_seq: one more than the largest (0 when none). */
    sc_status (*release_put)(sd_store *s, uint64_t seq, const uint8_t entity[SC_ID_LEN],
                             uint64_t idx, sc_err *err);
    sc_status (*release_next_seq)(sd_store *s, uint64_t *out, sc_err *err);
    sc_status (*release_scan)(sd_store *s, sd_release_fn fn, void *ctx, sc_err *err);

    /*
     * Photos named by ops: one row per (photo, entity), with the log index
     * of the first op of the entity that named it.  put keeps an existing
     * row.  refs: the entities naming sha, in entity order.
     */
    sc_status (*photo_ref_put)(sd_store *s, const uint8_t sha[SC_HASH_LEN],
                               const uint8_t entity[SC_ID_LEN], uint64_t idx, sc_err *err);
    sc_status (*photo_refs)(sd_store *s, const uint8_t sha[SC_HASH_LEN], sd_photo_ref_fn fn,
                            void *ctx, sc_err *err);
    sc_status (*photo_ref_count)(sd_store *s, uint64_t *out, sc_err *err);

    /* Pull: ops from log index `from` with their entity's visibility columns, in index order. */
    sc_status (*pull_log)(sd_store *s, uint64_t from, sd_pull_fn fn, void *ctx, sc_err *err);
    /* Pull: release events from seq `from` with their op and entity columns, in seq order. */
    sc_status (*pull_releases)(sd_store *s, uint64_t from, sd_pull_fn fn, void *ctx, sc_err *err);

    /* Test hook: refuse to grow the database beyond `extra_pages` more pages (simulates a full disk). */
    sc_status (*limit_pages)(sd_store *s, uint64_t extra_pages, sc_err *err);

    /*
     * Mark this connection as the register's single writer, which commits
     * large group transactions back to back: the backend may tune it for
     * that (SQLite: a larger page cache than readers get, and WAL checkpoints moved from the
     * committing thread to a background thread of its own, so a commit
     * never copies the WAL into the database on the writer's time).
     * Durability is unchanged.  Best effort: SC_OK even when a tuning could
     * not be applied.
     */
    sc_status (*set_writer)(sd_store *s, sc_err *err);

    /*
     * The replay cache shared by several syncd on one register (http/auth.h):
     * NULL in a backend one process serves alone (SQLite: the data
     * directory's lock keeps a second syncd out, and its cache in memory is
     * the whole truth).  claim: remember (device, nonce) of a request signed
     * at time_ms, outside any transaction; *fresh is false when some syncd
     * claimed it before.  sweep: forget claims of requests signed before
     * before_ms (no replay of them passes the time check any more); *n gets
     * how many.
     */
    sc_status (*nonce_claim)(sd_store *s, const uint8_t device[SC_KEY_LEN], const uint8_t nonce[16],
                             int64_t time_ms, bool *fresh, sc_err *err);
    sc_status (*nonce_sweep)(sd_store *s, int64_t before_ms, uint64_t *n, sc_err *err);

    /*
     * Webhook deliveries (the notify table: not in the log, not audited).
     * put: a new row (in the write transaction that commits the op the event
     * comes from, so an event is queued exactly when its op is logged);
     * *added is false when a row of the same (dedupe, hook) exists.
     * pending: how many rows are pending, of one hook (NULL: of every
     * hook).  hooks: the name of each hook that has pending rows, once, in
     * order.  due: whether hook has a pending row due at now_ms that no
     * one holds (a read, so that looking costs no write transaction).
     * claim (write transaction): hook's pending rows due at now_ms
     * that no one holds, the earliest due first (then in id order), at most
     * limit, each then held until now_ms + lease_ms (PostgreSQL: FOR UPDATE
     * SKIP LOCKED, so several syncd never claim one row twice).  These read
     * the index of pending rows by (hook, next_ms, id), notify_pending: one
     * hook's count and claim read none of another hook's rows, so one
     * hook's backlog slows no other.  finish: write row->state, attempts,
     * next_ms, done_ms, last_code and last_error of row->id, and
     * let it go.  scan: every row in id order (body borrowed).  retry: rows
     * in `state` (all of them when id is 0, else that one) pending again
     * with no attempts, due now; *n gets how many.
     */
    sc_status (*notify_put)(sd_store *s, sd_notify_row *row, bool *added, sc_err *err);
    sc_status (*notify_pending)(sd_store *s, const char *hook, uint64_t *out, sc_err *err);
    sc_status (*notify_hooks)(sd_store *s, sd_name_fn fn, void *ctx, sc_err *err);
    sc_status (*notify_due)(sd_store *s, const char *hook, int64_t now_ms, bool *due, sc_err *err);
    sc_status (*notify_claim)(sd_store *s, const char *hook, int64_t now_ms, int64_t lease_ms,
                              unsigned limit, sd_notify_fn fn, void *ctx, sc_err *err);
    sc_status (*notify_finish)(sd_store *s, const sd_notify_row *row, sc_err *err);
    sc_status (*notify_scan)(sd_store *s, sd_notify_fn fn, void *ctx, sc_err *err);
    sc_status (*notify_retry)(sd_store *s, int64_t id, int state, int64_t now_ms, uint64_t *n,
                              sc_err *err);

    /*
     * Is the schema the one syncd makes?  *problem gets the first thing that
     * is not ("" when all is).  SQLite: any object, table, column or index
     * that differs from a new register's.  PostgreSQL: a trigger, a rule or
     * row security that syncd never makes (an extension's objects aside).
     * The audit asks, so a register restored from a backup runs no SQL of its
     * own.
     */
    sc_status (*schema_check)(sd_store *s, char *problem, size_t cap, sc_err *err);
} sd_store_vt;

/* Every backend's handle starts with this, so callers reach the table. */
struct sd_store {
    const sd_store_vt *vt;
};

/*
 * Where a data directory's register lives: in PostgreSQL when DIR/store.conf
 * says `store = postgresql://...` (written by `syncd init --store`, mode
 * 0600: the URL may carry a password), else in the SQLite file
 * DIR/register.db.  Its photos: in DIR/blobs, or in the directory
 * store.conf names with `blobs = /ABSOLUTE/PATH`, which the syncd sharing
 * a PostgreSQL register share too (docs/design-changes.md says why photos
 * are files and not rows).
 */
typedef struct sd_store_loc {
    bool pg;
    char target[4096 + 32];       /* the SQLite file, or the URL (secret: may hold a password) */
    char shown[4096 + 32];        /* what messages name: the file, or the URL without its password */
    char blobs[4096 + 32];        /* the blob store's root directory */
    bool shared_blobs;            /* blobs is store.conf's, not DIR/blobs */
} sd_store_loc;

/* The data directory's config file naming a PostgreSQL register. */
#define SD_STORE_CONF "store.conf"

/* Read DIR/store.conf when there is one; SC_ERR_INVALID_ARG naming the line when it is not valid. */
sc_status sd_store_locate(const char *data_dir, sd_store_loc *loc, sc_err *err);
/* A location from a --store URL (postgresql:// or postgres://); SC_ERR_INVALID_ARG otherwise. */
sc_status sd_store_loc_url(const char *url, sd_store_loc *loc, sc_err *err);
/* A shared blob directory (absolute) for loc, as `syncd init --blobs` gives it; SC_ERR_INVALID_ARG else. */
sc_status sd_store_loc_blobs(const char *dir, sd_store_loc *loc, sc_err *err);
/* Write DIR/store.conf for a PostgreSQL location (a new file, mode 0600, synced). */
sc_status sd_store_conf_write(const char *data_dir, const sd_store_loc *loc, sc_err *err);
/* Open the register at loc with its backend (sd_store_sqlite_open, sd_store_pg_open). */
sc_status sd_store_open_at(const sd_store_loc *loc, bool create, sd_store **out, sc_err *err);
/* Locate and open a data directory's existing register. */
sc_status sd_store_open_dir(const char *data_dir, sd_store **out, sc_err *err);
/*
 * Refuse a register whose meta schema_version is not SD_SCHEMA_VERSION,
 * naming it as shown and `syncd migrate`.
 */
sc_status sd_store_check_version(sd_store *s, const char *shown, sc_err *err);

/*
 * Open the SQLite backend on path.  create: make a new database with the
 * schema (refusing an existing file); otherwise the file must exist and
 * carry SD_SCHEMA_VERSION.  *out is closed with s->vt->close(s).
 */
sc_status sd_store_sqlite_open(const char *path, bool create, sd_store **out, sc_err *err);

/* The schema version of the register at path. */
sc_status sd_store_sqlite_version(const char *path, int *version, sc_err *err);

/* Progress of a long operation (a migration, a backup): done of total in the step named. */
typedef void (*sd_store_progress)(void *ctx, const char *step, uint64_t done, uint64_t total);

/*
 * Bring the register at path to SD_SCHEMA_VERSION (store_sqlite_migrate.c),
 * first copying it to backup (a new file) unless backup is NULL.  *from is
 * the version found; nothing is done when it is already this build's.  Each
 * version step commits on its own: after an error the register is at the
 * last version completed, intact.  No other process may be writing it.
 */
sc_status sd_store_sqlite_migrate(const char *path, const char *backup, int *from,
                                  sd_store_progress progress, void *ctx, sc_err *err);

/*
 * Copy the register at path into a new file `to` while other connections
 * (syncd serve, syncd admin) go on writing it: SQLite's online backup,
 * every step inside one read transaction, so the copy is one consistent
 * snapshot (a commit that lands meanwhile is not in it, and never makes
 * the copy start over).  progress (may be NULL) gets pages copied of the
 * total, step "copy the register", after each step of
 * SC_BACKUP_STEP_PAGES pages.  The copy is synced before SC_OK.  `to`
 * must not exist; after a failure it may hold part of a copy, for the
 * caller to remove.
 */
sc_status sd_store_sqlite_backup(const char *path, const char *to, sd_store_progress progress,
                                 void *ctx, sc_err *err);

#endif
