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
 * SC_API marks the functions libspotcheck exports: the library is built
 * with hidden visibility, so these and nothing else are its ABI (a linker
 * version script says so again, under the symbol version SPOTCHECK_0).
 * Only compilers that know GCC's visibility attribute are told; for the
 * others it is empty, and the version script alone decides.
 */
#ifndef SC_API
#if defined(__GNUC__) || defined(__clang__)
#define SC_API __attribute__((visibility("default")))
#else
#define SC_API
#endif
#endif

/*
 * The one list of status codes.  X(name, value, text).  Values are stable:
 * the CLI maps them to exit codes and scripts depend on them.
 */
#define SC_STATUS_LIST(X)                                                                          \
    X(SC_OK, 0, "ok")                                                                              \
    X(SC_ERR_NOMEM, 1, "out of memory")                                                            \
    X(SC_ERR_INVALID_ARG, 2, "invalid argument")                                                   \
    X(SC_ERR_MALFORMED, 3, "malformed encoding")                                                   \
    X(SC_ERR_TOO_LARGE, 4, "exceeds a size limit")                                                 \
    X(SC_ERR_BAD_SIGNATURE, 5, "signature does not verify")                                        \
    X(SC_ERR_CRYPTO, 6, "cryptographic library failure")                                           \
    X(SC_ERR_BAD_PASSPHRASE, 7, "wrong passphrase or damaged key")                                 \
    X(SC_ERR_IO, 8, "input/output error")                                                          \
    X(SC_ERR_NOT_FOUND, 9, "not found")                                                            \
    X(SC_ERR_EXISTS, 10, "already exists")                                                         \
    X(SC_ERR_INVALID_TRANSITION, 11, "not allowed in the current state")                           \
    X(SC_ERR_REJECTED, 12, "rejected by the rules")                                                \
    X(SC_ERR_PROOF, 13, "Merkle proof does not verify")                                            \
    X(SC_ERR_CHECKPOINT, 14, "checkpoint does not verify")                                         \
    X(SC_ERR_HISTORY_REWRITTEN, 15, "server history is inconsistent with a verified checkpoint")   \
    X(SC_ERR_NETWORK, 16, "server unreachable")                                                    \
    X(SC_ERR_PROTOCOL, 17, "server answered something that is not the protocol")                   \
    X(SC_ERR_SERVER, 18, "server refused the request")                                             \
    X(SC_ERR_FORBIDDEN, 19, "not permitted for this role or scope")                                \
    X(SC_ERR_STORAGE, 20, "local storage failure")                                                 \
    X(SC_ERR_LIMIT, 21, "a configured limit was reached")                                          \
    X(SC_ERR_NOT_ENROLLED, 22, "this replica has no enrolled device")                              \
    X(SC_ERR_UNAVAILABLE, 23, "temporarily unavailable, retry later")                              \
    X(SC_ERR_INTERNAL, 24, "internal error")                                                       \
    X(SC_ERR_UNPROVEN, 25, "the server's answer is not proven for this request")                   \
    X(SC_ERR_CANCELLED, 26, "cancelled by the caller")                                             \
    X(SC_ERR_TLS, 27, "the server's TLS identity could not be verified")                          \
    X(SC_ERR_READ_ONLY, 28, "the handle is read-only")

typedef enum sc_status {
#define SC_STATUS_ENUM_(name, value, text) name = value,
    SC_STATUS_LIST(SC_STATUS_ENUM_)
#undef SC_STATUS_ENUM_
} sc_status;

/* A fixed English text for a status code; never NULL, for unknown codes too. */
SC_API const char *sc_strerror(sc_status status);

/* The name of a status code ("SC_ERR_NOT_FOUND"); never NULL. */
SC_API const char *sc_status_name(sc_status status);

/*
 * The sync protocol this header describes: the N of the /vN/ paths of
 * docs/protocol.md.  A client and a syncd talk only when they agree on it.
 */
#define SC_PROTOCOL_VERSION 1

/*
 * The release this header describes.  A program may run with a newer
 * library than the header it was built with: every release of one soname
 * (libspotcheck.so.0) runs programs built against an older header of it
 * (docs/client.md, "Versions and the ABI").  sc_version() and
 * sc_version_number() say which release is running.
 */
#define SC_VERSION_MAJOR 0
#define SC_VERSION_MINOR 2
#define SC_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH: comparable in #if and at run time. */
#define SC_VERSION_NUMBER (SC_VERSION_MAJOR * 10000 + SC_VERSION_MINOR * 100 + SC_VERSION_PATCH)

/* The running library's release, "MAJOR.MINOR.PATCH"; static, never NULL. */
SC_API const char *sc_version(void);

/* The running library's release as SC_VERSION_NUMBER counts it. */
SC_API unsigned sc_version_number(void);

/* The sync protocol the library speaks (SC_PROTOCOL_VERSION when it was built). */
SC_API unsigned sc_protocol_version(void);

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
 * Threads and processes.  A handle is used by one thread at a time: calls
 * on one handle must not overlap (the caller serializes them), but for
 * sc_client_interrupt, which is safe from any thread while another uses
 * the handle.  Handles are independent of each other, in one thread or
 * many, in one process or several, on one replica or on different ones:
 *  - Any number of read-only handles (SC_OPEN_READONLY) read a replica
 *    beside the one handle that writes it (records and syncs): an app's UI
 *    threads read while its sync uploads photos.  Every query answers one
 *    committed state of the replica (one SQLite WAL snapshot), never half
 *    of a write; readers never wait for the writer, nor it for them.
 *  - Opening a replica of this library's version writes nothing, so opens
 *    never wait for each other; an older replica is migrated once, by the
 *    first handle that may write.
 *  - Two handles that write one replica (two processes of the CLI, say)
 *    take turns: a change waits up to 5 s for the other's transaction (a
 *    sync applies each round in one transaction of milliseconds), then
 *    fails with SC_ERR_STORAGE ("database is locked").  The design is one
 *    writer per replica, with readers around it.
 * sc_global_init must have run before a second thread uses the library
 * (see there).  sc_strerror, sc_status_name, sc_version, sc_version_number
 * and sc_protocol_version are safe from any thread at any time.  Callbacks
 * (allocator, clock, progress, transport) are called on the thread of the
 * call that uses them, except a transport's interrupt hook, called by
 * sc_client_interrupt on its caller's thread.
 * sc_sync checks the signatures of a large pull on helper threads (at most
 * one per CPU, four in all) that it starts and joins before it returns;
 * they call no callback and no allocator of the handle.
 * The library never prints and never exits.  Its one piece of process-wide
 * state is the one-time initialisation of libsodium and libcurl
 * (sc_global_init, below).
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
 * Structs that grow.  Every struct an app fills in and hands to the
 * library, from release 0.2 on, begins with `size`, set by the caller to
 * the struct's size as its header declares it:
 *     sc_check_params_v2 p = {.size = sizeof p, .target = "T-JAHY", ...};
 * Later releases only add fields at the end.  The library reads `size`
 * bytes: the fields a program built against an older header lacks take
 * their defaults (as when zero), and a larger struct from a newer header
 * is taken when every field this library does not know is zero.  A size
 * smaller than the struct's first release, or unknown fields set, is
 * SC_ERR_INVALID_ARG naming the struct.  sc_net_options and sc_transport
 * carry a version number instead, to the same end.  The structs of 0.1,
 * which have no size (sc_client_options, sc_check_params,
 * sc_assign_params, sc_finding_params, sc_filter), never change, and the
 * calls that take them stay for programs built against them.
 */

/*
 * The library's one-time global initialisation: libsodium's sodium_init()
 * and libcurl's curl_global_init(CURL_GLOBAL_DEFAULT).  A program with
 * threads calls it once, from its main thread, before any other thread can
 * use libspotcheck or libcurl: curl_global_init is thread-safe only in
 * libcurl builds whose curl_version_info() lists the "threadsafe" feature
 * (7.84 and later, as Debian 12 builds it).  Later calls return the first
 * call's status at once and are safe from any thread.  sc_client_open*
 * call it too, so a single-threaded program, or one that opens its first
 * handle before it starts threads, needs nothing more.  What it sets up
 * lives until the process exits: there is no cleanup call, since libcurl
 * may be in use by the program itself.  Errors: SC_ERR_CRYPTO (libsodium),
 * SC_ERR_INTERNAL (libcurl).
 */
SC_API sc_status sc_global_init(void);

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
 * What sc_client_open_v2 may do with a path that holds no replica.  A
 * mistyped path must not turn into an empty replica that answers "nothing
 * here": only enrollment makes a replica, and everything else opens one
 * that exists.
 */
