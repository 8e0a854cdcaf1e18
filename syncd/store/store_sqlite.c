/*
 * store_sqlite.c: the SQLite backend of store.h, and the only file of the
 * register that speaks SQL.
 *
 * The database runs in WAL mode with synchronous=FULL (a commit is on disk
 * when it returns: acknowledged means durable), foreign keys on, and a
 * 10-second busy timeout so `syncd admin` and `syncd serve` wait for each
 * other's write transactions instead of failing.  Statements are prepared
 * once per connection and reused (SQLITE_PREPARE_PERSISTENT); a statement
 * is always reset before the function that stepped it returns, so no read
 * cursor outlives a call.  Every error the database reports becomes
 * SC_ERR_STORAGE with its message; the caller rolls back.
 */
#include "store.h"
#include "store_sqlite_schema.h"
#include "core/reason.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BUSY_TIMEOUT_MS 10000
/*
 * Page caches (KiB).  The writer's: a group commit of thousands of ops
 * dirties more pages than SQLite's default 2 MiB holds, which made it spill
 * pages mid-transaction and read index pages back from the OS; 8 MiB holds
 * a commit of thousands of ops (the writer's CPU per op is the same as with
 * 16 MiB).  Each read connection's: 1 MiB, half SQLite's default, because
 * there is one per concurrent request and syncd's memory budget (DESIGN
 * §9: under 64 MiB with 1,000 devices syncing) counts them all; pulls read
 * the log in order, so the OS page cache serves what does not fit.
 */
#define WRITER_CACHE_KIB 8192
#define READER_CACHE_KIB 1024
/*
 * WAL pages after which the writer asks the background checkpointer to
 * copy the WAL into the database (SQLite's own autocheckpoint default).
 */
#define CHECKPOINT_PAGES 1000


/* Every statement, prepared on first use. */
enum {
    Q_BEGIN_READ,
    Q_BEGIN_WRITE,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_DATA_VERSION,
    Q_META_GET,
    Q_META_PUT,
    Q_LOG_SIZE,
    Q_OP_APPEND,
    Q_OP_SCAN,
    Q_ENTITY_OPS,
    Q_LEAF_GET,
    Q_LEAF_RANGE,
    Q_ENTITY_GET,
    Q_ENTITY_GET_STATE,
    Q_ENTITY_PUT,
    Q_ENTITY_RELEASE,
    Q_ENTITY_SCAN,
    Q_ENTITY_TYPE_SCAN,
    Q_ENTITY_FINDINGS,
    Q_ENTITY_COUNT,
    Q_ORG_SCAN,
    Q_CODE_FIND,
    Q_CODE_PUT,
    Q_CODE_SCAN,
    Q_DEVICE_GET,
    Q_DEVICE_BY_ENTITY,
    Q_DEVICE_PUT,
    Q_DEVICE_REVOKE,
    Q_DEVICE_SCAN,
    Q_DEVICE_COUNT,
    Q_ASSIGNEE_PUT,
    Q_ASSIGNEE_HAS,
    Q_ASSIGNEE_SCAN,
    Q_ENROLL_PUT,
    Q_ENROLL_GET,
    Q_ENROLL_USE,
    Q_ENROLL_SCAN,
    Q_ENROLL_REVOKE,
    Q_ENROLL_REVOKE_USER,
    Q_SEEN_PUT,
    Q_SEEN_GET,
    Q_NODE_GET,
    Q_NODE_RANGE,
    Q_NODE_PUT,
    Q_NODE_COUNT,
    Q_NODE_SCAN,
    Q_CP_PUT,
    Q_CP_LATEST,
    Q_CP_SCAN,
    Q_CP_COUNT,
    Q_REL_PUT,
    Q_REL_NEXT,
    Q_REL_SCAN,
    Q_PULL_LOG,
    Q_PULL_REL,
    Q_PHOTO_REF_PUT,
    Q_PHOTO_REFS,
    Q_PHOTO_REF_COUNT,
    Q_NOTIFY_PUT,
    Q_NOTIFY_COUNT,
    Q_NOTIFY_COUNT_HOOK,
    Q_NOTIFY_NEXT_HOOK,
    Q_NOTIFY_DUE,
    Q_NOTIFY_CLAIM,
    Q_NOTIFY_FINISH,
    Q_NOTIFY_SCAN,
    Q_NOTIFY_RETRY_ONE,
    Q_NOTIFY_RETRY_ALL,
    Q_COUNT_
};

#define NOTIFY_COLS                                                                                \
    "id, event, hook, type, body, created_ms, state, attempts, next_ms, done_ms, last_code, "      \
    "last_error"

