/*
 * whole.c: a file written through PATH.partial and renamed once whole
 * (whole.h).
 */
#include "whole.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sc_write_whole(const char *path, const char *text, size_t len, const char **why)
{
    char partial[4096];
    if (snprintf(partial, sizeof partial, "%s.partial", path) >= (int)sizeof partial) {
        *why = "the name is too long";
        return -1;
    }
    FILE *f = fopen(partial, "wb");
    if (!f) {
        *why = strerror(errno);
        return -1;
    }
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