typedef enum sc_open_mode {
    /* A replica that exists; nothing is created or changed otherwise.  A
     * path that names nothing is SC_ERR_NOT_FOUND ("no replica at PATH"); a
     * file that is not a replica (not SQLite, another program's database,
     * an empty file) is SC_ERR_STORAGE and left as it was. */
    SC_OPEN_EXISTING = 1,
    /* For enrollment: a replica that exists, or a new one made at path with
     * its photo store.  A replica this handle made that holds no identity
     * when the handle is closed (sc_enroll failed, or was never called) is
     * removed by sc_client_close: the file, its -wal and -shm, and the photo
     * store directories the handle made, when empty.  So a failed enrollment
     * leaves nothing behind, and a replica that existed before is never
     * removed.  An existing file must be a replica (or empty, which is
     * then made one and kept). */
    SC_OPEN_ENROLL = 2,
    /* Make the replica when missing and keep it, enrolled or not: what
     * sc_client_open does, for tools and tests that set a replica up by
     * other means. */
    SC_OPEN_CREATE = 3,
    /* A replica that exists, for reading only (an app's UI, beside the
     * handle that records and syncs).  Nothing is created, written or
     * migrated: calls that would change the replica (recording, sc_sync*,
     * sc_enroll, sc_server_set_url) fail with SC_ERR_READ_ONLY before doing
     * anything, and so does opening a replica an older library wrote, until
     * a handle that may write has opened it once and migrated it.  A
     * missing path, or one that is not a replica, fails as for
     * SC_OPEN_EXISTING. */
    SC_OPEN_READONLY = 4
} sc_open_mode;

/*
 * Open the replica at `path` and its photo store `path`.blobs/, as `mode`
 * allows (":memory:" is always a new, empty replica).  `opt` may be NULL;
 * it is copied.  On success *out is the handle; on failure *out is NULL
 * and, when err/cap are given, a message is written into err (cap bytes,
 * NUL-terminated), since there is no handle to ask.  A replica an older
 * library wrote is migrated to this library's schema first (docs/client.md,
 * "Upgrades"); the work queued in it stays queued.  Errors:
 * SC_ERR_INVALID_ARG (also an unknown mode), SC_ERR_NOT_FOUND (no replica
 * at path, SC_OPEN_EXISTING and SC_OPEN_READONLY), SC_ERR_STORAGE (cannot
 * open, not a replica, a replica a newer library wrote, or a migration
 * that failed and was rolled back), SC_ERR_READ_ONLY (SC_OPEN_READONLY on a
 * replica to migrate), SC_ERR_IO (photo store), SC_ERR_NOMEM.
 */
SC_API sc_status sc_client_open_v2(const char *path, const sc_client_options *opt,
                                   sc_open_mode mode, sc_client **out, char *err, size_t cap);

/*
 * sc_client_open_v2 with SC_OPEN_CREATE: a missing replica is made and
 * kept.  Apps open with SC_OPEN_EXISTING, and with SC_OPEN_ENROLL to
 * enroll, so that a wrong path is an error and not a new empty replica.
 */
SC_API sc_status sc_client_open(const char *path, const sc_client_options *opt, sc_client **out,
                                char *err, size_t cap);

/* What sc_client_open_v3 opens, and how (size first; see "Structs that grow"). */
typedef struct sc_open_options {
    size_t size;              /* sizeof(sc_open_options) */
    sc_open_mode mode;        /* 0: SC_OPEN_EXISTING */
    sc_client_options client; /* as sc_client_open_v2 takes them; zeroed: the defaults */
    /* How long a change waits for another writing handle's transaction
     * before it fails with SC_ERR_STORAGE ("database is locked"), in ms
     * (0: 5000; at most 3600000).  Reads never wait. */
    uint32_t busy_ms;
} sc_open_options;

/*
 * sc_client_open_v2 with options that can grow.  opt NULL opens an
 * existing replica with the defaults.  Errors as for sc_client_open_v2,
 * and SC_ERR_INVALID_ARG for a size or a busy_ms out of bounds.
 */
SC_API sc_status sc_client_open_v3(const char *path, const sc_open_options *opt, sc_client **out,
                                   char *err, size_t cap);

/* Close the handle, wiping the device key.  NULL is a no-op. */
SC_API void sc_client_close(sc_client *c);

/*
 * The message of the last failed call on this handle: what failed and
 * where ("op 3 of 40: signature does not match device key").  Never NULL;
 * "" after a success.  Borrowed until the next call on the handle.
 */
SC_API const char *sc_client_errmsg(const sc_client *c);

/* The protocol reason name of the last failure ("invalid_transition",
 * "forbidden_role", ...), or "" when none applies.  Borrowed like errmsg. */
SC_API const char *sc_client_reason(const sc_client *c);

/* Free a string the library handed out (JSON).  NULL is a no-op. */
SC_API void sc_json_free(sc_client *c, char *json);

/*
 * Name the app that uses the library, as RFC 9110 product tokens
 * ("spotcheck/0.1.0"; several separated by spaces).  Every request then
 * carries the User-Agent "APP libspotcheck/VERSION" (without an app,
 * "libspotcheck/VERSION"), which syncd shows admins as the device's app
 * version (`syncd admin device list`).  Printable ASCII, at most 64 bytes;
 * NULL or "" names none.  Copied.  Errors: SC_ERR_INVALID_ARG.
 */
SC_API sc_status sc_client_set_app(sc_client *c, const char *app);

/* ---------------------------------------------------------------------
 * Identity
 * ------------------------------------------------------------------- */

/*
 * The device key.  It signs every op and request of the device, and it is
 * kept one of three ways, chosen when the replica is enrolled:
 *  - under a passphrase (the default): the replica holds the key encrypted
 *    with Argon2id + secretbox; a handle that signs is given the passphrase
 *    first (sc_client_unlock);
 *  - by a key custody (sc_client_set_key_custody): the app's keystore
 *    (Android Keystore, the iOS Keychain, a hardware token) holds the
 *    private key and signs for the library; the replica holds only the
 *    public key, and nothing of the private key ever passes through the
 *    library;
 *  - in plain text in the replica, only when the caller asks for it
 *    (SC_ENROLL_PLAIN_KEY): anyone who can read the file can then sign as
 *    the device.
 * A replica enrolled with a plain key (by release 0.1, or with the flag)
 * is encrypted in place by sc_key_protect.
 */

/*
 * The app's keystore signs: msg is the whole input to sign (the library's
 * domain-separated bytes), public_key names the key (the one given in
 * sc_key_custody), and sig receives its Ed25519 signature (RFC 8032) over
 * msg.  Return SC_OK, or any other status when it cannot sign (the user
 * did not authenticate, the key is gone): the call that wanted it fails
 * with SC_ERR_CRYPTO and records nothing.  The library checks the
 * signature under public_key before it uses it.
 */
typedef sc_status (*sc_key_sign_fn)(void *ctx, const uint8_t public_key[32], const uint8_t *msg,
                                    size_t len, uint8_t sig[64]);

/* A key custody (size first; see "Structs that grow"). */
typedef struct sc_key_custody {
    size_t size;            /* sizeof(sc_key_custody) */
    uint8_t public_key[32]; /* the Ed25519 public key of the key the keystore holds */
    sc_key_sign_fn sign;    /* required */
    void *ctx;              /* passed to sign; the app's, borrowed while the handle lives */
} sc_key_custody;

/*
 * Give the handle the keystore that holds its device key.  Before
 * sc_enroll_v2, the device is enrolled with public_key, and the replica
 * records that a custody holds it.  On an enrolled replica, public_key must
 * be the device key the replica was enrolled with by a custody.  Copied;
 * NULL takes a custody away.  sign is called on the thread of the call
 * that signs (recording, sc_sync, sc_enroll_v2).  Errors:
 * SC_ERR_INVALID_ARG (a size out of bounds, no sign; public_key is not the
 * enrolled key, or the replica keeps its key itself: the message says
 * which), SC_ERR_READ_ONLY.
 */
SC_API sc_status sc_client_set_key_custody(sc_client *c, const sc_key_custody *k);

/* sc_enroll_params.flags: keep the key in the replica unencrypted (no passphrase, no custody). */
#define SC_ENROLL_PLAIN_KEY 0x1u

/* What sc_enroll_v2 enrolls with (size first; see "Structs that grow"). */
typedef struct sc_enroll_params {
    size_t size;            /* sizeof(sc_enroll_params) */
    const char *server_url; /* "https://register.example" (required) */
    const char *code;       /* the admin's one-time enrollment code (required) */
    const char *label;      /* names the device; may be NULL */
    const char *pass;       /* the passphrase the key is encrypted under; pass_len bytes */
    size_t pass_len;
    unsigned flags; /* SC_ENROLL_PLAIN_KEY */
} sc_enroll_params;

/*
 * Enroll this replica as a device: take the key of the handle's custody
 * (sc_client_set_key_custody) or generate an Ed25519 key, prove it to
 * server_url with the one-time code, and store the identity (server URL
 * and key, origin, user, role, org) and the key as chosen (see "The device
 * key"): exactly one of a custody, a passphrase (pass_len > 0) or
 * SC_ENROLL_PLAIN_KEY, else SC_ERR_INVALID_ARG saying so before anything
 * is sent.  The enrollment checkpoint is verified with the server key and
 * kept as the first verified checkpoint.  On success *json (may be NULL) is
 *   {"device_id":hex32,"device_key":hex64,"user":hex32,"login":..,
 *    "name":..,"role":..,"org":hex32,"server":url,"key":"passphrase"|"custody"|"plain"}.
 * The handle's TLS trust (sc_client_set_net: CA file, CA directory, pin)
 * is remembered with the URL.
 * Errors: SC_ERR_INVALID_ARG, SC_ERR_EXISTS (already enrolled),
 * SC_ERR_NETWORK, SC_ERR_SERVER (refused; reason says why, e.g.
 * forbidden_role for a bad code), SC_ERR_PROTOCOL, SC_ERR_TLS,
 * SC_ERR_CHECKPOINT, SC_ERR_CRYPTO (the custody did not sign),
 * SC_ERR_CANCELLED, SC_ERR_STORAGE, SC_ERR_READ_ONLY.
 */
