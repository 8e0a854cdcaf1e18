/*
 * store_sqlite_backup.c: a copy of a live register (store.h,
 * sd_store_sqlite_backup), with SQLite's online backup API.
 *
 * The backup API copies a database in steps and, when another connection
 * commits between two steps, starts over: under a syncd that commits
 * every few milliseconds a large register would never finish.  So the
 * copy runs inside a read transaction opened on the source before the
 * first step and held to the last: in WAL mode writers go on appending to
 * the WAL, the source connection keeps reading the snapshot it began
 * with, and the copy is that one snapshot, whole, however long it takes.
 * The WAL grows meanwhile (it cannot be checkpointed past a reader), which
 * costs disk space for the copy's duration, not correctness.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/reason.h"
#include "store.h"

/* How long the source may stay locked by a writer before the read transaction gives up (ms). */
#define BUSY_MS 10000

static sc_status db_fail(sqlite3 *db, const char *what, const char *path, sc_err *err)
{
    return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "back up the register: %s %s: %s",
                      what, path, db ? sqlite3_errmsg(db) : "out of memory");
}

/* Open path (existing, or made when create) with the busy timeout. */
static sc_status open_db(const char *path, bool create, sqlite3 **db, sc_err *err)
{
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK)
        return db_fail(*db, "cannot open", path, err);
    sqlite3_busy_timeout(*db, BUSY_MS);
    return SC_OK;
}

/* The pages, step by step, inside the source's read transaction. */
static sc_status copy_pages(sqlite3 *src, sqlite3 *dst, const char *path, const char *to,
                            sd_store_progress progress, void *ctx, sc_err *err)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b)
        return db_fail(dst, "cannot start the copy to", to, err);
    int rc;
    do {
        rc = sqlite3_backup_step(b, SC_BACKUP_STEP_PAGES);
        if (progress && (rc == SQLITE_OK || rc == SQLITE_DONE)) {
            int total = sqlite3_backup_pagecount(b);
            progress(ctx, "copy the register", (uint64_t)(total - sqlite3_backup_remaining(b)),
                     (uint64_t)total);
        }
    } while (rc == SQLITE_OK);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                          "back up the register: copying %s to %s: %s", path, to,
                          sqlite3_errstr(rc));
    return SC_OK;
}

sc_status sd_store_sqlite_backup(const char *path, const char *to, sd_store_progress progress,
                                 void *ctx, sc_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return sc_err_set(err, SC_ERR_NOT_FOUND, 0, "no register at %s", path);
    if (lstat(to, &sb) == 0)
        return sc_err_set(err, SC_ERR_EXISTS, 0, "back up the register: %s already exists", to);
    sqlite3 *src = NULL, *dst = NULL;
    sc_status rc = open_db(path, false, &src, err);
    if (rc == SC_OK)
        rc = open_db(to, true, &dst, err);
    /* BEGIN is deferred: the SELECT takes the snapshot the whole copy reads. */
    if (rc == SC_OK && sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master;", NULL, NULL,
                                    NULL) != SQLITE_OK)
        rc = db_fail(src, "cannot read", path, err);
    if (rc == SC_OK)
        rc = copy_pages(src, dst, path, to, progress, ctx, err);
    if (src)
        sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
    if (dst && sqlite3_close(dst) != SQLITE_OK && rc == SC_OK)
        rc = db_fail(dst, "cannot close", to, err);
    sqlite3_close_v2(src);
    if (rc != SC_OK)
        return rc;
    int fd = open(to, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = sc_err_set(err, SC_ERR_IO, 0, "back up the register: cannot sync %s: %s", to,
                        strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}
