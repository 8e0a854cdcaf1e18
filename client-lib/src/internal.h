/*
 * internal.h: what the modules of libspotcheck share and nothing else sees.
 *
 * The library is split by concern, each module the only one doing its kind
 * of I/O:
 *   client.c     handles, identity, enrollment, unlock, status
 *   store.c      every SQL statement (the replica file)
 *   replica.c    folding entities, resolving ids and codes, the HLC
 *   record.c     making, judging and storing new ops (the recording API)
 *   blobs.c      the content-addressed photo store (files)
 *   query.c      list/show/review/conflicts as JSON
 *   request.c    signed HTTP requests over the handle's transport: headers,
 *                retries, caps, the server's clock, cancellation
 *   transport.c  the default transport: every libcurl call
 *   server.c     the server's URL and TLS trust (sc_server_set_url)
 *   sync.c       the sync algorithm
 *   verify.c     local verification and offline bundle checks
 *
 * Invariants kept together: every change to the replica runs inside one
 * st_begin/st_commit transaction, so an unsynced op is never lost; a stored
 * op is stored with the exact bytes that were signed; an entity's stored
 * state is always sc_fold of its ops that are not rejected.
 */
#ifndef SC_CLIENT_INTERNAL_H
#define SC_CLIENT_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/codec.h"
#include "core/env.h"
#include "core/governance.h"
#include "core/hlc.h"
#include "core/ids.h"
#include "core/keys.h"
#include "core/limits.h"
#include "core/merge.h"
#include "core/names.h"
#include "core/platform.h"
#include "core/status.h"
#include "spotcheck.h"
#include "state.pb-c.h"
#include "wire.pb-c.h"

/*
 * Client-side caps, beside the format's in core/limits.h.
 *  - A sync response holds at most SC_CL_PULL_MAX pulled ops plus results;
 *    ops average well under 2 KiB, so 64 MiB bounds a hostile server while
 *    leaving room for a pull of large score sheets.
 *  - Small responses (enroll, errors, blob HEAD/PUT) are capped at 64 KiB.
 *  - A server URL is at most 512 bytes: more is surely a typo.
 *  - A stored entity state is at most 16 MiB (4096 ops' worth of facts).
 */
#define SC_CL_PULL_MAX 1000
#define SC_CL_RESPONSE_MAX ((size_t)64 * 1024 * 1024)
#define SC_CL_SMALL_RESPONSE_MAX ((size_t)64 * 1024)
#define SC_CL_URL_MAX 512
#define SC_CL_STATE_MAX ((size_t)16 * 1024 * 1024)
/* Round trips in one sc_sync before giving up: a server that says `more`
 * forever must not keep a client looping. */
#define SC_CL_ROUNDS_MAX 100000
/* Rounds in a row that bring nothing new while the server says `more`:
 * a page may be empty (a release being scanned), a hundred in a row is a loop. */
#define SC_CL_IDLE_ROUNDS_MAX 100
/*
 * Photo upload chunks adapt to the link like a congestion window (sync.c):
 * the first chunk of a sync is SC_CL_CHUNK_START bytes (or the ceiling,
 * chunk_bytes, when that is smaller); a chunk accepted in less than
 * SC_CL_CHUNK_FAST_MS lets the next one be twice as big, up to the ceiling;
 * after a cut (a reset connection, a timeout) the bytes go again from the
 * start, and the ceiling becomes half the cut chunk.  The size carries over
 * from photo to photo within one sync and starts again with the next sync.
 *  - 1 MiB to start: the fixed chunk of earlier versions, so a poor link
 *    never risks more than it did.
 *  - 1 s: none of a cut chunk counts (docs/protocol.md §4.3), so what a
 *    chunk risks on a bad link is its time, not its bytes.  Growing only
 *    after a chunk went through in under a second keeps a chunk on a steady
 *    link under about two seconds (it is at most twice one that took less
 *    than one), far from the 30 s request timeout.  And a link that moves
 *    1 MiB in under a second is where syncd's cost per chunk (a hash pass
 *    and an fsync, a few ms) shows: on loopback 4 MB photos go at ~90 MB/s
 *    in 1 MiB chunks and ~130 MB/s whole.  On a slower link those
 *    milliseconds are lost in the transfer, so big chunks gain nothing there
 *    and only risk more.
 */
/*
 * How long a write waits for another handle's or process's write
 * transaction before it fails SC_ERR_STORAGE ("database is locked"): a
 * sync applies one round in one transaction, which takes milliseconds, and
 * a migration of a large replica seconds; 5 s covers both on a slow
 * tablet's flash without hanging an app's call on a stuck peer for long.
 * Readers never wait: WAL gives each read its snapshot.
 */
#define SC_CL_BUSY_MS 5000
/* sc_open_options.busy_ms at most: an hour, longer than any migration, short of a hang. */
#define SC_CL_BUSY_MAX_MS 3600000u
/*
 * The largest `size` a struct that grows may claim (spotcheck.h, "Structs
 * that grow"): the library reads that many bytes from the caller to check
 * that fields it does not know are zero, so a garbage size must not send
 * it far past the struct.  4 KiB is ten times the largest struct's size.
 */
#define SC_CL_STRUCT_MAX      4096u
#define SC_CL_CHUNK_START (1024u * 1024u)
#define SC_CL_CHUNK_FAST_MS 1000
#define SC_CL_TIMEOUT_DEFAULT 30000u
#define SC_CL_RETRIES_DEFAULT 3u
#define SC_CL_BACKOFF_DEFAULT 250u

/* The replica's schema version (store_schema.c says what each one holds). */
#define SC_CL_SCHEMA_VERSION 2

/* Op states in the replica. */
enum { ST_PENDING = 0, ST_ACCEPTED = 1, ST_REJECTED = 2 };
/* Where an op came from. */
enum { ST_LOCAL = 0, ST_PULLED = 1 };
/* Photo store rows: a local photo still to upload, one on the server, one referenced but absent. */
enum { BL_UPLOAD = 0, BL_DONE = 1, BL_MISSING = 2 };

