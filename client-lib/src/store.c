/*
 * store.c: the local replica file.  Every SQL statement of the library is
 * here; the other modules speak in ops, states and ids.
 *
 * Schema (version 2; store_schema.c makes it and migrates older replicas):
 *   meta(key, value)            identity, HLC, cursor: small named values
 *   ops(id, entity, etype, kind, hlc, author, signed, log_index, origin,
 *       state, reason, message) every op known, with its exact signed bytes;
 *       rowid order is insertion order, which is causal order for local ops
 *       (an op is stored after the heads it depends on), so the outbox is
 *       simply the pending local ops by rowid
 *   entities(id, etype, code, version, state, hash)
 *                               the fold of each entity's non-rejected ops
 *   blobs(sha, size, mime, state) the photo store's index
 *   checkpoints(seq, size, root, note, proof) every verified checkpoint
 *   devices(key, entity, enroll_index, revoke_index) device keys enrolled
 *                               by server-signed ops, for verifying authors
 *   user_access(user, log_index, disabled) each UserDisable/UserEnable
 *                               pulled, for verifying authors
 *   receipts(seq, size, leaves, proof) the batched inclusion proofs that let
 *                               our ops leave the outbox: leaves is op id (32)
 *                               and big-endian log index (8) per leaf, proof
 *                               the hashes; meta receipts_from is the first
 *                               op seq that needs one
 *   conflicted(id)              entities in conflict (not voided)
 *   migrations(version, from_version, library, time_ms)
 *                               which library made each schema version, when
 *
 * Durability: WAL with synchronous=FULL, so a committed transaction
 * survives a power cut; every change the library makes is one transaction
 * (st_begin/st_commit), so a crash leaves the file as before or after.
 * A sync is the exception that keeps the rule: its rounds commit under
 * synchronous=NORMAL (st_defer_durability), each still all or nothing and
 * in order, and the sync ends with one commit under FULL (st_settle) whose
 * fsync of the log makes all of them durable.  A power cut in between can
 * only lose whole rounds from the end, which the next sync fetches again
 * (pulled ops, by the cursor stored with them) or has proven again (our
 * pushed ops, which stay in the outbox until a stored receipt lets them go).
 *
 * Privacy: the replica holds the device key and what its user may see, so
 * the file is the user's alone (0600, whatever the umask; SQLite gives its
 * -wal and -shm files the database file's mode), and a replica found
 * readable by others is made private when opened.
 *
 * Opening (sc_open_mode): only an enrollment makes a replica.  Any other
 * open of a path that names nothing fails, and an existing file is proven
 * to be a replica (its meta table names a schema) before anything may be
 * written to it, so a wrong path never becomes a new empty replica and
 * another program's database is never touched.  Opening a replica of this
 * version writes nothing, so handles and processes open it at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/names.h"
#include "internal.h"

static sqlite3 *db_of(sc_client *c)
{
    return c->db;
}

static sc_status sql_fail(sc_client *c, const char *what)
{
    sqlite3 *db = db_of(c);
    int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
    sc_status s = code == SQLITE_NOMEM ? SC_ERR_NOMEM : SC_ERR_STORAGE;
    if (code == SQLITE_READONLY && c->read_only)
        s = SC_ERR_READ_ONLY;
    return cl_fail(c, s, 0, "replica %s: %s: %s", c->path ? c->path : "?", what,
                   db ? sqlite3_errmsg(db) : "not open");
}

/*
 * Prepared statements are kept for the handle's life: compiling SQL took a
 * fifth of a pull's time (perf: sqlite3RunParser under every st_op_put).
 * Every SQL text in this file is a string literal, so its address names
 * it.  A statement is handed out by prep() and handed back, reset and
 * unbound, by done(); one asked for while it is already out (a callback
 * that runs the same query) is prepared afresh and finalized by done().
 * When the cache cannot be allocated, every statement is simply prepared
 * and finalized as before.
 */
#define STMT_CACHE_MAX 64

typedef struct stmt_cache {
    const char *sql[STMT_CACHE_MAX]; /* the literal's address */
    sqlite3_stmt *st[STMT_CACHE_MAX];
    bool busy[STMT_CACHE_MAX];       /* handed out and not yet done() */
    size_t n;
} stmt_cache;

static sc_status prep(sc_client *c, const char *sql, sqlite3_stmt **st)
{
    *st = NULL;
    stmt_cache *k = c->stmts;
    if (!k && (k = sc_calloc(&c->env, 1, sizeof *k)) != NULL)
        c->stmts = k;
    size_t i = 0;
    while (k && i < k->n && k->sql[i] != sql)
        i++;
    if (k && i < k->n && !k->busy[i]) {
        k->busy[i] = true;
        *st = k->st[i];
        return SC_OK;
    }
    bool keep = k && i == k->n && k->n < STMT_CACHE_MAX;
    if (sqlite3_prepare_v3(db_of(c), sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, st, NULL) !=
        SQLITE_OK)
        return sql_fail(c, "prepare");
    if (keep) {
        k->sql[k->n] = sql;
        k->st[k->n] = *st;
        k->busy[k->n] = true;
        k->n++;
    }
    return SC_OK;
}

/* Hand back a statement from prep(): reset and unbound when cached, else finalized. */
static void done(sc_client *c, sqlite3_stmt *st)
{
    stmt_cache *k = c->stmts;
    for (size_t i = 0; k && i < k->n; i++)
        if (k->st[i] == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            k->busy[i] = false;
            return;
        }
    sqlite3_finalize(st);
}

static void stmts_free(sc_client *c)
{
    stmt_cache *k = c->stmts;
    for (size_t i = 0; k && i < k->n; i++)
        sqlite3_finalize(k->st[i]);
    sc_free(&c->env, k);
    c->stmts = NULL;
}

