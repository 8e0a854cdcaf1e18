/*
 * store_sqlite_migrate.c: bring a register written by an older syncd to
 * this build's schema (SD_SCHEMA_VERSION), one version at a time.
 *
 * Each step is one write transaction that also records its new version,
 * so a step either happens whole or not at all: a migration stopped by a
 * crash, a full disk or Ctrl-C leaves the register at the last version it
 * completed, readable by the syncd of that version and migrated further
 * by running the command again.  No step touches what the log says: the
 * ops, their order and bytes, the checkpoints and the state are copied or
 * kept as they are, so every earlier checkpoint still verifies.
 *
 * Steps:
 *   1 -> 2  the log's table is rebuilt with one index, UNIQUE(entity,
 *           op_id), instead of a unique index on op_id and an index on
 *           (entity, idx).  SQLite cannot drop an inline UNIQUE, so the
 *           ops are copied into a new table in idx order (with progress),
 *           and the old table dropped.  Foreign keys are off for the
 *           copy (releases refer to ops), and checked before the commit.
 *   2 -> 3  the merkle table keeps the nodes of every SD_TLOG_STRIDE-th
 *           level only; the others are recomputed when needed.
 *   3 -> 4  the photo_refs table (which entities name which photo, for
 *           the visibility of photos) is made and filled from the ops
 *           that name photos, decoded from the log in index order.
 *   4 -> 5  enrollment codes can be revoked (enroll_codes.revoked_ms), and
 *           device_seen keeps when each device was last seen and with
 *           which client; both start empty.
 *   5 -> 6  the notify table (webhook deliveries and their log) is made,
 *           empty.
 *   6 -> 7  the index of due deliveries, notify_due (next_ms), is replaced
 *           by notify_pending (hook, next_ms, id), both of pending rows
 *           only, so that a hook's deliveries are counted and claimed
 *           without reading another hook's.  The table is as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/codec.h"
#include "core/reason.h"
#include "register/tlog.h"
#include "store.h"
#include "store_sqlite_schema.h"

/* Ops copied per statement (step 1 -> 2), and read (step 3 -> 4), between progress reports. */
#define COPY_BATCH 50000

typedef struct migration {
    sqlite3 *db;
    const char *path;
    sd_store_progress progress;
    void *ctx;
    sc_err *err;
} migration;

static sc_status fail_db(migration *m, const char *what)
{
    return sc_err_set(m->err, SC_ERR_STORAGE, SC_REASON_STORAGE, "register %s: %s: %s", m->path, what,
                      sqlite3_errmsg(m->db));
}

static sc_status exec(migration *m, const char *sql, const char *what)
{
    if (sqlite3_exec(m->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail_db(m, what);
    return SC_OK;
}

/* One integer from a query with no parameters. */
static sc_status query_int(migration *m, const char *sql, int64_t *out, const char *what)
{
    sqlite3_stmt *x = NULL;
    sc_status rc = SC_OK;
    if (sqlite3_prepare_v2(m->db, sql, -1, &x, NULL) != SQLITE_OK)
        return fail_db(m, what);
    int step = sqlite3_step(x);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(x, 0);
    else
        rc = fail_db(m, what);
    sqlite3_finalize(x);
    return rc;
}

/* The version in meta.schema_version: 0 when the file is no register. */
static sc_status read_version(migration *m, int *out)
{
    *out = 0;
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(m->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &x,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(x);
        return sc_err_set(m->err, SC_ERR_STORAGE, SC_REASON_STORAGE, "%s is not a Spotcheck register (%s)",
                          m->path, sqlite3_errmsg(m->db));
    }
    sc_status rc = SC_OK;
    int step = sqlite3_step(x);
    if (step == SQLITE_ROW) {
        const char *v = sqlite3_column_blob(x, 0);
        int n = sqlite3_column_bytes(x, 0);
        int version = 0;
        for (int i = 0; i < n && v; i++) {
            if (v[i] < '0' || v[i] > '9' || version > 1000) {
                version = -1;
                break;
            }
            version = version * 10 + (v[i] - '0');
        }
        if (n == 0 || version <= 0)
            rc = sc_err_set(m->err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                            "register %s: schema_version \"%.*s\" is not a version number", m->path,
                            n > 16 ? 16 : n, v ? v : "");
        else
            *out = version;
    } else if (step == SQLITE_DONE) {
        rc = sc_err_set(m->err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                        "%s is not a Spotcheck register (no schema_version)", m->path);
    } else {
        rc = fail_db(m, "read the schema version");
    }
    sqlite3_finalize(x);
    return rc;
}

static sc_status write_version(migration *m, int version)
{
    char v[16];
    int n = snprintf(v, sizeof v, "%d", version);
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(m->db, "UPDATE meta SET value = ?1 WHERE key = 'schema_version'", -1, &x,
                           NULL) != SQLITE_OK)
        return fail_db(m, "record the schema version");
    sqlite3_bind_blob(x, 1, v, n, SQLITE_STATIC);
    sc_status rc = sqlite3_step(x) == SQLITE_DONE && sqlite3_changes(m->db) == 1
                       ? SC_OK
                       : fail_db(m, "record the schema version");
    sqlite3_finalize(x);
    return rc;
}

/* Every foreign key still points somewhere (after a table was rebuilt). */
static sc_status check_foreign_keys(migration *m)
{
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(m->db, "PRAGMA foreign_key_check", -1, &x, NULL) != SQLITE_OK)
        return fail_db(m, "check foreign keys");
    int step = sqlite3_step(x);
    sc_status rc = SC_OK;
    if (step == SQLITE_ROW)
        rc = sc_err_set(m->err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                        "register %s: a row of %s refers to nothing after the migration; "
                        "nothing was changed",
                        m->path, (const char *)sqlite3_column_text(x, 0));
    else if (step != SQLITE_DONE)
        rc = fail_db(m, "check foreign keys");
    sqlite3_finalize(x);
    return rc;
}

