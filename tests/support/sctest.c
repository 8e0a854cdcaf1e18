/*
 * sctest.c: the shared test environment (see sctest.h).
 */
#include "sctest.h"

#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sctest_pg.h"
#include "sctest_server.h"

#define SCT_EPOCH_MS INT64_C(1795392000000) /* 2026-11-23T00:00:00Z */

static void *sct_alloc(void *ctx, size_t size)
{
    sct_env *t = ctx;
    t->allocs++;
    if (t->fail_at && (t->allocs == t->fail_at || (t->fail_all && t->allocs > t->fail_at)))
        return NULL;
    void *p = malloc(size ? size : 1);
    if (p)
        t->live++;
    return p;
}

static void *sct_realloc(void *ctx, void *ptr, size_t size)
{
    sct_env *t = ctx;
    t->allocs++;
    if (t->fail_at && (t->allocs == t->fail_at || (t->fail_all && t->allocs > t->fail_at)))
        return NULL;
    void *p = realloc(ptr, size ? size : 1);
    if (p && !ptr)
        t->live++;
    return p;
}

static void sct_free(void *ctx, void *ptr)
{
    sct_env *t = ctx;
    if (ptr) {
        t->live--;
        free(ptr);
    }
}

static int64_t sct_now(void *ctx)
{
    sct_env *t = ctx;
    int64_t now = t->now_ms;
    t->now_ms += t->step_ms;
    return now;
}

static void sct_random(void *ctx, void *buf, size_t len)
{
    sct_env *t = ctx;
    uint8_t seed[32];
    memcpy(seed, t->seed, sizeof seed);
    /* Mix the call counter into the seed so every call draws fresh bytes. */
    for (int i = 0; i < 8; i++)
        seed[24 + i] ^= (uint8_t)(t->counter >> (8 * i));
    t->counter++;
    randombytes_buf_deterministic(buf, len, seed);
}

void sct_env_init(sct_env *t, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < 8; i++)
        t->seed[i] = (uint8_t)(seed >> (8 * i));
    t->now_ms = SCT_EPOCH_MS;
    t->env.alloc = sct_alloc;
    t->env.realloc = sct_realloc;
    t->env.free = sct_free;
    t->env.now_ms = sct_now;
    t->env.random = sct_random;
    t->env.ctx = t;
}

void sct_env_fail_at(sct_env *t, uint64_t n, int fail_all)
{
    t->allocs = 0;
    t->fail_at = n;
    t->fail_all = fail_all;
}

sc_keypair *sct_key(uint32_t n)
{
    uint8_t seed[32] = {0};
    seed[0] = 0x5c;
    for (int i = 0; i < 4; i++)
        seed[1 + i] = (uint8_t)(n >> (8 * i));
    sc_keypair *kp = NULL;
    ck_assert_int_eq(sc_keypair_from_seed(seed, &kp), SC_OK);
    return kp;
}

bool sct_file_sha256(const char *path, uint8_t out[SC_HASH_LEN])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    crypto_hash_sha256_state s;
    crypto_hash_sha256_init(&s);
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&s, buf, n);
    fclose(f);
    crypto_hash_sha256_final(&s, out);
    return true;
}

uint8_t *sct_read_vector(const char *name, size_t *len)
{
    char path[1024];
    int n = snprintf(path, sizeof path, "%s/%s", SC_VECTORS_DIR, name);
    ck_assert(n > 0 && (size_t)n < sizeof path);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open vector file %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    ck_assert(size >= 0);
    ck_assert_int_eq(fseek(f, 0, SEEK_SET), 0);
    uint8_t *buf = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = 0;
    fclose(f);
    *len = (size_t)size;
    return buf;
}

bool sct_all_zero(const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        if (b[i])
            return false;
    return true;
}

uint8_t *sct_unhex(const char *hex, size_t *len)
{
    size_t cap = strlen(hex) / 2 + 1, n = 0;
    uint8_t *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            continue;
        else
            ck_abort_msg("bad hex digit '%c'", *p);
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    ck_assert_msg(hi < 0, "odd number of hex digits");
    *len = n;
    return out;
}

/* sct_run's process, inherited by the children its tests run in; 0 outside a run. */
static pid_t run_pid;

/* The run directory's path: $TMPDIR (or /tmp)/sctest-run-PID. */
static void run_dir_path(char *out, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, cap, "%s/sctest-run-%ld", tmp && tmp[0] ? tmp : "/tmp", (long)run_pid);
}

const char *sct_run_dir(void)
{
    static char dir[512];
    if (run_pid == 0)
        return NULL;
    run_dir_path(dir, sizeof dir);
    ck_assert_msg(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", dir, strerror(errno));
    return dir;
}

int sct_run(Suite *s)
{
    if (sc_crypto_init() != SC_OK) {
        fprintf(stderr, "libsodium failed to initialise\n");
        return EXIT_FAILURE;
    }
    const char *store = getenv("SC_TEST_STORE");
    bool pg = store && strcmp(store, "postgresql") == 0;
    if (pg && !sct_pg_start())
        return EXIT_SUCCESS;
    char dir[512];
    run_pid = getpid();
    run_dir_path(dir, sizeof dir);
    sct_rmtree(dir); /* an earlier process's with the same id, killed before it removed it */
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    sct_rmtree(dir);
    run_pid = 0;
    if (pg)
        sct_pg_stop();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void sct_suite_add(Suite *s, const sct_case *cases, size_t n, const sct_tcase_opts *o)
{
    for (size_t i = 0; i < n; i++) {
        TCase *tc = tcase_create(cases[i].name);
        if (o && (o->setup || o->teardown))
            tcase_add_checked_fixture(tc, o->setup, o->teardown);
        if (o && o->timeout_s > 0)
            tcase_set_timeout(tc, o->timeout_s);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
}

int64_t sct_sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *x = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &x, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    ck_assert_msg(sqlite3_step(x) == SQLITE_ROW, "%s: no row", sql);
    int64_t v = sqlite3_column_int64(x, 0);
    sqlite3_finalize(x);
    sqlite3_close(db);
    return v;
}

void sct_sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
}
