/*
 * blobs.c: the blob store (see blobs.h).  Every path is built from a
 * validated name and a device key in hex, so the only directories touched
 * are blobs/xx, blobs/partial/DEV and blobs/unref/DEV.  Durability order for
 * a chunk: data fdatasync, then the sidecar (temporary file, fdatasync,
 * rename, directory fsync); for a completed blob: data fdatasync, the unref
 * mark when no op the device can see names it, rename into blobs/xx,
 * directory fsync, then the sidecar is removed.  A crash between any two
 * steps leaves either the old verified offset or the stored blob, never a
 * blob that does not match its name, and never a blob no op names without
 * the mark that lets it expire.
 */
#include "blobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "core/ids.h"
#include "core/keys.h"
#include "core/platform.h"
#include "core/reason.h"

/* Read buffer for hashing a completed upload back from disk. */
#define HASH_BUF (256 * 1024)
/* The sidecar's first word: a format tag, so a damaged file is recognized. */
#define SIDECAR_TAG "spotcheck-partial-v1"
/* The sidecar's second line's first word: the upload id follows (see upload ids below). */
#define SIDECAR_ID "upload"
/* Bytes of an upload id: random, so two syncd sharing the directory never make the same. */
#define UPLOAD_ID_LEN 16
/* Room for a sidecar: the tag, two 20-digit numbers, the id line. */
#define SIDECAR_CAP 192
/* Seconds before a stray sidecar or a mark without its blob is removed (see sweep_dir). */
#define ORPHAN_AGE_S 600
/* Retries when the .part file is replaced between open and lock (a completion, a sweep). */
#define OPEN_RETRIES 8
/* A device key in hex: the name of its directories. */
#define DEV_HEX (2 * SC_KEY_LEN)
/* A path under the store: the root, a device directory, a name and a suffix. */
#define PATH_CAP (SD_PATH_MAX + 160)

/*
 * Running hashes of uploads in progress.  When a chunk is verified, the
 * SHA-256 state over the upload's first `covered` bytes is kept here, so
 * the next chunk (which must start at `covered`) goes on hashing as it
 * streams and a completed multi-chunk blob is not read back from disk to
 * be hashed (that read-back was a third SHA-256 pass over every byte,
 * beside the request signature's and the first chunk's).  A state belongs
 * to one device's upload: another device's bytes of the same blob never
 * feed it.  A state is only a shortcut: without one (syncd restarted, the
 * table full, another chunk size) the blob is read back and hashed as
 * before.  Bounded, so memory stays flat in photo size and count.
 *
 * Upload ids.  A state must hash the very bytes the .part file holds, and
 * (device, name, offset) does not say that: several syncd share the
 * directory, and another one may discard the upload (a last chunk that
 * did not match, the sweep) and take it again from 0 with other bytes up
 * to the same offset; the state this process kept of the first bytes would
 * then complete the blob under a name its bytes do not hash to.  So each
 * upload has an id, random, drawn whenever a chunk starts it at 0 and
 * written in the sidecar beside the offset (one rename), carried on by
 * every later chunk, whichever syncd takes it.  The bytes below the
 * verified offset change only when the upload goes back to 0, that is under
 * a new id; so a state taken only when its id is the sidecar's hashes the
 * file's bytes.  A sidecar without an id (written by an older syncd) matches
 * no state: the blob is read back.  One syncd alone keeps its shortcut: its
 * own chunks carry the id its state has.
 */
#define HASH_STATES 64

typedef struct hash_state {
    char name[SD_BLOB_NAME_LEN + 1]; /* "" when free */
    uint8_t device[SC_KEY_LEN];      /* whose upload */
    uint64_t covered;                /* bytes hashed, all verified */
    uint8_t id[UPLOAD_ID_LEN];       /* the upload those bytes are of */
    uint64_t used;                   /* last use, for eviction */
    sc_sha256_ctx ctx;
} hash_state;

struct sd_blobs {
    char root[SD_PATH_MAX];    /* data_dir/blobs, or the shared blob directory */
    char partial[SD_PATH_MAX]; /* root/partial */
    char unref[SD_PATH_MAX];   /* root/unref */
    sd_blob_limits lim;
    sd_blob_seen_fn seen;
    void *seen_ctx;            /* borrowed */
    sc_plat_mutex qmu;       /* a quota check and the new upload it admits, as one step */
    int qlock;               /* partial/quota.lock: qmu's twin across the syncd sharing root */
    sc_plat_mutex hmu;       /* hs and tick */
    hash_state hs[HASH_STATES];
    uint64_t tick;
};

struct sd_upload {
    sd_blobs *b;                           /* borrowed */
    char name[SD_BLOB_NAME_LEN + 1];
    uint8_t device[SC_KEY_LEN];            /* whose upload */
    char dir[PATH_CAP];                    /* blobs/partial/DEV */
    int fd;                                /* the .part file */
    bool locked;                           /* fd holds the exclusive flock */
    bool visible;                          /* the device can see an op naming the blob */
    uint64_t verified;                     /* verified offset when the chunk began */
    uint64_t start, len, total;            /* the chunk's range and the blob's size */
    uint64_t received;                     /* chunk bytes written so far */
    bool has_id;                           /* id: the upload's (a chunk at 0 draws it) */
    uint8_t id[UPLOAD_ID_LEN];
    bool hashing;                          /* ctx hashes the blob from byte 0 as it streams */
    bool by_caller;                        /* whole blob in one chunk, the caller hashes it */
    bool has_digest;                       /* digest: the caller's hash of this chunk */
    uint8_t digest[SC_HASH_LEN];
    sc_sha256_ctx ctx;
};

