/*
 * blobs.c: the blob store (see blobs.h).  Every path is built from a
 * validated name, so the only directories touched are blobs/xx and
 * blobs/partial.  Durability order for a chunk: data fdatasync, then the
 * sidecar (temporary file, fdatasync, rename, directory fsync); for a
 * completed blob: data fdatasync, rename into blobs/xx, directory fsync,
 * then the sidecar is removed.  A crash between any two steps leaves either
 * the old verified offset or the stored blob, never a blob that does not
 * match its name.
 */
#include "blobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core/ids.h"

/* Read buffer for hashing a completed upload back from disk. */
#define HASH_BUF (256 * 1024)
/* The sidecar's first word: a format tag, so a damaged file is recognized. */
#define SIDECAR_TAG "spotcheck-partial-v1"
/* Seconds before a stray sidecar is removed at open (see sweep_orphan). */
#define ORPHAN_AGE_S 600
/* Retries when the .part file is replaced between open and lock (a concurrent completion). */
#define OPEN_RETRIES 8

/*
 * Running hashes of uploads in progress.  When a chunk is verified, the
 * SHA-256 state over the blob's first `covered` bytes is kept here, so the
 * next chunk (which must start at `covered`) goes on hashing as it streams
 * and a completed multi-chunk blob is not read back from disk to be hashed
 * (that read-back was a third SHA-256 pass over every byte, beside the
 * request signature's and the first chunk's).  A state is only a shortcut:
 * without one (syncd restarted, the table full, another chunk size) the
 * blob is read back and hashed as before.  Bounded, so memory stays flat in
 * photo size and count.
 */
#define HASH_STATES 64

typedef struct hash_state {
    char name[SD_BLOB_NAME_LEN + 1]; /* "" when free */
    uint64_t covered;                /* bytes hashed, all verified */
    uint64_t used;                   /* last use, for eviction */
    sc_sha256_ctx ctx;
} hash_state;

struct sd_blobs {
    char root[SD_PATH_MAX];    /* data_dir/blobs */
    char partial[SD_PATH_MAX]; /* data_dir/blobs/partial */
    uint64_t max_size;         /* bytes */
    uint64_t chunk_max;        /* bytes */
    pthread_mutex_t hmu;       /* hs and tick */
    hash_state hs[HASH_STATES];
    uint64_t tick;
};

struct sd_upload {
    sd_blobs *b;                           /* borrowed */
    char name[SD_BLOB_NAME_LEN + 1];
    int fd;                                /* the .part file */
    bool locked;                           /* fd holds the exclusive flock */
    uint64_t verified;                     /* verified offset when the chunk began */
    uint64_t start, len, total;            /* the chunk's range and the blob's size */
    uint64_t received;                     /* chunk bytes written so far */
    bool hashing;                          /* ctx hashes the blob from byte 0 as it streams */
    bool by_caller;                        /* whole blob in one chunk, the caller hashes it */
    bool has_digest;                       /* digest: the caller's hash of this chunk */
    uint8_t digest[SC_HASH_LEN];
    sc_sha256_ctx ctx;
};

/* A copy of the kept hash state of `name` over exactly its first `at` bytes; false when none. */
static bool state_take(sd_blobs *b, const char *name, uint64_t at, sc_sha256_ctx *out)
{
    bool found = false;
    pthread_mutex_lock(&b->hmu);
    for (size_t i = 0; i < HASH_STATES && !found; i++)
        if (b->hs[i].name[0] && b->hs[i].covered == at &&
            memcmp(b->hs[i].name, name, SD_BLOB_NAME_LEN) == 0) {
            *out = b->hs[i].ctx;
            b->hs[i].used = ++b->tick;
            found = true;
        }
    pthread_mutex_unlock(&b->hmu);
    return found;
}

