/*
 * store_pg.c: the PostgreSQL backend of store.h, over libpq, for several
 * `syncd serve` processes sharing one register (docs/operations.md,
 * "Several syncd on PostgreSQL"; docs/design-changes.md says why the log
 * stays one sequence).
 *
 * Transactions:
 *  - A write transaction is READ COMMITTED and first takes a
 *    transaction-scoped advisory lock (SD_PG_WRITE_LOCK): every writer of
 *    every process on the register waits for it, so write transactions run
 *    one at a time, as SQLite's BEGIN IMMEDIATE makes them, and each
 *    statement after the lock sees every earlier writer's commit (the log
 *    size, the frontier, the release sequence read after it are current).
 *    The lock goes with COMMIT or ROLLBACK, or with the connection when a
 *    process dies.
 *  - A read transaction is REPEATABLE READ, READ ONLY: one snapshot.
 *  - Outside a transaction each call is its own (autocommit).
 *
 * Statements are prepared once per connection (binary parameters and
 * results).  The scans of whole tables (the log, entities, devices, codes,
 * checkpoints, releases, pulls) read through a cursor, SC_PG_FETCH_ROWS
 * rows at a time, so their memory is bounded whatever the table's size
 * and a callback that stops early stops the reading; other statements may
 * run on the connection between fetches.  A scan outside a transaction
 * opens a read transaction of its own for its cursor.
 *
 * Every error PostgreSQL reports becomes SC_ERR_STORAGE with its message
 * (never the password: sd_pg_scrub); an error aborts the transaction, and
 * the caller rolls back (as with SQLite).
 */
#include "store.h"
#include "store_pg.h"
#include "store_pg_schema.h"
#include "core/reason.h"

#include <endian.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The advisory lock every write transaction takes: one key for the
 * register (advisory locks are per database, so registers in other
 * databases of the same server never wait for each other).  The digits
 * spell "sc-wlog".
 */
#define SD_PG_WRITE_LOCK "7363776c6f67"

enum {
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
    Q_NONCE_CLAIM,
    Q_NONCE_SWEEP,
    Q_NOTIFY_PUT,
    Q_NOTIFY_COUNT,
    Q_NOTIFY_COUNT_HOOK,
    Q_NOTIFY_NEXT_HOOK,
    Q_NOTIFY_DUE,
    Q_NOTIFY_CLAIM,
    Q_NOTIFY_FINISH,
    Q_NOTIFY_RETRY_ONE,
    Q_NOTIFY_RETRY_ALL,
    Q_COUNT_
};

#define OP_COLS "idx, op_id, entity, author, kind, hlc, received_ms, signed, leaf_hash"
#define ENT_COLS_NOSTATE                                                                           \
    "id, type, op_count, last_idx, NULL::bytea, state_hash, target, scope_org, vis_class, "        \
    "released, inspection"
#define ENT_COLS                                                                                   \
    "id, type, op_count, last_idx, state, state_hash, target, scope_org, vis_class, released, "    \
    "inspection"
#define ENROLL_COLS "hash, \"user\", created_ms, expires_ms, used_ms, device, revoked_ms"
#define DEV_COLS "key, device, \"user\", enrolled_idx, revoked_idx"
#define PULL_COLS                                                                                  \
    "o.idx, o.op_id, o.entity, o.author, o.kind, o.hlc, o.received_ms, o.signed, o.leaf_hash, "    \
    "e.type, e.vis_class, e.released, e.scope_org, "

#define NOTIFY_COLS                                                                                \
    "id, event, hook, type, body, created_ms, state, attempts, next_ms, done_ms, last_code, "      \
    "last_error"