/* Step a statement that returns no rows, then hand it back. */
static sc_status exec_done(sc_client *c, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sc_status s = rc == SQLITE_DONE || rc == SQLITE_ROW ? SC_OK : sql_fail(c, what);
    done(c, st);
    return s;
}

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
    sqlite3_bind_blob64(st, i, p, (sqlite3_uint64)len, SQLITE_TRANSIENT);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/*
 * A new replica file at path, private (0600) whatever the umask; *made
 * false when a file is there already (then nothing is changed).
 */
static sc_status file_create(sc_client *c, const char *path, bool *made)
{
    *made = false;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd); /* an empty file is an empty SQLite database */
        *made = true;
        return SC_OK;
    }
    if (errno == EEXIST)
        return SC_OK;
    return cl_fail(c, SC_ERR_STORAGE, 0, "replica %s: cannot create it: %s", path, strerror(errno));
}

/* Take others' access away from an existing replica (0600); not a file: SQLite says what it is. */
static sc_status file_private(sc_client *c, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 &&
        (!S_ISREG(st.st_mode) || (st.st_mode & 077) == 0 || chmod(path, st.st_mode & 0700) == 0))
        return SC_OK;
    return cl_fail(c, SC_ERR_STORAGE, 0, "replica %s: cannot make it private (mode 0600): %s", path,
                   strerror(errno));
}

/*
 * Where the file stands before it is opened: *exists, and *check when it
 * must prove to be a replica before anything is written to it (every
 * existing file but an empty one given to SC_OPEN_ENROLL or SC_OPEN_CREATE).
 */
static sc_status file_state(sc_client *c, const char *path, int mode, bool *exists, bool *check)
{
    struct stat sb;
    *exists = *check = false;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            return cl_fail(c, SC_ERR_STORAGE, 0, "replica %s: %s", path, strerror(errno));
        if (mode == SC_OPEN_EXISTING || mode == SC_OPEN_READONLY)
            return cl_fail(c, SC_ERR_NOT_FOUND, 0, "no replica at %s (only enrollment makes one)",
                           path);
        return SC_OK;
    }
    *exists = true;
    *check = mode == SC_OPEN_EXISTING || mode == SC_OPEN_READONLY || sb.st_size > 0;
    return SC_OK;
}

sc_status st_open(sc_client *c, const char *path, int mode, bool *made)
{
    *made = false;
    bool special = strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0;
    bool exists = false, check = false;
    sc_status s = SC_OK;
    if (!special)
        s = file_state(c, path, mode, &exists, &check);
    bool ro = mode == SC_OPEN_READONLY;
    if (s == SC_OK && !special && !exists && !ro)
        s = file_create(c, path, made);
    if (s == SC_OK && !special && !*made && !check && !ro)
        s = file_private(c, path);
    if (s != SC_OK)
        return s;
    sqlite3 *db = NULL;
    int flags = ro ? SQLITE_OPEN_READONLY
                   : SQLITE_OPEN_READWRITE | (check ? 0 : SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    c->db = db;
    if (rc != SQLITE_OK)
        return sql_fail(c, "open");
    /* A writer waits this long for another's transaction (st_begin is IMMEDIATE). */
    sqlite3_busy_timeout(db, (int)(c->busy_ms ? c->busy_ms : SC_CL_BUSY_MS));
    sqlite3_extended_result_codes(db, 0);
    /* What the file holds is known before anything is written to it (or its mode changed). */
    int version = 0;
    if ((s = st_schema_check(c, path, &version)) != SC_OK)
        return s;
    /* Per connection: a committed transaction survives a power cut. */
    if (sqlite3_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF", NULL, NULL, NULL) !=
        SQLITE_OK)
        return sql_fail(c, "open");
    if ((check || ro) && version == 0)
        return cl_fail(c, SC_ERR_STORAGE, 0, "%s is not a Spotcheck replica (an empty database)",
                       path);
    if (ro && version < SC_CL_SCHEMA_VERSION)
        return cl_fail(c, SC_ERR_READ_ONLY, 0,
                       "replica %s has schema version %d and this library reads %d: a read-only "
                       "handle cannot migrate it; open it once with a handle that may write",
                       path, version, SC_CL_SCHEMA_VERSION);
    if (ro)
        return SC_OK;
    if (check && (s = file_private(c, path)) != SC_OK)
        return s;
    return st_schema_upgrade(c, path, version);
}

void st_remove_files(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char name[4096];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++)
        if (snprintf(name, sizeof name, "%s%s", path, suffix[i]) < (int)sizeof name)
            unlink(name);
}

void st_close(sc_client *c)
{
    stmts_free(c);
    if (c->db)
        sqlite3_close_v2(db_of(c));
    c->db = NULL;
}