/* Keep (replacing the blob's older state, or the least recently used) the state over `covered` bytes. */
static void state_keep(sd_blobs *b, const char *name, uint64_t covered, const sc_sha256_ctx *ctx)
{
    pthread_mutex_lock(&b->hmu);
    size_t slot = 0;
    for (size_t i = 0; i < HASH_STATES; i++) {
        if (b->hs[i].name[0] && memcmp(b->hs[i].name, name, SD_BLOB_NAME_LEN) == 0) {
            slot = i;
            break;
        }
        if (b->hs[i].used < b->hs[slot].used)
            slot = i;
    }
    memcpy(b->hs[slot].name, name, SD_BLOB_NAME_LEN);
    b->hs[slot].name[SD_BLOB_NAME_LEN] = '\0';
    b->hs[slot].covered = covered;
    b->hs[slot].ctx = *ctx;
    b->hs[slot].used = ++b->tick;
    pthread_mutex_unlock(&b->hmu);
}

static void state_drop(sd_blobs *b, const char *name)
{
    pthread_mutex_lock(&b->hmu);
    for (size_t i = 0; i < HASH_STATES; i++)
        if (b->hs[i].name[0] && memcmp(b->hs[i].name, name, SD_BLOB_NAME_LEN) == 0)
            memset(&b->hs[i], 0, sizeof b->hs[i]);
    pthread_mutex_unlock(&b->hmu);
}