static const char *const sql[Q_COUNT_] = {
    [Q_BEGIN_READ] = "BEGIN DEFERRED",
    [Q_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_DATA_VERSION] = "PRAGMA data_version",
    [Q_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [Q_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [Q_LOG_SIZE] = "SELECT coalesce(max(idx) + 1, 0) FROM ops",
    [Q_OP_APPEND] = "INSERT INTO ops(idx, op_id, entity, author, kind, hlc, received_ms, signed, "
                    "leaf_hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [Q_OP_SCAN] = "SELECT idx, op_id, entity, author, kind, hlc, received_ms, signed, leaf_hash "
                  "FROM ops WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    [Q_ENTITY_OPS] = "SELECT idx, op_id, entity, author, kind, hlc, received_ms, signed, leaf_hash "
                     "FROM ops WHERE entity = ?1 ORDER BY idx",
    [Q_LEAF_GET] = "SELECT leaf_hash FROM ops WHERE idx = ?1",
    [Q_LEAF_RANGE] = "SELECT leaf_hash FROM ops WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    [Q_ENTITY_GET] = "SELECT id, type, op_count, last_idx, NULL, state_hash, target, scope_org, "
                     "vis_class, released, inspection FROM entities WHERE id = ?1",
    [Q_ENTITY_GET_STATE] = "SELECT id, type, op_count, last_idx, state, state_hash, target, "
                           "scope_org, vis_class, released, inspection FROM entities WHERE id = ?1",
    /*
     * An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first,
     * which makes SQLite look for rows referencing it in every child table
     * (codes.entity has no index: a full scan per op) and rewrite every
     * index entry; an update in place touches neither.
     */
    [Q_ENTITY_PUT] = "INSERT INTO entities(id, type, op_count, last_idx, state, "
                     "state_hash, target, scope_org, vis_class, released, inspection) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                     "ON CONFLICT(id) DO UPDATE SET type = excluded.type, "
                     "op_count = excluded.op_count, last_idx = excluded.last_idx, "
                     "state = excluded.state, state_hash = excluded.state_hash, "
                     "target = excluded.target, scope_org = excluded.scope_org, "
                     "vis_class = excluded.vis_class, released = excluded.released, "
                     "inspection = excluded.inspection",
    [Q_ENTITY_RELEASE] = "UPDATE entities SET released = 1 WHERE id = ?1",
    [Q_ENTITY_SCAN] = "SELECT id, type, op_count, last_idx, state, state_hash, target, scope_org, "
                      "vis_class, released, inspection FROM entities ORDER BY id",
    [Q_ENTITY_TYPE_SCAN] = "SELECT id, type, op_count, last_idx, state, state_hash, target, "
                           "scope_org, vis_class, released, inspection FROM entities "
                           "WHERE type = ?1 ORDER BY id",
    [Q_ENTITY_FINDINGS] = "SELECT id, type, op_count, last_idx, NULL, state_hash, target, "
                          "scope_org, vis_class, released, inspection FROM entities "
                          "WHERE inspection = ?1 ORDER BY id",
    [Q_ENTITY_COUNT] = "SELECT count(*) FROM entities",
    [Q_ORG_SCAN] = "SELECT id, scope_org FROM entities WHERE type = 1",
    [Q_CODE_FIND] = "SELECT entity FROM codes WHERE kind = ?1 AND code = ?2 AND version = ?3",
    [Q_CODE_PUT] = "INSERT INTO codes(kind, code, version, entity) VALUES(?1, ?2, ?3, ?4)",
    [Q_CODE_SCAN] = "SELECT kind, code, version, entity FROM codes ORDER BY kind, code, version",
    [Q_DEVICE_GET] = "SELECT key, device, user, enrolled_idx, revoked_idx FROM devices "
                     "WHERE key = ?1",
    [Q_DEVICE_BY_ENTITY] = "SELECT key, device, user, enrolled_idx, revoked_idx FROM devices "
                           "WHERE device = ?1",
    [Q_DEVICE_PUT] = "INSERT INTO devices(key, device, user, enrolled_idx, revoked_idx) "
                     "VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_DEVICE_REVOKE] = "UPDATE devices SET revoked_idx = ?2 WHERE device = ?1 AND revoked_idx "
                        "IS NULL",
    [Q_DEVICE_SCAN] = "SELECT key, device, user, enrolled_idx, revoked_idx FROM devices "
                      "ORDER BY enrolled_idx",
    [Q_DEVICE_COUNT] = "SELECT count(*) FROM devices WHERE revoked_idx IS NULL",
    [Q_ASSIGNEE_PUT] = "INSERT OR IGNORE INTO assignees(assignment, user) VALUES(?1, ?2)",
    [Q_ASSIGNEE_HAS] = "SELECT 1 FROM assignees WHERE assignment = ?1 AND user = ?2",
    [Q_ASSIGNEE_SCAN] = "SELECT assignment, user FROM assignees ORDER BY assignment, user",
    [Q_ENROLL_PUT] = "INSERT INTO enroll_codes(hash, user, created_ms, expires_ms) "
                     "VALUES(?1, ?2, ?3, ?4)",
    [Q_ENROLL_GET] = "SELECT hash, user, created_ms, expires_ms, used_ms, device, revoked_ms "
                     "FROM enroll_codes WHERE hash = ?1",
    [Q_ENROLL_USE] = "UPDATE enroll_codes SET used_ms = ?2, device = ?3 WHERE hash = ?1 AND "
                     "used_ms IS NULL AND revoked_ms IS NULL",
    [Q_ENROLL_SCAN] = "SELECT hash, user, created_ms, expires_ms, used_ms, device, revoked_ms "
                      "FROM enroll_codes ORDER BY created_ms, hash",
    [Q_ENROLL_REVOKE] = "UPDATE enroll_codes SET revoked_ms = ?2 WHERE hash = ?1 AND used_ms IS "
                        "NULL AND revoked_ms IS NULL AND expires_ms > ?2",
    [Q_ENROLL_REVOKE_USER] = "UPDATE enroll_codes SET revoked_ms = ?2 WHERE user = ?1 AND used_ms "
                             "IS NULL AND revoked_ms IS NULL AND expires_ms > ?2",
    [Q_SEEN_PUT] = "INSERT INTO device_seen(key, seen_ms, agent) VALUES(?1, ?2, ?3) "
                   "ON CONFLICT(key) DO UPDATE SET seen_ms = max(seen_ms, excluded.seen_ms), "
                   "agent = excluded.agent",
    [Q_SEEN_GET] = "SELECT seen_ms, agent FROM device_seen WHERE key = ?1",
    [Q_NODE_GET] = "SELECT hash FROM merkle WHERE level = ?1 AND idx = ?2",
    [Q_NODE_RANGE] = "SELECT hash FROM merkle WHERE level = ?1 AND idx >= ?2 AND idx < ?3 "
                     "ORDER BY idx",
    [Q_NODE_PUT] = "INSERT OR REPLACE INTO merkle(level, idx, hash) VALUES(?1, ?2, ?3)",
    [Q_NODE_COUNT] = "SELECT count(*) FROM merkle",
    [Q_NODE_SCAN] = "SELECT level, idx, hash FROM merkle ORDER BY level, idx",
    [Q_CP_PUT] = "INSERT INTO checkpoints(size, root, time_ms, note) VALUES(?1, ?2, ?3, ?4)",
    [Q_CP_LATEST] = "SELECT size, root, time_ms, note FROM checkpoints ORDER BY size DESC LIMIT 1",
    [Q_CP_SCAN] = "SELECT size, root, time_ms, note FROM checkpoints ORDER BY size",
    [Q_CP_COUNT] = "SELECT count(*) FROM checkpoints",
    [Q_REL_PUT] = "INSERT INTO releases(seq, entity, idx) VALUES(?1, ?2, ?3)",
    [Q_REL_NEXT] = "SELECT coalesce(max(seq) + 1, 0) FROM releases",
    [Q_REL_SCAN] = "SELECT seq, entity, idx FROM releases ORDER BY seq",
    [Q_PULL_LOG] = "SELECT o.idx, o.op_id, o.entity, o.author, o.kind, o.hlc, o.received_ms, "
                   "o.signed, o.leaf_hash, e.type, e.vis_class, e.released, e.scope_org, 0, "
                   "e.inspection "
                   "FROM ops o JOIN entities e ON e.id = o.entity WHERE o.idx >= ?1 "
                   "ORDER BY o.idx",
    [Q_PULL_REL] = "SELECT o.idx, o.op_id, o.entity, o.author, o.kind, o.hlc, o.received_ms, "
                   "o.signed, o.leaf_hash, e.type, e.vis_class, e.released, e.scope_org, r.seq, "
                   "e.inspection "
                   "FROM releases r JOIN ops o ON o.idx = r.idx JOIN entities e ON e.id = "
                   "r.entity WHERE r.seq >= ?1 ORDER BY r.seq",
    [Q_PHOTO_REF_PUT] = "INSERT OR IGNORE INTO photo_refs(sha, entity, idx) VALUES(?1, ?2, ?3)",
    [Q_PHOTO_REFS] = "SELECT entity, idx FROM photo_refs WHERE sha = ?1 ORDER BY entity",
    [Q_PHOTO_REF_COUNT] = "SELECT count(*) FROM photo_refs",
    [Q_NOTIFY_PUT] = "INSERT INTO notify(event, hook, type, dedupe, body, created_ms, state, "
                     "next_ms, done_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                     "ON CONFLICT(dedupe, hook) DO NOTHING",
    /*
     * The pending rows' queries name state 0 and one hook, so that they
     * read only the partial index notify_pending (hook, next_ms, id) and
     * never a row of another hook: one hook's backlog costs the others
     * nothing.
     */
    [Q_NOTIFY_COUNT] = "SELECT count(*) FROM notify WHERE state = 0",
    [Q_NOTIFY_COUNT_HOOK] = "SELECT count(*) FROM notify WHERE state = 0 AND hook = ?1",
    [Q_NOTIFY_NEXT_HOOK] = "SELECT min(hook) FROM notify WHERE state = 0 AND hook > ?1",
    [Q_NOTIFY_DUE] = "SELECT count(*) FROM (SELECT 1 FROM notify WHERE state = 0 AND hook = ?1 "
                     "AND next_ms <= ?2 AND claim_until <= ?2 ORDER BY next_ms, id LIMIT 1)",
    [Q_NOTIFY_CLAIM] = "UPDATE notify SET claim_until = ?2 WHERE id IN (SELECT id FROM notify "
                       "WHERE state = 0 AND hook = ?4 AND next_ms <= ?1 AND claim_until <= ?1 "
                       "ORDER BY next_ms, id LIMIT ?3) RETURNING " NOTIFY_COLS,
    [Q_NOTIFY_FINISH] = "UPDATE notify SET state = ?2, attempts = ?3, next_ms = ?4, done_ms = ?5, "
                        "last_code = ?6, last_error = ?7, claim_until = 0 WHERE id = ?1",
    [Q_NOTIFY_SCAN] = "SELECT " NOTIFY_COLS " FROM notify ORDER BY id",
    [Q_NOTIFY_RETRY_ONE] = "UPDATE notify SET state = 0, attempts = 0, next_ms = ?3, done_ms = 0, "
                           "claim_until = 0 WHERE id = ?1 AND state = ?2",
    [Q_NOTIFY_RETRY_ALL] = "UPDATE notify SET state = 0, attempts = 0, next_ms = ?3, done_ms = 0, "
                           "claim_until = 0 WHERE ?1 = 0 AND state = ?2",
};

/*
 * The writer's background checkpointer: its own connection and thread.
 * The writer's WAL hook (run after each commit, on the writer's thread)
 * only wakes it; the thread runs PASSIVE checkpoints, which never block
 * the writer or readers and copy what no reader still needs.
 */
typedef struct checkpointer {
    sqlite3 *db;                   /* the checkpointer's own connection */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool want;                     /* a commit left at least CHECKPOINT_PAGES in the WAL */
    bool stop;
} checkpointer;

typedef struct sqlite_store {
    sd_store base;                 /* must be first */
    sqlite3 *db;
    sqlite3_stmt *stmt[Q_COUNT_];  /* prepared on first use */
    bool in_txn;
    char *path;                    /* the database file; owned */
    checkpointer *ckpt;            /* writer connections only, else NULL */
} sqlite_store;

static sqlite_store *S(sd_store *s)
{
    return (sqlite_store *)(void *)s;
}

static sc_status db_err(sqlite_store *q, sc_err *err, const char *what)
{
    int code = sqlite3_extended_errcode(q->db);
    return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "register: %s: %s (%d)", what,
                      sqlite3_errmsg(q->db), code);
}

/* The prepared statement for id, reset and with bindings cleared; NULL on error (err set). */
static sqlite3_stmt *st(sqlite_store *q, int id, sc_err *err)
{
    if (!q->stmt[id]) {
        if (sqlite3_prepare_v3(q->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &q->stmt[id], NULL) !=
            SQLITE_OK) {
            db_err(q, err, "prepare");
            return NULL;
        }
    }
    return q->stmt[id];
}

static void done(sqlite3_stmt *s)
{
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

/*
 * Step x through its rows, handing each to row (which reads it and calls
 * the caller's function) until row returns false; then done(x).
 */
static sc_status each_row(sqlite_store *q, sqlite3_stmt *x, bool (*row)(sqlite3_stmt *x, void *ctx),
                          void *ctx, sc_err *err, const char *what)
{
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, what);
            break;
        }
        if (!row(x, ctx))
            break;
    }
    done(x);
    return out;
}