sc_status st_begin(sc_client *c)
{
    /* Every change is a transaction: a read-only handle never starts one. */
    if (c->read_only)
        return cl_need_writable(c, "a change");
    if (sqlite3_exec(db_of(c), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sql_fail(c, "begin");
    return SC_OK;
}

sc_status st_commit(sc_client *c)
{
    if (sqlite3_exec(db_of(c), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sc_status s = sql_fail(c, "commit");
        st_rollback(c);
        return s;
    }
    return SC_OK;
}

/*
 * During a sync the log is checkpointed into the file every 16,000 pages
 * (64 MiB) instead of SQLite's 1,000: fewer, larger checkpoints copy a page
 * that several rounds rewrote once (a fresh tablet's pull of 100k ops: 4%
 * faster).  The page cache grows from SQLite's 2 MiB to at most 32 MiB,
 * filled only as a sync touches pages: a pull inserts each op under its
 * random id and entity, into indexes far larger than 2 MiB, and each page
 * that fell out of the cache was read again (a fresh tablet's pull of 1M
 * ops: 13.5-13.8k -> 14.9k ops/s, system CPU 20 -> 12 s; 128 MiB did no
 * better).  st_settle sets both back and lets the memory go.
 */
#define SYNC_WAL_PAGES "16000"
#define WAL_PAGES      "1000"
#define SYNC_CACHE_KIB "32768"

void st_defer_durability(sc_client *c)
{
    if (!c->db || c->read_only)
        return;
    sqlite3 *db = db_of(c);
    sqlite3_stmt *st;
    c->cache_before = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA cache_size", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            c->cache_before = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_exec(db,
                 "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=" SYNC_WAL_PAGES
                 "; PRAGMA cache_size=-" SYNC_CACHE_KIB,
                 NULL, NULL, NULL);
}

/* The page cache as it was before the sync, and the memory the larger one took back. */
static void cache_restore(sc_client *c)
{
    if (!c->cache_before)
        return;
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=%d", c->cache_before);
    sqlite3_exec(db_of(c), sql, NULL, NULL, NULL);
    sqlite3_db_release_memory(db_of(c));
    c->cache_before = 0;
}

sc_status st_settle(sc_client *c, bool synced, int64_t now_ms)
{
    if (!c->db || c->read_only)
        return SC_OK;
    sqlite3 *db = db_of(c);
    cache_restore(c);
    if (sqlite3_exec(db, "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=" WAL_PAGES, NULL, NULL,
                     NULL) != SQLITE_OK)
        return sql_fail(c, "settle the sync");
    if (!synced) {
        /* The sync failed and its error stands: the log and the file are synced by a checkpoint. */
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SC_OK;
    }
    /* Under FULL, this commit syncs the log, and with it every frame written before it. */
    sc_status s = st_begin(c);
    if (s == SC_OK && (s = st_meta_put_u64(c, "last_sync_ms", (uint64_t)now_ms)) != SC_OK)
        st_rollback(c);
    if (s == SC_OK)
        s = st_commit(c);
    return s;
}

sc_status st_snapshot_begin(sc_client *c, bool *began)
{
    *began = false;
    if (!c->db || !sqlite3_get_autocommit(db_of(c)))
        return SC_OK;
    /* Deferred: the snapshot is taken by the first read, and no lock is ever asked for. */
    if (sqlite3_exec(db_of(c), "BEGIN DEFERRED", NULL, NULL, NULL) != SQLITE_OK)
        return sql_fail(c, "begin a read");
    *began = true;
    return SC_OK;
}

void st_snapshot_end(sc_client *c, bool began)
{
    if (began && !sqlite3_get_autocommit(db_of(c)))
        sqlite3_exec(db_of(c), "COMMIT", NULL, NULL, NULL);
}

void st_rollback(sc_client *c)
{
    if (c->db && !sqlite3_get_autocommit(db_of(c)))
        sqlite3_exec(db_of(c), "ROLLBACK", NULL, NULL, NULL);
}

/* ---- meta ---- */

sc_status st_meta_get(sc_client *c, const char *key, void *buf, size_t cap, size_t *len)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT value FROM meta WHERE key=?", &st);
    if (s != SC_OK)
        return s;
    bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        const void *p = sqlite3_column_blob(st, 0);
        if (n > cap)
            s = cl_fail(c, SC_ERR_STORAGE, 0, "replica: meta %s is %zu bytes, at most %zu", key, n,
                        cap);
        else {
            if (n)
                memcpy(buf, p, n);
            *len = n;
        }
    } else if (rc == SQLITE_DONE) {
        s = SC_ERR_NOT_FOUND;
    } else {
        s = sql_fail(c, "read meta");
    }
    done(c, st);
    return s;
}

sc_status st_meta_get_alloc(sc_client *c, const char *key, uint8_t **val, size_t *len)
{
    *val = NULL;
    *len = 0;
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT value FROM meta WHERE key=?", &st);
    if (s != SC_OK)
        return s;
    bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        *val = sc_memdup(&c->env, sqlite3_column_blob(st, 0), n);
        if (!*val)
            s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory reading %s", key);
        else
            *len = n;
    } else if (rc == SQLITE_DONE) {
        s = SC_ERR_NOT_FOUND;
    } else {
        s = sql_fail(c, "read meta");
    }
    done(c, st);
    return s;
}

sc_status st_meta_put(sc_client *c, const char *key, const void *val, size_t len)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st);
    if (s != SC_OK)
        return s;
    bind_text(st, 1, key);
    bind_blob(st, 2, val ? val : "", len);
    return exec_done(c, st, "write meta");
}

sc_status st_meta_get_u64(sc_client *c, const char *key, uint64_t *out)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT value FROM meta WHERE key=?", &st);
    if (s != SC_OK)
        return s;
    bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    else
        s = rc == SQLITE_DONE ? SC_ERR_NOT_FOUND : sql_fail(c, "read meta");
    done(c, st);
    return s;
}

sc_status st_meta_replace_secret(sc_client *c, const char *key, const void *val, size_t len)
{
    sqlite3 *db = db_of(c);
    /* Deleted content is overwritten with zeros, in the page and in pages freed. */
    if (sqlite3_exec(db, "PRAGMA secure_delete=ON", NULL, NULL, NULL) != SQLITE_OK)
        return sql_fail(c, "secure delete");
    sc_status s = st_begin(c);
    if (s == SC_OK && (s = st_meta_put(c, key, val, len)) != SC_OK)
        st_rollback(c);
    if (s == SC_OK)
        s = st_commit(c);
    sqlite3_exec(db, "PRAGMA secure_delete=OFF", NULL, NULL, NULL);
    if (s != SC_OK)
        return s;
    /* The new page goes into the file over the old one, and the log that
     * held earlier images of it is emptied.  A reader on an older snapshot
     * keeps the log from being emptied: then the next checkpoint does it. */
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return SC_OK;
}

sc_status st_meta_put_u64(sc_client *c, const char *key, uint64_t v)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st);
    if (s != SC_OK)
        return s;
    bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
    return exec_done(c, st, "write meta");
}

/* ---- ops ---- */