/* The device identity, loaded from the replica's meta table. */
typedef struct sc_ident {
    bool enrolled;
    uint8_t device_key[SC_KEY_LEN];   /* our Ed25519 public key */
    uint8_t server_key[SC_KEY_LEN];
    uint8_t user[SC_ID_LEN];
    uint8_t org[SC_ID_LEN];
    uint8_t device_id[SC_ID_LEN];
    int role;                         /* Scpb__Role */
    char server[SC_CL_URL_MAX];       /* base URL, no trailing slash */
    char origin[SC_ORIGIN_MAX];
    char login[SC_CODE_MAX + 1];
    char name[SC_NAME_MAX + 1];
    uint8_t keyfile[SC_KEYFILE_MAX];  /* the key file bytes (encrypted or plain) */
    size_t keyfile_len;
} sc_ident;

/*
 * TLS trust and proxy (sc_net_options): what the handle was given, and what
 * the replica remembers with the server's URL.  A field NULL is not set; ""
 * (ca_len 0 with ca_set) is set to nothing.
 */
typedef struct sc_trust {
    bool ca_set;
    uint8_t *ca; /* PEM bytes; owned (env), NULL when none */
    size_t ca_len;
    char *ca_dir; /* owned (env) or NULL */
    char *pin;    /* owned (env) or NULL */
    char *proxy;  /* owned (env) or NULL; never remembered */
} sc_trust;

/*
 * The caller's progress callback while a sync runs (sync.c sets it and
 * sends its events; request.c calls it while a request is on the wire).
 */
typedef struct cl_progress {
    sc_progress_v2_fn fn; /* NULL: none */
    void *ctx;
    bool on_wire;      /* call fn while requests run too (sc_sync_v2) */
    const char *phase; /* the last event's phase, done and total */
    uint64_t done, total;
    /* On the wire, done also counts the bytes of this request: those sent
     * (an upload chunk) or received (a photo coming down). */
    enum { CL_WIRE_NONE, CL_WIRE_SENT, CL_WIRE_RECEIVED } bytes;
} cl_progress;

struct sc_client {
    sc_env env;                 /* allocator, clock, randomness (defaults filled in) */
    /* Monotonic milliseconds, called with env.ctx, for timing upload chunks
     * (CLOCK_MONOTONIC; tests put a steppable clock here). */
    int64_t (*mono_ms)(void *ctx);
    sc_client_options opt;      /* copy, defaults filled in */
    void *db;                   /* sqlite3 *, only store.c looks inside */
    void *stmts;                /* store.c's prepared-statement cache; owned, may be NULL */
    int cache_before;           /* PRAGMA cache_size while no sync runs (st_defer_durability) */
    unsigned checked_behind;    /* answers checked while the round before them committed (sync.c) */
    char *path;                 /* replica file; owned */
    char *blob_dir;             /* path.blobs; owned */
    /* SC_OPEN_ENROLL made the replica (and blobs_made, blobs_tmp_made the photo
     * store's directories): closed before an enrollment was stored in it
     * (enroll_stored), it is removed again by sc_client_close. */
    bool made, blobs_made, blobs_tmp_made, enroll_stored;
    bool read_only;             /* SC_OPEN_READONLY: nothing is ever written */
    uint32_t busy_ms;           /* how long a change waits for another writer (SC_CL_BUSY_MS) */
    sc_err err;                 /* the last failure */
    sc_keypair *key;            /* the device key once loaded; owned */
    bool has_custody;           /* sc_client_set_key_custody gave one */
    sc_key_custody custody;     /* the app's keystore that signs (copy) */
    sc_ident id;
    sc_hlc hlc;                 /* the replica's clock (persisted in meta) */
    sc_transport tp;            /* the transport in use: the default one from sc_client_open on */
    const struct tp_async *tpa; /* its start/finish split, when it has one (the default's) */
    sc_trust net;               /* network options given to this handle (sc_client_set_net) */
    sc_trust trust;             /* the TLS trust the replica remembers with its server URL */
    /* Set by sc_client_interrupt (any thread) or a progress callback that
     * returned nonzero; cleared when a network call starts. */
    atomic_int interrupted;
    bool by_progress; /* the progress callback asked to stop (for the message) */
    cl_progress prog;
    /* The server's clock, as requests are signed with it (transport.c, docs/protocol.md §3). */
    int64_t clock_offset_ms;    /* server time minus env time, from the last answer */
    int64_t not_before_ms;      /* the server's start boundary, once it refused one (0: none) */
    char app[SC_APP_NAME_MAX + 1]; /* sc_client_set_app: the User-Agent's app tokens, or "" */
    struct gq_memo *policies;      /* policies by target during one read pass (gq_memo_begin), or NULL */
};

/* Record a failure on the handle and return code. */
sc_status cl_fail(sc_client *c, sc_status code, int reason, const char *fmt, ...)
    SC_PRINTF(4, 5);
/* Parse an entity id (32 hex) or op id/hash (64 hex). */
bool cl_parse_id(const char *text, uint8_t out[SC_ID_LEN]);
bool cl_parse_hash(const char *text, uint8_t out[SC_HASH_LEN]);
/* Hex of an id/hash into a static-size buffer. */
void cl_hex(const uint8_t *bin, size_t len, char *out, size_t cap);
/* ---- devkey.c ---- */

/* Load the device key (plain keys by themselves); SC_ERR_BAD_PASSPHRASE when locked. */
sc_status cl_key(sc_client *c);
/*
 * The key to enroll with and its key file: the custody's, or a new one
 * saved under the passphrase or, with SC_ENROLL_PLAIN_KEY, plain.
 * SC_ERR_INVALID_ARG naming the choices unless exactly one is made.
 */
sc_status cl_enroll_key(sc_client *c, const sc_enroll_params *p, sc_keypair **kp,
                        uint8_t *keyfile, size_t cap, size_t *kf_len);
/* How the replica keeps its key: "passphrase", "custody" or "plain". */
const char *cl_key_kind(const sc_client *c);
/* SC_ERR_NOT_ENROLLED unless enrolled. */
sc_status cl_need_identity(sc_client *c);
/*
 * A caller's struct that begins with its size (spotcheck.h, "Structs that
 * grow") copied into the library's, zeroed first: min is the size of the
 * struct's first release (CL_SIZE_THROUGH its last field then), what its
 * name.  SC_ERR_INVALID_ARG, with why in msg (cap bytes), for a size under
 * min or over SC_CL_STRUCT_MAX, or a field past the library's set.
 */
