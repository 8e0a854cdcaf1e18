/*
 * ceilings.c: `sc-bench-ceilings`, the building blocks' ceilings measured
 * in the same run as the benchmarks they bound, by the method of
 * ../shared/ceilings/RESULTS.md (written again here for this project):
 *
 *   verify SECONDS
 *       Ed25519 verification (libsodium crypto_sign_verify_detached) of
 *       512-byte messages, 1 and 2 threads, each thread with its own key.
 *       Threads start together at a barrier, run one uncounted warm-up
 *       chunk, then chunks of 32 verifications between clock reads until
 *       SECONDS pass; the rate is the sum over threads of ops / elapsed.
 *
 *   sqlite DIR SECONDS [PREFILL]
 *       Durable batched inserts: a fresh database in DIR with
 *       journal_mode=WAL and synchronous=FULL, the table
 *       records(id BLOB PRIMARY KEY, device_id, seq, updated_at, status,
 *       body BLOB[560]) plus INDEX(updated_at) (about 600 B a row), random
 *       16-byte ids, prefilled with PREFILL rows (default 100,000) in one
 *       untimed transaction and checkpointed; then BEGIN, 100 or 1,000
 *       inserts through one prepared statement, COMMIT, repeated until
 *       SECONDS pass.  Reports rows/s.
 *
 * Output: key <TAB> value <TAB> unit <TAB> description (bench.h).
 */
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* ---- Ed25519 verify ---- */

#define MSG_LEN 512
#define VERIFY_CHUNK 32

typedef struct vthread {
    pthread_barrier_t *barrier;
    double seconds;
    uint64_t ops;
    double elapsed;
} vthread;

static void verify_chunk(const uint8_t *pk, const uint8_t *msg, const uint8_t *sig)
{
    for (int i = 0; i < VERIFY_CHUNK; i++)
        if (crypto_sign_verify_detached(sig, msg, MSG_LEN, pk) != 0)
            bn_die("ceilings: a signature did not verify");
}

static void *verify_main(void *arg)
{
    vthread *t = arg;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t msg[MSG_LEN], sig[crypto_sign_BYTES];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    crypto_sign_detached(sig, NULL, msg, MSG_LEN, sk);
    verify_chunk(pk, msg, sig); /* warm-up, not counted */
    pthread_barrier_wait(t->barrier);
    double t0 = bn_now(), t1;
    uint64_t ops = 0;
    do {
        verify_chunk(pk, msg, sig);
        ops += VERIFY_CHUNK;
        t1 = bn_now();
    } while (t1 - t0 < t->seconds);
    t->ops = ops;
    t->elapsed = t1 - t0;
    sodium_memzero(sk, sizeof sk);
    return NULL;
}

static double verify_rate(int threads, double seconds)
{
    pthread_t th[2];
    vthread vt[2];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        vt[i] = (vthread){&barrier, seconds, 0, 0};
        if (pthread_create(&th[i], NULL, verify_main, &vt[i]) != 0)
            bn_die("ceilings: cannot start a thread");
    }
    double rate = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        rate += (double)vt[i].ops / vt[i].elapsed;
    }
    pthread_barrier_destroy(&barrier);
    return rate;
}

static int cmd_verify(int argc, char **argv)
{
    if (argc != 3)
        bn_die("usage: sc-bench-ceilings verify SECONDS");
    double secs = bn_arg_num(argv[2], 0.05, 60, "SECONDS");
    bn_emit("ceil_verify_1t", verify_rate(1, secs), "ops/s",
            "Ed25519 verify (libsodium), 512 B messages, 1 thread");
    bn_emit("ceil_verify_2t", verify_rate(2, secs), "ops/s",
            "Ed25519 verify (libsodium), 512 B messages, 2 threads with their own keys");
    return 0;
}

/* ---- SQLite durable batched inserts ---- */

#define BODY_LEN 560

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        bn_die("ceilings: sqlite '%s': %s", sql, msg ? msg : "?");
}