/* ---- running hashes ---- */

static bool state_is(const hash_state *h, const uint8_t device[SC_KEY_LEN], const char *name)
{
    return h->name[0] && memcmp(h->name, name, SD_BLOB_NAME_LEN) == 0 &&
           memcmp(h->device, device, SC_KEY_LEN) == 0;
}

/*
 * A copy of the upload's kept hash state over exactly its first `at` bytes
 * of upload `id` (the sidecar's: the bytes the file holds); false when none.
 */
static bool state_take(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *name, uint64_t at,
                       const uint8_t id[UPLOAD_ID_LEN], sc_sha256_ctx *out)
{
    bool found = false;
    sc_plat_mutex_lock(&b->hmu);
    for (size_t i = 0; i < HASH_STATES && !found; i++)
        if (state_is(&b->hs[i], device, name) && b->hs[i].covered == at &&
            memcmp(b->hs[i].id, id, UPLOAD_ID_LEN) == 0) {
            *out = b->hs[i].ctx;
            b->hs[i].used = ++b->tick;
            found = true;
        }
    sc_plat_mutex_unlock(&b->hmu);
    return found;
}

/* Keep the state over `covered` bytes of upload `id`, in its slot or the least recently used. */
static void state_keep(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *name,
                       uint64_t covered, const uint8_t id[UPLOAD_ID_LEN], const sc_sha256_ctx *ctx)
{
    sc_plat_mutex_lock(&b->hmu);
    size_t slot = 0;
    for (size_t i = 0; i < HASH_STATES; i++) {
        if (state_is(&b->hs[i], device, name)) {
            slot = i;
            break;
        }
        if (b->hs[i].used < b->hs[slot].used)
            slot = i;
    }
    memcpy(b->hs[slot].name, name, SD_BLOB_NAME_LEN);
    b->hs[slot].name[SD_BLOB_NAME_LEN] = '\0';
    memcpy(b->hs[slot].device, device, SC_KEY_LEN);
    b->hs[slot].covered = covered;
    memcpy(b->hs[slot].id, id, UPLOAD_ID_LEN);
    b->hs[slot].ctx = *ctx;
    b->hs[slot].used = ++b->tick;
    sc_plat_mutex_unlock(&b->hmu);
}

static void state_drop(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *name)
{
    sc_plat_mutex_lock(&b->hmu);
    for (size_t i = 0; i < HASH_STATES; i++)
        if (state_is(&b->hs[i], device, name))
            memset(&b->hs[i], 0, sizeof b->hs[i]);
    sc_plat_mutex_unlock(&b->hmu);
}

/* ---- names and paths ---- */

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

bool sd_blob_shard_valid(const char *name)
{
    for (int i = 0; i < 2; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return name[2] == '\0';
}

static bool name_ok(const char *name)
{
    return name && sd_blob_name_valid(name, strnlen(name, SD_BLOB_NAME_LEN + 1));
}

/* dir "/" name suffix, reporting truncation; every path here is far below PATH_CAP in practice. */
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

bool sd_blob_path_at(const char *root, const char *name, char *out, size_t cap)
{
    return name_ok(name) && stored_path(root, name, out, cap);
}

static bool shard_path(const sd_blobs *b, const char *name, char *out, size_t cap)
{
    char shard[3] = {name[0], name[1], '\0'};
    return pathf(out, cap, b->root, shard, "");
}

/* base "/" the device key in hex: the device's directory under partial/ or unref/. */
static bool dev_dir(const char *base, const uint8_t device[SC_KEY_LEN], char *out, size_t cap)
{
    char hex[DEV_HEX + 1];
    return sc_hex_encode(device, SC_KEY_LEN, hex, sizeof hex) == SC_OK &&
           pathf(out, cap, base, hex, "");
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

static bool is_stored(const sd_blobs *b, const char *name, uint64_t *size)
{
    char path[PATH_CAP];
    struct stat st;
    if (!final_path(b, name, path, sizeof path) || stat(path, &st) != 0)
        return false;
    if (size)
        *size = (uint64_t)st.st_size;
    return true;
}

/* ---- sidecars and partial files (dir is a device's directory under partial/) ---- */

/*
 * Read the sidecar: *off and *total, both 0 when it is missing or damaged;
 * with id, the upload's id too (*has_id false when the sidecar has none).
 * Its first line is all a syncd before upload ids reads, so one may still
 * share the directory; the second line, "upload <hex>", is the id.
 */
static void sidecar_read_id(const char *dir, const char *name, uint64_t *off, uint64_t *total,
                            bool *has_id, uint8_t id[UPLOAD_ID_LEN])
{
    char path[PATH_CAP], text[SIDECAR_CAP];
    *off = 0;
    *total = 0;
    if (has_id)
        *has_id = false;
    if (!pathf(path, sizeof path, dir, name, ".off"))
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
        const char *line = strchr(text, '\n') + 1, *prefix = SIDECAR_ID " ";
        if (has_id && strncmp(line, prefix, strlen(prefix)) == 0) {
            const char *hex = line + strlen(prefix);
            *has_id = strlen(hex) == 2 * UPLOAD_ID_LEN + 1 && hex[2 * UPLOAD_ID_LEN] == '\n' &&
                      sc_hex_decode(hex, 2 * UPLOAD_ID_LEN, id, UPLOAD_ID_LEN) == SC_OK;
        }
    }
}

static void sidecar_read(const char *dir, const char *name, uint64_t *off, uint64_t *total)
{
    sidecar_read_id(dir, name, off, total, NULL, NULL);
}

/*
 * Write the sidecar atomically.  durable: synced before and after the
 * rename, so the offset survives a crash; a new upload's first sidecar
 * (offset 0) need not, since an upload with nothing verified is dropped
 * at the next sweep anyway.  id (NULL for none) is the upload's, on a
 * second line.
 */
static int sidecar_write(const char *dir, const char *name, uint64_t off, uint64_t total,
                         const uint8_t *id, bool durable)
{
    char tmp[PATH_CAP], path[PATH_CAP], text[SIDECAR_CAP], hex[2 * UPLOAD_ID_LEN + 1];
    if (!pathf(tmp, sizeof tmp, dir, name, ".off.tmp") ||
        !pathf(path, sizeof path, dir, name, ".off"))
        return -1;
    if (id && sc_hex_encode(id, UPLOAD_ID_LEN, hex, sizeof hex) != SC_OK)
        return -1;
    int n = snprintf(text, sizeof text, SIDECAR_TAG " %" PRIu64 " %" PRIu64 "\n%s%s%s", off,
                     total, id ? SIDECAR_ID " " : "", id ? hex : "", id ? "\n" : "");
    if (n <= 0 || (size_t)n >= sizeof text)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, text, (size_t)n);
    int rc = (w == n && (!durable || fdatasync(fd) == 0)) ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc == 0 && durable)
        rc = fsync_dir(dir);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static void partial_paths(const char *dir, const char *name, char *part, char *off, size_t cap)
{
    if (!pathf(part, cap, dir, name, ".part"))
        part[0] = '\0';
    if (!pathf(off, cap, dir, name, ".off"))
        off[0] = '\0';
}

