/*
 * test_migrate.c: `syncd migrate` (syncd/cmd/migrate.c, store_sqlite_migrate.c)
 * and the data directory's lock (datalock.c), with the real syncd binary on
 * tests/vectors/register-v1: a schema-1 register written by the syncd of
 * commit 43840a7 (its make.sh says how).  What the old syncd's audit printed
 * for it is below; the migrated register must audit to the same root and
 * replica hash, accept new ops, and have the schema a new register has.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/codec.h"
#include "core/ids.h"
#include "core/keys.h"
#include "sctest.h"
#include "sctest_server.h"

/* `syncd audit` of the fixture by the syncd that wrote it. */
#define V1_ENTRIES "287"
#define V1_ROOT    "5fb220c0392c5b78cd84c2abdc21d73d28e314048925f1eeafe938452f38541c"
#define V1_REPLICA "5751a1533d8bec5e6b1354795294bfdc4c37d08e2027e8546723bd4ca06b9d73"

typedef struct fix {
    char tmp[512];
    char data[600];
    char db[700];
} fix;

/* Run a shell command; stdout and stderr into out.  Returns the exit status. */
__attribute__((format(printf, 3, 4))) static int sh(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t got = fread(out, 1, cap - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    fprintf(stderr, "$ %s\n%s", cmd, out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A copy of the schema-1 fixture in a temp dir, as an operator would have it. */
static void fix_open(fix *f)
{
    sct_tempdir(f->tmp, sizeof f->tmp);
    snprintf(f->data, sizeof f->data, "%s/data", f->tmp);
    snprintf(f->db, sizeof f->db, "%s/register.db", f->data);
    char out[1024];
    ck_assert_int_eq(
        sh(out, sizeof out, "cp -R '%s/register-v1/data' '%s'", SC_VECTORS_DIR, f->data), 0);
    /* git keeps neither the key's mode nor empty directories. */
    ck_assert_int_eq(chmod(f->data, 0700), 0);
    char key[700];
    snprintf(key, sizeof key, "%s/server.key", f->data);
    ck_assert_int_eq(chmod(key, 0600), 0);
}

static void fix_close(fix *f)
{
    sct_rmtree(f->tmp);
}

/* Add each photo hash of list to the set (an in-memory table) with the entity. */
static void add_pairs(sqlite3 *set, const ProtobufCBinaryData *list, size_t n, const void *entity)
{
    sqlite3_stmt *x = NULL;
    ck_assert_int_eq(
        sqlite3_prepare_v2(set, "INSERT OR IGNORE INTO p VALUES(?1, ?2)", -1, &x, NULL), SQLITE_OK);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_blob(x, 1, list[i].data, (int)list[i].len, SQLITE_STATIC);
        sqlite3_bind_blob(x, 2, entity, SC_ID_LEN, SQLITE_STATIC);
        ck_assert_int_eq(sqlite3_step(x), SQLITE_DONE);
        sqlite3_reset(x);
    }
    sqlite3_finalize(x);
}

/* Distinct (photo, entity) pairs the ops of the register at path name, read field by field. */
static int64_t photo_pairs(const char *path)
{
    sqlite3 *db = NULL, *set = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_open(":memory:", &set), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(set, "CREATE TABLE p(sha, entity, PRIMARY KEY(sha, entity))",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *x = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT entity, signed FROM ops", -1, &x, NULL),
                     SQLITE_OK);
    while (sqlite3_step(x) == SQLITE_ROW) {
        sc_op *o = NULL;
        ck_assert_int_eq(sc_op_open(NULL, sqlite3_column_blob(x, 1),
                                    (size_t)sqlite3_column_bytes(x, 1), 0, &o, NULL),
                         SC_OK);
        const Scpb__Op *op = o->op;
        const void *e = sqlite3_column_blob(x, 0);
        if (op->body_case == SCPB__OP__BODY_PHOTO_ATTACH)
            add_pairs(set, &op->photo_attach->sha256, 1, e);
        else if (op->body_case == SCPB__OP__BODY_FINDING_CREATE)
            add_pairs(set, op->finding_create->evidence, op->finding_create->n_evidence, e);
        else if (op->body_case == SCPB__OP__BODY_RECTIFICATION_REPORT)
            add_pairs(set, op->rectification_report->evidence, op->rectification_report->n_evidence,
                      e);
        else if (op->body_case == SCPB__OP__BODY_REVISIT)
            add_pairs(set, op->revisit->evidence, op->revisit->n_evidence, e);
        else if (op->body_case == SCPB__OP__BODY_INSPECTION_SUBMIT)
            add_pairs(set, op->inspection_submit->photos, op->inspection_submit->n_photos, e);
        sc_op_free(NULL, o);
    }
    sqlite3_finalize(x);
    sqlite3_close(db);
    ck_assert_int_eq(sqlite3_prepare_v2(set, "SELECT count(*) FROM p", -1, &x, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(x), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(x, 0);
    sqlite3_finalize(x);
    sqlite3_close(set);
    return n;
}

/*
 * The shape of a register's schema, independent of how each table came to
 * be: every table and index with its columns, and each index's uniqueness.
 */
static void schema_shape(const char *path, char *out, size_t cap)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *x = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.pk "
                                        "FROM sqlite_master m, pragma_table_info(m.name) p "
                                        "WHERE m.type = 'table' ORDER BY m.name, p.cid",
                                        -1, &x, NULL),
                     SQLITE_OK);
    out[0] = '\0';
    while (sqlite3_step(x) == SQLITE_ROW) {
        char line[256];
        snprintf(line, sizeof line, "table %s %d %s %s %d %d\n", sqlite3_column_text(x, 0),
                 sqlite3_column_int(x, 1), sqlite3_column_text(x, 2), sqlite3_column_text(x, 3),
                 sqlite3_column_int(x, 4), sqlite3_column_int(x, 5));
        strncat(out, line, cap - strlen(out) - 1);
    }
    sqlite3_finalize(x);
    /* Indexes, named by their table and columns: autoindex names depend on history. */
    ck_assert_int_eq(
        sqlite3_prepare_v2(db,
                           "SELECT m.name, l.\"unique\", l.partial, "
                           "(SELECT group_concat(i.name, ',') FROM pragma_index_info(l.name) i) "
                           "FROM sqlite_master m, pragma_index_list(m.name) l "
                           "WHERE m.type = 'table' ORDER BY 1, 4, 2",
                           -1, &x, NULL),
        SQLITE_OK);
    while (sqlite3_step(x) == SQLITE_ROW) {
        char line[256];
        snprintf(line, sizeof line, "index %s unique=%d partial=%d (%s)\n",
                 sqlite3_column_text(x, 0), sqlite3_column_int(x, 1), sqlite3_column_int(x, 2),
                 sqlite3_column_text(x, 3));
        strncat(out, line, cap - strlen(out) - 1);
    }
    sqlite3_finalize(x);
    sqlite3_close(db);
}

START_TEST(old_register_refused_then_migrated)
{
    fix f;
    fix_open(&f);
    char out[8192];
    uint8_t before[SC_HASH_LEN], after[SC_HASH_LEN];
    ck_assert(sct_file_sha256(f.db, before));

    /* serve refuses the old schema, says what to do, and changes nothing. */
    ck_assert_int_eq(sh(out, sizeof out, "'%s' serve --data '%s' --listen 127.0.0.1:0",
                        sct_syncd_path(), f.data),
                     1);
    ck_assert_ptr_nonnull(strstr(out, "schema version 1; this syncd reads version 7"));
    ck_assert_ptr_nonnull(strstr(out, "syncd migrate --data DIR"));
    ck_assert(sct_file_sha256(f.db, after));
    ck_assert_mem_eq(before, after, SC_HASH_LEN);

    /* What a backup stopped midway (a crash, a full disk) left: replaced, never taken as a backup.
     */
    char part[800];
    snprintf(part, sizeof part, "%s/register.v1.db.part", f.data);
    FILE *pf = fopen(part, "w");
    ck_assert_ptr_nonnull(pf);
    fputs("half a backup", pf);
    fclose(pf);
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s'", sct_syncd_path(), f.data), 0);
    ck_assert_ptr_nonnull(strstr(out, "from schema version 1 to 7"));
    struct stat sb;
    ck_assert_int_ne(stat(part, &sb), 0);
    ck_assert_ptr_nonnull(strstr(out, "copy the log: " V1_ENTRIES " of " V1_ENTRIES));
    ck_assert_ptr_nonnull(strstr(out, "log entries checked:  " V1_ENTRIES));
    ck_assert_ptr_nonnull(strstr(out, "root " V1_ROOT));
    ck_assert_ptr_nonnull(strstr(out, "replica hash " V1_REPLICA));

    /* The backup is the register as it was, byte for byte in content. */
    char backup[800];
    snprintf(backup, sizeof backup, "%s/register.v1.db", f.data);
    ck_assert_int_eq(sct_sql_int(backup, "SELECT CAST(value AS TEXT) FROM meta WHERE key = "
                                     "'schema_version'"),
                     1);
    ck_assert_int_eq(sct_sql_int(backup, "SELECT count(*) FROM ops"), 287);
    ck_assert_int_eq(sct_sql_int(backup, "SELECT count(*) FROM merkle"), 281);

    /* Storage as a new register has it: only levels 4 and 8 of the tree. */
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM ops"), 287);
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM merkle WHERE level % 4 != 0"), 0);
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM merkle WHERE level = 4"), 17);
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM merkle WHERE level = 8"), 1);
    /* The photos ops name, indexed: as many (photo, entity) pairs as the log's ops name. */
    int64_t pairs = photo_pairs(f.db);
    ck_assert_int_gt(pairs, 0);
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM photo_refs"), pairs);
    ck_assert_ptr_nonnull(strstr(out, "index the photos ops name: 140 of 140"));
    /* Step 4 -> 5: codes can be revoked, and devices last seen start unknown. */
    ck_assert_int_eq(
        sct_sql_int(f.db, "SELECT count(*) FROM enroll_codes WHERE revoked_ms IS NOT NULL"), 0);
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM device_seen"), 0);
    /* Step 5 -> 6: the webhook deliveries start empty. */
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM notify"), 0);
    /* Step 6 -> 7: the pending ones indexed by hook, and no longer by due time alone. */
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                       "AND name = 'notify_pending' AND sql LIKE "
                                       "'%(hook, next_ms, id) WHERE state = 0'"),
                     1);
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM sqlite_master WHERE name = "
                                       "'notify_due'"),
                     0);
    char fresh_dir[700], fresh_db[800];
    snprintf(fresh_dir, sizeof fresh_dir, "%s/fresh", f.tmp);
    snprintf(fresh_db, sizeof fresh_db, "%s/register.db", fresh_dir);
    ck_assert_int_eq(sct_syncd_run(NULL, 0, "init", "--data", fresh_dir, NULL), 0);
    static char want[16384], got[16384];
    schema_shape(fresh_db, want, sizeof want);
    schema_shape(f.db, got, sizeof got);
    ck_assert_str_eq(got, want);

    /* Again: nothing to do. */
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s'", sct_syncd_path(), f.data), 0);
    ck_assert_ptr_nonnull(strstr(out, "nothing to migrate"));

    /* It serves, appends after the rebuilt frontier, and still audits clean. */
    sct_server s;
    sct_server_start(&s, f.data, NULL);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "admin", "--data", f.data, "org", "add",
                                   "new-street", "--name", "新街道", "--parent", "county", NULL),
                     0);
    ck_assert_int_eq(sct_server_stop(&s), 0);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "audit", "--data", f.data, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "log entries checked:   288"));
    ck_assert_ptr_nonnull(strstr(out, "OK: everything holds"));
    fix_close(&f);
}
END_TEST