sc_status cl_sized_in(void *dst, size_t dst_size, size_t min, const void *src, const char *what,
                      char *msg, size_t cap);
/* The same on a handle: the message goes to the handle. */
sc_status cl_sized(sc_client *c, void *dst, size_t dst_size, size_t min, const void *src,
                   const char *what);
/* The bytes of T up to and including field f: a struct's size at the release f was its last. */
#define CL_SIZE_THROUGH(T, f) (offsetof(T, f) + sizeof(((T *)0)->f))
/* SC_ERR_READ_ONLY on a read-only handle, naming what (the call) needs the writer. */
sc_status cl_need_writable(sc_client *c, const char *what);

/* ---- store.c ---- */

typedef struct st_opinfo {
    uint8_t id[SC_HASH_LEN];
    uint8_t entity[SC_ID_LEN];
    int etype, kind, origin, state, reason;
    uint64_t hlc;
    bool has_index;
    uint64_t log_index;
    char message[SC_ERR_MSG_MAX];
} st_opinfo;

/*
 * Open the replica file as mode (sc_open_mode) allows; *made: this call
 * created the file.  A file that must already be a replica is checked
 * before anything is written to it.
 */
sc_status st_open(sc_client *c, const char *path, int mode, bool *made);
/*
 * The schema of the database just opened (store_schema.c): *version 0 for
 * an empty database, else the replica's version.  SC_ERR_STORAGE for a
 * database that is not a replica, and for a replica newer than this
 * library (naming both versions); nothing is written either way.
 */
sc_status st_schema_check(sc_client *c, const char *path, int *version);
/*
 * Give an empty database (version 0) the schema, or migrate an older
 * replica to SC_CL_SCHEMA_VERSION one step and transaction at a time; a
 * replica of this version is left alone.
 */
sc_status st_schema_upgrade(sc_client *c, const char *path, int version);
/* Remove a closed replica's files: path and its -wal, -shm and -journal. */
void st_remove_files(const char *path);
void st_close(sc_client *c);
sc_status st_begin(sc_client *c);
sc_status st_commit(sc_client *c);
void st_rollback(sc_client *c);
/*
 * A sync's many commits, made durable together: st_defer_durability makes
 * later commits of this handle atomic but not yet on disk (SQLite's
 * synchronous=NORMAL in WAL mode: a power cut may lose a suffix of them,
 * never part of one), and st_settle goes back to synchronous=FULL and makes
 * every commit since durable with one fsync of the log: it commits
 * meta last_sync_ms = now_ms when synced, else checkpoints the log.  In
 * between, the handle's page cache is larger (store.c, SYNC_CACHE_KIB).
 */
void st_defer_durability(sc_client *c);
sc_status st_settle(sc_client *c, bool synced, int64_t now_ms);
/*
 * One read snapshot around a query made of several statements, so that a
 * writer's commit between them (another handle, another process) is seen
 * by all of them or none: the query answers one committed state.  *began
 * is false when a transaction was open already (then end does nothing).
 */
sc_status st_snapshot_begin(sc_client *c, bool *began);
void st_snapshot_end(sc_client *c, bool began);

/* meta: small named values.  get into a caller buffer; SC_ERR_NOT_FOUND when absent. */
sc_status st_meta_get(sc_client *c, const char *key, void *buf, size_t cap, size_t *len);
sc_status st_meta_put(sc_client *c, const char *key, const void *val, size_t len);
sc_status st_meta_get_u64(sc_client *c, const char *key, uint64_t *out);
sc_status st_meta_put_u64(sc_client *c, const char *key, uint64_t v);
/*
 * Replace a meta value that was secret (a plain key file) in its own
 * transaction, with its old bytes overwritten in the database file and the
 * write-ahead log emptied after.
 */
sc_status st_meta_replace_secret(sc_client *c, const char *key, const void *val, size_t len);
/* A variable-size meta value (the cursor), allocated with env. */
sc_status st_meta_get_alloc(sc_client *c, const char *key, uint8_t **val, size_t *len);

/* Store an op (INSERT OR IGNORE); *inserted says whether it was new. */
sc_status st_op_put(sc_client *c, const sc_op *op, int origin, int state, bool has_index,
                    uint64_t log_index, bool *inserted);
/* Info about one op; SC_ERR_NOT_FOUND when unknown. */
sc_status st_op_info(sc_client *c, const uint8_t id[SC_HASH_LEN], st_opinfo *out);
/* Open one stored op (signature was checked when stored). */
sc_status st_op_load(sc_client *c, const uint8_t id[SC_HASH_LEN], sc_op **out);
/* Open every op of an entity (without rejected ones unless asked), in store order. */
sc_status st_ops_of_entity(sc_client *c, const uint8_t entity[SC_ID_LEN], bool with_rejected,
                           sc_op ***ops, size_t *n);
void st_ops_free(sc_client *c, sc_op **ops, size_t n);
/* Set an op's outcome; has_index false keeps the index. */
sc_status st_op_set(sc_client *c, const uint8_t id[SC_HASH_LEN], int state, bool has_index,
                    uint64_t log_index, int reason, const char *message);
/* Visit op infos of an entity in fold-independent store order. */
typedef sc_status (*st_op_fn)(sc_client *c, void *ctx, const st_opinfo *info);
sc_status st_ops_each(sc_client *c, const uint8_t *entity, st_op_fn fn, void *ctx);
/*
 * Visit this device's ops in `state` (ST_PENDING: the outbox; ST_ACCEPTED:
 * logged; ST_REJECTED), oldest or newest first, at most max of them (-1:
 * all).
 */
sc_status st_own_ops_each(sc_client *c, int state, bool newest_first, int64_t max, st_op_fn fn,
                          void *ctx);
/* Visit the outbox (pending local ops) in causal (insertion) order, with their bytes. */
typedef sc_status (*st_outbox_fn)(sc_client *c, void *ctx, const uint8_t id[SC_HASH_LEN],
                                  const uint8_t *signed_op, size_t len, bool *stop);
