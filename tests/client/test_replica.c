/*
 * test_replica.c: the replica keeps every unsynced op whatever fails:
 * allocation failures at every point of an action, a process that dies in
 * the middle of a transaction, and reopening.
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
    ck_assert_uint_eq(before.n, 4);
    fx_reopen(&f);
    outbox_ids(&f, &after);
    ck_assert_uint_eq(after.n, 4);
    ck_assert_mem_eq(before.v, after.v, sizeof before.v[0] * 4);
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

/*
 * The replica holds the device key: it is created 0600 under any umask
 * (with its WAL and shared-memory files), and one found readable by others
 * is made 0600 when opened.
 */
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
        {"not_a_replica_is_refused", not_a_replica_is_refused},
        {"replica_is_private", replica_is_private},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(suite());
}
