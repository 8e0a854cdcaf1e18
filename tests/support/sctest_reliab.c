/*
 * sctest_reliab.c: processes, stored views and crash invariants for the
 * reliability tests (see sctest_reliab.h).
 */
#include "sctest_reliab.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/state.h"
#include "sctest.h"
#include "sctest_server.h"

/* ---- scale ---- */

bool sct_soak(void)
{
    const char *s = getenv("SC_SOAK");
    return s && s[0] && strcmp(s, "0") != 0;
}

unsigned sct_scale(unsigned ci, unsigned soak)
{
    const char *c = getenv("SC_CYCLES");
    if (c && c[0]) {
        char *end = NULL;
        unsigned long v = strtoul(c, &end, 10);
        if (end && *end == '\0' && v > 0 && v < 1000000)
            return (unsigned)v;
    }
    return sct_soak() ? soak : ci;
}

uint64_t sct_seed(const char *test)
{
    const char *s = getenv("SC_SEED");
    uint64_t seed;
    if (s && s[0]) {
        seed = strtoull(s, NULL, 10);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
    }
    fprintf(stderr, "%s: seed %" PRIu64 " (rerun with SC_SEED=%" PRIu64 ")\n", test, seed, seed);
    return seed;
}

uint64_t sct_splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* ---- processes ---- */

const char *sct_cli_path(void)
{
    static char path[1024];
    const char *bin = getenv("SC_BIN_DIR");
    snprintf(path, sizeof path, "%s/client-lib/spotcheck", bin && bin[0] ? bin : SC_BUILD_DIR);
    return path;
}

pid_t sct_spawn(const char *const *argv, const char *out_path)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) {
            dup2(nul, 0);
            close(nul);
        }
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    return pid;
}

void sct_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- SQLite helpers ---- */

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    ck_assert_msg(rc == SQLITE_OK, "open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db, "PRAGMA query_only=1", NULL, NULL, NULL);
    /* One snapshot for everything read below. */
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void db_close(sqlite3 *db)
{
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    return st;
}

static int64_t count_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = prep(db, sql);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void blob_col(sqlite3_stmt *st, int col, uint8_t *out, size_t len)
{
    ck_assert_int_eq((size_t)sqlite3_column_bytes(st, col), len);
    memcpy(out, sqlite3_column_blob(st, col), len);
}

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, SC_HASH_LEN);
}

/* Entities (id, hash) in id order, and their replica hash. */
static void read_entities(sqlite3 *db, const char *sql, sct_entity_hash **out, size_t *n,
                          uint8_t rh[SC_HASH_LEN])
{
    size_t cap = 256, k = 0;
    sct_entity_hash *e = malloc(cap * sizeof *e);
    ck_assert_ptr_nonnull(e);
    sqlite3_stmt *st = prep(db, sql);
    sc_replica_hash h;
    sc_replica_hash_init(&h);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (k == cap) {
            cap *= 2;
            e = realloc(e, cap * sizeof *e);
            ck_assert_ptr_nonnull(e);
        }
        blob_col(st, 0, e[k].id, SC_ID_LEN);
        blob_col(st, 1, e[k].hash, SC_HASH_LEN);
        ck_assert_int_eq(sc_replica_hash_add(&h, e[k].id, e[k].hash), SC_OK);
        k++;
    }
    sqlite3_finalize(st);
    sc_replica_hash_final(&h, rh);
    *out = e;
    *n = k;
}

/* ---- the register ---- */

void sct_reg_read(const char *data_dir, sct_reg_view *v)
{
    memset(v, 0, sizeof *v);
    char path[1024];
    snprintf(path, sizeof path, "%s/register.db", data_dir);
    sqlite3 *db = db_open(path);
    v->log_size = (uint64_t)count_of(db, "SELECT count(*) FROM ops");
    int64_t max_idx = count_of(db, "SELECT coalesce(max(idx), -1) FROM ops");
    v->contiguous = max_idx + 1 == (int64_t)v->log_size;
    size_t n = (size_t)v->log_size;
    v->by_index = calloc(n + 1, SC_HASH_LEN);
    v->sorted = calloc(n + 1, SC_HASH_LEN);
    ck_assert(v->by_index && v->sorted);
    sqlite3_stmt *st = prep(db, "SELECT idx, op_id FROM ops ORDER BY idx");
    size_t k = 0;
    while (sqlite3_step(st) == SQLITE_ROW && k < n) {
        int64_t idx = sqlite3_column_int64(st, 0);
        if (idx >= 0 && (uint64_t)idx < v->log_size)
            blob_col(st, 1, v->by_index[idx], SC_HASH_LEN);
        blob_col(st, 1, v->sorted[k], SC_HASH_LEN);
        k++;
    }
    sqlite3_finalize(st);
    qsort(v->sorted, k, SC_HASH_LEN, cmp_hash);
    for (size_t i = 1; i < k; i++)
        if (memcmp(v->sorted[i - 1], v->sorted[i], SC_HASH_LEN) == 0)
            v->duplicates++;
    read_entities(db, "SELECT id, state_hash FROM entities ORDER BY id", &v->ent, &v->n_ent,
                  v->replica_hash);
    db_close(db);
}

