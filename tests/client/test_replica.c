/*
 * test_replica.c: the replica keeps every unsynced op whatever fails:
 * allocation failures at every point of an action, a process that dies in
 * the middle of a transaction, and reopening.  Opening an existing replica
 * never makes one, nor writes into a file that is not one.
 */
#include "fixture.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* The outbox as a list of op ids, in order. */
typedef struct ids {
    uint8_t v[64][SC_HASH_LEN];
    size_t n;
} ids;

static sc_status collect(sc_client *c, void *ctx, const uint8_t id[SC_HASH_LEN],
                         const uint8_t *signed_op, size_t len, bool *stop)
{
    (void)c;
    (void)signed_op;
    (void)len;
    (void)stop;
    ids *x = ctx;
    if (x->n < 64)
        memcpy(x->v[x->n++], id, SC_HASH_LEN);
    return SC_OK;
}

static void outbox_ids(fx *f, ids *x)
{
    memset(x, 0, sizeof *x);
    ck_assert_int_eq(st_outbox_each(f->c, collect, x), SC_OK);
}

START_TEST(outbox_survives_reopen_in_causal_order)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN], fid[SC_ID_HEX_LEN];
    fx_check(&f, check);
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "met", 0, 0, NULL), SC_OK);
    fx_finding(&f, check, "general", NULL, fid);
    ck_assert_int_eq(sc_check_submit(f.c, check, NULL), SC_OK);
    ids before, after;
    outbox_ids(&f, &before);
    ck_assert_uint_eq(before.n, 5); /* open, score, finding, its notice, submit */
    fx_reopen(&f);
    outbox_ids(&f, &after);
    ck_assert_uint_eq(after.n, 5);
    ck_assert_mem_eq(before.v, after.v, sizeof before.v[0] * 5);
    /* Causal order: every op comes after the ops it depends on. */
    for (size_t i = 0; i < after.n; i++) {
        sc_op *op = NULL;
        ck_assert_int_eq(st_op_load(f.c, after.v[i], &op), SC_OK);
        for (size_t d = 0; d < op->op->n_deps; d++) {
            bool earlier = false;
            for (size_t j = 0; j < i; j++)
                earlier = earlier || memcmp(after.v[j], op->op->deps[d].data, SC_HASH_LEN) == 0;
            ck_assert_msg(earlier, "outbox op %zu depends on a later op", i);
        }
        sc_op_free(&f.c->env, op);
    }
    /* The state came back too. */
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert_str_eq(json_string_value(json_object_get(o, "status")), "submitted");
    json_decref(o);
    fx_close(&f);
}
END_TEST

/* Fail every allocation point of an action in turn: each failure changes nothing. */
START_TEST(allocation_failures_change_nothing)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    uint8_t id[SC_ID_LEN], hash0[SC_HASH_LEN], hash1[SC_HASH_LEN];
    ck_assert(cl_parse_id(check, id));
    ck_assert_int_eq(st_state_hash(f.c, id, hash0), SC_OK);
    ids before, now;
    outbox_ids(&f, &before);
    int failures = 0;
    for (uint64_t n = 1; n < 2000; n++) {
        sct_env_fail_at(&f.t, n, 1);
        sc_status s = sc_check_score(f.c, check, "B", "not_met", 1, 3, "漏水");
        sct_env_fail_at(&f.t, 0, 0);
        outbox_ids(&f, &now);
        if (s == SC_OK) {
            ck_assert_uint_eq(now.n, before.n + 1);
            break;
        }
        failures++;
        ck_assert_msg(s == SC_ERR_NOMEM || s == SC_ERR_STORAGE, "allocation %llu: %s",
                      (unsigned long long)n, sc_status_name(s));
        ck_assert_uint_eq(now.n, before.n);
        ck_assert_mem_eq(now.v, before.v, sizeof now.v[0] * before.n);
        ck_assert_int_eq(st_state_hash(f.c, id, hash1), SC_OK);
        ck_assert_mem_eq(hash0, hash1, SC_HASH_LEN);
    }
    ck_assert_int_gt(failures, 5);
    fx_close(&f);
}
END_TEST

/* A process that dies inside a transaction leaves the replica as it was. */
START_TEST(crash_mid_transaction_keeps_outbox)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    ids before, after;
    outbox_ids(&f, &before);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* The child starts an action's transaction, writes, and dies before commit. */
        if (st_begin(f.c) != SC_OK)
            _exit(2);
        st_meta_put_u64(f.c, "hlc", 1);
        sqlite3_exec(f.c->db, "DELETE FROM ops", NULL, NULL, NULL);
        _exit(0);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fx_reopen(&f);
    outbox_ids(&f, &after);
    ck_assert_uint_eq(after.n, before.n);
    ck_assert_mem_eq(after.v, before.v, sizeof after.v[0] * before.n);
    /* And the replica still records. */
    ck_assert_int_eq(sc_check_score(f.c, check, "A", "met", 0, 0, NULL), SC_OK);
    fx_close(&f);
}
END_TEST

