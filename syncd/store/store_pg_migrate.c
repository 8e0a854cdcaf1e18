/*
 * store_pg_migrate.c: the PostgreSQL register's schema versions and
 * `syncd migrate` on it.
 *
 * The PostgreSQL schema begins at version 5 (store_pg_schema.h): a register
 * of an earlier version is a SQLite one.  Steps:
 *   5 -> 6  the notify table (webhook deliveries), empty.
 *   6 -> 7  notify_due (next_ms) replaced by notify_pending (hook,
 *           next_ms, id), so that a hook's deliveries are counted and
 *           claimed without reading another hook's.
 * Each step is run in one write transaction (begin(write) takes the
 * register's write lock: it waits for every syncd's group commit and holds
 * the others off until it commits) that reads the version again under the
 * lock and ends by writing the new schema_version, so that after a failure
 * the register is at the last version completed, and a second `syncd
 * migrate` run meanwhile waits for the first and then finds nothing to do.
 */
#include "store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reason.h"
#include "store_pg_schema.h"

/* The first version a PostgreSQL register has. */
#define PG_FIRST_VERSION 5

static sc_status read_version(sd_store *s, int *version, sc_err *err)
{
    uint8_t *v = NULL;
    size_t n = 0;
    sc_status rc = s->vt->meta_get(s, "schema_version", &v, &n, err);
    if (rc == SC_OK) {
        char text[16] = {0}, *end = NULL;
        memcpy(text, v, n < sizeof text - 1 ? n : sizeof text - 1);
        long x = strtol(text, &end, 10);
        if (n == 0 || n >= sizeof text || *end || x < 1 || x > 1000000)
            rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                            "register %s: stored schema_version is invalid", sd_store_pg_shown(s));
        else
            *version = (int)x;
    } else if (rc == SC_ERR_NOT_FOUND || rc == SC_ERR_STORAGE) {
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "%s holds no Spotcheck register",
                        sd_store_pg_shown(s));
    }
    free(v);
    return rc;
}

sc_status sd_store_pg_version(const char *url, int *version, sc_err *err)
{
    sd_store *s = NULL;
    sc_status rc = sd_store_pg_connect(url, &s, err);
    if (rc != SC_OK)
        return rc;
    rc = read_version(s, version, err);
    s->vt->close(s);
    return rc;
}

/*
 * Bring the register from the version it has under the write lock to the
 * next, in one write transaction; *at is that version (the next one after a
 * step).  The version read before the lock is only a guess: another
 * `syncd migrate` on the same register may have taken it further while this
 * one waited for the lock, and then there is nothing left to do (*at is
 * SD_SCHEMA_VERSION) rather than a script run twice.
 */
static sc_status step(sd_store *s, int *at, sc_err *err)
{
    static const char *const script[SD_SCHEMA_VERSION] = {
        [5] = SD_PG_NOTIFY,
        [6] = SD_PG_NOTIFY_PENDING,
    };
    sc_status rc = s->vt->begin(s, true, err);
    if (rc != SC_OK)
        return rc;
    int v = 0;
    rc = read_version(s, &v, err);
    if (rc == SC_OK && v == SD_SCHEMA_VERSION) {
        s->vt->rollback(s);
        *at = v;
        return SC_OK;
    }
    if (rc == SC_OK && (v < 0 || v >= SD_SCHEMA_VERSION || !script[v]))
        rc =
            sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                       "register %s: no migration from schema version %d", sd_store_pg_shown(s), v);
    if (rc == SC_OK)
        rc = sd_store_pg_exec(s, script[v], err);
    char text[16];
    snprintf(text, sizeof text, "%d", v + 1);
    if (rc == SC_OK)
        rc = s->vt->meta_put(s, "schema_version", text, strlen(text), err);
    if (rc == SC_OK)
        rc = s->vt->commit(s, err);
    else
        s->vt->rollback(s);
    if (rc == SC_OK)
        *at = v + 1;
    return rc;
}

sc_status sd_store_pg_migrate(const char *url, int *from, sd_store_progress progress, void *ctx,
                              sc_err *err)
{
    sd_store *s = NULL;
    sc_status rc = sd_store_pg_connect(url, &s, err);
    if (rc != SC_OK)
        return rc;
    int at = 0;
    rc = read_version(s, &at, err);
    *from = at;
    if (rc == SC_OK && at > SD_SCHEMA_VERSION)
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                        "register %s has schema version %d, newer than this syncd's %d: run the "
                        "syncd that wrote it",
                        sd_store_pg_shown(s), at, SD_SCHEMA_VERSION);
    if (rc == SC_OK && at < PG_FIRST_VERSION)
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                        "register %s has schema version %d; PostgreSQL registers begin at %d",
                        sd_store_pg_shown(s), at, PG_FIRST_VERSION);
    while (rc == SC_OK && at < SD_SCHEMA_VERSION)
        rc = step(s, &at, err);
    if (rc == SC_OK && progress)
        progress(ctx, "migrate the register", 1, 1);
    s->vt->close(s);
    return rc;
}
