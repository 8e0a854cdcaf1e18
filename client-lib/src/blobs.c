/*
 * blobs.c: the content-addressed photo store next to the replica,
 * DB.blobs/xx/<sha256 hex> with xx the first two hex digits.
 *
 * Files are copied in fixed-size chunks and hashed on the way, never held
 * whole in memory.  A file reaches its final name only by rename() after it
 * was written, synced and hashed, and the directory is synced after the
 * rename, so a name always matches its bytes and a photo counted as stored
 * survives a crash; a crash leaves at most a stray file under tmp/.  Photos
 * are the user's alone: directories are made 0700 and files 0600, whatever
 * the umask.  The store's index (which photos still need uploading, which
 * are referenced but absent) lives in the replica, written by the caller's
 * transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define COPY_CHUNK (64 * 1024)

static sc_status mkdir_p1(sc_client *c, const char *dir, bool *made)
{
    if (made)
        *made = false;
    if (mkdir(dir, 0700) == 0) {
        if (made)
            *made = true;
        return SC_OK;
    }
    if (errno != EEXIST)
        return cl_fail(c, SC_ERR_IO, 0, "cannot create photo store directory %s: %s", dir,
                       strerror(errno));
    return SC_OK;
}

sc_status bl_init(sc_client *c)
{
    char tmp[4096];
    sc_status s = mkdir_p1(c, c->blob_dir, &c->blobs_made);
    if (s != SC_OK)
        return s;
    snprintf(tmp, sizeof tmp, "%s/tmp", c->blob_dir);
    return mkdir_p1(c, tmp, &c->blobs_tmp_made);
}

void bl_remove_made(sc_client *c)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/tmp", c->blob_dir);
    /* rmdir removes nothing but an empty directory: a photo is never lost here. */
    if (c->blobs_tmp_made)
        rmdir(tmp);
    if (c->blobs_made)
        rmdir(c->blob_dir);
}

void bl_path(const sc_client *c, const uint8_t sha[SC_HASH_LEN], char *out, size_t cap)
{
    char hex[SC_HASH_HEX];
    cl_hex(sha, SC_HASH_LEN, hex, sizeof hex);
    snprintf(out, cap, "%s/%.2s/%s", c->blob_dir, hex, hex);
}

sc_status bl_tmp_create(sc_client *c, char *out, size_t cap, FILE **f)
{
    uint8_t r[16];
    char hex[33];
    sc_env_random(&c->env, r, sizeof r);
    cl_hex(r, sizeof r, hex, sizeof hex);
    snprintf(out, cap, "%s/tmp/%s", c->blob_dir, hex);
    *f = NULL;
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 && !(*f = fdopen(fd, "wb")))
        close(fd);
    if (!*f) {
        sc_status s = cl_fail(c, SC_ERR_IO, 0, "cannot write into the photo store %s: %s",
                              c->blob_dir, strerror(errno));
        if (fd >= 0)
            unlink(out);
        out[0] = '\0';
        return s;
    }
    return SC_OK;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

bool bl_present(void *ctx, const uint8_t sha[SC_HASH_LEN])
{
    sc_client *c = ctx;
    char path[4096];
    struct stat sb;
    bl_path(c, sha, path, sizeof path);
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

sc_status bl_install(sc_client *c, const char *tmp, const uint8_t sha[SC_HASH_LEN])
{
    char dir[4096], path[4096], hex[SC_HASH_HEX];
    cl_hex(sha, SC_HASH_LEN, hex, sizeof hex);
    snprintf(dir, sizeof dir, "%s/%.2s", c->blob_dir, hex);
    sc_status s = mkdir_p1(c, dir, NULL);
    if (s != SC_OK)
        return s;
    bl_path(c, sha, path, sizeof path);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cl_fail(c, SC_ERR_IO, 0, "cannot store photo %s: %s", hex, strerror(e));
    }
    if (fsync_dir(dir) != 0)
        return cl_fail(c, SC_ERR_IO, 0, "cannot sync the photo store %s: %s", dir, strerror(errno));
    return SC_OK;
}

