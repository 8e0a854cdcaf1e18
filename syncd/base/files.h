/*
 * files.h: what the commands that write whole directories share (init,
 * backup, restore): is a directory empty, remove a tree, copy a file whole
 * and synced while hashing it, and a directory staged under a temporary
 * name and renamed into place once complete.
 *
 * A staged directory (sd_stage) is the one way backup and restore make
 * their result: it is written as PATH.SUFFIX ("PATH.partial",
 * "DIR.restoring"), every file synced, and renamed to PATH only at the
 * end, so a crash, a kill -9 or a full disk never leaves a PATH that looks
 * finished.  The stage is held with an exclusive flock on its directory
 * for as long as it is written: a second command aiming at the same PATH
 * is refused, and a stage left by a dead one (no lock held) is removed
 * when the next one starts.
 */
#ifndef SD_FILES_H
#define SD_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/config.h"
#include "core/limits.h"
#include "core/status.h"

/* True when path is a directory with nothing in it. */
bool sd_dir_empty(const char *path);

/* True when path does not exist, or is an empty directory: somewhere a new tree may go. */
bool sd_dir_free(const char *path);

/* Remove the tree at path (symbolic links are removed, never followed); a missing path is fine. */
sc_status sd_rmtree(const char *path, sc_err *err);

/* fsync a directory, so the names made in it survive a crash. */
sc_status sd_fsync_dir(const char *path, sc_err *err);

/*
 * Copy the regular file from (never through a symbolic link) to the new
 * file to, created with mode; the copy is synced and takes from's
 * modification time.  sha (may be NULL) gets the SHA-256 of the bytes
 * copied, *bytes (may be NULL) their count.  SC_ERR_NOT_FOUND when from
 * does not exist; SC_ERR_IO otherwise (err names the file and why).
 */
sc_status sd_file_copy(const char *from, const char *to, mode_t mode, uint8_t sha[SC_HASH_LEN],
                       uint64_t *bytes, sc_err *err);

/* The SHA-256 and size of the file at path. */
sc_status sd_file_sha256(const char *path, uint8_t sha[SC_HASH_LEN], uint64_t *bytes, sc_err *err);

/*
 * A test hook, and only that: when SD_TEST_COPY_DELAY_MS is set, sleep
 * that many milliseconds (at most 10 s).  Backup and restore call it after
 * each file and each step of the register copy, so a test can kill them
 * in the middle; unset, it costs one getenv per call.
 */
void sd_test_copy_delay(void);

typedef struct sd_stage {
    char final[SD_PATH_MAX]; /* where the result goes */
    char path[SD_PATH_MAX];  /* final and the suffix: where it is written */
    int lock;                /* the stage directory, flocked; -1 when not held */
    bool stale_removed;      /* a stage left by an earlier run was removed */
    uid_t owner;             /* final's owner and group when final existed (an empty */
    gid_t group;             /*   directory the result replaces) */
    bool final_existed;
} sd_stage;

/*
 * Begin a stage for final: final must not exist or be an empty directory
 * (SC_ERR_EXISTS otherwise, naming it), and final + suffix is made (mode
 * 0700) and locked.  A stage already there that no process holds is the
 * remains of an interrupted run: it is removed first (st->stale_removed).
 * One still held is refused: SC_ERR_EXISTS naming it.  what names the
 * command in messages ("backup").
 */
sc_status sd_stage_begin(sd_stage *st, const char *final, const char *suffix, const char *what,
                         sc_err *err);

/*
 * The stage is complete: sync it and rename it to final (replacing the
 * empty directory final was, if it was one), sync final's parent, and
 * release the lock.  After a failure the stage is left for sd_stage_abort.
 */
sc_status sd_stage_commit(sd_stage *st, sc_err *err);

/* Remove the stage and release it (after a failure); a committed or never begun stage is left. */
void sd_stage_abort(sd_stage *st);

#endif