sc_status st_op_put(sc_client *c, const sc_op *op, int origin, int state, bool has_index,
                    uint64_t log_index, bool *inserted)
{
    *inserted = false;
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       "INSERT OR IGNORE INTO ops(id, entity, etype, kind, hlc, author, signed, "
                       "log_index, origin, state, seq) VALUES(?,?,?,?,?,?,?,?,?,?,"
                       "(SELECT IFNULL(MAX(seq), 0) + 1 FROM ops))",
                       &st);
    if (s != SC_OK)
        return s;
    const Scpb__Op *o = op->op;
    bind_blob(st, 1, op->id, SC_HASH_LEN);
    bind_blob(st, 2, o->entity.data, o->entity.len);
    sqlite3_bind_int(st, 3, (int)o->entity_type);
    sqlite3_bind_int(st, 4, (int)o->body_case);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)o->hlc);
    bind_blob(st, 6, o->author.data, o->author.len);
    bind_blob(st, 7, op->signed_bytes, op->signed_len);
    if (has_index)
        sqlite3_bind_int64(st, 8, (sqlite3_int64)log_index);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_int(st, 9, origin);
    sqlite3_bind_int(st, 10, state);
    s = exec_done(c, st, "store op");
    if (s == SC_OK)
        *inserted = sqlite3_changes(db_of(c)) > 0;
    return s;
}

static void read_info(sqlite3_stmt *st, st_opinfo *out)
{
    /* Columns: id, entity, etype, kind, hlc, log_index, origin, state, reason, message */
    memset(out, 0, sizeof *out);
    if (sqlite3_column_bytes(st, 0) == SC_HASH_LEN)
        memcpy(out->id, sqlite3_column_blob(st, 0), SC_HASH_LEN);
    if (sqlite3_column_bytes(st, 1) == SC_ID_LEN)
        memcpy(out->entity, sqlite3_column_blob(st, 1), SC_ID_LEN);
    out->etype = sqlite3_column_int(st, 2);
    out->kind = sqlite3_column_int(st, 3);
    out->hlc = (uint64_t)sqlite3_column_int64(st, 4);
    out->has_index = sqlite3_column_type(st, 5) != SQLITE_NULL;
    out->log_index = (uint64_t)sqlite3_column_int64(st, 5);
    out->origin = sqlite3_column_int(st, 6);
    out->state = sqlite3_column_int(st, 7);
    out->reason = sqlite3_column_int(st, 8);
    const unsigned char *m = sqlite3_column_text(st, 9);
    if (m)
        snprintf(out->message, sizeof out->message, "%s", (const char *)m);
}

#define INFO_COLS "id, entity, etype, kind, hlc, log_index, origin, state, reason, message"

sc_status st_op_info(sc_client *c, const uint8_t id[SC_HASH_LEN], st_opinfo *out)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT " INFO_COLS " FROM ops WHERE id=?", &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, id, SC_HASH_LEN);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_info(st, out);
    else
        s = rc == SQLITE_DONE ? SC_ERR_NOT_FOUND : sql_fail(c, "read op");
    done(c, st);
    return s;
}

static sc_status open_stored(sc_client *c, sqlite3_stmt *st, int col, sc_op **out)
{
    sc_err e;
    sc_err_clear(&e);
    sc_status s = sc_op_open(&c->env, sqlite3_column_blob(st, col),
                             (size_t)sqlite3_column_bytes(st, col), 0, out, &e);
    if (s != SC_OK)
        return cl_fail(c, s == SC_ERR_NOMEM ? SC_ERR_NOMEM : SC_ERR_STORAGE, e.reason,
                       "replica: a stored op does not decode: %s", e.msg);
    return SC_OK;
}

sc_status st_op_load(sc_client *c, const uint8_t id[SC_HASH_LEN], sc_op **out)
{
    *out = NULL;
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT signed FROM ops WHERE id=?", &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, id, SC_HASH_LEN);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        s = open_stored(c, st, 0, out);
    else
        s = rc == SQLITE_DONE ? SC_ERR_NOT_FOUND : sql_fail(c, "read op");
    done(c, st);
    return s;
}

void st_ops_free(sc_client *c, sc_op **ops, size_t n)
{
    if (!ops)
        return;
    for (size_t i = 0; i < n; i++)
        sc_op_free(&c->env, ops[i]);
    sc_free(&c->env, ops);
}

sc_status st_ops_of_entity(sc_client *c, const uint8_t entity[SC_ID_LEN], bool with_rejected,
                           sc_op ***ops, size_t *n)
{
    *ops = NULL;
    *n = 0;
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       with_rejected ? "SELECT signed FROM ops WHERE entity=? ORDER BY seq"
                                     : "SELECT signed FROM ops WHERE entity=? AND state<>2 "
                                       "ORDER BY seq",
                       &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, entity, SC_ID_LEN);
    sc_op **v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            sc_op **nv = sc_realloc_array(&c->env, v, ncap, sizeof *nv);
            if (!nv) {
                s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory loading an entity's ops");
                break;
            }
            v = nv;
            cap = ncap;
        }
        s = open_stored(c, st, 0, &v[cnt]);
        if (s == SC_OK)
            cnt++;
    }
    if (s == SC_OK && rc != SQLITE_DONE)
        s = sql_fail(c, "read ops");
    done(c, st);
    if (s != SC_OK) {
        st_ops_free(c, v, cnt);
        return s;
    }
    *ops = v;
    *n = cnt;
    return SC_OK;
}

sc_status st_op_set(sc_client *c, const uint8_t id[SC_HASH_LEN], int state, bool has_index,
                    uint64_t log_index, int reason, const char *message)
{
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       "UPDATE ops SET state=?, log_index=CASE WHEN ? THEN ? ELSE log_index END, "
                       "reason=?, message=? WHERE id=?",
                       &st);
    if (s != SC_OK)
        return s;
    sqlite3_bind_int(st, 1, state);
    sqlite3_bind_int(st, 2, has_index);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)log_index);
    sqlite3_bind_int(st, 4, reason);
    bind_text(st, 5, message);
    bind_blob(st, 6, id, SC_HASH_LEN);
    return exec_done(c, st, "update op");
}

