/*
 * test_migrate.c: a replica written by an older libspotcheck, with work
 * queued offline, opens with this one, is migrated, and its queue syncs;
 * one written by a newer libspotcheck is refused and left as it was.
 *
 * tests/vectors/replica-v1 holds a schema-1 replica made by the spotcheck
 * of commit 73b871d (its make.sh says how), with ops and a photo still in
 * its outbox, and the register it is enrolled with.  The register is served
 * by a real syncd on a new port; the replica learns it with
 * sc_server_set_url, as an app pointed at its server again would.
 */
#include "fixture.h"

#include <pthread.h>
#include <sys/stat.h>

#include "sctest_reliab.h"
#include "sctest_server.h"

#define VECTOR_PASS "vector-passphrase"

typedef struct vec {
    char tmp[512];
    char data[600]; /* the register */
    char db[600];   /* the replica */
    sct_server srv;
} vec;

/* A copy of the vector in a temp dir, with the modes git does not keep. */
static void vec_open(vec *v)
{
    memset(v, 0, sizeof *v);
    sct_tempdir(v->tmp, sizeof v->tmp);
    snprintf(v->data, sizeof v->data, "%s/data", v->tmp);
    snprintf(v->db, sizeof v->db, "%s/replica.db", v->tmp);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp -R '%s/replica-v1/.' '%s'", SC_VECTORS_DIR, v->tmp);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(chmod(v->data, 0700), 0);
    char key[700];
    snprintf(key, sizeof key, "%s/server.key", v->data);
    ck_assert_int_eq(chmod(key, 0600), 0);
    ck_assert_int_eq(chmod(v->db, 0600), 0);
}

/* Serve the register (migrated first, should this syncd read a later register schema). */
static void vec_serve(vec *v)
{
    char out[4096];
    int st = sct_syncd_run(out, sizeof out, "migrate", "--data", v->data, NULL);
    ck_assert_msg(st == 0, "syncd migrate: %s", out);
    sct_server_start(&v->srv, v->data, NULL);
}

static void vec_close(vec *v)
{
    if (v->srv.pid > 0)
        ck_assert_int_eq(sct_server_stop(&v->srv), 0);
    sct_rmtree(v->tmp);
}

static sc_client *open_existing(const char *db)
{
    sc_client *c = NULL;
    char err[512];
    sc_status s = sc_client_open_v2(db, NULL, SC_OPEN_EXISTING, &c, err, sizeof err);
    ck_assert_msg(s == SC_OK, "open %s: %s", db, err);
    return c;
}

static long long jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_integer(v), "no integer %s", key);
    return (long long)json_integer_value(v);
}

START_TEST(schema_1_replica_migrates_and_its_queue_syncs)
{
    vec v;
    vec_open(&v);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT value FROM meta WHERE key='schema'"), 1);
    sct_replica_view before;
    sct_replica_read(v.db, &before);
    ck_assert_uint_gt(before.pending, 0);
    ck_assert_uint_gt(before.n_acked, 0);
    ck_assert_uint_eq(before.blobs_to_upload, 1);
    vec_serve(&v);

    /* Opening migrates: version 2, recorded with this library, nothing queued lost. */
    sc_client *c = open_existing(v.db);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT value FROM meta WHERE key='schema'"),
                     SC_CL_SCHEMA_VERSION);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT from_version FROM migrations WHERE version=2"), 1);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT count(*) FROM meta WHERE key='conflicts_indexed'"),
                     0);
    json_t *st = fx_status(c);
    ck_assert_int_eq(jint(st, "outbox"), (long long)before.pending);
    ck_assert_int_eq(jint(st, "photos_pending_upload"), 1);
    ck_assert(json_is_true(json_object_get(st, "key_encrypted")));
    json_decref(st);
    char *json = NULL;
    ck_assert_int_eq(sc_verify_replica(c, &json), SC_OK);
    sc_json_free(c, json);

    /* The server at its new address, the key unlocked: the queue goes. */
    ck_assert_int_eq(sc_client_unlock(c, VECTOR_PASS, strlen(VECTOR_PASS)), SC_OK);
    ck_assert_msg(sc_server_set_url(c, v.srv.url, NULL) == SC_OK, "set-url: %s",
                  sc_client_errmsg(c));
    ck_assert_msg(sc_sync(c, NULL, NULL, &json) == SC_OK, "sync: %s", sc_client_errmsg(c));
    json_t *r = json_loads(json, 0, NULL);
    sc_json_free(c, json);
    ck_assert_int_eq(jint(r, "accepted"), (long long)before.pending);
    ck_assert_int_eq(json_array_size(json_object_get(r, "rejected")), 0);
    ck_assert_int_eq(jint(r, "photos_uploaded"), 1);
    json_decref(r);
    st = fx_status(c);
    ck_assert_int_eq(jint(st, "outbox"), 0);
    ck_assert_int_eq(jint(st, "photos_pending_upload"), 0);
    json_decref(st);
    ck_assert_int_eq(sc_verify_replica(c, &json), SC_OK);
    sc_json_free(c, json);
    sc_client_close(c);

    /* Each op in the register once, at the index the replica was told; the photo whole. */
    sct_reg_view reg;
    sct_reg_read(v.data, &reg);
    sct_replica_view after;
    sct_replica_read(v.db, &after);
    char why[512];
    ck_assert_msg(sct_check_acks(&reg, v.data, &after, why, sizeof why) == 0, "%s", why);
    ck_assert_uint_eq(after.pending, 0);
    ck_assert_uint_eq(after.n_acked, before.n_acked + before.pending);
    ck_assert_uint_eq(reg.duplicates, 0);
    ck_assert_mem_eq(after.replica_hash, reg.replica_hash, SC_HASH_LEN);
    char out[16384];
    ck_assert_msg(sct_audit(v.data, out, sizeof out) == 0, "%s", out);
    sct_replica_dispose(&after);
    sct_reg_dispose(&reg);
    sct_replica_dispose(&before);

    /* Opening it again migrates nothing and writes nothing. */
    uint8_t h1[SC_HASH_LEN], h2[SC_HASH_LEN];
    ck_assert(sct_file_sha256(v.db, h1));
    c = open_existing(v.db);
    st = fx_status(c);
    json_decref(st);
    sc_client_close(c);
    ck_assert(sct_file_sha256(v.db, h2));
    ck_assert_mem_eq(h1, h2, SC_HASH_LEN);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT count(*) FROM migrations"), 1);
    vec_close(&v);
}
END_TEST