static const char *const sql[Q_COUNT_] = {
    [Q_NOTIFY_PUT] = "INSERT INTO notify(event, hook, type, dedupe, body, created_ms, state, "
                     "next_ms, done_ms) VALUES($1::text, $2::text, $3::text, $4::text, $5::text, "
                     "$6::bigint, $7::bigint, $8::bigint, $9::bigint) "
                     "ON CONFLICT(dedupe, hook) DO NOTHING RETURNING id",
    /*
     * The pending rows' queries name state 0 (not a parameter: a generic
     * plan could not use a partial index then) and one hook, so that they
     * read only notify_pending (hook, next_ms, id) and never a row of
     * another hook: one hook's backlog costs the others nothing.
     */
    [Q_NOTIFY_COUNT] = "SELECT count(*)::bigint FROM notify WHERE state = 0",
    [Q_NOTIFY_COUNT_HOOK] = "SELECT count(*)::bigint FROM notify WHERE state = 0 AND hook = "
                            "$1::text",
    [Q_NOTIFY_NEXT_HOOK] = "SELECT min(hook) FROM notify WHERE state = 0 AND hook > $1::text",
    /* The claim's order, which the index gives free: without it a generic plan may scan. */
    [Q_NOTIFY_DUE] = "SELECT count(*)::bigint FROM (SELECT 1 FROM notify WHERE state = 0 AND "
                     "hook = $1::text AND next_ms <= $2::bigint AND claim_until <= $2::bigint "
                     "ORDER BY next_ms, id LIMIT 1) AS due",
    /* SKIP LOCKED: a row another syncd is claiming is left to it, never waited for. */
    [Q_NOTIFY_CLAIM] = "UPDATE notify SET claim_until = $2::bigint WHERE id IN (SELECT id FROM "
                       "notify WHERE state = 0 AND hook = $4::text AND next_ms <= $1::bigint AND "
                       "claim_until <= $1::bigint ORDER BY next_ms, id LIMIT $3::bigint FOR UPDATE "
                       "SKIP LOCKED) RETURNING " NOTIFY_COLS,
    [Q_NOTIFY_FINISH] = "UPDATE notify SET state = $2::bigint, attempts = $3::bigint, next_ms = "
                        "$4::bigint, done_ms = $5::bigint, last_code = $6::bigint, last_error = "
                        "$7::text, claim_until = 0 WHERE id = $1::bigint",
    [Q_NOTIFY_RETRY_ONE] = "UPDATE notify SET state = 0, attempts = 0, next_ms = $3::bigint, "
                           "done_ms = 0, claim_until = 0 WHERE id = $1::bigint AND state = "
                           "$2::bigint",
    [Q_NOTIFY_RETRY_ALL] = "UPDATE notify SET state = 0, attempts = 0, next_ms = $3::bigint, "
                           "done_ms = 0, claim_until = 0 WHERE $1::bigint = 0 AND state = "
                           "$2::bigint",
    [Q_DATA_VERSION] = "SELECT n FROM generation",
    [Q_META_GET] = "SELECT value FROM meta WHERE key = $1::text",
    [Q_META_PUT] = "INSERT INTO meta(key, value) VALUES($1::text, $2::bytea) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [Q_LOG_SIZE] = "SELECT coalesce(max(idx) + 1, 0)::bigint FROM ops",
    [Q_OP_APPEND] = "INSERT INTO ops(" OP_COLS ") VALUES($1::bigint, $2::bytea, $3::bytea, "
                    "$4::bytea, $5::bigint, $6::bigint, $7::bigint, $8::bytea, $9::bytea)",
    [Q_OP_SCAN] = "SELECT " OP_COLS " FROM ops WHERE idx >= $1::bigint AND idx < $2::bigint "
                  "ORDER BY idx",
    [Q_ENTITY_OPS] = "SELECT " OP_COLS " FROM ops WHERE entity = $1::bytea ORDER BY idx",
    [Q_LEAF_GET] = "SELECT leaf_hash FROM ops WHERE idx = $1::bigint",
    [Q_LEAF_RANGE] = "SELECT leaf_hash FROM ops WHERE idx >= $1::bigint AND idx < $2::bigint "
                     "ORDER BY idx",
    [Q_ENTITY_GET] = "SELECT " ENT_COLS_NOSTATE " FROM entities WHERE id = $1::bytea",
    [Q_ENTITY_GET_STATE] = "SELECT " ENT_COLS " FROM entities WHERE id = $1::bytea",
    [Q_ENTITY_PUT] = "INSERT INTO entities(" ENT_COLS ") VALUES($1::bytea, $2::bigint, "
                     "$3::bigint, $4::bigint, $5::bytea, $6::bytea, $7::bytea, $8::bytea, "
                     "$9::bigint, $10::boolean, $11::bytea) "
                     "ON CONFLICT(id) DO UPDATE SET type = excluded.type, "
                     "op_count = excluded.op_count, last_idx = excluded.last_idx, "
                     "state = excluded.state, state_hash = excluded.state_hash, "
                     "target = excluded.target, scope_org = excluded.scope_org, "
                     "vis_class = excluded.vis_class, released = excluded.released, "
                     "inspection = excluded.inspection",
    [Q_ENTITY_RELEASE] = "UPDATE entities SET released = true WHERE id = $1::bytea",
    [Q_ENTITY_SCAN] = "SELECT " ENT_COLS " FROM entities ORDER BY id",
    [Q_ENTITY_TYPE_SCAN] = "SELECT " ENT_COLS " FROM entities WHERE type = $1::bigint ORDER BY id",
    [Q_ENTITY_FINDINGS] = "SELECT " ENT_COLS_NOSTATE " FROM entities WHERE inspection = "
                          "$1::bytea ORDER BY id",
    [Q_ENTITY_COUNT] = "SELECT count(*) FROM entities",
    [Q_ORG_SCAN] = "SELECT id, scope_org FROM entities WHERE type = 1",
    [Q_CODE_FIND] = "SELECT entity FROM codes WHERE kind = $1::bigint AND code = $2::text AND "
                    "version = $3::bigint",
    [Q_CODE_PUT] = "INSERT INTO codes(kind, code, version, entity) VALUES($1::bigint, $2::text, "
                   "$3::bigint, $4::bytea)",
    [Q_CODE_SCAN] = "SELECT kind, code, version, entity FROM codes ORDER BY kind, code, version",
    [Q_DEVICE_GET] = "SELECT " DEV_COLS " FROM devices WHERE key = $1::bytea",
    [Q_DEVICE_BY_ENTITY] = "SELECT " DEV_COLS " FROM devices WHERE device = $1::bytea",
    [Q_DEVICE_PUT] = "INSERT INTO devices(" DEV_COLS ") VALUES($1::bytea, $2::bytea, $3::bytea, "
                     "$4::bigint, $5::bigint)",
    [Q_DEVICE_REVOKE] = "UPDATE devices SET revoked_idx = $2::bigint WHERE device = $1::bytea "
                        "AND revoked_idx IS NULL",
    [Q_DEVICE_SCAN] = "SELECT " DEV_COLS " FROM devices ORDER BY enrolled_idx",
    [Q_DEVICE_COUNT] = "SELECT count(*) FROM devices WHERE revoked_idx IS NULL",
    [Q_ASSIGNEE_PUT] = "INSERT INTO assignees(assignment, \"user\") VALUES($1::bytea, $2::bytea) "
                       "ON CONFLICT DO NOTHING",
    [Q_ASSIGNEE_HAS] = "SELECT 1 FROM assignees WHERE assignment = $1::bytea AND \"user\" = "
                       "$2::bytea",
    [Q_ASSIGNEE_SCAN] = "SELECT assignment, \"user\" FROM assignees ORDER BY assignment, \"user\"",
    [Q_ENROLL_PUT] = "INSERT INTO enroll_codes(hash, \"user\", created_ms, expires_ms) "
                     "VALUES($1::bytea, $2::bytea, $3::bigint, $4::bigint)",
    [Q_ENROLL_GET] = "SELECT " ENROLL_COLS " FROM enroll_codes WHERE hash = $1::bytea",
    [Q_ENROLL_USE] = "UPDATE enroll_codes SET used_ms = $2::bigint, device = $3::bytea "
                     "WHERE hash = $1::bytea AND used_ms IS NULL AND revoked_ms IS NULL",
    [Q_ENROLL_SCAN] = "SELECT " ENROLL_COLS " FROM enroll_codes ORDER BY created_ms, hash",
    [Q_ENROLL_REVOKE] = "UPDATE enroll_codes SET revoked_ms = $2::bigint WHERE hash = $1::bytea "
                        "AND used_ms IS NULL AND revoked_ms IS NULL AND expires_ms > $2::bigint",
    [Q_ENROLL_REVOKE_USER] = "UPDATE enroll_codes SET revoked_ms = $2::bigint WHERE \"user\" = "
                             "$1::bytea AND used_ms IS NULL AND revoked_ms IS NULL AND "
                             "expires_ms > $2::bigint",
    [Q_SEEN_PUT] = "INSERT INTO device_seen(key, seen_ms, agent) VALUES($1::bytea, $2::bigint, "
                   "$3::text) ON CONFLICT(key) DO UPDATE SET seen_ms = "
                   "greatest(device_seen.seen_ms, excluded.seen_ms), agent = excluded.agent",
    [Q_SEEN_GET] = "SELECT seen_ms, agent FROM device_seen WHERE key = $1::bytea",
    [Q_NODE_GET] = "SELECT hash FROM merkle WHERE level = $1::bigint AND idx = $2::bigint",
    [Q_NODE_RANGE] = "SELECT hash FROM merkle WHERE level = $1::bigint AND idx >= $2::bigint AND "
                     "idx < $3::bigint ORDER BY idx",
    [Q_NODE_PUT] = "INSERT INTO merkle(level, idx, hash) VALUES($1::bigint, $2::bigint, $3::bytea) "
                   "ON CONFLICT(level, idx) DO UPDATE SET hash = excluded.hash",
    [Q_NODE_COUNT] = "SELECT count(*) FROM merkle",
    [Q_NODE_SCAN] = "SELECT level, idx, hash FROM merkle ORDER BY level, idx",
    [Q_CP_PUT] = "INSERT INTO checkpoints(size, root, time_ms, note) VALUES($1::bigint, $2::bytea, "
                 "$3::bigint, $4::text)",
    [Q_CP_LATEST] = "SELECT size, root, time_ms, note FROM checkpoints ORDER BY size DESC LIMIT 1",
    [Q_CP_SCAN] = "SELECT size, root, time_ms, note FROM checkpoints ORDER BY size",
    [Q_CP_COUNT] = "SELECT count(*) FROM checkpoints",
    [Q_REL_PUT] = "INSERT INTO releases(seq, entity, idx) VALUES($1::bigint, $2::bytea, "
                  "$3::bigint)",
    [Q_REL_NEXT] = "SELECT coalesce(max(seq) + 1, 0)::bigint FROM releases",
    [Q_REL_SCAN] = "SELECT seq, entity, idx FROM releases ORDER BY seq",
    [Q_PULL_LOG] = "SELECT " PULL_COLS "0::bigint, e.inspection FROM ops o JOIN entities e ON "
                   "e.id = o.entity WHERE o.idx >= $1::bigint ORDER BY o.idx",
    [Q_PULL_REL] = "SELECT " PULL_COLS "r.seq, e.inspection FROM releases r JOIN ops o ON o.idx "
                   "= r.idx JOIN entities e ON e.id = r.entity WHERE r.seq >= $1::bigint "
                   "ORDER BY r.seq",
    [Q_PHOTO_REF_PUT] = "INSERT INTO photo_refs(sha, entity, idx) VALUES($1::bytea, $2::bytea, "
                        "$3::bigint) ON CONFLICT DO NOTHING",
    [Q_PHOTO_REFS] = "SELECT entity, idx FROM photo_refs WHERE sha = $1::bytea ORDER BY entity",
    [Q_PHOTO_REF_COUNT] = "SELECT count(*) FROM photo_refs",
    [Q_NONCE_CLAIM] = "INSERT INTO nonces(device, nonce, time_ms) VALUES($1::bytea, $2::bytea, "
                      "$3::bigint) ON CONFLICT DO NOTHING",
    [Q_NONCE_SWEEP] = "DELETE FROM nonces WHERE time_ms < $1::bigint",
};

typedef struct pg_store {
    sd_store base; /* must be first */
    PGconn *db;
    bool prepared[Q_COUNT_];
    bool in_txn;
    bool writing;       /* the open transaction is a write transaction */
    int64_t own_bumps;  /* generation raises this connection committed */
    unsigned cursors;   /* names the next cursor */
    char secret[SC_STORE_URL_MAX]; /* the password in the URL, scrubbed from messages; may be "" */
    char shown[SC_STORE_URL_MAX];  /* the URL without its password, for messages */
} pg_store;

static pg_store *P(sd_store *s)
{
    return (pg_store *)(void *)s;
}

/* ---- errors ---- */

static sc_status pg_err(pg_store *q, const PGresult *res, sc_err *err, const char *what)
{
    const char *m = res ? PQresultErrorMessage(res) : "";
    if (!m || !m[0])
        m = PQerrorMessage(q->db);
    char msg[SC_ERR_MSG_MAX];
    sd_pg_scrub(m, q->secret, msg, sizeof msg);
    return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "register: %s: %s", what, msg);
}

/* ---- parameters (binary) and result columns ---- */

#define ARGS_MAX 12

typedef struct pq_args {
    int n;
    const char *v[ARGS_MAX];
    int len[ARGS_MAX];
    int fmt[ARGS_MAX];
    uint64_t num[ARGS_MAX];
} pq_args;

static void a_int(pq_args *a, int64_t x)
{
    a->num[a->n] = htobe64((uint64_t)x);
    a->v[a->n] = (const char *)&a->num[a->n];
    a->len[a->n] = 8;
    a->fmt[a->n] = 1;
    a->n++;
}

/* Bytes (bytea, or text's bytes); NULL is SQL NULL. */
static void a_bytes(pq_args *a, const void *p, size_t n)
{
    a->v[a->n] = p;
    a->len[a->n] = (int)n;
    a->fmt[a->n] = 1;
    a->n++;
}

static void a_text(pq_args *a, const char *s)
{
    a_bytes(a, s, strlen(s));
}

static void a_bool(pq_args *a, bool b)
{
    a_bytes(a, b ? "\1" : "\0", 1);
}

static int64_t c_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
        return 0;
    uint64_t v;
    memcpy(&v, PQgetvalue(r, row, col), 8);
    return (int64_t)be64toh(v);
}

static bool c_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) != 0;
}

static bool c_bool(const PGresult *r, int row, int col)
{
    return !c_null(r, row, col) && PQgetlength(r, row, col) == 1 && PQgetvalue(r, row, col)[0];
}

static const uint8_t *c_bytes(const PGresult *r, int row, int col, size_t *len)
{
    *len = (size_t)PQgetlength(r, row, col);
    return (const uint8_t *)PQgetvalue(r, row, col);
}

static void c_fixed(const PGresult *r, int row, int col, uint8_t *out, size_t n)
{
    if (!c_null(r, row, col) && (size_t)PQgetlength(r, row, col) == n)
        memcpy(out, PQgetvalue(r, row, col), n);
    else
        memset(out, 0, n);
}

static bool c_opt(const PGresult *r, int row, int col, uint8_t *out, size_t n)
{
    if (c_null(r, row, col)) {
        memset(out, 0, n);
        return false;
    }
    c_fixed(r, row, col, out, n);
    return true;
}