static void bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
    if (p)
        sqlite3_bind_blob(s, i, p, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void col_fixed(sqlite3_stmt *s, int i, uint8_t *out, size_t n)
{
    const void *p = sqlite3_column_blob(s, i);
    if (p && (size_t)sqlite3_column_bytes(s, i) == n)
        memcpy(out, p, n);
    else
        memset(out, 0, n);
}

static bool col_opt(sqlite3_stmt *s, int i, uint8_t *out, size_t n)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL) {
        memset(out, 0, n);
        return false;
    }
    col_fixed(s, i, out, n);
    return true;
}

/* Run a statement that returns no rows. */
static sc_status exec_stmt(sqlite_store *q, sqlite3_stmt *s, sc_err *err, const char *what)
{
    int rc = sqlite3_step(s);
    sc_status r = rc == SQLITE_DONE || rc == SQLITE_ROW ? SC_OK : db_err(q, err, what);
    done(s);
    return r;
}

/* A statement returning one integer. */
static sc_status one_int(sqlite_store *q, int id, int64_t *out, sc_err *err, const char *what)
{
    sqlite3_stmt *s = st(q, id, err);
    if (!s)
        return SC_ERR_STORAGE;
    int rc = sqlite3_step(s);
    sc_status r = SC_OK;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else
        r = db_err(q, err, what);
    done(s);
    return r;
}

/* ---- lifecycle and transactions ---- */

static void *checkpoint_main(void *arg)
{
    checkpointer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->want && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->want = false;
        pthread_mutex_unlock(&c->mu);
        /* A failure (busy, I/O) leaves the WAL to the next try; commits stay durable either way. */
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* The writer's WAL hook: after a commit that left `pages` in the WAL. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    checkpointer *c = arg;
    if (pages >= CHECKPOINT_PAGES) {
        pthread_mutex_lock(&c->mu);
        c->want = true;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    return SQLITE_OK;
}

static void checkpointer_stop(sqlite_store *q)
{
    checkpointer *c = q->ckpt;
    if (!c)
        return;
    /* Back to SQLite's own checkpoints for whatever this connection still commits. */
    sqlite3_wal_autocheckpoint(q->db, CHECKPOINT_PAGES);
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    sqlite3_close_v2(c->db);
    free(c);
    q->ckpt = NULL;
}

static void q_close(sd_store *s)
{
    sqlite_store *q = S(s);
    if (!q)
        return;
    if (q->in_txn)
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    checkpointer_stop(q);
    for (int i = 0; i < Q_COUNT_; i++)
        sqlite3_finalize(q->stmt[i]);
    sqlite3_close_v2(q->db);
    free(q->path);
    free(q);
}

static sc_status q_set_writer(sd_store *s, sc_err *err)
{
    (void)err;
    sqlite_store *q = S(s);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%d", WRITER_CACHE_KIB);
    sqlite3_exec(q->db, pragma, NULL, NULL, NULL);
    if (q->ckpt || !q->path)
        return SC_OK;
    checkpointer *c = calloc(1, sizeof *c);
    if (!c)
        return SC_OK; /* SQLite's own checkpoints stay on */
    if (sqlite3_open_v2(q->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close_v2(c->db);
        free(c);
        return SC_OK;
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, checkpoint_main, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        sqlite3_close_v2(c->db);
        free(c);
        return SC_OK;
    }
    q->ckpt = c;
    /* Replaces SQLite's autocheckpoint hook (which checkpointed on the committing thread). */
    sqlite3_wal_hook(q->db, on_wal_commit, c);
    return SC_OK;
}

static sc_status q_begin(sd_store *s, bool write, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, write ? Q_BEGIN_WRITE : Q_BEGIN_READ, err);
    if (!x)
        return SC_ERR_STORAGE;
    sc_status rc = exec_stmt(q, x, err, write ? "begin write" : "begin read");
    if (rc == SC_OK)
        q->in_txn = true;
    return rc;
}

static sc_status q_commit(sd_store *s, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_COMMIT, err);
    if (!x)
        return SC_ERR_STORAGE;
    sc_status rc = exec_stmt(q, x, err, "commit");
    if (rc == SC_OK)
        q->in_txn = false;
    return rc;
}

static void q_rollback(sd_store *s)
{
    sqlite_store *q = S(s);
    if (!q->in_txn && sqlite3_get_autocommit(q->db))
        return;
    /* A failed COMMIT may leave the transaction open; ROLLBACK ends it either way. */
    sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    q->in_txn = false;
}

static sc_status q_data_version(sd_store *s, int64_t *out, sc_err *err)
{
    return one_int(S(s), Q_DATA_VERSION, out, err, "data_version");
}

/* ---- meta ---- */

static sc_status q_meta_get(sd_store *s, const char *key, uint8_t **val, size_t *len, sc_err *err)
{
    sqlite_store *q = S(s);
    *val = NULL;
    *len = 0;
    sqlite3_stmt *x = st(q, Q_META_GET, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_text(x, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(x);
    sc_status r = SC_OK;
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(x, 0);
        const void *p = sqlite3_column_blob(x, 0);
        uint8_t *b = malloc(n + 1);
        if (!b) {
            r = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
        } else {
            if (n)
                memcpy(b, p, n);
            b[n] = 0;
            *val = b;
            *len = n;
        }
    } else if (rc == SQLITE_DONE) {
        r = sc_err_set(err, SC_ERR_NOT_FOUND, 0, "register: no meta value %s", key);
    } else {
        r = db_err(q, err, "meta get");
    }
    done(x);
    return r;
}

static sc_status q_meta_put(sd_store *s, const char *key, const void *val, size_t len, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_META_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_text(x, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(x, 2, val ? val : "", (int)len, SQLITE_STATIC);
    return exec_stmt(q, x, err, "meta put");
}

/* ---- the log ---- */

static sc_status q_log_size(sd_store *s, uint64_t *out, sc_err *err)
{
    int64_t v = 0;
    sc_status rc = one_int(S(s), Q_LOG_SIZE, &v, err, "log size");
    *out = rc == SC_OK ? (uint64_t)v : 0;
    return rc;
}

static sc_status q_op_append(sd_store *s, const sd_op_row *r, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_OP_APPEND, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, (sqlite3_int64)r->idx);
    bind_blob(x, 2, r->op_id, SC_HASH_LEN);
    bind_blob(x, 3, r->entity, SC_ID_LEN);
    bind_blob(x, 4, r->author, SC_KEY_LEN);
    sqlite3_bind_int(x, 5, r->kind);
    sqlite3_bind_int64(x, 6, (sqlite3_int64)r->hlc);
    sqlite3_bind_int64(x, 7, r->received_ms);
    bind_blob(x, 8, r->signed_op, r->signed_len);
    bind_blob(x, 9, r->leaf_hash, SC_HASH_LEN);
    return exec_stmt(q, x, err, "append op");
}

/* Columns idx, op_id, entity, author, kind, hlc, received_ms, signed, leaf_hash from `base`. */
static void read_op(sqlite3_stmt *x, int base, sd_op_row *r)
{
    r->idx = (uint64_t)sqlite3_column_int64(x, base + 0);
    col_fixed(x, base + 1, r->op_id, SC_HASH_LEN);
    col_fixed(x, base + 2, r->entity, SC_ID_LEN);
    col_fixed(x, base + 3, r->author, SC_KEY_LEN);
    r->kind = sqlite3_column_int(x, base + 4);
    r->hlc = (uint64_t)sqlite3_column_int64(x, base + 5);
    r->received_ms = sqlite3_column_int64(x, base + 6);
    r->signed_op = sqlite3_column_blob(x, base + 7);
    r->signed_len = (size_t)sqlite3_column_bytes(x, base + 7);
    col_fixed(x, base + 8, r->leaf_hash, SC_HASH_LEN);
}

/* Step a statement whose rows are ops, calling fn per row. */
static sc_status scan_ops(sqlite_store *q, sqlite3_stmt *x, sd_op_fn fn, void *ctx, sc_err *err,
                          const char *what)
{
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, what);
            break;
        }
        sd_op_row r;
        read_op(x, 0, &r);
        if (!fn(ctx, &r))
            break;
    }
    done(x);
    return out;
}