/* Step a prepared query of INFO_COLS rows, handing each to fn, then hand the statement back. */
static sc_status visit_infos(sc_client *c, sqlite3_stmt *st, st_op_fn fn, void *ctx)
{
    sc_status s = SC_OK;
    int rc;
    while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_opinfo info;
        read_info(st, &info);
        s = fn(c, ctx, &info);
    }
    if (s == SC_OK && rc != SQLITE_DONE)
        s = sql_fail(c, "read ops");
    done(c, st);
    return s;
}

sc_status st_ops_each(sc_client *c, const uint8_t *entity, st_op_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       entity ? "SELECT " INFO_COLS " FROM ops WHERE entity=? ORDER BY hlc, seq"
                              : "SELECT " INFO_COLS " FROM ops ORDER BY seq",
                       &st);
    if (s != SC_OK)
        return s;
    if (entity)
        bind_blob(st, 1, entity, SC_ID_LEN);
    return visit_infos(c, st, fn, ctx);
}

sc_status st_own_ops_each(sc_client *c, int state, bool newest_first, int64_t max, st_op_fn fn,
                          void *ctx)
{
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       newest_first ? "SELECT " INFO_COLS " FROM ops WHERE state=? AND origin=0 "
                                      "ORDER BY seq DESC LIMIT ?"
                                    : "SELECT " INFO_COLS " FROM ops WHERE state=? AND origin=0 "
                                      "ORDER BY seq LIMIT ?",
                       &st);
    if (s != SC_OK)
        return s;
    sqlite3_bind_int(st, 1, state);
    sqlite3_bind_int64(st, 2, max);
    return visit_infos(c, st, fn, ctx);
}

sc_status st_outbox_each(sc_client *c, st_outbox_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT id, signed FROM ops WHERE state=0 AND origin=0 ORDER BY seq", &st);
    if (s != SC_OK)
        return s;
    int rc;
    bool stop = false;
    while (s == SC_OK && !stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != SC_HASH_LEN)
            continue;
        s = fn(c, ctx, sqlite3_column_blob(st, 0), sqlite3_column_blob(st, 1),
               (size_t)sqlite3_column_bytes(st, 1), &stop);
    }
    if (s == SC_OK && !stop && rc != SQLITE_DONE)
        s = sql_fail(c, "read outbox");
    done(c, st);
    return s;
}

sc_status st_ops_bytes_each(sc_client *c, st_bytes_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT " INFO_COLS ", signed FROM ops ORDER BY seq", &st);
    if (s != SC_OK)
        return s;
    int rc;
    while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        st_opinfo info;
        read_info(st, &info);
        s = fn(c, ctx, &info, sqlite3_column_blob(st, 10), (size_t)sqlite3_column_bytes(st, 10));
    }
    if (s == SC_OK && rc != SQLITE_DONE)
        s = sql_fail(c, "read ops");
    done(c, st);
    return s;
}

/* ---- entities ---- */

sc_status st_state_put(sc_client *c, const uint8_t id[SC_ID_LEN], int etype, const char *code,
                       uint32_t version, const uint8_t *enc, size_t len,
                       const uint8_t hash[SC_HASH_LEN], bool conflicted)
{
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       "INSERT OR REPLACE INTO entities(id, etype, code, version, state, hash) "
                       "VALUES(?,?,?,?,?,?)",
                       &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, id, SC_ID_LEN);
    sqlite3_bind_int(st, 2, etype);
    bind_text(st, 3, code);
    sqlite3_bind_int64(st, 4, version);
    bind_blob(st, 5, enc, len);
    bind_blob(st, 6, hash, SC_HASH_LEN);
    if ((s = exec_done(c, st, "store state")) != SC_OK)
        return s;
    if ((s = prep(c,
                  conflicted ? "INSERT OR IGNORE INTO conflicted(id) VALUES(?)"
                             : "DELETE FROM conflicted WHERE id=?",
                  &st)) != SC_OK)
        return s;
    bind_blob(st, 1, id, SC_ID_LEN);
    return exec_done(c, st, "store state");
}

sc_status st_state_drop(sc_client *c, const uint8_t id[SC_ID_LEN])
{
    static const char *const q[] = {"DELETE FROM entities WHERE id=?",
                                    "DELETE FROM conflicted WHERE id=?"};
    sc_status s = SC_OK;
    for (size_t i = 0; i < sizeof q / sizeof q[0] && s == SC_OK; i++) {
        sqlite3_stmt *st;
        if ((s = prep(c, q[i], &st)) != SC_OK)
            return s;
        bind_blob(st, 1, id, SC_ID_LEN);
        s = exec_done(c, st, "drop state");
    }
    return s;
}

sc_status st_state_get(sc_client *c, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out)
{
    *out = NULL;
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT state FROM entities WHERE id=?", &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, id, SC_ID_LEN);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sc_err e;
        sc_err_clear(&e);
        s = sc_state_decode(&c->env, sqlite3_column_blob(st, 0),
                            (size_t)sqlite3_column_bytes(st, 0), SC_CL_STATE_MAX, out, &e);
        if (s != SC_OK)
            s = cl_fail(c, s == SC_ERR_NOMEM ? s : SC_ERR_STORAGE, 0, "replica: %s", e.msg);
    } else {
        s = rc == SQLITE_DONE ? SC_ERR_NOT_FOUND : sql_fail(c, "read state");
    }
    done(c, st);
    return s;
}

sc_status st_state_hash(sc_client *c, const uint8_t id[SC_ID_LEN], uint8_t out[SC_HASH_LEN])
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT hash FROM entities WHERE id=?", &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, id, SC_ID_LEN);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SC_HASH_LEN)
        memcpy(out, sqlite3_column_blob(st, 0), SC_HASH_LEN);
    else
        s = rc == SQLITE_ROW || rc == SQLITE_DONE ? SC_ERR_NOT_FOUND : sql_fail(c, "read hash");
    done(c, st);
    return s;
}