static sc_status step_1_to_2(migration *m)
{
    sc_status rc;
    int64_t count = 0, end = 0;
    if ((rc = query_int(m, "SELECT count(*) FROM ops", &count, "count the log")) != SC_OK ||
        (rc = query_int(m, "SELECT coalesce(max(idx) + 1, 0) FROM ops", &end, "size the log")) !=
            SC_OK)
        return rc;
    if ((rc = exec(m, "CREATE TABLE ops_v2" SD_SQL_OPS_COLUMNS, "create the new log table")) !=
        SC_OK)
        return rc;
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(m->db,
                           "INSERT INTO ops_v2(idx, op_id, entity, author, kind, hlc, received_ms, "
                           "signed, leaf_hash) SELECT idx, op_id, entity, author, kind, hlc, "
                           "received_ms, signed, leaf_hash FROM ops WHERE idx >= ?1 AND idx < ?2 "
                           "ORDER BY idx",
                           -1, &x, NULL) != SQLITE_OK)
        return fail_db(m, "prepare the copy of the log");
    int64_t copied = 0;
    for (int64_t from = 0; from < end; from += COPY_BATCH) {
        sqlite3_bind_int64(x, 1, from);
        sqlite3_bind_int64(x, 2, from + COPY_BATCH);
        if (sqlite3_step(x) != SQLITE_DONE) {
            rc = fail_db(m, "copy the log");
            break;
        }
        copied += sqlite3_changes(m->db);
        sqlite3_reset(x);
        if (m->progress)
            m->progress(m->ctx, "copy the log", (uint64_t)copied, (uint64_t)count);
    }
    sqlite3_finalize(x);
    if (rc != SC_OK)
        return rc;
    if (copied != count)
        return sc_err_set(m->err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                          "register %s: copied %lld of %lld ops; nothing was changed", m->path,
                          (long long)copied, (long long)count);
    if ((rc = exec(m, "DROP TABLE ops", "drop the old log table")) != SC_OK ||
        (rc = exec(m, "ALTER TABLE ops_v2 RENAME TO ops", "rename the new log table")) != SC_OK)
        return rc;
    return check_foreign_keys(m);
}

static sc_status step_2_to_3(migration *m)
{
    int64_t before = 0;
    sc_status rc = query_int(m, "SELECT count(*) FROM merkle", &before, "count Merkle nodes");
    if (rc != SC_OK)
        return rc;
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM merkle WHERE level %% %d != 0", SD_TLOG_STRIDE);
    if ((rc = exec(m, sql, "drop the Merkle levels no longer stored")) != SC_OK)
        return rc;
    if (m->progress)
        m->progress(m->ctx, "drop Merkle nodes between stored levels",
                    (uint64_t)sqlite3_changes(m->db), (uint64_t)before);
    return SC_OK;
}