/* ---- running statements ---- */

/* Run statement id (prepared on first use); NULL on error (err set).  The caller PQclears. */
static PGresult *run(pg_store *q, int id, const pq_args *a, sc_err *err, const char *what)
{
    char name[16];
    snprintf(name, sizeof name, "q%d", id);
    if (!q->prepared[id]) {
        PGresult *p = PQprepare(q->db, name, sql[id], 0, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            pg_err(q, p, err, what);
            PQclear(p);
            return NULL;
        }
        PQclear(p);
        q->prepared[id] = true;
    }
    PGresult *r = PQexecPrepared(q->db, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                                 a ? a->fmt : NULL, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        pg_err(q, r, err, what);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* A statement that returns no rows; *changed (may be NULL) gets the rows it changed. */
static sc_status exec_q(pg_store *q, int id, const pq_args *a, uint64_t *changed, sc_err *err,
                        const char *what)
{
    PGresult *r = run(q, id, a, err, what);
    if (!r)
        return SC_ERR_STORAGE;
    if (changed)
        *changed = strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return SC_OK;
}

/* A statement returning one integer. */
static sc_status one_int(pg_store *q, int id, const pq_args *a, int64_t *out, sc_err *err,
                         const char *what)
{
    *out = 0;
    PGresult *r = run(q, id, a, err, what);
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = SC_OK;
    if (PQntuples(r) == 1)
        *out = c_int(r, 0, 0);
    else
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "register: %s: no row", what);
    PQclear(r);
    return rc;
}

static sc_status one_uint(pg_store *q, int id, uint64_t *out, sc_err *err, const char *what)
{
    int64_t v = 0;
    sc_status rc = one_int(q, id, NULL, &v, err, what);
    *out = rc == SC_OK && v > 0 ? (uint64_t)v : 0;
    return rc;
}

/* Run plain SQL text (no parameters, no rows wanted). */
static sc_status exec_text(pg_store *q, const char *text, sc_err *err, const char *what)
{
    PGresult *r = PQexec(q->db, text);
    ExecStatusType st = PQresultStatus(r);
    sc_status rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? SC_OK : pg_err(q, r, err, what);
    PQclear(r);
    return rc;
}

/* A row callback of a scan: false stops it. */
typedef bool (*row_fn)(const PGresult *r, int row, void *ctx);

static sc_status scan_rows(pg_store *q, const char *cursor, row_fn fn, void *ctx, sc_err *err,
                           const char *what)
{
    char fetch[64];
    snprintf(fetch, sizeof fetch, "FETCH %d FROM %s", SC_PG_FETCH_ROWS, cursor);
    for (;;) {
        PGresult *r = PQexecParams(q->db, fetch, 0, NULL, NULL, NULL, NULL, 1);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            sc_status rc = pg_err(q, r, err, what);
            PQclear(r);
            return rc;
        }
        int n = PQntuples(r);
        bool go = true;
        for (int i = 0; i < n && go; i++)
            go = fn(r, i, ctx);
        PQclear(r);
        if (!go || n < SC_PG_FETCH_ROWS)
            return SC_OK;
    }
}

/*
 * Scan statement id's rows through a cursor, in a read transaction of its
 * own when none is open.
 */
static sc_status scan(pg_store *q, const char *query, const pq_args *a, row_fn fn, void *ctx,
                      sc_err *err, const char *what)
{
    bool own = !q->in_txn;
    if (own) {
        sc_status rc = exec_text(q, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err, what);
        if (rc != SC_OK)
            return rc;
        q->in_txn = true;
    }
    char cursor[24], *decl = NULL;
    snprintf(cursor, sizeof cursor, "sc_scan%u", q->cursors++);
    size_t cap = strlen(query) + 96;
    sc_status rc = SC_OK;
    if (!(decl = malloc(cap))) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
        goto end;
    }
    snprintf(decl, cap, "DECLARE %s BINARY NO SCROLL CURSOR FOR %s", cursor, query);
    PGresult *r = PQexecParams(q->db, decl, a ? a->n : 0, NULL, a ? a->v : NULL,
                               a ? a->len : NULL, a ? a->fmt : NULL, 1);
    rc = PQresultStatus(r) == PGRES_COMMAND_OK ? SC_OK : pg_err(q, r, err, what);
    PQclear(r);
    if (rc == SC_OK)
        rc = scan_rows(q, cursor, fn, ctx, err, what);
    if (rc == SC_OK) {
        char close[48];
        snprintf(close, sizeof close, "CLOSE %s", cursor);
        rc = exec_text(q, close, err, what);
    }
end:
    free(decl);
    if (own) {
        sc_err e2;
        if (rc != SC_OK || exec_text(q, "COMMIT", &e2, what) != SC_OK)
            exec_text(q, "ROLLBACK", &e2, what);
        q->in_txn = false;
    }
    return rc;
}

/* Run id and hand each row to fn, all rows at once (for small, bounded answers). */
static sc_status each(pg_store *q, int id, const pq_args *a, row_fn fn, void *ctx, sc_err *err,
                      const char *what)
{
    PGresult *r = run(q, id, a, err, what);
    if (!r)
        return SC_ERR_STORAGE;
    int n = PQntuples(r);
    for (int i = 0; i < n && fn(r, i, ctx); i++)
        ;
    PQclear(r);
    return SC_OK;
}

/* ---- lifecycle and transactions ---- */

static void g_close(sd_store *s)
{
    pg_store *q = P(s);
    if (!q)
        return;
    PQfinish(q->db);
    sodium_memzero(q->secret, sizeof q->secret);
    free(q);
}

static sc_status g_set_writer(sd_store *s, sc_err *err)
{
    (void)s;
    (void)err;
    return SC_OK;
}

/* A connection that broke (the server restarted, a failover) is made again between transactions. */
static void reconnect_if_broken(pg_store *q)
{
    if (PQstatus(q->db) != CONNECTION_BAD)
        return;
    PQreset(q->db);
    memset(q->prepared, 0, sizeof q->prepared);
}

static sc_status g_begin(sd_store *s, bool write, sc_err *err)
{
    pg_store *q = P(s);
    reconnect_if_broken(q);
    const char *text = write ? "BEGIN ISOLATION LEVEL READ COMMITTED; "
                               "SELECT pg_advisory_xact_lock(x'" SD_PG_WRITE_LOCK "'::bigint)"
                             : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    sc_status rc = exec_text(q, text, err, write ? "begin write" : "begin read");
    if (rc != SC_OK) {
        sc_err e2;
        exec_text(q, "ROLLBACK", &e2, "rollback");
        return rc;
    }
    q->in_txn = true;
    q->writing = write;
    return SC_OK;
}

static sc_status g_commit(sd_store *s, sc_err *err)
{
    pg_store *q = P(s);
    sc_status rc = SC_OK;
    if (q->writing)
        rc = exec_text(q, "UPDATE generation SET n = n + 1", err, "commit");
    if (rc == SC_OK)
        rc = exec_text(q, "COMMIT", err, "commit");
    if (rc != SC_OK) {
        sc_err e2;
        exec_text(q, "ROLLBACK", &e2, "rollback");
    } else if (q->writing) {
        q->own_bumps++;
    }
    q->in_txn = false;
    q->writing = false;
    return rc;
}

static void g_rollback(sd_store *s)
{
    pg_store *q = P(s);
    if (!q->in_txn && PQtransactionStatus(q->db) == PQTRANS_IDLE)
        return;
    sc_err e2;
    exec_text(q, "ROLLBACK", &e2, "rollback");
    q->in_txn = false;
    q->writing = false;
}

/*
 * The generation less this connection's own raises: it changes exactly when
 * another connection committed a write (generations rise one at a time,
 * under the write lock), as SQLite's data_version does.
 */
static sc_status g_data_version(sd_store *s, int64_t *out, sc_err *err)
{
    pg_store *q = P(s);
    int64_t n = 0;
    sc_status rc = one_int(q, Q_DATA_VERSION, NULL, &n, err, "data_version");
    *out = n - q->own_bumps;
    return rc;
}

/* ---- meta ---- */

static sc_status g_meta_get(sd_store *s, const char *key, uint8_t **val, size_t *len, sc_err *err)
{
    pg_store *q = P(s);
    *val = NULL;
    *len = 0;
    pq_args a = {0};
    a_text(&a, key);
    PGresult *r = run(q, Q_META_GET, &a, err, "meta get");
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = SC_OK;
    if (PQntuples(r) == 0) {
        rc = sc_err_set(err, SC_ERR_NOT_FOUND, 0, "register: no meta value %s", key);
    } else {
        size_t n;
        const uint8_t *p = c_bytes(r, 0, 0, &n);
        uint8_t *b = malloc(n + 1);
        if (!b) {
            rc = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
        } else {
            memcpy(b, p, n);
            b[n] = 0;
            *val = b;
            *len = n;
        }
    }
    PQclear(r);
    return rc;
}

static sc_status g_meta_put(sd_store *s, const char *key, const void *val, size_t len, sc_err *err)
{
    pq_args a = {0};
    a_text(&a, key);
    a_bytes(&a, val ? val : "", len);
    return exec_q(P(s), Q_META_PUT, &a, NULL, err, "meta put");
}

/* ---- the log ---- */

static sc_status g_log_size(sd_store *s, uint64_t *out, sc_err *err)
{
    return one_uint(P(s), Q_LOG_SIZE, out, err, "log size");
}