sc_status st_outbox_each(sc_client *c, st_outbox_fn fn, void *ctx);
/* Visit every stored op's bytes (for verification). */
typedef sc_status (*st_bytes_fn)(sc_client *c, void *ctx, const st_opinfo *info,
                                 const uint8_t *signed_op, size_t len);
sc_status st_ops_bytes_each(sc_client *c, st_bytes_fn fn, void *ctx);

/* Entity states. code/version make score sheets, targets and org units findable. */
/* conflicted: the state has conflicts and is not voided (kept in the conflicted table). */
/* Forget an entity's state: none of its ops is left that is not rejected. */
sc_status st_state_drop(sc_client *c, const uint8_t id[SC_ID_LEN]);
sc_status st_state_put(sc_client *c, const uint8_t id[SC_ID_LEN], int etype, const char *code,
                       uint32_t version, const uint8_t *enc, size_t len,
                       const uint8_t hash[SC_HASH_LEN], bool conflicted);
sc_status st_state_get(sc_client *c, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out);
/* Forget an entity's state (every op of it was rejected: it never was). */
sc_status st_state_drop(sc_client *c, const uint8_t id[SC_ID_LEN]);
sc_status st_state_hash(sc_client *c, const uint8_t id[SC_ID_LEN], uint8_t out[SC_HASH_LEN]);
/* The entity of `etype` whose code is `code` (the highest version); SC_ERR_NOT_FOUND. */
sc_status st_find_code(sc_client *c, int etype, const char *code, uint8_t out[SC_ID_LEN]);
/* Visit entity ids of a type (0: all, including entities whose ops could not be folded yet), ascending. */
typedef sc_status (*st_id_fn)(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN]);
sc_status st_entities_each(sc_client *c, int etype, bool with_unfolded, st_id_fn fn, void *ctx);
/* Visit the ids of the entities in open conflict (the conflicted index, not voided), ascending. */
sc_status st_conflicted_each(sc_client *c, st_id_fn fn, void *ctx);

/* One integer from a fixed query (counts for the status report). */
sc_status st_count(sc_client *c, const char *what, int64_t *out);

/* Photo store index. */
sc_status st_blob_put(sc_client *c, const uint8_t sha[SC_HASH_LEN], uint64_t size, const char *mime,
                      int state);
/* Only raises BL_MISSING to BL_DONE/BL_UPLOAD rows etc. by explicit state. */
sc_status st_blob_set(sc_client *c, const uint8_t sha[SC_HASH_LEN], int state);
/* A photo's size as the ops that name it say (0 when unknown or not indexed). */
sc_status st_blob_size(sc_client *c, const uint8_t sha[SC_HASH_LEN], uint64_t *size);
typedef sc_status (*st_blob_fn)(sc_client *c, void *ctx, const uint8_t sha[SC_HASH_LEN],
                                uint64_t size);
sc_status st_blobs_each(sc_client *c, int state, st_blob_fn fn, void *ctx);
/*
 * Up to max missing photos (BL_MISSING) in name order, starting after the
 * name `after` (NULL: from the start) and wrapping around to the smallest
 * names: a window that rotates over all of them from sync to sync.
 */
sc_status st_blobs_missing_from(sc_client *c, const uint8_t *after, size_t max, st_blob_fn fn,
                                void *ctx);

/*
 * Devices known from server-signed DeviceEnroll / DeviceRevoke ops, with the
 * log indexes that bound when their ops are valid.
 */
sc_status st_device_enroll(sc_client *c, const uint8_t key[SC_KEY_LEN],
                           const uint8_t entity[SC_ID_LEN], uint64_t index);
sc_status st_device_revoke(sc_client *c, const uint8_t entity[SC_ID_LEN], uint64_t index);
/* SC_ERR_NOT_FOUND for a key no enrollment names. */
/* The device entity a key was enrolled as; SC_ERR_NOT_FOUND when no enrollment names it. */
sc_status st_device_entity(sc_client *c, const uint8_t key[SC_KEY_LEN], uint8_t entity[SC_ID_LEN]);
sc_status st_device_get(sc_client *c, const uint8_t key[SC_KEY_LEN], uint64_t *enroll_index,
                        bool *revoked, uint64_t *revoke_index);

/*
 * When users were disabled and enabled again: one row per UserDisable or
 * UserEnable op pulled, at its log index.  A device's op logged at index i
 * is its user's while the last such row before i is not a disable (the
 * register logs a user's changes one after another, so this order is the
 * fold's: docs/data-model.md §3).
 */
sc_status st_user_access_put(sc_client *c, const uint8_t user[SC_ID_LEN], uint64_t index,
                             bool disabled);
/* Was user disabled just before log index `index`? */
sc_status st_user_disabled_at(sc_client *c, const uint8_t user[SC_ID_LEN], uint64_t index,
                              bool *disabled);
/* Was any user ever disabled (so pulled ops' authors need the check)? */
sc_status st_user_access_any(sc_client *c, bool *any);

/* ---- access.c: whether a pulled op's author's user was disabled when it was logged ---- */

typedef struct cl_access_act {
    uint8_t user[SC_ID_LEN];
    uint64_t index;
    bool disabled;
} cl_access_act;

typedef struct cl_access {
    int any;             /* -1 not asked yet; 0 nobody was ever disabled; 1 someone was */
    cl_access_act *acts; /* UserDisable/UserEnable ops of the answer being verified; owned */
    size_t n;
} cl_access;

void cl_access_init(cl_access *a);
void cl_access_dispose(sc_client *c, cl_access *a);
/* Note a pulled op at index: a UserDisable or UserEnable counts for the ops after it. */
sc_status cl_access_note(sc_client *c, cl_access *a, const Scpb__Op *o, uint64_t index);
/* *disabled: the user of key (or `user`, when the caller knows it) was disabled just before index.
 */
sc_status cl_access_disabled(sc_client *c, cl_access *a, const uint8_t key[SC_KEY_LEN],
                             const uint8_t *user, uint64_t index, bool *disabled);
