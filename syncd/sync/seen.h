/*
 * seen.h: when each device was last seen, kept in memory and written to the
 * register in batches (docs/operations.md, `syncd admin device list`).
 *
 * Every request whose signature verified notes its device, the time and
 * its User-Agent (sd_seen_note: a lookup and a copy under a mutex, no
 * I/O).  syncd serve takes what is due every SC_SEEN_FLUSH_MS and writes
 * it in one transaction (sd_seen_take, sd_register_seen_put): a device is
 * due when it was noted since its last write and that write is at least
 * SC_SEEN_WRITE_MS old (or it was never written by this process), so a
 * device syncing all day costs one small write a minute, not one per
 * request.  At shutdown everything noted is taken.
 *
 * Memory: at most SC_SEEN_DEVICES_MAX devices.  Only devices that passed
 * authentication are noted, so nobody without an enrolled key can fill
 * the table; when it is full, an entry already written and not noted
 * since makes room, and when none does, the sighting is dropped (the
 * device is noted again on its next request).
 *
 * Threads: every function is safe from any thread.
 */
#ifndef SD_SEEN_H
#define SD_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/status.h"
#include "store/store.h"

typedef struct sd_seen sd_seen;

/* A new table of at most max devices (0: SC_SEEN_DEVICES_MAX), written at most every write_ms. */
sc_status sd_seen_new(size_t max, int64_t write_ms, sd_seen **out);
/* Free; NULL is a no-op. */
void sd_seen_free(sd_seen *s);

/* A verified request of device `key` at now_ms; agent as sd_auth_req keeps it (may be NULL). */
void sd_seen_note(sd_seen *s, const uint8_t key[SC_KEY_LEN], const char *agent, int64_t now_ms);

/*
 * Copy up to cap due sightings into out and mark them written at now_ms;
 * with all, every sighting noted since its last write is due.  Returns how
 * many were copied (call again while it returns cap).
 */
size_t sd_seen_take(sd_seen *s, int64_t now_ms, bool all, sd_seen_row *out, size_t cap);

/*
 * A sighting taken whose write failed: it is due again at the next take
 * (unless the device was noted since, which is newer).
 */
void sd_seen_retry(sd_seen *s, const sd_seen_row *rows, size_t n);

/* Devices in the table (tests). */
size_t sd_seen_count(sd_seen *s);

#endif
