/*
 * secretfile.c: reading a private one-line secret (secretfile.h).
 */
#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool sd_secret_char(char c)
{
    return c > 0x20 && c < 0x7f;
}

sc_status sd_secret_read(const char *path, const char *what, size_t min, size_t max, char *out,
                         size_t cap, size_t *len, sc_err *err)
{
    *len = 0;
    sodium_memzero(out, cap);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return sc_err_set(err, errno == ENOENT ? SC_ERR_NOT_FOUND : SC_ERR_IO, 0, "%s %s: %s",
                          what, path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return sc_err_set(err, SC_ERR_IO, 0, "%s %s is not a regular file", what, path);
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return sc_err_set(err, SC_ERR_FORBIDDEN, 0, "%s %s is open to group or others: chmod 600 it",
                          what, path);
    }
    size_t n = 0;
    ssize_t r;
    /* Up to max + 2 bytes (a CR and an LF) and one more to see a longer file. */
    size_t want = max + 3 < cap ? max + 3 : cap - 1;
    while (n < want && ((r = read(fd, out + n, want - n)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            n += (size_t)r;
    close(fd);
    if (n && out[n - 1] == '\n')
        n--;
    if (n && out[n - 1] == '\r')
        n--;
    bool ok = n >= min && n <= max;
    for (size_t i = 0; ok && i < n; i++)
        ok = sd_secret_char(out[i]);
    if (!ok) {
        sodium_memzero(out, cap);
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                          "%s %s: the secret must be one line of %zu to %zu printable characters "
                          "without spaces",
                          what, path, min, max);
    }
    out[n] = '\0';
    *len = n;
    return SC_OK;
}