static sc_status g_op_append(sd_store *s, const sd_op_row *o, sc_err *err)
{
    pq_args a = {0};
    a_int(&a, (int64_t)o->idx);
    a_bytes(&a, o->op_id, SC_HASH_LEN);
    a_bytes(&a, o->entity, SC_ID_LEN);
    a_bytes(&a, o->author, SC_KEY_LEN);
    a_int(&a, o->kind);
    a_int(&a, (int64_t)o->hlc);
    a_int(&a, o->received_ms);
    a_bytes(&a, o->signed_op ? (const void *)o->signed_op : "", o->signed_len);
    a_bytes(&a, o->leaf_hash, SC_HASH_LEN);
    return exec_q(P(s), Q_OP_APPEND, &a, NULL, err, "append op");
}

/* Columns idx, op_id, entity, author, kind, hlc, received_ms, signed, leaf_hash. */
static void read_op(const PGresult *r, int row, sd_op_row *o)
{
    o->idx = (uint64_t)c_int(r, row, 0);
    c_fixed(r, row, 1, o->op_id, SC_HASH_LEN);
    c_fixed(r, row, 2, o->entity, SC_ID_LEN);
    c_fixed(r, row, 3, o->author, SC_KEY_LEN);
    o->kind = (int)c_int(r, row, 4);
    o->hlc = (uint64_t)c_int(r, row, 5);
    o->received_ms = c_int(r, row, 6);
    o->signed_op = c_bytes(r, row, 7, &o->signed_len);
    c_fixed(r, row, 8, o->leaf_hash, SC_HASH_LEN);
}

typedef struct op_each {
    sd_op_fn fn;
    void *ctx;
} op_each;

static bool op_row(const PGresult *r, int row, void *ctx)
{
    op_each *e = ctx;
    sd_op_row o;
    read_op(r, row, &o);
    return e->fn(e->ctx, &o);
}

static sc_status g_op_scan(sd_store *s, uint64_t from, uint64_t to, sd_op_fn fn, void *ctx,
                           sc_err *err)
{
    pq_args a = {0};
    a_int(&a, from > INT64_MAX ? INT64_MAX : (int64_t)from);
    a_int(&a, to > INT64_MAX ? INT64_MAX : (int64_t)to);
    op_each e = {fn, ctx};
    return scan(P(s), sql[Q_OP_SCAN], &a, op_row, &e, err, "scan log");
}

/*
 * `syncd admin log`: a statement of its own (its list of kinds varies),
 * through the same cursor as the other scans; the whole log, one pass.
 */
static sc_status g_op_scan_by(sd_store *s, const uint8_t author[SC_KEY_LEN], const int *kinds,
                              size_t nkinds, sd_op_fn fn, void *ctx, sc_err *err)
{
    pg_store *q = P(s);
    char text[512];
    size_t at = (size_t)snprintf(text, sizeof text,
                                 "SELECT " OP_COLS " FROM ops WHERE author = $1::bytea OR kind "
                                 "IN (");
    for (size_t i = 0; i < nkinds && at < sizeof text; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%s%d", i ? ", " : "", kinds[i]);
    if (at < sizeof text)
        at += (size_t)snprintf(text + at, sizeof text - at, "%s) ORDER BY idx", nkinds ? "" : "-1");
    if (at >= sizeof text)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "register: too many kinds to scan for");
    pq_args a = {0};
    a_bytes(&a, author, SC_KEY_LEN);
    op_each e = {fn, ctx};
    return scan(q, text, &a, op_row, &e, err, "scan admin ops");
}

static sc_status g_entity_ops(sd_store *s, const uint8_t entity[SC_ID_LEN], sd_op_fn fn, void *ctx,
                              sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, entity, SC_ID_LEN);
    op_each e = {fn, ctx};
    return each(P(s), Q_ENTITY_OPS, &a, op_row, &e, err, "entity ops");
}

/* One hash by key: SC_ERR_NOT_FOUND (with what) when there is no row. */
static sc_status hash_one(pg_store *q, int id, const pq_args *a, uint8_t out[SC_HASH_LEN],
                          sc_err *err, const char *what)
{
    PGresult *r = run(q, id, a, err, what);
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = SC_OK;
    if (PQntuples(r) == 1)
        c_fixed(r, 0, 0, out, SC_HASH_LEN);
    else
        rc = sc_err_set(err, SC_ERR_NOT_FOUND, 0, "register: no %s", what);
    PQclear(r);
    return rc;
}

/* n hashes in order into out: SC_ERR_NOT_FOUND when fewer come. */
static sc_status hash_rows(pg_store *q, int id, const pq_args *a, size_t n,
                           uint8_t (*out)[SC_HASH_LEN], sc_err *err, const char *what)
{
    PGresult *r = run(q, id, a, err, what);
    if (!r)
        return SC_ERR_STORAGE;
    size_t got = (size_t)PQntuples(r);
    for (size_t i = 0; i < got && i < n; i++)
        c_fixed(r, (int)i, 0, out[i], SC_HASH_LEN);
    PQclear(r);
    if (got != n)
        return sc_err_set(err, SC_ERR_NOT_FOUND, 0, "register: %s: %zu of %zu hashes", what, got,
                          n);
    return SC_OK;
}

static sc_status g_leaf_get(sd_store *s, uint64_t idx, uint8_t out[SC_HASH_LEN], sc_err *err)
{
    pq_args a = {0};
    a_int(&a, (int64_t)idx);
    return hash_one(P(s), Q_LEAF_GET, &a, out, err, "log entry");
}

static sc_status g_leaf_range(sd_store *s, uint64_t from, size_t n, uint8_t (*out)[SC_HASH_LEN],
                              sc_err *err)
{
    pq_args a = {0};
    a_int(&a, (int64_t)from);
    a_int(&a, (int64_t)(from + n));
    return hash_rows(P(s), Q_LEAF_RANGE, &a, n, out, err, "leaves");
}

/* ---- entities ---- */

/* Columns of Q_ENTITY_*; the state is borrowed from the result. */
static void read_entity(const PGresult *r, int row, sd_entity_row *e)
{
    memset(e, 0, sizeof *e);
    c_fixed(r, row, 0, e->id, SC_ID_LEN);
    e->type = (int)c_int(r, row, 1);
    e->op_count = (uint32_t)c_int(r, row, 2);
    e->last_idx = (uint64_t)c_int(r, row, 3);
    if (!c_null(r, row, 4))
        e->state = (uint8_t *)(uintptr_t)c_bytes(r, row, 4, &e->state_len);
    c_fixed(r, row, 5, e->state_hash, SC_HASH_LEN);
    e->has_target = c_opt(r, row, 6, e->target, SC_ID_LEN);
    e->has_scope = c_opt(r, row, 7, e->scope_org, SC_ID_LEN);
    e->vis_class = (int)c_int(r, row, 8);
    e->released = c_bool(r, row, 9);
    e->has_inspection = c_opt(r, row, 10, e->inspection, SC_ID_LEN);
}

static sc_status g_entity_get(sd_store *s, const uint8_t id[SC_ID_LEN], bool want_state,
                              sd_entity_row *e, sc_err *err)
{
    memset(e, 0, sizeof *e);
    pq_args a = {0};
    a_bytes(&a, id, SC_ID_LEN);
    PGresult *r = run(P(s), want_state ? Q_ENTITY_GET_STATE : Q_ENTITY_GET, &a, err, "get entity");
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = SC_OK;
    if (PQntuples(r) == 0) {
        rc = SC_ERR_NOT_FOUND;
    } else {
        read_entity(r, 0, e);
        uint8_t *copy = NULL;
        if (want_state && !(copy = malloc(e->state_len ? e->state_len : 1)))
            rc = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
        if (copy && e->state_len)
            memcpy(copy, e->state, e->state_len);
        e->state = copy;
        if (!copy)
            e->state_len = 0;
    }
    PQclear(r);
    return rc;
}

static sc_status g_entity_put(sd_store *s, const sd_entity_row *e, sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, e->id, SC_ID_LEN);
    a_int(&a, e->type);
    a_int(&a, e->op_count);
    a_int(&a, (int64_t)e->last_idx);
    a_bytes(&a, e->state ? (const void *)e->state : "", e->state_len);
    a_bytes(&a, e->state_hash, SC_HASH_LEN);
    a_bytes(&a, e->has_target ? e->target : NULL, SC_ID_LEN);
    a_bytes(&a, e->has_scope ? e->scope_org : NULL, SC_ID_LEN);
    a_int(&a, e->vis_class);
    a_bool(&a, e->released);
    a_bytes(&a, e->has_inspection ? e->inspection : NULL, SC_ID_LEN);
    return exec_q(P(s), Q_ENTITY_PUT, &a, NULL, err, "put entity");
}

static sc_status g_entity_set_released(sd_store *s, const uint8_t id[SC_ID_LEN], sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, id, SC_ID_LEN);
    return exec_q(P(s), Q_ENTITY_RELEASE, &a, NULL, err, "release entity");
}

typedef struct ent_each {
    sd_entity_fn fn;
    void *ctx;
    bool with_state;
} ent_each;

static bool ent_row(const PGresult *r, int row, void *ctx)
{
    ent_each *e = ctx;
    sd_entity_row x;
    read_entity(r, row, &x);
    if (!e->with_state) {
        x.state = NULL;
        x.state_len = 0;
    }
    return e->fn(e->ctx, &x);
}

static sc_status g_entity_scan(sd_store *s, sd_entity_fn fn, void *ctx, sc_err *err)
{
    ent_each e = {fn, ctx, true};
    return scan(P(s), sql[Q_ENTITY_SCAN], NULL, ent_row, &e, err, "scan entities");
}

static sc_status g_entity_type_scan(sd_store *s, int type, sd_entity_fn fn, void *ctx, sc_err *err)
{
    pq_args a = {0};
    a_int(&a, type);
    ent_each e = {fn, ctx, true};
    return scan(P(s), sql[Q_ENTITY_TYPE_SCAN], &a, ent_row, &e, err, "scan entities");
}