bool sd_blob_name_valid(const char *name, size_t len)
{
    if (!name || len != SD_BLOB_NAME_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static bool name_ok(const char *name)
{
    return name && sd_blob_name_valid(name, strnlen(name, SD_BLOB_NAME_LEN + 1));
}

/* dir "/" name suffix, reporting truncation; every path here is far below SD_PATH_MAX in practice. */
static bool pathf(char *out, size_t cap, const char *dir, const char *name, const char *suffix)
{
    int n = snprintf(out, cap, "%s/%s%s", dir, name, suffix);
    return n > 0 && (size_t)n < cap;
}

/* root/xx/name: where a stored blob lives under the store's root. */
static bool stored_path(const char *root, const char *name, char *out, size_t cap)
{
    char shard[3] = {name[0], name[1], '\0'};
    int n = snprintf(out, cap, "%s/%s/%s", root, shard, name);
    return n > 0 && (size_t)n < cap;
}

static bool final_path(const sd_blobs *b, const char *name, char *out, size_t cap)
{
    return stored_path(b->root, name, out, cap);
}

bool sd_blob_path(const char *data_dir, const char *name, char *out, size_t cap)
{
    char root[SD_PATH_MAX];
    return name_ok(name) && pathf(root, sizeof root, data_dir, "blobs", "") &&
           stored_path(root, name, out, cap);
}

static bool shard_path(const sd_blobs *b, const char *name, char *out, size_t cap)
{
    char shard[3] = {name[0], name[1], '\0'};
    return pathf(out, cap, b->root, shard, "");
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int mkdir_p1(const char *path)
{
    if (mkdir(path, 0750) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

/* Read the sidecar: *off and *total, both 0 when it is missing or damaged. */
static void sidecar_read(const sd_blobs *b, const char *name, uint64_t *off, uint64_t *total)
{
    char path[SD_PATH_MAX + 80], text[128];
    *off = 0;
    *total = 0;
    if (!pathf(path, sizeof path, b->partial, name, ".off"))
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return;
    text[n] = '\0';
    char tag[32];
    unsigned long long o, t;
    char nl;
    if (sscanf(text, "%31s %llu %llu%c", tag, &o, &t, &nl) == 4 && strcmp(tag, SIDECAR_TAG) == 0 &&
        nl == '\n' && o <= t) {
        *off = o;
        *total = t;
    }
}

static int sidecar_write(const sd_blobs *b, const char *name, uint64_t off, uint64_t total)
{
    char tmp[SD_PATH_MAX + 80], path[SD_PATH_MAX + 80], text[128];
    if (!pathf(tmp, sizeof tmp, b->partial, name, ".off.tmp") ||
        !pathf(path, sizeof path, b->partial, name, ".off"))
        return -1;
    int n = snprintf(text, sizeof text, SIDECAR_TAG " %" PRIu64 " %" PRIu64 "\n", off, total);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, text, (size_t)n);
    int rc = (w == n && fdatasync(fd) == 0) ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc == 0)
        rc = fsync_dir(b->partial);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static void partial_paths(const sd_blobs *b, const char *name, char *part, char *off, size_t cap)
{
    /* Callers pass buffers of SD_PATH_MAX + 80; b->partial is shorter than SD_PATH_MAX. */
    if (!pathf(part, cap, b->partial, name, ".part"))
        part[0] = '\0';
    if (!pathf(off, cap, b->partial, name, ".off"))
        off[0] = '\0';
}

/* Remove an upload's files; the caller holds the flock. */
static void discard_partial(const sd_blobs *b, const char *name)
{
    char part[SD_PATH_MAX + 80], off[SD_PATH_MAX + 80];
    partial_paths(b, name, part, off, sizeof part);
    unlink(off);
    unlink(part);
    fsync_dir(b->partial);
}

/* Cut one partial back to its verified offset (startup recovery); skips uploads in progress. */
static void recover_one(sd_blobs *b, const char *name)
{
    char part[SD_PATH_MAX + 80], off[SD_PATH_MAX + 80];
    partial_paths(b, name, part, off, sizeof part);
    int fd = open(part, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        uint64_t v, t;
        struct stat st;
        sidecar_read(b, name, &v, &t);
        if (fstat(fd, &st) != 0)
            st.st_size = 0;
        if (v == 0 || (uint64_t)st.st_size < v)
            discard_partial(b, name);
        else if ((uint64_t)st.st_size > v && ftruncate(fd, (off_t)v) == 0)
            fdatasync(fd);
    }
    close(fd);
}

/*
 * Remove a sidecar left without its .part (a crash between storing a blob
 * and removing its sidecar), or a temporary sidecar a crash left behind.
 * Only old ones: another syncd sharing the directory may be writing a new one.
 */
static void sweep_orphan(sd_blobs *b, const char *name, const char *suffix)
{
    char path[SD_PATH_MAX + 80], part[SD_PATH_MAX + 80], off[SD_PATH_MAX + 80];
    partial_paths(b, name, part, off, sizeof part);
    if (!pathf(path, sizeof path, b->partial, name, suffix))
        return;
    struct stat st;
    if (stat(path, &st) != 0 || st.st_mtime > time(NULL) - ORPHAN_AGE_S)
        return;
    if (strcmp(suffix, ".off") == 0 && stat(part, &st) == 0)
        return; /* not an orphan: recover_one handles it */
    unlink(path);
}

sc_status sd_blobs_open(const char *data_dir, uint64_t max_size, uint64_t chunk_max,
                        sd_blobs **out, sc_err *err)
{
    *out = NULL;
    sd_blobs *b = calloc(1, sizeof *b);
    if (!b)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory opening the blob store");
    b->max_size = max_size;
    b->chunk_max = chunk_max;
    if (!pathf(b->root, sizeof b->root, data_dir, "blobs", "") ||
        !pathf(b->partial, sizeof b->partial, b->root, "partial", "")) {
        free(b);
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "data directory path too long");
    }
    if (mkdir_p1(b->root) != 0 || mkdir_p1(b->partial) != 0) {
        int e = errno;
        free(b);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot create the blob directories under %s: %s",
                          data_dir, strerror(e));
    }
    DIR *d = opendir(b->partial);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strlen(de->d_name) <= SD_BLOB_NAME_LEN ||
                !sd_blob_name_valid(de->d_name, SD_BLOB_NAME_LEN))
                continue;
            char name[SD_BLOB_NAME_LEN + 1];
            memcpy(name, de->d_name, SD_BLOB_NAME_LEN);
            name[SD_BLOB_NAME_LEN] = '\0';
            const char *suffix = de->d_name + SD_BLOB_NAME_LEN;
            if (strcmp(suffix, ".part") == 0)
                recover_one(b, name);
            else if (strcmp(suffix, ".off") == 0 || strcmp(suffix, ".off.tmp") == 0)
                sweep_orphan(b, name, suffix);
        }
        closedir(d);
    }
    pthread_mutex_init(&b->hmu, NULL);
    *out = b;
    return SC_OK;
}

void sd_blobs_close(sd_blobs *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->hmu);
    free(b);
}