START_TEST(not_a_replica_is_refused)
{
    char err[256];
    fx_dir d;
    fx_dir_open(&d, "junk.db");
    FILE *fp = fopen(d.db, "wb");
    for (int i = 0; i < 200; i++)
        fputs("this is not a database ", fp);
    fclose(fp);
    sc_client *c = NULL;
    ck_assert_int_eq(sc_client_open(d.db, NULL, &c, err, sizeof err), SC_ERR_STORAGE);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(err, "junk.db"));
    ck_assert_int_eq(sc_client_open(NULL, NULL, &c, err, sizeof err), SC_ERR_INVALID_ARG);
    fx_dir_close(&d);
}
END_TEST

static sc_status first_op(sc_client *c, void *ctx, const st_opinfo *info)
{
    (void)c;
    st_opinfo *out = ctx;
    if (!out->id[0] && !out->id[1])
        *out = *info;
    return SC_OK;
}

/*
 * syncd may reject every op of an entity, its creation too (a target
 * outside the inspector's scope): the entity never was, so its state goes,
 * and the rejected ops stay as history.  (Failing instead kept the round
 * from applying, and the outbox from ever emptying.)
 */
START_TEST(entity_whose_creation_was_rejected_has_no_state)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    char check[SC_ID_HEX_LEN];
    fx_check(&f, check);
    ck_assert_int_eq(sc_note_add(f.c, check, "before the answer"), SC_OK);
    uint8_t id[SC_ID_LEN];
    ck_assert(cl_parse_id(check, id));
    ck_assert_int_eq(st_begin(f.c), SC_OK);
    ids out;
    outbox_ids(&f, &out);
    ck_assert_uint_eq(out.n, 2);
    for (size_t i = 0; i < out.n; i++)
        ck_assert_int_eq(st_op_set(f.c, out.v[i], ST_REJECTED, false, 0,
                                   SCPB__REASON__REASON_OUT_OF_SCOPE, "outside your scope"),
                         SC_OK);
    ck_assert_msg(rp_refold(f.c, id) == SC_OK, "refold: %s", sc_client_errmsg(f.c));
    ck_assert_int_eq(st_commit(f.c), SC_OK);
    Scpb__EntityState *st = NULL;
    ck_assert_int_eq(st_state_get(f.c, id, &st), SC_ERR_NOT_FOUND);
    char *json = NULL;
    ck_assert_int_eq(sc_show(f.c, check, &json), SC_ERR_NOT_FOUND);
    ck_assert_int_eq(fx_count(&f, "outbox"), 0);
    ck_assert_int_eq(fx_count(&f, "rejected"), 2);
    st_opinfo info;
    memset(&info, 0, sizeof info);
    ck_assert_int_eq(st_ops_each(f.c, id, first_op, &info), SC_OK);
    ck_assert_int_eq(info.state, ST_REJECTED);
    ck_assert_int_eq(sc_verify_replica(f.c, &json), SC_OK);
    json_t *o = fx_json(&f, json);
    ck_assert(json_is_true(json_object_get(o, "ok")));
    json_decref(o);
    fx_close(&f);
}
END_TEST