/*
 * The author key of op op_id, logged at index, spoke for a user that was
 * not disabled then (user: the key's user when the caller knows it, else
 * NULL); else SC_ERR_BAD_SIGNATURE with REASON_USER_DISABLED.
 */
sc_status cl_access_check(sc_client *c, cl_access *a, const uint8_t key[SC_KEY_LEN],
                          const uint8_t *user, uint64_t index, const uint8_t op_id[SC_HASH_LEN]);

/* Verified checkpoints, oldest first, with the proof that linked each to the one before. */
sc_status st_ckpt_add(sc_client *c, const char *note, size_t note_len, uint64_t size,
                      const uint8_t root[SC_HASH_LEN], const uint8_t (*proof)[SC_HASH_LEN],
                      size_t nproof);
typedef sc_status (*st_ckpt_fn)(sc_client *c, void *ctx, const char *note, size_t note_len,
                                uint64_t size, const uint8_t root[SC_HASH_LEN],
                                const uint8_t (*proof)[SC_HASH_LEN], size_t nproof);
sc_status st_ckpt_each(sc_client *c, st_ckpt_fn fn, void *ctx);
/* The last verified checkpoint; *found false when none. */
sc_status st_ckpt_last(sc_client *c, bool *found, uint64_t *size, uint8_t root[SC_HASH_LEN],
                       int64_t *time_ms);

/*
 * Receipts: the batched inclusion proofs (core/merkle.h) that let ops leave
 * the outbox, kept so sc_verify_replica can check them again.  A receipt
 * proves its leaves (op id and log index, ascending by index) in the tree
 * of `size` leaves whose checkpoint is stored.
 */
typedef struct st_leaf {
    uint8_t id[SC_HASH_LEN];   /* the op */
    uint64_t index;            /* its log index */
    uint8_t hash[SC_HASH_LEN]; /* RFC 9162 leaf hash of its signed bytes (not stored) */
} st_leaf;

sc_status st_receipt_add(sc_client *c, uint64_t size, const st_leaf *leaves, size_t n,
                         const uint8_t (*proof)[SC_HASH_LEN], size_t nproof);
/* Visit every receipt (leaves' hash fields are zero); the arrays are borrowed for the call. */
typedef sc_status (*st_receipt_fn)(sc_client *c, void *ctx, uint64_t size, const st_leaf *leaves,
                                   size_t n, const uint8_t (*proof)[SC_HASH_LEN], size_t nproof);
sc_status st_receipts_each(sc_client *c, st_receipt_fn fn, void *ctx);
/* The root of the stored checkpoint of `size` leaves; SC_ERR_NOT_FOUND when none is stored. */
sc_status st_ckpt_root(sc_client *c, uint64_t size, uint8_t root[SC_HASH_LEN]);
/*
 * Visit the ids of this device's ops that left the outbox as logged and
 * must have a receipt: those recorded since receipts were kept (a replica
 * older than receipts has acknowledged ops without one).
 */
typedef sc_status (*st_id_hash_fn)(sc_client *c, void *ctx, const uint8_t id[SC_HASH_LEN]);
sc_status st_logged_own_each(sc_client *c, st_id_hash_fn fn, void *ctx);

/* ---- replica.c ---- */

/*
 * Fold an entity's stored (not rejected) ops plus `extra` (may be NULL).
 * *state gets the new state; *extra_why the fold's reason when extra is
 * invalid (NULL when valid).
 */
sc_status rp_fold(sc_client *c, const uint8_t entity[SC_ID_LEN], const sc_op *extra,
                  Scpb__EntityState **state, const char **extra_why);
/* The fold's reason (static text) why a stored op of the entity is invalid; NULL when valid. */
sc_status rp_fold_why(sc_client *c, const uint8_t entity[SC_ID_LEN], const uint8_t op[SC_HASH_LEN],
                      const char **why);
/* Encode, hash and store a state. */
sc_status rp_store_state(sc_client *c, const Scpb__EntityState *st);
/*
 * Refold from stored ops and store; an entity whose deps are not all here
 * yet keeps its state, and one whose every op was rejected (its creation
 * among them) has none: it never was, in the log or here.
 */
sc_status rp_refold(sc_client *c, const uint8_t entity[SC_ID_LEN]);
/* The state of an entity; SC_ERR_NOT_FOUND with a message naming `what`. */
sc_status rp_get(sc_client *c, const uint8_t id[SC_ID_LEN], int etype, const char *what,
                 Scpb__EntityState **out);
/*
 * Resolve text to an entity of etype: 32 hex digits as an id, else a code
 * (targets, org units, score sheets).  SC_ERR_NOT_FOUND names what.
 */
sc_status rp_resolve(sc_client *c, const char *text, int etype, const char *what,
                     uint8_t out[SC_ID_LEN]);
/*
 * The user a device key was enrolled for (ctx: the sc_client), from its
 * DeviceEnroll op; SC_ERR_NOT_FOUND when no enrollment names the key.  The
 * fold's sc_users over the replica.
 */
sc_status rp_user_of(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN]);
/* Who a device key speaks for (rp_person_of). */
typedef struct rp_person {
    bool known;                   /* false: no enrollment in the replica names the key */
    bool server;                  /* the server's own key: the register */
    char login[SC_CODE_MAX + 1];  /* "" when the user's state is not here */
    char name[SC_NAME_MAX + 1];
    char device[SC_NAME_MAX + 1]; /* the device's label, "" when none */
    int role;                     /* the user's role in effect (Scpb__Role), 0 when not known */
    uint8_t user[SC_ID_LEN];
    uint8_t device_id[SC_ID_LEN];
} rp_person;
/*
 * Who the device key speaks for, from server-signed facts in the replica
 * (DeviceEnroll and the user's state), or the replica's own identity.  An
 * unknown key is out->known false and SC_OK; errors are storage failures.
 */
sc_status rp_person_of(sc_client *c, const uint8_t key[SC_KEY_LEN], rp_person *out);
/* Merge a received HLC into the replica clock (persisted by rp_hlc_save), unless it is more
 * than SC_HLC_FUTURE_MS ahead of the server's clock. */