/* The MIME type of a file from its first bytes. */
static const char *sniff(const uint8_t *b, size_t n)
{
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return "image/jpeg";
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return "image/gif";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "image/webp";
    if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0 &&
        (memcmp(b + 8, "heic", 4) == 0 || memcmp(b + 8, "heix", 4) == 0 ||
         memcmp(b + 8, "mif1", 4) == 0 || memcmp(b + 8, "msf1", 4) == 0))
        return "image/heic";
    if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0))
        return "image/tiff";
    if (n >= 5 && memcmp(b, "%PDF-", 5) == 0)
        return "application/pdf";
    return "application/octet-stream";
}

sc_status bl_import(sc_client *c, const char *path, uint8_t sha[SC_HASH_LEN], uint64_t *size,
                    char *mime, size_t mime_cap, int64_t *mtime_ms)
{
    sc_status s = SC_OK;
    FILE *in = NULL, *out = NULL;
    uint8_t *buf = NULL;
    char tmp[4096] = "";
    memset(sha, 0, SC_HASH_LEN);
    *size = 0;
    *mtime_ms = 0;
    if (mime_cap)
        mime[0] = '\0';
    if (!path || !*path)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "no photo file given");
    in = fopen(path, "rb");
    if (!in)
        return cl_fail(c, SC_ERR_IO, 0, "cannot read photo %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(in), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        s = cl_fail(c, SC_ERR_IO, 0, "photo %s is not a regular file", path);
        goto done;
    }
    if (sb.st_size == 0) {
        s = cl_fail(c, SC_ERR_IO, 0, "photo %s is empty", path);
        goto done;
    }
    if ((uint64_t)sb.st_size > SC_BLOB_MAX) {
        s = cl_fail(c, SC_ERR_TOO_LARGE, SCPB__REASON__REASON_TOO_LARGE,
                    "photo %s is %lld bytes, at most %llu", path, (long long)sb.st_size,
                    (unsigned long long)SC_BLOB_MAX);
        goto done;
    }
    *mtime_ms = sc_plat_mtime_ms(&sb);
    buf = sc_alloc(&c->env, COPY_CHUNK);
    if (!buf) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory copying a photo");
        goto done;
    }
    if ((s = bl_tmp_create(c, tmp, sizeof tmp, &out)) != SC_OK)
        goto done;
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    uint64_t total = 0;
    size_t n;
    bool first = true;
    while ((n = fread(buf, 1, COPY_CHUNK, in)) > 0) {
        if (first) {
            snprintf(mime, mime_cap, "%s", sniff(buf, n));
            first = false;
        }
        total += n;
        if (total > SC_BLOB_MAX) {
            s = cl_fail(c, SC_ERR_TOO_LARGE, SCPB__REASON__REASON_TOO_LARGE,
                        "photo %s grew beyond %llu bytes while copied", path,
                        (unsigned long long)SC_BLOB_MAX);
            goto done;
        }
        sc_sha256_update(&h, buf, n);
        if (fwrite(buf, 1, n, out) != n) {
            s = cl_fail(c, SC_ERR_IO, 0, "cannot write into the photo store: %s", strerror(errno));
            goto done;
        }
    }
    if (ferror(in)) {
        s = cl_fail(c, SC_ERR_IO, 0, "cannot read photo %s: %s", path, strerror(errno));
        goto done;
    }
    if (total == 0) {
        s = cl_fail(c, SC_ERR_IO, 0, "photo %s is empty", path);
        goto done;
    }
    if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
        s = cl_fail(c, SC_ERR_IO, 0, "cannot sync the photo store: %s", strerror(errno));
        goto done;
    }
    fclose(out);
    out = NULL;
    sc_sha256_final(&h, sha);
    *size = total;
    if (bl_present(c, sha)) {
        unlink(tmp);
    } else if ((s = bl_install(c, tmp, sha)) != SC_OK) {
        tmp[0] = '\0';
        goto done;
    }
    tmp[0] = '\0';