sc_status sd_blobs_stat(sd_blobs *b, const char *name, sd_blob_info *out, sc_err *err)
{
    char path[SD_PATH_MAX + 80];
    memset(out, 0, sizeof *out);
    if (!name_ok(name))
        return sc_err_set(err, SC_ERR_MALFORMED, 17, "a blob name is 64 lowercase hex digits");
    struct stat st;
    if (!final_path(b, name, path, sizeof path))
        return sc_err_set(err, SC_ERR_STORAGE, 21, "blob path too long");
    if (stat(path, &st) == 0) {
        out->stored = true;
        out->size = (uint64_t)st.st_size;
        return SC_OK;
    }
    if (errno != ENOENT)
        return sc_err_set(err, SC_ERR_STORAGE, 21, "cannot read blob %s: %s", name, strerror(errno));
    uint64_t total;
    sidecar_read(b, name, &out->offset, &total);
    return SC_OK;
}

sc_status sd_blobs_open_read(sd_blobs *b, const char *name, int *fd, uint64_t *size, sc_err *err)
{
    char path[SD_PATH_MAX + 80];
    *fd = -1;
    *size = 0;
    if (!name_ok(name))
        return sc_err_set(err, SC_ERR_MALFORMED, 17, "a blob name is 64 lowercase hex digits");
    if (!final_path(b, name, path, sizeof path))
        return sc_err_set(err, SC_ERR_STORAGE, 21, "blob path too long");
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        if (errno == ENOENT)
            return sc_err_set(err, SC_ERR_NOT_FOUND, 0, "blob %s is not stored", name);
        return sc_err_set(err, SC_ERR_STORAGE, 21, "cannot open blob %s: %s", name, strerror(errno));
    }
    struct stat st;
    if (fstat(f, &st) != 0) {
        close(f);
        return sc_err_set(err, SC_ERR_STORAGE, 21, "cannot stat blob %s", name);
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return SC_OK;
}

static bool is_stored(const sd_blobs *b, const char *name)
{
    char path[SD_PATH_MAX + 80];
    struct stat st;
    return final_path(b, name, path, sizeof path) && stat(path, &st) == 0;
}

/* Drop the lock and the descriptor; an upload that never verified a byte leaves no file. */
static void upload_release(sd_upload *u, bool cut_back)
{
    if (u->fd >= 0) {
        if (cut_back && u->locked) {
            if (u->verified == 0) {
                discard_partial(u->b, u->name);
            } else if (ftruncate(u->fd, (off_t)u->verified) == 0) {
                fdatasync(u->fd);
            }
        }
        close(u->fd); /* releases the flock */
    }
    free(u);
}