/* Remove an upload's files; the caller holds the flock. */
static void discard_partial(const char *dir, const char *name)
{
    char part[PATH_CAP], off[PATH_CAP];
    partial_paths(dir, name, part, off, sizeof part);
    unlink(off);
    unlink(part);
    fsync_dir(dir);
}

/* ---- quotas ---- */

typedef struct usage {
    uint64_t count, bytes;
} usage;

/* The device's uploads in progress: how many, and their declared totals (else their sizes). */
static void partial_usage(const char *dir, usage *u)
{
    memset(u, 0, sizeof *u);
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (strlen(de->d_name) != SD_BLOB_NAME_LEN + 5 ||
            strcmp(de->d_name + SD_BLOB_NAME_LEN, ".part") != 0 ||
            !sd_blob_name_valid(de->d_name, SD_BLOB_NAME_LEN))
            continue;
        char name[SD_BLOB_NAME_LEN + 1], path[PATH_CAP];
        memcpy(name, de->d_name, SD_BLOB_NAME_LEN);
        name[SD_BLOB_NAME_LEN] = '\0';
        uint64_t off, total;
        sidecar_read(dir, name, &off, &total);
        struct stat st;
        if (total == 0 && pathf(path, sizeof path, dir, name, ".part") && stat(path, &st) == 0)
            total = (uint64_t)st.st_size;
        u->count++;
        u->bytes += total;
    }
    if (d)
        closedir(d);
}

/*
 * The blobs the device stored that no op it can see names (its marks whose
 * blob is stored).  A mark whose blob the device now sees goes: that blob
 * no longer counts against it.
 */
static sc_status unref_usage(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *dir,
                             usage *u, sc_err *err)
{
    memset(u, 0, sizeof *u);
    DIR *d = opendir(dir);
    struct dirent *de;
    sc_status rc = SC_OK;
    while (d && rc == SC_OK && (de = readdir(d)) != NULL) {
        uint8_t sha[SC_HASH_LEN];
        uint64_t size = 0;
        bool visible = false;
        if (!sd_blob_name_valid(de->d_name, strlen(de->d_name)) ||
            !is_stored(b, de->d_name, &size) ||
            sc_hex_decode(de->d_name, SD_BLOB_NAME_LEN, sha, sizeof sha) != SC_OK)
            continue;
        rc = b->seen(b->seen_ctx, device, sha, &visible, err);
        if (rc == SC_OK && visible) {
            char path[PATH_CAP];
            if (pathf(path, sizeof path, dir, de->d_name, ""))
                unlink(path);
        } else if (rc == SC_OK) {
            u->count++;
            u->bytes += size;
        }
    }
    if (d)
        closedir(d);
    return rc;
}

/* Would one more upload of `total` bytes stay within the device's quotas?  SC_ERR_LIMIT if not. */
static sc_status quota_check(sd_blobs *b, const sd_upload *up, sc_err *err)
{
    const sd_blob_limits *l = &b->lim;
    usage p;
    partial_usage(up->dir, &p);
    if (p.count + 1 > l->partial_count)
        return sc_err_set(err, SC_ERR_LIMIT, SC_REASON_QUOTA,
                          "this device has %" PRIu64 " photo uploads in progress, at most %" PRIu32
                          " (blobs.partial_max_count): finish them, or they expire",
                          p.count, l->partial_count);
    if (p.bytes + up->total > l->partial_bytes)
        return sc_err_set(err, SC_ERR_LIMIT, SC_REASON_QUOTA,
                          "this device's photo uploads in progress would hold %" PRIu64
                          " bytes, at most %" PRIu64 " (blobs.partial_max_bytes)",
                          p.bytes + up->total, l->partial_bytes);
    if (up->visible)
        return SC_OK;
    char dir[PATH_CAP];
    usage r;
    if (!dev_dir(b->unref, up->device, dir, sizeof dir))
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "blob path too long");
    sc_status rc = unref_usage(b, up->device, dir, &r, err);
    if (rc != SC_OK)
        return rc;
    if (r.count + 1 > l->unref_count)
        return sc_err_set(err, SC_ERR_LIMIT, SC_REASON_QUOTA,
                          "this device has stored %" PRIu64 " photos that no op it can see names, "
                          "at most %" PRIu32 " (blobs.unreferenced_max_count): sync the ops that "
                          "name its photos before the photos",
                          r.count, l->unref_count);
    if (r.bytes + up->total > l->unref_bytes)
        return sc_err_set(err, SC_ERR_LIMIT, SC_REASON_QUOTA,
                          "this device's photos that no op it can see names would hold %" PRIu64
                          " bytes, at most %" PRIu64 " (blobs.unreferenced_max_bytes)",
                          r.bytes + up->total, l->unref_bytes);
    return SC_OK;
}