sc_status st_find_code(sc_client *c, int etype, const char *code, uint8_t out[SC_ID_LEN])
{
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       "SELECT id FROM entities WHERE etype=? AND code=? "
                       "ORDER BY version DESC, id DESC LIMIT 1",
                       &st);
    if (s != SC_OK)
        return s;
    sqlite3_bind_int(st, 1, etype);
    bind_text(st, 2, code);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SC_ID_LEN)
        memcpy(out, sqlite3_column_blob(st, 0), SC_ID_LEN);
    else
        s = rc == SQLITE_ROW || rc == SQLITE_DONE ? SC_ERR_NOT_FOUND : sql_fail(c, "find code");
    done(c, st);
    return s;
}

/* Visit the ids a prepared statement gives (its first column), then finalize it. */
static sc_status ids_each(sc_client *c, sqlite3_stmt *st, st_id_fn fn, void *ctx)
{
    int rc;
    sc_status s = SC_OK;
    while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == SC_ID_LEN)
            s = fn(c, ctx, sqlite3_column_blob(st, 0));
    if (s == SC_OK && rc != SQLITE_DONE)
        s = sql_fail(c, "list entities");
    done(c, st);
    return s;
}

sc_status st_entities_each(sc_client *c, int etype, bool with_unfolded, st_id_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    const char *sql = with_unfolded
                          ? "SELECT DISTINCT entity FROM ops WHERE state<>2 ORDER BY entity"
                      : etype ? "SELECT id FROM entities WHERE etype=? ORDER BY id"
                              : "SELECT id FROM entities ORDER BY id";
    sc_status s = prep(c, sql, &st);
    if (s != SC_OK)
        return s;
    if (etype && !with_unfolded)
        sqlite3_bind_int(st, 1, etype);
    return ids_each(c, st, fn, ctx);
}

sc_status st_conflicted_each(sc_client *c, st_id_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT id FROM conflicted ORDER BY id", &st);
    return s == SC_OK ? ids_each(c, st, fn, ctx) : s;
}

sc_status st_count(sc_client *c, const char *what, int64_t *out)
{
    static const struct {
        const char *name, *sql;
    } q[] = {
        {"outbox", "SELECT COUNT(*) FROM ops WHERE state=0 AND origin=0"},
        {"ops", "SELECT COUNT(*) FROM ops"},
        {"entities", "SELECT COUNT(*) FROM entities"},
        {"uploads", "SELECT COUNT(*) FROM blobs WHERE state=0"},
        {"missing", "SELECT COUNT(*) FROM blobs WHERE state=2"},
        {"rejected", "SELECT COUNT(*) FROM ops WHERE state=2"},
        {"proven", "SELECT COUNT(*) FROM ops WHERE state=1 AND origin=0"},
        {"conflicted", "SELECT COUNT(*) FROM conflicted"},
    };
    *out = 0;
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        if (strcmp(q[i].name, what) != 0)
            continue;
        sqlite3_stmt *st;
        sc_status s = prep(c, q[i].sql, &st);
        if (s != SC_OK)
            return s;
        if (sqlite3_step(st) == SQLITE_ROW)
            *out = sqlite3_column_int64(st, 0);
        else
            s = sql_fail(c, "count");
        done(c, st);
        return s;
    }
    return cl_fail(c, SC_ERR_INTERNAL, 0, "no count named %s", what);
}

/* ---- blobs ---- */

sc_status st_blob_put(sc_client *c, const uint8_t sha[SC_HASH_LEN], uint64_t size, const char *mime,
                      int state)
{
    sqlite3_stmt *st;
    /* A photo already known keeps its state unless it was missing (now here). */
    sc_status s = prep(c,
                       "INSERT INTO blobs(sha, size, mime, state) VALUES(?,?,?,?) "
                       "ON CONFLICT(sha) DO UPDATE SET size=excluded.size, "
                       "mime=IFNULL(excluded.mime, mime), "
                       "state=CASE WHEN state=2 THEN excluded.state ELSE state END",
                       &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, sha, SC_HASH_LEN);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
    bind_text(st, 3, mime);
    sqlite3_bind_int(st, 4, state);
    return exec_done(c, st, "store photo");
}

sc_status st_blob_set(sc_client *c, const uint8_t sha[SC_HASH_LEN], int state)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "UPDATE blobs SET state=? WHERE sha=?", &st);
    if (s != SC_OK)
        return s;
    sqlite3_bind_int(st, 1, state);
    bind_blob(st, 2, sha, SC_HASH_LEN);
    return exec_done(c, st, "update photo");
}

sc_status st_blob_size(sc_client *c, const uint8_t sha[SC_HASH_LEN], uint64_t *size)
{
    *size = 0;
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT size FROM blobs WHERE sha=?", &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, sha, SC_HASH_LEN);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
        *size = (uint64_t)sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        s = sql_fail(c, "read photo size");
    done(c, st);
    return s;
}

sc_status st_blobs_each(sc_client *c, int state, st_blob_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT sha, size FROM blobs WHERE state=? ORDER BY sha", &st);
    if (s != SC_OK)
        return s;
    sqlite3_bind_int(st, 1, state);
    int rc;
    while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == SC_HASH_LEN)
            s = fn(c, ctx, sqlite3_column_blob(st, 0), (uint64_t)sqlite3_column_int64(st, 1));
    if (s == SC_OK && rc != SQLITE_DONE)
        s = sql_fail(c, "list photos");
    done(c, st);
    return s;
}

sc_status st_blobs_missing_from(sc_client *c, const uint8_t *after, size_t max, st_blob_fn fn,
                                void *ctx)
{
    /* Names after `after` first, then wrapping around to the smallest ones. */
    static const char *const q[2] = {
        "SELECT sha, size FROM blobs WHERE state=2 AND sha>? ORDER BY sha LIMIT ?",
        "SELECT sha, size FROM blobs WHERE state=2 AND sha<=? ORDER BY sha LIMIT ?",
    };
    static const uint8_t none[1] = {0};
    size_t got = 0;
    sc_status s = SC_OK;
    for (int pass = 0; pass < 2 && s == SC_OK && got < max; pass++) {
        if (pass == 1 && !after)
            break;
        sqlite3_stmt *st;
        if ((s = prep(c, q[pass], &st)) != SC_OK)
            return s;
        /* An empty blob sorts before every name: "after nothing" is "from the start". */
        if (after)
            bind_blob(st, 1, after, SC_HASH_LEN);
        else
            sqlite3_bind_blob(st, 1, none, 0, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(max - got));
        int rc;
        while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (sqlite3_column_bytes(st, 0) != SC_HASH_LEN)
                continue;
            s = fn(c, ctx, sqlite3_column_blob(st, 0), (uint64_t)sqlite3_column_int64(st, 1));
            got++;
        }
        if (s == SC_OK && rc != SQLITE_DONE)
            s = sql_fail(c, "list missing photos");
        done(c, st);
    }
    return s;
}