START_TEST(one_process_per_data_directory)
{
    fix f;
    fix_open(&f);
    char out[8192];
    ck_assert_int_eq(
        sh(out, sizeof out, "'%s' migrate --data '%s' --no-backup", sct_syncd_path(), f.data), 0);
    char backup[800];
    snprintf(backup, sizeof backup, "%s/register.v1.db", f.data);
    struct stat sb;
    ck_assert_int_ne(stat(backup, &sb), 0);

    sct_server s;
    sct_server_start(&s, f.data, NULL);
    /* A second server on the same register would keep its own log frontier: refused. */
    ck_assert_int_eq(sh(out, sizeof out, "'%s' serve --data '%s' --listen 127.0.0.1:0",
                        sct_syncd_path(), f.data),
                     1);
    ck_assert_ptr_nonnull(strstr(out, "is in use by another syncd (syncd serve, pid"));
    ck_assert_ptr_null(strstr(out, "listening on"));
    /* So is a migration under a running server. */
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s'", sct_syncd_path(), f.data), 1);
    ck_assert_ptr_nonnull(strstr(out, "is in use by another syncd"));
    /* Admin and audit work next to it, as before. */
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "audit", "--data", f.data, NULL), 0);
    ck_assert_int_eq(sct_server_stop(&s), 0);
    /* The lock goes with the process, however it ends. */
    sct_server_start(&s, f.data, NULL);
    sct_server_kill(&s);
    sct_server_start(&s, f.data, NULL);
    ck_assert_int_eq(sct_server_stop(&s), 0);
    fix_close(&f);
}
END_TEST