sc_status sd_upload_begin(sd_blobs *b, const char *name, uint64_t start, uint64_t len,
                          uint64_t total, sd_upload **out, uint64_t *offset, sc_err *err)
{
    char part[SD_PATH_MAX + 80], off[SD_PATH_MAX + 80];
    *out = NULL;
    *offset = 0;
    if (!name_ok(name))
        return sc_err_set(err, SC_ERR_MALFORMED, 17, "a blob name is 64 lowercase hex digits");
    if (total > b->max_size)
        return sc_err_set(err, SC_ERR_TOO_LARGE, 2, "blob of %" PRIu64 " bytes exceeds %" PRIu64,
                          total, b->max_size);
    if (len > b->chunk_max)
        return sc_err_set(err, SC_ERR_TOO_LARGE, 2, "chunk of %" PRIu64 " bytes exceeds %" PRIu64,
                          len, b->chunk_max);
    if (len == 0 || total == 0 || start >= total || len > total - start)
        return sc_err_set(err, SC_ERR_MALFORMED, 17,
                          "range of %" PRIu64 " bytes at %" PRIu64 " does not fit a total of %" PRIu64,
                          len, start, total);
    if (is_stored(b, name))
        return sc_err_set(err, SC_ERR_EXISTS, 0, "blob is already stored");

    sd_upload *u = calloc(1, sizeof *u);
    if (!u)
        return sc_err_set(err, SC_ERR_NOMEM, 21, "out of memory");
    u->b = b;
    u->fd = -1;
    memcpy(u->name, name, SD_BLOB_NAME_LEN + 1);
    partial_paths(b, name, part, off, sizeof part);

    sc_status rc = SC_OK;
    for (int attempt = 0;; attempt++) {
        if (attempt == OPEN_RETRIES) {
            rc = sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                            "another upload of this blob is in progress");
            goto fail;
        }
        u->fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (u->fd < 0) {
            rc = sc_err_set(err, SC_ERR_STORAGE, 21, "cannot open the partial upload: %s",
                            strerror(errno));
            goto fail;
        }
        if (flock(u->fd, LOCK_EX | LOCK_NB) != 0) {
            uint64_t t;
            sidecar_read(b, name, offset, &t);
            rc = sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                            "another upload of this blob is in progress");
            goto fail;
        }
        u->locked = true;
        /* The file we locked must still be the one at the path (not renamed into place or discarded). */
        struct stat a, p;
        if (fstat(u->fd, &a) == 0 && stat(part, &p) == 0 && a.st_dev == p.st_dev &&
            a.st_ino == p.st_ino)
            break;
        close(u->fd);
        u->fd = -1;
        u->locked = false;
    }
    if (is_stored(b, name)) {
        /* Completed by another upload while we waited for nothing: leave no empty partial behind. */
        uint64_t v, t;
        sidecar_read(b, name, &v, &t);
        u->verified = v;
        upload_release(u, true);
        return sc_err_set(err, SC_ERR_EXISTS, 0, "blob is already stored");
    }
    uint64_t v, t;
    sidecar_read(b, name, &v, &t);
    u->verified = v;
    *offset = v;
    struct stat st;
    if (fstat(u->fd, &st) != 0) {
        rc = sc_err_set(err, SC_ERR_STORAGE, 21, "cannot stat the partial upload");
        goto fail;
    }
    if ((uint64_t)st.st_size < v) {
        /* The partial lost bytes it had verified (damaged or edited by hand): start over. */
        discard_partial(b, name);
        rc = sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                        "the partial upload was damaged and has been discarded; start at 0");
        *offset = 0;
        u->verified = 0;
        goto fail;
    }
    if ((uint64_t)st.st_size != v) {
        /* An unverified tail (a cut chunk, a bad signature, a crash): cut it off. */
        if (ftruncate(u->fd, (off_t)v) != 0) {
            rc = sc_err_set(err, SC_ERR_STORAGE, 21, "cannot truncate the partial upload: %s",
                            strerror(errno));
            goto fail;
        }
    }
    if (v > 0 && t != total) {
        rc = sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                        "total %" PRIu64 " differs from the upload in progress (%" PRIu64 ")",
                        total, t);
        goto fail;
    }
    if (start != v) {
        rc = sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                        "chunk starts at %" PRIu64 " but the upload is at %" PRIu64, start, v);
        goto fail;
    }
    u->start = start;
    u->len = len;
    u->total = total;
    u->hashing = start == 0 || state_take(b, name, start, &u->ctx);
    if (start == 0)
        sc_sha256_init(&u->ctx);
    *out = u;
    sc_err_clear(err);
    return SC_OK;
fail:
    upload_release(u, rc != SC_ERR_STORAGE);
    return rc;
}