/*
 * Start the device's upload of this blob: within its quotas, create the
 * .part file (exclusively) and a first sidecar with the total, so the
 * upload counts against the quotas from its first byte.  Under qmu, so
 * concurrent requests of one device cannot each take the last place.
 * SC_ERR_EXISTS when the device's .part appeared meanwhile (open it).
 */
static sc_status partial_create(sd_upload *u, const char *part, sc_err *err)
{
    sd_blobs *b = u->b;
    sc_plat_mutex_lock(&b->qmu);
    /*
     * Several syncd may share this directory (PostgreSQL register): the
     * flock makes the check and the creation one step across them too, as
     * qmu does between this process's threads (a flock is per open file,
     * so it does not exclude them).
     */
    sc_status rc = SC_OK;
    while (flock(b->qlock, LOCK_EX) != 0)
        if (errno != EINTR) {
            rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                            "cannot lock the photo quotas: %s", strerror(errno));
            break;
        }
    if (rc == SC_OK)
        rc = quota_check(b, u, err);
    if (rc == SC_OK && mkdir_p1(u->dir) != 0)
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot create the upload directory: %s",
                        strerror(errno));
    if (rc == SC_OK) {
        u->fd = open(part, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (u->fd < 0)
            rc = errno == EEXIST
                     ? SC_ERR_EXISTS
                     : sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                                  "cannot create the partial upload: %s", strerror(errno));
    }
    /*
     * Lock the new file before its sidecar is written: a thread of the same
     * device that opened it a moment after it appeared may have locked it
     * first, and then the upload is that thread's (it finds no sidecar,
     * which reads as an upload at 0), and the sidecar is its to write:
     * this one goes back to upload_lock as if the file had been there.
     */
    if (rc == SC_OK && flock(u->fd, LOCK_EX | LOCK_NB) != 0) {
        close(u->fd);
        u->fd = -1;
        rc = SC_ERR_EXISTS;
    }
    if (rc == SC_OK &&
        sidecar_write(u->dir, u->name, 0, u->total, u->has_id ? u->id : NULL, false) != 0) {
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot record the upload: %s",
                        strerror(errno));
        unlink(part);
        close(u->fd);
        u->fd = -1;
    }
    flock(b->qlock, LOCK_UN);
    sc_plat_mutex_unlock(&b->qmu);
    return rc;
}

/* ---- the sweep ---- */

static int64_t file_age(const char *path, int64_t now_s)
{
    struct stat st;
    return stat(path, &st) == 0 ? now_s - (int64_t)st.st_mtime : -1;
}

/*
 * Cut one upload back to its verified offset, or drop it (nothing verified,
 * or too old); uploads in progress are left alone.
 */
static void sweep_partial(sd_blobs *b, const char *dir, const char *name, int64_t now_s,
                          sd_blob_sweep *out)
{
    char part[PATH_CAP], off[PATH_CAP];
    partial_paths(dir, name, part, off, sizeof part);
    int fd = open(part, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        uint64_t v, t;
        struct stat st;
        sidecar_read(dir, name, &v, &t);
        if (fstat(fd, &st) != 0)
            st.st_size = 0;
        int64_t age = now_s - (int64_t)st.st_mtime, off_age = file_age(off, now_s);
        if (off_age >= 0 && off_age < age)
            age = off_age;
        if (v == 0 || (uint64_t)st.st_size < v || age > (int64_t)b->lim.partial_age_s) {
            discard_partial(dir, name);
            out->partials_gone++;
        } else if ((uint64_t)st.st_size > v && ftruncate(fd, (off_t)v) == 0) {
            fdatasync(fd);
            out->partials_cut++;
        }
    }
    close(fd);
}

/* Remove an old sidecar without its .part, or an old temporary sidecar a crash left behind. */
static void sweep_orphan(const char *dir, const char *file, int64_t now_s)
{
    char path[PATH_CAP], part[PATH_CAP];
    char name[SD_BLOB_NAME_LEN + 1];
    memcpy(name, file, SD_BLOB_NAME_LEN);
    name[SD_BLOB_NAME_LEN] = '\0';
    if (!pathf(path, sizeof path, dir, file, "") || !pathf(part, sizeof part, dir, name, ".part"))
        return;
    struct stat st;
    if (file_age(path, now_s) < ORPHAN_AGE_S ||
        (strcmp(file + SD_BLOB_NAME_LEN, ".off") == 0 && stat(part, &st) == 0))
        return; /* new, or not an orphan: sweep_partial handles it */
    unlink(path);
}

