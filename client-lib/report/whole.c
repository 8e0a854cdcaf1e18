/*
 * whole.c: a file written through PATH.partial and renamed once whole
 * (whole.h).
 */
#include "whole.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

FILE *sc_create_private(const char *path, const char **why)
{
    if (unlink(path) != 0 && errno != ENOENT) {
        *why = strerror(errno);
        return NULL;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        *why = strerror(errno);
        if (fd >= 0)
            close(fd);
    }
    return f;
}

int sc_write_whole(const char *path, const char *text, size_t len, const char **why)
{
    char partial[4096];
    if (snprintf(partial, sizeof partial, "%s.partial", path) >= (int)sizeof partial) {
        *why = "the name is too long";
        return -1;
    }
    FILE *f = sc_create_private(partial, why);
    if (!f)
        return -1;
    errno = 0;
    int bad = fwrite(text, 1, len, f) != len || fflush(f) != 0;
    if (bad)
        *why = strerror(errno ? errno : EIO);
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        *why = strerror(errno);
    }
    if (!bad && rename(partial, path) != 0) {
        bad = 1;
        *why = strerror(errno);
    }
    if (bad)
        remove(partial);
    return bad ? -1 : 0;
}
