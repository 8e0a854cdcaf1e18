/*
 * spotcheck.h: the public API of libspotcheck, the Spotcheck client library.
 *
 * This header is the manual.  Every function states what it does, its
 * parameters (outputs marked "out"), its return codes, who owns what, and
 * its thread rules.  Nothing else of the library is public.
 *
 * Status codes.  Every function that can fail returns sc_status; SC_OK is 0.
 * sc_strerror() gives a short fixed text for a code; handles keep a longer
 * message naming what and where (see sc_client_errmsg()).
 */
#ifndef SPOTCHECK_H
#define SPOTCHECK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The one list of status codes.  X(name, value, text).  Values are stable:
 * the CLI maps them to exit codes and scripts depend on them.
 */
#define SC_STATUS_LIST(X)                                                            \
    X(SC_OK, 0, "ok")                                                                \
    X(SC_ERR_NOMEM, 1, "out of memory")                                              \
    X(SC_ERR_INVALID_ARG, 2, "invalid argument")                                     \
    X(SC_ERR_MALFORMED, 3, "malformed encoding")                                     \
    X(SC_ERR_TOO_LARGE, 4, "exceeds a size limit")                                   \
    X(SC_ERR_BAD_SIGNATURE, 5, "signature does not verify")                          \
    X(SC_ERR_CRYPTO, 6, "cryptographic library failure")                             \
    X(SC_ERR_BAD_PASSPHRASE, 7, "wrong passphrase or damaged key")                   \
    X(SC_ERR_IO, 8, "input/output error")                                            \
    X(SC_ERR_NOT_FOUND, 9, "not found")                                              \
    X(SC_ERR_EXISTS, 10, "already exists")                                           \
    X(SC_ERR_INVALID_TRANSITION, 11, "not allowed in the current state")             \
    X(SC_ERR_REJECTED, 12, "rejected by the rules")                                  \
    X(SC_ERR_PROOF, 13, "Merkle proof does not verify")                              \
    X(SC_ERR_CHECKPOINT, 14, "checkpoint does not verify")                           \
    X(SC_ERR_HISTORY_REWRITTEN, 15, "server history is inconsistent with a verified checkpoint") \
    X(SC_ERR_NETWORK, 16, "server unreachable")                                      \
    X(SC_ERR_PROTOCOL, 17, "server answered something that is not the protocol")     \
    X(SC_ERR_SERVER, 18, "server refused the request")                               \
    X(SC_ERR_FORBIDDEN, 19, "not permitted for this role or scope")                  \
    X(SC_ERR_STORAGE, 20, "local storage failure")                                   \
    X(SC_ERR_LIMIT, 21, "a configured limit was reached")                            \
    X(SC_ERR_NOT_ENROLLED, 22, "this replica has no enrolled device")                \
    X(SC_ERR_UNAVAILABLE, 23, "temporarily unavailable, retry later")                \
    X(SC_ERR_INTERNAL, 24, "internal error")                                         \
    X(SC_ERR_UNPROVEN, 25, "the server's answer is not proven for this request")

typedef enum sc_status {
#define SC_STATUS_ENUM_(name, value, text) name = value,
    SC_STATUS_LIST(SC_STATUS_ENUM_)
#undef SC_STATUS_ENUM_
} sc_status;

/* A fixed English text for a status code; never NULL, for unknown codes too. */
const char *sc_strerror(sc_status status);

/* The name of a status code ("SC_ERR_NOT_FOUND"); never NULL. */
const char *sc_status_name(sc_status status);

/*
 * The sync protocol this header describes: the N of the /vN/ paths of
 * docs/protocol.md.  A client and a syncd talk only when they agree on it.
 */
#define SC_PROTOCOL_VERSION 1

/* The library's release, "MAJOR.MINOR.PATCH"; static, never NULL. */
const char *sc_version(void);

/* The sync protocol the library speaks (SC_PROTOCOL_VERSION when it was built). */
unsigned sc_protocol_version(void);

