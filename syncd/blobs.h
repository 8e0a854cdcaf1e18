/*
 * blobs.h: the content-addressed blob store (photos) with resumable
 * uploads (docs/protocol.md §4.3).
 *
 * Layout under the data directory:
 *   blobs/xx/<sha256>          stored blobs, sharded by the first two hex digits; immutable
 *   blobs/partial/<sha256>.part  an upload in progress: the bytes received so far
 *   blobs/partial/<sha256>.off   its sidecar: the verified offset and the total, written
 *                                atomically (temporary file, fsync, rename)
 *
 * Invariants:
 *  - A name is exactly 64 lowercase hex digits, checked before any path is
 *    built, so no request can reach outside these directories.
 *  - A stored blob hashes to its name: it is renamed into place only after
 *    the whole file was hashed, fsynced, and matched.
 *  - The offset HEAD reports (the sidecar's) moves only when a chunk was
 *    completely received, its request signature verified, and its bytes
 *    fsynced.  Bytes past it (a chunk cut off, a failed signature, a crash)
 *    are cut off at the next upload of that blob and at open.
 *  - At most one upload of a blob writes at a time, across threads and
 *    processes: the writer holds an exclusive flock on the .part file; a
 *    second writer is refused (409) instead of waiting.
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

#include "core/status.h"

typedef struct sd_blobs sd_blobs;
typedef struct sd_upload sd_upload;

/* Bytes of a blob name: SHA-256 as lowercase hex. */
#define SD_BLOB_NAME_LEN 64

/*
 * Open the store in data_dir/blobs (creating blobs/ and blobs/partial/ when
 * missing) with the size limits, and cut every partial upload back to its
 * verified offset.  *out is freed with sd_blobs_close.
 */
sc_status sd_blobs_open(const char *data_dir, uint64_t max_size, uint64_t chunk_max,
                        sd_blobs **out, sc_err *err);
/* Close; NULL is a no-op.  No upload may be in progress. */
void sd_blobs_close(sd_blobs *b);

/* True when the len bytes are 64 lowercase hex digits. */
bool sd_blob_name_valid(const char *name, size_t len);

/*
 * The path of stored blob `name` (a valid name) under data_dir, into out
 * (cap bytes), without opening the store: for readers that must change
 * nothing, such as `syncd audit`.  False for a bad name or a path too long.
 */
bool sd_blob_path(const char *data_dir, const char *name, char *out, size_t cap);

typedef struct sd_blob_info {
    bool stored;     /* the blob is complete */
    uint64_t size;   /* stored: its size in bytes */
    uint64_t offset; /* not stored: verified bytes of an interrupted upload (0 when none) */
} sd_blob_info;

/* What HEAD reports.  SC_ERR_MALFORMED for a bad name, SC_ERR_STORAGE when the disk fails. */
sc_status sd_blobs_stat(sd_blobs *b, const char *name, sd_blob_info *out, sc_err *err);

/*
 * Open a stored blob for reading: *fd (caller closes) and *size.
 * SC_ERR_NOT_FOUND when it is not stored.
 */
sc_status sd_blobs_open_read(sd_blobs *b, const char *name, int *fd, uint64_t *size, sc_err *err);

/*
 * Begin receiving one chunk: bytes [start, start+len) of a blob of `total`
 * bytes.  Returns:
 *   SC_OK                    *out is the upload; write the chunk, then finish or abort
 *   SC_ERR_EXISTS            the blob is already stored (200, nothing changes)
 *   SC_ERR_INVALID_TRANSITION start is not the verified offset, or another upload
 *                            of this blob is running (409); *offset has the offset
 *   SC_ERR_TOO_LARGE         len over chunk_max or total over max_size (413)
 *   SC_ERR_MALFORMED         bad name, empty chunk, or a range past total (400)
 *   SC_ERR_STORAGE           the disk failed (503)
 * The total must match the total of the upload in progress, if any
 * (SC_ERR_INVALID_TRANSITION otherwise).  *offset is always filled when known.
 */
sc_status sd_upload_begin(sd_blobs *b, const char *name, uint64_t start, uint64_t len,
                          uint64_t total, sd_upload **out, uint64_t *offset, sc_err *err);

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
 * hash it: SC_OK with *complete = true when it matches its name (stored),
 * SC_ERR_MALFORMED (422) when it does not (the partial upload is
 * discarded).  SC_ERR_MALFORMED also when fewer bytes than the chunk's
 * length arrived.  SC_ERR_STORAGE when the disk fails (the partial stays at
 * its previous verified offset).  *offset gets the verified offset (the
 * size when complete).  Frees u.
 */
sc_status sd_upload_finish(sd_upload *u, bool *complete, uint64_t *offset, sc_err *err);

/* Give the chunk up: cut the partial back to its verified offset and free u.  NULL is a no-op. */
void sd_upload_abort(sd_upload *u);

#endif
