/*
 * blobs.h: the content-addressed blob store (photos) with resumable
 * uploads, each device's apart (docs/protocol.md §4.3).
 *
 * Layout under the data directory (DEV is a device key in 64 hex digits):
 *   blobs/xx/<sha256>                 stored blobs, sharded by the first two hex digits; immutable
 *   blobs/partial/DEV/<sha256>.part   DEV's upload in progress: the bytes received so far
 *   blobs/partial/DEV/<sha256>.off    its sidecar: the verified offset, the total and the
 *                                     upload's random id (new whenever it starts at 0), written
 *                                     atomically (temporary file, fsync, rename)
 *   blobs/unref/DEV/<sha256>          DEV stored this blob while no op DEV could see named it;
 *                                     an empty file whose mtime is when
 *
 * Invariants:
 *  - A name is exactly 64 lowercase hex digits, checked before any path is
 *    built, so no request can reach outside these directories.
 *  - A stored blob hashes to its name: it is renamed into place only after
 *    the whole file was hashed, fsynced, and matched (from a running hash
 *    kept in memory only while the sidecar still names the upload it
 *    hashed, else read back).  The first complete,
 *    matching upload stores it; a later one is hashed the same way, then
 *    dropped.
 *  - An upload belongs to the device that started it: no other device's
 *    bytes, offsets, totals or failures reach it, and what a device is told
 *    about uploads (offsets, 409s) is about its own only.
 *  - The offset a device is told moves only when a chunk was completely
 *    received, its request signature verified, and its bytes fsynced.
 *    Bytes past it (a chunk cut off, a failed signature, a crash) are cut
 *    off at the device's next upload of that blob and by the sweep.
 *  - At most one upload per (device, blob) writes at a time, across threads
 *    and processes: the writer holds an exclusive flock on the .part file;
 *    a second writer is refused (409) instead of waiting.
 *  - Each device has quotas (sd_blob_limits): uploads in progress, and
 *    blobs it stored that no op it can see names, each by count and bytes.
 *    A new upload over either is refused before a byte is written.  The
 *    sweep drops uploads left untouched for partial_age_s, and blobs no op
 *    names unref_age_s after the last device stored them.
 *  - Memory does not grow with blob size: bytes stream to the partial file
 *    as they arrive, and hashing reads the file back in fixed buffers.
 *
 * Threads: an sd_blobs may be shared by any number of threads; one
 * sd_upload belongs to one request.
 */
#ifndef SD_BLOBS_H
#define SD_BLOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "core/limits.h"
#include "core/status.h"

typedef struct sd_blobs sd_blobs;
typedef struct sd_upload sd_upload;

/* Bytes of a blob name: SHA-256 as lowercase hex. */
#define SD_BLOB_NAME_LEN 64

/* The store's limits (syncd's blobs.* settings, docs/operations.md). */
typedef struct sd_blob_limits {
    uint64_t max_size;      /* bytes of one blob */
    uint64_t chunk_max;     /* bytes of one chunk */
    uint32_t partial_count; /* uploads in progress per device */
    uint64_t partial_bytes; /* their totals together, per device (bytes) */
    uint64_t partial_age_s; /* an upload untouched this long is dropped (seconds) */
    uint32_t unref_count;   /* blobs a device stored that no op it can see names */
    uint64_t unref_bytes;   /* their sizes together, per device (bytes) */
    uint64_t unref_age_s;   /* a blob no op names is dropped this long after it was stored */
} sd_blob_limits;

/* The limits syncd's settings give. */
void sd_blob_limits_from(const sd_config *cfg, sd_blob_limits *out);

/*
 * What the store asks the register (sd_register_photo_seen): with device
 * (a device key), may that device read the photo; with device NULL, does
 * any logged op name it.  Called from request threads and the sweep.
 */
typedef sc_status (*sd_blob_seen_fn)(void *ctx, const uint8_t *device,
                                     const uint8_t sha[SC_HASH_LEN], bool *out, sc_err *err);

/*
 * Open the store in data_dir/blobs (creating blobs/, blobs/partial/ and
 * blobs/unref/ when missing) with lim (copied) and the register's answer
 * to "seen" (ctx borrowed until close).  Uploads left by a syncd that kept
 * one upload per blob for every device (files right under blobs/partial/)
 * are removed: their devices start those photos over.  Call
 * sd_blobs_sweep next.  *out is freed with sd_blobs_close.
 */
sc_status sd_blobs_open(const char *data_dir, const sd_blob_limits *lim, sd_blob_seen_fn seen,
                        void *ctx, sd_blobs **out, sc_err *err);
/*
 * The same with the store's root given: the directory that holds xx/,
 * partial/ and unref/ (data_dir/blobs, or the blob directory several syncd
 * share, sd_store_loc.blobs).  Every rule above holds across processes
 * sharing it: a writer's flock on the .part file, sidecars renamed into
 * place, blobs renamed in only once hashed; a quota is checked by each
 * process against what the directory holds.
 */
sc_status sd_blobs_open_at(const char *root, const sd_blob_limits *lim, sd_blob_seen_fn seen,
                           void *ctx, sd_blobs **out, sc_err *err);
/* Close; NULL is a no-op.  No upload may be in progress. */
void sd_blobs_close(sd_blobs *b);

/* True when the len bytes are 64 lowercase hex digits. */
bool sd_blob_name_valid(const char *name, size_t len);
/* True when name is a shard directory's: two lowercase hex digits (blobs/xx). */
bool sd_blob_shard_valid(const char *name);