static sc_status g_entity_findings(sd_store *s, const uint8_t insp[SC_ID_LEN], sd_entity_fn fn,
                                   void *ctx, sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, insp, SC_ID_LEN);
    ent_each e = {fn, ctx, false};
    return each(P(s), Q_ENTITY_FINDINGS, &a, ent_row, &e, err, "findings of an inspection");
}

static sc_status g_entity_count(sd_store *s, uint64_t *out, sc_err *err)
{
    return one_uint(P(s), Q_ENTITY_COUNT, out, err, "count entities");
}

typedef struct org_each {
    sd_org_fn fn;
    void *ctx;
} org_each;

static bool org_row(const PGresult *r, int row, void *ctx)
{
    org_each *e = ctx;
    uint8_t id[SC_ID_LEN], parent[SC_ID_LEN];
    c_fixed(r, row, 0, id, SC_ID_LEN);
    bool has = c_opt(r, row, 1, parent, SC_ID_LEN);
    return e->fn(e->ctx, id, has ? parent : NULL);
}

static sc_status g_org_scan(sd_store *s, sd_org_fn fn, void *ctx, sc_err *err)
{
    org_each e = {fn, ctx};
    return scan(P(s), sql[Q_ORG_SCAN], NULL, org_row, &e, err, "scan org units");
}

/* ---- codes ---- */

static sc_status g_code_find(sd_store *s, int kind, const char *code, uint32_t version,
                             uint8_t entity[SC_ID_LEN], sc_err *err)
{
    pq_args a = {0};
    a_int(&a, kind);
    a_text(&a, code);
    a_int(&a, version);
    PGresult *r = run(P(s), Q_CODE_FIND, &a, err, "find code");
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = PQntuples(r) == 1 ? SC_OK : SC_ERR_NOT_FOUND;
    if (rc == SC_OK)
        c_fixed(r, 0, 0, entity, SC_ID_LEN);
    PQclear(r);
    return rc;
}

static sc_status g_code_put(sd_store *s, int kind, const char *code, uint32_t version,
                            const uint8_t entity[SC_ID_LEN], sc_err *err)
{
    pq_args a = {0};
    a_int(&a, kind);
    a_text(&a, code);
    a_int(&a, version);
    a_bytes(&a, entity, SC_ID_LEN);
    return exec_q(P(s), Q_CODE_PUT, &a, NULL, err, "put code");
}

typedef struct code_each {
    sd_code_fn fn;
    void *ctx;
} code_each;

static bool code_row(const PGresult *r, int row, void *ctx)
{
    code_each *e = ctx;
    uint8_t ent[SC_ID_LEN];
    c_fixed(r, row, 3, ent, SC_ID_LEN);
    size_t n;
    const uint8_t *text = c_bytes(r, row, 1, &n); /* libpq ends every value with a NUL */
    return e->fn(e->ctx, (int)c_int(r, row, 0), (const char *)text, (uint32_t)c_int(r, row, 2),
                 ent);
}

static sc_status g_code_scan(sd_store *s, sd_code_fn fn, void *ctx, sc_err *err)
{
    code_each e = {fn, ctx};
    return scan(P(s), sql[Q_CODE_SCAN], NULL, code_row, &e, err, "scan codes");
}

/* ---- devices ---- */

static void read_device(const PGresult *r, int row, sd_device_row *d)
{
    memset(d, 0, sizeof *d);
    c_fixed(r, row, 0, d->key, SC_KEY_LEN);
    c_fixed(r, row, 1, d->device, SC_ID_LEN);
    c_fixed(r, row, 2, d->user, SC_ID_LEN);
    d->enrolled_idx = (uint64_t)c_int(r, row, 3);
    d->revoked = !c_null(r, row, 4);
    d->revoked_idx = d->revoked ? (uint64_t)c_int(r, row, 4) : 0;
}

static sc_status device_one(pg_store *q, int id, const uint8_t *key, size_t len, sd_device_row *d,
                            sc_err *err)
{
    memset(d, 0, sizeof *d);
    pq_args a = {0};
    a_bytes(&a, key, len);
    PGresult *r = run(q, id, &a, err, "get device");
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = PQntuples(r) == 1 ? SC_OK : SC_ERR_NOT_FOUND;
    if (rc == SC_OK)
        read_device(r, 0, d);
    PQclear(r);
    return rc;
}

static sc_status g_device_get(sd_store *s, const uint8_t key[SC_KEY_LEN], sd_device_row *d,
                              sc_err *err)
{
    return device_one(P(s), Q_DEVICE_GET, key, SC_KEY_LEN, d, err);
}

static sc_status g_device_by_entity(sd_store *s, const uint8_t dev[SC_ID_LEN], sd_device_row *d,
                                    sc_err *err)
{
    return device_one(P(s), Q_DEVICE_BY_ENTITY, dev, SC_ID_LEN, d, err);
}

static sc_status g_device_put(sd_store *s, const sd_device_row *d, sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, d->key, SC_KEY_LEN);
    a_bytes(&a, d->device, SC_ID_LEN);
    a_bytes(&a, d->user, SC_ID_LEN);
    a_int(&a, (int64_t)d->enrolled_idx);
    if (d->revoked)
        a_int(&a, (int64_t)d->revoked_idx);
    else
        a_bytes(&a, NULL, 0);
    return exec_q(P(s), Q_DEVICE_PUT, &a, NULL, err, "put device");
}

static sc_status g_device_revoke(sd_store *s, const uint8_t dev[SC_ID_LEN], uint64_t idx,
                                 sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, dev, SC_ID_LEN);
    a_int(&a, (int64_t)idx);
    return exec_q(P(s), Q_DEVICE_REVOKE, &a, NULL, err, "revoke device");
}

typedef struct dev_each {
    sd_device_fn fn;
    void *ctx;
} dev_each;

static bool dev_row(const PGresult *r, int row, void *ctx)
{
    dev_each *e = ctx;
    sd_device_row d;
    read_device(r, row, &d);
    return e->fn(e->ctx, &d);
}

static sc_status g_device_scan(sd_store *s, sd_device_fn fn, void *ctx, sc_err *err)
{
    dev_each e = {fn, ctx};
    return scan(P(s), sql[Q_DEVICE_SCAN], NULL, dev_row, &e, err, "scan devices");
}

static sc_status g_device_count(sd_store *s, uint64_t *out, sc_err *err)
{
    return one_uint(P(s), Q_DEVICE_COUNT, out, err, "count devices");
}

/* ---- assignees ---- */

static sc_status g_assignee_put(sd_store *s, const uint8_t as[SC_ID_LEN], const uint8_t u[SC_ID_LEN],
                                sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, as, SC_ID_LEN);
    a_bytes(&a, u, SC_ID_LEN);
    return exec_q(P(s), Q_ASSIGNEE_PUT, &a, NULL, err, "put assignee");
}

static sc_status g_assignee_has(sd_store *s, const uint8_t as[SC_ID_LEN], const uint8_t u[SC_ID_LEN],
                                sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, as, SC_ID_LEN);
    a_bytes(&a, u, SC_ID_LEN);
    PGresult *r = run(P(s), Q_ASSIGNEE_HAS, &a, err, "find assignee");
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = PQntuples(r) > 0 ? SC_OK : SC_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

typedef struct pair_each {
    sd_pair_fn fn;
    void *ctx;
} pair_each;

static bool pair_row(const PGresult *r, int row, void *ctx)
{
    pair_each *e = ctx;
    uint8_t x[SC_ID_LEN], y[SC_ID_LEN];
    c_fixed(r, row, 0, x, SC_ID_LEN);
    c_fixed(r, row, 1, y, SC_ID_LEN);
    return e->fn(e->ctx, x, y);
}

static sc_status g_assignee_scan(sd_store *s, sd_pair_fn fn, void *ctx, sc_err *err)
{
    pair_each e = {fn, ctx};
    return scan(P(s), sql[Q_ASSIGNEE_SCAN], NULL, pair_row, &e, err, "scan assignees");
}

/* ---- photos named by ops ---- */

static sc_status g_photo_ref_put(sd_store *s, const uint8_t sha[SC_HASH_LEN],
                                 const uint8_t entity[SC_ID_LEN], uint64_t idx, sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, sha, SC_HASH_LEN);
    a_bytes(&a, entity, SC_ID_LEN);
    a_int(&a, (int64_t)idx);
    return exec_q(P(s), Q_PHOTO_REF_PUT, &a, NULL, err, "put photo reference");
}

typedef struct ref_each {
    sd_photo_ref_fn fn;
    void *ctx;
} ref_each;

static bool ref_row(const PGresult *r, int row, void *ctx)
{
    ref_each *e = ctx;
    uint8_t ent[SC_ID_LEN];
    c_fixed(r, row, 0, ent, SC_ID_LEN);
    return e->fn(e->ctx, ent, (uint64_t)c_int(r, row, 1));
}

static sc_status g_photo_refs(sd_store *s, const uint8_t sha[SC_HASH_LEN], sd_photo_ref_fn fn,
                              void *ctx, sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, sha, SC_HASH_LEN);
    ref_each e = {fn, ctx};
    return scan(P(s), sql[Q_PHOTO_REFS], &a, ref_row, &e, err, "find photo references");
}

static sc_status g_photo_ref_count(sd_store *s, uint64_t *out, sc_err *err)
{
    return one_uint(P(s), Q_PHOTO_REF_COUNT, out, err, "count photo references");
}

/* ---- enrollment codes ---- */