SC_API sc_status sc_enroll_v2(sc_client *c, const sc_enroll_params *p, char **json);

/*
 * The enrollment of 0.1, kept for programs built against it: as
 * sc_enroll_v2 with a passphrase when pass_len > 0, and otherwise with
 * SC_ENROLL_PLAIN_KEY (a plain key, as 0.1 documented), or the handle's
 * custody when it has one.  New programs call sc_enroll_v2, which never
 * stores a plain key unless asked.
 */
SC_API sc_status sc_enroll(sc_client *c, const char *server_url, const char *code,
                           const char *label, const char *pass, size_t pass_len, char **json);

/*
 * Give the passphrase of an encrypted device key and load the key now.
 * SC_ERR_BAD_PASSPHRASE with a clear message when it does not open the
 * key (nothing changes); SC_ERR_NOT_ENROLLED without an identity.  Calls
 * that sign (record, sync) load a plain key by themselves and fail with
 * SC_ERR_BAD_PASSPHRASE when the key is encrypted and not unlocked, or
 * held by a custody the handle was not given.  The passphrase is not kept.
 */
SC_API sc_status sc_client_unlock(sc_client *c, const char *pass, size_t pass_len);

/*
 * Encrypt the device key in the replica under a new passphrase: a plain
 * key (a replica enrolled by 0.1, or with SC_ENROLL_PLAIN_KEY), or an
 * encrypted one unlocked first (a new passphrase).  In one transaction,
 * with the old key file's bytes overwritten in the file and its write-ahead
 * log, so a copy of the replica taken afterwards holds no plain key.
 * Errors: SC_ERR_INVALID_ARG (no passphrase), SC_ERR_NOT_ENROLLED,
 * SC_ERR_BAD_PASSPHRASE (encrypted and not unlocked; held by a custody),
 * SC_ERR_READ_ONLY, SC_ERR_STORAGE.  On any error nothing changes.
 */
SC_API sc_status sc_key_protect(sc_client *c, const char *pass, size_t pass_len);

/*
 * Identity, outbox and checkpoint as JSON:
 *   {"enrolled":bool,"device_id","device_key","user","login","name","role",
 *    "org","server","origin","key_encrypted":bool (false only for a plain key),
 *    "key":"passphrase"|"custody"|"plain","outbox":n,"proven":n
 *    (this device's ops in the log),"ops":n,"rejected":n,
 *    "entities":n,"photos_pending_upload":n,"replica_hash":hex64,
 *    "last_sync_ms":n|null,"checkpoint":{"size":n,"root":hex64,"time_ms":n}|null}
 * last_sync_ms is when the last sc_sync that completed ended, by this
 * device's clock (null before the first).
 * replica_hash is SHA-256 over (entity id || state hash) of every entity
 * in the replica in ascending id order (docs/data-model.md §5), the hash
 * `syncd audit` prints for the register and `syncd export` writes into a
 * bundle.  Two replicas that hold the same ops have the same hash; a replica
 * equals the register's once its outbox is empty and it has pulled
 * everything, if its user may see every entity (auditors; or when nothing
 * hidden from the user exists).
 */
SC_API sc_status sc_client_status(sc_client *c, char **json);

/* Where this device's work stands (size first; see "Structs that grow"). */
typedef struct sc_standing {
    size_t size;                    /* sizeof(sc_standing) */
    uint64_t outbox;                /* ops queued, not yet proven in the log */
    uint64_t proven;                /* this device's ops proven in the log */
    uint64_t rejected;              /* ops syncd rejected */
    uint64_t photos_pending_upload; /* photos still to upload */
    int64_t last_sync_ms;           /* when the last completed sync ended; -1 before one */
} sc_standing;

/*
 * The counts sc_client_status gives, without the replica hash or the
 * identity: read from indexes, so asking costs the same whatever the
 * replica holds (sc_client_status hashes every entity).  For an app that
 * shows what is waiting, or compares before and after a sync.  out->size
 * set by the caller; one snapshot of the replica.
 */
SC_API sc_status sc_client_standing(sc_client *c, sc_standing *out);

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

/* sc_check_params with a size (see "Structs that grow"), for sc_check_open_v2. */
typedef struct sc_check_params_v2 {
    size_t size;            /* sizeof(sc_check_params_v2) */
    const char *target;     /* target code or entity id; may be NULL with an assignment */
    const char *kind;       /* "spot", "supervisory", ...; NULL: from the assignment */
    const char *disclosure; /* "open", "unannounced", "experiential"; NULL: from the assignment */
    const char *relation;   /* "self", "superior", "peer", "external"; may be NULL */
    const char *template_;  /* score sheet code (latest version) or entity id; may be NULL */
    const char *assignment; /* assignment entity id; may be NULL */
    /* Where it is opened (the tablet's fix), the open op's geo; added after 0.2's struct: */
    int has_gps;
    int32_t lat_e7; /* latitude in degrees x 1e7, -900000000..900000000 */
    int32_t lon_e7; /* longitude in degrees x 1e7, -1800000000..1800000000 */
} sc_check_params_v2;

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

/* sc_assign_params with a size (see "Structs that grow"), for sc_assign_v2. */
typedef struct sc_assign_params_v2 {
    size_t size;                   /* sizeof(sc_assign_params_v2) */
    const char *target;            /* target code or entity id (required) */
    const char *const *inspectors; /* logins or user ids of inspectors/supervisors (1..32) */
    size_t ninspectors;
    const char *kind;       /* "spot", "supervisory", ... (required) */
    const char *disclosure; /* "open", "unannounced", "experiential" (required) */
    const char *due;        /* "YYYY-MM-DD"; may be NULL */
    const char *template_;  /* score sheet code (latest version) or id; may be NULL */
    const char *note;       /* may be NULL */
    /* A look-back round (回头看) names the findings it re-checks, of its target; may be 0. */
    const char *const *rechecks; /* finding ids (0..256) */
    size_t nrechecks;
    /* A spot check of self-checks (自查): the self-check inspections it verifies; may be 0. */
    const char *const *verifies; /* inspection ids (0..64) of the target's self-checks */
    size_t nverifies;
} sc_assign_params_v2;

/*
 * Plan a check (supervisors and admins): an assignment naming the
 * inspectors who will do it.  An unannounced or experiential plan is seen
 * only by them and by supervisors in scope, never by the inspected unit.
 * Errors as for every recording call; SC_ERR_INVALID_ARG when a named user
 * is not an inspector or supervisor.  out_id: SC_ID_HEX_LEN bytes.
 */
SC_API sc_status sc_assign_v2(sc_client *c, const sc_assign_params_v2 *p,
                              char out_id[SC_ID_HEX_LEN]);
/* sc_assign_v2 with the struct of 0.1. */
SC_API sc_status sc_assign(sc_client *c, const sc_assign_params *p, char out_id[SC_ID_HEX_LEN]);

/* Open an inspection (a draft).  out_id: SC_ID_HEX_LEN bytes. */
SC_API sc_status sc_check_open_v2(sc_client *c, const sc_check_params_v2 *p,
                                  char out_id[SC_ID_HEX_LEN]);
/* sc_check_open_v2 with the struct of 0.1. */
SC_API sc_status sc_check_open(sc_client *c, const sc_check_params *p, char out_id[SC_ID_HEX_LEN]);

/*
 * Record an item result on a draft inspection.  status: "met", "not_met",
 * "unknown", "na".  points is used when has_points.  item codes must be on
 * the inspection's score sheet (when it has one).  note may be NULL.
 */
SC_API sc_status sc_check_score(sc_client *c, const char *check, const char *item,
                                const char *status, int has_points, int32_t points,
                                const char *note);

/*
 * Submit (sign as a whole) a draft inspection: the op depends on its heads,
 * and lists its findings' ids and head op ids and every photo hash attached
 * to it or its findings.  remarks may be NULL.
 */
SC_API sc_status sc_check_submit(sc_client *c, const char *check, const char *remarks);

/* A submission, size first (see "Structs that grow"), for sc_check_submit_v2. */
typedef struct sc_submit_params {
    size_t size;         /* sizeof(sc_submit_params) */
    const char *remarks; /* may be NULL */
    int has_gps;         /* where it is submitted (the tablet's fix): */
    int32_t lat_e7;      /* latitude in degrees x 1e7, -900000000..900000000 */
    int32_t lon_e7;      /* longitude in degrees x 1e7, -1800000000..1800000000 */
} sc_submit_params;

/*
 * sc_check_submit, also recording where: the submission op's geo, which
 * sc_show gives as the check's "submitted_at".  Coordinates off the globe
 * are SC_ERR_INVALID_ARG.
 */
SC_API sc_status sc_check_submit_v2(sc_client *c, const char *check, const sc_submit_params *p);

/* Amend a submitted inspection's item result (a correction, never an edit). */
SC_API sc_status sc_check_amend(sc_client *c, const char *check, const char *reason,
                                const char *item, const char *status, int has_points,
                                int32_t points, const char *note);

/*
 * One item's result, size first (see "Structs that grow"), for
 * sc_check_score_v2 and sc_check_amend_v2.  Strings are borrowed for the
 * call; NULL: not given.
 */