static sc_status q_op_scan(sd_store *s, uint64_t from, uint64_t to, sd_op_fn fn, void *ctx,
                           sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_OP_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(x, 2, to > INT64_MAX ? INT64_MAX : (sqlite3_int64)to);
    return scan_ops(q, x, fn, ctx, err, "scan log");
}

/*
 * Not a kept statement: its list of kinds varies, and it serves only
 * `syncd admin log`.  The log has no index by author or kind, so this
 * reads the whole log (one sequential pass).
 */
static sc_status q_op_scan_by(sd_store *s, const uint8_t author[SC_KEY_LEN], const int *kinds,
                              size_t nkinds, sd_op_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    char text[512];
    size_t at = (size_t)snprintf(text, sizeof text,
                                 "SELECT idx, op_id, entity, author, kind, hlc, received_ms, "
                                 "signed, leaf_hash FROM ops WHERE author = ?1 OR kind IN (");
    for (size_t i = 0; i < nkinds && at < sizeof text; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%s%d", i ? ", " : "", kinds[i]);
    if (at < sizeof text)
        at += (size_t)snprintf(text + at, sizeof text - at, "%s) ORDER BY idx", nkinds ? "" : "-1");
    if (at >= sizeof text)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "register: too many kinds to scan for");
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(q->db, text, -1, &x, NULL) != SQLITE_OK)
        return db_err(q, err, "prepare the scan of admin ops");
    bind_blob(x, 1, author, SC_KEY_LEN);
    sc_status rc = scan_ops(q, x, fn, ctx, err, "scan admin ops");
    sqlite3_finalize(x);
    return rc;
}

static sc_status q_entity_ops(sd_store *s, const uint8_t entity[SC_ID_LEN], sd_op_fn fn, void *ctx,
                              sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENTITY_OPS, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, entity, SC_ID_LEN);
    return scan_ops(q, x, fn, ctx, err, "entity ops");
}

static sc_status q_leaf_get(sd_store *s, uint64_t idx, uint8_t out[SC_HASH_LEN], sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_LEAF_GET, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, (sqlite3_int64)idx);
    int rc = sqlite3_step(x);
    sc_status r = SC_OK;
    if (rc == SQLITE_ROW)
        col_fixed(x, 0, out, SC_HASH_LEN);
    else if (rc == SQLITE_DONE)
        r = sc_err_set(err, SC_ERR_NOT_FOUND, 0, "register: no log entry %llu",
                       (unsigned long long)idx);
    else
        r = db_err(q, err, "leaf");
    done(x);
    return r;
}

/*
 * Step a statement whose rows are n hashes in order, into out: SC_ERR_NOT_FOUND
 * when fewer come (what lies beyond the log, or a missing node).
 */
static sc_status hash_rows(sqlite_store *q, sqlite3_stmt *x, size_t n, uint8_t (*out)[SC_HASH_LEN],
                           sc_err *err, const char *what)
{
    size_t got = 0;
    sc_status r = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            r = db_err(q, err, what);
            break;
        }
        if (got < n)
            col_fixed(x, 0, out[got], SC_HASH_LEN);
        got++;
    }
    done(x);
    if (r == SC_OK && got != n)
        r = sc_err_set(err, SC_ERR_NOT_FOUND, 0, "register: %s: %zu of %zu hashes", what, got, n);
    return r;
}

static sc_status q_leaf_range(sd_store *s, uint64_t from, size_t n, uint8_t (*out)[SC_HASH_LEN],
                              sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_LEAF_RANGE, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)(from + n));
    return hash_rows(q, x, n, out, err, "leaves");
}

/* ---- entities ---- */

/* Columns of Q_ENTITY_*: id, type, op_count, last_idx, state, state_hash, target, scope_org,
 * vis_class, released, inspection.  The state is borrowed from the statement. */
static void read_entity(sqlite3_stmt *x, sd_entity_row *r)
{
    memset(r, 0, sizeof *r);
    col_fixed(x, 0, r->id, SC_ID_LEN);
    r->type = sqlite3_column_int(x, 1);
    r->op_count = (uint32_t)sqlite3_column_int64(x, 2);
    r->last_idx = (uint64_t)sqlite3_column_int64(x, 3);
    r->state = (uint8_t *)(uintptr_t)sqlite3_column_blob(x, 4);
    r->state_len = (size_t)sqlite3_column_bytes(x, 4);
    col_fixed(x, 5, r->state_hash, SC_HASH_LEN);
    r->has_target = col_opt(x, 6, r->target, SC_ID_LEN);
    r->has_scope = col_opt(x, 7, r->scope_org, SC_ID_LEN);
    r->vis_class = sqlite3_column_int(x, 8);
    r->released = sqlite3_column_int(x, 9) != 0;
    r->has_inspection = col_opt(x, 10, r->inspection, SC_ID_LEN);
}

static sc_status q_entity_get(sd_store *s, const uint8_t id[SC_ID_LEN], bool want_state,
                              sd_entity_row *r, sc_err *err)
{
    sqlite_store *q = S(s);
    memset(r, 0, sizeof *r);
    sqlite3_stmt *x = st(q, want_state ? Q_ENTITY_GET_STATE : Q_ENTITY_GET, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, id, SC_ID_LEN);
    int rc = sqlite3_step(x);
    sc_status out = SC_OK;
    if (rc == SQLITE_ROW) {
        read_entity(x, r);
        if (want_state) {
            uint8_t *copy = malloc(r->state_len ? r->state_len : 1);
            if (!copy) {
                out = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
                r->state = NULL;
            } else {
                if (r->state_len)
                    memcpy(copy, r->state, r->state_len);
                r->state = copy;
            }
        } else {
            r->state = NULL;
            r->state_len = 0;
        }
    } else if (rc == SQLITE_DONE) {
        out = SC_ERR_NOT_FOUND;
    } else {
        out = db_err(q, err, "get entity");
    }
    done(x);
    return out;
}

static sc_status q_entity_put(sd_store *s, const sd_entity_row *r, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENTITY_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, r->id, SC_ID_LEN);
    sqlite3_bind_int(x, 2, r->type);
    sqlite3_bind_int64(x, 3, r->op_count);
    sqlite3_bind_int64(x, 4, (sqlite3_int64)r->last_idx);
    sqlite3_bind_blob(x, 5, r->state ? (const void *)r->state : "", (int)r->state_len,
                      SQLITE_STATIC);
    bind_blob(x, 6, r->state_hash, SC_HASH_LEN);
    bind_blob(x, 7, r->has_target ? r->target : NULL, SC_ID_LEN);
    bind_blob(x, 8, r->has_scope ? r->scope_org : NULL, SC_ID_LEN);
    sqlite3_bind_int(x, 9, r->vis_class);
    sqlite3_bind_int(x, 10, r->released ? 1 : 0);
    bind_blob(x, 11, r->has_inspection ? r->inspection : NULL, SC_ID_LEN);
    return exec_stmt(q, x, err, "put entity");
}

static sc_status q_entity_set_released(sd_store *s, const uint8_t id[SC_ID_LEN], sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENTITY_RELEASE, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, id, SC_ID_LEN);
    return exec_stmt(q, x, err, "release entity");
}

static sc_status scan_entities(sqlite_store *q, sqlite3_stmt *x, bool with_state, sd_entity_fn fn,
                               void *ctx, sc_err *err)
{
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, "scan entities");
            break;
        }
        sd_entity_row r;
        read_entity(x, &r);
        if (!with_state) {
            r.state = NULL;
            r.state_len = 0;
        }
        if (!fn(ctx, &r))
            break;
    }
    done(x);
    return out;
}

static sc_status q_entity_scan(sd_store *s, sd_entity_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENTITY_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    return scan_entities(q, x, true, fn, ctx, err);
}

static sc_status q_entity_type_scan(sd_store *s, int type, sd_entity_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENTITY_TYPE_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int(x, 1, type);
    return scan_entities(q, x, true, fn, ctx, err);
}