START_TEST(failed_step_changes_nothing)
{
    fix f;
    fix_open(&f);
    char out[8192];
    /* A release event naming an op the log does not have: the rebuilt log fails the key check. */
    sct_sql_exec(f.db, "INSERT INTO releases(seq, entity, idx) VALUES(100000, x'00', 99999)");
    uint8_t before[SC_HASH_LEN], after[SC_HASH_LEN];
    ck_assert(sct_file_sha256(f.db, before));
    ck_assert_int_eq(
        sh(out, sizeof out, "'%s' migrate --data '%s' --no-backup", sct_syncd_path(), f.data), 1);
    ck_assert_ptr_nonnull(
        strstr(out, "refers to nothing after the migration; nothing was changed"));
    ck_assert(sct_file_sha256(f.db, after));
    ck_assert_mem_eq(before, after, SC_HASH_LEN);
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT CAST(value AS TEXT) FROM meta WHERE key = "
                                   "'schema_version'"),
                     1);
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM merkle"), 281);
    fix_close(&f);
}
END_TEST

/*
 * A full disk (here a file size limit, with SIGXFSZ ignored so writes fail
 * with EFBIG as on a full filesystem): the backup, or the step copying the
 * log, fails with a clear error and the register is as it was.
 */
START_TEST(full_disk_changes_nothing)
{
    fix f;
    fix_open(&f);
    char out[8192];
    uint8_t before[SC_HASH_LEN], after[SC_HASH_LEN];
    ck_assert(sct_file_sha256(f.db, before));
    ck_assert_int_eq(sh(out, sizeof out, "trap '' XFSZ; ulimit -f 128; '%s' migrate --data '%s'",
                        sct_syncd_path(), f.data),
                     1);
    ck_assert_ptr_nonnull(strstr(out, "back up to"));
    ck_assert_ptr_nonnull(strstr(out, "nothing was changed"));
    char backup[800], part[820];
    snprintf(backup, sizeof backup, "%s/register.v1.db", f.data);
    snprintf(part, sizeof part, "%s.part", backup);
    struct stat sb;
    ck_assert_int_ne(stat(backup, &sb), 0);
    ck_assert_int_ne(stat(part, &sb), 0);
    ck_assert(sct_file_sha256(f.db, after));
    ck_assert_mem_eq(before, after, SC_HASH_LEN);

    /* Without the backup, the copy of the log outgrows the limit: rolled back. */
    ck_assert_int_eq(sh(out, sizeof out,
                        "trap '' XFSZ; ulimit -f 128; '%s' migrate --data '%s' --no-backup",
                        sct_syncd_path(), f.data),
                     1);
    ck_assert_ptr_nonnull(strstr(out, "rolled back: the register is whole, at schema version 1"));
    ck_assert(sct_file_sha256(f.db, after));
    ck_assert_mem_eq(before, after, SC_HASH_LEN);
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT CAST(value AS TEXT) FROM meta WHERE key = "
                                   "'schema_version'"),
                     1);

    /* Space again: it migrates. */
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s'", sct_syncd_path(), f.data), 0);
    ck_assert_ptr_nonnull(strstr(out, "root " V1_ROOT));
    fix_close(&f);
}
END_TEST