typedef struct sc_item_params {
    size_t size;           /* sizeof(sc_item_params) */
    const char *item;      /* the item's code on the score sheet (required) */
    const char *status;    /* "met", "not_met", "unknown", "na" (required) */
    int has_points;        /* points earned, on an item scored by points earned */
    int32_t points;
    int has_deduction;     /* points deducted (扣分), on a deduction item */
    int32_t deduction;
    const char *measured;  /* the value measured (a temperature, a count), as text */
    int relapse_prone;     /* 易反弹: met, but likely to slip back; follow it up */
    const char *note;
} sc_item_params;

/*
 * sc_check_score with the whole result: a deduction item (show of the
 * sheet says "mode":"deduct") takes has_deduction, never points, and a
 * deduction over the item's maximum (it would score below zero) is refused,
 * as is a deduction on an item scored by points earned; an item with
 * sub-items is scored by its sub-items, never on its own; points over an
 * item's (or sub-item's) maximum are refused.  SC_ERR_INVALID_ARG with the
 * reason bad_field for these, SC_ERR_NOT_FOUND for an item not on the sheet
 * (the message lists its codes).  syncd refuses the same (core/score.h).
 */
SC_API sc_status sc_check_score_v2(sc_client *c, const char *check, const sc_item_params *p);
/* sc_check_amend with the whole result, as sc_check_score_v2. */
SC_API sc_status sc_check_amend_v2(sc_client *c, const char *check, const char *reason,
                                   const sc_item_params *p);

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

/* sc_finding_params with a size (see "Structs that grow"), for sc_finding_add_v2. */
typedef struct sc_finding_params_v2 {
    size_t size;               /* sizeof(sc_finding_params_v2) */
    const char *check;         /* inspection id (32 hex); NULL for a finding without one */
    const char *target;        /* target code or id; NULL: the inspection's */
    const char *description;   /* required */
    const char *grade;         /* "major" or "general" (required) */
    const char *category;      /* may be NULL */
    const char *item;          /* checklist item code; may be NULL */
    const char *location;      /* 点位; may be NULL */
    const char *deadline;      /* "YYYY-MM-DD"; may be NULL */
    const char *responsible;   /* org unit code or id; may be NULL */
    const char *source;        /* "inspection" (default with a check), "complaint", ... */
    int fixed_on_spot;         /* 当场整改: starts as submitted */
    const char *const *photos; /* files to copy into the store as evidence; n_photos of them */
    size_t n_photos;
} sc_finding_params_v2;

/* Raise a finding.  out_id: SC_ID_HEX_LEN bytes. */
SC_API sc_status sc_finding_add_v2(sc_client *c, const sc_finding_params_v2 *p,
                                   char out_id[SC_ID_HEX_LEN]);
/* sc_finding_add_v2 with the struct of 0.1. */
SC_API sc_status sc_finding_add(sc_client *c, const sc_finding_params *p,
                                char out_id[SC_ID_HEX_LEN]);

/*
 * Edit one field of a finding: field "description", "grade", "deadline"
 * ("" clears), "responsible" (org code or id), "category", "location".
 */
SC_API sc_status sc_finding_set(sc_client *c, const char *finding, const char *field,
                                const char *value);

/*
 * Copy the file at `path` into the photo store (hashed while streamed, never
 * whole in memory) and attach it to the entity (an inspection or a finding)
 * with its size, MIME type from its magic bytes and capture time (the
 * file's modification time).  caption may be NULL.  out_sha (may be NULL):
 * SC_HASH_HEX_LEN bytes.  SC_ERR_IO with the file named when it cannot be
 * read.
 */
SC_API sc_status sc_photo_add(sc_client *c, const char *entity, const char *path,
                              const char *caption, char out_sha[SC_HASH_HEX_LEN]);

/* A photo to attach, size first (see "Structs that grow"), for sc_photo_add_v2. */
typedef struct sc_photo_params {
    size_t size;         /* sizeof(sc_photo_params) */
    const char *entity;  /* an inspection or finding id (required) */
    const char *path;    /* the file (required) */
    const char *caption; /* may be NULL */
    const char *item;    /* the score sheet item it shows (an inspection's photo); may be NULL */
    int has_gps;         /* where it was taken, given by the caller: */
    int32_t lat_e7;      /* latitude in degrees x 1e7, -900000000..900000000 */
    int32_t lon_e7;      /* longitude in degrees x 1e7, -1800000000..1800000000 */
} sc_photo_params;

/*
 * sc_photo_add with what the photo shows and where.  An item must be on the
 * inspection's score sheet (SC_ERR_NOT_FOUND listing its codes otherwise);
 * an item not met that asks for a photo when not met is submitted only with
 * one (sc_check_submit refuses, SC_ERR_INVALID_TRANSITION naming the item).
 * Coordinates off the globe are SC_ERR_INVALID_ARG.
 */
SC_API sc_status sc_photo_add_v2(sc_client *c, const sc_photo_params *p,
                                 char out_sha[SC_HASH_HEX_LEN]);

/*
 * Copy a photo out of the replica's photo store into a new file at path
 * (mode 0600; an existing file is never overwritten), checking its bytes
 * against its hash on the way.  sha: the photo's SHA-256, 64 hex digits,
 * as sc_show lists it.  *json (may be NULL) = {"sha256","size","mime",
 * "path"}, mime from the photo's first bytes.  Errors: SC_ERR_INVALID_ARG,
 * SC_ERR_NOT_FOUND (not in the store: a photo referenced but not yet
 * downloaded, "present":false in sc_show), SC_ERR_EXISTS (path exists),
 * SC_ERR_STORAGE (the stored bytes do not match the hash), SC_ERR_IO,
 * SC_ERR_NOMEM.  On any error nothing is left at path.
 */
SC_API sc_status sc_photo_get(sc_client *c, const char *sha, const char *path, char **json);

/* The responsible unit reports a rectification with optional evidence photos. */
SC_API sc_status sc_rectify(sc_client *c, const char *finding, const char *note,
                            const char *measures, const char *const *photos, size_t n_photos);

/* A revisit (复查; look_back for 回头看): result "rectified" or "not_rectified". */
SC_API sc_status sc_revisit(sc_client *c, const char *finding, const char *result, const char *note,
                            int look_back, const char *const *photos, size_t n_photos);

/*
 * Close (销号) a verified finding.  note may be NULL.  A finding that is
 * closed already is SC_ERR_INVALID_TRANSITION saying so ("finding … is
 * already closed (销号) by LOGIN: nothing changed"), and nothing is made.
 */
SC_API sc_status sc_close(sc_client *c, const char *finding, const char *note);

/* Reopen a verified or closed finding. */
SC_API sc_status sc_reopen(sc_client *c, const char *finding, const char *reason);

/*
 * Void an entity (an inspection, finding or assignment), or with target_op
 * (64 hex) one of its photos, notes or item results.  id may also be an op
 * id alone: then the op's entity is found and that op is voided.
 */
SC_API sc_status sc_void(sc_client *c, const char *id, const char *reason);

/* Append a note to an entity. */
SC_API sc_status sc_note_add(sc_client *c, const char *entity, const char *text);

/*
 * Settle a conflict on an entity with an op that has every current head in
 * its past.  field: a field name as in sc_finding_set, "status" (keeps the
 * safe lifecycle outcome: acknowledges the overruled transition) or
 * "item" (then item names the checklist item and value is "met",
 * "not_met:3", ... the result to keep).  A voided entity has nothing to
 * resolve (its void closed its conflicts): SC_ERR_INVALID_TRANSITION.
 */
SC_API sc_status sc_resolve(sc_client *c, const char *entity, const char *field, const char *value,
                            const char *item);

/* ---------------------------------------------------------------------
 * Rectification governance (docs/data-model.md §4): what the work plans
 * run around a finding.  The inspector's notice (限期整改通知) names the
 * responsible unit and the deadline; the unit signs for it (签收) and
 * files its plan (整改方案), which a supervisor may send back; the unit
 * asks for a later deadline (延期) and a supervisor approves or rejects it;
 * a supervisor may change a deadline stating a reason; a major hazard is
 * closed only after an acceptance (验收) by a user of an org unit above the
 * responsible one, and its reporter, acceptor and closer are three
 * different users.  Each call makes one signed op, judged by the fold like
 * every recording call (SC_ERR_INVALID_TRANSITION with the fold's reason);
 * the role table decides who may (SC_ERR_FORBIDDEN).
 *
 * sc_check_submit issues the notice of every finding of the inspection
 * that is not fixed on the spot and has none; sc_finding_add of a finding
 * without an inspection issues its notice at once.  A general finding
 * without a responsible unit or deadline takes the defaults (the target's
 * org unit; today plus the register's period for the target's org unit),
 * and sc_show says they were defaulted; a major hazard without them is
 * refused (SC_ERR_INVALID_TRANSITION naming what is missing), and nothing
 * is recorded.  Findings are made under the rules these calls follow
 * (core/governance.h, SC_GOV_RULES).
 * ------------------------------------------------------------------- */

/*
 * Issue the notice of a finding that has none.  responsible (org code or
 * id) and deadline ("YYYY-MM-DD"): NULL takes the finding's own value,
 * else the default (general findings only).  note may be NULL.
 * Inspectors and supervisors.
 */
SC_API sc_status sc_notice(sc_client *c, const char *finding, const char *responsible,
                           const char *deadline, const char *note);