/* The bytes of a file (at most cap), for comparing before and after; -1 when it cannot be read. */
static long slurp(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return (long)n;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/*
 * SC_OPEN_EXISTING: a path that names nothing is SC_ERR_NOT_FOUND naming it,
 * and nothing is made there (no file, no photo store); a file that is not a
 * replica (text, another program's SQLite database, an empty file) is
 * SC_ERR_STORAGE and keeps its bytes; a replica opens, and is made private.
 */
START_TEST(open_existing_never_makes_a_replica)
{
    char dir[] = "/tmp/sc-client-XXXXXX", db[64], blobs[80], err[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/typo.db", dir);
    snprintf(blobs, sizeof blobs, "%s.blobs", db);
    sc_client *c = NULL;
    ck_assert_int_eq(sc_client_open_v2(db, NULL, SC_OPEN_EXISTING, &c, err, sizeof err),
                     SC_ERR_NOT_FOUND);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(err, "no replica at"));
    ck_assert_ptr_nonnull(strstr(err, "typo.db"));
    ck_assert(!exists(db));
    ck_assert(!exists(blobs));

    /* Not replicas: each keeps its bytes, and no photo store appears beside it. */
    char before[4096], after[4096];
    const char *text = "name,code\n君安花园,T-JAHY\n";
    FILE *fp = fopen(db, "wb");
    fputs(text, fp);
    fclose(fp);
    ck_assert_int_eq(sc_client_open_v2(db, NULL, SC_OPEN_EXISTING, &c, err, sizeof err),
                     SC_ERR_STORAGE);
    ck_assert_ptr_nonnull(strstr(err, "is not a Spotcheck replica"));
    ck_assert_int_eq(slurp(db, after, sizeof after), (long)strlen(text));
    ck_assert(memcmp(after, text, strlen(text)) == 0);
    ck_assert(!exists(blobs));
    unlink(db);
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(db, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "CREATE TABLE notes(t TEXT); INSERT INTO notes VALUES('x')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(other);
    long n = slurp(db, before, sizeof before);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(sc_client_open_v2(db, NULL, SC_OPEN_EXISTING, &c, err, sizeof err),
                     SC_ERR_STORAGE);
    ck_assert_ptr_nonnull(strstr(err, "no such table: meta"));
    ck_assert_int_eq(slurp(db, after, sizeof after), n);
    ck_assert(memcmp(before, after, (size_t)n) == 0);
    ck_assert(!exists(blobs));
    unlink(db);
    fp = fopen(db, "wb");
    fclose(fp);
    ck_assert_int_eq(sc_client_open_v2(db, NULL, SC_OPEN_EXISTING, &c, err, sizeof err),
                     SC_ERR_STORAGE);
    ck_assert_int_eq(slurp(db, after, sizeof after), 0);
    unlink(db);

    /* A replica opens (and one readable by others is made private); :memory: always does. */
    ck_assert_int_eq(sc_client_open_v2(db, NULL, SC_OPEN_CREATE, &c, err, sizeof err), SC_OK);
    sc_client_close(c);
    ck_assert_int_eq(chmod(db, 0644), 0);
    ck_assert_int_eq(sc_client_open_v2(db, NULL, SC_OPEN_EXISTING, &c, err, sizeof err), SC_OK);
    sc_client_close(c);
    struct stat st;
    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(sc_client_open_v2(":memory:", NULL, SC_OPEN_EXISTING, &c, err, sizeof err),
                     SC_OK);
    sc_client_close(c);
    ck_assert_int_eq(sc_client_open_v2(db, NULL, (sc_open_mode)0, &c, err, sizeof err),
                     SC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(err, "mode"));
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/*
 * The replica holds the device key: it is created 0600 under any umask
 * (with its WAL and shared-memory files), and one found readable by others
 * is made 0600 when opened.
 */
/*
 * A pulled op's HLC moves the tablet's clock forward, unless it is further
 * ahead of the server's clock than any register logs (SC_HLC_FUTURE_MS):
 * an op a server signed ten years ahead would otherwise stamp every later
 * op of the tablet past any honest clock, refused clock_ahead, for good.
 */
START_TEST(far_future_hlc_is_not_adopted)
{
    fx f;
    fx_open(&f, SCPB__ROLE__ROLE_INSPECTOR);
    sc_client *c = f.c;
    int64_t now = sc_env_now_ms(&c->env) + c->clock_offset_ms;
    sc_hlc before = c->hlc;
    rp_hlc_observe(c, sc_hlc_make(now + (int64_t)10 * 365 * 24 * 3600 * 1000, 0));
    ck_assert_uint_eq(c->hlc, before);
    rp_hlc_observe(c, sc_hlc_make(now + SC_HLC_FUTURE_MS + 60 * 1000, 0));
    ck_assert_uint_eq(c->hlc, before);
    /* Ahead, but as a register may log (a day ahead under the largest clock.skew_ms). */
    sc_hlc ahead = sc_hlc_make(now + (int64_t)24 * 3600 * 1000, 7);
    rp_hlc_observe(c, ahead);
    ck_assert_uint_ge(c->hlc, ahead);
    /* And the next op the tablet makes comes after it. */
    ck_assert_uint_gt(rp_hlc_tick(c), ahead);
    fx_close(&f);
}
END_TEST

START_TEST(replica_is_private)
{
    char wal[620], err[256];
    fx_dir d;
    fx_dir_open(&d, "tablet.db");
    const char *db = d.db;
    snprintf(wal, sizeof wal, "%s-wal", db);
    mode_t old = umask(0);
    sc_client *c = NULL;
    ck_assert_int_eq(sc_client_open(db, NULL, &c, err, sizeof err), SC_OK);
    struct stat st;
    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(wal, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    sc_client_close(c);
    ck_assert_int_eq(chmod(db, 0644), 0);
    ck_assert_int_eq(sc_client_open(db, NULL, &c, err, sizeof err), SC_OK);
    umask(old);
    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    sc_client_close(c);
    fx_dir_close(&d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("replica");
    const sct_case cases[] = {
        {"outbox_survives_reopen_in_causal_order", outbox_survives_reopen_in_causal_order},
        {"allocation_failures_change_nothing", allocation_failures_change_nothing},
        {"crash_mid_transaction_keeps_outbox", crash_mid_transaction_keeps_outbox},
        {"open_existing_never_makes_a_replica", open_existing_never_makes_a_replica},
        {"entity_whose_creation_was_rejected_has_no_state",
         entity_whose_creation_was_rejected_has_no_state},
        {"not_a_replica_is_refused", not_a_replica_is_refused},
        {"replica_is_private", replica_is_private},
        {"far_future_hlc_is_not_adopted", far_future_hlc_is_not_adopted},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