/* A replica a newer library wrote: refused with both versions named, its bytes and mode kept. */
START_TEST(newer_replica_is_refused_and_left_alone)
{
    vec v;
    vec_open(&v);
    sct_sql_exec(v.db, "UPDATE meta SET value = 3 WHERE key = 'schema'");
    ck_assert_int_eq(chmod(v.db, 0640), 0);
    uint8_t h1[SC_HASH_LEN], h2[SC_HASH_LEN];
    ck_assert(sct_file_sha256(v.db, h1));
    sc_client *c = NULL;
    char err[512];
    for (int mode = SC_OPEN_EXISTING; mode <= SC_OPEN_CREATE; mode++) {
        ck_assert_int_eq(sc_client_open_v2(v.db, NULL, (sc_open_mode)mode, &c, err, sizeof err),
                         SC_ERR_STORAGE);
        ck_assert_ptr_null(c);
        ck_assert_msg(strstr(err, "schema version 3, newer than this library") &&
                          strstr(err, sc_version()) && strstr(err, "reads, 2") &&
                          strstr(err, "nothing in it was changed"),
                      "%s", err);
    }
    ck_assert(sct_file_sha256(v.db, h2));
    ck_assert_mem_eq(h1, h2, SC_HASH_LEN);
    struct stat sb;
    ck_assert_int_eq(stat(v.db, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0640);
    vec_close(&v);
}
END_TEST

/*
 * A step that fails rolls back whole: the replica stays at version 1 with
 * everything queued, and the message says so.  (A state that does not
 * decode stops the step that indexes conflicts.)
 */
START_TEST(failed_migration_leaves_the_replica_whole)
{
    vec v;
    vec_open(&v);
    sct_sql_exec(v.db, "DELETE FROM meta WHERE key='conflicts_indexed';"
                       "UPDATE entities SET state = x'ffffffff' WHERE rowid = "
                       "(SELECT max(rowid) FROM entities)");
    int64_t ops = sct_sql_int(v.db, "SELECT count(*) FROM ops");
    int64_t queued = sct_sql_int(v.db, "SELECT count(*) FROM ops WHERE state=0 AND origin=0");
    sc_client *c = NULL;
    char err[512];
    ck_assert_int_eq(sc_client_open_v2(v.db, NULL, SC_OPEN_EXISTING, &c, err, sizeof err),
                     SC_ERR_STORAGE);
    ck_assert_msg(strstr(err, "migrating from schema version 1 to 2") &&
                      strstr(err, "rolled back, the replica is whole at version 1"),
                  "%s", err);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT value FROM meta WHERE key='schema'"), 1);
    ck_assert_int_eq(
        sct_sql_int(v.db, "SELECT count(*) FROM sqlite_master WHERE name='migrations'"), 0);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT count(*) FROM ops"), ops);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT count(*) FROM ops WHERE state=0 AND origin=0"),
                     queued);
    vec_close(&v);
}
END_TEST