/* ======================================================================
 * Overview
 *
 * A client handle (sc_client) owns one local replica: a SQLite file in WAL
 * mode holding every op the device knows (its own and those pulled from
 * syncd), every entity's state as folded by the shared core, the outbox,
 * the pull cursor, the last verified checkpoint and the device identity.
 * Photos live beside it in a content-addressed store, DB.blobs/xx/<sha256>.
 *
 * Every call that changes the replica does so in one SQLite transaction:
 * either all of it lands or none of it, whatever fails and whenever the
 * process dies.  An op recorded offline is in the outbox until syncd has
 * accepted or rejected it; nothing else removes it, and "accepted" counts
 * only with proof that the op's exact bytes are in syncd's log (sc_sync).
 *
 * Thread rules.  A handle is used by one thread at a time (calls on one
 * handle must not overlap; the caller serializes them).  Different handles
 * are independent, also from different threads, as long as they are opened
 * on different replica files; two handles on one file from one process are
 * not supported (SQLite locking would make the second wait or fail with
 * SC_ERR_STORAGE).  sc_strerror and sc_status_name are safe from any thread.
 * sc_sync checks the signatures of a large pull on helper threads (at most
 * one per CPU, four in all) that it starts and joins before it returns;
 * they call no callback and no allocator of the handle.
 * The library keeps no global mutable state, never prints and never exits;
 * libcurl's and libsodium's one-time initialisation happens on the first
 * sc_client_open and is thread-safe.
 *
 * Ownership.  Strings passed in are borrowed for the call.  Strings a
 * function hands out through `char **json` are allocated by the library and
 * freed with sc_json_free.  Text returned as `const char *` by a handle
 * (sc_client_errmsg) is borrowed until the next call on that handle.
 *
 * Identifiers in the API and in JSON are lowercase hex: entity ids 32
 * digits (16-byte UUIDv7), op ids and photo hashes 64 digits (SHA-256).
 * Hex input is accepted in either case.  Enumerations are passed and
 * returned by name, as names.h spells them ("not_met", "unannounced").
 * Dates are "YYYY-MM-DD"; times in JSON are Unix milliseconds.
 * ====================================================================== */

typedef struct sc_client sc_client;

/*
 * Everything a handle borrows from its host; pass NULL to sc_client_open for
 * the defaults.  Zeroed fields take the defaults too.  Tests inject a fixed
 * clock, a seeded random source and failing allocators here.
 */
