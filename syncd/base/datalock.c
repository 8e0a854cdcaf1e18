/* datalock.c: the data directory's lock file (datalock.h). */
#include "datalock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define LOCK_NAME "syncd.lock"

sc_status sd_datalock_take(const char *dir, const char *command, int *fd, sc_err *err)
{
    *fd = -1;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/" LOCK_NAME, dir) >= sizeof path)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "data directory path too long");
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f < 0) {
        if (errno == ENOENT)
            return sc_err_set(err, SC_ERR_NOT_FOUND, 0,
                              "no data directory %s (run `syncd init --data DIR` first)", dir);
        return sc_err_set(err, SC_ERR_IO, 0, "cannot open %s: %s", path, strerror(errno));
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char holder[96] = "";
        ssize_t n = pread(f, holder, sizeof holder - 1, 0);
        close(f);
        if (e != EWOULDBLOCK)
            return sc_err_set(err, SC_ERR_IO, 0, "cannot lock %s: %s", path, strerror(e));
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        return sc_err_set(err, SC_ERR_EXISTS, 0,
                          "%s is in use by another syncd (%s); stop it first", dir,
                          holder[0] ? holder : "pid unknown");
    }
    /* Who holds it, for the message above: informative only, so a failed write is no error. */
    char who[96];
    int n = snprintf(who, sizeof who, "syncd %s, pid %ld\n", command, (long)getpid());
    if (ftruncate(f, 0) == 0 && n > 0 && pwrite(f, who, (size_t)n, 0) != n) {
        /* nothing: the lock is what matters */
    }
    *fd = f;
    return SC_OK;
}

void sd_datalock_release(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock; the file stays, so no one locks a file being unlinked */
}