static sc_status g_enroll_put(sd_store *s, const sd_enroll_row *en, sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, en->hash, SC_HASH_LEN);
    a_bytes(&a, en->user, SC_ID_LEN);
    a_int(&a, en->created_ms);
    a_int(&a, en->expires_ms);
    return exec_q(P(s), Q_ENROLL_PUT, &a, NULL, err, "put enrollment code");
}

static void read_enroll(const PGresult *r, int row, sd_enroll_row *en)
{
    memset(en, 0, sizeof *en);
    c_fixed(r, row, 0, en->hash, SC_HASH_LEN);
    c_fixed(r, row, 1, en->user, SC_ID_LEN);
    en->created_ms = c_int(r, row, 2);
    en->expires_ms = c_int(r, row, 3);
    en->used = !c_null(r, row, 4);
    en->used_ms = c_int(r, row, 4);
    en->has_device = c_opt(r, row, 5, en->device, SC_ID_LEN);
    en->revoked = !c_null(r, row, 6);
    en->revoked_ms = c_int(r, row, 6);
}

static sc_status g_enroll_get(sd_store *s, const uint8_t hash[SC_HASH_LEN], sd_enroll_row *en,
                              sc_err *err)
{
    memset(en, 0, sizeof *en);
    pq_args a = {0};
    a_bytes(&a, hash, SC_HASH_LEN);
    PGresult *r = run(P(s), Q_ENROLL_GET, &a, err, "get enrollment code");
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = PQntuples(r) == 1 ? SC_OK : SC_ERR_NOT_FOUND;
    if (rc == SC_OK)
        read_enroll(r, 0, en);
    PQclear(r);
    return rc;
}

typedef struct enroll_each {
    sd_enroll_fn fn;
    void *ctx;
} enroll_each;

static bool enroll_row(const PGresult *r, int row, void *ctx)
{
    enroll_each *e = ctx;
    sd_enroll_row en;
    read_enroll(r, row, &en);
    return e->fn(e->ctx, &en);
}

static sc_status g_enroll_scan(sd_store *s, sd_enroll_fn fn, void *ctx, sc_err *err)
{
    enroll_each e = {fn, ctx};
    return scan(P(s), sql[Q_ENROLL_SCAN], NULL, enroll_row, &e, err, "scan enrollment codes");
}

static sc_status g_enroll_use(sd_store *s, const uint8_t hash[SC_HASH_LEN], int64_t now_ms,
                              const uint8_t device[SC_ID_LEN], sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, hash, SC_HASH_LEN);
    a_int(&a, now_ms);
    a_bytes(&a, device, SC_ID_LEN);
    uint64_t n = 0;
    sc_status rc = exec_q(P(s), Q_ENROLL_USE, &a, &n, err, "use enrollment code");
    return rc == SC_OK && n != 1 ? SC_ERR_NOT_FOUND : rc;
}

static sc_status g_enroll_revoke(sd_store *s, const uint8_t hash[SC_HASH_LEN], int64_t now_ms,
                                 sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, hash, SC_HASH_LEN);
    a_int(&a, now_ms);
    uint64_t n = 0;
    sc_status rc = exec_q(P(s), Q_ENROLL_REVOKE, &a, &n, err, "revoke enrollment code");
    return rc == SC_OK && n != 1 ? SC_ERR_NOT_FOUND : rc;
}

static sc_status g_enroll_revoke_user(sd_store *s, const uint8_t user[SC_ID_LEN], int64_t now_ms,
                                      uint64_t *n, sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, user, SC_ID_LEN);
    a_int(&a, now_ms);
    *n = 0;
    return exec_q(P(s), Q_ENROLL_REVOKE_USER, &a, n, err, "revoke a user's enrollment codes");
}

/* ---- when devices were last seen ---- */

static sc_status g_seen_put(sd_store *s, const sd_seen_row *sr, sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, sr->key, SC_KEY_LEN);
    a_int(&a, sr->seen_ms);
    a_text(&a, sr->agent);
    return exec_q(P(s), Q_SEEN_PUT, &a, NULL, err, "note a device seen");
}

static sc_status g_seen_get(sd_store *s, const uint8_t key[SC_KEY_LEN], sd_seen_row *sr,
                            sc_err *err)
{
    memset(sr, 0, sizeof *sr);
    pq_args a = {0};
    a_bytes(&a, key, SC_KEY_LEN);
    PGresult *r = run(P(s), Q_SEEN_GET, &a, err, "get a device's last sighting");
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = PQntuples(r) == 1 ? SC_OK : SC_ERR_NOT_FOUND;
    if (rc == SC_OK) {
        memcpy(sr->key, key, SC_KEY_LEN);
        sr->seen_ms = c_int(r, 0, 0);
        size_t n;
        const uint8_t *agent = c_bytes(r, 0, 1, &n);
        snprintf(sr->agent, sizeof sr->agent, "%.*s", (int)n, (const char *)agent);
    }
    PQclear(r);
    return rc;
}

/* ---- Merkle nodes ---- */

static sc_status g_node_get(sd_store *s, unsigned level, uint64_t index, uint8_t out[SC_HASH_LEN],
                            sc_err *err)
{
    pq_args a = {0};
    a_int(&a, level);
    a_int(&a, (int64_t)index);
    return hash_one(P(s), Q_NODE_GET, &a, out, err, "Merkle node");
}

static sc_status g_node_range(sd_store *s, unsigned level, uint64_t from, size_t n,
                              uint8_t (*out)[SC_HASH_LEN], sc_err *err)
{
    pq_args a = {0};
    a_int(&a, level);
    a_int(&a, (int64_t)from);
    a_int(&a, (int64_t)(from + n));
    return hash_rows(P(s), Q_NODE_RANGE, &a, n, out, err, "Merkle nodes");
}

static sc_status g_node_put(sd_store *s, unsigned level, uint64_t index,
                            const uint8_t hash[SC_HASH_LEN], sc_err *err)
{
    pq_args a = {0};
    a_int(&a, level);
    a_int(&a, (int64_t)index);
    a_bytes(&a, hash, SC_HASH_LEN);
    return exec_q(P(s), Q_NODE_PUT, &a, NULL, err, "put node");
}

static sc_status g_node_count(sd_store *s, uint64_t *out, sc_err *err)
{
    return one_uint(P(s), Q_NODE_COUNT, out, err, "count nodes");
}

typedef struct node_each {
    bool (*fn)(void *ctx, unsigned level, uint64_t index, const uint8_t hash[SC_HASH_LEN]);
    void *ctx;
} node_each;

static bool node_row(const PGresult *r, int row, void *ctx)
{
    node_each *e = ctx;
    uint8_t h[SC_HASH_LEN];
    c_fixed(r, row, 2, h, SC_HASH_LEN);
    return e->fn(e->ctx, (unsigned)c_int(r, row, 0), (uint64_t)c_int(r, row, 1), h);
}

static sc_status g_node_scan(sd_store *s,
                             bool (*fn)(void *ctx, unsigned level, uint64_t index,
                                        const uint8_t hash[SC_HASH_LEN]),
                             void *ctx, sc_err *err)
{
    node_each e = {fn, ctx};
    return scan(P(s), sql[Q_NODE_SCAN], NULL, node_row, &e, err, "scan nodes");
}

/* ---- checkpoints ---- */

static sc_status g_cp_put(sd_store *s, const sd_checkpoint_row *cp, sc_err *err)
{
    pq_args a = {0};
    a_int(&a, (int64_t)cp->size);
    a_bytes(&a, cp->root, SC_HASH_LEN);
    a_int(&a, cp->time_ms);
    a_bytes(&a, cp->note ? cp->note : "", cp->note_len);
    return exec_q(P(s), Q_CP_PUT, &a, NULL, err, "put checkpoint");
}

static void read_cp(const PGresult *r, int row, sd_checkpoint_row *cp)
{
    cp->size = (uint64_t)c_int(r, row, 0);
    c_fixed(r, row, 1, cp->root, SC_HASH_LEN);
    cp->time_ms = c_int(r, row, 2);
    cp->note = (const char *)c_bytes(r, row, 3, &cp->note_len);
}

static sc_status g_cp_latest(sd_store *s, sd_checkpoint_row *cp, char **note, sc_err *err)
{
    memset(cp, 0, sizeof *cp);
    *note = NULL;
    PGresult *r = run(P(s), Q_CP_LATEST, NULL, err, "latest checkpoint");
    if (!r)
        return SC_ERR_STORAGE;
    sc_status rc = SC_OK;
    if (PQntuples(r) == 0) {
        rc = sc_err_set(err, SC_ERR_NOT_FOUND, 0, "register: no checkpoint");
    } else {
        read_cp(r, 0, cp);
        char *copy = malloc(cp->note_len + 1);
        if (!copy) {
            rc = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
        } else {
            memcpy(copy, cp->note, cp->note_len);
            copy[cp->note_len] = '\0';
        }
        *note = copy;
        cp->note = copy;
    }
    PQclear(r);
    return rc;
}

typedef struct cp_each {
    sd_checkpoint_fn fn;
    void *ctx;
} cp_each;

static bool cp_row(const PGresult *r, int row, void *ctx)
{
    cp_each *e = ctx;
    sd_checkpoint_row cp;
    read_cp(r, row, &cp);
    return e->fn(e->ctx, &cp);
}

static sc_status g_cp_scan(sd_store *s, sd_checkpoint_fn fn, void *ctx, sc_err *err)
{
    cp_each e = {fn, ctx};
    return scan(P(s), sql[Q_CP_SCAN], NULL, cp_row, &e, err, "scan checkpoints");
}