/* ---- checkpoints ---- */

sc_status st_ckpt_add(sc_client *c, const char *note, size_t note_len, uint64_t size,
                      const uint8_t root[SC_HASH_LEN], const uint8_t (*proof)[SC_HASH_LEN],
                      size_t nproof)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "INSERT INTO checkpoints(size, root, note, proof) VALUES(?,?,?,?)", &st);
    if (s != SC_OK)
        return s;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
    bind_blob(st, 2, root, SC_HASH_LEN);
    sqlite3_bind_text(st, 3, note, (int)note_len, SQLITE_TRANSIENT);
    if (nproof)
        bind_blob(st, 4, proof, nproof * SC_HASH_LEN);
    else
        sqlite3_bind_null(st, 4);
    return exec_done(c, st, "store checkpoint");
}

sc_status st_ckpt_each(sc_client *c, st_ckpt_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT note, size, root, proof FROM checkpoints ORDER BY seq", &st);
    if (s != SC_OK)
        return s;
    int rc;
    while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint8_t root[SC_HASH_LEN] = {0};
        if (sqlite3_column_bytes(st, 2) == SC_HASH_LEN)
            memcpy(root, sqlite3_column_blob(st, 2), SC_HASH_LEN);
        size_t plen = (size_t)sqlite3_column_bytes(st, 3);
        const void *proof = sqlite3_column_blob(st, 3);
        s = fn(c, ctx, (const char *)sqlite3_column_text(st, 0),
               (size_t)sqlite3_column_bytes(st, 0), (uint64_t)sqlite3_column_int64(st, 1), root,
               (const uint8_t(*)[SC_HASH_LEN])proof, plen / SC_HASH_LEN);
    }
    if (s == SC_OK && rc != SQLITE_DONE)
        s = sql_fail(c, "list checkpoints");
    done(c, st);
    return s;
}

sc_status st_ckpt_last(sc_client *c, bool *found, uint64_t *size, uint8_t root[SC_HASH_LEN],
                       int64_t *time_ms)
{
    *found = false;
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT size, root, note FROM checkpoints ORDER BY seq DESC LIMIT 1", &st);
    if (s != SC_OK)
        return s;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = true;
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == SC_HASH_LEN)
            memcpy(root, sqlite3_column_blob(st, 1), SC_HASH_LEN);
        if (time_ms) {
            /* The time extension line: "time <ms>". */
            const char *note = (const char *)sqlite3_column_text(st, 2);
            const char *t = note ? strstr(note, "\ntime ") : NULL;
            *time_ms = 0;
            for (t = t ? t + 6 : NULL; t && *t >= '0' && *t <= '9'; t++)
                *time_ms = *time_ms * 10 + (*t - '0');
        }
    } else if (rc != SQLITE_DONE) {
        s = sql_fail(c, "read checkpoint");
    }
    done(c, st);
    return s;
}

/* ---- receipts ---- */

#define LEAF_REC (SC_HASH_LEN + 8)

sc_status st_receipt_add(sc_client *c, uint64_t size, const st_leaf *leaves, size_t n,
                         const uint8_t (*proof)[SC_HASH_LEN], size_t nproof)
{
    uint8_t *rec = sc_calloc(&c->env, n ? n : 1, LEAF_REC);
    if (!rec)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory storing a receipt");
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = rec + i * LEAF_REC;
        memcpy(p, leaves[i].id, SC_HASH_LEN);
        for (int b = 0; b < 8; b++)
            p[SC_HASH_LEN + b] = (uint8_t)(leaves[i].index >> (56 - 8 * b));
    }
    sqlite3_stmt *st;
    sc_status s = prep(c, "INSERT INTO receipts(size, leaves, proof) VALUES(?,?,?)", &st);
    if (s == SC_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
        bind_blob(st, 2, rec, n * LEAF_REC);
        bind_blob(st, 3, nproof ? (const void *)proof : "", nproof * SC_HASH_LEN);
        s = exec_done(c, st, "store receipt");
    }
    sc_free(&c->env, rec);
    return s;
}

sc_status st_receipts_each(sc_client *c, st_receipt_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT size, leaves, proof FROM receipts ORDER BY seq", &st);
    if (s != SC_OK)
        return s;
    int rc = SQLITE_DONE;
    st_leaf *v = NULL;
    while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t lb = (size_t)sqlite3_column_bytes(st, 1), pb = (size_t)sqlite3_column_bytes(st, 2);
        const uint8_t *rec = sqlite3_column_blob(st, 1);
        if (lb % LEAF_REC || pb % SC_HASH_LEN) {
            s = cl_fail(c, SC_ERR_STORAGE, 0, "replica: a stored receipt is damaged");
            break;
        }
        size_t n = lb / LEAF_REC;
        sc_free(&c->env, v);
        if (!(v = sc_calloc(&c->env, n ? n : 1, sizeof *v))) {
            s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory reading receipts");
            break;
        }
        for (size_t i = 0; i < n; i++) {
            memcpy(v[i].id, rec + i * LEAF_REC, SC_HASH_LEN);
            for (int b = 0; b < 8; b++)
                v[i].index = v[i].index << 8 | rec[i * LEAF_REC + SC_HASH_LEN + b];
        }
        s = fn(c, ctx, (uint64_t)sqlite3_column_int64(st, 0), v, n,
               (const uint8_t(*)[SC_HASH_LEN])sqlite3_column_blob(st, 2), pb / SC_HASH_LEN);
    }
    if (s == SC_OK && rc != SQLITE_DONE)
        s = sql_fail(c, "list receipts");
    sc_free(&c->env, v);
    done(c, st);
    return s;
}