void rp_hlc_observe(sc_client *c, uint64_t hlc);
sc_hlc rp_hlc_tick(sc_client *c);
sc_status rp_hlc_save(sc_client *c);
/* Free a state through the handle's env. */
void rp_state_free(sc_client *c, Scpb__EntityState *st);
/* Load the identity from meta into c->id. */
sc_status rp_identity_load(sc_client *c);

/*
 * The kind-specific part of a state, or NULL when the state is of another
 * kind.  EntityState's kinds are a oneof (a union): st->finding is not NULL
 * for a target, so presence must always be asked through kind_case.
 */
#define RP_KIND(fn, T, member, KIND)                                                               \
    static inline const T *fn(const Scpb__EntityState *st)                                         \
    {                                                                                              \
        return st && st->kind_case == SCPB__ENTITY_STATE__KIND_##KIND ? st->member : NULL;         \
    }
RP_KIND(rp_finding, Scpb__FindingState, finding, FINDING)
RP_KIND(rp_inspection, Scpb__InspectionState, inspection, INSPECTION)
RP_KIND(rp_assignment, Scpb__AssignmentState, assignment, ASSIGNMENT)
RP_KIND(rp_template, Scpb__TemplateState, template_, TEMPLATE)
RP_KIND(rp_device, Scpb__DeviceState, device, DEVICE)
#undef RP_KIND

/* ---- blobs.c ---- */

/*
 * Copy a file into the store while hashing it; register it for upload.
 * Writes sha, size, mime (SC_MIME_MAX) and the file's mtime in ms.
 */
sc_status bl_import(sc_client *c, const char *path, uint8_t sha[SC_HASH_LEN], uint64_t *size,
                    char *mime, size_t mime_cap, int64_t *mtime_ms);
/*
 * Copy the stored photo sha to a new file at path (never overwriting one),
 * checking its bytes against the hash on the way; size and its MIME type
 * (mime_cap bytes) out.  SC_ERR_NOT_FOUND when the store lacks it,
 * SC_ERR_EXISTS when path exists, SC_ERR_STORAGE when the stored bytes do
 * not match the hash; on failure nothing is left at path.
 */
sc_status bl_export(sc_client *c, const uint8_t sha[SC_HASH_LEN], const char *path, uint64_t *size,
                    char *mime, size_t mime_cap);
/* ---- exif.c ---- */

/* When and where a photo was taken, as its EXIF data says. */
typedef struct bl_exif {
    bool has_time;
    int64_t captured_ms; /* DateTimeOriginal (its OffsetTimeOriginal, else the local zone) */
    bool has_gps;
    int32_t lat_e7, lon_e7; /* GPSLatitude/GPSLongitude with their references, degrees x 1e7 */
} bl_exif;

/* Read the photo at path's EXIF time and position; false when it has neither. */
bool bl_exif_read(const char *path, bl_exif *out);

/* The store path of a hash. */
void bl_path(const sc_client *c, const uint8_t sha[SC_HASH_LEN], char *out, size_t cap);
/*
 * A new temporary file in the store, mode 0600, open for writing in *f;
 * its name into out (cap bytes).  SC_ERR_IO when it cannot be made.
 */
sc_status bl_tmp_create(sc_client *c, char *out, size_t cap, FILE **f);
/*
 * Move a written temporary file, already synced by the caller, to its
 * place, and sync the directory: from then on the photo survives a crash.
 */
sc_status bl_install(sc_client *c, const char *tmp, const uint8_t sha[SC_HASH_LEN]);
bool bl_present(void *c, const uint8_t sha[SC_HASH_LEN]);
/* Make the store directories (c->blobs_made, blobs_tmp_made: which of them were made now). */
sc_status bl_init(sc_client *c);
/* Remove the store directories bl_init made, when they are empty (a replica that is removed). */
void bl_remove_made(sc_client *c);

/* ---- request.c ---- */

typedef struct tp_resp {
    long status;                /* HTTP status; 0 before any answer */
    uint8_t *body;              /* owned (env), may be NULL */
    size_t len;
    char reason[48];            /* X-Spotcheck-Reason */
    bool has_offset;
    uint64_t offset;            /* X-Spotcheck-Offset */
    unsigned tries;             /* times the request was sent: 1, more after a retry or a cut */
    int64_t retry_after_s;      /* Retry-After; -1 when absent */
    int64_t not_before_ms;      /* X-Spotcheck-Not-Before; 0 when absent */
    uint8_t nonce[16]; /* the nonce the answered try was signed with (a sync's seal names it) */
    bool has_body_sha; /* signed: the SHA-256 of the body it signed (a sync's seal names it too) */
    uint8_t body_sha[SC_HASH_LEN];
} tp_resp;

/*
 * One HTTP request to c->id.server + target, signed when `sign`, retried on
 * network failures and 503 with backoff.  Signed requests carry the body's
 * hash and are signed with the server's clock (the offset learned from the
 * last answer's X-Spotcheck-Server-Time, and never before the server's
 * start boundary); one refused request_time is signed again at once with
 * the time the refusal gave.  The response body is capped at
 * cap bytes (SC_ERR_PROTOCOL beyond).  Non-2xx answers are returned as
 * SC_OK with out->status set; the caller decides.  SC_ERR_NETWORK when no
 * answer came after the retries.
 */
sc_status tp_call(sc_client *c, const char *method, const char *target, const uint8_t *body,
                  size_t len, bool sign, size_t cap, tp_resp *out);
/* Like tp_call, against an explicit base URL (enrollment). */
sc_status tp_call_url(sc_client *c, const char *base, const char *method, const char *target,
                      const uint8_t *body, size_t len, bool sign, size_t cap, tp_resp *out);
/*
 * A signed POST of tp_call's in two halves, so the caller works while the
 * server answers (sync.c's pipelined rounds): tp_call_start sends it and
 * returns once the request is out, tp_call_finish waits for the answer
 * into out (given to start; it must stay put) and is then what tp_call
 * would have returned, retries and all; tp_call_drop gives it up instead
 * (the answer is never read; the connection is closed).  Exactly one of
 * finish and drop follows every start, with no other request between.
 * body stays the caller's until then.  With an app's transport the whole
 * call happens in finish.  start fails only for want of memory, and then
 * finish reports it.
 */