typedef struct sc_client_options {
    /* Memory for the library's own allocations (not SQLite's, libcurl's or
     * jansson's, which use their libraries' allocators).  Set all three or
     * none. */
    void *(*alloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    /* Wall clock in Unix ms (default: CLOCK_REALTIME).  Stamps ops, ticks
     * the HLC and decides what is overdue ("today").  Requests are signed
     * with it plus the offset to the server's clock learned from the
     * server's last answer (docs/protocol.md §3). */
    int64_t (*now_ms)(void *ctx);
    /* Cryptographically strong random bytes (default: libsodium). */
    void (*random)(void *ctx, void *buf, size_t len);
    /* Waits between network retries (default: nanosleep). */
    void (*sleep_ms)(void *ctx, uint32_t ms);
    void *ctx;                /* passed to each callback; borrowed */
    uint32_t timeout_ms;      /* one HTTP request, connect included (default 30000) */
    uint32_t retries;         /* extra tries after a network failure or 503 (default 3; UINT32_MAX: none) */
    uint32_t backoff_ms;      /* first retry wait; doubles per try (default 250) */
    uint32_t batch_ops;       /* ops pushed per sync round trip (default and max 1000) */
    /* The largest photo upload chunk, in bytes (default and max 8 MiB).
     * Chunks adapt to the link: a sync's first is 1 MiB (or chunk_bytes
     * when smaller), each accepted in under a second doubles the next up to
     * chunk_bytes, and after a cut (a reset connection, a timeout) the
     * bytes go again from the first size, with no chunk of the sync growing
     * past half the cut one.  A chunk the server refuses as too large (413:
     * its blobs.chunk_max is lower) goes again in halves, and the sync
     * keeps under it.  A value under 1 MiB keeps every chunk that small. */
    uint32_t chunk_bytes;
    uint64_t kdf_opslimit;    /* Argon2id limits for a new key file; 0: libsodium INTERACTIVE */
    uint64_t kdf_memlimit;
} sc_client_options;

/*
 * Open (creating if needed) the replica at `path` and its photo store
 * `path`.blobs/.  `opt` may be NULL; it is copied.  On success *out is the
 * handle; on failure *out is NULL and, when err/cap are given, a message is
 * written into err (cap bytes, NUL-terminated), since there is no handle to
 * ask.  Errors: SC_ERR_INVALID_ARG, SC_ERR_STORAGE (cannot open or not a
 * replica of this version), SC_ERR_IO (photo store), SC_ERR_NOMEM.
 */
sc_status sc_client_open(const char *path, const sc_client_options *opt, sc_client **out,
                         char *err, size_t cap);

/* Close the handle, wiping the device key.  NULL is a no-op. */
void sc_client_close(sc_client *c);

/*
 * The message of the last failed call on this handle: what failed and
 * where ("op 3 of 40: signature does not match device key").  Never NULL;
 * "" after a success.  Borrowed until the next call on the handle.
 */
const char *sc_client_errmsg(const sc_client *c);

/* The protocol reason name of the last failure ("invalid_transition",
 * "forbidden_role", ...), or "" when none applies.  Borrowed like errmsg. */
const char *sc_client_reason(const sc_client *c);

/* Free a string the library handed out (JSON).  NULL is a no-op. */
void sc_json_free(sc_client *c, char *json);

/* ---------------------------------------------------------------------
 * Identity
 * ------------------------------------------------------------------- */

/*
 * Enroll this replica as a device: generate an Ed25519 key, prove it to
 * `server_url` (e.g. "http://127.0.0.1:8080") with the one-time `code`, and
 * store the identity (server URL and key, origin, user, role, org) and the
 * key: encrypted under Argon2id + secretbox when pass_len > 0, plain
 * otherwise.  The enrollment checkpoint is verified with the server key and
 * kept as the first verified checkpoint.  `label` names the device (may be
 * NULL).  On success *json (may be NULL) is
 *   {"device_id":hex32,"device_key":hex64,"user":hex32,"login":..,
 *    "name":..,"role":..,"org":hex32,"server":url}.
 * Errors: SC_ERR_EXISTS (already enrolled), SC_ERR_NETWORK, SC_ERR_SERVER
 * (refused; reason says why, e.g. forbidden_role for a bad code),
 * SC_ERR_PROTOCOL, SC_ERR_CHECKPOINT, SC_ERR_STORAGE.
 */
sc_status sc_enroll(sc_client *c, const char *server_url, const char *code, const char *label,
                    const char *pass, size_t pass_len, char **json);

/*
 * Give the passphrase of an encrypted device key and load the key now.
 * SC_ERR_BAD_PASSPHRASE with a clear message when it does not open the
 * key; SC_ERR_NOT_ENROLLED without an identity.  Calls that sign (record,
 * sync) load a plain key by themselves and fail with SC_ERR_BAD_PASSPHRASE
 * when the key is encrypted and not unlocked.  The passphrase is not kept.
 */
sc_status sc_client_unlock(sc_client *c, const char *pass, size_t pass_len);

/*
 * Identity, outbox and checkpoint as JSON:
 *   {"enrolled":bool,"device_id","device_key","user","login","name","role",
 *    "org","server","origin","key_encrypted":bool,"outbox":n,"ops":n,
 *    "entities":n,"photos_pending_upload":n,"replica_hash":hex64,
 *    "checkpoint":{"size":n,"root":hex64,"time_ms":n}|null}
 * replica_hash is SHA-256 over (entity id || state hash) of every entity
 * in the replica in ascending id order (docs/data-model.md §5), the hash
 * `syncd audit` prints for the register and `syncd export` writes into a
 * bundle.  Two replicas that hold the same ops have the same hash; a replica
 * equals the register's once its outbox is empty and it has pulled
 * everything, if its user may see every entity (auditors; or when nothing
 * hidden from the user exists).
 */
sc_status sc_client_status(sc_client *c, char **json);

/* ---------------------------------------------------------------------
 * Recording.  Every function below makes one or more signed ops offline:
 * deps are the entity's current heads, the HLC is ticked, new entities get
 * a UUIDv7, the op is sealed with the device key and judged by the core
 * fold together with the entity's ops.  If the fold finds it invalid (for
 * example closing an open finding) the call fails with
 * SC_ERR_INVALID_TRANSITION and the fold's reason, and nothing changes.
 * The role policy is checked first (SC_ERR_FORBIDDEN), and references
 * (target and org codes, template item codes, assignments) must exist in
 * the replica (SC_ERR_NOT_FOUND).  Ids out are written as NUL-terminated hex
 * into caller buffers of the size given.  All ops of one call land in one
 * transaction.
 * ------------------------------------------------------------------- */

#define SC_ID_HEX_LEN 33   /* 32 hex digits + NUL */
#define SC_HASH_HEX_LEN 65 /* 64 hex digits + NUL */

typedef struct sc_check_params {
    const char *target;      /* target code or entity id; may be NULL with an assignment */
    const char *kind;        /* "spot", "supervisory", ...; NULL: from the assignment */
    const char *disclosure;  /* "open", "unannounced", "experiential"; NULL: from the assignment */
    const char *relation;    /* "self", "superior", "peer", "external"; may be NULL */
    const char *template_;   /* score sheet code (latest version) or entity id; may be NULL */
    const char *assignment;  /* assignment entity id; may be NULL */
} sc_check_params;

typedef struct sc_assign_params {
    const char *target;             /* target code or entity id (required) */
    const char *const *inspectors;  /* logins or user ids of inspectors/supervisors (1..32) */
    size_t ninspectors;
    const char *kind;               /* "spot", "supervisory", ... (required) */
    const char *disclosure;         /* "open", "unannounced", "experiential" (required) */
    const char *due;                /* "YYYY-MM-DD"; may be NULL */
    const char *template_;          /* score sheet code (latest version) or id; may be NULL */
    const char *note;               /* may be NULL */
} sc_assign_params;

/*
 * Plan a check (supervisors and admins): an assignment naming the
 * inspectors who will do it.  An unannounced or experiential plan is seen
 * only by them and by supervisors in scope, never by the inspected unit.
 * Errors as for every recording call; SC_ERR_INVALID_ARG when a named user
 * is not an inspector or supervisor.  out_id: SC_ID_HEX_LEN bytes.
 */
sc_status sc_assign(sc_client *c, const sc_assign_params *p, char out_id[SC_ID_HEX_LEN]);

/* Open an inspection (a draft).  out_id: SC_ID_HEX_LEN bytes. */
sc_status sc_check_open(sc_client *c, const sc_check_params *p, char out_id[SC_ID_HEX_LEN]);

/*
 * Record an item result on a draft inspection.  status: "met", "not_met",
 * "unknown", "na".  points is used when has_points.  item codes must be on
 * the inspection's score sheet (when it has one).  note may be NULL.
 */
sc_status sc_check_score(sc_client *c, const char *check, const char *item, const char *status,
                         int has_points, int32_t points, const char *note);

/*
 * Submit (sign as a whole) a draft inspection: the op depends on its heads,
 * and lists its findings' ids and head op ids and every photo hash attached
 * to it or its findings.  remarks may be NULL.
 */
sc_status sc_check_submit(sc_client *c, const char *check, const char *remarks);

/* Amend a submitted inspection's item result (a correction, never an edit). */
sc_status sc_check_amend(sc_client *c, const char *check, const char *reason, const char *item,
                         const char *status, int has_points, int32_t points, const char *note);

typedef struct sc_finding_params {
    const char *check;        /* inspection id (32 hex); NULL for a finding without one */
    const char *target;       /* target code or id; NULL: the inspection's */
    const char *description;  /* required */
    const char *grade;        /* "major" or "general" (required) */
    const char *category;     /* may be NULL */
    const char *item;         /* checklist item code; may be NULL */
    const char *location;     /* 点位; may be NULL */
    const char *deadline;     /* "YYYY-MM-DD"; may be NULL */
    const char *responsible;  /* org unit code or id; may be NULL */
    const char *source;       /* "inspection" (default with a check), "complaint", ... */
    int fixed_on_spot;        /* 当场整改: starts as submitted */
    const char *const *photos;/* files to copy into the store as evidence; n_photos of them */
    size_t n_photos;
} sc_finding_params;

/* Raise a finding.  out_id: SC_ID_HEX_LEN bytes. */
sc_status sc_finding_add(sc_client *c, const sc_finding_params *p, char out_id[SC_ID_HEX_LEN]);

/*
 * Edit one field of a finding: field "description", "grade", "deadline"
 * ("" clears), "responsible" (org code or id), "category", "location".
 */
sc_status sc_finding_set(sc_client *c, const char *finding, const char *field, const char *value);

/*
 * Copy the file at `path` into the photo store (hashed while streamed, never
 * whole in memory) and attach it to the entity (an inspection or a finding)
 * with its size, MIME type from its magic bytes and capture time (the
 * file's modification time).  caption may be NULL.  out_sha (may be NULL):
 * SC_HASH_HEX_LEN bytes.  SC_ERR_IO with the file named when it cannot be
 * read.
 */
sc_status sc_photo_add(sc_client *c, const char *entity, const char *path, const char *caption,
                       char out_sha[SC_HASH_HEX_LEN]);

/* The responsible unit reports a rectification with optional evidence photos. */
sc_status sc_rectify(sc_client *c, const char *finding, const char *note, const char *measures,
                     const char *const *photos, size_t n_photos);

/* A revisit (复查; look_back for 回头看): result "rectified" or "not_rectified". */
sc_status sc_revisit(sc_client *c, const char *finding, const char *result, const char *note,
                     int look_back, const char *const *photos, size_t n_photos);

/* Close (销号) a verified finding.  note may be NULL. */
sc_status sc_close(sc_client *c, const char *finding, const char *note);

/* Reopen a verified or closed finding. */
sc_status sc_reopen(sc_client *c, const char *finding, const char *reason);

/*
 * Void an entity (an inspection, finding or assignment), or with target_op
 * (64 hex) one of its photos, notes or item results.  id may also be an op
 * id alone: then the op's entity is found and that op is voided.
 */
sc_status sc_void(sc_client *c, const char *id, const char *reason);

/* Append a note to an entity. */
sc_status sc_note_add(sc_client *c, const char *entity, const char *text);

/*
 * Settle a conflict on an entity with an op that has every current head in
 * its past.  field: a field name as in sc_finding_set, "status" (keeps the
 * safe lifecycle outcome: acknowledges the overruled transition) or
 * "item" (then item names the checklist item and value is "met",
 * "not_met:3", ... the result to keep).
 */
sc_status sc_resolve(sc_client *c, const char *entity, const char *field, const char *value,
                     const char *item);

/* ---------------------------------------------------------------------
 * Queries.  Results are JSON text (UTF-8, one object) in *json, freed with
 * sc_json_free.  Finding status is one of "open", "submitted",
 * "verified", "closed"; "overdue" uses today from the handle's clock (UTC
 * day); "evidence_pending" is true when a photo the finding references is
 * not in the local store.
 * ------------------------------------------------------------------- */

typedef struct sc_filter {
    const char *status;      /* status name, NULL: any */
    int overdue;             /* only overdue findings / assignments past due */
    const char *target;      /* target code or id, NULL: any */
    const char *assignment;  /* assignment id, NULL: any */
} sc_filter;

/*
 * what: "checks", "findings", "assignments".  *json = {"items":[...]}, each
 * item: checks {id,status,target,target_name,kind,disclosure,template,
 * assignment,score,max,passed,complete,vetoed,veto_item,findings,photos,
 * conflicts,voided}; findings {id,status,overdue,reopen_count,
 * evidence_pending,deadline,grade,category,description,target,check,
 * responsible,conflicts,voided}; assignments {id,target,kind,disclosure,
 * due,template,inspectors,note,overdue}.  Voided entities are left out.
 * f may be NULL.
 */
sc_status sc_list(sc_client *c, const char *what, const sc_filter *f, char **json);

/*
 * One entity: {"id","type","status",...its fields...,"history":[{op,kind,
 * author,hlc,time_ms,log_index|null,local,state,reason,message,valid}],
 * "conflicts":[{"field","item","values":[...],"ops":[...]}]}.
 * SC_ERR_NOT_FOUND for an unknown id.
 */
sc_status sc_show(sc_client *c, const char *id, char **json);

/*
 * The supervisor's review queue: {"awaiting_closure":[findings verified],
 * "awaiting_revisit":[findings submitted],"overdue":[findings overdue],
 * "conflicts":[entities with conflicts]} (finding items as in sc_list).
 */
sc_status sc_review(sc_client *c, char **json);

/* Every entity with conflicts: {"items":[{"id","type","conflicts":[...]}]}. */
sc_status sc_conflicts(sc_client *c, char **json);

/* ---------------------------------------------------------------------
 * Sync
 * ------------------------------------------------------------------- */

/*
 * Progress: phase is "push", "pull", "upload" or "download"; done and total
 * count ops or bytes (total 0 when unknown).  Called from inside sc_sync on
 * the calling thread; it must not call back into the handle.
 */
typedef void (*sc_progress_fn)(void *ctx, const char *phase, uint64_t done, uint64_t total);

/*
 * Sync with syncd (docs/protocol.md): push the outbox in causal order in
 * bounded batches and pull what the user may see, one /v1/sync round trip
 * per batch, repeated while the server says `more`.  Every response is
 * verified before anything from it is applied: its seal (the server key's
 * signature binding it to this very request: results, pulled ops, cursor,
 * checkpoint), pulled ops' signatures and authors (enrolled by a
 * server-signed DeviceEnroll seen earlier, not revoked before), the
 * checkpoint signature, the consistency proof from the last verified
 * checkpoint, and the receipt: one inclusion proof that every op answered
 * accepted or duplicate is in the log under that checkpoint.  Per-op
 * results are applied: accepted and duplicate ops leave the outbox with
 * their log index and the receipt is kept (sc_verify_replica checks it);
 * a rejected op (and every op depending on it) leaves the state, stays in
 * history as rejected, and is reported.  An answer that fails any check
 * changes nothing: its ops stay in the outbox and go again next time.
 * Then photos are uploaded in chunks (resuming from the server's offset;
 * the chunk size adapts to the link, see chunk_bytes; a sync that uploads
 * holds one buffer of chunk_bytes) and photos referenced by pulled ops are
 * downloaded.  Network failures
 * and 503s are retried with exponential backoff up to the retry bound; a
 * request refused for its time (request_time) is signed again once with
 * the server's; a 429 (this device over its share on the server) is
 * SC_ERR_UNAVAILABLE, its message saying when to try again.
 *
 * A photo the server refuses (its quota, its size, bytes that do not match
 * its hash, a role that may not upload; not a refusal of the device or a
 * server failure) does not stop the sync: the other photos go on, the
 * refused one stays pending for a later sync and is reported.
 *
 * *json (may be NULL) = {"pushed":n,"accepted":n,"duplicate":n,
 *   "rejected":[{"op","entity","reason","message"}],"pulled":n (ops new to the replica),
 *   "photos_uploaded":n,"photos_downloaded":n,
 *   "photos_refused":[{"photo":hex64,"status":n (HTTP; 0 when the photo could not be read
 *   here),"reason","message"}],"conflicts":n,
 *   "checkpoint":{"size":n,"root":hex64}}.
 * Errors (the replica keeps everything applied by earlier round trips; a
 * failing round trip applies nothing): SC_ERR_NOT_ENROLLED,
 * SC_ERR_BAD_PASSPHRASE, SC_ERR_NETWORK, SC_ERR_PROTOCOL (garbage),
 * SC_ERR_SERVER (refused), SC_ERR_UNAVAILABLE (503 after the retries, or
 * 429), SC_ERR_BAD_SIGNATURE (a pulled op),
 * SC_ERR_CHECKPOINT, SC_ERR_HISTORY_REWRITTEN, SC_ERR_UNPROVEN (the answer
 * is not sealed for this request, differs from its seal, or claims ops
 * logged without a receipt that proves it; the message names the server),
 * SC_ERR_STORAGE.
 */
sc_status sc_sync(sc_client *c, sc_progress_fn progress, void *ctx, char **json);

/* ---------------------------------------------------------------------
 * Verification
 * ------------------------------------------------------------------- */

/*
 * Check the replica on its own: every op's signature and author, every
 * stored checkpoint's signature and the consistency proofs between them,
 * every receipt against its checkpoint, that every op of this device held
 * as logged is proven by a receipt (replicas written before receipts were
 * kept: the ops recorded since), and that refolding every entity gives its
 * stored state.  Ops still in the outbox are counted as "unproven": nothing
 * says yet that syncd logged them.
 * *json = {"ok":bool,"ops":n,"entities":n,"checkpoints":n,"receipts":n,
 *   "unproven":n,"errors":[text]}.
 * SC_ERR_BAD_SIGNATURE / SC_ERR_CHECKPOINT / SC_ERR_PROOF / SC_ERR_REJECTED
 * (a state differs) name the first problem in errmsg; *json is filled
 * either way.
 */
sc_status sc_verify_replica(sc_client *c, char **json);

/*
 * Check a syncd export bundle (proto/bundle.proto) offline: stream every
 * entry and checkpoint through the core auditor, replay the entries into a
 * temporary in-memory replica with the same fold, and compare the
 * trailer's size, root and replica hash.  Needs no enrollment; the handle
 * gives the environment and the message.
 * *json = {"ok":bool,"entries":n,"checkpoints":n,"entities":n,
 *   "root":hex64,"replica_hash":hex64,"origin":..,"error":text|null}.
 * On failure errmsg names the first bad entry.
 */
sc_status sc_verify_bundle(sc_client *c, const char *path, char **json);

#ifdef __cplusplus
}
#endif

#endif /* SPOTCHECK_H */
