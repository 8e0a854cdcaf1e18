/* files.c: directories, copies and staged trees for init, backup and restore (files.h). */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/platform.h"

/* Bytes copied at a time (the blob store reads photos the same way). */
#define COPY_BUF (256 * 1024)
/* How deep sd_rmtree goes: a data directory is four levels deep (blobs/unref/DEV/SHA). */
#define RMTREE_DEPTH_MAX 16
/* The longest a test may make each copy wait (sd_test_copy_delay). */
#define TEST_DELAY_MAX_MS 10000

bool sd_dir_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

bool sd_dir_free(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT;
    return S_ISDIR(sb.st_mode) && sd_dir_empty(path);
}

/* Remove name under dirfd, depth first; directories nested deeper than ours never are. */
static int rm_at(int dirfd, const char *name, int depth)
{
    struct stat sb;
    if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(sb.st_mode) && depth < RMTREE_DEPTH_MAX) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
            if (fd >= 0)
                close(fd);
            return -1;
        }
        int rc = 0;
        struct dirent *e;
        while (rc == 0 && (e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                rc = rm_at(fd, e->d_name, depth + 1);
        closedir(d);
        if (rc != 0)
            return rc;
        return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
    }
    return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
}

sc_status sd_rmtree(const char *path, sc_err *err)
{
    if (rm_at(AT_FDCWD, path, 0) != 0)
        return sc_err_set(err, SC_ERR_IO, 0, "cannot remove %s: %s", path, strerror(errno));
    return SC_OK;
}

sc_status sd_fsync_dir(const char *path, sc_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot sync %s: %s", path, strerror(e));
    }
    close(fd);
    return SC_OK;
}

/* Read all of in into out (if >= 0), hashing into h; false on a read or write error (errno). */
static bool pump(int in, int out, sc_sha256_ctx *h, uint64_t *total)
{
    uint8_t *buf = malloc(COPY_BUF);
    if (!buf) {
        errno = ENOMEM;
        return false;
    }
    bool ok = true;
    for (;;) {
        ssize_t n = read(in, buf, COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        sc_sha256_update(h, buf, (size_t)n);
        *total += (uint64_t)n;
        for (ssize_t off = 0; out >= 0 && off < n && ok;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            ok = w > 0;
            off += w > 0 ? w : 0;
        }
        if (!ok)
            break;
    }
    free(buf);
    return ok;
}

sc_status sd_file_copy(const char *from, const char *to, mode_t mode, uint8_t sha[SC_HASH_LEN],
                       uint64_t *bytes, sc_err *err)
{
    /* O_NONBLOCK: a FIFO under the name (a backup someone shaped) must not hang the open; it
     * is then refused as not a regular file.  Reads of a regular file ignore the flag. */
    int in = open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0)
        return sc_err_set(err, errno == ENOENT ? SC_ERR_NOT_FOUND : SC_ERR_IO, 0,
                          "cannot read %s: %s", from, strerror(errno));
    struct stat sb;
    if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(in);
        return sc_err_set(err, SC_ERR_IO, 0, "%s is not a regular file", from);
    }
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (out < 0) {
        int e = errno;
        close(in);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot create %s: %s", to, strerror(e));
    }
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    uint64_t total = 0;
    bool read_ok = pump(in, out, &h, &total);
    int e = errno;
    sc_status rc = SC_OK;
    struct timespec times[2];
    sc_plat_file_times(&sb, times);
    if (!read_ok)
        rc = sc_err_set(err, SC_ERR_IO, 0, "cannot copy %s to %s: %s", from, to, strerror(e));
    else if (fchmod(out, mode) != 0 || futimens(out, times) != 0 || fsync(out) != 0)
        rc = sc_err_set(err, SC_ERR_IO, 0, "cannot write %s: %s", to, strerror(errno));
    if (close(out) != 0 && rc == SC_OK)
        rc = sc_err_set(err, SC_ERR_IO, 0, "cannot write %s: %s", to, strerror(errno));
    close(in);
    uint8_t digest[SC_HASH_LEN];
    sc_sha256_final(&h, digest);
    if (rc == SC_OK && sha)
        memcpy(sha, digest, SC_HASH_LEN);
    if (rc == SC_OK && bytes)
        *bytes = total;
    return rc;
}

sc_status sd_file_sha256(const char *path, uint8_t sha[SC_HASH_LEN], uint64_t *bytes, sc_err *err)
{
    int in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return sc_err_set(err, errno == ENOENT ? SC_ERR_NOT_FOUND : SC_ERR_IO, 0,
                          "cannot read %s: %s", path, strerror(errno));
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    uint64_t total = 0;
    bool ok = pump(in, -1, &h, &total);
    int e = errno;
    close(in);
    if (!ok)
        return sc_err_set(err, SC_ERR_IO, 0, "cannot read %s: %s", path, strerror(e));
    sc_sha256_final(&h, sha);
    *bytes = total;
    return SC_OK;
}

