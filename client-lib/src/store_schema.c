/*
 * store_schema.c: the replica's schema, its version and the migrations
 * that bring a replica written by an older library to this one's.
 *
 * The version is meta 'schema'.  Opening asks it first, with a read only:
 *   - an empty database (a file just made for an enrollment) is given the
 *     whole schema of SC_CL_SCHEMA_VERSION in one write transaction;
 *   - a replica of this version is opened as it is, and nothing is written:
 *     any number of handles and processes open it at once, beside one that
 *     writes (the writer's transactions are BEGIN IMMEDIATE and wait for
 *     each other, st_begin);
 *   - an older replica is brought up by the steps after its version, in
 *     order.  Each step is one write transaction that begins IMMEDIATE
 *     (waiting for the lock instead of failing when another handle writes),
 *     reads the version again inside it (another process may have migrated
 *     meanwhile), and records the version it makes with the library that
 *     made it.  A step either happens whole or not at all: a migration cut
 *     by a crash leaves the replica at the last version it completed, and
 *     the next open goes on from there.  No step touches an op's bytes, the
 *     outbox or the checkpoints, so what was queued offline is still queued;
 *   - a replica of a later version (a newer library wrote it) is refused,
 *     naming both versions, before anything in it is written.
 *
 * Versions:
 *   1  the first schema.  Releases of version 1 added to it on every open
 *      with CREATE IF NOT EXISTS (blobs_state; conflicted, filled once and
 *      marked by meta conflicts_indexed; receipts, with meta receipts_from;
 *      user_access, empty), so a version-1 replica may lack any of these.
 *   2  all of version 1's additions present and filled (user_access from
 *      the UserDisable and UserEnable ops pulled before it existed), and a
 *      migrations table: which library made each version and when, so
 *      whoever supports a tablet in the field can tell what its replica went
 *      through.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/state.h"
#include "internal.h"

/* Tables and indexes every replica of this version has, but the migrations table. */
static const char *const schema_tables =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS ops("
    "  id BLOB PRIMARY KEY, entity BLOB NOT NULL, etype INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL, hlc INTEGER NOT NULL, author BLOB NOT NULL,"
    "  signed BLOB NOT NULL, log_index INTEGER, origin INTEGER NOT NULL,"
    "  state INTEGER NOT NULL, reason INTEGER NOT NULL DEFAULT 0, message TEXT,"
    "  seq INTEGER NOT NULL UNIQUE);"
    "CREATE INDEX IF NOT EXISTS ops_entity ON ops(entity, seq);"
    "CREATE INDEX IF NOT EXISTS ops_outbox ON ops(state, origin, seq);"
    "CREATE TABLE IF NOT EXISTS entities("
    "  id BLOB PRIMARY KEY, etype INTEGER NOT NULL, code TEXT, version INTEGER NOT NULL DEFAULT 0,"
    "  state BLOB NOT NULL, hash BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS entities_code ON entities(etype, code, version);"
    "CREATE TABLE IF NOT EXISTS blobs(sha BLOB PRIMARY KEY, size INTEGER NOT NULL,"
    "  mime TEXT, state INTEGER NOT NULL);"
    /* Each sync lists the photos to upload: without this, a scan of every photo ever named. */
    "CREATE INDEX IF NOT EXISTS blobs_state ON blobs(state, sha);"
    "CREATE TABLE IF NOT EXISTS checkpoints(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL, proof BLOB);"
    "CREATE TABLE IF NOT EXISTS devices(key BLOB PRIMARY KEY, entity BLOB NOT NULL,"
    "  enroll_index INTEGER NOT NULL, revoke_index INTEGER);"
    "CREATE INDEX IF NOT EXISTS devices_entity ON devices(entity);"
    /* Entities whose state has conflicts (and is not voided): what the sync report counts. */
    "CREATE TABLE IF NOT EXISTS conflicted(id BLOB PRIMARY KEY);"
    /* Each UserDisable and UserEnable pulled, by log index, for verifying authors (access.c). */
    "CREATE TABLE IF NOT EXISTS user_access(user BLOB NOT NULL, log_index INTEGER NOT NULL,"
    "  disabled INTEGER NOT NULL, PRIMARY KEY(user, log_index)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS receipts(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  size INTEGER NOT NULL, leaves BLOB NOT NULL, proof BLOB NOT NULL);"
    /* Ops acknowledged before receipts were kept have none; every later one must. */
    "INSERT OR IGNORE INTO meta(key, value) SELECT 'receipts_from', IFNULL(MAX(seq), 0) + 1 FROM "
    "ops;";

static const char *const schema_migrations =
    "CREATE TABLE IF NOT EXISTS migrations(version INTEGER PRIMARY KEY,"
    "  from_version INTEGER NOT NULL, library TEXT NOT NULL, time_ms INTEGER NOT NULL);";

static sc_status schema_fail(sc_client *c, const char *path, const char *what)
{
    sqlite3 *db = c->db;
    sc_status s = sqlite3_errcode(db) == SQLITE_NOMEM ? SC_ERR_NOMEM : SC_ERR_STORAGE;
    return cl_fail(c, s, 0, "replica %s: %s: %s", path, what, sqlite3_errmsg(db));
}

static sc_status schema_exec(sc_client *c, const char *path, const char *sql, const char *what)
{
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return schema_fail(c, path, what);
    return SC_OK;
}

/* One integer from a query without parameters; *found false when it gives no row. */
static sc_status query_int(sc_client *c, const char *path, const char *sql, int64_t *out,
                           bool *found)
{
    sqlite3_stmt *x = NULL;
    *found = false;
    if (sqlite3_prepare_v2(c->db, sql, -1, &x, NULL) != SQLITE_OK)
        return schema_fail(c, path, "read the schema");
    sc_status s = SC_OK;
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(x, 0);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        s = schema_fail(c, path, "read the schema");
    }
    sqlite3_finalize(x);
    return s;
}