static sc_status g_cp_count(sd_store *s, uint64_t *out, sc_err *err)
{
    return one_uint(P(s), Q_CP_COUNT, out, err, "count checkpoints");
}

/* ---- releases ---- */

static sc_status g_rel_put(sd_store *s, uint64_t seq, const uint8_t entity[SC_ID_LEN], uint64_t idx,
                           sc_err *err)
{
    pq_args a = {0};
    a_int(&a, (int64_t)seq);
    a_bytes(&a, entity, SC_ID_LEN);
    a_int(&a, (int64_t)idx);
    return exec_q(P(s), Q_REL_PUT, &a, NULL, err, "put release");
}

static sc_status g_rel_next(sd_store *s, uint64_t *out, sc_err *err)
{
    return one_uint(P(s), Q_REL_NEXT, out, err, "next release");
}

typedef struct rel_each {
    sd_release_fn fn;
    void *ctx;
} rel_each;

static bool rel_row(const PGresult *r, int row, void *ctx)
{
    rel_each *e = ctx;
    uint8_t ent[SC_ID_LEN];
    c_fixed(r, row, 1, ent, SC_ID_LEN);
    return e->fn(e->ctx, (uint64_t)c_int(r, row, 0), ent, (uint64_t)c_int(r, row, 2));
}

static sc_status g_rel_scan(sd_store *s, sd_release_fn fn, void *ctx, sc_err *err)
{
    rel_each e = {fn, ctx};
    return scan(P(s), sql[Q_REL_SCAN], NULL, rel_row, &e, err, "scan releases");
}

/* ---- pull ---- */

typedef struct pull_each {
    sd_pull_fn fn;
    void *ctx;
} pull_each;

static bool pull_row(const PGresult *r, int row, void *ctx)
{
    pull_each *e = ctx;
    sd_pull_row p;
    read_op(r, row, &p.op);
    p.type = (int)c_int(r, row, 9);
    p.vis_class = (int)c_int(r, row, 10);
    p.released = c_bool(r, row, 11);
    p.has_scope = c_opt(r, row, 12, p.scope_org, SC_ID_LEN);
    p.seq = (uint64_t)c_int(r, row, 13);
    p.has_inspection = c_opt(r, row, 14, p.inspection, SC_ID_LEN);
    return e->fn(e->ctx, &p);
}

static sc_status g_pull(sd_store *s, int id, uint64_t from, sd_pull_fn fn, void *ctx, sc_err *err)
{
    pq_args a = {0};
    a_int(&a, from > INT64_MAX ? INT64_MAX : (int64_t)from);
    pull_each e = {fn, ctx};
    return scan(P(s), sql[id], &a, pull_row, &e, err, "pull");
}

static sc_status g_pull_log(sd_store *s, uint64_t from, sd_pull_fn fn, void *ctx, sc_err *err)
{
    return g_pull(s, Q_PULL_LOG, from, fn, ctx, err);
}

static sc_status g_pull_releases(sd_store *s, uint64_t from, sd_pull_fn fn, void *ctx, sc_err *err)
{
    return g_pull(s, Q_PULL_REL, from, fn, ctx, err);
}

/* A full disk is SQLite's test hook; PostgreSQL's space is the server's to manage. */
static sc_status g_limit_pages(sd_store *s, uint64_t extra, sc_err *err)
{
    (void)s;
    (void)extra;
    return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                      "register: limit_pages is a test hook of the SQLite backend only");
}

/* ---- the shared replay cache ---- */

static sc_status g_nonce_claim(sd_store *s, const uint8_t device[SC_KEY_LEN],
                               const uint8_t nonce[16], int64_t time_ms, bool *fresh, sc_err *err)
{
    pq_args a = {0};
    a_bytes(&a, device, SC_KEY_LEN);
    a_bytes(&a, nonce, 16);
    a_int(&a, time_ms);
    uint64_t n = 0;
    reconnect_if_broken(P(s));
    sc_status rc = exec_q(P(s), Q_NONCE_CLAIM, &a, &n, err, "claim a nonce");
    *fresh = rc == SC_OK && n == 1;
    return rc;
}

static sc_status g_nonce_sweep(sd_store *s, int64_t before_ms, uint64_t *n, sc_err *err)
{
    pq_args a = {0};
    a_int(&a, before_ms);
    *n = 0;
    return exec_q(P(s), Q_NONCE_SWEEP, &a, n, err, "sweep nonces");
}

/* ---- webhook deliveries ---- */

static sc_status g_notify_put(sd_store *s, sd_notify_row *nr, bool *added, sc_err *err)
{
    *added = false;
    pq_args a = {0};
    a_text(&a, nr->event);
    a_text(&a, nr->hook);
    a_text(&a, nr->type);
    a_text(&a, nr->dedupe);
    a_text(&a, nr->body);
    a_int(&a, nr->created_ms);
    a_int(&a, nr->state);
    a_int(&a, nr->next_ms);
    a_int(&a, nr->done_ms);
    PGresult *r = run(P(s), Q_NOTIFY_PUT, &a, err, "queue a webhook delivery");
    if (!r)
        return SC_ERR_STORAGE;
    if (PQntuples(r) == 1) {
        *added = true;
        nr->id = c_int(r, 0, 0);
    }
    PQclear(r);
    return SC_OK;
}

static sc_status g_notify_pending(sd_store *s, const char *hook, uint64_t *out, sc_err *err)
{
    pq_args a = {0};
    if (hook)
        a_text(&a, hook);
    int64_t v = 0;
    sc_status rc = one_int(P(s), hook ? Q_NOTIFY_COUNT_HOOK : Q_NOTIFY_COUNT, &a, &v, err,
                           "count webhook deliveries");
    *out = rc == SC_OK && v > 0 ? (uint64_t)v : 0;
    return rc;
}

static sc_status g_notify_due(sd_store *s, const char *hook, int64_t now_ms, bool *due,
                              sc_err *err)
{
    pq_args a = {0};
    a_text(&a, hook);
    a_int(&a, now_ms);
    int64_t v = 0;
    sc_status rc = one_int(P(s), Q_NOTIFY_DUE, &a, &v, err, "look for due webhook deliveries");
    *due = rc == SC_OK && v > 0;
    return rc;
}

/* Each name once, in order: a seek for the least name after the last, not a scan of the rows. */
static sc_status g_notify_hooks(sd_store *s, sd_name_fn fn, void *ctx, sc_err *err)
{
    char after[SC_NOTIFY_HOOK_NAME_MAX + 1] = "";
    for (;;) {
        pq_args a = {0};
        a_text(&a, after);
        PGresult *r = run(P(s), Q_NOTIFY_NEXT_HOOK, &a, err,
                          "list the hooks of pending webhook deliveries");
        if (!r)
            return SC_ERR_STORAGE;
        size_t n = 0;
        const uint8_t *t = PQntuples(r) == 1 && !c_null(r, 0, 0) ? c_bytes(r, 0, 0, &n) : NULL;
        /* A name longer than any hook's (no syncd writes one) would repeat cut: stop there. */
        bool go = t && n > 0 && n < sizeof after;
        if (go)
            snprintf(after, sizeof after, "%.*s", (int)n, (const char *)t);
        PQclear(r);
        if (!go || !fn(ctx, after))
            return SC_OK;
    }
}

/* A text column into out (cap bytes, NUL-terminated, cut when longer). */
static void c_text(const PGresult *r, int row, int col, char *out, size_t cap)
{
    size_t n;
    const uint8_t *p = c_bytes(r, row, col, &n);
    snprintf(out, cap, "%.*s", (int)n, (const char *)p);
}

typedef struct notify_each {
    sd_notify_fn fn;
    void *ctx;
} notify_each;

static bool notify_row(const PGresult *r, int row, void *ctx)
{
    notify_each *e = ctx;
    sd_notify_row nr;
    memset(&nr, 0, sizeof nr);
    nr.id = c_int(r, row, 0);
    c_text(r, row, 1, nr.event, sizeof nr.event);
    c_text(r, row, 2, nr.hook, sizeof nr.hook);
    c_text(r, row, 3, nr.type, sizeof nr.type);
    /* PQgetvalue's text is NUL-terminated even in binary results. */
    nr.body = PQgetvalue(r, row, 4);
    nr.created_ms = c_int(r, row, 5);
    nr.state = (int)c_int(r, row, 6);
    nr.attempts = (uint32_t)c_int(r, row, 7);
    nr.next_ms = c_int(r, row, 8);
    nr.done_ms = c_int(r, row, 9);
    nr.last_code = (int)c_int(r, row, 10);
    nr.last_error = PQgetvalue(r, row, 11);
    return e->fn(e->ctx, &nr);
}

static sc_status g_notify_claim(sd_store *s, const char *hook, int64_t now_ms, int64_t lease_ms,
                                unsigned limit, sd_notify_fn fn, void *ctx, sc_err *err)
{
    pq_args a = {0};
    a_int(&a, now_ms);
    a_int(&a, now_ms + lease_ms);
    a_int(&a, limit);
    a_text(&a, hook);
    PGresult *r = run(P(s), Q_NOTIFY_CLAIM, &a, err, "claim webhook deliveries");
    if (!r)
        return SC_ERR_STORAGE;
    notify_each e = {fn, ctx};
    int n = PQntuples(r);
    for (int i = 0; i < n && notify_row(r, i, &e); i++)
        ;
    PQclear(r);
    return SC_OK;
}