typedef struct tp_pending tp_pending;
sc_status tp_call_start(sc_client *c, const char *target, const uint8_t *body, size_t len,
                        size_t cap, tp_resp *out, tp_pending **pending);
sc_status tp_call_finish(sc_client *c, tp_pending *p);
/* Whether p's answer is in (a 200, all of it): tp_call_finish would not wait for it. */
bool tp_call_ready(sc_client *c, const tp_pending *p);
void tp_call_drop(sc_client *c, tp_pending *p);
/* PUT one chunk of a blob with its Content-Range.  A network failure is not retried: the
 * caller sends the bytes again, in a smaller chunk (sync.c). */
sc_status tp_put_chunk(sc_client *c, const char *target, const uint8_t *chunk, size_t len,
                       uint64_t start, uint64_t total, tp_resp *out);
/* GET target into file f, at most cap bytes, hashing what arrives into sha. */
sc_status tp_download(sc_client *c, const char *target, void *file, uint64_t cap,
                      sc_sha256_ctx *sha, tp_resp *out);
void tp_resp_dispose(sc_client *c, tp_resp *r);
/* A message for a non-2xx response: decodes the Error body when there is one. */
sc_status tp_fail(sc_client *c, const tp_resp *r, const char *what);
/* Make the default transport the one in use (sc_client_open). */
sc_status tp_open_default(sc_client *c);
/* Close the transport in use (the default's resources freed). */
void tp_close(sc_client *c);
/* A network call starts: forget an interrupt that came while none ran. */
void tp_begin(sc_client *c);
/* SC_ERR_CANCELLED with a message when the call was interrupted, else SC_OK. */
sc_status tp_cancelled(sc_client *c, const char *what);
/* Send a progress event to the caller's callback (a nonzero answer interrupts the handle). */
void tp_progress(sc_client *c, const char *phase, uint64_t done, uint64_t total);

/* ---- transport.c ---- */

/*
 * A transport's send in two halves, called on the handle's thread:
 * start returns once the request is out, finish waits for its answer
 * (start's failure is the request's; finish is still called), abandon
 * drops a started request and its connection.  ready says, without
 * waiting, whether the started request's answer is all in, a 200 that
 * finish will hand over without touching the network.  One request at a
 * time.  Only the default transport has them: an app's transport is
 * always called through send.
 */
typedef struct tp_async {
    sc_status (*start)(void *ctx, const sc_http_request *q, sc_http_result *res);
    sc_status (*finish)(void *ctx, const sc_http_request *q, sc_http_result *res);
    void (*abandon)(void *ctx);
    bool (*ready)(void *ctx);
} tp_async;
extern const tp_async tp_curl_async;

/* libcurl's global initialisation (curl_global_init), for sc_global_init. */
sc_status tp_curl_global_init(void);
/* The default transport (libcurl) for c; its ctx is the library's, freed by its close. */
sc_status tp_curl_make(sc_client *c, sc_transport *out);

/* ---- server.c ---- */

/* Free what a trust holds and zero it. */
void sv_trust_dispose(sc_client *c, sc_trust *t);
/* Load the trust the replica remembers into c->trust. */
sc_status sv_trust_load(sc_client *c);
/* Write the trust in force (c->net over c->trust) into meta, inside the caller's transaction. */
sc_status sv_trust_save(sc_client *c);
/* A server URL checked (http:// or https://, not too long) and without trailing slashes. */
sc_status sv_url_normalize(sc_client *c, const char *url, char *out, size_t cap);

/* ---- verify.c ---- */
/*
 * The replica hash (core/state.h) over the entities' stored state hashes in
 * ascending id order, as syncd computes it over its register; *count gets
 * the number of entities (count may be NULL).
 */
sc_status vf_replica_hash(sc_client *c, uint8_t out[SC_HASH_LEN], uint64_t *count);

/* ---- record.c: the parts of recording governance.c shares ---- */
/* Begin an action (identity, key, transaction); end it (commit on SC_OK, else roll back). */
sc_status rc_act_begin(sc_client *c);
sc_status rc_act_end(sc_client *c, sc_status s);
/* The role policy for one op kind on one entity type (SC_ERR_FORBIDDEN saying who may not). */
sc_status rc_check_policy(sc_client *c, Scpb__Op__BodyCase kind, Scpb__EntityType type);
/* Make, judge and store one op whose entity, type and body are set; op_id (may be NULL) out. */
sc_status rc_make_op(sc_client *c, Scpb__Op *op, uint8_t op_id[SC_HASH_LEN]);
void rc_op_init(Scpb__Op *op, const uint8_t entity[SC_ID_LEN], Scpb__EntityType type);
/* "YYYY-MM-DD" into days, or a BAD_FIELD failure naming what. */
sc_status rc_parse_day(sc_client *c, const char *what, const char *text, int32_t *out);
/* 32 hex digits into an id, or a NOT_FOUND failure naming what. */
sc_status rc_parse_entity_id(sc_client *c, const char *text, const char *what,
                             uint8_t out[SC_ID_LEN]);
/* Text that must be given and not empty: else a BAD_FIELD failure saying `what`. */
sc_status rc_need_text(sc_client *c, const char *text, const char *what);
/* On SC_OK, the op id as hex into out_op (SC_HASH_HEX_LEN bytes; may be NULL). */
void rc_op_out(sc_status s, const uint8_t op[SC_HASH_LEN], char out_op[SC_HASH_HEX_LEN]);

/*
 * Import evidence photos (paths) into the store, attach them to finding id,
 * and give their hashes (*ev, into *ph): both freed by the caller with
 * sc_free once the op is made.
 */
sc_status rc_with_evidence(sc_client *c, const uint8_t id[SC_ID_LEN], const char *const *photos,
                           size_t n, void **ph, ProtobufCBinaryData **ev);

/* Coordinates given by the caller (degrees x 1e7) into g when has; off the globe is refused. */
sc_status rc_geo_in(sc_client *c, int has, int32_t lat_e7, int32_t lon_e7, Scpb__Geo *g);
/*
 * Import the photo at path into the store (uploaded with the next sync,
 * resumably, like any photo) and attach it to entity id with its caption;
 * geo (may be NULL) is where the caller says it was taken, else its EXIF
 * position.  Its hash into sha.
 */
