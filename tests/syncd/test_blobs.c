/*
 * test_blobs.c: the blob store: names, single and resumable uploads (cut at
 * half and resumed), wrong offsets, hash mismatch, limits, uploads kept per
 * device (another device's junk reaches nobody's upload), a blob stored
 * again by a device that proves it holds the bytes, concurrent uploads of
 * one blob, per-device quotas, the sweep (expiry of uploads and of blobs no
 * op names), recovery of a partial after a crash, uploads of the layout
 * before devices had their own dropped, a failing disk leaving the
 * partial at its verified offset, and an upload started over by another
 * store on the same directory never completed from a hash kept in memory.
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
#include <time.h>
#include <unistd.h>

#include "blobs/blobs.h"
#include "core/ids.h"
#include "sctest.h"
#include "sctest_server.h"

#define KIB 1024
#define MIB (1024 * 1024)

static char dir[512];

/* Two devices (their keys). */
static const uint8_t DEV_A[SC_KEY_LEN] = {0xa1};
static const uint8_t DEV_B[SC_KEY_LEN] = {0xb2};

/*
 * What the register would say: photos named by an op, and whether a device
 * sees one (every device sees a named photo, but for `hidden_from`).
 */
static struct {
    char named[8][SD_BLOB_NAME_LEN + 1];
    size_t n;
    const uint8_t *hidden_from; /* a device that sees none of them */
    int calls;
} reg;

static sc_status seen(void *ctx, const uint8_t *device, const uint8_t sha[SC_HASH_LEN], bool *out,
                      sc_err *err)
{
    (void)ctx;
    (void)err;
    char hex[SD_BLOB_NAME_LEN + 1];
    sc_hex_encode(sha, SC_HASH_LEN, hex, sizeof hex);
    __atomic_add_fetch(&reg.calls, 1, __ATOMIC_RELAXED);
    *out = false;
    for (size_t i = 0; i < reg.n; i++)
        if (strcmp(reg.named[i], hex) == 0)
            *out = !device || !reg.hidden_from || memcmp(device, reg.hidden_from, SC_KEY_LEN) != 0;
    return SC_OK;
}

static void name_it(const char *name)
{
    ck_assert_uint_lt(reg.n, 8);
    snprintf(reg.named[reg.n++], SD_BLOB_NAME_LEN + 1, "%s", name);
}