/* Every file of one device's upload directory. */
static void sweep_partial_dir(sd_blobs *b, const char *dir, int64_t now_s, sd_blob_sweep *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strlen(de->d_name) <= SD_BLOB_NAME_LEN ||
            !sd_blob_name_valid(de->d_name, SD_BLOB_NAME_LEN))
            continue;
        const char *suffix = de->d_name + SD_BLOB_NAME_LEN;
        char name[SD_BLOB_NAME_LEN + 1];
        memcpy(name, de->d_name, SD_BLOB_NAME_LEN);
        name[SD_BLOB_NAME_LEN] = '\0';
        if (strcmp(suffix, ".part") == 0)
            sweep_partial(b, dir, name, now_s, out);
        else if (strcmp(suffix, ".off") == 0 || strcmp(suffix, ".off.tmp") == 0)
            sweep_orphan(dir, de->d_name, now_s);
    }
    closedir(d);
    rmdir(dir); /* only when empty; a device's next upload makes it again */
}

/* Is there a mark of `name`, by any device, younger than the unreferenced age? */
static bool fresh_mark(sd_blobs *b, const char *name, int64_t now_s)
{
    DIR *d = opendir(b->unref);
    struct dirent *de;
    bool fresh = false;
    while (d && !fresh && (de = readdir(d)) != NULL) {
        char dir[PATH_CAP], path[PATH_CAP];
        if (!sd_blob_name_valid(de->d_name, strlen(de->d_name)) ||
            !pathf(dir, sizeof dir, b->unref, de->d_name, "") ||
            !pathf(path, sizeof path, dir, name, ""))
            continue;
        int64_t age = file_age(path, now_s);
        fresh = age >= 0 && age <= (int64_t)b->lim.unref_age_s;
    }
    if (d)
        closedir(d);
    return fresh;
}

/* One mark: its blob expires when no op names it and every mark of it is old. */
static void sweep_mark(sd_blobs *b, const char *dir, const char *name, int64_t now_s,
                       sd_blob_sweep *out)
{
    char path[PATH_CAP], blob[PATH_CAP], shard[PATH_CAP];
    if (!pathf(path, sizeof path, dir, name, "") || !final_path(b, name, blob, sizeof blob) ||
        !shard_path(b, name, shard, sizeof shard))
        return;
    int64_t age = file_age(path, now_s);
    if (!is_stored(b, name, NULL)) {
        /* Its blob went (expired through another mark), or a crash came before the rename. */
        if (age > ORPHAN_AGE_S && unlink(path) == 0)
            out->marks_gone++;
        return;
    }
    if (age <= (int64_t)b->lim.unref_age_s)
        return;
    uint8_t sha[SC_HASH_LEN];
    bool named = true;
    sc_err e;
    sc_err_clear(&e);
    if (sc_hex_decode(name, SD_BLOB_NAME_LEN, sha, sizeof sha) != SC_OK ||
        b->seen(b->seen_ctx, NULL, sha, &named, &e) != SC_OK)
        return; /* the register could not say: keep everything for the next sweep */
    if (!named && !fresh_mark(b, name, now_s) && unlink(blob) == 0) {
        fsync_dir(shard);
        out->blobs_gone++;
    }
    if (unlink(path) == 0)
        out->marks_gone++;
}

static void sweep_mark_dir(sd_blobs *b, const char *dir, int64_t now_s, sd_blob_sweep *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (sd_blob_name_valid(de->d_name, strlen(de->d_name)))
            sweep_mark(b, dir, de->d_name, now_s, out);
    closedir(d);
    rmdir(dir);
}

/* Each device directory (named by a key in hex) under base. */
static void sweep_devices(sd_blobs *b, const char *base, int64_t now_s, sd_blob_sweep *out,
                          void (*each)(sd_blobs *, const char *, int64_t, sd_blob_sweep *))
{
    DIR *d = opendir(base);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char dir[PATH_CAP];
        if (strlen(de->d_name) == DEV_HEX && sd_blob_name_valid(de->d_name, DEV_HEX) &&
            pathf(dir, sizeof dir, base, de->d_name, ""))
            each(b, dir, now_s, out);
    }
    closedir(d);
}

void sd_blobs_sweep(sd_blobs *b, int64_t now_s, sd_blob_sweep *out)
{
    sd_blob_sweep r;
    memset(&r, 0, sizeof r);
    sweep_devices(b, b->partial, now_s, &r, sweep_partial_dir);
    sweep_devices(b, b->unref, now_s, &r, sweep_mark_dir);
    if (out)
        *out = r;
}

/* ---- open and close ---- */

void sd_blob_limits_from(const sd_config *cfg, sd_blob_limits *out)
{
    *out = (sd_blob_limits){
        .max_size = cfg->blob_max,
        .chunk_max = cfg->blob_chunk_max,
        .partial_count = cfg->blob_partial_count,
        .partial_bytes = cfg->blob_partial_bytes,
        .partial_age_s = cfg->blob_partial_age_s,
        .unref_count = cfg->blob_unref_count,
        .unref_bytes = cfg->blob_unref_bytes,
        .unref_age_s = cfg->blob_unref_age_s,
    };
}

/* Remove the uploads of the one-upload-per-blob layout (files right under partial/). */
static void drop_shared_partials(sd_blobs *b)
{
    DIR *d = opendir(b->partial);
    if (!d)
        return;
    struct dirent *de;
    bool any = false;
    while ((de = readdir(d)) != NULL) {
        char path[PATH_CAP];
        size_t n = strlen(de->d_name);
        if (n > SD_BLOB_NAME_LEN && n != DEV_HEX &&
            sd_blob_name_valid(de->d_name, SD_BLOB_NAME_LEN) &&
            pathf(path, sizeof path, b->partial, de->d_name, "") && unlink(path) == 0)
            any = true;
    }
    closedir(d);
    if (any)
        fsync_dir(b->partial);
}