sc_status st_ckpt_root(sc_client *c, uint64_t size, uint8_t root[SC_HASH_LEN])
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT root FROM checkpoints WHERE size=? ORDER BY seq LIMIT 1", &st);
    if (s != SC_OK)
        return s;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SC_HASH_LEN)
        memcpy(root, sqlite3_column_blob(st, 0), SC_HASH_LEN);
    else
        s = rc == SQLITE_ROW || rc == SQLITE_DONE ? SC_ERR_NOT_FOUND
                                                  : sql_fail(c, "read checkpoint");
    done(c, st);
    return s;
}

sc_status st_logged_own_each(sc_client *c, st_id_hash_fn fn, void *ctx)
{
    uint64_t from = 1;
    sc_status s = st_meta_get_u64(c, "receipts_from", &from);
    if (s != SC_OK && s != SC_ERR_NOT_FOUND)
        return s;
    sqlite3_stmt *st;
    if ((s = prep(c, "SELECT id FROM ops WHERE origin=0 AND state=1 AND seq>=? ORDER BY seq",
                  &st)) != SC_OK)
        return s;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    int rc = SQLITE_DONE;
    while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == SC_HASH_LEN)
            s = fn(c, ctx, sqlite3_column_blob(st, 0));
    if (s == SC_OK && rc != SQLITE_DONE)
        s = sql_fail(c, "list logged ops");
    done(c, st);
    return s;
}

/* ---- devices ---- */

sc_status st_device_enroll(sc_client *c, const uint8_t key[SC_KEY_LEN],
                           const uint8_t entity[SC_ID_LEN], uint64_t index)
{
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       "INSERT INTO devices(key, entity, enroll_index) VALUES(?,?,?) "
                       "ON CONFLICT(key) DO UPDATE SET enroll_index=MIN(enroll_index, "
                       "excluded.enroll_index)",
                       &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, key, SC_KEY_LEN);
    bind_blob(st, 2, entity, SC_ID_LEN);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)index);
    return exec_done(c, st, "store device");
}

sc_status st_device_revoke(sc_client *c, const uint8_t entity[SC_ID_LEN], uint64_t index)
{
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       "UPDATE devices SET revoke_index=MIN(IFNULL(revoke_index, ?1), ?1) "
                       "WHERE entity=?2",
                       &st);
    if (s != SC_OK)
        return s;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
    bind_blob(st, 2, entity, SC_ID_LEN);
    return exec_done(c, st, "revoke device");
}

sc_status st_device_entity(sc_client *c, const uint8_t key[SC_KEY_LEN], uint8_t entity[SC_ID_LEN])
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT entity FROM devices WHERE key=?", &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, key, SC_KEY_LEN);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SC_ID_LEN)
        memcpy(entity, sqlite3_column_blob(st, 0), SC_ID_LEN);
    else if (rc == SQLITE_ROW)
        s = cl_fail(c, SC_ERR_STORAGE, 0, "replica: a device row names no entity");
    else
        s = rc == SQLITE_DONE ? SC_ERR_NOT_FOUND : sql_fail(c, "read device");
    done(c, st);
    return s;
}

sc_status st_user_access_put(sc_client *c, const uint8_t user[SC_ID_LEN], uint64_t index,
                             bool disabled)
{
    sqlite3_stmt *st;
    sc_status s = prep(c,
                       "INSERT OR REPLACE INTO user_access(user, log_index, disabled) "
                       "VALUES(?, ?, ?)",
                       &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, user, SC_ID_LEN);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    sqlite3_bind_int(st, 3, disabled ? 1 : 0);
    return exec_done(c, st, "note a user's access");
}

sc_status st_user_disabled_at(sc_client *c, const uint8_t user[SC_ID_LEN], uint64_t index,
                              bool *disabled)
{
    sqlite3_stmt *st;
    *disabled = false;
    sc_status s = prep(c,
                       "SELECT disabled FROM user_access WHERE user=? AND log_index<? "
                       "ORDER BY log_index DESC LIMIT 1",
                       &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, user, SC_ID_LEN);
    sqlite3_bind_int64(st, 2, index > INT64_MAX ? INT64_MAX : (sqlite3_int64)index);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *disabled = sqlite3_column_int(st, 0) != 0;
    else if (rc != SQLITE_DONE)
        s = sql_fail(c, "read a user's access");
    done(c, st);
    return s;
}

sc_status st_user_access_any(sc_client *c, bool *any)
{
    sqlite3_stmt *st;
    *any = false;
    sc_status s = prep(c, "SELECT EXISTS(SELECT 1 FROM user_access)", &st);
    if (s != SC_OK)
        return s;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *any = sqlite3_column_int(st, 0) != 0;
    else
        s = sql_fail(c, "read users' access");
    done(c, st);
    return s;
}

sc_status st_device_get(sc_client *c, const uint8_t key[SC_KEY_LEN], uint64_t *enroll_index,
                        bool *revoked, uint64_t *revoke_index)
{
    sqlite3_stmt *st;
    sc_status s = prep(c, "SELECT enroll_index, revoke_index FROM devices WHERE key=?", &st);
    if (s != SC_OK)
        return s;
    bind_blob(st, 1, key, SC_KEY_LEN);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *enroll_index = (uint64_t)sqlite3_column_int64(st, 0);
        *revoked = sqlite3_column_type(st, 1) != SQLITE_NULL;
        *revoke_index = (uint64_t)sqlite3_column_int64(st, 1);
    } else {
        s = rc == SQLITE_DONE ? SC_ERR_NOT_FOUND : sql_fail(c, "read device");
    }
    done(c, st);
    return s;
}