/* The photo references of one logged op (its SignedOp bytes) through the prepared insert. */
static sc_status refs_of_op(migration *m, sqlite3_stmt *ins, int64_t idx, const void *entity,
                            int entity_len, const uint8_t *signed_op, size_t len)
{
    sc_op *o = NULL;
    sc_err e;
    sc_err_clear(&e);
    if (sc_op_open(NULL, signed_op, len, 0, &o, &e) != SC_OK)
        return sc_err_set(m->err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                          "register %s: log entry %lld does not decode (%s); run syncd audit",
                          m->path, (long long)idx, e.msg);
    const ProtobufCBinaryData *photos = NULL;
    size_t n = sc_op_photos(o->op, &photos);
    sc_status rc = SC_OK;
    for (size_t i = 0; rc == SC_OK && i < n; i++) {
        if (photos[i].len != SC_HASH_LEN)
            continue;
        sqlite3_bind_blob(ins, 1, photos[i].data, SC_HASH_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, entity, entity_len, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, idx);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = fail_db(m, "record a photo reference");
        sqlite3_reset(ins);
    }
    sc_op_free(NULL, o);
    return rc;
}

static sc_status step_3_to_4(migration *m)
{
    sc_status rc = exec(m, SD_SQL_PHOTO_REFS, "create the photo references table");
    if (rc != SC_OK)
        return rc;
    /* The kinds whose ops name photos: the op-kind table's photos column. */
    char kinds[96] = "";
    for (size_t k = 0, at = 0; k < sc_opkinds_n && at < sizeof kinds; k++)
        if (sc_opkinds[k].photos != SC_PHOTOS_NONE)
            at += (size_t)snprintf(kinds + at, sizeof kinds - at, "%s%d", at ? ", " : "",
                                   (int)sc_opkinds[k].kind);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT idx, entity, signed FROM ops WHERE kind IN (%s) ORDER BY idx",
             kinds);
    int64_t total = 0;
    char count_sql[256];
    snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM (%.200s)", sql);
    if ((rc = query_int(m, count_sql, &total, "count the ops naming photos")) != SC_OK)
        return rc;
    sqlite3_stmt *x = NULL, *ins = NULL;
    if (sqlite3_prepare_v2(m->db, sql, -1, &x, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(m->db,
                           "INSERT OR IGNORE INTO photo_refs(sha, entity, idx) VALUES(?1, ?2, ?3)",
                           -1, &ins, NULL) != SQLITE_OK) {
        rc = fail_db(m, "prepare the photo references");
        goto out;
    }
    int64_t done = 0;
    for (;;) {
        int step = sqlite3_step(x);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = fail_db(m, "read the ops naming photos");
            break;
        }
        rc = refs_of_op(m, ins, sqlite3_column_int64(x, 0), sqlite3_column_blob(x, 1),
                        sqlite3_column_bytes(x, 1), sqlite3_column_blob(x, 2),
                        (size_t)sqlite3_column_bytes(x, 2));
        if (rc != SC_OK)
            break;
        if (++done % COPY_BATCH == 0 && m->progress)
            m->progress(m->ctx, "index the photos ops name", (uint64_t)done, (uint64_t)total);
    }
    if (rc == SC_OK && m->progress)
        m->progress(m->ctx, "index the photos ops name", (uint64_t)done, (uint64_t)total);
out:
    sqlite3_finalize(x);
    sqlite3_finalize(ins);
    return rc;
}

static sc_status step_4_to_5(migration *m)
{
    sc_status rc = exec(m, "ALTER TABLE enroll_codes ADD COLUMN revoked_ms INTEGER",
                        "let enrollment codes be revoked");
    if (rc == SC_OK)
        rc = exec(m, SD_SQL_DEVICE_SEEN, "create the table of devices last seen");
    return rc;
}

static sc_status step_5_to_6(migration *m)
{
    return exec(m, SD_SQL_NOTIFY, "create the table of webhook deliveries");
}

static sc_status step_6_to_7(migration *m)
{
    return exec(m, SD_SQL_NOTIFY_PENDING, "index the pending webhook deliveries by hook");
}

typedef sc_status (*step_fn)(migration *);

/* steps[v] brings version v to v + 1. */
static const step_fn steps[SD_SCHEMA_VERSION] = {
    [1] = step_1_to_2,
    [2] = step_2_to_3,
    [3] = step_3_to_4,
    [4] = step_4_to_5,
    [5] = step_5_to_6,
    [6] = step_6_to_7,
};

/*
 * Copy the register to backup, a consistent snapshot (VACUUM INTO), under
 * a temporary name that is synced and then renamed: a backup of that name
 * is always whole, even after a crash or a full disk midway.
 */