static void insert_row(sqlite3_stmt *st, uint64_t i, uint8_t *body)
{
    uint8_t id[16], dev[16];
    uint64_t a = bn_mix64(2 * i), b = bn_mix64(2 * i + 1), d = bn_mix64(i % 64 + (1ull << 40));
    memcpy(id, &a, 8);
    memcpy(id + 8, &b, 8);
    memcpy(dev, &d, 8);
    memcpy(dev + 8, &d, 8);
    memcpy(body, &i, sizeof i); /* every body distinct */
    sqlite3_bind_blob(st, 1, id, 16, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, dev, 16, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(i / 64));
    sqlite3_bind_int64(st, 4, 1732270000000 + (sqlite3_int64)i * 7 + (sqlite3_int64)(a % 5000));
    sqlite3_bind_int(st, 5, 2);
    sqlite3_bind_blob(st, 6, body, BODY_LEN, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        bn_die("ceilings: insert failed");
    sqlite3_reset(st);
}

static void remove_db(const char *path)
{
    char p[4200];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static double insert_rate(const char *path, int batch, double secs, uint64_t prefill)
{
    remove_db(path);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        bn_die("ceilings: cannot open %s", path);
    exec_sql(db, "PRAGMA journal_mode=WAL");
    exec_sql(db, "PRAGMA synchronous=FULL");
    exec_sql(db, "CREATE TABLE records(id BLOB PRIMARY KEY, device_id BLOB NOT NULL,"
                 " seq INTEGER NOT NULL, updated_at INTEGER NOT NULL, status INTEGER NOT NULL,"
                 " body BLOB NOT NULL);"
                 "CREATE INDEX records_by_updated ON records(updated_at)");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO records(id, device_id, seq, updated_at, status, body) "
                           "VALUES(?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        bn_die("ceilings: prepare: %s", sqlite3_errmsg(db));
    uint8_t body[BODY_LEN];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)bn_mix64(i);
    exec_sql(db, "BEGIN");
    for (uint64_t i = 0; i < prefill; i++)
        insert_row(st, i, body);
    exec_sql(db, "COMMIT");
    exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    uint64_t next = prefill;
    double t0 = bn_now(), t1;
    do {
        exec_sql(db, "BEGIN");
        for (int b = 0; b < batch; b++)
            insert_row(st, next++, body);
        exec_sql(db, "COMMIT");
        t1 = bn_now();
    } while (t1 - t0 < secs);
    sqlite3_finalize(st);
    sqlite3_close(db);
    remove_db(path);
    return (double)(next - prefill) / (t1 - t0);
}

static int cmd_sqlite(int argc, char **argv)
{
    if (argc != 4 && argc != 5)
        bn_die("usage: sc-bench-ceilings sqlite DIR SECONDS [PREFILL]");
    char path[4096];
    snprintf(path, sizeof path, "%s/ceiling-sqlite.db", argv[2]);
    double secs = bn_arg_num(argv[3], 0.05, 60, "SECONDS");
    uint64_t prefill = argc == 5 ? (uint64_t)bn_arg_int(argv[4], 0, 10000000, "PREFILL") : 100000;
    static const int batches[2] = {100, 1000};
    for (int i = 0; i < 2; i++) {
        char key[64], desc[256];
        snprintf(key, sizeof key, "ceil_sqlite_b%d", batches[i]);
        snprintf(desc, sizeof desc,
                 "SQLite WAL synchronous=FULL, %d rows/txn, ~600 B rows, random 16 B ids, "
                 "table prefilled with %llu rows",
                 batches[i], (unsigned long long)prefill);
        bn_emit(key, insert_rate(path, batches[i], secs, prefill), "rows/s", desc);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        bn_die("libsodium failed to initialise");
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return cmd_verify(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "sqlite") == 0)
        return cmd_sqlite(argc, argv);
    fprintf(stderr, "usage: sc-bench-ceilings verify SECONDS\n"
                    "       sc-bench-ceilings sqlite DIR SECONDS [PREFILL]\n");
    return 2;
}