sc_status sd_blobs_open(const char *data_dir, const sd_blob_limits *lim, sd_blob_seen_fn seen,
                        void *ctx, sd_blobs **out, sc_err *err)
{
    char root[SD_PATH_MAX];
    *out = NULL;
    if (!pathf(root, sizeof root, data_dir, "blobs", ""))
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "data directory path too long");
    return sd_blobs_open_at(root, lim, seen, ctx, out, err);
}

sc_status sd_blobs_open_at(const char *root, const sd_blob_limits *lim, sd_blob_seen_fn seen,
                           void *ctx, sd_blobs **out, sc_err *err)
{
    *out = NULL;
    sc_status crc = sc_crypto_init(); /* upload ids are drawn from libsodium's random source */
    if (crc != SC_OK)
        return sc_err_set(err, crc, 0, "libsodium failed to initialise");
    sd_blobs *b = calloc(1, sizeof *b);
    if (!b)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "out of memory opening the blob store");
    b->lim = *lim;
    b->seen = seen;
    b->seen_ctx = ctx;
    if (snprintf(b->root, sizeof b->root, "%s", root) >= (int)sizeof b->root ||
        !pathf(b->partial, sizeof b->partial, b->root, "partial", "") ||
        !pathf(b->unref, sizeof b->unref, b->root, "unref", "")) {
        free(b);
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "blob directory path too long");
    }
    if (mkdir_p1(b->root) != 0 || mkdir_p1(b->partial) != 0 || mkdir_p1(b->unref) != 0) {
        int e = errno;
        free(b);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot create the blob directories in %s: %s",
                          root, strerror(e));
    }
    char qlock[PATH_CAP];
    if (!pathf(qlock, sizeof qlock, b->partial, "quota.lock", "") ||
        (b->qlock = open(qlock, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
        int e = errno;
        free(b);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot open the quota lock in %s: %s", root,
                          strerror(e));
    }
    drop_shared_partials(b);
    sc_plat_mutex_init(&b->qmu);
    sc_plat_mutex_init(&b->hmu);
    *out = b;
    return SC_OK;
}

void sd_blobs_close(sd_blobs *b)
{
    if (!b)
        return;
    sc_plat_mutex_destroy(&b->qmu);
    sc_plat_mutex_destroy(&b->hmu);
    close(b->qlock);
    free(b);
}

/* ---- reads ---- */

sc_status sd_blobs_stat(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *name,
                        sd_blob_info *out, sc_err *err)
{
    char path[PATH_CAP], dir[PATH_CAP];
    memset(out, 0, sizeof *out);
    if (!name_ok(name))
        return sc_err_set(err, SC_ERR_MALFORMED, SC_REASON_BAD_FIELD,
                          "a blob name is 64 lowercase hex digits");
    struct stat st;
    if (!final_path(b, name, path, sizeof path) || !dev_dir(b->partial, device, dir, sizeof dir))
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "blob path too long");
    if (stat(path, &st) == 0) {
        out->stored = true;
        out->size = (uint64_t)st.st_size;
    } else if (errno != ENOENT) {
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot read blob %s: %s", name,
                          strerror(errno));
    }
    uint64_t total;
    sidecar_read(dir, name, &out->offset, &total);
    return SC_OK;
}

sc_status sd_blobs_open_read(sd_blobs *b, const char *name, int *fd, uint64_t *size, sc_err *err)
{
    char path[PATH_CAP];
    *fd = -1;
    *size = 0;
    if (!name_ok(name))
        return sc_err_set(err, SC_ERR_MALFORMED, SC_REASON_BAD_FIELD,
                          "a blob name is 64 lowercase hex digits");
    if (!final_path(b, name, path, sizeof path))
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "blob path too long");
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        if (errno == ENOENT)
            return sc_err_set(err, SC_ERR_NOT_FOUND, 0, "blob %s is not stored", name);
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot open blob %s: %s", name,
                          strerror(errno));
    }
    struct stat st;
    if (fstat(f, &st) != 0) {
        close(f);
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot stat blob %s", name);
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return SC_OK;
}

/* ---- uploads ---- */

void sd_blobs_forget(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *name)
{
    char dir[PATH_CAP], part[PATH_CAP], off[PATH_CAP];
    if (!name_ok(name) || !dev_dir(b->partial, device, dir, sizeof dir))
        return;
    partial_paths(dir, name, part, off, sizeof part);
    int fd = open(part, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        discard_partial(dir, name);
        state_drop(b, device, name);
    }
    close(fd);
}

/* Drop the lock and the descriptor; an upload that never verified a byte leaves no file. */
static void upload_release(sd_upload *u, bool cut_back)
{
    if (u->fd >= 0) {
        if (cut_back && u->locked) {
            if (u->verified == 0) {
                discard_partial(u->dir, u->name);
            } else if (ftruncate(u->fd, (off_t)u->verified) == 0) {
                fdatasync(u->fd);
            }
        }
        close(u->fd); /* releases the flock */
    }
    free(u);
}

