/*
 * store_sqlite_check.c: is a SQLite register's schema the one syncd
 * makes?  A register restored from a backup is checked by the audit
 * entry by entry, but its schema is the file's own: a trigger added to
 * it (on devices, say, setting revoked_idx back to NULL) would run inside
 * syncd on every later write, and change what is stored without any op.
 * So the schema is compared with the one a new register gets, object by
 * object and column by column (not by its SQL text, which a migration
 * rewrites: a table renamed by a step keeps its new name quoted).
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reason.h"
#include "store.h"
#include "store_sqlite_schema.h"

/* One line per object and per column of it; at most SCHEMA_LINES_MAX lines of SCHEMA_LINE_MAX. */
#define SCHEMA_LINE_MAX 200
#define SCHEMA_LINES_MAX 512

typedef struct lines {
    char (*v)[SCHEMA_LINE_MAX];
    size_t n;
    bool full;
} lines;

static void add(lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(lines *l, const char *fmt, ...)
{
    if (l->n == SCHEMA_LINES_MAX) {
        l->full = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->v[l->n++], SCHEMA_LINE_MAX, fmt, ap);
    va_end(ap);
}

static const char *text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "NULL";
}

/* The columns of a table, or of an index, as lines under the object's own. */
static int describe_parts(sqlite3 *db, const char *type, const char *name, lines *l)
{
    const char *sql =
        strcmp(type, "table") == 0
            ? "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) "
              "ORDER BY cid"
            : "SELECT name, \"desc\", coll, key, (SELECT \"unique\" || ' ' || origin || ' ' || partial "
              "FROM pragma_index_list((SELECT tbl_name FROM sqlite_schema WHERE name = ?1)) WHERE "
              "name = ?1), '' FROM pragma_index_xinfo(?1) ORDER BY seqno";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        add(l, "%s %s: %s %s %s %s %s %s", type, name, text(st, 0), text(st, 1), text(st, 2),
            text(st, 3), text(st, 4), text(st, 5));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Every object of db's schema (sqlite_stat tables, which ANALYZE makes, left out), sorted. */
static int describe(sqlite3 *db, lines *l)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT type, name, tbl_name FROM sqlite_schema WHERE name NOT LIKE "
                                "'sqlite\\_stat%' ESCAPE '\\' ORDER BY type, name",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        char type[16], name[96];
        snprintf(type, sizeof type, "%s", text(st, 0));
        snprintf(name, sizeof name, "%s", text(st, 1));
        add(l, "%s %s on %s", type, name, text(st, 2));
        if (strcmp(type, "table") == 0 || strcmp(type, "index") == 0)
            rc = describe_parts(db, type, name, l);
    }
    int end = sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = end;
    if (rc == SQLITE_OK)
        qsort(l->v, l->n, sizeof *l->v, (int (*)(const void *, const void *))strcmp);
    return rc;
}

/* The first line of a not in b (sorted), or NULL. */
static const char *first_missing(const lines *a, const lines *b)
{
    for (size_t i = 0; i < a->n; i++)
        if (!bsearch(a->v[i], b->v, b->n, sizeof *b->v,
                     (int (*)(const void *, const void *))strcmp))
            return a->v[i];
    return NULL;
}

sc_status sd_sqlite_schema_check(sqlite3 *db, const char *path, char *problem, size_t cap,
                                 sc_err *err)
{
    problem[0] = '\0';
    lines have = {0}, want = {0};
    sqlite3 *fresh = NULL;
    sc_status s = SC_OK;
    have.v = calloc(SCHEMA_LINES_MAX, sizeof *have.v);
    want.v = calloc(SCHEMA_LINES_MAX, sizeof *want.v);
    if (!have.v || !want.v) {
        s = sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory checking the schema");
        goto out;
    }
    if (sqlite3_open_v2(":memory:", &fresh, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(fresh, SD_SQL_SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        describe(fresh, &want) != SQLITE_OK) {
        s = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                       "register: cannot make the schema to compare with: %s",
                       fresh ? sqlite3_errmsg(fresh) : "out of memory");
        goto out;
    }
    if (describe(db, &have) != SQLITE_OK) {
        s = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                       "register %s: cannot read its schema: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    const char *extra = first_missing(&have, &want), *gone = first_missing(&want, &have);
    if (have.full)
        snprintf(problem, cap, "the register's schema holds more objects than syncd makes");
    else if (extra)
        snprintf(problem, cap,
                 "the register's schema holds what syncd never makes (%s): it was changed outside "
                 "syncd",
                 extra);
    else if (gone)
        snprintf(problem, cap,
                 "the register's schema lacks what syncd makes (%s): it was changed outside syncd",
                 gone);
out:
    sqlite3_close(fresh);
    free(have.v);
    free(want.v);
    return s;
}
