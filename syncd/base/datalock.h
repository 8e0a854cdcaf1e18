/*
 * datalock.h: one syncd process at a time serves or migrates a data
 * directory.  Two servers on one register would each keep their own log
 * frontier and entity cache in memory and interleave appends; a migration
 * under a running server would change tables beneath it.  Both take an
 * exclusive flock on DIR/syncd.lock, which the kernel releases when the
 * process exits, however it exits; the file holds the holder's pid and
 * command for the message the next one prints.  `syncd admin`, `audit`
 * and `export` do not take it: they work next to a running server.
 */
#ifndef SD_DATALOCK_H
#define SD_DATALOCK_H

#include "core/status.h"

/* Lock dir for the command named (e.g. "serve"); *fd holds the lock until sd_datalock_release. */
sc_status sd_datalock_take(const char *dir, const char *command, int *fd, sc_err *err);
void sd_datalock_release(int fd);

#endif