static sc_status begin_args(const sd_blobs *b, const char *name, uint64_t start, uint64_t len,
                            uint64_t total, sc_err *err)
{
    if (!name_ok(name))
        return sc_err_set(err, SC_ERR_MALFORMED, SC_REASON_BAD_FIELD,
                          "a blob name is 64 lowercase hex digits");
    if (total > b->lim.max_size)
        return sc_err_set(err, SC_ERR_TOO_LARGE, SC_REASON_TOO_LARGE,
                          "blob of %" PRIu64 " bytes exceeds %" PRIu64, total, b->lim.max_size);
    if (len > b->lim.chunk_max)
        return sc_err_set(err, SC_ERR_TOO_LARGE, SC_REASON_TOO_LARGE,
                          "chunk of %" PRIu64 " bytes exceeds %" PRIu64, len, b->lim.chunk_max);
    if (len == 0 || total == 0 || start >= total || len > total - start)
        return sc_err_set(err, SC_ERR_MALFORMED, SC_REASON_BAD_FIELD,
                          "range of %" PRIu64 " bytes at %" PRIu64
                          " does not fit a total of %" PRIu64,
                          len, start, total);
    return SC_OK;
}

/*
 * Open and lock the device's .part file, making it (within the quotas)
 * when a chunk at 0 starts a new upload.  Leaves u->fd locked on SC_OK.
 */
static sc_status upload_lock(sd_upload *u, const char *part, uint64_t *offset, sc_err *err)
{
    for (int attempt = 0; attempt < OPEN_RETRIES; attempt++) {
        u->fd = open(part, O_RDWR | O_CLOEXEC);
        if (u->fd < 0 && errno == ENOENT) {
            if (u->start != 0)
                return sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                                  "chunk starts at %" PRIu64 " but this device has no upload of "
                                  "this photo in progress: start at 0",
                                  u->start);
            sc_status rc = partial_create(u, part, err);
            if (rc == SC_ERR_EXISTS)
                continue;
            if (rc != SC_OK)
                return rc;
        } else if (u->fd < 0) {
            return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot open the partial upload: %s",
                              strerror(errno));
        }
        if (flock(u->fd, LOCK_EX | LOCK_NB) != 0) {
            uint64_t t;
            sidecar_read(u->dir, u->name, offset, &t);
            return sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                              "another upload of this photo by this device is in progress");
        }
        u->locked = true;
        /* The file we locked must still be the one at the path (not stored or swept away). */
        struct stat a, p;
        if (fstat(u->fd, &a) == 0 && stat(part, &p) == 0 && a.st_dev == p.st_dev &&
            a.st_ino == p.st_ino)
            return SC_OK;
        close(u->fd);
        u->fd = -1;
        u->locked = false;
    }
    return sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                      "another upload of this photo by this device is in progress");
}

/* The locked upload against its sidecar: cut an unverified tail, check the total and the start. */
static sc_status upload_resume(sd_upload *u, uint64_t *offset, sc_err *err)
{
    uint64_t v, t;
    bool has_id;
    uint8_t id[UPLOAD_ID_LEN];
    sidecar_read_id(u->dir, u->name, &v, &t, &has_id, id);
    /* A chunk past 0 goes on with the upload's id; one at 0 starts one, with the id it drew. */
    if (u->start != 0) {
        u->has_id = has_id;
        memcpy(u->id, id, UPLOAD_ID_LEN);
    }
    u->verified = v;
    *offset = v;
    struct stat st;
    if (fstat(u->fd, &st) != 0)
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot stat the partial upload");
    if ((uint64_t)st.st_size < v) {
        /* The partial lost bytes it had verified (damaged or edited by hand): start over. */
        discard_partial(u->dir, u->name);
        *offset = 0;
        u->verified = 0;
        return sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                          "the partial upload was damaged and has been discarded; start at 0");
    }
    if ((uint64_t)st.st_size != v && ftruncate(u->fd, (off_t)v) != 0)
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot truncate the partial upload: %s",
                          strerror(errno));
    if (t != 0 && t != u->total)
        return sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                          "total %" PRIu64
                          " differs from this device's upload in progress (%" PRIu64 ")",
                          u->total, t);
    if (u->start != v)
        return sc_err_set(err, SC_ERR_INVALID_TRANSITION, 0,
                          "chunk starts at %" PRIu64 " but the upload is at %" PRIu64, u->start, v);
    return SC_OK;
}

sc_status sd_upload_begin(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *name,
                          uint64_t start, uint64_t len, uint64_t total, bool visible,
                          sd_upload **out, uint64_t *offset, sc_err *err)
{
    char part[PATH_CAP];
    *out = NULL;
    *offset = 0;
    sc_status rc = begin_args(b, name, start, len, total, err);
    if (rc != SC_OK)
        return rc;
    sd_upload *u = calloc(1, sizeof *u);
    if (!u)
        return sc_err_set(err, SC_ERR_NOMEM, SC_REASON_STORAGE, "out of memory");
    u->b = b;
    u->fd = -1;
    memcpy(u->name, name, SD_BLOB_NAME_LEN + 1);
    memcpy(u->device, device, SC_KEY_LEN);
    u->visible = visible;
    u->start = start;
    u->len = len;
    u->total = total;
    if (start == 0) {
        /* A new upload, or one taken again from 0: new bytes, so a new id (see upload ids). */
        randombytes_buf(u->id, sizeof u->id);
        u->has_id = true;
    }
    if (!dev_dir(b->partial, device, u->dir, sizeof u->dir) ||
        !pathf(part, sizeof part, u->dir, name, ".part")) {
        free(u);
        return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "blob path too long");
    }
    if ((rc = upload_lock(u, part, offset, err)) != SC_OK ||
        (rc = upload_resume(u, offset, err)) != SC_OK) {
        upload_release(u, rc != SC_ERR_STORAGE);
        return rc;
    }
    /* Past 0, hash on only from a state of this very upload (its id), else read back at the end. */
    u->hashing = start == 0 || (u->has_id && state_take(b, device, name, start, u->id, &u->ctx));
    if (start == 0)
        sc_sha256_init(&u->ctx);
    *out = u;
    sc_err_clear(err);
    return SC_OK;
}

