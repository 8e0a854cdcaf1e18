/*
 * test_blobs.c: the blob store: names, single and resumable uploads (cut at
 * half and resumed), wrong offsets, hash mismatch, limits, blobs already
 * stored, concurrent uploads of one blob, recovery of a partial after a
 * crash, and a failing disk leaving the partial at its verified offset.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobs.h"
#include "core/ids.h"
#include "sctest.h"
#include "sctest_server.h"

#define KIB 1024
#define MIB (1024 * 1024)

static char dir[512];

static void setup(void)
{
    sct_tempdir(dir, sizeof dir);
}

static void teardown(void)
{
    sct_rmtree(dir);
}

/* n bytes of a deterministic pattern and its name. */
static uint8_t *make_blob(size_t n, uint32_t seed, char name[SD_BLOB_NAME_LEN + 1])
{
    uint8_t *b = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(b);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    uint8_t h[SC_HASH_LEN];
    sc_sha256(b, n, h);
    ck_assert_int_eq(sc_hex_encode(h, sizeof h, name, SD_BLOB_NAME_LEN + 1), SC_OK);
    return b;
}

static sd_blobs *open_store(uint64_t max, uint64_t chunk)
{
    sd_blobs *b = NULL;
    sc_err err;
    sc_err_clear(&err);
    ck_assert_int_eq(sd_blobs_open(dir, max, chunk, &b, &err), SC_OK);
    return b;
}

/* Upload [start, start+len) whole; returns what finish returned. */
static sc_status put(sd_blobs *b, const char *name, const uint8_t *data, uint64_t start,
                     uint64_t len, uint64_t total, bool *complete, uint64_t *offset)
{
    sd_upload *u = NULL;
    sc_err err;
    sc_err_clear(&err);
    sc_status rc = sd_upload_begin(b, name, start, len, total, &u, offset, &err);
    if (rc != SC_OK)
        return rc;
    /* Stream in uneven pieces, as a network would deliver them. */
    uint64_t done = 0;
    while (done < len) {
        size_t piece = (size_t)(len - done < 7777 ? len - done : 7777);
        ck_assert_int_eq(sd_upload_write(u, data + start + done, piece, &err), SC_OK);
        done += piece;
    }
    return sd_upload_finish(u, complete, offset, &err);
}