sc_status sd_upload_write(sd_upload *u, const void *data, size_t len, sc_err *err)
{
    if (len > u->len - u->received)
        return sc_err_set(err, SC_ERR_TOO_LARGE, 2, "chunk body longer than its range");
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(u->fd, p + done, len - done, (off_t)(u->start + u->received + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return sc_err_set(err, SC_ERR_STORAGE, 21, "cannot write the partial upload: %s",
                              w < 0 ? strerror(errno) : "no space");
        done += (size_t)w;
    }
    if (u->hashing && !u->by_caller)
        sc_sha256_update(&u->ctx, data, len);
    u->received += len;
    return SC_OK;
}

void sd_upload_hash_by_caller(sd_upload *u)
{
    if (u->start == 0 && u->len == u->total)
        u->by_caller = true;
}

void sd_upload_set_digest(sd_upload *u, const uint8_t digest[SC_HASH_LEN])
{
    memcpy(u->digest, digest, SC_HASH_LEN);
    u->has_digest = true;
}

uint64_t sd_upload_received(const sd_upload *u)
{
    return u->received;
}

/* Hash the first `total` bytes of fd. */
static int hash_file(int fd, uint64_t total, uint8_t out[SC_HASH_LEN])
{
    uint8_t *buf = malloc(HASH_BUF);
    if (!buf)
        return -1;
    sc_sha256_ctx ctx;
    sc_sha256_init(&ctx);
    uint64_t pos = 0;
    int rc = 0;
    while (pos < total) {
        size_t want = total - pos < HASH_BUF ? (size_t)(total - pos) : HASH_BUF;
        ssize_t n = pread(fd, buf, want, (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = -1;
            break;
        }
        sc_sha256_update(&ctx, buf, (size_t)n);
        pos += (uint64_t)n;
    }
    sc_sha256_final(&ctx, out);
    free(buf);
    return rc;
}

sc_status sd_upload_finish(sd_upload *u, bool *complete, uint64_t *offset, sc_err *err)
{
    sd_blobs *b = u->b;
    sc_status rc = SC_OK;
    *complete = false;
    *offset = u->verified;
    if (u->received != u->len) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 17,
                        "chunk body has %" PRIu64 " of its %" PRIu64 " bytes", u->received, u->len);
        upload_release(u, true);
        return rc;
    }
    if (fdatasync(u->fd) != 0) {
        rc = sc_err_set(err, SC_ERR_STORAGE, 21, "cannot sync the partial upload: %s",
                        strerror(errno));
        upload_release(u, true);
        return rc;
    }
    uint64_t end = u->start + u->len;
    if (end < u->total) {
        if (sidecar_write(b, u->name, end, u->total) != 0) {
            rc = sc_err_set(err, SC_ERR_STORAGE, 21, "cannot record the upload offset: %s",
                            strerror(errno));
            upload_release(u, true);
            return rc;
        }
        u->verified = end;
        *offset = end;
        if (u->hashing && !u->by_caller)
            state_keep(b, u->name, end, &u->ctx);
        upload_release(u, false);
        return SC_OK;
    }

    uint8_t got[SC_HASH_LEN];
    state_drop(b, u->name);
    if (u->by_caller && u->has_digest) {
        memcpy(got, u->digest, SC_HASH_LEN); /* the chunk is the whole blob */
    } else if (u->hashing && !u->by_caller) {
        sc_sha256_final(&u->ctx, got);
    } else if (hash_file(u->fd, u->total, got) != 0) {
        rc = sc_err_set(err, SC_ERR_STORAGE, 21, "cannot read back the upload to hash it");
        upload_release(u, true);
        return rc;
    }
    char hex[SC_HASH_HEX];
    sc_hex_encode(got, sizeof got, hex, sizeof hex);
    if (memcmp(hex, u->name, SD_BLOB_NAME_LEN) != 0) {
        discard_partial(b, u->name);
        u->verified = 0;
        close(u->fd);
        u->fd = -1;
        upload_release(u, false);
        return sc_err_set(err, SC_ERR_MALFORMED, 17, "bytes do not match their hash");
    }
    char part[SD_PATH_MAX + 80], off[SD_PATH_MAX + 80], shard[SD_PATH_MAX + 8],
        path[SD_PATH_MAX + 80];
    partial_paths(b, u->name, part, off, sizeof part);
    if (!shard_path(b, u->name, shard, sizeof shard) ||
        !final_path(b, u->name, path, sizeof path) || mkdir_p1(shard) != 0 ||
        rename(part, path) != 0 || fsync_dir(shard) != 0) {
        rc = sc_err_set(err, SC_ERR_STORAGE, 21, "cannot store the blob: %s", strerror(errno));
        upload_release(u, true);
        return rc;
    }
    unlink(off);
    fsync_dir(b->partial);
    *complete = true;
    *offset = u->total;
    close(u->fd);
    u->fd = -1;
    upload_release(u, false);
    return SC_OK;
}

void sd_upload_abort(sd_upload *u)
{
    if (u)
        upload_release(u, true);
}