static sc_status q_entity_findings(sd_store *s, const uint8_t insp[SC_ID_LEN], sd_entity_fn fn,
                                   void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENTITY_FINDINGS, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, insp, SC_ID_LEN);
    return scan_entities(q, x, false, fn, ctx, err);
}

static sc_status q_entity_count(sd_store *s, uint64_t *out, sc_err *err)
{
    int64_t v = 0;
    sc_status rc = one_int(S(s), Q_ENTITY_COUNT, &v, err, "count entities");
    *out = (uint64_t)v;
    return rc;
}

static sc_status q_org_scan(sd_store *s, sd_org_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ORG_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, "scan org units");
            break;
        }
        uint8_t id[SC_ID_LEN], parent[SC_ID_LEN];
        col_fixed(x, 0, id, SC_ID_LEN);
        bool has = col_opt(x, 1, parent, SC_ID_LEN);
        if (!fn(ctx, id, has ? parent : NULL))
            break;
    }
    done(x);
    return out;
}

/* ---- codes ---- */

static sc_status q_code_find(sd_store *s, int kind, const char *code, uint32_t version,
                             uint8_t entity[SC_ID_LEN], sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_CODE_FIND, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int(x, 1, kind);
    sqlite3_bind_text(x, 2, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(x, 3, version);
    int rc = sqlite3_step(x);
    sc_status out = SC_OK;
    if (rc == SQLITE_ROW)
        col_fixed(x, 0, entity, SC_ID_LEN);
    else if (rc == SQLITE_DONE)
        out = SC_ERR_NOT_FOUND;
    else
        out = db_err(q, err, "find code");
    done(x);
    return out;
}

static sc_status q_code_put(sd_store *s, int kind, const char *code, uint32_t version,
                            const uint8_t entity[SC_ID_LEN], sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_CODE_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int(x, 1, kind);
    sqlite3_bind_text(x, 2, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(x, 3, version);
    bind_blob(x, 4, entity, SC_ID_LEN);
    return exec_stmt(q, x, err, "put code");
}

static sc_status q_code_scan(sd_store *s, sd_code_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_CODE_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, "scan codes");
            break;
        }
        uint8_t e[SC_ID_LEN];
        col_fixed(x, 3, e, SC_ID_LEN);
        if (!fn(ctx, sqlite3_column_int(x, 0), (const char *)sqlite3_column_text(x, 1),
                (uint32_t)sqlite3_column_int64(x, 2), e))
            break;
    }
    done(x);
    return out;
}

/* ---- devices ---- */

static void read_device(sqlite3_stmt *x, sd_device_row *r)
{
    memset(r, 0, sizeof *r);
    col_fixed(x, 0, r->key, SC_KEY_LEN);
    col_fixed(x, 1, r->device, SC_ID_LEN);
    col_fixed(x, 2, r->user, SC_ID_LEN);
    r->enrolled_idx = (uint64_t)sqlite3_column_int64(x, 3);
    r->revoked = sqlite3_column_type(x, 4) != SQLITE_NULL;
    r->revoked_idx = r->revoked ? (uint64_t)sqlite3_column_int64(x, 4) : 0;
}

static sc_status device_one(sqlite_store *q, int id, const uint8_t *key, size_t len,
                            sd_device_row *r, sc_err *err)
{
    memset(r, 0, sizeof *r);
    sqlite3_stmt *x = st(q, id, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, key, len);
    int rc = sqlite3_step(x);
    sc_status out = SC_OK;
    if (rc == SQLITE_ROW)
        read_device(x, r);
    else if (rc == SQLITE_DONE)
        out = SC_ERR_NOT_FOUND;
    else
        out = db_err(q, err, "get device");
    done(x);
    return out;
}

static sc_status q_device_get(sd_store *s, const uint8_t key[SC_KEY_LEN], sd_device_row *r,
                              sc_err *err)
{
    return device_one(S(s), Q_DEVICE_GET, key, SC_KEY_LEN, r, err);
}

static sc_status q_device_by_entity(sd_store *s, const uint8_t dev[SC_ID_LEN], sd_device_row *r,
                                    sc_err *err)
{
    return device_one(S(s), Q_DEVICE_BY_ENTITY, dev, SC_ID_LEN, r, err);
}

static sc_status q_device_put(sd_store *s, const sd_device_row *r, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_DEVICE_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, r->key, SC_KEY_LEN);
    bind_blob(x, 2, r->device, SC_ID_LEN);
    bind_blob(x, 3, r->user, SC_ID_LEN);
    sqlite3_bind_int64(x, 4, (sqlite3_int64)r->enrolled_idx);
    if (r->revoked)
        sqlite3_bind_int64(x, 5, (sqlite3_int64)r->revoked_idx);
    else
        sqlite3_bind_null(x, 5);
    return exec_stmt(q, x, err, "put device");
}

static sc_status q_device_revoke(sd_store *s, const uint8_t dev[SC_ID_LEN], uint64_t idx,
                                 sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_DEVICE_REVOKE, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, dev, SC_ID_LEN);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)idx);
    return exec_stmt(q, x, err, "revoke device");
}

typedef struct device_each {
    sd_device_fn fn;
    void *ctx;
} device_each;

static bool device_row(sqlite3_stmt *x, void *ctx)
{
    device_each *e = ctx;
    sd_device_row r;
    read_device(x, &r);
    return e->fn(e->ctx, &r);
}

static sc_status q_device_scan(sd_store *s, sd_device_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_DEVICE_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    device_each e = {fn, ctx};
    return each_row(q, x, device_row, &e, err, "scan devices");
}

static sc_status q_device_count(sd_store *s, uint64_t *out, sc_err *err)
{
    int64_t v = 0;
    sc_status rc = one_int(S(s), Q_DEVICE_COUNT, &v, err, "count devices");
    *out = (uint64_t)v;
    return rc;
}

/* ---- assignees ---- */

static sc_status q_assignee_put(sd_store *s, const uint8_t a[SC_ID_LEN], const uint8_t u[SC_ID_LEN],
                                sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ASSIGNEE_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, a, SC_ID_LEN);
    bind_blob(x, 2, u, SC_ID_LEN);
    return exec_stmt(q, x, err, "put assignee");
}

static sc_status q_assignee_has(sd_store *s, const uint8_t a[SC_ID_LEN], const uint8_t u[SC_ID_LEN],
                                sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ASSIGNEE_HAS, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, a, SC_ID_LEN);
    bind_blob(x, 2, u, SC_ID_LEN);
    int rc = sqlite3_step(x);
    sc_status out = rc == SQLITE_ROW    ? SC_OK
                    : rc == SQLITE_DONE ? SC_ERR_NOT_FOUND
                                        : db_err(q, err, "find assignee");
    done(x);
    return out;
}

static sc_status q_assignee_scan(sd_store *s, sd_pair_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ASSIGNEE_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, "scan assignees");
            break;
        }
        uint8_t a[SC_ID_LEN], u[SC_ID_LEN];
        col_fixed(x, 0, a, SC_ID_LEN);
        col_fixed(x, 1, u, SC_ID_LEN);
        if (!fn(ctx, a, u))
            break;
    }
    done(x);
    return out;
}

/* ---- photos named by ops ---- */

static sc_status q_photo_ref_put(sd_store *s, const uint8_t sha[SC_HASH_LEN],
                                 const uint8_t entity[SC_ID_LEN], uint64_t idx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_PHOTO_REF_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, sha, SC_HASH_LEN);
    bind_blob(x, 2, entity, SC_ID_LEN);
    sqlite3_bind_int64(x, 3, (sqlite3_int64)idx);
    return exec_stmt(q, x, err, "put photo reference");
}

static sc_status q_photo_refs(sd_store *s, const uint8_t sha[SC_HASH_LEN], sd_photo_ref_fn fn,
                              void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_PHOTO_REFS, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, sha, SC_HASH_LEN);
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, "find photo references");
            break;
        }
        uint8_t e[SC_ID_LEN];
        col_fixed(x, 0, e, SC_ID_LEN);
        if (!fn(ctx, e, (uint64_t)sqlite3_column_int64(x, 1)))
            break;
    }
    done(x);
    return out;
}

static sc_status q_photo_ref_count(sd_store *s, uint64_t *out, sc_err *err)
{
    int64_t v = 0;
    sc_status rc = one_int(S(s), Q_PHOTO_REF_COUNT, &v, err, "count photo references");
    *out = (uint64_t)v;
    return rc;
}

/* ---- enrollment codes ---- */

static sc_status q_enroll_put(sd_store *s, const sd_enroll_row *r, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENROLL_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, r->hash, SC_HASH_LEN);
    bind_blob(x, 2, r->user, SC_ID_LEN);
    sqlite3_bind_int64(x, 3, r->created_ms);
    sqlite3_bind_int64(x, 4, r->expires_ms);
    return exec_stmt(q, x, err, "put enrollment code");
}