void sd_test_copy_delay(void)
{
    const char *v = getenv("SD_TEST_COPY_DELAY_MS");
    if (!v || !v[0])
        return;
    char *end = NULL;
    long ms = strtol(v, &end, 10);
    if (*end || ms <= 0)
        return;
    if (ms > TEST_DELAY_MAX_MS)
        ms = TEST_DELAY_MAX_MS;
    struct timespec t = {(time_t)(ms / 1000), (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* ---- staged directories ---- */

/* Open and lock the directory at path; -1 with errno EWOULDBLOCK when another process holds it. */
static int lock_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* A stage directory already at st->path: refused while held, removed when left behind. */
static sc_status stage_clear(sd_stage *st, const char *what, sc_err *err)
{
    int fd = lock_dir(st->path);
    if (fd < 0 && errno == EWOULDBLOCK)
        return sc_err_set(err, SC_ERR_EXISTS, 0,
                          "another syncd %s is writing %s; let it finish, or stop it", what,
                          st->path);
    if (fd < 0)
        return sc_err_set(err, SC_ERR_IO, 0, "%s is in the way: %s", st->path, strerror(errno));
    sc_status rc = sd_rmtree(st->path, err);
    close(fd);
    if (rc == SC_OK)
        st->stale_removed = true;
    return rc;
}

/* Make and lock the stage, checking that the locked directory is still the one at st->path. */
static sc_status stage_make(sd_stage *st, const char *what, sc_err *err)
{
    if (mkdir(st->path, 0700) != 0)
        return sc_err_set(err, SC_ERR_IO, 0, "cannot create %s: %s", st->path, strerror(errno));
    st->lock = lock_dir(st->path);
    struct stat a, b;
    if (st->lock < 0 || fstat(st->lock, &a) != 0 || stat(st->path, &b) != 0 ||
        a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
        /* Another run took it between the mkdir and the lock: it goes on, this one stops. */
        if (st->lock >= 0)
            close(st->lock);
        st->lock = -1;
        return sc_err_set(err, SC_ERR_EXISTS, 0, "another syncd %s took %s; let it finish", what,
                          st->path);
    }
    return SC_OK;
}

sc_status sd_stage_begin(sd_stage *st, const char *final, const char *suffix, const char *what,
                         sc_err *err)
{
    memset(st, 0, sizeof *st);
    st->lock = -1;
    if (!final[0] || strlen(final) + strlen(suffix) >= sizeof st->path)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "the path for the %s is empty or too long",
                          what);
    snprintf(st->final, sizeof st->final, "%s", final);
    /* A trailing slash would put the stage inside final. */
    size_t n = strlen(st->final);
    while (n > 1 && st->final[n - 1] == '/')
        st->final[--n] = '\0';
    snprintf(st->path, sizeof st->path, "%s%s", st->final, suffix);
    if (!sd_dir_free(st->final))
        return sc_err_set(err, SC_ERR_EXISTS, 0,
                          "%s exists and is not an empty directory; give a new or empty one",
                          st->final);
    struct stat sb;
    if (stat(st->final, &sb) == 0) {
        st->final_existed = true;
        st->owner = sb.st_uid;
        st->group = sb.st_gid;
    }
    if (lstat(st->path, &sb) == 0) {
        sc_status rc = stage_clear(st, what, err);
        if (rc != SC_OK)
            return rc;
    }
    return stage_make(st, what, err);
}

/* The directory that holds path (for syncing the rename), into out. */
static void parent_of(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

sc_status sd_stage_commit(sd_stage *st, sc_err *err)
{
    sc_status rc = sd_fsync_dir(st->path, err);
    if (rc != SC_OK)
        return rc;
    /* final may have become something else meanwhile: rename never replaces a non-empty one. */
    if (rename(st->path, st->final) != 0)
        return sc_err_set(err, SC_ERR_IO, 0, "cannot rename %s to %s: %s", st->path, st->final,
                          strerror(errno));
    char parent[SD_PATH_MAX];
    parent_of(st->final, parent, sizeof parent);
    rc = sd_fsync_dir(parent, err);
    close(st->lock);
    st->lock = -1;
    return rc;
}

void sd_stage_abort(sd_stage *st)
{
    if (st->lock < 0)
        return;
    sc_err e;
    sc_err_clear(&e);
    sd_rmtree(st->path, &e);
    close(st->lock);
    st->lock = -1;
}