sc_status rc_attach_photo(sc_client *c, const uint8_t id[SC_ID_LEN], Scpb__EntityType type,
                          const char *path, const char *caption, const Scpb__Geo *geo,
                          uint8_t sha[SC_HASH_LEN]);

/* ---- escalation.c: escalation, stop-work, look-back rounds (docs/data-model.md §4.3) ---- */
/*
 * The findings a look-back round re-checks, resolved and checked (findings
 * of `target`, each once, at most SC_RECHECKS_MAX): *out (freed by the
 * caller with sc_free) holds n ids, or NULL when n is 0.
 */
sc_status es_rechecks(sc_client *c, const char *const *rechecks, size_t n,
                      const uint8_t target[SC_ID_LEN], ProtobufCBinaryData **out);

/* ---- governance.c: rectification governance (docs/data-model.md §4) ---- */
/*
 * Issue the notice (限期整改通知) of finding id when it needs one and has
 * none: not fixed on the spot, not voided.  Its responsible unit and
 * deadline are the finding's; a general finding lacking them takes the
 * defaults (the target's org unit; today plus the policy's period), and a
 * major hazard lacking them is refused, naming what is missing.  Inside
 * the caller's action.
 */
sc_status gv_issue_notice(sc_client *c, const uint8_t id[SC_ID_LEN]);
/* gv_issue_notice for every finding of inspection check (at its submission). */
sc_status gv_issue_notices(sc_client *c, const uint8_t check[SC_ID_LEN]);
/* The register's policy in force for org unit org, as the replica knows the org units. */
sc_status gv_policy_for(sc_client *c, const uint8_t org[SC_ID_LEN], sc_gov_policy *out);
/*
 * A responsible user's act on finding f is for its responsible unit (what
 * names the act in the message); report: a rectification report, which on a
 * finding naming no unit yet is judged by scope alone.
 */
sc_status gv_unit_act(sc_client *c, const Scpb__FindingState *f, const char *what, bool report);
/* org lies at or below top, by the parents the replica knows (*out). */
sc_status gv_org_within(sc_client *c, const uint8_t org[SC_ID_LEN], const uint8_t top[SC_ID_LEN],
                        bool *out);

/* ---- selfcheck.c: self-checks and self-reported hazards (docs/data-model.md §4.4) ---- */
/*
 * Opening an inspection of `kind` on target: a responsible user opens a
 * self-check (kind self) of its own unit's target, and *self_check is set;
 * anyone else opens another kind (*self_check false).  Refusals as syncd's.
 */
sc_status sf_open(sc_client *c, int kind, const uint8_t target[SC_ID_LEN], bool *self_check);
/*
 * A finding on inspection check (NULL: none): a responsible user's is
 * self-reported and only in its own self-check; nobody else raises one in a
 * self-check.  *self_reported set.
 */
sc_status sf_finding(sc_client *c, const uint8_t *check, bool *self_reported);
/* The self-checks a spot check verifies, as es_rechecks: self-checks of `target`, each once. */
sc_status sf_verifies(sc_client *c, const char *const *checks, size_t n,
                      const uint8_t target[SC_ID_LEN], ProtobufCBinaryData **out);

/* ---- query.c helpers shared with sync.c and query_gov.c ---- */
/* JSON values: lowercase hex; hex or null; an enum's name or null; a string or null; a day. */
json_t *qr_jhex(const uint8_t *p, size_t len);
json_t *qr_jbin(const ProtobufCBinaryData *b, protobuf_c_boolean has);
json_t *qr_jname(const sc_names *t, int v);
json_t *qr_jstr(const char *s);
json_t *qr_jday(int32_t day, bool has);
/* A referenced entity's code (target, org unit, score sheet), else its hex id; null when absent. */
json_t *qr_jref(sc_client *c, const ProtobufCBinaryData *b, protobuf_c_boolean has);
/* Today (UTC day) by the handle's clock. */
int32_t qr_today(sc_client *c);
/* The governance part of a finding's list item (flags) and of its show (everything). */
void gq_item(sc_client *c, const Scpb__EntityState *st, json_t *item);
/*
 * Remember each target's policy from here to gq_memo_end, within one
 * snapshot of the replica (where no policy can change): a pass over every
 * finding then walks each target's org units once, not once a finding.
 * Without it (or when it cannot allocate) every item walks them.
 */
void gq_memo_begin(sc_client *c);
void gq_memo_end(sc_client *c);
/* ---- query_sign.c: the inspected unit's sign-off ---- */
/* An inspection's sign-offs and countersigns for show, with each signature photo's facts. */
json_t *qr_sign_offs(sc_client *c, const Scpb__EntityState *st);

/* ---- query_esc.c: escalation, stop-work, look-backs (docs/data-model.md §4.3) ---- */
/* The list item's flags under policy pol (the ladder of the finding's target's org unit). */
void eq_item(sc_client *c, const Scpb__EntityState *st, const sc_gov_policy *pol, json_t *item);
/* A finding's show: its escalations, stop-work orders and look-backs. */
void eq_show(sc_client *c, const Scpb__EntityState *st, json_t *o);
/* Name the device keys those name (as gq_name_keys). */
sc_status eq_name_keys(sc_client *c, const Scpb__EntityState *st,
                       sc_status (*name)(sc_client *c, json_t *people,
                                         const ProtobufCBinaryData *key, bool has),
                       json_t *people);
/* An assignment's look-back round: the findings it re-checks and the look-backs done of it. */
void eq_assignment(sc_client *c, const Scpb__AssignmentState *a, const uint8_t id[SC_ID_LEN],
                   json_t *item);
void gq_show(sc_client *c, const Scpb__EntityState *st, json_t *o);
/* Device keys the governance part names, for the show's people. */
sc_status gq_name_keys(sc_client *c, const Scpb__EntityState *st,
                       sc_status (*name)(sc_client *c, json_t *people,
                                         const ProtobufCBinaryData *key, bool has),
                       json_t *people);
/* Conflicts across all entities. */
sc_status qr_conflict_count(sc_client *c, int64_t *out);

#endif