static void setup(void)
{
    sct_tempdir(dir, sizeof dir);
    memset(&reg, 0, sizeof reg);
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

/* Generous quotas and ages unless a test lowers them. */
static sd_blob_limits limits_of(uint64_t max, uint64_t chunk)
{
    return (sd_blob_limits){.max_size = max,
                            .chunk_max = chunk,
                            .partial_count = 64,
                            .partial_bytes = 64 * max,
                            .partial_age_s = 3600,
                            .unref_count = 64,
                            .unref_bytes = 64 * max,
                            .unref_age_s = 3600};
}

static sd_blobs *open_with(const sd_blob_limits *lim)
{
    sd_blobs *b = NULL;
    sc_err err;
    sc_err_clear(&err);
    ck_assert_int_eq(sd_blobs_open(dir, lim, seen, NULL, &b, &err), SC_OK);
    sd_blobs_sweep(b, time(NULL), NULL);
    return b;
}

static sd_blobs *open_store(uint64_t max, uint64_t chunk)
{
    sd_blob_limits lim = limits_of(max, chunk);
    return open_with(&lim);
}

/* dev's upload of [start, start+len) whole; returns what begin or finish returned. */
static sc_status put_as(sd_blobs *b, const uint8_t *dev, const char *name, const uint8_t *data,
                        uint64_t start, uint64_t len, uint64_t total, bool *complete,
                        uint64_t *offset)
{
    sd_upload *u = NULL;
    sc_err err;
    sc_err_clear(&err);
    *complete = false;
    sc_status rc = sd_upload_begin(b, dev, name, start, len, total, false, &u, offset, &err);
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

static sc_status put(sd_blobs *b, const char *name, const uint8_t *data, uint64_t start,
                     uint64_t len, uint64_t total, bool *complete, uint64_t *offset)
{
    return put_as(b, DEV_A, name, data, start, len, total, complete, offset);
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

/* DATA/blobs/partial/DEV/<name><suffix>, or unref/ with kind "unref". */
static void dev_path(const char *kind, const uint8_t *dev, const char *name, const char *suffix,
                     char *out, size_t cap)
{
    char hex[2 * SC_KEY_LEN + 1];
    sc_hex_encode(dev, SC_KEY_LEN, hex, sizeof hex);
    snprintf(out, cap, "%s/blobs/%s/%s/%s%s", dir, kind, hex, name, suffix);
}

static void age_file(const char *path, int64_t seconds)
{
    struct timespec t[2] = {{time(NULL) - seconds, 0}, {time(NULL) - seconds, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

START_TEST(names)
{
    const char *ok = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    ck_assert(sd_blob_name_valid(ok, 64));
    ck_assert(!sd_blob_name_valid(ok, 63));
    ck_assert(!sd_blob_name_valid("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 64));
    ck_assert(!sd_blob_name_valid("../../../../etc/passwd/../../../../../../../../../../../../../x", 64));
    ck_assert(!sd_blob_name_valid("0123456789abcdef0123456789abcdef0123456789abcde/", 64));
    ck_assert(!sd_blob_name_valid("0123456789abcdef0123456789abcdef\0" "123456789abcdef0123456789abcdef", 64));
    ck_assert(!sd_blob_name_valid(NULL, 64));
    sd_blobs *b = open_store(MIB, MIB);
    sd_blob_info info;
    sc_err err;
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, "../register.db", &info, &err), SC_ERR_MALFORMED);
    int fd;
    uint64_t size;
    ck_assert_int_eq(sd_blobs_open_read(b, "..", &fd, &size, &err), SC_ERR_MALFORMED);
    sd_upload *u;
    uint64_t off;
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, "x", 0, 1, 1, false, &u, &off, &err),
                     SC_ERR_MALFORMED);
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
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
    ck_assert(!info.stored);
    ck_assert_uint_eq(info.offset, 0);
    bool complete = false;
    uint64_t off = 0;
    ck_assert_int_eq(put(b, name, data, 0, 300 * KIB, 300 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    ck_assert_uint_eq(off, 300 * KIB);
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
    ck_assert(info.stored);
    ck_assert_uint_eq(info.size, 300 * KIB);
    /* Sharded by the first two digits; nothing left in partial/. */
    char path[1024];
    snprintf(path, sizeof path, "%s/blobs/%.2s/%s", dir, name, name);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    dev_path("partial", DEV_A, name, ".part", path, sizeof path);
    ck_assert_int_ne(stat(path, &st), 0);
    uint64_t size;
    uint8_t *back = read_stored(b, name, &size);
    ck_assert_uint_eq(size, 300 * KIB);
    ck_assert(memcmp(back, data, size) == 0);
    /* Uploaded again (by a device that may not read it, say): complete, and unchanged. */
    ck_assert_int_eq(put_as(b, DEV_B, name, data, 0, 300 * KIB, 300 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    free(back);
    back = read_stored(b, name, &size);
    ck_assert(size == 300 * KIB && memcmp(back, data, size) == 0);
    dev_path("partial", DEV_B, name, ".part", path, sizeof path);
    ck_assert_int_ne(stat(path, &st), 0);
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
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, half, MIB, total, false, &u, &off, &err),
                     SC_OK);
    ck_assert_int_eq(sd_upload_write(u, data + half, 1000, &err), SC_OK);
    ck_assert_uint_eq(sd_upload_received(u), 1000);
    sd_upload_abort(u);
    sd_blob_info info;
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
    ck_assert(!info.stored);
    ck_assert_uint_eq(info.offset, half);
    /* A finish with a short body is refused too, and also keeps the offset. */
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, half, MIB, total, false, &u, &off, &err),
                     SC_OK);
    ck_assert_int_eq(sd_upload_write(u, data + half, 10, &err), SC_OK);
    ck_assert_int_eq(sd_upload_finish(u, &complete, &off, &err), SC_ERR_MALFORMED);
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, half);
    /* Another device is told of its own upload only: none. */
    ck_assert_int_eq(sd_blobs_stat(b, DEV_B, name, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 0);
    /* Resume from where HEAD says, in chunks. */
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
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
    /* A chunk past 0 with no upload in progress: refused, and nothing is made for it. */
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 10, 10, 100 * KIB, false, &u, &off, &err),
                     SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_null(u);
    ck_assert_uint_eq(off, 0);
    char path[1024];
    struct stat st;
    dev_path("partial", DEV_A, name, ".part", path, sizeof path);
    ck_assert_int_ne(stat(path, &st), 0);
    bool complete;
    ck_assert_int_eq(put(b, name, data, 0, 40 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 0, 10, 100 * KIB, false, &u, &off, &err),
                     SC_ERR_INVALID_TRANSITION);
    ck_assert_uint_eq(off, 40 * KIB);
    ck_assert_int_eq(
        sd_upload_begin(b, DEV_A, name, 50 * KIB, 10, 100 * KIB, false, &u, &off, &err),
        SC_ERR_INVALID_TRANSITION);
    ck_assert_uint_eq(off, 40 * KIB);
    /* A different total from the upload in progress is a conflict too. */
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 40 * KIB, 10, 99 * KIB, false, &u, &off, &err),
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
    ck_assert_int_eq(
        sd_upload_begin(b, DEV_A, name, 32 * KIB, 32 * KIB, 64 * KIB, false, &u, &off, &err),
        SC_OK);
    ck_assert_int_eq(sd_upload_write(u, data + 32 * KIB, 32 * KIB, &err), SC_OK);
    ck_assert_int_eq(sd_upload_finish(u, &complete, &off, &err), SC_ERR_MALFORMED);
    ck_assert(strstr(err.msg, "do not match their hash") != NULL);
    /* Discarded: nothing stored, nothing partial. */
    sd_blob_info info;
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
    ck_assert(!info.stored);
    ck_assert_uint_eq(info.offset, 0);
    char path[1024];
    struct stat st;
    dev_path("partial", DEV_A, name, ".part", path, sizeof path);
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
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 0, 100, 1001, false, &u, &off, &err),
                     SC_ERR_TOO_LARGE);
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 0, 101, 1000, false, &u, &off, &err),
                     SC_ERR_TOO_LARGE);
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 0, 0, 1000, false, &u, &off, &err),
                     SC_ERR_MALFORMED);
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 990, 20, 1000, false, &u, &off, &err),
                     SC_ERR_MALFORMED);
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 1000, 1, 1000, false, &u, &off, &err),
                     SC_ERR_MALFORMED);
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, UINT64_MAX, 2, 1000, false, &u, &off, &err),
                     SC_ERR_MALFORMED);
    /* Writing past the chunk's length is refused. */
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 0, 5, 10, false, &u, &off, &err), SC_OK);
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
    sd_upload *u1, *u2 = NULL, *u3 = NULL;
    sc_err err;
    uint64_t off;
    bool complete;
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 0, 10 * KIB, 20 * KIB, false, &u1, &off, &err),
                     SC_OK);
    ck_assert_int_eq(sd_upload_write(u1, data, 5 * KIB, &err), SC_OK);
    /* While the first holds the upload, a second by its device is refused and touches nothing. */
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, name, 0, 10 * KIB, 20 * KIB, false, &u2, &off, &err),
                     SC_ERR_INVALID_TRANSITION);
    ck_assert_ptr_null(u2);
    ck_assert(strstr(err.msg, "in progress") != NULL);
    /* Another device's upload of the same blob is its own and goes ahead. */
    ck_assert_int_eq(sd_upload_begin(b, DEV_B, name, 0, 10 * KIB, 20 * KIB, false, &u3, &off, &err),
                     SC_OK);
    sd_upload_abort(u3);
    ck_assert_int_eq(sd_upload_write(u1, data + 5 * KIB, 5 * KIB, &err), SC_OK);
    ck_assert_int_eq(sd_upload_finish(u1, &complete, &off, &err), SC_OK);
    ck_assert_uint_eq(off, 10 * KIB);
    ck_assert_int_eq(put(b, name, data, 10 * KIB, 10 * KIB, 20 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    free(data);
    sd_blobs_close(b);
}
END_TEST

/*
 * Another device's bytes reach no one's upload: its junk final chunk, its
 * junk whole blob, its chunk at the owner's offset.  The owner's upload
 * keeps its offset and its bytes, and completes.
 */
START_TEST(uploads_are_per_device)
{
    char name[65];
    const uint64_t total = 300 * KIB, half = 150 * KIB;
    uint8_t *data = make_blob(total, 11, name);
    uint8_t *junk = make_blob(total, 12, (char[65]){0});
    sd_blobs *b = open_store(MIB, MIB);
    bool complete;
    uint64_t off;
    ck_assert_int_eq(put(b, name, data, 0, half, total, &complete, &off), SC_OK);
    char part[1024];
    dev_path("partial", DEV_A, name, ".part", part, sizeof part);
    uint8_t before[SC_HASH_LEN], after[SC_HASH_LEN];
    ck_assert(sct_file_sha256(part, before));
    /* B's junk at A's offset: B has no upload there. */
    ck_assert_int_eq(put_as(b, DEV_B, name, junk, half, total - half, total, &complete, &off),
                     SC_ERR_INVALID_TRANSITION);
    ck_assert_uint_eq(off, 0);
    /* B's junk whole, and B's first half with a junk final chunk: refused, B's own dropped. */
    ck_assert_int_eq(put_as(b, DEV_B, name, junk, 0, total, total, &complete, &off),
                     SC_ERR_MALFORMED);
    ck_assert_int_eq(put_as(b, DEV_B, name, data, 0, half, total, &complete, &off), SC_OK);
    ck_assert_int_eq(put_as(b, DEV_B, name, junk, half, total - half, total, &complete, &off),
                     SC_ERR_MALFORMED);
    /* A one-byte upload under A's name with another total (the poisoning of issue 11). */
    ck_assert_int_eq(put_as(b, DEV_B, name, junk, 0, 1, 2, &complete, &off), SC_OK);
    sd_blob_info info;
    sc_err err;
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
    ck_assert(!info.stored);
    ck_assert_uint_eq(info.offset, half);
    ck_assert(sct_file_sha256(part, after));
    ck_assert_mem_eq(before, after, SC_HASH_LEN);
    ck_assert_int_eq(sd_blobs_stat(b, DEV_B, name, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 1);
    /* A completes; B's stray byte is B's alone. */
    ck_assert_int_eq(put(b, name, data, half, total - half, total, &complete, &off), SC_OK);
    ck_assert(complete);
    uint64_t size;
    uint8_t *back = read_stored(b, name, &size);
    ck_assert(size == total && memcmp(back, data, total) == 0);
    free(back);
    free(junk);
    free(data);
    sd_blobs_close(b);
}
END_TEST

typedef struct racer {
    sd_blobs *b;
    const uint8_t *dev;
    const char *name;
    const uint8_t *data;
    uint64_t total;
    int stored, conflicts;
} racer;

/* Upload the blob in 64 KiB chunks from wherever this device's upload stands, until complete. */
static void *race(void *arg)
{
    racer *r = arg;
    for (int round = 0; round < 100000; round++) {
        sd_blob_info info;
        sc_err err;
        ck_assert_int_eq(sd_blobs_stat(r->b, r->dev, r->name, &info, &err), SC_OK);
        uint64_t at = info.offset, len = r->total - at < 64 * KIB ? r->total - at : 64 * KIB;
        bool complete = false;
        uint64_t off;
        sc_status rc = put_as(r->b, r->dev, r->name, r->data, at, len, r->total, &complete, &off);
        if (rc == SC_OK && complete) {
            r->stored++;
            return NULL;
        }
        if (rc == SC_ERR_INVALID_TRANSITION)
            r->conflicts++;
        else
            ck_assert_int_eq(rc, SC_OK);
    }
    return NULL;
}

/* Two devices, two threads each: every upload completes; the blob is stored once, whole. */
START_TEST(concurrent_same_hash)
{
    char name[65];
    const uint64_t total = 3 * MIB + 17;
    uint8_t *data = make_blob(total, 7, name);
    sd_blobs *b = open_store(64 * MIB, MIB);
    pthread_t th[4];
    racer r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){b, i % 2 ? DEV_B : DEV_A, name, data, total, 0, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    int stored = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        stored += r[i].stored;
    }
    /* Every thread's upload completed: the first stored the blob, the others proved it. */
    ck_assert_int_eq(stored, 4);
    uint64_t size;
    uint8_t *back = read_stored(b, name, &size);
    ck_assert_uint_eq(size, total);
    ck_assert(memcmp(back, data, total) == 0);
    free(back);
    free(data);
    sd_blobs_close(b);
}
END_TEST

/* Per-device quotas: refused before a byte is written; another device is not affected. */
START_TEST(quotas_per_device)
{
    sd_blob_limits lim = limits_of(MIB, MIB);
    lim.partial_count = 2;
    lim.partial_bytes = 250 * KIB;
    lim.unref_count = 1;
    lim.unref_bytes = MIB;
    sd_blobs *b = open_with(&lim);
    char n1[65], n2[65], n3[65], n4[65];
    uint8_t *d1 = make_blob(100 * KIB, 21, n1), *d2 = make_blob(100 * KIB, 22, n2);
    uint8_t *d3 = make_blob(100 * KIB, 23, n3), *d4 = make_blob(100 * KIB, 24, n4);
    bool complete;
    uint64_t off;
    sd_upload *u = NULL;
    sc_err err;
    /* Two uploads in progress fill A's count; a third new one is refused, A's two go on. */
    name_it(n1);
    name_it(n2);
    name_it(n3);
    ck_assert_int_eq(put(b, n1, d1, 0, 10 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert_int_eq(put(b, n2, d2, 0, 10 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert_int_eq(sd_upload_begin(b, DEV_A, n3, 0, 10 * KIB, 100 * KIB, true, &u, &off, &err),
                     SC_ERR_LIMIT);
    ck_assert_ptr_null(u);
    ck_assert(strstr(err.msg, "blobs.partial_max_count") != NULL);
    char path[1024];
    struct stat st;
    dev_path("partial", DEV_A, n3, ".part", path, sizeof path);
    ck_assert_int_ne(stat(path, &st), 0);
    /* B is not affected. */
    ck_assert_int_eq(put_as(b, DEV_B, n3, d3, 0, 100 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    /* A finishes one: room again, but 250 KiB of totals hold two 100 KiB uploads, not three. */
    ck_assert_int_eq(put(b, n1, d1, 10 * KIB, 90 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    lim.partial_count = 3;
    sd_blobs_close(b);
    b = open_with(&lim);
    ck_assert_int_eq(put(b, n3, d3, 0, 10 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert_int_eq(put(b, n4, d4, 0, 10 * KIB, 100 * KIB, &complete, &off), SC_ERR_LIMIT);
    sd_upload_begin(b, DEV_A, n4, 0, 10 * KIB, 100 * KIB, true, &u, &off, &err);
    ck_assert(strstr(err.msg, "blobs.partial_max_bytes") != NULL);
    /* A photo no op B can see names: B may store one, not two (n4 and n1 are B's unseen ones). */
    reg.hidden_from = DEV_B;
    ck_assert_int_eq(put_as(b, DEV_B, n4, d4, 0, 100 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    dev_path("unref", DEV_B, n4, "", path, sizeof path);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(sd_upload_begin(b, DEV_B, n1, 0, 10 * KIB, 100 * KIB, false, &u, &off, &err),
                     SC_ERR_LIMIT);
    ck_assert(strstr(err.msg, "blobs.unreferenced_max_count") != NULL);
    /* Once B can see an op naming n4, it no longer counts against B. */
    reg.hidden_from = NULL;
    name_it(n4);
    ck_assert_int_eq(put_as(b, DEV_B, n1, d1, 0, 100 * KIB, 100 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    dev_path("unref", DEV_B, n4, "", path, sizeof path);
    ck_assert_int_ne(stat(path, &st), 0);
    free(d1);
    free(d2);
    free(d3);
    free(d4);
    sd_blobs_close(b);
}
END_TEST

/*
 * Two syncd sharing one blob directory (a PostgreSQL register) admit no
 * more uploads of one device than its quota between them: each instance
 * here is its own handle, so only the directory's lock keeps their checks
 * apart.  In each round a new device has room for one upload, and both
 * instances start one for it at the same moment.
 */
#define RACE_ROUNDS 40
typedef struct quota_racer {
    sd_blobs *b;
    uint8_t *data;
    char name[65];
    pthread_barrier_t *go;
    unsigned admitted[RACE_ROUNDS];
} quota_racer;

static void race_device(size_t round, uint8_t dev[SC_KEY_LEN])
{
    memset(dev, 0x5a, SC_KEY_LEN);
    memcpy(dev, &round, sizeof round);
}

static void *race_uploads(void *arg)
{
    quota_racer *r = arg;
    for (size_t i = 0; i < RACE_ROUNDS; i++) {
        uint8_t dev[SC_KEY_LEN];
        race_device(i, dev);
        bool complete;
        uint64_t off;
        pthread_barrier_wait(r->go);
        if (put_as(r->b, dev, r->name, r->data, 0, KIB, 64 * KIB, &complete, &off) == SC_OK)
            r->admitted[i]++;
    }
    return NULL;
}

START_TEST(quotas_hold_across_instances)
{
    sd_blob_limits lim = limits_of(MIB, MIB);
    lim.partial_count = 1;
    static quota_racer rs[2];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    for (size_t k = 0; k < 2; k++) {
        rs[k] = (quota_racer){.b = open_with(&lim), .go = &go};
        rs[k].data = make_blob(64 * KIB, (uint32_t)(1000 + k), rs[k].name);
    }
    pthread_t t[2];
    for (size_t k = 0; k < 2; k++)
        ck_assert_int_eq(pthread_create(&t[k], NULL, race_uploads, &rs[k]), 0);
    for (size_t k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    for (size_t i = 0; i < RACE_ROUNDS; i++)
        ck_assert_msg(rs[0].admitted[i] + rs[1].admitted[i] == 1,
                      "round %zu: %u uploads admitted for a device with room for one", i,
                      rs[0].admitted[i] + rs[1].admitted[i]);
    for (size_t k = 0; k < 2; k++) {
        free(rs[k].data);
        sd_blobs_close(rs[k].b);
    }
    pthread_barrier_destroy(&go);
}
END_TEST

/*
 * The sweep: an upload untouched for partial_age_s goes, a fresh one stays;
 * a blob no op names goes unref_age_s after its last upload, unless an op
 * names it by then.
 */
START_TEST(sweep_expires)
{
    sd_blob_limits lim = limits_of(MIB, MIB);
    lim.partial_age_s = 100;
    lim.unref_age_s = 200;
    sd_blobs *b = open_with(&lim);
    char old[65], fresh[65], lone[65], named[65];
    uint8_t *d1 = make_blob(50 * KIB, 31, old), *d2 = make_blob(50 * KIB, 32, fresh);
    uint8_t *d3 = make_blob(50 * KIB, 33, lone), *d4 = make_blob(50 * KIB, 34, named);
    bool complete;
    uint64_t off;
    ck_assert_int_eq(put(b, old, d1, 0, 10 * KIB, 50 * KIB, &complete, &off), SC_OK);
    ck_assert_int_eq(put(b, fresh, d2, 0, 10 * KIB, 50 * KIB, &complete, &off), SC_OK);
    char part[1024], offp[1024];
    dev_path("partial", DEV_A, old, ".part", part, sizeof part);
    dev_path("partial", DEV_A, old, ".off", offp, sizeof offp);
    age_file(part, 101);
    age_file(offp, 101);
    ck_assert_int_eq(put(b, lone, d3, 0, 50 * KIB, 50 * KIB, &complete, &off), SC_OK);
    ck_assert_int_eq(put_as(b, DEV_B, named, d4, 0, 50 * KIB, 50 * KIB, &complete, &off), SC_OK);
    char lone_mark[1024], named_mark[1024];
    dev_path("unref", DEV_A, lone, "", lone_mark, sizeof lone_mark);
    dev_path("unref", DEV_B, named, "", named_mark, sizeof named_mark);
    sd_blob_sweep r;
    sd_blobs_sweep(b, time(NULL), &r);
    ck_assert_uint_eq(r.partials_gone, 1);
    ck_assert_uint_eq(r.blobs_gone, 0);
    sd_blob_info info;
    sc_err err;
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, old, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 0);
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, fresh, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 10 * KIB);
    /*
     * Past the unreferenced age: the lone blob goes, the one an op named
     * meanwhile stays. A few seconds past it, not one: a file's mtime comes
     * from the kernel's fine-grained clock and may lie a second ahead of
     * time(), which would leave a mark exactly at the age and so kept.
     */
    name_it(named);
    sd_blobs_sweep(b, time(NULL) + 205, &r);
    ck_assert_uint_eq(r.blobs_gone, 1);
    ck_assert_uint_eq(r.marks_gone, 2);
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, lone, &info, &err), SC_OK);
    ck_assert(!info.stored);
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, named, &info, &err), SC_OK);
    ck_assert(info.stored);
    struct stat st;
    ck_assert_int_ne(stat(lone_mark, &st), 0);
    ck_assert_int_ne(stat(named_mark, &st), 0);
    /* A fresh mark by another device keeps a blob whose first mark is old. */
    ck_assert_int_eq(put(b, lone, d3, 0, 50 * KIB, 50 * KIB, &complete, &off), SC_OK);
    age_file(lone_mark, 300);
    ck_assert_int_eq(put_as(b, DEV_B, lone, d3, 0, 50 * KIB, 50 * KIB, &complete, &off), SC_OK);
    sd_blobs_sweep(b, time(NULL), &r);
    ck_assert_uint_eq(r.blobs_gone, 0);
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, lone, &info, &err), SC_OK);
    ck_assert(info.stored);
    free(d1);
    free(d2);
    free(d3);
    free(d4);
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
    dev_path("partial", DEV_A, name, ".part", path, sizeof path);
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "garbage that never verified", 27), 27);
    close(fd);
    /* Older crashes left a temporary sidecar and a sidecar without its partial. */
    const char *ghost = "00000000000000000000000000000000000000000000000000000000000000aa";
    char tmpoff[1024], orphan[1024];
    dev_path("partial", DEV_A, name, ".off.tmp", tmpoff, sizeof tmpoff);
    dev_path("partial", DEV_A, ghost, ".off", orphan, sizeof orphan);
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
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
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
    dev_path("partial", DEV_A, other, ".part", path, sizeof path);
    ck_assert_int_eq(truncate(path, 100), 0);
    b = open_store(MIB, MIB);
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, other, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 0);
    ck_assert_int_eq(put(b, other, d2, 0, 50 * KIB, 50 * KIB, &complete, &off), SC_OK);
    ck_assert(complete);
    free(d2);
    free(data);
    sd_blobs_close(b);
}
END_TEST

/* Uploads of the layout where all devices shared one upload per blob are dropped at open. */
START_TEST(shared_partials_dropped)
{
    sd_blobs *b = open_store(MIB, MIB);
    sd_blobs_close(b);
    const char *name = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const char *suffix[] = {".part", ".off", ".off.tmp"};
    char path[3][1024];
    for (int i = 0; i < 3; i++) {
        snprintf(path[i], sizeof path[i], "%s/blobs/partial/%s%s", dir, name, suffix[i]);
        int fd = open(path[i], O_WRONLY | O_CREAT, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "x", 1), 1);
        close(fd);
    }
    b = open_store(MIB, MIB);
    struct stat st;
    for (int i = 0; i < 3; i++)
        ck_assert_int_ne(stat(path[i], &st), 0);
    sd_blob_info info;
    sc_err err;
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 0);
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
    ck_assert_int_eq(
        sd_upload_begin(b, DEV_A, name, 100 * KIB, 100 * KIB, 400 * KIB, false, &u, &off, &err),
        SC_OK);
    sc_status rc = SC_OK;
    for (uint64_t at = 0; at < 100 * KIB && rc == SC_OK; at += 10 * KIB)
        rc = sd_upload_write(u, data + 100 * KIB + at, 10 * KIB, &err);
    ck_assert_int_eq(rc, SC_ERR_STORAGE);
    sd_upload_abort(u);
    sd_blob_info info;
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, 100 * KIB);
    char path[1024];
    struct stat st;
    dev_path("partial", DEV_A, name, ".part", path, sizeof path);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 100 * KIB);
    free(data);
    sd_blobs_close(b);
}
END_TEST

/*
 * Two syncd sharing the blob directory (two stores on one directory), one
 * device, one photo: the first chunk of the real bytes goes to X, which
 * keeps its running hash; Y then sees the upload start over with other
 * bytes (a bad last chunk discarded it, or the sweep dropped it, and the
 * first chunk came again with junk) up to the same offset.  The real last
 * chunk sent to X must not complete the blob from the hash X kept of bytes
 * no longer in the file: a stored blob always hashes to its name.  The same
 * when a syncd from before upload ids took the upload again (its sidecar
 * has no id).
 */
static void stored_matches_name(sd_blobs *b, const char *name)
{
    sd_blob_info info;
    sc_err err;
    ck_assert_int_eq(sd_blobs_stat(b, DEV_A, name, &info, &err), SC_OK);
    if (!info.stored)
        return;
    uint64_t size;
    uint8_t *back = read_stored(b, name, &size), h[SC_HASH_LEN];
    char hex[SD_BLOB_NAME_LEN + 1];
    sc_sha256(back, size, h);
    sc_hex_encode(h, sizeof h, hex, sizeof hex);
    ck_assert_msg(strcmp(hex, name) == 0, "blob %s stored with bytes that hash to %s", name, hex);
    free(back);
}

START_TEST(restarted_elsewhere_not_hashed_from_memory)
{
    const uint64_t total = 200 * KIB, half = 80 * KIB;
    char name[65], junk_name[65];
    uint8_t *real = make_blob(total, 71, name), *junk = make_blob(total, 72, junk_name);
    sd_blobs *x = open_store(MIB, MIB), *y = open_store(MIB, MIB);
    bool complete;
    uint64_t off;
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(put(x, name, real, 0, half, total, &complete, &off), SC_OK);
        ck_assert_uint_eq(off, half);
        if (round == 0) {
            /* Junk for the rest, on Y: read back, refused, the upload discarded. */
            ck_assert_int_eq(put(y, name, junk, half, total - half, total, &complete, &off),
                             SC_ERR_MALFORMED);
            ck_assert_uint_eq(off, 0);
        } else {
            /* Left alone past partial_age_s: Y's sweep drops it. */
            char part[1024], offp[1024];
            dev_path("partial", DEV_A, name, ".part", part, sizeof part);
            dev_path("partial", DEV_A, name, ".off", offp, sizeof offp);
            age_file(part, 7200);
            age_file(offp, 7200);
            sd_blob_sweep r;
            sd_blobs_sweep(y, time(NULL), &r);
            ck_assert_uint_eq(r.partials_gone, 1);
        }
        /* The upload starts over on Y with junk, up to the same offset. */
        ck_assert_int_eq(put(y, name, junk, 0, half, total, &complete, &off), SC_OK);
        ck_assert_uint_eq(off, half);
        /* The real rest on X: junk || rest does not hash to the name. */
        sc_status rc = put(x, name, real, half, total - half, total, &complete, &off);
        stored_matches_name(x, name);
        ck_assert_int_eq(rc, SC_ERR_MALFORMED);
        ck_assert(!complete);
    }
    /*
     * A syncd from before upload ids took the upload again from 0 with junk:
     * its sidecar has the offset and total only, no id, so X reads back.
     */
    ck_assert_int_eq(put(x, name, real, 0, half, total, &complete, &off), SC_OK);
    char part[1024], offp[1024];
    dev_path("partial", DEV_A, name, ".part", part, sizeof part);
    dev_path("partial", DEV_A, name, ".off", offp, sizeof offp);
    int fd = open(part, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, junk, half, 0), (ssize_t)half);
    close(fd);
    FILE *f = fopen(offp, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "spotcheck-partial-v1 %llu %llu\n", (unsigned long long)half,
            (unsigned long long)total);
    fclose(f);
    sd_blob_info info;
    sc_err err;
    ck_assert_int_eq(sd_blobs_stat(y, DEV_A, name, &info, &err), SC_OK);
    ck_assert_uint_eq(info.offset, half);
    ck_assert_int_eq(put(x, name, real, half, total - half, total, &complete, &off),
                     SC_ERR_MALFORMED);
    stored_matches_name(x, name);
    /* The device starts over and stores its photo. */
    ck_assert_int_eq(put(x, name, real, 0, half, total, &complete, &off), SC_OK);
    ck_assert_int_eq(put(y, name, real, half, total - half, total, &complete, &off), SC_OK);
    ck_assert(complete);
    stored_matches_name(x, name);
    free(real);
    free(junk);
    sd_blobs_close(x);
    sd_blobs_close(y);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/blobs");
    const sct_case cases[] = {
        {"names", names},
        {"single_chunk", single_chunk},
        {"cut_at_half_and_resumed", cut_at_half_and_resumed},
        {"wrong_offset", wrong_offset},
        {"hash_mismatch", hash_mismatch},
        {"limits", limits},
        {"second_writer_refused", second_writer_refused},
        {"uploads_are_per_device", uploads_are_per_device},
        {"concurrent_same_hash", concurrent_same_hash},
        {"quotas_per_device", quotas_per_device},
        {"quotas_hold_across_instances", quotas_hold_across_instances},
        {"sweep_expires", sweep_expires},
        {"restart_recovers_partial", restart_recovers_partial},
        {"shared_partials_dropped", shared_partials_dropped},
        {"disk_failure_keeps_verified_offset", disk_failure_keeps_verified_offset},
        {"restarted_elsewhere_not_hashed_from_memory", restarted_elsewhere_not_hashed_from_memory},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