START_TEST(refusals)
{
    fix f;
    fix_open(&f);
    char out[8192];
    /* No data directory, no register. */
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s/none'", sct_syncd_path(), f.tmp),
                     1);
    ck_assert_ptr_nonnull(strstr(out, "no data directory"));
    char empty[700];
    snprintf(empty, sizeof empty, "%s/empty", f.tmp);
    ck_assert_int_eq(mkdir(empty, 0700), 0);
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s'", sct_syncd_path(), empty), 1);
    ck_assert_ptr_nonnull(strstr(out, "no register at"));
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate", sct_syncd_path()), 2);
    ck_assert_int_eq(
        sh(out, sizeof out, "'%s' migrate --data '%s' --force", sct_syncd_path(), f.data), 2);

    /* A backup of that name already there: not overwritten, nothing migrated. */
    char backup[800];
    snprintf(backup, sizeof backup, "%s/register.v1.db", f.data);
    FILE *b = fopen(backup, "w");
    ck_assert_ptr_nonnull(b);
    fputs("an operator's file", b);
    fclose(b);
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s'", sct_syncd_path(), f.data), 1);
    ck_assert_ptr_nonnull(strstr(out, "already exists"));
    ck_assert_int_eq(sct_sql_int(f.db, "SELECT count(*) FROM merkle"), 281);
    remove(backup);

    /* A register from a newer syncd. */
    sct_sql_exec(f.db, "UPDATE meta SET value = CAST('9' AS BLOB) WHERE key = 'schema_version'");
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s'", sct_syncd_path(), f.data), 1);
    ck_assert_ptr_nonnull(strstr(out, "schema version 9, newer than this syncd's 7"));
    /* Not a number. */
    sct_sql_exec(f.db, "UPDATE meta SET value = CAST('x1' AS BLOB) WHERE key = 'schema_version'");
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s'", sct_syncd_path(), f.data), 1);
    ck_assert_ptr_nonnull(strstr(out, "is not a version number"));
    /* Not a register at all. */
    sct_sql_exec(f.db, "DROP TABLE meta");
    ck_assert_int_eq(sh(out, sizeof out, "'%s' migrate --data '%s'", sct_syncd_path(), f.data), 1);
    ck_assert_ptr_nonnull(strstr(out, "is not a Spotcheck register"));
    fix_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/migrate");
    const sct_case cases[] = {
        {"old register refused, then migrated", old_register_refused_then_migrated},
        {"one process per data directory", one_process_per_data_directory},
        {"a failed step changes nothing", failed_step_changes_nothing},
        {"a full disk changes nothing", full_disk_changes_nothing},
        {"refusals", refusals},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), &(sct_tcase_opts){.timeout_s = 180});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