sc_status st_schema_check(sc_client *c, const char *path, int *version)
{
    *version = 0;
    int64_t n = 0, v = 0;
    bool found = false;
    sc_status s = query_int(c, path, "SELECT count(*) FROM sqlite_master", &n, &found);
    if (s != SC_OK) /* not SQLite at all ("file is not a database") */
        return cl_fail(c, SC_ERR_STORAGE, 0, "%s is not a Spotcheck replica (%s)", path,
                       sqlite3_errmsg(c->db));
    if (n == 0)
        return SC_OK;
    s = query_int(c, path, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
                  &n, &found);
    if (s == SC_OK && n == 0)
        return cl_fail(c, SC_ERR_STORAGE, 0, "%s is not a Spotcheck replica (no such table: meta)",
                       path);
    if (s == SC_OK)
        s = query_int(c, path, "SELECT value FROM meta WHERE key='schema'", &v, &found);
    if (s != SC_OK)
        return s;
    if (!found || v < 1)
        return cl_fail(c, SC_ERR_STORAGE, 0, "%s is not a Spotcheck replica (no schema version)",
                       path);
    if (v > SC_CL_SCHEMA_VERSION)
        return cl_fail(c, SC_ERR_STORAGE, 0,
                       "replica %s has schema version %lld, newer than this library (libspotcheck "
                       "%s) reads, %d: a newer release wrote it; nothing in it was changed",
                       path, (long long)v, sc_version(), SC_CL_SCHEMA_VERSION);
    *version = (int)v;
    return SC_OK;
}

/* Record that the replica is now at version `to` (inside the step's transaction). */
static sc_status schema_mark(sc_client *c, const char *path, int from, int to)
{
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT OR REPLACE INTO migrations(version, from_version, library, "
                           "time_ms) VALUES(?, ?, ?, ?)",
                           -1, &x, NULL) != SQLITE_OK)
        return schema_fail(c, path, "record the migration");
    sqlite3_bind_int(x, 1, to);
    sqlite3_bind_int(x, 2, from);
    sqlite3_bind_text(x, 3, sc_version(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(x, 4, (sqlite3_int64)c->env.now_ms(c->env.ctx));
    int rc = sqlite3_step(x);
    sqlite3_finalize(x);
    if (rc != SQLITE_DONE)
        return schema_fail(c, path, "record the migration");
    return st_meta_put_u64(c, "schema", (uint64_t)to);
}

/*
 * Fill the conflicted table from the stored states, once (a replica written
 * before the table existed): counting conflicts then never decodes every
 * state again.
 */
static sc_status fill_conflicted(sc_client *c, const char *path)
{
    sqlite3_stmt *st = NULL, *ins = NULL;
    sc_status s = schema_exec(c, path, "DELETE FROM conflicted", "index conflicts");
    if (s == SC_OK &&
        (sqlite3_prepare_v2(c->db, "SELECT id, state FROM entities", -1, &st, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO conflicted(id) VALUES(?)", -1, &ins,
                            NULL) != SQLITE_OK))
        s = schema_fail(c, path, "index conflicts");
    int rc = SQLITE_DONE;
    while (s == SC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        Scpb__EntityState *es = NULL;
        sc_err e;
        sc_err_clear(&e);
        s = sc_state_decode(&c->env, sqlite3_column_blob(st, 1),
                            (size_t)sqlite3_column_bytes(st, 1), SC_CL_STATE_MAX, &es, &e);
        if (s != SC_OK) {
            s = cl_fail(c, s == SC_ERR_NOMEM ? s : SC_ERR_STORAGE, 0, "replica %s: %s", path,
                        e.msg);
            break;
        }
        bool conflicted = es->n_conflicts > 0 && !es->voided;
        sc_state_free(&c->env, es);
        if (conflicted) {
            sqlite3_bind_blob(ins, 1, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0),
                              SQLITE_TRANSIENT);
            if (sqlite3_step(ins) != SQLITE_DONE)
                s = schema_fail(c, path, "index conflicts");
            sqlite3_reset(ins);
        }
    }
    if (s == SC_OK && rc != SQLITE_DONE)
        s = schema_fail(c, path, "index conflicts");
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    return s;
}