/*
 * The path of stored blob `name` (a valid name) under data_dir, into out
 * (cap bytes), without opening the store: for readers that must change
 * nothing, such as `syncd audit`.  False for a bad name or a path too long.
 */
bool sd_blob_path(const char *data_dir, const char *name, char *out, size_t cap);
/* The same under the store's root (sd_blobs_open_at). */
bool sd_blob_path_at(const char *root, const char *name, char *out, size_t cap);

typedef struct sd_blob_sweep {
    uint64_t partials_cut;  /* uploads whose unverified tail was cut off */
    uint64_t partials_gone; /* uploads dropped: too old, or never verified a byte */
    uint64_t blobs_gone;    /* stored blobs no op names, dropped after unref_age_s */
    uint64_t marks_gone;    /* unref marks dropped (their blob gone or too old) */
} sd_blob_sweep;

/*
 * Expire and tidy (at start and on a timer): uploads not in progress are
 * cut back to their verified offset, dropped when untouched for
 * partial_age_s (or when nothing of them was verified); blobs no op names
 * are deleted once every device's mark of them is older than unref_age_s.
 * now_s is the wall clock (file times are compared with it).  *out may be
 * NULL.  Best effort: a file that cannot be read or removed stays for the
 * next sweep.
 */
void sd_blobs_sweep(sd_blobs *b, int64_t now_s, sd_blob_sweep *out);

typedef struct sd_blob_info {
    bool stored;     /* the blob is complete */
    uint64_t size;   /* stored: its size in bytes */
    uint64_t offset; /* the device's own verified bytes of an upload of it (0 when none) */
} sd_blob_info;

/*
 * Whether the blob is stored, and the offset of `device`'s upload of it.
 * The caller decides what of this the device may learn (visibility).
 * SC_ERR_MALFORMED for a bad name, SC_ERR_STORAGE when the disk fails.
 */
sc_status sd_blobs_stat(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *name,
                        sd_blob_info *out, sc_err *err);

/*
 * Open a stored blob for reading: *fd (caller closes) and *size.
 * SC_ERR_NOT_FOUND when it is not stored.
 */
sc_status sd_blobs_open_read(sd_blobs *b, const char *name, int *fd, uint64_t *size, sc_err *err);

/*
 * Drop `device`'s upload of the blob, unless one of its chunks is being
 * received: the device found the blob stored (it may read it), so the
 * upload is of no more use.  Best effort.
 */
void sd_blobs_forget(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *name);

/*
 * Begin receiving one chunk of `device`'s upload: bytes [start, start+len)
 * of a blob of `total` bytes.  Whether the blob is stored does not matter:
 * a device that may not see it proves it holds the photo by sending all of
 * it.  visible: the device can see an op naming the blob (else the upload
 * counts against its unreferenced quota).  A chunk at 0 with no upload of
 * this device in progress starts one, within the device's quotas.  Returns:
 *   SC_OK                    *out is the upload; write the chunk, then finish or abort
 *   SC_ERR_INVALID_TRANSITION start is not the device's verified offset, the total is not
 *                            that of its upload in progress, or another upload of this
 *                            blob by this device is running (409); *offset has the offset
 *   SC_ERR_LIMIT             a new upload over the device's quotas (507), nothing written
 *   SC_ERR_TOO_LARGE         len over chunk_max or total over max_size (413)
 *   SC_ERR_MALFORMED         bad name, empty chunk, or a range past total (400)
 *   SC_ERR_STORAGE           the disk failed (503)
 * *offset is always filled when known.
 */
sc_status sd_upload_begin(sd_blobs *b, const uint8_t device[SC_KEY_LEN], const char *name,
                          uint64_t start, uint64_t len, uint64_t total, bool visible,
                          sd_upload **out, uint64_t *offset, sc_err *err);

/*
 * Append the next bytes of the chunk to the partial file.  SC_ERR_TOO_LARGE
 * when they would run past the chunk's length; SC_ERR_STORAGE when the disk
 * refuses (ENOSPC, EIO).  After an error, abort.
 */
sc_status sd_upload_write(sd_upload *u, const void *data, size_t len, sc_err *err);

/*
 * The chunk is the whole blob and the caller hashes its bytes anyway (the
 * request signature covers the body's SHA-256): this upload does not hash
 * them a second time, and sd_upload_finish takes the caller's digest
 * (sd_upload_set_digest; without it, the blob is read back and hashed).
 * No effect on a chunk that is not the whole blob.  Call right after begin.
 */
void sd_upload_hash_by_caller(sd_upload *u);
/* The SHA-256 of the chunk's bytes, as the caller computed it (see sd_upload_hash_by_caller). */
void sd_upload_set_digest(sd_upload *u, const uint8_t digest[SC_HASH_LEN]);

/* Bytes of the chunk received so far. */
uint64_t sd_upload_received(const sd_upload *u);

/*
 * The chunk was received whole and its request signature verified: make it
 * durable and move the verified offset.  When the blob is now complete,
 * hash it: SC_OK with *complete = true when it matches its name (stored,
 * or already stored by an earlier upload: this one is dropped), SC_ERR_MALFORMED
 * (422) when it does not (this device's upload is discarded).
 * SC_ERR_MALFORMED also when fewer bytes than the chunk's length arrived.
 * SC_ERR_STORAGE when the disk fails (the upload stays at its previous
 * verified offset).  *offset gets the verified offset (the size when
 * complete).  Frees u.
 */
sc_status sd_upload_finish(sd_upload *u, bool *complete, uint64_t *offset, sc_err *err);

/* Give the chunk up: cut the partial back to its verified offset and free u.  NULL is a no-op. */
void sd_upload_abort(sd_upload *u);

#endif