/*
 * A version-1 replica made before user_access existed has the UserDisable
 * and UserEnable ops it pulled but no rows for them: the step to 2 notes
 * them, so a disabled user's later ops are still refused.
 */
START_TEST(migration_notes_users_access_pulled_before)
{
    vec v;
    vec_open(&v);
    ck_assert_int_eq(
        sct_sql_int(v.db, "SELECT count(*) FROM sqlite_master WHERE name='user_access'"), 0);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO ops(id, entity, etype, kind, hlc, author, signed, log_index, origin, "
             "state, seq) SELECT randomblob(32), x'0102030405060708090a0b0c0d0e0f10', 1, %d, 1, "
             "x'00', x'00', %d, %d, %d, max(seq) + 1 FROM ops",
             (int)SCPB__OP__BODY_USER_DISABLE, 900, ST_PULLED, ST_ACCEPTED);
    sct_sql_exec(v.db, sql);
    snprintf(sql, sizeof sql,
             "INSERT INTO ops(id, entity, etype, kind, hlc, author, signed, log_index, origin, "
             "state, seq) SELECT randomblob(32), x'0102030405060708090a0b0c0d0e0f10', 1, %d, 1, "
             "x'00', x'00', %d, %d, %d, max(seq) + 1 FROM ops",
             (int)SCPB__OP__BODY_USER_ENABLE, 950, ST_PULLED, ST_ACCEPTED);
    sct_sql_exec(v.db, sql);
    sc_client *c = open_existing(v.db);
    sc_client_close(c);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT count(*) FROM user_access"), 2);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT disabled FROM user_access WHERE log_index = 900"),
                     1);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT disabled FROM user_access WHERE log_index = 950"),
                     0);
    vec_close(&v);
}
END_TEST

/* A read-only handle does not migrate: it says a writer must open the replica first. */
START_TEST(read_only_handle_does_not_migrate)
{
    vec v;
    vec_open(&v);
    uint8_t h1[SC_HASH_LEN], h2[SC_HASH_LEN];
    ck_assert(sct_file_sha256(v.db, h1));
    sc_client *c = NULL;
    char err[512];
    ck_assert_int_eq(sc_client_open_v2(v.db, NULL, SC_OPEN_READONLY, &c, err, sizeof err),
                     SC_ERR_READ_ONLY);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "schema version 1 and this library reads 2") &&
                      strstr(err, "open it once with a handle that may write"),
                  "%s", err);
    ck_assert(sct_file_sha256(v.db, h2));
    ck_assert_mem_eq(h1, h2, SC_HASH_LEN);
    /* Once the writer has opened it, readers do. */
    c = open_existing(v.db);
    sc_client *r = NULL;
    ck_assert_int_eq(sc_client_open_v2(v.db, NULL, SC_OPEN_READONLY, &r, err, sizeof err), SC_OK);
    json_t *st = fx_status(r);
    ck_assert_int_eq(jint(st, "outbox"), 5);
    json_decref(st);
    sc_client_close(r);
    sc_client_close(c);
    vec_close(&v);
}
END_TEST

typedef struct opener {
    const char *db;
    sc_status s;
    char err[512];
} opener;

static void *open_thread(void *arg)
{
    opener *o = arg;
    sc_client *c = NULL;
    o->s = sc_client_open_v2(o->db, NULL, SC_OPEN_EXISTING, &c, o->err, sizeof o->err);
    sc_client_close(c);
    return NULL;
}

/* Handles opening an old replica at once: one migrates, the others wait for it and find it done. */
START_TEST(concurrent_opens_migrate_once)
{
    vec v;
    vec_open(&v);
    enum { N = 4 };
    pthread_t th[N];
    opener o[N];
    for (int i = 0; i < N; i++) {
        o[i] = (opener){.db = v.db, .s = SC_ERR_INTERNAL};
        ck_assert_int_eq(pthread_create(&th[i], NULL, open_thread, &o[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_msg(o[i].s == SC_OK, "open %d: %s", i, o[i].err);
    }
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT value FROM meta WHERE key='schema'"), 2);
    ck_assert_int_eq(sct_sql_int(v.db, "SELECT count(*) FROM migrations"), 1);
    vec_close(&v);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("migrate");
    const sct_case cases[] = {
        {"schema_1_replica_migrates_and_its_queue_syncs",
         schema_1_replica_migrates_and_its_queue_syncs},
        {"newer_replica_is_refused_and_left_alone", newer_replica_is_refused_and_left_alone},
        {"failed_migration_leaves_the_replica_whole", failed_migration_leaves_the_replica_whole},
        {"migration_notes_users_access_pulled_before", migration_notes_users_access_pulled_before},
        {"read_only_handle_does_not_migrate", read_only_handle_does_not_migrate},
        {"concurrent_opens_migrate_once", concurrent_opens_migrate_once},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