sc_status sd_upload_write(sd_upload *u, const void *data, size_t len, sc_err *err)
{
    if (len > u->len - u->received)
        return sc_err_set(err, SC_ERR_TOO_LARGE, SC_REASON_TOO_LARGE, "chunk body longer than its range");
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(u->fd, p + done, len - done, (off_t)(u->start + u->received + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot write the partial upload: %s",
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

/*
 * Record that the device stored a blob no op it can see names (its unref
 * mark, made or renewed), unless it can see one now.  A mark that cannot
 * be written fails the upload: a blob must not be stored beyond expiry.
 */
static int mark_unreferenced(sd_upload *u)
{
    sd_blobs *b = u->b;
    uint8_t sha[SC_HASH_LEN];
    bool visible = false;
    sc_err e;
    if (sc_hex_decode(u->name, SD_BLOB_NAME_LEN, sha, sizeof sha) != SC_OK ||
        b->seen(b->seen_ctx, u->device, sha, &visible, &e) != SC_OK)
        return -1;
    if (visible)
        return 0;
    char dir[PATH_CAP], path[PATH_CAP];
    if (!dev_dir(b->unref, u->device, dir, sizeof dir) || mkdir_p1(dir) != 0 ||
        !pathf(path, sizeof path, dir, u->name, ""))
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    int rc = futimens(fd, NULL) == 0 && fsync(fd) == 0 ? 0 : -1;
    close(fd);
    return rc == 0 ? fsync_dir(dir) : -1;
}

/* The chunk did not complete the blob: make its end the verified offset. */
static sc_status finish_chunk(sd_upload *u, uint64_t end, uint64_t *offset, sc_err *err)
{
    if (sidecar_write(u->dir, u->name, end, u->total, u->has_id ? u->id : NULL, true) != 0) {
        sc_status rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE,
                                  "cannot record the upload offset: %s", strerror(errno));
        upload_release(u, true);
        return rc;
    }
    u->verified = end;
    *offset = end;
    if (u->hashing && !u->by_caller && u->has_id)
        state_keep(u->b, u->device, u->name, end, u->id, &u->ctx);
    upload_release(u, false);
    return SC_OK;
}

/* The whole blob arrived and hashes to its name: store it, unless an earlier upload did. */
static sc_status finish_store(sd_upload *u, uint64_t *offset, sc_err *err)
{
    sd_blobs *b = u->b;
    char part[PATH_CAP], off[PATH_CAP], shard[PATH_CAP], path[PATH_CAP];
    partial_paths(u->dir, u->name, part, off, sizeof part);
    if ((!u->visible && mark_unreferenced(u) != 0) ||
        !shard_path(b, u->name, shard, sizeof shard) ||
        !final_path(b, u->name, path, sizeof path) || mkdir_p1(shard) != 0) {
        sc_status rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot store the blob: %s",
                                  strerror(errno));
        upload_release(u, true);
        return rc;
    }
    if (is_stored(b, u->name, NULL)) {
        /* Stored by an earlier upload: this device proved it holds the same bytes. */
        discard_partial(u->dir, u->name);
    } else if (rename(part, path) != 0 || fsync_dir(shard) != 0) {
        sc_status rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot store the blob: %s",
                                  strerror(errno));
        upload_release(u, true);
        return rc;
    } else {
        unlink(off);
        fsync_dir(u->dir);
    }
    *offset = u->total;
    close(u->fd);
    u->fd = -1;
    upload_release(u, false);
    return SC_OK;
}

sc_status sd_upload_finish(sd_upload *u, bool *complete, uint64_t *offset, sc_err *err)
{
    sc_status rc = SC_OK;
    *complete = false;
    *offset = u->verified;
    if (u->received != u->len) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, SC_REASON_BAD_FIELD,
                        "chunk body has %" PRIu64 " of its %" PRIu64 " bytes", u->received, u->len);
        upload_release(u, true);
        return rc;
    }
    if (fdatasync(u->fd) != 0) {
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot sync the partial upload: %s",
                        strerror(errno));
        upload_release(u, true);
        return rc;
    }
    uint64_t end = u->start + u->len;
    if (end < u->total)
        return finish_chunk(u, end, offset, err);

    uint8_t got[SC_HASH_LEN];
    state_drop(u->b, u->device, u->name);
    if (u->by_caller && u->has_digest) {
        memcpy(got, u->digest, SC_HASH_LEN); /* the chunk is the whole blob */
    } else if (u->hashing && !u->by_caller) {
        sc_sha256_final(&u->ctx, got);
    } else if (hash_file(u->fd, u->total, got) != 0) {
        rc = sc_err_set(err, SC_ERR_STORAGE, SC_REASON_STORAGE, "cannot read back the upload to hash it");
        upload_release(u, true);
        return rc;
    }
    char hex[SC_HASH_HEX];
    sc_hex_encode(got, sizeof got, hex, sizeof hex);
    if (memcmp(hex, u->name, SD_BLOB_NAME_LEN) != 0) {
        discard_partial(u->dir, u->name);
        u->verified = 0;
        *offset = 0;
        close(u->fd);
        u->fd = -1;
        upload_release(u, false);
        return sc_err_set(err, SC_ERR_MALFORMED, SC_REASON_BAD_FIELD, "bytes do not match their hash");
    }
    rc = finish_store(u, offset, err);
    *complete = rc == SC_OK;
    return rc;
}

void sd_upload_abort(sd_upload *u)
{
    if (u)
        upload_release(u, true);
}
