/*
 * keyfile.c: reading and writing the server key file with the permission
 * rule of keyfile.h.  The mode is checked on the open descriptor (fstat),
 * not on the path, so the file checked is the file read.  The buffer that
 * held the seed is wiped before it is released.
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

sc_status sd_keyfile_write(const sc_env *env, const char *path, const sc_keypair *kp, sc_err *err)
{
    uint8_t buf[SC_KEYFILE_MAX];
    size_t len = 0;
    sc_status rc = sc_keypair_save(env, kp, NULL, 0, 0, 0, buf, sizeof buf, &len, err);
    if (rc != SC_OK)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_memzero(buf, sizeof buf);
        return sc_err_set(err, errno == EEXIST ? SC_ERR_EXISTS : SC_ERR_IO, 0,
                          "cannot create server key file %s: %s", path, strerror(errno));
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = sc_err_set(err, SC_ERR_IO, 0, "cannot write server key file %s: %s", path,
                            strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (rc == SC_OK && fsync(fd) != 0)
        rc = sc_err_set(err, SC_ERR_IO, 0, "cannot sync server key file %s: %s", path,
                        strerror(errno));
    close(fd);
    sodium_memzero(buf, sizeof buf);
    if (rc != SC_OK)
        unlink(path);
    return rc;
}

sc_status sd_keyfile_read(const char *path, sc_keypair **out, sc_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return sc_err_set(err, errno == ENOENT ? SC_ERR_NOT_FOUND : SC_ERR_IO, 0,
                          "cannot open server key file %s: %s", path, strerror(errno));
    struct stat sb;
    uint8_t buf[SC_KEYFILE_MAX + 1];
    sc_status rc = SC_OK;
    if (fstat(fd, &sb) != 0) {
        rc = sc_err_set(err, SC_ERR_IO, 0, "cannot stat server key file %s: %s", path,
                        strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "server key file %s is not a regular file",
                        path);
        goto done;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        rc = sc_err_set(err, SC_ERR_FORBIDDEN, 0,
                        "server key file %s is readable by others: chmod 600 it", path);
        goto done;
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = sc_err_set(err, SC_ERR_IO, 0, "cannot read server key file %s: %s", path,
                            strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == sizeof buf)
            break;
    }
    if (len > SC_KEYFILE_MAX || sc_keyfile_is_encrypted(buf, len)) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "server key file %s is not a plain key file",
                        path);
        goto done;
    }
    rc = sc_keypair_load(buf, len, NULL, 0, out, err);
    if (rc != SC_OK)
        sc_err_prefix(err, "server key file %s: ", path);
done:
    sodium_memzero(buf, sizeof buf);
    close(fd);
    return rc;
}