/*
 * The responsible unit signs for the notice (签收); once per notice.  A
 * user of the responsible role acts for the finding's responsible unit
 * (their org unit is it or above it): else SC_ERR_FORBIDDEN.  note may be
 * NULL.
 */
SC_API sc_status sc_sign_for(sc_client *c, const char *finding, const char *note);

/*
 * A rectification plan (整改方案), size first (see "Structs that grow").
 * Strings are borrowed for the call; NULL: not given.
 */
typedef struct sc_plan_params {
    size_t size;              /* sizeof(sc_plan_params) */
    const char *person;       /* the responsible person: a login or user id of the register... */
    const char *person_name;  /* ...or a name and a phone number */
    const char *person_phone;
    const char *measures;     /* required */
    /* A major hazard's plan gives all four (000 L43, L699; 004 L23; 002 L123): */
    const char *funds;         /* amount, "12000" or "12000.50" */
    const char *funds_source;  /* where the money comes from */
    const char *interim;       /* the interim controls or contingency plan while it is open */
    const char *lead_official; /* 牵头领导 */
} sc_plan_params;

/*
 * File the responsible unit's plan, answering the notice; a later plan
 * replaces it (a revision, or the answer to a plan sent back).  Responsible
 * users (for their unit, as sc_sign_for) and supervisors (for a unit that
 * reports on paper).  A major hazard's plan missing any of the four is
 * SC_ERR_INVALID_TRANSITION naming each ("a major hazard's plan needs the
 * funds amount and the lead official (牵头领导)").  out_op (may be NULL):
 * SC_HASH_HEX_LEN bytes, the plan's op id.
 */
SC_API sc_status sc_plan(sc_client *c, const char *finding, const sc_plan_params *p,
                         char out_op[SC_HASH_HEX_LEN]);

/*
 * A supervisor sends a plan back (退回) with a reason (required).  plan:
 * the plan's op id (64 hex), NULL for the plan in effect; only the plan in
 * effect can be sent back.
 */
SC_API sc_status sc_plan_return(sc_client *c, const char *finding, const char *plan,
                                const char *reason);

/*
 * The responsible unit asks for a later deadline (延期): deadline
 * "YYYY-MM-DD" after the one in force, and a reason (both required); one
 * request pending at a time.  The deadline moves only when a supervisor
 * approves.  out_op (may be NULL): SC_HASH_HEX_LEN bytes, the request's op id.
 */
SC_API sc_status sc_extension_request(sc_client *c, const char *finding, const char *deadline,
                                      const char *reason, char out_op[SC_HASH_HEX_LEN]);

/*
 * A supervisor approves (approve nonzero) or rejects an extension request:
 * request is its op id, NULL for the one pending.  A rejection states its
 * reason; an approval may (reason may be NULL).  Whoever asked never
 * decides, on any device.  A rejection beats an approval made concurrently
 * with it (an extension conflict until a later decision settles it).
 */
SC_API sc_status sc_extension_decide(sc_client *c, const char *finding, const char *request,
                                     int approve, const char *reason);

/*
 * After the notice, the one other way a deadline moves: a supervisor's
 * change to "YYYY-MM-DD", stating its reason (both required).  Before the
 * notice the deadline is a field of the finding (sc_finding_set).
 */
SC_API sc_status sc_deadline_change(sc_client *c, const char *finding, const char *deadline,
                                    const char *reason);

/* sc_revisit_v2's flags. */
#define SC_REVISIT_LOOK_BACK 1u  /* a look-back (回头看) */
#define SC_REVISIT_ACCEPTANCE 2u /* an acceptance (验收) of a major hazard, by the level above */

/*
 * sc_revisit with flags (0: as sc_revisit with look_back 0).  An
 * acceptance is made by a user of an org unit above the finding's
 * responsible unit who did not report its rectification; a rectified
 * acceptance verifies the finding anew, and a major hazard closes only on
 * one, by yet another user.  SC_ERR_INVALID_ARG for an unknown flag.
 */
SC_API sc_status sc_revisit_v2(sc_client *c, const char *finding, const char *result,
                               const char *note, unsigned flags, const char *const *photos,
                               size_t n_photos);

/* ---------------------------------------------------------------------
 * Escalation, stop-work and linked look-backs (docs/data-model.md §4.3);
 * self-checks (§4.4): a user of the responsible role opens self-checks
 * (sc_check_open_v2 with kind "self") of its own unit's targets, and its
 * findings are self-reported; a supervisor's assignment may name the
 * self-checks it verifies (sc_assign_params_v2.verifies).
 * Supervisors escalate an overdue or relapsing finding (提醒函, 通报, 约谈,
 * 黄牌, 问责) and order work stopped (停工整改) on one; only a rectified
 * revisit that says so lifts the order, and a finding under one is not
 * closed.  A look-back round is an assignment naming the findings it
 * re-checks (sc_assign_params_v2.rechecks); a look-back revisit names its
 * round.  sc_list_v3 filters findings by these flags; sc_review lists the
 * findings the register's escalation ladder says need escalating.
 * ------------------------------------------------------------------- */

/* sc_revisit_v3's flags beside SC_REVISIT_LOOK_BACK and SC_REVISIT_ACCEPTANCE. */
#define SC_REVISIT_LIFT_STOP_WORK 4u /* lifts the stop-work orders (停工整改) in force */

/* A revisit, size first (see "Structs that grow"); strings borrowed for the call. */
typedef struct sc_revisit_params {
    size_t size;              /* sizeof(sc_revisit_params) */
    const char *result;       /* "rectified" or "not_rectified" (required) */
    const char *note;         /* may be NULL */
    unsigned flags;           /* SC_REVISIT_* */
    const char *look_back_of; /* the look-back round (assignment id) re-checking the finding;
                                 with SC_REVISIT_LOOK_BACK only; may be NULL */
    const char *const *photos; /* evidence photo paths */
    size_t n_photos;
} sc_revisit_params;

/*
 * sc_revisit_v2 with a look-back's round and the stop-work lift.  A lift is
 * rectified, and needs an order in force (SC_ERR_INVALID_TRANSITION); a
 * round must name the finding in its rechecks (SC_ERR_INVALID_ARG).
 */
SC_API sc_status sc_revisit_v3(sc_client *c, const char *finding, const sc_revisit_params *p);

/* An escalation, size first (see "Structs that grow"); strings borrowed for the call. */
typedef struct sc_escalation_params {
    size_t size;        /* sizeof(sc_escalation_params) */
    const char *step;   /* "reminder" 提醒函, "public_notice" 通报, "interview" 约谈,
                           "yellow_card" 黄牌警告, "accountability" 问责 (required) */
    const char *level;  /* who issues it: "city", "county", "street", ... (required) */
    const char *reason; /* required */
    const char *const *photos; /* evidence photo paths */
    size_t n_photos;
} sc_escalation_params;

/*
 * A supervisor escalates finding: overdue (the deadline in force has
 * passed) or relapsing (reopened, or a look-back found it not rectified),
 * not closed; else SC_ERR_INVALID_TRANSITION with why.  A missing reason is
 * SC_ERR_INVALID_ARG; another role SC_ERR_FORBIDDEN.  out_op (may be NULL):
 * SC_HASH_HEX_LEN bytes, the escalation's op id.
 */
SC_API sc_status sc_escalate(sc_client *c, const char *finding, const sc_escalation_params *p,
                             char out_op[SC_HASH_HEX_LEN]);

/*
 * A supervisor orders work stopped (停工整改) on finding, with a reason
 * (required), until a rectified revisit lifts it (SC_REVISIT_LIFT_STOP_WORK).
 * out_op as for sc_escalate.
 */
SC_API sc_status sc_stop_work(sc_client *c, const char *finding, const char *reason,
                              char out_op[SC_HASH_HEX_LEN]);

/*
 * The inspected unit's sign-off (共同签字确认), size first (see "Structs
 * that grow"); strings borrowed for the call.
 */
typedef struct sc_sign_off_params {
    size_t size;           /* sizeof(sc_sign_off_params) */
    const char *name;      /* the representative's name (required) */
    const char *role;      /* their post: 站长, 物业经理, 安全员 (required) */
    const char *signature; /* the drawn signature: an image file (required) */
    int has_gps;           /* where it was signed, given by the caller: */
    int32_t lat_e7;        /* latitude in degrees x 1e7, -900000000..900000000 */
    int32_t lon_e7;        /* longitude in degrees x 1e7, -1800000000..1800000000 */
} sc_sign_off_params;

/*
 * At the end of an inspection the inspected unit's representative signs on
 * this tablet: the drawn signature is attached to the inspection as a photo
 * (uploaded with the next sync, resumably, like any photo), then a signed
 * op records their name, post, the signature's hash and the time (now),
 * and where (has_gps).  Only a submitted inspection is signed off
 * (SC_ERR_INVALID_TRANSITION otherwise, and nothing is recorded); several
 * sign-offs (the parties of a joint check) are all kept, at most
 * SC_SIGN_OFFS_MAX.  Inspectors and supervisors; a missing field is
 * SC_ERR_INVALID_ARG.  out_op (may be NULL): SC_HASH_HEX_LEN bytes, the
 * sign-off's op id.
 */
SC_API sc_status sc_check_sign_off(sc_client *c, const char *check, const sc_sign_off_params *p,
                                   char out_op[SC_HASH_HEX_LEN]);

