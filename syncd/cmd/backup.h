/*
 * backup.h: `syncd backup` and `syncd restore` (docs/operations.md,
 * "Backup and restore"), as functions the commands and the tests share,
 * and the manifest that ties a backup together.
 *
 * A backup is a directory:
 *   manifest       what the backup holds (below); written last
 *   register.db    the register, one consistent snapshot (store.h, sd_store_sqlite_backup)
 *   server.key     the server key (mode 0600): the backup is as secret as the data directory
 *   blobs/xx/SHA   every photo stored when the copy of the blobs began, as in a data directory
 * made as PATH.partial and renamed to PATH once every file is synced
 * (base/files.h, sd_stage), so a directory named PATH is always complete.
 *
 * The manifest is text, one record a line, fields separated by one space:
 *   spotcheck-backup 1
 *   origin NAME                   the log's origin
 *   server_key HEX                the register's server key (64 hex digits)
 *   checkpoint SIZE ROOT          the latest checkpoint in register.db: the log's size and root
 *   register BYTES SHA256         register.db's size and hash
 *   taken MS                      when the register was copied (Unix ms)
 *   photo SHA BYTES               one a photo held (its name is its SHA-256)
 *   mark DEVICE SHA MTIME         one a mark of a photo no op named yet (blobs.h: blobs/unref/),
 *                                 with its time, so such photos still expire after a restore
 *   end PHOTOS MARKS              the counts; a manifest without it is cut short
 * Every photo an op of the checkpoint's log names and that was stored when
 * the register was copied is in the backup: photos are immutable and
 * stay stored while an op names them, and the blobs are copied after the
 * register.  A photo no op names may be in it or not.
 *
 * A restore trusts none of it until checked: the register's bytes against
 * the manifest, every photo against its name and size, then the whole
 * data directory made from it through `syncd audit`'s checks (audit.h:
 * the log, its Merkle tree against the signed checkpoints, the states,
 * the key), and the log's size and root against the manifest's
 * checkpoint.  Only then is DIR.restoring renamed to DIR.
 */
#ifndef SD_BACKUP_H
#define SD_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/status.h"
#include "store/store.h"

#define SD_BACKUP_MANIFEST "manifest"
#define SD_BACKUP_VERSION  1

/* Where a backup is written until it is complete, and a restore until it is verified. */
#define SD_BACKUP_STAGE  ".partial"
#define SD_RESTORE_STAGE ".restoring"

typedef struct sd_backup_head {
    char origin[SC_ORIGIN_MAX];
    uint8_t server_key[SC_KEY_LEN];
    uint64_t size;             /* the checkpoint's tree size (log entries) */
    uint8_t root[SC_HASH_LEN]; /* and its root */
    uint64_t register_bytes;
    uint8_t register_sha[SC_HASH_LEN];
    int64_t taken_ms;
} sd_backup_head;

typedef struct sd_backup_report {
    sd_backup_head head;
    uint64_t photos; /* photos held */
    uint64_t photo_bytes;
    uint64_t marks;     /* marks of photos no op named yet */
    bool stale_removed; /* an interrupted earlier run's PATH.partial / DIR.restoring went */
} sd_backup_report;

/*
 * Back up the data directory data_dir (served or not) into the new
 * directory to (absent or empty).  progress (may be NULL) hears of each
 * step.  SC_OK when `to` is complete; on any failure nothing named `to` is
 * made and the partial copy is removed.  A stored photo whose bytes do not
 * hash to its name stops the backup (SC_ERR_REJECTED naming it): a backup
 * never holds a damaged photo, nor silently lacks one.
 */
sc_status sd_backup_run(const char *data_dir, const char *to, sd_store_progress progress, void *ctx,
                        sd_backup_report *rep, sc_err *err);

typedef struct sd_restore_report {
    sd_backup_report backup;  /* what the manifest said, and the counts restored */
    uint64_t entries;         /* log entries the audit checked */
    uint64_t photos_not_held; /* photos ops name that were not stored when the backup was made */
    char problem[SC_ERR_MSG_MAX * 2]; /* when the audit failed: its problem (audit.h), in full */
} sd_restore_report;

/*
 * Restore the backup `from` into the new data directory data_dir (absent
 * or empty), verifying it first (above).  SC_OK when data_dir is the
 * restored register; SC_ERR_REJECTED when the backup does not verify (err
 * says what is wrong: a photo missing or damaged, another register's key,
 * a register cut short, a log that does not match its checkpoint; when
 * `syncd audit`'s checks failed, rep->problem says which, naming the file
 * in DIR.restoring, where the backup was audited); another
 * status when it cannot be read or written.  On any failure nothing is
 * left at data_dir but what was there (nothing, or an empty directory).
 */
sc_status sd_restore_run(const char *from, const char *data_dir, sd_store_progress progress,
                         void *ctx, sd_restore_report *rep, sc_err *err);

/*
 * Read the head of the manifest of the backup at dir (the lines up to the
 * first photo), checking its form.  SC_ERR_NOT_FOUND when there is no
 * manifest, SC_ERR_MALFORMED when it is not one (err names the line).
 */
sc_status sd_backup_read_head(const char *dir, sd_backup_head *head, sc_err *err);

/*
 * The commands' progress on stderr ("syncd backup: copy the photos: 120 of
 * 500"): a line when a step starts and ends, and at most one a second
 * between.  ctx is an sd_progress_printer with command set, the rest zero.
 */
typedef struct sd_progress_printer {
    const char *command; /* "backup" */
    char step[64];       /* the step last printed */
    int64_t last_ms;     /* when (CLOCK_MONOTONIC) */
    bool done_said;      /* its last line said done == total */
} sd_progress_printer;
void sd_backup_progress_print(void *ctx, const char *step, uint64_t done, uint64_t total);

#endif