/* A row of Q_ENROLL_GET or Q_ENROLL_SCAN. */
static void read_enroll(sqlite3_stmt *x, sd_enroll_row *r)
{
    memset(r, 0, sizeof *r);
    col_fixed(x, 0, r->hash, SC_HASH_LEN);
    col_fixed(x, 1, r->user, SC_ID_LEN);
    r->created_ms = sqlite3_column_int64(x, 2);
    r->expires_ms = sqlite3_column_int64(x, 3);
    r->used = sqlite3_column_type(x, 4) != SQLITE_NULL;
    r->used_ms = r->used ? sqlite3_column_int64(x, 4) : 0;
    r->has_device = col_opt(x, 5, r->device, SC_ID_LEN);
    r->revoked = sqlite3_column_type(x, 6) != SQLITE_NULL;
    r->revoked_ms = r->revoked ? sqlite3_column_int64(x, 6) : 0;
}

static sc_status q_enroll_get(sd_store *s, const uint8_t hash[SC_HASH_LEN], sd_enroll_row *r,
                              sc_err *err)
{
    sqlite_store *q = S(s);
    memset(r, 0, sizeof *r);
    sqlite3_stmt *x = st(q, Q_ENROLL_GET, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, hash, SC_HASH_LEN);
    int rc = sqlite3_step(x);
    sc_status out = SC_OK;
    if (rc == SQLITE_ROW)
        read_enroll(x, r);
    else if (rc == SQLITE_DONE)
        out = SC_ERR_NOT_FOUND;
    else
        out = db_err(q, err, "get enrollment code");
    done(x);
    return out;
}

typedef struct enroll_each {
    sd_enroll_fn fn;
    void *ctx;
} enroll_each;

static bool enroll_row(sqlite3_stmt *x, void *ctx)
{
    enroll_each *e = ctx;
    sd_enroll_row r;
    read_enroll(x, &r);
    return e->fn(e->ctx, &r);
}

static sc_status q_enroll_scan(sd_store *s, sd_enroll_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENROLL_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    enroll_each e = {fn, ctx};
    return each_row(q, x, enroll_row, &e, err, "scan enrollment codes");
}

static sc_status q_enroll_revoke(sd_store *s, const uint8_t hash[SC_HASH_LEN], int64_t now_ms,
                                 sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENROLL_REVOKE, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, hash, SC_HASH_LEN);
    sqlite3_bind_int64(x, 2, now_ms);
    sc_status rc = exec_stmt(q, x, err, "revoke enrollment code");
    if (rc == SC_OK && sqlite3_changes(q->db) != 1)
        rc = SC_ERR_NOT_FOUND;
    return rc;
}

static sc_status q_enroll_revoke_user(sd_store *s, const uint8_t user[SC_ID_LEN], int64_t now_ms,
                                      uint64_t *n, sc_err *err)
{
    sqlite_store *q = S(s);
    *n = 0;
    sqlite3_stmt *x = st(q, Q_ENROLL_REVOKE_USER, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, user, SC_ID_LEN);
    sqlite3_bind_int64(x, 2, now_ms);
    sc_status rc = exec_stmt(q, x, err, "revoke a user's enrollment codes");
    if (rc == SC_OK)
        *n = (uint64_t)sqlite3_changes(q->db);
    return rc;
}

/* ---- when devices were last seen ---- */

static sc_status q_seen_put(sd_store *s, const sd_seen_row *r, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_SEEN_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, r->key, SC_KEY_LEN);
    sqlite3_bind_int64(x, 2, r->seen_ms);
    sqlite3_bind_text(x, 3, r->agent, -1, SQLITE_STATIC);
    return exec_stmt(q, x, err, "note a device seen");
}

static sc_status q_seen_get(sd_store *s, const uint8_t key[SC_KEY_LEN], sd_seen_row *r, sc_err *err)
{
    sqlite_store *q = S(s);
    memset(r, 0, sizeof *r);
    sqlite3_stmt *x = st(q, Q_SEEN_GET, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, key, SC_KEY_LEN);
    int rc = sqlite3_step(x);
    sc_status out = SC_OK;
    if (rc == SQLITE_ROW) {
        memcpy(r->key, key, SC_KEY_LEN);
        r->seen_ms = sqlite3_column_int64(x, 0);
        const unsigned char *a = sqlite3_column_text(x, 1);
        snprintf(r->agent, sizeof r->agent, "%s", a ? (const char *)a : "");
    } else if (rc == SQLITE_DONE) {
        out = SC_ERR_NOT_FOUND;
    } else {
        out = db_err(q, err, "get a device's last sighting");
    }
    done(x);
    return out;
}

static sc_status q_enroll_use(sd_store *s, const uint8_t hash[SC_HASH_LEN], int64_t now_ms,
                              const uint8_t device[SC_ID_LEN], sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_ENROLL_USE, err);
    if (!x)
        return SC_ERR_STORAGE;
    bind_blob(x, 1, hash, SC_HASH_LEN);
    sqlite3_bind_int64(x, 2, now_ms);
    bind_blob(x, 3, device, SC_ID_LEN);
    sc_status rc = exec_stmt(q, x, err, "use enrollment code");
    if (rc == SC_OK && sqlite3_changes(q->db) != 1)
        rc = SC_ERR_NOT_FOUND;
    return rc;
}

/* ---- Merkle nodes ---- */

static sc_status q_node_get(sd_store *s, unsigned level, uint64_t index, uint8_t out[SC_HASH_LEN],
                            sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_NODE_GET, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int(x, 1, (int)level);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)index);
    int rc = sqlite3_step(x);
    sc_status r = SC_OK;
    if (rc == SQLITE_ROW)
        col_fixed(x, 0, out, SC_HASH_LEN);
    else if (rc == SQLITE_DONE)
        r = sc_err_set(err, SC_ERR_NOT_FOUND, 0, "register: no Merkle node (%u, %llu)", level,
                       (unsigned long long)index);
    else
        r = db_err(q, err, "get node");
    done(x);
    return r;
}

static sc_status q_node_range(sd_store *s, unsigned level, uint64_t from, size_t n,
                              uint8_t (*out)[SC_HASH_LEN], sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_NODE_RANGE, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int(x, 1, (int)level);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)from);
    sqlite3_bind_int64(x, 3, (sqlite3_int64)(from + n));
    return hash_rows(q, x, n, out, err, "Merkle nodes");
}

static sc_status q_node_put(sd_store *s, unsigned level, uint64_t index,
                            const uint8_t hash[SC_HASH_LEN], sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_NODE_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int(x, 1, (int)level);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)index);
    bind_blob(x, 3, hash, SC_HASH_LEN);
    return exec_stmt(q, x, err, "put node");
}

static sc_status q_node_count(sd_store *s, uint64_t *out, sc_err *err)
{
    int64_t v = 0;
    sc_status rc = one_int(S(s), Q_NODE_COUNT, &v, err, "count nodes");
    *out = (uint64_t)v;
    return rc;
}

static sc_status q_node_scan(sd_store *s,
                             bool (*fn)(void *ctx, unsigned level, uint64_t index,
                                        const uint8_t hash[SC_HASH_LEN]),
                             void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_NODE_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, "scan nodes");
            break;
        }
        uint8_t h[SC_HASH_LEN];
        col_fixed(x, 2, h, SC_HASH_LEN);
        if (!fn(ctx, (unsigned)sqlite3_column_int(x, 0), (uint64_t)sqlite3_column_int64(x, 1), h))
            break;
    }
    done(x);
    return out;
}

/* ---- checkpoints ---- */

static sc_status q_cp_put(sd_store *s, const sd_checkpoint_row *r, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_CP_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, (sqlite3_int64)r->size);
    bind_blob(x, 2, r->root, SC_HASH_LEN);
    sqlite3_bind_int64(x, 3, r->time_ms);
    sqlite3_bind_text(x, 4, r->note, (int)r->note_len, SQLITE_STATIC);
    return exec_stmt(q, x, err, "put checkpoint");
}

static void read_cp(sqlite3_stmt *x, sd_checkpoint_row *r)
{
    r->size = (uint64_t)sqlite3_column_int64(x, 0);
    col_fixed(x, 1, r->root, SC_HASH_LEN);
    r->time_ms = sqlite3_column_int64(x, 2);
    r->note = (const char *)sqlite3_column_text(x, 3);
    r->note_len = (size_t)sqlite3_column_bytes(x, 3);
}