/* A countersign, size first (see "Structs that grow"); strings borrowed for the call. */
typedef struct sc_countersign_params {
    size_t size;      /* sizeof(sc_countersign_params) */
    const char *note; /* may be NULL */
    int has_gps;      /* where it was signed, as for sc_sign_off_params */
    int32_t lat_e7;
    int32_t lon_e7;
} sc_countersign_params;

/*
 * The inspected unit's representative countersigns a submitted inspection
 * with this device, enrolled as their own (a responsible user's): the op
 * names the inspection and this device's user, and the register checks
 * both.  Once per user; p may be NULL (no note, no place).  An inspection
 * this replica does not hold (a draft, an unannounced check not yet
 * released to the unit) is SC_ERR_NOT_FOUND; a draft it holds, or a second
 * countersign, SC_ERR_INVALID_TRANSITION.  out_op as for sc_check_sign_off.
 */
SC_API sc_status sc_check_countersign(sc_client *c, const char *check,
                                      const sc_countersign_params *p,
                                      char out_op[SC_HASH_HEX_LEN]);

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
 * what: "checks", "findings", "assignments", "targets", "templates",
 * "orgs" (the last three: targets {id,code,name,org,target_type,address,
 * voided}, templates {id,code,name,version,pass_mark,max_total,items,
 * veto_items}, org units {id,code,name,parent (its code; null for a root),
 * level,voided}, with no filter but SC_LIST_WITH_VOIDED).  *json = {"items":[...]}, each
 * item: checks {id,status,target,target_name,kind,disclosure,template,
 * assignment,score,max,passed,complete,vetoed,veto_item,findings,photos,
 * conflicts,voided,void_reason}; findings {id,status,overdue,reopen_count,
 * evidence_pending,deadline,grade,category,description,target,check,
 * responsible,conflicts,voided,void_reason}; assignments {id,target,kind,
 * disclosure,due,template,inspectors,note,overdue,voided,void_reason}.
 * Voided entities are left out.  f may be NULL.  `conflicts` counts open
 * conflicts (none on a voided entity: a void closes them).
 */
SC_API sc_status sc_list(sc_client *c, const char *what, const sc_filter *f, char **json);

/* sc_list_v2's flags. */
#define SC_LIST_WITH_VOIDED 1u /* voided entities too, marked "voided":true with their void_reason */

/*
 * sc_list with flags (0: as sc_list).  A voided entity still matches the
 * filter by what it was (its status, target, assignment); it is never
 * overdue.  SC_ERR_INVALID_ARG for an unknown flag.
 */
SC_API sc_status sc_list_v2(sc_client *c, const char *what, const sc_filter *f, unsigned flags,
                            char **json);

/* sc_filter with a size (see "Structs that grow") and sc_list_v2's flags, for sc_list_v3. */
typedef struct sc_filter_v2 {
    size_t size;            /* sizeof(sc_filter_v2) */
    const char *status;     /* status name, NULL: any */
    int overdue;            /* only overdue findings / assignments past due */
    const char *target;     /* target code or id, NULL: any */
    const char *assignment; /* assignment id, NULL: any */
    unsigned flags;         /* SC_LIST_WITH_VOIDED, or 0 */
    /* Findings only (0: any): */
    int stop_work;          /* only findings under a stop-work order */
    int self_reported;      /* only findings the responsible unit raised itself (自查) */
    int needs_escalation;   /* only findings the escalation ladder says need escalating */
    /* A page of what matches (limit 0: everything): */
    size_t offset;          /* items of the list to skip, in its order */
    size_t limit;           /* at most this many items; then the answer has "total" and "offset" */
} sc_filter_v2;

/*
 * sc_list_v2 with a filter that can grow; f may be NULL (everything, no
 * flags).  With a limit the answer is {"items":[the page],"total":n (items
 * that match),"offset"}: a list of thousands costs a page's items (a
 * finding's is only built when it falls in the page, unless stop_work,
 * self_reported or needs_escalation ask the item itself).
 */
SC_API sc_status sc_list_v3(sc_client *c, const char *what, const sc_filter_v2 *f, char **json);

/*
 * The names a text argument of this API takes, one at a time: the i-th
 * name (from 0) of field, NULL past the last or for a field it does not
 * know.  The same tables the calls check against, so a tablet app's menus
 * and a command's help never drift from what is accepted.  Fields:
 * "list" (sc_list's what), "kind", "disclosure", "relation",
 * "item_status", "grade", "source", "revisit_result", "finding_status",
 * "inspection_status", "assignment_status", "field" (sc_resolve's),
 * "role", "target_type", "escalation_step" and "org_level" (sc_escalate's
 * step and level), "ledger" (sc_ledger_query's ledger) and "lang".  The
 * strings are static; no handle is needed.
 */
SC_API const char *sc_value_name(const char *field, size_t i);

/*
 * A score sheet's campaign rule (its "aggregate": at least min_percent of
 * the targets of some types pass, 002 L30) over an org unit and what lies
 * below it.  template_: the sheet's code (latest version) or id; org: an
 * org unit's code or id.  *json = {"template","code","version","org",
 * "rule":{"min_percent","target_types","text"},"targets":[{"id","code",
 * "name","target_type","check","version","score","passed"}],"counted",
 * "passed","met"}: each target of those types in the org unit's subtree,
 * with its latest submitted check on the sheet (any version of its code;
 * null when it has none, which does not pass).  SC_ERR_INVALID_ARG when the
 * sheet has no rule; SC_ERR_NOT_FOUND for an unknown sheet or org unit.
 */
SC_API sc_status sc_sheet_campaign(sc_client *c, const char *template_, const char *org,
                                   char **json);

/*
 * One entity: {"id","type","status",...its fields...,"voided","void_reason",
 * "photos":[{sha256,size,mime,captured_ms,caption,op,present,voided}] (a photo
 * voided on its own is out of the state; its history entry says so),
 * "notes":[{op,author,author_login,
 * author_device,author_role,text,hlc}],
 * "history":[{op,kind,author,author_login,author_device,author_role,hlc,
 * time_ms,device_time_ms,log_index|null,local,state,valid,validity,why,
 * reason,message (rejected ops)}],
 * "conflicts":[{"field","item","values":[...],"ops":[...]}],
 * "conflicts_closed_by_void":[...],
 * "people":{device key hex:{"server","login","name","device","role",
 * "user","device_id"}}}.
 * validity says why an op does not count: "valid"; "rejected" (syncd
 * refused it: reason, message); "invalid" (not valid in its causal past:
 * why is the fold's reason); "voided" (a void record took it back: why is
 * that void's reason).  Device keys (author, created_by, closed_by, ...)
 * stay hex; people names those the replica's server-signed facts know
 * (DeviceEnroll and the user's state): login, name, device label, and
 * the user's role in effect as the replica knows it now (null when it
 * holds no state of the user).
 * Conflict values are as the field shows them (an org unit by its code).
 * A voided entity has no open conflicts: those it had are listed in
 * conflicts_closed_by_void (docs/data-model.md §3).
 * SC_ERR_NOT_FOUND for an unknown id.
 */
SC_API sc_status sc_show(sc_client *c, const char *id, char **json);

/*
 * The supervisor's review queue: {"awaiting_closure":[findings verified],
 * "awaiting_revisit":[findings submitted],"overdue":[findings overdue],
 * "conflicts":[entities with open conflicts]} (finding items as in
 * sc_list; voided entities are in none of them).
 */
SC_API sc_status sc_review(sc_client *c, char **json);

/*
 * Every entity with open conflicts (not voided): {"items":[{"id","type",
 * "conflicts":[...]}]}, in ascending id.  Read from the replica's index of
 * them: asking costs the entities in conflict, not the replica's size.
 */
SC_API sc_status sc_conflicts(sc_client *c, char **json);

/*
 * What became of this device's own ops, from the outbox and the results
 * syncd answered: what got into the log and what still waits, also after a
 * sync that failed half way (each round it applied stays applied).
 *   {"queued":[{op,entity,type,kind,time_ms}] (the outbox, in the order it
 *     goes),
 *    "proven":[{op,entity,type,kind,time_ms,log_index}] (in syncd's log,
 *     proven by the receipt kept with them; newest first, at most
 *     proven_max, 0: all),
 *    "proven_total":n,
 *    "rejected":[{op,entity,type,kind,time_ms,reason,message}],
 *    "photos_waiting":[{sha256,size}] (photos still to upload)}
 * A replica that predates receipts lists the ops it had logged then as
 * proven too (sc_verify_replica says which have no receipt).
 */
SC_API sc_status sc_outbox(sc_client *c, size_t proven_max, char **json);

/* ---------------------------------------------------------------------
 * Reports: ledgers (台账)
 * ------------------------------------------------------------------- */

/* What a ledger cell holds (sc_ledger_cell.type). */
typedef enum sc_cell_type {
    SC_CELL_EMPTY = 0, /* nothing: text is "" */
    SC_CELL_TEXT = 1,
    SC_CELL_INT = 2,   /* number is the value */
    SC_CELL_DATE = 3   /* number is the day, days since 1970-01-01 (UTC); text YYYY-MM-DD */
} sc_cell_type;

/* One cell of a ledger row. */
typedef struct sc_ledger_cell {
    int type;         /* sc_cell_type */
    const char *text; /* the cell as the CSV shows it, UTF-8, never NULL; borrowed (see below) */
    long long number; /* SC_CELL_INT and SC_CELL_DATE */
} sc_ledger_cell;