static sc_status back_up(migration *m, const char *backup)
{
    char part[4200];
    if ((size_t)snprintf(part, sizeof part, "%s.part", backup) >= sizeof part)
        return sc_err_set(m->err, SC_ERR_INVALID_ARG, 0, "backup path too long");
    remove(part); /* left by an earlier run that stopped midway */
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(m->db, "VACUUM INTO ?1", -1, &x, NULL) != SQLITE_OK)
        return fail_db(m, "back up");
    sqlite3_bind_text(x, 1, part, -1, SQLITE_STATIC);
    sc_status rc = SC_OK;
    if (sqlite3_step(x) != SQLITE_DONE)
        rc = sc_err_set(m->err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                        "register %s: back up to %s: %s; nothing was "
                        "changed",
                        m->path, backup, sqlite3_errmsg(m->db));
    sqlite3_finalize(x);
    if (rc == SC_OK) {
        int fd = open(part, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0 || rename(part, backup) != 0)
            rc = sc_err_set(m->err, SC_ERR_IO, 0, "back up to %s: %s; nothing was changed", backup,
                            strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    if (rc != SC_OK) {
        remove(part);
        return rc;
    }
    /* The rename itself survives a crash once the directory is synced. */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", backup);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return SC_OK;
}

sc_status sd_store_sqlite_version(const char *path, int *version, sc_err *err)
{
    *version = 0;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return sc_err_set(err, SC_ERR_NOT_FOUND, 0, "no register at %s", path);
    migration m = {.path = path, .err = err};
    /* Read-write: a read-only connection cannot recover a WAL a crashed syncd left behind. */
    if (sqlite3_open_v2(path, &m.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sc_status rc = m.db ? fail_db(&m, "open")
                            : sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot open %s", path);
        sqlite3_close_v2(m.db);
        return rc;
    }
    sc_status rc = read_version(&m, version);
    sqlite3_close_v2(m.db);
    return rc;
}

sc_status sd_store_sqlite_migrate(const char *path, const char *backup, int *from,
                                  sd_store_progress progress, void *ctx, sc_err *err)
{
    *from = 0;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return sc_err_set(err, SC_ERR_NOT_FOUND, 0,
                          "no register at %s (run `syncd init --data DIR` first)", path);
    migration m = {.path = path, .progress = progress, .ctx = ctx, .err = err};
    sc_status rc = SC_OK;
    if (sqlite3_open_v2(path, &m.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = m.db ? fail_db(&m, "open")
                  : sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot open %s", path);
        goto out;
    }
    sqlite3_extended_result_codes(m.db, 1);
    /*
     * No busy wait: another process writing now is a running syncd (the
     * data directory's lock keeps this build's out, an older build's is
     * not), and a migration must not interleave with it.
     */
    if ((rc = exec(&m, "PRAGMA foreign_keys = OFF; PRAGMA synchronous = FULL;", "configure")) !=
        SC_OK)
        goto out;
    int version = 0;
    if ((rc = read_version(&m, &version)) != SC_OK)
        goto out;
    *from = version;
    if (version > SD_SCHEMA_VERSION) {
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                        "register %s has schema version %d, newer than this syncd's %d: use the "
                        "syncd that wrote it",
                        path, version, SD_SCHEMA_VERSION);
        goto out;
    }
    if (version == SD_SCHEMA_VERSION)
        goto out;
    if (backup) {
        if (stat(backup, &sb) == 0) {
            rc = sc_err_set(err, SC_ERR_EXISTS, 0,
                            "%s already exists: move it away, or migrate with --no-backup", backup);
            goto out;
        }
        if (progress)
            progress(ctx, "back up the register", 0, 1);
        if ((rc = back_up(&m, backup)) != SC_OK)
            goto out;
        if (progress)
            progress(ctx, "back up the register", 1, 1);
    }
    for (int v = version; v < SD_SCHEMA_VERSION; v++) {
        if (!steps[v]) {
            rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                            "register %s: no migration from schema version %d", path, v);
            goto out;
        }
        if ((rc = exec(&m, "BEGIN IMMEDIATE", "begin (is a syncd still serving it?)")) != SC_OK)
            goto out;
        if ((rc = steps[v](&m)) == SC_OK && (rc = write_version(&m, v + 1)) == SC_OK)
            rc = exec(&m, "COMMIT", "commit");
        if (rc != SC_OK) {
            sqlite3_exec(m.db, "ROLLBACK", NULL, NULL, NULL);
            if (!strstr(err->msg, "nothing was changed")) {
                char why[sizeof err->msg];
                memcpy(why, err->msg, sizeof why);
                sc_err_set(err, rc, err->reason,
                           "%.*s; rolled back: the register is whole, at "
                           "schema version %d",
                           (int)(sizeof why - 80), why, v);
            }
            goto out;
        }
        if (progress)
            progress(ctx, "schema version", (uint64_t)v + 1, SD_SCHEMA_VERSION);
    }
    /* Fold the WAL back into the file, so the register is one file again. */
    sqlite3_exec(m.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
out:
    sqlite3_close_v2(m.db);
    return rc;
}