/*
 * The users' access changes the replica pulled before it kept them (a
 * version-1 replica made before user_access existed has the ops but no
 * rows): one row per UserDisable and UserEnable in the log, as sync notes
 * them when it stores them.
 */
static sc_status fill_user_access(sc_client *c, const char *path)
{
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT OR IGNORE INTO user_access(user, log_index, disabled) "
                           "SELECT entity, log_index, kind = ?1 FROM ops "
                           "WHERE kind IN (?1, ?2) AND log_index IS NOT NULL AND length(entity) = ?3",
                           -1, &x, NULL) != SQLITE_OK)
        return schema_fail(c, path, "note users' access");
    sqlite3_bind_int(x, 1, (int)SCPB__OP__BODY_USER_DISABLE);
    sqlite3_bind_int(x, 2, (int)SCPB__OP__BODY_USER_ENABLE);
    sqlite3_bind_int(x, 3, SC_ID_LEN);
    int rc = sqlite3_step(x);
    sqlite3_finalize(x);
    return rc == SQLITE_DONE ? SC_OK : schema_fail(c, path, "note users' access");
}

/* 1 -> 2: whatever version 1 added on open, present and filled; the migrations table. */
static sc_status migrate_to_2(sc_client *c, const char *path)
{
    sc_status s = schema_exec(c, path, schema_tables, "add version 1's later tables");
    if (s == SC_OK)
        s = schema_exec(c, path, schema_migrations, "make the migrations table");
    uint64_t indexed = 0;
    sc_status has = s == SC_OK ? st_meta_get_u64(c, "conflicts_indexed", &indexed) : s;
    if (has == SC_ERR_NOT_FOUND)
        s = fill_conflicted(c, path);
    else if (has != SC_OK)
        s = has;
    if (s == SC_OK)
        s = schema_exec(c, path, "DELETE FROM meta WHERE key='conflicts_indexed'",
                        "add version 1's later tables");
    if (s == SC_OK)
        s = fill_user_access(c, path);
    return s;
}

typedef struct migration {
    int to;                                           /* the version the step makes */
    const char *what;                                 /* for messages */
    sc_status (*run)(sc_client *c, const char *path); /* inside the step's transaction */
} migration;

/* In order; the last one's `to` is SC_CL_SCHEMA_VERSION. */
static const migration steps[] = {
    {2, "version 1's later tables and the migrations table", migrate_to_2},
};
_Static_assert(sizeof steps / sizeof steps[0] == SC_CL_SCHEMA_VERSION - 1,
               "one migration step per schema version after the first");

/* A new replica: the whole schema at this version, in one transaction. */
static sc_status schema_create(sc_client *c, const char *path)
{
    /* WAL is a property of the file; it cannot change inside a transaction. */
    sc_status s = schema_exec(c, path, "PRAGMA journal_mode=WAL", "set WAL mode");
    if (s != SC_OK || (s = st_begin(c)) != SC_OK)
        return s;
    int64_t n = 0;
    bool found = false;
    /* Another handle may have made it meanwhile (an empty file given to two enrollments). */
    if ((s = query_int(c, path, "SELECT count(*) FROM sqlite_master", &n, &found)) == SC_OK &&
        n == 0 && (s = schema_exec(c, path, schema_tables, "create the schema")) == SC_OK &&
        (s = schema_exec(c, path, schema_migrations, "create the schema")) == SC_OK)
        s = schema_mark(c, path, 0, SC_CL_SCHEMA_VERSION);
    if (s == SC_OK)
        return st_commit(c);
    st_rollback(c);
    return s;
}

/* Bring a replica of `version` to this library's, one step (and transaction) at a time. */
static sc_status schema_migrate(sc_client *c, const char *path, int version)
{
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const migration *m = &steps[i];
        if (m->to <= version)
            continue;
        sc_status s = st_begin(c);
        if (s != SC_OK)
            return s;
        int64_t now = 0;
        bool found = false;
        s = query_int(c, path, "SELECT value FROM meta WHERE key='schema'", &now, &found);
        if (s == SC_OK && found && now < m->to) {
            s = m->run(c, path);
            if (s == SC_OK)
                s = schema_mark(c, path, (int)now, m->to);
        }
        if (s == SC_OK)
            s = st_commit(c);
        else
            st_rollback(c);
        if (s != SC_OK) {
            char why[SC_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", c->err.msg);
            return cl_fail(c, s, 0,
                           "replica %s: migrating from schema version %d to %d (%s): %s; "
                           "rolled back, the replica is whole at version %d",
                           path, version, m->to, m->what, why, version);
        }
        version = m->to;
    }
    return SC_OK;
}

sc_status st_schema_upgrade(sc_client *c, const char *path, int version)
{
    if (version == SC_CL_SCHEMA_VERSION)
        return SC_OK;
    if (version == 0)
        return schema_create(c, path);
    return schema_migrate(c, path, version);
}