/*
 * One row handed to an sc_ledger_fn: the column headers first (header set),
 * then one row per finding or inspection, in entity id order (creation
 * order).  csv is the row as one CSV line (RFC 4180, CRLF-ended, UTF-8; the
 * header's line begins with the UTF-8 byte order mark, so Excel reads the
 * file as UTF-8).  Everything is borrowed for the duration of the call.
 */
typedef struct sc_ledger_row {
    int header;                  /* the column headers */
    const sc_ledger_cell *cells; /* n cells */
    size_t n;
    const char *csv; /* csv_len bytes, not NUL-terminated */
    size_t csv_len;
} sc_ledger_row;

/* Called once per row; nonzero stops the ledger, which then fails with SC_ERR_IO. */
typedef int (*sc_ledger_fn)(void *ctx, const sc_ledger_row *row);

/*
 * Which ledger, in which language, with which rows (size first; see
 * "Structs that grow").  Every filter is optional (NULL: any); the names
 * they take are sc_value_name's ("grade", "finding_status",
 * "inspection_status", "kind", "source", "ledger", "lang").
 */
typedef struct sc_ledger_query {
    size_t size;        /* sizeof(sc_ledger_query) */
    const char *ledger; /* "findings" (default) or "checks" */
    const char *lang;   /* column headers and names: "zh" (default, 中文) or "en" */
    const char *org;    /* an org unit's code or id: only targets in its subtree */
    const char *target; /* a target's code or id */
    const char *period; /* found (findings) or opened (checks) in: YYYY-MM-DD, YYYY-Www (ISO
                           week), YYYY-MM, YYYY-Qn, YYYY, or FROM..TO (two days, inclusive) */
    const char *grade;  /* findings: general, major */
    const char *status; /* a finding_status or inspection_status */
    const char *kind;   /* the inspection kind (a finding: of the check it was found in) */
    const char *source; /* findings: inspection, complaint, hotline, ... */
    const char *as_of;  /* YYYY-MM-DD: the day days overdue are counted to (NULL: today) */
} sc_ledger_query;

/* What a ledger counted (sc_report_ledger's totals; size first). */
typedef struct sc_ledger_totals {
    size_t size;            /* sizeof(sc_ledger_totals) */
    unsigned long long rows;    /* rows written, the header not counted */
    unsigned long long major;   /* findings: of grade major */
    unsigned long long open;    /* findings: not closed; checks: drafts */
    unsigned long long closed;  /* findings: closed (销号); checks: submitted */
    unsigned long long overdue; /* findings: with days overdue as of the day */
    unsigned long long photos;  /* photos of the rows */
} sc_ledger_totals;

/*
 * The ledger of what this replica holds, which is what its user may see
 * (docs/reports.md lists the columns): each row goes to fn(ctx, row), the
 * headers first, voided entities left out.  One snapshot of the replica for
 * the whole ledger; rows are built one at a time (constant memory).
 * totals (may be NULL; size set) gets the counts.  SC_ERR_INVALID_ARG for
 * a filter that is not valid, the message listing the valid values;
 * SC_ERR_NOT_FOUND for an unknown org unit or target; SC_ERR_IO when fn
 * stopped it.
 */
SC_API sc_status sc_report_ledger(sc_client *c, const sc_ledger_query *q, sc_ledger_fn fn,
                                  void *ctx, sc_ledger_totals *totals);

/* ---------------------------------------------------------------------
 * Reports: statistics
 * ------------------------------------------------------------------- */

/*
 * Which statistics (size first; see "Structs that grow"); every field is
 * optional.  docs/reports.md defines each figure (整改率 among them).
 */
typedef struct sc_stats_query {
    size_t size;        /* sizeof(sc_stats_query) */
    const char *by;     /* groups: "org" (default: org units, rolled up the tree, ranked among
                           siblings), "target", or a period: "day", "week", "month", "quarter" */
    const char *format; /* "table" (default: aligned for a terminal), "json" or "csv" */
    const char *lang;   /* headers: "zh" (default) or "en" */
    const char *period; /* count only what was found (opened) in this period (as
                           sc_ledger_query's period); NULL: everything */
    const char *as_of;  /* YYYY-MM-DD: the day overdue is counted to (NULL: today) */
} sc_stats_query;

/*
 * The statistics of what this replica holds (what its user may see), as
 * text in *text (NUL-terminated; free with sc_json_free).  One snapshot
 * of the replica; memory grows with org units, targets and periods, not
 * with findings.  SC_ERR_INVALID_ARG for a value that is not valid, the
 * message listing the valid ones.
 */
SC_API sc_status sc_report_stats(sc_client *c, const sc_stats_query *q, char **text);

/* ---------------------------------------------------------------------
 * Reports: the period report
 * ------------------------------------------------------------------- */

/* Which period report (size first; see "Structs that grow"). */
typedef struct sc_period_query {
    size_t size;        /* sizeof(sc_period_query) */
    const char *org;    /* the org unit: its code or id (required) */
    const char *period; /* the period (required), as sc_ledger_query's: a month "2026-11", a week
                           "2026-W45", a quarter, a year, a day or DAY..DAY */
    const char *lang;   /* "zh" (default) or "en": every label */
    const char *as_of;  /* YYYY-MM-DD: the day overdue is counted to (NULL: today) */
} sc_period_query;

/*
 * The period report of an org unit from what this replica holds (what its
 * user may see) as one self-contained HTML page in *html (NUL-terminated;
 * free with sc_json_free): the statistics of the unit and its child units
 * (as sc_report_stats counts them, for what was found or opened in the
 * period), a chart of 整改率 per child unit and one of findings found and
 * closed per day (week, month or year, by the period's length), the open
 * major hazards with their rectification plans, the findings overdue on
 * as_of, and the escalations recorded in the period.  It prints to A4
 * (docs/reports.md).  SC_ERR_INVALID_ARG for a value that is not valid,
 * SC_ERR_NOT_FOUND for an org unit the replica does not hold.
 */
SC_API sc_status sc_report_period(sc_client *c, const sc_period_query *q, char **html);

/* ---------------------------------------------------------------------
 * Sync
 * ------------------------------------------------------------------- */

/*
 * Progress: phase is "push" (ops sent, of the outbox), "pull" (ops
 * received; total 0: unknown), "upload" (bytes of the photo going up, of
 * its size), "download" (photos fetched, of all this sync fetches) or
 * "download_bytes" (their bytes, of the sizes their ops name; a photo that
 * brings more raises the total).  The two download phases come in pairs,
 * from 0 of the totals on.  Called from inside sc_sync on the calling
 * thread; it must not call back into the handle.
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
 * SC_ERR_TLS (the server's certificate or key does not verify: the message
 * says which), SC_ERR_CANCELLED (sc_client_interrupt), SC_ERR_STORAGE.
 */
SC_API sc_status sc_sync(sc_client *c, sc_progress_fn progress, void *ctx, char **json);

/*
 * sc_sync with a progress callback that may cancel: the same sync, the same
 * events as sc_sync's, and while a request is on the wire the callback is
 * also called at least once a second (with the phase and counts of the last
 * event; during "upload" done also counts the bytes of the chunk sent so
 * far, during "download_bytes" the bytes of the photo received so far).  A nonzero return stops the sync as sc_client_interrupt does: it
 * returns SC_ERR_CANCELLED, and the replica is left exactly as by a failed
 * sync (the round on the wire applies nothing; rounds applied before stay;
 * a photo upload resumes from the server's offset next time).  progress may
 * be NULL.  Errors as for sc_sync, plus SC_ERR_CANCELLED.
 */
typedef int (*sc_progress_v2_fn)(void *ctx, const char *phase, uint64_t done, uint64_t total);
SC_API sc_status sc_sync_v2(sc_client *c, sc_progress_v2_fn progress, void *ctx, char **json);

/* ---------------------------------------------------------------------
 * The network: cancelling, the server's URL, TLS trust and proxy, and the
 * transport.
 *
 * Every request of the library goes through one transport: a small struct
 * of callbacks that sends one HTTP request and hands back the answer.  The
 * default is libcurl; an app can give its own (the platform's HTTP stack,
 * or a test's in-process server).  Above the transport the library does
 * everything else: it signs requests, retries with backoff, caps answers,
 * and verifies them.  docs/client.md §6 says how a transport is written.
 * ------------------------------------------------------------------- */

/*
 * Stop the network call running on the handle (sc_sync, sc_sync_v2,
 * sc_enroll, sc_server_set_url) as soon as it can: a request on the wire is
 * aborted (libcurl notices within a second; a custom transport is told
 * through its interrupt hook), no other request starts, and the call
 * returns SC_ERR_CANCELLED, leaving the replica exactly as a failed call
 * does.  The one function that is safe from any thread while another uses
 * the handle (and from a signal handler: it stores one lock-free atomic
 * flag and calls the transport's interrupt hook, which for the default
 * transport is none).  An interrupt while no network call runs is
 * forgotten when the next one starts.  NULL is a no-op.
 */
SC_API void sc_client_interrupt(sc_client *c);

/* The version of sc_net_options this header describes. */
#define SC_NET_OPTIONS_VERSION 1