done:
    if (out)
        fclose(out);
    if (tmp[0])
        unlink(tmp);
    if (in)
        fclose(in);
    sc_free(&c->env, buf);
    if (s != SC_OK) {
        memset(sha, 0, SC_HASH_LEN);
        *size = 0;
    }
    return s;
}

/* Copy in to out (a new file), hashing; the MIME type of the first bytes into mime. */
static sc_status export_copy(sc_client *c, FILE *in, FILE *out, const char *path, uint8_t *buf,
                             uint8_t got[SC_HASH_LEN], uint64_t *size, char *mime, size_t mime_cap)
{
    sc_sha256_ctx h;
    sc_sha256_init(&h);
    uint64_t total = 0;
    size_t n;
    while ((n = fread(buf, 1, COPY_CHUNK, in)) > 0) {
        if (total == 0)
            snprintf(mime, mime_cap, "%s", sniff(buf, n));
        total += n;
        if (total > SC_BLOB_MAX)
            return cl_fail(c, SC_ERR_STORAGE, 0, "a photo in the store is over %llu bytes",
                           (unsigned long long)SC_BLOB_MAX);
        sc_sha256_update(&h, buf, n);
        if (fwrite(buf, 1, n, out) != n)
            return cl_fail(c, SC_ERR_IO, 0, "cannot write %s: %s", path, strerror(errno));
    }
    if (ferror(in))
        return cl_fail(c, SC_ERR_IO, 0, "cannot read the photo store: %s", strerror(errno));
    if (fflush(out) != 0)
        return cl_fail(c, SC_ERR_IO, 0, "cannot write %s: %s", path, strerror(errno));
    sc_sha256_final(&h, got);
    *size = total;
    return SC_OK;
}

sc_status bl_export(sc_client *c, const uint8_t sha[SC_HASH_LEN], const char *path, uint64_t *size,
                    char *mime, size_t mime_cap)
{
    sc_status s = SC_OK;
    FILE *in = NULL, *out = NULL;
    uint8_t *buf = NULL;
    bool made = false;
    char src[4096], hex[SC_HASH_HEX];
    cl_hex(sha, SC_HASH_LEN, hex, sizeof hex);
    *size = 0;
    if (mime_cap)
        mime[0] = '\0';
    bl_path(c, sha, src, sizeof src);
    in = fopen(src, "rb");
    if (!in)
        return cl_fail(c, SC_ERR_NOT_FOUND, 0,
                       errno == ENOENT ? "photo %s is not in this replica's photo store (not "
                                         "referenced here, or not downloaded yet: sync)"
                                       : "photo %s cannot be read from the photo store",
                       hex);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        s = cl_fail(c, errno == EEXIST ? SC_ERR_EXISTS : SC_ERR_IO, 0, "cannot write %s: %s", path,
                    errno == EEXIST ? "it exists already (nothing is overwritten)"
                                    : strerror(errno));
        goto done;
    }
    made = true;
    if (!(out = fdopen(fd, "wb"))) {
        close(fd);
        s = cl_fail(c, SC_ERR_IO, 0, "cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    if (!(buf = sc_alloc(&c->env, COPY_CHUNK))) {
        s = cl_fail(c, SC_ERR_NOMEM, 0, "out of memory copying a photo");
        goto done;
    }
    uint8_t got[SC_HASH_LEN];
    if ((s = export_copy(c, in, out, path, buf, got, size, mime, mime_cap)) != SC_OK)
        goto done;
    if (memcmp(got, sha, SC_HASH_LEN) != 0)
        s = cl_fail(c, SC_ERR_STORAGE, 0,
                    "photo %s in the store does not match its hash: the store is damaged "
                    "(nothing was written)",
                    hex);
done:
    if (out && fclose(out) != 0 && s == SC_OK)
        s = cl_fail(c, SC_ERR_IO, 0, "cannot write %s: %s", path, strerror(errno));
    if (in)
        fclose(in);
    sc_free(&c->env, buf);
    if (s != SC_OK) {
        if (made)
            unlink(path);
        *size = 0;
        if (mime_cap)
            mime[0] = '\0';
    }
    return s;
}