static sc_status q_cp_latest(sd_store *s, sd_checkpoint_row *r, char **note, sc_err *err)
{
    sqlite_store *q = S(s);
    memset(r, 0, sizeof *r);
    *note = NULL;
    sqlite3_stmt *x = st(q, Q_CP_LATEST, err);
    if (!x)
        return SC_ERR_STORAGE;
    int rc = sqlite3_step(x);
    sc_status out = SC_OK;
    if (rc == SQLITE_ROW) {
        read_cp(x, r);
        char *copy = malloc(r->note_len + 1);
        if (!copy) {
            out = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
        } else {
            memcpy(copy, r->note ? r->note : "", r->note_len);
            copy[r->note_len] = '\0';
            *note = copy;
        }
        r->note = *note;
    } else if (rc == SQLITE_DONE) {
        out = sc_err_set(err, SC_ERR_NOT_FOUND, 0, "register: no checkpoint");
    } else {
        out = db_err(q, err, "latest checkpoint");
    }
    done(x);
    return out;
}

static sc_status q_cp_scan(sd_store *s, sd_checkpoint_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_CP_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, "scan checkpoints");
            break;
        }
        sd_checkpoint_row r;
        read_cp(x, &r);
        if (!fn(ctx, &r))
            break;
    }
    done(x);
    return out;
}

static sc_status q_cp_count(sd_store *s, uint64_t *out, sc_err *err)
{
    int64_t v = 0;
    sc_status rc = one_int(S(s), Q_CP_COUNT, &v, err, "count checkpoints");
    *out = (uint64_t)v;
    return rc;
}

/* ---- releases ---- */

static sc_status q_rel_put(sd_store *s, uint64_t seq, const uint8_t entity[SC_ID_LEN], uint64_t idx,
                           sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_REL_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, (sqlite3_int64)seq);
    bind_blob(x, 2, entity, SC_ID_LEN);
    sqlite3_bind_int64(x, 3, (sqlite3_int64)idx);
    return exec_stmt(q, x, err, "put release");
}

static sc_status q_rel_next(sd_store *s, uint64_t *out, sc_err *err)
{
    int64_t v = 0;
    sc_status rc = one_int(S(s), Q_REL_NEXT, &v, err, "next release");
    *out = (uint64_t)v;
    return rc;
}

static sc_status q_rel_scan(sd_store *s, sd_release_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_REL_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, "scan releases");
            break;
        }
        uint8_t e[SC_ID_LEN];
        col_fixed(x, 1, e, SC_ID_LEN);
        if (!fn(ctx, (uint64_t)sqlite3_column_int64(x, 0), e, (uint64_t)sqlite3_column_int64(x, 2)))
            break;
    }
    done(x);
    return out;
}

/* ---- pull ---- */

static sc_status scan_pull(sqlite_store *q, int id, uint64_t from, sd_pull_fn fn, void *ctx,
                           sc_err *err)
{
    sqlite3_stmt *x = st(q, id, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, from > INT64_MAX ? INT64_MAX : (sqlite3_int64)from);
    sc_status out = SC_OK;
    for (;;) {
        int rc = sqlite3_step(x);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            out = db_err(q, err, "pull");
            break;
        }
        sd_pull_row r;
        read_op(x, 0, &r.op);
        r.type = sqlite3_column_int(x, 9);
        r.vis_class = sqlite3_column_int(x, 10);
        r.released = sqlite3_column_int(x, 11) != 0;
        r.has_scope = col_opt(x, 12, r.scope_org, SC_ID_LEN);
        r.seq = (uint64_t)sqlite3_column_int64(x, 13);
        r.has_inspection = col_opt(x, 14, r.inspection, SC_ID_LEN);
        if (!fn(ctx, &r))
            break;
    }
    done(x);
    return out;
}

static sc_status q_pull_log(sd_store *s, uint64_t from, sd_pull_fn fn, void *ctx, sc_err *err)
{
    return scan_pull(S(s), Q_PULL_LOG, from, fn, ctx, err);
}

static sc_status q_pull_releases(sd_store *s, uint64_t from, sd_pull_fn fn, void *ctx, sc_err *err)
{
    return scan_pull(S(s), Q_PULL_REL, from, fn, ctx, err);
}

static sc_status q_limit_pages(sd_store *s, uint64_t extra, sc_err *err)
{
    sqlite_store *q = S(s);
    char text[96];
    sqlite3_stmt *x = NULL;
    int64_t pages = 0;
    if (sqlite3_prepare_v2(q->db, "PRAGMA page_count", -1, &x, NULL) != SQLITE_OK)
        return db_err(q, err, "page_count");
    if (sqlite3_step(x) == SQLITE_ROW)
        pages = sqlite3_column_int64(x, 0);
    sqlite3_finalize(x);
    snprintf(text, sizeof text, "PRAGMA max_page_count = %lld", (long long)(pages + (int64_t)extra));
    if (sqlite3_exec(q->db, text, NULL, NULL, NULL) != SQLITE_OK)
        return db_err(q, err, "max_page_count");
    return SC_OK;
}

/* ---- webhook deliveries ---- */