void sct_reg_dispose(sct_reg_view *v)
{
    free(v->by_index);
    free(v->sorted);
    free(v->ent);
    memset(v, 0, sizeof *v);
}

bool sct_reg_has(const sct_reg_view *v, const uint8_t id[SC_HASH_LEN], uint64_t index)
{
    if (index != UINT64_MAX)
        return index < v->log_size && memcmp(v->by_index[index], id, SC_HASH_LEN) == 0;
    return bsearch(id, v->sorted, (size_t)v->log_size, SC_HASH_LEN, cmp_hash) != NULL;
}

bool sct_blob_stored(const char *data_dir, const uint8_t sha[SC_HASH_LEN])
{
    char hex[2 * SC_HASH_LEN + 1], path[1200];
    sc_hex_encode(sha, SC_HASH_LEN, hex, sizeof hex);
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", data_dir, hex, hex);
    uint8_t got[SC_HASH_LEN];
    return sct_file_sha256(path, got) && memcmp(got, sha, SC_HASH_LEN) == 0;
}

size_t sct_blobs_bad(const char *data_dir, size_t *stored)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/blobs", data_dir);
    size_t bad = 0, ok = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (stored)
            *stored = 0;
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strlen(e->d_name) != 2 || e->d_name[0] == '.')
            continue; /* "..", "partial" */
        char sub[1200];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        DIR *s = opendir(sub);
        if (!s)
            continue;
        struct dirent *f;
        while ((f = readdir(s)) != NULL) {
            if (f->d_name[0] == '.')
                continue;
            uint8_t want[SC_HASH_LEN], got[SC_HASH_LEN];
            char path[1500];
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            if (sc_hex_decode(f->d_name, strlen(f->d_name), want, SC_HASH_LEN) != SC_OK ||
                !sct_file_sha256(path, got) || memcmp(want, got, SC_HASH_LEN) != 0) {
                struct stat fst;
                if (bad++ == 0 && stat(path, &fst) == 0)
                    fprintf(stderr, "blob %s does not hash to its name (%lld bytes)\n", path,
                            (long long)fst.st_size);
            }
            else
                ok++;
        }
        closedir(s);
    }
    closedir(d);
    if (stored)
        *stored = ok;
    return bad;
}

/* Bytes of the .part files in dir and, depth levels down, in its directories (one per device). */
static size_t part_bytes(const char *dir, int depth)
{
    size_t bytes = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char path[1400];
        struct stat st;
        int w = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (w < 0 || (size_t)w >= sizeof path || e->d_name[0] == '.' || stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth > 0)
            bytes += part_bytes(path, depth - 1);
        else if (n > 5 && strcmp(e->d_name + n - 5, ".part") == 0)
            bytes += (size_t)st.st_size;
    }
    if (d)
        closedir(d);
    return bytes;
}

void sct_stored_get(const char *data_dir, sct_stored *out)
{
    memset(out, 0, sizeof *out);
    sct_reg_view v;
    sct_reg_read(data_dir, &v);
    out->log_size = v.log_size;
    memcpy(out->replica_hash, v.replica_hash, SC_HASH_LEN);
    sct_reg_dispose(&v);
    ck_assert_uint_eq(sct_blobs_bad(data_dir, &out->blobs), 0);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/blobs/partial", data_dir);
    out->partial_bytes = part_bytes(dir, 1);
}

void sct_stored_same(const sct_stored *a, const sct_stored *b, const char *what)
{
    ck_assert_msg(a->log_size == b->log_size, "%s: the log grew from %llu to %llu ops", what,
                  (unsigned long long)a->log_size, (unsigned long long)b->log_size);
    ck_assert_msg(memcmp(a->replica_hash, b->replica_hash, SC_HASH_LEN) == 0,
                  "%s: a stored state changed", what);
    ck_assert_msg(a->blobs == b->blobs, "%s: %zu blobs stored, %zu before", what, b->blobs,
                  a->blobs);
    ck_assert_msg(a->partial_bytes == b->partial_bytes,
                  "%s: partial uploads hold %zu bytes, %zu before", what, b->partial_bytes,
                  a->partial_bytes);
}