static sc_status g_notify_finish(sd_store *s, const sd_notify_row *nr, sc_err *err)
{
    pq_args a = {0};
    a_int(&a, nr->id);
    a_int(&a, nr->state);
    a_int(&a, nr->attempts);
    a_int(&a, nr->next_ms);
    a_int(&a, nr->done_ms);
    a_int(&a, nr->last_code);
    a_text(&a, nr->last_error ? nr->last_error : "");
    return exec_q(P(s), Q_NOTIFY_FINISH, &a, NULL, err, "record a webhook delivery");
}

static sc_status g_notify_scan(sd_store *s, sd_notify_fn fn, void *ctx, sc_err *err)
{
    notify_each e = {fn, ctx};
    return scan(P(s), "SELECT " NOTIFY_COLS " FROM notify ORDER BY id", NULL, notify_row, &e, err,
                "scan webhook deliveries");
}

static sc_status g_notify_retry(sd_store *s, int64_t id, int state, int64_t now_ms, uint64_t *n,
                                sc_err *err)
{
    pq_args a = {0};
    a_int(&a, id);
    a_int(&a, state);
    a_int(&a, now_ms);
    *n = 0;
    return exec_q(P(s), id ? Q_NOTIFY_RETRY_ONE : Q_NOTIFY_RETRY_ALL, &a, n, err,
                  "queue webhook deliveries again");
}

sc_status sd_store_pg_exec(sd_store *s, const char *script, sc_err *err)
{
    return exec_text(P(s), script, err, "migrate");
}

/*
 * What the register's schema holds that syncd never makes and that would
 * change what syncd reads or writes without an op: a trigger, a rule, or
 * row security on a table.  Objects an extension owns (pg_stat_statements'
 * views, say) and views, which syncd never reads, are left alone; tables
 * and columns are PostgreSQL's to keep as created (a restore is pg_restore
 * of a dump syncd's schema made).
 */
static sc_status g_schema_check(sd_store *s, char *problem, size_t cap, sc_err *err)
{
    pg_store *q = (pg_store *)s;
    problem[0] = '\0';
    PGresult *r = PQexec(
        q->db,
        "WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) "
        "SELECT 'trigger ' || t.tgname || ' on ' || c.relname FROM pg_trigger t JOIN pg_class c "
        "ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relnamespace IN (SELECT oid FROM ns) "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_trigger'::regclass AND "
        "d.objid = t.oid AND d.deptype = 'e') "
        "UNION ALL SELECT 'rule ' || r.rulename || ' on ' || c.relname FROM pg_rewrite r JOIN "
        "pg_class c ON c.oid = r.ev_class WHERE c.relkind IN ('r', 'p') AND r.rulename <> "
        "'_RETURN' AND c.relnamespace IN (SELECT oid FROM ns) "
        "UNION ALL SELECT 'row security on ' || relname FROM pg_class WHERE relrowsecurity AND "
        "relnamespace IN (SELECT oid FROM ns) LIMIT 1");
    sc_status rc = PQresultStatus(r) == PGRES_TUPLES_OK ? SC_OK : pg_err(q, r, err, "read the schema");
    if (rc == SC_OK && PQntuples(r) > 0)
        snprintf(problem, cap,
                 "the register's schema holds what syncd never makes (%s): it was changed outside "
                 "syncd",
                 PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

static const sd_store_vt vt = {
    .close = g_close,
    .begin = g_begin,
    .commit = g_commit,
    .rollback = g_rollback,
    .data_version = g_data_version,
    .meta_get = g_meta_get,
    .meta_put = g_meta_put,
    .log_size = g_log_size,
    .op_append = g_op_append,
    .op_scan = g_op_scan,
    .entity_ops = g_entity_ops,
    .leaf_get = g_leaf_get,
    .leaf_range = g_leaf_range,
    .entity_get = g_entity_get,
    .entity_put = g_entity_put,
    .entity_set_released = g_entity_set_released,
    .entity_scan = g_entity_scan,
    .entity_type_scan = g_entity_type_scan,
    .op_scan_by = g_op_scan_by,
    .entity_findings = g_entity_findings,
    .entity_count = g_entity_count,
    .org_scan = g_org_scan,
    .code_find = g_code_find,
    .code_put = g_code_put,
    .code_scan = g_code_scan,
    .device_get = g_device_get,
    .device_by_entity = g_device_by_entity,
    .device_put = g_device_put,
    .device_revoke = g_device_revoke,
    .device_scan = g_device_scan,
    .device_count = g_device_count,
    .assignee_put = g_assignee_put,
    .assignee_has = g_assignee_has,
    .assignee_scan = g_assignee_scan,
    .enroll_put = g_enroll_put,
    .enroll_get = g_enroll_get,
    .enroll_use = g_enroll_use,
    .enroll_scan = g_enroll_scan,
    .enroll_revoke = g_enroll_revoke,
    .enroll_revoke_user = g_enroll_revoke_user,
    .seen_put = g_seen_put,
    .seen_get = g_seen_get,
    .node_get = g_node_get,
    .node_range = g_node_range,
    .node_put = g_node_put,
    .node_count = g_node_count,
    .node_scan = g_node_scan,
    .checkpoint_put = g_cp_put,
    .checkpoint_latest = g_cp_latest,
    .checkpoint_scan = g_cp_scan,
    .checkpoint_count = g_cp_count,
    .release_put = g_rel_put,
    .release_next_seq = g_rel_next,
    .release_scan = g_rel_scan,
    .pull_log = g_pull_log,
    .pull_releases = g_pull_releases,
    .photo_ref_put = g_photo_ref_put,
    .photo_refs = g_photo_refs,
    .photo_ref_count = g_photo_ref_count,
    .limit_pages = g_limit_pages,
    .set_writer = g_set_writer,
    .nonce_claim = g_nonce_claim,
    .nonce_sweep = g_nonce_sweep,
    .notify_put = g_notify_put,
    .notify_pending = g_notify_pending,
    .notify_hooks = g_notify_hooks,
    .notify_due = g_notify_due,
    .notify_claim = g_notify_claim,
    .notify_finish = g_notify_finish,
    .notify_scan = g_notify_scan,
    .notify_retry = g_notify_retry,
    .schema_check = g_schema_check,
};

/* ---- opening ---- */

/* Does the database hold a register (its meta table)?  *out: 1 yes, 0 no. */
static sc_status has_schema(pg_store *q, bool *out, sc_err *err)
{
    PGresult *r = PQexecParams(q->db, "SELECT to_regclass('meta') IS NOT NULL", 0, NULL, NULL,
                               NULL, NULL, 1);
    sc_status rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                       ? SC_OK
                       : pg_err(q, r, err, "look for the schema");
    *out = rc == SC_OK && c_bool(r, 0, 0);
    PQclear(r);
    return rc;
}

static sc_status create_schema(pg_store *q, sc_err *err)
{
    char v[16];
    snprintf(v, sizeof v, "%d", SD_SCHEMA_VERSION);
    sc_status rc = exec_text(q, "BEGIN", err, "create schema");
    if (rc == SC_OK)
        rc = exec_text(q, SD_PG_SCHEMA, err, "create schema");
    if (rc == SC_OK)
        rc = g_meta_put(&q->base, "schema_version", v, strlen(v), err);
    if (rc == SC_OK)
        rc = exec_text(q, "COMMIT", err, "create schema");
    if (rc != SC_OK) {
        sc_err e2;
        exec_text(q, "ROLLBACK", &e2, "rollback");
    }
    return rc;
}

sc_status sd_store_pg_connect(const char *url, sd_store **out, sc_err *err)
{
    *out = NULL;
    pg_store *q = calloc(1, sizeof *q);
    if (!q)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory");
    q->base.vt = &vt;
    sd_pg_url_parts(url, q->shown, sizeof q->shown, q->secret, sizeof q->secret);
    q->db = PQconnectdb(url);
    if (!q->db || PQstatus(q->db) != CONNECTION_OK) {
        char msg[SC_ERR_MSG_MAX];
        sd_pg_scrub(q->db ? PQerrorMessage(q->db) : "out of memory", q->secret, msg, sizeof msg);
        sc_status rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                                  "register: cannot connect to %s: %s", q->shown, msg);
        g_close(&q->base);
        return rc;
    }
    /* Quiet notices; writers wait for the write lock as long as SQLite's busy timeout. */
    char set[160];
    snprintf(set, sizeof set,
             "SET client_min_messages = warning; SET lock_timeout = %d; SET TIME ZONE 'UTC'",
             SC_PG_LOCK_WAIT_MS);
    sc_status rc = exec_text(q, set, err, "configure the connection");
    if (rc != SC_OK) {
        g_close(&q->base);
        return rc;
    }
    *out = &q->base;
    return SC_OK;
}

sc_status sd_store_pg_open(const char *url, bool create, sd_store **out, sc_err *err)
{
    *out = NULL;
    sd_store *s = NULL;
    sc_status rc = sd_store_pg_connect(url, &s, err);
    if (rc != SC_OK)
        return rc;
    pg_store *q = P(s);
    bool exists = false;
    if ((rc = has_schema(q, &exists, err)) != SC_OK)
        goto fail;
    if (create && exists) {
        rc = sc_err_set(err, SC_ERR_EXISTS, 0, "a register already exists in %s", q->shown);
        goto fail;
    }
    if (!create && !exists) {
        rc = sc_err_set(err, SC_ERR_NOT_FOUND, 0,
                        "no register in %s (run `syncd init --data DIR --store URL` first)",
                        q->shown);
        goto fail;
    }
    if (create)
        rc = create_schema(q, err);
    else
        rc = sd_store_check_version(s, q->shown, err);
    if (rc != SC_OK)
        goto fail;
    *out = s;
    return SC_OK;
fail:
    g_close(s);
    return rc;
}

const char *sd_store_pg_shown(sd_store *s)
{
    return P(s)->shown;
}