static uint8_t *read_stored(sd_blobs *b, const char *name, uint64_t *size)
{
    int fd = -1;
    sc_err err;
    ck_assert_int_eq(sd_blobs_open_read(b, name, &fd, size, &err), SC_OK);
    uint8_t *buf = malloc(*size ? *size : 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(pread(fd, buf, *size, 0), (ssize_t)*size);
    close(fd);
    return buf;
}

START_TEST(names)
{
    const char *ok = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    ck_assert(sd_blob_name_valid(ok, 64));
    ck_assert(!sd_blob_name_valid(ok, 63));
    ck_assert(!sd_blob_name_valid("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 64));
    ck_assert(!sd_blob_name_valid("../../../../etc/passwd/../../../../../../../../../../../../../x", 64));
    ck_assert(!sd_blob_name_valid("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde/", 64));
    ck_assert(!sd_blob_name_valid("0123456789abcdef0123456789abcdef\0" "123456789abcdef0123456789abcdef", 64));
    ck_assert(!sd_blob_name_valid(NULL, 64));
    sd_blobs *b = open_store(MIB, MIB);
    sd_blob_info info;
    sc_err err;
    ck_assert_int_eq(sd_blobs_stat(b, "../register.db", &info, &err), SC_ERR_MALFORMED);
    int fd;
    uint64_t size;
    ck_assert_int_eq(sd_blobs_open_read(b, "..", &fd, &size, &err), SC_ERR_MALFORMED);
    sd_upload *u;
    uint64_t off;
    ck_assert_int_eq(sd_upload_begin(b, "x", 0, 1, 1, &u, &off, &err), SC_ERR_MALFORMED);
    sd_blobs_close(b);
}
END_TEST

START_TEST(single_chunk)
{
    char name[65];
    uint8_t *data = make_blob(300 * KIB, 1, name);
    sd_blobs *b = open_store(MIB, MIB);
    sd_blob_info info;
    sc_err err;
    ck_assert_int_eq(sd_blobs_stat(b, name, &info, &err), SC_OK);
    ck_assert(!info.stored);
    ck_assert_uint_eq(info.offset, 0);
    bool complete = false;
    uint64_t off = 0;
    ck_assert_int_eq(put(b, name, data, 0, 300 * KIB, 300 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    ck_assert_uint_eq(off, 300 * KIB);
    ck_assert_int_eq(sd_blobs_stat(b, name, &info, &err), SC_OK);
    ck_assert(info.stored);
    ck_assert_uint_eq(info.size, 300 * KIB);
    /* Sharded by the first two digits; nothing left in partial/. */
    char path[1024];
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", dir, name, name);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/blobs/partial/%s.part", dir, name);
    ck_assert_int_ne(stat(path, &st), 0);
    uint64_t size;
    uint8_t *back = read_stored(b, name, &size);
    ck_assert_uint_eq(size, 300 * KIB);
    ck_assert(memcmp(back, data, size) == 0);
    /* Uploading it again changes nothing. */
    sd_upload *u;
    ck_assert_int_eq(sd_upload_begin(b, name, 0, 10, 300 * KIB, &u, &off, &err), SC_ERR_EXISTS);
    free(back);
    free(data);
    sd_blobs_close(b);
}
END_TEST

START_TEST(cut_at_half_and_resumed)
{
    char name[65];
    const uint64_t total = 2 * MIB + 123;
    uint8_t *data = make_blob(total, 2, name);
    sd_blobs *b = open_store(64 * MIB, MIB);
    bool complete = false;
    uint64_t off = 0, half = total / 2;
    /* First half in one chunk of 1 MiB and one smaller one. */
    ck_assert_int_eq(put(b, name, data, 0, MIB, total, &complete, &off), SC_OK);
    ck_assert(!complete);
    ck_assert_uint_eq(off, MIB);
    ck_assert_int_eq(put(b, name, data, MIB, half - MIB, total, &complete, &off), SC_OK);
    ck_assert_uint_eq(off, half);
    /* The next chunk is cut off in the middle: its bytes never verified. */
    sd_upload *u;
    sc_err err;
    ck_assert_int_eq(sd_upload_begin(b, name, half, MIB, total, &u, &off, &err), SC_OK);
    ck_assert_int_eq(sd_upload_write(u, data + half, 1000, &err), SC_OK);
    ck_assert_uint_eq(sd_upload_received(u), 1000);
    sd_upload_abort(u);
    sd_blob_info info;
    ck_assert_int_eq(sd_blobs_stat(b, name, &info, &err), SC_OK);
    ck_assert(!info.stored);
    ck_assert_uint_eq(info.offset, half);
    /* A finish with a short body is refused too, and also keeps the offset. */
    ck_assert_int_eq(sd_upload_begin(b, name, half, MIB, total, &u, &off, &err), SC_OK);
    ck_assert_int_eq(sd_upload_write(u, data + half, 10, &err), SC_OK);
    ck_assert_int_eq(sd_upload_finish(u, &complete, &off, &err), SC_ERR_MALFORMED);
    ck_assert_int_eq(sd_blobs_stat(b, name, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, half);
    /* Resume from where HEAD says, in chunks. */
    uint64_t at = info.offset;
    while (!complete) {
        uint64_t len = total - at < MIB ? total - at : MIB;
        ck_assert_int_eq(put(b, name, data, at, len, total, &complete, &off), SC_OK);
        at = off;
    }
    ck_assert_uint_eq(off, total);
    uint64_t size;
    uint8_t *back = read_stored(b, name, &size);
    ck_assert_uint_eq(size, total);
    ck_assert(memcmp(back, data, total) == 0);
    free(back);
    free(data);
    sd_blobs_close(b);
}
END_TEST

START_TEST(wrong_offset)
{
    char name[65];
    uint8_t *data = make_blob(100 * KIB, 3, name);
    sd_blobs *b = open_store(MIB, MIB);
    sd_upload *u = NULL;
    sc_err err;
    uint64_t off = 99;
    ck_assert_int_eq(sd_upload_begin(b, name, 10, 10, 100 * KIB, &u, &off, &err),
                     SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_null(u);
    ck_assert_uint_eq(off, 0);
    bool complete;
    ck_assert_int_eq(put(b, name, data, 0, 40 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert_int_eq(sd_upload_begin(b, name, 0, 10, 100 * KIB, &u, &off, &err),
                     SC_ERR_INVALID_TRANSITION);
    ck_assert_uint_eq(off, 40 * KIB);
    ck_assert_int_eq(sd_upload_begin(b, name, 50 * KIB, 10, 100 * KIB, &u, &off, &err),
                     SC_ERR_INVALID_TRANSITION);
    ck_assert_uint_eq(off, 40 * KIB);
    /* A different total from the upload in progress is a conflict too. */
    ck_assert_int_eq(sd_upload_begin(b, name, 40 * KIB, 10, 99 * KIB, &u, &off, &err),
                     SC_ERR_INVALID_TRANSITION);
    ck_assert_int_eq(put(b, name, data, 40 * KIB, 60 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    free(data);
    sd_blobs_close(b);
}
END_TEST

START_TEST(hash_mismatch)
{
    char name[65];
    uint8_t *data = make_blob(64 * KIB, 4, name);
    sd_blobs *b = open_store(MIB, MIB);
    bool complete;
    uint64_t off;
    ck_assert_int_eq(put(b, name, data, 0, 32 * KIB, 64 * KIB, &complete, &off), SC_OK);
    data[40 * KIB] ^= 1;
    sd_upload *u;
    sc_err err;
    ck_assert_int_eq(sd_upload_begin(b, name, 32 * KIB, 32 * KIB, 64 * KIB, &u, &off, &err), SC_OK);
    ck_assert_int_eq(sd_upload_write(u, data + 32 * KIB, 32 * KIB, &err), SC_OK);
    ck_assert_int_eq(sd_upload_finish(u, &complete, &off, &err), SC_ERR_MALFORMED);
    ck_assert(strstr(err.msg, "do not match their hash") != NULL);
    /* Discarded: nothing stored, nothing partial. */
    sd_blob_info info;
    ck_assert_int_eq(sd_blobs_stat(b, name, &info, &err), SC_OK);
    ck_assert(!info.stored);
    ck_assert_uint_eq(info.offset, 0);
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/blobs/partial/%s.part", dir, name);
    ck_assert_int_ne(stat(path, &st), 0);
    /* A single-chunk mismatch too (hashed while streaming). */
    ck_assert_int_eq(put(b, name, data, 0, 64 * KIB, 64 * KIB, &complete, &off), SC_ERR_MALFORMED);
    free(data);
    sd_blobs_close(b);
}
END_TEST

START_TEST(limits)
{
    char name[65];
    uint8_t *data = make_blob(10, 5, name);
    sd_blobs *b = open_store(1000, 100);
    sd_upload *u;
    sc_err err;
    uint64_t off;
    ck_assert_int_eq(sd_upload_begin(b, name, 0, 100, 1001, &u, &off, &err), SC_ERR_TOO_LARGE);
    ck_assert_int_eq(sd_upload_begin(b, name, 0, 101, 1000, &u, &off, &err), SC_ERR_TOO_LARGE);
    ck_assert_int_eq(sd_upload_begin(b, name, 0, 0, 1000, &u, &off, &err), SC_ERR_MALFORMED);
    ck_assert_int_eq(sd_upload_begin(b, name, 990, 20, 1000, &u, &off, &err), SC_ERR_MALFORMED);
    ck_assert_int_eq(sd_upload_begin(b, name, 1000, 1, 1000, &u, &off, &err), SC_ERR_MALFORMED);
    ck_assert_int_eq(sd_upload_begin(b, name, UINT64_MAX, 2, 1000, &u, &off, &err),
                     SC_ERR_MALFORMED);
    /* Writing past the chunk's length is refused. */
    ck_assert_int_eq(sd_upload_begin(b, name, 0, 5, 10, &u, &off, &err), SC_OK);
    ck_assert_int_eq(sd_upload_write(u, data, 6, &err), SC_ERR_TOO_LARGE);
    sd_upload_abort(u);
    free(data);
    sd_blobs_close(b);
}
END_TEST

START_TEST(second_writer_refused)
{
    char name[65];
    uint8_t *data = make_blob(20 * KIB, 6, name);
    sd_blobs *b = open_store(MIB, MIB);
    sd_upload *u1, *u2 = NULL;
    sc_err err;
    uint64_t off;
    bool complete;
    ck_assert_int_eq(sd_upload_begin(b, name, 0, 10 * KIB, 20 * KIB, &u1, &off, &err), SC_OK);
    ck_assert_int_eq(sd_upload_write(u1, data, 5 * KIB, &err), SC_OK);
    /* While the first holds the upload, a second is refused and touches nothing. */
    ck_assert_int_eq(sd_upload_begin(b, name, 0, 10 * KIB, 20 * KIB, &u2, &off, &err),
                     SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_null(u2);
    ck_assert(strstr(err.msg, "in progress") != NULL);
    ck_assert_int_eq(sd_upload_write(u1, data + 5 * KIB, 5 * KIB, &err), SC_OK);
    ck_assert_int_eq(sd_upload_finish(u1, &complete, &off, &err), SC_OK);
    ck_assert_uint_eq(off, 10 * KIB);
    ck_assert_int_eq(put(b, name, data, 10 * KIB, 10 * KIB, 20 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    free(data);
    sd_blobs_close(b);
}
END_TEST

typedef struct racer {
    sd_blobs *b;
    const char *name;
    const uint8_t *data;
    uint64_t total;
    int stored, conflicts, exists;
} racer;

/* Upload the blob in 64 KiB chunks from wherever it stands, until it is stored. */
static void *race(void *arg)
{
    racer *r = arg;
    for (int round = 0; round < 100000; round++) {
        sd_blob_info info;
        sc_err err;
        ck_assert_int_eq(sd_blobs_stat(r->b, r->name, &info, &err), SC_OK);
        if (info.stored) {
            r->exists++;
            return NULL;
        }
        uint64_t at = info.offset, len = r->total - at < 64 * KIB ? r->total - at : 64 * KIB;
        bool complete = false;
        uint64_t off;
        sc_status rc = put(r->b, r->name, r->data, at, len, r->total, &complete, &off);
        if (rc == SC_OK && complete) {
            r->stored++;
            return NULL;
        }
        if (rc == SC_ERR_INVALID_TRANSITION)
            r->conflicts++;
        else if (rc == SC_ERR_EXISTS)
            r->exists++;
        else
            ck_assert_int_eq(rc, SC_OK);
    }
    return NULL;
}

START_TEST(concurrent_same_hash)
{
    char name[65];
    const uint64_t total = 3 * MIB + 17;
    uint8_t *data = make_blob(total, 7, name);
    sd_blobs *b = open_store(64 * MIB, MIB);
    pthread_t th[4];
    racer r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){b, name, data, total, 0, 0, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    int stored = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        stored += r[i].stored;
    }
    /* Exactly one upload completed it; the bytes are right. */
    ck_assert_int_eq(stored, 1);
    uint64_t size;
    uint8_t *back = read_stored(b, name, &size);
    ck_assert_uint_eq(size, total);
    ck_assert(memcmp(back, data, total) == 0);
    free(back);
    free(data);
    sd_blobs_close(b);
}
END_TEST

START_TEST(restart_recovers_partial)
{
    char name[65];
    uint8_t *data = make_blob(200 * KIB, 8, name);
    sd_blobs *b = open_store(MIB, MIB);
    bool complete;
    uint64_t off;
    ck_assert_int_eq(put(b, name, data, 0, 80 * KIB, 200 * KIB, &complete, &off), SC_OK);
    sd_blobs_close(b);
    /* A crash mid-chunk leaves unverified bytes after the verified offset. */
    char path[1024];
    snprintf(path, sizeof path, "%s/blobs/partial/%s.part", dir, name);
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "garbage that never verified", 27), 27);
    close(fd);
    /* Older crashes left a temporary sidecar and a sidecar without its partial. */
    const char *ghost = "00000000000000000000000000000000000000000000000000000000000000aa";
    char tmpoff[1024], orphan[1024];
    snprintf(tmpoff, sizeof tmpoff, "%s/blobs/partial/%s.off.tmp", dir, name);
    snprintf(orphan, sizeof orphan, "%s/blobs/partial/%s.off", dir, ghost);
    for (int i = 0; i < 2; i++) {
        const char *p = i ? orphan : tmpoff;
        fd = open(p, O_WRONLY | O_CREAT, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
        ck_assert_int_eq(utimensat(AT_FDCWD, p, old, 0), 0);
    }
    b = open_store(MIB, MIB);
    struct stat gone;
    ck_assert_int_ne(stat(tmpoff, &gone), 0);
    ck_assert_int_ne(stat(orphan, &gone), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 80 * KIB);
    sd_blob_info info;
    sc_err err;
    ck_assert_int_eq(sd_blobs_stat(b, name, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 80 * KIB);
    ck_assert_int_eq(put(b, name, data, 80 * KIB, 120 * KIB, 200 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    uint64_t size;
    uint8_t *back = read_stored(b, name, &size);
    ck_assert(memcmp(back, data, size) == 0);
    free(back);

    /* A partial whose bytes went missing (shorter than its verified offset) starts over. */
    char other[65];
    uint8_t *d2 = make_blob(50 * KIB, 9, other);
    ck_assert_int_eq(put(b, other, d2, 0, 20 * KIB, 50 * KIB, &complete, &off), SC_OK);
    sd_blobs_close(b);
    snprintf(path, sizeof path, "%s/blobs/partial/%s.part", dir, other);
    ck_assert_int_eq(truncate(path, 100), 0);
    b = open_store(MIB, MIB);
    ck_assert_int_eq(sd_blobs_stat(b, other, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 0);
    ck_assert_int_eq(put(b, other, d2, 0, 50 * KIB, 50 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    free(d2);
    free(data);
    sd_blobs_close(b);
}
END_TEST

START_TEST(disk_failure_keeps_verified_offset)
{
    char name[65];
    uint8_t *data = make_blob(400 * KIB, 10, name);
    sd_blobs *b = open_store(MIB, MIB);
    bool complete;
    uint64_t off;
    ck_assert_int_eq(put(b, name, data, 0, 100 * KIB, 400 * KIB, &complete, &off), SC_OK);
    /* A file size limit makes the next writes fail as a full disk would (EFBIG instead of ENOSPC). */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {150 * KIB, 150 * KIB};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    sd_upload *u;
    sc_err err;
    ck_assert_int_eq(sd_upload_begin(b, name, 100 * KIB, 100 * KIB, 400 * KIB, &u, &off, &err),
                     SC_OK);
    sc_status rc = SC_OK;
    for (uint64_t at = 0; at < 100 * KIB && rc == SC_OK; at += 10 * KIB)
        rc = sd_upload_write(u, data + 100 * KIB + at, 10 * KIB, &err);
    ck_assert_int_eq(rc, SC_ERR_STORAGE);
    sd_upload_abort(u);
    sd_blob_info info;
    ck_assert_int_eq(sd_blobs_stat(b, name, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 100 * KIB);
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/blobs/partial/%s.part", dir, name);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 100 * KIB);
    free(data);
    sd_blobs_close(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/blobs");
    struct {
        const char *name;
        const TTest *t;
    } cases[] = {
        {"names", names},
        {"single_chunk", single_chunk},
        {"cut_at_half_and_resumed", cut_at_half_and_resumed},
        {"wrong_offset", wrong_offset},
        {"hash_mismatch", hash_mismatch},
        {"limits", limits},
        {"second_writer_refused", second_writer_refused},
        {"concurrent_same_hash", concurrent_same_hash},
        {"restart_recovers_partial", restart_recovers_partial},
        {"disk_failure_keeps_verified_offset", disk_failure_keeps_verified_offset},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].t);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return sct_run(suite());
}