/*
 * How the default transport reaches the server.  ca_file and pin are part
 * of the server's identity: sc_enroll and sc_server_set_url remember them
 * in the replica with the server's URL, and later handles use them with no
 * options given.  Options set on a handle override the remembered ones for
 * that handle, field by field: NULL keeps the remembered value, "" clears
 * it (and, given to sc_enroll or sc_server_set_url, forgets it).  The proxy
 * is a property of the network the device is on, not of the server: it is
 * never remembered.
 */
typedef struct sc_net_options {
    int version; /* SC_NET_OPTIONS_VERSION */
    /* PEM file of the CA certificates to trust for https, instead of the
     * system's.  Read (at most 1 MiB) when set; its bytes are what is
     * remembered, so the file may move afterwards.  With none set here or
     * remembered, the default transport takes $CURL_CA_BUNDLE, else
     * $SSL_CERT_FILE, else the system's store. */
    const char *ca_file;
    /* A directory of CA certificates named by hash (openssl rehash), instead
     * of the system's.  Remembered as a path. */
    const char *ca_dir;
    /* The server's public key pinned, as "sha256//" and the base64 of the
     * SHA-256 of its SubjectPublicKeyInfo; several are separated by ';'
     * (the current key and the next).  An answer from any other key fails
     * with SC_ERR_TLS ("public key does not match the pin"), whatever the
     * CA says. */
    const char *pin;
    /* "http://host:port", "socks5h://host:port", ...; "" for none even when
     * the environment names one; NULL: the environment's (https_proxy,
     * http_proxy, no_proxy), as libcurl reads them. */
    const char *proxy;
} sc_net_options;

/*
 * Set the handle's network options (copied; the CA file is read now).
 * opt NULL clears every option set before.  Errors: SC_ERR_INVALID_ARG (an
 * unknown version, a pin not in the sha256// form, a proxy or path too
 * long, a CA file that holds no PEM certificate), SC_ERR_IO (the CA file
 * cannot be read), SC_ERR_TOO_LARGE (a CA file over 1 MiB), SC_ERR_NOMEM.
 */
SC_API sc_status sc_client_set_net(sc_client *c, const sc_net_options *opt);

/*
 * Point an enrolled replica at a new URL for its server (http to https, a
 * new host), keeping everything else: its key, its ops, its outbox, its
 * checkpoints.  Before anything is saved the new URL must prove it serves
 * the same register: a signed GET /v1/log/checkpoint through the handle's
 * network options must answer a checkpoint signed by the replica's server
 * key for its origin, no smaller than the last verified one, with a
 * consistency proof from it (GET /v1/log/proof/consistency).  Then the URL
 * and the trust in force (ca_file, ca_dir, pin as for sc_enroll) are saved
 * in one transaction.
 * *json (may be NULL) = {"server":url,"previous":url,"checkpoint":{"size":n,"root":hex64}}.
 * Errors: SC_ERR_NOT_ENROLLED, SC_ERR_INVALID_ARG (not an http(s) URL),
 * SC_ERR_NETWORK, SC_ERR_TLS, SC_ERR_SERVER / SC_ERR_FORBIDDEN (refused:
 * a server that does not know this device), SC_ERR_PROTOCOL,
 * SC_ERR_CHECKPOINT (signed by another key or for another origin: another
 * register), SC_ERR_HISTORY_REWRITTEN (a log that does not extend the
 * verified one), SC_ERR_CANCELLED, SC_ERR_STORAGE.  On any error nothing
 * changes.
 */
SC_API sc_status sc_server_set_url(sc_client *c, const char *url, char **json);

/* The version of sc_transport (and sc_http_request) this header describes. */
#define SC_TRANSPORT_VERSION 1
/* Bytes of sc_http_result.message. */
#define SC_HTTP_MESSAGE_MAX 256

/*
 * One request as the library hands it to a transport.  Everything is
 * borrowed for the call.  The answer goes back through the callbacks, as
 * it arrives: each returns 0 to go on, nonzero to stop the exchange (the
 * transport then returns SC_ERR_CANCELLED; the library knows which of its
 * callbacks stopped it and says why).
 */
typedef struct sc_http_request {
    const char *method;         /* "GET", "HEAD", "POST" or "PUT" */
    const char *url;            /* the whole URL: the server's URL and the target */
    const char *target;         /* the path and query as in the URL (signed as is) */
    const char *const *headers; /* n_headers lines "Name: value", without CRLF */
    size_t n_headers;
    const uint8_t *body; /* body_len bytes; NULL when body_len is 0 */
    size_t body_len;
    uint32_t timeout_ms; /* the whole exchange, connecting included */
    /* TLS trust for https (a transport that cannot apply one must fail the
     * request rather than ignore it): */
    const uint8_t *ca_pem; /* CA certificates (PEM), ca_pem_len bytes, to trust instead
                              of the system's; NULL: none given */
    size_t ca_pem_len;
    const char *ca_dir; /* directory of hashed CA certificates; NULL: none */
    const char *pin;    /* "sha256//..." public key pins; NULL: none */
    const char *proxy;  /* as sc_net_options.proxy */
    /* Each header line of the answer ("Name: value", CR and LF optional).
     * A status line ("HTTP/1.1 100 Continue") starts a new answer: headers
     * before it are forgotten. */
    int (*on_header)(void *sink, const char *line, size_t len);
    /* The answer's body, in pieces (none for HEAD). */
    int (*on_body)(void *sink, const void *data, size_t len);
    /* While the exchange runs, at least once a second: bytes of the body
     * sent and to send, bytes received and expected (0 when unknown).
     * Nonzero aborts the exchange (SC_ERR_CANCELLED). */
    int (*on_progress)(void *sink, uint64_t sent, uint64_t send_total, uint64_t received,
                       uint64_t receive_total);
    void *sink; /* passed to the three callbacks */
} sc_http_request;

/* What a transport says about one exchange besides the answer itself. */
typedef struct sc_http_result {
    long status; /* the answer's HTTP status; 0 when none came */
    /* Times the request went out: 1, or 2 when the transport sent it again by
     * itself on a new connection after the one it reused died (the library
     * then treats a photo chunk as cut). */
    unsigned sends;
    char message[SC_HTTP_MESSAGE_MAX]; /* on failure: what failed, for people */
} sc_http_result;

/*
 * A transport.  send() sends one request and returns:
 *   SC_OK            an HTTP answer came (res->status; any status)
 *   SC_ERR_NETWORK   no answer: could not connect or resolve, timed out,
 *                    the connection was cut (the library may retry)
 *   SC_ERR_TLS       the TLS handshake failed: a certificate not trusted,
 *                    a pin that does not match, a bad CA file (not retried)
 *   SC_ERR_PROTOCOL  something came back that is not HTTP
 *   SC_ERR_CANCELLED a callback or interrupt stopped it
 *   SC_ERR_NOMEM
 * with res->message saying what failed.  send is called by one thread at a
 * time per handle, for one request at a time.  (The library's own
 * transport also lets sc_sync send a round's request before it has checked
 * the last answer, docs/client.md §11; an app's runs the rounds one by
 * one.)  interrupt (may be NULL) is called by sc_client_interrupt
 * from any thread: a send in progress should return SC_ERR_CANCELLED soon
 * after.  close (may be NULL) is called once, by sc_client_close or when
 * another transport replaces this one.
 */
typedef struct sc_transport {
    int version; /* SC_TRANSPORT_VERSION */
    void *ctx;   /* passed to every callback; owned by the app */
    sc_status (*send)(void *ctx, const sc_http_request *req, sc_http_result *res);
    void (*interrupt)(void *ctx);
    void (*close)(void *ctx);
} sc_transport;

/*
 * Make every later request of the handle go through t (copied; t->ctx
 * stays the app's).  NULL goes back to the default transport (libcurl).
 * The transport in use before is closed.  Not while a call runs on the
 * handle, and not concurrently with sc_client_interrupt.
 * SC_ERR_INVALID_ARG for an unknown version or a NULL send.
 */
SC_API sc_status sc_client_set_transport(sc_client *c, const sc_transport *t);

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
SC_API sc_status sc_verify_replica(sc_client *c, char **json);

/*
 * Prove one op is in syncd's log, for an auditor pointing at one record:
 * fetch from the server the RFC 9162 inclusion proof of the op's log entry
 * in the tree of the last checkpoint this replica verified (a signed GET
 * /v1/log/proof/inclusion), and check it against that checkpoint's root
 * with the op's exact signed bytes as the leaf.  op: its id (64 hex), as
 * sc_show's history lists it.  A network call: it may be interrupted.
 * *json (may be NULL) = {"op","entity","kind","log_index",
 *   "checkpoint":{"size","root","time_ms"},"proof_hashes":n,"verified":true}.
 * Errors: SC_ERR_INVALID_ARG, SC_ERR_NOT_FOUND (no such op here),
 * SC_ERR_UNPROVEN (not in the log yet, or past the last verified
 * checkpoint: sync first; the message says which), SC_ERR_PROOF (the
 * server's proof does not verify: the log does not hold these bytes at
 * that index), SC_ERR_NOT_ENROLLED, SC_ERR_BAD_PASSPHRASE, and the network
 * errors of sc_sync.  Nothing in the replica changes.
 */
SC_API sc_status sc_op_prove(sc_client *c, const char *op, char **json);

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
SC_API sc_status sc_verify_bundle(sc_client *c, const char *path, char **json);

#ifdef __cplusplus
}
#endif

#endif /* SPOTCHECK_H */