static sc_status q_notify_put(sd_store *s, sd_notify_row *r, bool *added, sc_err *err)
{
    sqlite_store *q = S(s);
    *added = false;
    sqlite3_stmt *x = st(q, Q_NOTIFY_PUT, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_text(x, 1, r->event, -1, SQLITE_STATIC);
    sqlite3_bind_text(x, 2, r->hook, -1, SQLITE_STATIC);
    sqlite3_bind_text(x, 3, r->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(x, 4, r->dedupe, -1, SQLITE_STATIC);
    sqlite3_bind_text(x, 5, r->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(x, 6, r->created_ms);
    sqlite3_bind_int(x, 7, r->state);
    sqlite3_bind_int64(x, 8, r->next_ms);
    sqlite3_bind_int64(x, 9, r->done_ms);
    sc_status rc = exec_stmt(q, x, err, "queue a webhook delivery");
    if (rc == SC_OK && sqlite3_changes(q->db) == 1) {
        *added = true;
        r->id = sqlite3_last_insert_rowid(q->db);
    }
    return rc;
}

static sc_status q_notify_pending(sd_store *s, const char *hook, uint64_t *out, sc_err *err)
{
    sqlite_store *q = S(s);
    *out = 0;
    sqlite3_stmt *x = st(q, hook ? Q_NOTIFY_COUNT_HOOK : Q_NOTIFY_COUNT, err);
    if (!x)
        return SC_ERR_STORAGE;
    if (hook)
        sqlite3_bind_text(x, 1, hook, -1, SQLITE_STATIC);
    int rc = sqlite3_step(x);
    sc_status out_rc = SC_OK;
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(x, 0);
    else
        out_rc = db_err(q, err, "count webhook deliveries");
    done(x);
    return out_rc;
}

static sc_status q_notify_due(sd_store *s, const char *hook, int64_t now_ms, bool *due,
                              sc_err *err)
{
    sqlite_store *q = S(s);
    *due = false;
    sqlite3_stmt *x = st(q, Q_NOTIFY_DUE, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_text(x, 1, hook, -1, SQLITE_STATIC);
    sqlite3_bind_int64(x, 2, now_ms);
    sc_status rc = SC_OK;
    if (sqlite3_step(x) == SQLITE_ROW)
        *due = sqlite3_column_int64(x, 0) > 0;
    else
        rc = db_err(q, err, "look for due webhook deliveries");
    done(x);
    return rc;
}

/* Each name once, in order: a seek for the least name after the last, not a scan of the rows. */
static sc_status q_notify_hooks(sd_store *s, sd_name_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    char after[SC_NOTIFY_HOOK_NAME_MAX + 1] = "";
    for (;;) {
        sqlite3_stmt *x = st(q, Q_NOTIFY_NEXT_HOOK, err);
        if (!x)
            return SC_ERR_STORAGE;
        sqlite3_bind_text(x, 1, after, -1, SQLITE_STATIC);
        if (sqlite3_step(x) != SQLITE_ROW) {
            sc_status rc = db_err(q, err, "list the hooks of pending webhook deliveries");
            done(x);
            return rc;
        }
        const unsigned char *t = sqlite3_column_text(x, 0);
        /* A name longer than any hook's (no syncd writes one) would repeat cut: stop there. */
        bool go = t && strlen((const char *)t) < sizeof after;
        if (go)
            snprintf(after, sizeof after, "%s", (const char *)t);
        done(x);
        if (!go || !fn(ctx, after))
            return SC_OK;
    }
}

typedef struct notify_each {
    sd_notify_fn fn;
    void *ctx;
} notify_each;

static void text_col(sqlite3_stmt *x, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(x, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static bool notify_row(sqlite3_stmt *x, void *ctx)
{
    notify_each *e = ctx;
    sd_notify_row r;
    memset(&r, 0, sizeof r);
    r.id = sqlite3_column_int64(x, 0);
    text_col(x, 1, r.event, sizeof r.event);
    text_col(x, 2, r.hook, sizeof r.hook);
    text_col(x, 3, r.type, sizeof r.type);
    const unsigned char *body = sqlite3_column_text(x, 4);
    r.body = body ? (const char *)body : "";
    r.created_ms = sqlite3_column_int64(x, 5);
    r.state = sqlite3_column_int(x, 6);
    r.attempts = (uint32_t)sqlite3_column_int64(x, 7);
    r.next_ms = sqlite3_column_int64(x, 8);
    r.done_ms = sqlite3_column_int64(x, 9);
    r.last_code = sqlite3_column_int(x, 10);
    const unsigned char *le = sqlite3_column_text(x, 11);
    r.last_error = le ? (const char *)le : "";
    return e->fn(e->ctx, &r);
}

static sc_status q_notify_claim(sd_store *s, const char *hook, int64_t now_ms, int64_t lease_ms,
                                unsigned limit, sd_notify_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_NOTIFY_CLAIM, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, now_ms);
    sqlite3_bind_int64(x, 2, now_ms + lease_ms);
    sqlite3_bind_int64(x, 3, limit);
    sqlite3_bind_text(x, 4, hook, -1, SQLITE_STATIC);
    notify_each e = {fn, ctx};
    /* Every row is stepped (the UPDATE completes) even when fn stops early. */
    sc_status rc = SC_OK;
    bool go = true;
    for (;;) {
        int step = sqlite3_step(x);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = db_err(q, err, "claim webhook deliveries");
            break;
        }
        if (go)
            go = notify_row(x, &e);
    }
    done(x);
    return rc;
}

static sc_status q_notify_finish(sd_store *s, const sd_notify_row *r, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_NOTIFY_FINISH, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, r->id);
    sqlite3_bind_int(x, 2, r->state);
    sqlite3_bind_int64(x, 3, r->attempts);
    sqlite3_bind_int64(x, 4, r->next_ms);
    sqlite3_bind_int64(x, 5, r->done_ms);
    sqlite3_bind_int(x, 6, r->last_code);
    sqlite3_bind_text(x, 7, r->last_error ? r->last_error : "", -1, SQLITE_STATIC);
    return exec_stmt(q, x, err, "record a webhook delivery");
}

static sc_status q_notify_scan(sd_store *s, sd_notify_fn fn, void *ctx, sc_err *err)
{
    sqlite_store *q = S(s);
    sqlite3_stmt *x = st(q, Q_NOTIFY_SCAN, err);
    if (!x)
        return SC_ERR_STORAGE;
    notify_each e = {fn, ctx};
    return each_row(q, x, notify_row, &e, err, "scan webhook deliveries");
}

static sc_status q_notify_retry(sd_store *s, int64_t id, int state, int64_t now_ms, uint64_t *n,
                                sc_err *err)
{
    sqlite_store *q = S(s);
    *n = 0;
    sqlite3_stmt *x = st(q, id ? Q_NOTIFY_RETRY_ONE : Q_NOTIFY_RETRY_ALL, err);
    if (!x)
        return SC_ERR_STORAGE;
    sqlite3_bind_int64(x, 1, id);
    sqlite3_bind_int(x, 2, state);
    sqlite3_bind_int64(x, 3, now_ms);
    sc_status rc = exec_stmt(q, x, err, "queue webhook deliveries again");
    if (rc == SC_OK)
        *n = (uint64_t)sqlite3_changes(q->db);
    return rc;
}

static sc_status q_schema_check(sd_store *s, char *problem, size_t cap, sc_err *err)
{
    sqlite_store *q = (sqlite_store *)s;
    return sd_sqlite_schema_check(q->db, q->path, problem, cap, err);
}

static const sd_store_vt vt = {
    .close = q_close,
    .begin = q_begin,
    .commit = q_commit,
    .rollback = q_rollback,
    .data_version = q_data_version,
    .meta_get = q_meta_get,
    .meta_put = q_meta_put,
    .log_size = q_log_size,
    .op_append = q_op_append,
    .op_scan = q_op_scan,
    .entity_ops = q_entity_ops,
    .leaf_get = q_leaf_get,
    .leaf_range = q_leaf_range,
    .entity_get = q_entity_get,
    .entity_put = q_entity_put,
    .entity_set_released = q_entity_set_released,
    .entity_scan = q_entity_scan,
    .entity_type_scan = q_entity_type_scan,
    .op_scan_by = q_op_scan_by,
    .entity_findings = q_entity_findings,
    .entity_count = q_entity_count,
    .org_scan = q_org_scan,
    .code_find = q_code_find,
    .code_put = q_code_put,
    .code_scan = q_code_scan,
    .device_get = q_device_get,
    .device_by_entity = q_device_by_entity,
    .device_put = q_device_put,
    .device_revoke = q_device_revoke,
    .device_scan = q_device_scan,
    .device_count = q_device_count,
    .assignee_put = q_assignee_put,
    .assignee_has = q_assignee_has,
    .assignee_scan = q_assignee_scan,
    .enroll_put = q_enroll_put,
    .enroll_get = q_enroll_get,
    .enroll_use = q_enroll_use,
    .enroll_scan = q_enroll_scan,
    .enroll_revoke = q_enroll_revoke,
    .enroll_revoke_user = q_enroll_revoke_user,
    .seen_put = q_seen_put,
    .seen_get = q_seen_get,
    .node_get = q_node_get,
    .node_range = q_node_range,
    .node_put = q_node_put,
    .node_count = q_node_count,
    .node_scan = q_node_scan,
    .checkpoint_put = q_cp_put,
    .checkpoint_latest = q_cp_latest,
    .checkpoint_scan = q_cp_scan,
    .checkpoint_count = q_cp_count,
    .release_put = q_rel_put,
    .release_next_seq = q_rel_next,
    .release_scan = q_rel_scan,
    .pull_log = q_pull_log,
    .pull_releases = q_pull_releases,
    .photo_ref_put = q_photo_ref_put,
    .photo_refs = q_photo_refs,
    .photo_ref_count = q_photo_ref_count,
    .limit_pages = q_limit_pages,
    .set_writer = q_set_writer,
    .notify_put = q_notify_put,
    .notify_pending = q_notify_pending,
    .notify_hooks = q_notify_hooks,
    .notify_due = q_notify_due,
    .notify_claim = q_notify_claim,
    .notify_finish = q_notify_finish,
    .notify_scan = q_notify_scan,
    .notify_retry = q_notify_retry,
    .schema_check = q_schema_check,
};

sc_status sd_store_sqlite_open(const char *path, bool create, sd_store **out, sc_err *err)
{
    *out = NULL;
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (create && exists)
        return sc_err_set(err, SC_ERR_EXISTS, 0, "register %s already exists", path);
    if (!create && !exists)
        return sc_err_set(err, SC_ERR_NOT_FOUND, 0,
                          "no register at %s (run `syncd init --data DIR` first)", path);
    sqlite_store *q = calloc(1, sizeof *q);
    if (!q)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
    q->base.vt = &vt;
    size_t pl = strlen(path);
    q->path = malloc(pl + 1);
    if (!q->path) {
        free(q);
        return sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
    }
    memcpy(q->path, path, pl + 1);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    sc_status rc = SC_OK;
    if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK) {
        rc = q->db ? db_err(q, err, "open")
                   : sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "register: cannot open %s", path);
        goto fail;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA cache_size = -%d;",
             READER_CACHE_KIB);
    if (sqlite3_exec(q->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_err(q, err, "configure");
        goto fail;
    }
    if (create) {
        char *msg = NULL;
        if (sqlite3_exec(q->db, SD_SQL_SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
            rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "register: create schema: %s",
                            msg ? msg : "?");
            sqlite3_free(msg);
            goto fail;
        }
        char v[16];
        snprintf(v, sizeof v, "%d", SD_SCHEMA_VERSION);
        rc = q_meta_put(&q->base, "schema_version", v, strlen(v), err);
        if (rc != SC_OK)
            goto fail;
    } else if ((rc = sd_store_check_version(&q->base, path, err)) != SC_OK) {
        goto fail;
    }
    *out = &q->base;
    return SC_OK;
fail:
    for (int i = 0; i < Q_COUNT_; i++)
        sqlite3_finalize(q->stmt[i]);
    sqlite3_close_v2(q->db);
    free(q->path);
    free(q);
    return rc;
}