/* ---- a replica ---- */

void sct_replica_read(const char *db_path, sct_replica_view *v)
{
    memset(v, 0, sizeof *v);
    sqlite3 *db = db_open(db_path);
    /* docs/client.md §10: origin 0 local; state 0 pending, 1 accepted, 2 rejected. */
    v->local = (size_t)count_of(db, "SELECT count(*) FROM ops WHERE origin=0");
    v->pending = (size_t)count_of(db, "SELECT count(*) FROM ops WHERE origin=0 AND state=0");
    v->accepted = (size_t)count_of(db, "SELECT count(*) FROM ops WHERE origin=0 AND state=1");
    v->rejected = (size_t)count_of(db, "SELECT count(*) FROM ops WHERE origin=0 AND state=2");
    v->acked = calloc(v->local + 1, sizeof *v->acked);
    v->local_ids = calloc(v->local + 1, SC_HASH_LEN);
    ck_assert(v->acked && v->local_ids);
    sqlite3_stmt *st = prep(db, "SELECT id, state, log_index FROM ops WHERE origin=0");
    size_t k = 0;
    while (sqlite3_step(st) == SQLITE_ROW && k < v->local) {
        blob_col(st, 0, v->local_ids[k++], SC_HASH_LEN);
        if (sqlite3_column_int(st, 1) == 1 && sqlite3_column_type(st, 2) != SQLITE_NULL) {
            blob_col(st, 0, v->acked[v->n_acked].id, SC_HASH_LEN);
            v->acked[v->n_acked].log_index = (uint64_t)sqlite3_column_int64(st, 2);
            v->n_acked++;
        }
    }
    sqlite3_finalize(st);
    read_entities(db, "SELECT id, hash FROM entities ORDER BY id", &v->ent, &v->n_ent,
                  v->replica_hash);
    /* Photos: 0 to upload, 1 on the server, 2 referenced but absent. */
    v->blobs_to_upload = (size_t)count_of(db, "SELECT count(*) FROM blobs WHERE state=0");
    v->blobs_done = (size_t)count_of(db, "SELECT count(*) FROM blobs WHERE state=1");
    v->blobs_missing = (size_t)count_of(db, "SELECT count(*) FROM blobs WHERE state=2");
    size_t nb = (size_t)count_of(db, "SELECT count(*) FROM blobs");
    v->done = calloc(nb + 1, SC_HASH_LEN);
    v->photos = calloc(nb + 1, SC_HASH_LEN);
    ck_assert(v->done && v->photos);
    st = prep(db, "SELECT sha, state FROM blobs");
    while (sqlite3_step(st) == SQLITE_ROW) {
        int s = sqlite3_column_int(st, 1);
        if (s == 1)
            blob_col(st, 0, v->done[v->n_done++], SC_HASH_LEN);
        if (s == 0 || s == 1)
            blob_col(st, 0, v->photos[v->n_photos++], SC_HASH_LEN);
    }
    sqlite3_finalize(st);
    db_close(db);
}

void sct_replica_dispose(sct_replica_view *v)
{
    free(v->acked);
    free(v->local_ids);
    free(v->ent);
    free(v->done);
    free(v->photos);
    memset(v, 0, sizeof *v);
}

const char *sct_hex8(const uint8_t *b)
{
    static char hex[17];
    sc_hex_encode(b, 8, hex, sizeof hex);
    return hex;
}

size_t sct_check_acks(const sct_reg_view *reg, const char *data_dir, const sct_replica_view *rep,
                      char *why, size_t cap)
{
    size_t bad = 0;
    if (cap)
        why[0] = '\0';
    for (size_t i = 0; i < rep->n_acked; i++) {
        if (!sct_reg_has(reg, rep->acked[i].id, rep->acked[i].log_index)) {
            if (bad++ == 0)
                snprintf(why, cap, "op %s acknowledged at log index %" PRIu64 " is not there",
                         sct_hex8(rep->acked[i].id), rep->acked[i].log_index);
        }
    }
    for (size_t i = 0; i < rep->n_done; i++) {
        if (!sct_blob_stored(data_dir, rep->done[i])) {
            if (bad++ == 0)
                snprintf(why, cap, "photo %s acknowledged as uploaded is not stored whole",
                         sct_hex8(rep->done[i]));
        }
    }
    return bad;
}

int sct_audit(const char *data_dir, char *out, size_t cap)
{
    return sct_syncd_run(out, cap, "audit", "--data", data_dir, NULL);
}
