/*
 * sctest.h: what every test shares: deterministic environments (a fixed,
 * steppable clock and a seeded random source), an allocator that fails on
 * the Nth allocation, small helpers for keys and ops, and paths to the
 * vectors and the build.  Test code only; nothing here ships.
 */
#ifndef SC_TEST_SUPPORT_H
#define SC_TEST_SUPPORT_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"
#include "core/env.h"
#include "core/keys.h"

/*
 * A deterministic environment: random bytes from a seeded stream (libsodium's
 * randombytes_buf_deterministic over a counter), a clock that returns
 * now_ms and advances by step_ms per call, and an allocator that fails the
 * allocation numbered fail_at (1-based; 0 never fails) and counts them.
 */
typedef struct sct_env {
    sc_env env;           /* pass &t->env to the code under test */
    uint8_t seed[32];
    uint64_t counter;     /* random calls so far */
    int64_t now_ms;
    int64_t step_ms;
    uint64_t allocs;      /* allocations attempted */
    uint64_t fail_at;     /* fail this allocation (and, if fail_all, every later one) */
    int fail_all;
    int64_t live;         /* allocations not yet freed */
} sct_env;

/* Initialise with a seed; the clock starts at 2026-11-23T00:00:00Z and does not step. */
void sct_env_init(sct_env *t, uint64_t seed);
/* Free-running failure injection: fail allocation number n (1-based), 0 disables. */
void sct_env_fail_at(sct_env *t, uint64_t n, int fail_all);

/* A deterministic key pair from a small integer. */
sc_keypair *sct_key(uint32_t n);

/* Read a whole file under tests/vectors (name relative); *len gets its size.  Aborts the test on error. */
uint8_t *sct_read_vector(const char *name, size_t *len);
/* SHA-256 of a whole file, read in pieces; false when it cannot be opened. */
bool sct_file_sha256(const char *path, uint8_t out[SC_HASH_LEN]);
/* True when all len bytes at p are zero (an output a failure must have cleared). */
bool sct_all_zero(const void *p, size_t len);
/* Decode hex text (whitespace ignored) into a new buffer; aborts on bad input. */
uint8_t *sct_unhex(const char *hex, size_t *len);

/*
 * One integer from SQL run read-only on the SQLite database at path (a
 * register, a replica); aborts the test when the query fails or answers no
 * row.
 */
int64_t sct_sql_int(const char *path, const char *sql);
/* Run SQL on the database at path, read-write; aborts the test when it fails. */
void sct_sql_exec(const char *path, const char *sql);

/*
 * Run a Check suite and return the process exit status (0 when all passed).
 * With SC_TEST_STORE=postgresql in the environment it first starts the
 * test PostgreSQL server (sctest_pg.h), so fixtures that ask sct_pg_up()
 * put their registers there; without PostgreSQL that run is skipped (exit
 * 0, said on stderr) unless CI=true.
 */
int sct_run(Suite *s);
/*
 * A directory that lives as long as sct_run: its tests (each in a child of
 * sct_run's process) share it, to make something slow once a run and copy
 * it for each test.  Made on first use, removed when sct_run returns; NULL
 * outside sct_run.
 */
const char *sct_run_dir(void);

/* One behaviour of a suite: a TCase of one test. */
typedef struct sct_case {
    const char *name;
    const TTest *test;
} sct_case;

/* How the TCases sct_suite_add makes run. */
typedef struct sct_tcase_opts {
    SFun setup, teardown; /* a checked fixture around each test; NULL for none */
    double timeout_s;     /* 0: Check's default ($CK_DEFAULT_TIMEOUT) */
} sct_tcase_opts;

/* One TCase per case into s, named after it; o may be NULL. */
void sct_suite_add(Suite *s, const sct_case *cases, size_t n, const sct_tcase_opts *o);
#define SCT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
